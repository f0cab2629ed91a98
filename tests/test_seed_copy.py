"""The big data sets' COPY path (contacts.seeding.copy_load), on a tiny shape: PostgreSQL only."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Max, Q
from django.db.models.functions import Lower

from accounts.models import Account, AccountType
from contacts import demo
from contacts.models import Membership, Person, Task, Touchpoint
from contacts.validators import EmailAddressFormField

pytestmark = pytest.mark.django_db

TINY = demo.DataShape(
    companies=(
        demo.CompanyShape("Deep Holdings", "deep.example", (2, 3, 2, 2), ("North", "South")),
        demo.CompanyShape("Middle Group", "middle.example", (3, 2, 2)),
        demo.CompanyShape("Small Works", "small.example", (2, 2)),
        demo.CompanyShape("Tiny Shop", "tiny.example", (2, 1)),
    ),
    people_per_account=(4, 9),
    contact_share=1 / 3,
    key_contact_share=0.2,
    second_membership_share=0.25,
    tasks_per_account=(0, 2),
    touchpoints_per_account=(0, 2),
)


def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("The COPY path is PostgreSQL's (on SQLite seed_demo refuses the big sizes)")


@pytest.fixture
def seeded(db):
    postgresql_only()
    from contacts.seeding.copy_load import seed_with_copy

    log = []
    report = seed_with_copy(TINY, log=log.append)
    return report, log


def tree_columns():
    return list(
        Account.objects.order_by("pk").values_list(
            "pk", "tree_id", "lft", "rght", "level", "parent_id"
        )
    )


def schema():
    """Every index and constraint of the seeded tables, by name with its definition."""
    tables = [model._meta.db_table for model in demo.SEEDED_MODELS]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = ANY(%s) ORDER BY 1, 2",
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
            [tables],
        )
        return indexes, cursor.fetchall()


def test_copy_seed_trees_equal_their_rebuild(seeded):
    written = tree_columns()

    Account.objects.rebuild()

    assert tree_columns() == written
    assert len(written) == (1 + 2 + 6 + 12 + 24) + (1 + 3 + 6 + 12) + (1 + 2 + 4) + (1 + 2 + 2)


def test_copy_seed_has_five_levels_in_the_deepest_company(seeded):
    deepest = dict(
        Account.objects.values("tree_id")
        .annotate(deepest=Max("level"))
        .values_list("tree_id", "deepest")
    )

    assert deepest == {1: 4, 2: 3, 3: 2, 4: 2}
    assert set(Account.objects.values_list("level", "account_type__name")) == {
        (0, "Corporate"),
        (1, "Region"),
        (2, "Site"),
        (3, "Department"),
        (4, "Team"),
    }
    assert list(AccountType.objects.values_list("name", "order")) == [
        ("Corporate", 1),
        ("Region", 2),
        ("Site", 3),
        ("Department", 4),
        ("Team", 5),
    ]


def test_copy_seed_counts_equal_the_report(seeded):
    report, _ = seeded

    assert {
        "accounts": report.accounts,
        "people": report.people,
        "memberships": report.memberships,
        "contacts": report.contacts,
        "key contacts": report.key_contacts,
        "tasks": report.tasks,
        "touchpoints": report.touchpoints,
    } == {
        "accounts": Account.objects.count(),
        "people": Person.objects.count(),
        "memberships": Membership.objects.count(),
        "contacts": Membership.objects.contacts().count(),
        "key contacts": Membership.objects.key_contacts().count(),
        "tasks": Task.objects.count(),
        "touchpoints": Touchpoint.objects.count(),
    }
    assert report.people > 0 and report.key_contacts > 0 and report.tasks > 0
    assert Task.contacts.through.objects.count() > 0
    assert Touchpoint.participants.through.objects.count() > 0


def test_copy_seed_logs_each_phase(seeded):
    _, log = seeded

    phases = [line.split(":")[0] for line in log if not line.startswith(" ")]
    assert phases == [
        "accounts",
        "people",
        "memberships",
        "tasks",
        "contact counts and search",
        "indexes",
        "analyze",
    ]


def test_copy_seed_counts_and_indexes_its_contacts_as_the_triggers_would(seeded):
    from tests.contacts.test_contact_count import counted_by_hand, kept_counts
    from tests.contacts.test_contact_search import expected_rows, search_rows

    assert kept_counts() == counted_by_hand()
    assert search_rows() == expected_rows()
    assert len(search_rows()) == Membership.objects.contacts().count() > 0
    # The triggers are back on: the next contact added is counted and searchable.
    person = Person.objects.create(first_name="Ada", last_name="Seeded", email="ada@seed.example")
    account = Account.objects.order_by("pk").first()
    Membership.objects.create(person=person, account=account, is_contact=True)
    assert kept_counts() == counted_by_hand()
    assert search_rows() == expected_rows()


def test_copy_seed_sequences_are_past_the_ids_written(seeded):
    person = Person.objects.create(email="new.person@else.example", first_name="N", last_name="P")
    root = Account.objects.filter(parent=None).first()
    account = Account.objects.create(
        external_id="NEW-1", name="New", account_type=root.account_type, parent=root
    )
    membership = Membership.objects.create(person=person, account=account)
    task = Task.objects.create(account=account, title="New task")
    task.contacts.add(membership)
    touchpoint = Touchpoint.objects.create(account=account, kind="call", subject="New")
    touchpoint.participants.add(membership)

    assert person.pk == Person.objects.exclude(pk=person.pk).aggregate(Max("pk"))["pk__max"] + 1
    assert account.pk > Account.objects.exclude(pk=account.pk).aggregate(Max("pk"))["pk__max"]
    assert (
        membership.pk
        == Membership.objects.exclude(pk=membership.pk).aggregate(Max("pk"))["pk__max"] + 1
    )


def test_copy_seed_contacts_obey_the_check_constraints(seeded):
    assert Membership.objects.filter(is_key_contact=True, is_contact=False).count() == 0
    for membership in Membership.objects.filter(is_key_contact=True)[:50]:
        membership.validate_constraints()
    # Each person at most once per account, and roles of the account's type.
    assert (
        not Membership.objects.values("person", "account").annotate(n=Count("pk")).filter(n__gt=1)
    )
    assert (
        not Membership.objects.exclude(role=None)
        .exclude(role__account_type=F("account__account_type"))
        .exists()
    )


def test_copy_seed_tasks_link_contacts_of_their_own_company(seeded):
    for through, owner in (
        (Task.contacts.through, "task"),
        (Touchpoint.participants.through, "touchpoint"),
    ):
        links = through.objects.values_list(
            f"{owner}__account__tree_id", "membership__account__tree_id", "membership__is_contact"
        )
        assert {(a == b, contact) for a, b, contact in links} == {(True, True)}


def test_copy_seed_emails_pass_the_form_and_are_unique_ignoring_case(seeded):
    field = EmailAddressFormField()
    emails = list(Person.objects.values_list("email", flat=True))

    assert [email for email in emails if field.clean(email) != email] == []
    assert Person.objects.values(lower=Lower("email")).distinct().count() == len(emails)
    assert not all(email.isascii() for email in emails)
    assert any("+" in email for email in emails)


def test_copy_seed_leaves_the_schema_as_the_migrations_made_it(db):
    postgresql_only()
    from contacts.seeding.copy_load import seed_with_copy

    before = schema()

    seed_with_copy(TINY)

    assert schema() == before
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def test_copy_seed_replaces_what_was_there(seeded):
    from contacts.seeding.copy_load import seed_with_copy

    emails = sorted(Person.objects.values_list("email", flat=True))
    Person.objects.create(email="extra@else.example", first_name="E", last_name="X")

    seed_with_copy(TINY)

    assert sorted(Person.objects.values_list("email", flat=True)) == emails
    assert not Person.objects.filter(Q(email="extra@else.example")).exists()


def test_seed_demo_big_size_refuses_a_database_with_data_and_writes_nothing(seeded):
    before = (Account.objects.count(), Person.objects.count(), Membership.objects.count())

    with pytest.raises(CommandError) as error:
        call_command("seed_demo", "--size", "xlarge", stdout=StringIO())

    assert str(error.value) == (
        "The database already has accounts or people. "
        "Run with --reset to replace them with the demo data."
    )
    assert (Account.objects.count(), Person.objects.count(), Membership.objects.count()) == before


def test_seed_demo_big_size_if_empty_leaves_the_data(seeded):
    out = StringIO()

    call_command("seed_demo", "--size", "xlarge", "--if-empty", stdout=out)

    assert out.getvalue() == "The database already has data; leaving it as it is.\n"


def test_seed_demo_big_sizes_refuse_sqlite(db):
    if connection.vendor == "sqlite":
        with pytest.raises(CommandError) as error:
            call_command("seed_demo", "--size", "large", stdout=StringIO())
        assert str(error.value) == (
            "The large data set is written with PostgreSQL's COPY: run it on PostgreSQL "
            "(DATABASE_URL=postgres://…), not SQLite. The demo set works on any database."
        )
        assert Account.objects.count() == 0
    else:
        pytest.skip("PostgreSQL runs the big sizes")
