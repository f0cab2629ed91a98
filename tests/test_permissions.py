"""Staff groups, signing in and out, and who reaches the Django admin (SPEC §5)."""

import re
from html import unescape
from urllib.parse import quote

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.test import Client
from pytest_django.asserts import assertInHTML

from config import staff
from config.staff import is_global_admin
from contacts.models import Task
from tests.factories import AccountFactory, MembershipFactory, PersonFactory, StaffUserFactory
from tests.html import attribute, elements, page

PASSWORD = "correct horse battery staple"


def _all_permissions():
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list(
            "content_type__app_label", "codename"
        )
    }


def _nav_links(response):
    """(href, text) of each link in the main navigation; None when there is no navigation."""
    nav = re.search(r'<nav class="topnav" aria-label="Main">(.*?)</nav>', response.text, re.S)
    if nav is None:
        return None
    return re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', nav.group(1))


def _csrf_token(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)


def _signed_in_with_csrf_checks():
    """A client that checks CSRF tokens as a browser's requests are checked, signed in through
    the sign-in form as the Viewer "vic"."""
    StaffUserFactory(username="vic", group=staff.VIEWER)
    client = Client(enforce_csrf_checks=True)
    client.post(
        "/sign-in/",
        {
            "username": "vic",
            "password": PASSWORD,
            "csrfmiddlewaretoken": _csrf_token(client.get("/sign-in/")),
        },
    )
    return client


# The groups and their permissions


@pytest.mark.django_db
def test_staff_groups_are_the_four_of_the_spec():
    assert sorted(Group.objects.values_list("name", flat=True)) == [
        "Advanced",
        "Global admin",
        "Standard",
        "Viewer",
    ]
    assert staff.GROUPS == ("Viewer", "Standard", "Advanced", "Global admin")


@pytest.mark.django_db
def test_global_admin_has_every_permission_there_is():
    # Also those the group's rows lack (the sessions app migrates after the data migration that
    # made the group, and so will every model added later): the authentication backend grants
    # a Global admin everything.
    user = StaffUserFactory(group=staff.GLOBAL_ADMIN)

    assert {name for name in _all_permissions() if not user.has_perm(name)} == set()
    assert user.has_perm("sessions.view_session") is True
    assert user.has_module_perms("sessions") is True


@pytest.mark.django_db
def test_inactive_global_admin_has_no_permission():
    user = StaffUserFactory(group=staff.GLOBAL_ADMIN, is_active=False)

    assert {name for name in _all_permissions() if user.has_perm(name)} == set()


# What a staff user of each group can do (SPEC §5), asked of the pages themselves

GROUPS = {
    "viewer": staff.VIEWER,
    "standard": staff.STANDARD,
    "advanced": staff.ADVANCED,
    "global_admin": staff.GLOBAL_ADMIN,
}
VIEWS = {"viewer", "standard", "advanced", "global_admin"}
EDITS = {"standard", "advanced", "global_admin"}
INTEGRATES = {"advanced", "global_admin"}
ADMINISTERS = {"global_admin"}


@pytest.fixture
def membership(tree):
    return MembershipFactory(account=tree["paris"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        # Viewers look.
        ("/accounts/", VIEWS),
        ("/accounts/{account}/", VIEWS),
        ("/people/", VIEWS),
        ("/people/{person}/", VIEWS),
        # Standard users also add, edit and remove contacts, tasks and touchpoints, and
        # download and save segments.
        ("/accounts/{account}/add-contact/", EDITS),
        ("/people/contacts/{membership}/edit/", EDITS),
        ("/people/contacts/{membership}/remove/", EDITS),
        ("/people/{person}/edit/", EDITS),
        ("/accounts/{account}/tasks/new/", EDITS),
        ("/accounts/{account}/touchpoints/new/", EDITS),
        ("/people/download.csv", EDITS),
        # Advanced users also run integrations.
        ("/integrations/", INTEGRATES),
        # Global admins also use the Django admin, account types and roles included.
        ("/admin/", ADMINISTERS),
        ("/admin/accounts/accounttype/", ADMINISTERS),
        ("/admin/accounts/accountrole/add/", ADMINISTERS),
        ("/admin/auth/user/", ADMINISTERS),
    ],
)
def test_staff_user_reaches_a_page_by_group(client, membership, path, allowed):
    path = path.format(
        account=membership.account_id, person=membership.person_id, membership=membership.pk
    )
    reached = set()
    for key, group in GROUPS.items():
        client.force_login(StaffUserFactory(username=key, group=group))
        response = client.get(path)
        # Refused: 403 in the app; the admin sends others to its sign-in, which refuses them.
        assert response.status_code in {200, 302, 403}, (key, response.status_code)
        if response.status_code == 200:
            reached.add(key)
        else:
            refusal = 403 if response.status_code == 403 else client.get(response["Location"])
            assert getattr(refusal, "status_code", refusal) == 403, (key, path)

    assert reached == allowed


@pytest.mark.django_db
@pytest.mark.parametrize(("group", "allowed"), [(staff.VIEWER, False), (staff.STANDARD, True)])
def test_only_editors_remove_a_contact(client, membership, group, allowed):
    client.force_login(StaffUserFactory(group=group))

    response = client.post(f"/people/contacts/{membership.pk}/remove/")

    membership.refresh_from_db()
    assert (response.status_code, membership.is_contact) == (
        (302, False) if allowed else (403, True)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("group", "allowed"), [(staff.VIEWER, False), (staff.STANDARD, True)])
def test_only_editors_add_a_task(client, tree, group, allowed):
    client.force_login(StaffUserFactory(group=group))

    response = client.post(f"/accounts/{tree['paris'].pk}/tasks/new/", {"title": "Call back"})

    assert (response.status_code, Task.objects.filter(title="Call back").count()) == (
        (302, 1) if allowed else (403, 0)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("group", "shown"), [(staff.VIEWER, False), (staff.STANDARD, True)])
def test_contact_controls_show_only_to_editors(client, membership, group, shown):
    client.force_login(StaffUserFactory(group=group))

    response = client.get(f"/accounts/{membership.account_id}/")

    links = {attribute(link, "href").split("?")[0] for link in elements(page(response), "a")}
    controls = {
        f"/accounts/{membership.account_id}/add-contact/",
        f"/people/contacts/{membership.pk}/edit/",
        f"/people/contacts/{membership.pk}/remove/",
    }
    assert links & controls == (controls if shown else set())


# is_global_admin


@pytest.mark.django_db
def test_is_global_admin_for_superuser_without_group():
    assert is_global_admin(StaffUserFactory(is_superuser=True)) is True


@pytest.mark.django_db
def test_is_global_admin_for_global_admin_group_member_without_is_staff():
    assert is_global_admin(StaffUserFactory(group=staff.GLOBAL_ADMIN, is_staff=False)) is True


@pytest.mark.django_db
@pytest.mark.parametrize("group", [staff.VIEWER, staff.STANDARD, staff.ADVANCED, None])
def test_is_global_admin_false_for_other_staff_users(group):
    assert is_global_admin(StaffUserFactory(group=group)) is False


@pytest.mark.django_db
def test_is_global_admin_false_for_is_staff_alone():
    assert is_global_admin(StaffUserFactory(is_staff=True)) is False


def test_is_global_admin_false_for_anonymous():
    assert is_global_admin(AnonymousUser()) is False


# Anonymous visitors


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/accounts/",
        "/accounts/?q=paris",
        "/accounts/{account}/",
        "/people/{person}/",
        "/admin/contacts/person/",
        "/admin/accounts/account/{account}/change/",
    ],
)
def test_anonymous_visitor_is_sent_to_sign_in(client, path):
    path = path.format(account=AccountFactory().pk, person=PersonFactory().pk)

    response = client.get(path)

    assert (response.status_code, response["Location"]) == (
        302,
        f"/sign-in/?next={quote(path)}",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/", "/admin/contacts/"])
def test_anonymous_visitor_of_admin_ends_on_the_app_sign_in_page(client, path):
    # The admin site's own views (index, app index) send visitors to admin:login first.
    response = client.get(path, follow=True)

    assert (response.status_code, response.request["PATH_INFO"]) == (200, "/sign-in/")
    assert [template.name for template in response.templates][:1] == ["staff/sign_in.html"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/", "/admin/contacts/"])
def test_global_admin_signing_in_from_the_admin_reaches_it(client, path):
    StaffUserFactory(username="gloria", group=staff.GLOBAL_ADMIN)
    sign_in = client.get(path, follow=True)
    next_url = re.search(r'<input type="hidden" name="next" value="([^"]*)">', sign_in.text)

    response = client.post(
        "/sign-in/",
        {"username": "gloria", "password": PASSWORD, "next": unescape(next_url.group(1))},
        follow=True,
    )

    assert (response.status_code, response.request["PATH_INFO"]) == (200, path)


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_sign_in_for_a_missing_account(client):
    # Nothing about the data leaks before sign-in, not even whether an id exists.
    response = client.get("/accounts/999999/")

    assert (response.status_code, response["Location"]) == (
        302,
        "/sign-in/?next=/accounts/999999/",
    )


# Signing in and out


@pytest.mark.django_db
def test_sign_in_page_shows_labelled_fields_and_no_navigation(client):
    response = client.get("/sign-in/?next=/accounts/")

    assert response.status_code == 200
    assertInHTML('<label for="id_username">Username</label>', response.text)
    assertInHTML('<label for="id_password">Password</label>', response.text)
    assertInHTML('<input type="hidden" name="next" value="/accounts/">', response.text)
    assertInHTML(
        '<button type="submit" class="button button-primary">Sign in</button>', response.text
    )
    assert _nav_links(response) is None
    assert "form-error" not in response.text


@pytest.mark.django_db
def test_sign_in_with_username_and_password_starts_a_session():
    user = StaffUserFactory(username="vic", group=staff.VIEWER)
    client = Client(enforce_csrf_checks=True)
    token = _csrf_token(client.get("/sign-in/"))

    response = client.post(
        "/sign-in/",
        {"username": "vic", "password": PASSWORD, "next": "", "csrfmiddlewaretoken": token},
    )

    assert (response.status_code, response["Location"]) == (302, "/accounts/")
    assert client.session[SESSION_KEY] == str(user.pk)
    page = client.get("/accounts/")
    assert page.status_code == 200
    assertInHTML('<span class="staff-name">vic</span>', page.text)


@pytest.mark.django_db
def test_sign_in_shows_full_name_of_staff_user(client):
    StaffUserFactory(username="vic", first_name="Vic", last_name="Viewer", group=staff.VIEWER)
    client.post("/sign-in/", {"username": "vic", "password": PASSWORD})

    page = client.get("/accounts/")

    assertInHTML('<span class="staff-name">Vic Viewer</span>', page.text)


@pytest.mark.django_db
def test_sign_in_goes_to_next(client):
    account = AccountFactory()
    StaffUserFactory(username="vic", group=staff.VIEWER)

    response = client.post(
        "/sign-in/",
        {"username": "vic", "password": PASSWORD, "next": f"/accounts/{account.pk}/"},
    )

    assert (response.status_code, response["Location"]) == (302, f"/accounts/{account.pk}/")


@pytest.mark.django_db
def test_sign_in_ignores_next_to_another_site(client):
    StaffUserFactory(username="vic", group=staff.VIEWER)

    response = client.post(
        "/sign-in/",
        {"username": "vic", "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert (response.status_code, response["Location"]) == (302, "/accounts/")


@pytest.mark.django_db
def test_sign_in_with_wrong_password_shows_error_and_stays():
    StaffUserFactory(username="vic", group=staff.VIEWER)
    client = Client(enforce_csrf_checks=True)
    token = _csrf_token(client.get("/sign-in/"))

    response = client.post(
        "/sign-in/",
        {"username": "vic", "password": "wrong", "next": "", "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 200
    assertInHTML(
        '<div class="form-error" role="alert">Please enter a correct username and password. '
        "Note that both fields may be case-sensitive.</div>",
        response.text,
    )
    assert (
        re.search(r'<input[^>]*name="username"[^>]*>', response.text).group(0).count('value="vic"')
        == 1
    )
    assert 'value="wrong"' not in response.text
    assert SESSION_KEY not in client.session
    assert client.get("/accounts/")["Location"] == "/sign-in/?next=/accounts/"


@pytest.mark.django_db
def test_sign_in_refuses_inactive_staff_user(client):
    StaffUserFactory(username="gone", is_active=False)

    response = client.post("/sign-in/", {"username": "gone", "password": PASSWORD})

    assert response.status_code == 200
    assertInHTML(
        '<div class="form-error" role="alert">Please enter a correct username and password. '
        "Note that both fields may be case-sensitive.</div>",
        response.text,
    )
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_sign_in_page_sends_signed_in_staff_user_on(viewer_client):
    response = viewer_client.get("/sign-in/")

    assert (response.status_code, response["Location"]) == (302, "/accounts/")


@pytest.mark.django_db
def test_sign_out_button_is_a_post_form(viewer_client):
    response = viewer_client.get("/accounts/")

    form = re.search(r'<form class="signout" method="post" action="([^"]*)">', response.text)
    assert form.group(1) == "/sign-out/"
    assertInHTML(
        '<button type="submit" class="button button-quiet">Sign out</button>', response.text
    )


@pytest.mark.django_db
def test_sign_out_with_get_is_refused_and_keeps_the_session(viewer_client):
    response = viewer_client.get("/sign-out/")

    assert response.status_code == 405
    assert viewer_client.session[SESSION_KEY] == str(viewer_client.staff_user.pk)


@pytest.mark.django_db
def test_sign_out_with_post_ends_the_session():
    client = _signed_in_with_csrf_checks()
    token = _csrf_token(client.get("/accounts/"))

    response = client.post("/sign-out/", {"csrfmiddlewaretoken": token})

    assert (response.status_code, response["Location"]) == (302, "/sign-in/")
    assert SESSION_KEY not in client.session
    assert client.get("/accounts/")["Location"] == "/sign-in/?next=/accounts/"


@pytest.mark.django_db
def test_sign_out_without_csrf_token_is_refused():
    client = _signed_in_with_csrf_checks()

    response = client.post("/sign-out/")

    assert response.status_code == 403
    assert client.get("/accounts/").status_code == 200


# The Django admin is for Global admins only


def _admin_index_title(response):
    return re.search(r"<h1>([^<]*)</h1>", response.text).group(1)


@pytest.mark.django_db
def test_superuser_reaches_admin_even_without_is_staff(client):
    client.force_login(StaffUserFactory(is_superuser=True, is_staff=False))

    response = client.get("/admin/")

    assert (response.status_code, _admin_index_title(response)) == (200, "Data and settings")


@pytest.mark.django_db
def test_global_admin_group_member_reaches_admin_without_is_staff(client):
    client.force_login(StaffUserFactory(group=staff.GLOBAL_ADMIN, is_staff=False))

    response = client.get("/admin/")

    assert (response.status_code, _admin_index_title(response)) == (200, "Data and settings")
    assert client.get("/admin/accounts/accounttype/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("group", [staff.VIEWER, staff.STANDARD, staff.ADVANCED])
@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/contacts/membership/", "/admin/accounts/accounttype/add/"]
)
def test_other_staff_users_are_sent_to_admin_sign_in(client, group, path):
    client.force_login(StaffUserFactory(group=group, is_staff=True))

    response = client.get(path)

    assert (response.status_code, response["Location"]) == (
        302,
        f"/admin/login/?next={quote(path)}",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("group", [staff.VIEWER, staff.STANDARD, staff.ADVANCED])
def test_other_staff_users_end_on_forbidden(client, group):
    client.force_login(StaffUserFactory(group=group, is_staff=True))

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain == [("/admin/login/?next=/admin/", 302)]
    assert response.status_code == 403


@pytest.mark.django_db
def test_admin_json_endpoints_refuse_other_staff_users(client):
    client.force_login(StaffUserFactory(group=staff.ADVANCED))

    response = client.get(
        "/admin/autocomplete/?app_label=contacts&model_name=membership&field_name=person&term=a"
    )

    assert (response.status_code, response["Location"]) == (
        302,
        "/admin/login/?next=/admin/autocomplete/%3Fapp_label%3Dcontacts%26model_name%3D"
        "membership%26field_name%3Dperson%26term%3Da",
    )


# The "Admin" link


EVERYONE = [("/accounts/", "Accounts"), ("/people/", "People")]
INTEGRATIONS = ("/integrations/", "Integrations")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("attributes", "links"),
    [
        ({"is_superuser": True}, [*EVERYONE, INTEGRATIONS, ("/admin/", "Admin")]),
        ({"group": staff.GLOBAL_ADMIN}, [*EVERYONE, INTEGRATIONS, ("/admin/", "Admin")]),
        ({"group": staff.ADVANCED, "is_staff": True}, [*EVERYONE, INTEGRATIONS]),
        ({"group": staff.STANDARD}, EVERYONE),
        ({"group": staff.VIEWER}, EVERYONE),
        ({}, EVERYONE),
    ],
)
def test_admin_link_shows_only_for_global_admins(client, attributes, links):
    account = AccountFactory()
    client.force_login(StaffUserFactory(**attributes))

    for path in ["/accounts/", f"/accounts/{account.pk}/"]:
        assert _nav_links(client.get(path)) == links
