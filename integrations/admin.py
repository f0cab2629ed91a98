import io
from uuid import uuid4

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import IGNORED_PARAMS
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.shortcuts import redirect
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import Format
from import_export.forms import ExportForm, ImportForm
from import_export.tmp_storages import MediaStorage

from contacts.admin import MembershipAdmin, PersonAdmin
from contacts.models import DownloadRecord, Membership, Person
from contacts.privacy import record_download

from . import syncs
from .files import (
    CSV_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    FileProblem,
    write_csv,
    write_xlsx,
)
from .forms import check_upload_size
from .journal import undo_counts
from .mapping import Mapping, MappingProblem
from .models import ImportJob, IntegrationJob, MappingTemplate, SyncRun, UsersExport
from .resources import UsersResource
from .resources.users_writes import refuse_to_wait
from .services import open_table
from .sync_forms import IntegrationJobAdminForm


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["file_name", "kind", "status", "staff_user", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["staff_user"]
    search_fields = ["file_name"]
    readonly_fields = [
        "kind",
        "file_name",
        "status",
        "staff_user",
        "created_at",
        "started_at",
        "finished_at",
        "file_size",
        "skip_errors",
        "keep_removed",
        "new_rows",
        "updated_rows",
        "unchanged_rows",
        "failed_rows",
        "message",
        "error_file",
        "undoes",
        "restore_conflicts",
        "undone_by_jobs",
        "record_counts",
    ]
    exclude = ["upload", "summary", "heartbeat_at", "rows_total", "rows_done"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="undone by")
    def undone_by_jobs(self, job):
        """Its undo jobs (those that succeeded, failed or wait), newest first."""
        undos = job.undone_by.order_by("-pk")
        return ", ".join(f"#{undo.pk} ({undo.get_status_display()})" for undo in undos) or "—"

    @admin.display(description="records kept (for undo)")
    def record_counts(self, job):
        return undo_counts(job)


# The import and export buttons of people and memberships, with the same resource, file
# reading and formula guard as the integrations page. contacts.admin knows nothing of files:
# this app, which loads after it, registers its people and membership admins again with the
# buttons added.


class _IntegrationFormat(Format):
    """A file format of the admin's import and export forms that reads as the integrations
    page does (any delimiter, BOM or not, line numbers kept) and writes with the formula guard.
    Binary, so the bytes arrive undecoded and UTF-16 or binary files get their own message."""

    title = ""
    extension = ""
    content_type = ""

    def __init__(self, encoding=None):
        # The admin passes the encoding it would decode text formats with; these read bytes.
        self.encoding = encoding

    def get_title(self):
        return self.title

    def get_extension(self):
        return self.extension

    def get_content_type(self):
        return self.content_type

    def can_import(self):
        return True

    def can_export(self):
        return True

    def create_dataset(self, in_stream):
        data = in_stream.encode("utf-8") if isinstance(in_stream, str) else in_stream
        # With the way to read it again: a mapping that keeps the last of repeated rows does.
        return open_table(io.BytesIO(data))

    def export_data(self, dataset, **kwargs):
        out = io.BytesIO()
        self.write(dataset.headers, dataset, out)
        return out.getvalue()


class CSVFile(_IntegrationFormat):
    title, extension, content_type = "csv", "csv", CSV_CONTENT_TYPE
    write = staticmethod(write_csv)


class XLSXFile(_IntegrationFormat):
    title, extension, content_type = "xlsx", "xlsx", XLSX_CONTENT_TYPE
    write = staticmethod(write_xlsx)


class SharedTmpStorage(MediaStorage):
    """The admin keeps an upload between its preview and the confirmation in the default
    storage, so that any app server can finish what another one started."""

    def __init__(self, **kwargs):
        super().__init__(MEDIA_FOLDER="integrations/admin-uploads", **kwargs)

    def _configure_storage(self):
        self._storage = default_storage

    def save_upload(self, upload):
        """Store an upload chunk by chunk (MediaStorage.save takes the whole file as bytes)."""
        self.name = self.name or uuid4().hex
        self._storage.save(self.get_full_path(), upload)


class UploadImportForm(ImportForm):
    """The admin's import form, with the integrations page's size limit."""

    def clean_import_file(self):
        return check_upload_size(self.cleaned_data["import_file"])


class _InRequest:
    """The progress of an import the admin runs inside its request: nobody watches it (the
    page shows the outcome), and it must not wait for another users import (refuse_to_wait)."""

    def __call__(self, rows_done, *, force=False):
        pass

    waiting = staticmethod(refuse_to_wait)


class UsersFileAdminMixin(ImportExportMixin):
    """Import and export buttons that read and write the users file through UsersResource:
    all or nothing, the changes recorded as ContactChanges (source "import") by the staff
    user, removed contacts kept removed (the re-add guard's safe choice)."""

    resource_classes = [UsersResource]
    formats = [CSVFile, XLSXFile]
    import_form_class = UploadImportForm
    export_form_class = ExportForm
    tmp_storage_class = SharedTmpStorage
    # Every change of a contact, key contact or role is in the contact history already.
    skip_admin_log = True

    def get_import_resource_kwargs(self, request, **kwargs):
        # A confirmed import is a job of its own (made by the run that writes), listed in the
        # history with its records, so that it can be undone like any other.
        data = getattr(kwargs.get("form"), "cleaned_data", None) or {}
        name = data.get("original_file_name") or "users file"
        return {
            "by": request.user,
            "keep_removed": True,
            "progress": _InRequest(),
            "job_file_name": f"{name} (Django admin)",
        }

    def process_result(self, result, request):
        """The confirmed import's outcome. A run that stopped on a problem of the whole file
        (another users import running, the file changed since the preview) wrote nothing:
        say why on the import page, where the library would say "Import finished"."""
        if result.file_problems():
            for problem in result.file_problems():
                messages.error(request, problem)
            opts = self.model._meta
            return redirect(f"admin:{opts.app_label}_{opts.model_name}_import")
        return super().process_result(result, request)

    def get_export_resource_kwargs(self, request, **kwargs):
        return {}

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.pop("request", None)
        return {**kwargs, "rollback_on_validation_errors": True}

    def get_export_data(self, file_format, request, queryset, **kwargs):
        """import-export's own, which also records the download in the audit: the admin's
        list filters and search (or the rows picked for the export action), and the rows."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        dataset = self.get_data_for_export(request, queryset, force_native_type=False, **kwargs)
        data = file_format.export_data(dataset)
        record_download(
            kind=DownloadRecord.Kind.ADMIN_EXPORT,
            channel=DownloadRecord.Channel.ADMIN,
            by=request.user,
            filters=self._export_filters(request, kwargs.get("export_form")),
            file_format=file_format.get_extension(),
            row_count=len(dataset),
        )
        return data

    def _export_filters(self, request, export_form):
        """The admin list's search and filters an export came from, in words."""
        words = [f"{self.model._meta.verbose_name_plural.capitalize()} (memberships)"]
        params = request.GET.copy()
        if search := params.pop("q", [""])[0]:
            words.append(f"Search: “{search}”")
        for key, values in sorted(params.lists()):
            if key not in {*IGNORED_PARAMS, "p", "e", "_changelist_filters"}:
                words.append(f"{key}: {', '.join(values)}")
        picked = export_form.cleaned_data.get("export_items") if export_form else None
        if picked:
            words.append(f"{len(picked):,} picked in the list")
        elif len(words) == 1:
            words.append("everyone")
        return "; ".join(words)

    def write_to_tmp_storage(self, import_file, input_format):
        # The library gathers the upload with `data += chunk`, which copies it again for every
        # 64 KB chunk: minutes for a file near the size limit. The storage streams it instead.
        tmp_storage = self.get_tmp_storage_class()(
            read_mode=input_format.get_read_mode(), **self.get_tmp_storage_class_kwargs()
        )
        tmp_storage.save_upload(import_file)
        return tmp_storage

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, FileProblem):
            form.add_error("import_file", e.message)
        else:
            super().add_data_read_fail_error_to_form(form, e)


admin.site.unregister(Person)
admin.site.unregister(Membership)


@admin.register(Person)
class PersonFileAdmin(UsersFileAdminMixin, PersonAdmin):
    pass


@admin.register(Membership)
class MembershipFileAdmin(UsersFileAdminMixin, MembershipAdmin):
    pass


@admin.register(UsersExport)
class UsersExportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "staff_user", "contacts_only", "file_format"]
    list_filter = ["contacts_only", "file_format"]
    list_select_related = ["staff_user"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MappingTemplateForm(forms.ModelForm):
    """The admin's template form: its rules pass the checks of SPEC §4.5 before it is saved."""

    class Meta:
        model = MappingTemplate
        fields = ["name", "file_kind", "definition", "headers"]

    def clean(self):
        data = super().clean()
        definition = data.get("definition")
        if isinstance(definition, dict) and data.get("file_kind"):
            try:
                Mapping.from_dict(
                    {**definition, "name": data.get("name", ""), "file": data["file_kind"]}
                )
            except MappingProblem as problem:
                self.add_error("definition", problem.message)
        elif definition is not None and not isinstance(definition, dict):
            self.add_error("definition", "The rules must be a JSON object ({…}).")
        return data


@admin.register(MappingTemplate)
class MappingTemplateAdmin(admin.ModelAdmin):
    form = MappingTemplateForm
    list_display = ["name", "file_kind", "updated_at", "updated_by"]
    list_filter = ["file_kind"]
    list_select_related = ["updated_by"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "updated_at", "updated_by"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


# Integration jobs. Secrets are never shown here (their encrypted column is not a field of the
# form, so neither a page nor a change message of the history can name them): the admin says
# which are set, and a job's page sets them.


@admin.register(IntegrationJob)
class IntegrationJobAdmin(admin.ModelAdmin):
    form = IntegrationJobAdminForm
    list_display = [
        "name",
        "direction",
        "place",
        "location",
        "schedule_words",
        "enabled",
        "next_run_at",
        "failures_in_a_row",
    ]
    list_filter = ["direction", "place", "enabled"]
    search_fields = ["name", "location"]
    readonly_fields = [
        "secrets_set",
        "next_run_at",
        "failures_in_a_row",
        "created_by",
        "created_at",
        "updated_at",
    ]
    exclude = ["encrypted_secrets"]

    @admin.display(description="schedule")
    def schedule_words(self, job):
        return job.schedule_in_words()

    @admin.display(description="secrets")
    def secrets_set(self, job):
        names, unreadable = job.saved_secrets()
        if unreadable:
            return "They can no longer be read (the keys changed): set them again."
        words = ", ".join(names) or "none"
        return f"Set: {words}. Only their names are shown; the job's page sets them."

    def save_model(self, request, obj, form, change):
        syncs.plan(obj)
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    """The runs, read only: the scheduler, Run now and the command line make them."""

    list_display = [
        "integration_job",
        "created_at",
        "trigger",
        "staff_user",
        "status",
        "file_name",
        "rows_written",
    ]
    list_filter = ["status", "trigger"]
    list_select_related = ["integration_job", "staff_user"]
    search_fields = ["integration_job__name", "file_name"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
