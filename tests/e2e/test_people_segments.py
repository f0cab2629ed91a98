"""People and saved segments in a real browser: "all contacts of all accounts, name and email"
as a CSV, then saved as a segment and opened again (issue 6, Done when)."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from config import staff
from tests.factories import MembershipFactory, PersonFactory

SEGMENT = "All contacts, name and email"
CONTACTS = [
    ["Grace Hopper", "grace@customer.example"],
    ["Ada Lovelace", "ada@customer.example"],
    ["Linus Torvalds", "linus@other.example"],
    ["Alan Turing", "alan@customer.example"],
]


@pytest.fixture
def staff_group():
    return staff.STANDARD


@pytest.fixture
def people(tree):
    """Four contacts in two companies (Ada a key contact) and two members who are not contacts."""

    def member(key, first, last, email, **kwargs):
        MembershipFactory(
            account=tree[key],
            person=PersonFactory(first_name=first, last_name=last, email=email),
            **kwargs,
        )

    member("corp", "Ada", "Lovelace", "ada@customer.example", is_key_contact=True)
    member("emea", "Grace", "Hopper", "grace@customer.example")
    member("paris", "Alan", "Turing", "alan@customer.example")
    member("other", "Linus", "Torvalds", "linus@other.example")
    member("berlin", "Nora", "Nobody", "nora@customer.example", is_contact=False)
    member("austin", "Barbara", "Liskov", "barbara@customer.example", is_contact=False)
    return tree


def _headers(page):
    """The headers of the chosen columns (not the last cell's, of the row links)."""
    return page.locator("table.people-table thead th:not(.row-links)")


def _cells(page):
    """The cells of the chosen columns, row after row (not the last cell of the row links to
    the person and account that those columns do not link to)."""
    return page.locator("table.people-table tbody td:not(.row-links)")


def test_download_all_contacts_name_and_email_then_save_and_open_the_segment(
    signed_in_page, people
):
    page = signed_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1, name="People")).to_be_visible()
    expect(page.get_by_text("6 rows (a person at an account)")).to_be_visible()

    page.get_by_label("Contact", exact=True).select_option(label="Yes")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"contact=yes"))
    expect(page.get_by_text("4 rows (a person at an account)")).to_be_visible()

    expect(_headers(page)).to_have_text(
        ["Name", "Email", "Account", "Account Type", "Account Role", "Key Contact"]
    )
    for label in ["Account", "Account Type", "Account Role", "Key Contact"]:
        page.get_by_role("link", name=f"Remove column {label}", exact=True).click()
        expect(page.get_by_role("link", name=f"Remove column {label}", exact=True)).to_have_count(0)
    expect(_headers(page)).to_have_text(["Name", "Email"])
    expect(_cells(page)).to_have_text([cell for row in CONTACTS for cell in row])
    # The filter survived the column changes.
    expect(page.get_by_label("Contact", exact=True)).to_have_value("yes")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value

    assert download.suggested_filename == f"contacts-{timezone.localdate().isoformat()}.csv"
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))) == [
        ["Name", "Email"],
        *CONTACTS,
    ]

    page.get_by_label("Segment name").fill(SEGMENT)
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_role("heading", level=1, name=SEGMENT)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(f"Saved the segment “{SEGMENT}”.")

    # Next month: from a clean People page, through Saved segments.
    page.goto("/people/")
    page.get_by_role("link", name="Saved segments (1)").click()
    expect(page.get_by_role("heading", level=1, name="Saved segments")).to_be_visible()
    page.get_by_role("link", name=SEGMENT).click()

    expect(page.get_by_role("heading", level=1, name=SEGMENT)).to_be_visible()
    # The query the Show button sent (every field, the empty ones too), and the segment.
    expect(page).to_have_url(
        re.compile(r"/people/\?cols=name&cols=email&contact=yes&.*&segment=\d+$")
    )
    expect(_headers(page)).to_have_text(["Name", "Email"])
    expect(_cells(page)).to_have_text([cell for row in CONTACTS for cell in row])
    expect(page.get_by_label("Contact", exact=True)).to_have_value("yes")


def test_a_bad_filter_is_read_with_its_field_and_the_list_still_shows(signed_in_page, people):
    page = signed_in_page
    page.goto("/people/?contact=maybe&key=yes&cols=name")

    contact = page.get_by_label("Contact", exact=True)
    expect(contact).to_have_attribute("aria-invalid", "true")
    expect(contact).to_have_accessible_description(
        "“maybe” is not Yes or No, so this shows contacts and others."
    )
    expect(page.get_by_label("Key contact")).to_have_value("yes")
    # The valid filter still applies: the one key contact.
    expect(_cells(page)).to_have_text(["Ada Lovelace"])
