"""The benchmark's claims: 10-line claims that settle, from the policy and catalog library."""

from dataclasses import replace

from ..engine import parse_event
from ..engine.claims import ClaimEvent
from ..scenario import Scenario
from ..traffic import CLEAN, generate_day

LINES_PER_CLAIM = 10


def bench_scenario(claims: int, persons: int = 4_000, seed: int = 1) -> Scenario:
    return generate_day(
        claims=claims, persons=persons, seed=seed, mix=replace(CLEAN, lines=LINES_PER_CLAIM)
    )


def parsed_events(scenario: Scenario) -> list[ClaimEvent]:
    return [parse_event(event) for event in scenario.events]
