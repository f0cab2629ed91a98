"""The commands of SPEC §4.4: import_users, import_accounts, export_users; their summaries,
errors grouped by cause with line numbers, the error file's path, and exit codes (0 done, 1 the
file has errors and nothing was written, 2 bad usage, 3 rows with errors skipped)."""

import csv
import io
import os
import shlex
import sqlite3
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from contacts.models import ContactChange, DownloadRecord, Membership, Person, Segment
from integrations.files import FileProblem
from integrations.management.commands.import_users import Command as ImportUsers
from integrations.models import ImportJob, UsersExport
from integrations.resources import FileImportResult, UsersResource
from tests.factories import MembershipFactory, PersonFactory, StaffUserFactory
from tests.integrations.conftest import (
    PATHOLOGICAL_FILES,
    USERS_HEADER,
    accounts_csv,
    exit_code,
    memberships,
    run,
    snapshot,
    users_csv,
)

GOOD = users_csv(
    "BERLIN,grace@navy.example,Grace,Hopper,,,End user,yes,", "PARIS,ada@customer.example,,,,,,,"
)
BAD = users_csv(
    "BERLIN,grace@navy.example,Grace,Hopper,,,End user,yes,",
    "NOPE,alan@example.com,Alan,Turing,,,,Yes,",
)


@pytest.fixture
def disk_storage(settings, tmp_path):
    """Files stored on disk, as in production, where the tests' default keeps them in memory:
    the commands print the error file's path on disk."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


def error_file_line(job):
    return f"Error file, with every failed row and its errors: {job.error_file.path}"


def error_file_rows(job):
    """The rows of the error file at the path the command printed."""
    with open(job.error_file.path, encoding="utf-8", newline="") as error_file:
        return list(csv.reader(error_file))


NOPE = "No account has the Account ID “NOPE”."


@pytest.fixture
def write(tmp_path):
    def write(text, name="people.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


# import_users


@pytest.mark.django_db
def test_import_users_prints_a_summary_and_imports(write, ada):
    lines, (code, _) = run("import_users", write(GOOD))

    assert code == 0
    assert lines == ["Users file people.csv: 1 new, 0 updated, 1 unchanged, 0 failed."]
    assert ("grace@navy.example", "BERLIN", "End user", True, False) in memberships()
    job = ImportJob.objects.get()
    assert (job.kind, job.file_name, job.status, job.staff_user, job.new_rows) == (
        "users",
        "people.csv",
        ImportJob.Status.SUCCEEDED,
        None,
        1,
    )
    assert set(ContactChange.objects.values_list("source", "staff_user")) == {("import", None)}


@pytest.mark.django_db
def test_import_users_with_errors_lists_them_imports_nothing_and_exits_1(write, ada, disk_storage):
    before = snapshot()

    lines, (code, message) = run("import_users", write(BAD))

    job = ImportJob.objects.get()
    assert code == 1
    assert lines == [
        "Users file people.csv: 1 new, 0 updated, 0 unchanged, 1 failed.",
        "Errors:",
        "  Line 3, Account ID: No account has the Account ID “NOPE”.",
        "  Line 3, Contact: “Yes” is not accepted: write yes or no (in lowercase), or leave it "
        "blank.",
        error_file_line(job),
    ]
    assert message == "The file has 1 row(s) with errors: nothing was imported (all or nothing)."
    assert snapshot() == {**before, "accounts": before["accounts"]}
    assert job.status == ImportJob.Status.FAILED


@pytest.mark.django_db
def test_import_users_skip_errors_imports_the_valid_rows_and_exits_3(write, ada):
    _lines, (code, message) = run("import_users", write(BAD), "--skip-errors")

    assert code == 3
    assert message == (
        "The file has 1 row(s) with errors: they were skipped, the valid rows were imported."
    )
    assert ("grace@navy.example", "BERLIN", "End user", True, False) in memberships()
    assert ImportJob.objects.get().status == ImportJob.Status.SUCCEEDED


@pytest.mark.django_db
def test_import_users_dry_run_writes_nothing(write, ada):
    before = snapshot()

    lines, (code, _) = run("import_users", write(GOOD), "--dry-run")

    assert code == 0
    assert lines == [
        "Users file people.csv: 1 new, 0 updated, 1 unchanged, 0 failed.",
        "Dry run: nothing was written.",
    ]
    assert snapshot() == before
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
def test_import_users_of_a_file_that_is_not_a_table_exits_1(write, tree):
    lines, (code, message) = run("import_users", write("Name,Mail\nAda,ada@example.com\n"))

    assert (lines, code) == ([], 1)
    assert message == (
        "Users file people.csv: This users file has no Account ID and Email columns. Its header "
        "row (line 1) must name Account ID and Email; it has: Name, Mail."
    )


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry run"])
@pytest.mark.parametrize("case", list(PATHOLOGICAL_FILES))
def test_import_users_of_a_file_built_to_overload_the_reader_exits_1_with_why(
    tmp_path, tree, small_limits, case, dry_run
):
    name, content, message = PATHOLOGICAL_FILES[case]()
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot()

    lines, (code, error) = run("import_users", str(path), *(["--dry-run"] if dry_run else []))

    assert (lines, code, error) == ([], 1, f"Users file {name}: {message}")
    assert snapshot() == before


@pytest.mark.django_db
def test_import_users_of_twenty_million_empty_lines_exits_1_after_the_first_million(tmp_path, tree):
    path = tmp_path / "people.csv"
    with path.open("wb") as file:
        file.write(users_csv("PARIS,ada@example.com,Ada,Lovelace,,,,,").encode())
        for _ in range(20):
            file.write(b"\n" * 1_000_000)

    lines, (code, error) = run("import_users", str(path))

    assert (lines, code, error) == (
        [],
        1,
        "Users file people.csv: This file has more than 1,000,000 rows after its header row "
        "(blank lines count too); up to 1,000,000 can be imported at once. Split it into "
        "smaller files and import each.",
    )
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED
    assert memberships() == []


def test_import_command_reports_every_file_problem(tmp_path):
    result = FileImportResult()
    resource = UsersResource()
    for message in ("The file is empty.", "The column Email appears twice in the header row."):
        resource.handle_import_error(result, FileProblem(message, code="test"))

    with pytest.raises(CommandError) as error:
        ImportUsers().report(
            tmp_path / "people.csv", result, dry_run=False, skip_errors=False, keep_removed=True
        )

    assert (error.value.returncode, str(error.value).splitlines()) == (
        1,
        [
            "Users file people.csv: The file is empty.",
            "Users file people.csv: The column Email appears twice in the header row.",
        ],
    )


@pytest.mark.django_db
def test_import_users_of_a_missing_file_is_bad_usage(tmp_path):
    assert run("import_users", str(tmp_path / "nothing.csv"))[1] == (
        2,
        f"No file at {tmp_path / 'nothing.csv'}.",
    )


def test_import_users_without_a_path_is_bad_usage(capsys):
    assert exit_code("import_users") == 2
    assert "error: the following arguments are required: path" in capsys.readouterr().err


def test_import_users_with_an_unknown_option_is_bad_usage(capsys):
    assert exit_code("import_users", "x.csv", "--everything") == 2
    assert "error: unrecognized arguments: --everything" in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)
def test_import_users_exit_codes_as_the_command_line_sees_them(write, ada, capsys):
    assert exit_code("import_users", write(GOOD), "--dry-run") == 0
    assert exit_code("import_users", write(BAD)) == 1
    assert exit_code("import_users", write(BAD), "--skip-errors") == 3
    assert exit_code("import_users", write(GOOD)) == 0
    assert exit_code("import_users", write(GOOD), "--no-such-option") == 2
    assert exit_code("import_users", write(GOOD) + ".missing") == 2
    err = capsys.readouterr().err
    assert "CommandError: The file has 1 row(s) with errors: nothing was imported" in err
    assert "CommandError: The file has 1 row(s) with errors: they were skipped" in err


@pytest.mark.django_db
def test_import_users_prints_one_cause_of_many_rows_once_with_its_lines(write, tree, disk_storage):
    rows = [f"NOPE,p{number}@example.com,P,Q,,,,," for number in range(1500)]

    lines, (code, message) = run("import_users", write(users_csv(*rows)))

    job = ImportJob.objects.get()
    assert (code, message) == (
        1,
        "The file has 1,500 row(s) with errors: nothing was imported (all or nothing).",
    )
    assert lines == [
        "Users file people.csv: 0 new, 0 updated, 0 unchanged, 1,500 failed.",
        "Errors:",
        "  Lines 2–1,501 (1,500 rows), Account ID: No account has the Account ID “NOPE”.",
        error_file_line(job),
    ]
    failed = error_file_rows(job)
    assert (len(failed), failed[1], failed[-1]) == (
        1501,
        ["NOPE", "p0@example.com", "P", "Q", "", "", "", "", "", f"Line 2. Account ID: {NOPE}"],
        [
            *["NOPE", "p1499@example.com", "P", "Q", "", "", "", "", ""],
            f"Line 1501. Account ID: {NOPE}",
        ],
    )


@pytest.mark.django_db
def test_import_users_skip_errors_prints_the_error_file_of_the_skipped_rows(
    write, ada, disk_storage
):
    lines, (code, _) = run("import_users", write(BAD), "--skip-errors")

    job = ImportJob.objects.get()
    assert code == 3
    assert lines[-1] == error_file_line(job)
    assert error_file_rows(job) == [
        [*USERS_HEADER.split(","), "Error"],
        [
            *["NOPE", "alan@example.com", "Alan", "Turing", "", "", "", "Yes", ""],
            f"Line 3. Account ID: {NOPE} Contact: “Yes” is not accepted: write yes or no (in "
            "lowercase), or leave it blank.",
        ],
    ]


@pytest.mark.django_db
def test_import_users_names_an_error_file_kept_off_this_disk_by_its_storage_name(write, ada):
    lines, (code, _) = run("import_users", write(BAD))

    job = ImportJob.objects.get()
    assert code == 1
    assert lines[-1] == (
        f"Error file, with every failed row and its errors: {job.error_file.name} in the file "
        "storage (the job's page links to it)"
    )


@pytest.mark.django_db
def test_import_users_dry_run_with_errors_says_how_to_get_an_error_file(write, ada):
    lines, (code, _) = run("import_users", write(BAD), "--dry-run")

    assert code == 1
    assert lines[-2:] == [
        "Run the import without --dry-run to get an error file with every failed row.",
        "Dry run: nothing was written.",
    ]
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
def test_import_users_prints_the_row_width_error_and_header_warnings(write, tree):
    header = f"{USERS_HEADER},Phone Number,Phone Number"
    text = users_csv(
        "PARIS,ada@example.com,Ada,Lovelace,,,,,,,,extra",
        "PARIS,alan@example.com,Alan,Turing",
        header=header,
    )

    lines, (code, _) = run("import_users", write(text), "--dry-run")

    assert code == 1
    assert lines[:4] == [
        "Users file people.csv: 1 new, 0 updated, 0 unchanged, 1 failed.",
        "Warning: Column “Phone Number” (2 columns) is not part of a users file and was ignored.",
        "Warning: 1 row has fewer values than the 11 columns the header names (line 3): the "
        "missing values were read as blank.",
        "Errors:",
    ]
    assert lines[4] == (
        "  Line 2: This row has 12 values but the header names 11 columns: a value may hold a "
        "comma that is not in quotes."
    )


def test_import_commands_help_names_every_exit_status():
    users, accounts = (
        load_command_class("integrations", name).help
        for name in ("import_users", "import_accounts")
    )

    assert "0 imported, 1 the file has errors and nothing was written, 2 bad usage, 3 " in users
    assert "the error file" in users
    assert accounts.endswith(
        "0 imported, 1 the file has errors and nothing was written, 2 bad usage."
    )


# import_accounts


@pytest.mark.django_db
def test_import_accounts_imports_a_tree(write, account_types):
    path = write(accounts_csv("ACME-EU,Europe,Region,ACME", "ACME,Acme,Corporate,"), "accounts.csv")

    lines, (code, _) = run("import_accounts", path)

    assert code == 0
    assert lines == ["Accounts file accounts.csv: 2 new, 0 updated, 0 unchanged, 0 failed."]


@pytest.mark.django_db
def test_import_accounts_with_errors_exits_1_and_imports_nothing(write, tree, disk_storage):
    before = snapshot()
    path = write(accounts_csv("LYON,Lyon,Site,EMEA", "X,X,Sit,"), "accounts.csv")

    lines, (code, _message) = run("import_accounts", path)

    assert code == 1
    assert lines == [
        "Accounts file accounts.csv: 1 new, 0 updated, 0 unchanged, 1 failed.",
        "Errors:",
        "  Line 3, Account Type: No account type is called “Sit”. Account types: Corporate, "
        "Region, Site, Department.",
        error_file_line(ImportJob.objects.get()),
    ]
    assert snapshot() == before


def test_import_accounts_has_no_skip_errors(capsys):
    assert exit_code("import_accounts", "x.csv", "--skip-errors") == 2


# export_users


@pytest.mark.django_db
def test_export_users_writes_the_users_file_to_standard_output(ada):
    out = io.StringIO()

    call_command("export_users", stdout=out)

    assert out.getvalue().splitlines() == [
        "Account ID,Email,First Name,Last Name,Title,Phone,Account Role,Contact,Key Contact,"
        "Status,Start Date,End Date",
        "EMEA,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,,no,no,active,,",
        "PARIS,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,Site admin,yes,yes,"
        "active,,",
    ]
    assert UsersExport.objects.get().staff_user is None


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["contacts.csv", "contacts.xlsx"])
def test_export_users_contacts_only_to_a_file_imports_back_unchanged(ada, tmp_path, name):
    path = tmp_path / name

    lines, (code, err) = run("export_users", "--output", str(path), "--contacts-only")

    assert (lines, code, err) == ([], 0, f"Wrote the contacts file to {path}.")
    lines, (code, _) = run("import_users", str(path), "--dry-run")
    assert lines[0] == f"Users file {name}: 0 new, 0 updated, 1 unchanged, 0 failed."


@pytest.mark.django_db
def test_export_users_to_a_missing_folder_is_bad_usage(tmp_path):
    assert run("export_users", "--output", str(tmp_path / "no" / "users.csv"))[1] == (
        2,
        f"No folder {tmp_path / 'no'} to write users.csv in.",
    )
    assert UsersExport.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["users.txt", "users", "users.csv.gz", "users.xls", "csv"])
def test_export_users_to_a_name_not_ending_in_csv_or_xlsx_is_bad_usage(tmp_path, name):
    assert run("export_users", "--output", str(tmp_path / name)) == (
        [],
        (
            2,
            f"Cannot write {name}: the users file is written as CSV or XLSX, so --output must "
            "end in .csv or .xlsx.",
        ),
    )
    assert list(tmp_path.iterdir()) == []
    assert (UsersExport.objects.count(), DownloadRecord.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_export_users_extension_exit_status_as_the_command_line_sees_it(tmp_path, capsys):
    assert exit_code("export_users", "--output", str(tmp_path / "users.json")) == 2
    assert "--output must end in .csv or .xlsx" in capsys.readouterr().err


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["Users.CSV", "users.XLSX"])
def test_export_users_takes_the_extension_in_any_case(ada, tmp_path, name):
    path = tmp_path / name

    assert run("export_users", "--output", str(path))[1] == (
        0,
        f"Wrote the users file to {path}.",
    )
    assert UsersExport.objects.get().file_format == name.lower().rsplit(".", 1)[1]


@pytest.fixture
def segments(ada, tree, roles):
    """Grace, a contact at Berlin, beside Ada (Paris, Emea); a segment of Emea and everything
    below it, and one of Paris alone."""
    grace = PersonFactory(first_name="Grace", last_name="Hopper", email="grace@navy.example")
    MembershipFactory(person=grace, account=tree["berlin"], is_contact=True)
    owner = StaffUserFactory(username="sam", first_name="Sam", last_name="Segment")
    return {
        "emea": Segment.objects.create(
            name="Emea people", owner=owner, query="account=EMEA&scope=subtree&cols=email"
        ),
        "paris": Segment.objects.create(
            name="Paris",
            owner=owner,
            shared=True,
            query="account=PARIS&scope=this",
            account_label="Paris (PARIS)",
        ),
    }


@pytest.mark.django_db
def test_export_users_segment_writes_its_memberships_only(segments):
    out = io.StringIO()

    call_command("export_users", "--segment", "EMEA PEOPLE", stdout=out)

    assert out.getvalue().splitlines() == [
        USERS_HEADER + ",Status,Start Date,End Date",
        "EMEA,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,,no,no,active,,",
        "PARIS,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,Site admin,yes,yes,"
        "active,,",
        "BERLIN,grace@navy.example,Grace,Hopper,,,,yes,no,active,,",
    ]
    record = DownloadRecord.objects.get()
    assert (record.channel, record.filters, record.row_count) == (
        DownloadRecord.Channel.COMMAND,
        "The segment “Emea people”, to standard output",
        3,
    )


@pytest.mark.django_db
def test_export_users_segment_contacts_only_to_a_file_imports_back_unchanged(segments, tmp_path):
    path = tmp_path / "emea.csv"

    lines, (code, err) = run(
        "export_users", "--segment", "Emea people", "--contacts-only", "--output", str(path)
    )

    assert (lines, code, err) == (
        [],
        0,
        f"Wrote the contacts file of the segment “Emea people” to {path}.",
    )
    assert path.read_text(encoding="utf-8").splitlines()[1:] == [
        "PARIS,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,Site admin,yes,yes,"
        "active,,",
        "BERLIN,grace@navy.example,Grace,Hopper,,,,yes,no,active,,",
    ]
    assert DownloadRecord.objects.get().filters == (
        f"The segment “Emea people”, contacts only, to {path}"
    )
    lines, (code, _) = run("import_users", str(path), "--dry-run")
    assert lines[0] == "Users file emea.csv: 0 new, 0 updated, 2 unchanged, 0 failed."


@pytest.mark.django_db
def test_export_users_unknown_segment_is_bad_usage_naming_the_saved_ones(segments, tmp_path):
    path = tmp_path / "out.csv"

    assert run("export_users", "--segment", "Berlin", "--output", str(path)) == (
        [],
        (2, "No saved segment is named “Berlin”. Saved segments: “Emea people”, “Paris”."),
    )
    assert not path.exists()
    assert (UsersExport.objects.count(), DownloadRecord.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_export_users_segment_name_two_segments_share_is_bad_usage_naming_both(segments):
    other = StaffUserFactory(username="lin")
    Segment.objects.create(name="paris", owner=other, query="account=PARIS")

    assert run("export_users", "--segment", "Paris") == (
        [],
        (
            2,
            "2 saved segments are named “Paris”: “Paris” of Sam Segment (shared); “paris” of "
            "lin. Rename all but one on the Segments page (/people/segments/), then name it "
            "again.",
        ),
    )
    assert UsersExport.objects.count() == 0


@pytest.mark.django_db
def test_export_users_segment_whose_account_was_deleted_writes_nothing(segments, tree, tmp_path):
    tree["paris_sales"].delete()
    tree["paris"].memberships.all().delete()
    tree["paris"].delete()
    path = tmp_path / "out.csv"

    assert run("export_users", "--segment", "Paris", "--output", str(path)) == (
        [],
        (
            2,
            "The segment “Paris” no longer selects what it was saved for: the account Paris "
            "(PARIS) no longer exists. Open it on the People page, choose its filters again "
            "and save it. Nothing was written.",
        ),
    )
    assert not path.exists()
    assert (UsersExport.objects.count(), DownloadRecord.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_export_users_segment_exit_status_as_the_command_line_sees_it(capsys):
    assert exit_code("export_users", "--segment", "Nobody") == 2
    assert capsys.readouterr().err == (
        "CommandError: No saved segment is named “Nobody”. Saved segments: none.\n"
    )


@pytest.fixture
def command_line_database(transactional_db):
    """The DATABASE_URL of a copy of the test database that a `manage.py` subprocess can open:
    the test database itself on PostgreSQL, a file copy of SQLite's in-memory one."""

    def url(tmp_path):
        db = connection.settings_dict
        if connection.vendor == "postgresql":
            password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
            host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
            return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"
        copy = tmp_path / "copy.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(copy)
        connection.connection.backup(target)
        target.close()
        return f"sqlite:///{copy}"

    return url


def in_a_shell(pipeline, database_url):
    """Run `manage.py pipeline` in bash on `database_url`; its output, and what bash says of
    the exit status of manage.py (the first command of the pipeline)."""
    finished = subprocess.run(
        f"{shlex.quote(sys.executable)} manage.py {pipeline};"
        ' echo "manage.py exited with ${PIPESTATUS[0]}" >&2',
        shell=True,
        executable="/bin/bash",
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "DATABASE_URL": database_url,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return finished.stdout, finished.stderr


def test_export_users_piped_into_head_stops_quietly(command_line_database, tree, tmp_path):
    # More than a pipe holds (64 KiB): `head -1` reads the first line and leaves while the
    # command is still writing, so its next write meets a closed pipe.
    people = Person.objects.bulk_create(
        Person(email=f"person{n}@customer.example", first_name="Ellen", last_name=f"Müller {n}")
        for n in range(1500)
    )
    Membership.objects.bulk_create(
        Membership(person=person, account=tree["paris"], is_contact=True) for person in people
    )

    assert in_a_shell("export_users | head -1", command_line_database(tmp_path)) == (
        USERS_HEADER + ",Status,Start Date,End Date\n",
        "manage.py exited with 1\n",
    )


def test_export_users_piped_into_a_reader_that_reads_it_all_exits_0(
    command_line_database, ada, tmp_path
):
    assert in_a_shell("export_users | wc -l", command_line_database(tmp_path)) == (
        "3\n",
        "manage.py exited with 0\n",
    )


# fail_stale_import_jobs


@pytest.mark.django_db
def test_fail_stale_import_jobs_marks_the_jobs_of_stopped_workers_failed():
    an_hour_ago = timezone.now() - timedelta(hours=1)
    stopped = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="big.csv",
        status=ImportJob.Status.RUNNING,
        heartbeat_at=an_hour_ago,
    )
    live = ImportJob.objects.create(
        kind=ImportJob.Kind.USERS,
        file_name="live.csv",
        status=ImportJob.Status.RUNNING,
        heartbeat_at=timezone.now(),
    )

    assert run("fail_stale_import_jobs") == (["1 stopped import job marked failed."], (0, ""))
    assert dict(
        ImportJob.objects.filter(pk__in=[stopped.pk, live.pk]).values_list("file_name", "status")
    ) == {"big.csv": ImportJob.Status.FAILED, "live.csv": ImportJob.Status.RUNNING}
