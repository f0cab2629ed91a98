"""Error reports to Sentry, when SENTRY_DSN is set (config/settings.py calls init_sentry)."""

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration


def _tag_request_id(event, hint):
    # The id the request's log lines carry (log_request_id), so a report and the log meet.
    from log_request_id import local

    request_id = getattr(local, "request_id", None)
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def init_sentry(*, dsn, environment, release):
    """Send unhandled errors and error log lines to Sentry; no personal data (send_default_pii
    off: no staff user, cookies or request bodies), no performance tracing."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        traces_sample_rate=0,
        before_send=_tag_request_id,
    )
