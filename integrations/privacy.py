"""What integrations keeps of a person, scrubbed when the person is forgotten
(contacts.privacy.forget_person sends `person_forgotten`; contacts cannot import this app).

Import jobs hold people in their summary (the changes listed by row, old → new values, the
re-added contacts' emails, error messages quoting values) and in their error files (the failed
rows as they were). Summaries and messages get the placeholder instead of the person's email and
name, in the forgetting's transaction. Error files are not opened there: there can be hundreds,
and the request would time out. Each users job's error file is set aside instead (the job no
longer names it, so no page serves it, and its summary says which file and whose rows to drop),
and a background task (tasks.rewrite_set_aside_error_files) writes it again without those rows
(found by their Email column), or deletes it when nothing else is left or it cannot be read.
Accounts files name no people. Uploads of jobs that have not finished are left alone: they go
when the job ends.

The set-aside record names the forgotten people by a keyed digest of their email
(email_digest), never by the email: the person is gone the moment the forgetting commits.
"""

import io
import logging
from collections import Counter
from pathlib import PurePath

from django.core.files.base import ContentFile
from django.db import transaction
from django.dispatch import receiver
from django.utils.crypto import salted_hmac

from contacts.privacy import person_forgotten

from .files import FileProblem, read_table, unneutralise, write_csv, write_xlsx
from .mapping import source_names
from .models import ImportJob
from .resources.base import header_key

logger = logging.getLogger(__name__)

EMAIL_HEADER = "email"
# The columns of a listed change that hold the person's own data, not the account's.
PERSONAL_COLUMNS = {"email", "first name", "last name", "title", "phone"}
# The key of a job's summary that holds its error file while it waits to be written again:
# {"file": its name in the storage, "drop": [email_digest of each forgotten person]}.
SET_ASIDE = "error_file_set_aside"


def email_digest(email):
    """A keyed digest of an email as a users file gives it (any case, spaces around): it
    finds the person's rows without keeping their email."""
    normalised = str(email or "").strip().lower()
    return salted_hmac(
        "integrations.privacy.forgotten-email", normalised, algorithm="sha256"
    ).hexdigest()


@receiver(person_forgotten, dispatch_uid="integrations.scrub_import_history")
def scrub_import_history(sender, *, traces, placeholder, **kwargs):
    """Inside the forgetting's transaction: the summaries and messages scrubbed, the error
    files set aside and their rewrite enqueued (in the same transaction: the database queue
    never has one without the other). Opens no file. Returns {what: how many} for the record
    of the forgetting."""
    from .tasks import rewrite_set_aside_error_files

    digest = email_digest(traces.email)
    summaries = set_aside = 0
    jobs = ImportJob.objects.filter(kind=ImportJob.Kind.USERS).only(
        "pk", "summary", "message", "error_file", "mapping"
    )
    for job in jobs.iterator():
        old_summary = dict(job.summary or {})
        waiting = old_summary.pop(SET_ASIDE, None)
        summary, message = _scrub_summary(old_summary, traces), traces.scrub(job.message)
        changed = {}
        if summary != old_summary or message != job.message:
            changed.update(summary=summary, message=message)
            summaries += 1
        if waiting is not None:
            # Set aside by an earlier forgetting, not written again yet: one rewrite drops both.
            waiting = {**waiting, "drop": sorted({*waiting["drop"], digest})}
        elif job.error_file:
            waiting = {"file": job.error_file.name, "drop": [digest], "email": _email_column(job)}
            changed["error_file"] = ""
        if waiting is not None:
            set_aside += 1
            changed["summary"] = {**summary, SET_ASIDE: waiting}
        if changed:
            ImportJob.objects.filter(pk=job.pk).update(**changed)
    if set_aside:
        rewrite_set_aside_error_files.enqueue()
    return {
        "import job summaries rewritten": summaries,
        "error files set aside to rewrite": set_aside,
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


# The rewrite, in the background


def rewrite_set_aside_error_files():
    """Write each set-aside error file again without the forgotten people's rows, and give it
    back to its job; delete it when nothing else is left or it cannot be read. A job set aside
    again meanwhile (another forgetting) is left to that forgetting's own rewrite.

    Side effects: new files in the storage, the old ones deleted once the job no longer names
    them; the jobs' error_file and summary. Returns {"rewritten", "unchanged", "deleted",
    "left for a later rewrite": how many}."""
    counts = Counter()
    waiting = ImportJob.objects.filter(summary__has_key=SET_ASIDE).values_list(
        "pk", f"summary__{SET_ASIDE}"
    )
    for pk, set_aside in list(waiting):
        outcome, content = _without_rows_of(
            set_aside["file"], set(set_aside["drop"]), set_aside.get("email", EMAIL_HEADER)
        )
        counts[_give_back(pk, set_aside, outcome, content)] += 1
    return {what: counts[what] for what in ("rewritten", "unchanged", "deleted", "left for later")}


def _email_column(job):
    """The column of the job's error file that holds the email: a mapped file's rows are in it
    as the file had them, under the file's own header (integrations.mapping)."""
    source = ((job.mapping or {}).get("columns") or {}).get("Email")
    return source or EMAIL_HEADER


def _without_rows_of(name, digests, email_column=EMAIL_HEADER):
    """('unchanged', None), ('rewritten', the new file's content) or ('deleted', None)."""
    storage = _storage()
    try:
        with storage.open(name, "rb") as file:
            table = read_table(file)
            headers = list(table.headers)
            column = [header_key(h) for h in source_names(headers)].index(header_key(email_column))
            rows = [values for _line, values in table.rows]
    except (FileProblem, ValueError, OSError):
        # Unreadable, gone, or without an Email column: it cannot be checked, so it cannot stay.
        logger.warning("Error file %s deleted: it could not be checked", name)
        return "deleted", None
    kept = [values for values in rows if email_digest(_cell(values, column)) not in digests]
    if len(kept) == len(rows):
        return "unchanged", None
    if not kept:
        return "deleted", None
    out = io.BytesIO()
    file_name = PurePath(name).name
    if file_name.lower().endswith(".xlsx"):
        write_xlsx(headers, kept, out, title="Errors")
    else:
        # Read back as the file holds them, the cells keep the apostrophe that guards a formula
        # character; write_csv adds it again.
        write_csv(headers, [[unneutralise(value) for value in values] for values in kept], out)
    return "rewritten", ContentFile(out.getvalue(), name=file_name)


def _give_back(pk, set_aside, outcome, content):
    """Point the job at its error file again (the new one, the same one, or none), unless it
    was set aside again or deleted meanwhile; remove what no job names once that is
    committed. Returns what happened."""
    old_name = set_aside["file"]
    new_name = ""
    if content is not None:
        holder = ImportJob(pk=pk)
        holder.error_file.save(content.name, content, save=False)
        new_name = holder.error_file.name
    storage = _storage()
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=pk).only("summary").first()
        if job is None or (job.summary or {}).get(SET_ASIDE) != set_aside:
            if new_name:
                storage.delete(new_name)
            if job is None:
                transaction.on_commit(lambda: storage.delete(old_name))
                return "deleted"
            return "left for later"
        summary = {key: value for key, value in job.summary.items() if key != SET_ASIDE}
        kept_name = old_name if outcome == "unchanged" else new_name
        ImportJob.objects.filter(pk=pk).update(summary=summary, error_file=kept_name)
        if outcome != "unchanged":
            transaction.on_commit(lambda: storage.delete(old_name))
    return outcome


def _storage():
    return ImportJob._meta.get_field("error_file").storage


def _cell(values, index):
    return values[index] if index < len(values) else ""
