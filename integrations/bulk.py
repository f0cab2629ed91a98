"""Bulk inserts and updates of plain rows, for imports of a hundred thousand rows.

Django's bulk_create and bulk_update build a model instance and an SQL expression per value:
about a minute for the four tables a 100,000-row users file writes. On PostgreSQL these write
with COPY (the ids drawn from the table's sequence first, so the rows that refer to them can be
written too) and one UPDATE … FROM (VALUES …) per batch. Other databases (SQLite in
development) go through Django's bulk methods.

Rows are dicts of attribute names (`person_id`, not `person`). A column a row leaves out gets
the field's default, and auto_now / auto_now_add timestamps are set, as Model.save() would.
"""

import itertools

from django.db import connections
from django.db.models import Lookup
from django.utils import timezone

UPDATE_BATCH = 2000


class BulkWriter:
    def __init__(self, using):
        self.connection = connections[using]
        self.using = using
        self.postgresql = self.connection.vendor == "postgresql"

    def insert(self, model, rows):
        """Insert `rows` and return their new primary keys, in order."""
        if not rows:
            return []
        fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        now = timezone.now()
        complete = [_complete(row, fields, now) for row in rows]
        if not self.postgresql:
            objs = [model(**row) for row in complete]
            model._base_manager.using(self.using).bulk_create(objs)
            return [obj.pk for obj in objs]
        table = model._meta.db_table
        pk = model._meta.pk
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk.column, len(complete)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            columns = ", ".join(quote(column) for column in [pk.column, *(f.column for f in fields)])
            attnames = [field.attname for field in fields]
            # Django's error classes, as for its own queries (COPY goes to psycopg directly).
            with self.connection.wrap_database_errors, cursor.cursor.copy(
                f"COPY {quote(table)} ({columns}) FROM STDIN"
            ) as copy:
                for id_, row in zip(ids, complete):
                    copy.write_row([id_, *[row[name] for name in attnames]])
        return ids

    def update(self, model, attnames, rows):
        """Set `attnames` (plus any auto_now timestamp) on the rows (pk, *values)."""
        if not rows:
            return
        fields = [model._meta.get_field(name) for name in attnames]
        stamps = [
            field for field in model._meta.concrete_fields
            if getattr(field, "auto_now", False) and field not in fields
        ]
        now = timezone.now()
        if not self.postgresql:
            objs = []
            for pk, *values in rows:
                obj = model(pk=pk, **dict(zip(attnames, values)))
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
            [f"{quote(field.column)} = {cast}" for field, cast in zip(fields, casts[1:])]
            + [f"{quote(field.column)} = %s" for field in stamps]
        )
        names = ", ".join(quote(f"c{index}") for index in range(len(columns)))
        table = quote(model._meta.db_table)
        with self.connection.cursor() as cursor:
            for batch in itertools.batched(rows, UPDATE_BATCH):
                placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(batch))
                cursor.execute(
                    f"UPDATE {table} SET {assignments} FROM (VALUES {placeholders}) "
                    f"AS v ({names}) WHERE {table}.{quote(pk.column)} = {casts[0]}",
                    [*[now for _ in stamps], *itertools.chain.from_iterable(batch)],
                )


def _complete(row, fields, now):
    """The row with every field: given, a timestamp, or the field's default."""
    values = {}
    for field in fields:
        name = field.attname
        if name in row:
            values[name] = row[name]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values[name] = now
        else:
            values[name] = field.get_default()
    return values


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
