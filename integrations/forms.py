from django import forms
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import ngettext

from .models import ImportJob


class UploadForm(forms.Form):
    """Choose the kind of file and upload it. Only the size is checked here, as the upload
    streams in (integrations.uploads): the file is stored and every other check (format,
    encoding, columns, the limits of integrations.files, each row) is the preview's, in the
    background, so that no file keeps the request busy however it is built."""

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

    def clean_file(self):
        return check_upload_size(self.cleaned_data["file"])


def check_upload_size(upload):
    """The upload, or ValidationError (code "too_large") past INTEGRATIONS_MAX_UPLOAD_SIZE. The
    upload handler counted it whole but kept none of it then."""
    limit = settings.INTEGRATIONS_MAX_UPLOAD_SIZE
    if upload is not None and upload.size > limit:
        raise ValidationError(
            "This file is %(size)s; files up to %(limit)s can be imported. Split it into "
            "smaller files.",
            code="too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
        )
    return upload


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
    # The preview the page showed (ImportJob.preview_number): confirming a preview that the
    # file's mapping or encoding has changed since is refused.
    preview = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, job, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preview"].initial = job.preview_number
        skip_errors, keep_removed = self.fields["skip_errors"], self.fields["keep_removed"]
        valid_rows = job.new_rows + job.updated_rows + job.unchanged_rows
        # Without a valid row, skipping the rows with errors would skip them all: no choice.
        if job.failed_rows and valid_rows:
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
