"""备案 and 取消备案 (SETTLEMENT_RULES §5): a person's filings change, claim by claim.

A filing is valid from its application day (线上备案, 即时生效). Long-term residence
is filed once and stays valid (一次备案、长期有效), and a new one replaces the old
(变更). Referral and temporary filings run at least the policy's
``filing_validity_months`` (原则上不少于6个月) and at most 24 months.

The ``filing_id`` is the idempotency key of a filing in ONE namespace for all
persons: a ``file`` whose id was FILED before, for anyone, re-emits that answer. The
namespace is the caller's to keep (the offline round trip keeps it in
:class:`~xsettle.engine.offline.OfflineExchange`), since it is the only state that
is not a person's; :func:`file` is handed the earlier answer, if any.
"""

from collections.abc import Mapping
from datetime import date

from .dates import day_before, period_end
from .eligibility import Refusal, eligible
from .insured import Insured
from .lifecycle_events import CancelFilingEvent, FileEvent
from .lifecycle_results import FilingResult, filing_rejected
from .persons import FilingEntry
from .policy import MAX_FILING_MONTHS, Policy
from .regions import province_of
from .vocabulary import Reason, Status


def file(
    event: FileEvent,
    insured: Insured | None,
    policies: Mapping[str, Policy],
    earlier: FilingResult | None,
) -> tuple[FilingResult, Insured | None]:
    """Apply a filing (checks 2–7 of §5; check 1 was parsing). ``earlier``: the FILED
    answer already given under this ``filing_id``, whoever it was for."""
    if earlier is not None:
        return earlier, insured  # a duplicate: the original answer, nothing changes
    served = eligible(event.person_id, insured, policies)
    if isinstance(served, Refusal):
        return filing_rejected(event.filing_id, served.reason, served.message), insured
    insured, person, policy = served
    if province_of(event.treatment_region) == province_of(person.insured_region):
        return filing_rejected(
            event.filing_id,
            Reason.FILING_SAME_PROVINCE,
            f"{event.treatment_region} is in the province of insured region "
            f"{person.insured_region}: not a cross-province filing",
        ), insured
    valid_to = _valid_to(event, policy)
    if isinstance(valid_to, FilingResult):
        return valid_to, insured
    if event.type == "long_term":
        _end_residence(insured, event.date)
    filing = FilingEntry(
        type=event.type,
        treatment_region=event.treatment_region,
        valid_from=event.date,
        valid_to=valid_to,
        filing_id=event.filing_id,
    )
    insured.filings.append(filing)
    return FilingResult(event.filing_id, Status.FILED, event.person_id, filing), insured


def cancel_filing(
    event: CancelFilingEvent, insured: Insured | None
) -> tuple[FilingResult, Insured | None]:
    """End a filing the day before ``date``; claims already settled stay as they are."""
    index = insured.filed(event.filing_id) if insured is not None else None
    if insured is None or index is None:
        return filing_rejected(
            event.filing_id,
            Reason.FILING_NOT_FOUND,
            f"no filing {event.filing_id} was filed for {event.person_id}",
        ), insured
    filing = insured.filings[index]
    if filing.valid_to is not None and filing.valid_to < event.date:
        return filing_rejected(
            event.filing_id,
            Reason.FILING_ALREADY_ENDED,
            f"filing {event.filing_id} already ended on {filing.valid_to.isoformat()}",
        ), insured
    ended = filing.model_copy(update={"valid_to": day_before(event.date)})
    insured.filings[index] = ended
    return FilingResult(event.filing_id, Status.FILING_CANCELLED, event.person_id, ended), insured


def _valid_to(event: FileEvent, policy: Policy) -> date | FilingResult | None:
    """The filing's last day (``None``: open-ended), or ``FILING_PERIOD_INVALID``."""
    if event.type == "long_term":
        return None
    months = policy.filing_validity_months
    shortest = period_end(event.date, months)
    if event.valid_to is None:
        return shortest
    longest = period_end(event.date, MAX_FILING_MONTHS)
    if not shortest <= event.valid_to <= longest:
        return filing_rejected(
            event.filing_id,
            Reason.FILING_PERIOD_INVALID,
            f"valid_to must be from {shortest.isoformat()} (at least {months} months) "
            f"to {longest.isoformat()} (at most {MAX_FILING_MONTHS} months)",
        )
    return event.valid_to


def _end_residence(insured: Insured, day: date) -> None:
    """变更: every long-term filing still running on ``day`` ends the day before."""
    for index, filing in enumerate(insured.filings):
        if filing.type == "long_term" and (filing.valid_to is None or filing.valid_to >= day):
            insured.filings[index] = filing.model_copy(update={"valid_to": day_before(day)})
