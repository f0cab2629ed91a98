"""Mapping templates (SPEC §4.5): read and checked, applied to the real layouts of other
systems (tests/integrations/layouts), and imported exactly."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from contacts.models import Membership, Person
from integrations import services
from integrations.mapping import TARGETS, Mapping, MappingProblem, source_names, split_full_name
from integrations.models import ImportJob, MappingTemplate
from integrations.resources import AccountsResource, UsersResource
from tests.factories import AccountFactory, AccountRoleFactory, AccountTypeFactory

from .conftest import csv_file, totals

LAYOUTS = Path(__file__).parent / "layouts"
LAYOUT_NAMES = sorted(path.stem for path in LAYOUTS.glob("*.csv"))


@pytest.fixture
def layout_accounts(db):
    """The accounts the layouts' rows name, by id and by name, and the roles they give."""
    kind = AccountTypeFactory(name="Customer", order=1)
    for role in ("Decision Maker", "Champion", "Billing"):
        AccountRoleFactory(account_type=kind, name=role)
    return [
        AccountFactory(external_id=external_id, name=name, account_type=kind)
        for external_id, name in (
            ("ACME-1", "Acme Corporation"),
            ("ACME-PARIS", "Acme Paris"),
            ("GLOBEX-1", "Globex"),
        )
    ]


def layout(name):
    template = Mapping.from_json((LAYOUTS / f"{name}.json").read_text(encoding="utf-8"))
    expected = json.loads((LAYOUTS / f"{name}.expected.json").read_text(encoding="utf-8"))
    return LAYOUTS / f"{name}.csv", template, expected


def mapped_rows(path, mapping):
    with path.open("rb") as file:
        table = services.open_table(file, encoding=mapping.encoding)
        mapped = mapping.apply(table, reopen=table.reopen)
        rows = []
        for _line, row in mapped.rows:
            assert not row.errors, row.errors
            cells = dict(zip(mapped.headers, row, strict=True))
            rows.append({column: cells.get(column, "") for column in TARGETS["users"]})
    return rows


def test_the_targets_are_the_resources_columns():
    assert TARGETS["users"] == tuple(UsersResource.columns())
    assert TARGETS["accounts"] == tuple(AccountsResource.columns())


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_a_layouts_template_makes_the_standard_rows_of_its_file(layout_accounts, name):
    path, mapping, expected = layout(name)
    # No layout maps the Status, Start Date and End Date of issue 14: blank (left as they are).
    no_dates = {"Status": "", "Start Date": "", "End Date": ""}
    assert mapped_rows(path, mapping) == [{**row, **no_dates} for row in expected]


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_a_layouts_file_imports_exactly_through_its_saved_template(layout_accounts, name):
    path, mapping, expected = layout(name)
    with path.open("rb") as file:
        headers = services.open_table(file, encoding=mapping.encoding).headers
    # Saved as the mapping page saves it: made for the header of this file.
    services.save_template(mapping=mapping, by=None, headers=headers)
    with path.open("rb") as file:
        result = services.import_file(
            kind=ImportJob.Kind.USERS, file=file, dry_run=False, mapping=mapping
        )
    assert result.file_problems() == []
    assert result.failed == 0, result.problems()
    assert result.new == len(expected)
    for row in expected:
        person = Person.objects.get(email__iexact=row["Email"])
        for attribute, column in (("first_name", "First Name"), ("last_name", "Last Name")):
            assert getattr(person, attribute) == row[column]
        membership = Membership.objects.get(person=person, account__external_id=row["Account ID"])
        assert membership.is_key_contact == (row["Key Contact"] == "yes")
    # The same file again changes nothing.
    with path.open("rb") as file:
        again = services.import_file(kind=ImportJob.Kind.USERS, file=file, dry_run=True)
    assert totals(again) == {"new": 0, "updated": 0, "unchanged": len(expected), "failed": 0}
    assert again.template is not None  # found by its header, with no mapping given


def test_a_file_of_another_header_is_not_read_through_a_template(layout_accounts):
    _path, mapping, _expected = layout("hubspot_import")
    services.save_template(mapping=mapping, by=None)
    result = services.import_file(
        kind=ImportJob.Kind.USERS,
        file=csv_file("E-mail,Given\nada@example.com,Ada\n"),
        dry_run=True,
    )
    assert result.template is None
    assert "has no Account ID and Email columns" in result.file_problems()[0]


# Checking a template


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON: line 1, column 2"),
        ("[]", "must be a JSON object"),
        ('{"file": "people"}', "“file” is “people”; it must be “users” or “accounts”"),
        (
            '{"columns": {"Emial": "E-mail", "Email": "E", "Account ID": "A"}}',
            "“Emial” in “columns” is not a column of a users file",
        ),
        (
            '{"columns": {"Email": "E", "Account ID": "A", "Contact": "C"}, '
            '"constants": {"Contact": "yes"}}',
            "Contact has both a source column (“C”) and a constant (“yes”)",
        ),
        ('{"columns": {"Email": "E"}}', "The template gives no Account ID"),
        (
            '{"columns": {"Email": "E", "Account ID": "A"}, "constants": {"Contact": "TRUE"}}',
            "The constant of Contact is “TRUE”; it must be yes or no",
        ),
        (
            '{"columns": {"Email": "E", "Account ID": "A"}, "values": {"Key Contact": {"Y": "1"}}}',
            "“Y” maps to “1”; it must map to yes, no or blank",
        ),
        ('{"columns": {"Email": "E", "Account ID": "A"}, "colums": {}}', "Unknown key “colums”"),
        (
            '{"columns": {"Email": "E", "Account ID": "A"}, "repeated_rows": "both"}',
            "“repeated_rows” is “both”",
        ),
        (
            '{"columns": {"Email": "E", "Account ID": "A"}, "encoding": "klingon"}',
            "“encoding” is “klingon”, which is not an encoding of text this import knows",
        ),
        (
            '{"columns": {"Email": "E", "Account ID": "A", "First Name": "F"}, '
            '"full_name": "Name"}',
            "“full_name” splits “Name” into First Name and Last Name, but the template maps",
        ),
        (
            '{"file": "accounts", "columns": {"Account ID": "Id", "Account Name": "N", '
            '"Account Type": "T", "Parent Account ID": "P"}, "account_lookup": "Account Name"}',
            "“account_lookup” is “Account Name”; it must be “Account ID” in an accounts file",
        ),
    ],
)
def test_a_bad_template_gets_a_message_naming_the_problem(text, message):
    with pytest.raises(MappingProblem) as raised:
        Mapping.from_json(text)
    assert message in str(raised.value)


def test_a_template_that_no_longer_fits_a_file_names_the_missing_columns():
    mapping = Mapping.from_dict(
        {"name": "CRM", "columns": {"Email": "E-mail", "Account ID": "Company ID"}}
    )
    with pytest.raises(MappingProblem) as raised:
        mapping.check_fits(["E-mail", "Company"])
    assert "This file has no “Company ID” column, which the template “CRM” reads" in str(
        raised.value
    )
    assert raised.value.code == "mapping_does_not_fit"


def test_the_json_form_goes_round():
    _path, mapping, _expected = layout("salesforce_contact")
    assert Mapping.from_json(mapping.to_json()) == mapping
    assert list(json.loads(mapping.to_json())) == [
        "name",
        "file",
        "columns",
        "constants",
        "values",
        "blank_values",
        "full_name",
        "account_lookup",
        "repeated_rows",
        "encoding",
    ]


# Applying


def users(text, mapping, **options):
    return services.import_file(
        kind=ImportJob.Kind.USERS, file=csv_file(text), mapping=mapping, **options
    )


@pytest.fixture
def acme(db):
    return AccountFactory(external_id="ACME-1", name="Acme")


def test_value_maps_blank_values_and_constants(acme):
    AccountRoleFactory(account_type=acme.account_type, name="Champion")
    mapping = Mapping.from_dict(
        {
            "columns": {
                "Email": "Mail",
                "Account ID": "Org",
                "First Name": "F",
                "Last Name": "L",
                "Account Role": "Kind",
                "Key Contact": "VIP",
                "Phone": "Tel",
            },
            "constants": {"Contact": "yes"},
            "values": {
                "Account Role": {"Decision Maker": "Champion"},
                "Key Contact": {"TRUE": "yes", "FALSE": "no"},
            },
            "blank_values": ["null", "#N/A"],
        }
    )
    text = (
        "Mail,Org,F,L,Kind,VIP,Tel\n"
        "ada@example.com,ACME-1,Ada,Lovelace,Decision Maker,TRUE,NULL\n"
        "bob@example.com,ACME-1,Bob,Byte,#N/A,false,\n"
    )
    result = users(text, mapping, dry_run=False)
    assert totals(result) == {"new": 2, "updated": 0, "unchanged": 0, "failed": 0}
    ada = Membership.objects.get(person__email="ada@example.com")
    assert (ada.role.name, ada.is_contact, ada.is_key_contact, ada.person.phone) == (
        "Champion",
        True,
        True,
        "",
    )
    bob = Membership.objects.get(person__email="bob@example.com")
    assert (bob.role, bob.is_contact, bob.is_key_contact) == (None, True, False)


def test_the_standard_file_stays_strict_only_a_mapping_says_true_is_yes(acme):
    standard = (
        "Account ID,Email,First Name,Last Name,Contact\nACME-1,ada@example.com,Ada,Lovelace,TRUE\n"
    )
    result = services.import_file(kind=ImportJob.Kind.USERS, file=csv_file(standard), dry_run=True)
    assert result.failed == 1
    assert "“TRUE”" in result.problems()[0][2]


def test_a_one_word_full_name_is_reported_on_its_row_never_guessed(acme):
    mapping = Mapping.from_dict(
        {"columns": {"Email": "Email", "Account ID": "Account"}, "full_name": "Name"}
    )
    result = users(
        "Name,Email,Account\nAda Lovelace,ada@example.com,ACME-1\nCher,cher@example.com,ACME-1\n",
        mapping,
        dry_run=True,
    )
    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 1}
    assert result.problems() == [
        (
            3,
            "First Name",
            "The full name “Cher” is one word: it cannot be split into First Name and Last "
            "Name. Give both in the file.",
        )
    ]
    # The error file holds the row as the file had it.
    assert result.failed_dataset.headers[:3] == ["Name", "Email", "Account"]
    assert list(result.failed_dataset[0][:3]) == ["Cher", "cher@example.com", "ACME-1"]


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("Ada Lovelace", "Ada", "Lovelace"),
        ("Lovelace, Ada", "Ada", "Lovelace"),
        ("Dr. Ada King Lovelace", "Ada King", "Lovelace"),
        ("Anne-Marie Dubois", "Anne-Marie", "Dubois"),
        ("Juan de la Vega", "Juan", "de la Vega"),
    ],
)
def test_full_names_split(name, first, last):
    assert split_full_name(name) == (first, last, None)


def test_accounts_found_by_exact_name_and_an_ambiguous_name_names_the_accounts(acme):
    AccountFactory(external_id="GLOBEX-1", name="Globex")
    AccountFactory(external_id="GLOBEX-2", name="Globex")
    mapping = Mapping.from_dict(
        {
            "columns": {
                "Email": "Email",
                "Account ID": "Company",
                "First Name": "F",
                "Last Name": "L",
            },
            "account_lookup": "Account Name",
        }
    )
    result = users(
        "Email,Company,F,L\n"
        "ada@example.com,Acme,Ada,L\n"
        "bob@example.com,Globex,Bob,B\n"
        "cy@example.com,Initech,Cy,C\n",
        mapping,
        dry_run=True,
    )
    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 2}
    messages = [message for _line, _column, message in result.problems()]
    assert messages[0].startswith("“Globex” is the name of 2 accounts: GLOBEX-1 (Corporate) and ")
    assert messages[1] == "No account is named “Initech” (names must match exactly)."


@pytest.mark.parametrize(("rule", "kept"), [("first", "Ada"), ("last", "Adeline")])
def test_repeated_rows_keep_the_first_or_the_last(acme, rule, kept):
    mapping = Mapping.from_dict(
        {
            "columns": {
                "Email": "Email",
                "Account ID": "Account",
                "First Name": "F",
                "Last Name": "L",
            },
            "repeated_rows": rule,
        }
    )
    text = (
        "Email,Account,F,L\nada@example.com,ACME-1,Ada,L\nbob@example.com,ACME-1,Bob,B\n"
        "ADA@example.com,ACME-1,Adeline,L\n"
    )
    result = users(text, mapping, dry_run=False)
    assert totals(result) == {"new": 2, "updated": 0, "unchanged": 0, "failed": 0}
    assert Person.objects.get(email__iexact="ada@example.com").first_name == kept
    left_out = 4 if rule == "first" else 2
    assert (
        f"1 row repeats the Email and account of another row and was left out (the template "
        f"keeps the {rule}): line {left_out}." in result.warnings
    )


def test_repeated_rows_are_refused_by_default(acme):
    mapping = Mapping.from_dict(
        {
            "columns": {
                "Email": "Email",
                "Account ID": "Account",
                "First Name": "F",
                "Last Name": "L",
            }
        }
    )
    result = users(
        "Email,Account,F,L\nada@example.com,ACME-1,Ada,L\nada@example.com,ACME-1,Ada,L\n",
        mapping,
        dry_run=True,
    )
    assert [(line, column) for line, column, _message in result.problems()] == [(3, "Email")]


def test_a_repeated_header_is_named_with_its_number():
    assert source_names(["Phone Number", "Email", "phone  number", "", ""]) == [
        "Phone Number",
        "Email",
        "phone number#2",
        "",
        "",
    ]


def test_unused_columns_are_warned_about_once(acme):
    mapping = Mapping.from_dict({"columns": {"Email": "Email", "Account ID": "Account"}})
    result = users(
        "Email,Account,Notes,Phone Number,Phone Number\nada@example.com,ACME-1,x,1,2\n",
        mapping,
        dry_run=True,
    )
    assert (
        "Not imported (the mapping leaves them unused): “Notes”, “Phone Number”, "
        "“Phone Number#2”." in result.warnings
    )


def test_a_saved_template_is_found_for_a_file_of_its_header(acme):
    mapping = Mapping.from_dict(
        {"name": "CRM", "columns": {"Email": "E-mail", "Account ID": "Org"}}
    )
    template = services.save_template(mapping=mapping, by=None, headers=["E-mail", "Org", "Notes"])
    assert MappingTemplate.objects.for_headers("users", ["e-mail", "ORG"]) == template
    assert MappingTemplate.objects.for_headers("users", ["E-mail", "Org", "Notes"]) == template
    assert MappingTemplate.objects.for_headers("users", ["E-mail", "Org", "Other"]) is None
    assert MappingTemplate.objects.fitting("users", ["E-mail", "Org", "Other"]) == [template]
    assert MappingTemplate.objects.for_headers("accounts", ["E-mail", "Org"]) is None


def test_a_template_name_is_taken_once(db):
    mapping = Mapping.from_dict(
        {"name": "CRM", "columns": {"Email": "E-mail", "Account ID": "Org"}}
    )
    services.save_template(mapping=mapping, by=None)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        services.save_template(
            mapping=Mapping.from_dict({**mapping.as_dict(), "name": "crm"}), by=None
        )
    assert raised.value.code == "name_taken"
    services.save_template(mapping=mapping, by=None, replace=True)
    assert MappingTemplate.objects.count() == 1


def test_keeping_the_last_of_repeated_rows_reads_a_large_file_whole(acme):
    mapping = Mapping.from_dict(
        {
            "columns": {
                "Email": "Email",
                "Account ID": "Account",
                "First Name": "F",
                "Last Name": "L",
            },
            "repeated_rows": "last",
        }
    )
    # Far more than the reader takes at once (64 KB): the file is read twice, whole each time.
    rows = [f"p{number}@example.com,ACME-1,First{number},Last" for number in range(5000)]
    text = "\n".join(["Email,Account,F,L", *rows, "p0@example.com,ACME-1,Again,Last"]) + "\n"

    result = users(text, mapping, dry_run=True)

    assert totals(result) == {"new": 5000, "updated": 0, "unchanged": 0, "failed": 0}
    assert result.warnings[-1].endswith("(the template keeps the last): line 2.")


def test_accounts_rows_without_an_account_id_are_never_left_out_as_repeats(db):
    mapping = Mapping.from_dict(
        {
            "file": "accounts",
            "columns": {
                "Account ID": "Id",
                "Account Name": "Name",
                "Account Type": "Type",
                "Parent Account ID": "Parent",
            },
            "repeated_rows": "first",
        }
    )
    result = services.import_file(
        kind=ImportJob.Kind.ACCOUNTS,
        file=csv_file("Id,Name,Type,Parent\n,A,Corporate,\n,B,Corporate,\n,C,Corporate,\n"),
        dry_run=True,
        mapping=mapping,
    )

    assert result.failed == 3  # each reported, none left out unseen
    assert not any("left out" in warning for warning in result.warnings)


def test_a_stored_mapping_that_no_longer_passes_the_rules_fails_its_run(acme, settings):
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="crm.csv",
        status=ImportJob.Status.PENDING,
        mapping={"file": "users", "columns": {"Email": "E"}},
    )
    job.upload.save("crm.csv", io.BytesIO(b"E,Org\nada@example.com,ACME-1\n"), save=True)

    services.run_import_job(job=job)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "stopped the import (MappingProblem)" in job.message


def test_the_command_line_reads_a_file_in_the_encoding_of_the_template_found_for_it(acme, tmp_path):
    services.save_template(
        mapping=Mapping.from_dict(
            {
                "name": "Legacy",
                "columns": {
                    "Email": "Mail",
                    "Account ID": "Org",
                    "First Name": "F",
                    "Last Name": "Nom",
                },
                "encoding": "iso-8859-15",
            }
        ),
        by=None,
        headers=["Mail", "Org", "F", "Nom"],
    )
    path = tmp_path / "legacy.csv"
    path.write_bytes(
        "Mail,Org,F,Nom\nada@example.com,ACME-1,Ada,Lovelace €\n".encode("iso-8859-15")
    )

    call_command("import_users", str(path), stdout=io.StringIO())

    assert Person.objects.get().last_name == "Lovelace €"
