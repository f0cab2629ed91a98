from integrations.management.importing import EXIT_STATUS_HELP, ImportCommand
from integrations.models import ImportJob


class Command(ImportCommand):
    help = (
        "Import an accounts file (SPEC §4.2), all or nothing, with the rules of the integrations "
        f"page. {EXIT_STATUS_HELP}."
    )
    kind = ImportJob.Kind.ACCOUNTS

    def handle(self, *args, path, dry_run, **options):
        self.run_import(path, dry_run=dry_run, **self.import_options(options))
