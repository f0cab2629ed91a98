"""The main tasks with the keyboard alone (issue 15): Tab, Shift+Tab, Enter, Space, the arrows
and typing; never a click. After every key the focus is on an element, not lost to the page's
body, and that element shows it (the outline or ring of app.css's :focus-visible).

Pages are opened by address (as a bookmark would) only to start a task.
"""

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.e2e.conftest import assert_accessible
from tests.e2e.demo_data import sign_in_quickly

# How many Tab presses a task may take to reach a control before the test gives up: more than
# any page here has controls before the one it looks for.
MAX_TABS = 120

FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return 'lost to the body';
  // A date field's calendar button (after its day, month and year): Chromium puts the focus
  // inside its own control, where :focus does not reach the field, and rings the button itself.
  const dateField = el.matches('input[type=date], input[type=datetime-local]');
  if (dateField && !el.matches(':focus')) return '';
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
               || style.boxShadow !== 'none';
  return ring ? '' : 'no outline or ring on ' + el.outerHTML.slice(0, 120);
}"""


@pytest.fixture
def keyboard_page(page, staff_user, live_server, demo):
    sign_in_quickly(page, staff_user, live_server.url)
    return page


def assert_focus_shown(page, after):
    # Waited for as Playwright's expect() waits for what a key changes.
    try:
        page.wait_for_function(f"() => !({FOCUS_SHOWN})()", timeout=2000)
    except PlaywrightTimeoutError:
        problem = page.evaluate(FOCUS_SHOWN)
        raise AssertionError(f"after {after} on {page.url}: focus {problem}") from None


def press(page, key):
    page.keyboard.press(key)
    assert_focus_shown(page, key)


def follow(page, key="Enter"):
    """A key that loads another page (a link, a form without htmx). A new page starts with the
    focus on its document, as any page does: nothing to check until the next Tab."""
    with page.expect_navigation():
        page.keyboard.press(key)


def tab_to(page, target, *, backwards=False):
    """Press Tab (Shift+Tab) until `target` has the focus, checking the focus at each step."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        if target.evaluate("el => el === document.activeElement"):
            assert_focus_shown(page, key)
            return target
        assert_focus_shown(page, key)
    raise AssertionError(f"{MAX_TABS} × {key} on {page.url} never reached {target}")


def type_text(page, text):
    page.keyboard.type(text)
    assert_focus_shown(page, f"typing {text!r}")


def test_find_an_account_and_filter_its_contacts(keyboard_page, demo):
    page = keyboard_page
    page.goto("/accounts/")

    tab_to(page, page.get_by_role("searchbox", name="Search"))
    type_text(page, "pari")
    follow(page)
    expect(page).to_have_url("/accounts/?q=pari")
    tab_to(page, page.get_by_role("table").get_by_role("link", name="Paris", exact=True))
    follow(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Paris")

    widget = page.get_by_role("region", name="Contacts")
    tab_to(page, widget.get_by_role("searchbox", name="Search"))
    type_text(page, "ada")
    expect(page).to_have_url(re.compile(r"q=ada"))
    rows = widget.get_by_role("row").filter(has=page.get_by_role("cell"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ada Lovelace")

    # Back to the View select with Shift+Tab, and a wider View with the arrows.
    view = widget.get_by_role("combobox", name="View")
    tab_to(page, view, backwards=True)
    press(page, "End")
    expect(page).to_have_url(re.compile(r"view=hierarchy"))
    expect(rows.first).to_contain_text("Ada Lovelace")

    tab_to(page, widget.get_by_role("checkbox", name="Key contacts only"))
    press(page, "Space")
    expect(page).to_have_url(re.compile(r"key=(on|yes|1)"))
    assert_accessible(page, "widget filtered with the keyboard")


def test_add_a_contact_with_the_keyboard(keyboard_page, demo):
    page = keyboard_page
    page.goto(f"/accounts/{demo['paris'].pk}/")
    widget = page.get_by_role("region", name="Contacts")
    count = widget.locator("p.count")
    contacts_before = int(count.inner_text().split()[0])

    tab_to(page, page.get_by_role("link", name="+ Add contact"))
    press(page, "Enter")
    expect(page.get_by_role("dialog", name="Add contact")).to_be_visible()
    # The dialog is named by its heading, which changes with each step.
    dialog = page.get_by_role("dialog")
    field = dialog.get_by_role("combobox", name="Person")
    expect(field).to_be_focused()

    type_text(page, "tur")
    options = dialog.get_by_role("option")
    expect(options.first).to_contain_text("Alan Turing")
    press(page, "ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Add as contact")).to_be_visible()
    # The defect: the focus went to the page's body here; it goes to the role.
    role = dialog.get_by_role("combobox", name=re.compile("role", re.I))
    expect(role).to_be_focused()
    press(page, "ArrowDown")
    tab_to(page, dialog.get_by_role("button", name="Add as contact"))
    press(page, "Enter")
    expect(dialog.get_by_role("heading", name="Contact added")).to_be_visible()
    assert_accessible(page, "contact added")
    expect(dialog.get_by_role("button", name="Done")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    # The list refreshes at once (Alan Turing sorts onto its second page).
    expect(count).to_have_text(f"{contacts_before + 1} contacts")


def test_create_a_task_with_contacts_with_the_keyboard(keyboard_page, demo):
    page = keyboard_page
    # The widget narrowed by a search first: its rows (a checkbox, links and actions each) would
    # otherwise come before the tasks in the tab order.
    page.goto(f"/accounts/{demo['paris'].pk}/?q=lovelace")

    tab_to(page, page.get_by_role("link", name="+ New task"))
    follow(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("New task")
    tab_to(page, page.get_by_label("Title"))
    type_text(page, "Renewal call")
    # The contact picker: type, pick a suggestion with the arrows and Enter, a chip appears.
    field = page.get_by_role("combobox", name="Contacts")
    tab_to(page, field)
    type_text(page, "lovel")
    option = page.get_by_role("listbox", name="Contacts of this company").get_by_role("option")
    expect(option.first).to_contain_text("Ada Lovelace")
    press(page, "ArrowDown")
    press(page, "Enter")
    expect(page.get_by_role("list", name="Chosen contacts").get_by_role("listitem")).to_have_count(
        1
    )
    expect(field).to_be_focused()
    tab_to(page, page.get_by_role("button", name="Save task"))
    follow(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Paris")
    tasks = page.get_by_role("region", name="Tasks")
    row = tasks.get_by_role("row").filter(has_text="Renewal call")
    expect(row).to_contain_text("Ada Lovelace")


def test_download_a_segment_with_the_keyboard(keyboard_page, demo):
    page = keyboard_page
    page.goto("/people/")

    tab_to(page, page.get_by_role("link", name="Saved segments"))
    follow(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Saved segments")
    tab_to(page, page.get_by_role("link", name="Paris key contacts"))
    follow(page)
    expect(page).to_have_url(re.compile(r"segment="))
    with page.expect_download() as download:
        tab_to(page, page.get_by_role("link", name="Download CSV"))
        press(page, "Enter")
    assert download.value.suggested_filename.endswith(".csv")


def test_bulk_mark_key_contacts_with_the_keyboard(keyboard_page, demo):
    """Select two rows of the widget and mark them key contacts, through the confirm page."""
    page = keyboard_page
    page.goto(f"/accounts/{demo['paris'].pk}/?q=extra0")
    widget = page.get_by_role("region", name="Contacts")

    for name in ("Extra00 Contact", "Extra01 Contact"):
        tab_to(page, widget.get_by_role("checkbox", name=re.compile(f"Select {name}")))
        press(page, "Space")
    expect(widget.get_by_text("(2 selected)")).to_be_visible()
    action = widget.get_by_label("With the selected")
    tab_to(page, action, backwards=True)  # the bulk bar is above the rows
    press(page, "ArrowDown")
    expect(action).to_have_value("mark_key")
    tab_to(page, widget.get_by_role("button", name="Review…"))
    follow(page)
    confirm = page.get_by_role("button", name="Mark key contact: 2 contacts")
    tab_to(page, confirm)
    assert_accessible(page, "bulk confirm page")
    follow(page)

    expect(page.get_by_text("Marked 2 contacts as key contacts.")).to_be_visible()
    rows = widget.get_by_role("row").filter(has=page.get_by_role("img", name="Key contact"))
    expect(rows).to_have_count(2)
