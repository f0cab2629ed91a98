"""integrations/retention.py: the files of people data kept past their time are deleted (the
daily purge_expired_files task and command), on the InMemoryStorage the tests use."""

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from integrations import tasks
from integrations.models import ImportJob
from integrations.privacy import SET_ASIDE
from integrations.retention import purge_expired_files
from tests.integrations.conftest import users_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_storage(settings):
    """A fresh in-memory storage: the purge walks whole folders."""
    settings.STORAGES = {**settings.STORAGES}
    settings.INTEGRATIONS_FILE_RETENTION_DAYS = 90


def _job(status=ImportJob.Status.SUCCEEDED, *, upload=False, error_file=True, days_ago=0):
    job = ImportJob(kind=ImportJob.Kind.USERS, file_name="people.csv", status=status)
    if upload:
        job.upload.save("people.csv", ContentFile(b"Account ID,Email\n"), save=False)
    if error_file:
        job.error_file.save("people-errors.csv", ContentFile(b"Email,Error\n"), save=False)
    job.save()
    created = timezone.now() - timedelta(days=days_ago)
    ImportJob.objects.filter(pk=job.pk).update(created_at=created)
    return job


def _later(days=0, hours=0):
    return timezone.now() + timedelta(days=days, hours=hours)


def _files():
    found = []

    def walk(folder):
        if not default_storage.exists(folder):
            return
        folders, files = default_storage.listdir(folder)
        found.extend(f"{folder}/{name}" for name in files)
        for sub in folders:
            walk(f"{folder}/{sub}")

    walk("integrations")
    return sorted(found)


def test_error_files_past_the_period_are_deleted_and_the_jobs_kept():
    old = _job(days_ago=91)
    young = _job(days_ago=89)
    old_file = old.error_file.name

    purged = purge_expired_files()

    old.refresh_from_db()
    young.refresh_from_db()
    assert (old.error_file.name, old.status) == ("", ImportJob.Status.SUCCEEDED)
    assert old.error_file_deleted_at is not None
    assert (young.error_file.name != "", young.error_file_deleted_at) == (True, None)
    assert _files() == [young.error_file.name]
    assert old_file not in _files()
    assert purged.as_dict() == {
        "uploads": 0,
        "error_files": 1,
        "admin_uploads": 0,
        "orphans": 0,
        "cancelled_jobs": 0,
    }


def test_the_period_is_a_setting(settings):
    settings.INTEGRATIONS_FILE_RETENTION_DAYS = 7
    job = _job(days_ago=8)

    purge_expired_files()

    job.refresh_from_db()
    assert job.error_file.name == ""


def test_the_job_page_says_the_error_file_was_deleted(advanced_client, tree):
    file = io.BytesIO(
        users_csv("PARIS,ada@example.com,Ada,L,,,,,", "NOPE,bob@example.com,Bob,B,,,,,").encode()
    )
    file.name = "people.csv"
    advanced_client.post("/integrations/", {"kind": "users", "file": file})
    job = ImportJob.objects.get()
    advanced_client.post(
        f"/integrations/jobs/{job.pk}/confirm/", {"keep_removed": "on", "skip_errors": "on"}
    )
    assert "Download the error file" in advanced_client.get(job.get_absolute_url()).text

    purge_expired_files(now=_later(days=91))

    page = advanced_client.get(job.get_absolute_url()).text
    day = timezone.localdate(_later(days=91))
    assert "Download the error file" not in page
    assert f"Error file deleted on {day.day} {day:%b} {day.year}, after 90 days" in page
    assert advanced_client.get(f"/integrations/jobs/{job.pk}/errors/").status_code == 404


@pytest.mark.parametrize("status", [ImportJob.Status.READY, ImportJob.Status.MAPPING])
def test_a_preview_never_confirmed_is_cancelled_and_its_upload_deleted(status):
    job = _job(status, upload=True, error_file=False, days_ago=91)

    purged = purge_expired_files()

    job.refresh_from_db()
    assert (job.status, job.upload.name, _files()) == (ImportJob.Status.CANCELLED, "", [])
    assert job.message == (
        "Not confirmed within 90 days: the file was deleted and nothing was imported."
    )
    assert (purged.uploads, purged.cancelled_jobs) == (1, 1)


def test_a_running_jobs_upload_is_left_alone():
    job = _job(ImportJob.Status.RUNNING, upload=True, error_file=False, days_ago=91)

    purge_expired_files()

    job.refresh_from_db()
    assert (job.status, _files()) == (ImportJob.Status.RUNNING, [job.upload.name])


def test_admin_import_files_go_after_a_day():
    name = default_storage.save("integrations/admin-uploads/abc123", ContentFile(b"x"))

    kept = purge_expired_files(now=_later(hours=23))
    assert (kept.admin_uploads, _files()) == (0, [name])

    purged = purge_expired_files(now=_later(hours=25))
    assert (purged.admin_uploads, _files()) == (1, [])


def test_files_no_job_names_go_after_a_day():
    job = _job()
    orphan = default_storage.save("integrations/uploads/2026/01/lost.csv", ContentFile(b"x"))
    error_orphan = default_storage.save("integrations/errors/lost-errors.csv", ContentFile(b"x"))

    young = purge_expired_files(now=_later(hours=23))
    assert young.orphans == 0
    assert _files() == sorted([job.error_file.name, orphan, error_orphan])

    purged = purge_expired_files(now=_later(hours=25))
    assert purged.orphans == 2
    assert _files() == [job.error_file.name]


def test_an_empty_storage_is_nothing_to_do():
    assert purge_expired_files().as_dict() == dict.fromkeys(
        ["uploads", "error_files", "admin_uploads", "orphans", "cancelled_jobs"], 0
    )


def test_a_file_deleted_already_is_not_an_error():
    job = _job(days_ago=91)
    default_storage.delete(job.error_file.name)

    purged = purge_expired_files()

    job.refresh_from_db()
    assert (purged.error_files, job.error_file.name) == (1, "")


def test_the_command_says_what_it_deleted():
    _job(days_ago=91)
    out = io.StringIO()

    call_command("purge_expired_files", stdout=out)

    assert out.getvalue() == (
        "Deleted 0 upload(s), 1 error file(s), 0 admin import file(s) and 0 file(s) no job "
        "named; cancelled 0 preview(s) never confirmed.\n"
    )


def test_the_task_returns_the_counts():
    _job(days_ago=91)

    result = tasks.purge_expired_files.enqueue()

    assert result.return_value == {
        "uploads": 0,
        "error_files": 1,
        "admin_uploads": 0,
        "orphans": 0,
        "cancelled_jobs": 0,
    }


def test_a_preview_confirmed_while_the_purge_runs_keeps_its_upload(monkeypatch):
    """The purge reads the jobs, then cancels each preview: one confirmed in between is the
    worker's now, and its file is what the worker will import."""
    from integrations import retention

    confirmed = _job(ImportJob.Status.READY, upload=True, error_file=False, days_ago=92)
    # Newer, so read first: while its upload is deleted, the preview is confirmed.
    _job(ImportJob.Status.FAILED, upload=True, error_file=False, days_ago=91)
    delete = retention._delete

    def delete_while_someone_confirms(name):
        ImportJob.objects.filter(pk=confirmed.pk).update(status=ImportJob.Status.PENDING)
        delete(name)

    monkeypatch.setattr(retention, "_delete", delete_while_someone_confirms)

    purged = purge_expired_files()

    confirmed.refresh_from_db()
    assert (confirmed.status, confirmed.message) == (ImportJob.Status.PENDING, "")
    assert _files() == [confirmed.upload.name]
    assert (purged.uploads, purged.cancelled_jobs) == (1, 0)


def _set_aside(job):
    """As "Forget this person" leaves an error file until its rewrite (integrations.privacy)."""
    name = job.error_file.name
    ImportJob.objects.filter(pk=job.pk).update(
        error_file="", summary={SET_ASIDE: {"file": name, "drop": ["0" * 64]}}
    )
    return name


def test_an_error_file_set_aside_for_its_rewrite_is_not_taken_for_a_lost_one():
    set_aside = _set_aside(_job(days_ago=1))

    purged = purge_expired_files(now=_later(days=2))

    assert (purged.orphans, _files()) == (0, [set_aside])


def test_an_error_file_set_aside_past_the_period_is_deleted():
    job = _job(days_ago=91)
    _set_aside(job)

    purged = purge_expired_files()

    job.refresh_from_db()
    assert (purged.error_files, _files(), job.summary) == (1, [], {})
    assert job.error_file_deleted_at is not None
