"""Past 400 lines as one thing: every setting, as Django reads them from one module.
Settings for Unified Contacts, read from environment variables.

Every variable read here, with its meaning and default, is in the README's "Settings" table;
a variable added here goes there too.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=()):
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name, default):
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "config.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Django's form and widget templates, for the FORM_RENDERER below.
    "django.forms",
    "django.contrib.postgres",
    "mptt",
    "import_export",
    "django_htmx",
    "django_tasks_db",
    "axes",
    # The scheduler process (`manage.py crontask`): see integrations/tasks.py.
    "crontask",
    "accounts",
    "contacts",
    "integrations",
]

MIDDLEWARE = [
    # First, so that every log line of a request and its response carry the request's id.
    "log_request_id.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise, so that static files keep their long cache lifetimes.
    "config.middleware.private_no_store",
    # Before the session is read (it is a database row): decides from a signed cookie whether
    # this request may read the replica. Only with DATABASE_REPLICA_URL (see DATABASES).
    "config.replica.replica_reads",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a signed-in staff user; the sign-in page opts out.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: a locked-out sign-in becomes its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

# Every form field is drawn by templates/forms/field.html (label, help text, errors linked to the
# input by aria-describedby), loaded through TEMPLATES like every other template.
FORM_RENDERER = "config.renderers.FormRenderer"

WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.staff",
                # The nonce of the Django admin's few inline <style>/<script> tags.
                "django.template.context_processors.csp",
            ],
            # The staff_name and id_url filters on every page without a {% load %}.
            "builtins": ["config.templatetags.staff", "config.templatetags.links"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and os.environ.get(
    "PG_OPTIONS"
):
    # Server settings for this app's sessions (libpq's "options"). On a small machine
    # "-c max_parallel_workers_per_gather=0" helps: the app's queries are short lookups that
    # stop after a page of rows, and starting parallel workers costs more than they save
    # (about 10 ms a query on two cores).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", os.environ["PG_OPTIONS"])
# A streaming replica of the PostgreSQL primary, for the pages' reads (config/replica.py): only
# GET and HEAD requests read it, and only when it has replayed the browser's own last write;
# everything else (writes, workers, the scheduler, commands) reads the primary. Without it
# there is no router and no replica middleware: not one query more anywhere.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL.")
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must be a postgres:// URL.")
    replica_options = DATABASES["replica"].setdefault("OPTIONS", {})
    if os.environ.get("PG_OPTIONS"):
        replica_options.setdefault("options", os.environ["PG_OPTIONS"])
    # A replica that stopped answering costs one request this long every 30 s per process
    # (then the pages read the primary), not every request.
    replica_options.setdefault("connect_timeout", 3)
    # The test suite creates no database on a read-only replica: the alias points at default's
    # test database instead (Django's test mirror).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["config.routers.PrimaryReplicaRouter"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes SQLite's write lock when a transaction starts, so two writers never
    # interleave their reads and writes of the account tree (what the advisory locks do on
    # PostgreSQL).
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The covering index on contacts (INCLUDE columns) is PostgreSQL's; SQLite builds it without them.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before the next backend hashes its password.
    "axes.backends.AxesStandaloneBackend",
    "config.backends.StaffBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "sign-in"
LOGIN_REDIRECT_URL = "accounts:list"
LOGOUT_REDIRECT_URL = "sign-in"

LANGUAGE_CODE = "en-us"
# The app's time zone: pages show times in it, and integration jobs' schedules are read in it.
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is a promise to browsers that outlives this deployment, made by the domain's
    # owner (hstspreload.org): opt in, never by default, and check --deploy need not ask for it.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")

# Every response forbids inline script and style: the app's templates have none (CONVENTIONS),
# and the Django admin marks its few inline tags with the request's nonce. Nothing is framed,
# embedded or posted elsewhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Every line names the request it belongs to ("none" outside requests): the id of the request id
# block below, also sent back in the X-Request-ID header, so a 500 and its traceback meet.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "log_request_id.filters.RequestIDFilter"}},
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "line",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # The scheduler's library logs every run of every job (every few seconds) at INFO.
    "loggers": {
        "apscheduler": {"level": "WARNING"},
        # Django's own console handler (DEBUG only) would print each of its lines a second
        # time, without the request id: its lines go to the root's handler alone.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# --- Integrations (integrations/): users and accounts files in and out -----------------------
# The largest integration file accepted, in bytes; counted while the upload streams in (its
# rest is read and dropped, so the form can say how large it was).
INTEGRATIONS_MAX_UPLOAD_SIZE = env_int("INTEGRATIONS_MAX_UPLOAD_SIZE", 100 * 1024 * 1024)
# What one integration file may hold, checked while it is read (integrations/files.py), so that
# no file, however built, keeps a preview, the admin or a command busy for long.
# Rows after the header, blank lines included: SPEC §7's largest import is 1,000,000 rows.
INTEGRATIONS_MAX_ROWS = env_int("INTEGRATIONS_MAX_ROWS", 1_000_000)
# Columns with a value: a users file has 9, an accounts file 4, and other columns are ignored;
# 200 leaves room for wide exports of other systems, thousands is a broken file.
INTEGRATIONS_MAX_COLUMNS = env_int("INTEGRATIONS_MAX_COLUMNS", 200)
# Bytes (UTF-8) of one cell: forty times the longest value a column is stored in (255
# characters), so that real files never meet it, while a cell of megabytes cannot fill the
# preview, its messages and the error file.
INTEGRATIONS_MAX_CELL_BYTES = env_int("INTEGRATIONS_MAX_CELL_BYTES", 10_000)
# Bytes an .xlsx unpacks to (all its parts: openpyxl reads the shared strings whole), known from
# the zip's directory before it is opened: a 1,000,000-row users file holds 400 to 550 MB of
# XML as this app or Excel writes it.
INTEGRATIONS_MAX_XLSX_SIZE = env_int("INTEGRATIONS_MAX_XLSX_SIZE", 700 * 1024 * 1024)
# Uploads stream into a temporary file that has no name on disk (integrations/uploads.py): it
# is gone when the request ends, however it ends, a killed worker included.
FILE_UPLOAD_HANDLERS = ["integrations.uploads.UploadHandler"]
# Rows read, looked up and written together: lookups are one query per chunk, not per row.
INTEGRATIONS_CHUNK_SIZE = env_int("INTEGRATIONS_CHUNK_SIZE", 2000)
# Seconds without news from a running import job, a worker or the scheduler before it counts as
# stopped (killed); a job's transaction died with it, so it is marked failed with the data
# unchanged. Jobs, workers and the scheduler report every few seconds (integrations.heartbeat).
INTEGRATIONS_JOB_STALE_AFTER = env_int("INTEGRATIONS_JOB_STALE_AFTER", 60)
# Load balancers probe /health/ over plain http.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# --- Sign-in throttling (django-axes; config/sign_in.py) -------------------------------------
# After this many failed sign-ins for one username, or from one address, within the cool-off,
# every sign-in for it is refused (no password hashed) until the cool-off has passed since the
# last counted failure, or a Global admin deletes its access attempts in the Django admin.
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGN_IN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Tries while locked out are refused without a write, and do not push the cool-off further.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "config.sign_in.locked_out_response"
AXES_CLIENT_IP_CALLABLE = "config.sign_in.client_address"
# Successful sign-ins are not kept (axes' access log): personal data with no use here.
AXES_DISABLE_ACCESS_LOG = True
# No start-up banner in every manage.py command's output.
AXES_VERBOSE = False
# Reverse proxies in front of the app that each append to X-Forwarded-For; 0 (no proxy): the
# address a sign-in came from is the connection's. More than there are lets clients choose it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- Response headers: browser features, request ids ------------------------------------------
# Browser features the app never uses, refused to its pages and anything they might embed. Only
# features Chromium knows: it reports any other as an error in the console (tests/e2e).
PERMISSIONS_POLICY = {
    feature: []
    for feature in [
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "clipboard-read",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "gamepad",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-create",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "sync-xhr",
        "usb",
        "window-management",
        "xr-spatial-tracking",
    ]
}
# Every request has an id (django-log-request-id): in its log lines and its X-Request-ID response
# header. Taken from REQUEST_ID_HEADER when a proxy in front sets one (so the proxy's log and
# this one share it), else generated; never read from a header no trusted proxy overwrites.
REQUEST_ID_RESPONSE_HEADER = "X-Request-ID"
GENERATE_REQUEST_ID_IF_NOT_IN_HEADER = True
_request_id_header = os.environ.get("REQUEST_ID_HEADER", "").strip()
LOG_REQUEST_ID_HEADER = (
    "HTTP_" + _request_id_header.upper().replace("-", "_") if _request_id_header else None
)

# --- Error reports (Sentry) ----------------------------------------------------------------
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from config.monitoring import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        release=os.environ.get("SENTRY_RELEASE", ""),
    )

# --- Privacy (integrations/retention.py): how long files of people data are kept -------------
# Days an import's uploaded file and error file are kept before the daily purge deletes them.
INTEGRATIONS_FILE_RETENTION_DAYS = env_int("INTEGRATIONS_FILE_RETENTION_DAYS", 90)

# --- Integration jobs (integrations/places.py, integrations/syncs.py): files moved on schedules --
# Folders an integration job may read or write, separated by ":" (SPEC §4.6). A folder job's path
# must resolve (links and ".." followed) inside one of them. Default: sync/ beside the database.
_default_sync_root = (
    Path(DATABASES["default"]["NAME"]).parent / "sync"
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    else BASE_DIR / "sync"
)
SYNC_FOLDER_ROOTS = [
    Path(root)
    for root in (os.environ.get("SYNC_FOLDER_ROOTS") or str(_default_sync_root)).split(":")
    if root
]
# The keys that encrypt integration jobs' secrets (passwords, private keys, tokens) at rest,
# newest first, separated by ",": Fernet keys (`manage.py sync new-key` prints one). The first
# encrypts; every one decrypts, so a key is rotated by putting a new one in front. Without it, a
# key derived from SECRET_KEY is used: changing SECRET_KEY then makes saved secrets unreadable.
SYNC_SECRET_KEYS = [key for key in os.environ.get("SYNC_SECRET_KEYS", "").split(",") if key]
# Certificate authorities an HTTPS source's server is checked against (a PEM file); default:
# the system's.
SYNC_CA_BUNDLE = os.environ.get("SYNC_CA_BUNDLE") or None
# An S3 job without access keys of its own signs in with the server's credentials (boto3's
# chain: its environment variables, ~/.aws, an instance role) only when this is 1: those may
# reach buckets that the Advanced users who manage jobs must not read or write.
SYNC_S3_DEFAULT_CREDENTIALS = os.environ.get("SYNC_S3_DEFAULT_CREDENTIALS", "") == "1"
# Seconds a network place (SFTP, S3, HTTPS, PostgreSQL) may take to connect or answer.
SYNC_TIMEOUT = env_int("SYNC_TIMEOUT", 30)
# Seconds a PostgreSQL source's query may run (its statement_timeout).
SYNC_QUERY_TIMEOUT = env_int("SYNC_QUERY_TIMEOUT", 300)
# Failed runs in a row after which an integration job is named at the top of Integrations.
SYNC_FAILURE_ALERT_AFTER = env_int("SYNC_FAILURE_ALERT_AFTER", 3)
# Seconds between the scheduler's looks for integration jobs whose run is due.
SYNC_TICK_SECONDS = env_int("SYNC_TICK_SECONDS", 20)
