"""`manage.py sync` (SPEC §4.4, §4.6): add, run, list, remove, set-secrets, new-key and
rotate-keys; every bad usage with its message and exit code 2; `sync run`'s summaries and exit
codes (0 done or nothing new, 1 the file had errors or the run failed, 3 rows skipped); secrets
taken only from the environment, stored encrypted and never printed."""

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts.models import Segment
from integrations import places, schedules, syncs
from integrations.mapping import Mapping
from integrations.models import ImportJob, IntegrationJob, MappingTemplate, SyncRun
from tests.factories import MembershipFactory, PersonFactory, StaffUserFactory
from tests.integrations.conftest import exit_code, memberships, run, snapshot, users_csv

GOOD = users_csv(
    "BERLIN,grace@navy.example,Grace,Hopper,,,End user,yes,", "PARIS,ada@customer.example,,,,,,,"
)
BAD = users_csv(
    "BERLIN,grace@navy.example,Grace,Hopper,,,End user,yes,",
    "NOPE,alan@example.com,Alan,Turing,,,,Yes,",
)
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
PASSWORD = "correct-horse-7f3a9c"  # a secret: never printed, never stored in clear
SECRET_VARIABLES = [
    "SYNC_PASSWORD",
    "SYNC_PRIVATE_KEY",
    "SYNC_PRIVATE_KEY_FILE",
    "SYNC_PASSPHRASE",
    "SYNC_TOKEN",
    "SYNC_ACCESS_KEY_ID",
    "SYNC_SECRET_ACCESS_KEY",
]


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    """No secret variable of the environment the tests run in leaks into them."""
    for variable in SECRET_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


@pytest.fixture
def root(settings, tmp_path):
    """The one folder integration jobs may use, with a drop folder and an out folder."""
    settings.SYNC_FOLDER_ROOTS = [tmp_path]
    (tmp_path / "drop").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path


@pytest.fixture
def disk_storage(settings, tmp_path):
    """Files stored on disk, as in production: `sync run` prints the error file's path."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


def add_folder_job(root, name="Nightly users", *extra):
    return run(
        "sync",
        "add",
        name,
        "--direction",
        "in",
        "--kind",
        "folder",
        "--location",
        f"{root}/drop/users-*.csv",
        "--file",
        "users",
        *extra,
    )


def drop(root, text, name="users-1.csv"):
    path = root / "drop" / name
    path.write_text(text, encoding="utf-8")
    return path


# add


@pytest.mark.django_db
def test_sync_add_folder_job_with_a_schedule_plans_its_next_run(root):
    before = timezone.now()

    lines, (code, err) = add_folder_job(
        root, "Nightly users", "--schedule", "0  6 * * *", "--skip-errors", "--move-processed"
    )

    job = IntegrationJob.objects.get()
    assert (code, err) == (0, "")
    assert lines == [
        f"Added the integration job “Nightly users” (folder): it reads the users file at "
        f"{root}/drop/users-*.csv.",
        "Schedule: Every day at 06:00, UTC.",
        f"Next run: {timezone.localtime(job.next_run_at):%Y-%m-%d %H:%M}.",
    ]
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
        job.mapping_template,
    ) == (
        "Nightly users",
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
        None,
    )
    assert job.next_run_at == schedules.next_time("0 6 * * *", after=before)


@pytest.mark.django_db
def test_sync_add_without_a_schedule_runs_by_hand_only(root):
    lines, (code, _) = add_folder_job(root, "By hand", "--re-add-removed")

    assert code == 0
    assert lines[1:] == ["Schedule: Only when run by hand."]
    job = IntegrationJob.objects.get()
    assert (job.schedule, job.next_run_at, job.re_add_removed) == ("", None, True)


@pytest.mark.django_db
def test_sync_add_disabled_has_no_next_run(root):
    lines, (code, _) = add_folder_job(root, "Paused", "--schedule", "*/5 * * * *", "--disabled")

    assert code == 0
    assert lines[1:] == [
        "Schedule: Every 5 minutes, UTC.",
        "Disabled: it runs only when run by hand until it is enabled.",
    ]
    job = IntegrationJob.objects.get()
    assert (job.enabled, job.next_run_at) == (False, None)


def save_template(name, *, file="users"):
    template = MappingTemplate(name=name)
    columns = {"Email": "E-mail", "First Name": "Given", "Last Name": "Family", "Account ID": "Org"}
    template.set_mapping(Mapping.from_dict({"name": name, "file": file, "columns": columns}))
    template.save()
    return template


@pytest.mark.django_db
def test_sync_add_inbound_with_a_mapping_template_reads_files_through_it(root, tree):
    template = save_template("CRM contacts")

    lines, (code, err) = add_folder_job(root, "CRM", "--mapping", "crm CONTACTS")

    assert (lines[0], code, err) == (
        f"Added the integration job “CRM” (folder): it reads the users file at "
        f"{root}/drop/users-*.csv.",
        0,
        "",
    )
    assert IntegrationJob.objects.get().mapping_template == template
    drop(root, "E-mail,Given,Family,Org\nada@example.com,Ada,Lovelace,PARIS\n")
    assert run("sync", "run", "CRM")[0][1] == (
        "Users file users-1.csv: 1 new, 0 updated, 0 unchanged, 0 failed."
    )
    assert ImportJob.objects.get().mapping_template == template


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "export", "words"),
    [
        ((), IntegrationJob.Export.ALL, "the users file of every membership"),
        (("--contacts-only",), IntegrationJob.Export.CONTACTS, "the users file of the contacts"),
        (
            ("--segment", "paris people"),
            IntegrationJob.Export.SEGMENT,
            "the users file of the segment “Paris people”",
        ),
    ],
)
def test_sync_add_outbound_folder_job_exports_what_it_is_told(
    root, tree, segment, options, export, words
):
    lines, (code, err) = run(
        "sync", "add", "Back to the CRM", "--direction", "out", "--kind", "folder",
        "--location", f"{root}/out/users-{{date}}.csv", "--file", "users", *options,
    )  # fmt: skip

    assert (code, err) == (0, "")
    assert lines[0] == (
        f"Added the integration job “Back to the CRM” (folder): it writes {words} to "
        f"{root}/out/users-{{date}}.csv."
    )
    job = IntegrationJob.objects.get()
    assert (job.direction, job.export, job.segment) == (
        "out",
        export,
        segment if export == IntegrationJob.Export.SEGMENT else None,
    )


@pytest.mark.django_db
def test_sync_add_sftp_takes_its_secrets_from_the_environment_stored_encrypted(
    environment, tmp_path
):
    key_file = tmp_path / "id_ed25519"
    key_file.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nkey-body-9d2e\n")
    environment.setenv("SYNC_PASSWORD", PASSWORD)
    environment.setenv("SYNC_PRIVATE_KEY_FILE", str(key_file))
    environment.setenv("SYNC_TOKEN", "token-for-another-kind-51c2")

    lines, (code, err) = run(
        "sync", "add", "Partner drop", "--direction", "in", "--kind", "sftp",
        "--location", "sftp://ada@127.0.0.1:2222/drop/users-*.csv", "--file", "users",
        "--host-key", HOST_KEY, "--schedule", "0 * * * *",
    )  # fmt: skip

    assert (code, err) == (0, "")
    assert lines[0] == (
        "Added the integration job “Partner drop” (sftp): it reads the users file at "
        "sftp://ada@127.0.0.1:2222/drop/users-*.csv."
    )
    assert lines[3:] == [
        "Secrets from the environment, stored encrypted: SYNC_PASSWORD, SYNC_PRIVATE_KEY_FILE.",
        "Ignored, as an sftp job takes no such secret: SYNC_TOKEN.",
    ]
    job = IntegrationJob.objects.get()
    assert job.options == {"host_key": HOST_KEY}
    assert job.secrets() == {
        "password": PASSWORD,
        "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nkey-body-9d2e\n",
    }
    stored = IntegrationJob.objects.values_list("encrypted_secrets", "options", "location").get()
    for secret in (PASSWORD, "key-body-9d2e", "token-for-another-kind-51c2"):
        assert secret not in str(stored)
        assert secret not in "\n".join(lines)
    listing, _ = run("sync", "list")
    assert PASSWORD not in "\n".join(listing)


@pytest.mark.django_db
def test_sync_add_s3_with_its_options_and_keys(environment):
    environment.setenv("SYNC_ACCESS_KEY_ID", "AKIDEXAMPLE")
    environment.setenv("SYNC_SECRET_ACCESS_KEY", "s3-secret-2b7d")

    lines, (code, err) = run(
        "sync", "add", "Bucket", "--direction", "out", "--kind", "s3",
        "--location", "s3://exports/unified/", "--file", "users",
        "--endpoint-url", "http://127.0.0.1:9000", "--region", "eu-west-3",
    )  # fmt: skip

    assert (code, err) == (0, "")
    assert lines[-1] == (
        "Secrets from the environment, stored encrypted: SYNC_ACCESS_KEY_ID, "
        "SYNC_SECRET_ACCESS_KEY."
    )
    job = IntegrationJob.objects.get()
    assert job.options == {"endpoint_url": "http://127.0.0.1:9000", "region": "eu-west-3"}
    assert job.saved_secrets() == (["access_key_id", "secret_access_key"], False)
    assert "s3-secret-2b7d" not in job.encrypted_secrets


@pytest.mark.django_db
def test_sync_add_postgres_without_a_password_says_which_variables_it_reads():
    lines, (code, _) = run(
        "sync", "add", "Warehouse", "--direction", "in", "--kind", "postgres",
        "--location", "postgres://reader@127.0.0.1:5432/crm", "--file", "accounts",
        "--query", "SELECT id, name FROM accounts",
    )  # fmt: skip

    assert code == 0
    assert lines[-1] == (
        "No secrets set: SYNC_PASSWORD is not set in the environment. `manage.py sync "
        'set-secrets "Warehouse"` sets them later.'
    )
    assert IntegrationJob.objects.get().options == {"query": "SELECT id, name FROM accounts"}


def usage(*args):
    """`sync add NAME --direction in --kind folder --file users` with `args` in place of any
    of those."""
    defaults = {"--direction": "in", "--kind": "folder", "--file": "users"}
    given = [arg for arg in args if arg.startswith("--")]
    options = [item for key, value in defaults.items() if key not in given for item in (key, value)]
    return run("sync", "add", *args[:1], *options, *args[1:])


@pytest.fixture
def segment(db):
    owner = StaffUserFactory(username="sam", first_name="Sam", last_name="Segment")
    return Segment.objects.create(
        name="Paris people", owner=owner, query="account=PARIS", account_label="Paris (PARIS)"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("Nightly USERS", "--location", "{root}/drop/b-*.csv"),
            "An integration job named “Nightly USERS” exists already.",
        ),
        (("   ", "--location", "{root}/drop/b-*.csv"), "A job needs a name."),
        (
            ("N" * 101, "--location", "{root}/drop/b-*.csv"),
            "A job's name has at most 100 characters.",
        ),
        (
            ("B", "--location", "{root}/drop/b-*.csv", "--schedule", "0 6 * *"),
            "A schedule has five fields, minute hour day-of-month month day-of-week (for "
            "example “0 6 * * *”, every day at 06:00); “0 6 * *” has 4.",
        ),
        (
            ("B", "--location", "{root}/drop/b-*.csv", "--schedule", "0 25 * * *"),
            "“0 25 * * *” is not a schedule: bad hour.",
        ),
        (
            ("B", "--kind", "https", "--direction", "out", "--location", "https://x.example/u.csv"),
            "An https job can only read: use --direction in (a folder, SFTP or S3 job can write).",
        ),
        (
            ("B", "--direction", "out", "--file", "accounts", "--location", "{root}/out"),
            "An outbound job writes the users file: use --file users.",
        ),
        (
            (
                "B",
                "--direction",
                "out",
                "--location",
                "{root}/out",
                "--mapping",
                "X",
                "--skip-errors",
                "--move-processed",
            ),
            "--mapping, --skip-errors, --move-processed: only for an inbound job (--direction in).",
        ),
        (
            (
                "B",
                "--direction",
                "out",
                "--location",
                "{root}/out",
                "--segment",
                "Paris people",
                "--contacts-only",
            ),
            "Choose --segment or --contacts-only: an outbound job writes every membership, the "
            "contacts, or a segment's memberships.",
        ),
        (
            ("B", "--location", "{root}/drop/b-*.csv", "--contacts-only"),
            "--contacts-only: only for an outbound job (--direction out).",
        ),
        (
            ("B", "--location", "{root}/drop/b-*.csv", "--query", "SELECT 1"),
            "--query: only for a postgres job (--kind postgres).",
        ),
        (
            ("B", "--kind", "s3", "--location", "s3://bucket/*.csv", "--host-key", HOST_KEY),
            "--host-key: only for an sftp job (--kind sftp).",
        ),
        (
            ("B", "--location", "{root}/drop/b-*.csv", "--mapping", "Nope"),
            "No mapping template is named “Nope”. Saved users templates: “HubSpot”.",
        ),
        (
            (
                "B",
                "--location",
                "{root}/drop/b-*.csv",
                "--file",
                "accounts",
                "--mapping",
                "hubspot",
            ),
            "The mapping template “HubSpot” maps users files; this job imports accounts files.",
        ),
        (
            ("B", "--direction", "out", "--location", "{root}/out", "--segment", "Berlin"),
            "No saved segment is named “Berlin”. Saved segments: “Paris people”.",
        ),
    ],
)
def test_sync_add_bad_usage_says_why_and_adds_nothing(root, segment, args, message):
    add_folder_job(root)
    save_template("HubSpot")

    assert usage(*(arg.format(root=root) for arg in args)) == ([], (2, message))
    assert IntegrationJob.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "direction", "location", "options"),
    [
        ("folder", "in", "drop/users-*.csv", {}),
        ("folder", "in", "/etc/users-*.csv", {}),
        ("folder", "in", "{root}/drop/../../users-*.csv", {}),
        ("folder", "out", "{root}/out/users-{{time}}.csv", {}),
        ("sftp", "in", "sftp://ada@127.0.0.1:2222/drop/users-*.csv", {}),
        ("postgres", "in", "postgres://reader@127.0.0.1:5432/crm", {}),
        ("postgres", "in", "postgres://reader:pw@127.0.0.1:5432/crm", {"query": "SELECT 1"}),
        ("https", "in", "http://crm.example/users.csv", {}),
    ],
)
def test_sync_add_refuses_a_location_as_the_job_form_does(root, kind, direction, location, options):
    location = location.format(root=root)
    with pytest.raises(ValidationError) as refused:
        places.validate_location(kind=kind, location=location, direction=direction, options=options)
    extra = [item for name, value in options.items() for item in (f"--{name}", value)]

    assert run(
        "sync", "add", "B", "--direction", direction, "--kind", kind, "--location", location,
        "--file", "users", *extra,
    ) == ([], (2, "\n".join(refused.value.messages)))  # fmt: skip
    assert IntegrationJob.objects.count() == 0


@pytest.mark.django_db
def test_sync_add_lists_every_problem_at_once(root):
    assert usage(
        "Nightly",
        "--location",
        "drop/a-*.csv",
        "--schedule",
        "often",
        "--query",
        "SELECT 1",
    ) == (
        [],
        (
            2,
            "--query: only for a postgres job (--kind postgres).\n"
            "A schedule has five fields, minute hour day-of-month month day-of-week (for example "
            "“0 6 * * *”, every day at 06:00); “often” has 1.\n"
            f"Give an absolute path under one of the allowed folders: {root}.",
        ),
    )


@pytest.mark.django_db
def test_sync_add_mapping_template_no_longer_valid_is_bad_usage(root):
    MappingTemplate.objects.create(
        name="Old", file_kind="users", definition={"columns": {"Nope": "X"}}
    )

    assert add_folder_job(root, "B", "--mapping", "old") == (
        [],
        (
            2,
            "The mapping template “Old” is no longer valid: “Nope” in “columns” is not a column "
            "of a users file; its columns are Account ID, Email, First Name, Last Name, Title, "
            "Phone, Account Role, Contact, Key Contact, Status, Start Date and End Date.",
        ),
    )
    assert IntegrationJob.objects.count() == 0


@pytest.mark.django_db
def test_sync_add_segment_two_share_the_name_of_is_bad_usage_naming_them(root, segment):
    Segment.objects.create(name="PARIS PEOPLE", owner=StaffUserFactory(username="lin"), shared=True)

    assert usage(
        "Out", "--direction", "out", "--location", f"{root}/out", "--segment", "Paris People"
    ) == (
        [],
        (
            2,
            "2 saved segments are named “Paris People”: “PARIS PEOPLE” of lin (shared); “Paris "
            "people” of Sam Segment. Rename all but one on the Segments page (/people/segments/), "
            "then name it again.",
        ),
    )


@pytest.mark.django_db
def test_sync_add_both_private_key_variables_is_bad_usage(environment, tmp_path):
    environment.setenv("SYNC_PRIVATE_KEY", "key-text-0a1b")
    environment.setenv("SYNC_PRIVATE_KEY_FILE", str(tmp_path / "missing"))

    assert usage(
        "S", "--kind", "sftp", "--location", "sftp://ada@h:22/d/*.csv", "--host-key", HOST_KEY
    ) == ([], (2, "Set SYNC_PRIVATE_KEY or SYNC_PRIVATE_KEY_FILE, not both."))
    assert IntegrationJob.objects.count() == 0


@pytest.mark.django_db
def test_sync_add_s3_with_one_of_its_two_keys_is_bad_usage(environment):
    environment.setenv("SYNC_SECRET_ACCESS_KEY", "s3-secret-2b7d")

    assert usage("S", "--kind", "s3", "--location", "s3://bucket/in/*.csv") == (
        [],
        (
            2,
            "Set both SYNC_ACCESS_KEY_ID and SYNC_SECRET_ACCESS_KEY, or neither (then set them "
            "later with sync set-secrets; or, where SYNC_S3_DEFAULT_CREDENTIALS=1, the server's "
            "own credentials sign in).",
        ),
    )
    assert IntegrationJob.objects.count() == 0


@pytest.mark.django_db
def test_sync_add_unreadable_private_key_file_is_bad_usage(environment, tmp_path):
    environment.setenv("SYNC_PRIVATE_KEY_FILE", str(tmp_path / "missing"))

    assert usage(
        "S", "--kind", "sftp", "--location", "sftp://ada@h:22/d/*.csv", "--host-key", HOST_KEY
    )[1] == (
        2,
        f"Cannot read the private key file {tmp_path / 'missing'}: No such file or directory.",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "argv",
    [
        ["sync"],
        ["sync", "add", "B", "--kind", "folder", "--location", "/x/*.csv", "--file", "users"],
        [
            "sync",
            "add",
            "B",
            "--direction",
            "both",
            "--kind",
            "folder",
            "--location",
            "/x",
            "--file",
            "users",
        ],
        [
            "sync",
            "add",
            "B",
            "--direction",
            "in",
            "--kind",
            "ftp",
            "--location",
            "/x",
            "--file",
            "users",
        ],
        [
            "sync",
            "add",
            "B",
            "--direction",
            "in",
            "--kind",
            "folder",
            "--location",
            "/x",
            "--file",
            "users",
            "--password",
            "hunter2",
        ],
        ["sync", "run"],
        ["sync", "frobnicate"],
    ],
)
def test_sync_argument_errors_exit_2(argv, capsys):
    assert exit_code(*argv) == 2
    assert "error:" in capsys.readouterr().err
    assert IntegrationJob.objects.count() == 0


@pytest.mark.django_db
def test_sync_bad_usage_exit_status_as_the_command_line_sees_it(capsys):
    assert exit_code("sync", "run", "Nobody") == 2
    assert capsys.readouterr().err == (
        "CommandError: No integration job is named “Nobody”. Integration jobs: none.\n"
    )


# run


@pytest.mark.django_db
def test_sync_run_imports_the_newest_file_and_prints_its_summary(root, ada):
    add_folder_job(root)
    drop(root, GOOD)

    lines, (code, err) = run("sync", "run", "nightly users")

    import_job = ImportJob.objects.get()
    assert (code, err) == (0, "")
    assert lines == [
        f"Took {root}/drop/users-1.csv.",
        "Users file users-1.csv: 1 new, 0 updated, 1 unchanged, 0 failed.",
        f"Its import job: /integrations/jobs/{import_job.pk}/",
        "“Nightly users”: Finished.",
    ]
    assert ("grace@navy.example", "BERLIN", "End user", True, False) in memberships()
    run_ = SyncRun.objects.get()
    assert (run_.trigger, run_.status, run_.import_job, run_.file_taken) == (
        SyncRun.Trigger.COMMAND,
        SyncRun.Status.SUCCEEDED,
        import_job,
        True,
    )


@pytest.mark.django_db
def test_sync_run_a_file_with_errors_imports_nothing_and_exits_1(root, ada, disk_storage):
    add_folder_job(root, "Strict")
    drop(root, BAD)
    before = snapshot()

    lines, (code, message) = run("sync", "run", "Strict")

    import_job = ImportJob.objects.get()
    assert lines == [
        f"Took {root}/drop/users-1.csv.",
        "Users file users-1.csv: 1 new, 0 updated, 0 unchanged, 1 failed.",
        "Errors:",
        "  Line 3, Account ID: No account has the Account ID “NOPE”.",
        "  Line 3, Contact: “Yes” is not accepted: write yes or no (in lowercase), or leave it "
        "blank.",
        f"Error file, with every failed row and its errors: {import_job.error_file.path}",
        f"Its import job: /integrations/jobs/{import_job.pk}/",
    ]
    assert (code, message) == (
        1,
        "“Strict”: Failed. 1 row had errors, so nothing was imported (all or nothing). Fix them "
        "and upload the file again, or import the valid rows and skip the rest.",
    )
    assert snapshot() == before
    assert SyncRun.objects.get().status == SyncRun.Status.FAILED


@pytest.mark.django_db
def test_sync_run_skipping_errors_imports_the_valid_rows_and_exits_3(root, ada):
    add_folder_job(root, "Lenient", "--skip-errors", "--move-processed")
    drop(root, BAD)

    lines, (code, message) = run("sync", "run", "Lenient")

    assert lines[:4] == [
        f"Took {root}/drop/users-1.csv.",
        "Users file users-1.csv: 1 new, 0 updated, 0 unchanged, 1 failed.",
        "Errors:",
        "  Line 3, Account ID: No account has the Account ID “NOPE”.",
    ]
    assert (code, message) == (
        3,
        "“Lenient”: Finished, rows with errors skipped. 1 row with errors skipped; the error file "
        f"lists them. Moved to {root}/drop/processed/users-1.csv.",
    )
    assert ("grace@navy.example", "BERLIN", "End user", True, False) in memberships()
    assert sorted(path.name for path in (root / "drop").iterdir()) == ["processed"]


@pytest.mark.django_db
def test_sync_run_with_no_new_file_exits_0(root, ada):
    add_folder_job(root)

    assert run("sync", "run", "Nightly users") == (
        [f"“Nightly users”: No new file. No file at {root}/drop/users-*.csv: nothing to import."],
        (0, ""),
    )
    drop(root, GOOD)
    run("sync", "run", "Nightly users")

    assert run("sync", "run", "Nightly users") == (
        [
            "“Nightly users”: No new file: the one file matching was taken before, "
            f"the newest {root}/drop/users-1.csv."
        ],
        (0, ""),
    )
    assert ImportJob.objects.count() == 1


@pytest.mark.django_db
def test_sync_run_while_a_run_is_under_way_is_bad_usage(root):
    add_folder_job(root)
    job = IntegrationJob.objects.get()
    SyncRun.objects.create(
        integration_job=job,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.RUNNING,
        created_at=timezone.make_aware(timezone.datetime(2026, 3, 1, 6, 0)),
    )

    assert run("sync", "run", "Nightly users") == (
        [],
        (
            2,
            "“Nightly users” is running already since 2026-03-01 06:00: a job runs once at a "
            "time. Its page shows when it ends.",
        ),
    )
    assert SyncRun.objects.count() == 1


@pytest.mark.django_db
def test_sync_run_of_a_place_that_fails_exits_1_with_its_message(root, settings, tmp_path):
    add_folder_job(root)
    settings.SYNC_FOLDER_ROOTS = [tmp_path / "elsewhere"]

    lines, (code, message) = run("sync", "run", "Nightly users")

    assert (lines, code) == ([], 1)
    assert message.startswith(f"“Nightly users”: Failed. {root}/drop is not inside the folders")
    assert IntegrationJob.objects.get().failures_in_a_row == 1


@pytest.mark.django_db
def test_sync_run_unknown_name_is_bad_usage_naming_the_jobs(root):
    add_folder_job(root, "Nightly users")
    add_folder_job(root, "Hourly")

    assert run("sync", "run", "Weekly") == (
        [],
        (2, "No integration job is named “Weekly”. Integration jobs: “Hourly”, “Nightly users”."),
    )
    assert SyncRun.objects.count() == 0


@pytest.mark.django_db
def test_sync_outbound_folder_job_writes_a_users_file_that_imports_back_unchanged(root, ada):
    run(
        "sync", "add", "Back to the CRM", "--direction", "out", "--kind", "folder",
        "--location", f"{root}/out/users-{{date}}.csv", "--file", "users",
    )  # fmt: skip

    lines, (code, err) = run("sync", "run", "Back to the CRM")

    written = root / "out" / f"users-{timezone.localdate():%Y-%m-%d}.csv"
    assert (code, err) == (0, "")
    assert lines == [f"Wrote {written}.", "2 rows written.", "“Back to the CRM”: Finished."]
    assert list((root / "out").iterdir()) == [written]
    lines, (code, _) = run("import_users", str(written), "--dry-run")
    assert (lines[0], code) == (
        f"Users file {written.name}: 0 new, 0 updated, 2 unchanged, 0 failed.",
        0,
    )


@pytest.mark.django_db
def test_sync_outbound_segment_job_writes_only_its_memberships(root, ada, tree, segment):
    grace = PersonFactory(email="grace@navy.example", first_name="Grace", last_name="Hopper")
    MembershipFactory(person=grace, account=tree["berlin"], is_contact=True)
    run(
        "sync", "add", "Paris out", "--direction", "out", "--kind", "folder",
        "--location", f"{root}/out/paris.csv", "--file", "users", "--segment", "Paris people",
    )  # fmt: skip

    assert run("sync", "run", "Paris out")[0][1] == "1 row written."
    assert (root / "out" / "paris.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        "PARIS,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,Site admin,yes,yes,active,,"
    ]


# The scheduler


@pytest.mark.django_db
def test_sync_add_every_minute_then_the_scheduler_imports_the_dropped_file_once(root, ada):
    add_folder_job(root, "Every minute", "--schedule", "* * * * *")
    drop(root, GOOD)
    job = IntegrationJob.objects.get()
    first_tick = job.next_run_at

    started = syncs.start_due_runs(now=first_tick - timedelta(seconds=1))

    assert started == []
    started = syncs.start_due_runs(now=first_tick)

    assert [run_.pk for run_ in started] == list(SyncRun.objects.values_list("pk", flat=True))
    first = SyncRun.objects.get()
    assert (first.trigger, first.status, first.file_name) == (
        SyncRun.Trigger.SCHEDULE,
        SyncRun.Status.SUCCEEDED,
        f"{root}/drop/users-1.csv",
    )
    assert ("grace@navy.example", "BERLIN", "End user", True, False) in memberships()
    job.refresh_from_db()
    assert job.next_run_at == first_tick + timedelta(minutes=1)

    second = syncs.start_due_runs(now=job.next_run_at)

    assert [run_.status for run_ in SyncRun.objects.filter(pk__in=[r.pk for r in second])] == [
        SyncRun.Status.NOTHING_NEW
    ]
    assert ImportJob.objects.count() == 1


# list


@pytest.mark.django_db
def test_sync_list_without_jobs():
    assert run("sync", "list") == (
        ["No integration jobs yet: `manage.py sync add` adds one."],
        (0, ""),
    )


@pytest.mark.django_db
def test_sync_list_shows_each_job_with_its_last_run_and_next_run(root, ada):
    add_folder_job(root, "Nightly users", "--schedule", "0 6 * * *")
    add_folder_job(root, "Paused", "--schedule", "0 6 * * *", "--disabled")
    run(
        "sync", "add", "Back to the CRM", "--direction", "out", "--kind", "folder",
        "--location", f"{root}/out", "--file", "users",
    )  # fmt: skip
    drop(root, BAD)
    run("sync", "run", "Nightly users")
    run("sync", "run", "Nightly users")
    nightly = IntegrationJob.objects.get(name="Nightly users")
    last = timezone.localtime(nightly.runs.first().created_at)

    lines, (code, _) = run("sync", "list")

    def row(*cells):
        return "{:15}  {:9}  {:6}  {:23}  {:28}  {}".format(*cells)

    assert code == 0
    assert lines == [
        row("Name", "Direction", "Kind", "Schedule", "Last run", "Next run"),
        row("Back to the CRM", "out", "folder", "Only when run by hand", "never", "-"),
        row(
            "Nightly users",
            "in",
            "folder",
            "Every day at 06:00, UTC",
            f"{last:%Y-%m-%d %H:%M} No new file",
            f"{timezone.localtime(nightly.next_run_at):%Y-%m-%d %H:%M}",
        ),
        row("Paused", "in", "folder", "Every day at 06:00, UTC", "never", "disabled"),
        "Times in UTC.",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("job_count", [1, 3])
def test_sync_list_query_count_does_not_grow_with_jobs_or_runs(
    root, job_count, django_assert_num_queries
):
    for number in range(job_count):
        add_folder_job(root, f"Job {number}", "--schedule", "0 6 * * *")
        job = IntegrationJob.objects.get(name=f"Job {number}")
        for status in (SyncRun.Status.FAILED, SyncRun.Status.SUCCEEDED):
            SyncRun.objects.create(
                integration_job=job, trigger=SyncRun.Trigger.SCHEDULE, status=status
            )

    with django_assert_num_queries(1):
        lines, _ = run("sync", "list")

    assert len(lines) == job_count + 2


@pytest.mark.django_db
def test_sync_list_counts_failures_in_a_row(root, ada):
    add_folder_job(root)
    IntegrationJob.objects.update(failures_in_a_row=3)
    SyncRun.objects.create(
        integration_job=IntegrationJob.objects.get(),
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.FAILED,
    )

    assert "Failed (3 in a row)" in run("sync", "list")[0][1]


# remove


@pytest.mark.django_db
def test_sync_remove_deletes_the_job_and_its_runs_but_keeps_the_import_jobs(root, ada):
    add_folder_job(root)
    drop(root, GOOD)
    run("sync", "run", "Nightly users")
    run("sync", "run", "Nightly users")

    assert run("sync", "remove", "NIGHTLY USERS") == (
        [
            "Removed the integration job “Nightly users” and the history of its 2 runs; the "
            "import jobs it started stay in the import history."
        ],
        (0, ""),
    )
    assert (IntegrationJob.objects.count(), SyncRun.objects.count()) == (0, 0)
    assert ImportJob.objects.get().status == ImportJob.Status.SUCCEEDED


@pytest.mark.django_db
def test_sync_remove_unknown_name_is_bad_usage():
    assert run("sync", "remove", "Nobody") == (
        [],
        (2, "No integration job is named “Nobody”. Integration jobs: none."),
    )


@pytest.mark.django_db
def test_sync_remove_while_it_runs_is_bad_usage(root):
    add_folder_job(root)
    SyncRun.objects.create(
        integration_job=IntegrationJob.objects.get(),
        trigger=SyncRun.Trigger.RUN_NOW,
        status=SyncRun.Status.QUEUED,
    )

    assert run("sync", "remove", "Nightly users") == (
        [],
        (2, "“Nightly users” is running: remove it once its run has ended."),
    )
    assert IntegrationJob.objects.count() == 1


# set-secrets, new-key, rotate-keys


@pytest.fixture
def sftp_job(db, environment):
    environment.setenv("SYNC_PASSWORD", PASSWORD)
    run(
        "sync", "add", "Partner drop", "--direction", "in", "--kind", "sftp",
        "--location", "sftp://ada@127.0.0.1:2222/drop/*.csv", "--file", "users",
        "--host-key", HOST_KEY,
    )  # fmt: skip
    environment.delenv("SYNC_PASSWORD")
    return IntegrationJob.objects.get()


@pytest.mark.django_db
def test_sync_set_secrets_replaces_those_given_and_keeps_the_others(sftp_job, environment):
    environment.setenv("SYNC_PRIVATE_KEY", "private-key-text-33aa")
    environment.setenv("SYNC_PASSPHRASE", "passphrase-81f0")

    lines, (code, _) = run("sync", "set-secrets", "partner drop")

    assert code == 0
    assert lines == [
        "Secrets from the environment, stored encrypted: SYNC_PRIVATE_KEY, SYNC_PASSPHRASE.",
        "Secrets of “Partner drop” now set: passphrase, password, private_key.",
    ]
    sftp_job.refresh_from_db()
    assert sftp_job.secrets() == {
        "password": PASSWORD,
        "private_key": "private-key-text-33aa",
        "passphrase": "passphrase-81f0",
    }
    for secret in ("private-key-text-33aa", "passphrase-81f0", PASSWORD):
        assert secret not in sftp_job.encrypted_secrets


@pytest.mark.django_db
def test_sync_set_secrets_clear_keeps_only_those_given(sftp_job, environment):
    environment.setenv("SYNC_PRIVATE_KEY", "private-key-text-33aa")

    run("sync", "set-secrets", "Partner drop", "--clear")

    sftp_job.refresh_from_db()
    assert sftp_job.secrets() == {"private_key": "private-key-text-33aa"}
    environment.delenv("SYNC_PRIVATE_KEY")
    assert run("sync", "set-secrets", "Partner drop", "--clear")[0][-1] == (
        "Secrets of “Partner drop” now set: none."
    )
    sftp_job.refresh_from_db()
    assert sftp_job.encrypted_secrets == ""


@pytest.mark.django_db
def test_sync_set_secrets_with_none_in_the_environment_is_bad_usage(sftp_job):
    before = sftp_job.encrypted_secrets

    assert run("sync", "set-secrets", "Partner drop") == (
        [],
        (
            2,
            "Set one or more of SYNC_PASSWORD, SYNC_PRIVATE_KEY, SYNC_PASSPHRASE, "
            "SYNC_PRIVATE_KEY_FILE in the environment (those an sftp job takes), or give --clear "
            "to remove the saved secrets.",
        ),
    )
    sftp_job.refresh_from_db()
    assert sftp_job.encrypted_secrets == before


@pytest.mark.django_db
def test_sync_set_secrets_of_s3_may_replace_one_key_of_the_pair(environment):
    environment.setenv("SYNC_ACCESS_KEY_ID", "AKIDEXAMPLE")
    environment.setenv("SYNC_SECRET_ACCESS_KEY", "s3-secret-2b7d")
    usage("Bucket", "--kind", "s3", "--location", "s3://bucket/in/*.csv")
    environment.delenv("SYNC_ACCESS_KEY_ID")
    environment.setenv("SYNC_SECRET_ACCESS_KEY", "s3-secret-rotated-77")

    assert run("sync", "set-secrets", "Bucket")[1] == (0, "")
    assert IntegrationJob.objects.get().secrets() == {
        "access_key_id": "AKIDEXAMPLE",
        "secret_access_key": "s3-secret-rotated-77",
    }
    assert run("sync", "set-secrets", "Bucket", "--clear") == (
        [],
        (
            2,
            "Set both SYNC_ACCESS_KEY_ID and SYNC_SECRET_ACCESS_KEY, or neither (then set them "
            "later with sync set-secrets; or, where SYNC_S3_DEFAULT_CREDENTIALS=1, the server's "
            "own credentials sign in).",
        ),
    )
    assert IntegrationJob.objects.get().saved_secrets()[0] == [
        "access_key_id",
        "secret_access_key",
    ]


@pytest.mark.django_db
def test_sync_set_secrets_of_a_folder_job_is_bad_usage(root, environment):
    add_folder_job(root)
    environment.setenv("SYNC_PASSWORD", PASSWORD)

    assert run("sync", "set-secrets", "Nightly users") == (
        [],
        (2, "A folder job takes no secrets."),
    )


@pytest.mark.django_db
def test_sync_set_secrets_when_the_saved_ones_are_unreadable(sftp_job, environment, settings):
    settings.SECRET_KEY = "another-secret-key-since"
    environment.setenv("SYNC_TOKEN", "ignored-token")
    environment.setenv("SYNC_PASSWORD", "new-password-e4")

    lines, (code, _) = run("sync", "set-secrets", "Partner drop")

    assert (code, lines) == (
        0,
        [
            "The saved secrets could not be read (the keys changed): only those given now are "
            "kept.",
            "Secrets from the environment, stored encrypted: SYNC_PASSWORD.",
            "Ignored, as an sftp job takes no such secret: SYNC_TOKEN.",
            "Secrets of “Partner drop” now set: password.",
        ],
    )
    sftp_job.refresh_from_db()
    assert sftp_job.secrets() == {"password": "new-password-e4"}


@pytest.mark.django_db
def test_sync_new_key_prints_a_fernet_key():
    lines, (code, err) = run("sync", "new-key")

    assert (len(lines), code) == (1, 0)
    assert Fernet(lines[0]).decrypt(Fernet(lines[0]).encrypt(b"x")) == b"x"
    assert err == (
        "Put it first in SYNC_SECRET_KEYS (keys separated by commas; keep the others after it), "
        "restart the app, then run `manage.py sync rotate-keys`."
    )


@pytest.mark.django_db
def test_sync_rotate_keys_encrypts_every_job_again_under_the_first_key(
    db, environment, settings, root
):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SYNC_SECRET_KEYS = [old]
    environment.setenv("SYNC_PASSWORD", PASSWORD)
    run(
        "sync", "add", "Partner drop", "--direction", "in", "--kind", "sftp",
        "--location", "sftp://ada@127.0.0.1:2222/drop/*.csv", "--file", "users",
        "--host-key", HOST_KEY,
    )  # fmt: skip
    add_folder_job(root)  # no secrets: left alone
    settings.SYNC_SECRET_KEYS = [new, old]

    assert run("sync", "rotate-keys") == (
        ["Encrypted the secrets of 1 job again under the first key."],
        (0, ""),
    )
    settings.SYNC_SECRET_KEYS = [new]
    assert IntegrationJob.objects.get(name="Partner drop").secrets() == {"password": PASSWORD}


@pytest.mark.django_db
def test_sync_rotate_keys_names_the_jobs_no_key_reads(sftp_job, settings):
    settings.SYNC_SECRET_KEYS = [Fernet.generate_key().decode()]

    assert run("sync", "rotate-keys") == (
        ["Encrypted the secrets of 0 jobs again under the first key."],
        (
            1,
            "No key reads the secrets of “Partner drop”: set them again (`manage.py sync "
            "set-secrets NAME`). Keep the older keys until then.",
        ),
    )


# Against real servers (tests/servers.py)


@pytest.mark.django_db
def test_sync_sftp_job_signs_in_with_the_key_from_the_environment(
    sftp_server, environment, tmp_path, ada
):
    (sftp_server.root / "drop").mkdir()
    (sftp_server.root / "drop" / "users-1.csv").write_text(GOOD, encoding="utf-8")
    key_file = tmp_path / "id_ed25519"
    key_file.write_text(sftp_server.encrypted_private_key)
    environment.setenv("SYNC_PRIVATE_KEY_FILE", str(key_file))
    environment.setenv("SYNC_PASSPHRASE", sftp_server.passphrase)

    added, (code, _) = run(
        "sync", "add", "Partner drop", "--direction", "in", "--kind", "sftp", "--file", "users",
        "--location", sftp_server.location("/drop/users-*.csv"),
        "--host-key", sftp_server.host_key_line, "--move-processed",
    )  # fmt: skip
    environment.delenv("SYNC_PRIVATE_KEY_FILE")
    environment.delenv("SYNC_PASSPHRASE")
    lines, (code, err) = run("sync", "run", "Partner drop")

    assert (code, err) == (0, "")
    assert lines[:2] == [
        "Took /drop/users-1.csv.",
        "Users file users-1.csv: 1 new, 0 updated, 1 unchanged, 0 failed.",
    ]
    assert lines[-1] == "“Partner drop”: Finished. Moved to /drop/processed/users-1.csv."
    assert ("grace@navy.example", "BERLIN", "End user", True, False) in memberships()
    printed = "\n".join(added + lines)
    stored = str(IntegrationJob.objects.values().get())
    for secret in (
        sftp_server.passphrase,
        "PRIVATE KEY",
        sftp_server.encrypted_private_key[60:100],
    ):
        assert secret not in printed
        assert secret not in stored


@pytest.mark.django_db
def test_sync_sftp_job_with_a_wrong_password_fails_without_showing_it(sftp_server, environment):
    environment.setenv("SYNC_PASSWORD", PASSWORD)
    run(
        "sync", "add", "Partner drop", "--direction", "in", "--kind", "sftp", "--file", "users",
        "--location", sftp_server.location("/drop/users-*.csv"),
        "--host-key", sftp_server.host_key_line,
    )  # fmt: skip

    lines, (code, message) = run("sync", "run", "Partner drop")

    assert (lines, code) == ([], 1)
    assert message == (
        f"“Partner drop”: Failed. Could not sign in to "
        f"sftp://ada@127.0.0.1:{sftp_server.port}: the password or key was refused."
    )
    assert PASSWORD not in SyncRun.objects.get().message


@pytest.mark.django_db
def test_sync_s3_outbound_job_writes_the_users_file_with_the_keys_from_the_environment(
    s3_server, environment, ada
):
    bucket = s3_server.bucket()
    environment.setenv("SYNC_ACCESS_KEY_ID", s3_server.access_key_id)
    environment.setenv("SYNC_SECRET_ACCESS_KEY", s3_server.secret_access_key)
    added, _ = run(
        "sync", "add", "To the lake", "--direction", "out", "--kind", "s3", "--file", "users",
        "--location", f"s3://{bucket}/exports/contacts-{{date}}.csv", "--contacts-only",
        "--endpoint-url", s3_server.endpoint_url, "--region", s3_server.region,
    )  # fmt: skip
    environment.delenv("SYNC_ACCESS_KEY_ID")
    environment.delenv("SYNC_SECRET_ACCESS_KEY")

    lines, (code, err) = run("sync", "run", "to the lake")

    key = f"exports/contacts-{timezone.localdate():%Y-%m-%d}.csv"
    assert (code, err) == (0, "")
    assert lines[1:] == ["1 row written.", "“To the lake”: Finished."]
    body = s3_server.client().get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert body.splitlines()[1:] == [
        "PARIS,Ada@Customer.example,Ada,Lovelace,CTO,'+33 1 23 45 67 89,Site admin,yes,yes,active,,"
    ]
    assert s3_server.secret_access_key not in "\n".join(added + lines)


@pytest.mark.django_db
def test_sync_postgres_job_imports_what_its_query_selects_once(postgres_source, tree):
    query = (
        'SELECT \'PARIS\' AS "Account ID", email AS "Email", first_name AS "First Name", '
        'last_name AS "Last Name" FROM people WHERE last_name IS NOT NULL ORDER BY id'
    )
    run(
        "sync", "add", "Warehouse", "--direction", "in", "--kind", "postgres", "--file", "users",
        "--location", postgres_source.location, "--query", query,
    )  # fmt: skip

    lines, (code, err) = run("sync", "run", "Warehouse")

    where = f"query on {postgres_source.dbname}@{postgres_source.host}"
    assert (code, err) == (0, "")
    assert lines[:2] == [
        f"Took {where}.",
        f"Users file {where}: 2 new, 0 updated, 0 unchanged, 0 failed.",
    ]
    assert {(email, account) for email, account, *_ in memberships()} == {
        ("ada@example.com", "PARIS"),
        ("jurgen@example.com", "PARIS"),
    }
    assert run("sync", "run", "Warehouse")[0] == [
        f"“Warehouse”: No new file: the one file matching was taken before, the newest {where}."
    ]
