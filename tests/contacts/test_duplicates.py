"""Finding duplicates (contacts.duplicates and /people/duplicates/): the same email up to case,
dots and plus-tags; the same name at one company; similar names (pg_trgm on PostgreSQL,
rapidfuzz elsewhere, both run by CI); paging and the page's query count."""

import pytest
from django.db import connection

from contacts import duplicates
from contacts.duplicates import Kind, candidates
from tests.factories import MembershipFactory, PersonFactory
from tests.html import attribute, element, elements, page, text


def pairs(kind, page=1):
    found, _ = candidates(kind, page=page)
    return [(c.first.email, c.second.email, c.why) for c in found]


def test_same_email_ignoring_case_dots_and_plus_tags(db):
    PersonFactory(email="ada.lovelace+crm@x.com", first_name="Ada", last_name="Lovelace")
    PersonFactory(email="AdaLovelace@X.com", first_name="Augusta", last_name="King")
    PersonFactory(email="ada.lovelace@y.com")  # another domain
    PersonFactory(email="ada@x.com")
    assert pairs(Kind.EMAIL) == [
        ("ada.lovelace+crm@x.com", "AdaLovelace@X.com", "same email ignoring dots and plus-tags")
    ]


def test_same_name_at_the_same_company(tree):
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@a.example")
    twin = PersonFactory(first_name="ada", last_name="LOVELACE", email="ada@b.example")
    elsewhere = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@c.example")
    MembershipFactory(person=ada, account=tree["paris"])
    MembershipFactory(person=ada, account=tree["berlin"])
    MembershipFactory(person=twin, account=tree["austin"])
    MembershipFactory(person=elsewhere, account=tree["other"])
    assert pairs(Kind.NAME) == [("ada@a.example", "ada@b.example", "same name at Corp")]


def test_similar_names(db):
    PersonFactory(first_name="Grace", last_name="Hopper", email="grace@a.example")
    PersonFactory(first_name="Grace", last_name="Hoper", email="grace@b.example")
    PersonFactory(first_name="Grace", last_name="Hopper", email="grace@c.example")  # equal
    PersonFactory(first_name="Alan", last_name="Turing", email="alan@a.example")
    found = pairs(Kind.SIMILAR)
    assert [(a, b) for a, b, _ in found] == [
        ("grace@a.example", "grace@b.example"),
        ("grace@b.example", "grace@c.example"),
    ]
    # Each measure as it is: pg_trgm's similarity, or rapidfuzz's normalised ratio.
    score = "0.79" if connection.vendor == "postgresql" else "0.96"
    assert {why for _, _, why in found} == {f"similar names ({score})"}


@pytest.mark.parametrize("kind", [Kind.EMAIL, Kind.SIMILAR])
def test_candidates_page_on(db, monkeypatch, kind):
    monkeypatch.setattr(duplicates, "PER_PAGE", 2)
    for n, (first, last, typo) in enumerate(
        [
            ("Grace", "Hopper", "Hoper"),
            ("Alan", "Turing", "Turin"),
            ("Edsger", "Dijkstra", "Dijkstr"),
        ]
    ):
        PersonFactory(first_name=first, last_name=last, email=f"a.b{n}@x.example")
        PersonFactory(first_name=first, last_name=typo, email=f"ab{n}@x.example")
    first, more = candidates(kind, page=1)
    second, more_after = candidates(kind, page=2)
    assert (len(first), more, len(second), more_after) == (2, True, 1, False)
    seen = {(c.first.pk, c.second.pk) for c in first + second}
    assert len(seen) == 3


def test_duplicates_page_lists_candidates_with_why_and_merge(advanced_client, db):
    ada = PersonFactory(email="ada.lovelace+crm@x.com", first_name="Ada", last_name="Lovelace")
    twin = PersonFactory(email="adalovelace@x.com", first_name="Ada", last_name="King")
    doc = page(advanced_client.get("/people/duplicates/"))
    (row,) = [tr for tr in elements(doc, "tr") if elements(tr, "td")]
    cells = [text(td) for td in elements(row, "td")]
    assert cells[:3] == [
        "Ada Lovelace ada.lovelace+crm@x.com",
        "Ada King adalovelace@x.com",
        "Same email ignoring dots and plus-tags",
    ]
    merge = element(row, "a", class_="button")
    assert (text(merge), attribute(merge, "href")) == (
        "Merge…",
        f"/people/{ada.pk}/merge/{twin.pk}/",
    )


def test_duplicates_page_forbidden_to_standard_staff(standard_client):
    assert standard_client.get("/people/duplicates/").status_code == 403


def test_duplicates_page_reads_a_bad_kind_and_page_as_the_first(advanced_client, db):
    doc = page(advanced_client.get("/people/duplicates/?kind=%3Cx%3E&page=-3"))
    current = element(doc, "a", aria_current="page", class_="button")
    assert text(current) == "Same email"
    assert "No possible duplicates of this kind." in text(doc)


# Session and staff user (2), permissions (1), Global-admin check of the navigation (1), then
# each kind's own: the groups and their people (email: 2), and the company names (name: 3),
# or the pairs and their people (similar: 2).
@pytest.mark.parametrize("size", (1, 3))
@pytest.mark.parametrize(("kind", "queries"), [("email", 6), ("name", 7), ("similar", 6)])
def test_duplicates_page_query_count(
    advanced_client, tree, django_assert_num_queries, size, kind, queries
):
    for n in range(size):
        for email in (f"a.b{n}@x.example", f"ab{n}+t@x.example"):
            person = PersonFactory(first_name=f"Ann{n}", last_name="Bell", email=email)
            MembershipFactory(person=person, account=tree["paris"])
        PersonFactory(first_name=f"Ann{n}", last_name="Belle", email=f"other{n}@y.example")
    with django_assert_num_queries(queries):
        doc = page(advanced_client.get(f"/people/duplicates/?kind={kind}"))
    assert len([tr for tr in elements(doc, "tr") if elements(tr, "td")]) >= size
