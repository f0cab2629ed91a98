"""gunicorn's settings: `gunicorn -c config/gunicorn.conf.py config.wsgi`. GUNICORN_CMD_ARGS
(gunicorn's own variable) overrides any of them, e.g. "--workers 4 --threads 2".

Sized by `make loadtest` (50 simulated staff users, 70 s runs, alternating, on the two-core
machine with PostgreSQL beside it, shared with other work, so noisy), p95 of the type-ahead /
of an account page / of the largest company's entire hierarchy, in ms:

    5 sync workers           93 / 210 / 300 and 32 / 86 / 97     ~19 requests/s
    5 workers × 2 threads    40 / 120 / 190                      ~20 requests/s
    2 workers × 8 threads    63 / 160 / 190 and 64 / 150 / 200   ~17 requests/s
    3 workers × 4 threads   410 / 1000 / 950 and 270 / 410 / 530 ~15 requests/s

A request here is mostly Python on the CPU (templates, forms) around short queries, so threads
in one process wait for each other's GIL; processes run on both cores, and five (gunicorn's
own 2 × cores + 1) keep the cores busy while some wait for PostgreSQL. More concurrent
requests than that only lengthen each one.
"""

workers = 5
worker_class = "sync"
threads = 1
# The sync worker closes each connection after its response (no keep-alive), so a client never
# reuses a connection gunicorn is closing; with a threaded worker, set keepalive above the
# clients' pauses (a load balancer's 60 s), or now and then a request gets no answer at all.
