"""The project as a whole: migrations, system checks and settings from the environment."""

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
    "SECRET_KEY",
    "SECURE_HSTS_SECONDS",
    "SECURE_SSL_REDIRECT",
    "TASKS_BACKEND",
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


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


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


def test_settings_in_debug_without_secret_key_use_a_development_key(settings_environment):
    settings_environment.setenv("DEBUG", "1")

    settings = read_settings()

    assert (settings["DEBUG"], settings["SECRET_KEY"], settings["ALLOWED_HOSTS"]) == (
        True,
        "django-insecure-local-development-only",
        ["localhost", "127.0.0.1", "[::1]"],
    )
    assert "SECURE_SSL_REDIRECT" not in settings


def test_settings_in_production_are_secure(settings_environment):
    settings_environment.setenv("SECRET_KEY", "x" * 60)
    settings_environment.setenv("ALLOWED_HOSTS", "example.com, www.example.com")

    settings = read_settings()

    assert {
        name: settings[name]
        for name in [
            "DEBUG",
            "ALLOWED_HOSTS",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS",
            "SECURE_PROXY_SSL_HEADER",
        ]
    } == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["example.com", "www.example.com"],
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    }
    assert settings["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


def test_settings_default_database_is_sqlite_in_the_project_folder(settings_environment):
    settings_environment.setenv("SECRET_KEY", "x" * 60)

    database = read_settings()["DATABASES"]["default"]

    assert {name: database[name] for name in ["ENGINE", "NAME", "CONN_MAX_AGE", "OPTIONS"]} == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(BASE_DIR / "db.sqlite3"),
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }


def test_settings_read_a_postgres_database_url(settings_environment):
    settings_environment.setenv("SECRET_KEY", "x" * 60)
    settings_environment.setenv("DATABASE_URL", "postgres://alice:s3cret@db.example:6543/contacts")

    database = read_settings()["DATABASES"]["default"]

    assert {
        name: database[name]
        for name in [
            "ENGINE",
            "NAME",
            "USER",
            "PASSWORD",
            "HOST",
            "PORT",
            "CONN_MAX_AGE",
            "CONN_HEALTH_CHECKS",
        ]
    } == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "contacts",
        "USER": "alice",
        "PASSWORD": "s3cret",
        "HOST": "db.example",
        "PORT": 6543,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
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

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == [
        engine,
        "unified_contacts" if url else str(BASE_DIR / "db.sqlite3"),
    ]


def test_test_settings_run_tasks_immediately_and_hash_fast(settings):
    assert settings.TASKS["default"]["BACKEND"] == (
        "django.tasks.backends.immediate.ImmediateBackend"
    )
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
