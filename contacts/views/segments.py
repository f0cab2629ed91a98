"""Saved people lists (segments): save, open, list, rename, delete."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from config import staff

from ..forms import PeopleFilterForm, SegmentForm, SegmentRenameForm
from ..models import Segment
from .people import render_people_list


@require_POST
@permission_required(staff.CAN_DOWNLOAD_SEGMENTS, raise_exception=True)
def segment_save(request):
    form = SegmentForm(request.POST)
    if not form.is_valid():
        # The list it was saving, with the form and its errors, so nothing typed is lost.
        return render_people_list(
            request, QueryDict(request.POST.get("query", "")), segment_form=form, status=400
        )
    filters = PeopleFilterForm(QueryDict(form.cleaned_data["query"])).filters
    segment = Segment.objects.create(
        owner=request.user,
        name=form.cleaned_data["name"],
        shared=form.cleaned_data["shared"],
        query=form.cleaned_data["query"],
        account_label=(
            f"{filters['account'].name} ({filters['account'].external_id})"
            if filters["account"]
            else ""
        ),
    )
    messages.success(request, f"Saved the segment “{segment.name}”.")
    return redirect(segment)


@require_GET
def segment_open(request, pk):
    segment = get_object_or_404(Segment.objects.visible_to(request.user), pk=pk)
    query = QueryDict(segment.query, mutable=True)
    query["segment"] = segment.pk
    return redirect(reverse("contacts:people") + "?" + query.urlencode())


@require_GET
def segment_list(request):
    """The segments a staff user sees, each as (segment, its rename form or None): the rows
    they may rename and delete (Segment.objects.editable_by) have a form."""
    segments = Segment.objects.visible_to(request.user).select_related("owner")
    can_save = request.user.has_perm(staff.CAN_DOWNLOAD_SEGMENTS)
    rows = [
        (
            segment,
            SegmentRenameForm(segment=segment)
            if can_save
            # Asked only for someone else's row: a list of one's own segments needs no query.
            and (segment.owner_id == request.user.pk or staff.is_global_admin(request.user))
            else None,
        )
        for segment in segments
    ]
    return render(
        request, "contacts/segment_list.html", {"segment_rows": rows, "can_save": can_save}
    )


@require_POST
@permission_required(staff.CAN_DOWNLOAD_SEGMENTS, raise_exception=True)
def segment_rename(request, pk):
    segment = get_object_or_404(Segment.objects.editable_by(request.user), pk=pk)
    form = SegmentRenameForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["name"]))
    else:
        segment.name = name = form.cleaned_data["name"]
        segment.save(update_fields=["name", "updated_at"])
        messages.success(request, f"Renamed the segment to “{name}”.")
    return redirect("contacts:segments")


@require_POST
@permission_required(staff.CAN_DOWNLOAD_SEGMENTS, raise_exception=True)
def segment_delete(request, pk):
    segment = get_object_or_404(Segment.objects.editable_by(request.user), pk=pk)
    segment.delete()
    messages.success(request, f"Deleted the segment “{segment.name}”.")
    return redirect("contacts:segments")
