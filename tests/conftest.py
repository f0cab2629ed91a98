import pytest

from accounts.models import AccountRole, AccountType
from config import staff
from tests.factories import AccountFactory, StaffUserFactory

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
