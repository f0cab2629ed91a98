from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from contacts.models import Membership

from .models import Account

ACCOUNTS_PER_PAGE = 50


@require_GET
def account_list(request):
    query = request.GET.get("q", "").strip()
    accounts = Account.objects.search(query).select_related("account_type").order_by("tree_id", "lft")
    page = Paginator(accounts, ACCOUNTS_PER_PAGE).get_page(request.GET.get("page"))
    # One query for the company (root) names of the accounts on this page.
    tree_ids = {account.tree_id for account in page}
    companies = dict(
        Account.objects.root_nodes().filter(tree_id__in=tree_ids).values_list("tree_id", "name")
    )
    for account in page:
        account.company_name = companies.get(account.tree_id, "")
    return render(request, "accounts/account_list.html", {"page": page, "query": query})


@require_GET
def account_detail(request, pk):
    account = get_object_or_404(Account.objects.select_related("account_type"), pk=pk)
    contacts = (
        Membership.objects.contacts()
        .filter(account=account)
        .select_related("person", "role")
        .order_by("-is_key_contact", "person__last_name", "person__first_name")
    )
    return render(
        request,
        "accounts/account_detail.html",
        {
            "account": account,
            "ancestors": account.get_ancestors().select_related("account_type"),
            "children": account.get_children().select_related("account_type"),
            "contacts": contacts,
        },
    )
