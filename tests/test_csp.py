"""The Content-Security-Policy header on every response (the browser test in tests/e2e/test_csp.py
shows that no page breaks it)."""

import re

import pytest
from django.test.html import Element

from tests.factories import AccountFactory, PersonFactory
from tests.html import attribute, parse


def directives(response):
    """The policy of a response as {directive: [values]}."""
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def assert_strict(policy):
    assert policy["default-src"] == ["'self'"]
    assert (policy["object-src"], policy["base-uri"], policy["frame-ancestors"]) == (
        ["'none'"],
        ["'self'"],
        ["'none'"],
    )
    assert policy["form-action"] == ["'self'"]
    values = {value for values in policy.values() for value in values}
    assert values & {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:"} == set()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/sign-in/", 200),
        ("/accounts/", 302),
        ("/nowhere/", 404),
    ],
)
def test_anonymous_responses_carry_the_policy(client, path, status):
    response = client.get(path)

    assert response.status_code == status
    assert_strict(directives(response))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/accounts/",
        "/accounts/{account}/",
        "/accounts/{account}/?view=hierarchy&q=a",
        "/accounts/{account}/add-contact/",
        "/people/",
        "/people/{person}/",
        "/people/{person}/edit/",
        "/people/segments/",
        "/integrations/",
    ],
)
def test_app_pages_carry_the_policy_without_a_nonce(global_admin_client, path):
    path = path.format(account=AccountFactory().pk, person=PersonFactory().pk)

    response = global_admin_client.get(path)

    assert response.status_code == 200
    policy = directives(response)
    assert_strict(policy)
    # The app's own pages have no inline script or style at all: not even a nonce is issued.
    assert (policy["script-src"], policy["style-src"]) == (["'self'"], ["'self'"])
    assert "nonce=" not in response.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status"), [("/accounts/999999/", 404), ("/people/999999/edit/", 404)]
)
def test_error_pages_carry_the_policy(global_admin_client, path, status):
    response = global_admin_client.get(path)

    assert response.status_code == status
    assert_strict(directives(response))


@pytest.mark.django_db
def test_htmx_fragments_carry_the_policy(global_admin_client):
    account = AccountFactory()

    response = global_admin_client.get(
        f"/accounts/{account.pk}/?q=a", headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert_strict(directives(response))


def nonced(node):
    """The nonce attribute of every element under `node` that has one."""
    found = [attribute(node, "nonce")] if attribute(node, "nonce") is not None else []
    for child in node.children:
        if isinstance(child, Element):
            found += nonced(child)
    return found


@pytest.mark.django_db
def test_admin_tags_carry_the_nonce_the_policy_names(global_admin_client):
    # The Django admin marks its stylesheets and inline tags with the request's nonce.
    response = global_admin_client.get("/admin/")

    assert response.status_code == 200
    policy = directives(response)
    assert_strict(policy)
    (nonce_source,) = [value for value in policy["style-src"] if value.startswith("'nonce-")]
    nonce = re.fullmatch(r"'nonce-(.+)'", nonce_source).group(1)
    assert set(nonced(parse(response))) == {nonce}
    assert policy["script-src"] == ["'self'", nonce_source]


@pytest.mark.django_db
def test_every_response_has_its_own_nonce(global_admin_client):
    first = directives(global_admin_client.get("/admin/"))
    second = directives(global_admin_client.get("/admin/"))

    assert first["style-src"][1] != second["style-src"][1]
