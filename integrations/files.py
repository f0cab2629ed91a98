"""Integration files on disk: reading CSV and XLSX into rows with their line numbers, and writing
them back out with formula neutralising (SPEC §4, §7).

Accepted: CSV in UTF-8 with or without a BOM, delimited by commas, semicolons or tabs, with CRLF,
LF or CR line ends; and XLSX (the first worksheet). Anything else gets one FileProblem whose
message says what the file is and what to do.

Rows are read lazily, so a large file is never held in memory as a whole.
"""

import codecs
import csv
import io
import itertools
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.files import File

from contacts.exports import FORMULA_TRIGGERS, NEUTRALISE, neutralise

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and password-protected .xlsx
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
DELIMITERS = (",", ";", "\t")

# A spreadsheet runs a cell that begins with a formula character as a formula (CSV injection).
# Exports put an apostrophe in front (contacts.exports.neutralise, shared with the people
# downloads); imports take one apostrophe away again before any of these (or another
# apostrophe), so a round trip changes nothing.

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FileProblem(Exception):
    """The file as a whole cannot be imported. The message is for the person who uploaded it."""

    def __init__(self, message, code="invalid_file"):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self):
        return self.message


@dataclass
class Table:
    """A file's header row and, lazily, its data rows as (line number, cell values).

    Line numbers are as a spreadsheet shows them: the header is line 1 (when the file starts with
    it) and a row whose quoted value spans several lines has the line where it starts. Rows of
    only empty cells are left out.
    """

    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    file_format: str  # "csv" or "xlsx"
    delimiter: str = ""
    row_estimate: int = 0
    header_line: int = 1
    warnings: list[str] = field(default_factory=list)

    def __iter__(self):
        return self.rows


def unneutralise(value):
    """Undo neutralise(): one leading apostrophe before a formula character goes."""
    if (
        len(value) > 1
        and value[0] == NEUTRALISE
        and value[1:].startswith((*FORMULA_TRIGGERS, NEUTRALISE))
    ):
        return value[1:]
    return value


def read_table(file):
    """Open a binary file object (an upload, a stored file, an open file) as a Table.

    Raises FileProblem for a file that is empty, binary, UTF-16, not UTF-8, not a readable XLSX,
    or has a header row and no data rows.
    """
    start = _peek(file, 8)
    if start.startswith(XLSX_MAGIC):
        return _read_xlsx(file)
    if start.startswith(OLE_MAGIC):
        raise FileProblem(
            "This is an old Excel (.xls) file or a password-protected workbook. Save it as .xlsx "
            "(without a password) or as CSV UTF-8, and upload that.",
            code="xls",
        )
    if start.startswith(UTF16_BOMS):
        raise FileProblem(
            "This file is UTF-16 text. Save it as CSV UTF-8 (or as .xlsx) and upload that.",
            code="utf16",
        )
    return _read_csv(file)


def _peek(file, size):
    file.seek(0)
    start = file.read(size)
    file.seek(0)
    return start


# CSV


def _read_csv(file):
    # Before reading rows, which moves the file's position.
    estimate = _scan_csv(file)
    lines = _decoded_lines(file)
    # The header is the first line with any text on it; the delimiter is whichever of comma,
    # semicolon and tab it uses most (a single-column header works with any).
    header_line, text = next(((n, t) for n, t in lines if t.strip()), (None, None))
    if header_line is None:
        raise FileProblem("The file is empty.", code="empty")
    delimiter = max(DELIMITERS, key=lambda d: (_count_outside_quotes(text, d), d == ","))
    line_numbers = []  # the physical line of each line handed to the CSV reader

    def source():
        for number, text_ in itertools.chain([(header_line, text)], lines):
            line_numbers.append(number)
            yield text_

    reader = csv.reader(source(), delimiter=delimiter)
    try:
        headers = [cell.strip() for cell in next(reader)]
    except csv.Error as error:
        raise FileProblem(
            f"Line {header_line}: the header row cannot be read ({error})."
        ) from error

    def rows():
        consumed = reader.line_num
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise FileProblem(
                    f"Line {line_numbers[consumed]}: this row cannot be read as CSV ({error})."
                ) from error
            start_line = line_numbers[consumed]
            consumed = reader.line_num
            if any(value.strip() for value in values):
                yield start_line, values

    data = _require_data(rows())
    return Table(
        headers=headers,
        rows=data,
        file_format="csv",
        delimiter=delimiter,
        row_estimate=estimate,
        header_line=header_line,
    )


def _decoded_lines(file):
    """(line number, text) for each physical line, decoded as UTF-8 with any BOM dropped.

    Django's File splits on CRLF, LF and a lone CR alike and keeps the line ends, which the CSV
    reader needs for values that span lines.
    """
    file.seek(0)
    lines = iter(File(file))
    number = 0
    for number, raw in enumerate(lines, 1):
        line = raw[len(UTF8_BOM) :] if number == 1 and raw.startswith(UTF8_BOM) else raw
        try:
            yield number, line.decode("utf-8")
        except UnicodeDecodeError as error:  # _scan_csv() found none; the file changed since
            _not_utf8(number, error)


def _count_outside_quotes(text, delimiter):
    count, quoted = 0, False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _scan_csv(file):
    """Check the whole file is UTF-8 text before any row is read, so a bad byte near the end
    fails the file at once rather than after half of it was read; and count its line ends
    (less the header's), which is the number of rows unless values span lines."""
    file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, last = 0, b""
    for chunk in iter(lambda: file.read(1 << 20), b""):
        if b"\x00" in chunk:
            raise FileProblem(
                "This is not a CSV or XLSX file: it holds binary data. Save it as CSV UTF-8 or "
                "as .xlsx and upload that.",
                code="binary",
            )
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            _not_utf8(lines + chunk[: error.start].count(b"\n") + 1, error)
        lines += chunk.count(b"\n")
        last = chunk
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        _not_utf8(lines + 1, error)
    if last and not last.endswith(b"\n"):
        lines += 1
    return max(lines - 1, 0)


def _not_utf8(line, error):
    raise FileProblem(
        f"Line {line} is not UTF-8 text (the file may be saved as Windows-1252 or Latin-1). "
        "Save it as CSV UTF-8 and upload it again.",
        code="not_utf8",
    ) from error


# XLSX


def _read_xlsx(file):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    file.seek(0)
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
        sheet = workbook.active or workbook.worksheets[0]
    except (InvalidFileException, KeyError, OSError, ValueError, IndexError) as error:
        raise FileProblem(
            "This file looks like a zip or .xlsx file but cannot be read as a workbook. Open it "
            "in a spreadsheet, save it as .xlsx or CSV UTF-8, and upload that.",
            code="bad_xlsx",
        ) from error
    except Exception as error:  # zipfile.BadZipFile and the like from a damaged file
        raise FileProblem(
            "This .xlsx file is damaged and cannot be read. Save it again as .xlsx or CSV UTF-8, "
            "and upload that.",
            code="bad_xlsx",
        ) from error
    estimate = max((sheet.max_row or 1) - 1, 0)
    # Some programs write a wrong size into the file; read every row there is instead.
    sheet.reset_dimensions()
    numbered = (
        (number, [_cell_text(value) for value in values])
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1)
    )
    header_line, headers = next(((n, h) for n, h in numbered if any(h)), (None, None))
    if header_line is None:
        workbook.close()
        raise FileProblem("The file is empty.", code="empty")

    def rows():
        try:
            for number, values in numbered:
                if any(value.strip() for value in values):
                    yield number, values
        finally:
            workbook.close()

    return Table(
        headers=[header.strip() for header in headers],
        rows=_require_data(rows()),
        file_format="xlsx",
        row_estimate=estimate,
        header_line=header_line,
    )


def _cell_text(value):
    """A cell as the text a person sees in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, (date, time, datetime)):
        return value.isoformat()
    return str(value)


def _require_data(rows):
    first = next(rows, None)
    if first is None:
        raise FileProblem("The file has a header row but no data rows.", code="no_rows")
    return itertools.chain([first], rows)


# Writing


def csv_lines(headers, rows):
    """The CSV file, one encoded line (or a few) at a time, for streaming: UTF-8, commas, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for batch in itertools.batched(rows, 500):
        writer.writerows([neutralise(value) for value in row] for row in batch)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    # The header alone, when there are no rows.
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def write_csv(headers, rows, out):
    for chunk in csv_lines(headers, rows):
        out.write(chunk)


def write_xlsx(headers, rows, out, *, title="Users"):
    """Write an .xlsx workbook to the binary file `out`, streaming rows through openpyxl's
    write-only mode. Every cell is stored as text, which a spreadsheet never runs as a formula
    however it begins."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)

    def text_cell(value):
        if value is None or value == "":
            return None
        cell = WriteOnlyCell(sheet, value=str(value))
        cell.data_type = "s"
        return cell

    sheet.append([text_cell(header) for header in headers])
    for row in rows:
        sheet.append([text_cell(value) for value in row])
    workbook.save(out)


def xlsx_file(headers, rows):
    """The workbook in a temporary file (on disk past a few megabytes), positioned at 0."""
    # Returned open: the caller (a FileResponse, or export_users) closes it.
    out = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115
    write_xlsx(headers, rows, out)
    out.seek(0)
    return out
