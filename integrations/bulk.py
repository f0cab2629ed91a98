"""Bulk inserts and updates of plain rows, for imports of a hundred thousand rows.

Django's bulk_create and bulk_update build a model instance and an SQL expression per value:
about a minute for the four tables a 100,000-row users file writes. On PostgreSQL these write
with COPY (the ids drawn from the table's sequence first, so the rows that refer to them can be
written too) and one UPDATE … FROM (VALUES …) per batch. Other databases (SQLite in
development) go through Django's bulk methods.

Rows are tuples of the columns named (attribute names: `person_id`, not `person`). Fields left
out get their default, and auto_now / auto_now_add timestamps the time, as Model.save() would.
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
        self.sequences = {}

    def insert(self, model, columns, rows):
        """Insert `rows` (tuples of the `columns`, attribute names) and return their new primary
        keys, in order. The model's other fields get their defaults, timestamps the time."""
        if not rows:
            return []
        fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        given = [model._meta.get_field(name) for name in columns]
        rest = [field for field in fields if field.attname not in columns]
        now = timezone.now()
        if not self.postgresql:
            objs = []
            for row in rows:
                obj = model(**dict(zip(columns, row, strict=True)))
                for field in rest:
                    setattr(obj, field.attname, _default(field, now))
                objs.append(obj)
            model._base_manager.using(self.using).bulk_create(objs)
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
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                [self._sequence(cursor, table, pk.column), len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            sql = f"COPY {quote(table)} ({', '.join(quote(f.column) for f in names)}) FROM STDIN"
            # Django's error classes, as for its own queries (COPY goes to psycopg directly).
            with self.connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                for id_, row in zip(ids, rows, strict=True):
                    copy.write_row(
                        (id_, *row, *constants, *(field.get_default() for field in per_row))
                    )
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
