from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Concat, Lower
from django.urls import reverse
from django.utils import timezone

from accounts.models import TreeTally, scope_q
from config.staff import is_global_admin


def name_order(prefix="", *, walk_index=True):
    """ORDER BY last name, first name, email for people (`prefix` "person__" from a membership).

    With walk_index, PostgreSQL can read people in the order of the person_name_order index and
    stop after a page. A search selects people spread over the whole alphabet (every "Lovelace"),
    and walking the index to them reads most of it: then the same order is given as expressions
    (`name || ''`) the index does not serve, and the few thousand matches are sorted instead.
    """
    fields = [f"{prefix}last_name", f"{prefix}first_name", f"{prefix}email"]
    if walk_index:
        return fields
    return [Concat(F(field), Value(""), output_field=models.CharField()) for field in fields]


def person_search_q(text, prefix=""):
    """People matching every word of `text` in first name, last name or email, ignoring case:
    "ada", "Ada Lovelace" and "ada@example" all find Ada Lovelace.

    Each word is an icontains on one column, the expression the trigram indexes of migration
    contacts 0002 are built on, so PostgreSQL answers from the indexes.
    """
    q = Q()
    for word in text.split():
        q &= (
            Q(**{f"{prefix}first_name__icontains": word})
            | Q(**{f"{prefix}last_name__icontains": word})
            | Q(**{f"{prefix}email__icontains": word})
        )
    return q


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

    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    title = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=50, blank=True)
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
        return reverse("contacts:person", args=[self.pk])

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()


class MembershipQuerySet(models.QuerySet):
    def contacts(self):
        return self.filter(is_contact=True)

    def key_contacts(self):
        return self.filter(is_key_contact=True)

    def in_scope(self, account, scope, *, account_type=None):
        """Memberships at the accounts in a hierarchy view of `account` (SPEC §3.3)."""
        return self.filter(scope_q(account, scope, account_type=account_type, prefix="account__"))

    def in_hierarchy(self, account):
        return self.filter(account__tree_id=account.tree_id)

    def matching(self, text):
        """Memberships whose person matches `text` (see person_search_q)."""
        return self.filter(person_search_q(text, prefix="person__"))

    def in_name_order(self):
        return self.order_by(*name_order("person__"), "pk")

    def in_widget_order(self, *, searching=False, count=None):
        """Key contacts first, then by last name and first name (SPEC §3.3), as a list that
        pages like a queryset: KeyContactsFirst, or SearchMatches for a search. `count`, when
        the caller knows it already, spares the count query."""
        if searching:
            return SearchMatches(self)
        return KeyContactsFirst(self, count=count)


class SearchMatches:
    """The memberships a search matches, key contacts first and then by name, for a Paginator.

    A search picks people all over the alphabet, so there is no index order to walk: finding
    the matches is the work (the trigram indexes, then the contacts of the hierarchy), and
    counting them and sorting a page out of them would do it twice. One query lists the ids
    of every match in order (from the contacts index alone), the count is its length, and a
    page is one more query for the rows of 25 ids.
    """

    def __init__(self, memberships):
        self.memberships = memberships

    @cached_property
    def ids(self):
        return list(
            self.memberships.order_by(
                "-is_key_contact", *name_order("person__", walk_index=False), "pk"
            ).values_list("pk", flat=True)
        )

    def count(self):
        return len(self.ids)

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("SearchMatches supports plain slices only.")
        ids = self.ids[index]
        rows = self.memberships.order_by().in_bulk(ids)
        return [rows[pk] for pk in ids]


class KeyContactsFirst:
    """Memberships with key contacts first, then by name, sliced for a Paginator.

    One ORDER BY is_key_contact, last_name… must sort every matching row (40,000 contacts of a
    large hierarchy) before it can return the first 25. Two queries, key contacts and the
    rest, each in plain name order, let PostgreSQL walk the person name index and stop after
    a page. The first page needs no count of key contacts: fewer key contacts than the page
    holds are all of them. Later pages count them, with the total, in one query.
    """

    def __init__(self, memberships, *, count=None):
        self.memberships = memberships
        self.known_count = count

    @cached_property
    def totals(self):
        # Counting person ids, not ids: the contacts index holds the person and
        # is_key_contact but not the id, so PostgreSQL can count from the index alone.
        return self.memberships.order_by().aggregate(
            all=Count("person"), key=Count("person", filter=Q(is_key_contact=True))
        )

    def count(self):
        if self.known_count is not None:
            return self.known_count
        return self.totals["all"]

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("KeyContactsFirst supports plain slices only.")
        start, stop = index.start or 0, index.stop if index.stop is not None else self.count()
        if start == 0:
            rows = list(self._in_order(is_key_contact=True)[:stop])
            if len(rows) < stop:
                rows += self._in_order(is_key_contact=False)[: stop - len(rows)]
            return rows
        keys = self.totals["key"]
        rows = []
        if start < keys:
            rows += self._in_order(is_key_contact=True)[start : min(stop, keys)]
        if stop > keys:
            rows += self._in_order(is_key_contact=False)[max(start - keys, 0) : stop - keys]
        return rows

    def _in_order(self, *, is_key_contact):
        return self.memberships.filter(is_key_contact=is_key_contact).in_name_order()


def contact_counts_by_account(account):
    """The contacts at every account of `account`'s company hierarchy, as a TreeTally, in one
    query: each account's contacts are counted from the contacts index, account by account
    (a join of every contact then a grouping takes twice as long on a 2,000-account tree)."""
    nodes = (
        account.__class__.objects.in_hierarchy(account)
        .order_by()
        .annotate(value=_contacts_at_the_account())
        .values("pk", "lft", "rght", "parent_id", "account_type_id", "value")
    )
    return TreeTally(nodes)


def _contacts_at_the_account():
    """The number of contacts at the outer query's account (0 for none), from the contacts
    index alone."""
    return Coalesce(
        Subquery(
            Membership.objects.contacts()
            .filter(account=OuterRef("pk"))
            .order_by()
            .values("account")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        0,
    )


def with_contact_counts(accounts):
    """Annotate an account queryset with `own_contacts` (contacts at the account) and
    `all_contacts` (at the account and every account below it), in the same single query."""
    contacts = Membership.objects.contacts().order_by()
    below = (
        contacts.filter(
            account__tree_id=OuterRef("tree_id"),
            account__lft__gte=OuterRef("lft"),
            account__lft__lte=OuterRef("rght"),
        )
        .values("account__tree_id")
        .annotate(n=Count("pk"))
    )
    return accounts.annotate(
        own_contacts=_contacts_at_the_account(),
        all_contacts=Coalesce(Subquery(below.values("n")), 0),
    )


class Membership(models.Model):
    """A person at one account, with a role there and the contact and key-contact marks."""

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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["-is_key_contact", "person__last_name", "person__first_name"]
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
        ]
        indexes = [
            # The Contacts widget reads contacts by account; covering the columns it filters on
            # (and the id, which a search lists) lets PostgreSQL answer from the index alone.
            models.Index(
                fields=["account"],
                condition=Q(is_contact=True),
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


class ContactChange(models.Model):
    """One change of a membership's contact mark, key-contact mark or role: who, when, how."""

    class Field(models.TextChoices):
        CONTACT = "contact", "Contact"
        KEY_CONTACT = "key_contact", "Key contact"
        ROLE = "role", "Account role"

    class Source(models.TextChoices):
        APP = "app", "App"
        IMPORT = "import", "Import"
        ADMIN = "admin", "Admin"

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="changes")
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
    )
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self):
        return f"{self.get_field_display()}: {self.old_value or '—'} → {self.new_value or '—'}"


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
