"""The undo pages: Undo this import on a job's page, its preview, the confirmation, Redo, and
every refusal (a clear message, no 500, nothing written)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from contacts.models import Membership, Person
from integrations import services
from integrations.models import ImportJob
from integrations.undo import plan_undo
from tests.factories import StaffUserFactory
from tests.integrations.conftest import csv_file, users_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(ada, advanced_client):
    """A users import by the Advanced user: Ada's title changed, Grace added at Berlin."""
    job, _ = services.import_file_now(
        kind=ImportJob.Kind.USERS,
        file=csv_file(
            users_csv(
                "PARIS,ada@customer.example,,,CEO,,,,",
                "BERLIN,grace@navy.example,Grace,Hopper,,,,yes,",
            )
        ),
        file_name="crm.csv",
        by=advanced_client.staff_user,
    )
    return job


def undo_url(job):
    return reverse("integrations:job-undo", args=[job.pk])


def test_the_job_page_offers_undo_to_those_who_may(imported, advanced_client):
    page = advanced_client.get(imported.get_absolute_url()).content.decode()
    assert "Undo this import" in page
    assert undo_url(imported) in page


def test_the_job_page_does_not_offer_undo_to_others(imported, client):
    user = StaffUserFactory(username="runner")
    user.user_permissions.add(Permission.objects.get(codename="run_integrations"))
    client.force_login(user)
    page = client.get(imported.get_absolute_url()).content.decode()
    assert "Undo this import" not in page
    assert client.get(undo_url(imported)).status_code == 403
    assert client.post(undo_url(imported), {"fingerprint": "x"}).status_code == 403
    assert not ImportJob.objects.filter(undoes=imported).exists()


def test_the_preview_lists_what_would_be_deleted_and_restored(
    imported, advanced_client, django_assert_max_num_queries, ada
):
    Person.objects.filter(email__iexact="ada@customer.example").update(phone="+33 9")
    with django_assert_max_num_queries(24):
        response = advanced_client.get(undo_url(imported))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Undo import #" in page
    assert "Grace Hopper &lt;grace@navy.example&gt;" in page
    assert "Title</span> CTO → CEO → <ins>CTO</ins>" in page
    assert "Undo: delete 2 rows, restore 1 row" in page


def test_the_preview_query_count_does_not_grow_with_the_job(
    ada, advanced_client, django_assert_max_num_queries
):
    rows = [f"BERLIN,p{n}@navy.example,P{n},Q,,,,yes," for n in range(60)]
    job, _ = services.import_file_now(
        kind=ImportJob.Kind.USERS, file=csv_file(users_csv(*rows)), file_name="big.csv"
    )
    with django_assert_max_num_queries(24):
        assert advanced_client.get(undo_url(job)).status_code == 200


def test_confirming_runs_the_undo_and_shows_its_page_then_redo(imported, advanced_client):
    fingerprint = plan_undo(imported).fingerprint()
    response = advanced_client.post(undo_url(imported), {"fingerprint": fingerprint})

    undo_job = ImportJob.objects.get(undoes=imported)
    assert response.status_code == 302 and response.url == undo_job.get_absolute_url()
    assert undo_job.status == ImportJob.Status.SUCCEEDED
    assert undo_job.staff_user == advanced_client.staff_user
    assert not Person.objects.filter(email="grace@navy.example").exists()
    page = advanced_client.get(undo_job.get_absolute_url()).content.decode()
    assert f"Undo of import #{imported.pk}" in page and "Undo finished" in page
    assert "Redo" in page
    assert f'Undone by <a href="{undo_job.get_absolute_url()}">#{undo_job.pk}</a>' in (
        advanced_client.get(imported.get_absolute_url()).content.decode()
    )
    history = advanced_client.get(reverse("integrations:index")).content.decode()
    assert f'undo of <a href="{imported.get_absolute_url()}">#{imported.pk}</a>' in history

    redo = advanced_client.post(
        undo_url(undo_job), {"fingerprint": plan_undo(undo_job).fingerprint()}
    )
    assert redo.status_code == 302
    assert Person.objects.filter(email="grace@navy.example").exists()
    assert Membership.objects.filter(person__email="grace@navy.example").count() == 1


def test_conflicts_show_the_checkbox_and_are_restored_when_ticked(imported, global_admin_client):
    Person.objects.filter(email__iexact="ada@customer.example").update(title="Chair")
    page = global_admin_client.get(undo_url(imported)).content.decode()
    assert "Conflicts: changed since the import" in page
    assert "Restore fields changed since (overwrite the later changes)" in page
    assert "changed in the app since; kept" in page

    global_admin_client.post(
        undo_url(imported),
        {"fingerprint": plan_undo(imported).fingerprint(), "restore_conflicts": "on"},
    )
    assert Person.objects.get(email__iexact="ada@customer.example").title == "CTO"


def test_a_stale_preview_is_shown_again_with_a_message(imported, advanced_client):
    fingerprint = plan_undo(imported).fingerprint()
    Person.objects.filter(email__iexact="ada@customer.example").update(title="Chair")
    response = advanced_client.post(undo_url(imported), {"fingerprint": fingerprint})
    assert response.status_code == 409
    assert "Something changed since this preview was shown" in response.content.decode()
    assert not ImportJob.objects.filter(undoes=imported).exists()


def test_a_confirmation_without_its_preview_is_refused(imported, advanced_client):
    response = advanced_client.post(undo_url(imported), {})
    assert response.status_code == 400
    assert not ImportJob.objects.filter(undoes=imported).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "failed"}, "it failed, so it changed nothing"),
        ({"status": "cancelled"}, "it was cancelled"),
        ({"status": "running"}, "it has not finished"),
    ],
)
def test_jobs_that_cannot_be_undone_say_why(imported, advanced_client, change, message):
    ImportJob.objects.filter(pk=imported.pk).update(**change)
    for response in (
        advanced_client.get(undo_url(imported), follow=True),
        advanced_client.post(undo_url(imported), {"fingerprint": "x"}, follow=True),
    ):
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not ImportJob.objects.filter(undoes=imported).exists()


def test_an_undone_import_and_a_running_undo_are_refused(imported, advanced_client):
    advanced_client.post(undo_url(imported), {"fingerprint": plan_undo(imported).fingerprint()})
    page = advanced_client.get(undo_url(imported), follow=True).content.decode()
    assert "This import was undone already" in page
    assert (
        "Undo this import" not in advanced_client.get(imported.get_absolute_url()).content.decode()
    )

    undo_job = ImportJob.objects.get(undoes=imported)
    ImportJob.objects.create(kind="users", file_name="x", status="pending", undoes=undo_job)
    page = advanced_client.get(undo_url(undo_job), follow=True).content.decode()
    assert "An undo of this import is running already." in page


def test_a_job_from_before_records_cannot_be_undone(advanced_client):
    job = ImportJob.objects.create(
        kind="users", file_name="old.csv", status="succeeded", new_rows=4
    )
    page = advanced_client.get(undo_url(job), follow=True).content.decode()
    assert "ran before imports kept what they changed; it cannot be undone" in page
    assert "Undo this import" not in advanced_client.get(job.get_absolute_url()).content.decode()


# The command line


def test_the_command_previews_then_undoes(imported):
    from tests.integrations.conftest import run

    lines, (code, _) = run("undo_import", str(imported.pk))
    assert code == 0
    assert lines[0] == f"Undo of import #{imported.pk} (Users file crm.csv):"
    assert "  Delete person: Grace Hopper <grace@navy.example>" in lines
    assert lines[-1] == "Nothing was changed. Run again with --yes to undo."
    assert Person.objects.filter(email="grace@navy.example").exists()

    lines, (code, _) = run("undo_import", str(imported.pk), "--yes")
    assert code == 0
    undo_job = ImportJob.objects.get(undoes=imported)
    assert lines[-1] == f"Undone: job #{undo_job.pk} (undo it to redo the import)."
    assert undo_job.status == "succeeded" and undo_job.staff_user is None
    assert not Person.objects.filter(email="grace@navy.example").exists()

    _, (code, message) = run("undo_import", str(imported.pk), "--yes")
    assert (code, message) == (
        1,
        f"This import was undone already, by #{undo_job.pk}; redo that one to take it back.",
    )


def test_the_command_refuses_unknown_jobs_with_a_bad_usage_code(db):
    from tests.integrations.conftest import exit_code, run

    assert run("undo_import", "999") == ([], (2, "No import job #999."))
    assert exit_code("undo_import", "999") == 2


# The Django admin


def test_the_admin_shows_undoes_undone_by_and_record_counts(imported, admin_site_client):
    advanced = imported.staff_user
    from integrations.undo_run import start_undo

    undo_job = start_undo(job=imported, by=advanced)
    page = admin_site_client.get(
        reverse("admin:integrations_importjob_change", args=[imported.pk])
    ).content.decode()
    assert f"#{undo_job.pk} (Finished)" in page
    assert "2 created, 1 changed, 0 deleted" in page
    page = admin_site_client.get(
        reverse("admin:integrations_importjob_change", args=[undo_job.pk])
    ).content.decode()
    assert "0 created, 1 changed, 2 deleted" in page


def test_an_import_in_the_django_admin_is_a_job_that_can_be_undone(ada, admin_site_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "admin.csv", users_csv("BERLIN,grace@navy.example,Grace,Hopper,,,,yes,").encode()
    )
    response = admin_site_client.post(
        "/admin/contacts/membership/import/",
        {"import_file": upload, "format": "0", "resource": "0"},
    )
    assert response.status_code == 200
    confirm = response.context["confirm_form"]
    response = admin_site_client.post(
        "/admin/contacts/membership/process_import/",
        {**confirm.initial, "format": "0", "resource": "0"},
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.file_name, job.status, job.new_rows) == ("admin.csv (Django admin)", "succeeded", 1)
    assert job.records.filter(action="created").count() == 2
    from integrations.undo_run import start_undo

    start_undo(job=job, by=None)
    assert not Person.objects.filter(email="grace@navy.example").exists()
