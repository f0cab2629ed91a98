"""The demo data set: `manage.py seed_demo` (SPEC §6)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Max
from django.db.models.functions import Lower

from accounts.models import Account, AccountRole, AccountType
from contacts.demo import DEMO_PASSWORD
from contacts.models import ContactChange, Membership, Person, Task, Touchpoint

pytestmark = pytest.mark.django_db


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts():
    return {
        "account types": AccountType.objects.count(),
        "roles": AccountRole.objects.count(),
        "accounts": Account.objects.count(),
        "people": Person.objects.count(),
        "memberships": Membership.objects.count(),
        "contacts": Membership.objects.contacts().count(),
        "key contacts": Membership.objects.key_contacts().count(),
        "tasks": Task.objects.count(),
        "task contacts": Task.contacts.through.objects.count(),
        "touchpoints": Touchpoint.objects.count(),
        "participants": Touchpoint.participants.through.objects.count(),
        "contact changes": ContactChange.objects.count(),
        "staff users": get_user_model().objects.count(),
    }


def tree_columns():
    return list(
        Account.objects.order_by("pk").values_list(
            "pk", "tree_id", "lft", "rght", "level", "parent_id"
        )
    )


@pytest.fixture
def seeded():
    return seed()


def test_seed_demo_reports_what_it_wrote(seeded):
    c = counts()
    assert seeded == (
        f"Seeded {c['accounts']} accounts, {c['people']} people, {c['memberships']} memberships "
        f"({c['contacts']} contacts, {c['key contacts']} key contacts), {c['tasks']} tasks, "
        f"{c['touchpoints']} touchpoints.\n"
        "Staff users admin, advanced, standard, viewer sign in with the password "
        "“unified-demo”.\n"
    )


def test_seed_demo_builds_three_companies(seeded):
    assert list(Account.objects.root_nodes().values_list("name", "external_id")) == [
        ("Northwind Holdings", "NH-001"),
        ("Globex Industries", "GI-002"),
        ("Initech Group", "IG-003"),
    ]


def test_seed_demo_companies_have_three_or_four_levels(seeded):
    levels = dict(
        Account.objects.values("tree_id")
        .annotate(deepest=Max("level"))
        .values_list("tree_id", "deepest")
    )
    roots = dict(Account.objects.root_nodes().values_list("name", "tree_id"))

    assert {name: levels[tree_id] + 1 for name, tree_id in roots.items()} == {
        "Northwind Holdings": 4,
        "Globex Industries": 3,
        "Initech Group": 3,
    }
    assert Account.objects.count() == (1 + 3 + 9 + 18) + (1 + 2 + 8) + (1 + 3 + 6)


def test_seed_demo_account_types_follow_the_levels(seeded):
    assert list(AccountType.objects.values_list("name", "order")) == [
        ("Corporate", 1),
        ("Region", 2),
        ("Site", 3),
        ("Department", 4),
        ("Team", 5),
    ]
    # The demo's companies are three and four levels deep: no Team accounts.
    assert set(Account.objects.values_list("level", "account_type__name")) == {
        (0, "Corporate"),
        (1, "Region"),
        (2, "Site"),
        (3, "Department"),
    }


def test_seed_demo_every_account_type_has_roles(seeded):
    roles = {}
    for type_name, role_name in AccountRole.objects.values_list("account_type__name", "name"):
        roles.setdefault(type_name, []).append(role_name)

    assert roles == {
        "Corporate": ["Champion", "Executive sponsor", "Legal", "Procurement"],
        "Region": ["Champion", "Operations lead", "Regional director"],
        "Site": ["End user", "Site admin", "Site manager"],
        "Department": ["Department head", "End user", "Team lead"],
        "Team": ["Product owner", "Team lead", "Team member"],
    }


def test_seed_demo_tree_equals_its_rebuild(seeded):
    before = tree_columns()

    Account.objects.rebuild()

    assert tree_columns() == before


def test_seed_demo_builds_a_few_hundred_people_with_unique_emails(seeded):
    people = Person.objects.count()

    assert 200 <= people <= 500
    assert Person.objects.values(lower=Lower("email")).distinct().count() == people
    assert Person.objects.filter(email__contains="@").count() == people


def test_seed_demo_every_account_has_people(seeded):
    assert Account.objects.annotate(people=Count("memberships")).filter(people__lt=3).count() == 0


def test_seed_demo_memberships_have_contacts_and_key_contacts(seeded):
    memberships = Membership.objects.count()
    contacts = Membership.objects.contacts().count()
    key_contacts = Membership.objects.key_contacts().count()

    assert 0 < key_contacts < contacts < memberships
    assert memberships > Person.objects.count()  # some people belong to two accounts
    assert Membership.objects.filter(is_key_contact=True, is_contact=False).count() == 0


def test_seed_demo_roles_fit_the_account_type(seeded):
    assert Membership.objects.filter(role__isnull=False).count() > 0
    assert (
        Membership.objects.filter(role__isnull=False)
        .exclude(role__account_type=F("account__account_type"))
        .count()
    ) == 0


def test_seed_demo_tasks_and_touchpoints_link_contacts_of_their_company(seeded):
    task_links = Task.contacts.through.objects.all()
    participant_links = Touchpoint.participants.through.objects.all()

    assert (Task.objects.count() > 0, Touchpoint.objects.count() > 0) == (True, True)
    assert (task_links.count() > 0, participant_links.count() > 0) == (True, True)
    assert task_links.filter(membership__is_contact=False).count() == 0
    assert participant_links.filter(membership__is_contact=False).count() == 0
    assert task_links.exclude(membership__account__tree_id=F("task__account__tree_id")).count() == 0
    assert (
        participant_links.exclude(
            membership__account__tree_id=F("touchpoint__account__tree_id")
        ).count()
        == 0
    )


def test_seed_demo_tasks_and_touchpoints_have_staff_users(seeded):
    staff_ids = set(get_user_model().objects.values_list("pk", flat=True))

    assert set(Task.objects.values_list("owner", flat=True)) <= staff_ids
    assert set(Touchpoint.objects.values_list("author", flat=True)) <= staff_ids


def test_seed_demo_creates_staff_users_in_their_groups(seeded):
    users = {
        user.username: (sorted(user.groups.values_list("name", flat=True)), user.is_superuser)
        for user in get_user_model().objects.all()
    }

    assert users == {
        "admin": (["Global admin"], True),
        "advanced": (["Advanced"], False),
        "standard": (["Standard"], False),
        "viewer": (["Viewer"], False),
    }


@pytest.mark.parametrize("username", ["admin", "advanced", "standard", "viewer"])
def test_seed_demo_staff_users_sign_in_with_the_demo_password(seeded, client, username):
    response = client.post("/sign-in/", {"username": username, "password": DEMO_PASSWORD})

    assert (response.status_code, response["Location"]) == (302, "/accounts/")
    assert client.get("/accounts/").status_code == 200


def test_seed_demo_admin_reaches_the_django_admin(seeded, client):
    client.post("/sign-in/", {"username": "admin", "password": DEMO_PASSWORD})

    assert client.get("/admin/").status_code == 200


def test_seed_demo_twice_refuses_and_writes_nothing(seeded):
    before = counts()

    with pytest.raises(CommandError) as error:
        seed()

    assert str(error.value) == (
        "The database already has accounts or people. "
        "Run with --reset to replace them with the demo data."
    )
    assert counts() == before


def test_seed_demo_refuses_when_there_are_only_people(db):
    Person.objects.create(email="someone@example.com", first_name="Some", last_name="One")

    with pytest.raises(CommandError, match="--reset"):
        seed()

    assert Account.objects.count() == 0


def test_seed_demo_if_empty_leaves_data_as_it_is(seeded):
    before = counts()
    emails = set(Person.objects.values_list("email", flat=True))

    out = seed("--if-empty")

    assert out == "The database already has data; leaving it as it is.\n"
    assert counts() == before
    assert set(Person.objects.values_list("email", flat=True)) == emails


def test_seed_demo_if_empty_seeds_an_empty_database(db):
    out = seed("--if-empty")

    assert out.startswith(f"Seeded {Account.objects.count()} accounts, ")
    assert Account.objects.root_nodes().count() == 3


def test_seed_demo_reset_and_if_empty_cannot_go_together(db):
    with pytest.raises(CommandError) as error:
        seed("--reset", "--if-empty")

    assert str(error.value) == "Error: argument --if-empty: not allowed with argument --reset"
    assert Account.objects.count() == 0


def test_seed_demo_reset_replaces_the_data_with_the_same_data(seeded):
    before = counts()
    emails = sorted(Person.objects.values_list("email", flat=True))
    accounts = list(Account.objects.values_list("external_id", "name", "level"))
    person_ids = set(Person.objects.values_list("pk", flat=True))
    account_ids = set(Account.objects.values_list("pk", flat=True))
    staff_ids = set(get_user_model().objects.values_list("pk", flat=True))

    out = seed("--reset")

    assert out == seeded
    assert counts() == before
    assert sorted(Person.objects.values_list("email", flat=True)) == emails
    assert list(Account.objects.values_list("external_id", "name", "level")) == accounts
    assert set(Person.objects.values_list("pk", flat=True)) & person_ids == set()
    assert set(Account.objects.values_list("pk", flat=True)) & account_ids == set()
    assert set(get_user_model().objects.values_list("pk", flat=True)) == staff_ids


def test_seed_demo_reset_leaves_a_valid_tree(seeded):
    seed("--reset")
    before = tree_columns()

    Account.objects.rebuild()

    assert tree_columns() == before


def test_seed_demo_reset_removes_what_staff_users_added(seeded):
    account = Account.objects.get(external_id="NH-001")
    Account.objects.create(
        external_id="EXTRA",
        name="Added by hand",
        account_type=account.account_type,
        parent=account,
    )
    membership = Membership.objects.contacts().first()
    ContactChange.objects.create(
        membership=membership,
        person=membership.person,
        account=membership.account,
        field="contact",
        source="app",
    )
    before = counts()

    seed("--reset")

    assert Account.objects.filter(external_id="EXTRA").exists() is False
    assert ContactChange.objects.count() == 0
    assert counts() == {**before, "accounts": before["accounts"] - 1, "contact changes": 0}


# VACUUM runs outside transactions only, hence a transactional test.
@pytest.mark.django_db(transaction=True)
def test_seed_leaves_the_tables_vacuumed_and_analyzed_on_postgresql():
    from django.contrib.auth.models import Group
    from django.db import connection

    from config import staff

    if connection.vendor != "postgresql":
        pytest.skip("VACUUM ANALYZE is for PostgreSQL; SQLite has nothing to do")
    # The staff groups come from a data migration, which an earlier transactional test's
    # flush may have emptied.
    for name in staff.GROUPS:
        Group.objects.get_or_create(name=name)

    seed()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relallvisible > 0, reltuples > 0 FROM pg_class WHERE relname IN "
            "('contacts_person', 'contacts_membership', 'accounts_account') ORDER BY relname"
        )
        # Visible pages (the index-only scans' map) and a row estimate: VACUUM ANALYZE ran.
        assert cursor.fetchall() == [
            ("accounts_account", True, True),
            ("contacts_membership", True, True),
            ("contacts_person", True, True),
        ]
