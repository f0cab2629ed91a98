"""Bulk actions on the Contacts widget's rows (contacts/bulk.py, contacts/views/bulk.py): the
confirm page, applying it all or nothing, and every selection that does not fit.

`people` puts contacts at Paris (Site), Berlin (Site) and Corp (Corporate), and one in the
other company; each test selects some of them as the widget would (pk and stamp)."""

import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from contacts import bulk, services
from contacts.models import ContactChange, KeyContactAlert, Membership
from tests.factories import MembershipFactory, PersonFactory, StaffUserFactory
from tests.html import element, elements, page, text


@pytest.fixture
def people(tree, roles):
    def contact(key, first, role=None, **kwargs):
        return MembershipFactory(
            account=tree[key],
            person=PersonFactory(
                first_name=first, last_name="Tester", email=f"{first.lower()}@x.example"
            ),
            role=roles[role] if role else None,
            is_contact=True,
            **kwargs,
        )

    return {
        "pia": contact("paris", "Pia", ("Site", "End user")),
        "paul": contact("paris", "Paul", ("Site", "Site admin"), is_key_contact=True),
        "bea": contact("berlin", "Bea"),
        "cora": contact("corp", "Cora", ("Corporate", "Champion")),
        "olaf": contact("other", "Olaf"),
    }


def url(account):
    return reverse("contacts:bulk-action", args=[account.pk])


def selection(*memberships):
    return [bulk.selection_value(m) for m in memberships]


def confirm(client, account, action, *memberships, **extra):
    params = {"action": action, "contact": selection(*memberships), "query": "view=hierarchy"}
    return client.get(url(account), {**params, **extra})


def fingerprint(response):
    return re.search(r'name="plan" value="([0-9a-f]+)"', response.content.decode()).group(1)


def post_confirmed(client, account, action, *memberships, **extra):
    """GET the confirm page, then press its button (the form's fields as the page has them)."""
    response = confirm(client, account, action, *memberships, **extra)
    assert response.status_code == 200, response.content.decode()
    data = {"action": action, "contact": selection(*memberships), "query": "view=hierarchy"}
    return client.post(url(account), {**data, **extra, "plan": fingerprint(response)})


def table(response, label):
    """The rows of one of the confirm page's tables: [(name, account, what it says)]."""
    found = element(page(response, response.status_code), "table", aria_label=label)
    return [tuple(text(td) for td in elements(tr, "td")) for tr in elements(found, "tr")[1:]]


def history(*memberships):
    return sorted(
        (c.membership_id, c.field, c.old_value, c.new_value)
        for c in ContactChange.objects.filter(membership__in=memberships)
    )


def test_marking_key_contacts_confirms_then_writes_one_history_entry_each(
    standard_client, tree, people
):
    pia, bea, paul = people["pia"], people["bea"], people["paul"]

    response = confirm(standard_client, tree["corp"], bulk.MARK_KEY, pia, bea, paul)

    assert response.status_code == 200
    assert table(response, "Contacts that will change") == [
        ("Bea Tester", "Berlin Site", "Key contact: no → yes"),
        ("Pia Tester", "Paris Site", "Key contact: no → yes"),
    ]
    assert table(response, "Contacts already so") == [
        ("Paul Tester ♛", "Paris Site", "is already a key contact")
    ]
    assert not Membership.objects.filter(pk__in=[pia.pk, bea.pk], is_key_contact=True).exists()

    response = post_confirmed(standard_client, tree["corp"], bulk.MARK_KEY, pia, bea, paul)

    assert response.status_code == 302
    assert response["Location"] == f"{tree['corp'].get_absolute_url()}?view=hierarchy"
    assert response["HX-Trigger"] == "contacts-changed"
    assert set(Membership.objects.filter(is_key_contact=True).values_list("pk", flat=True)) == {
        pia.pk,
        bea.pk,
        paul.pk,
    }
    assert history(pia, bea, paul) == sorted(
        [(pia.pk, "key_contact", "no", "yes"), (bea.pk, "key_contact", "no", "yes")]
    )
    change = ContactChange.objects.filter(membership=pia).get()
    assert (change.staff_user, change.source) == (standard_client.staff_user, "app")
    followed = standard_client.get(response["Location"])
    assert "Marked 2 contacts as key contacts." in followed.content.decode()


def test_a_role_is_set_only_where_the_account_type_takes_it_and_the_others_are_named(
    standard_client, tree, roles, people
):
    site_admin = roles["Site", "Site admin"]
    pia, paul, bea, cora = people["pia"], people["paul"], people["bea"], people["cora"]

    response = confirm(
        standard_client, tree["corp"], bulk.SET_ROLE, pia, paul, bea, cora, role=site_admin.pk
    )

    assert table(response, "Contacts that will change") == [
        ("Bea Tester", "Berlin Site", "Role: no role → Site admin"),
        ("Pia Tester", "Paris Site", "Role: End user → Site admin"),
    ]
    assert table(response, "Contacts left out") == [
        ("Cora Tester", "Corp Corporate", "Corporate accounts do not take the role “Site admin”")
    ]
    assert table(response, "Contacts already so") == [
        ("Paul Tester ♛", "Paris Site", "is already “Site admin”")
    ]

    response = post_confirmed(
        standard_client, tree["corp"], bulk.SET_ROLE, pia, paul, bea, cora, role=site_admin.pk
    )

    assert response.status_code == 302
    assert dict(Membership.objects.values_list("pk", "role__name")) == {
        pia.pk: "Site admin",
        paul.pk: "Site admin",
        bea.pk: "Site admin",
        cora.pk: "Champion",
        people["olaf"].pk: None,
    }
    assert history(pia, paul, bea, cora) == sorted(
        [(pia.pk, "role", "End user", "Site admin"), (bea.pk, "role", "", "Site admin")]
    )


def test_set_role_without_a_role_asks_for_one_grouped_by_account_type(
    standard_client, tree, people
):
    response = confirm(standard_client, tree["corp"], bulk.SET_ROLE, people["pia"])

    assert response.status_code == 200
    select = element(page(response), "select", name="role")
    assert [group.attributes[0][1] for group in elements(select, "optgroup")] == [
        "Corporate",
        "Region",
        "Site",
        "Department",
    ]
    # Its form carries the selection on.
    assert bulk.selection_value(people["pia"]) in response.content.decode()
    # A POST must name the role.
    response = standard_client.post(
        url(tree["corp"]), {"action": bulk.SET_ROLE, "contact": selection(people["pia"])}
    )
    assert response.status_code == 400
    assert not ContactChange.objects.exists()


def test_removing_contacts_keeps_the_people_and_their_memberships(standard_client, tree, people):
    pia, paul = people["pia"], people["paul"]

    response = post_confirmed(standard_client, tree["corp"], bulk.REMOVE, pia, paul)

    assert response.status_code == 302
    assert list(
        Membership.objects.filter(pk__in=[pia.pk, paul.pk]).values_list(
            "is_contact", "is_key_contact"
        )
    ) == [(False, False), (False, False)]
    assert history(pia, paul) == sorted(
        [
            (pia.pk, "contact", "yes", "no"),
            (paul.pk, "contact", "yes", "no"),
            (paul.pk, "key_contact", "yes", "no"),
        ]
    )


def test_unmarking_a_key_contact(standard_client, tree, people):
    paul, pia = people["paul"], people["pia"]

    response = confirm(standard_client, tree["corp"], bulk.UNMARK_KEY, paul, pia)
    assert table(response, "Contacts already so") == [
        ("Pia Tester", "Paris Site", "is not a key contact")
    ]
    post_confirmed(standard_client, tree["corp"], bulk.UNMARK_KEY, paul, pia)

    assert history(paul, pia) == [(paul.pk, "key_contact", "yes", "no")]


def test_marking_a_key_contact_closes_the_accounts_key_contact_left_alert(
    standard_client, staff_user, tree, people
):
    """Through services.after_status_change, as the Edit page does."""
    paul = people["paul"]
    services.leave_account(membership=paul, by=staff_user)
    assert KeyContactAlert.objects.open().count() == 1

    post_confirmed(standard_client, tree["paris"], bulk.MARK_KEY, people["pia"])

    assert KeyContactAlert.objects.open().count() == 0


def test_a_row_changed_since_it_was_selected_is_named_and_left_out(
    standard_client, staff_user, tree, roles, people
):
    pia, bea = people["pia"], people["bea"]
    selected = selection(pia, bea)
    services.edit_contact(
        membership=pia, role=roles["Site", "Site admin"], is_key_contact=True, by=staff_user
    )

    response = standard_client.get(
        url(tree["corp"]), {"action": bulk.UNMARK_KEY, "contact": selected}
    )

    assert table(response, "Contacts left out") == [
        (
            "Pia Tester ♛",
            "Paris Site",
            "changed since you selected it (now: Site admin, key contact, active)",
        )
    ]
    assert table(response, "Contacts already so") == [
        ("Bea Tester", "Berlin Site", "is not a key contact")
    ]
    # Nothing is left: it says so and offers the way back, no button to press.
    assert "Nothing is left to change" in response.content.decode()
    assert 'name="plan"' not in response.content.decode()


def test_a_row_removed_or_deleted_since_it_was_selected_is_left_out(
    standard_client, staff_user, tree, people
):
    pia, bea, paul = people["pia"], people["bea"], people["paul"]
    selected = selection(pia, bea, paul)
    services.remove_contact(membership=bea, by=staff_user)
    paul.delete()

    response = standard_client.get(
        url(tree["corp"]), {"action": bulk.MARK_KEY, "contact": selected}
    )

    assert table(response, "Contacts left out") == [
        ("Bea Tester", "Berlin Site", "is no longer a contact (removed since you selected it)")
    ]
    assert "1 selected contact is no longer in this company" in response.content.decode()
    assert table(response, "Contacts that will change") == [
        ("Pia Tester", "Paris Site", "Key contact: no → yes")
    ]


@pytest.mark.parametrize(
    "contact",
    [
        "999999:1",  # no such membership
        "olaf",  # a contact of another company
    ],
)
def test_ids_unknown_or_of_another_company_are_counted_not_named_nor_changed(
    standard_client, tree, people, contact
):
    olaf = people["olaf"]
    value = bulk.selection_value(olaf) if contact == "olaf" else contact
    response = standard_client.get(url(tree["corp"]), {"action": bulk.REMOVE, "contact": [value]})

    assert response.status_code == 200
    content = response.content.decode()
    assert "1 selected contact is no longer in this company" in content
    assert "Olaf" not in content
    assert "Nothing is left to change" in content
    response = standard_client.post(
        url(tree["corp"]), {"action": bulk.REMOVE, "contact": [value], "plan": "0" * 16}
    )
    assert response.status_code == 409
    assert Membership.objects.get(pk=olaf.pk).is_contact
    assert not ContactChange.objects.exists()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"action": "delete_everyone"}, "“delete_everyone” is not an action"),
        ({"action": bulk.SET_ROLE, "role": "999999"}, "That role is not a role in this company"),
        ({"action": bulk.SET_ROLE, "role": "x"}, "That role is not a role in this company"),
        ({"action": bulk.MARK_KEY, "contact": ["abc"]}, "The selection was not understood"),
        ({"action": bulk.MARK_KEY, "contact": ["12"]}, "The selection was not understood"),
        (
            {"action": bulk.MARK_KEY, "contact": [f"{2**70}:1"]},
            "The selection was not understood",
        ),
        ({"action": bulk.MARK_KEY}, "No contacts were selected"),
        (
            {"action": bulk.MARK_KEY, "all_matching": "on", "query": "view=hierarchy"},
            "no time of selection",
        ),
        (
            {"action": bulk.MARK_KEY, "all_matching": "on", "as_of": "1", "query": "view=nowhere"},
            "The filters of this selection are not valid",
        ),
        (
            {"action": bulk.MARK_KEY, "all_matching": "on", "as_of": "1", "query": "role=99999"},
            "The filters of this selection are not valid",
        ),
        (
            {"action": bulk.MARK_KEY, "all_matching": "on", "as_of": str(10**20), "query": ""},
            "Ensure this value is less than or equal to",
        ),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_request_says_why_and_changes_nothing(
    standard_client, tree, people, params, message, method
):
    response = getattr(standard_client, method)(url(tree["corp"]), params)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Nothing was changed." in response.content.decode()
    assert not ContactChange.objects.exists()


def test_a_viewer_may_neither_see_nor_post_a_bulk_action(viewer_client, tree, people):
    pia = people["pia"]
    data = {"action": bulk.REMOVE, "contact": selection(pia)}

    assert viewer_client.get(url(tree["corp"]), data).status_code == 403
    assert viewer_client.post(url(tree["corp"]), {**data, "plan": "x"}).status_code == 403

    assert Membership.objects.get(pk=pia.pk).is_contact
    assert not ContactChange.objects.exists()


def test_a_stale_confirm_page_gets_the_new_one_and_writes_nothing(
    standard_client, staff_user, tree, people
):
    pia, bea = people["pia"], people["bea"]
    response = confirm(standard_client, tree["corp"], bulk.MARK_KEY, pia, bea)
    old_plan = fingerprint(response)
    # Someone marks Bea while the confirm page is open.
    services.edit_contact(membership=bea, role=None, is_key_contact=True, by=staff_user)

    response = standard_client.post(
        url(tree["corp"]),
        {"action": bulk.MARK_KEY, "contact": selection(pia, bea), "plan": old_plan},
    )

    assert response.status_code == 409
    assert "Nothing was written: here is what would change now." in response.content.decode()
    assert table(response, "Contacts left out")[0][2].startswith("changed since you selected it")
    assert not Membership.objects.get(pk=pia.pk).is_key_contact
    assert history(pia) == []
    # The new page's button applies what it shows.
    response = standard_client.post(
        url(tree["corp"]),
        {"action": bulk.MARK_KEY, "contact": selection(pia, bea), "plan": fingerprint(response)},
    )
    assert response.status_code == 302
    assert history(pia) == [(pia.pk, "key_contact", "no", "yes")]


def test_all_matching_selects_the_widgets_rows_again_from_its_filters(
    standard_client, staff_user, tree, people
):
    pia, paul, bea = people["pia"], people["paul"], people["bea"]
    as_of = bulk.now_stamp()
    # Bea was saved after the list was drawn: she is left out.
    services.edit_contact(membership=bea, role=None, is_key_contact=False, by=staff_user)
    params = {
        "action": bulk.MARK_KEY,
        "all_matching": "on",
        "as_of": as_of,
        "matching": "2",
        "query": "view=children&q=tester",
    }

    response = standard_client.get(url(tree["emea"]), params)

    assert response.status_code == 200
    assert table(response, "Contacts that will change") == [
        ("Pia Tester", "Paris Site", "Key contact: no → yes")
    ]
    assert [row[0] for row in table(response, "Contacts left out")] == ["Bea Tester"]
    assert "2 contacts matched when you selected; 3 match now." in response.content.decode()

    response = standard_client.post(url(tree["emea"]), {**params, "plan": fingerprint(response)})

    assert response.status_code == 302
    assert response["Location"] == f"{tree['emea'].get_absolute_url()}?view=children&q=tester"
    assert history(pia, paul, bea) == [(pia.pk, "key_contact", "no", "yes")]
    assert not Membership.objects.get(pk=people["cora"].pk).is_key_contact


def test_all_on_this_page_without_javascript_takes_the_pages_rows(standard_client, tree, people):
    pia, bea = people["pia"], people["bea"]
    response = standard_client.get(
        url(tree["corp"]),
        {"action": bulk.MARK_KEY, "all_on_page": "on", "page_contact": selection(pia, bea)},
    )

    assert [row[0] for row in table(response, "Contacts that will change")] == [
        "Bea Tester",
        "Pia Tester",
    ]


def test_add_to_a_new_task_goes_to_the_task_form_with_the_contacts_chosen(
    standard_client, tree, people
):
    pia, bea = people["pia"], people["bea"]

    response = confirm(standard_client, tree["corp"], bulk.ADD_TASK, pia, bea)

    assert response.status_code == 302
    expected = urlencode([("contact", bea.pk), ("contact", pia.pk)])
    assert response["Location"] == f"/accounts/{tree['corp'].pk}/tasks/new/?{expected}"
    assert not ContactChange.objects.exists()


def test_add_to_a_new_task_names_those_who_left_and_links_to_the_form(
    standard_client, staff_user, tree, people
):
    pia, bea = people["pia"], people["bea"]
    services.leave_account(membership=bea, by=staff_user)

    response = confirm(standard_client, tree["corp"], bulk.ADD_TASK, pia, bea)

    assert response.status_code == 200
    assert table(response, "Contacts left out")[0][0] == "Bea Tester"
    link = element(page(response), "a", class_="button-primary")
    assert text(link) == "Continue to a new task with 1 contact"
    assert f"/accounts/{tree['corp'].pk}/tasks/new/?contact={pia.pk}" in response.content.decode()


def test_add_to_a_new_task_needs_the_right_to_edit_tasks(client, tree, people):
    editor = StaffUserFactory(username="contacts_only")
    editor.user_permissions.add(Permission.objects.get(codename="change_membership"))
    client.force_login(editor)

    response = confirm(client, tree["corp"], bulk.ADD_TASK, people["pia"])

    assert response.status_code == 403
    # The bulk bar offers it only to those who may.
    account_page = client.get(tree["paris"].get_absolute_url()).content.decode()
    assert 'value="mark_key"' in account_page
    assert 'value="add_task"' not in account_page


def test_the_widget_offers_the_bulk_bar_and_row_checkboxes_to_editors(
    standard_client, tree, people
):
    content = standard_client.get(tree["paris"].get_absolute_url()).content.decode()
    assert 'id="bulk-form"' in content
    assert f'value="{bulk.selection_value(people["pia"])}" form="bulk-form"' in content


def test_the_widget_offers_viewers_no_bulk_bar_nor_checkboxes(viewer_client, tree, people):
    content = viewer_client.get(tree["paris"].get_absolute_url()).content.decode()
    assert 'id="bulk-form"' not in content
    assert 'form="bulk-form"' not in content


def test_all_n_matching_of_thousands_is_a_few_queries_and_lists_the_first_rows(
    standard_client, tree, roles, django_assert_max_num_queries
):
    """Bulk reads and batched writes: the confirm page reads the rows in one query (8 in
    all, measured the same for 10,000 rows); the POST writes 500 rows per UPDATE and per
    INSERT of history (10,000 rows measured: 53 queries, 2.3 s on SQLite, 8.7 s on the shared
    PostgreSQL)."""
    people = PersonFactory.create_batch(1200)
    Membership.objects.bulk_create(
        Membership(person=person, account=tree["paris"], is_contact=True) for person in people
    )
    params = {
        "action": bulk.MARK_KEY,
        "all_matching": "on",
        "as_of": bulk.now_stamp(),
        "query": "",
    }

    with django_assert_max_num_queries(8):
        response = standard_client.get(url(tree["paris"]), params)

    assert len(table(response, "Contacts that will change")) == bulk.ROWS_SHOWN
    assert "… and 1150 more." in response.content.decode()
    with django_assert_max_num_queries(20):
        response = standard_client.post(
            url(tree["paris"]), {**params, "plan": fingerprint(response)}
        )

    assert response.status_code == 302
    assert Membership.objects.filter(is_key_contact=True).count() == 1200
    assert ContactChange.objects.filter(field="key_contact").count() == 1200
