"""参保登记 / 变更 (SETTLEMENT_RULES §5): registering a person or changing their record.

An enrolment never meets ``PERSON_NOT_FOUND``: an unknown person is a new one. An
existing person keeps their ledger, filings and balance; each given field replaces
the old value and a credit (个人账户划入) is added to the account. The insured region
is the one field that cannot change: a person insured elsewhere is enrolled there.
"""

from .insured import Insured
from .ledger import ZERO, Ledger
from .lifecycle_events import EnrolEvent
from .lifecycle_results import EnrolResult, enrolment_rejected
from .persons import Registration
from .values import MONEY_LIMIT
from .vocabulary import Status

NEW_PERSON_NEEDS = ("insured_region", "scheme", "member_type")
CHANGEABLE = ("scheme", "member_type", "status", "assistance_group")


def enrol(event: EnrolEvent, insured: Insured | None) -> tuple[EnrolResult, Insured | None]:
    """Apply an enrolment; returns its answer and the person's state (new or changed)."""
    credit = event.account_credit or ZERO
    person = insured.person if insured is not None else None
    if insured is None or person is None:
        for key in NEW_PERSON_NEEDS:
            if not event.given(key):
                return _invalid(event, f"{key}: required for a new person"), insured
        person = Registration(
            person_id=event.person_id,
            insured_region=event.insured_region,
            scheme=event.scheme,
            member_type=event.member_type,
            status=event.status or "active",
            assistance_group=event.assistance_group,
        )
        insured = Insured(event.person_id, person, Ledger(event.person_id, credit))
        return EnrolResult(event.person_id, Status.ENROLLED, balc=insured.balance), insured
    if event.given("insured_region") and event.insured_region != person.insured_region:
        return _invalid(
            event,
            f"insured_region: {event.person_id} is insured in {person.insured_region}; "
            "a person insured elsewhere enrols there",
        ), insured
    if insured.balance + credit >= MONEY_LIMIT:
        return _invalid(
            event, f"account_credit: the balance must stay below {MONEY_LIMIT:,f}"
        ), insured
    insured.person = person.model_copy(
        update={key: getattr(event, key) for key in CHANGEABLE if event.given(key)}
    )
    insured.ledger.balance += credit
    return EnrolResult(event.person_id, Status.ENROLLED, balc=insured.balance), insured


def _invalid(event: EnrolEvent, message: str) -> EnrolResult:
    return enrolment_rejected(event.person_id, message)
