"""ContactSearch, the contacts' search table kept by database triggers (contacts migration
0020): after every kind of write to memberships, people and accounts, on SQLite and
PostgreSQL, it holds exactly one row per active contact with its person's names and its
company."""

import pytest
from django.db import connection

from accounts.models import Account
from contacts.models import ContactSearch, Membership, Person
from tests.factories import MembershipFactory, PersonFactory

pytestmark = pytest.mark.django_db


def expected_rows():
    return {
        (
            m.pk,
            m.account.tree_id,
            m.account_id,
            m.person_id,
            m.role_id,
            m.is_key_contact,
            m.person.last_name,
            m.person.first_name,
            m.person.email,
        )
        for m in Membership.objects.contacts().select_related("person", "account")
    }


def search_rows():
    return set(
        ContactSearch.objects.values_list(
            "membership_id",
            "tree_id",
            "account_id",
            "person_id",
            "role_id",
            "is_key_contact",
            "last_name",
            "first_name",
            "email",
        )
    )


def test_one_row_per_active_contact_whatever_changes(tree, roles):
    ada = MembershipFactory(account=tree["paris"], is_key_contact=True)
    MembershipFactory(account=tree["paris"], is_contact=False)
    bert = MembershipFactory(account=tree["berlin"])
    assert search_rows() == expected_rows() and len(search_rows()) == 2

    ada.role = roles["Site", "Site admin"]
    ada.is_key_contact = False
    ada.save()
    bert.status = Membership.Status.FORMER
    bert.save()
    assert search_rows() == expected_rows() and len(search_rows()) == 1

    Membership.objects.filter(is_contact=False).update(is_contact=True)
    Membership.objects.filter(pk=ada.pk).update(account=tree["austin"])
    assert search_rows() == expected_rows() and len(search_rows()) == 2

    ada.delete()
    assert search_rows() == expected_rows() and len(search_rows()) == 1


def test_a_person_renamed_is_found_by_the_new_name(tree):
    person = MembershipFactory(account=tree["paris"]).person
    MembershipFactory(account=tree["other"], person=person)
    person.last_name, person.email = "Hopper", "grace@customer.example"
    person.save()
    assert search_rows() == expected_rows()
    assert set(ContactSearch.objects.values_list("last_name", flat=True)) == {"Hopper"}
    Person.objects.filter(pk=person.pk).update(first_name="Grace")
    assert search_rows() == expected_rows()


def test_an_account_moved_to_another_company_takes_its_contacts_along(tree):
    MembershipFactory(account=tree["paris"])
    MembershipFactory(account=tree["paris_sales"])
    paris = Account.objects.get(pk=tree["paris"].pk)
    paris.parent = Account.objects.get(pk=tree["other"].pk)
    paris.save()
    assert search_rows() == expected_rows()
    assert set(ContactSearch.objects.values_list("tree_id", flat=True)) == {paris.tree_id}


def test_people_and_accounts_deleted_leave_no_rows(tree):
    MembershipFactory(account=tree["paris"])
    person = MembershipFactory(account=tree["berlin"]).person
    person.delete()
    Account.objects.get(pk=tree["paris"].pk).delete()
    assert search_rows() == expected_rows() == set()


def test_bulk_created_contacts_are_searchable(tree):
    people = PersonFactory.create_batch(4)
    Membership.objects.bulk_create(
        [Membership(person=p, account=tree["emea"], is_contact=True) for p in people]
    )
    assert search_rows() == expected_rows() and len(search_rows()) == 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE triggers are PostgreSQL's.")
def test_memberships_truncated_empty_the_search_table(tree):
    MembershipFactory(account=tree["paris"])
    with connection.cursor() as cursor:
        # As demo.reset_data does: deferred foreign-key checks still pending forbid TRUNCATE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE contacts_membership CASCADE")
    assert ContactSearch.objects.count() == 0
