"""Contacts at an account: adding one (with the people type-ahead), editing and removing one."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from config import staff

from .. import services
from ..forms import ContactEditForm, ContactRoleForm, NewPersonContactForm
from ..models import Membership, Person
from ..queries import found_through_indexes
from . import _get_account

SUGGESTIONS = 10
SUGGEST_AFTER = 2  # characters typed


def _get_person(value):
    """The person a submitted id names; 404 for an id that is not a number or not there."""
    try:
        return Person.objects.get(pk=int(value))
    except (TypeError, ValueError, Person.DoesNotExist):
        raise Http404("No such person.") from None


def _get_contact(pk):
    # Former contacts too: their Edit is how they are made active again.
    return get_object_or_404(
        Membership.objects.contacts(include_former=True).select_related(
            "person", "account__account_type", "role"
        ),
        pk=pk,
    )


def _next_url(request, default):
    """Where to go back to: the page the staff user came from, if it is one of ours."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _contacts_changed(response):
    """Tell the page (htmx) that the Contacts widget should show the change."""
    response.headers["HX-Trigger"] = "contacts-changed"
    return response


@require_http_methods(["GET", "POST"])
@permission_required(staff.CAN_EDIT_CONTACTS, raise_exception=True)
def edit_contact(request, pk):
    membership = _get_contact(pk)
    form = ContactEditForm(request.POST or None, membership=membership)
    next_url = _next_url(request, membership.account.get_absolute_url())
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_contact(membership=membership, by=request.user, **form.edits())
        except ValidationError as error:
            # Changed by someone else since the page was drawn (a start date stored since).
            form.add_error(None, error)
        else:
            messages.success(
                request, f"Saved {membership.person.full_name} at {membership.account.name}."
            )
            return redirect(next_url)
    return render(
        request,
        "contacts/contact_edit.html",
        {"membership": membership, "form": form, "next": next_url},
    )


@require_http_methods(["GET", "POST"])
@permission_required(staff.CAN_EDIT_CONTACTS, raise_exception=True)
def remove_contact(request, pk):
    membership = _get_contact(pk)
    next_url = _next_url(request, membership.account.get_absolute_url())
    if request.method == "POST":
        services.remove_contact(membership=membership, by=request.user)
        messages.success(
            request,
            f"{membership.person.full_name} is no longer a contact of {membership.account.name}. "
            "The person and their membership are kept.",
        )
        return redirect(next_url)
    return render(
        request, "contacts/contact_remove.html", {"membership": membership, "next": next_url}
    )


@require_GET
@permission_required(staff.CAN_EDIT_CONTACTS, raise_exception=True)
def people_suggestions(request, account_pk):
    """The type-ahead's options: up to ten people matching what was typed, then "(new)"."""
    account = _get_account(account_pk)
    text = " ".join(request.GET.get("q", "").split())[:200]
    return render(
        request,
        "contacts/add_contact.html#suggestions",
        {"account": account, "q": text, "people": _suggestions(text)},
    )


def _suggestions(text):
    """Up to ten people matching `text`, by name. Not the alphabetically first ten of all
    matches: ordering every "north…" email in the database before taking ten costs far more
    than a type-ahead may, and a few more letters narrow the list anyway."""
    if len(text) < SUGGEST_AFTER:
        return []
    # Each person's accounts, key contacts first: the one row of the suggestion names them.
    accounts = Membership.objects.select_related("account").order_by(
        "-is_key_contact", "account__name", "pk"
    )
    people = (
        Person.objects.matching(text)
        .order_by()
        .prefetch_related(Prefetch("memberships", queryset=accounts))
    )
    return sorted(
        found_through_indexes(people[:SUGGESTIONS]),
        key=lambda p: (p.last_name, p.first_name, p.email, p.pk),
    )


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@permission_required(staff.CAN_EDIT_CONTACTS, raise_exception=True)
def add_contact(request, account_pk):
    """Add a contact to an account: find the person with the type-ahead, then either link the
    person chosen or fill in a new one (SPEC §3.4). A dialog with htmx, plain pages without."""
    account = _get_account(account_pk)
    data = request.POST if request.method == "POST" else request.GET
    context = {"account": account, "q": " ".join(request.GET.get("q", "").split())[:200]}
    if "person" in data:
        return _add_existing_person(request, account, _get_person(data["person"]), context)
    if "new" in data or request.method == "POST":
        return _add_new_person(request, account, context)
    context["people"] = _suggestions(context["q"])
    return _render_add_contact(request, "search", context)


def _render_add_contact(request, step, context, status=200):
    context["step"] = step
    template = "contacts/add_contact.html"
    if request.htmx:
        template += "#add-contact-body"
    return render(request, template, context, status=status)


def _add_existing_person(request, account, person, context):
    existing = Membership.objects.filter(person=person, account=account).first()
    context.update(person=person, membership=existing)
    if existing and existing.is_contact and not existing.is_former:
        context["outcome"] = (
            f"{person.full_name} is already a contact of {account.name}. Nothing was changed."
        )
        return _finish(request, account, context, changed=False)
    form = ContactRoleForm(
        request.POST if request.method == "POST" else None,
        account=account,
        initial={"role": existing.role_id if existing else None},
    )
    # Focus goes on to the role once the person is picked (the page, or the dialog's swap:
    # static/js/app.js focuses what is marked autofocus), not back to the page's body.
    form.fields["role"].widget.attrs["autofocus"] = True
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        _membership, added = services.add_contact(
            account=account,
            person=person,
            role=form.cleaned_data["role"],
            is_key_contact=form.cleaned_data["is_key_contact"],
            by=request.user,
        )
        context["outcome"] = (
            f"{person.full_name} is now a contact of {account.name}."
            if added
            else f"{person.full_name} is already a contact of {account.name}. Nothing was changed."
        )
        return _finish(request, account, context, changed=added)
    return _render_add_contact(request, "existing", context, status=400 if form.errors else 200)


def _add_new_person(request, account, context):
    if request.method == "POST":
        form = NewPersonContactForm(request.POST, account=account)
    else:
        form = NewPersonContactForm(
            account=account, initial=NewPersonContactForm.initial_from(request.GET.get("new", ""))
        )
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.add_contact_with_new_person(
                account=account, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            if error.code != "email_exists":
                raise
            context["existing_person"] = error.params["person"]
            form.add_error(
                "email",
                ValidationError(
                    "%(person)s already has this email. Add them instead of a new person.",
                    code="email_exists",
                    params={"person": error.params["person"].full_name},
                ),
            )
        else:
            context["outcome"] = (
                f"{membership.person.full_name} is now a contact of {account.name}."
            )
            return _finish(request, account, context, changed=True)
    return _render_add_contact(request, "new", context, status=400 if form.errors else 200)


def _finish(request, account, context, *, changed):
    # The heading says what happened: "Contact added", or "Already a contact" (nothing changed).
    context["changed"] = changed
    if request.htmx:
        response = _render_add_contact(request, "done", context)
        return _contacts_changed(response) if changed else response
    (messages.success if changed else messages.info)(request, context["outcome"])
    return redirect(account)
