"""Settlement results, named after the national platform's 2304 ``setlinfo`` output."""

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from .money import fmt_money
from .vocabulary import Reason, Route, Status

AMOUNT_FIELDS: tuple[str, ...] = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "hifmi_pay",
    "maf_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "balc",
)


@dataclass(frozen=True, slots=True)
class Amounts:
    medfee_sumamt: Decimal  # 医疗费总额
    fulamt_ownpay_amt: Decimal  # 全自费金额
    overlmt_selfpay: Decimal  # 超限价自费
    preselfpay_amt: Decimal  # 先行自付
    inscp_scp_amt: Decimal  # 符合政策范围金额
    act_pay_dedc: Decimal  # 实际支付起付线
    hifp_pay: Decimal  # 基本医疗保险统筹基金支出
    hifmi_pay: Decimal  # 大病保险 / 大额医疗补助支出
    maf_pay: Decimal  # 医疗救助基金支出
    fund_pay_sumamt: Decimal  # 基金支付总额
    psn_part_amt: Decimal  # 个人负担总金额
    acct_pay: Decimal  # 个人账户支出
    psn_cash_pay: Decimal  # 个人现金支出
    balc: Decimal  # 个人账户余额

    def reversed(self, balance_after_refund: Decimal) -> "Amounts":
        """The amounts a 结算撤销 reports: every figure negated, ``balc`` the refunded balance."""
        values = {f.name: -getattr(self, f.name) for f in fields(self)}
        values["balc"] = balance_after_refund
        return Amounts(**values)

    def as_strings(self) -> dict[str, str]:
        return {name: fmt_money(getattr(self, name)) for name in AMOUNT_FIELDS}


@dataclass(frozen=True, slots=True, kw_only=True)
class EventAnswer:
    """What every answer to an event has besides its own fields (§2, §5): a rejection's
    ``reason`` and ``message``, and the one form every rejection prints in. Keyword-only,
    so each answer's own fields come first."""

    reason: Reason | None = None
    message: str | None = None

    def _rejection(self, key: str, subject: str | None) -> dict[str, Any]:
        """A rejection's JSON Lines form, alike for claims, enrolments and filings: what
        it names (``key``: ``subject``), ``REJECTED``, the reason and the message."""
        assert self.reason is not None, "only a rejection has a reason"
        return {
            key: subject,
            "status": Status.REJECTED.value,
            "reason": self.reason.value,
            "message": self.message or "",
        }


@dataclass(frozen=True, slots=True)
class Result(EventAnswer):
    """The exchange's answer to a claim (SETTLEMENT_RULES §2)."""

    claim_id: str | None
    status: Status
    route: Route = Route.DIRECT
    """A settlement's route; its reversal keeps the default (the claim record knows)."""
    filing_type: str | None = None
    amounts: Amounts | None = None

    def to_record(self) -> dict[str, Any]:
        """The JSON Lines form, fields in the order the contract lists them; a manual
        settlement adds ``route: "manual"`` (§5)."""
        if self.reason is not None:
            return self._rejection("claim_id", self.claim_id)
        record: dict[str, Any] = {"claim_id": self.claim_id, "status": self.status.value}
        if self.status is Status.SETTLED:
            record["filing_type"] = self.filing_type
        if self.amounts is not None:
            record.update(self.amounts.as_strings())
        if self.route is Route.MANUAL:
            record["route"] = self.route.value
        return record

    def to_state(self) -> list[Any]:
        """The form kept in ledger state: positions instead of names, amounts as exact
        text in :data:`AMOUNT_FIELDS` order. Ledgers keep many results and are written
        on every settlement, so their size is the changelog's cost (about a third of
        :meth:`to_record`'s). The route is appended only when manual, so a direct
        result (nearly all of them) is as short as before routes existed."""
        amounts = self.amounts
        state = [
            self.claim_id,
            self.status.value,
            self.filing_type,
            self.reason.value if self.reason else None,
            self.message,
            [str(getattr(amounts, name)) for name in AMOUNT_FIELDS] if amounts else None,
        ]
        if self.route is not Route.DIRECT:
            state.append(self.route.value)
        return state

    @classmethod
    def from_state(cls, state: list[Any]) -> "Result":
        claim_id, status, filing_type, reason, message, amounts, *route = state
        return cls(
            claim_id=claim_id,
            status=Status(status),
            filing_type=filing_type,
            amounts=Amounts(*map(Decimal, amounts)) if amounts is not None else None,
            reason=Reason(reason) if reason else None,
            message=message,
            route=Route(route[0]) if route else Route.DIRECT,
        )


def rejected(claim_id: str | None, reason: Reason, message: str) -> Result:
    return Result(claim_id=claim_id, status=Status.REJECTED, reason=reason, message=message)
