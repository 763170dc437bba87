"""Administrative division codes and what covers what.

A 6-digit code ending in ``0000`` stands for a province, one ending in ``00`` for a
city; filings and catalogs name an area and cover the regions inside it.
"""

import re

REGION_PATTERN = re.compile(r"[0-9]{6}")
"""Six ASCII digits, matched whole (``\\d`` would admit other scripts' digits)."""


def covers(area: str, region: str) -> bool:
    """Whether ``area`` (a filing's or catalog's region) includes ``region``."""
    if area == region:
        return True
    if area.endswith("0000"):
        return area[:2] == region[:2]
    if area.endswith("00"):
        return area[:4] == region[:4]
    return False


def specificity(area: str) -> int:
    """2 for a district, 1 for a city, 0 for a province: the most specific catalog wins."""
    if area.endswith("0000"):
        return 0
    if area.endswith("00"):
        return 1
    return 2


def check_region(code: str) -> str:
    """Validator: a region is a 6-digit string."""
    if not REGION_PATTERN.fullmatch(code):
        raise ValueError("must be a 6-digit administrative division code")
    return code


def province_of(code: str) -> str:
    """The province a region lies in, as a province code: "440106" → "440000"."""
    return code[:2] + "0000"
