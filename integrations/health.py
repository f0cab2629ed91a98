"""/health/ for load balancers and monitors: the database, a task worker and the scheduler
(and the replica, where there is one).

One query (the live reports of the background processes, on the primary), no session, no
sign-in, over http too (SECURE_REDIRECT_EXEMPT). 200 when all is well, 503 naming what is not.
With DATABASE_REPLICA_URL, a second query asks the replica how far behind it is: reported
("ok", "lagging N s", "down"), never a 503, as the pages read the primary when the replica is
behind or down (config/replica.py), and every web server sees the same replica: taking them all
out of the load balancer for it would stop pages that still work.

Written here rather than with django-health-check: its view runs each check in a thread pool
of an async view, and its database check opens a connection per probe; the two checks this app
needs (a worker and the scheduler reporting) are custom either way.
"""

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.replica import PRIMARY, REPLICA

from .models import Heartbeat, stale_after

logger = logging.getLogger(__name__)

OK = "ok"
# Seconds of replay lag from which the replica is reported "lagging": short lags come and go
# with every write, and the browser's own changes are read from the primary meanwhile.
REPLICA_LAG_REPORTED_FROM = 5


def check_health():
    """{"database": …, "worker": …, "scheduler": …}, each "ok" or what is wrong, and
    "replica" where there is one."""
    checks = _check_primary()
    if REPLICA in connections:
        checks["replica"] = check_replica()
    return checks


def _check_primary():
    try:
        # On the primary: the reports are written there, and a replica's copy may lag.
        alive = set(
            Heartbeat.objects.alive().using(PRIMARY).values_list("role", flat=True).distinct()
        )
    except DatabaseError as error:
        logger.error("Health check: the database cannot be reached", exc_info=True)
        unknown = "unknown: the database cannot be reached"
        return {
            "database": f"down ({type(error).__name__})",
            "worker": unknown,
            "scheduler": unknown,
        }
    silent = f"down: no report in the last {stale_after():g} seconds"
    return {
        "database": OK,
        "worker": OK if Heartbeat.Role.WORKER in alive else silent,
        "scheduler": OK if Heartbeat.Role.SCHEDULER in alive else silent,
    }


def check_replica():
    """The replica's state: "ok", "lagging N s" (seconds since the last transaction it
    replayed, while WAL it received waits for replay) or "down (…)": unreachable, or not in
    recovery."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                """
                SELECT pg_is_in_recovery(), CASE
                    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
                END
                """
            )
            replaying, lag = cursor.fetchone()
    except DatabaseError as error:
        logger.warning("Health check: the replica cannot be reached", exc_info=True)
        return f"down ({type(error).__name__})"
    if not replaying:
        # Promoted, or DATABASE_REPLICA_URL names a primary: it never says it replayed a
        # browser's mark, so those browsers read the primary, and the others read a server
        # that the primary's writes may not reach.
        return "down (not a replica: it replays no WAL)"
    if lag is None or lag < REPLICA_LAG_REPORTED_FROM:
        return OK
    return f"lagging {round(lag)} s"


@login_not_required
@require_safe
@never_cache
def health(request):
    checks = check_health()
    healthy = all(state == OK for name, state in checks.items() if name != "replica")
    return JsonResponse(
        {"status": "ok" if healthy else "down", "checks": checks}, status=200 if healthy else 503
    )


# config/urls.py mounts this module at /health/ (config imports no app).
urlpatterns = [path("", health, name="health")]
