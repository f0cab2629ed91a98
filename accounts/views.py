from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from config import staff
from config.lists import paginate
from contacts import account_page, alerts, history, privacy
from contacts.counts import with_contact_counts
from contacts.exports import download as download_response
from contacts.models import DownloadRecord, KeyContactAlert

from .models import Account

ACCOUNTS_PER_PAGE = 50
COMPANIES_PER_PAGE = 50
ALERT_BANNER = "accounts/account_base.html#key-contact-alerts"


def _with_alert_flags(accounts):
    """Annotate `has_key_contact_alert`: an open "Key contact left" alert at the account, in
    the accounts' own query."""
    return accounts.annotate(
        has_key_contact_alert=Exists(KeyContactAlert.objects.open().filter(account=OuterRef("pk")))
    )


@require_GET
def account_list(request):
    """Companies as an expandable tree, or, with a search or the "Key contact left" filter,
    the accounts that match, as a flat list."""
    query = request.GET.get("q", "").strip()[:200]
    alerted_only = request.GET.get("alert") == "1"
    if query or alerted_only:
        accounts = Account.objects.search(query) if query else Account.objects.all()
        accounts = _with_alert_flags(with_contact_counts(accounts.select_related("account_type")))
        if alerted_only:
            accounts = accounts.filter(has_key_contact_alert=True)
        accounts = accounts.order_by("tree_id", "lft")
        page = paginate(request.GET, accounts, default_size=ACCOUNTS_PER_PAGE)
        # One query for the company (root) names of the accounts on this page.
        companies = dict(
            Account.objects.root_nodes()
            .filter(tree_id__in={account.tree_id for account in page})
            .values_list("tree_id", "name")
        )
        for account in page:
            account.company_name = companies.get(account.tree_id, "")
    else:
        companies = _with_alert_flags(
            with_contact_counts(Account.objects.root_nodes().select_related("account_type"))
        ).order_by("name", "pk")
        page = paginate(request.GET, companies, default_size=COMPANIES_PER_PAGE)
    return render(
        request,
        "accounts/account_list.html",
        {"page": page, "query": query, "alerted_only": alerted_only, "flat": query or alerted_only},
    )


@require_GET
@vary_on_headers("HX-Request")
def account_children(request, pk):
    """One level of the accounts tree: the children of an account, each with its counts."""
    account = get_object_or_404(Account, pk=pk)
    if not request.htmx:
        # A level of the tree is a fragment; opened on its own, the profile lists the children.
        return redirect(account)
    children = _with_alert_flags(
        with_contact_counts(account.get_children().select_related("account_type"))
    ).order_by("name", "pk")
    return render(
        request,
        "accounts/account_list.html#tree-level",
        {"nodes": children, "parent": account},
    )


@require_GET
@vary_on_headers("HX-Request")
def account_detail(request, pk):
    account = get_object_or_404(Account.objects.select_related("account_type"), pk=pk)
    if request.htmx and not request.htmx.history_restore_request:
        # The Contacts widget refreshes its list: the filters stay on the page. A history
        # restore needs the whole page, and the view varies on HX-Request, so a browser never
        # shows a cached fragment as a page.
        if request.htmx.trigger == account_page.RESULTS_ID:
            return _contacts_changed(request, account)
        return account_page.contacts_refresh(request, account)
    context = {
        **_contacts_tab_context(request, account),
        **_alerts_context(request, account),
        "tab": "contacts",
    }
    return render(request, "accounts/account_detail.html", context)


def _contacts_tab_context(request, account):
    """The Contacts tab's widget and its drawing: the account's ancestors, siblings and
    children (one query), each labelled with its contacts."""
    query = with_contact_counts(
        Account.objects.filter(
            Q(tree_id=account.tree_id, lft__lte=account.lft, rght__gte=account.rght)
            | (Q(parent_id=account.parent_id) if account.parent_id else Q(pk=account.pk))
            | Q(parent_id=account.pk)
        )
        .select_related("account_type")
        .order_by("lft")
    )
    neighbourhood = list(query)
    return {
        **account_page.people_on_the_page(request, account, drawn=neighbourhood),
        "ancestors": [n for n in neighbourhood if n.lft < account.lft and n.rght > account.rght],
        "siblings": [n for n in neighbourhood if n.parent_id == account.parent_id],
        "children": [n for n in neighbourhood if n.parent_id == account.pk],
    }


def _contacts_changed(request, account):
    """The widget's list refreshed after a contact was added, edited or removed (its
    `contacts-changed` event): with the View choices and the "In the company" drawing swapped
    out of band, so their counts are right at once."""
    context = {**_contacts_tab_context(request, account), "oob": True}
    return HttpResponse(
        "".join(
            render_to_string(template, context, request)
            for template in (
                account_page.RESULTS_TEMPLATE,
                "contacts/widget.html#view-field",
                "accounts/account_detail.html#in-the-company",
            )
        )
    )


def _alerts_context(request, account):
    """The open "Key contact left" alerts of `account` for its banner (one query)."""
    return {
        "key_contact_alerts": list(
            KeyContactAlert.objects.open()
            .filter(account=account)
            .select_related("membership__person")
        ),
        "can_edit_contacts": request.user.has_perm(staff.CAN_EDIT_CONTACTS),
    }


@require_GET
@vary_on_headers("HX-Request")
def account_history(request, pk):
    """The History tab: every contact change in a View of the account, newest first, paged.
    An htmx request (paging, a new View) gets the list alone."""
    account = get_object_or_404(Account.objects.select_related("account_type"), pk=pk)
    view_form = history.HistoryViewForm(request.GET, account=account)
    changes = history.changes_in_view(account, view_form.chosen_view)
    page = paginate(request.GET, changes, default_size=history.CHANGES_PER_PAGE)
    context = {
        "account": account,
        "view_form": view_form,
        "changes_page": page,
        "rows": [(change, history.who(change), history.describe(change)) for change in page],
        "can_download": request.user.has_perm(staff.CAN_DOWNLOAD_SEGMENTS),
        "tab": "history",
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "accounts/account_history.html#history-results", context)
    context |= {
        "ancestors": list(account.get_ancestors()),
        **_alerts_context(request, account),
    }
    return render(request, "accounts/account_history.html", context)


@require_GET
@permission_required(staff.CAN_DOWNLOAD_SEGMENTS, raise_exception=True)
def account_history_download(request, pk):
    """The History tab's changes (its View applied) as a CSV, streamed, and recorded in the
    download audit with the rows written."""
    account = get_object_or_404(Account.objects.select_related("account_type"), pk=pk)
    view = history.HistoryViewForm(request.GET, account=account).chosen_view
    download = privacy.record_download(
        kind=DownloadRecord.Kind.ACCOUNT_HISTORY,
        by=request.user,
        filters=history.describe_view(account, view),
        file_format="csv",
    )
    filename = (
        f"history-{slugify(account.external_id)}-{view.value}-"
        f"{timezone.localdate().isoformat()}.csv"
    )
    return download_response(
        history.csv_chunks(history.changes_in_view(account, view), download=download),
        filename=filename,
        content_type="text/csv; charset=utf-8",
    )


@require_POST
@permission_required(staff.CAN_EDIT_CONTACTS, raise_exception=True)
def acknowledge_alert(request, pk, alert_pk):
    """Acknowledge a "Key contact left" alert of this account: it closes. One closed already
    (acknowledged by someone else, or a new key contact was named) is left as it was."""
    account = get_object_or_404(Account, pk=pk)
    alert = get_object_or_404(
        KeyContactAlert.objects.select_related("membership__person"), pk=alert_pk, account=account
    )
    name = alert.membership.person.full_name
    if alerts.acknowledge(alert, by=request.user):
        notice = f"Acknowledged: {name} left {account.name}."
    else:
        notice = f"The alert about {name} was already closed; nothing changed."
    if request.htmx:
        return render(
            request,
            ALERT_BANNER,
            {
                **_alerts_context(request, account),
                "account": account,
                "alert_notice": notice,
                # The other alerts' forms go back to the same tab.
                "tab": "history" if request.POST.get("tab") == "history" else "contacts",
            },
        )
    messages.info(request, notice)
    return redirect(_back_to_the_account(request, account))


def _back_to_the_account(request, account):
    """The account page the form was sent from (its Contacts or History tab)."""
    if request.POST.get("tab") == "history":
        return reverse("accounts:history", args=[account.pk])
    return account.get_absolute_url()


@require_GET
def account_suggestions(request):
    """Type-ahead options for picking an account by name or Account ID (up to ten)."""
    text = " ".join(request.GET.get("q", "").split())[:200]
    accounts = (
        Account.objects.search(text).select_related("account_type").order_by("name", "pk")[:10]
        if len(text) >= 2
        else []
    )
    return render(request, "accounts/account_suggestions.html", {"accounts": accounts, "q": text})
