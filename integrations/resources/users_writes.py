"""What one chunk of a users file writes (`ChunkPlan`, decided by UsersResource) and the
writing of it, in bulk through integrations.bulk."""

from django.db import connections

from contacts import alerts
from contacts.models import ContactChange, Membership, Person

from ..files import FileProblem

# The advisory lock that users imports which write take for their whole transaction (the
# accounts' tree locks use 7_301).
USERS_IMPORT_LOCK = (7_302, 0)
# A membership's columns as a chunk writes them (after the id).
MEMBERSHIP_COLUMNS = (
    "person_id",
    "account_id",
    "role_id",
    "is_contact",
    "is_key_contact",
    "status",
    "start_date",
    "end_date",
)


class UsersImportRunning(FileProblem):
    """Another users import writes, and this one must not wait for it (see refuse_to_wait).
    A FileProblem: the resource reports it as the run's error, and the run writes nothing."""

    def __init__(self):
        super().__init__(
            "Another users import is running; try again when it has finished.",
            code="users_import_running",
        )


def refuse_to_wait(waits):
    """The `on_wait` of an import that runs inside a web request (the Django admin's): waiting
    there for another import, which can take minutes, would outlast gunicorn's timeout and end
    in a 500. Raises UsersImportRunning instead. Background jobs wait, and say so."""
    if waits:
        raise UsersImportRunning


def serialise_users_imports(using, *, on_wait=None):
    """Wait until no other users import writes, and hold that until this one commits or rolls
    back (PostgreSQL; on SQLite every writing transaction is serialised already).

    Two imports over the same people would both find a new person or membership missing and
    both insert it: the later one failed on the unique key and had to be run again. Finer
    locks (per person, per chunk) cannot avoid deadlocks between two runs that meet the same
    people in different orders, each holding what it wrote until its commit. One run at a
    time, each finding what the ones before it wrote, is what a person re-running them did.
    Must be called inside the run's transaction. `on_wait(True)` is called when it has to
    wait, `on_wait(False)` when the wait is over; an `on_wait` that raises (refuse_to_wait)
    stops the run before it waits."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", USERS_IMPORT_LOCK)
            if cursor.fetchone()[0]:
                return
            if on_wait is not None:
                on_wait(True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", USERS_IMPORT_LOCK)
            if on_wait is not None:
                on_wait(False)


class NewMembership:
    __slots__ = (
        "account_id",
        "end_date",
        "is_contact",
        "is_key_contact",
        "person",
        "pk",
        "role_id",
        "start_date",
        "status",
    )

    def __init__(self, person, account_id, role_id, is_contact, is_key_contact, status, start, end):
        self.pk = None
        self.person = person
        self.account_id = account_id
        self.role_id = role_id
        self.is_contact = is_contact
        self.is_key_contact = is_key_contact
        self.status, self.start_date, self.end_date = status, start, end


class ChunkPlan:
    """What one chunk will write."""

    def __init__(self):
        self.new_people = {}  # email in lower case → [None, email, first, last, title, phone]
        self.changed_people = {}  # pk → the person's values
        self.new_memberships = []  # NewMembership
        # pk → [pk, role_id, is_contact, is_key_contact, status, start_date, end_date]
        self.changed_memberships = {}
        # (membership pk or NewMembership, the person's values, account pk, field, old, new)
        self.history = []
        # Key contacts made former (membership pk or NewMembership): "key contact left".
        self.left_key_contacts = []
        # Accounts where someone became an active key contact: their alerts close.
        self.new_key_contacts = set()


def write_plan(plan, *, writer, by, now):
    """A chunk's writes: an insert or update per table, in bulk; the ContactChanges (source
    "import") by the staff user `by` at `now`. Fills in the ids of the new people and
    memberships."""
    new_people = list(plan.new_people.values())
    ids = writer.insert(
        Person,
        ("email", "first_name", "last_name", "title", "phone"),
        [(p[1], p[2], p[3], p[4], p[5]) for p in new_people],
    )
    for person, pk in zip(new_people, ids, strict=True):
        person[0] = pk
    writer.update(
        Person,
        ["first_name", "last_name", "title", "phone"],
        [(p[0], p[2], p[3], p[4], p[5]) for p in plan.changed_people.values()],
    )
    ids = writer.insert(
        Membership,
        MEMBERSHIP_COLUMNS,
        [
            (
                m.person[0],
                m.account_id,
                m.role_id,
                m.is_contact,
                m.is_key_contact,
                m.status,
                m.start_date,
                m.end_date,
            )
            for m in plan.new_memberships
        ],
    )
    for membership, pk in zip(plan.new_memberships, ids, strict=True):
        membership.pk = pk
    writer.update(
        Membership,
        MEMBERSHIP_COLUMNS[2:],
        list(plan.changed_memberships.values()),
    )
    staff_user_id = by.pk if by is not None else None
    source = ContactChange.Source.IMPORT
    writer.insert(
        ContactChange,
        (
            "membership_id",
            "person_id",
            "account_id",
            "field",
            "old_value",
            "new_value",
            "source",
            "staff_user_id",
            "changed_at",
        ),
        [
            (
                ref if isinstance(ref, int) else ref.pk,
                person[0],
                account_id,
                field,
                old,
                new,
                source,
                staff_user_id,
                now,
            )
            for ref, person, account_id, field, old, new in plan.history
        ],
    )
    _alerts(plan, by)


def _alerts(plan, by):
    """The "key contact left" alerts of the key contacts this chunk made former, and the
    closing of those of accounts that got a new active key contact. Rare: a few model
    instances, for those rows only."""
    if plan.left_key_contacts:
        ids = [ref if isinstance(ref, int) else ref.pk for ref in plan.left_key_contacts]
        alerts.raise_key_contact_alerts(list(Membership.objects.filter(pk__in=ids)))
    if plan.new_key_contacts:
        alerts.resolve_for_new_key_contacts(
            [
                Membership(account_id=pk, is_key_contact=True, status=Membership.Status.ACTIVE)
                for pk in plan.new_key_contacts
            ],
            by=by,
        )
