"""Past 400 lines as one thing: every rule of the users file (SPEC §4.1, §4.3).

Each with the exact rows, messages and writes."""

import pytest
from django.db import DatabaseError, connection

from contacts.models import ContactChange, Membership, Person
from integrations.resources import UsersResource
from tests.factories import PersonFactory
from tests.integrations.conftest import (
    USERS_HEADER,
    changed_rows,
    history,
    import_users,
    memberships,
    people,
    removed_contact,
    snapshot,
    totals,
    users_csv,
)

pytestmark = pytest.mark.django_db


# New people and memberships


def test_new_person_and_membership_are_created_with_history(tree, roles, staff_user):
    result = import_users(
        users_csv(
            "PARIS,grace@navy.example,Grace,Hopper,Rear admiral,+1 555 0100,End user,yes,yes"
        ),
        by=staff_user,
    )

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 0}
    assert people() == [("grace@navy.example", "Grace", "Hopper", "Rear admiral", "+1 555 0100")]
    assert memberships() == [("grace@navy.example", "PARIS", "End user", True, True)]
    assert history() == [
        ("grace@navy.example", "PARIS", "contact", "no", "yes", "import", "ivy"),
        ("grace@navy.example", "PARIS", "key_contact", "no", "yes", "import", "ivy"),
        ("grace@navy.example", "PARIS", "role", "", "End user", "import", "ivy"),
    ]
    assert changed_rows(result) == [
        (
            2,
            "grace@navy.example at PARIS",
            "new",
            [
                ("Email", "", "grace@navy.example"),
                ("First Name", "", "Grace"),
                ("Last Name", "", "Hopper"),
                ("Title", "", "Rear admiral"),
                ("Phone", "", "+1 555 0100"),
                ("Account Role", "", "End user"),
                ("Contact", "no", "yes"),
                ("Key Contact", "no", "yes"),
            ],
        ),
    ]


def test_new_membership_without_marks_is_a_member_not_a_contact(tree):
    result = import_users(users_csv("BERLIN,alan@example.com,Alan,Turing,,,,,"))

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 0}
    assert memberships() == [("alan@example.com", "BERLIN", None, False, False)]
    assert history() == []


def test_existing_person_gets_a_new_membership_found_by_email_in_any_case(ada):
    result = import_users(users_csv("BERLIN,ADA@customer.EXAMPLE,,,,,,yes,"))

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 0}
    assert Person.objects.count() == 1
    assert memberships() == [
        ("Ada@Customer.example", "BERLIN", None, True, False),
        ("Ada@Customer.example", "EMEA", None, False, False),
        ("Ada@Customer.example", "PARIS", "Site admin", True, True),
    ]


def test_person_on_two_lines_of_one_chunk_is_created_once(tree):
    result = import_users(
        users_csv(
            "PARIS,grace@navy.example,Grace,Hopper,,,,yes,",
            "BERLIN,Grace@Navy.example,,,,,,no,",
        )
    )

    assert totals(result) == {"new": 2, "updated": 0, "unchanged": 0, "failed": 0}
    assert people() == [("grace@navy.example", "Grace", "Hopper", "", "")]
    assert memberships() == [
        ("grace@navy.example", "BERLIN", None, False, False),
        ("grace@navy.example", "PARIS", None, True, False),
    ]


def test_person_on_lines_of_different_chunks_is_created_once(tree):
    result = import_users(
        users_csv(
            "PARIS,grace@navy.example,Grace,Hopper,,,,yes,",
            "EMEA,someone@else.example,Some,One,,,,,",
            "BERLIN,grace@navy.example,,,Admiral,,,,",
        ),
        chunk_size=1,
    )

    assert totals(result) == {"new": 3, "updated": 0, "unchanged": 0, "failed": 0}
    assert people() == [
        ("grace@navy.example", "Grace", "Hopper", "Admiral", ""),
        ("someone@else.example", "Some", "One", "", ""),
    ]


# Blank leaves as is; yes and no


def test_blank_cells_leave_existing_values_as_they_are(ada):
    before = snapshot()

    result = import_users(users_csv("PARIS,ada@customer.example,,,,,,,"))

    assert totals(result) == {"new": 0, "updated": 0, "unchanged": 1, "failed": 0}
    assert snapshot() == before


def test_profile_values_update_the_person(ada, staff_user):
    result = import_users(
        users_csv("EMEA,ada@customer.example,Augusta Ada,King,Countess,,,,"), by=staff_user
    )

    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 0}
    assert people() == [
        ("Ada@Customer.example", "Augusta Ada", "King", "Countess", "+33 1 23 45 67 89")
    ]
    assert changed_rows(result) == [
        (
            2,
            "ada@customer.example at EMEA",
            "update",
            [
                ("First Name", "Ada", "Augusta Ada"),
                ("Last Name", "Lovelace", "King"),
                ("Title", "CTO", "Countess"),
            ],
        ),
    ]
    # A profile is not a contact mark: no history.
    assert history() == []


def test_contact_no_removes_the_contact_and_key_mark_but_keeps_person_and_membership(
    ada, staff_user
):
    result = import_users(users_csv("PARIS,ada@customer.example,,,,,,no,"), by=staff_user)

    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 0}
    assert memberships() == [
        ("Ada@Customer.example", "EMEA", None, False, False),
        ("Ada@Customer.example", "PARIS", "Site admin", False, False),
    ]
    assert history() == [
        ("Ada@Customer.example", "PARIS", "contact", "yes", "no", "import", "ivy"),
        ("Ada@Customer.example", "PARIS", "key_contact", "yes", "no", "import", "ivy"),
    ]


def test_key_contact_yes_makes_a_contact_too(ada):
    result = import_users(users_csv("EMEA,ada@customer.example,,,,,,,yes"))

    assert changed_rows(result) == [
        (
            2,
            "ada@customer.example at EMEA",
            "update",
            [
                ("Contact", "no", "yes"),
                ("Key Contact", "no", "yes"),
            ],
        ),
    ]
    assert ("Ada@Customer.example", "EMEA", None, True, True) in memberships()


def test_key_contact_no_removes_the_key_mark_only(ada):
    result = import_users(users_csv("PARIS,ada@customer.example,,,,,,,no"))

    assert changed_rows(result) == [
        (2, "ada@customer.example at PARIS", "update", [("Key Contact", "yes", "no")]),
    ]
    assert ("Ada@Customer.example", "PARIS", "Site admin", True, False) in memberships()


def test_role_is_set_by_name_ignoring_case(ada, staff_user):
    result = import_users(users_csv("PARIS,ada@customer.example,,,,,end USER,,"), by=staff_user)

    assert changed_rows(result) == [
        (
            2,
            "ada@customer.example at PARIS",
            "update",
            [
                ("Account Role", "Site admin", "End user"),
            ],
        ),
    ]
    assert history() == [
        ("Ada@Customer.example", "PARIS", "role", "Site admin", "End user", "import", "ivy"),
    ]


@pytest.mark.parametrize("value", ["Yes", "YES", "TRUE", "true", "1", "y", "Y", "x", "oui"])
def test_contact_and_key_contact_accept_only_lowercase_yes_and_no(ada, value):
    before = snapshot()

    result = import_users(users_csv(f"PARIS,ada@customer.example,,,,,,{value},{value}"))

    assert totals(result) == {"new": 0, "updated": 0, "unchanged": 0, "failed": 1}
    message = f"“{value}” is not accepted: write yes or no (in lowercase), or leave it blank."
    assert result.problems() == [(2, "Contact", message), (2, "Key Contact", message)]
    assert snapshot() == before


def test_contact_no_with_key_contact_yes_is_an_error(ada):
    result = import_users(users_csv("PARIS,ada@customer.example,,,,,,no,yes"))

    assert result.problems() == [
        (
            2,
            "Key Contact",
            "Contact is no but Key Contact is yes: a key contact is always a contact.",
        ),
    ]


# Row errors, all reported at once


def test_every_error_of_a_file_is_reported_with_line_column_and_message(tree, ada):
    text = users_csv(
        "NOPE,bad-email,,,,,,,",  # 2
        ",,,,,,,,",  # blank: skipped
        "PARIS,new@example.com,,Only last,,,,yes,",  # 4
        "BERLIN,ada@customer.example,,,,,Champion,,",  # 5
        "PARIS,grace@navy.example,Grace,Hopper,,,,,",  # 6
        "PARIS,GRACE@navy.example,Grace,Hopper,,,,,",  # 7
        ",ada@customer.example,,,,,,,",  # 8
        "EMEA,,,,,,,,",  # 9
        "AUSTIN_IT,x@example.com,X,Y,,,Boss,,",  # 10
    )

    result = import_users(text)

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 7}
    assert result.problems() == [
        (2, "Account ID", "No account has the Account ID “NOPE”."),
        (2, "Email", "“bad-email” is not a valid email address."),
        (4, "First Name", "First Name is required for a new person."),
        (
            5,
            "Account Role",
            "“Champion” is not a role of Site accounts. Valid roles: End user, Site admin.",
        ),
        (
            7,
            "Email",
            "The same Email and Account ID are on lines 6 and 7: a person can be on one "
            "line per account.",
        ),
        (8, "Account ID", "Account ID is required."),
        (9, "Email", "Email is required."),
        (
            10,
            "Account Role",
            "“Boss” is not a role of Department accounts. Valid roles: Department head.",
        ),
    ]


def test_too_long_values_are_row_errors(tree):
    result = import_users(users_csv(f"PARIS,long@example.com,{'A' * 101},B,,{'9' * 51},,,"))

    assert result.problems() == [
        (2, "First Name", "Too long: at most 100 characters are allowed, this value has 101."),
        (2, "Phone", "Too long: at most 50 characters are allowed, this value has 51."),
    ]


def test_a_file_with_errors_writes_nothing(tree, ada):
    before = snapshot()

    result = import_users(
        users_csv(
            "BERLIN,grace@navy.example,Grace,Hopper,,,,yes,",
            "NOPE,alan@example.com,Alan,Turing,,,,,",
        )
    )

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 1}
    assert snapshot() == before


def test_a_file_with_errors_in_a_later_chunk_writes_nothing_of_the_earlier_ones(tree, ada):
    before = snapshot()

    result = import_users(
        users_csv(
            "BERLIN,grace@navy.example,Grace,Hopper,,,,yes,",
            "PARIS,alan@example.com,Alan,Turing,,,,,",
            "NOPE,edsger@example.com,Edsger,Dijkstra,,,,,",
        ),
        chunk_size=1,
    )

    assert totals(result) == {"new": 2, "updated": 0, "unchanged": 0, "failed": 1}
    assert snapshot() == before


def test_skip_errors_imports_the_valid_rows_and_lists_the_skipped_ones(tree, ada):
    result = import_users(
        users_csv(
            "BERLIN,grace@navy.example,Grace,Hopper,,,,yes,",
            "NOPE,alan@example.com,Alan,Turing,,,,,",
        ),
        skip_errors=True,
    )

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 1}
    assert ("grace@navy.example", "BERLIN", None, True, False) in memberships()
    assert not Person.objects.filter(email="alan@example.com").exists()
    assert result.failed_dataset.headers == [*USERS_HEADER.split(","), "Error"]
    assert [list(row) for row in result.failed_dataset] == [
        [
            "NOPE",
            "alan@example.com",
            "Alan",
            "Turing",
            "",
            "",
            "",
            "",
            "",
            "Line 3. Account ID: No account has the Account ID “NOPE”.",
        ],
    ]


def test_the_preview_writes_nothing(tree, ada):
    before = snapshot()

    result = import_users(
        users_csv(
            "BERLIN,grace@navy.example,Grace,Hopper,,,,yes,yes",
            "PARIS,ada@customer.example,Ada,Byron,,,End user,no,",
        ),
        dry_run=True,
    )

    assert totals(result) == {"new": 1, "updated": 1, "unchanged": 0, "failed": 0}
    assert snapshot() == before


def test_the_preview_counts_as_the_import_does_for_a_person_on_several_chunks(ada):
    text = users_csv(
        "PARIS,ada@customer.example,,,Countess,,,,",
        "EMEA,ada@customer.example,,,Countess,,,,",
        "BERLIN,ada@customer.example,,,Countess,,,,",
    )

    preview = import_users(text, dry_run=True, chunk_size=1)
    result = import_users(text, chunk_size=1)

    assert (
        totals(preview) == totals(result) == {"new": 1, "updated": 1, "unchanged": 1, "failed": 0}
    )
    assert changed_rows(preview) == changed_rows(result)


def test_importing_the_same_file_twice_changes_nothing_the_second_time(tree, ada):
    text = users_csv(
        "BERLIN,grace@navy.example,Grace,Hopper,Admiral,,End user,yes,yes",
        "PARIS,ada@customer.example,Ada,Byron,,,End user,no,",
        "EMEA,ada@customer.example,,,,+44 20,,,yes",
    )
    first = import_users(text)
    after_first = snapshot()

    second = import_users(text)

    assert totals(first) == {"new": 1, "updated": 2, "unchanged": 0, "failed": 0}
    assert totals(second) == {"new": 0, "updated": 0, "unchanged": 3, "failed": 0}
    assert snapshot() == after_first


def test_a_person_given_two_profiles_keeps_the_first_and_is_warned_about(tree):
    result = import_users(
        users_csv(
            "PARIS,grace@navy.example,Grace,Hopper,Admiral,,,,",
            "BERLIN,grace@navy.example,Grace,Hopper,Captain,,,,",
        )
    )
    second = import_users(
        users_csv(
            "PARIS,grace@navy.example,Grace,Hopper,Admiral,,,,",
            "BERLIN,grace@navy.example,Grace,Hopper,Captain,,,,",
        )
    )

    assert people() == [("grace@navy.example", "Grace", "Hopper", "Admiral", "")]
    assert result.warnings == [
        "Line 3: Title “Captain” differs from “Admiral” on line 2 for the same Email; the "
        "earlier value is kept."
    ]
    assert totals(second) == {"new": 0, "updated": 0, "unchanged": 2, "failed": 0}


# Headers


def test_headers_match_ignoring_case_and_spaces_and_unknown_columns_are_warnings(ada):
    text = (
        "  account id ,EMAIL,key contact,Notes,accountrole\n"
        "EMEA,ada@customer.example,yes,likes engines,\n"
    )

    result = import_users(text)

    assert result.warnings == ["Column “Notes” is not part of a users file and was ignored."]
    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 0}
    assert ("Ada@Customer.example", "EMEA", None, True, True) in memberships()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "Email,First Name",
            "This users file has no Account ID column. Its header row (line 1) must name Account "
            "ID and Email; it has: Email, First Name.",
        ),
        (
            "Name,Mail",
            "This users file has no Account ID and Email columns. Its header row (line 1) must "
            "name Account ID and Email; it has: Name, Mail.",
        ),
        (
            "Account ID,Email,email",
            "The column Email appears twice in the header row (columns 2 and 3). Keep one and "
            "upload the file again.",
        ),
    ],
)
def test_a_header_without_the_required_columns_is_one_file_problem(tree, header, message):
    before = snapshot()

    result = import_users(f"{header}\nPARIS,ada@example.com,x\n")

    assert result.file_problems() == [message]
    assert totals(result) == {"new": 0, "updated": 0, "unchanged": 0, "failed": 0}
    assert snapshot() == before


# Line numbers


def test_line_numbers_are_the_spreadsheets_with_quoted_values_over_several_lines(tree):
    text = (
        "Account ID,Email,First Name,Last Name,Title\r\n"
        'PARIS,a@example.com,A,"Multi\r\nline",x\r\n'
        "\r\n"
        "NOPE,b@example.com,B,B,\r\n"
    )

    result = import_users(text)

    assert result.problems() == [(5, "Account ID", "No account has the Account ID “NOPE”.")]
    assert people() == []


def test_formula_guard_of_an_export_is_undone(tree):
    result = import_users(users_csv("PARIS,sum@example.com,'=Sum,'-Minus,'@home,'+1 555,,,"))

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 0}
    assert people() == [("sum@example.com", "=Sum", "-Minus", "@home", "+1 555")]


# Failure in the middle


def test_an_error_in_the_middle_of_an_import_leaves_the_data_as_it_was(tree, ada, failing_insert):
    before = snapshot()

    with pytest.raises(DatabaseError):
        import_users(
            users_csv(
                "BERLIN,grace@navy.example,Grace,Hopper,,,,yes,",
                "PARIS,ada@customer.example,,,,,,no,",
                "EMEA,boom@example.com,Boom,Boom,,,,,",
            ),
            chunk_size=1,
        )

    assert snapshot() == before


# The re-add guard (SPEC §3.8)


@pytest.fixture
def removed_by_staff(ada, tree, staff_user):
    """Grace's contact at Berlin, removed in the app by Pat after the last export."""
    from datetime import UTC, datetime

    from integrations.models import UsersExport

    UsersExport.objects.create(created_at=datetime(2026, 1, 1, tzinfo=UTC))
    grace = PersonFactory(first_name="Grace", last_name="Hopper", email="grace@navy.example")
    return removed_contact(
        grace,
        tree["berlin"],
        source=ContactChange.Source.APP,
        staff_user=staff_user.__class__.objects.create(
            username="pat", first_name="Pat", last_name="Lee"
        ),
        changed_at=datetime(2026, 2, 3, 9, 30, tzinfo=UTC),
    )


def test_a_removed_contact_stays_removed_by_default_and_is_listed(removed_by_staff):
    result = import_users(users_csv("BERLIN,grace@navy.example,,,,,,yes,yes"))

    assert result.readd_count == 1
    assert [
        (r.line, r.email, r.account_id, r.account_name, r.removed_by, r.removed_at.isoformat())
        for r in result.readds
    ] == [
        (2, "grace@navy.example", "BERLIN", "Berlin", "Pat Lee", "2026-02-03T09:30:00+00:00"),
    ]
    assert totals(result) == {"new": 0, "updated": 0, "unchanged": 1, "failed": 0}
    assert ("grace@navy.example", "BERLIN", None, False, False) in memberships()


def test_a_removed_contact_is_made_a_contact_again_when_asked(removed_by_staff):
    result = import_users(users_csv("BERLIN,grace@navy.example,,,,,,yes,"), keep_removed=False)

    assert result.readd_count == 1
    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 0}
    assert ("grace@navy.example", "BERLIN", None, True, False) in memberships()


def test_a_removal_before_the_last_export_is_not_guarded(removed_by_staff):
    from integrations.models import UsersExport

    UsersExport.objects.create()  # now: after the removal

    result = import_users(users_csv("BERLIN,grace@navy.example,,,,,,yes,"))

    assert result.readd_count == 0
    assert ("grace@navy.example", "BERLIN", None, True, False) in memberships()


def test_a_removal_by_an_import_is_not_guarded(removed_by_staff):
    ContactChange.objects.update(source=ContactChange.Source.IMPORT)

    result = import_users(users_csv("BERLIN,grace@navy.example,,,,,,yes,"))

    assert result.readd_count == 0
    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 0}


# Big files: queries per chunk, not per row


def _rows(count, tree):
    accounts = ["PARIS", "BERLIN", "AUSTIN", "EMEA"]
    return users_csv(
        *[
            f"{accounts[n % 4]},person{n}@example.com,First{n},Last{n},,,,{'yes' if n % 2 else ''},"
            for n in range(count)
        ]
    )


@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "import"])
def test_queries_grow_with_chunks_not_rows(tree, dry_run):
    from django.test.utils import CaptureQueriesContext

    def queries(rows, chunk_size):
        Membership.objects.all().delete()
        Person.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            result = import_users(_rows(rows, tree), chunk_size=chunk_size, dry_run=dry_run)
        assert result.new == rows
        return len(captured)

    one_chunk_of_10 = queries(10, 10)
    one_chunk_of_40 = queries(40, 40)
    two_chunks = queries(20, 10)
    four_chunks = queries(40, 10)

    # Rows in a chunk cost no query; each chunk costs the same few: the people of the chunk
    # (its accounts were read by the first), and for an import an insert each of people,
    # memberships and their contact history.
    assert one_chunk_of_10 == one_chunk_of_40
    per_chunk = 1 if dry_run else 4
    assert two_chunks == one_chunk_of_10 + per_chunk
    assert four_chunks == one_chunk_of_10 + 3 * per_chunk


@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "import"])
def test_rows_beyond_the_listed_thousand_still_tell_an_update_from_an_unchanged_row(tree, dry_run):
    import_users(_rows(2, tree))
    new_people = [f"PARIS,new{n}@example.com,New,Person{n},,,,yes," for n in range(1000)]
    unchanged = "PARIS,person0@example.com,First0,Last0,,,,,"
    made_key = "BERLIN,person1@example.com,First1,Last1,,,,yes,yes"

    result = import_users(
        users_csv(*new_people, unchanged, made_key), chunk_size=500, dry_run=dry_run
    )

    assert totals(result) == {"new": 1000, "updated": 1, "unchanged": 1, "failed": 0}
    assert len(changed_rows(result)) == 1000  # the new people; the update is past the list
    if not dry_run:
        assert [row for row in history() if row[0] == "person1@example.com"][-1:] == [
            ("person1@example.com", "BERLIN", "key_contact", "no", "yes", "import", None)
        ]


@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "import"])
def test_a_big_file_of_new_rows_lists_the_first_thousand_with_their_changes(tree, dry_run):
    result = import_users(_rows(1200, tree), chunk_size=500, dry_run=dry_run)

    assert totals(result) == {"new": 1200, "updated": 0, "unchanged": 0, "failed": 0}
    listed = changed_rows(result)
    assert len(listed) == 1000
    assert listed[999] == (
        1001,
        "person999@example.com at EMEA",
        "new",
        [
            ("Email", "", "person999@example.com"),
            ("First Name", "", "First999"),
            ("Last Name", "", "Last999"),
            ("Contact", "no", "yes"),
        ],
    )
    if not dry_run:
        # Every new contact is recorded, listed or not.
        assert ContactChange.objects.filter(field="contact", new_value="yes").count() == 600


def test_export_columns_are_the_users_file_columns():
    # The optional Status, Start Date and End Date come last (issue 14).
    assert UsersResource.columns() == [*USERS_HEADER.split(","), "Status", "Start Date", "End Date"]
