"""The accounts file (SPEC §4.2): any row order, updates and moves, loops and unknown parents or
types refused, and trees that stay valid."""

import pytest

from accounts.models import Account
from tests.factories import MembershipFactory
from tests.integrations.conftest import (
    ACCOUNTS_HEADER,
    accounts_csv,
    changed_rows,
    import_accounts,
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
            "AUSTIN_IT,,Site,AUSTIN",  # retyped, same parent
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
        (3, "AUSTIN_IT", "update", [("Account Type", "Department", "Site")]),
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
        "      AUSTIN_IT (Site)",
        "    BERLIN (Site)",
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
    import_accounts(accounts_csv("OTHER,,,CORP"))

    assert outline()[-2:] == ["  OTHER (Corporate)", "    OTHER_REGION (Region)"]
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

    result = import_accounts(accounts_csv("BERLIN,,Department,EMEA", "PARIS,,Department,EMEA"))

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
        accounts_csv("LYON,Lyon,Site,EMEA", "BERLIN,,,AMER", "OTHER,,,CORP"), dry_run=True
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
