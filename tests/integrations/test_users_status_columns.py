"""The users file's optional Status, Start Date and End Date columns (issue 14): strict values,
a blank keeps what is stored, errors quote the value and say what is accepted, the history
records them, key contacts made former raise the alert, and an export imports again."""

import datetime

import pytest
from django.utils import timezone

from contacts.models import ContactChange, KeyContactAlert, Membership
from integrations.resources import UsersResource
from tests.factories import MembershipFactory
from tests.integrations.conftest import (
    USERS_HEADER,
    changed_rows,
    import_users,
    snapshot,
    totals,
    users_csv,
)

pytestmark = pytest.mark.django_db

HEADER = USERS_HEADER + ",Status,Start Date,End Date"
TODAY = timezone.localdate()
YESTERDAY = (TODAY - datetime.timedelta(days=1)).isoformat()


def csv(*rows):
    return users_csv(*rows, header=HEADER)


def dates(email="Ada@Customer.example", account="PARIS"):
    return Membership.objects.values_list("status", "start_date", "end_date").get(
        person__email=email, account__external_id=account
    )


def status_history():
    return list(
        ContactChange.objects.filter(field__in=["status", "start_date", "end_date"])
        .order_by("field")
        .values_list("field", "old_value", "new_value", "source")
    )


def errors(result):
    return [
        (row.number, {field: list(messages) for field, messages in row.error.message_dict.items()})
        for row in result.invalid_rows
    ]


def test_new_membership_with_status_and_dates(tree, roles, staff_user):
    result = import_users(
        csv("BERLIN,grace@navy.example,Grace,Hopper,,,,yes,,former,2019-01-01,2026-05-31"),
        by=staff_user,
    )

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 0}
    assert dates("grace@navy.example", "BERLIN") == (
        "former",
        datetime.date(2019, 1, 1),
        datetime.date(2026, 5, 31),
    )
    assert status_history() == [
        ("end_date", "", "2026-05-31", "import"),
        ("start_date", "", "2019-01-01", "import"),
        ("status", "active", "former", "import"),
    ]


def test_a_key_contact_made_former_by_a_file_raises_the_alert(ada, staff_user):
    result = import_users(
        csv("PARIS,ada@customer.example,,,,,,,,former,,2026-05-31"), by=staff_user
    )

    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 0}
    assert dates() == ("former", None, datetime.date(2026, 5, 31))
    assert changed_rows(result) == [
        (
            2,
            "ada@customer.example at PARIS",
            "update",
            [("Status", "active", "former"), ("End Date", "", "2026-05-31")],
        )
    ]
    alert = KeyContactAlert.objects.open().get()
    assert (alert.account.external_id, alert.left_on) == ("PARIS", datetime.date(2026, 5, 31))


def test_former_without_an_end_date_ends_today_and_a_new_key_contact_resolves(
    ada, tree, staff_user
):
    import_users(csv("PARIS,ada@customer.example,,,,,,,,former,,"), by=staff_user)
    assert dates() == ("former", None, TODAY)
    assert KeyContactAlert.objects.open().count() == 1

    import_users(csv("PARIS,alan@example.com,Alan,Turing,,,,yes,yes,,,"), by=staff_user)

    alert = KeyContactAlert.objects.get()
    assert (alert.resolution, alert.resolved_by) == ("new_key_contact", staff_user)


def test_blanks_keep_the_stored_values(ada, staff_user):
    Membership.objects.filter(account__external_id="PARIS").update(
        start_date=datetime.date(2021, 3, 1)
    )

    result = import_users(csv("PARIS,ada@customer.example,,,,,,,,,,"), by=staff_user)

    assert totals(result) == {"new": 0, "updated": 0, "unchanged": 1, "failed": 0}
    assert dates() == ("active", datetime.date(2021, 3, 1), None)
    assert status_history() == []


def test_a_former_member_made_active_without_an_end_date_is_back(ada, staff_user):
    Membership.objects.filter(account__external_id="PARIS").update(
        status="former", end_date=datetime.date(2024, 1, 31)
    )

    import_users(csv("PARIS,ada@customer.example,,,,,,,,active,,"), by=staff_user)

    assert dates() == ("active", None, None)
    assert status_history() == [
        ("end_date", "2024-01-31", "", "import"),
        ("status", "former", "active", "import"),
    ]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (
            "Former,,",
            {
                "Status": [
                    "“Former” is not accepted: write active or former (in lowercase), or "
                    "leave it blank."
                ]
            },
        ),
        (
            ",2026-13-01,",
            {
                "Start Date": [
                    "“2026-13-01” is not a date: write it as YYYY-MM-DD (such as 2026-05-31), "
                    "or leave it blank."
                ]
            },
        ),
        (
            ",,31/05/2026",
            {
                "End Date": [
                    "“31/05/2026” is not a date: write it as YYYY-MM-DD (such as 2026-05-31), "
                    "or leave it blank."
                ]
            },
        ),
        (
            "former,2026-06-01,2026-05-31",
            {
                "End Date": [
                    "End Date “2026-05-31” is before Start Date “2026-06-01”: the End Date "
                    "must be on or after the Start Date."
                ]
            },
        ),
        (
            "former,,2021-02-28",
            {
                "End Date": [
                    "End Date “2021-02-28” is before Start Date “2021-03-01” (stored): the End "
                    "Date must be on or after the Start Date."
                ]
            },
        ),
        (
            f"active,,{YESTERDAY}",
            {
                "End Date": [
                    f"Status “active” with End Date “{YESTERDAY}” in the past: an active "
                    "member has no past End Date. Write former, or an End Date from today on."
                ]
            },
        ),
    ],
    ids=[
        "capital status",
        "no such month",
        "not iso",
        "end before start",
        "before stored",
        "active ended",
    ],
)
def test_bad_values_are_errors_on_their_row_and_nothing_is_written(
    ada, staff_user, cells, expected
):
    Membership.objects.filter(account__external_id="PARIS").update(
        start_date=datetime.date(2021, 3, 1)
    )
    before = snapshot()

    result = import_users(csv(f"PARIS,ada@customer.example,,,,,,,,{cells}"), by=staff_user)

    assert totals(result)["failed"] == 1
    assert errors(result) == [(2, expected)]
    assert snapshot() == before
    assert not KeyContactAlert.objects.exists()


def test_export_writes_the_columns_and_imports_again_unchanged(ada, tree, staff_user):
    Membership.objects.filter(account__external_id="PARIS").update(
        status="former", start_date=datetime.date(2021, 3, 1), end_date=datetime.date(2026, 5, 31)
    )
    MembershipFactory(person=ada, account=tree["berlin"], is_contact=True)
    resource = UsersResource()
    rows = list(resource.export_rows())
    assert resource.columns()[-3:] == ["Status", "Start Date", "End Date"]
    assert sorted(row[-3:] for row in rows) == [
        ["active", "", ""],
        ["active", "", ""],
        ["former", "2021-03-01", "2026-05-31"],
    ]
    before = snapshot()

    result = import_users(
        "\n".join([",".join(resource.columns()), *(",".join(row) for row in rows)]) + "\n",
        by=staff_user,
    )

    assert totals(result) == {"new": 0, "updated": 0, "unchanged": 3, "failed": 0}
    assert snapshot() == before
