"""contacts/views/tasks.py's contact picker (issue 15), one module: choosing the contacts of a
task or touchpoint by search.

The picker shows the chosen contacts (chips) and a search: its type-ahead
(/accounts/<id>/contact-suggestions/) or, without JavaScript, its "Find contacts" button, which
sends the form back with the matches to tick and saves nothing. A new task or touchpoint takes
its first contacts from ?contact=<membership id>; one that is not a contact of the hierarchy is
left out with a message. The `contacts` fixture is test_views_tasks's.
"""

import pytest

from tests import stored
from tests.contacts import test_views_tasks
from tests.contacts.test_views_tasks import _form, _ids, _picker, _search
from tests.html import attribute, element, elements, messages, page, parse, text

contacts = test_views_tasks.contacts

# Each new page: (its path, the picker's field, the valid fields but contacts, what is stored).
PAGES = {
    "tasks/new": ("contacts", {"title": "Call", "owner": ""}, stored.tasks),
    "touchpoints/new": (
        "participants",
        {"kind": "call", "happened_at": "2026-11-20T14:30", "subject": "Call"},
        stored.touchpoints,
    ),
}


def _url(tree, path, account="corp"):
    return f"/accounts/{tree[account].pk}/{path}/"


# Contacts from the query string


@pytest.mark.parametrize("path", PAGES)
def test_contacts_in_the_query_string_are_chosen(standard_client, tree, contacts, path):
    query = f"?contact={contacts['pierre'].pk}&contact={contacts['carl'].pk}"
    response = standard_client.get(_url(tree, path) + query)

    assert _picker(_form(response)) == [
        (contacts["pierre"].pk, "Pierre Paquet — Paris", True),
        (contacts["carl"].pk, "Carl Corbett — Corp", True),
    ]
    assert messages(response) == []


@pytest.mark.parametrize("path", PAGES)
def test_contacts_in_the_query_string_outside_the_hierarchy_are_left_out_with_a_message(
    standard_client, tree, contacts, path
):
    # Otto: the other company; Nora: a member, not a contact; then no such ids.
    query = "&".join(
        f"contact={value}"
        for value in (
            contacts["otto"].pk,
            contacts["nora"].pk,
            "abc",
            999999,
            "",
            "-1",
            "9" * 30,
        )
    )
    response = standard_client.get(_url(tree, path) + f"?contact={contacts['carl'].pk}&" + query)

    assert response.status_code == 200
    assert _picker(_form(response)) == [(contacts["carl"].pk, "Carl Corbett — Corp", True)]
    assert messages(response) == [
        "Left out 7 of the contacts in the link: they are not a contact of Corp's company."
    ]


def test_one_contact_left_out_says_it(standard_client, tree, contacts):
    response = standard_client.get(_url(tree, "tasks/new") + f"?contact={contacts['otto'].pk}")

    assert _picker(_form(response)) == []
    assert messages(response) == [
        "Left out 1 of the contacts in the link: it is not a contact of Corp's company."
    ]


def test_the_edit_page_keeps_the_tasks_contacts_whatever_the_query_string(
    standard_client, tree, contacts
):
    from tests.factories import TaskFactory

    task = TaskFactory(account=tree["corp"], title="Renewal")
    task.contacts.set([contacts["carl"]])

    response = standard_client.get(
        f"/accounts/{tree['corp'].pk}/tasks/{task.pk}/edit/?contact={contacts['pierre'].pk}"
    )

    assert _picker(_form(response)) == [(contacts["carl"].pk, "Carl Corbett — Corp", True)]


@pytest.mark.parametrize("path", PAGES)
def test_saving_the_prefilled_form_links_its_contacts(standard_client, tree, contacts, path):
    field, fields, saved = PAGES[path]
    url = _url(tree, path)

    response = standard_client.post(url, {**fields, field: _ids(contacts, "pierre", "carl")})

    assert response.status_code == 302
    (row,) = saved()
    assert row[-1] == sorted(_ids(contacts, "pierre", "carl"))


# The search without JavaScript


@pytest.mark.parametrize("path", PAGES)
def test_a_search_lists_matches_beside_the_chosen_and_saves_nothing(
    standard_client, tree, contacts, path
):
    field, fields, saved = PAGES[path]

    response = _search(
        standard_client,
        _url(tree, path),
        "lovelace",
        field=field,
        **fields,
        **{field: _ids(contacts, "carl")},
    )

    form = _form(response)
    assert _picker(form) == [
        (contacts["carl"].pk, "Carl Corbett — Corp", True),
        (contacts["ada_amer"].pk, "Ada Lovelace — Amer", False),
        (contacts["ada_corp"].pk, "Ada Lovelace — Corp", False),
    ]
    assert text(element(form, "legend")) == "Contacts matching “lovelace”: tick to add"
    # What was typed stays, and no error is shown: nothing was sent to be saved yet.
    search = element(form, "input", name=f"{field}_search")
    assert attribute(search, "value") == "lovelace"
    assert elements(form, "p", class_="field-error") == []
    text_field = "title" if path == "tasks/new" else "subject"
    assert attribute(element(form, "input", name=text_field), "value") == "Call"
    assert saved() == []


def test_a_search_does_not_list_the_chosen_again(standard_client, tree, contacts):
    response = _search(
        standard_client,
        _url(tree, "tasks/new"),
        "carl",
        title="Call",
        contacts=_ids(contacts, "carl"),
    )

    picker = element(_form(response), "div", class_="contact-picker")
    assert _picker(_form(response)) == [(contacts["carl"].pk, "Carl Corbett — Corp", True)]
    assert "No other contact of this company matches “carl”." in text(picker)


def test_a_search_never_lists_other_companies_or_members_who_are_not_contacts(
    standard_client, tree, contacts
):
    for name in ("otto", "nora"):
        response = _search(standard_client, _url(tree, "tasks/new"), name, title="Call")
        assert _picker(_form(response)) == []


def test_ticking_a_match_then_saving_links_it(standard_client, tree, contacts):
    url = _url(tree, "tasks/new")

    response = standard_client.post(
        url, {"title": "Call", "owner": "", "contacts": _ids(contacts, "carl", "ada_amer")}
    )

    assert response.status_code == 302
    assert stored.tasks()[0][-1] == sorted(_ids(contacts, "carl", "ada_amer"))


@pytest.mark.parametrize("path", PAGES)
def test_errors_keep_the_chosen_contacts(standard_client, tree, contacts, path):
    field, _fields, saved = PAGES[path]

    response = standard_client.post(_url(tree, path), {field: _ids(contacts, "pierre", "ada_corp")})

    form = _form(response)
    assert elements(form, "p", class_="field-error")
    assert _picker(form) == [
        (contacts["pierre"].pk, "Pierre Paquet — Paris", True),
        (contacts["ada_corp"].pk, "Ada Lovelace — Corp", True),
    ]
    assert saved() == []


@pytest.mark.parametrize("value", ["9" * 30, "abc", "-1"])
def test_a_hand_made_contact_id_out_of_range_is_refused_without_error(
    standard_client, tree, contacts, value
):
    response = standard_client.post(
        _url(tree, "tasks/new"), {"title": "Call", "contacts": [contacts["carl"].pk, value]}
    )

    form = _form(response)
    assert elements(form, "p", class_="field-error")
    assert _picker(form) == [(contacts["carl"].pk, "Carl Corbett — Corp", True)]
    assert stored.tasks() == []


def test_the_search_field_is_described_by_the_pickers_error(standard_client, tree, contacts):
    response = standard_client.post(
        _url(tree, "tasks/new"), {"title": "Call", "contacts": _ids(contacts, "otto")}
    )

    search = element(_form(response), "input", name="contacts_search")
    assert attribute(search, "aria-invalid") == "true"
    assert "id_contacts_error" in attribute(search, "aria-describedby")


# The type-ahead


def _suggestions(client, account, q):
    response = client.get(f"/accounts/{account.pk}/contact-suggestions/", {"q": q})
    return response, [
        (int(attribute(li, "data-contact-id")), attribute(li, "data-contact-label"))
        for li in elements(parse(response), "li", role="option")
    ]


@pytest.mark.parametrize("account", ["corp", "paris", "austin_it"])
def test_suggestions_are_the_contacts_of_the_hierarchy_matching(
    standard_client, tree, contacts, account
):
    response, options = _suggestions(standard_client, tree[account], "x.example")

    assert response.status_code == 200
    assert options == [
        (contacts["carl"].pk, "Carl Corbett — Corp"),
        (contacts["ian"].pk, "Ian Irwin — Austin It"),
        (contacts["ada_amer"].pk, "Ada Lovelace — Amer"),
        (contacts["ada_corp"].pk, "Ada Lovelace — Corp"),
        (contacts["pierre"].pk, "Pierre Paquet — Paris"),
    ]


@pytest.mark.parametrize("q", ["", "a", " p ", "otto", "nora", "nobody@nowhere"])
def test_suggestions_for_too_little_or_outside_the_hierarchy_are_none(
    standard_client, tree, contacts, q
):
    response, options = _suggestions(standard_client, tree["paris"], q)

    assert response.status_code == 200
    assert options == []


def test_suggestions_of_text_with_markup_are_none_and_escaped(standard_client, tree, contacts):
    response, options = _suggestions(standard_client, tree["paris"], "zz<b>")

    assert options == []
    assert "<b>" not in response.content.decode()


def test_suggestions_are_at_most_ten(standard_client, tree):
    from tests.factories import MembershipFactory, PersonFactory

    for n in range(12):
        MembershipFactory(
            account=tree["paris"], person=PersonFactory(first_name="Many", last_name=f"M{n:02d}")
        )

    _response, options = _suggestions(standard_client, tree["paris"], "many")
    assert [label for _pk, label in options] == [f"Many M{n:02d} — Paris" for n in range(10)]


def test_suggestions_need_the_task_or_touchpoint_permission(viewer_client, tree, contacts):
    response = viewer_client.get(f"/accounts/{tree['paris'].pk}/contact-suggestions/?q=ada")

    assert response.status_code == 403


def test_suggestions_of_an_account_that_does_not_exist_are_404(standard_client, db):
    assert standard_client.get("/accounts/999999/contact-suggestions/?q=ada").status_code == 404


def test_suggestions_query_count_is_pinned(
    standard_client, tree, contacts, django_assert_max_num_queries
):
    # Session, staff user, the permission check (up to 3), the account, the contacts.
    with django_assert_max_num_queries(7):
        _suggestions(standard_client, tree["paris"], "x.example")


def test_the_prefilled_form_query_count_is_pinned(
    standard_client, tree, contacts, django_assert_max_num_queries
):
    query = "&".join(f"contact={m.pk}" for m in contacts.values())
    with django_assert_max_num_queries(12):
        response = standard_client.get(_url(tree, "tasks/new") + "?" + query)
    assert len(_picker(_form(response))) == 5


def test_the_new_pages_have_the_picker_with_its_type_ahead(standard_client, tree, contacts):
    doc = page(standard_client.get(_url(tree, "tasks/new", "paris")))

    typeahead = element(doc, "auto-complete")
    assert attribute(typeahead, "src") == f"/accounts/{tree['paris'].pk}/contact-suggestions/"
    label = element(doc, "label", for_="id_contacts_search")
    assert text(label) == "Contacts"
