"""Former contacts in a real browser (issue 14): a key contact marked former leaves the
Contacts widget; "Include former" shows them again, greyed, with the day they left."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import AccountRole
from config import staff
from tests.factories import MembershipFactory, PersonFactory


@pytest.fixture
def staff_group():
    return staff.STANDARD


@pytest.fixture
def paris(tree):
    for first, last, key in (("Ada", "Lovelace", True), ("Grace", "Hopper", False)):
        MembershipFactory(
            account=tree["paris"],
            role=AccountRole.objects.get(account_type__name="Site", name="Site admin"),
            person=PersonFactory(
                first_name=first, last_name=last, email=f"{first.lower()}@customer.example"
            ),
            is_contact=True,
            is_key_contact=key,
        )
    return tree["paris"]


def names_in(page):
    return page.get_by_role("region", name="Contacts").locator("td.contact-name a")


def test_a_key_contact_marked_former_leaves_the_widget_and_include_former_shows_them(
    signed_in_page, paris
):
    page = signed_in_page
    page.goto(f"/accounts/{paris.pk}/")
    expect(names_in(page)).to_have_text(["Ada Lovelace", "Grace Hopper"])

    page.get_by_role("link", name="Edit Ada Lovelace at Paris").click()
    # The row's inline editor takes role and key mark; the status is on the Edit page.
    page.get_by_role("link", name="All fields of Ada Lovelace at Paris").click()
    page.get_by_label("Former").check()
    page.get_by_label("End date").fill("2026-05-31")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("ul.messages")).to_contain_text("Saved Ada Lovelace at Paris.")
    expect(names_in(page)).to_have_text(["Grace Hopper"])
    expect(page.get_by_role("region", name="Contacts")).to_contain_text("1 contact")

    page.get_by_label("Include former").check()

    expect(names_in(page)).to_have_text(["Grace Hopper", "Ada Lovelace"])
    ada = page.get_by_role("row").filter(has=page.get_by_role("link", name="Ada Lovelace"))
    expect(ada).to_contain_text("Former key contact · left 2026-05-31")
    expect(ada).to_have_class("row-former")
    expect(ada.get_by_role("img", name="Key contact")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"former=on"))
    page.screenshot(path="/tmp/former_widget.png", full_page=True)

    # Their Edit shows them former, with their dates; the person page has their timeline.
    ada.get_by_role("link", name="Edit").click()
    page.get_by_role("link", name="All fields of Ada Lovelace at Paris").click()
    expect(page.get_by_label("Former")).to_be_checked()
    expect(page.get_by_label("End date")).to_have_value("2026-05-31")
    page.screenshot(path="/tmp/former_edit.png", full_page=True)
    page.get_by_role("link", name="Ada Lovelace").click()
    timeline = page.get_by_role("list", name="Timeline at Paris")
    expect(timeline.get_by_role("listitem").first).to_have_text("2026-05-31 left (app, by Pat Lee)")
    page.screenshot(path="/tmp/former_person.png", full_page=True)
