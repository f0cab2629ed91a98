"""Email aliases after a merge: the next users file that names the merged person's old address
updates the survivor instead of creating the person again; the add-contact flow offers the
survivor for that address; an import that used an alias blocks the unmerge."""

import pytest

from contacts import merge as merging
from contacts.models import EmailAlias, Person
from tests.factories import MembershipFactory, PersonFactory
from tests.integrations.conftest import import_users, memberships, people, totals, users_csv


@pytest.fixture
def merged(tree, staff_user):
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@x.example")
    dup = PersonFactory(first_name="Ada", last_name="King", email="ada.king@x.example")
    MembershipFactory(person=ada, account=tree["paris"])
    MembershipFactory(person=dup, account=tree["berlin"], is_contact=False)
    return merging.merge_people(survivor=ada, merged=dup, by=staff_user)


def test_users_file_naming_an_alias_updates_the_survivor(merged):
    result = import_users(
        users_csv(
            "BERLIN,ADA.KING@x.example,,,Countess,,,yes,",
            "AUSTIN,ada.king@x.example,,,,,,yes,",
        )
    )
    assert totals(result) == {"new": 1, "updated": 1, "unchanged": 0, "failed": 0}
    assert people() == [("ada@x.example", "Ada", "Lovelace", "Countess", "")]
    assert memberships() == [
        ("ada@x.example", "AUSTIN", None, True, False),
        ("ada@x.example", "BERLIN", None, True, False),
        ("ada@x.example", "PARIS", None, True, False),
    ]
    assert EmailAlias.objects.get().last_used_at is not None
    merged.refresh_from_db()
    assert any(
        blocker.startswith("An import used the address ada.king@x.example since the merge")
        for blocker in merging.unmerge_blockers(merged)
    )


def test_users_file_preview_with_an_alias_writes_nothing(merged):
    result = import_users(users_csv("BERLIN,ada.king@x.example,,,,,,yes,"), dry_run=True)
    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 0}
    assert EmailAlias.objects.get().last_used_at is None
    assert Person.objects.count() == 1


def test_add_contact_offers_the_person_an_alias_belongs_to(standard_client, merged, tree):
    response = standard_client.post(
        f"/accounts/{tree['austin'].pk}/add-contact/",
        {"new": "1", "email": "Ada.King@x.example", "first_name": "Ada", "last_name": "King"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ada Lovelace (ada@x.example) already has this email." in body
    assert f"?person={merged.survivor_id}" in body
    assert Person.objects.count() == 1
