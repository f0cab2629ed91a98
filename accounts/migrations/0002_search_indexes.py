"""Trigram indexes for the accounts search (name or Account ID), on PostgreSQL only.

Indexed on the expression Django's icontains queries, UPPER(column::text); see
contacts/migrations/0002_search_indexes.py.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

COLUMNS = {"account_name_trgm": "name", "account_external_id_trgm": "external_id"}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in COLUMNS.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "accounts_account" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
