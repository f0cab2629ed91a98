"""Forgetting a person reaches integrations' history (integrations/privacy.py, through
contacts.privacy.forget_person): import job summaries, messages and error files; and nothing
else is touched."""

import io
import json

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from contacts.models import DownloadRecord, ForgottenPerson, Person, Segment, Task
from contacts.privacy import forget_person, record_download
from integrations import privacy, services
from integrations.files import read_table
from integrations.mapping import Mapping
from integrations.models import ImportJob
from integrations.privacy import SET_ASIDE
from integrations.tasks import rewrite_set_aside_error_files
from tests import stored
from tests.factories import MembershipFactory, PersonFactory, StaffUserFactory, TaskFactory
from tests.integrations.conftest import users_csv

pytestmark = pytest.mark.django_db

ADA = "ada@customer.example"


def _upload(client, content, name="people.csv"):
    file = io.BytesIO(content.encode())
    file.name = name
    client.post("/integrations/", {"kind": "users", "file": file})
    return ImportJob.objects.latest("pk")


def _error_rows(job):
    with job.error_file.open("rb") as file:
        table = read_table(file)
        return [table.headers, *(values for _, values in table.rows)]


@pytest.fixture
def history(advanced_client, tree, roles):
    """Ada and Grace, changed by an import whose error file has a row of each and one of Bob;
    a second import previewed only; segments, downloads, an admin log entry, a task."""
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email="Ada@Customer.example")
    grace = PersonFactory(first_name="Grace", last_name="Hopper", email="grace@navy.example")
    MembershipFactory(person=ada, account=tree["paris"], is_contact=False)
    grace_corp = MembershipFactory(person=grace, account=tree["corp"])
    job = _upload(
        advanced_client,
        users_csv(
            f"PARIS,{ADA},Ada,Lovelace,Chief,,,yes,",
            f"NOPE,{ADA},Ada,Lovelace,,,,,",
            "NOPE,grace@navy.example,Grace,Hopper,,,,,",
            "NOPE,bob@example.com,Bob,Builder,,,,,",
            "CORP,grace@navy.example,Grace,Hopper,Admiral,,,yes,",
        ),
    )
    advanced_client.post(
        f"/integrations/jobs/{job.pk}/confirm/", {"keep_removed": "on", "skip_errors": "on"}
    )
    preview = _upload(
        advanced_client,
        users_csv(f"PARIS,{ADA},Ada,Byron,,,,,", "NOPE,x@example.com,X,Y,,,,,"),
        name="later.csv",
    )
    owner = StaffUserFactory(username="owner")
    Segment.objects.create(name="Ada Lovelace's", owner=owner, query="q=ada%40customer.example")
    Segment.objects.create(name="Navy", owner=owner, query="q=grace&cols=email")
    record_download(
        kind=DownloadRecord.Kind.PEOPLE_LIST,
        by=owner,
        filters="Search: “ada lovelace”; Columns: Email",
        file_format="csv",
        row_count=1,
    )
    record_download(
        kind=DownloadRecord.Kind.PEOPLE_LIST,
        by=owner,
        filters="Search: “grace”; Columns: Email",
        file_format="csv",
        row_count=1,
    )
    LogEntry.objects.log_actions(
        user_id=owner.pk, queryset=Person.objects.filter(pk=ada.pk), action_flag=CHANGE
    )
    task = TaskFactory(account=tree["corp"], title="Call Ada Lovelace")
    task.contacts.set([*ada.memberships.all(), grace_corp])
    return {"ada": ada, "grace": grace, "job": ImportJob.objects.get(pk=job.pk), "preview": preview}


def _everything():
    """The whole database, as dumpdata writes it, in lower case."""
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue().lower()


def test_forgetting_leaves_no_email_or_name_in_the_database(history, global_admin_client):
    ada = history["ada"]
    assert ADA in _everything()

    forget_person(person=ada, by=global_admin_client.staff_user)

    everything = _everything()
    # Only in the task's title, written by a staff user (left as written, on purpose).
    assert ADA not in everything
    assert everything.count("ada lovelace") == 1
    assert "call ada lovelace" in everything
    assert f"forgotten person #{ada.pk}" in everything


def test_forgetting_rewrites_import_summaries(history, global_admin_client):
    ada, job = history["ada"], history["job"]
    placeholder = f"Forgotten person #{ada.pk}"
    assert job.summary["changes"][0]["label"] == f"{ADA} at PARIS"

    forget_person(person=ada, by=global_admin_client.staff_user)

    job.refresh_from_db()
    assert [(row["label"], row["changes"]) for row in job.summary["changes"]] == [
        (
            f"{placeholder} at PARIS",
            [
                ["Title", placeholder, placeholder],
                ["Contact", "no", "yes"],
            ],
        ),
        ("grace@navy.example at CORP", [["Title", "", "Admiral"]]),
    ]
    text = json.dumps(ImportJob.objects.get(pk=history["preview"].pk).summary).lower()
    assert (ADA in text, "forgotten person" in text) == (False, True)


def test_forgetting_takes_the_persons_rows_out_of_error_files(
    history, global_admin_client, django_capture_on_commit_callbacks
):
    job = history["job"]
    old_name = job.error_file.name
    before = _error_rows(job)

    with django_capture_on_commit_callbacks(execute=True):
        record = forget_person(person=history["ada"], by=global_admin_client.staff_user)

    job.refresh_from_db()
    assert _error_rows(job) == [before[0], before[2], before[3]]
    assert [row[1] for row in _error_rows(job)[1:]] == ["grace@navy.example", "bob@example.com"]
    assert job.error_file.name != old_name
    assert not job.error_file.storage.exists(old_name)
    # The later preview's error file has no row of hers: it stays as it was.
    preview = ImportJob.objects.get(pk=history["preview"].pk)
    assert preview.error_file.name == history["preview"].error_file.name
    assert SET_ASIDE not in job.summary | preview.summary
    assert record.removed["error files set aside to rewrite"] == 2


def test_an_error_file_of_the_person_alone_is_deleted(
    advanced_client, tree, global_admin_client, django_capture_on_commit_callbacks
):
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email=ADA)
    job = _upload(advanced_client, users_csv(f"NOPE,{ADA},Ada,Lovelace,,,,,"))
    stored_name = job.error_file.name

    with django_capture_on_commit_callbacks(execute=True):
        record = forget_person(person=ada, by=global_admin_client.staff_user)

    job.refresh_from_db()
    assert (job.error_file.name, job.failed_rows) == ("", 1)
    assert not job.error_file.storage.exists(stored_name)
    assert record.removed["error files set aside to rewrite"] == 1


def test_forgetting_rewrites_segments_downloads_and_the_admin_log(history, global_admin_client):
    ada = history["ada"]
    placeholder = f"Forgotten person #{ada.pk}"

    forget_person(person=ada, by=global_admin_client.staff_user)

    assert list(Segment.objects.order_by("pk").values_list("name", "query")) == [
        (f"{placeholder}'s", "q=Forgotten+person+%23" + str(ada.pk)),
        ("Navy", "q=grace&cols=email"),
    ]
    assert list(DownloadRecord.objects.order_by("pk").values_list("filters", flat=True)) == [
        f"Search: “{placeholder}”; Columns: Email",
        "Search: “grace”; Columns: Email",
    ]
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(Person))
    assert (entry.object_id, entry.object_repr) == (str(ada.pk), placeholder)


def test_forgetting_touches_nobody_else(history, global_admin_client):
    grace = history["grace"]
    before = {
        "memberships": [m for m in stored.memberships() if m[0].lower() != ADA],
        "changes": [c for c in stored.changes() if c[0].lower() != ADA],
        "people": [p for p in stored.people() if p[0].lower() != ADA],
    }

    record = forget_person(person=history["ada"], by=global_admin_client.staff_user)

    assert {
        "memberships": stored.memberships(),
        "changes": stored.changes(),
        "people": stored.people(),
    } == before
    task = Task.objects.get()
    assert (task.title, [m.person for m in task.contacts.all()]) == ("Call Ada Lovelace", [grace])
    assert record.removed == {
        "memberships": 1,
        "contact changes": 1,
        "task links": 1,
        "touchpoint links": 0,
        "download records rewritten": 1,
        "segments rewritten": 1,
        "admin log entries rewritten": 1,
        "import job summaries rewritten": 2,
        "error files set aside to rewrite": 2,
        # What an import created or changed of them, kept for its undo (issue 14).
        "import records": 1,
    }
    assert ForgottenPerson.objects.count() == 1


def test_forgetting_rolls_back_as_a_whole(history, global_admin_client, monkeypatch):
    """A failure part way (here, the record of the forgetting) leaves everything as it was:
    the person, the summaries and the error file the job names."""
    job = history["job"]
    before = (stored.people(), job.summary, job.error_file.name, _error_rows(job))

    def fail(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ForgottenPerson.objects, "create", fail)
    with pytest.raises(RuntimeError):
        forget_person(person=history["ada"], by=global_admin_client.staff_user)

    job.refresh_from_db()
    assert (stored.people(), job.summary, job.error_file.name, _error_rows(job)) == before


def test_forgetting_leaves_the_other_rows_of_an_error_file_as_they_were(
    advanced_client, tree, global_admin_client, django_capture_on_commit_callbacks
):
    """A cell that begins with a formula character keeps one guarding apostrophe, not two."""
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email=ADA)
    job = _upload(
        advanced_client,
        users_csv(f"NOPE,{ADA},Ada,Lovelace,,,,,", "NOPE,bob@example.com,Bob,Byte,,+44 20 7946,,,"),
    )
    with job.error_file.open("rb") as file:
        before = file.read().decode().splitlines()

    with django_capture_on_commit_callbacks(execute=True):
        forget_person(person=ada, by=global_admin_client.staff_user)

    job.refresh_from_db()
    with job.error_file.open("rb") as file:
        after = file.read().decode().splitlines()
    assert after == [before[0], before[2]]
    assert "'+44 20 7946" in after[1]


# The error files' rewrite, in the background


@pytest.fixture
def queued_tasks(settings):
    """Tasks wait in the database queue, as in production, until the test runs them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _rewrite_tasks():
    return DBTaskResult.objects.filter(task_path=rewrite_set_aside_error_files.module_path)


def test_forgetting_opens_no_error_file_and_no_page_serves_one_until_it_is_rewritten(
    history,
    global_admin_client,
    advanced_client,
    queued_tasks,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    job, preview = history["job"], history["preview"]
    old_name = job.error_file.name

    def no_file_opened(*args, **kwargs):
        raise AssertionError("an error file was opened inside the forgetting")

    with monkeypatch.context() as patched:
        patched.setattr(privacy, "read_table", no_file_opened)
        record = forget_person(person=history["ada"], by=global_admin_client.staff_user)

    assert record.removed["error files set aside to rewrite"] == 2
    job.refresh_from_db()
    assert job.error_file.name == ""
    for waiting in (job, preview):
        # No page serves it meanwhile: the download says it is being rewritten.
        response = advanced_client.get(f"/integrations/jobs/{waiting.pk}/errors/")
        assert (response.status_code, response.headers["Location"]) == (
            302,
            waiting.get_absolute_url(),
        )
        page = advanced_client.get(f"/integrations/jobs/{waiting.pk}/").content.decode()
        assert "Download the error file" not in page
        assert "The error file is being rewritten" in page
    # The file is still there, for the rewrite; its record keeps nothing of her.
    assert job.error_file.storage.exists(old_name)
    (task,) = _rewrite_tasks()
    assert (task.status, task.args_kwargs) == ("READY", {"args": [], "kwargs": {}})
    assert ADA not in _everything()

    with django_capture_on_commit_callbacks(execute=True):
        outcome = privacy.rewrite_set_aside_error_files()

    assert outcome == {"rewritten": 1, "unchanged": 1, "deleted": 0, "left for later": 0}

    job.refresh_from_db()
    assert [row[1] for row in _error_rows(job)[1:]] == ["grace@navy.example", "bob@example.com"]
    assert not job.error_file.storage.exists(old_name)
    assert advanced_client.get(f"/integrations/jobs/{job.pk}/errors/").status_code == 200
    assert ImportJob.objects.get(pk=preview.pk).error_file.name == preview.error_file.name
    assert not ImportJob.objects.filter(summary__has_key=SET_ASIDE).exists()


def test_two_forgettings_before_the_rewrite_drop_the_rows_of_both(
    history, global_admin_client, queued_tasks
):
    job = history["job"]
    forget_person(person=history["ada"], by=global_admin_client.staff_user)
    forget_person(person=history["grace"], by=global_admin_client.staff_user)

    privacy.rewrite_set_aside_error_files()

    job.refresh_from_db()
    assert [row[1] for row in _error_rows(job)[1:]] == ["bob@example.com"]


def test_a_file_set_aside_again_during_its_rewrite_is_left_to_the_later_rewrite(
    history, global_admin_client, queued_tasks, monkeypatch
):
    """Another forgetting while the rewrite works on a file: the rewrite's file lacks that
    person's rows, so it is dropped, and the other forgetting's own rewrite does the job."""
    job = history["job"]
    forget_person(person=history["ada"], by=global_admin_client.staff_user)
    without_rows_of = privacy._without_rows_of

    def meanwhile_grace_is_forgotten(name, digests, email_column):
        outcome = without_rows_of(name, digests, email_column)
        if Person.objects.filter(pk=history["grace"].pk).exists():
            forget_person(person=history["grace"], by=global_admin_client.staff_user)
        return outcome

    monkeypatch.setattr(privacy, "_without_rows_of", meanwhile_grace_is_forgotten)
    first = privacy.rewrite_set_aside_error_files()
    job.refresh_from_db()
    # Both files of the history: each waits for Grace's rows to go too.
    assert (first["left for later"], job.error_file.name) == (2, "")

    privacy.rewrite_set_aside_error_files()

    job.refresh_from_db()
    assert [row[1] for row in _error_rows(job)[1:]] == ["bob@example.com"]
    assert _rewrite_tasks().count() == 2


def test_a_set_aside_file_that_cannot_be_read_is_deleted(
    history, global_admin_client, queued_tasks
):
    job = history["job"]
    old_name = job.error_file.name
    forget_person(person=history["ada"], by=global_admin_client.staff_user)
    job.error_file.storage.delete(old_name)

    outcome = privacy.rewrite_set_aside_error_files()

    job.refresh_from_db()
    assert (outcome["deleted"], job.error_file.name) == (1, "")
    assert SET_ASIDE not in job.summary


def test_forgetting_finds_the_email_of_a_mapped_files_error_file_under_its_own_header(
    advanced_client, tree, global_admin_client, settings, django_capture_on_commit_callbacks
):
    services.save_template(
        mapping=Mapping.from_dict(
            {
                "name": "CRM",
                "columns": {
                    "Email": "E-mail Address",
                    "Account ID": "Org",
                    "First Name": "Given",
                    "Last Name": "Family",
                },
            }
        ),
        by=None,
        headers=["Org", "E-mail Address", "Given", "Family"],
    )
    ada = PersonFactory(first_name="Ada", last_name="Lovelace", email=ADA)
    job = _upload(
        advanced_client,
        "Org,E-mail Address,Given,Family\n"
        f"NOPE,{ADA},Ada,Lovelace\n"
        "NOPE,bob@example.com,Bob,Builder\n",
        name="crm.csv",
    )
    assert (job.mapping_template.name, job.status, job.failed_rows, job.message) == (
        "CRM",
        "ready",
        2,
        "",
    )
    assert _error_rows(job)[0][:2] == ["Org", "E-mail Address"]

    # The rewrite waits in the queue until it is run here.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    forget_person(person=ada, by=global_admin_client.staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = privacy.rewrite_set_aside_error_files()

    assert outcome == {"rewritten": 1, "unchanged": 0, "deleted": 0, "left for later": 0}
    job.refresh_from_db()
    assert [row[1] for row in _error_rows(job)[1:]] == ["bob@example.com"]
