"""faust delivers each message in its turn and commits an offset only once it and every
offset before it are finished (see :mod:`xsettle.exchange.runtime.offsets`)."""

import asyncio
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from faust.transport import consumer
from faust.types import TP
from intervaltree import IntervalTree

from xsettle.exchange.runtime import offsets
from xsettle.exchange.runtime.offsets import consume_every_offset

PARTITION = TP("xsettle.settlement-requests.v1", 0)


def _consumer(committed: int | None, acked: list[int]) -> Any:
    return SimpleNamespace(
        _acked=defaultdict(list, {PARTITION: list(acked)}),
        _acked_index=defaultdict(set, {PARTITION: set(acked)}),
        _committed_offset=defaultdict(lambda: None, {PARTITION: committed}),
        _gap=defaultdict(IntervalTree),
    )


def test_the_message_at_the_committed_offset_must_be_finished_first() -> None:
    consume_every_offset()
    waiting = _consumer(committed=34, acked=[35, 36])
    assert consumer.Consumer._new_offset(waiting, PARTITION) is None
    done = _consumer(committed=34, acked=[34, 35, 36, 38])
    assert consumer.Consumer._new_offset(done, PARTITION) == 37


def test_offsets_read_past_are_not_taken_as_done() -> None:
    consume_every_offset()
    state = _consumer(committed=20, acked=[20])
    asyncio.run(consumer.Consumer._add_gap(state, PARTITION, 21, 24))  # read on at 24
    state._acked[PARTITION].append(24)
    state._acked_index[PARTITION].add(24)
    assert consumer.Consumer._new_offset(state, PARTITION) == 21, "21..23 were never finished"


def test_recovery_seeks_with_the_consumer_flow_stopped() -> None:
    """faust's recovery seeks to the committed offsets and resumes the streams after;
    the consumer must not deliver in between (a paused stream skips for good)."""
    seen: list[str] = []
    flow = SimpleNamespace(stop_flow=lambda: seen.append("flow stopped"))
    recovery = SimpleNamespace(app=SimpleNamespace(consumer=flow))

    async def resume(self: Any, generation_id: int = 0) -> None:
        seen.append(f"seek and resume, generation {generation_id}")

    asyncio.run(offsets._paused_until_resumed(resume)(recovery, 7))
    assert seen == ["flow stopped", "seek and resume, generation 7"]
