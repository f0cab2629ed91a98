"""The people pages: a person's page and its edit form, the /people/ list and its downloads."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods

from config import staff
from config.lists import CountsUpTo, paginate

from .. import exports, privacy, services
from ..exports import COLUMNS
from ..forms import (
    PeopleFilterForm,
    PersonForm,
    SegmentForm,
    is_an_id,
)
from ..models import DownloadRecord, Person, Segment, Task, Touchpoint
from ..timeline import TIMELINE_CHANGES, latest_changes, person_timeline

HISTORY_ROWS = 50  # the person page's table of the latest contact changes


@require_GET
def person_detail(request, pk):
    person = get_object_or_404(Person, pk=pk)
    memberships = list(
        person.memberships.select_related("account__account_type", "role").order_by(
            "account__tree_id", "account__lft"
        )
    )
    # One read of the history for the timeline and the table of the latest changes.
    changes = latest_changes(person)
    tasks = (
        Task.objects.filter(contacts__person=person)
        .select_related("account", "owner")
        .distinct()
        .order_by(*Task._meta.ordering)
    )
    touchpoints = (
        Touchpoint.objects.filter(participants__person=person)
        .select_related("account", "author")
        .distinct()
        .order_by("-happened_at")[:50]
    )
    return render(
        request,
        "contacts/person_detail.html",
        {
            "person": person,
            "memberships": memberships,
            "changes": changes[:HISTORY_ROWS],
            "timeline": person_timeline(memberships, changes),
            "timeline_cap": TIMELINE_CHANGES,
            "tasks": tasks,
            "touchpoints": touchpoints,
            "can_edit_people": request.user.has_perm(staff.CAN_EDIT_PEOPLE),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(staff.CAN_EDIT_PEOPLE, raise_exception=True)
def person_edit(request, pk):
    person = get_object_or_404(Person, pk=pk)
    # The form gets its own copy: validating writes the submitted values onto its instance, and
    # the page keeps naming the person as saved.
    form = PersonForm(request.POST or None, instance=Person.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        services.update_person(person=person, by=request.user, **form.cleaned_data)
        messages.success(request, f"Saved {person.full_name}.")
        return redirect(person)
    return render(request, "contacts/person_edit.html", {"person": person, "form": form})


PEOPLE_PER_PAGE = 50


def _people_query(params, **changes):
    """The /people/ query string with some parameters replaced (None removes one)."""
    query = params.copy()
    query.pop("page", None)
    query.pop("segment", None)
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        elif isinstance(value, list):
            query.setlist(key, value)
        else:
            query[key] = value
    return query.urlencode()


def _people_url(params, **changes):
    """/people/ with the query `params`, some replaced (see _people_query). The whole path:
    the list is also drawn at the save-segment URL, when the form comes back with errors."""
    return reverse("contacts:people") + "?" + _people_query(params, **changes)


def _column_controls(params, columns):
    """Links that add, remove and move columns: plain GET links, so they work without JS."""
    chosen = []
    for index, key in enumerate(columns):

        def moved(offset, index=index):
            order = list(columns)
            order[index], order[index + offset] = order[index + offset], order[index]
            return _people_url(params, cols=order)

        chosen.append(
            {
                "key": key,
                "label": COLUMNS[key].label,
                "left_url": moved(-1) if index > 0 else None,
                "right_url": moved(1) if index < len(columns) - 1 else None,
                "remove_url": (
                    _people_url(params, cols=[k for k in columns if k != key])
                    if len(columns) > 1
                    else None
                ),
            }
        )
    available = [
        {
            "key": key,
            "label": column.label,
            "add_url": _people_url(params, cols=[*columns, key]),
        }
        for key, column in COLUMNS.items()
        if key not in columns
    ]
    return chosen, available


@require_GET
def people_list(request):
    return render_people_list(request, request.GET)


def render_people_list(request, params, *, segment_form=None, status=200):
    """The people list for the query `params`; `segment_form` is the save-segment form as
    submitted, when it came back with errors."""
    form = PeopleFilterForm(params)
    filters = form.filters
    page = paginate(
        params, form.memberships(), default_size=PEOPLE_PER_PAGE, paginator_class=CountsUpTo
    )
    columns = filters["columns"]
    chosen_columns, available_columns = _column_controls(params, columns)
    filter_query = _people_query(params)
    segment = None
    if is_an_id(segment_pk := params.get("segment", "")):
        segment = Segment.objects.visible_to(request.user).filter(pk=segment_pk).first()
    if segment and form.has_error("account") and segment.account_label:
        messages.warning(
            request,
            f"This segment was filtered on the account {segment.account_label}, which no longer "
            "exists. It shows the people of every account instead.",
        )
    sort_headers = form.sort_order.headers()
    links_missing = _links_missing(columns)
    return render(
        request,
        "contacts/people_list.html",
        {
            "form": form,
            "page": page,
            "rows": [
                {
                    "cells": [_cell(COLUMNS[key], membership) for key in columns],
                    "membership": membership,
                }
                for membership in page
            ],
            "columns": [
                {"column": COLUMNS[key], "header": sort_headers.get(key)} for key in columns
            ],
            "links_missing": links_missing,
            "sort": form.sort_order,
            "chosen_columns": chosen_columns,
            "available_columns": available_columns,
            "filter_query": filter_query,
            "params": params,
            "segment": segment,
            "segment_count": Segment.objects.visible_to(request.user).count(),
            "can_download": request.user.has_perm(staff.CAN_DOWNLOAD_SEGMENTS),
            "segment_form": segment_form or SegmentForm(initial={"query": filter_query}),
            "users_file_columns": exports.USERS_FILE_COLUMNS,
        },
        status=status,
    )


def _links_missing(columns):
    """Which of the row's pages no chosen column links to ({"person", "account"}): a last
    cell of the row links to them, so every row leads to its person and its account."""
    linked = {"person" if key == "name" else "account" for key in columns if COLUMNS[key].link}
    return {"person", "account"} - linked


def _cell(column, membership):
    """(text, link or None) of one cell of the People list."""
    return column.value(membership), column.link(membership) if column.link else None


@require_GET
@permission_required(staff.CAN_DOWNLOAD_SEGMENTS, raise_exception=True)
def people_download(request, file_format):
    """Everything the filters select, as a file; recorded in the download audit with the
    segment it came from (the links of an open segment name it) and the rows written."""
    form = PeopleFilterForm(request.GET)
    memberships, columns = form.memberships(), form.filters["columns"]
    filename = _download_name(form.filters, file_format)
    segment = None
    if is_an_id(segment_pk := request.GET.get("segment", "")):
        segment = Segment.objects.visible_to(request.user).filter(pk=segment_pk).first()
    download = privacy.record_download(
        kind=DownloadRecord.Kind.PEOPLE_LIST,
        by=request.user,
        filters=privacy.describe_people_filters(form.filters, segment=segment),
        file_format=file_format,
    )
    if file_format == "csv":
        return exports.download(
            exports.csv_chunks(memberships, columns, download=download),
            filename=filename,
            content_type="text/csv; charset=utf-8",
        )
    return exports.download(
        exports.xlsx_file(memberships, columns, download=download),
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _download_name(filters, file_format):
    """Says what the file holds and when: key-contacts-2026-11-26.csv, contacts-…, people-…"""
    if filters["key"] == "yes":
        what = "key-contacts"
    elif filters["contact"] == "yes":
        what = "contacts"
    else:
        what = "people"
    if filters["account"]:
        what += "-" + slugify(filters["account"].external_id)
    return f"{what}-{timezone.localdate().isoformat()}.{file_format}"
