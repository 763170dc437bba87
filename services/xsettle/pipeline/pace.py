"""Events offered at a steady rate through one client, its results read while it waits.

A day sent as one burst measures a queue: its last claim waits behind all the others,
so its latency says how long the queue was, not how fast the exchange answers. Offered
at a rate the pipeline sustains, each claim's latency is the system's own.

Sending and reading take turns in one thread: a Kafka client is not safe to share
between threads, and a person's order (:mod:`.person_order`) is kept by the very client
that sends, so the pacing loop goes through it too. An event that must wait for its
person's earlier answers is held back (with that person's later events) instead of
blocking the loop, so other persons' events keep to the rate.
"""

import time
from collections import deque
from collections.abc import Callable

from .client import ExchangeClient, no_answer

SEND_TICK = 0.025
"""Seconds the loop reads results between rounds of sending, at least (unless results
come in first, which end a read); the events that fell due meanwhile go together. One
send per event woke the client's sender and made a record batch per event, each a
request for the client and an object the embedded broker then keeps and lists on every
fetch; a round is one batch per partition, and the rate holds over any second. A
round's events count their latency from the round."""

Path = Callable[[int], tuple[str | None, bool]]
"""The i-th event's person (None: no person, so no order to keep) and whether it goes to
the insured side (§5) rather than through the treatment service."""


def offer(
    client: ExchangeClient,
    count: int,
    send: Callable[[int], None],
    rate: float | None,
    path: Path = lambda index: (None, False),
) -> float:
    """Call ``send(i)`` for each ``i`` below ``count``, at ``rate`` per second (None: all
    at once), reading results (:meth:`ExchangeClient.read`) whenever nothing is due.
    Events held back for their person's order go as soon as the answers they follow are
    read; a send that falls behind is followed at once by those that fell due meanwhile,
    so the average rate holds. Returns the rate actually offered (sends/s)."""
    held = _Held(client, send, path)
    started = time.monotonic()
    index = 0
    while index < count:
        elapsed = time.monotonic() - started
        due = count if rate is None else min(count, int(elapsed * rate) + 1)
        for waiting in range(index, due):
            held.send_or_hold(waiting)
        index = due
        if rate is not None and index < count:
            client.read(max(SEND_TICK, started + index / rate - time.monotonic()))
            held.release()
    held.drain()
    client.flush()
    return count / max(time.monotonic() - started, 1e-9)


class _Held:
    """Each person's events held back, in order, until their earlier answers are read."""

    def __init__(self, client: ExchangeClient, send: Callable[[int], None], path: Path) -> None:
        self.client = client
        self.send = send
        self.path = path
        self.persons: dict[str, deque[int]] = {}

    def send_or_hold(self, index: int) -> None:
        person, insured_side = self.path(index)
        if person is not None and (
            person in self.persons or self.client.would_wait(person, insured_side)
        ):
            self.persons.setdefault(person, deque()).append(index)
        else:
            self.send(index)

    def release(self) -> None:
        """Send what no longer waits: each person's held events up to the next that
        would wait again."""
        for person in list(self.persons):
            queue = self.persons[person]
            while queue and not self.client.would_wait(person, self.path(queue[0])[1]):
                self.send(queue.popleft())
            if not queue:
                del self.persons[person]

    def drain(self) -> None:
        """Read on until every held event is sent. Past the client's order timeout without
        an answer, give up with the client's error, naming the first unanswered request."""
        self.client.flush()
        progress = time.monotonic()
        while self.persons:
            before = sum(map(len, self.persons.values()))
            self.client.read(0.05)
            self.release()
            if sum(map(len, self.persons.values())) < before:
                progress = time.monotonic()
            elif time.monotonic() - progress > self.client.order_timeout:
                person, queue = next(iter(self.persons.items()))
                missing = self.client.order.unanswered(
                    person, self.path(queue[0])[1], self.client.seen
                )
                raise no_answer(missing, self.client.order_timeout)
