"""accounts/views.py's tree pages, one module: the tree, its search and levels are one page.

The accounts tree and search on /accounts/, one tree level on /accounts/<id>/children/, and
where an account sits in its company on its profile (SPEC §3.1, §3.2).

Contact counts are written out by hand from OWN_CONTACTS and the drawing in the `tree` fixture.
"""

import pytest
from django.test.html import Element

from tests.factories import AccountFactory, MembershipFactory, TaskFactory
from tests.html import attribute, count_line, element, elements, has_attributes, page, text

# Contacts at each account (one of them a key contact where there are two or more). Each
# account also has a member who is not a contact, who never counts.
OWN_CONTACTS = {
    "corp": 2,
    "emea": 1,
    "paris": 1,
    "paris_sales": 2,
    "berlin": 0,
    "amer": 1,
    "austin": 3,
    "austin_ops": 0,
    "austin_it": 1,
    "other": 1,
    "other_region": 2,
}
# Contacts at each account and every account below it.
ALL_CONTACTS = {
    "corp": 11,
    "emea": 4,
    "paris": 3,
    "paris_sales": 2,
    "berlin": 0,
    "amer": 5,
    "austin": 4,
    "austin_ops": 0,
    "austin_it": 1,
    "other": 3,
    "other_region": 2,
}


@pytest.fixture
def contacts(tree):
    for key, count in OWN_CONTACTS.items():
        for n in range(count):
            MembershipFactory(account=tree[key], is_key_contact=n == 1)
        MembershipFactory(account=tree[key], is_contact=False)


# Reading the page


def _tree_rows(node):
    """(name, Account ID, type, contacts here, with all below, children URL) of each row of the
    first tree level under `node`; the children URL is the hx-get of an expandable row."""
    level = elements(node, "ul", class_="tree-level")[0]
    rows = []
    for item in (child for child in level.children if isinstance(child, Element)):
        if has_attributes(item, {"class_": "empty"}):
            rows.append(text(item))
            continue
        row = elements(item, "span", class_="tree-row")[0]
        name, kind, own, below = [child for child in row.children if isinstance(child, Element)]
        details = elements(item, "details")
        rows.append(
            (
                text(element(name, "a")),
                text(element(name, "span", class_="mono")),
                text(kind),
                int(text(own)),
                int(text(below)),
                attribute(details[0], "hx-get") if details else None,
            )
        )
    return rows


def _search_rows(response):
    """(name, Account ID, type, company, contacts) of each row of the search results."""
    table = element(page(response), "table", class_="table")
    return [
        tuple(
            int(text(cell)) if index == 4 else text(cell)
            for index, cell in enumerate(elements(row, "td"))
        )
        for row in elements(table, "tr")[1:]
    ]


def _children_url(account):
    return f"/accounts/{account.pk}/children/"


# Companies


def test_account_list_shows_companies_with_their_contact_counts(viewer_client, tree, contacts):
    solo = AccountFactory(name="Solo", external_id="SOLO", account_type=tree["corp"].account_type)
    MembershipFactory(account=solo)

    response = viewer_client.get("/accounts/")

    assert _tree_rows(page(response)) == [
        ("Corp", "CORP", "Corporate", 2, 11, _children_url(tree["corp"])),
        ("Other", "OTHER", "Corporate", 1, 3, _children_url(tree["other"])),
        ("Solo", "SOLO", "Corporate", 1, 1, None),
    ]
    assert count_line(response).startswith("3 companies.")


def test_account_list_rows_link_to_the_accounts(viewer_client, tree, contacts):
    level = elements(page(viewer_client.get("/accounts/")), "ul", class_="tree-level")[0]

    assert [(text(link), attribute(link, "href")) for link in elements(level, "a")] == [
        ("Corp", tree["corp"].get_absolute_url()),
        ("Open Corp", tree["corp"].get_absolute_url()),
        ("Other", tree["other"].get_absolute_url()),
        ("Open Other", tree["other"].get_absolute_url()),
    ]


def test_account_list_expandable_company_loads_its_children_once_opened(
    viewer_client, tree, contacts
):
    details = elements(page(viewer_client.get("/accounts/")), "details", class_="tree-node")

    assert [
        {
            name: attribute(element, name)
            for name in ("hx-get", "hx-trigger", "hx-target", "hx-swap")
        }
        for element in details
    ] == [
        {
            "hx-get": _children_url(account),
            "hx-trigger": "toggle once",
            "hx-target": "find .tree-children",
            "hx-swap": "innerHTML",
        }
        for account in (tree["corp"], tree["other"])
    ]


def test_account_list_without_accounts(viewer_client, db):
    response = viewer_client.get("/accounts/")

    assert _tree_rows(page(response)) == ["No accounts yet."]
    assert count_line(response).startswith("0 companies.")


# One level of the tree


@pytest.mark.parametrize(
    ("key", "children"),
    [
        (
            "corp",
            [
                ("Amer", "AMER", "Region", 1, 5, "amer"),
                ("Emea", "EMEA", "Region", 1, 4, "emea"),
            ],
        ),
        (
            "emea",
            [
                ("Berlin", "BERLIN", "Site", 0, 0, None),
                ("Paris", "PARIS", "Site", 1, 3, "paris"),
            ],
        ),
        ("paris", [("Paris Sales", "PARIS_SALES", "Department", 2, 2, None)]),
        ("amer", [("Austin", "AUSTIN", "Site", 3, 4, "austin")]),
        (
            "austin",
            [
                ("Austin It", "AUSTIN_IT", "Department", 1, 1, None),
                ("Austin Ops", "AUSTIN_OPS", "Department", 0, 0, None),
            ],
        ),
        ("other", [("Other Region", "OTHER_REGION", "Region", 2, 2, None)]),
    ],
)
def test_account_children_lists_exactly_the_children_with_their_counts(
    viewer_client, tree, contacts, key, children
):
    response = viewer_client.get(_children_url(tree[key]), headers={"HX-Request": "true"})

    fragment = page(response)
    assert (fragment.name, attribute(fragment, "class")) == ("ul", "tree-level")
    assert "<html" not in response.content.decode()
    assert _tree_rows(fragment) == [
        (*row[:5], _children_url(tree[row[5]]) if row[5] else None) for row in children
    ]


def test_account_children_of_a_leaf(viewer_client, tree, contacts):
    response = viewer_client.get(_children_url(tree["berlin"]), headers={"HX-Request": "true"})

    assert _tree_rows(page(response)) == ["No accounts yet."]


def test_account_children_without_htmx_goes_to_the_account_page(viewer_client, tree, contacts):
    response = viewer_client.get(_children_url(tree["corp"]))

    assert (response.status_code, response["Location"]) == (302, tree["corp"].get_absolute_url())


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_account_children_response_varies_on_hx_request(viewer_client, tree, headers):
    response = viewer_client.get(_children_url(tree["corp"]), headers=headers)

    assert "HX-Request" in [value.strip() for value in response.headers.get("Vary", "").split(",")]


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_account_children_of_a_missing_account_is_404(viewer_client, db, headers):
    assert viewer_client.get("/accounts/999999/children/", headers=headers).status_code == 404


# Search


@pytest.mark.parametrize(
    ("q", "rows"),
    [
        (
            "aus",
            [
                ("Austin", "AUSTIN", "Site", "Corp", 3),
                ("Austin Ops", "AUSTIN_OPS", "Department", "Corp", 0),
                ("Austin It", "AUSTIN_IT", "Department", "Corp", 1),
            ],
        ),
        ("AUSTIN O", [("Austin Ops", "AUSTIN_OPS", "Department", "Corp", 0)]),
        ("  emea  ", [("Emea", "EMEA", "Region", "Corp", 1)]),
        ("paris_s", [("Paris Sales", "PARIS_SALES", "Department", "Corp", 2)]),
        ("PARIS_S", [("Paris Sales", "PARIS_SALES", "Department", "Corp", 2)]),
        ("oThEr_ReG", [("Other Region", "OTHER_REGION", "Region", "Other", 2)]),
        (
            "other",
            [
                ("Other", "OTHER", "Corporate", "Other", 1),
                ("Other Region", "OTHER_REGION", "Region", "Other", 2),
            ],
        ),
        (
            "paris",
            [
                ("Paris", "PARIS", "Site", "Corp", 1),
                ("Paris Sales", "PARIS_SALES", "Department", "Corp", 2),
            ],
        ),
        ("corp", [("Corp", "CORP", "Corporate", "Corp", 2)]),
    ],
)
def test_account_search_by_name_and_account_id(viewer_client, tree, contacts, q, rows):
    response = viewer_client.get("/accounts/", {"q": q})

    assert _search_rows(response) == rows
    count = len(rows)
    assert (
        count_line(response) == f"{count} account{'s' if count != 1 else ''} matching “{q.strip()}”"
    )
    assert attribute(element(page(response), "input", name="q"), "value") == q.strip()


def test_account_search_finds_by_account_id_alone(viewer_client, tree, contacts):
    AccountFactory(
        name="Nameless", external_id="SF-0042-xyz", account_type=tree["corp"].account_type
    )

    response = viewer_client.get("/accounts/", {"q": "sf-0042-XYZ"})

    assert _search_rows(response) == [("Nameless", "SF-0042-xyz", "Corporate", "Nameless", 0)]


def test_account_search_without_match(viewer_client, tree, contacts):
    response = viewer_client.get("/accounts/", {"q": "zzz"})

    doc = page(response)
    assert count_line(response) == "0 accounts matching “zzz”"
    empty = element(doc, "div", class_="empty")
    assert [text(p) for p in elements(empty, "p")] == ["No account matches “zzz”."]
    assert [(text(a), attribute(a, "href")) for a in elements(empty, "a")] == [
        ("Show all accounts", "/accounts/")
    ]


def test_account_search_shows_html_in_names_as_text(viewer_client, tree):
    AccountFactory(
        name="<script>alert(1)</script>",
        external_id="<b>X</b>",
        account_type=tree["corp"].account_type,
    )

    response = viewer_client.get("/accounts/", {"q": "<"})

    assert "<script>alert(1)" not in response.content.decode()
    assert _search_rows(response) == [
        ("<script>alert(1)</script>", "<b>X</b>", "Corporate", "<script>alert(1)</script>", 0)
    ]


def test_account_search_with_blank_query_shows_the_tree(viewer_client, tree, contacts):
    response = viewer_client.get("/accounts/", {"q": "   "})

    assert [row[0] for row in _tree_rows(page(response))] == ["Corp", "Other"]


# Query counts


def _grow(tree, size):
    """3·size more companies, each with 2·size children holding 2·size contacts each."""
    corporate, region = tree["corp"].account_type, tree["emea"].account_type
    for n in range(3 * size):
        company = AccountFactory(
            name=f"Grow company {n}", external_id=f"GROW-{n}", account_type=corporate
        )
        for m in range(2 * size):
            child = AccountFactory(
                name=f"Grow region {n}-{m}",
                external_id=f"GROW-{n}-{m}",
                account_type=region,
                parent=company if m % 2 == 0 else tree["corp"],
            )
            AccountFactory(
                name=f"Grow site {n}-{m}", account_type=tree["paris"].account_type, parent=child
            )
            for _ in range(2 * size):
                MembershipFactory(account=child)


# Session and staff user (2), the Global admin link (1), the staff user's permissions for the
# Integrations link (1), the page count and the page (2); a
# search adds the names of the companies on the page (1). One tree level: session and staff
# user (2), the account (1), its children (1).
@pytest.mark.parametrize(
    ("url", "queries", "rows"),
    [
        ("/accounts/", 6, lambda size: 2 + 3 * size),
        ("/accounts/?q=grow", 7, lambda size: 3 * size + 3 * size * 4 * size),
        ("/accounts/{corp}/children/", 4, lambda size: 2 + 3 * size * size),
    ],
)
@pytest.mark.parametrize("size", (1, 3))
def test_account_list_querycount_line(
    viewer_client, tree, contacts, django_assert_num_queries, size, url, queries, rows
):
    _grow(tree, size)
    url = url.format(corp=tree["corp"].pk)
    # A tree level is only ever asked for by htmx.
    headers = {"HX-Request": "true"} if "children" in url else {}

    with django_assert_num_queries(queries):
        response = viewer_client.get(url, headers=headers)

    doc = page(response)
    if "?q=" in url:
        assert count_line(response) == f"{rows(size)} accounts matching “grow”"
    else:
        assert len(_tree_rows(doc)) == rows(size)


# The account profile: breadcrumb, "In the company", child accounts


def _breadcrumb(response):
    nav = element(page(response), "nav", aria_label="Breadcrumb")
    return [
        (
            text(item),
            attribute(elements(item, "a")[0], "href") if elements(item, "a") else None,
            attribute(item, "aria-current"),
        )
        for item in elements(nav, "li")
    ]


def _neighbourhood(response):
    """(name, link or None, type, "own / all below", depth class, aria-current) of each line of
    the "In the company" drawing."""
    drawing = element(page(response), "ol", class_="neighbourhood")
    lines = []
    for item in elements(drawing, "li"):
        links = elements(item, "a")
        name = elements(item, "a") or elements(item, "strong")
        meta = element(item, "span", class_="hood-meta")
        counts = [span for span in elements(meta, "span") if attribute(span, "title")]
        lines.append(
            (
                text(name[0]),
                attribute(links[0], "href") if links else None,
                text(element(meta, "span", class_="badge")),
                text(counts[0]),
                next(c for c in attribute(item, "class").split() if c.startswith("depth-")),
                attribute(item, "aria-current"),
            )
        )
    return lines


@pytest.mark.parametrize(
    ("key", "crumbs"),
    [
        ("corp", []),
        ("emea", ["corp"]),
        ("paris_sales", ["corp", "emea", "paris"]),
        ("austin_it", ["corp", "amer", "austin"]),
        ("other_region", ["other"]),
    ],
)
def test_account_profile_breadcrumb_lists_the_ancestors_top_first(
    viewer_client, tree, contacts, key, crumbs
):
    response = viewer_client.get(tree[key].get_absolute_url())

    assert _breadcrumb(response) == [
        ("Accounts", "/accounts/", None),
        *[(tree[c].name, tree[c].get_absolute_url(), None) for c in crumbs],
        (tree[key].name, None, "page"),
    ]


def test_account_profile_header_shows_name_type_and_account_id(viewer_client, tree, contacts):
    doc = page(viewer_client.get(tree["paris_sales"].get_absolute_url()))

    head = element(doc, "div", class_="page-head")
    assert (text(element(head, "h1")), text(element(head, "p"))) == (
        "Paris Sales",
        "Department Account ID PARIS_SALES",
    )


def _line(tree, key, depth, current=False):
    account = tree[key]
    return (
        account.name,
        None if current else account.get_absolute_url(),
        account.account_type.name,
        f"{OWN_CONTACTS[key]} / {ALL_CONTACTS[key]}",
        f"depth-{depth}",
        "true" if current else None,
    )


@pytest.mark.parametrize(
    ("key", "lines"),
    [
        ("corp", [("corp", 0, True), ("emea", 1), ("amer", 1)]),
        ("emea", [("corp", 0), ("emea", 1, True), ("paris", 2), ("berlin", 2), ("amer", 1)]),
        (
            "paris",
            [("corp", 0), ("emea", 1), ("paris", 2, True), ("paris_sales", 3), ("berlin", 2)],
        ),
        ("berlin", [("corp", 0), ("emea", 1), ("paris", 2), ("berlin", 2, True)]),
        ("paris_sales", [("corp", 0), ("emea", 1), ("paris", 2), ("paris_sales", 3, True)]),
        (
            "austin",
            [("corp", 0), ("amer", 1), ("austin", 2, True), ("austin_ops", 3), ("austin_it", 3)],
        ),
        (
            "austin_it",
            [("corp", 0), ("amer", 1), ("austin", 2), ("austin_ops", 3), ("austin_it", 3, True)],
        ),
        ("other", [("other", 0, True), ("other_region", 1)]),
        ("other_region", [("other", 0), ("other_region", 1, True)]),
    ],
)
def test_account_profile_draws_ancestors_siblings_and_children_with_counts(
    viewer_client, tree, contacts, key, lines
):
    response = viewer_client.get(tree[key].get_absolute_url())

    assert _neighbourhood(response) == [_line(tree, *line) for line in lines]


@pytest.mark.parametrize(
    ("key", "summary"),
    [
        ("corp", "2 child accounts"),
        ("paris", "1 child account"),
        ("berlin", "No child accounts"),
    ],
)
def test_account_profile_says_how_many_child_accounts(viewer_client, tree, contacts, key, summary):
    doc = page(viewer_client.get(tree[key].get_absolute_url()))

    card = element(doc, "section", aria_labelledby="position-heading")
    assert text(element(card, "p", class_="hood-summary")) == summary


def test_account_profile_of_a_missing_account_is_404(viewer_client, db):
    assert viewer_client.get("/accounts/999999/").status_code == 404


def test_account_profile_shows_a_task_without_owner(viewer_client, tree):
    TaskFactory(account=tree["paris"], title="Renewal call", owner=None)

    response = viewer_client.get(tree["paris"].get_absolute_url())

    table = element(page(response), "section", aria_labelledby="tasks-heading")
    assert [text(td) for td in elements(table, "td")] == ["Renewal call", "—", "Open", "—", "—"]
