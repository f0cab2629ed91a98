"""The Contacts widget's download (contacts/views/widget.py): CSV and XLSX of exactly what the
widget lists, every matching row, for staff who may download segments, recorded in the audit."""

# The fixtures `contacts` and `many_contacts` of test_widget.py are imported by name, and the
# tests take them as arguments of the same name.
# ruff: noqa: F401, F811

import csv
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from contacts.models import DownloadRecord
from tests.contacts.test_widget import (
    _get,
    _names,
    _results,
    contacts,
    many_contacts,
)
from tests.html import attribute, elements

FORMATS = ["csv", "xlsx"]
HEADER = ["Name", "Email", "Account Role", "Account", "Account ID", "Account Type", "Key Contact"]


def _download(client, account, file_format, query=""):
    return client.get(f"/accounts/{account.pk}/contacts.{file_format}?{query}")


def _file_rows(response, file_format):
    assert response.status_code == 200, response.status_code
    body = b"".join(response.streaming_content)
    if file_format == "csv":
        text = body.decode("utf-8")
        assert text.startswith("\ufeff")
        return list(csv.reader(io.StringIO(text[1:], newline="")))
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    return [
        ["" if cell is None else str(cell) for cell in row]
        for row in sheet.iter_rows(values_only=True)
    ]


def _all_pages(client, account, query):
    names, number = [], 1
    while True:
        response = _get(client, account, f"{query}&page={number}")
        names += _names(response)
        if not elements(_results(response), "a", rel="next"):
            return names
        number += 1


QUERIES = [
    "view=hierarchy",
    "view=hierarchy&sort=-role",
    "view=hierarchy&sort=account&q=a",
    "view=hierarchy&key=on&sort=email",
    "view=hierarchy&former=on&sort=type",
    "view=subtree",
]


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("query", QUERIES)
def test_download_holds_what_the_widget_lists_on_every_page(
    standard_client,
    tree,
    contacts,
    many_contacts,
    query,
    file_format,
):
    rows = _file_rows(_download(standard_client, tree["corp"], file_format, query), file_format)

    assert rows[0] == HEADER + (["Status", "End Date"] if "former" in query else [])
    assert [row[0] for row in rows[1:]] == _all_pages(standard_client, tree["corp"], query)


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_cells(standard_client, tree, roles, contacts, file_format):
    query = f"view=hierarchy&role={roles['Site', 'Site admin'].pk}&sort=-name"
    rows = _file_rows(_download(standard_client, tree["corp"], file_format, query), file_format)

    assert rows == [
        HEADER,
        ["Tex Tran", "tex@austin.example", "Site admin", "Austin", "AUSTIN", "Site", "yes"],
        ["Pierre Paquet", "pierre@paris.example", "Site admin", "Paris", "PARIS", "Site", "yes"],
    ]


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_is_named_after_the_account_and_the_day(
    standard_client,
    tree,
    contacts,
    file_format,
):
    response = _download(standard_client, tree["paris_sales"], file_format)

    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="contacts-paris-sales-paris_sales-{day}.{file_format}"'
    )


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_is_recorded_in_the_audit(standard_client, tree, roles, contacts, file_format):
    query = f"view=hierarchy&role={roles['Site', 'Site admin'].pk}&q=a&key=on&sort=-role"
    _file_rows(_download(standard_client, tree["corp"], file_format, query), file_format)

    record = DownloadRecord.objects.get()
    assert (record.kind, record.file_format, record.row_count, record.complete) == (
        DownloadRecord.Kind.PEOPLE_LIST,
        file_format,
        2,
        True,
    )
    assert record.staff_user == standard_client.staff_user
    assert record.filters == (
        "Contacts widget of CORP (Corp); View: Entire hierarchy; Roles: Site admin (Site); "
        "Search: “a”; Key contacts only; Sorted by Role, descending"
    )


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_needs_the_permission(viewer_client, tree, contacts, file_format):
    response = _download(viewer_client, tree["corp"], file_format)

    assert response.status_code == 403
    assert not DownloadRecord.objects.exists()


def _download_links(response):
    return [
        attribute(a, "href")
        for a in elements(_results(response), "a")
        if "/contacts." in (attribute(a, "href") or "")
    ]


def test_download_links_only_for_those_allowed(viewer_client, tree, contacts):
    assert _download_links(_get(viewer_client, tree["corp"])) == []


def test_download_links_carry_the_filters_not_the_page(standard_client, tree, contacts):
    response = _get(
        standard_client, tree["corp"], "view=hierarchy&q=a&sort=-name&page=1&per_page=50"
    )
    pk = tree["corp"].pk

    assert _download_links(response) == [
        f"/accounts/{pk}/contacts.csv?view=hierarchy&q=a&sort=-name",
        f"/accounts/{pk}/contacts.xlsx?view=hierarchy&q=a&sort=-name",
    ]


def test_download_of_a_bad_filter_uses_the_widget_fallback(standard_client, tree, contacts):
    rows = _file_rows(
        _download(standard_client, tree["paris_sales"], "csv", "view=children&role=abc"), "csv"
    )

    assert [row[0] for row in rows[1:]] == ["Sally Sauer"]


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_query_count(
    standard_client,
    tree,
    contacts,
    many_contacts,
    django_assert_max_num_queries,
    file_format,
):
    # Session and user (2), permission (1), the account, its types and roles for the filters,
    # the audit record, the rows in chunks and the record completed: the same for any size.
    with django_assert_max_num_queries(12):
        rows = _file_rows(
            _download(standard_client, tree["corp"], file_format, "view=hierarchy&sort=role"),
            file_format,
        )
    assert len(rows) == 42
