"""The paced sender (pipeline/pace.py): every event sent once, and a person's event that
must wait for earlier answers held back without holding up other persons."""

from typing import Any

import pytest

from xsettle.pipeline.client import ClientError, ExchangeClient
from xsettle.pipeline.pace import offer
from xsettle.pipeline.person_order import PersonOrder


class FakeClient:
    """The client's part the pacing loop uses: the person order, reads and flushes.
    An event's answer is read on the first read after it was sent."""

    order_timeout = 5.0

    def __init__(self) -> None:
        self.order: PersonOrder[str] = PersonOrder()
        self.seen: dict[str, Any] = {}
        self.in_flight: list[str] = []

    would_wait = ExchangeClient.would_wait  # the real rule, on this fake's order and reads

    def send(self, request_id: str, person: str | None, insured_side: bool) -> None:
        if person is not None:
            self.order.admit(person, insured_side, self.waited).append(request_id)
        self.in_flight.append(request_id)

    def waited(self, earlier: list[str]) -> None:
        assert all(rid in self.seen for rid in earlier), "the loop blocked on a wait"

    def read(self, timeout: float) -> list[dict[str, Any]]:
        answered, self.in_flight = self.in_flight, []
        self.seen.update((rid, {"request_id": rid}) for rid in answered)
        return []

    def flush(self) -> None:
        pass


EVENTS = [
    ("P-1", False),  # a claim
    ("P-1", True),  # a filing: waits for the claim's answer
    ("P-1", False),  # held behind the filing
    ("P-2", False),  # another person: never held up
    (None, False),  # no person, no order
]


class SilentClient(FakeClient):
    """A client whose answers never come."""

    order_timeout = 0.1

    def read(self, timeout: float) -> list[dict[str, Any]]:
        return []


def _run(rate: float | None, client: FakeClient | None = None) -> tuple[list[int], FakeClient]:
    client = client or FakeClient()
    sent: list[int] = []

    def send(index: int) -> None:
        sent.append(index)
        client.send(str(index), *EVENTS[index])

    offered = offer(client, len(EVENTS), send, rate, lambda index: EVENTS[index])  # type: ignore[arg-type]
    assert offered > 0
    return sent, client


def test_a_burst_holds_a_person_back_but_not_the_others() -> None:
    sent, _ = _run(None)
    assert sorted(sent) == [0, 1, 2, 3, 4]
    assert sent[:3] == [0, 3, 4]  # P-1's filing and the claim after it were held
    assert sent.index(1) < sent.index(2)  # and keep their order


def test_a_steady_rate_sends_every_event_once_in_each_person_s_order() -> None:
    sent, _ = _run(10_000.0)
    assert sorted(sent) == [0, 1, 2, 3, 4]
    assert sent.index(0) < sent.index(1) < sent.index(2)


def test_an_answer_that_never_comes_fails_naming_it() -> None:
    with pytest.raises(ClientError, match=r"within 0s \(first: 0\)"):
        _run(None, SilentClient())
