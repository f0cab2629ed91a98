"""Past 400 lines as one thing: a mapping template's rules, read, checked and applied to a file.

Mapping templates (SPEC §4.5): what turns a file another system wrote into the standard users
or accounts file (SPEC §4.1, §4.2).

A Mapping is the template's JSON form as a value: `Mapping.from_json()` and `from_dict()` check
it whole and raise one MappingProblem naming every problem; `check_fits()` says whether a file's
header still has every source column it names; `apply()` turns a Table of the file into a Table
of the standard file, row by row, so that the resources' rules (strict `yes`/`no` and all) run
on it unchanged. What a mapping finds wrong with a row (a one-word full name, an account name
that names no account or several) travels with the row as MappedRow.errors, and the row's
original cells as MappedRow.source, for the error file.
"""

import itertools
import json
from collections import Counter
from dataclasses import dataclass, field, replace

from .files import FileProblem, Table, text_codec
from .text import LineTally, and_join, header_key

# Our columns of each file (SPEC §4.1, §4.2), and those a file must give. The resources' fields
# say the same (a test holds them together); the resources read mapped files through this module.
TARGETS = {
    "users": (
        "Account ID",
        "Email",
        "First Name",
        "Last Name",
        "Title",
        "Phone",
        "Account Role",
        "Contact",
        "Key Contact",
        "Status",
        "Start Date",
        "End Date",
    ),
    "accounts": ("Account ID", "Account Name", "Account Type", "Parent Account ID"),
}
REQUIRED = {
    "users": ("Account ID", "Email"),
    "accounts": ("Account ID", "Account Name", "Account Type", "Parent Account ID"),
}
ACCOUNT_LOOKUPS = ("Account ID", "Account Name")
REPEATED_ROWS = {
    "refuse": "Refuse the file (each is an error)",
    "first": "Keep the first row, leave out the later ones",
    "last": "Keep the last row, leave out the earlier ones",
}
YES_NO_COLUMNS = ("Contact", "Key Contact")
STATUSES = ("active", "former")
# The columns whose values come from a fixed set: the mapping page lists a file's values for
# each so that they can be mapped to ours.
VALUE_COLUMNS = {
    "users": ("Account Role", "Contact", "Key Contact", "Status"),
    "accounts": ("Account Type",),
}
DEFAULT_BLANK_VALUES = ("null", "NULL", "None", "N/A", "n/a", "#N/A", "[not provided]")
KEYS = (
    "name",
    "file",
    "columns",
    "constants",
    "values",
    "blank_values",
    "full_name",
    "account_lookup",
    "repeated_rows",
    "encoding",
)
NAME_LENGTH = 100  # MappingTemplate.name's
# Rows whose accounts are looked up by name together, with one query.
NAME_BATCH = 1000


class MappingProblem(FileProblem):
    """A mapping template that cannot be used as it is (or no longer fits a file)."""

    def __init__(self, message, code="bad_mapping"):
        super().__init__(message, code=code)


def targets(file_kind):
    """Our columns of a users or an accounts file, in their order."""
    return TARGETS[file_kind]


def source_names(headers):
    """A file's headers as a mapping names them: a header's later occurrences as "Header#2",
    "Header#3" (SPEC §4.5), compared ignoring case and spaces."""
    seen = Counter()
    names = []
    for header in headers:
        label = " ".join(str(header).split())  # a header over several lines, on one
        if not label:
            names.append("")  # a template cannot name a blank header
            continue
        seen[header_key(label)] += 1
        count = seen[header_key(label)]
        names.append(label if count == 1 else f"{label}#{count}")
    return names


class MappedRow(list):
    """A row of the standard file made by a mapping: its cells, what the mapping found wrong
    ({column: [messages]}), and the cells of the file as they were."""

    __slots__ = ("errors", "source")

    def __init__(self, cells, source, errors=None):
        super().__init__(cells)
        self.source = source
        self.errors = errors or {}


@dataclass
class Mapping:
    file: str = "users"
    columns: dict = field(default_factory=dict)
    constants: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    blank_values: list = field(default_factory=lambda: list(DEFAULT_BLANK_VALUES))
    full_name: str | None = None
    account_lookup: str = "Account ID"
    repeated_rows: str = "refuse"
    encoding: str | None = None
    name: str = ""

    # Reading and checking

    @classmethod
    def from_json(cls, text):
        """A Mapping from the JSON form of SPEC §4.5; MappingProblem when it is not JSON or not
        a valid template."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise MappingProblem(
                    "The mapping template is not UTF-8 text: save it as a .json file in UTF-8."
                ) from error
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise MappingProblem(
                f"The mapping template is not valid JSON: line {error.lineno}, column "
                f"{error.colno}: {error.msg}."
            ) from error
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data, *, file=None):
        """A Mapping from a dict of the JSON form; MappingProblem naming every problem."""
        if not isinstance(data, dict):
            raise MappingProblem(
                "The mapping template must be a JSON object ({…}) with the keys "
                f"{and_join(KEYS)}."
            )
        problems = []
        unknown = [key for key in data if key not in KEYS]
        if unknown:
            problems.append(
                f"Unknown key{'s' if len(unknown) > 1 else ''} "
                f"{and_join(f'“{key}”' for key in unknown)}; a template has {and_join(KEYS)}."
            )
        file_kind = data.get("file", file or "users")
        if not isinstance(file_kind, str) or file_kind not in TARGETS:
            problems.append(f"“file” is “{file_kind}”; it must be “users” or “accounts”.")
            raise MappingProblem(" ".join(problems))
        mapping = cls(file=file_kind)
        mapping.name = _text(data.get("name") or "", "name", problems)
        if len(mapping.name) > NAME_LENGTH:
            problems.append(
                f"“name” has {len(mapping.name)} characters; a template's name has at most "
                f"{NAME_LENGTH}."
            )
        ours = targets(file_kind)
        mapping.columns = _text_dict(data.get("columns") or {}, "columns", problems)
        mapping.constants = _text_dict(data.get("constants") or {}, "constants", problems)
        values = data.get("values") or {}
        if not isinstance(values, dict):
            problems.append("“values” must be an object of column → {their value: ours}.")
            values = {}
        mapping.values = {
            target: _text_dict(table, f"values of {target}", problems)
            for target, table in values.items()
        }
        for key in ("columns", "constants", "values"):
            for target in getattr(mapping, key):
                if target not in ours:
                    problems.append(
                        f"“{target}” in “{key}” is not a column of a {file_kind} file; its "
                        f"columns are {and_join(ours)}."
                    )
        for target, source in mapping.columns.items():
            if not source.strip():
                problems.append(f"The source column of {target} is empty: name a column.")
        for target in REQUIRED[file_kind]:
            if mapping.constants.get(target, None) == "":
                problems.append(f"The constant of {target} is empty: {target} is required.")
        for target in ours:
            if target in mapping.columns and target in mapping.constants:
                problems.append(
                    f"{target} has both a source column (“{mapping.columns[target]}”) and a "
                    f"constant (“{mapping.constants[target]}”): give it one or the other."
                )
        for target in YES_NO_COLUMNS:
            constant = mapping.constants.get(target)
            if constant is not None and constant not in ("yes", "no", ""):
                problems.append(
                    f"The constant of {target} is “{constant}”; it must be yes or no (lowercase)."
                )
            for theirs, value in mapping.values.get(target, {}).items():
                if value not in ("yes", "no", ""):
                    problems.append(
                        f"In “values” of {target}, “{theirs}” maps to “{value}”; it must map to "
                        "yes, no or blank."
                    )
        constant = mapping.constants.get("Status")
        if constant is not None and constant not in (*STATUSES, ""):
            problems.append(
                f"The constant of Status is “{constant}”; it must be active or former (lowercase)."
            )
        for theirs, value in mapping.values.get("Status", {}).items():
            if value not in (*STATUSES, ""):
                problems.append(
                    f"In “values” of Status, “{theirs}” maps to “{value}”; it must map to "
                    "active, former or blank."
                )
        blank_values = data.get("blank_values", list(DEFAULT_BLANK_VALUES))
        if blank_values is None:
            blank_values = []
        if not isinstance(blank_values, list) or not all(
            isinstance(value, str) for value in blank_values
        ):
            problems.append('“blank_values” must be a list of texts, such as ["null", "N/A"].')
            blank_values = []
        mapping.blank_values = blank_values
        full_name = data.get("full_name")
        if full_name is not None:
            full_name = _text(full_name, "full_name", problems) or None
        if full_name and file_kind != "users":
            problems.append("“full_name” is for users files only.")
        if full_name and {"First Name", "Last Name"} & (
            set(mapping.columns) | set(mapping.constants)
        ):
            problems.append(
                f"“full_name” splits “{full_name}” into First Name and Last Name, but the "
                "template maps those too: give one or the other."
            )
        mapping.full_name = full_name
        lookup = data.get("account_lookup") or "Account ID"
        if (
            not isinstance(lookup, str)
            or lookup not in ACCOUNT_LOOKUPS
            or (lookup != "Account ID" and file_kind != "users")
        ):
            problems.append(
                f"“account_lookup” is “{lookup}”; it must be “Account ID”"
                + (" or “Account Name”." if file_kind == "users" else " in an accounts file.")
            )
        mapping.account_lookup = lookup
        repeated = data.get("repeated_rows") or "refuse"
        if not isinstance(repeated, str) or repeated not in REPEATED_ROWS:
            problems.append(
                f"“repeated_rows” is “{repeated}”; it must be “refuse”, “first” or “last”."
            )
        mapping.repeated_rows = repeated
        encoding = data.get("encoding")
        if encoding is not None:
            encoding = _text(encoding, "encoding", problems) or None
        if encoding:
            try:
                text_codec(encoding)
            except FileProblem:
                problems.append(
                    f"“encoding” is “{encoding}”, which is not an encoding of text this import "
                    "knows (for example utf-8, cp1252, utf-16)."
                )
        mapping.encoding = encoding
        if not problems:
            problems.extend(mapping._missing_required())
        if problems:
            raise MappingProblem(" ".join(problems))
        # In the order of our columns, however the JSON held them (PostgreSQL's jsonb keeps
        # keys in an order of its own).
        for key in ("columns", "constants", "values"):
            given = getattr(mapping, key)
            setattr(mapping, key, {target: given[target] for target in ours if target in given})
        return mapping

    def _missing_required(self):
        required = REQUIRED[self.file]
        given = set(self.columns) | set(self.constants)
        if self.full_name:
            given |= {"First Name", "Last Name"}
        missing = [column for column in required if column not in given]
        if not missing:
            return []
        return [
            f"The template gives no {and_join(missing)}: a {self.file} file needs "
            f"{and_join(required)}, each from a source column or a constant."
        ]

    def as_dict(self):
        """The JSON form of SPEC §4.5, keys in its order."""
        return {
            "name": self.name,
            "file": self.file,
            "columns": dict(self.columns),
            "constants": dict(self.constants),
            "values": {target: dict(table) for target, table in self.values.items() if table},
            "blank_values": list(self.blank_values),
            "full_name": self.full_name,
            "account_lookup": self.account_lookup,
            "repeated_rows": self.repeated_rows,
            "encoding": self.encoding,
        }

    def to_json(self):
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"

    def source_headers(self):
        """The file's headers the mapping reads, in the order of our columns."""
        named = list(self.columns.values())
        if self.full_name:
            named.append(self.full_name)
        return list(dict.fromkeys(named))

    def missing_headers(self, headers):
        """The source headers the mapping names that `headers` (a file's) lacks."""
        have = {header_key(name) for name in source_names(headers)}
        return [name for name in self.source_headers() if header_key(name) not in have]

    def check_fits(self, headers):
        """MappingProblem (code "mapping_does_not_fit") when the file lacks a source header."""
        missing = self.missing_headers(headers)
        if missing:
            which = f"the template “{self.name}”" if self.name else "the mapping"
            raise MappingProblem(
                f"This file has no {and_join(f'“{name}”' for name in missing)} "
                f"column{'s' if len(missing) > 1 else ''}, which {which} reads. Its header has: "
                f"{', '.join(source_names(headers)) or 'nothing'}. Map the file again, or upload "
                "the file the template was made for.",
                code="mapping_does_not_fit",
            )

    def blank_keys(self):
        """The values read as blank, as a cell is compared with them (ignoring letter case)."""
        return {value.strip().casefold() for value in self.blank_values}

    def value_map(self, target):
        """How a value of `target`'s column becomes ours: by `values`, matched as written, or
        else ignoring letter case and surrounding spaces; a value it does not name stays as it
        is. None when the template maps no value of that column."""
        values = self.values.get(target)
        if not values:
            return None
        folded = {key.strip().casefold(): value for key, value in values.items()}
        return lambda value: values.get(value, folded.get(value.casefold(), value))

    def named_as_in(self, headers):
        """The mapping with each source header spelt as `headers` (a file's) spell it: headers
        match ignoring case and spaces, and a form offers the file's own spelling."""
        spelling = {header_key(name): name for name in source_names(headers) if name}

        def spelt(name):
            return spelling.get(header_key(name), name) if name else name

        return replace(
            self,
            columns={target: spelt(source) for target, source in self.columns.items()},
            full_name=spelt(self.full_name),
        )

    def unused_headers(self, headers):
        """The file's headers the mapping leaves unused, each once."""
        used = {header_key(name) for name in self.source_headers()}
        return [
            name for name in dict.fromkeys(source_names(headers)) if header_key(name) not in used
        ]

    # Applying

    def apply(self, table, *, reopen=None):
        """The Table of the standard file this mapping makes of `table` (read lazily, row by
        row). `reopen` makes a fresh Table of the same file: "last" of repeated_rows reads the
        file once first to know each row's last line. Raises MappingProblem when the file
        lacks a source header."""
        self.check_fits(table.headers)
        ours = [
            target
            for target in targets(self.file)
            if target in self.columns
            or target in self.constants
            or (self.full_name and target in ("First Name", "Last Name"))
        ]
        convert = _RowConverter(self, table.headers, ours)
        keep_lines = None
        if self.repeated_rows == "last":
            if reopen is None:
                raise ValueError("Keeping the last of repeated rows needs the file read twice")
            keep_lines = convert.last_lines(reopen().rows)
            # That reading moved the file's position, which `table` reads on from: the rows
            # are read again from the start.
            table = reopen()
        warnings = list(table.warnings)
        unused = self.unused_headers(table.headers)
        if unused:
            warnings.append(
                "Not imported (the mapping leaves them unused): "
                f"{', '.join(f'“{name}”' for name in unused)}."
            )
        mapped = replace(
            table,
            headers=ours,
            rows=convert.rows(table.rows, keep_lines, warnings),
            warnings=warnings,
        )
        mapped.source_headers = list(table.headers)
        return mapped


def _text(value, key, problems):
    if not isinstance(value, str):
        problems.append(f"“{key}” must be a text.")
        return ""
    return value.strip()


def _text_dict(value, key, problems):
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        problems.append(f'“{key}” must be an object of texts, such as {{"Email": "E-mail"}}.')
        return {}
    return {k.strip(): v for k, v in value.items()}


class _RowConverter:
    """One mapping's work on each row of one file, worked out once for the file."""

    def __init__(self, mapping, headers, ours):
        self.mapping = mapping
        index = {header_key(name): at for at, name in enumerate(source_names(headers))}
        self.blank = mapping.blank_keys()
        self.ours = ours
        # Per column of ours: (index in the file's row or None, constant, value map).
        self.plan = []
        for target in ours:
            source = mapping.columns.get(target)
            self.plan.append(
                (
                    index[header_key(source)] if source is not None else None,
                    mapping.constants.get(target, ""),
                    mapping.value_map(target),
                )
            )
        self.full_name_at = index[header_key(mapping.full_name)] if mapping.full_name else None
        self.at = {target: at for at, target in enumerate(ours)}
        self.by_name = mapping.file == "users" and mapping.account_lookup == "Account Name"

    def cell(self, values, at):
        value = values[at] if at < len(values) else ""
        value = value.strip() if value else ""
        return "" if value.casefold() in self.blank else value

    def convert(self, line, values):
        cells, errors = [], {}
        for at, constant, value_map in self.plan:
            if at is None:
                cells.append(constant)
                continue
            value = self.cell(values, at)
            if value_map is not None and value:
                value = value_map(value)
            cells.append(value)
        if self.full_name_at is not None:
            first, last, problem = split_full_name(self.cell(values, self.full_name_at))
            cells[self.at["First Name"]], cells[self.at["Last Name"]] = first, last
            if problem:
                # One message for the two columns: Last Name is taken as reported too, so the
                # rules do not add that it is missing.
                errors["First Name"], errors["Last Name"] = [problem], []
        return MappedRow(cells, values, errors)

    def key(self, row):
        """What makes two rows the same for repeated_rows: Email and account (users), Account
        ID (accounts)."""
        if self.mapping.file == "users":
            email = row[self.at["Email"]] if "Email" in self.at else ""
            return (email.casefold(), row[self.at["Account ID"]])
        return (row[self.at["Account ID"]],)

    def last_lines(self, rows):
        last = {}
        for line, values in rows:
            last[self.key(self.convert(line, values))] = line
        return set(last.values())

    def rows(self, rows, keep_lines, warnings):
        """The mapped rows; repeated rows left out as the mapping says, with one warning."""
        left_out, seen = LineTally(), set()
        converted = ((line, self.convert(line, values)) for line, values in rows)
        row_number = 0
        for batch in itertools.batched(converted, NAME_BATCH):
            if self.by_name:
                self.resolve_account_names([row for _, row in batch])
            for line, row in batch:
                row_number += 1
                if self.mapping.repeated_rows != "refuse":
                    key = self.key(row)
                    if keep_lines is not None:
                        drop = line not in keep_lines
                    else:
                        drop = key in seen
                        seen.add(key)
                    if drop and all(key):
                        left_out.add(line, row_number)
                        continue
                yield line, row
        if left_out.count:
            which = "first" if self.mapping.repeated_rows == "first" else "last"
            same = "Email and account" if self.mapping.file == "users" else "Account ID"
            many = left_out.count > 1
            warnings.append(
                f"{left_out.count:,} row{'s' if many else ''} repeat{'' if many else 's'} the "
                f"{same} of another row and {'were' if many else 'was'} left out (the template "
                f"keeps the {which}): {left_out.text()}."
            )

    def resolve_account_names(self, rows):
        """The Account ID cell of each row holds an account's name: its Account ID instead,
        or an error when no account or several have that exact name."""
        from accounts.models import Account

        at = self.at["Account ID"]
        names = {row[at] for row in rows if row[at]}
        found = {}
        for name, external_id, type_name in Account.objects.filter(name__in=names).values_list(
            "name", "external_id", "account_type__name"
        ):
            found.setdefault(name, []).append((external_id, type_name))
        for row in rows:
            name = row[at]
            if not name:
                continue
            accounts = found.get(name, [])
            if len(accounts) == 1:
                row[at] = accounts[0][0]
                continue
            row[at] = ""
            if not accounts:
                message = f"No account is named “{name}” (names must match exactly)."
            else:
                named = and_join(f"{external_id} ({kind})" for external_id, kind in accounts)
                message = (
                    f"“{name}” is the name of {len(accounts)} accounts: {named}. Give the "
                    "Account ID instead."
                )
            row.errors.setdefault("Account ID", []).append(message)


def split_full_name(value):
    """(first, last, problem) of a full name, by nameparser: "Dr. Ada K. Lovelace" is Ada K.
    and Lovelace, "Lovelace, Ada" is Ada and Lovelace. A name of one word is a problem, never
    a guess."""
    if not value:
        return "", "", None
    from nameparser import HumanName

    name = HumanName(value)
    first = " ".join(part for part in (name.first, name.middle) if part)
    last = " ".join(part for part in (name.last, name.suffix) if part)
    if not first or not last:
        return (
            "",
            "",
            f"The full name “{value}” is one word: it cannot be split into First Name and Last "
            "Name. Give both in the file.",
        )
    return first, last, None


def mapped_sample(mapping, analysis):
    """The analysed file's first rows as this mapping makes them: (our columns, rows), each row
    a list of (value, problem) pairs."""
    table = Table(
        headers=analysis.get("headers", []),
        rows=iter(enumerate(analysis.get("sample_rows", []), 2)),
        file_format="sample",
    )
    try:
        mapped = replace(mapping, repeated_rows="refuse").apply(table)
    except MappingProblem:
        return [], []
    rows = []
    for _line, row in mapped.rows:
        problems = {column: " ".join(messages) for column, messages in row.errors.items()}
        rows.append(
            [
                (value, problems.get(column, ""))
                for column, value in zip(mapped.headers, row, strict=True)
            ]
        )
    return mapped.headers, rows


def mapping_outlook(mapping, analysis, choices_of):
    """Per column of ours, what the mapping gives it over the whole file, from the file's
    analysis: {column: {"filled": rows with a value, "refused": [(value, rows), …]}}. A value
    is refused when it is none of ours (for the columns with a fixed set, `choices_of(column)`).
    """
    columns = {column["name"]: column for column in analysis.get("columns", [])}
    total = analysis.get("row_count", 0)
    blank = mapping.blank_keys()
    outlook = {}
    for target in targets(mapping.file):
        if target in mapping.constants:
            outlook[target] = {"filled": total if mapping.constants[target] else 0, "refused": []}
            continue
        source = mapping.columns.get(target)
        column = columns.get(source) if source else None
        if column is None:
            continue
        value_map = mapping.value_map(target) or (lambda value: value)
        ours = choices_of(target) if target in VALUE_COLUMNS[mapping.file] else None
        filled, refused = column["filled"], []
        for value, count in column["values"]:
            if value.casefold() in blank:
                filled -= count
                continue
            mapped = value_map(value)
            if not mapped:
                filled -= count
            elif ours is not None and mapped not in ours:
                refused.append((value, count))
        outlook[target] = {"filled": max(filled, 0), "refused": refused}
    return outlook
