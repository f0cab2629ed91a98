"""The headers every response carries for the browser (config/middleware.py, PERMISSIONS_POLICY):
no cache keeps a page or a download of personal data, and no browser feature the app does not
use is open to it. (The Content-Security-Policy has tests/test_csp.py.)"""

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from integrations.models import ImportJob
from tests.factories import MembershipFactory, PersonFactory

pytestmark = pytest.mark.django_db

# Features the app never uses, which the policy must refuse (it refuses more).
REFUSED = {"camera", "microphone", "geolocation", "payment", "usb", "serial", "hid", "midi"}


def cache_control(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def permissions_policy(response):
    """The policy as {feature: allow list}."""
    return dict(part.strip().split("=", 1) for part in response["Permissions-Policy"].split(","))


def assert_private_no_store(response):
    directives = cache_control(response)
    assert {"private", "no-store"} <= directives, directives
    assert "public" not in directives and not any(d.startswith("s-maxage") for d in directives)


@pytest.fixture
def data(tree):
    membership = MembershipFactory(account=tree["paris"], person=PersonFactory())
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS, file_name="people.csv", status=ImportJob.Status.SUCCEEDED
    )
    job.error_file.save("people-errors.csv", ContentFile(b"Account ID,Error\r\nNOPE,Unknown\r\n"))
    return {"account": tree["paris"], "person": membership.person, "job": job}


# Every page and download of a signed-in staff user: (method, path, expected status).
SIGNED_IN = [
    ("get", "/accounts/", 200),
    ("get", "/accounts/?q=par", 200),
    ("get", "/accounts/suggestions/?q=par", 200),
    ("get", "/accounts/{account}/", 200),
    ("get", "/accounts/{account}/?view=hierarchy&q=a", 200),
    ("get", "/accounts/{account}/children/", 302),
    ("get", "/accounts/{account}/add-contact/", 200),
    ("get", "/accounts/{account}/people-suggestions/?q=a", 200),
    ("get", "/accounts/{account}/tasks/new/", 200),
    ("get", "/accounts/{account}/touchpoints/new/", 200),
    ("get", "/people/", 200),
    ("get", "/people/?contact=yes", 200),
    ("get", "/people/{person}/", 200),
    ("get", "/people/{person}/edit/", 200),
    ("get", "/people/segments/", 200),
    ("get", "/integrations/", 200),
    ("get", "/integrations/jobs/{job}/", 200),
    # Downloads: streamed CSV, XLSX and stored files.
    ("get", "/people/download.csv", 200),
    ("get", "/people/download.xlsx", 200),
    ("get", "/integrations/jobs/{job}/errors/", 200),
    ("post", "/integrations/export/?who=all&file_format=csv", 200),
    ("post", "/integrations/export/?who=all&file_format=xlsx", 200),
    # The Django admin.
    ("get", "/admin/", 200),
    ("get", "/admin/contacts/person/", 200),
    ("get", "/admin/contacts/person/{person}/change/", 200),
    # Redirects and errors.
    ("get", "/", 302),
    ("get", "/sign-in/", 302),
    ("get", "/accounts/999999/", 404),
    ("post", "/people/segments/new/", 400),
]


@pytest.mark.parametrize(("method", "path", "status"), SIGNED_IN)
def test_every_signed_in_response_is_private_and_not_stored(
    global_admin_client, data, method, path, status
):
    path = path.format(account=data["account"].pk, person=data["person"].pk, job=data["job"].pk)
    if method == "post":
        path, _, query = path.partition("?")
        form = dict(pair.split("=") for pair in query.split("&")) if query else {}
        response = global_admin_client.post(path, form)
    else:
        response = global_admin_client.get(path)

    assert response.status_code == status
    assert_private_no_store(response)


@pytest.mark.parametrize("path", ["/accounts/{account}/?q=a", "/accounts/{account}/children/"])
def test_htmx_fragments_are_private_and_not_stored(global_admin_client, data, path):
    response = global_admin_client.get(
        path.format(account=data["account"].pk), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert_private_no_store(response)


@pytest.mark.parametrize(
    ("path", "status"), [("/sign-in/", 200), ("/accounts/", 302), ("/nowhere/", 404)]
)
def test_anonymous_responses_are_not_stored_either(client, path, status):
    # The sign-in page holds a CSRF token; a shared cache must not hand it to someone else.
    response = client.get(path)

    assert response.status_code == status
    assert_private_no_store(response)


def test_a_failed_and_a_locked_out_sign_in_are_not_stored(client):
    answers = [client.post("/sign-in/", {"username": "x", "password": "y"}) for _ in range(5)]

    assert [answer.status_code for answer in answers] == [200] * 4 + [429]
    for answer in answers:
        assert_private_no_store(answer)


@pytest.fixture
def static_client(settings):
    """A client whose whitenoise serves the static folders (the suite never collects them)."""
    settings.WHITENOISE_USE_FINDERS = True
    return Client()


def test_static_files_keep_their_cache_lifetime(static_client):
    response = static_client.get("/static/css/app.css")

    assert response.status_code == 200
    assert "no-store" not in cache_control(response)


@pytest.mark.parametrize("path", ["/sign-in/", "/accounts/", "/static/css/app.css"])
def test_anonymous_responses_refuse_unused_browser_features(static_client, path):
    policy = permissions_policy(static_client.get(path))

    assert {feature: policy.get(feature) for feature in REFUSED} == dict.fromkeys(REFUSED, "()")
    # Refused to everyone: no feature is allowed to any origin.
    assert set(policy.values()) == {"()"}


def test_signed_in_pages_and_downloads_refuse_unused_browser_features(global_admin_client, data):
    for path in ["/accounts/", f"/accounts/{data['account'].pk}/", "/people/download.csv"]:
        policy = permissions_policy(global_admin_client.get(path))

        assert set(policy.values()) == {"()"}
        assert set(policy) >= REFUSED
