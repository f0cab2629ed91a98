"""An UndoPlan (integrations.undo) as its preview shows it: counts, and the first rows of each
table with names people read (a person's name and email, an account's name), in a few queries
whatever the size of the job."""

from django import forms

from accounts.models import Account, AccountRole, AccountType
from contacts.models import Membership, Person

from .models import ImportRecord
from .undo import LISTED, TREE_FIELDS

M, P, A = ImportRecord.Model.MEMBERSHIP, ImportRecord.Model.PERSON, ImportRecord.Model.ACCOUNT
KINDS = {P: "Person", M: "Membership", A: "Account"}
FIELD_NAMES = {
    "first_name": "First name",
    "last_name": "Last name",
    "title": "Title",
    "phone": "Phone",
    "email": "Email",
    "role_id": "Account role",
    "is_contact": "Contact",
    "is_key_contact": "Key contact",
    "status": "Status",
    "start_date": "Start date",
    "end_date": "End date",
    "name": "Account name",
    "account_type_id": "Account type",
    "parent_id": "Parent account",
}


def preview(plan):
    """The preview's context: counts, and up to LISTED rows of each list."""
    deleted = [(name, pk) for name in (P, M, A) for pk in plan.delete[name][:LISTED]]
    kept = plan.kept[:LISTED] + plan.not_recreated[: max(0, LISTED - len(plan.kept))]
    recreated = [(name, row) for name in (P, M, A) for row in plan.recreate[name][:LISTED]]
    restores = [r for r in plan.restores if not r.conflicts][:LISTED]
    conflicts = plan.conflicts[:LISTED]
    labels = Labels()
    for name, pk in deleted:
        labels.want(name, pk)
    for name, pk, _ in kept:
        labels.want(name, pk)
    for restore in restores + conflicts:
        labels.want(restore.model, restore.pk)
        for field, values in restore.fields.items():
            labels.want_value(field, values)
    for name, row in recreated:
        labels.want_row(name, row)
    labels.load()
    counts = plan.counts()
    return {
        "counts": counts,
        "action": action_words(plan.job, counts),
        "fingerprint": plan.fingerprint(),
        "deleted": [(KINDS[name], labels.of(name, pk)) for name, pk in deleted],
        "kept": [(KINDS[name], labels.of(name, pk), why) for name, pk, why in kept],
        "recreated": [(KINDS[name], labels.of_row(name, row)) for name, row in recreated],
        "restored": [labels.restore_rows(plan, r) for r in restores],
        "conflicts": [labels.restore_rows(plan, r) for r in conflicts],
        "listed": LISTED,
        "more_restored": len(plan.restores) - len(plan.conflicts) > LISTED,
        "more_conflicts": len(plan.conflicts) > LISTED,
    }


def action_words(job, counts):
    """What the confirm button does: "Undo: delete 2 rows, restore 1 row"."""

    def rows(count):
        return f"{count:,} row{'s' if count != 1 else ''}"

    parts = []
    if deleted := sum(counts["deleted"].values()):
        parts.append(f"delete {rows(deleted)}")
    if counts["restored_rows"]:
        parts.append(f"restore {rows(counts['restored_rows'])}")
    if recreated := sum(counts["recreated"].values()):
        parts.append(f"make {rows(recreated)} again")
    return f"{'Redo' if job.undoes_id else 'Undo'}: {', '.join(parts) or 'nothing to change'}"


class Labels:
    """Names of the rows and values listed, looked up together."""

    def __init__(self):
        self.wanted = {P: set(), M: set(), A: set()}
        self.role_ids, self.type_ids = set(), set()
        self.names = {P: {}, M: {}, A: {}}

    def want(self, name, pk):
        self.wanted[name].add(pk)

    def want_value(self, field, values):
        for value in values:
            if value is None:
                continue
            if field == "role_id":
                self.role_ids.add(value)
            elif field == "account_type_id":
                self.type_ids.add(value)
            elif field == "parent_id":
                self.wanted[A].add(value)

    def want_row(self, name, row):
        if name == M:
            self.wanted[P].add(row["person_id"])
            self.wanted[A].add(row["account_id"])

    def load(self):
        memberships = list(
            Membership.objects.filter(pk__in=self.wanted[M]).values_list(
                "pk", "person_id", "account_id"
            )
        )
        self.wanted[P].update(person for _, person, _ in memberships)
        self.wanted[A].update(account for _, _, account in memberships)
        for pk, first, last, email in Person.objects.filter(pk__in=self.wanted[P]).values_list(
            "pk", "first_name", "last_name", "email"
        ):
            self.names[P][pk] = f"{first} {last} <{email}>".strip()
        for pk, external_id, name in Account.objects.filter(pk__in=self.wanted[A]).values_list(
            "pk", "external_id", "name"
        ):
            self.names[A][pk] = f"{name} ({external_id})"
        for pk, person, account in memberships:
            self.names[M][pk] = f"{self.of(P, person)} at {self.of(A, account)}"
        self.roles = dict(
            AccountRole.objects.filter(pk__in=self.role_ids).values_list("pk", "name")
        )
        self.types = dict(
            AccountType.objects.filter(pk__in=self.type_ids).values_list("pk", "name")
        )

    def of(self, name, pk):
        return self.names[name].get(pk, f"{KINDS[name]} #{pk} (gone)")

    def of_row(self, name, row):
        if name == P:
            return f"{row['first_name']} {row['last_name']} <{row['email']}>"
        if name == A:
            return f"{row['name']} ({row['external_id']})"
        return f"{self.of(P, row['person_id'])} at {self.of(A, row['account_id'])}"

    def value(self, field, value):
        if value is None or value == "":
            return "(blank)"
        if field in ("is_contact", "is_key_contact"):
            return "yes" if value else "no"
        if field == "role_id":
            return self.roles.get(value, f"role #{value}")
        if field == "account_type_id":
            return self.types.get(value, f"type #{value}")
        if field == "parent_id":
            return self.of(A, value)
        return str(value)

    def restore_rows(self, plan, restore):
        """(kind, row, [(field, old, current, restored, conflict by)]) without tree numbers."""
        fields = []
        for field, (old, _, current) in restore.fields.items():
            if field in TREE_FIELDS:
                continue
            restored = old if plan.writes(restore, field) else current
            fields.append(
                (
                    FIELD_NAMES.get(field, field),
                    self.value(field, old),
                    self.value(field, current),
                    self.value(field, restored),
                    restore.conflicts.get(field, ""),
                )
            )
        return (KINDS[restore.model], self.of(restore.model, restore.pk), fields)


class UndoForm(forms.Form):
    """Confirm an undo: whether fields changed since are restored, and the preview seen."""

    restore_conflicts = forms.BooleanField(
        required=False,
        label="Restore fields changed since (overwrite the later changes)",
        help_text="Off: a field changed again after the import keeps its later value.",
    )
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)
