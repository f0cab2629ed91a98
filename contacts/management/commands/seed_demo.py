import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from contacts import demo


class Command(BaseCommand):
    help = (
        "Build the demo data set: companies with their account trees, people, memberships, "
        "contacts, key contacts, tasks, touchpoints, and demo staff users. The sizes large and "
        "xlarge are the benchmark sets of SPEC §7, for PostgreSQL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=list(demo.SIZES), default="demo")
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--reset",
            action="store_true",
            help="Delete all accounts and people first (staff users stay).",
        )
        group.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when the database already has data.",
        )

    def handle(self, *args, size, reset, if_empty, **options):
        if size != "demo" and connection.vendor != "postgresql":
            raise CommandError(
                f"The {size} data set is written with PostgreSQL's COPY: run it on PostgreSQL "
                f"(DATABASE_URL=postgres://…), not {connection.display_name}. "
                "The demo set works on any database."
            )
        if demo.database_has_data():
            if if_empty:
                self.stdout.write("The database already has data; leaving it as it is.")
                return
            if not reset:
                raise CommandError(
                    "The database already has accounts or people. "
                    "Run with --reset to replace them with the demo data."
                )
            if size == "demo":
                demo.reset_data()  # the COPY of the big sets empties the tables itself

        started = time.monotonic()
        if size == "demo":
            report = demo.seed(demo.SIZES[size])
            demo.vacuum_analyze()
        else:
            from contacts.seeding.copy_load import seed_with_copy

            report = seed_with_copy(demo.SIZES[size], log=self.stdout.write)
            self.stdout.write(f"total: {time.monotonic() - started:.1f} s")
        self.stdout.write(self.style.SUCCESS(report.summary()))
        self.stdout.write(
            f"Staff users {', '.join(report.staff_users)} sign in with the password "
            f"“{demo.DEMO_PASSWORD}”."
        )
