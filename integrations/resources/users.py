"""The users file (SPEC §4.1): one row per person per account.

A chunk is judged on plain values (tuples from `values_list()`, lists for what changes), not
model instances, and written with integrations.bulk: at a hundred thousand rows, building four
model instances per row costs more than the whole database work.
"""

import tablib
from django.db import connections
from django.utils import timezone
from import_export.fields import Field

from accounts.models import Account, AccountRole, AccountType
from contacts.models import ContactChange, Membership, Person
from contacts.validators import is_valid_email

from ..bulk import BulkWriter
from ..models import last_users_sync
from ..widgets import IsoDateWidget, StatusWidget, TextWidget, YesNoWidget, plain_line_ends
from .base import LISTED_ROWS, NEW, SKIP, UPDATE, Change, FileResource, ReAdd, _max_length
from .users_reads import UsersLookups
from .users_status import ACTIVE, described, note_key_contact_change, status_and_dates
from .users_writes import ChunkPlan, NewMembership, serialise_users_imports, write_plan

PERSON_COLUMNS = (
    ("first_name", "First Name"),
    ("last_name", "Last Name"),
    ("title", "Title"),
    ("phone", "Phone"),
)
# Where each is in a person's values: [pk, email, first_name, last_name, title, phone].
PERSON_INDEX = {attribute: index for index, (attribute, _) in enumerate(PERSON_COLUMNS, 2)}
# How a membership's contact marks and role are written in its history (as
# contacts.services.tracked_values writes them), and which column of the file each one is.
MEMBERSHIP_COLUMNS = {
    ContactChange.Field.ROLE: "Account Role",
    ContactChange.Field.CONTACT: "Contact",
    ContactChange.Field.KEY_CONTACT: "Key Contact",
    ContactChange.Field.STATUS: "Status",
    ContactChange.Field.START_DATE: "Start Date",
    ContactChange.Field.END_DATE: "End Date",
}
# Lines that give a person's profile differently from an earlier line, listed one by one.
LISTED_CONFLICTS = 20


class UsersResource(UsersLookups, FileResource):
    """One row per person per account: the person's profile, and their membership of the
    account with its role and the contact and key-contact marks.

    `keep_removed` (default True) is the re-add guard's choice: a row that would make someone a
    contact again after a staff user removed them since the last users import or export leaves
    the contact mark as it is; the row is listed in `result.readds` either way.
    """

    file_kind = "users file"
    mapping_file = "users"
    job_kind = "users"
    required_columns = ("Account ID", "Email")
    model = Membership

    account_id = Field(
        attribute="account__external_id",
        column_name="Account ID",
        widget=TextWidget(_max_length(Account, "external_id")),
    )
    email = Field(
        attribute="person__email",
        column_name="Email",
        widget=TextWidget(_max_length(Person, "email")),
    )
    first_name = Field(
        attribute="person__first_name",
        column_name="First Name",
        widget=TextWidget(_max_length(Person, "first_name")),
    )
    last_name = Field(
        attribute="person__last_name",
        column_name="Last Name",
        widget=TextWidget(_max_length(Person, "last_name")),
    )
    title = Field(
        attribute="person__title",
        column_name="Title",
        widget=TextWidget(_max_length(Person, "title")),
    )
    phone = Field(
        attribute="person__phone",
        column_name="Phone",
        widget=TextWidget(_max_length(Person, "phone")),
    )
    account_role = Field(
        attribute="role__name",
        column_name="Account Role",
        widget=TextWidget(_max_length(AccountRole, "name")),
    )
    contact = Field(attribute="is_contact", column_name="Contact", widget=YesNoWidget())
    key_contact = Field(attribute="is_key_contact", column_name="Key Contact", widget=YesNoWidget())
    status = Field(attribute="status", column_name="Status", widget=StatusWidget())
    start_date = Field(attribute="start_date", column_name="Start Date", widget=IsoDateWidget())
    end_date = Field(attribute="end_date", column_name="End Date", widget=IsoDateWidget())

    class Meta:
        report_skipped = False
        skip_diff = True

    def __init__(self, *, keep_removed=True, **kwargs):
        super().__init__(**kwargs)
        self.keep_removed = keep_removed

    # Import

    def run(self, rows, result, *, dry_run, collect_failed_rows):
        self.readds = []
        self.conflicts = []
        self.conflict_count = 0
        super().run(rows, result, dry_run=dry_run, collect_failed_rows=collect_failed_rows)
        result.readd_count = len(self.readds)
        result.kept_removed = result.readd_count if self.keep_removed else 0
        result.readds = self.readds[:LISTED_ROWS]
        result.warnings.extend(self.conflicts)
        if self.conflict_count > len(self.conflicts):
            result.warnings.append(
                f"… and {self.conflict_count - len(self.conflicts):,} more lines that give a "
                "person's First Name, Last Name, Title or Phone differently from an earlier line; "
                "the earlier value is kept."
            )

    def before_run(self, *, dry_run):
        using = self.get_db_connection_name()
        if not dry_run:
            serialise_users_imports(using, on_wait=getattr(self.progress, "waiting", None))
        if connections[using].vendor == "postgresql":
            # Every lookup of a chunk has an index to use, but inside this transaction the
            # statistics of people and memberships are those of before the import: after a
            # first load of a hundred thousand rows they still say "empty", and PostgreSQL
            # would scan the whole table once per chunk. For this transaction only, it is told
            # to prefer the indexes.
            with connections[using].cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        self.writer = BulkWriter(using, journal=None if dry_run else self.journal_for_run())
        self.accounts = {}  # Account ID → AccountRef, or None when there is no such account
        roles = list(
            AccountRole.objects.order_by("name").values_list("pk", "account_type_id", "name")
        )
        self.roles = {(type_id, name.casefold()): pk for pk, type_id, name in roles}
        self.role_names = {pk: name for pk, _, name in roles}
        self.roles_of_type = {}
        for _, type_id, name in roles:
            self.roles_of_type.setdefault(type_id, []).append(name)
        self.type_names = dict(AccountType.objects.values_list("pk", "name"))
        self.seen = {}  # (email in lower case, Account ID) → the first line with them
        # A person's profile as the file first gives it: email → {attribute: (value, line)}.
        self.profiles = {}
        # People created or changed by rows that were not written (a dry run, or the rest of
        # an all-or-nothing run after an error), so later rows find them as the database would.
        self.unwritten_people = {}
        self.sync_point = last_users_sync()
        self.now = timezone.now()
        self.today = timezone.localdate()

    def parse(self, line, values):
        row = super().parse(line, values)
        data = row.data
        if not data["account_id"] and "Account ID" not in row.errors:
            row.error("Account ID", "Account ID is required.")
        email = data["email"]
        if not email and "Email" not in row.errors:
            row.error("Email", "Email is required.")
        elif email and not is_valid_email(email):
            row.error("Email", f"“{email}” is not a valid email address.")
            email = None
        data["email_key"] = email.lower() if email else None
        if data["contact"] is False and data["key_contact"] is True:
            row.error(
                "Key Contact",
                "Contact is no but Key Contact is yes: a key contact is always a contact.",
            )
        if email and data["account_id"]:
            first = self.seen.setdefault((data["email_key"], data["account_id"]), line)
            if first != line:
                row.error(
                    "Email",
                    f"The same Email and Account ID are on lines {first} and {line}: a person "
                    "can be on one line per account.",
                )
        row.label = f"{email or data['email'] or '—'} at {data['account_id'] or '—'}"
        return row

    def process_chunk(self, rows, *, write):
        self._load_accounts({row.data["account_id"] for row in rows if row.data["account_id"]})
        people = self._load_people(
            {row.data["email_key"] for row in rows if row.data["email_key"]}, lock=write
        )
        creating = set()  # people that an earlier row of this chunk creates
        for row in rows:
            self._resolve(row, people, creating)
        valid = [row for row in rows if not row.errors]
        memberships = self._load_memberships([row.context for row in valid], lock=write)
        making_contact = {
            (row.context[2][0], row.context[0].pk)
            for row in valid
            if row.context[2] is not None
            and (row.data["contact"] is True or row.data["key_contact"] is True)
        }
        removals = self._load_removals(
            [
                membership[0]
                for key, membership in memberships.items()
                if not membership[2] and key in making_contact
            ]
        )
        plan = ChunkPlan()
        for row in valid:
            self._decide(row, memberships, removals, plan)
        if write:
            write_plan(plan, writer=self.writer, by=self.by, now=self.now)
        else:
            self.unwritten_people.update(plan.new_people)
            self.unwritten_people.update(
                (person[1].lower(), person) for person in plan.changed_people.values()
            )

    def _resolve(self, row, people, creating):
        """The account, role id and person of a row, or its errors."""
        data = row.data
        account = self.accounts.get(data["account_id"]) if data["account_id"] else None
        if data["account_id"] and account is None and "Account ID" not in row.errors:
            row.error("Account ID", f"No account has the Account ID “{data['account_id']}”.")
        role_id = None
        if account is not None and data["account_role"]:
            role_id = self.roles.get((account.account_type_id, data["account_role"].casefold()))
            if role_id is None:
                valid = ", ".join(self.roles_of_type.get(account.account_type_id, [])) or "none"
                row.error(
                    "Account Role",
                    f"“{data['account_role']}” is not a role of "
                    f"{self.type_names[account.account_type_id]} accounts. Valid roles: {valid}.",
                )
        key = data["email_key"]
        person = people.get(key) if key else None
        if person is None and key and key not in creating:
            for attribute, column in PERSON_COLUMNS[:2]:
                if not data[attribute] and column not in row.errors:
                    row.error(column, f"{column} is required for a new person.")
            if not row.errors:
                creating.add(key)
        row.context = (account, role_id, person)

    def _profile(self, row, key):
        """The row's First Name, Last Name, Title and Phone, where an earlier line of the file
        gave this person a different value keeping that one: a person has one profile, and a
        file read twice must change nothing the second time."""
        profile = self.profiles.setdefault(key, {})
        values = {}
        for attribute, column in PERSON_COLUMNS:
            value = row.data[attribute]
            if not value:
                values[attribute] = ""
                continue
            first = profile.setdefault(attribute, (value, row.line))
            if first[0] != value:
                self.conflict_count += 1
                if len(self.conflicts) < LISTED_CONFLICTS:
                    self.conflicts.append(
                        f"Line {row.line}: {column} “{value}” differs from “{first[0]}” on line "
                        f"{first[1]} for the same Email; the earlier value is kept."
                    )
            values[attribute] = first[0]
        return values

    def _decide(self, row, memberships, removals, plan):
        """Apply the row to its person and membership (in memory) and note its changes."""
        data = row.data
        account, role_id, person = row.context
        key = data["email_key"]
        stored = memberships.get((person[0], account.pk)) if person and person[0] else None
        dates = status_and_dates(row, stored, today=self.today)
        if dates is None:
            return
        changes = row.changes
        profile = self._profile(row, key)
        person = person or plan.new_people.get(key)
        if person is None:
            person = [None, data["email"], *(profile[a] for a, _ in PERSON_COLUMNS)]
            if self.listing:
                changes.append(Change("Email", "", data["email"]))
                changes.extend(
                    Change(column, "", profile[a]) for a, column in PERSON_COLUMNS if profile[a]
                )
            plan.new_people[key] = person
        else:
            for attribute, column in PERSON_COLUMNS:
                value, index = profile[attribute], PERSON_INDEX[attribute]
                old = person[index]
                # A stored value with stray spaces reads as the same value from a file.
                if value and value != plain_line_ends(old.strip()):
                    changes.append(Change(column, old, value))
                    person[index] = value
                    if person[0] is None:
                        plan.new_people[key] = person
                    else:
                        plan.changed_people[person[0]] = person

        membership = memberships.get((person[0], account.pk)) if person[0] else None
        if membership is None:
            is_key = data["key_contact"] is True
            new = NewMembership(
                person, account.pk, role_id, data["contact"] is True or is_key, is_key, *dates
            )
            plan.new_memberships.append(new)
            before = (None, False, False, ACTIVE, None, None)
            after = (role_id, new.is_contact, new.is_key_contact, *dates)
            reference = new
            row.import_type = NEW
        else:
            pk, old_role, is_contact, is_key, *old_dates = membership
            before = (old_role, is_contact, is_key, *old_dates)
            if data["contact"] is not None:
                is_contact = data["contact"]
                is_key = is_key and is_contact
            if data["key_contact"] is not None:
                is_key = data["key_contact"]
                is_contact = is_contact or is_key
            if is_contact and not before[1] and pk in removals:
                removed_at, removed_by = removals[pk]
                self.readds.append(
                    ReAdd(
                        line=row.line,
                        email=person[1],
                        account_id=account.external_id,
                        account_name=account.name,
                        removed_at=removed_at,
                        removed_by=removed_by,
                    )
                )
                if self.keep_removed:
                    is_contact, is_key = False, False
            after = (role_id or old_role, is_contact, is_key, *dates)
            if after != before:
                membership[1:] = after
                plan.changed_memberships[pk] = membership
            reference = pk
        for field, old, new in zip(
            MEMBERSHIP_COLUMNS,
            described(before, self.role_names),
            described(after, self.role_names),
            strict=True,
        ):
            if old != new:
                # A new membership's changes only show in the preview's list; an existing
                # one's also tell an update from an unchanged row.
                if self.listing or membership is not None:
                    changes.append(Change(MEMBERSHIP_COLUMNS[field], old, new))
                plan.history.append((reference, person, account.pk, field, old, new))
        if membership is not None:
            row.import_type = UPDATE if changes else SKIP
        note_key_contact_change(plan, reference, account.pk, before, after)

    # Export

    def get_queryset(self):
        return Membership.objects.all()

    def export_queryset(self, queryset=None, *, contacts_only=False):
        """The memberships to write, in company-tree order; a queryset of people stands for
        all their memberships (the admin's people list)."""
        if queryset is None:
            queryset = self.get_queryset()
        elif queryset.model is Person:
            queryset = Membership.objects.filter(person__in=queryset.values("pk"))
        if contacts_only:
            queryset = queryset.filter(is_contact=True)
        return queryset.order_by("account__tree_id", "account__lft", "person__email", "pk")

    def export_rows(self, queryset=None, *, contacts_only=False):
        """Each membership as the cells of a users file row, streamed from the database."""
        fields = list(self.fields.values())
        lookups = [field.attribute for field in fields]
        renders = [field.widget.render for field in fields]
        rows = (
            self.export_queryset(queryset, contacts_only=contacts_only)
            .values_list(*lookups)
            .iterator(chunk_size=self.chunk_size)
        )
        for values in rows:
            yield [render(value) for render, value in zip(renders, values, strict=True)]

    def export(self, queryset=None, **kwargs):
        """The library's export (the admin's export button): the same rows as a Dataset."""
        return tablib.Dataset(*self.export_rows(queryset), headers=self.columns())
