"""/health/ for load balancers and monitors: the database, a task worker and the scheduler.

One query (the live reports of the background processes), no session, no sign-in, over http
too (SECURE_REDIRECT_EXEMPT). 200 when all is well, 503 naming what is not.

Written here rather than with django-health-check: its view runs each check in a thread pool
of an async view, and its database check opens a connection per probe; the two checks this app
needs (a worker and the scheduler reporting) are custom either way.
"""

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .models import Heartbeat, stale_after

logger = logging.getLogger(__name__)

OK = "ok"


def check_health():
    """{"database": …, "worker": …, "scheduler": …}, each "ok" or what is wrong."""
    try:
        alive = set(Heartbeat.objects.alive().values_list("role", flat=True).distinct())
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


@login_not_required
@require_safe
@never_cache
def health(request):
    checks = check_health()
    healthy = all(state == OK for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", "checks": checks}, status=200 if healthy else 503
    )


# config/urls.py mounts this module at /health/ (config imports no app).
urlpatterns = [path("", health, name="health")]
