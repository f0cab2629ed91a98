"""Past 400 lines as one thing: the records of the integrations app, which its pages, jobs,
commands and scheduler share: import jobs, mapping templates, users exports, heartbeats,
integration jobs and their runs."""

import json
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import connections, models, router
from django.db.models import Max
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from .mapping import KEYS, Mapping, MappingProblem, source_names
from .text import header_key


class ImportJobQuerySet(models.QuerySet):
    def in_progress(self):
        return self.filter(status__in=ImportJob.IN_PROGRESS)

    def stale(self, now=None):
        """Jobs whose worker stopped (killed, restarted, out of memory) without finishing them.
        Its transaction died with it, so the data is as it was before; the job only needs
        marking failed. They are:

        - started jobs (checking, running) whose heartbeat is `stale_after()` seconds old;
        - jobs a worker took from the queue but stopped before claiming (a preview not yet
          reporting, a confirmed import still PENDING): their task record (the job's check or
          run, in django-tasks-db's queue) is RUNNING on a worker whose own report went stale,
          or FAILED (the sweep of stopped workers' tasks, an error before the claim).

        A job still waiting in the queue is not stale: a worker will take it when there is one.
        """
        from django.tasks import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        from .tasks import check_import_file, run_import_file, run_undo

        silent = models.Q(status__in=ImportJob.WORKER_HELD, heartbeat_at__lt=_stale_cutoff(now))
        task_of = {
            ImportJob.Status.CHECKING: check_import_file.module_path,
            ImportJob.Status.PENDING: run_import_file.module_path,
        }
        unclaimed = self.filter(
            models.Q(status=ImportJob.Status.CHECKING, heartbeat_at=None)
            | models.Q(status=ImportJob.Status.PENDING)
        ).values_list("pk", "status", "undoes_id")
        records = models.Q()
        for pk, status, undoes_id in unclaimed:
            # An undo (integrations.undo_run) waits for its own task.
            path = run_undo.module_path if undoes_id else task_of[status]
            records |= models.Q(task_path=path, args_kwargs={"args": [pk], "kwargs": {}})
        if not records:
            return self.filter(silent)
        stopped_workers = {
            name.removeprefix(Heartbeat.worker_name(""))
            for name in Heartbeat.objects.stale(now)
            .filter(role=Heartbeat.Role.WORKER)
            .values_list("name", flat=True)
        }
        abandoned = {
            args_kwargs["args"][0]
            for args_kwargs, status, worker_ids in DBTaskResult.objects.filter(records)
            .filter(status__in=[TaskResultStatus.RUNNING, TaskResultStatus.FAILED])
            .values_list("args_kwargs", "status", "worker_ids")
            if status == TaskResultStatus.FAILED
            or (worker_ids and worker_ids[-1] in stopped_workers)
        }
        return self.filter(silent | models.Q(pk__in=abandoned))

    def with_undone_by(self, *, excluding=None):
        """Each job with `undone_by_pk`: its undo in effect, one that succeeded and was not
        redone since (None if none); `excluding`: an undo job's pk not to count."""
        undos = (
            self.model.objects.filter(
                undoes=models.OuterRef("pk"), status=ImportJob.Status.SUCCEEDED
            )
            .exclude(undone_by__status=ImportJob.Status.SUCCEEDED)
            .exclude(pk=excluding)
            .order_by("-pk")
        )
        return self.annotate(undone_by_pk=models.Subquery(undos.values("pk")[:1]))

    def with_undo_state(self, *, excluding=None):
        """with_undone_by(), and what integrations.undo.undo_refusal asks besides, in the same
        query: `undo_running` (an undo of it in progress), `has_records`."""
        return self.with_undone_by(excluding=excluding).annotate(
            undo_running=models.Exists(
                self.model.objects.filter(
                    undoes=models.OuterRef("pk"), status__in=ImportJob.IN_PROGRESS
                ).exclude(pk=excluding)
            ),
            has_records=models.Exists(ImportRecord.objects.filter(job=models.OuterRef("pk"))),
        )

    def last_users_sync(self):
        """When the last users import that changed data started (None if there was none)."""
        # An undo takes back what an import did: not a sync with the other system.
        return self.filter(
            kind=ImportJob.Kind.USERS, status=ImportJob.Status.SUCCEEDED, undoes__isnull=True
        ).aggregate(last=Max("started_at"))["last"]


class StatusBadge(NamedTuple):
    words: str
    tone: str


class PreviewOutcome(NamedTuple):
    button: str
    note: str


def stale_after():
    """Seconds without news after which a worker, a job or the scheduler counts as stopped.

    INTEGRATIONS_JOB_STALE_AFTER, except on SQLite (development), where a job holds the
    database's one write lock for as long as it runs, so nothing can report while it does: there
    a job is given at least 15 minutes, as it was before heartbeats."""
    seconds = settings.INTEGRATIONS_JOB_STALE_AFTER
    if connections[router.db_for_write(ImportJob)].vendor == "sqlite":
        return max(seconds, 15 * 60)
    return seconds


def heartbeat_interval():
    """How often a live worker, job or scheduler reports: four times per stale period, at
    most every 5 seconds, so that one late report never makes it look stopped."""
    return min(5.0, stale_after() / 4)


def _stale_cutoff(now=None):
    return (now or timezone.now()) - timedelta(seconds=stale_after())


class ImportJob(models.Model):
    """One run of an integration file import, from upload to outcome.

    The life of a job: CHECKING (the dry run reads the stored file) → READY (the preview waits
    for a staff user) → PENDING (confirmed, waiting for a worker) → RUNNING → SUCCEEDED or
    FAILED; or CANCELLED from READY. A file whose header is not the standard one and that no
    saved mapping template fits goes from CHECKING to MAPPING (its columns wait for a staff user
    to map them), and back to CHECKING once mapped. The stored upload is removed when the job
    ends.
    """

    class Kind(models.TextChoices):
        USERS = "users", "Users file"
        ACCOUNTS = "accounts", "Accounts file"

    class Status(models.TextChoices):
        CHECKING = "checking", "Checking the file"
        MAPPING = "mapping", "Needs a column mapping"
        READY = "ready", "Ready to import"
        PENDING = "pending", "Waiting to start"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Finished"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    IN_PROGRESS = (Status.CHECKING, Status.PENDING, Status.RUNNING)
    # Held by a worker that reports while it works; a PENDING job waits in the queue, however
    # long ago its preview reported, and is never stale.
    WORKER_HELD = (Status.CHECKING, Status.RUNNING)
    # Said by a running users import while another one holds the people (one at a time).
    WAITING_MESSAGE = (
        "Waiting for another users import to finish: imports that change people run one at a "
        "time, so that each finds what the one before it wrote."
    )
    STOPPED_MESSAGE = (
        "The worker running this job stopped before it finished. Nothing was changed: upload the "
        "file again to retry."
    )

    kind = models.CharField(max_length=10, choices=Kind.choices)
    file_name = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="import_jobs",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # The upload, kept in the default storage (shared by every app server and worker) from the
    # upload until the job ends.
    upload = models.FileField(upload_to="integrations/uploads/%Y/%m/", blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    skip_errors = models.BooleanField(
        "import valid rows, skip the rest",
        default=False,
        help_text="Off: a file with any error imports nothing.",
    )
    keep_removed = models.BooleanField(
        "keep removed contacts removed",
        default=True,
        help_text="A row that would make someone a contact again after a staff user removed "
        "that contact (since the last users import or export) leaves the contact mark alone.",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveIntegerField(
        default=0, help_text="Data rows (an estimate until read)."
    )
    rows_done = models.PositiveIntegerField(default=0)
    new_rows = models.PositiveIntegerField(default=0)
    updated_rows = models.PositiveIntegerField(default=0)
    unchanged_rows = models.PositiveIntegerField(default=0)
    failed_rows = models.PositiveIntegerField(default=0)
    # What the last phase found (the preview, then the run): see integrations.services.summarise.
    summary = models.JSONField(default=dict, blank=True)
    error_file = models.FileField(upload_to="integrations/errors/%Y/%m/", blank=True)
    # When the retention purge deleted the error file (integrations/retention.py).
    error_file_deleted_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True, help_text="Why the job failed, for people.")
    # How a foreign file is read: the mapping in effect (SPEC §4.5's JSON form; null for a
    # standard file), the template it came from, and the encoding a person chose ("" to detect).
    mapping = models.JSONField(null=True, blank=True)
    mapping_template = models.ForeignKey(
        "MappingTemplate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_jobs",
    )
    encoding = models.CharField(max_length=40, blank=True)
    # Which preview of the file is the current one: mapping or reading the file again counts
    # one more, and a confirmation names the preview it saw (services.confirm_import_job).
    preview_number = models.PositiveIntegerField(default=0)
    # What the mapping page shows of the file: its headers and, per column, samples and its
    # distinct values with counts (integrations.services.analyse_file).
    analysis = models.JSONField(default=dict, blank=True)
    # An undo job (source "undo") takes back what `undoes` wrote, from its ImportRecords, and
    # records its own: undoing an undo is a redo. `restore_conflicts`: a field changed again
    # since the undone job is restored all the same (off: the later change is kept).
    undoes = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="undone_by"
    )
    restore_conflicts = models.BooleanField(
        "restore fields changed since",
        default=False,
        help_text="Off: a field changed again after the import keeps its later value.",
    )

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("run_integrations", "Can import and export integration files and see import jobs"),
            ("undo_imports", "Can undo an import (and redo it)"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.file_name} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("integrations:job", args=[self.pk])

    @property
    def in_progress(self):
        return self.status in self.IN_PROGRESS

    def is_stale(self, now=None):
        """Whether the worker of this started job stopped without finishing, from its heartbeat
        (as `stale()`; a job abandoned before its claim is found by the sweep, which reads the
        queue, and reads failed once it has run: a page does not read the queue)."""
        return (
            self.status in self.WORKER_HELD
            and self.heartbeat_at is not None
            and self.heartbeat_at < _stale_cutoff(now)
        )

    def show_stale_as_failed(self, now=None):
        """A page's reading of the job: a stale one reads as failed, in memory only. Pages do
        not write (a GET that writes races the worker and the next GET); the worker marks the
        job failed and removes its upload when it takes its next job, or the
        `fail_stale_import_jobs` command does. Returns the job."""
        if self.is_stale(now):
            self.status = self.Status.FAILED
            self.message = self.STOPPED_MESSAGE
        return self

    @property
    def file_retention_days(self):
        """How long its files are kept (integrations/retention.py)."""
        return settings.INTEGRATIONS_FILE_RETENTION_DAYS

    @property
    def progress_percent(self):
        if self.status in (self.Status.SUCCEEDED, self.Status.READY):
            return 100
        if not self.rows_total:
            return 0
        # The total is an estimate until the file is read: never show 100% before the end.
        return min(99, round(100 * self.rows_done / self.rows_total))

    @property
    def status_badge(self):
        """The words and tone (a CSS outcome-… suffix) of the job's status badge. A preview's
        says what confirming it can do, not just that it waits: a file whose every row failed
        is not "Ready to import"."""
        if self.status != self.Status.READY:
            return StatusBadge(self.get_status_display(), self.status)
        valid = self.new_rows + self.updated_rows + self.unchanged_rows
        if self.failed_rows and not valid:
            return StatusBadge("Nothing to import", "failed")
        if self.failed_rows:
            return StatusBadge(
                ngettext(
                    "%(count)s row with errors", "%(count)s rows with errors", self.failed_rows
                )
                % {"count": intcomma(self.failed_rows)},
                "partial",
            )
        if not (self.new_rows or self.updated_rows or self.summary.get("readd_count")):
            return StatusBadge("Nothing will change", "nothing_new")
        return StatusBadge(self.get_status_display(), self.status)

    def preview_outcome(self, *, skip_errors):
        """What confirming this preview does with the choice to skip rows with errors ticked or
        not: the import button's words ("" when there is nothing it could import, so no button)
        and a note that says why and what can be done. The confirm form shows the choice only
        when it matters (integrations.forms.ConfirmForm)."""
        changing = self.new_rows + self.updated_rows
        failed = self.failed_rows
        readds = self.summary.get("readd_count", 0)
        if failed and not (changing or self.unchanged_rows):
            return PreviewOutcome(
                "",
                ngettext(
                    "The row has an error, so nothing can be imported. Fix it (the error file "
                    "has it) and upload the file again.",
                    "Every row has an error, so nothing can be imported. Fix them (the error "
                    "file lists them) and upload the file again.",
                    failed,
                ),
            )
        if failed and not skip_errors:
            return PreviewOutcome(
                "",
                ngettext(
                    "Nothing can be imported as the file is: it is imported all or nothing, and "
                    "%(count)s row has errors. Choose to skip it to import the others, or fix "
                    "the file and upload it again.",
                    "Nothing can be imported as the file is: it is imported all or nothing, and "
                    "%(count)s rows have errors. Choose to skip them to import the others, or "
                    "fix the file and upload it again.",
                    failed,
                )
                % {"count": intcomma(failed)},
            )
        if failed:
            skipped = ngettext(
                "skip %(count)s with errors", "skip %(count)s with errors", failed
            ) % {"count": intcomma(failed)}
            if changing:
                button = ngettext(
                    "Import %(count)s changed row, %(skipped)s",
                    "Import %(count)s changed rows, %(skipped)s",
                    changing,
                ) % {"count": intcomma(changing), "skipped": skipped}
            elif readds:
                button = f"Import, {skipped}"
            else:
                button = f"{skipped.capitalize()} (nothing else changes)"
            return PreviewOutcome(button, "")
        if changing:
            return PreviewOutcome(
                ngettext("Import %(count)s changed row", "Import %(count)s changed rows", changing)
                % {"count": intcomma(changing)},
                "",
            )
        if readds:
            return PreviewOutcome("Import", "")
        return PreviewOutcome(
            "Import (nothing changes)",
            "Every row of the file matches what is here already: importing it changes nothing.",
        )


class ImportRecord(models.Model):
    """One row an import job (or the undo of one) created, changed or deleted, with what it
    held before and after: enough to take the job back exactly (integrations.undo).

    `before` and `after` hold the fields by attribute name (`role_id`, not `role`), as JSON
    values (dates as ISO text): for CREATED, `after` is the whole row; for CHANGED, both hold
    only the fields that changed; for DELETED, `before` is the whole row."""

    class Model(models.TextChoices):
        PERSON = "person", "Person"
        MEMBERSHIP = "membership", "Membership"
        ACCOUNT = "account", "Account"

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        DELETED = "deleted", "Deleted"

    # No foreign-key constraint in the database (Django's CASCADE still deletes them with their
    # job): an import journals two records per row, each checked one at a time at its COMMIT.
    # The job is the one the same transaction holds locked.
    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="records", db_constraint=False
    )
    model = models.CharField(max_length=12, choices=Model.choices)
    object_pk = models.BigIntegerField()
    action = models.CharField(max_length=8, choices=Action.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["job", "model", "action"], name="import_record_by_job"),
            # A later job's change of the same row (an undo's conflicts).
            models.Index(fields=["model", "object_pk"], name="import_record_by_object"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.model} #{self.object_pk} (job {self.job_id})"


class MappingTemplateQuerySet(models.QuerySet):
    def fitting(self, file_kind, headers):
        """The templates of `file_kind` whose every source column `headers` (a file's) has,
        those that read the most columns first."""
        fitting = []
        for template in self.filter(file_kind=file_kind):
            try:
                mapping = template.as_mapping()
            except MappingProblem:
                continue  # saved before a rule changed: the admin shows why
            if not mapping.missing_headers(headers):
                fitting.append((len(mapping.source_headers()), template))
        fitting.sort(key=lambda pair: (-pair[0], pair[1].name.casefold()))
        return [template for _, template in fitting]

    def for_headers(self, file_kind, headers):
        """The template made for a file of this shape: one that fits `headers` and knows every
        one of them (from the file it was made with, or as a column it reads). None when no
        template does: the file needs mapping."""
        keys = {header_key(name) for name in source_names(headers) if name}
        for template in self.fitting(file_kind, headers):
            if keys <= template.known_header_keys():
                return template
        return None


def _spec_order(key):
    return KEYS.index(key) if key in KEYS else len(KEYS)


class MappingTemplate(models.Model):
    """A saved mapping (SPEC §4.5): how the files of another system become a users or an
    accounts file. Used by the upload page, the admin's import, the commands and data sources.
    """

    class FileKind(models.TextChoices):
        USERS = "users", "Users file"
        ACCOUNTS = "accounts", "Accounts file"

    name = models.CharField(max_length=100, unique=True)
    file_kind = models.CharField(max_length=10, choices=FileKind.choices)
    # SPEC §4.5's JSON form, without its name and file (the fields above).
    definition = models.JSONField(default=dict)
    # The header row of the file it was made with (or the columns it reads): a file with this
    # header, or less of it, goes straight to its preview.
    headers = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = MappingTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="mapping_template_name_ci",
                violation_error_message=("A mapping template of this name exists already."),
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("integrations:mapping", args=[self.pk])

    def as_mapping(self):
        """The Mapping it holds; MappingProblem when it is no longer valid."""
        return Mapping.from_dict({**self.definition, "name": self.name, "file": self.file_kind})

    def set_mapping(self, mapping, *, headers=None):
        """Hold `mapping` (a valid Mapping), and the header row of the file it was made with."""
        self.file_kind = mapping.file
        self.definition = {
            key: value for key, value in mapping.as_dict().items() if key not in ("name", "file")
        }
        self.headers = source_names(headers) if headers else mapping.source_headers()

    def known_header_keys(self):
        names = [*self.headers, *self.as_mapping().source_headers()]
        return {header_key(name) for name in names}

    def to_json(self):
        return self.as_mapping().to_json()

    def as_dict_for_editing(self):
        """The JSON form, in its order; even when it no longer passes the rules (so that it
        can be fixed)."""
        try:
            return self.as_mapping().as_dict()
        except MappingProblem:
            data = {"name": self.name, "file": self.file_kind, **self.definition}
            return {key: data[key] for key in sorted(data, key=_spec_order)}


class UsersExport(models.Model):
    """A download of the users file (from the integrations page or export_users). The re-add
    guard counts removals since the last users import or export."""

    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="users_exports",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    contacts_only = models.BooleanField(default=False)
    file_format = models.CharField(max_length=10, default="csv")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        what = "Contacts" if self.contacts_only else "All users"
        return f"{what} ({self.file_format.upper()}) at {self.created_at:%Y-%m-%d %H:%M}"


def last_users_sync():
    """When data last left or entered through a users file: the later of the start of the last
    successful users import and the last users export (None when neither ever happened)."""
    moments = [
        ImportJob.objects.last_users_sync(),
        UsersExport.objects.aggregate(last=Max("created_at"))["last"],
    ]
    moments = [moment for moment in moments if moment is not None]
    return max(moments) if moments else None


class HeartbeatQuerySet(models.QuerySet):
    def alive(self, now=None):
        return self.filter(beat_at__gte=_stale_cutoff(now))

    def stale(self, now=None):
        return self.filter(beat_at__lt=_stale_cutoff(now))


class Heartbeat(models.Model):
    """The last report of a background process: each worker (`manage.py worker`) and the
    scheduler (`manage.py crontask`) write theirs every `heartbeat_interval()` seconds from a
    thread of their own. /health/ reads them, and the scheduler fails the tasks of a worker that
    stopped reporting."""

    class Role(models.TextChoices):
        WORKER = "worker", "Task worker"
        SCHEDULER = "scheduler", "Scheduler"

    # "scheduler", or "worker <worker id>" (the id django-tasks-db records on the tasks a
    # worker takes).
    name = models.CharField(max_length=100, unique=True)
    role = models.CharField(max_length=10, choices=Role.choices)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = HeartbeatQuerySet.as_manager()

    class Meta:
        ordering = ["role", "name"]

    def __str__(self):
        return f"{self.name} (last report {self.beat_at:%Y-%m-%d %H:%M:%S})"

    @staticmethod
    def worker_name(worker_id):
        return f"worker {worker_id}"


# Integration jobs (SPEC §4.6): files moved between the app and a place, on a schedule.


class IntegrationJobQuerySet(models.QuerySet):
    def due(self, now):
        """Enabled jobs with a schedule whose next run is now or past."""
        return self.filter(enabled=True, next_run_at__lte=now).exclude(schedule="")

    def failing(self, at_least=None):
        """Jobs whose last `at_least` runs (SYNC_FAILURE_ALERT_AFTER) all failed."""
        return self.filter(
            failures_in_a_row__gte=at_least or settings.SYNC_FAILURE_ALERT_AFTER
        ).order_by("name")


class IntegrationJob(models.Model):
    """An inbound or outbound file transfer that runs on its schedule or when asked.

    Inbound: the newest file at its place that was not taken before is imported as an upload
    is (its mapping template, all or nothing unless it skips rows with errors). Outbound: the
    users file (all, contacts only or a saved segment) is written to its place under a dated
    name. Each run is a SyncRun; an inbound run's import is an ordinary ImportJob.
    """

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound (import)"
        OUTBOUND = "out", "Outbound (export)"

    class Place(models.TextChoices):
        FOLDER = "folder", "Folder on the server"
        SFTP = "sftp", "SFTP"
        S3 = "s3", "S3-compatible storage"
        HTTPS = "https", "HTTPS URL"
        POSTGRES = "postgres", "PostgreSQL query"

    INBOUND_ONLY = (Place.HTTPS, Place.POSTGRES)

    class Export(models.TextChoices):
        ALL = "all", "Every membership"
        CONTACTS = "contacts", "Contacts only"
        SEGMENT = "segment", "A saved segment"

    # The secrets each place may need; stored encrypted (integrations.secrets).
    SECRET_NAMES = {
        Place.FOLDER: (),
        Place.SFTP: ("password", "private_key", "passphrase"),
        Place.S3: ("access_key_id", "secret_access_key"),
        Place.HTTPS: ("token",),
        Place.POSTGRES: ("password",),
    }

    name = models.CharField(max_length=100)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    place = models.CharField("kind of place", max_length=10, choices=Place.choices)
    location = models.CharField(
        max_length=1000,
        help_text="A folder path with a file-name pattern, or an sftp://, s3://, https:// or "
        "postgres:// address (SPEC §4.4).",
    )
    file_kind = models.CharField(
        "file", max_length=10, choices=ImportJob.Kind.choices, default=ImportJob.Kind.USERS
    )
    mapping_template = models.ForeignKey(
        MappingTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="integration_jobs",
        help_text="Inbound: how a file of another system is read. None: a standard file, or "
        "the template saved for the file's header.",
    )
    export = models.CharField(
        "what to export", max_length=10, choices=Export.choices, default=Export.ALL
    )
    segment = models.ForeignKey(
        "contacts.Segment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="integration_jobs",
    )
    # Not secret settings of the place: endpoint_url, region (S3), host_key (SFTP), query
    # (PostgreSQL).
    options = models.JSONField(default=dict, blank=True)
    # The place's secrets as one encrypted JSON object; never shown again once set.
    encrypted_secrets = models.TextField(blank=True, editable=False)
    skip_errors = models.BooleanField(
        "import valid rows, skip the rest",
        default=False,
        help_text="Off: a file with any error imports nothing, and the run fails.",
    )
    re_add_removed = models.BooleanField(
        "re-add removed contacts",
        default=False,
        help_text="Off: a row that would make someone a contact again after a staff user "
        "removed that contact leaves the contact mark alone.",
    )
    move_processed = models.BooleanField(
        "move taken files to processed/",
        default=False,
        help_text="Inbound: after its import, the file moves to a processed/ folder beside it.",
    )
    schedule = models.CharField(
        max_length=100, blank=True, help_text="A cron expression; blank: only when run by hand."
    )
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    failures_in_a_row = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IntegrationJobQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [
            (
                "manage_integration_jobs",
                "Can manage integration jobs (places, schedules, outbound) and run them",
            ),
            ("set_integration_secrets", "Can set the secrets of integration jobs"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="integration_job_name_ci",
                violation_error_message="An integration job of this name exists already.",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("integrations:sync", args=[self.pk])

    @property
    def inbound(self):
        return self.direction == self.Direction.INBOUND

    def secrets(self):
        """The place's secrets, decrypted ({} when none); SecretUnreadable when the keys
        changed since they were set."""
        from . import secrets

        if not self.encrypted_secrets:
            return {}
        return json.loads(secrets.decrypt(self.encrypted_secrets))

    def set_secrets(self, values):
        """Keep `values` (name → text; blank ones dropped), encrypted. Not saved."""
        from . import secrets

        values = {name: text for name, text in values.items() if text}
        self.encrypted_secrets = secrets.encrypt(json.dumps(values)) if values else ""

    def saved_secrets(self):
        """(the sorted names of its saved secrets, whether they can no longer be read): a page
        may say which are set, never show them."""
        from .secrets import SecretUnreadable

        try:
            return sorted(self.secrets()), False
        except SecretUnreadable:
            return [], True

    def schedule_in_words(self):
        from .schedules import describe

        return describe(self.schedule) if self.schedule else "Only when run by hand"

    def plan_next_run(self, now=None):
        """The next time its schedule names after `now` (None without one, or disabled)."""
        from .schedules import next_time

        if not self.schedule or not self.enabled:
            return None
        return next_time(self.schedule, after=now or timezone.now())


class SyncRunQuerySet(models.QuerySet):
    def under_way(self):
        return self.filter(status__in=SyncRun.UNDER_WAY)

    def files_taken(self, integration_job):
        """The fingerprints of the files this job is done with, not to be taken again: those
        it read to their end, the older ones a newer file superseded, and those that failed
        SyncRun.TRIES times (an error that comes back at every try)."""
        runs = self.filter(integration_job=integration_job)
        taken = set(
            runs.filter(file_taken=True)
            .exclude(fingerprint="")
            .values_list("fingerprint", flat=True)
        )
        for superseded in runs.exclude(superseded=[]).values_list("superseded", flat=True):
            taken.update(superseded)
        taken.update(
            runs.filter(status=SyncRun.Status.FAILED, file_taken=False)
            .exclude(fingerprint="")
            .values("fingerprint")
            .annotate(tries=models.Count("pk"))
            .filter(tries__gte=SyncRun.TRIES)
            .values_list("fingerprint", flat=True)
        )
        return taken

    def last_file_taken(self, integration_job):
        """The fingerprint of the last file the job read to its end ("" when none)."""
        return (
            self.filter(integration_job=integration_job, file_taken=True)
            .order_by("-created_at", "-pk")
            .values_list("fingerprint", flat=True)
            .first()
            or ""
        )


class SyncRun(models.Model):
    """One run of an integration job: which file it took or wrote, and how it ended. The
    import itself is an ImportJob (inbound), the export a UsersExport (outbound)."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        RUN_NOW = "run_now", "Run now"
        COMMAND = "command", "Command line"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Finished"
        PARTIAL = "partial", "Finished, rows with errors skipped"
        NOTHING_NEW = "nothing_new", "No new file"
        FAILED = "failed", "Failed"

    UNDER_WAY = (Status.QUEUED, Status.RUNNING)
    FAILURES = (Status.FAILED,)
    # Runs an unexpected error may stop on the same file before it counts as taken.
    TRIES = 3

    integration_job = models.ForeignKey(
        IntegrationJob, on_delete=models.CASCADE, related_name="runs"
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written while it runs (integrations.syncs): a run whose reports stopped was killed.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The file taken (inbound) or written (outbound), as the place names it.
    file_name = models.CharField(max_length=1000, blank=True)
    # Inbound: name, size, modification time or ETag; a file taken once is not taken again.
    fingerprint = models.CharField(max_length=1000, blank=True)
    file_taken = models.BooleanField(default=False)
    # The fingerprints of older files it left out, since it took a newer one: importing them
    # after it would put older data over newer.
    superseded = models.JSONField(default=list, blank=True)
    import_job = models.OneToOneField(
        ImportJob,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sync_run",
    )
    users_export = models.OneToOneField(
        UsersExport,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sync_run",
    )
    rows_written = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)

    objects = SyncRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # At most one run of a job at a time, whoever starts it (two schedulers, a click).
            models.UniqueConstraint(
                fields=["integration_job"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_run_of_a_job_at_a_time",
            )
        ]

    def __str__(self):
        return f"{self.integration_job} at {self.created_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def under_way(self):
        return self.status in self.UNDER_WAY

    @property
    def failed(self):
        return self.status in self.FAILURES
