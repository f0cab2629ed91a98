"""Past 400 lines as one thing: the demo data set, whose shapes, words and bulk writers go together.

A realistic, deterministic data set, written with bulk operations. The shape (companies,
levels, fan-out, people per account) is data, so the same code can build a much larger set
for benchmarks by passing a bigger shape.
"""

import itertools
import random
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import ALL_TREES, Account, AccountRole, AccountType, lock_trees
from config import staff

from .models import (
    ContactChange,
    EmailAlias,
    KeyContactAlert,
    Membership,
    Person,
    PersonMerge,
    Task,
    Touchpoint,
)

ACCOUNT_TYPES = {
    # name: roles offered at accounts of that type
    "Corporate": ["Executive sponsor", "Champion", "Procurement", "Legal"],
    "Region": ["Regional director", "Champion", "Operations lead"],
    "Site": ["Site admin", "Site manager", "End user"],
    "Department": ["Department head", "Team lead", "End user"],
}

# fmt: off
FIRST_NAMES = [
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger",
    "Radia", "Tim", "Katherine", "John", "Hedy", "Claude", "Annie", "Donald", "Sophie", "Guido",
    "Joan", "Niklaus", "Lynn", "Bjarne", "Shafi", "Vint", "Marian", "Fran", "Leslie", "Karen",
    "Mary", "Jean", "Evelyn", "Adele", "Ruth", "Carol", "Ivan", "Peter", "Susan", "Brian", "Hal",
    "Lois", "Ellen", "Yukihiro"
]
LAST_NAMES = [
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
    "Allen", "Dijkstra", "Perlman", "Berners-Lee", "Johnson", "McCarthy", "Lamarr", "Shannon",
    "Easley", "Knuth", "Wilson", "Rossum", "Clarke", "Wirth", "Conway", "Stroustrup", "Goldwasser",
    "Cerf", "Croft", "Bilas", "Lamport", "Jones", "Keller", "Sammet", "Boyd", "Goldberg",
    "Teitelbaum", "Shaw", "Sutherland", "Norvig", "Kare", "Kernighan", "Abelson", "Haibt",
    "Spertus", "Matsumoto", "O'Brien", "García", "Müller"
]
# fmt: on
TITLES = [
    "VP Operations",
    "IT Manager",
    "Head of Procurement",
    "Facilities Lead",
    "CFO",
    "Customer Success Lead",
    "Office Manager",
    "Data Analyst",
    "COO",
    "Engineering Manager",
    "",
]
TASK_TITLES = [
    "Quarterly business review",
    "Renewal call prep",
    "Send onboarding pack",
    "Follow up on support escalation",
    "Schedule training session",
    "Confirm billing contact",
]
TOUCHPOINT_SUBJECTS = [
    "Kick-off meeting",
    "Check-in call",
    "Product roadmap update",
    "Renewal discussion",
    "Training feedback",
    "Executive briefing",
]

DEMO_PASSWORD = "unified-demo"
DEMO_STAFF = [
    # username, group, first name, last name
    ("admin", staff.GLOBAL_ADMIN, "Gloria", "Admin"),
    ("advanced", staff.ADVANCED, "Avery", "Advanced"),
    ("standard", staff.STANDARD, "Sam", "Standard"),
    ("viewer", staff.VIEWER, "Vic", "Viewer"),
]


@dataclass(frozen=True)
class CompanyShape:
    name: str
    domain: str
    # How many children each account has at each level below the root (one entry per level).
    fan_out: tuple[int, ...]
    region_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataShape:
    companies: tuple[CompanyShape, ...]
    people_per_account: tuple[int, int] = (3, 8)  # a range
    contact_share: float = 0.6
    key_contact_share: float = 0.2
    # Share of people who also belong to a second account (in the same or another company).
    second_membership_share: float = 0.25
    tasks_per_account: tuple[int, int] = (0, 2)
    touchpoints_per_account: tuple[int, int] = (0, 3)
    seed: int = 20261126


DEMO = DataShape(
    companies=(
        CompanyShape(
            "Northwind Holdings",
            "northwind.example",
            (3, 3, 2),
            ("North America", "Europe", "Asia Pacific"),
        ),
        CompanyShape("Globex Industries", "globex.example", (2, 4), ("East", "West")),
        CompanyShape(
            "Initech Group", "initech.example", (3, 2), ("Central", "Coastal", "Mountain")
        ),
    ),
)


def _large_companies():
    """The benchmark set of SPEC §7: one company of 2,011 accounts over four levels and 363
    companies of 22 accounts over three: 9,997 accounts in all."""
    largest = CompanyShape(
        "Northwind Holdings",
        "northwind.example",
        (10, 20, 9),
        (
            "North America",
            "Europe",
            "Asia Pacific",
            "Latin America",
            "Middle East",
            "Africa",
            "Nordics",
            "Iberia",
            "Oceania",
            "Central Asia",
        ),
    )
    others = tuple(
        CompanyShape(f"Customer {number:03d}", f"customer{number:03d}.example", (3, 6))
        for number in range(1, 364)
    )
    return (largest, *others)


LARGE = DataShape(
    companies=_large_companies(),
    # About 50 people an account (500,000), a fifth of them at a second account (600,000
    # memberships), a third of the memberships contacts (200,000).
    people_per_account=(40, 60),
    contact_share=1 / 3,
    key_contact_share=0.1,
    second_membership_share=0.2,
    tasks_per_account=(0, 2),
    touchpoints_per_account=(0, 2),
)

SIZES = {"demo": DEMO, "large": LARGE}
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
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in SEEDED_MODELS)
        with connection.cursor() as cursor:
            # Deferred foreign-key checks still pending in this transaction forbid TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {tables}")
        return
    for model in SEEDED_MODELS:
        model.objects.all().delete()


@transaction.atomic
def seed(shape=DEMO, *, progress=None):
    """Write the data set of `shape` and the demo staff users. Returns a SeedReport.

    One company at a time, with bulk inserts, so memory holds one company's rows, not the
    whole set; the account trees are numbered by one django-mptt rebuild at the end.
    Side effects: creates account types and roles, accounts, people, memberships, tasks,
    touchpoints, and the staff users of DEMO_STAFF in their groups.
    """
    rng = random.Random(shape.seed)
    report = SeedReport()
    lock_trees(ALL_TREES)

    types = _create_account_types()
    roles_by_type = {}
    for role in AccountRole.objects.all():
        roles_by_type.setdefault(role.account_type_id, []).append(role)
    staff_users = _create_staff_users()
    report.staff_users = [user.username for user in staff_users]

    all_accounts = []
    for number, company in enumerate(shape.companies, 1):
        accounts = _create_company_accounts(number, company, types)
        all_accounts.extend(accounts)
        people, memberships = _create_people_and_memberships(
            shape,
            rng,
            company,
            accounts,
            all_accounts,
            roles_by_type,
            first_number=report.people + 1,
        )
        tasks, touchpoints = _create_tasks_and_touchpoints(
            shape, rng, accounts, memberships, staff_users
        )
        report.accounts += len(accounts)
        report.people += len(people)
        report.memberships += len(memberships)
        report.contacts += sum(m.is_contact for m in memberships)
        report.key_contacts += sum(m.is_key_contact for m in memberships)
        report.tasks += tasks
        report.touchpoints += touchpoints
        if progress:
            progress(number, len(shape.companies), report)
    Account.objects.rebuild()
    return report


def vacuum_analyze(models=SEEDED_MODELS):
    """VACUUM ANALYZE the tables of `models` on PostgreSQL: the planner gets statistics and
    index-only scans see an up-to-date visibility map now, not when autovacuum comes round
    (before that the account page of the large set takes twice as long). VACUUM cannot run
    inside a transaction, so within one (a test) this does nothing."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _create_account_types():
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


def _create_company_accounts(number, company, types):
    """One company's tree, inserted level by level. The tree columns are placeholders until
    the rebuild at the end of seed(), which numbers trees and siblings in (tree_id, lft)
    order: the placeholders carry the company's number and the insertion order so that the
    numbering is the same on every run and every database, not the order rows come back in."""
    position = itertools.count()

    def placeholder():
        return {"tree_id": number, "lft": next(position), "rght": 0, "level": 0}

    code = "".join(word[0] for word in company.name.split()).upper()
    root = Account(
        external_id=f"{code}-{number:03d}",
        name=company.name,
        account_type=types[0],
        **placeholder(),
    )
    Account.objects.bulk_create([root])
    accounts = [root]
    level_accounts = [root]
    for depth, fan_out in enumerate(company.fan_out, 1):
        account_type = types[depth]
        children = [
            Account(
                external_id=f"{parent.external_id}-{index}",
                name=_account_name(company, account_type, parent, depth, index),
                account_type=account_type,
                parent=parent,
                **placeholder(),
            )
            for parent in level_accounts
            for index in range(1, fan_out + 1)
        ]
        Account.objects.bulk_create(children, batch_size=BATCH)
        accounts.extend(children)
        level_accounts = children
    return accounts


def _account_name(company, account_type, parent, depth, index):
    if depth == 1 and index <= len(company.region_names):
        return f"{company.name.split()[0]} {company.region_names[index - 1]}"
    if account_type.name == "Site":
        return f"{parent.name} Site {index}"
    return f"{parent.name} {account_type.name} {index}"


def _create_people_and_memberships(
    shape, rng, company, accounts, all_accounts, roles_by_type, first_number
):
    """The people of one company, each a member of an account of it, some also of a second
    account: mostly in the same company, now and then at another customer."""
    people, placements = [], []
    for account in accounts:
        for _ in range(rng.randint(*shape.people_per_account)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            number = first_number + len(people)
            local = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
            people.append(
                Person(
                    email=f"{local}.{number}@{company.domain}",
                    first_name=first,
                    last_name=last,
                    title=rng.choice(TITLES),
                    phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                )
            )
            placements.append(account)
    Person.objects.bulk_create(people, batch_size=BATCH)

    memberships, seen = [], set()

    def add(person, account):
        if (person.pk, account.pk) in seen:
            return
        seen.add((person.pk, account.pk))
        roles = roles_by_type.get(account.account_type_id, [])
        is_contact = rng.random() < shape.contact_share
        memberships.append(
            Membership(
                person=person,
                account=account,
                role=rng.choice(roles) if roles and rng.random() < 0.85 else None,
                is_contact=is_contact,
                is_key_contact=is_contact and rng.random() < shape.key_contact_share,
            )
        )

    for person, account in zip(people, placements, strict=True):
        add(person, account)
        if rng.random() < shape.second_membership_share:
            add(person, rng.choice(accounts if rng.random() < 0.85 else all_accounts))
    Membership.objects.bulk_create(memberships, batch_size=BATCH)
    return people, memberships


def _create_staff_users():
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


def _create_tasks_and_touchpoints(shape, rng, accounts, memberships, staff_users):
    """Tasks and touchpoints of one company, linked to contacts of that company only."""
    company_accounts = {account.pk for account in accounts}
    hierarchy_contacts = [
        m for m in memberships if m.is_contact and m.account_id in company_accounts
    ]
    today = timezone.localdate()
    now = timezone.now()
    tasks, task_links, touchpoints, touchpoint_links = [], [], [], []
    for account in accounts:
        for _ in range(rng.randint(*shape.tasks_per_account)):
            tasks.append(
                Task(
                    account=account,
                    title=rng.choice(TASK_TITLES),
                    due_date=today + timedelta(days=rng.randint(-10, 45)),
                    status=Task.Status.DONE if rng.random() < 0.3 else Task.Status.OPEN,
                    owner=rng.choice(staff_users),
                )
            )
            task_links.append(_sample(rng, hierarchy_contacts, 2))
        for _ in range(rng.randint(*shape.touchpoints_per_account)):
            touchpoints.append(
                Touchpoint(
                    account=account,
                    kind=rng.choice(Touchpoint.Kind.values),
                    happened_at=now - timedelta(days=rng.randint(1, 120), hours=rng.randint(0, 8)),
                    subject=rng.choice(TOUCHPOINT_SUBJECTS),
                    notes="",
                    author=rng.choice(staff_users),
                )
            )
            touchpoint_links.append(_sample(rng, hierarchy_contacts, 3))
    Task.objects.bulk_create(tasks, batch_size=BATCH)
    Touchpoint.objects.bulk_create(touchpoints, batch_size=BATCH)
    Task.contacts.through.objects.bulk_create(
        [
            Task.contacts.through(task=task, membership=membership)
            for task, linked in zip(tasks, task_links, strict=True)
            for membership in linked
        ],
        batch_size=BATCH,
    )
    Touchpoint.participants.through.objects.bulk_create(
        [
            Touchpoint.participants.through(touchpoint=touchpoint, membership=membership)
            for touchpoint, linked in zip(touchpoints, touchpoint_links, strict=True)
            for membership in linked
        ],
        batch_size=BATCH,
    )
    return len(tasks), len(touchpoints)


def _sample(rng, population, most):
    if not population:
        return []
    return rng.sample(population, rng.randint(1, min(most, len(population))))
