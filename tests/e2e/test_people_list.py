"""The People list in a real browser (issue 15): sorting by a click on a column's header, the
order kept by the filters and the pages, each row's links, and the account-scope select whose
words show whole at 1280 and 390 px."""

import re

import pytest
from playwright.sync_api import expect

from config import staff
from tests.e2e.conftest import (
    assert_accessible,
    assert_no_sideways_scroll,
    keep_screenshot,
    sign_in,
)
from tests.factories import MembershipFactory, PersonFactory

# Whether every choice of a select fits inside it: its text measured in the select's font
# against the room the select gives it (its width less padding and the arrow's ~1.5rem).
CHOICES_FIT = """(select) => {
  const style = getComputedStyle(select);
  const probe = document.createElement("span");
  probe.style.font = style.font;
  probe.style.whiteSpace = "pre";
  probe.style.position = "absolute";
  document.body.append(probe);
  const room = select.clientWidth - parseFloat(style.paddingLeft)
    - parseFloat(style.paddingRight) - parseFloat(style.fontSize) * 1.5;
  const cut = [...select.options].filter((option) => {
    probe.textContent = option.text;
    return probe.offsetWidth > room;
  }).map((option) => option.text);
  probe.remove();
  return cut;
}"""


@pytest.fixture
def staff_group():
    return staff.STANDARD


@pytest.fixture
def people(tree):
    def member(key, first, last, **kwargs):
        return MembershipFactory(
            account=tree[key],
            person=PersonFactory(
                first_name=first, last_name=last, email=f"{first.lower()}@{key}.example"
            ),
            **kwargs,
        )

    return {
        "ada": member("corp", "Ada", "Lovelace", is_key_contact=True),
        "grace": member("emea", "Grace", "Hopper"),
        "alan": member("paris", "Alan", "Turing"),
        "linus": member("other", "Linus", "Torvalds"),
        "tree": tree,
    }


def names(page):
    return page.locator("table.people-table tbody tr td:first-child")


def test_sort_the_people_list_by_a_click_on_a_header(signed_in_page, people):
    page = signed_in_page
    page.goto("/people/")
    expect(names(page)).to_have_text(
        ["Grace Hopper", "Ada Lovelace", "Linus Torvalds", "Alan Turing"]
    )
    assert_accessible(page, "default order")

    header = page.get_by_role("columnheader", name="Account", exact=True)
    expect(header).not_to_have_attribute("aria-sort", re.compile("."))
    header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=account"))
    expect(page.get_by_role("columnheader", name="Account", exact=True)).to_have_attribute(
        "aria-sort", "ascending"
    )
    # Corp, Emea, Other, Paris
    expect(names(page)).to_have_text(
        ["Ada Lovelace", "Grace Hopper", "Linus Torvalds", "Alan Turing"]
    )
    assert_accessible(page, "sorted by account")
    keep_screenshot(page, "people-list-sorted")

    page.get_by_role("columnheader", name="Account", exact=True).get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=-account"))
    expect(page.get_by_role("columnheader", name="Account", exact=True)).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(names(page)).to_have_text(
        ["Alan Turing", "Linus Torvalds", "Grace Hopper", "Ada Lovelace"]
    )

    # The filters keep the order.
    page.get_by_label("Contact", exact=True).select_option("Yes")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"contact=yes.*sort=-account|sort=-account.*contact=yes"))
    expect(names(page)).to_have_text(
        ["Alan Turing", "Linus Torvalds", "Grace Hopper", "Ada Lovelace"]
    )

    # Each row leads to its person and its account.
    row = page.get_by_role("row").filter(has_text="Alan Turing")
    row.get_by_role("link", name="Paris").click()
    expect(page.get_by_role("heading", level=1, name="Paris")).to_be_visible()
    page.go_back()
    page.get_by_role("row").filter(has_text="Alan Turing").get_by_role(
        "link", name="Alan Turing"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Alan Turing")).to_be_visible()


def test_rows_link_to_person_and_account_when_those_columns_are_not_shown(signed_in_page, people):
    page = signed_in_page
    page.goto("/people/?cols=email&sort=email")

    row = page.get_by_role("row").filter(has_text="alan@paris.example")
    row.get_by_role("link", name="Paris").click()
    expect(page.get_by_role("heading", level=1, name="Paris")).to_be_visible()


def test_the_account_scope_choices_show_whole_at_1280(signed_in_page, people):
    page = signed_in_page
    page.goto("/people/")

    scope = page.get_by_role("combobox", name="Accounts", exact=True)
    scope.select_option("This account and all below it")
    assert scope.evaluate(CHOICES_FIT) == []
    keep_screenshot(page.locator("form.people-filters"), "people-filters-1280")


def test_the_people_list_at_phone_width(phone_page, staff_user, people):
    page = phone_page
    sign_in(page, staff_user.username)
    page.goto("/people/?sort=-name")

    scope = page.get_by_role("combobox", name="Accounts", exact=True)
    scope.select_option("This account and all below it")
    keep_screenshot(page, "people-list-390", full_page=True)
    assert scope.evaluate(CHOICES_FIT) == []
    expect(names(page)).to_have_text(
        ["Alan Turing", "Linus Torvalds", "Ada Lovelace", "Grace Hopper"]
    )
    assert_accessible(page, "phone, sorted")
    keep_screenshot(page, "people-list-390", full_page=True)
    assert_no_sideways_scroll(page, "phone, sorted")
