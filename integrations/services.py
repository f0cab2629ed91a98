"""Past 400 lines as one thing: the import jobs' steps and the export share their helpers.

Import jobs and exports: the work behind the integrations page, the admin and the commands.

The rules of the files live in integrations.resources; these functions read files, run the
resources, and keep the ImportJob and UsersExport records.
"""

import dataclasses
import io
import logging
from collections import Counter
from datetime import timedelta
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .detect import propose
from .files import (
    CSV_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    FileProblem,
    csv_lines,
    encoding_label,
    read_table,
    write_csv,
    write_xlsx,
    xlsx_file,
)
from .mapping import Mapping, MappingProblem, source_names
from .models import Heartbeat, ImportJob, MappingTemplate, UsersExport
from .progress import JobProgress
from .resources import LISTED_ROWS, AccountsResource, FileImportResult, UsersResource

logger = logging.getLogger(__name__)

RESOURCES = {ImportJob.Kind.USERS: UsersResource, ImportJob.Kind.ACCOUNTS: AccountsResource}
# What the mapping page is shown of a file: its first rows, and each column's most frequent
# values (counted up to DISTINCT_TRACKED distinct ones).
SAMPLE_ROWS = 5
ANALYSED_VALUES = 200
DISTINCT_TRACKED = 5000


def open_table(file, *, encoding=None):
    """read_table, with the way to read the same file again from its start (a mapping that
    keeps the last of repeated rows reads the file twice)."""
    table = read_table(file, encoding=encoding)

    def reopen(*, encoding=encoding):
        return open_table(file, encoding=encoding)

    table.reopen = reopen
    return table


def import_file(
    *,
    kind,
    file,
    dry_run,
    skip_errors=False,
    keep_removed=True,
    by=None,
    progress=None,
    chunk_size=None,
    on_table=None,
    mapping=None,
    find_template=True,
    encoding=None,
    job=None,
):
    """Run the rules of a users file or an accounts file (`kind`) over a binary file object.

    The file is read through integrations.files.read_table, with its limits, in `encoding`
    (None: detected); through `mapping` (an integrations.mapping.Mapping) when given, else,
    with `find_template`, through the saved template made for its header when it is not the
    standard one. `on_table` is called with the Table once its header row is read (its row
    estimate known), before any row.
    With `dry_run` nothing is written. Otherwise every change is written in one transaction,
    with a ContactChange (source "import", staff user `by`) for each change of a contact mark,
    key-contact mark or role; a file with any row error writes nothing unless `skip_errors`.
    `keep_removed` is the re-add guard's choice (users files). `job`: the ImportJob of a run
    that writes, which keeps what it changed as its ImportRecords (integrations.journal).
    Returns the FileImportResult: totals, listed changes and errors, the failed rows dataset,
    and `file_problems()` for a file that cannot be read at all.
    """
    resource = RESOURCES[kind](
        by=by,
        keep_removed=keep_removed,
        progress=progress,
        chunk_size=chunk_size,
        file_mapping=mapping,
        find_template=find_template,
        job=job,
    )
    try:
        table = open_table(file, encoding=encoding)
    except FileProblem as problem:
        result = FileImportResult()
        resource.handle_import_error(result, problem)
        return result
    if on_table is not None:
        on_table(table)
    result = resource.import_data(
        table,
        dry_run=dry_run,
        collect_failed_rows=True,
        rollback_on_validation_errors=not skip_errors,
    )
    result.encoding = table.encoding
    result.encoding_detected = table.encoding_detected
    result.template = resource.template
    return result


def summarise(result, *, phase):
    """What a job page shows of a result, as JSON: totals, warnings, every error grouped by
    cause ([column, message, rows, lines]), the first LISTED_ROWS errors line by line (with a
    fourth item, the spreadsheet row, where a value over several lines moved it), changes and
    re-adds."""
    return {
        "phase": phase,
        "totals": {
            "new": result.new,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "failed": result.failed,
        },
        "file_problems": result.file_problems(),
        "warnings": result.warnings,
        "error_count": result.error_count,
        "error_groups": [list(group) for group in result.error_groups()],
        "errors": [
            [line, column, message]
            if (sheet_row := result.sheet_row(line)) is None
            else [line, column, message, sheet_row]
            for line, column, message in result.problems()
        ],
        "changes": [
            {
                "line": row.line,
                "type": row.import_type,
                "label": row.label,
                "changes": [[change.column, change.old, change.new] for change in row.changes],
            }
            for row in result.rows
        ],
        "readd_count": result.readd_count,
        "kept_removed": result.kept_removed,
        "readds": [
            {
                "line": readd.line,
                "email": readd.email,
                "account_id": readd.account_id,
                "account_name": readd.account_name,
                "removed_at": readd.removed_at.isoformat(),
                "removed_by": readd.removed_by,
            }
            for readd in result.readds
        ],
        "listed_limit": LISTED_ROWS,
        "encoding": getattr(result, "encoding", ""),
        "encoding_label": encoding_label(getattr(result, "encoding", "") or "utf-8"),
        "encoding_detected": getattr(result, "encoding_detected", False),
    }


# Import jobs: upload → check (the preview) → confirm → run


@transaction.atomic
def start_import_job(*, kind, upload, by):
    """Store an uploaded file and start checking it in the background (the preview). Nothing
    of the file is read here, whatever it holds: every check is the preview's
    (check_import_job), so a request that uploads returns as soon as the file is stored.

    Side effects: saves the file in the default storage (which every app server and worker
    shares), creates the ImportJob and enqueues its check. Returns the job.
    """
    from .tasks import check_import_file

    job = ImportJob(
        kind=kind,
        file_name=PurePath(upload.name).name[:255],
        file_size=upload.size,
        staff_user=by,
        status=ImportJob.Status.CHECKING,
    )
    job.upload.save(job.file_name, upload, save=False)
    job.save()
    # In the same transaction as the job: the database task backend never sees one without
    # the other.
    check_import_file.enqueue(job.pk)
    job.refresh_from_db()  # a backend that runs tasks at once (the tests') changed it already
    return job


def check_import_job(*, job):
    """The preview: every check of the job's stored file (format, encoding, columns, the
    limits of integrations.files) and a dry run of its rows, which writes nothing to the data.

    Side effects: saves the job's row estimate once the file is open, then its counts, summary
    and error file; READY, or FAILED with the file's problem as the message (the stored file
    removed) for a file that cannot be imported.
    """
    if not _claim(job, ImportJob.Status.CHECKING, ImportJob.Status.CHECKING):
        return job
    try:
        mapping = _mapping_for(job)
    except FileProblem as problem:
        return _finish(job, None, ImportJob.Status.FAILED, problem.message)
    except Exception as error:
        logger.exception("Import job %s failed", job.pk)
        return _finish(job, None, ImportJob.Status.FAILED, _unexpected(error, dry_run=True))
    if mapping is None:
        return job  # waits for a staff user to map its columns

    def show_estimate(table):
        # Its own statement, outside the dry run's transaction: the job page sees it at once.
        ImportJob.objects.filter(pk=job.pk).update(rows_total=table.row_estimate)

    result = _run(
        job,
        dry_run=True,
        skip_errors=False,
        keep_removed=job.keep_removed,
        on_table=show_estimate,
        mapping=mapping or None,
    )
    if result is None:
        return job
    if result.file_problems():
        return _finish(job, result, ImportJob.Status.FAILED, " ".join(result.file_problems()))
    _save_result(job, result, phase="preview", status=ImportJob.Status.READY)
    return job


def _mapping_for(job):
    """How the check reads the job's file: its mapping (a Mapping), False for a standard file,
    or None when the file needs mapping (then the job is MAPPING, with the file's analysis for
    the mapping page). The saved template made for the file's header is taken at once.
    Raises FileProblem for a file that cannot be read."""
    with job.upload.open("rb") as file:
        table = open_table(file, encoding=job.encoding or None)
        if job.analysis.get("wanted"):  # a person asked to change the mapping
            return _wait_for_mapping(job, table)
        if job.mapping is not None:
            mapping = Mapping.from_dict(job.mapping)
            try:
                mapping.check_fits(table.headers)
            except MappingProblem as problem:
                return _wait_for_mapping(job, table, message=problem.message)
            return mapping
        resource = RESOURCES[job.kind]
        if resource().is_standard(table.headers):
            return False
        template = MappingTemplate.objects.for_headers(job.kind, table.headers)
        if template is None:
            return _wait_for_mapping(job, table)
    mapping = template.as_mapping()
    # The template's encoding, when it names one, over the one detected.
    encoding = mapping.encoding or job.encoding
    ImportJob.objects.filter(pk=job.pk).update(
        mapping=mapping.as_dict(), mapping_template=template, encoding=encoding
    )
    job.mapping, job.mapping_template, job.encoding = mapping.as_dict(), template, encoding
    return mapping


def _wait_for_mapping(job, table, *, message=""):
    job.analysis = analyse_table(table, progress=JobProgress(job))
    job.status = ImportJob.Status.MAPPING
    job.message = message
    job.rows_total = job.rows_done = job.analysis["row_count"]
    job.heartbeat_at = timezone.now()
    job.save()
    return None


def analyse_table(table, *, progress=None):
    """What the mapping page shows of a file: its headers (named as a mapping names them), its
    first rows, and per column how many rows fill it, a few sample values and its distinct
    values with their counts (the most frequent ANALYSED_VALUES)."""
    names = source_names(table.headers)
    counters = [Counter() for _ in names]
    filled = [0] * len(names)
    samples = []
    count = 0
    try:
        for count, (_line, values) in enumerate(table.rows, 1):
            if len(samples) < SAMPLE_ROWS:
                samples.append(list(values[: len(names)]))
            for at, cell in enumerate(values[: len(names)]):
                value = cell.strip()
                if value:
                    filled[at] += 1
                    counter = counters[at]
                    # Past a few thousand distinct values a column is not a set of choices:
                    # only the values already seen are counted on.
                    if value in counter or len(counter) < DISTINCT_TRACKED:
                        counter[value] += 1
            if progress is not None and not count % 1000:
                progress(count)
    finally:
        if progress is not None:
            progress.close()
    return {
        "headers": names,
        "row_count": count,
        "sample_rows": samples,
        "columns": [
            {
                "name": name,
                "filled": filled[at],
                "distinct": len(counters[at]),
                "many": len(counters[at]) >= DISTINCT_TRACKED,
                "values": counters[at].most_common(ANALYSED_VALUES),
            }
            for at, name in enumerate(names)
        ],
    }


@transaction.atomic
def map_import_job(*, job, mapping, by, save_as="", replace=False, template=None):
    """Read the job's file through `mapping` (a Mapping that fits it): the check runs again,
    and the preview follows. With `save_as`, the mapping is also saved as a template of that
    name (`replace` overwrites one of the same name), made for files of this header; else
    the job is linked to `template` (the one the page started from) or the template it was
    read with, while the mapping is that template's.

    Raises ValidationError (code "not_mapping") when the job does not wait for a mapping or
    a preview, (code "name_taken") for a template name in use, and MappingProblem for a
    mapping that does not fit the file. Returns the job."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (ImportJob.Status.MAPPING, ImportJob.Status.READY):
        raise ValidationError(
            "This import does not wait for a mapping any more.", code="not_mapping"
        )
    headers = job.analysis.get("headers") or []
    mapping.check_fits(headers)
    if save_as:
        template = save_template(
            mapping=replace_name(mapping, save_as), headers=headers, by=by, replace=replace
        )
    else:
        # The template the page started from (or the job was read with), while the mapping
        # is still the template's own.
        candidates = [template, job.mapping_template]
        template = next((t for t in candidates if _same_mapping(t, mapping)), None)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.CHECKING,
        mapping=mapping.as_dict(),
        mapping_template=template,
        encoding=mapping.encoding or "",
        message="",
        rows_done=0,
        heartbeat_at=None,
        preview_number=F("preview_number") + 1,
    )
    from .tasks import check_import_file

    check_import_file.enqueue(job.pk)
    job.refresh_from_db()
    return job


def _same_mapping(template, mapping):
    if template is None or not MappingTemplate.objects.filter(pk=template.pk).exists():
        return False
    try:
        ours = template.as_mapping()
    except MappingProblem:
        return False
    return replace_name(ours, "").as_dict() == replace_name(mapping, "").as_dict()


def replace_name(mapping, name):
    return dataclasses.replace(mapping, name=name)


@transaction.atomic
def save_template(*, mapping, by, headers=None, replace=False, template=None):
    """Save `mapping` (named) as a template: a new one, `template` edited, or with `replace`
    the one of the same name. Raises ValidationError (code "name_taken") when the name is
    another template's. Returns the template."""
    if not mapping.name:
        raise ValidationError("Give the template a name.", code="no_name")
    same_name = MappingTemplate.objects.filter(name__iexact=mapping.name)
    if template is not None:
        same_name = same_name.exclude(pk=template.pk)
    existing = same_name.select_for_update().first()
    if existing is not None and not replace:
        raise ValidationError(
            "A mapping template named “%(name)s” exists already. Choose another name, or "
            "replace it.",
            code="name_taken",
            params={"name": existing.name},
        )
    template = template or existing or MappingTemplate()
    template.name = mapping.name
    template.set_mapping(mapping, headers=headers or (template.headers if template.pk else None))
    template.updated_by = by
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as error:  # saved meanwhile under the same name by someone else
        raise ValidationError(
            "A mapping template named “%(name)s” exists already. Choose another name, or "
            "replace it.",
            code="name_taken",
            params={"name": mapping.name},
        ) from error
    return template


@transaction.atomic
def confirm_import_job(*, job, skip_errors, keep_removed, by, preview=None):
    """Start the import a staff user saw the preview of (`preview`: its number, when the
    confirmation names one).

    Raises ValidationError (code "not_ready") when the job is not waiting for confirmation
    (confirmed twice, cancelled), (code "checked_again") when the file was mapped or read
    again since that preview, and (code "has_errors") when its file has errors and
    `skip_errors` is off: all or nothing would import nothing. Side effects: the job is
    PENDING with the choices made, and its run is enqueued.
    """
    from .tasks import run_import_file

    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status == ImportJob.Status.READY and preview not in (None, job.preview_number):
        raise ValidationError(
            "The file was checked again since that preview was shown (another tab or person "
            "changed its mapping or encoding): read this preview, then confirm it.",
            code="checked_again",
        )
    if job.status == ImportJob.Status.READY and job.failed_rows and not skip_errors:
        raise ValidationError(
            "The file has rows with errors, so importing it as it is would change nothing. "
            "Fix the file and upload it again, or choose to import the valid rows.",
            code="has_errors",
        )
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READY).update(
        status=ImportJob.Status.PENDING,
        skip_errors=skip_errors,
        keep_removed=keep_removed,
        rows_done=0,
        # The preview's last report: the import's worker reports afresh when it starts.
        heartbeat_at=None,
    )
    if not updated:
        raise ValidationError("This import is not waiting for confirmation.", code="not_ready")
    run_import_file.enqueue(job.pk)
    job.refresh_from_db()
    return job


def run_import_job(*, job):
    """The import itself, in one transaction: all or nothing unless the job skips errors.

    Side effects: writes the file's changes and their ContactChanges; the job ends SUCCEEDED or
    FAILED with its counts, summary and error file; the stored upload is removed. A failure
    part way leaves the data as it was (the transaction rolls back) and the job FAILED.
    """
    if not _claim(job, ImportJob.Status.PENDING, ImportJob.Status.RUNNING):
        return job
    result = _run(job, dry_run=False, skip_errors=job.skip_errors, keep_removed=job.keep_removed)
    if result is not None:
        _conclude(job, result)
    return job


def import_file_now(
    *,
    kind,
    file,
    file_name,
    skip_errors=False,
    keep_removed=True,
    by=None,
    mapping=None,
    template=None,
    on_job=None,
):
    """Import a file at once, as the command line and integration jobs do: a job RUNNING
    from the start (no preview, no stored upload), listed in the history like any other. The
    file is read through `mapping` (a Mapping) when given, else through the template made for
    its header when it is not the standard one; the job records which. `on_job` is called with
    the job as soon as it exists (an integration job's run links it, for its page's progress).

    Side effects: as run_import_job. Returns (job, result); result is None when an unexpected
    error stopped the import (the job says which; nothing was changed).
    """
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    now = timezone.now()
    job = ImportJob.objects.create(
        kind=kind,
        file_name=PurePath(file_name).name[:255],
        file_size=size,
        staff_user=by,
        status=ImportJob.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        skip_errors=skip_errors,
        keep_removed=keep_removed,
        mapping=mapping.as_dict() if mapping is not None else None,
        mapping_template=template,
        encoding=(mapping.encoding or "") if mapping is not None else "",
    )
    if on_job is not None:
        on_job(job)
    progress = JobProgress(job)
    try:
        result = _import_once_more_on_collision(
            kind=kind,
            file=file,
            dry_run=False,
            skip_errors=skip_errors,
            keep_removed=keep_removed,
            by=by,
            progress=progress,
            mapping=mapping,
            encoding=mapping.encoding if mapping is not None else None,
            job=job,
        )
        if result.template is not None:
            job.mapping_template = result.template
            job.mapping = result.template.as_mapping().as_dict()
    except Exception as error:
        logger.exception("Import job %s failed", job.pk)
        _finish(job, None, ImportJob.Status.FAILED, _unexpected(error, dry_run=False))
        return job, None
    finally:
        progress.close()
    _conclude(job, result)
    return job, result


def _import_once_more_on_collision(**options):
    """import_file, run a second time when it collided with a write made meanwhile.

    Users imports run one at a time (UsersResource.before_run takes a lock for the whole run),
    so they never collide with each other. A person or membership saved in the app between a
    chunk's look-ups and its writes still can: the run's transaction rolled back whole, and the
    second run finds what was saved."""
    try:
        return import_file(**options)
    except IntegrityError:
        if options["dry_run"]:
            raise
        logger.info("An import collided with a concurrent write; running it again")
        return import_file(**options)


def _conclude(job, result):
    """Mark a run SUCCEEDED or FAILED from its result."""
    if result.file_problems():
        return _finish(job, result, ImportJob.Status.FAILED, " ".join(result.file_problems()))
    if result.failed and not job.skip_errors:
        message = (
            f"{_rows(result.failed)} had errors, so nothing was imported (all or nothing). "
            "Fix them and upload the file again, or import the valid rows and skip the rest."
        )
        return _finish(job, result, ImportJob.Status.FAILED, message)
    return _finish(job, result, ImportJob.Status.SUCCEEDED)


def _unexpected(error, *, dry_run):
    if isinstance(error, IntegrityError):
        return (
            "Someone saved one of the same people or memberships while this import ran, so it "
            "stopped. Nothing was changed: import the file again."
        )
    what = "checking the file" if dry_run else "the import"
    return f"An unexpected error stopped {what} ({type(error).__name__}). Nothing was changed."


@transaction.atomic
def cancel_import_job(*, job, by):
    """Drop an import that waits for confirmation or for a mapping. Raises ValidationError
    (code "not_ready") otherwise. Side effects: the job is CANCELLED and its stored upload
    removed."""
    updated = ImportJob.objects.filter(
        pk=job.pk, status__in=(ImportJob.Status.READY, ImportJob.Status.MAPPING)
    ).update(status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
    if not updated:
        raise ValidationError("This import is not waiting for confirmation.", code="not_ready")
    job.refresh_from_db()
    _remove_upload(job)
    return job


def fail_stale_jobs(*, now=None):
    """Mark failed the jobs whose worker stopped without finishing (killed, restarted), or
    after taking their task but before claiming them (ImportJob.objects.stale()): the
    import's transaction died with it, so nothing was changed. Called by the worker before each
    job and by the scheduler every few seconds (`sweep_stopped_work`), never by a page (pages
    read a stale job as failed without writing: ImportJob.show_stale_as_failed). Side effects:
    updates those jobs, marks their task records (django-tasks-db's) failed and removes their
    stored uploads. Returns how many there were."""
    count = 0
    for job in ImportJob.objects.stale(now):
        # At once for everyone who reads the job: failed, its task failed, its file gone.
        with transaction.atomic():
            updated = ImportJob.objects.filter(pk=job.pk, status=job.status).update(
                status=ImportJob.Status.FAILED,
                finished_at=timezone.now(),
                message=ImportJob.STOPPED_MESSAGE,
            )
            if updated:
                job.refresh_from_db()
                _fail_task_records(job)
                _remove_upload(job)
                count += 1
    return count


class WorkerStopped(Exception):
    """What a task record says when its worker stopped reporting before the task ended."""


def _job_task_paths():
    """The tasks that take an import job's id: its check and its run (or an undo's run)."""
    from .tasks import check_import_file, run_import_file, run_undo

    return {check_import_file.module_path, run_import_file.module_path, run_undo.module_path}


def task_records(job):
    """The job's task records in the database queue (its check and its run)."""
    return DBTaskResult.objects.filter(
        task_path__in=_job_task_paths(), args_kwargs={"args": [job.pk], "kwargs": {}}
    )


def delete_stored_files_and_task_records(jobs):
    """Before import jobs are deleted (the bench's and the load test's clean-up): their stored
    upload and error file, and their task records, which nothing deletes with them."""
    for job in jobs:
        for stored in (job.upload, job.error_file):
            if stored:
                stored.delete(save=False)
        task_records(job).delete()


def _fail_task_records(job):
    """The job's task (its check or its run) still RUNNING in the database queue: failed."""
    _fail_tasks(task_records(job).running(), ImportJob.STOPPED_MESSAGE)


def fail_stale_tasks(*, now=None):
    """Mark failed the task records still RUNNING whose worker stopped reporting (a worker
    started with `manage.py worker`, which reports; the tasks of a worker that never reported
    are left alone). Returns how many there were."""
    stopped = {
        name.removeprefix(Heartbeat.worker_name(""))
        for name in Heartbeat.objects.stale(now)
        .filter(role=Heartbeat.Role.WORKER)
        .values_list("name", flat=True)
    }
    if not stopped:
        return 0
    # An import job's task is failed with its job, by the job's own report (fail_stale_jobs),
    # which says "nothing was changed": the worker's report may go stale a beat earlier.
    job_tasks = _job_task_paths()
    held_jobs = set(
        ImportJob.objects.filter(status__in=ImportJob.WORKER_HELD).values_list("pk", flat=True)
    )
    running = DBTaskResult.objects.running().values_list(
        "pk", "worker_ids", "task_path", "args_kwargs"
    )

    def failed_with_its_job(task_path, args_kwargs):
        args = args_kwargs.get("args") or [None]
        return task_path in job_tasks and args[0] in held_jobs

    ids = [
        pk
        for pk, worker_ids, task_path, args_kwargs in running
        if worker_ids
        and worker_ids[-1] in stopped
        and not failed_with_its_job(task_path, args_kwargs)
    ]
    return _fail_tasks(
        DBTaskResult.objects.running().filter(pk__in=ids),
        "The worker running this task stopped reporting before it finished (killed or restarted).",
    )


def _fail_tasks(task_results, message):
    error = WorkerStopped(message)
    return task_results.update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path=f"{WorkerStopped.__module__}.{WorkerStopped.__qualname__}",
        traceback=f"{WorkerStopped.__qualname__}: {error}",
        return_value=None,
    )


def sweep_stopped_work(*, now=None):
    """What the scheduler runs every few seconds: jobs and tasks of stopped workers marked
    failed, and the reports of processes gone for a day forgotten. Returns (jobs, tasks)."""
    jobs = fail_stale_jobs(now=now)
    tasks = fail_stale_tasks(now=now)
    Heartbeat.objects.filter(beat_at__lt=(now or timezone.now()) - timedelta(days=1)).delete()
    return jobs, tasks


def _claim(job, expected, status):
    """Move the job from `expected` to `status` unless another worker already did."""
    now = timezone.now()
    fields = {"status": status, "heartbeat_at": now}
    if status == ImportJob.Status.RUNNING:
        fields["started_at"] = now
    claimed = ImportJob.objects.filter(pk=job.pk, status=expected).update(**fields)
    job.refresh_from_db()
    return bool(claimed)


def _run(job, *, dry_run, skip_errors, keep_removed, on_table=None, mapping=None):
    """The resource over the stored file (through the job's mapping), with progress; None
    when it raised (job FAILED)."""
    progress = JobProgress(job)
    try:
        if mapping is None and job.mapping is not None:
            mapping = Mapping.from_dict(job.mapping)
        with job.upload.open("rb") as file:
            return _import_once_more_on_collision(
                kind=job.kind,
                file=file,
                dry_run=dry_run,
                skip_errors=skip_errors,
                keep_removed=keep_removed,
                by=job.staff_user,
                progress=progress,
                on_table=on_table,
                mapping=mapping,
                find_template=False,
                encoding=job.encoding or None,
                job=job,
            )
    except Exception as error:
        logger.exception("Import job %s failed", job.pk)
        _finish(job, None, ImportJob.Status.FAILED, _unexpected(error, dry_run=dry_run))
        return None
    finally:
        progress.close()


def _save_result(job, result, *, phase, status):
    """Save the job's counts, summary and error file. The job reports that it is alive until
    it is saved: writing a large error file can take longer than the stale period, and the
    sweep would otherwise mark failed ("nothing was changed") an import whose changes are
    committed, or a preview whose file it would then remove."""
    heartbeat = JobProgress(job)
    try:
        job.status = status
        job.new_rows, job.updated_rows = result.new, result.updated
        job.unchanged_rows, job.failed_rows = result.unchanged, result.failed
        job.rows_total = job.rows_done = result.rows_read
        job.summary = summarise(result, phase=phase)
        job.heartbeat_at = timezone.now()
        if job.error_file:
            job.error_file.delete(save=False)
        if result.failed:
            _save_error_file(job, result)
        job.save()
    finally:
        heartbeat.close()


def _finish(job, result, status, message=""):
    """Save the job's outcome (with _save_result's heartbeat) and remove its upload."""
    job.message = message
    job.finished_at = timezone.now()
    if result is None:
        job.status = status
        job.save()
    else:
        _save_result(job, result, phase="run" if job.started_at else "preview", status=status)
    _remove_upload(job)
    return job


def _save_error_file(job, result):
    """The failed rows, as they were in the file, with an Error column; in the upload's
    format."""
    dataset = result.failed_dataset
    stem = PurePath(job.file_name).stem or "import"
    out = io.BytesIO()
    if job.file_name.lower().endswith(".xlsx"):
        write_xlsx(dataset.headers, dataset, out, title="Errors")
        name = f"{stem}-errors.xlsx"
    else:
        write_csv(dataset.headers, dataset, out)
        name = f"{stem}-errors.csv"
    job.error_file.save(name, ContentFile(out.getvalue()), save=False)


def _remove_upload(job):
    if job.upload:
        job.upload.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(upload="")


def _rows(count):
    return f"{count:,} row{'s' if count != 1 else ''}"


# Outbound export


def export_users(
    *,
    contacts_only=False,
    file_format="csv",
    by=None,
    download=None,
    memberships=None,
    record=True,
):
    """The users file of every membership (or every contact; or of `memberships`, a saved
    segment's), for the source system to catch up with changes made here — removed contacts
    above all (SPEC §3.8).

    Returns (file name, content type, body): the body is an iterator of bytes for CSV (streamed
    from the database, flat in memory) or a binary file object for XLSX. Side effects: with
    `record`, a UsersExport, which the re-add guard counts from (an integration job records its
    own once the file is in place); with `download` (a DownloadRecord of the audit,
    contacts.privacy), the rows written are counted into it.
    """
    if file_format not in ("csv", "xlsx"):
        raise ValueError(f"Unknown export format {file_format!r}")
    if record:
        UsersExport.objects.create(
            staff_user=by, contacts_only=contacts_only, file_format=file_format
        )
    resource = UsersResource()
    rows = resource.export_rows(memberships, contacts_only=contacts_only)
    if download is not None:
        rows = download.counting(rows)
    what = "contacts" if contacts_only else "users"
    name = f"{what}-{timezone.localdate().isoformat()}.{file_format}"
    if file_format == "csv":
        return name, CSV_CONTENT_TYPE, csv_lines(resource.columns(), rows)
    return name, XLSX_CONTENT_TYPE, xlsx_file(resource.columns(), rows)


def write_export(body, out):
    """Write an export's body (export_users': bytes chunks, or a binary file) to `out`."""
    if hasattr(body, "read"):
        while chunk := body.read(1 << 20):
            out.write(chunk)
    else:
        for chunk in body:
            out.write(chunk)


def our_values(target):
    """The values one of our fixed-set columns takes: yes and no, the roles, the account types."""
    from accounts.models import AccountRole, AccountType

    if target in ("Contact", "Key Contact"):
        return ["yes", "no"]
    if target == "Account Role":
        return sorted(set(AccountRole.objects.values_list("name", flat=True)), key=str.casefold)
    if target == "Account Type":
        return list(AccountType.objects.values_list("name", flat=True))
    return []


def first_mapping(job, *, template=None):
    """What the mapping page proposes for a job's file: the mapping it has, the `template`
    chosen, the template it was read with, the template that fits the file best, else what
    auto-detection (integrations.detect) finds. Returns (mapping, doubtful): doubtful is
    {column: why a person should check what was proposed}."""
    headers = job.analysis.get("headers", [])
    if template is None and job.mapping is not None:
        try:
            return Mapping.from_dict(job.mapping).named_as_in(headers), {}
        except MappingProblem:
            pass
    candidates = [template, job.mapping_template]
    if template is None and job.mapping_template is None:
        candidates += MappingTemplate.objects.fitting(job.kind, headers)[:1]
    for candidate in candidates:
        if candidate is None:
            continue
        try:
            mapping = candidate.as_mapping()
        except MappingProblem:
            continue
        if not mapping.missing_headers(headers):
            return mapping.named_as_in(headers), {}
    proposal = propose(headers, job.kind)
    mapping = Mapping(
        file=job.kind,
        columns=dict(proposal.columns),
        full_name=proposal.full_name,
        account_lookup=proposal.account_lookup,
    )
    return mapping, dict(proposal.doubtful)


@transaction.atomic
def remap_import_job(*, job):
    """From a preview back to the mapping page: the file is analysed again (in the background)
    and the page proposes the mapping it was read with. Raises ValidationError (code
    "not_ready") when the job does not wait for confirmation."""
    return _check_again(job, analysis={"wanted": True})


@transaction.atomic
def reread_import_job(*, job, encoding):
    """Check a previewed file again, read in `encoding` (a codec name a person chose). Raises
    ValidationError (code "not_ready") when the job does not wait for confirmation."""
    return _check_again(job, encoding=encoding)


def _check_again(job, **changes):
    """A previewed job back to its check, with `changes`: a new preview follows, which a
    confirmation of the one before is refused for (preview_number)."""
    from .tasks import check_import_file

    updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READY).update(
        status=ImportJob.Status.CHECKING,
        rows_done=0,
        heartbeat_at=None,
        preview_number=F("preview_number") + 1,
        **changes,
    )
    if not updated:
        raise ValidationError("This import is not waiting for confirmation.", code="not_ready")
    check_import_file.enqueue(job.pk)
    job.refresh_from_db()
    return job
