"""Finding people who may be the same person, for the duplicates page (issue 14).

Three kinds of candidates, each found by blocking rather than by comparing every pair of
people (the bench data set has 100,000 and more):
- the same email up to letter case, dots and a plus-tag in the part before the @
  (ada.lovelace+crm@x.com and AdaLovelace@x.com): people grouped by that normalised address;
- the same name at the same company: memberships grouped by company hierarchy and name;
- similar names: on PostgreSQL, pg_trgm's `%` operator on the full name, served by the
  trigram index of migration 0015; elsewhere rapidfuzz, within blocks of people whose first
  and last names start with the same letters.
Each kind is its own list, paged by groups (or pairs), so a page costs the same few queries
at every size.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import Concat, Left, Lower, Replace, StrIndex, Substr
from rapidfuzz import fuzz, process

from accounts.models import Account

from .models import Membership, Person

PER_PAGE = 25
# Past this many people in one group only the first are paired: such a group is a data
# problem to fix at its source, not a list of merges to click through.
GROUP_LIMIT = 8
# Trigram similarity (PostgreSQL) and rapidfuzz's normalised similarity (elsewhere) from which
# two names count as similar; the two measures differ a little, each is shown as it is.
TRIGRAM_THRESHOLD = 0.6
FUZZY_THRESHOLD = 0.85
# The expression the trigram index of migration 0015 is on: they must stay the same.
FULL_NAME_SQL = 'LOWER("first_name" || \' \' || "last_name")'


class Kind:
    EMAIL = "email"
    NAME = "name"
    SIMILAR = "similar"
    CHOICES = {
        EMAIL: "Same email",
        NAME: "Same name at the same company",
        SIMILAR: "Similar names",
    }


@dataclass
class Candidate:
    first: Person
    second: Person
    why: str


def candidates(kind, *, page=1):
    """(the candidates of `kind` on page `page`, whether there is a next page). The email and
    name lists page by groups of people, the similar names by pairs."""
    offset = (page - 1) * PER_PAGE
    if kind == Kind.NAME:
        return _same_name(offset)
    if kind == Kind.SIMILAR:
        return _similar_names(offset)
    return _same_email(offset)


def with_normalised_email(people):
    """`people` annotated with `email_key`: the email in lower case, without dots or a +tag
    in the part before the @ (the same address for most mail systems)."""
    return (
        people.annotate(email_at=StrIndex(Lower("email"), Value("@")))
        .annotate(email_local=Left(Lower("email"), F("email_at") - 1))
        .annotate(email_plus=StrIndex(F("email_local"), Value("+")))
        .annotate(
            email_key=Concat(
                Replace(
                    Case(
                        When(email_plus__gt=0, then=Left(F("email_local"), F("email_plus") - 1)),
                        default=F("email_local"),
                    ),
                    Value("."),
                    Value(""),
                ),
                Value("@"),
                Substr(Lower("email"), F("email_at") + 1),
            )
        )
    )


def _same_email(offset):
    """Pairs of people whose normalised emails are the same, a page of groups at a time."""
    keys = list(
        with_normalised_email(Person.objects.all())
        .values("email_key")
        .annotate(people=Count("pk"))
        .filter(people__gt=1)
        .order_by("email_key")
        .values_list("email_key", flat=True)[offset : offset + PER_PAGE + 1]
    )
    groups = {}
    if keys:
        for person in (
            with_normalised_email(Person.objects.all())
            .filter(email_key__in=keys[:PER_PAGE])
            .order_by("email_key", "pk")
        ):
            groups.setdefault(person.email_key, []).append(person)
    why = "same email ignoring dots and plus-tags"
    found = [pair for key in keys[:PER_PAGE] for pair in _pairs(groups.get(key, []), why)]
    return found, len(keys) > PER_PAGE


def _same_name(offset):
    """Pairs of people with the same first and last name (ignoring case) with memberships
    in one company hierarchy, a page of groups at a time."""
    memberships = Membership.objects.annotate(
        first=Lower("person__first_name"),
        last=Lower("person__last_name"),
        tree=F("account__tree_id"),
    )
    groups = list(
        memberships.values("tree", "first", "last")
        .annotate(people=Count("person", distinct=True))
        .filter(people__gt=1)
        .order_by("last", "first", "tree")
        .values_list("tree", "first", "last")[offset : offset + PER_PAGE + 1]
    )
    shown = groups[:PER_PAGE]
    if not shown:
        return [], False
    match = Q()
    for tree, first, last in shown:
        match |= Q(tree=tree, first=first, last=last)
    people = {}
    for membership in (
        memberships.filter(match).select_related("person").order_by("person_id", "pk")
    ):
        group = people.setdefault((membership.tree, membership.first, membership.last), {})
        group.setdefault(membership.person_id, membership.person)
    companies = dict(
        Account.objects.filter(tree_id__in={g[0] for g in shown}, parent=None).values_list(
            "tree_id", "name"
        )
    )
    found = []
    for group in shown:
        why = f"same name at {companies.get(group[0], 'the same company')}"
        found.extend(_pairs(list(people.get(group, {}).values()), why))
    return found, len(groups) > PER_PAGE


def _pairs(people, why):
    people = people[:GROUP_LIMIT]
    return [
        Candidate(first, second, why)
        for index, first in enumerate(people)
        for second in people[index + 1 :]
    ]


def _similar_names(offset):
    if connection.vendor == "postgresql":
        pairs = _similar_on_postgresql(offset)
    else:
        pairs = _similar_with_rapidfuzz(offset)
    shown = pairs[:PER_PAGE]
    people = Person.objects.in_bulk({pk for a, b, _ in shown for pk in (a, b)})
    found = [
        Candidate(people[a], people[b], f"similar names ({score:.2f})")
        for a, b, score in shown
        if a in people and b in people
    ]
    return found, len(pairs) > PER_PAGE


def _name_sql(alias):
    """FULL_NAME_SQL for the table `alias`."""
    return f'LOWER({alias}."first_name" || \' \' || {alias}."last_name")'


def _similar_on_postgresql(offset):
    """(person pk, person pk, similarity) of the page: for each person in pk order, the later
    people whose full name is similar. Equal names are left out: the same name at the same
    company is the other list, and at two companies it is most often two people (a common
    name would fill the list otherwise). `%` (pg_trgm's default limit, 0.3) lets the trigram
    index find the candidates; the threshold then keeps the close ones."""
    a, b = _name_sql("a"), _name_sql("b")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.id, b.id, similarity({a}, {b}) AS score
            FROM contacts_person a
            JOIN contacts_person b ON {b} %% {a} AND b.id > a.id AND {b} <> {a}
            WHERE similarity({a}, {b}) >= %s
            ORDER BY a.id, b.id
            LIMIT %s OFFSET %s
            """,
            [TRIGRAM_THRESHOLD, PER_PAGE + 1, offset],
        )
        return cursor.fetchall()


def _similar_with_rapidfuzz(offset):
    """The same pairs as on PostgreSQL, by rapidfuzz within blocks of people whose first and
    last names begin with the same letters."""
    blocks = {}
    for pk, first, last in Person.objects.order_by("pk").values_list(
        "pk", "first_name", "last_name"
    ):
        name = f"{first} {last}".lower()
        blocks.setdefault((first[:1].lower(), last[:1].lower()), []).append((pk, name))
    pairs = []
    for block in blocks.values():
        if len(block) < 2:
            continue
        names = [name for _, name in block]
        for i, (pk_a, name_a) in enumerate(block):
            # One call per person compares it with the rest of its block in C.
            for _, score, j in process.extract(
                name_a,
                names[i + 1 :],
                scorer=fuzz.ratio,
                score_cutoff=FUZZY_THRESHOLD * 100,
                limit=None,
            ):
                if names[i + 1 + j] != name_a:
                    pairs.append((pk_a, block[i + 1 + j][0], score / 100))
    pairs.sort()
    return pairs[offset : offset + PER_PAGE + 1]
