import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Account
from contacts.benchmarks import percentile
from contacts.models import Membership, Person
from integrations.benchmarks import EMAIL_DOMAIN, PREFIX
from integrations.models import UsersExport


@pytest.mark.django_db
def test_bench_measures_the_page_bars_on_the_largest_company(tmp_path):
    call_command("seed_demo", stdout=io.StringIO())
    path = tmp_path / "bench.json"
    out = io.StringIO()

    call_command("bench", only=["pages"], runs=2, json_path=str(path), stdout=out)

    report = json.loads(path.read_text())
    assert report["data"]["largest_company_accounts"] > 1
    assert [bar["key"] for bar in report["bars"]] == ["account_page", "widget_search", "type_ahead"]
    assert [bar["bar"] for bar in report["bars"]] == [
        "median ≤ 60 ms",
        "median ≤ 40 ms",
        "median ≤ 25 ms",
    ]
    assert all(
        bar["runs"] == 2 and bar["median_ms"] > 0 and bar["queries"] > 0 for bar in report["bars"]
    )
    assert "Account profile, Entire hierarchy, first page" in out.getvalue()


@pytest.mark.django_db
def test_bench_measures_the_import_beside_plain_import_export_and_the_export(tmp_path):
    call_command("seed_demo", stdout=io.StringIO())
    people, memberships = Person.objects.count(), Membership.objects.count()
    path = tmp_path / "bench.json"
    out = io.StringIO()

    call_command(
        "bench",
        only=["import", "export"],
        in_process=True,
        import_runs=1,
        import_rows=120,
        plain_rows=15,
        json_path=str(path),
        stdout=out,
    )

    report = json.loads(path.read_text())
    imported, exported = report["bars"]
    assert imported["key"] == "users_import"
    assert imported["preview_s"] > 0 and imported["commit_s"] > 0
    assert imported["peak_rss_mb"] > 0
    side = report["import_side_by_side"]
    assert side["ours"]["rows"] == 120
    assert side["plain"]["rows"] == 15
    assert side["plain"]["scaled_seconds"] > side["plain"]["seconds"]
    if connection.vendor == "postgresql":
        assert side["floor"]["rows"] == 120 and side["ours_over_floor"] > 0
    else:
        assert side["floor"] is None  # COPY and ON CONFLICT on an expression: PostgreSQL only
    # Every membership, whatever the import added, was removed again before the export.
    assert exported["key"] == "users_export"
    assert exported["name"] == f"Users export, {memberships:,} rows, streamed CSV"
    assert "Users import of the same 120-row file, side by side" in out.getvalue()
    # The bench leaves the database as it found it.
    assert not Person.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").exists()
    assert not Account.objects.filter(external_id__startswith=f"{PREFIX}-").exists()
    assert (Person.objects.count(), Membership.objects.count()) == (people, memberships)
    assert not UsersExport.objects.exists()


@pytest.mark.django_db
def test_bench_without_accounts_says_what_to_run():
    with pytest.raises(CommandError) as error:
        call_command("bench", runs=1)

    assert str(error.value) == "No accounts: run `manage.py seed_demo --size large` first."


@pytest.mark.parametrize(
    ("values", "expected"),
    [([5], 5), ([1, 2, 3, 4], 4), (list(range(1, 101)), 95), (list(range(100, 0, -1)), 95)],
)
def test_percentile_is_the_nearest_rank(values, expected):
    assert percentile(values, 95) == expected
