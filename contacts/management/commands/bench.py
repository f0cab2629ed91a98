"""Measure the quality bars of SPEC §7 on the current database (meant for PostgreSQL with
`seed_demo --size large`). It measures and reports; it checks and fails nothing.

Server time is measured through Django's test client: the whole request, middleware, view,
queries and template, as a browser would wait for it (without the network).
"""

import json
import statistics
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from config import staff

WARM_UP = 3


class Command(BaseCommand):
    help = "Measure the SPEC §7 quality bars and print them beside their bars (also as JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=30, help="Timed runs per page.")
        parser.add_argument(
            "--json", dest="json_path", default="bench-results.json", help="Where to write JSON."
        )

    def handle(self, *args, runs, json_path, **options):
        largest = (
            Account.objects.root_nodes()
            .order_by("-rght", "pk")  # the widest tree has the largest rght
            .first()
        )
        if largest is None:
            raise CommandError("No accounts: run `manage.py seed_demo --size large` first.")
        client = self._client()
        page_url = f"{largest.get_absolute_url()}?view=hierarchy"
        search_url = f"{largest.get_absolute_url()}?view=hierarchy&q=ada"
        typeahead_urls = [
            f"/accounts/{largest.pk}/people-suggestions/?q={term}"
            for term in ("ada", "lovelace", "grace hop", "zzqx", "north")
        ]
        results = [
            self._measure_page(
                client, "Account profile, Entire hierarchy, first page", [page_url],
                runs, bar_ms=60,
            ),
            self._measure_page(
                client, "Widget refresh with a search term (htmx)", [search_url], runs,
                bar_ms=40, htmx=True,
            ),
            self._measure_page(
                client, "Type-ahead over all people", typeahead_urls, runs, bar_ms=25,
            ),
        ]
        self._print(results, largest)
        Path(json_path).write_text(json.dumps(results, indent=2))
        self.stdout.write(f"\nWrote {json_path}.")

    def _client(self):
        staff_user, _ = get_user_model().objects.get_or_create(username="bench")
        staff_user.groups.add(Group.objects.get(name=staff.STANDARD))
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(staff_user)
        return client

    def _measure_page(self, client, name, urls, runs, *, bar_ms, htmx=False):
        headers = {"HX-Request": "true"} if htmx else {}
        for url in urls:
            for _ in range(WARM_UP):
                self._get(client, url, headers)
        timings = []
        for run in range(runs):
            url = urls[run % len(urls)]
            started = time.perf_counter()
            self._get(client, url, headers)
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            self._get(client, urls[0], headers)
        timings.sort()
        return {
            "name": name,
            "median_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
            "queries": len(queries),
            "bar": f"median ≤ {bar_ms} ms",
            "meets_bar": statistics.median(timings) <= bar_ms,
            "runs": runs,
            "urls": urls,
        }

    @staticmethod
    def _get(client, url, headers):
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        return response

    def _print(self, results, largest):
        self.stdout.write(
            f"Largest hierarchy: {largest.name} ({largest.get_descendant_count() + 1} accounts)\n"
        )
        header = f"{'what':<52} {'median':>9} {'p95':>9} {'queries':>8}  bar"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for r in results:
            mark = "meets" if r["meets_bar"] else "MISSES"
            self.stdout.write(
                f"{r['name']:<52} {r['median_ms']:>7.1f}ms {r['p95_ms']:>7.1f}ms "
                f"{r['queries']:>8}  {r['bar']} ({mark})"
            )
