"""Past 400 lines as one thing: the account tree's models with the rules and locks that keep it
whole. Levels (AccountType.order), roles and accounts check one another's validity, every write
to the tree takes the locks below, and the scopes read the same tree columns; apart, each half
would need the other's internals."""

import itertools
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connections, models, router, transaction
from django.db.models import Q
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet

from config.links import id_url

from .lookups import InArray

# Key space of this app's PostgreSQL advisory locks, so they cannot collide with anyone else's.
TREE_LOCK_NAMESPACE = 7_301
# Tree ids start at 1, so 0 names the lock that every new root (and every move) takes.
ALL_TREES = 0


def lock_trees(*tree_ids, using="default"):
    """Serialise structural writes (insert, move, delete) to the given account trees.

    django-mptt reads lft/rght and then shifts them with separate statements; two concurrent
    writers in one tree corrupt it. On PostgreSQL this takes transaction-scoped advisory locks
    (released at commit or rollback); callers must be inside `transaction.atomic()`.

    Every structural write first takes the ALL_TREES lock: exclusively when ALL_TREES is among
    `tree_ids` (new roots and moves, which may renumber the tree ids of other trees), shared
    otherwise (writes inside known trees, which may then run side by side). The tree locks
    follow in ascending order. A transaction that will need ALL_TREES takes it in its first
    call, and passes all the trees it writes to at once.

    On SQLite the database's own write lock, taken when the transaction begins
    (transaction_mode IMMEDIATE), already serialises writers.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    ordered = sorted(set(tree_ids))
    with connection.cursor() as cursor:
        if ordered and ordered[0] == ALL_TREES:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [TREE_LOCK_NAMESPACE, ALL_TREES])
            ordered = ordered[1:]
        else:
            cursor.execute(
                "SELECT pg_advisory_xact_lock_shared(%s, %s)", [TREE_LOCK_NAMESPACE, ALL_TREES]
            )
        for tree_id in ordered:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [TREE_LOCK_NAMESPACE, tree_id])


class AccountTypeQuerySet(models.QuerySet):
    def in_hierarchy(self, account):
        """The types used anywhere in `account`'s company hierarchy."""
        return self.filter(
            pk__in=Account.objects.filter(tree_id=account.tree_id).values("account_type")
        )

    def levels_rows(self):
        return self.order_by().values_list("pk", "name", "order")

    def levels(self):
        """The order of the levels, as TypeLevels."""
        return TypeLevels(self.levels_rows())


class TypeLevels:
    """The order of the account types (AccountType.order), and whether one is defined.

    The order is *left undefined* while every type has the same position, as all have at
    first (the default, 0): then no type comes before another, and any account may sit below
    any other. Once two positions differ, a child's type must come strictly after its
    parent's; types at one position cannot sit below one another. Account.check_place, the
    type's own check (AccountType.clean) and the accounts file all read the order from here."""

    def __init__(self, rows):
        # rows: (pk, name, order) of every type, as they are or would be saved.
        rows = list(rows)
        self.names = {pk: name for pk, name, _ in rows}
        self.orders = {pk: order for pk, _, order in rows}
        self.defined = len(set(self.orders.values())) > 1
        ranked = sorted(rows, key=lambda row: (row[2], row[1]))
        # Types at one position are named together: "Site / Store".
        self.text = " → ".join(
            " / ".join(name for _, name, _ in group)
            for _, group in itertools.groupby(ranked, key=lambda row: row[2])
        )

    def allows(self, *, parent_type_id, child_type_id):
        return not self.defined or self.orders[child_type_id] > self.orders[parent_type_id]

    def rule(self):
        return f"an account's type comes after its parent's ({self.text})"


class AccountType(models.Model):
    """A level of a company hierarchy: Corporate, Region, Site…"""

    name = models.CharField(max_length=100, unique=True)
    # The admin's form says what an undefined order means (accounts.admin.ORDER_HELP).
    order = models.PositiveSmallIntegerField(
        default=0, help_text="Position of this level, top first (Corporate before Region)."
    )

    objects = AccountTypeQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if getattr(self, "order_checked_with_the_others", False):
            return  # The admin's list of types changes several at once and checks them so.
        others = AccountType.objects.exclude(pk=self.pk) if self.pk else AccountType.objects
        rows = [*others.levels_rows()]
        # A new type has no accounts yet, but its position may define the order for the others.
        rows.append((self.pk or 0, self.name, self.order))
        # While an order was defined, only this type's accounts and their parents and children
        # can be misplaced by its new position; defining one judges every account.
        was_defined = AccountType.objects.levels().defined
        check_type_levels(TypeLevels(rows), of_type=self if self.pk and was_defined else None)


def check_type_levels(levels, *, of_type=None):
    """Raise ValidationError (on "order", code "type_order") when an account would sit below an
    account of a type that does not come before its own, with the types in these `levels`;
    only accounts of `of_type` and their children when given."""
    if not levels.defined:
        return
    accounts = Account.objects.filter(parent__isnull=False)
    if of_type is not None:
        accounts = accounts.filter(Q(account_type=of_type) | Q(parent__account_type=of_type))
    position = {
        prefix: models.Case(
            *[
                models.When(**{f"{prefix}account_type_id": pk}, then=models.Value(order))
                for pk, order in levels.orders.items()
            ],
            output_field=models.IntegerField(),
        )
        for prefix in ("", "parent__")
    }
    account = (
        accounts.alias(child_order=position[""], parent_order=position["parent__"])
        .filter(child_order__lte=models.F("parent_order"))
        .select_related("account_type", "parent__account_type")
        .order_by("tree_id", "lft")
        .first()
    )
    if account is not None:
        raise ValidationError(
            {
                "order": ValidationError(
                    "With these positions, %(parent)s (%(parent_type)s) could no longer be the "
                    "parent of %(account)s (%(type)s): %(rule)s. Move such accounts first, or "
                    "choose other positions.",
                    code="type_order",
                    params={
                        "account": account.name,
                        "type": levels.names[account.account_type_id],
                        "parent": account.parent.name,
                        "parent_type": levels.names[account.parent.account_type_id],
                        "rule": levels.rule(),
                    },
                )
            }
        )


class AccountRoleQuerySet(models.QuerySet):
    def in_hierarchy(self, account):
        """The roles of the account types used in `account`'s company hierarchy."""
        return self.filter(account_type__in=AccountType.objects.in_hierarchy(account))


class AccountRole(models.Model):
    """A role a person can have at an account of one type ("Executive sponsor", "Site admin")."""

    account_type = models.ForeignKey(AccountType, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=100)

    objects = AccountRoleQuerySet.as_manager()

    class Meta:
        ordering = ["account_type__order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account_type", "name"], name="account_role_unique_per_type"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.account_type.name})"

    def clean(self):
        super().clean()
        # Memberships hold a role because it fits their account's type; moving the role to
        # another type would quietly make every one of them wrong.
        if (
            self.pk is not None
            and AccountRole.objects.filter(pk=self.pk)
            .exclude(account_type_id=self.account_type_id)
            .exists()
        ):
            raise ValidationError(
                {
                    "account_type": ValidationError(
                        "A role keeps its account type: add a role to the other type instead.",
                        code="role_type_fixed",
                    )
                }
            )


class Scope(models.TextChoices):
    """The hierarchy views of the Contacts widget (SPEC §3.3), relative to one account.

    "All <type> accounts" is ACCOUNT_TYPE together with the type it names.
    """

    THIS_ACCOUNT = "this", "This account"
    DIRECT_PARENT = "parent", "Direct parent"
    ALL_PARENTS = "parents", "All parents"
    DIRECT_CHILDREN = "children", "Direct children"
    ALL_CHILDREN = "descendants", "All children"
    THIS_AND_ALL_CHILDREN = "subtree", "This account and all children"
    ACCOUNT_TYPE = "type", "All accounts of a type"
    ENTIRE_HIERARCHY = "hierarchy", "Entire hierarchy"


# Below this many accounts a subtree's rows are found by account id, above it by walking the
# name order: a large subtree's contacts fill a page early in that walk, a small one's may be
# nowhere in it (measured on SPEC §7's large set: 200 accounts about even, 2,000 ids 40× slower).
SMALL_SUBTREE = 200


def scope_q(account, scope, *, account_type=None, prefix=""):
    """A Q object selecting the accounts in `scope` of `account`, for one SQL query.

    Built only on the tree columns (tree_id, lft, rght, level, parent) of the account row
    already in memory, so it needs no query of its own and never walks nodes in Python.
    `prefix` is the lookup path to the account ("account__" from a membership).
    """

    def q(**lookups):
        return Q(**{f"{prefix}{key}": value for key, value in lookups.items()})

    def few(**lookups):
        """A handful of accounts, from another model's rows: matched by id (accounts.lookups
        says why), rather than by joining the range, whose size PostgreSQL overestimates."""
        if not prefix:
            return q(tree_id=account.tree_id, **lookups)
        ids = Account.objects.filter(tree_id=account.tree_id, **lookups).values("pk")
        return q(**{f"pk__{InArray.lookup_name}": ids})

    # Known from the tree columns in memory: the accounts below this one.
    small_subtree = (account.rght - account.lft - 1) // 2 < SMALL_SUBTREE
    same_tree = q(tree_id=account.tree_id)
    match Scope(scope):
        case Scope.THIS_ACCOUNT:
            return q(pk=account.pk)
        case Scope.DIRECT_PARENT:
            # A root has no parent: pk=None matches nothing.
            return q(pk=account.parent_id)
        case Scope.ALL_PARENTS:
            return few(lft__lt=account.lft, rght__gt=account.rght)
        case Scope.DIRECT_CHILDREN:
            return q(parent_id=account.pk)
        case Scope.ALL_CHILDREN if small_subtree:
            return few(lft__gt=account.lft, rght__lt=account.rght)
        case Scope.ALL_CHILDREN:
            return same_tree & q(lft__gt=account.lft, rght__lt=account.rght)
        case Scope.THIS_AND_ALL_CHILDREN if small_subtree:
            return few(lft__gte=account.lft, rght__lte=account.rght)
        case Scope.THIS_AND_ALL_CHILDREN:
            return same_tree & q(lft__gte=account.lft, rght__lte=account.rght)
        case Scope.ACCOUNT_TYPE:
            if account_type is None:
                raise ValueError("The account type scope needs an account_type.")
            type_id = getattr(account_type, "pk", account_type)
            return same_tree & q(account_type_id=type_id)
        case Scope.ENTIRE_HIERARCHY:
            return same_tree


@dataclass(frozen=True)
class HierarchyView:
    """One choice of the Contacts widget's View: a scope, named and relative to an account."""

    value: str  # what the URL carries: "this", "hierarchy", "type-3"…
    label: str
    scope: Scope
    account_type: AccountType | None = None

    def q(self, account, prefix=""):
        return scope_q(account, self.scope, account_type=self.account_type, prefix=prefix)


class AccountQuerySet(TreeQuerySet):
    def in_hierarchy(self, account):
        return self.filter(tree_id=account.tree_id)

    def as_few_ids(self):
        """These accounts' ids, as a subquery that another model's rows are matched by
        (accounts.lookups), when there are fewer than SMALL_SUBTREE of them; else None, and
        the caller filters by what it knows of them (their type, their tree). One count query,
        on the (tree_id, account_type) index when filtered by those."""
        return self.values("pk") if self.count() < SMALL_SUBTREE else None

    def search(self, text):
        """Accounts whose name or Account ID contains `text`, ignoring case."""
        text = text.strip()
        if not text:
            return self
        return self.filter(Q(name__icontains=text) | Q(external_id__icontains=text))


class AccountManager(TreeManager.from_queryset(AccountQuerySet)):
    def move_node(self, node, target, position="last-child"):
        # The admin's drag and drop moves nodes here, not through save().
        using = router.db_for_write(self.model, instance=node)
        with transaction.atomic(using=using):
            node._lock_trees_for_move(target, using=using)
            super().move_node(node, target, position)


class CountsKeptByTriggers(models.Model):
    """A model with columns that database triggers keep (`KEPT_BY_TRIGGERS`): saving a row
    already stored writes every other column, never those. Placed after MPTTModel among the
    bases, so this runs whatever django-mptt decided to write."""

    KEPT_BY_TRIGGERS = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            # The value in memory may be older than the triggers' (a contact added since this
            # row was read): writing it back would undo their work.
            fields = kwargs.get("update_fields")
            if fields is None:
                fields = [
                    field.name for field in self._meta.concrete_fields if not field.primary_key
                ]
            kwargs["update_fields"] = [name for name in fields if name not in self.KEPT_BY_TRIGGERS]
        super().save(*args, **kwargs)


class Account(MPTTModel, CountsKeptByTriggers):
    """A customer company or one part of it; a node in its company's tree."""

    external_id = models.CharField(
        "Account ID",
        max_length=64,
        unique=True,
        help_text="The id other systems use for this account in integration files.",
    )
    name = models.CharField(max_length=200)
    account_type = models.ForeignKey(AccountType, on_delete=models.PROTECT, related_name="accounts")
    parent = TreeForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The contacts there now (active memberships marked contact), kept by database triggers
    # on memberships (contacts migration 0019), whatever writes them: the app, an import's
    # COPY, the admin. A page sums it over a subtree instead of counting the contacts of
    # thousands of accounts. Django never writes it back (save() leaves it out); a row
    # written without it (COPY, raw SQL) starts at the database's default, 0.
    contact_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    KEPT_BY_TRIGGERS = ("contact_count",)

    objects = AccountManager()

    class MPTTMeta:
        # No order_insertion_by: with it, a new root renumbers every later tree.
        pass

    class Meta:
        ordering = ["tree_id", "lft"]
        indexes = [
            models.Index(fields=["tree_id", "lft", "rght"], name="account_tree_position"),
            # With the contacts: a hierarchy's contacts per account type are read from this
            # index alone on PostgreSQL (contacts.counts).
            models.Index(
                fields=["tree_id", "account_type"],
                include=["contact_count"],
                name="account_tree_type",
            ),
            # mptt's own (tree_id, lft), which it leaves out beside this one, with the contacts:
            # a subtree's contacts are the sum of contact_count over its lft range
            # (contacts.counts), read from this index alone on PostgreSQL, never the rows.
            models.Index(
                fields=["tree_id", "lft"],
                include=["contact_count"],
                name="account_subtree_contacts",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.external_id})"

    def save(self, *args, **kwargs):
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            if self._lock_trees_for_save(using=using) and self.parent_id is not None:
                # django-mptt places the node by the parent's lft/rght as they are in memory;
                # read them again now that no one else can change them.
                self.parent.refresh_from_db(fields=["tree_id", "lft", "rght", "level"])
            super().save(*args, **kwargs)

    def get_absolute_url(self):
        return id_url("accounts:detail", self.pk)

    def delete(self, *args, **kwargs):
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            if self.parent_id is None:
                lock_trees(ALL_TREES, using=using)
            self._lock_current_tree(using=using)
            return super().delete(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.account_type_id is not None:
            self.check_place(parent=self.parent, account_type=self.account_type)

    def check_place(self, *, parent, account_type):
        """Raise ValidationError unless `account_type` comes after the type of `parent` and
        before the types of this account's children: the levels of a company go down the tree
        (Corporate → Region → Site), whatever adds, moves or retypes an account; unless the
        order of the types is left undefined (TypeLevels).

        The error is on "parent" or "account_type", whichever names the conflict (code
        "type_order").
        """
        levels = AccountType.objects.levels()
        if not levels.defined:
            return
        if parent is not None and not levels.allows(
            parent_type_id=parent.account_type_id, child_type_id=account_type.pk
        ):
            raise ValidationError(
                {
                    "parent": ValidationError(
                        "%(parent)s (%(parent_type)s) cannot be the parent of %(name)s "
                        "(%(type)s): %(rule)s.",
                        code="type_order",
                        params={
                            "name": self.name or "this account",
                            "type": account_type.name,
                            "parent": parent.name,
                            "parent_type": levels.names[parent.account_type_id],
                            "rule": levels.rule(),
                        },
                    )
                }
            )
        if self.pk is None:
            return
        child = (
            type(self)
            .objects.filter(
                parent_id=self.pk,
                account_type__order__lte=levels.orders[account_type.pk],
            )
            .select_related("account_type")
            .first()
        )
        if child is not None:
            raise ValidationError(
                {
                    "account_type": ValidationError(
                        "%(name)s (%(type)s) cannot be the parent of %(child)s (%(child_type)s): "
                        "%(rule)s.",
                        code="type_order",
                        params={
                            "name": self.name,
                            "type": account_type.name,
                            "child": child.name,
                            "child_type": child.account_type.name,
                            "rule": levels.rule(),
                        },
                    )
                }
            )

    def hierarchy_views(self, account_types):
        """The View choices that exist for this account, in the order SPEC §3.3 lists them.

        `account_types` are the types present in this account's company hierarchy (one
        "All <type> accounts" choice each). A root has no parent views, a leaf no child views.
        """
        has_parent = self.parent_id is not None
        has_children = self.rght - self.lft > 1
        views = [
            HierarchyView(Scope.THIS_ACCOUNT.value, Scope.THIS_ACCOUNT.label, Scope.THIS_ACCOUNT)
        ]
        if has_parent:
            views += [
                HierarchyView(scope.value, scope.label, scope)
                for scope in (Scope.DIRECT_PARENT, Scope.ALL_PARENTS)
            ]
        if has_children:
            views += [
                HierarchyView(scope.value, scope.label, scope)
                for scope in (
                    Scope.DIRECT_CHILDREN,
                    Scope.ALL_CHILDREN,
                    Scope.THIS_AND_ALL_CHILDREN,
                )
            ]
        views += [
            HierarchyView(
                f"type-{account_type.pk}",
                f"All {account_type.name} accounts",
                Scope.ACCOUNT_TYPE,
                account_type,
            )
            for account_type in account_types
        ]
        views.append(
            HierarchyView(
                Scope.ENTIRE_HIERARCHY.value, Scope.ENTIRE_HIERARCHY.label, Scope.ENTIRE_HIERARCHY
            )
        )
        return views

    def _stored_tree_id(self, pk, using):
        return (
            type(self)._base_manager.using(using).filter(pk=pk).values_list("tree_id", flat=True)
        ).first()

    def _lock_tree_of(self, pk, using):
        """Lock the tree that holds account `pk`. The shared ALL_TREES lock comes first, so no
        move can carry the account into another tree between reading its tree id and locking."""
        lock_trees(using=using)
        tree_id = self._stored_tree_id(pk, using)
        if tree_id is not None:
            lock_trees(tree_id, using=using)

    def _lock_current_tree(self, using):
        self._lock_tree_of(self.pk, using)

    def _lock_trees_for_save(self, using):
        """Lock what this save will restructure; True when it is a structural change."""
        stored_parent = (
            None
            if self._state.adding
            else type(self)
            ._base_manager.using(using)
            .filter(pk=self.pk)
            .values_list("parent_id", flat=True)
            .first()
        )
        is_new = self._state.adding
        if not is_new and stored_parent == self.parent_id:
            return False  # The tree columns stay as they are.
        if is_new and self.parent_id is not None:
            self._lock_tree_of(self.parent_id, using)
            return True
        # A new root takes the next tree id; a move may change tree ids: both go one at a time.
        lock_trees(ALL_TREES, using=using)
        if not is_new:
            self._lock_current_tree(using)
        if self.parent_id is not None:
            self._lock_tree_of(self.parent_id, using)
        return True

    def _lock_trees_for_move(self, target, using):
        lock_trees(ALL_TREES, using=using)
        self._lock_current_tree(using)
        if target is not None:
            self._lock_tree_of(target.pk, using)
