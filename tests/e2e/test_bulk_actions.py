"""Bulk actions in the Contacts widget, in a real browser: tick rows, review the one confirm
page, confirm, see the crowns; at 1280 px and at a phone's 390 px, axe-core in each state."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import AccountRole
from contacts.models import ContactChange, Membership
from tests.e2e.conftest import (
    assert_accessible,
    assert_no_sideways_scroll,
    keep_screenshot,
    sign_in,
)
from tests.factories import MembershipFactory, PersonFactory


@pytest.fixture
def company(tree):
    def contact(key, first, last, role_type, role, **kwargs):
        return MembershipFactory(
            account=tree[key],
            role=AccountRole.objects.get(account_type__name=role_type, name=role),
            person=PersonFactory(
                first_name=first, last_name=last, email=f"{first.lower()}@customer.example"
            ),
            is_contact=True,
            **kwargs,
        )

    contact("emea", "Ada", "Lovelace", "Region", "Champion", is_key_contact=True)
    contact("emea", "Grace", "Hopper", "Region", "Regional director")
    contact("paris", "Edsger", "Dijkstra", "Site", "Site admin")
    contact("berlin", "Barbara", "Liskov", "Site", "End user")
    contact("corp", "Alan", "Turing", "Corporate", "Champion")
    return tree


def row(page, name):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def bulk_mark_key_contacts(page, emea):
    page.goto(f"/accounts/{emea.pk}/?view=hierarchy")
    page.get_by_role("checkbox", name="Select Grace Hopper at Emea").check()
    page.get_by_role("checkbox", name="Select Edsger Dijkstra at Paris").check()
    expect(page.get_by_text("(2 selected)")).to_be_visible()
    page.get_by_label("With the selected").select_option(label="Mark key contact")
    page.get_by_role("button", name="Review…").click()
    expect(page.get_by_role("heading", level=1, name="Mark key contact")).to_be_visible()


def test_bulk_marking_key_contacts_reviews_confirms_and_shows_the_crowns(signed_in_page, company):
    page = signed_in_page
    emea = company["emea"]
    page.goto(f"/accounts/{emea.pk}/?view=hierarchy")
    assert_accessible(page, "widget with the bulk bar")

    bulk_mark_key_contacts(page, emea)

    changes = page.get_by_role("table", name="Contacts that will change")
    expect(changes.get_by_role("row")).to_have_count(3)
    expect(changes).to_contain_text("Grace Hopper")
    expect(changes).to_contain_text("Key contact: no → yes")
    assert_accessible(page, "confirm page")

    page.get_by_role("button", name="Mark key contact: 2 contacts").click()

    expect(page.get_by_text("Marked 2 contacts as key contacts.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"view=hierarchy"))
    for name in ("Grace Hopper", "Edsger Dijkstra", "Ada Lovelace"):
        expect(row(page, name).get_by_role("img", name="Key contact")).to_be_visible()
    expect(row(page, "Barbara Liskov").get_by_role("img", name="Key contact")).to_have_count(0)
    assert ContactChange.objects.filter(field="key_contact").count() == 2
    assert_accessible(page, "after the bulk action, its message shown")


def test_a_role_that_does_not_fit_is_named_on_the_confirm_page(signed_in_page, company):
    page = signed_in_page
    emea = company["emea"]
    page.goto(f"/accounts/{emea.pk}/?view=hierarchy")
    page.get_by_role("checkbox", name="Select all 5 contacts on this page").check()
    expect(page.get_by_text("(5 selected)")).to_be_visible()
    page.get_by_label("With the selected").select_option(label="Set role")
    page.get_by_role("button", name="Review…").click()

    page.get_by_label("Role to set").select_option(label="End user")
    assert_accessible(page, "choosing the role")
    page.get_by_role("button", name="Review").click()

    left_out = page.get_by_role("table", name="Contacts left out")
    expect(left_out).to_contain_text("Region accounts do not take the role “End user”")
    expect(left_out).to_contain_text("Alan Turing")
    expect(page.get_by_role("table", name="Contacts already so")).to_contain_text("Barbara Liskov")
    assert_accessible(page, "confirm page with rows left out")
    page.set_viewport_size({"width": 1280, "height": 720})
    keep_screenshot(page, "bulk-confirm", full_page=True)
    page.get_by_role("button", name="Set role: 1 contact").click()

    expect(
        page.get_by_text("Set the role “End user” for 1 contact. 3 selected were left out.")
    ).to_be_visible()
    expect(row(page, "Edsger Dijkstra")).to_contain_text("End user")


def test_bulk_actions_fit_a_phone(phone_page, staff_user, company):
    page = phone_page
    sign_in(page, staff_user.username)
    emea = company["emea"]

    bulk_mark_key_contacts(page, emea)

    assert_accessible(page, "confirm page at 390 px")
    assert_no_sideways_scroll(page, "confirm page at 390 px")
    page.get_by_role("button", name="Mark key contact: 2 contacts").click()
    expect(page.get_by_text("Marked 2 contacts as key contacts.")).to_be_visible()
    assert_no_sideways_scroll(page, "widget after the bulk action at 390 px")
    assert Membership.objects.filter(is_key_contact=True).count() == 3


def test_bulk_marking_key_contacts_with_the_keyboard_only(signed_in_page, company):
    page = signed_in_page
    page.goto(f"/accounts/{company['emea'].pk}/?view=hierarchy")
    grace = page.get_by_role("checkbox", name="Select Grace Hopper at Emea")
    grace.focus()
    page.keyboard.press("Space")
    expect(grace).to_be_checked()
    expect(page.get_by_text("(1 selected)")).to_be_visible()
    # The row's checkbox comes just before its name in the tab order.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Grace Hopper", exact=True)).to_be_focused()
    page.get_by_label("With the selected").focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("With the selected")).to_have_value("mark_key")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Review…")).to_be_focused()
    page.keyboard.press("Enter")

    confirm = page.get_by_role("button", name="Mark key contact: 1 contact")
    expect(confirm).to_be_visible()
    while not confirm.evaluate("button => button === document.activeElement"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    expect(page.get_by_text("Marked 1 contact as key contact.")).to_be_visible()
    expect(row(page, "Grace Hopper").get_by_role("img", name="Key contact")).to_be_visible()


def test_select_all_matching_across_pages(signed_in_page, company):
    page = signed_in_page
    emea = company["emea"]
    for number in range(30):
        MembershipFactory(
            account=emea,
            person=PersonFactory(last_name=f"Many{number:02}", email=f"m{number}@x.example"),
            is_contact=True,
        )
    page.goto(f"/accounts/{emea.pk}/?view=hierarchy&q=many")
    expect(page.get_by_text("30 contacts")).to_be_visible()

    page.get_by_role("checkbox", name="Select all 30 matching").check()
    expect(page.get_by_role("checkbox", name="Select all 25 contacts on this page")).to_be_checked()
    page.get_by_label("With the selected").select_option(label="Mark key contact")
    page.get_by_role("button", name="Review…").click()

    expect(page.get_by_role("heading", name="Will change (30)")).to_be_visible()
    assert_accessible(page, "confirm page of all matching")
    page.get_by_role("button", name="Mark key contact: 30 contacts").click()

    expect(page.get_by_text("Marked 30 contacts as key contacts.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=many"))
    assert Membership.objects.filter(is_key_contact=True).count() == 31
