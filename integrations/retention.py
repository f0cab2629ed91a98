"""How long files of people data are kept: the purge that the scheduler runs daily
(tasks.purge_expired_files, or `manage.py purge_expired_files`).

- An import's upload and error file go INTEGRATIONS_FILE_RETENTION_DAYS (90) days after the
  job was created; the job record stays, and its page says that the error file was deleted. An
  upload is normally removed when its job ends: one still kept that long is a preview nobody
  confirmed, and its job is cancelled.
- The Django admin's import keeps its upload between the preview and the confirmation only:
  kept a day, it is gone.
- A file in the import folders that no job names (a job deleted in the admin, a request that
  died between storing a file and saving its job) goes after a day too: younger, it may belong
  to a job being saved right now. An error file that a forgetting set aside for its rewrite
  (integrations.privacy) is named by its job meanwhile.

Works on any storage backend: it asks default_storage to list folders and date files only.
"""

import contextlib
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone

from .admin import SharedTmpStorage
from .models import ImportJob
from .privacy import SET_ASIDE

ADMIN_UPLOADS = SharedTmpStorage().MEDIA_FOLDER
JOB_FOLDERS = ("integrations/uploads", "integrations/errors")
# Age past which a file nobody names is no longer in the middle of being saved.
UNCLAIMED_AFTER = timedelta(days=1)


@dataclass
class Purged:
    """How many files (and jobs) one purge deleted (cancelled)."""

    uploads: int = 0
    error_files: int = 0
    admin_uploads: int = 0
    orphans: int = 0
    cancelled_jobs: int = 0

    def as_dict(self):
        return asdict(self)

    def __str__(self):
        return (
            f"Deleted {self.uploads} upload(s), {self.error_files} error file(s), "
            f"{self.admin_uploads} admin import file(s) and {self.orphans} file(s) no job "
            f"named; cancelled {self.cancelled_jobs} preview(s) never confirmed."
        )


# A preview waiting for its confirmation, or a file for its mapping: past the period, cancelled.
WAITING_FOR_A_PERSON = (ImportJob.Status.READY, ImportJob.Status.MAPPING)


def purge_expired_files(*, now=None):
    """Delete the files kept past their time (see the module's docstring).

    Side effects: deletes files in default_storage; clears the jobs' upload and error_file
    (stamping error_file_deleted_at); cancels previews kept past the period. Returns Purged.
    """
    now = now or timezone.now()
    days = settings.INTEGRATIONS_FILE_RETENTION_DAYS
    cutoff = now - timedelta(days=days)
    purged = Purged()
    expired = ImportJob.objects.filter(created_at__lt=cutoff)

    for job in expired.exclude(upload="").only("pk", "status", "upload"):
        if job.status in WAITING_FOR_A_PERSON:
            cancelled = ImportJob.objects.filter(pk=job.pk, status=job.status).update(
                status=ImportJob.Status.CANCELLED,
                finished_at=now,
                message=f"Not confirmed within {days} days: the file was deleted and nothing "
                "was imported.",
            )
            if not cancelled:
                # Confirmed (or cancelled) since it was read: a worker is about to run it, or
                # the cancelling removed the file already.
                continue
            purged.cancelled_jobs += 1
        elif job.status in ImportJob.IN_PROGRESS:
            continue  # a worker may be reading it; a stopped one's job is failed elsewhere
        _delete(job.upload.name)
        ImportJob.objects.filter(pk=job.pk).update(upload="")
        purged.uploads += 1

    for job in expired.exclude(error_file="").only("pk", "error_file"):
        _delete(job.error_file.name)
        ImportJob.objects.filter(pk=job.pk).update(error_file="", error_file_deleted_at=now)
        purged.error_files += 1

    # An error file set aside by a forgetting, waiting for its rewrite, goes as well: the
    # rewrite, finding the job's record of it gone, leaves the job alone.
    for pk, summary in expired.filter(summary__has_key=SET_ASIDE).values_list("pk", "summary"):
        _delete(summary[SET_ASIDE]["file"])
        rest = {key: value for key, value in summary.items() if key != SET_ASIDE}
        ImportJob.objects.filter(pk=pk).update(summary=rest, error_file_deleted_at=now)
        purged.error_files += 1

    unclaimed_before = now - UNCLAIMED_AFTER
    for name, modified in _files_under(ADMIN_UPLOADS):
        if modified is not None and modified < unclaimed_before:
            _delete(name)
            purged.admin_uploads += 1

    named = _names_of_job_files()
    for folder in JOB_FOLDERS:
        for name, modified in _files_under(folder):
            if name not in named and modified is not None and modified < unclaimed_before:
                _delete(name)
                purged.orphans += 1
    return purged


def _names_of_job_files():
    """The files jobs name: uploads, error files, and error files set aside by a forgetting
    until they are written again (integrations.privacy)."""
    names = set()
    jobs = ImportJob.objects.filter(~Q(upload="") | ~Q(error_file=""))
    for upload, error_file in jobs.values_list("upload", "error_file").iterator():
        names.update(name for name in (upload, error_file) if name)
    set_aside = ImportJob.objects.filter(summary__has_key=SET_ASIDE)
    names.update(
        summary[SET_ASIDE]["file"] for summary in set_aside.values_list("summary", flat=True)
    )
    return names


def _files_under(folder):
    """(name, modified time or None when the backend cannot tell) of every file below
    `folder`, at any depth."""
    try:
        folders, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for file in files:
        name = f"{folder}/{file}"
        try:
            modified = default_storage.get_modified_time(name)
        except (NotImplementedError, FileNotFoundError):
            modified = None
        yield name, modified
    for sub in folders:
        yield from _files_under(f"{folder}/{sub}")


def _delete(name):
    # Gone already is what was wanted.
    with contextlib.suppress(FileNotFoundError):
        default_storage.delete(name)
