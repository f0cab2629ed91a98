"""The order of the account types (issue 15): a child's type comes after its parent's, in the
model, the admin's forms and its drag and drop alike, unless the order is left undefined: every
type at one position (as at first, all 0), when any account may sit below any other."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError

from accounts.models import Account, AccountType, TypeLevels
from tests.accounts.test_admin import refused, saved_state
from tests.admin_pages import form_data
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

LEVELS = "Corporate → Region → Site → Department"


@pytest.fixture
def undefined_order(account_types):
    """The types as they are before anyone orders them: all at position 0."""
    AccountType.objects.update(order=0)


def test_the_levels_name_types_at_one_position_together():
    levels = TypeLevels([(1, "Site", 3), (2, "Corporate", 1), (3, "Store", 3), (4, "Region", 2)])

    assert (levels.defined, levels.text) == (True, "Corporate → Region → Site / Store")
    assert not levels.allows(parent_type_id=1, child_type_id=3)  # one position: no nesting
    assert levels.allows(parent_type_id=4, child_type_id=3)


def test_one_position_for_every_type_is_no_order():
    levels = TypeLevels([(1, "Corporate", 0), (2, "Department", 0)])

    assert not levels.defined
    assert levels.allows(parent_type_id=2, child_type_id=1)


def test_a_corporate_account_under_a_department_is_refused_naming_both(account_types):
    department = AccountFactory(name="Acme Dept", account_type=account_types["Department"])
    acme = Account(
        external_id="ACME", name="Acme", account_type=account_types["Corporate"], parent=department
    )

    with pytest.raises(ValidationError) as error:
        acme.full_clean()

    assert error.value.message_dict == {
        "parent": [
            "Acme Dept (Department) cannot be the parent of Acme (Corporate): an account's type "
            f"comes after its parent's ({LEVELS})."
        ]
    }
    assert error.value.error_dict["parent"][0].code == "type_order"


def test_with_the_order_undefined_any_account_may_sit_below_any_other(tree, undefined_order):
    corp = Account.objects.get(external_id="CORP")
    corp.parent = Account.objects.get(external_id="OTHER_REGION")
    corp.full_clean()  # no error: no order is defined

    paris = Account.objects.get(external_id="PARIS")
    paris.account_type = AccountType.objects.get(name="Department")
    paris.full_clean()  # above its Department child: no order either


def test_the_admin_add_form_takes_any_parent_while_the_order_is_undefined(
    admin_site_client, admin_data, undefined_order
):
    url = "/admin/accounts/account/add/"
    fields = form_data(admin_site_client.get(url), "account_form")
    fields.update(
        external_id="ACME",
        name="Acme",
        account_type=str(admin_data["corporate"].pk),
        parent=str(admin_data["paris_sales"].pk),
        _save="Save",
    )

    response = admin_site_client.post(url, fields)

    assert response.status_code == 302
    assert Account.objects.get(external_id="ACME").parent.external_id == "PARIS_SALES"


def test_the_admin_drag_and_drop_takes_any_move_while_the_order_is_undefined(
    admin_site_client, admin_data, undefined_order
):
    response = admin_site_client.post(
        "/admin/accounts/account/",
        {
            "cmd": "move_node",
            "cut_item": admin_data["emea"].pk,
            "pasted_on": admin_data["austin_it"].pk,
            "position": "last-child",
        },
    )

    assert (response.status_code, response.content) == (200, b"OK, moved.")
    assert Account.objects.get(external_id="EMEA").parent.external_id == "AUSTIN_IT"


def test_the_admin_drag_and_drop_refuses_a_corporate_under_a_department_naming_both(
    admin_site_client, admin_data
):
    before = saved_state()

    response = admin_site_client.post(
        "/admin/accounts/account/",
        {
            "cmd": "move_node",
            "cut_item": admin_data["other"].pk,
            "pasted_on": admin_data["austin_it"].pk,
            "position": "last-child",
        },
    )

    assert (response.status_code, response.content) == (200, b"FAIL, invalid move.")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Austin It (Department) cannot be the parent of Other (Corporate): an account's type "
        f"comes after its parent's ({LEVELS})."
    ]
    assert saved_state() == before


def test_a_new_type_whose_position_defines_an_order_the_accounts_break_is_refused(
    admin_site_client, admin_data, undefined_order
):
    """Adding the first type at another position defines the order for every type: the
    accounts nested while there was none are judged by it."""
    errors = refused(
        admin_site_client,
        "/admin/accounts/accounttype/add/",
        "accounttype_form",
        name="Store",
        order="5",
    )

    assert errors == [
        "With these positions, Corp (Corporate) could no longer be the parent of Emea (Region): "
        "an account's type comes after its parent's (Corporate / Department / Region / Site → "
        "Store). Move such accounts first, or choose other positions."
    ]


def test_a_new_type_at_the_one_position_of_the_others_keeps_the_order_undefined(
    admin_site_client, admin_data, undefined_order
):
    url = "/admin/accounts/accounttype/add/"
    fields = form_data(admin_site_client.get(url), "accounttype_form")
    fields.update({"name": "Store", "order": "0", "_save": "Save"})

    response = admin_site_client.post(url, fields)

    assert response.status_code == 302
    assert AccountType.objects.filter(name="Store").exists()


def _changelist_with_orders(client, orders):
    url = "/admin/accounts/accounttype/"
    fields = form_data(client.get(url), "changelist-form")
    names = dict(AccountType.objects.values_list("pk", "name"))
    for name, value in list(fields.items()):
        if name.startswith("form-") and name.endswith("-id"):
            row = name.split("-")[1]
            fields[f"form-{row}-order"] = str(orders[names[int(value)]])
    fields["_save"] = "Save"
    return client.post(url, fields)


def test_the_list_of_types_defines_an_order_in_one_save(
    admin_site_client, admin_data, undefined_order
):
    """Each position alone would break the accounts; all of them together fit."""
    response = _changelist_with_orders(
        admin_site_client, {"Corporate": 1, "Region": 2, "Site": 3, "Department": 4}
    )

    assert response.status_code == 302
    assert list(AccountType.objects.values_list("name", "order")) == [
        ("Corporate", 1),
        ("Region", 2),
        ("Site", 3),
        ("Department", 4),
    ]


def test_the_list_of_types_refuses_positions_that_together_misplace_accounts(
    admin_site_client, admin_data
):
    before = saved_state()

    response = _changelist_with_orders(
        admin_site_client, {"Corporate": 2, "Region": 1, "Site": 3, "Department": 4}
    )

    assert response.status_code == 200
    assert saved_state() == before
    assert (
        "With these positions, Corp (Corporate) could no longer be the parent of Emea (Region): "
        "an account&#x27;s type comes after its parent&#x27;s (Region → Corporate → Site → "
        "Department)."
    ) in response.text


def test_the_type_form_says_what_an_undefined_order_means(admin_site_client, admin_data):
    response = admin_site_client.get(
        f"/admin/accounts/accounttype/{admin_data['corporate'].pk}/change/"
    )

    assert (
        "While every type has the same position (as at first, all 0), no order is defined and "
        "any account may sit below any other."
    ) in response.content.decode()
