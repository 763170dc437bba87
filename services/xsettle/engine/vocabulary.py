"""The closed vocabularies of the exchange: kinds, medical and filing types, statuses, reasons."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

MedicalType = Literal["inpatient", "outpatient", "chronic"]
"""住院 | 普通门诊 | 门诊慢特病."""

MEDICAL_TYPES: tuple[MedicalType, ...] = ("inpatient", "outpatient", "chronic")

FilingType = Literal["long_term", "referral", "emergency", "temporary"]
"""异地长期居住 | 异地转诊 | 急诊抢救 (视同备案) | 其他临时外出."""

FiledType = Literal["long_term", "referral", "temporary"]
"""What a ``file`` event may file for (§5): an emergency needs no filing."""

UNFILED = "unfiled"
"""The filing type of a manual reimbursement with no valid filing and no emergency (§5)."""

AdjustedType = FilingType | Literal["unfiled"]
"""A key of a policy's ``filing_adjustment``: every filing type a settlement can carry."""

EVENT_KINDS: tuple[str, ...] = ("settle", "reverse", "manual", "enrol", "file", "cancel_filing")
"""Every ``kind`` of ``events[]`` (§1, §5)."""

Level = Annotated[int, Field(ge=1, le=3)]
"""Institution level 一级/二级/三级 (as a policy key: ints or their text)."""

StrictLevel = Annotated[int, Field(strict=True, ge=1, le=3)]
"""A level in an event: the integer 1, 2 or 3, never "3", 3.0 or true (§3 check 1)."""


class Status(StrEnum):
    SETTLED = "SETTLED"
    REJECTED = "REJECTED"
    REVERSED = "REVERSED"
    ENROLLED = "ENROLLED"
    FILED = "FILED"
    FILING_CANCELLED = "FILING_CANCELLED"


class Route(StrEnum):
    """How a settlement was made: directly at a connected hospital, or reimbursed by hand
    at the insured location (手工报销, §5), which pays no account and is not cleared (§6)."""

    DIRECT = "direct"
    MANUAL = "manual"


class Reason(StrEnum):
    """Rejection codes, in the order the checks run: §3's, then those only §5 adds."""

    INVALID_CLAIM = "INVALID_CLAIM"
    TREATMENT_REGION_NOT_CONNECTED = "TREATMENT_REGION_NOT_CONNECTED"
    PERSON_NOT_FOUND = "PERSON_NOT_FOUND"
    INSURED_REGION_NOT_CONNECTED = "INSURED_REGION_NOT_CONNECTED"
    INSURANCE_INACTIVE = "INSURANCE_INACTIVE"
    BENEFIT_NOT_DEFINED = "BENEFIT_NOT_DEFINED"
    FILING_NOT_VALID = "FILING_NOT_VALID"
    NOT_FILED = "NOT_FILED"
    UNKNOWN_SETTLEMENT = "UNKNOWN_SETTLEMENT"
    ALREADY_REVERSED = "ALREADY_REVERSED"
    ENROLMENT_INVALID = "ENROLMENT_INVALID"
    FILING_INVALID = "FILING_INVALID"
    FILING_SAME_PROVINCE = "FILING_SAME_PROVINCE"
    FILING_PERIOD_INVALID = "FILING_PERIOD_INVALID"
    FILING_NOT_FOUND = "FILING_NOT_FOUND"
    FILING_ALREADY_ENDED = "FILING_ALREADY_ENDED"
    NO_CATALOG = "NO_CATALOG"
