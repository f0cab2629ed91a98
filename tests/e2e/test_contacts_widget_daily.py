"""The Contacts widget's daily use in a real browser (issue 15): sorting by a header, page
numbers and size, the Roles disclosure with its chips, a View that does not exist here, the
counts after adding a contact, the download; checked with axe and at phone width."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import AccountRole
from config import staff
from tests.e2e.conftest import (
    VIEWPORT,
    assert_accessible,
    assert_no_sideways_scroll,
    keep_screenshot,
    sign_in,
)
from tests.factories import MembershipFactory, PersonFactory


@pytest.fixture
def staff_group():
    # Standard staff may edit contacts and download segments.
    return staff.STANDARD


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
    contact("berlin", "Barbara", "Liskov", "Site", "End user")
    contact("paris", "Donald", "Knuth", "Site", "End user")
    contact("other", "Linus", "Torvalds", "Corporate", "Champion")
    return tree


def names_in(page):
    return page.get_by_role("region", name="Contacts").locator("#contact-results td.contact-name a")


def settled(page, state):
    """assert_accessible once the list is drawn in full: no request under way, and the list
    back from the half-faded look it has while one is (its colours are what axe measures)."""
    expect(page.locator("form.htmx-request")).to_have_count(0)
    expect(page.locator("#contact-results")).to_have_css("opacity", "1")
    assert_accessible(page, state)


def header(page, name):
    return page.get_by_role("columnheader", name=name)


def test_sorting_by_a_header_keeps_the_filters_and_the_filters_keep_the_sort(
    signed_in_page, company
):
    page = signed_in_page
    page.goto(f"/accounts/{company['emea'].pk}/?view=hierarchy")
    expect(names_in(page)).to_have_text(
        [
            "Ada Lovelace",
            "Edsger Dijkstra",
            "Grace Hopper",
            "Donald Knuth",
            "Barbara Liskov",
            "Alan Turing",
        ]
    )

    header(page, "Role").get_by_role("link", name="Role").click()
    expect(page).to_have_url(re.compile(r"sort=role"))
    expect(header(page, "Role")).to_have_attribute("aria-sort", "ascending")
    # Champion (Corporate), Champion (Region), End user, Regional director, Site admin.
    expect(names_in(page)).to_have_text(
        [
            "Alan Turing",
            "Ada Lovelace",
            "Donald Knuth",
            "Barbara Liskov",
            "Grace Hopper",
            "Edsger Dijkstra",
        ]
    )
    settled(page, "sorted by role")

    header(page, "Role").get_by_role("link", name="Role").click()
    expect(page).to_have_url(re.compile(r"sort=-role"))
    expect(header(page, "Role")).to_have_attribute("aria-sort", "descending")
    expect(names_in(page).first).to_have_text("Edsger Dijkstra")

    # A filter keeps the order; the header link keeps the filter.
    page.get_by_label("Search").press_sequentially("customer")
    expect(page).to_have_url(re.compile(r"q=customer"))
    expect(page).to_have_url(re.compile(r"sort=-role"))
    expect(names_in(page).first).to_have_text("Edsger Dijkstra")
    header(page, "Name").get_by_role("link", name="Name").click()
    expect(page).to_have_url(re.compile(r"q=customer.*sort=name|sort=name.*q=customer"))
    expect(header(page, "Name")).to_have_attribute("aria-sort", "ascending")
    expect(header(page, "Role")).not_to_have_attribute("aria-sort", re.compile("."))
    expect(names_in(page)).to_have_text(
        [
            "Edsger Dijkstra",
            "Grace Hopper",
            "Donald Knuth",
            "Barbara Liskov",
            "Ada Lovelace",
            "Alan Turing",
        ]
    )

    page.go_back()
    expect(header(page, "Role")).to_have_attribute("aria-sort", "descending")


def test_roles_disclosure_with_chips_and_a_screenshot(signed_in_page, company):
    page = signed_in_page
    page.goto(f"/accounts/{company['emea'].pk}/?view=hierarchy&sort=name")

    roles = page.get_by_text("Roles", exact=True)
    roles.click()
    page.get_by_role("group", name="Site").get_by_label("End user").check()
    expect(names_in(page)).to_have_text(["Donald Knuth", "Barbara Liskov"])
    page.get_by_role("group", name="Region").get_by_label("Champion").check()
    expect(names_in(page)).to_have_text(["Donald Knuth", "Barbara Liskov", "Ada Lovelace"])
    expect(page).to_have_url(re.compile(r"sort=name"))
    chips = page.get_by_role("list", name="Chosen roles")
    expect(chips.get_by_role("link")).to_have_count(2)
    expect(page.get_by_text("Roles (2 chosen)")).to_be_visible()
    settled(page, "roles open, two chosen")
    keep_screenshot(page.get_by_role("region", name="Contacts"), "widget-sorted")

    chips.get_by_role("link", name="Remove the role End user (Site) from the filter").click()
    expect(names_in(page)).to_have_text(["Ada Lovelace"])
    expect(page.get_by_role("group", name="Site").get_by_label("End user")).not_to_be_checked()
    expect(page.get_by_role("group", name="Region").get_by_label("Champion")).to_be_checked()
    expect(page.get_by_text("Roles (1 chosen)")).to_be_visible()
    expect(page).to_have_url(re.compile(r"sort=name"))
    settled(page, "one chip left")


def test_page_numbers_and_size_with_htmx(signed_in_page, company):
    paris = company["paris"]
    end_user = AccountRole.objects.get(account_type__name="Site", name="End user")
    for n in range(28):
        MembershipFactory(
            account=paris,
            role=end_user,
            person=PersonFactory(first_name="Pat", last_name=f"Bulk{n:02d}"),
        )
    page = signed_in_page
    page.goto(f"/accounts/{paris.pk}/?sort=-name")
    page.evaluate("window.sameDocument = true")
    expect(page.get_by_text("30 contacts")).to_be_visible()
    expect(names_in(page)).to_have_count(25)

    pages = page.get_by_role("navigation", name="Contact pages")
    pages.get_by_role("link", name="Page 2").click()
    expect(names_in(page)).to_have_count(5)
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page).to_have_url(re.compile(r"sort=-name"))
    settled(page, "page 2")

    page.get_by_label("Rows per page").select_option("50")
    expect(names_in(page)).to_have_count(30)
    expect(page).to_have_url(re.compile(r"per_page=50"))
    expect(page).not_to_have_url(re.compile(r"page=2"))
    # A filter keeps the page size and the sort.
    page.get_by_label("Search").press_sequentially("bulk")
    expect(page).to_have_url(re.compile(r"per_page=50"))
    expect(names_in(page)).to_have_count(28)
    expect(names_in(page).first).to_have_text("Pat Bulk27")
    assert page.evaluate("window.sameDocument === true") is True


def test_page_size_and_sorting_without_javascript(open_tab, staff_user, company):
    page = open_tab(viewport=VIEWPORT, java_script_enabled=False)
    paris = company["paris"]
    for n in range(26):
        MembershipFactory(
            account=paris, person=PersonFactory(first_name="Pat", last_name=f"Bulk{n:02d}")
        )
    sign_in(page, staff_user.username)
    page.goto(f"/accounts/{paris.pk}/")
    header(page, "Name").get_by_role("link", name="Name").click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    page.get_by_label("Rows per page").select_option("50")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"per_page=50"))
    expect(names_in(page)).to_have_count(28)
    page.get_by_label("Search").fill("bulk")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    expect(page).to_have_url(re.compile(r"per_page=50"))
    expect(names_in(page)).to_have_count(26)
    expect(header(page, "Name")).to_have_attribute("aria-sort", "ascending")
    # A chip is a plain link.
    page.get_by_text("Roles", exact=True).click()
    page.get_by_role("group", name="Site").get_by_label("End user").check()
    page.get_by_label("Search").fill("")
    page.get_by_role("button", name="Apply").click()
    expect(names_in(page)).to_have_text(["Donald Knuth"])
    page.get_by_role("link", name="Remove the role End user (Site) from the filter").click()
    expect(names_in(page)).to_have_count(28)


def test_a_view_that_does_not_exist_here_is_named_above_the_list(signed_in_page, company):
    page = signed_in_page
    page.goto(f"/accounts/{company['berlin'].pk}/?view=children")

    expect(page.get_by_role("status").filter(has_text="so this shows")).to_have_text(
        "“children” is not a view of this account, so this shows “This account”."
    )
    expect(names_in(page)).to_have_text(["Barbara Liskov"])
    settled(page, "unknown view")


def test_adding_a_contact_updates_the_view_counts_and_the_drawing(signed_in_page, company):
    page = signed_in_page
    emea = company["emea"]
    page.goto(f"/accounts/{emea.pk}/")
    page.evaluate("window.sameDocument = true")
    view = page.get_by_label("View")
    expect(view.locator("option:checked")).to_have_text("This account (2)")
    drawing = page.get_by_role("region", name="In the company")
    emea_node = drawing.get_by_role("listitem").filter(has_text="Emea").first
    expect(emea_node).to_contain_text("2 / 5")

    page.get_by_role("link", name="+ Add contact").click()
    dialog = page.get_by_role("dialog", name="Add contact")
    dialog.get_by_role("combobox", name="Person").press_sequentially("Katherine Johnson")
    expect(dialog.get_by_role("option")).to_have_text(["(new) Katherine Johnson"])
    dialog.get_by_role("combobox", name="Person").press("ArrowDown")
    dialog.get_by_role("combobox", name="Person").press("Enter")
    form = page.get_by_role("dialog", name="New person")
    form.get_by_label("Email").fill("katherine@nasa.example")
    form.get_by_role("button", name="Save contact").click()
    done = page.get_by_role("dialog", name="Contact added")
    expect(done.get_by_role("status")).to_contain_text("Katherine Johnson")
    done.get_by_role("button", name="Done").click()

    expect(view.locator("option:checked")).to_have_text("This account (3)")
    expect(emea_node).to_contain_text("3 / 6")
    expect(page.get_by_role("option", name=re.compile(r"^Entire hierarchy"))).to_have_text(
        "Entire hierarchy (7)"
    )
    assert page.evaluate("window.sameDocument === true") is True
    settled(page, "after adding a contact")


def test_download_the_widget_list(signed_in_page, company):
    page = signed_in_page
    page.goto(f"/accounts/{company['emea'].pk}/?view=hierarchy&sort=-name")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert re.fullmatch(r"contacts-emea-emea-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    lines = Path(download.path()).read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "Name",
        "Alan Turing",
        "Ada Lovelace",
        "Barbara Liskov",
        "Donald Knuth",
        "Grace Hopper",
        "Edsger Dijkstra",
    ]


def open_roles_on_a_phone(page, staff_user, company):
    sign_in(page, staff_user.username)
    page.goto(f"/accounts/{company['emea'].pk}/?view=hierarchy&sort=role")
    page.get_by_text("Roles", exact=True).click()
    page.get_by_role("group", name="Region").get_by_label("Champion").tap()
    expect(names_in(page)).to_have_text(["Ada Lovelace"])
    expect(page.get_by_role("list", name="Chosen roles")).to_be_visible()


def test_the_widget_filters_open_fit_a_phone(phone_page, staff_user, company):
    page = phone_page
    open_roles_on_a_phone(page, staff_user, company)

    width = page.evaluate("document.documentElement.clientWidth")
    widget = page.get_by_role("region", name="Contacts")
    for part in (
        widget.locator("form.widget-filters"),
        page.get_by_role("list", name="Chosen roles"),
        widget.get_by_role("link", name="Download CSV"),
    ):
        box = part.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (part, box, width)
    # Each role is a tap target the height of a finger.
    box = page.get_by_role("group", name="Region").locator("label").first.bounding_box()
    assert box["height"] >= 44
    settled(page, "phone, roles open")
    keep_screenshot(page, "widget-phone-roles", full_page=True)


def test_the_account_page_with_filters_open_does_not_scroll_sideways(
    phone_page, staff_user, company
):
    page = phone_page
    open_roles_on_a_phone(page, staff_user, company)

    assert_no_sideways_scroll(page, "roles open, one chosen")


def test_filter_and_sort_the_widget_with_the_keyboard_alone(signed_in_page, company):
    page = signed_in_page
    page.goto(f"/accounts/{company['emea'].pk}/?view=hierarchy")
    page.get_by_label("View").focus()

    page.keyboard.press("Tab")
    roles = page.get_by_text("Roles", exact=True)
    expect(roles).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    champion = page.get_by_role("group", name="Region").get_by_label("Champion")
    expect(champion).to_be_focused()
    page.keyboard.press("Space")
    expect(champion).to_be_checked()
    expect(names_in(page)).to_have_text(["Ada Lovelace"])
    settled(page, "keyboard, one role")

    chip = page.get_by_role("link", name="Remove the role Champion (Region) from the filter")
    chip.focus()
    page.keyboard.press("Enter")
    expect(names_in(page)).to_have_count(6)
    expect(champion).not_to_be_checked()
    expect(page.get_by_role("list", name="Chosen roles")).to_have_count(0)
    expect(roles).to_be_focused()

    email = header(page, "Email").get_by_role("link", name="Email")
    email.focus()
    page.keyboard.press("Enter")
    expect(header(page, "Email")).to_have_attribute("aria-sort", "ascending")
    expect(names_in(page).first).to_have_text("Ada Lovelace")
    expect(names_in(page).last).to_have_text("Grace Hopper")
    settled(page, "keyboard, sorted by email")
