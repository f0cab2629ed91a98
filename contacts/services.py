"""Writes that cross models or leave a trail. Views, the admin, imports and commands call these."""

from .models import ContactChange

# The membership fields whose every change is recorded, with how a value is written down.
TRACKED_FIELDS = {
    ContactChange.Field.CONTACT: lambda m: "yes" if m.is_contact else "no",
    ContactChange.Field.KEY_CONTACT: lambda m: "yes" if m.is_key_contact else "no",
    ContactChange.Field.ROLE: lambda m: m.role.name if m.role_id else "",
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
    after = tracked_values(membership)
    if before is None:
        before = {field: "no" if field != ContactChange.Field.ROLE else "" for field in after}
    changes = [
        ContactChange(
            membership=membership,
            field=field,
            old_value=before[field],
            new_value=after[field],
            source=source,
            staff_user=by,
        )
        for field in after
        if before[field] != after[field]
    ]
    return ContactChange.objects.bulk_create(changes)
