"""The Django admin site for Global admins (SPEC §3.9, config/admin.py): who gets in, its index,
and the pages of staff users, groups and tasks. Each app's admin is tested beside the app
(tests/<app>/test_admin.py)."""

import re

import pytest

from tests.admin_pages import add_page_headings, change_page, changelist_rows

pytestmark = pytest.mark.django_db


def test_a_global_admin_by_group_only_gets_in(admin_site_client):
    user = admin_site_client.staff_user

    assert (user.is_superuser, user.is_staff) == (False, False)
    assert admin_site_client.get("/admin/").status_code == 200


def test_admin_index_lists_every_model(admin_site_client):
    response = admin_site_client.get("/admin/")

    models = re.findall(r'<th scope="row" id="[^"]*">\s*<a href="/admin/([^"]+)/"', response.text)
    assert sorted(models) == [
        "accounts/account",
        "accounts/accountrole",
        "accounts/accounttype",
        "auth/group",
        "auth/user",
        # django-axes' failed sign-ins: a Global admin unlocks by deleting them.
        "axes/accessattempt",
        "contacts/contactchange",
        "contacts/downloadrecord",
        "contacts/emailalias",
        "contacts/forgottenperson",
        "contacts/membership",
        "contacts/person",
        "contacts/personmerge",
        "contacts/segment",
        "contacts/task",
        "contacts/touchpoint",
        "django_tasks_database/dbtaskresult",
        "integrations/importjob",
        "integrations/integrationjob",
        "integrations/mappingtemplate",
        "integrations/syncrun",
        "integrations/usersexport",
    ]


CHANGELISTS = {
    "auth/group": [["Advanced"], ["Global admin"], ["Standard"], ["Viewer"]],
    "auth/user": [
        ["global_admin_user", "global_admin_user@unified-contacts.example", "-", "-", "False"],
        ["owner", "owner@unified-contacts.example", "Olive", "Owner", "False"],
    ],
    "django_tasks_database/dbtaskresult": [],
}


@pytest.mark.parametrize(("model", "rows"), CHANGELISTS.items(), ids=list(CHANGELISTS))
def test_changelist_lists_every_object(admin_site_client, admin_data, model, rows):
    assert changelist_rows(admin_site_client, model) == rows


@pytest.mark.parametrize(
    ("model", "title"), [("auth/group", "Add group"), ("auth/user", "Add user")]
)
def test_add_page_renders(admin_site_client, admin_data, model, title):
    assert add_page_headings(admin_site_client, model) == (title, "")


@pytest.mark.parametrize(
    ("model", "key", "title", "subtitle", "fields"),
    [
        ("auth/group", "viewer_group", "Change group", "Viewer", {"name": "Viewer"}),
        (
            "auth/user",
            "owner",
            "Change user",
            "owner",
            {"username": "owner", "first_name": "Olive"},
        ),
    ],
    ids=["auth/group", "auth/user"],
)
def test_change_page_shows_the_object(
    admin_site_client, admin_data, model, key, title, subtitle, fields
):
    assert change_page(admin_site_client, model, admin_data[key], fields) == (
        (title, subtitle),
        fields,
    )
