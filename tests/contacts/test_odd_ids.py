"""Ids a person could only type by hand: digits that are not ASCII ("²", which str.isdigit
takes and int refuses) and numbers too large for any key (SQLite overflows on them). Every page
that reads an id from the query string answers as for an id that names nothing: no 500."""

import pytest

from tests.factories import MembershipFactory

ODD_IDS = ["²", "٣", "99999999999999999999999"]


@pytest.fixture
def contact(tree):
    return MembershipFactory(account=tree["paris"], is_contact=True)


@pytest.mark.parametrize("odd", ODD_IDS)
@pytest.mark.parametrize(
    "url",
    [
        "/accounts/{paris}/?role={odd}",
        "/accounts/{paris}/contacts.csv?role={odd}",
        "/accounts/{paris}/tasks/new/?contact={odd}",
        "/accounts/{paris}/touchpoints/new/?contact={odd}",
        "/people/contacts/{contact}/inline-edit/?account={odd}",
        "/people/contacts/{contact}/row/?account={odd}",
        "/people/?segment={odd}",
        "/people/download.csv?segment={odd}",
        "/people/duplicates/?page={odd}",
    ],
)
def test_a_hand_made_id_is_an_id_of_nothing(global_admin_client, tree, contact, url, odd):
    response = global_admin_client.get(
        url.format(paris=tree["paris"].pk, contact=contact.pk, odd=odd)
    )

    assert response.status_code == 200


@pytest.mark.parametrize("odd", ODD_IDS)
def test_a_hand_made_role_is_named_above_the_widget(global_admin_client, tree, odd):
    response = global_admin_client.get(f"/accounts/{tree['paris'].pk}/?role={odd}")

    assert f"“{odd}” is not a role in this company, so this shows every role." in response.text


@pytest.mark.parametrize("odd", ODD_IDS)
def test_a_task_posted_with_a_hand_made_contact_is_refused_and_nothing_is_written(
    global_admin_client, tree, odd
):
    response = global_admin_client.post(
        f"/accounts/{tree['paris'].pk}/tasks/new/",
        {"title": "Call", "status": "open", "contacts": [odd]},
    )

    assert response.status_code in (200, 400)
    assert tree["paris"].tasks.count() == 0
