"""Past 400 lines as one thing: the writes that cross models or leave a trail (contacts and
their history and alerts, tasks, touchpoints, people), which views, the admin, imports and
commands call, so that none of them holds a business rule of its own."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account

from . import alerts
from .models import ContactChange, EmailAlias, Membership, Person, Task, Touchpoint

# The membership fields whose every change is recorded, with how a value is written down.
TRACKED_FIELDS = {
    ContactChange.Field.CONTACT: lambda m: "yes" if m.is_contact else "no",
    ContactChange.Field.KEY_CONTACT: lambda m: "yes" if m.is_key_contact else "no",
    ContactChange.Field.ROLE: lambda m: m.role.name if m.role_id else "",
    ContactChange.Field.STATUS: lambda m: m.status,
    ContactChange.Field.START_DATE: lambda m: m.start_date.isoformat() if m.start_date else "",
    ContactChange.Field.END_DATE: lambda m: m.end_date.isoformat() if m.end_date else "",
}
# What a membership that did not exist "had": a new one's history starts from these.
NOTHING_BEFORE = {
    ContactChange.Field.CONTACT: "no",
    ContactChange.Field.KEY_CONTACT: "no",
    ContactChange.Field.ROLE: "",
    ContactChange.Field.STATUS: Membership.Status.ACTIVE,
    ContactChange.Field.START_DATE: "",
    ContactChange.Field.END_DATE: "",
}


def tracked_values(membership):
    """The recorded fields of a membership as they would be written in its history."""
    return {field: describe(membership) for field, describe in TRACKED_FIELDS.items()}


def record_contact_changes(*, membership, before, source, by):
    """Write a ContactChange for each tracked field that differs from `before`.

    `before` is what `tracked_values()` returned before the change, or None for a new
    membership (then only the marks and role it was created with are recorded).
    Side effects: inserts ContactChange rows. Returns them.
    """
    # One moment for the whole change: the timeline reads a "left" and its end date together.
    changes = unsaved_contact_changes(
        membership=membership,
        before=NOTHING_BEFORE if before is None else before,
        source=source,
        by=by,
        at=timezone.now(),
    )
    return ContactChange.objects.bulk_create(changes)


def unsaved_contact_changes(*, membership, before, source, by, at):
    """The ContactChange rows, not yet saved, for each tracked field of `membership` that
    differs from `before` (tracked_values() before the change), all changed `at` one moment:
    for record_contact_changes, and for a bulk action that saves many memberships' at once."""
    after = tracked_values(membership)
    return [
        ContactChange(
            membership=membership,
            person_id=membership.person_id,
            account_id=membership.account_id,
            field=field,
            old_value=before[field],
            new_value=after[field],
            source=source,
            staff_user=by,
            changed_at=at,
        )
        for field in after
        if before[field] != after[field]
    ]


# "Leave this as it is" for edit_contact's dates (None clears a date).
KEEP = object()


def check_status_and_dates(*, status, start_date, end_date, today=None):
    """Raise ValidationError, by field, unless a membership may have this status and these
    dates: the end date not before the start date, and no end date in the past for someone
    still at the account (a date to come is a planned departure). The one rule the edit page,
    the admin and the users import apply."""
    today = today or timezone.localdate()
    errors = {}
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = ValidationError(
            "The end date (%(end)s) cannot be before the start date (%(start)s).",
            code="end_before_start",
            params={"end": end_date.isoformat(), "start": start_date.isoformat()},
        )
    elif status == Membership.Status.ACTIVE and end_date and end_date < today:
        errors["end_date"] = ValidationError(
            "An active member cannot have an end date in the past (%(end)s): mark them "
            "former, or clear the end date.",
            code="active_with_past_end",
            params={"end": end_date.isoformat()},
        )
    if errors:
        raise ValidationError(errors)


def after_status_change(*, memberships, before, by):
    """The alerts a change of marks or status calls for: a key contact who became former
    raises "key contact left"; someone who became an active key contact closes the open
    alerts of their account. `before` maps membership pk → tracked_values() before the change
    (missing: a new membership)."""

    def was_active_key(membership):
        old = before.get(membership.pk) or NOTHING_BEFORE
        return (
            old[ContactChange.Field.KEY_CONTACT] == "yes"
            and old[ContactChange.Field.STATUS] == Membership.Status.ACTIVE
        )

    def is_active_key(membership):
        return membership.is_key_contact and membership.status == Membership.Status.ACTIVE

    left = [m for m in memberships if was_active_key(m) and not is_active_key(m)]
    named = [m for m in memberships if is_active_key(m) and not was_active_key(m)]
    alerts.raise_key_contact_alerts(left)
    alerts.resolve_for_new_key_contacts(named, by=by)


@transaction.atomic
def edit_contact(
    *,
    membership,
    role,
    is_key_contact,
    status=None,
    start_date=KEEP,
    end_date=KEEP,
    by,
    source=ContactChange.Source.APP,
):
    """Set a contact's role and key-contact mark, and (when given) their status and dates.
    `status` None and `start_date`/`end_date` KEEP leave those as they are; None clears a
    date. Marking someone former without an end date ends them today.

    Raises ValidationError (code "unknown_role") for a role of another account type, and by
    field for dates that do not fit (check_status_and_dates).
    Side effects: saves the membership, records a ContactChange per changed field, raises or
    closes "key contact left" alerts (after_status_change).
    """
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("role")
        .get(pk=membership.pk)
    )
    before = tracked_values(membership)
    membership.role = role
    membership.is_key_contact = is_key_contact
    # A key contact is always a contact (the database insists too).
    membership.is_contact = membership.is_contact or is_key_contact
    if status is not None:
        membership.status = status
    if start_date is not KEEP:
        membership.start_date = start_date
    if end_date is not KEEP:
        membership.end_date = end_date
    if membership.status == Membership.Status.FORMER and membership.end_date is None:
        membership.end_date = timezone.localdate()
    check_status_and_dates(
        status=membership.status, start_date=membership.start_date, end_date=membership.end_date
    )
    membership.full_clean(exclude=["person", "account"], validate_unique=False)
    membership.save(
        update_fields=[
            "role",
            "is_key_contact",
            "is_contact",
            "status",
            "start_date",
            "end_date",
            "updated_at",
        ]
    )
    record_contact_changes(membership=membership, before=before, source=source, by=by)
    after_status_change(memberships=[membership], before={membership.pk: before}, by=by)
    return membership


def leave_account(*, membership, end_date=None, by, source=ContactChange.Source.APP):
    """The person left the account (moved on): their membership becomes former, ended on
    `end_date` (None: today), keeping its marks and role as a record. Not the same as
    remove_contact, for someone still there. Side effects: those of edit_contact."""
    return edit_contact(
        membership=membership,
        role=membership.role,
        is_key_contact=membership.is_key_contact,
        status=Membership.Status.FORMER,
        end_date=end_date,
        by=by,
        source=source,
    )


@transaction.atomic
def remove_contact(*, membership, by, source=ContactChange.Source.APP):
    """Stop a membership being a contact (and so a key contact); the person and membership stay.

    Side effects: saves the membership and records the ContactChanges. Removing a membership
    that is not a contact changes nothing.
    """
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("role")
        .get(pk=membership.pk)
    )
    before = tracked_values(membership)
    membership.is_contact = False
    membership.is_key_contact = False
    membership.save(update_fields=["is_contact", "is_key_contact", "updated_at"])
    record_contact_changes(membership=membership, before=before, source=source, by=by)
    return membership


def check_role(*, account, role):
    """Raise ValidationError (code "unknown_role") unless `role` is None or a role of the
    account's type; the message lists the valid roles."""
    if role is None or role.account_type_id == account.account_type_id:
        return
    Membership(account=account, role=role).clean()


@transaction.atomic
def add_contact(
    *, account, person, role=None, is_key_contact=False, by, source=ContactChange.Source.APP
):
    """Make `person` a contact of `account`: a new membership, or the contact mark set on the
    membership they already have there, with the role (None: no role) and key-contact mark
    given. Someone who had left the account (former) is active there again, end date cleared.

    Returns (membership, added). A person who is already an active contact there is left
    exactly as they were and `added` is False. Raises ValidationError for a role of another
    account type.
    Side effects: creates or updates the membership, records ContactChanges, closes the
    account's "key contact left" alerts when they become its key contact.
    """
    check_role(account=account, role=role)
    membership, created = Membership.objects.select_for_update().get_or_create(
        person=person,
        account=account,
        defaults={"role": role, "is_contact": True, "is_key_contact": is_key_contact},
    )
    if created:
        record_contact_changes(membership=membership, before=None, source=source, by=by)
        after_status_change(memberships=[membership], before={}, by=by)
        return membership, True
    if membership.is_contact and membership.status == Membership.Status.ACTIVE:
        return membership, False
    before = tracked_values(membership)
    membership.is_contact = True
    membership.is_key_contact = is_key_contact
    membership.role = role
    # Someone who had left is back: active again, no end date.
    membership.status, membership.end_date = Membership.Status.ACTIVE, None
    membership.save(
        update_fields=["is_contact", "is_key_contact", "role", "status", "end_date", "updated_at"]
    )
    record_contact_changes(membership=membership, before=before, source=source, by=by)
    after_status_change(memberships=[membership], before={membership.pk: before}, by=by)
    return membership, True


@transaction.atomic
def add_contact_with_new_person(
    *,
    account,
    email,
    first_name,
    last_name,
    title="",
    phone="",
    role=None,
    is_key_contact=False,
    by,
):
    """Create a person and make them a contact of `account`. Returns the membership.

    Raises ValidationError (code "email_exists", with the person as `params["person"]`) when
    someone already has this email in any letter case, or has it as an email alias (the
    address of someone merged into them): the caller offers that person instead.
    Side effects: creates the person and the membership; records ContactChanges.
    """
    check_role(account=account, role=role)
    email = email.strip()
    existing = Person.objects.with_email(email).first()
    if existing is None:
        # The old address of someone merged into another person: that person is offered.
        alias = EmailAlias.objects.filter(email__iexact=email).select_related("person").first()
        existing = alias.person if alias else None
    if existing is None:
        try:
            with transaction.atomic():
                person = Person.objects.create(
                    email=email,
                    first_name=first_name.strip(),
                    last_name=last_name.strip(),
                    title=title.strip(),
                    phone=phone.strip(),
                )
        except IntegrityError:
            # Someone else saved this email between the check and the insert.
            existing = Person.objects.with_email(email).get()
    if existing is not None:
        raise ValidationError(
            "%(person)s already has this email.", code="email_exists", params={"person": existing}
        )
    membership, _ = add_contact(
        account=account, person=person, role=role, is_key_contact=is_key_contact, by=by
    )
    return membership


def check_linked_contacts(*, account, memberships, already_linked=()):
    """Raise ValidationError (code "contact_outside_hierarchy") unless a task or touchpoint of
    `account` may link to every one of `memberships` (MembershipQuerySet.linkable): contacts
    in its company hierarchy, or, for the ids in `already_linked`, memberships it links already.
    """
    ids = {membership.pk for membership in memberships}
    allowed = set(
        Membership.objects.linkable(account, linked=already_linked)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    if ids <= allowed:
        return
    refused = (
        Membership.objects.filter(pk__in=ids - allowed)
        .select_related("person", "account")
        .in_list_order()
    )
    names = [
        f"{m.person.full_name} at {m.account.name}" + (" (who left)" if m.is_former else "")
        for m in refused
    ]
    raise ValidationError(
        "Only contacts in this company hierarchy can be linked, and %(names)s %(verb)s not.",
        code="contact_outside_hierarchy",
        params={"names": ", ".join(names), "verb": "is" if len(names) == 1 else "are"},
    )


def check_account_move(*, account, parent):
    """Raise ValidationError (code "links_outside_hierarchy") when moving `account`, and the
    accounts below it, under `parent` (None: a company of its own) would leave a task or
    touchpoint linked to a contact in another company hierarchy: one of the moved accounts'
    linked to a contact that stays behind, or the other way round. Moves inside a company
    change no hierarchy and pass."""
    stored = Account.objects.get(pk=account.pk)
    leaves_the_tree = (
        stored.parent_id is not None
        if parent is None
        else (
            Account.objects.filter(pk=parent.pk).values_list("tree_id", flat=True).get()
            != stored.tree_id
        )
    )
    if not leaves_the_tree:
        return

    def moved(prefix):
        return Q(
            **{
                f"{prefix}tree_id": stored.tree_id,
                f"{prefix}lft__gte": stored.lft,
                f"{prefix}lft__lte": stored.rght,
            }
        )

    def stays(prefix):
        return Q(**{f"{prefix}tree_id": stored.tree_id}) & ~moved(prefix)

    crossing = []
    for links, owner, noun in (
        (Task.contacts.through, "task", "task"),
        (Touchpoint.participants.through, "touchpoint", "touchpoint"),
    ):
        own, linked = f"{owner}__account__", "membership__account__"
        for link in (
            links.objects.filter((moved(own) & stays(linked)) | (stays(own) & moved(linked)))
            .select_related(owner, "membership__person")
            .order_by(f"{owner}_id", "membership_id")
        ):
            crossing.append(
                f"the {noun} “{getattr(link, owner)}” with {link.membership.person.full_name}"
            )
    if crossing:
        shown = crossing[:5] + ([f"{len(crossing) - 5} more"] if len(crossing) > 5 else [])
        raise ValidationError(
            "Moving %(account)s to another company would leave %(links)s linked across two "
            "company hierarchies. Unlink those contacts first.",
            code="links_outside_hierarchy",
            params={"account": stored.name, "links": "; ".join(shown)},
        )


def check_membership_account(*, membership, account):
    """Raise ValidationError (code "links_outside_hierarchy") when giving `membership` the
    account `account` would take a contact linked to tasks or touchpoints out of their company
    hierarchy."""
    if membership.pk is None:
        return
    titles = [
        f"the task “{task}”"
        for task in Task.objects.filter(contacts=membership).exclude(
            account__tree_id=account.tree_id
        )
    ] + [
        f"the touchpoint “{touchpoint}”"
        for touchpoint in Touchpoint.objects.filter(participants=membership).exclude(
            account__tree_id=account.tree_id
        )
    ]
    if titles:
        raise ValidationError(
            "This membership is linked to %(links)s, of another company than %(account)s. "
            "Unlink it there first, or add a membership at %(account)s instead.",
            code="links_outside_hierarchy",
            params={"links": ", ".join(titles), "account": account.name},
        )


@transaction.atomic
def save_task(*, account, title, due_date=None, owner=None, contacts=(), task=None, by):
    """Create a task for `account` (or update `task`) linked to `contacts`.

    Raises ValidationError (code "contact_outside_hierarchy") for a membership it may not link
    (check_linked_contacts). Side effects: saves the task and replaces its linked contacts.
    Returns the task.
    """
    contacts = list(contacts)
    check_linked_contacts(
        account=account,
        memberships=contacts,
        already_linked=task.contacts.values_list("pk", flat=True) if task else (),
    )
    task = task or Task(account=account)
    task.title, task.due_date, task.owner = title, due_date, owner
    task.save()
    task.contacts.set(contacts)
    return task


@transaction.atomic
def set_task_status(*, task, status, by):
    """Mark a task open or done. Side effects: saves the task."""
    task.status = status
    task.save(update_fields=["status", "updated_at"])
    return task


@transaction.atomic
def save_touchpoint(
    *, account, kind, subject, happened_at, notes="", participants=(), touchpoint=None, by
):
    """Record a touchpoint with `account` (or update `touchpoint`), with participant contacts
    from the company hierarchy only (ValidationError otherwise). The author is the staff user
    who first recorded it. Side effects: saves it and replaces its participants."""
    participants = list(participants)
    check_linked_contacts(
        account=account,
        memberships=participants,
        already_linked=touchpoint.participants.values_list("pk", flat=True) if touchpoint else (),
    )
    touchpoint = touchpoint or Touchpoint(account=account, author=by)
    touchpoint.kind, touchpoint.subject = kind, subject
    touchpoint.happened_at, touchpoint.notes = happened_at, notes
    touchpoint.save()
    touchpoint.participants.set(participants)
    return touchpoint


@transaction.atomic
def update_person(*, person, email, first_name, last_name, title="", phone="", by):
    """Change a person's profile. Raises ValidationError (code "email_exists") when another
    person has this email in any letter case. Side effects: saves the person."""
    email = email.strip()
    if Person.objects.with_email(email).exclude(pk=person.pk).exists():
        raise ValidationError("Another person already has this email.", code="email_exists")
    person.email, person.first_name, person.last_name = email, first_name, last_name
    person.title, person.phone = title, phone
    person.save()
    return person
