"""Editing and removing a contact (views/memberships.py), one module: one flow, pages and services.

Editing a contact (role, key contact) and removing a contact: the services and the pages
/people/contacts/<membership id>/edit/ and /remove/ (SPEC §2, §3.3, §5)."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AccountRole, AccountType
from contacts import services
from contacts.models import ContactChange, Membership, Person
from tests.factories import AccountFactory, MembershipFactory, PersonFactory
from tests.html import attribute, element, elements, messages, page, text


@pytest.fixture
def ada(tree, roles):
    """Ada Lovelace, a contact of Paris (a Site) with the role Site admin, not a key contact."""
    return MembershipFactory(
        person=PersonFactory(
            first_name="Ada", last_name="Lovelace", email="ada@analytical.example"
        ),
        account=tree["paris"],
        role=roles["Site", "Site admin"],
        is_contact=True,
        is_key_contact=False,
    )


def _state(membership):
    """What is stored for a membership: (contact, key contact, role name)."""
    membership = Membership.objects.select_related("role").get(pk=membership.pk)
    role = membership.role.name if membership.role else None
    return (membership.is_contact, membership.is_key_contact, role)


def _changes(membership=None):
    """The ContactChange rows (of one membership, or all), oldest first."""
    changes = ContactChange.objects.order_by("pk")
    if membership is not None:
        changes = changes.filter(membership=membership)
    return [
        (change.field, change.old_value, change.new_value, change.source, change.staff_user_id)
        for change in changes
    ]


# edit_contact


def test_edit_contact_sets_role_and_key_contact_and_records_each_change(ada, roles, staff_user):
    returned = services.edit_contact(
        membership=ada, role=roles["Site", "End user"], is_key_contact=True, by=staff_user
    )

    assert _state(ada) == (True, True, "End user")
    assert (returned.pk, returned.role.name, returned.is_key_contact) == (ada.pk, "End user", True)
    assert _changes() == [
        ("key_contact", "no", "yes", "app", staff_user.pk),
        ("role", "Site admin", "End user", "app", staff_user.pk),
    ]


def test_edit_contact_ticks_key_contact_alone(ada, roles, staff_user):
    services.edit_contact(
        membership=ada, role=roles["Site", "Site admin"], is_key_contact=True, by=staff_user
    )

    assert _state(ada) == (True, True, "Site admin")
    assert _changes() == [("key_contact", "no", "yes", "app", staff_user.pk)]


def test_edit_contact_unticks_key_contact_and_keeps_the_contact(ada, roles, staff_user):
    Membership.objects.filter(pk=ada.pk).update(is_key_contact=True)

    services.edit_contact(
        membership=ada, role=roles["Site", "Site admin"], is_key_contact=False, by=staff_user
    )

    assert _state(ada) == (True, False, "Site admin")
    assert _changes() == [("key_contact", "yes", "no", "app", staff_user.pk)]


def test_edit_contact_clears_the_role(ada, staff_user):
    services.edit_contact(membership=ada, role=None, is_key_contact=False, by=staff_user)

    assert _state(ada) == (True, False, None)
    assert _changes() == [("role", "Site admin", "", "app", staff_user.pk)]


def test_edit_contact_without_a_change_records_nothing(ada, roles, staff_user):
    services.edit_contact(
        membership=ada, role=roles["Site", "Site admin"], is_key_contact=False, by=staff_user
    )

    assert _state(ada) == (True, False, "Site admin")
    assert _changes() == []


def test_edit_contact_reads_the_stored_membership_not_a_stale_one(ada, roles, staff_user):
    stale = Membership.objects.get(pk=ada.pk)
    Membership.objects.filter(pk=ada.pk).update(role=roles["Site", "End user"])

    services.edit_contact(
        membership=stale, role=roles["Site", "Site admin"], is_key_contact=False, by=staff_user
    )

    assert _changes() == [("role", "End user", "Site admin", "app", staff_user.pk)]


def test_edit_contact_key_contact_of_a_member_makes_them_a_contact(tree, staff_user):
    member = MembershipFactory(account=tree["paris"], is_contact=False)

    services.edit_contact(membership=member, role=None, is_key_contact=True, by=staff_user)

    assert _state(member) == (True, True, None)
    assert _changes() == [
        ("contact", "no", "yes", "app", staff_user.pk),
        ("key_contact", "no", "yes", "app", staff_user.pk),
    ]


def test_edit_contact_records_the_source_given(ada):
    services.edit_contact(
        membership=ada,
        role=None,
        is_key_contact=False,
        by=None,
        source=ContactChange.Source.IMPORT,
    )

    assert _changes() == [("role", "Site admin", "", "import", None)]


@pytest.mark.parametrize(
    ("role", "message"),
    [
        (
            ("Corporate", "Executive sponsor"),
            "“Executive sponsor” is not a role of Site accounts. "
            "Valid roles: End user, Site admin.",
        ),
        (
            ("Region", "Champion"),
            "“Champion” is not a role of Site accounts. Valid roles: End user, Site admin.",
        ),
    ],
)
def test_edit_contact_with_a_role_of_another_account_type_is_refused_and_writes_nothing(
    ada, roles, staff_user, role, message
):
    with pytest.raises(ValidationError) as raised:
        services.edit_contact(membership=ada, role=roles[role], is_key_contact=True, by=staff_user)

    assert {
        field: [(error.code, error.message % error.params) for error in errors]
        for field, errors in raised.value.error_dict.items()
    } == {"role": [("unknown_role", message)]}
    assert _state(ada) == (True, False, "Site admin")
    assert _changes() == []


def test_edit_contact_role_of_a_type_without_roles_lists_none(tree, staff_user):
    team = AccountType.objects.create(name="Team", order=5)
    account = AccountFactory(name="Squad", account_type=team, parent=tree["paris_sales"])
    member = MembershipFactory(account=account)

    with pytest.raises(ValidationError) as raised:
        services.edit_contact(
            membership=member,
            role=AccountRole.objects.get(name="Site admin"),
            is_key_contact=False,
            by=staff_user,
        )

    assert [error.message % error.params for error in raised.value.error_dict["role"]] == [
        "“Site admin” is not a role of Team accounts. Valid roles: none."
    ]
    assert _changes() == []


# remove_contact


def test_remove_contact_clears_both_marks_and_keeps_person_membership_and_role(ada, staff_user):
    Membership.objects.filter(pk=ada.pk).update(is_key_contact=True)

    returned = services.remove_contact(membership=ada, by=staff_user)

    assert _state(ada) == (False, False, "Site admin")
    assert (returned.is_contact, returned.is_key_contact) == (False, False)
    assert Person.objects.filter(pk=ada.person_id).exists()
    assert Membership.objects.filter(pk=ada.pk, person=ada.person, account=ada.account).exists()
    assert _changes() == [
        ("contact", "yes", "no", "app", staff_user.pk),
        ("key_contact", "yes", "no", "app", staff_user.pk),
    ]


def test_remove_contact_that_is_not_a_key_contact_records_the_contact_mark_only(ada, staff_user):
    services.remove_contact(membership=ada, by=staff_user)

    assert _state(ada) == (False, False, "Site admin")
    assert _changes() == [("contact", "yes", "no", "app", staff_user.pk)]


def test_remove_contact_of_a_member_who_is_not_a_contact_changes_nothing(tree, staff_user):
    member = MembershipFactory(account=tree["paris"], is_contact=False)

    services.remove_contact(membership=member, by=staff_user)

    assert _state(member) == (False, False, None)
    assert _changes() == []


def test_remove_contact_leaves_the_persons_other_memberships(ada, tree, staff_user):
    elsewhere = MembershipFactory(person=ada.person, account=tree["berlin"], is_key_contact=True)

    services.remove_contact(membership=ada, by=staff_user)

    assert _state(elsewhere) == (True, True, None)
    assert _changes(elsewhere) == []


# The pages: reading them


def _next(form):
    """Where the form goes back to after saving."""
    return attribute(element(form, "input", name="next"), "value")


def _edit_url(membership, next_url=None):
    url = f"/people/contacts/{membership.pk}/edit/"
    return url if next_url is None else f"{url}?next={next_url}"


def _remove_url(membership, next_url=None):
    url = f"/people/contacts/{membership.pk}/remove/"
    return url if next_url is None else f"{url}?next={next_url}"


# Edit page


def test_edit_page_shows_the_roles_of_the_account_type_and_the_key_contact_box(
    standard_client, ada, roles
):
    response = standard_client.get(_edit_url(ada, "/accounts/1/?view=hierarchy"))

    doc = page(response)
    form = element(doc, "form", class_="form-stack")
    assert text(element(doc, "h1")) == "Edit contact"
    assert text(element(doc, "p", class_="muted")) == "Ada Lovelace at Paris Site"
    assert [
        (attribute(option, "value"), text(option), "selected" in dict(option.attributes))
        for option in elements(form, "option")
    ] == [
        ("", "No role", False),
        (str(roles["Site", "End user"].pk), "End user", False),
        (str(roles["Site", "Site admin"].pk), "Site admin", True),
    ]
    key_box = element(form, "input", name="is_key_contact")
    assert ("checked", None) not in key_box.attributes
    assert [(text(label), attribute(label, "for")) for label in elements(form, "label")] == [
        ("Account role", "contact_role"),
        ("Key contact", "contact_is_key_contact"),
        ("Active", None),
        ("Former", None),
        ("Start date", "contact_start_date"),
        ("End date", "contact_end_date"),
    ]
    assert _next(form) == "/accounts/1/?view=hierarchy"
    assert attribute(element(form, "a", class_="button-quiet"), "href") == (
        "/accounts/1/?view=hierarchy"
    )


def test_edit_page_of_a_key_contact_without_role(standard_client, ada):
    Membership.objects.filter(pk=ada.pk).update(role=None, is_key_contact=True)

    form = element(page(standard_client.get(_edit_url(ada))), "form", class_="form-stack")

    assert [
        text(option) for option in elements(form, "option") if "selected" in dict(option.attributes)
    ] == ["No role"]
    assert ("checked", None) in element(form, "input", name="is_key_contact").attributes
    assert _next(form) == ada.account.get_absolute_url()


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]
)
def test_edit_page_ignores_a_next_to_another_site(standard_client, ada, next_url):
    form = element(
        page(standard_client.get(_edit_url(ada), {"next": next_url})), "form", class_="form-stack"
    )

    assert _next(form) == ada.account.get_absolute_url()


# Edit: saving


def test_edit_saves_and_goes_back_to_next(standard_client, ada, roles, tree):
    next_url = f"{tree['corp'].get_absolute_url()}?view=hierarchy&q=ada"

    response = standard_client.post(
        _edit_url(ada),
        {"role": roles["Site", "End user"].pk, "is_key_contact": "on", "next": next_url},
    )

    assert (response.status_code, response["Location"]) == (302, next_url)
    assert _state(ada) == (True, True, "End user")
    assert _changes() == [
        ("key_contact", "no", "yes", "app", standard_client.staff_user.pk),
        ("role", "Site admin", "End user", "app", standard_client.staff_user.pk),
    ]
    assert messages(standard_client.get(next_url)) == ["Saved Ada Lovelace at Paris."]


def test_edit_without_next_goes_to_the_account(standard_client, ada):
    response = standard_client.post(_edit_url(ada), {"role": "", "is_key_contact": ""})

    assert (response.status_code, response["Location"]) == (302, ada.account.get_absolute_url())
    assert _state(ada) == (True, False, None)
    assert _changes() == [("role", "Site admin", "", "app", standard_client.staff_user.pk)]


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "https://evil.example/accounts/1/",
        "javascript:alert(1)",
    ],
)
def test_edit_ignores_a_next_to_another_site(standard_client, ada, roles, next_url):
    response = standard_client.post(
        _edit_url(ada, next_url),
        {"role": roles["Site", "Site admin"].pk, "is_key_contact": "on", "next": next_url},
    )

    assert (response.status_code, response["Location"]) == (302, ada.account.get_absolute_url())
    assert _state(ada) == (True, True, "Site admin")


@pytest.mark.parametrize(
    "role",
    ["999999", "abc", ("Corporate", "Executive sponsor"), ("Department", "Department head")],
)
def test_edit_with_a_role_that_does_not_fit_shows_an_error_and_writes_nothing(
    standard_client, ada, roles, role
):
    value = roles[role].pk if isinstance(role, tuple) else role

    response = standard_client.post(
        _edit_url(ada), {"role": value, "is_key_contact": "on", "next": "/accounts/"}
    )

    form = element(page(response), "form", class_="form-stack")
    assert [text(error) for error in elements(form, "p", class_="field-error")] == [
        "Choose one of the roles of Site accounts."
    ]
    assert _next(form) == "/accounts/"
    assert _state(ada) == (True, False, "Site admin")
    assert _changes() == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_edit_by_a_viewer_is_forbidden_and_changes_nothing(viewer_client, ada, roles, method):
    response = getattr(viewer_client, method)(
        _edit_url(ada), {"role": roles["Site", "End user"].pk, "is_key_contact": "on"}
    )

    assert response.status_code == 403
    assert _state(ada) == (True, False, "Site admin")
    assert _changes() == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_edit_of_a_member_who_is_not_a_contact_is_404(standard_client, tree, method):
    member = MembershipFactory(account=tree["paris"], is_contact=False)

    response = getattr(standard_client, method)(
        _edit_url(member), {"role": "", "is_key_contact": "on"}
    )

    assert response.status_code == 404
    assert _state(member) == (False, False, None)
    assert _changes() == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_edit_of_a_missing_membership_is_404(standard_client, db, method):
    assert getattr(standard_client, method)("/people/contacts/999999/edit/").status_code == 404


def test_edit_by_an_anonymous_visitor_goes_to_sign_in_and_changes_nothing(client, ada):
    response = client.post(_edit_url(ada), {"role": "", "is_key_contact": "on"})

    assert (response.status_code, response["Location"]) == (
        302,
        f"/sign-in/?next=/people/contacts/{ada.pk}/edit/",
    )
    assert _state(ada) == (True, False, "Site admin")


def test_edit_refuses_other_methods(standard_client, ada):
    assert standard_client.delete(_edit_url(ada)).status_code == 405
    assert _state(ada) == (True, False, "Site admin")


# Remove page


@pytest.mark.parametrize(
    ("key_contact", "sentence"),
    [
        (False, "Ada Lovelace (ada@analytical.example) will no longer be a contact of Paris ."),
        (
            True,
            "Ada Lovelace (ada@analytical.example) will no longer be a contact or key contact "
            "of Paris .",
        ),
    ],
)
def test_remove_page_asks_to_confirm(standard_client, ada, key_contact, sentence):
    Membership.objects.filter(pk=ada.pk).update(is_key_contact=key_contact)

    doc = page(standard_client.get(_remove_url(ada, "/accounts/")))

    assert text(element(doc, "h1")) == "Remove contact?"
    card = element(doc, "section", class_="card-form")
    assert [text(p) for p in elements(card, "p")] == [
        sentence,
        "The person and their membership of the account are kept, with their role, and can be "
        "made a contact again.",
    ]
    form = element(card, "form", method="post")
    assert _next(form) == "/accounts/"
    assert [text(button) for button in elements(form, "button")] == ["Remove contact"]
    assert _state(ada) == (True, key_contact, "Site admin")
    assert _changes() == []


def test_remove_clears_the_marks_and_goes_back_to_next(standard_client, ada, tree):
    Membership.objects.filter(pk=ada.pk).update(is_key_contact=True)
    next_url = f"{tree['paris'].get_absolute_url()}?key=on"

    response = standard_client.post(_remove_url(ada), {"next": next_url})

    assert (response.status_code, response["Location"]) == (302, next_url)
    assert _state(ada) == (False, False, "Site admin")
    assert Person.objects.filter(pk=ada.person_id).exists()
    assert _changes() == [
        ("contact", "yes", "no", "app", standard_client.staff_user.pk),
        ("key_contact", "yes", "no", "app", standard_client.staff_user.pk),
    ]
    after = standard_client.get(next_url)
    assert messages(after) == [
        "Ada Lovelace is no longer a contact of Paris. The person and their membership are kept."
    ]
    assert "Ada Lovelace" not in text(element(page(after), "div", id="contact-results"))


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]
)
def test_remove_ignores_a_next_to_another_site(standard_client, ada, next_url):
    response = standard_client.post(_remove_url(ada, next_url), {"next": next_url})

    assert (response.status_code, response["Location"]) == (302, ada.account.get_absolute_url())
    assert _state(ada) == (False, False, "Site admin")


@pytest.mark.parametrize("method", ["get", "post"])
def test_remove_by_a_viewer_is_forbidden_and_changes_nothing(viewer_client, ada, method):
    response = getattr(viewer_client, method)(_remove_url(ada), {"next": "/accounts/"})

    assert response.status_code == 403
    assert _state(ada) == (True, False, "Site admin")
    assert _changes() == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_remove_of_a_member_who_is_not_a_contact_is_404(standard_client, tree, method):
    member = MembershipFactory(account=tree["paris"], is_contact=False)

    response = getattr(standard_client, method)(_remove_url(member))

    assert response.status_code == 404
    assert _changes() == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_remove_of_a_missing_membership_is_404(standard_client, db, method):
    assert getattr(standard_client, method)("/people/contacts/999999/remove/").status_code == 404


def test_remove_twice_is_404_the_second_time(standard_client, ada):
    standard_client.post(_remove_url(ada))

    assert standard_client.post(_remove_url(ada)).status_code == 404
    assert len(_changes()) == 1


def test_edit_and_remove_pages_show_names_with_html_as_text(standard_client, tree):
    membership = MembershipFactory(
        person=PersonFactory(first_name="<script>alert(1)</script>", last_name="Mallory"),
        account=tree["paris"],
    )

    for url in (_edit_url(membership), _remove_url(membership)):
        text = standard_client.get(url).content.decode()
        assert "<script>alert(1)" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Mallory" in text


def test_saved_message_shows_names_with_html_as_text(standard_client, tree):
    membership = MembershipFactory(
        person=PersonFactory(first_name="<script>alert(1)</script>", last_name="Mallory"),
        account=tree["paris"],
    )

    response = standard_client.post(
        _edit_url(membership), {"role": "", "is_key_contact": "on"}, follow=True
    )

    assert "<script>alert(1)" not in response.content.decode()
    assert messages(response) == ["Saved <script>alert(1)</script> Mallory at Paris."]
