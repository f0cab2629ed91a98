"""The printed report of `manage.py bench`: the machine's speed, the data, the search terms,
one table of the bars (with each page's SQL time and share), the export's memory, the import
side by side with the floor and django-import-export, and the query counts against the other
size's run. Everything here reads the report dict the command also writes as JSON."""

import json
from pathlib import Path
from urllib.parse import unquote_plus

from .imports import PLAIN_VARIANTS


def print_report(report, write):
    _print_heading(report, write)
    _print_bars(report["bars"], write)
    for bar in report["bars"]:
        if bar["key"] == "users_export" and "rss_checkpoints" in bar:
            points = ", ".join(
                f"{point['rows'] // 1000:,}k rows {point['rss_mb']:.0f} MB"
                for point in bar["rss_checkpoints"]
            )
            write(
                f"\nExport memory as it streams: {points} (growth {bar['rss_growth_mb']:+.1f}"
                f" MB); first bytes after {bar['first_byte_s'] * 1000:.0f} ms."
            )
    if "import_side_by_side" in report:
        imported = next(bar for bar in report["bars"] if bar["key"] == "users_import")
        _print_side_by_side(report["import_side_by_side"], imported, write)
    if report.get("query_counts"):
        _print_query_counts(report["query_counts"], write)


def _print_heading(report, write):
    machine, data = report["machine"], report["data"]
    start, end = machine["start"], machine.get("end") or {}

    def both(key):
        figures = [f"{start[key]:,.0f} ms at the start"]
        if end.get(key) is not None:
            figures.append(f"{end[key]:,.0f} ms at the end")
        return ", ".join(figures)

    write(
        f"Machine: CPU loop (pure Python, {machine['cpu_loop_steps']:,} steps, median of 5) "
        f"{both('cpu_loop_ms')}."
    )
    if start["copy_floor_ms"] is None:
        write("COPY floor: not measured (COPY and ON CONFLICT on an expression need PostgreSQL).")
    else:
        write(
            f"COPY floor ({machine['copy_floor_rows']:,} rows COPY + INSERT … ON CONFLICT, "
            f"rolled back, median of 3) {both('copy_floor_ms')}."
        )
    write(
        f"Size: {report['size']} ({report['size_from']}). Database {report['database']}: "
        f"{data['accounts']:,} accounts, {data['people']:,} people, {data['memberships']:,} "
        f"memberships, {data['contacts']:,} contacts. Largest company: "
        f"{data['largest_company']} ({data['largest_company_accounts']:,} accounts)."
    )
    terms = report.get("terms")
    if terms:
        write(
            f"\nSearched for (picked from the people of {data['largest_company']}; the people "
            "each term matches over all people):"
        )
        common = terms["common_last_name"]
        write(
            f"  widget search, People list: “{common['term']}”, {common['what']}: "
            f"{common['people']:,}"
        )
        for term in terms["type_ahead"]:
            write(f"  type-ahead: “{term['term']}”, {term['what']}: {term['people']:,}")
    write("")


def _verdict(bar):
    if not bar["conditions"]:
        return bar["bar"] + (f" ({bar['why']})" if bar.get("why") else "")
    return "; ".join(
        f"{condition['what']}: "
        + {True: "holds", False: "MISSED", None: "not measured"}[condition["holds"]]
        for condition in bar["conditions"]
    )


def _print_bars(bars, write):
    header = (
        f"{'what':<48} {'median':>9} {'p95':>9} {'SQL (share)':>15} {'queries':>7} "
        f"{'memory':>8} {'× CPU':>6}  bar"
    )
    write(header)
    write("-" * (len(header) + 40))
    for bar in bars:
        median = p95 = sql = queries = memory = loops = ""
        if "median_ms" in bar:
            median, p95 = f"{bar['median_ms']:.1f} ms", f"{bar['p95_ms']:.1f} ms"
            sql = f"{bar['sql_median_ms']:.1f} ms {bar['sql_share']:.0%}"
            queries = str(bar["queries"])
            if bar.get("median_cpu_loops") is not None:
                loops = f"{bar['median_cpu_loops']:.2f}"
        elif "median_s" in bar:
            median, p95 = f"{bar['median_s']:.2f} s", f"{bar['p95_s']:.2f} s"
        if "peak_rss_mb" in bar:
            memory = f"{bar['peak_rss_mb']:.0f} MB"
        write(
            f"{bar['name']:<48} {median:>9} {p95:>9} {sql:>15} {queries:>7} {memory:>8} "
            f"{loops:>6}  {_verdict(bar)}"
        )
    if any("sql_median_ms" in bar for bar in bars):
        write(
            "SQL: the median time per request spent in queries (executing them and fetching "
            "their rows), and its share of the request's median. × CPU: the median as a "
            "multiple of the CPU loop."
        )
    several = [bar for bar in bars if bar.get("each_url")]
    if several:
        write("\nThe URLs of a line, taken in turn (median, SQL median, queries):")
    for bar in several:
        write(f"  {bar['name'].strip()}")
        for url in bar["each_url"]:
            query = unquote_plus(url["url"].partition("?")[2])
            write(
                f"    {query:<56} {url['median_ms']:>8.1f} ms {url['sql_median_ms']:>8.1f} ms "
                f"{url['queries']:>4}"
            )


def _print_side_by_side(side, imported, write):
    ours, floor = side["ours"], side["floor"]
    median = ours["seconds"]
    write(
        f"\nUsers import of the same {ours['rows']:,}-row file, side by side "
        f"(medians; the import {imported['new']:,} new, {imported['updated']:,} updated, "
        f"{imported['failed']:,} rows with errors skipped):"
    )
    write(f"{'':<50} {'seconds':>10} {'rows/s':>8} {'memory':>8} {'× ours':>8} {'× floor':>8}")

    def line(what, seconds, rows_per_s="", memory=None, over_ours=None, over_floor=None):
        rate = f"{rows_per_s:,.0f}" if rows_per_s else ""
        mb = f"{memory:.0f} MB" if memory is not None else ""
        ours_ratio = f"{over_ours:,.1f}" if over_ours is not None else ""
        floor_ratio = f"{over_floor:,.1f}" if over_floor is not None else ""
        write(f"{what:<50} {seconds:>10,.2f} {rate:>8} {mb:>8} {ours_ratio:>8} {floor_ratio:>8}")

    line("this project: preview (upload, preview job)", ours["preview_s"])
    line("this project: confirm (import job)", ours["confirm_s"])
    line(
        "this project: total",
        ours["seconds"],
        ours["rows_per_s"],
        ours["peak_rss_mb"],
        1.0,
        side["ours_over_floor"],
    )
    undo = side.get("undo_s")
    if undo is not None:
        line("this project: undo of the import (preview, undo job)", undo, over_ours=undo / median)
    if floor:
        line(
            "COPY + INSERT … ON CONFLICT (the floor)",
            floor["seconds"],
            floor["rows_per_s"],
            floor["peak_rss_mb"],
            floor["seconds"] / ours["seconds"],
            1.0,
        )
    plain = side["plain"]
    for variant, (_, label) in PLAIN_VARIANTS.items():
        if variant in plain:
            figures = plain[variant]
            line(
                label,
                figures["scaled_seconds"],
                figures["rows_per_s"],
                figures["peak_rss_mb"],
                figures["over_ours"],
                figures["over_floor"],
            )
    if plain:
        write(
            f"django-import-export: the {plain['default']['rows']:,} people of the file's "
            "first rows, rolled back, its time scaled to the whole file."
        )
    else:
        write(f"django-import-export: not run ({side['plain_not_run']}).")
    if not floor:
        write("No floor: COPY and ON CONFLICT on an expression need PostgreSQL.")


# Query counts at every size


def query_counts(report, other_path):
    """Each page's SQL queries beside those of the other size's report at `other_path`: None
    when there is no such file or this run measured no page."""
    path = Path(other_path)
    measured = [bar for bar in report["bars"] if "queries" in bar]
    if not path.exists() or not measured:
        return None
    try:
        other = json.loads(path.read_text())
        other_bars = {bar["key"]: bar for bar in other["bars"] if "queries" in bar}
    except (ValueError, KeyError, TypeError):
        return {"file": str(path), "error": "not a bench report"}
    pages = []
    for bar in measured:
        here = bar.get("queries_each", [bar["queries"]])
        there = other_bars.get(bar["key"])
        if there is not None:
            there = there.get("queries_each", [there["queries"]])
        pages.append(
            {
                "key": bar["key"],
                "name": bar["name"].strip(),
                "here": here,
                "there": there,
                "same": None if there is None else here == there,
            }
        )
    return {
        "file": str(path),
        "size": other.get("size", "?"),
        "finished_at": other.get("finished_at"),
        "pages": pages,
    }


def _print_query_counts(counts, write):
    if "error" in counts:
        write(f"\nQuery counts: {counts['file']} is {counts['error']}; nothing compared.")
        return
    when = f", {counts['finished_at']}" if counts.get("finished_at") else ""
    write(
        f"\nSQL queries per request against {counts['file']} ({counts['size']}{when}), "
        "each URL of the line in turn:"
    )
    for page in counts["pages"]:
        here = ", ".join(map(str, page["here"]))
        if page["there"] is None:
            write(f"  {page['name']:<48} {here}; not measured there")
            continue
        if page["same"]:
            write(f"  {page['name']:<48} same: {here}")
            continue
        there = ", ".join(map(str, page["there"]))
        differences = [f"{h - t:+d}" for h, t in zip(page["here"], page["there"], strict=False)]
        if len(page["here"]) != len(page["there"]):
            differences.append(f"{len(page['here'])} URLs here, {len(page['there'])} there")
        write(
            f"  {page['name']:<48} DIFFERENT: {here} here, {there} at {counts['size']} "
            f"({', '.join(differences)})"
        )
