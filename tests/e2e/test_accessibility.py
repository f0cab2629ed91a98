"""Every page of SPEC §3 and the integrations pages, at 1280 and at 390 px, signed in as a
Global admin with demo-like data (tests/e2e/demo_data.py): axe-core finds no serious or
critical violation and the page does not scroll sideways. Beside the pages: their states (a
filtered list, an empty one, the add-contact dialog open, a form posted empty, 403 and 404).

One test per page and width, so a failure names both.
"""

import pytest
from playwright.sync_api import expect

from config import staff
from tests.e2e.conftest import (
    PHONE_VIEWPORT,
    VIEWPORT,
    assert_accessible,
    assert_no_sideways_scroll,
)
from tests.e2e.demo_data import sign_in_quickly
from tests.factories import StaffUserFactory

WIDTHS = {"1280": VIEWPORT, "390": PHONE_VIEWPORT}

# (name, the page's URL from the demo data). Lists in more than one state: filtered, empty.
PAGES = [
    ("accounts", lambda d: "/accounts/"),
    ("accounts-search", lambda d: "/accounts/?q=pari"),
    ("accounts-search-empty", lambda d: "/accounts/?q=nothing-like-this"),
    ("account", lambda d: f"/accounts/{d['paris'].pk}/"),
    ("account-top", lambda d: f"/accounts/{d['corp'].pk}/"),
    ("account-filtered", lambda d: f"/accounts/{d['corp'].pk}/?view=hierarchy&q=ada"),
    ("account-page-2", lambda d: f"/accounts/{d['paris'].pk}/?page=2"),
    ("account-filtered-empty", lambda d: f"/accounts/{d['paris'].pk}/?q=nobody-here"),
    ("account-missing-view", lambda d: f"/accounts/{d['paris_sales'].pk}/?view=children"),
    ("account-history", lambda d: f"/accounts/{d['paris'].pk}/history/"),
    ("add-contact", lambda d: f"/accounts/{d['paris'].pk}/add-contact/?q=ad"),
    ("add-contact-new", lambda d: f"/accounts/{d['paris'].pk}/add-contact/?new=1&q=new"),
    ("task-new", lambda d: f"/accounts/{d['corp'].pk}/tasks/new/"),
    ("task-edit", lambda d: f"/accounts/{d['corp'].pk}/tasks/{d['task'].pk}/edit/"),
    ("touchpoint-new", lambda d: f"/accounts/{d['paris'].pk}/touchpoints/new/"),
    (
        "touchpoint-edit",
        lambda d: f"/accounts/{d['paris'].pk}/touchpoints/{d['touchpoint'].pk}/edit/",
    ),
    ("contact-edit", lambda d: f"/people/contacts/{d['ada_paris'].pk}/edit/"),
    ("contact-remove", lambda d: f"/people/contacts/{d['ada_paris'].pk}/remove/"),
    ("people", lambda d: "/people/"),
    ("people-filtered", lambda d: "/people/?contact=yes&key=yes&q=ada"),
    (
        "people-columns",
        lambda d: (
            "/people/?cols=name&cols=email&cols=account&cols=account_id"
            "&cols=account_type&cols=role&cols=contact&cols=key_contact&cols=title&cols=phone"
        ),
    ),
    ("people-empty", lambda d: "/people/?q=nothing-like-this"),
    ("segments", lambda d: "/people/segments/"),
    ("segment", lambda d: f"/people/segments/{d['segment'].pk}/"),
    ("downloads", lambda d: "/people/downloads/"),
    ("duplicates", lambda d: "/people/duplicates/"),
    ("person", lambda d: f"/people/{d['ada'].pk}/"),
    ("person-merged", lambda d: f"/people/{d['alan'].pk}/"),
    ("person-edit", lambda d: f"/people/{d['ada'].pk}/edit/"),
    ("person-forget", lambda d: f"/people/{d['ada'].pk}/forget/"),
    ("merge-with", lambda d: f"/people/{d['ada'].pk}/merge/?q=ada"),
    ("merge", lambda d: f"/people/{d['ada'].pk}/merge/{d['twin'].pk}/"),
    ("unmerge", lambda d: f"/people/merges/{d['merge'].pk}/unmerge/"),
    ("integrations", lambda d: "/integrations/"),
    ("import-preview", lambda d: f"/integrations/jobs/{d['preview_job'].pk}/"),
    ("import-mapping", lambda d: f"/integrations/jobs/{d['mapping_job'].pk}/mapping/"),
    ("import-done", lambda d: f"/integrations/jobs/{d['imported_job'].pk}/"),
    ("import-undo", lambda d: f"/integrations/jobs/{d['imported_job'].pk}/undo/"),
    ("mappings", lambda d: "/integrations/mappings/"),
    ("mapping", lambda d: f"/integrations/mappings/{d['mapping_template'].pk}/"),
    ("mapping-delete", lambda d: f"/integrations/mappings/{d['mapping_template'].pk}/delete/"),
    ("syncs", lambda d: "/integrations/syncs/"),
    ("sync-new", lambda d: "/integrations/syncs/new/"),
    ("sync", lambda d: f"/integrations/syncs/{d['integration_job'].pk}/"),
    ("sync-edit", lambda d: f"/integrations/syncs/{d['integration_job'].pk}/edit/"),
    ("sync-delete", lambda d: f"/integrations/syncs/{d['integration_job'].pk}/delete/"),
    ("not-found", lambda d: "/people/999999/"),
]

# (name, the form's page, the label of the button that posts it empty or unchanged)
EMPTY_FORMS = [
    ("add-contact-new", lambda d: f"/accounts/{d['paris'].pk}/add-contact/?new=1", "Save contact"),
    ("task", lambda d: f"/accounts/{d['corp'].pk}/tasks/new/", "Save task"),
    ("touchpoint", lambda d: f"/accounts/{d['paris'].pk}/touchpoints/new/", "Save touchpoint"),
    ("upload", lambda d: "/integrations/", "Check the file"),
    ("sync-new", lambda d: "/integrations/syncs/new/", "Add the job"),
    ("person-edit", lambda d: f"/people/{d['ada'].pk}/edit/", "Save"),
]
# The Django admin is Django's own (its markup is not ours to fix for axe); it is only checked
# for sideways scroll at 390 px.
ADMIN_PAGES = ["/admin/", "/admin/contacts/membership/", "/admin/accounts/account/"]


@pytest.fixture(params=list(WIDTHS), ids=[f"{width}px" for width in WIDTHS])
def sized_page(request, open_tab):
    """A fresh tab at 1280 or at 390 px (a phone: touch)."""
    phone = request.param == "390"
    page = open_tab(viewport=WIDTHS[request.param], is_mobile=phone, has_touch=phone)
    page.width = request.param
    return page


@pytest.fixture
def admin_page(sized_page, staff_user, live_server, demo):
    sign_in_quickly(sized_page, staff_user, live_server.url)
    return sized_page


def check(page, state):
    assert_accessible(page, state)
    assert_no_sideways_scroll(page, state)


@pytest.mark.parametrize("url", [url for _, url in PAGES], ids=[name for name, _ in PAGES])
def test_page(admin_page, demo, url):
    response = admin_page.goto(url(demo))
    assert response.status < 500
    expect(admin_page.get_by_role("main")).to_be_visible()
    check(admin_page, f"at {admin_page.width} px")


@pytest.mark.parametrize(
    ("url", "button"),
    [(url, button) for _, url, button in EMPTY_FORMS],
    ids=[name for name, _, _ in EMPTY_FORMS],
)
def test_form_posted_empty_shows_its_errors(admin_page, demo, url, button):
    admin_page.goto(url(demo))
    # The browser's own checks would stop an empty form before the server sees it.
    # Empty means empty: the fields an edit form fills in are cleared first.
    admin_page.evaluate(
        """() => document.querySelectorAll('main form').forEach(form => {
          form.noValidate = true;
          form.querySelectorAll('input[type=text], input[type=email], textarea')
              .forEach(field => { field.value = ''; });
        })"""
    )
    admin_page.get_by_role("main").get_by_role("button", name=button).click()
    expect(admin_page.locator(".field-errors, .form-error, .errorlist").first).to_be_visible()
    check(admin_page, f"{button} posted empty, at {admin_page.width} px")


def test_add_contact_dialog(admin_page, demo):
    page = admin_page
    page.goto(f"/accounts/{demo['paris'].pk}/")
    page.get_by_role("link", name="+ Add contact").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    check(page, f"add-contact dialog open, at {page.width} px")

    dialog.get_by_role("combobox").fill("ada")
    expect(dialog.get_by_role("option").first).to_be_visible()
    check(page, f"add-contact suggestions shown, at {page.width} px")


def test_phone_menu_open(admin_page, demo):
    page = admin_page
    page.goto("/people/")
    if page.width == "390":
        page.get_by_text("Menu", exact=True).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    check(page, f"menu open, at {page.width} px")


def test_forbidden_page(sized_page, live_server, db):
    viewer = StaffUserFactory(username="vic", group=staff.VIEWER)
    sign_in_quickly(sized_page, viewer, live_server.url)
    response = sized_page.goto("/integrations/")
    assert response.status == 403
    check(sized_page, f"403, at {sized_page.width} px")


def test_sign_in_page_and_its_error(sized_page, live_server, db):
    page = sized_page
    page.goto("/sign-in/")
    check(page, f"sign-in, at {page.width} px")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check(page, f"sign-in refused, at {page.width} px")


def test_django_admin_does_not_scroll_sideways_on_a_phone(
    phone_page, staff_user, live_server, demo
):
    sign_in_quickly(phone_page, staff_user, live_server.url)
    for url in ADMIN_PAGES:
        phone_page.goto(url)
        assert_no_sideways_scroll(phone_page, "Django admin at 390 px")
