"""Past 400 lines as one thing: reading integration files (formats, encodings, the limits that
keep any file's reading short and small) and writing them back with the same formula guard.

Integration files on disk: reading CSV and XLSX into rows with their line numbers, and writing
them back out with formula neutralising (SPEC §4, §7).

Accepted: CSV in UTF-8 with or without a BOM, delimited by commas, semicolons or tabs, with CRLF,
LF or CR line ends; and XLSX (the first worksheet). Anything else gets one FileProblem whose
message says what the file is and what to do.

Rows are read lazily, so a large file is never held in memory as a whole; and every file is held
to the Limits (rows, columns, bytes per cell, the unpacked size of a workbook) while it is read,
so that no file, however built, takes the reader long or much memory before it is refused. The
integrations page's preview job, the admin's import buttons and the commands all read through
read_table(), so they all refuse the same files with the same messages.
"""

import codecs
import csv
import io
import itertools
import struct
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings
from django.core.files import File
from django.template.defaultfilters import filesizeformat

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


@dataclass(frozen=True)
class Limits:
    """What one file may hold, from the INTEGRATIONS_MAX_* settings (config/settings.py says
    why each default is what it is). Each is checked while the file is read, before the rows it
    guards are built, and a file that crosses one gets a FileProblem naming it."""

    rows: int
    columns: int
    cell_bytes: int
    xlsx_size: int

    @classmethod
    def from_settings(cls):
        return cls(
            rows=settings.INTEGRATIONS_MAX_ROWS,
            columns=settings.INTEGRATIONS_MAX_COLUMNS,
            cell_bytes=settings.INTEGRATIONS_MAX_CELL_BYTES,
            xlsx_size=settings.INTEGRATIONS_MAX_XLSX_SIZE,
        )

    @property
    def row_bytes(self):
        """Longer than any CSV row within the other limits can be written: every cell at its
        limit, quoted, with its quotes doubled. A longer line or row is refused before it is
        read into memory."""
        return self.columns * (2 * self.cell_bytes + 3)

    def check_row_count(self, last_line):
        """`last_line` is a physical line (or sheet row) number: blank ones count, so that a
        file of millions of empty lines is refused after the first INTEGRATIONS_MAX_ROWS."""
        if last_line > self.rows + 1:
            raise FileProblem(
                f"This file has more than {self.rows:,} row{'s' if self.rows != 1 else ''} "
                "after its header row (blank lines "
                f"count too); up to {self.rows:,} can be imported at once. Split it into "
                "smaller files and import each.",
                code="too_many_rows",
            )

    def check_cells(self, line, values):
        """The columns and cell sizes of one row (or the header row) of text values."""
        if len(values) > self.columns:
            # Empty cells at the end of a row are harmless (spreadsheets write them).
            used = next((index for index in range(len(values), 0, -1) if values[index - 1]), 0)
            if used > self.columns:
                raise FileProblem(
                    f"Line {line} has a value in column {used:,}; a file may have up to "
                    f"{self.columns:,} columns. Remove the columns the import does not need "
                    "and upload the file again.",
                    code="too_many_columns",
                )
        # A character is at most four bytes of UTF-8: most rows need no encoding to check.
        if values and max(map(len, values)) * 4 > self.cell_bytes:
            for column, value in enumerate(values, 1):
                size = len(value.encode("utf-8", "surrogatepass"))
                if size > self.cell_bytes:
                    raise self.cell_too_large(line, column=column, size=size)

    def cell_too_large(self, line, *, column=None, size=None):
        limit = f"{self.cell_bytes:,} bytes"
        if column:
            found = f"Line {line}, column {column:,} holds {size:,} bytes; a cell may hold {limit}"
        else:  # the csv module stopped at its own, larger limit
            found = f"Line {line} holds a value longer than a cell may hold ({limit})"
        return FileProblem(
            f"{found}. Shorten the value (or remove the column if the import does not need it) "
            "and upload the file again.",
            code="cell_too_large",
        )

    def row_too_long(self, line):
        return FileProblem(
            f"Line {line} is longer than any row can be ({self.columns:,} columns of up to "
            f"{self.cell_bytes:,} bytes each): a quotation mark may be left open, or the file "
            "has no line breaks. Fix it and upload the file again.",
            code="row_too_long",
        )


def _size(size):
    """A size as people read it, with plain spaces (the messages go to the command line too)."""
    return filesizeformat(size).replace("\xa0", " ")


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


def read_table(file, *, limits=None):
    """Open a binary file object (an upload, a stored file, an open file) as a Table.

    Raises FileProblem for a file that is empty, binary, UTF-16, not UTF-8, not a readable XLSX,
    has a header row and no data rows, or crosses one of the `limits` (by default the
    settings'); reading the rows raises it for a limit crossed further on.
    """
    limits = limits or Limits.from_settings()
    start = _peek(file, 8)
    if start.startswith(XLSX_MAGIC):
        return _read_xlsx(file, limits)
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
    return _read_csv(file, limits)


def _peek(file, size):
    file.seek(0)
    start = file.read(size)
    file.seek(0)
    return start


# CSV


def _read_csv(file, limits):
    # Before reading rows, which moves the file's position.
    estimate = _scan_csv(file, limits)
    lines = _decoded_lines(file)
    # The header is the first line with any text on it; the delimiter is whichever of comma,
    # semicolon and tab it uses most (a single-column header works with any).
    header_line, text = next(((n, t) for n, t in lines if t.strip()), (None, None))
    if header_line is None:
        raise FileProblem("The file is empty.", code="empty")
    delimiter = max(DELIMITERS, key=lambda d: (_count_outside_quotes(text, d), d == ","))
    line_numbers = []  # the physical line of each line handed to the CSV reader
    # The characters handed to the reader since its current row began, and where that row
    # began (in line_numbers): a row whose quoted values go on line after line is refused
    # before it outgrows any row within the limits.
    row_length, row_start = 0, 0
    # (The lines handed to the reader keep their line ends, which the scan did not count.)
    max_row, max_columns, cell_chars = limits.row_bytes + 2, limits.columns, limits.cell_bytes // 4

    def source():
        nonlocal row_length
        for number, text_ in itertools.chain([(header_line, text)], lines):
            line_numbers.append(number)
            row_length += len(text_)
            if row_length > max_row:
                raise limits.row_too_long(line_numbers[row_start])
            yield text_

    reader = csv.reader(source(), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as error:
        raise _csv_problem(
            error, header_line, limits, f"Line {header_line}: the header row cannot be read"
        ) from error
    limits.check_cells(header_line, header)
    headers = [cell.strip() for cell in header]

    def rows():
        nonlocal row_length, row_start
        consumed = reader.line_num
        while True:
            row_length, row_start = 0, consumed
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                line = line_numbers[consumed]
                raise _csv_problem(
                    error, line, limits, f"Line {line}: this row cannot be read as CSV"
                ) from error
            start_line = line_numbers[consumed]
            consumed = reader.line_num
            # A row shorter than a quarter of a cell's bytes cannot hold too large a cell.
            if len(values) > max_columns or row_length > cell_chars:
                limits.check_cells(start_line, values)
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


def _csv_problem(error, line, limits, what):
    # The csv module refuses a value past its own field limit (131,072 characters), which is
    # more than a cell may hold: the same message as for a cell past the limit.
    if "field larger than field limit" in str(error):
        return limits.cell_too_large(line)
    return FileProblem(f"{what} ({error}).")


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


def _scan_csv(file, limits):
    """Check the whole file before any row is read, so that a bad byte or an overlong line near
    the end fails the file at once rather than after half of it was read: that it is UTF-8 text,
    that no line is longer than a row can be, and that it has no more lines than the row limit
    allows (reading stops there). Returns the number of lines but the header's, which is the
    number of rows unless values span lines.

    Lines end with CRLF, LF or a lone CR, as the reader splits them; one piece of the file is
    in memory at a time."""
    file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0  # line ends read so far
    open_line = 0  # bytes of the line that the last piece ended in the middle of
    after_cr = False  # the last piece ended with CR, so an LF next ends no further line
    # Pieces no longer than a row may be: a line inside one is short enough, so only a line
    # that runs over the end of a piece needs measuring (all of it in C: find, count).
    size = max(1, min(1 << 20, limits.row_bytes))
    for chunk in iter(lambda: file.read(size), b""):
        if b"\x00" in chunk:
            raise FileProblem(
                "This is not a CSV or XLSX file: it holds binary data. Save it as CSV UTF-8 or "
                "as .xlsx and upload that.",
                code="binary",
            )
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            _not_utf8(lines + _line_ends(chunk[: error.start]) + 1, error)
        data = chunk[1:] if after_cr and chunk.startswith(b"\n") else chunk
        after_cr = data.endswith(b"\r")
        ends = _line_ends(data)
        if ends:
            first_end = min(at for at in (data.find(b"\n"), data.find(b"\r")) if at >= 0)
            if open_line + first_end > limits.row_bytes:
                raise limits.row_too_long(lines + 1)
            open_line = len(data) - 1 - max(data.rfind(b"\n"), data.rfind(b"\r"))
        else:
            open_line += len(data)
            if open_line > limits.row_bytes:
                raise limits.row_too_long(lines + 1)
        lines += ends
        limits.check_row_count(lines)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        _not_utf8(lines + 1, error)
    if open_line:
        lines += 1  # the last line, without a line end
        limits.check_row_count(lines)
    return max(lines - 1, 0)


def _line_ends(data):
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _not_utf8(line, error):
    raise FileProblem(
        f"Line {line} is not UTF-8 text (the file may be saved as Windows-1252 or Latin-1). "
        "Save it as CSV UTF-8 and upload it again.",
        code="not_utf8",
    ) from error


# XLSX


# A workbook is a zip archive of XML parts. Python's zipfile never inflates a part past the size
# the archive's central directory declares for it (a part that claims less fails its CRC check),
# and openpyxl reads every part it needs through it, the shared strings whole: the declared
# sizes bound what reading a workbook can cost, and they are known before any part is opened.
# A part that unpacks to more than 100 times its packed size is no spreadsheet's work (XML
# packs 5 to 20 times; Apache POI refuses the same ratio); parts under a megabyte may pack as
# they like. An .xlsx has a few dozen parts, so thousands are refused before zipfile lists them.
XLSX_MAX_RATIO = 100
XLSX_RATIO_FROM = 1 << 20
XLSX_MAX_PARTS = 10_000
ZIP_END = b"PK\x05\x06"


def _check_archive(file, limits):
    """Refuse a workbook whose parts would unpack to more than the limit, or pack too tightly
    (a zip bomb), from its central directory and before openpyxl opens it."""
    if _zip_entry_count(file) > XLSX_MAX_PARTS:
        raise FileProblem(
            f"This file is a zip archive of more than {XLSX_MAX_PARTS:,} parts, which no "
            "workbook has. Open it in a spreadsheet, save it as .xlsx or CSV UTF-8, and upload "
            "that.",
            code="bad_xlsx",
        )
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as error:
        raise _damaged_xlsx() from error
    finally:
        file.seek(0)
    size = sum(part.file_size for part in parts)
    if size > limits.xlsx_size:
        raise FileProblem(
            f"This workbook unpacks to {_size(size)}; up to {_size(limits.xlsx_size)} can be "
            "imported. Split it into smaller files, or save it as CSV UTF-8 (which is much "
            "smaller), and upload that.",
            code="xlsx_too_large",
        )
    for part in parts:
        if part.file_size > max(XLSX_RATIO_FROM, part.compress_size * XLSX_MAX_RATIO):
            raise FileProblem(
                f"Part {part.filename} of this workbook unpacks from "
                f"{_size(part.compress_size)} to {_size(part.file_size)}, far more than a "
                "spreadsheet packs: the file looks built to overload the import (a zip bomb). "
                "Open it in a spreadsheet, save it again as .xlsx or CSV UTF-8, and upload "
                "that.",
                code="xlsx_bomb",
            )


def _zip_entry_count(file):
    """The number of parts the end of a zip archive declares (0 when it has no such end, for
    zipfile to report as damaged). A ZIP64 archive declares 0xFFFF here: more than any
    workbook has."""
    file.seek(0, io.SEEK_END)
    size = file.tell()
    # The end record is 22 bytes, after which a comment of up to 65,535 bytes may follow.
    file.seek(max(0, size - 22 - 0xFFFF))
    tail = file.read()
    file.seek(0)
    at = tail.rfind(ZIP_END)
    if at < 0 or len(tail) < at + 12:
        return 0
    return struct.unpack_from("<H", tail, at + 10)[0]


def _damaged_xlsx():
    return FileProblem(
        "This .xlsx file is damaged and cannot be read. Save it again as .xlsx or CSV UTF-8, "
        "and upload that.",
        code="bad_xlsx",
    )


def _read_xlsx(file, limits):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_archive(file, limits)
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
        raise _damaged_xlsx() from error
    estimate = max((sheet.max_row or 1) - 1, 0)
    # Some programs write a wrong size into the file; read every row there is instead.
    sheet.reset_dimensions()

    def numbered_rows():
        # Sheet rows are numbered as lines are, blank ones included (openpyxl yields the rows
        # a sheet skips as empty ones), so the row limit counts them the same way.
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            limits.check_row_count(number)
            texts = [_cell_text(value) for value in values]
            limits.check_cells(number, texts)
            yield number, texts

    numbered = numbered_rows()
    try:
        header_line, headers = next(((n, h) for n, h in numbered if any(h)), (None, None))
    except FileProblem:
        workbook.close()
        raise
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
