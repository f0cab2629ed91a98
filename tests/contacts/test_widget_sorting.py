"""The Contacts widget's sorting, page size, Roles chips, fallback notice and the counts that
follow a contact's change (issue 15), on test_widget.py's `tree` and `contacts`.

Every expected list is written out by hand from test_widget.py's CONTACTS (Corp's hierarchy:
eleven rows, Ada twice, at Corp and at Amer; her Corp row was made first)."""

# The fixtures `contacts` and `many_contacts` of test_widget.py are imported by name, and the
# tests take them as arguments of the same name.
# ruff: noqa: F401, F811

import pytest
from django.http import QueryDict

from contacts.widget import matching_contacts
from tests.contacts.test_widget import (
    ADA,
    AMY,
    BERT,
    CARL,
    EMIL,
    IAN,
    OLGA,
    PIERRE,
    SALLY,
    TEX,
    _get,
    _grow,
    _names,
    _results,
    _rows,
    contacts,
    many_contacts,
)
from tests.html import attribute, element, elements, page, text

SORTED = {
    "name": [AMY, BERT, CARL, EMIL, IAN, ADA, ADA, OLGA, PIERRE, SALLY, TEX],
    "-name": [TEX, SALLY, PIERRE, OLGA, ADA, ADA, IAN, EMIL, CARL, BERT, AMY],
    "email": [ADA, ADA, AMY, BERT, CARL, EMIL, IAN, OLGA, PIERRE, SALLY, TEX],
    "-email": [TEX, SALLY, PIERRE, OLGA, IAN, EMIL, CARL, BERT, AMY, ADA, ADA],
    # Champion (Corporate) before Champion (Region): same name, the role made first. No role
    # last, either way.
    "role": [CARL, AMY, IAN, SALLY, BERT, ADA, EMIL, PIERRE, TEX, ADA, OLGA],
    "-role": [PIERRE, TEX, EMIL, ADA, BERT, IAN, SALLY, AMY, CARL, ADA, OLGA],
    # Amer, Austin, Austin It, Austin Ops, Berlin, Corp, Emea, Paris, Paris Sales; by name within.
    "account": [AMY, ADA, TEX, IAN, OLGA, BERT, CARL, ADA, EMIL, PIERRE, SALLY],
    "-account": [SALLY, PIERRE, EMIL, CARL, ADA, BERT, OLGA, IAN, TEX, AMY, ADA],
    # Corporate, Department, Region, Site; by name within.
    "type": [CARL, ADA, IAN, OLGA, SALLY, AMY, EMIL, ADA, BERT, PIERRE, TEX],
    "-type": [BERT, PIERRE, TEX, AMY, EMIL, ADA, IAN, OLGA, SALLY, CARL, ADA],
}
# The other ways the widget reads its rows: a search (every match's ids, sorted), the former
# contacts included (one ordered query) and a key-contact filter that keeps everyone (none).
READS = {
    "": "",
    "search": "&q=example",
    "former": "&former=on",
}


@pytest.mark.parametrize("read", list(READS))
@pytest.mark.parametrize("sort", list(SORTED))
def test_widget_sorts_by_the_column(viewer_client, tree, contacts, sort, read):
    response = _get(viewer_client, tree["corp"], f"view=hierarchy&sort={sort}{READS[read]}")

    assert _names(response) == SORTED[sort]


@pytest.mark.parametrize("sort", list(SORTED))
def test_matching_contacts_lists_the_widget_rows_in_its_order(tree, contacts, sort):
    rows = matching_contacts(QueryDict(f"view=hierarchy&sort={sort}"), tree["corp"])

    assert [m.person.full_name for m in rows.select_related("person")] == SORTED[sort]


def test_matching_contacts_without_a_sort_is_key_contacts_first(tree, contacts, roles):
    params = QueryDict(f"view=hierarchy&role={roles['Site', 'Site admin'].pk}&q=e")
    rows = matching_contacts(params, tree["corp"]).select_related("person")

    assert [m.person.full_name for m in rows] == [PIERRE, TEX]


def test_widget_without_a_sort_keeps_key_contacts_first(viewer_client, tree, contacts):
    response = _get(viewer_client, tree["corp"], "view=hierarchy&sort=nonsense")

    assert _names(response) == [IAN, ADA, PIERRE, TEX, AMY, BERT, CARL, EMIL, ADA, OLGA, SALLY]


def _headers(response):
    """(label, aria-sort, link's sort parameter) of each sortable header."""
    result = []
    for th in elements(element(_results(response), "thead"), "th"):
        links = elements(th, "a")
        if links:
            href = attribute(links[0], "href")
            result.append(
                (text(th), attribute(th, "aria-sort"), QueryDict(href.split("?", 1)[1]).get("sort"))
            )
    return result


def test_widget_headers_say_the_order_and_link_to_the_other_one(viewer_client, tree, contacts):
    response = _get(viewer_client, tree["corp"], "view=hierarchy&sort=role")

    assert _headers(response) == [
        ("Name", None, "name"),
        ("Email", None, "email"),
        ("Role", "ascending", "-role"),
        ("Account", None, "account"),
        ("Type", None, "type"),
    ]
    response = _get(viewer_client, tree["corp"], "view=hierarchy&sort=-role")
    assert _headers(response)[2] == ("Role", "descending", "role")


def test_widget_sort_links_keep_the_filters_and_go_back_to_page_one(
    viewer_client,
    tree,
    contacts,
):
    response = _get(viewer_client, tree["corp"], "view=hierarchy&q=a&key=on&page=2&per_page=50")

    link = elements(element(_results(response), "thead"), "a", class_="sort-link")[0]
    params = QueryDict(attribute(link, "href").split("?", 1)[1])
    assert params.dict() == {
        "view": "hierarchy",
        "q": "a",
        "key": "on",
        "per_page": "50",
        "sort": "name",
    }


def _carried(response):
    """{name: value} of the inputs the list gives the filter form (form="widget-filters")."""
    return {
        attribute(node, "name"): attribute(node, "value")
        for node in elements(_results(response), "input", form="widget-filters")
    }


@pytest.mark.parametrize("htmx", [False, True])
def test_widget_filter_form_carries_the_sort_and_page_size(viewer_client, tree, contacts, htmx):
    headers = {"HX_Request": "true"} if htmx else {}
    response = _get(viewer_client, tree["corp"], "sort=-email&per_page=50&page=2", **headers)

    assert _carried(response) == {"sort": "-email", "per_page": "50"}
    if not htmx:
        form = element(page(response), "form", class_="widget-filters")
        assert attribute(form, "id") == "widget-filters"
    assert _carried(_get(viewer_client, tree["corp"])) == {}


def test_widget_sorted_pages_are_stable_across_groups(viewer_client, tree, contacts, many_contacts):
    # 30 more Department heads at Paris Sales: a page runs across the roles' groups.
    for sort in ("role", "-role", "account", "type", "-type", "name", "-email"):
        query = f"view=hierarchy&sort={sort}"
        whole = [m.pk for m in matching_contacts(QueryDict(query), tree["corp"])]
        paged = []
        for number in (1, 2):
            response = _get(viewer_client, tree["corp"], f"{query}&page={number}")
            paged += [int(row["id"].removeprefix("contact-row-")) for row in _row_ids(response)]
        assert paged == whole, sort
        assert len(whole) == 41


def _row_ids(response):
    return [
        {"id": attribute(tr, "id")} for tr in elements(element(_results(response), "tbody"), "tr")
    ]


def test_widget_page_size_and_page_numbers(viewer_client, tree, contacts, many_contacts):
    response = _get(viewer_client, tree["corp"], "view=hierarchy&sort=name&per_page=50")
    assert len(_rows(response)) == 41
    response = _get(viewer_client, tree["corp"], "view=hierarchy&sort=name&per_page=25&page=2")
    assert len(_rows(response)) == 16
    pager = element(_results(response), "nav", class_="pagination")
    numbers = [
        (
            text(a),
            attribute(a, "aria-current"),
            QueryDict(attribute(a, "href").split("?", 1)[1]).dict(),
        )
        for a in elements(pager, "a", class_="page-number")
    ]
    common = {"view": "hierarchy", "sort": "name", "per_page": "25"}
    assert numbers == [
        ("1", None, {**common, "page": "1"}),
        ("2", "page", {**common, "page": "2"}),
    ]
    size = element(_results(response), "select", name="per_page")
    assert [attribute(o, "value") for o in elements(size, "option")] == ["25", "50", "100"]


# Roles: chips, and what a filter that does not fit shows


def test_widget_chosen_roles_are_chips_that_drop_one_role(viewer_client, tree, roles, contacts):
    champion, site_admin = roles["Corporate", "Champion"], roles["Site", "Site admin"]
    response = _get(
        viewer_client,
        tree["corp"],
        f"view=hierarchy&role={champion.pk}&role={site_admin.pk}&q=e&sort=name&page=1",
    )

    chips = element(_results(response), "ul", class_="role-chips")
    assert attribute(chips, "aria-label") == "Chosen roles"
    found = [
        (attribute(a, "aria-label"), QueryDict(attribute(a, "href").split("?", 1)[1]))
        for a in elements(chips, "a")
    ]
    assert [label for label, _ in found] == [
        "Remove the role Champion (Corporate) from the filter",
        "Remove the role Site admin (Site) from the filter",
    ]
    assert found[0][1].getlist("role") == [str(site_admin.pk)]
    assert found[1][1].getlist("role") == [str(champion.pk)]
    assert {key: found[0][1].get(key) for key in ("view", "q", "sort", "page")} == {
        "view": "hierarchy",
        "q": "e",
        "sort": "name",
        "page": None,
    }
    summary = element(element(page(response), "details", class_="roles-filter"), "summary")
    assert text(summary) == "Roles (2 chosen)"


def test_widget_without_roles_has_no_chips(viewer_client, tree, contacts):
    assert not elements(_results(_get(viewer_client, tree["corp"])), "ul", class_="role-chips")


def _fallbacks(response):
    return [text(p) for p in elements(_results(response), "p", class_="widget-fallback")]


@pytest.mark.parametrize("htmx", [False, True])
def test_widget_says_above_the_list_which_view_it_shows_instead(
    viewer_client,
    tree,
    contacts,
    htmx,
):
    headers = {"HX_Request": "true"} if htmx else {}
    response = _get(viewer_client, tree["paris_sales"], "view=children", **headers)

    assert _fallbacks(response) == [
        "“children” is not a view of this account, so this shows “This account”."
    ]
    assert _names(response) == [SALLY]


def test_widget_says_above_the_list_that_a_role_is_unknown(viewer_client, tree, roles, contacts):
    site_admin = roles["Site", "Site admin"].pk
    response = _get(viewer_client, tree["other"], f"role={site_admin}")

    assert _fallbacks(response) == [
        f"“{site_admin}” is not a role in this company, so this shows every role."
    ]


def test_widget_that_fits_says_nothing_above_the_list(viewer_client, tree, contacts):
    assert _fallbacks(_get(viewer_client, tree["corp"], "view=hierarchy&sort=role")) == []


# The counts follow a contact's change


def _refresh_after_a_change(client, account, query=""):
    return _get(client, account, query, HX_Request="true", HX_Trigger="contact-results")


def test_refresh_after_a_change_brings_the_view_counts_and_the_drawing(
    standard_client,
    tree,
    contacts,
):
    from tests.factories import MembershipFactory

    MembershipFactory(account=tree["emea"])
    response = _refresh_after_a_change(standard_client, tree["emea"], "view=subtree&sort=name")
    body = response.content.decode()

    assert body.startswith('\n<div id="contact-results"') or body.lstrip().startswith(
        '<div id="contact-results"'
    )
    assert 'id="widget-view-field" hx-swap-oob="true"' in body
    assert 'id="in-the-company"' in body and 'hx-swap-oob="true"' in body
    # Emea: Emil and the new contact; with all below, Pierre, Sally and Bert too.
    assert "This account (2)" in body
    assert "This account and all children (5)" in body
    assert "<html" not in body


def test_a_filter_refresh_brings_the_list_only(standard_client, tree, contacts):
    body = _get(standard_client, tree["emea"], "q=e", HX_Request="true").content.decode()

    assert "hx-swap-oob" not in body
    assert 'id="in-the-company"' not in body


# Query counts, the same at every data size. By name or email: one query for the rows (the page
# knows the count from the View counts; the fragment counts them: one more). By role, account
# or type: the contacts counted per group (1), the groups' names in order (1), and a page's
# rows in at most three parts (the first group's, those wholly on the page, the last one's),
# where the default order reads two (key contacts, the others) and a count.
SORTED_PAGE_QUERIES = {"name": 16, "email": 16, "role": 20, "account": 20, "type": 20}
SORTED_FRAGMENT_QUERIES = {"name": 9, "email": 9, "role": 12, "account": 12, "type": 12}


@pytest.mark.parametrize("sort", list(SORTED_PAGE_QUERIES))
@pytest.mark.parametrize("size", (1, 3))
def test_widget_sorted_page_query_count(
    standard_client,
    tree,
    roles,
    contacts,
    django_assert_max_num_queries,
    size,
    sort,
):
    _grow(tree, roles, size, standard_client.staff_user)

    with django_assert_max_num_queries(SORTED_PAGE_QUERIES[sort]):
        response = _get(standard_client, tree["corp"], f"view=hierarchy&sort=-{sort}&page=2")
    # 11 + 24·size² contacts: page 2 holds 10 of 35, or 25 of 227.
    assert len(_rows(response)) == {1: 10, 3: 25}[size]


@pytest.mark.parametrize("sort", list(SORTED_FRAGMENT_QUERIES))
@pytest.mark.parametrize("size", (1, 3))
def test_widget_sorted_fragment_query_count(
    standard_client,
    tree,
    roles,
    contacts,
    django_assert_max_num_queries,
    size,
    sort,
):
    _grow(tree, roles, size, standard_client.staff_user)

    with django_assert_max_num_queries(SORTED_FRAGMENT_QUERIES[sort]):
        response = _get(
            standard_client, tree["corp"], f"view=hierarchy&sort={sort}&page=2", HX_Request="true"
        )
    assert len(_rows(response)) == {1: 10, 3: 25}[size]


@pytest.mark.parametrize("size", (1, 3))
def test_refresh_after_a_change_query_count(
    standard_client,
    tree,
    roles,
    contacts,
    django_assert_max_num_queries,
    size,
):
    _grow(tree, roles, size, standard_client.staff_user)

    with django_assert_max_num_queries(14):
        _refresh_after_a_change(standard_client, tree["corp"], "view=hierarchy")


@pytest.mark.parametrize(
    "query",
    [
        "sort=",
        "sort=-",
        "sort=--name",
        "sort=person__email",
        "sort=name&per_page=7",
        "per_page=abc&page=-1",
        "sort=role&page=99999",
    ],
)
def test_widget_order_or_size_that_does_not_fit_shows_a_page_that_does(
    viewer_client,
    tree,
    contacts,
    query,
):
    response = _get(viewer_client, tree["corp"], f"view=hierarchy&{query}")

    assert response.status_code == 200
    assert len(_names(response)) == 11
    assert _carried(response).get("per_page") in (None, "25")


def test_download_of_an_account_that_does_not_exist_is_not_found(standard_client, db):
    assert standard_client.get("/accounts/999999/contacts.csv").status_code == 404
