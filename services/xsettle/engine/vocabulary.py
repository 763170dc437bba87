"""The closed vocabularies of the exchange: medical types, filing types, statuses, reasons."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

MedicalType = Literal["inpatient", "outpatient", "chronic"]
"""住院 | 普通门诊 | 门诊慢特病."""

MEDICAL_TYPES: tuple[MedicalType, ...] = ("inpatient", "outpatient", "chronic")

FilingType = Literal["long_term", "referral", "emergency", "temporary"]
"""异地长期居住 | 异地转诊 | 急诊抢救 (视同备案) | 其他临时外出."""

Level = Annotated[int, Field(ge=1, le=3)]
"""Institution level 一级/二级/三级 (as a policy key: ints or their text)."""

StrictLevel = Annotated[int, Field(strict=True, ge=1, le=3)]
"""A level in an event: the integer 1, 2 or 3, never "3", 3.0 or true (§3 check 1)."""


class Status(StrEnum):
    SETTLED = "SETTLED"
    REJECTED = "REJECTED"
    REVERSED = "REVERSED"


class Reason(StrEnum):
    """Rejection codes, listed in the order the checks run (SETTLEMENT_RULES §3)."""

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
