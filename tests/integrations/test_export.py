"""The outbound export (SPEC §3.8): all users or contacts only, in the users file format, that
imports back unchanged; and the formula guard."""

import io

import pytest
from openpyxl import load_workbook

from integrations import services
from integrations.models import ImportJob, UsersExport
from tests.factories import MembershipFactory, PersonFactory
from tests.integrations.conftest import USERS_HEADER, snapshot, totals

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
        USERS_HEADER,
        "CORP,grace@navy.example,'=Grace,'@Hopper,'-Admiral,'+1 555 0100,Champion,yes,no",
        "EMEA,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,,no,no",
        "PARIS,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,Site admin,yes,yes",
        "OTHER_REGION,grace@navy.example,'=Grace,'@Hopper,'-Admiral,'+1 555 0100,,no,no",
    ]


def test_export_of_contacts_only(people_everywhere, staff_user):
    name, _, text = export_csv(contacts_only=True, by=staff_user)

    assert name.startswith("contacts-")
    assert text.splitlines()[1:] == [
        "CORP,grace@navy.example,'=Grace,'@Hopper,'-Admiral,'+1 555 0100,Champion,yes,no",
        "PARIS,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,Site admin,yes,yes",
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
    ]
    assert {data_type for row in rows for value, data_type in row if value} == {"s"}


def test_an_export_moves_the_re_add_guards_starting_point(people_everywhere):
    from integrations.models import last_users_sync

    assert last_users_sync() is None

    export_csv()

    assert last_users_sync() == UsersExport.objects.get().created_at
