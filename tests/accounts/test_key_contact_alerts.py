"""“Key contact left” on the account page (its banner and Acknowledge) and the accounts list's
filter and badge (accounts/views.py; the alerts themselves: contacts/alerts.py)."""

from datetime import date

import pytest

from contacts.alerts import raise_key_contact_alerts, resolve_for_new_key_contacts
from contacts.models import KeyContactAlert, Membership
from tests.factories import AccountFactory, MembershipFactory, PersonFactory, StaffUserFactory
from tests.html import attribute, element, elements, messages, page, parse, text

HTMX = {"HX-Request": "true"}


def _leave(membership, end_date=date(2026, 5, 31)):
    """The key contact becomes former, as the services will do, and the alert is raised."""
    Membership.objects.filter(pk=membership.pk).update(
        status=Membership.Status.FORMER, end_date=end_date
    )
    membership.refresh_from_db()
    (alert,) = raise_key_contact_alerts([membership])
    return alert


@pytest.fixture
def ada_paris(tree):
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@customer.example")
    return MembershipFactory(person=ada, account=tree["paris"], is_key_contact=True)


@pytest.fixture
def alert(ada_paris):
    return _leave(ada_paris)


def _banners(response):
    doc = parse(response)
    return [text(element(div, "p")) for div in elements(doc, "div", class_="alert-banner")]


def _acknowledge_url(account, alert):
    return f"/accounts/{account.pk}/alerts/{alert.pk}/acknowledge/"


# The banner


@pytest.mark.parametrize("tab", ["", "history/"])
def test_banner_shows_the_open_alert_on_both_tabs(viewer_client, tree, alert, tab):
    response = viewer_client.get(f"/accounts/{tree['paris'].pk}/{tab}")

    assert _banners(response) == ["Key contact left: Ada Lovelace , 2026-05-31"]
    # Viewers may not acknowledge it.
    assert "Acknowledge" not in [text(b) for b in elements(parse(response), "button")]


def test_banner_is_only_on_the_alerts_account(viewer_client, tree, alert):
    for key in ("emea", "paris_sales", "corp"):
        assert _banners(viewer_client.get(f"/accounts/{tree[key].pk}/")) == []


def test_banner_is_gone_once_a_new_key_contact_is_named(viewer_client, tree, alert):
    grace = MembershipFactory(account=tree["paris"], is_key_contact=True)
    resolve_for_new_key_contacts([grace], by=None)

    assert _banners(viewer_client.get(f"/accounts/{tree['paris'].pk}/")) == []


def test_banner_offers_acknowledge_to_who_may_edit_contacts(standard_client, tree, alert):
    response = standard_client.get(f"/accounts/{tree['paris'].pk}/")

    form = element(page(response), "form", action=_acknowledge_url(tree["paris"], alert))
    assert attribute(form, "method") == "post"
    assert attribute(form, "hx-target") == "#key-contact-alerts"
    assert text(element(form, "button")) == "Acknowledge"


# Acknowledge


def test_acknowledge_closes_the_alert_and_goes_back(standard_client, tree, alert):
    response = standard_client.post(_acknowledge_url(tree["paris"], alert))

    assert (response.status_code, response["Location"]) == (302, f"/accounts/{tree['paris'].pk}/")
    alert.refresh_from_db()
    assert (alert.resolution, alert.resolved_by) == (
        KeyContactAlert.Resolution.ACKNOWLEDGED,
        standard_client.staff_user,
    )
    followed = standard_client.get(response["Location"])
    assert _banners(followed) == []
    assert messages(followed) == ["Acknowledged: Ada Lovelace left Paris."]


def test_acknowledge_from_the_history_tab_goes_back_there(standard_client, tree, alert):
    response = standard_client.post(_acknowledge_url(tree["paris"], alert), {"tab": "history"})

    assert response["Location"] == f"/accounts/{tree['paris'].pk}/history/"


def test_acknowledge_with_htmx_from_the_history_tab_keeps_the_tab(standard_client, tree, alert):
    _leave(MembershipFactory(account=tree["paris"], is_key_contact=True))

    response = standard_client.post(
        _acknowledge_url(tree["paris"], alert), {"tab": "history"}, headers=HTMX
    )

    assert attribute(element(parse(response), "input", name="tab"), "value") == "history"


def test_acknowledge_with_htmx_swaps_the_banner(standard_client, tree, alert, ada_paris):
    other = _leave(MembershipFactory(account=tree["paris"], is_key_contact=True))

    response = standard_client.post(_acknowledge_url(tree["paris"], alert), headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    doc = parse(response)
    assert attribute(element(doc, "div", id="key-contact-alerts"), "id") == "key-contact-alerts"
    assert text(element(doc, "p", role="status")) == "Acknowledged: Ada Lovelace left Paris."
    assert len(_banners(response)) == 1
    assert KeyContactAlert.objects.open().get() == other
    assert attribute(element(doc, "input", name="tab"), "value") == "contacts"


def test_acknowledge_an_alert_closed_already_says_so_and_writes_nothing(
    standard_client, tree, alert
):
    someone = StaffUserFactory(username="someone")
    KeyContactAlert.objects.filter(pk=alert.pk).update(
        resolved_at=alert.raised_at,
        resolved_by=someone,
        resolution=KeyContactAlert.Resolution.NEW_KEY_CONTACT,
    )

    response = standard_client.post(_acknowledge_url(tree["paris"], alert), follow=True)

    assert messages(response) == [
        "The alert about Ada Lovelace was already closed; nothing changed."
    ]
    alert.refresh_from_db()
    assert (alert.resolved_at, alert.resolved_by, alert.resolution) == (
        alert.raised_at,
        someone,
        KeyContactAlert.Resolution.NEW_KEY_CONTACT,
    )


def test_acknowledge_without_permission_is_403(viewer_client, tree, alert):
    response = viewer_client.post(_acknowledge_url(tree["paris"], alert))

    assert response.status_code == 403
    assert KeyContactAlert.objects.open().get() == alert


def test_acknowledge_an_alert_of_another_account_is_404(standard_client, tree, alert):
    response = standard_client.post(_acknowledge_url(tree["berlin"], alert))

    assert response.status_code == 404
    assert KeyContactAlert.objects.open().get() == alert


def test_acknowledge_an_unknown_alert_is_404(standard_client, tree, alert):
    response = standard_client.post(f"/accounts/{tree['paris'].pk}/alerts/999999/acknowledge/")

    assert response.status_code == 404


def test_acknowledge_by_get_is_refused(standard_client, tree, alert):
    response = standard_client.get(_acknowledge_url(tree["paris"], alert))

    assert response.status_code == 405
    assert KeyContactAlert.objects.open().get() == alert


# The accounts list: filter and badge


def _list_rows(response):
    """(name, badge?) of each row of the flat list."""
    rows = []
    for row in elements(page(response), "tr")[1:]:
        first = elements(row, "td")[0]
        rows.append((text(element(first, "a")), bool(elements(first, "span", class_="badge"))))
    return rows


def test_accounts_list_filters_the_accounts_where_a_key_contact_left(viewer_client, tree, alert):
    _leave(MembershipFactory(account=tree["other_region"], is_key_contact=True))

    response = viewer_client.get("/accounts/", {"alert": "1"})

    assert text(element(page(response), "p", class_="count")) == (
        "2 accounts where a key contact left"
    )
    assert sorted(_list_rows(response)) == [("Other Region", True), ("Paris", True)]
    checkbox = element(page(response), "input", name="alert")
    assert "checked" in dict(checkbox.attributes)


def test_accounts_list_filter_with_a_search(viewer_client, tree, alert):
    _leave(MembershipFactory(account=tree["other_region"], is_key_contact=True))

    response = viewer_client.get("/accounts/", {"alert": "1", "q": "paris"})

    assert _list_rows(response) == [("Paris", True)]


def test_accounts_list_search_marks_the_alerted_rows(viewer_client, tree, alert):
    response = viewer_client.get("/accounts/", {"q": "paris"})

    assert _list_rows(response) == [("Paris", True), ("Paris Sales", False)]


def test_accounts_list_filter_with_no_alerts_says_so(viewer_client, tree):
    response = viewer_client.get("/accounts/", {"alert": "1"})

    assert text(element(page(response), "div", class_="empty")) == (
        "No account has a key contact who left. Show all accounts"
    )
    assert [text(a) for a in elements(page(response), "a", class_="button-quiet")] == [
        "Show all accounts"
    ]


def test_accounts_tree_marks_an_alerted_company_and_level(viewer_client, tree, ada_paris):
    _leave(MembershipFactory(account=tree["corp"], is_key_contact=True))
    _leave(ada_paris)

    companies = viewer_client.get("/accounts/")
    level = viewer_client.get(f"/accounts/{tree['emea'].pk}/children/", headers=HTMX)

    def badges(response):
        return [
            text(element(name, "a"))
            for name in elements(parse(response), "span", class_="tree-name")
            if elements(name, "span", class_="badge-alert")
        ]

    assert badges(companies) == ["Corp"]
    assert badges(level) == ["Paris"]


def test_accounts_list_ignores_an_acknowledged_alert(viewer_client, tree, alert):
    KeyContactAlert.objects.update(
        resolved_at=alert.raised_at, resolution=KeyContactAlert.Resolution.ACKNOWLEDGED
    )

    response = viewer_client.get("/accounts/", {"alert": "1"})

    assert _list_rows(response) == []


# Session and staff user (2), the Global admin link (1), the permissions for the Integrations
# link (1), the count and the page of accounts with their alert marks (2), the companies' names
# (1): the same at every size.
@pytest.mark.parametrize("size", (1, 3))
def test_accounts_list_alert_filter_query_count(
    viewer_client, account_types, django_assert_num_queries, size
):
    for n in range(size * 3):
        company = AccountFactory(account_type=account_types["Corporate"], name=f"Co {n}")
        site = AccountFactory(account_type=account_types["Region"], parent=company)
        _leave(MembershipFactory(account=site, is_key_contact=True))
        MembershipFactory(account=site)

    with django_assert_num_queries(7):
        response = viewer_client.get("/accounts/", {"alert": "1"})

    assert len(_list_rows(response)) == size * 3
