"""Past 400 lines as one thing: the COPY load, whose phases share one transaction and one
loader's state. The big data sets (`seed_demo --size large|xlarge`), written by PostgreSQL's
COPY.

One transaction: TRUNCATE the seeded tables, drop the secondary indexes, the unique and the
foreign-key constraints of the tables it fills, COPY … FREEZE the rows (table by table,
company by company, so memory holds one company at most), set the id sequences past the ids
written, put every index and constraint back exactly as it was (their definitions are read
from the catalogue before they are dropped), and ANALYZE. Building an index once over all the
rows is much faster than growing it row by row, a foreign key is checked by one join instead
of a trigger per row, and rows frozen as they are written need no VACUUM for index-only
scans (COPY FREEZE sets the visibility map). The accounts (their contact counts written by an
UPDATE) and the contacts' search rows (one INSERT … SELECT) are not: they are vacuumed after
the commit, or the account page reads the heap beside its indexes (94 ms at xlarge, 40 ms
vacuumed). The tree columns are written as the shape
numbers them (contacts.seeding.rows), so no django-mptt rebuild (which takes 17 s for the
20,011 accounts of xlarge's largest company alone).

Measured on the large set here: 26 s in all this way, 96 s with the indexes and constraints
left in place during the COPY.
"""

import tempfile
import time
from contextlib import contextmanager
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import ALL_TREES, Account, lock_trees
from contacts import demo
from contacts.models import ContactSearch, Membership, Person, Task, Touchpoint

from . import rows

# The tables COPY fills, in the order they are filled.
TABLES = {
    "accounts": Account,
    "people": Person,
    "memberships": Membership,
    "tasks": Task,
    "task links": Task.contacts.through,
    "touchpoints": Touchpoint,
    "participants": Touchpoint.participants.through,
}
COLUMNS = {
    "accounts": (
        "id, parent_id, tree_id, lft, rght, level, external_id, name, account_type_id, "
        "created_at, updated_at"
    ),
    "people": "id, first_name, last_name, email, title, phone, created_at, updated_at",
    "memberships": (
        "id, person_id, account_id, role_id, is_contact, is_key_contact, status, "
        "created_at, updated_at"
    ),
    "tasks": "id, account_id, title, due_date, status, owner_id, created_at, updated_at",
    "task links": "id, task_id, membership_id",
    "touchpoints": "id, account_id, kind, happened_at, subject, author_id, notes, created_at",
    "participants": "id, touchpoint_id, membership_id",
}
# Rows handed to COPY at a time.
CHUNK = 20_000
# For building the indexes again. Measured here: the indexes of the large set take 29 s with
# PostgreSQL's default (64 MB) and 16 s with 1 GB; the emails' trigram index of xlarge takes as
# long with 3 GB as with 1 GB (90 s).
MAINTENANCE_WORK_MEM = "1GB"


def table(name):
    model = ContactSearch if name == "search" else TABLES[name]
    return connection.ops.quote_name(model._meta.db_table)


def seed_with_copy(shape, *, log=None):
    """Replace every account, person and what hangs off them with the data set of `shape`,
    and make the demo staff users. PostgreSQL only. Returns a demo.SeedReport.

    Side effects: empties the tables of demo.SEEDED_MODELS; drops and re-creates the
    secondary indexes and the unique and foreign-key constraints of the tables in TABLES
    (all within one transaction: on an error nothing changed); ANALYZEs those tables, then
    VACUUMs the two its UPDATE and INSERT … SELECT wrote.
    `log(text)` hears of each phase with its seconds and of the companies as they go."""
    log = log or (lambda text: None)
    with transaction.atomic():
        lock_trees(ALL_TREES)
        with connection.cursor() as cursor:
            # Deferred foreign-key checks still pending in this transaction forbid TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {demo.seeded_tables()} RESTART IDENTITY")
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
        dropped = drop_indexes_and_constraints()
        loader = CopyLoader(shape, log)
        with triggers_of_memberships_off():
            report = loader.load()
        loader.phase("contact counts and search", count_and_index_contacts)
        loader.phase("indexes", lambda: restore(dropped, log))
        loader.phase("analyze", analyze)
    started = time.monotonic()
    if demo.vacuum_analyze([Account, ContactSearch]):
        log(f"vacuum: {time.monotonic() - started:.1f} s")
    return report


@contextmanager
def triggers_of_memberships_off():
    """The triggers that keep Account.contact_count and ContactSearch (contacts migrations
    0019, 0020) off while COPY writes memberships: count_and_index_contacts does their work
    once for all the rows, after. ALTER TABLE's lock is the transaction's anyway."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table('memberships')} DISABLE TRIGGER USER")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table('memberships')} ENABLE TRIGGER USER")


def count_and_index_contacts():
    """What the memberships' triggers would have written: each account's contacts, and the
    contacts' search rows (the same statements as migrations 0019 and 0020 fill them with)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table("accounts")} AS account SET contact_count = counted.n
            FROM (
                SELECT account_id, count(*) AS n FROM {table("memberships")}
                WHERE is_contact AND status = 'active' GROUP BY account_id
            ) AS counted
            WHERE account.id = counted.account_id
            """
        )
        cursor.execute(
            f"""
            INSERT INTO {table("search")} (
                membership_id, tree_id, account_id, person_id, role_id, is_key_contact,
                last_name, first_name, email
            )
            SELECT m.id, a.tree_id, m.account_id, m.person_id, m.role_id, m.is_key_contact,
                   p.last_name, p.first_name, p.email
            FROM {table("memberships")} AS m
            JOIN {table("people")} AS p ON p.id = m.person_id
            JOIN {table("accounts")} AS a ON a.id = m.account_id
            WHERE m.is_contact AND m.status = 'active'
            """
        )


def _table_names():
    # The contacts' search table is filled after the COPY (count_and_index_contacts).
    return [TABLES[name]._meta.db_table for name in TABLES] + [ContactSearch._meta.db_table]


def drop_indexes_and_constraints():
    """Drop the secondary indexes and the unique and foreign-key constraints of the tables
    COPY fills; return the statements that put them back, in an order that works."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
            FROM pg_constraint
            WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f')
            ORDER BY contype DESC, conrelid::regclass::text, conname
            """,
            [_table_names()],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
            FROM pg_index
            WHERE indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (
                SELECT 1 FROM pg_constraint
                WHERE conindid = indexrelid AND conrelid = indrelid
                  AND contype IN ('p', 'u', 'x')
              )
            ORDER BY indexrelid::regclass::text
            """,
            [_table_names()],
        )
        indexes = cursor.fetchall()
        quote = connection.ops.quote_name
        for table_name, name, _, _ in constraints:
            cursor.execute(f"ALTER TABLE {table_name} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    # Unique constraints first (nothing here refers to them), then the indexes, then the
    # foreign keys, whose checks use the primary keys (never dropped).
    unique = [c for c in constraints if c[2] == "u"]
    foreign = [c for c in constraints if c[2] == "f"]
    return [
        *(f"ALTER TABLE {t} ADD CONSTRAINT {quote(n)} {d}" for t, n, _, d in unique),
        *(definition for _, definition in indexes),
        *(f"ALTER TABLE {t} ADD CONSTRAINT {quote(n)} {d}" for t, n, _, d in foreign),
    ]


def restore(statements, log):
    with connection.cursor() as cursor:
        for statement in statements:
            started = time.monotonic()
            cursor.execute(statement)
            seconds = time.monotonic() - started
            if seconds >= 1:
                log(f"  {seconds:5.1f} s  {statement[:90]}")


def analyze():
    with connection.cursor() as cursor:
        for name in [*TABLES, "search"]:
            cursor.execute(f"ANALYZE {table(name)}")


def _text(value):
    """A value in COPY's text format. The seeded text holds no tab, newline or backslash
    (contacts.seeding.names keeps such names out), so only NULL and booleans need care."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


class CopyLoader:
    def __init__(self, shape, log):
        self.shape = shape
        self.log = log
        self.report = demo.SeedReport()
        self.raw = connection.connection  # psycopg's own, for cursor.copy()
        self.stamp = timezone.now().isoformat()
        self.seconds = {}

    def phase(self, name, work):
        started = time.monotonic()
        result = work()
        self.seconds[name] = time.monotonic() - started
        self.log(f"{name}: {self.seconds[name]:.1f} s")
        return result

    def copy(self, name, lines):
        """COPY the `lines` (text rows, each ending in a newline) into table `name`."""
        statement = f"COPY {table(name)} ({COLUMNS[name]}) FROM STDIN (FREEZE)"
        with self.raw.cursor() as cursor, cursor.copy(statement) as copy:
            chunk = []
            for line in lines:
                chunk.append(line)
                if len(chunk) >= CHUNK:
                    copy.write("".join(chunk))
                    chunk.clear()
            if chunk:
                copy.write("".join(chunk))

    def load(self):
        types = demo.create_account_types()
        self.roles_by_depth = demo.roles_by_level(types)
        self.type_ids = [account_type.pk for account_type in types]
        staff_users = demo.create_staff_users()
        self.report.staff_users = [user.username for user in staff_users]
        self.staff_ids = [user.pk for user in staff_users]
        self.phase("accounts", self.load_accounts)
        self.phase("people", self.load_people)
        with tempfile.TemporaryDirectory(prefix="seed-activity-") as folder:
            self.activity_folder = folder
            self.phase("memberships", self.load_memberships)
            self.phase("tasks", self.load_activity)
        self.set_sequences()
        return self.report

    def load_accounts(self):
        type_names = list(demo.ACCOUNT_TYPES)
        # The level of every account, by id: what a second membership at any account needs
        # to pick a role (one byte an account).
        self.depths = bytearray(1)
        self.company_first_accounts = []

        def lines():
            for number, company in enumerate(self.shape.companies, 1):
                self.company_first_accounts.append(len(self.depths))
                for row in rows.company_accounts(number, company, len(self.depths), type_names):
                    self.depths.append(row.level)
                    yield (
                        f"{row.id}\t{_text(row.parent_id)}\t{row.tree_id}\t{row.lft}\t"
                        f"{row.rght}\t{row.level}\t{row.external_id}\t{row.name}\t"
                        f"{self.type_ids[row.level]}\t{self.stamp}\t{self.stamp}\n"
                    )

        self.copy("accounts", lines())
        self.report.accounts = len(self.depths) - 1

    def _companies(self):
        """(number, company, first account id, people counts) of each company."""
        for number, company in enumerate(self.shape.companies, 1):
            first_account = self.company_first_accounts[number - 1]
            accounts = rows.company_size(company)
            yield number, company, first_account, rows.people_counts(self.shape, number, accounts)

    def _progress(self, what, number, done):
        companies = len(self.shape.companies)
        if number == 1 or number % 500 == 0 or number == companies:
            self.log(f"  {what}: {number}/{companies} companies, {done:,} rows")

    def load_people(self):
        stamp = self.stamp

        def lines():
            first_id = 1
            for number, company, _, counts in self._companies():
                for person in rows.people(self.shape, number, company, counts, first_id):
                    yield "\t".join(map(str, person)) + f"\t{stamp}\t{stamp}\n"
                first_id += sum(counts)
                self._progress("people", number, first_id - 1)
            self.report.people = first_id - 1

        self.copy("people", lines())

    def load_memberships(self):
        """The memberships, and each company's tasks and touchpoints as its contacts are
        known, into files that the tasks phase copies (COPY fills one table at a time)."""
        stamp = self.stamp
        today, now = timezone.localdate(), timezone.now()
        activity_files = {
            name: open(f"{self.activity_folder}/{name}.tsv", "w", encoding="utf-8")  # noqa: SIM115
            for name in ("tasks", "task links", "touchpoints", "participants")
        }
        activity_ids = [1, 1, 1, 1]
        flags = {True: "t", False: "f"}

        def lines():
            membership_id, person_id = 1, 1
            for number, company, first_account, counts in self._companies():
                memberships = rows.CompanyMemberships(
                    self.shape,
                    number,
                    first_account_id=first_account,
                    depths=rows.account_depths(company),
                    counts=counts,
                    first_person_id=person_id,
                )
                for row in memberships.rows(
                    membership_id,
                    account_depth=self.depths.__getitem__,
                    accounts_so_far=first_account + len(counts) - 1,
                    roles_by_depth=self.roles_by_depth,
                ):
                    membership_id = row[0] + 1
                    self.report.contacts += row[4]
                    yield (
                        f"{row[0]}\t{row[1]}\t{row[2]}\t{_text(row[3])}\t{flags[row[4]]}\t"
                        f"{flags[row[5]]}\tactive\t{stamp}\t{stamp}\n"
                    )
                person_id += sum(counts)
                self.report.key_contacts += memberships.key_contacts
                self._write_activity(
                    number,
                    first_account,
                    len(counts),
                    memberships.contacts,
                    activity_ids,
                    activity_files,
                    today,
                    now,
                )
                self._progress("memberships", number, membership_id - 1)
            self.report.memberships = membership_id - 1

        try:
            self.copy("memberships", lines())
        finally:
            for file in activity_files.values():
                file.close()
        self.report.tasks = activity_ids[0] - 1
        self.report.touchpoints = activity_ids[2] - 1
        self.activity_counts = [ids - 1 for ids in activity_ids]

    def _write_activity(
        self, number, first_account, accounts, contacts, activity_ids, files, today, now
    ):
        activity = rows.activity(
            self.shape,
            number,
            first_account_id=first_account,
            accounts=accounts,
            contacts=contacts,
            staff_ids=self.staff_ids,
            first_ids=activity_ids,
            today=today,
            now=now,
        )
        stamp = self.stamp
        for task in activity.tasks:
            files["tasks"].write("\t".join(map(_text, task)) + f"\t{stamp}\t{stamp}\n")
        for touchpoint in activity.touchpoints:
            files["touchpoints"].write("\t".join(map(_text, touchpoint)) + f"\t\t{stamp}\n")
        for name, links in (
            ("task links", activity.task_links),
            ("participants", activity.participants),
        ):
            files[name].writelines(f"{a}\t{b}\t{c}\n" for a, b, c in links)
        activity_ids[0] += len(activity.tasks)
        activity_ids[1] += len(activity.task_links)
        activity_ids[2] += len(activity.touchpoints)
        activity_ids[3] += len(activity.participants)

    def load_activity(self):
        for name in ("tasks", "task links", "touchpoints", "participants"):
            with open(f"{self.activity_folder}/{name}.tsv", encoding="utf-8") as file:
                self.copy(name, file)

    def set_sequences(self):
        """Move each table's id sequence past the ids written, so that the next row saved
        (a person added in the app) takes a new id."""
        written = {
            "accounts": self.report.accounts,
            "people": self.report.people,
            "memberships": self.report.memberships,
            "tasks": self.activity_counts[0],
            "task links": self.activity_counts[1],
            "touchpoints": self.activity_counts[2],
            "participants": self.activity_counts[3],
        }
        with connection.cursor() as cursor:
            for name, count in written.items():
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)",
                    [TABLES[name]._meta.db_table, max(count, 1), count > 0],
                )


__all__ = ["seed_with_copy"]
