"""A running import job's progress, visible to the job page while the import's transaction is
still open."""

import logging
import time

from django.db import DatabaseError, connections, router
from django.utils import timezone

from .models import ImportJob

logger = logging.getLogger(__name__)


class JobProgress:
    """Called with the number of rows done after each chunk; writes it (and a heartbeat, which
    tells a live job from one whose worker was killed) at most every `interval` seconds.

    The import runs in one transaction, and what it writes there is invisible to everyone else
    until it commits. On PostgreSQL the progress goes through a connection of its own, in
    autocommit, that never waits for a lock for long. On SQLite (development) the import holds
    the database's only write lock, so a second writer would wait for it: there the page shows
    the progress when the job ends.
    """

    def __init__(self, job, *, interval=0.5):
        self.job_id = job.pk
        self.interval = interval
        self.alias = router.db_for_write(ImportJob)
        self.connection = None
        self.last = 0.0

    @property
    def enabled(self):
        return connections[self.alias].vendor == "postgresql"

    def __call__(self, rows_done, *, force=False):
        now = time.monotonic()
        if not self.enabled or (not force and now - self.last < self.interval):
            return
        self.last = now
        try:
            if self.connection is None:
                # A connection of this job's own rather than a second DATABASES alias: an alias
                # is held open per thread by every process, and Django's tests refuse queries on
                # an alias a test does not declare, so every test that runs an import would have
                # to; this one lives exactly as long as the job and its lock_timeout is its own.
                self.connection = connections.create_connection(self.alias)
                with self.connection.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '1s'")
            quote = self.connection.ops.quote_name
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {quote(ImportJob._meta.db_table)} "
                    f"SET {quote('rows_done')} = %s, {quote('heartbeat_at')} = %s "
                    f"WHERE {quote('id')} = %s",
                    [rows_done, timezone.now(), self.job_id],
                )
        except DatabaseError:
            # Progress is a courtesy: the import goes on without it.
            logger.warning(
                "Could not report the progress of import job %s", self.job_id, exc_info=True
            )

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None
