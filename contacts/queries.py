"""How contacts are read fast: name order, person search and the widget's paging (SearchMatches,
PagedByIds, KeyContactsFirst, and for a list sorted by a column, column_order and
GroupsInNameOrder). contacts.models builds on them; the counts per account are in
contacts.counts."""

from functools import cached_property

from django.db import connections, models
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import Concat, Lower


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


def found_through_indexes(rows):
    """The rows of `rows` (a search wanting a few of its matches, unordered: a type-ahead), read
    with PostgreSQL's sequential scans off.

    The planner cannot tell how many people '%zzqx%' matches and guesses many, so it reads the
    table from the start expecting ten matches soon: for a term that matches nobody that is
    every row (4 s among SPEC §7's 5 million people). The trigram indexes find the matches of
    any term directly. Two more queries: the setting, and its reset (whether or not in a
    transaction, so the same in every request)."""
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        return list(rows)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            return list(rows)
        finally:
            cursor.execute("RESET enable_seqscan")


class SearchMatches:
    """The memberships a search matches, key contacts first and then by name, for a Paginator.

    A search picks people all over the alphabet, so there is no index order to walk: finding
    the matches is the work (the trigram indexes, then the contacts of the hierarchy), and
    counting them and sorting a page out of them would do it twice. One query lists the ids
    of every match in order (from the contacts index alone), the count is its length, and a
    page is one more query for the rows of 25 ids.
    """

    def __init__(self, memberships, *, order=None, found=None):
        self.memberships = memberships
        # A column's order (column_order) instead of key contacts first.
        self.order = order or ["-is_key_contact", *name_order("person__", walk_index=False), "pk"]
        # The ids of the matches in order, when another query finds them (the contacts'
        # search table: contacts.widget).
        self.found = found

    @cached_property
    def ids(self):
        if self.found is not None:
            return list(self.found)
        return list(self.memberships.order_by(*self.order).values_list("pk", flat=True))

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


class PagedByIds:
    """Memberships whose order is that of `ids` (an ordered query of their ids, read from an
    index alone), sliced for a Paginator: a page is its slice of the ids, then the rows of
    those ids. `count`, when the caller knows it already, spares the count query."""

    def __init__(self, memberships, ids, *, count=None):
        self.memberships = memberships
        self.ids = ids
        self.known_count = count

    def count(self):
        return self.ids.count() if self.known_count is None else self.known_count

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("PagedByIds supports plain slices only.")
        ids = list(self.ids[index])
        rows = self.memberships.order_by().in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]


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


# A list sorted by a column (the widget's ?sort=): the column, then the name, then the id, so
# rows that tie keep one order and paging never shows a row twice or skips one. Role, account and
# type sort by their name and then their id (two Corporate accounts may share a name); a contact
# without a role comes last, whichever way the column sorts.
GROUP_COLUMNS = {
    "role": ("role__name", "role"),
    "account": ("account__name", "account"),
    "type": ("account__account_type__name", "account__account_type"),
}


def column_order(key, *, descending=False, walk_index=True):
    """ORDER BY for memberships sorted by the column `key` (name, email, role, account, type).

    Descending reverses the column only: within one role (account, type) the names still read
    A to Z. The name and email columns reverse their tie-break too, so PostgreSQL walks their
    index backwards."""
    names = name_order("person__", walk_index=walk_index)
    if key == "name":
        if not descending:
            return [*names, "pk"]
        return [(F(f) if isinstance(f, str) else f).desc() for f in names] + ["-pk"]
    if key == "email":
        # Lower(email): the expression of the unique index of people's email (any case), which
        # PostgreSQL walks, forwards or backwards, and stops after a page.
        email = Lower("person__email")
        return [email.desc(), "-pk"] if descending else [email, "pk"]
    direction = "desc" if descending else "asc"
    return [
        *(getattr(F(field), direction)(nulls_last=True) for field in GROUP_COLUMNS[key]),
        *names,
        "pk",
    ]


class Counted:
    """An ordered queryset for a Paginator, with its count when the caller knows it already."""

    def __init__(self, rows, *, count=None):
        self.rows = rows
        self.known_count = count

    def count(self):
        return self.rows.count() if self.known_count is None else self.known_count

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        return self.rows[index]


class GroupsInNameOrder:
    """Memberships sorted by a column of few values (role, account, type), then by name, sliced
    for a Paginator: the order of column_order, without sorting the whole list.

    ORDER BY role name, last name… must sort every contact of a large hierarchy (40,000) before
    it returns 25. The contacts are counted per role (per account) instead, from the contacts
    index alone, and the groups put in order (`arrange`, one small query); a page is then one
    query: within one group, PostgreSQL walks the person name index and stops after a page (as
    KeyContactsFirst does); a page across groups reads the part of each it shows.

    `field` is what the contacts are counted by ("role" or "account"); `arrange({value: n})`
    returns the groups in order, [(values, n)], a group being one or more values of `field` (a
    type: its accounts)."""

    # A group of up to this many contacts is sorted; a larger one walked in name order.
    SORT_UP_TO = 2000

    def __init__(self, memberships, *, field, arrange):
        self.memberships = memberships
        self.field = field
        self.arrange = arrange

    @cached_property
    def groups(self):
        counts = dict(self.memberships.order_by().values_list(self.field).annotate(n=Count("pk")))
        return self.arrange(counts) if counts else []

    def count(self):
        return sum(n for _, n in self.groups)

    def __len__(self):
        return self.count()

    def _in_group(self, values):
        q = Q(**{f"{self.field}__in": [value for value in values if value is not None]})
        if None in values:
            q |= Q(**{f"{self.field}__isnull": True})
        return q

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("GroupsInNameOrder supports plain slices only.")
        start, stop = index.start or 0, index.stop if index.stop is not None else self.count()
        # The groups the slice spans, each with the part of it taken: (values, from, to).
        spanned, position = [], 0
        for values, n in self.groups:
            if position + n > start and position < stop:
                spanned.append((values, n, max(start - position, 0), min(stop - position, n)))
            position += n
        if not spanned:
            return []
        # At most three queries: the first group's part and the last one's, each an index walk
        # however large the group (a role of 20,000 contacts); the groups between them are
        # wholly on the page, so small, and sorted together.
        first, *between, last = spanned if len(spanned) > 1 else (*spanned, None)
        rows = self._part(first)
        if between:
            q = Q()
            for values, *_ in between:
                q |= self._in_group(values)
            group_position = Case(
                *(When(self._in_group(values), then=i) for i, (values, *_) in enumerate(between)),
                output_field=IntegerField(),
            )
            rows += self.memberships.filter(q).order_by(
                group_position, *name_order("person__", walk_index=False), "pk"
            )
        if last is not None:
            rows += self._part(last)
        return rows

    def _part(self, spanned):
        """The rows of one group from `taken_from` to `taken_to`, in name order. A large group
        walks the name index and stops; a small one (3 Corporate champions among 40,000
        contacts) would be found only late in that walk, so its rows are sorted instead."""
        values, n, taken_from, taken_to = spanned
        order = name_order("person__", walk_index=n > self.SORT_UP_TO)
        return list(
            self.memberships.filter(self._in_group(values)).order_by(*order, "pk")[
                taken_from:taken_to
            ]
        )
