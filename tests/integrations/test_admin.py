"""The Django admin's import and export buttons on people and memberships (SPEC §3.9): the same
resource and rules as the integrations page."""

import html
import io
import re

import pytest

from integrations import services
from integrations.mapping import Mapping
from tests.admin_pages import change_page, changelist_rows, search_first_cells
from tests.integrations.conftest import (
    PATHOLOGICAL_FILES,
    USERS_HEADER,
    history,
    memberships,
    snapshot,
    users_csv,
)

pytestmark = pytest.mark.django_db


def cells(response):
    """The admin preview's rows: each cell's text."""
    rows = re.findall(r"<tr class=\"(new|update)\">(.*?)</tr>", response.text, re.S)
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for _, row in rows
    ]


def admin_upload(client, model, content, file_format="0", name="people.csv"):
    file = io.BytesIO(content.encode() if isinstance(content, str) else content)
    file.name = name
    return client.post(
        f"/admin/contacts/{model}/import/",
        {"resource": "0", "format": file_format, "import_file": file},
    )


@pytest.mark.parametrize("model", ["person", "membership"])
def test_people_and_memberships_have_import_and_export_buttons(admin_client, model):
    response = admin_client.get(f"/admin/contacts/{model}/")

    assert f"href='/admin/contacts/{model}/import/' class=\"import_link\"" in response.text
    assert re.search(
        rf'href="/admin/contacts/{model}/export/\??" class="export_link"', response.text
    )


@pytest.mark.parametrize("model", ["person", "membership"])
def test_admin_import_previews_then_imports_with_the_users_file_rules(admin_client, ada, model):
    before = snapshot()

    preview = admin_upload(
        admin_client,
        model,
        users_csv(
            "BERLIN,grace@navy.example,Grace,Hopper,,,End user,yes,",
            "PARIS,ada@customer.example,,,Countess,,,,",
        ),
    )

    assert preview.status_code == 200
    assert cells(preview) == [
        [
            "New",
            "BERLIN",
            "grace@navy.example",
            "Grace",
            "Hopper",
            "",
            "",
            "End user",
            "no → yes",
            "",
            # Status, Start Date, End Date: not in the file, left as they are (issue 14).
            "",
            "",
            "",
        ],
        [
            "Update",
            "PARIS",
            "ada@customer.example",
            "",
            "",
            "CTO → Countess",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ]
    assert snapshot() == before
    confirm = {
        name: value
        for name, value in re.findall(
            r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview.text
        )
    }

    done = admin_client.post(f"/admin/contacts/{model}/process_import/", confirm)

    assert done.status_code == 302
    assert ("grace@navy.example", "BERLIN", "End user", True, False) in memberships()
    assert ("grace@navy.example", "BERLIN", "contact", "no", "yes", "import", "admin") in history()


def test_admin_import_shows_row_errors_and_offers_no_confirmation(admin_client, tree):
    response = admin_upload(admin_client, "person", users_csv("NOPE,ada@example.com,Ada,L,,,,Yes,"))

    assert "Some rows failed to validate" in response.text
    assert "No account has the Account ID “NOPE”." in response.text
    assert "“Yes” is not accepted: write yes or no (in lowercase), or leave it blank." in (
        response.text
    )
    assert "process_import" not in response.text


def test_admin_import_of_a_file_that_is_not_a_table_says_why(admin_client, tree):
    response = admin_upload(admin_client, "person", "Account ID,Email\n")

    assert "The file has a header row but no data rows." in response.text


def test_admin_import_of_a_file_without_the_columns_says_which(admin_client, tree):
    response = admin_upload(admin_client, "person", "Name,Mail\nAda,ada@example.com\n")

    assert (
        "This users file has no Account ID and Email columns. Its header row (line 1) must "
        "name Account ID and Email; it has: Name, Mail."
    ) in response.text
    assert "process_import" not in response.text


@pytest.mark.parametrize("case", list(PATHOLOGICAL_FILES))
def test_admin_import_of_a_file_built_to_overload_the_reader_says_why(
    admin_client, tree, small_limits, case
):
    name, content, message = PATHOLOGICAL_FILES[case]()
    before = snapshot()

    response = admin_upload(
        admin_client,
        "person",
        content,
        file_format="1" if name.endswith(".xlsx") else "0",
        name=name,
    )

    assert response.status_code == 200
    assert html.unescape(response.text).count(message) == 1
    assert "process_import" not in response.text
    assert snapshot() == before


def test_admin_import_of_a_file_past_the_size_limit_says_so(admin_client, tree, settings):
    settings.INTEGRATIONS_MAX_UPLOAD_SIZE = 100

    response = admin_upload(admin_client, "person", b"x" * 120)

    assert response.status_code == 200
    assert (
        "This file is 120\xa0bytes; files up to 100\xa0bytes can be imported. Split it into "
        "smaller files."
    ) in html.unescape(response.text)
    assert "process_import" not in response.text


def test_admin_import_keeps_the_upload_for_its_confirmation_as_it_was(admin_client, tree):
    from django.core.files.storage import default_storage

    content = users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,")

    preview = admin_upload(admin_client, "person", content)

    stored = re.search(r'name="import_file_name" value="([^"]+)"', preview.text).group(1)
    with default_storage.open(f"integrations/admin-uploads/{stored}", "rb") as file:
        assert file.read() == content.encode()


def test_admin_export_of_people_is_the_users_file_of_their_memberships(admin_client, ada):
    response = admin_client.post("/admin/contacts/person/export/", {"format": "0", "resource": "0"})

    assert response.status_code == 200
    assert response.content.decode().splitlines() == [
        USERS_HEADER + ",Status,Start Date,End Date",
        "EMEA,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,,no,no,active,,",
        "PARIS,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,Site admin,yes,yes,"
        "active,,",
    ]


def test_admin_export_of_filtered_memberships(admin_client, ada):
    response = admin_client.post(
        "/admin/contacts/membership/export/?is_contact__exact=1", {"format": "0", "resource": "0"}
    )

    assert response.content.decode().splitlines()[1:] == [
        "PARIS,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,Site admin,yes,yes,"
        "active,,",
    ]


# The import jobs' admin


def test_import_jobs_are_listed_and_never_added_in_the_admin(admin_site_client, admin_data):
    assert changelist_rows(admin_site_client, "integrations/importjob") == [
        [
            "people.csv",
            "Users file",
            "Finished",
            "owner",
            "Jan. 12, 2026, 8 a.m.",
            "Jan. 12, 2026, 8:05 a.m.",
        ],
    ]
    assert admin_site_client.get("/admin/integrations/importjob/add/").status_code == 403
    assert change_page(admin_site_client, "integrations/importjob", admin_data["job"], {}) == (
        ("Change import job", "Users file people.csv (Finished)"),
        {},
    )
    assert search_first_cells(admin_site_client, "/admin/integrations/importjob/?q=people") == [
        "people.csv"
    ]


def test_admin_import_reads_a_foreign_file_through_the_template_made_for_its_header(
    admin_client, tree
):
    services.save_template(
        mapping=Mapping.from_dict(
            {
                "name": "CRM",
                "columns": {
                    "Email": "E-mail",
                    "Account ID": "Org",
                    "First Name": "Given",
                    "Last Name": "Family",
                    "Key Contact": "VIP",
                },
                "values": {"Key Contact": {"TRUE": "yes"}},
            }
        ),
        by=None,
        headers=["E-mail", "Org", "Given", "Family", "VIP"],
    )
    crm = "E-mail,Org,Given,Family,VIP\ngrace@navy.example,BERLIN,Grace,Hopper,TRUE\n"

    preview = admin_upload(admin_client, "membership", crm)

    assert preview.status_code == 200
    assert cells(preview)[0][:5] == ["New", "BERLIN", "grace@navy.example", "Grace", "Hopper"]
    confirm = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview.text))
    admin_client.post("/admin/contacts/membership/process_import/", confirm)
    assert ("grace@navy.example", "BERLIN", None, True, True) in memberships()
