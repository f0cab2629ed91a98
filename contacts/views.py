from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from config import staff

from . import services
from .forms import ContactEditForm
from .models import Membership, Person


def _get_contact(pk):
    return get_object_or_404(
        Membership.objects.contacts().select_related("person", "account__account_type", "role"),
        pk=pk,
    )


def _next_url(request, membership):
    """Where to go back to: the page the staff user came from, if it is one of ours."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return membership.account.get_absolute_url()


@require_GET
def person_detail(request, pk):
    person = get_object_or_404(Person, pk=pk)
    memberships = person.memberships.select_related("account__account_type", "role").order_by(
        "account__tree_id", "account__lft"
    )
    return render(
        request, "contacts/person_detail.html", {"person": person, "memberships": memberships}
    )


@require_http_methods(["GET", "POST"])
@permission_required(staff.CAN_EDIT_CONTACTS, raise_exception=True)
def edit_contact(request, pk):
    membership = _get_contact(pk)
    form = ContactEditForm(request.POST or None, membership=membership)
    if request.method == "POST" and form.is_valid():
        services.edit_contact(
            membership=membership,
            role=form.cleaned_data["role"],
            is_key_contact=form.cleaned_data["is_key_contact"],
            by=request.user,
        )
        messages.success(request, f"Saved {membership.person.full_name} at {membership.account.name}.")
        return redirect(_next_url(request, membership))
    return render(
        request,
        "contacts/contact_edit.html",
        {"membership": membership, "form": form, "next": _next_url(request, membership)},
    )


@require_http_methods(["GET", "POST"])
@permission_required(staff.CAN_EDIT_CONTACTS, raise_exception=True)
def remove_contact(request, pk):
    membership = _get_contact(pk)
    if request.method == "POST":
        services.remove_contact(membership=membership, by=request.user)
        messages.success(
            request,
            f"{membership.person.full_name} is no longer a contact of {membership.account.name}. "
            "The person and their membership are kept.",
        )
        return redirect(_next_url(request, membership))
    return render(
        request,
        "contacts/contact_remove.html",
        {"membership": membership, "next": _next_url(request, membership)},
    )
