"""A trigram index on people's full names, for "similar names" on the duplicates page
(contacts.duplicates), on PostgreSQL only.

The page finds, for each person, the others whose full name is similar (pg_trgm's `%`
operator); without an index on the very expression it queries, that is a scan of every person
for each one. SQLite has no such index: there the page compares names with rapidfuzz within
small blocks instead.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "person_full_name_trgm"
# The expression contacts.duplicates.FULL_NAME_SQL queries: the two must stay the same.
EXPRESSION = '(LOWER("first_name" || \' \' || "last_name"))'


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "contacts_person" '
        f"USING gin ({EXPRESSION} gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [("contacts", "0014_history_former_merges")]

    operations = [
        # Already there since 0002; kept so this index never depends on that migration's order.
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index),
    ]
