"""The hierarchy views of the Contacts widget (SPEC §3.3), from every account of a four-level tree.

The expected sets below are written out by hand from the drawing in the `tree` fixture, not
derived from the tree columns, so a wrong lft/rght comparison cannot make both sides agree.
"""

import pytest
from django.db import connection

import accounts.models
from accounts.models import Account, Scope, scope_q
from contacts.models import Membership
from tests.factories import MembershipFactory, PersonFactory

# The accounts of the `tree` fixture, in its drawing's order.
CORP_ACCOUNTS = [
    "corp",
    "emea",
    "paris",
    "paris_sales",
    "berlin",
    "amer",
    "austin",
    "austin_ops",
    "austin_it",
]
OTHER_ACCOUNTS = ["other", "other_region"]
ACCOUNTS = CORP_ACCOUNTS + OTHER_ACCOUNTS
CORP_COMPANY = set(CORP_ACCOUNTS)
OTHER_COMPANY = set(OTHER_ACCOUNTS)

# Scope → account the view is taken from → the accounts it holds.
EXPECTED = {
    Scope.THIS_ACCOUNT: {key: {key} for key in ACCOUNTS},
    Scope.DIRECT_PARENT: {
        "corp": set(),
        "emea": {"corp"},
        "paris": {"emea"},
        "paris_sales": {"paris"},
        "berlin": {"emea"},
        "amer": {"corp"},
        "austin": {"amer"},
        "austin_ops": {"austin"},
        "austin_it": {"austin"},
        "other": set(),
        "other_region": {"other"},
    },
    Scope.ALL_PARENTS: {
        "corp": set(),
        "emea": {"corp"},
        "paris": {"corp", "emea"},
        "paris_sales": {"corp", "emea", "paris"},
        "berlin": {"corp", "emea"},
        "amer": {"corp"},
        "austin": {"corp", "amer"},
        "austin_ops": {"corp", "amer", "austin"},
        "austin_it": {"corp", "amer", "austin"},
        "other": set(),
        "other_region": {"other"},
    },
    Scope.DIRECT_CHILDREN: {
        "corp": {"emea", "amer"},
        "emea": {"paris", "berlin"},
        "paris": {"paris_sales"},
        "paris_sales": set(),
        "berlin": set(),
        "amer": {"austin"},
        "austin": {"austin_ops", "austin_it"},
        "austin_ops": set(),
        "austin_it": set(),
        "other": {"other_region"},
        "other_region": set(),
    },
    Scope.ALL_CHILDREN: {
        "corp": CORP_COMPANY - {"corp"},
        "emea": {"paris", "paris_sales", "berlin"},
        "paris": {"paris_sales"},
        "paris_sales": set(),
        "berlin": set(),
        "amer": {"austin", "austin_ops", "austin_it"},
        "austin": {"austin_ops", "austin_it"},
        "austin_ops": set(),
        "austin_it": set(),
        "other": {"other_region"},
        "other_region": set(),
    },
    Scope.THIS_AND_ALL_CHILDREN: {
        "corp": CORP_COMPANY,
        "emea": {"emea", "paris", "paris_sales", "berlin"},
        "paris": {"paris", "paris_sales"},
        "paris_sales": {"paris_sales"},
        "berlin": {"berlin"},
        "amer": {"amer", "austin", "austin_ops", "austin_it"},
        "austin": {"austin", "austin_ops", "austin_it"},
        "austin_ops": {"austin_ops"},
        "austin_it": {"austin_it"},
        "other": {"other", "other_region"},
        "other_region": {"other_region"},
    },
    Scope.ENTIRE_HIERARCHY: {
        key: CORP_COMPANY if key in CORP_COMPANY else OTHER_COMPANY for key in ACCOUNTS
    },
}

# "All <type> accounts" is the same from every account of one company.
EXPECTED_BY_TYPE = {
    "Corporate": {"corp company": {"corp"}, "other company": {"other"}},
    "Region": {"corp company": {"emea", "amer"}, "other company": {"other_region"}},
    "Site": {"corp company": {"paris", "berlin", "austin"}, "other company": set()},
    "Department": {
        "corp company": {"paris_sales", "austin_ops", "austin_it"},
        "other company": set(),
    },
}


def _accounts_in_scope(account, scope, *, account_type=None):
    """The accounts that scope_q selects: the Q the Contacts widget and the people list filter
    memberships by (prefix "account__"), here on accounts themselves."""
    return Account.objects.filter(scope_q(account, scope, account_type=account_type))


def _company(key):
    return "corp company" if key in CORP_COMPANY else "other company"


SCOPE_CASES = [
    pytest.param(scope, key, expected, id=f"{scope.value}-from-{key}")
    for scope, table in EXPECTED.items()
    for key, expected in table.items()
]
TYPE_CASES = [
    pytest.param(type_name, key, by_company[_company(key)], id=f"type-{type_name}-from-{key}")
    for type_name, by_company in EXPECTED_BY_TYPE.items()
    for key in ACCOUNTS
]


def _keys(tree, accounts):
    key_of = {account.pk: key for key, account in tree.items()}
    return {key_of[account.pk] for account in accounts}


@pytest.fixture
def people(tree):
    """At every account, a contact and a member who is not a contact, named after the account."""
    contacts, members = {}, {}
    for key, account in tree.items():
        contacts[key] = PersonFactory(
            first_name=key, last_name="Contact", email=f"{key}@customer.example"
        )
        members[key] = PersonFactory(
            first_name=key, last_name="Member", email=f"{key}.member@customer.example"
        )
        MembershipFactory(person=contacts[key], account=account, is_contact=True)
        MembershipFactory(person=members[key], account=account, is_contact=False)
    return {"contacts": contacts, "members": members}


def test_expected_tables_cover_every_account_and_scope():
    # A guard on the tables themselves: a scope or account left out would pass silently.
    assert set(EXPECTED) | {Scope.ACCOUNT_TYPE} == set(Scope)
    for table in EXPECTED.values():
        assert list(table) == ACCOUNTS


@pytest.mark.parametrize(("scope", "key", "expected"), SCOPE_CASES)
def test_account_in_scope_is_exact_in_one_query(
    tree, django_assert_num_queries, scope, key, expected
):
    with django_assert_num_queries(1):
        accounts = list(_accounts_in_scope(tree[key], scope))
    assert _keys(tree, accounts) == expected


@pytest.mark.parametrize(("type_name", "key", "expected"), TYPE_CASES)
def test_account_in_type_scope_is_exact_in_one_query(
    tree, account_types, django_assert_num_queries, type_name, key, expected
):
    with django_assert_num_queries(1):
        accounts = list(
            _accounts_in_scope(tree[key], Scope.ACCOUNT_TYPE, account_type=account_types[type_name])
        )
    assert _keys(tree, accounts) == expected


@pytest.mark.parametrize("type_name", list(EXPECTED_BY_TYPE))
def test_account_type_scope_accepts_a_type_id(tree, account_types, type_name):
    accounts = _accounts_in_scope(
        tree["paris"], Scope.ACCOUNT_TYPE, account_type=account_types[type_name].pk
    )
    assert _keys(tree, accounts) == EXPECTED_BY_TYPE[type_name]["corp company"]


def test_account_type_scope_without_a_type_is_an_error(tree):
    with pytest.raises(ValueError, match="needs an account_type"):
        _accounts_in_scope(tree["paris"], Scope.ACCOUNT_TYPE)


def test_scope_given_as_its_stored_value_is_the_same_scope(tree):
    # Views read the scope from the query string: "parents", not Scope.ALL_PARENTS.
    assert _keys(tree, _accounts_in_scope(tree["paris_sales"], "parents")) == {
        "corp",
        "emea",
        "paris",
    }


def test_unknown_scope_is_an_error(tree):
    with pytest.raises(ValueError):
        _accounts_in_scope(tree["paris"], "cousins")


def test_scope_combines_with_other_filters(tree, account_types):
    accounts = Account.objects.filter(account_type=account_types["Site"]).filter(
        scope_q(tree["corp"], Scope.ALL_CHILDREN)
    )
    assert _keys(tree, accounts) == {"paris", "berlin", "austin"}


@pytest.mark.parametrize("scope", [scope for scope in Scope if scope != Scope.ACCOUNT_TYPE])
def test_no_scope_leaks_into_the_other_company(tree, scope):
    for key in ACCOUNTS:
        own, foreign = (
            (CORP_COMPANY, OTHER_COMPANY) if key in CORP_COMPANY else (OTHER_COMPANY, CORP_COMPANY)
        )
        found = _keys(tree, _accounts_in_scope(tree[key], scope))
        assert found <= own, key
        assert not found & foreign, key


@pytest.mark.parametrize("type_name", list(EXPECTED_BY_TYPE))
def test_type_scope_does_not_leak_into_the_other_company(tree, account_types, type_name):
    for key in ACCOUNTS:
        foreign = OTHER_COMPANY if key in CORP_COMPANY else CORP_COMPANY
        found = _keys(
            tree,
            _accounts_in_scope(
                tree[key], Scope.ACCOUNT_TYPE, account_type=account_types[type_name]
            ),
        )
        assert not found & foreign, key


@pytest.mark.parametrize("subtrees", ["small", "large"])
@pytest.mark.parametrize(("scope", "key", "expected"), SCOPE_CASES)
def test_memberships_in_scope_are_exact_in_one_query(
    tree, people, django_assert_num_queries, monkeypatch, scope, key, expected, subtrees
):
    # Both ways of matching a subtree (by account id below SMALL_SUBTREE, by range above).
    monkeypatch.setattr(accounts.models, "SMALL_SUBTREE", 1_000 if subtrees == "small" else 0)
    with django_assert_num_queries(1):
        memberships = list(Membership.objects.in_scope(tree[key], scope))
    assert {m.person_id for m in memberships} == (
        {people["contacts"][k].pk for k in expected} | {people["members"][k].pk for k in expected}
    )
    assert len(memberships) == 2 * len(expected)

    with django_assert_num_queries(1):
        contacts = list(Membership.objects.contacts().in_scope(tree[key], scope))
    assert {m.person_id for m in contacts} == {people["contacts"][k].pk for k in expected}
    assert len(contacts) == len(expected)


@pytest.mark.parametrize(("type_name", "key", "expected"), TYPE_CASES)
def test_memberships_in_type_scope_are_exact_in_one_query(
    tree, account_types, people, django_assert_num_queries, type_name, key, expected
):
    account_type = account_types[type_name]
    with django_assert_num_queries(1):
        memberships = list(
            Membership.objects.in_scope(tree[key], Scope.ACCOUNT_TYPE, account_type=account_type)
        )
    assert {m.person_id for m in memberships} == (
        {people["contacts"][k].pk for k in expected} | {people["members"][k].pk for k in expected}
    )

    with django_assert_num_queries(1):
        contacts = list(
            Membership.objects.contacts().in_scope(
                tree[key], Scope.ACCOUNT_TYPE, account_type=account_type
            )
        )
    assert {m.person_id for m in contacts} == {people["contacts"][k].pk for k in expected}


def test_contacts_filter_works_before_and_after_the_scope(tree, people):
    before = Membership.objects.contacts().in_scope(tree["emea"], Scope.THIS_AND_ALL_CHILDREN)
    after = Membership.objects.in_scope(tree["emea"], Scope.THIS_AND_ALL_CHILDREN).contacts()
    expected = {people["contacts"][k].pk for k in ("emea", "paris", "paris_sales", "berlin")}
    assert {m.person_id for m in before} == expected
    assert {m.person_id for m in after} == expected


def test_person_at_two_accounts_in_scope_has_a_membership_for_each(tree):
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@customer.example")
    at_paris = MembershipFactory(person=ada, account=tree["paris"], is_contact=True)
    at_austin = MembershipFactory(person=ada, account=tree["austin"], is_contact=True)
    at_other = MembershipFactory(person=ada, account=tree["other"], is_contact=True)

    found = Membership.objects.contacts().in_scope(tree["berlin"], Scope.ENTIRE_HIERARCHY)

    assert {(m.pk, m.account_id) for m in found} == {
        (at_paris.pk, tree["paris"].pk),
        (at_austin.pk, tree["austin"].pk),
    }
    assert {m.pk for m in Membership.objects.in_scope(tree["other"], Scope.ENTIRE_HIERARCHY)} == {
        at_other.pk
    }


def test_membership_type_scope_does_not_leak_into_the_other_company(tree, account_types, people):
    # Both companies have a Corporate and a Region account: the type alone must not match.
    found = Membership.objects.contacts().in_scope(
        tree["other_region"], Scope.ACCOUNT_TYPE, account_type=account_types["Region"]
    )
    assert {m.person_id for m in found} == {people["contacts"]["other_region"].pk}


def test_scopes_follow_a_moved_account(tree):
    # The Q objects are built from the account row in memory: after a move, a fresh row
    # gives the new family; this is what the profile page does on every request.
    paris = tree["paris"]
    paris.parent = tree["amer"]
    paris.save()
    paris = Account.objects.get(pk=paris.pk)

    assert _keys(tree, _accounts_in_scope(paris, Scope.ALL_PARENTS)) == {"corp", "amer"}
    assert _keys(tree, _accounts_in_scope(paris, Scope.DIRECT_PARENT)) == {"amer"}
    amer = Account.objects.get(pk=tree["amer"].pk)
    assert _keys(tree, _accounts_in_scope(amer, Scope.ALL_CHILDREN)) == {
        "austin",
        "austin_ops",
        "austin_it",
        "paris",
        "paris_sales",
    }
    emea = Account.objects.get(pk=tree["emea"].pk)
    assert _keys(tree, _accounts_in_scope(emea, Scope.ALL_CHILDREN)) == {"berlin"}


@pytest.mark.parametrize(
    ("scope", "small"),
    [
        (Scope.ALL_PARENTS, True),
        (Scope.ALL_CHILDREN, True),
        (Scope.THIS_AND_ALL_CHILDREN, True),
        (Scope.ENTIRE_HIERARCHY, False),
    ],
)
def test_a_few_accounts_are_matched_by_id_from_another_models_rows(tree, scope, small):
    """PostgreSQL overestimates the rows of an lft/rght range (1.2 s for a leaf's people list
    on the large data set, walking the name order for contacts that are not there): a small
    subtree's or the parents' accounts are matched by id (accounts.lookups), a whole company
    by its tree."""
    sql = str(Membership.objects.in_scope(tree["emea"], scope).query)

    assert ('"contacts_membership"."account_id" = ANY(ARRAY(SELECT' in sql) == (
        small and connection.vendor == "postgresql"
    )
    assert ('"contacts_membership"."account_id" IN (SELECT' in sql) == (
        small and connection.vendor != "postgresql"
    )
