"""Each person's events in order across the exchange's two paths: the one rule every
sender follows (the exchange client, ``xsettle submit``).

A person's events are applied in the order they reach the insured service, and a claim
reaches it through the treatment service while an insured-side event (§5) goes there
directly: so a person's event that takes the other path than their unanswered ones
waits for those answers first (as a patient's claim waits for the filing's
confirmation, 线上备案 即时生效). Other persons never wait, and events on one path
never wait at all.
"""

from collections.abc import Callable, Container
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

ANSWER_TIMEOUT = 120.0
"""Seconds a sender waits for a person's earlier answers before giving up."""


@dataclass
class _Unanswered(Generic[T]):
    """A person's events sent on one path whose answers were not yet seen."""

    insured_side: bool
    events: list[T] = field(default_factory=list)


class PersonOrder(Generic[T]):
    """The unanswered events of each person; ``T`` is what a sender needs to find (and
    to name) an event's answer."""

    def __init__(self) -> None:
        self._unanswered: dict[str, _Unanswered[T]] = {}

    def waiting_for(self, person_id: str, insured_side: bool) -> list[T]:
        """The events whose answers the person's next event, on this path, would wait
        for (:meth:`admit`): none if it takes the path of their unanswered ones. A sender
        that must not block (a paced one) holds the event back until these are answered."""
        waiting = self._unanswered.get(person_id)
        if waiting is None or waiting.insured_side == insured_side:
            return []
        return waiting.events

    def unanswered(
        self, person_id: str | None, insured_side: bool, answered: Container[T]
    ) -> list[T]:
        """Those of :meth:`waiting_for` not yet in ``answered``: what the person's next
        event on this path, sent now, would wait for (none for no person)."""
        if person_id is None:
            return []
        return [
            event for event in self.waiting_for(person_id, insured_side) if event not in answered
        ]

    def would_wait(self, person_id: str | None, insured_side: bool, answered: Container[T]) -> bool:
        """Whether sending the person's next event on this path now would wait for
        answers not in ``answered``."""
        return bool(self.unanswered(person_id, insured_side, answered))

    def admit(self, person_id: str, insured_side: bool, wait: Callable[[list[T]], None]) -> list[T]:
        """Where to note the person's next event once sent. If it takes the other path
        than their unanswered events, ``wait`` is given those first: it returns once
        they are answered, or raises."""
        waiting = self._unanswered.get(person_id)
        if waiting is not None and waiting.insured_side != insured_side:
            wait(waiting.events)
            waiting = None
        if waiting is None:
            waiting = self._unanswered[person_id] = _Unanswered(insured_side)
        return waiting.events
