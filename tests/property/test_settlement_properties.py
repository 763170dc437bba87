"""Invariants of the engine over generated policies, catalogs, persons and claims.

Conservation, non-negativity, idempotency of duplicates, reversal restoring the
ledger, and independence of different persons' event streams.
"""

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xsettle.engine import AMOUNT_FIELDS, Status
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


def person(person_id: str, balance: Decimal, group: str | None) -> dict[str, Any]:
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
        ],
    }


line = st.fixed_dictionaries(
    {
        "code": st.sampled_from(CODES),
        "unit_price": st.integers(0, 5_000_000).map(lambda n: Decimal(n) / 1000),
        "quantity": st.integers(1, 400).map(lambda n: Decimal(n) / 4),
    }
)


@st.composite
def claim(draw: st.DrawFn, claim_id: str, person_id: str) -> dict[str, Any]:
    return {
        "kind": "settle",
        "claim_id": claim_id,
        "person_id": person_id,
        "treatment_region": REGION,
        "institution_level": draw(st.integers(1, 3)),
        "medical_type": draw(st.sampled_from(["inpatient", "outpatient"])),
        "date": date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 364))),
        "lines": draw(st.lists(line, min_size=1, max_size=6)),
    }


@st.composite
def world(draw: st.DrawFn, persons: int = 2, claims: int = 6) -> tuple[Scenario, list[Any]]:
    people = [
        person(f"P{n}", draw(money), draw(st.sampled_from([None, "poor"]))) for n in range(persons)
    ]
    events: list[dict[str, Any]] = []
    for index in range(claims):
        who = f"P{draw(st.integers(0, persons - 1))}"
        events.append(draw(claim(f"C{index}", who)))
        roll = draw(st.integers(0, 9))
        if roll == 0:
            events.append(copy.deepcopy(draw(st.sampled_from(events))))  # a duplicate
        elif roll == 1:
            target = draw(st.sampled_from(events))
            events.append(
                {"kind": "reverse", "claim_id": target["claim_id"], "person_id": target["person_id"]}
            )
    scenario = Scenario(policies=[draw(policy())], catalogs=[draw(catalog())], persons=people)
    return scenario, events


def _amounts(result: Any) -> dict[str, Decimal]:
    return {name: getattr(result.amounts, name) for name in AMOUNT_FIELDS}


@SETTINGS
@given(world())
def test_settled_results_conserve_money_and_are_never_negative(
    generated: tuple[Scenario, list[Any]],
) -> None:
    scenario, events = generated
    exchange = scenario.exchange()
    for event in events:
        result = exchange.process(event)
        record = result.to_record()
        for name in AMOUNT_FIELDS:
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


@SETTINGS
@given(world())
def test_a_duplicate_settle_changes_no_state(generated: tuple[Scenario, list[Any]]) -> None:
    scenario, events = generated
    exchange = scenario.exchange()
    for event in events:
        first = exchange.process(event)
        if event["kind"] != "settle" or first.status is not Status.SETTLED:
            continue
        before = {p: ledger.to_dict() for p, ledger in exchange.ledgers.items()}
        again = exchange.process(copy.deepcopy(event))
        assert again == first
        assert {p: ledger.to_dict() for p, ledger in exchange.ledgers.items()} == before


@SETTINGS
@given(world())
def test_settle_then_reverse_restores_every_ledger_value(
    generated: tuple[Scenario, list[Any]],
) -> None:
    scenario, events = generated
    exchange = scenario.exchange()
    for event in events:
        if event["kind"] != "settle":
            exchange.process(event)
            continue
        ledger = exchange.ledgers.get(event["person_id"])
        person = scenario.directory().persons[event["person_id"]]
        before = (
            copy.deepcopy(ledger.to_dict())
            if ledger
            else {"balance": str(person.account_balance), "years": {}, "claims": {}}
        )
        result = exchange.process(event)
        if result.status is not Status.SETTLED or event["claim_id"] in before["claims"]:
            continue
        reversal = exchange.process(
            {"kind": "reverse", "claim_id": event["claim_id"], "person_id": event["person_id"]}
        )
        assert reversal.status is Status.REVERSED
        after = exchange.ledgers[event["person_id"]]
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
@given(world(persons=3, claims=8), st.randoms(use_true_random=False))
def test_interleaving_persons_does_not_change_anyones_results(
    generated: tuple[Scenario, list[Any]],
    rng: Any,
) -> None:
    scenario, events = generated
    owners: dict[str, str] = {}
    streams: dict[str, list[tuple[int, Any]]] = {}
    for index, event in enumerate(events):
        person = event.get("person_id") or owners.get(event["claim_id"], "?")
        owners.setdefault(event["claim_id"], person)
        streams.setdefault(person, []).append((index, {**event, "person_id": person}))
    in_order = scenario.exchange()
    expected = {
        i: in_order.process(e).to_record()
        for i, e in sorted(
            (item for stream in streams.values() for item in stream), key=lambda item: item[0]
        )
    }
    shuffled = scenario.exchange()
    queues = [list(stream) for stream in streams.values()]
    got = {}
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        index, event = queue.pop(0)
        got[index] = shuffled.process(event).to_record()
    assert got == expected
