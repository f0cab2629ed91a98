"""config.links.id_url gives what reverse() gives, for every view of one id, under any script
prefix."""

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from config.links import id_url

VIEWS_OF_ONE_ID = [
    "accounts:detail",
    "accounts:history",
    "contacts:person",
    "contacts:edit-contact",
    "contacts:inline-edit",
    "contacts:remove-contact",
    "contacts:segment",
]


@pytest.mark.parametrize("viewname", VIEWS_OF_ONE_ID)
@pytest.mark.parametrize("pk", [1, 42, 2**31 - 1, "7"])
def test_id_url_is_what_reverse_gives(viewname, pk):
    assert id_url(viewname, pk) == reverse(viewname, args=[pk])


def test_id_url_follows_the_script_prefix():
    try:
        set_script_prefix("/contacts-app/")
        assert id_url("contacts:person", 5) == "/contacts-app/people/5/"
        assert id_url("contacts:person", 5) == reverse("contacts:person", args=[5])
    finally:
        set_script_prefix("/")
    assert id_url("contacts:person", 5) == "/people/5/"


def test_id_url_refuses_what_is_not_an_id():
    with pytest.raises(ValueError):
        id_url("contacts:person", "5/../admin")


def test_id_url_of_a_view_without_an_id_fails_as_reverse_does():
    with pytest.raises(NoReverseMatch):
        id_url("contacts:people", 5)
