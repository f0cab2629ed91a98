from django import forms
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import ngettext

from .files import FileProblem, read_table
from .models import ImportJob
from .services import RESOURCES


class UploadForm(forms.Form):
    """Choose the kind of file and upload it. The file is checked as a whole here (size first,
    then that it is CSV or XLSX with the columns its kind needs), so a file that cannot be
    imported at all is refused at once with one message; its rows are checked by the preview."""

    kind = forms.ChoiceField(
        label="Kind of file",
        choices=ImportJob.Kind.choices,
        initial=ImportJob.Kind.USERS,
        widget=forms.RadioSelect,
    )
    # Empty files are let through to get the same message as a file of blank lines.
    file = forms.FileField(label="File", allow_empty_file=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_size = settings.INTEGRATIONS_MAX_UPLOAD_SIZE
        file = self.fields["file"]
        file.help_text = (
            f"CSV (UTF-8; comma, semicolon or tab) or XLSX, up to {filesizeformat(self.max_size)}."
        )
        file.widget.attrs["accept"] = ".csv,.txt,.tsv,.xlsx"
        self.row_estimate = 0

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.max_size:
            raise ValidationError(
                "This file is %(size)s; files up to %(limit)s can be imported. Split it into "
                "smaller files.",
                code="too_large",
                params={
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(self.max_size),
                },
            )
        return upload

    def clean(self):
        cleaned = super().clean()
        upload, kind = cleaned.get("file"), cleaned.get("kind")
        if upload is None or kind is None:
            return cleaned
        try:
            table = read_table(upload)
            RESOURCES[kind]().match_headers(table.headers)
        except FileProblem as problem:
            self.add_error("file", ValidationError(problem.message, code=problem.code))
        else:
            self.row_estimate = table.row_estimate
        finally:
            upload.seek(0)
        return cleaned


class ConfirmForm(forms.Form):
    """Confirm a previewed import job. A choice the preview did not call for (no rows with
    errors, no removed contacts in the file) is a hidden field holding its default, so the page
    asks only what this file needs and the answer is the same as before the preview."""

    skip_errors = forms.BooleanField(
        required=False,
        help_text=(
            "Otherwise the file is imported all or nothing, and with errors that means nothing. "
            "The skipped rows are in the error file."
        ),
    )
    keep_removed = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, job, **kwargs):
        super().__init__(*args, **kwargs)
        skip_errors, keep_removed = self.fields["skip_errors"], self.fields["keep_removed"]
        if job.failed_rows:
            skip_errors.label = ngettext(
                "Import the valid rows and skip the %(count)s row with errors",
                "Import the valid rows and skip the %(count)s rows with errors",
                job.failed_rows,
            ) % {"count": intcomma(job.failed_rows)}
        else:
            skip_errors.widget = forms.HiddenInput()
        readd_count = job.summary.get("readd_count", 0)
        if readd_count:
            keep_removed.label = ngettext(
                "Keep the %(count)s removed contact removed",
                "Keep the %(count)s removed contacts removed",
                readd_count,
            ) % {"count": intcomma(readd_count)}
        else:
            keep_removed.widget = forms.HiddenInput()


class ExportForm(forms.Form):
    who = forms.ChoiceField(
        label="Rows",
        choices=[("all", "All users"), ("contacts", "Contacts only")],
        initial="all",
        widget=forms.RadioSelect,
    )
    file_format = forms.ChoiceField(
        label="Format",
        choices=[("csv", "CSV (UTF-8)"), ("xlsx", "Excel (XLSX)")],
        initial="csv",
    )
