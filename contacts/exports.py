"""Tables of memberships for people lists and downloads: the columns and the file writers.

The column names that match the users file of SPEC §4.1 (Account ID, Email, First Name,
Last Name, Title, Phone, Account Role, Contact, Key Contact) are written the way an import
reads them, so a download with those columns can be imported again.
"""

import csv
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from django.http import FileResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from openpyxl import Workbook

# Spreadsheet programs run a cell that starts with one of these as a formula. A ' in front makes
# it text; an import takes one ' away again before these (or another '), so a value that already
# starts with ' gets one more, and a download re-imports unchanged.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISE = "'"


def neutralise(value):
    """Text a spreadsheet shows as written, never runs as a formula."""
    text = "" if value is None else str(value)
    return NEUTRALISE + text if text.startswith((*FORMULA_TRIGGERS, NEUTRALISE)) else text


def yes_no(flag):
    return "yes" if flag else "no"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    value: Callable  # membership -> str
    # The page a cell of the People list links to (membership -> URL); files have no links.
    link: Callable | None = None


COLUMNS = {
    column.key: column
    for column in (
        Column(
            "name", "Name", lambda m: m.person.full_name, link=lambda m: m.person.get_absolute_url()
        ),
        Column("email", "Email", lambda m: m.person.email),
        Column("first_name", "First Name", lambda m: m.person.first_name),
        Column("last_name", "Last Name", lambda m: m.person.last_name),
        Column(
            "account",
            "Account",
            lambda m: m.account.name,
            link=lambda m: m.account.get_absolute_url(),
        ),
        Column("account_id", "Account ID", lambda m: m.account.external_id),
        Column("account_type", "Account Type", lambda m: m.account.account_type.name),
        Column("role", "Account Role", lambda m: m.role.name if m.role_id else ""),
        Column("contact", "Contact", lambda m: yes_no(m.is_contact)),
        Column("key_contact", "Key Contact", lambda m: yes_no(m.is_key_contact)),
        Column("title", "Title", lambda m: m.person.title),
        Column("phone", "Phone", lambda m: m.person.phone),
        Column("status", "Status", lambda m: m.status),
        Column("start_date", "Start Date", lambda m: _iso(m.start_date)),
        Column("end_date", "End Date", lambda m: _iso(m.end_date)),
    )
}
DEFAULT_COLUMNS = ["name", "email", "account", "account_type", "role", "key_contact"]
# The columns of the users file, in its order: a download of these imports again.
USERS_FILE_COLUMNS = [
    "account_id",
    "email",
    "first_name",
    "last_name",
    "title",
    "phone",
    "role",
    "contact",
    "key_contact",
    "status",
    "start_date",
    "end_date",
]

CHUNK = 2000  # rows read from the database at a time while streaming


def rows(memberships, columns, *, download=None):
    """The header, then one list of neutralised cells per membership, read in chunks. With
    `download` (a DownloadRecord), the memberships written are counted into it."""
    chosen = [COLUMNS[key] for key in columns]
    yield [column.label for column in chosen]
    records = memberships.iterator(chunk_size=CHUNK)
    if download is not None:
        records = download.counting(records)
    for membership in records:
        yield [neutralise(column.value(membership)) for column in chosen]


class _Echo:
    def write(self, value):
        return value


def csv_chunks(memberships, columns, *, download=None):
    """The CSV file as text chunks, for a streaming response: memory stays flat."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so spreadsheet programs read UTF-8
    for row in rows(memberships, columns, download=download):
        yield writer.writerow(row)


def xlsx_file(memberships, columns, *, download=None):
    """The XLSX file in a temporary file (openpyxl's write-only mode keeps one row in memory).
    The caller streams and closes it."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("People")
    for row in rows(memberships, columns, download=download):
        sheet.append(row)
    # Not a with block: the file outlives this function; the response closes it once sent.
    spooled = tempfile.TemporaryFile()  # noqa: SIM115
    workbook.save(spooled)
    spooled.seek(0)
    return spooled


def download(body, *, filename, content_type):
    """The response that downloads `body` as `filename`: a file (an XLSX written out first) as
    a FileResponse, anything else (CSV chunks as they are made) streamed."""
    if isinstance(body, (bytes, bytearray)) or hasattr(body, "read"):
        return FileResponse(body, as_attachment=True, filename=filename, content_type=content_type)
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _iso(day):
    """A date as the users file writes it (YYYY-MM-DD), blank for none."""
    return day.isoformat() if day else ""
