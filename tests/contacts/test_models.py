"""Rules of people and memberships that the database itself enforces, and the contact history."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contacts.models import ContactChange, Membership, Person
from contacts.services import record_contact_changes, tracked_values
from tests import stored
from tests.factories import (
    AccountFactory,
    AccountTypeFactory,
    MembershipFactory,
    PersonFactory,
    StaffUserFactory,
)

# Person


@pytest.mark.parametrize(
    ("existing", "new"),
    [("ada@x.example", "Ada@X.example"), ("Ada@X.example", "ada@x.example")],
)
def test_person_email_is_unique_ignoring_case(db, existing, new):
    ada = PersonFactory(email=existing)

    with pytest.raises(IntegrityError), transaction.atomic():
        PersonFactory(email=new)

    assert list(Person.objects.values_list("pk", "email")) == [(ada.pk, existing)]


def test_person_with_same_email_in_other_case_fails_full_clean(db):
    PersonFactory(email="ada@x.example")

    with pytest.raises(ValidationError) as caught:
        Person(email="Ada@X.example", first_name="Ada", last_name="Lovelace").full_clean()

    assert caught.value.message_dict == {"__all__": ["A person with this email already exists."]}


def test_person_with_email_finds_her_ignoring_case_and_spaces(db):
    ada = PersonFactory(email="ada@x.example")
    PersonFactory(email="ada@x.example.org")
    PersonFactory(email="bada@x.example")

    assert list(Person.objects.with_email(" ADA@x.example ")) == [ada]
    assert list(Person.objects.with_email("nobody@x.example")) == []


def test_person_with_email_finds_mixed_case_stored_email(db):
    ada = PersonFactory(email="Ada.Lovelace@X.example")

    assert list(Person.objects.with_email("ada.lovelace@x.EXAMPLE")) == [ada]


# Membership


def test_one_membership_per_person_and_account(tree):
    ada = PersonFactory()
    MembershipFactory(person=ada, account=tree["paris"])

    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(person=ada, account=tree["paris"], is_contact=False)

    assert list(Membership.objects.values_list("person", "account", "is_contact")) == [
        (ada.pk, tree["paris"].pk, True)
    ]


def test_same_person_may_be_member_of_several_accounts(tree):
    ada = PersonFactory()
    MembershipFactory(person=ada, account=tree["paris"])
    MembershipFactory(person=ada, account=tree["emea"])
    MembershipFactory(person=ada, account=tree["other"])

    assert set(Membership.objects.filter(person=ada).values_list("account", flat=True)) == {
        tree["paris"].pk,
        tree["emea"].pk,
        tree["other"].pk,
    }


def test_second_membership_fails_full_clean(tree):
    ada = PersonFactory()
    MembershipFactory(person=ada, account=tree["paris"])

    with pytest.raises(ValidationError) as caught:
        Membership(person=ada, account=tree["paris"]).full_clean()

    assert caught.value.message_dict == {
        "__all__": ["This person is already a member of this account."]
    }


def test_key_contact_that_is_not_a_contact_is_refused_by_the_database(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(account=tree["paris"], is_contact=False, is_key_contact=True)

    assert Membership.objects.count() == 0


def test_clearing_the_contact_flag_of_a_key_contact_is_refused_by_the_database(tree):
    membership = MembershipFactory(account=tree["paris"], is_contact=True, is_key_contact=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(is_contact=False)

    assert list(Membership.objects.values_list("is_contact", "is_key_contact")) == [(True, True)]


def test_key_contact_that_is_not_a_contact_fails_full_clean(tree):
    membership = Membership(
        person=PersonFactory(), account=tree["paris"], is_contact=False, is_key_contact=True
    )

    with pytest.raises(ValidationError) as caught:
        membership.full_clean()

    assert caught.value.message_dict == {"__all__": ["A key contact must also be a contact."]}


@pytest.mark.parametrize(
    ("is_contact", "is_key_contact"), [(False, False), (True, False), (True, True)]
)
def test_allowed_contact_flags_pass_full_clean(tree, is_contact, is_key_contact):
    Membership(
        person=PersonFactory(),
        account=tree["paris"],
        is_contact=is_contact,
        is_key_contact=is_key_contact,
    ).full_clean()


@pytest.mark.parametrize(
    ("account", "role_type", "role_name", "message"),
    [
        (
            "paris",
            "Corporate",
            "Executive sponsor",
            "“Executive sponsor” is not a role of Site accounts. "
            "Valid roles: End user, Site admin.",
        ),
        # Corporate and Region both have a "Champion": the type decides, not the name.
        (
            "corp",
            "Region",
            "Champion",
            "“Champion” is not a role of Corporate accounts. "
            "Valid roles: Champion, Executive sponsor.",
        ),
        (
            "paris_sales",
            "Site",
            "Site admin",
            "“Site admin” is not a role of Department accounts. Valid roles: Department head.",
        ),
    ],
)
def test_role_of_another_account_type_fails_full_clean(
    tree, account_types, account, role_type, role_name, message
):
    membership = Membership(
        person=PersonFactory(),
        account=tree[account],
        role=stored.role(role_type, role_name),
    )

    with pytest.raises(ValidationError) as caught:
        membership.full_clean()

    assert caught.value.message_dict == {"role": [message]}
    assert [error.code for error in caught.value.error_dict["role"]] == ["unknown_role"]


def test_role_check_names_no_valid_role_for_a_type_without_roles(tree, account_types):
    team = AccountFactory(account_type=AccountTypeFactory(name="Team", order=9))
    membership = Membership(
        person=PersonFactory(), account=team, role=stored.role("Site", "Site admin")
    )

    with pytest.raises(ValidationError) as caught:
        membership.full_clean()

    assert caught.value.message_dict == {
        "role": ["“Site admin” is not a role of Team accounts. Valid roles: none."]
    }


@pytest.mark.parametrize(
    ("account", "role_type", "role_name"),
    [
        ("corp", "Corporate", "Executive sponsor"),
        ("corp", "Corporate", "Champion"),
        ("emea", "Region", "Champion"),
        ("other_region", "Region", "Regional director"),
        ("austin", "Site", "End user"),
        ("austin_it", "Department", "Department head"),
    ],
)
def test_role_of_the_account_type_passes_full_clean(
    tree, account_types, account, role_type, role_name
):
    Membership(
        person=PersonFactory(),
        account=tree[account],
        role=stored.role(role_type, role_name),
        is_contact=True,
    ).full_clean()


def test_membership_without_role_passes_full_clean(tree):
    Membership(person=PersonFactory(), account=tree["paris"], is_contact=True).full_clean()


# Contact history


def _history():
    return set(
        ContactChange.objects.values_list(
            "membership", "field", "old_value", "new_value", "source", "staff_user"
        )
    )


def test_record_changes_of_a_new_key_contact_with_role(tree, account_types):
    staff_user = StaffUserFactory()
    membership = MembershipFactory(
        account=tree["corp"],
        role=stored.role("Corporate", "Executive sponsor"),
        is_contact=True,
        is_key_contact=True,
    )

    created = record_contact_changes(
        membership=membership, before=None, source=ContactChange.Source.APP, by=staff_user
    )

    m, app, by = membership.pk, "app", staff_user.pk
    assert _history() == {
        (m, "contact", "no", "yes", app, by),
        (m, "key_contact", "no", "yes", app, by),
        (m, "role", "", "Executive sponsor", app, by),
    }
    assert {change.pk for change in created} == set(
        ContactChange.objects.values_list("pk", flat=True)
    )


def test_record_changes_of_a_new_plain_contact(tree):
    membership = MembershipFactory(account=tree["paris"], is_contact=True)

    created = record_contact_changes(
        membership=membership, before=None, source=ContactChange.Source.IMPORT, by=None
    )

    assert _history() == {(membership.pk, "contact", "no", "yes", "import", None)}
    assert len(created) == 1


def test_record_changes_of_a_new_member_who_is_not_a_contact_writes_nothing(tree):
    membership = MembershipFactory(account=tree["paris"], is_contact=False)

    created = record_contact_changes(
        membership=membership, before=None, source=ContactChange.Source.IMPORT, by=None
    )

    assert created == []
    assert _history() == set()


def test_record_changes_of_a_new_member_with_role_only(tree, account_types):
    membership = MembershipFactory(
        account=tree["paris"], is_contact=False, role=stored.role("Site", "End user")
    )

    record_contact_changes(
        membership=membership, before=None, source=ContactChange.Source.ADMIN, by=None
    )

    assert _history() == {(membership.pk, "role", "", "End user", "admin", None)}


def test_record_changes_of_a_promotion_and_new_role(tree, account_types):
    staff_user = StaffUserFactory()
    membership = MembershipFactory(
        account=tree["emea"], role=stored.role("Region", "Champion"), is_contact=True
    )
    before = tracked_values(membership)
    membership.is_key_contact = True
    membership.role = stored.role("Region", "Regional director")
    membership.save()

    record_contact_changes(
        membership=membership, before=before, source=ContactChange.Source.APP, by=staff_user
    )

    m, by = membership.pk, staff_user.pk
    assert _history() == {
        (m, "key_contact", "no", "yes", "app", by),
        (m, "role", "Champion", "Regional director", "app", by),
    }


def test_record_changes_of_a_removed_key_contact(tree, account_types):
    membership = MembershipFactory(
        account=tree["austin"],
        role=stored.role("Site", "Site admin"),
        is_contact=True,
        is_key_contact=True,
    )
    before = tracked_values(membership)
    membership.is_contact = False
    membership.is_key_contact = False
    membership.role = None
    membership.save()

    record_contact_changes(
        membership=membership, before=before, source=ContactChange.Source.IMPORT, by=None
    )

    m = membership.pk
    assert _history() == {
        (m, "contact", "yes", "no", "import", None),
        (m, "key_contact", "yes", "no", "import", None),
        (m, "role", "Site admin", "", "import", None),
    }
    # The membership stays: removing a contact clears the flag (SPEC §2).
    assert Membership.objects.filter(pk=m).exists()


def test_record_changes_when_nothing_changed_writes_nothing(tree, account_types):
    membership = MembershipFactory(
        account=tree["paris"],
        role=stored.role("Site", "End user"),
        is_contact=True,
        is_key_contact=True,
    )
    before = tracked_values(membership)
    membership.person.first_name = "Renamed"
    membership.person.save()
    membership.save()

    created = record_contact_changes(
        membership=membership,
        before=before,
        source=ContactChange.Source.APP,
        by=StaffUserFactory(),
    )

    assert created == []
    assert _history() == set()


def test_tracked_values_of_a_membership(tree, account_types):
    membership = MembershipFactory(
        account=tree["paris"],
        role=stored.role("Site", "Site admin"),
        is_contact=True,
        is_key_contact=False,
    )

    assert tracked_values(membership) == {
        ContactChange.Field.CONTACT: "yes",
        ContactChange.Field.KEY_CONTACT: "no",
        ContactChange.Field.ROLE: "Site admin",
        ContactChange.Field.STATUS: "active",
        ContactChange.Field.START_DATE: "",
        ContactChange.Field.END_DATE: "",
    }
