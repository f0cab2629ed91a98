"""Browser tests: Debian's Chromium, driven by Playwright's sync API, against `live_server`.

Every test here is marked `e2e` (`make test PYTEST_ARGS="-m 'not e2e'"` leaves them out) and
runs with a transactional database, because the live server answers from another thread.
"""

import os
import threading
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.signals import request_finished, request_started
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from config import staff
from tests.conftest import PASSWORD
from tests.e2e.demo_data import build_demo
from tests.factories import StaffUserFactory
from tests.migrated_rows import restore_migrated_rows

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 800}
PHONE_VIEWPORT = {"width": 390, "height": 844}
E2E_DIR = Path(__file__).parent
# axe-core, vendored (MPL 2.0, vendor/axe-LICENSE.txt): the accessibility rules every page is
# checked against.
AXE = E2E_DIR / "vendor" / "axe-4.14.1.min.js"
AXE_FAILING_IMPACTS = ("serious", "critical")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            # The live server answers from another thread, so the data must be committed. The
            # staff groups come from a data migration and a transactional test empties the
            # database when it ends, so each browser test restores the migrated rows first.
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


@pytest.fixture(scope="package", autouse=True)
def _migrated_rows_around_the_package(django_db_setup, django_db_blocker):
    """The database as migrations left it, before this package and after it.

    Each browser test starts from the migrated rows (`serialized_rollback`) and ends with an
    empty database. Before the package: a transactional test of another package may have
    emptied it and had post_migrate make content types and permissions again under new ids,
    which the restore by primary key would collide with. After it: the tests that follow
    expect what migrations made, the staff groups included, not an empty database.
    """
    with django_db_blocker.unblock():
        restore_migrated_rows()
    yield
    with django_db_blocker.unblock():
        restore_migrated_rows()


@pytest.fixture(scope="package")
def browser(django_db_setup):
    """Chromium for the tests of this package.

    Playwright's sync API leaves an asyncio event loop running on the main thread while it is
    started, which changes how Django finds things on that thread, so the browser lives only
    as long as this package's tests (not the whole session, whose later tests would inherit
    the running loop):

    - Django's ORM refuses to run beside a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is
      set. Nothing here is async, so it is set while the browser runs, and restored after.
    - Django keeps database connections per thread, but per asyncio context while a loop
      runs: the test would get new connection objects, without the serialized migrated rows
      that `serialized_rollback` restores from. The connections of the test database are
      handed over as they are.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM}: run make test, which installs "
            "Debian's chromium.",
            pytrace=False,
        )
    test_connections = {alias: connections[alias] for alias in connections}
    allow_async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            for alias, connection in test_connections.items():
                connections[alias] = connection
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if allow_async_unsafe is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = allow_async_unsafe


class RequestsInFlight:
    """Counts the live server's requests that have started and not finished.

    A test can end while the page it drove still has a request in the server (an htmx refresh
    fired by its last click). That request's transaction holds locks on the tables the test's
    end empties, and the two deadlock: the tab is closed, then this waits for the server's
    requests to finish before the database is emptied."""

    IDLE_TIMEOUT = 30  # seconds: a request hung longer than this is a failure of its own

    def __init__(self):
        self.count = 0
        self.changed = threading.Condition()

    def started(self, **kwargs):
        with self.changed:
            self.count += 1

    def finished(self, **kwargs):
        with self.changed:
            self.count -= 1
            self.changed.notify_all()

    def wait_until_idle(self):
        with self.changed:
            return self.changed.wait_for(lambda: self.count <= 0, timeout=self.IDLE_TIMEOUT)


@pytest.fixture
def live_server_requests():
    requests = RequestsInFlight()
    request_started.connect(requests.started, weak=False)
    request_finished.connect(requests.finished, weak=False)
    yield requests
    request_started.disconnect(requests.started)
    request_finished.disconnect(requests.finished)


@pytest.fixture
def open_tab(browser, live_server, live_server_requests):
    """Opens fresh tabs (no cookies) whose relative URLs go to the live server:
    `open_tab(viewport=..., java_script_enabled=False)` takes Playwright's context options.
    When the test ends its tabs are closed and the server's requests have finished."""
    contexts = []

    def open_one(**context_options):
        context = browser.new_context(base_url=live_server.url, **context_options)
        contexts.append(context)
        return context.new_page()

    yield open_one
    for context in contexts:
        context.close()
    assert live_server_requests.wait_until_idle(), (
        "a live server request was still running 30 s after the test's tabs closed"
    )


@pytest.fixture
def page(open_tab):
    """A fresh browser tab (no cookies) whose relative URLs go to the live server."""
    return open_tab(viewport=VIEWPORT)


@pytest.fixture
def phone_page(open_tab):
    """A fresh tab the size of a phone (390 px wide, touch), whose relative URLs go to the
    live server."""
    return open_tab(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)


def assert_accessible(page, state=""):
    """axe-core finds no violation of impact serious or critical on the page as it is now
    (a dialog open, errors shown: call it in each state a test reaches). `state` names it in
    the failure.

    axe is evaluated through the DevTools protocol, which the page's Content-Security-Policy
    does not govern, so the page is checked as it is served."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())
    results = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)})))"
    )
    failing = [v for v in results if v["impact"] in AXE_FAILING_IMPACTS]
    assert not failing, f"axe-core on {page.url} {state}:\n" + "\n".join(
        f"- {v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
        for v in failing
    )


def assert_no_sideways_scroll(page, state=""):
    """The page fits its viewport's width: nothing makes it scroll sideways. The failure names
    the elements that reach past the right edge."""
    overflow = page.evaluate(
        r"""() => {
          const width = document.documentElement.clientWidth;
          const past = [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > width + 1
                          && el.getClientRects().length
                          && !el.closest('.table-scroll, dialog:not([open])'))
            .slice(0, 8)
            .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                       + (el.className && typeof el.className === 'string'
                          ? '.' + el.className.trim().split(/\s+/).join('.') : '')
                       + ' ' + Math.round(el.getBoundingClientRect().right) + 'px');
          return {scroll: document.documentElement.scrollWidth - width, past};
        }"""
    )
    assert overflow["scroll"] <= 0, (
        f"{page.url} {state} scrolls sideways by {overflow['scroll']} px; past the edge: "
        + ", ".join(overflow["past"])
    )


SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS")  # a folder to keep screenshots in, to look at


def keep_screenshot(target, name, **options):
    """A screenshot of `target` (a page or a locator) as E2E_SCREENSHOTS/<name>.png, when that
    folder is given: a test run leaves no files behind otherwise."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), **options)


def sign_in(page, username, password=PASSWORD):
    """Sign in through the real form, as a person does, and wait for the accounts page."""
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Accounts")).to_be_visible()


@pytest.fixture
def staff_group():
    """The staff user's group; override it, or parametrize it indirectly, for other groups."""
    return staff.GLOBAL_ADMIN


@pytest.fixture
def staff_user(staff_group):
    assert Group.objects.filter(name=staff_group).exists(), f"no group {staff_group!r}"
    return StaffUserFactory(username="pat", first_name="Pat", last_name="Lee", group=staff_group)


@pytest.fixture
def demo(admin_data, staff_user, tmp_path, settings):
    """A little of everything, for tests that visit every page (tests/e2e/demo_data.py)."""
    settings.SYNC_FOLDER_ROOTS = [tmp_path]
    return build_demo(admin_data, user=staff_user, sync_root=tmp_path)


@pytest.fixture
def signed_in_page(page, staff_user):
    sign_in(page, staff_user.username)
    return page
