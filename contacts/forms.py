from functools import cached_property

from django import forms

from accounts.models import AccountRole


class ContactFilterForm(forms.Form):
    """The Contacts widget's filters (SPEC §3.3), read from the query string.

    A value that does not fit (a view that does not exist for this account, a role from another
    hierarchy) is reported on its field and that filter falls back to its default.
    """

    view = forms.ChoiceField(label="View", required=False)
    role = forms.ModelMultipleChoiceField(
        label="Roles", queryset=AccountRole.objects.none(), required=False
    )
    q = forms.CharField(label="Search", required=False, max_length=200, strip=True)
    key = forms.BooleanField(label="Key contacts only", required=False)

    def __init__(self, data, *, views, view_counts, roles, account_type):
        super().__init__(data)
        self.views = {view.value: view for view in views}
        self.default_view = views[0]
        self.fields["view"].choices = [
            (view.value, f"{view.label} ({view_counts[view.value]})") for view in views
        ]
        self.fields["role"].queryset = roles
        # Grouped by account type, this account's own type first.
        groups = {}
        for role in roles.order_by("account_type__order", "name"):
            groups.setdefault(role.account_type, []).append((role.pk, role.name))
        self.fields["role"].choices = [
            (role_type.name, options)
            for role_type, options in sorted(
                groups.items(), key=lambda item: item[0].pk != account_type.pk
            )
        ]
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
            {"type": "search", "placeholder": "Name or email", "autocomplete": "off"}
        )

    @cached_property
    def filters(self):
        """The valid filters as a dict: view (a HierarchyView), roles, q, key_only."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "view": self.views.get(data.get("view") or "", self.default_view),
            "roles": list(data.get("role") or []),
            "q": data.get("q") or "",
            "key_only": bool(data.get("key")),
        }

    def apply(self, memberships, account):
        """The memberships of `memberships` that these filters select, relative to `account`."""
        filters = self.filters
        memberships = memberships.filter(filters["view"].q(account, prefix="account__"))
        if filters["roles"]:
            memberships = memberships.filter(role__in=filters["roles"])
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
            active.append("Roles: " + ", ".join(role.name for role in filters["roles"]))
        if filters["q"]:
            active.append(f"Search: “{filters['q']}”")
        if filters["key_only"]:
            active.append("Key contacts only")
        return active


class ContactEditForm(forms.Form):
    """A contact's role (only the roles of its account's type) and key-contact mark."""

    role = forms.ModelChoiceField(
        label="Account role", queryset=AccountRole.objects.none(), required=False,
        empty_label="No role",
    )
    is_key_contact = forms.BooleanField(label="Key contact", required=False)

    def __init__(self, *args, membership, **kwargs):
        kwargs.setdefault(
            "initial", {"role": membership.role_id, "is_key_contact": membership.is_key_contact}
        )
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = AccountRole.objects.filter(
            account_type_id=membership.account.account_type_id
        ).order_by("name")
        self.fields["role"].error_messages["invalid_choice"] = (
            f"Choose one of the roles of {membership.account.account_type.name} accounts."
        )
