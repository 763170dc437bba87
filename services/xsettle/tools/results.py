"""``xsettle results``: the exchange's answers (or its dead letters) as JSON Lines.

It reads both answer topics: settlement results (settle, reverse, manual) and registry
results (enrol, file, cancel_filing). Each line carries, under ``result``, exactly what
``xsettle settle`` prints for that event (money as exact two-decimal strings), inside
its envelope: the ids, the person, where and when (see :func:`settlement_line` and
:func:`registry_line`). A redelivered request re-emits its answer under the same
``result_id``, so each id is printed once and the copies are counted. Avro
single-object encoding and the Confluent wire format (``SCHEMA_REGISTRY_URL``) are both
read, released schema versions included.
"""

import sys
from typing import Any, TextIO

from kafka.consumer.fetcher import ConsumerRecord

from ..errors import XsettleError
from ..exchange.contract.codec import AvroCodec
from ..exchange.contract.records import record_registry_result, record_result
from ..exchange.contract.registry import SchemaRegistry, registry_from_env
from ..exchange.contract.topics import Topics
from ..settings import Settings
from .console import Listing, Tally, decoded, iso_time, position, print_topic
from .dead_letters import DEAD_LETTER, LetterLines


def settlement_line(record: dict[str, Any]) -> dict[str, Any]:
    """A decoded ``SettlementResult`` as one JSON-ready line."""
    return {
        "result_id": record["result_id"],
        "request_id": record.get("request_id"),
        "person_id": record.get("person_id"),
        "claim_id": record.get("claim_id"),
        "result": record_result(record).to_record(),
        "insured_region": record.get("insured_region"),
        "treatment_region": record.get("treatment_region"),
        "medical_type": record.get("medical_type"),
        "submitted_at": iso_time(record.get("submitted_at")),
        "settled_at": iso_time(record.get("settled_at")),
        "duplicate_of": record.get("duplicate_of"),
    }


def registry_line(record: dict[str, Any]) -> dict[str, Any]:
    """A decoded ``RegistryResult`` (enrol, file, cancel_filing) as one JSON-ready line."""
    return {
        "result_id": record["result_id"],
        "request_id": record.get("request_id"),
        "person_id": record.get("person_id"),
        "kind": record["kind"],
        "result": record_registry_result(record).to_record(),
        "submitted_at": iso_time(record.get("submitted_at")),
        "settled_at": iso_time(record.get("settled_at")),
    }


class ResultLines:
    """Renders answer records: decoded by their topic's schema, filtered by person and
    claim (registry answers have no claim), printed once per ``result_id``."""

    def __init__(
        self,
        topics: Topics,
        registry: SchemaRegistry | None = None,
        person: str | None = None,
        claim: str | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.readers = {
            topics.results: (AvroCodec("settlement_result", registry), settlement_line),
            topics.registry_results: (AvroCodec("registry_result", registry), registry_line),
        }
        self.person = person
        self.claim = claim
        self.err = err
        self.seen: set[str] = set()

    def __call__(self, record: ConsumerRecord, tally: Tally) -> dict[str, Any] | None:
        codec, line = self.readers[record.topic]
        answer = decoded(codec, record, tally, self.err, f"{record.topic} {position(record)}")
        if answer is None:
            return None
        if (self.person is not None and answer.get("person_id") != self.person) or (
            self.claim is not None and answer.get("claim_id") != self.claim
        ):
            tally.skip("filtered out")
            return None
        if answer["result_id"] in self.seen:
            tally.skip("duplicate")
            return None
        self.seen.add(answer["result_id"])
        return line(answer)


def print_results(
    settings: Settings,
    *,
    from_beginning: bool,
    follow: bool,
    person: str | None = None,
    claim: str | None = None,
    dead_letters: bool = False,
) -> int:
    """``xsettle results``: print the answer (or dead-letter) topics; see the module doc.
    Without ``--from-beginning`` only new records, followed until Ctrl-C."""
    err = sys.stderr
    topics = Topics(settings.namespace)
    registry = registry_from_env(settings)
    render: Any
    if dead_letters:
        if claim is not None:
            raise XsettleError(
                "--claim cannot select dead letters (their payload is what could not be "
                "read); use --person, which matches a letter's original key"
            )
        names: tuple[str, ...] = (topics.dead_letters,)
        label = "dead letters"
        render = LetterLines(AvroCodec(DEAD_LETTER, registry), person, err)
    else:
        names, label = (topics.results, topics.registry_results), "results"
        render = ResultLines(topics, registry, person, claim, err)
    listing = Listing(names, render, label, "xsettle results")
    print_topic(settings, listing, from_beginning=from_beginning, follow=follow)
    return 0
