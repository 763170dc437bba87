"""The value types every scenario document shares: exact amounts and ratios, regions,
and strict (typo-rejecting) models, used by persons, catalogs, claims and policies."""

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .money import Exact, Money
from .regions import check_region

MONEY_LIMIT = Decimal(10) ** 16
"""Amounts travel as Avro decimal(18, 2): below 10^16 yuan."""


def _check_ratio(value: Decimal) -> Decimal:
    if not Decimal(0) <= value <= Decimal(1):
        raise ValueError("must be between 0 and 1")
    return value


def _check_amount(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    if value >= MONEY_LIMIT:
        raise ValueError(f"must be below {MONEY_LIMIT:,f}")
    return value


Ratio = Annotated[Exact, AfterValidator(_check_ratio)]
Amount = Annotated[Money, AfterValidator(_check_amount)]
Region = Annotated[str, Field(strict=True), AfterValidator(check_region)]


class Strict(BaseModel):
    """Scenario documents are hand-written: an unknown key is a typo, not an extension."""

    model_config = ConfigDict(extra="forbid", frozen=True)
