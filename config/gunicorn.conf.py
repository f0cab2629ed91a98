"""gunicorn's settings: `gunicorn -c config/gunicorn.conf.py config.wsgi`. GUNICORN_CMD_ARGS
(gunicorn's own variable) overrides any of them, e.g. "--workers 4 --threads 2".

Sized by `make loadtest` on the SPEC §7 machine (two cores, PostgreSQL on the same machine).
"""

# Measured choice pending.
workers = 3
worker_class = "gthread"
threads = 4
