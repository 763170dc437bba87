"""The insured location's side (参保地): settle and reverse claims against a person's state.

Checks 3–8 of SETTLEMENT_RULES §3, then the computation of §4: deductible, pooled
fund, critical illness, medical assistance, personal account. A manual
reimbursement (§5) runs the same checks and computation with three differences,
named by its :class:`~xsettle.engine.vocabulary.Route`: an unconnected policy is
no obstacle, a missing filing is no rejection, and the account pays nothing.

Every function takes the person's :class:`~xsettle.engine.insured.Insured` (or
``None`` for a person the registry does not know) and returns the result with the
state to keep, changed in place when the claim was booked.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .catalog import CatalogIndex
from .claims import ManualEvent
from .eligibility import Refusal, eligible
from .insured import Insured
from .intake import FeeDetail, itemise
from .ledger import ZERO, ClaimRecord, Ledger
from .money import round_fen
from .persons import Person, Registration
from .policy import Benefit, Policy, capped
from .results import Amounts, Result, rejected
from .vocabulary import UNFILED, Reason, Route, Status


@dataclass(frozen=True)
class Directory:
    """What the insured locations know: their policies and their insured persons."""

    policies: dict[str, Policy]
    persons: dict[str, Person]


def settle_direct(
    detail: FeeDetail, insured: Insured | None, policies: Mapping[str, Policy]
) -> tuple[Result, Insured | None]:
    """Settle a claim a connected hospital itemised (§3 checks 3–8, §4)."""
    return _settle(detail, insured, policies, Route.DIRECT), insured


def settle_manual(
    event: ManualEvent,
    insured: Insured | None,
    policies: Mapping[str, Policy],
    catalogs: CatalogIndex,
) -> tuple[Result, Insured | None]:
    """手工报销 (§5): itemised by the treatment region's catalog, else by the insured
    region's (the claim never met a connected hospital), then settled by hand."""
    catalog = catalogs.covering(event.treatment_region)
    if catalog is None and insured is not None and insured.person is not None:
        catalog = catalogs.covering(insured.person.insured_region)
    if catalog is None:
        return rejected(
            event.claim_id,
            Reason.NO_CATALOG,
            f"no catalog covers treatment region {event.treatment_region} or the person's "
            "insured region; the claim cannot be itemised",
        ), insured
    return _settle(itemise(event, catalog), insured, policies, Route.MANUAL), insured


def reverse_claim(claim_id: str, insured: Insured | None) -> tuple[Result, Insured | None]:
    """结算撤销 of a direct or manual settlement (§3: checks 2–8 never apply)."""
    return reverse(claim_id, insured.ledger if insured is not None else None), insured


def settle(
    detail: FeeDetail, directory: Directory, ledger: Ledger | None
) -> tuple[Result, Ledger | None]:
    """:func:`settle_direct` for a caller that keeps ledgers only, taking the person's
    record and filings from ``directory``; returns the (possibly new) ledger."""
    insured = Insured.of(directory.persons.get(detail.person_id), ledger)
    result, _ = settle_direct(detail, insured, directory.policies)
    if ledger is None and result.status is Status.SETTLED:
        assert insured is not None
        ledger = insured.ledger  # opened by this claim
    return result, ledger


def reverse(claim_id: str, ledger: Ledger | None) -> Result:
    """Take back everything the claim's settlement added, refund the account."""
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


def _settle(
    detail: FeeDetail, insured: Insured | None, policies: Mapping[str, Policy], route: Route
) -> Result:
    if insured is not None and (record := insured.ledger.settled(detail.claim_id)) is not None:
        return record.settlement  # a duplicate (of either route): the current result, no change
    served = eligible(detail.person_id, insured, policies, needs_connection=route is Route.DIRECT)
    if isinstance(served, Refusal):
        return _reject(detail, served.reason, served.message)
    insured, person, policy = served
    benefit = policy.benefit(person.scheme, detail.medical_type)
    if benefit is None or not benefit.defines(person.member_type, detail.institution_level):
        return _reject(
            detail,
            Reason.BENEFIT_NOT_DEFINED,
            f"{policy.region} defines no {detail.medical_type} benefit for "
            f"{person.scheme}/{person.member_type} at level "
            f"{detail.institution_level}",
        )
    filing_type = _filing_type(detail, insured, route)
    if isinstance(filing_type, Result):
        return filing_type
    amounts, burden = _price(detail, person, policy, benefit, insured.ledger, filing_type, route)
    result = Result(
        detail.claim_id, Status.SETTLED, filing_type=filing_type, amounts=amounts, route=route
    )
    record = ClaimRecord(result, detail.date, detail.medical_type, burden, detail.treatment_region)
    insured.ledger.book(detail.claim_id, record)
    return result


def _price(
    detail: FeeDetail,
    person: Registration,
    policy: Policy,
    benefit: Benefit,
    ledger: Ledger,
    filing_type: str,
    route: Route,
) -> tuple[Amounts, Decimal]:
    """§4 steps 1–6: the amounts, and the in-scope burden the claim adds to the year."""
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
    if benefit.claim_cap is not None:
        fund = min(fund, benefit.claim_cap)
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
    # A manual claimant has already paid everything in cash: the account is not touched.
    pays_account = route is Route.DIRECT and person.scheme in policy.personal_account_schemes
    account = min(ledger.balance, personal) if pays_account else ZERO
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
    return amounts, burden


def _filing_type(detail: FeeDetail, insured: Insured, route: Route) -> str | Result:
    """§3 check 8; a manual reimbursement is never rejected here (§5)."""
    filing = insured.filing_for(detail.treatment_region, detail.date)
    if filing is not None:
        return filing.type
    if detail.emergency:
        return "emergency"  # 急诊视同备案
    if route is Route.MANUAL:
        return UNFILED
    if insured.filed_for(detail.treatment_region):
        return _reject(
            detail,
            Reason.FILING_NOT_VALID,
            f"the filing for {detail.treatment_region} is not valid on "
            f"{detail.date.isoformat()}; renew it before settling",
        )
    return _reject(
        detail,
        Reason.NOT_FILED,
        f"{insured.person_id} has no filing covering {detail.treatment_region}; "
        "file (备案) before settling or mark the visit as an emergency",
    )


def _reject(detail: FeeDetail, reason: Reason, message: str) -> Result:
    return rejected(detail.claim_id, reason, message)
