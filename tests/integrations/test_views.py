"""Past 400 lines as one thing: every test of integrations/views.py, the integrations page.

The integrations page (SPEC §3.8): who may use it, upload, preview, confirm, progress, history,
error file, export."""

import io
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from integrations.bench.imports import _run_queued
from integrations.models import ImportJob, UsersExport
from integrations.tasks import check_import_file
from tests import html
from tests.factories import PersonFactory
from tests.integrations.conftest import (
    PATHOLOGICAL_FILES,
    history,
    memberships,
    removed_contact,
    snapshot,
    users_csv,
)

pytestmark = pytest.mark.django_db


class _Text(HTMLParser):
    """The text inside the element with an id (or the whole page), as a person reads it."""

    def __init__(self, element_id=None):
        super().__init__(convert_charrefs=True)
        self.element_id, self.depth, self.parts = element_id, 0 if element_id else 1, []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag not in {"input", "br", "img", "meta", "link"}
        elif dict(attrs).get("id") == self.element_id:
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth and (self.element_id or tag != "html"):
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def text(response, element_id=None):
    parser = _Text(element_id)
    parser.feed(response.content.decode())
    return " ".join(" ".join(parser.parts).split())


def upload(client, content, *, name="people.csv", kind="users"):
    file = io.BytesIO(content.encode() if isinstance(content, str) else content)
    file.name = name
    return client.post("/integrations/", {"kind": kind, "file": file})


def nav_links(response):
    nav = re.search(r'<nav class="topnav" aria-label="Main">(.*?)</nav>', response.text, re.S)
    return re.findall(r">([^<]+)</a>", nav.group(1))


# Who may


@pytest.mark.parametrize("fixture", ["viewer_client", "standard_client"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/integrations/"),
        ("post", "/integrations/"),
        ("post", "/integrations/export/"),
        ("get", "/integrations/jobs/{job}/"),
        ("post", "/integrations/jobs/{job}/confirm/"),
        ("post", "/integrations/jobs/{job}/cancel/"),
        ("get", "/integrations/jobs/{job}/errors/"),
    ],
)
def test_integrations_are_forbidden_below_advanced(request, fixture, method, path):
    client = request.getfixturevalue(fixture)
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS, file_name="x.csv", status=ImportJob.Status.READY
    )

    response = getattr(client, method)(path.format(job=job.pk))

    assert response.status_code == 403
    assert "Your staff account may not do this." in text(response)
    assert ImportJob.objects.get().status == ImportJob.Status.READY


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/integrations/")

    assert (response.status_code, response.headers["Location"]) == (
        302,
        "/sign-in/?next=/integrations/",
    )


@pytest.mark.parametrize(
    ("fixture", "shown"),
    [
        ("viewer_client", False),
        ("standard_client", False),
        ("advanced_client", True),
        ("global_admin_client", True),
    ],
)
def test_integrations_link_shows_only_to_those_who_may(request, fixture, shown, tree):
    client = request.getfixturevalue(fixture)

    response = client.get("/accounts/")

    assert ("Integrations" in nav_links(response)) is shown


@pytest.mark.parametrize("fixture", ["advanced_client", "global_admin_client"])
def test_advanced_users_and_global_admins_see_the_page(request, fixture):
    client = request.getfixturevalue(fixture)

    response = client.get("/integrations/")

    assert response.status_code == 200
    assert text(response, "import-heading") == "Import a file"
    assert text(response, "export-heading") == "Export users"
    assert "No imports yet." in text(response)


# Upload and preview


def test_upload_checks_the_file_and_shows_the_preview(advanced_client, ada):
    before = snapshot()

    response = upload(
        advanced_client,
        users_csv(
            "BERLIN,grace@navy.example,Grace,Hopper,,,End user,yes,",
            "PARIS,ada@customer.example,,,Countess,,,,",
            "EMEA,ada@customer.example,,,,,,,",
            "NOPE,alan@example.com,Alan,Turing,,,,,",
        ),
    )

    job = ImportJob.objects.get()
    assert (response.status_code, response.headers["Location"]) == (
        302,
        f"/integrations/jobs/{job.pk}/",
    )
    assert (job.status, job.file_name, job.staff_user, job.rows_total) == (
        ImportJob.Status.READY,
        "people.csv",
        advanced_client.staff_user,
        4,
    )
    assert snapshot() == before

    page = advanced_client.get(response.headers["Location"])

    assert page.status_code == 200
    assert text(page, "totals-heading") == "Preview"
    assert re.sub(r"\s+", " ", text(page)).count("New 1 Updated 1 Unchanged 1 Failed 1") == 1
    assert text(page, "errors-heading") == "1 error in 1 row"
    assert "5 Account ID No account has the Account ID “NOPE”." in text(page)
    assert text(page, "changes-heading") == "What will change"
    assert "2 grace@navy.example at BERLIN New Email — → grace@navy.example" in text(page)
    assert "3 ada@customer.example at PARIS Updated Title CTO → Countess" in text(page)
    assert "Import the valid rows and skip the 1 row with errors" in text(page)


def test_the_job_page_answers_htmx_with_its_status_fragment(advanced_client, tree):
    upload(advanced_client, users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,"))
    job = ImportJob.objects.get()

    fragment = advanced_client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    page = advanced_client.get(job.get_absolute_url())

    assert fragment.text.lstrip().startswith('<div id="job-status" class="job-status">')
    assert "<html" not in fragment.text
    assert "<html" in page.text
    assert "HX-Request" in fragment.headers["Vary"]
    assert "HX-Request" in page.headers["Vary"]


def test_a_running_job_polls_for_its_progress(advanced_client, tree):
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="big.csv",
        status=ImportJob.Status.RUNNING,
        rows_total=100_000,
        rows_done=25_000,
        staff_user=advanced_client.staff_user,
        heartbeat_at=timezone.now(),
    )

    response = advanced_client.get(job.get_absolute_url(), headers={"HX-Request": "true"})

    assert f'hx-get="/integrations/jobs/{job.pk}/" hx-trigger="every 1s"' in response.text
    assert '<progress class="job-progress" max="100" value="25"' in response.text
    assert "25,000 of about 100,000 rows imported." in text(response)


def test_a_job_whose_worker_stopped_reads_as_failed_and_the_page_writes_nothing(
    advanced_client, tree, django_assert_num_queries
):
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="big.csv",
        status=ImportJob.Status.RUNNING,
        started_at=timezone.now() - timedelta(hours=2),
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    job.upload.save("big.csv", ContentFile(b"Account ID,Email\n"))
    stored = job.upload.name

    # Session, staff user, Global admin group, one permission lookup; then the job, or the
    # failing integration jobs, the count of jobs and a page of them.
    with django_assert_num_queries(5) as captured:
        response = advanced_client.get(job.get_absolute_url())
    with django_assert_num_queries(7) as captured_index:
        index = advanced_client.get("/integrations/")

    assert [
        query["sql"].split()[0]
        for query in [*captured.captured_queries, *captured_index.captured_queries]
    ] == ["SELECT"] * 12
    assert text(response, "failed-heading") == "The import failed"
    assert (
        "The worker running this job stopped before it finished. Nothing was changed: "
        "upload the file again to retry."
    ) in text(response)
    assert re.findall(r'<span class="outcome outcome-(\w+)">(\w+)</span>', index.text) == [
        ("failed", "Failed")
    ]
    job.refresh_from_db()
    assert (job.status, job.upload.name) == (ImportJob.Status.RUNNING, stored)

    # The next job a worker takes marks it failed for good and removes its stored file.
    upload(advanced_client, users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,"))

    job.refresh_from_db()
    assert (job.status, job.message, job.upload.name) == (
        ImportJob.Status.FAILED,
        ImportJob.STOPPED_MESSAGE,
        "",
    )
    assert not default_storage.exists(stored)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"Account ID,Email\n", "The file has a header row but no data rows."),
        ("Account ID,Email\n".encode("utf-16"), "The file has a header row but no data rows."),
        (
            b"\x00\x01\x02binary",
            "This is not a CSV or XLSX file: it holds binary data. Save it as "
            "CSV UTF-8 or as .xlsx and upload that.",
        ),
    ],
    ids=["empty", "header only", "UTF-16", "binary"],
)
def test_a_file_that_cannot_be_imported_fails_its_check_with_one_message(
    advanced_client, tree, content, message
):
    before = snapshot()

    response = upload(advanced_client, content)

    # The upload is stored and answered at once; the check says why on the job page.
    job = ImportJob.objects.get()
    assert (response.status_code, response.headers["Location"]) == (302, job.get_absolute_url())
    assert (job.status, job.message, job.upload.name) == (ImportJob.Status.FAILED, message, "")
    page = advanced_client.get(job.get_absolute_url())
    assert text(page, "failed-heading") == "This file cannot be imported"
    assert text(page).count(message) == 1
    assert snapshot() == before


def test_an_empty_upload_form_says_what_is_missing(advanced_client):
    response = advanced_client.post("/integrations/", {})

    assert response.status_code == 400
    assert "This field is required." in text(response)


def test_the_upload_size_limit_is_checked_before_the_file_is_read(advanced_client, settings, tree):
    settings.INTEGRATIONS_MAX_UPLOAD_SIZE = 100
    content = b"\x00" * 120  # binary: reading it would give another message

    response = upload(advanced_client, content)

    assert response.status_code == 400
    # (The sizes are written with a no-break space, which text() reads as a space.)
    assert (
        "This file is 120 bytes; files up to 100 bytes can be imported. Split it into "
        "smaller files."
    ) in text(response)
    assert ImportJob.objects.count() == 0


@pytest.mark.parametrize("case", list(PATHOLOGICAL_FILES))
def test_a_file_built_to_overload_the_reader_is_stored_and_its_check_says_why(
    advanced_client, tree, small_limits, case
):
    name, content, message = PATHOLOGICAL_FILES[case]()
    before = snapshot()

    response = upload(advanced_client, content, name=name)

    job = ImportJob.objects.get()
    assert (response.status_code, response.headers["Location"]) == (302, job.get_absolute_url())
    assert (job.status, job.message, job.upload.name) == (ImportJob.Status.FAILED, message, "")
    page = advanced_client.get(job.get_absolute_url())
    assert text(page, "failed-heading") == "This file cannot be imported"
    assert text(page).count(message) == 1
    assert snapshot() == before


def test_the_upload_reads_nothing_of_the_file_and_the_worker_checks_it(
    advanced_client, tree, settings
):
    """The issue's CSV of twenty million empty lines, with the default limits and the database
    queue of production: the request stores it and answers; the worker refuses it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    content = users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,") + "\n" * 20_000_000

    response = upload(advanced_client, content)

    job = ImportJob.objects.get()
    assert (response.status_code, response.headers["Location"]) == (302, job.get_absolute_url())
    assert (job.status, job.rows_total, job.file_size) == (
        ImportJob.Status.CHECKING,
        0,
        len(content),
    )
    waiting = advanced_client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    assert f'hx-get="{job.get_absolute_url()}" hx-trigger="every 1s"' in waiting.text
    assert "The file is stored and waits for a worker to check it; nothing is changed yet." in (
        text(waiting)
    )

    _run_queued(check_import_file, job)

    job.refresh_from_db()
    assert (job.status, job.message, job.upload.name) == (
        ImportJob.Status.FAILED,
        "This file has more than 1,000,000 rows after its header row (blank lines count too); "
        "up to 1,000,000 can be imported at once. Split it into smaller files and import each.",
        "",
    )


def test_unknown_columns_are_a_warning_after_upload(advanced_client, tree):
    response = upload(
        advanced_client,
        "Account ID,Email,First Name,Last Name,Notes\nPARIS,ada@example.com,Ada,Lovelace,hello\n",
    )

    page = advanced_client.get(response.headers["Location"])

    assert text(page).count("Column “Notes” is not part of a users file and was ignored.") == 1


# Confirm, cancel, outcome


def test_confirming_runs_the_import_and_removes_the_stored_file(advanced_client, ada):
    upload(advanced_client, users_csv("BERLIN,grace@navy.example,Grace,Hopper,,,End user,yes,"))
    job = ImportJob.objects.get()
    stored = job.upload.name
    assert default_storage.exists(stored)

    response = advanced_client.post(f"/integrations/jobs/{job.pk}/confirm/", {"keep_removed": "on"})

    job.refresh_from_db()
    assert (response.status_code, response.headers["Location"]) == (302, job.get_absolute_url())
    assert (job.status, job.new_rows, job.updated_rows, job.unchanged_rows, job.failed_rows) == (
        ImportJob.Status.SUCCEEDED,
        1,
        0,
        0,
        0,
    )
    assert job.finished_at is not None and job.upload.name == ""
    assert not default_storage.exists(stored)
    assert ("grace@navy.example", "BERLIN", "End user", True, False) in memberships()
    assert {row[5:] for row in history()} == {("import", advanced_client.staff_user.username)}

    page = advanced_client.get(job.get_absolute_url())
    assert text(page, "totals-heading") == "Import finished"
    assert text(page, "changes-heading") == "What changed"


def test_confirming_a_file_with_errors_needs_the_choice_to_skip_them(advanced_client, tree):
    upload(
        advanced_client,
        users_csv(
            "PARIS,ada@example.com,Ada,Lovelace,,,,,", "NOPE,alan@example.com,Alan,Turing,,,,,"
        ),
    )
    job = ImportJob.objects.get()
    before = snapshot()

    refused = advanced_client.post(f"/integrations/jobs/{job.pk}/confirm/", {"keep_removed": "on"})

    assert refused.status_code == 400
    assert (
        "The file has rows with errors, so importing it as it is would change nothing. Fix "
        "the file and upload it again, or choose to import the valid rows."
    ) in text(refused)
    assert snapshot() == before

    done = advanced_client.post(
        f"/integrations/jobs/{job.pk}/confirm/", {"keep_removed": "on", "skip_errors": "on"}
    )

    job.refresh_from_db()
    assert done.status_code == 302
    assert (job.status, job.new_rows, job.failed_rows) == (ImportJob.Status.SUCCEEDED, 1, 1)
    assert memberships() == [("ada@example.com", "PARIS", None, False, False)]

    errors = advanced_client.get(f"/integrations/jobs/{job.pk}/errors/")
    assert errors.headers["Content-Disposition"] == 'attachment; filename="people-errors.csv"'
    assert b"".join(errors.streaming_content).decode().splitlines() == [
        "Account ID,Email,First Name,Last Name,Title,Phone,Account Role,Contact,Key Contact,Error",
        "NOPE,alan@example.com,Alan,Turing,,,,,,Line 3. Account ID: No account has the Account "
        "ID “NOPE”.",
    ]
    history_page = advanced_client.get("/integrations/")
    assert "people.csv Users file" in text(history_page)
    assert "Error file" in text(history_page)


def test_a_job_is_confirmed_once(advanced_client, tree):
    upload(advanced_client, users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,"))
    job = ImportJob.objects.get()
    advanced_client.post(f"/integrations/jobs/{job.pk}/confirm/", {"keep_removed": "on"})

    again = advanced_client.post(
        f"/integrations/jobs/{job.pk}/confirm/", {"keep_removed": "on"}, follow=True
    )

    assert again.redirect_chain == [(job.get_absolute_url(), 302)]
    assert "This import is not waiting for confirmation." in text(again)
    assert ImportJob.objects.get().status == ImportJob.Status.SUCCEEDED


def test_cancelling_changes_nothing_and_removes_the_stored_file(advanced_client, tree):
    upload(advanced_client, users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,"))
    job = ImportJob.objects.get()
    stored = job.upload.name
    before = snapshot()

    response = advanced_client.post(f"/integrations/jobs/{job.pk}/cancel/")

    job.refresh_from_db()
    assert (response.status_code, response.headers["Location"]) == (302, "/integrations/")
    assert job.status == ImportJob.Status.CANCELLED
    assert not default_storage.exists(stored)
    assert snapshot() == before


def test_the_preview_warns_about_contacts_removed_since_the_last_sync(
    advanced_client, tree, staff_user
):
    grace = PersonFactory(first_name="Grace", last_name="Hopper", email="grace@navy.example")
    removed_contact(grace, tree["berlin"], staff_user=staff_user)
    upload(advanced_client, users_csv("BERLIN,grace@navy.example,,,,,,yes,"))
    job = ImportJob.objects.get()

    page = advanced_client.get(job.get_absolute_url())

    assert text(page, "readd-heading") == "1 row makes someone a contact again"
    assert "2 grace@navy.example Berlin BERLIN Ivy Importer" in text(page)
    assert 'name="keep_removed" id="id_keep_removed" checked' in page.text

    advanced_client.post(f"/integrations/jobs/{job.pk}/confirm/", {})  # unticked: re-add

    assert ("grace@navy.example", "BERLIN", None, True, False) in memberships()


def _confirm_choices(response, status=200):
    """The confirm form's choices: {label: (checked, [(id, text) the checkbox's
    aria-describedby names])}, and [(name, value)] of its hidden inputs but the CSRF token."""
    form = html.element(html.page(response, status), "form", class_="confirm-form")
    choices = {}
    for label in html.elements(form, "label"):
        box = html.element(form, "input", id=html.attribute(label, "for"))
        ids = (html.attribute(box, "aria-describedby") or "").split()
        choices[html.text(label)] = (
            "checked" in dict(box.attributes),
            [(id_, html.text(html.element(form, "p", id=id_))) for id_ in ids],
        )
    hidden = [
        (html.attribute(field, "name"), html.attribute(field, "value"))
        for field in html.elements(form, "input", type="hidden")
        if html.attribute(field, "name") != "csrfmiddlewaretoken"
    ]
    return choices, hidden


SKIP_ERRORS_HINT = (
    "id_skip_errors_helptext",
    "Otherwise the file is imported all or nothing, and with errors that means nothing. The "
    "skipped rows are in the error file.",
)


@pytest.mark.parametrize(
    ("count", "skip_label", "keep_label"),
    [
        (
            1,
            "Import the valid rows and skip the 1 row with errors",
            "Keep the 1 removed contact removed",
        ),
        (
            3,
            "Import the valid rows and skip the 3 rows with errors",
            "Keep the 3 removed contacts removed",
        ),
    ],
)
def test_the_confirm_form_names_its_choices_with_the_counts_of_the_preview(
    advanced_client, tree, staff_user, count, skip_label, keep_label
):
    for number in range(count):
        removed_contact(
            PersonFactory(email=f"gone{number}@example.com"),
            tree["berlin"],
            staff_user=staff_user,
        )
    rows = [f"BERLIN,gone{number}@example.com,,,,,,yes," for number in range(count)]
    rows += [f"NOPE,p{number}@example.com,P,Q,,,,," for number in range(count)]
    job_url = upload(advanced_client, users_csv(*rows)).headers["Location"]

    # The preview's number goes back with the choices: a confirmation names what it saw.
    assert _confirm_choices(advanced_client.get(job_url)) == (
        {skip_label: (False, [SKIP_ERRORS_HINT]), keep_label: (True, [])},
        [("preview", "0")],
    )


def test_the_confirm_form_of_a_clean_file_asks_nothing_and_keeps_removed_contacts_removed(
    advanced_client, tree
):
    job_url = upload(advanced_client, users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,")).headers[
        "Location"
    ]

    choices, hidden = _confirm_choices(advanced_client.get(job_url))

    assert (choices, hidden) == (
        {},
        [("skip_errors", None), ("keep_removed", "True"), ("preview", "0")],
    )
    job = ImportJob.objects.get()
    response = advanced_client.post(f"/integrations/jobs/{job.pk}/confirm/", dict(hidden[1:]))
    job.refresh_from_db()
    assert (response.status_code, job.status, job.keep_removed) == (
        302,
        ImportJob.Status.SUCCEEDED,
        True,
    )


def test_the_confirm_form_refused_for_errors_keeps_its_choices_and_says_why(advanced_client, tree):
    upload(
        advanced_client,
        users_csv(
            "PARIS,ada@example.com,Ada,Lovelace,,,,,", "NOPE,alan@example.com,Alan,Turing,,,,,"
        ),
    )
    job = ImportJob.objects.get()

    # What the page sends with the box unticked.
    response = advanced_client.post(
        f"/integrations/jobs/{job.pk}/confirm/",
        {"skip_errors": "", "keep_removed": "True", "preview": "0"},
    )

    assert _confirm_choices(response, 400) == (
        {
            "Import the valid rows and skip the 1 row with errors": (False, [SKIP_ERRORS_HINT]),
        },
        [("keep_removed", "True"), ("preview", "0")],
    )
    assert [
        html.text(error)
        for error in html.elements(html.parse(response), "div", class_="form-error")
    ] == [
        "The file has rows with errors, so importing it as it is would change nothing. Fix the "
        "file and upload it again, or choose to import the valid rows."
    ]


def test_accounts_files_are_uploaded_the_same_way(advanced_client, account_types):
    upload(
        advanced_client,
        "Account ID,Account Name,Account Type,Parent Account ID\n"
        "ACME,Acme,Corporate,\nACME-EU,Europe,Region,ACME\n",
        name="accounts.csv",
        kind="accounts",
    )
    job = ImportJob.objects.get()
    assert (job.kind, job.status, job.new_rows) == ("accounts", ImportJob.Status.READY, 2)

    advanced_client.post(f"/integrations/jobs/{job.pk}/confirm/", {"keep_removed": "on"})

    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
    from accounts.models import Account

    assert list(Account.objects.values_list("external_id", "parent__external_id")) == [
        ("ACME", None),
        ("ACME-EU", "ACME"),
    ]


def test_an_error_in_the_middle_of_a_job_fails_it_and_changes_nothing(
    advanced_client, tree, ada, failing_insert
):
    upload(
        advanced_client,
        users_csv("PARIS,ada@customer.example,,,,,,no,", "EMEA,boom@example.com,Boom,Boom,,,,,"),
    )
    job = ImportJob.objects.get()
    before = snapshot()

    advanced_client.post(f"/integrations/jobs/{job.pk}/confirm/", {"keep_removed": "on"})

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    # The database's error class, which differs between PostgreSQL and SQLite.
    assert re.fullmatch(
        r"An unexpected error stopped the import \((ProgrammingError|OperationalError)\)\. "
        r"Nothing was changed\.",
        job.message,
    )
    assert snapshot() == before
    page = advanced_client.get(job.get_absolute_url())
    assert text(page, "failed-heading") == "The import failed"


def test_a_person_saved_meanwhile_by_someone_else_fails_the_job_with_a_clear_message(
    advanced_client, tree, duplicate_insert
):
    upload(advanced_client, users_csv("EMEA,boom@example.com,Boom,Boom,,,,,"))
    job = ImportJob.objects.get()

    advanced_client.post(f"/integrations/jobs/{job.pk}/confirm/", {"keep_removed": "on"})

    job.refresh_from_db()
    assert (job.status, job.message) == (
        ImportJob.Status.FAILED,
        "Someone saved one of the same people or memberships while this import ran, so it "
        "stopped. Nothing was changed: import the file again.",
    )


# Export


def test_export_downloads_the_users_file(advanced_client, ada):
    response = advanced_client.post(
        "/integrations/export/", {"who": "contacts", "file_format": "csv"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    assert b"".join(response.streaming_content).decode().splitlines() == [
        "Account ID,Email,First Name,Last Name,Title,Phone,Account Role,Contact,Key Contact,"
        "Status,Start Date,End Date",
        "PARIS,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,Site admin,yes,yes,"
        "active,,",
    ]
    assert UsersExport.objects.get().staff_user == advanced_client.staff_user


def test_export_as_xlsx(advanced_client, ada):
    response = advanced_client.post("/integrations/export/", {"who": "all", "file_format": "xlsx"})

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [[cell.value for cell in row] for row in sheet.iter_rows()][1:] == [
        [
            "EMEA",
            "Ada@Customer.example",
            "Ada",
            "Lovelace",
            "CTO",
            "+33 1 23 45 67 89",
            None,
            "no",
            "no",
            "active",
            None,
            None,
        ],
        [
            "PARIS",
            "Ada@Customer.example",
            "Ada",
            "Lovelace",
            "CTO",
            "+33 1 23 45 67 89",
            "Site admin",
            "yes",
            "yes",
            "active",
            None,
            None,
        ],
    ]


def test_export_is_a_post(advanced_client):
    assert advanced_client.get("/integrations/export/").status_code == 405
    assert UsersExport.objects.count() == 0


def test_history_lists_who_when_file_outcome_and_counts(advanced_client, tree):
    ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="first.csv",
        status=ImportJob.Status.SUCCEEDED,
        staff_user=advanced_client.staff_user,
        new_rows=3,
        updated_rows=2,
        unchanged_rows=10,
        failed_rows=0,
    )
    ImportJob.objects.create(
        kind=ImportJob.Kind.ACCOUNTS,
        file_name="second.csv",
        status=ImportJob.Status.FAILED,
        failed_rows=4,
    )

    response = advanced_client.get("/integrations/")

    rows = re.findall(r"<tr>\s*<td><a[^>]*>(.*?)</tbody>", response.text, re.S)
    cells = [
        " ".join(re.sub(r"<[^>]+>", " ", row).split())
        for row in re.split(
            r"</tr>", re.search(r"<tbody>(.*?)</tbody>", response.text, re.S).group(1)
        )
        if row.strip()
    ]
    assert rows
    assert [re.sub(r" \d+ \w{3} \d{4}, \d\d:\d\d", " <when>", cell) for cell in cells] == [
        "second.csv Accounts file command line <when> Failed – – – 4",
        "first.csv Users file advanced_user <when> Finished 3 2 10 0",
    ]


# Query counts: the same at two data sizes. The first four queries of every page are the
# session, the staff user, the Global admin check and the permission lookup.


@pytest.mark.parametrize("job_count", [1, 3])
def test_history_query_count(advanced_client, django_assert_num_queries, job_count):
    for number in range(job_count):
        ImportJob.objects.create(
            kind=ImportJob.Kind.USERS,
            file_name=f"people-{number}.csv",
            status=ImportJob.Status.SUCCEEDED,
            staff_user=advanced_client.staff_user,
        )

    # The four, the failing integration jobs, the count of jobs, a page of them.
    with django_assert_num_queries(7):
        response = advanced_client.get("/integrations/")

    assert len(re.findall(r'<span class="outcome outcome-succeeded">', response.text)) == job_count


@pytest.mark.parametrize("error_rows", [1, 3])
def test_job_page_query_count(advanced_client, tree, django_assert_num_queries, error_rows):
    rows = [f"NOPE{number},p{number}@example.com,P,Q,,,,," for number in range(error_rows)]
    job_url = upload(advanced_client, users_csv(*rows)).headers["Location"]

    with django_assert_num_queries(5):  # the four and the job
        response = advanced_client.get(job_url)

    assert text(response, "errors-heading") == (
        f"{error_rows} error{'s' if error_rows > 1 else ''} in {error_rows} "
        f"row{'s' if error_rows > 1 else ''}"
    )


@pytest.mark.parametrize("job_count", [1, 3])
def test_job_progress_fragment_query_count(advanced_client, django_assert_num_queries, job_count):
    jobs = [
        ImportJob.objects.create(
            kind=ImportJob.Kind.USERS,
            file_name=f"big-{number}.csv",
            status=ImportJob.Status.RUNNING,
            rows_total=100,
            rows_done=50,
            heartbeat_at=timezone.now(),
            staff_user=advanced_client.staff_user,
        )
        for number in range(job_count)
    ]

    with django_assert_num_queries(5):  # the four and the job
        response = advanced_client.get(jobs[-1].get_absolute_url(), headers={"HX-Request": "true"})

    assert response.text.lstrip().startswith('<div id="job-status" class="job-status" hx-get=')
    assert "50 of about 100 rows imported." in text(response)
