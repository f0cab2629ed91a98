"""What an import job wrote, kept as its ImportRecords so that it can be undone exactly
(integrations.undo).

An ImportJournal goes with a job's BulkWriter (integrations.bulk): the writer tells it each row
it inserts, each field it changes (old and new value) and each row it deletes, where it does it,
and the journal writes them as ImportRecords through the same writer (COPY on PostgreSQL), in
the job's transaction: a run that rolls back leaves no records either.
"""

import datetime
import decimal
import itertools
import uuid

from django.db.models import Count, Q
from django.dispatch import receiver

from accounts.models import Account
from contacts.models import Membership, Person
from contacts.privacy import person_forgotten

from .models import ImportRecord

RECORDED_MODELS = {
    Person: ImportRecord.Model.PERSON,
    Membership: ImportRecord.Model.MEMBERSHIP,
    Account: ImportRecord.Model.ACCOUNT,
}
MODELS_RECORDED = {name: model for model, name in RECORDED_MODELS.items()}
RECORD_COLUMNS = ("job_id", "model", "object_pk", "action", "before", "after")
# Columns that say when a row was written, not what it holds: never undone, never a conflict.
TIMESTAMPS = ("created_at", "updated_at")


def plain(value):
    """A field's value as JSON holds it (dates as ISO text)."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def attnames(model):
    return [field.attname for field in model._meta.concrete_fields]


class ImportJournal:
    """The ImportRecords of one job's writes (`job_id`). Counts what it recorded."""

    def __init__(self, job_id):
        self.job_id = job_id
        self.recorded = 0

    def tracks(self, model):
        return model in RECORDED_MODELS

    def created(self, writer, model, rows):
        """`rows`: the new rows whole, as lists in the order of the model's concrete fields."""
        names = attnames(model)
        pk_index = names.index(model._meta.pk.attname)
        self._write(
            writer,
            model,
            ImportRecord.Action.CREATED,
            [
                (
                    row[pk_index],
                    None,
                    {name: plain(value) for name, value in zip(names, row, strict=True)},
                )
                for row in rows
            ],
        )

    def changed(self, writer, model, names, rows, old):
        """`rows`: (pk, *new values of `names`); `old`: {pk: old values of `names`}. Only the
        fields whose value changes are recorded; a row that changes nothing, not at all."""
        records = []
        for pk, *new in rows:
            if pk not in old:
                continue
            before, after = {}, {}
            for name, was, will_be in zip(names, old[pk], new, strict=True):
                old_value, new_value = plain(was), plain(will_be)
                if old_value != new_value and name not in TIMESTAMPS:
                    before[name], after[name] = old_value, new_value
            if before:
                records.append((pk, before, after))
        self._write(writer, model, ImportRecord.Action.CHANGED, records)

    def deleted(self, writer, model, rows):
        """`rows`: the deleted rows whole, in the order of the model's concrete fields."""
        names = attnames(model)
        pk_index = names.index(model._meta.pk.attname)
        self._write(
            writer,
            model,
            ImportRecord.Action.DELETED,
            [
                (
                    row[pk_index],
                    {name: plain(value) for name, value in zip(names, row, strict=True)},
                    None,
                )
                for row in rows
            ],
        )

    def in_database(self, writer, model, pks, *, action):
        """As created() or deleted() (`action`), the rows of `pks` read and written as JSON by
        PostgreSQL itself (to_jsonb: the same keys, the column names, and dates in ISO form),
        after their insert or before their deletion: at a hundred thousand rows, reading them
        into Python and writing them out again cost more than the import's own work."""
        quote = writer.connection.ops.quote_name
        table = quote(model._meta.db_table)
        pk = quote(model._meta.pk.column)
        before, after = ("to_jsonb(t)", "NULL") if action == "deleted" else ("NULL", "to_jsonb(t)")
        with writer.connection.cursor() as cursor:
            for batch in itertools.batched(pks, 2000):
                cursor.execute(
                    f"INSERT INTO {quote(ImportRecord._meta.db_table)} "
                    f"({', '.join(quote(name) for name in RECORD_COLUMNS)}) "
                    f"SELECT %s, %s, t.{pk}, %s, {before}, {after} FROM {table} t "
                    f"WHERE t.{pk} = ANY(%s)",
                    [self.job_id, RECORDED_MODELS[model], action, list(batch)],
                )
                self.recorded += cursor.rowcount

    def _write(self, writer, model, action, records):
        if not records:
            return
        name = RECORDED_MODELS[model]
        writer.insert(
            ImportRecord,
            RECORD_COLUMNS,
            [(self.job_id, name, pk, action, before, after) for pk, before, after in records],
        )
        self.recorded += len(records)


def undo_counts(job):
    """The job's records in words ("2 created, 1 changed, 0 deleted"; "none"), for the admin."""
    counts = dict(job.records.values_list("action").annotate(n=Count("pk")).order_by())
    if not counts:
        return "none"
    return ", ".join(
        f"{counts.get(action, 0):,} {label.lower()}"
        for action, label in ImportRecord.Action.choices
    )


@receiver(person_forgotten, dispatch_uid="integrations.forget_import_records")
def forget_import_records(sender, *, traces, **kwargs):
    """A forgotten person's rows in the import records go (contacts.privacy.forget_person, in
    its transaction): what an import created or changed of them, and what an undo deleted of
    them, so that no redo brings them back. Their memberships' records hold no personal data;
    an undo then reports those rows gone. Returns {what: how many}."""
    records = ImportRecord.objects.filter(model=ImportRecord.Model.PERSON).filter(
        Q(object_pk=traces.person_pk)
        | Q(before__email__iexact=traces.email)
        | Q(after__email__iexact=traces.email)
    )
    deleted, _ = records.delete()
    return {"import records": deleted} if deleted else {}
