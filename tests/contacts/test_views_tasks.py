"""contacts/views/tasks.py, one module: the task and touchpoint pages share the picker.

Tasks and touchpoints on the account page (SPEC §3.5): creating, editing, completing and
reopening them through the pages, and the contact picker, which offers every contact in the
company hierarchy and nothing else."""

import datetime

import pytest

from contacts.models import Membership, Task, Touchpoint
from tests import stored
from tests.factories import (
    MembershipFactory,
    PersonFactory,
    StaffUserFactory,
    TaskFactory,
    TouchpointFactory,
)
from tests.html import attribute, element, elements, messages, page, parse, text


@pytest.fixture
def contacts(tree):
    """Contacts across Corp (Ada at two of its accounts), one at the other company, and a
    Corp member who is not a contact: {short name: membership}."""
    people = {
        "ada": PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@x.example"),
        "carl": PersonFactory(first_name="Carl", last_name="Corbett", email="carl@x.example"),
        "pierre": PersonFactory(first_name="Pierre", last_name="Paquet", email="pierre@x.example"),
        "ian": PersonFactory(first_name="Ian", last_name="Irwin", email="ian@x.example"),
        "otto": PersonFactory(first_name="Otto", last_name="Ostrom", email="otto@x.example"),
        "nora": PersonFactory(first_name="Nora", last_name="Nobody", email="nora@x.example"),
    }
    return {
        "ada_corp": MembershipFactory(person=people["ada"], account=tree["corp"]),
        "ada_amer": MembershipFactory(person=people["ada"], account=tree["amer"]),
        "carl": MembershipFactory(person=people["carl"], account=tree["corp"]),
        "pierre": MembershipFactory(
            person=people["pierre"], account=tree["paris"], is_key_contact=True
        ),
        "ian": MembershipFactory(person=people["ian"], account=tree["austin_it"]),
        "otto": MembershipFactory(person=people["otto"], account=tree["other"]),
        "nora": MembershipFactory(person=people["nora"], account=tree["berlin"], is_contact=False),
    }


# Reading pages


def _form(response, status=200):
    """The task or touchpoint form of a page."""
    return element(page(response, status), "form", class_="form-grid")


def _picker(form):
    """The contact picker's checkboxes: the chosen contacts (its chips), then those a search
    without JavaScript found: (membership id, label, checked)."""
    picker = element(form, "div", class_="contact-picker")
    chips = [
        (int(attribute(box, "value")), text(element(chip, "label")), True)
        for chip in elements(picker, "li", class_="chip")
        for box in elements(chip, "input", type="checkbox")
        if ("checked", None) in box.attributes
    ]
    matches = [
        (int(attribute(box, "value")), text(label), ("checked", None) in box.attributes)
        for label in elements(picker, "label", class_="checkbox-option")
        for box in elements(label, "input", type="checkbox")
    ]
    return chips + matches


def _search(client, url, text, field="contacts", **data):
    """The form sent by its "Find contacts" button (a page without JavaScript)."""
    return client.post(url, {**data, f"{field}_search": text, f"{field}_find": "1"})


def _field_errors(form):
    errors = {}
    for field in elements(form, "div", class_="field"):
        messages = [text(p) for p in elements(field, "p", class_="field-error")]
        if messages:
            labels = elements(field, "label") if not elements(field, "legend") else []
            name = text(labels[0]) if labels else text(element(field, "legend"))
            errors[name] = messages
    return errors


def _section(response, heading_id):
    return element(page(response), "section", aria_labelledby=heading_id)


def _task_rows(response):
    """The Tasks table of an account page: (title, due, status, owner, contacts)."""
    section = _section(response, "tasks-heading")
    return [
        tuple(text(td) for td in elements(tr, "td")[:5])
        for tr in elements(section, "tr")
        if elements(tr, "td")
    ]


def _touchpoint_items(response):
    section = _section(response, "touchpoints-heading")
    return [text(li) for li in elements(section, "li")]


# Posting


def _ids(contacts, *names):
    return [contacts[name].pk for name in names]


# The contact picker


PICKER_FIELDS = {"tasks/new": "contacts", "touchpoints/new": "participants"}


@pytest.mark.parametrize("page", ["tasks/new", "touchpoints/new"])
@pytest.mark.parametrize("account", ["corp", "paris", "austin_it"])
def test_picker_offers_exactly_the_contacts_of_the_company_hierarchy(
    standard_client, tree, contacts, page, account
):
    # Every email of the fixture ends in x.example: the search matches everyone.
    url = f"/accounts/{tree[account].pk}/{page}/"
    response = _search(standard_client, url, "x.example", field=PICKER_FIELDS[page])

    assert _picker(_form(response)) == [
        (contacts["carl"].pk, "Carl Corbett — Corp", False),
        (contacts["ian"].pk, "Ian Irwin — Austin It", False),
        (contacts["ada_amer"].pk, "Ada Lovelace — Amer", False),
        (contacts["ada_corp"].pk, "Ada Lovelace — Corp", False),
        (contacts["pierre"].pk, "Pierre Paquet — Paris", False),
    ]


@pytest.mark.parametrize("page", ["tasks/new", "touchpoints/new"])
def test_picker_of_the_other_company_offers_its_contacts_only(
    standard_client, tree, contacts, page
):
    url = f"/accounts/{tree['other_region'].pk}/{page}/"
    response = _search(standard_client, url, "x.example", field=PICKER_FIELDS[page])

    assert _picker(_form(response)) == [(contacts["otto"].pk, "Otto Ostrom — Other", False)]


def test_picker_of_a_company_without_contacts_says_so(standard_client, tree):
    form = _form(standard_client.get(f"/accounts/{tree['other'].pk}/tasks/new/"))

    assert text(element(form, "div", class_="contact-picker")) == "No contacts in this company yet."


# Tasks


def test_new_task_page_shows_its_fields_with_the_staff_user_as_owner(
    standard_client, tree, contacts
):
    response = standard_client.get(f"/accounts/{tree['paris'].pk}/tasks/new/")

    doc = page(response)
    assert text(element(doc, "h1")) == "New task"
    form = _form(response)
    assert [
        (text(label), attribute(label, "for"))
        for label in elements(form, "label")
        if attribute(label, "for")
    ] == [
        ("Title * (required)", "id_title"),
        ("Due date", "id_due_date"),
        ("Owner", "id_owner"),
        ("Contacts", "id_contacts_search"),
    ]
    assert attribute(element(form, "input", name="due_date"), "type") == "date"
    assert [
        (text(option), ("selected", None) in option.attributes)
        for option in elements(element(form, "select", name="owner"), "option")
    ] == [("- Select an option -", False), ("standard_user", True)]
    # The first Save is the one Enter in a field presses (not the picker's Find contacts).
    buttons = [text(b) for b in elements(form, "button")]
    assert buttons == ["Save task", "Find contacts", "Save task"]
    assert attribute(element(form, "a", class_="button-quiet"), "href") == (
        tree["paris"].get_absolute_url()
    )


def test_creating_a_task_links_contacts_anywhere_in_the_hierarchy(standard_client, tree, contacts):
    user = standard_client.staff_user
    response = standard_client.post(
        f"/accounts/{tree['paris'].pk}/tasks/new/",
        {
            "title": "Renewal call",
            "due_date": "2026-12-01",
            "owner": user.pk,
            "contacts": _ids(contacts, "carl", "pierre", "ian"),
        },
    )

    assert (response.status_code, response["Location"]) == (
        302,
        f"/accounts/{tree['paris'].pk}/#tasks-heading",
    )
    assert stored.tasks() == [
        (
            "Paris",
            "Renewal call",
            datetime.date(2026, 12, 1),
            "open",
            "standard_user",
            sorted(_ids(contacts, "carl", "pierre", "ian")),
        ),
    ]
    account_page = standard_client.get(response["Location"])
    assert messages(account_page) == ["Saved the task “Renewal call”."]
    assert _task_rows(account_page) == [
        (
            "Renewal call",
            "1 Dec 2026",
            "Open",
            "standard_user",
            # The key contact first, then by name.
            "Pierre Paquet , Carl Corbett , Ian Irwin",
        ),
    ]


def test_creating_a_task_with_a_title_only(standard_client, tree):
    response = standard_client.post(
        f"/accounts/{tree['corp'].pk}/tasks/new/", {"title": "Tidy up", "owner": ""}
    )

    assert response.status_code == 302
    assert stored.tasks() == [("Corp", "Tidy up", None, "open", None, [])]


@pytest.fixture
def task(tree, contacts, standard_client):
    task = TaskFactory(
        account=tree["paris"],
        title="Renewal call",
        due_date=datetime.date(2026, 12, 1),
        owner=standard_client.staff_user,
    )
    task.contacts.set([contacts["carl"], contacts["pierre"]])
    return task


def test_edit_task_page_shows_the_task(standard_client, tree, contacts, task):
    response = standard_client.get(f"/accounts/{tree['paris'].pk}/tasks/{task.pk}/edit/")

    assert text(element(page(response), "h1")) == "Edit task"
    form = _form(response)
    assert attribute(element(form, "input", name="title"), "value") == "Renewal call"
    assert attribute(element(form, "input", name="due_date"), "value") == "2026-12-01"
    assert [label for _, label, checked in _picker(form) if checked] == [
        "Carl Corbett — Corp",
        "Pierre Paquet — Paris",
    ]


def test_editing_a_task_saves_it_and_replaces_its_contacts(standard_client, tree, contacts, task):
    response = standard_client.post(
        f"/accounts/{tree['paris'].pk}/tasks/{task.pk}/edit/",
        {
            "title": "Renewal meeting",
            "due_date": "2027-01-15",
            "owner": "",
            "contacts": _ids(contacts, "ada_amer"),
        },
    )

    assert (response.status_code, response["Location"]) == (
        302,
        f"/accounts/{tree['paris'].pk}/#tasks-heading",
    )
    assert stored.tasks() == [
        (
            "Paris",
            "Renewal meeting",
            datetime.date(2027, 1, 15),
            "open",
            None,
            _ids(contacts, "ada_amer"),
        ),
    ]
    assert messages(standard_client.get(response["Location"])) == [
        "Saved the task “Renewal meeting”."
    ]


def test_editing_a_task_keeps_a_linked_contact_removed_since(standard_client, tree, contacts, task):
    # Pierre was linked while a contact; removing the contact keeps the link, and saving the
    # task again (his box still ticked) keeps it too, instead of dropping him unseen.
    pierre = contacts["pierre"]
    Membership.objects.filter(pk=pierre.pk).update(is_contact=False, is_key_contact=False)
    url = f"/accounts/{tree['paris'].pk}/tasks/{task.pk}/edit/"

    assert [label for _, label, checked in _picker(_form(standard_client.get(url))) if checked] == [
        "Carl Corbett — Corp",
        "Pierre Paquet — Paris (no longer a contact)",
    ]
    response = standard_client.post(
        url, {"title": "Renewal call", "owner": "", "contacts": _ids(contacts, "carl", "pierre")}
    )

    assert response.status_code == 302
    assert sorted(task.contacts.values_list("pk", flat=True)) == sorted(
        _ids(contacts, "carl", "pierre")
    )


def _status_form(response, task):
    """The Complete or Reopen form of a task row on the account page."""
    section = _section(response, "tasks-heading")
    (form,) = [
        form
        for form in elements(section, "form")
        if attribute(form, "action") == f"/accounts/{task.account_id}/tasks/{task.pk}/status/"
    ]
    return form


def _button_and_status(form):
    """The button of a task's status form and the status it sends."""
    status = element(form, "input", name="status")
    return (text(element(form, "button")), attribute(status, "value"))


def test_completing_and_reopening_a_task_from_the_account_page(standard_client, tree, task):
    account_url = tree["paris"].get_absolute_url()

    form = _status_form(standard_client.get(account_url), task)
    assert _button_and_status(form) == ("Complete", "done")
    response = standard_client.post(attribute(form, "action"), {"status": "done"})
    assert (response.status_code, response["Location"]) == (
        302,
        f"/accounts/{tree['paris'].pk}/#tasks-heading",
    )
    assert Task.objects.values_list("status", flat=True).get() == "done"
    after = standard_client.get(account_url)
    assert messages(after) == ["“Renewal call” is done."]
    assert [row[2] for row in _task_rows(after)] == ["Done"]

    form = _status_form(after, task)
    assert _button_and_status(form) == ("Reopen", "open")
    standard_client.post(attribute(form, "action"), {"status": "open"})
    assert Task.objects.values_list("status", flat=True).get() == "open"
    assert messages(standard_client.get(account_url)) == ["“Renewal call” is open."]


@pytest.mark.parametrize("data", [{"status": "finished"}, {"status": ""}, {}, {"status": "DONE"}])
def test_a_bad_task_status_is_400_and_changes_nothing(standard_client, tree, task, data):
    response = standard_client.post(f"/accounts/{tree['paris'].pk}/tasks/{task.pk}/status/", data)

    doc = page(response, 400)
    section = element(doc, "section", class_="card-narrow")
    assert [text(node) for node in elements(section, "h1") + elements(section, "p")[:1]] == [
        "That did not work",
        "Unknown task status.",
    ]
    assert Task.objects.values_list("status", flat=True).get() == "open"


def test_task_status_refuses_get(standard_client, tree, task):
    response = standard_client.get(f"/accounts/{tree['paris'].pk}/tasks/{task.pk}/status/")

    assert response.status_code == 405
    assert Task.objects.values_list("status", flat=True).get() == "open"


@pytest.mark.parametrize(("method", "path"), [("get", "edit"), ("post", "status")])
def test_a_task_that_does_not_exist_is_404(standard_client, tree, method, path):
    response = getattr(standard_client, method)(
        f"/accounts/{tree['paris'].pk}/tasks/999999/{path}/", {"status": "done"}
    )

    assert response.status_code == 404


def test_tasks_of_an_account_that_does_not_exist_are_404(standard_client, db):
    assert standard_client.get("/accounts/999999/tasks/new/").status_code == 404
    assert standard_client.post("/accounts/999999/tasks/new/", {"title": "x"}).status_code == 404
    assert stored.tasks() == []


# Touchpoints


WHEN = datetime.datetime(2026, 11, 20, 14, 30, tzinfo=datetime.UTC)


def test_new_touchpoint_page_shows_its_fields(standard_client, tree, contacts):
    response = standard_client.get(f"/accounts/{tree['paris'].pk}/touchpoints/new/")

    assert text(element(page(response), "h1")) == "New touchpoint"
    form = _form(response)
    assert [
        (text(label), attribute(label, "for"))
        for label in elements(form, "label")
        if attribute(label, "for")
    ] == [
        ("Kind * (required)", "id_kind"),
        ("When * (required)", "id_happened_at"),
        ("Subject * (required)", "id_subject"),
        ("Notes", "id_notes"),
        ("Participants", "id_participants_search"),
    ]
    assert [
        text(option) for option in elements(element(form, "select", name="kind"), "option")
    ] == ["- Select an option -", "Call", "Email", "Meeting", "Note"]
    assert attribute(element(form, "input", name="happened_at"), "type") == "datetime-local"
    assert [text(b) for b in elements(form, "button")] == [
        "Save touchpoint",
        "Find contacts",
        "Save touchpoint",
    ]


def test_creating_a_touchpoint_records_author_and_participants(standard_client, tree, contacts):
    response = standard_client.post(
        f"/accounts/{tree['austin'].pk}/touchpoints/new/",
        {
            "kind": "meeting",
            "happened_at": "2026-11-20T14:30",
            "subject": "Kick-off",
            "notes": "Went well.\nNext: pilot.",
            "participants": _ids(contacts, "carl", "ian"),
        },
    )

    assert (response.status_code, response["Location"]) == (
        302,
        f"/accounts/{tree['austin'].pk}/#touchpoints-heading",
    )
    assert stored.touchpoints() == [
        (
            "Austin",
            "meeting",
            "Kick-off",
            WHEN,
            "Went well.\nNext: pilot.",
            "standard_user",
            sorted(_ids(contacts, "carl", "ian")),
        ),
    ]
    account_page = standard_client.get(response["Location"])
    assert messages(account_page) == ["Saved the touchpoint “Kick-off”."]
    assert _touchpoint_items(account_page) == [
        "Meeting Kick-off 20 Nov 2026, 14:30 · standard_user Edit With Carl Corbett , Ian Irwin "
        "Went well. Next: pilot.",
    ]


@pytest.fixture
def touchpoint(tree, contacts):
    touchpoint = TouchpointFactory(
        account=tree["paris"],
        kind=Touchpoint.Kind.CALL,
        subject="First call",
        happened_at=WHEN,
        notes="",
        author=StaffUserFactory(username="alex"),
    )
    touchpoint.participants.set([contacts["pierre"]])
    return touchpoint


def test_edit_touchpoint_page_shows_it(standard_client, tree, contacts, touchpoint):
    response = standard_client.get(
        f"/accounts/{tree['paris'].pk}/touchpoints/{touchpoint.pk}/edit/"
    )

    assert text(element(page(response), "h1")) == "Edit touchpoint"
    form = _form(response)
    assert attribute(element(form, "input", name="happened_at"), "value") == "2026-11-20T14:30"
    assert attribute(element(form, "input", name="subject"), "value") == "First call"
    assert [label for _, label, checked in _picker(form) if checked] == ["Pierre Paquet — Paris"]


def test_editing_a_touchpoint_keeps_its_author(standard_client, tree, contacts, touchpoint):
    response = standard_client.post(
        f"/accounts/{tree['paris'].pk}/touchpoints/{touchpoint.pk}/edit/",
        {
            "kind": "email",
            "happened_at": "2026-11-21T09:05",
            "subject": "Follow-up",
            "notes": "Sent the deck.",
            "participants": _ids(contacts, "pierre", "ada_corp"),
        },
    )

    assert (response.status_code, response["Location"]) == (
        302,
        f"/accounts/{tree['paris'].pk}/#touchpoints-heading",
    )
    assert stored.touchpoints() == [
        (
            "Paris",
            "email",
            "Follow-up",
            datetime.datetime(2026, 11, 21, 9, 5, tzinfo=datetime.UTC),
            "Sent the deck.",
            "alex",
            sorted(_ids(contacts, "pierre", "ada_corp")),
        ),
    ]
    assert messages(standard_client.get(response["Location"])) == [
        "Saved the touchpoint “Follow-up”."
    ]


# Both: what a refused post shows and leaves

# The new pages by path: (the fields of a valid post but its contacts, the picker's field name,
# the picker's label).
NEW_PAGES = {
    "tasks/new": ({"title": "Sneaky"}, "contacts", "Contacts"),
    "touchpoints/new": (
        {"kind": "call", "happened_at": "2026-11-20T14:30", "subject": "Sneaky"},
        "participants",
        "Participants",
    ),
}
STORED = {"tasks/new": stored.tasks, "touchpoints/new": stored.touchpoints}
OUTSIDE = "Pick contacts of this company hierarchy only: one of those sent is not one of them."


@pytest.mark.parametrize(
    ("path", "data", "errors"),
    [
        ("tasks/new", {"title": ""}, {"Title * (required)": ["This field is required."]}),
        (
            "tasks/new",
            {"title": "Call", "due_date": "tomorrow"},
            {"Due date": ["Enter a valid date."]},
        ),
        (
            "tasks/new",
            {"title": "Call", "owner": "999999"},
            {"Owner": ["Select a valid choice. That choice is not one of the available choices."]},
        ),
        (
            "touchpoints/new",
            {"kind": "", "happened_at": "", "subject": ""},
            {
                "Kind * (required)": ["This field is required."],
                "When * (required)": ["This field is required."],
                "Subject * (required)": ["This field is required."],
            },
        ),
        (
            "touchpoints/new",
            {"kind": "fax", "happened_at": "2026-11-20T14:30", "subject": "Fax"},
            {
                "Kind * (required)": [
                    "Select a valid choice. fax is not one of the available choices."
                ]
            },
        ),
        (
            "touchpoints/new",
            {"kind": "call", "happened_at": "yesterday", "subject": "Call"},
            {"When * (required)": ["Enter a valid date/time."]},
        ),
    ],
)
def test_creating_with_bad_fields_shows_the_message_at_the_field(
    standard_client, tree, path, data, errors
):
    response = standard_client.post(f"/accounts/{tree['corp'].pk}/{path}/", data)

    assert _field_errors(_form(response)) == errors
    assert STORED[path]() == []


@pytest.mark.parametrize("picked", [("otto",), ("nora",), ("carl", "otto"), ("carl", "nora")])
@pytest.mark.parametrize("path", NEW_PAGES)
def test_a_hand_made_post_with_a_contact_outside_the_hierarchy_is_refused(
    standard_client, tree, contacts, path, picked
):
    fields, picker, label = NEW_PAGES[path]

    response = standard_client.post(
        f"/accounts/{tree['corp'].pk}/{path}/", {**fields, picker: _ids(contacts, *picked)}
    )

    assert _field_errors(_form(response)) == {label: [OUTSIDE]}
    assert STORED[path]() == []


@pytest.mark.parametrize("path", NEW_PAGES)
def test_a_hand_made_post_with_a_contact_that_is_not_a_number_is_refused(
    standard_client, tree, contacts, path
):
    fields, picker, label = NEW_PAGES[path]

    response = standard_client.post(
        f"/accounts/{tree['corp'].pk}/{path}/", {**fields, picker: ["abc"]}
    )

    assert _field_errors(_form(response)) == {label: ["“abc” is not a valid value."]}
    assert STORED[path]() == []


# The edit page of the `task` or `touchpoint` fixture: (the fields of a valid post but its
# contacts, the picker's field name, the picker's label, what is stored).
EDITS = {
    "task": (
        {"title": "Changed"},
        "contacts",
        "Contacts",
        stored.tasks,
    ),
    "touchpoint": (
        {"kind": "note", "happened_at": "2026-11-21T09:05", "subject": "Changed"},
        "participants",
        "Participants",
        stored.touchpoints,
    ),
}


@pytest.mark.parametrize("kind", EDITS)
def test_editing_with_an_outsider_leaves_it(request, standard_client, tree, contacts, kind):
    item = request.getfixturevalue(kind)
    fields, picker, label, saved = EDITS[kind]
    before = saved()

    response = standard_client.post(
        f"/accounts/{tree['paris'].pk}/{kind}s/{item.pk}/edit/",
        {**fields, picker: _ids(contacts, "otto")},
    )

    assert _field_errors(_form(response)) == {label: [OUTSIDE]}
    assert saved() == before


@pytest.mark.parametrize(
    ("kind", "method", "path", "data"),
    [
        ("task", "get", "edit", {}),
        ("task", "post", "edit", {"title": "Hijacked"}),
        ("task", "post", "status", {"status": "done"}),
        ("touchpoint", "get", "edit", {}),
        (
            "touchpoint",
            "post",
            "edit",
            {"kind": "note", "happened_at": "2026-11-21T09:05", "subject": "Hijacked"},
        ),
    ],
)
@pytest.mark.parametrize("account", ["corp", "paris_sales", "other"])
def test_an_item_under_another_accounts_url_is_404(
    request, standard_client, tree, kind, method, path, data, account
):
    item = request.getfixturevalue(kind)
    saved = EDITS[kind][3]
    before = saved()

    response = getattr(standard_client, method)(
        f"/accounts/{tree[account].pk}/{kind}s/{item.pk}/{path}/", data
    )

    assert response.status_code == 404
    assert text(element(parse(response), "h1")) == "Not found"
    assert saved() == before
