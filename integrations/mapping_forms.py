"""The forms of mapping a foreign file (SPEC §4.5): the mapping page's, and a template's edit and
JSON import."""

import hashlib
import json

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Account

from .detect import guess_value
from .files import COMMON_ENCODINGS
from .mapping import REPEATED_ROWS, TARGETS, VALUE_COLUMNS, Mapping, MappingProblem

# The encodings a person may choose to read a file in (the file reader detects one first).
ENCODING_CHOICES = COMMON_ENCODINGS


class MappingForm(forms.Form):
    """Map a foreign file's columns to ours (SPEC §4.5), on the mapping page.

    For each of our columns: a column of the file, the same value for every row (CONSTANT),
    or nothing; for the columns whose values come from a fixed set, each distinct value of the
    chosen column mapped to one of ours. The fields are built from the file's analysis
    (integrations.services.analyse_file) and a first `mapping` (the job's, a template's or the
    auto-detection's proposal); `cleaned_data["mapping"]` is the Mapping made of the answers.
    """

    CONSTANT = "="

    def __init__(self, *args, file_kind, analysis, mapping, choices_of, **kwargs):
        super().__init__(*args, **kwargs)
        self.file_kind = file_kind
        self.analysis = analysis
        self.headers = analysis.get("headers", [])
        self.targets = TARGETS[file_kind]
        self.choices_of = choices_of  # value column → our values, for the value maps
        header_choices = [(name, _with_samples(name, analysis)) for name in self.headers]
        for target in self.targets:
            slug = _slug(target)
            source = mapping.columns.get(target, "")
            constant = mapping.constants.get(target)
            self.fields[f"source_{slug}"] = forms.ChoiceField(
                label=target,
                required=False,
                choices=[
                    ("", "— Not in this file —"),
                    (self.CONSTANT, "The same value for every row"),
                    (f"Columns of {analysis.get('file_name', 'the file')}", header_choices),
                ],
                initial=self.CONSTANT if constant is not None else source,
            )
            self.fields[f"constant_{slug}"] = forms.CharField(
                label=f"{target} for every row",
                required=False,
                max_length=200,
                initial=constant or "",
            )
        if file_kind == "users":
            self.fields["full_name"] = forms.ChoiceField(
                label="Split a full-name column into First Name and Last Name",
                required=False,
                choices=[("", "— No —"), *header_choices],
                initial=mapping.full_name or "",
                help_text="When the file has one column for the whole name. A name of one word "
                "is reported on its row, never guessed.",
            )
            self.fields["account_lookup"] = forms.ChoiceField(
                label="The account column holds",
                choices=[
                    ("Account ID", "Account IDs"),
                    ("Account Name", "Account names (matched exactly)"),
                ],
                initial=mapping.account_lookup,
                widget=forms.RadioSelect,
            )
        self.fields["repeated_rows"] = forms.ChoiceField(
            label="When the same "
            + ("Email and account come" if file_kind == "users" else "Account ID comes")
            + " on several rows",
            choices=list(REPEATED_ROWS.items()),
            initial=mapping.repeated_rows,
            widget=forms.RadioSelect,
        )
        self.fields["blank_values"] = forms.CharField(
            label="Values that mean “empty”",
            required=False,
            initial=", ".join(mapping.blank_values),
            help_text="Separated by commas; matched ignoring letter case.",
        )
        self.fields["encoding"] = forms.ChoiceField(
            label="Read the file as",
            required=False,
            choices=[("", "Detect the encoding"), *ENCODING_CHOICES],
            initial=mapping.encoding or "",
        )
        self.fields["save_as"] = forms.CharField(
            label="Save this mapping as a template named",
            required=False,
            max_length=100,
            initial=mapping.name,
            help_text="Optional. The next file with this header then goes straight to its "
            "preview, from this page, the command line and the admin.",
        )
        self.fields["replace"] = forms.BooleanField(
            label="Replace the template of that name if there is one", required=False
        )
        self.value_maps = []
        for target in VALUE_COLUMNS[file_kind]:
            column = self._chosen_column(target)
            if column is None:
                continue
            ours = self.choices_of(target)
            rows = []
            for value, count in column["values"]:
                name = value_field_name(target, column["name"], value)
                mapped = mapping.values.get(target, {}).get(value)
                if mapped is None:
                    mapped = value if value in ours else guess_value(target, value, ours)
                self.fields[name] = forms.ChoiceField(
                    label=f"{target}: {value}",
                    required=False,
                    choices=[("", "— Leave as it is —"), *((v, v) for v in ours)],
                    initial=mapped,
                )
                rows.append((value, count, self[name]))
            self.value_maps.append(
                {"target": target, "source": column["name"], "rows": rows, "many": column["many"]}
            )
        if self.is_bound:
            # The values of a column chosen just now were not on the page the answers came
            # from: they start as proposed, as on a first visit.
            missing = [
                bound
                for value_map in self.value_maps
                for _value, _count, bound in value_map["rows"]
                if bound.html_name not in self.data
            ]
            if missing:
                self.data = self.data.copy()
                for bound in missing:
                    self.data[bound.html_name] = bound.field.initial

    def _chosen(self, name):
        field = self.fields[name]
        if self.is_bound:
            return field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
        return field.initial

    def _chosen_column(self, target):
        source = self._chosen(f"source_{_slug(target)}")
        return next((c for c in self.analysis.get("columns", []) if c["name"] == source), None)

    def rows(self):
        """Per column of ours: (target, source field, constant field)."""
        return [
            (target, self[f"source_{_slug(target)}"], self[f"constant_{_slug(target)}"])
            for target in self.targets
        ]

    def clean(self):
        data = super().clean()
        columns, constants, values = {}, {}, {}
        for target in self.targets:
            slug = _slug(target)
            source = data.get(f"source_{slug}")
            if source == self.CONSTANT:
                constants[target] = data.get(f"constant_{slug}", "").strip()
            elif source:
                columns[target] = source
        account = constants.get("Account ID")
        by_name = data.get("account_lookup") == "Account Name"
        if (
            account
            and not Account.objects.filter(
                **{"name" if by_name else "external_id": account}
            ).exists()
        ):
            self.add_error(
                "constant_account_id",
                f"No account is named “{account}”."
                if by_name
                else f"No account has the Account ID “{account}”.",
            )
        for value_map in self.value_maps:
            table = {}
            for value, _count, bound in value_map["rows"]:
                ours = data.get(bound.name, "")
                if ours and ours != value:
                    table[value] = ours
            if value_map["target"] in columns and table:
                values[value_map["target"]] = table
        try:
            mapping = Mapping.from_dict(
                {
                    "name": data.get("save_as", "").strip(),
                    "file": self.file_kind,
                    "columns": columns,
                    "constants": constants,
                    "values": values,
                    "blank_values": [
                        value.strip()
                        for value in data.get("blank_values", "").split(",")
                        if value.strip()
                    ],
                    "full_name": data.get("full_name") or None,
                    "account_lookup": data.get("account_lookup") or "Account ID",
                    "repeated_rows": data.get("repeated_rows") or "refuse",
                    "encoding": data.get("encoding") or None,
                }
            )
            mapping.check_fits(self.headers)
        except MappingProblem as problem:
            raise ValidationError(problem.message, code=problem.code) from problem
        data["mapping"] = mapping
        return data


class TemplateUploadForm(forms.Form):
    """Import a mapping template from its JSON file (SPEC §4.5)."""

    file = forms.FileField(label="Template file (.json)")
    replace = forms.BooleanField(
        label="Replace the template of the same name if there is one", required=False
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 1 << 20:
            raise ValidationError("A mapping template is a small JSON file; this one is over 1 MB.")
        try:
            self.cleaned_data["mapping"] = Mapping.from_json(upload.read())
        except MappingProblem as problem:
            raise ValidationError(problem.message, code=problem.code) from problem
        if not self.cleaned_data["mapping"].name:
            raise ValidationError(
                "The template has no “name”: give it one in the file.", code="no_name"
            )
        return upload


def _with_samples(name, analysis):
    """A column of the file as the mapping page offers it: its header and a few of its values."""
    column = next((c for c in analysis.get("columns", []) if c["name"] == name), None)
    values = [value for value, _count in (column or {}).get("values", [])[:3]]
    if not values:
        return f"{name} (empty)"
    shown = ", ".join(value if len(value) <= 24 else f"{value[:23]}…" for value in values)
    return f"{name} (e.g. {shown})"


def value_field_name(target, source, value):
    """The field of one value of a column in a value map. It names the column and the value
    (by a digest: values are any text), so that an answer given for one column's value is
    never read as the answer for another column chosen since."""
    digest = hashlib.blake2s(f"{source}\0{value}".encode(), digest_size=6).hexdigest()
    return f"value_{_slug(target)}_{digest}"


def _slug(target):
    return target.lower().replace(" ", "_")


class TemplateEditForm(forms.Form):
    """Edit a saved template: its name, and its rules as the JSON form of SPEC §4.5 (the same
    text its download holds, so that a change reviewed in version control can be pasted in)."""

    name = forms.CharField(label="Name", max_length=100)
    definition = forms.CharField(
        label="Rules (JSON)",
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "template-json"}),
        help_text="Keys: columns, constants, values, blank_values, full_name, account_lookup, "
        "repeated_rows, encoding (SPEC §4.5). The name and the kind of file are kept as above.",
    )

    def __init__(self, *args, template, **kwargs):
        super().__init__(*args, **kwargs)
        self.template = template
        self.fields["name"].initial = template.name
        definition = {
            key: value
            for key, value in template.as_dict_for_editing().items()
            if key not in ("name", "file")
        }
        self.fields["definition"].initial = json.dumps(definition, indent=2, ensure_ascii=False)

    def clean(self):
        data = super().clean()
        if "definition" not in data:
            return data
        try:
            rules = json.loads(data["definition"])
        except json.JSONDecodeError as error:
            self.add_error(
                "definition",
                f"This is not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}.",
            )
            return data
        if not isinstance(rules, dict):
            self.add_error("definition", "The rules must be a JSON object ({…}).")
            return data
        rules = {key: value for key, value in rules.items() if key not in ("name", "file")}
        try:
            data["mapping"] = Mapping.from_dict(
                {**rules, "name": data.get("name", ""), "file": self.template.file_kind}
            )
        except MappingProblem as problem:
            self.add_error("definition", problem.message)
        return data
