"""Bulk actions on the Contacts widget's rows (contacts.bulk): one confirm page, GET to see
what would change, POST to apply it all or nothing."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from config import staff

from .. import bulk
from . import _get_account


@require_http_methods(["GET", "POST"])
@permission_required(staff.CAN_EDIT_CONTACTS, raise_exception=True)
def bulk_action(request, account_pk):
    account = _get_account(account_pk)
    form = bulk.BulkActionForm(
        request.POST if request.method == "POST" else request.GET, account=account
    )
    context = {"account": account, "form": form, "back_url": form.back_url()}
    if not form.is_valid():
        return render(request, "contacts/bulk_confirm.html", context, status=400)
    action = form.cleaned_data["action"]
    if action == bulk.ADD_TASK and not request.user.has_perm(staff.CAN_EDIT_TASKS):
        raise PermissionDenied("Adding contacts to a task needs the right to edit tasks.")
    if form.needs_role:
        # Setting a role: the confirm page asks which first (a POST must name one).
        context["action_label"] = bulk.ACTIONS[action]
        status = 200 if request.method == "GET" else 400
        return render(request, "contacts/bulk_confirm.html", context, status=status)
    if request.method == "GET":
        plan = form.plan()
        if action == bulk.ADD_TASK and plan.changes and not (plan.left_out or plan.missing):
            return redirect(plan.task_url(account))
        return _confirm_page(request, context, plan)
    if action == bulk.ADD_TASK:
        # Nothing to confirm: the task form is where it is saved.
        return _confirm_page(request, context, form.plan(), status=400)
    with transaction.atomic():
        # Read again, locked, as things are now: the page confirmed may be out of date.
        plan = form.plan(lock=True)
        if plan.fingerprint != request.POST.get("plan"):
            context["out_of_date"] = True
            return _confirm_page(request, context, plan, status=409)
        bulk.apply_plan(plan, by=request.user)
    if plan.changes:
        messages.success(request, plan.summary())
    else:
        messages.info(request, "Nothing was changed: no selected contact needed it.")
    response = redirect(form.back_url())
    response.headers["HX-Trigger"] = "contacts-changed"
    return response


def _confirm_page(request, context, plan, status=200):
    context.update(
        plan=plan,
        action_label=bulk.ACTIONS[plan.action],
        rows_shown=bulk.ROWS_SHOWN,
        task_url=plan.task_url(context["account"]) if plan.action == bulk.ADD_TASK else None,
    )
    return render(request, "contacts/bulk_confirm.html", context, status=status)
