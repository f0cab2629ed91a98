"""Inline edits of a Contacts widget row (contacts/views/inline.py): the editor in the row,
Save (the Edit page's rules: ContactRoleForm, services.edit_contact), Cancel, and bad input."""

import pytest
from django.urls import reverse

from contacts import bulk, services
from contacts.models import ContactChange, Membership
from tests.factories import MembershipFactory, PersonFactory
from tests.html import element, elements, page, text


@pytest.fixture
def pia(tree, roles):
    return MembershipFactory(
        account=tree["paris"],
        person=PersonFactory(first_name="Pia", last_name="Tester", email="pia@x.example"),
        role=roles["Site", "End user"],
        is_contact=True,
    )


def editor_url(membership, account):
    return reverse("contacts:inline-edit", args=[membership.pk]) + f"?account={account.pk}"


def save(client, membership, account, **data):
    form = {
        "stamp": bulk.row_stamp(membership),
        "account": account.pk,
        "next": f"{account.get_absolute_url()}?view=hierarchy",
        **data,
    }
    return client.post(
        reverse("contacts:inline-edit", args=[membership.pk]), form, HTTP_HX_REQUEST="true"
    )


def cells(response, status=200):
    row = element(page(response, status), "tr")
    return {
        dict(cell.attributes)["data-label"]: cell
        for cell in elements(row, "td")
        if "data-label" in dict(cell.attributes)
    }


def test_the_editor_opens_in_the_row_with_the_roles_of_its_account_type(standard_client, tree, pia):
    response = standard_client.get(editor_url(pia, tree["corp"]), HTTP_HX_REQUEST="true")

    row = cells(response)
    select = element(row["Role"], "select", name="role")
    assert [text(option) for option in elements(select, "option")] == [
        "No role",
        "End user",
        "Site admin",
    ]
    assert "selected" in dict(element(select, "option", value=str(pia.role_id)).attributes)
    assert dict(select.attributes)["form"] == f"inline-edit-{pia.pk}"
    assert text(element(row["Role"], "label")) == "Role of Pia Tester"
    key = element(row["Name"], "input", name="is_key_contact")
    assert dict(key.attributes)["form"] == f"inline-edit-{pia.pk}"
    assert [text(b) for b in elements(row["Actions"], "button")] == ["Save", "Cancel"]


def test_save_writes_through_edit_contact_and_returns_the_updated_row(
    standard_client, tree, roles, pia
):
    site_admin = roles["Site", "Site admin"]

    response = save(standard_client, pia, tree["corp"], role=site_admin.pk, is_key_contact="on")

    assert response.status_code == 200
    assert response["HX-Trigger"] == "contacts-changed"
    row = cells(response)
    assert text(row["Role"]) == "Site admin"
    assert element(row["Name"], "span", aria_label="Key contact")
    # The row's links come back to the list it was on.
    edit = elements(row["Actions"], "a")[0]
    assert dict(edit.attributes)["href"] == (
        f"/people/contacts/{pia.pk}/edit/?next=/accounts/{tree['corp'].pk}/%3Fview%3Dhierarchy"
    )
    assert text(row["Account"]) == "Paris"
    pia.refresh_from_db()
    assert (pia.role, pia.is_key_contact) == (site_admin, True)
    assert sorted(
        ContactChange.objects.filter(membership=pia).values_list("field", "old_value", "new_value")
    ) == [("key_contact", "no", "yes"), ("role", "End user", "Site admin")]


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("corporate", "Choose one of the roles of Site accounts."),
        ("999999", "Choose one of the roles of Site accounts."),
        ("x", "Choose one of the roles of Site accounts."),
    ],
)
def test_a_role_that_does_not_fit_shows_in_the_row_and_nothing_is_written(
    standard_client, tree, roles, pia, role, message
):
    value = roles["Corporate", "Champion"].pk if role == "corporate" else role

    response = save(standard_client, pia, tree["paris"], role=value)

    assert response.status_code == 400
    assert "HX-Trigger" not in response
    row = cells(response, 400)
    assert text(element(row["Role"], "div", class_="field-error")) == message
    assert element(row["Role"], "select", name="role")
    assert Membership.objects.get(pk=pia.pk).role == roles["Site", "End user"]
    assert not ContactChange.objects.exists()


def test_a_row_changed_since_the_editor_opened_is_not_overwritten(
    standard_client, staff_user, tree, roles, pia
):
    stamp = bulk.row_stamp(pia)
    services.edit_contact(membership=pia, role=None, is_key_contact=True, by=staff_user)

    response = standard_client.post(
        reverse("contacts:inline-edit", args=[pia.pk]),
        {"stamp": stamp, "role": roles["Site", "Site admin"].pk},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400
    assert "Someone changed this contact since you opened it (now: no role, key contact" in (
        text(element(cells(response, 400)["Name"], "div", class_="form-error"))
    )
    pia.refresh_from_db()
    assert (pia.role, pia.is_key_contact) == (None, True)


def test_cancel_brings_the_row_back(standard_client, tree, pia):
    response = standard_client.get(
        reverse("contacts:contact-row", args=[pia.pk]) + f"?account={tree['paris'].pk}",
        HTTP_HX_REQUEST="true",
    )

    row = cells(response)
    assert text(row["Role"]) == "End user"
    assert text(row["Account"]) == "This account"
    assert [text(a) for a in elements(row["Actions"], "a")] == ["Edit", "Remove"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_viewer_may_not_edit_inline(viewer_client, tree, roles, pia, method):
    url = reverse("contacts:inline-edit", args=[pia.pk])
    data = {"stamp": bulk.row_stamp(pia), "role": roles["Site", "Site admin"].pk}

    response = getattr(viewer_client, method)(url, data)

    assert response.status_code == 403
    assert Membership.objects.get(pk=pia.pk).role == roles["Site", "End user"]


@pytest.mark.parametrize("view", ["contacts:inline-edit", "contacts:contact-row"])
def test_an_unknown_contact_or_account_is_not_found(standard_client, tree, pia, view):
    assert standard_client.get(reverse(view, args=[999999])).status_code == 404
    response = standard_client.get(reverse(view, args=[pia.pk]) + "?account=999999")
    assert response.status_code == 404


def test_the_widgets_edit_link_opens_the_inline_editor_and_keeps_the_edit_page(
    standard_client, tree, pia
):
    response = standard_client.get(tree["paris"].get_absolute_url() + "?view=hierarchy")

    edit = element(page(response), "a", data_inline_edit="")
    attrs = dict(edit.attributes)
    assert attrs["href"].startswith(f"/people/contacts/{pia.pk}/edit/?next=")
    assert attrs["hx-get"] == (
        f"/people/contacts/{pia.pk}/inline-edit/?account={tree['paris'].pk}"
        f"&next={attrs['href'].split('next=')[1]}"
    )
    assert attrs["hx-target"] == f"#contact-row-{pia.pk}"


def test_a_contact_removed_since_the_editor_opened_is_said_so_and_nothing_is_written(
    standard_client, staff_user, tree, roles, pia
):
    stamp = bulk.row_stamp(pia)
    services.remove_contact(membership=pia, by=staff_user)

    response = standard_client.post(
        reverse("contacts:inline-edit", args=[pia.pk]),
        {"stamp": stamp, "role": roles["Site", "Site admin"].pk},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400
    assert f"Someone removed {pia.person.full_name} as a contact since you opened this." in (
        text(element(cells(response, 400)["Name"], "div", class_="form-error"))
    )
    pia.refresh_from_db()
    assert (pia.is_contact, pia.role.name) == (False, "End user")


def test_cancel_of_a_contact_removed_meanwhile_takes_the_row_away_and_refreshes_the_list(
    standard_client, staff_user, tree, pia
):
    services.remove_contact(membership=pia, by=staff_user)

    response = standard_client.get(
        reverse("contacts:contact-row", args=[pia.pk]) + f"?account={tree['paris'].pk}",
        HTTP_HX_REQUEST="true",
    )

    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["HX-Trigger"] == "contacts-changed"
