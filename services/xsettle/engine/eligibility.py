"""Whether the insured location serves a person at all: §3 checks 4–6.

Settlements, manual reimbursements and filings (§5 checks 3–5) ask the same three
questions in the same order; each names its own subject in the rejection.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from .insured import Insured
from .persons import Registration
from .policy import Policy
from .vocabulary import Reason


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: Reason
    message: str


def eligible(
    person_id: str,
    insured: Insured | None,
    policies: Mapping[str, Policy],
    *,
    needs_connection: bool = True,
) -> tuple[Insured, Registration, Policy] | Refusal:
    """The person's state, record and policy, or why they cannot be served.

    ``needs_connection=False`` is manual reimbursement's check 5: only a missing
    policy refuses, since ``connected: false`` is exactly when it is used (§5).
    """
    person = insured.person if insured is not None else None
    if insured is None or person is None:
        return Refusal(
            Reason.PERSON_NOT_FOUND, f"person {person_id} is not insured on the exchange"
        )
    policy = policies.get(person.insured_region)
    if policy is None:
        return Refusal(
            Reason.INSURED_REGION_NOT_CONNECTED,
            f"insured region {person.insured_region} has no policy on the exchange",
        )
    if needs_connection and not policy.connected:
        return Refusal(
            Reason.INSURED_REGION_NOT_CONNECTED,
            f"insured region {person.insured_region} is not open for direct settlement; "
            "claim reimbursement there",
        )
    if person.status != "active":
        return Refusal(
            Reason.INSURANCE_INACTIVE,
            f"insurance of {person_id} is {person.status}; benefits are not payable until "
            "it is active",
        )
    return insured, person, policy
