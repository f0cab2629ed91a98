"""A person's accounts, roles and marks over time (the person page's Timeline): per account,
newest first, from the contact history (ContactChange) and the memberships' start and end
dates, as the person page reads them already: no query of its own. The history read is
capped."""

from dataclasses import dataclass
from datetime import date

from config.staff import display_name

from .models import ContactChange

# The newest changes read for a timeline: a page, not an archive (the account's History tab
# and the admin keep every one).
TIMELINE_CHANGES = 200
DATED_FIELDS = (ContactChange.Field.START_DATE, ContactChange.Field.END_DATE)


@dataclass
class Event:
    day: date
    what: str
    source: str = ""
    by: str = ""
    order: int = 0  # ties on a day: the later change first


@dataclass
class AccountTimeline:
    account: object
    membership: object
    events: list


def _what(change):
    new, old = change.new_value, change.old_value
    match change.field:
        case ContactChange.Field.CONTACT:
            return "became a contact" if new == "yes" else "no longer a contact"
        case ContactChange.Field.KEY_CONTACT:
            return "became key contact" if new == "yes" else "no longer key contact"
        case ContactChange.Field.ROLE:
            return f"role {new}" if new else f"role {old} removed"
        case ContactChange.Field.STATUS:
            return "left" if new == "former" else "back (active again)"
        case ContactChange.Field.PERSON:
            return f"moved from {old}" if old else "moved here"
    return f"{change.get_field_display()}: {old or '—'} → {new or '—'}"


def latest_changes(person):
    """The person's newest TIMELINE_CHANGES contact changes, with account and staff user."""
    return list(
        ContactChange.objects.filter(person=person)
        .select_related("account", "staff_user")
        .order_by("-changed_at", "-pk")[:TIMELINE_CHANGES]
    )


def person_timeline(memberships, changes):
    """[AccountTimeline] of a person from their memberships (with their accounts) and their
    latest_changes(): each account they were ever at (latest event first), with its events
    newest first. "Left" is dated by the end date given with it."""
    memberships = {m.account_id: m for m in memberships}
    # The end date written with a "left" (same account, same moment) dates it.
    end_dates = {
        (c.account_id, c.changed_at): c.new_value
        for c in changes
        if c.field == ContactChange.Field.END_DATE and c.new_value
    }
    timelines, accounts = {}, {}
    for order, change in enumerate(changes):
        accounts.setdefault(change.account_id, change.account)
        if change.field in DATED_FIELDS:
            continue
        day = change.changed_at.date()
        if change.field == ContactChange.Field.STATUS and change.new_value == "former":
            ended = end_dates.get((change.account_id, change.changed_at))
            day = date.fromisoformat(ended) if ended else day
        timelines.setdefault(change.account_id, []).append(
            Event(
                day=day,
                what=_what(change),
                source=change.get_source_display().lower(),
                by=display_name(change.staff_user) if change.staff_user else "",
                order=-order,
            )
        )
    for account_id, membership in memberships.items():
        accounts[account_id] = membership.account
        events = timelines.setdefault(account_id, [])
        if membership.start_date:
            events.append(Event(day=membership.start_date, what="joined", order=-len(changes)))
        if (
            membership.is_former
            and membership.end_date
            and not any(e.what == "left" for e in events)
        ):
            events.append(Event(day=membership.end_date, what="left", order=-len(changes)))
    result = []
    for account_id, events in timelines.items():
        if not events:
            continue
        events.sort(key=lambda e: (e.day, e.order), reverse=True)
        result.append(AccountTimeline(accounts[account_id], memberships.get(account_id), events))
    result.sort(key=lambda t: t.events[0].day, reverse=True)
    return result
