"""config.lists: the page size and the sort order every list reads from its query string."""

import pytest
from django.http import QueryDict

from config.lists import PAGE_SIZES, SortOrder, page_size, paginate

COLUMNS = {"name": "Name", "email": "Email"}


@pytest.mark.parametrize(
    ("query", "size"),
    [("", 25), ("per_page=50", 50), ("per_page=100", 100), ("per_page=7", 25), ("per_page=x", 25)],
)
def test_page_size_is_one_of_the_sizes_offered_else_the_default(query, size):
    assert page_size(QueryDict(query)) == size


def test_a_page_knows_its_numbers_with_gaps_and_the_sizes_offered():
    page = paginate(QueryDict("page=20&per_page=25"), list(range(1000)))

    assert page.number == 20
    assert page.page_links == [1, "…", 18, 19, 20, 21, 22, "…", 40]
    assert page.page_sizes == PAGE_SIZES


def test_a_page_past_the_end_is_the_last():
    assert paginate(QueryDict("page=99"), list(range(30))).number == 2


def test_no_sort_is_the_default_order_and_every_header_sorts_ascending_first():
    order = SortOrder(QueryDict("q=ada&page=3"), COLUMNS)

    assert (order.key, order.descending, order.value) == (None, False, "")
    assert [(h.key, h.label, h.query, h.aria_sort) for h in order.headers().values()] == [
        ("name", "Name", "?q=ada&sort=name", ""),
        ("email", "Email", "?q=ada&sort=email", ""),
    ]


def test_the_sorted_column_says_so_and_its_header_turns_the_order_around():
    ascending = SortOrder(QueryDict("sort=name"), COLUMNS)
    descending = SortOrder(QueryDict("sort=-name"), COLUMNS)

    assert (ascending.key, ascending.descending, ascending.value) == ("name", False, "name")
    assert (descending.key, descending.descending, descending.value) == ("name", True, "-name")
    assert ascending.headers()["name"].query == "?sort=-name"
    assert ascending.headers()["name"].aria_sort == "ascending"
    assert descending.headers()["name"].query == "?sort=name"
    assert descending.headers()["name"].aria_sort == "descending"
    assert descending.headers()["email"].aria_sort == ""


@pytest.mark.parametrize("value", ["nope", "-", "--name", "person__email"])
def test_a_sort_that_is_not_a_column_is_the_default_order(value):
    assert SortOrder(QueryDict(f"sort={value}"), COLUMNS).key is None
