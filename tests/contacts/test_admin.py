"""Past 400 lines as one thing: every test of contacts/admin.py.

The contacts admin: people, memberships (also inline on people and
accounts), contact history, tasks and touchpoints; search, autocomplete, and the contact
history written by admin edits."""

import io
import re
from html import unescape

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.management import call_command

from accounts.models import Account, AccountRole
from contacts.admin import PersonAdmin
from contacts.models import (
    ContactChange,
    DownloadRecord,
    ForgottenPerson,
    Membership,
    Person,
    Segment,
    Task,
    Touchpoint,
)
from contacts.privacy import record_download
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
from tests.factories import AccountFactory, MembershipFactory, StaffUserFactory

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
            "Active",
            "-",
            "-",
        ],
        [
            "Grace Hopper <grace@other.example>",
            "Other (OTHER)",
            "Champion (Corporate)",
            "True",
            "False",
            "Active",
            "-",
            "-",
        ],
        [
            "Ada Lovelace <ada@customer.example>",
            "Emea (EMEA)",
            "-",
            "True",
            "False",
            "Active",
            "-",
            "-",
        ],
        [
            "Alan Turing <alan@customer.example>",
            "Austin (AUSTIN)",
            "End user (Site)",
            "False",
            "False",
            "Active",
            "-",
            "-",
        ],
    ],
    "contacts/contactchange": [
        [
            "Ada Lovelace <ada@customer.example>",
            "Paris (PARIS)",
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
        ("/admin/contacts/contactchange/?q=ada@", ["Ada Lovelace <ada@customer.example>"]),
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
            "status": "active",
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
            "memberships-1-status": "active",
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


# The app's rules, kept by every admin form (issue 16): each form submitted with data that
# breaks each rule answers 200 with the error shown, and writes nothing.


def saved_state():
    """Everything an admin form of this app could write, to compare before and after."""
    return (
        list(
            Account.objects.order_by("pk").values_list(
                "pk", "account_type", "parent", "tree_id", "lft", "rght"
            )
        ),
        list(
            Membership.objects.order_by("pk").values_list(
                "pk", "person", "account", "role", "is_contact", "is_key_contact"
            )
        ),
        list(Task.objects.order_by("pk").values_list("pk", "account", "title")),
        list(Task.contacts.through.objects.order_by("pk").values_list("task", "membership")),
        list(Touchpoint.objects.order_by("pk").values_list("pk", "account", "subject")),
        list(
            Touchpoint.participants.through.objects.order_by("pk").values_list(
                "touchpoint", "membership"
            )
        ),
        ContactChange.objects.count(),
        LogEntry.objects.count(),
    )


def submit(client, url, form_id, **changes):
    """Post the admin form at `url` as a browser would, with `changes` (None: left out)."""
    fields = form_data(client.get(url), form_id)
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    fields["_save"] = "Save"
    return client.post(url, fields)


def page_errors(response):
    """Every error message the admin page shows, in page order."""
    lists = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.text, re.S)
    return [unescape(item) for found in lists for item in re.findall(r"<li>(.*?)</li>", found)]


def refused(client, url, form_id, **changes):
    """Submit a form that breaks a rule: the admin answers 200, writes nothing, and this
    returns the errors it shows."""
    before = saved_state()
    response = submit(client, url, form_id, **changes)
    assert response.status_code == 200
    assert saved_state() == before
    return page_errors(response)


def pks(*memberships):
    return [str(membership.pk) for membership in memberships]


OUTSIDE_GRACE = (
    "Only contacts in this company hierarchy can be linked, and Grace Hopper at Other is not."
)
NOT_A_CONTACT_ALAN = (
    "Only contacts in this company hierarchy can be linked, and Alan Turing at Austin is not."
)


@pytest.mark.parametrize(
    ("linked", "message"),
    [("grace_other", OUTSIDE_GRACE), ("alan_austin", NOT_A_CONTACT_ALAN)],
    ids=["contact-of-another-company", "not-a-contact"],
)
def test_task_add_form_refuses_a_membership_the_app_would_not_link(
    admin_site_client, admin_data, linked, message
):
    errors = refused(
        admin_site_client,
        "/admin/contacts/task/add/",
        "task_form",
        title="Renewal",
        account=str(admin_data["corp"].pk),
        contacts=pks(admin_data["ada_paris"], admin_data[linked]),
    )

    assert errors == [message]


@pytest.mark.parametrize(
    ("linked", "message"),
    [("grace_other", OUTSIDE_GRACE), ("alan_austin", NOT_A_CONTACT_ALAN)],
    ids=["contact-of-another-company", "not-a-contact"],
)
def test_touchpoint_add_form_refuses_a_membership_the_app_would_not_link(
    admin_site_client, admin_data, linked, message
):
    errors = refused(
        admin_site_client,
        "/admin/contacts/touchpoint/add/",
        "touchpoint_form",
        kind="call",
        subject="Call",
        happened_at_0="2026-02-01",
        happened_at_1="10:00:00",
        account=str(admin_data["paris"].pk),
        participants=pks(admin_data[linked]),
    )

    assert errors == [message]


def test_task_change_form_refuses_an_account_of_another_company_than_its_contacts(
    admin_site_client, admin_data
):
    errors = refused(
        admin_site_client,
        f"/admin/contacts/task/{admin_data['task'].pk}/change/",
        "task_form",
        account=str(admin_data["other"].pk),
    )

    assert errors == [
        "Only contacts in this company hierarchy can be linked, and Ada Lovelace at Paris, "
        "Alan Turing at Austin are not."
    ]


def test_touchpoint_change_form_refuses_an_account_of_another_company_than_its_participants(
    admin_site_client, admin_data
):
    errors = refused(
        admin_site_client,
        f"/admin/contacts/touchpoint/{admin_data['touchpoint'].pk}/change/",
        "touchpoint_form",
        account=str(admin_data["other_region"].pk),
    )

    assert errors == [
        "Only contacts in this company hierarchy can be linked, and Ada Lovelace at Paris, "
        "Ada Lovelace at Emea are not."
    ]


def test_task_change_form_keeps_a_linked_membership_that_stopped_being_a_contact(
    admin_site_client, admin_data
):
    # Alan was linked while a contact; the app removed him since. The task keeps him, as the
    # app's own form does, and can still be saved.
    task = admin_data["task"]

    response = submit(
        admin_site_client, f"/admin/contacts/task/{task.pk}/change/", "task_form", title="QBR"
    )

    assert (response.status_code, response["Location"]) == (302, "/admin/contacts/task/")
    task.refresh_from_db()
    assert (task.title, sorted(task.contacts.values_list("person__first_name", flat=True))) == (
        "QBR",
        ["Ada", "Alan"],
    )


def test_membership_add_form_refuses_a_second_membership_of_a_person_at_an_account(
    admin_site_client, admin_data
):
    errors = refused(
        admin_site_client,
        "/admin/contacts/membership/add/",
        "membership_form",
        person=str(admin_data["ada"].pk),
        account=str(admin_data["paris"].pk),
        is_contact="on",
    )

    assert errors == ["This person is already a member of this account."]


def test_membership_change_form_refuses_an_account_of_another_company_than_its_links(
    admin_site_client, admin_data
):
    errors = refused(
        admin_site_client,
        f"/admin/contacts/membership/{admin_data['ada_paris'].pk}/change/",
        "membership_form",
        account=str(admin_data["other"].pk),
        role="",
    )

    assert errors == [
        "This membership is linked to the task “Quarterly business review”, the touchpoint "
        "“Meeting: Kick-off meeting”, of another company than Other. Unlink it there first, "
        "or add a membership at Other instead."
    ]


def test_membership_change_form_moves_a_membership_within_its_company(
    admin_site_client, admin_data
):
    membership = admin_data["ada_paris"]

    response = submit(
        admin_site_client,
        f"/admin/contacts/membership/{membership.pk}/change/",
        "membership_form",
        account=str(admin_data["berlin"].pk),
    )

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.account == admin_data["berlin"]


def inline_row(client, url, form_id, membership):
    fields = form_data(client.get(url), form_id)
    return inline_index(fields, membership)


@pytest.mark.parametrize("owner", ["person", "account"])
def test_memberships_inline_refuses_a_key_contact_that_is_not_a_contact(
    admin_site_client, admin_data, owner
):
    url, form_id = {
        "person": (f"/admin/contacts/person/{admin_data['alan'].pk}/change/", "person_form"),
        "account": (f"/admin/accounts/account/{admin_data['austin'].pk}/change/", "account_form"),
    }[owner]
    row = inline_row(admin_site_client, url, form_id, admin_data["alan_austin"])

    errors = refused(admin_site_client, url, form_id, **{f"memberships-{row}-is_key_contact": "on"})

    assert errors == ["A key contact must also be a contact."]


def test_account_inline_refuses_a_role_of_another_account_type(admin_site_client, admin_data):
    url = f"/admin/accounts/account/{admin_data['austin'].pk}/change/"
    row = inline_row(admin_site_client, url, "account_form", admin_data["alan_austin"])

    errors = refused(
        admin_site_client,
        url,
        "account_form",
        **{f"memberships-{row}-role": str(admin_data["executive_sponsor"].pk)},
    )

    assert errors == [
        "“Executive sponsor” is not a role of Site accounts. Valid roles: End user, Site admin."
    ]


NEW_ROW = {
    "memberships-TOTAL_FORMS": "2",
    "memberships-1-id": "",
    "memberships-1-role": "",
    "memberships-1-is_contact": "on",
    # As the admin's new row sends it (its initial value).
    "memberships-1-status": "active",
}


def test_account_inline_refuses_a_second_membership_of_a_person(admin_site_client, admin_data):
    errors = refused(
        admin_site_client,
        f"/admin/accounts/account/{admin_data['austin'].pk}/change/",
        "account_form",
        **NEW_ROW,
        **{"memberships-1-person": str(admin_data["alan"].pk)},
    )

    assert errors == ["This person is already a member of this account."]


def test_person_inline_refuses_a_second_membership_at_an_account(admin_site_client, admin_data):
    errors = refused(
        admin_site_client,
        f"/admin/contacts/person/{admin_data['alan'].pk}/change/",
        "person_form",
        **NEW_ROW,
        **{"memberships-1-account": str(admin_data["austin"].pk)},
    )

    assert errors == ["This person is already a member of this account."]


def test_person_inline_refuses_an_account_of_another_company_than_its_links(
    admin_site_client, admin_data
):
    url = f"/admin/contacts/person/{admin_data['ada'].pk}/change/"
    row = inline_row(admin_site_client, url, "person_form", admin_data["ada_emea"])

    errors = refused(
        admin_site_client,
        url,
        "person_form",
        **{f"memberships-{row}-account": str(admin_data["other_region"].pk)},
    )

    assert errors == [
        "This membership is linked to the touchpoint “Meeting: Kick-off meeting”, of another "
        "company than Other Region. Unlink it there first, or add a membership at Other Region "
        "instead."
    ]


def test_account_type_change_refuses_memberships_with_roles_of_the_old_type(
    admin_site_client, admin_data
):
    berlin = admin_data["berlin"]
    MembershipFactory(
        person=admin_data["grace"], account=berlin, role=admin_data["roles"]["Site", "End user"]
    )

    errors = refused(
        admin_site_client,
        f"/admin/accounts/account/{berlin.pk}/change/",
        "account_form",
        account_type=str(admin_data["roles"]["Department", "Department head"].account_type.pk),
    )

    assert errors == [
        "“End user” is not a role of Department accounts. Valid roles: Department head."
    ]


MOVE_REFUSED = (
    "Moving Paris to another company would leave the task “Quarterly business review” with "
    "Ada Lovelace; the touchpoint “Meeting: Kick-off meeting” with Ada Lovelace linked across "
    "two company hierarchies. Unlink those contacts first."
)


def test_account_change_form_refuses_a_move_to_another_company_that_splits_links(
    admin_site_client, admin_data
):
    errors = refused(
        admin_site_client,
        f"/admin/accounts/account/{admin_data['paris'].pk}/change/",
        "account_form",
        parent=str(admin_data["other_region"].pk),
    )

    assert errors == [MOVE_REFUSED]


@pytest.mark.parametrize(
    ("position", "target"),
    # Below Other Region, or beside a Site there: either way into the other company.
    [("last-child", "OTHER_REGION"), ("left", "OTHER_SITE")],
)
def test_account_drag_and_drop_refuses_a_move_to_another_company_that_splits_links(
    admin_site_client, admin_data, position, target
):
    AccountFactory(
        external_id="OTHER_SITE",
        account_type=admin_data["paris"].account_type,
        parent=admin_data["other_region"],
    )
    before = saved_state()

    response = admin_site_client.post(
        "/admin/accounts/account/",
        {
            "cmd": "move_node",
            "cut_item": admin_data["paris"].pk,
            "pasted_on": Account.objects.get(external_id=target).pk,
            "position": position,
        },
    )

    assert (response.status_code, response.content) == (200, b"FAIL, invalid move.")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [MOVE_REFUSED]
    assert saved_state() == before


def test_account_moves_to_another_company_when_nothing_links_across(admin_site_client, admin_data):
    response = admin_site_client.post(
        "/admin/accounts/account/",
        {
            "cmd": "move_node",
            "cut_item": admin_data["berlin"].pk,
            "pasted_on": admin_data["other_region"].pk,
            "position": "last-child",
        },
    )

    assert (response.status_code, response.content) == (200, b"OK, moved.")
    assert Account.objects.get(pk=admin_data["berlin"].pk).tree_id == admin_data["other"].tree_id


# Deleting a person in the admin is forgetting them (contacts.privacy.forget_person), as the
# app's "Forget this person" is: their traces in the history go too, and it is recorded.

TRACES = ("ada@customer.example", "lovelace", "alan@customer.example", "turing")


@pytest.fixture
def traces(admin_data):
    """Ada and Alan named in the history beyond their memberships: a download's filters, a
    saved segment and the admin's log of an earlier change."""
    owner = admin_data["owner"]
    record_download(
        kind=DownloadRecord.Kind.PEOPLE_LIST,
        by=owner,
        filters="Search: “ada@customer.example”; Columns: Email",
        file_format="csv",
        row_count=1,
    )
    Segment.objects.create(name="Alan Turing's", owner=owner, query="q=ada%40customer.example")
    LogEntry.objects.log_actions(
        user_id=owner.pk,
        queryset=Person.objects.filter(pk__in=[admin_data["ada"].pk, admin_data["alan"].pk]),
        action_flag=CHANGE,
    )
    return admin_data


def everything():
    """The whole database, as dumpdata writes it, in lower case."""
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue().lower()


def delete_one(client, people):
    (person,) = people
    return client.post(f"/admin/contacts/person/{person.pk}/delete/", {"post": "yes"})


def delete_selected(client, people):
    return client.post(
        "/admin/contacts/person/",
        {
            "action": "delete_selected",
            "_selected_action": [person.pk for person in people],
            "index": "0",
            "post": "yes",
        },
    )


@pytest.mark.parametrize(
    ("delete", "keys"),
    [(delete_one, ["ada"]), (delete_selected, ["ada", "alan"])],
    ids=["delete", "delete selected"],
)
def test_deleting_people_forgets_them(admin_site_client, traces, delete, keys):
    people = [traces[key] for key in keys]
    assert all(trace in everything() for trace in TRACES)

    response = delete(admin_site_client, people)

    assert (response.status_code, response["Location"]) == (302, "/admin/contacts/person/")
    assert sorted(Person.objects.values_list("email", flat=True)) == sorted(
        traces[key].email for key in ("ada", "alan", "grace") if key not in keys
    )
    words = everything()
    for person in people:
        assert f"forgotten person #{person.pk}" in words
    for key, trace in zip(["ada", "ada", "alan", "alan"], TRACES, strict=True):
        assert (trace in words) is (key not in keys)
    assert sorted(
        ForgottenPerson.objects.values_list("person_pk", "staff_user", "staff_name")
    ) == sorted(
        (person.pk, admin_site_client.staff_user.pk, "global_admin_user") for person in people
    )
    assert Membership.objects.filter(person__in=[p.pk for p in people]).exists() is False


def test_an_admin_deletion_rewrites_its_own_log_entry(admin_site_client, traces):
    ada = traces["ada"]

    delete_one(admin_site_client, [ada])

    assert LogEntry.objects.filter(action_flag=DELETION).values_list(
        "object_id", "object_repr"
    ).get() == (str(ada.pk), f"Forgotten person #{ada.pk}")


@pytest.mark.parametrize(
    ("codename", "may_delete"),
    [("delete_person", False), ("forget_person", True)],
)
def test_deleting_people_needs_the_forget_permission(rf, codename, may_delete):
    # Only Global admins reach the admin, and they hold every permission: the rule shows on
    # a staff user given one permission of the two.
    staff_user = StaffUserFactory(username="pat")
    staff_user.user_permissions.add(
        Permission.objects.get(content_type__app_label="contacts", codename=codename)
    )
    request = rf.get("/admin/contacts/person/")
    request.user = staff_user
    person_admin = admin.site.get_model_admin(Person)

    assert isinstance(person_admin, PersonAdmin)
    assert person_admin.has_delete_permission(request) is may_delete
