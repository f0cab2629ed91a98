"""The project as a whole: migrations, system checks, and what the settings read from the
environment do to the running app (the settings' own values are not asserted here: what they
make Django do is)."""

import ast
import json
import os
import re
import runpy
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.tasks import TaskResultStatus, task

BASE_DIR = Path(__file__).resolve().parent.parent
SETTINGS_FILE = BASE_DIR / "config" / "settings.py"
# What the environment may hold that changes the settings; each test sets what it needs.
SETTINGS_VARIABLES = [
    "ALLOWED_HOSTS",
    "CONN_MAX_AGE",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "LOG_LEVEL",
    "MEDIA_ROOT",
    "REQUEST_ID_HEADER",
    "SECRET_KEY",
    "SECURE_HSTS_PRELOAD",
    "SECURE_HSTS_SECONDS",
    "SECURE_SSL_REDIRECT",
    "SENTRY_DSN",
    "SENTRY_ENVIRONMENT",
    "SENTRY_RELEASE",
    "SIGN_IN_COOLOFF_MINUTES",
    "SIGN_IN_FAILURE_LIMIT",
    "TASKS_BACKEND",
    "TRUSTED_PROXY_COUNT",
]


def production_environment(**variables):
    env = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="example.com",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.update(variables)
    return env


def python(*args, env, timeout=60):
    """Run the project's Python with these arguments in the project folder: the finished
    process, its output as text."""
    return subprocess.run(
        [sys.executable, *args],
        check=False,
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def manage(*args, env):
    return python("manage.py", *args, env=env, timeout=120)


@pytest.fixture
def settings_environment(monkeypatch):
    """An environment without settings variables, for reading config/settings.py afresh."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def read_settings():
    return runpy.run_path(str(SETTINGS_FILE))


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = StringIO()

    call_command("makemigrations", "--check", "--dry-run", stdout=out)

    assert out.getvalue() == "No changes detected\n"


def test_check_is_clean_with_production_settings():
    result = manage("check", env=production_environment())

    assert (result.returncode, result.stderr) == (0, "")
    # Silenced: only what settings.SILENCED_SYSTEM_CHECKS names, on purpose.
    assert re.fullmatch(r"System check identified no issues \(\d+ silenced\)\.\n", result.stdout)


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_environment())

    assert (result.returncode, result.stderr) == (0, "")
    # Silenced: only what settings.SILENCED_SYSTEM_CHECKS names, on purpose.
    assert re.fullmatch(r"System check identified no issues \(\d+ silenced\)\.\n", result.stdout)


def test_check_deploy_warns_about_debug():
    # The clean result above means something: the same check does see a development set-up.
    result = manage("check", "--deploy", env=production_environment(DEBUG="1"))

    assert result.returncode == 0
    assert "(security.W018) You should not have DEBUG set to True in deployment." in result.stderr


def test_settings_without_secret_key_and_debug_off_refuse_to_start(settings_environment):
    with pytest.raises(ImproperlyConfigured) as error:
        read_settings()

    assert str(error.value) == "Set SECRET_KEY (or DEBUG=1 for local development)."


def test_manage_without_secret_key_refuses_to_start():
    env = production_environment()
    del env["SECRET_KEY"]

    result = manage("check", env=env)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: "
        "Set SECRET_KEY (or DEBUG=1 for local development)."
    )


def answers(requests, *, env):
    """What a Django started with `env` (as gunicorn starts it) answers to each request, given
    as (path, {"secure": …, "HTTP_HOST": …}): status, headers, and the cookies' Secure flags."""
    script = """
import json, sys
import django
django.setup()
from django.test import Client, override_settings
# Production serves static files from collectstatic's manifest, which tests never build.
storages = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
out = []
for path, extra in json.loads(sys.argv[1]):
    with override_settings(STORAGES=storages):
        response = Client().get(path, **extra)
    out.append({
        "status": response.status_code,
        "headers": dict(response.headers),
        "secure_cookies": {name: bool(c["secure"]) for name, c in response.cookies.items()},
    })
print(json.dumps(out))
"""
    result = python("-c", script, json.dumps(requests), env=env)
    # stderr holds whitenoise's warning that collectstatic has not run, and nothing to assert.
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


HTTPS = {"secure": True, "HTTP_HOST": "example.com"}
HTTP = {"secure": False, "HTTP_HOST": "example.com"}


def test_production_redirects_http_to_https_and_sends_hsts_over_https(tmp_path):
    env = production_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    over_http, over_https = answers([("/sign-in/", HTTP), ("/sign-in/", HTTPS)], env=env)

    assert (over_http["status"], over_http["headers"]["Location"]) == (
        301,
        "https://example.com/sign-in/",
    )
    assert over_https["status"] == 200
    assert over_https["headers"]["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains"
    )
    assert over_https["secure_cookies"] == {"csrftoken": True}


def test_production_behind_a_proxy_trusts_its_forwarded_proto(tmp_path):
    env = production_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    forwarded = {"secure": False, "HTTP_HOST": "example.com", "HTTP_X_FORWARDED_PROTO": "https"}

    (response,) = answers([("/sign-in/", forwarded)], env=env)

    assert response["status"] == 200


def test_production_preloads_hsts_and_serves_http_only_when_told(tmp_path):
    env = production_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SECURE_HSTS_PRELOAD="1",
        SECURE_HSTS_SECONDS="600",
        SECURE_SSL_REDIRECT="0",
    )

    over_http, over_https = answers([("/sign-in/", HTTP), ("/sign-in/", HTTPS)], env=env)

    assert over_http["status"] == 200
    assert over_https["headers"]["Strict-Transport-Security"] == (
        "max-age=600; includeSubDomains; preload"
    )


def test_check_deploy_is_clean_with_hsts_preload_on():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production_environment(SECURE_HSTS_PRELOAD="1"),
    )

    assert (result.returncode, result.stderr) == (0, "")


def test_debug_without_secret_key_starts_and_answers_on_localhost(tmp_path):
    env = production_environment(DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    del env["SECRET_KEY"], env["ALLOWED_HOSTS"]
    local = {"HTTP_HOST": "localhost"}

    (response,) = answers([("/sign-in/", local)], env=env)

    # Served over plain HTTP, with no HSTS and no Secure cookies: a development server.
    assert response["status"] == 200
    assert "Strict-Transport-Security" not in response["headers"]
    assert response["secure_cookies"] == {"csrftoken": False}


def test_debug_refuses_other_hosts(tmp_path):
    env = production_environment(DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    del env["SECRET_KEY"], env["ALLOWED_HOSTS"]

    (response,) = answers([("/sign-in/", {"HTTP_HOST": "evil.example"})], env=env)

    assert response["status"] == 400


def test_allowed_hosts_come_from_the_environment(tmp_path):
    env = production_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        ALLOWED_HOSTS="example.com, www.example.com",
    )
    www = {"secure": True, "HTTP_HOST": "www.example.com"}
    other = {"secure": True, "HTTP_HOST": "other.example"}

    statuses = [
        response["status"]
        for response in answers([("/sign-in/", www), ("/sign-in/", other)], env=env)
    ]

    assert statuses == [200, 400]


def test_sqlite_transactions_take_the_write_lock_when_they_start(tmp_path):
    """Two writers never interleave on SQLite: a transaction that has only begun already holds
    the write lock, so another connection cannot start writing (what the advisory locks do on
    PostgreSQL)."""
    path = tmp_path / "db.sqlite3"
    env = production_environment(DATABASE_URL=f"sqlite:///{path}")
    script = f"""
import sqlite3
import django
django.setup()
from django.db import connection, transaction
with transaction.atomic():
    connection.ensure_connection()
    other = sqlite3.connect({str(path)!r}, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        print("not locked")
    except sqlite3.OperationalError as error:
        print(error)
"""

    result = python("-c", script, env=env, timeout=None)

    assert (result.returncode, result.stderr, result.stdout) == (0, "", "database is locked\n")


def test_settings_read_a_postgres_database_url(settings_environment):
    settings_environment.setenv("SECRET_KEY", "x" * 60)
    settings_environment.setenv("DATABASE_URL", "postgres://alice:s3cret@db.example:6543/contacts")

    database = read_settings()["DATABASES"]["default"]

    assert {
        name: database[name] for name in ["ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT"]
    } == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "contacts",
        "USER": "alice",
        "PASSWORD": "s3cret",
        "HOST": "db.example",
        "PORT": 6543,
    }


def test_settings_read_conn_max_age(settings_environment):
    settings_environment.setenv("SECRET_KEY", "x" * 60)
    settings_environment.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/contacts")
    settings_environment.setenv("CONN_MAX_AGE", "0")

    assert read_settings()["DATABASES"]["default"]["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("postgres://postgres@127.0.0.1:5432/unified_contacts", "django.db.backends.postgresql"),
        (None, "django.db.backends.sqlite3"),
    ],
)
def test_django_started_with_database_url_uses_that_database(url, engine):
    """The environment reaches Django's own settings object, as gunicorn and manage.py see it."""
    env = production_environment(**({"DATABASE_URL": url} if url else {}))
    script = (
        "import django, json; django.setup(); from django.conf import settings; "
        "db = settings.DATABASES['default']; print(json.dumps([db['ENGINE'], str(db['NAME'])]))"
    )

    result = python("-c", script, env=env)

    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == [
        engine,
        "unified_contacts" if url else str(BASE_DIR / "db.sqlite3"),
    ]


def _variables_read_by_settings():
    """The names of the environment variables config/settings.py reads: every env_*() and
    os.environ.get() call with a literal name, and DATABASE_URL (read by dj-database-url)."""
    names = {"DATABASE_URL"}
    for node in ast.walk(ast.parse(SETTINGS_FILE.read_text())):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        function = ast.unparse(node.func)
        first = node.args[0]
        if (function.startswith("env_") or function == "os.environ.get") and isinstance(
            first, ast.Constant
        ):
            names.add(first.value)
    return names


def test_readme_settings_table_lists_every_variable_the_settings_read():
    readme = (BASE_DIR / "README.md").read_text()
    section = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = {
        name
        for row in section.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])
    }

    assert _variables_read_by_settings() - documented == set()
    assert documented - _variables_read_by_settings() == set()


@task()
def _double(number):
    return number * 2


def test_tasks_run_in_line_in_the_test_suite():
    # The suite's settings (config/settings_test.py) run tasks as they are enqueued, so a test
    # sees a job's outcome without a worker.
    result = _double.enqueue(21)

    assert (result.status, result.return_value) == (TaskResultStatus.SUCCESSFUL, 42)
