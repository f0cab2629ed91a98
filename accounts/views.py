from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config import staff
from contacts.forms import ContactFilterForm
from contacts.models import Membership, contact_counts_by_account, with_contact_counts

from .models import Account, AccountRole, AccountType

ACCOUNTS_PER_PAGE = 50
COMPANIES_PER_PAGE = 50
CONTACTS_PER_PAGE = 25


def _partial_or_page(request, template, partial, context):
    """The named partial for an htmx request, the whole page otherwise (and when htmx restores
    a page from history, which needs all of it). Views using it vary on HX-Request, so a
    browser never shows a cached fragment as a page."""
    wants_fragment = request.htmx and not request.htmx.history_restore_request
    return render(request, f"{template}#{partial}" if wants_fragment else template, context)


@require_GET
def account_list(request):
    """Companies as an expandable tree, or, with a search, the accounts that match."""
    query = request.GET.get("q", "").strip()[:200]
    if query:
        accounts = with_contact_counts(
            Account.objects.search(query).select_related("account_type")
        ).order_by("tree_id", "lft")
        page = Paginator(accounts, ACCOUNTS_PER_PAGE).get_page(request.GET.get("page"))
        # One query for the company (root) names of the accounts on this page.
        companies = dict(
            Account.objects.root_nodes()
            .filter(tree_id__in={account.tree_id for account in page})
            .values_list("tree_id", "name")
        )
        for account in page:
            account.company_name = companies.get(account.tree_id, "")
    else:
        companies = with_contact_counts(
            Account.objects.root_nodes().select_related("account_type")
        ).order_by("name", "pk")
        page = Paginator(companies, COMPANIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/account_list.html", {"page": page, "query": query})


@require_GET
@vary_on_headers("HX-Request")
def account_children(request, pk):
    """One level of the accounts tree: the children of an account, each with its counts."""
    account = get_object_or_404(Account, pk=pk)
    if not request.htmx:
        # A level of the tree is a fragment; opened on its own, the profile lists the children.
        return redirect(account)
    children = with_contact_counts(account.get_children().select_related("account_type")).order_by(
        "name", "pk"
    )
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
        # The filters stay on the page; only the list is new.
        return _partial_or_page(
            request,
            "accounts/account_detail.html",
            "contact-results",
            _contacts_widget(request, account, contacts_tally=None),
        )

    # Contacts per account of the whole hierarchy, read once: the View counts and the drawing's
    # counts are tallied from it.
    contacts_tally = contact_counts_by_account(account)
    # The drawing and the breadcrumb: ancestors, siblings and children, in one query.
    neighbourhood = list(
        Account.objects.filter(
            Q(tree_id=account.tree_id, lft__lte=account.lft, rght__gte=account.rght)
            | (Q(parent_id=account.parent_id) if account.parent_id else Q(pk=account.pk))
            | Q(parent_id=account.pk)
        )
        .select_related("account_type")
        .order_by("lft")
    )
    for node in neighbourhood:
        node.own_contacts = contacts_tally.at(node.pk)
        node.all_contacts = contacts_tally.within(node.lft, node.rght)
    context = {
        **_contacts_widget(request, account, contacts_tally=contacts_tally),
        "ancestors": [n for n in neighbourhood if n.lft < account.lft and n.rght > account.rght],
        "siblings": [n for n in neighbourhood if n.parent_id == account.parent_id],
        "children": [n for n in neighbourhood if n.parent_id == account.pk],
        "tasks": account.tasks.select_related("owner").prefetch_related("contacts__person"),
        "touchpoints": account.touchpoints.select_related("author").prefetch_related(
            "participants__person"
        )[:20],
        "can_edit_tasks": request.user.has_perm(staff.CAN_EDIT_TASKS),
        "can_edit_touchpoints": request.user.has_perm(staff.CAN_EDIT_TOUCHPOINTS),
    }
    return _partial_or_page(request, "accounts/account_detail.html", "contact-results", context)


def _contacts_widget(request, account, *, contacts_tally):
    """The Contacts widget's form and current page of rows (SPEC §3.3). With the contacts per
    account, the View choices show their counts (the htmx fragment needs none)."""
    views = account.hierarchy_views(AccountType.objects.in_hierarchy(account))
    view_counts = (
        {view.value: contacts_tally.in_view(account, view) for view in views}
        if contacts_tally is not None
        else None
    )
    filter_form = ContactFilterForm(
        request.GET,
        views=views,
        view_counts=view_counts,
        roles=AccountRole.objects.in_hierarchy(account).select_related("account_type"),
        account_type=account.account_type,
    )
    filters = filter_form.filters
    narrowed = filters["roles"] or filters["q"] or filters["key_only"]
    rows = (
        filter_form.apply(Membership.objects.contacts(), account)
        .select_related("person", "role", "account__account_type")
        .in_widget_order(
            searching=bool(filters["q"]),
            # A View alone: its count is on the page already.
            count=None if view_counts is None or narrowed else view_counts[filters["view"].value],
        )
    )
    page = Paginator(rows, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return {
        "account": account,
        "filter_form": filter_form,
        "contacts_page": page,
        "active_filters": filter_form.active_filters(),
        "filter_query": query_without_page.urlencode(),
        "can_edit_contacts": request.user.has_perm(staff.CAN_EDIT_CONTACTS),
    }


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
