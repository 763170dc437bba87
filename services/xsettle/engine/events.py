"""Any event of ``events[]``, parsed or answered: the one place that dispatches on ``kind``.

A malformed event is answered in the shape of its kind (§2, §5): a claim with
``INVALID_CLAIM`` naming the claim, an enrolment with ``ENROLMENT_INVALID`` naming the
person, a filing or cancellation with ``FILING_INVALID`` naming the filing. An
unknown kind is a malformed claim (§3 check 1).
"""

from typing import Any

from .claims import ClaimEvent, InvalidClaim, Unreadable, given_id, parse_event, unknown_kind
from .lifecycle_events import LIFECYCLE_KINDS, LifecycleEvent, parse_lifecycle
from .lifecycle_results import EnrolResult, FilingResult
from .results import Result
from .vocabulary import EVENT_KINDS

AnyEvent = ClaimEvent | LifecycleEvent
Outcome = Result | EnrolResult | FilingResult
"""What the exchange answers to one event; each prints its shape with ``to_record()``."""

__all__ = ["AnyEvent", "Outcome", "Unreadable", "read_event"]


def read_event(raw: Any) -> AnyEvent:
    """Validate one event of any kind, or raise :class:`Unreadable` with its answer."""
    kind = raw.get("kind") if isinstance(raw, dict) else None
    if kind in LIFECYCLE_KINDS:
        return parse_lifecycle(raw)
    if isinstance(raw, dict) and kind not in EVENT_KINDS:
        raise InvalidClaim(given_id(raw, "claim_id"), unknown_kind(kind, EVENT_KINDS))
    return parse_event(raw)
