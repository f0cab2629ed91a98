"""Past 400 lines as one thing: the forms of the contacts pages (a contact at an account, a
person, tasks and touchpoints, the people list and its segments), which share the contact
pickers and the role fields."""

from functools import cached_property

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import F
from django.db.models.functions import Lower
from django.urls import reverse

from accounts.models import Account, AccountRole, AccountType, Scope
from config import staff
from config.lists import SortOrder

from . import services
from .exports import COLUMNS, DEFAULT_COLUMNS
from .models import Membership, Person, Segment, Task, Touchpoint
from .queries import name_order


class ContactRoleForm(forms.Form):
    """A contact's role (only the roles of its account's type) and key-contact mark."""

    role = forms.ModelChoiceField(
        label="Account role",
        queryset=AccountRole.objects.none(),
        required=False,
        empty_label="No role",
    )
    is_key_contact = forms.BooleanField(label="Key contact", required=False)

    def __init__(self, *args, account, **kwargs):
        # Its own ids: on the account page it sits beside the widget's filters (id_role).
        kwargs.setdefault("auto_id", "contact_%s")
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["role"].queryset = AccountRole.objects.filter(
            account_type_id=account.account_type_id
        ).order_by("name")
        self.fields["role"].label_from_instance = lambda role: role.name
        self.fields["role"].error_messages["invalid_choice"] = (
            f"Choose one of the roles of {account.account_type.name} accounts."
        )


class ContactEditForm(ContactRoleForm):
    """A contact's role and key-contact mark, whether they are still at the account (status)
    and when they joined and left it. The rules on dates are the services' (one place)."""

    status = forms.ChoiceField(
        label="Status",
        choices=Membership.Status.choices,
        # Not sent (a form of before statuses): left as it is.
        required=False,
        widget=forms.RadioSelect,
        help_text="Former: they left the account (moved on)",
    )
    start_date = forms.DateField(
        label="Start date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="When they joined the account (YYYY-MM-DD)",
    )
    end_date = forms.DateField(
        label="End date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="When they left; blank for a former member: today (YYYY-MM-DD)",
    )

    def __init__(self, *args, membership, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "role": membership.role_id,
                "is_key_contact": membership.is_key_contact,
                "status": membership.status,
                "start_date": membership.start_date,
                "end_date": membership.end_date,
            },
        )
        super().__init__(*args, account=membership.account, **kwargs)
        for name in ("start_date", "end_date"):
            self.fields[name].error_messages["invalid"] = (
                "Enter a date as YYYY-MM-DD, such as 2026-05-31."
            )

    def edits(self):
        """The keyword arguments of services.edit_contact: a field the form did not send (a
        page of before issue 14) is left as it is."""
        edits = {name: self.cleaned_data[name] for name in ("role", "is_key_contact", "status")}
        for name in ("start_date", "end_date"):
            edits[name] = self.cleaned_data[name] if name in self.data else services.KEEP
        return edits

    def clean(self):
        cleaned_data = super().clean()
        cleaned_data["status"] = cleaned_data.get("status") or None
        if not self.has_error("start_date") and not self.has_error("end_date"):
            try:
                services.check_status_and_dates(
                    status=cleaned_data["status"] or self.initial.get("status"),
                    start_date=cleaned_data.get("start_date"),
                    end_date=cleaned_data.get("end_date"),
                )
            except forms.ValidationError as error:
                self.add_error(None, error)
        return cleaned_data


class NewPersonContactForm(ContactRoleForm):
    """A new person and their contact details at the account (SPEC §3.4)."""

    # Its fields mix required and optional ones: forms/field.html marks the required.
    required_css_class = "required"

    email = Person._meta.get_field("email").formfield(label="Email")  # the model's rule
    first_name = forms.CharField(label="First Name", max_length=100)
    last_name = forms.CharField(label="Last Name", max_length=100)
    title = forms.CharField(label="Title", max_length=200, required=False)
    phone = forms.CharField(label="Phone", max_length=50, required=False)

    field_order = ["email", "first_name", "last_name", "title", "phone", "role", "is_key_contact"]

    @staticmethod
    def initial_from(text):
        """Pre-fill from what was typed in the type-ahead: an email, or a name."""
        text = " ".join(text.split())
        if "@" in text:
            return {"email": text}
        first, _, last = text.partition(" ")
        return {"first_name": first, "last_name": last}


class PersonForm(forms.ModelForm):
    required_css_class = "required"

    class Meta:
        model = Person
        fields = ["email", "first_name", "last_name", "title", "phone"]
        labels = {"first_name": "First Name", "last_name": "Last Name"}

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        others = Person.objects.with_email(email).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(
                "Another person already has this email.", code="email_exists"
            )
        return email


# The largest id a database key holds: a bigger one names no contact (SQLite would fail on it).
LARGEST_ID = 2**63 - 1


def is_an_id(value):
    """Whether `value` (a string from a request) can be a database id: plain ASCII digits
    ("²" is a digit to str.isdigit, not to int) and small enough for a key."""
    value = str(value)
    return value.isascii() and value.isdigit() and int(value) <= LARGEST_ID


class IdsThatFitMixin:
    """For a ModelMultipleChoiceField: a hand-made id that no key can hold ("99999999999999999999",
    "²") is a value that is not a choice, not a database error (SQLite overflows on it)."""

    def _check_values(self, value):
        for item in value:
            if str(item).isdigit() and not is_an_id(item):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": item},
                )
        return super()._check_values(value)


class ContactChoiceField(IdsThatFitMixin, forms.ModelMultipleChoiceField):
    # What forms/field.html says in place of the checkboxes when there are none.
    empty_text = "No contacts in this company yet."

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "any contact in this company")
        super().__init__(**kwargs)

    def label_from_instance(self, membership):
        label = f"{membership.person.full_name} — {membership.account.name}"
        if membership.is_former:
            return f"{label} (left the account)"
        return label if membership.is_contact else f"{label} (no longer a contact)"


class ContactPicker(forms.Widget):
    """The contacts of a task or touchpoint, chosen by search rather than from a list of every
    contact of the company: the chosen ones as checked checkboxes drawn as removable chips,
    then a search field. With JavaScript the field is the type-ahead of `suggestions_url` and
    a pick adds a chip; without it, its button ("Find contacts", `<name>_find`) sends the form
    back with the contacts matching `<name>_search` as more checkboxes (`matches`).

    Only the chosen contacts are read from the field's queryset, never all of them."""

    template_name = "contacts/widgets/contact_picker.html"
    suggestions_url = ""
    chosen_label = "Chosen contacts"
    search_text = ""
    matches = None  # the contacts a search without JavaScript found; None: no search made

    def value_from_datadict(self, data, files, name):
        getter = getattr(data, "getlist", None)
        return getter(name) if getter else data.get(name) or []

    def value_omitted_from_data(self, data, files, name):
        # No checkbox ticked sends nothing: the contacts are then none, not left as they were.
        return False

    def format_value(self, value):
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        return [str(v.pk if hasattr(v, "pk") else v) for v in value]

    def chosen(self, values):
        """The chosen contacts among those the field offers, in the order they were chosen."""
        ids = [int(v) for v in values if is_an_id(v)]
        if not ids or not hasattr(self.choices, "queryset"):
            return []
        found = {m.pk: m for m in self.choices.queryset.filter(pk__in=ids)}
        return [found[pk] for pk in dict.fromkeys(ids) if pk in found]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        chosen = self.chosen(context["widget"]["value"])
        chosen_ids = {m.pk for m in chosen}
        context["widget"].update(
            # Whether the company has any contact to pick at all (asked only when none is).
            has_choices=bool(chosen) or self.choices.queryset.exists(),
            chosen_label=self.chosen_label,
            chosen=[(m, self.choices.field.label_from_instance(m)) for m in chosen],
            matches=None
            if self.matches is None
            else [
                (m, self.choices.field.label_from_instance(m))
                for m in self.matches
                if m.pk not in chosen_ids
            ],
            search_name=f"{name}_search",
            find_name=f"{name}_find",
            search_text=self.search_text,
            suggestions_url=self.suggestions_url,
        )
        return context

    def id_for_label(self, id_):
        # The label names the search field: what one types into to add a contact.
        return f"{id_}_search" if id_ else id_


class HierarchyContactsMixin:
    """A contact picker offering what a task or touchpoint of the account may link to
    (MembershipQuerySet.linkable): every contact in its company hierarchy, and those it links
    already, so saving it never drops one silently. The server refuses any other (a hand-made
    POST gets "not one of the available choices").

    The picker (ContactPicker) shows only the chosen contacts and those a search finds."""

    contacts_field = "contacts"
    SEARCH_MATCHES = 20  # contacts a search without JavaScript lists

    @property
    def search_name(self):
        return f"{self.contacts_field}_search"

    @property
    def find_name(self):
        """The search button's name: a form sent by it searches, and saves nothing."""
        return f"{self.contacts_field}_find"

    def setup_contacts(self, account):
        field = self.fields[self.contacts_field]
        linked = (
            getattr(self.instance, self.contacts_field).values_list("pk", flat=True)
            if self.instance.pk
            else ()
        )
        field.queryset = (
            Membership.objects.linkable(account, linked=linked)
            .select_related("person", "account")
            .order_by("person__last_name", "person__first_name", "account__name")
        )
        field.error_messages["invalid_choice"] = (
            "Pick contacts of this company hierarchy only: one of those sent is not one of them."
        )
        field.widget.suggestions_url = reverse("contacts:contact-suggestions", args=[account.pk])
        field.widget.chosen_label = f"Chosen {field.label.lower()}"

    def search_contacts(self, text):
        """List, in the picker, the contacts of the hierarchy matching `text` (a search made
        without JavaScript), to tick beside those chosen already."""
        text = " ".join(text.split())[:200]
        widget = self.fields[self.contacts_field].widget
        widget.search_text = text
        widget.matches = (
            list(self.fields[self.contacts_field].queryset.matching(text)[: self.SEARCH_MATCHES])
            if text
            else []
        )

    def valid_contact_ids(self, values):
        """The ids among `values` (a query string's) that are contacts this form may link,
        and how many were not."""
        widget = self.fields[self.contacts_field].widget
        chosen = [m.pk for m in widget.chosen(values)]
        return chosen, len(set(values)) - len(chosen)


class TaskForm(HierarchyContactsMixin, forms.ModelForm):
    required_css_class = "required"
    contacts = ContactChoiceField(
        label="Contacts",
        queryset=Membership.objects.none(),
        required=False,
        widget=ContactPicker,
    )

    class Meta:
        model = Task
        fields = ["title", "due_date", "owner", "contacts"]
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_contacts(account)
        self.fields["owner"].queryset = (
            get_user_model()
            .objects.filter(is_active=True)
            .order_by("first_name", "last_name", "username")
        )
        self.fields["owner"].label_from_instance = staff.display_name


class TouchpointForm(HierarchyContactsMixin, forms.ModelForm):
    required_css_class = "required"
    contacts_field = "participants"
    participants = ContactChoiceField(
        label="Participants",
        queryset=Membership.objects.none(),
        required=False,
        widget=ContactPicker,
    )

    class Meta:
        model = Touchpoint
        fields = ["kind", "happened_at", "subject", "notes", "participants"]
        labels = {"happened_at": "When"}
        widgets = {
            "happened_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_contacts(account)


class AccountTypeahead(forms.TextInput):
    """A text input that suggests accounts by name or Account ID as one types."""

    template_name = "contacts/widgets/account_typeahead.html"


class PeopleFilterForm(forms.Form):
    """The filters and columns of the people list (SPEC §3.7), read from the query string.

    A value that does not fit is reported on its field, and that filter falls back to its
    default: the list still shows, narrowed by the filters that are valid.
    """

    YES_NO_ANY = [("", "Any"), ("yes", "Yes"), ("no", "No")]
    ACCOUNT_SCOPES = [
        (Scope.THIS_ACCOUNT.value, "This account only"),
        (Scope.THIS_AND_ALL_CHILDREN.value, "This account and all below it"),
        (Scope.ENTIRE_HIERARCHY.value, "Its whole company hierarchy"),
    ]

    contact = forms.ChoiceField(
        label="Contact",
        choices=YES_NO_ANY,
        required=False,
        error_messages={
            "invalid_choice": "“%(value)s” is not Yes or No, so this shows contacts and others."
        },
    )
    key = forms.ChoiceField(
        label="Key contact",
        choices=YES_NO_ANY,
        required=False,
        error_messages={
            "invalid_choice": "“%(value)s” is not Yes or No, so this shows key contacts and others."
        },
    )
    account = forms.CharField(
        label="Account",
        required=False,
        max_length=64,
        widget=AccountTypeahead,
        error_messages={
            "max_length": (
                "An Account ID or name has at most %(limit_value)d characters (this has "
                "%(show_value)d), so this shows every account."
            )
        },
    )
    scope = forms.ChoiceField(
        label="Accounts",
        choices=ACCOUNT_SCOPES,
        required=False,
        initial=Scope.THIS_ACCOUNT.value,
        error_messages={
            "invalid_choice": "“%(value)s” is not one of the choices, so this shows "
            "this account only."
        },
    )
    account_type = forms.ModelChoiceField(
        label="Account type",
        queryset=AccountType.objects.all(),
        required=False,
        empty_label="Any type",
        error_messages={
            "invalid_choice": "“%(value)s” is not an account type, so this shows every type."
        },
    )
    role = forms.ModelChoiceField(
        label="Role",
        queryset=AccountRole.objects.select_related("account_type"),
        required=False,
        empty_label="Any role",
        error_messages={"invalid_choice": "“%(value)s” is not a role, so this shows every role."},
    )
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.SearchInput,
        error_messages={
            "max_length": (
                "Search for at most %(limit_value)d characters (this has %(show_value)d), "
                "so this shows everyone."
            )
        },
    )
    cols = forms.MultipleChoiceField(
        label="Columns",
        required=False,
        choices=[(c.key, c.label) for c in COLUMNS.values()],
        error_messages={
            "invalid_choice": "“%(value)s” is not a column, so this shows the default columns."
        },
    )

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"placeholder": "Name or email", "autocomplete": "off"}
        )
        self.fields["role"].label_from_instance = lambda r: f"{r.name} ({r.account_type.name})"
        self.fields["account"].widget.attrs.update(
            {"placeholder": "Account ID, or type a name", "autocomplete": "off"}
        )

    def clean_account(self):
        """The account named by its Account ID (what the type-ahead fills in)."""
        account_id = self.cleaned_data["account"].strip()
        if not account_id:
            return None
        accounts = Account.objects.select_related("account_type")
        account = accounts.filter(external_id=account_id).first()
        if account is None:
            # A name typed in full (not picked from the suggestions) does too, if only one
            # account has it.
            named = list(accounts.filter(name__iexact=account_id)[:2])
            account = named[0] if len(named) == 1 else None
        if account is None:
            raise forms.ValidationError(
                "No account has the Account ID or name “%(id)s”, so this shows every account.",
                code="unknown_account",
                params={"id": account_id},
            )
        return account

    @cached_property
    def filters(self):
        """The valid filters; an invalid one falls back to its default (and is reported)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "contact": data.get("contact") or "",
            "key": data.get("key") or "",
            "account": data.get("account"),
            "scope": data.get("scope") or Scope.THIS_ACCOUNT.value,
            "account_type": data.get("account_type"),
            "role": data.get("role"),
            "q": data.get("q") or "",
            # Order kept as sent, repeats dropped.
            "columns": list(dict.fromkeys(data.get("cols") or [])) or list(DEFAULT_COLUMNS),
        }

    # The People list's default order is by name (contacts.queries.name_order), then account;
    # a chosen sort comes first and this breaks its ties.
    # What a click on a column's header sorts by: {column key: the fields, in order}. Every
    # column of exports.COLUMNS sorts; Name sorts by last then first name, as the default does.
    SORT_FIELDS = {
        "name": ("person__last_name", "person__first_name"),
        "email": ("person__email",),
        "first_name": ("person__first_name",),
        "last_name": ("person__last_name",),
        "account": ("account__name",),
        "account_id": ("account__external_id",),
        "account_type": ("account__account_type__name",),
        "role": ("role__name",),
        "contact": ("is_contact",),
        "key_contact": ("is_key_contact",),
        "title": ("person__title",),
        "phone": ("person__phone",),
        "status": ("status",),
        "start_date": ("start_date",),
        "end_date": ("end_date",),
    }

    @cached_property
    def sort_order(self):
        """The order chosen by `?sort=` (config.lists.SortOrder) among the columns; an unknown
        one leaves the default order."""
        return SortOrder(self.data, {key: COLUMNS[key].label for key in self.SORT_FIELDS})

    def _ordering(self):
        sort = self.sort_order
        fields = []
        if sort.key == "email":
            # Lower(email): the expression of the unique index of people's email, which
            # PostgreSQL walks and stops after a page (a sort of every row otherwise).
            email = Lower("person__email")
            fields = [email.desc() if sort.descending else email.asc()]
        elif sort.key is not None:
            # Blanks (no role, no end date) last either way: they say nothing to sort by.
            fields = [
                F(name).desc(nulls_last=True) if sort.descending else F(name).asc(nulls_last=True)
                for name in self.SORT_FIELDS[sort.key]
            ]
        # A search picks people all over the alphabet: walking the name index to them reads
        # most of it (0.6 s on SPEC §7's large set), so the matches found by the trigram
        # indexes are sorted instead.
        names = name_order("person__", walk_index=not self.filters["q"])
        return [*fields, *names, "account__name", "pk"]

    def memberships(self):
        """The memberships these filters select, in the chosen order (else list order), ready
        to show or stream."""
        f = self.filters
        memberships = Membership.objects.select_related("person", "account__account_type", "role")
        if f["contact"]:
            memberships = memberships.filter(is_contact=f["contact"] == "yes")
        if f["key"]:
            memberships = memberships.filter(is_key_contact=f["key"] == "yes")
        if f["account"]:
            memberships = memberships.in_scope(f["account"], f["scope"])
        if f["account_type"]:
            memberships = memberships.filter(account__account_type=f["account_type"])
        if f["role"]:
            memberships = memberships.filter(role=f["role"])
        if f["q"]:
            memberships = memberships.matching(f["q"])
        return memberships.order_by(*self._ordering())


class SegmentNameField(forms.CharField):
    """A segment's name, saved or renamed alike: runs of spaces (a pasted name) are one space,
    before the length is checked."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", Segment._meta.get_field("name").max_length)
        super().__init__(**kwargs)

    def to_python(self, value):
        return " ".join(super().to_python(value).split())


class SegmentForm(forms.Form):
    """Save the people list's filters and columns (its query string) under a name."""

    name = SegmentNameField(
        label="Segment name",
        error_messages={"required": "Give the segment a name."},
        widget=forms.TextInput(attrs={"placeholder": "e.g. All contacts, name and email"}),
    )
    shared = forms.BooleanField(label="Share with every staff user", required=False)
    query = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.HiddenInput,
        error_messages={
            "max_length": "These filters are too long to save as a segment: choose fewer of them."
        },
    )

    def __init__(self, *args, **kwargs):
        # Its own ids: it sits on the people page beside the filters.
        kwargs.setdefault("auto_id", "segment_%s")
        super().__init__(*args, **kwargs)


class SegmentRenameForm(forms.Form):
    name = SegmentNameField(
        label="New name",
        error_messages={"required": "A segment needs a name."},
    )

    def __init__(self, *args, segment=None, **kwargs):
        """With `segment`, the rename box of its row on the Saved segments page: its name
        filled in, a label naming it and ids of its own, as each row has a box."""
        if segment is not None:
            kwargs.setdefault("initial", {"name": segment.name})
            kwargs.setdefault("auto_id", f"rename-{segment.pk}-%s")
        super().__init__(*args, **kwargs)
        if segment is not None:
            self.fields["name"].label = f"New name for {segment.name}"


class TaskStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=Task.Status.choices,
        error_messages={
            "required": "Unknown task status.",
            "invalid_choice": "Unknown task status.",
        },
    )
