import io

import pytest
from django.db import connection

from accounts.models import Account
from contacts.models import ContactChange, Membership, Person
from integrations import services
from integrations.models import ImportJob
from tests.factories import (
    ContactChangeFactory,
    MembershipFactory,
    PersonFactory,
    StaffUserFactory,
)

USERS_HEADER = "Account ID,Email,First Name,Last Name,Title,Phone,Account Role,Contact,Key Contact"
ACCOUNTS_HEADER = "Account ID,Account Name,Account Type,Parent Account ID"


def csv_file(text, *, encoding="utf-8"):
    """A binary file object holding `text`, as an upload or a stored file is."""
    return io.BytesIO(text.encode(encoding))


def users_csv(*rows, header=USERS_HEADER):
    return "\n".join([header, *rows]) + "\n"


def accounts_csv(*rows, header=ACCOUNTS_HEADER):
    return "\n".join([header, *rows]) + "\n"


def import_users(text, **options):
    options.setdefault("dry_run", False)
    return services.import_file(kind=ImportJob.Kind.USERS, file=csv_file(text), **options)


def import_accounts(text, **options):
    options.setdefault("dry_run", False)
    return services.import_file(kind=ImportJob.Kind.ACCOUNTS, file=csv_file(text), **options)


def totals(result):
    return {
        "new": result.new,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "failed": result.failed,
    }


def changed_rows(result):
    """(line, label, import type, [(column, old, new)]) of each listed changed row."""
    return [
        (row.line, row.label, row.import_type, [tuple(change) for change in row.changes])
        for row in result.rows
    ]


def memberships():
    """Every membership as (email, Account ID, role name, contact, key contact), sorted."""
    return sorted(
        Membership.objects.values_list(
            "person__email", "account__external_id", "role__name", "is_contact", "is_key_contact"
        ),
        key=lambda row: (row[0].lower(), row[1]),
    )


def people():
    """Every person as (email, first name, last name, title, phone), sorted by email."""
    return sorted(
        Person.objects.values_list("email", "first_name", "last_name", "title", "phone"),
        key=lambda row: row[0].lower(),
    )


def history():
    """Every ContactChange as (email, Account ID, field, old, new, source, staff username)."""
    return sorted(
        ContactChange.objects.values_list(
            "membership__person__email",
            "membership__account__external_id",
            "field",
            "old_value",
            "new_value",
            "source",
            "staff_user__username",
        ),
        key=lambda row: (row[0].lower(), row[1], row[2]),
    )


def snapshot():
    """Everything an import could write, to show that something wrote nothing."""
    return {
        "people": people(),
        "memberships": memberships(),
        "history": history(),
        "accounts": list(
            Account.objects.order_by("pk").values_list(
                "external_id",
                "name",
                "account_type__name",
                "parent__external_id",
                "tree_id",
                "lft",
                "rght",
                "level",
            )
        ),
    }


def removed_contact(person, account, **change):
    """A membership of `person` at `account` that is no longer a contact, and the ContactChange
    (contact: yes → no, with `change`'s other fields) that removed it."""
    membership = MembershipFactory(person=person, account=account, is_contact=False)
    ContactChangeFactory(
        membership=membership,
        field=ContactChange.Field.CONTACT,
        old_value="yes",
        new_value="no",
        **change,
    )
    return membership


@pytest.fixture
def staff_user(db):
    return StaffUserFactory(username="ivy", first_name="Ivy", last_name="Importer")


@pytest.fixture
def ada(tree, roles):
    """Ada, a key contact and Site admin at Paris, and a member (not a contact) at Emea."""
    person = PersonFactory(
        first_name="Ada",
        last_name="Lovelace",
        email="Ada@Customer.example",
        title="CTO",
        phone="+33 1 23 45 67 89",
    )
    MembershipFactory(
        person=person,
        account=tree["paris"],
        role=roles["Site", "Site admin"],
        is_contact=True,
        is_key_contact=True,
    )
    MembershipFactory(person=person, account=tree["emea"], is_contact=False)
    return person


def _fail_inserting_boom(*, duplicate):
    """A real database error on inserting the person "boom@example.com": a unique violation
    (as when someone saves the same person at the same time) or another error (as a lost
    connection or a full disk would raise)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            code = " USING ERRCODE = 'unique_violation'" if duplicate else ""
            cursor.execute(
                "CREATE FUNCTION integrations_test_boom() RETURNS trigger AS $$ BEGIN "
                f"RAISE EXCEPTION 'boom'{code}; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER integrations_test_boom BEFORE INSERT ON contacts_person FOR EACH "
                "ROW WHEN (NEW.email = 'boom@example.com') EXECUTE FUNCTION "
                "integrations_test_boom()"
            )
        else:
            action = (
                "SELECT RAISE(ABORT, 'boom')"
                if duplicate
                else "INSERT INTO integrations_test_no_such_table VALUES (1)"
            )
            cursor.execute(
                "CREATE TRIGGER integrations_test_boom BEFORE INSERT ON contacts_person WHEN "
                f"NEW.email = 'boom@example.com' BEGIN {action}; END"
            )


@pytest.fixture
def failing_insert(db):
    _fail_inserting_boom(duplicate=False)


@pytest.fixture
def duplicate_insert(db):
    _fail_inserting_boom(duplicate=True)
