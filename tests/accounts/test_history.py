"""An account's History tab and its CSV (accounts/views.py, contacts/history.py)."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from config import staff
from contacts import services
from contacts.history import CHANGES_PER_PAGE, describe
from contacts.models import ContactChange, DownloadRecord, Membership
from tests.factories import (
    ContactChangeFactory,
    MembershipFactory,
    PersonFactory,
    StaffUserFactory,
)
from tests.html import attribute, element, elements, page, parse, text

HTMX = {"HX-Request": "true"}
Field, Source = ContactChange.Field, ContactChange.Source
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _url(account, query=""):
    return f"/accounts/{account.pk}/history/" + (f"?{query}" if query else "")


def _results(response):
    return element(parse(response), "div", id="history-results")


def _rows(response):
    """Each row: (when, who, source, person, account, change)."""
    return [
        tuple(text(cell) for cell in elements(row, "td"))
        for row in elements(_results(response), "tr")[1:]
    ]


def _count(response):
    return text(element(_results(response), "p", class_="count"))


def _change(membership, minutes=0, **kwargs):
    return ContactChangeFactory(
        membership=membership, changed_at=T0 + timedelta(minutes=minutes), **kwargs
    )


@pytest.fixture
def pat(db):
    return StaffUserFactory(username="pat", first_name="Pat", last_name="Lee")


@pytest.fixture
def spread(tree):
    """One change at each of several accounts of Corp, and one at another company, a minute
    apart (Corp's first, the other company's last)."""
    changes = {}
    for minutes, key in enumerate(["corp", "emea", "paris", "paris_sales", "austin", "other"]):
        person = PersonFactory(first_name=key.title().replace("_", ""), last_name="Person")
        changes[key] = _change(MembershipFactory(person=person, account=tree[key]), minutes)
    return changes


def _people(response):
    return [row[3] for row in _rows(response)]


# Through the real services: who, when, source, the words


def test_history_lists_the_services_changes_newest_first(viewer_client, tree, roles, pat):
    paris = tree["paris"]
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@x.example")
    membership, _ = services.add_contact(
        account=paris, person=ada, role=roles["Site", "End user"], by=pat
    )
    services.edit_contact(
        membership=membership, role=roles["Site", "Site admin"], is_key_contact=True, by=pat
    )
    services.remove_contact(membership=membership, by=pat)

    response = viewer_client.get(_url(paris))

    changes = list(ContactChange.objects.filter(account=paris).order_by("-changed_at", "-pk"))
    assert [row[:5] for row in _rows(response)] == [
        (
            f"{change.changed_at:%Y-%m-%d %H:%M}",
            "Pat Lee",
            "App",
            "Ada Lovelace",
            "This account",
        )
        for change in changes
    ]
    assert [row[5] for row in _rows(response)] == [
        "no longer a key contact",
        "no longer a contact",
        "role: End user → Site admin",
        "key contact",
        "role: — → End user",
        "became a contact",
    ]
    assert _count(response) == "6 changes · This account and all children"
    tabs = element(parse(response), "nav", class_="tabs")
    assert [(text(a), attribute(a, "aria-current")) for a in elements(tabs, "a")] == [
        ("Contacts", None),
        ("History", "page"),
    ]


@pytest.mark.parametrize(
    ("field", "old", "new", "source", "words"),
    [
        (Field.CONTACT, "no", "yes", Source.APP, "became a contact"),
        (Field.CONTACT, "yes", "no", Source.APP, "no longer a contact"),
        (Field.KEY_CONTACT, "no", "yes", Source.APP, "key contact"),
        (Field.KEY_CONTACT, "yes", "no", Source.APP, "no longer a key contact"),
        (Field.ROLE, "End user", "Site admin", Source.IMPORT, "role: End user → Site admin"),
        (Field.ROLE, "End user", "", Source.ADMIN, "role: End user → —"),
        (Field.STATUS, "active", "former", Source.APP, "left the account (former)"),
        (Field.STATUS, "former", "active", Source.UNDO, "back at the account (active)"),
        (Field.START_DATE, "", "2026-01-05", Source.IMPORT, "start date: — → 2026-01-05"),
        (Field.END_DATE, "", "2026-05-31", Source.APP, "end date: — → 2026-05-31"),
        (
            Field.PERSON,
            "Ada Lovelace <ada@x>",
            "Ada King <ada.king@x>",
            Source.MERGE,
            "moved from Ada Lovelace <ada@x> (merge)",
        ),
        (
            Field.PERSON,
            "Ada King <ada.king@x>",
            "Ada Lovelace <ada@x>",
            Source.UNMERGE,
            "moved from Ada King <ada.king@x> (unmerge)",
        ),
    ],
)
def test_describe_says_each_kind_of_change_in_words(field, old, new, source, words):
    change = ContactChange(field=field, old_value=old, new_value=new, source=source)

    assert describe(change) == words


@pytest.mark.parametrize(
    ("source", "by_staff", "who", "source_label"),
    [
        (Source.APP, True, "Pat Lee", "App"),
        (Source.IMPORT, False, "import", "Import"),
        (Source.ADMIN, False, "the command line", "Admin"),
        (Source.UNDO, True, "Pat Lee", "Undo"),
        (Source.MERGE, True, "Pat Lee", "Merge"),
        (Source.UNMERGE, False, "the command line", "Unmerge"),
    ],
)
def test_history_names_who_and_the_source(
    viewer_client, tree, pat, source, by_staff, who, source_label
):
    _change(
        MembershipFactory(account=tree["paris"]),
        source=source,
        staff_user=pat if by_staff else None,
    )

    response = viewer_client.get(_url(tree["paris"]))

    assert [row[1:3] for row in _rows(response)] == [(who, source_label)]


def test_history_keeps_a_change_whose_membership_was_deleted(viewer_client, tree):
    ada = PersonFactory(first_name="Ada", last_name="Lovelace")
    membership = MembershipFactory(person=ada, account=tree["paris"])
    _change(membership)
    membership.delete()

    response = viewer_client.get(_url(tree["paris"]))

    assert [(row[3], row[5]) for row in _rows(response)] == [("Ada Lovelace", "became a contact")]


# View


@pytest.mark.parametrize(
    ("key", "query", "people", "label"),
    [
        # With children, the default is the account and every account below it.
        ("emea", "", ["ParisSales", "Paris", "Emea"], "This account and all children"),
        ("emea", "view=this", ["Emea"], "This account"),
        ("emea", "view=children", ["Paris"], "Direct children"),
        ("emea", "view=descendants", ["ParisSales", "Paris"], "All children"),
        ("emea", "view=parent", ["Corp"], "Direct parent"),
        (
            "emea",
            "view=hierarchy",
            ["Austin", "ParisSales", "Paris", "Emea", "Corp"],
            "Entire hierarchy",
        ),
        # A leaf has no children: its default is itself.
        ("paris_sales", "", ["ParisSales"], "This account"),
        ("other", "view=hierarchy", ["Other"], "Entire hierarchy"),
    ],
)
def test_history_lists_the_changes_of_the_view(
    viewer_client, tree, spread, key, query, people, label
):
    response = viewer_client.get(_url(tree[key], query))

    assert _people(response) == [f"{name} Person" for name in people]
    assert _count(response) == f"{len(people)} change{'s' if len(people) > 1 else ''} · {label}"


def test_history_view_of_a_type_lists_that_types_accounts(
    viewer_client, tree, spread, account_types
):
    response = viewer_client.get(_url(tree["emea"], f"view=type-{account_types['Site'].pk}"))

    assert _people(response) == ["Austin Person", "Paris Person"]


def test_history_view_select_shows_the_chosen_view(viewer_client, tree, spread):
    response = viewer_client.get(_url(tree["emea"]))

    select = element(parse(response), "select", name="view")
    selected = [text(o) for o in elements(select, "option") if "selected" in dict(o.attributes)]
    assert selected == ["This account and all children"]


def test_history_unknown_view_says_so_and_shows_the_default(viewer_client, tree, spread):
    response = viewer_client.get(_url(tree["emea"], "view=nonsense"))

    doc = page(response)
    assert "“nonsense” is not a view of this account, so this shows “This account and all " in (
        text(doc)
    )
    assert _people(response) == ["ParisSales Person", "Paris Person", "Emea Person"]


def test_history_of_an_unknown_account_is_404(viewer_client, db):
    assert viewer_client.get("/accounts/999999/history/").status_code == 404


def test_history_with_no_changes_says_so(viewer_client, tree):
    response = viewer_client.get(_url(tree["berlin"]))

    assert text(element(_results(response), "div", class_="empty")) == (
        "No changes at the accounts of this View yet."
    )


# Paging and htmx


@pytest.fixture
def many(tree):
    membership = MembershipFactory(account=tree["paris"])
    return [_change(membership, n) for n in range(CHANGES_PER_PAGE + 3)]


def test_history_pages_newest_first(viewer_client, tree, many):
    first = viewer_client.get(_url(tree["paris"]))
    second = viewer_client.get(_url(tree["paris"], "page=2"))

    assert len(_rows(first)) == CHANGES_PER_PAGE
    assert [row[0] for row in _rows(second)] == [
        f"{change.changed_at:%Y-%m-%d %H:%M}" for change in reversed(many[:3])
    ]
    nav = element(_results(first), "nav", class_="pagination")
    assert text(nav) == "Page 1 of 2 1 2 Next →"
    assert attribute(element(nav, "a", rel="next"), "href") == "?page=2"
    assert attribute(element(_results(first), "div", class_="pager"), "hx-target") == (
        "#history-results"
    )


def test_history_htmx_request_gets_the_list_alone(viewer_client, tree, many):
    response = viewer_client.get(_url(tree["paris"], "page=2&view=this"), headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Key contact left" not in response.text
    assert len(_rows(response)) == 3
    assert "HX-Request" in response.headers["Vary"]


# Session and staff user (2), the Global admin link (1), the staff user's permissions (1), the
# account (1), the account types of its company for the View (1), the count and the page of
# changes with their people, accounts and staff users (2), the breadcrumb (1), the banner's
# alerts (1). The list alone: no breadcrumb, no banner; the permission check for the download
# link asks for the Global admin group itself (1).
@pytest.mark.parametrize(("headers", "queries"), [({}, 10), (HTMX, 8)])
@pytest.mark.parametrize("size", (1, 3))
def test_history_query_count(
    viewer_client, tree, pat, django_assert_num_queries, size, headers, queries
):
    for n in range(size * 20):
        _change(
            MembershipFactory(account=tree["paris" if n % 2 else "paris_sales"]),
            n,
            staff_user=pat if n % 3 else None,
        )

    with django_assert_num_queries(queries):
        response = viewer_client.get(_url(tree["emea"]), headers=headers)

    assert len(_rows(response)) == min(size * 20, CHANGES_PER_PAGE)


# CSV


def _csv(response):
    assert response.status_code == 200, response.status_code
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:], newline="")))


def test_history_csv_has_the_rows_of_the_view_and_is_audited(standard_client, tree, spread, pat):
    nasty = PersonFactory(first_name="=HYPERLINK(1)", last_name="X", email="n@x.example")
    _change(
        MembershipFactory(person=nasty, account=tree["paris"], role=None),
        30,
        field=Field.ROLE,
        old_value="",
        new_value="+Site admin",
        staff_user=pat,
    )

    response = standard_client.get(f"/accounts/{tree['emea'].pk}/history.csv?view=subtree")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="history-emea-subtree-{date.today().isoformat()}.csv"'
    )
    assert _csv(response) == [
        ["When", "Who", "Source", "Person", "Email", "Account", "Account ID", "Change"],
        [
            "2026-05-01 09:30",
            "Pat Lee",
            "App",
            "'=HYPERLINK(1) X",
            "n@x.example",
            "Paris",
            "PARIS",
            "role: — → +Site admin",
        ],
        *[
            [
                f"2026-05-01 09:0{minutes}",
                "the command line",
                "App",
                f"{name} Person",
                spread[key].person.email,
                tree[key].name,
                tree[key].external_id,
                "became a contact",
            ]
            for minutes, key, name in [
                (3, "paris_sales", "ParisSales"),
                (2, "paris", "Paris"),
                (1, "emea", "Emea"),
            ]
        ],
    ]
    record = DownloadRecord.objects.get()
    assert (
        record.kind,
        record.staff_user,
        record.filters,
        record.file_format,
        record.row_count,
        record.complete,
    ) == (
        DownloadRecord.Kind.ACCOUNT_HISTORY,
        standard_client.staff_user,
        "Account history: EMEA (Emea); View: This account and all children",
        "csv",
        4,
        True,
    )


def test_history_csv_is_refused_without_the_download_permission(viewer_client, tree, spread):
    assert not viewer_client.staff_user.has_perm(staff.CAN_DOWNLOAD_SEGMENTS)

    response = viewer_client.get(f"/accounts/{tree['emea'].pk}/history.csv")

    assert response.status_code == 403
    assert DownloadRecord.objects.count() == 0


def test_history_offers_no_csv_to_who_may_not_download(viewer_client, tree, spread):
    response = viewer_client.get(_url(tree["emea"], "view=this"))

    assert elements(_results(response), "a", download="") == []


def test_history_csv_link_carries_the_view(standard_client, tree, spread):
    response = standard_client.get(_url(tree["emea"], "view=this"))

    links = elements(_results(response), "a", download="")
    assert [(attribute(a, "href"), text(a)) for a in links] == [
        (f"/accounts/{tree['emea'].pk}/history.csv?view=this", "Download CSV")
    ]


def test_history_csv_of_an_unknown_view_downloads_the_default(standard_client, tree, spread):
    response = standard_client.get(f"/accounts/{tree['paris'].pk}/history.csv?view=nope")

    assert [row[3] for row in _csv(response)[1:]] == ["ParisSales Person", "Paris Person"]
    assert DownloadRecord.objects.get().filters == (
        "Account history: PARIS (Paris); View: This account and all children"
    )


def test_history_lists_former_and_status_changes_from_the_ORM(viewer_client, tree, pat):
    membership = MembershipFactory(account=tree["paris"], is_key_contact=True)
    before = services.tracked_values(membership)
    Membership.objects.filter(pk=membership.pk).update(
        status=Membership.Status.FORMER, end_date=date(2026, 5, 31)
    )
    membership.refresh_from_db()
    services.record_contact_changes(membership=membership, before=before, source=Source.APP, by=pat)

    response = viewer_client.get(_url(tree["paris"]))

    assert sorted(row[5] for row in _rows(response)) == [
        "end date: — → 2026-05-31",
        "left the account (former)",
    ]
