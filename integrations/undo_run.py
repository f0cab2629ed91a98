"""Running an undo (integrations.undo plans it): one transaction, all or nothing, under the
users imports' lock and, for accounts, the tree lock; in bulk, through integrations.bulk with
the undo job's own journal, so that the undo can be undone in turn (a redo).
"""

import itertools
import logging

from django.core.management.color import no_style
from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import ALL_TREES, Account, AccountRole, lock_trees
from contacts.models import ContactChange, Membership
from contacts.services import NOTHING_BEFORE

from .bulk import Any, BulkWriter
from .journal import MODELS_RECORDED, ImportJournal, attnames
from .models import ImportJob, ImportRecord
from .progress import JobProgress
from .resources.users_writes import serialise_users_imports
from .undo import BATCH, ORDER, UndoRefused, check_undoable, plan_undo

logger = logging.getLogger(__name__)

M, P, A = ImportRecord.Model.MEMBERSHIP, ImportRecord.Model.PERSON, ImportRecord.Model.ACCOUNT


@transaction.atomic
def start_undo(*, job, by, restore_conflicts=False, fingerprint=None, enqueue=True):
    """Queue the undo of `job` a staff user saw the preview of (`fingerprint`: that preview's,
    when the confirmation names one). Raises UndoRefused when it cannot be undone now, or
    (code "stale_preview") when the preview is out of date. Returns the undo job (PENDING).
    Without `enqueue` (the command line) the caller runs it (run_undo_job)."""
    from .tasks import run_undo

    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    check_undoable(job)
    if fingerprint is not None:
        plan = plan_undo(job, restore_conflicts=restore_conflicts)
        if plan.fingerprint() != fingerprint:
            raise UndoRefused(
                "Something changed since this preview was shown: read the new preview, then "
                "confirm it.",
                code="stale_preview",
            )
    undo_job = ImportJob.objects.create(
        kind=job.kind,
        file_name=job.file_name,
        staff_user=by,
        status=ImportJob.Status.PENDING,
        undoes=job,
        restore_conflicts=restore_conflicts,
    )
    if enqueue:
        run_undo.enqueue(undo_job.pk)
    return undo_job


def run_undo_job(*, job):
    """The queued undo job: claimed, run, SUCCEEDED or FAILED with a message. A failure
    leaves the data as it was."""
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    job.refresh_from_db()
    if not claimed:
        return job
    # The rows it will write, about: written before its transaction, which must not hold the
    # job's row (the progress writes it from a connection of its own).
    job.rows_total = job.undoes.records.count() if job.undoes_id else 0
    ImportJob.objects.filter(pk=job.pk).update(rows_total=job.rows_total)
    progress = JobProgress(job)
    try:
        summary = undo(job=job, progress=progress)
    except UndoRefused as refusal:
        return _end(job, ImportJob.Status.FAILED, " ".join(refusal.messages))
    except Exception as error:
        logger.exception("Undo job %s failed", job.pk)
        return _end(
            job,
            ImportJob.Status.FAILED,
            f"An unexpected error stopped the undo ({type(error).__name__}). Nothing was changed.",
        )
    finally:
        progress.close()
    return _end(job, ImportJob.Status.SUCCEEDED, "", summary)


def _end(job, status, message, summary=None):
    job.status, job.message, job.finished_at = status, message, timezone.now()
    fields = ["status", "message", "finished_at"]
    if summary is not None:
        job.summary = summary
        job.new_rows = sum(summary["recreated"].values())
        job.updated_rows = summary["restored_rows"]
        job.unchanged_rows = summary["kept"] + summary["gone"]
        job.rows_total = job.rows_done = summary["operations"]
        fields += ["summary", "new_rows", "updated_rows", "unchanged_rows"]
        fields += ["rows_total", "rows_done"]
    job.save(update_fields=fields)
    return job


def undo(*, job, progress=None):
    """Undo `job.undoes` as `job` (an undo ImportJob: its staff user, restore_conflicts) in one
    transaction: planned again inside it, under the locks, so that what it does is what the
    data is now. Returns the summary (UndoPlan.counts() and the operations done)."""
    using = router.db_for_write(Membership)
    with transaction.atomic(using=using):
        serialise_users_imports(using, on_wait=getattr(progress, "waiting", None))
        target = ImportJob.objects.select_for_update().get(pk=job.undoes_id)
        check_undoable(target, running=job)
        if target.records.filter(model=A).exists():
            lock_trees(ALL_TREES, using=using)
        plan = plan_undo(target, restore_conflicts=job.restore_conflicts)
        run_plan(
            plan, by=job.staff_user, journal=ImportJournal(job.pk), using=using, progress=progress
        )
        return {
            **plan.counts(),
            "operations": plan.operations,
            "phase": "undo",
            "undoes": target.pk,
        }


def run_plan(plan, *, by, journal, using, progress=None):
    """The plan's writes: restores, then deletions (memberships, people, accounts), then the
    rows to make again (accounts, people, memberships), and the contact history of each
    membership the undo changes."""
    writer = BulkWriter(using, journal=journal)
    done = 0

    def advance(count):
        nonlocal done
        done += count
        if progress is not None:
            progress(done)

    history = History(by)
    for name in ORDER:
        groups = {}
        for restore in plan.restores:
            if restore.model != name:
                continue
            fields = tuple(f for f in restore.fields if plan.writes(restore, f))
            if fields:
                groups.setdefault(fields, []).append(restore)
        for fields, restores in groups.items():
            writer.update(
                MODELS_RECORDED[name],
                list(fields),
                [(r.pk, *(r.fields[f][0] for f in fields)) for r in restores],
            )
            if name == M:
                history.changed(restores, fields)
        advance(sum(1 for r in plan.restores if r.model == name))
    # Accounts whose tree numbers all go back as they were (no conflict) make their trees as
    # they were: the import recorded every account it renumbered. A conflict (an account moved
    # or renumbered since), or an account kept or not made again among those that are, leaves
    # the numbers mixed: then the trees are numbered again.
    renumber = any(r.model == A and r.conflicts for r in plan.restores) or any(
        name == A for name, _, _ in plan.kept + plan.not_recreated
    )
    # The history of the people it deletes goes with them (CASCADE): first, rather than have
    # their memberships' entries set to null (SET_NULL) just before.
    for batch in itertools.batched(plan.delete[P], BATCH):
        ContactChange.objects.filter(Any(F("person_id"), batch)).order_by()._raw_delete(using)
    for name in reversed(ORDER):
        for batch in itertools.batched(plan.delete[name], BATCH):
            rows = writer.delete(MODELS_RECORDED[name], batch, returning=name == M)
            if name == M:
                history.removed(rows, plan)
            advance(len(batch))
    for name in ORDER:
        rows = plan.recreate[name]
        if not rows:
            continue
        model = MODELS_RECORDED[name]
        columns = [c for c in attnames(model) if c != model._meta.pk.attname]
        writer.insert(
            model,
            columns,
            [tuple(_value(model, c, row[c]) for c in columns) for row in rows],
            pks=[row["id"] for row in rows],
        )
        if name == M:
            history.added(rows)
        advance(len(rows))
    if plan.recreate[M] or plan.recreate[P] or plan.recreate[A]:
        _reset_sequences(using)
    if renumber:
        Account.objects.rebuild()
    history.write(writer)


def _value(model, column, value):
    """A JSON value back as the field's (dates from ISO text)."""
    if value is None:
        return None
    field = next(f for f in model._meta.concrete_fields if f.attname == column)
    return field.to_python(value)


def _reset_sequences(using):
    """Rows made again with their old primary keys: the sequences go on past them."""
    connection = connections[using]
    sql = connection.ops.sequence_reset_sql(no_style(), [MODELS_RECORDED[name] for name in ORDER])
    if sql:
        with connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)


class History:
    """The ContactChanges (source "undo") of the memberships an undo changes, removes or
    makes again, as contacts.services.tracked_values writes them."""

    FIELDS = {
        "is_contact": ContactChange.Field.CONTACT,
        "is_key_contact": ContactChange.Field.KEY_CONTACT,
        "role_id": ContactChange.Field.ROLE,
        "status": ContactChange.Field.STATUS,
        "start_date": ContactChange.Field.START_DATE,
        "end_date": ContactChange.Field.END_DATE,
    }

    def __init__(self, by):
        self.by_id = by.pk if by is not None else None
        self.rows = []
        self.deleted = None  # (people, accounts) the undo deletes
        self.roles = dict(AccountRole.objects.values_list("pk", "name"))
        self.now = timezone.now()

    def described(self, attname, value):
        if attname in ("is_contact", "is_key_contact"):
            return "yes" if value in (True, "true", "True") else "no"
        if attname == "role_id":
            return self.roles.get(int(value), "") if value else ""
        if value is None:
            return ""
        return str(value)[:200]

    def changed(self, restores, fields):
        owners = _owners([r.pk for r in restores])
        for restore in restores:
            person_id, account_id = owners[restore.pk]
            for attname in fields:
                if attname in self.FIELDS:
                    old = self.described(attname, restore.fields[attname][2])
                    new = self.described(attname, restore.fields[attname][0])
                    if old != new:
                        self.add(restore.pk, person_id, account_id, attname, old, new)

    def removed(self, rows, plan):
        """Deleted memberships whose person and account stay: their history says so."""
        if self.deleted is None:
            self.deleted = set(plan.delete[P]), set(plan.delete[A])
        gone_people, gone_accounts = self.deleted
        names = attnames(Membership)
        for row in rows:
            values = dict(zip(names, row, strict=True))
            if values["person_id"] in gone_people or values["account_id"] in gone_accounts:
                continue
            for attname, field in self.FIELDS.items():
                old = self.described(attname, values[attname])
                if old != NOTHING_BEFORE[field]:
                    self.add(
                        None,
                        values["person_id"],
                        values["account_id"],
                        attname,
                        old,
                        NOTHING_BEFORE[field],
                    )

    def added(self, rows):
        for values in rows:
            for attname, field in self.FIELDS.items():
                new = self.described(attname, values[attname])
                if new != NOTHING_BEFORE[field]:
                    self.add(
                        values["id"],
                        values["person_id"],
                        values["account_id"],
                        attname,
                        NOTHING_BEFORE[field],
                        new,
                    )

    def add(self, membership_id, person_id, account_id, attname, old, new):
        self.rows.append(
            (
                membership_id,
                person_id,
                account_id,
                self.FIELDS[attname],
                old,
                new,
                ContactChange.Source.UNDO,
                self.by_id,
                self.now,
            )
        )

    def write(self, writer):
        writer.insert(
            ContactChange,
            (
                "membership_id",
                "person_id",
                "account_id",
                "field",
                "old_value",
                "new_value",
                "source",
                "staff_user_id",
                "changed_at",
            ),
            self.rows,
        )


def _owners(pks):
    """{membership pk: (person pk, account pk)}"""
    owners = {}
    for batch in itertools.batched(pks, BATCH):
        for pk, person, account in (
            Membership.objects.filter(Any(F("pk"), batch))
            .order_by()
            .values_list("pk", "person_id", "account_id")
        ):
            owners[pk] = (person, account)
    return owners
