from integrations.management.importing import EXIT_STATUS_HELP, ImportCommand
from integrations.models import ImportJob


class Command(ImportCommand):
    help = (
        "Import a users file (SPEC §4.1) with the rules of the integrations page, all or "
        f"nothing unless --skip-errors. {EXIT_STATUS_HELP}, 3 with --skip-errors: the valid "
        "rows were imported and the rows with errors skipped."
    )
    kind = ImportJob.Kind.USERS

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--skip-errors",
            action="store_true",
            help="Import the valid rows and skip the rows with errors (default: all or nothing).",
        )
        parser.add_argument(
            "--re-add-removed",
            action="store_true",
            help="Make contacts again the people a staff user removed since the last users "
            "import or export, as the file says (default: they stay removed).",
        )

    def handle(self, *args, path, dry_run, skip_errors, re_add_removed, **options):
        self.run_import(
            path,
            dry_run=dry_run,
            skip_errors=skip_errors,
            keep_removed=not re_add_removed,
            **self.import_options(options),
        )
