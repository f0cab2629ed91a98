"""The integration measures of `manage.py bench` (SPEC §7): the users import of a generated
100,000-row file beside plain django-import-export and the physical floor, and the users export.

The bench command runs each measure in a process of its own, so that the peak memory it
reports belongs to that measure alone. The data the import writes is removed afterwards
(`clean_up_people`, `clean_up_accounts`), so the bench can run again on the same database.
"""

import csv
import random
import resource
import tempfile
import time
from pathlib import Path

import tablib
from django.db import connection, transaction
from import_export import resources

from accounts.models import Account, AccountRole, AccountType
from contacts.demo import vacuum_analyze
from contacts.models import ContactChange, Membership, Person

from . import services
from .models import ImportJob, UsersExport
from .resources import UsersResource

PREFIX = "BENCH"
EMAIL_DOMAIN = "bench.example"
TYPES = {
    "Corporate": ["Executive sponsor", "Champion"],
    "Region": ["Regional director", "Champion"],
    "Site": ["Site admin", "End user"],
}
REGIONS, SITES_PER_REGION = 20, 50


def peak_rss_mb():
    """The process's resident memory at its highest so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


# The users file


def write_users_file(folder, rows, *, seed=7):
    """Make the benchmark company (once) and write a users file of `rows` rows over it.

    Nine rows in ten are a new person, the rest a second account for someone earlier in the
    file; a mix of titles, roles, contacts and key contacts. Returns the file's path."""
    accounts = _benchmark_accounts()
    rng = random.Random(seed)
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


def _benchmark_accounts():
    """A company of 1 + 20 regions + 1,000 sites, made through an accounts file the first time.
    Returns (Account ID, account type name) of each."""
    for order, (name, roles) in enumerate(TYPES.items(), 1):
        account_type, _ = AccountType.objects.get_or_create(name=name, defaults={"order": order})
        for role in roles:
            AccountRole.objects.get_or_create(account_type=account_type, name=role)
    if not Account.objects.filter(external_id=f"{PREFIX}-0").exists():
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
    return list(
        Account.objects.filter(external_id__startswith=f"{PREFIX}-")
        .order_by("external_id")
        .values_list("external_id", "account_type__name")
    )


def clean_up_people():
    """Remove what an import of the benchmark file wrote: the benchmark people, their
    memberships and their history; then vacuum, so that the next run starts from the same
    state rather than from a table full of dead rows."""
    with transaction.atomic():
        people = Person.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")
        memberships = Membership.objects.filter(person__in=people)
        ContactChange.objects.filter(membership__in=memberships)._raw_delete(connection.alias)
        memberships._raw_delete(connection.alias)
        people._raw_delete(connection.alias)
    vacuum_analyze((ContactChange, Membership, Person))


def clean_up_accounts():
    """Remove the benchmark company."""
    Account.objects.filter(external_id__startswith=f"{PREFIX}-").delete()


# The measures: each returns a dict of figures for the bench's table and JSON.


def measure_import(path):
    """This project's import, as the integrations page, the admin and import_users run it: a
    preview (dry run), then the import itself."""
    rows = _data_rows(path)
    figures = {"rows": rows}
    for phase, dry_run in (("preview", True), ("commit", False)):
        started = time.perf_counter()
        with path.open("rb") as file:
            result = services.import_file(
                kind=ImportJob.Kind.USERS, file=file, dry_run=dry_run, skip_errors=False
            )
        figures[f"{phase}_s"] = time.perf_counter() - started
        if result.file_problems() or result.failed:
            raise RuntimeError(f"The benchmark file did not import: {result.problems()[:3]}")
        figures[f"{phase}_new"] = result.new
    figures["seconds"] = figures["preview_s"] + figures["commit_s"]
    figures["rows_per_s"] = rows / figures["seconds"]
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


class PlainPersonResource(resources.ModelResource):
    """django-import-export as its documentation starts: a ModelResource with default options,
    matched on email. It writes people only: one row cannot make a person and a membership
    without code of one's own."""

    class Meta:
        model = Person
        fields = ("email", "first_name", "last_name", "title", "phone")
        import_id_fields = ("email",)


def measure_plain_import(path, rows):
    """Plain django-import-export on the first `rows` rows of the file, rolled back; its time
    scaled to the whole file (a lower bound: it slows as the table grows)."""
    total = _data_rows(path)
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
        result = PlainPersonResource().import_data(data, dry_run=False)
        transaction.set_rollback(True)
    seconds = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise RuntimeError("Plain django-import-export failed on the benchmark rows.")
    return {
        "rows": len(data),
        "seconds": seconds,
        "rows_per_s": len(data) / seconds,
        "scaled_seconds": seconds * total / len(data),
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_copy_floor(path):
    """The physical floor: psycopg COPY of the whole file into a staging table, then one
    INSERT … ON CONFLICT for the people and one for the memberships. Rolled back. No checks,
    no history, no preview: what the database itself needs to take the rows in."""
    person, membership = Person._meta.db_table, Membership._meta.db_table
    account, role = Account._meta.db_table, AccountRole._meta.db_table
    rows = _data_rows(path)
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
    if written != rows:
        raise RuntimeError(f"The floor wrote {written:,} memberships of {rows:,} rows.")
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_export(client, *, checkpoint_every=100_000):
    """The users export as staff download it from the integrations page: a streamed CSV of every
    membership. Memory is read at every `checkpoint_every` rows, to show it stays flat as the
    row count grows. Not counted by the re-add guard: the export's record is removed after."""
    last_export = UsersExport.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = time.perf_counter()
    response = client.post("/integrations/export/", {"who": "all", "file_format": "csv"})
    if response.status_code != 200 or not response.streaming:
        raise RuntimeError(f"The export answered {response.status_code}, not a streamed file.")
    lines, checkpoints, next_checkpoint = 0, [], checkpoint_every
    first_byte_s = None
    for chunk in response.streaming_content:
        if first_byte_s is None:
            first_byte_s = time.perf_counter() - started
        lines += chunk.count(b"\n")
        if lines - 1 >= next_checkpoint:
            checkpoints.append({"rows": lines - 1, "rss_mb": current_rss_mb()})
            next_checkpoint += checkpoint_every
    seconds = time.perf_counter() - started
    rows = lines - 1  # the header
    UsersExport.objects.filter(pk__gt=last_export).delete()
    return {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "first_byte_s": first_byte_s,
        "streamed": True,
        "checkpoints": checkpoints,
        "peak_rss_mb": peak_rss_mb(),
    }


def _data_rows(path):
    with path.open("rb") as file:
        return sum(1 for _ in file) - 1
