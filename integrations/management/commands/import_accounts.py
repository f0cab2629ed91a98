from integrations.management.importing import ImportCommand
from integrations.models import ImportJob


class Command(ImportCommand):
    help = (
        "Import an accounts file (SPEC §4.2), all or nothing, with the rules of the integrations "
        "page. Exit status: 0 imported, 1 the file has errors, 2 bad usage."
    )
    kind = ImportJob.Kind.ACCOUNTS

    def handle(self, *args, path, dry_run, **options):
        self.run_import(path, dry_run=dry_run)
