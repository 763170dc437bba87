"""Insured-location policy (参保地政策): deductible, pooled-fund ratios, caps, second layers.

The policy decides *how much* the funds pay; what is in scope was already decided by
the treatment location's catalog (就医地目录、参保地政策).
"""

import itertools
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from .money import Exact
from .values import Amount, Ratio, Region, Strict
from .vocabulary import AdjustedType, Level, MedicalType


def _check_adjustment(value: Decimal) -> Decimal:
    if not Decimal(-1) <= value <= Decimal(1):
        raise ValueError("must be between -1 and 1")
    return value


MAX_FILING_MONTHS = 24
"""No filing may run longer than this (§5 check 7), so no policy's minimum may either."""


class Band(Strict):
    """One marginal band: ``ratio`` applies to the part of the base up to ``upto``."""

    upto: Amount | None
    ratio: Ratio


def _check_bands(bands: list[Band]) -> list[Band]:
    if not bands:
        raise ValueError("must list at least one band")
    for index, band in enumerate(bands[:-1]):
        if band.upto is None:
            raise ValueError(f"band {index} has upto: null, which only the last band may have")
    if bands[-1].upto is not None:
        raise ValueError("the last band must have upto: null (no end)")
    limits = [band.upto for band in bands[:-1]]
    if any(b <= a for a, b in itertools.pairwise(limits)):
        raise ValueError("bands must be ascending by upto")
    return bands


Bands = Annotated[list[Band], AfterValidator(_check_bands)]
LevelMap = dict[Level, Ratio]


def _ratio_shape(value: Any) -> str:
    return "~bands" if isinstance(value, list) else "~levels"


RatioRule = Annotated[
    Annotated[LevelMap, Tag("~levels")] | Annotated[Bands, Tag("~bands")],
    Discriminator(_ratio_shape),
]
"""A level map ``{1: 0.9, ...}`` or marginal bands ``[{upto, ratio}, ...]``; the shape
picks the branch, so an error speaks of the branch the user wrote (tags starting with
``~`` are dropped from error paths)."""


def band_pay(
    bands: list[Band], low: Decimal, high: Decimal, adjust: Decimal = Decimal(0)
) -> Decimal:
    """Unrounded payment on ``[low, high]``: each band's ratio on the part inside it."""
    paid = Decimal(0)
    start = Decimal(0)
    for band in bands:
        end = band.upto
        part = (high if end is None else min(high, end)) - max(low, start)
        if part > 0:
            paid += part * adjusted(band.ratio, adjust)
        if end is None or end >= high:
            break
        start = end
    return paid


def adjusted(ratio: Decimal, adjust: Decimal) -> Decimal:
    """A pooled-fund ratio after the filing-type adjustment, clamped to [0, 1]."""
    return min(Decimal(1), max(Decimal(0), ratio + adjust))


class Deductible(Strict):
    """起付标准: per visit (optionally lower for repeat stays) or once a year."""

    basis: Literal["per_visit", "annual"]
    by_level: dict[Level, Amount]
    repeat_step: Amount | None = None
    floor: Amount | None = None
    annual_max: Amount | None = None
    """Per visit only: the deductibles paid in a year never exceed this (累计不超过)."""

    @model_validator(mode="after")
    def _per_visit_only(self) -> Self:
        if self.basis == "annual":
            for key in ("repeat_step", "annual_max"):
                if getattr(self, key) is not None:
                    raise ValueError(f"{key} applies only to basis: per_visit")
        return self

    def due(self, level: int, earlier_visits: int, paid_this_year: Decimal) -> Decimal:
        """The deductible still to pay on this claim, before capping by the in-scope amount."""
        base = self.by_level[level]
        if self.basis == "annual":
            return max(Decimal(0), base - paid_this_year)
        due = base
        if self.repeat_step is not None:
            floor = self.floor or Decimal(0)
            due = max(min(base, floor), base - self.repeat_step * earlier_visits)
        if self.annual_max is not None:
            due = min(due, max(Decimal(0), self.annual_max - paid_this_year))
        return due


class Benefit(Strict):
    """The rule for one scheme × medical type."""

    deductible: Deductible
    ratio: dict[str, RatioRule]
    annual_cap: Amount | None = None
    claim_cap: Amount | None = None
    """The pooled fund's payment on one claim (单次最高支付限额)."""

    def defines(self, member_type: str, level: int) -> bool:
        """Whether this rule can price a claim at ``level`` for ``member_type``."""
        rule = self.ratio.get(member_type)
        if rule is None or level not in self.deductible.by_level:
            return False
        return isinstance(rule, list) or level in rule

    def pooled_fund(self, member_type: str, level: int, base: Decimal, adjust: Decimal) -> Decimal:
        """Unrounded pooled-fund payment on ``base`` (in-scope amount after the deductible)."""
        rule = self.ratio[member_type]
        if isinstance(rule, list):
            return band_pay(rule, Decimal(0), base, adjust)
        return base * adjusted(rule[level], adjust)


class CriticalIllness(Strict):
    """大病保险 / 大额医疗补助: pays on the year's in-scope burden above a threshold."""

    schemes: list[str]
    threshold: Amount
    bands: Bands
    annual_cap: Amount | None = None

    def pays_on(self, burden_before: Decimal, burden_after: Decimal) -> Decimal:
        """Unrounded payment for the burden growing from ``burden_before`` to ``burden_after``."""
        low = max(Decimal(0), burden_before - self.threshold)
        high = max(Decimal(0), burden_after - self.threshold)
        return band_pay(self.bands, low, high)


class MedicalAssistance(Strict):
    """医疗救助: a share of what is left, for listed assistance groups."""

    groups: dict[str, Ratio]
    annual_cap: Amount | None = None


class Policy(Strict):
    """One insured region's policy (参保地政策)."""

    region: Region
    name: str = ""
    connected: bool = True
    filing_adjustment: dict[AdjustedType, Annotated[Exact, AfterValidator(_check_adjustment)]] = (
        Field(default_factory=dict)
    )
    filing_validity_months: Annotated[int, Field(strict=True, ge=1, le=MAX_FILING_MONTHS)] = 6
    """The minimum period of a referral or temporary filing (§5; 原则上不少于6个月)."""
    schemes: dict[str, dict[MedicalType, Benefit]] = Field(default_factory=dict)
    critical_illness: CriticalIllness | None = None
    medical_assistance: MedicalAssistance | None = None
    personal_account_schemes: list[str] = Field(default_factory=list)

    def benefit(self, scheme: str, medical_type: str) -> Benefit | None:
        return self.schemes.get(scheme, {}).get(medical_type)  # type: ignore[call-overload]

    def adjustment(self, filing_type: str) -> Decimal:
        return self.filing_adjustment.get(filing_type, Decimal(0))  # type: ignore[call-overload]


def capped(amount: Decimal, cap: Decimal | None, paid: Decimal) -> Decimal:
    """``amount`` limited to what is left of a yearly ``cap`` after ``paid``."""
    if cap is None:
        return amount
    return min(amount, max(Decimal(0), cap - paid))
