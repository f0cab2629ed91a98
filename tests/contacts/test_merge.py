"""Merging two people and unmerging them (contacts.merge): every table as it was after an
unmerge, memberships at the same account merged, and each reason an unmerge is refused."""

import datetime

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts import merge as merging
from contacts.models import (
    ContactChange,
    EmailAlias,
    KeyContactAlert,
    Membership,
    Person,
    PersonMerge,
)
from tests.factories import (
    ContactChangeFactory,
    MembershipFactory,
    PersonFactory,
    TaskFactory,
    TouchpointFactory,
)

MERGE_HISTORY = {ContactChange.Source.MERGE, ContactChange.Source.UNMERGE}


def every_row():
    """Every row of every table of contacts and accounts, m2m tables included, by pk. The
    history a merge and an unmerge add is left out, and only it: their ContactChange rows
    (source merge or unmerge) and the PersonMerge row, which records that they happened."""
    tables = {}
    for app in ("contacts", "accounts"):
        for model in apps.get_app_config(app).get_models(include_auto_created=True):
            rows = model.objects.order_by("pk")
            if model is PersonMerge:
                continue
            if model is ContactChange:
                rows = rows.exclude(source__in=MERGE_HISTORY)
            tables[model._meta.db_table] = list(rows.values())
    return tables


@pytest.fixture
def people(tree, roles, staff_user):
    """Ada (kept) and her duplicate Ada L. (merged), both at Paris, each at another account,
    with tasks, touchpoints, history, an alert, an alias and an earlier merge of their own."""
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@x.example", title="")
    dup = PersonFactory(
        first_name="Ada",
        last_name="Lovelace-King",
        email="ada.lovelace+crm@x.example",
        title="Countess",
        phone="+44 20 1234",
    )
    site_admin, end_user = roles[("Site", "Site admin")], roles[("Site", "End user")]
    ada_paris = MembershipFactory(person=ada, account=tree["paris"], role=site_admin)
    ada_corp = MembershipFactory(person=ada, account=tree["corp"], is_contact=False)
    dup_paris = MembershipFactory(
        person=dup,
        account=tree["paris"],
        role=end_user,
        is_key_contact=True,
        status=Membership.Status.FORMER,
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2024, 6, 30),
    )
    dup_berlin = MembershipFactory(person=dup, account=tree["berlin"])
    both = TaskFactory(account=tree["corp"], title="Renewal")
    both.contacts.set([ada_paris, dup_paris])
    theirs = TaskFactory(account=tree["paris"], title="Kick-off")
    theirs.contacts.set([dup_paris, dup_berlin])
    call = TouchpointFactory(account=tree["berlin"], subject="Intro call")
    call.participants.set([dup_berlin, ada_corp])
    for membership in (ada_paris, dup_paris, dup_berlin):
        ContactChangeFactory(membership=membership, staff_user=staff_user)
    KeyContactAlert.objects.create(
        account=tree["paris"], membership=dup_paris, left_on=datetime.date(2024, 6, 30)
    )
    older = PersonMerge.objects.create(
        survivor=dup, merged_person_pk=999, merged_email="old@x.example", merged_name="Old"
    )
    EmailAlias.objects.create(email="old@x.example", person=dup, merge=older)
    return {
        "ada": ada,
        "dup": dup,
        "ada_paris": ada_paris,
        "ada_corp": ada_corp,
        "dup_paris": dup_paris,
        "dup_berlin": dup_berlin,
        "roles": roles,
        "tree": tree,
    }


def test_merge_then_unmerge_leaves_every_table_as_it_was(people, staff_user):
    before = every_row()
    merge = merging.merge_people(
        survivor=people["ada"],
        merged=people["dup"],
        values={"email": "ada.lovelace+crm@x.example", "last_name": "Lovelace-King"},
        by=staff_user,
    )
    assert every_row() != before
    merging.unmerge(merge, by=staff_user)
    assert every_row() == before
    merge.refresh_from_db()
    assert merge.unmerged_by == staff_user
    assert merge.unmerged_at is not None


def test_merge_moves_everything_to_the_survivor(people, staff_user):
    ada, dup, roles = people["ada"], people["dup"], people["roles"]
    merge = merging.merge_people(
        survivor=ada,
        merged=dup,
        values={"title": "Countess"},
        roles={people["tree"]["paris"].pk: roles[("Site", "End user")]},
        by=staff_user,
    )
    assert not Person.objects.filter(pk=dup.pk).exists()
    ada.refresh_from_db()
    assert (ada.email, ada.last_name, ada.title, ada.phone) == (
        "ada@x.example",
        "Lovelace",
        "Countess",
        "+44 20 1234",  # blank: filled from the other
    )
    paris = Membership.objects.get(person=ada, account=people["tree"]["paris"])
    assert paris.pk == people["ada_paris"].pk
    assert (paris.is_contact, paris.is_key_contact, paris.role.name, paris.status) == (
        True,
        True,
        "End user",
        Membership.Status.ACTIVE,  # active if either is
    )
    assert paris.start_date == datetime.date(2020, 1, 1)
    assert paris.end_date is None
    assert not Membership.objects.filter(pk=people["dup_paris"].pk).exists()
    assert Membership.objects.get(pk=people["dup_berlin"].pk).person == ada
    # The task that linked both links the one membership left, once; the others follow it.
    assert sorted(paris.tasks.values_list("title", flat=True)) == ["Kick-off", "Renewal"]
    assert KeyContactAlert.objects.get().membership == paris
    assert sorted(ada.email_aliases.values_list("email", flat=True)) == [
        "ada.lovelace+crm@x.example",
        "old@x.example",
    ]
    assert PersonMerge.objects.filter(survivor=ada).count() == 2
    assert not ContactChange.objects.filter(person_id=dup.pk).exists()
    moves = ContactChange.objects.filter(
        source=ContactChange.Source.MERGE, field=ContactChange.Field.PERSON
    )
    assert sorted((c.account.name, c.old_value, c.new_value) for c in moves) == [
        (name, "Ada Lovelace-King <ada.lovelace+crm@x.example>", "Ada Lovelace <ada@x.example>")
        for name in ("Berlin", "Paris")
    ]
    assert merge.merged_email == "ada.lovelace+crm@x.example"


def test_merge_with_the_other_email_keeps_the_survivors_as_an_alias(people, staff_user):
    merging.merge_people(
        survivor=people["ada"],
        merged=people["dup"],
        values={"email": "ada.lovelace+crm@x.example"},
        by=staff_user,
    )
    assert Person.objects.get(pk=people["ada"].pk).email == "ada.lovelace+crm@x.example"
    assert sorted(EmailAlias.objects.values_list("email", flat=True)) == [
        "ada@x.example",
        "old@x.example",
    ]


def test_merge_of_two_former_memberships_keeps_the_latest_end(tree, staff_user):
    ada, dup = PersonFactory(), PersonFactory()
    for person, start, end in ((ada, 2019, 2021), (dup, 2018, 2023)):
        MembershipFactory(
            person=person,
            account=tree["paris"],
            status=Membership.Status.FORMER,
            start_date=datetime.date(start, 1, 1),
            end_date=datetime.date(end, 1, 1),
        )
    merging.merge_people(survivor=ada, merged=dup, by=staff_user)
    membership = Membership.objects.get(person=ada)
    assert (membership.status, membership.start_date, membership.end_date) == (
        Membership.Status.FORMER,
        datetime.date(2018, 1, 1),
        datetime.date(2023, 1, 1),
    )


# Bad inputs: a clear message, nothing written.


def assert_refused(code, message, **kwargs):
    before = every_row()
    merges = PersonMerge.objects.count()
    with pytest.raises(ValidationError) as raised:
        merging.merge_people(**kwargs)
    assert raised.value.code == code
    assert raised.value.message % raised.value.params == message
    assert every_row() == before
    assert PersonMerge.objects.count() == merges


def test_merge_refuses_the_same_person_twice(people, staff_user):
    assert_refused(
        "same_person",
        "Choose two different people: Ada Lovelace cannot be merged with themselves.",
        survivor=people["ada"],
        merged=people["ada"],
        by=staff_user,
    )


def test_merge_refuses_a_person_merged_already(people, staff_user):
    gone = PersonFactory(first_name="Gone", last_name="Away", email="gone@x.example")
    Person.objects.filter(pk=gone.pk).delete()
    assert_refused(
        "person_gone",
        "Gone Away <gone@x.example> no longer exists: they were merged or removed since. "
        "Reload the page and choose again.",
        survivor=people["ada"],
        merged=gone,
        by=staff_user,
    )


def test_merge_refuses_a_role_of_another_account_type(people, staff_user):
    assert_refused(
        "unknown_role",
        "“Champion” is not a role of Site accounts (Paris).",
        survivor=people["ada"],
        merged=people["dup"],
        roles={people["tree"]["paris"].pk: people["roles"][("Corporate", "Champion")]},
        by=staff_user,
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"first_name": "Eve"},
            "The first name chosen is neither person's: choose one of the two.",
        ),
        ({"is_superuser": "1"}, "is_superuser cannot be chosen in a merge."),
    ],
)
def test_merge_refuses_a_tampered_choice(people, staff_user, values, message):
    assert_refused(
        "bad_choice",
        message,
        survivor=people["ada"],
        merged=people["dup"],
        values=values,
        by=staff_user,
    )


def test_merge_refuses_an_email_that_is_an_alias(people, staff_user):
    # No third person can hold either address (emails are unique ignoring case), but an
    # alias can: the profile form does not look at aliases.
    third = PersonFactory(first_name="Third", last_name="Person", email="third@x.example")
    EmailAlias.objects.create(email="Ada@x.example", person=third)
    assert_refused(
        "email_taken",
        "ada@x.example belongs to Third Person <third@x.example> (as an alias): choose the "
        "other address.",
        survivor=people["ada"],
        merged=people["dup"],
        by=staff_user,
    )


# Unmerge refused: each blocker says what blocks it, and nothing is written.


@pytest.fixture
def merged(people, staff_user):
    return merging.merge_people(survivor=people["ada"], merged=people["dup"], by=staff_user)


def assert_unmerge_blocked(merge, staff_user, message):
    before = every_row()
    assert message in merging.unmerge_blockers(merge)
    with pytest.raises(ValidationError) as raised:
        merging.unmerge(merge, by=staff_user)
    assert raised.value.code == "unmerge_blocked"
    assert message in raised.value.params["blockers"]
    assert every_row() == before
    merge.refresh_from_db()
    assert merge.unmerged_at is None


def test_unmerge_blocked_by_a_changed_survivor(people, merged, staff_user):
    Person.objects.filter(pk=people["ada"].pk).update(first_name="Augusta")
    assert_unmerge_blocked(
        merged, staff_user, "Ada Lovelace <ada@x.example>'s first name changed since the merge."
    )


def test_unmerge_blocked_by_a_changed_membership(people, merged, staff_user):
    Membership.objects.filter(pk=people["dup_berlin"].pk).update(is_contact=False)
    assert_unmerge_blocked(
        merged,
        staff_user,
        "The membership at Berlin changed since the merge (its marks, role, status or dates).",
    )


def test_unmerge_blocked_by_a_new_task_link(people, merged, staff_user):
    task = TaskFactory(account=people["tree"]["corp"], title="Follow-up")
    task.contacts.add(people["dup_berlin"])
    assert_unmerge_blocked(
        merged, staff_user, "The task “Follow-up” was linked to Berlin since the merge."
    )


def test_unmerge_blocked_by_a_removed_touchpoint_link(people, merged, staff_user):
    people["dup_berlin"].touchpoints.clear()
    assert_unmerge_blocked(
        merged,
        staff_user,
        "The touchpoint “Intro call” was unlinked from a moved membership since the merge.",
    )


def test_unmerge_blocked_by_an_alias_an_import_used(merged, staff_user):
    EmailAlias.objects.filter(email="ada.lovelace+crm@x.example").update(
        last_used_at=timezone.now()
    )
    assert_unmerge_blocked(
        merged,
        staff_user,
        "An import used the address ada.lovelace+crm@x.example since the merge and updated "
        "Ada Lovelace <ada@x.example>: what it changed cannot be told apart from Ada Lovelace "
        "<ada@x.example>'s own.",
    )


def test_unmerge_blocked_when_the_survivor_was_merged_again(people, merged, staff_user):
    grace = PersonFactory(first_name="Grace", last_name="Hopper", email="grace@x.example")
    merging.merge_people(survivor=grace, merged=people["ada"], by=staff_user)
    merged.refresh_from_db()
    assert_unmerge_blocked(
        merged,
        staff_user,
        "Ada Lovelace <ada@x.example> was merged into Grace Hopper <grace@x.example> since: "
        "unmerge that merge first.",
    )


def test_unmerge_refused_twice(merged, staff_user):
    merging.unmerge(merged, by=staff_user)
    merged.refresh_from_db()
    with pytest.raises(ValidationError) as raised:
        merging.unmerge(merged, by=staff_user)
    assert raised.value.params["blockers"] == [
        f"It was unmerged already, on {merged.unmerged_at:%Y-%m-%d %H:%M}."
    ]


def test_unmerge_records_the_moves_back(people, merged, staff_user):
    merging.unmerge(merged, by=staff_user)
    back = ContactChange.objects.filter(
        source=ContactChange.Source.UNMERGE, field=ContactChange.Field.PERSON
    )
    assert sorted((c.account.name, c.person_id, c.new_value) for c in back) == [
        (name, people["dup"].pk, "Ada Lovelace-King <ada.lovelace+crm@x.example>")
        for name in ("Berlin", "Paris")
    ]
