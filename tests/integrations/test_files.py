"""Reading and writing integration files: delimiters, line ends, XLSX, the one clear message for
a file that is none of these, the limits, and the formula guard (encodings and spreadsheet rows:
test_files_encodings)."""

import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook

from integrations.files import (
    FileProblem,
    Limits,
    csv_lines,
    neutralise,
    read_table,
    unneutralise,
    write_xlsx,
)
from tests.integrations.conftest import (
    PATHOLOGICAL_FILES,
    import_users,
    memberships,
    totals,
)

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
        # UTF-16 is read now (test_files_encodings): its header alone is a header alone.
        (
            "Account ID,Email\n".encode("utf-16"),
            "no_rows",
            "The file has a header row but no data rows.",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "binary",
            "This is not a CSV or XLSX file: it holds binary data. Save it as CSV UTF-8 or as "
            ".xlsx and upload that.",
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
        "UTF-16 header only",
        "binary",
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
        "Line 3 holds a value longer than a cell may hold (10,000 bytes). Shorten the value (or "
        "remove the column if the import does not need it) and upload the file again."
    ]
    assert memberships() == []


# Limits: every file is held to them while it is read, however it is built


@pytest.mark.parametrize("case", list(PATHOLOGICAL_FILES))
def test_a_file_built_to_overload_the_reader_gets_one_clear_message(small_limits, case):
    _name, content, message = PATHOLOGICAL_FILES[case]()

    with pytest.raises(FileProblem) as problem:
        read(content)

    assert problem.value.message == message


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_twenty_million_empty_lines_are_refused_after_the_first_million(newline):
    """The issue's CSV, with the default limits: the reading stops in its first megabytes."""
    file = io.BytesIO(b"Account ID,Email\nPARIS,ada@example.com\n" + newline.encode() * 20_000_000)

    with pytest.raises(FileProblem) as problem:
        read_table(file)

    assert (problem.value.code, problem.value.message) == (
        "too_many_rows",
        "This file has more than 1,000,000 rows after its header row (blank lines count too); "
        "up to 1,000,000 can be imported at once. Split it into smaller files and import each.",
    )
    assert file.tell() <= 3 << 20


@pytest.mark.parametrize(
    ("rows", "refused"), [(3, False), (4, True)], ids=["at the limit", "one more"]
)
def test_the_row_limit_counts_every_line_after_the_header(settings, rows, refused):
    settings.INTEGRATIONS_MAX_ROWS = 3
    data = b"Account ID,Email\nPARIS,a\n" + b"\n" * (rows - 2) + b"BERLIN,b\n"

    if refused:
        with pytest.raises(FileProblem, match="more than 3 rows after its header row"):
            read(data)
    else:
        assert read(data)[1] == [(2, ["PARIS", "a"]), (rows + 1, ["BERLIN", "b"])]


@pytest.mark.parametrize(("last_row", "refused"), [(4, False), (5, True)])
def test_the_row_limit_counts_every_sheet_row_blank_ones_too(settings, last_row, refused):
    settings.INTEGRATIONS_MAX_ROWS = 3
    workbook = Workbook()
    workbook.active["A1"], workbook.active["B1"] = "Account ID", "Email"
    workbook.active[f"A{last_row}"], workbook.active[f"B{last_row}"] = "PARIS", "a"
    out = io.BytesIO()
    workbook.save(out)

    if refused:
        with pytest.raises(FileProblem, match="more than 3 rows after its header row"):
            read(out.getvalue())
    else:
        assert read(out.getvalue())[1] == [(last_row, ["PARIS", "a"])]


def test_the_unpacked_size_of_a_workbook_is_checked_before_it_is_opened(settings):
    data = xlsx_bytes(ROWS)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(part.file_size for part in archive.infolist())
    settings.INTEGRATIONS_MAX_XLSX_SIZE = unpacked - 1

    with pytest.raises(FileProblem) as problem:
        read(data)

    assert (problem.value.code, problem.value.message) == (
        "xlsx_too_large",
        f"This workbook unpacks to {unpacked / 1024:.1f} KB; up to "
        f"{(unpacked - 1) / 1024:.1f} KB can be imported. Split it into smaller files, or save "
        "it as CSV UTF-8 (which is much smaller), and upload that.",
    )
    settings.INTEGRATIONS_MAX_XLSX_SIZE = unpacked
    assert read(data)[0] == ["Account ID", "Email"]


def test_a_zip_of_thousands_of_parts_is_refused_before_it_is_listed():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for number in range(10_001):
            archive.writestr(f"{number}.xml", "")

    with pytest.raises(FileProblem) as problem:
        read(out.getvalue())

    assert problem.value.message == (
        "This file is a zip archive of more than 10,000 parts, which no workbook has. Open it in "
        "a spreadsheet, save it as .xlsx or CSV UTF-8, and upload that."
    )


def test_a_workbook_cell_and_column_past_the_limits_are_refused(small_limits):
    wide = xlsx_bytes([["Account ID", "Email"], ["PARIS", "a", *[None] * 30, "far"]])
    long = xlsx_bytes([["Account ID", "Email"], ["PARIS", "a" * 1001]])

    with pytest.raises(FileProblem) as too_wide:
        read(wide)
    with pytest.raises(FileProblem) as too_long:
        read(long)

    assert too_wide.value.message.startswith(
        "Line 2 has a value in column 33; a file may have up to 20 columns."
    )
    assert too_long.value.message.startswith(
        "Line 2, column 2 holds 1,001 bytes; a cell may hold 1,000 bytes."
    )


def test_cells_at_the_limits_and_empty_columns_past_them_are_read(small_limits):
    """The limit counts bytes of UTF-8 (é is two) and columns with a value."""
    data = ("Account ID,Email" + "," * 40 + "\nPARIS," + "é" * 500 + "," * 40 + "\n").encode()

    headers, rows = read(data)

    assert (headers[:2], rows[0][1][:2]) == (["Account ID", "Email"], ["PARIS", "é" * 500])


def test_a_line_past_any_row_is_refused_before_it_is_read(small_limits):
    data = b"Account ID,Email\nPARIS,a\n" + b"x" * (5 << 20) + b"\n"
    file = io.BytesIO(data)

    with pytest.raises(FileProblem) as problem:
        read_table(file)

    assert problem.value.message == (
        "Line 3 is longer than any row can be (20 columns of up to 1,000 bytes each): a "
        "quotation mark may be left open, or the file has no line breaks. Fix it and upload the "
        "file again."
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_lines_are_counted_and_measured_across_the_pieces_the_file_is_scanned_in(newline):
    # Rows of up to 46 bytes, read 46 bytes at a time: line ends fall on every side of a cut.
    limits = Limits(rows=100, columns=2, cell_bytes=10, xlsx_size=0)
    rows = [f"P{number},{'x' * (number % 10)}" for number in range(30)]
    data = newline.join(["Account ID,Email", *rows, "P,".ljust(46, "y")]) + newline

    table = read_table(io.BytesIO(data.encode()), limits=limits)

    assert table.row_estimate == 31
    with pytest.raises(FileProblem) as problem:
        list(table.rows)  # the last row's cell is past 10 bytes, its line within 46
    assert problem.value.message.startswith("Line 32, column 2 holds 44 bytes;")
    with pytest.raises(FileProblem) as problem:
        read_table(io.BytesIO((data + "P,".ljust(47, "y")).encode()), limits=limits)
    assert problem.value.message.startswith("Line 33 is longer than any row can be")


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
