"""The contact picker of the task and touchpoint forms in a real browser (issue 15): type, pick
with the arrows and Enter, remove a chip with Backspace or Delete, save; at 390 px; and without
JavaScript, the search button and the checkboxes."""

import re

import pytest
from playwright.sync_api import expect

from config import staff
from tests import stored
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
    return staff.STANDARD


@pytest.fixture
def company(tree):
    """Contacts across Corp's hierarchy, one at the other company, a member who is not one."""

    def member(key, first, last, **kwargs):
        return MembershipFactory(
            account=tree[key],
            person=PersonFactory(
                first_name=first, last_name=last, email=f"{first.lower()}@customer.example"
            ),
            **kwargs,
        )

    return {
        "tree": tree,
        "ada": member("corp", "Ada", "Lovelace", is_key_contact=True),
        "grace": member("emea", "Grace", "Hopper"),
        "alan": member("paris", "Alan", "Turing"),
        "linus": member("other", "Linus", "Torvalds"),
        "nora": member("berlin", "Nora", "Nobody", is_contact=False),
    }


def suggestions(page):
    return page.get_by_role("listbox", name="Contacts of this company").get_by_role("option")


def chips(page):
    return page.get_by_role("list", name="Chosen contacts").get_by_role("listitem")


def test_choose_contacts_for_a_task_with_the_keyboard(signed_in_page, company):
    page = signed_in_page
    paris = company["tree"]["paris"]
    page.goto(f"/accounts/{paris.pk}/tasks/new/")
    assert_accessible(page, "new task")

    page.get_by_label("Title").fill("Renewal call")
    field = page.get_by_role("combobox", name="Contacts")
    field.press_sequentially("lov")
    options = page.get_by_role("listbox", name="Contacts of this company").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.nth(0)).to_contain_text("Ada Lovelace")
    expect(options.nth(0)).to_contain_text("Corp")
    expect(field).to_have_attribute("aria-expanded", "true")
    assert_accessible(page, "suggestions open")
    keep_screenshot(page, "people-task-picker-suggestions")

    field.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    field.press("Enter")
    expect(chips(page)).to_have_text([re.compile(r"Ada Lovelace — Corp")])
    expect(field).to_have_value("")
    expect(field).to_be_focused()
    expect(page.get_by_role("status").filter(has_text="Added")).to_have_text(
        "Added Ada Lovelace — Corp."
    )

    # Someone of another company is not offered; a second pick adds a second chip.
    field.press_sequentially("linus")
    expect(page.get_by_text("No results.")).to_have_count(1)
    expect(options).to_have_count(0)
    field.fill("")
    field.press_sequentially("tur")
    expect(options).to_have_count(1)
    field.press("ArrowDown")
    field.press("Enter")
    expect(chips(page)).to_have_text(
        [re.compile(r"Ada Lovelace — Corp"), re.compile(r"Alan Turing — Paris")]
    )
    field.press_sequentially("hop")
    expect(options).to_have_count(1)
    field.press("ArrowDown")
    field.press("Enter")
    expect(chips(page)).to_have_count(3)
    assert_accessible(page, "three chips")
    keep_screenshot(page, "people-task-picker-chips")

    # Backspace in the empty field goes to the last chip's button; Backspace there removes it.
    field.press("Backspace")
    remove_grace = page.get_by_role("button", name="Remove Grace Hopper — Emea")
    expect(remove_grace).to_be_focused()
    remove_grace.press("Backspace")
    expect(chips(page)).to_have_count(2)
    # Focus goes to the chip before it; Delete removes that one too.
    remove_alan = page.get_by_role("button", name="Remove Alan Turing — Paris")
    expect(remove_alan).to_be_focused()
    remove_alan.press("Delete")
    expect(chips(page)).to_have_text([re.compile(r"Ada Lovelace — Corp")])
    # Then pick Alan again.
    field.press_sequentially("tur")
    expect(options).to_have_count(1)
    field.press("ArrowDown")
    field.press("Enter")
    expect(chips(page)).to_have_count(2)

    page.get_by_role("button", name="Save task").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{paris.pk}/#tasks-heading$"))
    (task,) = stored.tasks()
    assert task[1] == "Renewal call"
    assert task[-1] == sorted([company["ada"].pk, company["alan"].pk])


def test_a_task_form_with_errors_keeps_the_chosen_contacts(signed_in_page, company):
    page = signed_in_page
    corp = company["tree"]["corp"]
    page.goto(f"/accounts/{corp.pk}/tasks/new/")

    field = page.get_by_role("combobox", name="Contacts")
    field.press_sequentially("hop")
    suggestions(page).first.click()
    expect(chips(page)).to_have_count(1)
    page.get_by_role("button", name="Save task").click()

    expect(page.get_by_label("Title")).to_have_accessible_description("This field is required.")
    expect(chips(page)).to_have_text([re.compile(r"Grace Hopper — Emea")])
    assert_accessible(page, "errors shown")
    page.get_by_role("button", name="Remove Grace Hopper — Emea").click()
    expect(chips(page)).to_have_count(0)
    expect(field).to_be_focused()
    page.get_by_label("Title").fill("Call")
    page.get_by_role("button", name="Save task").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{corp.pk}/#tasks-heading$"))
    assert stored.tasks()[0][-1] == []


def test_a_link_with_contacts_prefills_a_touchpoint(signed_in_page, company):
    page = signed_in_page
    corp = company["tree"]["corp"]
    page.goto(
        f"/accounts/{corp.pk}/touchpoints/new/"
        f"?contact={company['ada'].pk}&contact={company['linus'].pk}"
    )

    expect(page.get_by_role("status").first).to_contain_text("Left out 1 of the contacts")
    participants = page.get_by_role("list", name="Chosen participants").get_by_role("listitem")
    expect(participants).to_have_text([re.compile(r"Ada Lovelace — Corp")])


def test_a_prefilled_form_with_its_message_is_accessible(signed_in_page, company):
    page = signed_in_page
    corp = company["tree"]["corp"]
    page.goto(f"/accounts/{corp.pk}/touchpoints/new/?contact={company['linus'].pk}")

    expect(page.get_by_role("status").first).to_contain_text("Left out 1 of the contacts")
    assert_accessible(page, "prefilled, with a message")


def test_the_task_form_at_phone_width(phone_page, staff_user, company):
    page = phone_page
    sign_in(page, staff_user.username)
    page.goto(f"/accounts/{company['tree']['corp'].pk}/tasks/new/?contact={company['grace'].pk}")

    field = page.get_by_role("combobox", name="Contacts")
    field.press_sequentially("lov")
    expect(suggestions(page)).to_have_count(1)
    assert_no_sideways_scroll(page, "suggestions open")
    assert_accessible(page, "phone, suggestions open")
    suggestions(page).first.tap()
    expect(chips(page)).to_have_count(2)
    assert_no_sideways_scroll(page, "two chips")
    keep_screenshot(page, "people-task-form-390", full_page=True)


def test_without_javascript_search_tick_and_save(open_tab, staff_user, company):
    page = open_tab(viewport=VIEWPORT, java_script_enabled=False)
    sign_in(page, staff_user.username)
    corp = company["tree"]["corp"]
    page.goto(f"/accounts/{corp.pk}/tasks/new/?contact={company['ada'].pk}")

    page.get_by_label("Title").fill("Plan")
    chosen = page.get_by_role("checkbox", name="Ada Lovelace — Corp")
    expect(chosen).to_be_checked()
    page.get_by_label("Contacts", exact=True).fill("customer")
    page.get_by_role("button", name="Find contacts").click()

    matches = page.get_by_role("group", name=re.compile("Contacts matching"))
    expect(matches.get_by_role("checkbox")).to_have_count(2)
    expect(page.get_by_label("Title")).to_have_value("Plan")
    expect(chosen).to_be_checked()
    # (axe runs as a script: not in a page without JavaScript.)
    keep_screenshot(page, "people-task-picker-nojs", full_page=True)
    matches.get_by_role("checkbox", name="Alan Turing — Paris").check()
    page.get_by_role("button", name="Save task").last.click()

    expect(page.get_by_role("heading", level=1, name="Corp")).to_be_visible()
    assert stored.tasks()[0][-1] == sorted([company["ada"].pk, company["alan"].pk])
