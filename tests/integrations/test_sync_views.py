"""Past 400 lines as one thing: every test of the integration jobs' pages (integrations/
sync_views.py and sync_forms.py), and of what the Integrations page says of them.

Who may see them, the list and its query count, the form (every rule, secrets write-only and
never in a response), a job's page (its runs, polled while one is under way), Run now from a
folder end to end, Test connection, delete."""

import os
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from config import staff
from contacts.models import Membership, Segment
from integrations import schedules, secrets
from integrations.models import ImportJob, IntegrationJob, MappingTemplate, SyncRun
from tests.factories import StaffUserFactory
from tests.html import attribute, element, elements, messages, page, parse, text
from tests.integrations.conftest import users_csv

pytestmark = pytest.mark.django_db

SECRET = "pw-Zq81-never-shown"


@pytest.fixture
def root(tmp_path, settings):
    """The one folder integration jobs may use, with a drop/ folder in it."""
    settings.SYNC_FOLDER_ROOTS = [tmp_path]
    (tmp_path / "drop").mkdir()
    return tmp_path


def folder_job(root, **fields):
    return IntegrationJob.objects.create(
        **{
            "name": "Nightly CRM drop",
            "direction": IntegrationJob.Direction.INBOUND,
            "place": IntegrationJob.Place.FOLDER,
            "location": f"{root}/drop/users-*.csv",
            **fields,
        }
    )


def form_data(root, **overrides):
    """What the form sends for an inbound folder job, run by hand, with `overrides`."""
    data = {
        "name": "Nightly CRM drop",
        "direction": "in",
        "place": "folder",
        "location": f"{root}/drop/users-*.csv",
        "file_kind": "users",
        "mapping_template": "",
        "export": "all",
        "segment": "",
        "schedule_preset": "",
        "schedule": "",
        "enabled": "on",
        "endpoint_url": "",
        "region": "",
        "host_key": "",
        "query": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def words(node):
    """The text of a node as a person reads it: no space before punctuation."""
    return re.sub(r" ([:,.;)])", r"\1", text(node))


def field_errors(response):
    """{field name: [its messages]} as the form draws them."""
    return {
        attribute(block, "id").removeprefix("id_").removesuffix("_error"): [
            text(p) for p in elements(block, "p")
        ]
        for block in elements(parse(response), "div", class_="field-errors")
    }


def sftp_job(**fields):
    return IntegrationJob.objects.create(
        **{
            "name": "Partner SFTP",
            "direction": IntegrationJob.Direction.INBOUND,
            "place": IntegrationJob.Place.SFTP,
            "location": "sftp://ada@127.0.0.1:2222/drop/users-*.csv",
            "options": {"host_key": HOST_KEY},
            **fields,
        }
    )


HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


def with_secrets(job, values):
    job.set_secrets(values)
    job.save()
    return job


# Who may


URLS = [
    ("get", "/integrations/syncs/"),
    ("get", "/integrations/syncs/new/"),
    ("post", "/integrations/syncs/new/"),
    ("get", "/integrations/syncs/schedule/"),
    ("post", "/integrations/syncs/host-key/"),
    ("get", "/integrations/syncs/{job}/"),
    ("get", "/integrations/syncs/{job}/edit/"),
    ("post", "/integrations/syncs/{job}/edit/"),
    ("post", "/integrations/syncs/{job}/run/"),
    ("post", "/integrations/syncs/{job}/check/"),
    ("get", "/integrations/syncs/{job}/delete/"),
    ("post", "/integrations/syncs/{job}/delete/"),
]


@pytest.mark.parametrize("fixture", ["viewer_client", "standard_client"])
@pytest.mark.parametrize(("method", "path"), URLS)
def test_integration_jobs_are_forbidden_below_advanced(request, root, fixture, method, path):
    client = request.getfixturevalue(fixture)
    job = folder_job(root)

    response = getattr(client, method)(path.format(job=job.pk), form_data(root, name="Renamed"))

    assert response.status_code == 403
    assert "Your staff account may not do this." in text(parse(response))
    assert list(IntegrationJob.objects.values_list("name", flat=True)) == ["Nightly CRM drop"]
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize(("method", "path"), URLS)
def test_anonymous_visitors_are_sent_to_sign_in(client, root, method, path):
    job = folder_job(root)
    path = path.format(job=job.pk)

    response = getattr(client, method)(path)

    assert (response.status_code, response.headers["Location"]) == (
        302,
        f"/sign-in/?next={path}",
    )


@pytest.mark.parametrize(
    ("fixture", "shown"), [("advanced_client", True), ("global_admin_client", True)]
)
def test_the_integrations_page_links_to_integration_jobs_for_those_who_manage_them(
    request, fixture, shown
):
    client = request.getfixturevalue(fixture)

    response = client.get("/integrations/")

    links = [attribute(a, "href") for a in elements(page(response), "a")]
    assert ("/integrations/syncs/" in links) is shown


def test_a_staff_user_who_may_import_but_not_manage_jobs_sees_no_link_to_them(client, root):
    user = StaffUserFactory(username="importer")
    user.user_permissions.add(Permission.objects.get(codename="run_integrations"))
    client.force_login(user)
    folder_job(root, failures_in_a_row=3)

    response = client.get("/integrations/")

    html = page(response)
    assert "/integrations/syncs/" not in response.text
    assert text(element(html, "section", class_="sync-alert")) == (
        "An integration job keeps failing Nightly CRM drop: its last 3 runs failed."
    )
    assert client.get("/integrations/syncs/").status_code == 403


# The list


def test_the_list_shows_each_job_its_last_run_and_next_run(advanced_client, root):
    inbound = folder_job(root, schedule="0 6 * * *", next_run_at=timezone.now())
    outbound = folder_job(
        root,
        name="Users back to the CRM",
        direction=IntegrationJob.Direction.OUTBOUND,
        location=f"{root}/out/users-{{date}}.csv",
        export=IntegrationJob.Export.CONTACTS,
        enabled=False,
    )
    import_job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="users-1.csv",
        status=ImportJob.Status.SUCCEEDED,
        new_rows=2,
        updated_rows=1,
        unchanged_rows=7,
        failed_rows=0,
    )
    SyncRun.objects.create(
        integration_job=inbound,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.SUCCEEDED,
        created_at=timezone.now() - timedelta(days=1),
        file_name=f"{root}/drop/users-0.csv",
    )
    SyncRun.objects.create(
        integration_job=inbound,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.SUCCEEDED,
        file_name=f"{root}/drop/users-1.csv",
        import_job=import_job,
    )
    SyncRun.objects.create(
        integration_job=outbound,
        trigger=SyncRun.Trigger.RUN_NOW,
        status=SyncRun.Status.SUCCEEDED,
        file_name=f"{root}/out/users-2026-03-01.csv",
        rows_written=12,
    )

    response = advanced_client.get("/integrations/syncs/")

    rows = [
        [words(cell) for cell in elements(row, "td")] for row in elements(page(response), "tr")[1:]
    ]
    assert rows == [
        [
            "Nightly CRM drop Inbound",
            f"Folder on the server {root}/drop/users-*.csv",
            "Users file",
            "Every day at 06:00, UTC",
            f"Finished {timezone.localtime(SyncRun.objects.get(import_job=import_job).created_at):%-d %b %Y, %H:%M} "
            "2 new 1 updated 7 unchanged 0 failed Import job of users-1.csv users-1.csv",
            f"{timezone.localtime(inbound.next_run_at):%a %-d %b, %H:%M}",
            "Run now: Nightly CRM drop",
        ],
        [
            "Users back to the CRM Outbound",
            f"Folder on the server {root}/out/users-{{date}}.csv",
            "Users file contacts only",
            "Only when run by hand Disabled",
            f"Finished {timezone.localtime(outbound.runs.get().created_at):%-d %b %Y, %H:%M} "
            "12 rows written users-2026-03-01.csv",
            "–",
            "Run now: Users back to the CRM",
        ],
    ]
    assert elements(page(response), "a", href=f"/integrations/jobs/{import_job.pk}/")


@pytest.mark.parametrize("job_count", [1, 3])
def test_list_query_count(advanced_client, root, django_assert_num_queries, job_count):
    for number in range(job_count):
        job = folder_job(root, name=f"Job {number}")
        for run_number in range(3):
            SyncRun.objects.create(
                integration_job=job,
                trigger=SyncRun.Trigger.SCHEDULE,
                status=SyncRun.Status.SUCCEEDED,
                import_job=ImportJob.objects.create(
                    kind=ImportJob.Kind.USERS,
                    file_name=f"users-{run_number}.csv",
                    status=ImportJob.Status.SUCCEEDED,
                ),
            )

    # Session, staff user, Global admin group, two permission lookups; the jobs with their
    # last run's id, then those runs with their import jobs.
    with django_assert_num_queries(7):
        response = advanced_client.get("/integrations/syncs/")

    assert len(re.findall(r'<span class="outcome outcome-succeeded">', response.text)) == (
        job_count
    )


def test_the_list_without_jobs_says_how_to_add_one(advanced_client):
    response = advanced_client.get("/integrations/syncs/")

    assert words(element(page(response), "p", class_="empty")) == (
        "No integration job yet. Add one: a folder, SFTP server, S3 bucket, HTTPS address or "
        "PostgreSQL query to read files from, or to write the users file to."
    )


# The form


def test_add_an_inbound_folder_job(advanced_client, root):
    before = timezone.now()

    response = advanced_client.post(
        "/integrations/syncs/new/",
        form_data(root, schedule_preset="0 6 * * *", skip_errors="on", move_processed="on"),
    )

    job = IntegrationJob.objects.get()
    assert (response.status_code, response.headers["Location"]) == (302, job.get_absolute_url())
    assert (
        job.name,
        job.direction,
        job.place,
        job.location,
        job.file_kind,
        job.schedule,
        job.skip_errors,
        job.re_add_removed,
        job.move_processed,
        job.enabled,
        job.options,
        job.encrypted_secrets,
        job.created_by,
    ) == (
        "Nightly CRM drop",
        "in",
        "folder",
        f"{root}/drop/users-*.csv",
        "users",
        "0 6 * * *",
        True,
        False,
        True,
        True,
        {},
        "",
        advanced_client.staff_user,
    )
    assert job.next_run_at == schedules.next_time("0 6 * * *", after=before)
    assert messages(advanced_client.get(job.get_absolute_url())) == [
        "The integration job “Nightly CRM drop” was added."
    ]


def test_the_new_form_starts_inbound_from_a_folder_run_by_hand(advanced_client, root):
    html = page(advanced_client.get("/integrations/syncs/new/"))

    assert attribute(element(html, "input", id="id_direction_0"), "checked") is None
    assert attribute(element(html, "input", id="id_direction_0"), "value") == "in"
    assert text(element(element(html, "select", id="id_place"), "option", selected=None)) == (
        "Folder on the server"
    )
    assert text(element(html, "p", id="schedule-words")) == "Only when run by hand: no schedule."
    assert str(root) in text(element(html, "p", id="id_location_helptext"))
    # Staff users who may not set secrets get no secret fields.
    assert not elements(html, "input", type="password")


def test_an_outbound_job_writes_the_users_file_and_drops_what_is_for_imports(advanced_client, root):
    template = MappingTemplate.objects.create(name="HubSpot", file_kind="accounts", definition={})
    segment = Segment.objects.create(
        name="Key contacts", owner=advanced_client.staff_user, query="key=1"
    )

    response = advanced_client.post(
        "/integrations/syncs/new/",
        form_data(
            root,
            direction="out",
            location=f"{root}/out/users-{{date}}.csv",
            file_kind="accounts",
            mapping_template=template.pk,
            skip_errors="on",
            move_processed="on",
            export="segment",
            segment=segment.pk,
        ),
    )

    assert response.status_code == 302
    job = IntegrationJob.objects.get()
    assert (
        job.file_kind,
        job.mapping_template,
        job.skip_errors,
        job.move_processed,
        job.export,
        job.segment,
    ) == ("users", None, False, False, "segment", segment)


def test_an_inbound_job_keeps_no_segment(advanced_client, root):
    segment = Segment.objects.create(name="Mine", owner=advanced_client.staff_user)

    advanced_client.post(
        "/integrations/syncs/new/", form_data(root, export="segment", segment=segment.pk)
    )

    assert IntegrationJob.objects.values_list("export", "segment").get() == ("all", None)


BAD_FORMS = [
    ({"name": "  "}, {"name": ["This field is required."]}),
    ({"name": "  other JOB "}, {"name": ["An integration job of this name exists already."]}),
    (
        {"location": "/etc/users-*.csv"},
        {"location": ["{root_message}"]},
    ),
    (
        {"location": "{root}/drop/../../users-*.csv"},
        {"location": ["{root_message}"]},
    ),
    (
        {"location": "drop/users-*.csv"},
        {"location": ["{relative_message}"]},
    ),
    (
        {"place": "https", "direction": "out", "location": "https://crm.example.com/u.csv"},
        {
            "place": [
                "A https place can only be read from: choose another kind for an outbound job."
            ]
        },
    ),
    (
        {"schedule_preset": "custom", "schedule": ""},
        {"schedule": ["Write a cron expression, or choose how often above."]},
    ),
    (
        {"schedule_preset": "custom", "schedule": "0 6 * *"},
        {
            "schedule": [
                "A schedule has five fields, minute hour day-of-month month day-of-week (for "
                "example “0 6 * * *”, every day at 06:00); “0 6 * *” has 4."
            ]
        },
    ),
    ({"schedule_preset": "0 7 * * *"}, {"schedule_preset": ["{preset_message}"]}),
    (
        {"direction": "out", "location": "{root}/out", "export": "segment", "segment": ""},
        {"segment": ["Choose the segment to export."]},
    ),
    (
        {"place": "sftp", "location": "sftp://ada@127.0.0.1:2222/drop/users-*.csv"},
        {
            "host_key": [
                "An SFTP job connects only to a server whose key it knows: paste the server's "
                "host key (a line of known_hosts, or ssh-keyscan's output)."
            ]
        },
    ),
    (
        {
            "place": "sftp",
            "location": "sftp://ada@127.0.0.1:2222/drop/users-*.csv",
            "host_key": "ssh-ed25519 not-a-key",
        },
        {"host_key": ["{host_key_message}"]},
    ),
    (
        {"place": "postgres", "location": "postgres://reader@127.0.0.1:5432/crm"},
        {"query": ["Write the SELECT whose rows are the file."]},
    ),
    (
        {
            "place": "postgres",
            "location": "postgres://reader@127.0.0.1:5432/crm",
            "query": "DELETE FROM people",
        },
        {"query": ["The query starts with SELECT or WITH."]},
    ),
    (
        {"place": "sftp", "location": "sftp://ada:hunter2@127.0.0.1/drop/*.csv"},
        {
            "location": [
                "Put the password in the Password field, not in the address: an address is "
                "shown on pages and in the history."
            ],
            "host_key": [
                "An SFTP job connects only to a server whose key it knows: paste the server's "
                "host key (a line of known_hosts, or ssh-keyscan's output)."
            ],
        },
    ),
    ({"direction": "sideways"}, {"direction": ["{direction_message}"]}),
]


@pytest.mark.parametrize(("fields", "expected"), BAD_FORMS)
def test_the_form_refuses_what_cannot_work_and_saves_nothing(
    advanced_client, root, fields, expected
):
    folder_job(root, name="Other job", location=f"{root}/other/*.csv")
    roots = str(root)
    fields = {key: value.format(root=root) for key, value in fields.items()}
    replacements = {
        "{root_message}": (
            "{folder} is not inside the folders the server allows (SYNC_FOLDER_ROOTS: "
            f"{roots}), or leads outside them through “..” or a link."
        ),
        "{relative_message}": f"Give an absolute path under one of the allowed folders: {roots}.",
        "{preset_message}": (
            "Select a valid choice. 0 7 * * * is not one of the available choices."
        ),
        "{host_key_message}": (
            "The host key is not an OpenSSH public key line such as “ssh-ed25519 AAAA…”: copy "
            "it from the server's known_hosts entry or its ssh_host_*_key.pub file."
        ),
        "{direction_message}": (
            "Select a valid choice. sideways is not one of the available choices."
        ),
    }
    before = list(IntegrationJob.objects.values())

    response = advanced_client.post("/integrations/syncs/new/", form_data(root, **fields))

    assert response.status_code == 400
    folder = os.path.normpath(fields.get("location", "").rpartition("/")[0])
    assert field_errors(response) == {
        field: [
            replacements.get(message, message).replace("{folder}", folder) for message in errors
        ]
        for field, errors in expected.items()
    }
    assert text(element(parse(response), "div", class_="form-error")) == (
        "The job was not saved: see the fields marked below."
    )
    assert list(IntegrationJob.objects.values()) == before
    assert "hunter2" not in response.text


def test_a_mapping_template_must_read_the_jobs_file(advanced_client, root):
    template = MappingTemplate.objects.create(name="HubSpot", file_kind="users", definition={})

    response = advanced_client.post(
        "/integrations/syncs/new/",
        form_data(root, file_kind="accounts", mapping_template=template.pk),
    )

    assert field_errors(response) == {
        "mapping_template": [
            "The mapping template “HubSpot” reads a users file, and this job takes a accounts "
            "file: choose one made for a accounts file."
        ]
    }
    assert not IntegrationJob.objects.exists()


def test_another_staff_users_unshared_segment_cannot_be_chosen(advanced_client, root):
    theirs = Segment.objects.create(name="Theirs", owner=StaffUserFactory(username="someone"))

    response = advanced_client.post(
        "/integrations/syncs/new/",
        form_data(
            root, direction="out", location=f"{root}/out", export="segment", segment=theirs.pk
        ),
    )

    assert field_errors(response) == {
        "segment": ["Select a valid choice. That choice is not one of the available choices."]
    }


def test_edit_keeps_the_jobs_segment_even_when_it_is_not_the_editors(advanced_client, root):
    theirs = Segment.objects.create(name="Theirs", owner=StaffUserFactory(username="someone"))
    job = folder_job(
        root, direction="out", location=f"{root}/out", export="segment", segment=theirs
    )

    response = advanced_client.post(
        f"/integrations/syncs/{job.pk}/edit/",
        form_data(
            root,
            name="Renamed",
            direction="out",
            location=f"{root}/out",
            export="segment",
            segment=theirs.pk,
        ),
    )

    assert response.status_code == 302
    assert IntegrationJob.objects.values_list("name", "segment").get() == ("Renamed", theirs.pk)


@pytest.mark.parametrize(
    ("schedule", "preset"),
    [("0 6 * * *", "0 6 * * *"), ("30 5 * * 1-5", "custom"), ("", "")],
)
def test_the_edit_form_chooses_the_preset_of_the_jobs_schedule(
    advanced_client, root, schedule, preset
):
    job = folder_job(root, schedule=schedule)

    html = page(advanced_client.get(f"/integrations/syncs/{job.pk}/edit/"))

    selected = element(element(html, "select", id="id_schedule_preset"), "option", selected=None)
    assert attribute(selected, "value") == preset
    assert (attribute(element(html, "input", id="id_schedule"), "value") or "") == schedule


def test_a_custom_schedule_is_saved_in_its_normal_form_and_plans_the_next_run(
    advanced_client, root
):
    job = folder_job(root)
    before = timezone.now()

    advanced_client.post(
        f"/integrations/syncs/{job.pk}/edit/",
        form_data(root, schedule_preset="custom", schedule="  30  5 * *   1-5 "),
    )

    job.refresh_from_db()
    assert job.schedule == "30 5 * * 1-5"
    assert job.next_run_at == schedules.next_time("30 5 * * 1-5", after=before)


def test_disabling_a_job_clears_its_next_run(advanced_client, root):
    job = folder_job(root, schedule="0 6 * * *", next_run_at=timezone.now())

    advanced_client.post(
        f"/integrations/syncs/{job.pk}/edit/",
        form_data(root, schedule_preset="0 6 * * *", enabled=None),
    )

    job.refresh_from_db()
    assert (job.enabled, job.next_run_at) == (False, None)


# The schedule's words, live under the form


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("schedule_preset=0+6+*+*+1", "At 06:00, only on Monday, UTC Next run: {next}."),
        (
            "schedule_preset=custom&schedule=30+5+*+*+1-5",
            "At 05:30, Monday through Friday, UTC Next run: {next}.",
        ),
        ("schedule_preset=", "Only when run by hand: no schedule."),
        (
            "schedule_preset=custom&schedule=61+*+*+*+*",
            "“61 * * * *” is not a schedule: bad minute.",
        ),
        ("schedule_preset=custom&schedule=", "Write a cron expression, or choose how often above."),
    ],
)
def test_the_schedule_in_words(advanced_client, htmx, query, expected):
    headers = {"HX-Request": "true"} if htmx else {}
    expression = {"0+6+*+*+1": "0 6 * * 1", "custom&schedule=30+5+*+*+1-5": "30 5 * * 1-5"}.get(
        query.removeprefix("schedule_preset="), ""
    )
    next_time = (
        schedules.next_time(expression, after=timezone.now()).strftime("%a %-d %b %Y, %H:%M")
        if expression
        else ""
    )

    response = advanced_client.get(f"/integrations/syncs/schedule/?{query}", headers=headers)

    assert words(page(response)) == expected.format(next=next_time)
