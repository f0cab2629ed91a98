"""Account.contact_count, the contacts at each account kept by database triggers (contacts
migration 0019): right after every kind of write to memberships, on SQLite and PostgreSQL, and
never written back by Django."""

import pytest
from django.db import connection

from accounts.models import Account
from contacts.counts import with_contact_counts
from contacts.models import Membership
from tests.factories import MembershipFactory, PersonFactory

pytestmark = pytest.mark.django_db


def count(account):
    return Account.objects.values_list("contact_count", flat=True).get(pk=account.pk)


def counted_by_hand():
    """{account id: active contacts}, counted from the memberships themselves."""
    counts = {pk: 0 for pk in Account.objects.values_list("pk", flat=True)}
    for account_id in Membership.objects.contacts().values_list("account_id", flat=True):
        counts[account_id] += 1
    return counts


def kept_counts():
    return dict(Account.objects.values_list("pk", "contact_count"))


def test_adding_changing_and_removing_contacts_is_counted(tree):
    paris = tree["paris"]
    membership = MembershipFactory(account=paris)
    MembershipFactory(account=paris, is_contact=False)
    assert count(paris) == 1

    membership.is_contact = False
    membership.save()
    assert count(paris) == 0
    membership.is_contact = True
    membership.save()
    assert count(paris) == 1

    membership.status = Membership.Status.FORMER
    membership.save()
    assert count(paris) == 0, "a former contact is not there"
    membership.status = Membership.Status.ACTIVE
    membership.save()

    membership.account = tree["berlin"]
    membership.save()
    assert (count(paris), count(tree["berlin"])) == (0, 1)

    membership.delete()
    assert count(tree["berlin"]) == 0


def test_bulk_writes_are_counted(tree):
    people = PersonFactory.create_batch(6)
    Membership.objects.bulk_create(
        [Membership(person=person, account=tree["paris"], is_contact=True) for person in people]
        + [Membership(person=people[0], account=tree["berlin"], is_contact=False)]
    )
    assert count(tree["paris"]) == 6

    Membership.objects.filter(person__in=people[:2], account=tree["paris"]).update(is_contact=False)
    Membership.objects.filter(account=tree["berlin"]).update(is_contact=True)
    assert (count(tree["paris"]), count(tree["berlin"])) == (4, 1)

    Membership.objects.filter(person__in=people[4:]).update(account=tree["austin"])
    assert (count(tree["paris"]), count(tree["austin"])) == (2, 2)

    Membership.objects.filter(account=tree["paris"]).delete()
    assert kept_counts() == counted_by_hand()


def test_deleting_a_person_or_an_account_keeps_the_counts(tree):
    person = MembershipFactory(account=tree["paris"]).person
    MembershipFactory(account=tree["paris"], person=PersonFactory())
    MembershipFactory(account=tree["paris_sales"])
    person.delete()
    assert count(tree["paris"]) == 1
    Account.objects.get(pk=tree["paris_sales"].pk).delete()
    assert kept_counts() == counted_by_hand()


def test_saving_an_account_never_writes_back_a_count_read_earlier(tree):
    paris = Account.objects.get(pk=tree["paris"].pk)  # contact_count 0 in memory
    MembershipFactory(account=paris)
    paris.name = "Paris Office"
    paris.save()
    assert count(paris) == 1
    assert Account.objects.get(pk=paris.pk).name == "Paris Office"


def test_moving_an_account_keeps_its_count_and_moves_it_in_the_sums(tree):
    MembershipFactory(account=tree["paris"])
    MembershipFactory(account=tree["paris_sales"])
    paris = Account.objects.get(pk=tree["paris"].pk)
    paris.parent = Account.objects.get(pk=tree["amer"].pk)
    paris.save()

    sums = {a.external_id: a.all_contacts for a in with_contact_counts(Account.objects.all())}
    assert (sums["PARIS"], sums["EMEA"], sums["AMER"], sums["CORP"]) == (2, 0, 2, 2)
    assert count(paris) == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's (set DATABASE_URL)."
)
def test_memberships_written_with_copy_are_counted(tree):
    people = PersonFactory.create_batch(3)
    columns = ["person_id", "account_id", "is_contact", "is_key_contact", "status"]
    now_columns = ["created_at", "updated_at"]
    with (
        connection.cursor() as cursor,
        cursor.copy(
            f"COPY contacts_membership ({', '.join(columns + now_columns)}) FROM STDIN"
        ) as copy,
    ):
        for person, is_contact in zip(people, (True, True, False), strict=True):
            copy.write_row(
                (person.pk, tree["berlin"].pk, is_contact, False, "active", "now", "now")
            )
    assert count(tree["berlin"]) == 2
