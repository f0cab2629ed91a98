"""DATABASE_REPLICA_URL in config/settings.py, and nothing of config/replica.py without it
(tests/config/test_replica.py tests the replica itself): the suite's pinned query counts are
then those of one database."""

import os

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.db import connections
from django.http import HttpResponse

from config.replica import REPLICA, replica_reads
from tests.test_project import read_settings


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_REPLICA_URL")), reason="DATABASE_REPLICA_URL is set."
)
def test_without_a_replica_there_is_no_router_and_no_replica_middleware():
    assert settings.DATABASE_ROUTERS == []
    assert REPLICA not in connections
    with pytest.raises(MiddlewareNotUsed):
        replica_reads(lambda request: HttpResponse())


def test_a_replica_url_adds_the_replica_alias_and_the_router(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 60)
    monkeypatch.setenv("DATABASE_URL", "postgres://app@primary.example:5432/contacts")
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://app@replica.example:5433/contacts")
    monkeypatch.setenv("PG_OPTIONS", "-c max_parallel_workers_per_gather=0")

    read = read_settings()

    replica = read["DATABASES"]["replica"]
    assert (replica["HOST"], replica["PORT"], replica["NAME"]) == (
        "replica.example",
        5433,
        "contacts",
    )
    assert replica["OPTIONS"] == {
        "options": "-c max_parallel_workers_per_gather=0",
        "connect_timeout": 3,
    }
    assert replica["TEST"] == {"MIRROR": "default"}
    assert read["DATABASE_ROUTERS"] == ["config.routers.PrimaryReplicaRouter"]


@pytest.mark.parametrize(
    ("primary", "replica", "message"),
    [
        (
            "sqlite:///contacts.sqlite3",
            "postgres://app@replica.example/contacts",
            "DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL.",
        ),
        (
            "postgres://app@primary.example/contacts",
            "sqlite:///contacts.sqlite3",
            "DATABASE_REPLICA_URL must be a postgres:// URL.",
        ),
    ],
)
def test_a_replica_needs_postgresql_on_both_sides(monkeypatch, primary, replica, message):
    monkeypatch.setenv("SECRET_KEY", "x" * 60)
    monkeypatch.setenv("DATABASE_URL", primary)
    monkeypatch.setenv("DATABASE_REPLICA_URL", replica)

    with pytest.raises(ImproperlyConfigured) as error:
        read_settings()

    assert str(error.value) == message
