"""contacts/views/people.py's /people/ list, one module: one page, its filters and columns.

The People list, /people/ (SPEC §3.7): filters, chosen columns, pages, and the account
type-ahead behind its Account filter.

The `people` fixture puts eleven memberships on the `tree` of tests/conftest.py. Every expected
list below is written out by hand from that fixture, in the list's order (last name, first name,
email, account name), not computed from the data.
"""

from functools import partial
from urllib.parse import parse_qs, urlencode

import pytest

from accounts.models import AccountType
from config.lists import CountsUpTo
from contacts.models import Person
from tests import html, stored
from tests.factories import AccountFactory, MembershipFactory, PersonFactory
from tests.html import attribute, count_line, page, text

# This module's searches look only under the node they start from, not at the node itself.
element = partial(html.element, itself=False)
elements = partial(html.elements, itself=False)

PEOPLE = {
    "amy": ("Amy", "Alvarez", "amy@amer.example"),
    "bert": ("Bert", "Brandt", "bert@berlin.example"),
    "emil": ("Emil", "Eames", "emil@emea.example"),
    "ada": ("Ada", "Lovelace", "ada@analytical.example"),
    "nora": ("Nora", "Nobody", "nora@corp.example"),
    "otto": ("Otto", "Ostrom", "otto@other.example"),
    "pierre": ("Pierre", "Paquet", "pierre@paris.example"),
    "rita": ("Rita", "Rhodes", "rita@other-region.example"),
    "sally": ("Sally", "Sauer", "sally@paris-sales.example"),
    "tex": ("Tex", "Tran", "tex@austin.example"),
}
# (account, person, contact, key contact, (account type, role) or None). Ada is at two accounts.
MEMBERSHIPS = [
    ("corp", "ada", True, True, ("Corporate", "Executive sponsor")),
    ("corp", "nora", False, False, None),
    ("emea", "emil", True, False, ("Region", "Regional director")),
    ("paris", "pierre", True, True, ("Site", "Site admin")),
    ("paris_sales", "sally", True, False, ("Department", "Department head")),
    ("berlin", "bert", False, False, ("Site", "End user")),
    ("berlin", "ada", True, False, None),
    ("amer", "amy", True, False, ("Region", "Champion")),
    ("austin", "tex", False, False, None),
    ("other", "otto", True, True, ("Corporate", "Champion")),
    ("other_region", "rita", True, False, ("Region", "Champion")),
]

# Rows as the columns Name and Account show them.
AMY = ["Amy Alvarez", "Amer"]
BERT = ["Bert Brandt", "Berlin"]
EMIL = ["Emil Eames", "Emea"]
ADA_BERLIN = ["Ada Lovelace", "Berlin"]
ADA_CORP = ["Ada Lovelace", "Corp"]
NORA = ["Nora Nobody", "Corp"]
OTTO = ["Otto Ostrom", "Other"]
PIERRE = ["Pierre Paquet", "Paris"]
RITA = ["Rita Rhodes", "Other Region"]
SALLY = ["Sally Sauer", "Paris Sales"]
TEX = ["Tex Tran", "Austin"]
EVERYONE = [AMY, BERT, EMIL, ADA_BERLIN, ADA_CORP, NORA, OTTO, PIERRE, RITA, SALLY, TEX]
CONTACTS = [AMY, EMIL, ADA_BERLIN, ADA_CORP, OTTO, PIERRE, RITA, SALLY]
CORP_HIERARCHY = [AMY, BERT, EMIL, ADA_BERLIN, ADA_CORP, NORA, PIERRE, SALLY, TEX]

DEFAULT_HEADERS = ["Name", "Email", "Account", "Account Type", "Account Role", "Key Contact"]


@pytest.fixture
def people(tree):
    persons = {
        key: PersonFactory(first_name=first, last_name=last, email=email)
        for key, (first, last, email) in PEOPLE.items()
    }
    persons["pierre"].title = "Site manager"
    persons["pierre"].phone = "+33 1 23 45 67 89"
    persons["pierre"].save()
    for account, person, contact, key, role in MEMBERSHIPS:
        MembershipFactory(
            account=tree[account],
            person=persons[person],
            is_contact=contact,
            is_key_contact=key,
            role=stored.role(*role) if role else None,
        )
    return persons


def _query(params):
    """A query string from a list of (name, value) pairs; ("role", (type, name)) and
    ("account_type", name) are turned into the primary keys the form expects."""
    pairs = []
    for name, given in params:
        if name == "role":
            value = stored.role(*given).pk
        elif name == "account_type":
            value = AccountType.objects.get(name=given).pk
        else:
            value = given
        pairs.append((name, value))
    return urlencode(pairs)


# Reading the page


def _headers(response):
    """The headers of the chosen columns (not the last, "Open", of the row links)."""
    table = element(page(response), "table", class_="people-table")
    return [
        text(th)
        for th in elements(element(table, "thead"), "th")
        if attribute(th, "class") != "row-links"
    ]


def _rows(response):
    """The cells of each row of the people table; [] when the page shows the empty state."""
    tables = elements(page(response), "table", class_="people-table")
    if not tables:
        return []
    (table,) = tables
    return [
        [text(td) for td in elements(tr, "td") if attribute(td, "class") != "row-links"]
        for tr in elements(element(table, "tbody"), "tr")
    ]


def _field_errors(response):
    return [text(p) for p in elements(page(response), "p", class_="field-error")]


def _get(client, query=""):
    return client.get(f"/people/?{query}" if query else "/people/")


NAME_AND_ACCOUNT = [("cols", "name"), ("cols", "account")]


# Filters, each alone and combined

FILTERS = {
    "none": ([], EVERYONE),
    "contact yes": ([("contact", "yes")], CONTACTS),
    "contact no": ([("contact", "no")], [BERT, NORA, TEX]),
    "contact any": ([("contact", "")], EVERYONE),
    "key yes": ([("key", "yes")], [ADA_CORP, OTTO, PIERRE]),
    "key no": ([("key", "no")], [AMY, BERT, EMIL, ADA_BERLIN, NORA, RITA, SALLY, TEX]),
    "key any": ([("key", "")], EVERYONE),
    "account, scope by default": ([("account", "EMEA")], [EMIL]),
    "account this": ([("account", "EMEA"), ("scope", "this")], [EMIL]),
    "account this, two memberships": ([("account", "CORP"), ("scope", "this")], [ADA_CORP, NORA]),
    "account subtree": (
        [("account", "EMEA"), ("scope", "subtree")],
        [BERT, EMIL, ADA_BERLIN, PIERRE, SALLY],
    ),
    "account subtree of a leaf": ([("account", "PARIS_SALES"), ("scope", "subtree")], [SALLY]),
    "account subtree of a site": ([("account", "AUSTIN"), ("scope", "subtree")], [TEX]),
    "account hierarchy from a region": (
        [("account", "EMEA"), ("scope", "hierarchy")],
        CORP_HIERARCHY,
    ),
    "account hierarchy from a leaf": (
        [("account", "PARIS_SALES"), ("scope", "hierarchy")],
        CORP_HIERARCHY,
    ),
    "account hierarchy of the other company": (
        [("account", "OTHER_REGION"), ("scope", "hierarchy")],
        [OTTO, RITA],
    ),
    "account type Site": ([("account_type", "Site")], [BERT, ADA_BERLIN, PIERRE, TEX]),
    "account type Corporate": ([("account_type", "Corporate")], [ADA_CORP, NORA, OTTO]),
    "account type Department": ([("account_type", "Department")], [SALLY]),
    "role Champion of Regions": ([("role", ("Region", "Champion"))], [AMY, RITA]),
    "role Champion of Corporates": ([("role", ("Corporate", "Champion"))], [OTTO]),
    "search first name": ([("q", "ada")], [ADA_BERLIN, ADA_CORP]),
    "search last name in capitals": ([("q", "LOVELACE")], [ADA_BERLIN, ADA_CORP]),
    "search full name": ([("q", "Ada Lovelace")], [ADA_BERLIN, ADA_CORP]),
    "search full name mixed case and spaces": ([("q", "  aMy   aLvArEz ")], [AMY]),
    "search email": ([("q", "pierre@paris.example")], [PIERRE]),
    "search part of an email in capitals": ([("q", "ANALYTICAL")], [ADA_BERLIN, ADA_CORP]),
    "search matching nobody": ([("q", "zebra")], []),
    "contact yes and account subtree": (
        [("contact", "yes"), ("account", "EMEA"), ("scope", "subtree")],
        [EMIL, ADA_BERLIN, PIERRE, SALLY],
    ),
    "contact yes, key no, account hierarchy": (
        [("contact", "yes"), ("key", "no"), ("account", "CORP"), ("scope", "hierarchy")],
        [AMY, EMIL, ADA_BERLIN, SALLY],
    ),
    "contact no and account type": ([("contact", "no"), ("account_type", "Site")], [BERT, TEX]),
    "key yes and account type": ([("key", "yes"), ("account_type", "Corporate")], [ADA_CORP, OTTO]),
    "role and account hierarchy": (
        [("role", ("Region", "Champion")), ("account", "CORP"), ("scope", "hierarchy")],
        [AMY],
    ),
    "search and account": ([("q", "ada"), ("account", "BERLIN")], [ADA_BERLIN]),
    "search and key yes": ([("q", "ada"), ("key", "yes")], [ADA_CORP]),
    "every filter": (
        [
            ("contact", "yes"),
            ("key", "yes"),
            ("account", "CORP"),
            ("scope", "hierarchy"),
            ("account_type", "Site"),
            ("role", ("Site", "Site admin")),
            ("q", "pierre"),
        ],
        [PIERRE],
    ),
    "every filter but role": (
        [
            ("contact", "yes"),
            ("key", "no"),
            ("account", "EMEA"),
            ("scope", "subtree"),
            ("account_type", "Site"),
            ("q", "lovelace"),
        ],
        [ADA_BERLIN],
    ),
    "key contacts that are not contacts": ([("contact", "no"), ("key", "yes")], []),
}


@pytest.mark.parametrize(("params", "expected"), FILTERS.values(), ids=list(FILTERS))
def test_people_filter_lists_exactly_these_rows(viewer_client, people, params, expected):
    response = _get(viewer_client, _query([*params, *NAME_AND_ACCOUNT]))

    assert _rows(response) == expected
    assert count_line(response) == (
        f"{len(expected)} row{'' if len(expected) == 1 else 's'} (a person at an account)"
    )
    assert _field_errors(response) == []


def test_people_filter_that_matches_nobody_shows_the_empty_state(viewer_client, people):
    response = _get(viewer_client, "contact=no&key=yes")

    doc = page(response)
    assert elements(doc, "table", class_="people-table") == []
    assert text(element(doc, "div", class_="empty")) == (
        "No one matches these filters. Clear filters"
    )
    assert count_line(response) == "0 rows (a person at an account)"


def test_people_filters_are_kept_in_the_form(viewer_client, people):
    query = _query(
        [
            ("contact", "yes"),
            ("key", "no"),
            ("account", "EMEA"),
            ("scope", "subtree"),
            ("account_type", "Site"),
            ("role", ("Site", "End user")),
            ("q", "lovelace"),
        ]
    )

    doc = page(_get(viewer_client, query))

    def selected(name):
        select = element(doc, "select", name=name)
        return [
            text(option)
            for option in elements(select, "option")
            if "selected" in dict(option.attributes)
        ]

    assert selected("contact") == ["Yes"]
    assert selected("key") == ["No"]
    assert selected("scope") == ["This account and all below it"]
    assert selected("account_type") == ["Site"]
    assert selected("role") == ["End user (Site)"]
    assert attribute(element(doc, "input", name="account"), "value") == "EMEA"
    assert attribute(element(doc, "input", name="q"), "value") == "lovelace"


def test_people_unknown_account_id_says_so_and_shows_every_account(viewer_client, people):
    response = _get(
        viewer_client, _query([("account", "NOPE-42"), ("scope", "subtree"), *NAME_AND_ACCOUNT])
    )

    assert _field_errors(response) == [
        "No account has the Account ID or name “NOPE-42”, so this shows every account."
    ]
    assert _rows(response) == EVERYONE


def test_people_unknown_account_id_keeps_the_other_filters(viewer_client, people):
    response = _get(
        viewer_client, _query([("account", "NOPE-42"), ("contact", "yes"), *NAME_AND_ACCOUNT])
    )

    assert _field_errors(response) == [
        "No account has the Account ID or name “NOPE-42”, so this shows every account."
    ]
    assert _rows(response) == CONTACTS


# Each bad value: said by its field (linked to the input), the list narrowed by the others.

BAD_FILTERS = {
    "contact": (
        [("contact", "maybe")],
        "“maybe” is not Yes or No, so this shows contacts and others.",
        [ADA_CORP, OTTO, PIERRE],
    ),
    "key": (
        [("contact", "no"), ("key", "YES")],
        "“YES” is not Yes or No, so this shows key contacts and others.",
        [BERT, NORA, TEX],
    ),
    "account": (
        [("account", "NOPE-42")],
        "No account has the Account ID or name “NOPE-42”, so this shows every account.",
        [ADA_CORP, OTTO, PIERRE],
    ),
    "account too long": (
        [("account", "A" * 65)],
        "An Account ID or name has at most 64 characters (this has 65), so this shows every "
        "account.",
        [ADA_CORP, OTTO, PIERRE],
    ),
    "scope": (
        [("account", "EMEA"), ("scope", "everywhere")],
        "“everywhere” is not one of the choices, so this shows this account only.",
        [],
    ),
    "account type not a number": (
        [("account_type", "Site")],
        "“Site” is not an account type, so this shows every type.",
        [ADA_CORP, OTTO, PIERRE],
    ),
    "account type that does not exist": (
        [("account_type", "999999")],
        "“999999” is not an account type, so this shows every type.",
        [ADA_CORP, OTTO, PIERRE],
    ),
    "role not a number": (
        [("role", "abc")],
        "“abc” is not a role, so this shows every role.",
        [ADA_CORP, OTTO, PIERRE],
    ),
    "role that does not exist": (
        [("role", "999999")],
        "“999999” is not a role, so this shows every role.",
        [ADA_CORP, OTTO, PIERRE],
    ),
    "search too long": (
        [("q", "x" * 201)],
        "Search for at most 200 characters (this has 201), so this shows everyone.",
        [ADA_CORP, OTTO, PIERRE],
    ),
}


@pytest.mark.parametrize(
    ("params", "error", "expected"), BAD_FILTERS.values(), ids=list(BAD_FILTERS)
)
def test_people_bad_filter_is_said_by_its_field_and_the_others_still_apply(
    viewer_client, people, params, error, expected
):
    # A valid filter beside the bad one (key contacts, or non-contacts when the bad one is
    # the key filter): the list still narrows by it.
    valid = [] if any(name == "key" for name, _ in params) else [("key", "yes")]
    response = viewer_client.get(f"/people/?{urlencode([*valid, *params, *NAME_AND_ACCOUNT])}")

    assert _field_errors(response) == [error]
    assert _rows(response) == expected
    field_id = "id_" + params[-1][0]
    control = [
        node
        for tag in ("input", "select")
        for node in elements(page(response), tag)
        if attribute(node, "id") == field_id
    ]
    assert [
        (attribute(node, "aria-invalid"), attribute(node, "aria-describedby")) for node in control
    ] == [("true", f"{field_id}_error")]
    errors = element(page(response), "div", id=f"{field_id}_error")
    assert [text(p) for p in elements(errors, "p", class_="field-error")] == [error]


def test_people_every_filter_bad_at_once_says_each_and_lists_everyone(viewer_client, people):
    response = viewer_client.get(
        "/people/?"
        + urlencode(
            [
                ("contact", "maybe"),
                ("key", "x"),
                ("scope", "zz"),
                ("account_type", "abc"),
                ("role", "9999"),
                ("q", "x" * 201),
                ("cols", "salary"),
            ]
        )
    )

    assert _field_errors(response) == [
        "“maybe” is not Yes or No, so this shows contacts and others.",
        "“x” is not Yes or No, so this shows key contacts and others.",
        "“zz” is not one of the choices, so this shows this account only.",
        "“abc” is not an account type, so this shows every type.",
        "“9999” is not a role, so this shows every role.",
        "Search for at most 200 characters (this has 201), so this shows everyone.",
        "“salary” is not a column, so this shows the default columns.",
    ]
    assert _headers(response) == DEFAULT_HEADERS
    assert count_line(response) == "11 rows (a person at an account)"


# Columns


def test_people_default_columns(viewer_client, people):
    response = _get(viewer_client, "q=pierre")

    assert _headers(response) == DEFAULT_HEADERS
    assert _rows(response) == [
        ["Pierre Paquet", "pierre@paris.example", "Paris", "Site", "Site admin", "yes"]
    ]


def test_people_names_and_accounts_link_to_their_pages(viewer_client, people, tree):
    response = _get(viewer_client, "q=pierre&cols=name&cols=email&cols=account")

    (row,) = elements(element(page(response), "tbody"), "tr")
    links = [(text(a), attribute(a, "href")) for a in elements(row, "a")]
    assert links == [
        ("Pierre Paquet", f"/people/{Person.objects.get(email='pierre@paris.example').pk}/"),
        ("Paris", f"/accounts/{tree['paris'].pk}/"),
    ]


def test_people_default_columns_show_a_dash_for_no_role(viewer_client, people):
    response = _get(viewer_client, "q=nora")

    assert _rows(response) == [["Nora Nobody", "nora@corp.example", "Corp", "Corporate", "—", "no"]]


def test_people_columns_appear_in_the_order_of_the_cols_params(viewer_client, people):
    response = _get(viewer_client, "contact=no&cols=email&cols=name&cols=account_id")

    assert _headers(response) == ["Email", "Name", "Account ID"]
    assert _rows(response) == [
        ["bert@berlin.example", "Bert Brandt", "BERLIN"],
        ["nora@corp.example", "Nora Nobody", "CORP"],
        ["tex@austin.example", "Tex Tran", "AUSTIN"],
    ]


ALL_COLUMNS_REVERSED = [
    "phone",
    "title",
    "key_contact",
    "contact",
    "role",
    "account_type",
    "account_id",
    "account",
    "last_name",
    "first_name",
    "email",
    "name",
]


def test_people_every_column_in_reverse_order(viewer_client, people):
    response = _get(
        viewer_client, "q=pierre&" + urlencode([("cols", key) for key in ALL_COLUMNS_REVERSED])
    )

    assert _headers(response) == [
        "Phone",
        "Title",
        "Key Contact",
        "Contact",
        "Account Role",
        "Account Type",
        "Account ID",
        "Account",
        "Last Name",
        "First Name",
        "Email",
        "Name",
    ]
    assert _rows(response) == [
        [
            "+33 1 23 45 67 89",
            "Site manager",
            "yes",
            "yes",
            "Site admin",
            "Site",
            "PARIS",
            "Paris",
            "Paquet",
            "Pierre",
            "pierre@paris.example",
            "Pierre Paquet",
        ]
    ]


def test_people_empty_title_and_phone_show_a_dash(viewer_client, people):
    response = _get(viewer_client, "q=tex&cols=name&cols=title&cols=phone&cols=contact")

    assert _rows(response) == [["Tex Tran", "—", "—", "no"]]


def test_people_repeated_column_is_shown_once(viewer_client, people):
    response = _get(viewer_client, "q=tex&cols=name&cols=email&cols=name")

    assert _headers(response) == ["Name", "Email"]
    assert _rows(response) == [["Tex Tran", "tex@austin.example"]]


def test_people_unknown_column_falls_back_to_the_default_columns(viewer_client, people):
    response = _get(viewer_client, "q=tex&cols=salary")

    assert _field_errors(response) == [
        "“salary” is not a column, so this shows the default columns."
    ]
    assert _headers(response) == DEFAULT_HEADERS
    assert _rows(response) == [["Tex Tran", "tex@austin.example", "Austin", "Site", "—", "no"]]


def _column_links(response):
    """{aria-label or link text: the query of its link, as a dict of lists}."""
    doc = page(response)
    links = {}
    for chip in elements(doc, "li", class_="chip"):
        for link in elements(chip, "a"):
            links[attribute(link, "aria-label")] = _link_query(link)
    for link in elements(element(doc, "details", class_="add-column"), "a"):
        links[f"Add {text(link)}"] = _link_query(link)
    return links


def _link_query(link):
    href = attribute(link, "href")
    # The whole path: the list is also drawn at the save-segment URL, which answers POST only.
    assert href.startswith("/people/?"), href
    return parse_qs(href.removeprefix("/people/?"), keep_blank_values=True)


def test_people_column_links_move_remove_and_add_columns_keeping_the_filters(viewer_client, people):
    response = _get(viewer_client, "contact=yes&cols=name&cols=email&cols=account&page=2")

    def cols(*keys):
        return {"contact": ["yes"], "cols": list(keys)}

    assert _column_links(response) == {
        "Move Name right": cols("email", "name", "account"),
        "Remove column Name": cols("email", "account"),
        "Move Email left": cols("email", "name", "account"),
        "Move Email right": cols("name", "account", "email"),
        "Remove column Email": cols("name", "account"),
        "Move Account left": cols("name", "account", "email"),
        "Remove column Account": cols("name", "email"),
        "Add First Name": cols("name", "email", "account", "first_name"),
        "Add Last Name": cols("name", "email", "account", "last_name"),
        "Add Account ID": cols("name", "email", "account", "account_id"),
        "Add Account Type": cols("name", "email", "account", "account_type"),
        "Add Account Role": cols("name", "email", "account", "role"),
        "Add Contact": cols("name", "email", "account", "contact"),
        "Add Key Contact": cols("name", "email", "account", "key_contact"),
        "Add Title": cols("name", "email", "account", "title"),
        "Add Phone": cols("name", "email", "account", "phone"),
        "Add Status": cols("name", "email", "account", "status"),
        "Add Start Date": cols("name", "email", "account", "start_date"),
        "Add End Date": cols("name", "email", "account", "end_date"),
    }


def test_people_column_chips_in_order(viewer_client, people):
    response = _get(viewer_client, "cols=account&cols=name")

    chips = elements(page(response), "li", class_="chip")
    assert [text(element(chip, "span")) for chip in chips] == ["Account", "Name"]


def test_people_following_the_column_links(viewer_client, people):
    response = _get(viewer_client, "contact=no&cols=name&cols=email&cols=account")

    links = _column_links(response)
    moved = _get(viewer_client, urlencode(links["Move Email left"], doseq=True))
    assert _headers(moved) == ["Email", "Name", "Account"]
    assert _rows(moved)[0] == ["bert@berlin.example", "Bert Brandt", "Berlin"]

    removed = _get(viewer_client, urlencode(_column_links(moved)["Remove column Name"], doseq=True))
    assert _headers(removed) == ["Email", "Account"]
    assert _rows(removed) == [
        ["bert@berlin.example", "Berlin"],
        ["nora@corp.example", "Corp"],
        ["tex@austin.example", "Austin"],
    ]

    added = _get(viewer_client, urlencode(_column_links(removed)["Add Key Contact"], doseq=True))
    assert _headers(added) == ["Email", "Account", "Key Contact"]
    assert _rows(added)[0] == ["bert@berlin.example", "Berlin", "no"]


def test_people_last_column_cannot_be_removed(viewer_client, people):
    response = _get(viewer_client, "cols=name")

    assert _column_links(response) == {
        f"Add {label}": {"cols": ["name", key]}
        for key, label in [
            ("email", "Email"),
            ("first_name", "First Name"),
            ("last_name", "Last Name"),
            ("account", "Account"),
            ("account_id", "Account ID"),
            ("account_type", "Account Type"),
            ("role", "Account Role"),
            ("contact", "Contact"),
            ("key_contact", "Key Contact"),
            ("title", "Title"),
            ("phone", "Phone"),
            ("status", "Status"),
            ("start_date", "Start Date"),
            ("end_date", "End Date"),
        ]
    }


def test_people_every_column_chosen_offers_no_add_menu(viewer_client, people):
    # With the membership's status and dates (issue 14).
    every = ["end_date", "start_date", "status", *ALL_COLUMNS_REVERSED]
    response = _get(viewer_client, urlencode([("cols", key) for key in every]))

    assert elements(page(response), "details", class_="add-column") == []


def test_people_filter_form_carries_the_chosen_columns(viewer_client, people):
    doc = page(_get(viewer_client, "cols=email&cols=name"))

    form = element(doc, "form", class_="people-filters")
    assert [
        attribute(field, "value") for field in elements(form, "input", type="hidden", name="cols")
    ] == ["email", "name"]


# Pages


@pytest.fixture
def many_contacts(tree):
    """120 contacts at Berlin, Page P000 … Page P119, and four members who are not contacts
    with names among theirs."""
    for n in range(120):
        MembershipFactory(
            account=tree["berlin"],
            person=PersonFactory(
                first_name="Page", last_name=f"P{n:03d}", email=f"page{n:03d}@customer.example"
            ),
        )
    for n in (0, 49, 50, 119):
        MembershipFactory(
            account=tree["berlin"],
            is_contact=False,
            person=PersonFactory(
                first_name="Page", last_name=f"P{n:03d}x", email=f"page{n:03d}x@customer.example"
            ),
        )


def _page_rows(numbers):
    return [[f"Page P{n:03d}", f"page{n:03d}@customer.example"] for n in numbers]


def _pagination(response):
    nav = element(page(response), "nav", class_="pagination")
    return {
        "text": text(element(nav, "span")),
        "links": {
            attribute(link, "rel"): attribute(link, "href")
            for link in elements(nav, "a")
            if attribute(link, "rel")
        },
    }


def test_people_pages_of_fifty_keep_the_filters(viewer_client, many_contacts):
    first = _get(viewer_client, "contact=yes&cols=name&cols=email")

    assert count_line(first) == "120 rows (a person at an account)"
    assert _rows(first) == _page_rows(range(50))
    assert _pagination(first) == {
        "text": "Page 1 of 3",
        "links": {"next": "/people/?contact=yes&cols=name&cols=email&page=2"},
    }

    second = _get(viewer_client, "contact=yes&cols=name&cols=email&page=2")
    assert _rows(second) == _page_rows(range(50, 100))
    assert _pagination(second) == {
        "text": "Page 2 of 3",
        "links": {
            "prev": "/people/?contact=yes&cols=name&cols=email&page=1",
            "next": "/people/?contact=yes&cols=name&cols=email&page=3",
        },
    }

    third = _get(viewer_client, "contact=yes&cols=name&cols=email&page=3")
    assert _rows(third) == _page_rows(range(100, 120))
    assert _pagination(third) == {
        "text": "Page 3 of 3",
        "links": {"prev": "/people/?contact=yes&cols=name&cols=email&page=2"},
    }


def test_people_page_out_of_range_shows_the_last_page(viewer_client, many_contacts):
    response = _get(viewer_client, "contact=yes&cols=name&cols=email&page=99")

    assert _rows(response) == _page_rows(range(100, 120))


def test_people_without_the_contact_filter_pages_over_every_member(viewer_client, many_contacts):
    response = _get(viewer_client, "cols=name&cols=email&page=3")

    assert count_line(response) == "124 rows (a person at an account)"
    # P000, P000x, P001 … P049, P049x, P050, P050x, P051 …: rows 101 to 124 are P097 to P119x.
    assert _rows(response) == [
        *_page_rows(range(97, 120)),
        ["Page P119x", "page119x@customer.example"],
    ]


def test_people_past_the_count_limit_says_more_than_and_pages_up_to_it(
    viewer_client, many_contacts, monkeypatch
):
    # Millions of rows are not counted on every page: the count stops past a limit.
    monkeypatch.setattr(CountsUpTo, "LIMIT", 100)
    first = _get(viewer_client, "contact=yes&cols=name&cols=email")

    assert count_line(first) == (
        "More than 100 rows (a person at an account): the pages show the first 100. "
        "Narrow the filters, or download them all."
    )
    assert _rows(first) == _page_rows(range(50))
    assert _pagination(first)["text"] == "Page 1 of 2"
    last = _get(viewer_client, "contact=yes&cols=name&cols=email&page=3")
    assert _rows(last) == _page_rows(range(50, 100))

    # Up to the limit, the count is exact.
    narrowed = _get(viewer_client, "contact=yes&cols=name&cols=email&q=P00")
    assert count_line(narrowed) == "10 rows (a person at an account)"


def test_people_single_page_has_no_pagination(viewer_client, people):
    assert elements(page(_get(viewer_client)), "nav", class_="pagination") == []


# Escaping


def test_people_names_with_markup_are_escaped(viewer_client, tree):
    evil_account = AccountFactory(
        name="<b>Bold</b> & Co", external_id="BOLD", account_type=tree["corp"].account_type
    )
    MembershipFactory(
        account=evil_account,
        person=PersonFactory(
            first_name="<script>alert(1)</script>",
            last_name="Evil",
            email="evil@x.example",
            title="<img src=x onerror=alert(2)>",
        ),
    )

    response = _get(viewer_client, "cols=name&cols=account&cols=title&q=evil")

    text = response.content.decode()
    assert "<script>alert(" not in text
    assert "<img src=x" not in text
    assert "<b>Bold" not in text
    assert text.count("&lt;script&gt;alert(1)&lt;/script&gt; Evil") == 1
    assert text.count("&lt;b&gt;Bold&lt;/b&gt; &amp; Co") == 1
    assert text.count("&lt;img src=x onerror=alert(2)&gt;") == 1
    assert _rows(response) == [
        ["<script>alert(1)</script> Evil", "<b>Bold</b> & Co", "<img src=x onerror=alert(2)>"]
    ]


def test_people_search_text_with_markup_is_escaped(viewer_client, people):
    response = _get(viewer_client, urlencode({"q": '"><script>alert(3)</script>'}))

    text = response.content.decode()
    assert "<script>alert(3)" not in text
    assert attribute(element(page(response), "input", name="q"), "value") == (
        '"><script>alert(3)</script>'
    )


# Query counts


def _grow(tree, size):
    """More accounts, people and memberships, `size` times over: 3·size Sites under emea, each
    with 4·size members (the first a key contact, the second a Site admin, the last not a
    contact)."""
    site_type = tree["paris"].account_type
    site_admin = stored.role("Site", "Site admin")
    for n in range(3 * size):
        site = AccountFactory(name=f"Grow site {n}", account_type=site_type, parent=tree["emea"])
        for m in range(4 * size):
            MembershipFactory(
                account=site,
                person=PersonFactory(first_name="Grace", last_name=f"Grow{n}-{m}"),
                is_contact=m != 4 * size - 1,
                is_key_contact=m == 0,
                role=site_admin if m == 1 else None,
            )


# Queries of one /people/ page, the same at every data size: session and staff user (2); the
# permission check for the download buttons and the save form (2: Global admin group, the staff
# user's own and group permissions in one); the row count and the rows (2); the saved
# segments (1); the Account type and Role options (2). Filtering adds the account's look-up
# and the checks of the chosen Account type and Role (3).
PEOPLE_QUERIES = {"": 9, "filtered": 12}


def _grown_query(name):
    if name == "filtered":
        return _query(
            [
                ("contact", "yes"),
                ("key", "no"),
                ("account", "CORP"),
                ("scope", "hierarchy"),
                ("account_type", "Site"),
                ("role", ("Site", "Site admin")),
                ("q", "grace"),
            ]
        )
    return ""


GROWN_COUNTS = {"": lambda size: 11 + 12 * size**2, "filtered": lambda size: 3 * size}


@pytest.mark.parametrize("query", list(PEOPLE_QUERIES))
@pytest.mark.parametrize("size", (1, 3))
def test_people_list_querycount_line(
    standard_client, tree, people, django_assert_num_queries, size, query
):
    _grow(tree, size)
    query_string = _grown_query(query)

    with django_assert_num_queries(PEOPLE_QUERIES[query]):
        response = _get(standard_client, query_string)

    count = GROWN_COUNTS[query](size)
    assert count_line(response) == f"{count} rows (a person at an account)"
    assert len(_rows(response)) == min(count, 50)


def test_people_account_field_uses_the_suggestions(viewer_client, people):
    doc = page(_get(viewer_client))

    typeahead = element(doc, "auto-complete")
    assert attribute(typeahead, "src") == "/accounts/suggestions/"
    assert attribute(typeahead, "for") == "account-options"
    assert attribute(element(typeahead, "input"), "name") == "account"


@pytest.mark.django_db
def test_people_account_typed_by_its_full_name_is_found_when_unique(viewer_client, tree):
    MembershipFactory(
        account=tree["paris"], person=PersonFactory(first_name="Ada", last_name="Lovelace")
    )
    MembershipFactory(
        account=tree["berlin"], person=PersonFactory(first_name="Alan", last_name="Turing")
    )

    response = viewer_client.get("/people/", {"account": "paris", "cols": ["name", "account"]})

    assert response.status_code == 200
    assert "No account has" not in response.text
    assert "Ada Lovelace" in response.text and "Alan Turing" not in response.text


@pytest.mark.django_db
def test_people_page_offers_the_all_contacts_quick_list(viewer_client):
    response = viewer_client.get("/people/")

    assert (
        '<a href="/people/?contact=yes&amp;cols=name&amp;cols=email">'
        "All contacts, name and email</a>" in response.text
    )
