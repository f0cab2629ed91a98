"""contacts/views/segments.py, one module: the segment pages share their fixtures.

Saved segments of the People list (SPEC §3.7, §5): save, open, list, rename, delete.

A segment is the /people/ query string under a name. `standard_client` is the owner in most
tests; other staff users sign in with clients of their own.
"""

from functools import partial

import pytest
from django.test import Client

from config import staff
from contacts.models import Segment
from tests import html
from tests.factories import MembershipFactory, PersonFactory, StaffUserFactory
from tests.html import attribute, messages, page, text

# This module's searches look only under the node they start from, not at the node itself.
element = partial(html.element, itself=False)
elements = partial(html.elements, itself=False)

ALL_CONTACTS = "contact=yes&cols=name&cols=account"


@pytest.fixture
def people(tree):
    """Contacts at Emea, Paris, Paris Sales, Berlin and Other (Otto, a key contact); a member
    at Corp who is not a contact."""
    for account, first, last, contact in [
        ("emea", "Emil", "Eames", True),
        ("paris", "Pierre", "Paquet", True),
        ("paris_sales", "Sally", "Sauer", True),
        ("berlin", "Bert", "Brandt", True),
        ("other", "Otto", "Ostrom", True),
        ("corp", "Nora", "Nobody", False),
    ]:
        MembershipFactory(
            account=tree[account],
            is_contact=contact,
            is_key_contact=first == "Otto",
            person=PersonFactory(
                first_name=first, last_name=last, email=f"{first.lower()}@x.example"
            ),
        )
    return tree


def _signed_in(group, username):
    user = StaffUserFactory(username=username, group=group)
    client = Client()
    client.force_login(user)
    client.staff_user = user
    return client


@pytest.fixture
def other_client(db):
    """Another Standard staff user."""
    return _signed_in(staff.STANDARD, "sam")


@pytest.fixture
def admin_client_(db):
    return _signed_in(staff.GLOBAL_ADMIN, "gina")


@pytest.fixture
def viewer(db):
    return _signed_in(staff.VIEWER, "vic")


@pytest.fixture
def segments(standard_client, other_client):
    """Two segments of each Standard staff user: one private, one shared."""
    me, sam = standard_client.staff_user, other_client.staff_user
    return {
        "mine": Segment.objects.create(owner=me, name="My contacts", query=ALL_CONTACTS),
        "mine shared": Segment.objects.create(
            owner=me, name="Key contacts", shared=True, query="key=yes"
        ),
        "sams": Segment.objects.create(owner=sam, name="Sam's private list", query="contact=no"),
        "sams shared": Segment.objects.create(
            owner=sam, name="Berlin people", shared=True, query="account=BERLIN"
        ),
    }


# Reading the pages


def _heading(response):
    return text(element(page(response), "h1"))


def _rows(response):
    tables = elements(page(response), "table", class_="people-table")
    if not tables:
        return []
    return [
        [text(td) for td in elements(tr, "td")]
        for tr in elements(element(tables[0], "tbody"), "tr")
    ]


def _segment_rows(response):
    """(name, link, owner, shared) of each row of the Saved segments table."""
    tables = elements(page(response), "table")
    if not tables:
        return []
    rows = []
    for tr in elements(element(tables[0], "tbody"), "tr"):
        cells = elements(tr, "td")
        link = element(cells[0], "a")
        rows.append((text(link), attribute(link, "href"), text(cells[1]), text(cells[2])))
    return rows


def _segment_actions(response):
    """{segment name: the actions of its row}, for rows that have any."""
    actions = {}
    for tr in elements(element(page(response), "tbody"), "tr"):
        forms = elements(tr, "form")
        if forms:
            name = text(element(elements(tr, "td")[0], "a"))
            actions[name] = [
                (attribute(form, "action"), text(element(form, "button"))) for form in forms
            ]
    return actions


def _save_query(response):
    """The query the "Save as a segment" form would save, or None when there is no form."""
    forms = elements(page(response), "form", action="/people/segments/new/")
    if not forms:
        return None
    return attribute(element(forms[0], "input", name="query"), "value")


def _download_links(response):
    return [
        (text(link), attribute(link, "href"))
        for link in elements(page(response), "a")
        if (attribute(link, "href") or "").startswith("/people/download.")
    ]


# Save


def test_segment_save_keeps_name_query_and_owner(standard_client, people):
    response = standard_client.post(
        "/people/segments/new/", {"name": "All contacts, name and account", "query": ALL_CONTACTS}
    )

    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/people/segments/{segment.pk}/"
    assert (segment.owner, segment.name, segment.shared, segment.query, segment.account_label) == (
        standard_client.staff_user,
        "All contacts, name and account",
        False,
        ALL_CONTACTS,
        "",
    )


def test_segment_save_and_rename_read_a_name_alike(standard_client, people):
    """Runs of spaces are one space before the length is checked, saved or renamed."""
    padded = "  Key " + "x" * 91 + "   list  "  # 100 characters once the spaces are folded

    standard_client.post("/people/segments/new/", {"name": padded, "query": ALL_CONTACTS})
    segment = Segment.objects.get()
    saved = segment.name
    standard_client.post(f"/people/segments/{segment.pk}/rename/", {"name": padded + " "})
    segment.refresh_from_db()

    assert saved == segment.name == "Key " + "x" * 91 + " list"


def test_segment_save_shared(standard_client, people):
    standard_client.post(
        "/people/segments/new/", {"name": "For everyone", "shared": "on", "query": "key=yes"}
    )

    assert list(Segment.objects.values_list("name", "shared", "query")) == [
        ("For everyone", True, "key=yes")
    ]


def test_segment_save_remembers_the_account_by_name_and_id(standard_client, people):
    standard_client.post(
        "/people/segments/new/",
        {"name": "Paris", "query": "account=PARIS&scope=subtree&contact=yes"},
    )

    assert Segment.objects.get().account_label == "Paris (PARIS)"


def test_segment_save_then_opens_it_with_a_message(standard_client, people):
    response = standard_client.post(
        "/people/segments/new/", {"name": "All contacts", "query": ALL_CONTACTS}, follow=True
    )

    segment = Segment.objects.get()
    assert response.redirect_chain == [
        (f"/people/segments/{segment.pk}/", 302),
        (f"/people/?contact=yes&cols=name&cols=account&segment={segment.pk}", 302),
    ]
    assert messages(response) == ["Saved the segment “All contacts”."]
    assert _heading(response) == "All contacts"
    assert _rows(response) == [
        ["Bert Brandt", "Berlin"],
        ["Emil Eames", "Emea"],
        ["Otto Ostrom", "Other"],
        ["Pierre Paquet", "Paris"],
        ["Sally Sauer", "Paris Sales"],
    ]


def _save_form_state(response):
    """What the "Save as a segment" form of a page answered with 400 shows: the name typed,
    the query it holds, each field's errors and the name input's aria attributes."""
    form = element(page(response, 400), "form", action="/people/segments/new/")
    name = element(form, "input", name="name")
    return {
        "name": attribute(name, "value"),
        "query": attribute(element(form, "input", name="query"), "value"),
        "errors": [
            (
                attribute(errors, "id"),
                [text(p) for p in elements(errors, "p", class_="field-error")],
            )
            for errors in elements(form, "div", class_="field-errors")
        ],
        "aria": (attribute(name, "aria-invalid"), attribute(name, "aria-describedby")),
    }


@pytest.mark.parametrize("name", ["", "   "])
def test_segment_save_needs_a_name(standard_client, people, name):
    response = standard_client.post(
        "/people/segments/new/", {"name": name, "query": ALL_CONTACTS, "shared": "on"}
    )

    assert Segment.objects.count() == 0
    assert _save_form_state(response) == {
        "name": name or None,
        "query": ALL_CONTACTS,
        "errors": [("segment_name_error", ["Give the segment a name."])],
        "aria": ("true", "segment_name_error"),
    }
    assert ("checked", None) in element(page(response, 400), "input", name="shared").attributes
    # The list the staff user was looking at, as it was.
    assert text(element(page(response, 400), "h1")) == "People"
    assert [text(td) for td in elements(element(page(response, 400), "tbody"), "td")][:2] == [
        "Bert Brandt",
        "Berlin",
    ]


def test_segment_save_name_of_at_most_100_characters(standard_client, people):
    response = standard_client.post(
        "/people/segments/new/", {"name": "x" * 101, "query": ALL_CONTACTS}
    )

    assert Segment.objects.count() == 0
    assert _save_form_state(response) == {
        "name": "x" * 101,
        "query": ALL_CONTACTS,
        "errors": [
            (
                "segment_name_error",
                ["Ensure this value has at most 100 characters (it has 101)."],
            )
        ],
        "aria": ("true", "segment_name_error"),
    }


def test_segment_save_with_errors_links_back_to_the_people_list(standard_client, tree):
    """The list comes back at the save URL, which answers POST only: its column and page links
    name /people/ and keep the filters."""
    for n in range(51):
        MembershipFactory(
            account=tree["paris"],
            is_contact=True,
            person=PersonFactory(first_name="Grace", last_name=f"Grow{n:02d}"),
        )

    response = standard_client.post(
        "/people/segments/new/", {"name": "", "query": "contact=yes&cols=name"}
    )

    doc = page(response, 400)
    assert attribute(element(doc, "a", rel="next"), "href") == (
        "/people/?contact=yes&cols=name&page=2"
    )
    assert [
        attribute(link, "href")
        for link in elements(element(doc, "details", class_="add-column"), "a")
    ][:2] == [
        "/people/?contact=yes&cols=name&cols=email",
        "/people/?contact=yes&cols=name&cols=first_name",
    ]


def test_segment_save_of_filters_too_long_to_keep_says_so(standard_client, people):
    query = "q=" + "x" * 4000

    response = standard_client.post("/people/segments/new/", {"name": "Long", "query": query})

    assert Segment.objects.count() == 0
    assert [text(p) for p in elements(page(response, 400), "p", role="alert")] == [
        "These filters are too long to save as a segment: choose fewer of them."
    ]


def test_people_page_save_form_is_the_segment_form_without_errors(standard_client, people):
    form = element(
        page(standard_client.get(f"/people/?{ALL_CONTACTS}")),
        "form",
        action="/people/segments/new/",
    )

    assert [(attribute(label, "for"), text(label)) for label in elements(form, "label")] == [
        ("segment_name", "Segment name"),
        ("segment_shared", "Share with every staff user"),
    ]
    name = element(form, "input", name="name")
    assert (attribute(name, "maxlength"), ("required", None) in name.attributes) == ("100", True)
    assert (attribute(name, "aria-invalid"), attribute(name, "aria-describedby")) == (None, None)
    assert elements(form, "div", class_="field-errors") == []


def test_people_page_save_form_holds_the_filters_without_page_or_segment(
    standard_client, people, segments
):
    response = standard_client.get(
        f"/people/?contact=yes&cols=name&cols=email&page=1&segment={segments['mine'].pk}"
    )

    assert _save_query(response) == "contact=yes&cols=name&cols=email"


# Open


def test_segment_open_redirects_to_its_people_list(standard_client, people, segments):
    segment = segments["mine"]

    response = standard_client.get(f"/people/segments/{segment.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"/people/?{ALL_CONTACTS}&segment={segment.pk}"


def test_segment_open_shows_its_name_and_its_rows(standard_client, people, segments):
    response = standard_client.get(f"/people/segments/{segments['mine'].pk}/", follow=True)

    doc = page(response)
    assert text(element(doc, "title")) == "My contacts · Unified Contacts"
    assert _heading(response) == "My contacts"
    assert text(element(element(doc, "div", class_="page-head"), "p")) == (
        "A saved segment, by standard_user. Everyone at your customers' accounts: filter, "
        "choose the columns, download."
    )
    assert _rows(response) == [
        ["Bert Brandt", "Berlin"],
        ["Emil Eames", "Emea"],
        ["Otto Ostrom", "Other"],
        ["Pierre Paquet", "Paris"],
        ["Sally Sauer", "Paris Sales"],
    ]
    assert messages(response) == []


def test_segment_open_of_a_shared_segment_of_someone_else(standard_client, people, segments):
    response = standard_client.get(f"/people/segments/{segments['sams shared'].pk}/", follow=True)

    assert _heading(response) == "Berlin people"
    doc = page(response)
    assert text(element(element(doc, "div", class_="page-head"), "p")).startswith(
        "A saved segment, shared, by sam."
    )
    assert _rows(response) == [["Bert Brandt", "bert@x.example", "Berlin", "Site", "—", "no"]]


def test_segment_open_of_a_private_segment_of_someone_else_is_not_found(
    standard_client, people, segments
):
    assert standard_client.get(f"/people/segments/{segments['sams'].pk}/").status_code == 404


def test_segment_open_of_a_missing_segment_is_not_found(standard_client, people):
    assert standard_client.get("/people/segments/999999/").status_code == 404


def test_people_page_ignores_a_segment_it_may_not_show(standard_client, people, segments):
    response = standard_client.get(f"/people/?contact=no&segment={segments['sams'].pk}")

    assert _heading(response) == "People"
    assert _rows(response) == [["Nora Nobody", "nora@x.example", "Corp", "Corporate", "—", "no"]]


def test_people_page_ignores_a_segment_parameter_that_is_not_a_number(standard_client, people):
    response = standard_client.get("/people/?contact=no&segment=abc")

    assert _heading(response) == "People"


# The list


def test_segment_list_shows_own_and_shared_segments(standard_client, segments):
    response = standard_client.get("/people/segments/")

    s = segments
    assert _segment_rows(response) == [
        ("Berlin people", f"/people/segments/{s['sams shared'].pk}/", "sam", "Yes"),
        ("Key contacts", f"/people/segments/{s['mine shared'].pk}/", "standard_user", "Yes"),
        ("My contacts", f"/people/segments/{s['mine'].pk}/", "standard_user", "No"),
    ]


def test_segment_list_of_the_other_staff_user(other_client, segments):
    response = other_client.get("/people/segments/")

    s = segments
    assert _segment_rows(response) == [
        ("Berlin people", f"/people/segments/{s['sams shared'].pk}/", "sam", "Yes"),
        ("Key contacts", f"/people/segments/{s['mine shared'].pk}/", "standard_user", "Yes"),
        ("Sam's private list", f"/people/segments/{s['sams'].pk}/", "sam", "No"),
    ]


def test_segment_list_offers_rename_and_delete_on_own_segments_only(standard_client, segments):
    response = standard_client.get("/people/segments/")

    s = segments
    assert _segment_actions(response) == {
        "Key contacts": [
            (f"/people/segments/{s['mine shared'].pk}/rename/", "Rename"),
            (f"/people/segments/{s['mine shared'].pk}/delete/", "Delete"),
        ],
        "My contacts": [
            (f"/people/segments/{s['mine'].pk}/rename/", "Rename"),
            (f"/people/segments/{s['mine'].pk}/delete/", "Delete"),
        ],
    }


def test_segment_list_offers_a_global_admin_rename_and_delete_on_every_row(admin_client_, segments):
    response = admin_client_.get("/people/segments/")

    s = segments
    assert _segment_actions(response) == {
        "Berlin people": [
            (f"/people/segments/{s['sams shared'].pk}/rename/", "Rename"),
            (f"/people/segments/{s['sams shared'].pk}/delete/", "Delete"),
        ],
        "Key contacts": [
            (f"/people/segments/{s['mine shared'].pk}/rename/", "Rename"),
            (f"/people/segments/{s['mine shared'].pk}/delete/", "Delete"),
        ],
    }


def _rename_boxes(response):
    """(label, for, and the id, name, value, maxlength, required of its input) of each rename
    box on the Saved segments page."""
    boxes = []
    for form in elements(page(response), "form", class_="rename-form"):
        label = element(form, "label")
        box = element(form, "input", type="text")
        boxes.append(
            (
                text(label),
                attribute(label, "for"),
                *(attribute(box, name) for name in ("id", "name", "value", "maxlength")),
                "required" in dict(box.attributes),
            )
        )
    return boxes


def test_segment_list_rename_boxes_are_labelled_with_their_segment_and_ids_of_their_own(
    admin_client_, segments
):
    response = admin_client_.get("/people/segments/")

    berlin, key = segments["sams shared"].pk, segments["mine shared"].pk
    assert _rename_boxes(response) == [
        (
            "New name for Berlin people",
            f"rename-{berlin}-name",
            f"rename-{berlin}-name",
            "name",
            "Berlin people",
            "100",
            True,
        ),
        (
            "New name for Key contacts",
            f"rename-{key}-name",
            f"rename-{key}-name",
            "name",
            "Key contacts",
            "100",
            True,
        ),
    ]


def test_segment_list_empty(standard_client, db):
    response = standard_client.get("/people/segments/")

    assert _segment_rows(response) == []
    assert text(element(page(response), "div", class_="empty")) == (
        "No saved segments yet. Filter people and save a segment"
    )


def test_people_page_links_to_the_saved_segments_with_their_number(standard_client, segments):
    doc = page(standard_client.get("/people/"))

    links = elements(doc, "a", href="/people/segments/")
    assert [text(link) for link in links] == ["Saved segments (3)"]


def test_segment_names_are_escaped(standard_client, people):
    segment = Segment.objects.create(
        owner=standard_client.staff_user, name="<script>alert(1)</script>", query="key=yes"
    )

    listed = standard_client.get("/people/segments/").content.decode()
    opened = standard_client.get(f"/people/?key=yes&segment={segment.pk}").content.decode()

    assert "<script>alert(" not in listed
    assert "<script>alert(" not in opened
    # The link, the rename field's label and value, and the Delete button's label.
    assert listed.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4
    # The title and the heading.
    assert opened.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2


# Rename


def test_segment_rename_by_its_owner(standard_client, segments):
    segment = segments["mine"]

    response = standard_client.post(
        f"/people/segments/{segment.pk}/rename/", {"name": "  Every   contact "}, follow=True
    )

    assert response.redirect_chain == [("/people/segments/", 302)]
    assert messages(response) == ["Renamed the segment to “Every contact”."]
    segment.refresh_from_db()
    assert (segment.name, segment.query) == ("Every contact", ALL_CONTACTS)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "A segment needs a name."),
        ({"name": "x" * 101}, "Ensure this value has at most 100 characters (it has 101)."),
    ],
    ids=["no name sent", "too long"],
)
def test_segment_rename_with_a_bad_name_says_so_and_keeps_the_name(
    standard_client, segments, data, error
):
    segment = segments["mine"]
    saved_at = segment.updated_at

    response = standard_client.post(f"/people/segments/{segment.pk}/rename/", data, follow=True)

    assert response.redirect_chain == [("/people/segments/", 302)]
    assert messages(response) == [error]
    segment.refresh_from_db()
    assert (segment.name, segment.updated_at) == ("My contacts", saved_at)


def test_segment_rename_to_nothing_keeps_the_name(standard_client, segments):
    segment = segments["mine"]

    response = standard_client.post(
        f"/people/segments/{segment.pk}/rename/", {"name": "   "}, follow=True
    )

    assert messages(response) == ["A segment needs a name."]
    segment.refresh_from_db()
    assert segment.name == "My contacts"


@pytest.mark.parametrize("key", ["sams", "sams shared"])
def test_segment_rename_of_someone_elses_segment_is_not_found(standard_client, segments, key):
    segment = segments[key]

    response = standard_client.post(f"/people/segments/{segment.pk}/rename/", {"name": "Mine now"})

    assert response.status_code == 404
    segment.refresh_from_db()
    assert segment.name == {"sams": "Sam's private list", "sams shared": "Berlin people"}[key]


@pytest.mark.parametrize("key", ["sams", "sams shared", "mine"])
def test_segment_rename_by_a_global_admin(admin_client_, segments, key):
    segment = segments[key]

    response = admin_client_.post(f"/people/segments/{segment.pk}/rename/", {"name": "Tidied"})

    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.owner.username) == (
        "Tidied",
        {"sams": "sam", "sams shared": "sam", "mine": "standard_user"}[key],
    )


def test_segment_rename_needs_post(standard_client, segments):
    response = standard_client.get(f"/people/segments/{segments['mine'].pk}/rename/")

    assert response.status_code == 405


# Delete


def test_segment_delete_by_its_owner(standard_client, segments):
    segment = segments["mine"]

    response = standard_client.post(f"/people/segments/{segment.pk}/delete/", follow=True)

    assert response.redirect_chain == [("/people/segments/", 302)]
    assert messages(response) == ["Deleted the segment “My contacts”."]
    assert sorted(Segment.objects.values_list("name", flat=True)) == [
        "Berlin people",
        "Key contacts",
        "Sam's private list",
    ]


@pytest.mark.parametrize("key", ["sams", "sams shared"])
def test_segment_delete_of_someone_elses_segment_is_not_found(standard_client, segments, key):
    response = standard_client.post(f"/people/segments/{segments[key].pk}/delete/")

    assert response.status_code == 404
    assert Segment.objects.count() == 4


@pytest.mark.parametrize("key", ["sams", "sams shared", "mine"])
def test_segment_delete_by_a_global_admin(admin_client_, segments, key):
    response = admin_client_.post(f"/people/segments/{segments[key].pk}/delete/")

    assert response.status_code == 302
    assert not Segment.objects.filter(pk=segments[key].pk).exists()
    assert Segment.objects.count() == 3


def test_segment_delete_needs_post(standard_client, segments):
    response = standard_client.get(f"/people/segments/{segments['mine'].pk}/delete/")

    assert response.status_code == 405
    assert Segment.objects.count() == 4


# Viewer: may look, not save


def test_viewer_sees_shared_segments_without_actions(viewer, segments):
    response = viewer.get("/people/segments/")

    s = segments
    assert _segment_rows(response) == [
        ("Berlin people", f"/people/segments/{s['sams shared'].pk}/", "sam", "Yes"),
        ("Key contacts", f"/people/segments/{s['mine shared'].pk}/", "standard_user", "Yes"),
    ]
    doc = page(response)
    assert elements(doc, "form", class_="rename-form") == []
    assert [text(th) for th in elements(doc, "th")] == ["Segment", "Owner", "Shared", "Saved"]


def test_viewer_opens_a_shared_segment(viewer, people, segments):
    response = viewer.get(f"/people/segments/{segments['mine shared'].pk}/", follow=True)

    assert _heading(response) == "Key contacts"
    assert _rows(response) == [["Otto Ostrom", "otto@x.example", "Other", "Corporate", "—", "yes"]]


def test_viewer_may_not_open_a_private_segment(viewer, segments):
    assert viewer.get(f"/people/segments/{segments['mine'].pk}/").status_code == 404


def test_viewer_sees_no_save_form_and_no_download_buttons(viewer, people, segments):
    response = viewer.get(f"/people/?contact=yes&segment={segments['mine shared'].pk}")

    assert _save_query(response) is None
    assert _download_links(response) == []
    assert elements(page(response), "section", class_="save-segment") == []


def test_standard_sees_the_save_form_and_the_download_buttons(standard_client, people):
    response = standard_client.get("/people/?contact=yes&cols=name")

    assert _save_query(response) == "contact=yes&cols=name"
    assert _download_links(response) == [
        ("Download CSV", "/people/download.csv?contact=yes&cols=name"),
        ("Download XLSX", "/people/download.xlsx?contact=yes&cols=name"),
    ]


def test_viewer_may_not_save_a_segment(viewer, people):
    response = viewer.post("/people/segments/new/", {"name": "Mine", "query": "contact=yes"})

    assert response.status_code == 403
    assert Segment.objects.count() == 0


def test_viewer_may_not_rename_a_segment(viewer, segments):
    segment = segments["mine shared"]

    response = viewer.post(f"/people/segments/{segment.pk}/rename/", {"name": "Viewer's"})

    assert response.status_code == 403
    segment.refresh_from_db()
    assert segment.name == "Key contacts"


def test_viewer_may_not_delete_a_segment(viewer, segments):
    response = viewer.post(f"/people/segments/{segments['mine shared'].pk}/delete/")

    assert response.status_code == 403
    assert Segment.objects.count() == 4


# A segment whose account was deleted


def test_segment_whose_account_was_deleted_says_so_and_shows_every_account(standard_client, people):
    standard_client.post(
        "/people/segments/new/",
        {
            "name": "Paris contacts",
            "query": "contact=yes&account=PARIS&scope=subtree&cols=name&cols=account",
        },
    )
    segment = Segment.objects.get()
    before = standard_client.get(segment.get_absolute_url(), follow=True)
    assert _rows(before) == [["Pierre Paquet", "Paris"], ["Sally Sauer", "Paris Sales"]]

    # Paris Sales and the memberships at both go with it.
    people["paris"].delete()
    response = standard_client.get(segment.get_absolute_url(), follow=True)

    assert _heading(response) == "Paris contacts"
    assert messages(response) == [
        "This segment was filtered on the account Paris (PARIS), which no longer exists. It "
        "shows the people of every account instead."
    ]
    assert [text(p) for p in elements(page(response), "p", class_="field-error")] == [
        "No account has the Account ID or name “PARIS”, so this shows every account."
    ]
    assert _rows(response) == [
        ["Bert Brandt", "Berlin"],
        ["Emil Eames", "Emea"],
        ["Otto Ostrom", "Other"],
    ]


def test_segment_whose_account_was_deleted_is_still_listed(standard_client, people):
    standard_client.post(
        "/people/segments/new/", {"name": "Paris contacts", "query": "account=PARIS"}
    )

    people["paris"].delete()

    assert [row[0] for row in _segment_rows(standard_client.get("/people/segments/"))] == [
        "Paris contacts"
    ]


def test_list_with_an_unknown_account_but_no_segment_has_no_warning(standard_client, people):
    response = standard_client.get("/people/?account=PARIS-OLD")

    assert messages(response) == []


# Query counts


# Queries of the Saved segments page, the same at every number of segments: session and staff
# user (2); the permission check for the actions (2: Global admin group, own and group
# permissions in one); the segments with their owners (1).
SEGMENT_LIST_QUERIES = 5


@pytest.mark.parametrize("size", (1, 3))
def test_segment_list_query_count(standard_client, other_client, django_assert_num_queries, size):
    for n in range(4 * size):
        Segment.objects.create(owner=standard_client.staff_user, name=f"Mine {n:02d}")
        Segment.objects.create(owner=other_client.staff_user, name=f"Shared {n:02d}", shared=True)
        Segment.objects.create(owner=other_client.staff_user, name=f"Private {n:02d}")

    with django_assert_num_queries(SEGMENT_LIST_QUERIES):
        response = standard_client.get("/people/segments/")

    assert len(_segment_rows(response)) == 8 * size


# The people list drawn again with the save form's errors: session and staff user (2); the
# permission check (2: Global admin group, the staff user's own and group permissions in one); the
# contact filter's row count and rows (2); the saved segments (1); the Account type and Role
# options (2); the download buttons' permission check is cached (0).
SEGMENT_SAVE_ERROR_QUERIES = 9


@pytest.mark.parametrize("size", (1, 3))
def test_segment_save_with_errors_query_count(
    standard_client, tree, django_assert_num_queries, size
):
    for n in range(4 * size):
        MembershipFactory(
            account=tree["paris"],
            person=PersonFactory(first_name="Grace", last_name=f"Grow{n:02d}"),
        )
        Segment.objects.create(owner=standard_client.staff_user, name=f"Mine {n:02d}")

    with django_assert_num_queries(SEGMENT_SAVE_ERROR_QUERIES):
        response = standard_client.post(
            "/people/segments/new/", {"name": "", "query": ALL_CONTACTS}
        )

    assert text(element(page(response, 400), "p", class_="count")) == (
        f"{4 * size} rows (a person at an account)"
    )
    assert Segment.objects.count() == 4 * size
