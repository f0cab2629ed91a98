"""The outbound export (SPEC §3.8): all users or contacts only, in the users file format, that
imports back unchanged; and the formula guard."""

import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from contacts.models import DownloadRecord, Membership
from integrations import services
from integrations.models import ImportJob, UsersExport
from tests.factories import MembershipFactory, PersonFactory
from tests.integrations.conftest import USERS_HEADER, snapshot, totals, users_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def people_everywhere(ada, tree, roles):
    """Ada (see conftest) and Grace, whose names would run as formulas in a spreadsheet."""
    grace = PersonFactory(
        first_name="=Grace",
        last_name="@Hopper",
        email="grace@navy.example",
        title="-Admiral",
        phone="+1 555 0100",
    )
    MembershipFactory(
        person=grace,
        account=tree["corp"],
        role=roles["Corporate", "Champion"],
        is_contact=True,
        is_key_contact=False,
    )
    MembershipFactory(person=grace, account=tree["other_region"], is_contact=False)
    return tree


def export_csv(**options):
    name, content_type, body = services.export_users(**options)
    return name, content_type, b"".join(body).decode("utf-8")


def test_export_of_all_users_lists_every_membership_in_tree_order(people_everywhere):
    name, content_type, text = export_csv()

    assert content_type == "text/csv; charset=utf-8"
    assert name.startswith("users-") and name.endswith(".csv")
    assert text.splitlines() == [
        USERS_HEADER + ",Status,Start Date,End Date",
        "CORP,grace@navy.example,'=Grace,'@Hopper,'-Admiral,'+1 555 0100,Champion,yes,no,active,,",
        "EMEA,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,,no,no,active,,",
        "PARIS,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,Site admin,yes,yes,"
        "active,,",
        "OTHER_REGION,grace@navy.example,'=Grace,'@Hopper,'-Admiral,'+1 555 0100,,no,no,active,,",
    ]


def test_export_of_contacts_only(people_everywhere, staff_user):
    name, _, text = export_csv(contacts_only=True, by=staff_user)

    assert name.startswith("contacts-")
    assert text.splitlines()[1:] == [
        "CORP,grace@navy.example,'=Grace,'@Hopper,'-Admiral,'+1 555 0100,Champion,yes,no,active,,",
        "PARIS,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,Site admin,yes,yes,"
        "active,,",
    ]
    assert list(
        UsersExport.objects.values_list("staff_user__username", "contacts_only", "file_format")
    ) == [("ivy", True, "csv")]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_export_imports_back_with_every_row_unchanged(people_everywhere, file_format):
    _, _, body = services.export_users(file_format=file_format)
    data = body.read() if hasattr(body, "read") else b"".join(body)
    before = snapshot()

    result = services.import_file(kind=ImportJob.Kind.USERS, file=io.BytesIO(data), dry_run=False)

    assert totals(result) == {"new": 0, "updated": 0, "unchanged": 4, "failed": 0}
    assert result.warnings == []
    assert snapshot() == before


def test_xlsx_export_keeps_formula_like_values_as_text(people_everywhere):
    name, content_type, body = services.export_users(file_format="xlsx")

    assert name.endswith(".xlsx")
    assert content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(body).active
    rows = [[(cell.value or "", cell.data_type) for cell in row] for row in sheet.iter_rows()]
    assert [value for value, _ in rows[1]] == [
        "CORP",
        "grace@navy.example",
        "=Grace",
        "@Hopper",
        "-Admiral",
        "+1 555 0100",
        "Champion",
        "yes",
        "no",
        "active",
        "",
        "",
    ]
    assert {data_type for row in rows for value, data_type in row if value} == {"s"}


def test_an_export_moves_the_re_add_guards_starting_point(people_everywhere):
    from integrations.models import last_users_sync

    assert last_users_sync() is None

    export_csv()

    assert last_users_sync() == UsersExport.objects.get().created_at


# The download audit (contacts.privacy): every way people data leaves is recorded


def _records():
    """Every DownloadRecord: (kind, channel, who, filters, format, rows, complete)."""
    return [
        (r.kind, r.channel, r.who, r.filters, r.file_format, r.row_count, r.complete)
        for r in DownloadRecord.objects.order_by("pk")
    ]


@pytest.mark.parametrize(
    ("who", "filters", "rows"), [("all", "All users", 4), ("contacts", "Contacts only", 2)]
)
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_from_the_integrations_page_is_recorded(
    advanced_client, people_everywhere, who, filters, rows, file_format
):
    response = advanced_client.post(
        "/integrations/export/", {"who": who, "file_format": file_format}
    )
    b"".join(response.streaming_content)

    assert _records() == [("users_file", "app", "advanced_user", filters, file_format, rows, True)]


def test_export_refused_is_not_recorded(standard_client, people_everywhere):
    response = standard_client.post("/integrations/export/", {"who": "all", "file_format": "csv"})

    assert (response.status_code, _records()) == (403, [])


def test_export_users_command_is_recorded_as_the_command_line(people_everywhere, tmp_path):
    call_command("export_users", "--contacts-only", "--output", str(tmp_path / "out.csv"))

    assert _records() == [
        (
            "users_file",
            "command",
            "the command line",
            f"Contacts only, to {tmp_path / 'out.csv'}",
            "csv",
            2,
            True,
        )
    ]
    assert DownloadRecord.objects.get().staff_user is None


def test_error_file_download_is_recorded_with_its_rows(advanced_client, tree):
    file = io.BytesIO(
        users_csv(
            "NOPE,alan@example.com,Alan,Turing,,,,,", "NOPE,bob@example.com,Bob,B,,,,,"
        ).encode()
    )
    file.name = "people.csv"
    advanced_client.post("/integrations/", {"kind": "users", "file": file})
    job = ImportJob.objects.get()

    response = advanced_client.get(f"/integrations/jobs/{job.pk}/errors/")
    b"".join(response.streaming_content)

    assert _records() == [
        (
            "import_errors",
            "app",
            "advanced_user",
            f"Import job #{job.pk}: people.csv (Users file)",
            "csv",
            2,
            True,
        )
    ]


def test_admin_export_of_people_is_recorded(admin_client, people_everywhere):
    response = admin_client.post(
        "/admin/contacts/person/export/?q=grace", {"format": "0", "resource": "0"}
    )

    assert len(response.content.decode().splitlines()) == 1 + 2
    assert _records() == [
        ("admin_export", "admin", "admin", "People (memberships); Search: “grace”", "csv", 2, True)
    ]


def test_admin_export_of_filtered_memberships_is_recorded(admin_client, people_everywhere):
    admin_client.post(
        "/admin/contacts/membership/export/?is_contact__exact=1&o=1",
        {"format": "1", "resource": "0"},
    )

    assert _records() == [
        (
            "admin_export",
            "admin",
            "admin",
            "Memberships (memberships); is_contact__exact: 1",
            "xlsx",
            2,
            True,
        )
    ]


def test_admin_export_of_memberships_picked_in_the_list_is_recorded(
    admin_client, people_everywhere
):
    picked = list(Membership.objects.filter(is_contact=True).values_list("pk", flat=True))[:1]

    admin_client.post(
        "/admin/contacts/membership/export/",
        {"format": "0", "resource": "0", "export_items": picked},
    )

    assert _records()[0][3:] == ("Memberships (memberships); 1 picked in the list", "csv", 1, True)
