"""/health/ (integrations/health.py): for load balancers, no sign-in, one query, 503 naming what
is down."""

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone

from integrations.models import Heartbeat, stale_after


def report(name, role, seconds_ago=0):
    return Heartbeat.objects.create(
        name=name, role=role, beat_at=timezone.now() - timedelta(seconds=seconds_ago)
    )


def probe(client):
    response = client.get("/health/")
    return response.status_code, json.loads(response.content)


@pytest.fixture
def everything_reports(db):
    report("worker a", Heartbeat.Role.WORKER)
    report("scheduler", Heartbeat.Role.SCHEDULER)


def test_all_well_is_200_with_one_query_and_no_session(
    client, everything_reports, django_assert_num_queries
):
    with django_assert_num_queries(1):
        response = client.get("/health/")

    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": "ok",
        "checks": {"database": "ok", "worker": "ok", "scheduler": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]
    assert "sessionid" not in response.cookies


def silent():
    """What a check says of a process without a recent report (60 seconds by default; at least
    15 minutes on SQLite, where a job holds the only write lock)."""
    return f"down: no report in the last {stale_after():g} seconds"


def test_a_worker_that_stopped_reporting_is_503_naming_the_worker(client, db):
    report("worker a", Heartbeat.Role.WORKER, seconds_ago=stale_after() + 1)
    report("scheduler", Heartbeat.Role.SCHEDULER, seconds_ago=1)

    assert probe(client) == (
        503,
        {
            "status": "down",
            "checks": {
                "database": "ok",
                "worker": silent(),
                "scheduler": "ok",
            },
        },
    )


def test_one_live_worker_among_stopped_ones_is_enough(client, db):
    report("worker old", Heartbeat.Role.WORKER, seconds_ago=stale_after() + 3600)
    report("worker new", Heartbeat.Role.WORKER)
    report("scheduler", Heartbeat.Role.SCHEDULER)

    assert probe(client)[0] == 200


def test_no_scheduler_is_503_naming_the_scheduler(client, db):
    report("worker a", Heartbeat.Role.WORKER)

    status, body = probe(client)

    assert (status, body["checks"]["scheduler"]) == (503, silent())
    assert body["checks"]["worker"] == "ok"


def test_no_background_process_at_all_is_503_naming_both(client, db):
    status, body = probe(client)

    assert status == 503
    assert [name for name, state in body["checks"].items() if state != "ok"] == [
        "worker",
        "scheduler",
    ]


def test_a_database_that_cannot_be_reached_is_503_naming_it(client, db):
    with mock.patch(
        "integrations.health.Heartbeat.objects.alive", side_effect=OperationalError("gone")
    ):
        status, body = probe(client)

    assert (status, body["checks"]) == (
        503,
        {
            "database": "down (OperationalError)",
            "worker": "unknown: the database cannot be reached",
            "scheduler": "unknown: the database cannot be reached",
        },
    )


def test_it_needs_no_sign_in_and_answers_over_http_when_https_is_enforced(
    client, everything_reports, settings
):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/health/").status_code == 200
    # Every other page still goes to https.
    assert client.get("/accounts/").status_code == 301


def test_it_only_reads(client, everything_reports):
    assert client.post("/health/").status_code in (403, 405)
