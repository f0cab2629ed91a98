import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from accounts.models import Account, AccountRole, AccountType
from contacts.models import ContactChange, Membership, Person
from integrations.bench.database import BENCH_USERNAME, EMAIL_DOMAIN, PREFIX
from integrations.bench.figures import percentile
from integrations.models import ImportJob, MappingTemplate, UsersExport
from tests.factories import StaffUserFactory

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=io.StringIO())


def database_state():
    """What the bench must leave as it found it."""
    return {
        "accounts": Account.objects.count(),
        "account types": AccountType.objects.count(),
        "roles": AccountRole.objects.count(),
        "people": Person.objects.count(),
        "memberships": Membership.objects.count(),
        "contact changes": ContactChange.objects.count(),
        "staff users": sorted(get_user_model().objects.values_list("username", flat=True)),
        "import jobs": ImportJob.objects.count(),
        "users exports": UsersExport.objects.count(),
        "mapping templates": MappingTemplate.objects.count(),
        "queued tasks": DBTaskResult.objects.count(),
        "stored files": stored_files("integrations"),
    }


def stored_files(folder):
    if not default_storage.exists(folder):
        return []
    folders, files = default_storage.listdir(folder)
    return sorted(
        [f"{folder}/{name}" for name in files]
        + [path for name in folders for path in stored_files(f"{folder}/{name}")]
    )


def assert_nothing_of_the_bench_left(before):
    assert database_state() == before
    assert not Person.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").exists()
    assert not Account.objects.filter(external_id__startswith=f"{PREFIX}-").exists()
    assert not get_user_model().objects.filter(username=BENCH_USERNAME).exists()


def test_bench_measures_the_page_bars_on_the_largest_company(seeded, tmp_path):
    before = database_state()
    path = tmp_path / "bench.json"
    out = io.StringIO()

    call_command("bench", only=["pages"], runs=2, json_path=str(path), stdout=out)

    report = json.loads(path.read_text())
    assert report["data"]["largest_company_accounts"] == 31
    assert [
        (bar["key"], bar["bar"], bar["runs"], bar["queries"], len(bar["urls"]))
        for bar in report["bars"]
    ] == [
        # The account page reads its open "Key contact left" alerts (one query). The demo's
        # largest company has fewer key contacts (17) than a page holds: the page's other
        # contacts come from a second query (KeyContactsFirst).
        ("account_page", "median ≤ 60 ms", 2, 16, 1),
        ("widget_search", "median ≤ 40 ms", 2, 9, 1),
        ("type_ahead", "median ≤ 25 ms", 2, 8, 5),
    ]
    assert "Account profile, Entire hierarchy, first page" in out.getvalue()
    assert_nothing_of_the_bench_left(before)


@pytest.mark.parametrize("tasks", [DATABASE_TASKS, IMMEDIATE_TASKS], ids=["db-worker", "immediate"])
def test_bench_measures_the_import_through_its_jobs_beside_the_others_and_the_export(
    seeded, tmp_path, settings, tasks
):
    settings.TASKS = tasks
    before = database_state()
    path = tmp_path / "bench.json"
    out = io.StringIO()

    call_command(
        "bench",
        only=["import", "export"],
        in_process=True,
        import_runs=2,
        import_rows=120,
        error_rows=3,
        plain_rows=15,
        json_path=str(path),
        stdout=out,
    )

    report = json.loads(path.read_text())
    imported, undone, mapped, exported = report["bars"]
    # Each import undone the way staff undo it, which leaves the data as before the import.
    assert {key: undone[key] for key in ("key", "name", "runs", "deleted", "restored")} == {
        "key": "users_import_undo",
        "name": "Undo of the 120-row users import",
        "runs": 2,
        "deleted": undone["deleted"],
        "restored": 0,
    }
    # The 117 memberships and the people the import created (nine rows in ten a new person).
    assert 117 + 100 <= undone["deleted"] <= 117 + 117
    assert undone["bar"].startswith("≤ the import's time (here ")
    # The same rows, written as another system writes them, read through a saved template.
    assert {key: mapped[key] for key in ("key", "name", "runs", "new", "updated", "failed")} == {
        "key": "users_import_mapped",
        "name": "Users import, 120 rows, through a mapping",
        "runs": 2,
        "new": 117,
        "updated": 0,
        "failed": 3,
    }
    assert mapped["bar"].startswith("≤ 110% of the standard file's (here ")
    assert {key: imported[key] for key in ("key", "name", "runs", "new", "updated", "failed")} == {
        "key": "users_import",
        "name": "Users import, 120 rows, through its jobs",
        "runs": 2,
        "new": 117,
        "updated": 0,
        "failed": 3,
    }
    assert imported["error_file"] is True
    assert imported["median_s"] == pytest.approx(imported["preview_s"] + imported["confirm_s"])
    side = report["import_side_by_side"]
    assert (side["ours"]["rows"], side["ours"]["runs"]) == (120, 2)
    assert {
        variant: (figures["variant"], figures["rows"], figures["written"])
        for variant, figures in side["plain"].items()
    } == {
        "default": ("default", 15, 15),
        "bulk": ("bulk", 15, 15),
        "indexed": ("indexed", 15, 15),
    }
    if connection.vendor == "postgresql":
        assert (side["floor"]["rows"], side["floor"]["runs"], side["floor"]["written"]) == (
            120,
            2,
            117,
        )
    else:
        assert side["floor"] is None  # COPY and ON CONFLICT on an expression: PostgreSQL only
    # Every membership, whatever the import added, was removed again before the export.
    assert exported["name"] == f"Users export, {before['memberships']:,} rows, streamed CSV"
    assert exported["runs"] == 2
    text = out.getvalue()
    assert "Users import of the same 120-row file, side by side" in text
    assert "this project: undo of the import (preview, undo job)" in text
    assert "Undo of the 120-row users import" in text
    assert "django-import-export, bulk + lower(email) lookup" in text
    assert (
        "django-import-export: the 15 people of the file's first rows, rolled back, its time "
        "scaled to the whole file." in text
    )
    assert_nothing_of_the_bench_left(before)


def test_bench_refuses_a_database_with_data_it_did_not_make(seeded):
    StaffUserFactory(username="alice")
    ImportJob.objects.create(kind=ImportJob.Kind.USERS, file_name="users.csv")

    with pytest.raises(CommandError) as error:
        call_command("bench", only=["pages"], runs=1)

    assert str(error.value) == (
        "This database holds data neither seed_demo nor the bench made: 1 staff users other "
        "than seed_demo's and the bench's, 1 import jobs. The bench imports a company into it, "
        "vacuums its tables and loads it for minutes; run it on a database of its own "
        "(`make bench` builds one), or pass --force to run it here anyway."
    )


def test_bench_with_force_runs_and_leaves_what_it_did_not_make(seeded, tmp_path):
    StaffUserFactory(username="alice")
    before = database_state()

    call_command(
        "bench",
        only=["pages"],
        runs=1,
        force=True,
        json_path=str(tmp_path / "bench.json"),
        stdout=io.StringIO(),
    )

    assert_nothing_of_the_bench_left(before)


def test_bench_removes_what_it_made_when_a_measure_fails(seeded, tmp_path, settings):
    settings.TASKS = DATABASE_TASKS
    before = database_state()

    # A users file of no rows: its preview fails, after the company was made.
    with pytest.raises(RuntimeError) as error:
        call_command(
            "bench",
            only=["import"],
            in_process=True,
            import_runs=1,
            import_rows=0,
            error_rows=0,
            json_path=str(tmp_path / "bench.json"),
            stdout=io.StringIO(),
        )

    assert str(error.value) == (
        "The preview ended failed: The file has a header row but no data rows."
    )
    assert_nothing_of_the_bench_left(before)


def test_bench_without_accounts_says_what_to_run(db):
    with pytest.raises(CommandError) as error:
        call_command("bench", runs=1)

    assert str(error.value) == "No accounts: run `manage.py seed_demo --size large` first."


@pytest.mark.parametrize(
    ("values", "expected"),
    [([5], 5), ([1, 2, 3, 4], 4), (list(range(1, 101)), 95), (list(range(100, 0, -1)), 95)],
)
def test_percentile_is_the_nearest_rank(values, expected):
    assert percentile(values, 95) == expected
