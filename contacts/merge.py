"""Past 400 lines as one thing: merging two people and unmerging them (issue 14), which share
one snapshot format: what merge_people writes into PersonMerge.snapshot is exactly what
unmerge checks and puts back, so the two halves are read side by side.

A merge moves everything of the merged person to the survivor and deletes the merged person;
the snapshot holds every row it changed, moved or deleted, before and after, so that an unmerge
can check nothing depends on the merged state since and then put every row back exactly,
timestamps and primary keys included (queryset.update() leaves auto_now fields alone).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import (
    ContactChange,
    EmailAlias,
    KeyContactAlert,
    Membership,
    Person,
    PersonMerge,
    Task,
    Touchpoint,
)
from .services import record_contact_changes, tracked_values

# The person fields a merge chooses, in the order the merge screen shows them.
PERSON_FIELDS = ("email", "first_name", "last_name", "title", "phone")
# The two link tables that point at memberships, by the name the snapshot gives them.
LINK_TABLES = {
    "task_links": Task.contacts.through,
    "touchpoint_links": Touchpoint.participants.through,
}


def person_label(person_or_row):
    """ "Name <email>", as a merge's history writes a person."""
    get = (
        person_or_row.get
        if isinstance(person_or_row, dict)
        else lambda name: getattr(person_or_row, name)
    )
    return f"{get('first_name')} {get('last_name')}".strip() + f" <{get('email')}>"


def default_values(survivor, merged):
    """The merge screen's initial choice: the survivor's values, blanks filled from the other."""
    return {
        name: getattr(survivor, name) or getattr(merged, name) or getattr(survivor, name)
        for name in PERSON_FIELDS
    }


def shared_accounts(survivor, merged):
    """{account pk: (survivor's membership, merged person's membership)} where both are."""
    theirs = {
        m.account_id: m for m in merged.memberships.select_related("account__account_type", "role")
    }
    return {
        m.account_id: (m, theirs[m.account_id])
        for m in survivor.memberships.select_related("account__account_type", "role")
        if m.account_id in theirs
    }


# Rows as plain JSON values, and back.


def _plain(value):
    if isinstance(value, datetime.date):  # datetimes too
        return value.isoformat()
    return value


def _rows(queryset):
    """Every concrete column of each row, as JSON values, ordered by pk."""
    names = [field.attname for field in queryset.model._meta.concrete_fields]
    return [
        {name: _plain(value) for name, value in zip(names, values, strict=True)}
        for values in queryset.order_by("pk").values_list(*names)
    ]


def _parsed(model, row):
    # get_field() knows a foreign key by its attname ("person_id") too.
    return {name: model._meta.get_field(name).to_python(value) for name, value in row.items()}


def _restore(model, rows):
    """Put `rows` back as they were: update the existing ones (update() bumps no timestamp),
    re-insert the deleted ones with their old primary keys."""
    existing = set(
        model.objects.filter(pk__in=[row["id"] for row in rows]).values_list("pk", flat=True)
    )
    # The rows still there first: one may hold a unique value a re-inserted row takes back.
    for row in sorted(rows, key=lambda row: row["id"] not in existing):
        values = _parsed(model, row)
        if row["id"] not in existing:
            # bulk_create stamps auto_now fields with the time now: the update puts them back.
            model.objects.bulk_create([model(**values)])
        model.objects.filter(pk=values.pop("id")).update(**values)


def _fks(queryset, *names):
    return [
        dict(zip(("id", *names), values, strict=True))
        for values in queryset.order_by("pk").values_list("pk", *names)
    ]


# Merge


def _lock_people(survivor, merged):
    if survivor.pk == merged.pk:
        raise ValidationError(
            "Choose two different people: %(person)s cannot be merged with themselves.",
            code="same_person",
            params={"person": survivor.full_name},
        )
    people = Person.objects.select_for_update().in_bulk([survivor.pk, merged.pk])
    for person in (survivor, merged):
        if person.pk not in people:
            raise ValidationError(
                "%(person)s no longer exists: they were merged or removed since. Reload the "
                "page and choose again.",
                code="person_gone",
                params={"person": person_label(person)},
            )
    return people[survivor.pk], people[merged.pk]


def _check_values(values, survivor, merged):
    """Each chosen value must be the survivor's or the merged person's (a tampered form
    sends something else); the chosen email must not be someone else's."""
    values = values or {}
    unknown = set(values) - set(PERSON_FIELDS)
    if unknown:
        raise ValidationError(
            "%(fields)s cannot be chosen in a merge.",
            code="bad_choice",
            params={"fields": ", ".join(sorted(unknown))},
        )
    chosen = default_values(survivor, merged) | values
    for name in PERSON_FIELDS:
        if chosen[name] not in (getattr(survivor, name), getattr(merged, name)):
            raise ValidationError(
                "The %(field)s chosen is neither person's: choose one of the two.",
                code="bad_choice",
                params={"field": Person._meta.get_field(name).verbose_name},
            )
    email = chosen["email"]
    holder = Person.objects.with_email(email).exclude(pk__in=[survivor.pk, merged.pk]).first()
    alias = EmailAlias.objects.filter(email__iexact=email).select_related("person").first()
    if holder is not None or alias is not None:
        raise ValidationError(
            "%(email)s belongs to %(holder)s: choose the other address.",
            code="email_taken",
            params={"email": email, "holder": holder or f"{alias.person} (as an alias)"},
        )
    for address in {survivor.email, merged.email} - {email}:
        alias = (
            EmailAlias.objects.filter(email__iexact=address)
            .exclude(person__in=[survivor.pk, merged.pk])
            .select_related("person")
            .first()
        )
        if alias is not None:
            raise ValidationError(
                "%(email)s is an alias of %(holder)s already, so it cannot become one of "
                "the merged person.",
                code="email_taken",
                params={"email": address, "holder": alias.person},
            )
    return chosen


def _check_roles(roles, shared):
    """{account pk: role or None} for every account both people are at; a role must be of
    that account's type."""
    chosen = {}
    for account_pk, (kept, other) in shared.items():
        role = (roles or {}).get(account_pk, kept.role or other.role)
        if role is not None and role.account_type_id != kept.account.account_type_id:
            raise ValidationError(
                "“%(role)s” is not a role of %(type)s accounts (%(account)s).",
                code="unknown_role",
                params={
                    "role": role.name,
                    "type": kept.account.account_type.name,
                    "account": kept.account.name,
                },
            )
        chosen[account_pk] = role
    return chosen


def _merged_membership_values(kept, other, role):
    """One membership of two at the same account: contact if either is, key contact if either
    is, active if either is, the earliest start; the latest end if both left."""
    active = [m for m in (kept, other) if m.status == Membership.Status.ACTIVE]
    starts = [m.start_date for m in (kept, other) if m.start_date]
    ends = [m.end_date for m in (active or (kept, other)) if m.end_date]
    return {
        "role": role,
        "is_contact": kept.is_contact or other.is_contact,
        "is_key_contact": kept.is_key_contact or other.is_key_contact,
        "status": Membership.Status.ACTIVE if active else Membership.Status.FORMER,
        "start_date": min(starts) if starts else None,
        "end_date": max(ends) if ends else None,
    }


def _links_of(membership_ids):
    return {
        name: _rows(through.objects.filter(membership_id__in=membership_ids))
        for name, through in LINK_TABLES.items()
    }


def _state(person_ids, membership_ids, change_ids, alert_ids, alias_ids, merge_ids):
    """Every row a merge touches, as the snapshot records it."""
    return {
        "people": _rows(Person.objects.filter(pk__in=person_ids)),
        "memberships": _rows(Membership.objects.filter(pk__in=membership_ids)),
        **_links_of(membership_ids),
        "contact_changes": _fks(
            ContactChange.objects.filter(pk__in=change_ids), "person_id", "membership_id"
        ),
        "alerts": _fks(KeyContactAlert.objects.filter(pk__in=alert_ids), "membership_id"),
        "aliases": _rows(EmailAlias.objects.filter(pk__in=alias_ids)),
        "merges": _fks(PersonMerge.objects.filter(pk__in=merge_ids), "survivor_id"),
    }


@transaction.atomic
def merge_people(*, survivor, merged, values=None, roles=None, by):
    """Merge `merged` into `survivor` and delete `merged`. Returns the PersonMerge.

    `values`: {person field: the value chosen} (default: default_values); each must be one of
    the two people's. `roles`: {account pk: role or None} for the accounts both are at
    (default: the survivor's role there, else the other's).
    Raises ValidationError (codes same_person, person_gone, bad_choice, email_taken,
    unknown_role) and writes nothing then.
    Side effects: the survivor takes the chosen values; memberships, task and touchpoint links,
    contact changes, key-contact alerts, aliases and earlier merges into the merged person move
    to the survivor (two memberships at one account become one); the addresses the survivor no
    longer has become its EmailAliases; a ContactChange (PERSON, MERGE) per moved membership;
    a PersonMerge with the snapshot unmerge() needs.
    """
    survivor, merged = _lock_people(survivor, merged)
    chosen = _check_values(values, survivor, merged)
    shared = _check_roles(roles, shared_accounts(survivor, merged))
    their_memberships = list(merged.memberships.select_for_update())
    kept_ids = [kept.pk for kept, _ in shared_accounts(survivor, merged).values()]
    membership_ids = [m.pk for m in their_memberships] + kept_ids
    change_ids = list(
        ContactChange.objects.filter(
            Q(person=merged) | Q(membership_id__in=membership_ids)
        ).values_list("pk", flat=True)
    )
    alert_ids = list(
        KeyContactAlert.objects.filter(membership_id__in=membership_ids).values_list(
            "pk", flat=True
        )
    )
    alias_ids = list(merged.email_aliases.values_list("pk", flat=True))
    merge_ids = list(merged.merges.values_list("pk", flat=True))
    before = _state(
        [survivor.pk, merged.pk], membership_ids, change_ids, alert_ids, alias_ids, merge_ids
    )

    now = timezone.now()
    merge = PersonMerge.objects.create(
        survivor=survivor,
        merged_person_pk=merged.pk,
        merged_email=merged.email,
        merged_name=merged.full_name,
        staff_user=by,
        merged_at=now,
    )
    PersonMerge.objects.filter(pk__in=merge_ids).update(survivor=survivor)
    EmailAlias.objects.filter(pk__in=alias_ids).update(person=survivor)
    ContactChange.objects.filter(person=merged).update(person=survivor)
    pairs = shared_accounts(survivor, merged)
    moved = []  # (membership the history names, tracked values before or None)
    for membership in their_memberships:
        if membership.account_id not in pairs:
            Membership.objects.filter(pk=membership.pk).update(person=survivor)
            moved.append((membership, None))
            continue
        kept, other = pairs[membership.account_id]
        for through in LINK_TABLES.values():
            owner = "task_id" if through is LINK_TABLES["task_links"] else "touchpoint_id"
            already = through.objects.filter(membership=kept).values(owner)
            through.objects.filter(membership=other).exclude(**{f"{owner}__in": already}).update(
                membership=kept
            )
            through.objects.filter(membership=other).delete()
        ContactChange.objects.filter(membership=other).update(membership=kept)
        KeyContactAlert.objects.filter(membership=other).update(membership=kept)
        tracked = tracked_values(kept)
        Membership.objects.filter(pk=other.pk).delete()
        Membership.objects.filter(pk=kept.pk).update(
            **_merged_membership_values(kept, other, shared[kept.account_id]), updated_at=now
        )
        moved.append((kept, tracked))
    Person.objects.filter(pk=merged.pk).delete()
    Person.objects.filter(pk=survivor.pk).update(**chosen, updated_at=now)

    old_addresses = {survivor.email, merged.email} - {chosen["email"]}
    created = EmailAlias.objects.bulk_create(
        EmailAlias(email=email, person=survivor, merge=merge) for email in sorted(old_addresses)
    )
    survivor.refresh_from_db()
    _record_moves(
        moved,
        old=person_label(merged),
        new=person_label(survivor),
        by=by,
        source=ContactChange.Source.MERGE,
        person=survivor,
    )

    after_ids = [m.pk for m in Membership.objects.filter(pk__in=membership_ids)]
    merge.snapshot = {
        "survivor_pk": survivor.pk,
        "merged_pk": merged.pk,
        "created_aliases": [alias.pk for alias in created],
        "before": before,
        "after": _state(
            [survivor.pk],
            after_ids,
            change_ids,
            alert_ids,
            [*alias_ids] + [a.pk for a in created],
            merge_ids,
        ),
    }
    merge.save(update_fields=["snapshot"])
    return merge


def _record_moves(moved, *, old, new, by, source, person):
    """A ContactChange (PERSON) per membership that moved between the two people, and one per
    tracked field that changed where two memberships became one (or one split back)."""
    changes = []
    for membership, tracked in moved:
        membership.refresh_from_db()
        changes.append(
            ContactChange(
                membership=membership,
                person=person,
                account_id=membership.account_id,
                field=ContactChange.Field.PERSON,
                old_value=old[:200],
                new_value=new[:200],
                source=source,
                staff_user=by,
            )
        )
        if tracked is not None:
            record_contact_changes(membership=membership, before=tracked, source=source, by=by)
    ContactChange.objects.bulk_create(changes)


# Unmerge


def unmerge_blockers(merge):
    """Why `merge` cannot be undone now, in words (empty: it can). Compares the rows as they
    are with the snapshot's "after": anything changed since depends on the merged state."""
    if merge.unmerged_at is not None:
        return [f"It was unmerged already, on {merge.unmerged_at:%Y-%m-%d %H:%M}."]
    snapshot = merge.snapshot
    after, before = snapshot["after"], snapshot["before"]
    survivor_row = after["people"][0]
    name = person_label(survivor_row)
    blockers = []
    if merge.survivor_id != snapshot["survivor_pk"]:
        later = PersonMerge.objects.filter(
            merged_person_pk=snapshot["survivor_pk"], unmerged_at=None
        ).first()
        blockers.append(
            f"{name} was merged into {later.survivor if later else 'someone else'} since: "
            "unmerge that merge first."
        )
        return blockers
    current = {row["id"]: row for row in _rows(Person.objects.filter(pk=survivor_row["id"]))}
    now_row = current.get(survivor_row["id"])
    changed = [
        Person._meta.get_field(name_).verbose_name
        for name_ in PERSON_FIELDS
        if now_row and now_row[name_] != survivor_row[name_]
    ]
    if changed:
        blockers.append(f"{name}'s {', '.join(changed)} changed since the merge.")
    for row in before["people"]:
        taken = Person.objects.with_email(row["email"]).exclude(pk=survivor_row["id"]).first()
        if taken is not None:
            blockers.append(f"{row['email']} is now the address of {taken}.")
    blockers += _membership_blockers(after)
    aliases = {
        row["id"]: row
        for row in _rows(EmailAlias.objects.filter(pk__in=[row["id"] for row in after["aliases"]]))
    }
    for row in after["aliases"]:
        now_alias = aliases.get(row["id"])
        if now_alias is None:
            blockers.append(f"The alias {row['email']} was removed since the merge.")
        elif now_alias.get("last_used_at") != row.get("last_used_at"):
            blockers.append(
                f"An import used the address {row['email']} since the merge and updated "
                f"{name}: what it changed cannot be told apart from {name}'s own."
            )
        elif now_alias != row:
            blockers.append(f"The alias {row['email']} was changed since the merge.")
    return blockers


def _membership_blockers(after):
    blockers = []
    ids = [row["id"] for row in after["memberships"]]
    current = {row["id"]: row for row in _rows(Membership.objects.filter(pk__in=ids))}
    accounts = dict(Membership.objects.filter(pk__in=ids).values_list("pk", "account__name"))
    for row in after["memberships"]:
        if row["id"] not in current:
            blockers.append(f"A membership the merge moved (#{row['id']}) was deleted since.")
        elif current[row["id"]] != row:
            blockers.append(
                f"The membership at {accounts[row['id']]} changed since the merge "
                "(its marks, role, status or dates)."
            )
    for table, through in LINK_TABLES.items():
        noun = "task" if table == "task_links" else "touchpoint"
        then = {row["id"] for row in after[table]}
        rows = _rows(through.objects.filter(membership_id__in=ids))
        now = {row["id"] for row in rows}
        owner = f"{noun}_id"
        model = Task if noun == "task" else Touchpoint
        titles = dict(
            model.objects.filter(pk__in=[r[owner] for r in [*rows, *after[table]]]).values_list(
                "pk", "title" if noun == "task" else "subject"
            )
        )
        for row in rows:
            if row["id"] not in then:
                blockers.append(
                    f"The {noun} “{titles.get(row[owner])}” was linked to "
                    f"{accounts.get(row['membership_id'], 'a moved membership')} since the merge."
                )
        for row in after[table]:
            if row["id"] not in now:
                blockers.append(
                    f"The {noun} “{titles.get(row[owner], '(deleted)')}” was unlinked from "
                    "a moved membership since the merge."
                )
    return blockers


@transaction.atomic
def unmerge(merge, *, by):
    """Undo `merge`: both people, their memberships, task and touchpoint links, contact
    changes, alerts and aliases back exactly as they were before it.

    Raises ValidationError (code "unmerge_blocked", the reasons in `params["blockers"]`) when
    something since depends on the merged state (unmerge_blockers), and writes nothing then.
    Side effects: restores the rows of the snapshot, deletes the aliases the merge created,
    records a ContactChange (PERSON, UNMERGE) per membership moved back and marks the merge
    unmerged. Returns the merged person, back.
    """
    merge = PersonMerge.objects.select_for_update().get(pk=merge.pk)
    Person.objects.select_for_update().filter(pk=merge.survivor_id).first()
    blockers = unmerge_blockers(merge)
    if blockers:
        raise ValidationError(
            "This merge cannot be undone: %(reasons)s",
            code="unmerge_blocked",
            params={"reasons": " ".join(blockers), "blockers": blockers},
        )
    snapshot = merge.snapshot
    before, after = snapshot["before"], snapshot["after"]
    survivor = Person.objects.get(pk=snapshot["survivor_pk"])
    survivor_label = person_label(survivor)
    EmailAlias.objects.filter(pk__in=snapshot["created_aliases"]).delete()
    # The survivor first: the merged person may come back with the address it holds now.
    people = sorted(before["people"], key=lambda row: row["id"] != survivor.pk)
    _restore(Person, people)
    for row in before["merges"]:
        PersonMerge.objects.filter(pk=row["id"]).update(survivor_id=row["survivor_id"])
    _restore(EmailAlias, before["aliases"])
    after_ids = [row["id"] for row in after["memberships"]]
    for through in LINK_TABLES.values():
        through.objects.filter(membership_id__in=after_ids).delete()
    kept = {row["id"] for row in before["memberships"]} & set(after_ids)
    tracked = {
        m.pk: tracked_values(m)
        for m in Membership.objects.filter(pk__in=kept, person=survivor).select_related("role")
    }
    moved_back = [row for row in before["memberships"] if row["person_id"] != survivor.pk]
    _restore(Membership, before["memberships"])
    for table, through in LINK_TABLES.items():
        through.objects.bulk_create(through(**_parsed(through, row)) for row in before[table])
    for row in before["contact_changes"]:
        ContactChange.objects.filter(pk=row["id"]).update(
            person_id=row["person_id"], membership_id=row["membership_id"]
        )
    for row in before["alerts"]:
        KeyContactAlert.objects.filter(pk=row["id"]).update(membership_id=row["membership_id"])

    merged = Person.objects.get(pk=snapshot["merged_pk"])
    moves = [(m, None) for m in Membership.objects.filter(pk__in=[r["id"] for r in moved_back])]
    _record_moves(
        moves,
        old=survivor_label,
        new=person_label(merged),
        by=by,
        source=ContactChange.Source.UNMERGE,
        person=merged,
    )
    for membership in Membership.objects.filter(pk__in=tracked).select_related("role"):
        record_contact_changes(
            membership=membership,
            before=tracked[membership.pk],
            source=ContactChange.Source.UNMERGE,
            by=by,
        )
    PersonMerge.objects.filter(pk=merge.pk).update(unmerged_at=timezone.now(), unmerged_by=by)
    return merged
