"""Life-cycle events pinned check by check (SETTLEMENT_RULES §5): enrol, file,
cancel_filing and manual reimbursement, with figures computed by hand.

The base scenario: 徐州 (320300) pays 50% after an annual deductible of 100 on every
level, with filing adjustments long_term 0, temporary −0.10, emergency −0.20 and
unfiled −0.30; 锦州 (210700) is not connected. P is insured in 徐州 with 100.00 in
the account and a long-term filing for 广东 (440000) since 2025-01-01.
"""

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from xsettle.engine import (
    Directory,
    FeeDetail,
    FilingEntry,
    Insured,
    Ledger,
    OfflineExchange,
    Reason,
    Route,
    Status,
    normalise,
    parse_event,
    settle,
)
from xsettle.engine.dates import period_end
from xsettle.scenario import validate_scenario

BENEFIT = {
    "deductible": {"basis": "annual", "by_level": {1: 100, 2: 100, 3: 100}},
    "ratio": {"m": {1: "0.5", 2: "0.5", 3: "0.5"}},
}
ADJUSTMENTS = {"long_term": 0, "temporary": "-0.10", "emergency": "-0.20", "unfiled": "-0.30"}
LONG_TERM_GD = {
    "type": "long_term",
    "treatment_region": "440000",
    "valid_from": "2025-01-01",
    "valid_to": None,
}
BASE: dict[str, Any] = {
    "policies": [
        {
            "region": "320300",
            "filing_adjustment": ADJUSTMENTS,
            "schemes": {"employee": {"inpatient": BENEFIT}},
            "personal_account_schemes": ["employee"],
            "medical_assistance": {"groups": {"poor": "0.5"}},
        },
        {
            "region": "210700",
            "connected": False,
            "filing_adjustment": ADJUSTMENTS,
            "schemes": {"employee": {"inpatient": BENEFIT}},
            "personal_account_schemes": ["employee"],
        },
    ],
    "catalogs": [
        {"region": "440100", "items": [{"code": "A", "class": "A"}]},
        # 江苏's own catalog: what a manual claim from an uncatalogued region falls back to
        {"region": "320000", "items": [{"code": "A", "class": "B", "self_pay_ratio": "0.5"}]},
    ],
    "persons": [
        {
            "person_id": "P",
            "insured_region": "320300",
            "scheme": "employee",
            "member_type": "m",
            "account_balance": "100.00",
            "filings": [LONG_TERM_GD],
        },
        {"person_id": "Q", "insured_region": "210700", "scheme": "employee", "member_type": "m"},
        {
            "person_id": "S",
            "insured_region": "320300",
            "scheme": "employee",
            "member_type": "m",
            "status": "suspended",
        },
        {"person_id": "N", "insured_region": "990100", "scheme": "employee", "member_type": "m"},
    ],
}


def exchange(**changes: Any) -> OfflineExchange:
    document = copy.deepcopy(BASE)
    document.update(changes)
    return validate_scenario(document).exchange()


def run(*events: dict[str, Any], on: OfflineExchange | None = None) -> list[dict[str, Any]]:
    offline = on or exchange()
    return [offline.process(event).to_record() for event in events]


def claim(
    claim_id: str = "C",
    amount: str = "1000.00",
    *,
    kind: str = "settle",
    person: str = "P",
    region: str = "440106",
    day: str = "2025-03-01",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "claim_id": claim_id,
        "person_id": person,
        "treatment_region": region,
        "institution_level": 3,
        "medical_type": "inpatient",
        "date": day,
        "lines": [{"code": "A", "unit_price": amount, "quantity": "1"}],
        **extra,
    }


def manual(claim_id: str = "M", amount: str = "1000.00", **extra: Any) -> dict[str, Any]:
    return claim(claim_id, amount, kind="manual", **extra)


def enrol(person: Any = "P9", **fields: Any) -> dict[str, Any]:
    return {"kind": "enrol", "person_id": person, **fields}


NEW = {"insured_region": "320300", "scheme": "employee", "member_type": "m"}


def filing(
    filing_id: Any = "F1",
    person: str = "P",
    type_: str = "temporary",
    region: str = "110000",
    day: str = "2025-03-01",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "kind": "file",
        "filing_id": filing_id,
        "person_id": person,
        "type": type_,
        "treatment_region": region,
        "date": day,
        **extra,
    }


def cancel(filing_id: Any = "F1", person: str = "P", day: str = "2025-04-01") -> dict[str, Any]:
    return {"kind": "cancel_filing", "filing_id": filing_id, "person_id": person, "date": day}


def without_message(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "message"}


# --- "date + n months" --------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2025, 3, 1), 6, date(2025, 8, 31)),
        (date(2025, 8, 31), 6, date(2026, 2, 27)),  # 2026-02-28 (clamped) − 1 day
        (date(2024, 8, 31), 6, date(2025, 2, 27)),
        (date(2023, 8, 31), 6, date(2024, 2, 28)),  # leap year: 2024-02-29 − 1 day
        (date(2025, 1, 31), 1, date(2025, 2, 27)),
        (date(2025, 12, 15), 24, date(2027, 12, 14)),
        (date(9999, 9, 1), 6, date(9999, 12, 31)),  # past the calendar: its last day
    ],
)
def test_a_period_ends_the_day_before_the_same_day_n_months_later(
    start: date, months: int, end: date
) -> None:
    assert period_end(start, months) == end


# --- enrol --------------------------------------------------------------------------


def test_a_new_person_is_enrolled_with_the_credit_as_balance_and_no_filings() -> None:
    offline = exchange()
    first, settled = run(
        enrol(**NEW, account_credit="300.00"), claim(person="P9", region="440106"), on=offline
    )
    assert first == {"person_id": "P9", "status": "ENROLLED", "balc": "300.00"}
    assert settled["reason"] == "NOT_FILED"  # no filings
    insured = offline.insured["P9"]
    assert insured.person is not None and insured.person.status == "active"
    assert insured.person.assistance_group is None and insured.filings == []


def test_a_new_person_without_credit_starts_at_zero_and_may_start_suspended() -> None:
    offline = exchange()
    (record,) = run(enrol(**NEW, status="waiting"), on=offline)
    assert record == {"person_id": "P9", "status": "ENROLLED", "balc": "0.00"}
    emergency = claim(person="P9", emergency=True)
    assert run(emergency, on=offline)[0]["reason"] == "INSURANCE_INACTIVE"


@pytest.mark.parametrize("missing", ["insured_region", "scheme", "member_type"])
def test_a_new_person_needs_region_scheme_and_member_type(missing: str) -> None:
    fields = {key: value for key, value in NEW.items() if key != missing}
    offline = exchange()
    (record,) = run(enrol(**fields), on=offline)
    assert record["reason"] == "ENROLMENT_INVALID" and record["message"].startswith(missing)
    assert without_message(record) == {
        "person_id": "P9",
        "status": "REJECTED",
        "reason": "ENROLMENT_INVALID",
    }
    assert "P9" not in offline.insured


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"scheme": 5}, "scheme"),
        ({"scheme": ""}, "scheme"),
        ({"member_type": None}, "member_type"),
        ({"assistance_group": ""}, "assistance_group"),
        ({"assistance_group": 3}, "assistance_group"),
        ({"account_credit": None}, "account_credit"),
        ({"account_credit": "-0.01"}, "account_credit"),
        ({"account_credit": "1.005"}, "account_credit"),
        ({"account_credit": "ten"}, "account_credit"),
        ({"account_credit": True}, "account_credit"),
        ({"account_credit": "NaN"}, "account_credit"),
        ({"status": "retired"}, "status"),
        ({"status": None}, "status"),
        ({"insured_region": 320300}, "insured_region"),
        ({"insured_region": "32030"}, "insured_region"),
        ({"insured_region": None}, "insured_region"),
    ],
)
def test_enrolment_types_are_strict(fields: dict[str, Any], field: str) -> None:
    for person in ("P", "P9"):  # an existing and a new person alike
        offline = exchange()
        before = offline.state_of("P")
        assert before is not None
        snapshot = before.to_dict()
        (record,) = run(enrol(person, **{**NEW, **fields}), on=offline)
        assert record["reason"] == "ENROLMENT_INVALID", (person, record)
        assert record["message"].startswith(f"{field}:"), record["message"]
        assert record["person_id"] == person
        after = offline.state_of("P")
        assert after is not None and after.to_dict() == snapshot


@pytest.mark.parametrize("person_id", [None, "", 7, ["P"]])
def test_an_enrolment_rejection_names_the_person_only_if_a_non_empty_string(
    person_id: Any,
) -> None:
    fields = {"kind": "enrol", **NEW}
    if person_id is not None:
        fields["person_id"] = person_id
    (record,) = run(fields)
    assert (record["person_id"], record["reason"]) == (None, "ENROLMENT_INVALID")


@pytest.mark.parametrize(
    ("credit", "balance"), [("1.000", "101.00"), (2, "102.00"), ("0", "100.00")]
)
def test_a_credit_in_whole_fen_is_added_to_the_balance(credit: Any, balance: str) -> None:
    assert run(enrol("P", account_credit=credit))[0] == {
        "person_id": "P",
        "status": "ENROLLED",
        "balc": balance,
    }


def test_a_float_credit_is_taken_by_its_text() -> None:
    assert run(enrol("P", account_credit=0.1))[0]["balc"] == "100.10"
    assert run(enrol("P", account_credit=0.125))[0]["reason"] == "ENROLMENT_INVALID"


def test_an_existing_person_keeps_ledger_filings_and_balance_and_gains_the_credit() -> None:
    offline = exchange()
    first, enrolled, second = run(
        claim("C1", "1000.00"),  # deductible 100, fund 450, account 100 → balance 0
        enrol("P", member_type="m", account_credit="50.00", insured_region="320300"),
        claim("C2", "1000.00"),  # the year's deductible is paid; the filing still counts
        on=offline,
    )
    assert (first["act_pay_dedc"], first["acct_pay"], first["balc"]) == ("100.00", "100.00", "0.00")
    assert enrolled == {"person_id": "P", "status": "ENROLLED", "balc": "50.00"}
    assert (second["act_pay_dedc"], second["hifp_pay"]) == ("0.00", "500.00")
    assert (second["filing_type"], second["acct_pay"], second["balc"]) == (
        "long_term",
        "50.00",
        "0.00",
    )


def test_an_existing_person_cannot_move_insured_region() -> None:
    offline = exchange()
    (record,) = run(enrol("P", insured_region="210700", account_credit="5.00"), on=offline)
    assert record["reason"] == "ENROLMENT_INVALID"
    assert record["message"].startswith("insured_region:")
    insured = offline.state_of("P")
    assert insured is not None and insured.balance == Decimal("100.00")


def test_given_fields_replace_the_record_and_null_clears_the_assistance_group() -> None:
    offline = exchange()
    results = run(
        enrol("P", assistance_group="poor"),
        claim("C1", "1000.00"),  # fund 450; assistance (1000 − 450) × 50% = 275
        enrol("P", status="suspended"),
        claim("C2", "1000.00"),
        enrol("P", status="active"),  # the group is kept when not given
        claim("C3", "100.00"),  # fund 50; assistance 25
        enrol("P", assistance_group=None),
        claim("C4", "100.00"),
        on=offline,
    )
    assert results[1]["maf_pay"] == "275.00"
    assert results[3]["reason"] == "INSURANCE_INACTIVE"
    assert results[5]["maf_pay"] == "25.00"
    assert results[7]["maf_pay"] == "0.00"


def test_the_balance_must_stay_within_what_the_wire_carries() -> None:
    offline = exchange()
    big = "9000000000000000.00"
    assert run(enrol("P", account_credit=big), on=offline)[0]["status"] == "ENROLLED"
    assert run(enrol("P", account_credit=big), on=offline)[0]["reason"] == "ENROLMENT_INVALID"


# --- file ---------------------------------------------------------------------------


def test_a_filing_is_valid_from_its_day_for_the_policys_minimum_period() -> None:
    assert run(filing())[0] == {
        "filing_id": "F1",
        "status": "FILED",
        "person_id": "P",
        "filing_type": "temporary",
        "treatment_region": "110000",
        "valid_from": "2025-03-01",
        "valid_to": "2025-08-31",  # 6 months by default
    }


def test_a_filing_lets_a_claim_settle_from_its_application_day() -> None:
    offline = exchange()
    results = run(
        claim("C0", region="440106", person="Q", day="2025-03-01"),
        filing(person="P9"),
        enrol("P9", **NEW),
        claim("C1", person="P9", day="2025-03-01"),
        filing("F9", person="P9", region="440100", day="2025-03-01", valid_to="2025-09-30"),
        claim("C2", person="P9", day="2025-02-28"),
        claim("C3", person="P9", day="2025-09-30"),
        claim("C4", person="P9", day="2025-10-01"),
        on=offline,
    )
    assert results[0]["reason"] == "INSURED_REGION_NOT_CONNECTED"
    assert results[1]["reason"] == "PERSON_NOT_FOUND"
    assert results[3]["reason"] == "NOT_FILED"
    assert results[4]["valid_to"] == "2025-09-30"
    assert results[5]["reason"] == "FILING_NOT_VALID"  # the day before it was filed
    # temporary: 50% − 10 points on (1000 − 100)
    assert (results[6]["filing_type"], results[6]["hifp_pay"]) == ("temporary", "360.00")
    assert results[7]["reason"] == "FILING_NOT_VALID"


def test_the_minimum_period_is_the_policys_filing_validity_months() -> None:
    policies = copy.deepcopy(BASE["policies"])
    policies[0]["filing_validity_months"] = 3
    offline = exchange(policies=policies)
    default, too_short, shortest = run(
        filing("F1", day="2025-08-31"),
        filing("F2", day="2025-08-31", valid_to="2025-11-28"),
        filing("F3", day="2025-08-31", valid_to="2025-11-29"),
        on=offline,
    )
    assert default["valid_to"] == "2025-11-29"  # 2025-11-30 − 1 day
    assert too_short["reason"] == "FILING_PERIOD_INVALID"
    assert shortest["status"] == "FILED"


@pytest.mark.parametrize(
    ("valid_to", "outcome"),
    [
        ("2025-08-30", "FILING_PERIOD_INVALID"),  # shorter than 6 months
        ("2025-08-31", "FILED"),
        (None, "FILED"),  # null for referral/temporary is the same as absent
        ("2027-02-28", "FILED"),  # date + 24 months − 1 day
        ("2027-03-01", "FILING_PERIOD_INVALID"),
    ],
)
def test_a_given_valid_to_lies_between_the_minimum_period_and_24_months(
    valid_to: str | None, outcome: str
) -> None:
    (record,) = run(filing(type_="referral", valid_to=valid_to))
    assert record.get("reason", record["status"]) == outcome
    if outcome == "FILED":
        assert record["valid_to"] == (valid_to or "2025-08-31")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "emergency"}, "type"),
        ({"type": None}, "type"),
        ({"treatment_region": 110000}, "treatment_region"),
        ({"treatment_region": "11000"}, "treatment_region"),
        ({"date": "2025-3-1"}, "date"),
        ({"date": "20250301"}, "date"),
        ({"date": "2025-02-30"}, "date"),
        ({"date": "0001-01-01"}, "date"),
        ({"valid_to": "2025-02-28"}, "valid_to"),
        ({"valid_to": "2025-09-31"}, "valid_to"),
        ({"type": "long_term", "valid_to": "2026-01-01"}, "valid_to"),
        ({"person_id": ""}, "person_id"),
        ({"person_id": None}, "person_id"),
    ],
)
def test_a_malformed_filing_is_filing_invalid_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    (record,) = run({**filing(), **change})
    assert without_message(record) == {
        "filing_id": "F1",
        "status": "REJECTED",
        "reason": "FILING_INVALID",
    }
    assert record["message"].startswith(f"{field}:"), record["message"]


@pytest.mark.parametrize("filing_id", [None, "", 17])
def test_a_filing_rejection_names_the_filing_only_if_a_non_empty_string(filing_id: Any) -> None:
    for event in (filing(filing_id), cancel(filing_id)):
        record = run(event)[0]
        assert without_message(record) == {
            "filing_id": None,
            "status": "REJECTED",
            "reason": "FILING_INVALID",
        }
        assert record["message"].startswith("filing_id:")


def test_long_term_filings_are_open_ended() -> None:
    (record,) = run(filing(type_="long_term", valid_to=None))
    assert (record["filing_type"], record["valid_to"]) == ("long_term", None)


def test_a_filing_id_filed_before_is_re_emitted_for_anyone_and_changes_nothing() -> None:
    offline = exchange()
    first, cancelled, again, other_person, invalid_again = run(
        filing("F1", region="110000"),
        cancel("F1", day="2025-04-01"),
        filing("F1", region="420000", type_="long_term"),
        filing("F1", person="nobody", region="420000"),
        filing("F1", region="320100"),  # would be FILING_SAME_PROVINCE
        on=offline,
    )
    assert again == first and other_person == first and invalid_again == first
    assert cancelled["valid_to"] == "2025-03-31"
    insured = offline.state_of("P")
    assert insured is not None and len(insured.filings) == 2  # persons[]' and F1
    assert insured.filings[1].valid_to == date(2025, 3, 31)  # the re-emit restored nothing


def test_a_rejected_filing_id_is_processed_anew() -> None:
    rejected, filed = run(filing("F1", person="S"), filing("F1", person="P"))
    assert rejected["reason"] == "INSURANCE_INACTIVE" and filed["status"] == "FILED"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (filing(person="nobody"), "PERSON_NOT_FOUND"),
        (filing(person="Q"), "INSURED_REGION_NOT_CONNECTED"),  # connected: false
        (filing(person="N"), "INSURED_REGION_NOT_CONNECTED"),  # no policy at all
        (filing(person="S"), "INSURANCE_INACTIVE"),
        (filing(person="S", region="320100"), "INSURANCE_INACTIVE"),  # check 5 before 6
        (filing(region="320000"), "FILING_SAME_PROVINCE"),
        (filing(region="321300"), "FILING_SAME_PROVINCE"),
        (filing(region="320300", valid_to="2030-01-01"), "FILING_SAME_PROVINCE"),  # 6 before 7
        (filing(valid_to="2025-04-01"), "FILING_PERIOD_INVALID"),
    ],
)
def test_filing_checks_in_order(event: dict[str, Any], reason: str) -> None:
    offline = exchange()
    (record,) = run(event, on=offline)
    assert without_message(record) == {"filing_id": "F1", "status": "REJECTED", "reason": reason}
    assert all(
        not isinstance(entry, FilingEntry)
        for insured in offline.insured.values()
        for entry in insured.filings
    )


def test_a_new_long_term_filing_replaces_the_earlier_residence() -> None:
    offline = exchange()
    results = run(
        filing("F1", type_="long_term", region="110000", day="2025-06-01"),
        claim("C1", day="2025-05-31"),
        claim("C2", day="2025-06-01"),
        filing("F2", type_="long_term", region="440100", day="2025-07-01"),
        claim("C3", day="2025-07-01"),
        on=offline,
    )
    assert results[1]["filing_type"] == "long_term"
    assert results[2]["reason"] == "FILING_NOT_VALID"  # 广东 residence ended 2025-05-31
    assert results[4]["filing_type"] == "long_term"  # the new 广州 residence
    insured = offline.state_of("P")
    assert insured is not None
    assert [(getattr(entry, "filing_id", None), entry.valid_to) for entry in insured.filings] == [
        (None, date(2025, 5, 31)),
        ("F1", date(2025, 6, 30)),
        ("F2", None),
    ]


def test_a_long_term_filing_leaves_other_types_and_ended_residences_alone() -> None:
    ended = {**LONG_TERM_GD, "valid_to": "2025-03-31"}
    temporary = {
        "type": "temporary",
        "treatment_region": "440100",
        "valid_from": "2025-01-01",
        "valid_to": "2025-12-31",
    }
    persons = copy.deepcopy(BASE["persons"])
    persons[0]["filings"] = [ended, temporary]
    offline = exchange(persons=persons)
    run(filing("F1", type_="long_term", region="440000", day="2025-04-01"), on=offline)
    insured = offline.state_of("P")
    assert insured is not None
    assert [entry.valid_to for entry in insured.filings] == [
        date(2025, 3, 31),
        date(2025, 12, 31),
        None,
    ]
    # the earlier temporary filing comes first in list order and gives the type
    assert run(claim(day="2025-05-01"), on=offline)[0]["filing_type"] == "temporary"


# --- cancel_filing -------------------------------------------------------------------


def test_a_cancelled_filing_ends_the_day_before_and_settled_claims_stay() -> None:
    persons = copy.deepcopy(BASE["persons"])
    persons[0]["filings"] = []
    offline = exchange(persons=persons)
    results = run(
        filing("F1", region="440100", day="2025-03-01"),
        claim("C1", day="2025-03-15"),
        cancel("F1", day="2025-04-01"),
        claim("C2", day="2025-03-31"),
        claim("C3", day="2025-04-01"),
        {"kind": "reverse", "claim_id": "C1", "person_id": "P"},
        on=offline,
    )
    settled, cancelled, kept, ended, reversed_ = results[1:]
    assert cancelled == {
        "filing_id": "F1",
        "status": "FILING_CANCELLED",
        "person_id": "P",
        "valid_to": "2025-03-31",
    }
    assert settled["filing_type"] == kept["filing_type"] == "temporary"
    assert ended["reason"] == "FILING_NOT_VALID"
    # C1 was not recomputed: its reversal takes back exactly what it paid
    assert reversed_["hifp_pay"] == "-" + settled["hifp_pay"]


def test_cancelling_on_the_last_valid_day_is_allowed_but_after_it_is_not() -> None:
    offline = exchange()
    results = run(
        filing("F1", valid_to="2025-09-30"),
        cancel("F1", day="2025-09-30"),
        cancel("F1", day="2025-09-30"),
        cancel("F1", day="2025-09-28"),
        on=offline,
    )
    assert results[1]["valid_to"] == "2025-09-29"
    assert results[2]["reason"] == "FILING_ALREADY_ENDED"
    assert results[3]["valid_to"] == "2025-09-27"  # not ended before 2025-09-28: cancel again


@pytest.mark.parametrize(
    ("events", "reason"),
    [
        ([cancel("F1")], "FILING_NOT_FOUND"),
        ([filing("F1"), cancel("F1", person="Q")], "FILING_NOT_FOUND"),  # another's filing
        ([filing("F1", person="S"), cancel("F1", person="S")], "FILING_NOT_FOUND"),  # rejected
        ([filing("F1"), cancel("F1", day="2025-09-01")], "FILING_ALREADY_ENDED"),
        ([filing("F1"), {**cancel("F1"), "date": None}], "FILING_INVALID"),
        ([filing("F1"), {**cancel("F1"), "date": "0001-01-01"}], "FILING_INVALID"),
        ([filing("F1"), {**cancel("F1"), "person_id": 5}], "FILING_INVALID"),
    ],
)
def test_cancel_checks_in_order(events: list[dict[str, Any]], reason: str) -> None:
    record = run(*events)[-1]
    assert without_message(record) == {"filing_id": "F1", "status": "REJECTED", "reason": reason}


def test_a_cancellation_never_looks_at_the_person_or_policy() -> None:
    offline = exchange()
    results = run(
        filing("F1", day="2025-03-01"),
        enrol("P", status="suspended"),
        cancel("F1"),
        on=offline,
    )
    assert results[2]["status"] == "FILING_CANCELLED"


# --- manual -------------------------------------------------------------------------


def test_a_manual_reimbursement_pays_no_account_and_carries_its_route() -> None:
    offline = exchange()
    (record,) = run(manual(), on=offline)
    # long_term: 50% on (1000 − 100) = 450; 550 personal, all in cash, balance kept
    assert record == {
        "claim_id": "M",
        "status": "SETTLED",
        "filing_type": "long_term",
        "medfee_sumamt": "1000.00",
        "fulamt_ownpay_amt": "0.00",
        "overlmt_selfpay": "0.00",
        "preselfpay_amt": "0.00",
        "inscp_scp_amt": "1000.00",
        "act_pay_dedc": "100.00",
        "hifp_pay": "450.00",
        "hifmi_pay": "0.00",
        "maf_pay": "0.00",
        "fund_pay_sumamt": "450.00",
        "psn_part_amt": "550.00",
        "acct_pay": "0.00",
        "psn_cash_pay": "550.00",
        "balc": "100.00",
        "route": "manual",
    }
    assert list(record)[-1] == "route"


def test_manual_settlements_update_the_accumulators() -> None:
    first, direct = run(manual("M1", "60.00"), claim("C2", "1000.00"))
    assert first["act_pay_dedc"] == "60.00"
    assert direct["act_pay_dedc"] == "40.00"  # the annual deductible's rest
    assert (direct["acct_pay"], direct["balc"]) == ("100.00", "0.00")


def test_manual_filing_type_falls_back_to_emergency_then_unfiled() -> None:
    persons = copy.deepcopy(BASE["persons"])
    persons[0]["filings"] = []
    offline = exchange(persons=persons)
    emergency, unfiled = run(
        manual("M1", emergency=True), manual("M2", day="2026-01-01"), on=offline
    )
    # (1000 − 100) × (50% − 20 points) = 270; × (50% − 30 points) = 180
    assert (emergency["filing_type"], emergency["hifp_pay"]) == ("emergency", "270.00")
    assert (unfiled["filing_type"], unfiled["hifp_pay"]) == ("unfiled", "180.00")


def test_an_unfiled_manual_claim_without_an_unfiled_adjustment_is_not_adjusted() -> None:
    policies = copy.deepcopy(BASE["policies"])
    del policies[0]["filing_adjustment"]["unfiled"]
    (record,) = run(manual(region="440106", day="2024-06-01"), on=exchange(policies=policies))
    assert (record["filing_type"], record["hifp_pay"]) == ("unfiled", "450.00")


def test_manual_is_for_unconnected_regions_but_needs_a_policy() -> None:
    connected_false, no_policy = run(manual(person="Q"), manual("M2", person="N"))
    assert connected_false["status"] == "SETTLED" and connected_false["filing_type"] == "unfiled"
    assert no_policy["reason"] == "INSURED_REGION_NOT_CONNECTED"


def test_manual_falls_back_to_the_insured_regions_catalog() -> None:
    offline = exchange()
    fallback, direct = run(manual(region="650102"), claim("C", region="650102"), on=offline)
    # 江苏's catalog: class B, 50% 先行自付; then (500 − 100) × (50% − 30 points) = 80
    assert (fallback["preselfpay_amt"], fallback["inscp_scp_amt"]) == ("500.00", "500.00")
    assert (fallback["filing_type"], fallback["hifp_pay"]) == ("unfiled", "80.00")
    assert direct["reason"] == "TREATMENT_REGION_NOT_CONNECTED"


def test_the_treatment_regions_catalog_comes_first() -> None:
    (record,) = run(manual(region="440106"))
    assert record["preselfpay_amt"] == "0.00"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({**manual(), "lines": []}, "INVALID_CLAIM"),
        ({**manual(), "institution_level": "3"}, "INVALID_CLAIM"),
        (manual(person="Q", region="650102"), "NO_CATALOG"),  # 锦州 has no catalog either
        (manual(person="nobody", region="650102"), "NO_CATALOG"),  # no person to look up
        (manual(person="nobody"), "PERSON_NOT_FOUND"),
        (manual(person="N"), "INSURED_REGION_NOT_CONNECTED"),
        (manual(person="S"), "INSURANCE_INACTIVE"),
        ({**manual(), "medical_type": "chronic"}, "BENEFIT_NOT_DEFINED"),
    ],
)
def test_manual_checks_in_order(event: dict[str, Any], reason: str) -> None:
    (record,) = run(event)
    assert without_message(record) == {"claim_id": "M", "status": "REJECTED", "reason": reason}


def test_manual_and_direct_share_one_claim_namespace_per_person() -> None:
    offline = exchange()
    results = run(
        claim("X", "1000.00"),
        manual("X", "5.00"),  # a duplicate of the direct settlement: re-emitted
        {"kind": "reverse", "claim_id": "X", "person_id": "P"},
        manual("X", "1000.00"),  # reversed: processed anew, by hand this time
        claim("X", "5.00"),  # a duplicate of the manual settlement: re-emitted with its route
        manual("X", "1000.00", person="Q"),  # another person's claim id never meets P's
        on=offline,
    )
    direct, duplicate, reversed_, by_hand, again, other = results
    assert duplicate == direct and "route" not in direct
    assert reversed_["status"] == "REVERSED" and "route" not in reversed_
    assert reversed_["acct_pay"] == "-100.00" and reversed_["balc"] == "100.00"
    assert by_hand["route"] == "manual" and by_hand["balc"] == "100.00"
    assert again == by_hand
    assert other["status"] == "SETTLED" and other["balc"] == "0.00"


def test_a_duplicate_comes_after_the_catalog_check_of_its_own_kind() -> None:
    settled, direct_again, manual_again = run(
        manual("X", region="650102"), claim("X", region="650102"), manual("X", region="650102")
    )
    assert direct_again["reason"] == "TREATMENT_REGION_NOT_CONNECTED"
    assert manual_again == settled


def test_reversing_a_manual_settlement_restores_the_accumulators() -> None:
    offline = exchange()
    results = run(
        manual("M", "1000.00"),
        {"kind": "reverse", "claim_id": "M", "person_id": "P"},
        claim("C", "1000.00"),
        on=offline,
    )
    assert results[1]["status"] == "REVERSED" and results[1]["balc"] == "100.00"
    assert results[2]["act_pay_dedc"] == "100.00"


# --- the person's state as one object -------------------------------------------------


def test_a_persons_state_round_trips_through_its_table_form() -> None:
    offline = exchange()
    run(
        enrol("P", assistance_group="poor", account_credit="10.00"),
        filing("F1"),
        filing("F2", type_="long_term", region="420000", day="2025-05-01"),
        cancel("F1", day="2025-06-01"),
        claim("C1"),
        manual("M1"),
        {"kind": "reverse", "claim_id": "C1", "person_id": "P"},
        on=offline,
    )
    insured = offline.insured["P"]
    assert Insured.from_dict(insured.to_dict()) == insured
    assert insured.ledger.claims["M1"].settlement.route is Route.MANUAL


def test_the_ledger_only_settle_api_still_opens_a_ledger_on_the_first_settlement() -> None:
    scenario = validate_scenario(copy.deepcopy(BASE))
    directory = Directory(
        {p.region: p for p in scenario.policies}, {p.person_id: p for p in scenario.persons}
    )
    catalogs = scenario.exchange().catalogs

    def detail(event: dict[str, Any]) -> FeeDetail:
        parsed = normalise(parse_event(event), catalogs)  # type: ignore[arg-type]
        assert isinstance(parsed, FeeDetail)
        return parsed

    rejected, ledger = settle(detail(claim(day="2024-12-31")), directory, None)
    assert rejected.reason is Reason.FILING_NOT_VALID and ledger is None
    settled, ledger = settle(detail(claim()), directory, None)
    assert settled.status is Status.SETTLED and isinstance(ledger, Ledger)
    assert ledger.balance == Decimal("0.00") and ledger.claims["C"].settlement == settled
    again, same = settle(detail(claim()), directory, ledger)
    assert again == settled and same is ledger
