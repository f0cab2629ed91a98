"""Ready the database for the load test, or remove what a run made: `make loadtest` calls
`loadtest prepare` before it starts gunicorn and locust, and `loadtest clean-up` when it ends,
whatever happened (integrations.bench.loadtest)."""

from django.core.management.base import BaseCommand, CommandError

from integrations.bench import loadtest


class Command(BaseCommand):
    help = (
        "prepare: check that the database holds the large data set, make the load test's staff "
        "users and write its targets; clean-up: remove everything a load test made."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["prepare", "clean-up"])
        parser.add_argument(
            "--staff-users", type=int, default=50, help="One per simulated user (prepare)."
        )
        parser.add_argument(
            "--folder", help="Where to write targets.json and the users file (prepare)."
        )

    def handle(self, *args, action, staff_users, folder, **options):
        if action == "clean-up":
            count = loadtest.clean_up()
            self.stdout.write(f"Removed what the load test made ({count} staff users).")
            return
        if not folder:
            raise CommandError("prepare needs --folder.")
        if staff_users < 1:
            raise CommandError("--staff-users must be 1 or more.")
        try:
            targets = loadtest.prepare(staff_users=staff_users, folder=folder)
        except loadtest.NotTheLargeDataSet as problem:
            raise CommandError(str(problem)) from None
        self.stdout.write(
            f"{len(targets['staff_users'])} staff users ({loadtest.USERNAME_PREFIX}…), "
            f"{len(targets['accounts'])} sampled accounts and the largest company "
            f"(#{targets['largest']['pk']}); targets in {folder}."
        )
