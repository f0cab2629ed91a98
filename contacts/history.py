"""An account's history (its History tab and CSV download, SPEC issue 14): the ContactChanges
at the accounts of a View of the account, newest first, and each change in words.

The page (accounts/views.py) and the CSV read the same `changes_in_view` and `describe`, so
the file says what the page shows."""

import csv
from functools import cached_property

from django import forms
from django.utils import timezone

from accounts.models import AccountType, Scope
from config.staff import display_name

from .exports import neutralise
from .models import ContactChange, Membership

CHANGES_PER_PAGE = 50
CHUNK = 2000  # rows read from the database at a time while streaming the CSV
CSV_HEADER = [
    "When",
    "Who",
    "Source",
    "Person",
    "Email",
    "Account",
    "Account ID",
    "Change",
]


class HistoryViewForm(forms.Form):
    """The History tab's View (the Contacts widget's View choices), read from the query string.

    The default is "This account and all children" where the account has children ("every
    change at this account and below it"), else "This account". A View that does not exist
    for this account is reported on the field and the default is shown."""

    view = forms.ChoiceField(label="View", required=False)

    def __init__(self, data, *, account):
        views = account.hierarchy_views(AccountType.objects.in_hierarchy(account))
        views_by_value = {view.value: view for view in views}
        default_view = views_by_value.get(Scope.THIS_AND_ALL_CHILDREN.value, views[0])
        if not data.get("view"):
            # No View asked for: the select shows the default, not its first choice.
            data = data.copy()
            data["view"] = default_view.value
        super().__init__(data)
        self.views, self.default_view = views_by_value, default_view
        self.fields["view"].choices = [(view.value, view.label) for view in views]
        self.fields["view"].error_messages["invalid_choice"] = (
            f"“%(value)s” is not a view of this account, so this shows “{self.default_view.label}”."
        )

    @cached_property
    def chosen_view(self):
        """The chosen HierarchyView, or the default for a missing or unknown one."""
        self.is_valid()
        value = getattr(self, "cleaned_data", {}).get("view") or ""
        return self.views.get(value, self.default_view)


def changes_in_view(account, view):
    """The ContactChanges at the accounts of `view` (a HierarchyView of `account`), newest
    first, with what `describe` and the rows need joined in (person, account and its type,
    staff user): a page of them is one query however long it is. A change whose membership
    was deleted since is listed as well: the change names its person and account itself."""
    return (
        ContactChange.objects.filter(view.q(account, prefix="account__"))
        .select_related("person", "account__account_type", "staff_user")
        .order_by("-changed_at", "-pk")
    )


def who(change):
    """Who made the change: the staff user's name, else "import" or "the command line"."""
    if change.staff_user_id is not None:
        return display_name(change.staff_user)
    if change.source == ContactChange.Source.IMPORT:
        return "import"
    return "the command line"


def _value(text):
    return text or "—"


_STATUS_WORDS = {
    Membership.Status.FORMER: "left the account (former)",
    Membership.Status.ACTIVE: "back at the account (active)",
}


def describe(change):
    """The change in words: "became a contact", "role: End user → Site admin",
    "end date: — → 2026-05-31", "moved from Ada Lovelace <ada@x> (merge)"…"""
    field, old, new = change.field, change.old_value, change.new_value
    Field = ContactChange.Field
    if field == Field.CONTACT:
        return "became a contact" if new == "yes" else "no longer a contact"
    if field == Field.KEY_CONTACT:
        return "key contact" if new == "yes" else "no longer a key contact"
    if field == Field.STATUS and new in _STATUS_WORDS:
        return _STATUS_WORDS[new]
    if field == Field.PERSON:
        return f"moved from {_value(old)} ({change.get_source_display().lower()})"
    label = change.get_field_display()
    if field == Field.ROLE:
        label = "Role"
    return f"{label.lower()}: {_value(old)} → {_value(new)}"


def describe_view(account, view):
    """The download audit's words for what was selected:
    'Account history: PARIS (Paris); View: This account and all children'."""
    return f"Account history: {account.external_id} ({account.name}); View: {view.label}"


class _Echo:
    def write(self, value):
        return value


def csv_chunks(changes, *, download=None):
    """The history as CSV text chunks for a streaming response, every cell neutralised
    against formula injection. With `download` (a DownloadRecord) the rows are counted into
    it."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so spreadsheet programs read UTF-8
    yield writer.writerow(CSV_HEADER)
    records = changes.iterator(chunk_size=CHUNK)
    if download is not None:
        records = download.counting(records)
    for change in records:
        yield writer.writerow(
            [
                neutralise(cell)
                for cell in (
                    timezone.localtime(change.changed_at).strftime("%Y-%m-%d %H:%M"),
                    who(change),
                    change.get_source_display(),
                    change.person.full_name,
                    change.person.email,
                    change.account.name,
                    change.account.external_id,
                    describe(change),
                )
            ]
        )
