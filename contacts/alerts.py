"""“Key contact left” alerts (SPEC issue 14): raised when a key contact's membership becomes
former, shown on the account's page until someone acknowledges it or a new key contact is
named there. The services, the admin and imports call these; pages read KeyContactAlert."""

from django.utils import timezone

from .models import KeyContactAlert, Membership


def raise_key_contact_alerts(memberships):
    """An open alert for each of `memberships` that is a key contact and former and has none
    open yet. `left_on` is its end date, or today. Returns the alerts created."""
    memberships = [
        m for m in memberships if m.is_key_contact and m.status == Membership.Status.FORMER
    ]
    if not memberships:
        return []
    already = set(
        KeyContactAlert.objects.open()
        .filter(membership__in=[m.pk for m in memberships])
        .values_list("membership_id", flat=True)
    )
    today = timezone.localdate()
    return KeyContactAlert.objects.bulk_create(
        KeyContactAlert(account_id=m.account_id, membership=m, left_on=m.end_date or today)
        for m in memberships
        if m.pk not in already
    )


def resolve_for_new_key_contacts(memberships, *, by):
    """Close the open alerts of the accounts where one of `memberships` is now an active key
    contact: a new key contact was named. Returns how many were closed."""
    accounts = {
        m.account_id
        for m in memberships
        if m.is_key_contact and m.status == Membership.Status.ACTIVE
    }
    if not accounts:
        return 0
    return (
        KeyContactAlert.objects.open()
        .filter(account__in=accounts)
        .update(
            resolved_at=timezone.now(),
            resolved_by=by,
            resolution=KeyContactAlert.Resolution.NEW_KEY_CONTACT,
        )
    )


def acknowledge(alert, *, by):
    """Someone saw that the key contact left: the alert closes. An alert closed already stays
    as it was. Returns whether this closed it."""
    return bool(
        KeyContactAlert.objects.open()
        .filter(pk=alert.pk)
        .update(
            resolved_at=timezone.now(),
            resolved_by=by,
            resolution=KeyContactAlert.Resolution.ACKNOWLEDGED,
        )
    )
