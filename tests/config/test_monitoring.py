"""What a Sentry report keeps of a request (config/monitoring.py's before_send). The whole path
through sentry-sdk, from a failing request to the event received, is tests/test_logging.py's."""

from config.monitoring import before_send


def _event(headers):
    # As sentry-sdk's Django integration builds it: header names from the WSGI environ,
    # title-cased ("HTTP_HX_CURRENT_URL" → "Hx-Current-Url").
    return {
        "request": {
            "method": "GET",
            "url": "https://contacts.example/accounts/7/",
            "query_string": "q=ada.lovelace%40customer.example",
            "data": {"email": "ada.lovelace@customer.example"},
            "headers": headers,
        }
    }


def test_a_report_drops_the_headers_that_carry_a_url_or_what_someone_typed():
    event = before_send(
        _event(
            {
                "Host": "contacts.example",
                "User-Agent": "Mozilla/5.0",
                "Origin": "https://contacts.example",
                "Referer": "https://contacts.example/people/?q=ada+lovelace",
                "Hx-Request": "true",
                "Hx-Current-Url": "https://contacts.example/people/?q=ada.lovelace%40customer",
                "Hx-Prompt": "Ada Lovelace",
            }
        ),
        hint={},
    )

    assert event["request"] == {
        "method": "GET",
        "url": "https://contacts.example/accounts/7/",
        "headers": {
            "Host": "contacts.example",
            "User-Agent": "Mozilla/5.0",
            "Origin": "https://contacts.example",
            "Hx-Request": "true",
        },
    }


def test_header_names_are_matched_whatever_their_case():
    event = before_send(
        _event({"referer": "https://x/?q=ada", "HX-CURRENT-URL": "https://x/?q=ada"}), hint={}
    )

    assert event["request"]["headers"] == {}


def test_a_report_without_a_request_is_left_as_it_is():
    event = {"message": "the scheduler stopped", "level": "error"}

    assert before_send(dict(event), hint={}) == event
