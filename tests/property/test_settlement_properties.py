"""Invariants of the engine over generated policies, catalogs, persons and events:
claims mixed with the life-cycle events of §5 (enrolments, filings, cancellations,
manual reimbursements), duplicates and reversals.

Conservation (of every result and of every ledger), non-negativity, idempotency of
duplicates, reversal restoring the ledger, the state's table form, and independence
of different persons' event streams.
"""

import copy
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xsettle.engine import AMOUNT_FIELDS, Insured, OfflineExchange, Route, Status
from xsettle.engine.ledger import ClaimRecord
from xsettle.scenario import Scenario

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REGION = "440106"
CODES = [f"I{n:02d}" for n in range(8)]

money = st.integers(min_value=0, max_value=2_000_000).map(lambda fen: Decimal(fen) / 100)
ratio = st.integers(min_value=0, max_value=100).map(lambda pct: Decimal(pct) / 100)
levels = st.fixed_dictionaries({1: ratio, 2: ratio, 3: ratio})


@st.composite
def bands(draw: st.DrawFn) -> list[dict[str, Any]]:
    limits = sorted(draw(st.sets(st.integers(min_value=1, max_value=200_000), max_size=3)))
    result = [{"upto": Decimal(limit), "ratio": draw(ratio)} for limit in limits]
    return [*result, {"upto": None, "ratio": draw(ratio)}]


@st.composite
def benefit(draw: st.DrawFn) -> dict[str, Any]:
    basis = draw(st.sampled_from(["per_visit", "annual"]))
    deductible: dict[str, Any] = {
        "basis": basis,
        "by_level": draw(st.fixed_dictionaries({1: money, 2: money, 3: money})),
    }
    if basis == "per_visit" and draw(st.booleans()):
        deductible["repeat_step"] = draw(money)
        deductible["floor"] = draw(money)
    rule: dict[str, Any] = {
        "deductible": deductible,
        "ratio": {"member": draw(st.one_of(levels, bands()))},
    }
    if draw(st.booleans()):
        rule["annual_cap"] = draw(money)
    return rule


@st.composite
def policy(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = {
        "region": "320300",
        "filing_adjustment": {"long_term": Decimal(draw(st.integers(-30, 30))) / 100},
        "schemes": {"scheme": {"inpatient": draw(benefit()), "outpatient": draw(benefit())}},
        "personal_account_schemes": draw(st.sampled_from([[], ["scheme"]])),
    }
    if draw(st.booleans()):
        document["critical_illness"] = {
            "schemes": ["scheme"],
            "threshold": draw(money),
            "bands": draw(bands()),
            **({"annual_cap": draw(money)} if draw(st.booleans()) else {}),
        }
    if draw(st.booleans()):
        document["medical_assistance"] = {
            "groups": {"poor": draw(ratio)},
            **({"annual_cap": draw(money)} if draw(st.booleans()) else {}),
        }
    return document


@st.composite
def catalog(draw: st.DrawFn) -> dict[str, Any]:
    items = []
    for code in CODES[:-1]:  # the last code is never listed: fully self-paid
        kind = draw(st.sampled_from("ABC"))
        item: dict[str, Any] = {"code": code, "class": kind}
        if kind == "B":
            item["self_pay_ratio"] = draw(ratio)
        if kind != "C" and draw(st.booleans()):
            item["price_limit"] = draw(money)
        items.append(item)
    return {"region": "440100", "items": items}


def person(person_id: str, balance: Decimal, group: str | None, filed: bool = True) -> dict:
    return {
        "person_id": person_id,
        "insured_region": "320300",
        "scheme": "scheme",
        "member_type": "member",
        "account_balance": balance,
        "assistance_group": group,
        "filings": [
            {
                "type": "long_term",
                "treatment_region": "440000",
                "valid_from": date(2025, 1, 1),
                "valid_to": None,
            }
        ]
        if filed
        else [],
    }


line = st.fixed_dictionaries(
    {
        "code": st.sampled_from(CODES),
        "unit_price": st.integers(0, 5_000_000).map(lambda n: Decimal(n) / 1000),
        "quantity": st.integers(1, 400).map(lambda n: Decimal(n) / 4),
    }
)
day = st.integers(0, 364).map(lambda n: date(2025, 1, 1) + timedelta(days=n))


@st.composite
def claim(draw: st.DrawFn, claim_id: str, person_id: str, kind: str = "settle") -> dict[str, Any]:
    return {
        "kind": kind,
        "claim_id": claim_id,
        "person_id": person_id,
        # a manual claim may come from where no catalog is (§5: the insured region's then)
        "treatment_region": draw(st.sampled_from([REGION, "650102"]))
        if kind == "manual"
        else REGION,
        "institution_level": draw(st.integers(1, 3)),
        "medical_type": draw(st.sampled_from(["inpatient", "outpatient"])),
        "emergency": draw(st.booleans()),
        "date": draw(day),
        "lines": draw(st.lists(line, min_size=1, max_size=6)),
    }


@st.composite
def enrolment(draw: st.DrawFn, person_id: str, new: bool) -> dict[str, Any]:
    event: dict[str, Any] = {"kind": "enrol", "person_id": person_id}
    if new:
        event.update(insured_region="320300", scheme="scheme", member_type="member")
    if draw(st.booleans()):
        event["account_credit"] = draw(money)
    if draw(st.booleans()):
        event["status"] = draw(st.sampled_from(["active", "active", "suspended", "waiting"]))
    if draw(st.booleans()):
        event["assistance_group"] = draw(st.sampled_from([None, "poor"]))
    return event


@st.composite
def filing(draw: st.DrawFn, filing_id: str, person_id: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["long_term", "referral", "temporary"]))
    start = draw(day)
    event: dict[str, Any] = {
        "kind": "file",
        "filing_id": filing_id,
        "person_id": person_id,
        "type": kind,
        # 广东, 广州, 天河 cover the claims' region; 北京 does not; 南京 is the same province
        "treatment_region": draw(st.sampled_from(["440000", "440100", REGION, "110000", "320100"])),
        "date": start,
    }
    if kind != "long_term" and draw(st.booleans()):
        event["valid_to"] = start + timedelta(days=draw(st.integers(0, 800)))
    return event


@st.composite
def world(
    draw: st.DrawFn, persons: int = 2, claims: int = 6, lifecycle: bool = True
) -> tuple[Scenario, list[Any]]:
    """Persons P0… (and N0, known only once enrolled) and their events: claims, and with
    ``lifecycle`` the events of §5 too, with duplicates and reversals mixed in. Filing ids
    are per person, so that one person's events never depend on another's."""
    people = [
        person(f"P{n}", draw(money), draw(st.sampled_from([None, "poor"])), draw(st.booleans()))
        for n in range(persons)
    ]
    who_all = [f"P{n}" for n in range(persons)] + (["N0"] if lifecycle else [])
    kinds = ["settle", "settle", "manual", "enrol", "file", "cancel"] if lifecycle else ["settle"]
    events: list[dict[str, Any]] = []
    filed: dict[str, list[str]] = {}
    for index in range(claims):
        who = draw(st.sampled_from(who_all))
        kind = draw(st.sampled_from(kinds))
        if kind in ("settle", "manual"):
            events.append(draw(claim(f"C{index}", who, kind)))
        elif kind == "enrol":
            events.append(draw(enrolment(who, new=who == "N0")))
        elif kind == "file" or not filed.get(who):
            filed.setdefault(who, []).append(f"F-{who}-{index}")
            events.append(draw(filing(filed[who][-1], who)))
        else:
            known = filed[who] if draw(st.integers(0, 4)) else [f"F-{who}-none"]
            target = draw(st.sampled_from(known))
            events.append(
                {"kind": "cancel_filing", "filing_id": target, "person_id": who, "date": draw(day)}
            )
        roll = draw(st.integers(0, 9))
        if roll == 0:
            events.append(copy.deepcopy(draw(st.sampled_from(events))))  # a duplicate
        elif roll == 1:
            claims_so_far = [e for e in events if "claim_id" in e]
            if claims_so_far:
                target = draw(st.sampled_from(claims_so_far))
                events.append(
                    {
                        "kind": "reverse",
                        "claim_id": target["claim_id"],
                        "person_id": target["person_id"],
                    }
                )
    document = draw(policy())
    if lifecycle:
        document["connected"] = draw(st.sampled_from([True, True, True, False]))
        document["filing_adjustment"]["unfiled"] = Decimal(draw(st.integers(-30, 0))) / 100
        document["filing_validity_months"] = draw(st.integers(1, 12))
    catalogs = [draw(catalog())]
    if lifecycle and draw(st.booleans()):
        catalogs.append({**draw(catalog()), "region": "320000"})  # 江苏, for manual claims
    scenario = Scenario(policies=[document], catalogs=catalogs, persons=people)
    return scenario, events


def _amounts(result: Any) -> dict[str, Decimal]:
    return {name: getattr(result.amounts, name) for name in AMOUNT_FIELDS}


def _state(exchange: OfflineExchange) -> dict[str, Any]:
    """Everything the exchange keeps: every person's state and the filing-id namespace."""
    return {
        "insured": {p: insured.to_dict() for p, insured in exchange.insured.items()},
        "filings": dict(exchange.filings),
    }


def _current(insured: Insured) -> list[ClaimRecord]:
    return [record for record in insured.ledger.claims.values() if record.reversal is None]


def _total(records: list[ClaimRecord], name: str) -> Decimal:
    return sum((_amounts(record.settlement)[name] for record in records), Decimal(0))


@SETTINGS
@given(world())
def test_settled_results_conserve_money_and_are_never_negative(
    generated: tuple[Scenario, list[Any]],
) -> None:
    scenario, events = generated
    exchange = scenario.exchange()
    for event in events:
        before = exchange.state_of(event["person_id"])
        balance = before.balance if before is not None else None
        booked = before is not None and before.ledger.settled(event.get("claim_id", "")) is not None
        result = exchange.process(event)
        record = result.to_record()
        for name in (*AMOUNT_FIELDS, "balc"):
            if name in record:
                text = record[name]
                assert text != "-0.00" and len(text.split(".")[1]) == 2, (name, text)
        if result.status is not Status.SETTLED:
            continue
        a = _amounts(result)
        assert all(value >= 0 for value in a.values()), a
        assert a["medfee_sumamt"] == (
            a["fulamt_ownpay_amt"] + a["overlmt_selfpay"] + a["preselfpay_amt"] + a["inscp_scp_amt"]
        )
        assert a["medfee_sumamt"] == a["fund_pay_sumamt"] + a["psn_part_amt"]
        assert a["psn_part_amt"] == a["acct_pay"] + a["psn_cash_pay"]
        assert a["fund_pay_sumamt"] == a["hifp_pay"] + a["hifmi_pay"] + a["maf_pay"]
        if result.route is Route.MANUAL:  # paid in cash at the insured location (§5)
            assert record["route"] == "manual" and a["acct_pay"] == 0
            assert booked or a["balc"] == balance  # a re-emitted result is as it was


@SETTINGS
@given(world(persons=2, claims=10))
def test_every_ledger_equals_the_sum_of_its_current_settlements(
    generated: tuple[Scenario, list[Any]],
) -> None:
    """After every event, each accumulator is the sum over the claims currently settled,
    and the balance is the starting balance plus the credits less their account payments."""
    scenario, events = generated
    exchange = scenario.exchange()
    base = {p.person_id: p.account_balance for p in scenario.persons}
    for event in events:
        known = exchange.state_of(event["person_id"])
        result = exchange.process(event)
        if result.status is Status.ENROLLED:
            credit = event.get("account_credit") or Decimal(0)
            new = known is None or known.person is None
            base[event["person_id"]] = credit if new else base[event["person_id"]] + credit
        for person_id, insured in exchange.insured.items():
            current = _current(insured)
            assert insured.balance == base[person_id] - _total(current, "acct_pay")
            assert insured.balance >= 0
            for year, totals in insured.ledger.years.items():
                mine = [r for r in current if r.date.year == year]
                for kind in ("inpatient", "outpatient"):
                    of_kind = [r for r in mine if r.medical_type == kind]
                    assert totals.deductible.get(kind, 0) == _total(of_kind, "act_pay_dedc")
                    assert totals.fund.get(kind, 0) == _total(of_kind, "hifp_pay")
                    assert totals.visits.get(kind, 0) == len(of_kind)
                assert totals.burden == sum((r.burden for r in mine), Decimal(0))
                assert totals.critical_illness == _total(mine, "hifmi_pay")
                assert totals.assistance == _total(mine, "maf_pay")


@SETTINGS
@given(world(), st.booleans())
def test_a_duplicate_changes_no_state(
    generated: tuple[Scenario, list[Any]], switch_kind: bool
) -> None:
    """A settle or manual whose claim is currently settled, by either kind, and a file
    whose id was filed before, are answered as before and change nothing."""
    scenario, events = generated
    exchange = scenario.exchange()
    for event in events:
        first = exchange.process(event)
        if first.status not in (Status.SETTLED, Status.FILED):
            continue
        again = copy.deepcopy(event)
        if (
            switch_kind
            and event["kind"] in ("settle", "manual")
            and event["treatment_region"] == REGION
        ):
            again["kind"] = "manual" if event["kind"] == "settle" else "settle"
        before = _state(exchange)
        assert exchange.process(again) == first
        assert _state(exchange) == before


@SETTINGS
@given(world())
def test_settle_then_reverse_restores_every_ledger_value(
    generated: tuple[Scenario, list[Any]],
) -> None:
    scenario, events = generated
    exchange = scenario.exchange()
    for event in events:
        if event["kind"] not in ("settle", "manual"):
            exchange.process(event)
            continue
        insured = exchange.state_of(event["person_id"])
        before = copy.deepcopy(insured.ledger.to_dict()) if insured else None
        result = exchange.process(event)
        if result.status is not Status.SETTLED or before is None:
            continue
        if event["claim_id"] in before["claims"] and before["claims"][event["claim_id"]][5] is None:
            continue  # a duplicate: nothing was booked
        reversal = exchange.process(
            {"kind": "reverse", "claim_id": event["claim_id"], "person_id": event["person_id"]}
        )
        assert reversal.status is Status.REVERSED
        after = exchange.insured[event["person_id"]].ledger
        assert after.balance == Decimal(before["balance"])
        restored = {year: totals.to_dict() for year, totals in after.years.items()}
        for year, totals in restored.items():
            old = before["years"].get(str(year))
            for field in ("burden", "critical_illness", "assistance"):
                assert Decimal(totals[field]) == Decimal(old[field] if old else 0), field
            for field in ("deductible", "fund"):
                for kind, value in totals[field].items():
                    assert Decimal(value) == Decimal((old or {}).get(field, {}).get(kind, 0))
            for kind, visits in totals["visits"].items():
                assert visits == (old or {}).get("visits", {}).get(kind, 0)
        assert _amounts(reversal)["balc"] == after.balance


@SETTINGS
@given(world())
def test_a_persons_state_round_trips_through_its_table_form(
    generated: tuple[Scenario, list[Any]],
) -> None:
    scenario, events = generated
    exchange = scenario.exchange()
    for event in events:
        exchange.process(event)
    for insured in exchange.insured.values():
        assert Insured.from_dict(json.loads(json.dumps(insured.to_dict()))) == insured


@SETTINGS
@given(world(persons=3, claims=8), st.randoms(use_true_random=False))
def test_interleaving_persons_does_not_change_anyones_results(
    generated: tuple[Scenario, list[Any]],
    rng: Any,
) -> None:
    scenario, events = generated
    streams: dict[str, list[tuple[int, Any]]] = {}
    for index, event in enumerate(events):
        streams.setdefault(event["person_id"], []).append((index, event))
    in_order = scenario.exchange()
    expected = {index: in_order.process(event).to_record() for index, event in enumerate(events)}
    shuffled = scenario.exchange()
    queues = [list(stream) for stream in streams.values()]
    got = {}
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        index, event = queue.pop(0)
        got[index] = shuffled.process(event).to_record()
    assert got == expected
