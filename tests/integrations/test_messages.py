"""Messages that scale (issue 12): one cause is one message with its count and first lines,
over every row of the file; a row's width against the header; header warnings once and on one
line; the spreadsheet row of a line moved by a value over several lines; the job page's groups.
"""

import io

import pytest

from integrations import services
from integrations.files import Table
from integrations.models import ImportJob
from integrations.resources import LISTED_ROWS, UsersResource
from integrations.resources.base import (
    MAX_ERROR_GROUPS,
    MORE_KINDS_COUNTED,
    ErrorGroup,
    FileImportResult,
)
from integrations.text import LINE_RUNS_KEPT, LineTally
from tests import html
from tests.integrations.conftest import USERS_HEADER, import_users, people, totals, users_csv

NOPE = "No account has the Account ID “NOPE”."


def tally(*lines):
    """A LineTally of these lines, each its own data row, numbered as the file's rows."""
    counted = LineTally()
    for line in lines:
        counted.add(line, line - 2)
    return counted


# Lines, as a message names them


def test_lines_text_of_one_line():
    assert tally(7).text() == "line 7"


def test_lines_text_of_an_unbroken_run_is_its_first_and_last_line():
    assert tally(*range(2, 1044)).text() == "lines 2–1,043"


def test_lines_text_of_two_lines_in_a_row_names_both():
    assert tally(4, 5).text() == "lines 4 and 5"


def test_lines_text_names_the_first_runs_and_counts_the_rest():
    lines = [2, 5, 9, 10, 11, *range(20, 2000, 2)]

    assert tally(*lines).text() == ("lines 2, 5, 9–11, 20, 22, 24, 26, 28, 30, 32 and 983 more")
    assert len(tally(*lines).runs) == LINE_RUNS_KEPT


def test_lines_text_counts_a_row_once_for_two_messages_of_one_cause():
    counted = LineTally()
    for line in (3, 3, 8):
        counted.add(line, line)

    assert (counted.count, counted.text()) == (2, "lines 3 and 8")


def test_lines_text_gives_the_spreadsheet_row_where_it_differs_from_the_line():
    sheet_rows = {12: 10, 13: 11, 40: 30}

    assert tally(12).text(sheet_rows) == "line 12 (spreadsheet row 10)"
    assert tally(3, 12).text(sheet_rows) == "lines 3 and 12 (spreadsheet row 10)"
    assert tally(*range(12, 41)).text(sheet_rows) == "lines 12–40 (spreadsheet rows 10–30)"


def test_a_blank_line_between_two_rows_does_not_break_their_run():
    counted = LineTally()
    for row_number, line in enumerate([2, 3, 5, 6]):  # line 4 is blank: no row
        counted.add(line, row_number)

    assert counted.text() == "lines 2–6"


# Groups over the whole file


@pytest.mark.django_db
def test_one_cause_over_more_rows_than_listed_is_one_group_with_every_line(tree):
    rows = [f"NOPE,p{number}@example.com,P,Q,,,,," for number in range(1500)]

    result = import_users(users_csv(*rows), dry_run=True)

    assert result.failed == 1500
    assert len(result.problems()) == LISTED_ROWS
    assert result.error_groups() == [ErrorGroup("Account ID", NOPE, 1500, "lines 2–1,501")]
    assert services.summarise(result, phase="preview")["error_groups"] == [
        ["Account ID", NOPE, 1500, "lines 2–1,501"]
    ]


@pytest.mark.django_db
def test_unknown_values_are_listed_distinct_with_their_counts_most_frequent_first(tree):
    result = import_users(
        users_csv(
            "GONE,a@example.com,A,A,,,,,",
            "NOPE,b@example.com,B,B,,,,,",
            "NOPE,c@example.com,C,C,,,,,",
            "PARIS,d@example.com,D,D,,,,,",
            "NOPE,e@example.com,E,E,,,,,",
            "GONE,f@example.com,F,F,,,,,",
            "PARIS,g@example.com,G,G,,,,Maybe,",
        ),
        dry_run=True,
    )

    assert result.error_groups() == [
        ErrorGroup("Account ID", NOPE, 3, "lines 3, 4 and 6"),
        ErrorGroup("Account ID", "No account has the Account ID “GONE”.", 2, "lines 2 and 7"),
        ErrorGroup(
            "Contact",
            "“Maybe” is not accepted: write yes or no (in lowercase), or leave it blank.",
            1,
            "line 8",
        ),
    ]
    assert result.error_count == 6


@pytest.mark.django_db
def test_causes_past_the_kept_number_share_one_last_group(tree):
    extra = 3
    rows = [
        f"NOPE{number},p{number}@example.com,P,Q,,,,," for number in range(MAX_ERROR_GROUPS + extra)
    ]

    result = import_users(users_csv(*rows), dry_run=True)

    groups = result.error_groups()
    assert len(groups) == MAX_ERROR_GROUPS + 1
    assert groups[0] == ErrorGroup(
        "Account ID", "No account has the Account ID “NOPE0”.", 1, "line 2"
    )
    assert groups[-1] == ErrorGroup(
        "",
        f"… and {extra} more kinds of error (the error file has every row).",
        extra,
        f"lines {MAX_ERROR_GROUPS + 2}–{MAX_ERROR_GROUPS + 4}",
    )
    assert len(result.failed_dataset) == MAX_ERROR_GROUPS + extra


def test_rows_each_with_its_own_error_keep_the_groups_small_however_many():
    # Kept causes, counted causes and runs are capped: a million rows keep no more than this.
    result = FileImportResult()
    for row_number in range(200_000):
        result.count_errors(row_number + 2, {"Email": [f"Error number {row_number}."]})
        result.rows_recorded += 1

    groups = result.error_groups()
    assert (len(result.groups), len(result.more_kinds)) == (MAX_ERROR_GROUPS, MORE_KINDS_COUNTED)
    assert max(len(tally.runs) for tally in [*result.groups.values(), result.more_groups]) == 1
    assert groups[-1] == ErrorGroup(
        "",
        f"… and more than {MORE_KINDS_COUNTED:,} more kinds of error (the error file has every "
        "row).",
        200_000 - MAX_ERROR_GROUPS,
        f"lines {MAX_ERROR_GROUPS + 2:,}–200,001",
    )


# The width of a row


@pytest.mark.django_db
def test_a_row_with_more_values_than_the_header_names_is_an_error_naming_it(tree):
    result = import_users(
        users_csv(
            "PARIS,grace@navy.example,Grace,Hopper,Rear admiral, retired,+1 555,,yes,no",
            "PARIS,ada@example.com,Ada,Lovelace,,,,yes,",
        )
    )

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 1}
    assert result.problems()[0] == (
        2,
        "",
        "This row has 10 values but the header names 9 columns: a value may hold a comma that "
        "is not in quotes.",
    )
    assert result.failed_dataset.dict[0]["Error"].startswith(
        "Line 2. This row has 10 values but the header names 9 columns: a value may hold a "
        "comma that is not in quotes."
    )
    assert people() == []


@pytest.mark.django_db
def test_empty_cells_past_the_header_are_harmless(tree):
    result = import_users(users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,yes,,,,"))

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 0}
    assert result.warnings == []


@pytest.mark.django_db
def test_rows_with_fewer_values_than_the_header_are_one_warning_with_their_lines(tree):
    result = import_users(
        users_csv(
            "PARIS,a@example.com,A,A",
            "PARIS,b@example.com,B,B,,,,,",
            "PARIS,c@example.com,C,C,,",
            "PARIS,d@example.com,D,D,",
        )
    )

    assert totals(result) == {"new": 4, "updated": 0, "unchanged": 0, "failed": 0}
    assert result.warnings == [
        "3 rows have fewer values than the 9 columns the header names (lines 2, 4 and 5): the "
        "missing values were read as blank."
    ]


# The header row


@pytest.mark.django_db
def test_a_repeated_unknown_header_is_warned_about_once_on_one_line(tree):
    header = f'{USERS_HEADER},Phone Number,"Notes\nfor sales",phone number'

    result = import_users(users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,,1,x,2", header=header))

    assert result.warnings == [
        "Column “Phone Number” (2 columns) is not part of a users file and was ignored.",
        "Column “Notes for sales” is not part of a users file and was ignored.",
    ]
    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 0}


@pytest.mark.django_db
def test_a_missing_column_message_shows_each_header_on_one_line(tree):
    result = import_users('Name,"E-mail\r\naddress"\nAda,ada@example.com\n')

    assert result.file_problems() == [
        "This users file has no Account ID and Email columns. Its header row (line 1) must name "
        "Account ID and Email; it has: Name, E-mail address."
    ]


# The spreadsheet row of a line


@pytest.mark.django_db
def test_messages_about_a_line_moved_by_a_value_over_several_lines_give_its_spreadsheet_row(
    tree,
):
    # As the reader numbers them: a value over lines 2 to 4, so line 5 is spreadsheet row 3.
    table = Table(
        headers=["Account ID", "Email", "First Name", "Last Name", "Title"],
        rows=iter(
            [
                (2, ["PARIS", "a@example.com", "A", "Multi\nline\ntitle", ""]),
                (5, ["NOPE", "b@example.com", "B", "B", ""]),
            ]
        ),
        file_format="csv",
    )
    table.sheet_rows = {5: 3}

    result = UsersResource().import_data(
        table, dry_run=True, collect_failed_rows=True, rollback_on_validation_errors=True
    )

    assert result.error_groups() == [
        ErrorGroup("Account ID", NOPE, 1, "line 5 (spreadsheet row 3)")
    ]
    assert services.summarise(result, phase="preview")["errors"] == [[5, "Account ID", NOPE, 3]]
    assert result.failed_dataset.dict[0]["Error"] == (
        f"Line 5 (spreadsheet row 3). Account ID: {NOPE}"
    )


# The job page


@pytest.mark.django_db
def test_the_job_page_shows_the_groups_and_every_line_below_them(advanced_client, tree):
    rows = [
        *[f"NOPE,p{number}@example.com,P,Q,,,,," for number in range(3)],
        "PARIS,ada@example.com,Ada,Lovelace,,,,Yes,",
    ]
    file = io.BytesIO(users_csv(*rows).encode())
    file.name = "people.csv"
    job_url = advanced_client.post("/integrations/", {"kind": "users", "file": file}).headers[
        "Location"
    ]

    page = html.parse(advanced_client.get(job_url))

    groups = html.element(page, "table", class_="error-groups-table")
    assert [
        [html.text(cell) for cell in html.elements(row, "td")]
        for row in html.elements(groups, "tr")[1:]
    ] == [
        ["Account ID", NOPE, "3", "lines 2–4"],
        [
            "Contact",
            "“Yes” is not accepted: write yes or no (in lowercase), or leave it blank.",
            "1",
            "line 5",
        ],
    ]
    details = html.element(page, "details", class_="error-lines")
    assert html.text(html.element(details, "summary")) == "Every row with an error, line by line"
    assert [
        [html.text(cell) for cell in html.elements(row, "td")]
        for row in html.elements(html.element(details, "table"), "tr")[1:]
    ] == [
        ["2", "Account ID", NOPE],
        ["3", "Account ID", NOPE],
        ["4", "Account ID", NOPE],
        [
            "5",
            "Contact",
            "“Yes” is not accepted: write yes or no (in lowercase), or leave it blank.",
        ],
    ]
    assert ImportJob.objects.get().summary["error_groups"][0] == [
        "Account ID",
        NOPE,
        3,
        "lines 2–4",
    ]
