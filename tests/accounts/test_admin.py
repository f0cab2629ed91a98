"""The accounts admin (accounts/admin.py): account types and roles, and the accounts as a
draggable tree that stays valid."""

import json
import re
from html import unescape

import pytest

from accounts.models import Account
from tests.admin_pages import (
    add_page_headings,
    autocomplete,
    change_page,
    changelist_rows,
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
