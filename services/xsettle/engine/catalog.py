"""Treatment-location catalog (就医地目录): which part of each fee line is in scope.

Every line splits into four buckets: 全自费 (``fulamt_ownpay_amt``), 超限价
(``overlmt_selfpay``), 先行自付 (``preselfpay_amt``) and 范围内 (``inscp_scp_amt``).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from .money import round_fen
from .regions import covers, specificity
from .values import Amount, Ratio, Region, Strict

FeeCategory = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-4])$")]
"""National fee category 医疗收费项目类别, "01" 床位费 … "14" 其他费."""

OTHER_FEES = "14"


class CatalogItem(Strict):
    code: str
    class_: Literal["A", "B", "C"] = Field(alias="class")
    self_pay_ratio: Ratio | None = None
    price_limit: Amount | None = None
    name: str = ""
    category: FeeCategory = OTHER_FEES
    typical_price: Amount | None = None

    @model_validator(mode="after")
    def _class_b_has_ratio(self) -> "CatalogItem":
        if self.class_ == "B" and self.self_pay_ratio is None:
            raise ValueError("a class B item needs self_pay_ratio")
        return self


def _unique_codes(items: list[CatalogItem]) -> list[CatalogItem]:
    seen: set[str] = set()
    for item in items:
        if item.code in seen:
            raise ValueError(f"item code {item.code!r} is listed twice")
        seen.add(item.code)
    return items


class Catalog(Strict):
    region: Region
    name: str = ""
    items: Annotated[list[CatalogItem], AfterValidator(_unique_codes)]

    @cached_property
    def by_code(self) -> dict[str, CatalogItem]:
        return {item.code: item for item in self.items}


ZERO = Decimal("0.00")


# Not frozen: built for every fee line, and a frozen dataclass costs a third more.
@dataclass(slots=True)
class FeeSplit:
    """An amount and its four buckets; they always sum to ``amount``."""

    amount: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_selfpay: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal

    @classmethod
    def total(cls, splits: Iterable["FeeSplit"]) -> "FeeSplit":
        """Bucket-wise sums: a claim's totals from its lines."""
        amount = fulamt = over = pre = inscp = ZERO
        for split in splits:
            amount += split.amount
            fulamt += split.fulamt_ownpay_amt
            over += split.overlmt_selfpay
            pre += split.preselfpay_amt
            inscp += split.inscp_scp_amt
        return cls(amount, fulamt, over, pre, inscp)


def split_line(item: CatalogItem | None, unit_price: Decimal, quantity: Decimal) -> FeeSplit:
    """Split one line by its catalog item (``None``: not in the catalog, fully self-paid)."""
    amount = round_fen(unit_price * quantity)
    if item is None or item.class_ == "C":
        return FeeSplit(amount, amount, ZERO, ZERO, ZERO)
    # Nothing is subtracted where nothing is over the limit or paid first: subtracting
    # ZERO from a fen amount gives it back to the sign of a zero, and the skipped
    # Decimal operations were ~20% of itemising a claim.
    limit = item.price_limit
    if limit is None or unit_price <= limit:
        over, in_limit = ZERO, amount
    else:
        over = round_fen((unit_price - limit) * quantity)
        in_limit = amount - over
    if item.class_ == "B":
        pre = round_fen(in_limit * item.self_pay_ratio)  # type: ignore[operator]
        return FeeSplit(amount, ZERO, over, pre, in_limit - pre)
    return FeeSplit(amount, ZERO, over, ZERO, in_limit)


class CatalogIndex:
    """The catalogs on the exchange, with the covering catalog of each region memoised."""

    def __init__(self, catalogs: list[Catalog]) -> None:
        self.catalogs = list(catalogs)
        self._covering: dict[str, Catalog | None] = {}

    def covering(self, treatment_region: str) -> Catalog | None:
        try:
            return self._covering[treatment_region]
        except KeyError:
            found = self._covering[treatment_region] = covering_catalog(
                self.catalogs, treatment_region
            )
            return found


def covering_catalog(catalogs: list[Catalog], treatment_region: str) -> Catalog | None:
    """The most specific catalog covering the region (district, then city, then province)."""
    best: Catalog | None = None
    for catalog in catalogs:
        if covers(catalog.region, treatment_region) and (
            best is None or specificity(catalog.region) > specificity(best.region)
        ):
            best = catalog
    return best
