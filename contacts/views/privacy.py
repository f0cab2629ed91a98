"""The privacy pages, for Global admins (SPEC §5): the download audit, and "Forget this
person" (a confirmation page, then the POST that forgets)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from config.lists import paginate

from .. import privacy
from ..models import ContactChange, Person, Task, Touchpoint

CAN_SEE_DOWNLOAD_AUDIT = "contacts.see_download_audit"
CAN_FORGET_PEOPLE = "contacts.forget_person"
DOWNLOADS_PER_PAGE = 50


@require_GET
@permission_required(CAN_SEE_DOWNLOAD_AUDIT, raise_exception=True)
def download_list(request):
    """Every download of people data, newest first, optionally one staff user's."""
    form = privacy.DownloadFilterForm(request.GET)
    page = paginate(request.GET, form.records(), default_size=DOWNLOADS_PER_PAGE)
    return render(request, "contacts/download_list.html", {"form": form, "page": page})


@require_http_methods(["GET", "POST"])
@permission_required(CAN_FORGET_PEOPLE, raise_exception=True)
def person_forget(request, pk):
    """GET: what forgetting this person does, and the button. POST: forget them."""
    person = get_object_or_404(Person, pk=pk)
    if request.method == "POST":
        try:
            record = privacy.forget_person(person=person, by=request.user)
        except Person.DoesNotExist:
            # Forgotten by someone else since this page was drawn.
            messages.info(request, f"{privacy.placeholder(pk)} was forgotten already.")
            return redirect("contacts:people")
        messages.success(
            request,
            f"{person.full_name} was forgotten: they are now “{privacy.placeholder(pk)}” in "
            f"the history. Also removed or rewritten: {_counts(record.removed)}.",
        )
        return redirect("contacts:people")
    memberships = person.memberships.select_related("account").order_by("account__name")
    return render(
        request,
        "contacts/person_forget.html",
        {
            "person": person,
            "placeholder": privacy.placeholder(pk),
            "memberships": memberships,
            "change_count": ContactChange.objects.filter(person=person).count(),
            "task_count": Task.objects.filter(contacts__person=person).distinct().count(),
            "touchpoint_count": Touchpoint.objects.filter(participants__person=person)
            .distinct()
            .count(),
        },
    )


def _counts(removed):
    parts = [f"{count:,} {what}" for what, count in removed.items() if count]
    return ", ".join(parts) or "nothing else"
