"""The page measures of `manage.py bench` (SPEC §7): the account profile, the widget refresh,
the type-ahead and the People list, each timed as a whole request through Django's test client
(middleware, view, queries and template, as a browser waits for it, without the network), with
the time spent in SQL during each request beside it (SqlTimer)."""

import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account, Scope

from .database import bench_staff_user
from .figures import percentile

WARM_UP = 3


@dataclass(frozen=True)
class Page:
    """One line of the table: `urls` requested in turn. `under`: the key of the page whose bar
    this line is measured against (an extra line under it, e.g. the same list sorted)."""

    key: str
    name: str
    urls: tuple[str, ...]
    htmx: bool = False
    under: str | None = None

    @property
    def bar_key(self):
        return self.under or self.key


def signed_in_client():
    """A test client signed in as the bench staff user (made the first time)."""
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(bench_staff_user())
    return client


def largest_company():
    # The widest tree has the largest rght.
    return Account.objects.root_nodes().order_by("-rght", "pk").first()


def pages_to_measure(company, terms):
    """The Pages measured on `company` (the largest), searching `terms` (bench.terms)."""
    profile = company.get_absolute_url()
    common = terms.common_last_name.text

    def widget(**params):
        return f"{profile}?{urlencode({'view': Scope.ENTIRE_HIERARCHY.value, **params})}"

    people = reverse("contacts:people")
    people_filters = (
        {"contact": "yes"},
        {"q": common},
        {"account": company.external_id, "scope": Scope.ENTIRE_HIERARCHY.value},
    )
    suggestions = reverse("contacts:people-suggestions", args=[company.pk])
    return [
        Page("account_page", "Account profile, Entire hierarchy, first page", (widget(),)),
        Page("widget_search", f"Widget refresh, searching “{common}”", (widget(q=common),), True),
        Page(
            "widget_sort_role",
            "  the widget sorted by Role",
            (widget(sort="role"),),
            True,
            under="widget_search",
        ),
        Page(
            "widget_sort_email",
            "  the widget sorted by E-mail",
            (widget(sort="email"),),
            True,
            under="widget_search",
        ),
        Page(
            "type_ahead",
            f"Type-ahead over all people, {len(terms.type_ahead)} terms",
            tuple(f"{suggestions}?{urlencode({'q': term.text})}" for term in terms.type_ahead),
        ),
        Page(
            "people_list",
            f"People list, first page, {len(people_filters)} filters",
            tuple(f"{people}?{urlencode(filters)}" for filters in people_filters),
        ),
        Page(
            "people_list_sort_email",
            "  the same, sorted by E-mail",
            tuple(
                f"{people}?{urlencode({**filters, 'sort': 'email'})}" for filters in people_filters
            ),
            under="people_list",
        ),
    ]


class SqlTimer:
    """The time spent in SQL, as a connection.execute_wrapper: each query's execute and the
    fetches of its rows (Django's compiler fetches through the same cursor wrapper, in chunks,
    after the execute returns: converting rows to Python is part of a query's cost)."""

    FETCHES = ("fetchone", "fetchmany", "fetchall")

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        self._time_fetches(context["cursor"])
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started

    def _time_fetches(self, cursor):
        """Time the fetches of Django's cursor wrapper: it hands them on to the driver's cursor
        through __getattr__, so attributes of the instance come first."""
        if cursor.__dict__.get("_bench_sql_timer") is self:
            return
        cursor._bench_sql_timer = self
        for name in self.FETCHES:
            # The wrapper's own delegation, whatever an earlier timer set on this cursor.
            setattr(cursor, name, self._timed(type(cursor).__getattr__(cursor, name)))

    def _timed(self, fetch):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fetch(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


def measure_page(client, page, runs):
    """Median and 95th percentile of `runs` requests (the page's URLs in turn) after a warm-up
    of each, the median time spent in SQL per request and its share, and the SQL queries of one
    request to each URL."""
    headers = {"HX-Request": "true"} if page.htmx else {}
    for url in page.urls:
        for _ in range(WARM_UP):
            _get(client, url, headers)
    timings, sql_timings = [], []
    timer = SqlTimer()
    with connection.execute_wrapper(timer):
        for run in range(runs):
            url = page.urls[run % len(page.urls)]
            timer.seconds = 0.0
            started = time.perf_counter()
            _get(client, url, headers)
            timings.append((time.perf_counter() - started) * 1000)
            sql_timings.append(timer.seconds * 1000)
    queries_each = []
    for url in page.urls:
        with CaptureQueriesContext(connection) as queries:
            _get(client, url, headers)
        queries_each.append(len(queries))
    median, sql_median = statistics.median(timings), statistics.median(sql_timings)
    figures = {
        "median_ms": median,
        "p95_ms": percentile(timings, 95),
        "sql_median_ms": sql_median,
        "sql_share": sql_median / median if median else 0.0,
        "queries": queries_each[0],
        "queries_each": queries_each,
        "runs": runs,
        "urls": list(page.urls),
    }
    if len(page.urls) > 1:
        # Which of the URLs taken in turn costs what: the bar's median hides a slow one.
        step = len(page.urls)
        figures["each_url"] = [
            {
                "url": url,
                "median_ms": statistics.median(timings[at::step]),
                "sql_median_ms": statistics.median(sql_timings[at::step]),
                "queries": queries,
            }
            for at, (url, queries) in enumerate(zip(page.urls, queries_each, strict=True))
            if timings[at::step]
        ]
    return figures


def _get(client, url, headers):
    response = client.get(url, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return response
