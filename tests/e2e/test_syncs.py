"""Browser tests of integration jobs: an Advanced user adds a folder job with the keyboard
alone, runs it now and reads its result; the form shows only the fields of the kind of place
chosen, and a Global admin's secret fields are write-only."""

import os

import pytest
from playwright.sync_api import expect

from config import staff
from contacts.models import Membership
from integrations.models import IntegrationJob, SyncRun

USERS_FILE = (
    "Account ID,Email,First Name,Last Name,Title,Account Role,Contact,Key Contact\r\n"
    "PARIS,ada@example.com,Ada,Lovelace,Analyst,Site admin,yes,yes\r\n"
    "BERLIN,alan@example.com,Alan,Turing,,,no,\r\n"
)
SHOTS = os.environ.get("E2E_SCREENSHOTS")  # a folder to keep screenshots in, to look at


def shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def tab_to(page, locator):
    """Press Tab once and check where the focus went: the page's order is the form's."""
    page.keyboard.press("Tab")
    expect(locator).to_be_focused()


@pytest.mark.parametrize("staff_group", [staff.ADVANCED])
def test_add_a_folder_job_with_the_keyboard_run_it_now_and_read_its_result(
    signed_in_page, tree, tmp_path, settings
):
    page = signed_in_page
    settings.SYNC_FOLDER_ROOTS = [tmp_path]
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "users-2026-03-01.csv").write_text(USERS_FILE, encoding="utf-8")

    page.goto("/integrations/")
    page.get_by_role("link", name="Integration jobs").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Integration jobs")
    page.get_by_role("link", name="New integration job").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("New integration job")

    page.get_by_label("Name").focus()
    page.keyboard.type("Nightly CRM drop")
    tab_to(page, page.get_by_label("Inbound (import)"))
    expect(page.get_by_label("Inbound (import)")).to_be_checked()
    tab_to(page, page.get_by_label("Kind of place"))
    expect(page.get_by_label("Kind of place")).to_have_value("folder")
    tab_to(page, page.get_by_label("Location"))
    page.keyboard.type(f"{tmp_path}/drop/users-*.csv")
    # The fields of other kinds of place are hidden, and Tab passes them by.
    expect(page.get_by_label("Host key")).to_be_hidden()
    expect(page.get_by_label("Query")).to_be_hidden()
    tab_to(page, page.get_by_role("combobox", name="File (required)"))
    tab_to(page, page.get_by_label("Mapping template"))
    tab_to(page, page.get_by_label("Import valid rows, skip the rest"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Re-add removed contacts"))
    tab_to(page, page.get_by_label("Move taken files to processed/"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("How often"))
    for _ in range(5):  # by hand, every 5 or 15 minutes, every hour, every 4 hours, every day
        page.keyboard.press("ArrowDown")
    expect(page.get_by_label("How often")).to_have_value("0 6 * * *")
    expect(page.locator("#schedule-words")).to_contain_text("Every day at 06:00, UTC")
    expect(page.get_by_label("Cron expression")).to_be_hidden()
    tab_to(page, page.get_by_label("Enabled"))
    expect(page.get_by_label("Enabled")).to_be_checked()
    shot(page, "sync-form-folder")
    tab_to(page, page.get_by_role("button", name="Add the job"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Nightly CRM drop")
    expect(page.get_by_role("status")).to_have_text(
        "The integration job “Nightly CRM drop” was added."
    )
    job = IntegrationJob.objects.get()
    assert (job.place, job.direction, job.schedule, job.skip_errors, job.move_processed) == (
        "folder",
        "in",
        "0 6 * * *",
        True,
        True,
    )
    expect(page.get_by_role("region", name="Runs")).to_contain_text("No run yet.")

    page.get_by_role("button", name="Run now").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_have_text("“Nightly CRM drop” ran: finished.")
    runs = page.get_by_role("region", name="Runs")
    first = runs.get_by_role("row").nth(1)
    expect(first).to_contain_text("Run now by Pat Lee")
    expect(first).to_contain_text("Finished")
    expect(first).to_contain_text("users-2026-03-01.csv")
    expect(first).to_contain_text("2 new 0 updated 0 unchanged 0 failed")
    expect(first).to_contain_text("Moved to")
    shot(page, "sync-detail")
    assert Membership.objects.filter(person__email="ada@example.com", is_contact=True).exists()
    assert SyncRun.objects.get().status == SyncRun.Status.SUCCEEDED

    first.get_by_role("link", name="Import job").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()

    page.goto("/integrations/")
    history = page.get_by_role("table").filter(has_text="Outcome")
    expect(history.get_by_role("row").nth(1)).to_contain_text(
        "by the integration job Nightly CRM drop"
    )
    shot(page, "integrations-index")

    page.goto("/integrations/syncs/")
    row = page.get_by_role("row").filter(has_text="Nightly CRM drop")
    expect(row).to_contain_text("Finished")
    expect(row).to_contain_text("2 new")
    expect(row).to_contain_text("Every day at 06:00, UTC")
    shot(page, "sync-list")


@pytest.mark.parametrize("staff_group", [staff.GLOBAL_ADMIN])
def test_the_form_shows_the_fields_of_the_kind_chosen_and_secrets_only_write(
    signed_in_page, tmp_path, settings
):
    page = signed_in_page
    settings.SYNC_FOLDER_ROOTS = [tmp_path]
    page.goto("/integrations/syncs/new/")

    page.get_by_label("Kind of place").select_option("sftp")
    expect(page.get_by_label("Host key")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_label("Private key", exact=True)).to_be_visible()
    expect(page.get_by_label("Bearer token")).to_be_hidden()
    expect(page.get_by_label("Query")).to_be_hidden()

    page.get_by_label("Kind of place").select_option("postgres")
    expect(page.get_by_label("Query")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_label("Host key")).to_be_hidden()

    page.get_by_label("Outbound (export)").check()
    expect(page.get_by_label("What to export")).to_be_visible()
    expect(page.get_by_label("Mapping template")).to_be_hidden()
    expect(page.get_by_label("Segment")).to_be_hidden()
    page.get_by_label("What to export").select_option("segment")
    expect(page.get_by_label("Segment")).to_be_visible()

    page.get_by_label("Inbound (import)").check()
    page.get_by_label("Kind of place").select_option("sftp")
    page.get_by_label("How often").select_option("custom")
    page.get_by_label("Cron expression").fill("61 * * * *")
    expect(page.locator("#schedule-words")).to_contain_text("is not a schedule")
    page.get_by_label("Cron expression").fill("30 5 * * 1-5")
    expect(page.locator("#schedule-words")).to_contain_text("05:30")
    page.get_by_label("Name").fill("Partner SFTP")
    page.get_by_label("Location").fill("sftp://partner@127.0.0.1:2222/drop/users-*.csv")
    page.get_by_label("Password").fill("s3cret-pw")
    shot(page, "sync-form-sftp")
    page.get_by_role("button", name="Add the job").click()

    # No host key: refused, and the password is not sent back.
    expect(
        page.get_by_text("An SFTP job connects only to a server whose key it knows")
    ).to_be_visible()
    expect(page.get_by_label("Password")).to_have_value("")
    assert "s3cret-pw" not in page.content()
    assert not IntegrationJob.objects.exists()


@pytest.mark.parametrize("staff_group", [staff.ADVANCED])
def test_the_job_page_follows_a_run_until_it_ends_then_says_the_job_keeps_failing(
    signed_in_page, tmp_path, settings
):
    page = signed_in_page
    settings.SYNC_FOLDER_ROOTS = [tmp_path]
    job = IntegrationJob.objects.create(
        name="Partner drop",
        direction="in",
        place="folder",
        location=f"{tmp_path}/users-*.csv",
        failures_in_a_row=2,
    )
    run = SyncRun.objects.create(
        integration_job=job, trigger=SyncRun.Trigger.SCHEDULE, status=SyncRun.Status.RUNNING
    )

    page.goto(job.get_absolute_url())
    runs = page.get_by_role("region", name="Runs")
    expect(runs).to_contain_text("Following the run under way…")
    expect(runs.get_by_role("row").nth(1)).to_contain_text("Running")
    expect(page.get_by_role("alert")).to_have_count(0)

    message = f"No file at {tmp_path}/users-*.csv: nothing to import."
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.FAILED, message=message)
    IntegrationJob.objects.filter(pk=job.pk).update(failures_in_a_row=3)

    expect(page.get_by_role("alert")).to_contain_text("This job failed its last 3 runs")
    expect(runs.get_by_role("row").nth(1)).to_contain_text("Failed")
    expect(runs.get_by_role("row").nth(1)).to_contain_text(message)
    expect(runs).to_contain_text("1 run")
    shot(page, "sync-detail-failing")
