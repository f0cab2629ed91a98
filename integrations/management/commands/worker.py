import contextlib
import os

from django.db import DatabaseError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from integrations import heartbeat
from integrations.models import Heartbeat, heartbeat_interval


class Command(db_worker.Command):
    help = (
        "Run the background task worker: django-tasks-db's db_worker (same options), which also "
        "reports that it is alive every few seconds. /health/ reads the report, and the "
        "scheduler marks failed the jobs and tasks of a worker that stopped reporting."
    )

    def handle(self, *args, **options):
        # With --reload the first process only watches the files and runs the worker in a
        # child: the child reports.
        if options["reload"] and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            return super().handle(*args, **options)
        name = Heartbeat.worker_name(options["worker_id"])
        pulse = heartbeat.Pulse(
            lambda: heartbeat.record(name, Heartbeat.Role.WORKER),
            interval=heartbeat_interval(),
            name="worker heartbeat",
        ).start()
        try:
            return super().handle(*args, **options)
        finally:
            pulse.stop()
            with contextlib.suppress(DatabaseError):  # else the report goes stale
                heartbeat.forget(name)
