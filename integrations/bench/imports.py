"""The import measures of `manage.py bench` (SPEC §7): a generated users file imported as staff
users import it (uploaded on the integrations page, previewed by a job, confirmed, run by a
job), beside plain django-import-export in three set-ups and the physical floor (COPY).

The bench command runs each measure in a process of its own, so that the peak memory it
reports belongs to that measure alone, and cleans up (and vacuums) before each, so each starts
from the same state.
"""

import csv
import random
import tempfile
import time
from pathlib import Path

import tablib
from django.db import connection, transaction
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django.urls import resolve, reverse
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction
from import_export import instance_loaders, resources

from accounts.models import Account, AccountRole, AccountType
from contacts.models import Membership, Person

from .. import services
from ..models import ImportJob
from ..resources import UsersResource
from ..tasks import check_import_file, run_import_file
from .database import EMAIL_DOMAIN, PREFIX
from .figures import peak_rss_mb

TYPES = {
    "Corporate": ["Executive sponsor", "Champion"],
    "Region": ["Regional director", "Champion"],
    "Site": ["Site admin", "End user"],
}
REGIONS, SITES_PER_REGION = 20, 50
# The Account ID of the rows with an error: no such account. A source system's file has a few,
# so the preview lists them, the import skips them and both write an error file.
UNKNOWN_ACCOUNT = f"{PREFIX}-UNKNOWN"


# The users file


def make_company():
    """Make the benchmark company (once): 1 + 20 regions + 1,000 sites, through an accounts file.
    Returns (accounts, made): (Account ID, account type name) of each account, and the ids of
    the account types and roles this had to add, {"account_types": […], "roles": […]}."""
    made = {"account_types": [], "roles": []}
    for order, (type_name, role_names) in enumerate(TYPES.items(), 1):
        account_type, created = AccountType.objects.get_or_create(
            name=type_name, defaults={"order": order}
        )
        if created:
            made["account_types"].append(account_type.pk)
        for role_name in role_names:
            role, created = AccountRole.objects.get_or_create(
                account_type=account_type, name=role_name
            )
            if created:
                made["roles"].append(role.pk)
    if not Account.objects.filter(external_id=f"{PREFIX}-0").exists():
        _import_company()
    accounts = list(
        Account.objects.filter(external_id__startswith=f"{PREFIX}-")
        .order_by("external_id")
        .values_list("external_id", "account_type__name")
    )
    return accounts, made


def _import_company():
    lines = [
        ["Account ID", "Account Name", "Account Type", "Parent Account ID"],
        [f"{PREFIX}-0", "Benchmark Holdings", "Corporate", ""],
    ]
    for region in range(1, REGIONS + 1):
        lines.append([f"{PREFIX}-R{region}", f"Region {region}", "Region", f"{PREFIX}-0"])
        for site in range(1, SITES_PER_REGION + 1):
            lines.append(
                [
                    f"{PREFIX}-R{region}-S{site}",
                    f"Site {region}.{site}",
                    "Site",
                    f"{PREFIX}-R{region}",
                ]
            )
    with tempfile.TemporaryFile("w+b") as file:
        file.write("\n".join(",".join(line) for line in lines).encode())
        file.seek(0)
        result = services.import_file(kind=ImportJob.Kind.ACCOUNTS, file=file, dry_run=False)
    if result.failed or result.file_problems():
        raise RuntimeError(f"The benchmark accounts file failed: {result.problems()[:3]}")


def write_users_file(folder, accounts, rows, *, error_rows=0, seed=7):
    """Write a users file of `rows` rows over `accounts` (from make_company). Returns its path.

    Nine rows in ten are a new person, the rest a second account for someone earlier in the
    file; a mix of titles, roles, contacts and key contacts. `error_rows` of them, spread evenly,
    name an account that does not exist."""
    rng = random.Random(seed)
    every = rows // error_rows if error_rows else 0
    path = Path(folder) / "users.csv"
    pairs, people = set(), 0
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(UsersResource.columns())
        while len(pairs) < rows:
            if people and rng.random() < 0.1:
                person = rng.randrange(people)
            else:
                person, people = people, people + 1
            external_id, type_name = accounts[rng.randrange(len(accounts))]
            if every and len(pairs) % every == every - 1:
                external_id = UNKNOWN_ACCOUNT
            if (person, external_id) in pairs:
                continue
            pairs.add((person, external_id))
            key = rng.random() < 0.1
            writer.writerow(
                [
                    external_id,
                    f"person{person}@{EMAIL_DOMAIN}",
                    f"First{person}",
                    f"Last{person}",
                    rng.choice(["", "CFO", "IT Manager", "Head of Operations"]),
                    rng.choice(["", f"+1 555 {person % 10000:04d}"]),
                    rng.choice(["", *TYPES[type_name]]),
                    "yes" if key else rng.choice(["yes", "yes", "no", ""]),
                    "yes" if key else rng.choice(["", "no"]),
                ]
            )
    return path


def data_rows(path):
    with path.open("rb") as file:
        return sum(1 for _ in file) - 1


def error_rows(path):
    with path.open(newline="", encoding="utf-8") as file:
        return sum(row[0] == UNKNOWN_ACCOUNT for row in csv.reader(file))


# This project's import, through its jobs


def measure_import(path, client, *, template=None, undo=False):
    """The users import as a staff user runs it: the file uploaded on the integrations page
    (the upload form, the stored upload, the preview job enqueued), the preview job run, the
    confirm form posted (the rows with errors skipped), the import job run. The jobs write their
    progress and error files as they do for everyone. `client` is signed in as the bench staff
    user. Returns the figures: preview, confirm and total seconds, the job's counts; with
    `undo`, the undo of the import too (bench.undo.measure_undo)."""
    rows = data_rows(path)
    started = time.perf_counter()
    with path.open("rb") as file:
        response = client.post(reverse("integrations:index"), {"kind": "users", "file": file})
    if response.status_code != 302:
        raise RuntimeError(f"The upload answered {response.status_code}, not the job page.")
    job = ImportJob.objects.get(pk=resolve(response.url).kwargs["pk"])
    _run_queued(check_import_file, job)
    preview_s = time.perf_counter() - started
    job.refresh_from_db()
    if job.status != ImportJob.Status.READY:
        raise RuntimeError(f"The preview ended {job.status}: {job.message}")
    if job.mapping_template != template:
        raise RuntimeError(f"The preview read the file through {job.mapping_template}.")
    preview = {"failed": job.failed_rows, "error_file": bool(job.error_file)}

    started = time.perf_counter()
    response = client.post(
        reverse("integrations:job-confirm", args=[job.pk]),
        {"skip_errors": "on", "keep_removed": "on"},
    )
    if response.status_code != 302:
        raise RuntimeError(f"The confirmation answered {response.status_code}.")
    _run_queued(run_import_file, job)
    confirm_s = time.perf_counter() - started
    job.refresh_from_db()
    if job.status != ImportJob.Status.SUCCEEDED:
        raise RuntimeError(f"The import ended {job.status}: {job.message}")
    figures = {
        "rows": rows,
        "preview_s": preview_s,
        "confirm_s": confirm_s,
        "seconds": preview_s + confirm_s,
        "rows_per_s": rows / (preview_s + confirm_s),
        "preview_failed": preview["failed"],
        "preview_error_file": preview["error_file"],
        "new": job.new_rows,
        "updated": job.updated_rows,
        "unchanged": job.unchanged_rows,
        "failed": job.failed_rows,
        "error_file": bool(job.error_file),
    }
    if undo:
        from .undo import measure_undo

        figures.update(measure_undo(job, client))
    return {**figures, "peak_rss_mb": peak_rss_mb()}


def _run_queued(task, job):
    """Run the job's queued `task` as `manage.py db_worker` does: claim it in an exclusive
    transaction, then the worker's own run_task, which records the outcome on the queued row.

    The real path with the least pretending: the task travels through the database queue as
    in production, only the worker's polling loop (its sleeps, its signal handling, its
    closing of connections, which would end a test's transaction) is left out. With a backend
    that runs tasks as they are enqueued (the tests' default) the task has run already."""
    alias = DEFAULT_TASK_BACKEND_ALIAS
    if not isinstance(task_backends[alias], DatabaseBackend):
        return
    queued = DBTaskResult.objects.ready().filter(
        backend_name=alias,
        task_path=task.module_path,
        args_kwargs={"args": [job.pk], "kwargs": {}},
    )
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name=alias,
        startup_delay=False,
        max_tasks=None,
        worker_id="bench",
        excluded_queue_names=[],
    )
    with exclusive_transaction(queued.db):
        db_task = queued.get_locked()
        if db_task is None:
            raise RuntimeError(f"No queued {task.name} for import job {job.pk}.")
        db_task.claim(worker.worker_id)
    worker.run_task(db_task)
    if db_task.status != "SUCCESSFUL":
        raise RuntimeError(f"{task.name} failed:\n{db_task.traceback}")


# Plain django-import-export, three ways


class PlainPersonResource(resources.ModelResource):
    """django-import-export as its documentation starts: a ModelResource with default options,
    matched on email. It writes people only: one row cannot make a person and a membership
    without code of one's own."""

    class Meta:
        model = Person
        fields = ("email", "first_name", "last_name", "title", "phone")
        import_id_fields = ("email",)


class BulkPersonResource(PlainPersonResource):
    """With the options of its "Bulk imports" and performance documentation: bulk_create and
    bulk_update in batches, no copy and diff of each instance."""

    class Meta(PlainPersonResource.Meta):
        use_bulk = True
        batch_size = 1000
        skip_diff = True


class LowerEmailLoader(instance_loaders.ModelInstanceLoader):
    """Finds the person as the unique index on lower(email) does, so PostgreSQL answers each
    lookup from that index: the default loader's `email = …` reads the whole table."""

    def get_instance(self, row):
        return Person.objects.with_email(self.resource.fields["email"].clean(row)).first()


class IndexedBulkPersonResource(BulkPersonResource):
    """The bulk options and a lookup that uses the case-insensitive unique index: what someone
    who tuned django-import-export for this table would run."""

    class Meta(BulkPersonResource.Meta):
        instance_loader_class = LowerEmailLoader


PLAIN_VARIANTS = {
    "default": (PlainPersonResource, "django-import-export, default options"),
    "bulk": (BulkPersonResource, "django-import-export, bulk options"),
    "indexed": (IndexedBulkPersonResource, "django-import-export, bulk + lower(email) lookup"),
}


def measure_plain_import(path, rows, variant):
    """django-import-export (`variant` of PLAIN_VARIANTS) on the people of the first `rows`
    rows of the file, rolled back; its time scaled to the whole file (a lower bound: it slows
    as the table grows)."""
    resource_class, _ = PLAIN_VARIANTS[variant]
    total = data_rows(path)
    data = tablib.Dataset(headers=["email", "first_name", "last_name", "title", "phone"])
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        next(reader)
        seen = set()
        for row in reader:
            if len(data) == rows:
                break
            if row[1] not in seen:  # one row per person: these are people, not memberships
                seen.add(row[1])
                data.append(row[1:6])
    started = time.perf_counter()
    with transaction.atomic():
        result = resource_class().import_data(data, dry_run=False)
        written = Person.objects.filter(email__in=seen).count()
        transaction.set_rollback(True)
    seconds = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise RuntimeError(f"django-import-export ({variant}) failed on the benchmark rows.")
    return {
        "variant": variant,
        "rows": len(data),
        "written": written,
        "seconds": seconds,
        "rows_per_s": len(data) / seconds,
        "scaled_seconds": seconds * total / len(data),
        "peak_rss_mb": peak_rss_mb(),
    }


# The floor


def measure_copy_floor(path):
    """The physical floor: psycopg COPY of the whole file into a staging table, then one
    INSERT … ON CONFLICT for the people and one for the memberships. Rolled back. No checks,
    no history, no preview: what the database itself needs to take the rows in. The rows of an
    unknown account find no account to join and are left out, as the import skips them."""
    person, membership = Person._meta.db_table, Membership._meta.db_table
    account, role = Account._meta.db_table, AccountRole._meta.db_table
    rows, errors = data_rows(path), error_rows(path)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_users (account_id text, email text, first_name text,"
            " last_name text, title text, phone text, role text, contact text, key_contact text)"
            " ON COMMIT DROP"
        )
        with (
            path.open("rb") as file,
            cursor.cursor.copy("COPY bench_users FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := file.read(1 << 20):
                copy.write(chunk)
        cursor.execute(f"""
            INSERT INTO {person} (email, first_name, last_name, title, phone, created_at,
                                  updated_at)
            SELECT DISTINCT ON (lower(email)) email, first_name, last_name,
                   coalesce(title, ''), coalesce(phone, ''), now(), now()
            FROM bench_users ORDER BY lower(email)
            ON CONFLICT ((lower(email))) DO UPDATE SET
                first_name = excluded.first_name, last_name = excluded.last_name,
                title = excluded.title, phone = excluded.phone, updated_at = excluded.updated_at
        """)
        cursor.execute(f"""
            INSERT INTO {membership} (person_id, account_id, role_id, is_contact,
                                      is_key_contact, created_at, updated_at)
            SELECT p.id, a.id, r.id, s.contact IS NOT DISTINCT FROM 'yes',
                   s.key_contact IS NOT DISTINCT FROM 'yes', now(), now()
            FROM bench_users s
            JOIN {person} p ON lower(p.email) = lower(s.email)
            JOIN {account} a ON a.external_id = s.account_id
            LEFT JOIN {role} r ON r.account_type_id = a.account_type_id AND r.name = s.role
            ON CONFLICT (person_id, account_id) DO UPDATE SET
                role_id = excluded.role_id, is_contact = excluded.is_contact,
                is_key_contact = excluded.is_key_contact, updated_at = excluded.updated_at
        """)
        written = cursor.rowcount
        transaction.set_rollback(True)
    seconds = time.perf_counter() - started
    if written != rows - errors:
        raise RuntimeError(f"The floor wrote {written:,} memberships of {rows - errors:,} rows.")
    return {
        "rows": rows,
        "written": written,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "peak_rss_mb": peak_rss_mb(),
    }
