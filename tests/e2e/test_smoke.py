import pytest
from playwright.sync_api import expect

from accounts.models import AccountRole
from tests.factories import MembershipFactory, PersonFactory


@pytest.fixture
def paris_contacts(tree):
    """Two contacts at Paris (one key), a non-contact member there and a contact at Berlin."""
    site_admin = AccountRole.objects.get(account_type__name="Site", name="Site admin")
    end_user = AccountRole.objects.get(account_type__name="Site", name="End user")
    MembershipFactory(
        account=tree["paris"],
        role=site_admin,
        is_key_contact=True,
        person=PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@customer.example"),
    )
    MembershipFactory(
        account=tree["paris"],
        role=end_user,
        person=PersonFactory(
            first_name="Grace", last_name="Hopper", email="grace@customer.example"
        ),
    )
    MembershipFactory(
        account=tree["paris"],
        is_contact=False,
        person=PersonFactory(first_name="Alan", last_name="Turing", email="alan@customer.example"),
    )
    MembershipFactory(
        account=tree["berlin"],
        person=PersonFactory(
            first_name="Edsger", last_name="Dijkstra", email="ed@customer.example"
        ),
    )
    return tree


def test_account_search_leads_to_profile_with_contacts(signed_in_page, paris_contacts):
    page = signed_in_page
    page.goto("/accounts/")

    page.get_by_label("Search", exact=True).fill("pari")
    page.get_by_role("button", name="Search", exact=True).click()

    expect(page).to_have_url("/accounts/?q=pari")
    expect(page.get_by_text("2 accounts matching “pari”")).to_be_visible()
    results = page.get_by_role("table").get_by_role("link")
    expect(results).to_have_text(["Paris", "Paris Sales"])
    for other in ("Corp", "Emea", "Berlin", "Austin", "Other Region"):
        expect(page.get_by_role("main").get_by_role("link", name=other)).to_have_count(0)

    results.get_by_text("Paris", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Paris")
    breadcrumb = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumb.get_by_role("link")).to_have_text(["Accounts", "Corp", "Emea"])
    contacts = page.get_by_role("region", name="Contacts")
    # Rows with cells: the header row has column headers only.
    rows = contacts.get_by_role("row").filter(has=page.get_by_role("cell"))
    expect(rows).to_have_count(2)
    # Key contacts come first.
    expect(rows.first.get_by_role("link", name="Ada Lovelace", exact=True)).to_be_visible()
    expect(rows.first.get_by_role("img", name="Key contact")).to_be_visible()
    expect(rows.first).to_contain_text("ada@customer.example")
    expect(rows.first).to_contain_text("Site admin")
    expect(rows.last.get_by_role("link", name="Grace Hopper", exact=True)).to_be_visible()
    expect(rows.last.get_by_role("img", name="Key contact")).to_have_count(0)
    expect(rows.last).to_contain_text("End user")
    expect(contacts.get_by_text("Alan Turing")).to_have_count(0)
    expect(contacts.get_by_text("Edsger Dijkstra")).to_have_count(0)


def test_anonymous_visit_to_accounts_lands_on_sign_in(page):
    page.goto("/accounts/")

    expect(page).to_have_url("/sign-in/?next=/accounts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_sign_in_with_wrong_password_shows_error(page, staff_user):
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(staff_user.username)
    page.get_by_label("Password").fill("wrong horse")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "Please enter a correct username and password."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_sign_out_returns_to_sign_in(signed_in_page):
    page = signed_in_page
    expect(page.get_by_text("Pat Lee")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url("/sign-in/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.goto("/accounts/")
    expect(page).to_have_url("/sign-in/?next=/accounts/")
