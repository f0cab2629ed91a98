"""The Contacts widget of an account's page (SPEC §3.3), in one place: its filters, its rows
with their order (key contacts first, or the column a header sorts by) and paging, and
`contacts_widget`, the one call the account page makes. Its markup is
templates/contacts/widget.html (partials `contacts-widget` and `contact-results`); the htmx
refresh of the list is served by the account page's own URL, /accounts/<id>/, with HX-Request.

`matching_contacts(params, account)` is every row the filters select, in the widget's order:
what the download (contacts/views/widget.py) writes and a bulk action's "all N matching" takes.
"""

from functools import cached_property

from django import forms

from accounts.models import Account, AccountRole, AccountType, Scope
from config import staff
from config.lists import SortOrder, paginate

from .forms import IdsThatFitMixin
from .models import ContactSearch, Membership
from .queries import (
    Counted,
    GroupsInNameOrder,
    PagedByIds,
    SearchMatches,
    column_order,
    name_order,
    person_search_q,
)

CONTACTS_PER_PAGE = 25
# The columns a click on their header sorts by (?sort=name, ?sort=-name).
SORT_COLUMNS = {
    "name": "Name",
    "email": "Email",
    "role": "Role",
    "account": "Account",
    "type": "Type",
}
# The columns sorted by a group of rows (a role, an account, an account type): what the contacts
# are counted by, and the model whose name orders the groups.
GROUPED_BY = {
    "role": ("role", AccountRole),
    "account": ("account", Account),
    "type": ("account__account_type", AccountType),
}
# What an htmx refresh of the widget swaps in: the list, not the filters.
RESULTS_TEMPLATE = "contacts/widget.html#contact-results"


class RoleChoiceField(IdsThatFitMixin, forms.ModelMultipleChoiceField):
    """Roles by id; an id too large for a key is a role not in this company."""


class ContactFilterForm(forms.Form):
    """The Contacts widget's filters (SPEC §3.3), read from the query string.

    A value that does not fit (a view that does not exist for this account, a role from another
    hierarchy) is reported on its field and above the list (`fallbacks`), and that filter
    falls back to its default.
    """

    view = forms.ChoiceField(label="View", required=False)
    role = RoleChoiceField(
        label="Roles",
        queryset=AccountRole.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
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

    def role_groups(self):
        """[(account type name, [(role id, role name, checked)])]: the Roles checkboxes in the
        groups the page draws (each group a fieldset), the chosen ones ticked."""
        chosen = {role.pk for role in self.filters["roles"]}
        return [
            (group, [(pk, name, pk in chosen) for pk, name in options])
            for group, options in self.fields["role"].choices
        ]

    def fallbacks(self):
        """What the list shows instead of a filter that does not fit (a View this account has
        not, a role of another company), in words, for a notice above the list."""
        if not self.is_bound or self.is_valid():
            return []
        return [error for field in ("view", "role") for error in self.errors.get(field, [])]

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


def widget_filter_form(params, account, *, counts=None, account_types=None):
    """The widget's filter form for `params` at `account`; with `counts` (ContactCounts), its
    View choices carry their counts and its Roles are grouped for the page. `account_types`:
    the types of the hierarchy, when the caller has read them already."""
    view_counts = None
    if account_types is None:
        account_types = AccountType.objects.in_hierarchy(account)
    views = account.hierarchy_views(account_types)
    if counts is not None:
        view_counts = {view.value: counts.in_view(view) for view in views}
    return ContactFilterForm(
        params,
        views=views,
        view_counts=view_counts,
        # The roles of the hierarchy's types (AccountRole.objects.in_hierarchy), by the types
        # read already.
        roles=AccountRole.objects.filter(account_type__in=account_types).select_related(
            "account_type"
        ),
        account_type=account.account_type,
    )


def widget_order(filters, sort):
    """ORDER BY of the widget's list as one query: the column sorted by (column_order), else
    key contacts first, then by name (with the former contacts: those still there first)."""
    if sort.key is not None:
        return column_order(sort.key, descending=sort.descending)
    if filters["include_former"]:
        return ["status", "-is_key_contact", *name_order("person__"), "pk"]
    return ["-is_key_contact", *name_order("person__"), "pk"]


def matching_contacts(params, account, *, filter_form=None):
    """The memberships the widget's filters in `params` (a QueryDict: view, role, q, key,
    former, sort) select at `account`: every one, not a page, in the widget's order, as a
    queryset. What a bulk action's "all N matching" and the download select. `filter_form`:
    the widget_filter_form of these params, when the caller has it already."""
    filter_form = filter_form or widget_filter_form(params, account)
    filters = filter_form.filters
    memberships = filter_form.apply(
        Membership.objects.contacts(include_former=filters["include_former"]), account
    )
    return memberships.order_by(*widget_order(filters, SortOrder(params, SORT_COLUMNS)))


def contact_ids_in_widget_order(filters, account):
    """The ids of the contacts there now that the widget's `filters` select at `account`, key
    contacts first then by name, read from the contacts' search table: its indexes hold each
    contact's company beside the trigrams of its names (a search) and in the widget's order
    (the Entire hierarchy, read a page at a time)."""
    found = ContactSearch.objects.filter(tree_id=account.tree_id)
    view = filters["view"]
    if view.scope != Scope.ENTIRE_HIERARCHY:
        found = found.filter(view.q(account, prefix="account__"))
    if filters["roles"]:
        found = found.filter(role__in=filters["roles"])
    if filters["key_only"]:
        found = found.filter(is_key_contact=True)
    if filters["q"]:
        found = found.filter(person_search_q(filters["q"]))
    return found.order_by(
        "-is_key_contact", *name_order(walk_index=not filters["q"]), "membership_id"
    ).values_list("membership_id", flat=True)


def _sorted_rows(memberships, filters, sort, *, count):
    """The widget's rows sorted by a column, as a list that pages (see contacts.queries)."""
    descending = sort.descending
    if filters["q"]:
        return SearchMatches(
            memberships, order=column_order(sort.key, descending=descending, walk_index=False)
        )
    if filters["include_former"] or sort.key in ("name", "email"):
        # Name and email: PostgreSQL walks the person name (email) index and stops after a
        # page. With the former contacts, the rows of one account's few are sorted.
        rows = memberships.order_by(*column_order(sort.key, descending=descending))
        return Counted(rows, count=None if filters["include_former"] else count)
    # Role, account, type: the contacts are counted per role (account, type), and a page read
    # from the few groups it spans.
    field, model = GROUPED_BY[sort.key]
    return GroupsInNameOrder(
        memberships,
        field=field,
        arrange=lambda counts: _in_name_order_of(model, counts, descending),
    )


def _in_name_order_of(model, counts, descending):
    """[([id], contacts)] of the roles, accounts or types counted, by name (and id); the
    contacts without one (no role) last."""
    ordered = list(
        model.objects.filter(pk__in=[pk for pk in counts if pk is not None])
        .order_by("name", "pk")
        .values_list("pk", flat=True)
    )
    if descending:
        ordered.reverse()
    groups = [([pk], counts[pk]) for pk in ordered]
    if None in counts:
        groups.append(([None], counts[None]))
    return groups


def contacts_widget(request, account, *, counts=None, account_types=None):
    """The Contacts widget of `account` for this request: the context of the partials in
    contacts/widget.html, with the filters read from the query string and the page of rows.

    `counts` (contacts.counts.ContactCounts, from the accounts the account page draws) labels
    the View choices with their counts; the htmx refresh of the list shows no choices and
    passes none. `account_types`: the hierarchy's types, when the caller has them."""
    filter_form = widget_filter_form(
        request.GET, account, counts=counts, account_types=account_types
    )
    view_counts = counts is not None
    filters = filter_form.filters
    include_former = filters["include_former"]
    # The View counts are of the contacts there now: with the former ones, the list counts.
    narrowed = filters["roles"] or filters["q"] or filters["key_only"] or include_former
    # A View alone: its count is on the page already.
    count = None if not view_counts or narrowed else counts.in_view(filters["view"])
    memberships = filter_form.apply(
        Membership.objects.contacts(include_former=include_former), account
    ).select_related("person", "role", "account__account_type")
    sort = SortOrder(request.GET, SORT_COLUMNS)
    if sort.key is not None:
        rows = _sorted_rows(memberships, filters, sort, count=count)
    elif filters["q"] and not include_former:
        rows = SearchMatches(memberships, found=contact_ids_in_widget_order(filters, account))
    elif filters["view"].scope == Scope.ENTIRE_HIERARCHY and not (
        filters["roles"] or include_former
    ):
        # The whole company's contacts (maybe its key contacts only), a page read from the
        # search table's index in this order. A View of part of it, or a few roles, would be
        # found only far along that walk.
        rows = PagedByIds(memberships, contact_ids_in_widget_order(filters, account), count=count)
    else:
        rows = memberships.in_widget_order(include_former=include_former, count=count)
    page = paginate(request.GET, rows, default_size=CONTACTS_PER_PAGE)
    return {
        "account": account,
        "filter_form": filter_form,
        "contacts_page": page,
        "sort_headers": sort.headers(),
        # The filter form sends these along, so a new filter keeps the order and page size.
        "list_state": {
            "sort": sort.value,
            "per_page": str(page.paginator.per_page) if "per_page" in request.GET else "",
        },
        "role_chips": _role_chips(request.GET, filters["roles"]),
        "fallbacks": filter_form.fallbacks(),
        "active_filters": filter_form.active_filters(),
        "can_edit_contacts": request.user.has_perm(staff.CAN_EDIT_CONTACTS),
        "can_download": request.user.has_perm(staff.CAN_DOWNLOAD_SEGMENTS),
        "list_query": _list_query(request.GET),
    }


def _list_query(params):
    """The query string of the list without its page: what the download links carry."""
    query = params.copy()
    for key in ("page", "per_page"):
        query.pop(key, None)
    return query.urlencode()


def _role_chips(params, roles):
    """[(role, URL of the list without it)]: a chip per chosen role, a plain link that drops
    it and keeps every other filter (back to page 1)."""
    chips = []
    for role in roles:
        query = params.copy()
        query.pop("page", None)
        query.setlist("role", [v for v in params.getlist("role") if v != str(role.pk)])
        chips.append((role, "?" + query.urlencode()))
    return chips


# The widget's columns in a file (Name, Email, Role, Account with its ID, Type, the key-contact
# mark); with the former contacts, their status and when they left.
DOWNLOAD_COLUMNS = ["name", "email", "role", "account", "account_id", "account_type", "key_contact"]
FORMER_COLUMNS = ["status", "end_date"]


def download_columns(params):
    former = ContactFilterForm.base_fields["former"].clean(params.get("former"))
    return DOWNLOAD_COLUMNS + (FORMER_COLUMNS if former else [])


def download_description(params, account):
    """What a download of the widget held, in words, for the download audit: 'Contacts widget
    of CORP (Corp); View: This account; Roles: …; Sorted by Name, descending'."""
    filter_form = widget_filter_form(params, account)
    sort = SortOrder(params, SORT_COLUMNS)
    words = [
        f"Contacts widget of {account.external_id} ({account.name})",
        f"View: {filter_form.filters['view'].label}",
        *(d for d in filter_form.active_filters() if not d.startswith("View: ")),
    ]
    if sort.key is not None:
        words.append(
            f"Sorted by {SORT_COLUMNS[sort.key]}{', descending' if sort.descending else ''}"
        )
    return "; ".join(words)
