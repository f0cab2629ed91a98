"""contacts/services.py, one module as the code is: each service and what it writes.

The services behind adding a contact, tasks, touchpoints and the person profile
(contacts/services.py; SPEC §2, §3.4–§3.6): what each one writes, and that a refused call
writes nothing at all."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from contacts import services
from contacts.models import ContactChange, Membership, Task, Touchpoint
from tests import stored
from tests.factories import (
    MembershipFactory,
    PersonFactory,
    StaffUserFactory,
    TaskFactory,
    TouchpointFactory,
)


@pytest.fixture
def ada(db):
    return PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@analytical.example")


def _errors(error):
    """A ValidationError as [(code, message)], whether it holds a dict or a list."""
    errors = (
        [e for field_errors in error.error_dict.values() for e in field_errors]
        if hasattr(error, "error_dict")
        else error.error_list
    )
    return [(e.code, e.message % e.params if e.params else e.message) for e in errors]


# check_role


@pytest.mark.parametrize(
    ("account", "role"),
    [("paris", ("Site", "Site admin")), ("corp", ("Corporate", "Champion")), ("paris", None)],
)
def test_check_role_accepts_a_role_of_the_account_type_or_none(tree, roles, account, role):
    assert services.check_role(account=tree[account], role=roles[role] if role else None) is None


def test_check_role_refuses_a_role_of_another_type_and_lists_the_valid_ones(tree, roles):
    with pytest.raises(ValidationError) as raised:
        services.check_role(account=tree["paris"], role=roles["Region", "Champion"])

    assert raised.value.error_dict.keys() == {"role"}
    assert _errors(raised.value) == [
        (
            "unknown_role",
            "“Champion” is not a role of Site accounts. Valid roles: End user, Site admin.",
        ),
    ]


# add_contact


def test_add_contact_creates_a_membership_and_records_it(tree, roles, ada, staff_user):
    membership, added = services.add_contact(
        account=tree["paris"],
        person=ada,
        role=roles["Site", "Site admin"],
        is_key_contact=True,
        by=staff_user,
    )

    assert added is True
    assert (membership.person, membership.account) == (ada, tree["paris"])
    assert stored.memberships() == [("ada@analytical.example", "Paris", "Site admin", True, True)]
    assert stored.changes() == [
        ("ada@analytical.example", "Paris", "contact", "no", "yes", "app", staff_user.pk),
        ("ada@analytical.example", "Paris", "key_contact", "no", "yes", "app", staff_user.pk),
        ("ada@analytical.example", "Paris", "role", "", "Site admin", "app", staff_user.pk),
    ]


def test_add_contact_without_role_or_key_records_the_contact_mark_only(tree, ada, staff_user):
    _membership, added = services.add_contact(account=tree["corp"], person=ada, by=staff_user)

    assert added is True
    assert stored.memberships() == [("ada@analytical.example", "Corp", None, True, False)]
    assert stored.changes() == [
        ("ada@analytical.example", "Corp", "contact", "no", "yes", "app", staff_user.pk),
    ]


def test_add_contact_records_the_source_given(tree, ada):
    services.add_contact(
        account=tree["corp"], person=ada, by=None, source=ContactChange.Source.IMPORT
    )

    assert stored.changes() == [
        ("ada@analytical.example", "Corp", "contact", "no", "yes", "import", None),
    ]


def test_add_contact_of_a_member_sets_the_contact_mark_and_the_role_chosen(
    tree, roles, ada, staff_user
):
    # The form offers the member's current role first; "No role" means no role.
    member = MembershipFactory(
        person=ada, account=tree["paris"], role=roles["Site", "End user"], is_contact=False
    )

    membership, added = services.add_contact(
        account=tree["paris"], person=ada, role=None, is_key_contact=False, by=staff_user
    )

    assert (added, membership.pk) == (True, member.pk)
    assert stored.memberships() == [("ada@analytical.example", "Paris", None, True, False)]
    assert sorted(stored.changes()) == sorted(
        [
            ("ada@analytical.example", "Paris", "contact", "no", "yes", "app", staff_user.pk),
            ("ada@analytical.example", "Paris", "role", "End user", "", "app", staff_user.pk),
        ]
    )


def test_add_contact_of_a_member_overrides_the_role_and_sets_key_contact(
    tree, roles, ada, staff_user
):
    member = MembershipFactory(
        person=ada, account=tree["paris"], role=roles["Site", "End user"], is_contact=False
    )

    membership, added = services.add_contact(
        account=tree["paris"],
        person=ada,
        role=roles["Site", "Site admin"],
        is_key_contact=True,
        by=staff_user,
    )

    assert (added, membership.pk) == (True, member.pk)
    assert stored.memberships() == [("ada@analytical.example", "Paris", "Site admin", True, True)]
    assert stored.changes() == [
        ("ada@analytical.example", "Paris", "contact", "no", "yes", "app", staff_user.pk),
        ("ada@analytical.example", "Paris", "key_contact", "no", "yes", "app", staff_user.pk),
        ("ada@analytical.example", "Paris", "role", "End user", "Site admin", "app", staff_user.pk),
    ]


@pytest.mark.parametrize(
    ("role", "is_key_contact"),
    [(None, False), (("Site", "End user"), True), (("Site", "Site admin"), False)],
)
def test_add_contact_of_someone_already_a_contact_changes_nothing(
    tree, roles, ada, staff_user, role, is_key_contact
):
    existing = MembershipFactory(
        person=ada,
        account=tree["paris"],
        role=roles["Site", "Site admin"],
        is_contact=True,
        is_key_contact=False,
    )
    before = Membership.objects.get(pk=existing.pk).updated_at

    membership, added = services.add_contact(
        account=tree["paris"],
        person=ada,
        role=roles[role] if role else None,
        is_key_contact=is_key_contact,
        by=staff_user,
    )

    assert (added, membership.pk) == (False, existing.pk)
    assert stored.memberships() == [("ada@analytical.example", "Paris", "Site admin", True, False)]
    assert Membership.objects.get(pk=existing.pk).updated_at == before
    assert stored.changes() == []


def test_add_contact_at_a_second_account_keeps_the_first(tree, ada, staff_user):
    MembershipFactory(person=ada, account=tree["corp"], is_key_contact=True)

    services.add_contact(account=tree["austin"], person=ada, by=staff_user)

    assert stored.memberships() == [
        ("ada@analytical.example", "Corp", None, True, True),
        ("ada@analytical.example", "Austin", None, True, False),
    ]
    assert stored.changes() == [
        ("ada@analytical.example", "Austin", "contact", "no", "yes", "app", staff_user.pk),
    ]


@pytest.mark.parametrize("member_already", [False, True])
def test_add_contact_with_a_role_of_another_type_is_refused_and_writes_nothing(
    tree, roles, ada, staff_user, member_already
):
    if member_already:
        MembershipFactory(person=ada, account=tree["paris"], is_contact=False)
    before = stored.memberships()

    with pytest.raises(ValidationError) as raised:
        services.add_contact(
            account=tree["paris"],
            person=ada,
            role=roles["Corporate", "Executive sponsor"],
            is_key_contact=True,
            by=staff_user,
        )

    assert _errors(raised.value) == [
        (
            "unknown_role",
            "“Executive sponsor” is not a role of Site accounts. Valid roles: End user, "
            "Site admin.",
        ),
    ]
    assert stored.memberships() == before
    assert before == (
        [("ada@analytical.example", "Paris", None, False, False)] if member_already else []
    )
    assert stored.changes() == []


# add_contact_with_new_person


def test_add_contact_with_new_person_creates_person_contact_and_history(tree, roles, staff_user):
    membership = services.add_contact_with_new_person(
        account=tree["paris"],
        email="  grace@navy.example ",
        first_name=" Grace ",
        last_name="Hopper ",
        title=" Rear admiral ",
        phone=" +1 555 0100 ",
        role=roles["Site", "End user"],
        is_key_contact=True,
        by=staff_user,
    )

    assert stored.people() == [
        ("grace@navy.example", "Grace", "Hopper", "Rear admiral", "+1 555 0100")
    ]
    assert (membership.person.email, membership.account) == ("grace@navy.example", tree["paris"])
    assert stored.memberships() == [("grace@navy.example", "Paris", "End user", True, True)]
    assert stored.changes() == [
        ("grace@navy.example", "Paris", "contact", "no", "yes", "app", staff_user.pk),
        ("grace@navy.example", "Paris", "key_contact", "no", "yes", "app", staff_user.pk),
        ("grace@navy.example", "Paris", "role", "", "End user", "app", staff_user.pk),
    ]


def test_add_contact_with_new_person_without_optional_fields(tree, staff_user):
    services.add_contact_with_new_person(
        account=tree["corp"],
        email="grace@navy.example",
        first_name="Grace",
        last_name="Hopper",
        by=staff_user,
    )

    assert stored.people() == [("grace@navy.example", "Grace", "Hopper", "", "")]
    assert stored.memberships() == [("grace@navy.example", "Corp", None, True, False)]
    assert stored.changes() == [
        ("grace@navy.example", "Corp", "contact", "no", "yes", "app", staff_user.pk),
    ]


@pytest.mark.parametrize(
    "email", ["ada@analytical.example", "ADA@Analytical.Example", " Ada@analytical.example "]
)
def test_add_contact_with_new_person_whose_email_exists_offers_that_person(
    tree, ada, staff_user, email
):
    with pytest.raises(ValidationError) as raised:
        services.add_contact_with_new_person(
            account=tree["paris"],
            email=email,
            first_name="Augusta",
            last_name="King",
            by=staff_user,
        )

    assert raised.value.code == "email_exists"
    assert raised.value.params["person"] == ada
    assert raised.value.message % raised.value.params == (
        "Ada Lovelace <ada@analytical.example> already has this email."
    )
    assert stored.people() == [("ada@analytical.example", "Ada", "Lovelace", "", "")]
    assert stored.memberships() == []
    assert stored.changes() == []


def test_add_contact_with_new_person_and_a_role_of_another_type_writes_nothing(
    tree, roles, staff_user
):
    with pytest.raises(ValidationError) as raised:
        services.add_contact_with_new_person(
            account=tree["corp"],
            email="grace@navy.example",
            first_name="Grace",
            last_name="Hopper",
            role=roles["Site", "Site admin"],
            by=staff_user,
        )

    assert _errors(raised.value) == [
        (
            "unknown_role",
            "“Site admin” is not a role of Corporate accounts. Valid roles: Champion, "
            "Executive sponsor.",
        ),
    ]
    assert stored.people() == []
    assert stored.memberships() == []
    assert stored.changes() == []


def test_add_contact_with_new_person_is_one_transaction(tree, staff_user):
    """A failure while recording the history (the last write) takes back the person and the
    membership too. An unsaved staff user makes that last insert fail, without mocks."""
    unsaved = StaffUserFactory.build(username="ghost")

    with pytest.raises(ValueError):
        services.add_contact_with_new_person(
            account=tree["corp"],
            email="grace@navy.example",
            first_name="Grace",
            last_name="Hopper",
            by=unsaved,
        )

    assert stored.people() == []
    assert stored.memberships() == []
    assert stored.changes() == []


# save_task


@pytest.fixture
def contacts(tree):
    """Contacts at three levels of Corp, one at the other company, and a Corp member who is
    not a contact: {short name: membership}."""

    def member(key, first, account, **kwargs):
        return key, MembershipFactory(
            person=PersonFactory(
                first_name=first, last_name="Example", email=f"{first.lower()}@x.example"
            ),
            account=tree[account],
            **kwargs,
        )

    return dict(
        [
            member("carl", "Carl", "corp"),
            member("pierre", "Pierre", "paris", is_key_contact=True),
            member("ian", "Ian", "austin_it"),
            member("otto", "Otto", "other"),
            member("nora", "Nora", "berlin", is_contact=False),
        ]
    )


def test_save_task_links_contacts_anywhere_in_the_hierarchy(tree, contacts, staff_user):
    task = services.save_task(
        account=tree["paris"],
        title="Renewal call",
        due_date=datetime.date(2026, 12, 1),
        owner=staff_user,
        contacts=[contacts["carl"], contacts["pierre"], contacts["ian"]],
        by=staff_user,
    )

    assert (task.pk, task.account) == (Task.objects.get().pk, tree["paris"])
    assert stored.tasks(contact=stored.first_name) == [
        (
            "Paris",
            "Renewal call",
            datetime.date(2026, 12, 1),
            "open",
            "stella",
            ["Carl", "Ian", "Pierre"],
        ),
    ]


def test_save_task_without_contacts_owner_or_date(tree, staff_user):
    services.save_task(account=tree["corp"], title="Tidy up", by=staff_user)

    assert stored.tasks(contact=stored.first_name) == [("Corp", "Tidy up", None, "open", None, [])]


def test_save_task_updates_a_task_and_replaces_its_contacts(tree, contacts, staff_user):
    task = TaskFactory(account=tree["corp"], title="Old", status=Task.Status.DONE)
    task.contacts.set([contacts["carl"], contacts["pierre"]])

    returned = services.save_task(
        account=tree["corp"],
        task=task,
        title="New",
        due_date=datetime.date(2027, 1, 2),
        owner=None,
        contacts=[contacts["ian"]],
        by=staff_user,
    )

    assert returned.pk == task.pk
    assert stored.tasks(contact=stored.first_name) == [
        ("Corp", "New", datetime.date(2027, 1, 2), "done", None, ["Ian"])
    ]


@pytest.mark.parametrize("outsider", ["otto", "nora"])
def test_save_task_with_a_contact_outside_the_hierarchy_is_refused_and_writes_nothing(
    tree, contacts, staff_user, outsider
):
    with pytest.raises(ValidationError) as raised:
        services.save_task(
            account=tree["corp"],
            title="Renewal call",
            owner=staff_user,
            contacts=[contacts["carl"], contacts[outsider]],
            by=staff_user,
        )

    name = {"otto": "Otto Example at Other", "nora": "Nora Example at Berlin"}[outsider]
    assert _errors(raised.value) == [
        (
            "contact_outside_hierarchy",
            f"Only contacts in this company hierarchy can be linked, and {name} is not.",
        ),
    ]
    assert stored.tasks(contact=stored.first_name) == []


def test_save_task_edit_with_a_contact_outside_the_hierarchy_leaves_the_task(
    tree, contacts, staff_user
):
    task = TaskFactory(account=tree["corp"], title="Old")
    task.contacts.set([contacts["carl"]])

    with pytest.raises(ValidationError) as raised:
        services.save_task(
            account=tree["corp"],
            task=task,
            title="New",
            contacts=[contacts["otto"], contacts["nora"]],
            by=staff_user,
        )

    assert _errors(raised.value) == [
        (
            "contact_outside_hierarchy",
            "Only contacts in this company hierarchy can be linked, and Nora Example at Berlin, "
            "Otto Example at Other are not.",
        ),
    ]
    assert stored.tasks(contact=stored.first_name) == [
        ("Corp", "Old", None, "open", None, ["Carl"])
    ]


# set_task_status


def test_set_task_status_completes_and_reopens(tree, staff_user):
    task = TaskFactory(account=tree["corp"], title="Renewal call")

    services.set_task_status(task=task, status=Task.Status.DONE, by=staff_user)
    assert Task.objects.values_list("title", "status").get() == ("Renewal call", "done")

    services.set_task_status(task=task, status=Task.Status.OPEN, by=staff_user)
    assert Task.objects.values_list("title", "status").get() == ("Renewal call", "open")


# save_touchpoint


WHEN = datetime.datetime(2026, 11, 20, 14, 30, tzinfo=datetime.UTC)


def test_save_touchpoint_records_participants_anywhere_in_the_hierarchy(tree, contacts, staff_user):
    touchpoint = services.save_touchpoint(
        account=tree["austin"],
        kind=Touchpoint.Kind.MEETING,
        subject="Kick-off",
        happened_at=WHEN,
        notes="Went well.",
        participants=[contacts["carl"], contacts["ian"]],
        by=staff_user,
    )

    assert touchpoint.pk == Touchpoint.objects.get().pk
    assert stored.touchpoints(contact=stored.first_name) == [
        ("Austin", "meeting", "Kick-off", WHEN, "Went well.", "stella", ["Carl", "Ian"]),
    ]


def test_save_touchpoint_edit_keeps_the_author_and_replaces_participants(
    tree, contacts, staff_user
):
    author = StaffUserFactory(username="alex")
    touchpoint = TouchpointFactory(account=tree["corp"], author=author, subject="Old")
    touchpoint.participants.set([contacts["carl"]])

    services.save_touchpoint(
        account=tree["corp"],
        touchpoint=touchpoint,
        kind=Touchpoint.Kind.NOTE,
        subject="New",
        happened_at=WHEN,
        participants=[contacts["pierre"]],
        by=staff_user,
    )

    assert stored.touchpoints(contact=stored.first_name) == [
        ("Corp", "note", "New", WHEN, "", "alex", ["Pierre"])
    ]


@pytest.mark.parametrize("outsider", ["otto", "nora"])
def test_save_touchpoint_with_a_contact_outside_the_hierarchy_is_refused_and_writes_nothing(
    tree, contacts, staff_user, outsider
):
    with pytest.raises(ValidationError) as raised:
        services.save_touchpoint(
            account=tree["corp"],
            kind=Touchpoint.Kind.CALL,
            subject="Call",
            happened_at=WHEN,
            participants=[contacts[outsider]],
            by=staff_user,
        )

    assert _errors(raised.value) == [
        (
            "contact_outside_hierarchy",
            "Only contacts in this company hierarchy can be linked, and "
            f"{ {'otto': 'Otto Example at Other', 'nora': 'Nora Example at Berlin'}[outsider] } "
            "is not.",
        ),
    ]
    assert stored.touchpoints(contact=stored.first_name) == []


def test_save_touchpoint_edit_with_an_outsider_leaves_the_touchpoint(tree, contacts, staff_user):
    touchpoint = TouchpointFactory(account=tree["corp"], author=staff_user, subject="Old")
    touchpoint.participants.set([contacts["carl"]])
    before = stored.touchpoints(contact=stored.first_name)

    with pytest.raises(ValidationError):
        services.save_touchpoint(
            account=tree["corp"],
            touchpoint=touchpoint,
            kind=Touchpoint.Kind.NOTE,
            subject="New",
            happened_at=WHEN,
            participants=[contacts["otto"]],
            by=staff_user,
        )

    assert stored.touchpoints(contact=stored.first_name) == before
    assert [row[2] for row in before] == ["Old"]


# update_person


def test_update_person_saves_the_profile(ada, staff_user):
    returned = services.update_person(
        person=ada,
        email=" ada.king@analytical.example ",
        first_name="Augusta Ada",
        last_name="King",
        title="Countess",
        phone="+44 20 7946 0000",
        by=staff_user,
    )

    assert returned.pk == ada.pk
    assert stored.people() == [
        ("ada.king@analytical.example", "Augusta Ada", "King", "Countess", "+44 20 7946 0000"),
    ]


def test_update_person_may_change_the_case_of_their_own_email(ada, staff_user):
    services.update_person(
        person=ada,
        email="Ada@Analytical.example",
        first_name="Ada",
        last_name="Lovelace",
        by=staff_user,
    )

    assert stored.people() == [("Ada@Analytical.example", "Ada", "Lovelace", "", "")]


@pytest.mark.parametrize("email", ["grace@navy.example", "GRACE@Navy.Example"])
def test_update_person_with_another_persons_email_is_refused(ada, staff_user, email):
    PersonFactory(first_name="Grace", last_name="Hopper", email="grace@navy.example")

    with pytest.raises(ValidationError) as raised:
        services.update_person(
            person=ada, email=email, first_name="Augusta", last_name="King", by=staff_user
        )

    assert _errors(raised.value) == [("email_exists", "Another person already has this email.")]
    assert stored.people() == [
        ("ada@analytical.example", "Ada", "Lovelace", "", ""),
        ("grace@navy.example", "Grace", "Hopper", "", ""),
    ]
