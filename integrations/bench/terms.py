"""What the bench searches for, picked from the data before anything is timed: names in the
data set's real distribution rather than names typed into the code, which a realistic, skewed
data set may not have or may have a thousand times over.

From the largest company's people (everyone's, when it has none): its most common last name
(the widget's search and a People list filter), and for the type-ahead a mix of what staff
type: that common last name, a rare one, a common three-letter first-name prefix, someone's
"first last", someone's e-mail before the @, and a term that matches nobody. Each term comes
with how many people it matches over all people (what the type-ahead searches), one count
query each, so a reader sees what was searched.
"""

from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import Length, Lower, Substr

from contacts.models import Membership, Person

NOBODY = "zzqx"
# A rare last name is chosen among this many of the company's rarest (of at least RARE_LENGTH
# characters, so that it is not also inside many other names and e-mails): the one that
# matches the fewest people.
RARE_CANDIDATES = 5
RARE_LENGTH = 4
PREFIX_LENGTH = 3


@dataclass(frozen=True)
class Term:
    what: str
    text: str
    people: int  # people it matches, as the type-ahead searches

    def as_dict(self):
        return {"what": self.what, "term": self.text, "people": self.people}


@dataclass(frozen=True)
class SearchTerms:
    common_last_name: Term
    type_ahead: tuple[Term, ...]

    def as_dict(self):
        return {
            "common_last_name": self.common_last_name.as_dict(),
            "type_ahead": [term.as_dict() for term in self.type_ahead],
        }


def people_matching(text):
    return Person.objects.matching(text).count()


def pick_terms(company):
    """The bench's search terms (SearchTerms) from the people of `company`'s hierarchy, or of
    everyone when it has none. On a database with no people at all every term is NOBODY."""
    people = Person.objects.filter(
        pk__in=Membership.objects.filter(account__tree_id=company.tree_id).values("person_id")
    )
    if not people.exists():
        people = Person.objects.all()
    last_names = list(
        people.exclude(last_name="")
        .values_list("last_name")
        .annotate(count=Count("pk"))
        .order_by("-count", "last_name")
    )
    if not last_names:
        nobody = Term("a term that matches nobody", NOBODY, people_matching(NOBODY))
        return SearchTerms(nobody, (nobody,))
    common_name = last_names[0][0]
    common = Term("the most common last name", common_name, people_matching(common_name))
    type_ahead = [
        common,
        _rare_last_name(last_names, common),
        _first_name_prefix(people),
        *_someone(people, common_name),
        Term("a term that matches nobody", NOBODY, people_matching(NOBODY)),
    ]
    return SearchTerms(common, tuple(term for term in type_ahead if term is not None))


def _rare_last_name(last_names, common):
    """Among the company's rarest last names, the one that matches the fewest people."""
    rarest = sorted(
        (count, name) for name, count in last_names if len(name) >= RARE_LENGTH
    ) or sorted((count, name) for name, count in last_names)
    candidates = [
        Term("a rare last name", name, people_matching(name))
        for _, name in rarest[:RARE_CANDIDATES]
        if name != common.text
    ]
    return min(candidates, key=lambda term: (term.people, term.text), default=None)


def _first_name_prefix(people):
    """The most common first three letters of first names (what someone types first)."""
    prefix = (
        people.annotate(first_length=Length("first_name"))
        .filter(first_length__gte=PREFIX_LENGTH)
        .annotate(prefix=Lower(Substr("first_name", 1, PREFIX_LENGTH)))
        .values_list("prefix")
        .annotate(count=Count("pk"))
        .order_by("-count", "prefix")
        .values_list("prefix", flat=True)
        .first()
    )
    if prefix is None:
        return None
    return Term(
        f"a common {PREFIX_LENGTH}-letter first-name prefix", prefix, people_matching(prefix)
    )


def _someone(people, last_name):
    """Someone's "first last" (the first person with the common last name) and another
    person's e-mail before the @ (the last person by id)."""
    named = people.filter(last_name=last_name).exclude(first_name="").order_by("pk").first()
    if named is not None:
        full_name = f"{named.first_name} {named.last_name}"
        yield Term('someone\'s "first last"', full_name, people_matching(full_name))
    other = people.exclude(pk=getattr(named, "pk", None)).order_by("-pk").first()
    if other is not None:
        local_part = other.email.rpartition("@")[0] or other.email
        yield Term("an e-mail before the @", local_part, people_matching(local_part))
