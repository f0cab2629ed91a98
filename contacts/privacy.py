"""Privacy of people data: the download audit and "Forget this person" (SPEC §5: Global admins).

Every download of people data is recorded as a DownloadRecord (record_download): the people
list and its segments here, the users file, import error files and the admin's exports from
integrations, which records through the same function (imports go integrations → contacts).

Forgetting a person (forget_person) removes them with their memberships and replaces what the
history holds of them with a placeholder. The history outside contacts (import jobs and their
error files) is integrations', which receives the `person_forgotten` signal and scrubs it:
contacts cannot import integrations, and the forgetting must reach it in the same transaction.
"""

import json
import re
from dataclasses import dataclass

from django import forms
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.http import QueryDict

from accounts.models import Scope
from config.staff import display_name

from .exports import COLUMNS
from .models import (
    ContactChange,
    DownloadRecord,
    ForgottenPerson,
    Membership,
    Person,
    Segment,
    Task,
    Touchpoint,
    placeholder,
)

# Download audit


def record_download(
    *,
    kind,
    by,
    filters,
    file_format,
    channel=DownloadRecord.Channel.APP,
    row_count=None,
):
    """Record a download of people data as it starts. `by` is the staff user (None from the
    command line). Give `row_count` when the rows are known already; otherwise pass the rows
    through the record's `counting()` and it is completed when they are written.
    Returns the DownloadRecord."""
    return DownloadRecord.objects.create(
        kind=kind,
        channel=channel,
        staff_user=by,
        staff_name=display_name(by) if by is not None else "",
        filters=filters,
        file_format=file_format,
        row_count=row_count,
        complete=row_count is not None,
    )


SCOPE_WORDS = {
    Scope.THIS_ACCOUNT.value: "this account only",
    Scope.THIS_AND_ALL_CHILDREN.value: "and all below it",
    Scope.ENTIRE_HIERARCHY.value: "its whole company hierarchy",
}


def describe_people_filters(filters, *, segment=None):
    """The filters of a people list (PeopleFilterForm.filters) in words, for the audit:
    'Segment “EMEA”; Contact: yes; Account: CORP (Corp), its whole company hierarchy; …'."""
    words = []
    if segment is not None:
        words.append(f"Segment “{segment.name}”")
    if filters["contact"]:
        words.append(f"Contact: {filters['contact']}")
    if filters["key"]:
        words.append(f"Key contact: {filters['key']}")
    if account := filters["account"]:
        scope = SCOPE_WORDS.get(filters["scope"], filters["scope"])
        words.append(f"Account: {account.external_id} ({account.name}), {scope}")
    if filters["account_type"]:
        words.append(f"Account type: {filters['account_type'].name}")
    if role := filters["role"]:
        words.append(f"Role: {role.name} ({role.account_type.name})")
    if filters["q"]:
        words.append(f"Search: “{filters['q']}”")
    if len(words) == (segment is not None):
        words.append("Everyone")
    words.append("Columns: " + ", ".join(COLUMNS[key].label for key in filters["columns"]))
    return "; ".join(words)


class DownloadFilterForm(forms.Form):
    """The download audit's filter: one staff user's downloads, or everyone's."""

    staff_user = forms.ModelChoiceField(
        label="Staff user",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Everyone",
        error_messages={
            "invalid_choice": "That staff user has no downloads, so this lists everyone's."
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only those who downloaded something: a list of every staff user would be longer
        # and mostly lead nowhere.
        self.fields["staff_user"].queryset = (
            get_user_model()
            .objects.filter(pk__in=DownloadRecord.objects.values("staff_user"))
            .order_by("username")
        )
        self.fields["staff_user"].label_from_instance = display_name

    def records(self):
        records = DownloadRecord.objects.all()
        staff_user = self.cleaned_data.get("staff_user") if self.is_valid() else None
        return records.filter(staff_user=staff_user) if staff_user else records


# Forget this person

# Sent inside forget_person's transaction, before the person is deleted, with `traces` (a
# PersonTraces) and `placeholder` (the text that stands for them). A receiver scrubs the
# history it keeps and returns {what: how many} for the record of the forgetting.
person_forgotten = Signal()


@dataclass(frozen=True)
class PersonTraces:
    """How a person shows in free text and files: their email and full name (whole words,
    any case). A name or email they had before an edit is not known and not found."""

    person_pk: int
    email: str
    full_name: str

    @property
    def placeholder(self):
        return placeholder(self.person_pk)

    @property
    def pattern(self):
        parts = [re.escape(self.email)]
        if self.full_name.strip():
            parts.append(re.escape(" ".join(self.full_name.split())).replace(r"\ ", r"\s+"))
        # Not inside a longer word or address (ada@x.example.org is someone else).
        return re.compile(r"(?<![\w.+-])(?:" + "|".join(parts) + r")(?![\w-]|\.\w)", re.IGNORECASE)

    def search_terms(self):
        """Text that any mention of the person contains, for a database filter (`icontains`)
        that spares the pattern most rows: the email and the first word of the name, as
        written and as JSON writes it with non-ASCII escaped (the admin log's messages)."""
        words = self.full_name.split()
        terms = {self.email.strip()}
        if words:
            first = words[0]
            terms.update(
                {first, *(json.dumps(form)[1:-1] for form in (first, first.lower(), first.upper()))}
            )
        return sorted(term for term in terms if term)

    def has_email(self, value):
        return str(value or "").strip().lower() == self.email.strip().lower()

    def scrub(self, text):
        """`text` with every trace of the person replaced by the placeholder."""
        if not isinstance(text, str) or not text:
            return text
        return self.pattern.sub(self.placeholder, text)

    def scrub_json(self, value):
        """A JSON value (dicts, lists, strings) with every string scrubbed."""
        if isinstance(value, dict):
            return {key: self.scrub_json(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.scrub_json(item) for item in value]
        return self.scrub(value)


@transaction.atomic
def forget_person(*, person, by):
    """Remove a person, their memberships and with them their contact history and their links
    to tasks and touchpoints; replace what the rest of the history holds of them (download
    records' filters, segments' saved queries, the Django admin's log, and, through the
    `person_forgotten` signal, integrations' import jobs and error files) with
    "Forgotten person #<id>". Task and touchpoint text is left as written.

    Raises Person.DoesNotExist when the person is gone already (forgotten twice at once).
    Side effects: the deletions and rewrites above, and a ForgottenPerson record (who, when,
    the person's id, how much was removed). Returns that record.
    """
    person = Person.objects.select_for_update().get(pk=person.pk)
    traces = PersonTraces(person_pk=person.pk, email=person.email, full_name=person.full_name)
    memberships = Membership.objects.filter(person=person)
    removed = {
        "memberships": memberships.count(),
        "contact changes": ContactChange.objects.filter(person=person).count(),
        "task links": Task.contacts.through.objects.filter(membership__person=person).count(),
        "touchpoint links": Touchpoint.participants.through.objects.filter(
            membership__person=person
        ).count(),
        "download records rewritten": _scrub_download_records(traces),
        "segments rewritten": _scrub_segments(traces),
        "admin log entries rewritten": _scrub_admin_log(traces, memberships),
    }
    for _receiver, counts in person_forgotten.send(
        sender=Person, traces=traces, placeholder=traces.placeholder
    ):
        removed.update(counts or {})
    person.delete()
    return ForgottenPerson.objects.create(
        person_pk=traces.person_pk,
        staff_user=by,
        staff_name=display_name(by) if by is not None else "",
        removed=removed,
    )


def _scrub_download_records(traces):
    """A search for the person's email or name, kept in a record's filters."""
    count = 0
    for record in DownloadRecord.objects.only("pk", "filters").iterator():
        scrubbed = traces.scrub(record.filters)
        if scrubbed != record.filters:
            DownloadRecord.objects.filter(pk=record.pk).update(filters=scrubbed)
            count += 1
    return count


def _scrub_segments(traces):
    """A segment whose saved query searches for the person (or whose name names them)."""
    count = 0
    for segment in Segment.objects.only("pk", "name", "query").iterator():
        query = QueryDict(segment.query, mutable=True)
        changed = False
        for key, values in query.lists():
            scrubbed = [traces.scrub(value) for value in values]
            if scrubbed != values:
                query.setlist(key, scrubbed)
                changed = True
        name = traces.scrub(segment.name)
        if changed or name != segment.name:
            query_text = query.urlencode() if changed else segment.query
            Segment.objects.filter(pk=segment.pk).update(name=name[:100], query=query_text)
            count += 1
    return count


def _scrub_admin_log(traces, memberships):
    """The Django admin's log names objects as they were shown: the person, and each of their
    memberships ("Ada Lovelace at Paris"), in its entries' object_repr and in their change
    messages, where the inlines of an account's or a person's page list the memberships
    added, changed or deleted there."""
    person_type = ContentType.objects.get_for_model(Person)
    membership_type = ContentType.objects.get_for_model(Membership)
    own = Q(content_type=person_type, object_id=str(traces.person_pk)) | Q(
        content_type=membership_type,
        object_id__in=[str(pk) for pk in memberships.values_list("pk", flat=True)],
    )
    mentions = Q()
    for term in traces.search_terms():
        mentions |= Q(object_repr__icontains=term) | Q(change_message__icontains=term)
    entries = LogEntry.objects.filter(own | mentions).only(
        "pk", "object_repr", "change_message", "content_type", "object_id"
    )
    count = 0
    for entry in entries.iterator():
        is_the_person = entry.content_type_id == person_type.pk and entry.object_id == str(
            traces.person_pk
        )
        object_repr = traces.placeholder if is_the_person else traces.scrub(entry.object_repr)
        change_message = _scrub_change_message(traces, entry.change_message)
        if (object_repr, change_message) != (entry.object_repr, entry.change_message):
            LogEntry.objects.filter(pk=entry.pk).update(
                object_repr=object_repr[:200], change_message=change_message
            )
            count += 1
    return count


def _scrub_change_message(traces, message):
    """A log entry's change message: Django's JSON list (kept valid JSON, as Django writes
    it, so that the admin's history still reads it) or plain text."""
    try:
        value = json.loads(message)
    except ValueError:
        return traces.scrub(message)
    if not isinstance(value, (list, dict)):
        return traces.scrub(message)
    scrubbed = traces.scrub_json(value)
    return message if scrubbed == value else json.dumps(scrubbed)
