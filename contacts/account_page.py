"""What an account's page shows of people: the contacts counted in its drawing, the Contacts
widget, and the tasks and touchpoints with who takes part. accounts/views.py asks this module
for them and knows nothing else of people."""

from django.db.models import Prefetch
from django.shortcuts import render

from config import staff

from .counts import ContactCounts, account_types_with_contacts
from .models import Membership
from .widget import RESULTS_TEMPLATE, contacts_widget

TOUCHPOINTS_SHOWN = 20
# The id of the widget's list: htmx names it (HX-Trigger) when the list refreshes itself on
# `contacts-changed`, a contact added, edited or removed.
RESULTS_ID = "contact-results"


def contacts_refresh(request, account):
    """The Contacts widget's list alone, for its htmx refresh: the filters stay on the page."""
    return render(request, RESULTS_TEMPLATE, contacts_widget(request, account))


def people_on_the_page(request, account, *, drawn):
    """The account page's context about people, for `account` and this request.

    `drawn` are the accounts the page draws around this one (its ancestors, siblings and
    children, with_contact_counts): with the contacts per account type of the hierarchy, they
    give the widget's View counts (ContactCounts)."""
    account_types = list(account_types_with_contacts(account))
    counts = ContactCounts(account, drawn, account_types)
    return {
        **contacts_widget(request, account, counts=counts, account_types=account_types),
        **_activity(request, account),
    }


def _activity(request, account):
    """The tasks and latest touchpoints of `account`, with who takes part (key contacts first,
    then by name): the context of contacts/account_activity.html."""
    people = Membership.objects.select_related("person").in_list_order()
    return {
        "tasks": account.tasks.select_related("owner").prefetch_related(
            Prefetch("contacts", queryset=people)
        ),
        "touchpoints": account.touchpoints.select_related("author").prefetch_related(
            Prefetch("participants", queryset=people)
        )[:TOUCHPOINTS_SHOWN],
        "can_edit_tasks": request.user.has_perm(staff.CAN_EDIT_TASKS),
        "can_edit_touchpoints": request.user.has_perm(staff.CAN_EDIT_TOUCHPOINTS),
    }
