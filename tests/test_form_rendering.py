"""Form fields drawn through the project's FORM_RENDERER (templates/forms/field.html): each field
has its label, help text and errors, and the input names the error list by aria-describedby and
says aria-invalid="true" while it has errors."""

import pytest

from tests.factories import MembershipFactory, PersonFactory
from tests.html import attribute, element, elements, page, text


def _fields(form):
    """{label or legend text: (the input's aria-invalid, aria-describedby, [the texts of the
    elements it names])} of each field of a form, in page order."""
    fields = {}
    for field in elements(form, "div", class_="field", itself=False):
        legends = elements(field, "legend")
        if legends:
            name, described = text(legends[0]), element(field, "fieldset")
            control = elements(field, "input")[0] if elements(field, "input") else described
        else:
            label = element(field, "label")
            name = text(label)
            (control,) = [
                node
                for tag in ("input", "select", "textarea")
                for node in elements(field, tag)
                if attribute(node, "id") == attribute(label, "for")
            ]
            described = control
        ids = (attribute(described, "aria-describedby") or "").split()
        fields[name] = (
            attribute(control, "aria-invalid"),
            attribute(described, "aria-describedby"),
            [_text_of(form, id_) for id_ in ids],
        )
    return fields


def _text_of(node, id_):
    """The text of the one element under `node` with this id."""
    found = [
        child
        for tag in ("div", "p", "span")
        for child in elements(node, tag)
        if attribute(child, "id") == id_
    ]
    assert len(found) == 1, (id_, found)
    return text(found[0])


@pytest.mark.django_db
def test_person_edit_links_each_error_to_its_input(standard_client):
    person = PersonFactory(email="ada@x.example", first_name="Ada", last_name="Lovelace")

    response = standard_client.post(
        f"/people/{person.pk}/edit/", {"email": "not an email", "first_name": "", "last_name": "L"}
    )

    form = element(page(response), "form", class_="form-grid")
    assert _fields(form) == {
        "Email * (required)": ("true", "id_email_error", ["Enter a valid email address."]),
        "First Name * (required)": ("true", "id_first_name_error", ["This field is required."]),
        "Last Name * (required)": (None, None, []),
        "Title": (None, None, []),
        "Phone": (None, None, []),
    }


@pytest.mark.django_db
def test_person_edit_without_errors_has_no_aria_invalid(standard_client):
    person = PersonFactory(email="ada@x.example", first_name="Ada", last_name="Lovelace")

    form = element(
        page(standard_client.get(f"/people/{person.pk}/edit/")), "form", class_="form-grid"
    )

    assert _fields(form) == {
        "Email * (required)": (None, None, []),
        "First Name * (required)": (None, None, []),
        "Last Name * (required)": (None, None, []),
        "Title": (None, None, []),
        "Phone": (None, None, []),
    }
    assert elements(form, "div", class_="field-errors") == []


def test_add_contact_new_person_links_each_error_to_its_input(standard_client, tree):
    response = standard_client.post(
        f"/accounts/{tree['paris'].pk}/add-contact/",
        {"new": "1", "email": "", "first_name": "Ada", "last_name": "", "role": "abc"},
    )

    form = element(page(response, 400), "form", class_="form-grid")
    assert _fields(form) == {
        "Email * (required)": ("true", "contact_email_error", ["This field is required."]),
        "First Name * (required)": (None, None, []),
        "Last Name * (required)": ("true", "contact_last_name_error", ["This field is required."]),
        "Title": (None, None, []),
        "Phone": (None, None, []),
        "Account role": (
            "true",
            "contact_role_error",
            ["Choose one of the roles of Site accounts."],
        ),
        "Key contact": (None, None, []),
    }


def test_task_form_links_the_picker_help_and_errors_to_its_fieldset(standard_client, tree):
    contact = MembershipFactory(account=tree["paris"])

    response = standard_client.post(
        f"/accounts/{tree['paris'].pk}/tasks/new/", {"title": "", "contacts": ["abc"]}
    )

    form = element(page(response), "form", class_="form-grid")
    fields = _fields(form)
    assert fields["Title * (required)"] == (
        "true",
        "id_title_error",
        ["This field is required."],
    )
    # The contact picker (issue 15): its label names the search field, which carries the
    # help and the errors.
    assert fields["Contacts"] == (
        "true",
        "id_contacts_helptext id_contacts_error",
        ["any contact in this company", "“abc” is not a valid value."],
    )
    assert attribute(element(form, "input", name="contacts_search"), "aria-invalid") == "true"
    assert elements(form, "input", value=str(contact.pk)) == []


def test_task_form_picker_without_errors_names_its_help_only(standard_client, tree):
    MembershipFactory(account=tree["paris"])

    form = element(
        page(standard_client.get(f"/accounts/{tree['paris'].pk}/tasks/new/")),
        "form",
        class_="form-grid",
    )

    assert _fields(form)["Contacts"] == (
        None,
        "id_contacts_helptext",
        ["any contact in this company"],
    )


def test_sign_in_fields_are_not_marked_required_where_every_field_is(client, db):
    form = element(page(client.get("/sign-in/")), "form", class_="form-stack")

    assert _fields(form) == {"Username": (None, None, []), "Password": (None, None, [])}
