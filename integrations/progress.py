"""A running import job's progress and heartbeat, visible to the job page while the import's
transaction is still open."""

import logging

from django.db import connections, router
from django.utils import timezone

from .heartbeat import Pulse
from .models import ImportJob, heartbeat_interval

logger = logging.getLogger(__name__)

# How often the rows done are written while they change.
PROGRESS_INTERVAL = 0.5


class JobProgress:
    """Called with the number of rows done after each chunk. From the moment it is made until
    `close()`, a thread of its own writes the rows done (every PROGRESS_INTERVAL seconds while
    they change) and the job's heartbeat (at least every `heartbeat_interval()` seconds, whatever
    the import is doing: reading a large file, a slow chunk, waiting for another import's lock).
    A job whose heartbeat stops was killed with its worker (ImportJob.stale()).

    The import runs in one transaction, and what it writes there is invisible to everyone else
    until it commits. On PostgreSQL the progress goes through a connection of its own, in
    autocommit, that never waits for a lock for long. On SQLite (development) the import holds
    the database's only write lock, so a second writer would wait for it: there the page shows
    the progress when the job ends, and a job counts as stopped only after a long silence
    (models.stale_after()).
    """

    def __init__(self, job):
        self.job_id = job.pk
        self.alias = router.db_for_write(ImportJob)
        self.rows_done = None
        self.written = (None, None)  # (rows done, when) last written
        # What the job page says while the job waits (ImportJob.WAITING_MESSAGE), "" when it
        # no longer does, None before it ever waited; and what was last written of it.
        self.note = self.written_note = None
        self.connection = None
        self.pulse = None
        if connections[self.alias].vendor == "postgresql":
            self.pulse = Pulse(
                self._write,
                interval=PROGRESS_INTERVAL,
                name=f"import job {job.pk} progress",
                on_stop=self._disconnect,
            ).start()

    @property
    def enabled(self):
        return self.pulse is not None

    def __call__(self, rows_done, *, force=False):
        self.rows_done = rows_done
        if force and self.pulse is not None:
            self.pulse.beat_now()

    def waiting(self, waits):
        """The import waits for another users import to finish (`waits`), or no longer does:
        the job page says so at once."""
        self.note = ImportJob.WAITING_MESSAGE if waits else ""
        if self.pulse is not None:
            self.pulse.beat_now()

    def _write(self):
        """On the pulse's thread: the rows done when they changed, the heartbeat when due, the
        waiting note when it changed."""
        now = timezone.now()
        rows_done, last, note = self.rows_done, self.written[1], self.note
        due = last is None or (now - last).total_seconds() >= heartbeat_interval()
        if rows_done == self.written[0] and note == self.written_note and not due:
            return
        if self.connection is None:
            # A connection of this job's own rather than a second DATABASES alias: an alias
            # is held open per thread by every process, and Django's tests refuse queries on
            # an alias a test does not declare, so every test that runs an import would have
            # to; this one lives exactly as long as the job and its lock_timeout is its own.
            self.connection = connections.create_connection(self.alias)
            with self.connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '1s'")
        quote = self.connection.ops.quote_name
        assignments = [f"{quote('heartbeat_at')} = %s"]
        params = [now]
        if rows_done is not None:
            assignments.append(f"{quote('rows_done')} = %s")
            params.append(rows_done)
        if note is not None and note != self.written_note:
            assignments.append(f"{quote('message')} = %s")
            params.append(note)
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {quote(ImportJob._meta.db_table)} SET {', '.join(assignments)} "
                    f"WHERE {quote('id')} = %s AND {quote('status')} = ANY(%s)",
                    [*params, self.job_id, list(ImportJob.WORKER_HELD)],
                )
        except Exception:
            self._disconnect()  # a new one at the next beat
            raise
        self.written = (rows_done, now)
        self.written_note = note

    def _disconnect(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def close(self):
        """Stop reporting (the thread ends and closes its connection)."""
        if self.pulse is not None:
            self.pulse.stop()
            self.pulse = None
