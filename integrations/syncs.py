"""Integration jobs' runs (SPEC §4.6): started by the scheduler, a click or the command line,
run on a worker (or in the command's process), one at a time per job.

An inbound run takes the newest file at its place that it did not take before and imports it
as the command line does (integrations.services.import_file_now: the same rules, history,
progress and error file as an upload, all or nothing unless the job skips rows with errors).
An outbound run writes the users file under a dated name. Either way a SyncRun says which file
it took or wrote and how it ended.
"""

import logging
import tempfile
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from contacts.models import DownloadRecord
from contacts.privacy import record_download

from . import services
from .heartbeat import Pulse
from .mapping import MappingProblem
from .models import (
    ImportJob,
    IntegrationJob,
    SyncRun,
    _stale_cutoff,
    heartbeat_interval,
)
from .places import PlaceError, open_place, outbound_name
from .secrets import SecretUnreadable

logger = logging.getLogger(__name__)


class RunUnderWay(ValidationError):
    pass


# Starting runs


def start_run(integration_job, *, trigger, by=None):
    """Queue a run of `integration_job` on a worker. Raises RunUnderWay when one is queued or
    running already (at most one at a time, whoever starts it). Returns the SyncRun."""
    from .tasks import run_integration_job

    with transaction.atomic():
        run = _new_run(integration_job, trigger=trigger, by=by)
        # In the same transaction as the run: the database task backend never sees one
        # without the other.
        run_integration_job.enqueue(run.pk)
    run.refresh_from_db()  # a backend that runs tasks at once (the tests') ran it already
    return run


def run_now_here(integration_job, *, trigger=SyncRun.Trigger.COMMAND, by=None):
    """Run `integration_job` in this process and wait for its end (`manage.py sync run`).
    Raises RunUnderWay as start_run does. Returns the finished SyncRun."""
    with transaction.atomic():
        run = _new_run(integration_job, trigger=trigger, by=by)
    return execute_run(run)


def _new_run(integration_job, *, trigger, by):
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                integration_job=integration_job, trigger=trigger, staff_user=by
            )
    except IntegrityError as error:
        under_way = integration_job.runs.under_way().first()
        since = (
            f" since {timezone.localtime(under_way.created_at):%Y-%m-%d %H:%M}" if under_way else ""
        )
        raise RunUnderWay(
            f"“{integration_job}” is running already{since}: a job runs once at a time. "
            "Its page shows when it ends.",
            code="under_way",
        ) from error


def start_due_runs(now=None):
    """The scheduler's tick: queue a run of every enabled job whose time has come, and plan
    its next. Each job row is locked while it is looked at (FOR UPDATE SKIP LOCKED), so two
    schedulers never start the same run twice; the next run is planned from now, so a job
    that missed several times while nothing ran runs once. A job still running when its
    time comes skips that time. Returns the runs queued."""
    from .tasks import run_integration_job

    now = now or timezone.now()
    started = []
    with transaction.atomic():
        due = IntegrationJob.objects.due(now).select_for_update(skip_locked=True)
        for integration_job in due:
            integration_job.next_run_at = integration_job.plan_next_run(now)
            integration_job.save(update_fields=["next_run_at"])
            try:
                run = _new_run(integration_job, trigger=SyncRun.Trigger.SCHEDULE, by=None)
            except RunUnderWay:
                logger.info("Integration job %s is still running; skipped", integration_job)
                continue
            run_integration_job.enqueue(run.pk)
            started.append(run)
    return started


def plan(integration_job, now=None):
    """Set the job's next run from its schedule (after a save that may change it). Not
    saved."""
    integration_job.next_run_at = integration_job.plan_next_run(now)
    return integration_job


# Running


def execute_run(run):
    """Run a queued SyncRun to its end (on a worker, or in the command's process), unless
    another process took it already. Returns the run."""
    now = timezone.now()
    claimed = SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    run.refresh_from_db()
    if not claimed:
        return run
    integration_job = run.integration_job
    pulse = _RunPulse(run)
    try:
        if integration_job.inbound:
            _run_inbound(run, integration_job)
        else:
            _run_outbound(run, integration_job)
    except (PlaceError, SecretUnreadable) as problem:
        _end(run, SyncRun.Status.FAILED, str(problem))
    except ValidationError as problem:
        _end(run, SyncRun.Status.FAILED, " ".join(problem.messages))
    except MappingProblem as problem:
        _end(
            run,
            SyncRun.Status.FAILED,
            f"Its mapping template “{integration_job.mapping_template}” is no longer valid: "
            f"{problem.message}",
        )
    except Exception:
        logger.exception("Run %s of integration job %s failed", run.pk, integration_job.pk)
        _end(
            run,
            SyncRun.Status.FAILED,
            "An unexpected error stopped this run; nothing was changed. It is in the server's "
            "log; the next run tries again.",
        )
    finally:
        pulse.close()
    return run


def _open(integration_job):
    return open_place(
        kind=integration_job.place,
        location=integration_job.location,
        direction=integration_job.direction,
        secrets=integration_job.secrets(),
        options=integration_job.options,
    )


def _run_inbound(run, integration_job):
    with _open(integration_job) as place:
        candidates = place.candidates()
        if not candidates:
            return _end(
                run,
                SyncRun.Status.NOTHING_NEW,
                f"No file at {integration_job.location}: nothing to import.",
            )
        taken = SyncRun.objects.files_taken(integration_job)
        fresh = [remote for remote in candidates if remote.fingerprint() not in taken]
        if not fresh:
            return _end(
                run,
                SyncRun.Status.NOTHING_NEW,
                f"No new file: {_file_word(len(candidates))} taken before, "
                f"the newest {candidates[0].name}.",
            )
        remote = fresh[0]
        run.file_name, run.fingerprint = remote.name[:1000], remote.fingerprint()[:1000]
        run.save(update_fields=["file_name", "fingerprint"])
        mapping = (
            integration_job.mapping_template.as_mapping()
            if integration_job.mapping_template
            else None
        )
        with tempfile.TemporaryFile() as file:
            place.download(remote, file)
            file.seek(0)
            job, result = services.import_file_now(
                kind=integration_job.file_kind,
                file=file,
                file_name=PurePosixPath(remote.name).name or "file",
                skip_errors=integration_job.skip_errors,
                keep_removed=not integration_job.re_add_removed,
                by=run.staff_user,
                mapping=mapping,
                template=integration_job.mapping_template,
                on_job=lambda job: SyncRun.objects.filter(pk=run.pk).update(import_job=job),
            )
        run.import_job = job
        # A file read to its end has its outcome: taking it again would give the same one.
        # One an unexpected error stopped is tried again at the next run.
        run.file_taken = result is not None
        status, message = _import_outcome(job)
        if run.file_taken and integration_job.move_processed:
            try:
                moved_to = place.mark_processed(remote)
            except PlaceError as problem:
                message = f"{message} It could not be moved to processed/: {problem}".strip()
            else:
                message = f"{message} Moved to {moved_to}.".strip()
        _end(run, status, message)


def _import_outcome(job):
    if job.status == ImportJob.Status.SUCCEEDED and job.failed_rows:
        return (
            SyncRun.Status.PARTIAL,
            f"{job.failed_rows:,} row{'s' if job.failed_rows != 1 else ''} with errors "
            "skipped; the error file lists them.",
        )
    if job.status == ImportJob.Status.SUCCEEDED:
        return SyncRun.Status.SUCCEEDED, ""
    return SyncRun.Status.FAILED, job.message


def _run_outbound(run, integration_job):
    file_format = "xlsx" if integration_job.location.lower().endswith(".xlsx") else "csv"
    memberships, what = _what_to_export(integration_job)
    name = outbound_name(integration_job.location, timezone.localtime())
    with tempfile.TemporaryFile() as file:
        # The export's record (which the re-add guard counts from) and its audit entry are
        # kept only once the file is in its place.
        with transaction.atomic():
            download = record_download(
                kind=DownloadRecord.Kind.USERS_FILE,
                channel=DownloadRecord.Channel.SYNC,
                by=run.staff_user,
                filters=f"{what}, by the integration job “{integration_job}”",
                file_format=file_format,
            )
            records = []
            _, _, body = services.export_users(
                contacts_only=integration_job.export == IntegrationJob.Export.CONTACTS,
                file_format=file_format,
                by=run.staff_user,
                download=download,
                memberships=memberships,
                on_record=records.append,
            )
            _copy(body, file)
            file.seek(0)
            with _open(integration_job) as place:
                location = place.write(name, file)
            download.refresh_from_db()
        run.users_export = records[0]
        run.file_name = location[:1000]
        run.rows_written = download.row_count
        _end(run, SyncRun.Status.SUCCEEDED, "")


def _what_to_export(integration_job):
    """(memberships or None for every one, words for the audit)."""
    if integration_job.export != IntegrationJob.Export.SEGMENT:
        return None, integration_job.get_export_display()
    segment = integration_job.segment
    if segment is None:
        raise ValidationError(
            "The segment this job exports was deleted: choose another, or export every "
            "membership or the contacts."
        )
    return segment.memberships_to_export(), f"The segment “{segment}”"


def _copy(body, file):
    if hasattr(body, "read"):
        while chunk := body.read(1 << 20):
            file.write(chunk)
    else:
        for chunk in body:
            file.write(chunk)


def _end(run, status, message):
    """Save how the run ended; a failure counts on the job (named at the top of Integrations
    after several in a row), any other end clears the count."""
    run.status, run.message, run.finished_at = status, message, timezone.now()
    run.save()
    failures = F("failures_in_a_row") + 1 if status == SyncRun.Status.FAILED else 0
    IntegrationJob.objects.filter(pk=run.integration_job_id).update(failures_in_a_row=failures)
    return run


def _file_word(count):
    return "the one file matching was" if count == 1 else f"all {count:,} files matching were"


class _RunPulse:
    """The run's heartbeat while it runs, from a thread of its own (integrations.heartbeat),
    so that a run killed with its process is found and marked failed. On SQLite an import
    holds the one write lock, so there the run reports nothing and counts as stopped only after
    models.stale_after()'s long silence, as import jobs do."""

    def __init__(self, run):
        self.pulse = None
        if connections[router.db_for_write(SyncRun)].vendor == "postgresql":
            self.pulse = Pulse(
                lambda: SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(
                    heartbeat_at=timezone.now()
                ),
                interval=heartbeat_interval(),
                name=f"integration run {run.pk}",
            ).start()

    def close(self):
        if self.pulse is not None:
            self.pulse.stop()


STOPPED_MESSAGE = (
    "The process running this stopped before it finished (a worker or command was killed or "
    "restarted); an import it started changed nothing. The next run tries again."
)


def fail_stopped_runs(now=None):
    """Mark failed the runs whose process stopped: running ones whose heartbeat went silent,
    and queued ones whose task the worker sweep marked failed. Returns how many."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from .tasks import run_integration_job

    silent = Q(status=SyncRun.Status.RUNNING, heartbeat_at__lt=_stale_cutoff(now))
    queued = list(SyncRun.objects.filter(status=SyncRun.Status.QUEUED).values_list("pk", flat=True))
    lost = set()
    if queued:
        records = Q()
        for pk in queued:
            records |= Q(args_kwargs={"args": [pk], "kwargs": {}})
        lost = {
            args_kwargs["args"][0]
            for args_kwargs in DBTaskResult.objects.filter(
                records,
                task_path=run_integration_job.module_path,
                status=TaskResultStatus.FAILED,
            ).values_list("args_kwargs", flat=True)
        }
    count = 0
    for run in SyncRun.objects.filter(silent | Q(pk__in=lost)).select_related("integration_job"):
        _end(run, SyncRun.Status.FAILED, STOPPED_MESSAGE)
        count += 1
    return count
