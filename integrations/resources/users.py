"""The users file (SPEC §4.1): one row per person per account."""

from dataclasses import dataclass

import tablib
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import timezone
from import_export.fields import Field

from accounts.models import Account, AccountRole, AccountType
from contacts.models import ContactChange, Membership, Person
from contacts.services import tracked_values

from ..models import last_users_sync
from ..widgets import TextWidget, YesNoWidget
from .base import LISTED_ROWS, NEW, SKIP, UPDATE, Change, FileResource, ReAdd, _max_length

@dataclass(frozen=True)
class _AccountRef:
    pk: int
    external_id: str
    name: str
    account_type_id: int


PERSON_COLUMNS = (
    ("first_name", "First Name"),
    ("last_name", "Last Name"),
    ("title", "Title"),
    ("phone", "Phone"),
)


class UsersResource(FileResource):
    """One row per person per account: the person's profile, and their membership of the
    account with its role and the contact and key-contact marks.

    `keep_removed` (default True) is the re-add guard's choice: a row that would make someone a
    contact again after a staff user removed them since the last users import or export leaves
    the contact mark as it is; the row is listed in `result.readds` either way.
    """

    file_kind = "users file"
    required_columns = ("Account ID", "Email")
    model = Membership

    account_id = Field(attribute="account__external_id", column_name="Account ID",
                       widget=TextWidget(_max_length(Account, "external_id")))
    email = Field(attribute="person__email", column_name="Email",
                  widget=TextWidget(_max_length(Person, "email")))
    first_name = Field(attribute="person__first_name", column_name="First Name",
                       widget=TextWidget(_max_length(Person, "first_name")))
    last_name = Field(attribute="person__last_name", column_name="Last Name",
                      widget=TextWidget(_max_length(Person, "last_name")))
    title = Field(attribute="person__title", column_name="Title",
                  widget=TextWidget(_max_length(Person, "title")))
    phone = Field(attribute="person__phone", column_name="Phone",
                  widget=TextWidget(_max_length(Person, "phone")))
    account_role = Field(attribute="role__name", column_name="Account Role",
                         widget=TextWidget(_max_length(AccountRole, "name")))
    contact = Field(attribute="is_contact", column_name="Contact", widget=YesNoWidget())
    key_contact = Field(attribute="is_key_contact", column_name="Key Contact", widget=YesNoWidget())

    class Meta:
        report_skipped = False
        skip_diff = True

    def __init__(self, *, keep_removed=True, **kwargs):
        super().__init__(**kwargs)
        self.keep_removed = keep_removed

    # Import

    def before_run(self, *, dry_run):
        self.accounts = {}  # Account ID → _AccountRef, or None when there is no such account
        roles = list(AccountRole.objects.order_by("name"))
        self.roles = {(role.account_type_id, role.name.casefold()): role for role in roles}
        self.roles_by_id = {role.pk: role for role in roles}
        self.role_names = {}
        for role in roles:
            self.role_names.setdefault(role.account_type_id, []).append(role.name)
        self.type_names = dict(AccountType.objects.values_list("pk", "name"))
        self.seen = {}  # (email in lower case, Account ID) → the first line with them
        # People created by rows that were not written (a dry run, or after an error in an
        # all-or-nothing run), so later rows find them as the database would.
        self.unwritten_people = {}
        self.sync_point = last_users_sync()
        self.now = timezone.now()

    def parse(self, line, values):
        row = super().parse(line, values)
        data = row.data
        if not data["account_id"] and "Account ID" not in row.errors:
            row.error("Account ID", "Account ID is required.")
        email = data["email"]
        if not email and "Email" not in row.errors:
            row.error("Email", "Email is required.")
        elif email:
            try:
                validate_email(email)
            except ValidationError:
                row.error("Email", f"“{email}” is not a valid email address.")
                email = None
        data["email_key"] = email.lower() if email else None
        if data["contact"] is False and data["key_contact"] is True:
            row.error(
                "Key Contact",
                "Contact is no but Key Contact is yes: a key contact is always a contact.",
            )
        if email and data["account_id"]:
            key = (data["email_key"], data["account_id"])
            first = self.seen.setdefault(key, line)
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
            {row.data["email_key"] for row in rows if row.data["email_key"] and not row.errors},
            lock=write,
        )
        creating = set()  # people that an earlier row of this chunk creates
        for row in rows:
            self._resolve(row, people, creating)
        valid = [row for row in rows if not row.errors]
        memberships = self._load_memberships([row.context for row in valid], lock=write)
        making_contact = {
            (row.context[2].pk, row.context[0].pk)
            for row in valid
            if row.context[2] is not None
            and (row.data["contact"] is True or row.data["key_contact"] is True)
        }
        removals = self._load_removals(
            [membership for key, membership in memberships.items()
             if not membership.is_contact and key in making_contact]
        )
        plan = _ChunkPlan()
        for row in valid:
            self._decide(row, memberships, removals, plan)
        if write:
            self._write(plan)
        else:
            for key, person in plan.new_people.items():
                self.unwritten_people[key] = _person_values(person)

    def _load_accounts(self, external_ids):
        missing = [external_id for external_id in external_ids if external_id not in self.accounts]
        if not missing:
            return
        for values in Account.objects.filter(external_id__in=missing).values_list(
            "pk", "external_id", "name", "account_type_id"
        ):
            self.accounts[values[1]] = _AccountRef(*values)
        for external_id in missing:
            self.accounts.setdefault(external_id, None)

    def _load_people(self, email_keys, *, lock):
        """{email in lower case: Person} for the people of this chunk: from the database, or
        created earlier in this run by rows that were not written."""
        if not email_keys:
            return {}
        people = Person.objects.annotate(email_lower=Lower("email")).filter(
            email_lower__in=email_keys
        ).only("pk", "email", "first_name", "last_name", "title", "phone")
        if lock:
            # Rows this run updates stay as it read them until it commits.
            people = people.select_for_update()
        found = {person.email.lower(): person for person in people}
        for key in email_keys:
            if key not in found and key in self.unwritten_people:
                found[key] = Person(**self.unwritten_people[key])
        return found

    def _resolve(self, row, people, creating):
        """The account, role and person of a row, or its errors."""
        data = row.data
        account = self.accounts.get(data["account_id"]) if data["account_id"] else None
        if data["account_id"] and account is None and "Account ID" not in row.errors:
            row.error("Account ID", f"No account has the Account ID “{data['account_id']}”.")
        role = None
        if account is not None and data["account_role"]:
            role = self.roles.get((account.account_type_id, data["account_role"].casefold()))
            if role is None:
                row.error(
                    "Account Role",
                    f"“{data['account_role']}” is not a role of "
                    f"{self.type_names[account.account_type_id]} accounts. Valid roles: "
                    f"{', '.join(self.role_names.get(account.account_type_id, [])) or 'none'}.",
                )
        person = people.get(data["email_key"]) if data["email_key"] else None
        if person is None and data["email_key"] and data["email_key"] not in creating:
            for attribute, column in PERSON_COLUMNS[:2]:
                if not data[attribute] and column not in row.errors:
                    row.error(column, f"{column} is required for a new person.")
            if not row.errors:
                creating.add(data["email_key"])
        row.context = (account, role, person)

    def _load_memberships(self, contexts, *, lock):
        person_ids = {person.pk for _, _, person in contexts if person is not None and person.pk}
        account_ids = {account.pk for account, _, _ in contexts}
        if not person_ids:
            return {}
        memberships = Membership.objects.filter(
            person_id__in=person_ids, account_id__in=account_ids
        ).only("pk", "person_id", "account_id", "role_id", "is_contact", "is_key_contact")
        if lock:
            memberships = memberships.select_for_update()
        found = {}
        for membership in memberships:
            if membership.role_id:
                membership.role = self.roles_by_id[membership.role_id]
            found[membership.person_id, membership.account_id] = membership
        return found

    def _load_removals(self, memberships):
        """{membership pk: (when, by whom)} for contacts a staff user removed (in the app or
        the admin) since the last users import or export."""
        if not memberships:
            return {}
        changes = ContactChange.objects.filter(
            membership__in=memberships, field=ContactChange.Field.CONTACT, new_value="no",
        ).exclude(source=ContactChange.Source.IMPORT)
        if self.sync_point is not None:
            changes = changes.filter(changed_at__gt=self.sync_point)
        removals = {}
        for membership_id, changed_at, username, first, last in changes.order_by(
            "membership_id", "-changed_at", "-pk"
        ).values_list(
            "membership_id", "changed_at", "staff_user__username", "staff_user__first_name",
            "staff_user__last_name",
        ):
            name = f"{first or ''} {last or ''}".strip() or username or "a staff user"
            removals.setdefault(membership_id, (changed_at, name))
        return removals

    def _decide(self, row, memberships, removals, plan):
        """Apply the row to its person and membership in memory, and note its changes."""
        data = row.data
        account, role, person = row.context
        key = data["email_key"]
        changes = row.changes
        person = person or plan.new_people.get(key)
        if person is None:
            person = Person(email=data["email"], **{a: data[a] for a, _ in PERSON_COLUMNS})
            changes.append(Change("Email", "", data["email"]))
            changes.extend(Change(column, "", data[a]) for a, column in PERSON_COLUMNS if data[a])
            plan.new_people[key] = person
        else:
            for attribute, column in PERSON_COLUMNS:
                value, old = data[attribute], getattr(person, attribute)
                # A stored value with stray spaces reads as the same value from a file.
                if value and value != old.strip():
                    changes.append(Change(column, old, value))
                    setattr(person, attribute, value)
                    if person.pk is None:
                        plan.new_people[key] = person
                    else:
                        plan.changed_people[key] = person
        membership = memberships.get((person.pk, account.pk)) if person.pk else None
        if membership is None:
            is_key = data["key_contact"] is True
            membership = Membership(
                person=person, account_id=account.pk, role=role,
                is_contact=data["contact"] is True or is_key, is_key_contact=is_key,
            )
            plan.new_memberships.append(membership)
            before = dict(NO_MEMBERSHIP)
        else:
            before = tracked_values(membership)
            is_contact, is_key = membership.is_contact, membership.is_key_contact
            if data["contact"] is not None:
                is_contact = data["contact"]
                is_key = is_key and is_contact
            if data["key_contact"] is not None:
                is_key = data["key_contact"]
                is_contact = is_contact or is_key
            if is_contact and not membership.is_contact and membership.pk in removals:
                removed_at, removed_by = removals[membership.pk]
                self._readds.append(ReAdd(
                    line=row.line, email=person.email, account_id=account.external_id,
                    account_name=account.name, removed_at=removed_at, removed_by=removed_by,
                ))
                if self.keep_removed:
                    is_contact, is_key = False, False
            membership.is_contact, membership.is_key_contact = is_contact, is_key
            if role is not None:
                membership.role = role
        after = tracked_values(membership)
        for field, column in MEMBERSHIP_COLUMNS.items():
            if before[field] != after[field]:
                changes.append(Change(column, before[field], after[field]))
                plan.history.append(ContactChange(
                    membership=membership, field=field, old_value=before[field],
                    new_value=after[field], source=ContactChange.Source.IMPORT,
                    staff_user=self.by, changed_at=self.now,
                ))
        if membership.pk is None:
            row.import_type = NEW
        else:
            if before != after:
                membership.updated_at = self.now
                plan.changed_memberships.append(membership)
            row.import_type = UPDATE if changes else SKIP

    def _write(self, plan):
        """The chunk's writes: a bulk insert or update per table."""
        Person.objects.bulk_create(plan.new_people.values())
        for person in plan.changed_people.values():
            person.updated_at = self.now
        Person.objects.bulk_update(
            plan.changed_people.values(),
            ["first_name", "last_name", "title", "phone", "updated_at"],
            batch_size=BULK_UPDATE_BATCH,
        )
        Membership.objects.bulk_create(plan.new_memberships)
        Membership.objects.bulk_update(
            plan.changed_memberships, ["role", "is_contact", "is_key_contact", "updated_at"],
            batch_size=BULK_UPDATE_BATCH,
        )
        ContactChange.objects.bulk_create(plan.history)

    def run(self, rows, result, *, dry_run, collect_failed_rows):
        self._readds = []
        super().run(rows, result, dry_run=dry_run, collect_failed_rows=collect_failed_rows)
        result.readd_count = len(self._readds)
        result.kept_removed = result.readd_count if self.keep_removed else 0
        result.readds = self._readds[:LISTED_ROWS]

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
            yield [render(value) for render, value in zip(renders, values)]

    def export(self, queryset=None, **kwargs):
        """The library's export (the admin's export button): the same rows as a Dataset."""
        return tablib.Dataset(*self.export_rows(queryset), headers=self.columns())


MEMBERSHIP_COLUMNS = {
    ContactChange.Field.ROLE: "Account Role",
    ContactChange.Field.CONTACT: "Contact",
    ContactChange.Field.KEY_CONTACT: "Key Contact",
}


NO_MEMBERSHIP = {
    ContactChange.Field.CONTACT: "no",
    ContactChange.Field.KEY_CONTACT: "no",
    ContactChange.Field.ROLE: "",
}

# Django's bulk_update writes a CASE over every row of a batch for each column; PostgreSQL
# evaluates it per row, so large batches cost rows² comparisons.
BULK_UPDATE_BATCH = 200


class _ChunkPlan:
    """What one chunk will write."""

    def __init__(self):
        self.new_people = {}  # email in lower case → Person
        self.changed_people = {}
        self.new_memberships = []
        self.changed_memberships = []
        self.history = []  # ContactChange rows


def _person_values(person):
    return {
        "email": person.email, "first_name": person.first_name, "last_name": person.last_name,
        "title": person.title, "phone": person.phone,
    }
