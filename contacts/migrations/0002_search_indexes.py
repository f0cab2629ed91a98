"""Trigram indexes for searching people by name and email, on PostgreSQL only.

Django turns `first_name__icontains="ada"` into `UPPER("first_name"::text) LIKE UPPER('%ada%')`.
A GIN index on the bare column is never used for that; an index on the same expression is.
SQLite has no such indexes and searches by scanning, which is fine at its sizes.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    "person_first_name_trgm": "contacts_person",
    "person_last_name_trgm": "contacts_person",
    "person_email_trgm": "contacts_person",
}
COLUMNS = {
    "person_first_name_trgm": "first_name",
    "person_last_name_trgm": "last_name",
    "person_email_trgm": "email",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ((UPPER("{COLUMNS[name]}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
