"""Engine throughput: claims/s through the offline exchange in one process (one core)."""

import time

from .workload import bench_scenario


def engine_claims_per_second(claims: int) -> float:
    """Validation, catalog split and settlement of ``claims`` 10-line claims, best of 3."""
    scenario = bench_scenario(claims)
    best = 0.0
    for _ in range(3):
        exchange = scenario.exchange()
        started = time.perf_counter()
        for event in scenario.events:
            exchange.process(event)
        best = max(best, claims / (time.perf_counter() - started))
    return best
