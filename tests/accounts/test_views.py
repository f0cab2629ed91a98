"""accounts/views.py's account page and type-ahead, one module as the code is one.

The account pages (/accounts/, /accounts/<id>/) and the account type-ahead: accounts/views.py."""

import re
from datetime import UTC, date, datetime
from html import unescape
from html.parser import HTMLParser

import pytest
from django.test.html import Element
from pytest_django.asserts import assertInHTML

from accounts.models import AccountRole
from accounts.views import ACCOUNTS_PER_PAGE, COMPANIES_PER_PAGE
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    PersonFactory,
    StaffUserFactory,
    TaskFactory,
    TouchpointFactory,
)
from tests.html import attribute, elements, parse
from tests.html import text as node_text

SCRIPT = '<script>alert("x")</script>'
ESCAPED_SCRIPT = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"

HTMX = {"HX-Request": "true"}


class _TableRows(HTMLParser):
    """Text of each cell of each body row of the first table with `css_class`."""

    def __init__(self, css_class):
        super().__init__(convert_charrefs=True)
        self.css_class = css_class
        self.depth = 0
        self.done = False
        self.rows = []
        self.cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and not self.done:
            if self.depth or self.css_class in (attrs.get("class") or "").split():
                self.depth += 1
        elif self.depth and tag == "tr" and self.rows is not None:
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
            self.done = not self.depth
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(response, css_class="table"):
    """Body rows (the header row left out) of the first table with `css_class`."""
    parser = _TableRows(css_class)
    parser.feed(response.text)
    return parser.rows[1:]


def text(html):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def count_line(response):
    return text(re.search(r'<p class="count">(.*?)</p>', response.text, re.S).group(1))


def tree_rows(response):
    """(name, Account ID, type, contacts here, with all below) of each row of the tree."""
    return [
        (unescape(name), unescape(external_id), account_type, int(own), int(below))
        for name, external_id, account_type, own, below in re.findall(
            r'<span class="tree-name"><a href="[^"]*">([^<]*)</a> '
            r'<span class="mono muted">([^<]*)</span></span>\s*'
            r'<span><span class="badge">([^<]*)</span></span>\s*'
            r'<span class="num"[^>]*>(\d+)</span>\s*<span class="num"[^>]*>(\d+)</span>',
            response.text,
        )
    ]


def links(html_fragment):
    return [
        (href, text(label))
        for href, label in re.findall(
            r'<a [^>]*?href="([^"]*)"[^>]*>(.*?)</a>', html_fragment, re.S
        )
    ]


def breadcrumb(response):
    nav = re.search(
        r'<nav class="breadcrumb" aria-label="Breadcrumb">(.*?)</nav>', response.text, re.S
    ).group(1)
    current = re.search(r'<li aria-current="page">([^<]*)</li>', nav).group(1)
    return links(nav), unescape(current)


def position_section(response):
    return re.search(
        r'<section class="card" aria-labelledby="position-heading">(.*?)</section>',
        response.text,
        re.S,
    ).group(1)


def children_list(response):
    """The child accounts as the "In the company" drawing lists them, or its summary line."""
    section = position_section(response)
    items = re.findall(r'<li class="hood-node hood-child[^"]*">(.*?)</li>', section, re.S)
    summary = text(re.search(r'<p class="hood-summary muted">(.*?)</p>', section, re.S).group(1))
    return [text(item) for item in items] or [summary]


@pytest.fixture
def people(tree, roles):
    """Contacts and other members at Paris (a Site) and around it."""
    ada = PersonFactory(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@customer.example",
        title="CTO",
        phone="+1 555 0100",
    )
    bob = PersonFactory(first_name="Bob", last_name="Baker", email="bob@customer.example")
    cy = PersonFactory(first_name="Cy", last_name="Young", email="cy@customer.example")
    dee = PersonFactory(first_name="Dee", last_name="Adams", email="dee@customer.example")
    return {
        "ada": ada,
        "bob": bob,
        "cy": cy,
        "dee": dee,
        "ada_paris": MembershipFactory(
            person=ada, account=tree["paris"], role=roles["Site", "Site admin"], is_key_contact=True
        ),
        "ada_emea": MembershipFactory(person=ada, account=tree["emea"]),
        "ada_other": MembershipFactory(person=ada, account=tree["other"], is_contact=False),
        "bob_paris": MembershipFactory(
            person=bob, account=tree["paris"], role=roles["Site", "End user"]
        ),
        "cy_paris": MembershipFactory(person=cy, account=tree["paris"], is_contact=False),
        "dee_sales": MembershipFactory(person=dee, account=tree["paris_sales"]),
    }


# /accounts/: the companies tree


@pytest.mark.django_db
def test_account_list_has_a_labelled_search_field(viewer_client):
    response = viewer_client.get("/accounts/")

    assert response.status_code == 200
    assertInHTML('<label for="account-search">Search</label>', response.text)
    assertInHTML(
        '<input type="search" id="account-search" name="q" value="" '
        'placeholder="Account name or Account ID" maxlength="200">',
        response.text,
    )


@pytest.mark.django_db
def test_account_list_shows_companies_with_contact_counts(viewer_client, people):
    response = viewer_client.get("/accounts/")

    assert count_line(response) == (
        "2 companies. Open a company to see its accounts level by level; the figures are "
        "contacts at the account, and with everything below it."
    )
    assert tree_rows(response) == [
        ("Corp", "CORP", "Corporate", 0, 4),
        ("Other", "OTHER", "Corporate", 0, 0),
    ]


@pytest.mark.django_db
def test_account_children_opened_without_htmx_redirects_to_the_profile(viewer_client, tree):
    response = viewer_client.get(f"/accounts/{tree['corp'].pk}/children/")

    assert response.status_code == 302
    assert response.url == f"/accounts/{tree['corp'].pk}/"


@pytest.mark.django_db
def test_account_list_opens_a_company_level_by_level(viewer_client, tree, people):
    response = viewer_client.get(f"/accounts/{tree['corp'].pk}/children/", headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert tree_rows(response) == [
        ("Amer", "AMER", "Region", 0, 0),
        ("Emea", "EMEA", "Region", 1, 4),
    ]
    assert tree_rows(viewer_client.get(f"/accounts/{tree['emea'].pk}/children/", headers=HTMX)) == [
        ("Berlin", "BERLIN", "Site", 0, 0),
        ("Paris", "PARIS", "Site", 2, 3),
    ]


@pytest.mark.django_db
def test_account_list_without_accounts_says_so(viewer_client):
    response = viewer_client.get("/accounts/")

    assert count_line(response).startswith("0 companies.")
    assertInHTML('<li class="empty">No accounts yet.</li>', response.text)


@pytest.mark.django_db
def test_account_list_pages_companies(viewer_client, account_types):
    for number in range(COMPANIES_PER_PAGE + 2):
        AccountFactory(name=f"Company {number:03d}", account_type=account_types["Corporate"])

    first = viewer_client.get("/accounts/")
    second = viewer_client.get("/accounts/?page=2")

    assert [row[0] for row in tree_rows(first)] == [
        f"Company {number:03d}" for number in range(COMPANIES_PER_PAGE)
    ]
    assert [row[0] for row in tree_rows(second)] == ["Company 050", "Company 051"]
    assert links(re.search(r'<nav class="pagination".*?</nav>', first.text, re.S).group(0)) == [
        ("?page=1", "1"),
        ("?page=2", "2"),
        ("?page=2", "Next →"),
    ]
    assert "Page 1 of 2" in first.text
    assert links(re.search(r'<nav class="pagination".*?</nav>', second.text, re.S).group(0)) == [
        ("?page=1", "← Previous"),
        ("?page=1", "1"),
        ("?page=2", "2"),
    ]


# /accounts/?q=: search


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "rows"),
    [
        (
            "paris",
            [
                ["Paris", "PARIS", "Site", "Corp", "2"],
                ["Paris Sales", "PARIS_SALES", "Department", "Corp", "1"],
            ],
        ),
        ("PARIS SA", [["Paris Sales", "PARIS_SALES", "Department", "Corp", "1"]]),
        ("region", [["Other Region", "OTHER_REGION", "Region", "Other", "0"]]),
        # By Account ID; "_" is a character, not a wildcard.
        (
            "austin_",
            [
                ["Austin Ops", "AUSTIN_OPS", "Department", "Corp", "0"],
                ["Austin It", "AUSTIN_IT", "Department", "Corp", "0"],
            ],
        ),
        ("other_region", [["Other Region", "OTHER_REGION", "Region", "Other", "0"]]),
        ("  emea  ", [["Emea", "EMEA", "Region", "Corp", "1"]]),
    ],
)
def test_account_search_by_name_and_account_id(viewer_client, people, query, rows):
    response = viewer_client.get("/accounts/", {"q": query})

    assert table_rows(response) == rows
    assert count_line(response) == (
        f"{len(rows)} account{'s' if len(rows) != 1 else ''} matching “{query.strip()}”"
    )


@pytest.mark.django_db
def test_account_search_keeps_the_query_in_the_field(viewer_client, tree):
    response = viewer_client.get("/accounts/", {"q": "aus"})

    assertInHTML(
        '<input type="search" id="account-search" name="q" value="aus" '
        'placeholder="Account name or Account ID" maxlength="200">',
        response.text,
    )
    assertInHTML('<a class="button button-quiet" href="/accounts/">Clear search</a>', response.text)


@pytest.mark.django_db
def test_account_search_without_match_says_so(viewer_client, tree):
    response = viewer_client.get("/accounts/", {"q": "zzz"})

    assert count_line(response) == "0 accounts matching “zzz”"
    assert table_rows(response) == []
    assertInHTML("<p>No account matches “zzz”.</p>", response.text)


@pytest.mark.django_db
def test_account_search_pages_results_and_keeps_the_query(viewer_client, account_types):
    for number in range(ACCOUNTS_PER_PAGE + 1):
        AccountFactory(
            name=f"Branch {number:03d}",
            external_id=f"BR-{number:03d}",
            account_type=account_types["Corporate"],
        )
    AccountFactory(name="Elsewhere", account_type=account_types["Corporate"])

    first = viewer_client.get("/accounts/", {"q": "branch"})
    second = viewer_client.get("/accounts/", {"q": "branch", "page": "2"})
    past_the_end = viewer_client.get("/accounts/", {"q": "branch", "page": "99"})

    assert count_line(first) == f"{ACCOUNTS_PER_PAGE + 1} accounts matching “branch”"
    assert [row[0] for row in table_rows(first)] == [
        f"Branch {number:03d}" for number in range(ACCOUNTS_PER_PAGE)
    ]
    assert table_rows(second) == [
        [
            f"Branch {ACCOUNTS_PER_PAGE:03d}",
            "BR-050",
            "Corporate",
            f"Branch {ACCOUNTS_PER_PAGE:03d}",
            "0",
        ]
    ]
    assert table_rows(past_the_end) == table_rows(second)
    assert links(re.search(r'<nav class="pagination".*?</nav>', first.text, re.S).group(0)) == [
        ("?q=branch&amp;page=1", "1"),
        ("?q=branch&amp;page=2", "2"),
        ("?q=branch&amp;page=2", "Next →"),
    ]
    assert re.search(
        r'<span class="page-of">\s*Page (\d+) of (\d+)\s*</span>', second.text
    ).groups() == ("2", "2")


@pytest.mark.django_db
def test_account_names_with_html_are_shown_as_text(viewer_client, account_types):
    company = AccountFactory(
        name=SCRIPT, external_id="XSS-1", account_type=account_types["Corporate"]
    )
    AccountFactory(
        name=f"{SCRIPT} child",
        external_id="XSS-2",
        parent=company,
        account_type=account_types["Region"],
    )

    tree_page = viewer_client.get("/accounts/")
    search = viewer_client.get("/accounts/", {"q": "<script>"})
    children = viewer_client.get(f"/accounts/{company.pk}/children/", headers=HTMX)

    for response in (tree_page, search, children):
        assert "<script>alert" not in response.text
    assert tree_rows(tree_page) == [(SCRIPT, "XSS-1", "Corporate", 0, 0)]
    assert table_rows(search) == [
        [SCRIPT, "XSS-1", "Corporate", SCRIPT, "0"],
        [f"{SCRIPT} child", "XSS-2", "Region", SCRIPT, "0"],
    ]
    assert count_line(search) == "2 accounts matching “<script>”"
    assert 'value="&lt;script&gt;"' in search.text
    assert tree_rows(children) == [(f"{SCRIPT} child", "XSS-2", "Region", 0, 0)]


# /accounts/<id>/


@pytest.mark.django_db
def test_account_detail_shows_name_type_and_account_id(viewer_client, tree):
    response = viewer_client.get(f"/accounts/{tree['paris'].pk}/")

    assert response.status_code == 200
    assert re.search(r"<title>(.*?)</title>", response.text).group(1) == "Paris · Unified Contacts"
    assertInHTML("<h1>Paris</h1>", response.text)
    assertInHTML(
        '<p class="meta"><span class="badge">Site</span> '
        '<span>Account ID <span class="mono">PARIS</span></span></p>',
        response.text,
    )


@pytest.mark.django_db
def test_account_detail_breadcrumb_lists_the_ancestors(viewer_client, tree):
    response = viewer_client.get(f"/accounts/{tree['paris_sales'].pk}/")

    assert breadcrumb(response) == (
        [
            ("/accounts/", "Accounts"),
            (f"/accounts/{tree['corp'].pk}/", "Corp"),
            (f"/accounts/{tree['emea'].pk}/", "Emea"),
            (f"/accounts/{tree['paris'].pk}/", "Paris"),
        ],
        "Paris Sales",
    )


@pytest.mark.django_db
def test_account_detail_breadcrumb_of_a_company(viewer_client, tree):
    response = viewer_client.get(f"/accounts/{tree['corp'].pk}/")

    assert breadcrumb(response) == ([("/accounts/", "Accounts")], "Corp")


@pytest.mark.django_db
def test_account_detail_lists_the_children(viewer_client, tree):
    response = viewer_client.get(f"/accounts/{tree['austin'].pk}/")

    assert children_list(response) == ["Austin Ops Department 0 / 0", "Austin It Department 0 / 0"]
    assert links(
        "".join(
            re.findall(
                r'<li class="hood-node hood-child[^"]*">(.*?)</li>',
                position_section(response),
                re.S,
            )
        )
    ) == [
        (f"/accounts/{tree['austin_ops'].pk}/", "Austin Ops"),
        (f"/accounts/{tree['austin_it'].pk}/", "Austin It"),
    ]


@pytest.mark.django_db
def test_account_detail_of_a_leaf_says_it_has_no_children(viewer_client, tree):
    response = viewer_client.get(f"/accounts/{tree['berlin'].pk}/")

    assert children_list(response) == ["No child accounts"]


@pytest.mark.django_db
def test_account_detail_lists_its_contacts_key_contacts_first(viewer_client, tree, people):
    response = viewer_client.get(f"/accounts/{tree['paris'].pk}/")

    assert table_rows(response, "contacts-table") == [
        ["Ada Lovelace ♛", "ada@customer.example", "Site admin", "This account", "Site"],
        ["Bob Baker", "bob@customer.example", "End user", "This account", "Site"],
    ]
    assert count_line(response) == "2 contacts"
    crowns = re.findall(r'<td class="contact-name"[^>]*>(.*?)</td>', response.text, re.S)
    assert [
        re.findall(
            r'<span class="crown" role="img" aria-label="Key contact" title="Key contact">'
            r"♛</span>",
            crown,
        )
        for crown in crowns
    ] == [
        ['<span class="crown" role="img" aria-label="Key contact" title="Key contact">♛</span>'],
        [],
    ]
    assert links(crowns[0]) == [(f"/people/{people['ada'].pk}/", "Ada Lovelace")]


@pytest.mark.django_db
def test_account_detail_without_contacts_says_so(viewer_client, tree, people):
    response = viewer_client.get(f"/accounts/{tree['berlin'].pk}/")

    assert count_line(response) == "0 contacts"
    assert table_rows(response, "contacts-table") == []
    assertInHTML("<p>No contacts at this account yet.</p>", response.text)


@pytest.mark.django_db
def test_account_detail_with_htmx_returns_only_the_contact_results(viewer_client, tree, people):
    response = viewer_client.get(f"/accounts/{tree['paris'].pk}/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="contact-results"')
    assert "<html" not in response.text
    assert response["Vary"].split(", ").count("HX-Request") == 1
    assert table_rows(response, "contacts-table") == [
        ["Ada Lovelace ♛", "ada@customer.example", "Site admin", "This account", "Site"],
        ["Bob Baker", "bob@customer.example", "End user", "This account", "Site"],
    ]


@pytest.mark.django_db
def test_account_detail_names_with_html_are_shown_as_text(viewer_client, account_types):
    company = AccountFactory(name=SCRIPT, account_type=account_types["Corporate"])
    site = AccountFactory(name="Site", parent=company, account_type=account_types["Region"])
    MembershipFactory(
        account=site,
        person=PersonFactory(first_name=SCRIPT, last_name="Doe", email="doe@customer.example"),
    )

    company_page = viewer_client.get(f"/accounts/{company.pk}/")
    site_page = viewer_client.get(f"/accounts/{site.pk}/")

    for response in (company_page, site_page):
        assert "<script>alert" not in response.text
    assert re.search(r"<h1>(.*?)</h1>", company_page.text).group(1) == ESCAPED_SCRIPT
    assert re.search(r"<title>(.*?)</title>", company_page.text).group(1) == (
        f"{ESCAPED_SCRIPT} · Unified Contacts"
    )
    assert breadcrumb(site_page) == (
        [("/accounts/", "Accounts"), (f"/accounts/{company.pk}/", SCRIPT)],
        "Site",
    )
    assert table_rows(site_page, "contacts-table")[0][0] == f"{SCRIPT} Doe"


@pytest.mark.django_db
def test_account_detail_refuses_post(viewer_client, tree):
    assert viewer_client.post(f"/accounts/{tree['paris'].pk}/").status_code == 405


# /people/<id>/


# Query counts


def _company(account_types, number, size):
    """A company with `size` regions, each with `size` sites; contacts at every account."""
    root = AccountFactory(name=f"Company {number}", account_type=account_types["Corporate"])
    MembershipFactory(account=root)
    for _ in range(size):
        region = AccountFactory(account_type=account_types["Region"], parent=root)
        MembershipFactory(account=region, is_key_contact=True)
        for _ in range(size):
            MembershipFactory(
                account=AccountFactory(account_type=account_types["Site"], parent=region)
            )
    return root


@pytest.mark.django_db
@pytest.mark.parametrize("item_count", (1, 3))
def test_account_detail_query_count(
    viewer_client, account_types, django_assert_num_queries, item_count
):
    owner = StaffUserFactory(username="owner")
    site_admin = AccountRole.objects.get(name="Site admin")
    parent = AccountFactory(account_type=account_types["Corporate"])
    for _ in range(item_count):
        parent = AccountFactory(account_type=account_types["Region"], parent=parent)
    account = AccountFactory(account_type=account_types["Site"], parent=parent)
    contacts = [
        MembershipFactory(account=account, role=site_admin, is_key_contact=True)
        for _ in range(item_count)
    ]
    for _ in range(item_count):
        MembershipFactory(
            account=AccountFactory(account_type=account_types["Department"], parent=account)
        )
        task = TaskFactory(account=account, owner=owner, due_date=date(2026, 5, 1))
        task.contacts.set(contacts)
        touchpoint = TouchpointFactory(
            account=account, author=owner, happened_at=datetime(2026, 1, 2, tzinfo=UTC)
        )
        touchpoint.participants.set(contacts)

    # As the Contacts widget's page (tests/contacts/test_widget.py), with the View counts known.
    # And the open "Key contact left" alerts of the banner (1).
    with django_assert_num_queries(14):
        response = viewer_client.get(f"/accounts/{account.pk}/")

    assert len(table_rows(response, "contacts-table")) == item_count
    assert len(breadcrumb(response)[0]) == item_count + 2


def row_actions(response):
    return [
        links(cell)
        for cell in re.findall(r'<td class="row-actions"[^>]*>(.*?)</td>', response.text, re.S)
    ]


@pytest.mark.django_db
def test_account_detail_shows_no_edit_controls_to_a_viewer(viewer_client, tree, people):
    response = viewer_client.get(f"/accounts/{tree['paris'].pk}/")

    assert row_actions(response) == []
    assert [row[:4] for row in table_rows(response, "contacts-table")] == [
        ["Ada Lovelace ♛", "ada@customer.example", "Site admin", "This account"],
        ["Bob Baker", "bob@customer.example", "End user", "This account"],
    ]


@pytest.mark.django_db
def test_account_detail_shows_edit_controls_to_a_standard_user(standard_client, tree, people):
    path = f"/accounts/{tree['paris'].pk}/"

    response = standard_client.get(path)

    back = f"?next={path}"
    assert row_actions(response) == [
        [
            (f"/people/contacts/{people['ada_paris'].pk}/edit/{back}", "Edit"),
            (f"/people/contacts/{people['ada_paris'].pk}/remove/{back}", "Remove"),
        ],
        [
            (f"/people/contacts/{people['bob_paris'].pk}/edit/{back}", "Edit"),
            (f"/people/contacts/{people['bob_paris'].pk}/remove/{back}", "Remove"),
        ],
    ]


# The account type-ahead


def _suggestions(response):
    assert response.status_code == 200, response.status_code
    fragment = parse(response)
    items = (
        [fragment]
        if isinstance(fragment, Element) and fragment.name == "li"
        else [child for child in fragment.children if isinstance(child, Element)]
    )
    return [
        (
            attribute(item, "data-autocomplete-value"),
            [node_text(span) for span in elements(item, "span")],
        )
        if attribute(item, "role") == "option"
        else node_text(item)
        for item in items
    ]


SUGGESTIONS = {
    "name": ("ber", [("BERLIN", ["Berlin", "BERLIN", "Site"])]),
    "name and Account ID, any case": (
        "AUSTIN",
        [
            ("AUSTIN", ["Austin", "AUSTIN", "Site"]),
            ("AUSTIN_IT", ["Austin It", "AUSTIN_IT", "Department"]),
            ("AUSTIN_OPS", ["Austin Ops", "AUSTIN_OPS", "Department"]),
        ],
    ),
    "Account ID only": ("paris_s", [("PARIS_SALES", ["Paris Sales", "PARIS_SALES", "Department"])]),
    "two words of a name": (
        "other reg",
        [("OTHER_REGION", ["Other Region", "OTHER_REGION", "Region"])],
    ),
    "two characters, spaces around": ("  em ", [("EMEA", ["Emea", "EMEA", "Region"])]),
    "no match": ("zz", ["No account matches “zz”"]),
}


@pytest.mark.parametrize(("text", "expected"), SUGGESTIONS.values(), ids=list(SUGGESTIONS))
def test_account_suggestions_match_name_or_account_id(viewer_client, tree, text, expected):
    response = viewer_client.get("/accounts/suggestions/", {"q": text})

    assert _suggestions(response) == expected


@pytest.mark.parametrize("text", ["", "a", " b ", "P"])
def test_account_suggestions_need_two_characters(viewer_client, tree, text):
    response = viewer_client.get("/accounts/suggestions/", {"q": text})

    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_account_suggestions_list_ten_in_name_order(viewer_client, account_types):
    for n in reversed(range(12)):
        AccountFactory(name=f"Zeta {n:02d}", external_id=f"Z-{n:02d}")

    response = viewer_client.get("/accounts/suggestions/", {"q": "zeta"})

    assert _suggestions(response) == [
        (f"Z-{n:02d}", [f"Zeta {n:02d}", f"Z-{n:02d}", "Corporate"]) for n in range(10)
    ]


def test_account_suggestions_escape_names(viewer_client, account_types):
    AccountFactory(name="<i>Italic</i> Ltd", external_id="ITAL")

    response = viewer_client.get("/accounts/suggestions/", {"q": "ital"})

    assert "<i>Italic" not in response.content.decode()
    assert _suggestions(response) == [("ITAL", ["<i>Italic</i> Ltd", "ITAL", "Corporate"])]


# Session and staff user (2) and the accounts with their types (1).
@pytest.mark.parametrize("size", (1, 3))
def test_account_suggestions_query_count(
    viewer_client, account_types, django_assert_num_queries, size
):
    for n in range(3 * size):
        AccountFactory(name=f"Zeta {n:02d}", external_id=f"Z-{n:02d}")

    with django_assert_num_queries(3):
        response = viewer_client.get("/accounts/suggestions/", {"q": "zeta"})

    assert len(_suggestions(response)) == 3 * size
