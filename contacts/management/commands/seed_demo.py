from django.core.management.base import BaseCommand, CommandError

from contacts import demo


class Command(BaseCommand):
    help = (
        "Build the demo data set: companies with their account trees, people, memberships, "
        "contacts, key contacts, tasks, touchpoints, and demo staff users."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(demo.SIZES), default="demo")
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
        if demo.database_has_data():
            if if_empty:
                self.stdout.write("The database already has data; leaving it as it is.")
                return
            if not reset:
                raise CommandError(
                    "The database already has accounts or people. "
                    "Run with --reset to replace them with the demo data."
                )
            demo.reset_data()

        def progress(done, total, report):
            if size != "demo" and (done == 1 or done % 50 == 0 or done == total):
                self.stdout.write(
                    f"  {done}/{total} companies: {report.accounts} accounts, "
                    f"{report.people} people, {report.memberships} memberships"
                )

        report = demo.seed(demo.SIZES[size], progress=progress)
        demo.vacuum_analyze()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {report.accounts} accounts, {report.people} people, "
                f"{report.memberships} memberships ({report.contacts} contacts, "
                f"{report.key_contacts} key contacts), {report.tasks} tasks, "
                f"{report.touchpoints} touchpoints."
            )
        )
        self.stdout.write(
            f"Staff users {', '.join(report.staff_users)} sign in with the password "
            f"“{demo.DEMO_PASSWORD}”."
        )
