"""contacts/views/privacy.py: the download audit page (/people/downloads/) and "Forget this
person" (/people/<id>/forget/), Global admins only (SPEC §5)."""

from datetime import UTC, datetime

import pytest

from contacts.models import DownloadRecord, ForgottenPerson, Membership, Person
from contacts.privacy import record_download
from tests import stored
from tests.factories import (
    MembershipFactory,
    PersonFactory,
    StaffUserFactory,
    TaskFactory,
    TouchpointFactory,
)
from tests.html import attribute, element, elements, messages, page, text

OTHERS = ["viewer_client", "standard_client", "advanced_client"]


def _record(by, when, filters="Everyone; Columns: Name", **fields):
    record = record_download(
        kind=fields.pop("kind", DownloadRecord.Kind.PEOPLE_LIST),
        by=by,
        filters=filters,
        file_format=fields.pop("file_format", "csv"),
        **fields,
    )
    DownloadRecord.objects.filter(pk=record.pk).update(downloaded_at=when)
    return record


def _rows(response):
    return [
        [text(cell) for cell in elements(row, "td")]
        for row in elements(element(page(response), "tbody"), "tr")
    ]


# The download audit


@pytest.fixture
def downloads(db):
    pat = StaffUserFactory(username="pat", first_name="Pat", last_name="Lee")
    sam = StaffUserFactory(username="sam")
    _record(pat, datetime(2026, 11, 1, 9, 0, tzinfo=UTC), row_count=12)
    unfinished = _record(sam, datetime(2026, 11, 2, 10, 0, tzinfo=UTC), filters="Search: “ada”")
    unfinished.finish(row_count=2000, complete=False)
    _record(
        None,
        datetime(2026, 11, 3, 11, 0, tzinfo=UTC),
        kind=DownloadRecord.Kind.USERS_FILE,
        channel=DownloadRecord.Channel.COMMAND,
        filters="All users, to standard output",
        row_count=1234,
    )
    _record(sam, datetime(2026, 11, 4, 12, 0, tzinfo=UTC), file_format="xlsx")
    return {"pat": pat, "sam": sam}


def test_download_audit_lists_every_download_newest_first(global_admin_client, downloads):
    response = global_admin_client.get("/people/downloads/")

    assert _rows(response) == [
        [
            "4 Nov 2026, 12:00",
            "sam",
            "People list",
            "Everyone; Columns: Name",
            "XLSX",
            "not written",
        ],
        [
            "3 Nov 2026, 11:00",
            "the command line Command line",
            "Users file export",
            "All users, to standard output",
            "CSV",
            "1,234",
        ],
        [
            "2 Nov 2026, 10:00",
            "sam",
            "People list",
            "Search: “ada”",
            "CSV",
            "2,000 (stopped before the end)",
        ],
        ["1 Nov 2026, 09:00", "Pat Lee", "People list", "Everyone; Columns: Name", "CSV", "12"],
    ]


def test_download_audit_lists_one_staff_users_downloads(global_admin_client, downloads):
    response = global_admin_client.get(f"/people/downloads/?staff_user={downloads['sam'].pk}")

    assert [row[:2] for row in _rows(response)] == [
        ["4 Nov 2026, 12:00", "sam"],
        ["2 Nov 2026, 10:00", "sam"],
    ]
    # Only those who downloaded something are offered.
    options = elements(element(page(response), "select", name="staff_user"), "option")
    assert [text(option) for option in options] == ["Everyone", "Pat Lee", "sam"]


@pytest.mark.parametrize("value", ["999999", "pat", ""])
def test_download_audit_with_an_unknown_staff_user_lists_everyone(
    global_admin_client, downloads, value
):
    response = global_admin_client.get(f"/people/downloads/?staff_user={value}")

    assert len(_rows(response)) == 4


def test_download_audit_keeps_the_name_of_a_deleted_staff_user(global_admin_client, downloads):
    downloads["pat"].delete()

    response = global_admin_client.get("/people/downloads/")

    assert _rows(response)[-1][:2] == ["1 Nov 2026, 09:00", "Pat Lee"]


def test_download_audit_pages_by_fifty(global_admin_client, db):
    staff_user = StaffUserFactory(username="pat")
    for n in range(51):
        _record(staff_user, datetime(2026, 11, 1, 9, n, tzinfo=UTC))

    first = global_admin_client.get("/people/downloads/")
    second = global_admin_client.get("/people/downloads/?page=2")

    assert (len(_rows(first)), _rows(second)[0][0]) == (50, "1 Nov 2026, 09:00")


def test_download_audit_when_empty(global_admin_client):
    response = global_admin_client.get("/people/downloads/")

    assert "No downloads yet." in text(page(response))


@pytest.mark.parametrize("client_fixture", OTHERS)
def test_download_audit_is_for_global_admins_only(request, client_fixture, downloads):
    client = request.getfixturevalue(client_fixture)

    response = client.get("/people/downloads/")
    people = page(client.get("/people/"))

    assert response.status_code == 403
    assert [a for a in elements(people, "a") if attribute(a, "href") == "/people/downloads/"] == []


def test_people_page_links_the_download_audit_for_global_admins(global_admin_client):
    people = page(global_admin_client.get("/people/"))

    link = element(people, "a", href="/people/downloads/")
    assert text(link) == "Download audit"


# Session and staff user (2), is the staff user a Global admin (1), the staff users offered
# (1), the count (1) and the page (1): the same at every size.
AUDIT_QUERIES = 6


@pytest.mark.parametrize("size", (1, 3))
def test_download_audit_query_count(global_admin_client, django_assert_num_queries, size):
    for n in range(size):
        _record(StaffUserFactory(), datetime(2026, 11, 1, 9, n, tzinfo=UTC))

    with django_assert_num_queries(AUDIT_QUERIES):
        response = global_admin_client.get("/people/downloads/")

    assert len(_rows(response)) == size


# Forget this person


@pytest.fixture
def ada(tree, roles):
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@analytical.example")
    MembershipFactory(person=ada, account=tree["corp"], is_key_contact=True)
    MembershipFactory(person=ada, account=tree["paris"], is_contact=False)
    MembershipFactory(
        person=PersonFactory(first_name="Carl", last_name="Corbett", email="carl@x.example"),
        account=tree["corp"],
    )
    return ada


def test_person_page_has_the_forget_button_for_global_admins(global_admin_client, ada):
    doc = page(global_admin_client.get(f"/people/{ada.pk}/"))

    link = element(doc, "a", href=f"/people/{ada.pk}/forget/")
    assert text(link) == "Forget this person"


@pytest.mark.parametrize("client_fixture", OTHERS)
def test_forgetting_is_for_global_admins_only(request, client_fixture, ada):
    client = request.getfixturevalue(client_fixture)
    before = (stored.people(), stored.memberships())

    person_page = page(client.get(f"/people/{ada.pk}/"))
    confirm = client.get(f"/people/{ada.pk}/forget/")
    forget = client.post(f"/people/{ada.pk}/forget/")

    assert elements(person_page, "a", href=f"/people/{ada.pk}/forget/") == []
    assert (confirm.status_code, forget.status_code) == (403, 403)
    assert (stored.people(), stored.memberships()) == before
    assert ForgottenPerson.objects.count() == 0


def test_forget_page_says_what_will_happen_and_deletes_nothing(global_admin_client, ada):
    before = (stored.people(), stored.memberships())

    response = global_admin_client.get(f"/people/{ada.pk}/forget/")

    words = text(element(page(response), "section"))
    assert "Ada Lovelace (ada@analytical.example) will be removed" in words
    assert "with 2 memberships (Corp, Paris)." in words
    # Nothing to say about tasks, touchpoints or contact changes she has none of.
    assert "taken off" not in words
    assert " 0 " not in words
    assert f"“Forgotten person #{ada.pk}”" in words
    assert "Text written by staff users (task titles, touchpoint subjects and notes)" in words
    assert (stored.people(), stored.memberships()) == before


def test_forget_page_counts_the_tasks_and_touchpoints_she_is_taken_off(global_admin_client, ada):
    corp_membership = ada.memberships.get(account__name="Corp")
    for title in ("Renewal", "Onboarding"):
        TaskFactory(account=corp_membership.account, title=title).contacts.add(corp_membership)
    TouchpointFactory(account=corp_membership.account).participants.add(corp_membership)

    words = text(element(page(global_admin_client.get(f"/people/{ada.pk}/forget/")), "section"))

    assert "They are taken off 2 tasks and 1 touchpoint; the tasks and touchpoints stay." in words


def test_forgetting_removes_the_person_and_says_so(global_admin_client, ada):
    response = global_admin_client.post(f"/people/{ada.pk}/forget/", follow=True)

    assert response.redirect_chain == [("/people/", 302)]
    assert messages(response) == [
        f"Ada Lovelace was forgotten: they are now “Forgotten person #{ada.pk}” in the "
        "history. Also removed or rewritten: 2 memberships."
    ]
    assert Person.objects.filter(pk=ada.pk).exists() is False
    assert stored.memberships() == [("carl@x.example", "Corp", None, True, False)]
    record = ForgottenPerson.objects.get()
    assert (record.person_pk, record.staff_user, record.staff_name) == (
        ada.pk,
        global_admin_client.staff_user,
        "global_admin_user",
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_forgetting_an_unknown_or_forgotten_person_is_not_found(global_admin_client, ada, method):
    global_admin_client.post(f"/people/{ada.pk}/forget/")

    response = getattr(global_admin_client, method)(f"/people/{ada.pk}/forget/")

    assert response.status_code == 404
    assert ForgottenPerson.objects.count() == 1
    assert Membership.objects.count() == 1


def test_forget_refuses_other_methods(global_admin_client, ada):
    response = global_admin_client.put(f"/people/{ada.pk}/forget/")

    assert response.status_code == 405
    assert Person.objects.filter(pk=ada.pk).exists()
