"""The treatment location's side (就医地): validate a claim and normalise its fee detail.

Checks 1–2 of SETTLEMENT_RULES §3 happen here; the result is the fee-detail record
the insured location settles, with every line split by the local catalog and the
national fee categories (大类费用) totalled.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .catalog import OTHER_FEES, ZERO, Catalog, CatalogIndex, FeeSplit, split_line
from .claims import SettleEvent
from .results import Result, rejected
from .vocabulary import Reason


# Not frozen: built for every fee line, and a frozen dataclass costs a third more.
@dataclass(slots=True)
class DetailLine:
    code: str
    category: str
    unit_price: Decimal
    quantity: Decimal
    split: FeeSplit


# Not frozen: built for every claim, and frozen its ten fields took ~1.3 µs more.
@dataclass(slots=True)
class FeeDetail:
    """A normalised settle request: what the insured location needs, and nothing it must look up.

    Settlement reads the header and ``totals``; ``lines`` and ``categories`` are the
    itemised detail (for audit and clearing), which the insured service does not decode.
    """

    claim_id: str
    person_id: str
    treatment_region: str
    institution_level: int
    medical_type: str
    emergency: bool
    date: date
    lines: tuple[DetailLine, ...]
    totals: FeeSplit
    categories: dict[str, Decimal]


def normalise(event: SettleEvent, catalogs: CatalogIndex) -> FeeDetail | Result:
    """Split the claim by the covering catalog, or reject it if no catalog covers the region."""
    catalog = catalogs.covering(event.treatment_region)
    if catalog is None:
        return rejected(
            event.claim_id,
            Reason.TREATMENT_REGION_NOT_CONNECTED,
            f"treatment region {event.treatment_region} has no catalog on the exchange; "
            "settle this claim locally",
        )
    return itemise(event, catalog)


def itemise(event: SettleEvent, catalog: Catalog) -> FeeDetail:
    """The fee detail of a claim under ``catalog``: every line split, categories totalled.

    Direct settlement uses the treatment region's catalog (above); a manual
    reimbursement may fall back to the insured region's (§5).
    """
    lines = []
    splits = []
    categories: dict[str, Decimal] = {}
    items = catalog.by_code
    for line in event.lines:
        item = items.get(line.code)
        unit_price, quantity = line.unit_price, line.quantity
        split = split_line(item, unit_price, quantity)
        splits.append(split)
        category = item.category if item else OTHER_FEES
        lines.append(DetailLine(line.code, category, unit_price, quantity, split))
        categories[category] = categories.get(category, ZERO) + split.amount
    totals = FeeSplit.total(splits)
    return FeeDetail(
        claim_id=event.claim_id,
        person_id=event.person_id,
        treatment_region=event.treatment_region,
        institution_level=event.institution_level,
        medical_type=event.medical_type,
        emergency=event.emergency,
        date=event.date,
        lines=tuple(lines),
        totals=totals,
        categories=categories,
    )
