"""Request ids, the log and error reports (LOGGING, django-log-request-id, config/monitoring.py):
every request has an id, sent back in X-Request-ID and carried by each of its log lines; an error
is logged with its traceback under that id, shown on the error page, and sent to Sentry when
SENTRY_DSN is set, tagged with it and with no personal data."""

import json
import re

import pytest
from django.test import Client

from tests.test_project import production_environment, python, read_settings

pytestmark = pytest.mark.django_db

REQUEST_ID = re.compile(r"[0-9a-f]{32}")

# Run by a Django started as gunicorn starts it (its WSGI application, production settings from
# the environment): a view that fails, posted to once; prints the response's status,
# X-Request-ID and body as JSON. With a Sentry DSN in the environment, first starts a server on
# 127.0.0.1 standing in for Sentry, points SENTRY_DSN at it and prints the events it received.
FAILING_REQUEST = r"""
import gzip, json, os, threading
from http.server import BaseHTTPRequestHandler, HTTPServer

envelopes = []

class Sentry(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":  # sentry-sdk's choice when brotli is installed (locust's is)
            import brotli

            body = brotli.decompress(body)
        envelopes.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass

if os.environ.get("SENTRY_DSN"):
    server = HTTPServer(("127.0.0.1", 0), Sentry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["SENTRY_DSN"] = f"http://public@127.0.0.1:{server.server_port}/1"

import io
from wsgiref.util import setup_testing_defaults

from django.contrib.auth.decorators import login_not_required
from django.views.decorators.csrf import csrf_exempt
from django.core.wsgi import get_wsgi_application
from django.urls import path

application = get_wsgi_application()  # what gunicorn serves
import sentry_sdk

import config.urls

@csrf_exempt
@login_not_required
def fail(request):
    raise RuntimeError("the failing view failed")

# Added to the app's own URLs, whose error handlers answer.
config.urls.urlpatterns.append(path("fail/", fail))

environ = {
    "REQUEST_METHOD": "POST",
    "PATH_INFO": "/fail/",
    "QUERY_STRING": "q=ada.lovelace@example.com",
    "HTTP_HOST": "example.com",
    "wsgi.url_scheme": "https",
    "HTTP_COOKIE": "sessionid=secret-session",
    "CONTENT_TYPE": "application/x-www-form-urlencoded",
    "CONTENT_LENGTH": "28",
    "wsgi.input": io.BytesIO(b"email=grace%40navy.example&x"),
}
setup_testing_defaults(environ)
started = {}

def start_response(status, headers, exc_info=None):
    started.update(status=int(status.split()[0]), headers=dict(headers))

body = b"".join(application(environ, start_response)).decode()
sentry_sdk.flush(timeout=10)
events = []
for envelope in envelopes:
    lines = envelope.split(b"\n")
    for item_header, payload in zip(lines[1::2], lines[2::2]):
        if json.loads(item_header).get("type") == "event":
            events.append(json.loads(payload))
print(json.dumps({
    "status": started["status"],
    "request_id": started["headers"].get("X-Request-ID"),
    "body": body,
    "events": events,
}))
"""


def failing_request(tmp_path, **variables):
    env = production_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **variables)
    result = python("-c", FAILING_REQUEST, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def test_a_500_is_logged_with_its_traceback_under_the_id_the_response_names(tmp_path):
    answer, log = failing_request(tmp_path)

    assert answer["status"] == 500
    request_id = answer["request_id"]
    assert REQUEST_ID.fullmatch(request_id)
    error = re.search(
        rf"^\S+ \S+ ERROR \[{request_id}\] django\.request: Internal Server Error: /fail/\n"
        r"Traceback \(most recent call last\):\n(.*\n)*?RuntimeError: the failing view failed$",
        log,
        re.M,
    )
    assert error is not None, log
    # The error page names it for a staff user's report.
    assert f"Reference of this error, for a report: <code>{request_id}</code>" in answer["body"]
    # No Sentry without SENTRY_DSN.
    assert answer["events"] == []


def test_in_development_an_error_is_logged_once_with_its_id(tmp_path):
    """Django's own console handler (DEBUG only) printed each of its lines again, without
    the id."""
    answer, log = failing_request(tmp_path, DEBUG="1")

    assert answer["status"] == 500
    assert log.count("Internal Server Error: /fail/") == 1, log
    assert f"ERROR [{answer['request_id']}] django.request: Internal Server Error" in log


def test_a_500_is_sent_to_sentry_tagged_with_the_request_id_and_no_personal_data(tmp_path):
    answer, _ = failing_request(
        tmp_path,
        SENTRY_DSN="set by the script",
        SENTRY_ENVIRONMENT="staging",
        SENTRY_RELEASE="unified-contacts@1.2.3",
    )

    assert answer["events"], "Sentry received no event"
    (event, *_) = answer["events"]
    exception = event["exception"]["values"][-1]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "the failing view failed")
    assert event["tags"]["request_id"] == answer["request_id"]
    assert (event["environment"], event["release"]) == ("staging", "unified-contacts@1.2.3")
    # What a request held of people (its query, its form, the session cookie, the values in
    # the code's variables) stays here; the path and the failing code go.
    assert event["request"]["url"] == "https://example.com/fail/"
    sent = json.dumps(answer["events"])
    for personal in ["ada.lovelace", "grace", "secret-session", "ip_address", "REMOTE_ADDR"]:
        assert personal not in sent, personal
    frames = exception["stacktrace"]["frames"]
    assert frames[-1]["context_line"].strip() == 'raise RuntimeError("the failing view failed")'
    assert [frame for frame in frames if "vars" in frame] == []


def test_sentry_is_off_without_a_dsn_and_on_with_one():
    script = (
        "import django, json, sentry_sdk; django.setup(); client = sentry_sdk.get_client(); "
        "print(json.dumps([client.is_active(), client.options.get('send_default_pii'), "
        "client.options.get('environment')]))"
    )
    off = python("-c", script, env=production_environment())
    on = python("-c", script, env=production_environment(SENTRY_DSN="http://public@127.0.0.1:9/1"))

    assert (off.returncode, on.returncode) == (0, 0), off.stderr + on.stderr
    assert json.loads(off.stdout)[0] is False
    assert json.loads(on.stdout) == [True, False, "production"]


def test_every_response_names_its_own_request_id(client):
    ids = [client.get("/sign-in/")["X-Request-ID"] for _ in range(2)]

    assert all(REQUEST_ID.fullmatch(request_id) for request_id in ids)
    assert ids[0] != ids[1]


def test_a_request_id_sent_by_the_client_is_not_taken(client):
    response = client.get("/sign-in/", headers={"X-Request-ID": "chosen-by-the-client"})

    assert REQUEST_ID.fullmatch(response["X-Request-ID"])


def test_a_request_id_passed_by_a_trusted_proxy_is_taken(settings):
    settings.LOG_REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
    client = Client()  # its middleware reads the setting when it starts

    passed = client.get("/sign-in/", headers={"X-Request-ID": "proxy-4f1c"})
    missing = client.get("/sign-in/")

    assert passed["X-Request-ID"] == "proxy-4f1c"
    assert REQUEST_ID.fullmatch(missing["X-Request-ID"])


@pytest.mark.parametrize(
    ("header", "meta"), [(None, None), ("X-Request-ID", "HTTP_X_REQUEST_ID"), ("", None)]
)
def test_the_request_id_header_comes_from_the_environment(monkeypatch, header, meta):
    monkeypatch.setenv("SECRET_KEY", "x" * 60)
    if header is None:
        monkeypatch.delenv("REQUEST_ID_HEADER", raising=False)
    else:
        monkeypatch.setenv("REQUEST_ID_HEADER", header)

    assert read_settings()["LOG_REQUEST_ID_HEADER"] == meta
