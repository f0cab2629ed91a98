import io
import json
from pathlib import PurePath

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.lists import paginate
from config.staff import CAN_RUN_INTEGRATIONS, CAN_UNDO_IMPORTS
from contacts import exports
from contacts.models import DownloadRecord
from contacts.privacy import record_download

from . import services
from .forms import ConfirmForm, ExportForm, UploadForm
from .mapping import MappingProblem, mapped_sample, mapping_outlook
from .mapping_forms import ENCODING_CHOICES, MappingForm, TemplateEditForm, TemplateUploadForm
from .models import ImportJob, IntegrationJob, MappingTemplate
from .undo import undo_refusal

JOBS_PER_PAGE = 25

can_run_integrations = permission_required(CAN_RUN_INTEGRATIONS, raise_exception=True)


def _get_job(pk):
    return get_object_or_404(
        ImportJob.objects.select_related(
            "staff_user", "sync_run__integration_job", "undoes"
        ).with_undo_state(),
        pk=pk,
    )


@can_run_integrations
@require_http_methods(["GET", "POST"])
def index(request):
    """Upload a file (stored at once; its check and preview follow on the job page), export
    users, and the history."""
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and form.is_valid():
        job = services.start_import_job(
            kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], by=request.user
        )
        return redirect(job)
    # With the integration job whose run made it, if one did (its history says so).
    page = paginate(
        request.GET,
        ImportJob.objects.select_related("staff_user", "sync_run__integration_job")
        .with_undone_by()
        .order_by("-created_at", "-pk"),
        default_size=JOBS_PER_PAGE,
    )
    now = timezone.now()
    for job in page:
        job.show_stale_as_failed(now)
    return render(
        request,
        "integrations/index.html",
        {
            "form": form,
            "kinds": [
                (choice, services.RESOURCES[choice.data["value"]].columns())
                for choice in form["kind"]
            ],
            "export_form": ExportForm(),
            "page": page,
            "failing": IntegrationJob.objects.failing(),
        },
        status=400 if form.is_bound else 200,
    )


@can_run_integrations
@require_GET
def job_detail(request, pk):
    """A job's progress (polled with htmx while it runs), preview with the confirm form, or
    outcome. The page can be left and opened again at any time."""
    job = _get_job(pk).show_stale_as_failed()
    context = {"job": job, "summary": job.summary, "confirm_form": ConfirmForm(job=job)}
    return _job_page(request, context)


def _job_page(request, context, status=200):
    context["encodings"] = ENCODING_CHOICES
    job = context["job"]
    if job.status == ImportJob.Status.SUCCEEDED and request.user.has_perm(CAN_UNDO_IMPORTS):
        # From the job's query (ImportJob.objects.with_undo_state): no query of its own.
        context["undoable"] = undo_refusal(job) is None
    if job.status == ImportJob.Status.READY:
        # The import button says what the choices on the form, as they are, would do.
        skip_errors = context["confirm_form"]["skip_errors"].value()
        context["outcome"] = job.preview_outcome(skip_errors=bool(skip_errors))
    template = "integrations/job_detail.html"
    if request.htmx and not request.htmx.history_restore_request:
        fragment = "confirm-actions" if request.htmx.target == "confirm-actions" else "job-status"
        template = f"{template}#{fragment}"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@can_run_integrations
@require_POST
def job_confirm(request, pk):
    job = _get_job(pk)
    form = ConfirmForm(request.POST, job=job)
    if "show" in request.POST:
        # A choice changed (with htmx) or "Show" pressed (without JavaScript): the import
        # button is drawn again for it; nothing is confirmed.
        return _job_page(request, {"job": job, "summary": job.summary, "confirm_form": form})
    if form.is_valid():
        try:
            services.confirm_import_job(
                job=job,
                skip_errors=form.cleaned_data["skip_errors"],
                keep_removed=form.cleaned_data["keep_removed"],
                by=request.user,
                preview=form.cleaned_data["preview"],
            )
        except ValidationError as error:
            if error.code != "has_errors":
                # Confirmed twice, or cancelled meanwhile: the job page says what it is now.
                messages.error(request, " ".join(error.messages))
                return redirect(job)
            form.add_error(None, error)
        else:
            return redirect(job)
    job.refresh_from_db()
    return _job_page(request, {"job": job, "summary": job.summary, "confirm_form": form}, 400)


@can_run_integrations
@require_POST
def job_cancel(request, pk):
    job = _get_job(pk)
    try:
        services.cancel_import_job(job=job, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(job)
    messages.success(request, f"The import of {job.file_name} was cancelled; nothing changed.")
    return redirect("integrations:index")


@can_run_integrations
@require_GET
def job_errors(request, pk):
    """The error file: the failed rows as they were, with an Error column. Recorded in the
    download audit: its rows are people's (the job's failed rows)."""
    job = _get_job(pk)
    if not job.error_file and job.summary.get("error_file_set_aside"):
        messages.info(
            request,
            "The error file is being rewritten without the rows of a person who asked to be "
            "forgotten; try again in a moment.",
        )
        return redirect(job)
    if not job.error_file:
        raise Http404("This import has no error file.")
    extension = PurePath(job.error_file.name).suffix
    name = f"{PurePath(job.file_name).stem or 'import'}-errors{extension}"
    response = FileResponse(job.error_file.open("rb"), as_attachment=True, filename=name)
    record_download(
        kind=DownloadRecord.Kind.IMPORT_ERRORS,
        by=request.user,
        filters=f"Import job #{job.pk}: {job.file_name} ({job.get_kind_display()})",
        file_format=extension.lstrip(".").lower(),
        row_count=job.failed_rows,
    )
    return response


@can_run_integrations
@require_POST
def export(request):
    """Download all users, or contacts only, in the users file format. A POST: each export is
    recorded (the re-add guard counts from it), which a link followed from elsewhere must not
    do."""
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose which rows and which format to export.")
        return redirect("integrations:index")
    contacts_only = form.cleaned_data["who"] == "contacts"
    download = record_download(
        kind=DownloadRecord.Kind.USERS_FILE,
        by=request.user,
        filters="Contacts only" if contacts_only else "All users",
        file_format=form.cleaned_data["file_format"],
    )
    name, content_type, body = services.export_users(
        contacts_only=contacts_only,
        file_format=form.cleaned_data["file_format"],
        by=request.user,
        download=download,
    )
    return exports.download(body, filename=name, content_type=content_type)


# Mapping a foreign file, and the mapping templates


@can_run_integrations
@require_http_methods(["GET", "POST"])
def job_mapping(request, pk):
    """Map the columns of a file whose header is not the standard one. With htmx, a change
    re-draws the sample, the counts and the value maps without saving; the submit button
    saves (without JavaScript, "Show" re-draws)."""
    job = _get_job(pk)
    if job.status not in (ImportJob.Status.MAPPING, ImportJob.Status.READY) or not (
        job.analysis.get("headers")
    ):
        messages.info(request, "This import does not wait for a column mapping.")
        return redirect(job)
    # The template the page starts from: chosen above the form (GET), then carried by it.
    template_id = request.POST.get("template") or request.GET.get("template") or ""
    template = None
    if template_id.isascii() and template_id.isdecimal():
        template = MappingTemplate.objects.filter(pk=template_id, file_kind=job.kind).first()
    if template is not None and request.method == "GET":
        try:
            template.as_mapping().check_fits(job.analysis["headers"])
        except MappingProblem as problem:
            messages.error(request, problem.message)
    mapping, doubtful = services.first_mapping(job, template=template)
    form_options = {
        "file_kind": job.kind,
        "analysis": {**job.analysis, "file_name": job.file_name},
        "mapping": mapping,
        "choices_of": services.our_values,
    }
    status = 200
    if request.method == "POST":
        form = MappingForm(request.POST, **form_options)
        redraw = request.htmx or "show" in request.POST
        if form.is_valid() and not redraw:
            try:
                services.map_import_job(
                    job=job,
                    mapping=form.cleaned_data["mapping"],
                    by=request.user,
                    save_as=form.cleaned_data["save_as"].strip(),
                    replace=form.cleaned_data["replace"],
                    template=template,
                )
            except ValidationError as error:
                if error.code == "not_mapping":
                    messages.error(request, " ".join(error.messages))
                    return redirect(job)
                form.add_error("save_as", error)
            else:
                return redirect(job)
        if form.is_valid():
            mapping = form.cleaned_data["mapping"]
        elif not redraw:
            status = 400
    else:
        form = MappingForm(**form_options)
    outlook = mapping_outlook(mapping, job.analysis, services.our_values)
    context = {
        "job": job,
        "form": form,
        "column_rows": [
            (target, source, constant, doubtful.get(target), outlook.get(target))
            for target, source, constant in form.rows()
        ],
        "templates": MappingTemplate.objects.filter(file_kind=job.kind),
        "chosen_template": template or job.mapping_template,
        "sample": mapped_sample(mapping, job.analysis),
        "unused": mapping.unused_headers(job.analysis["headers"]),
    }
    response = render(request, "integrations/mapping.html", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@can_run_integrations
@require_POST
def job_encoding(request, pk):
    """Check a previewed file again in the encoding chosen."""
    job = _get_job(pk)
    encoding = request.POST.get("encoding", "")
    if encoding not in dict(ENCODING_CHOICES):
        messages.error(request, "Choose one of the encodings listed.")
        return redirect(job)
    try:
        services.reread_import_job(job=job, encoding=encoding)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(job)


@can_run_integrations
@require_POST
def job_remap(request, pk):
    job = _get_job(pk)
    try:
        services.remap_import_job(job=job)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(job)


@can_run_integrations
@require_http_methods(["GET", "POST"])
def mapping_list(request):
    """The saved mapping templates; import one from its JSON file."""
    form = TemplateUploadForm()
    status = 200
    if request.method == "POST":
        form = TemplateUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                template = services.save_template(
                    mapping=form.cleaned_data["mapping"],
                    by=request.user,
                    replace=form.cleaned_data["replace"],
                )
            except ValidationError as error:
                form.add_error("file", error)
            else:
                messages.success(request, f"The mapping template “{template.name}” was saved.")
                return redirect("integrations:mappings")
        status = 400
    templates = MappingTemplate.objects.select_related("updated_by")
    return render(
        request,
        "integrations/mapping_list.html",
        {"templates": templates, "form": form},
        status=status,
    )


@can_run_integrations
@require_http_methods(["GET", "POST"])
def mapping_detail(request, pk):
    """A template: its rules, its JSON (download), rename or delete it."""
    template = get_object_or_404(MappingTemplate.objects.select_related("updated_by"), pk=pk)
    form = TemplateEditForm(request.POST or None, template=template)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_template(
                mapping=form.cleaned_data["mapping"], by=request.user, template=template
            )
        except ValidationError as error:
            form.add_error("name", error)
        else:
            messages.success(request, f"The mapping template “{template.name}” was saved.")
            return redirect(template)
    try:
        mapping, problem = template.as_mapping(), ""
    except MappingProblem as error:
        mapping, problem = None, error.message
    return render(
        request,
        "integrations/mapping_detail.html",
        {"template": template, "mapping": mapping, "problem": problem, "form": form},
        status=400 if form.is_bound else 200,
    )


@can_run_integrations
@require_http_methods(["GET", "POST"])
def mapping_delete(request, pk):
    """Delete a template, after a confirmation that says what uses it."""
    template = get_object_or_404(MappingTemplate, pk=pk)
    if request.method == "POST":
        template.delete()
        messages.success(request, f"The mapping template “{template.name}” was deleted.")
        return redirect("integrations:mappings")
    return render(
        request,
        "integrations/mapping_delete.html",
        {"template": template, "job_count": template.import_jobs.count()},
    )


@can_run_integrations
@require_GET
def mapping_download(request, pk):
    template = get_object_or_404(MappingTemplate, pk=pk)
    # As it is, even when it no longer passes the rules: to be fixed and imported again.
    text = json.dumps(template.as_dict_for_editing(), indent=2, ensure_ascii=False) + "\n"
    return exports.download(
        io.BytesIO(text.encode("utf-8")),
        filename=f"{slugify(template.name) or 'mapping'}.json",
        content_type="application/json",
    )
