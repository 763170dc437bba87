"""Calendar days as the rules write them: ``YYYY-MM-DD`` and nothing looser.

SETTLEMENT_RULES §3: a date is a YAML date or a string matching exactly
``\\d{4}-\\d{2}-\\d{2}`` that is a real calendar day. Basic format, week dates,
unpadded fields, timestamps and numbers are malformed, never coerced.
"""

import re
from datetime import date, datetime
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
