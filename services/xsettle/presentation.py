"""How results are put before a person: readable region names and percentiles.

Both readers of results need these, the end-of-run report (``pipeline.report``) and
the operations dashboard (``dashboard``). They live here, beside neither, because the
dashboard is a service of its own and must not depend on the pipeline driver that
starts test and demo runs.
"""

import math

from .engine.regions import covers, specificity
from .scenario import Scenario


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of already sorted values (the ⌈share·n⌉-th smallest)."""
    if not values:
        return 0.0
    rank = math.ceil(round(share * len(values), 9))  # round: 0.95 × 100 is 95.00000000000001
    return values[max(0, min(len(values), rank) - 1)]


class RegionNames:
    """Readable names for division codes, from the policies and catalogs on the exchange."""

    def __init__(self, scenario: Scenario) -> None:
        self._areas = {p.region: p.name for p in scenario.policies if p.name}
        self._areas.update({c.region: c.name for c in scenario.catalogs if c.name})

    def __call__(self, code: str | None) -> str:
        """The named area a region falls in, e.g. 440106 → "广州市 440100"."""
        if not code:
            return "(none)"
        areas = [a for a in self._areas if covers(a, code)]
        if not areas:
            return code
        area = max(areas, key=specificity)
        return f"{self._areas[area]} {area}"
