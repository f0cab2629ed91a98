"""The pages of integration jobs (SPEC §4.6): the list, a job's settings and runs, its form,
Run now, Test connection and delete. For staff users who manage integration jobs (Advanced
users and Global admins); secrets are set only by Global admins (integrations.sync_forms)."""

from pathlib import PurePosixPath

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.lists import paginate
from config.staff import CAN_MANAGE_INTEGRATION_JOBS

from . import syncs
from .models import IntegrationJob, SyncRun
from .places import PlaceError, fetch_host_key, host_key_fingerprint, open_place
from .secrets import SecretUnreadable
from .sync_forms import SECRETS, IntegrationJobForm, schedule_words

RUNS_PER_PAGE = 25
# Hidden from error reports (Django's 500 page in DEBUG, the mails and logs of an error).
SECRET_FIELDS = [f"secret_{name}" for name, _, _ in SECRETS]

can_manage_integration_jobs = permission_required(CAN_MANAGE_INTEGRATION_JOBS, raise_exception=True)


def _get_integration_job(pk):
    return get_object_or_404(
        IntegrationJob.objects.select_related("mapping_template", "segment", "created_by"), pk=pk
    )


def _runs():
    return SyncRun.objects.select_related("staff_user", "import_job", "users_export")


@can_manage_integration_jobs
@require_GET
def sync_list(request):
    """Every integration job with its last run: two queries however many jobs and runs
    (the jobs with the id of their last run, then those runs with their import jobs)."""
    last_run = SyncRun.objects.filter(integration_job=OuterRef("pk")).order_by("-created_at", "-pk")
    jobs = list(
        IntegrationJob.objects.select_related("mapping_template", "segment").annotate(
            last_run_id=Subquery(last_run.values("pk")[:1])
        )
    )
    runs = _runs().in_bulk([job.last_run_id for job in jobs if job.last_run_id])
    for job in jobs:
        job.last_run = runs.get(job.last_run_id)
    _name_files(runs.values())
    return render(
        request,
        "integrations/sync_list.html",
        {
            "jobs": jobs,
            "failing": [job for job in jobs if _is_failing(job)],
        },
    )


def _name_files(runs):
    """A run's file by its name alone: the job's location says where."""
    for run in runs:
        run.file_label = PurePosixPath(run.file_name).name or run.file_name


def _is_failing(job):
    return job.failures_in_a_row >= settings.SYNC_FAILURE_ALERT_AFTER


@can_manage_integration_jobs
@require_GET
def sync_detail(request, pk):
    """A job's settings and its runs; while a run is under way, htmx polls the runs."""
    job = _get_integration_job(pk)
    page = paginate(request.GET, _runs().filter(integration_job=job), default_size=RUNS_PER_PAGE)
    _name_files(page)
    polling = any(run.under_way for run in page)
    wants_fragment = request.htmx and not request.htmx.history_restore_request
    template = "integrations/sync_detail.html"
    if wants_fragment:
        response = render(request, f"{template}#sync-runs", {"page": page, "polling": polling})
        if not polling:
            # The run it followed has ended: the whole page (its alert, its messages) is news.
            response["HX-Refresh"] = "true"
    else:
        saved, unreadable = job.saved_secrets()
        context = {
            "job": job,
            "page": page,
            "failing": _is_failing(job),
            "polling": polling,
            "secrets": [
                (label, name in saved)
                for name, label, _ in SECRETS
                if name in IntegrationJob.SECRET_NAMES[IntegrationJob.Place(job.place)]
            ],
            "unreadable": unreadable,
            "host_key": _fingerprint(job.options.get("host_key", "")),
        }
        response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _fingerprint(host_key):
    if not host_key:
        return ""
    try:
        return host_key_fingerprint(host_key)
    except (PlaceError, ValueError):
        return "A key that cannot be read: paste it again"


@sensitive_post_parameters(*SECRET_FIELDS)
@can_manage_integration_jobs
@require_http_methods(["GET", "POST"])
def sync_new(request):
    return _edit(request, IntegrationJob())


@sensitive_post_parameters(*SECRET_FIELDS)
@can_manage_integration_jobs
@require_http_methods(["GET", "POST"])
def sync_edit(request, pk):
    return _edit(request, _get_integration_job(pk))


def _edit(request, job):
    adding = job.pk is None
    form = IntegrationJobForm(
        request.POST if request.method == "POST" else None, instance=job, staff_user=request.user
    )
    if request.method == "POST" and form.is_valid():
        job = form.save()
        messages.success(
            request, f"The integration job “{job}” was {'added' if adding else 'saved'}."
        )
        if form.secrets_removed:
            messages.warning(
                request,
                "Its saved secrets were removed: they were set for another server. A Global "
                "admin sets them again.",
            )
        return redirect(job)
    preset, expression = form["schedule_preset"].value(), form["schedule"].value()
    return render(
        request,
        "integrations/sync_form.html",
        {
            "form": form,
            "job": job,
            "adding": adding,
            "schedule": schedule_words(preset, expression),
        },
        status=400 if form.is_bound else 200,
    )


@can_manage_integration_jobs
@require_GET
def sync_schedule(request):
    """The schedule in words (or why it is not one), live under the form's schedule fields."""
    preset = request.GET.get("schedule_preset", "")
    expression = request.GET.get("schedule", "")[:200]
    return render(
        request,
        "integrations/includes/sync_schedule_words.html",
        {"schedule": schedule_words(preset, expression)},
    )


@can_manage_integration_jobs
@require_POST
def sync_host_key(request):
    """The host key an SFTP server presents, for the form's host key field (with htmx: that
    field alone; the person compares its fingerprint with the one the server's owner gives)."""
    location = request.POST.get("location", "").strip()[:1000]
    key, problem, widget = "", "", ""
    try:
        key = fetch_host_key(location)
    except ValidationError as error:
        problem = " ".join(error.messages)
    except PlaceError as error:
        problem = str(error)
    if key:
        form = IntegrationJobForm(initial={"host_key": key}, staff_user=request.user)
        widget = form["host_key"].as_widget(attrs={"hx-swap-oob": "true"})
    return render(
        request,
        "integrations/includes/sync_host_key.html",
        {"key": key, "fingerprint": _fingerprint(key), "problem": problem, "widget": widget},
    )


@can_manage_integration_jobs
@require_POST
def sync_run(request, pk):
    job = _get_integration_job(pk)
    try:
        run = syncs.start_run(job, trigger=SyncRun.Trigger.RUN_NOW, by=request.user)
    except syncs.RunUnderWay as error:
        messages.error(request, " ".join(error.messages))
    else:
        if run.under_way:
            messages.success(request, f"“{job}” is running: its runs below follow it.")
        else:
            messages.success(request, f"“{job}” ran: {run.get_status_display().lower()}.")
    return redirect(job)


@can_manage_integration_jobs
@require_POST
def sync_check(request, pk):
    """Test connection: connect to the place and list what it would take, changing nothing."""
    job = _get_integration_job(pk)
    try:
        with open_place(
            kind=job.place,
            location=job.location,
            direction=job.direction,
            secrets=job.secrets(),
            options=job.options,
        ) as place:
            found = place.check()
    except (PlaceError, SecretUnreadable) as problem:
        messages.error(request, f"The connection failed: {problem}")
    else:
        messages.success(request, found)
    return redirect(job)


@can_manage_integration_jobs
@require_http_methods(["GET", "POST"])
def sync_delete(request, pk):
    """Delete a job after a confirmation: its runs go with it, the import jobs they made stay in
    the import history."""
    job = _get_integration_job(pk)
    under_way = job.runs.under_way().exists()
    if request.method == "POST":
        if under_way:
            messages.error(request, f"“{job}” is running: delete it once the run has ended.")
            return redirect(job)
        job.delete()
        messages.success(request, f"The integration job “{job}” was deleted.")
        return redirect("integrations:syncs")
    return render(
        request,
        "integrations/sync_delete.html",
        {
            "job": job,
            "under_way": under_way,
            "run_count": job.runs.count(),
            "import_count": job.runs.exclude(import_job=None).count(),
        },
    )
