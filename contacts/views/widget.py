"""The Contacts widget's download: the list it shows, every matching row, as a CSV or XLSX file
(the widget itself is drawn by the account page, accounts/views.py, with contacts/widget.py)."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from accounts.models import Account
from config import staff

from .. import exports, privacy
from ..models import DownloadRecord
from ..widget import download_columns, download_description, matching_contacts

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@require_GET
@permission_required(staff.CAN_DOWNLOAD_SEGMENTS, raise_exception=True)
def widget_download(request, account_pk, file_format):
    """Every contact the widget's filters select (View, Roles, Search, key only, former), in
    its order, as a file named after the account and the day; recorded in the download audit
    as the People list's downloads are, with the rows written."""
    account = get_object_or_404(Account.objects.select_related("account_type"), pk=account_pk)
    memberships = matching_contacts(request.GET, account).select_related(
        "person", "role", "account__account_type"
    )
    columns = download_columns(request.GET)
    download = privacy.record_download(
        kind=DownloadRecord.Kind.PEOPLE_LIST,
        by=request.user,
        filters=download_description(request.GET, account),
        file_format=file_format,
    )
    filename = (
        f"contacts-{slugify(account.name) or 'account'}-{slugify(account.external_id)}-"
        f"{timezone.localdate().isoformat()}.{file_format}"
    )
    if file_format == "csv":
        body = exports.csv_chunks(memberships, columns, download=download)
    else:
        body = exports.xlsx_file(memberships, columns, download=download)
    return exports.download(body, filename=filename, content_type=CONTENT_TYPES[file_format])
