"""Every page under the Content-Security-Policy in a real browser: the policy is sent, and the
browser reports no violation, neither in the console nor as a `securitypolicyviolation` event.

The pages are driven as a staff user uses them (widget filters applied, the add-contact dialog
opened through htmx, a file uploaded to reach its job page), so what htmx and the scripts do
after the page loads is under the policy too.
"""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import AccountRole
from config import staff
from contacts.models import Task, Touchpoint
from tests.factories import (
    MembershipFactory,
    PersonFactory,
    StaffUserFactory,
    TaskFactory,
    TouchpointFactory,
)

from .conftest import sign_in

# Runs in every document before its own scripts, so the events of the first script count too.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""

USERS_FILE = (
    "Account ID;Email;First Name;Last Name;Title;Account Role;Contact;Key Contact\r\n"
    "BERLIN;grace@navy.example;Grace;Hopper;Rear admiral;Site admin;yes;yes\r\n"
    "NOPE;edsger@example.com;Edsger;Dijkstra;;;yes;\r\n"
)


class PolicyWatch:
    """Follows one browser tab: the policy header of every document it loads and every
    violation the browser reports in it."""

    def __init__(self, page):
        self.page = page
        self.console = []
        self.violations = []
        self.documents = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, message):
        if "Content Security Policy" in message.text:
            self.console.append(f"{self.page.url}: {message.text}")

    def _response(self, response):
        if response.request.resource_type == "document":
            self.documents.append(
                (response.url, response.headers.get("content-security-policy", ""))
            )

    def collect(self):
        """Reads the violations recorded in the page now shown; call before leaving it."""
        self.page.wait_for_load_state("load")
        # Violations are reported as a task after the blocked action: let one go by.
        self.page.wait_for_timeout(50)
        found = self.page.evaluate("window.cspViolations || []")
        self.violations += [f"{self.page.url}: {violation}" for violation in found]

    def visit(self, path, status=200):
        response = self.page.goto(path)
        assert response.status == status, (path, response.status)
        self.collect()

    def assert_clean(self):
        assert self.console == [], "\n".join(self.console)
        assert self.violations == [], "\n".join(self.violations)
        missing = [url for url, policy in self.documents if "default-src 'self'" not in policy]
        assert missing == []


@pytest.fixture
def company(tree):
    """Paris with a key contact and another contact, a task and a touchpoint."""
    site_admin = AccountRole.objects.get(account_type__name="Site", name="Site admin")
    ada = MembershipFactory(
        account=tree["paris"],
        role=site_admin,
        is_key_contact=True,
        person=PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@customer.example"),
    )
    MembershipFactory(
        account=tree["berlin"],
        person=PersonFactory(
            first_name="Grace", last_name="Hopper", email="grace@customer.example"
        ),
    )
    task = TaskFactory(account=tree["paris"], title="Renewal call")
    touchpoint = TouchpointFactory(account=tree["paris"], subject="Kick-off")
    return {"tree": tree, "ada": ada.person, "task": task, "touchpoint": touchpoint}


def test_app_pages_send_the_policy_and_break_none_of_it(signed_in_page, company, tmp_path):
    page = signed_in_page
    watch = PolicyWatch(page)
    paris, ada = company["tree"]["paris"], company["ada"]

    watch.visit("/accounts/?q=pari")
    # The tree opens a company's next level through htmx.
    watch.visit("/accounts/")
    corp = page.locator("details.tree-node").filter(has_text="Corp").first
    corp.locator("summary").click()
    expect(corp.locator(".tree-children").first).to_contain_text("Emea")
    watch.collect()

    # The account profile, its widget filtered through htmx, and the add-contact dialog.
    watch.visit(f"/accounts/{paris.pk}/")
    page.get_by_label("View").select_option(value="hierarchy")
    expect(page).to_have_url(re.compile(r"view=hierarchy"))
    page.get_by_label("Key contacts only").check()
    expect(page.get_by_role("region", name="Contacts")).not_to_contain_text("Grace Hopper")
    page.get_by_label("Search").press_sequentially("ada")
    expect(page.get_by_role("region", name="Contacts")).to_contain_text("Ada Lovelace")
    page.get_by_role("link", name="+ Add contact").click()
    dialog = page.get_by_role("dialog", name="Add contact")
    expect(dialog).to_be_visible()
    dialog.get_by_role("combobox", name="Person").press_sequentially("gra")
    expect(dialog.get_by_role("option").first).to_be_visible()
    watch.collect()

    watch.visit(f"/people/{ada.pk}/")
    watch.visit(f"/people/{ada.pk}/edit/")
    watch.visit("/people/")
    watch.visit("/people/?q=ada&contact=yes")
    watch.visit("/people/segments/")
    watch.visit(f"/accounts/{paris.pk}/tasks/new/")
    watch.visit(f"/accounts/{paris.pk}/tasks/{company['task'].pk}/edit/")
    watch.visit(f"/accounts/{paris.pk}/touchpoints/new/")
    watch.visit(f"/accounts/{paris.pk}/touchpoints/{company['touchpoint'].pk}/edit/")

    # The integrations page, and a job page reached by uploading a file.
    watch.visit("/integrations/")
    path = tmp_path / "people.csv"
    path.write_text(USERS_FILE, encoding="utf-8")
    page.get_by_label("Users file").check()
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("people.csv")
    watch.collect()

    # The error pages: a request with too many fields is refused as a bad request.
    too_many = "&".join(f"f{n}=1" for n in range(1001))
    watch.visit(f"/accounts/?{too_many}", status=400)
    watch.visit("/accounts/999999/", status=404)

    watch.assert_clean()
    assert (Task.objects.count(), Touchpoint.objects.count()) == (1, 1)


def test_the_sign_in_and_forbidden_pages_break_none_of_the_policy(page, company):
    watch = PolicyWatch(page)
    StaffUserFactory(username="vic", group=staff.VIEWER)

    watch.visit("/sign-in/")
    sign_in(page, "vic")
    watch.collect()
    watch.visit(f"/people/{company['ada'].pk}/edit/", status=403)
    watch.visit("/admin/login/", status=403)

    watch.assert_clean()


def test_django_admin_pages_break_none_of_the_policy(signed_in_page, company):
    page = signed_in_page
    watch = PolicyWatch(page)
    paris, ada = company["tree"]["paris"], company["ada"]

    watch.visit("/admin/")
    watch.visit("/admin/accounts/account/")
    watch.visit(f"/admin/accounts/account/{paris.pk}/change/")
    # The autocomplete widget (select2) opens its list of choices.
    page.locator(".select2-selection").first.click()
    expect(page.locator(".select2-results__option").first).to_be_visible()
    watch.collect()
    watch.visit("/admin/contacts/person/")
    watch.visit(f"/admin/contacts/person/{ada.pk}/change/")
    watch.visit("/admin/contacts/person/import/")
    watch.visit("/admin/contacts/person/export/")
    watch.visit("/admin/auth/user/")
    watch.visit("/admin/accounts/accounttype/add/")

    watch.assert_clean()
