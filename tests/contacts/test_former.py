"""Former contacts, with dates (issue 14): the services' rules, history and alerts; the edit
page's Status, Start date and End date; the widget's "Include former"; what may be linked."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts import services
from contacts.forms import TaskForm
from contacts.models import ContactChange, KeyContactAlert, Membership
from tests.factories import MembershipFactory, PersonFactory
from tests.html import attribute, element, elements, page, text

TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)
TOMORROW = TODAY + datetime.timedelta(days=1)


@pytest.fixture
def ada(tree, roles):
    """Ada Lovelace, key contact of Paris (Site admin), there since 2021-03-01."""
    return MembershipFactory(
        person=PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
        account=tree["paris"],
        role=roles["Site", "Site admin"],
        is_contact=True,
        is_key_contact=True,
        start_date=datetime.date(2021, 3, 1),
    )


@pytest.fixture
def bob(tree, roles):
    return MembershipFactory(
        person=PersonFactory(first_name="Bob", last_name="Babbage", email="bob@example.com"),
        account=tree["paris"],
        role=roles["Site", "End user"],
        is_contact=True,
    )


def _stored(membership):
    m = Membership.objects.get(pk=membership.pk)
    return (m.status, m.start_date, m.end_date, m.is_contact, m.is_key_contact)


def _changes(membership):
    return [
        (c.field, c.old_value, c.new_value, c.source)
        for c in ContactChange.objects.filter(membership=membership).order_by("pk")
    ]


def _edit(membership, by, **changes):
    return services.edit_contact(
        membership=membership,
        role=membership.role,
        is_key_contact=changes.pop("is_key_contact", membership.is_key_contact),
        by=by,
        **changes,
    )


# Services


def test_marking_former_with_an_end_date_records_it_and_raises_the_alert(ada, staff_user):
    _edit(ada, staff_user, status="former", end_date=datetime.date(2026, 5, 31))

    assert _stored(ada) == (
        "former",
        datetime.date(2021, 3, 1),
        datetime.date(2026, 5, 31),
        True,
        True,
    )
    assert _changes(ada) == [
        ("status", "active", "former", "app"),
        ("end_date", "", "2026-05-31", "app"),
    ]
    alert = KeyContactAlert.objects.open().get()
    assert (alert.membership_id, alert.account_id, alert.left_on) == (
        ada.pk,
        ada.account_id,
        datetime.date(2026, 5, 31),
    )


def test_marking_former_without_an_end_date_ends_it_today(bob, staff_user):
    services.leave_account(membership=bob, by=staff_user)

    assert _stored(bob)[:3] == ("former", None, TODAY)
    assert _changes(bob) == [
        ("status", "active", "former", "app"),
        ("end_date", "", TODAY.isoformat(), "app"),
    ]
    # Not a key contact: no alert.
    assert not KeyContactAlert.objects.exists()


def test_an_end_date_before_the_start_date_is_refused_and_nothing_written(ada, staff_user):
    with pytest.raises(ValidationError) as raised:
        _edit(ada, staff_user, status="former", end_date=datetime.date(2020, 1, 1))

    assert raised.value.message_dict == {
        "end_date": ["The end date (2020-01-01) cannot be before the start date (2021-03-01)."]
    }
    assert _stored(ada)[:3] == ("active", datetime.date(2021, 3, 1), None)
    assert _changes(ada) == []
    assert not KeyContactAlert.objects.exists()


def test_active_with_an_end_date_in_the_past_is_refused(bob, staff_user):
    with pytest.raises(ValidationError) as raised:
        _edit(bob, staff_user, status="active", end_date=YESTERDAY)

    assert raised.value.error_dict["end_date"][0].code == "active_with_past_end"
    assert raised.value.messages == [
        f"An active member cannot have an end date in the past ({YESTERDAY.isoformat()}): "
        "mark them former, or clear the end date."
    ]
    assert _stored(bob)[:3] == ("active", None, None)


def test_active_with_an_end_date_to_come_is_a_planned_departure(bob, staff_user):
    _edit(bob, staff_user, end_date=TOMORROW)

    assert _stored(bob)[:3] == ("active", None, TOMORROW)


def test_naming_a_new_active_key_contact_closes_the_alert(ada, bob, staff_user):
    services.leave_account(membership=ada, end_date=YESTERDAY, by=staff_user)
    assert KeyContactAlert.objects.open().count() == 1

    _edit(bob, staff_user, is_key_contact=True)

    alert = KeyContactAlert.objects.get()
    assert (alert.resolution, alert.resolved_by) == ("new_key_contact", staff_user)


def test_add_contact_makes_a_former_member_active_again(ada, staff_user):
    services.leave_account(membership=ada, end_date=YESTERDAY, by=staff_user)

    membership, added = services.add_contact(
        account=ada.account, person=ada.person, role=ada.role, is_key_contact=True, by=staff_user
    )

    assert (membership.pk, added) == (ada.pk, True)
    assert _stored(ada) == ("active", datetime.date(2021, 3, 1), None, True, True)
    assert _changes(ada)[-2:] == [
        ("status", "former", "active", "app"),
        ("end_date", YESTERDAY.isoformat(), "", "app"),
    ]
    # Back as key contact: the alert of their own leaving closes.
    assert not KeyContactAlert.objects.open().exists()


def test_add_contact_leaves_an_active_contact_as_they_are(bob, staff_user):
    _membership, added = services.add_contact(account=bob.account, person=bob.person, by=staff_user)

    assert added is False
    assert _changes(bob) == []


def test_leaving_and_no_longer_a_contact_are_two_recorded_things(bob, staff_user):
    services.remove_contact(membership=bob, by=staff_user)
    assert _stored(bob)[0::3] == ("active", False)

    services.leave_account(membership=bob, end_date=YESTERDAY, by=staff_user)

    assert _changes(bob) == [
        ("contact", "yes", "no", "app"),
        ("status", "active", "former", "app"),
        ("end_date", "", YESTERDAY.isoformat(), "app"),
    ]


# What "who is there now" reads


def test_contacts_are_the_active_ones_and_include_former_adds_the_others(ada, bob, staff_user):
    services.leave_account(membership=ada, end_date=YESTERDAY, by=staff_user)

    assert list(Membership.objects.contacts()) == [bob]
    assert set(Membership.objects.contacts(include_former=True)) == {ada, bob}


def test_linkable_leaves_out_former_contacts_unless_linked_already(ada, bob, tree, staff_user):
    services.leave_account(membership=ada, end_date=YESTERDAY, by=staff_user)

    assert list(Membership.objects.linkable(tree["corp"])) == [bob]
    assert set(Membership.objects.linkable(tree["corp"], linked=[ada.pk])) == {ada, bob}


def test_widget_counts_and_lists_active_contacts_only(
    viewer_client, ada, bob, tree, staff_user, django_assert_max_num_queries
):
    services.leave_account(membership=ada, end_date=datetime.date(2026, 5, 31), by=staff_user)

    # The account page's queries, the "Key contact left" banner's included.
    with django_assert_max_num_queries(15):
        response = viewer_client.get(tree["paris"].get_absolute_url())

    results = element(page(response), "div", id="contact-results")
    assert text(element(results, "p", class_="count")) == "1 contact"
    assert [text(element(row, "a")) for row in elements(results, "tr")[1:]] == ["Bob Babbage"]
    view = element(page(response), "select", id="id_view")
    assert text(elements(view, "option")[0]).endswith("(1)")


def test_widget_include_former_shows_them_greyed_with_their_dates(
    viewer_client, ada, bob, tree, staff_user, django_assert_max_num_queries
):
    services.leave_account(membership=ada, end_date=datetime.date(2026, 5, 31), by=staff_user)

    with django_assert_max_num_queries(9):
        response = viewer_client.get(
            f"{tree['paris'].get_absolute_url()}?former=on", headers={"HX-Request": "true"}
        )

    rows = elements(page(response), "tr")[1:]
    assert [(text(element(row, "a")), attribute(row, "class")) for row in rows] == [
        ("Bob Babbage", None),
        ("Ada Lovelace", "row-former"),
    ]
    assert text(rows[1].children[0]) == (
        "Ada Lovelace Former key contact · left 2026-05-31 since 2021-03-01"
    )
    # No crown for a key contact who left, and no "Remove": Edit makes them active again.
    assert not elements(rows[1], "span", class_="crown")
    assert [text(a) for a in elements(rows[1], "a")] == ["Ada Lovelace"]
    assert text(element(page(response), "p", class_="count")) == "2 contacts"


def test_widget_include_former_is_a_ticked_box_kept_in_the_form(
    standard_client, ada, tree, staff_user
):
    services.leave_account(membership=ada, by=staff_user)

    response = standard_client.get(f"{tree['paris'].get_absolute_url()}?former=on")

    box = element(page(response), "input", id="id_former")
    assert ("checked", None) in box.attributes
    row = elements(element(page(response), "div", id="contact-results"), "tr")[1]
    assert [text(a) for a in elements(row, "a")] == ["Ada Lovelace", "Edit"]


# The edit page


def _edit_url(membership):
    return f"/people/contacts/{membership.pk}/edit/"


def _post(client, membership, **fields):
    data = {
        "role": membership.role_id or "",
        "is_key_contact": "on" if membership.is_key_contact else "",
        "status": "active",
        "start_date": "",
        "end_date": "",
        **fields,
    }
    # As a browser sends the form: an unticked box is left out, an empty date is sent empty.
    if not data["is_key_contact"]:
        del data["is_key_contact"]
    return client.post(_edit_url(membership), data)


def test_edit_page_marks_a_contact_former_with_an_end_date(standard_client, ada):
    response = _post(
        standard_client, ada, status="former", start_date="2021-03-01", end_date="2026-05-31"
    )

    assert response.status_code == 302
    assert _stored(ada)[:3] == ("former", datetime.date(2021, 3, 1), datetime.date(2026, 5, 31))
    assert KeyContactAlert.objects.open().count() == 1


def test_edit_page_shows_status_and_dates_of_a_former_contact(standard_client, ada, staff_user):
    services.leave_account(membership=ada, end_date=datetime.date(2026, 5, 31), by=staff_user)

    form = element(page(standard_client.get(_edit_url(ada))), "form", class_="form-stack")

    checked = [
        attribute(radio, "value")
        for radio in elements(form, "input", name="status")
        if ("checked", None) in radio.attributes
    ]
    assert checked == ["former"]
    assert attribute(element(form, "input", name="start_date"), "value") == "2021-03-01"
    assert attribute(element(form, "input", name="end_date"), "value") == "2026-05-31"
    assert attribute(element(form, "input", name="end_date"), "type") == "date"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"status": "former", "start_date": "2021-03-01", "end_date": "2020-01-01"},
            "end_date",
            "The end date (2020-01-01) cannot be before the start date (2021-03-01).",
        ),
        (
            {"status": "active", "end_date": "2020-01-01"},
            "end_date",
            "An active member cannot have an end date in the past (2020-01-01): mark them "
            "former, or clear the end date.",
        ),
        ({"end_date": "2026-13-01"}, "end_date", "Enter a date as YYYY-MM-DD, such as 2026-05-31."),
        (
            {"status": "left"},
            "status",
            "Select a valid choice. left is not one of the available choices.",
        ),
    ],
    ids=["end before start", "active ended", "no such month", "unknown status"],
)
def test_edit_page_bad_input_is_shown_on_its_field_and_nothing_written(
    standard_client, ada, fields, field, message
):
    before = _stored(ada)

    response = _post(standard_client, ada, **fields)

    assert response.status_code == 200
    doc = page(response)
    box = element(doc, "input", id=f"contact_{field}") if field != "status" else None
    errors = element(doc, "div", id=f"contact_{field}_error")
    assert [text(p) for p in elements(errors, "p")] == [message]
    if box is not None:
        assert attribute(box, "aria-invalid") == "true"
        assert f"contact_{field}_error" in attribute(box, "aria-describedby")
    assert _stored(ada) == before
    assert _changes(ada) == []


def test_edit_page_makes_a_former_contact_active_again(standard_client, ada, staff_user):
    services.leave_account(membership=ada, end_date=YESTERDAY, by=staff_user)

    response = _post(standard_client, ada, status="active", start_date="2021-03-01")

    assert response.status_code == 302
    assert _stored(ada)[:3] == ("active", datetime.date(2021, 3, 1), None)


def test_a_task_keeps_a_former_contact_it_links_and_says_they_left(ada, bob, tree, staff_user):
    task = services.save_task(account=tree["paris"], title="Renewal", contacts=[ada], by=staff_user)
    services.leave_account(membership=ada, end_date=YESTERDAY, by=staff_user)

    form = TaskForm(instance=task, account=tree["paris"])
    assert [label for _, label in form.fields["contacts"].choices] == [
        "Bob Babbage — Paris",
        "Ada Lovelace — Paris (left the account)",
    ]
    services.save_task(
        account=tree["paris"], title="Renewal", contacts=[ada, bob], task=task, by=staff_user
    )
    assert set(task.contacts.all()) == {ada, bob}
    # A new task may not link someone who left.
    with pytest.raises(ValidationError) as raised:
        services.save_task(account=tree["paris"], title="New", contacts=[ada], by=staff_user)
    assert raised.value.code == "contact_outside_hierarchy"
    assert raised.value.messages == [
        "Only contacts in this company hierarchy can be linked, and Ada Lovelace at Paris "
        "(who left) is not."
    ]


def test_edit_page_post_without_the_new_fields_leaves_status_and_dates(standard_client, ada):
    # A page drawn before the fields existed sends role and key contact only.
    response = standard_client.post(_edit_url(ada), {"role": ada.role_id, "is_key_contact": "on"})

    assert response.status_code == 302
    assert _stored(ada)[:3] == ("active", datetime.date(2021, 3, 1), None)
