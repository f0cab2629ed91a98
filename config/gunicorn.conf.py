"""gunicorn's settings: `gunicorn -c config/gunicorn.conf.py config.wsgi`. GUNICORN_CMD_ARGS
(gunicorn's own variable) overrides any of them, e.g. "--workers 4 --threads 2".

Sized by `make loadtest` on the SPEC §7 machine (two cores, PostgreSQL on the same machine).
"""

# Measured choice pending.
workers = 3
worker_class = "gthread"
threads = 4

# Idle keep-alive connections are held open longer than a browser's or a load balancer's pause
# between two requests (load balancers keep theirs for 60 s). With gunicorn's default of 2 s, a
# client that reuses a connection just as gunicorn closes it gets no answer at all: the load
# test saw one such error in about 2,000 requests. gthread waits on idle connections without
# holding a thread.
keepalive = 75
