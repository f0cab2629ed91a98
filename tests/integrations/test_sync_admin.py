"""The Django admin of integration jobs and their runs: the page's rules, no secrets anywhere
(pages, history, change messages), runs read only."""

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from integrations import schedules
from integrations.models import IntegrationJob, SyncRun
from tests.admin_pages import result_rows
from tests.html import element, elements, page, text

pytestmark = pytest.mark.django_db

SECRET = "tok-Qv93-never-shown"


@pytest.fixture
def root(tmp_path, settings):
    settings.SYNC_FOLDER_ROOTS = [tmp_path]
    return tmp_path


def admin_form(root, **overrides):
    data = {
        "name": "Nightly CRM drop",
        "direction": "in",
        "place": "folder",
        "location": f"{root}/users-*.csv",
        "options": "{}",
        "initial-options": "{}",  # the admin sends a callable default's first value
        "file_kind": "users",
        "mapping_template": "",
        "export": "all",
        "segment": "",
        "schedule": "",
        "enabled": "on",
    }
    data.update(overrides)
    return data


def errors(response):
    """The admin form's errors: {field: [messages]}."""
    return {
        dict(ul.attributes)["id"].removeprefix("id_").removesuffix("_error"): [
            text(li) for li in elements(ul, "li")
        ]
        for ul in elements(page(response), "ul", class_="errorlist")
        if dict(ul.attributes).get("id")
    }


def test_the_changelist_names_each_job_without_its_secrets(admin_site_client, root):
    job = IntegrationJob.objects.create(
        name="CRM over HTTPS",
        direction="in",
        place="https",
        location="https://crm.example.com/users.csv",
        schedule="0 6 * * *",
        next_run_at=timezone.now(),
        failures_in_a_row=2,
    )
    job.set_secrets({"token": SECRET})
    job.save()

    response = admin_site_client.get("/admin/integrations/integrationjob/")

    (row,) = result_rows(response)
    assert row[:6] + row[7:] == [
        "CRM over HTTPS",
        "Inbound (import)",
        "HTTPS URL",
        "https://crm.example.com/users.csv",
        "Every day at 06:00, UTC",
        "True",
        "2",
    ]
    assert SECRET not in response.text


def test_the_change_page_says_which_secrets_are_set_and_has_no_field_for_them(
    admin_site_client, root
):
    job = IntegrationJob.objects.create(
        name="CRM over HTTPS",
        direction="in",
        place="https",
        location="https://crm.example.com/users.csv",
    )
    job.set_secrets({"token": SECRET})
    job.save()

    response = admin_site_client.get(f"/admin/integrations/integrationjob/{job.pk}/change/")

    html = page(response)
    assert not elements(html, "input", name="encrypted_secrets")
    assert text(element(html, "div", class_="field-secrets_set")).endswith(
        "Set: token. Only their names are shown; the job's page sets them."
    )
    assert SECRET not in response.text


def test_the_admin_adds_a_job_with_the_pages_rules_and_plans_its_next_run(admin_site_client, root):
    before = timezone.now()

    response = admin_site_client.post(
        "/admin/integrations/integrationjob/add/",
        admin_form(root, schedule=" 0  6 * * * "),
    )

    assert response.status_code == 302
    job = IntegrationJob.objects.get()
    assert (job.schedule, job.created_by, job.encrypted_secrets) == (
        "0 6 * * *",
        admin_site_client.staff_user,
        "",
    )
    assert job.next_run_at == schedules.next_time("0 6 * * *", after=before)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"schedule": "0 6 * *"},
            {
                "schedule": [
                    "A schedule has five fields, minute hour day-of-month month day-of-week "
                    "(for example “0 6 * * *”, every day at 06:00); “0 6 * *” has 4."
                ]
            },
        ),
        (
            {"location": "/etc/users-*.csv"},
            {
                "location": [
                    "/etc is not inside the folders the server allows (SYNC_FOLDER_ROOTS: "
                    "{root}), or leads outside them through “..” or a link."
                ]
            },
        ),
        (
            {"place": "postgres", "location": "postgres://reader@127.0.0.1/crm"},
            {"options": ["Write the SELECT whose rows are the file."]},
        ),
        (
            {"options": '{"password": "x"}'},
            {
                "options": [
                    "The options are a JSON object of texts, with the keys endpoint_url, "
                    "host_key, query, region."
                ]
            },
        ),
        (
            {"name": "OTHER job"},
            {"name": ["An integration job of this name exists already."]},
        ),
    ],
)
def test_the_admin_refuses_what_the_page_refuses(admin_site_client, root, fields, expected):
    IntegrationJob.objects.create(
        name="Other job", direction="in", place="folder", location=f"{root}/a-*.csv"
    )

    response = admin_site_client.post(
        "/admin/integrations/integrationjob/add/", admin_form(root, **fields)
    )

    assert response.status_code == 200
    assert errors(response) == {
        field: [message.format(root=root) for message in messages]
        for field, messages in expected.items()
    }
    assert IntegrationJob.objects.count() == 1


def test_the_history_of_a_change_names_fields_never_secrets(admin_site_client, root):
    job = IntegrationJob.objects.create(
        name="Nightly CRM drop", direction="in", place="folder", location=f"{root}/users-*.csv"
    )
    job.set_secrets({"password": SECRET})  # as if a kind with secrets had been chosen before
    job.save()

    admin_site_client.post(
        f"/admin/integrations/integrationjob/{job.pk}/change/",
        admin_form(root, name="Nightly CRM drop, renamed", schedule="0 7 * * *"),
    )
    history = admin_site_client.get(f"/admin/integrations/integrationjob/{job.pk}/history/")

    entry = LogEntry.objects.get()
    assert entry.get_change_message() == "Changed Name and Schedule."
    assert SECRET not in entry.change_message
    assert SECRET not in history.text
    job.refresh_from_db()
    assert job.secrets() == {"password": SECRET}


def test_runs_are_read_only_in_the_admin(admin_site_client, root):
    job = IntegrationJob.objects.create(
        name="Nightly CRM drop", direction="in", place="folder", location=f"{root}/users-*.csv"
    )
    run = SyncRun.objects.create(
        integration_job=job,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.FAILED,
        message="No file.",
    )

    changelist = admin_site_client.get("/admin/integrations/syncrun/")
    change = admin_site_client.get(f"/admin/integrations/syncrun/{run.pk}/change/")
    add = admin_site_client.get("/admin/integrations/syncrun/add/")
    post = admin_site_client.post(
        f"/admin/integrations/syncrun/{run.pk}/change/", {"status": "succeeded"}
    )

    assert [row[2:5] for row in result_rows(changelist)] == [["Schedule", "-", "Failed"]]
    assert (change.status_code, add.status_code, post.status_code) == (200, 403, 403)
    assert not elements(page(change), "input", type="submit")
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED


def test_advanced_users_use_the_pages_not_the_admin(advanced_client):
    response = advanced_client.get("/admin/integrations/integrationjob/", follow=True)

    assert response.status_code == 403
