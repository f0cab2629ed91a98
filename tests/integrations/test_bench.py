import io
import json
from collections import Counter
from urllib.parse import quote_plus

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from accounts.models import Account, AccountRole, AccountType
from contacts.models import ContactChange, Membership, Person
from integrations.bench import machine, pages
from integrations.bench.database import BENCH_USERNAME, EMAIL_DOMAIN, PREFIX
from integrations.bench.figures import percentile
from integrations.bench.sizes import column_for
from integrations.bench.terms import pick_terms
from integrations.models import ImportJob, MappingTemplate, UsersExport
from tests.factories import AccountFactory, MembershipFactory, PersonFactory, StaffUserFactory

# The type-ahead's queries per term; on PostgreSQL two more, its SET and RESET
# (contacts.queries.found_through_indexes). The term that matches nobody prefetches nothing.
TYPE_AHEAD_QUERIES = [q + 2 * (connection.vendor == "postgresql") for q in (7, 7, 7, 7, 7, 6)]

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def quick_machine_reference(monkeypatch):
    """The machine's reference measured as in the bench, on a loop and a COPY sized for a test."""
    monkeypatch.setattr(machine, "CPU_LOOP_STEPS", 10_000)
    monkeypatch.setattr(machine, "COPY_FLOOR_ROWS", 1_000)


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


def run_bench(**options):
    """`manage.py bench` with `options`; returns what it printed."""
    out = io.StringIO()
    call_command("bench", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


PAGE_KEYS = [
    "account_page",
    "widget_search",
    "widget_sort_role",
    "widget_sort_email",
    "type_ahead",
    "people_list",
    "people_list_sort_email",
]


def test_bench_measures_the_page_bars_on_the_largest_company(seeded, tmp_path):
    before = database_state()
    path = tmp_path / "bench-results-large.json"

    text = run_bench(only=["pages"], runs=6, json_path=str(path))

    report = json.loads(path.read_text())
    company = Account.objects.get(name=report["data"]["largest_company"])
    assert report["data"]["largest_company_accounts"] == 31
    assert [
        (bar["key"], bar["under"], bar["bar"], bar["runs"], bar["queries_each"])
        for bar in report["bars"]
    ] == [
        # The account page reads its open "Key contact left" alerts (one query), and its
        # Entire hierarchy a page of ids from the contacts' search table, then their rows.
        ("account_page", None, "median ≤ 30 ms", 6, [14]),
        ("widget_search", None, "median ≤ 40 ms", 6, [8]),
        ("widget_sort_role", "widget_search", "median ≤ 40 ms", 6, [11]),
        ("widget_sort_email", "widget_search", "median ≤ 40 ms", 6, [8]),
        # Six terms; the one that matches nobody has no accounts to prefetch.
        ("type_ahead", None, "median ≤ 25 ms; p95 ≤ 50 ms", 6, TYPE_AHEAD_QUERIES),
        # Contacts only, a search, an account with its whole hierarchy (which reads it).
        ("people_list", None, "median ≤ 100 ms", 6, [9, 9, 10]),
        ("people_list_sort_email", "people_list", "median ≤ 100 ms", 6, [9, 9, 10]),
    ]
    common = report["terms"]["common_last_name"]["term"]
    profile = company.get_absolute_url()
    urls = {bar["key"]: bar["urls"] for bar in report["bars"]}
    # The term as a URL carries it (names are not all ASCII: "Preiß").
    common = quote_plus(common)
    assert urls["widget_search"] == [f"{profile}?view=hierarchy&q={common}"]
    assert urls["widget_sort_role"] == [f"{profile}?view=hierarchy&sort=role"]
    assert urls["people_list"] == [
        "/people/?contact=yes",
        f"/people/?q={common}",
        f"/people/?account={company.external_id}&scope=hierarchy",
    ]
    assert urls["people_list_sort_email"] == [f"{url}&sort=email" for url in urls["people_list"]]
    for bar in report["bars"]:
        # Each request's time in SQL is part of its whole time.
        assert 0 < bar["sql_median_ms"] <= bar["median_ms"] <= bar["p95_ms"]
        assert bar["sql_share"] == pytest.approx(bar["sql_median_ms"] / bar["median_ms"])
        assert bar["holds"] == all(condition["holds"] for condition in bar["conditions"])
        assert bar["median_cpu_loops"] > 0
    # The URLs taken in turn are reported one by one too.
    assert [url["url"] for url in urls_of(report, "people_list")] == urls["people_list"]
    assert "each_url" not in next(bar for bar in report["bars"] if bar["key"] == "account_page")
    assert "Account profile, Entire hierarchy, first page" in text
    assert "  the widget sorted by Role" in text
    assert "median ≤ 25 ms: " in text and "; p95 ≤ 50 ms: " in text
    assert "SQL: the median time per request spent in queries" in text
    assert "The URLs of a line, taken in turn (median, SQL median, queries):" in text
    assert_nothing_of_the_bench_left(before)


def urls_of(report, key):
    return next(bar for bar in report["bars"] if bar["key"] == key)["each_url"]


def test_bench_measures_the_machine_at_the_start_and_the_end(seeded, tmp_path):
    path = tmp_path / "bench.json"

    text = run_bench(only=["pages"], runs=1, json_path=str(path))

    report = json.loads(path.read_text())
    figures = report["machine"]
    assert (figures["cpu_loop_steps"], figures["copy_floor_rows"]) == (10_000, 1_000)
    for when in ("start", "end"):
        assert figures[when]["cpu_loop_ms"] > 0
        if connection.vendor == "postgresql":
            assert figures[when]["copy_floor_ms"] > 0
        else:
            assert figures[when]["copy_floor_ms"] is None
    lines = text.splitlines()
    assert lines[0].startswith("Machine: CPU loop (pure Python, 10,000 steps, median of 5) ")
    assert lines[0].endswith(" ms at the end.")
    if connection.vendor == "postgresql":
        assert lines[1].startswith(
            "COPY floor (1,000 rows COPY + INSERT … ON CONFLICT, rolled back, median of 3) "
        )
    else:
        assert lines[1] == (
            "COPY floor: not measured (COPY and ON CONFLICT on an expression need PostgreSQL)."
        )
    assert report["started_at"] <= report["finished_at"]


def test_the_copy_floor_leaves_nothing_behind(db):
    machine.copy_floor_ms()

    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert not [table for table in tables if table.startswith("bench_machine")]


def test_the_sql_timer_counts_executing_and_fetching(db):
    PersonFactory.create_batch(3)
    timer = pages.SqlTimer()

    with connection.execute_wrapper(timer), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM contacts_person")
        executed = timer.seconds
        rows = cursor.fetchall()
        fetched = timer.seconds
        people = list(Person.objects.all())

    assert (len(rows), len(people)) == (3, 3)
    assert 0 < executed < fetched < timer.seconds


def test_bench_picks_its_search_terms_from_the_data(seeded, tmp_path):
    path = tmp_path / "bench.json"

    text = run_bench(only=["pages"], runs=1, json_path=str(path))

    report = json.loads(path.read_text())
    company = Account.objects.get(name=report["data"]["largest_company"])
    in_company = Person.objects.filter(memberships__account__tree_id=company.tree_id).distinct()
    counts = Counter(in_company.values_list("last_name", flat=True))
    most_common = max(counts.values())
    terms = report["terms"]
    assert counts[terms["common_last_name"]["term"]] == most_common
    assert [(term["what"], term["people"]) for term in terms["type_ahead"]] == [
        (term["what"], Person.objects.matching(term["term"]).count())
        for term in terms["type_ahead"]
    ]
    assert [term["what"] for term in terms["type_ahead"]] == [
        "the most common last name",
        "a rare last name",
        "a common 3-letter first-name prefix",
        'someone\'s "first last"',
        "an e-mail before the @",
        "a term that matches nobody",
    ]
    common, rare, prefix, full_name, email, nobody = (t["term"] for t in terms["type_ahead"])
    assert common == terms["common_last_name"]["term"]
    assert counts[rare] < most_common
    assert len(prefix) == 3 and in_company.filter(first_name__istartswith=prefix).exists()
    first, last = full_name.rsplit(" ", 1)
    assert in_company.filter(first_name=first, last_name=last).exists()
    assert in_company.filter(email__istartswith=f"{email}@").exists()
    assert (nobody, terms["type_ahead"][-1]["people"]) == ("zzqx", 0)
    assert (
        f"  widget search, People list: “{common}”, the most common last name: "
        f"{terms['common_last_name']['people']:,}"
    ) in text
    assert "  type-ahead: “zzqx”, a term that matches nobody: 0" in text


def test_search_terms_from_names_with_spaces_accents_and_quotes(db):
    company = AccountFactory(name="Oddly Named")
    for first, last, count in [
        ("José", "van der Berg", 3),
        ("Zoë", "O'Brien-García", 1),
        ("Al", "Ng", 1),
        ("Amélie", "Smith & Sons", 2),
    ]:
        for n in range(count):
            MembershipFactory(
                account=company,
                person=PersonFactory(
                    first_name=first, last_name=last, email=f"{first}.{n}@odd.example"
                ),
            )

    terms = pick_terms(company)

    assert [(term.what, term.text, term.people) for term in terms.type_ahead] == [
        ("the most common last name", "van der Berg", 3),
        # The rarest of at least four letters ("Ng" would be in many other names).
        ("a rare last name", "O'Brien-García", 1),
        # José's three and Amélie's two start with "jos" and "amé".
        ("a common 3-letter first-name prefix", "jos", 3),
        ('someone\'s "first last"', "José van der Berg", 3),
        ("an e-mail before the @", "Amélie.1", 1),
        ("a term that matches nobody", "zzqx", 0),
    ]


def test_bench_runs_on_names_that_need_quoting_in_urls(db, tmp_path):
    company = AccountFactory(name="Smith & Sons")
    for n in range(3):
        MembershipFactory(
            account=company,
            is_contact=True,
            person=PersonFactory(
                first_name="Zoë", last_name="O'Brien & Co", email=f"z{n}@x.example"
            ),
        )
    path = tmp_path / "bench.json"

    run_bench(only=["pages"], runs=1, json_path=str(path))

    report = json.loads(path.read_text())
    assert report["terms"]["common_last_name"]["term"] == "O'Brien & Co"
    assert report["terms"]["common_last_name"]["people"] == 3
    people_list = next(bar for bar in report["bars"] if bar["key"] == "people_list")
    assert people_list["urls"][1] == "/people/?q=O%27Brien+%26+Co"


def test_search_terms_of_a_company_without_people_come_from_everyone(db):
    company = AccountFactory()
    MembershipFactory(person=PersonFactory(first_name="Ada", last_name="Lovelace"))

    terms = pick_terms(company)

    assert terms.common_last_name.text == "Lovelace"
    assert terms.type_ahead[0] == terms.common_last_name


def test_search_terms_without_people_are_a_term_that_matches_nobody(db):
    terms = pick_terms(AccountFactory())

    assert [(term.text, term.people) for term in terms.type_ahead] == [("zzqx", 0)]
    assert terms.common_last_name.text == "zzqx"


@pytest.mark.parametrize(
    ("size", "people", "expected"),
    [
        (None, 500_153, "large"),
        (None, 1_999_999, "large"),
        (None, 2_000_000, "xlarge"),
        ("large", 5_000_000, "large"),
        ("xlarge", 10, "xlarge"),
    ],
)
def test_the_size_is_the_one_given_else_the_datas(size, people, expected):
    assert column_for(size, people).name == expected


def test_bench_at_xlarge_applies_that_columns_bars_and_writes_its_own_json(
    seeded, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)

    run_bench(only=["pages"], runs=1, size="xlarge")

    report = json.loads((tmp_path / "bench-results-xlarge.json").read_text())
    assert (report["size"], report["size_from"]) == ("xlarge", "--size")
    assert {bar["key"]: bar["bar"] for bar in report["bars"]} == {
        "account_page": "median ≤ 60 ms",
        "widget_search": "median ≤ 40 ms",
        "widget_sort_role": "median ≤ 40 ms",
        "widget_sort_email": "median ≤ 40 ms",
        "type_ahead": "median ≤ 25 ms; p95 ≤ 50 ms",
        "people_list": "median ≤ 100 ms",
        "people_list_sort_email": "median ≤ 100 ms",
    }
    assert not (tmp_path / "bench-results-large.json").exists()


def test_bench_chooses_the_size_from_the_data_and_names_its_json_after_it(
    seeded, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    people = Person.objects.count()

    text = run_bench(only=["pages"], runs=1)

    report = json.loads((tmp_path / "bench-results-large.json").read_text())
    assert report["size_from"] == f"from the data: {people:,} people, xlarge from 2,000,000"
    assert f"Size: large (from the data: {people:,} people, xlarge from 2,000,000)." in text


def test_bench_compares_its_query_counts_with_the_other_sizes_json(seeded, tmp_path):
    here, other = tmp_path / "bench-results-large.json", tmp_path / "bench-results-xlarge.json"
    text = run_bench(only=["pages"], runs=1, json_path=str(here))
    assert json.loads(here.read_text())["query_counts"] is None
    assert "SQL queries per request against" not in text
    # The other size's run: one more query on the widget's search, no People list.
    earlier = json.loads(here.read_text())
    earlier["size"], earlier["finished_at"] = "xlarge", "2026-12-01T10:00:00+00:00"
    for bar in earlier["bars"]:
        if bar["key"] == "widget_search":
            bar["queries_each"] = [bar["queries"] + 1]
    earlier["bars"] = [bar for bar in earlier["bars"] if not bar["key"].startswith("people")]
    other.write_text(json.dumps(earlier))

    text = run_bench(only=["pages"], runs=1, json_path=str(here))

    counts = json.loads(here.read_text())["query_counts"]
    assert (counts["file"], counts["size"]) == (str(other), "xlarge")
    assert [(page["key"], page["same"]) for page in counts["pages"]] == [
        ("account_page", True),
        ("widget_search", False),
        ("widget_sort_role", True),
        ("widget_sort_email", True),
        ("type_ahead", True),
        ("people_list", None),
        ("people_list_sort_email", None),
    ]
    assert (
        f"SQL queries per request against {other} (xlarge, 2026-12-01T10:00:00+00:00), each "
        "URL of the line in turn:"
    ) in text
    same = ", ".join(map(str, TYPE_AHEAD_QUERIES))
    assert f"  {'Type-ahead over all people, 6 terms':<48} same: {same}" in text
    widget = next(line for line in text.splitlines() if line.startswith("  Widget refresh"))
    assert widget.endswith("DIFFERENT: 8 here, 9 at xlarge (-1)")
    assert f"  {'People list, first page, 3 filters':<48} 9, 9, 10; not measured there" in text


def test_bench_says_so_when_the_other_sizes_json_is_not_a_report(seeded, tmp_path):
    other = tmp_path / "elsewhere.json"
    other.write_text("[1, 2")

    text = run_bench(
        only=["pages"], runs=1, json_path=str(tmp_path / "out.json"), compare_with=str(other)
    )

    assert f"Query counts: {other} is not a bench report; nothing compared." in text


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


def test_bench_at_xlarge_measures_only_that_columns_import_and_export_bars(seeded, tmp_path):
    before = database_state()
    path = tmp_path / "bench-results-xlarge.json"
    # The other size's pages: nothing to compare with a run that measured none.
    (tmp_path / "bench-results-large.json").write_text(
        json.dumps({"size": "large", "bars": [{"key": "account_page", "queries": 15}]})
    )

    text = run_bench(
        size="xlarge",
        only=["import", "export"],
        in_process=True,
        import_runs=1,
        import_rows=120,
        error_rows=3,
        json_path=str(path),
    )

    report = json.loads(path.read_text())
    imported, undone, mapped, exported = report["bars"]
    on_postgresql = connection.vendor == "postgresql"
    assert [condition["what"] for condition in imported["conditions"]] == [
        "≤ 120 s",
        "peak memory ≤ 1,024 MB",
        f"≤ 2× the COPY floor (here {imported['over_floor']:.1f}×)"
        if on_postgresql
        else "≤ 2× the COPY floor",
    ]
    # No floor on SQLite: that condition is not measured, the others are.
    assert (imported["conditions"][2]["holds"] is None) is not on_postgresql
    assert imported["conditions"][0]["holds"] is not None
    # The undo and the mapped file have no bar in this column: listed, not measured.
    assert [(bar["key"], bar["bar"], bar["holds"], bar["why"]) for bar in (undone, mapped)] == [
        ("users_import_undo", "—", None, "no such bar at xlarge"),
        ("users_import_mapped", "—", None, "no such bar at xlarge"),
    ]
    assert "median_s" not in undone and "median_s" not in mapped
    assert exported["bar"].startswith("streamed; ≤ 120 s (6,000,000 rows); memory flat (here ")
    side = report["import_side_by_side"]
    assert (side["plain"], side["undo_s"]) == ({}, None)
    assert (
        "django-import-export: not run (not at xlarge: the default set-up reads the whole people "
        "table for each row; --plain-rows N runs them)." in text
    )
    assert "Undo of the 120-row users import" in text
    assert "this project: undo of the import" not in text
    assert report["query_counts"] is None
    assert "SQL queries per request against" not in text
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


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--runs", "0", "argument --runs: a whole number of at least 1, not '0'"),
        ("--import-runs", "-2", "argument --import-runs: a whole number of at least 1, not '-2'"),
        (
            "--import-rows",
            "many",
            "argument --import-rows: a whole number of at least 0, not 'many'",
        ),
        (
            "--size",
            "huge",
            "argument --size: invalid choice: 'huge' (choose from 'large', 'xlarge')",
        ),
    ],
)
def test_bench_refuses_bad_options_saying_why(db, option, value, message):
    with pytest.raises(CommandError) as error:
        call_command("bench", option, value)

    assert str(error.value).endswith(message)
    assert not get_user_model().objects.filter(username=BENCH_USERNAME).exists()
