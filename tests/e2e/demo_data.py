"""Demo-like data for the page sweeps (test_accessibility, test_phone_width, test_keyboard): one
of each thing a page can show, built by factories and the app's own service functions, so
every page is visited with something on it.

Builds on tests/conftest.py's `admin_data` (the company tree, contacts, a task, a touchpoint,
a contact change, a finished import job) and adds a segment, an import job in its preview, one
waiting for its columns to be mapped, an imported one that can be undone, a mapping template,
an integration job, a merge of two people and enough contacts at Paris for a second page.
"""

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from contacts import merge as merging
from contacts.models import Segment
from integrations import services
from integrations.models import ImportJob, IntegrationJob, MappingTemplate
from tests.factories import MembershipFactory, PersonFactory

USERS_FILE = (
    "Account ID,Email,First Name,Last Name,Title,Account Role,Contact,Key Contact\n"
    "BERLIN,grace.hopper@navy.example,Grace,Hopper,Rear admiral,Site admin,yes,yes\n"
    "PARIS,alan.turing@example.com,Alan,Turing,,,no,\n"
)
# One new person, one changed and one row that fails: the preview shows all three kinds.
PREVIEW_FILE = (
    "Account ID,Email,First Name,Last Name,Title,Account Role,Contact,Key Contact\n"
    "PARIS,edsger@example.com,Edsger,Dijkstra,Professor,End user,yes,\n"
    "BERLIN,grace.hopper@navy.example,Grace,Hopper,Admiral,Site admin,yes,yes\n"
    "NOPE,barbara@example.com,Barbara,Liskov,,,yes,\n"
)
# Columns of another system: the job waits on its mapping page.
FOREIGN_FILE = (
    "Record ID,First Name,Last Name,Email,Job Title,Company ID,VIP\n"
    "101,Ada,Lovelace,ada@example.com,Analyst,PARIS,TRUE\n"
)


def upload(name, text):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def build_demo(admin_data, *, user, sync_root):
    """Everything of the module docstring, for `user` (a Global admin); returns admin_data
    with the new objects added under their names."""
    data = dict(admin_data)
    paris = data["paris"]
    roles = data["roles"]
    for number in range(26):
        MembershipFactory(
            account=paris,
            role=roles["Site", "End user"],
            person=PersonFactory(
                first_name=f"Extra{number:02}",
                last_name="Contact",
                email=f"extra{number}@x.example",
            ),
        )
    data["segment"] = Segment.objects.create(
        name="Paris key contacts", owner=user, shared=True, query="key=yes&q=paris"
    )

    imported = services.start_import_job(
        kind=ImportJob.Kind.USERS, upload=upload("crm.csv", USERS_FILE), by=user
    )
    services.confirm_import_job(job=imported, skip_errors=True, keep_removed=True, by=user)
    imported.refresh_from_db()
    data["imported_job"] = imported
    data["preview_job"] = services.start_import_job(
        kind=ImportJob.Kind.USERS, upload=upload("people.csv", PREVIEW_FILE), by=user
    )
    data["mapping_job"] = services.start_import_job(
        kind=ImportJob.Kind.USERS, upload=upload("hubspot.csv", FOREIGN_FILE), by=user
    )
    data["mapping_template"] = MappingTemplate.objects.create(
        name="CRM export",
        file_kind=MappingTemplate.FileKind.USERS,
        definition={
            "columns": {
                "Account ID": "Org",
                "Email": "Mail",
                "First Name": "Given",
                "Last Name": "Family",
            },
            "constants": {"Contact": "yes"},
        },
        headers=["Org", "Mail", "Given", "Family"],
        updated_by=user,
    )
    (sync_root / "drop").mkdir(exist_ok=True)
    data["integration_job"] = IntegrationJob.objects.create(
        name="Nightly CRM drop",
        direction=IntegrationJob.Direction.INBOUND,
        place=IntegrationJob.Place.FOLDER,
        location=f"{sync_root}/drop/users-*.csv",
        created_by=user,
    )

    # Two look-alikes for the duplicates page and the merge screen, and a merge done.
    data["twin"] = PersonFactory(
        first_name="Ada", last_name="King", email="ada.king@customer.example"
    )
    MembershipFactory(person=data["twin"], account=data["berlin"])
    merged = PersonFactory(first_name="Alan", last_name="Turing", email="a.turing@customer.example")
    MembershipFactory(person=merged, account=data["berlin"])
    data["merge"] = merging.merge_people(survivor=data["alan"], merged=merged, by=user)
    return data


def sign_in_quickly(page, user, base_url):
    """A signed-in session for `user` in the page's browser context, without the sign-in form
    (test_sign_in and test_smoke go through the form; these sweeps visit many pages)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}]
    )
