"""The demo data set and the shapes of the big ones, and the ORM writer of the demo set.

A realistic, deterministic data set. The shape (companies, levels, fan-out, people per
account) is data, so the same rows (contacts.seeding.rows) make the demo set, written here
through the ORM on any database, and the benchmark sets `large` and `xlarge`, written by
PostgreSQL's COPY (contacts.seeding.copy_load).
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import ALL_TREES, Account, AccountRole, AccountType, lock_trees
from config import staff

from .models import (
    ContactChange,
    ContactSearch,
    EmailAlias,
    KeyContactAlert,
    Membership,
    Person,
    PersonMerge,
    Task,
    Touchpoint,
)
from .seeding import rows
from .seeding.names import common_names

# The shapes, importable from here as before.
from .seeding.shapes import DEMO, LARGE, SIZES, XLARGE, CompanyShape, DataShape  # noqa: F401

ACCOUNT_TYPES = {
    # name: roles offered at accounts of that type
    "Corporate": ["Executive sponsor", "Champion", "Procurement", "Legal"],
    "Region": ["Regional director", "Champion", "Operations lead"],
    "Site": ["Site admin", "Site manager", "End user"],
    "Department": ["Department head", "Team lead", "End user"],
    "Team": ["Team lead", "Product owner", "Team member"],
}


def __getattr__(name):
    """FIRST_NAMES and LAST_NAMES: the 50 most common names of the data sets, what a
    customer-success person types (the load test's search terms). Built on first use: the
    name pools take a moment to build, which a process that only reads DEMO_STAFF skips."""
    if name in ("FIRST_NAMES", "LAST_NAMES"):
        return common_names()[name == "LAST_NAMES"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


DEMO_PASSWORD = "unified-demo"
DEMO_STAFF = [
    # username, group, first name, last name
    ("admin", staff.GLOBAL_ADMIN, "Gloria", "Admin"),
    ("advanced", staff.ADVANCED, "Avery", "Advanced"),
    ("standard", staff.STANDARD, "Sam", "Standard"),
    ("viewer", staff.VIEWER, "Vic", "Viewer"),
]


BATCH = 5000


@dataclass
class SeedReport:
    accounts: int = 0
    people: int = 0
    memberships: int = 0
    contacts: int = 0
    key_contacts: int = 0
    tasks: int = 0
    touchpoints: int = 0
    staff_users: list = field(default_factory=list)

    def summary(self):
        return (
            f"Seeded {self.accounts} accounts, {self.people} people, "
            f"{self.memberships} memberships ({self.contacts} contacts, "
            f"{self.key_contacts} key contacts), {self.tasks} tasks, "
            f"{self.touchpoints} touchpoints."
        )


def database_has_data():
    return Account.objects.exists() or Person.objects.exists()


# What reset_data() empties, dependants first.
SEEDED_MODELS = (
    Touchpoint.participants.through,
    Task.contacts.through,
    Touchpoint,
    Task,
    KeyContactAlert,
    EmailAlias,
    PersonMerge,
    ContactChange,
    ContactSearch,
    Membership,
    Person,
    Account,
    AccountRole,
    AccountType,
)


@transaction.atomic
def reset_data():
    """Delete every account, person and what hangs off them. Staff users stay."""
    lock_trees(ALL_TREES)
    if connection.vendor == "postgresql":
        # Deleting half a million people row by row through the ORM takes minutes.
        with connection.cursor() as cursor:
            # Deferred foreign-key checks still pending in this transaction forbid TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {seeded_tables()}")
        return
    for model in SEEDED_MODELS:
        model.objects.all().delete()


def seeded_tables():
    return ", ".join(connection.ops.quote_name(m._meta.db_table) for m in SEEDED_MODELS)


@transaction.atomic
def seed(shape=DEMO, *, progress=None):
    """Write the data set of `shape` and the demo staff users through the ORM, on any
    database. Returns a SeedReport.

    For the demo set, and small shapes in tests: it holds every row in memory and maps the
    rows' ids to those the database gives (contacts.seeding.copy_load writes the big sets).
    Side effects: creates account types and roles, accounts, people, memberships, tasks,
    touchpoints, and the staff users of DEMO_STAFF in their groups.
    """
    report = SeedReport()
    lock_trees(ALL_TREES)
    types = create_account_types()
    roles_by_depth = roles_by_level(types)
    staff_users = create_staff_users()
    report.staff_users = [user.username for user in staff_users]
    staff_ids = [user.pk for user in staff_users]
    type_names = list(ACCOUNT_TYPES)
    today, now = timezone.localdate(), timezone.now()

    accounts, depth_of = {}, {}  # by the rows' account ids
    person_number = membership_number = 1
    activity_numbers = [1, 1, 1, 1]
    for number, company in enumerate(shape.companies, 1):
        first_account_id = len(accounts) + 1
        account_rows = list(rows.company_accounts(number, company, first_account_id, type_names))
        for level in range(len(company.fan_out) + 1):
            level_rows = [row for row in account_rows if row.level == level]
            created = Account.objects.bulk_create(
                [
                    Account(
                        external_id=row.external_id,
                        name=row.name,
                        account_type=types[level],
                        parent=accounts.get(row.parent_id),
                        tree_id=row.tree_id,
                        lft=row.lft,
                        rght=row.rght,
                        level=row.level,
                    )
                    for row in level_rows
                ],
                batch_size=BATCH,
            )
            for row, account in zip(level_rows, created, strict=True):
                accounts[row.id] = account
                depth_of[row.id] = level
        counts = rows.people_counts(shape, number, len(account_rows))
        people = {}
        for person_id, first, last, email, title, phone in rows.people(
            shape, number, company, counts, person_number
        ):
            people[person_id] = Person(
                email=email, first_name=first, last_name=last, title=title, phone=phone
            )
        Person.objects.bulk_create(people.values(), batch_size=BATCH)
        company_memberships = rows.CompanyMemberships(
            shape,
            number,
            first_account_id=first_account_id,
            depths=rows.account_depths(company),
            counts=counts,
            first_person_id=person_number,
        )
        memberships = {
            membership_id: Membership(
                person=people[person_id],
                account=accounts[account_id],
                role_id=role_id,
                is_contact=is_contact,
                is_key_contact=is_key,
            )
            for membership_id, person_id, account_id, role_id, is_contact, is_key in (
                company_memberships.rows(
                    membership_number,
                    account_depth=depth_of.__getitem__,
                    accounts_so_far=len(accounts),
                    roles_by_depth=roles_by_depth,
                )
            )
        }
        Membership.objects.bulk_create(memberships.values(), batch_size=BATCH)
        activity = rows.activity(
            shape,
            number,
            first_account_id=first_account_id,
            accounts=len(account_rows),
            contacts=company_memberships.contacts,
            staff_ids=staff_ids,
            first_ids=activity_numbers,
            today=today,
            now=now,
        )
        _create_activity(activity, accounts, memberships)

        person_number += len(people)
        membership_number += len(memberships)
        activity_numbers = [
            activity_numbers[0] + len(activity.tasks),
            activity_numbers[1] + len(activity.task_links),
            activity_numbers[2] + len(activity.touchpoints),
            activity_numbers[3] + len(activity.participants),
        ]
        report.accounts += len(account_rows)
        report.people += len(people)
        report.memberships += len(memberships)
        report.contacts += sum(m.is_contact for m in memberships.values())
        report.key_contacts += company_memberships.key_contacts
        report.tasks += len(activity.tasks)
        report.touchpoints += len(activity.touchpoints)
        if progress:
            progress(number, len(shape.companies), report)
    # The tree columns are written as the shape numbers them; a rebuild renumbers the trees
    # after any other trees a test may have made (a few dozen accounts: no time to speak of).
    Account.objects.rebuild()
    return report


def _create_activity(activity, accounts, memberships):
    tasks = Task.objects.bulk_create(
        [
            Task(
                account=accounts[account_id],
                title=title,
                due_date=due_date,
                status=status,
                owner_id=owner_id,
            )
            for _, account_id, title, due_date, status, owner_id in activity.tasks
        ],
        batch_size=BATCH,
    )
    tasks_by_id = {row[0]: task for row, task in zip(activity.tasks, tasks, strict=True)}
    touchpoints = Touchpoint.objects.bulk_create(
        [
            Touchpoint(
                account=accounts[account_id],
                kind=kind,
                happened_at=happened_at,
                subject=subject,
                notes="",
                author_id=author_id,
            )
            for _, account_id, kind, happened_at, subject, author_id in activity.touchpoints
        ],
        batch_size=BATCH,
    )
    touchpoints_by_id = {
        row[0]: touchpoint
        for row, touchpoint in zip(activity.touchpoints, touchpoints, strict=True)
    }
    Task.contacts.through.objects.bulk_create(
        [
            Task.contacts.through(task=tasks_by_id[task_id], membership=memberships[membership_id])
            for _, task_id, membership_id in activity.task_links
        ],
        batch_size=BATCH,
    )
    Touchpoint.participants.through.objects.bulk_create(
        [
            Touchpoint.participants.through(
                touchpoint=touchpoints_by_id[touchpoint_id], membership=memberships[membership_id]
            )
            for _, touchpoint_id, membership_id in activity.participants
        ],
        batch_size=BATCH,
    )


def vacuum_analyze(models=SEEDED_MODELS):
    """VACUUM ANALYZE the tables of `models` on PostgreSQL: the planner gets statistics and
    index-only scans see an up-to-date visibility map now, not when autovacuum comes round
    (before that the account page of the large set takes twice as long). VACUUM cannot run
    inside a transaction, so within one (a test) this does nothing. Returns whether it ran."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return True


def create_account_types():
    """The account types of ACCOUNT_TYPES, top level first, with their roles."""
    types = AccountType.objects.bulk_create(
        [AccountType(name=name, order=order) for order, name in enumerate(ACCOUNT_TYPES, 1)]
    )
    AccountRole.objects.bulk_create(
        [
            AccountRole(account_type=account_type, name=role_name)
            for account_type in types
            for role_name in ACCOUNT_TYPES[account_type.name]
        ]
    )
    return types


def roles_by_level(types):
    """The role ids offered at each level of the tree (the type at that level's roles)."""
    roles = {account_type.pk: [] for account_type in types}
    for pk, type_id in AccountRole.objects.order_by("pk").values_list("pk", "account_type_id"):
        roles[type_id].append(pk)
    return [roles[account_type.pk] for account_type in types]


def create_staff_users():
    User = get_user_model()
    users = []
    for username, group_name, first_name, last_name in DEMO_STAFF:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@unified-contacts.example",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_superuser = user.is_staff = group_name == staff.GLOBAL_ADMIN
            user.save()
        user.groups.add(Group.objects.get(name=group_name))
        users.append(user)
    return users
