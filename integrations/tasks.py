"""Background tasks (Django's Tasks API; the database worker `manage.py worker` runs them) and
what the scheduler (`manage.py crontask`, django-crontask) runs in its own process.

Each task takes the job's id, as task arguments must be JSON; the work is in
integrations.services. A worker that takes a job first marks failed the jobs of workers that
stopped (killed, restarted) without finishing; the scheduler does it every few seconds too, so
that it happens when no job comes, and when no worker is left.
"""

import logging
from datetime import UTC, datetime
from functools import wraps

from apscheduler.triggers.interval import IntervalTrigger
from crontask import cron, scheduler
from django.conf import settings
from django.db import close_old_connections
from django.tasks import task

from . import heartbeat, services
from .models import Heartbeat, ImportJob, heartbeat_interval, stale_after

logger = logging.getLogger(__name__)


@task()
def check_import_file(job_id):
    """The preview of an uploaded file (a dry run)."""
    services.fail_stale_jobs()
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is not None:
        services.check_import_job(job=job)


@task()
def run_import_file(job_id):
    """The confirmed import."""
    services.fail_stale_jobs()
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is not None:
        services.run_import_job(job=job)


@task()
def run_undo(job_id):
    """The confirmed undo of an import (integrations.undo_run), a job like an import."""
    from .undo_run import run_undo_job

    services.fail_stale_jobs()
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is not None:
        run_undo_job(job=job)


@task()
def run_integration_job(run_id):
    """A run of an integration job (integrations.syncs), queued by the scheduler or Run now."""
    from . import syncs
    from .models import SyncRun

    services.fail_stale_jobs()
    run = SyncRun.objects.filter(pk=run_id).select_related("integration_job").first()
    if run is not None:
        syncs.execute_run(run)


# Daily, at a quiet hour (UTC), on a worker.
@cron("17 3 * * *")
@task()
def purge_expired_files():
    """The daily retention purge (integrations.retention): uploads and error files kept past
    INTEGRATIONS_FILE_RETENTION_DAYS, the admin import's leftovers and files no job names.
    Returns how many of each were deleted."""
    from .retention import purge_expired_files as purge

    return purge().as_dict()


@task()
def rewrite_set_aside_error_files():
    """The error files that "Forget this person" set aside, written again without the
    forgotten people's rows (integrations.privacy). Enqueued by the forgetting; it takes no
    arguments, so that its record keeps nothing of the person. Returns how many of each
    outcome."""
    from .privacy import rewrite_set_aside_error_files as rewrite

    return rewrite()


# The scheduler's own work. Tasks that do the app's work (retention, syncs) go to the workers
# with crontask's @cron or, for integration jobs, the tick below; these run in the scheduler's
# process because they are about the workers themselves (failing the work of a dead worker
# cannot wait for a worker) or only decide what the workers do (which integration runs are
# due: one quick transaction every SYNC_TICK_SECONDS).


def _in_scheduler(function):
    """A scheduled call with fresh database connections (the scheduler runs for days)."""

    @wraps(function)
    def scheduled():
        close_old_connections()
        try:
            function()
        finally:
            close_old_connections()

    return scheduled


@_in_scheduler
def report_scheduler_alive():
    heartbeat.record("scheduler", Heartbeat.Role.SCHEDULER)


@_in_scheduler
def sweep_stopped_work():
    from . import syncs

    jobs, tasks = services.sweep_stopped_work()
    runs = syncs.fail_stopped_runs()
    if jobs or tasks or runs:
        logger.warning(
            "Marked failed the work of stopped workers: %s import jobs, %s tasks, %s "
            "integration runs",
            jobs,
            tasks,
            runs,
        )


@_in_scheduler
def start_due_integration_runs():
    """Queue the runs of integration jobs whose time has come (integrations.syncs)."""
    from . import syncs

    for run in syncs.start_due_runs():
        logger.info("Started run %s of the integration job %s", run.pk, run.integration_job)


def sweep_interval():
    """Twice per stale period, at most every 30 seconds: a stopped job is marked failed
    between `stale_after()` and one and a half times that after its last report."""
    return min(30.0, stale_after() / 2)


for function, seconds in [
    (report_scheduler_alive, heartbeat_interval()),
    (sweep_stopped_work, sweep_interval()),
    (start_due_integration_runs, settings.SYNC_TICK_SECONDS),
]:
    scheduler.add_job(
        function,
        IntervalTrigger(seconds=seconds),
        id=f"integrations.{function.__name__}",
        name=f"integrations.{function.__name__}",
        replace_existing=True,
        # Once as soon as the scheduler starts, however long after this import that is.
        next_run_time=datetime.now(UTC),
        misfire_grace_time=None,
        coalesce=True,
    )
