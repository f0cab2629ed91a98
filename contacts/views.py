from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.models import Account
from config import staff

from . import exports, services
from .exports import COLUMNS
from .forms import (
    ContactEditForm,
    ContactRoleForm,
    NewPersonContactForm,
    PeopleFilterForm,
    PersonForm,
    SegmentForm,
    SegmentRenameForm,
    TaskForm,
    TaskStatusForm,
    TouchpointForm,
)
from .models import ContactChange, Membership, Person, Segment, Task, Touchpoint

SUGGESTIONS = 10
SUGGEST_AFTER = 2  # characters typed


def _get_account(pk):
    return get_object_or_404(Account.objects.select_related("account_type"), pk=pk)


def _get_person(value):
    """The person a submitted id names; 404 for an id that is not a number or not there."""
    try:
        return Person.objects.get(pk=int(value))
    except (TypeError, ValueError, Person.DoesNotExist):
        raise Http404("No such person.") from None


def _get_contact(pk):
    return get_object_or_404(
        Membership.objects.contacts().select_related("person", "account__account_type", "role"),
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


@require_GET
def person_detail(request, pk):
    person = get_object_or_404(Person, pk=pk)
    memberships = person.memberships.select_related("account__account_type", "role").order_by(
        "account__tree_id", "account__lft"
    )
    changes = ContactChange.objects.filter(membership__person=person).select_related(
        "membership__account", "staff_user"
    )[:50]
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
            "changes": changes,
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


@require_http_methods(["GET", "POST"])
@permission_required(staff.CAN_EDIT_CONTACTS, raise_exception=True)
def edit_contact(request, pk):
    membership = _get_contact(pk)
    form = ContactEditForm(request.POST or None, membership=membership)
    next_url = _next_url(request, membership.account.get_absolute_url())
    if request.method == "POST" and form.is_valid():
        services.edit_contact(
            membership=membership,
            role=form.cleaned_data["role"],
            is_key_contact=form.cleaned_data["is_key_contact"],
            by=request.user,
        )
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
    people = Person.objects.matching(text).order_by().prefetch_related("memberships__account")
    return sorted(people[:SUGGESTIONS], key=lambda p: (p.last_name, p.first_name, p.email, p.pk))


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
    if existing and existing.is_contact:
        context["outcome"] = (
            f"{person.full_name} is already a contact of {account.name}. Nothing was changed."
        )
        return _finish(request, account, context, changed=False)
    form = ContactRoleForm(
        request.POST if request.method == "POST" else None,
        account=account,
        initial={"role": existing.role_id if existing else None},
    )
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        membership, added = services.add_contact(
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
    if request.htmx:
        response = _render_add_contact(request, "done", context)
        return _contacts_changed(response) if changed else response
    (messages.success if changed else messages.info)(request, context["outcome"])
    return redirect(account)


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


def _column_controls(params, columns):
    """Links that add, remove and move columns: plain GET links, so they work without JS."""
    chosen = []
    for index, key in enumerate(columns):

        def moved(offset):
            order = list(columns)
            order[index], order[index + offset] = order[index + offset], order[index]
            return "?" + _people_query(params, cols=order)

        chosen.append(
            {
                "key": key,
                "label": COLUMNS[key].label,
                "left_url": moved(-1) if index > 0 else None,
                "right_url": moved(1) if index < len(columns) - 1 else None,
                "remove_url": (
                    "?" + _people_query(params, cols=[k for k in columns if k != key])
                    if len(columns) > 1
                    else None
                ),
            }
        )
    available = [
        {
            "key": key,
            "label": column.label,
            "add_url": "?" + _people_query(params, cols=[*columns, key]),
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
    page = Paginator(form.memberships(), PEOPLE_PER_PAGE).get_page(params.get("page"))
    columns = filters["columns"]
    chosen_columns, available_columns = _column_controls(params, columns)
    filter_query = _people_query(params)
    segment = None
    if (segment_pk := params.get("segment", "")).isdigit():
        segment = Segment.objects.visible_to(request.user).filter(pk=segment_pk).first()
    if segment and form.has_error("account") and segment.account_label:
        messages.warning(
            request,
            f"This segment was filtered on the account {segment.account_label}, which no longer "
            "exists. It shows the people of every account instead.",
        )
    return render(
        request,
        "contacts/people_list.html",
        {
            "form": form,
            "page": page,
            "rows": [[COLUMNS[key].value(membership) for key in columns] for membership in page],
            "columns": [COLUMNS[key] for key in columns],
            "chosen_columns": chosen_columns,
            "available_columns": available_columns,
            "filter_query": filter_query,
            "segment": segment,
            "segments": Segment.objects.visible_to(request.user).select_related("owner"),
            "can_download": request.user.has_perm(staff.CAN_DOWNLOAD_SEGMENTS),
            "segment_form": segment_form or SegmentForm(initial={"query": filter_query}),
            "users_file_columns": exports.USERS_FILE_COLUMNS,
        },
        status=status,
    )


@require_GET
@permission_required(staff.CAN_DOWNLOAD_SEGMENTS, raise_exception=True)
def people_download(request, file_format):
    form = PeopleFilterForm(request.GET)
    memberships, columns = form.memberships(), form.filters["columns"]
    filename = _download_name(form.filters, file_format)
    if file_format == "csv":
        response = StreamingHttpResponse(
            exports.csv_chunks(memberships, columns), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
    return FileResponse(
        exports.xlsx_file(memberships, columns),
        as_attachment=True,
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
    return render(
        request,
        "contacts/segment_list.html",
        {
            "segments": Segment.objects.visible_to(request.user).select_related("owner"),
            "can_save": request.user.has_perm(staff.CAN_DOWNLOAD_SEGMENTS),
        },
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
