"""Forgetting a person reaches the Django admin's log: the entries of the person and their
memberships, and the change messages of the pages that edit memberships inline (an account's,
a person's), which name each membership as "Ada Lovelace at Paris"."""

import json

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry

from accounts.models import Account
from contacts.privacy import forget_person
from tests.factories import MembershipFactory, PersonFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def _log(by, obj, change_message, action_flag=CHANGE):
    """An entry as the admin writes it (a list is stored as JSON, non-ASCII escaped)."""
    (entry,) = LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=type(obj).objects.filter(pk=obj.pk),
        action_flag=action_flag,
        change_message=change_message,
        single_object=False,
    )
    return entry


@pytest.fixture
def ada(tree):
    person = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@customer.example")
    MembershipFactory(person=person, account=tree["paris"])
    return person


def test_an_inline_edit_of_an_account_no_longer_names_the_person(ada, tree):
    owner = StaffUserFactory()
    paris = Account.objects.get(pk=tree["paris"].pk)
    grace = MembershipFactory(
        person=PersonFactory(first_name="Grace", last_name="Hopper"), account=paris
    )
    entry = _log(
        owner,
        paris,
        [
            {"changed": {"fields": ["Name"]}},
            {"added": {"name": "membership", "object": f"Ada Lovelace at {paris.name}"}},
            {
                "changed": {
                    "name": "membership",
                    "object": str(grace),
                    "fields": ["Role"],
                }
            },
        ],
    )
    placeholder = f"Forgotten person #{ada.pk}"

    record = forget_person(person=ada, by=owner)

    entry.refresh_from_db()
    assert json.loads(entry.change_message) == [
        {"changed": {"fields": ["Name"]}},
        {"added": {"name": "membership", "object": f"{placeholder} at {paris.name}"}},
        {"changed": {"name": "membership", "object": str(grace), "fields": ["Role"]}},
    ]
    assert entry.get_change_message() == (
        f"Changed Name. Added membership “{placeholder} at {paris.name}”. "
        f"Changed Role for membership “{grace}”."
    )
    assert entry.object_repr == str(paris)
    assert record.removed["admin log entries rewritten"] == 1


def test_a_name_with_accents_is_found_as_json_stores_it(tree):
    zoe = PersonFactory(first_name="Zoë", last_name="Ørsted", email="zoe@customer.example")
    MembershipFactory(person=zoe, account=tree["paris"])
    owner = StaffUserFactory()
    paris = Account.objects.get(pk=tree["paris"].pk)
    entry = _log(
        owner, paris, [{"deleted": {"name": "membership", "object": "ZOË ØRSTED at Paris"}}]
    )
    assert "\\u00cb" in entry.change_message  # as the admin stores it

    forget_person(person=zoe, by=owner)

    entry.refresh_from_db()
    assert json.loads(entry.change_message) == [
        {"deleted": {"name": "membership", "object": f"Forgotten person #{zoe.pk} at Paris"}}
    ]


def test_a_plain_text_message_and_the_persons_own_entries_are_scrubbed(ada):
    owner = StaffUserFactory()
    membership = ada.memberships.get()
    own = _log(owner, ada, "Added from a call with ada@customer.example.", ADDITION)
    of_membership = _log(owner, membership, [{"changed": {"fields": ["Key contact"]}}])
    placeholder = f"Forgotten person #{ada.pk}"

    forget_person(person=ada, by=owner)

    own.refresh_from_db()
    of_membership.refresh_from_db()
    assert (own.object_repr, own.change_message) == (
        placeholder,
        f"Added from a call with {placeholder}.",
    )
    assert of_membership.object_repr == f"{placeholder} at Paris"
    assert of_membership.change_message == '[{"changed": {"fields": ["Key contact"]}}]'


def test_entries_that_do_not_name_the_person_are_left_as_they_were(ada, tree):
    owner = StaffUserFactory()
    paris = Account.objects.get(pk=tree["paris"].pk)
    message = [{"added": {"name": "membership", "object": "Ada Byron at Paris"}}]
    entry = _log(owner, paris, message)
    stored = entry.change_message

    record = forget_person(person=ada, by=owner)

    entry.refresh_from_db()
    assert entry.change_message == stored
    assert record.removed["admin log entries rewritten"] == 0
