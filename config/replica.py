"""Reads from a PostgreSQL streaming replica, without a staff user ever seeing their own change
disappear (DATABASE_REPLICA_URL; the README's "Several machines: a primary and its replicas").

Safe by default: a query reads the replica only inside a GET or HEAD request that
`replica_reads` allowed, outside any transaction on the primary, and before the request wrote
anything. Everything else reads the primary: requests that change things, task workers (imports,
integration job runs, undo), the scheduler, management commands, the admin's writes.
`config.routers.PrimaryReplicaRouter` asks `reads_replica()` on each query.

Read-your-writes across requests: after a request that changed something (or may have), the
primary's WAL position is put in a signed cookie, the browser's *mark*. A later GET with a mark
asks the replica once whether it has replayed that far: yes, it reads the replica and the mark
is dropped; no, it reads the primary, and the mark moves to the primary's position, so what
that page showed cannot vanish on the next one either (monotonic reads). A cookie rather than
the session: the session is itself a database row, written by the sign-in, and has to be read
from the right server, so the choice must be made before it is read, and without a query on the
primary for every page.

A replica that cannot be reached is left alone for RETRY_AFTER seconds per process, pages
reading the primary meanwhile, with one warning each time.
"""

import logging
import re
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"

MARK_COOKIE = "uc_primary_lsn"
MARK_SALT = "config.replica.mark"
# A mark is dropped as soon as the replica has replayed it; one that outlives a day belongs to
# a browser that did not come back, and the replica has long passed it.
MARK_MAX_AGE = 24 * 60 * 60
# PostgreSQL's text form of a WAL position (pg_lsn): two hexadecimal numbers.
LSN_PATTERN = re.compile(r"[0-9A-F]{1,8}/[0-9A-F]{1,8}")
# Seconds a process reads only the primary after the replica failed to answer.
RETRY_AFTER = 30

READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class RequestReads:
    """What one request may read: the replica (`replica_allowed`) until it writes (`wrote`)."""

    replica_allowed: bool = False
    wrote: bool = False


_request_reads = ContextVar("replica_request_reads", default=None)


def reads_replica():
    """Whether the query about to run may read the replica: only in a request that allows it,
    before that request wrote, and outside a transaction on the primary (whose reads must see
    its own uncommitted writes; the test suite's TestCase runs every request inside one)."""
    reads = _request_reads.get()
    return (
        reads is not None
        and reads.replica_allowed
        and not reads.wrote
        and not connections[PRIMARY].in_atomic_block
    )


def note_write():
    """Pins the rest of the current request (if any) to the primary: it just wrote there."""
    reads = _request_reads.get()
    if reads is not None:
        reads.wrote = True


class _ReplicaOutage:
    """When this process last failed to reach the replica, so that a replica that is down
    costs one connection attempt (and one warning) every RETRY_AFTER seconds, not one per
    page."""

    def __init__(self):
        self._lock = threading.Lock()
        self._retry_at = 0.0

    def waiting(self):
        return time.monotonic() < self._retry_at

    def begin(self, error):
        with self._lock:
            if self.waiting():
                return
            self._retry_at = time.monotonic() + RETRY_AFTER
        logger.warning(
            "The replica cannot be reached (%s): pages read the primary for %d s.",
            f"{type(error).__name__}: {error}".strip(),
            RETRY_AFTER,
        )

    def end(self):
        self._retry_at = 0.0


replica_outage = _ReplicaOutage()


def primary_position():
    """The primary's current WAL position: everything committed so far is before it."""
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return cursor.fetchone()[0]


def replica_has_replayed(position):
    """Whether the replica has replayed the WAL up to `position` (its transactions are visible
    there). A replica that is no longer in recovery answers NULL: not caught up."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])
        return bool(cursor.fetchone()[0])


def _replica_connected():
    """Connects to the replica (or checks a kept connection, as CONN_HEALTH_CHECKS does before
    the first query of a request), without a query when a new connection is made."""
    connection = connections[REPLICA]
    connection.close_if_health_check_failed()
    connection.ensure_connection()


def _read_mark(request):
    mark = request.get_signed_cookie(
        MARK_COOKIE, default=None, salt=MARK_SALT, max_age=MARK_MAX_AGE
    )
    return mark if mark and LSN_PATTERN.fullmatch(mark) else None


def _choose_reads(mark):
    """(replica allowed, mark replayed) for a GET or HEAD request with this mark (or None)."""
    if replica_outage.waiting():
        return False, False
    try:
        if mark is None:
            _replica_connected()
            replayed = False
        else:
            replayed = replica_has_replayed(mark)
    except DatabaseError as error:
        replica_outage.begin(error)
        return False, False
    replica_outage.end()
    return mark is None or replayed, replayed


def replica_reads(get_response):
    """Middleware: lets GET and HEAD requests read the replica when it has replayed the
    browser's mark, and sets the mark after a request that wrote (see the module's docstring).
    Not installed without a replica alias (DATABASE_REPLICA_URL)."""
    if REPLICA not in connections:
        raise MiddlewareNotUsed("No replica: every query reads the primary.")

    def middleware(request):
        reads = RequestReads()
        read_only = request.method in READ_ONLY_METHODS
        mark = _read_mark(request) if read_only else None
        replayed = False
        # A request that starts inside a transaction on the primary (a caller's, or the test
        # suite's TestCase around each test) reads in it: not even a look at the replica.
        if read_only and not connections[PRIMARY].in_atomic_block:
            reads.replica_allowed, replayed = _choose_reads(mark)
        token = _request_reads.set(reads)
        try:
            response = get_response(request)
        finally:
            _request_reads.reset(token)
        if not read_only or reads.wrote or (mark and not replayed):
            _set_mark(response)
        elif mark and replayed:
            response.delete_cookie(MARK_COOKIE, samesite="Lax")
        return response

    return middleware


def _set_mark(response):
    """Puts the primary's position in the browser's mark: after any request but GET and HEAD
    (raw SQL does not pass through the router, so "wrote nothing" cannot be known), a GET or
    HEAD that wrote, and one that read the primary because the replica was behind its mark."""
    try:
        position = primary_position()
    except DatabaseError:
        # The primary stopped answering after the view ran: the page is still answered, without
        # a new mark. Its next pages may then read a replica that has not replayed this
        # request's writes yet, a risk only while the primary itself is failing.
        logger.error("Could not read the primary's WAL position for the mark", exc_info=True)
        return
    response.set_signed_cookie(
        MARK_COOKIE,
        position,
        salt=MARK_SALT,
        max_age=MARK_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
