"""The rows the test database's migrations made (content types, permissions, the staff groups
of a data migration), put back under their original ids: for the tests that empty the database
between tests and restore those rows from `serialized_rollback` (the browser tests, the
streaming replica's)."""

from django.core.management import call_command
from django.db import connections


def restore_migrated_rows():
    """Empty the test database and put back the rows its migrations made (content types,
    permissions, the staff groups of a data migration) under their original ids, as it was
    before any test ran."""
    for connection in connections.all():
        serialized = getattr(connection, "_test_serialized_contents", None)
        if serialized is None:
            continue
        call_command(
            "flush",
            database=connection.alias,
            interactive=False,
            inhibit_post_migrate=True,
            verbosity=0,
        )
        connection.creation.deserialize_db_from_string(serialized)
