"""The console tools without a broker: what a line of input becomes, what a record on
the result or dead-letter topic prints as, which dead letters can be replayed, and the
one-line errors of the commands."""

import hashlib
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from xsettle.cli import build_parser, main
from xsettle.engine import (
    AMOUNT_FIELDS,
    Amounts,
    EnrolResult,
    Filing,
    FilingResult,
    Reason,
    Result,
    Status,
)
from xsettle.errors import XsettleError
from xsettle.exchange.contract.codec import AvroCodec
from xsettle.exchange.contract.deadletter import KEPT_PAYLOAD, Origin, dead_letter
from xsettle.exchange.contract.records import registry_result_record, result_record
from xsettle.exchange.contract.registry import SchemaRegistry
from xsettle.exchange.contract.topics import Topics
from xsettle.settings import Settings
from xsettle.tools.console import Tally
from xsettle.tools.dead_letters import letter_line, letter_position, unreplayable
from xsettle.tools.results import LetterLines, ResultLines, print_results
from xsettle.tools.submit import MESSAGE_LIMIT, BadLine, Event, read_line, read_lines

AT = datetime(2025, 3, 10, 8, 30, 15, 120_000, tzinfo=UTC)
TOPICS = Topics("xsettle")


# -- xsettle submit: each line ----------------------------------------------------------


def test_a_line_is_sent_as_written_keyed_by_its_person() -> None:
    raw = b'  {"kind": "settle", "person_id": "P-1", "lines": [{"unit_price": 1.10}]}\r\n'
    assert read_line(7, raw) == Event(7, "P-1", raw.strip(), "settle")
    assert not Event(7, "P-1", raw.strip(), "settle").insured_side
    given = b'{"kind": "file", "person_id": "P-1", "request_id": "mine-1"}'
    event = read_line(8, given)
    assert event == Event(8, "P-1", given, "file", "mine-1")
    assert event.insured_side  # to the person-event topic
    unusable = read_line(9, b'{"kind": "manual", "person_id": "P-1", "request_id": 7}')
    assert isinstance(unusable, Event) and unusable.request_id is None and unusable.insured_side


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"kind": "settle",', "not JSON: Expecting property name enclosed in double quotes"),
        (b"garbage", "not JSON: Expecting value at column 1"),
        (b'{"person_id": "P\xff"}', "not UTF-8 (byte 17 of the line)"),
        (b'[{"person_id": "P-1"}]', "expected a JSON object, not an array"),
        (b'"P-1"', "expected a JSON object, not a string"),
        (b'{"kind": "reverse", "claim_id": "C-1"}', "no person_id: every event is keyed"),
        (b'{"person_id": 12}', "person_id must be a non-empty string of at most 256 characters"),
        (b'{"person_id": ""}', "person_id must be a non-empty string"),
        (b'{"person_id": "' + b"P" * 300 + b'"}', "not 'PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP..."),
        (b'{"person_id": "P", "n": ' + b"9" * 5000 + b"}", "not JSON: Exceeds the limit"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_a_line_that_cannot_be_keyed_says_why(raw: bytes, why: str) -> None:
    item = read_line(3, raw)
    assert isinstance(item, BadLine) and item.line == 3
    assert why in item.why and "\n" not in item.why and len(item.why) < 200


def test_an_oversized_line_is_refused_before_it_is_parsed() -> None:
    raw = b'{"person_id": "P", "x": "' + b"x" * MESSAGE_LIMIT + b'"}'
    item = read_line(1, raw)
    assert isinstance(item, BadLine) and "over the 1,000,000-byte message limit" in item.why


def test_blank_lines_are_neither_sent_nor_reported_and_numbers_count_them() -> None:
    lines = [b'{"person_id": "A"}\n', b"\n", b"   \n", b"oops\n", b'{"person_id": "B"}']
    items = list(read_lines(lines))
    assert [(type(item).__name__, item.line) for item in items] == [
        ("Event", 1),
        ("BadLine", 4),
        ("Event", 5),
    ]


def test_strict_submit_of_a_file_with_a_bad_line_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A broker nobody listens on: the file is refused before anything connects.
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")
    path = tmp_path / "claims.jsonl"
    path.write_text('{"person_id": "P-1", "kind": "settle"}\n{"person_id": "P-2",\n')
    assert main(["submit", "--strict", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"xsettle: {path}: line 2: not JSON: Expecting property name enclosed in double "
        "quotes at column 21; nothing sent (--strict)\n"
    )


def test_submit_needs_a_broker_and_a_readable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    path = tmp_path / "claims.jsonl"
    path.write_text('{"person_id": "P-1"}\n')
    assert main(["submit", str(path)]) == 2
    assert capsys.readouterr().err == (
        "xsettle: KAFKA_BOOTSTRAP_SERVERS is not set: xsettle submit needs a broker\n"
    )
    assert main(["submit", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"xsettle: {tmp_path / 'missing.jsonl'}: cannot read: ")
    assert err.count("\n") == 1


# -- xsettle results --------------------------------------------------------------------


def _settled(person: str, claim: str, *, balc: str = "-0.00", duplicate_of: str | None = None):
    amounts = Amounts(
        **{name: Decimal("12.30") for name in AMOUNT_FIELDS} | {"balc": Decimal(balc)}
    )
    result = Result(claim, Status.SETTLED, filing_type="referral", amounts=amounts)
    return result, result_record(
        result,
        request_id=f"req-{claim}",
        generation=1,
        person_id=person,
        insured_region="320300",
        treatment_region="440106",
        medical_type="inpatient",
        submitted_at=AT,
        settled_at=AT,
        duplicate_of=duplicate_of,
    )


def _rejected(person: str | None, claim: str | None):
    result = Result(claim, Status.REJECTED, reason=Reason.INVALID_CLAIM, message="lines: empty")
    return result, result_record(
        result,
        request_id="xsettle.claims.v1/3/17",
        generation=0,
        person_id=person,
        insured_region=None,
        treatment_region=None,
        medical_type=None,
        submitted_at=None,
        settled_at=AT,
    )


def _records(values: list[bytes], topic: str = TOPICS.results) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(topic=topic, partition=1, offset=offset, value=value, key=None)
        for offset, value in enumerate(values)
    ]


def test_a_result_line_holds_what_settle_prints_in_its_envelope() -> None:
    codec = AvroCodec("settlement_result")
    for result, record in (_settled("P-1", "C-1"), _rejected(None, None)):
        line = ResultLines(TOPICS)(_records([codec.encode(record)])[0], Tally())
        assert line is not None
        assert line["result"] == result.to_record()
        assert (line["result_id"], line["request_id"]) == (
            record["result_id"],
            record["request_id"],
        )
        assert (line["person_id"], line["claim_id"]) == (record["person_id"], record["claim_id"])
        assert line["settled_at"] == "2025-03-10T08:30:15.120Z"
    settled = ResultLines(TOPICS)(_records([codec.encode(_settled("P-1", "C-1")[1])])[0], Tally())
    assert settled is not None
    assert settled["result"]["hifp_pay"] == "12.30"
    assert settled["result"]["balc"] == "0.00"  # never "-0.00"
    assert settled["submitted_at"] == "2025-03-10T08:30:15.120Z"
    assert settled["insured_region"] == "320300" and settled["duplicate_of"] is None
    json.dumps(settled)  # nothing but JSON types


def test_registry_answers_print_as_settle_prints_them() -> None:
    codec = AvroCodec("registry_result")
    filing = Filing(
        type="temporary", treatment_region="440100", valid_from=date(2025, 6, 1), valid_to=None
    )
    answers = [
        (
            "file",
            FilingResult("F-1", Status.FILED, "P-1", filing),
        ),
        ("enrol", EnrolResult("P-1", Status.ENROLLED, Decimal("200.5"))),
        (
            "cancel_filing",
            FilingResult("F-9", Status.REJECTED, reason=Reason.FILING_NOT_FOUND, message="no F-9"),
        ),
    ]
    render = ResultLines(TOPICS, person="P-1")
    for kind, outcome in answers:
        record = registry_result_record(
            outcome,
            kind=kind,
            person_id="P-1",
            request_id=f"r-{kind}",
            submitted_at=AT,
            settled_at=AT,
        )
        line = render(_records([codec.encode(record)], TOPICS.registry_results)[0], Tally())
        assert line is not None
        assert line["result"] == outcome.to_record()
        assert (line["kind"], line["person_id"], line["request_id"]) == (kind, "P-1", f"r-{kind}")
    enrolled = registry_result_record(
        answers[1][1],
        kind="enrol",
        person_id="P-1",
        request_id="x",
        submitted_at=None,
        settled_at=AT,
    )
    line = render(_records([codec.encode(enrolled)], TOPICS.registry_results)[0], Tally())
    assert line is not None and line["result"]["balc"] == "200.50"
    by_claim = ResultLines(TOPICS, claim="C-1")  # registry answers name no claim
    assert by_claim(_records([codec.encode(enrolled)], TOPICS.registry_results)[0], Tally()) is None


def test_results_are_deduped_by_id_and_filtered_by_person_and_claim() -> None:
    codec = AvroCodec("settlement_result")
    one, two, other = (
        _settled(p, c)[1] for p, c in (("P-1", "C-1"), ("P-1", "C-2"), ("P-2", "C-1"))
    )
    values = [codec.encode(r) for r in (one, two, one, other)] + [b"junk"]
    err = io.StringIO()

    def run(**filters: str) -> tuple[list[str], Tally]:
        tally = Tally()
        render = ResultLines(TOPICS, err=err, **filters)
        lines = [render(record, tally) for record in _records(values)]
        return [line["result_id"] for line in lines if line is not None], tally

    ids, tally = run()
    assert ids == [one["result_id"], two["result_id"], other["result_id"]]
    assert tally.skipped == {"duplicate": 1, "undecodable": 1}
    assert err.getvalue() == (
        f"xsettle: {TOPICS.results} 1:4 skipped: not an Avro settlement_result: "
        "unknown framing 6a75\n"
    )
    assert run(person="P-1")[0] == [one["result_id"], two["result_id"]]
    assert run(claim="C-1")[0] == [one["result_id"], other["result_id"]]
    assert run(person="P-2", claim="C-1")[0] == [other["result_id"]]
    assert tally.summary("results", "t", 1.0) == (
        "results: 0 printed of 0 read from t; skipped 1 duplicate, 1 undecodable (1.0 s)"
    )


class _Registry(BaseHTTPRequestHandler):
    """The two endpoints of the Confluent Schema Registry REST API the codec uses."""

    schemas: ClassVar[dict[int, str]] = {}

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        schema_id = next((i for i, s in self.schemas.items() if s == body["schema"]), None)
        if schema_id is None:
            schema_id = len(self.schemas) + 1
            self.schemas[schema_id] = body["schema"]
        self._reply({"id": schema_id})

    def do_GET(self) -> None:
        self._reply({"schema": self.schemas[int(self.path.rsplit("/", 1)[1])]})

    def _reply(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def registry_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_results_read_the_confluent_wire_format_with_a_registry(registry_url: str) -> None:
    result, record = _settled("P-1", "C-1")
    framed = AvroCodec("settlement_result", SchemaRegistry(registry_url)).encode(record)
    assert framed[:1] == b"\x00"
    single = AvroCodec("settlement_result").encode(record)
    render = ResultLines(TOPICS, SchemaRegistry(registry_url))
    lines = [render(r, Tally()) for r in _records([framed, single])]
    assert lines[0] is not None and lines[1] is None  # one result, twice: printed once
    assert lines[0]["result"] == result.to_record()


def test_dead_letters_cannot_be_chosen_by_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    with pytest.raises(XsettleError, match=r"^--claim cannot select dead letters"):
        print_results(Settings(), from_beginning=True, follow=False, claim="C", dead_letters=True)


# -- dead letters -----------------------------------------------------------------------


def _letter(payload: bytes | None, key: bytes | None = b"P-1", topic: str = TOPICS.requests):
    return dead_letter(Origin(topic, 2, 41, key), payload, "corrupt body", "insured", AT)


def test_a_dead_letter_line_names_the_letter_and_its_origin() -> None:
    codec = AvroCodec("dead_letter")
    record = SimpleNamespace(partition=5, offset=9, value=codec.encode(_letter(b"\x00bad")))
    line = LetterLines(codec, None)(record, Tally())
    assert line == {
        "letter": "5:9",
        "partition": 5,
        "offset": 9,
        "reason": "corrupt body",
        "source_topic": TOPICS.requests,
        "source_partition": 2,
        "source_offset": 41,
        "key": "P-1",
        "key_encoding": "utf-8",
        "key_sha256": None,
        "payload_size": 4,
        "payload_kept": True,
        "payload_sha256": hashlib.sha256(b"\x00bad").hexdigest(),
        "service": "insured",
        "failed_at": "2025-03-10T08:30:15.120Z",
    }


def test_binary_keys_are_base64_and_large_payloads_only_sized() -> None:
    big = b"\x01" * (KEPT_PAYLOAD + 1)
    line = letter_line(SimpleNamespace(partition=0, offset=1), _letter(big, key=b"\xff\xfe"))
    assert (line["key"], line["key_encoding"]) == ("//4=", "base64")
    assert line["payload_kept"] is False and line["payload_size"] == len(big)
    assert line["payload_sha256"] == hashlib.sha256(big).hexdigest()
    tombstone = letter_line(SimpleNamespace(partition=0, offset=2), _letter(None))
    assert tombstone["payload_size"] is None and tombstone["payload_kept"] is False
    assert tombstone["payload_sha256"] is None
    long_key = letter_line(SimpleNamespace(partition=0, offset=3), _letter(b"x", key=b"K" * 2000))
    assert (
        long_key["key"] is None
        and long_key["key_sha256"] == hashlib.sha256(b"K" * 2000).hexdigest()
    )


def test_dead_letters_by_person_match_the_original_key_once_per_source() -> None:
    codec = AvroCodec("dead_letter")
    values = [
        codec.encode(_letter(b"a")),
        codec.encode(_letter(b"a")),
        codec.encode(_letter(b"b", b"P-2")),
    ]
    tally = Tally()
    render = LetterLines(codec, "P-1")
    lines = [render(record, tally) for record in _records(values)]
    assert [line["letter"] if line else None for line in lines] == ["1:0", None, None]
    assert tally.skipped == {"duplicate": 1, "filtered out": 1}


def test_what_cannot_be_replayed_says_why() -> None:
    assert unreplayable(_letter(b"\x00bad"), TOPICS) is None
    assert unreplayable(_letter(b"", topic=TOPICS.claims), TOPICS) is None  # an empty value
    too_large = unreplayable(_letter(b"\x01" * (KEPT_PAYLOAD + 1)), TOPICS)
    assert too_large is not None and too_large.startswith(
        "payload not kept: 262,145 bytes, over the 262,144-byte limit"
    )
    assert "tombstone" in (unreplayable(_letter(None), TOPICS) or "")
    assert "key not kept" in (unreplayable(_letter(b"x", key=b"K" * 2000), TOPICS) or "")
    elsewhere = unreplayable(_letter(b"x", topic="other.claims.v1"), TOPICS)
    assert elsewhere is not None and "not one of this exchange's input topics" in elsewhere


def test_a_dead_letter_is_named_partition_colon_offset(capsys: pytest.CaptureFixture[str]) -> None:
    assert letter_position("3:17") == (3, 17)
    assert letter_position(" 0:0 ") == (0, 0)
    for bad in ("3-17", "3:", ":4", "a:b", "-1:2"):
        with pytest.raises(XsettleError, match="expected PARTITION:OFFSET"):
            letter_position(bad)
    assert main(["dead-letters", "replay", "--offset", "3/17"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("xsettle: --offset '3/17': expected PARTITION:OFFSET")
        and err.count("\n") == 1
    )


def test_the_parser_knows_the_console_commands() -> None:
    parser = build_parser()
    args = parser.parse_args(["results", "--from-beginning", "--person", "P", "--claim", "C"])
    assert (args.from_beginning, args.follow, args.person, args.claim) == (True, False, "P", "C")
    args = parser.parse_args(["dead-letters", "replay", "--offset", "1:2", "--offset", "3:4"])
    assert args.offset == ["1:2", "3:4"] and not args.all
    assert parser.parse_args(["dead-letters", "list", "--follow"]).follow
    assert parser.parse_args(["submit"]).file is None
    for wrong in (
        ["dead-letters", "replay"],
        ["dead-letters", "replay", "--all", "--offset", "1:2"],
    ):
        with pytest.raises(SystemExit):
            parser.parse_args(wrong)
