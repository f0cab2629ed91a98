"""Error reports to Sentry, when SENTRY_DSN is set (config/settings.py calls init_sentry)."""

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration

# What a report keeps of the request: its method, URL without the query and its headers (less
# cookies, which send_default_pii off already drops). Queries and forms hold people's names
# and emails (searches, filters, edits).
_REQUEST_KEPT = {"method", "url", "headers"}
# Headers that carry another page's whole URL, query and all (the people list's search, a
# segment's filters), or what a person typed (htmx's prompt). Origin is a scheme and host only.
_HEADERS_DROPPED = {"referer", "hx-current-url", "hx-prompt"}


def before_send(event, hint):
    """Tag a report with the request's id, the one its log lines carry (log_request_id), and
    drop what the request held of people: its query, body and cookies, and the headers that
    name another URL or what a person typed."""
    from log_request_id import local

    request_id = getattr(local, "request_id", None)
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    if "request" in event:
        request = {key: value for key, value in event["request"].items() if key in _REQUEST_KEPT}
        if isinstance(request.get("headers"), dict):
            request["headers"] = {
                name: value
                for name, value in request["headers"].items()
                if name.lower() not in _HEADERS_DROPPED
            }
        event["request"] = request
    return event


def init_sentry(*, dsn, environment, release):
    """Send unhandled errors and error log lines to Sentry, without personal data: no staff
    user, addresses or cookies (send_default_pii off), no request bodies or queries, no values
    of the code's variables; no performance tracing."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0,
        before_send=before_send,
    )
