"""Background tasks (Django's Tasks API; the database worker `manage.py db_worker` runs them).

Each takes the job's id, as task arguments must be JSON; the work is in integrations.services.
A worker that takes a job first marks failed the jobs of workers that stopped (killed,
restarted) without finishing: the pages only read them as failed.
"""

from django.tasks import task

from . import services
from .models import ImportJob


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
def purge_expired_files():
    """The daily retention purge (integrations.retention): uploads and error files kept past
    INTEGRATIONS_FILE_RETENTION_DAYS, the admin import's leftovers and files no job names.
    Returns how many of each were deleted."""
    from .retention import purge_expired_files as purge

    return purge().as_dict()
