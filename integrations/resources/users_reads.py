"""The lookups of a users file's chunk: one query per table for the whole chunk, on plain
values (see integrations.resources.users)."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Account
from config.staff import display_name
from contacts.models import ContactChange, EmailAlias, Membership, Person

from ..bulk import Any
from .users_writes import MEMBERSHIP_COLUMNS

User = get_user_model()


@dataclass(frozen=True)
class AccountRef:
    pk: int
    external_id: str
    name: str
    account_type_id: int


class UsersLookups:
    """UsersResource's lookups. They read and fill its caches: `accounts`, `unwritten_people`,
    and `sync_point` (see UsersResource.before_run)."""

    def _load_accounts(self, external_ids):
        missing = [external_id for external_id in external_ids if external_id not in self.accounts]
        if not missing:
            return
        for values in (
            Account.objects.filter(Any(F("external_id"), missing))
            .order_by()
            .values_list("pk", "external_id", "name", "account_type_id")
        ):
            self.accounts[values[1]] = AccountRef(*values)
        for external_id in missing:
            self.accounts.setdefault(external_id, None)

    def _load_people(self, email_keys, *, lock):
        """{email in lower case: [pk, email, first_name, last_name, title, phone]} for the people
        of a chunk: from the database, or created by earlier rows of this run not written."""
        if not email_keys:
            return {}
        people = Person.objects.filter(Any(Lower("email"), email_keys)).order_by()
        if lock:
            # The rows this run may change stay as it read them until it commits.
            people = people.select_for_update()
        found = {
            values[1].lower(): list(values)
            for values in people.values_list(
                "pk", "email", "first_name", "last_name", "title", "phone"
            )
        }
        for key in email_keys & self.unwritten_people.keys():
            found[key] = self.unwritten_people[key]
        if (missing := email_keys - found.keys()) and self._aliases_exist():
            found.update(self._load_people_by_alias(missing, found, lock=lock))
        return found

    def _aliases_exist(self):
        """Whether any email alias exists, asked once a run: most databases have none, and
        their imports then pay no query per chunk for them."""
        if not hasattr(self, "_any_email_alias"):
            self._any_email_alias = EmailAlias.objects.exists()
        return self._any_email_alias

    def _load_people_by_alias(self, email_keys, found, *, lock):
        """{alias in lower case: the values of its person} for addresses that are an email
        alias: the address of someone merged into that person (contacts.merge), so a file that
        still names them updates the survivor instead of creating the merged person again.
        A run that writes marks the aliases used: the merge can no longer be undone."""
        aliases = list(
            EmailAlias.objects.filter(Any(Lower("email"), email_keys))
            .order_by()
            .values_list("pk", "email", "person_id")
        )
        if not aliases:
            return {}
        # One list per person: the rows that name them by either address change the same one.
        people = {values[0]: values for values in found.values() if values[0]}
        others = Person.objects.filter(pk__in={a[2] for a in aliases} - people.keys())
        if lock:
            others = others.select_for_update()
            EmailAlias.objects.filter(pk__in=[a[0] for a in aliases]).update(
                last_used_at=timezone.now()
            )
        for values in others.order_by().values_list(
            "pk", "email", "first_name", "last_name", "title", "phone"
        ):
            people[values[0]] = list(values)
        return {email.lower(): people[person_id] for _, email, person_id in aliases}

    def _load_memberships(self, contexts, *, lock):
        """{(person pk, account pk):
        [pk, role_id, is_contact, is_key_contact, status, start_date, end_date]}"""
        person_ids = {person[0] for _, _, person in contexts if person is not None and person[0]}
        if not person_ids:
            return {}
        # By person only: a person has few memberships, and the unique (person, account) index
        # serves.
        memberships = Membership.objects.filter(Any(F("person_id"), person_ids)).order_by()
        if lock:
            memberships = memberships.select_for_update()
        return {
            (person_id, account_id): [pk, *values]
            # In the columns a chunk writes, so a row read compares with the row it would write.
            for pk, person_id, account_id, *values in memberships.values_list(
                "pk", *MEMBERSHIP_COLUMNS
            )
        }

    def _load_removals(self, membership_ids):
        """{membership pk: (when, by whom)} for contacts a staff user removed (in the app or
        the admin) since the last users import or export."""
        if not membership_ids:
            return {}
        changes = ContactChange.objects.filter(
            Any(F("membership_id"), membership_ids),
            field=ContactChange.Field.CONTACT,
            new_value="no",
        ).exclude(source=ContactChange.Source.IMPORT)
        if self.sync_point is not None:
            changes = changes.filter(changed_at__gt=self.sync_point)
        removals, names = {}, {}
        for membership_id, changed_at, username, first, last in changes.order_by(
            "membership_id", "-changed_at", "-pk"
        ).values_list(
            "membership_id",
            "changed_at",
            "staff_user__username",
            "staff_user__first_name",
            "staff_user__last_name",
        ):
            # A few staff users remove many contacts: each is named once.
            staff_user = (username, first, last)
            if staff_user not in names:
                names[staff_user] = (
                    display_name(User(username=username, first_name=first, last_name=last))
                    if username is not None
                    else "a staff user"
                )
            removals.setdefault(membership_id, (changed_at, names[staff_user]))
        return removals
