"""Tasks and touchpoints of an account: their forms (the account page lists them: account_page)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config import staff

from .. import services
from ..forms import (
    TaskForm,
    TaskStatusForm,
    TouchpointForm,
)
from ..models import Membership, Task, Touchpoint
from . import _get_account

SUGGESTIONS = 10
SUGGEST_AFTER = 2  # characters typed


def _picker_form(request, form_class, *, account, instance, initial=None):
    """(form, submitted) for a task or touchpoint page: the form as sent (POST), except when
    its contact search was sent (a page without JavaScript): then, with nothing saved, the
    same values with the matching contacts listed to tick, and no errors yet. A new one takes
    its first contacts from the query string (?contact=<membership id>, repeated: the
    Contacts widget's "add to a new task"); an id that is not a contact this form may link is
    left out with a message."""
    initial = initial or {}
    field = form_class.contacts_field
    if request.method == "POST":
        if f"{field}_find" not in request.POST:
            return form_class(request.POST, instance=instance, account=account), True
        sent = {
            name: request.POST.getlist(name) if name == field else request.POST.get(name)
            for name in request.POST
        }
        sent.setdefault(field, [])
        form = form_class(instance=instance, account=account, initial={**initial, **sent})
        form.search_contacts(request.POST.get(f"{field}_search", ""))
        return form, False
    form = form_class(instance=instance, account=account, initial=initial)
    if instance is None and "contact" in request.GET:
        chosen, left_out = form.valid_contact_ids(request.GET.getlist("contact"))
        form.initial[field] = chosen
        if left_out:
            messages.warning(
                request,
                f"Left out {left_out} of the contacts in the link: "
                f"{'it is' if left_out == 1 else 'they are'} not a contact of "
                f"{account.name}'s company.",
            )
    return form, False


@require_http_methods(["GET", "POST"])
@permission_required(staff.CAN_EDIT_TASKS, raise_exception=True)
def task_form(request, account_pk, pk=None):
    account = _get_account(account_pk)
    task = get_object_or_404(Task, pk=pk, account=account) if pk else None
    form, submitted = _picker_form(
        request,
        TaskForm,
        account=account,
        instance=task,
        initial=None if task else {"owner": request.user.pk},
    )
    if submitted and form.is_valid():
        services.save_task(account=account, task=task, by=request.user, **form.cleaned_data)
        messages.success(request, f"Saved the task “{form.cleaned_data['title']}”.")
        return redirect(reverse("accounts:detail", args=[account.pk]) + "#tasks-heading")
    return render(
        request, "contacts/task_form.html", {"account": account, "task": task, "form": form}
    )


@require_POST
@permission_required(staff.CAN_EDIT_TASKS, raise_exception=True)
def task_status(request, account_pk, pk):
    task = get_object_or_404(Task, pk=pk, account_id=account_pk)
    form = TaskStatusForm(request.POST)
    if not form.is_valid():
        return render(request, "400.html", {"message": form.errors["status"][0]}, status=400)
    services.set_task_status(task=task, status=form.cleaned_data["status"], by=request.user)
    messages.success(request, f"“{task.title}” is {task.get_status_display().lower()}.")
    return redirect(reverse("accounts:detail", args=[account_pk]) + "#tasks-heading")


@require_http_methods(["GET", "POST"])
@permission_required(staff.CAN_EDIT_TOUCHPOINTS, raise_exception=True)
def touchpoint_form(request, account_pk, pk=None):
    account = _get_account(account_pk)
    touchpoint = get_object_or_404(Touchpoint, pk=pk, account=account) if pk else None
    form, submitted = _picker_form(request, TouchpointForm, account=account, instance=touchpoint)
    if submitted and form.is_valid():
        services.save_touchpoint(
            account=account, touchpoint=touchpoint, by=request.user, **form.cleaned_data
        )
        messages.success(request, f"Saved the touchpoint “{form.cleaned_data['subject']}”.")
        return redirect(reverse("accounts:detail", args=[account.pk]) + "#touchpoints-heading")
    return render(
        request,
        "contacts/touchpoint_form.html",
        {"account": account, "touchpoint": touchpoint, "form": form},
    )


@require_GET
def contact_suggestions(request, account_pk):
    """The contact picker's type-ahead options: up to ten contacts of the account's company
    hierarchy matching what was typed, for those who may edit tasks or touchpoints."""
    if not (
        request.user.has_perm(staff.CAN_EDIT_TASKS)
        or request.user.has_perm(staff.CAN_EDIT_TOUCHPOINTS)
    ):
        raise PermissionDenied
    account = _get_account(account_pk)
    text = " ".join(request.GET.get("q", "").split())[:200]
    contacts = []
    if len(text) >= SUGGEST_AFTER:
        field = TaskForm.base_fields["contacts"]
        contacts = [
            (membership, field.label_from_instance(membership))
            for membership in Membership.objects.linkable(account)
            .matching(text)
            .select_related("person", "account")
            .order_by("person__last_name", "person__first_name", "account__name", "pk")[
                :SUGGESTIONS
            ]
        ]
    return render(
        request, "contacts/widgets/contact_suggestions.html", {"q": text, "contacts": contacts}
    )
