from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from contacts import account_page
from contacts.counts import with_contact_counts

from .models import Account

ACCOUNTS_PER_PAGE = 50
COMPANIES_PER_PAGE = 50


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
        # The Contacts widget refreshes its list: the filters stay on the page. A history
        # restore needs the whole page, and the view varies on HX-Request, so a browser never
        # shows a cached fragment as a page.
        return account_page.contacts_refresh(request, account)

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
    context = {
        **account_page.people_on_the_page(request, account, drawn=neighbourhood),
        "ancestors": [n for n in neighbourhood if n.lft < account.lft and n.rght > account.rght],
        "siblings": [n for n in neighbourhood if n.parent_id == account.parent_id],
        "children": [n for n in neighbourhood if n.parent_id == account.pk],
    }
    return render(request, "accounts/account_detail.html", context)


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
