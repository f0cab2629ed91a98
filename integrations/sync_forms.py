"""Past 400 lines as one thing: the forms of an integration job (SPEC §4.6), its page's and the
admin's, and the rules they share.

The page has one form to add and to edit a job.

Every field is on the page whatever the direction and kind of place; the ones that do not apply
hide by CSS (static/css/integrations.css, `:has()` on the direction and the kind chosen), so the
form works without JavaScript and keeps what was typed when the kind changes. What does not
apply is dropped on save: an outbound job writes the users file, with no mapping template.

Secrets (passwords, keys, tokens) are write-only fields, and exist only for staff users who may
set them (CAN_SET_INTEGRATION_SECRETS): always drawn empty, blank keeps the saved one, "clear"
removes it. A staff user who may not set them cannot send them somewhere else either: changing
where they go (the kind, the server, the S3 endpoint, the SFTP host key) removes them.
"""

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from config.staff import CAN_SET_INTEGRATION_SECRETS
from contacts.models import Segment

from . import places, schedules, syncs
from .models import ImportJob, IntegrationJob, MappingTemplate
from .secrets import SecretUnreadable

Place = IntegrationJob.Place

CUSTOM = "custom"
BY_HAND = ""

# The secrets' fields: (name in IntegrationJob.SECRET_NAMES, label, textarea).
SECRETS = [
    ("password", "Password", False),
    ("private_key", "Private key", True),
    ("passphrase", "Passphrase of the private key", False),
    ("access_key_id", "Access key ID", False),
    ("secret_access_key", "Secret access key", False),
    ("token", "Bearer token", False),
]

# Not secret settings of a place, kept in IntegrationJob.options: (name, kind of place).
OPTIONS = {"endpoint_url": Place.S3, "region": Place.S3, "host_key": Place.SFTP}
QUERY_KIND = Place.POSTGRES


def kinds_of(secret_name):
    """The kinds of place that use a secret of this name."""
    return [kind for kind, names in IntegrationJob.SECRET_NAMES.items() if secret_name in names]


class WriteOnlyTextarea(forms.Textarea):
    """A textarea never filled with its value: a private key, once typed, is not sent back."""

    def format_value(self, value):
        return None


class SecretField(forms.CharField):
    """A write-only secret, drawn with whether one is saved (never what it is)."""

    def __init__(self, *, is_set, kinds, textarea=False, **kwargs):
        widget = (
            WriteOnlyTextarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"})
            if textarea
            else forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        )
        help_text = (
            "Leave blank to keep the saved one; what you type replaces it."
            if is_set
            else "Type it to set it."
        )
        super().__init__(
            required=False,
            strip=False,
            widget=widget,
            help_text=help_text,
            template_name="integrations/includes/sync_secret_field.html",
            **kwargs,
        )
        self.is_set = is_set
        self.kinds = kinds


# An integration job's own fields, in the order its forms show them (secrets and the place's
# settings are drawn by each form its own way).
JOB_FIELDS = [
    "name",
    "direction",
    "place",
    "location",
    "file_kind",
    "mapping_template",
    "export",
    "segment",
    "skip_errors",
    "re_add_removed",
    "move_processed",
    "schedule",
    "enabled",
]


class JobRules:
    """The rules of an integration job that every form of one applies: its page's and the
    admin's. `clean_job` sets `self.options`, the place's settings to save."""

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("Give the job a name.", code="required")
        others = IntegrationJob.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(
                "An integration job of this name exists already.", code="name_taken"
            )
        return name

    def clean_location(self):
        location = self.cleaned_data["location"].strip()
        if urlsplit(location).password is not None:
            # Never drawn again: the field comes back without it.
            self.data = self.data.copy()
            self.data["location"] = _without_password(location)
            raise ValidationError(
                "Put the password in the Password field, not in the address: an address is "
                "shown on pages and in the history.",
                code="password_in_location",
            )
        return location

    def clean_job(self, data, options):
        direction, kind = data.get("direction"), data.get("place")
        if direction == IntegrationJob.Direction.OUTBOUND:
            # What an outbound job writes is the users file, and none of the import's options
            # apply (its page hides them).
            data.update(
                file_kind=ImportJob.Kind.USERS,
                mapping_template=None,
                skip_errors=False,
                re_add_removed=False,
                move_processed=False,
            )
        elif direction:
            data.update(export=IntegrationJob.Export.ALL)
        if data.get("export") != IntegrationJob.Export.SEGMENT:
            data["segment"] = None
        elif not data.get("segment") and not self.has_error("segment"):
            self.add_error(
                "segment", ValidationError("Choose the segment to export.", code="required")
            )
        elif data.get("segment"):
            try:
                # As an outbound run reads it: one whose filters no longer apply is refused.
                data["segment"].memberships_to_export()
            except ValidationError as error:
                self.add_error("segment", error)
        template = data.get("mapping_template")
        if template and data.get("file_kind") and template.file_kind != data["file_kind"]:
            self.add_error(
                "mapping_template",
                ValidationError(
                    "The mapping template “%(template)s” reads a %(its)s, and this job takes a "
                    "%(ours)s: choose one made for a %(ours)s.",
                    code="template_kind",
                    params={
                        "template": template,
                        "its": template.get_file_kind_display().lower(),
                        "ours": ImportJob.Kind(data["file_kind"]).label.lower(),
                    },
                ),
            )
        self.options = {name: value for name, value in options.items() if value}
        if kind and direction:
            self._clean_place(data, kind, direction)

    def _clean_place(self, data, kind, direction):
        if kind == Place.SFTP and not self.options.get("host_key"):
            self._refuse(
                "host_key",
                ValidationError(
                    "An SFTP job connects only to a server whose key it knows: paste the "
                    "server's host key (a line of known_hosts, or ssh-keyscan's output).",
                    code="required",
                ),
            )
        if kind == QUERY_KIND and not self.options.get("query"):
            self._refuse(
                "query",
                ValidationError("Write the SELECT whose rows are the file.", code="required"),
            )
        if self.has_error("location") or not data.get("location"):
            return
        try:
            places.validate_location(
                kind=kind, location=data["location"], direction=direction, options=self.options
            )
        except ValidationError as error:
            for refusal in error.error_list:
                self._refuse(_field_of(refusal, kind), refusal)

    def _refuse(self, field, error):
        """The error on its field, or on the options where the form has no such field (the
        admin's); one error a field."""
        field = field if field in self.fields else "options"
        if not self.has_error(field):
            self.add_error(field, error)


class IntegrationJobForm(JobRules, forms.ModelForm):
    required_css_class = "required"

    schedule_preset = forms.ChoiceField(
        label="How often",
        required=False,
        choices=[
            (BY_HAND, "Only when run by hand"),
            *schedules.PRESETS,
            (CUSTOM, "Custom: a cron expression"),
        ],
    )
    endpoint_url = forms.URLField(
        label="Endpoint URL",
        required=False,
        assume_scheme="https",
        help_text="For storage other than Amazon S3 (MinIO, Ceph, a cloud's S3 service). Blank: "
        "Amazon S3.",
    )
    region = forms.CharField(
        label="Region", required=False, max_length=50, help_text="For example eu-west-3."
    )
    host_key = forms.CharField(
        label="Host key",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="The server's public key, as a line of known_hosts (“ssh-ed25519 AAAA…”): the "
        "job connects only to the server that presents it.",
    )
    query = forms.CharField(
        label="Query",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="One SELECT (or WITH … SELECT); its columns are the file's columns. It runs "
        "read-only, stopped after %(timeout)s seconds.",
    )

    class Meta:
        model = IntegrationJob
        fields = JOB_FIELDS
        labels = {"schedule": "Cron expression", "segment": "Segment", "enabled": "Enabled"}
        help_texts = {
            "schedule": "Minute, hour, day, month, weekday, in %(zone)s: “30 5 * * 1-5” is "
            "weekdays at 05:30.",
            "enabled": "Off: the schedule does not start it; Run now still does.",
        }
        widgets = {
            "direction": forms.RadioSelect,
            "location": forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
            "schedule": forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
        }

    def __init__(self, *args, staff_user, **kwargs):
        super().__init__(*args, **kwargs)
        job = self.instance
        self.staff_user = staff_user
        self.can_set_secrets = staff_user.has_perm(CAN_SET_INTEGRATION_SECRETS)
        fields = self.fields
        fields["name"].widget.attrs["autocomplete"] = "off"
        fields["direction"].choices = IntegrationJob.Direction.choices
        fields["file_kind"].choices = ImportJob.Kind.choices
        fields["export"].choices = IntegrationJob.Export.choices
        fields["location"].help_text = _location_help()
        fields["query"].help_text = fields["query"].help_text % {
            "timeout": settings.SYNC_QUERY_TIMEOUT
        }
        fields["schedule"].help_text = fields["schedule"].help_text % {"zone": settings.TIME_ZONE}
        template = fields["mapping_template"]
        template.queryset = MappingTemplate.objects.order_by("name")
        template.empty_label = "None: a standard file"
        template.help_text = (
            "How another system's file is read. None: a standard file, or the template saved "
            "for its header."
        )
        fields["file_kind"].help_text = "What the files at its place hold."
        segments = Segment.objects.visible_to(staff_user)
        if job.segment_id:
            # Another staff user's unshared segment stays the job's until changed.
            segments = segments | Segment.objects.filter(pk=job.segment_id)
        fields["segment"].queryset = segments.distinct().order_by("name", "pk")
        fields["segment"].empty_label = "Choose a segment"
        fields["segment"].help_text = "Its filters as they are when the job runs."
        for name in [*OPTIONS, "query"]:
            self.initial.setdefault(name, job.options.get(name, ""))
        expression = job.schedule
        self.initial.setdefault(
            "schedule_preset",
            expression if expression in dict(schedules.PRESETS) or not expression else CUSTOM,
        )
        if not job.pk:
            self.initial["direction"] = self.initial.get("direction") or "in"
            self.initial["place"] = self.initial.get("place") or Place.FOLDER
        self.secrets_set, self.secrets_unreadable = job.saved_secrets()
        if self.can_set_secrets:
            for name, label, textarea in SECRETS:
                fields[f"secret_{name}"] = SecretField(
                    label=label,
                    is_set=name in self.secrets_set,
                    kinds=kinds_of(name),
                    textarea=textarea,
                )
                if name in self.secrets_set:
                    fields[f"clear_{name}"] = forms.BooleanField(
                        label=f"Remove the saved {label.lower()}", required=False
                    )

    # What a page needs to draw it

    def secret_labels(self):
        """The labels of the saved secrets (their names only)."""
        return [label for name, label, _ in SECRETS if name in self.secrets_set]

    def secret_fields(self):
        """(bound secret field, bound clear checkbox or None, kinds) for the template."""
        return [
            (
                self[f"secret_{name}"],
                self[f"clear_{name}"] if f"clear_{name}" in self.fields else None,
                " ".join(f"for-{kind}" for kind in kinds_of(name)),
            )
            for name, _, _ in SECRETS
            if f"secret_{name}" in self.fields
        ]

    # Checks

    def clean_host_key(self):
        return " ".join(self.cleaned_data["host_key"].split())

    def clean_query(self):
        return self.cleaned_data["query"].strip()

    def clean_schedule(self):
        # The preset decides (clean); the field is read only for a custom expression.
        return " ".join(self.cleaned_data["schedule"].split())

    def clean(self):
        data = super().clean()
        self._clean_schedule(data)
        kind = data.get("place")
        options = {name: data.get(name, "") for name, of in OPTIONS.items() if of == kind}
        if kind == QUERY_KIND:
            options["query"] = data.get("query", "")
        self.clean_job(data, options)
        return data

    def _clean_schedule(self, data):
        preset = data.get("schedule_preset", BY_HAND)
        if preset == CUSTOM:
            if not data.get("schedule"):
                self.add_error(
                    "schedule",
                    ValidationError(
                        "Write a cron expression, or choose how often above.", code="required"
                    ),
                )
                return
            try:
                data["schedule"] = schedules.validate(data["schedule"])
            except ValidationError as error:
                self.add_error("schedule", error)
        else:
            data["schedule"] = preset

    # Saving

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            self.instance.options = self.options
            self._save_secrets()

    def _save_secrets(self):
        """Keep, replace or remove the saved secrets, in memory (saved with the job)."""
        job, data = self.instance, self.cleaned_data
        kind = data["place"]
        names = IntegrationJob.SECRET_NAMES[Place(kind)]
        if self.can_set_secrets:
            try:
                saved = job.secrets() if job.encrypted_secrets else {}
            except SecretUnreadable:
                saved = {}
            values = {}
            for name in names:
                typed = data.get(f"secret_{name}", "")
                if typed.strip():
                    values[name] = (
                        typed.replace("\r\n", "\n").strip() + "\n"
                        if name == "private_key"
                        else typed.strip()
                    )
                elif not data.get(f"clear_{name}") and name in saved:
                    values[name] = saved[name]
            job.set_secrets(values)
            return
        if job.encrypted_secrets and self.moves_secrets():
            job.set_secrets({})
            self.secrets_removed = True

    secrets_removed = False

    def moves_secrets(self):
        """Whether the saved secrets would go elsewhere than where a Global admin set them."""
        if not self.instance.pk:
            return False
        before = IntegrationJob.objects.get(pk=self.instance.pk)
        return _destination(before.place, before.location, before.options) != _destination(
            self.cleaned_data["place"], self.cleaned_data["location"], self.options
        )

    def save(self, commit=True):
        job = super().save(commit=False)
        syncs.plan(job)
        if not job.pk:
            job.created_by = self.staff_user
        if commit:
            job.save()
        return job


def schedule_words(preset, expression):
    """(words, next time or None, error or "") for the live preview under the schedule."""
    preset = preset or BY_HAND
    if preset == BY_HAND:
        return "Only when run by hand: no schedule.", None, ""
    if preset != CUSTOM and preset not in dict(schedules.PRESETS):
        return "", None, "Choose how often from the list."
    expression = preset if preset != CUSTOM else " ".join((expression or "").split())
    if not expression:
        return "", None, "Write a cron expression, or choose how often above."
    try:
        expression = schedules.validate(expression)
    except ValidationError as error:
        return "", None, " ".join(error.messages)
    return schedules.describe(expression), schedules.next_time(expression, after=timezone.now()), ""


def _destination(kind, location, options):
    """Where a job's secrets are sent: the kind, the server (scheme, user, host, port), the
    S3 endpoint and the SFTP host key. The path, pattern, bucket (the keys are the same
    account's wherever it writes) or query may change freely."""
    if kind == Place.S3:
        return (kind, (options or {}).get("endpoint_url", ""))
    parts = urlsplit(location.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    return (
        kind,
        parts.scheme.lower(),
        parts.username,
        (parts.hostname or "").lower(),
        port,
        (options or {}).get("host_key", "") if kind == Place.SFTP else "",
    )


def _without_password(location):
    parts = urlsplit(location)
    netloc = parts.netloc.rpartition("@")[2]
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return parts._replace(netloc=netloc).geturl()


# Which field a refusal of places.validate_location is about, by its code; others: the location.
FIELD_OF_CODE = {
    "inbound_only": "place",
    "bad_kind": "place",
    "bad_direction": "direction",
    "no_host_key": "host_key",
    "bad_host_key": "host_key",
    "no_query": "query",
    "not_select": "query",
    "several": "query",
    "bad_endpoint": "endpoint_url",
}


def _field_of(error, kind):
    if error.code == "password_in_location" and kind == Place.S3:
        return "endpoint_url"
    return FIELD_OF_CODE.get(error.code, "location")


def _location_help():
    roots = [str(root) for root in settings.SYNC_FOLDER_ROOTS]
    examples = [
        (
            Place.FOLDER,
            format_html(
                "A path with a file-name pattern, under {}: inbound "
                "<code>{}/in/users-*.csv</code>; outbound a folder, or a name with "
                "<code>{{date}}</code>: "
                "<code>{}/out/users-{{date}}.csv</code>.",
                " or ".join(roots) or "the folders SYNC_FOLDER_ROOTS allows",
                roots[0] if roots else "/srv/sync",
                roots[0] if roots else "/srv/sync",
            ),
        ),
        (
            Place.SFTP,
            mark_safe(
                "<code>sftp://user@host:22/drop/users-*.csv</code> (outbound: a folder, or a "
                "name with <code>{date}</code>)."
            ),
        ),
        (
            Place.S3,
            mark_safe(
                "<code>s3://bucket/prefix/users-*.csv</code> (outbound: a prefix, or a name "
                "with <code>{date}</code>)."
            ),
        ),
        (
            Place.HTTPS,
            mark_safe("<code>https://crm.example.com/exports/users.csv</code>: one file."),
        ),
        (
            Place.POSTGRES,
            mark_safe(
                "<code>postgres://reader@db.example.com:5432/crm</code>, without the password "
                "(it has its own field)."
            ),
        ),
    ]
    return format_html_join(" ", '<span class="by-place place-hint for-{}">{}</span>', examples)


class IntegrationJobAdminForm(JobRules, forms.ModelForm):
    """The admin's form: the page's rules, the place's settings as their JSON object, and no
    secrets (a job's page sets them)."""

    class Meta:
        model = IntegrationJob
        # The place's settings as their JSON object, after where the place is.
        fields = [*JOB_FIELDS[:4], "options", *JOB_FIELDS[4:]]
        help_texts = {
            "options": "The place's settings that are not secret: {“endpoint_url”, “region”} "
            "for S3, {“host_key”} for SFTP, {“query”} for PostgreSQL.",
            "schedule": "A cron expression (minute hour day month weekday); blank: only when run "
            "by hand.",
        }

    def clean_schedule(self):
        expression = " ".join(self.cleaned_data["schedule"].split())
        return schedules.validate(expression) if expression else ""

    def clean_options(self):
        options = self.cleaned_data["options"] or {}
        known = {*OPTIONS, "query"}
        if not isinstance(options, dict) or not all(
            key in known and isinstance(value, str) for key, value in options.items()
        ):
            raise ValidationError(
                "The options are a JSON object of texts, with the keys %(keys)s.",
                code="bad_options",
                params={"keys": ", ".join(sorted(known))},
            )
        return options

    def clean(self):
        data = super().clean()
        kind = data.get("place")
        given = data.get("options") or {}
        self.clean_job(
            data,
            {
                name: " ".join(value.split()) if name == "host_key" else value.strip()
                for name, value in given.items()
                if OPTIONS.get(name) == kind or (name == "query" and kind == QUERY_KIND)
            },
        )
        data["options"] = getattr(self, "options", {})
        return data
