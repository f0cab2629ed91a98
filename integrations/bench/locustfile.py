"""The load test's simulated customer-success team, for locust (`make loadtest` runs it).

Each simulated staff user signs in as a staff user of its own (made by `manage.py loadtest
prepare`, which also writes the targets: the largest company, sampled accounts with their View
choices and roles, names to type, a users file), then, with a pause between steps, mostly reads:
opens accounts (the largest company's entire hierarchy and random others) and the accounts tree,
filters and searches the Contacts widget (htmx requests, with HX-Request as the browser sends
them), types in the add-contact type-ahead; now and then adds a contact (a new person at
EMAIL_DOMAIN) and edits one it added, opens the people list and downloads it as CSV, or uploads
a small users file, polls its job page until the preview is ready and cancels it.

Every request is named by a step of integrations.bench.load_report.STEPS, which holds each
step's bar; the report reads locust's statistics by those names. Targets come from the file
that LOADTEST_TARGETS names, read when a simulated user starts (importing this module needs no
run).
"""

import itertools
import json
import os
import random
import re
import time
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from gevent.event import Event
from locust import HttpUser, between, task

from integrations.bench.load_report import STEPS

# Seconds a staff user takes between two steps: reading a page, choosing what next.
THINK_TIME = between(2, 8)
POLL_EVERY_S = 1  # as the job page's hx-trigger="every 1s"
PREVIEW_WAIT_S = 90
EDIT_LINK = re.compile(r'href="(/people/contacts/\d+/edit/)')
# The step names, for _request's check; STEPS is the one list.
STEP_NAMES = frozenset(STEPS)

SIGN_IN_WAIT_S = 600

_next_staff_user = itertools.count()


class _SignIns:
    """The team starts working once every simulated staff user has signed in: signing in hashes
    a password (a second of CPU, on purpose), and sign-ins mixed into the measured steps would
    be a morning's logins squeezed into the ramp-up, not a team at work."""

    done = 0
    everyone = Event()

    @classmethod
    def one_more(cls, expected):
        cls.done += 1
        if cls.done >= expected:
            cls.everyone.set()
        cls.everyone.wait(timeout=SIGN_IN_WAIT_S)


@cache
def targets():
    return json.loads(Path(os.environ["LOADTEST_TARGETS"]).read_text(encoding="utf-8"))


def _job_in_progress(page):
    # The job page polls itself while the job is queued or running.
    return 'hx-trigger="every 1s"' in page.text


def _send_secure_cookies_over_http(cookies):
    """Production settings mark the session and CSRF cookies Secure. In production a TLS proxy
    sits in front of gunicorn; the load test talks to gunicorn over plain http, and sends the
    cookies back as a browser does over https. (A cookie policy on the session would not do:
    requests copies the cookies into a jar of its own for each request.)"""
    for cookie in cookies:
        cookie.secure = False


class CustomerSuccessStaff(HttpUser):
    wait_time = THINK_TIME

    def on_start(self):
        self.rng = random.Random()
        self.added = []  # (account targets, email) of each contact this staff user added
        users = targets()["staff_users"]
        self.username = users[next(_next_staff_user) % len(users)]
        self.sign_in()
        _SignIns.one_more(self.environment.runner.target_user_count or 1)
        # Start as a team would: not all in the same second.
        time.sleep(self.wait_time())

    # Sign-in: once per simulated user

    def sign_in(self):
        self._request("GET", "/sign-in/", "sign in: page")
        self._request(
            "POST",
            "/sign-in/",
            "sign in",
            data={"username": self.username, "password": targets()["password"]},
            expect=302,
        )

    # Reads, most of what a team does

    @task(8)
    def open_account(self):
        account = self._account()
        self._request("GET", f"/accounts/{account['pk']}/", "account page")

    @task(3)
    def open_largest_company(self):
        largest = targets()["largest"]
        self._request(
            "GET",
            f"/accounts/{largest['pk']}/?view=hierarchy",
            "account page: largest company, entire hierarchy",
        )

    @task(2)
    def browse_accounts_tree(self):
        self._request("GET", "/accounts/", "accounts list")
        opened = self.rng.choice([targets()["largest"], self._account()])
        self._request(
            "GET", f"/accounts/{opened['pk']}/children/", "accounts: open a level", htmx=True
        )

    @task(6)
    def widget_view(self):
        account = self._account(largest_share=0.25)
        self._widget(account, "widget: view", view=self.rng.choice(account["views"]))

    @task(3)
    def widget_roles(self):
        account = self._account(largest_share=0.25)
        roles = self.rng.sample(account["roles"], min(len(account["roles"]), 2))
        self._widget(account, "widget: roles", view="hierarchy", role=roles)

    @task(6)
    def widget_search(self):
        # Typing pauses twice (the widget sends after 300 ms without a key).
        account = self._account(largest_share=0.25)
        view = self.rng.choice(account["views"])
        term = self._name()
        for typed in (term[:3], term):
            self._widget(account, "widget: search", view=view, q=typed)

    @task(5)
    def type_ahead(self):
        account = self._account()
        self._add_contact_dialog(account)
        self._type(account, self._name())

    # Writes, now and then; only to people this run adds

    @task(2)
    def add_contact(self):
        account = self._account()
        self._add_contact_dialog(account)
        number = self.rng.randrange(10**9)
        typed = f"Load{number} Tester"
        self._type(account, typed)
        add_url = f"/accounts/{account['pk']}/add-contact/"
        self._request(
            "GET",
            f"{add_url}?{urlencode({'new': typed})}",
            "add contact: new person form",
            htmx=True,
        )
        email = f"load{number}.{self.username}@{targets()['email_domain']}"
        own_roles = account["own_roles"]
        response = self._request(
            "POST",
            add_url,
            "add contact: save",
            htmx=True,
            data={
                "new": "1",
                "email": email,
                "first_name": f"Load{number}",
                "last_name": "Tester",
                "title": "",
                "phone": "",
                "role": self.rng.choice(own_roles) if own_roles else "",
                **({"is_key_contact": "on"} if self.rng.random() < 0.2 else {}),
            },
            contains="is now a contact",
        )
        if response.passed:
            self.added.append((account, email))

    @task(2)
    def edit_contact(self):
        if not self.added:
            self.add_contact()
            return
        account, email = self.rng.choice(self.added)
        # Find the contact in the widget, as a person does, then follow its Edit link.
        response = self._widget(
            account,
            "widget: search",
            view="this",
            q=email,
            check=lambda r: None if EDIT_LINK.search(r.text) else f"no Edit link for {email}",
        )
        found = EDIT_LINK.search(response.text or "")
        if not response.passed or not found:
            return
        edit_url = found.group(1)
        next_url = f"/accounts/{account['pk']}/"
        self._request("GET", f"{edit_url}?next={next_url}", "edit contact: form")
        own_roles = account["own_roles"]
        self._request(
            "POST",
            edit_url,
            "edit contact: save",
            data={
                "next": next_url,
                "role": self.rng.choice(["", *own_roles]),
                **({"is_key_contact": "on"} if self.rng.random() < 0.5 else {}),
            },
            expect=302,
        )
        self._request("GET", next_url, "account page")

    @task(2)
    def download_segment(self):
        account = self._account()
        query = urlencode({"contact": "yes", "account": account["external_id"], "scope": "subtree"})
        self._request("GET", f"/people/?{query}", "people list")
        self._request(
            "GET", f"/people/download.csv?{query}", "people: download CSV", contains="Email"
        )

    @task(1)
    def preview_upload(self):
        self._request("GET", "/integrations/", "integrations page")
        path = Path(targets()["users_file"])
        response = self._request(
            "POST",
            "/integrations/",
            "upload: send file",
            data={"kind": "users"},
            files={"file": (path.name, path.read_bytes(), "text/csv")},
            expect=302,
        )
        job_url = response.headers.get("Location", "")
        if not re.fullmatch(r"/integrations/jobs/\d+/", job_url):
            return
        deadline = time.monotonic() + PREVIEW_WAIT_S

        def preview_ready_in_time(page):
            if _job_in_progress(page):
                if time.monotonic() > deadline:
                    return f"the preview was not ready after {PREVIEW_WAIT_S} s"
                return None
            return None if "Preview" in page.text else "the job ended without a preview"

        while True:
            page = self._request(
                "GET", job_url, "upload: job page (poll)", htmx=True, check=preview_ready_in_time
            )
            if not page.passed or not _job_in_progress(page) or time.monotonic() > deadline:
                break
            time.sleep(POLL_EVERY_S)
        if page.passed and not _job_in_progress(page):
            self._request("POST", f"{job_url}cancel/", "upload: cancel", expect=302)

    # Helpers

    def _account(self, largest_share=0.0):
        if self.rng.random() < largest_share:
            return targets()["largest"]
        return self.rng.choice(targets()["accounts"])

    def _name(self):
        return self.rng.choice(targets()["names"])

    def _widget(self, account, step, *, check=None, **params):
        query = urlencode(params, doseq=True)
        return self._request(
            "GET", f"/accounts/{account['pk']}/?{query}", step, htmx=True, check=check
        )

    def _add_contact_dialog(self, account):
        self._request(
            "GET", f"/accounts/{account['pk']}/add-contact/", "add contact: dialog", htmx=True
        )

    def _type(self, account, text):
        # The type-ahead asks after two letters and again as the staff user types on.
        url = f"/accounts/{account['pk']}/people-suggestions/"
        for typed in dict.fromkeys((text[:2], text[:4], text)):
            self._request("GET", f"{url}?{urlencode({'q': typed})}", "type-ahead")

    def _request(
        self, method, url, step, *, htmx=False, expect=200, contains=None, check=None, **kwargs
    ):
        """One request of `step`, failed unless it answers `expect` (redirects are not
        followed: a page that sends to the sign-in page fails), with `contains` in its body,
        and `check(response)` (if given) says no problem (None)."""
        if step not in STEP_NAMES:
            raise ValueError(f"{step!r} is not a step of load_report.STEPS")
        headers = {}
        if htmx:
            headers["HX-Request"] = "true"
        if method == "POST":
            # What the browser sends: the Origin, and the CSRF token (htmx puts it in a header,
            # from base.html's hx-headers; a form post sends it as a field: either is checked).
            headers["Origin"] = self.host.rstrip("/")
            headers["X-CSRFToken"] = self.client.cookies.get("csrftoken", "")
        with self.client.request(
            method,
            url,
            name=step,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
            **kwargs,
        ) as response:
            if response.status_code == 0:
                # No answer at all: the connection failed (locust keeps the exception).
                problem = f"no answer: {response.error!r}"
            elif response.status_code != expect:
                problem = f"answered {response.status_code}, not {expect}"
            elif contains and contains not in response.text:
                problem = f"answered without “{contains}”"
            else:
                problem = check(response) if check else None
            if problem:
                response.failure(problem)
            else:
                response.success()
            # Whether the step went as it should, for the steps that follow it.
            response.passed = not problem
        _send_secure_cookies_over_http(self.client.cookies)
        return response
