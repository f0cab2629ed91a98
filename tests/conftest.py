from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import Group

from accounts.models import AccountRole, AccountType
from config import staff
from contacts.models import ContactChange, Touchpoint
from integrations.models import ImportJob
from tests.factories import (
    AccountFactory,
    ContactChangeFactory,
    MembershipFactory,
    PersonFactory,
    StaffUserFactory,
    TaskFactory,
    TouchpointFactory,
)

pytest_plugins = ["tests.servers"]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def account_types(db):
    """Four levels, each with its own roles: Corporate → Region → Site → Department."""
    types = {}
    for order, (name, roles) in enumerate(
        [
            ("Corporate", ["Executive sponsor", "Champion"]),
            ("Region", ["Regional director", "Champion"]),
            ("Site", ["Site admin", "End user"]),
            ("Department", ["Department head"]),
        ],
        1,
    ):
        account_type = AccountType.objects.create(name=name, order=order)
        AccountRole.objects.bulk_create(
            [AccountRole(account_type=account_type, name=role) for role in roles]
        )
        types[name] = account_type
    return types


@pytest.fixture
def roles(account_types):
    """{(account type name, role name): role}."""
    return {
        (role.account_type.name, role.name): role
        for role in AccountRole.objects.select_related("account_type")
    }


@pytest.fixture
def tree(account_types):
    """A four-level company and a second, separate company, keyed by short names.

    corp                         (Corporate)
    ├── emea                     (Region)
    │   ├── paris                (Site)
    │   │   └── paris_sales      (Department)
    │   └── berlin               (Site)
    └── amer                     (Region)
        └── austin               (Site)
            ├── austin_ops       (Department)
            └── austin_it        (Department)
    other                        (Corporate, another company)
    └── other_region             (Region)
    """
    t = account_types
    nodes = {}

    def add(key, type_name, parent=None):
        nodes[key] = AccountFactory(
            external_id=key.upper(),
            name=key.replace("_", " ").title(),
            account_type=t[type_name],
            parent=nodes.get(parent),
        )

    add("corp", "Corporate")
    add("emea", "Region", "corp")
    add("paris", "Site", "emea")
    add("paris_sales", "Department", "paris")
    add("berlin", "Site", "emea")
    add("amer", "Region", "corp")
    add("austin", "Site", "amer")
    add("austin_ops", "Department", "austin")
    add("austin_it", "Department", "austin")
    add("other", "Corporate")
    add("other_region", "Region", "other")
    for node in nodes.values():
        node.refresh_from_db()
    return nodes


def _staff_client(client, group):
    user = StaffUserFactory(username=f"{group.lower().replace(' ', '_')}_user", group=group)
    client.force_login(user)
    client.staff_user = user
    return client


@pytest.fixture
def viewer_client(client, db):
    return _staff_client(client, staff.VIEWER)


@pytest.fixture
def standard_client(client, db):
    return _staff_client(client, staff.STANDARD)


@pytest.fixture
def advanced_client(client, db):
    return _staff_client(client, staff.ADVANCED)


@pytest.fixture
def global_admin_client(client, db):
    return _staff_client(client, staff.GLOBAL_ADMIN)


# The Django admin (tests/*/test_admin.py)


@pytest.fixture
def admin_site_client(global_admin_client):
    """A Global admin by group membership only: not a superuser, not is_staff."""
    user = global_admin_client.staff_user
    assert (user.is_superuser, user.is_staff) == (False, False)
    return global_admin_client


@pytest.fixture
def admin_data(tree, roles):
    """One of each object the admin shows, keyed by name (with the tree's accounts)."""
    owner = StaffUserFactory(username="owner", first_name="Olive", last_name="Owner")
    ada = PersonFactory(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@customer.example",
        title="CTO",
        phone="+1 555 0100",
    )
    alan = PersonFactory(first_name="Alan", last_name="Turing", email="alan@customer.example")
    grace = PersonFactory(first_name="Grace", last_name="Hopper", email="grace@other.example")
    ada_paris = MembershipFactory(
        person=ada,
        account=tree["paris"],
        role=roles["Site", "Site admin"],
        is_contact=True,
        is_key_contact=True,
    )
    ada_emea = MembershipFactory(person=ada, account=tree["emea"], is_contact=True)
    alan_austin = MembershipFactory(
        person=alan, account=tree["austin"], role=roles["Site", "End user"], is_contact=False
    )
    grace_other = MembershipFactory(
        person=grace, account=tree["other"], role=roles["Corporate", "Champion"], is_contact=True
    )
    task = TaskFactory(
        account=tree["corp"],
        title="Quarterly business review",
        due_date=date(2026, 3, 31),
        owner=owner,
    )
    task.contacts.set([ada_paris, alan_austin])
    touchpoint = TouchpointFactory(
        account=tree["paris"],
        subject="Kick-off meeting",
        kind=Touchpoint.Kind.MEETING,
        author=owner,
        happened_at=datetime(2026, 1, 15, 10, 0, tzinfo=UTC),
        notes="Went well.",
    )
    touchpoint.participants.set([ada_paris, ada_emea])
    change = ContactChangeFactory(
        membership=ada_paris,
        field=ContactChange.Field.KEY_CONTACT,
        old_value="no",
        new_value="yes",
        source=ContactChange.Source.APP,
        staff_user=owner,
        changed_at=datetime(2026, 1, 10, 9, 0, tzinfo=UTC),
    )
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="people.csv",
        status=ImportJob.Status.SUCCEEDED,
        staff_user=owner,
        finished_at=datetime(2026, 1, 12, 8, 5, tzinfo=UTC),
    )
    ImportJob.objects.filter(pk=job.pk).update(created_at=datetime(2026, 1, 12, 8, 0, tzinfo=UTC))
    return {
        **tree,
        "roles": roles,
        "owner": owner,
        "ada": ada,
        "alan": alan,
        "grace": grace,
        "ada_paris": ada_paris,
        "ada_emea": ada_emea,
        "alan_austin": alan_austin,
        "grace_other": grace_other,
        "task": task,
        "touchpoint": touchpoint,
        "change": change,
        "job": job,
        "corporate": roles["Corporate", "Champion"].account_type,
        "executive_sponsor": roles["Corporate", "Executive sponsor"],
        "viewer_group": Group.objects.get(name="Viewer"),
    }
