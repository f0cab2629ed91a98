"""Browser tests of the integrations page: upload a file, read its preview, confirm, see the job
finish; and a job page that follows a running job until it ends."""

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from config import staff
from contacts.models import Membership
from integrations.models import ImportJob

from .conftest import assert_accessible, assert_no_sideways_scroll, sign_in

USERS_FILE = (
    "Account ID;Email;First Name;Last Name;Title;Account Role;Contact;Key Contact\r\n"
    "BERLIN;grace@navy.example;Grace;Hopper;Rear admiral;Site admin;yes;yes\r\n"
    "PARIS;alan@example.com;Alan;Turing;;;no;\r\n"
    "NOPE;edsger@example.com;Edsger;Dijkstra;;;yes;\r\n"
)


def total(page, name):
    """The figure of one of the totals (New, Updated, Unchanged, Failed)."""
    return page.locator(".totals div").filter(has=page.get_by_text(name, exact=True)).locator("dd")


@pytest.fixture
def staff_group():
    return staff.ADVANCED


def test_upload_preview_confirm_and_see_the_job_finish(signed_in_page, tree, tmp_path):
    page = signed_in_page
    path = tmp_path / "people.csv"
    path.write_bytes(b"\xef\xbb\xbf" + USERS_FILE.encode())

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Integrations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Integrations")
    page.get_by_label("Users file").check()
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("people.csv")
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(total(page, "New")).to_have_text("2")
    expect(total(page, "Updated")).to_have_text("0")
    expect(total(page, "Unchanged")).to_have_text("0")
    expect(total(page, "Failed")).to_have_text("1")
    # One cause, one line: its column, its message, how many rows and which.
    errors = page.get_by_role("table").filter(has_text="Problem")
    expect(errors.get_by_role("row").nth(1)).to_have_text(
        "Account IDNo account has the Account ID “NOPE”.1line 4"
    )
    changes = page.get_by_role("table").filter(has_text="Changes")
    expect(changes).to_contain_text("grace@navy.example at BERLIN")
    expect(changes).to_contain_text("Rear admiral")
    assert Membership.objects.count() == 0  # the preview changed nothing

    # All or nothing with an error imports nothing: no import button until the row is skipped.
    expect(page.locator(".card-head .outcome").first).to_have_text("1 row with errors")
    expect(page.get_by_role("button", name="Cancel this import")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)
    expect(page.get_by_text("Nothing can be imported as the file is")).to_be_visible()
    assert_accessible(page, "preview with an error, skip unticked")

    page.get_by_label("Import the valid rows and skip the 1 row with errors").check()
    # htmx draws the actions again for the choice.
    expect(page.get_by_text("Nothing can be imported as the file is")).to_have_count(0)
    assert_accessible(page, "preview with an error, skip ticked")
    page.get_by_label("Import the valid rows and skip the 1 row with errors").uncheck()
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)
    page.get_by_label("Import the valid rows and skip the 1 row with errors").check()
    page.get_by_role("button", name="Import 2 changed rows, skip 1 with errors").click()

    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(total(page, "New")).to_have_text("2")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the error file").click()
    assert download.value.suggested_filename == "people-errors.csv"
    error_file = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert error_file[1] == (
        "NOPE,edsger@example.com,Edsger,Dijkstra,,,yes,,"
        "Line 4. Account ID: No account has the Account ID “NOPE”."
    )

    page.get_by_role("link", name="Integrations").first.click()
    history = page.get_by_role("table").filter(has_text="Outcome")
    expect(history.get_by_role("row").nth(1)).to_contain_text("people.csv")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Finished")

    page.goto(tree["berlin"].get_absolute_url())
    contacts = page.get_by_role("region", name="Contacts")
    expect(contacts.get_by_role("link", name="Grace Hopper", exact=True)).to_be_visible()
    expect(contacts.get_by_role("img", name="Key contact")).to_be_visible()


def test_without_javascript_show_draws_the_button_for_the_choice(
    open_tab, tree, staff_user, tmp_path
):
    page = open_tab(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    sign_in(page, staff_user.username)
    path = tmp_path / "people.csv"
    path.write_bytes(USERS_FILE.encode())
    page.goto("/integrations/")
    page.get_by_label("Users file").check()
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)
    page.get_by_label("Import the valid rows and skip the 1 row with errors").check()
    page.get_by_role("button", name="Show what these choices import").click()

    expect(
        page.get_by_label("Import the valid rows and skip the 1 row with errors")
    ).to_be_checked()
    # No assert_accessible here: axe runs as a script, which this page does not allow (it
    # would wait forever); the same markup is checked with JavaScript above.
    page.get_by_role("button", name="Import 2 changed rows, skip 1 with errors").click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()


def test_a_file_whose_every_row_failed_says_nothing_can_be_imported(
    phone_page, tree, staff_user, tmp_path
):
    """At 390 px: the badge says nothing can be imported, and no button offers to."""
    page = phone_page
    sign_in(page, staff_user.username)
    path = tmp_path / "broken.csv"
    path.write_text(
        "Account ID;Email;First Name;Last Name;Title;Account Role;Contact;Key Contact\r\n"
        "NOPE;edsger@example.com;Edsger;Dijkstra;;;yes;\r\n"
        "GONE;tony@example.com;Tony;Hoare;;;yes;\r\n",
        encoding="utf-8",
    )
    page.goto("/integrations/")
    page.get_by_label("Users file").check()
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.locator(".card-head .outcome").first).to_have_text("Nothing to import")
    expect(page.get_by_text("Every row has an error, so nothing can be imported.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    assert_accessible(page, "every row failed, phone")
    assert_no_sideways_scroll(page, "every row failed, phone")

    page.get_by_role("button", name="Cancel this import").click()
    expect(
        page.get_by_text("The import of broken.csv was cancelled; nothing changed.")
    ).to_be_visible()


def test_a_file_that_cannot_be_imported_is_stored_and_its_job_page_says_why(
    signed_in_page, tree, tmp_path, settings
):
    settings.INTEGRATIONS_MAX_ROWS = 3  # the file's rows, and its blank lines past them
    page = signed_in_page
    path = tmp_path / "people.csv"
    path.write_bytes(USERS_FILE.encode() + b"\r\n" * 1000)

    page.goto("/integrations/")
    page.get_by_label("Users file").check()
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("people.csv")
    expect(page.get_by_role("heading", name="This file cannot be imported")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "This file has more than 3 rows after its header row (blank lines count too); up to 3 "
        "can be imported at once. Split it into smaller files and import each."
    )
    expect(page.get_by_text("Nothing was changed.")).to_be_visible()
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED


def test_the_job_page_follows_a_running_job_until_it_ends(signed_in_page, staff_user):
    page = signed_in_page
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="big.csv",
        status=ImportJob.Status.RUNNING,
        staff_user=staff_user,
        rows_total=100_000,
        rows_done=20_000,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )

    page.goto(job.get_absolute_url())
    expect(page.get_by_role("heading", name="Importing")).to_be_visible()
    expect(page.get_by_text("20,000 of about 100,000 rows imported.")).to_be_visible()

    ImportJob.objects.filter(pk=job.pk).update(rows_done=60_000, heartbeat_at=timezone.now())
    expect(page.get_by_text("60,000 of about 100,000 rows imported.")).to_be_visible()
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "60")

    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.SUCCEEDED,
        finished_at=timezone.now(),
        new_rows=100_000,
        summary={
            "phase": "run",
            "totals": {"new": 100_000, "updated": 0, "unchanged": 0, "failed": 0},
        },
    )
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(total(page, "New")).to_have_text("100,000")
