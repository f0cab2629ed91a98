"""What the import, export and sync commands share: reading the path, printing the summary, the
errors grouped by cause and the error file's path, the saved segment named on the command line,
and the exit codes of SPEC §4.4: 0 done, 1 the file has errors and nothing was written, 2 bad
usage, 3 the valid rows were imported and the rows with errors skipped."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from config.staff import display_name
from contacts.models import Segment
from integrations import services
from integrations.mapping import Mapping, MappingProblem
from integrations.models import MappingTemplate

FILE_HAS_ERRORS = 1
BAD_USAGE = 2
ROWS_SKIPPED = 3

EXIT_STATUS_HELP = (
    "It prints a summary, the errors grouped by cause with their lines, and the path of the "
    "error file (every failed row with its errors). Exit status: 0 imported, 1 the file has "
    "errors and nothing was written, 2 bad usage"
)


class ImportCommand(BaseCommand):
    kind = None

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV (UTF-8) or XLSX file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and report what would change, with its errors; write nothing "
            "(no error file either).",
        )
        parser.add_argument(
            "--mapping",
            metavar="NAME_OR_FILE",
            help="Read the file through a mapping template (SPEC §4.5): a saved template's "
            "name, or the path of a template's JSON file. Without it, a file whose header a "
            "saved template was made for is read through that template.",
        )

    def import_options(self, options):
        """The options of services.import_file and import_file_now that both commands take
        from their arguments (beyond skip_errors and keep_removed): the mapping."""
        if not options.get("mapping"):
            return {}
        return {"mapping": self.find_mapping(options["mapping"])}

    def find_mapping(self, name_or_file):
        """The Mapping of --mapping: the JSON file at that path, else the saved template of
        that name. A bad usage (exit 2) when there is neither, or it is not a valid template
        of this kind of file."""
        path = Path(name_or_file)
        try:
            if path.is_file():
                mapping = Mapping.from_json(path.read_bytes())
                where = f"the mapping template file {path}"
            else:
                template = MappingTemplate.objects.filter(name__iexact=name_or_file).first()
                if template is None:
                    saved = (
                        ", ".join(MappingTemplate.objects.values_list("name", flat=True)) or "none"
                    )
                    raise CommandError(
                        f"No mapping template is named “{name_or_file}”, and there is no file "
                        f"at {path}. Saved templates: {saved}.",
                        returncode=BAD_USAGE,
                    )
                mapping = template.as_mapping()
                where = f"the mapping template “{template.name}”"
        except MappingProblem as problem:
            raise CommandError(
                f"--mapping {name_or_file}: {problem}", returncode=BAD_USAGE
            ) from problem
        if mapping.file != self.kind:
            raise CommandError(
                f"{where[0].upper()}{where[1:]} maps {mapping.file} files; this command imports "
                f"{self.kind} files.",
                returncode=BAD_USAGE,
            )
        self.stdout.write(f"Reading the file through {where}.")
        return mapping

    def run_import(self, path, *, dry_run, skip_errors=False, keep_removed=True, **options):
        path = Path(path)
        if not path.is_file():
            raise CommandError(f"No file at {path}.", returncode=BAD_USAGE)
        try:
            file = path.open("rb")
        except OSError as error:
            raise CommandError(
                f"Cannot read {path}: {error.strerror}.", returncode=BAD_USAGE
            ) from error
        shared = {"kind": self.kind, "file": file, "skip_errors": skip_errors, **options}
        with file:
            if dry_run:
                result = services.import_file(dry_run=True, keep_removed=keep_removed, **shared)
                job = None
            else:
                job, result = services.import_file_now(
                    file_name=path.name, keep_removed=keep_removed, **shared
                )
                if result is None:
                    raise CommandError(job.message, returncode=FILE_HAS_ERRORS)
        self.report(
            path,
            result,
            dry_run=dry_run,
            skip_errors=skip_errors,
            keep_removed=keep_removed,
            job=job,
        )

    def report(self, path, result, *, dry_run, skip_errors, keep_removed, job=None):
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
        groups = result.error_groups()
        if groups:
            self.stdout.write("Errors:")
            for group in groups:
                self.stdout.write(f"  {error_group_text(group)}")
            self.stdout.write(error_file_text(job))
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
                returncode=ROWS_SKIPPED,
            )


def error_group_text(group):
    """One cause on one line: "Line 3, Contact: …" for one row, "Lines 2–1,043 (1,042 rows),
    Account ID: …" for more, as the per-line list printed them before they were grouped."""
    lines = group.lines_text[:1].upper() + group.lines_text[1:]
    where = lines if group.count == 1 else f"{lines} ({group.count:,} rows)"
    return (
        f"{where}, {group.column}: {group.message}" if group.column else f"{where}: {group.message}"
    )


def error_file_text(job):
    """Where the failed rows went: the job's error file (every failed row as it was, with an
    Error column), or why there is none."""
    if job is None:
        return "Run the import without --dry-run to get an error file with every failed row."
    if not job.error_file:
        return "No error file was written."
    try:
        where = job.error_file.path
    except NotImplementedError:
        where = None
    if where is None or not Path(where).is_file():  # a storage that is not this disk
        where = f"{job.error_file.name} in the file storage (the job's page links to it)"
    return f"Error file, with every failed row and its errors: {where}"


def find_segment(name):
    """The saved segment named `name`, in any case (shared or not: the command line has no
    staff user). Bad usage when no segment or several have that name."""
    name = " ".join(name.split())
    segments = list(Segment.objects.filter(name__iexact=name).select_related("owner"))
    if not segments:
        saved = Segment.objects.order_by("name").values_list("name", flat=True).distinct()
        raise CommandError(
            f"No saved segment is named “{name}”. Saved segments: "
            f"{', '.join(f'“{saved_name}”' for saved_name in saved) or 'none'}.",
            returncode=BAD_USAGE,
        )
    if len(segments) > 1:
        named = "; ".join(
            f"“{segment.name}” of {display_name(segment.owner)}"
            + (" (shared)" if segment.shared else "")
            for segment in segments
        )
        raise CommandError(
            f"{len(segments)} saved segments are named “{name}”: {named}. Rename all but one "
            "on the Segments page (/people/segments/), then name it again.",
            returncode=BAD_USAGE,
        )
    return segments[0]


def segment_memberships(segment):
    """The memberships `segment` selects (Segment.memberships_to_export); bad usage when it
    no longer selects what it was saved for."""
    try:
        return segment.memberships_to_export()
    except ValidationError as error:
        raise CommandError(f"{error.message} Nothing was written.", returncode=BAD_USAGE) from error
