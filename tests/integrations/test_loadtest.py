"""The load test's tooling (`make loadtest`), without a load run: the simulated team's steps, the
report and its bars from sample statistics, and what `manage.py loadtest` prepares and removes."""

import ast
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from config import staff
from contacts.models import ContactChange, Membership, Person
from integrations.bench import load_report, loadtest
from integrations.bench.load_report import PAGE, STEPS, TYPE_AHEAD, UNBARRED
from integrations.models import ImportJob, UsersExport
from tests.factories import ContactChangeFactory, MembershipFactory, PersonFactory

BASE_DIR = Path(__file__).resolve().parents[2]
LOCUSTFILE = BASE_DIR / "integrations" / "bench" / "locustfile.py"

# The simulated team's tasks and their weights: mostly reads.
TEAM = {
    "open_account": 8,
    "open_largest_company": 3,
    "browse_accounts_tree": 2,
    "widget_view": 6,
    "widget_roles": 3,
    "widget_search": 6,
    "type_ahead": 5,
    "add_contact": 2,
    "edit_contact": 2,
    "download_segment": 2,
    "preview_upload": 1,
}
WRITES = {"add_contact", "edit_contact", "preview_upload"}


# The locustfile


def test_locustfile_task_set_is_the_team_of_the_brief():
    # Importing locust patches the standard library for gevent: never in the test process.
    script = (
        "import collections, json\n"
        "from integrations.bench.locustfile import CustomerSuccessStaff as staff\n"
        "weights = collections.Counter(task.__name__ for task in staff.tasks)\n"
        "print(json.dumps({'tasks': weights, 'wait': [staff.wait_time(None) for _ in range(200)]}))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    run = json.loads(found.stdout.splitlines()[-1])

    assert run["tasks"] == TEAM
    assert all(2 <= wait <= 8 for wait in run["wait"])


def test_team_mostly_reads():
    reads = sum(weight for task, weight in TEAM.items() if task not in WRITES)

    assert reads / sum(TEAM.values()) == 35 / 40


def test_locustfile_names_every_request_by_a_step_and_uses_every_step():
    tree = ast.parse(LOCUSTFILE.read_text())
    quoted = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }

    assert set(STEPS) <= quoted
    assert {"sign in", "type-ahead", "widget: search", "upload: cancel"} <= set(STEPS)


def test_each_step_has_one_bar():
    bars = {name: step.bar for name, step in STEPS.items()}

    assert bars["type-ahead"] == TYPE_AHEAD
    assert [name for name, bar in bars.items() if bar == UNBARRED] == ["sign in"]
    assert STEPS["sign in"].why.startswith("password hashing")
    assert {bar for name, bar in bars.items() if name not in {"type-ahead", "sign in"}} == {PAGE}


# The report and its bars, from locust's statistics

STATS_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def stats_csv(tmp_path, rows):
    """A locust *_stats.csv of (name, requests, failures, requests/s, p50, p95, p99) rows, with
    its Aggregated line."""
    path = tmp_path / "stats_stats.csv"
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(STATS_HEADER.split(","))
        for name, count, failures, per_s, p50, p95, p99 in rows:
            percentiles = [p50, p50, p50, p95, p95, p95, p95, p99, p99, p99, p99]
            writer.writerow(
                ["GET", name, count, failures, p50, p50, 1, p99, 900, per_s, 0, *percentiles]
            )
        writer.writerow(["", "Aggregated", 0, 0, 0, 0, 0, 0, 0, 0, 0, *["N/A"] * 11])
    return path


GOOD_RUN = [
    ("sign in", 50, 0, 0.3, 900, 2900, 3100),
    ("account page", 1200, 0, 6.7, 60, 240, 410),
    ("type-ahead", 900, 0, 5.0, 25, 180, 260),
    ("widget: search", 800, 0, 4.4, 70, 500, 700),
]


def checks(tmp_path, rows, users=50):
    figures = load_report.read_stats(stats_csv(tmp_path, rows))
    return [
        (check.what, check.figure, check.passed)
        for check in load_report.check_bars(figures, users=users)
    ]


def test_bars_pass_at_their_limits_and_sign_in_has_none(tmp_path):
    assert checks(tmp_path, GOOD_RUN) == [
        ("50 simulated users", "50", True),
        ("0 errors", "0", True),
        ("p95 ≤ 500 ms for pages", "500 ms (widget: search)", True),
        ("p95 ≤ 200 ms for the type-ahead", "180 ms (type-ahead)", True),
    ]


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        ({"account page": ("account page", 1200, 0, 6.7, 60, 510, 900)}, "p95 ≤ 500 ms for pages"),
        (
            {"type-ahead": ("type-ahead", 900, 0, 5.0, 25, 210, 260)},
            "p95 ≤ 200 ms for the type-ahead",
        ),
        ({"widget: search": ("widget: search", 800, 1, 4.4, 70, 90, 700)}, "0 errors"),
    ],
)
def test_a_bar_crossed_fails_alone(tmp_path, change, failed):
    rows = [change.get(row[0], row) for row in GOOD_RUN]

    assert [what for what, _, passed in checks(tmp_path, rows) if not passed] == [failed]


def test_fewer_users_than_the_bar_fail(tmp_path):
    assert checks(tmp_path, GOOD_RUN, users=49)[0] == ("50 simulated users", "49", False)


def test_a_step_without_a_successful_request_fails_its_bar(tmp_path):
    path = stats_csv(tmp_path, GOOD_RUN)
    text = path.read_text().replace(
        "GET,account page,1200,0,60,60,1,410,900,6.7,0,60,60,60,240,240,240,240,410,410,410,410",
        "GET,account page,3,3,0,0,0,0,0,0.1,0.1,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A",
    )
    path.write_text(text)

    found = load_report.check_bars(load_report.read_stats(path), users=50)

    assert [(c.what, c.figure, c.passed) for c in found if not c.passed] == [
        ("0 errors", "3", False),
        ("p95 ≤ 500 ms for pages", "nan ms (account page)", False),
    ]


def test_an_unknown_step_fails(tmp_path):
    rows = [*GOOD_RUN, ("GET /somewhere", 5, 0, 0.1, 10, 10, 10)]

    assert checks(tmp_path, rows)[-1] == ("every step has a bar", "GET /somewhere", False)


def test_report_prints_the_table_and_exits_1_on_a_fail(tmp_path, capsys):
    path = stats_csv(tmp_path, [*GOOD_RUN[:2], ("type-ahead", 900, 0, 5.0, 25, 210, 260)])
    failures = tmp_path / "stats_failures.csv"
    failures.write_text("Method,Name,Error,Occurrences\n")
    output = tmp_path / "loadtest-results.md"

    status = load_report.main(
        [str(path), "--users", "50", "--failures-csv", str(failures), "--output", str(output)]
    )

    printed = capsys.readouterr().out
    assert status == 1
    assert printed == output.read_text()
    assert printed.splitlines() == [
        "| step | requests | req/s | p50 ms | p95 ms | p99 ms | errors | bar |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
        "| sign in | 50 | 0.3 | 900 | 2900 | 3100 | 0 | none: password hashing, slow on "
        "purpose; once per staff user, during the ramp-up |",
        "| account page | 1,200 | 6.7 | 60 | 240 | 410 | 0 | p95 ≤ 500 ms |",
        "| type-ahead | 900 | 5.0 | 25 | 210 | 260 | 0 | p95 ≤ 200 ms |",
        "| **all** | 2,150 | 12.0 | | | | 0 | |",
        "",
        "PASS  50 simulated users: 50",
        "PASS  0 errors: 0",
        "PASS  p95 ≤ 500 ms for pages: 240 ms (account page)",
        "FAIL  p95 ≤ 200 ms for the type-ahead: 210 ms (type-ahead)",
        "",
    ]


def test_report_lists_the_errors_and_exits_0_when_every_bar_holds(tmp_path, capsys):
    failures = tmp_path / "stats_failures.csv"
    failures.write_text(
        "Method,Name,Error,Occurrences\nGET,widget: view,\"CatchResponseError('answered 302, "
        "not 200')\",2\n"
    )

    status = load_report.main(
        [str(stats_csv(tmp_path, GOOD_RUN)), "--users", "60", "--failures-csv", str(failures)]
    )

    assert status == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "2× widget: view: CatchResponseError('answered 302, not 200')"
    )


# What manage.py loadtest prepares and removes


def test_prepare_refuses_a_database_without_the_large_data_set(tree, tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("loadtest", "prepare", "--folder", str(tmp_path))

    assert str(refused.value) == (
        "This database holds 11 accounts and 0 people, not the large data set (about 10,000 "
        "accounts and 500,000 people) the load test is meant for. Build it with `make bench` (a "
        "fresh database uc_bench, then the SPEC §7 measures), or with `python manage.py "
        "seed_demo --size large` on an empty PostgreSQL database."
    )
    assert not get_user_model().objects.filter(username__startswith="loadtest-").exists()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def small_set_counts_as_large(monkeypatch):
    monkeypatch.setattr(loadtest, "LARGE_SET_ACCOUNTS", 1)
    monkeypatch.setattr(loadtest, "LARGE_SET_PEOPLE", 0)
    monkeypatch.setattr(loadtest, "SAMPLED_ACCOUNTS", 3)


def test_prepare_makes_staff_users_who_sign_in_and_writes_the_targets(
    tree, roles, account_types, tmp_path, small_set_counts_as_large
):
    MembershipFactory(account=tree["paris"])

    call_command("loadtest", "prepare", "--staff-users", "3", "--folder", str(tmp_path))

    targets = json.loads((tmp_path / "targets.json").read_text())
    assert targets["staff_users"] == ["loadtest-001", "loadtest-002", "loadtest-003"]
    for username in targets["staff_users"]:
        client = Client()
        assert client.post("/sign-in/", {"username": username, "password": targets["password"]})[
            "Location"
        ] == ("/accounts/")
        assert client.get("/integrations/").status_code == 200
    assert get_user_model().objects.get(username="loadtest-002").groups.get().name == (
        staff.ADVANCED
    )
    corp = tree["corp"]
    assert targets["largest"] == {
        "pk": corp.pk,
        "external_id": "CORP",
        "views": [
            "this",
            "children",
            "descendants",
            "subtree",
            # "All <type> accounts", for each type of the company, in order.
            *(f"type-{account_type.pk}" for account_type in account_types.values()),
            "hierarchy",
        ],
        "roles": sorted(role.pk for role in roles.values()),
        "own_roles": sorted(
            role.pk for (type_name, _), role in roles.items() if type_name == "Corporate"
        ),
    }
    assert len(targets["accounts"]) == 3
    # The search terms are the data sets' most common names (contacts.seeding.names).
    assert {"smith", "david"} <= set(targets["names"])
    with Path(targets["users_file"]).open(newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == [
        "Account ID",
        "Email",
        "First Name",
        "Last Name",
        "Title",
        "Phone",
        "Account Role",
        "Contact",
        "Key Contact",
        "Status",
        "Start Date",
        "End Date",
    ]
    assert len(rows) == 1 + loadtest.UPLOAD_ROWS
    assert {row[0] for row in rows[1:]} <= {a["external_id"] for a in targets["accounts"]}
    assert all(row[1].endswith("@loadtest.example") for row in rows[1:])


def test_prepare_that_fails_midway_leaves_no_staff_users(tree, tmp_path, small_set_counts_as_large):
    # The users file cannot be written: its name is taken by a folder.
    (tmp_path / "users.csv").mkdir()

    with pytest.raises(IsADirectoryError):
        loadtest.prepare(staff_users=2, folder=tmp_path)

    assert not get_user_model().objects.filter(username__startswith="loadtest-").exists()


def test_clean_up_removes_what_a_run_made_and_nothing_else(tree, staff_user):
    kept = MembershipFactory(account=tree["paris"])
    kept_change = ContactChangeFactory(membership=kept, staff_user=staff_user)
    runner = get_user_model().objects.create(username="loadtest-001")
    added = MembershipFactory(
        account=tree["paris"], person=PersonFactory(email="load1.x@loadtest.example")
    )
    ContactChangeFactory(membership=added, staff_user=runner)
    ImportJob.objects.create(
        kind=ImportJob.Kind.USERS, file_name="users.csv", file_size=10, staff_user=runner
    )
    UsersExport.objects.create(staff_user=runner)
    kept_export = UsersExport.objects.create(staff_user=staff_user)

    call_command("loadtest", "clean-up", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert list(Person.objects.all()) == [kept.person]
    assert list(Membership.objects.all()) == [kept]
    assert list(ContactChange.objects.all()) == [kept_change]
    assert ImportJob.objects.count() == 0
    assert list(UsersExport.objects.all()) == [kept_export]
    assert list(get_user_model().objects.values_list("username", flat=True)) == [
        staff_user.username
    ]
