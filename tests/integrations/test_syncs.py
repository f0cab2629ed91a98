"""Integration jobs' runs (integrations.syncs): what the scheduler starts, what a run takes,
imports or writes, and how it ends. Folder places here; SFTP and S3 in test_syncs_remote.py."""

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from contacts.models import DownloadRecord, Membership, Person
from integrations import syncs
from integrations.models import ImportJob, IntegrationJob, MappingTemplate, SyncRun, UsersExport
from tests.factories import MembershipFactory, PersonFactory, StaffUserFactory
from tests.integrations.conftest import users_csv

GOOD = users_csv(
    "PARIS,ada@example.com,Ada,Lovelace,,,Site admin,yes,no",
    "BERLIN,alan@example.com,Alan,Turing,,,,no,no",
)
BAD = users_csv(
    "PARIS,grace@example.com,Grace,Hopper,,,,yes,no",
    "PARIS,not-an-address,Bad,Row,,,,Yes,no",
)


@pytest.fixture
def drop(tmp_path):
    """A folder under the allowed root, inside which inbound jobs look."""
    root = tmp_path / "sync"
    (root / "drop").mkdir(parents=True)
    with override_settings(SYNC_FOLDER_ROOTS=[root]):
        yield root / "drop"


def put(folder, name, text, *, age=0):
    """Write a file into `folder`, its modification time `age` seconds ago."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    moment = timezone.now().timestamp() - age
    os.utime(path, (moment, moment))
    return path


def inbound(folder, **fields):
    fields.setdefault("name", "Nightly CRM users")
    fields.setdefault("schedule", "0 6 * * *")
    return IntegrationJob.objects.create(
        direction=IntegrationJob.Direction.INBOUND,
        place=IntegrationJob.Place.FOLDER,
        location=str(folder / "users-*.csv"),
        **fields,
    )


def outbound(folder, **fields):
    fields.setdefault("name", "Users back to the CRM")
    fields.setdefault("location", str(folder))
    return IntegrationJob.objects.create(
        direction=IntegrationJob.Direction.OUTBOUND, place=IntegrationJob.Place.FOLDER, **fields
    )


def run_now(job, **options):
    return syncs.start_run(job, trigger=SyncRun.Trigger.RUN_NOW, **options)


# Inbound from a folder


def test_an_inbound_run_imports_the_file_as_an_upload_would(tree, drop):
    put(drop, "users-2026-12-01.csv", GOOD)
    staff = StaffUserFactory()
    run = run_now(inbound(drop), by=staff)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.file_name.endswith("users-2026-12-01.csv")
    assert run.file_taken
    job = run.import_job
    assert job.status == ImportJob.Status.SUCCEEDED
    assert (job.new_rows, job.failed_rows) == (2, 0)
    assert job.file_name == "users-2026-12-01.csv"
    assert job.staff_user == staff
    assert job.sync_run == run  # the history says which integration job started it
    assert set(Person.objects.values_list("email", flat=True)) == {
        "ada@example.com",
        "alan@example.com",
    }


def test_the_import_job_page_says_which_integration_job_and_file_started_it(
    tree, drop, advanced_client, django_assert_max_num_queries
):
    put(drop, "users-2026-12-01.csv", GOOD)
    run = run_now(inbound(drop))
    url = run.import_job.get_absolute_url()

    with django_assert_max_num_queries(6):
        response = advanced_client.get(url)

    assert response.status_code == 200
    heading = " ".join(response.text.split("taken by the integration job", 1)[1].split())
    assert heading.startswith(
        f'<a href="{run.integration_job.get_absolute_url()}">Nightly CRM users</a> from '
        f'<span class="mono">{drop}/users-2026-12-01.csv</span> on'
    )


def test_a_file_taken_once_is_not_taken_again(tree, drop):
    put(drop, "users-a.csv", GOOD)
    job = inbound(drop)
    assert run_now(job).status == SyncRun.Status.SUCCEEDED

    second = run_now(job)

    assert second.status == SyncRun.Status.NOTHING_NEW
    assert "No new file" in second.message and "users-a.csv" in second.message
    assert second.import_job is None
    assert ImportJob.objects.count() == 1


def test_the_same_name_written_again_is_a_new_file(tree, drop):
    path = put(drop, "users-a.csv", GOOD, age=60)
    job = inbound(drop)
    run_now(job)
    put(drop, path.name, GOOD.replace("Lovelace", "King"))

    run = run_now(job)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.import_job.updated_rows == 1
    assert Person.objects.get(email="ada@example.com").last_name == "King"


def test_the_newest_file_not_taken_before_is_taken(tree, drop):
    put(drop, "users-old.csv", GOOD, age=300)
    put(drop, "users-new.csv", GOOD.replace("Lovelace", "Newest"), age=10)
    put(drop, "other.csv", GOOD.replace("Lovelace", "Not matching"), age=0)
    job = inbound(drop)

    first, second = run_now(job), run_now(job)

    assert first.file_name.endswith("users-new.csv")
    # The older one is left out: importing it after the newer one would undo it.
    assert first.message == (
        "1 older file was left out: a newer one was taken, and importing an older one after it "
        "would undo it."
    )
    assert Person.objects.get(email="ada@example.com").last_name == "Newest"
    assert second.status == SyncRun.Status.NOTHING_NEW
    assert second.message.startswith("No new file: all 2 files matching were taken before")


def test_no_file_at_the_place_is_nothing_new_not_a_failure(tree, drop):
    job = inbound(drop)

    run = run_now(job)

    assert run.status == SyncRun.Status.NOTHING_NEW
    assert run.message == f"No file at {drop}/users-*.csv: nothing to import."
    job.refresh_from_db()
    assert job.failures_in_a_row == 0


def test_a_file_with_errors_imports_nothing_and_the_run_fails(tree, drop):
    put(drop, "users-bad.csv", BAD)
    job = inbound(drop)

    run = run_now(job)

    assert run.status == SyncRun.Status.FAILED
    assert "1 row had errors, so nothing was imported" in run.message
    assert run.import_job.status == ImportJob.Status.FAILED
    assert run.import_job.error_file
    assert not Person.objects.exists()
    assert run.file_taken  # the same file would fail the same way: not taken again
    assert run_now(job).status == SyncRun.Status.NOTHING_NEW


def test_failures_in_a_row_are_counted_and_a_success_clears_them(tree, drop, settings):
    settings.SYNC_FAILURE_ALERT_AFTER = 2
    job = inbound(drop)
    for count in (1, 2):
        put(drop, f"users-bad{count}.csv", BAD, age=100 - count)
        assert run_now(job).status == SyncRun.Status.FAILED
        job.refresh_from_db()
        assert job.failures_in_a_row == count
    assert list(IntegrationJob.objects.failing()) == [job]

    put(drop, "users-good.csv", GOOD)
    run_now(job)

    job.refresh_from_db()
    assert job.failures_in_a_row == 0
    assert not IntegrationJob.objects.failing().exists()


def test_no_new_file_after_a_failure_keeps_the_failure_counted(tree, drop, settings):
    settings.SYNC_FAILURE_ALERT_AFTER = 1
    put(drop, "users-bad.csv", BAD)
    job = inbound(drop)
    run_now(job)

    assert run_now(job).status == SyncRun.Status.NOTHING_NEW

    job.refresh_from_db()
    assert job.failures_in_a_row == 1
    assert list(IntegrationJob.objects.failing()) == [job]


def test_a_file_an_unexpected_error_stops_is_tried_again_a_few_times_only(tree, drop, monkeypatch):
    from integrations import services

    put(drop, "users-a.csv", GOOD)
    job = inbound(drop)

    def broken(**options):
        raise RuntimeError("a bug in the import")

    monkeypatch.setattr(services, "import_file", broken)
    runs = [run_now(job) for _ in range(SyncRun.TRIES + 1)]

    assert [run.status for run in runs] == [SyncRun.Status.FAILED] * SyncRun.TRIES + [
        SyncRun.Status.NOTHING_NEW
    ]
    assert not any(run.file_taken for run in runs)


def test_a_file_larger_than_an_import_takes_fails_once(tree, drop, settings):
    settings.INTEGRATIONS_MAX_UPLOAD_SIZE = 50
    put(drop, "users-a.csv", GOOD)
    job = inbound(drop)

    first, second = run_now(job), run_now(job)

    assert first.status == SyncRun.Status.FAILED
    assert first.message.startswith("The file is larger than 50\xa0bytes")
    assert first.import_job is None
    assert second.status == SyncRun.Status.NOTHING_NEW
    assert not Person.objects.exists()


def test_a_file_that_grows_past_the_limit_while_it_is_read_fails_once(
    tree, drop, settings, monkeypatch
):
    """Its size as listed was within the limit (or unknown, as an HTTPS answer's may be); the
    bytes read are counted too."""
    from integrations import places

    settings.INTEGRATIONS_MAX_UPLOAD_SIZE = 200
    put(drop, "users-a.csv", GOOD)
    listed = places.FolderPlace._candidates

    def grows_once_listed(place):
        files = listed(place)
        (drop / "users-a.csv").write_text(GOOD + "x" * 500, encoding="utf-8")
        return files

    monkeypatch.setattr(places.FolderPlace, "_candidates", grows_once_listed)
    job = inbound(drop)

    run = run_now(job)

    assert run.status == SyncRun.Status.FAILED
    assert run.message == (
        "The file is larger than 200\xa0bytes, the largest an import takes "
        "(INTEGRATIONS_MAX_UPLOAD_SIZE): split it, or raise the limit."
    )
    assert run.file_taken
    assert not Person.objects.exists()


def test_a_job_that_skips_errors_imports_the_valid_rows(tree, drop):
    put(drop, "users-bad.csv", BAD)

    run = run_now(inbound(drop, skip_errors=True))

    assert run.status == SyncRun.Status.PARTIAL
    assert run.message == "1 row with errors skipped; the error file lists them."
    assert list(Person.objects.values_list("email", flat=True)) == ["grace@example.com"]
    assert run.import_job.error_file


def test_removed_contacts_stay_removed_unless_the_job_re_adds_them(tree, drop):
    membership = MembershipFactory(
        person=PersonFactory(email="ada@example.com"), account=tree["paris"], is_contact=True
    )
    from contacts import services as contact_services

    contact_services.remove_contact(membership=membership, by=StaffUserFactory())
    put(drop, "users-a.csv", GOOD)

    run_now(inbound(drop))
    membership.refresh_from_db()
    assert not membership.is_contact

    put(drop, "users-b.csv", GOOD)
    run_now(inbound(drop, name="Re-adding", re_add_removed=True))
    membership.refresh_from_db()
    assert membership.is_contact


def test_a_taken_file_can_move_to_processed(tree, drop):
    put(drop, "users-a.csv", GOOD)

    run = run_now(inbound(drop, move_processed=True))

    assert run.status == SyncRun.Status.SUCCEEDED
    assert not (drop / "users-a.csv").exists()
    assert (drop / "processed" / "users-a.csv").read_text(encoding="utf-8") == GOOD
    assert "Moved to" in run.message


def test_an_inbound_job_reads_a_foreign_file_through_its_mapping_template(tree, drop):
    template = MappingTemplate.objects.create(
        name="CRM",
        file_kind="users",
        definition={
            "columns": {
                "Account ID": "Org",
                "Email": "Mail",
                "First Name": "Given",
                "Last Name": "Family",
            },
            "constants": {"Contact": "yes"},
        },
    )
    put(drop, "users-crm.csv", "Org,Mail,Given,Family\nPARIS,ada@example.com,Ada,Lovelace\n")

    run = run_now(inbound(drop, mapping_template=template))

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.import_job.mapping_template == template
    assert Membership.objects.get(person__email="ada@example.com").is_contact


def test_a_file_that_does_not_fit_the_template_fails_naming_the_column(tree, drop):
    template = MappingTemplate.objects.create(
        name="CRM",
        file_kind="users",
        definition={"columns": {"Account ID": "Org", "Email": "Mail"}},
    )
    put(drop, "users-crm.csv", "Org,Email address\nPARIS,ada@example.com\n")

    run = run_now(inbound(drop, mapping_template=template))

    assert run.status == SyncRun.Status.FAILED
    assert "“Mail”" in run.message
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    "location",
    ["{outside}/users-*.csv", "{root}/drop/../../users-*.csv", "{root}/link/users-*.csv"],
    ids=["outside the roots", "dot-dot", "a link out"],
)
def test_a_folder_outside_the_allowed_roots_is_refused_when_run(tree, drop, tmp_path, location):
    outside = tmp_path / "outside"
    outside.mkdir()
    put(outside, "users-a.csv", GOOD)
    (drop.parent / "link").symlink_to(outside)
    job = inbound(drop)
    IntegrationJob.objects.filter(pk=job.pk).update(
        location=location.format(outside=outside, root=drop.parent)
    )
    job.refresh_from_db()

    run = run_now(job)

    assert run.status == SyncRun.Status.FAILED
    assert str(drop.parent) in run.message  # names the allowed root
    assert not Person.objects.exists()


# Outbound to a folder


def test_an_outbound_run_writes_a_dated_users_file_that_imports_back_unchanged(
    tree, drop, tmp_path
):
    ada = PersonFactory(email="ada@example.com", first_name="Ada", last_name="Lovelace")
    MembershipFactory(person=ada, account=tree["paris"], is_contact=True)
    MembershipFactory(person=ada, account=tree["berlin"], is_contact=False)
    out = drop.parent / "out"
    out.mkdir()

    run = run_now(outbound(out))

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    written = list(out.iterdir())
    assert [path.name for path in written] == [PurePosixPath(run.file_name).name]
    assert timezone.localdate().isoformat() in written[0].name
    assert run.rows_written == 2
    assert run.users_export == UsersExport.objects.get()
    record = DownloadRecord.objects.get()
    assert (record.channel, record.row_count, record.complete) == ("sync", 2, True)
    assert "Users back to the CRM" in record.filters

    from integrations import services

    with written[0].open("rb") as file:
        result = services.import_file(kind="users", file=file, dry_run=True)
    assert (result.new, result.updated, result.failed, result.unchanged) == (0, 0, 0, 2)


def test_an_outbound_pattern_names_the_file_with_the_date(tree, drop):
    out = drop.parent / "out"
    out.mkdir()
    MembershipFactory(account=tree["paris"], is_contact=True)
    MembershipFactory(account=tree["paris"], is_contact=False)

    run = run_now(
        outbound(
            out,
            location=str(out / "contacts-{date}.xlsx"),
            export=IntegrationJob.Export.CONTACTS,
        )
    )

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    name = f"contacts-{timezone.localdate().isoformat()}.xlsx"
    assert [path.name for path in out.iterdir()] == [name]
    assert (out / name).read_bytes()[:2] == b"PK"  # an XLSX workbook
    assert run.rows_written == 1


def test_an_outbound_job_can_export_a_saved_segment(tree, drop):
    from contacts.models import Segment

    out = drop.parent / "out"
    out.mkdir()
    MembershipFactory(account=tree["paris"], person__email="in@example.com", is_key_contact=True)
    MembershipFactory(account=tree["paris"], person__email="out@example.com")
    segment = Segment.objects.create(name="Keys", owner=StaffUserFactory(), query="key=yes")

    run = run_now(outbound(out, export=IntegrationJob.Export.SEGMENT, segment=segment))

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    text = next(out.iterdir()).read_text(encoding="utf-8-sig")
    assert "in@example.com" in text and "out@example.com" not in text
    assert run.rows_written == 1


def test_an_outbound_job_whose_segment_was_deleted_fails_instead_of_exporting_all(tree, drop):
    out = drop.parent / "out"
    out.mkdir()
    MembershipFactory(account=tree["paris"])

    run = run_now(outbound(out, export=IntegrationJob.Export.SEGMENT, segment=None))

    assert run.status == SyncRun.Status.FAILED
    assert "segment this job exports was deleted" in run.message
    assert not list(out.iterdir())
    assert not UsersExport.objects.exists()


def test_a_segment_whose_account_was_deleted_fails_instead_of_exporting_wider(tree, drop):
    from contacts.models import Segment

    out = drop.parent / "out"
    out.mkdir()
    MembershipFactory(account=tree["paris"])
    MembershipFactory(account=tree["berlin"])
    segment = Segment.objects.create(
        name="Paris", owner=StaffUserFactory(), query="account=PARIS", account_label="Paris"
    )
    tree["paris_sales"].delete()
    tree["paris"].delete()

    run = run_now(outbound(out, export=IntegrationJob.Export.SEGMENT, segment=segment))

    assert run.status == SyncRun.Status.FAILED
    assert "“Paris” no longer selects what it was saved for" in run.message
    assert not list(out.iterdir())
    assert not UsersExport.objects.exists()


def test_an_outbound_run_that_cannot_write_records_no_export(tree, drop, tmp_path):
    MembershipFactory(account=tree["paris"])
    job = outbound(drop.parent / "out")
    IntegrationJob.objects.filter(pk=job.pk).update(location=str(tmp_path / "elsewhere"))
    job.refresh_from_db()

    run = run_now(job)

    assert run.status == SyncRun.Status.FAILED
    # The re-add guard counts removals since the last export: one that never arrived is none.
    assert not UsersExport.objects.exists()
    assert not DownloadRecord.objects.exists()


# Starting runs: one at a time, schedules, missed runs


def test_a_job_runs_once_at_a_time(tree, drop):
    job = inbound(drop)
    SyncRun.objects.create(integration_job=job, trigger=SyncRun.Trigger.SCHEDULE)

    with pytest.raises(syncs.RunUnderWay) as raised:
        run_now(job)

    assert "running already" in raised.value.message
    assert job.runs.count() == 1


def test_the_tick_starts_due_jobs_and_plans_their_next_run(tree, drop):
    now = timezone.now()
    due = inbound(drop, name="Due", next_run_at=now - timedelta(seconds=5))
    later = inbound(drop, name="Later", next_run_at=now + timedelta(hours=1))
    disabled = inbound(drop, name="Off", enabled=False, next_run_at=now - timedelta(hours=1))
    by_hand = inbound(drop, name="By hand", schedule="", next_run_at=now - timedelta(hours=1))

    started = syncs.start_due_runs(now=now)

    assert [run.integration_job for run in started] == [due]
    due.refresh_from_db()
    assert due.next_run_at == due.plan_next_run(now) > now
    for job in (later, disabled, by_hand):
        assert not job.runs.exists()


def test_after_downtime_a_missed_run_runs_once(tree, drop):
    # Ten seconds past a minute: the second tick, a second later, is still before the next.
    now = timezone.now().replace(second=10, microsecond=0)
    job = inbound(drop, schedule="* * * * *", next_run_at=now - timedelta(days=3))
    put(drop, "users-a.csv", GOOD)

    first = syncs.start_due_runs(now=now)
    second = syncs.start_due_runs(now=now + timedelta(seconds=1))

    assert len(first) == 1 and second == []
    assert job.runs.count() == 1
    job.refresh_from_db()
    assert now < job.next_run_at <= now + timedelta(minutes=1)


def test_a_job_still_running_skips_its_time(tree, drop):
    now = timezone.now()
    job = inbound(drop, next_run_at=now - timedelta(seconds=1))
    SyncRun.objects.create(integration_job=job, trigger=SyncRun.Trigger.RUN_NOW)

    assert syncs.start_due_runs(now=now) == []

    job.refresh_from_db()
    assert job.next_run_at > now
    assert job.runs.count() == 1


def test_one_job_in_trouble_does_not_stop_the_others(tree, drop):
    now = timezone.now()
    broken = inbound(drop, name="Broken", next_run_at=now - timedelta(seconds=5))
    IntegrationJob.objects.filter(pk=broken.pk).update(schedule="not a schedule")
    fine = inbound(drop, name="Fine", next_run_at=now - timedelta(seconds=5))

    started = syncs.start_due_runs(now=now)

    assert [run.integration_job for run in started] == [fine]
    assert not broken.runs.exists()


def test_a_scheduled_job_with_no_next_run_is_planned_by_the_tick(tree, drop):
    now = timezone.now()
    job = inbound(drop, next_run_at=None)

    assert syncs.start_due_runs(now=now) == []

    job.refresh_from_db()
    assert job.next_run_at == job.plan_next_run(now)


@override_settings(TIME_ZONE="Europe/Paris")
def test_schedules_are_in_the_app_time_zone(tree, drop):
    job = inbound(drop, schedule="0 6 * * *")
    winter_night = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    assert job.plan_next_run(winter_night).isoformat() == "2026-12-04T06:00:00+01:00"
    assert job.schedule_in_words() == "Every day at 06:00, Europe/Paris"


def test_a_run_whose_process_stopped_is_marked_failed(tree, drop):
    job = inbound(drop)
    long_ago = timezone.now() - timedelta(hours=2)
    run = SyncRun.objects.create(
        integration_job=job,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    fresh = inbound(drop, name="Fresh")
    alive = SyncRun.objects.create(
        integration_job=fresh,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )

    assert syncs.fail_stopped_runs() == 1

    run.refresh_from_db()
    alive.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert "stopped before it finished" in run.message
    assert alive.status == SyncRun.Status.RUNNING
    # The job can run again.
    put(drop, "users-a.csv", GOOD)
    assert run_now(job).status == SyncRun.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_never_start_the_same_run_twice(account_types, tmp_path):
    """Four scheduler ticks in four threads (four database connections, as four scheduler
    processes have), released together over twenty due jobs: each job runs exactly once."""
    if connection.vendor != "postgresql":
        pytest.skip("Row locks (FOR UPDATE SKIP LOCKED) are PostgreSQL's; SQLite has one writer.")
    root = tmp_path / "sync"
    (root / "drop").mkdir(parents=True)
    now = timezone.now()
    with override_settings(SYNC_FOLDER_ROOTS=[root]):
        jobs = [
            inbound(root / "drop", name=f"Job {n}", next_run_at=now - timedelta(minutes=n))
            for n in range(20)
        ]
        barrier = threading.Barrier(4)
        started, errors = [], []

        def tick():
            from django.db import connections

            try:
                barrier.wait()
                started.extend(syncs.start_due_runs(now=now))
            except Exception as error:  # reported below: a thread's failure fails the test
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=tick) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert sorted(run.integration_job_id for run in started) == sorted(job.pk for job in jobs)
    for job in jobs:
        assert job.runs.count() == 1
        job.refresh_from_db()
        assert job.next_run_at > now
