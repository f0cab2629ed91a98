"""The person page's Timeline (issue 14): per account, newest first, from the contact history
and the memberships' start and end dates, with no query of its own."""

import datetime

import pytest
from django.utils import timezone

from contacts import services
from contacts.models import ContactChange

# The person page's pinned count: the timeline adds none.
from tests.contacts.test_views_people import PERSON_PAGE_QUERIES
from tests.factories import ContactChangeFactory, MembershipFactory, PersonFactory
from tests.html import element, elements, page, text


def at(day, hour=9):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def ada(tree, roles, staff_user):
    """Ada at Paris since 2021-03-01: a contact (import), key contact (app), then left on
    2026-05-31 (app, by Stella). And at Berlin, a contact there still."""
    person = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    paris = MembershipFactory(
        person=person,
        account=tree["paris"],
        role=roles["Site", "Site admin"],
        is_contact=True,
        is_key_contact=True,
        start_date=datetime.date(2021, 3, 1),
    )
    for when, field, old, new, source, by in (
        (datetime.date(2021, 3, 2), "contact", "no", "yes", "import", None),
        (datetime.date(2024, 2, 10), "key_contact", "no", "yes", "import", None),
    ):
        ContactChangeFactory(
            membership=paris,
            field=field,
            old_value=old,
            new_value=new,
            source=source,
            staff_user=by,
            changed_at=at(when),
        )
    services.leave_account(membership=paris, end_date=datetime.date(2026, 5, 31), by=staff_user)
    berlin = MembershipFactory(person=person, account=tree["berlin"], is_contact=True)
    ContactChangeFactory(
        membership=berlin,
        field=ContactChange.Field.CONTACT,
        old_value="no",
        new_value="yes",
        source="admin",
        changed_at=at(datetime.date(2025, 1, 5)),
    )
    return person


def _timeline(response):
    section = element(page(response), "section", aria_labelledby="timeline-heading")
    return [
        (text(heading), [text(item) for item in elements(timeline, "li")])
        for heading, timeline in zip(elements(section, "h3"), elements(section, "ul"), strict=True)
    ]


def test_person_page_shows_each_account_over_time_newest_first(
    viewer_client, ada, django_assert_num_queries
):
    with django_assert_num_queries(PERSON_PAGE_QUERIES):
        response = viewer_client.get(f"/people/{ada.pk}/")

    assert _timeline(response) == [
        (
            "Paris Former",
            [
                "2026-05-31 left (app, by stella)",
                "2024-02-10 became key contact (import)",
                "2021-03-02 became a contact (import)",
                "2021-03-01 joined",
            ],
        ),
        ("Berlin", ["2025-01-05 became a contact (admin)"]),
    ]
    accounts = element(page(response), "section", aria_labelledby="memberships-heading")
    assert [
        text(cells[-1]) for cells in (elements(r, "td") for r in elements(accounts, "tr")[1:])
    ] == [
        "Former · left 2026-05-31 since 2021-03-01",
        "Active",
    ]


def test_a_person_with_no_history_has_an_empty_timeline(viewer_client, tree):
    person = PersonFactory()

    response = viewer_client.get(f"/people/{person.pk}/")

    section = element(page(response), "section", aria_labelledby="timeline-heading")
    assert text(element(section, "p")) == "Nothing recorded yet."
