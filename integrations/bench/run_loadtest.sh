#!/usr/bin/env bash
# The load test (`make loadtest`, which sets the production settings and the database): make the
# staff users and targets, start gunicorn and a task worker, run locust headless, print the
# table and the bars, and exit 1 when a bar fails. gunicorn and the worker are stopped and what
# the run wrote is removed whatever happens (trap on EXIT; INT and TERM end the script, which
# runs it too).
#
# LOADTEST_USERS (50); LOADTEST_TIME (3m; 90s, 3m or 1h): how long the team works once every
# simulated staff user has signed in; LOADTEST_SPAWN_RATE (1 sign-in a second, a whole number:
# each hashes a password for about a second of CPU, so the ramp-up of 50 takes 50 s and adds to
# the run); LOADTEST_PORT (8077); LOADTEST_RESULTS (loadtest-results.md: the table and the bars,
# to paste; gunicorn's and the worker's logs are kept beside it); GUNICORN_CMD_ARGS (gunicorn's
# own: overrides config/gunicorn.conf.py).
set -euo pipefail

users=${LOADTEST_USERS:-50}
run_time=${LOADTEST_TIME:-3m}
spawn_rate=${LOADTEST_SPAWN_RATE:-1}
port=${LOADTEST_PORT:-8077}
results=${LOADTEST_RESULTS:-loadtest-results.md}
case $run_time in
  *h) work_s=$((${run_time%h} * 3600)) ;;
  *m) work_s=$((${run_time%m} * 60)) ;;
  *s) work_s=${run_time%s} ;;
  *) work_s=$run_time ;;
esac
# locust's --run-time counts from the first user: the sign-ins come first.
ramp_up_s=$(((users + spawn_rate - 1) / spawn_rate + 5))
python=.venv/bin/python
manage="$python manage.py"

folder=$(mktemp -d "${TMPDIR:-/tmp}/loadtest.XXXXXX")
# Uploads and error files of the run go to the run's own folder, removed with it.
export MEDIA_ROOT="$folder/media"
gunicorn_pid= worker_pid= locust_pid= prepared=

stop() {
  status=$?
  trap - EXIT INT TERM
  for pid in $locust_pid $gunicorn_pid $worker_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $locust_pid $gunicorn_pid $worker_pid; do
    wait "$pid" 2>/dev/null || true
  done
  # Only once prepare has run: on a database it refused, there is nothing of ours to remove.
  if [ -n "$prepared" ]; then
    $manage loadtest clean-up || status=1
  fi
  cp "$folder/gunicorn.log" "${results%.md}.gunicorn.log" 2>/dev/null || true
  cp "$folder/worker.log" "${results%.md}.worker.log" 2>/dev/null || true
  rm -rf "$folder"
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

$manage loadtest prepare --staff-users "$users" --folder "$folder"
prepared=1
export LOADTEST_TARGETS="$folder/targets.json"

.venv/bin/gunicorn -c config/gunicorn.conf.py --bind "127.0.0.1:$port" \
  --error-logfile "$folder/gunicorn.log" config.wsgi &
gunicorn_pid=$!
# The project's worker: db_worker that reports it is alive, so its jobs are not taken for
# stopped ones.
$manage worker --no-reload >"$folder/worker.log" 2>&1 &
worker_pid=$!

# Ready when the sign-in page answers (gunicorn up, the app loaded, the database reached).
$python - "$port" <<'EOF'
import sys, time, urllib.request

url = f"http://127.0.0.1:{sys.argv[1]}/sign-in/"
deadline = time.monotonic() + 60
while True:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            if response.status == 200:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit(f"gunicorn did not answer {url} within 60 s.")
    time.sleep(0.5)
EOF

echo "Load test: $users simulated staff users sign in ($ramp_up_s s), then work for $run_time" \
  "on http://127.0.0.1:$port/ …"
# In the background with `wait`: bash runs a trap only once its foreground command ends, but
# interrupts `wait` at once (and the trap stops locust too).
PYTHONPATH=. .venv/bin/locust -f integrations/bench/locustfile.py --headless --only-summary \
  --users "$users" --spawn-rate "$spawn_rate" --run-time "$((ramp_up_s + work_s))s" \
  --host "http://127.0.0.1:$port" --csv "$folder/stats" --loglevel WARNING &
locust_pid=$!
locust_status=0
wait "$locust_pid" || locust_status=$?
locust_pid=
# locust exits 1 when a request failed; the report counts those. Anything else is locust's own.
if [ "$locust_status" -gt 1 ]; then
  echo "locust stopped with status $locust_status." >&2
  exit "$locust_status"
fi
if ! kill -0 "$worker_pid" 2>/dev/null; then
  echo "The task worker stopped during the run:" >&2
  tail -20 "$folder/worker.log" >&2
  exit 1
fi

echo
$python -m integrations.bench.load_report "$folder/stats_stats.csv" --users "$users" \
  --failures-csv "$folder/stats_failures.csv" --output "$results"
