"""What the import commands share: reading the path, printing the summary and errors, and the
exit codes of SPEC §4.4 (0 done, 1 the file has errors, 2 bad usage)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from integrations import services
from integrations.resources import LISTED_ROWS

FILE_HAS_ERRORS = 1
BAD_USAGE = 2


class ImportCommand(BaseCommand):
    kind = None

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV (UTF-8) or XLSX file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and report what would change; write nothing.",
        )

    def run_import(self, path, *, dry_run, skip_errors=False, keep_removed=True):
        path = Path(path)
        if not path.is_file():
            raise CommandError(f"No file at {path}.", returncode=BAD_USAGE)
        try:
            file = path.open("rb")
        except OSError as error:
            raise CommandError(
                f"Cannot read {path}: {error.strerror}.", returncode=BAD_USAGE
            ) from error
        with file:
            if dry_run:
                result = services.import_file(
                    kind=self.kind,
                    file=file,
                    dry_run=True,
                    skip_errors=skip_errors,
                    keep_removed=keep_removed,
                )
                job = None
            else:
                job, result = services.import_file_now(
                    kind=self.kind,
                    file=file,
                    file_name=path.name,
                    skip_errors=skip_errors,
                    keep_removed=keep_removed,
                )
                if result is None:
                    raise CommandError(job.message, returncode=FILE_HAS_ERRORS)
        self.report(
            path, result, dry_run=dry_run, skip_errors=skip_errors, keep_removed=keep_removed
        )

    def report(self, path, result, *, dry_run, skip_errors, keep_removed):
        label = services.RESOURCES[self.kind].file_kind.capitalize()
        problems = result.file_problems()
        if problems:
            raise CommandError(
                "\n".join(f"{label} {path.name}: {problem}" for problem in problems),
                returncode=FILE_HAS_ERRORS,
            )
        self.stdout.write(
            f"{label} {path.name}: {result.new:,} new, {result.updated:,} updated, "
            f"{result.unchanged:,} unchanged, {result.failed:,} failed."
        )
        for warning in result.warnings:
            self.stdout.write(f"Warning: {warning}")
        problems = result.problems()
        if problems:
            self.stdout.write("Errors:")
            for line, column, message in problems:
                self.stdout.write(
                    f"  Line {line}, {column}: {message}" if column else f"  Line {line}: {message}"
                )
            if result.failed > LISTED_ROWS:
                self.stdout.write(f"  … and {result.failed - LISTED_ROWS:,} more rows with errors.")
        if result.readd_count:
            what = "stay removed" if keep_removed else "are contacts again"
            self.stdout.write(
                f"{result.readd_count:,} row(s) would make someone a contact again after a staff "
                f"user removed them since the last users import or export; they {what}:"
            )
            for readd in result.readds:
                self.stdout.write(
                    f"  Line {readd.line}: {readd.email} at {readd.account_id} (removed by "
                    f"{readd.removed_by} on {readd.removed_at:%Y-%m-%d})"
                )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        if result.failed:
            if dry_run or not skip_errors:
                outcome = "nothing would be imported" if dry_run else "nothing was imported"
                raise CommandError(
                    f"The file has {result.failed:,} row(s) with errors: {outcome} (all or "
                    "nothing).",
                    returncode=FILE_HAS_ERRORS,
                )
            raise CommandError(
                f"The file has {result.failed:,} row(s) with errors: they were skipped, the "
                "valid rows were imported.",
                returncode=FILE_HAS_ERRORS,
            )
