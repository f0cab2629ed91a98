"""Past 400 lines as one thing: every model of contacts with its queryset, which the
migrations, the admin and the other apps read as one set (the read machinery is in queries.py,
the writes that cross models in services.py)."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from accounts.models import scope_q
from config.links import id_url
from config.staff import is_global_admin

from .queries import KeyContactsFirst, name_order, person_search_q
from .validators import (
    EmailAddressFormField,
    EmailAddressInput,
    validate_email,
    validate_no_control_characters,
)


class EmailAddressField(models.CharField):
    """An email address under the app's one rule (contacts.validators.validate_email, which
    allows internationalised addresses), in a text box rather than an <input type=email>.

    Not a models.EmailField: its validator is Django's ASCII-only one, and the admin gives
    every EmailField an <input type=email>, which browsers refuse to send with a non-ASCII
    letter before the @."""

    default_validators = [validate_email]
    description = "Email address"

    def __init__(self, *args, **kwargs):
        # 254: the longest address that fits SMTP's path (RFC 5321, RFC 3696 errata).
        kwargs.setdefault("max_length", 254)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        field = super().formfield(**{"form_class": EmailAddressFormField, **kwargs})
        if isinstance(field.widget, forms.TextInput) and not field.widget.is_hidden:
            # The admin brings its own text widget: it gets the email keyboard all the same.
            for name, value in EmailAddressInput().attrs.items():
                field.widget.attrs.setdefault(name, value)
        return field


class PersonQuerySet(models.QuerySet):
    def matching(self, text):
        return self.filter(person_search_q(text))

    def with_email(self, email):
        """The person with this email, compared as the unique constraint does: ignoring case."""
        return self.annotate(email_lower=Lower("email")).filter(email_lower=email.strip().lower())


class Person(models.Model):
    """Someone at a customer that the system knows, whether or not a contact anywhere.

    Not a staff user: staff users sign in to this app; people are who they manage.
    """

    email = EmailAddressField(max_length=254)
    first_name = models.CharField(max_length=100, validators=[validate_no_control_characters])
    last_name = models.CharField(max_length=100, validators=[validate_no_control_characters])
    title = models.CharField(
        max_length=200, blank=True, validators=[validate_no_control_characters]
    )
    phone = models.CharField(max_length=50, blank=True, validators=[validate_no_control_characters])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "people"
        ordering = ["last_name", "first_name", "email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="person_email_unique_ignoring_case",
                violation_error_message="A person with this email already exists.",
            )
        ]
        permissions = [("download_segments", "Can download and save user segments")]
        indexes = [
            # Name order: lists of contacts walk it and stop after a page instead of sorting
            # every match (see KeyContactsFirst).
            models.Index(
                fields=["last_name", "first_name", "email", "id"], name="person_name_order"
            ),
        ]

    def __str__(self):
        return f"{self.full_name} <{self.email}>"

    def get_absolute_url(self):
        return id_url("contacts:person", self.pk)

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()


# Key contacts first, then by name (see MembershipQuerySet.in_list_order).
LIST_ORDER = ["-is_key_contact", *name_order("person__"), "pk"]


class MembershipQuerySet(models.QuerySet):
    def active(self):
        """Memberships of people still at their account (not former)."""
        return self.filter(status=Membership.Status.ACTIVE)

    def former(self):
        return self.filter(status=Membership.Status.FORMER)

    def contacts(self, *, include_former=False):
        """The contacts there now: what every page that says "who is there" reads (the
        widget, its counts, the drawing). `include_former` adds those who left, who keep
        their contact mark as a record; the membership_contacts index serves the first."""
        if include_former:
            return self.filter(is_contact=True)
        return self.filter(is_contact=True, status=Membership.Status.ACTIVE)

    def key_contacts(self):
        return self.filter(is_key_contact=True)

    def in_scope(self, account, scope, *, account_type=None):
        """Memberships at the accounts in a hierarchy view of `account` (SPEC §3.3)."""
        return self.filter(scope_q(account, scope, account_type=account_type, prefix="account__"))

    def in_hierarchy(self, account):
        return self.filter(account__tree_id=account.tree_id)

    def linkable(self, account, *, linked=()):
        """The memberships a task or touchpoint of `account` may link to (SPEC §2): contacts
        in its company hierarchy, and, among the ids in `linked`, those it links already that
        stopped being contacts since: a removed contact stays on the record of what they took
        part in, as does one who left the account since (former). The one rule the app's
        forms, the admin and the services apply."""
        return self.in_hierarchy(account).filter(
            Q(is_contact=True, status=Membership.Status.ACTIVE) | Q(pk__in=linked)
        )

    def matching(self, text):
        """Memberships whose person matches `text` (see person_search_q)."""
        return self.filter(person_search_q(text, prefix="person__"))

    def in_name_order(self):
        return self.order_by(*name_order("person__"), "pk")

    def in_list_order(self):
        """Key contacts first, then by name: how a short list of contacts is shown (a task's
        contacts, a touchpoint's participants, the admin's memberships)."""
        return self.order_by(*LIST_ORDER)

    def in_widget_order(self, *, include_former=False, count=None):
        """Key contacts first, then by last name and first name (SPEC §3.3), as a list that
        pages like a queryset (KeyContactsFirst); a search of the contacts there now, and the
        whole company's, are read from their search table instead (contacts.widget). `count`,
        when the caller knows it already, spares the count query. With the former contacts,
        those still there come first, then the former ones, each key contacts first: one plain
        ordered query (the few former ones of an account are no index walk to save), with or
        without a search."""
        if include_former:
            # "active" sorts before "former".
            return self.order_by("status", "-is_key_contact", *name_order("person__"), "pk")
        return KeyContactsFirst(self, count=count)


class Membership(models.Model):
    """A person at one account, with a role there and the contact and key-contact marks.

    Its status says whether the person is still there: a former member (who moved on) keeps
    their marks and role as a record of what they were; pages that show who is there now read
    active memberships only. Leaving (former) and no longer being a contact (still there) are
    two different things, each recorded in the history."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        FORMER = "former", "Former"

    # No index of its own: the unique (person, account) index serves every lookup by person,
    # and one index less is one less to write for each membership an import adds.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.ForeignKey(
        "accounts.AccountRole",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
    )
    is_contact = models.BooleanField("contact", default=False)
    is_key_contact = models.BooleanField("key contact", default=False)
    # db_default too: rows written by SQL of our own (the benchmark's floor) are active.
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_default=Status.ACTIVE
    )
    start_date = models.DateField(null=True, blank=True, help_text="When they joined the account.")
    end_date = models.DateField(null=True, blank=True, help_text="When they left the account.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        # No default ordering: it would join person to every query of memberships. Pages order
        # them where they show them (in_list_order, in_name_order).
        constraints = [
            models.UniqueConstraint(
                fields=["person", "account"],
                name="membership_unique_per_person_and_account",
                violation_error_message="This person is already a member of this account.",
            ),
            models.CheckConstraint(
                condition=Q(is_key_contact=False) | Q(is_contact=True),
                name="membership_key_contact_is_contact",
                violation_error_message="A key contact must also be a contact.",
            ),
            models.CheckConstraint(
                condition=Q(start_date=None)
                | Q(end_date=None)
                | Q(end_date__gte=models.F("start_date")),
                name="membership_ends_after_it_starts",
                violation_error_message="The end date cannot be before the start date.",
            ),
        ]
        indexes = [
            # The Contacts widget reads contacts by account; covering the columns it filters on
            # (and the id, which a search lists) lets PostgreSQL answer from the index alone.
            # Former members are not "there": the index holds the active contacts only, and
            # "Include former" (rare, one account's few) reads the account index instead.
            models.Index(
                fields=["account"],
                condition=Q(is_contact=True, status="active"),
                include=["person", "role", "is_key_contact", "id"],
                name="membership_contacts",
            ),
            # From a person (walked in name order) to their contact and key-contact memberships.
            models.Index(
                fields=["person", "account"],
                condition=Q(is_contact=True),
                name="membership_contacts_by_person",
            ),
            models.Index(
                fields=["person", "account"],
                condition=Q(is_key_contact=True),
                name="membership_keys_by_person",
            ),
        ]

    def __str__(self):
        return f"{self.person.full_name} at {self.account.name}"

    @property
    def is_former(self):
        return self.status == self.Status.FORMER

    def clean(self):
        super().clean()
        if (
            self.role_id is not None
            and self.account_id is not None
            and self.role.account_type_id != self.account.account_type_id
        ):
            valid = ", ".join(
                self.account.account_type.roles.order_by("name").values_list("name", flat=True)
            )
            raise ValidationError(
                {
                    "role": ValidationError(
                        "“%(role)s” is not a role of %(type)s accounts. Valid roles: %(valid)s.",
                        code="unknown_role",
                        params={
                            "role": self.role.name,
                            "type": self.account.account_type.name,
                            "valid": valid or "none",
                        },
                    )
                }
            )


class ContactSearch(models.Model):
    """One row per contact there now (an active membership marked contact), with what the
    Contacts widget searches and orders by: its person's names and email, its company
    (tree_id), account, role and key-contact mark. Written only by database triggers on
    memberships, people and accounts (migration 0020), never by Django.

    A search for a common name matches tens of thousands of people among millions; joined to
    the contacts of one company, that is most of the widget's time. Here the company is in
    the search's own indexes (tree_id beside each name's trigrams, PostgreSQL's btree_gin),
    so a search reads the few matches of that company alone."""

    membership = models.OneToOneField(
        Membership,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    tree_id = models.PositiveIntegerField()
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    person = models.ForeignKey(
        Person, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    role = models.ForeignKey(
        "accounts.AccountRole",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    is_key_contact = models.BooleanField()
    last_name = models.CharField(max_length=100)
    first_name = models.CharField(max_length=100)
    email = models.CharField(max_length=254)

    class Meta:
        # Its rows follow the triggers; the trigram indexes are migration 0020's (PostgreSQL).
        default_permissions = ()
        indexes = [
            # The widget's order (key contacts first, then by name) within one company: its
            # Entire hierarchy reads a page of ids from here and stops, among 400,000 contacts.
            models.Index(
                fields=[
                    "tree_id",
                    "-is_key_contact",
                    "last_name",
                    "first_name",
                    "email",
                    "membership",
                ],
                name="contact_search_widget_order",
            ),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name} (contact {self.membership_id})"


class ContactChange(models.Model):
    """One change of a membership's contact mark, key-contact mark, role, status or dates, or
    its move to another person (a merge): who, when, how.

    It names the person and the account as well as the membership, and outlives the membership
    (set to null when it is deleted, by an undone import): an account's history still says who
    was added and removed there."""

    class Field(models.TextChoices):
        CONTACT = "contact", "Contact"
        KEY_CONTACT = "key_contact", "Key contact"
        ROLE = "role", "Account role"
        STATUS = "status", "Status"
        START_DATE = "start_date", "Start date"
        END_DATE = "end_date", "End date"
        # The membership moved to another person (merge) or back (unmerge); the values are
        # the people's names and emails.
        PERSON = "person", "Person"

    class Source(models.TextChoices):
        APP = "app", "App"
        IMPORT = "import", "Import"
        ADMIN = "admin", "Admin"
        UNDO = "undo", "Undo"
        MERGE = "merge", "Merge"
        UNMERGE = "unmerge", "Unmerge"

    # No foreign-key constraints in the database (db_constraint=False), Django's on_delete
    # still applies: an import writes a change per new contact, and PostgreSQL checked each of
    # its four keys one row at a time when the import committed (a third of a 100,000-row
    # import's COMMIT, minutes at a million). The writers set them from rows they just wrote.
    membership = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        db_constraint=False,
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="contact_changes", db_constraint=False
    )
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.CASCADE,
        related_name="contact_changes",
        db_constraint=False,
    )
    field = models.CharField(max_length=20, choices=Field.choices)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact_changes",
        db_constraint=False,
    )
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [
            # An account's history (its tab walks the accounts of a View, newest first).
            models.Index(fields=["account", "-changed_at"], name="contact_change_by_account"),
            models.Index(fields=["person", "-changed_at"], name="contact_change_by_person"),
        ]

    def __str__(self):
        return f"{self.get_field_display()}: {self.old_value or '—'} → {self.new_value or '—'}"


class KeyContactAlertQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at=None)


class KeyContactAlert(models.Model):
    """ "Key contact left": a key contact's membership became former. Shown on the account's
    page until someone acknowledges it or a new key contact is named at the account
    (contacts.alerts)."""

    class Resolution(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        NEW_KEY_CONTACT = "new_key_contact", "A new key contact was named"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="key_contact_alerts"
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="key_contact_alerts"
    )
    left_on = models.DateField(help_text="The membership's end date, or the day it was marked.")
    raised_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)

    objects = KeyContactAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-left_on", "-pk"]
        indexes = [
            models.Index(
                fields=["account"], condition=Q(resolved_at=None), name="key_contact_alert_open"
            )
        ]

    def __str__(self):
        return f"Key contact left: {self.membership.person.full_name}, {self.left_on:%Y-%m-%d}"


class PersonMerge(models.Model):
    """Two people merged into one (contacts.merge): the survivor, what the merged person was,
    and a snapshot of every row the merge changed, deleted or moved, from which an unmerge
    puts them back exactly as they were."""

    survivor = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="merges")
    # The merged person is deleted; these say who they were (until an unmerge brings them back).
    merged_person_pk = models.PositiveBigIntegerField(db_index=True)
    merged_email = models.CharField(max_length=254)
    merged_name = models.CharField(max_length=201)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person_merges",
    )
    merged_at = models.DateTimeField(default=timezone.now)
    # What the merge did, in full (rows before and after), for the unmerge and its checks.
    snapshot = models.JSONField(default=dict)
    unmerged_at = models.DateTimeField(null=True, blank=True)
    unmerged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-merged_at", "-pk"]
        permissions = [("merge_people", "Can merge duplicate people and unmerge them")]

    def __str__(self):
        return f"{self.merged_name} <{self.merged_email}> merged into {self.survivor}"


class EmailAlias(models.Model):
    """Another email address of a person: the address of someone merged into them. A users
    file that names it updates this person instead of creating the merged one again."""

    email = EmailAddressField(max_length=254)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="email_aliases")
    merge = models.ForeignKey(
        PersonMerge, on_delete=models.CASCADE, null=True, blank=True, related_name="aliases"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When a users import last found the person by this address: an unmerge cannot tell what
    # such an import changed for whom, so it refuses (contacts.merge.unmerge_blockers).
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "email aliases"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="email_alias_unique_ignoring_case",
                violation_error_message="This email is already an alias of someone.",
            )
        ]

    def __str__(self):
        return f"{self.email} → {self.person}"


class Task(models.Model):
    """Work to do for an account, linked to contacts anywhere in its company hierarchy."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    contacts = models.ManyToManyField(Membership, blank=True, related_name="tasks")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Open before done ("open" > "done"); undated tasks last on every database.
        ordering = [models.F("status").desc(), models.F("due_date").asc(nulls_last=True), "title"]

    def __str__(self):
        return self.title


class Touchpoint(models.Model):
    """A call, email, meeting or note with an account, and who took part."""

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="touchpoints"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    happened_at = models.DateTimeField(default=timezone.now)
    subject = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="touchpoints",
    )
    participants = models.ManyToManyField(Membership, blank=True, related_name="touchpoints")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-happened_at"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"


class SegmentQuerySet(models.QuerySet):
    def visible_to(self, staff_user):
        """A staff user's own segments and everyone's shared ones."""
        return self.filter(Q(owner=staff_user) | Q(shared=True))

    def editable_by(self, staff_user):
        """Segments a staff user may rename or delete: their own (a Global admin: any)."""
        return self if is_global_admin(staff_user) else self.filter(owner=staff_user)


class Segment(models.Model):
    """A saved people list: the filters and columns of /people/, under a name."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="segments"
    )
    shared = models.BooleanField(
        default=False, help_text="Shared segments are listed for every staff user."
    )
    # The /people/ query string (filters and columns), and what the chosen account was called
    # when saved, so a segment whose account was deleted can say what it lost.
    query = models.TextField(blank=True)
    account_label = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("contacts:segment", args=[self.pk])

    def memberships_to_export(self):
        """The memberships it selects, for a file (the users file of export_users and of
        outbound integration jobs). ValidationError when one of its filters no longer applies
        (its account, account type or role was deleted): the People page then shows a wider
        list and says so, but a file for another system must not quietly hold people the
        segment left out."""
        from .forms import PeopleFilterForm

        form = PeopleFilterForm(QueryDict(self.query))
        problems = []
        for field in form.errors:
            value = form.data.get(field, "")
            if field == "cols":
                continue  # the People page's columns: a users file has its own
            if field == "account":
                problems.append(f"the account {self.account_label or f'“{value}”'}")
            elif field in ("account_type", "role"):
                problems.append(f"the {form.fields[field].label.lower()} it was filtered on")
            else:
                problems.append(f"its filter {form.fields[field].label} “{value}”")
        if problems:
            raise ValidationError(
                f"The segment “{self.name}” no longer selects what it was saved for: "
                f"{' and '.join(problems)} no longer exist{'s' if len(problems) == 1 else ''}. "
                "Open it on the People page, choose its filters again and save it.",
                code="segment_out_of_date",
            )
        return form.memberships()


# Privacy (contacts/privacy.py): the download audit and the record of forgotten people.


class DownloadRecord(models.Model):
    """One download of people data: who, when, what, with which filters, how many rows.

    Created when the download starts and completed when its last row is written (a streamed
    file finishes after the view returned): `row_count` stays None for a file that was never
    written, and `complete` False for one stopped part way (the browser went away).
    """

    class Kind(models.TextChoices):
        PEOPLE_LIST = "people_list", "People list"
        USERS_FILE = "users_file", "Users file export"
        IMPORT_ERRORS = "import_errors", "Import error file"
        ADMIN_EXPORT = "admin_export", "Admin export"
        ACCOUNT_HISTORY = "account_history", "Account history"

    class Channel(models.TextChoices):
        APP = "app", "App"
        ADMIN = "admin", "Django admin"
        COMMAND = "command", "Command line"
        SYNC = "sync", "Integration job"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.APP)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="download_records",
    )
    # Kept as it was when downloaded: the record outlives a staff user deleted since.
    staff_name = models.CharField(max_length=150, blank=True)
    downloaded_at = models.DateTimeField(default=timezone.now, db_index=True)
    filters = models.TextField(blank=True, help_text="What was selected, in words.")
    file_format = models.CharField(max_length=10)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    complete = models.BooleanField(default=False)

    class Meta:
        ordering = ["-downloaded_at", "-pk"]
        permissions = [("see_download_audit", "Can see the download audit")]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.who} at {self.downloaded_at:%Y-%m-%d %H:%M}"

    @property
    def who(self):
        if self.channel == self.Channel.COMMAND and not self.staff_name:
            return "the command line"
        return self.staff_name or "a deleted staff user"

    def counting(self, rows):
        """`rows` as they are, counted: the record is completed when they run out, or with
        the rows so far when the download stops part way (the response closes its iterator)."""
        count, complete = 0, False
        try:
            for row in rows:
                # Counted as handed to the file: a download stopped part way records the rows
                # that may have left, not fewer.
                count += 1
                yield row
            complete = True
        finally:
            self.finish(row_count=count, complete=complete)

    def finish(self, *, row_count, complete=True):
        self.row_count, self.complete = row_count, complete
        DownloadRecord.objects.filter(pk=self.pk).update(row_count=row_count, complete=complete)


class ForgottenPerson(models.Model):
    """That a person was forgotten ("Forget this person"): who did it and when, the person's
    former id and what was removed or rewritten. No personal data."""

    person_pk = models.PositiveBigIntegerField("person id", db_index=True)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="forgotten_people",
    )
    staff_name = models.CharField(max_length=150, blank=True)
    forgotten_at = models.DateTimeField(default=timezone.now, db_index=True)
    # {what: how many}: memberships, contact changes, task and touchpoint links removed, and
    # the history rewritten (import job summaries, error files, download records, segments).
    removed = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-forgotten_at", "-pk"]
        verbose_name_plural = "forgotten people"
        permissions = [("forget_person", "Can forget a person (remove them and their data)")]

    def __str__(self):
        return f"{placeholder(self.person_pk)}, by {self.staff_name or '—'}"


def placeholder(person_pk):
    """What stands for a forgotten person's personal data in the history."""
    return f"Forgotten person #{person_pk}"
