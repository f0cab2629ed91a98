"""Measure the quality bars of SPEC §7 on the current database and print each beside its bar
in the column of its size, large or xlarge (`--size`, else from the data); also written as JSON
per size. Meant for PostgreSQL with `seed_demo --size large|xlarge` and production settings;
`make bench [BENCH_SIZE=xlarge]` builds a fresh database and runs it. It measures; it fails
nothing.

First the machine's speed (bench.machine; again at the end) and the search terms, picked from
the data (bench.terms). The pages are timed through Django's test client with their SQL time
(bench.pages). The users import (bench.imports), its comparisons and the export (bench.exports)
each run in a child process (`--part`), so the peak memory reported is theirs alone. The bench
refuses a database with data it did not make unless forced, and removes what it made
(bench.database). bench.report prints it all, with the query counts against the other size's."""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from accounts.models import Account
from contacts.models import Membership, Person
from integrations.bench import database, exports, imports, machine, mapped, pages, report, terms
from integrations.bench.figures import bar_figures, percentile
from integrations.bench.sizes import COLUMNS, XLARGE_FROM_PEOPLE, column_for, other_size
from integrations.bench.undo import undo_bar

PARTS = ("pages", "import", "export")


def at_least(minimum):
    """An argparse type: a whole number of at least `minimum`, else a clear message."""

    def whole_number(text):
        try:
            number = int(text)
        except ValueError:
            number = None
        if number is None or number < minimum:
            raise argparse.ArgumentTypeError(f"a whole number of at least {minimum}, not {text!r}")
        return number

    return whole_number


class Command(BaseCommand):
    help = "Measure the SPEC §7 quality bars and print them beside their bars (also as JSON)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--size",
            choices=sorted(COLUMNS),
            help=(
                "The column of SPEC §7 whose bars apply (default: from the data, xlarge from "
                f"{XLARGE_FROM_PEOPLE:,} people)."
            ),
        )
        parser.add_argument("--runs", type=at_least(1), default=30, help="Timed runs per page.")
        parser.add_argument(
            "--import-runs",
            type=at_least(1),
            default=3,
            help="Runs of the users import, of the floor and of the export.",
        )
        parser.add_argument(
            "--import-rows",
            type=at_least(0),
            help="Rows of the generated users file (default: the size's, 100,000 or 1,000,000).",
        )
        parser.add_argument(
            "--error-rows",
            type=at_least(0),
            default=100,
            help="Rows of the users file that name an unknown account (skipped, in error files).",
        )
        parser.add_argument(
            "--plain-rows",
            type=at_least(0),
            help=(
                "People given to each django-import-export set-up (scaled to the file); 0 runs "
                "none (default: 5,000 at large, 0 at xlarge, where they take hours)."
            ),
        )
        parser.add_argument(
            "--only", choices=PARTS, action="append", help="Measure only this part (repeatable)."
        )
        parser.add_argument(
            "--json",
            dest="json_path",
            help="Where to write the figures as JSON (default: bench-results-SIZE.json).",
        )
        parser.add_argument(
            "--compare-with",
            help=(
                "The other size's JSON, whose query counts are compared with this run's "
                "(default: bench-results-OTHER-SIZE.json beside this run's JSON)."
            ),
        )
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="Run every measure in this process (peak memory is then the whole run's).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run on a database that holds data neither seed_demo nor the bench made.",
        )
        # A child process measuring one thing for the parent: prints its figures as JSON.
        parser.add_argument("--part", help=argparse.SUPPRESS)
        parser.add_argument("--users-file", help=argparse.SUPPRESS)
        parser.add_argument("--variant", help=argparse.SUPPRESS)
        parser.add_argument("--undo", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["part"]:
            figures = self.measure_part(options["part"], options)
            self.stdout.write(json.dumps(figures))
            return
        found = database.data_not_made_by_the_bench()
        if found and not options["force"]:
            raise CommandError(
                f"This database holds data neither seed_demo nor the bench made: "
                f"{', '.join(found)}. The bench imports a company into it, vacuums its tables "
                "and loads it for minutes; run it on a database of its own (`make bench` builds "
                "one), or pass --force to run it here anyway."
            )
        company = pages.largest_company()
        if company is None:
            raise CommandError("No accounts: run `manage.py seed_demo --size large` first.")
        people = Person.objects.count()
        column = column_for(options["size"], people)
        json_path = Path(options["json_path"] or f"bench-results-{column.name}.json")
        compare_with = options["compare_with"] or json_path.with_name(
            f"bench-results-{other_size(column)}.json"
        )
        self.in_process = options["in_process"]
        self.made = {}
        parts = options["only"] or PARTS
        database.settle(self.stderr)
        self.progress("Measuring the machine's speed…")
        results = {
            "size": column.name,
            "size_from": (
                "--size"
                if options["size"]
                else f"from the data: {people:,} people, xlarge from {XLARGE_FROM_PEOPLE:,}"
            ),
            "started_at": timezone.now().isoformat(timespec="seconds"),
            "machine": {
                "cpu_loop_steps": machine.CPU_LOOP_STEPS,
                "copy_floor_rows": machine.COPY_FLOOR_ROWS,
                "start": machine.machine_speed(),
            },
            "database": f"{connection.vendor} {connection.settings_dict['NAME']}",
            "data": {
                "accounts": Account.objects.count(),
                "people": people,
                "memberships": Membership.objects.count(),
                "contacts": Membership.objects.contacts().count(),
                "largest_company": company.name,
                "largest_company_accounts": company.get_descendant_count() + 1,
            },
            "bars": [],
        }
        try:
            if "pages" in parts:
                self.progress("Picking the search terms from the data…")
                search_terms = terms.pick_terms(company)
                results["terms"] = search_terms.as_dict()
                results["bars"] += self.measure_pages(
                    company, search_terms, column, options["runs"]
                )
            if "import" in parts:
                bars, side_by_side = self.measure_import(column, options)
                results["bars"] += bars
                results["import_side_by_side"] = side_by_side
            if "export" in parts:
                self.progress("Measuring the users export…")
                results["bars"].append(self.measure_export(column, options["import_runs"]))
        finally:
            database.remove_what_the_bench_made(**self.made)
        self.progress("Measuring the machine's speed again…")
        results["machine"]["end"] = machine.machine_speed()
        results["finished_at"] = timezone.now().isoformat(timespec="seconds")
        cpu_loop_ms = statistics.mean(
            results["machine"][when]["cpu_loop_ms"] for when in ("start", "end")
        )
        for bar in results["bars"]:
            if "median_ms" in bar:
                bar["median_cpu_loops"] = bar["median_ms"] / cpu_loop_ms
        results["query_counts"] = report.query_counts(results, compare_with)
        report.print_report(results, self.stdout.write)
        json_path.write_text(json.dumps(results, indent=2))
        self.stdout.write(f"\nWrote {json_path}.")

    def progress(self, message):
        self.stderr.write(message)

    # Measuring

    def measure_pages(self, company, search_terms, column, runs):
        client = pages.signed_in_client()
        bars = []
        for page in pages.pages_to_measure(company, search_terms):
            self.progress(f"Measuring {page.name.strip()}…")
            figures = pages.measure_page(client, page, runs)
            bars.append(
                {
                    "key": page.key,
                    "name": page.name,
                    "under": page.under,
                    **figures,
                    **bar_figures(column.page_conditions(page.bar_key, figures)),
                }
            )
        return bars

    def measure_import(self, column, options):
        """This project's import and the floor in turn (ours, [mapped,] floor, ours, …), then
        each django-import-export set-up; every one after the benchmark people are removed and
        the tables vacuumed, so each starts from the same state. The undo and the mapped file
        only where the column has their bars."""
        runs = options["import_runs"]
        rows = column.import_rows if options["import_rows"] is None else options["import_rows"]
        plain_rows = column.plain_rows if options["plain_rows"] is None else options["plain_rows"]
        with tempfile.TemporaryDirectory() as folder:
            accounts, self.made = imports.make_company()
            users_file = str(
                imports.write_users_file(folder, accounts, rows, error_rows=options["error_rows"])
            )
            mapped_file = (
                str(mapped.write_mapped_users_file(users_file))
                if column.mapped_import_bar
                else None
            )
            ours, through_mapping, floor = [], [], []
            for run in range(runs):
                self.progress(f"Measuring the users import, run {run + 1} of {runs}…")
                database.clean_up_people()
                ours.append(self.run_part("import", users_file, undo=column.has_undo_bar))
                if mapped_file:
                    database.clean_up_people()
                    through_mapping.append(self.run_part("import-mapped", mapped_file))
                if connection.vendor == "postgresql":  # COPY and ON CONFLICT on an expression
                    database.clean_up_people()
                    floor.append(self.run_part("import-floor", users_file))
            plain = {}
            for variant in imports.PLAIN_VARIANTS if plain_rows else ():
                self.progress(f"Measuring django-import-export ({variant})…")
                database.clean_up_people()
                plain[variant] = self.run_part(
                    "import-plain", users_file, plain_rows=plain_rows, variant=variant
                )
        seconds = [run["seconds"] for run in ours]
        median = statistics.median(seconds)
        peak = max(run["peak_rss_mb"] for run in ours)
        floor_s = statistics.median(run["seconds"] for run in floor) if floor else None
        conditions = [
            (f"≤ {column.import_s} s", median <= column.import_s),
            (f"peak memory ≤ {column.import_mb:,} MB", peak <= column.import_mb),
        ]
        if column.import_over_floor:
            conditions.append(
                (
                    f"≤ {column.import_over_floor:g}× the COPY floor"
                    + (f" (here {median / floor_s:.1f}×)" if floor_s else ""),
                    median <= column.import_over_floor * floor_s if floor_s else None,
                )
            )
        last = ours[-1]
        bar = {
            "key": "users_import",
            "name": f"Users import, {rows:,} rows, through its jobs",
            "median_s": median,
            "p95_s": percentile(seconds, 95),
            "preview_s": statistics.median(run["preview_s"] for run in ours),
            "confirm_s": statistics.median(run["confirm_s"] for run in ours),
            "rows_per_s": rows / median,
            "peak_rss_mb": peak,
            "runs": runs,
            "over_floor": median / floor_s if floor_s else None,
            **{key: last[key] for key in ("new", "updated", "unchanged", "failed", "error_file")},
            **bar_figures(conditions),
        }
        bars = [
            bar,
            undo_bar(column, ours, rows, median),
            mapped.mapped_bar(column, through_mapping, rows, median),
        ]
        for figures in plain.values():
            figures["over_ours"] = figures["scaled_seconds"] / median
            figures["over_floor"] = figures["scaled_seconds"] / floor_s if floor_s else None
        side_by_side = {
            "ours": {
                "rows": rows,
                "runs": len(ours),
                "preview_s": bar["preview_s"],
                "confirm_s": bar["confirm_s"],
                "seconds": median,
                "rows_per_s": rows / median,
                "peak_rss_mb": peak,
            },
            "floor": (
                {
                    "rows": rows,
                    "runs": len(floor),
                    "written": floor[-1]["written"],
                    "seconds": floor_s,
                    "rows_per_s": rows / floor_s,
                    "peak_rss_mb": max(run["peak_rss_mb"] for run in floor),
                }
                if floor
                else None
            ),
            "plain": plain,
            "plain_not_run": None
            if plain
            else (
                f"not at {column.name}: the default set-up reads the whole people table for "
                "each row; --plain-rows N runs them"
                if options["plain_rows"] is None
                else "--plain-rows 0"
            ),
            "ours_over_floor": median / floor_s if floor_s else None,
            "undo_s": bars[1].get("median_s"),
        }
        return bars, side_by_side

    def measure_export(self, column, runs):
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
            "p95_s": percentile(seconds, 95),
            "first_byte_s": last["first_byte_s"],
            "rows_per_s": last["rows"] / median,
            "peak_rss_mb": max(run["peak_rss_mb"] for run in results),
            "rss_checkpoints": checkpoints,
            "rss_growth_mb": growth,
            "runs": runs,
            **bar_figures(
                [
                    ("streamed", last["streamed"]),
                    (
                        f"≤ {column.export_s} s ({column.export_rows:,} rows)",
                        median <= column.export_s,
                    ),
                    # Flat: no more than a few MB more at the last checkpoint than at the first.
                    (f"memory flat (here {growth:+.1f} MB)", growth <= 5),
                ]
            ),
        }

    def run_part(self, part, users_file=None, *, plain_rows=None, variant=None, undo=False):
        """Measure one part in a fresh process (or here, with --in-process)."""
        options = {"users_file": users_file, "plain_rows": plain_rows, "variant": variant}
        if self.in_process:
            return self.measure_part(part, {**options, "undo": undo})
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "bench", "--part", part]
        for name, value in options.items():
            if value is not None:
                command += [f"--{name.replace('_', '-')}", str(value)]
        if undo:
            command.append("--undo")
        done = subprocess.run(command, check=False, capture_output=True, text=True)
        if done.returncode:
            raise CommandError(f"Measuring {part} failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def measure_part(self, part, options):
        users_file = Path(options["users_file"]) if options.get("users_file") else None
        if part == "import":
            return imports.measure_import(
                users_file, pages.signed_in_client(), undo=options["undo"]
            )
        if part == "import-mapped":
            return mapped.measure_mapped_import(users_file, pages.signed_in_client())
        if part == "import-plain":
            return imports.measure_plain_import(
                users_file, options["plain_rows"], options["variant"]
            )
        if part == "import-floor":
            return imports.measure_copy_floor(users_file)
        if part == "export":
            return exports.measure_export(pages.signed_in_client())
        raise CommandError(f"No part {part!r}.")
