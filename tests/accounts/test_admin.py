"""The accounts admin (accounts/admin.py): account types and roles, and the accounts as a
draggable tree that stays valid."""

import json
import re
from html import unescape

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages

from accounts.models import Account, AccountRole, AccountType
from tests.admin_pages import (
    add_page_headings,
    autocomplete,
    change_page,
    changelist_rows,
    form_data,
    result_rows,
    search_first_cells,
)
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

ACCOUNT_ROWS = [
    ["", "Corp (CORP)", "CORP", "Corporate"],
    ["", "Emea (EMEA)", "EMEA", "Region"],
    ["", "Paris (PARIS)", "PARIS", "Site"],
    ["", "Paris Sales (PARIS_SALES)", "PARIS_SALES", "Department"],
    ["", "Berlin (BERLIN)", "BERLIN", "Site"],
    ["", "Amer (AMER)", "AMER", "Region"],
    ["", "Austin (AUSTIN)", "AUSTIN", "Site"],
    ["", "Austin Ops (AUSTIN_OPS)", "AUSTIN_OPS", "Department"],
    ["", "Austin It (AUSTIN_IT)", "AUSTIN_IT", "Department"],
    ["", "Other (OTHER)", "OTHER", "Corporate"],
    ["", "Other Region (OTHER_REGION)", "OTHER_REGION", "Region"],
]

CHANGELISTS = {
    "accounts/account": ACCOUNT_ROWS,
    "accounts/accounttype": [
        ["Corporate", "1", "Champion, Executive sponsor"],
        ["Region", "2", "Champion, Regional director"],
        ["Site", "3", "End user, Site admin"],
        ["Department", "4", "Department head"],
    ],
    "accounts/accountrole": [
        ["Champion", "Corporate"],
        ["Executive sponsor", "Corporate"],
        ["Champion", "Region"],
        ["Regional director", "Region"],
        ["End user", "Site"],
        ["Site admin", "Site"],
        ["Department head", "Department"],
    ],
}


@pytest.mark.parametrize(("model", "rows"), CHANGELISTS.items(), ids=list(CHANGELISTS))
def test_changelist_lists_every_object(admin_site_client, admin_data, model, rows):
    assert changelist_rows(admin_site_client, model) == rows


def test_account_changelist_is_the_draggable_tree(admin_site_client, admin_data):
    response = admin_site_client.get("/admin/accounts/account/")

    nodes = [
        (int(pk), int(level))
        for pk, level in re.findall(
            r'<div class="drag-handle"></div><div class="tree-node" data-pk="(\d+)" '
            r'data-level="(\d+)"></div>',
            response.text,
        )
    ]
    assert nodes == [
        (admin_data[key].pk, level)
        for key, level in [
            ("corp", 0),
            ("emea", 1),
            ("paris", 2),
            ("paris_sales", 3),
            ("berlin", 2),
            ("amer", 1),
            ("austin", 2),
            ("austin_ops", 3),
            ("austin_it", 3),
            ("other", 0),
            ("other_region", 1),
        ]
    ]
    # The admin marks its media with the request's CSP nonce.
    script = re.search(
        r'<script src="/static/mptt/draggable-admin.js" data-context="([^"]*)" '
        r'id="draggable-admin-context" nonce="[^"]+"></script>',
        response.text,
    )
    context = json.loads(unescape(script.group(1)))

    def pks(*keys):
        return [admin_data[key].pk for key in keys]

    assert context["treeStructure"] == {
        "0": pks("corp", "other"),
        str(admin_data["corp"].pk): pks("emea", "amer"),
        str(admin_data["emea"].pk): pks("paris", "berlin"),
        str(admin_data["paris"].pk): pks("paris_sales"),
        str(admin_data["amer"].pk): pks("austin"),
        str(admin_data["austin"].pk): pks("austin_ops", "austin_it"),
        str(admin_data["other"].pk): pks("other_region"),
    }
    assert re.search(
        r'<link href="/static/mptt/draggable-admin.css" media="all" nonce="[^"]+" '
        r'rel="stylesheet">',
        response.text,
    )


def test_account_drag_and_drop_moves_the_account_and_keeps_the_tree_valid(
    admin_site_client, admin_data
):
    response = admin_site_client.post(
        "/admin/accounts/account/",
        {
            "cmd": "move_node",
            "cut_item": admin_data["berlin"].pk,
            "pasted_on": admin_data["amer"].pk,
            "position": "last-child",
        },
    )

    assert (response.status_code, response.content) == (200, b"OK, moved.")
    assert list(
        Account.objects.get(pk=admin_data["amer"].pk).get_children().values_list("name", flat=True)
    ) == ["Austin", "Berlin"]
    before = list(Account.objects.values_list("pk", "tree_id", "lft", "rght", "level", "parent"))
    Account.objects.rebuild()
    assert (
        list(Account.objects.values_list("pk", "tree_id", "lft", "rght", "level", "parent"))
        == before
    )


@pytest.mark.parametrize(
    ("model", "title"),
    [
        ("accounts/account", "Add account"),
        ("accounts/accounttype", "Add account type"),
        ("accounts/accountrole", "Add account role"),
    ],
)
def test_add_page_renders(admin_site_client, admin_data, model, title):
    assert add_page_headings(admin_site_client, model) == (title, "")


CHANGE_PAGES = [
    ("accounts/account", "paris", "Change account", "Paris (PARIS)", {"name": "Paris"}),
    (
        "accounts/accounttype",
        "corporate",
        "Change account type",
        "Corporate",
        {"name": "Corporate"},
    ),
    (
        "accounts/accountrole",
        "executive_sponsor",
        "Change account role",
        "Executive sponsor (Corporate)",
        {"name": "Executive sponsor"},
    ),
]


@pytest.mark.parametrize(
    ("model", "key", "title", "subtitle", "fields"),
    CHANGE_PAGES,
    ids=[page[0] for page in CHANGE_PAGES],
)
def test_change_page_shows_the_object(
    admin_site_client, admin_data, model, key, title, subtitle, fields
):
    assert change_page(admin_site_client, model, admin_data[key], fields) == (
        (title, subtitle),
        fields,
    )


@pytest.mark.parametrize(
    ("path", "column", "first_cells"),
    [
        ("/admin/accounts/account/?q=paris", 1, ["Paris (PARIS)", "Paris Sales (PARIS_SALES)"]),
        (
            "/admin/accounts/account/?q=austin_",
            1,
            ["Austin Ops (AUSTIN_OPS)", "Austin It (AUSTIN_IT)"],
        ),
        ("/admin/accounts/accounttype/?q=reg", 0, ["Region"]),
        ("/admin/accounts/accountrole/?q=champion", 0, ["Champion", "Champion"]),
        ("/admin/accounts/accountrole/?q=site", 0, ["End user", "Site admin"]),
    ],
)
def test_search(admin_site_client, admin_data, path, column, first_cells):
    assert search_first_cells(admin_site_client, path, column) == first_cells


def test_autocomplete_parent_and_type_of_account(admin_site_client, admin_data):
    assert autocomplete(admin_site_client, "accounts.account", "parent", "austin") == [
        (admin_data["austin"].pk, "Austin (AUSTIN)"),
        (admin_data["austin_ops"].pk, "Austin Ops (AUSTIN_OPS)"),
        (admin_data["austin_it"].pk, "Austin It (AUSTIN_IT)"),
    ]
    assert autocomplete(admin_site_client, "accounts.account", "account_type", "dep") == [
        (admin_data["paris_sales"].account_type_id, "Department"),
    ]


@pytest.mark.parametrize("item_count", (1, 3))
def test_account_changelist_query_count(
    admin_site_client, account_types, django_assert_num_queries, item_count
):
    for _ in range(item_count):
        root = AccountFactory(account_type=account_types["Corporate"])
        for _ in range(2):
            region = AccountFactory(account_type=account_types["Region"], parent=root)
            AccountFactory(account_type=account_types["Site"], parent=region)

    with django_assert_num_queries(8):
        response = admin_site_client.get("/admin/accounts/account/")

    assert len(result_rows(response)) == 5 * item_count


# The levels of a company (AccountType.order) go down the tree, in every admin form (issue 16):
# each one submitted with data that breaks the rule answers 200 with the error, writes nothing.

LEVELS = "Corporate → Region → Site → Department"


def saved_state():
    return (
        list(
            Account.objects.order_by("pk").values_list(
                "pk", "name", "account_type", "parent", "tree_id", "lft", "rght", "level"
            )
        ),
        list(AccountType.objects.order_by("pk").values_list("pk", "name", "order")),
        list(AccountRole.objects.order_by("pk").values_list("pk", "account_type", "name")),
        LogEntry.objects.count(),
    )


def refused(client, url, form_id, **changes):
    """Post the admin form at `url` as a browser would, with `changes`; it must answer 200 and
    write nothing. Returns the errors the page shows."""
    fields = form_data(client.get(url), form_id)
    fields.update(changes, _save="Save")
    before = saved_state()
    response = client.post(url, fields)
    assert response.status_code == 200
    assert saved_state() == before
    lists = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.text, re.S)
    return [unescape(item) for found in lists for item in re.findall(r"<li>(.*?)</li>", found)]


def test_account_add_form_refuses_a_type_above_its_parents(admin_site_client, admin_data):
    errors = refused(
        admin_site_client,
        "/admin/accounts/account/add/",
        "account_form",
        external_id="NEW",
        name="New",
        account_type=str(admin_data["emea"].account_type_id),
        parent=str(admin_data["paris"].pk),
    )

    assert errors == [
        "Paris (Site) cannot be the parent of New (Region): an account's type comes after its "
        f"parent's ({LEVELS})."
    ]


@pytest.mark.parametrize(
    ("target", "name", "kind"),
    [("paris", "Paris", "Site"), ("paris_sales", "Paris Sales", "Department")],
    ids=["same-level", "level-below"],
)
def test_account_change_form_refuses_a_parent_of_its_level_or_below(
    admin_site_client, admin_data, target, name, kind
):
    errors = refused(
        admin_site_client,
        f"/admin/accounts/account/{admin_data['berlin'].pk}/change/",
        "account_form",
        parent=str(admin_data[target].pk),
    )

    assert errors == [
        f"{name} ({kind}) cannot be the parent of Berlin (Site): an account's type comes after "
        f"its parent's ({LEVELS})."
    ]


def test_account_change_form_refuses_a_type_at_or_below_its_childrens(
    admin_site_client, admin_data
):
    errors = refused(
        admin_site_client,
        f"/admin/accounts/account/{admin_data['emea'].pk}/change/",
        "account_form",
        account_type=str(admin_data["paris"].account_type_id),
    )

    assert errors == [
        "Emea (Site) cannot be the parent of Paris (Site): an account's type comes after its "
        f"parent's ({LEVELS})."
    ]


@pytest.mark.parametrize(
    ("position", "target", "message"),
    [
        ("last-child", "paris", "Paris (Site) cannot be the parent of Berlin (Site)"),
        ("left", "paris_sales", "Paris (Site) cannot be the parent of Berlin (Site)"),
        ("last-child", "austin_it", "Austin It (Department) cannot be the parent of Berlin (Site)"),
    ],
    ids=["into-a-site", "beside-a-department", "into-a-department"],
)
def test_account_drag_and_drop_refuses_a_parent_of_its_level_or_below(
    admin_site_client, admin_data, position, target, message
):
    before = saved_state()

    response = admin_site_client.post(
        "/admin/accounts/account/",
        {
            "cmd": "move_node",
            "cut_item": admin_data["berlin"].pk,
            "pasted_on": admin_data[target].pk,
            "position": position,
        },
    )

    assert (response.status_code, response.content) == (200, b"FAIL, invalid move.")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"{message}: an account's type comes after its parent's ({LEVELS})."
    ]
    assert saved_state() == before


def test_account_type_change_form_refuses_an_order_that_puts_accounts_above_their_parents(
    admin_site_client, admin_data
):
    errors = refused(
        admin_site_client,
        f"/admin/accounts/accounttype/{admin_data['emea'].account_type_id}/change/",
        "accounttype_form",
        order="5",
    )

    assert errors == [
        "With these positions, Emea (Region) could no longer be the parent of Paris (Site): an "
        "account's type comes after its parent's (Corporate → Site → Department → Region). Move "
        "such accounts first, or choose other positions."
    ]


def test_account_type_changelist_refuses_an_order_that_puts_accounts_below_their_children(
    admin_site_client, admin_data
):
    url = "/admin/accounts/accounttype/"
    fields = form_data(admin_site_client.get(url), "changelist-form")
    row = next(
        name.split("-")[1]
        for name, value in fields.items()
        if re.fullmatch(r"form-\d+-id", name) and value == str(admin_data["corporate"].pk)
    )
    fields.update({f"form-{row}-order": "3", "_save": "Save"})
    before = saved_state()

    response = admin_site_client.post(url, fields)

    assert response.status_code == 200
    assert saved_state() == before
    assert (
        "With these positions, Corp (Corporate) could no longer be the parent of Emea (Region)"
        in unescape(response.text)
    )


def test_account_role_change_form_refuses_another_account_type(admin_site_client, admin_data):
    role = admin_data["roles"]["Site", "Site admin"]

    errors = refused(
        admin_site_client,
        f"/admin/accounts/accountrole/{role.pk}/change/",
        "accountrole_form",
        account_type=str(admin_data["corporate"].pk),
    )

    assert errors == ["A role keeps its account type: add a role to the other type instead."]
