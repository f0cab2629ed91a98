"""The Contacts widget in a real browser: View, Roles, Search, the URL and the back button."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import AccountRole
from tests.factories import MembershipFactory, PersonFactory


@pytest.fixture
def company(tree):
    """Contacts across the Corp hierarchy, with roles, one key contact, and one elsewhere."""

    def contact(key, first, last, role_type, role, **kwargs):
        MembershipFactory(
            account=tree[key],
            role=AccountRole.objects.get(account_type__name=role_type, name=role),
            person=PersonFactory(
                first_name=first, last_name=last, email=f"{first.lower()}@customer.example"
            ),
            **kwargs,
        )

    contact("emea", "Ada", "Lovelace", "Region", "Champion", is_key_contact=True)
    contact("emea", "Grace", "Hopper", "Region", "Regional director")
    contact("corp", "Alan", "Turing", "Corporate", "Champion")
    contact("paris", "Edsger", "Dijkstra", "Site", "Site admin")
    contact("austin", "Barbara", "Liskov", "Site", "End user")
    contact("other", "Linus", "Torvalds", "Corporate", "Champion")
    return tree


def names_in(page):
    contacts = page.get_by_role("region", name="Contacts")
    return (
        contacts.get_by_role("row")
        .filter(has=page.get_by_role("cell"))
        .locator("td.contact-name a")
    )


def test_filtering_the_widget_updates_the_list_and_the_url_and_back_restores_it(
    signed_in_page, company
):
    page = signed_in_page
    emea = company["emea"]
    page.goto(f"/accounts/{emea.pk}/")

    # This account: its own contacts, the key contact first, with her crown.
    expect(names_in(page)).to_have_text(["Ada Lovelace", "Grace Hopper"])
    ada_row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Ada Lovelace"))
    expect(ada_row.get_by_role("img", name="Key contact")).to_be_visible()

    page.get_by_label("View").select_option(label="Entire hierarchy (5)")
    expect(names_in(page)).to_have_text(
        ["Ada Lovelace", "Edsger Dijkstra", "Grace Hopper", "Barbara Liskov", "Alan Turing"]
    )
    expect(page).to_have_url(re.compile(r"view=hierarchy"))
    expect(page.get_by_text("5 contacts")).to_be_visible()

    # Champion of the Region type (the groups list this account's type first).
    page.get_by_text("Roles", exact=True).click()
    page.get_by_role("group", name="Region").get_by_label("Champion").check()
    expect(names_in(page)).to_have_text(["Ada Lovelace"])
    expect(page).to_have_url(re.compile(r"role=\d+"))

    page.get_by_role("group", name="Region").get_by_label("Champion").uncheck()
    expect(names_in(page)).to_have_count(5)
    page.get_by_label("Search").press_sequentially("lisk")
    expect(names_in(page)).to_have_text(["Barbara Liskov"])
    expect(page).to_have_url(re.compile(r"q=lisk"))
    # The other account's row says where the contact is.
    expect(page.get_by_role("row").filter(has_text="Barbara Liskov")).to_contain_text("Austin")

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"q=lisk"))
    expect(names_in(page)).to_have_count(5)
    expect(page.get_by_label("Search")).to_have_value("")


def test_an_empty_result_names_the_filters_and_clears_them(signed_in_page, company):
    page = signed_in_page
    page.goto(f"/accounts/{company['emea'].pk}/")

    page.get_by_label("Search").fill("nobody-at-all")
    expect(page.get_by_text("No contacts match these filters:")).to_be_visible()
    expect(page.get_by_text("Search: “nobody-at-all”")).to_be_visible()

    page.get_by_role("link", name="Clear filters").click()
    expect(names_in(page)).to_have_text(["Ada Lovelace", "Grace Hopper"])
    expect(page.get_by_label("Search")).to_have_value("")


def test_key_contacts_only(signed_in_page, company):
    page = signed_in_page
    page.goto(f"/accounts/{company['emea'].pk}/?view=hierarchy")

    page.get_by_label("Key contacts only").check()
    expect(names_in(page)).to_have_text(["Ada Lovelace"])
    expect(page).to_have_url(re.compile(r"key=on"))


def test_the_widget_works_without_javascript(open_tab, staff_user, company):
    from tests.e2e.conftest import VIEWPORT, sign_in

    page = open_tab(viewport=VIEWPORT, java_script_enabled=False)
    sign_in(page, staff_user.username)
    page.goto(f"/accounts/{company['emea'].pk}/")
    page.get_by_label("View").select_option(label="Entire hierarchy (5)")
    page.get_by_label("Search").fill("ada")
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"view=hierarchy.*q=ada"))
    expect(names_in(page)).to_have_text(["Ada Lovelace"])
    expect(page.get_by_label("View")).to_have_value("hierarchy")
