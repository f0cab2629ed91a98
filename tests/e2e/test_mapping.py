"""Browser test of a foreign file's way in: the mapping page, with the keyboard alone, then the
preview, and the next file of the same shape straight to its preview."""

import os

import pytest
from playwright.sync_api import expect

from config import staff
from contacts.models import Membership
from integrations.models import ImportJob, MappingTemplate

HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Phone Number,Phone Number,Job Title,Company ID,VIP\r\n"
    "101,Ada,Lovelace,ada@example.com,+33 1 55 55 01 01,,Analyst,PARIS,TRUE\r\n"
    "102,Bob,Byte,bob@example.com,,+33 1 55 55 01 02,Engineer,PARIS,FALSE\r\n"
    "103,Cy,Cyan,cy@example.com,,,null,BERLIN,TRUE\r\n"
)
SHOTS = os.environ.get("E2E_SCREENSHOTS")  # a folder to keep screenshots in, to look at


@pytest.fixture
def staff_group():
    return staff.ADVANCED


def shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def upload(page, path):
    page.goto("/integrations/")
    page.get_by_label("Users file").check()
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Check the file").press("Enter")


def test_map_a_foreign_file_with_the_keyboard_save_it_and_the_next_file_skips_the_mapping(
    signed_in_page, tree, tmp_path
):
    page = signed_in_page
    path = tmp_path / "hubspot-contacts.csv"
    path.write_bytes(HUBSPOT.encode())
    upload(page, path)

    expect(page.get_by_role("heading", name="Map the columns of this file")).to_be_visible()
    page.get_by_role("link", name="Map the columns").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Map the columns of hubspot-contacts.csv"
    )
    # Auto-detection proposed the columns it knows; Company ID and VIP are left to the person.
    expect(page.get_by_label("Email", exact=True)).to_have_value("Email")
    expect(page.get_by_label("Title", exact=True)).to_have_value("Job Title")
    expect(page.get_by_label("Phone", exact=True)).to_have_value("Phone Number")
    shot(page, "mapping-proposed")

    account = page.get_by_label("Account ID", exact=True)
    account.focus()
    page.keyboard.type("Company ID")
    expect(account).to_have_value("Company ID")
    key_contact = page.get_by_label("Key Contact", exact=True)
    key_contact.focus()
    page.keyboard.type("VIP")
    # The value map of the chosen column appears at once (htmx), focus kept where it was.
    values = page.get_by_role("region", name="Values of Key Contact")
    expect(values).to_be_visible()
    expect(page.get_by_label("Key Contact", exact=True)).to_be_focused()
    expect(values.get_by_label("TRUE")).to_have_value("yes")  # guessed
    expect(values.get_by_label("FALSE")).to_have_value("no")
    contact = page.get_by_label("Contact", exact=True)
    contact.focus()
    page.keyboard.type("The same")
    constant = page.get_by_label("Contact for every row", exact=True)
    constant.focus()
    page.keyboard.type("yes")
    page.keyboard.press("Tab")
    # What the whole file holds for each column is counted again, the typing left alone.
    contact_row = page.get_by_role("row").filter(has=page.get_by_label("Contact", exact=True))
    expect(contact_row).to_contain_text("3 of 3 rows")
    expect(constant).to_have_value("yes")
    sample = page.get_by_role("region", name="The first rows, mapped")
    expect(sample).to_contain_text("ada@example.com")
    expect(sample).to_contain_text("PARIS")
    shot(page, "mapping-filled")

    name = page.get_by_label("Save this mapping as a template named")
    name.focus()
    page.keyboard.type("HubSpot contacts")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.get_by_text("Read through the mapping template HubSpot contacts")).to_be_visible()
    shot(page, "mapping-preview")
    page.get_by_role("button", name="Import 3 changed rows").press("Enter")
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    assert Membership.objects.get(person__email="ada@example.com").is_key_contact
    assert not Membership.objects.get(person__email="bob@example.com").is_key_contact
    assert MappingTemplate.objects.get().name == "HubSpot contacts"

    # The next export of the same system goes straight to its preview.
    path.write_bytes(HUBSPOT.replace("Analyst", "Lead analyst").encode())
    upload(page, path)
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.get_by_text("Read through the mapping template HubSpot contacts")).to_be_visible()
    assert ImportJob.objects.filter(mapping_template__name="HubSpot contacts").count() == 2

    page.goto("/integrations/mappings/")
    shot(page, "mapping-templates")
    page.get_by_role("link", name="HubSpot contacts", exact=True).press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("HubSpot contacts")
    shot(page, "mapping-template")
