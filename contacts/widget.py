"""The Contacts widget of an account's page (SPEC §3.3), in one place: its filters, its rows
and their paging, and `contacts_widget`, the one call the account page makes. Its markup is
templates/contacts/widget.html (partials `contacts-widget` and `contact-results`); the htmx
refresh of the list is served by the account page's own URL, /accounts/<id>/, with HX-Request.
"""

from functools import cached_property

from django import forms

from accounts.models import Account, AccountRole, AccountType
from config import staff
from config.lists import SortOrder, paginate

from .models import Membership

CONTACTS_PER_PAGE = 25
# The columns a click on their header sorts by (?sort=name, ?sort=-name).
SORT_COLUMNS = {
    "name": "Name",
    "email": "Email",
    "role": "Role",
    "account": "Account",
    "type": "Type",
}
# What an htmx refresh of the widget swaps in: the list, not the filters.
RESULTS_TEMPLATE = "contacts/widget.html#contact-results"


class ContactFilterForm(forms.Form):
    """The Contacts widget's filters (SPEC §3.3), read from the query string.

    A value that does not fit (a view that does not exist for this account, a role from another
    hierarchy) is reported on its field and that filter falls back to its default.
    """

    view = forms.ChoiceField(label="View", required=False)
    role = forms.ModelMultipleChoiceField(
        label="Roles",
        queryset=AccountRole.objects.none(),
        required=False,
        help_text="Ctrl or ⌘ click to pick several",
    )
    q = forms.CharField(
        label="Search", required=False, max_length=200, strip=True, widget=forms.SearchInput
    )
    key = forms.BooleanField(label="Key contacts only", required=False)
    former = forms.BooleanField(label="Include former", required=False)

    def __init__(self, data, *, views, roles, account_type, view_counts=None):
        """`view_counts` ({view value: contacts}) labels the View choices with their counts and
        groups the Roles choices by account type: what the page shows and a list refresh
        (which renders no controls) need not compute."""
        if "role" in data:
            # An emptied multi-select may still send role= ; that is "every role", not an error.
            data = data.copy()
            data.setlist("role", [value for value in data.getlist("role") if value])
        super().__init__(data)
        self.views = {view.value: view for view in views}
        self.default_view = views[0]
        self.fields["view"].choices = [
            (
                view.value,
                view.label if view_counts is None else f"{view.label} ({view_counts[view.value]})",
            )
            for view in views
        ]
        self.fields["role"].queryset = roles
        if view_counts is not None:
            self._group_roles(roles, account_type)
        self.fields["view"].error_messages["invalid_choice"] = (
            f"“%(value)s” is not a view of this account, so this shows “{self.default_view.label}”."
        )
        self.fields["role"].error_messages["invalid_choice"] = (
            "“%(value)s” is not a role in this company, so this shows every role."
        )
        self.fields["role"].error_messages["invalid_pk_value"] = (
            "“%(pk)s” is not a role in this company, so this shows every role."
        )
        self.fields["q"].widget.attrs.update(
            {"placeholder": "Name or email", "autocomplete": "off"}
        )

    def _group_roles(self, roles, account_type):
        """Role choices grouped by account type, this account's own type first."""
        groups = {}
        for role in roles.order_by("account_type__order", "name"):
            groups.setdefault(role.account_type, []).append((role.pk, role.name))
        self.fields["role"].choices = [
            (role_type.name, options)
            for role_type, options in sorted(
                groups.items(), key=lambda item: item[0].pk != account_type.pk
            )
        ]

    @cached_property
    def filters(self):
        """The valid filters as a dict: view (a HierarchyView), roles, q, key_only,
        include_former."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "view": self.views.get(data.get("view") or "", self.default_view),
            "roles": list(data.get("role") or []),
            "q": data.get("q") or "",
            "key_only": bool(data.get("key")),
            "include_former": bool(data.get("former")),
        }

    def apply(self, memberships, account):
        """The memberships of `memberships` that these filters select, relative to `account`."""
        filters = self.filters
        memberships = memberships.filter(filters["view"].q(account, prefix="account__"))
        if filters["roles"]:
            memberships = memberships.filter(role__in=filters["roles"])
            # A role belongs to one account type, which may be a handful of accounts in a
            # company of thousands (its Corporate roles: one). Matched by those accounts' ids,
            # PostgreSQL finds the few contacts at once, where it otherwise walks the whole
            # company's name order for them (1.9 s on SPEC §7's large set, 20 ms this way).
            role_accounts = Account.objects.in_hierarchy(account).filter(
                account_type__in={role.account_type_id for role in filters["roles"]}
            )
            if (ids := role_accounts.as_few_ids()) is not None:
                memberships = memberships.filter(account__pk__in_array=ids)
        if filters["q"]:
            memberships = memberships.matching(filters["q"])
        if filters["key_only"]:
            memberships = memberships.key_contacts()
        return memberships

    def active_filters(self):
        """What narrows the list beyond the default view, in words, for the empty state."""
        filters = self.filters
        active = []
        if filters["view"] != self.default_view:
            active.append(f"View: {filters['view'].label}")
        if filters["roles"]:
            active.append(
                "Roles: "
                + ", ".join(f"{role.name} ({role.account_type.name})" for role in filters["roles"])
            )
        if filters["q"]:
            active.append(f"Search: “{filters['q']}”")
        if filters["key_only"]:
            active.append("Key contacts only")
        if filters["include_former"]:
            active.append("Including former contacts")
        return active


def contacts_widget(request, account, *, contacts_tally=None):
    """The Contacts widget of `account` for this request: the context of the partials in
    contacts/widget.html, with the filters read from the query string and the page of rows.

    `contacts_tally` (contacts.counts.contact_counts_by_account, which the account page reads
    for its drawing too) labels the View choices with their counts; the htmx refresh of the
    list shows no choices and passes none."""
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
    include_former = filters["include_former"]
    # The View counts are of the contacts there now: with the former ones, the list counts.
    narrowed = filters["roles"] or filters["q"] or filters["key_only"] or include_former
    rows = (
        filter_form.apply(Membership.objects.contacts(include_former=include_former), account)
        .select_related("person", "role", "account__account_type")
        .in_widget_order(
            searching=bool(filters["q"]),
            include_former=include_former,
            # A View alone: its count is on the page already.
            count=None if view_counts is None or narrowed else view_counts[filters["view"].value],
        )
    )
    page = paginate(request.GET, rows, default_size=CONTACTS_PER_PAGE)
    sort = SortOrder(request.GET, SORT_COLUMNS)
    return {
        "account": account,
        "filter_form": filter_form,
        "contacts_page": page,
        "sort_headers": sort.headers(),
        "active_filters": filter_form.active_filters(),
        "can_edit_contacts": request.user.has_perm(staff.CAN_EDIT_CONTACTS),
    }
