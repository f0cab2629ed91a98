"""Browser test of undoing an import and redoing it: upload a users file, import it, undo it
from the job's page through its preview, see the contact gone; redo, see it back."""

import os

import pytest
from playwright.sync_api import expect

from config import staff

USERS_FILE = (
    "Account ID,Email,First Name,Last Name,Title,Account Role,Contact,Key Contact\r\n"
    "BERLIN,grace@navy.example,Grace,Hopper,Rear admiral,Site admin,yes,yes\r\n"
)
# Where screenshots go when asked for (UNDO_SCREENSHOTS=folder), to look at the pages.
SCREENSHOTS = os.environ.get("UNDO_SCREENSHOTS")


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


@pytest.fixture
def staff_group():
    return staff.ADVANCED


def test_import_undo_and_redo_from_the_job_page(signed_in_page, tree, tmp_path):
    page = signed_in_page
    path = tmp_path / "crm.csv"
    path.write_text(USERS_FILE, encoding="utf-8")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Integrations").click()
    page.get_by_label("Users file").check()
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Import 1 changed row").click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    shot(page, "1-import-finished")

    page.get_by_role("link", name="Undo this import").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Undo import #")
    deleted = page.get_by_role("region", name="Deleted")
    expect(deleted).to_contain_text("Grace Hopper <grace@navy.example>")
    expect(deleted).to_contain_text("Grace Hopper <grace@navy.example> at Berlin (BERLIN)")
    shot(page, "2-undo-preview")
    page.get_by_role("button", name="Undo: delete 2 rows").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Undo of import #")
    expect(page.get_by_role("heading", name="Undo finished")).to_be_visible()
    shot(page, "3-undo-finished")
    page.goto(tree["berlin"].get_absolute_url())
    contacts = page.get_by_role("region", name="Contacts")
    expect(contacts).to_be_visible()
    expect(contacts.get_by_role("link", name="Grace Hopper", exact=True)).to_have_count(0)

    page.go_back()
    page.get_by_role("link", name="Redo").click()
    expect(page.get_by_role("region", name="Made again")).to_contain_text(
        "Grace Hopper <grace@navy.example>"
    )
    shot(page, "4-redo-preview")
    page.get_by_role("button", name="Redo: make 2 rows again").click()
    expect(page.get_by_role("heading", name="Undo finished")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Integrations").click()
    history = page.get_by_role("table").filter(has_text="Outcome")
    expect(history).to_contain_text("undo of #")
    expect(history).to_contain_text("Undone by #")
    shot(page, "5-history")
    page.goto(tree["berlin"].get_absolute_url())
    contacts = page.get_by_role("region", name="Contacts")
    expect(contacts.get_by_role("link", name="Grace Hopper", exact=True)).to_be_visible()
