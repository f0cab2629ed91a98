"""What the load test (`make loadtest`) needs in the database, and its removal afterwards.

`prepare` checks that the database holds the large data set (the bars mean nothing on the demo
data), makes one staff user per simulated user (`loadtest-001`…, in the Advanced group: they
add and edit contacts, download segments and preview uploads) and writes what the simulated
team picks from: the largest company, a sample of other accounts with their View choices and
roles, the names to search for and a small users file to preview. `clean_up` removes everything
a run made, so that the large data set stays what `seed_demo --size large` built and a later
`manage.py bench` finds nothing of ours.

The simulated team writes only what it made itself: the people it adds have emails at
EMAIL_DOMAIN, it edits only their memberships, and its uploads are previewed and cancelled,
never imported.
"""

import contextlib
import csv
import json
import random
import secrets
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import Account, AccountRole, AccountType
from config import staff
from contacts.demo import FIRST_NAMES, LAST_NAMES
from contacts.models import Person

from .. import services
from ..models import ImportJob
from ..resources import UsersResource

USERNAME_PREFIX = "loadtest-"
EMAIL_DOMAIN = "loadtest.example"
# What `seed_demo --size large` makes is 9,997 accounts and 500,153 people; the demo data is a
# few hundred. Anything well short of the large set would make the figures meaningless.
LARGE_SET_ACCOUNTS = 9_000
LARGE_SET_PEOPLE = 450_000
SAMPLED_ACCOUNTS = 300
UPLOAD_ROWS = 40
PROJECT_APPS = {"accounts", "contacts", "integrations"}


class NotTheLargeDataSet(Exception):
    pass


def check_large_data_set():
    """Raise NotTheLargeDataSet, saying what the database holds and how to build the large set,
    unless it holds about as much as `seed_demo --size large` makes."""
    accounts, people = Account.objects.count(), Person.objects.count()
    if accounts < LARGE_SET_ACCOUNTS or people < LARGE_SET_PEOPLE:
        raise NotTheLargeDataSet(
            f"This database holds {accounts:,} accounts and {people:,} people, not the large data "
            f"set (about 10,000 accounts and 500,000 people) the load test is meant for. Build it "
            "with `make bench` (a fresh database uc_bench, then the SPEC §7 measures), or with "
            "`python manage.py seed_demo --size large` on an empty PostgreSQL database."
        )


@transaction.atomic
def prepare(*, staff_users, folder, seed=16):
    """Make `staff_users` staff users and write the run's targets to `folder` (targets.json, the
    users file to preview). Removes what an earlier run left first. Writes nothing to the
    database unless it all succeeds. Returns the targets."""
    check_large_data_set()
    clean_up()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    usernames = _make_staff_users(staff_users, password)
    rng = random.Random(seed)
    largest = Account.objects.root_nodes().order_by("-rght", "pk").first()
    account_ids = sorted(Account.objects.values_list("pk", flat=True))
    sampled = Account.objects.filter(pk__in=rng.sample(account_ids, SAMPLED_ACCOUNTS))
    accounts = [_account_targets(account) for account in sampled.select_related("account_type")]
    users_file = write_users_file(folder / "users.csv", accounts, rng)
    targets = {
        "password": password,
        "staff_users": usernames,
        "largest": _account_targets(largest),
        "accounts": accounts,
        # What a customer-success person types: names of the people in the large set.
        "names": sorted({name.lower() for name in FIRST_NAMES + LAST_NAMES if len(name) > 2}),
        "email_domain": EMAIL_DOMAIN,
        "users_file": str(users_file),
    }
    path = folder / "targets.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps(targets, indent=1), encoding="utf-8")
    return targets


def _make_staff_users(count, password):
    """`count` staff users in the Advanced group, all with `password`, hashed once: hashing it
    per user would cost a second of CPU each before the run starts."""
    User = get_user_model()
    usernames = [f"{USERNAME_PREFIX}{number:03d}" for number in range(1, count + 1)]
    encoded = make_password(password)
    with transaction.atomic():
        users = User.objects.bulk_create(
            [
                User(username=name, first_name="Load", last_name=name, password=encoded)
                for name in usernames
            ]
        )
        group = Group.objects.get(name=staff.ADVANCED)
        group.user_set.add(*users)
    return usernames


def _account_targets(account):
    """What the simulated team may choose on this account's page."""
    types = AccountType.objects.in_hierarchy(account)
    return {
        "pk": account.pk,
        "external_id": account.external_id,
        "views": [view.value for view in account.hierarchy_views(types)],
        "roles": list(
            AccountRole.objects.in_hierarchy(account).order_by("pk").values_list("pk", flat=True)
        ),
        # The roles a contact at this account may have (its own type's).
        "own_roles": list(
            AccountRole.objects.filter(account_type_id=account.account_type_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
    }


def write_users_file(path, accounts, rng):
    """A small users file over the sampled accounts, of new people at EMAIL_DOMAIN: what a staff
    user previews (and cancels) during the run; it is never imported."""
    with Path(path).open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(UsersResource.columns())
        for number in range(UPLOAD_ROWS):
            account = accounts[rng.randrange(len(accounts))]
            writer.writerow(
                [
                    account["external_id"],
                    f"upload{number}@{EMAIL_DOMAIN}",
                    f"Upload{number}",
                    "Loadtest",
                    "",
                    "",
                    "",
                    rng.choice(["yes", "no"]),
                    "no",
                ]
            )
    return path


def clean_up():
    """Remove everything a load test made: the people at EMAIL_DOMAIN with their memberships and
    history, its staff users' import jobs (stored files and queued tasks too), every other row
    that names one of its staff users (history, exports, downloads, segments …: the staff users
    exist only for the run, so whatever names them the run made), their sign-in records, and
    the staff users. Returns how many staff users there were."""
    User = get_user_model()
    staff_users = User.objects.filter(username__startswith=USERNAME_PREFIX)
    jobs = ImportJob.objects.filter(staff_user__in=staff_users)
    services.delete_stored_files_and_task_records(jobs)
    with transaction.atomic():
        # Memberships and their history go with the people (CASCADE).
        Person.objects.filter(email__iendswith=f"@{EMAIL_DOMAIN}").delete()
        for rows in _rows_naming(staff_users):
            rows.delete()
        if apps.is_installed("axes"):
            # django-axes records sign-ins by username, not by a link to the staff user.
            for name in ("AccessLog", "AccessAttempt", "AccessFailureLog"):
                with contextlib.suppress(LookupError):
                    apps.get_model("axes", name).objects.filter(
                        username__startswith=USERNAME_PREFIX
                    ).delete()
        count = staff_users.count()
        staff_users.delete()
    return count


def _rows_naming(staff_users):
    """A queryset per model of this project with a link to staff users: its rows that link to
    one of `staff_users`."""
    for relation in get_user_model()._meta.related_objects:
        model = relation.related_model
        if relation.one_to_many and model._meta.app_label in PROJECT_APPS:
            yield model._default_manager.filter(**{f"{relation.field.name}__in": staff_users})
