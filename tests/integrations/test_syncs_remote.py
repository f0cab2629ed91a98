"""Integration jobs against real servers the tests start on 127.0.0.1 (tests/servers.py): an
SFTP server, an S3 endpoint, an HTTPS server and a second PostgreSQL database. What the places
themselves do and refuse is in test_places.py; here, whole runs through them."""

from django.test import override_settings

from contacts.models import Person
from integrations import syncs
from integrations.models import ImportJob, IntegrationJob, SyncRun
from tests.factories import MembershipFactory, PersonFactory
from tests.integrations.conftest import users_csv

GOOD = users_csv(
    "PARIS,ada@example.com,Ada,Lovelace,,,Site admin,yes,no",
    "BERLIN,alan@example.com,Alan,Turing,,,,no,no",
)


def job(direction, place, location, *, secrets=None, **fields):
    integration_job = IntegrationJob(
        name=f"{place} {direction}",
        direction=direction,
        place=place,
        location=location,
        **fields,
    )
    integration_job.set_secrets(secrets or {})
    integration_job.save()
    return integration_job


def run_now(integration_job):
    return syncs.start_run(integration_job, trigger=SyncRun.Trigger.RUN_NOW)


def imports_back_unchanged(data):
    from integrations import services
    from tests.integrations.conftest import csv_file

    result = services.import_file(
        kind="users", file=csv_file(data.decode("utf-8-sig")), dry_run=True
    )
    return (result.new, result.updated, result.failed) == (0, 0, 0) and result.unchanged


# SFTP


def test_an_sftp_job_imports_the_newest_file_once_and_moves_it(tree, sftp_server):
    (sftp_server.root / "drop").mkdir()
    (sftp_server.root / "drop" / "users-1.csv").write_text(GOOD, encoding="utf-8")
    inbound = job(
        "in",
        "sftp",
        sftp_server.location("/drop/users-*.csv"),
        secrets={"password": sftp_server.password},
        options={"host_key": sftp_server.host_key_line},
        move_processed=True,
    )

    first, second = run_now(inbound), run_now(inbound)

    assert first.status == SyncRun.Status.SUCCEEDED, first.message
    assert first.import_job.new_rows == 2
    assert Person.objects.count() == 2
    assert (sftp_server.root / "drop" / "processed" / "users-1.csv").exists()
    assert second.status == SyncRun.Status.NOTHING_NEW


def test_an_sftp_job_signs_in_with_a_private_key_and_writes_the_users_file(tree, sftp_server):
    MembershipFactory(person=PersonFactory(email="ada@example.com"), account=tree["paris"])
    (sftp_server.root / "out").mkdir()
    outbound = job(
        "out",
        "sftp",
        sftp_server.location("/out/users-{date}.csv"),
        secrets={"private_key": sftp_server.private_key},
        options={"host_key": sftp_server.host_key_line},
    )

    run = run_now(outbound)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    written = list((sftp_server.root / "out").iterdir())
    assert len(written) == 1 and written[0].name.startswith("users-")
    assert imports_back_unchanged(written[0].read_bytes())


def test_a_wrong_password_fails_the_run_without_showing_it(tree, sftp_server):
    inbound = job(
        "in",
        "sftp",
        sftp_server.location("/users-*.csv"),
        secrets={"password": "wrong-secret-password"},
        options={"host_key": sftp_server.host_key_line},
    )

    run = run_now(inbound)

    assert run.status == SyncRun.Status.FAILED
    assert "refused" in run.message
    assert "wrong-secret-password" not in run.message
    inbound.refresh_from_db()
    assert inbound.failures_in_a_row == 1


def test_a_server_presenting_another_host_key_is_not_trusted(tree, sftp_server):
    from tests.servers import new_host_key_line

    (sftp_server.root / "users-1.csv").write_text(GOOD, encoding="utf-8")
    inbound = job(
        "in",
        "sftp",
        sftp_server.location("/users-*.csv"),
        secrets={"password": sftp_server.password},
        options={"host_key": new_host_key_line()},
    )

    run = run_now(inbound)

    assert run.status == SyncRun.Status.FAILED
    assert "host key" in run.message
    assert not Person.objects.exists()


# S3


def test_an_s3_job_imports_by_etag_once_and_writes_back(tree, s3_server):
    bucket = s3_server.bucket()
    s3_server.client().put_object(Bucket=bucket, Key="in/users-1.csv", Body=GOOD.encode())
    keys = {
        "access_key_id": s3_server.access_key_id,
        "secret_access_key": s3_server.secret_access_key,
    }
    options = {"endpoint_url": s3_server.endpoint_url, "region": s3_server.region}
    inbound = job("in", "s3", f"s3://{bucket}/in/users-*.csv", secrets=keys, options=options)
    outbound = job("out", "s3", f"s3://{bucket}/out/", secrets=keys, options=options)

    first, second = run_now(inbound), run_now(inbound)
    written = run_now(outbound)

    assert first.status == SyncRun.Status.SUCCEEDED, first.message
    assert Person.objects.count() == 2
    assert second.status == SyncRun.Status.NOTHING_NEW
    assert written.status == SyncRun.Status.SUCCEEDED, written.message
    listing = s3_server.client().list_objects_v2(Bucket=bucket, Prefix="out/")["Contents"]
    assert len(listing) == 1
    body = s3_server.client().get_object(Bucket=bucket, Key=listing[0]["Key"])["Body"].read()
    assert imports_back_unchanged(body)


def test_a_bucket_that_does_not_exist_fails_the_run(tree, s3_server):
    inbound = job(
        "in",
        "s3",
        "s3://no-such-bucket-here/users-*.csv",
        secrets={
            "access_key_id": s3_server.access_key_id,
            "secret_access_key": s3_server.secret_access_key,
        },
        options={"endpoint_url": s3_server.endpoint_url},
    )

    run = run_now(inbound)

    assert run.status == SyncRun.Status.FAILED
    assert "no-such-bucket-here" in run.message and "does not exist" in run.message


# HTTPS


def test_an_https_job_imports_a_url_with_a_bearer_token_once(tree, https_server):
    https_server.files["/export/users.csv"] = GOOD.encode()
    https_server.token = "bearer-token-value"
    inbound = job(
        "in",
        "https",
        https_server.url("/export/users.csv"),
        secrets={"token": "bearer-token-value"},
    )

    with override_settings(SYNC_CA_BUNDLE=str(https_server.ca_pem)):
        first, second = run_now(inbound), run_now(inbound)

    assert first.status == SyncRun.Status.SUCCEEDED, first.message
    assert Person.objects.count() == 2
    assert second.status == SyncRun.Status.NOTHING_NEW


# PostgreSQL


def test_a_postgres_job_imports_what_its_query_selects(tree, postgres_source):
    inbound = job(
        "in",
        "postgres",
        postgres_source.location,
        secrets={"password": postgres_source.password} if postgres_source.password else {},
        options={
            # The source's own names become ours in the query: its columns are the file's.
            "query": 'SELECT \'PARIS\' AS "Account ID", email AS "Email", '
            'first_name AS "First Name", last_name AS "Last Name" FROM people '
            "WHERE email = 'ada@example.com'"
        },
    )

    first, second = run_now(inbound), run_now(inbound)

    assert first.status == SyncRun.Status.SUCCEEDED, first.message
    assert first.import_job.status == ImportJob.Status.SUCCEEDED
    assert Person.objects.get().email == "ada@example.com"
    assert second.status == SyncRun.Status.NOTHING_NEW  # the same rows: nothing new


def test_an_sql_error_fails_the_run_quoting_postgresql(tree, postgres_source):
    inbound = job(
        "in",
        "postgres",
        postgres_source.location,
        options={"query": "SELECT * FROM no_such_table"},
    )

    run = run_now(inbound)

    assert run.status == SyncRun.Status.FAILED
    assert "no_such_table" in run.message


def test_a_query_whose_result_goes_back_to_an_earlier_one_is_imported_again(tree, postgres_source):
    """A query's result is known by its content's hash only: it is new whenever it differs
    from the last one taken, even when it was seen before (yes → no → yes)."""
    postgres_source.execute(
        "CREATE TABLE IF NOT EXISTS marks (email text, contact text);"
        "DELETE FROM marks; INSERT INTO marks VALUES ('ada@example.com', 'yes')"
    )
    inbound = job(
        "in",
        "postgres",
        postgres_source.location,
        options={
            "query": "SELECT 'PARIS' AS \"Account ID\", email AS \"Email\", 'Ada' AS "
            '"First Name", \'Lovelace\' AS "Last Name", contact AS "Contact" FROM marks'
        },
    )
    statuses = []
    for contact in ("yes", "no", "yes"):
        postgres_source.execute(f"UPDATE marks SET contact = '{contact}'")
        statuses.append(run_now(inbound).status)

    assert statuses == [SyncRun.Status.SUCCEEDED] * 3, inbound.runs.first().message
    assert Person.objects.get().memberships.get().is_contact
