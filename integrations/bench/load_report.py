"""The steps of the load test (`make loadtest`) and its report: locust's statistics as a markdown
table, and the bars of issue 16 checked against them (PASS/FAIL, exit status 1 on a FAIL).

Plain Python, without Django: the locustfile (integrations/bench/locustfile.py), which runs in
locust's own process, names its requests by the steps here, and `python -m
integrations.bench.load_report STATS_CSV --users N` reads the `*_stats.csv` locust wrote.
"""

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

USERS_BAR = 50
PAGE_BAR_MS = 500
TYPE_AHEAD_BAR_MS = 200

PAGE = "page"
TYPE_AHEAD = "type-ahead"
# Not held to a time bar, with the reason the table prints.
UNBARRED = "unbarred"


@dataclass(frozen=True)
class Step:
    name: str  # the request's name in locust's statistics
    bar: str  # PAGE, TYPE_AHEAD or UNBARRED
    why: str = ""  # for UNBARRED: why no bar applies


# Every request the simulated team sends is named by one of these (the locustfile uses these
# names, and a test checks that the two agree).
STEPS = {
    step.name: step
    for step in (
        Step("sign in: page", PAGE),
        Step(
            "sign in",
            UNBARRED,
            "password hashing, slow on purpose; once per staff user, during the ramp-up",
        ),
        Step("accounts list", PAGE),
        Step("accounts: open a level", PAGE),
        Step("account page: largest company, entire hierarchy", PAGE),
        Step("account page", PAGE),
        Step("widget: view", PAGE),
        Step("widget: roles", PAGE),
        Step("widget: search", PAGE),
        Step("add contact: dialog", PAGE),
        Step("type-ahead", TYPE_AHEAD),
        Step("add contact: new person form", PAGE),
        Step("add contact: save", PAGE),
        Step("edit contact: form", PAGE),
        Step("edit contact: save", PAGE),
        Step("people list", PAGE),
        Step("people: download CSV", PAGE),
        Step("integrations page", PAGE),
        Step("upload: send file", PAGE),
        Step("upload: job page (poll)", PAGE),
        Step("upload: cancel", PAGE),
    )
}


@dataclass(frozen=True)
class StepFigures:
    name: str
    requests: int
    failures: int
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class BarCheck:
    what: str
    figure: str
    passed: bool


def read_stats(path):
    """The figures of each named request in locust's `*_stats.csv` (its "Aggregated" line is
    left out: the bars are per step), in the order of STEPS, then any unknown name."""
    with Path(path).open(newline="", encoding="utf-8") as file:
        rows = [row for row in csv.DictReader(file) if row["Name"] != "Aggregated"]
    figures = [
        StepFigures(
            name=row["Name"],
            requests=int(row["Request Count"]),
            failures=int(row["Failure Count"]),
            per_second=float(row["Requests/s"]),
            p50_ms=_ms(row["50%"]),
            p95_ms=_ms(row["95%"]),
            p99_ms=_ms(row["99%"]),
        )
        for row in rows
    ]
    order = list(STEPS)
    return sorted(figures, key=lambda f: order.index(f.name) if f.name in order else len(order))


def _ms(value):
    # Locust writes "N/A" for a percentile of a step without a successful request.
    try:
        return float(value)
    except ValueError:
        return float("nan")


def check_bars(figures, *, users):
    """The bars of issue 16: at least USERS_BAR simulated users, no error at all, the 95th
    percentile of every page step within PAGE_BAR_MS and of the type-ahead within
    TYPE_AHEAD_BAR_MS. A step that is not in STEPS fails: its bar is unknown."""
    checks = [
        BarCheck(f"{USERS_BAR} simulated users", f"{users}", users >= USERS_BAR),
    ]
    errors = sum(f.failures for f in figures)
    checks.append(BarCheck("0 errors", f"{errors}", errors == 0 and bool(figures)))
    for bar, limit in ((PAGE, PAGE_BAR_MS), (TYPE_AHEAD, TYPE_AHEAD_BAR_MS)):
        held = [f for f in figures if f.name in STEPS and STEPS[f.name].bar == bar]
        # A step that answered nothing successfully has no percentile (NaN): that fails too.
        worst = max(held, key=lambda f: (f.p95_ms != f.p95_ms, f.p95_ms), default=None)
        label = "pages" if bar == PAGE else "the type-ahead"
        if worst is None:
            checks.append(BarCheck(f"p95 ≤ {limit} ms for {label}", "no requests", False))
        else:
            checks.append(
                BarCheck(
                    f"p95 ≤ {limit} ms for {label}",
                    f"{worst.p95_ms:.0f} ms ({worst.name})",
                    worst.p95_ms <= limit,
                )
            )
    unknown = [f.name for f in figures if f.name not in STEPS]
    if unknown:
        checks.append(BarCheck("every step has a bar", ", ".join(unknown), False))
    return checks


def markdown_table(figures):
    """One line per step: requests, requests per second, p50/p95/p99, errors and its bar."""
    lines = [
        "| step | requests | req/s | p50 ms | p95 ms | p99 ms | errors | bar |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.name} | {f.requests:,} | {f.per_second:.1f} | {f.p50_ms:.0f} | "
            f"{f.p95_ms:.0f} | {f.p99_ms:.0f} | {f.failures:,} | {_bar_label(f.name)} |"
        )
    requests = sum(f.requests for f in figures)
    lines.append(
        f"| **all** | {requests:,} | {sum(f.per_second for f in figures):.1f} | | | | "
        f"{sum(f.failures for f in figures):,} | |"
    )
    return "\n".join(lines)


def _bar_label(name):
    step = STEPS.get(name)
    if step is None:
        return "unknown step"
    if step.bar == PAGE:
        return f"p95 ≤ {PAGE_BAR_MS} ms"
    if step.bar == TYPE_AHEAD:
        return f"p95 ≤ {TYPE_AHEAD_BAR_MS} ms"
    return f"none: {step.why}"


def bar_lines(checks):
    return [f"{'PASS' if c.passed else 'FAIL'}  {c.what}: {c.figure}" for c in checks]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stats_csv", help="locust's *_stats.csv")
    parser.add_argument("--users", type=int, required=True, help="simulated users of the run")
    parser.add_argument("--failures-csv", help="locust's *_failures.csv, to list the errors")
    parser.add_argument("--output", help="also write the table and the bars to this file")
    args = parser.parse_args(argv)
    figures = read_stats(args.stats_csv)
    checks = check_bars(figures, users=args.users)
    report = [markdown_table(figures), "", *bar_lines(checks)]
    if args.failures_csv and Path(args.failures_csv).exists():
        report += ["", *failure_lines(args.failures_csv)]
    text = "\n".join(report)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    return 0 if all(c.passed for c in checks) else 1


def failure_lines(path):
    """Locust's failures, one line each: how often, which step, what went wrong."""
    with Path(path).open(newline="", encoding="utf-8") as file:
        return [
            f"{row['Occurrences']}× {row['Name']}: {row['Error']}" for row in csv.DictReader(file)
        ]


if __name__ == "__main__":
    sys.exit(main())
