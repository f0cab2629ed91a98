"""Inline edits of a Contacts widget row (htmx): the row's Edit opens its role and key-contact
mark in the row itself; Save writes them as the Edit page does (ContactRoleForm's rules,
services.edit_contact) and answers with the updated row; Cancel brings the row back."""

from urllib.parse import quote

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from config import staff

from .. import bulk, services
from ..forms import ContactRoleForm, is_an_id
from ..models import Membership
from . import _get_account
from .memberships import _contacts_changed, _get_contact, _next_url

STALE = (
    "Someone changed this contact since you opened it (now: %(state)s). Nothing was saved: "
    "check the values and save again."
)
REMOVED = (
    "Someone removed %(name)s as a contact since you opened this. Nothing was saved: Cancel "
    "shows the list as it is now."
)


def _get_membership(pk):
    """The membership, contact or no longer: a row removed since its editor opened is said so,
    not a 404 that htmx would not show."""
    return get_object_or_404(
        Membership.objects.select_related("person", "account__account_type", "role"), pk=pk
    )


def _row_context(request, membership):
    """What widget_row.html needs: the account whose page this is (its id in `account`, else
    the contact's own) and the list's URL to come back to after a full-page edit."""
    page_account = request.GET.get("account") or request.POST.get("account")
    account = membership.account
    if page_account and is_an_id(page_account) and int(page_account) != account.pk:
        account = _get_account(int(page_account))
    next_url = _next_url(request, account.get_absolute_url())
    return {
        "membership": membership,
        "account": account,
        "next_url": next_url,
        # As the widget passes it (urlencoded), for the row's links.
        "next": quote(next_url, safe="/"),
        "can_edit_contacts": True,
    }


@require_GET
@permission_required(staff.CAN_EDIT_CONTACTS, raise_exception=True)
def contact_row(request, pk):
    """The row as the widget draws it (Cancel of the inline editor). A row no longer a
    contact is taken away, and the list refreshed."""
    membership = _get_membership(pk)
    if not membership.is_contact:
        return _contacts_changed(HttpResponse(""))
    context = _row_context(request, membership)
    context["restored"] = True
    return render(request, "contacts/includes/widget_row.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(staff.CAN_EDIT_CONTACTS, raise_exception=True)
def inline_edit(request, pk):
    membership = _get_contact(pk) if request.method == "GET" else _get_membership(pk)
    context = _row_context(request, membership)
    form = ContactRoleForm(
        request.POST if request.method == "POST" else None,
        account=membership.account,
        auto_id=f"inline-{membership.pk}-%s",
        initial={"role": membership.role_id, "is_key_contact": membership.is_key_contact},
    )
    # The row's cells hold the fields; the form element sits in the last cell.
    for name in ("role", "is_key_contact"):
        form.fields[name].widget.attrs["form"] = f"inline-edit-{membership.pk}"
    form.fields["role"].widget.attrs["autofocus"] = True
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        try:
            # The row is locked before its stamp is compared: two saves of one editor's stamp
            # cannot both pass, the second is told the row changed.
            with transaction.atomic():
                current = Membership.objects.select_for_update(of=("self",)).get(pk=pk)
                if not current.is_contact:
                    name = membership.person.full_name
                    raise ValidationError(REMOVED, params={"name": name})
                if request.POST.get("stamp") != bulk.row_stamp(current):
                    state = bulk.describe_state(current)
                    raise ValidationError(STALE, params={"state": state})
                membership = services.edit_contact(
                    membership=current,
                    role=form.cleaned_data["role"],
                    is_key_contact=form.cleaned_data["is_key_contact"],
                    by=request.user,
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            context["membership"] = _get_contact(membership.pk)
            context["restored"] = True
            response = render(request, "contacts/includes/widget_row.html", context)
            return _contacts_changed(response)
    return render(
        request,
        "contacts/includes/widget_row_editor.html",
        context,
        status=400 if form.errors else 200,
    )
