"""Bulk inserts and updates of plain rows, for imports of a hundred thousand rows.

Django's bulk_create and bulk_update build a model instance and an SQL expression per value:
about a minute for the four tables a 100,000-row users file writes. On PostgreSQL these write
with COPY (the ids drawn from the table's sequence first, so the rows that refer to them can be
written too) and one UPDATE … FROM (VALUES …) per batch. Other databases (SQLite in
development) go through Django's bulk methods.

Rows are tuples of the columns named (attribute names: `person_id`, not `person`). Fields left
out get their default, and auto_now / auto_now_add timestamps the time, as Model.save() would.

Given a `journal` (integrations.journal.ImportJournal), a writer records what it does to the
people, memberships and accounts as the job's ImportRecords, where it does it: the whole row of
each insert, and the old and new value of each field an update changes (the old values read
with one SELECT per batch), so that the job can be undone (integrations.undo).
"""

import itertools

from django.db import connections
from django.db.models import CASCADE, DO_NOTHING, SET_NULL, F, JSONField, Lookup
from django.utils import timezone

UPDATE_BATCH = 2000


class BulkWriter:
    def __init__(self, using, *, journal=None):
        self.connection = connections[using]
        self.using = using
        self.postgresql = self.connection.vendor == "postgresql"
        self.sequences = {}
        self.journal = journal

    def _journals(self, model):
        return self.journal is not None and self.journal.tracks(model)

    def insert(self, model, columns, rows, *, pks=None):
        """Insert `rows` (tuples of the `columns`, attribute names) and return their new primary
        keys, in order. The model's other fields get their defaults, timestamps the time.
        `pks`: the primary keys to give them (a redo re-creates deleted rows as they were),
        instead of new ones from the sequence."""
        if not rows:
            return []
        fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        given = [model._meta.get_field(name) for name in columns]
        rest = [field for field in fields if field.attname not in columns]
        now = timezone.now()
        journals = self._journals(model)
        if not self.postgresql:
            objs = []
            for index, row in enumerate(rows):
                obj = model(**dict(zip(columns, row, strict=True)))
                if pks is not None:
                    obj.pk = pks[index]
                for field in rest:
                    setattr(obj, field.attname, _default(field, now))
                objs.append(obj)
            model._base_manager.using(self.using).bulk_create(objs)
            if journals:
                attnames = [field.attname for field in model._meta.concrete_fields]
                self.journal.created(
                    self, model, [[getattr(obj, name) for name in attnames] for obj in objs]
                )
            return [obj.pk for obj in objs]
        # Defaults that are values are worked out once; callable ones (now, uuid4) per row.
        fixed = [
            (field, _default(field, now))
            for field in rest
            if not callable(field.default) or _is_timestamp(field)
        ]
        per_row = [field for field in rest if callable(field.default) and not _is_timestamp(field)]
        table = model._meta.db_table
        pk = model._meta.pk
        quote = self.connection.ops.quote_name
        names = [pk, *given, *(field for field, _ in fixed), *per_row]
        constants = tuple(value for _, value in fixed)
        # JSON goes to COPY as the field would send it (psycopg's Jsonb).
        adapt = [
            (index, field) for index, field in enumerate(names) if isinstance(field, JSONField)
        ]
        with self.connection.cursor() as cursor:
            if pks is None:
                cursor.execute(
                    "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                    [self._sequence(cursor, table, pk.column), len(rows)],
                )
                ids = [row[0] for row in cursor.fetchall()]
            else:
                ids = list(pks)
            sql = f"COPY {quote(table)} ({', '.join(quote(f.column) for f in names)}) FROM STDIN"
            # Django's error classes, as for its own queries (COPY goes to psycopg directly).
            with self.connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                for id_, row in zip(ids, rows, strict=True):
                    values = (id_, *row, *constants, *(field.get_default() for field in per_row))
                    if adapt:
                        values = list(values)
                        for index, field in adapt:
                            values[index] = field.get_db_prep_save(values[index], self.connection)
                    copy.write_row(values)
        if journals:
            # The new rows as PostgreSQL itself writes them as JSON: no Python per value.
            self.journal.in_database(self, model, ids, action="created")
        return ids

    def _sequence(self, cursor, table, column):
        """The name of the sequence of the table's ids, looked up once per writer: inside
        nextval() it was looked up per row, a fifth of the time of a 2,000-row insert."""
        if (table, column) not in self.sequences:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            self.sequences[table, column] = cursor.fetchone()[0]
        return self.sequences[table, column]

    def update(self, model, attnames, rows):
        """Set `attnames` (plus any auto_now timestamp) on the rows (pk, *values)."""
        if not rows:
            return
        fields = [model._meta.get_field(name) for name in attnames]
        stamps = [
            field
            for field in model._meta.concrete_fields
            if getattr(field, "auto_now", False) and field not in fields
        ]
        now = timezone.now()
        if self._journals(model):
            self._record_changes(model, attnames, rows)
        if not self.postgresql:
            objs = []
            for pk, *values in rows:
                obj = model(pk=pk, **dict(zip(attnames, values, strict=True)))
                for field in stamps:
                    setattr(obj, field.attname, now)
                objs.append(obj)
            model._base_manager.using(self.using).bulk_update(
                objs, [f.name for f in fields + stamps], batch_size=500
            )
            return
        quote = self.connection.ops.quote_name
        pk = model._meta.pk
        columns = [pk, *fields]
        casts = [
            f"CAST(v.{quote(f'c{index}')} AS {field.db_type(self.connection)})"
            for index, field in enumerate(columns)
        ]
        assignments = ", ".join(
            [
                f"{quote(field.column)} = {cast}"
                for field, cast in zip(fields, casts[1:], strict=True)
            ]
            + [f"{quote(field.column)} = %s" for field in stamps]
        )
        names = ", ".join(quote(f"c{index}") for index in range(len(columns)))
        table = quote(model._meta.db_table)
        with self.connection.cursor() as cursor:
            for batch in itertools.batched(rows, UPDATE_BATCH):
                placeholders = ", ".join(
                    ["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(batch)
                )
                cursor.execute(
                    f"UPDATE {table} SET {assignments} FROM (VALUES {placeholders}) "
                    f"AS v ({names}) WHERE {table}.{quote(pk.column)} = {casts[0]}",
                    [*[now for _ in stamps], *itertools.chain.from_iterable(batch)],
                )

    def _record_changes(self, model, attnames, rows):
        """The journal's CHANGED records of an update: each row's fields whose value it
        changes, old and new, the old ones read with one SELECT per batch."""
        for batch in itertools.batched(rows, UPDATE_BATCH):
            old = {
                values[0]: values[1:]
                for values in model._base_manager.using(self.using)
                .filter(Any(F("pk"), [row[0] for row in batch]))
                .order_by()
                .values_list("pk", *attnames)
            }
            self.journal.changed(self, model, attnames, batch, old)

    def delete(self, model, pks, *, returning=False):
        """Delete the rows of `pks` and what refers to them as their on_delete says (CASCADE,
        SET_NULL, links of many-to-many fields), one batch at a time. The journal records each
        deleted row whole, as it was (on PostgreSQL by the database itself: to_jsonb of the
        row). With `returning`, returns the deleted rows, as tuples of the model's concrete
        fields. Trees (django-mptt) go through Django's delete, which keeps them numbered."""
        manager = model._base_manager.using(self.using)
        attnames = [field.attname for field in model._meta.concrete_fields]
        journals = self._journals(model)
        deleted = []
        for batch in itertools.batched(pks, UPDATE_BATCH):
            rows = manager.filter(Any(F("pk"), batch)).order_by()
            values = None
            if returning or (journals and not self.postgresql):
                values = list(rows.values_list(*attnames))
            if journals:
                if self.postgresql:
                    self.journal.in_database(self, model, batch, action="deleted")
                else:
                    self.journal.deleted(self, model, values)
            if hasattr(model, "_mptt_meta"):
                rows.delete()
            else:
                self._delete_cascading(model, batch)
            if returning:
                deleted += values
        return deleted

    def _delete_cascading(self, model, pks):
        """Django's Collector, one statement per relation: it reads every row it deletes
        into an instance first, most of an undo's time at a hundred thousand rows."""
        if not pks:
            return
        for relation in model._meta.related_objects:
            if relation.many_to_many:
                self._delete_links(relation.through, model, pks)
                continue
            field = relation.field
            rows = relation.related_model._base_manager.using(self.using).filter(
                Any(F(field.attname), pks)
            )
            on_delete = field.remote_field.on_delete
            if on_delete is CASCADE:
                if relation.related_model._meta.related_objects:
                    self._delete_cascading(
                        relation.related_model, list(rows.values_list("pk", flat=True))
                    )
                else:
                    rows.order_by()._raw_delete(self.using)
            elif on_delete is SET_NULL:
                rows.update(**{field.attname: None})
            elif on_delete is not DO_NOTHING:
                rows.delete()  # PROTECT and the rest: as Django decides
        for field in model._meta.local_many_to_many:
            self._delete_links(field.remote_field.through, model, pks)
        model._base_manager.using(self.using).filter(Any(F("pk"), pks)).order_by()._raw_delete(
            self.using
        )

    def _delete_links(self, through, model, pks):
        for field in through._meta.concrete_fields:
            if field.is_relation and field.related_model is model:
                through._base_manager.using(self.using).filter(
                    Any(F(field.attname), pks)
                ).order_by()._raw_delete(self.using)


def _is_timestamp(field):
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def _default(field, now):
    """What Model.save() would store in a field the caller left out."""
    return now if _is_timestamp(field) else field.get_default()


class Any(Lookup):
    """`column = ANY(%s)`, the values as one array, on PostgreSQL (IN (…) elsewhere), for the
    per-chunk lookups: `filter(Any(F("person_id"), ids))`.

    Inside an import that has just filled a table its statistics still say it is empty or
    small, and PostgreSQL answers a long IN (…) list with a scan of the whole table, once per
    chunk. With an array it uses the column's index whatever the statistics say.
    """

    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs_sql, params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs_sql} = ANY(%s)", (*params, values)
        if not values:
            return "1 = 0", tuple(params)
        return f"{lhs_sql} IN ({', '.join(['%s'] * len(values))})", (*params, *values)
