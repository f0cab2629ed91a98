"""The Django admin for Global admins (SPEC §3.9): every page, the tree, search, autocomplete,
and the contact history written by admin edits."""

import json
import re
from datetime import UTC, date, datetime
from html import unescape
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group

from accounts.models import Account, AccountRole
from contacts.models import ContactChange, Membership, Touchpoint
from integrations.models import ImportJob
from tests.factories import (
    AccountFactory,
    ContactChangeFactory,
    MembershipFactory,
    PersonFactory,
    StaffUserFactory,
    TaskFactory,
    TouchpointFactory,
)

# HTML helpers


class _TableRows(HTMLParser):
    """Text of each cell of each body row of one table (by id), as a person reads it: images
    by their alt text, inputs by their value; the admin's action checkbox left out."""

    def __init__(self, table_id):
        super().__init__(convert_charrefs=True)
        self.table_id = table_id
        self.depth = 0  # > 0 inside the table
        self.in_body = False
        self.rows = []
        self.cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            if self.depth or attrs.get("id") == self.table_id:
                self.depth += 1
            return
        if not self.depth:
            return
        if tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append([])
        elif self.in_body and tag in ("td", "th"):
            self.cell = [] if attrs.get("class") != "action-checkbox" else None
        elif self.cell is not None and tag == "img":
            self.cell.append(attrs.get("alt") or "")
        elif self.cell is not None and tag == "input" and attrs.get("type") in ("text", "number"):
            self.cell.append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag == "tbody":
            self.in_body = False
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def result_rows(response):
    parser = _TableRows("result_list")
    parser.feed(response.text)
    return parser.rows


class _FormData(HTMLParser):
    """What a browser submits from the form with `form_id` when nothing is changed."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data = {}
        self.select = None
        self.textarea = None

    def _keep(self, name):
        return self.inside and name and "__prefix__" not in name

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif tag == "input" and self._keep(name):
            kind = attrs.get("type", "text")
            if kind == "checkbox":
                if "checked" in attrs:
                    self.data[name] = attrs.get("value") or "on"
            elif kind != "submit":
                self.data[name] = attrs.get("value") or ""
        elif tag == "select" and self._keep(name):
            self.select = name
            self.data[name] = [] if "multiple" in attrs else ""
        elif tag == "option" and self.select and "selected" in attrs:
            if isinstance(self.data[self.select], list):
                self.data[self.select].append(attrs["value"])
            else:
                self.data[self.select] = attrs["value"]
        elif tag == "textarea" and self._keep(name):
            self.textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data.removeprefix("\n")


def form_data(response, form_id):
    parser = _FormData(form_id)
    parser.feed(response.text)
    return parser.data


def headings(response):
    """The admin page's title (h1) and, on a change page, the object (h2 right after it)."""
    found = re.search(r"<h1>([^<]*)</h1>\s*(?:<h2>([^<]*)</h2>)?", response.text)
    return unescape(found.group(1)), unescape(found.group(2) or "")


def error_list(response, field_id):
    found = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', response.text)
    return [unescape(item) for item in re.findall(r"<li>(.*?)</li>", found.group(1))]


def history(membership):
    return list(
        ContactChange.objects.filter(membership=membership)
        .order_by("pk")
        .values_list("field", "old_value", "new_value", "source", "staff_user__username")
    )


# Data


@pytest.fixture
def admin_client(global_admin_client):
    """A Global admin by group membership only: not a superuser, not is_staff."""
    user = global_admin_client.staff_user
    assert (user.is_superuser, user.is_staff) == (False, False)
    return global_admin_client


@pytest.fixture
def data(tree):
    roles = {
        (role.account_type.name, role.name): role
        for role in AccountRole.objects.select_related("account_type")
    }
    owner = StaffUserFactory(username="owner", first_name="Olive", last_name="Owner")
    ada = PersonFactory(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@customer.example",
        title="CTO",
        phone="+1 555 0100",
    )
    alan = PersonFactory(first_name="Alan", last_name="Turing", email="alan@customer.example")
    grace = PersonFactory(first_name="Grace", last_name="Hopper", email="grace@other.example")
    ada_paris = MembershipFactory(
        person=ada,
        account=tree["paris"],
        role=roles["Site", "Site admin"],
        is_contact=True,
        is_key_contact=True,
    )
    ada_emea = MembershipFactory(person=ada, account=tree["emea"], is_contact=True)
    alan_austin = MembershipFactory(
        person=alan, account=tree["austin"], role=roles["Site", "End user"], is_contact=False
    )
    grace_other = MembershipFactory(
        person=grace, account=tree["other"], role=roles["Corporate", "Champion"], is_contact=True
    )
    task = TaskFactory(
        account=tree["corp"],
        title="Quarterly business review",
        due_date=date(2026, 3, 31),
        owner=owner,
    )
    task.contacts.set([ada_paris, alan_austin])
    touchpoint = TouchpointFactory(
        account=tree["paris"],
        subject="Kick-off meeting",
        kind=Touchpoint.Kind.MEETING,
        author=owner,
        happened_at=datetime(2026, 1, 15, 10, 0, tzinfo=UTC),
        notes="Went well.",
    )
    touchpoint.participants.set([ada_paris, ada_emea])
    change = ContactChangeFactory(
        membership=ada_paris,
        field=ContactChange.Field.KEY_CONTACT,
        old_value="no",
        new_value="yes",
        source=ContactChange.Source.APP,
        staff_user=owner,
        changed_at=datetime(2026, 1, 10, 9, 0, tzinfo=UTC),
    )
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="people.csv",
        status=ImportJob.Status.SUCCEEDED,
        staff_user=owner,
        finished_at=datetime(2026, 1, 12, 8, 5, tzinfo=UTC),
    )
    ImportJob.objects.filter(pk=job.pk).update(created_at=datetime(2026, 1, 12, 8, 0, tzinfo=UTC))
    return {
        **tree,
        "roles": roles,
        "owner": owner,
        "ada": ada,
        "alan": alan,
        "grace": grace,
        "ada_paris": ada_paris,
        "ada_emea": ada_emea,
        "alan_austin": alan_austin,
        "grace_other": grace_other,
        "task": task,
        "touchpoint": touchpoint,
        "change": change,
        "job": job,
        "corporate": roles["Corporate", "Champion"].account_type,
        "executive_sponsor": roles["Corporate", "Executive sponsor"],
        "viewer_group": Group.objects.get(name="Viewer"),
    }


# Changelists

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
    "contacts/person": [
        ["grace@other.example", "Grace", "Hopper", "-", "-"],
        ["ada@customer.example", "Ada", "Lovelace", "CTO", "+1 555 0100"],
        ["alan@customer.example", "Alan", "Turing", "-", "-"],
    ],
    "contacts/membership": [
        [
            "Ada Lovelace <ada@customer.example>",
            "Paris (PARIS)",
            "Site admin (Site)",
            "True",
            "True",
        ],
        [
            "Grace Hopper <grace@other.example>",
            "Other (OTHER)",
            "Champion (Corporate)",
            "True",
            "False",
        ],
        ["Ada Lovelace <ada@customer.example>", "Emea (EMEA)", "-", "True", "False"],
        [
            "Alan Turing <alan@customer.example>",
            "Austin (AUSTIN)",
            "End user (Site)",
            "False",
            "False",
        ],
    ],
    "contacts/contactchange": [
        [
            "Ada Lovelace at Paris",
            "Key contact",
            "no",
            "yes",
            "App",
            "owner",
            "Jan. 10, 2026, 9 a.m.",
        ],
    ],
    "contacts/task": [
        ["Quarterly business review", "Corp (CORP)", "March 31, 2026", "Open", "owner"],
    ],
    "contacts/touchpoint": [
        ["Kick-off meeting", "Meeting", "Paris (PARIS)", "Jan. 15, 2026, 10 a.m.", "owner"],
    ],
    "integrations/importjob": [
        [
            "people.csv",
            "Users file",
            "Finished",
            "owner",
            "Jan. 12, 2026, 8 a.m.",
            "Jan. 12, 2026, 8:05 a.m.",
        ],
    ],
    "auth/group": [["Advanced"], ["Global admin"], ["Standard"], ["Viewer"]],
    "auth/user": [
        ["global_admin_user", "global_admin_user@unified-contacts.example", "-", "-", "False"],
        ["owner", "owner@unified-contacts.example", "Olive", "Owner", "False"],
    ],
    "django_tasks_database/dbtaskresult": [],
}


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "rows"), CHANGELISTS.items(), ids=list(CHANGELISTS))
def test_changelist_lists_every_object(admin_client, data, model, rows):
    response = admin_client.get(f"/admin/{model}/")

    assert response.status_code == 200
    assert result_rows(response) == rows


@pytest.mark.django_db
def test_admin_index_lists_every_model(admin_client):
    response = admin_client.get("/admin/")

    models = re.findall(r'<th scope="row" id="[^"]*">\s*<a href="/admin/([^"]+)/"', response.text)
    assert sorted(models) == [
        "accounts/account",
        "accounts/accountrole",
        "accounts/accounttype",
        "auth/group",
        "auth/user",
        "contacts/contactchange",
        "contacts/membership",
        "contacts/person",
        "contacts/segment",
        "contacts/task",
        "contacts/touchpoint",
        "django_tasks_database/dbtaskresult",
        "integrations/importjob",
        "integrations/usersexport",
    ]


@pytest.mark.django_db
def test_account_changelist_is_the_draggable_tree(admin_client, data):
    response = admin_client.get("/admin/accounts/account/")

    nodes = [
        (int(pk), int(level))
        for pk, level in re.findall(
            r'<div class="drag-handle"></div><div class="tree-node" data-pk="(\d+)" '
            r'data-level="(\d+)"></div>',
            response.text,
        )
    ]
    assert nodes == [
        (data[key].pk, level)
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
        return [data[key].pk for key in keys]

    assert context["treeStructure"] == {
        "0": pks("corp", "other"),
        str(data["corp"].pk): pks("emea", "amer"),
        str(data["emea"].pk): pks("paris", "berlin"),
        str(data["paris"].pk): pks("paris_sales"),
        str(data["amer"].pk): pks("austin"),
        str(data["austin"].pk): pks("austin_ops", "austin_it"),
        str(data["other"].pk): pks("other_region"),
    }
    assert re.search(
        r'<link href="/static/mptt/draggable-admin.css" media="all" nonce="[^"]+" '
        r'rel="stylesheet">',
        response.text,
    )


@pytest.mark.django_db
def test_account_drag_and_drop_moves_the_account_and_keeps_the_tree_valid(admin_client, data):
    response = admin_client.post(
        "/admin/accounts/account/",
        {
            "cmd": "move_node",
            "cut_item": data["berlin"].pk,
            "pasted_on": data["amer"].pk,
            "position": "last-child",
        },
    )

    assert (response.status_code, response.content) == (200, b"OK, moved.")
    assert list(
        Account.objects.get(pk=data["amer"].pk).get_children().values_list("name", flat=True)
    ) == ["Austin", "Berlin"]
    before = list(Account.objects.values_list("pk", "tree_id", "lft", "rght", "level", "parent"))
    Account.objects.rebuild()
    assert (
        list(Account.objects.values_list("pk", "tree_id", "lft", "rght", "level", "parent"))
        == before
    )


# Add and change pages

ADD_PAGES = {
    "accounts/account": "Add account",
    "accounts/accounttype": "Add account type",
    "accounts/accountrole": "Add account role",
    "contacts/person": "Add person",
    "contacts/membership": "Add membership",
    "contacts/task": "Add task",
    "contacts/touchpoint": "Add touchpoint",
    "auth/group": "Add group",
    "auth/user": "Add user",
}


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "title"), ADD_PAGES.items(), ids=list(ADD_PAGES))
def test_add_page_renders(admin_client, data, model, title):
    response = admin_client.get(f"/admin/{model}/add/")

    assert (response.status_code, headings(response)) == (200, (title, ""))


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["contacts/contactchange", "integrations/importjob"])
def test_add_page_refused_for_records_the_app_writes(admin_client, data, model):
    response = admin_client.get(f"/admin/{model}/add/")

    assert response.status_code == 403


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
    (
        "contacts/person",
        "ada",
        "Change person",
        "Ada Lovelace <ada@customer.example>",
        {"email": "ada@customer.example", "first_name": "Ada", "last_name": "Lovelace"},
    ),
    (
        "contacts/membership",
        "ada_paris",
        "Change membership",
        "Ada Lovelace at Paris",
        {"is_contact": "on", "is_key_contact": "on"},
    ),
    ("contacts/contactchange", "change", "View contact change", "Key contact: no → yes", {}),
    (
        "contacts/task",
        "task",
        "Change task",
        "Quarterly business review",
        {"title": "Quarterly business review", "due_date": "2026-03-31", "status": "open"},
    ),
    (
        "contacts/touchpoint",
        "touchpoint",
        "Change touchpoint",
        "Meeting: Kick-off meeting",
        {"subject": "Kick-off meeting", "kind": "meeting", "notes": "Went well."},
    ),
    ("integrations/importjob", "job", "Change import job", "Users file people.csv (Finished)", {}),
    ("auth/group", "viewer_group", "Change group", "Viewer", {"name": "Viewer"}),
    ("auth/user", "owner", "Change user", "owner", {"username": "owner", "first_name": "Olive"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "key", "title", "subtitle", "fields"),
    CHANGE_PAGES,
    ids=[page[0] for page in CHANGE_PAGES],
)
def test_change_page_shows_the_object(admin_client, data, model, key, title, subtitle, fields):
    response = admin_client.get(f"/admin/{model}/{data[key].pk}/change/")

    assert (response.status_code, headings(response)) == (200, (title, subtitle))
    form_id = f"{model.split('/')[1]}_form"
    shown = form_data(response, form_id)
    assert {name: shown.get(name) for name in fields} == fields


@pytest.mark.django_db
def test_change_page_of_membership_shows_its_person_account_and_role(admin_client, data):
    response = admin_client.get(f"/admin/contacts/membership/{data['ada_paris'].pk}/change/")

    assert {
        name: value
        for name, value in form_data(response, "membership_form").items()
        if name in ("person", "account", "role")
    } == {
        "person": str(data["ada"].pk),
        "account": str(data["paris"].pk),
        "role": str(data["ada_paris"].role_id),
    }
    for pk, text in [
        (data["ada"].pk, "Ada Lovelace &lt;ada@customer.example&gt;"),
        (data["paris"].pk, "Paris (PARIS)"),
        (data["ada_paris"].role_id, "Site admin (Site)"),
    ]:
        assert f'<option value="{pk}" selected>{text}</option>' in response.text


@pytest.mark.django_db
def test_change_page_of_account_lists_its_memberships_inline(admin_client, data):
    response = admin_client.get(f"/admin/accounts/account/{data['paris'].pk}/change/")

    shown = form_data(response, "account_form")
    assert (shown["memberships-TOTAL_FORMS"], shown["memberships-0-person"]) == (
        "1",
        str(data["ada"].pk),
    )
    assert (
        f'<option value="{data["ada"].pk}" selected>Ada Lovelace &lt;ada@customer.example&gt;'
        "</option>"
    ) in response.text


# Search


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "first_cells"),
    [
        ("/admin/accounts/account/?q=paris", ["Paris (PARIS)", "Paris Sales (PARIS_SALES)"]),
        (
            "/admin/accounts/account/?q=austin_",
            ["Austin Ops (AUSTIN_OPS)", "Austin It (AUSTIN_IT)"],
        ),
        ("/admin/accounts/accounttype/?q=reg", ["Region"]),
        ("/admin/accounts/accountrole/?q=champion", ["Champion", "Champion"]),
        ("/admin/accounts/accountrole/?q=site", ["End user", "Site admin"]),
        ("/admin/contacts/person/?q=lovelace", ["ada@customer.example"]),
        ("/admin/contacts/person/?q=ALAN@CUSTOMER", ["alan@customer.example"]),
        ("/admin/contacts/person/?q=nobody", []),
        (
            "/admin/contacts/membership/?q=ada",
            ["Ada Lovelace <ada@customer.example>", "Ada Lovelace <ada@customer.example>"],
        ),
        ("/admin/contacts/membership/?q=AUSTIN", ["Alan Turing <alan@customer.example>"]),
        ("/admin/contacts/membership/?q=other", ["Grace Hopper <grace@other.example>"]),
        ("/admin/contacts/contactchange/?q=ada@", ["Ada Lovelace at Paris"]),
        ("/admin/contacts/task/?q=corp", ["Quarterly business review"]),
        ("/admin/contacts/touchpoint/?q=kick", ["Kick-off meeting"]),
        ("/admin/integrations/importjob/?q=people", ["people.csv"]),
    ],
)
def test_search(admin_client, data, path, first_cells):
    rows = result_rows(admin_client.get(path))

    cells = [row[1] if path.startswith("/admin/accounts/account/") else row[0] for row in rows]
    assert cells == first_cells


# Autocomplete


def autocomplete(client, model, field, term):
    response = client.get(
        "/admin/autocomplete/",
        {
            "app_label": model.split(".")[0],
            "model_name": model.split(".")[1],
            "field_name": field,
            "term": term,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == {"more": False}
    return [(int(result["id"]), result["text"]) for result in body["results"]]


@pytest.mark.django_db
def test_autocomplete_person_of_membership(admin_client, data):
    assert autocomplete(admin_client, "contacts.membership", "person", "ada") == [
        (data["ada"].pk, "Ada Lovelace <ada@customer.example>")
    ]


@pytest.mark.django_db
def test_autocomplete_account_of_membership(admin_client, data):
    assert autocomplete(admin_client, "contacts.membership", "account", "paris") == [
        (data["paris"].pk, "Paris (PARIS)"),
        (data["paris_sales"].pk, "Paris Sales (PARIS_SALES)"),
    ]


@pytest.mark.django_db
def test_autocomplete_account_by_account_id(admin_client, data):
    assert autocomplete(admin_client, "contacts.membership", "account", "other_reg") == [
        (data["other_region"].pk, "Other Region (OTHER_REGION)"),
    ]


@pytest.mark.django_db
def test_autocomplete_role_of_membership(admin_client, data):
    roles = data["roles"]

    assert autocomplete(admin_client, "contacts.membership", "role", "champion") == [
        (roles["Corporate", "Champion"].pk, "Champion (Corporate)"),
        (roles["Region", "Champion"].pk, "Champion (Region)"),
    ]


@pytest.mark.django_db
def test_autocomplete_parent_and_type_of_account(admin_client, data):
    assert autocomplete(admin_client, "accounts.account", "parent", "austin") == [
        (data["austin"].pk, "Austin (AUSTIN)"),
        (data["austin_ops"].pk, "Austin Ops (AUSTIN_OPS)"),
        (data["austin_it"].pk, "Austin It (AUSTIN_IT)"),
    ]
    assert autocomplete(admin_client, "accounts.account", "account_type", "dep") == [
        (data["paris_sales"].account_type_id, "Department"),
    ]


@pytest.mark.django_db
def test_autocomplete_contacts_of_task_and_participants_of_touchpoint(admin_client, data):
    expected = [
        (data["ada_paris"].pk, "Ada Lovelace at Paris"),
        (data["ada_emea"].pk, "Ada Lovelace at Emea"),
    ]

    assert autocomplete(admin_client, "contacts.task", "contacts", "lovelace") == expected
    assert autocomplete(admin_client, "contacts.touchpoint", "participants", "lovelace") == (
        expected
    )


@pytest.mark.django_db
def test_autocomplete_owner_of_task(admin_client, data):
    assert autocomplete(admin_client, "contacts.task", "owner", "own") == [
        (data["owner"].pk, "owner"),
    ]


@pytest.mark.django_db
def test_autocomplete_refuses_a_field_without_autocomplete(admin_client, data):
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "contacts",
            "model_name": "membership",
            "field_name": "is_contact",
            "term": "a",
        },
    )

    assert response.status_code == 403


# Contact history of admin edits


def post_membership(client, membership, **changes):
    url = f"/admin/contacts/membership/{membership.pk}/change/"
    fields = form_data(client.get(url), "membership_form")
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    fields["_save"] = "Save"
    return client.post(url, fields)


@pytest.mark.django_db
def test_membership_change_form_records_contact_key_contact_and_role(admin_client, data):
    membership = data["alan_austin"]

    response = post_membership(
        admin_client,
        membership,
        is_contact="on",
        is_key_contact="on",
        role=str(data["roles"]["Site", "Site admin"].pk),
    )

    assert (response.status_code, response["Location"]) == (302, "/admin/contacts/membership/")
    assert history(membership) == [
        ("contact", "no", "yes", "admin", "global_admin_user"),
        ("key_contact", "no", "yes", "admin", "global_admin_user"),
        ("role", "End user", "Site admin", "admin", "global_admin_user"),
    ]
    membership.refresh_from_db()
    assert (membership.is_contact, membership.is_key_contact, membership.role.name) == (
        True,
        True,
        "Site admin",
    )


@pytest.mark.django_db
def test_membership_change_form_records_removed_contact_and_cleared_role(admin_client, data):
    membership = data["ada_paris"]

    post_membership(admin_client, membership, is_contact=None, is_key_contact=None, role="")

    assert history(membership) == [
        ("key_contact", "no", "yes", "app", "owner"),  # from the fixture
        ("contact", "yes", "no", "admin", "global_admin_user"),
        ("key_contact", "yes", "no", "admin", "global_admin_user"),
        ("role", "Site admin", "", "admin", "global_admin_user"),
    ]


@pytest.mark.django_db
def test_membership_change_form_saved_unchanged_records_nothing(admin_client, data):
    response = post_membership(admin_client, data["grace_other"])

    assert response.status_code == 302
    assert history(data["grace_other"]) == []


@pytest.mark.django_db
def test_membership_add_form_records_the_new_contact(admin_client, data):
    response = admin_client.post(
        "/admin/contacts/membership/add/",
        {
            "person": data["grace"].pk,
            "account": data["berlin"].pk,
            "role": data["roles"]["Site", "Site admin"].pk,
            "is_contact": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    membership = Membership.objects.get(person=data["grace"], account=data["berlin"])
    assert history(membership) == [
        ("contact", "no", "yes", "admin", "global_admin_user"),
        ("role", "", "Site admin", "admin", "global_admin_user"),
    ]


@pytest.mark.django_db
def test_membership_change_form_refuses_role_of_another_account_type(admin_client, data):
    membership = data["alan_austin"]
    changes_before = ContactChange.objects.count()

    response = post_membership(
        admin_client, membership, is_contact="on", role=str(data["executive_sponsor"].pk)
    )

    assert response.status_code == 200
    assert error_list(response, "id_role") == [
        "“Executive sponsor” is not a role of Site accounts. Valid roles: End user, Site admin."
    ]
    assert ContactChange.objects.count() == changes_before
    membership.refresh_from_db()
    assert (membership.is_contact, membership.role.name) == (False, "End user")


@pytest.mark.django_db
def test_membership_change_form_refuses_key_contact_that_is_not_a_contact(admin_client, data):
    membership = data["alan_austin"]

    response = post_membership(admin_client, membership, is_key_contact="on")

    assert response.status_code == 200
    assert "A key contact must also be a contact." in response.text
    assert history(membership) == []
    membership.refresh_from_db()
    assert (membership.is_contact, membership.is_key_contact) == (False, False)


def inline_index(fields, membership):
    return next(
        int(name.split("-")[1])
        for name, value in fields.items()
        if re.fullmatch(r"memberships-\d+-id", name) and value == str(membership.pk)
    )


@pytest.mark.django_db
def test_person_inline_records_contact_changes(admin_client, data):
    url = f"/admin/contacts/person/{data['ada'].pk}/change/"
    fields = form_data(admin_client.get(url), "person_form")
    emea = inline_index(fields, data["ada_emea"])
    paris = inline_index(fields, data["ada_paris"])
    fields[f"memberships-{emea}-is_key_contact"] = "on"
    fields[f"memberships-{emea}-role"] = str(data["roles"]["Region", "Champion"].pk)
    fields.pop(f"memberships-{paris}-is_key_contact")
    fields["_save"] = "Save"

    response = admin_client.post(url, fields)

    assert (response.status_code, response["Location"]) == (302, "/admin/contacts/person/")
    assert history(data["ada_emea"]) == [
        ("key_contact", "no", "yes", "admin", "global_admin_user"),
        ("role", "", "Champion", "admin", "global_admin_user"),
    ]
    assert history(data["ada_paris"]) == [
        ("key_contact", "no", "yes", "app", "owner"),
        ("key_contact", "yes", "no", "admin", "global_admin_user"),
    ]


@pytest.mark.django_db
def test_person_inline_records_a_new_membership(admin_client, data):
    url = f"/admin/contacts/person/{data['alan'].pk}/change/"
    fields = form_data(admin_client.get(url), "person_form")
    fields.update(
        {
            "memberships-TOTAL_FORMS": "2",
            "memberships-1-id": "",
            "memberships-1-person": str(data["alan"].pk),
            "memberships-1-account": str(data["berlin"].pk),
            "memberships-1-role": "",
            "memberships-1-is_contact": "on",
            "_save": "Save",
        }
    )

    response = admin_client.post(url, fields)

    assert response.status_code == 302
    membership = Membership.objects.get(person=data["alan"], account=data["berlin"])
    assert history(membership) == [("contact", "no", "yes", "admin", "global_admin_user")]


@pytest.mark.django_db
def test_person_inline_refuses_role_of_another_account_type(admin_client, data):
    url = f"/admin/contacts/person/{data['ada'].pk}/change/"
    fields = form_data(admin_client.get(url), "person_form")
    emea = inline_index(fields, data["ada_emea"])
    fields[f"memberships-{emea}-role"] = str(data["executive_sponsor"].pk)
    fields["_save"] = "Save"
    changes_before = ContactChange.objects.count()

    response = admin_client.post(url, fields)

    assert response.status_code == 200
    assert error_list(response, f"id_memberships-{emea}-role") == [
        "“Executive sponsor” is not a role of Region accounts. Valid roles: Champion, "
        "Regional director."
    ]
    assert ContactChange.objects.count() == changes_before
    data["ada_emea"].refresh_from_db()
    assert data["ada_emea"].role is None


@pytest.mark.django_db
def test_account_inline_records_contact_changes(admin_client, data):
    url = f"/admin/accounts/account/{data['austin'].pk}/change/"
    fields = form_data(admin_client.get(url), "account_form")
    fields["memberships-0-is_contact"] = "on"
    fields["_save"] = "Save"

    response = admin_client.post(url, fields)

    assert response.status_code == 302
    data["alan_austin"].refresh_from_db()
    assert data["alan_austin"].is_contact is True
    assert history(data["alan_austin"]) == [("contact", "no", "yes", "admin", "global_admin_user")]


# Query counts


@pytest.mark.django_db
@pytest.mark.parametrize("item_count", (1, 3))
def test_account_changelist_query_count(
    admin_client, account_types, django_assert_max_num_queries, item_count
):
    for _ in range(item_count):
        root = AccountFactory(account_type=account_types["Corporate"])
        for _ in range(2):
            region = AccountFactory(account_type=account_types["Region"], parent=root)
            AccountFactory(account_type=account_types["Site"], parent=region)

    with django_assert_max_num_queries(10):
        response = admin_client.get("/admin/accounts/account/")

    assert len(result_rows(response)) == 5 * item_count


@pytest.mark.django_db
@pytest.mark.parametrize("item_count", (1, 3))
def test_membership_changelist_query_count(
    admin_client, account_types, django_assert_max_num_queries, item_count
):
    site_admin = AccountRole.objects.get(name="Site admin")
    for _ in range(item_count):
        account = AccountFactory(account_type=account_types["Site"])
        MembershipFactory(account=account, role=site_admin, is_key_contact=True)
        MembershipFactory(account=account, is_contact=False)

    with django_assert_max_num_queries(9):
        response = admin_client.get("/admin/contacts/membership/")

    assert len(result_rows(response)) == 2 * item_count
