"""contacts/widget.py, one module as the code is: every filter, order and page of the widget.

The Contacts widget on the account profile, /accounts/<id>/ (SPEC §3.3).

Each account of the four-level `tree` holds one or two contacts with distinctive names, so a
list of names tells which accounts a view reached. Every expected list below is written out by
hand from the drawing in the `tree` fixture, in the widget's order (key contacts first, then
last name, first name), not computed from the tree columns.
"""

from functools import partial
from urllib.parse import quote, urlencode

import pytest

import accounts.models
from accounts.models import AccountType
from contacts.models import Membership
from tests import html
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    PersonFactory,
    TaskFactory,
    TouchpointFactory,
)
from tests.html import attribute, has_attributes, page, text, vary

# This module's searches look only under the node they start from, not at the node itself.
element = partial(html.element, itself=False)
elements = partial(html.elements, itself=False)

PEOPLE = {
    "ada": ("Ada", "Lovelace", "ada@analytical.example"),
    "carl": ("Carl", "Corbett", "carl.corbett@corp.example"),
    "emil": ("Emil", "Eames", "emil@emea.example"),
    "pierre": ("Pierre", "Paquet", "pierre@paris.example"),
    "sally": ("Sally", "Sauer", "sally@paris-sales.example"),
    "bert": ("Bert", "Brandt", "bert@berlin.example"),
    "amy": ("Amy", "Alvarez", "amy@amer.example"),
    "tex": ("Tex", "Tran", "tex@austin.example"),
    "olga": ("Olga", "Olsen", "olga@austin-ops.example"),
    "ian": ("Ian", "Irwin", "ian@austin-it.example"),
    "otto": ("Otto", "Ostrom", "otto@other.example"),
    "rita": ("Rita", "Rhodes", "rita@other-region.example"),
    "nora": ("Nora", "Nobody", "nora@corp.example"),
}

# (account, person, key contact, role): the contacts. Ada is a contact at corp (key) and at
# amer, and at the other company too.
CONTACTS = [
    ("corp", "ada", True, "Executive sponsor"),
    ("corp", "carl", False, "Champion"),
    ("emea", "emil", False, "Regional director"),
    ("paris", "pierre", True, "Site admin"),
    ("paris_sales", "sally", False, "Department head"),
    ("berlin", "bert", False, "End user"),
    ("amer", "amy", False, "Champion"),
    ("amer", "ada", False, None),
    ("austin", "tex", True, "Site admin"),
    ("austin_ops", "olga", False, None),
    ("austin_it", "ian", True, "Department head"),
    ("other", "otto", True, "Executive sponsor"),
    ("other", "ada", False, "Champion"),
    ("other_region", "rita", False, "Champion"),
]
# Memberships that are not contacts: they never show in the widget.
MEMBERS_ONLY = [("corp", "nora"), ("austin", "nora"), ("berlin", "ada")]

ADA, CARL, EMIL, PIERRE, SALLY, BERT = (
    "Ada Lovelace",
    "Carl Corbett",
    "Emil Eames",
    "Pierre Paquet",
    "Sally Sauer",
    "Bert Brandt",
)
AMY, TEX, OLGA, IAN, OTTO, RITA = (
    "Amy Alvarez",
    "Tex Tran",
    "Olga Olsen",
    "Ian Irwin",
    "Otto Ostrom",
    "Rita Rhodes",
)
CORP_HIERARCHY = [IAN, ADA, PIERRE, TEX, AMY, BERT, CARL, EMIL, ADA, OLGA, SALLY]
OTHER_HIERARCHY = [OTTO, ADA, RITA]

CORP_KEYS = [
    "corp",
    "emea",
    "paris",
    "paris_sales",
    "berlin",
    "amer",
    "austin",
    "austin_ops",
    "austin_it",
]

# View → account the widget is on → names shown. A view missing for an account is not offered
# there (no parent of a root, no children of a leaf).
EXPECTED = {
    "this": {
        "corp": [ADA, CARL],
        "emea": [EMIL],
        "paris": [PIERRE],
        "paris_sales": [SALLY],
        "berlin": [BERT],
        "amer": [AMY, ADA],
        "austin": [TEX],
        "austin_ops": [OLGA],
        "austin_it": [IAN],
        "other": [OTTO, ADA],
        "other_region": [RITA],
    },
    "parent": {
        "emea": [ADA, CARL],
        "paris": [EMIL],
        "paris_sales": [PIERRE],
        "berlin": [EMIL],
        "amer": [ADA, CARL],
        "austin": [AMY, ADA],
        "austin_ops": [TEX],
        "austin_it": [TEX],
        "other_region": [OTTO, ADA],
    },
    "parents": {
        "emea": [ADA, CARL],
        "paris": [ADA, CARL, EMIL],
        "paris_sales": [ADA, PIERRE, CARL, EMIL],
        "berlin": [ADA, CARL, EMIL],
        "amer": [ADA, CARL],
        "austin": [ADA, AMY, CARL, ADA],
        "austin_ops": [ADA, TEX, AMY, CARL, ADA],
        "austin_it": [ADA, TEX, AMY, CARL, ADA],
        "other_region": [OTTO, ADA],
    },
    "children": {
        "corp": [AMY, EMIL, ADA],
        "emea": [PIERRE, BERT],
        "paris": [SALLY],
        "amer": [TEX],
        "austin": [IAN, OLGA],
        "other": [RITA],
    },
    "descendants": {
        "corp": [IAN, PIERRE, TEX, AMY, BERT, EMIL, ADA, OLGA, SALLY],
        "emea": [PIERRE, BERT, SALLY],
        "paris": [SALLY],
        "amer": [IAN, TEX, OLGA],
        "austin": [IAN, OLGA],
        "other": [RITA],
    },
    "subtree": {
        "corp": CORP_HIERARCHY,
        "emea": [PIERRE, BERT, EMIL, SALLY],
        "paris": [PIERRE, SALLY],
        "amer": [IAN, TEX, AMY, ADA, OLGA],
        "austin": [IAN, TEX, OLGA],
        "other": [OTTO, ADA, RITA],
    },
    "type-Corporate": {key: [ADA, CARL] for key in CORP_KEYS},
    "type-Region": {key: [AMY, EMIL, ADA] for key in CORP_KEYS},
    "type-Site": {key: [PIERRE, TEX, BERT] for key in CORP_KEYS},
    "type-Department": {key: [IAN, OLGA, SALLY] for key in CORP_KEYS},
    "hierarchy": {
        **{key: CORP_HIERARCHY for key in CORP_KEYS},
        "other": OTHER_HIERARCHY,
        "other_region": OTHER_HIERARCHY,
    },
}
EXPECTED["type-Corporate"] |= {"other": [OTTO, ADA], "other_region": [OTTO, ADA]}
EXPECTED["type-Region"] |= {"other": [RITA], "other_region": [RITA]}

VIEW_CASES = [
    pytest.param(view, key, names, id=f"{view}-from-{key}")
    for view, by_account in EXPECTED.items()
    for key, names in by_account.items()
]


# Reading the page


def _results(response):
    """The contact results: the whole htmx fragment, or the part of the page."""
    doc = page(response)
    if doc.name == "div" and has_attributes(doc, {"id": "contact-results"}):
        return doc
    return element(doc, "div", id="contact-results")


SELECT_CELL = {"class_": "select-cell"}


def _rows(response):
    """Each row of the widget: name, email, role, account, key contact?, action links."""
    rows = []
    for row in elements(_results(response), "tr")[1:]:
        # Not the bulk actions' checkbox (issue 15): the cells that show the contact.
        cells = [cell for cell in elements(row, "td") if not has_attributes(cell, SELECT_CELL)]
        rows.append(
            {
                "name": text(element(cells[0], "a")),
                "email": text(cells[1]),
                "role": text(cells[2]),
                "account": text(cells[3]),
                "type": text(cells[4]),
                "key": [
                    text(crown) for crown in elements(cells[0], "span", aria_label="Key contact")
                ],
                "actions": [
                    (text(link), attribute(link, "href"))
                    for cell in cells[5:]
                    for link in elements(cell, "a")
                ],
            }
        )
    return rows


def _names(response):
    return [row["name"] for row in _rows(response)]


def _count(response):
    return text(element(_results(response), "p", class_="count"))


def _options(select):
    return [
        (attribute(option, "value"), text(option), "selected" in dict(option.attributes))
        for option in elements(select, "option")
    ]


def _field_errors(response):
    """{label of a widget control: its error messages} for the controls that have any."""
    form = element(page(response), "form", class_="widget-filters")
    errors = {}
    for field in elements(form, "div", class_="field"):
        messages = [text(error) for error in elements(field, "p", class_="field-error")]
        if messages:
            errors[text(element(field, "label"))] = messages
    # The Roles: a disclosure of checkboxes, named by its summary.
    for field in elements(form, "details", class_="field"):
        messages = [text(error) for error in elements(field, "p", class_="field-error")]
        if messages:
            errors[text(element(field, "summary")).split()[0]] = messages
    return errors


def _chosen_roles(response):
    """The values of the ticked Roles checkboxes."""
    roles = element(page(response), "details", class_="roles-filter")
    return [
        attribute(box, "value")
        for box in elements(roles, "input", type="checkbox")
        if "checked" in dict(box.attributes)
    ]


def _empty_state(response):
    empty = elements(_results(response), "div", class_="empty")
    if not empty:
        return None
    (empty,) = empty
    return {
        "text": [text(p) for p in elements(empty, "p")],
        "filters": [text(li) for li in elements(empty, "li")],
        "links": [(text(a), attribute(a, "href")) for a in elements(empty, "a")],
    }


def _url(account, query=""):
    return f"{account.get_absolute_url()}?{query}" if query else account.get_absolute_url()


def _get(client, account, query="", **headers):
    return client.get(_url(account, query), headers=headers)


# Data


@pytest.fixture
def contacts(tree, roles):
    """{(account key, person key): membership} of CONTACTS and MEMBERS_ONLY."""
    people = {
        key: PersonFactory(first_name=first, last_name=last, email=email)
        for key, (first, last, email) in PEOPLE.items()
    }
    memberships = {}
    for account_key, person_key, key_contact, role_name in CONTACTS:
        account = tree[account_key]
        memberships[account_key, person_key] = MembershipFactory(
            person=people[person_key],
            account=account,
            is_contact=True,
            is_key_contact=key_contact,
            role=roles[account.account_type.name, role_name] if role_name else None,
        )
    for account_key, person_key in MEMBERS_ONLY:
        memberships[account_key, person_key] = MembershipFactory(
            person=people[person_key], account=tree[account_key], is_contact=False
        )
    return memberships


def _view_value(view, account_types):
    if view.startswith("type-"):
        return f"type-{account_types[view.removeprefix('type-')].pk}"
    return view


# Views


def test_expected_tables_cover_every_view_offered_from_every_account(tree, account_types):
    for key, account in tree.items():
        types = AccountType.objects.in_hierarchy(account)
        offered = {view.value for view in account.hierarchy_views(types)}
        expected = {
            _view_value(view, account_types)
            for view, by_account in EXPECTED.items()
            if key in by_account
        }
        assert offered == expected, key


@pytest.mark.parametrize(("view", "key", "names"), VIEW_CASES)
def test_widget_view_lists_exactly_its_contacts(
    viewer_client, tree, account_types, contacts, view, key, names
):
    value = _view_value(view, account_types)

    response = _get(viewer_client, tree[key], f"view={value}")

    assert _names(response) == names
    assert _count(response) == f"{len(names)} contact{'s' if len(names) != 1 else ''}"
    assert _field_errors(response) == {}
    selected = [
        option[0]
        for option in _options(element(page(response), "select", name="view"))
        if option[2]
    ]
    assert selected == [value]


@pytest.mark.parametrize("key", EXPECTED["this"])
def test_widget_lists_contacts_of_this_account_by_default(viewer_client, tree, contacts, key):
    response = _get(viewer_client, tree[key])

    assert _names(response) == EXPECTED["this"][key]


def test_widget_rows_show_email_role_key_contact_and_other_accounts(viewer_client, tree, contacts):
    response = _get(viewer_client, tree["corp"], "view=hierarchy")

    assert [
        (row["name"], row["email"], row["role"], row["account"], row["type"], row["key"])
        for row in _rows(response)
    ] == [
        (IAN, "ian@austin-it.example", "Department head", "Austin It", "Department", ["♛"]),
        (ADA, "ada@analytical.example", "Executive sponsor", "This account", "Corporate", ["♛"]),
        (PIERRE, "pierre@paris.example", "Site admin", "Paris", "Site", ["♛"]),
        (TEX, "tex@austin.example", "Site admin", "Austin", "Site", ["♛"]),
        (AMY, "amy@amer.example", "Champion", "Amer", "Region", []),
        (BERT, "bert@berlin.example", "End user", "Berlin", "Site", []),
        (CARL, "carl.corbett@corp.example", "Champion", "This account", "Corporate", []),
        (EMIL, "emil@emea.example", "Regional director", "Emea", "Region", []),
        (ADA, "ada@analytical.example", "—", "Amer", "Region", []),
        (OLGA, "olga@austin-ops.example", "—", "Austin Ops", "Department", []),
        (SALLY, "sally@paris-sales.example", "Department head", "Paris Sales", "Department", []),
    ]


def test_widget_row_links_to_the_person_and_the_other_account(viewer_client, tree, contacts):
    response = _get(viewer_client, tree["amer"], "view=parent")

    rows = elements(_results(response), "tr")[1:]
    assert [
        [(text(link), attribute(link, "href")) for link in elements(row, "a")] for row in rows
    ] == [
        [
            (ADA, contacts["corp", "ada"].person.get_absolute_url()),
            ("Corp", tree["corp"].get_absolute_url()),
        ],
        [
            (CARL, contacts["corp", "carl"].person.get_absolute_url()),
            ("Corp", tree["corp"].get_absolute_url()),
        ],
    ]


def test_widget_key_contact_crown_has_an_accessible_label(viewer_client, tree, contacts):
    response = _get(viewer_client, tree["corp"])

    crowns = elements(_results(response), "span", aria_label="Key contact")
    assert [sorted(crown.attributes) for crown in crowns] == [
        [
            ("aria-label", "Key contact"),
            ("class", "crown"),
            ("role", "img"),
            ("title", "Key contact"),
        ]
    ]


def test_widget_person_at_two_accounts_in_scope_has_a_row_for_each(viewer_client, tree, contacts):
    response = _get(viewer_client, tree["austin"], "view=parents&q=ada")

    assert [(row["name"], row["role"], row["account"]) for row in _rows(response)] == [
        (ADA, "Executive sponsor", "Corp"),
        (ADA, "—", "Amer"),
    ]


def test_widget_orders_key_contacts_first_then_last_name_then_first_name(viewer_client, tree):
    for first, last, key in [
        ("Bob", "Brandt", False),
        ("Zed", "Adams", True),
        ("Anna", "Brandt", False),
        ("Carla", "Brandt", True),
        ("Yves", "Adams", False),
        ("Abe", "Zola", True),
    ]:
        MembershipFactory(
            person=PersonFactory(first_name=first, last_name=last),
            account=tree["berlin"],
            is_key_contact=key,
        )

    response = _get(viewer_client, tree["berlin"])

    assert _names(response) == [
        "Zed Adams",
        "Carla Brandt",
        "Abe Zola",
        "Yves Adams",
        "Anna Brandt",
        "Bob Brandt",
    ]


# View choices


def _view_choices(tree, account_types, key):
    """Written out by hand: (value, label) of each View choice from `key`, in order."""
    t = {name: account_type.pk for name, account_type in account_types.items()}
    corp_types = [
        (f"type-{t['Corporate']}", "All Corporate accounts (2)"),
        (f"type-{t['Region']}", "All Region accounts (3)"),
        (f"type-{t['Site']}", "All Site accounts (3)"),
        (f"type-{t['Department']}", "All Department accounts (3)"),
        ("hierarchy", "Entire hierarchy (11)"),
    ]
    other_types = [
        (f"type-{t['Corporate']}", "All Corporate accounts (2)"),
        (f"type-{t['Region']}", "All Region accounts (1)"),
        ("hierarchy", "Entire hierarchy (3)"),
    ]
    return {
        "corp": [
            ("this", "This account (2)"),
            ("children", "Direct children (3)"),
            ("descendants", "All children (9)"),
            ("subtree", "This account and all children (11)"),
            *corp_types,
        ],
        "emea": [
            ("this", "This account (1)"),
            ("parent", "Direct parent (2)"),
            ("parents", "All parents (2)"),
            ("children", "Direct children (2)"),
            ("descendants", "All children (3)"),
            ("subtree", "This account and all children (4)"),
            *corp_types,
        ],
        "austin": [
            ("this", "This account (1)"),
            ("parent", "Direct parent (2)"),
            ("parents", "All parents (4)"),
            ("children", "Direct children (2)"),
            ("descendants", "All children (2)"),
            ("subtree", "This account and all children (3)"),
            *corp_types,
        ],
        "paris_sales": [
            ("this", "This account (1)"),
            ("parent", "Direct parent (1)"),
            ("parents", "All parents (4)"),
            *corp_types,
        ],
        "austin_it": [
            ("this", "This account (1)"),
            ("parent", "Direct parent (1)"),
            ("parents", "All parents (5)"),
            *corp_types,
        ],
        "other": [
            ("this", "This account (2)"),
            ("children", "Direct children (1)"),
            ("descendants", "All children (1)"),
            ("subtree", "This account and all children (3)"),
            *other_types,
        ],
        "other_region": [
            ("this", "This account (1)"),
            ("parent", "Direct parent (2)"),
            ("parents", "All parents (2)"),
            *other_types,
        ],
    }[key]


@pytest.mark.parametrize(
    "key", ["corp", "emea", "austin", "paris_sales", "austin_it", "other", "other_region"]
)
def test_widget_offers_the_views_of_the_account_with_their_counts(
    viewer_client, tree, account_types, contacts, key
):
    # A type with no account anywhere, so no "All Team accounts" choice.
    AccountType.objects.create(name="Team", order=9)

    response = _get(viewer_client, tree[key])

    select = element(page(response), "select", name="view")
    assert [(value, label) for value, label, _ in _options(select)] == _view_choices(
        tree, account_types, key
    )
    # Nothing marked selected: the browser shows the first choice, "This account".
    assert [value for value, _, selected in _options(select) if selected] == []


def _role_groups(response):
    """(account type, [role names]) of each group of the Roles checkboxes, in order."""
    roles = element(page(response), "details", class_="roles-filter")
    return [
        (text(element(group, "legend")), [text(label) for label in elements(group, "label")])
        for group in elements(roles, "fieldset")
    ]


CORPORATE_ROLES = ("Corporate", ["Champion", "Executive sponsor"])
REGION_ROLES = ("Region", ["Champion", "Regional director"])
SITE_ROLES = ("Site", ["End user", "Site admin"])
DEPARTMENT_ROLES = ("Department", ["Department head"])


@pytest.mark.parametrize(
    ("key", "groups"),
    [
        ("corp", [CORPORATE_ROLES, REGION_ROLES, SITE_ROLES, DEPARTMENT_ROLES]),
        ("emea", [REGION_ROLES, CORPORATE_ROLES, SITE_ROLES, DEPARTMENT_ROLES]),
        ("paris", [SITE_ROLES, CORPORATE_ROLES, REGION_ROLES, DEPARTMENT_ROLES]),
        ("austin_it", [DEPARTMENT_ROLES, CORPORATE_ROLES, REGION_ROLES, SITE_ROLES]),
        ("other", [CORPORATE_ROLES, REGION_ROLES]),
        ("other_region", [REGION_ROLES, CORPORATE_ROLES]),
    ],
)
def test_widget_offers_the_roles_of_the_hierarchy_own_type_first(
    viewer_client, tree, roles, contacts, key, groups
):
    assert _role_groups(_get(viewer_client, tree[key])) == groups


def test_widget_controls_have_visible_labels(viewer_client, tree, contacts):
    form = element(page(_get(viewer_client, tree["corp"])), "form", class_="widget-filters")

    labels = [
        (text(label), attribute(label, "for"))
        for label in elements(form, "label")
        if "check-option" not in (attribute(label, "class") or "")
    ]
    assert labels == [
        ("View", "id_view"),
        ("Search", "id_q"),
        ("Key contacts only", "id_key"),
        ("Include former", "id_former"),
    ]
    assert [
        (element.name, attribute(element, "id"), attribute(element, "name"))
        for tag in ("select", "input")
        for element in elements(form, tag)
        if attribute(element, "name") != "role"
    ] == [
        ("select", "id_view", "view"),
        ("input", "id_q", "q"),
        ("input", "id_key", "key"),
        ("input", "id_former", "former"),
    ]
    # The Roles: a disclosure named "Roles", a fieldset per account type named by its legend,
    # each checkbox inside its label (the whole line is the target on a touch screen).
    roles = element(form, "details", class_="roles-filter")
    assert text(element(roles, "summary")) == "Roles"
    boxes = elements(roles, "input", type="checkbox")
    assert len(boxes) == 7
    assert all(
        len(elements(label, "input", type="checkbox")) == 1
        for label in elements(roles, "label", class_="check-option")
    )
    assert "Ctrl" not in text(form)


def test_widget_search_box_is_a_search_input(viewer_client, tree, contacts):
    box = element(page(_get(viewer_client, tree["corp"])), "input", name="q")

    assert [value for name, value in box.attributes if name == "type"] == ["search"]


# Roles, Search, Key contacts only


def _role_query(roles, *names):
    return "&".join(f"role={roles[name].pk}" for name in names)


@pytest.mark.parametrize(
    ("key", "view", "role_names", "names"),
    [
        ("corp", "this", [("Corporate", "Champion")], [CARL]),
        ("corp", "this", [("Region", "Champion")], []),
        ("corp", "hierarchy", [("Region", "Champion")], [AMY]),
        ("corp", "hierarchy", [("Department", "Department head")], [IAN, SALLY]),
        ("corp", "hierarchy", [("Site", "Site admin")], [PIERRE, TEX]),
        (
            "corp",
            "hierarchy",
            [("Corporate", "Champion"), ("Site", "Site admin")],
            [PIERRE, TEX, CARL],
        ),
        (
            "paris",
            "hierarchy",
            [("Corporate", "Champion"), ("Region", "Champion"), ("Site", "End user")],
            [AMY, BERT, CARL],
        ),
        ("emea", "subtree", [("Site", "End user"), ("Site", "Site admin")], [PIERRE, BERT]),
        ("other", "hierarchy", [("Region", "Champion")], [RITA]),
        ("other", "hierarchy", [("Corporate", "Champion")], [ADA]),
    ],
)
@pytest.mark.parametrize("role_accounts", ["few", "many"])
def test_widget_roles_filter(
    viewer_client, tree, roles, contacts, monkeypatch, key, view, role_names, names, role_accounts
):
    # Both ways of matching the roles' accounts: by id when few, by role alone when many.
    monkeypatch.setattr(accounts.models, "SMALL_SUBTREE", 1_000 if role_accounts == "few" else 0)
    response = _get(viewer_client, tree[key], f"view={view}&{_role_query(roles, *role_names)}")

    assert _names(response) == names
    assert _field_errors(response) == {}
    assert sorted(_chosen_roles(response)) == sorted(str(roles[name].pk) for name in role_names)


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("ada", [ADA, ADA]),
        ("Lovelace", [ADA, ADA]),
        ("Ada Lovelace", [ADA, ADA]),
        ("lovelace ADA", [ADA, ADA]),
        ("  ada   lovelace  ", [ADA, ADA]),
        ("aDa LoVeLaCe", [ADA, ADA]),
        ("ada@analytical.example", [ADA, ADA]),
        ("BERLIN.example", [BERT]),
        ("carl.corbett@", [CARL]),
        ("sally", [SALLY]),
        ("SAUER", [SALLY]),
        ("Tran", [TEX]),
        ("Ada Brandt", []),
        ("nora", []),
        ("otto", []),
        ("zzz", []),
    ],
)
def test_widget_search(viewer_client, tree, contacts, q, names):
    response = _get(viewer_client, tree["corp"], urlencode({"view": "hierarchy", "q": q}))

    assert _names(response) == names
    assert _field_errors(response) == {}
    # The box shows what was typed; the search itself ignores the surrounding spaces.
    assert attribute(element(page(response), "input", name="q"), "value") == q


@pytest.mark.parametrize(
    ("key", "query", "names"),
    [
        ("corp", "key=on", [ADA]),
        ("amer", "key=on", []),
        ("corp", "view=hierarchy&key=on", [IAN, ADA, PIERRE, TEX]),
        ("corp", "view=descendants&key=on", [IAN, PIERRE, TEX]),
        ("corp", "view=hierarchy&key=on&q=ada", [ADA]),
        ("corp", "view=hierarchy&key=on&q=a", [IAN, ADA, PIERRE, TEX]),
        ("corp", "view=hierarchy&key=on&q=austin", [IAN, TEX]),
        ("other", "view=hierarchy&key=on", [OTTO]),
    ],
)
def test_widget_key_contacts_only(viewer_client, tree, contacts, key, query, names):
    response = _get(viewer_client, tree[key], query)

    assert _names(response) == names
    assert ("checked", None) in element(page(response), "input", name="key").attributes


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("{site_admin}&key=on", [PIERRE, TEX]),
        ("{site_admin}&q=austin", [TEX]),
        ("{site_admin}&q=austin&key=on", [TEX]),
        ("{dept_head}&q=sally&key=on", []),
        ("{dept_head}&q=sally", [SALLY]),
        ("{dept_head}&{champion}&q=a", [IAN, AMY, SALLY]),
        ("{dept_head}&{champion}&q=a&key=on", [IAN]),
        ("{champion}&q=ada", []),
    ],
)
def test_widget_filters_combined(viewer_client, tree, roles, contacts, query, names):
    query = "view=hierarchy&" + query.format(
        site_admin=_role_query(roles, ("Site", "Site admin")),
        dept_head=_role_query(roles, ("Department", "Department head")),
        champion=_role_query(roles, ("Region", "Champion")),
    )

    response = _get(viewer_client, tree["corp"], query)

    assert _names(response) == names
    assert _field_errors(response) == {}


# Pagination


@pytest.fixture
def many_contacts(tree, roles, contacts):
    """30 more contacts at paris_sales, with the role Department head: Pat Bulk01…Pat Bulk30."""
    return [
        MembershipFactory(
            person=PersonFactory(
                first_name="Pat", last_name=f"Bulk{n:02d}", email=f"pat{n:02d}@bulk.example"
            ),
            account=tree["paris_sales"],
            role=roles["Department", "Department head"],
        )
        for n in range(1, 31)
    ]


def _pagination(response):
    navs = elements(_results(response), "nav", class_="pagination")
    if not navs:
        return None
    (nav,) = navs
    return {
        "text": text(element(nav, "span")),
        "links": [
            (text(a), attribute(a, "rel"), attribute(a, "href"))
            for a in elements(nav, "a")
            if attribute(a, "rel")
        ],
        "numbers": [
            (text(a), attribute(a, "href")) for a in elements(nav, "a", class_="page-number")
        ],
    }


def test_widget_shows_25_contacts_a_page(viewer_client, tree, many_contacts):
    first = _get(viewer_client, tree["paris_sales"])
    second = _get(viewer_client, tree["paris_sales"], "page=2")

    bulk = [f"Pat Bulk{n:02d}" for n in range(1, 31)]
    assert (_count(first), _names(first)) == ("31 contacts", bulk[:25])
    assert _pagination(first) == {
        "text": "Page 1 of 2",
        "links": [("Next →", "next", "?page=2")],
        "numbers": [("1", "?page=1"), ("2", "?page=2")],
    }
    assert (_count(second), _names(second)) == ("31 contacts", [*bulk[25:], SALLY])
    assert _pagination(second) == {
        "text": "Page 2 of 2",
        "links": [("← Previous", "prev", "?page=1")],
        "numbers": [("1", "?page=1"), ("2", "?page=2")],
    }


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {}),  # the page: the View's count is known, the first page counts nothing
        ("", {"HX_Request": "true"}),  # the fragment counts
        ("q=bulk", {}),  # a search lists every match in order, then fetches a page
    ],
)
def test_widget_pages_key_contacts_first_across_page_boundaries(
    viewer_client, tree, many_contacts, query, headers
):
    # 30 key contacts and 1 other among 31: pages split the key contacts, and the last page
    # has key contacts and the other.
    for membership in many_contacts[:27]:
        membership.is_key_contact = True
        membership.save()
    bulk = [f"Pat Bulk{n:02d}" for n in range(1, 31)]
    keys, others = bulk[:27], bulk[27:] + ([] if query else [SALLY])

    pages = [
        _get(viewer_client, tree["paris_sales"], f"{query}&page={number}", **headers)
        for number in (1, 2)
    ]

    total = len(keys) + len(others)
    assert [_count(response) for response in pages] == [f"{total} contacts"] * 2
    assert [_names(response) for response in pages] == [keys[:25], keys[25:] + others]
    assert [sum(bool(row["key"]) for row in _rows(response)) for response in pages] == [25, 2]


def _in_widget_order(tree):
    """The names of the company's contacts there now in the widget's order, read from the
    memberships themselves (not the contacts' search table the Entire hierarchy reads)."""
    return [
        membership.person.full_name
        for membership in Membership.objects.contacts()
        .filter(account__tree_id=tree["corp"].tree_id)
        .select_related("person")
        .order_by(
            "-is_key_contact", "person__last_name", "person__first_name", "person__email", "pk"
        )
    ]


@pytest.mark.parametrize("headers", [{}, {"HX_Request": "true"}])
def test_widget_entire_hierarchy_pages_in_order_as_names_and_marks_change(
    viewer_client, tree, many_contacts, headers
):
    # The Entire hierarchy reads its pages of ids from the contacts' search table (issue 17),
    # which triggers keep: a rename, a new key contact and a contact removed show at once.
    many_contacts[29].person.last_name = "Aardvark"
    many_contacts[29].person.save()
    many_contacts[12].is_key_contact = True
    many_contacts[12].save()
    many_contacts[3].is_contact = False
    many_contacts[3].save()
    expected = _in_widget_order(tree)

    pages = [
        _get(viewer_client, tree["corp"], f"view=hierarchy&page={number}", **headers)
        for number in (1, 2)
    ]

    assert len(expected) > 25
    assert [_count(response) for response in pages] == [f"{len(expected)} contacts"] * 2
    assert _names(pages[0]) + _names(pages[1]) == expected
    assert "Pat Bulk04" not in expected
    assert expected.index("Pat Aardvark") < expected.index("Pat Bulk01")
    assert expected.index("Pat Bulk13") < expected.index("Pat Aardvark")


def test_widget_pagination_links_keep_the_filters(viewer_client, tree, roles, many_contacts):
    role = roles["Department", "Department head"].pk
    first = _get(viewer_client, tree["corp"], f"view=hierarchy&q=bulk&role={role}")

    bulk = [f"Pat Bulk{n:02d}" for n in range(1, 31)]
    assert (_count(first), _names(first)) == ("30 contacts", bulk[:25])
    ((_, _, next_href),) = _pagination(first)["links"]
    assert next_href == f"?view=hierarchy&q=bulk&role={role}&page=2"

    second = viewer_client.get(tree["corp"].get_absolute_url() + next_href)

    assert (_count(second), _names(second)) == ("30 contacts", bulk[25:])
    assert _pagination(second) == {
        "text": "Page 2 of 2",
        "links": [("← Previous", "prev", f"?view=hierarchy&q=bulk&role={role}&page=1")],
        "numbers": [
            ("1", f"?view=hierarchy&q=bulk&role={role}&page=1"),
            ("2", f"?view=hierarchy&q=bulk&role={role}&page=2"),
        ],
    }
    assert attribute(element(page(second), "input", name="q", type="search"), "value") == "bulk"


def test_widget_pagination_links_of_the_htmx_fragment_keep_the_filters(
    viewer_client, tree, roles, many_contacts
):
    role = roles["Department", "Department head"].pk
    response = _get(
        viewer_client,
        tree["corp"],
        f"page=1&view=hierarchy&role={role}&q=bulk",
        HX_Request="true",
    )

    # The page parameter keeps its place in the query string; only its value changes.
    assert _pagination(response)["links"] == [
        ("Next →", "next", f"?page=2&view=hierarchy&role={role}&q=bulk")
    ]


@pytest.mark.parametrize(("page", "expected_page"), [("xyz", 1), ("0", 2), ("99", 2), ("2", 2)])
def test_widget_page_out_of_range_shows_a_page_that_exists(
    viewer_client, tree, many_contacts, page, expected_page
):
    response = _get(viewer_client, tree["paris_sales"], f"page={page}")

    assert _pagination(response)["text"] == f"Page {expected_page} of 2"
    assert len(_names(response)) == {1: 25, 2: 6}[expected_page]
    assert _field_errors(response) == {}


def test_widget_without_other_pages_has_no_pagination(viewer_client, tree, contacts):
    assert _pagination(_get(viewer_client, tree["corp"], "view=hierarchy")) is None


# Empty state


@pytest.mark.parametrize(
    ("key", "query", "filters"),
    [
        ("corp", "q=zzz", ["Search: “zzz”"]),
        ("amer", "key=on", ["Key contacts only"]),
        (
            "paris_sales",
            "view=parent&{end_user}",
            ["View: Direct parent", "Roles: End user (Site)"],
        ),
        (
            "corp",
            "view=hierarchy&{end_user}&q=zzz&key=on",
            [
                "View: Entire hierarchy",
                "Roles: End user (Site)",
                "Search: “zzz”",
                "Key contacts only",
            ],
        ),
        (
            "corp",
            "{end_user}&{champion}",
            ["Roles: Champion (Region), End user (Site)"],
        ),
    ],
)
def test_widget_empty_state_names_the_filters_and_offers_to_clear_them(
    viewer_client, tree, roles, contacts, key, query, filters
):
    query = query.format(
        end_user=_role_query(roles, ("Site", "End user")),
        champion=_role_query(roles, ("Region", "Champion")),
    )
    response = _get(viewer_client, tree[key], query)

    assert (_count(response), _names(response)) == ("0 contacts", [])
    assert _empty_state(response) == {
        "text": ["No contacts match these filters:"],
        "filters": filters,
        "links": [("Clear filters", tree[key].get_absolute_url())],
    }


def test_widget_empty_state_without_filters_says_the_account_has_no_contacts(
    viewer_client, tree, contacts
):
    account = AccountFactory(
        name="Lyon", account_type=tree["paris"].account_type, parent=tree["emea"]
    )

    response = _get(viewer_client, account)

    assert (_count(response), _names(response)) == ("0 contacts", [])
    assert _empty_state(response) == {
        "text": ["No contacts at this account yet."],
        "filters": [],
        "links": [],
    }


def test_widget_with_contacts_has_no_empty_state(viewer_client, tree, contacts):
    assert _empty_state(_get(viewer_client, tree["corp"], "view=hierarchy")) is None


# Input that does not fit


@pytest.mark.parametrize(
    ("key", "query", "errors", "names"),
    [
        (
            "corp",
            "view=bogus",
            {"View": ["“bogus” is not a view of this account, so this shows “This account”."]},
            [ADA, CARL],
        ),
        (
            "corp",
            "view=parent",
            {"View": ["“parent” is not a view of this account, so this shows “This account”."]},
            [ADA, CARL],
        ),
        (
            "paris_sales",
            "view=descendants",
            {
                "View": [
                    "“descendants” is not a view of this account, so this shows “This account”."
                ]
            },
            [SALLY],
        ),
        (
            "corp",
            "view=type-999999",
            {
                "View": [
                    "“type-999999” is not a view of this account, so this shows “This account”."
                ]
            },
            [ADA, CARL],
        ),
        (
            "corp",
            "view=type-abc&q=carl",
            {"View": ["“type-abc” is not a view of this account, so this shows “This account”."]},
            [CARL],
        ),
        (
            "corp",
            "view=hierarchy&role=999999",
            {"Roles": ["“999999” is not a role in this company, so this shows every role."]},
            CORP_HIERARCHY,
        ),
        (
            "corp",
            "view=hierarchy&role=abc",
            {"Roles": ["“abc” is not a role in this company, so this shows every role."]},
            CORP_HIERARCHY,
        ),
        (
            "corp",
            "view=hierarchy&key=on&q=" + "x" * 500,
            {"Search": ["Ensure this value has at most 200 characters (it has 500)."]},
            [IAN, ADA, PIERRE, TEX],
        ),
        (
            "corp",
            "view=bogus&role=abc&q=" + "x" * 500,
            {
                "View": ["“bogus” is not a view of this account, so this shows “This account”."],
                "Roles": ["“abc” is not a role in this company, so this shows every role."],
                "Search": ["Ensure this value has at most 200 characters (it has 500)."],
            },
            [ADA, CARL],
        ),
        # An emptied multi-select may send role= : every role, and no complaint.
        ("corp", "role=", {}, [ADA, CARL]),
        ("corp", "view=&q=&page=", {}, [ADA, CARL]),
        ("corp", "page=xyz", {}, [ADA, CARL]),
        ("corp", "view=hierarchy&page=xyz&q=ada", {}, [ADA, ADA]),
    ],
)
def test_widget_input_that_does_not_fit_is_reported_and_the_default_used(
    viewer_client, tree, contacts, key, query, errors, names
):
    response = _get(viewer_client, tree[key], query)

    assert _field_errors(response) == errors
    assert _names(response) == names


def test_widget_role_of_another_company_is_reported_and_every_role_shown(
    viewer_client, tree, roles, contacts
):
    site_admin = roles["Site", "Site admin"].pk

    response = _get(viewer_client, tree["other"], f"view=hierarchy&role={site_admin}")

    assert _field_errors(response) == {
        "Roles": [f"“{site_admin}” is not a role in this company, so this shows every role."]
    }
    assert _names(response) == OTHER_HIERARCHY


def test_widget_type_of_another_company_is_reported(viewer_client, tree, account_types, contacts):
    site = account_types["Site"].pk

    response = _get(viewer_client, tree["other"], f"view=type-{site}")

    assert _field_errors(response) == {
        "View": [f"“type-{site}” is not a view of this account, so this shows “This account”."]
    }
    assert _names(response) == [OTTO, ADA]


def _described(response):
    """{control name: (aria-invalid, [(id, text) of each element its aria-describedby names])}
    of the widget's controls, in page order; the Roles checkboxes, which are alike, as one."""
    form = element(page(response), "form", class_="widget-filters")
    controls = {}
    for tag in ("select", "input"):
        for control in elements(form, tag):
            ids = (attribute(control, "aria-describedby") or "").split()
            described = (
                attribute(control, "aria-invalid"),
                [
                    (id_, text(html.element(form, node_tag, id=id_)))
                    for id_ in ids
                    for node_tag in ("div", "p")
                    if html.elements(form, node_tag, id=id_)
                ],
            )
            name = attribute(control, "name")
            assert controls.get(name, described) == described
            controls[name] = described
    return controls


def test_widget_controls_are_described_by_nothing_when_nothing_is_wrong(
    viewer_client, tree, contacts
):
    assert _described(_get(viewer_client, tree["corp"], "view=hierarchy&q=ada&key=on")) == {
        "view": (None, []),
        "role": (None, []),
        "q": (None, []),
        "key": (None, []),
        "former": (None, []),
    }


@pytest.mark.parametrize(
    ("query", "name", "error"),
    [
        (
            "view=nowhere",
            "view",
            "“nowhere” is not a view of this account, so this shows “This account”.",
        ),
        ("role=abc", "role", "“abc” is not a role in this company, so this shows every role."),
        (
            "role=999999",
            "role",
            "“999999” is not a role in this company, so this shows every role.",
        ),
        (
            "q=" + "x" * 201,
            "q",
            "Ensure this value has at most 200 characters (it has 201).",
        ),
    ],
    ids=["unknown view", "role not a number", "unknown role", "search too long"],
)
def test_widget_bad_value_is_read_with_its_control_and_marks_it_invalid(
    viewer_client, tree, contacts, query, name, error
):
    response = _get(viewer_client, tree["corp"], query)

    expected = {
        "view": (None, []),
        "role": (None, []),
        "q": (None, []),
        "key": (None, []),
        "former": (None, []),
    }
    expected[name] = ("true", [*expected[name][1], (f"id_{name}_error", error)])
    assert _described(response) == expected
    assert _names(response) == [ADA, CARL]


def test_widget_role_of_another_company_is_read_with_the_roles_list(
    viewer_client, tree, roles, contacts
):
    site_admin = roles["Site", "Site admin"].pk

    response = _get(viewer_client, tree["other"], f"role={site_admin}")

    assert _described(response)["role"] == (
        "true",
        [
            (
                "id_role_error",
                f"“{site_admin}” is not a role in this company, so this shows every role.",
            ),
        ],
    )


# htmx


def test_widget_htmx_request_gets_only_the_results_fragment(viewer_client, tree, contacts):
    response = _get(viewer_client, tree["corp"], "view=hierarchy&key=on", HX_Request="true")

    text = response.content.decode()
    fragment = page(response)
    assert (fragment.name, attribute(fragment, "id")) == ("div", "contact-results")
    assert 'id="contact-results"' in text
    assert "<html" not in text
    assert 'aria-label="Breadcrumb"' not in text
    assert 'class="widget-filters"' not in text
    assert (_count(response), _names(response)) == ("4 contacts", [IAN, ADA, PIERRE, TEX])
    assert "HX-Request" in vary(response)


def test_widget_plain_request_gets_the_whole_page(viewer_client, tree, contacts):
    response = _get(viewer_client, tree["corp"], "view=hierarchy&key=on")

    text = response.content.decode()
    assert text.startswith("<!doctype html>")
    assert "<html" in text
    assert 'id="contact-results"' in text
    assert 'aria-label="Breadcrumb"' in text
    assert 'class="widget-filters"' in text
    assert (_count(response), _names(response)) == ("4 contacts", [IAN, ADA, PIERRE, TEX])
    assert "HX-Request" in vary(response)


def test_widget_htmx_history_restore_gets_the_whole_page(viewer_client, tree, contacts):
    response = _get(
        viewer_client,
        tree["corp"],
        "view=hierarchy&key=on",
        HX_Request="true",
        HX_History_Restore_Request="true",
    )

    text = response.content.decode()
    assert "<html" in text
    assert 'aria-label="Breadcrumb"' in text
    assert 'class="widget-filters"' in text
    assert _names(response) == [IAN, ADA, PIERRE, TEX]
    assert "HX-Request" in vary(response)


def test_widget_filter_form_updates_the_results_with_htmx(viewer_client, tree, contacts):
    form = element(page(_get(viewer_client, tree["corp"])), "form", class_="widget-filters")

    url = tree["corp"].get_absolute_url()
    assert {
        name: attribute(form, name)
        for name in ("method", "action", "hx-get", "hx-target", "hx-swap", "hx-push-url")
    } == {
        "method": "get",
        "action": url,
        "hx-get": url,
        "hx-target": "#contact-results",
        "hx-swap": "outerHTML",
        "hx-push-url": "true",
    }


# Who may edit


def test_widget_viewer_sees_no_edit_or_remove_links(viewer_client, tree, contacts):
    response = _get(viewer_client, tree["corp"], "view=hierarchy")

    assert [row["actions"] for row in _rows(response)] == [[]] * 11
    headers = elements(_results(response), "th")
    assert [text(th) for th in headers if not has_attributes(th, SELECT_CELL)] == [
        "Name",
        "Email",
        "Role",
        "Account",
        "Type",
    ]
    assert "/people/contacts/" not in response.content.decode()


@pytest.mark.parametrize(
    "client_fixture", ["standard_client", "advanced_client", "global_admin_client"]
)
def test_widget_staff_who_may_edit_see_edit_and_remove_links(
    request, tree, contacts, client_fixture
):
    client = request.getfixturevalue(client_fixture)
    query = "view=parents&q=a"

    response = _get(client, tree["austin"], query)

    back = quote(f"{tree['austin'].get_absolute_url()}?{query}")
    expected = [
        contacts["corp", "ada"],
        contacts["amer", "amy"],
        contacts["corp", "carl"],
        contacts["amer", "ada"],
    ]
    assert [row["actions"] for row in _rows(response)] == [
        [
            ("Edit", f"/people/contacts/{membership.pk}/edit/?next={back}"),
            ("Remove", f"/people/contacts/{membership.pk}/remove/?next={back}"),
        ]
        for membership in expected
    ]
    headers = elements(_results(response), "th")
    assert [text(th) for th in headers if not has_attributes(th, SELECT_CELL)] == [
        "Name",
        "Email",
        "Role",
        "Account",
        "Type",
        "Actions",
    ]


def test_widget_edit_links_name_the_contact_and_account(standard_client, tree, contacts):
    response = _get(standard_client, tree["amer"], "view=parent")

    assert [
        attribute(link, "aria-label")
        for link in elements(_results(response), "a")
        if text(link) in ("Edit", "Remove")
    ] == [
        "Edit Ada Lovelace at Corp",
        "Remove Ada Lovelace as a contact of Corp",
        "Edit Carl Corbett at Corp",
        "Remove Carl Corbett as a contact of Corp",
    ]


# Names with HTML


def test_widget_shows_names_with_html_as_text(standard_client, tree):
    evil_account = AccountFactory(
        name="<script>alert(2)</script>",
        account_type=tree["paris"].account_type,
        parent=tree["emea"],
    )
    MembershipFactory(
        person=PersonFactory(
            first_name="<script>alert(1)</script>",
            last_name="<b>Mallory</b>",
            email="mallory@evil.example",
        ),
        account=evil_account,
    )

    response = _get(standard_client, tree["corp"], "view=hierarchy")

    text = response.content.decode()
    assert "<script>alert(" not in text
    assert "<b>Mallory" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;Mallory&lt;/b&gt;" in text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in text
    assert [(row["name"], row["account"]) for row in _rows(response)] == [
        ("<script>alert(1)</script> <b>Mallory</b>", "<script>alert(2)</script>")
    ]


def test_widget_shows_the_account_name_with_html_as_text(viewer_client, tree):
    evil_account = AccountFactory(
        name="<script>alert(3)</script>",
        account_type=tree["paris"].account_type,
        parent=tree["emea"],
    )

    response = _get(viewer_client, evil_account)

    text = response.content.decode()
    assert "<script>alert(" not in text
    # In the title, the breadcrumb, the heading and the "In the company" drawing.
    assert text.count("&lt;script&gt;alert(3)&lt;/script&gt;") == 4


# Query counts


def _grow(tree, roles, size, staff_user):
    """More accounts, people and contacts (and tasks and touchpoints), `size` times over:
    3·size Site accounts under emea with a Department each, 4·size contacts at each (one a key
    contact; at a Site, that one and the next are Site admins), and a non-contact member."""
    site_type, department_type = tree["paris"].account_type, tree["paris_sales"].account_type
    memberships = []
    for n in range(3 * size):
        site = AccountFactory(name=f"Grow site {n}", account_type=site_type, parent=tree["emea"])
        department = AccountFactory(
            name=f"Grow department {n}", account_type=department_type, parent=site
        )
        for account in (site, department):
            for m in range(4 * size):
                memberships.append(
                    MembershipFactory(
                        person=PersonFactory(first_name="Grace", last_name=f"Grow{n}-{m}"),
                        account=account,
                        is_key_contact=m == 0,
                        role=roles["Site", "Site admin"] if m <= 1 and account is site else None,
                    )
                )
            MembershipFactory(account=account, is_contact=False)
    for n in range(2 * size):
        task = TaskFactory(account=tree["corp"], owner=staff_user)
        task.contacts.set(memberships[n : n + 2])
        touchpoint = TouchpointFactory(account=tree["corp"], author=staff_user)
        touchpoint.participants.set(memberships[n : n + 3])


# Queries of one widget request, the same at every data size: session and staff user (2);
# permission checks (2); the account and its types (2); then the rows. Without a search, key
# contacts and the others each in name order (2), or for the Entire hierarchy a page of ids
# from the contacts' search table and their rows (2), and the count (1) unless the page knows
# it from the View counts; with a search, every match's id in order (1) and the page's rows (1).
# The page reads the types with their contacts instead of the types alone, and adds the grouped
# Roles and the neighbourhood with its contacts (2): the View counts come from those (contacts
# 0019 keeps each account's count). Then tasks and touchpoints, each with their contacts
# and those contacts' people in one query (4). A role filter costs one query more. Key contacts
# only: the key contacts fill the page by the count, so the others are not asked for.
# A role filter counts the accounts of its roles' types (matched by id when few). The page
# reads the account's open "Key contact left" alerts for its banner (1).
PAGE_QUERIES = {"": 15, "view=hierarchy": 15, "search": 15, "filtered": 17}
FRAGMENT_QUERIES = {
    "": 9,
    "view=hierarchy": 9,
    "search": 8,
    "filtered": 10,
    # Key contacts of the whole company (issue 17): counted, then a page of ids read from the
    # contacts' search table in the widget's order, then those rows.
    "key": 9,
    # Include former (issue 14): one ordered query and its count.
    "former": 8,
}
# How many contacts each query finds after _grow(size): the data really grew.
GROWN_COUNTS = {
    "": lambda size: 2,
    "view=hierarchy": lambda size: 11 + 24 * size**2,
    "search": lambda size: 24 * size**2,
    "filtered": lambda size: 3 * size,
    "key": lambda size: 4 + 6 * size,
    "former": lambda size: 11 + 24 * size**2,
}


def _query(roles, name):
    if name == "search":
        return "view=hierarchy&q=grow"
    if name == "filtered":
        return (
            f"view=hierarchy&role={roles['Site', 'Site admin'].pk}"
            f"&role={roles['Department', 'Department head'].pk}&q=gr&key=on&page=1"
        )
    if name == "key":
        return "view=hierarchy&key=on"
    if name == "former":
        return "view=hierarchy&former=on"
    return name


@pytest.mark.parametrize("query", list(PAGE_QUERIES))
@pytest.mark.parametrize("size", (1, 3))
def test_widget_page_query_count(
    standard_client, tree, roles, contacts, django_assert_num_queries, size, query
):
    _grow(tree, roles, size, standard_client.staff_user)

    with django_assert_num_queries(PAGE_QUERIES[query]):
        response = _get(standard_client, tree["corp"], _query(roles, query))

    assert _count(response) == f"{GROWN_COUNTS[query](size)} contacts"
    assert len(_rows(response)) == min(GROWN_COUNTS[query](size), 25)


@pytest.mark.parametrize("query", list(FRAGMENT_QUERIES))
@pytest.mark.parametrize("size", (1, 3))
def test_widget_fragment_query_count(
    standard_client, tree, roles, contacts, django_assert_num_queries, size, query
):
    _grow(tree, roles, size, standard_client.staff_user)

    with django_assert_num_queries(FRAGMENT_QUERIES[query]):
        response = _get(standard_client, tree["corp"], _query(roles, query), HX_Request="true")

    assert _count(response) == f"{GROWN_COUNTS[query](size)} contacts"
    assert len(_rows(response)) == min(GROWN_COUNTS[query](size), 25)
