"""Merging two people and unmerging them in a real browser (issue 14): Find duplicates →
Merge… → choose a field → Merge → the person page says so → Unmerge → both people back; and
"Merge with…" from a person's page, with the type-ahead."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from config import staff
from contacts.models import Person
from tests.factories import MembershipFactory, PersonFactory, TaskFactory

SCREENSHOTS = Path("/tmp/merge-screenshots")


@pytest.fixture
def staff_group():
    return staff.ADVANCED


@pytest.fixture
def twins(tree):
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada.lovelace@x.example")
    dup = PersonFactory(
        first_name="Ada", last_name="King", email="adalovelace+crm@x.example", title="Countess"
    )
    MembershipFactory(person=ada, account=tree["paris"])
    theirs = MembershipFactory(person=dup, account=tree["berlin"])
    TaskFactory(account=tree["corp"], title="Renewal").contacts.set([theirs])
    return ada, dup


def shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_find_duplicates_merge_and_unmerge(signed_in_page, twins):
    page = signed_in_page
    ada, dup = twins
    page.goto("/people/duplicates/")
    row = page.get_by_role("row").filter(has_text="Same email ignoring dots and plus-tags")
    expect(row).to_contain_text("Ada Lovelace")
    expect(row).to_contain_text("Ada King")
    shot(page, "duplicates")
    row.get_by_role("link", name="Merge Ada Lovelace and Ada King").click()

    expect(page.get_by_role("heading", level=1, name="Merge two people")).to_be_visible()
    expect(page.get_by_label("Countess (title)").first).to_be_checked()
    page.get_by_label("King (last name)").check()
    shot(page, "merge-screen")
    page.get_by_role("button", name="Merge").click()

    expect(page.get_by_role("heading", level=1, name="Ada King")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        "Merged Ada King <adalovelace+crm@x.example> into Ada King."
    )
    merges = page.get_by_role("region", name="Merges")
    expect(merges).to_contain_text("Merged from Ada King <adalovelace+crm@x.example> on")
    accounts = page.get_by_role("region", name="Accounts")
    expect(accounts).to_contain_text("Berlin")
    shot(page, "person-merged")
    assert not Person.objects.filter(pk=dup.pk).exists()

    merges.get_by_role("button", name="Unmerge Ada King").click()
    expect(page.get_by_role("heading", level=1, name="Unmerge Ada King?")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Their memberships go back to them: Berlin")
    shot(page, "unmerge-confirm")
    page.get_by_role("button", name="Unmerge").click()

    expect(page.get_by_role("heading", level=1, name="Ada King")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        "Unmerged Ada King <adalovelace+crm@x.example> from Ada Lovelace"
    )
    expect(page.get_by_role("region", name="Accounts")).to_contain_text("Berlin")
    assert page.url.endswith(f"/people/{dup.pk}/")
    page.goto(f"/people/{ada.pk}/")
    expect(page.get_by_role("heading", level=1, name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_role("region", name="Merges")).to_contain_text("unmerged on")
    assert Person.objects.count() == 2


def test_merge_with_from_the_person_page(signed_in_page, twins):
    page = signed_in_page
    ada, _ = twins
    page.goto(f"/people/{ada.pk}/")
    page.get_by_role("link", name="Merge with…").click()
    field = page.get_by_role("combobox", name="Duplicate")
    field.press_sequentially("king")
    option = page.get_by_role("option").filter(has_text="Ada King")
    expect(option).to_contain_text("adalovelace+crm@x.example")
    shot(page, "merge-with")
    field.press("ArrowDown")
    field.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Merge two people")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Ada King is merged into Ada Lovelace")
