from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

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
        kwargs.setdefault("label_suffix", "")
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
    skip_errors = forms.BooleanField(
        label="Import the valid rows and skip the rows with errors",
        required=False,
    )
    keep_removed = forms.BooleanField(
        label="Keep these contacts removed",
        required=False,
        initial=True,
    )


class ExportForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

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
