"""Exact money: every amount is a `Decimal`, rounded half up to the fen only where the rules say.

Inputs may arrive as YAML/JSON numbers; a binary float would already have lost the
value the hospital typed, so floats are converted through their shortest decimal
text (what the document said) and never used in arithmetic.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def exact(value: Any) -> Any:
    """Turn a float into the Decimal its text denotes; leave everything else to pydantic."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


def round_fen(amount: Decimal) -> Decimal:
    """Round half up to the fen (0.01 yuan), the only rounding the rules allow."""
    return amount.quantize(FEN, ROUND_HALF_UP)  # positional: ~60 ns faster than rounding=…


def fmt_money(amount: Decimal) -> str:
    """Two decimals, never "-0.00": the JSON form of an amount."""
    text = f"{round_fen(amount) + 0:.2f}"
    return "0.00" if text == "-0.00" else text


Money = Annotated[Decimal, BeforeValidator(exact), PlainSerializer(fmt_money, return_type=str)]
"""An amount in yuan; serialised as a two-decimal string."""

Exact = Annotated[Decimal, BeforeValidator(exact), PlainSerializer(str, return_type=str)]
"""An exact decimal that is not necessarily money (a ratio, a price, a quantity)."""
