"""Adding and removing contacts in a real browser (SPEC §3.4): the type-ahead with the keyboard
alone, the "(new)" form, the widget updating in place, and the remove confirmation."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import AccountRole
from config import staff
from tests.e2e.conftest import assert_accessible
from tests.factories import MembershipFactory, PersonFactory


@pytest.fixture
def staff_group():
    # The "done when": a Standard staff user does all of this.
    return staff.STANDARD


@pytest.fixture
def company(tree):
    """Pierre, a contact of Paris; Grace, known to the system as a member of Berlin only."""
    site_admin = AccountRole.objects.get(account_type__name="Site", name="Site admin")
    pierre = MembershipFactory(
        account=tree["paris"],
        role=site_admin,
        person=PersonFactory(first_name="Pierre", last_name="Paquet", email="pierre@paris.example"),
    )
    grace = MembershipFactory(
        account=tree["berlin"],
        is_contact=False,
        person=PersonFactory(first_name="Grace", last_name="Hopper", email="grace@navy.example"),
    )
    return {"tree": tree, "pierre": pierre.person, "grace": grace.person}


def names_in(page):
    widget = page.get_by_role("region", name="Contacts")
    return widget.locator("#contact-results td.contact-name a")


def open_add_contact(page):
    page.get_by_role("link", name="+ Add contact").click()
    dialog = page.get_by_role("dialog", name="Add contact")
    expect(dialog).to_be_visible()
    field = dialog.get_by_role("combobox", name="Person")
    expect(field).to_be_focused()
    return dialog, field


def mark_page(page):
    """A flag that only survives if the page is never reloaded."""
    page.evaluate("window.sameDocument = true")


def assert_same_page(page):
    assert page.evaluate("window.sameDocument === true") is True


def test_add_an_existing_person_with_the_keyboard(signed_in_page, company):
    page = signed_in_page
    paris = company["tree"]["paris"]
    page.goto(f"/accounts/{paris.pk}/")
    expect(names_in(page)).to_have_text(["Pierre Paquet"])
    mark_page(page)

    dialog, field = open_add_contact(page)
    field.press_sequentially("hop")
    options = dialog.get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_contain_text("Grace Hopper")
    expect(options.nth(0)).to_contain_text("grace@navy.example")
    expect(options.nth(0)).to_contain_text("Berlin")
    expect(options.nth(1)).to_have_text("(new) hop")
    expect(field).to_have_attribute("aria-expanded", "true")

    field.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(field).to_have_attribute("aria-activedescendant", options.nth(0).get_attribute("id"))
    field.press("Enter")

    expect(dialog.locator(".person-card")).to_have_text(
        re.compile(r"^\s*Grace Hopper\s+grace@navy\.example\s*$")
    )
    expect(page).to_have_url(re.compile(rf"/accounts/{paris.pk}/$"))
    # By name, not by its label: see test_the_dialogs_account_role_label_names_its_own_select.
    dialog.locator("select[name=role]").select_option(label="End user")
    dialog.get_by_role("button", name="Add as contact").click()

    done = page.get_by_role("dialog", name="Contact added")
    expect(done.get_by_role("status")).to_have_text("Grace Hopper is now a contact of Paris.")
    # The widget behind the dialog shows her at once.
    expect(names_in(page)).to_have_text(["Grace Hopper", "Pierre Paquet"])
    grace_row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Grace Hopper"))
    expect(grace_row).to_contain_text("End user")
    expect(grace_row.get_by_role("img", name="Key contact")).to_have_count(0)

    done.get_by_role("button", name="Done").click()
    expect(done).to_be_hidden()
    expect(page.get_by_text("2 contacts")).to_be_visible()
    assert_same_page(page)


def test_the_dialogs_account_role_label_names_its_own_select(signed_in_page, company):
    page = signed_in_page
    page.goto(f"/accounts/{company['tree']['paris'].pk}/")

    dialog, field = open_add_contact(page)
    field.press_sequentially("hop")
    expect(dialog.get_by_role("option")).to_have_count(2)
    field.press("ArrowDown")
    field.press("Enter")
    expect(dialog.get_by_role("button", name="Add as contact")).to_be_visible()

    expect(dialog.get_by_label("Account role")).to_have_count(1, timeout=2000)
    expect(page.locator("#id_role")).to_have_count(1, timeout=1000)


def test_add_a_new_person_as_key_contact_with_the_keyboard(signed_in_page, company):
    page = signed_in_page
    paris = company["tree"]["paris"]
    page.goto(f"/accounts/{paris.pk}/")
    mark_page(page)

    dialog, field = open_add_contact(page)
    field.press_sequentially("Katherine Johnson")
    options = dialog.get_by_role("option")
    expect(options).to_have_text(["(new) Katherine Johnson"])
    field.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    field.press("Enter")

    form = page.get_by_role("dialog", name="New person")
    expect(form.get_by_label("First Name")).to_have_value("Katherine")
    expect(form.get_by_label("Last Name")).to_have_value("Johnson")
    expect(form.get_by_label("Email")).to_have_value("")
    form.get_by_label("Email").fill("katherine@nasa.example")
    form.get_by_label("Key contact", exact=True).check()
    form.get_by_role("button", name="Save contact").click()

    done = page.get_by_role("dialog", name="Contact added")
    expect(done.get_by_role("status")).to_have_text("Katherine Johnson is now a contact of Paris.")
    # Key contacts first, with the crown.
    expect(names_in(page)).to_have_text(["Katherine Johnson", "Pierre Paquet"])
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Katherine Johnson"))
    expect(row.get_by_role("img", name="Key contact")).to_be_visible()
    expect(row).to_contain_text("katherine@nasa.example")
    assert_same_page(page)


def test_a_new_person_with_a_known_email_is_offered_in_the_dialog(signed_in_page, company):
    page = signed_in_page
    page.goto(f"/accounts/{company['tree']['paris'].pk}/")

    dialog, field = open_add_contact(page)
    field.press_sequentially("Grace Brewster")
    expect(dialog.get_by_role("option")).to_have_text(["(new) Grace Brewster"])
    field.press("ArrowDown")
    field.press("Enter")
    form = page.get_by_role("dialog", name="New person")
    form.get_by_label("Email").fill("GRACE@navy.example")
    with page.expect_response(
        lambda response: response.request.method == "POST" and "/add-contact/" in response.url
    ) as answer:
        form.get_by_role("button", name="Save contact").click()
    assert answer.value.status == 400

    expect(form.get_by_role("alert")).to_contain_text(
        "Grace Hopper (grace@navy.example) already has this email.", timeout=3000
    )
    form.get_by_role("link", name="Add Grace Hopper instead").click()
    expect(page.get_by_role("dialog", name="Add contact")).to_contain_text("Grace Hopper")


def test_remove_a_contact_after_confirming_keeps_the_person(signed_in_page, company):
    page = signed_in_page
    paris = company["tree"]["paris"]
    pierre = company["pierre"]
    page.goto(f"/accounts/{paris.pk}/")

    page.get_by_role("link", name="Remove Pierre Paquet as a contact of Paris").click()
    expect(page.get_by_role("heading", level=1, name="Remove contact?")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(
        "Pierre Paquet (pierre@paris.example) will no longer be a contact of Paris."
    )
    page.get_by_role("button", name="Remove contact").click()

    expect(page).to_have_url(re.compile(rf"/accounts/{paris.pk}/$"))
    expect(page.get_by_role("status").first).to_have_text(
        "Pierre Paquet is no longer a contact of Paris. The person and their membership are kept."
    )
    expect(names_in(page)).to_have_count(0)
    expect(page.get_by_text("No contacts at this account yet.")).to_be_visible()

    page.goto(f"/people/{pierre.pk}/")
    expect(page.get_by_role("heading", level=1, name="Pierre Paquet")).to_be_visible()
    accounts = page.get_by_role("region", name="Accounts")
    expect(accounts.get_by_role("row").nth(1)).to_have_text(
        re.compile(r"^\s*Paris\s+Site\s+Site admin\s+No\s+No\s+Active\s*$")
    )
    history = page.get_by_role("region", name="Contact history")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Contact: yes → no")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Pat Lee")


def test_the_add_contact_page_without_the_dialog_shows_errors_by_their_fields(
    signed_in_page, company
):
    """The page a link or a new tab opens: its steps swap in place as the dialog's do, and an
    error is read with its field (aria-describedby) and marks the input invalid."""
    page = signed_in_page
    paris = company["tree"]["paris"]
    page.goto(f"/accounts/{paris.pk}/add-contact/?new=Katherine")
    mark_page(page)

    page.get_by_label("Email").fill("not an email")
    page.get_by_role("button", name="Save contact").click()

    email = page.get_by_label("Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description("Enter a valid email address.")
    last_name = page.get_by_label("Last Name")
    expect(last_name).to_have_accessible_description("This field is required.")
    expect(page.get_by_label("First Name")).not_to_have_attribute("aria-invalid", "true")
    assert_same_page(page)


def test_after_a_pick_focus_goes_to_the_role(signed_in_page, company):
    """Issue 15: picking a suggestion moves focus on to the next field, the role, not to the
    page's body."""
    page = signed_in_page
    page.goto(f"/accounts/{company['tree']['paris'].pk}/")

    dialog, field = open_add_contact(page)
    field.press_sequentially("hop")
    expect(dialog.get_by_role("option")).to_have_count(2)
    assert_accessible(page, "add contact, suggestions open")
    field.press("ArrowDown")
    field.press("Enter")

    role = dialog.locator("select[name=role]")
    expect(role).to_be_focused()
    assert_accessible(page, "add contact, person picked")
    # The keyboard carries on from there: a role, then Tab to the key-contact box.
    role.select_option(label="End user")
    page.keyboard.press("Tab")
    expect(dialog.get_by_label("Key contact", exact=True)).to_be_focused()


def test_after_a_pick_on_the_page_without_the_dialog_focus_goes_to_the_role(
    signed_in_page, company
):
    page = signed_in_page
    page.goto(f"/accounts/{company['tree']['paris'].pk}/add-contact/")

    field = page.get_by_role("combobox", name="Person")
    field.press_sequentially("hop")
    expect(page.get_by_role("option")).to_have_count(2)
    field.press("ArrowDown")
    field.press("Enter")

    expect(page.locator("select[name=role]")).to_be_focused()


def test_adding_someone_already_a_contact_says_so_in_the_heading(signed_in_page, company):
    page = signed_in_page
    paris = company["tree"]["paris"]
    page.goto(f"/accounts/{paris.pk}/")

    dialog, field = open_add_contact(page)
    field.press_sequentially("paquet")
    options = dialog.get_by_role("option")
    expect(options.first).to_contain_text("Pierre Paquet")
    field.press("ArrowDown")
    field.press("Enter")

    done = page.get_by_role("dialog", name="Already a contact")
    expect(done.get_by_role("status")).to_have_text(
        "Pierre Paquet is already a contact of Paris. Nothing was changed."
    )
    expect(page.get_by_role("heading", name="Contact added")).to_have_count(0)
    expect(done.get_by_role("button", name="Done")).to_be_focused()
    assert_accessible(page, "already a contact")
    page.screenshot(path="/work/notes/shots/people-add-contact-already.png")
