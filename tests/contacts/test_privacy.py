"""contacts/privacy.py's download records (the forgetting: test_views_privacy.py and
tests/integrations/test_privacy.py, which see the whole history)."""

import pytest

from contacts.models import DownloadRecord
from contacts.privacy import PersonTraces, record_download


def _record(**fields):
    return record_download(
        kind=DownloadRecord.Kind.PEOPLE_LIST, by=None, filters="", file_format="csv", **fields
    )


def _stored(record):
    record.refresh_from_db()
    return (record.row_count, record.complete)


@pytest.mark.django_db
def test_a_download_counted_to_the_end_is_complete():
    record = _record()

    assert list(record.counting(iter("abc"))) == ["a", "b", "c"]

    assert _stored(record) == (3, True)


@pytest.mark.django_db
def test_a_download_stopped_part_way_records_the_rows_handed_out():
    """The server closes the body's iterator when the browser goes away."""
    record = _record()
    rows = record.counting(iter(range(10)))
    assert [next(rows) for _ in range(3)] == [0, 1, 2]

    rows.close()

    assert _stored(record) == (3, False)


@pytest.mark.django_db
def test_a_download_never_started_has_no_row_count():
    record = _record()
    record.counting(iter(range(10))).close()

    assert _stored(record) == (None, False)


@pytest.mark.django_db
def test_a_download_that_failed_part_way_is_not_complete():
    record = _record()

    def rows():
        yield 1
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        list(record.counting(rows()))

    assert _stored(record) == (1, False)


@pytest.mark.django_db
def test_a_download_of_known_rows_is_complete_at_once():
    assert _stored(_record(row_count=7)) == (7, True)


TRACES = PersonTraces(person_pk=7, email="Ada@Customer.example", full_name="Ada  Lovelace")


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("ada@customer.example", "Forgotten person #7"),
        ("Search: “ADA@CUSTOMER.EXAMPLE”", "Search: “Forgotten person #7”"),
        ("Ada Lovelace at Paris", "Forgotten person #7 at Paris"),
        ("ada   lovelace", "Forgotten person #7"),
        # Whole words only: another address, another name.
        ("bada@customer.example", "bada@customer.example"),
        ("ada@customer.example.org", "ada@customer.example.org"),
        ("mail ada@customer.example.", "mail Forgotten person #7."),
        ("Ada Lovelaces", "Ada Lovelaces"),
        ("Ada", "Ada"),
        ("", ""),
    ],
)
def test_traces_scrub_the_email_and_the_full_name(text, scrubbed):
    assert TRACES.scrub(text) == scrubbed


def test_traces_scrub_json_strings_at_any_depth():
    value = {"a": ["Ada Lovelace", 3, None, {"b": "x ada@customer.example"}], "n": 1}

    assert TRACES.scrub_json(value) == {
        "a": ["Forgotten person #7", 3, None, {"b": "x Forgotten person #7"}],
        "n": 1,
    }
