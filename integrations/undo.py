"""Undo an import job, from the ImportRecords it kept (integrations.journal): what it created is
deleted unless something else now uses it, what it changed gets its old value back, and a field
changed again since (a conflict) keeps its later value unless the undo restores conflicts.

`plan_undo(job)` is the preview; integrations.undo_run runs it (one transaction, in bulk). The
undo is itself an ImportJob (`undoes`), whose own records make it undoable: a redo.
"""

import hashlib
import itertools
import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import F
from django.db.models.functions import Lower

from accounts.models import Account
from contacts.models import Membership, Person, PersonMerge, Task, Touchpoint

from .bulk import Any
from .journal import MODELS_RECORDED, TIMESTAMPS, plain
from .models import ImportJob, ImportRecord
from .undo_uses import Uses

BATCH = 2000
# Rows listed on the preview in each table; the counts count them all.
LISTED = 100
# Fields kept by an account's place in its tree: put back with it, never listed one by one.
TREE_FIELDS = ("tree_id", "lft", "rght", "level")
# Where the undo writes, in order: accounts before the people and memberships that refer to them.
ORDER = (ImportRecord.Model.ACCOUNT, ImportRecord.Model.PERSON, ImportRecord.Model.MEMBERSHIP)
NO_RECORDS = "This import ran before imports kept what they changed; it cannot be undone."


class UndoRefused(ValidationError):
    """Why a job cannot be undone now (a message for people, and a code for tests)."""


@dataclass
class Restore:
    """A changed row's fields: {field: (old, written, current)}; `conflicts`: {field: by}."""

    model: str
    pk: int
    fields: dict
    conflicts: dict = field(default_factory=dict)


@dataclass
class UndoPlan:
    job: object
    restore_conflicts: bool
    delete: dict = field(default_factory=lambda: {name: [] for name in ORDER})
    kept: list = field(default_factory=list)  # (model, pk, why)
    recreate: dict = field(default_factory=lambda: {name: [] for name in ORDER})
    not_recreated: list = field(default_factory=list)  # (model, pk, why)
    restores: list = field(default_factory=list)  # Restore
    gone: list = field(default_factory=list)  # (model, pk): deleted, forgotten or merged since

    @property
    def conflicts(self):
        return [restore for restore in self.restores if restore.conflicts]

    def writes(self, restore, name):
        """Whether the undo sets this field back."""
        return name not in restore.conflicts or self.restore_conflicts

    def counts(self):
        return {
            "deleted": {name: len(pks) for name, pks in self.delete.items()},
            "recreated": {name: len(rows) for name, rows in self.recreate.items()},
            "kept": len(self.kept) + len(self.not_recreated),
            "restored_rows": sum(
                any(self.writes(r, name) for name in r.fields) for r in self.restores
            ),
            "conflicts": sum(len(r.conflicts) for r in self.restores),
            "gone": len(self.gone),
        }

    @property
    def operations(self):
        """Rows the undo writes (its progress counts them)."""
        return (
            sum(len(pks) for pks in self.delete.values())
            + sum(len(rows) for rows in self.recreate.values())
            + len(self.restores)
        )

    def is_empty(self):
        return not self.operations

    def fingerprint(self):
        """What the preview showed, in a few characters (whatever the choice about conflicts):
        a confirmation that names another fingerprint saw a preview that is out of date."""
        seen = {
            "delete": self.delete,
            "recreate": {name: [row["id"] for row in rows] for name, rows in self.recreate.items()},
            "kept": sorted(self.kept) + sorted(self.not_recreated),
            "restores": sorted(
                (r.model, r.pk, sorted(r.fields.items()), sorted(r.conflicts.items()))
                for r in self.restores
            ),
        }
        return hashlib.sha256(json.dumps(seen, default=str).encode()).hexdigest()[:16]


def undo_refusal(job, *, running=None):
    """Why `job` cannot be undone now (an UndoRefused), or None. `running`: the undo job that
    asks (it does not count as an undo already running). A job read with
    ImportJob.objects.with_undo_state() is judged without another query."""
    if job.status != ImportJob.Status.SUCCEEDED:
        reason = {
            ImportJob.Status.FAILED: "it failed, so it changed nothing",
            ImportJob.Status.CANCELLED: "it was cancelled, so it changed nothing",
        }.get(job.status, "it has not finished")
        return UndoRefused(f"This import cannot be undone: {reason}.", code="not_finished")
    if running is None and hasattr(job, "has_records"):
        state = job
    else:
        excluding = running.pk if running is not None else None
        state = ImportJob.objects.with_undo_state(excluding=excluding).get(pk=job.pk)
    if state.undo_running:
        return UndoRefused("An undo of this import is running already.", code="undo_running")
    if state.undone_by_pk is not None:
        return UndoRefused(
            f"This import was undone already, by #{state.undone_by_pk}; redo that one to take "
            "it back.",
            code="already_undone",
        )
    if not state.has_records:
        if job.new_rows or job.updated_rows:
            return UndoRefused(NO_RECORDS, code="no_records")
        return UndoRefused(
            "This import changed nothing: there is nothing to undo.", code="no_changes"
        )
    return None


def check_undoable(job, *, running=None):
    if (refusal := undo_refusal(job, running=running)) is not None:
        raise refusal


def plan_undo(job, *, restore_conflicts=False):
    """What undoing `job` would do now (UndoPlan). Reads; writes nothing."""
    plan = UndoPlan(job=job, restore_conflicts=restore_conflicts)
    records = job.records.order_by("pk")
    created = {name: [] for name in ORDER}
    for name, pk in records.filter(action=ImportRecord.Action.CREATED).values_list(
        "model", "object_pk"
    ):
        created[name].append(pk)
    _plan_deletes(plan, created)
    changed = {}
    for name, pk, before, after in records.filter(action=ImportRecord.Action.CHANGED).values_list(
        "model", "object_pk", "before", "after"
    ):
        if (name, pk) in changed:  # the first old value, the last new one
            old, new = changed[name, pk]
            changed[name, pk] = ({**before, **old}, {**new, **after})
        else:
            changed[name, pk] = (before, after)
    _plan_restores(plan, changed)
    deleted = {name: [] for name in ORDER}
    for name, pk, before in records.filter(action=ImportRecord.Action.DELETED).values_list(
        "model", "object_pk", "before"
    ):
        deleted[name].append((pk, before))
    _plan_recreates(plan, deleted)
    return plan


def _existing(model, pks, *columns):
    """{pk: (columns…)} of the rows of `pks` that still exist."""
    found = {}
    for batch in itertools.batched(pks, BATCH):
        for values in (
            model._base_manager.filter(Any(F("pk"), batch)).order_by().values_list("pk", *columns)
        ):
            found[values[0]] = values[1:]
    return found


def _in_batches(queryset_of, pks):
    for batch in itertools.batched(pks, BATCH):
        yield from queryset_of(batch)


def _plan_deletes(plan, created):
    M, P, A = ImportRecord.Model.MEMBERSHIP, ImportRecord.Model.PERSON, ImportRecord.Model.ACCOUNT
    memberships = set(_existing(Membership, created[M]))
    people = set(_existing(Person, created[P]))
    accounts = _existing(Account, created[A], "parent_id", "level")
    plan.gone += [(M, pk) for pk in created[M] if pk not in memberships]
    plan.gone += [(P, pk) for pk in created[P] if pk not in people]
    plan.gone += [(A, pk) for pk in created[A] if pk not in accounts]

    # A membership in a task or a touchpoint keeps it (and so its person and account).
    used = Uses()
    for through, kind in (
        (Task.contacts.through, "task"),
        (Touchpoint.participants.through, "touchpoint"),
    ):
        for (pk,) in _in_batches(
            lambda batch, through=through: through.objects.filter(
                Any(F("membership_id"), batch)
            ).values_list("membership_id"),
            sorted(memberships),
        ):
            used.add(pk, kind)
    for pk in sorted(used):
        memberships.discard(pk)
        plan.kept.append((M, pk, f"in {used.words(pk)}"))

    # People and accounts with memberships the undo leaves.
    other_memberships = Uses()
    for pk, person_id in _in_batches(
        lambda batch: (
            Membership.objects.filter(Any(F("person_id"), batch))
            .order_by()
            .values_list("pk", "person_id")
        ),
        sorted(people),
    ):
        if pk not in memberships:
            other_memberships.add(person_id, "membership")
    for pk in sorted(people):
        if pk in other_memberships:
            people.discard(pk)
            plan.kept.append((P, pk, f"has {other_memberships.words(pk)} the import did not add"))
    for (pk,) in _in_batches(
        lambda batch: PersonMerge.objects.filter(Any(F("survivor_id"), batch)).values_list(
            "survivor_id"
        ),
        sorted(people),
    ):
        if pk in people:
            people.discard(pk)
            plan.kept.append((P, pk, "another person was merged into them"))

    uses = Uses()
    for model, kind in ((Membership, "membership"), (Task, "task"), (Touchpoint, "touchpoint")):
        for pk, account_id in _in_batches(
            lambda batch, model=model: (
                model.objects.filter(Any(F("account_id"), batch))
                .order_by()
                .values_list("pk", "account_id")
            ),
            sorted(accounts),
        ):
            if kind != "membership" or pk not in memberships:
                uses.add(account_id, kind)
    children = {}
    for pk, parent_id in _in_batches(
        lambda batch: (
            Account.objects.filter(Any(F("parent_id"), batch))
            .order_by()
            .values_list("pk", "parent_id")
        ),
        sorted(accounts),
    ):
        children.setdefault(parent_id, []).append(pk)
    kept_accounts = {pk: uses.words(pk) for pk in accounts if pk in uses}
    # A kept account keeps its parent; a parent with children the import did not add is kept.
    changed = True
    while changed:
        changed = False
        for pk in accounts:
            if pk in kept_accounts:
                continue
            others = [c for c in children.get(pk, []) if c not in accounts or c in kept_accounts]
            if others:
                kept_accounts[pk] = f"{len(others)} sub-account{'s' if len(others) > 1 else ''}"
                changed = True
    for pk, why in sorted(kept_accounts.items()):
        plan.kept.append((A, pk, f"has {why} the import did not add"))
    plan.delete[M] = sorted(memberships)
    plan.delete[P] = sorted(people)
    # Deepest first: each is deleted before the account above it.
    plan.delete[A] = sorted(
        (pk for pk in accounts if pk not in kept_accounts),
        key=lambda pk: (-accounts[pk][1], pk),
    )


def _plan_restores(plan, changed):
    by_model = {}
    for (name, pk), (before, after) in changed.items():
        by_model.setdefault(name, []).append((pk, before, after))
    for name in ORDER:
        rows = by_model.get(name, [])
        if not rows:
            continue
        model = MODELS_RECORDED[name]
        columns = sorted({f for _, before, _ in rows for f in before if f not in TIMESTAMPS})
        current = _existing(model, [pk for pk, _, _ in rows], *columns)
        later = _later_changes(plan.job, name, [pk for pk, _, _ in rows if pk in current])
        for pk, before, after in rows:
            if pk not in current:
                plan.gone.append((name, pk))
                continue
            now = dict(zip(columns, (plain(value) for value in current[pk]), strict=True))
            fields, conflicts = {}, {}
            for column, old in before.items():
                if column in TIMESTAMPS or now[column] == old:
                    continue  # already as it was
                fields[column] = (old, after.get(column), now[column])
                if now[column] != after.get(column):
                    job_id = later.get((pk, column))
                    conflicts[column] = (
                        f"import #{job_id}" if job_id else "changed in the app since"
                    )
            if fields:
                plan.restores.append(Restore(name, pk, fields, conflicts))


def _later_changes(job, name, pks):
    """{(pk, field): the last later job that wrote it} for the rows of `pks`."""
    later = {}
    for batch in itertools.batched(pks, BATCH):
        for pk, job_id, after in (
            ImportRecord.objects.filter(Any(F("object_pk"), batch), model=name, job_id__gt=job.pk)
            .exclude(action=ImportRecord.Action.DELETED)
            .order_by("job_id")
            .values_list("object_pk", "job_id", "after")
        ):
            for column in after or {}:
                later[pk, column] = job_id
    return later


def _plan_recreates(plan, deleted):
    """Rows the job deleted (it was an undo): made again with their primary keys, unless
    something has taken their place."""
    M, P, A = ImportRecord.Model.MEMBERSHIP, ImportRecord.Model.PERSON, ImportRecord.Model.ACCOUNT
    for name in ORDER:
        rows = deleted[name]
        taken = set(_existing(MODELS_RECORDED[name], [pk for pk, _ in rows]))
        for pk, before in rows:
            if pk in taken:
                plan.not_recreated.append((name, pk, "exists again"))
            else:
                plan.recreate[name].append(before)
    coming = {name: {row["id"] for row in plan.recreate[name]} for name in ORDER}
    # Their references: accounts and people that are gone keep the rows that name them out.
    account_ids = {r["parent_id"] for r in plan.recreate[A] if r["parent_id"]} | {
        r["account_id"] for r in plan.recreate[M]
    }
    person_ids = {r["person_id"] for r in plan.recreate[M]}
    accounts = set(_existing(Account, sorted(account_ids - coming[A]))) | coming[A]
    people = set(_existing(Person, sorted(person_ids - coming[P]))) | coming[P]
    emails = {r["email"].lower(): r["id"] for r in plan.recreate[P]}
    clashes = set()
    for batch in itertools.batched(sorted(emails), BATCH):
        clashes.update(
            Person.objects.annotate(key=Lower("email"))
            .filter(Any(F("key"), batch))
            .values_list("key", flat=True)
        )
    keep = []
    for row in plan.recreate[P]:
        if row["email"].lower() in clashes:
            plan.not_recreated.append((P, row["id"], "another person has this email now"))
            people.discard(row["id"])
        else:
            keep.append(row)
    plan.recreate[P] = keep
    keep = []
    for row in plan.recreate[A]:
        if row["parent_id"] and row["parent_id"] not in accounts:
            plan.not_recreated.append((A, row["id"], "its parent account is gone"))
        else:
            keep.append(row)
    plan.recreate[A] = sorted(keep, key=lambda r: (r["level"], r["id"]))
    pairs = {(r["person_id"], r["account_id"]) for r in plan.recreate[M]}
    existing_pairs = set(
        _in_batches(
            lambda batch: (
                Membership.objects.filter(Any(F("person_id"), batch))
                .order_by()
                .values_list("person_id", "account_id")
            ),
            sorted({p for p, _ in pairs}),
        )
    )
    keep = []
    for row in plan.recreate[M]:
        if row["person_id"] not in people or row["account_id"] not in accounts:
            plan.not_recreated.append((M, row["id"], "its person or account is gone"))
        elif (row["person_id"], row["account_id"]) in existing_pairs:
            plan.not_recreated.append((M, row["id"], "the person is a member there again"))
        else:
            keep.append(row)
    plan.recreate[M] = keep
