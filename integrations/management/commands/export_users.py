import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contacts.models import DownloadRecord
from contacts.privacy import record_download
from integrations import services
from integrations.management.importing import BAD_USAGE, find_segment, segment_memberships

FORMATS = {".csv": "csv", ".xlsx": "xlsx"}
# The exit status when the reader of standard output stops reading before the end (`| head`),
# as Python's documentation has it (signal module, "Note on SIGPIPE"): the file was not
# written in full.
CLOSED_PIPE = 1


class Command(BaseCommand):
    help = (
        "Write the users file of every membership (or every contact, or a saved segment's) for "
        "the source system: CSV, or XLSX when --output ends in .xlsx. Exit status: 0 written, "
        "1 standard output closed before the end (as by `| head`), 2 bad usage."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            help="Where to write the file, a name ending in .csv or .xlsx (default: standard "
            "output, as CSV).",
        )
        parser.add_argument(
            "--contacts-only", action="store_true", help="Only memberships that are contacts."
        )
        parser.add_argument(
            "--segment",
            metavar="NAME",
            help="Only the memberships of this saved segment (its name, in any case), as the "
            "People page lists them; with --contacts-only, only its contacts.",
        )

    def handle(self, *args, output, contacts_only, segment, **options):
        memberships, what = None, "Contacts only" if contacts_only else "All users"
        if segment is not None:
            segment = find_segment(segment)
            memberships = segment_memberships(segment)
            what = f"The segment “{segment.name}”" + (", contacts only" if contacts_only else "")
        file_format = "csv"
        if output:
            path = Path(output)
            file_format = FORMATS.get(path.suffix.lower())
            if file_format is None:
                raise CommandError(
                    f"Cannot write {path.name}: the users file is written as CSV or XLSX, so "
                    "--output must end in .csv or .xlsx.",
                    returncode=BAD_USAGE,
                )
            if not path.parent.is_dir():
                raise CommandError(
                    f"No folder {path.parent} to write {path.name} in.", returncode=BAD_USAGE
                )
            try:
                out = path.open("wb")
            except OSError as error:
                raise CommandError(
                    f"Cannot write {path}: {error.strerror}.", returncode=BAD_USAGE
                ) from error
        else:
            # The bytes go to the real standard output; call_command's StringIO gets text.
            raw = getattr(self.stdout, "_out", sys.stdout)
            out = raw.buffer if hasattr(raw, "buffer") else _TextBuffer(self.stdout)
        download = record_download(
            kind=DownloadRecord.Kind.USERS_FILE,
            channel=DownloadRecord.Channel.COMMAND,
            by=None,
            filters=f"{what}, to {output or 'standard output'}",
            file_format=file_format,
        )
        _, _, body = services.export_users(
            contacts_only=contacts_only,
            file_format=file_format,
            download=download,
            memberships=memberships,
        )
        try:
            with _closing(out, close=bool(output)):
                services.write_export(body, out)
        except BrokenPipeError:
            # The reader has gone (`| head -1`): stop quietly. What is left in the buffer would
            # fail again when Python flushes its streams at exit, so standard output points at
            # os.devnull from here (Python's documentation, signal module, "Note on SIGPIPE").
            _point_at_devnull(sys.stdout)
            sys.exit(CLOSED_PIPE)
        finally:
            if hasattr(body, "close"):
                body.close()
        if output:
            what = "contacts" if contacts_only else "users"
            of = f" of the segment “{segment.name}”" if segment is not None else ""
            self.stderr.write(f"Wrote the {what} file{of} to {output}.")


def _point_at_devnull(stream):
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's StringIO): nothing will be flushed to a pipe
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


class _TextBuffer:
    """Bytes written to a text stream (call_command's StringIO), decoded."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, data):
        self.stream.write(data.decode("utf-8"), ending="")

    def flush(self):
        self.stream.flush()


class _closing:
    def __init__(self, out, *, close):
        self.out, self.close = out, close

    def __enter__(self):
        return self.out

    def __exit__(self, *exc):
        if self.close:
            self.out.close()
        else:
            self.out.flush()
