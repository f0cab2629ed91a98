"""contacts/views/people.py's person page and form, one module: one page and its form.

The person page, /people/<id>/, and its profile form, /people/<id>/edit/ (SPEC §3.6); and
the query counts of the person page and the add-contact type-ahead at two data sizes."""

import datetime

import pytest

from contacts.models import Task
from tests import stored
from tests.factories import (
    ContactChangeFactory,
    MembershipFactory,
    PersonFactory,
    StaffUserFactory,
    TaskFactory,
    TouchpointFactory,
)
from tests.html import attribute, element, elements, messages, page, text


@pytest.fixture
def ada(tree, roles):
    """Ada: key contact of Corp, a member (not a contact) of Paris, a contact of Other; with
    history, two tasks and two touchpoints, and one task and touchpoint without her."""
    ada = PersonFactory(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@analytical.example",
        title="Analyst",
        phone="+44 20 7946 0001",
    )
    corp = MembershipFactory(
        person=ada,
        account=tree["corp"],
        role=roles["Corporate", "Executive sponsor"],
        is_key_contact=True,
    )
    paris = MembershipFactory(person=ada, account=tree["paris"], is_contact=False)
    other = MembershipFactory(
        person=ada, account=tree["other"], role=roles["Corporate", "Champion"]
    )
    carl = MembershipFactory(
        person=PersonFactory(first_name="Carl", last_name="Corbett", email="carl@x.example"),
        account=tree["corp"],
    )

    pat = StaffUserFactory(username="pat", first_name="Pat", last_name="Lee")
    sam = StaffUserFactory(username="sam")

    def at(day, hour):
        return datetime.datetime(2026, 11, day, hour, 5, tzinfo=datetime.UTC)

    for membership, field, old, new, source, by, day, hour in [
        (corp, "contact", "no", "yes", "import", None, 1, 9),
        (corp, "role", "", "Executive sponsor", "app", pat, 2, 10),
        (corp, "key_contact", "no", "yes", "admin", sam, 3, 11),
        (paris, "contact", "yes", "no", "app", pat, 4, 12),
        (carl, "contact", "no", "yes", "app", pat, 5, 13),
    ]:
        ContactChangeFactory(
            membership=membership,
            field=field,
            old_value=old,
            new_value=new,
            source=source,
            staff_user=by,
            changed_at=at(day, hour),
        )

    renewal = TaskFactory(
        account=tree["corp"], title="Renewal call", due_date=datetime.date(2026, 12, 1), owner=pat
    )
    renewal.contacts.set([corp, other])  # linked twice, listed once
    audit = TaskFactory(account=tree["other"], title="Audit", status=Task.Status.DONE)
    audit.contacts.set([other])
    TaskFactory(account=tree["corp"], title="Not hers").contacts.set([carl])

    kickoff = TouchpointFactory(
        account=tree["corp"], kind="meeting", subject="Kick-off", happened_at=at(20, 14), author=pat
    )
    kickoff.participants.set([corp, carl])
    note = TouchpointFactory(
        account=tree["other"],
        kind="note",
        subject="Met at a fair",
        happened_at=at(10, 8),
        author=None,
    )
    note.participants.set([other])
    TouchpointFactory(
        account=tree["corp"], subject="Without her", happened_at=at(21, 9)
    ).participants.set([carl])
    return ada


# Reading pages


def _section(doc, heading_id):
    return element(doc, "section", aria_labelledby=heading_id)


def _rows(section):
    return [
        tuple(text(td) for td in elements(tr, "td"))
        for tr in elements(section, "tr")
        if elements(tr, "td")
    ]


def _items(section):
    return [text(li) for li in elements(section, "li")]


# The person page


def test_person_page_shows_the_profile(viewer_client, ada):
    doc = page(viewer_client.get(f"/people/{ada.pk}/"))

    head = element(doc, "div", class_="page-head")
    assert text(element(head, "h1")) == "Ada Lovelace"
    assert text(element(head, "p", class_="meta")) == (
        "ada@analytical.example Analyst +44 20 7946 0001"
    )
    assert attribute(element(head, "a"), "href") == "mailto:ada@analytical.example"


def test_person_page_lists_memberships_across_accounts(viewer_client, ada, tree):
    doc = page(viewer_client.get(f"/people/{ada.pk}/"))

    section = _section(doc, "memberships-heading")
    assert _rows(section) == [
        ("Corp", "Corporate", "Executive sponsor", "Yes", "♛ Yes", "Active"),
        ("Paris", "Site", "—", "No", "No", "Active"),
        ("Other", "Corporate", "Champion", "Yes", "No", "Active"),
    ]
    assert [attribute(a, "href") for a in elements(section, "a")] == [
        tree["corp"].get_absolute_url(),
        tree["paris"].get_absolute_url(),
        tree["other"].get_absolute_url(),
    ]
    crowns = elements(section, "span", class_="crown")
    assert [attribute(crown, "aria-label") for crown in crowns] == ["Key contact"]


def test_person_page_shows_the_contact_history_newest_first(viewer_client, ada):
    doc = page(viewer_client.get(f"/people/{ada.pk}/"))

    assert _rows(_section(doc, "history-heading")) == [
        ("4 Nov 2026, 12:05", "Paris", "Contact: yes → no", "Pat Lee", "App"),
        ("3 Nov 2026, 11:05", "Corp", "Key contact: no → yes", "sam", "Admin"),
        ("2 Nov 2026, 10:05", "Corp", "Account role: — → Executive sponsor", "Pat Lee", "App"),
        ("1 Nov 2026, 09:05", "Corp", "Contact: no → yes", "—", "Import"),
    ]


def test_person_page_lists_the_tasks_and_touchpoints_linked_to_the_person(viewer_client, ada):
    doc = page(viewer_client.get(f"/people/{ada.pk}/"))

    # Tasks in the model's order: open before done, then by due date (undated last).
    assert _items(_section(doc, "person-tasks-heading")) == [
        "Open Renewal call 1 Dec 2026 · Corp",
        "Done Audit no due date · Other",
    ]
    assert _items(_section(doc, "person-touchpoints-heading")) == [
        "Meeting Kick-off 20 Nov 2026 · Corp",
        "Note Met at a fair 10 Nov 2026 · Other",
    ]


def test_person_page_of_someone_new_shows_the_empty_states(viewer_client, db):
    grace = PersonFactory(first_name="Grace", last_name="Hopper", email="grace@navy.example")

    doc = page(viewer_client.get(f"/people/{grace.pk}/"))

    assert text(element(doc, "p", class_="meta")) == "grace@navy.example"
    assert [
        text(element(_section(doc, heading), "p", class_="muted"))
        for heading in (
            "memberships-heading",
            "person-tasks-heading",
            "person-touchpoints-heading",
            "history-heading",
        )
    ] == [
        "Not a member of any account.",
        "No tasks linked to Grace.",
        "No touchpoints with Grace.",
        "No changes recorded yet.",
    ]


def test_person_page_shows_names_with_html_as_text(viewer_client, db):
    mallory = PersonFactory(first_name="<script>alert(1)</script>", last_name="Mallory")

    text = viewer_client.get(f"/people/{mallory.pk}/").content.decode()

    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Mallory" in text


def test_person_page_of_a_person_that_does_not_exist_is_404(viewer_client, db):
    response = viewer_client.get("/people/999999/")

    assert response.status_code == 404
    assert text(element(page(response, 404), "h1")) == "Not found"


def test_person_page_has_no_edit_link_for_a_viewer(viewer_client, ada):
    doc = page(viewer_client.get(f"/people/{ada.pk}/"))

    assert [text(a) for a in elements(doc, "a", class_="button")] == []
    assert f"/people/{ada.pk}/edit/" not in str(doc)


@pytest.mark.parametrize(
    "client_fixture", ["standard_client", "advanced_client", "global_admin_client"]
)
def test_person_page_has_an_edit_link_for_standard_and_above(request, client_fixture, ada):
    client = request.getfixturevalue(client_fixture)

    doc = page(client.get(f"/people/{ada.pk}/"))

    links = [(text(link), attribute(link, "href")) for link in elements(doc, "a", class_="button")]
    # Global admins may also forget the person (tests/contacts/test_privacy_forget.py);
    # Advanced users and Global admins may merge them (tests/contacts/test_merge_views.py).
    assert links[0] == ("Edit profile", f"/people/{ada.pk}/edit/")
    merging = [
        ("Find duplicates", "/people/duplicates/"),
        ("Merge with…", f"/people/{ada.pk}/merge/"),
    ]
    expected = {
        "standard_client": 1,
        "advanced_client": 1 + len(merging),
        "global_admin_client": 2 + len(merging),
    }
    assert len(links) == expected[client_fixture]
    if client_fixture != "standard_client":
        assert links[-2:] == merging


def test_removing_a_contact_keeps_the_person_page(standard_client, ada, tree):
    corp = ada.memberships.get(account=tree["corp"])

    standard_client.post(f"/people/contacts/{corp.pk}/remove/")

    doc = page(standard_client.get(f"/people/{ada.pk}/"))
    assert text(element(doc, "h1")) == "Ada Lovelace"
    assert _rows(_section(doc, "memberships-heading"))[0] == (
        "Corp",
        "Corporate",
        "Executive sponsor",
        "No",
        "No",
        "Active",
    )
    history = _rows(_section(doc, "history-heading"))
    # Written in one go, contact then key contact: the newest first shows key contact first.
    assert [row[1:] for row in history] == [
        ("Corp", "Key contact: yes → no", "standard_user", "App"),
        ("Corp", "Contact: yes → no", "standard_user", "App"),
        ("Paris", "Contact: yes → no", "Pat Lee", "App"),
        ("Corp", "Key contact: no → yes", "sam", "Admin"),
        ("Corp", "Account role: — → Executive sponsor", "Pat Lee", "App"),
        ("Corp", "Contact: no → yes", "—", "Import"),
    ]


# Editing the profile


def test_edit_profile_page_shows_the_fields(standard_client, ada):
    doc = page(standard_client.get(f"/people/{ada.pk}/edit/"))

    assert text(element(doc, "h1")) == "Edit Ada Lovelace"
    form = element(doc, "form", class_="form-grid")
    assert [(text(label), attribute(label, "for")) for label in elements(form, "label")] == [
        ("Email * (required)", "id_email"),
        ("First Name * (required)", "id_first_name"),
        ("Last Name * (required)", "id_last_name"),
        ("Title", "id_title"),
        ("Phone", "id_phone"),
    ]
    assert {
        attribute(field, "name"): attribute(field, "value")
        for field in elements(form, "input")
        if attribute(field, "name") != "csrfmiddlewaretoken"
    } == {
        "email": "ada@analytical.example",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "title": "Analyst",
        "phone": "+44 20 7946 0001",
    }
    assert attribute(element(form, "a", class_="button-quiet"), "href") == f"/people/{ada.pk}/"


def test_edit_profile_saves_and_goes_back_to_the_person(standard_client, ada):
    response = standard_client.post(
        f"/people/{ada.pk}/edit/",
        {
            "email": " ada.king@analytical.example ",
            "first_name": " Augusta Ada ",
            "last_name": "King",
            "title": "Countess",
            "phone": "",
        },
    )

    assert (response.status_code, response["Location"]) == (302, f"/people/{ada.pk}/")
    assert stored.people()[0] == (
        "ada.king@analytical.example",
        "Augusta Ada",
        "King",
        "Countess",
        "",
    )
    after = standard_client.get(response["Location"])
    assert messages(after) == ["Saved Augusta Ada King."]
    assert text(element(page(after), "h1")) == "Augusta Ada King"


def test_edit_profile_may_change_the_case_of_the_own_email(standard_client, ada):
    response = standard_client.post(
        f"/people/{ada.pk}/edit/",
        {"email": "Ada@Analytical.Example", "first_name": "Ada", "last_name": "Lovelace"},
    )

    assert response.status_code == 302
    assert stored.people()[0] == ("Ada@Analytical.Example", "Ada", "Lovelace", "", "")


def _edit_errors(response):
    form = element(page(response), "form", class_="form-grid")
    errors = {}
    for field in elements(form, "div", class_="field"):
        messages = [text(p) for p in elements(field, "p", class_="field-error")]
        if messages:
            errors[text(element(field, "label"))] = messages
    return errors


@pytest.mark.parametrize("email", ["carl@x.example", "CARL@X.Example", " Carl@x.example "])
def test_edit_profile_refuses_another_persons_email_in_any_case(standard_client, ada, email):
    before = stored.people()

    response = standard_client.post(
        f"/people/{ada.pk}/edit/",
        {"email": email, "first_name": "Ada", "last_name": "Lovelace"},
    )

    assert _edit_errors(response) == {
        "Email * (required)": ["Another person already has this email."]
    }
    assert stored.people() == before


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"email": "", "first_name": "", "last_name": ""},
            {
                "Email * (required)": ["This field is required."],
                "First Name * (required)": ["This field is required."],
                "Last Name * (required)": ["This field is required."],
            },
        ),
        (
            {"email": "ada@", "first_name": "Ada", "last_name": "Lovelace"},
            {"Email * (required)": ["Enter a valid email address."]},
        ),
    ],
)
def test_edit_profile_with_bad_fields_shows_the_message_at_the_field(
    standard_client, ada, data, errors
):
    before = stored.people()

    response = standard_client.post(f"/people/{ada.pk}/edit/", data)

    assert _edit_errors(response) == errors
    assert stored.people() == before


def test_edit_profile_refused_keeps_the_stored_name_in_the_heading(standard_client, ada):
    response = standard_client.post(
        f"/people/{ada.pk}/edit/",
        {"email": "carl@x.example", "first_name": "Augusta", "last_name": "King"},
    )

    doc = page(response)
    assert text(element(doc, "h1")) == "Edit Ada Lovelace"


@pytest.mark.parametrize("method", ["get", "post"])
def test_edit_profile_of_a_person_that_does_not_exist_is_404(standard_client, db, method):
    response = getattr(standard_client, method)(
        "/people/999999/edit/", {"email": "x@x.example", "first_name": "X", "last_name": "Y"}
    )

    assert response.status_code == 404
    assert stored.people() == []


# Query counts at two sizes


def _grow(tree, roles, size):
    """`size` memberships for Ada, each with history, a task and a touchpoint by its own staff
    user."""
    keys = ["emea", "berlin", "amer"]
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@analytical.example")
    for n in range(size):
        staff_user = StaffUserFactory(username=f"grow{n}", first_name="Grow", last_name=str(n))
        membership = MembershipFactory(
            person=ada,
            account=tree[keys[n]],
            role=roles["Region", "Champion"]
            if tree[keys[n]].account_type.name == "Region"
            else None,
            is_key_contact=n == 0,
        )
        for field in ("contact", "key_contact"):
            ContactChangeFactory(membership=membership, field=field, staff_user=staff_user)
        task = TaskFactory(
            account=tree[keys[n]], owner=staff_user, due_date=datetime.date(2026, 12, n + 1)
        )
        task.contacts.set([membership])
        touchpoint = TouchpointFactory(account=tree[keys[n]], author=staff_user)
        touchpoint.participants.set([membership])
    return ada


# Session and staff user (2); the permission check of the page (1: the staff user's own and
# group permissions) and the Global-admin check of the navigation (1); the person, their
# memberships, history, tasks and touchpoints (5); the merges into them (1).
PERSON_PAGE_QUERIES = 10


@pytest.mark.parametrize("size", (1, 3))
def test_person_page_query_count(standard_client, tree, roles, django_assert_num_queries, size):
    ada = _grow(tree, roles, size)

    with django_assert_num_queries(PERSON_PAGE_QUERIES):
        response = standard_client.get(f"/people/{ada.pk}/")

    doc = page(response)
    assert len(_rows(_section(doc, "memberships-heading"))) == size
    assert len(_rows(_section(doc, "history-heading"))) == 2 * size
    assert len(_items(_section(doc, "person-tasks-heading"))) == size
    assert len(_items(_section(doc, "person-touchpoints-heading"))) == size
