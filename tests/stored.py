"""Reading what the database holds in tests, as plain tuples that compare with `==`.

    from tests import stored

    assert stored.memberships() == [("ada@analytical.example", "Paris", "Site admin", True, True)]

Each reader lists every row of its model in the order the rows were written (by primary key),
so a test states the whole stored state, and an empty list shows that nothing was written.
"""

from accounts.models import AccountRole
from contacts.models import ContactChange, Membership, Person, Task, Touchpoint


def people():
    """Every person: (email, first name, last name, title, phone)."""
    return list(
        Person.objects.order_by("pk").values_list(
            "email", "first_name", "last_name", "title", "phone"
        )
    )


def memberships():
    """Every membership: (email, account name, role name, contact, key contact)."""
    return [
        (
            m.person.email,
            m.account.name,
            m.role.name if m.role else None,
            m.is_contact,
            m.is_key_contact,
        )
        for m in Membership.objects.select_related("person", "account", "role").order_by("pk")
    ]


def changes():
    """Every ContactChange: (person email, account name, field, old, new, source,
    staff user id)."""
    return [
        (
            change.membership.person.email,
            change.membership.account.name,
            change.field,
            change.old_value,
            change.new_value,
            change.source,
            change.staff_user_id,
        )
        for change in ContactChange.objects.select_related(
            "membership__person", "membership__account"
        ).order_by("pk")
    ]


def membership_pk(membership):
    """How `tasks` and `touchpoints` name a contact unless told otherwise."""
    return membership.pk


def first_name(membership):
    """A contact named by the first name of its person, for `tasks` and `touchpoints`."""
    return membership.person.first_name


def tasks(*, contact=membership_pk):
    """Every task: (account name, title, due date, status, owner username, its contacts
    sorted, each named by `contact`)."""
    return [
        (
            task.account.name,
            task.title,
            task.due_date,
            task.status,
            task.owner.username if task.owner else None,
            sorted(contact(m) for m in task.contacts.all()),
        )
        for task in Task.objects.select_related("account", "owner")
        .prefetch_related("contacts__person")
        .order_by("pk")
    ]


def touchpoints(*, contact=membership_pk):
    """Every touchpoint: (account name, kind, subject, when, notes, author username, its
    participants sorted, each named by `contact`)."""
    return [
        (
            tp.account.name,
            tp.kind,
            tp.subject,
            tp.happened_at,
            tp.notes,
            tp.author.username if tp.author else None,
            sorted(contact(m) for m in tp.participants.all()),
        )
        for tp in Touchpoint.objects.select_related("account", "author")
        .prefetch_related("participants__person")
        .order_by("pk")
    ]


def role(type_name, name):
    """The stored role `name` of the account type `type_name`."""
    return AccountRole.objects.get(account_type__name=type_name, name=name)
