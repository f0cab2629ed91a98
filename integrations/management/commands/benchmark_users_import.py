"""Measure the users import of SPEC §7: a generated 100,000-row users file, preview and commit.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/uc_bench python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/uc_bench \\
        python manage.py benchmark_users_import --rows 100000

It creates (once) a benchmark company of accounts through the accounts file import, writes a
users file of --rows rows to a temporary file, and times the same service the integrations page
and import_users run: the preview (dry run), the import, the same file again (every row
unchanged), and a file that changes a third of the rows. Peak memory is the process's resident
peak. --plain N also times plain django-import-export (a ModelResource with default options)
on the first N rows of the same file, in a transaction rolled back afterwards. The benchmark's
people, memberships and accounts are deleted at the end unless --keep.
"""

import csv
import gc
import random
import resource
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from import_export import resources

from accounts.models import Account, AccountRole, AccountType
from contacts.models import ContactChange, Membership, Person
from integrations import services
from integrations.models import ImportJob
from integrations.resources import UsersResource

PREFIX = "BENCH"
EMAIL_DOMAIN = "bench.example"
TYPES = {
    "Corporate": ["Executive sponsor", "Champion"],
    "Region": ["Regional director", "Champion"],
    "Site": ["Site admin", "End user"],
}


class Command(BaseCommand):
    help = "Time the users import (preview and commit) on a generated file; see the module doc."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--regions", type=int, default=20)
        parser.add_argument("--sites", type=int, default=50, help="Sites per region.")
        parser.add_argument("--plain", type=int, default=0, metavar="N",
                            help="Also time plain django-import-export on the first N rows.")
        parser.add_argument("--keep", action="store_true", help="Leave the benchmark data.")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, rows, regions, sites, plain, keep, seed, **options):
        if Person.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").exists():
            raise CommandError(
                f"People of @{EMAIL_DOMAIN} exist already (a run with --keep?): delete them first."
            )
        self.stdout.write(
            f"Database: {connection.vendor} {connection.settings_dict['NAME']}; "
            f"{Person.objects.count():,} people, {Membership.objects.count():,} memberships, "
            f"{Account.objects.count():,} accounts before the run."
        )
        rng = random.Random(seed)
        try:
            accounts = self.ensure_accounts(regions, sites)
            with tempfile.TemporaryDirectory() as folder:
                first = Path(folder) / "users.csv"
                second = Path(folder) / "users-changed.csv"
                write_users_file(first, accounts, rows, rng)
                write_changed_file(first, second, rng)
                size = first.stat().st_size
                self.stdout.write(f"Users file: {rows:,} rows, {size / 1e6:.1f} MB.")
                self.measure("preview, new file", first, rows, dry_run=True)
                self.measure("import, new file", first, rows, dry_run=False)
                self.measure("preview, same file again", first, rows, dry_run=True)
                self.measure("import, same file again", first, rows, dry_run=False)
                self.measure("preview, a third changed", second, rows, dry_run=True)
                self.measure("import, a third changed", second, rows, dry_run=False)
                if plain:
                    self.measure_plain(first, plain)
        finally:
            if not keep:
                self.clean_up()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"Peak memory of the process (resident): {peak:,.0f} MB.")

    def measure(self, label, path, rows, *, dry_run):
        gc.collect()
        start = time.perf_counter()
        with path.open("rb") as file:
            result = services.import_file(
                kind=ImportJob.Kind.USERS, file=file, dry_run=dry_run, skip_errors=False,
            )
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        assert not result.file_problems() and not result.failed, result.problems()[:5]
        self.stdout.write(
            f"{label:<28} {seconds:7.2f} s  {rows / seconds:9,.0f} rows/s   "
            f"new {result.new:,}, updated {result.updated:,}, unchanged {result.unchanged:,}; "
            f"peak so far {peak:,.0f} MB"
        )

    def measure_plain(self, path, count):
        """Plain django-import-export, default options, on a people-only resource (it has no
        way to write a person and a membership from one row without custom code)."""

        class PlainPersonResource(resources.ModelResource):
            class Meta:
                model = Person
                fields = ("email", "first_name", "last_name", "title", "phone")
                import_id_fields = ("email",)

        import tablib

        with path.open(newline="", encoding="utf-8") as file:
            reader = csv.reader(file)
            next(reader)
            data = tablib.Dataset(headers=["email", "first_name", "last_name", "title", "phone"])
            for _, row in zip(range(count), reader):
                data.append([f"plain-{row[1]}", row[2], row[3], row[4], row[5]])
        start = time.perf_counter()
        with transaction.atomic():
            result = PlainPersonResource().import_data(data, dry_run=False)
            transaction.set_rollback(True)
        seconds = time.perf_counter() - start
        assert not result.has_errors() and not result.has_validation_errors()
        self.stdout.write(
            f"{'plain django-import-export':<28} {seconds:7.2f} s  {count / seconds:9,.0f} rows/s"
            f"   ({count:,} rows, people only, rolled back)"
        )

    def ensure_accounts(self, regions, sites):
        """A company of 1 + regions + regions × sites accounts, made by an accounts file."""
        for order, (name, roles) in enumerate(TYPES.items(), 1):
            account_type, _ = AccountType.objects.get_or_create(name=name, defaults={"order": order})
            for role in roles:
                AccountRole.objects.get_or_create(account_type=account_type, name=role)
        lines = [["Account ID", "Account Name", "Account Type", "Parent Account ID"],
                 [f"{PREFIX}-0", "Benchmark Holdings", "Corporate", ""]]
        for region in range(1, regions + 1):
            lines.append([f"{PREFIX}-R{region}", f"Region {region}", "Region", f"{PREFIX}-0"])
            for site in range(1, sites + 1):
                lines.append([f"{PREFIX}-R{region}-S{site}", f"Site {region}.{site}", "Site",
                              f"{PREFIX}-R{region}"])
        with tempfile.NamedTemporaryFile("w+b", suffix=".csv") as file:
            file.write("\n".join(",".join(line) for line in lines).encode())
            file.flush()
            file.seek(0)
            start = time.perf_counter()
            result = services.import_file(kind=ImportJob.Kind.ACCOUNTS, file=file, dry_run=False)
            seconds = time.perf_counter() - start
        assert not result.failed, result.problems()[:5]
        self.stdout.write(
            f"Accounts file: {len(lines) - 1:,} accounts ({result.new:,} new) in {seconds:.2f} s."
        )
        types = dict(AccountType.objects.values_list("pk", "name"))
        return [
            (external_id, types[type_id])
            for external_id, type_id in Account.objects.filter(
                external_id__startswith=f"{PREFIX}-"
            ).values_list("external_id", "account_type_id")
        ]

    def clean_up(self):
        start = time.perf_counter()
        with transaction.atomic():
            people = Person.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")
            memberships = Membership.objects.filter(person__in=people)
            ContactChange.objects.filter(membership__in=memberships)._raw_delete(connection.alias)
            memberships._raw_delete(connection.alias)
            people._raw_delete(connection.alias)
            Account.objects.filter(external_id__startswith=f"{PREFIX}-").delete()
        self.stdout.write(f"Removed the benchmark data in {time.perf_counter() - start:.1f} s.")


def write_users_file(path, accounts, rows, rng):
    """`rows` rows over the benchmark accounts: nine in ten rows a new person, the rest a
    second account for someone earlier in the file; a mix of roles, contacts, key contacts."""
    header = UsersResource.columns()
    pairs, people = set(), 0
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
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
            writer.writerow([
                external_id,
                f"person{person}@{EMAIL_DOMAIN}",
                f"First{person}",
                f"Last{person}",
                rng.choice(["", "CFO", "IT Manager", "Head of Operations"]),
                rng.choice(["", f"+1 555 {person % 10000:04d}"]),
                rng.choice(["", *TYPES[type_name]]),
                "yes" if key else rng.choice(["yes", "yes", "no", ""]),
                "yes" if key else rng.choice(["", "no"]),
            ])


def write_changed_file(source, target, rng):
    """The same rows, a third of them changed: a new title, the contact mark flipped."""
    with source.open(newline="", encoding="utf-8") as src, target.open(
        "w", newline="", encoding="utf-8"
    ) as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        writer.writerow(next(reader))
        for row in reader:
            if rng.random() < 1 / 3:
                row[4] = "Changed title"
                if row[8] != "yes":
                    row[7] = "no" if row[7] == "yes" else "yes"
            writer.writerow(row)
