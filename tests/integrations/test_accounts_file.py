"""Past 400 lines as one thing: every test of the accounts file, whose rows are judged together.

The accounts file (SPEC §4.2): any row order, updates and moves, loops and unknown parents or
types refused, the levels of accounts and the company of linked contacts kept as the admin keeps
them, and trees that stay valid."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, AccountType
from tests.factories import (
    AccountFactory,
    MembershipFactory,
    PersonFactory,
    TaskFactory,
    TouchpointFactory,
)
from tests.integrations.conftest import (
    ACCOUNTS_HEADER,
    accounts_csv,
    changed_rows,
    import_accounts,
    run,
    snapshot,
    totals,
)

pytestmark = pytest.mark.django_db


def outline():
    """Every tree, account by account in tree order, indented by level, with its type."""
    return [
        f"{'  ' * level}{external_id} ({type_name})"
        for external_id, type_name, level in Account.objects.order_by("tree_id", "lft").values_list(
            "external_id", "account_type__name", "level"
        )
    ]


def assert_valid_trees():
    """The nested-set columns agree with the parent links, as django-mptt needs them to."""
    accounts = {a.pk: a for a in Account.objects.all()}
    children = {}
    for account in accounts.values():
        children.setdefault(account.parent_id, []).append(account)
    roots = children.get(None, [])
    assert len({root.tree_id for root in roots}) == len(roots), "two roots share a tree id"

    def check(node, level, tree_id):
        assert (node.level, node.tree_id) == (level, tree_id), node.external_id
        position = node.lft + 1
        for child in sorted(children.get(node.pk, []), key=lambda c: c.lft):
            assert child.lft == position, child.external_id
            position = check(child, level + 1, tree_id) + 1
        assert node.rght == position, node.external_id
        return node.rght

    for root in roots:
        assert root.lft == 1
        check(root, 0, root.tree_id)
    assert sum(1 for _ in accounts) == len(accounts)


def test_a_hierarchy_in_any_row_order_is_created_as_one_tree(account_types):
    result = import_accounts(
        accounts_csv(
            "ACME-FR-PAR,Paris,Site,ACME-EU",
            "ACME-EU,Europe,Region,ACME",
            "ACME,Acme Corporation,Corporate,",
            "ACME-FR-LYO,Lyon,Site,ACME-EU",
            "ACME-US,Americas,Region,ACME",
        )
    )

    assert totals(result) == {"new": 5, "updated": 0, "unchanged": 0, "failed": 0}
    assert outline() == [
        "ACME (Corporate)",
        "  ACME-EU (Region)",
        "    ACME-FR-PAR (Site)",
        "    ACME-FR-LYO (Site)",
        "  ACME-US (Region)",
    ]
    assert_valid_trees()
    assert changed_rows(result)[0] == (
        2,
        "ACME-FR-PAR Paris",
        "new",
        [
            ("Account Name", "", "Paris"),
            ("Account Type", "", "Site"),
            ("Parent Account ID", "", "ACME-EU"),
        ],
    )


def test_new_accounts_join_an_existing_tree_after_its_accounts(tree):
    result = import_accounts(accounts_csv("LYON,Lyon,Site,EMEA", "LYON_HR,Lyon HR,Department,LYON"))

    assert totals(result) == {"new": 2, "updated": 0, "unchanged": 0, "failed": 0}
    assert outline()[:7] == [
        "CORP (Corporate)",
        "  EMEA (Region)",
        "    PARIS (Site)",
        "      PARIS_SALES (Department)",
        "    BERLIN (Site)",
        "    LYON (Site)",
        "      LYON_HR (Department)",
    ]
    assert_valid_trees()


def test_existing_accounts_are_renamed_retyped_and_moved(tree):
    result = import_accounts(
        accounts_csv(
            "BERLIN,Berlin Mitte,,AMER",  # renamed and moved to another region
            "AUSTIN_IT,,Site,AMER",  # retyped and moved up, beside the Site it was below
            "OTHER_REGION,,,CORP",  # moved from another company's tree
            "PARIS,Paris,Site,EMEA",  # as it is
        )
    )

    assert totals(result) == {"new": 0, "updated": 3, "unchanged": 1, "failed": 0}
    assert changed_rows(result) == [
        (
            2,
            "BERLIN Berlin Mitte",
            "update",
            [
                ("Account Name", "Berlin", "Berlin Mitte"),
                ("Parent Account ID", "EMEA", "AMER"),
            ],
        ),
        (
            3,
            "AUSTIN_IT",
            "update",
            [("Account Type", "Department", "Site"), ("Parent Account ID", "AUSTIN", "AMER")],
        ),
        (4, "OTHER_REGION", "update", [("Parent Account ID", "OTHER", "CORP")]),
    ]
    assert outline() == [
        "CORP (Corporate)",
        "  EMEA (Region)",
        "    PARIS (Site)",
        "      PARIS_SALES (Department)",
        "  AMER (Region)",
        "    AUSTIN (Site)",
        "      AUSTIN_OPS (Department)",
        "    BERLIN (Site)",
        "    AUSTIN_IT (Site)",
        "  OTHER_REGION (Region)",
        "OTHER (Corporate)",
    ]
    assert Account.objects.get(external_id="BERLIN").name == "Berlin Mitte"
    assert_valid_trees()


def test_a_blank_parent_makes_an_account_a_root_of_its_own_tree(tree):
    result = import_accounts(accounts_csv("EMEA,,,"))

    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 0}
    assert outline() == [
        "CORP (Corporate)",
        "  AMER (Region)",
        "    AUSTIN (Site)",
        "      AUSTIN_OPS (Department)",
        "      AUSTIN_IT (Department)",
        "OTHER (Corporate)",
        "  OTHER_REGION (Region)",
        "EMEA (Region)",
        "  PARIS (Site)",
        "    PARIS_SALES (Department)",
        "  BERLIN (Site)",
    ]
    assert_valid_trees()


def test_a_root_moved_under_another_tree_takes_its_whole_tree_along(tree):
    import_accounts(accounts_csv("OTHER,,Region,CORP", "OTHER_REGION,,Site,OTHER"))

    assert outline()[-2:] == ["  OTHER (Region)", "    OTHER_REGION (Site)"]
    assert (
        Account.objects.filter(external_id__in=["OTHER", "OTHER_REGION"])
        .values_list("tree_id", flat=True)
        .distinct()
        .count()
        == 1
    )
    assert_valid_trees()


def test_every_error_of_an_accounts_file_is_reported(tree):
    before = snapshot()

    result = import_accounts(
        accounts_csv(
            "NEW1,New one,Sit,CORP",  # 2: unknown type
            "NEW2,New two,Site,NOWHERE",  # 3: unknown parent
            "NEW3,,,EMEA",  # 4: new without name and type
            "PARIS,Paris,Site,PARIS",  # 5: its own parent
            "EMEA,,,PARIS_SALES",  # 6: a loop through the database
            "NEW4,New four,Site,NEW1",  # 7: parent on a failed line
            "BERLIN,Berlin,Site,EMEA",  # 8
            "BERLIN,Berlin again,Site,EMEA",  # 9: the same Account ID twice
            "A,A,Site,B",  # 10: a loop within the file
            "B,B,Site,A",  # 11
            ",No id,Site,",  # 12
        )
    )

    assert totals(result) == {"new": 0, "updated": 0, "unchanged": 1, "failed": 10}
    assert result.problems() == [
        (
            2,
            "Account Type",
            "No account type is called “Sit”. Account types: Corporate, Region, Site, Department.",
        ),
        (
            3,
            "Parent Account ID",
            "No account has the Account ID “NOWHERE”, in this file or already here.",
        ),
        (4, "Account Name", "Account Name is required for a new account."),
        (4, "Account Type", "Account Type is required for a new account."),
        (5, "Parent Account ID", "An account cannot be its own parent."),
        (
            6,
            "Parent Account ID",
            "The Account IDs EMEA → PARIS_SALES → PARIS → EMEA form a loop: an account cannot be "
            "below itself.",
        ),
        (
            7,
            "Parent Account ID",
            "The parent account “NEW1” (line 2) has errors, so this account cannot be placed.",
        ),
        (
            9,
            "Account ID",
            "The same Account ID is on lines 8 and 9: an account can be on one line.",
        ),
        (
            10,
            "Parent Account ID",
            "The Account IDs A → B → A form a loop: an account cannot be below itself.",
        ),
        (
            11,
            "Parent Account ID",
            "The Account IDs A → B → A form a loop: an account cannot be below itself.",
        ),
        (12, "Account ID", "Account ID is required."),
    ]
    assert snapshot() == before


def test_skip_errors_imports_the_valid_accounts(tree):
    result = import_accounts(
        accounts_csv("LYON,Lyon,Site,EMEA", "NEW,New,Sit,EMEA"), skip_errors=True
    )

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 1}
    assert Account.objects.filter(external_id__in=["LYON", "NEW"]).count() == 1
    assert_valid_trees()


def test_a_type_does_not_change_while_people_hold_roles_of_it(tree, roles):
    MembershipFactory(account=tree["berlin"], role=roles["Site", "Site admin"])
    MembershipFactory(account=tree["berlin"], role=roles["Site", "End user"])

    result = import_accounts(accounts_csv("BERLIN,,Department,EMEA", "OTHER_REGION,,Site,OTHER"))

    assert result.problems() == [
        (
            2,
            "Account Type",
            "The Account Type cannot change from Site to Department while 2 people here have roles "
            "of Site accounts. Change or clear those roles first.",
        ),
    ]
    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 1}


def test_the_preview_writes_nothing(tree):
    before = snapshot()

    result = import_accounts(
        accounts_csv("LYON,Lyon,Site,EMEA", "BERLIN,,,AMER", "OTHER_REGION,,,CORP"), dry_run=True
    )

    assert totals(result) == {"new": 1, "updated": 2, "unchanged": 0, "failed": 0}
    assert snapshot() == before


def test_importing_the_same_accounts_file_twice_changes_nothing_the_second_time(tree):
    text = accounts_csv("LYON,Lyon,Site,EMEA", "BERLIN,Berlin,Site,AMER", "NEWCO,New Co,Corporate,")
    import_accounts(text)
    before = snapshot()

    result = import_accounts(text)

    assert totals(result) == {"new": 0, "updated": 0, "unchanged": 3, "failed": 0}
    assert snapshot() == before


def test_accounts_file_headers_are_all_required(tree):
    result = import_accounts("Account ID,Account Name\nX,Y\n")

    assert result.file_problems() == [
        "This accounts file has no Account Type and Parent Account ID columns. Its header row "
        "(line 1) must name Account ID, Account Name, Account Type and Parent Account ID; it "
        "has: Account ID, Account Name."
    ]


def test_accounts_header_constant_is_the_resources():
    from integrations.resources import AccountsResource

    assert AccountsResource.columns() == ACCOUNTS_HEADER.split(",")


# The levels of accounts (Account.check_place) and the company of linked contacts
# (contacts.services.check_account_move), judged on the accounts as the whole file leaves them.

LEVELS = "(Corporate → Region → Site → Department)"
RULE = f"an account's type comes after its parent's {LEVELS}."


def judged(text, problems):
    """Preview `text`, import it all or nothing, then skipping the rows with errors: the first
    two write nothing and all three report `problems`. Returns the last result."""
    before = snapshot()
    for options in ({"dry_run": True}, {}):
        result = import_accounts(text, **options)
        assert result.problems() == problems
        assert snapshot() == before
    result = import_accounts(text, skip_errors=True)
    assert result.problems() == problems
    assert_valid_trees()
    return result


def parents():
    return dict(Account.objects.values_list("external_id", "parent__external_id"))


def types():
    return dict(Account.objects.values_list("external_id", "account_type__name"))


def test_an_account_below_a_parent_of_its_level_or_lower_is_refused(tree):
    result = judged(
        accounts_csv(
            "LYON,Lyon,Site,PARIS",  # 2: a new Site below a Site
            "BERLIN,,Region,EMEA",  # 3: retyped to its parent's level
            "AMER,,,PARIS",  # 4: a Region moved below a Site
            "NICE,Nice,Site,EMEA",  # 5: fine
        ),
        [
            (
                2,
                "Parent Account ID",
                f"Paris (PARIS, Site) cannot be the parent of Lyon (LYON, Site, line 2): {RULE}",
            ),
            (
                3,
                "Account Type",
                f"Emea (EMEA, Region) cannot be the parent of Berlin (BERLIN, Region, line 3): "
                f"{RULE}",
            ),
            (
                4,
                "Parent Account ID",
                f"Paris (PARIS, Site) cannot be the parent of Amer (AMER, Region, line 4): {RULE}",
            ),
        ],
    )

    assert totals(result) == {"new": 1, "updated": 0, "unchanged": 0, "failed": 3}
    assert "LYON" not in parents()
    assert (parents()["NICE"], parents()["AMER"], types()["BERLIN"]) == ("EMEA", "CORP", "Site")


def test_an_account_below_a_parent_that_the_file_retypes_is_refused(tree):
    result = judged(
        accounts_csv(
            "LYON,Lyon,Department,BERLIN",  # 2: below BERLIN as line 3 makes it
            "BERLIN,,Department,EMEA",  # 3: fine on its own
        ),
        [
            (
                2,
                "Parent Account ID",
                f"Berlin (BERLIN, Department, line 3) cannot be the parent of Lyon (LYON, "
                f"Department, line 2): {RULE}",
            ),
        ],
    )

    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 1}
    assert ("LYON" in parents(), types()["BERLIN"]) == (False, "Department")


def test_a_retyped_account_cannot_sit_above_its_children_of_its_new_level(tree):
    result = judged(
        accounts_csv("PARIS,,Department,EMEA", "BERLIN,Berlin Mitte,,EMEA"),
        [
            (
                2,
                "Account Type",
                f"Paris (PARIS, Department, line 2) cannot be the parent of Paris Sales "
                f"(PARIS_SALES, Department): {RULE}",
            ),
        ],
    )

    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 1}
    assert (types()["PARIS"], Account.objects.get(external_id="BERLIN").name) == (
        "Site",
        "Berlin Mitte",
    )


def test_a_retyped_account_whose_children_move_away_in_the_same_file_is_imported(tree):
    result = import_accounts(accounts_csv("PARIS,,Department,EMEA", "PARIS_SALES,,,BERLIN"))

    assert totals(result) == {"new": 0, "updated": 2, "unchanged": 0, "failed": 0}
    assert (types()["PARIS"], parents()["PARIS_SALES"]) == ("Department", "BERLIN")
    assert_valid_trees()


def test_a_refused_row_that_leaves_another_account_misplaced_refuses_that_row_too(tree):
    # PARIS cannot be a Region below AMER; so it stays a Site below EMEA, which line 2 would
    # make a Site: that row is refused in turn. BERLIN still moves.
    result = judged(
        accounts_csv("EMEA,,Site,CORP", "BERLIN,,,AMER", "PARIS,,Region,AMER"),
        [
            (
                2,
                "Account Type",
                f"Emea (EMEA, Site, line 2) cannot be the parent of Paris (PARIS, Site): {RULE}",
            ),
            (
                4,
                "Parent Account ID",
                f"Amer (AMER, Region) cannot be the parent of Paris (PARIS, Region, line 4): "
                f"{RULE}",
            ),
        ],
    )

    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 2}
    assert (types()["EMEA"], parents()["BERLIN"], parents()["PARIS"]) == ("Region", "AMER", "EMEA")


def test_an_accounts_own_row_is_refused_when_its_parents_row_makes_it_misplaced(tree):
    result = judged(
        accounts_csv("EMEA,,Site,CORP", "PARIS,Paris,Site,EMEA", "BERLIN,,,AMER"),
        [
            (
                2,
                "Account Type",
                f"Emea (EMEA, Site, line 2) cannot be the parent of Paris (PARIS, Site): {RULE}",
            ),
            (
                3,
                "Parent Account ID",
                f"Emea (EMEA, Site, line 2) cannot be the parent of Paris (PARIS, Site, line 3): "
                f"{RULE}",
            ),
        ],
    )

    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 2}


def test_accounts_misplaced_before_the_file_do_not_fail_rows_that_leave_them_be(tree):
    Account.objects.filter(external_id="BERLIN").update(account_type=tree["corp"].account_type)

    result = import_accounts(accounts_csv("EMEA,Europe,,CORP", "LYON,Lyon,Site,EMEA"))

    assert totals(result) == {"new": 1, "updated": 1, "unchanged": 0, "failed": 0}


# A Corporate account under a Department (issue 15), in every shape a file can give it; and no
# order at all while every type has one position (accounts.models.TypeLevels).


def _refusal(line, parent, child):
    return (line, "Parent Account ID", f"{parent} cannot be the parent of {child}: {RULE}")


@pytest.mark.parametrize(
    ("rows", "problems"),
    [
        pytest.param(
            ["ACME,Acme,Corporate,ACME_DEPT", "ACME_DEPT,Acme Dept,Department,OTHER_REGION"],
            [
                _refusal(
                    2,
                    "Acme Dept (ACME_DEPT, Department, line 3)",
                    "Acme (ACME, Corporate, line 2)",
                )
            ],
            id="parent-new-and-listed-after",
        ),
        pytest.param(
            ["OTHER,,,AUSTIN_IT"],
            [_refusal(2, "Austin It (AUSTIN_IT, Department)", "Other (OTHER, Corporate, line 2)")],
            id="existing-account-moved",
        ),
        pytest.param(
            [
                "ACME,Acme,Corporate,ACME_SITE",
                "ACME_SITE,Acme Site,Site,ACME_DEPT",
                "ACME_DEPT,Acme Dept,Department,",
            ],
            [
                _refusal(
                    2, "Acme Site (ACME_SITE, Site, line 3)", "Acme (ACME, Corporate, line 2)"
                ),
                _refusal(
                    3,
                    "Acme Dept (ACME_DEPT, Department, line 4)",
                    "Acme Site (ACME_SITE, Site, line 3)",
                ),
            ],
            id="children-listed-first",
        ),
        pytest.param(
            ["ACME,Acme,Corporate,OTHER_REGION", "OTHER_REGION,,Department,OTHER"],
            [
                _refusal(
                    2,
                    "Other Region (OTHER_REGION, Department, line 3)",
                    "Acme (ACME, Corporate, line 2)",
                )
            ],
            id="parent-retyped-by-the-file",
        ),
    ],
)
def test_a_corporate_account_under_a_department_is_refused_naming_both(tree, rows, problems):
    judged(accounts_csv(*rows), problems)

    assert ("ACME" in parents(), parents()["OTHER"]) == (False, None)


def test_with_every_type_at_one_position_a_file_nests_accounts_freely(tree):
    AccountType.objects.update(order=0)

    result = import_accounts(
        accounts_csv(
            "ACME,Acme,Corporate,ACME_DEPT",  # its parent listed after it
            "ACME_DEPT,Acme Dept,Department,AUSTIN_IT",  # below a Department
            "EMEA,,Department,AUSTIN_OPS",  # retyped above its Sites, below a Department
            "PARIS,,Corporate,",
        )
    )

    assert result.problems() == []
    assert (parents()["ACME"], parents()["ACME_DEPT"], types()["PARIS"]) == (
        "ACME_DEPT",
        "AUSTIN_IT",
        "Corporate",
    )
    assert_valid_trees()


def test_import_accounts_refuses_a_corporate_below_a_department(tree, tmp_path):
    before = snapshot()
    path = tmp_path / "accounts.csv"
    path.write_text(accounts_csv("ACME,Acme,Corporate,AUSTIN_OPS"), encoding="utf-8")

    lines, (code, _message) = run("import_accounts", str(path))

    assert code == 1
    assert lines[:3] == [
        "Accounts file accounts.csv: 0 new, 0 updated, 0 unchanged, 1 failed.",
        "Errors:",
        "  Line 2, Parent Account ID: Austin Ops (AUSTIN_OPS, Department) cannot be the parent "
        f"of Acme (ACME, Corporate, line 2): {RULE}",
    ]
    assert snapshot() == before


@pytest.fixture
def links(tree):
    """A task at CORP with Ada at PARIS_SALES; a touchpoint at EMEA with Ada and with Carl at
    CORP; a task at OTHER with Olga at OTHER_REGION."""
    ada = MembershipFactory(
        person=PersonFactory(first_name="Ada", last_name="Lovelace"), account=tree["paris_sales"]
    )
    carl = MembershipFactory(
        person=PersonFactory(first_name="Carl", last_name="Corbett"), account=tree["corp"]
    )
    olga = MembershipFactory(
        person=PersonFactory(first_name="Olga", last_name="Other"), account=tree["other_region"]
    )
    TaskFactory(account=tree["corp"], title="Renewal").contacts.set([ada])
    TouchpointFactory(account=tree["emea"], subject="Kickoff").participants.set([ada, carl])
    TaskFactory(account=tree["other"], title="Audit").contacts.set([olga])


def test_a_move_to_another_company_that_splits_links_is_refused(links):
    result = judged(
        accounts_csv(
            "EMEA,,,OTHER",  # 2: takes Ada away from the task at CORP, the touchpoint from Carl
            "AMER,,,",  # 3: a company of its own, nothing linked across
            "OTHER_REGION,,,CORP",  # 4: Olga leaves the task at OTHER
        ),
        [
            (
                2,
                "Parent Account ID",
                "Moving “EMEA” to another company would leave the task “Renewal” with Ada "
                "Lovelace; the touchpoint “Call: Kickoff” with Carl Corbett linked across two "
                "company hierarchies. Unlink those contacts first.",
            ),
            (
                4,
                "Parent Account ID",
                "Moving “OTHER_REGION” to another company would leave the task “Audit” with Olga "
                "Other linked across two company hierarchies. Unlink those contacts first.",
            ),
        ],
    )

    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 2}
    assert (parents()["EMEA"], parents()["AMER"], parents()["OTHER_REGION"]) == (
        "CORP",
        None,
        "OTHER",
    )


def test_a_move_inside_a_company_or_with_everything_linked_is_imported(links):
    result = import_accounts(
        accounts_csv(
            "PARIS_SALES,,,BERLIN", "PARIS,,,AMER", "OTHER,,Region,CORP", "OTHER_REGION,,Site,OTHER"
        )
    )

    assert totals(result) == {"new": 0, "updated": 4, "unchanged": 0, "failed": 0}
    assert parents()["OTHER"] == "CORP"
    assert_valid_trees()


def test_a_move_below_an_account_that_the_file_takes_to_another_company_is_refused(links):
    # Each row alone keeps the task at CORP with Ada; together they take Ada to OTHER.
    result = judged(
        accounts_csv("PARIS_SALES,,,BERLIN", "BERLIN,,,OTHER_REGION"),
        [
            (
                2,
                "Parent Account ID",
                "Moving “PARIS_SALES” to another company would leave the task “Renewal” with Ada "
                "Lovelace; the touchpoint “Call: Kickoff” with Ada Lovelace linked across two "
                "company hierarchies. Unlink those contacts first.",
            ),
            (
                3,
                "Parent Account ID",
                "Moving “BERLIN” to another company would leave the task “Renewal” with Ada "
                "Lovelace; the touchpoint “Call: Kickoff” with Ada Lovelace linked across two "
                "company hierarchies. Unlink those contacts first.",
            ),
        ],
    )

    assert totals(result) == {"new": 0, "updated": 0, "unchanged": 0, "failed": 2}


def test_a_move_refused_for_its_level_splits_no_links(links):
    # Line 2 alone would be refused for its links; line 3 keeps OTHER_REGION where it is, so
    # BERLIN, placed below it, cannot go either: a Site below a Site.
    result = judged(
        accounts_csv("BERLIN,,,OTHER_REGION", "OTHER_REGION,,Site,OTHER", "EMEA,,,OTHER"),
        [
            (
                2,
                "Parent Account ID",
                f"Other Region (OTHER_REGION, Site, line 3) cannot be the parent of Berlin "
                f"(BERLIN, Site, line 2): {RULE}",
            ),
            (
                4,
                "Parent Account ID",
                "Moving “EMEA” to another company would leave the task “Renewal” with Ada "
                "Lovelace; the touchpoint “Call: Kickoff” with Carl Corbett linked across two "
                "company hierarchies. Unlink those contacts first.",
            ),
        ],
    )

    assert totals(result) == {"new": 0, "updated": 1, "unchanged": 0, "failed": 2}


@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "import"])
def test_accounts_queries_do_not_grow_with_rows(tree, dry_run):
    """Levels and links are judged in memory: the links of the trees with moves are read once
    a file, and the links split are named in one more query, however many rows move."""
    departments = [
        AccountFactory(
            external_id=f"D{n}",
            account_type=tree["paris_sales"].account_type,
            parent=tree["berlin"],
        )
        for n in range(30)
    ]
    renewal = TaskFactory(account=tree["corp"], title="Renewal")
    # Every other department has a contact on a task at CORP: it cannot leave the company.
    renewal.contacts.set([MembershipFactory(account=department) for department in departments[::2]])

    def queries(count):
        new = [f"NEW{n},New {n},Department,{('PARIS', 'AUSTIN')[n % 2]}" for n in range(count)]
        moves = [f"D{n},,,OTHER_REGION" for n in range(count)]
        with transaction.atomic():
            with CaptureQueriesContext(connection) as captured:
                result = import_accounts(
                    accounts_csv(*moves, *new), dry_run=dry_run, skip_errors=True
                )
            transaction.set_rollback(True)
        assert (result.new, result.updated, result.failed) == (count, count // 2, count // 2)
        return len(captured)

    assert queries(4) == queries(30)
