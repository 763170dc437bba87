"""The insured location's side (参保地): settle and reverse against a person's ledger.

Checks 3–8 of SETTLEMENT_RULES §3, then the computation of §4: deductible, pooled
fund, critical illness, medical assistance, personal account.
"""

from dataclasses import dataclass

from .intake import FeeDetail
from .ledger import ZERO, ClaimRecord, Ledger
from .money import round_fen
from .persons import Person
from .policy import Policy, capped
from .results import Amounts, Result, rejected
from .vocabulary import Reason, Status


@dataclass(frozen=True)
class Directory:
    """What the insured locations know: their policies and their insured persons."""

    policies: dict[str, Policy]
    persons: dict[str, Person]


def settle(
    detail: FeeDetail, directory: Directory, ledger: Ledger | None
) -> tuple[Result, Ledger | None]:
    """Settle one claim; returns the result and the (possibly new) ledger, updated in place."""
    if ledger is not None and (record := ledger.settled(detail.claim_id)) is not None:
        return record.settlement, ledger  # a duplicate: the original result, no state change
    person = directory.persons.get(detail.person_id)
    if person is None:
        return _reject(
            detail,
            Reason.PERSON_NOT_FOUND,
            f"person {detail.person_id} is not insured on the exchange",
        ), ledger
    policy = directory.policies.get(person.insured_region)
    if policy is None or not policy.connected:
        return _reject(
            detail,
            Reason.INSURED_REGION_NOT_CONNECTED,
            f"insured region {person.insured_region} is not open for direct "
            "settlement; claim reimbursement there",
        ), ledger
    if person.status != "active":
        return _reject(
            detail,
            Reason.INSURANCE_INACTIVE,
            f"insurance of {person.person_id} is {person.status}; benefits are "
            "not payable until it is active",
        ), ledger
    benefit = policy.benefit(person.scheme, detail.medical_type)
    if benefit is None or not benefit.defines(person.member_type, detail.institution_level):
        return _reject(
            detail,
            Reason.BENEFIT_NOT_DEFINED,
            f"{policy.region} defines no {detail.medical_type} benefit for "
            f"{person.scheme}/{person.member_type} at level "
            f"{detail.institution_level}",
        ), ledger
    filing_type = _filing_type(detail, person)
    if isinstance(filing_type, Result):
        return filing_type, ledger

    ledger = ledger or Ledger(person.person_id, person.account_balance)
    year = ledger.year(detail.date.year)
    kind = detail.medical_type
    totals = detail.totals
    inscp = totals.inscp_scp_amt

    deductible = min(
        inscp,
        benefit.deductible.due(
            detail.institution_level, year.visits.get(kind, 0), year.deductible.get(kind, ZERO)
        ),
    )
    fund = round_fen(
        benefit.pooled_fund(
            person.member_type,
            detail.institution_level,
            inscp - deductible,
            policy.adjustment(filing_type),
        )
    )
    fund = capped(fund, benefit.annual_cap, year.fund.get(kind, ZERO))

    burden = inscp - fund
    critical = ZERO
    layer = policy.critical_illness
    if layer is not None and person.scheme in layer.schemes:
        raw = layer.pays_on(year.burden, year.burden + burden)
        critical = capped(round_fen(raw), layer.annual_cap, year.critical_illness)

    assistance = ZERO
    aid = policy.medical_assistance
    if aid is not None and person.assistance_group in aid.groups:
        ratio = aid.groups[person.assistance_group]  # type: ignore[index]
        assistance = capped(
            round_fen((inscp - fund - critical) * ratio), aid.annual_cap, year.assistance
        )

    fund_total = fund + critical + assistance
    personal = totals.amount - fund_total
    account = (
        min(ledger.balance, personal) if person.scheme in policy.personal_account_schemes else ZERO
    )
    amounts = Amounts(
        medfee_sumamt=totals.amount,
        fulamt_ownpay_amt=totals.fulamt_ownpay_amt,
        overlmt_selfpay=totals.overlmt_selfpay,
        preselfpay_amt=totals.preselfpay_amt,
        inscp_scp_amt=inscp,
        act_pay_dedc=deductible,
        hifp_pay=fund,
        hifmi_pay=critical,
        maf_pay=assistance,
        fund_pay_sumamt=fund_total,
        psn_part_amt=personal,
        acct_pay=account,
        psn_cash_pay=personal - account,
        balc=ledger.balance - account,
    )
    result = Result(detail.claim_id, Status.SETTLED, filing_type=filing_type, amounts=amounts)
    record = ClaimRecord(result, detail.date.year, kind, burden, detail.treatment_region)
    ledger.book(detail.claim_id, record)
    return result, ledger


def reverse(claim_id: str, ledger: Ledger | None) -> Result:
    """结算撤销: take back everything the claim's settlement added, refund the account."""
    record = ledger.claims.get(claim_id) if ledger is not None else None
    if ledger is None or record is None:
        return rejected(
            claim_id, Reason.UNKNOWN_SETTLEMENT, f"claim {claim_id} has no settlement to reverse"
        )
    if record.reversal is not None:
        return rejected(
            claim_id,
            Reason.ALREADY_REVERSED,
            f"claim {claim_id} was already reversed; settle it again first",
        )
    ledger.unbook(record)
    assert record.settlement.amounts is not None
    record.reversal = Result(
        claim_id, Status.REVERSED, amounts=record.settlement.amounts.reversed(ledger.balance)
    )
    return record.reversal


def _filing_type(detail: FeeDetail, person: Person) -> str | Result:
    filing = person.filing_for(detail.treatment_region, detail.date)
    if filing is not None:
        return filing.type
    if detail.emergency:
        return "emergency"  # 急诊视同备案
    if person.filed_for(detail.treatment_region):
        return _reject(
            detail,
            Reason.FILING_NOT_VALID,
            f"the filing for {detail.treatment_region} is not valid on "
            f"{detail.date.isoformat()}; renew it before settling",
        )
    return _reject(
        detail,
        Reason.NOT_FILED,
        f"{person.person_id} has no filing covering {detail.treatment_region}; "
        "file (备案) before settling or mark the visit as an emergency",
    )


def _reject(detail: FeeDetail, reason: Reason, message: str) -> Result:
    return rejected(detail.claim_id, reason, message)
