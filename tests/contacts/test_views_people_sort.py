"""The People list's sorting and row links (issue 15), one module: /people/?sort=…

A click on a column's header sorts by it (ascending, then descending), the order is kept in
the URL and by everything that makes a new URL from the list (filters, column controls, page
links, the page-size choice, the downloads), and every row links to its person and account.
The expected orders are written out by hand from the `people` fixture of
test_views_people_list (eleven memberships on the `tree` of tests/conftest.py).
"""

import csv
import io
from functools import partial

import pytest

from contacts.models import Person
from tests import html
from tests.contacts import test_views_people_list
from tests.contacts.test_views_people_list import (
    ADA_BERLIN,
    ADA_CORP,
    AMY,
    BERT,
    EMIL,
    EVERYONE,
    NORA,
    OTTO,
    PEOPLE_QUERIES,
    PIERRE,
    RITA,
    SALLY,
    TEX,
    _get,
    _grow,
    _headers,
    _rows,
)
from tests.html import attribute, page, text

# The eleven memberships of the People list's tests.
people = test_views_people_list.people

element = partial(html.element, itself=False)
elements = partial(html.elements, itself=False)

NAME_ACCOUNT = "cols=name&cols=account"

SORTED = {
    "": EVERYONE,
    "name": EVERYONE,
    "-name": [TEX, SALLY, RITA, PIERRE, OTTO, NORA, ADA_BERLIN, ADA_CORP, EMIL, BERT, AMY],
    "email": [ADA_BERLIN, ADA_CORP, AMY, BERT, EMIL, NORA, OTTO, PIERRE, RITA, SALLY, TEX],
    "account": [AMY, TEX, BERT, ADA_BERLIN, ADA_CORP, NORA, EMIL, OTTO, RITA, PIERRE, SALLY],
    "-account": [SALLY, PIERRE, RITA, OTTO, EMIL, ADA_CORP, NORA, BERT, ADA_BERLIN, TEX, AMY],
    # No role sorts last, either way.
    "role": [AMY, OTTO, RITA, SALLY, BERT, ADA_CORP, EMIL, PIERRE, ADA_BERLIN, NORA, TEX],
    "-role": [PIERRE, EMIL, ADA_CORP, BERT, SALLY, AMY, OTTO, RITA, ADA_BERLIN, NORA, TEX],
    "account_type": [ADA_CORP, NORA, OTTO, SALLY, AMY, EMIL, RITA, BERT, ADA_BERLIN, PIERRE, TEX],
    # Among equals (all "Site"), the default order, even when descending.
    "-account_type": [BERT, ADA_BERLIN, PIERRE, TEX, AMY, EMIL, RITA, SALLY, ADA_CORP, NORA, OTTO],
}


def _table(response):
    return element(page(response), "table", class_="people-table")


def _header_cells(response):
    """{header text: (aria-sort, the sort link's href)} of the sortable columns."""
    return {
        text(th): (attribute(th, "aria-sort"), attribute(element(th, "a"), "href"))
        for th in elements(element(_table(response), "thead"), "th")
        if attribute(th, "class") != "row-links"
    }


@pytest.mark.parametrize("sort", list(SORTED))
def test_people_sorted_by_a_column_lists_these_rows(viewer_client, people, sort):
    response = _get(viewer_client, f"{NAME_ACCOUNT}&sort={sort}")

    assert _rows(response) == SORTED[sort]


@pytest.mark.parametrize("sort", ["password", "--name", "-", "name;drop", "Name", "pk"])
def test_people_unknown_sort_keeps_the_default_order_without_error(viewer_client, people, sort):
    response = _get(viewer_client, f"{NAME_ACCOUNT}&sort={sort}")

    assert _rows(response) == EVERYONE
    assert all(aria is None for aria, _href in _header_cells(response).values())


def test_people_headers_link_to_their_sort_with_aria_sort_on_the_sorted_one(viewer_client, people):
    unsorted = _header_cells(_get(viewer_client, "cols=name&cols=email&cols=role"))
    assert unsorted == {
        "Name": (None, "/people/?cols=name&cols=email&cols=role&sort=name"),
        "Email": (None, "/people/?cols=name&cols=email&cols=role&sort=email"),
        "Account Role": (None, "/people/?cols=name&cols=email&cols=role&sort=role"),
    }

    ascending = _header_cells(_get(viewer_client, "cols=name&cols=email&cols=role&sort=email"))
    assert ascending["Email"] == (
        "ascending",
        "/people/?cols=name&cols=email&cols=role&sort=-email",
    )
    assert ascending["Name"] == (None, "/people/?cols=name&cols=email&cols=role&sort=name")

    descending = _header_cells(_get(viewer_client, "cols=name&cols=email&cols=role&sort=-email"))
    assert descending["Email"] == (
        "descending",
        "/people/?cols=name&cols=email&cols=role&sort=email",
    )


def test_people_sort_link_goes_back_to_page_one_and_keeps_the_filters(viewer_client, people):
    cells = _header_cells(_get(viewer_client, "contact=yes&q=a&page=2&sort=name"))

    assert cells["Name"][1] == "/people/?contact=yes&q=a&sort=-name"


def test_people_filters_form_keeps_the_sort(viewer_client, people):
    form = element(page(_get(viewer_client, "sort=-role")), "form", class_="people-filters")

    assert [attribute(i, "value") for i in elements(form, "input", name="sort")] == ["-role"]
    unsorted = element(page(_get(viewer_client)), "form", class_="people-filters")
    assert elements(unsorted, "input", name="sort") == []


def test_people_column_controls_keep_the_sort(viewer_client, people):
    doc = page(_get(viewer_client, "cols=name&cols=email&sort=-email"))

    chips = element(doc, "ol", class_="column-chips")
    hrefs = [attribute(a, "href") for a in elements(chips, "a")]
    added = [
        attribute(a, "href") for a in elements(element(doc, "details", class_="add-column"), "a")
    ]
    assert hrefs and added
    assert all("sort=-email" in href for href in hrefs + added)


def test_people_downloads_keep_the_sort_and_list_in_its_order(standard_client, people):
    doc = page(_get(standard_client, f"{NAME_ACCOUNT}&sort=-account"))
    links = [attribute(a, "href") for a in elements(doc, "a") if text(a).startswith("Download ")]
    assert links == [
        "/people/download.csv?cols=name&cols=account&sort=-account",
        "/people/download.xlsx?cols=name&cols=account&sort=-account",
    ]

    response = standard_client.get(links[0])
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows == [["Name", "Account"], *SORTED["-account"]]


def test_people_pages_and_page_size_keep_the_sort(viewer_client, tree):
    from tests.factories import MembershipFactory, PersonFactory

    for n in range(60):
        MembershipFactory(
            account=tree["berlin"],
            person=PersonFactory(first_name="Page", last_name=f"P{n:03d}", email=f"p{n:03d}@x.ex"),
        )
    response = _get(viewer_client, "cols=name&sort=-name")

    assert _rows(response)[:2] == [["Page P059"], ["Page P058"]]
    doc = page(response)
    nav = element(doc, "nav", class_="pagination")
    next_link = attribute(element(nav, "a", rel="next"), "href")
    assert next_link == "/people/?cols=name&sort=-name&page=2"
    size_form = element(doc, "form", class_="page-size")
    hidden = elements(size_form, "input")
    assert [(attribute(i, "name"), attribute(i, "value")) for i in hidden] == [
        ("cols", "name"),
        ("sort", "-name"),
    ]
    second = _get(viewer_client, "cols=name&sort=-name&page=2")
    assert _rows(second) == [[f"Page P{n:03d}"] for n in range(9, -1, -1)]


def test_people_rows_link_to_person_and_account_whatever_the_columns(viewer_client, people, tree):
    pierre = Person.objects.get(email="pierre@paris.example")

    def links(query):
        (row,) = elements(element(_table(_get(viewer_client, query)), "tbody"), "tr")
        return [(text(a), attribute(a, "href")) for a in elements(row, "a")]

    person_link = ("Pierre Paquet", f"/people/{pierre.pk}/")
    account_link = ("Paris", f"/accounts/{tree['paris'].pk}/")
    assert links("q=pierre&cols=email") == [person_link, account_link]
    assert links("q=pierre&cols=email&cols=account") == [account_link, person_link]
    assert links("q=pierre&cols=name&cols=phone") == [person_link, account_link]
    assert links("q=pierre&cols=account&cols=name") == [account_link, person_link]
    # The extra cell only when needed: no header of its own otherwise.
    assert _headers(_get(viewer_client, "q=pierre&cols=name&cols=account")) == ["Name", "Account"]
    doc = page(_get(viewer_client, "q=pierre&cols=email"))
    assert [text(th) for th in elements(element(doc, "thead"), "th")] == ["Email", "Open"]


@pytest.mark.parametrize("sort", ["name", "-role", "account", "-account_type", "-end_date"])
@pytest.mark.parametrize("size", (1, 3))
def test_people_sorted_list_querycount_line(
    standard_client, tree, people, django_assert_num_queries, size, sort
):
    _grow(tree, size)

    with django_assert_num_queries(PEOPLE_QUERIES[""]):
        response = _get(standard_client, f"sort={sort}")

    assert len(_rows(response)) == min(11 + 12 * size**2, 50)


def test_people_page_size_choice_and_page_numbers_come_with_the_sort(viewer_client, tree):
    from tests.factories import MembershipFactory, PersonFactory

    for n in range(60):
        MembershipFactory(
            account=tree["berlin"],
            person=PersonFactory(first_name="Page", last_name=f"P{n:03d}", email=f"p{n:03d}@x.ex"),
        )

    response = _get(viewer_client, "cols=name&sort=-name&per_page=25")

    assert _rows(response)[0] == ["Page P059"]
    assert len(_rows(response)) == 25
    nav = element(page(response), "nav", class_="pagination")
    numbers = [(text(a), attribute(a, "href")) for a in elements(nav, "a", class_="page-number")]
    assert numbers == [
        ("1", "/people/?cols=name&sort=-name&per_page=25&page=1"),
        ("2", "/people/?cols=name&sort=-name&per_page=25&page=2"),
        ("3", "/people/?cols=name&sort=-name&per_page=25&page=3"),
    ]
    third = _get(viewer_client, "cols=name&sort=-name&per_page=25&page=3")
    assert _rows(third) == [[f"Page P{n:03d}"] for n in range(9, -1, -1)]


@pytest.mark.django_db
def test_people_sorted_by_email_ignore_case(viewer_client, tree):
    from tests.factories import MembershipFactory, PersonFactory

    for email in ("bea@customer.example", "Abe@customer.example", "cy@customer.example"):
        MembershipFactory(account=tree["paris"], person=PersonFactory(email=email))

    def emails(query):
        return [row[0] for row in _rows(_get(viewer_client, f"cols=email&{query}"))]

    assert emails("sort=email") == [
        "Abe@customer.example",
        "bea@customer.example",
        "cy@customer.example",
    ]
    assert emails("sort=-email") == [
        "cy@customer.example",
        "bea@customer.example",
        "Abe@customer.example",
    ]
