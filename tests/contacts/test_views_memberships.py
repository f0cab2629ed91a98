"""contacts/views/memberships.py's add-contact flow, one module: one dialog, step by step.

Adding a contact to an account: /accounts/<id>/add-contact/ and its type-ahead,
/accounts/<id>/people-suggestions/ (SPEC §3.4), with and without htmx; and which staff users
may write at all (SPEC §5)."""

import pytest
from django.db import connection

from contacts.models import Membership, Task, Touchpoint
from tests import stored
from tests.factories import MembershipFactory, PersonFactory, TaskFactory, TouchpointFactory
from tests.html import attribute, element, elements, page, parse, text, vary

HTMX = {"HX-Request": "true"}


@pytest.fixture
def people(tree):
    """People the type-ahead can find, keyed by first name in lower case.

    "ada" finds Ada (first name), Kim (email at canada.example) and Adam (first name).
    Ada is a key contact of Corp and a contact of Other; Adam a member (not a contact) of
    Paris; Grace belongs nowhere.
    """
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@analytical.example")
    kim = PersonFactory(first_name="Kim", last_name="Park", email="kim@canada.example")
    adam = PersonFactory(first_name="Adam", last_name="Smith", email="adam@economics.example")
    grace = PersonFactory(first_name="Grace", last_name="Hopper", email="grace@navy.example")
    MembershipFactory(person=ada, account=tree["corp"], is_key_contact=True)
    MembershipFactory(person=ada, account=tree["other"])
    MembershipFactory(person=adam, account=tree["paris"], is_contact=False)
    return {"ada": ada, "kim": kim, "adam": adam, "grace": grace}


# Reading pages


def _messages(response):
    """The flash messages on a page: [(kind, text)]."""
    return [
        (attribute(li, "class").split()[-1], text(li))
        for li in elements(page(response), "li", class_="message")
    ]


def _options(node):
    """The type-ahead options: (name, email, accounts, href) of people, then the "(new)" one
    as (text, None, None, href)."""
    options = []
    # The type-ahead's options are role="option"; the no-JavaScript list's are plain links.
    for option in elements(node, "a", class_="suggestion"):
        assert attribute(option, "hx-get") == attribute(option, "href")
        assert attribute(option, "hx-target") == "#add-contact-body"
        if "suggestion-new" in attribute(option, "class").split():
            options.append((text(option), None, None, attribute(option, "href")))
        else:
            options.append(
                (
                    text(element(option, "span", class_="suggestion-name")),
                    text(element(option, "span", class_="suggestion-email")),
                    text(element(option, "span", class_="suggestion-accounts")),
                    attribute(option, "href"),
                )
            )
    return options


def _field_errors(node):
    """{field label: [errors]} of the fields of a form, for those with errors."""
    errors = {}
    for field in elements(node, "div", class_="field"):
        messages = [text(p) for p in elements(field, "p", class_="field-error")]
        if messages:
            label = text(elements(field, "label")[0]).removesuffix(" * (required)")
            errors[label] = messages
    return errors


def _values(form):
    """{name: value} of the text inputs of a form."""
    return {
        attribute(field, "name"): attribute(field, "value")
        for field in elements(form, "input")
        if attribute(field, "type") in ("text", "email")
    }


def _role_options(form):
    return [
        (text(option), "selected" in dict(option.attributes))
        for option in elements(element(form, "select", name="role"), "option")
    ]


# What is stored


def _stored():
    return (stored.people(), stored.memberships(), stored.changes())


def _add_url(account, query=""):
    return f"/accounts/{account.pk}/add-contact/" + (f"?{query}" if query else "")


def _suggestions_url(account, q):
    return f"/accounts/{account.pk}/people-suggestions/?q={q}"


PEOPLE_BEFORE = [
    ("ada@analytical.example", "Ada", "Lovelace", "", ""),
    ("kim@canada.example", "Kim", "Park", "", ""),
    ("adam@economics.example", "Adam", "Smith", "", ""),
    ("grace@navy.example", "Grace", "Hopper", "", ""),
]
MEMBERSHIPS_BEFORE = [
    ("ada@analytical.example", "Corp", None, True, True),
    ("ada@analytical.example", "Other", None, True, False),
    ("adam@economics.example", "Paris", None, False, False),
]


# The search step


def test_add_contact_page_without_htmx_is_a_whole_page_with_the_search_field(
    standard_client, tree, people
):
    response = standard_client.get(_add_url(tree["paris"]))

    body = response.content.decode()
    doc = page(response)
    assert body.startswith("<!doctype html>")
    assert [text(li) for li in elements(element(doc, "nav", class_="breadcrumb"), "li")] == [
        "Accounts",
        "Paris",
        "Add contact",
    ]
    assert text(element(doc, "h2", id="add-contact-title")) == "Add contact"
    assert text(element(doc, "p", class_="dialog-sub")) == "to Paris Site"
    # Without a dialog there is nothing to close.
    assert elements(doc, "button", data_close_dialog="") == []
    form = element(doc, "form", method="get")
    assert [attribute(form, name) for name in ("action", "hx-get", "hx-target")] == [
        _add_url(tree["paris"]),
        _add_url(tree["paris"]),
        "#add-contact-body",
    ]
    assert text(element(form, "label", for_="person-search")) == "Person"
    search = element(form, "input", id="person-search")
    assert (attribute(search, "name"), attribute(search, "autocomplete")) == ("q", "off")
    assert attribute(element(form, "auto-complete"), "src") == (
        f"/accounts/{tree['paris'].pk}/people-suggestions/"
    )
    assert text(element(form, "button", type="submit")) == "Find people"
    assert elements(doc, "ul", class_="suggestions-static") == []


def test_add_contact_with_htmx_is_the_dialog_body_only(standard_client, tree, people):
    response = standard_client.get(_add_url(tree["paris"]), headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'aria-label="Breadcrumb"' not in body
    doc = parse(response)
    assert text(element(doc, "h2", id="add-contact-title")) == "Add contact"
    assert text(element(doc, "button", data_close_dialog="")) == "✕"
    assert text(element(doc, "label", for_="person-search")) == "Person"


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_add_contact_varies_on_hx_request(standard_client, tree, headers):
    response = standard_client.get(_add_url(tree["paris"]), headers=headers)

    assert "HX-Request" in vary(response)


def test_add_contact_without_javascript_lists_matches_under_the_search(
    standard_client, tree, people
):
    response = standard_client.get(_add_url(tree["paris"], "q=ada"))

    doc = page(response)
    assert attribute(element(doc, "input", id="person-search"), "value") == "ada"
    static = element(doc, "ul", class_="suggestions-static")
    assert attribute(static, "aria-label") == "People matching “ada”"
    add = _add_url(tree["paris"])
    assert _options(static) == [
        (
            "Ada Lovelace",
            "ada@analytical.example",
            "Corp, Other",
            f"{add}?person={people['ada'].pk}",
        ),
        ("Kim Park", "kim@canada.example", "No accounts yet", f"{add}?person={people['kim'].pk}"),
        ("Adam Smith", "adam@economics.example", "Paris", f"{add}?person={people['adam'].pk}"),
        ("(new) ada", None, None, f"{add}?new=ada"),
    ]


# The type-ahead's options


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_suggestions_list_matching_people_with_email_and_accounts_then_new(
    standard_client, tree, people, headers
):
    response = standard_client.get(_suggestions_url(tree["paris"], "ada"), headers=headers)

    text = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in text
    add = _add_url(tree["paris"])
    assert _options(parse(response)) == [
        (
            "Ada Lovelace",
            "ada@analytical.example",
            "Corp, Other",
            f"{add}?person={people['ada'].pk}",
        ),
        ("Kim Park", "kim@canada.example", "No accounts yet", f"{add}?person={people['kim'].pk}"),
        ("Adam Smith", "adam@economics.example", "Paris", f"{add}?person={people['adam'].pk}"),
        ("(new) ada", None, None, f"{add}?new=ada"),
    ]
    assert [attribute(li, "role") for li in elements(parse(response), "li")] == ["presentation"] * 4


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("ADA", ["Ada Lovelace", "Kim Park", "Adam Smith"]),
        ("Ada Lovelace", ["Ada Lovelace"]),
        ("lovelace ada", ["Ada Lovelace"]),
        ("  ada   love ", ["Ada Lovelace"]),
        ("navy.example", ["Grace Hopper"]),
        ("hopper", ["Grace Hopper"]),
        ("gr", ["Grace Hopper"]),
        ("nobody", []),
    ],
)
def test_suggestions_match_first_name_last_name_full_name_and_email(
    standard_client, tree, people, q, names
):
    response = standard_client.get(_suggestions_url(tree["corp"], q))

    options = _options(parse(response))
    typed = " ".join(q.split())
    assert [option[0] for option in options] == [*names, f"(new) {typed}"]


@pytest.mark.parametrize("q", ["", "a", " a ", "%20"])
def test_suggestions_need_two_characters(standard_client, tree, people, q):
    response = standard_client.get(_suggestions_url(tree["corp"], q))

    assert response.status_code == 200
    assert _options(parse(response)) == []
    assert response.content.decode().strip() == ""


def test_suggestions_show_at_most_ten_people_then_new(standard_client, tree):
    for n in range(12):
        PersonFactory(first_name="Zed", last_name=f"Person{n:02d}", email=f"zed{n:02d}@x.example")

    response = standard_client.get(_suggestions_url(tree["corp"], "zed"))

    assert [option[0] for option in _options(parse(response))] == [
        *[f"Zed Person{n:02d}" for n in range(10)],
        "(new) zed",
    ]


def test_suggestions_name_the_accounts_key_contact_first_then_by_name(standard_client, tree):
    zed = PersonFactory(first_name="Zed", last_name="Zimmer", email="zed@x.example")
    for key in ("paris", "amer", "other"):
        MembershipFactory(person=zed, account=tree[key], is_key_contact=key == "paris")

    response = standard_client.get(_suggestions_url(tree["corp"], "zed"))

    assert [option[2] for option in _options(parse(response))] == ["Paris, Amer, Other", None]


def test_suggestions_show_typed_html_as_text(standard_client, tree):
    response = standard_client.get(_suggestions_url(tree["corp"], "%3Cb%3Ebold%3C%2Fb%3E"))

    text = response.content.decode()
    assert "<b>bold" not in text
    assert _options(parse(response)) == [
        ("(new) <b>bold</b>", None, None, f"{_add_url(tree['corp'])}?new=%3Cb%3Ebold%3C/b%3E"),
    ]


# Choosing a person


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_choosing_a_person_shows_the_roles_of_this_account_type_only(
    standard_client, tree, people, headers
):
    response = standard_client.get(
        _add_url(tree["paris"], f"person={people['grace'].pk}"), headers=headers
    )

    doc = page(response)
    assert ("<html" in response.content.decode()) == (not headers)
    assert text(element(doc, "div", class_="person-card")) == "Grace Hopper grace@navy.example"
    form = element(doc, "form", method="post", hx_target="#add-contact-body")
    assert (attribute(form, "action"), attribute(form, "hx-post")) == (
        _add_url(tree["paris"]),
        _add_url(tree["paris"]),
    )
    assert attribute(element(form, "input", name="person"), "value") == str(people["grace"].pk)
    assert _role_options(form) == [("No role", True), ("End user", False), ("Site admin", False)]
    assert text(element(form, "label", for_="contact_role")) == "Account role"
    assert text(element(form, "label", for_="contact_is_key_contact")) == "Key contact"
    assert [text(b) for b in elements(form, "button")] == ["Add as contact"]
    assert _stored() == (PEOPLE_BEFORE, MEMBERSHIPS_BEFORE, [])


def test_choosing_a_member_says_so_and_preselects_their_role(standard_client, tree, people, roles):
    Membership.objects.filter(person=people["adam"]).update(role=roles["Site", "End user"])

    doc = page(standard_client.get(_add_url(tree["paris"], f"person={people['adam'].pk}")))

    assert text(element(doc, "div", class_="person-card")) == (
        "Adam Smith adam@economics.example "
        "Already a member of this account as End user, not a contact."
    )
    assert _role_options(element(doc, "form", method="post", hx_target="#add-contact-body")) == [
        ("No role", False),
        ("End user", True),
        ("Site admin", False),
    ]


@pytest.mark.parametrize("account", ["corp", "austin_it"])
def test_role_choices_follow_the_account_type(standard_client, tree, people, account):
    doc = page(standard_client.get(_add_url(tree[account], f"person={people['grace'].pk}")))

    assert (
        _role_options(element(doc, "form", method="post", hx_target="#add-contact-body"))
        == {
            "corp": [("No role", True), ("Champion", False), ("Executive sponsor", False)],
            "austin_it": [("No role", True), ("Department head", False)],
        }[account]
    )


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("person", ["999999", "abc", "1.5", "", "-"])
def test_a_person_that_does_not_exist_is_404(standard_client, tree, people, method, person):
    response = getattr(standard_client, method)(_add_url(tree["paris"]), {"person": person})

    assert response.status_code == 404
    assert text(element(parse(response), "h1")) == "Not found"
    assert _stored() == (PEOPLE_BEFORE, MEMBERSHIPS_BEFORE, [])


@pytest.mark.parametrize("method", ["get", "post"])
def test_add_contact_to_an_account_that_does_not_exist_is_404(standard_client, people, method):
    response = getattr(standard_client, method)(
        "/accounts/999999/add-contact/", {"person": people["grace"].pk}
    )

    assert response.status_code == 404
    assert _stored() == (PEOPLE_BEFORE, MEMBERSHIPS_BEFORE, [])


# Adding the person chosen


def test_adding_a_person_without_htmx_redirects_to_the_account_with_a_message(
    standard_client, tree, people, roles
):
    response = standard_client.post(
        _add_url(tree["paris"]),
        {
            "person": people["grace"].pk,
            "role": roles["Site", "Site admin"].pk,
            "is_key_contact": "on",
        },
    )

    assert (response.status_code, response["Location"]) == (302, tree["paris"].get_absolute_url())
    assert "HX-Trigger" not in response.headers
    user = standard_client.staff_user.pk
    assert stored.memberships() == [
        *MEMBERSHIPS_BEFORE,
        ("grace@navy.example", "Paris", "Site admin", True, True),
    ]
    assert stored.changes() == [
        ("grace@navy.example", "Paris", "contact", "no", "yes", "app", user),
        ("grace@navy.example", "Paris", "key_contact", "no", "yes", "app", user),
        ("grace@navy.example", "Paris", "role", "", "Site admin", "app", user),
    ]
    account_page = standard_client.get(response["Location"])
    assert _messages(account_page) == [
        ("message-success", "Grace Hopper is now a contact of Paris."),
    ]
    results = element(page(account_page), "div", id="contact-results")
    assert [text(td) for td in elements(results, "td", class_="contact-name")] == [
        "Grace Hopper ♛",
    ]


def test_adding_a_person_with_htmx_says_done_and_tells_the_widget(standard_client, tree, people):
    response = standard_client.post(
        _add_url(tree["paris"]), {"person": people["grace"].pk, "role": ""}, headers=HTMX
    )

    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "contacts-changed"
    body = response.content.decode()
    assert "<html" not in body
    doc = parse(response)
    assert text(element(doc, "h2", id="add-contact-title")) == "Contact added"
    status = element(doc, "p", role="status")
    assert text(status) == "Grace Hopper is now a contact of Paris."
    assert attribute(status, "class") == "message message-success"
    assert [text(a) for a in elements(doc, "a", class_="button")] == ["Add another"]
    assert [text(b) for b in elements(doc, "button", data_close_dialog="")] == ["✕", "Done"]
    assert stored.memberships() == [
        *MEMBERSHIPS_BEFORE,
        ("grace@navy.example", "Paris", None, True, False),
    ]
    assert stored.changes() == [
        (
            "grace@navy.example",
            "Paris",
            "contact",
            "no",
            "yes",
            "app",
            standard_client.staff_user.pk,
        ),
    ]


def test_adding_a_member_makes_the_membership_a_contact(standard_client, tree, people, roles):
    response = standard_client.post(
        _add_url(tree["paris"]),
        {"person": people["adam"].pk, "role": roles["Site", "End user"].pk},
    )

    assert response.status_code == 302
    assert stored.memberships() == [
        *MEMBERSHIPS_BEFORE[:2],
        ("adam@economics.example", "Paris", "End user", True, False),
    ]
    user = standard_client.staff_user.pk
    assert stored.changes() == [
        ("adam@economics.example", "Paris", "contact", "no", "yes", "app", user),
        ("adam@economics.example", "Paris", "role", "", "End user", "app", user),
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_adding_someone_already_a_contact_says_so_and_changes_nothing(
    standard_client, tree, people, roles, method
):
    response = getattr(standard_client, method)(
        _add_url(tree["corp"]),
        {"person": people["ada"].pk, "role": roles["Corporate", "Champion"].pk},
    )

    assert (response.status_code, response["Location"]) == (302, tree["corp"].get_absolute_url())
    assert _messages(standard_client.get(response["Location"])) == [
        ("message-info", "Ada Lovelace is already a contact of Corp. Nothing was changed."),
    ]
    assert _stored() == (PEOPLE_BEFORE, MEMBERSHIPS_BEFORE, [])


@pytest.mark.parametrize("method", ["get", "post"])
def test_adding_someone_already_a_contact_with_htmx_does_not_refresh_the_widget(
    standard_client, tree, people, method
):
    response = getattr(standard_client, method)(
        _add_url(tree["corp"]), {"person": people["ada"].pk}, headers=HTMX
    )

    assert response.status_code == 200
    assert "HX-Trigger" not in response.headers
    doc = parse(response)
    # The heading says what happened: not "Contact added" over "Nothing was changed".
    assert text(element(doc, "h2", id="add-contact-title")) == "Already a contact"
    status = element(doc, "p", role="status")
    assert text(status) == "Ada Lovelace is already a contact of Corp. Nothing was changed."
    assert attribute(status, "class") == "message message-info"
    assert _stored() == (PEOPLE_BEFORE, MEMBERSHIPS_BEFORE, [])


@pytest.mark.parametrize("headers", [{}, HTMX])
@pytest.mark.parametrize(
    "role", [("Corporate", "Executive sponsor"), ("Region", "Champion"), "999999", "abc"]
)
def test_adding_a_person_with_a_role_that_does_not_fit_is_400_and_writes_nothing(
    standard_client, tree, people, roles, role, headers
):
    value = roles[role].pk if isinstance(role, tuple) else role

    response = standard_client.post(
        _add_url(tree["paris"]),
        {"person": people["grace"].pk, "role": value, "is_key_contact": "on"},
        headers=headers,
    )

    doc = page(response, 400)
    assert "HX-Trigger" not in response.headers
    assert _field_errors(element(doc, "form", method="post", hx_target="#add-contact-body")) == {
        "Account role": ["Choose one of the roles of Site accounts."],
    }
    assert _stored() == (PEOPLE_BEFORE, MEMBERSHIPS_BEFORE, [])


def test_double_submit_of_a_person_adds_them_once(standard_client, tree, people, roles):
    data = {"person": people["grace"].pk, "role": roles["Site", "End user"].pk}

    first = standard_client.post(_add_url(tree["paris"]), data, headers=HTMX)
    second = standard_client.post(_add_url(tree["paris"]), data, headers=HTMX)

    assert (first.headers.get("HX-Trigger"), second.headers.get("HX-Trigger")) == (
        "contacts-changed",
        None,
    )
    assert text(element(parse(second), "p", role="status")) == (
        "Grace Hopper is already a contact of Paris. Nothing was changed."
    )
    assert text(element(parse(first), "h2", id="add-contact-title")) == "Contact added"
    assert text(element(parse(second), "h2", id="add-contact-title")) == "Already a contact"
    assert stored.memberships() == [
        *MEMBERSHIPS_BEFORE,
        ("grace@navy.example", "Paris", "End user", True, False),
    ]
    assert [change[2] for change in stored.changes()] == ["contact", "role"]


# A new person


@pytest.mark.parametrize(
    ("typed", "initial"),
    [
        ("Grace Hopper", {"email": None, "first_name": "Grace", "last_name": "Hopper"}),
        (
            "Grace  Brewster Hopper ",
            {"email": None, "first_name": "Grace", "last_name": "Brewster Hopper"},
        ),
        ("grace", {"email": None, "first_name": "grace", "last_name": None}),
        (
            "grace@navy.example",
            {"email": "grace@navy.example", "first_name": None, "last_name": None},
        ),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX])
def test_new_person_form_is_prefilled_from_what_was_typed(
    standard_client, tree, typed, initial, headers
):
    response = standard_client.get(_add_url(tree["paris"]), {"new": typed}, headers=headers)

    doc = page(response)
    assert ("<html" in response.content.decode()) == (not headers)
    assert text(element(doc, "h2", id="add-contact-title")) == "New person"
    form = element(doc, "form", method="post", hx_target="#add-contact-body")
    assert _values(form) == {**initial, "title": None, "phone": None}
    assert _field_errors(form) == {}


def test_new_person_form_marks_the_required_fields_and_offers_this_types_roles(
    standard_client, tree
):
    doc = page(standard_client.get(_add_url(tree["paris"]), {"new": "Grace"}))

    form = element(doc, "form", method="post", hx_target="#add-contact-body")
    assert [attribute(form, name) for name in ("action", "hx-post", "hx-target")] == [
        _add_url(tree["paris"]),
        _add_url(tree["paris"]),
        "#add-contact-body",
    ]
    assert [(text(label), attribute(label, "for")) for label in elements(form, "label")] == [
        ("Email * (required)", "contact_email"),
        ("First Name * (required)", "contact_first_name"),
        ("Last Name * (required)", "contact_last_name"),
        ("Title", "contact_title"),
        ("Phone", "contact_phone"),
        ("Account role", "contact_role"),
        ("Key contact", "contact_is_key_contact"),
    ]
    assert _role_options(form) == [("No role", True), ("End user", False), ("Site admin", False)]
    assert [text(b) for b in elements(form, "button")] == ["Save contact"]


def _new_person(**changes):
    data = {
        "new": "1",
        "email": "grace@navy.example",
        "first_name": "Grace",
        "last_name": "Hopper",
        "title": "Rear admiral",
        "phone": "+1 555 0100",
        "role": "",
    }
    return {key: value for key, value in {**data, **changes}.items() if value is not None}


def test_saving_a_new_person_without_htmx_redirects_with_a_message(standard_client, tree, roles):
    response = standard_client.post(
        _add_url(tree["paris"]),
        _new_person(role=roles["Site", "Site admin"].pk, is_key_contact="on"),
    )

    assert (response.status_code, response["Location"]) == (302, tree["paris"].get_absolute_url())
    assert stored.people() == [
        ("grace@navy.example", "Grace", "Hopper", "Rear admiral", "+1 555 0100")
    ]
    assert stored.memberships() == [("grace@navy.example", "Paris", "Site admin", True, True)]
    user = standard_client.staff_user.pk
    assert stored.changes() == [
        ("grace@navy.example", "Paris", "contact", "no", "yes", "app", user),
        ("grace@navy.example", "Paris", "key_contact", "no", "yes", "app", user),
        ("grace@navy.example", "Paris", "role", "", "Site admin", "app", user),
    ]
    assert _messages(standard_client.get(response["Location"])) == [
        ("message-success", "Grace Hopper is now a contact of Paris."),
    ]


def test_saving_a_new_person_with_htmx_says_done_and_tells_the_widget(standard_client, tree):
    response = standard_client.post(_add_url(tree["paris"]), _new_person(), headers=HTMX)

    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "contacts-changed"
    assert "<html" not in response.content.decode()
    assert text(element(parse(response), "p", role="status")) == (
        "Grace Hopper is now a contact of Paris."
    )
    assert stored.memberships() == [("grace@navy.example", "Paris", None, True, False)]


@pytest.mark.parametrize("headers", [{}, HTMX])
@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"email": "", "first_name": "", "last_name": ""},
            {
                "Email": ["This field is required."],
                "First Name": ["This field is required."],
                "Last Name": ["This field is required."],
            },
        ),
        (
            {"email": None, "first_name": None, "last_name": None},
            {
                "Email": ["This field is required."],
                "First Name": ["This field is required."],
                "Last Name": ["This field is required."],
            },
        ),
        ({"first_name": "   "}, {"First Name": ["This field is required."]}),
        ({"email": "grace@"}, {"Email": ["Enter a valid email address."]}),
        ({"email": "grace at navy"}, {"Email": ["Enter a valid email address."]}),
        (
            {"last_name": "x" * 101},
            {"Last Name": ["Ensure this value has at most 100 characters (it has 101)."]},
        ),
    ],
)
def test_saving_a_new_person_with_bad_fields_is_400_with_the_message_at_the_field(
    standard_client, tree, changes, errors, headers
):
    response = standard_client.post(
        _add_url(tree["paris"]), _new_person(**changes), headers=headers
    )

    doc = page(response, 400)
    assert "HX-Trigger" not in response.headers
    form = element(doc, "form", method="post", hx_target="#add-contact-body")
    assert _field_errors(form) == errors
    assert _stored() == ([], [], [])


def test_saving_a_new_person_keeps_what_was_typed_when_refused(standard_client, tree):
    response = standard_client.post(_add_url(tree["paris"]), _new_person(email="grace@"))

    form = element(page(response, 400), "form", method="post", hx_target="#add-contact-body")
    assert _values(form) == {
        "email": "grace@",
        "first_name": "Grace",
        "last_name": "Hopper",
        "title": "Rear admiral",
        "phone": "+1 555 0100",
    }


@pytest.mark.parametrize("role", [("Corporate", "Champion"), ("Site", "Site admin")])
def test_saving_a_new_person_with_a_role_of_another_type_is_400(standard_client, tree, roles, role):
    response = standard_client.post(_add_url(tree["paris_sales"]), _new_person(role=roles[role].pk))

    form = element(page(response, 400), "form", method="post", hx_target="#add-contact-body")
    assert _field_errors(form) == {
        "Account role": ["Choose one of the roles of Department accounts."],
    }
    # The refused value matches no option, so none is marked selected.
    assert _role_options(form) == [("No role", False), ("Department head", False)]
    assert _stored() == ([], [], [])


@pytest.mark.parametrize("headers", [{}, HTMX])
@pytest.mark.parametrize("email", ["ada@analytical.example", "ADA@Analytical.EXAMPLE"])
def test_saving_a_new_person_whose_email_exists_offers_that_person(
    standard_client, tree, people, email, headers
):
    response = standard_client.post(
        _add_url(tree["paris"]),
        _new_person(email=email, first_name="Augusta", last_name="King"),
        headers=headers,
    )

    doc = page(response, 400)
    assert "HX-Trigger" not in response.headers
    form = element(doc, "form", method="post", hx_target="#add-contact-body")
    assert _field_errors(form) == {
        "Email": ["Ada Lovelace already has this email. Add them instead of a new person."],
    }
    offer = element(form, "div", class_="form-error")
    assert text(offer) == (
        "Ada Lovelace (ada@analytical.example) already has this email. Add Ada Lovelace instead"
    )
    link = element(offer, "a")
    href = _add_url(tree["paris"], f"person={people['ada'].pk}")
    assert (attribute(link, "href"), attribute(link, "hx-get")) == (href, href)
    assert _stored() == (PEOPLE_BEFORE, MEMBERSHIPS_BEFORE, [])

    # The offer leads to the role form for Ada.
    offered = page(standard_client.get(href))
    assert text(element(offered, "div", class_="person-card")) == (
        "Ada Lovelace ada@analytical.example"
    )


def test_double_submit_of_a_new_person_makes_one_person(standard_client, tree):
    first = standard_client.post(_add_url(tree["paris"]), _new_person(), headers=HTMX)
    second = standard_client.post(_add_url(tree["paris"]), _new_person(), headers=HTMX)

    assert (first.status_code, second.status_code) == (200, 400)
    form = element(parse(second), "form", method="post", hx_target="#add-contact-body")
    assert _field_errors(form) == {
        "Email": ["Grace Hopper already has this email. Add them instead of a new person."],
    }
    assert stored.people() == [
        ("grace@navy.example", "Grace", "Hopper", "Rear admiral", "+1 555 0100")
    ]
    assert stored.memberships() == [("grace@navy.example", "Paris", None, True, False)]
    assert len(stored.changes()) == 1


def test_new_person_names_with_html_are_shown_as_text(standard_client, tree):
    response = standard_client.post(
        _add_url(tree["paris"]),
        _new_person(first_name="<script>alert(1)</script>", last_name="Mallory"),
        headers=HTMX,
    )

    text = response.content.decode()
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Mallory is now a contact of Paris." in text


# Who may write (SPEC §5)


@pytest.fixture
def writable(tree, people):
    """One of everything a write URL can name, at Paris."""
    contact = MembershipFactory(person=people["grace"], account=tree["paris"])
    task = TaskFactory(account=tree["paris"], title="Renewal call")
    task.contacts.set([contact])
    touchpoint = TouchpointFactory(account=tree["paris"], subject="Kick-off")
    return {
        "account": tree["paris"].pk,
        "contact": contact.pk,
        "task": task.pk,
        "touchpoint": touchpoint.pk,
        "person": people["grace"].pk,
    }


def _everything():
    return (
        _stored(),
        list(Task.objects.values_list("title", "status", "due_date", "owner")),
        list(Touchpoint.objects.values_list("subject", "kind", "notes")),
    )


WRITE_URLS = [
    ("get", "/accounts/{account}/add-contact/", {}),
    ("get", "/accounts/{account}/add-contact/", {"person": "{person}"}),
    ("get", "/accounts/{account}/add-contact/", {"new": "Grace"}),
    ("post", "/accounts/{account}/add-contact/", {"person": "{person}"}),
    (
        "post",
        "/accounts/{account}/add-contact/",
        {"new": "1", "email": "new@x.example", "first_name": "New", "last_name": "Person"},
    ),
    ("get", "/accounts/{account}/people-suggestions/", {"q": "grace"}),
    ("get", "/people/contacts/{contact}/edit/", {}),
    ("post", "/people/contacts/{contact}/edit/", {"role": "", "is_key_contact": "on"}),
    ("get", "/people/contacts/{contact}/remove/", {}),
    ("post", "/people/contacts/{contact}/remove/", {}),
    ("get", "/accounts/{account}/tasks/new/", {}),
    ("post", "/accounts/{account}/tasks/new/", {"title": "Sneaky"}),
    ("get", "/accounts/{account}/tasks/{task}/edit/", {}),
    ("post", "/accounts/{account}/tasks/{task}/edit/", {"title": "Sneaky"}),
    ("post", "/accounts/{account}/tasks/{task}/status/", {"status": "done"}),
    ("get", "/accounts/{account}/touchpoints/new/", {}),
    (
        "post",
        "/accounts/{account}/touchpoints/new/",
        {"kind": "call", "subject": "Sneaky", "happened_at": "2026-11-20T14:30"},
    ),
    ("get", "/accounts/{account}/touchpoints/{touchpoint}/edit/", {}),
    (
        "post",
        "/accounts/{account}/touchpoints/{touchpoint}/edit/",
        {"kind": "call", "subject": "Sneaky", "happened_at": "2026-11-20T14:30"},
    ),
    ("get", "/people/{person}/edit/", {}),
    (
        "post",
        "/people/{person}/edit/",
        {"email": "sneaky@x.example", "first_name": "Sneaky", "last_name": "Person"},
    ),
]


@pytest.mark.parametrize("headers", [{}, HTMX])
@pytest.mark.parametrize(("method", "url", "data"), WRITE_URLS)
def test_viewer_gets_403_on_every_write_url_and_nothing_changes(
    viewer_client, writable, method, url, data, headers
):
    before = _everything()

    response = getattr(viewer_client, method)(
        url.format(**writable),
        {key: value.format(**writable) for key, value in data.items()},
        headers=headers,
    )

    assert response.status_code == 403
    assert text(element(parse(response), "h1")) == "Not allowed"
    assert _everything() == before


CONTROLS = {
    "+ Add contact",
    "+ New task",
    "+ New touchpoint",
    "Edit",
    "Remove",
    "Complete",
    "Reopen",
}


def _controls(response):
    """The write controls on an account page, in page order."""
    doc = page(response)
    return [
        text(node)
        for node in elements(doc, "a") + elements(doc, "button")
        if text(node) in CONTROLS
    ]


@pytest.fixture
def account_with_everything(writable, tree):
    TaskFactory(account=tree["paris"], title="Done already", status=Task.Status.DONE)
    return tree["paris"]


def test_viewer_sees_no_write_controls_on_the_account_page(viewer_client, account_with_everything):
    response = viewer_client.get(account_with_everything.get_absolute_url())

    assert _controls(response) == []
    doc = page(response)
    assert elements(doc, "dialog") == []
    # The rows are there, only without their actions.
    assert [text(td) for td in elements(doc, "td", class_="contact-name")] == ["Grace Hopper"]
    assert [text(h) for h in elements(doc, "h2")] == [
        "Contacts",
        "In the company",
        "Tasks",
        "Touchpoints",
    ]


@pytest.mark.parametrize(
    "client_fixture", ["standard_client", "advanced_client", "global_admin_client"]
)
def test_writers_see_the_write_controls_on_the_account_page(
    request, client_fixture, account_with_everything
):
    client = request.getfixturevalue(client_fixture)

    response = client.get(account_with_everything.get_absolute_url())

    links = [text(a) for a in elements(page(response), "a") if text(a) in CONTROLS]
    buttons = [text(b) for b in elements(page(response), "button") if text(b) in CONTROLS]
    assert links == [
        "+ Add contact",
        "Edit",
        "Remove",  # the widget and its one row
        "+ New task",
        "Edit",
        "Edit",  # the two tasks
        "+ New touchpoint",
        "Edit",  # the touchpoint
    ]
    assert sorted(buttons) == ["Complete", "Reopen"]
    add = element(page(response), "a", class_="button-primary")
    url = _add_url(account_with_everything)
    assert (
        text(add),
        attribute(add, "href"),
        attribute(add, "hx-get"),
        attribute(add, "hx-target"),
    ) == ("+ Add contact", url, url, "#add-contact-body")
    assert attribute(element(page(response), "dialog"), "id") == "add-contact-dialog"


def test_anonymous_visitor_of_add_contact_goes_to_sign_in(client, tree):
    url = _add_url(tree["paris"])

    response = client.post(url, _new_person())

    assert (response.status_code, response["Location"]) == (302, f"/sign-in/?next={url}")
    assert _stored() == ([], [], [])


def _grow_people(tree, size):
    """3 × `size` people matching "grow", each a member of `size` accounts (none a key contact)."""
    for n in range(3 * size):
        person = PersonFactory(first_name="Grow", last_name=f"Person{n}")
        for key in ["emea", "berlin", "amer"][:size]:
            MembershipFactory(person=person, account=tree[key], is_contact=n % 2 == 0)


def _assert_grow_options(doc, size):
    options = elements(doc, "a", class_="suggestion")
    assert [text(element(option, "span", class_="suggestion-name")) for option in options[:-1]] == [
        f"Grow Person{n}" for n in range(3 * size)
    ]
    # No key contacts among them: their accounts by name.
    assert [
        text(element(option, "span", class_="suggestion-accounts")).split(", ")
        for option in options[:-1]
    ] == [sorted(["Emea", "Berlin", "Amer"][:size])] * (3 * size)
    assert text(options[-1]) == "(new) grow"


# Session and staff user (2); the permission check (1) and the Global-admin check (1); the
# account (1); the people (1) and their memberships with their accounts (1); on PostgreSQL,
# the SET and RESET that keep the search on the trigram indexes (found_through_indexes).
ADD_CONTACT_QUERIES = 7 + 2 * (connection.vendor == "postgresql")
# The same for the options alone: a fragment, but the context processor still asks whether
# the staff user is a Global admin.
SUGGESTION_QUERIES = ADD_CONTACT_QUERIES


@pytest.mark.parametrize("size", (1, 3))
def test_add_contact_search_query_count(standard_client, tree, django_assert_num_queries, size):
    _grow_people(tree, size)

    with django_assert_num_queries(ADD_CONTACT_QUERIES):
        response = standard_client.get(f"/accounts/{tree['paris'].pk}/add-contact/?q=grow")

    _assert_grow_options(element(page(response), "ul", class_="suggestions-static"), size)


@pytest.mark.parametrize("size", (1, 3))
def test_people_suggestions_query_count(standard_client, tree, django_assert_num_queries, size):
    _grow_people(tree, size)

    with django_assert_num_queries(SUGGESTION_QUERIES):
        response = standard_client.get(f"/accounts/{tree['paris'].pk}/people-suggestions/?q=grow")

    _assert_grow_options(parse(response), size)


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_the_role_is_focused_once_a_person_is_picked(standard_client, tree, people, headers):
    """After a pick in the type-ahead, focus goes on to the role (the next field), not to the
    page's body: the role select is marked autofocus, which htmx's swap and the page honour."""
    response = standard_client.get(
        _add_url(tree["paris"]), {"person": people["grace"].pk}, headers=headers
    )

    focused = [
        el for el in elements(parse(response), "select") if ("autofocus", None) in el.attributes
    ]
    assert [attribute(el, "name") for el in focused] == ["role"]
