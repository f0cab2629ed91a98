"""The phone layout at 390 px (issue 15), and the same pages at 1280 px unchanged: the menu,
the Contacts widget's stacked rows, the add-contact dialog and its suggestions, one-column
forms, and wide tables that scroll in their own box.

E2E_SCREENSHOTS=<folder> keeps a screenshot of each state, to look at.
"""

import os
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible, assert_no_sideways_scroll
from tests.e2e.demo_data import sign_in_quickly

SHOTS = os.environ.get("E2E_SCREENSHOTS")


def shot(page, name, *, full_page=True, height=None):
    """A screenshot of the page (its top `height` px only, when given)."""
    if SHOTS:
        clip = {"x": 0, "y": 0, "width": 390, "height": height} if height else None
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=full_page, clip=clip)


def box(locator):
    found = locator.bounding_box()
    assert found, f"{locator} is not drawn"
    return found


def overlaps(a, b):
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.fixture
def phone(phone_page, staff_user, live_server, demo):
    sign_in_quickly(phone_page, staff_user, live_server.url)
    return phone_page


@pytest.fixture
def desktop(page, staff_user, live_server, demo):
    sign_in_quickly(page, staff_user, live_server.url)
    return page


def menu_toggle(page):
    return page.get_by_role("banner").locator("summary", has_text="Menu")


def test_the_menu_on_a_phone_opens_with_the_keyboard_and_holds_sign_out(phone, demo):
    page = phone
    page.goto(f"/accounts/{demo['paris'].pk}/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    toggle = menu_toggle(page)
    expect(toggle).to_be_visible()
    # A <summary>: browsers tell screen readers itself whether it is expanded.
    menu = page.locator("details.nav-menu")
    expect(menu).not_to_have_attribute("open", "")

    toggle.focus()
    page.keyboard.press("Enter")
    expect(nav).to_be_visible()
    expect(menu).to_have_attribute("open", "")
    expect(nav.get_by_role("link")).to_have_text(["Accounts", "People", "Integrations", "Admin"])
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("banner").get_by_text("Pat Lee")).to_be_visible()
    # The open menu fits the screen.
    assert box(page.locator(".nav-menu-body"))["width"] <= 390
    assert_no_sideways_scroll(page, "menu open")
    assert_accessible(page, "menu open")
    shot(page, "phone-account-menu-open", height=1500)

    page.keyboard.press("Space")
    expect(nav).to_be_hidden()

    # Open again, into its links, and Escape: closed, the focus back on the toggle.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Accounts")).to_be_focused()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(toggle).to_be_focused()


def test_the_menu_opens_without_javascript(open_tab, live_server, staff_user, demo):
    page = open_tab(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    sign_in_quickly(page, staff_user, live_server.url)
    page.goto("/people/")
    menu_toggle(page).click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Accounts")).to_be_visible()
    nav.get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")


def test_at_1280_the_navigation_is_a_bar_without_a_menu_button(desktop, demo):
    page = desktop
    page.goto("/people/")
    expect(menu_toggle(page)).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(["Accounts", "People", "Integrations", "Admin"])
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # One bar: the brand, the links and sign-out on one line.
    brand, people, sign_out = (
        box(page.get_by_role("link", name="Unified Contacts")),
        box(nav.get_by_role("link", name="People")),
        box(page.get_by_role("button", name="Sign out")),
    )
    assert abs(brand["y"] - people["y"]) < 12 and abs(people["y"] - sign_out["y"]) < 12
    assert sign_out["x"] > 1000


def test_the_widget_stacks_its_rows_on_a_phone_with_every_action_reachable(phone, demo):
    page = phone
    page.goto(f"/accounts/{demo['paris'].pk}/")
    widget = page.get_by_role("region", name="Contacts")
    rows = widget.get_by_role("row").filter(has=page.get_by_role("cell"))
    first = rows.first
    expect(first.get_by_role("link", name="Ada Lovelace", exact=True)).to_be_visible()

    # Each cell on its own line, named by its column's label.
    cells = first.get_by_role("cell")
    labels = cells.evaluate_all("cells => cells.map(c => getComputedStyle(c, '::before').content)")
    assert labels == [
        '"Select" / ""',
        '"Name" / ""',
        '"Email" / ""',
        '"Role" / ""',
        '"Account" / ""',
        '"Type" / ""',
        '"Actions" / ""',
    ]
    tops = [box(cells.nth(index))["y"] for index in range(cells.count())]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)
    for name in ("Edit Ada Lovelace at Paris", "Remove Ada Lovelace as a contact of Paris"):
        action = first.get_by_role("link", name=name)
        expect(action).to_be_visible()
        assert box(action)["x"] + box(action)["width"] <= 390
    assert box(widget.get_by_role("table"))["width"] <= 390
    assert_no_sideways_scroll(page, "widget")
    assert_accessible(page, "widget stacked")
    shot(page, "phone-account-widget", height=1500)


def test_the_widget_is_a_table_at_1280(desktop, demo):
    page = desktop
    page.goto(f"/accounts/{demo['paris'].pk}/")
    widget = page.get_by_role("region", name="Contacts")
    first = widget.get_by_role("row").filter(has=page.get_by_role("cell")).first
    cells = first.get_by_role("cell")
    assert (
        cells.evaluate_all("cells => cells.map(c => getComputedStyle(c).display)")
        == ["table-cell"] * 7
    )
    tops = {round(box(cells.nth(index))["y"]) for index in range(cells.count())}
    assert len(tops) == 1
    assert_no_sideways_scroll(page, "widget at 1280")


def test_add_contact_on_a_phone_fits_and_its_suggestions_cover_nothing(phone, demo):
    page = phone
    page.goto(f"/accounts/{demo['paris'].pk}/")
    page.get_by_role("link", name="+ Add contact").click()
    dialog = page.get_by_role("dialog", name="Add contact")
    expect(dialog).to_be_visible()
    field = dialog.get_by_role("combobox", name="Person")
    field.press_sequentially("ada")
    options = dialog.get_by_role("option")
    expect(options.last).to_have_text("(new) ada")

    dialog_box = box(dialog)
    assert dialog_box["x"] >= 0 and dialog_box["x"] + dialog_box["width"] <= 390
    assert dialog_box["y"] >= 0 and dialog_box["y"] + dialog_box["height"] <= 844
    suggestions = box(dialog.get_by_role("listbox"))
    for other in (field, dialog.locator("#person-search-hint"), dialog.get_by_label("Close")):
        assert not overlaps(suggestions, box(other)), f"the suggestions cover {other}"
    assert_no_sideways_scroll(page, "add-contact suggestions")
    assert_accessible(page, "add-contact suggestions")
    shot(page, "phone-add-contact", full_page=False)


def test_forms_are_one_column_on_a_phone(phone, demo):
    page = phone
    page.goto(f"/accounts/{demo['corp'].pk}/tasks/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("New task")
    title, due = box(page.get_by_label(re.compile("^Title"))), box(page.get_by_label("Due date"))
    assert round(title["x"]) == round(due["x"])
    assert due["y"] > title["y"] + title["height"]
    assert_no_sideways_scroll(page, "task form")
    shot(page, "phone-task-form")


def test_a_wide_table_scrolls_in_its_own_box_not_the_page(phone, demo):
    page = phone
    columns = ["name", "email", "account", "account_id", "account_type", "role", "title", "phone"]
    page.goto("/people/?" + "&".join(f"cols={column}" for column in columns))
    scroller = page.locator(".table-scroll", has=page.locator("table.people-table"))
    sizes = scroller.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert sizes[0] > sizes[1], "the table is wider than the screen: it scrolls in its box"
    assert_no_sideways_scroll(page, "people with every column")
    shot(page, "phone-people", height=1500)
