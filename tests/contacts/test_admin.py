"""Past 400 lines as one thing: every test of contacts/admin.py.

The contacts admin: people, memberships (also inline on people and
accounts), contact history, tasks and touchpoints; search, autocomplete, and the contact
history written by admin edits."""

import re

import pytest

from accounts.models import AccountRole
from contacts.models import ContactChange, Membership
from tests.admin_pages import (
    add_page_headings,
    autocomplete,
    change_page,
    changelist_rows,
    error_list,
    form_data,
    result_rows,
    search_first_cells,
)
from tests.factories import AccountFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def history(membership):
    return list(
        ContactChange.objects.filter(membership=membership)
        .order_by("pk")
        .values_list("field", "old_value", "new_value", "source", "staff_user__username")
    )


CHANGELISTS = {
    "contacts/person": [
        ["grace@other.example", "Grace", "Hopper", "-", "-"],
        ["ada@customer.example", "Ada", "Lovelace", "CTO", "+1 555 0100"],
        ["alan@customer.example", "Alan", "Turing", "-", "-"],
    ],
    "contacts/membership": [
        [
            "Ada Lovelace <ada@customer.example>",
            "Paris (PARIS)",
            "Site admin (Site)",
            "True",
            "True",
        ],
        [
            "Grace Hopper <grace@other.example>",
            "Other (OTHER)",
            "Champion (Corporate)",
            "True",
            "False",
        ],
        ["Ada Lovelace <ada@customer.example>", "Emea (EMEA)", "-", "True", "False"],
        [
            "Alan Turing <alan@customer.example>",
            "Austin (AUSTIN)",
            "End user (Site)",
            "False",
            "False",
        ],
    ],
    "contacts/contactchange": [
        [
            "Ada Lovelace at Paris",
            "Key contact",
            "no",
            "yes",
            "App",
            "owner",
            "Jan. 10, 2026, 9 a.m.",
        ],
    ],
    "contacts/task": [
        ["Quarterly business review", "Corp (CORP)", "March 31, 2026", "Open", "owner"],
    ],
    "contacts/touchpoint": [
        ["Kick-off meeting", "Meeting", "Paris (PARIS)", "Jan. 15, 2026, 10 a.m.", "owner"],
    ],
}


@pytest.mark.parametrize(("model", "rows"), CHANGELISTS.items(), ids=list(CHANGELISTS))
def test_changelist_lists_every_object(admin_site_client, admin_data, model, rows):
    assert changelist_rows(admin_site_client, model) == rows


@pytest.mark.parametrize(
    ("model", "title"),
    [
        ("contacts/person", "Add person"),
        ("contacts/membership", "Add membership"),
        ("contacts/task", "Add task"),
        ("contacts/touchpoint", "Add touchpoint"),
    ],
)
def test_add_page_renders(admin_site_client, admin_data, model, title):
    assert add_page_headings(admin_site_client, model) == (title, "")


def test_add_page_refused_for_the_contact_history(admin_site_client, admin_data):
    assert admin_site_client.get("/admin/contacts/contactchange/add/").status_code == 403


CHANGE_PAGES = [
    (
        "contacts/person",
        "ada",
        "Change person",
        "Ada Lovelace <ada@customer.example>",
        {"email": "ada@customer.example", "first_name": "Ada", "last_name": "Lovelace"},
    ),
    (
        "contacts/membership",
        "ada_paris",
        "Change membership",
        "Ada Lovelace at Paris",
        {"is_contact": "on", "is_key_contact": "on"},
    ),
    ("contacts/contactchange", "change", "View contact change", "Key contact: no → yes", {}),
    (
        "contacts/task",
        "task",
        "Change task",
        "Quarterly business review",
        {"title": "Quarterly business review", "due_date": "2026-03-31", "status": "open"},
    ),
    (
        "contacts/touchpoint",
        "touchpoint",
        "Change touchpoint",
        "Meeting: Kick-off meeting",
        {"subject": "Kick-off meeting", "kind": "meeting", "notes": "Went well."},
    ),
]


@pytest.mark.parametrize(
    ("model", "key", "title", "subtitle", "fields"),
    CHANGE_PAGES,
    ids=[page[0] for page in CHANGE_PAGES],
)
def test_change_page_shows_the_object(
    admin_site_client, admin_data, model, key, title, subtitle, fields
):
    assert change_page(admin_site_client, model, admin_data[key], fields) == (
        (title, subtitle),
        fields,
    )


def test_change_page_of_membership_shows_its_person_account_and_role(admin_site_client, admin_data):
    response = admin_site_client.get(
        f"/admin/contacts/membership/{admin_data['ada_paris'].pk}/change/"
    )

    assert {
        name: value
        for name, value in form_data(response, "membership_form").items()
        if name in ("person", "account", "role")
    } == {
        "person": str(admin_data["ada"].pk),
        "account": str(admin_data["paris"].pk),
        "role": str(admin_data["ada_paris"].role_id),
    }
    for pk, text in [
        (admin_data["ada"].pk, "Ada Lovelace &lt;ada@customer.example&gt;"),
        (admin_data["paris"].pk, "Paris (PARIS)"),
        (admin_data["ada_paris"].role_id, "Site admin (Site)"),
    ]:
        assert f'<option value="{pk}" selected>{text}</option>' in response.text


def test_change_page_of_account_lists_its_memberships_inline(admin_site_client, admin_data):
    response = admin_site_client.get(f"/admin/accounts/account/{admin_data['paris'].pk}/change/")

    shown = form_data(response, "account_form")
    assert (shown["memberships-TOTAL_FORMS"], shown["memberships-0-person"]) == (
        "1",
        str(admin_data["ada"].pk),
    )
    assert (
        f'<option value="{admin_data["ada"].pk}" selected>Ada Lovelace &lt;ada@customer.example&gt;'
        "</option>"
    ) in response.text


@pytest.mark.parametrize(
    ("path", "first_cells"),
    [
        ("/admin/contacts/person/?q=lovelace", ["ada@customer.example"]),
        ("/admin/contacts/person/?q=ALAN@CUSTOMER", ["alan@customer.example"]),
        ("/admin/contacts/person/?q=nobody", []),
        (
            "/admin/contacts/membership/?q=ada",
            ["Ada Lovelace <ada@customer.example>", "Ada Lovelace <ada@customer.example>"],
        ),
        ("/admin/contacts/membership/?q=AUSTIN", ["Alan Turing <alan@customer.example>"]),
        ("/admin/contacts/membership/?q=other", ["Grace Hopper <grace@other.example>"]),
        ("/admin/contacts/contactchange/?q=ada@", ["Ada Lovelace at Paris"]),
        ("/admin/contacts/task/?q=corp", ["Quarterly business review"]),
        ("/admin/contacts/touchpoint/?q=kick", ["Kick-off meeting"]),
    ],
)
def test_search(admin_site_client, admin_data, path, first_cells):
    assert search_first_cells(admin_site_client, path) == first_cells


# Autocomplete


def test_autocomplete_person_of_membership(admin_site_client, admin_data):
    assert autocomplete(admin_site_client, "contacts.membership", "person", "ada") == [
        (admin_data["ada"].pk, "Ada Lovelace <ada@customer.example>")
    ]


def test_autocomplete_account_of_membership(admin_site_client, admin_data):
    assert autocomplete(admin_site_client, "contacts.membership", "account", "paris") == [
        (admin_data["paris"].pk, "Paris (PARIS)"),
        (admin_data["paris_sales"].pk, "Paris Sales (PARIS_SALES)"),
    ]


def test_autocomplete_account_by_account_id(admin_site_client, admin_data):
    assert autocomplete(admin_site_client, "contacts.membership", "account", "other_reg") == [
        (admin_data["other_region"].pk, "Other Region (OTHER_REGION)"),
    ]


def test_autocomplete_role_of_membership(admin_site_client, admin_data):
    roles = admin_data["roles"]

    assert autocomplete(admin_site_client, "contacts.membership", "role", "champion") == [
        (roles["Corporate", "Champion"].pk, "Champion (Corporate)"),
        (roles["Region", "Champion"].pk, "Champion (Region)"),
    ]


def test_autocomplete_contacts_of_task_and_participants_of_touchpoint(
    admin_site_client, admin_data
):
    expected = [
        (admin_data["ada_paris"].pk, "Ada Lovelace at Paris"),
        (admin_data["ada_emea"].pk, "Ada Lovelace at Emea"),
    ]

    assert autocomplete(admin_site_client, "contacts.task", "contacts", "lovelace") == expected
    assert autocomplete(admin_site_client, "contacts.touchpoint", "participants", "lovelace") == (
        expected
    )


def test_autocomplete_owner_of_task(admin_site_client, admin_data):
    assert autocomplete(admin_site_client, "contacts.task", "owner", "own") == [
        (admin_data["owner"].pk, "owner"),
    ]


def test_autocomplete_refuses_a_field_without_autocomplete(admin_site_client, admin_data):
    response = admin_site_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "contacts",
            "model_name": "membership",
            "field_name": "is_contact",
            "term": "a",
        },
    )

    assert response.status_code == 403


# Contact history of admin edits


def post_membership(client, membership, **changes):
    url = f"/admin/contacts/membership/{membership.pk}/change/"
    fields = form_data(client.get(url), "membership_form")
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    fields["_save"] = "Save"
    return client.post(url, fields)


def test_membership_change_form_records_contact_key_contact_and_role(admin_site_client, admin_data):
    membership = admin_data["alan_austin"]

    response = post_membership(
        admin_site_client,
        membership,
        is_contact="on",
        is_key_contact="on",
        role=str(admin_data["roles"]["Site", "Site admin"].pk),
    )

    assert (response.status_code, response["Location"]) == (302, "/admin/contacts/membership/")
    assert history(membership) == [
        ("contact", "no", "yes", "admin", "global_admin_user"),
        ("key_contact", "no", "yes", "admin", "global_admin_user"),
        ("role", "End user", "Site admin", "admin", "global_admin_user"),
    ]
    membership.refresh_from_db()
    assert (membership.is_contact, membership.is_key_contact, membership.role.name) == (
        True,
        True,
        "Site admin",
    )


def test_membership_change_form_records_removed_contact_and_cleared_role(
    admin_site_client, admin_data
):
    membership = admin_data["ada_paris"]

    post_membership(admin_site_client, membership, is_contact=None, is_key_contact=None, role="")

    assert history(membership) == [
        ("key_contact", "no", "yes", "app", "owner"),  # from the fixture
        ("contact", "yes", "no", "admin", "global_admin_user"),
        ("key_contact", "yes", "no", "admin", "global_admin_user"),
        ("role", "Site admin", "", "admin", "global_admin_user"),
    ]


def test_membership_change_form_saved_unchanged_records_nothing(admin_site_client, admin_data):
    response = post_membership(admin_site_client, admin_data["grace_other"])

    assert response.status_code == 302
    assert history(admin_data["grace_other"]) == []


def test_membership_add_form_records_the_new_contact(admin_site_client, admin_data):
    response = admin_site_client.post(
        "/admin/contacts/membership/add/",
        {
            "person": admin_data["grace"].pk,
            "account": admin_data["berlin"].pk,
            "role": admin_data["roles"]["Site", "Site admin"].pk,
            "is_contact": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    membership = Membership.objects.get(person=admin_data["grace"], account=admin_data["berlin"])
    assert history(membership) == [
        ("contact", "no", "yes", "admin", "global_admin_user"),
        ("role", "", "Site admin", "admin", "global_admin_user"),
    ]


def test_membership_change_form_refuses_role_of_another_account_type(admin_site_client, admin_data):
    membership = admin_data["alan_austin"]
    changes_before = ContactChange.objects.count()

    response = post_membership(
        admin_site_client, membership, is_contact="on", role=str(admin_data["executive_sponsor"].pk)
    )

    assert response.status_code == 200
    assert error_list(response, "id_role") == [
        "“Executive sponsor” is not a role of Site accounts. Valid roles: End user, Site admin."
    ]
    assert ContactChange.objects.count() == changes_before
    membership.refresh_from_db()
    assert (membership.is_contact, membership.role.name) == (False, "End user")


def test_membership_change_form_refuses_key_contact_that_is_not_a_contact(
    admin_site_client, admin_data
):
    membership = admin_data["alan_austin"]

    response = post_membership(admin_site_client, membership, is_key_contact="on")

    assert response.status_code == 200
    assert "A key contact must also be a contact." in response.text
    assert history(membership) == []
    membership.refresh_from_db()
    assert (membership.is_contact, membership.is_key_contact) == (False, False)


def inline_index(fields, membership):
    return next(
        int(name.split("-")[1])
        for name, value in fields.items()
        if re.fullmatch(r"memberships-\d+-id", name) and value == str(membership.pk)
    )


def test_person_inline_records_contact_changes(admin_site_client, admin_data):
    url = f"/admin/contacts/person/{admin_data['ada'].pk}/change/"
    fields = form_data(admin_site_client.get(url), "person_form")
    emea = inline_index(fields, admin_data["ada_emea"])
    paris = inline_index(fields, admin_data["ada_paris"])
    fields[f"memberships-{emea}-is_key_contact"] = "on"
    fields[f"memberships-{emea}-role"] = str(admin_data["roles"]["Region", "Champion"].pk)
    fields.pop(f"memberships-{paris}-is_key_contact")
    fields["_save"] = "Save"

    response = admin_site_client.post(url, fields)

    assert (response.status_code, response["Location"]) == (302, "/admin/contacts/person/")
    assert history(admin_data["ada_emea"]) == [
        ("key_contact", "no", "yes", "admin", "global_admin_user"),
        ("role", "", "Champion", "admin", "global_admin_user"),
    ]
    assert history(admin_data["ada_paris"]) == [
        ("key_contact", "no", "yes", "app", "owner"),
        ("key_contact", "yes", "no", "admin", "global_admin_user"),
    ]


def test_person_inline_records_a_new_membership(admin_site_client, admin_data):
    url = f"/admin/contacts/person/{admin_data['alan'].pk}/change/"
    fields = form_data(admin_site_client.get(url), "person_form")
    fields.update(
        {
            "memberships-TOTAL_FORMS": "2",
            "memberships-1-id": "",
            "memberships-1-person": str(admin_data["alan"].pk),
            "memberships-1-account": str(admin_data["berlin"].pk),
            "memberships-1-role": "",
            "memberships-1-is_contact": "on",
            "_save": "Save",
        }
    )

    response = admin_site_client.post(url, fields)

    assert response.status_code == 302
    membership = Membership.objects.get(person=admin_data["alan"], account=admin_data["berlin"])
    assert history(membership) == [("contact", "no", "yes", "admin", "global_admin_user")]


def test_person_inline_refuses_role_of_another_account_type(admin_site_client, admin_data):
    url = f"/admin/contacts/person/{admin_data['ada'].pk}/change/"
    fields = form_data(admin_site_client.get(url), "person_form")
    emea = inline_index(fields, admin_data["ada_emea"])
    fields[f"memberships-{emea}-role"] = str(admin_data["executive_sponsor"].pk)
    fields["_save"] = "Save"
    changes_before = ContactChange.objects.count()

    response = admin_site_client.post(url, fields)

    assert response.status_code == 200
    assert error_list(response, f"id_memberships-{emea}-role") == [
        "“Executive sponsor” is not a role of Region accounts. Valid roles: Champion, "
        "Regional director."
    ]
    assert ContactChange.objects.count() == changes_before
    admin_data["ada_emea"].refresh_from_db()
    assert admin_data["ada_emea"].role is None


def test_account_inline_records_contact_changes(admin_site_client, admin_data):
    url = f"/admin/accounts/account/{admin_data['austin'].pk}/change/"
    fields = form_data(admin_site_client.get(url), "account_form")
    fields["memberships-0-is_contact"] = "on"
    fields["_save"] = "Save"

    response = admin_site_client.post(url, fields)

    assert response.status_code == 302
    admin_data["alan_austin"].refresh_from_db()
    assert admin_data["alan_austin"].is_contact is True
    assert history(admin_data["alan_austin"]) == [
        ("contact", "no", "yes", "admin", "global_admin_user")
    ]


@pytest.mark.parametrize("item_count", (1, 3))
def test_membership_changelist_query_count(
    admin_site_client, account_types, django_assert_num_queries, item_count
):
    site_admin = AccountRole.objects.get(name="Site admin")
    for _ in range(item_count):
        account = AccountFactory(account_type=account_types["Site"])
        MembershipFactory(account=account, role=site_admin, is_key_contact=True)
        MembershipFactory(account=account, is_contact=False)

    with django_assert_num_queries(7):
        response = admin_site_client.get("/admin/contacts/membership/")

    assert len(result_rows(response)) == 2 * item_count
