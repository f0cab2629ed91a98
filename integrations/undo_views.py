"""The undo of an import: its preview page and confirmation (integrations.undo plans it,
integrations.undo_run runs it)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from config.staff import CAN_UNDO_IMPORTS

from .undo import UndoRefused, plan_undo, undo_refusal
from .undo_preview import UndoForm, preview
from .undo_run import start_undo
from .views import _get_job, can_run_integrations

can_undo_imports = permission_required(CAN_UNDO_IMPORTS, raise_exception=True)


@can_run_integrations
@can_undo_imports
@require_http_methods(["GET", "POST"])
def job_undo(request, pk):
    """The preview of an import's undo (or of an undo's, a redo) and its confirmation, which
    queues the undo job and shows its page. A job that cannot be undone says why."""
    job = _get_job(pk)
    if (refusal := undo_refusal(job)) is not None:
        messages.error(request, " ".join(refusal.messages))
        return redirect(job)
    form = UndoForm(request.POST) if request.method == "POST" else UndoForm()
    status = 200
    if form.is_valid():
        try:
            undo_job = start_undo(
                job=job,
                by=request.user,
                restore_conflicts=form.cleaned_data["restore_conflicts"],
                fingerprint=form.cleaned_data["fingerprint"],
            )
        except UndoRefused as refused:
            messages.error(request, " ".join(refused.messages))
            if refused.code != "stale_preview":
                return redirect(job)
            status = 409
        else:
            return redirect(undo_job)
    elif form.is_bound:
        status = 400
    restore_conflicts = form.is_bound and form.cleaned_data.get("restore_conflicts", False)
    plan = plan_undo(job, restore_conflicts=restore_conflicts)
    shown = preview(plan)
    form = UndoForm(
        initial={"restore_conflicts": restore_conflicts, "fingerprint": shown["fingerprint"]}
    )
    return render(
        request,
        "integrations/undo_preview.html",
        {"job": job, "plan": plan, "preview": shown, "form": form},
        status=status,
    )
