"""Past 400 lines as one thing: reading integration files (formats, encodings, the limits that
keep any file's reading short and small) and writing them back with the same formula guard.

Integration files on disk: reading CSV and XLSX into rows with their line numbers, and writing
them back out with formula neutralising (SPEC §4, §7).

Accepted: CSV delimited by commas, semicolons or tabs, with CRLF, LF or CR line ends, in UTF-8
(with or without a BOM) or in any other text encoding: the one a person chose, or else the one
a UTF-16/32 BOM or charset_normalizer finds (Excel and Salesforce write Windows-1252, Google and
Outlook sometimes UTF-16); and XLSX (the first worksheet). Anything else gets one FileProblem
whose message says what the file is and what to do.

A UTF-8 file is read as it always was, with no detection at all. A file in another encoding is
transcoded to UTF-8 into a temporary file first, counted and measured against the limits as it
is written, and then read by the same CSV reader: its line numbers and limits are those of any
UTF-8 file.

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
# UTF-32's little-endian BOM begins with UTF-16's: it is looked for first.
UNICODE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
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

    def check_cells(self, line, values, *, row=None):
        """The columns and cell sizes of one row (or the header row) of text values; `row` is
        its spreadsheet row, when that is not its line."""
        if len(values) > self.columns:
            # Empty cells at the end of a row are harmless (spreadsheets write them).
            used = next((index for index in range(len(values), 0, -1) if values[index - 1]), 0)
            if used > self.columns:
                place = _sentence_place(line, row)
                raise FileProblem(
                    f"{place} has a value in column {used:,}; a file may have up to "
                    f"{self.columns:,} columns. Remove the columns the import does not need "
                    "and upload the file again.",
                    code="too_many_columns",
                )
        # A character is at most four bytes of UTF-8: most rows need no encoding to check.
        if values and max(map(len, values)) * 4 > self.cell_bytes:
            for column, value in enumerate(values, 1):
                size = len(value.encode("utf-8", "surrogatepass"))
                if size > self.cell_bytes:
                    raise self.cell_too_large(line, column=column, size=size, row=row)

    def cell_too_large(self, line, *, column=None, size=None, row=None):
        limit = f"{self.cell_bytes:,} bytes"
        place = _sentence_place(line, row)
        if column:
            found = f"{place}, column {column:,} holds {size:,} bytes; a cell may hold {limit}"
        else:  # the csv module stopped at its own, larger limit
            found = f"{place} holds a value longer than a cell may hold ({limit})"
        return FileProblem(
            f"{found}. Shorten the value (or remove the column if the import does not need it) "
            "and upload the file again.",
            code="cell_too_large",
        )

    def row_too_long(self, line, row=None):
        place = _sentence_place(line, row)
        return FileProblem(
            f"{place} is longer than any row can be ({self.columns:,} columns of up to "
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

    Line numbers are as a text editor shows them: the header is line 1 (when the file starts with
    it) and a row whose quoted value spans several lines has the line where it starts. Rows of
    only empty cells are left out.

    A spreadsheet shows such a row further up, one row per record: `sheet_rows` holds the
    spreadsheet row of each row read so far whose line differs from it (filled as the rows are
    read, so it costs nothing for files without multi-line values), and `where(line)` names both
    for messages. In a workbook lines are sheet rows and it stays empty.
    """

    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    file_format: str  # "csv" or "xlsx"
    delimiter: str = ""
    row_estimate: int = 0
    header_line: int = 1
    warnings: list[str] = field(default_factory=list)
    # The codec the text was read with ("utf-8", "utf-8-sig" with a BOM, "cp1252", "utf-16"…;
    # "" for a workbook), and whether the reader chose it (rather than a person or a template).
    encoding: str = ""
    encoding_detected: bool = False
    sheet_rows: dict[int, int] = field(default_factory=dict)

    def __iter__(self):
        return self.rows

    @property
    def header_labels(self):
        """The headers as messages show them: each on one line, a header cell's line breaks
        and runs of spaces as one space (the headers themselves keep their text)."""
        return [" ".join(header.split()) for header in self.headers]

    def where(self, line):
        """'line 12', or 'line 12 (spreadsheet row 10)' for a row that starts further down the
        file than a spreadsheet shows it (a value above it spans several lines)."""
        return _place(line, self.sheet_rows.get(line))


def _place(line, row=None):
    return f"line {line}" if row is None or row == line else f"line {line} (spreadsheet row {row})"


def _sentence_place(line, row=None):
    """_place() at the start of a sentence."""
    place = _place(line, row)
    return place[0].upper() + place[1:]


def unneutralise(value):
    """Undo neutralise(): one leading apostrophe before a formula character goes."""
    if (
        len(value) > 1
        and value[0] == NEUTRALISE
        and value[1:].startswith((*FORMULA_TRIGGERS, NEUTRALISE))
    ):
        return value[1:]
    return value


def read_table(file, *, limits=None, encoding=None):
    """Open a binary file object (an upload, a stored file, an open file) as a Table.

    `encoding` is the Python codec a person (or a mapping template) chose for a CSV file; None
    (or "") has the reader find it: a UTF-16/32 BOM names it, a file that is UTF-8 throughout is
    UTF-8, and any other is read in the encoding charset_normalizer finds. A workbook has none.

    Raises FileProblem for an unknown `encoding`, and for a file that is empty, binary, not
    text in its encoding, not a readable XLSX, has a header row and no data rows, or crosses
    one of the `limits` (by default the settings'); reading the rows raises it for a limit
    crossed further on.
    """
    limits = limits or Limits.from_settings()
    chosen = text_codec(encoding) if encoding else None
    start = _peek(file, 8)
    if start.startswith(XLSX_MAGIC):
        return _read_xlsx(file, limits)
    if start.startswith(OLE_MAGIC):
        raise FileProblem(
            "This is an old Excel (.xls) file or a password-protected workbook. Save it as .xlsx "
            "(without a password) or as CSV UTF-8, and upload that.",
            code="xls",
        )
    if chosen in ("utf-8", "utf-8-sig"):
        try:
            return _read_csv(file, limits, detected=False)
        except _NotUTF8 as not_utf8:
            suggestion = _detect(file, not_utf8.offset)
            raise _undecodable(not_utf8.line, "utf-8", suggestion=suggestion) from not_utf8
    if chosen:
        return _read_transcoded(file, limits, chosen, detected=False)
    bom_codec = next((codec for bom, codec in UNICODE_BOMS if start.startswith(bom)), None)
    if bom_codec:
        return _read_transcoded(file, limits, bom_codec, detected=True)
    try:
        # The common case, read as it always was: no detection, no copy.
        return _read_csv(file, limits, detected=True)
    except _NotUTF8 as not_utf8:
        detected = _detect(file, not_utf8.offset)
        if detected is None:
            raise FileProblem(
                f"Line {not_utf8.line} is not UTF-8 text, and no other encoding fits the file. "
                "Choose the encoding it was saved in, or save it as CSV UTF-8, and upload it "
                "again.",
                code="not_utf8",
            ) from not_utf8
    return _read_transcoded(file, limits, detected, detected=True)


def _peek(file, size):
    file.seek(0)
    start = file.read(size)
    file.seek(0)
    return start


# Encodings

# The encodings a page offers for a person to choose from, as (Python codec, label): the ones
# exports of other systems are written in, most common first.
COMMON_ENCODINGS = [
    ("utf-8", "Unicode (UTF-8)"),
    ("cp1252", "Western European (Windows-1252)"),
    ("iso-8859-1", "Western European (ISO-8859-1)"),
    ("iso-8859-15", "Western European (ISO-8859-15)"),
    ("utf-16", "Unicode (UTF-16)"),
    ("mac_roman", "Mac OS Roman"),
    ("cp1250", "Central European (Windows-1250)"),
    ("iso-8859-2", "Central European (ISO-8859-2)"),
    ("cp1251", "Cyrillic (Windows-1251)"),
    ("koi8_r", "Cyrillic (KOI8-R)"),
    ("cp1253", "Greek (Windows-1253)"),
    ("cp1254", "Turkish (Windows-1254)"),
    ("cp1257", "Baltic (Windows-1257)"),
    ("cp1255", "Hebrew (Windows-1255)"),
    ("cp1256", "Arabic (Windows-1256)"),
    ("cp874", "Thai (Windows-874)"),
    ("shift_jis", "Japanese (Shift JIS)"),
    ("cp932", "Japanese (Windows-932)"),
    ("euc_jp", "Japanese (EUC-JP)"),
    ("gb18030", "Chinese Simplified (GB18030)"),
    ("big5", "Chinese Traditional (Big5)"),
    ("euc_kr", "Korean (EUC-KR)"),
    ("cp437", "DOS (Code page 437)"),
    ("cp850", "DOS Western European (Code page 850)"),
]
# By the name codecs.lookup() gives (iso8859-1 for latin-1, latin1, iso-8859-1…), so that any
# spelling of a codec finds its entry.
_COMMON_BY_NAME = {codecs.lookup(codec).name: (codec, label) for codec, label in COMMON_ENCODINGS}
_COMMON_BY_NAME["utf-8-sig"] = ("utf-8-sig", "Unicode (UTF-8)")
# Latin-1 and Latin-9 decode any byte, so they fit every file; Windows-1252 (what Excel and
# Salesforce write) reads their letters the same, and its curly quotes, dashes and euro sign
# where they have unprintable control characters.
_LATIN_1 = {"iso8859-1", "iso8859-15"}


def encoding_label(codec):
    """A codec as a person reads it ("Western European (Windows-1252)"); a codec that is not one
    of COMMON_ENCODINGS keeps its name."""
    try:
        name = codecs.lookup(codec).name
    except (LookupError, TypeError, ValueError):
        return codec
    return _COMMON_BY_NAME.get(name, (codec, codec))[1]


def text_codec(encoding):
    """The name a person chose as the codec's own spelling (COMMON_ENCODINGS' when it is one)."""
    try:
        info = codecs.lookup(encoding)
    except (LookupError, TypeError, ValueError):
        info = None
    # base64, rot13 and the like are codecs too, but not of text.
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise FileProblem(
            f"“{encoding}” is not an encoding this import knows. Choose one of the encodings "
            "offered (such as Unicode (UTF-8) or Western European (Windows-1252)) and upload "
            "the file again.",
            code="unknown_encoding",
        )
    return _COMMON_BY_NAME.get(info.name, (info.name,))[0]


class _NotUTF8(Exception):
    """The UTF-8 scan met a byte that is not UTF-8, on `line`, at byte `offset` of the file."""

    def __init__(self, line, offset):
        super().__init__(line, offset)
        self.line = line
        self.offset = offset


# What charset_normalizer is shown of a file that is not UTF-8: its start, and the lines around
# the first byte that is not UTF-8, which may be far down a file of plain ASCII (detection on
# the start alone would then find ASCII, or anything).
DETECT_SAMPLE = 1 << 20
DETECT_WINDOW = 64 << 10


def _detect(file, offset):
    """The encoding of a file that is not UTF-8 from a sample of it, or None when none fits."""
    from charset_normalizer import from_bytes

    sample = _detection_sample(file, offset)
    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        return None
    # On a short sample of western text many code pages fit as well as each other (Windows-
    # 1250 often comes first): among those that fit as well as the best, Windows-1252 wins, as
    # it does over Latin-1, which fits any bytes at all.
    tied = [
        match
        for match in matches
        if match.chaos <= best.chaos + 0.01 and match.coherence >= best.coherence - 0.01
    ]
    names = {codecs.lookup(name).name for match in tied for name in match.could_be_from_charset}
    if ("cp1252" in names or names & _LATIN_1) and _decodes(sample, "cp1252"):
        return "cp1252"
    return text_codec(best.encoding)


def _detection_sample(file, offset):
    file.seek(0)
    sample = _whole_lines(file.read(DETECT_SAMPLE), at_start=True)
    if offset >= len(sample):
        file.seek(max(0, offset - DETECT_WINDOW // 2))
        window = file.read(DETECT_WINDOW)
        sample += b"\n" + _whole_lines(window, at_start=offset <= DETECT_WINDOW // 2)
    file.seek(0)
    return sample


def _whole_lines(data, *, at_start):
    """`data` without the parts of lines cut at its ends, so that no character of several bytes
    is cut in two (which would fit no encoding); all of it when it has no line end."""
    first = 0 if at_start else data.find(b"\n") + 1
    last = data.rfind(b"\n") + 1 or len(data)
    return data[first:last] if first < last else data


def _decodes(data, codec):
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _undecodable(line, codec, *, detected=False, suggestion=None):
    """A file that is not text in `codec` (found from the file's start, or chosen), from
    `line` on; `suggestion` is an encoding that fits the file's start."""
    label = encoding_label(codec)
    if detected:
        found = f"Line {line} is not {label} text, which the start of the file looked like"
    else:
        found = f"Line {line} is not {label} text, the encoding chosen for the file"
    if suggestion and suggestion != codec:
        choose = f"Choose {encoding_label(suggestion)}, which fits its start"
    else:
        choose = "Choose the encoding the file was saved in"
    return FileProblem(
        f"{found}. {choose}, or save it as CSV UTF-8, and upload it again.", code="undecodable"
    )


def _read_transcoded(file, limits, codec, *, detected):
    text_file, estimate = _transcode(file, codec, limits, detected=detected)
    table = _read_csv(text_file, limits, detected=detected, estimate=estimate)
    table.encoding = codec
    return table


TRANSCODE_CHUNK = 1 << 20


def _transcode(file, codec, limits, *, detected):
    """The file as UTF-8 in a temporary file (on disk past a few megabytes), and its number of
    lines but the header's, as _scan_csv() gives them.

    The UTF-8 is counted and measured as it is written, with _scan_csv()'s checks, so that a
    file past the limits is refused after as much reading as a UTF-8 one; and a byte that is not
    text in `codec` fails the file naming its line."""
    file.seek(0)
    # Returned open, for the rows to be read from lazily; it goes when they are dropped.
    out = tempfile.SpooledTemporaryFile(max_size=4 << 20)  # noqa: SIM115
    decoder = codecs.getincrementaldecoder(codec)()
    lines = _LineCount(limits)
    for chunk in iter(lambda: file.read(TRANSCODE_CHUNK), b""):
        state = decoder.getstate()
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as error:
            # The text before the bad byte, decoded from where the decoder was, for its line.
            before = codecs.getincrementaldecoder(codec)("replace")
            before.setstate((b"", state[1]))
            lines.feed(before.decode(error.object[: error.start]).encode("utf-8", "replace"))
            raise _undecodable(lines.lines + 1, codec, detected=detected) from error
        _write_text(out, text, lines)
    try:
        _write_text(out, decoder.decode(b"", final=True), lines)
    except UnicodeDecodeError as error:  # the file ends in the middle of a character
        raise _undecodable(lines.lines + 1, codec, detected=detected) from error
    out.seek(0)
    return out, lines.finish()


def _write_text(out, text, lines):
    if "\x00" in text:
        raise _binary()
    data = text.encode("utf-8")
    lines.feed(data)
    out.write(data)


# CSV


def _read_csv(file, limits, *, detected, estimate=None):
    """The Table of a UTF-8 file (`estimate` given when the file was scanned as it was
    written). Raises _NotUTF8 for a file that is not UTF-8, before any row is read."""
    # Before reading rows, which moves the file's position.
    if estimate is None:
        estimate = _scan_csv(file, limits)
    has_bom = _peek(file, len(UTF8_BOM)) == UTF8_BOM
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
    # The spreadsheet row of the record being read: one a record, blank ones too, from the
    # header's (the lines before the header are blank, a row each).
    sheet_row = header_line
    # (The lines handed to the reader keep their line ends, which the scan did not count.)
    max_row, max_columns, cell_chars = limits.row_bytes + 2, limits.columns, limits.cell_bytes // 4

    def source():
        nonlocal row_length
        for number, text_ in itertools.chain([(header_line, text)], lines):
            line_numbers.append(number)
            row_length += len(text_)
            if row_length > max_row:
                raise limits.row_too_long(line_numbers[row_start], sheet_row)
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
    sheet_rows = {}

    def rows():
        nonlocal row_length, row_start, sheet_row
        consumed = reader.line_num
        while True:
            row_length, row_start = 0, consumed
            sheet_row += 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                line = line_numbers[consumed]
                place = _sentence_place(line, sheet_row)
                raise _csv_problem(
                    error, line, limits, f"{place}: this row cannot be read as CSV", sheet_row
                ) from error
            start_line = line_numbers[consumed]
            consumed = reader.line_num
            if start_line != sheet_row:
                sheet_rows[start_line] = sheet_row
            # A row shorter than a quarter of a cell's bytes cannot hold too large a cell.
            if len(values) > max_columns or row_length > cell_chars:
                limits.check_cells(start_line, values, row=sheet_row)
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
        encoding="utf-8-sig" if has_bom else "utf-8",
        encoding_detected=detected,
        sheet_rows=sheet_rows,
    )


def _csv_problem(error, line, limits, what, row=None):
    # The csv module refuses a value past its own field limit (131,072 characters), which is
    # more than a cell may hold: the same message as for a cell past the limit.
    if "field larger than field limit" in str(error):
        return limits.cell_too_large(line, row=row)
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
            raise _undecodable(number, "utf-8") from error


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
    the end fails the file at once rather than after half of it was read: that it is UTF-8 text
    (else _NotUTF8), that no line is longer than a row can be, and that it has no more lines
    than the row limit allows (reading stops there). Returns the number of lines but the
    header's, which is the number of rows unless values span lines.

    One piece of the file is in memory at a time."""
    file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = _LineCount(limits)
    read = 0  # bytes read before the current piece
    for chunk in iter(lambda: file.read(lines.piece), b""):
        if b"\x00" in chunk:
            raise _binary()
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            # (The decoder may hold up to 3 bytes of the last piece, which error.object
            # starts with.)
            at = error.start - (len(error.object) - len(chunk))  # in this piece
            line = lines.lines + _line_ends(chunk[: max(0, at)]) + 1
            raise _NotUTF8(line, max(0, read + at)) from error
        lines.feed(chunk)
        read += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise _NotUTF8(lines.lines + 1, read - 1) from error
    return lines.finish()


class _LineCount:
    """Lines of UTF-8 fed piece by piece, as the reader splits them (CRLF, LF or a lone CR),
    refusing a line longer than a row can be and more lines than the row limit allows."""

    def __init__(self, limits):
        self.limits = limits
        self.lines = 0  # line ends read so far
        self.open_line = 0  # bytes of the line that the last piece ended in the middle of
        self.after_cr = False  # the last piece ended with CR, so an LF next ends no further line
        # Pieces no longer than a row may be: a line inside one is short enough, so only a line
        # that runs over the end of a piece needs measuring (all of it in C: find, count).
        self.piece = max(1, min(1 << 20, limits.row_bytes))

    def feed(self, data):
        if len(data) > self.piece:
            for at in range(0, len(data), self.piece):
                self._feed_piece(data[at : at + self.piece])
        else:
            self._feed_piece(data)

    def _feed_piece(self, data):
        limits = self.limits
        if self.after_cr and data.startswith(b"\n"):
            data = data[1:]
        self.after_cr = data.endswith(b"\r")
        ends = _line_ends(data)
        if ends:
            first_end = min(at for at in (data.find(b"\n"), data.find(b"\r")) if at >= 0)
            if self.open_line + first_end > limits.row_bytes:
                raise limits.row_too_long(self.lines + 1)
            self.open_line = len(data) - 1 - max(data.rfind(b"\n"), data.rfind(b"\r"))
        else:
            self.open_line += len(data)
            if self.open_line > limits.row_bytes:
                raise limits.row_too_long(self.lines + 1)
        self.lines += ends
        limits.check_row_count(self.lines)

    def finish(self):
        """The number of lines but the header's."""
        if self.open_line:
            self.lines += 1  # the last line, without a line end
            self.limits.check_row_count(self.lines)
            self.open_line = 0
        return max(self.lines - 1, 0)


def _line_ends(data):
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _binary():
    return FileProblem(
        "This is not a CSV or XLSX file: it holds binary data. Save it as CSV UTF-8 or as .xlsx "
        "and upload that.",
        code="binary",
    )


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
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)

    def text_cell(value):
        if value is None or value == "":
            return None
        # A control character no workbook can hold (stored before imports and forms refused
        # them) is left out rather than failing the whole file.
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        # A text cell is never run, so it needs no guard; but a value that reads as guarded
        # ("'=x") gets one, as in CSV, or the import would take its apostrophe away.
        if text[:1] == NEUTRALISE and unneutralise(text) != text:
            text = NEUTRALISE + text
        cell = WriteOnlyCell(sheet, value=text)
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
