"""What keeps the bench to a database of its own: it refuses one that holds data it did not
make, and removes every row, file and staff user it made when it ends.

A database the bench may use holds only what `seed_demo` and the bench write: seed_demo's demo
staff users, accounts, people, tasks and touchpoints, and no history of anyone's work (import
jobs, users exports, contact changes, saved segments) other than the bench staff user's. Any
other staff user or any such history means people use the database: the bench imports a
company into it, vacuums its tables and loads it for minutes, so it stops there unless forced.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction

from accounts.models import Account, AccountRole, AccountType
from config import staff
from contacts.demo import DEMO_STAFF, vacuum_analyze
from contacts.models import ContactChange, Membership, Person, Segment

from .. import services
from ..models import ImportJob, MappingTemplate, UsersExport

BENCH_USERNAME = "bench"
# What marks the benchmark company's accounts (Account IDs) and people (emails).
PREFIX = "BENCH"
EMAIL_DOMAIN = "bench.example"


def bench_staff_user(group=staff.ADVANCED):
    """The staff user the bench signs in as (made the first time), in `group`."""
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USERNAME)
    user.groups.add(Group.objects.get(name=group))
    return user


def data_not_made_by_the_bench():
    """What in the database neither seed_demo nor the bench made, one phrase per kind, e.g.
    ["2 staff users other than seed_demo's and the bench's"]; empty when there is none."""
    seeded = [username for username, *_ in DEMO_STAFF]
    others = {
        "staff users other than seed_demo's and the bench's": get_user_model().objects.exclude(
            username__in=[*seeded, BENCH_USERNAME]
        ),
        "import jobs": ImportJob.objects.exclude(staff_user__username=BENCH_USERNAME),
        "users exports": UsersExport.objects.exclude(staff_user__username=BENCH_USERNAME),
        "contact changes": ContactChange.objects.exclude(staff_user__username=BENCH_USERNAME),
        "saved segments": Segment.objects.all(),
    }
    found = []
    for what, rows in others.items():
        if count := rows.count():
            found.append(f"{count:,} {what}")
    return found


def remove_what_the_bench_made(*, account_types=(), roles=()):
    """Remove every row and file the bench made: the benchmark people (with their memberships
    and history) and company, the account types and roles it had to add (`account_types`,
    `roles`: their ids), the bench staff user's import jobs with their stored files and queued
    tasks, its users exports, and the bench staff user."""
    clean_up_people()
    clean_up_accounts()
    AccountRole.objects.filter(pk__in=roles).delete()
    AccountType.objects.filter(pk__in=account_types, accounts__isnull=True).delete()
    jobs = ImportJob.objects.filter(staff_user__username=BENCH_USERNAME)
    services.delete_stored_files_and_task_records(jobs)
    jobs.delete()
    UsersExport.objects.filter(staff_user__username=BENCH_USERNAME).delete()
    MappingTemplate.objects.filter(name__startswith=f"{PREFIX} ").delete()
    get_user_model().objects.filter(username=BENCH_USERNAME).delete()


def clean_up_people():
    """Remove what an import of the benchmark file wrote: the benchmark people, their
    memberships and their history; then vacuum, so that the next run starts from the same
    state rather than from a table full of dead rows."""
    with transaction.atomic():
        people = Person.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")
        memberships = Membership.objects.filter(person__in=people)
        ContactChange.objects.filter(person__in=people)._raw_delete(connection.alias)
        memberships._raw_delete(connection.alias)
        people._raw_delete(connection.alias)
    vacuum_analyze((ContactChange, Membership, Person))


def clean_up_accounts():
    """Remove the benchmark company."""
    Account.objects.filter(external_id__startswith=f"{PREFIX}-").delete()


def settle(stderr):
    """Write out what the seed (or anything before) left in PostgreSQL's buffers now: left
    to itself, the checkpointer spreads a gigabyte of writes over the next minutes, across
    the measures. CHECKPOINT needs a superuser or the pg_checkpoint role."""
    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as error:
        stderr.write(f"No CHECKPOINT before measuring ({error}); figures may be noisier.")
