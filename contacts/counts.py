"""Contacts counted per account: for the accounts list and tree (`with_contact_counts`) and for
an account's page (`ContactCounts`: its drawing and the widget's View counts).

Every count is read from Account.contact_count, the contacts at each account that database
triggers keep (contacts migration 0019): a subtree's contacts are the sum of that column over
its accounts, so no page counts memberships, however many contacts a company has."""

from django.db.models import F, OuterRef, Sum
from django.db.models.functions import Coalesce

from accounts.models import Account, AccountType, Scope


def with_contact_counts(accounts):
    """Annotate an account queryset with `own_contacts` (contacts at the account) and
    `all_contacts` (at the account and every account below it), in the same single query."""
    subtree = (
        Account.objects.filter(
            tree_id=OuterRef("tree_id"), lft__gte=OuterRef("lft"), lft__lte=OuterRef("rght")
        )
        .order_by()
        .values("tree_id")
        .annotate(n=Sum("contact_count"))
        .values("n")
    )
    return accounts.annotate(own_contacts=F("contact_count"), all_contacts=Coalesce(subtree, 0))


def account_types_with_contacts(account):
    """The account types used in `account`'s company hierarchy, in their order, each with
    `contacts`: the contacts at that hierarchy's accounts of the type (one query)."""
    return (
        AccountType.objects.filter(accounts__tree_id=account.tree_id)
        .annotate(contacts=Sum("accounts__contact_count"))
        .order_by("order", "name", "pk")
    )


class ContactCounts:
    """The contacts of each View of `account` (SPEC §3.3), from what its page reads anyway:
    the accounts it draws around it (`drawn`: its ancestors, itself and its children, each
    with_contact_counts) and the types of its hierarchy (account_types_with_contacts)."""

    def __init__(self, account, drawn, account_types):
        self.here = next(node for node in drawn if node.pk == account.pk)
        self.ancestors = [n for n in drawn if n.lft < account.lft and n.rght > account.rght]
        self.children = [n for n in drawn if n.parent_id == account.pk]
        self.by_type = {account_type.pk: account_type.contacts for account_type in account_types}

    def in_view(self, view):
        here = self.here
        match view.scope:
            case Scope.THIS_ACCOUNT:
                return here.own_contacts
            case Scope.DIRECT_PARENT:
                return self.ancestors[-1].own_contacts if self.ancestors else 0
            case Scope.ALL_PARENTS:
                return sum(node.own_contacts for node in self.ancestors)
            case Scope.DIRECT_CHILDREN:
                return sum(node.own_contacts for node in self.children)
            case Scope.ALL_CHILDREN:
                return here.all_contacts - here.own_contacts
            case Scope.THIS_AND_ALL_CHILDREN:
                return here.all_contacts
            case Scope.ACCOUNT_TYPE:
                return self.by_type.get(view.account_type.pk, 0)
            case Scope.ENTIRE_HIERARCHY:
                root = self.ancestors[0] if self.ancestors else here
                return root.all_contacts
