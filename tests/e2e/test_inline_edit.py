"""Inline edits of a Contacts widget row in a real browser: Edit opens the row's role and
key-contact mark in the row, Save returns the row and the list refreshes, a role error shows
in the row, Escape cancels; axe-core with the editor open, and at 390 px."""

import pytest
from playwright.sync_api import expect

from accounts.models import AccountRole
from contacts.models import ContactChange, Membership
from tests.e2e.conftest import assert_accessible, assert_no_sideways_scroll, sign_in
from tests.factories import MembershipFactory, PersonFactory


@pytest.fixture
def grace(tree):
    MembershipFactory(
        account=tree["emea"],
        role=AccountRole.objects.get(account_type__name="Region", name="Champion"),
        person=PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@x.example"),
        is_contact=True,
        is_key_contact=True,
    )
    return MembershipFactory(
        account=tree["paris"],
        role=AccountRole.objects.get(account_type__name="Site", name="End user"),
        person=PersonFactory(first_name="Grace", last_name="Hopper", email="grace@x.example"),
        is_contact=True,
    )


def grace_row(page):
    return page.locator("tr", has=page.get_by_role("link", name="Grace Hopper", exact=True))


def test_editing_a_role_and_key_mark_in_the_row(signed_in_page, tree, grace):
    page = signed_in_page
    page.goto(f"/accounts/{tree['emea'].pk}/?view=hierarchy")
    expect(page.get_by_text("2 contacts")).to_be_visible()

    page.get_by_role("link", name="Edit Grace Hopper at Paris").click()

    role = page.get_by_label("Role of Grace Hopper")
    expect(role).to_be_focused()
    expect(role.locator("option")).to_have_text(["No role", "End user", "Site admin"])
    assert_accessible(page, "inline editor open")
    role.select_option(label="Site admin")
    grace_row(page).get_by_label("Key contact").check()
    grace_row(page).get_by_role("button", name="Save").click()

    expect(grace_row(page)).to_contain_text("Site admin")
    expect(grace_row(page).get_by_role("img", name="Key contact")).to_be_visible()
    # The list refreshed (contacts-changed): two key contacts now, in name order (Hopper
    # before Lovelace, where Ada came first as the only one), and focus is back on Edit.
    expect(page.locator("td.contact-name a")).to_have_text(["Grace Hopper", "Ada Lovelace"])
    expect(page.get_by_role("link", name="Edit Grace Hopper at Paris")).to_be_focused()
    grace.refresh_from_db()
    assert (grace.role.name, grace.is_key_contact) == ("Site admin", True)
    assert ContactChange.objects.filter(membership=grace).count() == 2
    # The list fades while it refreshes (app.css): axe reads its colours once it is whole.
    expect(page.locator("#contact-results")).to_have_css("opacity", "1")
    assert_accessible(page, "after an inline save")


def test_escape_cancels_the_inline_editor_and_nothing_is_written(signed_in_page, tree, grace):
    page = signed_in_page
    page.goto(f"/accounts/{tree['paris'].pk}/")
    page.get_by_role("link", name="Edit Grace Hopper at Paris").click()
    role = page.get_by_label("Role of Grace Hopper")
    role.select_option(label="Site admin")

    role.press("Escape")

    expect(page.get_by_label("Role of Grace Hopper")).to_have_count(0)
    expect(grace_row(page)).to_contain_text("End user")
    expect(page.get_by_role("link", name="Edit Grace Hopper at Paris")).to_be_focused()
    assert Membership.objects.get(pk=grace.pk).role.name == "End user"


def test_a_role_error_shows_in_the_row(signed_in_page, tree, grace):
    page = signed_in_page
    page.goto(f"/accounts/{tree['paris'].pk}/")
    page.get_by_role("link", name="Edit Grace Hopper at Paris").click()
    # Someone else removes the option's role from Site accounts while the editor is open: a
    # value the server refuses, as a hand-made request would send.
    page.get_by_label("Role of Grace Hopper").evaluate(
        "select => { select.options[2].value = '999999'; select.selectedIndex = 2; }"
    )
    grace_row(page).get_by_role("button", name="Save").click()

    expect(grace_row(page).get_by_role("alert")).to_have_text(
        "Choose one of the roles of Site accounts."
    )
    assert_accessible(page, "inline editor with an error")
    assert Membership.objects.get(pk=grace.pk).role.name == "End user"


def test_inline_editing_fits_a_phone(phone_page, staff_user, tree, grace):
    page = phone_page
    sign_in(page, staff_user.username)
    page.goto(f"/accounts/{tree['paris'].pk}/")
    page.get_by_role("link", name="Edit Grace Hopper at Paris").click()

    expect(page.get_by_label("Role of Grace Hopper")).to_be_visible()
    assert_accessible(page, "inline editor at 390 px")
    assert_no_sideways_scroll(page, "inline editor at 390 px")
    page.get_by_label("Role of Grace Hopper").select_option(label="Site admin")
    grace_row(page).get_by_role("button", name="Save").click()
    expect(grace_row(page)).to_contain_text("Site admin")
