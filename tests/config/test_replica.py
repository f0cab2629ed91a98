"""Read replicas with read-your-writes (config/replica.py, config/routers.py), against a real
streaming replica of the test run's PostgreSQL server (tests/replica.py), replication lag made
real by pausing its replay.

The replica alias is added to Django's connections for each test, after the test's database
set-up (a transactional one: what the primary holds must be committed to reach the replica),
and taken away before its flush; the router is installed with override_settings, whose signal
resets Django's router cache. The replica alias is a test mirror, so the flush leaves it alone.
"""

import io
import logging
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config import staff
from config.replica import (
    MARK_COOKIE,
    MARK_SALT,
    PRIMARY,
    REPLICA,
    primary_position,
    replica_outage,
    replica_reads,
)
from contacts.models import Person
from integrations.models import Heartbeat
from integrations.tasks import purge_expired_files
from tests.factories import PersonFactory, StaffUserFactory
from tests.migrated_rows import restore_migrated_rows
from tests.replica import ReplicaUnavailable, _free_port, start_streaming_replica

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# One streaming replica per process that runs these tests (a copy of the whole cluster):
# pytest-xdist gives them all to one worker (make test runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("streaming_replica")

postgresql_only = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="Read replicas are PostgreSQL's streaming replication: set DATABASE_URL to a "
    "PostgreSQL server to run these tests.",
)
# Committed writes (a replica sees nothing else), on the primary and the replica's alias.
# The staff groups, made by a migration, come back after each test's flush (serialized_rollback).
replica_db = pytest.mark.django_db(
    transaction=True, serialized_rollback=True, databases=["default", "replica"]
)
ROUTERS = ["config.routers.PrimaryReplicaRouter"]


def _test_database():
    return connections[PRIMARY].settings_dict["NAME"]


@pytest.fixture(scope="module", autouse=True)
def _migrated_rows_around_the_module(django_db_setup, django_db_blocker):
    """The database as migrations left it, before these tests and after them: a transactional
    test run before them on this worker may have emptied it and had post_migrate make content
    types again under new ids, which serialized_rollback's restore by id would collide with
    (as tests/e2e/conftest.py does for the browser tests)."""
    if not ON_POSTGRESQL:
        yield
        return
    with django_db_blocker.unblock():
        restore_migrated_rows()
    yield
    with django_db_blocker.unblock():
        restore_migrated_rows()


@pytest.fixture(scope="module")
def streaming_replica(django_db_setup):
    """A streaming replica of the whole PostgreSQL cluster of the test database, for this
    module; skipped, with what to change, where the machine cannot run one."""
    primary = connections[PRIMARY].settings_dict
    try:
        replica = start_streaming_replica(
            host=primary["HOST"] or "127.0.0.1",
            port=int(primary["PORT"] or 5432),
            user=primary["USER"] or "postgres",
            dbname=_test_database(),
        )
    except ReplicaUnavailable as error:
        pytest.skip(str(error))
    yield replica
    replica.remove()


@pytest.fixture(scope="module")
def replica_alias(django_db_setup):
    """Django's "replica" alias, for this module: its settings, which each test points at the
    streaming replica or elsewhere. Added before each test's database set-up, which then allows
    it (the tests' `databases`); a test mirror of default, so that the flush after each test
    leaves it alone."""
    connections.settings[REPLICA] = {
        **connections[PRIMARY].settings_dict,
        "TEST": {**connections[PRIMARY].settings_dict["TEST"], "MIRROR": PRIMARY},
    }
    yield connections.settings[REPLICA]
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


def _point_replica_alias_at(replica_alias, host, port):
    connections[REPLICA].close()
    replica_alias.update(HOST=host, PORT=str(port))
    replica_outage.end()


@pytest.fixture
def unreachable_replica(replica_alias):
    """The router installed, the replica alias on a port of 127.0.0.1 where nothing listens."""
    _point_replica_alias_at(replica_alias, "127.0.0.1", _free_port())
    with override_settings(DATABASE_ROUTERS=ROUTERS):
        yield
    _point_replica_alias_at(replica_alias, "127.0.0.1", _free_port())


@pytest.fixture
def replica(unreachable_replica, replica_alias, streaming_replica):
    """The router installed, the replica alias on the streaming replica."""
    _point_replica_alias_at(replica_alias, streaming_replica.host, streaming_replica.port)
    return streaming_replica


def caught_up(replica):
    """Waits until the replica has replayed everything the primary committed so far."""
    replica.wait_until_replayed(_test_database(), primary_position())


def mark_of(client):
    """The browser's mark (the primary's WAL position it must see), or None."""
    cookie = client.cookies.get(MARK_COOKIE)
    if cookie is None or not cookie.value:
        return None
    request = HttpRequest()
    request.COOKIES[MARK_COOKIE] = cookie.value
    return request.get_signed_cookie(MARK_COOKIE, salt=MARK_SALT)


class Queries:
    """The SQL each connection ran inside the block: .primary and .replica, lists of str."""

    def __init__(self, *aliases):
        self._contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in aliases}

    def __enter__(self):
        for context in self._contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc_info):
        for context in self._contexts.values():
            context.__exit__(*exc_info)

    def on(self, alias):
        return [query["sql"] for query in self._contexts[alias].captured_queries]

    @property
    def primary(self):
        return self.on(PRIMARY)

    @property
    def replica(self):
        return self.on(REPLICA)


def _signed_in(client):
    user = StaffUserFactory(username="standard_user", group=staff.STANDARD)
    client.force_login(user)
    return client


def _add_contact(client, account):
    """Adds Grace Hopper as a new person and contact of `account`, through the real page."""
    return client.post(
        f"/accounts/{account.pk}/add-contact/",
        {
            "new": "1",
            "email": "grace@navy.example",
            "first_name": "Grace",
            "last_name": "Hopper",
            "title": "",
            "phone": "",
            "role": "",
        },
    )


def _reads_table(queries, table):
    return any(f'FROM "{table}"' in sql for sql in queries)


@postgresql_only
@replica_db
def test_a_get_page_reads_the_replica_and_a_post_the_primary(replica, tree, client):
    _signed_in(client)
    caught_up(replica)

    with Queries(PRIMARY, REPLICA) as queries:
        page = client.get(tree["paris"].get_absolute_url())

    assert page.status_code == 200
    assert queries.primary == []
    assert _reads_table(queries.replica, "django_session")
    assert _reads_table(queries.replica, "accounts_account")
    assert MARK_COOKIE not in page.cookies

    with Queries(PRIMARY, REPLICA) as queries:
        added = _add_contact(client, tree["paris"])

    assert (added.status_code, added["Location"]) == (302, tree["paris"].get_absolute_url())
    assert queries.replica == []
    assert any(sql.startswith('INSERT INTO "contacts_person"') for sql in queries.primary)
    # The mark: the primary's position once the change was committed (the last query).
    assert queries.primary[-1] == "SELECT pg_current_wal_lsn()::text"
    assert mark_of(client) is not None


@postgresql_only
@replica_db
def test_a_worker_task_and_a_command_read_the_primary(replica, tree, tmp_path):
    PersonFactory(email="ada@example.com")
    caught_up(replica)
    users_file = tmp_path / "users.csv"
    users_file.write_text(
        "Account ID,Email,First Name,Last Name,Title,Phone,Account Role,Contact,Key Contact\n"
        "PARIS,ada@example.com,Ada,Lovelace,,,,yes,no\n"
    )

    with Queries(PRIMARY, REPLICA) as queries:
        call_command("import_users", str(users_file), stdout=io.StringIO())
        purge_expired_files.enqueue()

    assert queries.replica == []
    assert _reads_table(queries.primary, "contacts_person")
    assert _reads_table(queries.primary, "integrations_importjob")
    assert Person.objects.get().last_name == "Lovelace"


@postgresql_only
@replica_db
def test_a_staff_users_change_never_disappears_while_the_replica_lags(replica, tree, client):
    database = _test_database()
    _signed_in(client)
    caught_up(replica)

    replica.pause_replay(database)
    try:
        assert _add_contact(client, tree["paris"]).status_code == 302
        mark = mark_of(client)

        with Queries(PRIMARY, REPLICA) as queries:
            page = client.get(tree["paris"].get_absolute_url())

        assert page.status_code == 200
        assert "Grace Hopper" in page.text
        # The replica, paused, has not got it: the page was read from the primary.
        assert replica.execute(
            database, "SELECT count(*) FROM contacts_person WHERE email = 'grace@navy.example'"
        ) == [(0,)]
        assert queries.replica == [
            f"SELECT pg_last_wal_replay_lsn() >= '{mark}'::pg_lsn",
        ]
        assert _reads_table(queries.primary, "contacts_membership")
        # What this page showed is now the mark: the next pages cannot show less.
        assert queries.primary[-1] == "SELECT pg_current_wal_lsn()::text"
        renewed_mark = mark_of(client)
        assert renewed_mark is not None
    finally:
        replica.resume_replay(database)

    replica.wait_until_replayed(database, renewed_mark)
    with Queries(PRIMARY, REPLICA) as queries:
        page = client.get(tree["paris"].get_absolute_url())

    assert page.status_code == 200
    assert "Grace Hopper" in page.text
    assert queries.primary == []
    assert queries.replica[0] == f"SELECT pg_last_wal_replay_lsn() >= '{renewed_mark}'::pg_lsn"
    assert _reads_table(queries.replica, "contacts_membership")
    # Caught up: the mark is dropped, and the next page asks the replica nothing first.
    assert (page.cookies[MARK_COOKIE].value, page.cookies[MARK_COOKIE]["max-age"]) == ("", 0)
    assert mark_of(client) is None

    with Queries(PRIMARY, REPLICA) as queries:
        assert client.get(tree["paris"].get_absolute_url()).status_code == 200
    assert queries.primary == []
    assert not any("pg_last_wal_replay_lsn" in sql for sql in queries.replica)


@postgresql_only
@replica_db
def test_a_write_in_a_get_request_pins_the_rest_of_it_to_the_primary(replica):
    person = PersonFactory(first_name="Ada")
    caught_up(replica)
    replica.pause_replay(_test_database())
    seen = []

    def view(request):
        seen.append(Person.objects.get(pk=person.pk).first_name)
        Person.objects.filter(pk=person.pk).update(first_name="Augusta")
        seen.append(Person.objects.get(pk=person.pk).first_name)
        return HttpResponse()

    try:
        with Queries(PRIMARY, REPLICA) as queries:
            response = replica_reads(view)(RequestFactory().get("/"))
    finally:
        replica.resume_replay(_test_database())

    assert seen == ["Ada", "Augusta"]
    assert len(queries.replica) == 1 and _reads_table(queries.replica, "contacts_person")
    assert [sql.split(" ", 1)[0] for sql in queries.primary] == ["UPDATE", "SELECT", "SELECT"]
    assert queries.primary[-1] == "SELECT pg_current_wal_lsn()::text"
    assert MARK_COOKIE in response.cookies


@postgresql_only
@replica_db
def test_an_unreachable_replica_leaves_the_pages_on_the_primary(
    unreachable_replica, tree, client, caplog
):
    _signed_in(client)

    with caplog.at_level(logging.WARNING, logger="config.replica"):
        pages = [client.get(tree["paris"].get_absolute_url()) for _ in range(2)]

    assert [page.status_code for page in pages] == [200, 200]
    assert all("Paris" in page.text for page in pages)
    # One warning, then the replica is left alone for a while: no attempt on every page.
    assert [record.getMessage()[:48] for record in caplog.records] == [
        "The replica cannot be reached (OperationalError:",
    ]


def _everything_reports():
    for name, role in [
        ("worker a", Heartbeat.Role.WORKER),
        ("scheduler", Heartbeat.Role.SCHEDULER),
    ]:
        Heartbeat.objects.create(name=name, role=role, beat_at=timezone.now())


@postgresql_only
@replica_db
def test_health_reports_the_replica(replica, client):
    _everything_reports()

    response = client.get("/health/")

    assert (response.status_code, response.json()["checks"]) == (
        200,
        {"database": "ok", "worker": "ok", "scheduler": "ok", "replica": "ok"},
    )


@postgresql_only
@replica_db
def test_health_reports_a_replica_that_lags_without_taking_the_web_server_out(
    replica, client, monkeypatch
):
    _everything_reports()
    # Any lag is reported: how many seconds a paused replay has lasted is not for a test to wait.
    monkeypatch.setattr("integrations.health.REPLICA_LAG_REPORTED_FROM", 0)
    replica.pause_replay(_test_database())
    try:
        PersonFactory()
        # Received, not replayed.
        replica.wait_until_received(_test_database(), primary_position())
        response = client.get("/health/")
    finally:
        replica.resume_replay(_test_database())

    assert response.status_code == 200
    assert re.fullmatch(r"lagging \d+ s", response.json()["checks"]["replica"])


@postgresql_only
@replica_db
def test_health_reports_a_replica_down_without_taking_the_web_server_out(
    unreachable_replica, client
):
    _everything_reports()

    response = client.get("/health/")

    assert (response.status_code, response.json()) == (
        200,
        {
            "status": "ok",
            "checks": {
                "database": "ok",
                "worker": "ok",
                "scheduler": "ok",
                "replica": "down (OperationalError)",
            },
        },
    )


@postgresql_only
@replica_db
def test_a_request_inside_a_transaction_on_the_primary_reads_in_it(replica):
    seen = []

    def view(request):
        seen.append(Person.objects.get().first_name)
        return HttpResponse()

    with Queries(PRIMARY, REPLICA) as queries, transaction.atomic():
        # Not committed: only this transaction sees Ada.
        PersonFactory(first_name="Ada")
        replica_reads(view)(RequestFactory().get("/"))

    assert seen == ["Ada"]
    assert queries.replica == []


@postgresql_only
@replica_db
def test_health_reports_a_replica_url_that_names_a_primary(
    unreachable_replica, replica_alias, client
):
    _everything_reports()
    primary = connections[PRIMARY].settings_dict
    _point_replica_alias_at(replica_alias, primary["HOST"], primary["PORT"])

    response = client.get("/health/")

    assert (response.status_code, response.json()["checks"]["replica"]) == (
        200,
        "down (not a replica: it replays no WAL)",
    )
