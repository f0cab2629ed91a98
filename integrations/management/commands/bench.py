"""Measure the quality bars of SPEC §7 on the current database and print each beside its bar
(also written as JSON). Meant for PostgreSQL with `seed_demo --size large` and production
settings; `make bench` builds a fresh database and runs it. It measures; it checks and fails
nothing.

The pages are timed through Django's test client (contacts.benchmarks). The users import and
export each run in a child process of their own (`--part`), so the peak memory reported is
theirs alone (integrations.benchmarks).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from accounts.models import Account
from contacts import benchmarks as pages
from contacts.models import Membership, Person
from integrations import benchmarks as integrations

PARTS = ("pages", "import", "export")
PAGE_BARS = {
    "account_page": ("Account profile, Entire hierarchy, first page", 60),
    "widget_search": (f"Widget refresh, searching “{pages.SEARCH_TERM}”", 40),
    "type_ahead": (f"Type-ahead over all people, {len(pages.TYPE_AHEAD_TERMS)} terms", 25),
}
IMPORT_BAR_S, IMPORT_BAR_MB, EXPORT_BAR_S = 15, 500, 15


class Command(BaseCommand):
    help = "Measure the SPEC §7 quality bars and print them beside their bars (also as JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=30, help="Timed runs per page.")
        parser.add_argument(
            "--import-runs", type=int, default=3, help="Runs of the users import and of the export."
        )
        parser.add_argument(
            "--import-rows", type=int, default=100_000, help="Rows of the generated users file."
        )
        parser.add_argument(
            "--plain-rows",
            type=int,
            default=10_000,
            help="Rows given to plain django-import-export (scaled to the file).",
        )
        parser.add_argument(
            "--only", choices=PARTS, action="append", help="Measure only this part (repeatable)."
        )
        parser.add_argument(
            "--json",
            dest="json_path",
            default="bench-results.json",
            help="Where to write the figures as JSON.",
        )
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="Run every measure in this process (peak memory is then the whole run's).",
        )
        # A child process measuring one thing for the parent: prints its figures as JSON.
        parser.add_argument("--part", help=argparse.SUPPRESS)
        parser.add_argument("--users-file", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["part"]:
            figures = self.measure_part(options["part"], options)
            self.stdout.write(json.dumps(figures))
            return
        company = pages.largest_company()
        if company is None:
            raise CommandError("No accounts: run `manage.py seed_demo --size large` first.")
        self.in_process = options["in_process"]
        parts = options["only"] or PARTS
        self.settle_database()
        report = {
            "database": f"{connection.vendor} {connection.settings_dict['NAME']}",
            "data": {
                "accounts": Account.objects.count(),
                "people": Person.objects.count(),
                "memberships": Membership.objects.count(),
                "contacts": Membership.objects.contacts().count(),
                "largest_company": company.name,
                "largest_company_accounts": company.get_descendant_count() + 1,
            },
            "bars": [],
        }
        if "pages" in parts:
            report["bars"] += self.measure_pages(company, options["runs"])
        if "import" in parts:
            bar, side_by_side = self.measure_import(options)
            report["bars"].append(bar)
            report["import_side_by_side"] = side_by_side
        if "export" in parts:
            report["bars"].append(self.measure_export(options["import_runs"]))
        self.print_report(report)
        Path(options["json_path"]).write_text(json.dumps(report, indent=2))
        self.stdout.write(f"\nWrote {options['json_path']}.")

    def settle_database(self):
        """Write out what the seed (or anything before) left in PostgreSQL's buffers now: left
        to itself, the checkpointer spreads a gigabyte of writes over the next minutes, across
        the measures. CHECKPOINT needs a superuser or the pg_checkpoint role."""
        if connection.vendor != "postgresql":
            return
        try:
            with connection.cursor() as cursor:
                cursor.execute("CHECKPOINT")
        except DatabaseError as error:
            self.stderr.write(f"No CHECKPOINT before measuring ({error}); figures may be noisier.")

    # Measuring

    def measure_pages(self, company, runs):
        client = pages.signed_in_client()
        bars = []
        for key, urls, htmx in pages.page_urls(company):
            name, bar_ms = PAGE_BARS[key]
            figures = pages.measure_page(client, urls, runs, htmx=htmx)
            bars.append(
                {
                    "key": key,
                    "name": name,
                    **figures,
                    "bar": f"median ≤ {bar_ms} ms",
                    "holds": figures["median_ms"] <= bar_ms,
                }
            )
        return bars

    def measure_import(self, options):
        runs, rows = options["import_runs"], options["import_rows"]
        with tempfile.TemporaryDirectory() as folder:
            users_file = str(integrations.write_users_file(folder, rows))
            try:
                # The floor and plain django-import-export roll back: each measure starts with
                # every person of the file new.
                floor = [self.run_part("import-floor", users_file) for _ in range(runs)]
                plain = self.run_part("import-plain", users_file, options["plain_rows"])
                ours = []
                for _ in range(runs):
                    integrations.clean_up_people()
                    ours.append(self.run_part("import", users_file))
            finally:
                integrations.clean_up_people()
                integrations.clean_up_accounts()
        seconds = [run["seconds"] for run in ours]
        peak = max(run["peak_rss_mb"] for run in ours)
        median = statistics.median(seconds)
        floor_s = statistics.median(run["seconds"] for run in floor) if all(floor) else None
        bar = {
            "key": "users_import",
            "name": f"Users import, {rows:,} rows, preview + commit",
            "median_s": median,
            "p95_s": pages.percentile(seconds, 95),
            "preview_s": statistics.median(run["preview_s"] for run in ours),
            "commit_s": statistics.median(run["commit_s"] for run in ours),
            "rows_per_s": rows / median,
            "peak_rss_mb": peak,
            "runs": runs,
            "bar": f"≤ {IMPORT_BAR_S} s, peak memory ≤ {IMPORT_BAR_MB} MB",
            "holds": median <= IMPORT_BAR_S and peak <= IMPORT_BAR_MB,
        }
        side_by_side = {
            "ours": {"rows": rows, "seconds": median, "rows_per_s": rows / median},
            "plain": plain,
            "floor": (
                {"rows": rows, "seconds": floor_s, "rows_per_s": rows / floor_s}
                if floor_s
                else None
            ),
            "plain_over_ours": plain["scaled_seconds"] / median,
            "ours_over_floor": median / floor_s if floor_s else None,
        }
        return bar, side_by_side

    def measure_export(self, runs):
        results = [self.run_part("export") for _ in range(runs)]
        seconds = [run["seconds"] for run in results]
        median = statistics.median(seconds)
        last = results[-1]
        checkpoints = last["checkpoints"]
        growth = (checkpoints[-1]["rss_mb"] - checkpoints[0]["rss_mb"]) if checkpoints else 0.0
        return {
            "key": "users_export",
            "name": f"Users export, {last['rows']:,} rows, streamed CSV",
            "median_s": median,
            "p95_s": pages.percentile(seconds, 95),
            "first_byte_s": last["first_byte_s"],
            "rows_per_s": last["rows"] / median,
            "peak_rss_mb": max(run["peak_rss_mb"] for run in results),
            "rss_checkpoints": checkpoints,
            "rss_growth_mb": growth,
            "runs": runs,
            "bar": f"streamed, ≤ {EXPORT_BAR_S} s, memory flat as rows grow",
            # Flat: no more than a few MB more at the last checkpoint than at the first.
            "holds": last["streamed"] and median <= EXPORT_BAR_S and growth <= 5,
        }

    def run_part(self, part, users_file=None, plain_rows=None):
        """Measure one part in a fresh process (or here, with --in-process)."""
        options = {"users_file": users_file, "plain_rows": plain_rows}
        if self.in_process:
            return self.measure_part(part, options)
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "bench", "--part", part]
        if users_file:
            command += ["--users-file", users_file]
        if plain_rows:
            command += ["--plain-rows", str(plain_rows)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise CommandError(f"Measuring {part} failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def measure_part(self, part, options):
        users_file = Path(options["users_file"]) if options.get("users_file") else None
        if part == "import":
            return integrations.measure_import(users_file)
        if part == "import-plain":
            return integrations.measure_plain_import(users_file, options["plain_rows"])
        if part == "import-floor":
            if connection.vendor != "postgresql":
                return None
            return integrations.measure_copy_floor(users_file)
        if part == "export":
            return integrations.measure_export(pages.signed_in_client())
        raise CommandError(f"No part {part!r}.")

    # Reporting

    def print_report(self, report):
        data = report["data"]
        self.stdout.write(
            f"Database {report['database']}: {data['accounts']:,} accounts, {data['people']:,} "
            f"people, {data['memberships']:,} memberships, {data['contacts']:,} contacts. "
            f"Largest company: {data['largest_company']} "
            f"({data['largest_company_accounts']:,} accounts).\n"
        )
        header = f"{'what':<48} {'median':>9} {'p95':>9} {'queries':>7} {'memory':>8}  bar"
        self.stdout.write(header)
        self.stdout.write("-" * (len(header) + 40))
        for bar in report["bars"]:
            if "median_ms" in bar:
                median, p95 = f"{bar['median_ms']:.1f} ms", f"{bar['p95_ms']:.1f} ms"
            else:
                median, p95 = f"{bar['median_s']:.2f} s", f"{bar['p95_s']:.2f} s"
            queries = str(bar.get("queries", ""))
            memory = f"{bar['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in bar else ""
            verdict = "holds" if bar["holds"] else "MISSED"
            self.stdout.write(
                f"{bar['name']:<48} {median:>9} {p95:>9} {queries:>7} {memory:>8}  "
                f"{bar['bar']}: {verdict}"
            )
        for bar in report["bars"]:
            if bar["key"] == "users_export":
                points = ", ".join(
                    f"{point['rows'] // 1000:,}k rows {point['rss_mb']:.0f} MB"
                    for point in bar["rss_checkpoints"]
                )
                self.stdout.write(
                    f"\nExport memory as it streams: {points} (growth {bar['rss_growth_mb']:+.1f}"
                    f" MB); first bytes after {bar['first_byte_s'] * 1000:.0f} ms."
                )
        if "import_side_by_side" in report:
            self.print_side_by_side(report["import_side_by_side"])

    def print_side_by_side(self, side):
        ours, plain, floor = side["ours"], side["plain"], side["floor"]
        self.stdout.write(f"\nUsers import of the same {ours['rows']:,}-row file, side by side:")
        self.stdout.write(f"{'':<52} {'seconds':>9} {'rows/s':>9}")
        self.stdout.write(
            f"{'this project (preview + commit)':<52} {ours['seconds']:>9.2f} "
            f"{ours['rows_per_s']:>9,.0f}"
        )
        self.stdout.write(
            f"{'plain django-import-export, ' + format(plain['rows'], ',') + ' people, scaled':<52}"
            f" {plain['scaled_seconds']:>9.1f} {plain['rows_per_s']:>9,.0f}"
        )
        if floor:
            self.stdout.write(
                f"{'COPY + INSERT … ON CONFLICT (the floor)':<52} {floor['seconds']:>9.2f} "
                f"{floor['rows_per_s']:>9,.0f}"
            )
        ratios = [f"plain django-import-export takes {side['plain_over_ours']:,.0f}× as long"]
        if side["ours_over_floor"]:
            ratios.append(f"this project {side['ours_over_floor']:.1f}× the floor")
        self.stdout.write("; ".join(ratios) + ".")
