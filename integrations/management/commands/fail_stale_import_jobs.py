from django.core.management.base import BaseCommand

from integrations import services


class Command(BaseCommand):
    help = (
        "Mark failed the import jobs whose worker stopped without finishing (no news for "
        "INTEGRATIONS_JOB_STALE_AFTER seconds) and remove their stored uploads. A worker does "
        "this before each job; run it from a scheduler when jobs are rare."
    )

    def handle(self, *args, **options):
        count = services.fail_stale_jobs()
        self.stdout.write(f"{count:,} stopped import job{'s' if count != 1 else ''} marked failed.")
