"""The Django admin's memberships and former contacts (issue 14): status and dates listed,
filtered, checked by the edit page's rule, recorded, with the "key contact left" alert."""

from contacts.models import KeyContactAlert, Membership
from tests.admin_pages import error_list
from tests.contacts.test_admin import history, post_membership


def test_admin_marks_a_key_contact_former_records_it_and_raises_the_alert(
    admin_site_client, admin_data
):
    membership = admin_data["ada_paris"]

    response = post_membership(
        admin_site_client, membership, status="former", end_date="2026-05-31"
    )

    assert response.status_code == 302
    assert history(membership)[-2:] == [
        ("status", "active", "former", "admin", "global_admin_user"),
        ("end_date", "", "2026-05-31", "admin", "global_admin_user"),
    ]
    assert KeyContactAlert.objects.open().get().membership == membership


def test_admin_refuses_an_end_date_before_the_start_date(admin_site_client, admin_data):
    membership = admin_data["ada_paris"]

    response = post_membership(
        admin_site_client,
        membership,
        status="former",
        start_date="2026-06-01",
        end_date="2026-05-31",
    )

    assert response.status_code == 200
    assert error_list(response, "id_end_date") == [
        "The end date (2026-05-31) cannot be before the start date (2026-06-01)."
    ]
    assert Membership.objects.get(pk=membership.pk).status == "active"
    assert not KeyContactAlert.objects.exists()


def test_admin_membership_list_filters_by_status(admin_site_client, admin_data):
    Membership.objects.filter(pk=admin_data["ada_paris"].pk).update(status="former")

    response = admin_site_client.get("/admin/contacts/membership/?status__exact=former")

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [admin_data["ada_paris"]]
