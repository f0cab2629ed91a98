"""The undo measure of `manage.py bench`: each users import it measures, undone the way staff
undo it, beside the import (the bar: no longer than the import took)."""

import re
import statistics
import time

from django.urls import reverse

from ..models import ImportJob
from ..tasks import run_undo
from .figures import bar_figures, not_measured, percentile
from .imports import _run_queued

FINGERPRINT = re.compile(r'name="fingerprint" value="([0-9a-f]+)"')


def measure_undo(job, client):
    """The undo of the import just measured, as a staff user runs it: its preview page (which
    plans the whole undo), the confirmation posted, the undo job run as the worker runs it.
    Afterwards the data is as before the import. Returns the figures: seconds and counts."""
    url = reverse("integrations:job-undo", args=[job.pk])
    started = time.perf_counter()
    response = client.get(url)
    found = FINGERPRINT.search(response.content.decode())
    if response.status_code != 200 or found is None:
        raise RuntimeError(f"The undo preview answered {response.status_code}.")
    preview_s = time.perf_counter() - started
    response = client.post(url, {"fingerprint": found[1]})
    if response.status_code != 302:
        raise RuntimeError(f"The undo's confirmation answered {response.status_code}.")
    undo_job = ImportJob.objects.get(undoes=job)
    _run_queued(run_undo, undo_job)
    seconds = time.perf_counter() - started
    undo_job.refresh_from_db()
    if undo_job.status != ImportJob.Status.SUCCEEDED:
        raise RuntimeError(f"The undo ended {undo_job.status}: {undo_job.message}")
    return {
        "undo_s": seconds,
        "undo_preview_s": preview_s,
        "undo_deleted": sum(undo_job.summary["deleted"].values()),
        "undo_restored": undo_job.summary["restored_rows"],
    }


def undo_bar(column, ours, rows, import_median):
    """The bar of the undo, from the import runs' figures (measure_import with `undo`); "—"
    in a column (bench.sizes) without that bar."""
    name = f"Undo of the {rows:,}-row users import"
    if not column.has_undo_bar:
        return not_measured("users_import_undo", name, f"no such bar at {column.name}")
    seconds = [run["undo_s"] for run in ours]
    median = statistics.median(seconds)
    return {
        "key": "users_import_undo",
        "name": name,
        "median_s": median,
        "p95_s": percentile(seconds, 95),
        "preview_s": statistics.median(run["undo_preview_s"] for run in ours),
        "deleted": ours[-1]["undo_deleted"],
        "restored": ours[-1]["undo_restored"],
        "runs": len(ours),
        "over_import": median / import_median,
        **bar_figures(
            [(f"≤ the import's time (here {median / import_median:.0%})", median <= import_median)]
        ),
    }
