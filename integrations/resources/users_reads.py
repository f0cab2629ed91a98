"""The lookups of a users file's chunk: one query per table for the whole chunk, on plain
values (see integrations.resources.users)."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import F
from django.db.models.functions import Lower

from accounts.models import Account
from config.staff import display_name
from contacts.models import ContactChange, Membership, Person

from ..bulk import Any

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
        return found

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
            for pk, person_id, account_id, *values in memberships.values_list(
                "pk",
                "person_id",
                "account_id",
                "role_id",
                "is_contact",
                "is_key_contact",
                "status",
                "start_date",
                "end_date",
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
