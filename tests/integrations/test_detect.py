"""Auto-detection of foreign headers (integrations/detect.py), on the real layouts of
tests/integrations/layouts/ and on every alias it knows. Pure Python: no database."""

import csv
import json
from pathlib import Path

import pytest

from integrations.detect import (
    ACCOUNT_NAME,
    ALIASES,
    AMBIGUOUS,
    EMPTY_VALUES,
    FULL_NAME,
    TARGETS,
    normalise,
    propose,
    source_names,
)
from integrations.detect import guess_value as guess

LAYOUTS_DIR = Path(__file__).parent / "layouts"
LAYOUTS = sorted(
    path.stem for path in LAYOUTS_DIR.glob("*.json") if not path.name.endswith(".expected.json")
)
ACCOUNT_IDS = {"Acme Corporation": "ACME-1", "Acme Paris": "ACME-PARIS", "Globex": "GLOBEX-1"}


def layout(stem):
    """The template, the header and the data rows of one sample file."""
    template = json.loads((LAYOUTS_DIR / f"{stem}.json").read_text())
    encoding = template["encoding"] or "utf-8"
    with open(LAYOUTS_DIR / f"{stem}.csv", encoding=encoding, newline="") as file:
        header, *rows = list(csv.reader(file))
    return template, header, rows


def test_every_layout_has_a_file_a_template_and_expected_rows():
    assert LAYOUTS == [
        "google",
        "google_legacy",
        "hubspot_export",
        "hubspot_import",
        "mailchimp",
        "outlook",
        "pipedrive",
        "salesforce_contact",
        "salesforce_report",
        "zoho",
    ]
    for stem in LAYOUTS:
        assert (LAYOUTS_DIR / f"{stem}.csv").is_file()
        assert (LAYOUTS_DIR / f"{stem}.expected.json").is_file()


@pytest.mark.parametrize("stem", LAYOUTS)
def test_propose_proposes_the_columns_of_each_layouts_template(stem):
    template, header, _ = layout(stem)

    proposal = propose(header, template["file"])

    assert proposal.columns == template["columns"]
    assert proposal.full_name == template["full_name"]
    assert proposal.account_lookup == template["account_lookup"]
    used = [*proposal.columns.values(), proposal.full_name]
    assert sorted(proposal.unused + [name for name in used if name]) == sorted(source_names(header))


@pytest.mark.parametrize("stem", LAYOUTS)
def test_layout_template_is_in_the_json_form_of_spec_4_5(stem):
    template, header, _ = layout(stem)

    assert list(template) == [
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
    assert set(template["columns"]) | set(template["constants"]) <= set(TARGETS["users"])
    assert not set(template["columns"]) & set(template["constants"])
    assert set(template["columns"].values()) <= set(source_names(header))
    assert template["repeated_rows"] in ("refuse", "first", "last")


def reference_mapping(template, header, rows):
    """A plain reading of SPEC §4.5, apart from the app's code: what each layout's expected rows
    were written from. The full name splits at its first space; accounts found by name are
    the fixture's (Acme Corporation → ACME-1, Acme Paris → ACME-PARIS, Globex → GLOBEX-1)."""
    mapped = []
    for cells in rows:
        by_name = dict(zip(source_names(header), cells, strict=True))

        def value(source, by_name=by_name):
            text = by_name[source].strip()
            return "" if text in template["blank_values"] else text

        row = dict.fromkeys(TARGETS["users"], "")
        row |= {target: value(source) for target, source in template["columns"].items()}
        row |= template["constants"]
        for target, values in template["values"].items():
            row[target] = values.get(row[target], row[target])
        if template["full_name"]:
            first, _, last = value(template["full_name"]).partition(" ")
            row["First Name"], row["Last Name"] = first, last.strip()
        if template["account_lookup"] == "Account Name":
            row["Account ID"] = ACCOUNT_IDS[row["Account ID"]]
        mapped.append(row)
    if template["repeated_rows"] == "last":
        kept = {}
        for row in mapped:
            key = (row["Email"].casefold(), row["Account ID"])
            kept.pop(key, None)
            kept[key] = row
        mapped = list(kept.values())
    return mapped


@pytest.mark.parametrize("stem", LAYOUTS)
def test_layout_expected_rows_follow_from_its_file_and_template(stem):
    template, header, rows = layout(stem)
    expected = json.loads((LAYOUTS_DIR / f"{stem}.expected.json").read_text())

    assert reference_mapping(template, header, rows) == expected
    assert 3 <= len(expected) <= 6
    for row in expected:
        assert row["Account ID"] in ("ACME-1", "ACME-PARIS", "GLOBEX-1")
        assert row["Account Role"] in ("", "Decision Maker", "Champion", "Billing")
        assert row["Contact"] in ("", "yes", "no")
        assert row["Key Contact"] in ("", "yes", "no")
        assert row["Email"] and row["First Name"] and row["Last Name"]


def test_salesforce_contact_file_is_windows_1252_with_an_address_over_several_lines():
    data = (LAYOUTS_DIR / "salesforce_contact.csv").read_bytes()

    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    _, header, rows = layout("salesforce_contact")
    street = header.index("MailingStreet")
    assert rows[1][street] == "8 rue de la Paix\r\nBâtiment B\r\n2e étage"


def alias_cases():
    for kind, targets in ALIASES.items():
        for target, aliases in targets.items():
            for alias in aliases:
                yield pytest.param(kind, target, alias, id=f"{kind}-{target}-{alias}")


@pytest.mark.parametrize(("kind", "target", "alias"), list(alias_cases()))
def test_each_known_header_alone_maps_to_its_target(kind, target, alias):
    proposal = propose([alias], kind)

    if target == ACCOUNT_NAME:
        assert (proposal.columns, proposal.account_lookup) == (
            {"Account ID": alias},
            "Account Name",
        )
    elif target == FULL_NAME:
        assert (proposal.columns, proposal.full_name) == ({}, alias)
    else:
        assert proposal.columns == {target: alias}
    assert proposal.unused == []
    assert proposal.doubtful == {}


@pytest.mark.parametrize("kind", TARGETS)
def test_no_known_header_names_two_targets_of_one_file_kind(kind):
    seen = {}
    for target, aliases in ALIASES[kind].items():
        headers = [*aliases, *(a.header for a in AMBIGUOUS[kind].get(target, ()))]
        for header in headers:
            assert seen.setdefault(normalise(header), target) == target, header


@pytest.mark.parametrize("kind", TARGETS)
def test_our_own_headers_map_to_themselves(kind):
    proposal = propose(list(TARGETS[kind]), kind)

    assert proposal.columns == {target: target for target in TARGETS[kind]}
    assert proposal.unused == []


def test_outlooks_title_is_a_salutation_beside_job_title_and_is_not_taken():
    _, header, _ = layout("outlook")

    proposal = propose(header, "users")

    assert proposal.columns["Title"] == "Job Title"
    assert "Title" in proposal.unused
    assert proposal.doubtful["Title"] == (
        "“Title” was left out: beside “Job Title” it is most likely a salutation (Mr., Ms., Dr.)."
    )


def test_title_alone_is_taken_but_noted_as_doubtful():
    proposal = propose(["Email", "Title"], "users")

    assert proposal.columns == {"Email": "Email", "Title": "Title"}
    assert proposal.doubtful == {
        "Title": "“Title” is a salutation (Mr., Dr.) in Outlook and a job title elsewhere: "
        "check that it holds job titles."
    }


def test_title_beside_a_salutation_column_is_the_job_title_without_doubt():
    proposal = propose(["Email", "Salutation", "Title"], "users")

    assert proposal.columns == {"Email": "Email", "Title": "Title"}
    assert proposal.doubtful == {}


def test_company_is_an_account_name_only_without_an_account_id_column():
    with_id = propose(["Email", "Company", "AccountId"], "users")
    without = propose(["Email", "Company"], "users")

    assert (with_id.columns, with_id.account_lookup) == (
        {"Account ID": "AccountId", "Email": "Email"},
        "Account ID",
    )
    assert with_id.unused == ["Company"]
    assert with_id.doubtful == {}
    assert (without.columns, without.account_lookup) == (
        {"Account ID": "Company", "Email": "Email"},
        "Account Name",
    )
    assert without.doubtful == {
        "Account ID": "Accounts are found by the exact name in “Company”: "
        "check that it holds account names."
    }


def test_a_clear_company_name_is_preferred_to_an_ambiguous_one():
    proposal = propose(["Company", "Organization Name", "Email"], "users")

    assert proposal.columns["Account ID"] == "Organization Name"
    assert proposal.unused == ["Company"]
    assert proposal.doubtful == {}


def test_name_is_split_only_when_there_is_no_first_or_last_name():
    _, salesforce, _ = layout("salesforce_contact")

    split = propose(["Name", "Email"], "users")
    kept = propose(salesforce, "users")

    assert split.full_name == "Name"
    assert split.doubtful["First Name"] == (
        "“Name” is split into First and Last Name: check that it holds people's names."
    )
    assert kept.full_name is None
    assert "Name" in kept.unused
    assert "First Name" not in kept.doubtful


def test_a_repeated_header_proposes_its_first_occurrence_and_leaves_the_others_unused():
    _, header, _ = layout("hubspot_export")

    proposal = propose(header, "users")

    assert proposal.columns["Phone"] == "Phone Number"
    assert "Phone Number#2" in proposal.unused


def test_source_names_number_the_later_occurrences_of_a_repeated_header():
    headers = ["Phone Number", "Email", " phone number ", "Phone Number", "Email "]

    assert source_names(headers) == [
        "Phone Number",
        "Email",
        "phone number#2",
        "Phone Number#3",
        "Email#2",
    ]


def test_one_source_is_never_proposed_for_two_targets():
    for stem in LAYOUTS:
        _, header, _ = layout(stem)
        proposal = propose(header, "users")
        used = [*proposal.columns.values(), proposal.full_name]
        used = [name for name in used if name]
        assert len(used) == len(set(used)), stem


def test_misspelt_headers_are_matched_fuzzily_and_noted():
    proposal = propose(["E-mail Adress", "Frist Name", "Last name", "Acount ID"], "users")

    assert proposal.columns == {
        "Account ID": "Acount ID",
        "Email": "E-mail Adress",
        "First Name": "Frist Name",
        "Last Name": "Last name",
    }
    assert sorted(proposal.doubtful) == ["Account ID", "Email", "First Name"]
    assert proposal.doubtful["First Name"] == (
        "“Frist Name” was taken for First Name because it looks like “First Name” "
        "(89% alike): check it."
    )


@pytest.mark.parametrize(
    "headers",
    [
        ["Contact ID", "Email"],
        ["Record ID - Contact", "Email"],
        ["User ID", "Email"],
        ["E-mail 2 Address"],
        ["Home Phone", "Email"],
        ["Shoe Size", "Email"],
    ],
)
def test_look_alikes_of_another_meaning_are_never_proposed(headers):
    proposal = propose(headers, "users")

    assert set(proposal.columns) <= {"Email"}
    assert proposal.full_name is None


def test_accounts_file_headers_of_a_salesforce_account_export():
    proposal = propose(["Id", "Name", "Type", "ParentId", "BillingCity"], "accounts")

    assert proposal.columns == {
        "Account ID": "Id",
        "Account Name": "Name",
        "Account Type": "Type",
        "Parent Account ID": "ParentId",
    }
    assert proposal.unused == ["BillingCity"]
    assert proposal.doubtful == {"Account Name": "“Name” is taken as the account's name: check it."}


def test_blank_headers_are_neither_proposed_nor_unused():
    proposal = propose(["Email", "", "  "], "users")

    assert proposal.columns == {"Email": "Email"}
    assert proposal.unused == []


def test_an_unknown_file_kind_is_refused():
    with pytest.raises(ValueError) as refused:
        propose(["Email"], "people")

    assert str(refused.value) == "Unknown file kind “people”: use one of users, accounts."


@pytest.mark.parametrize(
    ("header", "normalised"),
    [
        ("First Name", "firstname"),
        ("first_name", "firstname"),
        ("FIRST-NAME", "firstname"),
        ("  E-mail 1 - Value ", "email1value"),
        ("Assistant's Phone", "assistantsphone"),
        ("Business Country/Region", "businesscountryregion"),
        ("Account.Name", "accountname"),
        ("Prénom", "prénom"),
        ("Straße", "strasse"),
        ("", ""),
    ],
)
def test_normalise_drops_case_spaces_hyphens_underscores_and_punctuation(header, normalised):
    assert normalise(header) == normalised


@pytest.mark.parametrize(
    ("target", "value", "choices", "guessed"),
    [
        ("Contact", "TRUE", (), "yes"),
        ("Contact", "True", (), "yes"),
        ("Contact", "1", (), "yes"),
        ("Contact", "Y", (), "yes"),
        ("Contact", "Yes", (), "yes"),
        ("Contact", "x", (), "yes"),
        ("Contact", "✓", (), "yes"),
        ("Key Contact", " true ", (), "yes"),
        ("Key Contact", "FALSE", (), "no"),
        ("Key Contact", "0", (), "no"),
        ("Key Contact", "N", (), "no"),
        ("Key Contact", "No", (), "no"),
        ("Key Contact", "maybe", (), ""),
        ("Key Contact", "", (), ""),
        (
            "Account Role",
            "decision maker",
            ("Decision Maker", "Champion", "Billing"),
            "Decision Maker",
        ),
        (
            "Account Role",
            "DecisionMaker",
            ("Decision Maker", "Champion", "Billing"),
            "Decision Maker",
        ),
        ("Account Role", "Champoin", ("Decision Maker", "Champion", "Billing"), "Champion"),
        ("Account Role", "Economic Buyer", ("Decision Maker", "Champion", "Billing"), ""),
        ("Account Role", "Billing", (), ""),
        ("Account Type", "corporate", ("Corporate", "Region"), "Corporate"),
        ("Account Type", "Regions", ("Corporate", "Region"), "Region"),
        ("Account Type", "Partner", ("Corporate", "Region"), ""),
        ("Email", "TRUE", (), ""),
    ],
)
def test_guess_value(target, value, choices, guessed):
    assert guess(target, value, choices) == guessed


def test_empty_values_hold_the_usual_placeholders():
    for placeholder in ("null", "NULL", "None", "N/A", "n/a", "#N/A", "[not provided]", "-"):
        assert placeholder in EMPTY_VALUES
    assert "(blank)" in EMPTY_VALUES
    assert "0" not in EMPTY_VALUES


def test_source_names_leave_blank_headers_blank_and_unnumbered():
    assert source_names(["", "Email", " ", ""]) == ["", "Email", "", ""]
