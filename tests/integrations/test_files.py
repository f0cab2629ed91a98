"""Reading and writing integration files: encodings, delimiters, line ends, XLSX, the one clear
message for a file that is none of these, and the formula guard."""

import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook

from integrations.files import (
    FileProblem,
    csv_lines,
    neutralise,
    read_table,
    unneutralise,
    write_xlsx,
)
from tests.integrations.conftest import import_users, memberships, totals

ROWS = [["Account ID", "Email"], ["PARIS", "ada@example.com"], ["BERLIN", "grace@example.com"]]


def read(data):
    table = read_table(io.BytesIO(data))
    return table.headers, list(table.rows)


def xlsx_bytes(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no BOM", "BOM"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_csv_in_utf8_with_any_delimiter_and_line_end(bom, delimiter, newline):
    text = newline.join(delimiter.join(row) for row in ROWS) + newline

    headers, rows = read(bom + text.encode("utf-8"))

    assert headers == ["Account ID", "Email"]
    assert rows == [(2, ["PARIS", "ada@example.com"]), (3, ["BERLIN", "grace@example.com"])]


def test_csv_delimiter_is_the_headers_with_commas_inside_quotes_and_values():
    headers, rows = read(b'"Name, full";Email\n"Lovelace, Ada";ada@example.com\n')

    assert headers == ["Name, full", "Email"]
    assert rows == [(2, ["Lovelace, Ada", "ada@example.com"])]


def test_csv_non_ascii_text_is_read_as_utf8():
    _headers, rows = read(
        "Account ID,Email,Last Name\nPARIS,jose@example.com,Núñez Ørsted\n".encode()
    )

    assert rows == [(2, ["PARIS", "jose@example.com", "Núñez Ørsted"])]


def test_csv_blank_lines_are_skipped_and_lines_keep_their_numbers():
    _headers, rows = read(b'\nAccount ID,Email\n\nPARIS,"a\nb"\n,\nBERLIN,c\n')

    assert rows == [(4, ["PARIS", "a\nb"]), (7, ["BERLIN", "c"])]


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (b"", "empty", "The file is empty."),
        (b"\n \r\n\n", "empty", "The file is empty."),
        (b"Account ID,Email\r\n", "no_rows", "The file has a header row but no data rows."),
        (b"Account ID,Email\n,\n\n", "no_rows", "The file has a header row but no data rows."),
        (
            "Account ID,Email\n".encode("utf-16"),
            "utf16",
            "This file is UTF-16 text. Save it as CSV UTF-8 (or as .xlsx) and upload that.",
        ),
        (
            "Account ID,Email\n".encode("utf-16-be").join([b"\xfe\xff", b""]),
            "utf16",
            "This file is UTF-16 text. Save it as CSV UTF-8 (or as .xlsx) and upload that.",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "binary",
            "This is not a CSV or XLSX file: it holds binary data. Save it as CSV UTF-8 or as "
            ".xlsx and upload that.",
        ),
        (
            "Account ID,Email\nPARIS,jos\xe9@example.com\n".encode("latin-1"),
            "not_utf8",
            "Line 2 is not UTF-8 text (the file may be saved as Windows-1252 or Latin-1). Save it "
            "as CSV UTF-8 and upload it again.",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "xls",
            "This is an old Excel (.xls) file or a password-protected workbook. Save it as .xlsx "
            "(without a password) or as CSV UTF-8, and upload that.",
        ),
        (
            b"PK\x03\x04" + b"not really a zip",
            "bad_xlsx",
            "This .xlsx file is damaged and cannot be read. Save it again as .xlsx or CSV UTF-8, "
            "and upload that.",
        ),
    ],
    ids=[
        "empty",
        "blank lines",
        "header only",
        "header and blank rows",
        "UTF-16 LE",
        "UTF-16 BE",
        "binary",
        "Latin-1",
        "old xls",
        "broken zip",
    ],
)
def test_a_file_that_is_not_csv_or_xlsx_gets_one_clear_message(data, code, message):
    with pytest.raises(FileProblem) as problem:
        read(data)

    assert (problem.value.code, problem.value.message) == (code, message)


def test_a_zip_that_is_not_a_workbook_gets_one_clear_message():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")

    with pytest.raises(FileProblem) as problem:
        read(out.getvalue())

    assert problem.value.message == (
        "This file looks like a zip or .xlsx file but cannot be read as a workbook. Open it in a "
        "spreadsheet, save it as .xlsx or CSV UTF-8, and upload that."
    )


def test_xlsx_rows_read_as_the_text_a_person_sees():
    data = xlsx_bytes(
        [
            ["Account ID", "Email", "Phone", "Contact", "When"],
            ["PARIS", "ada@example.com", 5550100, True, datetime(2026, 1, 2)],
            [None, None, None, None, None],
            ["BERLIN", "grace@example.com", 12.5, False, None],
        ]
    )

    headers, rows = read(data)

    assert headers == ["Account ID", "Email", "Phone", "Contact", "When"]
    assert rows == [
        (2, ["PARIS", "ada@example.com", "5550100", "TRUE", "2026-01-02"]),
        (4, ["BERLIN", "grace@example.com", "12.5", "FALSE"]),
    ]


@pytest.mark.django_db
def test_xlsx_users_file_imports_with_its_line_numbers(tree):
    data = xlsx_bytes(
        [
            ["Account ID", "Email", "First Name", "Last Name", "Contact"],
            ["PARIS", "ada@example.com", "Ada", "Lovelace", "yes"],
            ["BERLIN", "grace@example.com", "Grace", "Hopper", True],
        ]
    )
    from integrations import services
    from integrations.models import ImportJob

    result = services.import_file(
        kind=ImportJob.Kind.USERS, file=io.BytesIO(data), dry_run=False, skip_errors=True
    )

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 1}
    assert result.problems() == [
        (
            3,
            "Contact",
            "“TRUE” is not accepted: write yes or no (in lowercase), or leave it blank.",
        ),
    ]
    assert memberships() == [("ada@example.com", "PARIS", None, True, False)]


@pytest.mark.django_db
def test_a_file_that_turns_unreadable_in_the_middle_writes_nothing(tree):
    huge = "x" * 200_000  # longer than any CSV value can be
    text = (
        "Account ID,Email,First Name,Last Name\n"
        "PARIS,a@example.com,A,A\n"
        f"BERLIN,b@example.com,{huge},B\n"
    )

    result = import_users(text, chunk_size=1)

    assert result.file_problems() == [
        "Line 3: this row cannot be read as CSV (field larger than field limit (131072))."
    ]
    assert memberships() == []


# Writing: the formula guard


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'quoted", "''quoted"),
        ("Ada", "Ada"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_csv_cells_that_could_run_as_formulas_are_neutralised_and_read_back(value, written):
    assert neutralise(value) == written
    assert unneutralise(written) == value


def test_csv_lines_neutralise_every_cell_and_end_lines_with_crlf():
    data = b"".join(csv_lines(["Name", "Phone"], [['=HYPERLINK("x")', "+1 555"], ["Ada", ""]]))

    assert data == b'Name,Phone\r\n"\'=HYPERLINK(""x"")",\'+1 555\r\nAda,\r\n'


def test_csv_lines_of_no_rows_is_the_header():
    assert b"".join(csv_lines(["Name"], [])) == b"Name\r\n"


def test_xlsx_cells_are_text_a_spreadsheet_never_runs():
    out = io.BytesIO()
    write_xlsx(["Name", "Phone"], [["=1+1", "+1 555"], ["@x", "-3"]], out)

    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    cells = [[(cell.value, cell.data_type) for cell in row] for row in sheet.iter_rows()]
    assert cells == [
        [("Name", "s"), ("Phone", "s")],
        [("=1+1", "s"), ("+1 555", "s")],
        [("@x", "s"), ("-3", "s")],
    ]
