"""Past 400 lines as one thing: an integration job's run, from its start to its end.

Integration jobs' runs (SPEC §4.6): started by the scheduler, a click or the command line,
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

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Q
from django.template.defaultfilters import filesizeformat
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
    UsersExport,
    _stale_cutoff,
    heartbeat_interval,
)
from .places import DestinationError, PlaceError, open_place, outbound_name
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
            # One job's trouble (a schedule a newer cronsim reads differently, say) must not
            # stop the others': each in a savepoint of its own.
            try:
                with transaction.atomic():
                    plan(integration_job, now).save(update_fields=["next_run_at"])
                with transaction.atomic():
                    run = _new_run(integration_job, trigger=SyncRun.Trigger.SCHEDULE, by=None)
                    run_integration_job.enqueue(run.pk)
            except RunUnderWay:
                logger.info("Integration job %s is still running; skipped", integration_job)
                continue
            except Exception:
                logger.exception("Could not start a run of integration job %s", integration_job)
                continue
            started.append(run)
        # A scheduled job with no next run (saved outside the forms): planned from now.
        unplanned = IntegrationJob.objects.filter(enabled=True, next_run_at=None).exclude(
            schedule=""
        )
        for integration_job in unplanned.select_for_update(skip_locked=True):
            try:
                with transaction.atomic():
                    plan(integration_job, now).save(update_fields=["next_run_at"])
            except Exception:
                logger.exception("Could not plan integration job %s", integration_job)
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
    except FileTooLarge:
        run.file_taken = True  # it will not get smaller: not tried again
        _end(run, SyncRun.Status.FAILED, _too_large())
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
        fresh = _not_taken(integration_job, candidates)
        if not fresh:
            return _end(
                run,
                SyncRun.Status.NOTHING_NEW,
                f"No new file: {_file_word(len(candidates))} taken before, "
                f"the newest {candidates[0].name}.",
            )
        remote, older = fresh[0], fresh[1:]
        if remote.size is not None and remote.size > settings.INTEGRATIONS_MAX_UPLOAD_SIZE:
            run.file_name, run.fingerprint = remote.name[:1000], remote.fingerprint()[:1000]
            run.file_taken = True  # it will not get smaller: not tried again
            return _end(run, SyncRun.Status.FAILED, _too_large(remote.size))
        run.file_name, run.fingerprint = remote.name[:1000], remote.fingerprint()[:1000]
        run.superseded = [other.fingerprint()[:1000] for other in older]
        SyncRun.objects.filter(pk=run.pk).update(
            file_name=run.file_name, fingerprint=run.fingerprint, superseded=run.superseded
        )
        mapping = (
            integration_job.mapping_template.as_mapping()
            if integration_job.mapping_template
            else None
        )
        with tempfile.TemporaryFile() as file:
            place.download(remote, _Capped(file, settings.INTEGRATIONS_MAX_UPLOAD_SIZE))
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
        if older:
            message = (
                f"{message} {_file_word(len(older), older=True)} left out: a newer one was "
                "taken, and importing an older one after it would undo it."
            ).strip()
        if run.file_taken and integration_job.move_processed:
            try:
                moved_to = place.mark_processed(remote)
            except PlaceError as problem:
                message = f"{message} It could not be moved to processed/: {problem}".strip()
            else:
                message = f"{message} Moved to {moved_to}.".strip()
        _end(run, status, message)


def _not_taken(integration_job, candidates):
    """The candidates (newest first) the job is not done with. A file known only by its
    content's hash (a query's result, a page without dates) is new when it differs from the
    last one taken: a source that goes back to an earlier state is imported again."""
    taken = SyncRun.objects.files_taken(integration_job)
    last = SyncRun.objects.last_file_taken(integration_job)
    return [
        remote
        for remote in candidates
        if (
            remote.fingerprint() != last
            if remote.modified is None
            else remote.fingerprint() not in taken
        )
    ]


class FileTooLarge(DestinationError):
    pass


class _Capped:
    """A binary file that refuses to grow past `limit` bytes (a place's download into it)."""

    def __init__(self, file, limit):
        self.file, self.limit, self.written = file, limit, 0

    def write(self, data):
        self.written += len(data)
        if self.written > self.limit:
            raise FileTooLarge()
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)


def _too_large(size=None):
    """Why a file is not imported; `size` when the place told it (a file read in is stopped
    at the limit, its size unknown)."""
    told = f" ({filesizeformat(size)})" if size is not None else ""
    return (
        f"The file is larger than {filesizeformat(settings.INTEGRATIONS_MAX_UPLOAD_SIZE)}"
        f"{told}, the largest an import takes (INTEGRATIONS_MAX_UPLOAD_SIZE): split it, or "
        "raise the limit."
    )


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
    contacts_only = integration_job.export == IntegrationJob.Export.CONTACTS
    read_at = timezone.now()
    rows = _RowCount()
    with tempfile.TemporaryFile() as file:
        _, _, body = services.export_users(
            contacts_only=contacts_only,
            file_format=file_format,
            by=run.staff_user,
            download=rows,
            memberships=memberships,
            record=False,
        )
        services.write_export(body, file)
        file.seek(0)
        # No transaction is open while the file travels (a slow server must not hold the
        # database); the export's record, which the re-add guard counts removals from, and its
        # audit entry are written once the file is in place, dated when its data was read.
        with _open(integration_job) as place:
            location = place.write(name, file)
    with transaction.atomic():
        run.users_export = UsersExport.objects.create(
            staff_user=run.staff_user,
            contacts_only=contacts_only,
            file_format=file_format,
            created_at=read_at,
        )
        record_download(
            kind=DownloadRecord.Kind.USERS_FILE,
            channel=DownloadRecord.Channel.SYNC,
            by=run.staff_user,
            filters=f"{what}, by the integration job “{integration_job}”, to {location}",
            file_format=file_format,
            row_count=rows.count,
        )
        run.file_name = location[:1000]
        run.rows_written = rows.count
        _end(run, SyncRun.Status.SUCCEEDED, "")


class _RowCount:
    """Counts the rows of an export as they are written (export_users' `download`)."""

    count = 0

    def counting(self, rows):
        for row in rows:
            self.count += 1
            yield row


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


def _end(run, status, message):
    """Save how the run ended, whatever the sweep guessed meanwhile (and nothing if its job was
    deleted). A failure counts on the job (named at the top of Integrations after several in a
    row), a run that took or wrote a file clears the count, and "No new file" leaves it: a file
    that failed stays failed until a file succeeds."""
    run.status, run.message, run.finished_at = status, message, timezone.now()
    SyncRun.objects.filter(pk=run.pk).update(
        status=status,
        message=message,
        finished_at=run.finished_at,
        file_name=run.file_name,
        fingerprint=run.fingerprint,
        file_taken=run.file_taken,
        import_job=run.import_job,
        users_export=run.users_export,
        rows_written=run.rows_written,
    )
    if status != SyncRun.Status.NOTHING_NEW:
        failures = F("failures_in_a_row") + 1 if status == SyncRun.Status.FAILED else 0
        IntegrationJob.objects.filter(pk=run.integration_job_id).update(failures_in_a_row=failures)
    return run


def _file_word(count, *, older=False):
    if older:
        return "1 older file was" if count == 1 else f"{count:,} older files were"
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
