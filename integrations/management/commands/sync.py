"""Past 400 lines as one thing: `manage.py sync`, integration jobs from the command line (SPEC
§4.4, §4.6), whose subcommands share the job look-up, the secrets read from the environment and
the exit codes.

add, run, list and remove as SPEC §4.4 has them, and what an operator also needs: set-secrets,
new-key and rotate-keys. A job added here passes the checks of the job form (schedules,
places.validate_location, the name, the mapping template, the segment); its secrets come only
from environment variables, never from the command line, where `ps` and the shell's history
would keep them, and are never printed. `sync run` runs the job in this process and exits as
import_users does: 0 done or nothing new, 1 the file had errors and nothing was written (or the
run failed), 2 bad usage, 3 the valid rows imported and the rows with errors skipped.
"""

import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from integrations import places, schedules, secrets, services, syncs
from integrations.management.importing import (
    BAD_USAGE,
    FILE_HAS_ERRORS,
    ROWS_SKIPPED,
    error_file_text,
    error_group_text,
    find_segment,
    segment_memberships,
)
from integrations.mapping import MappingProblem
from integrations.models import ImportJob, IntegrationJob, MappingTemplate, SyncRun
from integrations.resources.base import ErrorGroup

Place, Direction = IntegrationJob.Place, IntegrationJob.Direction

# The environment variables a job's secrets are read from, and the secret each one sets.
SECRET_VARIABLES = {
    "SYNC_PASSWORD": "password",
    "SYNC_PRIVATE_KEY": "private_key",
    "SYNC_PASSPHRASE": "passphrase",
    "SYNC_TOKEN": "token",
    "SYNC_ACCESS_KEY_ID": "access_key_id",
    "SYNC_SECRET_ACCESS_KEY": "secret_access_key",
}
# A file holding the private key, as an alternative to SYNC_PRIVATE_KEY.
PRIVATE_KEY_FILE = "SYNC_PRIVATE_KEY_FILE"
# The options of a place other than its location, and the kind each belongs to.
PLACE_OPTIONS = {
    "endpoint_url": Place.S3,
    "region": Place.S3,
    "host_key": Place.SFTP,
    "query": Place.POSTGRES,
}
NAME_LENGTH = IntegrationJob._meta.get_field("name").max_length
INBOUND_FLAGS = ("skip_errors", "re_add_removed", "move_processed")
EXIT_CODES = {SyncRun.Status.FAILED: FILE_HAS_ERRORS, SyncRun.Status.PARTIAL: ROWS_SKIPPED}


def _flag(name):
    return "--" + name.replace("_", "-")


class Command(BaseCommand):
    help = (
        "Integration jobs (SPEC §4.6): add one, run it now, list them, remove one; set its "
        "secrets from environment variables; make and rotate the keys that encrypt them. "
        "`sync run` exits 0 done or nothing new, 1 the file had errors and nothing was written "
        "(or the run failed), 3 the valid rows imported and the rows with errors skipped; "
        "every subcommand exits 2 on bad usage."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = actions.add_parser(
            "add",
            help="Add an integration job.",
            description="Add an integration job. Its secrets are read from the environment: "
            f"{', '.join(SECRET_VARIABLES)} or {PRIVATE_KEY_FILE} (the path of a private key "
            "file), those its kind takes.",
        )
        add.add_argument("name", metavar="NAME")
        add.add_argument("--direction", required=True, choices=Direction.values)
        add.add_argument("--kind", required=True, choices=Place.values)
        add.add_argument(
            "--location",
            required=True,
            help="A folder path with a file-name pattern (/srv/drop/users-*.csv; outbound a "
            "folder, or a name with {date}), sftp://user@host:port/path/*.csv, "
            "s3://bucket/prefix/*.csv, https://host/path/file.csv or postgres://user@host:port/db.",
        )
        add.add_argument("--file", required=True, choices=ImportJob.Kind.values)
        add.add_argument("--mapping", metavar="NAME", help="Inbound: a saved mapping template.")
        add.add_argument("--segment", metavar="NAME", help="Outbound: a saved segment's users.")
        add.add_argument("--contacts-only", action="store_true", help="Outbound: contacts only.")
        add.add_argument(
            "--schedule",
            default="",
            metavar="CRON",
            help=f"A cron expression in {settings.TIME_ZONE} (“0 6 * * *”: every day at 06:00). "
            "Without it the job runs only when run by hand.",
        )
        add.add_argument(
            "--skip-errors", action="store_true", help="Inbound: import the valid rows."
        )
        add.add_argument(
            "--re-add-removed",
            action="store_true",
            help="Inbound: make contacts again the people a staff user removed.",
        )
        add.add_argument(
            "--move-processed",
            action="store_true",
            help="Inbound: move each file taken to a processed/ folder beside it.",
        )
        add.add_argument("--disabled", action="store_true", help="Off until enabled on its page.")
        add.add_argument("--query", metavar="SQL", help="PostgreSQL: the SELECT to read.")
        add.add_argument("--endpoint-url", metavar="URL", help="S3: another service than AWS.")
        add.add_argument("--region", help="S3: the bucket's region.")
        add.add_argument(
            "--host-key",
            metavar="KEY",
            help="SFTP: the server's public key line (“ssh-ed25519 AAAA…”, as in known_hosts).",
        )
        run = actions.add_parser("run", help="Run a job now, here, and wait for its end.")
        run.add_argument("name", metavar="NAME")
        actions.add_parser("list", help="List the integration jobs.")
        remove = actions.add_parser("remove", help="Remove a job and the history of its runs.")
        remove.add_argument("name", metavar="NAME")
        set_secrets = actions.add_parser(
            "set-secrets",
            help="Set a job's secrets from the environment.",
            description="Replace the secrets given in the environment; the others are kept.",
        )
        set_secrets.add_argument("name", metavar="NAME")
        set_secrets.add_argument(
            "--clear", action="store_true", help="Remove the saved secrets not given."
        )
        actions.add_parser("new-key", help="Print a new key for SYNC_SECRET_KEYS.")
        actions.add_parser(
            "rotate-keys",
            help="Encrypt every job's secrets again under the first key of SYNC_SECRET_KEYS.",
        )

    def handle(self, *args, action, **options):
        return getattr(self, "handle_" + action.replace("-", "_"))(**options)

    # add

    def handle_add(self, *, name, **options):
        name = " ".join(name.split())
        problems = []
        job = IntegrationJob(
            name=name,
            direction=options["direction"],
            place=options["kind"],
            location=options["location"].strip(),
            file_kind=options["file"],
            skip_errors=options["skip_errors"],
            re_add_removed=options["re_add_removed"],
            move_processed=options["move_processed"],
            enabled=not options["disabled"],
            options={key: options[key] for key in PLACE_OPTIONS if options[key]},
        )
        if not name:
            problems.append("A job needs a name.")
        elif len(name) > NAME_LENGTH:
            problems.append(f"A job's name has at most {NAME_LENGTH} characters.")
        elif IntegrationJob.objects.filter(name__iexact=name).exists():
            problems.append(f"An integration job named “{name}” exists already.")
        problems += self._usage_problems(job, options)
        try:
            job.schedule = schedules.validate(options["schedule"]) if options["schedule"] else ""
        except ValidationError as error:
            problems += error.messages
        if options["mapping"] and job.inbound:
            problems += self._find_mapping(job, options["mapping"])
        if options["segment"] and not job.inbound and not options["contacts_only"]:
            try:
                job.segment = find_segment(options["segment"])
                segment_memberships(job.segment)
            except CommandError as error:
                problems.append(str(error))
        job.export = (
            IntegrationJob.Export.SEGMENT
            if job.segment
            else IntegrationJob.Export.CONTACTS
            if options["contacts_only"]
            else IntegrationJob.Export.ALL
        )
        if job.inbound or job.place not in IntegrationJob.INBOUND_ONLY:  # else said above
            problems += _messages(
                places.validate_location,
                kind=job.place,
                location=job.location,
                direction=job.direction,
                options=job.options,
            )
        given, secret_problems = secrets_from_environment(job.place)
        problems += secret_problems + _pair_problems(job.place, given)
        if not problems:
            problems += _messages(job.full_clean, exclude=["name"])
        if problems:
            raise CommandError("\n".join(problems), returncode=BAD_USAGE)
        job.set_secrets({secret: value for secret, (_, value) in given.items()})
        syncs.plan(job)
        try:
            with transaction.atomic():
                job.save()
        except IntegrityError as error:  # the same name, added meanwhile
            raise CommandError(
                f"An integration job named “{name}” exists already.", returncode=BAD_USAGE
            ) from error
        if job.inbound:
            what = f"reads the {job.get_file_kind_display().lower()} at {job.location}"
        else:
            what = f"writes {_export_words(job)} to {job.location}"
        self.stdout.write(f"Added the integration job “{job}” ({job.place}): it {what}.")
        self.stdout.write(f"Schedule: {job.schedule_in_words()}.")
        if job.next_run_at:
            self.stdout.write(f"Next run: {_when(job.next_run_at)}.")
        elif not job.enabled:
            self.stdout.write("Disabled: it runs only when run by hand until it is enabled.")
        self._say_secrets(job, given)

    def _usage_problems(self, job, options):
        """The options that do not go with the job's direction and kind."""
        problems = []
        if job.place in IntegrationJob.INBOUND_ONLY and not job.inbound:
            problems.append(
                f"{_a(job.place).capitalize()} job can only read: use --direction in (a "
                "folder, SFTP or S3 job can write)."
            )
        if not job.inbound:
            if job.file_kind != ImportJob.Kind.USERS:
                problems.append("An outbound job writes the users file: use --file users.")
            given = [_flag(flag) for flag in ("mapping", *INBOUND_FLAGS) if options[flag]]
            if given:
                problems.append(f"{', '.join(given)}: only for an inbound job (--direction in).")
            if options["segment"] and options["contacts_only"]:
                problems.append(
                    "Choose --segment or --contacts-only: an outbound job writes every "
                    "membership, the contacts, or a segment's memberships."
                )
        else:
            given = [_flag(flag) for flag in ("segment", "contacts_only") if options[flag]]
            if given:
                problems.append(f"{', '.join(given)}: only for an outbound job (--direction out).")
        for option, kind in PLACE_OPTIONS.items():
            if options[option] and job.place != kind:
                problems.append(f"{_flag(option)}: only for {_a(kind)} job (--kind {kind}).")
        return problems

    def _find_mapping(self, job, name):
        template = MappingTemplate.objects.filter(name__iexact=name.strip()).first()
        if template is None:
            saved = ", ".join(
                f"“{saved}”"
                for saved in MappingTemplate.objects.filter(file_kind=job.file_kind).values_list(
                    "name", flat=True
                )
            )
            return [
                f"No mapping template is named “{name}”. Saved {job.file_kind} templates: "
                f"{saved or 'none'}."
            ]
        if template.file_kind != job.file_kind:
            return [
                f"The mapping template “{template}” maps {template.file_kind} files; this job "
                f"imports {job.file_kind} files."
            ]
        try:
            template.as_mapping()
        except MappingProblem as problem:
            return [f"The mapping template “{template}” is no longer valid: {problem.message}"]
        job.mapping_template = template
        return []

    def _say_secrets(self, job, given):
        if given:
            names = ", ".join(variable for variable, _ in given.values())
            self.stdout.write(f"Secrets from the environment, stored encrypted: {names}.")
        elif IntegrationJob.SECRET_NAMES[job.place]:
            variables = _variables_of(job.place)
            unset = (
                f"{variables[0]} is not set"
                if len(variables) == 1
                else f"none of {', '.join(variables)} is set"
            )
            self.stdout.write(
                f"No secrets set: {unset} in the environment. `manage.py sync set-secrets "
                f'"{job}"` sets them later.'
            )
        ignored = [
            variable
            for variable in [*SECRET_VARIABLES, PRIVATE_KEY_FILE]
            if os.environ.get(variable) and variable not in _variables_of(job.place)
        ]
        if ignored:
            self.stdout.write(
                f"Ignored, as {_a(job.place)} job takes no such secret: {', '.join(ignored)}."
            )

    # run

    def handle_run(self, *, name, **options):
        job = find_job(name)
        try:
            run = syncs.run_now_here(job, trigger=SyncRun.Trigger.COMMAND)
        except syncs.RunUnderWay as error:
            raise CommandError(error.message, returncode=BAD_USAGE) from error
        if run.file_name:
            taken = "Took" if job.inbound else "Wrote"
            self.stdout.write(f"{taken} {run.file_name}.")
        if run.import_job is not None:
            self._report_import(run.import_job)
        if run.rows_written is not None:
            self.stdout.write(
                f"{run.rows_written:,} row{'s' if run.rows_written != 1 else ''} written."
            )
        outcome = f"“{job}”: {run.get_status_display()}."
        if run.message.startswith(run.get_status_display()):  # "No new file: …"
            outcome = f"“{job}”: {run.message}"
        elif run.message:
            outcome = f"{outcome} {run.message}"
        code = EXIT_CODES.get(run.status, 0)
        if code:
            raise CommandError(outcome, returncode=code)
        self.stdout.write(outcome)

    def _report_import(self, import_job):
        summary = import_job.summary
        totals = summary.get("totals")
        label = services.RESOURCES[import_job.kind].file_kind.capitalize()
        if totals and not summary.get("file_problems"):
            self.stdout.write(
                f"{label} {import_job.file_name}: {totals['new']:,} new, "
                f"{totals['updated']:,} updated, {totals['unchanged']:,} unchanged, "
                f"{totals['failed']:,} failed."
            )
        for warning in summary.get("warnings", []):
            self.stdout.write(f"Warning: {warning}")
        if groups := summary.get("error_groups"):
            self.stdout.write("Errors:")
            for group in groups:
                self.stdout.write(f"  {error_group_text(ErrorGroup(*group))}")
            self.stdout.write(error_file_text(import_job))
        if count := summary.get("readd_count"):
            what = "stayed removed" if import_job.keep_removed else "are contacts again"
            self.stdout.write(
                f"{count:,} row(s) would make someone a contact again after a staff user "
                f"removed them since the last users import or export; they {what}."
            )
        self.stdout.write(f"Its import job: {import_job.get_absolute_url()}")

    # list

    def handle_list(self, **options):
        latest = SyncRun.objects.filter(integration_job=OuterRef("pk")).order_by(
            "-created_at", "-pk"
        )
        jobs = IntegrationJob.objects.annotate(
            last_run_at=Subquery(latest.values("created_at")[:1]),
            last_status=Subquery(latest.values("status")[:1]),
        )
        if not jobs:
            self.stdout.write("No integration jobs yet: `manage.py sync add` adds one.")
            return
        statuses = dict(SyncRun.Status.choices)
        rows = [("Name", "Direction", "Kind", "Schedule", "Last run", "Next run")]
        for job in jobs:
            last = "never"
            if job.last_run_at:
                last = f"{_when(job.last_run_at)} {statuses[job.last_status]}"
                if job.failures_in_a_row > 1:
                    last += f" ({job.failures_in_a_row} in a row)"
            rows.append(
                (
                    job.name,
                    job.direction,
                    job.place,
                    job.schedule_in_words(),
                    last,
                    _next_run(job),
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        self.stdout.write(f"Times in {settings.TIME_ZONE}.")

    # remove

    def handle_remove(self, *, name, **options):
        job = find_job(name)
        with transaction.atomic():
            # Locked, the scheduler's tick skips it (FOR UPDATE SKIP LOCKED) until it is gone.
            job = IntegrationJob.objects.select_for_update().get(pk=job.pk)
            if job.runs.under_way().exists():
                raise CommandError(
                    f"“{job}” is running: remove it once its run has ended.",
                    returncode=BAD_USAGE,
                )
            runs = job.runs.count()
            job.delete()
        self.stdout.write(
            f"Removed the integration job “{job}” and the history of its {runs:,} "
            f"run{'s' if runs != 1 else ''}; the import jobs it started stay in the import "
            "history."
        )

    # secrets

    def handle_set_secrets(self, *, name, clear, **options):
        job = find_job(name)
        if not IntegrationJob.SECRET_NAMES[job.place]:
            raise CommandError(
                f"{_a(job.place).capitalize()} job takes no secrets.", returncode=BAD_USAGE
            )
        given, problems = secrets_from_environment(job.place)
        if not given and not clear:
            problems.append(
                f"Set one or more of {', '.join(_variables_of(job.place))} in the environment "
                f"(those {_a(job.place)} job takes), or give --clear to remove the saved secrets."
            )
        if problems:
            raise CommandError("\n".join(problems), returncode=BAD_USAGE)
        saved = {}
        if not clear:
            try:
                saved = job.secrets()
            except secrets.SecretUnreadable:
                self.stdout.write(
                    "The saved secrets could not be read (the keys changed): only those given "
                    "now are kept."
                )
        values = {**saved, **{secret: value for secret, (_, value) in given.items()}}
        if problems := _pair_problems(job.place, values):
            raise CommandError("\n".join(problems), returncode=BAD_USAGE)
        job.set_secrets(values)
        job.save(update_fields=["encrypted_secrets", "updated_at"])
        self._say_secrets(job, given)
        names = ", ".join(job.saved_secrets()[0]) or "none"
        self.stdout.write(f"Secrets of “{job}” now set: {names}.")

    def handle_new_key(self, **options):
        self.stdout.write(secrets.new_key())
        self.stderr.write(
            "Put it first in SYNC_SECRET_KEYS (keys separated by commas; keep the others after "
            "it), restart the app, then run `manage.py sync rotate-keys`."
        )

    def handle_rotate_keys(self, **options):
        rotated, unreadable = 0, []
        for job in IntegrationJob.objects.exclude(encrypted_secrets=""):
            try:
                job.encrypted_secrets = secrets.rotate(job.encrypted_secrets)
            except secrets.SecretUnreadable:
                unreadable.append(f"“{job}”")
                continue
            job.save(update_fields=["encrypted_secrets"])
            rotated += 1
        self.stdout.write(
            f"Encrypted the secrets of {rotated:,} job{'s' if rotated != 1 else ''} again under "
            "the first key."
        )
        if unreadable:
            raise CommandError(
                f"No key reads the secrets of {', '.join(unreadable)}: set them again "
                "(`manage.py sync set-secrets NAME`). Keep the older keys until then.",
                returncode=FILE_HAS_ERRORS,
            )


def find_job(name):
    """The integration job named `name`, in any case; bad usage when there is none."""
    name = " ".join(name.split())
    job = IntegrationJob.objects.filter(name__iexact=name).first()
    if job is None:
        names = ", ".join(f"“{job}”" for job in IntegrationJob.objects.all()) or "none"
        raise CommandError(
            f"No integration job is named “{name}”. Integration jobs: {names}.",
            returncode=BAD_USAGE,
        )
    return job


def secrets_from_environment(kind):
    """The secrets a job of `kind` takes that the environment sets, as {secret: (variable,
    value)}, and the problems with them (never naming a value)."""
    given, problems = {}, []
    for variable, secret in SECRET_VARIABLES.items():
        if secret in IntegrationJob.SECRET_NAMES[kind] and os.environ.get(variable):
            given[secret] = (variable, os.environ[variable])
    if key_file := os.environ.get(PRIVATE_KEY_FILE):
        if kind != Place.SFTP:
            pass  # said by _say_secrets, as any variable the kind does not take
        elif "private_key" in given:
            problems.append(f"Set SYNC_PRIVATE_KEY or {PRIVATE_KEY_FILE}, not both.")
        else:
            try:
                given["private_key"] = (PRIVATE_KEY_FILE, Path(key_file).read_text())
            except (OSError, UnicodeDecodeError) as error:
                why = getattr(error, "strerror", None) or "it is not a text file"
                problems.append(f"Cannot read the private key file {key_file}: {why}.")
    return given, problems


def _pair_problems(kind, names):
    """An S3 job's keys go together: both, or neither (set later with set-secrets; or, where
    SYNC_S3_DEFAULT_CREDENTIALS allows it, boto3 finds the server's own)."""
    pair = {"access_key_id", "secret_access_key"}
    if kind == Place.S3 and len(pair & set(names)) == 1:
        return [
            "Set both SYNC_ACCESS_KEY_ID and SYNC_SECRET_ACCESS_KEY, or neither (then set them "
            "later with sync set-secrets; or, where SYNC_S3_DEFAULT_CREDENTIALS=1, the server's "
            "own credentials sign in)."
        ]
    return []


def _a(kind):
    """“a folder”, “an sftp”: the article as the kind is said."""
    return f"an {kind}" if kind in (Place.SFTP, Place.S3, Place.HTTPS) else f"a {kind}"


def _variables_of(kind):
    """The environment variables `sync` reads the secrets of a `kind` job from."""
    names = [
        variable
        for variable, secret in SECRET_VARIABLES.items()
        if secret in IntegrationJob.SECRET_NAMES[kind]
    ]
    if kind == Place.SFTP:
        names.append(PRIVATE_KEY_FILE)
    return names


def _messages(check, **arguments):
    try:
        check(**arguments)
    except ValidationError as error:
        return error.messages
    return []


def _export_words(job):
    if job.export == IntegrationJob.Export.SEGMENT:
        return f"the users file of the segment “{job.segment}”"
    if job.export == IntegrationJob.Export.CONTACTS:
        return "the users file of the contacts"
    return "the users file of every membership"


def _next_run(job):
    if not job.enabled:
        return "disabled"
    return _when(job.next_run_at) if job.next_run_at else "-"


def _when(moment):
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"
