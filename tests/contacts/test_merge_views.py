"""The merge pages: "Merge with…", the merge screen, the unmerge confirmation and the merges on
the person page; who may use them; each bad input; their query counts."""

import re

import pytest

from contacts import merge as merging
from contacts.models import EmailAlias, Membership, Person, PersonMerge
from tests.admin_pages import changelist_rows, search_first_cells
from tests.factories import MembershipFactory, PersonFactory, TaskFactory
from tests.html import attribute, element, elements, messages, page, parse, text


@pytest.fixture
def pair(tree, roles):
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="ada@x.example")
    dup = PersonFactory(
        first_name="Ada", last_name="King", email="ada.king@x.example", title="Countess"
    )
    MembershipFactory(person=ada, account=tree["paris"], role=roles[("Site", "Site admin")])
    theirs = MembershipFactory(person=dup, account=tree["paris"], is_key_contact=True)
    MembershipFactory(person=dup, account=tree["berlin"])
    TaskFactory(account=tree["corp"], title="Renewal").contacts.set([theirs])
    return ada, dup


def merge_url(survivor, other):
    return f"/people/{survivor.pk}/merge/{other.pk}/"


def choices(survivor, other, **changes):
    data = {name: "survivor" for name in merging.PERSON_FIELDS}
    return data | changes


@pytest.mark.parametrize(
    "url",
    [
        "/people/duplicates/",
        "/people/{a}/merge/",
        "/people/{a}/merge/{b}/",
        "/people/{a}/merge/suggestions/?q=ad",
    ],
)
def test_merge_pages_forbidden_to_standard_staff(standard_client, pair, url):
    ada, dup = pair
    response = standard_client.get(url.format(a=ada.pk, b=dup.pk))
    assert response.status_code == 403
    response = standard_client.post(merge_url(ada, dup), choices(ada, dup))
    assert response.status_code == 403
    assert Person.objects.count() == 2


def test_person_page_hides_merging_from_standard_staff(standard_client, pair):
    ada, _ = pair
    doc = page(standard_client.get(f"/people/{ada.pk}/"))
    assert elements(doc, "section", aria_labelledby="merges-heading") == []
    assert "Merge with" not in text(doc)


def test_person_page_offers_merging_to_advanced_staff(advanced_client, pair):
    ada, _ = pair
    doc = page(advanced_client.get(f"/people/{ada.pk}/"))
    section = element(doc, "section", aria_labelledby="merges-heading")
    link = element(section, "a", href=f"/people/{ada.pk}/merge/")
    assert text(link) == "Merge with…"


def test_unmerge_forbidden_to_standard_staff(standard_client, pair, staff_user):
    merge = merging.merge_people(survivor=pair[0], merged=pair[1], by=staff_user)
    response = standard_client.post(f"/people/merges/{merge.pk}/unmerge/", {"confirm": "1"})
    assert response.status_code == 403
    assert not Person.objects.filter(pk=pair[1].pk).exists()


def test_merge_with_suggests_other_people(advanced_client, pair):
    ada, dup = pair
    doc = page(advanced_client.get(f"/people/{ada.pk}/merge/suggestions/?q=ada"))
    options = elements(doc, "a", role="option")
    assert [attribute(a, "href") for a in options] == [merge_url(ada, dup)]
    assert "Ada King" in text(options[0])


def test_merge_screen_shows_both_with_the_defaults(advanced_client, pair):
    ada, dup = pair
    doc = page(advanced_client.get(merge_url(ada, dup)))
    checked = {
        attribute(radio, "name"): attribute(radio, "value")
        for radio in elements(doc, "input", type="radio")
        if "checked" in dict(radio.attributes)
    }
    # The survivor's values, her blank title filled from the other.
    assert checked == {
        "email": "survivor",
        "first_name": "survivor",
        "last_name": "survivor",
        "title": "other",
        "phone": "survivor",
    }
    swap = element(doc, "a", href=merge_url(dup, ada))
    assert text(swap) == "Swap: keep Ada King instead"
    role = element(doc, "select", name=f"role_{Membership.objects.get(person=ada).account_id}")
    assert [text(o) for o in elements(role, "option")] == ["No role", "End user", "Site admin"]
    assert "2 memberships (1 merged with Ada's at the same account)" in text(doc)
    assert "1 task and 0 touchpoints" in text(doc)


def test_merge_screen_merges_and_the_person_page_offers_unmerge(advanced_client, pair, tree):
    ada, dup = pair
    response = advanced_client.post(
        merge_url(ada, dup), choices(ada, dup, last_name="other"), follow=True
    )
    assert messages(response) == [
        "Merged Ada King <ada.king@x.example> into Ada King. If this was a mistake, unmerge below."
    ]
    assert not Person.objects.filter(pk=dup.pk).exists()
    assert Person.objects.get(pk=ada.pk).last_name == "King"
    assert list(EmailAlias.objects.values_list("email", flat=True)) == ["ada.king@x.example"]
    doc = page(response)
    section = element(doc, "section", aria_labelledby="merges-heading")
    assert "Merged from Ada King <ada.king@x.example> on" in text(section)
    merge = PersonMerge.objects.get()
    form = element(section, "form", action=f"/people/merges/{merge.pk}/unmerge/")
    assert text(element(form, "button")) == "Unmerge"


def test_unmerge_confirms_then_restores(advanced_client, pair, staff_user):
    ada, dup = pair
    merge = merging.merge_people(survivor=ada, merged=dup, by=staff_user)
    confirm = page(advanced_client.post(f"/people/merges/{merge.pk}/unmerge/"))
    assert "Their memberships go back to them: Berlin, Paris" in text(confirm)
    assert Person.objects.filter(pk=dup.pk).exists() is False
    response = advanced_client.post(
        f"/people/merges/{merge.pk}/unmerge/", {"confirm": "1"}, follow=True
    )
    assert messages(response) == [
        "Unmerged Ada King <ada.king@x.example> from Ada Lovelace: both people are back as they "
        "were before the merge."
    ]
    assert Person.objects.get(pk=dup.pk).memberships.count() == 2


def test_unmerge_says_what_blocks_it(advanced_client, pair, staff_user):
    ada, dup = pair
    merge = merging.merge_people(survivor=ada, merged=dup, by=staff_user)
    Person.objects.filter(pk=ada.pk).update(phone="+1 555")
    response = advanced_client.post(f"/people/merges/{merge.pk}/unmerge/", {"confirm": "1"})
    doc = parse(response)
    assert response.status_code == 409
    assert text(element(doc, "div", role="alert")) == (
        "This merge cannot be undone: Ada Lovelace <ada@x.example>'s phone changed since the merge."
    )
    assert not Person.objects.filter(pk=dup.pk).exists()


# Bad inputs: a clear message, nothing written.


def test_merge_screen_refuses_the_same_person(advanced_client, pair):
    ada, _ = pair
    response = advanced_client.get(merge_url(ada, ada), follow=True)
    assert messages(response) == [
        "Choose two different people: Ada Lovelace cannot be merged with themselves."
    ]
    assert PersonMerge.objects.count() == 0


def test_merge_screen_names_where_a_merged_person_went(advanced_client, pair, staff_user):
    ada, dup = pair
    merge = merging.merge_people(survivor=ada, merged=dup, by=staff_user)
    response = advanced_client.post(merge_url(ada, dup), choices(ada, dup), follow=True)
    assert messages(response) == [
        f"That person (#{dup.pk}) no longer exists: they were merged into Ada Lovelace "
        f"<ada@x.example> on {merge.merged_at:%Y-%m-%d}."
    ]
    assert PersonMerge.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "third@x.example", "Choose email of one of the two people."),
        ("first_name", "", "Choose whose first name to keep."),
    ],
)
def test_merge_screen_refuses_a_tampered_choice(advanced_client, pair, field, value, message):
    ada, dup = pair
    response = advanced_client.post(merge_url(ada, dup), choices(ada, dup, **{field: value}))
    doc = page(response, status=400)
    assert [text(p) for p in elements(doc, "p", class_="field-error")] == [message]
    assert Person.objects.count() == 2
    assert PersonMerge.objects.count() == 0


def test_merge_screen_refuses_a_role_of_another_type(advanced_client, pair, roles, tree):
    ada, dup = pair
    data = choices(ada, dup) | {f"role_{tree['paris'].pk}": roles[("Corporate", "Champion")].pk}
    doc = page(advanced_client.post(merge_url(ada, dup), data), status=400)
    assert "Choose a role of Site accounts for Paris." in text(doc)
    assert Person.objects.count() == 2


def test_merge_screen_refuses_an_email_an_alias_holds(advanced_client, pair):
    ada, dup = pair
    third = PersonFactory(first_name="Third", last_name="One", email="third@x.example")
    EmailAlias.objects.create(email="ADA.KING@x.example", person=third)
    doc = page(advanced_client.post(merge_url(ada, dup), choices(ada, dup, email="other")), 400)
    assert text(element(doc, "div", class_="form-error")) == (
        "ada.king@x.example belongs to Third One <third@x.example> (as an alias): choose the "
        "other address."
    )
    assert Person.objects.count() == 3


# Query counts


# Session and staff user (2), the permission check (1: own and group permissions), the
# Global-admin check of the navigation (1), the two people (1), the accounts both are at (2),
# what moves (3: memberships, tasks, touchpoints), the roles of each shared account (1 each).
@pytest.mark.parametrize("shared", (1, 3))
def test_merge_screen_query_count(advanced_client, tree, django_assert_num_queries, shared):
    ada, dup = PersonFactory(), PersonFactory()
    for key in ("paris", "berlin", "austin")[:shared]:
        MembershipFactory(person=ada, account=tree[key])
        MembershipFactory(person=dup, account=tree[key])
    with django_assert_num_queries(10 + shared):
        page(advanced_client.get(merge_url(ada, dup)))


# The admin: merges read-only, aliases listed and searched.


def test_admin_lists_merges_read_only(admin_site_client, pair, staff_user):
    merge = merging.merge_people(survivor=pair[0], merged=pair[1], by=staff_user)
    rows = changelist_rows(admin_site_client, "contacts/personmerge")
    assert [row[1:5] for row in rows] == [
        ["Ada King", "ada.king@x.example", str(pair[1].pk), "Ada Lovelace <ada@x.example>"]
    ]
    response = admin_site_client.get(f"/admin/contacts/personmerge/{merge.pk}/change/")
    assert response.status_code == 200
    # Both people, the merged person's two memberships and the survivor's at Paris, the task
    # link of theirs.
    summary = re.search(
        r"What the merge changed:</label>\s*<div class=\"readonly\">([^<]*)", response.text
    )
    assert summary[1] == "people: 2, memberships: 3, task links: 1"
    assert admin_site_client.get("/admin/contacts/personmerge/add/").status_code == 403


def test_admin_searches_aliases(admin_site_client, pair, staff_user):
    merging.merge_people(survivor=pair[0], merged=pair[1], by=staff_user)
    found = search_first_cells(admin_site_client, "/admin/contacts/emailalias/?q=king")
    assert found == ["ada.king@x.example"]
    assert search_first_cells(admin_site_client, "/admin/contacts/emailalias/?q=nobody") == []
