"""Import jobs as services: their life from upload to outcome, stopped workers, progress seen
while the import's transaction is open, and the tree locks of an accounts import."""

import io
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import TREE_LOCK_NAMESPACE
from integrations import services
from integrations.models import Heartbeat, ImportJob
from integrations.progress import JobProgress
from integrations.tasks import check_import_file, run_import_file, scheduler
from tests.integrations.conftest import accounts_csv, import_accounts, memberships, users_csv

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's advisory locks and connections"
)


def start(text, staff_user, name="people.csv", kind=ImportJob.Kind.USERS):
    return services.start_import_job(
        kind=kind, upload=SimpleUploadedFile(name, text.encode()), by=staff_user
    )


@pytest.mark.django_db
def test_a_job_goes_from_upload_through_preview_to_its_outcome(tree, staff_user):
    job = start(users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,yes,"), staff_user)

    # The immediate task backend of the tests has run the check already.
    assert (job.status, job.new_rows, job.rows_total, job.summary["phase"]) == (
        ImportJob.Status.READY,
        1,
        1,
        "preview",
    )
    assert memberships() == []
    stored = job.upload.name

    services.confirm_import_job(job=job, skip_errors=False, keep_removed=True, by=staff_user)

    job.refresh_from_db()
    assert (job.status, job.new_rows, job.summary["phase"], job.upload.name) == (
        ImportJob.Status.SUCCEEDED,
        1,
        "run",
        "",
    )
    assert job.started_at <= job.finished_at
    assert not default_storage.exists(stored)
    assert memberships() == [("ada@example.com", "PARIS", None, True, False)]


@pytest.mark.django_db
def test_a_file_that_cannot_be_read_fails_its_check_and_is_removed(tree, staff_user):
    job = start("Account ID,Email\n", staff_user)

    assert job.status == ImportJob.Status.FAILED
    assert job.message == "The file has a header row but no data rows."
    assert job.upload.name == ""


@pytest.mark.django_db
def test_a_file_of_another_header_waits_for_a_mapping_with_its_columns_analysed(tree, staff_user):
    job = start(
        "Name,Mail,VIP\nAda L,ada@example.com,TRUE\nBob B,bob@example.com,TRUE\n", staff_user
    )

    assert (job.status, job.message) == (ImportJob.Status.MAPPING, "")
    assert job.upload.name != ""
    assert job.analysis["headers"] == ["Name", "Mail", "VIP"]
    assert job.analysis["row_count"] == 2
    assert job.analysis["columns"][2] == {
        "name": "VIP",
        "filled": 2,
        "distinct": 1,
        "many": False,
        "values": [["TRUE", 2]],
    }


@pytest.mark.django_db
def test_confirming_needs_a_job_that_waits_for_it(tree, staff_user):
    job = start(users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,"), staff_user)
    services.cancel_import_job(job=job, by=staff_user)

    with pytest.raises(ValidationError) as error:
        services.confirm_import_job(job=job, skip_errors=False, keep_removed=True, by=staff_user)

    assert (error.value.code, error.value.messages) == (
        "not_ready",
        ["This import is not waiting for confirmation."],
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED


@pytest.mark.django_db
def test_a_run_claims_its_job_once(tree, staff_user):
    job = start(users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,"), staff_user)
    services.confirm_import_job(job=job, skip_errors=False, keep_removed=True, by=staff_user)
    job.refresh_from_db()
    finished_at = job.finished_at

    services.run_import_job(job=job)  # a second delivery of the same task

    job.refresh_from_db()
    assert (job.status, job.finished_at) == (ImportJob.Status.SUCCEEDED, finished_at)
    assert len(memberships()) == 1


@pytest.mark.django_db
def test_only_started_jobs_without_news_are_stale(tree):
    now = timezone.now()
    old = now - timedelta(hours=1)

    def job(status, heartbeat_at):
        return ImportJob.objects.create(
            kind=ImportJob.Kind.USERS,
            file_name=f"{status}.csv",
            status=status,
            heartbeat_at=heartbeat_at,
        )

    stopped = job(ImportJob.Status.RUNNING, old)
    stopped_check = job(ImportJob.Status.CHECKING, old)
    job(ImportJob.Status.RUNNING, now)  # reported a moment ago
    job(ImportJob.Status.PENDING, None)  # waits for a worker
    job(ImportJob.Status.PENDING, old)  # confirmed an hour after its preview reported
    job(ImportJob.Status.SUCCEEDED, old)  # over

    assert services.fail_stale_jobs() == 2

    assert set(
        ImportJob.objects.filter(status=ImportJob.Status.FAILED).values_list("pk", flat=True)
    ) == {stopped.pk, stopped_check.pk}


@pytest.mark.django_db
def test_an_import_confirmed_long_after_its_preview_runs(tree, staff_user):
    job = start(users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,"), staff_user)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    job.refresh_from_db()

    services.confirm_import_job(job=job, skip_errors=False, keep_removed=True, by=staff_user)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
    assert len(memberships()) == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_transaction_is_open(tree):
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS, file_name="big.csv", status=ImportJob.Status.RUNNING
    )
    progress = JobProgress(job)
    try:
        with transaction.atomic():
            progress(1234, force=True)
            # Another connection (the job page's) sees it although this transaction is open.
            other = connection.copy()
            try:
                with other.cursor() as cursor:
                    cursor.execute(
                        "SELECT rows_done FROM integrations_importjob WHERE id = %s", [job.pk]
                    )
                    assert cursor.fetchone() == (1234,)
            finally:
                other.close()
    finally:
        progress.close()


@postgresql_only
@pytest.mark.django_db
def test_an_accounts_import_holds_the_tree_locks_until_it_commits(tree):
    with transaction.atomic():
        import_accounts(accounts_csv("BERLIN,,,AMER", "NEW,New,Corporate,"))

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT objid, mode FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
                "AND objsubid = 2 AND pid = pg_backend_pid() AND granted",
                [TREE_LOCK_NAMESPACE],
            )
            held = set(cursor.fetchall())

    assert (0, "ExclusiveLock") in held
    assert (tree["corp"].tree_id, "ExclusiveLock") in held


@pytest.mark.django_db
def test_the_import_of_a_file_object_reads_it_from_the_start(tree):
    file = io.BytesIO(users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,").encode())
    file.seek(10)

    result = services.import_file(kind=ImportJob.Kind.USERS, file=file, dry_run=True)

    assert result.new == 1


# Stopped workers: heartbeats, task records, the scheduler's sweep


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_running_job_reports_while_no_chunk_ends(tree, settings):
    """The heartbeat goes on while the import is busy with one thing (reading a large file, a
    slow chunk, waiting for another import): nothing calls the progress meanwhile."""
    settings.INTEGRATIONS_JOB_STALE_AFTER = 2  # a report every half second
    long_ago = timezone.now() - timedelta(hours=1)
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="big.csv",
        status=ImportJob.Status.RUNNING,
        heartbeat_at=long_ago,
    )
    progress = JobProgress(job)
    try:
        deadline = time.monotonic() + 30
        while ImportJob.objects.get(pk=job.pk).heartbeat_at == long_ago:
            assert time.monotonic() < deadline, "no heartbeat within 30 s"
            time.sleep(0.05)
        first = ImportJob.objects.get(pk=job.pk).heartbeat_at
        while ImportJob.objects.get(pk=job.pk).heartbeat_at == first:
            assert time.monotonic() < deadline, "no second heartbeat within 30 s"
            time.sleep(0.05)
    finally:
        progress.close()
    assert ImportJob.objects.get(pk=job.pk).rows_done == 0


def queued_task(task, job, *, worker_id="w1", status="RUNNING"):
    return DBTaskResult.objects.create(
        task_path=task.module_path,
        args_kwargs={"args": [job.pk], "kwargs": {}},
        backend_name="default",
        run_after=timezone.now(),
        status=status,
        worker_ids=[worker_id],
    )


@pytest.mark.django_db
def test_a_stale_job_fails_with_its_task_record(tree):
    old = timezone.now() - timedelta(days=1)
    stopped = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS, file_name="a.csv", status="running", heartbeat_at=old
    )
    live = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="b.csv",
        status="running",
        heartbeat_at=timezone.now(),
    )
    stopped_task = queued_task(run_import_file, stopped)
    live_task = queued_task(run_import_file, live)

    assert services.fail_stale_jobs() == 1

    stopped_task.refresh_from_db()
    live_task.refresh_from_db()
    assert (stopped_task.status, stopped_task.exception_class_path) == (
        "FAILED",
        "integrations.services.WorkerStopped",
    )
    assert stopped_task.traceback == f"WorkerStopped: {ImportJob.STOPPED_MESSAGE}"
    assert stopped_task.finished_at is not None
    assert live_task.status == "RUNNING"


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_stale_job_reads_failed_only_once_its_task_and_file_are_dealt_with(tree, monkeypatch):
    """Another reader (a page, the killed-worker test) never sees the job failed with its
    upload still there: the sweep changes all of it in one transaction."""
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="a.csv",
        status="running",
        heartbeat_at=timezone.now() - timedelta(days=1),
    )
    job.upload.save("a.csv", SimpleUploadedFile("a.csv", b"Account ID,Email\n"))
    seen = []
    other = connection.copy()
    remove_upload = services._remove_upload

    def remove_upload_seen_from_elsewhere(job):
        with other.cursor() as cursor:
            cursor.execute("SELECT status FROM integrations_importjob WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone()[0])
        remove_upload(job)

    monkeypatch.setattr(services, "_remove_upload", remove_upload_seen_from_elsewhere)
    try:
        assert services.fail_stale_jobs() == 1
    finally:
        other.close()

    assert seen == ["running"]
    job.refresh_from_db()
    assert (job.status, job.upload.name) == (ImportJob.Status.FAILED, "")


@pytest.mark.django_db
def test_the_sweep_fails_the_tasks_of_workers_that_stopped_reporting(tree):
    now = timezone.now()
    Heartbeat.objects.create(name="worker dead", role="worker", beat_at=now - timedelta(hours=1))
    Heartbeat.objects.create(name="worker live", role="worker", beat_at=now)
    Heartbeat.objects.create(name="worker gone", role="worker", beat_at=now - timedelta(days=2))
    job = ImportJob.objects.create(kind=ImportJob.Kind.USERS, file_name="a.csv")
    of_dead = queued_task(check_import_file, job, worker_id="dead")
    of_live = queued_task(check_import_file, job, worker_id="live")
    # A worker that never reported (an old db_worker): its tasks are left alone.
    of_unknown = queued_task(check_import_file, job, worker_id="unknown")
    done = queued_task(check_import_file, job, worker_id="dead", status="SUCCESSFUL")

    assert services.sweep_stopped_work() == (0, 1)

    states = {task.pk: task.status for task in DBTaskResult.objects.all()}
    assert states == {
        of_dead.pk: "FAILED",
        of_live.pk: "RUNNING",
        of_unknown.pk: "RUNNING",
        done.pk: "SUCCESSFUL",
    }
    # Reports older than a day are forgotten.
    assert set(Heartbeat.objects.values_list("name", flat=True)) == {"worker dead", "worker live"}


@pytest.mark.django_db
def test_an_import_jobs_task_is_failed_with_its_job_whichever_report_goes_stale_first(tree):
    """The worker's report may go stale a beat before its job's: the task then waits for the
    job, whose message says that nothing was changed (the killed-worker test saw the worker's
    generic message instead, now and then)."""
    now = timezone.now()
    Heartbeat.objects.create(name="worker dead", role="worker", beat_at=now - timedelta(hours=1))
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS, file_name="a.csv", status="running", heartbeat_at=now
    )
    task = queued_task(run_import_file, job, worker_id="dead")

    assert services.sweep_stopped_work() == (0, 0)
    task.refresh_from_db()
    assert task.status == "RUNNING"

    assert services.sweep_stopped_work(now=now + timedelta(hours=1)) == (1, 0)
    task.refresh_from_db()
    assert (task.status, task.traceback) == (
        "FAILED",
        f"WorkerStopped: {ImportJob.STOPPED_MESSAGE}",
    )


@pytest.mark.django_db
def test_the_scheduler_reports_and_sweeps_on_its_own(tree):
    stopped = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="a.csv",
        status="running",
        heartbeat_at=timezone.now() - timedelta(days=1),
    )
    jobs = {job.id: job.func for job in scheduler.get_jobs()}

    # Without the fresh connections around them, which would end this test's transaction.
    jobs["integrations.report_scheduler_alive"].__wrapped__()
    jobs["integrations.sweep_stopped_work"].__wrapped__()

    assert Heartbeat.objects.get().name == "scheduler"
    stopped.refresh_from_db()
    assert stopped.status == ImportJob.Status.FAILED


@pytest.mark.django_db
def test_the_check_learns_the_row_estimate_once_the_file_is_open_before_any_row(tree):
    """The upload reads nothing of the file, so the check's progress bar needs the estimate
    from the check itself: check_import_job saves it when import_file hands over the Table."""
    events = []
    text = users_csv("PARIS,a@example.com,A,A,,,,,", "PARIS,b@example.com,B,B,,,,,")

    services.import_file(
        kind=ImportJob.Kind.USERS,
        file=io.BytesIO(text.encode()),
        dry_run=True,
        chunk_size=1,
        on_table=lambda table: events.append(("estimate", table.row_estimate)),
        progress=lambda done: events.append(("rows done", done)),
    )

    assert events == [("estimate", 2), ("rows done", 1), ("rows done", 2)]


@pytest.mark.django_db
def test_a_file_over_the_limits_fails_its_check_with_the_limit_named(tree, staff_user, settings):
    settings.INTEGRATIONS_MAX_ROWS = 1

    job = start(
        users_csv("PARIS,a@example.com,A,A,,,,,", "PARIS,b@example.com,B,B,,,,,"), staff_user
    )

    assert (job.status, job.message, job.upload.name) == (
        ImportJob.Status.FAILED,
        "This file has more than 1 row after its header row (blank lines count too); up to 1 "
        "can be imported at once. Split it into smaller files and import each.",
        "",
    )


@pytest.mark.parametrize(
    ("status", "task"),
    [(ImportJob.Status.CHECKING, check_import_file), (ImportJob.Status.PENDING, run_import_file)],
)
@pytest.mark.django_db
def test_a_job_whose_worker_stopped_before_claiming_it_is_failed(tree, status, task):
    """A worker killed between taking the task and claiming its job: the job has no heartbeat
    of its own (a preview that never reported, a confirmed import still PENDING), so only its
    task record, RUNNING on a worker that stopped reporting, tells."""
    Heartbeat.objects.create(
        name="worker dead", role="worker", beat_at=timezone.now() - timedelta(hours=1)
    )
    job = ImportJob.objects.create(kind=ImportJob.Kind.USERS, file_name="a.csv", status=status)
    job.upload.save("a.csv", SimpleUploadedFile("a.csv", b"Account ID,Email\n"))
    record = queued_task(task, job, worker_id="dead")

    assert services.sweep_stopped_work() == (1, 0)

    job.refresh_from_db()
    record.refresh_from_db()
    assert (job.status, job.message, job.upload.name) == (
        ImportJob.Status.FAILED,
        ImportJob.STOPPED_MESSAGE,
        "",
    )
    assert (record.status, record.traceback) == (
        "FAILED",
        f"WorkerStopped: {ImportJob.STOPPED_MESSAGE}",
    )


@pytest.mark.django_db
def test_a_pending_job_whose_task_failed_is_failed(tree):
    """Its run's task record failed (the sweep of a stopped worker's tasks, an error before the
    claim): no worker will ever take the job."""
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS, file_name="a.csv", status=ImportJob.Status.PENDING
    )
    queued_task(run_import_file, job, status="FAILED")

    assert services.fail_stale_jobs() == 1

    job.refresh_from_db()
    assert (job.status, job.message) == (ImportJob.Status.FAILED, ImportJob.STOPPED_MESSAGE)


@pytest.mark.django_db
def test_a_queued_job_of_a_live_worker_or_of_another_task_is_left_alone(tree):
    now = timezone.now()
    Heartbeat.objects.create(name="worker live", role="worker", beat_at=now)
    Heartbeat.objects.create(name="worker dead", role="worker", beat_at=now - timedelta(hours=1))

    def job(status, heartbeat_at=None):
        return ImportJob.objects.create(
            kind=ImportJob.Kind.USERS, file_name="a.csv", status=status, heartbeat_at=heartbeat_at
        )

    taken_by_a_live_worker = job(ImportJob.Status.PENDING)
    queued_task(run_import_file, taken_by_a_live_worker, worker_id="live")
    # Not yet taken: its record waits in the queue.
    waiting = job(ImportJob.Status.PENDING)
    queued_task(run_import_file, waiting, worker_id="dead", status="READY")
    # Its preview's task failed after the preview was saved; its run waits.
    confirmed = job(ImportJob.Status.PENDING)
    queued_task(check_import_file, confirmed, status="FAILED")
    queued_task(run_import_file, confirmed, status="READY")
    # A preview that reports, whatever its task record says: its heartbeat decides.
    reporting = job(ImportJob.Status.CHECKING, now)
    queued_task(check_import_file, reporting, worker_id="dead")
    # A worker that never reported: its tasks are left alone (as fail_stale_tasks does).
    of_unknown = job(ImportJob.Status.CHECKING)
    queued_task(check_import_file, of_unknown, worker_id="unknown")

    assert services.fail_stale_jobs() == 0
    assert ImportJob.objects.filter(status=ImportJob.Status.FAILED).count() == 0


@pytest.fixture
def slow_error_files(settings, monkeypatch):
    """From when it is called: error files whose writing takes three stale periods, with the
    scheduler's sweep run meanwhile. Returns the list of how many jobs each sweep failed."""
    settings.INTEGRATIONS_JOB_STALE_AFTER = 1  # a report every quarter of a second
    swept = []
    write_csv = services.write_csv

    def slow_write_csv(*args, **kwargs):
        time.sleep(3)
        swept.append(services.fail_stale_jobs())
        return write_csv(*args, **kwargs)

    def install():
        monkeypatch.setattr(services, "write_csv", slow_write_csv)
        return swept

    return install


SKIPPED_ROWS = ("PARIS,ada@example.com,Ada,Lovelace,,,,,", "NOPE,bob@example.com,Bob,B,,,,,")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_run_reports_while_its_error_file_is_written(tree, staff_user, slow_error_files):
    job = start(users_csv(*SKIPPED_ROWS), staff_user)
    # Confirmed, and taken by a worker outside any transaction (the tests' immediate tasks
    # would run it inside the confirming one, where no other connection sees it).
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.PENDING, skip_errors=True, heartbeat_at=None
    )
    swept = slow_error_files()

    services.run_import_job(job=ImportJob.objects.get(pk=job.pk))

    job.refresh_from_db()
    assert swept == [0]
    assert (job.status, job.message, job.new_rows, job.failed_rows) == (
        ImportJob.Status.SUCCEEDED,
        "",
        1,
        1,
    )
    assert job.error_file.name != ""
    assert len(memberships()) == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_command_line_import_reports_while_its_error_file_is_written(tree, slow_error_files):
    swept = slow_error_files()

    job, result = services.import_file_now(
        kind=ImportJob.Kind.USERS,
        file=io.BytesIO(users_csv(*SKIPPED_ROWS).encode()),
        file_name="people.csv",
        skip_errors=True,
    )

    job.refresh_from_db()
    assert swept == [0]
    assert (job.status, result.new, job.failed_rows) == (ImportJob.Status.SUCCEEDED, 1, 1)
