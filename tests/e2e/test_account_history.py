"""An account's History tab and the "Key contact left" banner in a real browser: open an
account, open History, change the View, see the rows; a key contact marked former shows the
banner and Acknowledge removes it; the accounts list's filter finds the account."""

import os
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import AccountRole
from contacts import services
from contacts.alerts import raise_key_contact_alerts
from contacts.models import Membership
from tests.factories import PersonFactory, StaffUserFactory

# Set to a folder to keep screenshots of the pages (for a person to look at), else none.
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS")


def _shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def company(tree):
    """Ada, key contact of Paris, and Grace at Paris Sales, added and edited by Olive through
    the services; Ada then leaves Paris (former), which raises the alert."""
    olive = StaffUserFactory(username="olive", first_name="Olive", last_name="Owner")
    site_admin = AccountRole.objects.get(account_type__name="Site", name="Site admin")
    end_user = AccountRole.objects.get(account_type__name="Site", name="End user")
    head = AccountRole.objects.get(account_type__name="Department", name="Department head")
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@customer.example")
    grace = PersonFactory(first_name="Grace", last_name="Hopper", email="grace@customer.example")
    ada_paris, _ = services.add_contact(
        account=tree["paris"], person=ada, role=end_user, is_key_contact=True, by=olive
    )
    services.edit_contact(membership=ada_paris, role=site_admin, is_key_contact=True, by=olive)
    services.add_contact(account=tree["paris_sales"], person=grace, role=head, by=olive)
    ada_paris.refresh_from_db()
    before = services.tracked_values(ada_paris)
    Membership.objects.filter(pk=ada_paris.pk).update(
        status=Membership.Status.FORMER, end_date=date(2026, 5, 31)
    )
    ada_paris.refresh_from_db()
    services.record_contact_changes(membership=ada_paris, before=before, source="app", by=olive)
    raise_key_contact_alerts([ada_paris])
    return tree


def count_line(page):
    return page.locator("#history-results p.count")


def history_rows(page):
    return page.locator("#history-results tbody tr")


def test_history_tab_lists_the_changes_of_the_view(signed_in_page, company):
    page = signed_in_page
    page.goto(f"/accounts/{company['paris'].pk}/")

    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", level=2, name="History")).to_be_visible()
    # Paris and every account below it: Grace at Paris Sales too.
    expect(count_line(page)).to_have_text("8 changes · This account and all children")
    # Newest first: Ada left Paris (her status and end date, one change each).
    expect(history_rows(page).nth(0)).to_contain_text("end date: — → 2026-05-31")
    expect(history_rows(page).nth(1)).to_contain_text("left the account (former)")
    expect(history_rows(page).first).to_contain_text("Olive Owner")
    expect(
        history_rows(page).filter(has_text="Grace Hopper").filter(has_text="became a contact")
    ).to_contain_text("Paris Sales")
    expect(history_rows(page).filter(has_text="role: End user → Site admin")).to_have_count(1)
    _shot(page, "history-tab")

    page.get_by_label("View").select_option(label="This account")
    expect(count_line(page)).to_have_text("6 changes · This account")
    expect(page).to_have_url(re.compile(r"/history/\?view=this"))
    expect(history_rows(page).filter(has_text="Grace Hopper")).to_have_count(0)
    expect(history_rows(page)).to_have_count(6)


def test_key_contact_left_banner_is_acknowledged(signed_in_page, company):
    page = signed_in_page
    page.get_by_label("Key contact left").check()
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 account where a key contact left")).to_be_visible()
    _shot(page, "accounts-key-contact-left")
    page.get_by_role("link", name="Paris", exact=True).click()

    banner = page.get_by_role("alert")
    expect(banner).to_have_text(re.compile(r"Key contact left:\s*Ada Lovelace, 2026-05-31"))
    _shot(page, "key-contact-left-banner")
    page.get_by_role("button", name="Acknowledge that Ada Lovelace left").click()

    expect(page.get_by_role("status").filter(has_text="Acknowledged")).to_have_text(
        "Acknowledged: Ada Lovelace left Paris."
    )
    expect(page.get_by_role("alert")).to_have_count(0)
    _shot(page, "key-contact-left-acknowledged")
    page.reload()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("heading", level=1, name="Paris")).to_be_visible()
