"""Every message delivered once its turn comes, and no offset committed before its
message is finished: three faust 0.15.3 behaviours undone.

Found with the fault drill (SIGKILLs and a broker stall while a dense day runs): 1 to
50 of ~1,100 requests never answered, each time around a worker's start or a
rebalance, because faust committed offsets of messages nobody had finished.

- **Delivered while the streams are paused.** After a rebalance, faust's recovery
  seeks every partition to its committed offset while the consumer still delivers
  messages, and resumes the streams only afterwards; a stream skips, silently and
  for good, whatever reaches it while paused. Its later messages were then
  processed, and the skipped one's offset was committed over. So the consumer's flow
  is stopped before that seek (:func:`_paused_until_resumed`): it delivers from the
  committed offsets once the streams run again.
- **Gap filling.** When a partition's next message is more than one past the last
  one read, faust takes the offsets between as done (gaps of compaction or
  transaction markers) and commits over them; the seek above makes messages still
  in a batch look like such a gap. Our topics have no gaps (agents read no compacted
  topic, and there are no transactions), so nothing between counts as done.
- **One past the committed offset.** faust refuses a commit only while the first
  finished offset is more than one past the committed one, so the message at the
  committed offset itself could be committed over. Now nothing is committed while any
  finished offset lies past an unfinished one at the committed offset.

And a fetch that returns records of a partition not yet active is dropped by faust
with the partition's position already past them: such records are sought back to
and fetched again.
"""

import logging
from typing import Any

from faust.tables.recovery import Recovery
from faust.transport import consumer

log = logging.getLogger(__name__)
_patched = False


def consume_every_offset() -> None:
    global _patched
    if _patched:
        return
    Recovery.on_recovery_completed = _paused_until_resumed(Recovery.on_recovery_completed)
    Recovery._resume_streams = _paused_until_resumed(Recovery._resume_streams)
    consumer.Consumer._add_gap = _no_gap
    consumer.Consumer._new_offset = _finished_first(consumer.Consumer._new_offset)
    consumer.Consumer._wait_next_records = _fetched_again_when_inactive(
        consumer.Consumer._wait_next_records
    )
    _patched = True


def _paused_until_resumed(resume: Any) -> Any:
    async def paused(self: Any, generation_id: int = 0) -> None:
        self.app.consumer.stop_flow()
        await resume(self, generation_id)

    return paused


async def _no_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
    log.info(
        "%s: read on at %s after %s; nothing between counts as done", tp, offset_to, offset_from - 1
    )


def _finished_first(new_offset: Any) -> Any:
    def committable(self: Any, tp: Any) -> int | None:
        acked = self._acked[tp]
        committed = self._committed_offset[tp]
        if acked and committed is not None and min(acked) > committed:
            return None  # the message at the committed offset is not finished
        return new_offset(self, tp)  # type: ignore[no-any-return]

    return committable


def _fetched_again_when_inactive(wait_next_records: Any) -> Any:
    async def fetched(self: Any, timeout: float) -> Any:
        records, active = await wait_next_records(self, timeout)
        for tp, batch in (records or {}).items():
            inactive = active is not None and tp not in active
            if batch and inactive and tp not in self._buffered_partitions:
                log.info("%s: fetched at %s while inactive; read again", tp, batch[0].offset)
                await self.seek(tp, batch[0].offset)
        return records, active

    return fetched
