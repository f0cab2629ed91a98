"""Signing in, throttled by django-axes: after AXES_FAILURE_LIMIT failed sign-ins for one username,
or from one address, every further try is refused, before any password is hashed, until the
cool-off has passed or a Global admin deletes the failed attempts in the Django admin (Access
attempts).

Axes refuses in its authentication backend, which comes first in AUTHENTICATION_BACKENDS, and marks
the request as locked out; the sign-in form turns that mark into its own message, and the lockout
response (AXES_LOCKOUT_CALLABLE) is that same sign-in page, answered as 429 Too Many Requests.
"""

from ipaddress import ip_address

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import ngettext


def cool_off_minutes():
    return round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)


class SignInForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sets the username's max_length after the field is built, which only reaches
        # the input's maxlength: without the validator, a longer username went on to
        # authenticate and to axes' record of failures (255 characters, a 500 on PostgreSQL).
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            # Set by axes while this very form was checked: the limit is reached (by this try or
            # before it), so saying "wrong password" would be untrue when the password was right.
            if getattr(self.request, "axes_locked_out", False):
                minutes = cool_off_minutes()
                raise forms.ValidationError(
                    ngettext(
                        "Too many failed sign-ins for this username or from this address. Try "
                        "again in %(minutes)d minute, or ask a Global admin to unlock it.",
                        "Too many failed sign-ins for this username or from this address. Try "
                        "again in %(minutes)d minutes, or ask a Global admin to unlock it.",
                        minutes,
                    ),
                    code="locked_out",
                    params={"minutes": minutes},
                ) from None
            raise


def locked_out_response(request, response, credentials):
    """AXES_LOCKOUT_CALLABLE: the sign-in page the view drew (with the form's lockout message),
    answered as 429 so that monitoring and scripts see the refusal for what it is."""
    response.status_code = settings.AXES_HTTP_RESPONSE_CODE
    response.reason_phrase = None  # derived from the status again
    return response


def client_address(request):
    """AXES_CLIENT_IP_CALLABLE: the address a sign-in came from. Behind TRUSTED_PROXY_COUNT
    reverse proxies, each of which appends the address it was reached from to X-Forwarded-For,
    that is the entry the first proxy wrote, counted from the right: entries further left are
    whatever the client chose to send. With no proxy (the default), or without such an entry (a
    proxy set up otherwise), it is REMOTE_ADDR."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            address.strip()
            for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if address.strip()
        ]
        if len(forwarded) >= proxies and _is_address(forwarded[-proxies]):
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def _is_address(text):
    try:
        ip_address(text)
    except ValueError:
        return False
    return True
