"""DecimalLimits checks exactly what pydantic's own decimal constraints check.

A claim's amounts are limited by :class:`~xsettle.engine.limits.DecimalLimits` (for
speed); pydantic's ``Field(max_digits=…, decimal_places=…, ge=0 | gt=0)`` is the
specification, so every value must be accepted or refused alike, with the same error
first. This also catches a pydantic upgrade that counts digits differently.
"""

from decimal import Decimal
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, Field, TypeAdapter, ValidationError

from xsettle.engine.limits import DecimalLimits

# (max_digits, decimal_places, positive): a line's unit_price and quantity
LIMITS = [(18, 6, False), (14, 4, True)]


def _pydantic(max_digits: int, places: int, positive: bool) -> TypeAdapter[Decimal]:
    bound = {"gt": 0} if positive else {"ge": 0}
    return TypeAdapter(
        Annotated[
            Decimal,
            Field(max_digits=max_digits, decimal_places=places, allow_inf_nan=False, **bound),
        ]
    )


def _ours(max_digits: int, places: int, positive: bool) -> TypeAdapter[Decimal]:
    return TypeAdapter(
        Annotated[
            Decimal,
            Field(allow_inf_nan=False),
            AfterValidator(DecimalLimits(max_digits, places, positive=positive)),
        ]
    )


PAIRS = [(_pydantic(*limits), _ours(*limits)) for limits in LIMITS]


def _outcome(adapter: TypeAdapter[Decimal], value: Any) -> tuple[str, str]:
    try:
        return "ok", repr(adapter.validate_python(value))
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        return first["type"], first["msg"]


def _assert_alike(value: Any) -> None:
    for specification, ours in PAIRS:
        assert _outcome(ours, value) == _outcome(specification, value), value


@st.composite
def decimal_texts(draw: st.DrawFn) -> str:
    """Decimal text near every limit: digit counts, trailing zeros, zeros and exponents."""
    sign = draw(st.sampled_from(["", "-", "+"]))
    digits = draw(st.text("0123456789", min_size=1, max_size=22))
    zeros = "0" * draw(st.integers(0, 8))
    exponent = draw(
        st.one_of(
            st.integers(-14, 14),
            st.sampled_from([-999_999_999, -1_000_027, -30, 30, 999_999]),
        )
    )
    point = draw(st.integers(0, len(digits)))
    mantissa = f"{digits[:point]}.{digits[point:]}{zeros}" if point else digits + zeros
    return f"{sign}{mantissa}E{exponent}" if draw(st.booleans()) else sign + mantissa


@settings(max_examples=3000, deadline=None)
@given(decimal_texts())
def test_limits_agree_with_pydantic_on_decimal_text(text: str) -> None:
    _assert_alike(text)


@pytest.mark.parametrize(
    "value",
    [
        "0", "-0", "-0.00", "0E-7", "0E+20", "1.0000000", "1.0000001", "1e-6", "1e-7",
        "999999999999.999999", "1000000000000", "9999999999.9999", "10000000000",
        "1E-1000027", "-1E-1000027", "1E+20", "12345678901234567890", "nan", "inf", "x",
        0.1, 1e-7, 1e20, 3, -1, 0, True, None, Decimal("1.50"), Decimal("-0"),
    ],
)  # fmt: skip
def test_limits_agree_with_pydantic_on_edge_cases(value: Any) -> None:
    _assert_alike(value)
