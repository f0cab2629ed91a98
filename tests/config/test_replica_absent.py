"""Without DATABASE_REPLICA_URL nothing of config/replica.py runs (tests/config/test_replica.py
tests it with one): the suite's pinned query counts are those of one database."""

import os

import pytest
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django.http import HttpResponse

from config.replica import REPLICA, replica_reads


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_REPLICA_URL")), reason="DATABASE_REPLICA_URL is set."
)
def test_without_a_replica_there_is_no_router_and_no_replica_middleware():
    assert settings.DATABASE_ROUTERS == []
    assert REPLICA not in connections
    with pytest.raises(MiddlewareNotUsed):
        replica_reads(lambda request: HttpResponse())
