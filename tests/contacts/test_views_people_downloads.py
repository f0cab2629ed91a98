"""The people downloads (views/people.py, exports.py), one module: one pair of files.

CSV and XLSX downloads of the People list, /people/download.csv and .xlsx (SPEC §3.7, §5).

Every file is read back with the library a person's tools would use (the csv module, openpyxl)
and compared cell by cell with rows written out by hand.
"""

import csv
import io
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AccountRole
from contacts.exports import COLUMNS, USERS_FILE_COLUMNS
from contacts.models import ContactChange, DownloadRecord, Membership, Person, Segment
from integrations.services import import_file
from tests import stored
from tests.factories import AccountFactory, MembershipFactory, PersonFactory

FORMATS = ["csv", "xlsx"]
USERS_FILE_QUERY = "&".join(f"cols={key}" for key in USERS_FILE_COLUMNS)
USERS_FILE_HEADERS = [
    "Account ID",
    "Email",
    "First Name",
    "Last Name",
    "Title",
    "Phone",
    "Account Role",
    "Contact",
    "Key Contact",
    "Status",
    "Start Date",
    "End Date",
]
# Each row below is active, without dates (issue 14's columns).
ACTIVE = ["active", "", ""]


@pytest.fixture
def people(tree):
    """Five memberships of four people; Ada is at two accounts. Rows in list order:
    Ada at Berlin, Ada at Corp, Nora at Corp, Otto at Other, Pierre at Paris."""
    ada = PersonFactory(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@analytical.example",
        title="Countess",
        phone="+44 20 7946 0000",
    )
    nora = PersonFactory(first_name="Nora", last_name="Nobody", email="nora@corp.example")
    otto = PersonFactory(first_name="Otto", last_name="Ostrom", email="otto@other.example")
    pierre = PersonFactory(
        first_name="Pierre",
        last_name="Paquet",
        email="pierre@paris.example",
        title="Site manager",
        phone="01 23 45 67 89",
    )
    MembershipFactory(
        account=tree["corp"],
        person=ada,
        is_key_contact=True,
        role=stored.role("Corporate", "Executive sponsor"),
    )
    MembershipFactory(account=tree["berlin"], person=ada)
    MembershipFactory(
        account=tree["corp"],
        person=nora,
        is_contact=False,
        role=stored.role("Corporate", "Champion"),
    )
    MembershipFactory(
        account=tree["other"],
        person=otto,
        is_key_contact=True,
        role=stored.role("Corporate", "Champion"),
    )
    MembershipFactory(account=tree["paris"], person=pierre, role=stored.role("Site", "Site admin"))
    return tree


ROWS = 75  # more than one page of the list (PEOPLE_PER_PAGE is 50)


@pytest.fixture
def many(tree):
    """75 contacts at Austin (Row R000 … Row R074) and five members there who are not contacts."""
    for n in range(ROWS):
        MembershipFactory(
            account=tree["austin"],
            person=PersonFactory(
                first_name="Row", last_name=f"R{n:03d}", email=f"row{n:03d}@customer.example"
            ),
        )
    for n in range(5):
        MembershipFactory(
            account=tree["austin"],
            is_contact=False,
            person=PersonFactory(
                first_name="Row", last_name=f"R{n:03d}x", email=f"row{n:03d}x@customer.example"
            ),
        )
    return tree


def _download(client, file_format, query=""):
    return client.get(f"/people/download.{file_format}?{query}")


def _body(response):
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def _csv_rows(body):
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def _xlsx_rows(body):
    """The rows of the workbook's only sheet, "People". An empty cell reads back as None, which
    a spreadsheet shows as it shows an empty string: both become ""."""
    workbook = load_workbook(io.BytesIO(body))
    assert workbook.sheetnames == ["People"]
    return [
        ["" if value is None else value for value in row]
        for row in workbook["People"].iter_rows(values_only=True)
    ]


def _rows(response, file_format):
    body = _body(response)
    return _csv_rows(body) if file_format == "csv" else _xlsx_rows(body)


# Everything the filters select, not one page


def _row_numbers(numbers):
    return [[f"Row R{n:03d}", f"row{n:03d}@customer.example", "yes"] for n in numbers]


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_holds_every_selected_row_not_one_page(standard_client, many, file_format):
    response = _download(
        standard_client, file_format, "contact=yes&account=AUSTIN&cols=name&cols=email&cols=contact"
    )

    rows = _rows(response, file_format)
    assert rows[0] == ["Name", "Email", "Contact"]
    assert len(rows) == 1 + ROWS
    for number, row in enumerate(rows[1:]):
        assert row == [f"Row R{number:03d}", f"row{number:03d}@customer.example", "yes"], number


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_ignores_the_page_of_the_list(standard_client, many, file_format):
    response = _download(
        standard_client,
        file_format,
        "contact=yes&account=AUSTIN&cols=name&cols=email&cols=contact&page=2",
    )

    assert _rows(response, file_format) == [
        ["Name", "Email", "Contact"],
        *_row_numbers(range(ROWS)),
    ]


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_without_the_contact_filter_holds_every_member(standard_client, many, file_format):
    response = _download(standard_client, file_format, "account=AUSTIN&cols=name&cols=contact")

    rows = _rows(response, file_format)
    # R000, R000x, R001, R001x … R004x, R005 … R074.
    expected = [["Name", "Contact"]]
    for n in range(ROWS):
        expected.append([f"Row R{n:03d}", "yes"])
        if n < 5:
            expected.append([f"Row R{n:03d}x", "no"])
    assert rows == expected


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_of_nothing_has_the_header_only(standard_client, people, file_format):
    response = _download(standard_client, file_format, "q=nobody-at-all&cols=name&cols=email")

    assert _rows(response, file_format) == [["Name", "Email"]]


# Columns and values


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_default_columns(standard_client, people, file_format):
    response = _download(standard_client, file_format)

    assert _rows(response, file_format) == [
        ["Name", "Email", "Account", "Account Type", "Account Role", "Key Contact"],
        ["Ada Lovelace", "ada@analytical.example", "Berlin", "Site", "", "no"],
        ["Ada Lovelace", "ada@analytical.example", "Corp", "Corporate", "Executive sponsor", "yes"],
        ["Nora Nobody", "nora@corp.example", "Corp", "Corporate", "Champion", "no"],
        ["Otto Ostrom", "otto@other.example", "Other", "Corporate", "Champion", "yes"],
        ["Pierre Paquet", "pierre@paris.example", "Paris", "Site", "Site admin", "no"],
    ]


ALL_COLUMNS_REVERSED = [
    "phone",
    "title",
    "key_contact",
    "contact",
    "role",
    "account_type",
    "account_id",
    "account",
    "last_name",
    "first_name",
    "email",
    "name",
]


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_columns_in_the_chosen_order(standard_client, people, file_format):
    query = "key=yes&" + "&".join(f"cols={key}" for key in ALL_COLUMNS_REVERSED)

    response = _download(standard_client, file_format, query)

    assert _rows(response, file_format) == [
        [
            "Phone",
            "Title",
            "Key Contact",
            "Contact",
            "Account Role",
            "Account Type",
            "Account ID",
            "Account",
            "Last Name",
            "First Name",
            "Email",
            "Name",
        ],
        [
            "'+44 20 7946 0000",
            "Countess",
            "yes",
            "yes",
            "Executive sponsor",
            "Corporate",
            "CORP",
            "Corp",
            "Lovelace",
            "Ada",
            "ada@analytical.example",
            "Ada Lovelace",
        ],
        [
            "",
            "",
            "yes",
            "yes",
            "Champion",
            "Corporate",
            "OTHER",
            "Other",
            "Ostrom",
            "Otto",
            "otto@other.example",
            "Otto Ostrom",
        ],
    ]


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_writes_yes_and_no_for_the_flags(standard_client, people, file_format):
    response = _download(
        standard_client, file_format, "cols=name&cols=account&cols=contact&cols=key_contact"
    )

    assert _rows(response, file_format) == [
        ["Name", "Account", "Contact", "Key Contact"],
        ["Ada Lovelace", "Berlin", "yes", "no"],
        ["Ada Lovelace", "Corp", "yes", "yes"],
        ["Nora Nobody", "Corp", "no", "no"],
        ["Otto Ostrom", "Other", "yes", "yes"],
        ["Pierre Paquet", "Paris", "yes", "no"],
    ]


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_with_the_users_file_columns(standard_client, people, file_format):
    response = _download(standard_client, file_format, USERS_FILE_QUERY)

    assert _rows(response, file_format) == [
        USERS_FILE_HEADERS,
        [
            "BERLIN",
            "ada@analytical.example",
            "Ada",
            "Lovelace",
            "Countess",
            "'+44 20 7946 0000",
            "",
            "yes",
            "no",
            *ACTIVE,
        ],
        [
            "CORP",
            "ada@analytical.example",
            "Ada",
            "Lovelace",
            "Countess",
            "'+44 20 7946 0000",
            "Executive sponsor",
            "yes",
            "yes",
            *ACTIVE,
        ],
        ["CORP", "nora@corp.example", "Nora", "Nobody", "", "", "Champion", "no", "no", *ACTIVE],
        [
            "OTHER",
            "otto@other.example",
            "Otto",
            "Ostrom",
            "",
            "",
            "Champion",
            "yes",
            "yes",
            *ACTIVE,
        ],
        [
            "PARIS",
            "pierre@paris.example",
            "Pierre",
            "Paquet",
            "Site manager",
            "01 23 45 67 89",
            "Site admin",
            "yes",
            "no",
            *ACTIVE,
        ],
    ]


def test_users_file_columns_are_the_headers_of_the_users_file():
    assert [COLUMNS[key].label for key in USERS_FILE_COLUMNS] == USERS_FILE_HEADERS


# The files themselves


def test_csv_download_is_streamed_utf8_with_a_bom(standard_client, many):
    response = _download(standard_client, "csv", "contact=yes&cols=name")

    assert response.status_code == 200
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    chunks = list(response.streaming_content)
    # Written as it is read, not built whole first.
    assert len(chunks) > 1
    body = b"".join(chunks)
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.count(b"\xef\xbb\xbf") == 1
    assert body.decode("utf-8").splitlines()[:3] == ["\ufeffName", "Row R000", "Row R001"]


def test_csv_download_keeps_characters_beyond_ascii(standard_client, tree):
    MembershipFactory(
        account=tree["paris"],
        person=PersonFactory(
            first_name="Zoë", last_name="Łukasiewicz-Ødegård", email="zoe@x.example"
        ),
    )

    response = _download(standard_client, "csv", "cols=name&cols=account")

    assert _csv_rows(_body(response)) == [["Name", "Account"], ["Zoë Łukasiewicz-Ødegård", "Paris"]]


def test_xlsx_download_is_a_workbook(standard_client, people):
    response = _download(standard_client, "xlsx", "cols=name")

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert _xlsx_rows(_body(response)) == [
        ["Name"],
        ["Ada Lovelace"],
        ["Ada Lovelace"],
        ["Nora Nobody"],
        ["Otto Ostrom"],
        ["Pierre Paquet"],
    ]


# Formula neutralising


@pytest.fixture
def formulas(tree):
    """Values a spreadsheet would run as formulas, in every kind of column."""
    evil = AccountFactory(
        name="=Evil Corp", external_id="+EVIL", account_type=tree["corp"].account_type
    )
    role = AccountRole.objects.create(account_type=evil.account_type, name="@Role")
    MembershipFactory(
        account=evil,
        role=role,
        person=PersonFactory(
            first_name='=HYPERLINK("http://x.example","y")',
            last_name="+Plus",
            email="-dash@evil.example",
            title="-2+3",
            phone="@SUM(A1)",
        ),
    )
    MembershipFactory(
        account=evil,
        person=PersonFactory(
            first_name="\tTab",
            last_name="\rAlpha",
            email="tab@evil.example",
            # A trigger after the first character is harmless and left alone.
            title="a=b",
            phone="1+2",
        ),
    )


FORMULA_COLUMNS = "&".join(
    f"cols={key}"
    for key in [
        "first_name",
        "last_name",
        "email",
        "title",
        "phone",
        "account",
        "account_id",
        "role",
    ]
)


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_neutralises_formulas(standard_client, formulas, file_format):
    response = _download(standard_client, file_format, FORMULA_COLUMNS)

    # An XLSX is XML, whose readers turn a carriage return into a line feed: the apostrophe in
    # front is what matters.
    carriage_return = "\r" if file_format == "csv" else "\n"
    # \rAlpha sorts before +Plus both by code point and in a collation that skips symbols.
    assert _rows(response, file_format) == [
        [
            "First Name",
            "Last Name",
            "Email",
            "Title",
            "Phone",
            "Account",
            "Account ID",
            "Account Role",
        ],
        [
            "'\tTab",
            f"'{carriage_return}Alpha",
            "tab@evil.example",
            "a=b",
            "1+2",
            "'=Evil Corp",
            "'+EVIL",
            "",
        ],
        [
            '\'=HYPERLINK("http://x.example","y")',
            "'+Plus",
            "'-dash@evil.example",
            "'-2+3",
            "'@SUM(A1)",
            "'=Evil Corp",
            "'+EVIL",
            "'@Role",
        ],
    ]


def test_xlsx_download_has_no_formula_cells(standard_client, formulas):
    body = _body(_download(standard_client, "xlsx", FORMULA_COLUMNS))

    sheet = load_workbook(io.BytesIO(body))["People"]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    assert {type(cell.value) for cell in cells} <= {str, type(None)}


# File names


def _days_of(request):
    """The response of `request()` and the dates it may carry: the day when it started and the
    day when it ended (the same, unless it ran across midnight)."""
    before = timezone.localdate().isoformat()
    response = request()
    return response, {before, timezone.localdate().isoformat()}


FILE_NAMES = {
    "everyone": ("", "people"),
    "contacts": ("contact=yes", "contacts"),
    "not contacts": ("contact=no", "people"),
    "key contacts": ("key=yes", "key-contacts"),
    "key contacts among contacts": ("contact=yes&key=yes", "key-contacts"),
    "contacts, not key": ("contact=yes&key=no", "contacts"),
    "contacts of an account": (
        "contact=yes&account=PARIS_SALES&scope=subtree",
        "contacts-paris_sales",
    ),
    "key contacts of an account": ("key=yes&account=CORP&scope=hierarchy", "key-contacts-corp"),
    "people of an account": ("account=EMEA", "people-emea"),
    "unknown account": ("contact=yes&account=NOPE", "contacts"),
    "search and columns": ("q=ada&cols=email", "people"),
}


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize(("query", "stem"), FILE_NAMES.values(), ids=list(FILE_NAMES))
def test_download_file_name_says_what_and_when(standard_client, people, query, stem, file_format):
    response, days = _days_of(lambda: _download(standard_client, file_format, query))

    assert response.status_code == 200
    assert response["Content-Disposition"] in {
        f'attachment; filename="{stem}-{day}.{file_format}"' for day in days
    }
    response.close()


def test_download_file_name_of_an_account_id_with_spaces_and_symbols(standard_client, tree):
    AccountFactory(
        external_id="ACME / EU #1", name="Acme EU", account_type=tree["corp"].account_type
    )

    response, days = _days_of(
        lambda: _download(standard_client, "csv", urlencode({"account": "ACME / EU #1"}))
    )

    assert response["Content-Disposition"] in {
        f'attachment; filename="people-acme-eu-1-{day}.csv"' for day in days
    }


# Permissions


@pytest.mark.parametrize("file_format", FORMATS)
def test_viewer_may_not_download(viewer_client, people, file_format):
    response = _download(viewer_client, file_format, "contact=yes")

    assert response.status_code == 403
    assert not response.has_header("Content-Disposition")
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize(
    "client_fixture", ["standard_client", "advanced_client", "global_admin_client"]
)
def test_standard_and_above_may_download(request, people, file_format, client_fixture):
    client = request.getfixturevalue(client_fixture)

    response = _download(client, file_format, "key=yes&cols=email")

    assert _rows(response, file_format) == [
        ["Email"],
        ["ada@analytical.example"],
        ["otto@other.example"],
    ]


@pytest.mark.parametrize("file_format", FORMATS)
def test_anonymous_download_is_sent_to_sign_in(client, people, file_format):
    response = _download(client, file_format, "contact=yes")

    assert response.status_code == 302
    assert response["Location"] == f"/sign-in/?next=/people/download.{file_format}%3Fcontact%3Dyes"


# Query counts


def _grow(tree, size):
    """900·size contacts at Berlin, bulk inserted: at size 3, more rows than one chunk of
    the download's database reads (contacts.exports.CHUNK, 2000)."""
    count = 900 * size
    people = Person.objects.bulk_create(
        Person(first_name="Bulk", last_name=f"B{n:05d}", email=f"bulk{n:05d}@customer.example")
        for n in range(count)
    )
    Membership.objects.bulk_create(
        Membership(person=person, account=tree["berlin"], is_contact=True) for person in people
    )
    return count


# Queries of one download, the same at every data size: session and staff user (2); the
# permission check (2: Global admin group, the staff user's own and group permissions in one); the
# account of the Account filter (1); the download audit's record, created (1) and completed
# with the rows written (1); the rows, read in chunks from one query (1).
DOWNLOAD_QUERIES = 8


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("size", (1, 3))
def test_download_query_count(standard_client, tree, django_assert_num_queries, size, file_format):
    count = _grow(tree, size)

    with django_assert_num_queries(DOWNLOAD_QUERIES):
        response = _download(
            standard_client, file_format, "contact=yes&account=BERLIN&cols=email&cols=contact"
        )
        body = _body(response)

    rows = _csv_rows(body) if file_format == "csv" else _xlsx_rows(body)
    assert len(rows) == 1 + count
    assert rows[1] == ["bulk00000@customer.example", "yes"]
    assert rows[-1] == [f"bulk{count - 1:05d}@customer.example", "yes"]


# The users file round trip (SPEC §4.1, issue 6: "the CSV re-imports with no changes")


def _snapshot():
    """Everything a users file can change, as plain values."""
    return {
        "memberships": sorted(
            Membership.objects.values_list(
                "person__email",
                "person__first_name",
                "person__last_name",
                "person__title",
                "person__phone",
                "account__external_id",
                "role__name",
                "is_contact",
                "is_key_contact",
                "updated_at",
            )
        ),
        "people": sorted(Person.objects.values_list("email", "updated_at")),
        "changes": ContactChange.objects.count(),
    }


@pytest.fixture
def round_trip_data(people, many, tree):
    """The five memberships of `people`, the 80 of `many`, and values an export must neutralise
    and an import must read back as they were."""
    MembershipFactory(
        account=tree["amer"],
        role=stored.role("Region", "Regional director"),
        person=PersonFactory(
            first_name="-Minus",
            last_name="+Plus",
            email="minus@customer.example",
            title="=Chief",
            phone="@home",
        ),
    )
    MembershipFactory(
        account=tree["paris_sales"],
        is_contact=False,
        role=stored.role("Department", "Department head"),
        person=PersonFactory(
            first_name="Zoë",
            last_name="O'Brien",
            email="Zoe.OBrien@Customer.example",
            title='Head, "Sales"; EU',
            phone="+33 (0)1 23",
        ),
    )
    return tree


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_with_the_users_file_columns_imports_again_unchanged(
    standard_client, round_trip_data, file_format
):
    from integrations.models import ImportJob

    body = _body(_download(standard_client, file_format, USERS_FILE_QUERY))
    before = _snapshot()

    result = import_file(
        kind=ImportJob.Kind.USERS,
        file=io.BytesIO(body),
        dry_run=False,
        by=standard_client.staff_user,
    )

    assert result.file_problems() == []
    assert result.warnings == []
    assert result.problems() == []
    assert (result.new, result.updated, result.failed) == (0, 0, 0)
    assert result.unchanged == 5 + 80 + 2
    assert _snapshot() == before


def test_download_of_a_value_starting_with_an_apostrophe_imports_again_unchanged(
    standard_client, tree
):
    from integrations.models import ImportJob

    MembershipFactory(
        account=tree["corp"],
        person=PersonFactory(
            first_name="Quinn",
            last_name="Quote",
            email="quinn@customer.example",
            title="'=not a formula",
            phone="'+1 555 0100",
        ),
    )
    body = _body(_download(standard_client, "csv", USERS_FILE_QUERY))
    before = _snapshot()

    result = import_file(
        kind=ImportJob.Kind.USERS,
        file=io.BytesIO(body),
        dry_run=False,
        by=standard_client.staff_user,
    )

    assert (result.new, result.updated, result.unchanged, result.failed) == (0, 0, 1, 0)
    assert _snapshot() == before


# The download audit (contacts/privacy.py): every download is recorded, with the rows written


def _records():
    """Every DownloadRecord: (kind, channel, staff name, filters, format, rows, complete)."""
    return list(
        DownloadRecord.objects.order_by("pk").values_list(
            "kind", "channel", "staff_name", "filters", "file_format", "row_count", "complete"
        )
    )


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_is_recorded_with_its_filters_and_the_rows_written(
    standard_client, many, file_format
):
    response = _download(
        standard_client,
        file_format,
        "contact=yes&account=AUSTIN&scope=subtree&q=row&cols=name&cols=email",
    )
    _body(response)

    assert _records() == [
        (
            "people_list",
            "app",
            "standard_user",
            "Contact: yes; Account: AUSTIN (Austin), and all below it; Search: “row”; "
            "Columns: Name, Email",
            file_format,
            ROWS,
            True,
        )
    ]
    assert DownloadRecord.objects.get().staff_user == standard_client.staff_user


def test_download_of_an_open_segment_names_it(standard_client, people):
    segment = Segment.objects.create(
        name="Key contacts", owner=standard_client.staff_user, query="key=yes"
    )

    _body(_download(standard_client, "csv", f"key=yes&cols=email&segment={segment.pk}"))

    assert _records()[0][3] == "Segment “Key contacts”; Key contact: yes; Columns: Email"
    assert _records()[0][5] == 2


def test_download_of_another_staff_users_private_segment_does_not_name_it(standard_client, people):
    from tests.factories import StaffUserFactory

    hidden = Segment.objects.create(name="Private", owner=StaffUserFactory(), query="key=yes")

    _body(_download(standard_client, "csv", f"key=yes&cols=email&segment={hidden.pk}"))

    assert _records()[0][3] == "Key contact: yes; Columns: Email"


def test_download_of_everyone_says_so(standard_client, people):
    _body(_download(standard_client, "csv"))

    assert _records()[0][3:] == (
        "Everyone; Columns: Name, Email, Account, Account Type, Account Role, Key Contact",
        "csv",
        5,
        True,
    )


@pytest.mark.parametrize("file_format", FORMATS)
def test_download_refused_is_not_recorded(viewer_client, people, file_format):
    _download(viewer_client, file_format, "contact=yes")

    assert _records() == []
