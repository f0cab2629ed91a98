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

    last = timezone.localtime(SyncRun.objects.get(import_job=import_job).created_at)
    rows = [
        [words(cell) for cell in elements(row, "td")] for row in elements(page(response), "tr")[1:]
    ]
    assert rows == [
        [
            "Nightly CRM drop Inbound",
            f"Folder on the server {root}/drop/users-*.csv",
            "Users file",
            "Every day at 06:00, UTC",
            f"Finished {last:%-d %b %Y, %H:%M} "
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

    # Session, staff user, Global admin group, one permission lookup; the jobs with their
    # last run's id, then those runs with their import jobs.
    with django_assert_num_queries(6):
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
        name="Key contacts", owner=advanced_client.staff_user, query=""
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


def test_a_segment_whose_filters_no_longer_apply_is_refused(advanced_client, root):
    segment = Segment.objects.create(
        name="Paris people",
        owner=advanced_client.staff_user,
        query="account=999999",
        account_label="“Paris”",
    )

    response = advanced_client.post(
        "/integrations/syncs/new/",
        form_data(
            root, direction="out", location=f"{root}/out", export="segment", segment=segment.pk
        ),
    )

    assert field_errors(response) == {
        "segment": [
            "The segment “Paris people” no longer selects what it was saved for: the account "
            "“Paris” no longer exists. Open it on the People page, choose its filters again and "
            "save it."
        ]
    }
    assert not IntegrationJob.objects.exists()


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
        ("schedule_preset=0+7+*+*+*", "Choose how often from the list."),
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


# Secrets: write-only, for Global admins only, never in a response


def sftp_form(server, **overrides):
    return {
        "name": "Partner SFTP",
        "direction": "in",
        "place": "sftp",
        "location": server.location("/drop/users-*.csv"),
        "host_key": server.host_key_line,
        "file_kind": "users",
        "export": "all",
        "schedule_preset": "",
        "enabled": "on",
        **overrides,
    }


def test_a_global_admin_sets_a_secret_that_is_stored_encrypted_and_never_shown(
    global_admin_client, sftp_server
):
    client = global_admin_client
    response = client.post(
        "/integrations/syncs/new/", sftp_form(sftp_server, secret_password=SECRET)
    )

    job = IntegrationJob.objects.get()
    assert response.status_code == 302
    assert job.secrets() == {"password": SECRET}
    assert SECRET not in job.encrypted_secrets
    assert secrets.decrypt(job.encrypted_secrets) == f'{{"password": "{SECRET}"}}'
    edit = client.get(f"/integrations/syncs/{job.pk}/edit/")
    html = page(edit)
    password = element(html, "input", id="id_secret_password")
    assert (attribute(password, "type"), attribute(password, "value")) == ("password", None)
    assert text(element(html, "textarea", id="id_secret_private_key")) == ""
    assert [text(state) for state in elements(html, "span", class_="secret-state")] == [
        "Set",
        "Not set",
        "Not set",
        "Not set",
        "Not set",
        "Not set",
    ]
    assert text(element(html, "label", for_="id_clear_password")) == "Remove the saved password"


def test_error_reports_of_the_form_hide_every_secret_field(global_admin_client, sftp_server):
    """Should the form's view ever fail, Django's error report (the DEBUG page, the mails and
    logs of a 500) shows its secret fields as stars."""
    from django.views.debug import SafeExceptionReporterFilter

    response = global_admin_client.post(
        "/integrations/syncs/new/", sftp_form(sftp_server, secret_password=SECRET)
    )

    request = response.wsgi_request
    shown = SafeExceptionReporterFilter().get_post_parameters(request)
    assert shown["secret_password"] == SafeExceptionReporterFilter.cleansed_substitute
    assert set(request.sensitive_post_parameters) == {
        "secret_password",
        "secret_private_key",
        "secret_passphrase",
        "secret_access_key_id",
        "secret_secret_access_key",
        "secret_token",
    }


def test_secret_fields_keep_replace_or_clear_the_saved_ones(global_admin_client, sftp_server):
    client = global_admin_client
    job = with_secrets(
        sftp_job(
            location=sftp_server.location("/drop/users-*.csv"),
            options={"host_key": sftp_server.host_key_line},
        ),
        {"password": SECRET, "private_key": "old key"},
    )
    url = f"/integrations/syncs/{job.pk}/edit/"

    client.post(url, sftp_form(sftp_server, secret_password=""))
    job.refresh_from_db()
    assert job.secrets() == {"password": SECRET, "private_key": "old key"}

    client.post(url, sftp_form(sftp_server, secret_password="new-pw", clear_private_key="on"))
    job.refresh_from_db()
    assert job.secrets() == {"password": "new-pw"}

    client.post(url, sftp_form(sftp_server, secret_private_key="line 1\r\nline 2\r\n"))
    job.refresh_from_db()
    assert job.secrets() == {"password": "new-pw", "private_key": "line 1\nline 2\n"}

    # A secret of another kind of place is not kept: an HTTPS job has a token, no password.
    client.post(
        url,
        sftp_form(
            sftp_server,
            place="https",
            location="https://127.0.0.1:8443/users.csv",
            secret_token="tok-123",
            secret_password="ignored",
        ),
    )
    job.refresh_from_db()
    assert job.secrets() == {"token": "tok-123"}


def test_secrets_posted_by_an_advanced_user_change_nothing(advanced_client, sftp_server):
    job = with_secrets(
        sftp_job(
            location=sftp_server.location("/drop/users-*.csv"),
            options={"host_key": sftp_server.host_key_line},
        ),
        {"password": SECRET},
    )
    saved = job.encrypted_secrets

    response = advanced_client.post(
        f"/integrations/syncs/{job.pk}/edit/",
        sftp_form(
            sftp_server,
            name="Partner SFTP, renamed",
            secret_password="attacker",
            clear_password="on",
            encrypted_secrets="",
        ),
    )

    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.name, job.encrypted_secrets) == ("Partner SFTP, renamed", saved)
    edit = page(advanced_client.get(f"/integrations/syncs/{job.pk}/edit/"))
    assert not elements(edit, "input", type="password")
    assert text(element(edit, "p", class_="secrets-note")) == (
        "Secrets saved: Password. Passwords, keys and tokens are set by a Global admin. "
        "Changing the kind of place, the server, the endpoint or the host key removes the saved "
        "ones."
    )


@pytest.mark.parametrize(
    ("change", "kept"),
    [
        ({"location": "sftp://ada@127.0.0.1:{port}/other/users-*.csv"}, True),
        ({"location": "sftp://ada@evil.example:{port}/drop/users-*.csv"}, False),
        ({"location": "sftp://eve@127.0.0.1:{port}/drop/users-*.csv"}, False),
        ({"location": "sftp://ada@127.0.0.1:2/drop/users-*.csv"}, False),
        ({"host_key": HOST_KEY}, False),
    ],
)
def test_an_advanced_user_who_sends_secrets_elsewhere_removes_them(
    advanced_client, sftp_server, change, kept
):
    job = with_secrets(
        sftp_job(
            location=sftp_server.location("/drop/users-*.csv"),
            options={"host_key": sftp_server.host_key_line},
        ),
        {"password": SECRET},
    )
    change = {key: value.format(port=sftp_server.port) for key, value in change.items()}

    response = advanced_client.post(
        f"/integrations/syncs/{job.pk}/edit/", sftp_form(sftp_server, **change)
    )

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.secrets() == ({"password": SECRET} if kept else {})
    expected = ["The integration job “Partner SFTP” was saved."]
    if not kept:
        expected.append(
            "Its saved secrets were removed: they were set for another server. A Global admin "
            "sets them again."
        )
    assert messages(advanced_client.get(job.get_absolute_url())) == expected


@pytest.mark.parametrize(
    ("change", "kept"),
    [
        ({"location": "s3://other-bucket/in/users-*.csv"}, True),
        ({"region": "eu-west-3"}, True),
        ({"endpoint_url": "https://evil.example"}, False),
        ({"place": "https", "location": "https://127.0.0.1/users.csv"}, False),
    ],
)
def test_an_s3_jobs_keys_follow_its_endpoint_not_its_bucket(advanced_client, change, kept):
    job = with_secrets(
        IntegrationJob.objects.create(
            name="Bucket",
            direction="in",
            place="s3",
            location="s3://crm-exports/in/users-*.csv",
            options={"endpoint_url": "https://s3.example.com"},
        ),
        {"access_key_id": "AKIA1", "secret_access_key": SECRET},
    )
    data = {
        "name": "Bucket",
        "direction": "in",
        "place": "s3",
        "location": "s3://crm-exports/in/users-*.csv",
        "endpoint_url": "https://s3.example.com",
        "file_kind": "users",
        "export": "all",
        "enabled": "on",
        **change,
    }

    response = advanced_client.post(f"/integrations/syncs/{job.pk}/edit/", data)

    assert response.status_code == 302
    job.refresh_from_db()
    assert bool(job.encrypted_secrets) is kept


def test_a_password_in_the_location_is_refused_and_not_drawn_again(
    global_admin_client, sftp_server
):
    response = global_admin_client.post(
        "/integrations/syncs/new/",
        sftp_form(sftp_server, location=f"sftp://ada:{SECRET}@127.0.0.1:22/drop/users-*.csv"),
    )

    assert field_errors(response)["location"] == [
        "Put the password in the Password field, not in the address: an address is shown on "
        "pages and in the history."
    ]
    assert attribute(element(page(response, 400), "input", id="id_location"), "value") == (
        "sftp://ada@127.0.0.1:22/drop/users-*.csv"
    )
    assert SECRET not in response.text
    assert not IntegrationJob.objects.exists()


def test_a_secret_never_appears_in_any_response(global_admin_client, sftp_server, tree):
    """The right password and a wrong one, through every page that shows a job, its runs and
    their failures, the form sent back with an error, and the admin."""
    client = global_admin_client
    right = sftp_server.password
    responses = [
        client.post("/integrations/syncs/new/", sftp_form(sftp_server, secret_password=right)),
    ]
    job = IntegrationJob.objects.get()
    (sftp_server.root / "drop").mkdir()
    (sftp_server.root / "drop" / "users-1.csv").write_text(
        users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,yes,"), encoding="utf-8"
    )
    responses.append(
        client.post(
            f"/integrations/syncs/{job.pk}/edit/",
            sftp_form(sftp_server, name="", secret_password=SECRET, secret_private_key=SECRET),
        )
    )
    responses.append(client.post(f"/integrations/syncs/{job.pk}/check/", follow=True))
    responses.append(client.post(f"/integrations/syncs/{job.pk}/run/", follow=True))
    client.post(
        f"/integrations/syncs/{job.pk}/edit/", sftp_form(sftp_server, secret_password=SECRET)
    )
    responses.append(client.post(f"/integrations/syncs/{job.pk}/check/", follow=True))
    responses.append(client.post(f"/integrations/syncs/{job.pk}/run/", follow=True))
    for path in [
        "/integrations/syncs/",
        f"/integrations/syncs/{job.pk}/",
        f"/integrations/syncs/{job.pk}/edit/",
        f"/integrations/syncs/{job.pk}/delete/",
        "/integrations/",
        f"/integrations/jobs/{SyncRun.objects.exclude(import_job=None).get().import_job_id}/",
        f"/admin/integrations/integrationjob/{job.pk}/change/",
        f"/admin/integrations/integrationjob/{job.pk}/history/",
        "/admin/integrations/integrationjob/",
        "/admin/integrations/syncrun/",
        f"/admin/integrations/syncrun/{job.runs.first().pk}/change/",
    ]:
        responses.append(client.get(path))

    assert [response.status_code for response in responses] == [302, 400, *[200] * 15]
    for response in responses:
        assert right not in response.content.decode()
        assert SECRET not in response.content.decode()
    assert list(job.runs.values_list("status", flat=True)) == ["failed", "succeeded"]
    assert "refused" in job.runs.first().message
    for message in SyncRun.objects.values_list("message", flat=True):
        assert right not in message and SECRET not in message


# A job's page


def test_the_job_page_shows_its_settings_and_schedule(advanced_client, root):
    template = MappingTemplate.objects.create(name="HubSpot", file_kind="users", definition={})
    job = folder_job(
        root,
        schedule="0 6 * * 1-5",
        next_run_at=timezone.now() + timedelta(hours=1),
        mapping_template=template,
        skip_errors=True,
        created_by=advanced_client.staff_user,
    )

    html = page(advanced_client.get(job.get_absolute_url()))

    settings_card = element(html, "section", aria_labelledby="settings-heading")
    assert [
        (text(dt), words(dd))
        for dt, dd in zip(elements(settings_card, "dt"), elements(settings_card, "dd"), strict=True)
    ] == [
        ("Place", f"Folder on the server {root}/drop/users-*.csv"),
        ("File", "Users file"),
        ("Mapping template", "HubSpot"),
        ("Rows with errors", "Skipped: the valid rows are imported"),
        ("Removed contacts", "Stay removed"),
        ("Files taken", "Left where they are"),
        ("Added", f"{timezone.localtime(job.created_at):%-d %b %Y, %H:%M} by advanced_user"),
    ]
    schedule = element(html, "section", aria_labelledby="schedule-heading")
    assert words(schedule) == (
        "Schedule At 06:00, Monday through Friday, UTC Cron expression 0 6 * * 1-5 Next run "
        f"{timezone.localtime(job.next_run_at):%a %-d %b %Y, %H:%M} Failures in a row None"
    )
    assert not elements(html, "section", class_="sync-alert")


def test_the_job_page_says_which_secrets_are_set_never_what_they_are(
    global_admin_client, sftp_server
):
    job = with_secrets(
        sftp_job(options={"host_key": sftp_server.host_key_line}), {"private_key": SECRET}
    )

    response = global_admin_client.get(job.get_absolute_url())

    settings_card = element(page(response), "section", aria_labelledby="settings-heading")
    pairs = dict(
        zip(
            [text(dt) for dt in elements(settings_card, "dt")],
            [text(dd) for dd in elements(settings_card, "dd")],
            strict=True,
        )
    )
    assert {
        name: pairs[name] for name in ["Password", "Private key", "Passphrase of the private key"]
    } == {
        "Password": "Not set",
        "Private key": "Set",
        "Passphrase of the private key": "Not set",
    }
    assert pairs["Host key"].startswith("SHA256:")
    assert SECRET not in response.text


@pytest.mark.parametrize("run_count", [1, 3])
def test_job_page_query_count(advanced_client, root, django_assert_num_queries, run_count):
    job = folder_job(root)
    for number in range(run_count):
        SyncRun.objects.create(
            integration_job=job,
            trigger=SyncRun.Trigger.RUN_NOW,
            staff_user=advanced_client.staff_user,
            status=SyncRun.Status.FAILED,
            message=f"Failure {number}",
            import_job=ImportJob.objects.create(
                kind=ImportJob.Kind.USERS, file_name="u.csv", status=ImportJob.Status.FAILED
            ),
        )

    # The four; the job; the count of runs and a page of them with their import jobs.
    with django_assert_num_queries(7):
        response = advanced_client.get(job.get_absolute_url())

    assert len(elements(page(response), "tr", class_="run-failed")) == run_count


def test_the_runs_are_paged_twenty_five_at_a_time_newest_first(advanced_client, root):
    job = folder_job(root)
    now = timezone.now()
    SyncRun.objects.bulk_create(
        SyncRun(
            integration_job=job,
            trigger=SyncRun.Trigger.SCHEDULE,
            status=SyncRun.Status.NOTHING_NEW,
            created_at=now - timedelta(minutes=number),
            message=f"Run {number}",
        )
        for number in range(30)
    )

    first = page(advanced_client.get(job.get_absolute_url()))
    second = page(advanced_client.get(f"{job.get_absolute_url()}?page=2"))

    assert [text(p) for p in elements(first, "p", class_="run-message")] == [
        f"Run {number}" for number in range(25)
    ]
    assert [text(p) for p in elements(second, "p", class_="run-message")] == [
        f"Run {number}" for number in range(25, 30)
    ]
    assert text(element(second, "nav", class_="pagination")) == "← Previous Page 2 of 2 1 2"


def test_a_failed_run_is_shown_plainly_and_several_in_a_row_alert_at_the_top(advanced_client, root):
    job = folder_job(root, failures_in_a_row=3)
    message = "No file at the place.\nThe folder was renamed: check the location."
    SyncRun.objects.create(
        integration_job=job,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.FAILED,
        message=message,
    )

    html = page(advanced_client.get(job.get_absolute_url()))

    assert text(element(html, "section", class_="sync-alert")) == (
        "This job failed its last 3 runs Each run tries again; the runs below say why they "
        "failed. Test the connection, or edit the job, then run it now."
    )
    row = element(html, "tr", class_="run-failed")
    assert text(element(row, "span", class_="outcome-failed")) == "Failed"
    assert text(element(row, "p", class_="run-message-failed")) == " ".join(message.split())
    for path in ["/integrations/", "/integrations/syncs/"]:
        assert words(element(page(advanced_client.get(path)), "section", class_="sync-alert")) == (
            "An integration job keeps failing Nightly CRM drop: its last 3 runs failed."
        )


def test_two_failures_in_a_row_raise_no_alert(advanced_client, root):
    folder_job(root, failures_in_a_row=2)

    for path in ["/integrations/", "/integrations/syncs/"]:
        assert not elements(page(advanced_client.get(path)), "section", class_="sync-alert")


@pytest.mark.parametrize("status", ["queued", "running"])
def test_while_a_run_is_under_way_the_runs_are_polled(advanced_client, root, status):
    job = folder_job(root)
    SyncRun.objects.create(integration_job=job, trigger=SyncRun.Trigger.RUN_NOW, status=status)

    full = advanced_client.get(job.get_absolute_url())
    fragment = advanced_client.get(job.get_absolute_url(), headers={"HX-Request": "true"})

    runs = element(page(full), "section", id="sync-runs")
    assert (attribute(runs, "hx-get"), attribute(runs, "hx-trigger")) == (
        job.get_absolute_url(),
        "every 2s",
    )
    assert fragment.text.lstrip().startswith('<section id="sync-runs"')
    assert "<html" not in fragment.text
    assert "HX-Refresh" not in fragment.headers
    assert full.headers["Vary"].count("HX-Request") == 1


def test_once_the_run_has_ended_the_poll_reloads_the_page(advanced_client, root):
    job = folder_job(root)
    SyncRun.objects.create(
        integration_job=job, trigger=SyncRun.Trigger.RUN_NOW, status=SyncRun.Status.SUCCEEDED
    )

    full = advanced_client.get(job.get_absolute_url())
    fragment = advanced_client.get(job.get_absolute_url(), headers={"HX-Request": "true"})

    assert attribute(element(page(full), "section", id="sync-runs"), "hx-get") is None
    assert fragment.headers["HX-Refresh"] == "true"


# Run now


def test_run_now_imports_the_newest_file_and_the_pages_say_so(advanced_client, root, tree):
    job = folder_job(root, move_processed=True)
    (root / "drop" / "users-2026-03-01.csv").write_text(
        users_csv(
            "PARIS,ada@example.com,Ada,Lovelace,Analyst,,Site admin,yes,yes",
            "BERLIN,alan@example.com,Alan,Turing,,,,no,",
        ),
        encoding="utf-8",
    )

    response = advanced_client.post(f"/integrations/syncs/{job.pk}/run/")

    assert (response.status_code, response.headers["Location"]) == (302, job.get_absolute_url())
    detail = advanced_client.get(job.get_absolute_url())
    assert messages(detail) == ["“Nightly CRM drop” ran: finished."]
    run = SyncRun.objects.get()
    import_job = run.import_job
    row = elements(page(detail), "tr")[1]
    assert words(row) == (
        f"{timezone.localtime(run.created_at):%-d %b %Y, %H:%M} Run now by advanced_user "
        "Finished users-2026-03-01.csv 2 new 0 updated 0 unchanged 0 failed Import job of "
        f"users-2026-03-01.csv Moved to {root}/drop/processed/users-2026-03-01.csv."
    )
    assert attribute(element(row, "a"), "href") == import_job.get_absolute_url()
    assert Membership.objects.filter(person__email="ada@example.com", is_contact=True).exists()
    assert (root / "drop" / "processed" / "users-2026-03-01.csv").exists()
    index = page(advanced_client.get("/integrations/"))
    history_row = elements(element(index, "table", class_="history"), "tr")[1]
    assert words(elements(history_row, "td")[0]) == (
        "users-2026-03-01.csv by the integration job Nightly CRM drop, from "
        f"{root}/drop/users-2026-03-01.csv"
    )
    assert words(elements(history_row, "td")[2]) == "advanced_user"
    assert attribute(element(history_row, "a", href=job.get_absolute_url()), "href")

    again = advanced_client.post(f"/integrations/syncs/{job.pk}/run/", follow=True)
    assert messages(again) == ["“Nightly CRM drop” ran: no new file."]
    assert words(elements(page(again), "tr")[1]) == (
        f"{timezone.localtime(job.runs.first().created_at):%-d %b %Y, %H:%M} Run now by "
        f"advanced_user No new file – No file at {root}/drop/users-*.csv: nothing to import."
    )
    assert ImportJob.objects.count() == 1


def test_a_file_with_errors_fails_the_run_with_its_error_file(advanced_client, root, tree):
    job = folder_job(root)
    (root / "drop" / "users-1.csv").write_text(
        users_csv(
            "PARIS,ada@example.com,Ada,Lovelace,,,,yes,",
            "NOPE,edsger@example.com,Edsger,Dijkstra,,,,yes,",
        ),
        encoding="utf-8",
    )

    advanced_client.post(f"/integrations/syncs/{job.pk}/run/")

    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.FAILED
    html = page(advanced_client.get(job.get_absolute_url()))
    row = element(html, "tr", class_="run-failed")
    assert text(element(row, "span", class_="outcome")) == "Failed"
    assert attribute(
        element(row, "a", href=f"/integrations/jobs/{run.import_job.pk}/errors/"), "href"
    )
    assert text(element(row, "p", class_="run-message-failed")) == run.message
    assert not Membership.objects.exists()
    job.refresh_from_db()
    assert job.failures_in_a_row == 1


def test_an_outbound_run_says_how_many_rows_it_wrote_and_where(advanced_client, root, tree):
    job = folder_job(
        root, name="Back to the CRM", direction="out", location=f"{root}/out/users-{{date}}.csv"
    )
    (root / "out").mkdir()

    advanced_client.post(f"/integrations/syncs/{job.pk}/run/")

    run = SyncRun.objects.get()
    name = f"users-{timezone.localdate():%Y-%m-%d}.csv"
    assert run.file_name == f"{root}/out/{name}"
    row = elements(page(advanced_client.get(job.get_absolute_url())), "tr")[1]
    assert words(elements(row, "td")[3]) == name
    assert words(elements(row, "td")[4]) == f"{run.rows_written} rows written"


def test_run_now_while_a_run_is_under_way_says_so(advanced_client, root):
    job = folder_job(root)
    SyncRun.objects.create(
        integration_job=job, trigger=SyncRun.Trigger.SCHEDULE, status=SyncRun.Status.RUNNING
    )

    response = advanced_client.post(f"/integrations/syncs/{job.pk}/run/", follow=True)

    assert response.status_code == 200
    (message,) = messages(response)
    assert message.startswith("“Nightly CRM drop” is running already since ")
    assert message.endswith(": a job runs once at a time. Its page shows when it ends.")
    assert SyncRun.objects.count() == 1


# Test connection


def test_test_connection_says_what_it_found(advanced_client, root):
    job = folder_job(root)
    (root / "drop" / "users-1.csv").write_text(users_csv(), encoding="utf-8")

    response = advanced_client.post(f"/integrations/syncs/{job.pk}/check/", follow=True)

    assert response.redirect_chain == [(job.get_absolute_url(), 302)]
    assert messages(response) == ["Connected: 1 file matches users-*.csv."]
    assert not SyncRun.objects.exists()


def test_test_connection_shows_a_places_error_as_an_error(advanced_client, root, settings):
    job = folder_job(root)
    settings.SYNC_FOLDER_ROOTS = [root / "elsewhere"]

    response = advanced_client.post(f"/integrations/syncs/{job.pk}/check/", follow=True)

    (message,) = elements(page(response), "li", class_="message-error")
    assert text(message) == (
        f"The connection failed: {root}/drop is not inside the folders the server allows "
        f"(SYNC_FOLDER_ROOTS: {root}/elsewhere), or leads outside them through “..” or a link."
    )


def test_test_connection_with_a_wrong_password_never_names_it(global_admin_client, sftp_server):
    job = with_secrets(
        sftp_job(
            location=sftp_server.location("/drop/users-*.csv"),
            options={"host_key": sftp_server.host_key_line},
        ),
        {"password": SECRET},
    )

    response = global_admin_client.post(f"/integrations/syncs/{job.pk}/check/", follow=True)

    (message,) = elements(page(response), "li", class_="message-error")
    assert text(message) == (
        f"The connection failed: Could not sign in to sftp://ada@127.0.0.1:{sftp_server.port}: "
        "the password or key was refused."
    )
    assert SECRET not in response.text


# Fetch the host key


@pytest.mark.parametrize("htmx", [True, False])
def test_fetch_the_host_key_a_server_presents(advanced_client, sftp_server, htmx):
    headers = {"HX-Request": "true"} if htmx else {}

    response = advanced_client.post(
        "/integrations/syncs/host-key/",
        {"location": sftp_server.location("/drop/*.csv")},
        headers=headers,
    )

    html = parse(response)
    textarea = element(html, "textarea", id="id_host_key")
    assert (attribute(textarea, "hx-swap-oob"), text(textarea)) == (
        "true",
        sftp_server.host_key_line,
    )
    assert "SHA256:" in text(element(html, "p", class_="field-hint"))


def test_fetch_the_host_key_of_a_bad_location_says_why(advanced_client):
    response = advanced_client.post("/integrations/syncs/host-key/", {"location": "ftp://x"})

    assert text(element(parse(response), "p", class_="field-error")) == (
        "A sftp location starts with sftp://."
    )


# Delete


def test_delete_asks_first_then_deletes_the_job_and_its_runs_not_its_imports(advanced_client, root):
    job = folder_job(root, schedule="0 6 * * *")
    import_job = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS, file_name="u.csv", status=ImportJob.Status.SUCCEEDED
    )
    SyncRun.objects.create(
        integration_job=job,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.SUCCEEDED,
        import_job=import_job,
    )
    SyncRun.objects.create(
        integration_job=job, trigger=SyncRun.Trigger.SCHEDULE, status=SyncRun.Status.NOTHING_NEW
    )

    confirm = page(advanced_client.get(f"/integrations/syncs/{job.pk}/delete/"))
    assert words(element(confirm, "section", class_="card-danger")) == (
        "Delete the integration job “Nightly CRM drop”? It stops running (every day at 06:00, "
        "utc), and the history of its 2 runs goes with it. The 1 import its runs made stays in "
        "the import history, with its error file. Delete the job Keep it"
    )
    assert IntegrationJob.objects.exists()

    response = advanced_client.post(f"/integrations/syncs/{job.pk}/delete/", follow=True)

    assert messages(response) == ["The integration job “Nightly CRM drop” was deleted."]
    assert not IntegrationJob.objects.exists()
    assert not SyncRun.objects.exists()
    assert list(ImportJob.objects.all()) == [import_job]


def test_a_running_job_is_not_deleted(advanced_client, root):
    job = folder_job(root)
    SyncRun.objects.create(
        integration_job=job, trigger=SyncRun.Trigger.SCHEDULE, status=SyncRun.Status.RUNNING
    )

    confirm = page(advanced_client.get(f"/integrations/syncs/{job.pk}/delete/"))
    response = advanced_client.post(f"/integrations/syncs/{job.pk}/delete/", follow=True)

    assert not elements(confirm, "button", class_="button-danger")
    assert messages(response) == [
        "“Nightly CRM drop” is running: delete it once the run has ended."
    ]
    assert IntegrationJob.objects.exists()


# The Integrations page's history


@pytest.mark.parametrize("job_count", [1, 3])
def test_the_history_names_the_integration_job_without_more_queries(
    advanced_client, root, django_assert_num_queries, job_count
):
    job = folder_job(root)
    for number in range(job_count):
        SyncRun.objects.create(
            integration_job=job,
            trigger=SyncRun.Trigger.SCHEDULE,
            status=SyncRun.Status.SUCCEEDED,
            created_at=timezone.now() - timedelta(minutes=number),
            file_name=f"{root}/drop/users-{number}.csv",
            import_job=ImportJob.objects.create(
                kind=ImportJob.Kind.USERS,
                file_name=f"users-{number}.csv",
                status=ImportJob.Status.SUCCEEDED,
            ),
        )

    # The four, the failing jobs, the count of import jobs and a page of them with their runs.
    with django_assert_num_queries(7):
        response = advanced_client.get("/integrations/")

    rows = elements(element(page(response), "table", class_="history"), "tr")[1:]
    assert [words(elements(row, "td")[2]) for row in rows] == ["schedule"] * job_count
    assert [words(elements(row, "td")[0]) for row in rows] == [
        f"users-{number}.csv by the integration job Nightly CRM drop, from "
        f"{root}/drop/users-{number}.csv"
        for number in reversed(range(job_count))
    ]
