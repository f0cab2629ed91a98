"""Sign-in throttling (config/sign_in.py, django-axes): a username, or an address, that failed too
often is refused for the cool-off, with the sign-in page saying so, without a password hashed,
until the cool-off passes or a Global admin deletes its access attempts in the Django admin."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db.models import F
from django.test import Client

from config import staff
from tests.factories import StaffUserFactory
from tests.html import element, elements, parse, text

PASSWORD = "correct horse battery staple"
WRONG_PASSWORD = (
    "Please enter a correct username and password. Note that both fields may be case-sensitive."
)
LOCKED_OUT = (
    "Too many failed sign-ins for this username or from this address. Try again in 15 minutes, "
    "or ask a Global admin to unlock it."
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def vic():
    return StaffUserFactory(username="vic", group=staff.VIEWER)


def sign_in(client, username, password, **extra):
    """Post the sign-in form: its status, the form's error ("" for none) and whether the client
    is signed in after it."""
    response = client.post("/sign-in/", {"username": username, "password": password}, **extra)
    errors = []
    if response.status_code != 302:
        form = element(parse(response), "form", class_="form-stack")
        errors = [text(node) for node in elements(form, "div", class_="form-error")]
    return response.status_code, " ".join(errors), SESSION_KEY in client.session


def fail(client, username, times, **extra):
    """`times` wrong passwords for `username`: the status and error of each."""
    return [sign_in(client, username, "wrong", **extra)[:2] for _ in range(times)]


def test_limit_and_cool_off_are_the_settings_defaults():
    assert (settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME.total_seconds()) == (5, 900)
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_after_five_wrong_passwords_even_the_right_one_is_refused(vic):
    client = Client()

    answers = fail(client, "vic", 5)

    assert answers == [(200, WRONG_PASSWORD)] * 4 + [(429, LOCKED_OUT)]
    assert sign_in(client, "vic", PASSWORD) == (429, LOCKED_OUT, False)
    assert client.get("/accounts/")["Location"] == "/sign-in/?next=/accounts/"


def test_the_lockout_page_is_the_sign_in_page_with_the_username_kept(vic):
    client = Client()
    fail(client, "vic", 5)

    response = client.post("/sign-in/?next=/people/", {"username": "vic", "password": PASSWORD})

    assert response.status_code == 429
    assert [template.name for template in response.templates][:1] == ["staff/sign_in.html"]
    form = element(parse(response), "form", class_="form-stack")
    assert text(element(form, "div", class_="form-error")) == LOCKED_OUT
    assert dict(element(form, "input", name="username").attributes)["value"] == "vic"
    assert dict(element(form, "input", name="next").attributes)["value"] == "/people/"
    assert 'value="correct horse' not in response.text


def test_fewer_failures_than_the_limit_do_not_lock(vic):
    client = Client()
    fail(client, "vic", 4)

    assert sign_in(client, "vic", PASSWORD) == (302, "", True)


def test_a_locked_out_address_refuses_every_username_from_it(vic):
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    answers = [sign_in(attacker, f"guess{n}", "wrong")[:2] for n in range(5)]

    assert answers == [(200, WRONG_PASSWORD)] * 4 + [(429, LOCKED_OUT)]
    # Vic never failed, but from the same address is refused; from another one, not.
    assert sign_in(Client(REMOTE_ADDR="198.51.100.7"), "vic", PASSWORD) == (429, LOCKED_OUT, False)
    assert sign_in(Client(REMOTE_ADDR="203.0.113.9"), "vic", PASSWORD) == (302, "", True)


def test_a_locked_out_username_is_refused_from_every_address(vic):
    StaffUserFactory(username="sam", group=staff.STANDARD)
    answers = [
        sign_in(Client(REMOTE_ADDR=f"198.51.100.{n}"), "vic", "wrong")[:2] for n in range(1, 6)
    ]

    assert answers == [(200, WRONG_PASSWORD)] * 4 + [(429, LOCKED_OUT)]
    elsewhere = "203.0.113.9"
    assert sign_in(Client(REMOTE_ADDR=elsewhere), "vic", PASSWORD) == (429, LOCKED_OUT, False)
    # Another staff user from that other address is not held up.
    assert sign_in(Client(REMOTE_ADDR=elsewhere), "sam", PASSWORD) == (302, "", True)


def test_after_the_cool_off_the_right_password_works_again(vic):
    client = Client()
    fail(client, "vic", 5)
    assert sign_in(client, "vic", PASSWORD)[0] == 429

    # The cool-off counts from the last failure; its time moved back rather than waited for.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME)

    assert sign_in(client, "vic", PASSWORD) == (302, "", True)


def test_tries_while_locked_out_do_not_extend_the_lockout(vic):
    client = Client()
    fail(client, "vic", 5)
    (before,) = AccessAttempt.objects.values_list("attempt_time", "failures_since_start")

    fail(client, "vic", 3)
    sign_in(client, "vic", PASSWORD)

    assert list(AccessAttempt.objects.values_list("attempt_time", "failures_since_start")) == [
        before
    ]


@pytest.fixture
def hashing(monkeypatch):
    """How many times a password was hashed (checked, or hashed for an unknown username, as
    Django does against timing attacks), counted on the suite's hasher."""
    calls = []
    encode = MD5PasswordHasher.encode

    def counted(self, password, salt):
        calls.append(password)
        return encode(self, password, salt)

    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr(MD5PasswordHasher, "encode", counted)
    return calls


def test_a_locked_out_sign_in_hashes_no_password(vic, hashing):
    client = Client()
    fail(client, "vic", 4)
    sign_in(client, "nobody", "wrong")  # an unknown username is hashed too, until the lockout
    assert len(hashing) == 5

    hashing.clear()
    fail(client, "vic", 20)
    sign_in(client, "vic", PASSWORD)
    sign_in(client, "nobody", "wrong")

    assert hashing == []


def test_a_global_admin_unlocks_by_deleting_the_access_attempts(vic, admin_site_client):
    locked = Client()
    fail(locked, "vic", 5)
    (attempt,) = AccessAttempt.objects.all()

    changelist = admin_site_client.get("/admin/axes/accessattempt/")
    assert changelist.status_code == 200
    assert f'href="/admin/axes/accessattempt/{attempt.pk}/change/"' in changelist.text
    deleted = admin_site_client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    assert deleted.status_code == 302
    assert AccessAttempt.objects.count() == 0
    assert sign_in(locked, "vic", PASSWORD) == (302, "", True)


def test_only_global_admins_see_the_access_attempts():
    StaffUserFactory(username="ann", group=staff.ADVANCED)
    client = Client()
    sign_in(client, "ann", PASSWORD)

    # The admin sends other staff users to its sign-in, which refuses them.
    assert client.get("/admin/axes/accessattempt/", follow=True).status_code == 403


def test_without_a_trusted_proxy_forwarded_addresses_are_ignored(vic):
    """A client cannot escape the address rule by sending another X-Forwarded-For each time."""
    answers = [
        sign_in(Client(), f"guess{n}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")[:2]
        for n in range(5)
    ]

    assert answers[-1] == (429, LOCKED_OUT)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_behind_a_trusted_proxy_the_address_it_saw_counts(vic, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    # The client prepends what it likes; the proxy appends the address it saw.
    answers = [
        sign_in(
            Client(**proxy), f"guess{n}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 198.51.100.7"
        )[:2]
        for n in range(5)
    ]

    assert answers[-1] == (429, LOCKED_OUT)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    # Another client behind the same proxy signs in.
    other = Client(**proxy)
    assert sign_in(other, "vic", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9") == (302, "", True)


def test_behind_two_trusted_proxies_the_address_the_first_saw_counts(vic, settings):
    settings.TRUSTED_PROXY_COUNT = 2

    sign_in(
        Client(REMOTE_ADDR="10.0.0.3"),
        "guess",
        "wrong",
        HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.7, 10.0.0.2",
    )

    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": "vic"},
        {"password": "wrong"},
        {"username": "", "password": ""},
        {"username": "x" * 5000, "password": "wrong"},
        {"username": "vic\x00", "password": "wrong"},
    ],
)
def test_malformed_sign_ins_are_answered_with_the_page(vic, data):
    client = Client()

    statuses = {client.post("/sign-in/", data).status_code for _ in range(6)}

    assert statuses <= {200, 429}
    assert SESSION_KEY not in client.session


def test_an_over_long_username_is_refused_by_the_form(vic):
    client = Client()

    response = client.post("/sign-in/", {"username": "x" * 151, "password": "wrong"})

    assert response.status_code == 200
    form = element(parse(response), "form", class_="form-stack")
    assert "Ensure this value has at most 150 characters (it has 151)." in text(form)
    assert AccessAttempt.objects.count() == 0


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "192.0.2.1, 300.1.1.1", " , "])
def test_behind_a_proxy_a_forwarded_entry_that_is_no_address_counts_as_the_proxy(
    vic, settings, forwarded
):
    settings.TRUSTED_PROXY_COUNT = 1

    status, error, _ = sign_in(
        Client(REMOTE_ADDR="10.0.0.2"), "vic", "wrong", HTTP_X_FORWARDED_FOR=forwarded
    )

    assert (status, error) == (200, WRONG_PASSWORD)
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["10.0.0.2"]
