"""The mapping page, the mapping templates' pages, and a foreign file's way from upload to
import (issue 12)."""

import io
import json
import re

import pytest

from contacts.models import Membership, Person
from integrations.mapping_forms import value_field_name
from integrations.models import ImportJob, MappingTemplate

from .conftest import snapshot
from .test_views import text, upload

pytestmark = pytest.mark.django_db

HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Phone Number,Phone Number,Job Title,Company ID,VIP\n"
    "101,Ada,Lovelace,ada@example.com,+33 1,,Analyst,PARIS,TRUE\n"
    "102,Bob,Byte,bob@example.com,,+33 2,Engineer,PARIS,FALSE\n"
    "103,Cy,Cyan,cy@example.com,,,null,PARIS,TRUE\n"
)


def selected(page, name):
    """The value of the option chosen in the select named `name`."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page.text, re.S).group(1)
    return re.search(r'<option value="([^"]*)"[^>]*selected', select).group(1)


def mapping_form(**changes):
    """The mapping page's answers for HUBSPOT: Company ID is the Account ID, VIP the key
    contact (TRUE → yes, FALSE → no)."""
    data = {
        "source_account_id": "Company ID",
        "source_email": "Email",
        "source_first_name": "First Name",
        "source_last_name": "Last Name",
        "source_title": "Job Title",
        "source_phone": "Phone Number",
        "source_account_role": "",
        "source_contact": "=",
        "constant_contact": "yes",
        "source_key_contact": "VIP",
        value_field_name("Key Contact", "VIP", "TRUE"): "yes",
        value_field_name("Key Contact", "VIP", "FALSE"): "no",
        "account_lookup": "Account ID",
        "repeated_rows": "refuse",
        "blank_values": "null, N/A",
        "encoding": "",
        "save_as": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def mapping_job(advanced_client, tree):
    upload(advanced_client, HUBSPOT, name="hubspot.csv")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.MAPPING
    return job


def test_a_foreign_file_goes_to_the_mapping_page_with_the_columns_proposed(
    advanced_client, mapping_job, django_assert_max_num_queries
):
    page = advanced_client.get(mapping_job.get_absolute_url())
    assert "Map the columns of this file" in text(page, "job-status")

    with django_assert_max_num_queries(12):
        page = advanced_client.get(f"/integrations/jobs/{mapping_job.pk}/mapping/")

    assert page.status_code == 200
    chosen = {
        name: selected(page, f"source_{name}")
        for name in ("email", "first_name", "last_name", "title", "phone")
    }
    assert chosen == {
        "email": "Email",
        "first_name": "First Name",
        "last_name": "Last Name",
        "title": "Job Title",
        "phone": "Phone Number",
    }
    body = text(page)
    assert "Not imported (no column of ours comes from them): “Record ID”" in body
    assert "“Phone Number#2”" in body


def test_mapping_and_saving_a_template_leads_to_the_preview_and_the_next_file_skips_it(
    advanced_client, mapping_job
):
    url = f"/integrations/jobs/{mapping_job.pk}/mapping/"
    # The values of the Key Contact column are listed once its source is chosen.
    page = advanced_client.post(url, mapping_form(show="1"))
    assert page.status_code == 200
    assert "Values of Key Contact" in text(page)

    response = advanced_client.post(url, mapping_form(save_as="HubSpot export"))

    assert response.status_code == 302
    mapping_job.refresh_from_db()
    assert mapping_job.status == ImportJob.Status.READY
    assert (mapping_job.new_rows, mapping_job.failed_rows) == (3, 0)
    template = MappingTemplate.objects.get()
    assert (template.name, mapping_job.mapping_template) == ("HubSpot export", template)
    assert template.definition["values"] == {"Key Contact": {"TRUE": "yes", "FALSE": "no"}}
    preview = advanced_client.get(mapping_job.get_absolute_url())
    assert "Read through the mapping template HubSpot export" in text(preview)

    advanced_client.post(f"/integrations/jobs/{mapping_job.pk}/confirm/", {"keep_removed": "on"})
    assert Membership.objects.get(person__email="ada@example.com").is_key_contact
    assert Person.objects.get(email="cy@example.com").title == ""

    # The next file of the same shape goes straight to its preview.
    upload(advanced_client, HUBSPOT.replace("Analyst", "Lead"), name="hubspot-2.csv")
    second = ImportJob.objects.exclude(pk=mapping_job.pk).get()
    assert (second.status, second.mapping_template) == (ImportJob.Status.READY, template)
    assert (second.updated_rows, second.unchanged_rows) == (1, 2)


def test_a_mapping_without_email_is_refused_and_nothing_is_saved(advanced_client, mapping_job):
    before = snapshot()
    response = advanced_client.post(
        f"/integrations/jobs/{mapping_job.pk}/mapping/",
        mapping_form(source_email="", save_as="Broken"),
    )

    assert response.status_code == 400
    assert "The template gives no Email" in text(response)
    mapping_job.refresh_from_db()
    assert mapping_job.status == ImportJob.Status.MAPPING
    assert not MappingTemplate.objects.exists()
    assert snapshot() == before


def test_a_template_name_in_use_is_refused(advanced_client, mapping_job):
    advanced_client.post(
        "/integrations/mappings/",
        {"file": _json_file({"name": "CRM", "columns": {"Email": "E", "Account ID": "A"}})},
    )
    response = advanced_client.post(
        f"/integrations/jobs/{mapping_job.pk}/mapping/", mapping_form(save_as="crm")
    )

    assert response.status_code == 400
    assert "A mapping template named “CRM” exists already" in text(response)
    mapping_job.refresh_from_db()
    assert mapping_job.status == ImportJob.Status.MAPPING


def test_htmx_redraws_the_sample_without_saving(advanced_client, mapping_job):
    response = advanced_client.post(
        f"/integrations/jobs/{mapping_job.pk}/mapping/",
        mapping_form(save_as="Not yet"),
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "ada@example.com" in text(response, "mapping-live")
    mapping_job.refresh_from_db()
    assert mapping_job.status == ImportJob.Status.MAPPING
    assert not MappingTemplate.objects.exists()


def test_the_mapping_can_be_changed_from_the_preview(advanced_client, mapping_job):
    url = f"/integrations/jobs/{mapping_job.pk}/mapping/"
    advanced_client.post(url, mapping_form())
    advanced_client.post(f"/integrations/jobs/{mapping_job.pk}/remap/")

    mapping_job.refresh_from_db()
    assert mapping_job.status == ImportJob.Status.MAPPING
    page = advanced_client.get(url)
    assert selected(page, "source_key_contact") == "VIP"


def test_the_mapping_page_refuses_a_job_that_does_not_wait_for_one(advanced_client, tree):
    upload(
        advanced_client,
        "Account ID,Email,First Name,Last Name\nPARIS,ada@example.com,Ada,L\n",
    )
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.READY

    response = advanced_client.get(f"/integrations/jobs/{job.pk}/mapping/")

    assert response.status_code == 302
    assert response.headers["Location"] == job.get_absolute_url()


def test_a_mapping_job_can_be_cancelled(advanced_client, mapping_job):
    advanced_client.post(f"/integrations/jobs/{mapping_job.pk}/cancel/")
    mapping_job.refresh_from_db()
    assert (mapping_job.status, mapping_job.upload.name) == (ImportJob.Status.CANCELLED, "")


# Templates


def _json_file(data, name="template.json"):
    file = io.BytesIO(json.dumps(data).encode() if not isinstance(data, bytes) else data)
    file.name = name
    return file


def test_templates_are_imported_listed_downloaded_edited_and_deleted(
    advanced_client, django_assert_max_num_queries
):
    data = {
        "name": "Salesforce contacts",
        "file": "users",
        "columns": {"Email": "Email", "Account ID": "AccountId", "First Name": "FirstName"},
        "constants": {"Contact": "yes"},
    }
    response = advanced_client.post("/integrations/mappings/", {"file": _json_file(data)})
    assert response.status_code == 302
    template = MappingTemplate.objects.get()

    with django_assert_max_num_queries(6):
        listing = advanced_client.get("/integrations/mappings/")
    assert "Salesforce contacts" in text(listing)

    download = advanced_client.get(f"/integrations/mappings/{template.pk}/json/")
    exported = json.loads(b"".join(download.streaming_content))
    assert exported["columns"] == data["columns"]
    assert exported["constants"] == {"Contact": "yes"}

    edited = {**exported, "repeated_rows": "last"}
    response = advanced_client.post(
        template.get_absolute_url(),
        {"name": "Salesforce (contacts)", "definition": json.dumps(edited)},
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.definition["repeated_rows"]) == (
        "Salesforce (contacts)",
        "last",
    )

    confirm = advanced_client.get(f"/integrations/mappings/{template.pk}/delete/")
    assert "Delete the mapping template “Salesforce (contacts)”?" in text(confirm)
    assert MappingTemplate.objects.exists()
    advanced_client.post(f"/integrations/mappings/{template.pk}/delete/")
    assert not MappingTemplate.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "The mapping template is not valid JSON: line 1, column 2"),
        (
            json.dumps({"name": "X", "columns": {"Email": "E", "Account ID": "A", "Nope": "N"}}),
            "“Nope” in “columns” is not a column of a users file",
        ),
        (
            json.dumps(
                {
                    "name": "X",
                    "columns": {"Email": "E", "Account ID": "A", "Contact": "C"},
                    "constants": {"Contact": "yes"},
                }
            ),
            "Contact has both a source column",
        ),
        (json.dumps({"columns": {"Email": "E", "Account ID": "A"}}), "The template has no “name”"),
        (b"\xff\xfe\x00", "not UTF-8 text"),
    ],
    ids=["not JSON", "unknown column", "source and constant", "no name", "not UTF-8"],
)
def test_a_bad_template_file_is_refused_with_its_problem(advanced_client, content, message):
    if isinstance(content, str):
        content = content.encode()
    response = advanced_client.post("/integrations/mappings/", {"file": _json_file(content)})

    assert response.status_code == 400
    assert message in text(response)
    assert not MappingTemplate.objects.exists()


def test_an_edit_that_breaks_a_template_is_refused(advanced_client):
    advanced_client.post(
        "/integrations/mappings/",
        {"file": _json_file({"name": "CRM", "columns": {"Email": "E", "Account ID": "A"}})},
    )
    template = MappingTemplate.objects.get()

    response = advanced_client.post(
        template.get_absolute_url(), {"name": "CRM", "definition": '{"columns": {"Email": "E"}}'}
    )

    assert response.status_code == 400
    assert "The template gives no Account ID" in text(response)
    template.refresh_from_db()
    assert template.definition["columns"] == {"Email": "E", "Account ID": "A"}


@pytest.mark.parametrize(
    "url",
    ["/integrations/mappings/", "/integrations/jobs/1/mapping/"],
)
def test_standard_users_cannot_see_mappings(standard_client, url):
    assert standard_client.get(url).status_code == 403


def test_a_constant_account_must_exist(advanced_client, mapping_job):
    response = advanced_client.post(
        f"/integrations/jobs/{mapping_job.pk}/mapping/",
        mapping_form(source_account_id="=", constant_account_id="NOWHERE"),
    )

    assert response.status_code == 400
    assert "No account has the Account ID “NOWHERE”." in text(response)
    mapping_job.refresh_from_db()
    assert mapping_job.status == ImportJob.Status.MAPPING


def test_one_account_for_every_row(advanced_client, mapping_job):
    advanced_client.post(
        f"/integrations/jobs/{mapping_job.pk}/mapping/",
        mapping_form(source_account_id="=", constant_account_id="BERLIN"),
    )

    mapping_job.refresh_from_db()
    assert mapping_job.status == ImportJob.Status.READY
    assert mapping_job.mapping["constants"]["Account ID"] == "BERLIN"
    assert mapping_job.new_rows == 3


def test_each_column_of_the_file_is_offered_with_a_few_of_its_values(advanced_client, mapping_job):
    page = advanced_client.get(f"/integrations/jobs/{mapping_job.pk}/mapping/")

    assert '<option value="VIP">VIP (e.g. TRUE, FALSE)</option>' in page.text
    assert '<option value="Phone Number#2">Phone Number#2 (e.g. +33 2)</option>' in page.text


ACCOUNTS = "Id,Name,Kind,Parent\nNEW-1,New Corp,Top,\nNEW-2,New Site,Plant,NEW-1\n"


def test_an_accounts_file_is_mapped_with_its_types(advanced_client, tree):
    upload(advanced_client, ACCOUNTS, name="accounts.csv", kind="accounts")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.MAPPING
    url = f"/integrations/jobs/{job.pk}/mapping/"
    data = {
        "source_account_id": "Id",
        "source_account_name": "Name",
        "source_account_type": "Kind",
        "source_parent_account_id": "Parent",
        "repeated_rows": "refuse",
        "blank_values": "",
        "show": "1",
    }
    page = advanced_client.post(url, data)
    assert "Values of Account Type" in text(page)

    del data["show"]
    response = advanced_client.post(
        url,
        {
            **data,
            value_field_name("Account Type", "Kind", "Top"): "Corporate",
            value_field_name("Account Type", "Kind", "Plant"): "Site",
        },
    )

    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.new_rows, job.failed_rows) == (ImportJob.Status.READY, 2, 0)


def test_a_template_that_does_not_fit_the_file_says_which_columns_it_misses(
    advanced_client, mapping_job
):
    advanced_client.post(
        "/integrations/mappings/",
        {"file": _json_file({"name": "CRM", "columns": {"Email": "E-mail", "Account ID": "Org"}})},
    )
    template = MappingTemplate.objects.get()

    page = advanced_client.get(
        f"/integrations/jobs/{mapping_job.pk}/mapping/?template={template.pk}"
    )

    assert page.status_code == 200
    assert "This file has no “Org” and “E-mail” columns, which the template “CRM” reads." in text(
        page
    )
    assert selected(page, "source_email") == "Email"  # what detection proposed instead


# What a review found


HUBSPOT_TWO_FLAGS = (
    "Email,First Name,Last Name,Company ID,VIP,IsKey\n"
    "ada@example.com,Ada,L,PARIS,TRUE,N\n"
    "bob@example.com,Bob,B,PARIS,TRUE,N\n"
    "cy@example.com,Cy,C,PARIS,FALSE,Y\n"
)


def test_value_answers_stay_with_their_column_when_another_is_chosen(advanced_client, tree):
    upload(advanced_client, HUBSPOT_TWO_FLAGS, name="flags.csv")
    job = ImportJob.objects.get()
    url = f"/integrations/jobs/{job.pk}/mapping/"
    answers = {
        "source_account_id": "Company ID",
        "source_email": "Email",
        "source_first_name": "First Name",
        "source_last_name": "Last Name",
        "account_lookup": "Account ID",
        "repeated_rows": "refuse",
        "blank_values": "",
        "source_key_contact": "VIP",
        value_field_name("Key Contact", "VIP", "TRUE"): "yes",
        value_field_name("Key Contact", "VIP", "FALSE"): "no",
    }
    # The person switches Key Contact to IsKey: VIP's answers are not IsKey's.
    page = advanced_client.post(url, {**answers, "source_key_contact": "IsKey", "show": "1"})
    assert selected(page, value_field_name("Key Contact", "IsKey", "Y")) == "yes"  # guessed
    assert selected(page, value_field_name("Key Contact", "IsKey", "N")) == "no"

    advanced_client.post(url, {**answers, "source_key_contact": "IsKey"})

    job.refresh_from_db()
    assert job.mapping["values"] == {"Key Contact": {"N": "no", "Y": "yes"}}


def test_confirming_a_preview_the_file_was_checked_again_since_is_refused(
    advanced_client, mapping_job
):
    url = f"/integrations/jobs/{mapping_job.pk}/mapping/"
    advanced_client.post(url, mapping_form())
    mapping_job.refresh_from_db()
    seen = mapping_job.preview_number
    # Another tab maps it again (Key Contact now left out) before this one confirms.
    advanced_client.post(f"/integrations/jobs/{mapping_job.pk}/remap/")
    advanced_client.post(url, mapping_form(source_key_contact=""))

    response = advanced_client.post(
        f"/integrations/jobs/{mapping_job.pk}/confirm/",
        {"keep_removed": "on", "preview": str(seen)},
        follow=True,
    )

    assert "The file was checked again since that preview was shown" in text(response)
    mapping_job.refresh_from_db()
    assert mapping_job.status == ImportJob.Status.READY
    assert not Membership.objects.exists()


def test_a_template_found_by_its_header_reads_the_file_in_its_encoding(advanced_client, tree):
    advanced_client.post(
        "/integrations/mappings/",
        {
            "file": _json_file(
                {
                    "name": "Legacy",
                    "columns": {
                        "Email": "Mail",
                        "Account ID": "Org",
                        "Last Name": "Nom",
                        "First Name": "Prénom",
                    },
                    "encoding": "iso-8859-15",
                }
            )
        },
    )
    content = "Mail,Org,Prénom,Nom\nada@example.com,PARIS,Ada,Lovelace €\n".encode("iso-8859-15")

    upload(advanced_client, content, name="legacy.csv")

    job = ImportJob.objects.get()
    assert (job.status, job.encoding) == (ImportJob.Status.READY, "iso-8859-15")
    advanced_client.post(f"/integrations/jobs/{job.pk}/confirm/", {"keep_removed": "on"})
    assert Person.objects.get().last_name == "Lovelace €"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (json.dumps({"name": "X", "file": ["users"]}), "“file” is “['users']”"),
        (
            json.dumps(
                {
                    "name": "X",
                    "columns": {"Email": "E", "Account ID": "A"},
                    "repeated_rows": {"a": 1},
                }
            ),
            "“repeated_rows” is",
        ),
        (
            json.dumps({"name": "N" * 101, "columns": {"Email": "E", "Account ID": "A"}}),
            "a template's name has at most 100",
        ),
        (
            json.dumps(
                {"name": "X", "columns": {"Email": "E", "Account ID": "A"}, "encoding": "rot13"}
            ),
            "“encoding” is “rot13”, which is not an encoding of text",
        ),
        (
            json.dumps({"name": "X", "columns": {"Email": "", "Account ID": "A"}}),
            "The source column of Email is empty",
        ),
    ],
    ids=["file a list", "repeated_rows an object", "long name", "rot13", "empty source"],
)
def test_more_bad_template_files_are_refused_with_their_problem(advanced_client, content, message):
    response = advanced_client.post(
        "/integrations/mappings/", {"file": _json_file(content.encode())}
    )

    assert response.status_code == 400
    assert message in text(response)
    assert not MappingTemplate.objects.exists()


def test_a_template_id_that_is_not_a_number_is_ignored(advanced_client, mapping_job):
    page = advanced_client.get(f"/integrations/jobs/{mapping_job.pk}/mapping/?template=²")
    assert page.status_code == 200


def test_a_template_that_no_longer_passes_the_rules_is_downloaded_as_it_is(advanced_client):
    template = MappingTemplate.objects.create(
        name="Old", file_kind="users", definition={"columns": {"Email": "E"}}
    )

    download = advanced_client.get(f"/integrations/mappings/{template.pk}/json/")

    assert download.status_code == 200
    assert json.loads(b"".join(download.streaming_content))["columns"] == {"Email": "E"}
    page = advanced_client.get(template.get_absolute_url())
    assert "This template no longer passes the rules: The template gives no Account ID" in text(
        page
    )


def test_a_templates_columns_are_found_in_a_file_that_spells_them_otherwise(
    advanced_client, mapping_job
):
    advanced_client.post(
        "/integrations/mappings/",
        {
            "file": _json_file(
                {"name": "CRM", "columns": {"Email": "EMAIL", "Account ID": "company id"}}
            )
        },
    )
    template = MappingTemplate.objects.get()

    page = advanced_client.get(
        f"/integrations/jobs/{mapping_job.pk}/mapping/?template={template.pk}"
    )

    assert selected(page, "source_email") == "Email"
    assert selected(page, "source_account_id") == "Company ID"


def test_a_template_deleted_while_its_page_was_open_is_no_error(advanced_client, mapping_job):
    advanced_client.post(
        "/integrations/mappings/",
        {"file": _json_file({"name": "CRM", **_crm_rules()})},
    )
    template = MappingTemplate.objects.get()
    url = f"/integrations/jobs/{mapping_job.pk}/mapping/"
    advanced_client.get(f"{url}?template={template.pk}")
    template.delete()

    response = advanced_client.post(url, {**mapping_form(), "template": str(template.pk)})

    assert response.status_code == 302
    mapping_job.refresh_from_db()
    assert (mapping_job.status, mapping_job.mapping_template) == (ImportJob.Status.READY, None)


def test_a_template_used_unchanged_is_the_one_the_preview_names(advanced_client, mapping_job):
    advanced_client.post(
        "/integrations/mappings/", {"file": _json_file({"name": "CRM", **_crm_rules()})}
    )
    template = MappingTemplate.objects.get()

    advanced_client.post(
        f"/integrations/jobs/{mapping_job.pk}/mapping/",
        {**mapping_form(), "template": str(template.pk)},
    )

    mapping_job.refresh_from_db()
    assert mapping_job.mapping_template == template


def _crm_rules():
    """The rules mapping_form() gives, as a template holds them."""
    return {
        "columns": {
            "Account ID": "Company ID",
            "Email": "Email",
            "First Name": "First Name",
            "Last Name": "Last Name",
            "Title": "Job Title",
            "Phone": "Phone Number",
            "Key Contact": "VIP",
        },
        "constants": {"Contact": "yes"},
        "values": {"Key Contact": {"TRUE": "yes", "FALSE": "no"}},
        "blank_values": ["null", "N/A"],
    }


def test_a_constant_account_is_checked_by_name_when_accounts_are_found_by_name(
    advanced_client, mapping_job, tree
):
    url = f"/integrations/jobs/{mapping_job.pk}/mapping/"
    answers = mapping_form(source_account_id="=", account_lookup="Account Name")

    refused = advanced_client.post(url, {**answers, "constant_account_id": "PARIS"})
    assert "No account is named “PARIS”." in text(refused)

    advanced_client.post(url, {**answers, "constant_account_id": tree["paris"].name})
    mapping_job.refresh_from_db()
    assert mapping_job.status == ImportJob.Status.READY
