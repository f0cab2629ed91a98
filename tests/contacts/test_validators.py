"""The one email rule (contacts.validators): which addresses it accepts and refuses, that
is_valid_email says what validate_email says, and that every place a person's email is typed or
imported applies it — internationalised addresses included."""

import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test.html import parse_html

from contacts.forms import NewPersonContactForm, PersonForm
from contacts.models import Person
from contacts.validators import is_valid_email, normalize_email, validate_email
from tests import stored
from tests.admin_pages import error_list, form_data
from tests.factories import PersonFactory
from tests.html import attribute, element, page
from tests.integrations.conftest import import_users, people, totals, users_csv

VALID = [
    "ada@customer.example",
    "Ada.Lovelace+crm@Customer.Example",
    "ada@localhost",
    "ada@[192.0.2.1]",
    "ada@[2001:db8::1]",
    '"ada lovelace"@customer.example',
    '"ada@home"@customer.example',
    "a@b.co",
    f"{'a' * 64}@{'b' * 63}.example",
    f"{'a' * 312}@b.co",  # 317 characters: within the limit
    # Internationalised (RFC 6531, 6532): what the demo writes, and what people have.
    "ellen.müller.50@northwind.example",
    "müller@example.com",
    "ada@bücher.example",
    "müller@bücher.example",
    "ada@xn--bcher-kva.example",
    "josé.garcía@correo.example",
    "δοκιμή@παράδειγμα.δοκιμή",
    "用户@例子.广告",
    "медведев@почта.рф",
    "अजय@डाटा.भारत",
    "मिल\u200dन@example.com",  # a zero-width joiner, which some scripts need inside a word
    '"müller ellen"@example.com',
]

INVALID = [
    # Not an address at all.
    "",
    "ada",
    "@customer.example",
    "ada@",
    "ada@customer",  # no top-level domain
    # Two @, spaces, bad dots.
    "ada@@customer.example",
    "ada@home@customer.example",
    "ada lovelace@customer.example",
    " ada@customer.example",
    "ada@customer.example ",
    "ada..lovelace@customer.example",
    ".ada@customer.example",
    "ada.@customer.example",
    "ada@customer..example",
    "ada@.customer.example",
    "ada@-customer.example",
    f"ada@{'b' * 64}.example",  # a label over 63 characters
    f"{'a' * 316}@b.co",  # 321 characters: over the limit
    # Control characters, in the address or inside quotes (Django allows the latter).
    "ada\x00@customer.example",
    "ada\n@customer.example",
    "ada\tlovelace@customer.example",
    '"ada\x01"@customer.example',
    '"ada\\\x7f"@customer.example',
    "ada\x85@customer.example",  # a C1 control
    "ada@customer\x7f.example",
    # Spaces and invisible characters that are not ASCII.
    "ada\u00a0lovelace@customer.example",  # no-break space
    "ada\u3000lovelace@customer.example",  # ideographic space
    "ada\u2028@customer.example",  # line separator
    "ada\u200b@customer.example",  # zero-width space
    "\ufeffada@customer.example",  # byte-order mark
    "ada@bü\u200bcher.example",  # a zero-width space in an IDN domain (Django allows it)
    "ada@bücher\u3000.example",
    "mü\ue000ller@example.com",  # private use
    "müller@ex ample.com",
]


@pytest.mark.parametrize("address", VALID)
def test_validate_email_accepts_real_addresses(address):
    validate_email(address)


@pytest.mark.parametrize("address", INVALID)
def test_validate_email_refuses_what_is_not_an_address(address):
    with pytest.raises(ValidationError) as refused:
        validate_email(address)

    assert refused.value.messages == ["Enter a valid email address."]
    assert refused.value.code == "invalid"


# Domains are judged by Django's rule, as they were: it knows no RFC 5321 "IPv6:" tag.
DJANGO_DOMAIN_RULE = ["ada@[IPv6:2001:db8::1]"]


@pytest.mark.parametrize("address", VALID + INVALID + DJANGO_DOMAIN_RULE)
def test_is_valid_email_agrees_with_validate_email(address):
    try:
        validate_email(address)
    except ValidationError:
        expected = False
    else:
        expected = True

    assert is_valid_email(address) is expected


def test_is_valid_email_gives_both_verdicts_for_one_domain():
    # The domain's verdict is remembered; the part before the @ is still judged each time.
    assert [is_valid_email(a) for a in ("müller@bücher.example", "mü ller@bücher.example")] == [
        True,
        False,
    ]


def test_is_valid_email_refuses_what_is_not_text():
    assert [is_valid_email(v) for v in (None, "")] == [False, False]


def test_normalize_email_strips_and_composes_letters():
    decomposed = unicodedata.normalize("NFD", " müller@bücher.example\n")

    assert normalize_email(decomposed) == "müller@bücher.example"
    assert len(normalize_email(decomposed)) == len("müller@bücher.example")


# Applied everywhere: the model, the forms, the admin, Edit profile, the importer


def test_person_model_validates_with_the_one_rule(db):
    person = Person(email="müller@bücher.example", first_name="Ellen", last_name="Müller")
    person.full_clean()

    person.email = "müller @bücher.example"
    with pytest.raises(ValidationError) as refused:
        person.full_clean()
    assert refused.value.message_dict == {"email": ["Enter a valid email address."]}


@pytest.mark.parametrize("email", ["müller@example.com", "ada@bücher.example"])
def test_person_form_accepts_an_internationalised_address(db, email):
    form = PersonForm({"email": f" {email} ", "first_name": "Ellen", "last_name": "Müller"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == email


def test_person_form_stores_the_composed_form_of_an_address(db):
    form = PersonForm(
        {
            "email": unicodedata.normalize("NFD", "müller@bücher.example"),
            "first_name": "Ellen",
            "last_name": "Müller",
        }
    )
    form.save()

    assert list(Person.objects.values_list("email", flat=True)) == ["müller@bücher.example"]


def test_person_form_finds_the_same_address_typed_decomposed(db):
    PersonFactory(email="müller@example.com")
    form = PersonForm(
        {
            "email": unicodedata.normalize("NFD", "müller@example.com"),
            "first_name": "Ellen",
            "last_name": "Müller",
        }
    )

    assert form.errors == {"email": ["Another person already has this email."]}


@pytest.mark.parametrize("email", ["müller@", "mül ler@example.com", "ada\u200b@example.com"])
def test_person_form_refuses_a_bad_address_with_a_message(db, email):
    form = PersonForm({"email": email, "first_name": "Ellen", "last_name": "Müller"})

    assert form.errors == {"email": ["Enter a valid email address."]}


def _box(bound_field):
    """The type, inputmode and autocomplete of the input a form field renders."""
    box = element(parse_html(str(bound_field)), "input")
    return [attribute(box, name) for name in ("type", "inputmode", "autocomplete")]


def test_person_form_email_is_a_text_box_with_the_email_keyboard(db):
    # Not type=email: Chromium refuses to send one with a non-ASCII letter before the @.
    assert _box(PersonForm()["email"]) == ["text", "email", "email"]


@pytest.mark.parametrize("email", ["müller@example.com", "ada@bücher.example"])
def test_new_contact_form_accepts_an_internationalised_address(tree, email):
    form = NewPersonContactForm(
        {"email": email, "first_name": "Ellen", "last_name": "Müller"}, account=tree["corp"]
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == email
    assert _box(form["email"]) == ["text", "email", "email"]


def test_new_contact_form_refuses_a_bad_address(tree):
    form = NewPersonContactForm(
        {"email": "ada@@x.example", "first_name": "Ada", "last_name": "L"}, account=tree["corp"]
    )

    assert form.errors == {"email": ["Enter a valid email address."]}


@pytest.mark.parametrize("email", ["müller@example.com", "ada@bücher.example"])
def test_edit_profile_saves_an_internationalised_address(standard_client, email):
    ellen = PersonFactory(email="ellen@example.com", first_name="Ellen", last_name="Müller")

    response = standard_client.post(
        f"/people/{ellen.pk}/edit/",
        {"email": email, "first_name": "Ellen", "last_name": "Müller"},
    )

    assert (response.status_code, response["Location"]) == (302, f"/people/{ellen.pk}/")
    assert stored.people()[0][0] == email


def test_edit_profile_shows_the_email_in_a_text_box(standard_client):
    ellen = PersonFactory(email="müller@example.com")

    doc = page(standard_client.get(f"/people/{ellen.pk}/edit/"))

    box = element(doc, "input", name="email")
    assert [attribute(box, a) for a in ("type", "inputmode", "autocomplete", "value")] == [
        "text",
        "email",
        "email",
        "müller@example.com",
    ]


def _admin_add(client, email):
    data = form_data(client.get("/admin/contacts/person/add/"), "person_form")
    data.update({"email": email, "first_name": "Ellen", "last_name": "Müller"})
    return client.post("/admin/contacts/person/add/", data)


@pytest.mark.parametrize("email", ["müller@example.com", "ada@bücher.example"])
def test_admin_adds_a_person_with_an_internationalised_address(admin_site_client, email):
    response = _admin_add(admin_site_client, email)

    assert response.status_code == 302
    assert list(Person.objects.values_list("email", flat=True)) == [email]


def test_admin_refuses_a_bad_address_and_saves_nothing(admin_site_client):
    response = _admin_add(admin_site_client, "mül ler@example.com")

    assert response.status_code == 200
    assert error_list(response, "id_email") == ["Enter a valid email address."]
    assert not Person.objects.exists()


def test_admin_email_is_a_text_box_with_the_email_keyboard(admin_site_client):
    doc = page(admin_site_client.get("/admin/contacts/person/add/"))

    box = element(doc, "input", name="email")
    assert [attribute(box, a) for a in ("type", "inputmode", "autocomplete")] == [
        "text",
        "email",
        "email",
    ]


def test_importer_accepts_internationalised_addresses(tree):
    result = import_users(
        users_csv(
            "PARIS,ellen.müller.50@northwind.example,Ellen,Müller,,,,yes,no",
            "PARIS,ada@bücher.example,Ada,Lovelace,,,,yes,no",
        )
    )

    assert totals(result) == {"new": 2, "updated": 0, "unchanged": 0, "failed": 0}
    assert [row[0] for row in people()] == [
        "ada@bücher.example",
        "ellen.müller.50@northwind.example",
    ]


def test_importer_refuses_an_invisible_character_in_an_address(tree):
    result = import_users(users_csv("PARIS,ada\u200b@northwind.example,Ada,Lovelace,,,,yes,no"))

    assert totals(result)["failed"] == 1
    assert [problem[-1] for problem in result.problems()] == [
        "“ada\u200b@northwind.example” is not a valid email address."
    ]
    assert people() == []


@pytest.mark.django_db
def test_an_address_is_one_person_whatever_the_case_of_its_non_ascii_letters():
    # SQLite's own lower() knows ASCII only: the app gives it Python's (contacts.apps).
    Person.objects.create(email="élodie.müller@bücher.example", first_name="É", last_name="M")
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(email="ÉLODIE.MÜLLER@bücher.example", first_name="É", last_name="M")
    assert Person.objects.with_email("Élodie.Müller@BÜCHER.example").exists()
