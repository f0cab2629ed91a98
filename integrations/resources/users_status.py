"""The users file's Status, Start Date and End Date (issue 14): what a row's membership will
have, under the edit page's rule (contacts.services.check_status_and_dates); the "key contact
left" alerts a chunk raises or closes; how the history writes a membership's values. Plain
values, as the rest of the import."""

from django.core.exceptions import ValidationError

from contacts.models import Membership
from contacts.services import check_status_and_dates

ACTIVE, FORMER = Membership.Status.ACTIVE.value, Membership.Status.FORMER.value


def status_and_dates(row, stored, *, today):
    """The (status, start date, end date) the row's membership will have, or None after
    noting on the row why it cannot (contacts.services.check_status_and_dates, the edit
    page's rule). A blank keeps the stored value; a former member made active without an
    End Date is back, with none; former without one ends today."""
    data = row.data
    # stored: [pk, role_id, is_contact, is_key_contact, status, start_date, end_date]
    old = tuple(stored[4:]) if stored is not None else (ACTIVE, None, None)
    status, start, end = data["status"], data["start_date"], data["end_date"]
    if status is None and start is None and end is None:
        return old  # the common case: a file without these columns
    if status == ACTIVE and end is None and old[0] == FORMER:
        new = (ACTIVE, start or old[1], None)
    else:
        new = (status or old[0], start or old[1], end or old[2])
    if new[0] == FORMER and new[2] is None:
        new = (FORMER, new[1], today)
    try:
        check_status_and_dates(status=new[0], start_date=new[1], end_date=new[2], today=today)
    except ValidationError as error:
        code = error.error_dict["end_date"][0].code
        start_text, end_text = new[1] and new[1].isoformat(), new[2].isoformat()
        if code == "end_before_start":
            stored_end = end is None
            row.error(
                "Start Date" if stored_end else "End Date",
                f"End Date “{end_text}”{' (stored)' if stored_end else ''} is before Start "
                f"Date “{start_text}”{' (stored)' if start is None else ''}: the End Date "
                "must be on or after the Start Date.",
            )
        else:
            row.error(
                "Status" if end is None else "End Date",
                f"Status “active” with End Date “{end_text}”"
                f"{' (stored)' if end is None else ''} in the past: an active member has no "
                "past End Date. Write former, or an End Date from today on.",
            )
        return None
    return new


def note_key_contact_change(plan, reference, account_pk, before, after):
    """Note in the plan a key contact who left (an alert to raise) or a new active key
    contact (the account's alerts to close): (role, contact, key, status, …) before and
    after the row."""
    was_key = before[2] and before[3] == ACTIVE
    is_key = after[2] and after[3] == ACTIVE
    if was_key and after[2] and after[3] == FORMER:
        plan.left_key_contacts.append(reference)
    elif is_key and not was_key:
        plan.new_key_contacts.add(account_pk)


def described(values, role_names):
    """A membership's (role id, contact, key contact, status, start, end) as the contact
    history writes them (contacts.services.tracked_values)."""
    role_id, is_contact, is_key, status, start, end = values
    return (
        role_names[role_id] if role_id else "",
        "yes" if is_contact else "no",
        "yes" if is_key else "no",
        status,
        start.isoformat() if start else "",
        end.isoformat() if end else "",
    )
