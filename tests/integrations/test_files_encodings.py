"""Reading files in any text encoding (issue 12): UTF-16 and UTF-32 by their BOM, UTF-8 as it
always was, Windows-1252 and the others as charset-normalizer finds them or as a person chose;
and the spreadsheet rows and one-line headers that messages name."""

import codecs
import io

import pytest
from openpyxl import Workbook

from integrations import files
from integrations.files import COMMON_ENCODINGS, FileProblem, Limits, encoding_label, read_table

# A Salesforce data export (Contact.csv) as Excel on Windows saves it: Windows-1252, quoted
# values, an address over two lines, curly apostrophes and quotes.
SALESFORCE = (
    '"Id","FirstName","LastName","Email","MailingStreet","Description"\r\n'
    '"003Hs00001","José","Müller","jose.muller@example.com","12 Rue de l’Église\r\n'
    'Bâtiment B","Zoë’s “key” contact"\r\n'
    '"003Hs00002","Jürgen","Öztürk","jurgen@example.com","Hauptstraße 5","ok"\r\n'
)
USERS = (
    "Account ID,Email,Last Name\r\nPARIS,ada@example.com,Núñez Ørsted\r\nBERLIN,b@example.com,Ł\r\n"
)
USERS_ROWS = [
    (2, ["PARIS", "ada@example.com", "Núñez Ørsted"]),
    (3, ["BERLIN", "b@example.com", "Ł"]),
]


def table_of(data, **options):
    table = read_table(io.BytesIO(data), **options)
    return table, list(table.rows)


def problem_of(data, **options):
    with pytest.raises(FileProblem) as problem:
        table_of(data, **options)
    return problem.value.code, problem.value.message


def test_a_windows_1252_salesforce_export_is_detected_and_read_right():
    table, rows = table_of(SALESFORCE.encode("cp1252"))

    assert (table.encoding, table.encoding_detected) == ("cp1252", True)
    assert table.headers == ["Id", "FirstName", "LastName", "Email", "MailingStreet", "Description"]
    assert rows == [
        (
            2,
            [
                "003Hs00001",
                "José",
                "Müller",
                "jose.muller@example.com",
                "12 Rue de l’Église\r\nBâtiment B",
                "Zoë’s “key” contact",
            ],
        ),
        (4, ["003Hs00002", "Jürgen", "Öztürk", "jurgen@example.com", "Hauptstraße 5", "ok"]),
    ]
    # The second contact starts on line 4 of the file and is row 3 of a spreadsheet.
    assert table.sheet_rows == {4: 3}
    assert (table.where(2), table.where(4)) == ("line 2", "line 4 (spreadsheet row 3)")


def test_latin_1_text_is_read_as_windows_1252_which_reads_it_the_same():
    table, rows = table_of("Account ID,Email\nPARIS,jos\xe9@example.com\n".encode("latin-1"))

    assert (table.encoding, table.encoding_detected) == ("cp1252", True)
    assert rows == [(2, ["PARIS", "josé@example.com"])]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (USERS.encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_LE + USERS.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + USERS.encode("utf-16-be"), "utf-16"),
        (codecs.BOM_UTF32_LE + USERS.encode("utf-32-le"), "utf-32"),
        (codecs.BOM_UTF32_BE + USERS.encode("utf-32-be"), "utf-32"),
    ],
    ids=["UTF-16 native", "UTF-16 LE", "UTF-16 BE", "UTF-32 LE", "UTF-32 BE"],
)
def test_utf16_and_utf32_files_with_a_bom_are_read(data, encoding):
    """Google Contacts and Outlook export UTF-16 now and then."""
    table, rows = table_of(data)

    assert (table.encoding, table.encoding_detected) == (encoding, True)
    assert (table.headers, rows, table.row_estimate) == (
        ["Account ID", "Email", "Last Name"],
        USERS_ROWS,
        2,
    )


@pytest.mark.parametrize(("bom", "encoding"), [(b"", "utf-8"), (codecs.BOM_UTF8, "utf-8-sig")])
def test_utf8_is_read_as_before_with_or_without_its_bom(bom, encoding):
    table, rows = table_of(bom + USERS.encode())

    assert (table.encoding, table.encoding_detected) == (encoding, True)
    assert (table.headers, rows) == (["Account ID", "Email", "Last Name"], USERS_ROWS)


def test_utf8_is_read_without_detection_or_a_copy(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("a UTF-8 file was detected or transcoded")

    monkeypatch.setattr(files, "_detect", fail)
    monkeypatch.setattr(files, "_transcode", fail)

    assert table_of(USERS.encode())[1] == USERS_ROWS


def test_a_chosen_encoding_overrides_detection():
    data = "Account ID,Email,Last Name\nPARIS,a@example.com,Müller’s\n".encode("cp1252")

    table, rows = table_of(data, encoding="mac_roman")

    assert (table.encoding, table.encoding_detected) == ("mac_roman", False)
    assert rows == [(2, ["PARIS", "a@example.com", "M¸llerís"])]
    # Even over a file that is UTF-8 throughout, and under any spelling of the codec.
    table, rows = table_of("Account ID,Email\nPARIS,é\n".encode(), encoding="Latin-1")
    assert (table.encoding, table.encoding_detected, rows) == (
        "iso-8859-1",
        False,
        [(2, ["PARIS", "Ã©"])],
    )


@pytest.mark.parametrize("chosen", ["utf-8", "UTF8", "utf-8-sig"])
def test_utf8_chosen_reads_utf8_as_before(chosen):
    table, rows = table_of(codecs.BOM_UTF8 + USERS.encode(), encoding=chosen)

    assert (table.encoding, table.encoding_detected, rows) == ("utf-8-sig", False, USERS_ROWS)


@pytest.mark.parametrize("encoding", ["", None])
def test_no_chosen_encoding_detects_it(encoding):
    table, _rows = table_of(SALESFORCE.encode("cp1252"), encoding=encoding)

    assert (table.encoding, table.encoding_detected) == ("cp1252", True)


@pytest.mark.parametrize("encoding", ["klingon", "base64", "rot13", "utf-8\x00"])
def test_an_unknown_encoding_is_named_in_one_clear_message(encoding):
    assert problem_of(USERS.encode(), encoding=encoding) == (
        "unknown_encoding",
        f"“{encoding}” is not an encoding this import knows. Choose one of the encodings offered "
        "(such as Unicode (UTF-8) or Western European (Windows-1252)) and upload the file again.",
    )


def test_a_file_that_is_not_text_in_the_chosen_encoding_names_the_line_and_the_encoding():
    # 0x81 is no character in Windows-1252.
    data = b"Account ID,Email\nPARIS,a\n\nBERLIN,b\xe9\x81\n"

    assert problem_of(data, encoding="cp1252") == (
        "undecodable",
        "Line 4 is not Western European (Windows-1252) text, the encoding chosen for the file. "
        "Choose the encoding the file was saved in, or save it as CSV UTF-8, and upload it "
        "again.",
    )


def test_utf8_chosen_for_a_windows_1252_file_suggests_windows_1252():
    assert problem_of(SALESFORCE.encode("cp1252"), encoding="utf-8") == (
        "undecodable",
        "Line 2 is not Unicode (UTF-8) text, the encoding chosen for the file. Choose Western "
        "European (Windows-1252), which fits its start, or save it as CSV UTF-8, and upload it "
        "again.",
    )


@pytest.mark.parametrize(
    ("codec", "bad"),
    [("cp1252", b"\x81"), ("utf-16-be", "\ud800".encode("utf-16-be", "surrogatepass"))],
)
def test_the_line_of_a_bad_byte_is_right_across_the_pieces_the_file_is_read_in(
    monkeypatch, codec, bad
):
    monkeypatch.setattr(files, "TRANSCODE_CHUNK", 5)  # lines and characters cut everywhere
    lines = ["Account ID,Email", "PARIS,é", "", "BERLIN,ü", "ROME,x"]
    data = "\r\n".join(lines).encode(codec) + bad + "\r\nMADRID,y\r\n".encode(codec)

    code, message = problem_of(data, encoding=codec)

    assert (code, message.split(" is not")[0]) == ("undecodable", "Line 5")


def test_a_file_that_is_not_its_detected_encoding_further_on_says_so(small_limits):
    """The encoding is found from the file's start (and the first byte that is not UTF-8); a
    byte further down that it cannot read fails the file with its line."""
    start = "Account ID,Email\nPARIS,José\n"
    filler = "BERLIN,x\n" * 40  # within the 50 rows the small limits allow
    data = (start + filler).encode("cp1252") + b" " * (3 << 20) + b"\nROME,\x81\n"

    assert problem_of(data, encoding=None, limits=Limits(50, 20, 5 << 20, 0)) == (
        "undecodable",
        "Line 44 is not Western European (Windows-1252) text, which the start of the file looked "
        "like. Choose the encoding the file was saved in, or save it as CSV UTF-8, and upload it "
        "again.",
    )


def test_the_first_byte_that_is_not_utf8_far_down_a_file_is_shown_to_the_detector():
    data = b"Account ID,Email,Last Name\n" + b"PARIS,a@example.com,Smith\n" * 80_000
    data += "BERLIN,b@example.com,Müller’s\n".encode("cp1252")

    table, rows = table_of(data)

    assert (table.encoding, rows[-1]) == (
        "cp1252",
        (80_002, ["BERLIN", "b@example.com", "Müller’s"]),
    )


def test_a_file_of_no_encoding_that_fits_gets_one_clear_message():
    data = b"Account ID,Email\nPARIS," + bytes(range(0x80, 0x100)) * 4 + b"\n"

    assert problem_of(data) == (
        "not_utf8",
        "Line 2 is not UTF-8 text, and no other encoding fits the file. Choose the encoding it "
        "was saved in, or save it as CSV UTF-8, and upload it again.",
    )


@pytest.mark.parametrize(
    ("data", "options"),
    [
        ("Account ID,Email\nPARIS,\x00\n".encode("utf-16"), {}),
        ("Account ID,Email\nPARIS,a\n".encode("utf-16-le"), {}),  # no BOM: NUL bytes
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {"encoding": "cp1252"}),
        (b"Account ID,Email\nPARIS,\xe9\x00\n", {}),
    ],
    ids=["UTF-16 with NUL", "UTF-16 without BOM", "PNG as Windows-1252", "NUL after Latin-1"],
)
def test_binary_files_still_get_the_binary_message(data, options):
    assert problem_of(data, **options) == (
        "binary",
        "This is not a CSV or XLSX file: it holds binary data. Save it as CSV UTF-8 or as .xlsx "
        "and upload that.",
    )


# The limits hold for transcoded files as they do for UTF-8 ones: counted in lines and in
# bytes of UTF-8.


@pytest.mark.parametrize("codec", ["cp1252", "utf-16"])
def test_the_row_limit_holds_for_transcoded_files(small_limits, codec):
    data = ("Account ID,Email\n" + "PARIS,é\n" + "\r\n" * 49 + "BERLIN,ü\n").encode(codec)

    code, message = problem_of(data)

    assert (code, message.split(";")[0]) == (
        "too_many_rows",
        "This file has more than 50 rows after its header row (blank lines count too)",
    )
    # One line fewer is within the limit.
    data = ("Account ID,Email\n" + "PARIS,é\n" + "\r\n" * 48 + "BERLIN,ü\n").encode(codec)
    assert table_of(data)[1] == [(2, ["PARIS", "é"]), (51, ["BERLIN", "ü"])]


def test_the_cell_limit_counts_bytes_of_utf8_in_transcoded_files(small_limits):
    """A character of Windows-1252 is one byte, and up to three of UTF-8, which the limit
    counts: 824 bytes of Windows-1252 are 1,002 of UTF-8."""
    value = "Crème brûlée à la café. " * 34  # 816 characters, 986 bytes of UTF-8
    fits = f"Account ID,Email\nPARIS,{value}\n".encode("cp1252")
    too_large = f"Account ID,Email\nPARIS,{value}éééééééé\n".encode("cp1252")

    assert table_of(fits)[1] == [(2, ["PARIS", value])]
    assert problem_of(too_large) == (
        "cell_too_large",
        "Line 2, column 2 holds 1,002 bytes; a cell may hold 1,000 bytes. Shorten the value (or "
        "remove the column if the import does not need it) and upload the file again.",
    )


def test_a_line_past_any_row_is_refused_in_a_transcoded_file(small_limits):
    data = "Account ID,Email\nPARIS,é\n".encode("utf-16") + "x".encode("utf-16-le") * 50_000

    assert problem_of(data)[1].startswith("Line 3 is longer than any row can be")


# Spreadsheet rows and header labels


def test_rows_after_multi_line_values_have_their_spreadsheet_row():
    data = (
        b'\nAccount ID,"Mailing\r\nStreet"\n'  # a blank line first, and a header on two lines
        b'PARIS,"1 Rue\nBat. B"\n'
        b"\n"  # a blank record: a row of its own
        b'BERLIN,"a\nb\nc"\n'
        b"ROME,d\n"
    )

    table, rows = table_of(data)

    assert rows == [
        (4, ["PARIS", "1 Rue\nBat. B"]),
        (7, ["BERLIN", "a\nb\nc"]),
        (10, ["ROME", "d"]),
    ]
    assert table.header_line == 2
    # Rows 2 (blank), 3 (the header), 4 (Paris), 5 (blank), 6 (Berlin), 7 (Rome).
    assert table.sheet_rows == {4: 3, 6: 4, 7: 5, 10: 6}
    assert [table.where(line) for line, _values in rows] == [
        "line 4 (spreadsheet row 3)",
        "line 7 (spreadsheet row 5)",
        "line 10 (spreadsheet row 6)",
    ]
    assert table.where(2) == "line 2"


def test_spreadsheet_rows_are_filled_as_rows_are_read():
    table = read_table(io.BytesIO(b'A,B\n1,"x\ny"\n2,z\n3,w\n'))

    assert table.sheet_rows == {}  # the first row was read to know the file has one
    assert next(table.rows) == (2, ["1", "x\ny"])
    assert next(table.rows) == (4, ["2", "z"])
    assert table.sheet_rows == {4: 3}


def test_a_file_without_multi_line_values_has_no_spreadsheet_rows_to_tell():
    table, _rows = table_of(b"\nA,B\n1,2\n\n3,4\n")

    assert table.sheet_rows == {}


def test_a_limit_crossed_after_a_multi_line_value_names_the_spreadsheet_row(small_limits):
    data = ('Account ID,Email\nPARIS,"a\nb"\nBERLIN,' + "x" * 1001 + "\n").encode()

    assert problem_of(data)[1].startswith(
        "Line 4 (spreadsheet row 3), column 2 holds 1,001 bytes; a cell may hold 1,000 bytes."
    )


def test_a_header_with_a_line_break_keeps_it_and_is_labelled_on_one_line():
    data = b'Account ID,"Mailing\r\nStreet",Email  \t Address,"  Phone\n\nMobile "\nPARIS,1,a,2\n'

    table, _rows = table_of(data)

    assert table.headers == [
        "Account ID",
        "Mailing\r\nStreet",
        "Email  \t Address",
        "Phone\n\nMobile",
    ]
    assert table.header_labels == ["Account ID", "Mailing Street", "Email Address", "Phone Mobile"]


def test_a_workbook_has_no_encoding_and_no_spreadsheet_rows_apart():
    workbook = Workbook()
    workbook.active.append(["Account ID", "Mailing\nStreet"])
    workbook.active.append(["PARIS", "1 Rue\nBat. B"])
    workbook.active.append(["BERLIN", "x"])
    out = io.BytesIO()
    workbook.save(out)

    table, rows = table_of(out.getvalue(), encoding="cp1252")  # a chosen encoding is ignored

    assert (table.encoding, table.encoding_detected, table.sheet_rows) == ("", False, {})
    assert rows == [(2, ["PARIS", "1 Rue\nBat. B"]), (3, ["BERLIN", "x"])]
    assert (table.where(3), table.header_labels) == ("line 3", ["Account ID", "Mailing Street"])


# The encodings a page offers


def test_every_common_encoding_is_a_text_codec_read_under_its_own_name():
    data = b"Account ID,Email\nPARIS,a\n"
    for codec, _label in COMMON_ENCODINGS:
        if codec in ("utf-16",):
            continue  # ASCII bytes are no UTF-16 text
        assert read_table(io.BytesIO(data), encoding=codec).encoding == (
            "utf-8" if codec == "utf-8" else codec
        )
    assert len({codecs.lookup(codec).name for codec, _label in COMMON_ENCODINGS}) == len(
        COMMON_ENCODINGS
    )


@pytest.mark.parametrize(
    ("codec", "label"),
    [
        ("utf-8", "Unicode (UTF-8)"),
        ("utf-8-sig", "Unicode (UTF-8)"),
        ("cp1252", "Western European (Windows-1252)"),
        ("windows-1252", "Western European (Windows-1252)"),
        ("latin_1", "Western European (ISO-8859-1)"),
        ("UTF-16", "Unicode (UTF-16)"),
        ("mac_roman", "Mac OS Roman"),
        ("shift_jis", "Japanese (Shift JIS)"),
        ("cp037", "cp037"),
        ("klingon", "klingon"),
    ],
)
def test_encoding_label(codec, label):
    assert encoding_label(codec) == label
