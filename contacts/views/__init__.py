"""Views of contacts, one module per page family: people (a person's page, /people/ and its
downloads), memberships (adding, editing and removing contacts), tasks (tasks and
touchpoints), segments (saved people lists). The Contacts widget is not here: the account page
draws it through contacts.widget."""

from django.shortcuts import get_object_or_404

from accounts.models import Account


def _get_account(pk):
    return get_object_or_404(Account.objects.select_related("account_type"), pk=pk)
