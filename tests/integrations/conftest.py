import io
import zipfile

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection
from django.template.defaultfilters import filesizeformat

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


# Files built to overload a reader (issue 16), with the one message each gets from the preview,
# the admin and the commands. The limits are lowered (small_limits) so that the files stay small
# and quick to build; the zip bomb needs no lowering, its packing gives it away.

SMALL_LIMITS = {
    "INTEGRATIONS_MAX_ROWS": 50,
    "INTEGRATIONS_MAX_COLUMNS": 20,
    "INTEGRATIONS_MAX_CELL_BYTES": 1000,
}


@pytest.fixture
def small_limits(settings):
    for name, value in SMALL_LIMITS.items():
        setattr(settings, name, value)


def xlsx_bomb(size=64 << 20):
    """A valid users workbook whose sheet unpacks to more than `size` bytes (whitespace between
    its rows, which XML allows) yet packs into a few dozen kilobytes."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(USERS_HEADER.split(","))
    workbook.active.append(["PARIS", "ada@example.com", "Ada", "Lovelace"])
    plain = io.BytesIO()
    workbook.save(plain)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for part in source.infolist():
            data = source.read(part.filename)
            if part.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(part.filename, data)
                continue
            head, tail = data.split(b"<sheetData>")
            with bomb.open(part.filename, "w") as sheet:
                sheet.write(head + b"<sheetData>")
                for _ in range(size >> 20):
                    sheet.write(b" " * (1 << 20))
                sheet.write(tail)
    return out.getvalue()


def _bomb_case():
    content = xlsx_bomb()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.getinfo("xl/worksheets/sheet1.xml")
    packed = filesizeformat(sheet.compress_size).replace("\xa0", " ")
    return (
        "bomb.xlsx",
        content,
        f"Part xl/worksheets/sheet1.xml of this workbook unpacks from {packed} to 64.0 MB, far "
        "more than a spreadsheet packs: the file looks built to overload the import (a zip "
        "bomb). Open it in a spreadsheet, save it again as .xlsx or CSV UTF-8, and upload that.",
    )


PATHOLOGICAL_FILES = {
    # Blank lines count: line ends alone once dodged the count of rows.
    "blank lines": lambda: (
        "people.csv",
        (users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,") + "\r" * 20_000).encode(),
        "This file has more than 50 rows after its header row (blank lines count too); up to "
        "50 can be imported at once. Split it into smaller files and import each.",
    ),
    "zip bomb": _bomb_case,
    "huge cell": lambda: (
        "people.csv",
        users_csv(f"PARIS,ada@example.com,{'é' * 2500},Lovelace,,,,,").encode(),
        "Line 2, column 3 holds 5,000 bytes; a cell may hold 1,000 bytes. Shorten the value (or "
        "remove the column if the import does not need it) and upload the file again.",
    ),
    "thousands of columns": lambda: (
        "people.csv",
        users_csv(
            "PARIS,ada@example.com,Ada,Lovelace,,,,,", header=USERS_HEADER + ",x" * 5000
        ).encode(),
        "Line 1 has a value in column 5,009; a file may have up to 20 columns. Remove the "
        "columns the import does not need and upload the file again.",
    ),
    "quote left open": lambda: (
        "people.csv",
        users_csv(
            'PARIS,"ada@example.com,Ada,Lovelace,,,,,', *[f"BERLIN,{'x' * 1100}"] * 40
        ).encode(),
        "Line 2 is longer than any row can be (20 columns of up to 1,000 bytes each): a "
        "quotation mark may be left open, or the file has no line breaks. Fix it and upload "
        "the file again.",
    ),
}


def run(*args):
    """call_command, with what it wrote; a CommandError comes back as (code, message)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue().splitlines(), (error.returncode, str(error))
    return out.getvalue().splitlines(), (0, err.getvalue().strip())


def exit_code(*argv):
    """The exit status of `manage.py *argv`, run as the command line runs it."""
    try:
        execute_from_command_line(["manage.py", *argv])
    except SystemExit as exit:
        return exit.code
    return 0
