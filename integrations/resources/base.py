"""Past 400 lines as one thing: what the users file and the accounts file share, around one
run of a file's rows: header matching, line numbers, chunks, and the result of a run in the
library's own Result, RowResult and failed-rows dataset, with its errors grouped by cause.

The groups (FileImportResult.error_groups) count every row, however many, in a few kilobytes:
a cause keeps its count and a few runs of lines, and past MAX_ERROR_GROUPS causes the rest
share one group. The detailed lists stop at LISTED_ROWS; the error file has every failed row.
"""

import gc
import itertools
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import router
from django.utils import timezone
from django.utils.safestring import mark_safe
from import_export import resources
from import_export.results import Result, RowResult

from ..detect import propose
from ..files import FileProblem, Table, text_codec
from ..journal import ImportJournal
from ..models import ImportJob, MappingTemplate
from ..text import LineTally, and_join, header_key, one_line, rows_text, where

# Rows, errors and re-adds kept in detail for a preview; the totals count every row.
LISTED_ROWS = 1000

# Causes of error kept apart (column and message); a file with more shares one group for the
# rest, so that a million rows each with its own message stay a few hundred kilobytes.
MAX_ERROR_GROUPS = 500
# Distinct causes counted past MAX_ERROR_GROUPS (by hash) before the count says "more than".
MORE_KINDS_COUNTED = 10_000

NEW, UPDATE, SKIP, INVALID = (
    RowResult.IMPORT_TYPE_NEW,
    RowResult.IMPORT_TYPE_UPDATE,
    RowResult.IMPORT_TYPE_SKIP,
    RowResult.IMPORT_TYPE_INVALID,
)


def _max_length(model, field_name):
    return model._meta.get_field(field_name).max_length


class Change(NamedTuple):
    """One value of a row that changes: in a column, from old to new ("" for none)."""

    column: str
    old: str
    new: str


@dataclass(frozen=True)
class ReAdd:
    """A row that would make someone a contact again after a staff user removed that contact."""

    line: int
    email: str
    account_id: str
    account_name: str
    removed_at: object
    removed_by: str


class ErrorGroup(NamedTuple):
    """One cause of error over the whole file: its column ("" for the row as a whole), its
    message, the number of rows with it and their lines ("lines 2–1,043")."""

    column: str
    message: str
    count: int
    lines_text: str


class FileRowResult(RowResult):
    """A changed row: its line, what it is about, and each change old → new."""

    def __init__(self, *, line, import_type, label, changes, columns, values):
        super().__init__()
        self.line = line
        self.import_type = import_type
        self.label = label
        self.changes = changes
        self.object_repr = label
        # The admin's preview shows one cell per column: the value, or old → new.
        changed = {change.column: change for change in changes}
        cells = []
        for column in columns:
            change = changed.get(column)
            if change is None:
                cells.append(escape(values.get(column, "")))
            elif change.old:
                cells.append(f"<del>{escape(change.old)}</del> → <ins>{escape(change.new)}</ins>")
            else:
                cells.append(f"<ins>{escape(change.new)}</ins>")
        self.diff = [mark_safe(cell) for cell in cells]


class FileImportResult(Result):
    """The library's Result (totals, invalid rows, failed rows dataset, base errors) plus what
    a preview shows: warnings about the header row, the re-add guard's rows, and every row's
    errors grouped by cause (error_groups)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings = []
        # How the file was read (set by services.import_file): its encoding, and the saved
        # mapping template found for its header.
        self.encoding = ""
        self.encoding_detected = False
        self.template = None
        self.readds = []
        self.readd_count = 0
        self.kept_removed = 0
        self.error_count = 0
        # Line → spreadsheet row, for the rows below a value over several lines (Table's).
        self.sheet_rows = {}
        self.rows_recorded = 0
        self.groups = {}  # (column, message) → LineTally, for the first MAX_ERROR_GROUPS causes
        self.more_groups = LineTally()  # the rows of every cause past those
        self.more_kinds = set()  # hashes of those causes, up to MORE_KINDS_COUNTED

    @property
    def new(self):
        return self.totals[NEW]

    @property
    def updated(self):
        return self.totals[UPDATE]

    @property
    def unchanged(self):
        return self.totals[SKIP]

    @property
    def failed(self):
        return self.totals[INVALID]

    @property
    def rows_read(self):
        return self.new + self.updated + self.unchanged + self.failed

    def problems(self):
        """(line, column, message) for each listed error, in file order."""
        return [
            (row.number, "" if column == "__all__" else column, message)
            for row in self.invalid_rows
            for column, messages in row.error_dict.items()
            for message in messages
        ]

    def file_problems(self):
        return [str(error.error) for error in self.base_errors]

    def where(self, line):
        """ "12", or "12 (spreadsheet row 10)" when a value over several lines moved it."""
        return where(line, self.sheet_rows)

    def sheet_row(self, line):
        """The spreadsheet row of a line when it differs from the line, else None."""
        row = self.sheet_rows.get(line)
        return None if row == line else row

    def count_errors(self, line, errors):
        """Add one row's errors ({column: [message, …]}) to their causes."""
        row_number = self.rows_recorded
        for field, messages in errors.items():
            column = "" if field == NON_FIELD_ERRORS else field
            for message in messages:
                key = (column, message)
                tally = self.groups.get(key)
                if tally is None:
                    if len(self.groups) >= MAX_ERROR_GROUPS:
                        if len(self.more_kinds) < MORE_KINDS_COUNTED:
                            self.more_kinds.add(hash(key))
                        self.more_groups.add(line, row_number)
                        continue
                    tally = self.groups[key] = LineTally()
                tally.add(line, row_number)

    def error_groups(self):
        """Every cause of error in the file with its rows, most frequent first (then by first
        line); past MAX_ERROR_GROUPS causes, one last group stands for the rest."""
        groups = sorted(self.groups.items(), key=lambda item: (-item[1].count, item[1].first_line))
        listed = [
            ErrorGroup(column, message, tally.count, tally.text(self.sheet_rows))
            for (column, message), tally in groups
        ]
        if self.more_groups.count:
            kinds = len(self.more_kinds)
            counted = f"more than {kinds:,}" if kinds >= MORE_KINDS_COUNTED else f"{kinds:,}"
            listed.append(
                ErrorGroup(
                    "",
                    f"… and {counted} more kinds of error (the error file has every row).",
                    self.more_groups.count,
                    self.more_groups.text(self.sheet_rows),
                )
            )
        return listed


class _Row:
    """One data row on its way through a chunk."""

    __slots__ = (
        "cells",
        "changes",
        "context",
        "data",
        "errors",
        "import_type",
        "label",
        "line",
        "values",
    )

    def __init__(self, line, values, cells):
        self.line = line
        self.values = values
        self.cells = cells
        self.data = {}
        self.errors = {}
        self.import_type = None
        self.changes = []
        self.label = ""
        self.context = None

    def error(self, column, message):
        self.errors.setdefault(column, []).append(message)


class FileResource(resources.Resource):
    """What the two files share: header matching, line numbers, chunks, the result.

    Keyword arguments: `by` (the staff user recorded on every change; None from the command
    line), `chunk_size`, and `progress` (called with the number of rows done after each chunk).
    `job`: the ImportJob whose run this is, whose ImportRecords keep what a run that writes
    changes (integrations.journal); `job_file_name`: without a job (the Django admin's import),
    a run that writes makes one of its own under this name, so that it can be undone too.
    """

    file_kind = "file"
    mapping_file = ""  # the "file" of its mapping templates: "users" or "accounts"
    job_kind = None  # ImportJob.Kind
    required_columns = ()
    model = None  # the model whose database the import writes to

    class Meta:
        report_skipped = False
        skip_diff = True

    def __init__(
        self,
        *,
        by=None,
        chunk_size=None,
        progress=None,
        file_mapping=None,
        find_template=True,
        job=None,
        job_file_name="",
        **kwargs,
    ):
        super().__init__()
        self.by = by
        self.job = job
        self.job_file_name = job_file_name
        self.own_job = False
        self.journal = None
        # How a foreign file becomes this one (integrations.mapping): the Mapping given, else
        # with `find_template` the saved template made for a file of its header, if any.
        self.file_mapping = file_mapping
        self.find_template = find_template
        self.template = None
        self.chunk_size = chunk_size or settings.INTEGRATIONS_CHUNK_SIZE
        self.progress = progress
        self.all_or_nothing = True
        self.listing = True  # whether rows still go on the preview's list (see run)
        self.header_width = None  # the columns a CSV file's header names (see read_row)

    @classmethod
    def get_result_class(cls):
        return FileImportResult

    @classmethod
    def get_display_name(cls):
        return cls.file_kind.capitalize()

    @classmethod
    def get_db_connection_name(cls):
        return router.db_for_write(cls.model)

    @classmethod
    def columns(cls):
        return [field.column_name for field in cls.fields.values()]

    def is_standard(self, headers):
        """Whether a file with this header row is read as it is: it names every required
        column, and no other column of it looks like one of ours under another name (a
        Salesforce export has AccountId and Email, which match, but also FirstName)."""
        keys = {header_key(header) for header in headers}
        if not all(header_key(column) in keys for column in self.required_columns):
            return False
        proposal = propose(headers, self.mapping_file)
        return (
            all(
                header_key(source) == header_key(target)
                for target, source in proposal.columns.items()
            )
            and not proposal.full_name
        )

    def read_through_mapping(self, table):
        """The table as this file: through the mapping given, else (a file whose header is not
        the standard one) through the saved template made for its header, else as it is."""
        mapping = self.file_mapping
        if mapping is None and self.find_template and not self.is_standard(table.headers):
            self.template = MappingTemplate.objects.for_headers(self.mapping_file, table.headers)
            if self.template is not None:
                mapping = self.template.as_mapping()
        if mapping is None:
            return table
        reopen = getattr(table, "reopen", None)
        if (
            mapping.encoding
            and reopen is not None
            and table.encoding
            and text_codec(mapping.encoding) != text_codec(table.encoding)
        ):
            # A template found by the header names the file's encoding: read it so.
            table = reopen(encoding=mapping.encoding)
        mapped = mapping.apply(table, reopen=getattr(table, "reopen", None))
        if self.template is not None:
            mapped.warnings.insert(
                0,
                f"Read through the mapping template “{self.template.name}”, made for files "
                "with this header.",
            )
        return mapped

    def match_headers(self, headers):
        """{column: index in the row} for the columns this file knows, and the warnings about
        the rest. Raises FileProblem for a repeated column or a missing required one."""
        known = {header_key(column): column for column in self.columns()}
        mapping = {}
        ignored = {}  # header key → [the header as first written, on one line; its count]
        for index, header in enumerate(headers):
            if not header.strip():
                continue
            column = known.get(header_key(header))
            if column is None:
                ignored.setdefault(header_key(header), [one_line(header), 0])[1] += 1
            elif column in mapping:
                raise FileProblem(
                    f"The column {column} appears twice in the header row (columns "
                    f"{mapping[column] + 1} and {index + 1}). Keep one and upload the file again.",
                    code="duplicate_column",
                )
            else:
                mapping[column] = index
        warnings = [
            f"Column “{header}”{f' ({count} columns)' if count > 1 else ''} is not part of a "
            f"{self.file_kind} and was ignored."
            for header, count in ignored.values()
        ]
        missing = [column for column in self.required_columns if column not in mapping]
        if missing:
            found = ", ".join(one_line(header) for header in headers if header.strip()) or "nothing"
            raise FileProblem(
                f"This {self.file_kind} has no {and_join(missing)} "
                f"column{'s' if len(missing) > 1 else ''}. "
                f"Its header row (line 1) must name {and_join(self.required_columns)}; it has: "
                f"{found}.",
                code="missing_columns",
            )
        return mapping, warnings

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        # All or nothing (SPEC §4.3) is the library's rollback_on_validation_errors; knowing it
        # up front lets a run stop writing at the first error rather than write to roll back.
        self.all_or_nothing = rollback_on_validation_errors
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=use_transactions,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=rollback_on_validation_errors,
            **kwargs,
        )

    def import_data_inner(
        self, dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
    ):
        if self.by is None and getattr(kwargs.get("user"), "is_authenticated", False):
            self.by = kwargs["user"]  # the admin's import passes the staff user this way
        result = self.get_result_class()()
        result.diff_headers = self.columns()
        table = dataset if isinstance(dataset, Table) else _table_from_dataset(dataset)
        # The reader fills it as it reads (integrations.files.Table.sheet_rows, where it has it).
        result.sheet_rows = getattr(table, "sheet_rows", {})
        # A CSV row with a value past the header's named columns is an error (read_row), one
        # with fewer cells a warning for the file. A workbook's rows stop at their last filled
        # cell and a dataset's are as wide as its header: neither says anything by its width.
        self.header_width = _named_width(table.headers) if table.file_format == "csv" else None
        short_rows = LineTally()
        try:
            table = self.read_through_mapping(table)
            if self.header_width is not None:
                table.rows = _tally_short_rows(table.rows, self.header_width, short_rows)
            self.mapping, result.warnings = self.match_headers(table.headers)
            # Each field: its name, column, index in the file's rows (None: not in the file)
            # and its widget's clean() straight away (Field.clean() adds a lookup and checks
            # per cell), worked out once rather than per cell.
            self.readers = [
                (name, field.column_name, self.mapping.get(field.column_name), field.widget.clean)
                for name, field in self.fields.items()
            ]
            if collect_failed_rows:
                # A mapped file's failed rows go in the error file as the file had them.
                result.add_dataset_headers(list(getattr(table, "source_headers", table.headers)))
            self.run(table.rows, result, dry_run=dry_run, collect_failed_rows=collect_failed_rows)
            self.finish_own_job(result)
            # A mapping's warnings about its rows are known once they are read.
            result.warnings.extend(table.warnings)
        except FileProblem as problem:
            self.handle_import_error(result, problem, raise_errors)
            return result
        result.sheet_rows = getattr(table, "sheet_rows", result.sheet_rows)
        if short_rows.count:
            result.warnings.append(
                f"{rows_text(short_rows.count)} {'has' if short_rows.count == 1 else 'have'} "
                f"fewer values than the {self.header_width:,} columns the header names "
                f"({short_rows.text(result.sheet_rows)}): the missing values were read as blank."
            )
        return result

    def journal_for_run(self):
        """The journal of a run that writes (called inside its transaction): the job's, made
        first when the run has none but a `job_file_name`. None when there is no job."""
        if self.job is None and self.job_file_name:
            now = timezone.now()
            self.job = ImportJob.objects.create(
                kind=self.job_kind,
                file_name=self.job_file_name[:255],
                staff_user=self.by,
                status=ImportJob.Status.RUNNING,
                started_at=now,
                heartbeat_at=now,
            )
            self.own_job = True
        self.journal = ImportJournal(self.job.pk) if self.job is not None else None
        return self.journal

    def finish_own_job(self, result):
        """A job this run made for itself (journal_for_run) ends with the run: it commits with
        the run's writes, or rolls back with them."""
        if not self.own_job:
            return
        ImportJob.objects.filter(pk=self.job.pk).update(
            status=ImportJob.Status.SUCCEEDED,
            finished_at=timezone.now(),
            new_rows=result.new,
            updated_rows=result.updated,
            unchanged_rows=result.unchanged,
            failed_rows=result.failed,
            rows_total=result.rows_read,
            rows_done=result.rows_read,
        )

    def may_write(self, result, dry_run):
        return not dry_run and not (self.all_or_nothing and result.has_validation_errors())

    def run(self, rows, result, *, dry_run, collect_failed_rows):
        self.before_run(dry_run=dry_run)
        done = 0
        with _garbage_collector_paused():
            for batch in itertools.batched(rows, self.chunk_size):
                chunk = [self.read_row(line, values) for line, values in batch]
                # Once the preview's list is full, a new row's changes are listed nowhere.
                self.listing = len(result.rows) < LISTED_ROWS
                self.process_chunk(chunk, write=self.may_write(result, dry_run))
                for row in chunk:
                    self.record(row, result, collect_failed_rows)
                done += len(batch)
                if self.progress:
                    self.progress(done)

    def before_run(self, *, dry_run):
        pass

    def read_row(self, line, values):
        """parse() the row, and judge its width: a value past the columns the header names is
        an error on the row, since its values no longer line up with the header (most often a
        value with a comma that is not in quotes). Empty cells past them are harmless."""
        row = self.parse(line, values)
        width = self.header_width
        values = getattr(values, "source", values)  # a mapped row's cells as the file had them
        if width is not None and len(values) > width:
            used = _named_width(values)
            if used > width:
                row.error(
                    NON_FIELD_ERRORS,
                    f"This row has {used:,} values but the header names {width:,} columns: a "
                    "value may hold a comma that is not in quotes.",
                )
        return row

    def parse(self, line, values):
        """Read one row's cells through the fields' widgets; blank for a column not in the file."""
        width = len(values)
        cells = {}
        row = _Row(line, values, cells)
        # What a mapping found wrong with the row (integrations.mapping.MappedRow).
        for column, messages in getattr(values, "errors", {}).items():
            row.errors.setdefault(column, []).extend(messages)
        data = row.data
        for name, column, index, clean in self.readers:
            if index is None:
                value = ""
            else:
                value = values[index] if index < width else ""
                cells[column] = value = "" if value is None else value
            try:
                data[name] = clean(value)
            except ValueError as error:
                data[name] = None
                row.error(column, str(error))
        return row

    def process_chunk(self, rows, *, write):
        raise NotImplementedError

    def record(self, row, result, collect_failed_rows):
        """Count the row, and keep it (up to LISTED_ROWS) for the preview and the error file."""
        if row.errors:
            row.import_type = INVALID
            # In the order of the columns, whatever order the rules found them in.
            # The row's own shape first: it explains the errors of values out of line.
            order = {column: index for index, column in enumerate(result.diff_headers)}
            order[NON_FIELD_ERRORS] = -1
            row.errors = dict(sorted(row.errors.items(), key=lambda item: order.get(item[0], 99)))
            result.error_count += sum(len(messages) for messages in row.errors.values())
            result.count_errors(row.line, row.errors)
            if len(result.invalid_rows) < LISTED_ROWS:
                result.append_invalid_row(
                    row.line,
                    {},
                    ValidationError({c: list(m) for c, m in row.errors.items() if m}),
                )
            if collect_failed_rows:
                width = len(result.failed_dataset.headers) - 1
                source = getattr(row.values, "source", row.values)
                values = [*source[:width], *[""] * (width - len(source))]
                result.failed_dataset.append(
                    [*values, error_text(row.line, row.errors, result.sheet_row(row.line))]
                )
        result.rows_recorded += 1
        result.totals[row.import_type] += 1
        if row.import_type in (NEW, UPDATE) and len(result.rows) < LISTED_ROWS:
            result.append_row_result(
                FileRowResult(
                    line=row.line,
                    import_type=row.import_type,
                    label=row.label,
                    changes=row.changes,
                    columns=result.diff_headers,
                    values=row.cells,
                )
            )


@contextmanager
def _garbage_collector_paused():
    """A run keeps a few hundred thousand small objects alive until it ends (every email and
    Account ID seen, every profile): Python's cyclic garbage collector walked them all again
    and again, a fifth of the time of a 100,000-row import. A run makes next to no cyclic
    garbage (measured: the same peak memory either way), so the collector waits until it ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def error_text(line, errors, sheet_row=None):
    """The Error column of the error file: the line (with its spreadsheet row where that
    differs) and every message of the row."""
    messages = " ".join(
        message if column == NON_FIELD_ERRORS else f"{column}: {message}"
        for column, items in errors.items()
        for message in items
    )
    where = f"{line} (spreadsheet row {sheet_row})" if sheet_row else f"{line}"
    return f"Line {where}. {messages}"


def _named_width(cells):
    """The number of cells up to the last one with anything in it."""
    return next((index for index in range(len(cells), 0, -1) if cells[index - 1].strip()), 0)


def _tally_short_rows(rows, width, tally):
    """The rows, as they come; those with fewer cells than `width` go into `tally`."""
    for row_number, (line, values) in enumerate(rows):
        # A mapped row's width is its file row's.
        if len(getattr(values, "source", values)) < width:
            tally.add(line, row_number)
        yield line, values


def _table_from_dataset(dataset):
    """A tablib Dataset (from the admin, or built in code) as a Table numbered from line 2."""
    line_numbers = getattr(dataset, "line_numbers", None) or itertools.count(2)
    rows = (
        (line, ["" if value is None else str(value) for value in values])
        # Without line numbers they are an endless count.
        for line, values in zip(line_numbers, dataset, strict=False)
        if any(value not in (None, "") for value in values)
    )
    return Table(
        headers=[str(h or "").strip() for h in dataset.headers or []],
        rows=rows,
        file_format="dataset",
    )
