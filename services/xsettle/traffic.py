"""A realistic day of exchange traffic, built from the policy and catalog libraries.

Deterministic for a seed. Most claims settle; a known share exercises every other
path: emergencies, unfiled patients, expired filings, inactive insurance, unknown
persons, unconnected treatment regions, benefits a policy lacks, duplicates,
reversals and malformed claims.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from . import library
from .engine import Catalog, Person, Policy
from .engine.vocabulary import MEDICAL_TYPES
from .scenario import Scenario

DAY = date(2025, 6, 16)
UNCONNECTED_REGION = "650102"  # 乌鲁木齐市天山区: no catalog on the exchange
MEMBER_TYPES = {"employee": ("in_service", "retired"), "resident": ("resident", "student")}
LINES = {"outpatient": (1, 6), "chronic": (2, 8), "inpatient": (6, 14)}
QUANTITY = {"01": (1, 12), "07": (1, 12), "09": (1, 30), "11": (1, 20), "10": (1, 15)}


@dataclass(frozen=True)
class TrafficMix:
    """Shares of each kind of trouble in the generated day (the rest settles normally)."""

    lines: int | None = None
    """Lines per claim; ``None``: a realistic spread by medical type."""
    duplicate: float = 0.01
    reversal: float = 0.02
    resettle: float = 0.0
    """Of reversals, the share followed at once by the same claim settled again."""
    life_cycle: float = 0.03
    """Claims preceded by an insured-side event (§5): an account credit, a filing made
    for the trip (which the claim then uses), a cancelled filing, a newcomer enrolled
    and filed; or paid by manual reimbursement instead."""
    malformed: float = 0.005
    emergency_unfiled: float = 0.01
    unfiled: float = 0.01
    unconnected: float = 0.005
    unknown_person: float = 0.003
    unlisted_item: float = 0.05


DENSE = TrafficMix(duplicate=0.1, reversal=0.3, resettle=0.5)
"""Few persons, many operations per claim: what makes redelivery hard."""

CLEAN = TrafficMix(
    life_cycle=0,
    duplicate=0,
    reversal=0,
    malformed=0,
    emergency_unfiled=0,
    unfiled=0,
    unconnected=0,
    unknown_person=0,
    unlisted_item=0,
)
"""Traffic where nothing goes wrong on purpose: for benchmarks."""


def _persons(
    rng: random.Random, policies: list[Policy], catalogs: list[Catalog], count: int
) -> list[Person]:
    persons = []
    for index in range(count):
        policy = policies[index % len(policies)]
        scheme = rng.choice(sorted(policy.schemes))
        status = "active" if rng.random() > 0.02 else rng.choice(["suspended", "waiting"])
        treatment = rng.choice(catalogs).region
        expired = rng.random() < 0.03
        filing_type = rng.choices(["long_term", "referral", "temporary"], [5, 2, 3])[0]
        valid_to = (
            DAY - timedelta(days=30)
            if expired
            else (None if filing_type == "long_term" else DAY + timedelta(days=150))
        )
        persons.append(
            Person(
                person_id=f"P{policy.region}-{index:06d}",
                insured_region=policy.region,
                scheme=scheme,
                member_type=rng.choice(MEMBER_TYPES.get(scheme, ("resident",))),
                status=status,
                account_balance=Decimal(rng.choice([0, 200, 800, 1500, 5000])),
                assistance_group="low_income" if rng.random() < 0.05 else None,
                filings=[
                    {
                        "type": filing_type,
                        "treatment_region": treatment,
                        "valid_from": DAY - timedelta(days=200),
                        "valid_to": valid_to,
                    }
                ],
            )
        )
    return persons


def _district(region: str, rng: random.Random) -> str:
    """A district inside a catalog's area (a city's 01–09, a province's capital's)."""
    if region.endswith("0000"):
        return f"{region[:2]}01{rng.randint(1, 9):02d}"
    if region.endswith("00"):
        return f"{region[:4]}{rng.randint(1, 9):02d}"
    return region


def _lines(
    rng: random.Random, catalog: Catalog, medical_type: str, mix: TrafficMix
) -> list[dict[str, Any]]:
    low, high = (mix.lines, mix.lines) if mix.lines else LINES[medical_type]
    lines = []
    for item in rng.sample(catalog.items, min(len(catalog.items), rng.randint(low, high))):
        typical = item.typical_price or Decimal("20.00")
        price = (typical * Decimal(rng.randint(85, 125)) / 100).quantize(Decimal("0.01"))
        qlow, qhigh = QUANTITY.get(item.category, (1, 3))
        lines.append(
            {"code": item.code, "unit_price": str(price), "quantity": str(rng.randint(qlow, qhigh))}
        )
    if lines and rng.random() < mix.unlisted_item:
        lines[-1] = {"code": "ZZ-NOT-LISTED", "unit_price": "35.50", "quantity": "2"}
    return lines


def _malformed(rng: random.Random, event: dict[str, Any]) -> dict[str, Any]:
    broken = dict(event)
    flaw = rng.randrange(4)
    if flaw == 0:
        broken["lines"] = [{**event["lines"][0], "quantity": "0"}]
    elif flaw == 1:
        del broken["medical_type"]
    elif flaw == 2:
        broken["date"] = "2025-13-45"
    else:
        broken["institution_level"] = 5
    return broken


def _life_cycle(
    rng: random.Random,
    index: int,
    person: Person,
    catalog: Catalog,
    catalogs: list[Catalog],
    events: list[dict[str, Any]],
) -> tuple[Person, Catalog, str]:
    """Append one insured-side event (§5) before a claim; the claim's person, catalog
    and kind after it (a filing sends the claim where it was filed for)."""
    elsewhere = rng.choice([c for c in catalogs if c.region[:2] != person.insured_region[:2]])
    filing = {
        "kind": "file",
        "filing_id": f"F-{index:07d}",
        "person_id": person.person_id,
        "type": rng.choice(["temporary", "referral"]),
        "treatment_region": elsewhere.region,
        "date": DAY.isoformat(),
    }
    match rng.choice(["credit", "file", "cancel", "manual", "newcomer"]):
        case "credit":
            events.append(
                {"kind": "enrol", "person_id": person.person_id, "account_credit": "200.00"}
            )
        case "file":
            events.append(filing)
            return person, elsewhere, "settle"
        case "cancel":
            events.append(filing)
            events.append(
                {
                    "kind": "cancel_filing",
                    "filing_id": filing["filing_id"],
                    "person_id": person.person_id,
                    "date": DAY.isoformat(),
                }
            )
            return person, elsewhere, "settle"  # NOT_FILED-like: the filing ended yesterday
        case "manual":
            return person, elsewhere, "manual"
        case "newcomer":
            newcomer = person.model_copy(
                update={"person_id": f"P-NEW-{index:07d}", "filings": [], "account_balance": 0}
            )
            events.append(
                {
                    "kind": "enrol",
                    "person_id": newcomer.person_id,
                    "insured_region": newcomer.insured_region,
                    "scheme": newcomer.scheme,
                    "member_type": newcomer.member_type,
                    "account_credit": "500.00",
                }
            )
            events.append({**filing, "person_id": newcomer.person_id})
            return newcomer, elsewhere, "settle"
    return person, catalog, "settle"


def generate_day(
    claims: int = 20_000, persons: int = 2_000, seed: int = 20250616, mix: TrafficMix | None = None
) -> Scenario:
    """A scenario of about ``claims`` claim events (plus reversals and duplicates)."""
    rng = random.Random(seed)
    mix = mix or TrafficMix()
    policies, catalogs = library.policies(), library.catalogs()
    people = _persons(rng, policies, catalogs, persons)
    by_region = {policy.region: policy for policy in policies}
    events: list[dict[str, Any]] = []
    settled: list[dict[str, Any]] = []
    for index in range(claims):
        person = rng.choice(people)
        policy = by_region[person.insured_region]
        offered = [t for t in MEDICAL_TYPES if t in policy.schemes.get(person.scheme, {})]
        medical_type = rng.choice(offered) if rng.random() > 0.01 else rng.choice(MEDICAL_TYPES)
        filing = person.filings[0]
        catalog = next(c for c in catalogs if c.region == filing.treatment_region)
        kind = "settle"
        if mix.life_cycle and rng.random() < mix.life_cycle:
            person, catalog, kind = _life_cycle(rng, index, person, catalog, catalogs, events)
        region = _district(catalog.region, rng)
        roll = rng.random()
        emergency = False
        if roll < mix.unconnected:
            region = UNCONNECTED_REGION
        elif roll < mix.unconnected + mix.unfiled + mix.emergency_unfiled:
            other = rng.choice([c for c in catalogs if c.region != catalog.region])
            catalog, region = other, _district(other.region, rng)
            emergency = roll >= mix.unconnected + mix.unfiled
        event = {
            "kind": kind,
            "claim_id": f"{region}-{DAY:%Y%m%d}-{index:07d}",
            "person_id": person.person_id
            if rng.random() > mix.unknown_person
            else f"P-UNKNOWN-{index}",
            "treatment_region": region,
            "institution_level": rng.choices([1, 2, 3], [2, 4, 4])[0],
            "medical_type": medical_type,
            "emergency": emergency,
            "date": DAY.isoformat(),
            "lines": _lines(rng, catalog, medical_type, mix),
        }
        if rng.random() < mix.malformed:
            event = _malformed(rng, event)
        events.append(event)
        settled.append(event)
        if rng.random() < mix.duplicate:
            events.append(rng.choice(settled))
        if rng.random() < mix.reversal:
            target = rng.choice(settled)
            events.append(
                {
                    "kind": "reverse",
                    "claim_id": target["claim_id"],
                    "person_id": target.get("person_id"),
                }
            )
            if mix.resettle and rng.random() < mix.resettle:
                events.append(target)
    return Scenario(policies=policies, catalogs=catalogs, persons=people, events=events)
