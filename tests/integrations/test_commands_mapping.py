"""The import commands' --mapping (SPEC §4.4, §4.5): a saved template by name, a template's JSON
file, and the template made for a file's header found without it."""

import json

import pytest

from contacts.models import Membership, Person
from integrations import services
from integrations.mapping import Mapping
from integrations.models import ImportJob

from .test_commands import run

pytestmark = pytest.mark.django_db

CRM = "E-mail,Given,Family,Org,VIP\nada@example.com,Ada,Lovelace,PARIS,TRUE\n"
RULES = {
    "name": "CRM",
    "file": "users",
    "columns": {
        "Email": "E-mail",
        "First Name": "Given",
        "Last Name": "Family",
        "Account ID": "Org",
        "Key Contact": "VIP",
    },
    "values": {"Key Contact": {"TRUE": "yes"}},
}


@pytest.fixture
def crm_file(tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text(CRM, encoding="utf-8")
    return str(path)


def test_a_saved_template_named_on_the_command_line_reads_the_file(tree, crm_file):
    services.save_template(mapping=Mapping.from_dict(RULES), by=None)

    lines, (code, _) = run("import_users", crm_file, "--mapping", "crm")

    assert code == 0
    assert lines[0] == "Reading the file through the mapping template “CRM”."
    assert lines[1] == "Users file crm.csv: 1 new, 0 updated, 0 unchanged, 0 failed."
    assert Membership.objects.get(person__email="ada@example.com").is_key_contact
    job = ImportJob.objects.get()
    assert job.mapping["columns"]["Email"] == "E-mail"


def test_a_template_file_reads_the_file(tree, crm_file, tmp_path):
    template = tmp_path / "crm.json"
    template.write_text(json.dumps(RULES), encoding="utf-8")

    lines, (code, _) = run("import_users", crm_file, "--mapping", str(template), "--dry-run")

    assert code == 0
    assert lines[0] == f"Reading the file through the mapping template file {template}."
    assert "1 new" in lines[1]
    assert not Person.objects.exists()


def test_the_template_made_for_a_files_header_is_found_without_mapping(tree, crm_file):
    services.save_template(
        mapping=Mapping.from_dict(RULES),
        by=None,
        headers=["E-mail", "Given", "Family", "Org", "VIP"],
    )

    lines, (code, _) = run("import_users", crm_file)

    assert code == 0
    assert "Warning: Read through the mapping template “CRM”, made for files with this header." in (
        lines
    )
    assert ImportJob.objects.get().mapping_template.name == "CRM"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            "nobody",
            "No mapping template is named “nobody”, and there is no file at nobody. Saved "
            "templates: none.",
        ),
        ("{bad}", "No mapping template is named “{bad}”"),
    ],
)
def test_an_unknown_template_is_bad_usage(tree, crm_file, mapping, message):
    _lines, (code, error) = run("import_users", crm_file, "--mapping", mapping)

    assert code == 2
    assert message in error
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "is not valid JSON: line 1, column 2"),
        (json.dumps({**RULES, "columns": {"Email": "E-mail"}}), "The template gives no Account ID"),
        (
            json.dumps({**RULES, "constants": {"Email": "x@example.com"}}),
            "Email has both a source column (“E-mail”) and a constant",
        ),
    ],
)
def test_a_bad_template_file_is_bad_usage_and_imports_nothing(
    tree, crm_file, tmp_path, content, message
):
    template = tmp_path / "bad.json"
    template.write_text(content, encoding="utf-8")

    _lines, (code, error) = run("import_users", crm_file, "--mapping", str(template))

    assert code == 2
    assert message in error
    assert not Person.objects.exists()


def test_a_template_that_no_longer_fits_the_file_names_the_missing_column(tree, tmp_path):
    services.save_template(mapping=Mapping.from_dict(RULES), by=None)
    path = tmp_path / "other.csv"
    path.write_text("E-mail,Given,Family,Org\nada@example.com,Ada,L,PARIS\n", encoding="utf-8")

    _lines, (code, error) = run("import_users", str(path), "--mapping", "CRM")

    assert code == 1
    assert "This file has no “VIP” column, which the template “CRM” reads." in error
    assert not Person.objects.exists()


def test_a_users_template_is_refused_for_an_accounts_file(tree, crm_file):
    services.save_template(mapping=Mapping.from_dict(RULES), by=None)

    _lines, (code, error) = run("import_accounts", crm_file, "--mapping", "CRM")

    assert (code, error) == (
        2,
        "The mapping template “CRM” maps users files; this command imports accounts files.",
    )
