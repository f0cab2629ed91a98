"""The page measures of `manage.py bench` (SPEC §7): the account profile, the widget refresh and
the type-ahead, each timed as a whole request through Django's test client (middleware, view,
queries and template, as a browser waits for it, without the network)."""

import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Account

from .database import bench_staff_user
from .figures import percentile

WARM_UP = 3
SEARCH_TERM = "ada"
TYPE_AHEAD_TERMS = ("ada", "lovelace", "grace hop", "zzqx", "north")


def signed_in_client():
    """A test client signed in as the bench staff user (made the first time)."""
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(bench_staff_user())
    return client


def largest_company():
    # The widest tree has the largest rght.
    return Account.objects.root_nodes().order_by("-rght", "pk").first()


def page_urls(company):
    """(what, URLs, htmx?) of each page bar, on `company`."""
    profile = company.get_absolute_url()
    return [
        ("account_page", [f"{profile}?view=hierarchy"], False),
        ("widget_search", [f"{profile}?view=hierarchy&q={SEARCH_TERM}"], True),
        (
            "type_ahead",
            [f"/accounts/{company.pk}/people-suggestions/?q={term}" for term in TYPE_AHEAD_TERMS],
            False,
        ),
    ]


def measure_page(client, urls, runs, *, htmx=False):
    """Median and 95th percentile of `runs` requests (the URLs in turn) after a warm-up of each,
    and the SQL queries of one request to the first URL."""
    headers = {"HX-Request": "true"} if htmx else {}
    for url in urls:
        for _ in range(WARM_UP):
            _get(client, url, headers)
    timings = []
    for run in range(runs):
        url = urls[run % len(urls)]
        started = time.perf_counter()
        _get(client, url, headers)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        _get(client, urls[0], headers)
    return {
        "median_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 95),
        "queries": len(queries),
        "runs": runs,
        "urls": urls,
    }


def _get(client, url, headers):
    response = client.get(url, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return response
