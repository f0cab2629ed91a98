"""What integrations keeps of a person, scrubbed when the person is forgotten
(contacts.privacy.forget_person sends `person_forgotten`; contacts cannot import this app).

Import jobs hold people in their summary (the changes listed by row, old → new values, the
re-added contacts' emails, error messages quoting values) and in their error files (the failed
rows as they were). Summaries and messages get the placeholder instead of the person's email and
name; error files are written again without the person's rows (found by their Email column), or
deleted when nothing else is left or the file cannot be read. Accounts files name no people.
Uploads of jobs that have not finished are left alone: they go when the job ends.
"""

import io
import logging
from pathlib import PurePath

from django.core.files.base import ContentFile
from django.db import transaction
from django.dispatch import receiver

from contacts.privacy import person_forgotten

from .files import FileProblem, read_table, unneutralise, write_csv, write_xlsx
from .models import ImportJob
from .resources.base import header_key

logger = logging.getLogger(__name__)

EMAIL_HEADER = "email"
# The columns of a listed change that hold the person's own data, not the account's.
PERSONAL_COLUMNS = {"email", "first name", "last name", "title", "phone"}


@receiver(person_forgotten, dispatch_uid="integrations.scrub_import_history")
def scrub_import_history(sender, *, traces, placeholder, **kwargs):
    """Returns {what: how many} for the record of the forgetting."""
    summaries = error_files = deleted_files = 0
    jobs = ImportJob.objects.filter(kind=ImportJob.Kind.USERS).only(
        "pk", "file_name", "summary", "message", "error_file"
    )
    for job in jobs.iterator():
        summary, message = _scrub_summary(job.summary, traces), traces.scrub(job.message)
        if summary != job.summary or message != job.message:
            ImportJob.objects.filter(pk=job.pk).update(summary=summary, message=message)
            summaries += 1
        if job.error_file:
            outcome = _rewrite_error_file(job, traces)
            error_files += outcome == "rewritten"
            deleted_files += outcome == "deleted"
    return {
        "import job summaries rewritten": summaries,
        "error files rewritten": error_files,
        "error files deleted": deleted_files,
    }


def _scrub_summary(summary, traces):
    """A listed change of the person's row (its label names their email) loses its personal
    values; then every string left is scrubbed of their email and name."""
    summary = dict(summary or {})
    if "changes" in summary:
        summary["changes"] = [_scrub_row(row, traces) for row in summary["changes"]]
    return traces.scrub_json(summary)


def _scrub_row(row, traces):
    if not traces.pattern.search(str(row.get("label", ""))):
        return row
    return {
        **row,
        "changes": [
            [column, traces.placeholder, traces.placeholder]
            if str(column).strip().lower() in PERSONAL_COLUMNS
            else [column, old, new]
            for column, old, new in row.get("changes", [])
        ],
    }


def _rewrite_error_file(job, traces):
    """'rewritten', 'deleted' or None (the person is not in it)."""
    try:
        with job.error_file.open("rb") as file:
            table = read_table(file)
            headers = list(table.headers)
            column = [header_key(h) for h in headers].index(header_key(EMAIL_HEADER))
            rows = [values for _line, values in table.rows]
    except (FileProblem, ValueError, OSError):
        # Unreadable, or without an Email column: it cannot be checked, so it cannot stay.
        logger.warning("Error file of import job %s deleted: it could not be checked", job.pk)
        _replace_error_file(job, None)
        return "deleted"
    kept = [values for values in rows if not traces.has_email(_cell(values, column))]
    if len(kept) == len(rows):
        return None
    if not kept:
        _replace_error_file(job, None)
        return "deleted"
    out = io.BytesIO()
    name = PurePath(job.error_file.name).name
    if name.lower().endswith(".xlsx"):
        write_xlsx(headers, kept, out, title="Errors")
    else:
        # Read back as the file holds them, the cells keep the apostrophe that guards a formula
        # character; write_csv adds it again.
        write_csv(headers, [[unneutralise(value) for value in values] for values in kept], out)
    _replace_error_file(job, ContentFile(out.getvalue(), name=name))
    return "rewritten"


def _cell(values, index):
    return values[index] if index < len(values) else ""


def _replace_error_file(job, content):
    """Point the job at the new file (or none) now, and remove the old one once the
    forgetting is committed: rolled back, the job still has its file."""
    old_name = job.error_file.name
    storage = job.error_file.storage
    if content is None:
        job.error_file = ""
    else:
        job.error_file.save(content.name, content, save=False)
    ImportJob.objects.filter(pk=job.pk).update(error_file=job.error_file.name or "")
    transaction.on_commit(lambda: storage.delete(old_name))
