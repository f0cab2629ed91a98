"""Past 400 lines as one thing: the accounts file, whose checks and tree rebuild share state.

The accounts file (SPEC §4.2).

Its columns: Account ID, Account Name, Account Type, Parent Account ID.

Rows may come in any order (a child before its parent), existing accounts are updated and may
move, and the trees stay valid: the accounts are written in bulk and then every tree the file
touched is numbered again (lft, rght, level, tree_id) in memory and written back, all under the
tree locks that the app's own tree writes take.
"""

import itertools
from dataclasses import dataclass

from django.db.models import Count, Max
from django.utils import timezone
from import_export.fields import Field

from accounts.models import ALL_TREES, Account, AccountType, TypeLevels, lock_trees
from contacts.models import Membership, Task, Touchpoint

from ..bulk import BulkWriter
from ..journal import attnames
from ..widgets import TextWidget, plain_line_ends
from .base import NEW, SKIP, UPDATE, Change, FileResource, _max_length


@dataclass
class _Node:
    """An account as the rebuild sees it: where it is now, and where it will be."""

    pk: int | None
    external_id: str
    name: str
    account_type_id: int
    parent: str | None  # the parent's Account ID
    tree_id: int = 0
    lft: int = 0
    rght: int = 0
    level: int = 0
    line: int = 0  # for new accounts: their line, which orders them among siblings
    moved: bool = False  # new, or given a new parent: placed after the siblings already there


class AccountsResource(FileResource):
    """Creates, renames, retypes and moves accounts. A blank Account Name or Account Type leaves
    an existing account's as it is; a blank Parent Account ID makes the account a root."""

    file_kind = "accounts file"
    mapping_file = "accounts"
    job_kind = "accounts"
    required_columns = ("Account ID", "Account Name", "Account Type", "Parent Account ID")
    model = Account

    account_id = Field(
        attribute="external_id",
        column_name="Account ID",
        widget=TextWidget(_max_length(Account, "external_id")),
    )
    account_name = Field(
        attribute="name",
        column_name="Account Name",
        widget=TextWidget(_max_length(Account, "name")),
    )
    account_type = Field(
        attribute="account_type__name",
        column_name="Account Type",
        widget=TextWidget(_max_length(AccountType, "name")),
    )
    parent_account_id = Field(
        attribute="parent__external_id",
        column_name="Parent Account ID",
        widget=TextWidget(_max_length(Account, "external_id")),
    )

    class Meta:
        report_skipped = False
        skip_diff = True

    def run(self, rows, result, *, dry_run, collect_failed_rows):
        """Unlike users, accounts need the whole file before any row can be judged (a parent
        may come after its child), so rows are read first and judged together; lookups are
        still one query per chunk of Account IDs."""
        using = self.get_db_connection_name()
        if not dry_run:
            # New roots and moves take this lock first (see accounts.models.lock_trees).
            lock_trees(ALL_TREES, using=using)
            self.journal_for_run()
        parsed, first_line = [], {}
        for batch in itertools.batched(rows, self.chunk_size):
            for line, values in batch:
                row = self.read_row(line, values)
                external_id = row.data["account_id"]
                if not external_id:
                    if "Account ID" not in row.errors:
                        row.error("Account ID", "Account ID is required.")
                elif first_line.setdefault(external_id, line) != line:
                    row.error(
                        "Account ID",
                        f"The same Account ID is on lines {first_line[external_id]} and {line}: "
                        "an account can be on one line.",
                    )
                row.label = f"{external_id or '—'} {row.data['account_name']}".strip()
                parsed.append(row)
            if self.progress:
                # Reading is about half of an accounts import; the rest is judged at once.
                self.progress(len(parsed) // 2)

        self.types = {t.name.casefold(): t for t in AccountType.objects.all()}
        self.type_list = ", ".join(t.name for t in AccountType.objects.all())
        nodes = self._load_trees(parsed, lock=not dry_run, using=using)
        by_row = {
            row.data["account_id"]: row
            for row in parsed
            if row.data["account_id"] and first_line[row.data["account_id"]] == row.line
        }
        for row in parsed:
            self._check(row, nodes, by_row)
        self._check_type_changes(parsed, nodes)
        self._check_parents_and_loops(parsed, nodes, by_row)
        # A refused row leaves its account as it is, which may misplace another one or split
        # other links: judge the file again until no row changes its verdict.
        self._links = None
        while self._check_levels(parsed, nodes) or self._check_company_moves(parsed, nodes):
            self._check_parents_and_loops(parsed, nodes, by_row)
        for row in parsed:
            if not row.errors:
                self._describe(row, nodes)

        failed = any(row.errors for row in parsed)
        if not dry_run and not (failed and self.all_or_nothing):
            self._write([row for row in parsed if not row.errors], nodes, using=using)
        for row in parsed:
            self.record(row, result, collect_failed_rows)
        if self.progress:
            self.progress(len(parsed))

    def _load_trees(self, rows, *, lock, using):
        """Every account of every tree the file names (by Account ID or parent), by Account ID.
        When writing, those trees are locked first, and read after, as they are now."""
        named = {
            row.data[key]
            for row in rows
            for key in ("account_id", "parent_account_id")
            if row.data[key]
        }
        tree_ids = set()
        for batch in itertools.batched(sorted(named), self.chunk_size):
            tree_ids.update(
                Account.objects.filter(external_id__in=batch).values_list("tree_id", flat=True)
            )
        if lock and tree_ids:
            lock_trees(*tree_ids, using=using)
        accounts = list(
            Account.objects.filter(tree_id__in=tree_ids).values_list(
                "pk",
                "external_id",
                "name",
                "account_type_id",
                "parent_id",
                "tree_id",
                "lft",
                "rght",
                "level",
            )
        )
        external_ids = {pk: external_id for pk, external_id, *_ in accounts}
        return {
            external_id: _Node(
                pk=pk,
                external_id=external_id,
                name=name,
                account_type_id=type_id,
                parent=external_ids.get(parent_id),
                tree_id=tree_id,
                lft=lft,
                rght=rght,
                level=level,
            )
            for pk, external_id, name, type_id, parent_id, tree_id, lft, rght, level in accounts
        }

    def _check(self, row, nodes, by_row):
        """One row on its own: its type, its name, and that its parent exists somewhere."""
        data = row.data
        existing = nodes.get(data["account_id"])
        if data["account_type"]:
            account_type = self.types.get(data["account_type"].casefold())
            if account_type is None:
                row.error(
                    "Account Type",
                    f"No account type is called “{data['account_type']}”. Account types: "
                    f"{self.type_list}.",
                )
            data["type"] = account_type
        else:
            data["type"] = None
            if existing is None and data["account_id"]:
                row.error("Account Type", "Account Type is required for a new account.")
        if not data["account_name"] and existing is None and data["account_id"]:
            row.error("Account Name", "Account Name is required for a new account.")
        parent = data["parent_account_id"]
        if parent and parent == data["account_id"]:
            row.error("Parent Account ID", "An account cannot be its own parent.")
        elif parent and parent not in nodes and parent not in by_row:
            row.error(
                "Parent Account ID",
                f"No account has the Account ID “{parent}”, in this file or already here.",
            )

    def _check_parents_and_loops(self, rows, nodes, by_row):
        """A row whose parent is a new account on a failed row fails too; so does every row of
        a loop (A under B under A), which may appear only once failed rows keep their place."""
        while True:
            changed = False
            for row in rows:
                parent = row.data["parent_account_id"]
                if row.errors or not parent or parent in nodes:
                    continue
                parent_row = by_row[parent]
                if parent_row.errors:
                    row.error(
                        "Parent Account ID",
                        f"The parent account “{parent}” (line {parent_row.line}) has errors, so "
                        "this account cannot be placed.",
                    )
                    changed = True
            parents = self._final_parents(rows, nodes)
            for cycle in _cycles(
                parents, [row.data["account_id"] for row in rows if not row.errors]
            ):
                chain = " → ".join([*cycle, cycle[0]])
                for external_id in cycle:
                    row = by_row.get(external_id)
                    if row is not None and not row.errors:
                        row.error(
                            "Parent Account ID",
                            f"The Account IDs {chain} form a loop: an account cannot be below "
                            "itself.",
                        )
                        changed = True
            if not changed:
                return

    @staticmethod
    def _final_parents(rows, nodes):
        """Account ID → its parent's Account ID (None for a root), after the valid rows."""
        parents = {external_id: node.parent for external_id, node in nodes.items()}
        for row in rows:
            if not row.errors:
                parents[row.data["account_id"]] = row.data["parent_account_id"] or None
        return parents

    def _check_type_changes(self, rows, nodes):
        """An account keeps its type while people there hold roles of that type."""
        changing = {
            nodes[row.data["account_id"]].pk: row
            for row in rows
            if not row.errors
            and row.data["type"] is not None
            and row.data["account_id"] in nodes
            and nodes[row.data["account_id"]].account_type_id != row.data["type"].pk
        }
        if not changing:
            return
        names = dict(AccountType.objects.values_list("pk", "name"))
        for batch in itertools.batched(changing, self.chunk_size):
            with_roles = (
                Membership.objects.filter(account_id__in=batch, role__isnull=False)
                .values_list("account_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
            for account_pk, count in with_roles:
                row = changing[account_pk]
                old = names[nodes[row.data["account_id"]].account_type_id]
                people = "person here has a role" if count == 1 else "people here have roles"
                row.error(
                    "Account Type",
                    f"The Account Type cannot change from {old} to {row.data['type'].name} while "
                    f"{count} {people} of {old} accounts. Change or clear those roles first.",
                )

    def _check_levels(self, rows, nodes):
        """An account's type comes after its parent's (Corporate → Region → Site), as
        Account.check_place has it, judged on the accounts as the valid rows leave them.
        A misplaced account's own row is refused; an account without a valid row that ends
        up misplaced refuses the row that retypes its parent. Misplacements the file does not
        cause are left alone. True when a row was refused."""
        levels = TypeLevels((t.pk, t.name, t.order) for t in self.types.values())
        if not levels.defined:
            return False  # No order of the types: any account may sit below any other.
        valid = _valid_rows(rows)
        parents = self._final_parents(rows, nodes)

        def described(external_id, type_id):
            """“Acme Dept (DEPT, Department, line 3)”: its name as the file leaves it."""
            row = valid.get(external_id)
            name = (row.data["account_name"] if row is not None else "") or (
                nodes[external_id].name
            )
            line = f", line {row.line}" if row is not None else ""
            return f"{name} ({external_id}, {levels.names[type_id]}{line})"

        def type_of(external_id):
            row = valid.get(external_id)
            if row is not None and row.data["type"] is not None:
                return row.data["type"].pk
            return nodes[external_id].account_type_id

        def retypes(row):
            node = nodes.get(row.data["account_id"])
            return row.data["type"] is not None and (
                node is None or node.account_type_id != row.data["type"].pk
            )

        known = valid.keys() | nodes.keys()
        refused = {}
        for external_id, parent in parents.items():
            if parent is None or external_id not in known or parent not in known:
                continue  # A root, or a row whose parent failed (refused for that already).
            child_type, parent_type = type_of(external_id), type_of(parent)
            if levels.allows(parent_type_id=parent_type, child_type_id=child_type):
                continue
            row, parent_row = valid.get(external_id), valid.get(parent)
            message = (
                f"{described(parent, parent_type)} cannot be the parent of "
                f"{described(external_id, child_type)}: {levels.rule()}."
            )
            if row is not None:
                node = nodes.get(external_id)
                moved = node is None or node.parent != parent
                column = "Account Type" if retypes(row) and not moved else "Parent Account ID"
            elif parent_row is not None and retypes(parent_row):
                row, column = parent_row, "Account Type"
            else:
                continue  # Already so before this file.
            refused.setdefault(row.line, (row, column, message))
        for row, column, message in refused.values():
            row.error(column, message)
        return bool(refused)

    def _check_company_moves(self, rows, nodes):
        """A task or touchpoint and the contacts it links stay in one company hierarchy, as
        contacts.services.check_account_move keeps them when the admin moves an account;
        judged on the accounts as all the valid rows leave them (a row may move an account
        under one that another row takes to another company). A row that moves its account to
        another company while a link between its new and its former company passes through
        it is refused. Reads the links of the trees with moves once a file. True when a row
        was refused."""
        valid = _valid_rows(rows)
        parents = self._final_parents(rows, nodes)
        moves = {
            external_id
            for external_id, row in valid.items()
            if external_id in nodes and nodes[external_id].parent != parents[external_id]
        }
        if not moves:
            return False
        root = _roots(parents)

        def changes_company(external_id):
            former_parent = nodes[external_id].parent
            former = root(former_parent) if former_parent is not None else external_id
            return root(external_id) != former

        movers = {external_id for external_id in moves if changes_company(external_id)}
        if not movers:
            return False
        if self._links is None:
            self._links = self._read_links({nodes[external_id].tree_id for external_id in moves})
        by_pk = {node.pk: external_id for external_id, node in nodes.items() if node.pk}
        blamed = {}
        for kind, link_pk, owner_account, contact_account in self._links:
            ends = by_pk.get(owner_account), by_pk.get(contact_account)
            if None in ends or nodes[ends[0]].tree_id != nodes[ends[1]].tree_id:
                continue  # Not within one company now: not this file's doing.
            if root(ends[0]) == root(ends[1]):
                continue
            for end in ends:
                for external_id in _chain(end, parents):
                    if external_id in movers:
                        blamed.setdefault(external_id, []).append((kind, link_pk))
        if not blamed:
            return False
        described = self._describe_links({link for links in blamed.values() for link in links})
        for external_id, links in blamed.items():
            shown = [described[link] for link in sorted(set(links))]
            if len(shown) > 5:
                shown = [*shown[:5], f"{len(shown) - 5} more"]
            valid[external_id].error(
                "Parent Account ID",
                f"Moving “{external_id}” to another company would leave {'; '.join(shown)} "
                "linked across two company hierarchies. Unlink those contacts first.",
            )
        return True

    def _read_links(self, tree_ids):
        """(kind, link pk, account of the task or touchpoint, account of the contact) of every
        link of a task or touchpoint in the trees `tree_ids`."""
        links = []
        for kind, through, owner in _LINKS:
            for batch in itertools.batched(sorted(tree_ids), self.chunk_size):
                links += [
                    (kind, *values)
                    for values in through.objects.filter(
                        **{f"{owner}__account__tree_id__in": batch}
                    ).values_list("pk", f"{owner}__account_id", "membership__account_id")
                ]
        return links

    def _describe_links(self, links):
        """(kind, link pk) → “the task “Renewal” with Ada Lovelace”, as the admin says it."""
        described = {}
        for kind, through, owner in _LINKS:
            pks = sorted(pk for link_kind, pk in links if link_kind == kind)
            for batch in itertools.batched(pks, self.chunk_size):
                for link in through.objects.filter(pk__in=batch).select_related(
                    owner, "membership__person"
                ):
                    described[kind, link.pk] = (
                        f"the {owner} “{getattr(link, owner)}” with "
                        f"{link.membership.person.full_name}"
                    )
        return described

    def _describe(self, row, nodes):
        data = row.data
        existing = nodes.get(data["account_id"])
        type_names = {t.pk: t.name for t in self.types.values()}
        parent = data["parent_account_id"] or None
        if existing is None:
            row.import_type = NEW
            row.changes = [
                Change("Account Name", "", data["account_name"]),
                Change("Account Type", "", data["type"].name),
                *([Change("Parent Account ID", "", parent)] if parent else []),
            ]
            return
        changes = []
        if data["account_name"] and data["account_name"] != plain_line_ends(existing.name.strip()):
            changes.append(Change("Account Name", existing.name, data["account_name"]))
        if data["type"] is not None and data["type"].pk != existing.account_type_id:
            changes.append(
                Change("Account Type", type_names[existing.account_type_id], data["type"].name)
            )
        if parent != existing.parent:
            changes.append(Change("Parent Account ID", existing.parent or "", parent or ""))
        row.changes = changes
        row.import_type = UPDATE if changes else SKIP

    def _write(self, rows, nodes, *, using):
        """Create, update and move the accounts of `rows`, then number every touched tree
        again. Side effects: inserts and updates accounts (tree columns included)."""
        changed_rows = [row for row in rows if row.import_type in (NEW, UPDATE)]
        if not changed_rows:
            return
        now = timezone.now()
        # The accounts as they were, for the journal (see _record).
        old = {
            node.pk: (
                node.name,
                node.account_type_id,
                nodes[node.parent].pk if node.parent else None,
                node.tree_id,
                node.lft,
                node.rght,
                node.level,
            )
            for node in nodes.values()
        }
        new_accounts = [
            Account(
                external_id=row.data["account_id"],
                name=row.data["account_name"],
                account_type=row.data["type"],
                parent=None,
                tree_id=0,
                lft=0,
                rght=0,
                level=0,
            )
            for row in changed_rows
            if row.import_type == NEW
        ]
        Account.objects.bulk_create(new_accounts)
        for account, row in zip(
            new_accounts, [r for r in changed_rows if r.import_type == NEW], strict=True
        ):
            nodes[account.external_id] = _Node(
                pk=account.pk,
                external_id=account.external_id,
                name=account.name,
                account_type_id=account.account_type_id,
                parent=None,
                line=row.line,
            )
        before = {external_id: _position(node) for external_id, node in nodes.items()}
        edited = set()
        moved = []
        for row in changed_rows:
            node = nodes[row.data["account_id"]]
            if row.data["account_name"]:
                node.name = row.data["account_name"]
            if row.data["type"] is not None:
                node.account_type_id = row.data["type"].pk
            parent = row.data["parent_account_id"] or None
            if node.parent != parent or row.import_type == NEW:
                node.moved = True
                moved.append(node)
            node.parent = parent
            edited.add(node.external_id)
        self._number_trees(nodes, moved, before)
        changed = [
            node
            for external_id, node in nodes.items()
            if external_id in edited or _position(node) != before[external_id]
        ]
        Account.objects.bulk_update(
            [
                Account(
                    pk=node.pk,
                    name=node.name,
                    account_type_id=node.account_type_id,
                    parent_id=nodes[node.parent].pk if node.parent else None,
                    tree_id=node.tree_id,
                    lft=node.lft,
                    rght=node.rght,
                    level=node.level,
                    updated_at=now,
                )
                for node in changed
            ],
            ["name", "account_type", "parent", "tree_id", "lft", "rght", "level", "updated_at"],
            batch_size=500,
        )
        if self.journal is not None:
            self._record(using, [account.pk for account in new_accounts], changed, nodes, old)

    def _record(self, using, created, changed, nodes, old):
        """The job's ImportRecords: the new accounts whole, as the run leaves them, and the
        fields of the others that changed, tree columns too (a move renumbers its trees, and
        the undo puts those numbers back)."""
        writer = BulkWriter(using)
        names = attnames(Account)
        for batch in itertools.batched(created, self.chunk_size):
            self.journal.created(
                writer, Account, list(Account.objects.filter(pk__in=batch).values_list(*names))
            )
        new = set(created)
        fields = ("name", "account_type_id", "parent_id", "tree_id", "lft", "rght", "level")
        self.journal.changed(
            writer,
            Account,
            fields,
            [
                (
                    node.pk,
                    node.name,
                    node.account_type_id,
                    nodes[node.parent].pk if node.parent else None,
                    node.tree_id,
                    node.lft,
                    node.rght,
                    node.level,
                )
                for node in changed
                if node.pk not in new
            ],
            old,
        )

    @staticmethod
    def _number_trees(nodes, moved, before):
        """Give lft, rght, level and tree_id to every account of each tree that gains, loses or
        rearranges accounts, as django-mptt's rebuild does, keeping the order of siblings: those
        already there as they were, then the new and moved ones in file order."""
        children = {}
        for node in nodes.values():
            children.setdefault(node.parent, []).append(node)

        def root_of(node):
            while node.parent is not None:
                node = nodes[node.parent]
            return node

        # Every tree that holds a moved or new account now, or held one before.
        old_roots = {}
        for node in nodes.values():
            if node.pk is not None and node.tree_id and node.level == 0:
                old_roots[node.tree_id] = node
        touched = {root_of(node).external_id for node in moved}
        for node in moved:
            old_tree = before[node.external_id][1]
            if old_tree in old_roots:
                touched.add(root_of(old_roots[old_tree]).external_id)
        next_tree_id = (Account.objects.aggregate(top=Max("tree_id"))["top"] or 0) + 1
        taken = set()
        for external_id in sorted(touched, key=lambda e: (before[e][1] == 0, before[e][1], e)):
            root = nodes[external_id]
            old_tree = before[external_id][1]
            # A root that stays a root keeps its tree id; a new root gets a new one.
            if before[external_id][0] is None and old_tree and old_tree not in taken:
                tree_id = old_tree
            else:
                tree_id, next_tree_id = next_tree_id, next_tree_id + 1
            taken.add(tree_id)
            counter = 1
            stack = [(root, 0, False)]
            while stack:
                node, level, closing = stack.pop()
                if closing:
                    node.rght = counter
                    counter += 1
                    continue
                node.tree_id, node.level, node.lft = tree_id, level, counter
                counter += 1
                stack.append((node, level, True))
                kids = sorted(
                    children.get(node.external_id, []),
                    key=lambda n: (n.moved, n.line, before[n.external_id][1:3]),
                )
                stack.extend((kid, level + 1, False) for kid in reversed(kids))


# Links of tasks and touchpoints to contacts: (kind, through model, its owner's field). The
# kinds sort tasks first, as the admin lists them; link pks sort within a kind.
_LINKS = (
    (0, Task.contacts.through, "task"),
    (1, Touchpoint.participants.through, "touchpoint"),
)


def _valid_rows(rows):
    return {row.data["account_id"]: row for row in rows if not row.errors}


def _roots(parents):
    """A function: Account ID → the Account ID of its root in `parents` (a map without loops),
    remembered for every account it passes."""
    roots = {}

    def root(external_id):
        path = []
        while external_id not in roots:
            parent = parents.get(external_id)
            if parent is None or parent in path:
                roots[external_id] = external_id
                break
            path.append(external_id)
            external_id = parent
        for passed in path:
            roots[passed] = roots[external_id]
        return roots[external_id]

    return root


def _chain(external_id, parents):
    """The account and its parents up to its root, in `parents`."""
    seen = set()
    while external_id is not None and external_id not in seen:
        seen.add(external_id)
        yield external_id
        external_id = parents.get(external_id)


def _position(node):
    return (node.parent, node.tree_id, node.lft, node.rght, node.level)


def _cycles(parents, starts):
    """The loops in an Account ID → parent Account ID map reachable from `starts`, each once."""
    state, cycles = {}, []
    for start in starts:
        path, node = [], start
        while node is not None and node not in state:
            state[node] = start
            path.append(node)
            node = parents.get(node)
        if node is not None and state.get(node) == start and node in path:
            cycles.append(path[path.index(node) :])
    return cycles
