"""What the insured location answers about a person (费用查询, 余额查询, 备案进度).

Read from the person's row (or the reference, for a person no event has touched yet):
the registry record, the filings with their validity, the account balance, each
year's accumulators, and each settlement with its amounts. Money is exact
two-decimal text, as everywhere on the exchange.
"""

from typing import Any

from ..engine import Directory
from ..engine.insured import Insured
from ..engine.ledger import ClaimRecord
from ..engine.money import fmt_money
from ..engine.persons import FilingEntry
from .row import PersonRow


def insured_state(person_id: str, row: PersonRow | None, directory: Directory) -> Insured | None:
    """The person's state; None for a person the exchange does not know."""
    if row is not None and row.insured is not None:
        return row.insured
    return Insured.of(directory.persons.get(person_id))


def person_view(person_id: str, insured: Insured) -> dict[str, Any]:
    """``GET /persons/{id}``."""
    person = insured.person
    return {
        "person_id": person_id,
        "registration": person.model_dump(mode="json", exclude={"person_id"}) if person else None,
        "filings": [
            {
                "filing_id": filing.filing_id if isinstance(filing, FilingEntry) else None,
                "type": filing.type,
                "treatment_region": filing.treatment_region,
                "valid_from": filing.valid_from.isoformat(),
                "valid_to": filing.valid_to.isoformat() if filing.valid_to else None,
            }
            for filing in insured.filings
        ],
        "balance": fmt_money(insured.balance),
        "years": {
            str(year): totals.to_dict(fmt_money)
            for year, totals in sorted(insured.ledger.years.items())
        },
    }


def settlements_view(person_id: str, insured: Insured) -> dict[str, Any]:
    """``GET /persons/{id}/settlements``."""
    return {
        "person_id": person_id,
        "settlements": [_claim(record) for record in insured.ledger.claims.values()],
    }


def _claim(record: ClaimRecord) -> dict[str, Any]:
    settlement = record.settlement
    return {
        "claim_id": settlement.claim_id,
        "status": "REVERSED" if record.reversal is not None else "SETTLED",
        "route": settlement.route.value,
        "date": record.date.isoformat(),
        "treatment_region": record.treatment_region,
        "medical_type": record.medical_type,
        "generation": record.generation,
        "filing_type": settlement.filing_type,
        "amounts": settlement.amounts.as_strings() if settlement.amounts else None,
    }
