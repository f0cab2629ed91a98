"""Account tree writes and their locks (accounts/models.py), one module: one locking scheme.

Structural writes to the account tree (insert, move, delete) leave a valid tree (SPEC §6).

"Valid" means: the tree columns are exactly what `Account.objects.rebuild()` computes from the
parent links. The concurrent tests run on PostgreSQL only, where writers really run side by
side and the advisory locks of `accounts.models.lock_trees` serialise them; SQLite lets one
writer in at a time anyway.

No test here orders events by sleeping: threads start together at a barrier, and where one
writer must be caught waiting for another, the test asks PostgreSQL (`pg_locks`) until it
says so.
"""

import threading
import time

import pytest
from django.db import connection, transaction
from mptt.exceptions import InvalidMove

from accounts.models import ALL_TREES, TREE_LOCK_NAMESPACE, Account
from tests.factories import AccountFactory

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Concurrent tree writes and advisory locks need PostgreSQL (set DATABASE_URL).",
)

# The parent links of the `tree` fixture, as external ids, before any test changes them.
FIXTURE_PARENTS = {
    "CORP": None,
    "EMEA": "CORP",
    "PARIS": "EMEA",
    "PARIS_SALES": "PARIS",
    "BERLIN": "EMEA",
    "AMER": "CORP",
    "AUSTIN": "AMER",
    "AUSTIN_OPS": "AUSTIN",
    "AUSTIN_IT": "AUSTIN",
    "OTHER": None,
    "OTHER_REGION": "OTHER",
}


def _tree_rows():
    return list(Account.objects.order_by("pk").values_list("pk", "tree_id", "lft", "rght", "level"))


def assert_tree_is_what_rebuild_makes_of_it(*, tree_id_gaps=False):
    """Assert that rebuilding the tree from its parent links changes nothing.

    rebuild() numbers the trees 1, 2, 3… in their current order. A tree that disappears (its
    root deleted, or moved into another tree) leaves a gap in the tree ids that django-mptt
    never closes; that is not corruption, so with `tree_id_gaps` the ids are compared by rank.
    """
    before = _tree_rows()
    Account.objects.rebuild()
    after = _tree_rows()
    if tree_id_gaps:
        rank = {tree_id: n for n, tree_id in enumerate(sorted({row[1] for row in before}), 1)}
        before = [(pk, rank[tree_id], *rest) for pk, tree_id, *rest in before]
    assert before == after


def _parents():
    """Every account's parent, as external ids."""
    return dict(Account.objects.values_list("external_id", "parent__external_id"))


def _trees():
    """The external ids of each tree, in tree id order."""
    trees = {}
    for tree_id, external_id in Account.objects.values_list("tree_id", "external_id"):
        trees.setdefault(tree_id, set()).add(external_id)
    return [trees[tree_id] for tree_id in sorted(trees)]


def _fresh(account):
    return Account.objects.get(pk=account.pk)


CORP_TREE = {
    "CORP",
    "EMEA",
    "PARIS",
    "PARIS_SALES",
    "BERLIN",
    "AMER",
    "AUSTIN",
    "AUSTIN_OPS",
    "AUSTIN_IT",
}


# Moves, deletes and inserts, one at a time (any database)


def test_fixture_tree_is_valid(tree):
    assert_tree_is_what_rebuild_makes_of_it()
    assert _parents() == FIXTURE_PARENTS
    assert _trees() == [CORP_TREE, {"OTHER", "OTHER_REGION"}]


def test_move_subtree_to_another_parent_by_save(tree):
    paris = tree["paris"]
    paris.parent = tree["amer"]
    paris.save()

    assert_tree_is_what_rebuild_makes_of_it()
    assert _parents() == FIXTURE_PARENTS | {"PARIS": "AMER"}
    assert {a.external_id for a in _fresh(tree["amer"]).get_descendants()} == {
        "AUSTIN",
        "AUSTIN_OPS",
        "AUSTIN_IT",
        "PARIS",
        "PARIS_SALES",
    }
    assert {a.external_id for a in _fresh(tree["emea"]).get_descendants()} == {"BERLIN"}
    assert _fresh(tree["paris_sales"]).level == 3


def test_move_subtree_to_another_tree_by_save(tree):
    emea = tree["emea"]
    emea.parent = tree["other_region"]
    emea.save()

    assert_tree_is_what_rebuild_makes_of_it()
    assert _parents() == FIXTURE_PARENTS | {"EMEA": "OTHER_REGION"}
    assert _trees() == [
        {"CORP", "AMER", "AUSTIN", "AUSTIN_OPS", "AUSTIN_IT"},
        {"OTHER", "OTHER_REGION", "EMEA", "PARIS", "PARIS_SALES", "BERLIN"},
    ]
    assert [a.external_id for a in _fresh(tree["paris_sales"]).get_ancestors()] == [
        "OTHER",
        "OTHER_REGION",
        "EMEA",
        "PARIS",
    ]


def test_move_subtree_to_root_by_save_gets_a_new_tree_id(tree):
    tree_ids = set(Account.objects.values_list("tree_id", flat=True))
    austin = tree["austin"]
    austin.parent = None
    austin.save()

    assert_tree_is_what_rebuild_makes_of_it()
    assert _parents() == FIXTURE_PARENTS | {"AUSTIN": None}
    assert _fresh(austin).tree_id == max(tree_ids) + 1
    assert _trees() == [
        {"CORP", "EMEA", "PARIS", "PARIS_SALES", "BERLIN", "AMER"},
        {"OTHER", "OTHER_REGION"},
        {"AUSTIN", "AUSTIN_OPS", "AUSTIN_IT"},
    ]


@pytest.mark.parametrize(
    ("root", "new_parent", "trees"),
    [
        # The last tree disappears: no gap in the tree ids.
        ("other", "austin", [CORP_TREE | {"OTHER", "OTHER_REGION"}]),
        # The first tree disappears: tree id 1 is left unused.
        ("corp", "other_region", [CORP_TREE | {"OTHER", "OTHER_REGION"}]),
    ],
)
def test_move_whole_tree_under_another_tree_by_save(tree, root, new_parent, trees):
    moved = tree[root]
    moved.parent = tree[new_parent]
    moved.save()

    assert_tree_is_what_rebuild_makes_of_it(tree_id_gaps=True)
    assert _parents() == FIXTURE_PARENTS | {root.upper(): new_parent.upper()}
    assert _trees() == trees


def test_move_of_a_stale_instance_by_save(tree):
    # Loaded before another move shifted its lft/rght: save() must not trust them.
    stale_paris_sales = _fresh(tree["paris_sales"])
    emea = _fresh(tree["emea"])
    emea.parent = _fresh(tree["amer"])
    emea.save()

    stale_paris_sales.parent = _fresh(tree["berlin"])
    stale_paris_sales.save()

    assert_tree_is_what_rebuild_makes_of_it()
    assert _parents() == FIXTURE_PARENTS | {"EMEA": "AMER", "PARIS_SALES": "BERLIN"}


def test_move_by_save_to_a_stale_parent_instance(tree):
    stale_berlin = _fresh(tree["berlin"])
    emea = _fresh(tree["emea"])
    emea.parent = _fresh(tree["amer"])
    emea.save()

    paris_sales = _fresh(tree["paris_sales"])
    paris_sales.parent = stale_berlin
    paris_sales.save()

    assert _parents() == FIXTURE_PARENTS | {"EMEA": "AMER", "PARIS_SALES": "BERLIN"}
    assert_tree_is_what_rebuild_makes_of_it()


def test_move_under_own_descendant_by_save_is_refused_and_changes_nothing(tree):
    rows = _tree_rows()
    emea = tree["emea"]
    emea.parent = tree["paris_sales"]

    with pytest.raises(InvalidMove):
        emea.save()

    assert _tree_rows() == rows
    assert _parents() == FIXTURE_PARENTS


@pytest.mark.parametrize(
    ("target", "position", "children_of_amer"),
    [
        ("amer", "last-child", ["AUSTIN", "PARIS"]),
        ("amer", "first-child", ["PARIS", "AUSTIN"]),
        ("austin", "left", ["PARIS", "AUSTIN"]),
        ("austin", "right", ["AUSTIN", "PARIS"]),
    ],
)
def test_move_node_to_another_parent(tree, target, position, children_of_amer):
    Account.objects.move_node(tree["paris"], tree[target], position)

    assert_tree_is_what_rebuild_makes_of_it()
    assert _parents() == FIXTURE_PARENTS | {"PARIS": "AMER"}
    assert [a.external_id for a in _fresh(tree["amer"]).get_children()] == children_of_amer


def test_move_node_to_another_tree(tree):
    Account.objects.move_node(tree["emea"], tree["other_region"])

    assert_tree_is_what_rebuild_makes_of_it()
    assert _parents() == FIXTURE_PARENTS | {"EMEA": "OTHER_REGION"}
    assert _trees() == [
        {"CORP", "AMER", "AUSTIN", "AUSTIN_OPS", "AUSTIN_IT"},
        {"OTHER", "OTHER_REGION", "EMEA", "PARIS", "PARIS_SALES", "BERLIN"},
    ]


def test_move_node_to_root(tree):
    Account.objects.move_node(tree["emea"], None)

    assert_tree_is_what_rebuild_makes_of_it()
    assert _parents() == FIXTURE_PARENTS | {"EMEA": None}
    assert _trees() == [
        {"CORP", "AMER", "AUSTIN", "AUSTIN_OPS", "AUSTIN_IT"},
        {"OTHER", "OTHER_REGION"},
        {"EMEA", "PARIS", "PARIS_SALES", "BERLIN"},
    ]


def test_move_node_of_a_whole_tree_under_another(tree):
    Account.objects.move_node(tree["corp"], tree["other_region"])

    assert_tree_is_what_rebuild_makes_of_it(tree_id_gaps=True)
    assert _parents() == FIXTURE_PARENTS | {"CORP": "OTHER_REGION"}
    assert _trees() == [CORP_TREE | {"OTHER", "OTHER_REGION"}]


def test_move_node_with_stale_instances(tree):
    stale_paris, stale_austin = _fresh(tree["paris"]), _fresh(tree["austin"])
    Account.objects.move_node(tree["berlin"], tree["amer"], "first-child")

    Account.objects.move_node(stale_paris, stale_austin)

    assert_tree_is_what_rebuild_makes_of_it()
    assert _parents() == FIXTURE_PARENTS | {"BERLIN": "AMER", "PARIS": "AUSTIN"}


def test_move_node_under_own_descendant_is_refused_and_changes_nothing(tree):
    rows = _tree_rows()

    with pytest.raises(InvalidMove):
        Account.objects.move_node(tree["emea"], tree["paris"])

    assert _tree_rows() == rows


def test_delete_subtree(tree):
    _fresh(tree["emea"]).delete()

    assert_tree_is_what_rebuild_makes_of_it()
    assert _parents() == {
        key: parent
        for key, parent in FIXTURE_PARENTS.items()
        if key not in {"EMEA", "PARIS", "PARIS_SALES", "BERLIN"}
    }
    corp = _fresh(tree["corp"])
    assert (corp.lft, corp.rght) == (1, 10)


def test_delete_leaf(tree):
    _fresh(tree["austin_ops"]).delete()

    assert_tree_is_what_rebuild_makes_of_it()
    assert _parents() == {k: p for k, p in FIXTURE_PARENTS.items() if k != "AUSTIN_OPS"}


def test_delete_whole_tree_then_new_root(tree, account_types):
    other_tree_id = tree["other"].tree_id
    _fresh(tree["corp"]).delete()
    assert _parents() == {"OTHER": None, "OTHER_REGION": "OTHER"}

    new = AccountFactory(external_id="NEW", account_type=account_types["Corporate"])

    new.refresh_from_db()
    assert new.tree_id == other_tree_id + 1
    assert _fresh(tree["other"]).tree_id == other_tree_id
    # Tree id 1 is unused now.
    assert_tree_is_what_rebuild_makes_of_it(tree_id_gaps=True)


def test_new_root_gets_a_new_tree_id_and_leaves_the_others_alone(tree, account_types):
    rows = _tree_rows()
    tree_ids = {row[1] for row in rows}

    new = AccountFactory(external_id="NEW", account_type=account_types["Corporate"])

    new.refresh_from_db()
    assert new.tree_id not in tree_ids
    assert new.tree_id == max(tree_ids) + 1
    assert (new.lft, new.rght, new.level, new.parent_id) == (1, 2, 0, None)
    assert _tree_rows() == [*rows, (new.pk, new.tree_id, 1, 2, 0)]
    assert_tree_is_what_rebuild_makes_of_it()


def test_new_child_is_the_last_child(tree, account_types):
    new = AccountFactory(
        external_id="NEW", account_type=account_types["Site"], parent=_fresh(tree["emea"])
    )

    assert_tree_is_what_rebuild_makes_of_it()
    assert [a.external_id for a in _fresh(tree["emea"]).get_children()] == [
        "PARIS",
        "BERLIN",
        "NEW",
    ]
    assert _fresh(new).level == 2


def test_new_child_of_a_stale_parent(tree, account_types):
    stale_paris = _fresh(tree["paris"])
    AccountFactory(external_id="FIRST", account_type=account_types["Site"], parent=tree["emea"])

    AccountFactory(
        external_id="SECOND", account_type=account_types["Department"], parent=stale_paris
    )

    assert_tree_is_what_rebuild_makes_of_it()
    assert _parents() == FIXTURE_PARENTS | {"FIRST": "EMEA", "SECOND": "PARIS"}


# Which locks each write takes (PostgreSQL)


def _held_tree_locks():
    """The tree locks this connection's transaction holds exclusively (two-key advisory locks).

    Shared locks are left out: a design where writers inside one tree also share ALL_TREES
    would pass these tests unchanged.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s"
            " AND objsubid = 2 AND pid = pg_backend_pid() AND granted"
            " AND mode = 'ExclusiveLock'",
            [TREE_LOCK_NAMESPACE],
        )
        return {row[0] for row in cursor.fetchall()}


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_locks_of_each_write(tree, account_types):
    corp_tree, other_tree = tree["corp"].tree_id, tree["other"].tree_id

    def locks_of(write):
        with transaction.atomic():
            write()
            held = _held_tree_locks()
            transaction.set_rollback(True)
        return held

    def insert_child():
        AccountFactory(account_type=account_types["Department"], parent=_fresh(tree["paris"]))

    def insert_root():
        AccountFactory(account_type=account_types["Corporate"])

    def move(key, new_parent):
        def write():
            account = _fresh(tree[key])
            account.parent = _fresh(tree[new_parent]) if new_parent else None
            account.save()

        return write

    def rename():
        account = _fresh(tree["paris"])
        account.name = "Paris, France"
        account.save()

    assert locks_of(insert_child) == {corp_tree}
    assert locks_of(insert_root) == {ALL_TREES}
    assert locks_of(move("paris", "amer")) == {ALL_TREES, corp_tree}
    assert locks_of(move("paris", "other_region")) == {ALL_TREES, corp_tree, other_tree}
    assert locks_of(move("paris", None)) == {ALL_TREES, corp_tree}
    assert locks_of(move("other", "amer")) == {ALL_TREES, corp_tree, other_tree}
    assert locks_of(
        lambda: Account.objects.move_node(_fresh(tree["paris"]), _fresh(tree["other_region"]))
    ) == {ALL_TREES, corp_tree, other_tree}
    # move_node() ends with a save() that also locks the new tree's id: harmless, as no other
    # writer can know that id before the move commits.
    held = locks_of(lambda: Account.objects.move_node(_fresh(tree["paris"]), None))
    assert {ALL_TREES, corp_tree} <= held
    assert other_tree not in held
    assert locks_of(lambda: _fresh(tree["berlin"]).delete()) == {corp_tree}
    assert locks_of(lambda: _fresh(tree["other"]).delete()) == {ALL_TREES, other_tree}
    # Not a structural change: no lock, so editing names never waits for a tree.
    assert locks_of(rename) == set()
    # Everything above was rolled back.
    assert _parents() == FIXTURE_PARENTS
    assert_tree_is_what_rebuild_makes_of_it()


# Concurrent writers (PostgreSQL)

THREADS = 8


def _run_together(jobs):
    """Run each job in its own thread and database connection, all let go at the same moment.

    Returns the exceptions the jobs raised.
    """
    barrier = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            job()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert [thread for thread in threads if thread.is_alive()] == []
    return errors


def _insert(external_id, parent_pk, account_type_pk):
    Account.objects.create(
        external_id=external_id,
        name=external_id,
        account_type_id=account_type_pk,
        parent=Account.objects.get(pk=parent_pk) if parent_pk else None,
    )


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_inserts_of_children_and_roots(tree, account_types):
    parent_keys = ["corp", "emea", "paris", "austin", "austin_it", "other_region"]
    site = account_types["Site"].pk
    rounds = 6
    # Thread i, round j: a new root every third write, else a child of one of several parents.
    plan = {
        f"T{i}-{j}": None if (i + j) % 3 == 0 else parent_keys[(i + 2 * j) % len(parent_keys)]
        for i in range(THREADS)
        for j in range(rounds)
    }

    def job(i):
        def insert_all():
            for j in range(rounds):
                key = f"T{i}-{j}"
                parent = plan[key]
                _insert(key, tree[parent].pk if parent else None, site)

        return insert_all

    errors = _run_together([job(i) for i in range(THREADS)])

    assert errors == []
    expected = FIXTURE_PARENTS | {
        key: parent.upper() if parent else None for key, parent in plan.items()
    }
    assert _parents() == expected
    assert Account.objects.count() == len(FIXTURE_PARENTS) + THREADS * rounds
    # Every new root is a tree of its own.
    new_roots = [key for key, parent in plan.items() if parent is None]
    root_tree_ids = Account.objects.filter(external_id__in=new_roots).values_list(
        "tree_id", flat=True
    )
    assert len(set(root_tree_ids)) == len(new_roots)
    assert_tree_is_what_rebuild_makes_of_it()


def _move_by_save(account, new_parent):
    account.parent = new_parent
    account.save()


def _move_by_move_node(account, new_parent):
    Account.objects.move_node(account, new_parent)


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("move", [_move_by_save, _move_by_move_node], ids=["save", "move_node"])
def test_concurrent_moves_and_inserts(tree, account_types, move):
    """Four threads move their own subtree around (within a tree, across trees, to root and
    back) while four threads insert children and new roots.

    Inserts here go under accounts that never move, so that no insert's parent changes tree
    while it waits; that case is tested on its own, deterministically, below.
    """
    site, department = account_types["Site"].pk, account_types["Department"].pk
    movers = {}
    for i in range(4):
        mover = AccountFactory(
            external_id=f"M{i}", account_type=account_types["Site"], parent=_fresh(tree["emea"])
        )
        for leaf in "ab":
            AccountFactory(
                external_id=f"M{i}{leaf}",
                account_type=account_types["Department"],
                parent=_fresh(mover),
            )
        movers[i] = mover.pk
    targets = ["other_region", None, "paris", "austin", None, "amer", "other", "berlin", "corp"]
    moves = {i: targets[i:] + targets[:i] for i in range(4)}

    def move_job(i):
        def move_all():
            for target in moves[i]:
                # Both loaded afresh for each move, as a form or an import would.
                account = Account.objects.get(pk=movers[i])
                move(account, Account.objects.get(pk=tree[target].pk) if target else None)

        return move_all

    insert_parents = ["corp", "emea", "paris", "austin", "other_region", None]
    rounds = 8
    inserts = {
        f"I{i}-{j}": insert_parents[(i + j) % len(insert_parents)]
        for i in range(4)
        for j in range(rounds)
    }

    def insert_job(i):
        def insert_all():
            for j in range(rounds):
                key = f"I{i}-{j}"
                parent = inserts[key]
                _insert(key, tree[parent].pk if parent else None, department if parent else site)

        return insert_all

    errors = _run_together([move_job(i) for i in range(4)] + [insert_job(i) for i in range(4)])

    assert errors == []
    expected = FIXTURE_PARENTS.copy()
    for i in range(4):
        last = moves[i][-1]
        expected[f"M{i}"] = last.upper() if last else None
        expected[f"M{i}a"] = expected[f"M{i}b"] = f"M{i}"
    expected |= {key: parent.upper() if parent else None for key, parent in inserts.items()}
    assert _parents() == expected
    # A subtree that went to root and came back left its tree id unused.
    assert_tree_is_what_rebuild_makes_of_it(tree_id_gaps=True)


# One writer caught waiting for another (PostgreSQL)


def _wait_until_waiting_for_a_lock(writer, timeout=30):
    """Return once the writer's backend waits for any lock (advisory, row or table).

    pg_locks shows the live state, also from inside a transaction (pg_stat_activity would
    show a snapshot).
    """
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", [writer.pid])
            if cursor.fetchone():
                return
            if not writer.is_alive():
                pytest.fail(f"The write ended without waiting for the other: {writer.error!r}")
            time.sleep(0.01)  # a polling interval, not a guess at how long anything takes
    pytest.fail(f"Backend {writer.pid} never waited for a lock.")


class _Writer(threading.Thread):
    """A write in its own thread and connection; `pid` is known once `ready` is set."""

    def __init__(self, write):
        super().__init__()
        self.write = write
        self.ready = threading.Event()
        self.error = None
        self.pid = None

    def run(self):
        try:
            connection.ensure_connection()
            self.pid = connection.connection.info.backend_pid
            self.ready.set()
            self.write()
        except BaseException as error:
            self.error = error
        finally:
            self.ready.set()
            connection.close()

    def start_and_wait_until_blocked(self):
        self.start()
        assert self.ready.wait(timeout=30)
        assert self.pid is not None, self.error
        _wait_until_waiting_for_a_lock(self)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_insert_under_a_subtree_that_moves_to_another_tree_meanwhile(tree, account_types):
    mover = AccountFactory(
        external_id="MOVER", account_type=account_types["Site"], parent=_fresh(tree["emea"])
    )
    insert = _Writer(lambda: _insert("NEW", mover.pk, account_types["Department"].pk))

    with transaction.atomic():
        mover = _fresh(mover)
        mover.parent = _fresh(tree["other_region"])
        mover.save()
        # The insert read the mover's old tree and must wait until the move commits.
        insert.start_and_wait_until_blocked()
    insert.join(timeout=60)

    assert insert.error is None
    assert _parents() == FIXTURE_PARENTS | {"MOVER": "OTHER_REGION", "NEW": "MOVER"}
    assert_tree_is_what_rebuild_makes_of_it()
    assert _trees()[1] == {"OTHER", "OTHER_REGION", "MOVER", "NEW"}


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_move_by_save_while_an_insert_shifts_the_new_parent(tree, account_types):
    def move():
        # As a form or an import does: load both, then save; save() takes the locks.
        paris_sales = Account.objects.get(pk=tree["paris_sales"].pk)
        paris_sales.parent = Account.objects.get(pk=tree["berlin"].pk)
        paris_sales.save()

    mover = _Writer(move)

    with transaction.atomic():
        # A new child of PARIS shifts BERLIN's lft/rght by two, once committed.
        AccountFactory(
            external_id="NEW",
            account_type=account_types["Department"],
            parent=_fresh(tree["paris"]),
        )
        mover.start_and_wait_until_blocked()
    mover.join(timeout=60)

    assert mover.error is None
    assert _parents() == FIXTURE_PARENTS | {"NEW": "PARIS", "PARIS_SALES": "BERLIN"}
    assert_tree_is_what_rebuild_makes_of_it()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_insert_while_a_move_beside_a_root_renumbers_its_tree(tree, account_types):
    spare = AccountFactory(external_id="SPARE", account_type=account_types["Corporate"])
    insert = _Writer(lambda: _insert("NEW", spare.pk, account_types["Region"].pk))

    with transaction.atomic():
        # What the admin does when BERLIN is dropped just before OTHER.
        Account.objects.move_node(_fresh(tree["berlin"]), _fresh(tree["other"]), "left")
        insert.start_and_wait_until_blocked()
    insert.join(timeout=60)

    assert insert.error is None
    assert _parents() == FIXTURE_PARENTS | {"BERLIN": None, "SPARE": None, "NEW": "SPARE"}
    assert_tree_is_what_rebuild_makes_of_it()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_inserts_under_two_subtrees_that_swap_trees_meanwhile(tree, account_types):
    department = account_types["Department"].pk
    east = AccountFactory(
        external_id="EAST", account_type=account_types["Site"], parent=_fresh(tree["emea"])
    )
    west = AccountFactory(
        external_id="WEST", account_type=account_types["Region"], parent=_fresh(tree["other"])
    )
    under_east = _Writer(lambda: _insert("NEW_EAST", east.pk, department))
    under_west = _Writer(lambda: _insert("NEW_WEST", west.pk, department))

    with transaction.atomic():
        east = _fresh(east)
        east.parent = _fresh(tree["other_region"])
        east.save()
        west = _fresh(west)
        west.parent = _fresh(tree["corp"])
        west.save()
        # Each insert read its parent's old tree and waits for it.
        under_east.start_and_wait_until_blocked()
        under_west.start_and_wait_until_blocked()
    under_east.join(timeout=60)
    under_west.join(timeout=60)

    assert (under_east.error, under_west.error) == (None, None)
    assert _parents() == FIXTURE_PARENTS | {
        "EAST": "OTHER_REGION",
        "WEST": "CORP",
        "NEW_EAST": "EAST",
        "NEW_WEST": "WEST",
    }
    assert_tree_is_what_rebuild_makes_of_it()
