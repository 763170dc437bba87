"""对账: the treatment location's payouts against the insured location's results.

Two records of the same money: the insured location's results (the result topic) and
what the treatment location paid out at the desk on them (each claim's payouts in its
claim register, read from the register's changelog: see
:mod:`xsettle.treatment.register`). Both are taken through the same §6 rule (a
reversal in the period of the settlement it reverses; duplicates and manual
reimbursements not cleared) and compared for one period:

- **totals** (总账对账) per province pair: counts of settlements and reversals and every
  §6 sum must agree;
- **details** (明细对账) per claim, by result id: a payout on one side only, the same
  result with different amounts (or provinces), a claim settled twice without a
  reversal between.

``xsettle reconcile --period P`` prints both as JSON Lines, then a one-line summary,
and exits 1 on any difference.
"""

import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..engine.clearing import CLEARED_AMOUNTS, StatementLine
from ..engine.money import ZERO, fmt_money
from ..engine.regions import province_of
from ..exchange.contract.codec import AvroCodec
from ..exchange.contract.registry import registry_from_env
from ..exchange.contract.topics import Topics
from ..exchange.processes.topic_reader import read_topic
from ..settings import Settings
from ..treatment.register import PAID, PAYOUT, entry_version
from .location import check_period, period_of

INSURED, TREATMENT = "insured", "treatment"


@dataclass(frozen=True)
class Payment:
    """One cleared result as one side records it."""

    person_id: str
    claim_id: str
    result_id: str
    status: str
    period: str
    pair: tuple[str, str]
    amounts: tuple[Decimal, ...]
    """In CLEARED_AMOUNTS order."""

    def to_record(self) -> dict[str, Any]:
        return {
            "result_id": self.result_id,
            "status": self.status,
            "insured_province": self.pair[0],
            "treatment_province": self.pair[1],
            **{name: fmt_money(v) for name, v in zip(CLEARED_AMOUNTS, self.amounts, strict=True)},
        }


class Clearer:
    """§6 applied to results one at a time: which of them clear, and in which period.

    One at a time because the dashboard follows the result topic as it grows, while
    ``xsettle reconcile`` reads it whole: both must apply the very same rule. Results
    come in each claim's order (a claim's results share one partition), so a reversal
    finds the settlement it reverses already taken."""

    def __init__(self) -> None:
        self._claims: dict[tuple[str, str], tuple[str, bool]] = {}
        """(person, claim) → the period and manual-ness of its latest settlement."""
        self._seen: set[str] = set()

    def take(self, result: dict[str, Any]) -> Payment | None:
        """The payment a decoded ``SettlementResult`` (or a payout in the same shape)
        clears, or None."""
        person, claim, status = result.get("person_id"), result.get("claim_id"), result["status"]
        if status not in ("SETTLED", "REVERSED") or not person or not claim:
            return None
        if result.get("duplicate_of") or result["result_id"] in self._seen:
            return None
        self._seen.add(result["result_id"])
        known = self._claims.get((person, claim))
        if status == "SETTLED" or known is None:
            day = result.get("date")
            if day is None:
                return None  # written before results carried their claim's date
            known = self._claims[(person, claim)] = (
                period_of(day),
                result.get("route") == "manual",
            )
        period, manual = known
        if manual or result.get("amounts") is None:
            return None
        return Payment(
            person,
            claim,
            result["result_id"],
            status,
            period,
            (province_of(result["insured_region"]), province_of(result["treatment_region"])),
            tuple(Decimal(result["amounts"][name]) for name in CLEARED_AMOUNTS),
        )


def cleared(results: Iterable[dict[str, Any]]) -> list[Payment]:
    """The results that §6 clears, each with its period: results in each claim's order,
    as decoded ``SettlementResult`` records (or payouts in the same shape)."""
    clearer = Clearer()
    return [payment for result in results if (payment := clearer.take(result)) is not None]


def payouts(entries: dict[tuple[str, str], list[Any]]) -> Iterator[dict[str, Any]]:
    """The treatment register's payouts, as result-shaped records, claim by claim."""
    for (person, claim), entry in entries.items():
        for paid in entry[PAID] if len(entry) > PAID else ():
            record = dict(zip(PAYOUT, paid, strict=True))
            record["amounts"] = dict(zip(CLEARED_AMOUNTS, record["amounts"], strict=True))
            record["date"] = date.fromisoformat(record["date"]) if record["date"] else None
            yield {**record, "person_id": person, "claim_id": claim}


class RegisterCopy:
    """The treatment register as its changelog leaves it: each claim's newest entry.

    A changelog may hold an older entry after a newer one (a row written again by a
    recovering worker), so the version decides, not the order; a tombstone removes the
    claim. Shared by ``xsettle reconcile`` (the changelog read whole) and the
    dashboard (followed)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], list[Any]] = {}

    def take(self, key: bytes, value: bytes | None) -> None:
        person, claim = json.loads(key)
        if value is None:
            self.entries.pop((person, claim), None)
            return
        entry = json.loads(value)
        current = self.entries.get((person, claim))
        if current is None or entry_version(entry) > entry_version(current):
            self.entries[(person, claim)] = entry


def statement_of(payments: Iterable[Payment], period: str) -> dict[tuple[str, str], StatementLine]:
    """One side's §6 lines for ``period``, by (insured, treatment) province pair."""
    lines: dict[tuple[str, str], StatementLine] = {}
    for payment in payments:
        if payment.period != period:
            continue
        line = lines.get(payment.pair)
        if line is None:
            line = lines[payment.pair] = StatementLine(period, *payment.pair)
        line.add_amounts(
            payment.status == "REVERSED", dict(zip(CLEARED_AMOUNTS, payment.amounts, strict=True))
        )
    return lines


def reconcile(
    insured: list[Payment], treatment: list[Payment], period: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The period's totals per province pair (both sides), and every difference."""
    sides = {INSURED: insured, TREATMENT: treatment}
    totals = {side: statement_of(payments, period) for side, payments in sides.items()}
    lines = []
    for pair in sorted(totals[INSURED].keys() | totals[TREATMENT].keys()):
        shown = {
            side: _figures(lines_of_side.get(pair) or StatementLine(period, *pair))
            for side, lines_of_side in totals.items()
        }
        lines.append(
            {
                "period": period,
                "insured_province": pair[0],
                "treatment_province": pair[1],
                **shown,
                "agree": shown[INSURED] == shown[TREATMENT],
            }
        )
    by_claim: dict[tuple[str, str], dict[str, list[Payment]]] = defaultdict(
        lambda: {INSURED: [], TREATMENT: []}
    )
    for side, payments in sides.items():
        for payment in payments:
            if payment.period == period:
                by_claim[(payment.person_id, payment.claim_id)][side].append(payment)
    differences = []
    for (person, claim), found in sorted(by_claim.items()):
        differences += _claim_differences(period, person, claim, found)
    return lines, differences


def agree(lines: list[dict[str, Any]], differences: list[dict[str, Any]]) -> bool:
    """Whether a period reconciles: every pair's totals agree and no claim differs."""
    return not differences and all(line["agree"] for line in lines)


def differences_by_kind(differences: list[dict[str, Any]]) -> dict[str, int]:
    kinds: dict[str, int] = defaultdict(int)
    for difference in differences:
        kinds[difference["difference"]] += 1
    return dict(sorted(kinds.items()))


def _figures(line: StatementLine) -> dict[str, Any]:
    """One side's counts and sums for a pair: the §6 line without its identity."""
    record = line.to_record()
    for name in ("period", "insured_province", "treatment_province"):
        del record[name]
    return record


def _claim_differences(
    period: str, person: str, claim: str, found: dict[str, list[Payment]]
) -> list[dict[str, Any]]:
    out = []
    where = {"period": period, "person_id": person, "claim_id": claim}
    mine = {side: {p.result_id: p for p in payments} for side, payments in found.items()}
    for result_id in sorted(mine[INSURED].keys() | mine[TREATMENT].keys()):
        a, b = mine[INSURED].get(result_id), mine[TREATMENT].get(result_id)
        if a is not None and b is not None and a == b:
            continue
        kind = (
            "amounts differ" if a and b else f"only at the {INSURED if a else TREATMENT} location"
        )
        out.append(
            {
                **where,
                "difference": kind,
                "result_id": result_id,
                INSURED: a.to_record() if a else None,
                TREATMENT: b.to_record() if b else None,
            }
        )
    for side, payments in found.items():
        standing = None
        for payment in payments:
            if payment.status == "SETTLED" and standing is not None:
                out.append(
                    {
                        **where,
                        "difference": "settled twice",
                        "side": side,
                        "result_id": payment.result_id,
                        "first": standing,
                    }
                )
            standing = payment.result_id if payment.status == "SETTLED" else None
    return out


def read_sides(settings: Settings) -> tuple[list[Payment], list[Payment]]:
    """Both sides' cleared payments, read whole: the result topic, and the treatment
    register's changelog (each claim's latest entry)."""
    bootstrap = settings.require_bootstrap("xsettle reconcile")
    topics = Topics(settings.namespace)
    codec = AvroCodec("settlement_result", registry_from_env(settings))
    results = [codec.decode(record.value) for record in read_topic(bootstrap, topics.results)]
    register = RegisterCopy()
    for record in read_topic(bootstrap, register_changelog(settings)):
        register.take(record.key, record.value)
    return cleared(results), cleared(payouts(register.entries))


def register_changelog(settings: Settings) -> str:
    """The topic of the treatment register's changelog (faust's name for the table's)."""
    return f"{settings.namespace}-treatment-claims-changelog"


def summary(period: str, lines: list[dict[str, Any]], differences: list[dict[str, Any]]) -> str:
    pairs = len(lines)
    if agree(lines, differences):
        owed = sum((Decimal(line[INSURED]["owed"]) for line in lines), ZERO)
        return (
            f"reconcile {period}: both sides agree on {pairs} province pairs "
            f"({fmt_money(owed)} owed)"
        )
    disagree = sum(1 for line in lines if not line["agree"])
    detail = ", ".join(f"{n} {kind}" for kind, n in differences_by_kind(differences).items())
    return (
        f"reconcile {period}: {len(differences)} claim differences ({detail}); "
        f"{disagree} of {pairs} province pairs disagree"
    )


def reconcile_command(settings: Settings, period: str) -> int:
    check_period(period)
    insured, treatment = read_sides(settings)
    lines, differences = reconcile(insured, treatment, period)
    out = sys.stdout
    for line in [*lines, *differences]:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
    out.flush()
    text = summary(period, lines, differences)
    print(f"xsettle: {text}", file=sys.stderr)
    return 0 if agree(lines, differences) else 1
