"""Signing in as a person does, in Chromium: the lockout after too many failures, and a page
whose Permissions-Policy the browser reads without an error (it names no feature Chromium does
not know)."""

from playwright.sync_api import expect

from config import staff
from tests.conftest import PASSWORD
from tests.factories import StaffUserFactory


def test_a_person_locked_out_is_told_why_and_what_to_do(page):
    StaffUserFactory(username="vic", group=staff.VIEWER)
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto("/sign-in/")
    alert = page.get_by_role("alert")

    for _ in range(5):
        page.get_by_label("Username").fill("vic")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("load")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(alert).to_have_text(
        "Too many failed sign-ins for this username or from this address. Try again in 15 "
        "minutes, or ask a Global admin to unlock it."
    )
    expect(page.get_by_label("Username")).to_have_value("vic")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert [text for text in console if "Permissions-Policy" in text] == []
