"""A real worker (`manage.py worker`) killed in the middle of an import, with the real scheduler
(`manage.py crontask`) beside it: the job and its task record are marked failed, the data is as
it was, and a fresh worker runs what is queued next. And the two of them running an integration
job on its schedule, as in production."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.db import connection
from django_tasks_db.models import DBTaskResult

from contacts.models import Person
from integrations import services
from integrations.health import check_health
from integrations.models import ImportJob
from integrations.tasks import run_import_file
from tests.integrations.conftest import users_csv

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="on SQLite a running import holds the only write lock, so nothing reports while "
        "it runs; the worker's process is tested on PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]

BASE_DIR = Path(django_settings.BASE_DIR)
# Seconds of silence after which the subprocesses count a worker or job as stopped: small, so
# that the test takes seconds, but with room for a busy shared machine; they report four times
# as often.
STALE_AFTER = 6
BIG_FILE_ROWS = 40_000


def wait_for(what, condition, *, deadline=90, processes=()):
    """Poll `condition` until it is true; fail after `deadline` seconds (a generous bound on a
    shared machine, not a measure)."""
    give_up = time.monotonic() + deadline
    while not condition():
        for process in processes:
            assert process.poll() is None, f"{process.args[2]} exited while waiting for {what}"
        assert time.monotonic() < give_up, f"still waiting for {what} after {deadline} s"
        time.sleep(0.05)


@pytest.fixture
def background(tmp_path, settings):
    """Start `manage.py` subprocesses on the test database, with the uploads in a folder they
    share with this test; stopped (or killed) when the test ends."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "INTEGRATIONS_JOB_STALE_AFTER": str(STALE_AFTER),
        "INTEGRATIONS_CHUNK_SIZE": "500",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "LOG_LEVEL": "WARNING",
    }
    started = []

    def start(*command, **more_env):
        log = (tmp_path / f"{command[0]}-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "manage.py", *command],
            cwd=BASE_DIR,
            env={**env, **more_env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # Shown with a failure: what the processes said.
    for log in sorted(tmp_path.glob("*.log")):
        print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")


def confirmed_import(rows, name):
    """A users import confirmed after its preview (as the integrations page leaves it), its run
    queued for a worker."""
    job = ImportJob(
        kind=ImportJob.Kind.USERS, file_name=name, status=ImportJob.Status.READY, rows_total=rows
    )
    text = users_csv(
        *(f"PARIS,{name}-{index}@example.com,Ada,Lovelace,,,,yes," for index in range(rows))
    )
    job.upload.save(name, ContentFile(text.encode()), save=False)
    job.save()
    return services.confirm_import_job(job=job, skip_errors=False, keep_removed=True, by=None)


def test_a_worker_killed_mid_import_fails_its_job_and_task_and_a_new_worker_goes_on(
    tree, background
):
    people_before = Person.objects.count()
    worker = background("worker", "--no-reload", "--no-startup-delay", "--interval", "0.1")
    scheduler = background("crontask", "--no-heartbeat")
    job = confirmed_import(BIG_FILE_ROWS, "big")

    def running_midway():
        job.refresh_from_db()
        assert job.status in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING), job.message
        return job.status == ImportJob.Status.RUNNING and job.rows_done > 0

    wait_for("the import to be midway", running_midway, processes=[worker, scheduler])
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()

    def failed():
        job.refresh_from_db()
        return job.status == ImportJob.Status.FAILED

    wait_for("the job to be marked failed", failed, processes=[scheduler])

    assert job.message == ImportJob.STOPPED_MESSAGE
    assert 0 < job.rows_done < BIG_FILE_ROWS
    assert Person.objects.count() == people_before
    assert job.upload.name == ""
    task = DBTaskResult.objects.get(task_path=run_import_file.module_path)
    assert (task.status, task.exception_class_path) == (
        "FAILED",
        "integrations.services.WorkerStopped",
    )
    assert "Nothing was changed" in task.traceback

    # A fresh worker takes what is queued next, and reports; the scheduler reports too.
    next_job = confirmed_import(3, "next")
    fresh = background("worker", "--no-reload", "--no-startup-delay", "--interval", "0.1")

    def succeeded():
        next_job.refresh_from_db()
        return next_job.status == ImportJob.Status.SUCCEEDED

    wait_for("the next job to run", succeeded, processes=[fresh, scheduler])
    assert Person.objects.count() == people_before + 3
    wait_for(
        "the fresh worker and the scheduler to report",
        lambda: check_health() == {"database": "ok", "worker": "ok", "scheduler": "ok"},
        processes=[fresh, scheduler],
    )


def test_the_scheduler_and_a_worker_import_a_dropped_file_once(tree, background, tmp_path):
    """SPEC §4.6 as deployed: the scheduler's tick queues the due run, a worker takes it from
    the database queue and imports the file dropped in the folder; the next ticks do not
    import it again."""
    from datetime import timedelta

    from django.utils import timezone

    from integrations.models import IntegrationJob, SyncRun

    drop = tmp_path / "sync" / "drop"
    drop.mkdir(parents=True)
    (drop / "users-1.csv").write_text(
        users_csv("PARIS,dropped@example.com,Drop,Ped,,,,yes,no"), encoding="utf-8"
    )
    roots = {"SYNC_FOLDER_ROOTS": str(tmp_path / "sync"), "SYNC_TICK_SECONDS": "1"}
    job = IntegrationJob.objects.create(
        name="Drop folder",
        direction="in",
        place="folder",
        location=str(drop / "users-*.csv"),
        schedule="* * * * *",
        next_run_at=timezone.now() - timedelta(seconds=1),
    )
    processes = [
        background("worker", "--no-reload", "--no-startup-delay", "--interval", "0.1", **roots),
        background("crontask", "--no-heartbeat", **roots),
    ]

    def finished():
        run = job.runs.first()
        return run is not None and not run.under_way

    wait_for("the scheduled run to end", finished, processes=processes)
    run = job.runs.get()
    assert (run.trigger, run.status) == (SyncRun.Trigger.SCHEDULE, SyncRun.Status.SUCCEEDED), (
        run.message
    )
    assert Person.objects.filter(email="dropped@example.com").count() == 1
    # The next run (at the next minute) would find nothing new; run it now to see.
    job.refresh_from_db()
    IntegrationJob.objects.filter(pk=job.pk).update(next_run_at=timezone.now())
    wait_for("a second run", lambda: job.runs.count() == 2 and finished(), processes=processes)
    assert job.runs.first().status == SyncRun.Status.NOTHING_NEW
