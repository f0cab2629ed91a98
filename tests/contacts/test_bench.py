import io
import json

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_bench_measures_the_page_bars_on_the_largest_company(tmp_path):
    call_command("seed_demo", stdout=io.StringIO())
    path = tmp_path / "bench.json"

    call_command("bench", runs=2, json_path=str(path), stdout=io.StringIO())

    results = json.loads(path.read_text())
    assert [r["name"] for r in results] == [
        "Account profile, Entire hierarchy, first page",
        "Widget refresh with a search term (htmx)",
        "Type-ahead over all people",
    ]
    assert [r["bar"] for r in results] == ["median ≤ 60 ms", "median ≤ 40 ms", "median ≤ 25 ms"]
    assert all(r["runs"] == 2 and r["median_ms"] > 0 and r["queries"] > 0 for r in results)


@pytest.mark.django_db
def test_bench_without_accounts_says_what_to_run():
    with pytest.raises(CommandError) as error:
        call_command("bench", runs=1)

    assert str(error.value) == "No accounts: run `manage.py seed_demo --size large` first."
