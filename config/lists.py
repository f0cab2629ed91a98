"""Paging and sorting of the app's lists, read from the query string, the same way everywhere.

- `paginate` pages a list at the size the person chose (`?per_page=` 25, 50 or 100), with the
  page numbers to link to; templates/includes/pagination.html draws them and the size choice.
- `CountsUpTo` pages a list too long to count every time (millions of rows): it counts up to
  a limit and says "more than" past it.
- `SortOrder` reads `?sort=name` (ascending) or `?sort=-name` (descending) among a list's
  sortable columns, and gives each column header its link and `aria-sort`;
  templates/includes/sort_header.html draws one header.
"""

from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Paginator

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 25


def page_size(params, default=DEFAULT_PAGE_SIZE):
    """The rows per page that `params` asks for, when it is one of PAGE_SIZES, else `default`."""
    try:
        size = int(params.get("per_page", ""))
    except ValueError:
        return default
    return size if size in PAGE_SIZES else default


def paginate(params, items, *, default_size=DEFAULT_PAGE_SIZE, paginator_class=Paginator):
    """The page of `items` that `params` (the query string) asks for, at its page size.

    The page carries `page_links`: the numbers to link to, with Paginator.ELLIPSIS for a gap
    ("1 … 4 5 6 … 40"), and `page_sizes`, the choice of sizes."""
    paginator = paginator_class(items, page_size(params, default_size))
    page = paginator.get_page(params.get("page"))
    page.page_links = list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    page.page_sizes = PAGE_SIZES
    return page


class CountsUpTo(Paginator):
    """A Paginator of a queryset that counts at most LIMIT rows.

    Counting two million contacts takes longer than reading a page of them: past LIMIT the
    count stops, `more_than_limit` is True, and the pages end at the LIMIT-th row (a list
    that long is narrowed by its filters, or downloaded whole, not paged through)."""

    LIMIT = 10_000
    more_than_limit = False

    @cached_property
    def count(self):
        # Without its order, the count reads the first LIMIT + 1 rows of any index and stops.
        counted = self.object_list.order_by()[: self.LIMIT + 1].count()
        self.more_than_limit = counted > self.LIMIT
        return min(counted, self.LIMIT)


@dataclass(frozen=True)
class SortHeader:
    """One column header of a sortable list: its label, the link that sorts by it (ascending,
    or descending when it is already ascending), and its `aria-sort` when the list is sorted
    by it ("ascending", "descending"; "" when it is not)."""

    key: str
    label: str
    query: str
    aria_sort: str


class SortOrder:
    """The order a list is sorted in: one of `columns` ({key: label}) and a direction, read from
    `?sort=` ("name", "-name"); anything else leaves the list in its default order (`key`
    None). Changing the order goes back to page 1 and keeps every other parameter."""

    PARAM = "sort"

    def __init__(self, params, columns):
        self.params = params
        self.columns = dict(columns)
        value = params.get(self.PARAM, "")
        key = value.removeprefix("-")
        self.key = key if key in self.columns else None
        self.descending = self.key is not None and value.startswith("-")

    @property
    def value(self):
        """The `sort` parameter for this order ("" for the default)."""
        if self.key is None:
            return ""
        return f"-{self.key}" if self.descending else self.key

    def headers(self):
        """{key: SortHeader} for every sortable column, in the order given."""
        return {key: self._header(key, label) for key, label in self.columns.items()}

    def _header(self, key, label):
        ascending_now = self.key == key and not self.descending
        query = self.params.copy()
        query.pop("page", None)
        query[self.PARAM] = f"-{key}" if ascending_now else key
        aria_sort = "" if self.key != key else ("descending" if self.descending else "ascending")
        return SortHeader(key, label, "?" + query.urlencode(), aria_sort)
