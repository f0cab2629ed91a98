"""How contacts are read fast: name order, person search and the widget's paging (SearchMatches,
KeyContactsFirst). contacts.models builds on them; the counts per account are in contacts.counts."""

from functools import cached_property

from django.db import models
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Concat


def name_order(prefix="", *, walk_index=True):
    """ORDER BY last name, first name, email for people (`prefix` "person__" from a membership).

    With walk_index, PostgreSQL can read people in the order of the person_name_order index and
    stop after a page. A search selects people spread over the whole alphabet (every "Lovelace"),
    and walking the index to them reads most of it: then the same order is given as expressions
    (`name || ''`) the index does not serve, and the few thousand matches are sorted instead.
    """
    fields = [f"{prefix}last_name", f"{prefix}first_name", f"{prefix}email"]
    if walk_index:
        return fields
    return [Concat(F(field), Value(""), output_field=models.CharField()) for field in fields]


def person_search_q(text, prefix=""):
    """People matching every word of `text` in first name, last name or email, ignoring case:
    "ada", "Ada Lovelace" and "ada@example" all find Ada Lovelace.

    Each word is an icontains on one column, the expression the trigram indexes of migration
    contacts 0002 are built on, so PostgreSQL answers from the indexes.
    """
    q = Q()
    for word in text.split():
        q &= (
            Q(**{f"{prefix}first_name__icontains": word})
            | Q(**{f"{prefix}last_name__icontains": word})
            | Q(**{f"{prefix}email__icontains": word})
        )
    return q


class SearchMatches:
    """The memberships a search matches, key contacts first and then by name, for a Paginator.

    A search picks people all over the alphabet, so there is no index order to walk: finding
    the matches is the work (the trigram indexes, then the contacts of the hierarchy), and
    counting them and sorting a page out of them would do it twice. One query lists the ids
    of every match in order (from the contacts index alone), the count is its length, and a
    page is one more query for the rows of 25 ids.
    """

    def __init__(self, memberships):
        self.memberships = memberships

    @cached_property
    def ids(self):
        return list(
            self.memberships.order_by(
                "-is_key_contact", *name_order("person__", walk_index=False), "pk"
            ).values_list("pk", flat=True)
        )

    def count(self):
        return len(self.ids)

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("SearchMatches supports plain slices only.")
        ids = self.ids[index]
        rows = self.memberships.order_by().in_bulk(ids)
        return [rows[pk] for pk in ids]


class KeyContactsFirst:
    """Memberships with key contacts first, then by name, sliced for a Paginator.

    One ORDER BY is_key_contact, last_name… must sort every matching row (40,000 contacts of a
    large hierarchy) before it can return the first 25. Two queries, key contacts and the
    rest, each in plain name order, let PostgreSQL walk the person name index and stop after
    a page. The first page needs no count of key contacts: fewer key contacts than the page
    holds are all of them. Later pages count them, with the total, in one query.
    """

    def __init__(self, memberships, *, count=None):
        self.memberships = memberships
        self.known_count = count

    @cached_property
    def totals(self):
        # The contacts index holds is_key_contact and the id (migration contacts 0007), so
        # PostgreSQL counts both from the index alone.
        return self.memberships.aggregate(
            all=Count("pk"), key=Count("pk", filter=Q(is_key_contact=True))
        )

    def count(self):
        if self.known_count is not None:
            return self.known_count
        return self.totals["all"]

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("KeyContactsFirst supports plain slices only.")
        start, stop = index.start or 0, index.stop if index.stop is not None else self.count()
        if start == 0:
            rows = list(self._in_order(is_key_contact=True)[:stop])
            if len(rows) < stop:
                rows += self._in_order(is_key_contact=False)[: stop - len(rows)]
            return rows
        keys = self.totals["key"]
        rows = []
        if start < keys:
            rows += self._in_order(is_key_contact=True)[start : min(stop, keys)]
        if stop > keys:
            rows += self._in_order(is_key_contact=False)[max(start - keys, 0) : stop - keys]
        return rows

    def _in_order(self, *, is_key_contact):
        return self.memberships.filter(is_key_contact=is_key_contact).in_name_order()
