"""Integration jobs' schedules: cron expressions in the app's time zone (SPEC §4.6), read by
cronsim and put in words by cron-descriptor."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from cron_descriptor import ExpressionDescriptor, FormatException, Options
from cronsim import CronSim, CronSimError
from django.conf import settings
from django.core.exceptions import ValidationError

# (expression, label) offered beside the free field, from every few minutes to monthly.
PRESETS = [
    ("*/5 * * * *", "Every 5 minutes"),
    ("*/15 * * * *", "Every 15 minutes"),
    ("0 * * * *", "Every hour"),
    ("0 */4 * * *", "Every 4 hours"),
    ("0 6 * * *", "Every day at 06:00"),
    ("0 6 * * 1-5", "Weekdays at 06:00"),
    ("0 6 * * 1", "Every Monday at 06:00"),
    ("0 6 1 * *", "The first of every month at 06:00"),
]


def time_zone():
    return ZoneInfo(settings.TIME_ZONE)


def validate(expression):
    """Raise ValidationError, in words, unless `expression` is a cron expression with five
    fields that names a time that exists."""
    expression = " ".join(expression.split())
    fields = expression.split(" ") if expression else []
    if len(fields) != 5:
        raise ValidationError(
            "A schedule has five fields, minute hour day-of-month month day-of-week (for "
            "example “0 6 * * *”, every day at 06:00); “%(value)s” has %(count)d.",
            code="fields",
            params={"value": expression, "count": len(fields)},
        )
    try:
        next_time(expression, after=datetime.now(time_zone()))
    except (CronSimError, StopIteration) as error:
        detail = str(error) or "it names no time that ever comes"
        raise ValidationError(
            "“%(value)s” is not a schedule: %(detail)s.",
            code="invalid",
            params={"value": expression, "detail": detail.rstrip(".").lower()},
        ) from error
    return expression


def next_time(expression, *, after):
    """The first time after `after` that `expression` names, in the app's time zone; the
    times between `after` and a run missed during downtime are not replayed."""
    start = after.astimezone(time_zone()).replace(second=0, microsecond=0)
    return next(CronSim(expression, start))


def describe(expression):
    """In words, with the time zone: “Every day at 06:00, Europe/Paris”."""
    options = Options()
    options.use_24hour_time_format = True
    try:
        words = ExpressionDescriptor(expression, options).get_description()
    except (FormatException, ValueError, KeyError):
        return expression
    if re.fullmatch(r"At \d\d:\d\d", words):
        words = "Every day a" + words[1:]
    return f"{words}, {settings.TIME_ZONE}"
