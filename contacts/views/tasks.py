"""Tasks and touchpoints of an account: their forms (the account page lists them: account_page)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from config import staff

from .. import services
from ..forms import (
    TaskForm,
    TaskStatusForm,
    TouchpointForm,
)
from ..models import Task, Touchpoint
from . import _get_account


@require_http_methods(["GET", "POST"])
@permission_required(staff.CAN_EDIT_TASKS, raise_exception=True)
def task_form(request, account_pk, pk=None):
    account = _get_account(account_pk)
    task = get_object_or_404(Task, pk=pk, account=account) if pk else None
    form = TaskForm(
        request.POST or None,
        instance=task,
        account=account,
        initial=None if task else {"owner": request.user},
    )
    if request.method == "POST" and form.is_valid():
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
    form = TouchpointForm(request.POST or None, instance=touchpoint, account=account)
    if request.method == "POST" and form.is_valid():
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
