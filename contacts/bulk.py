"""Bulk actions on the Contacts widget's rows (issue 15): what a selection is, what an action
would change (the plan the confirm page shows, with the rows left out and why), and applying
it all or nothing, with one ContactChange per changed field.

A selection is either rows picked on a page (each sent as "<membership pk>:<stamp>", the stamp
being its `updated_at` when the page was drawn) or "all N matching" (the widget's query string
and the moment the page was drawn): the server selects the same rows again. A row changed
since (another stamp, or updated after that moment), gone, or that the action does not fit is
named and left out; the confirm page carries a fingerprint of its plan, and a POST whose plan
differs gets the new confirm page instead of writing anything.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import batched

from django import forms
from django.db import transaction
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountRole

from . import services
from .models import ContactChange, Membership
from .widget import matching_contacts, widget_filter_form

# The actions, as the bulk bar offers them.
SET_ROLE = "set_role"
MARK_KEY = "mark_key"
UNMARK_KEY = "unmark_key"
REMOVE = "remove"
ADD_TASK = "add_task"
ACTIONS = {
    SET_ROLE: "Set role",
    MARK_KEY: "Mark key contact",
    UNMARK_KEY: "Unmark key contact",
    REMOVE: "Remove as contact",
    ADD_TASK: "Add to a new task",
}
# Writes go to the database this many rows at a time (one UPDATE, one INSERT of history each).
WRITE_BATCH = 500
# The confirm page lists this many rows of each kind, and counts the rest.
ROWS_SHOWN = 50
# A task's link carries its contacts in the query string: a browser's URL has its limits.
TASK_CONTACTS_MAX = 100


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# Bounds of what a hand-made request may send: ids of a bigint, moments before the year 10000.
PK_LIMIT = 2**63
LAST_MOMENT = 253402300799999999


def _microseconds(moment):
    # Exact integers: a float of seconds would round some microseconds away.
    return (moment - EPOCH) // timedelta(microseconds=1)


def row_stamp(membership):
    """A membership's state as the page drew it: its last change, to the microsecond."""
    return str(_microseconds(membership.updated_at))


def selection_value(membership):
    """What a row's checkbox sends: "<pk>:<stamp>"."""
    return f"{membership.pk}:{row_stamp(membership)}"


def now_stamp():
    """The moment a page is drawn, for "all N matching": rows updated later changed since."""
    return str(_microseconds(timezone.now()))


class SelectedRowsField(forms.Field):
    """Rows picked on a page: a list of "<pk>:<stamp>" values, as {pk: stamp}."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid": "The selection was not understood (“%(value)s”). Select the rows again."
    }

    def to_python(self, value):
        picks = {}
        for item in value or []:
            pk, _, stamp = str(item).partition(":")
            try:
                pk, stamp = int(pk), int(stamp)
                if not 0 < pk < PK_LIMIT:
                    raise ValueError
            except ValueError:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid", params={"value": item[:40]}
                ) from None
            picks[pk] = str(stamp)
        return picks


class BulkActionForm(forms.Form):
    """One bulk action over a selection of the widget of `account` (GET: the confirm page;
    POST: applying it). Its `plan()` says what would change."""

    action = forms.ChoiceField(label="Action", choices=list(ACTIONS.items()))
    role = forms.ModelChoiceField(
        label="Role", queryset=AccountRole.objects.none(), required=False, empty_label="Choose…"
    )
    contact = SelectedRowsField(required=False)
    # Without JavaScript, "select all on this page" sends the page's rows in `page_contact`.
    page_contact = SelectedRowsField(required=False)
    all_on_page = forms.BooleanField(required=False)
    all_matching = forms.BooleanField(required=False)
    query = forms.CharField(required=False, max_length=4000)
    as_of = forms.IntegerField(required=False, min_value=0, max_value=LAST_MOMENT)
    matching = forms.IntegerField(required=False, min_value=0)
    # The fields that say what is selected, carried from page to page as they came.
    SELECTION = (
        "contact",
        "page_contact",
        "all_on_page",
        "all_matching",
        "query",
        "as_of",
        "matching",
    )
    # Set role without a role (set by clean): the confirm page asks for one first.
    needs_role = False

    def __init__(self, data, *, account):
        super().__init__(data)
        self.account = account
        self.fields["role"].queryset = (
            AccountRole.objects.in_hierarchy(account)
            .select_related("account_type")
            .order_by("account_type__order", "name")
        )
        self.fields["role"].label_from_instance = lambda role: role.name
        self.fields["role"].error_messages["invalid_choice"] = (
            "That role is not a role in this company: choose one of the list."
        )
        self.fields["action"].error_messages["invalid_choice"] = (
            "“%(value)s” is not an action: choose one of the list."
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        self.needs_role = data["action"] == SET_ROLE and data.get("role") is None
        if data["all_matching"]:
            if data.get("as_of") is None:
                raise forms.ValidationError(
                    "The selection was not understood (no time of selection). Select the rows "
                    "again.",
                    code="invalid",
                )
            self.filter_form = widget_filter_form(QueryDict(data["query"] or ""), self.account)
            if self.filter_form.errors:
                raise forms.ValidationError(
                    "The filters of this selection are not valid (%(errors)s): nothing was "
                    "selected. Go back to the contacts and select again.",
                    code="bad_filters",
                    params={
                        "errors": " ".join(
                            message
                            for messages in self.filter_form.errors.values()
                            for message in messages
                        )
                    },
                )
        else:
            picks = data["page_contact"] if data["all_on_page"] else {}
            data["picks"] = {**picks, **data["contact"]}
            if not data["picks"]:
                raise forms.ValidationError(
                    "No contacts were selected: tick the rows to act on first.", code="empty"
                )
        return data

    def selection_fields(self):
        """(name, value) of the selection as it was sent, for the confirm page's forms."""
        return [(name, value) for name in self.SELECTION for value in self.data.getlist(name)]

    def back_url(self):
        """The widget, with the filters it had (only its own query string, re-encoded)."""
        query = QueryDict(self.data.get("query") or "").urlencode()
        return self.account.get_absolute_url() + (f"?{query}" if query else "")

    def selected(self, *, lock=False):
        """The memberships the selection names, as they are now: one query."""
        data = self.cleaned_data
        columns = ("person", "role", "account__account_type")
        if data["all_matching"]:
            rows = matching_contacts(
                QueryDict(data["query"] or ""), self.account, filter_form=self.filter_form
            )
        else:
            # Every membership of the company named, contact or no longer: one that stopped
            # being a contact since is named on the confirm page, not silently dropped.
            rows = Membership.objects.in_hierarchy(self.account).filter(pk__in=data["picks"])
        if lock:
            rows = rows.select_for_update(of=("self",))
        return list(rows.select_related(*columns).in_list_order())

    def plan(self, *, lock=False):
        data = self.cleaned_data
        rows = self.selected(lock=lock)
        if data["all_matching"]:
            as_of = EPOCH + timedelta(microseconds=data["as_of"])
            return plan_action(
                rows,
                action=data["action"],
                role=data.get("role"),
                changed_since=lambda m: m.updated_at > as_of,
                missing=0,
                matching_then=data.get("matching"),
            )
        picks = data["picks"]
        return plan_action(
            rows,
            action=data["action"],
            role=data.get("role"),
            changed_since=lambda m: row_stamp(m) != picks[m.pk],
            missing=len(picks) - len(rows),
        )


@dataclass
class Row:
    membership: Membership
    says: str  # what will change, or why it is left out or unchanged


@dataclass
class Plan:
    """What an action over a selection would do: `changes` (rows it writes), `unchanged`
    (rows that have it already), `left_out` (rows named and skipped), `missing` (ids no
    longer there in this company: counted, not named)."""

    action: str
    role: AccountRole | None
    changes: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    left_out: list = field(default_factory=list)
    missing: int = 0
    matching_then: int | None = None

    @property
    def selected(self):
        return len(self.changes) + len(self.unchanged) + len(self.left_out)

    @property
    def fingerprint(self):
        """What the confirm page showed, in 16 hex digits: the POST applies only this."""
        parts = [
            self.action,
            str(self.role.pk if self.role else ""),
            ",".join(str(row.membership.pk) for row in self.changes),
            ",".join(f"{row.membership.pk}:{row.says}" for row in self.unchanged + self.left_out),
            str(self.missing),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def task_url(self, account):
        """The account's new-task form with these contacts chosen."""
        query = QueryDict(mutable=True)
        query.setlist("contact", [str(row.membership.pk) for row in self.changes])
        return reverse("contacts:task-new", args=[account.pk]) + f"?{query.urlencode()}"

    def summary(self):
        """What was done, in words, for the message after applying it."""
        count = len(self.changes)
        contacts = f"{count} contact{'s' if count != 1 else ''}"
        done = {
            SET_ROLE: f"Set the role “{self.role.name if self.role else ''}” for {contacts}.",
            MARK_KEY: f"Marked {contacts} as key contact{'s' if count != 1 else ''}.",
            UNMARK_KEY: f"Unmarked {contacts} as key contact{'s' if count != 1 else ''}.",
            REMOVE: f"Removed {contacts}; the people and their memberships are kept.",
        }[self.action]
        skipped = len(self.left_out) + self.missing
        if skipped:
            done += f" {skipped} selected {'was' if skipped == 1 else 'were'} left out."
        return done


def describe_state(membership):
    key = "key contact" if membership.is_key_contact else "not a key contact"
    role = membership.role.name if membership.role_id else "no role"
    status = "left the account" if membership.is_former else "active"
    return f"{role}, {key}, {status}"


def plan_action(rows, *, action, role, changed_since, missing, matching_then=None):
    """Sort `rows` (memberships, person, role and account type read) into what `action` would
    change, what has it already, and what is left out and why."""
    plan = Plan(action=action, role=role, missing=missing, matching_then=matching_then)
    for m in rows:
        if not m.is_contact:
            plan.left_out.append(Row(m, "is no longer a contact (removed since you selected it)"))
        elif changed_since(m):
            now = describe_state(m)
            plan.left_out.append(Row(m, f"changed since you selected it (now: {now})"))
        elif action == SET_ROLE and role.account_type_id != m.account.account_type_id:
            plan.left_out.append(
                Row(m, f"{m.account.account_type.name} accounts do not take the role “{role.name}”")
            )
        elif action == SET_ROLE and m.role_id == role.pk:
            plan.unchanged.append(Row(m, f"is already “{role.name}”"))
        elif action in (MARK_KEY, ADD_TASK) and m.is_former:
            plan.left_out.append(Row(m, f"left the account on {m.end_date:%Y-%m-%d}"))
        elif action == MARK_KEY and m.is_key_contact:
            plan.unchanged.append(Row(m, "is already a key contact"))
        elif action == UNMARK_KEY and not m.is_key_contact:
            plan.unchanged.append(Row(m, "is not a key contact"))
        else:
            plan.changes.append(Row(m, _what_changes(m, action, role)))
    if action == ADD_TASK and len(plan.changes) > TASK_CONTACTS_MAX:
        plan.left_out.extend(
            Row(row.membership, f"a new task takes at most {TASK_CONTACTS_MAX} contacts at once")
            for row in plan.changes[TASK_CONTACTS_MAX:]
        )
        del plan.changes[TASK_CONTACTS_MAX:]
    return plan


def _what_changes(m, action, role):
    if action == SET_ROLE:
        return f"Role: {m.role.name if m.role_id else 'no role'} → {role.name}"
    if action == MARK_KEY:
        return "Key contact: no → yes"
    if action == UNMARK_KEY:
        return "Key contact: yes → no"
    if action == REMOVE:
        return "Contact: yes → no" + (" (and no longer key contact)" if m.is_key_contact else "")
    return "Linked to the new task"


# What each action writes, the same for every row it changes.
WRITES = {
    SET_ROLE: lambda role: {"role": role},
    MARK_KEY: lambda role: {"is_key_contact": True, "is_contact": True},
    UNMARK_KEY: lambda role: {"is_key_contact": False},
    REMOVE: lambda role: {"is_contact": False, "is_key_contact": False},
}


@transaction.atomic
def apply_plan(plan, *, by, source=ContactChange.Source.APP):
    """Write `plan`'s changes: the same edit as services.edit_contact / remove_contact make one
    by one, in batches of WRITE_BATCH rows (an UPDATE and an INSERT of history each), so that
    "all 10,000 matching" is some forty queries, not forty thousand.

    Side effects: updates the memberships (and their updated_at), records a ContactChange per
    changed field (services.unsaved_contact_changes, as record_contact_changes does), raises
    or closes "key contact left" alerts (services.after_status_change). Returns the memberships
    changed."""
    memberships = [row.membership for row in plan.changes]
    before = {m.pk: services.tracked_values(m) for m in memberships}
    writes = WRITES[plan.action](plan.role)
    now = timezone.now()
    for m in memberships:
        for name, value in writes.items():
            setattr(m, name, value)
        m.updated_at = now
    history = [
        change
        for m in memberships
        for change in services.unsaved_contact_changes(
            membership=m, before=before[m.pk], source=source, by=by, at=now
        )
    ]
    for batch in batched(memberships, WRITE_BATCH):
        Membership.objects.filter(pk__in=[m.pk for m in batch]).update(**writes, updated_at=now)
    ContactChange.objects.bulk_create(history, batch_size=WRITE_BATCH)
    services.after_status_change(memberships=memberships, before=before, by=by)
    return memberships
