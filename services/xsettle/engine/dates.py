"""Calendar days as the rules write them: ``YYYY-MM-DD`` and nothing looser.

SETTLEMENT_RULES §3: a date is a YAML date or a string matching exactly
``\\d{4}-\\d{2}-\\d{2}`` that is a real calendar day. Basic format, week dates,
unpadded fields, timestamps and numbers are malformed, never coerced.
"""

import calendar
import re
from datetime import MAXYEAR, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator

from .errors import shown

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def calendar_day(value: Any) -> date:
    """Validator: a ``date`` (not a timestamp) or exact ``YYYY-MM-DD`` text."""
    if isinstance(value, datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a timestamp")
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        raise ValueError(f"must be a date written YYYY-MM-DD, not {shown(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a calendar day") from None


Day = Annotated[date, BeforeValidator(calendar_day)]
"""A calendar day in an event (``date``, ``valid_to``)."""


def day_before(day: date) -> date:
    """The day before: where a cancelled or replaced filing ends (§5). Callers reject
    0001-01-01 first, which has no day before it."""
    return day - timedelta(days=1)


def period_end(start: date, months: int) -> date:
    """The last day of a period of ``months`` months from ``start``: ``start + months − 1 day``.

    "Date + n months" keeps the day of month, clamped to the target month's last day
    (2025-08-31 + 6 months = 2026-02-28). A period reaching past the calendar (9999)
    ends on its last day: no later day exists for it to cover.
    """
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    if year > MAXYEAR:
        return date.max
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day) - timedelta(days=1)
