from django.core.management.base import BaseCommand

from integrations.retention import purge_expired_files


class Command(BaseCommand):
    help = (
        "Delete the import files kept past their time: uploads and error files older than "
        "INTEGRATIONS_FILE_RETENTION_DAYS days (the jobs stay), the admin import's files older "
        "than a day, and files no import job names. The scheduler runs it daily."
    )

    def handle(self, *args, **options):
        self.stdout.write(str(purge_expired_files()))
