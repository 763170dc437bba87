"""Reading topics outside the services: every partition, no consumer group, no commits.

The one reader of a topic as it stands, from the start (or from now on): what the
console tools (``xsettle results``, ``dead-letters``), the demo's dead-letter count and
the tests' checks (every result published, the dead letters) use; the services
themselves consume through faust. :class:`TopicReader` takes every partition for
itself, so the services' consumers never see it; :func:`read_topic` is the short form
that returns a whole topic.

The embedded Tansu reports a partition's end offset as the first offset of its last
batch plus one, so reaching the reported ends can leave the rest of that batch unread:
a read to the end keeps reading what the batch it landed in still holds.
"""

import time
from collections.abc import Callable, Iterator
from typing import Any, Self

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from ...errors import InfrastructureError, XsettleError
from ...settings import Settings
from .security import client_options

POLL_MS = 500
FETCH_WAIT_MS = 100
"""Short fetch waits: the embedded broker answers an empty fetch only when the wait ends."""
DRAIN_MS = 200


class TopicReader:
    """Every partition of ``topics``, read by this process alone (no group, no commits).

    ``settings`` gives the security options (the environment's when None). A topic
    that does not exist is a one-line error.
    """

    def __init__(
        self, bootstrap: str, topics: str | tuple[str, ...], settings: Settings | None = None
    ) -> None:
        self.topics = (topics,) if isinstance(topics, str) else topics
        self.topic = " and ".join(self.topics)
        """The topics' names, for messages."""
        try:
            self.consumer = KafkaConsumer(
                bootstrap_servers=bootstrap,
                enable_auto_commit=False,
                allow_auto_create_topics=False,
                fetch_max_wait_ms=FETCH_WAIT_MS,
                **client_options(settings),
            )
        except KafkaError as error:
            raise InfrastructureError(f"cannot reach the broker at {bootstrap}: {error}") from None
        self.partitions: list[TopicPartition] = []
        for topic in self.topics:
            try:
                found = self.consumer.partitions_for_topic(topic)
            except KafkaError as error:
                self.close()
                raise InfrastructureError(f"{topic}: cannot read its metadata: {error}") from None
            if not found:
                self.close()
                raise XsettleError(
                    f"topic {topic} does not exist on {bootstrap}; check XSETTLE_NAMESPACE, "
                    "or create the topics with `xsettle topics`"
                )
            self.partitions += [TopicPartition(topic, p) for p in sorted(found)]

    def records(
        self,
        *,
        from_beginning: bool = True,
        follow: bool = False,
        on_caught_up: Callable[[], None] | None = None,
        timeout: float | None = None,
    ) -> Iterator[ConsumerRecord]:
        """Records oldest first per partition, from the beginning or from now on.

        Without ``follow`` it ends at the ends the partitions had when it started (read
        whole: see the module doc), an error if that takes over ``timeout`` seconds;
        with it, it keeps waiting for more (until interrupted). ``on_caught_up`` is
        called once those ends are reached.
        """
        consumer = self.consumer
        consumer.assign(self.partitions)
        if from_beginning:
            consumer.seek_to_beginning(*self.partitions)
        else:
            consumer.seek_to_end(*self.partitions)
        self.ends = self._call(consumer.end_offsets, self.partitions)
        self.starts = {tp: self._call(consumer.position, tp) for tp in self.partitions}
        deadline = None if timeout is None or follow else time.monotonic() + timeout
        caught_up = False
        while True:
            if not caught_up and all(
                self._call(consumer.position, tp) >= end for tp, end in self.ends.items()
            ):
                if not follow:
                    yield from self._drain(deadline)
                caught_up = True
                if on_caught_up is not None:
                    on_caught_up()
                if not follow:
                    return
            self._in_time(deadline)
            yield from self._poll(POLL_MS)

    def _poll(self, timeout_ms: int) -> list[ConsumerRecord]:
        batches = self._call(self.consumer.poll, timeout_ms=timeout_ms)
        return [record for tp in sorted(batches) for record in batches[tp]]

    def _drain(self, deadline: float | None) -> Iterator[ConsumerRecord]:
        """What is fetched already: the rest of the batch the reported end fell in (a
        poll returns part of a batch); read on until a poll finds nothing."""
        while records := self._poll(DRAIN_MS):
            yield from records
            self._in_time(deadline)

    def _in_time(self, deadline: float | None) -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise InfrastructureError(f"{self.topic}: not read to its end in time")

    @property
    def backlog(self) -> int:
        """Records between where reading started and the ends when it started."""
        return sum(max(0, end - self.starts[tp]) for tp, end in self.ends.items())

    def record_at(self, partition: int, offset: int, timeout: float = 30.0) -> ConsumerRecord:
        """The record at ``partition:offset``; a one-line error when there is none."""
        (topic,) = self.topics
        tp = TopicPartition(topic, partition)
        if tp not in self.partitions:
            raise XsettleError(
                f"{topic} has no partition {partition} "
                f"(it has {len(self.partitions)}: 0 to {len(self.partitions) - 1})"
            )
        consumer = self.consumer
        first = self._call(consumer.beginning_offsets, [tp])[tp]
        if offset < first:
            raise XsettleError(
                f"no record at {partition}:{offset} on {self.topic}: partition {partition} "
                f"starts at offset {first} (older records are past their retention)"
            )
        end = self._call(consumer.end_offsets, [tp])[tp]
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout
        empty = 0
        while time.monotonic() < deadline:
            records = self._poll(POLL_MS)
            for record in records:
                if record.offset == offset:
                    return record
                if record.offset > offset:  # compacted away
                    break
            else:
                # Nothing at or past it: past the end (which the embedded broker reports
                # low, so the offset is tried for a moment even when above that end).
                empty = empty + 1 if not records else 0
                if offset < end or empty < 3:
                    continue
            raise XsettleError(f"no record at {partition}:{offset} on {self.topic}")
        raise InfrastructureError(
            f"{self.topic}: {partition}:{offset} not read within {timeout:.0f} s"
        )

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except KafkaError as error:
            raise InfrastructureError(f"{self.topic}: {error}") from None

    def close(self) -> None:
        self.consumer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_topic(bootstrap: str, topic: str, timeout: float = 60.0) -> list[ConsumerRecord]:
    """Every record of ``topic`` up to its end when called (the true end: see the module
    doc), partition by partition; an error if not read within ``timeout`` seconds."""
    with TopicReader(bootstrap, topic) as reader:
        return list(reader.records(timeout=timeout))
