"""The machine's speed at the time of a bench run, measured at its start and again at its end,
so that runs on different days (or beside other work on a shared machine) compare as ratios:

- the CPU loop: a fixed pure-Python arithmetic loop (CPU_LOOP_STEPS steps), median of 5, in ms:
  what Python's share of a request (views, templates) moves with;
- the COPY floor: psycopg COPY of COPY_FLOOR_ROWS generated rows into a temporary table, then
  one INSERT … ON CONFLICT into a second temporary table with a unique index on an expression
  (lower(email), as the people table has), rolled back; median of 3, in ms: what the database's
  share moves with. PostgreSQL only (None elsewhere).
"""

import statistics
import time

from django.db import connection, transaction

CPU_LOOP_STEPS = 2_000_000
CPU_LOOP_RUNS = 5
COPY_FLOOR_ROWS = 100_000
COPY_FLOOR_RUNS = 3


def machine_speed():
    """{"cpu_loop_ms": …, "copy_floor_ms": … or None}: the medians, now."""
    return {"cpu_loop_ms": cpu_loop_ms(), "copy_floor_ms": copy_floor_ms()}


def cpu_loop_ms():
    steps, timings = CPU_LOOP_STEPS, []
    for _ in range(CPU_LOOP_RUNS):
        started = time.perf_counter()
        total = 0
        for step in range(steps):
            total += step ^ (total & 0xFF)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def copy_floor_ms():
    if connection.vendor != "postgresql":
        return None
    # Generated before the clock starts: the floor is the database's work, not Python's.
    payload = "".join(
        f"person{n}@machine.example\tFirst{n}\tLast{n}\n" for n in range(COPY_FLOOR_ROWS)
    ).encode()
    timings = []
    for _ in range(COPY_FLOOR_RUNS):
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_machine_rows (email text, first_name text,"
                " last_name text) ON COMMIT DROP"
            )
            with cursor.cursor.copy("COPY bench_machine_rows FROM STDIN") as copy:
                copy.write(payload)
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_machine_people (email text, first_name text,"
                " last_name text) ON COMMIT DROP"
            )
            cursor.execute("CREATE UNIQUE INDEX ON bench_machine_people (lower(email))")
            cursor.execute(
                "INSERT INTO bench_machine_people"
                " SELECT DISTINCT ON (lower(email)) email, first_name, last_name"
                " FROM bench_machine_rows ORDER BY lower(email)"
                " ON CONFLICT ((lower(email))) DO UPDATE SET first_name = excluded.first_name,"
                " last_name = excluded.last_name"
            )
            transaction.set_rollback(True)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)
