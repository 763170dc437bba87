"""The console tools as a user runs them, in their own processes, against a running exchange.

``xsettle submit`` → the services → ``xsettle results`` gives the offline engine's
results (the same lines as ``xsettle settle`` prints, inside their envelope), once per
``result_id``; ``xsettle dead-letters list`` shows garbage sent to the request topic and
``replay`` puts it back on its source, where it fails again into a second dead letter
of the same payload, while a payload too large to have been kept is skipped with a line.
"""

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from xsettle.exchange.processes.security import client_options
from xsettle.pipeline.cluster import Cluster
from xsettle.traffic import TrafficMix, generate_day

TIMEOUT = 60.0


def _xsettle(cluster: Cluster, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [sys.executable, "-m", "xsettle.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=_environ(cluster),
        check=False,
    )
    if check:
        assert run.returncode == 0, run.stderr
    return run


def _environ(cluster: Cluster) -> dict[str, str]:
    assert cluster.settings is not None
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap,
        "XSETTLE_NAMESPACE": cluster.settings.namespace,
    }


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def _until(what: str, probe: Any, done: Any) -> Any:
    """``probe()`` again until ``done(value)``, within the timeout."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        value = probe()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"{what}: not within {TIMEOUT:.0f} s: {value}"
        time.sleep(0.5)


def test_submit_then_results_equal_offline(broker_env: object, tmp_path: Path) -> None:
    # Claims and insured-side events (filings, enrolments, …): two topics, one order.
    scenario = generate_day(claims=120, persons=20, seed=31, mix=TrafficMix(life_cycle=0.2))
    assert {"settle", "file", "enrol"} <= {event.get("kind") for event in scenario.events}
    exchange = scenario.exchange()
    expected = [exchange.process(event).to_record() for event in scenario.events]
    lines = [
        json.dumps({**event, "request_id": f"cli-{i}"}) for i, event in enumerate(scenario.events)
    ]
    keyed = [
        i for i, event in enumerate(scenario.events) if isinstance(event.get("person_id"), str)
    ]
    # Two lines that cannot be keyed, reported by line number and skipped.
    lines[2:2] = ["{not json", json.dumps({"kind": "reverse", "claim_id": "C-1"})]
    claims = tmp_path / "claims.jsonl"
    claims.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with Cluster(scenario, tmp_path / "run") as cluster:
        # Its output goes to a file: a pipe nobody reads fills up (64 KB) and stalls it.
        followed_file = (tmp_path / "followed.jsonl").open("w")
        follower = subprocess.Popen(
            [sys.executable, "-m", "xsettle.cli", "results", "--follow"],
            stdout=followed_file,
            stderr=subprocess.PIPE,
            text=True,
            env=_environ(cluster),
        )
        try:
            # Reading from the end: wait until it is there before anything is sent.
            ready, _, _ = select.select([follower.stderr], [], [], TIMEOUT)
            assert ready, "xsettle results --follow did not start"
            started = follower.stderr.readline()
            assert started.startswith(
                f"xsettle: reading new records on {cluster.topics.results} and "
                f"{cluster.topics.registry_results}"
            ), started
            assert started.rstrip().endswith("; following, Ctrl-C stops")
            strict = _xsettle(cluster, "submit", "--strict", str(claims), check=False)
            assert strict.returncode == 2 and strict.stdout == ""
            assert strict.stderr == (
                f"xsettle: {claims}: line 3: not JSON: Expecting property name enclosed in "
                "double quotes at column 2; nothing sent (--strict)\n"
            )
            sent = _xsettle(cluster, "submit", str(claims))
            err = sent.stderr.splitlines()
            assert err[0] == (
                "xsettle: line 3 skipped: not JSON: Expecting property name enclosed in double "
                "quotes at column 2"
            )
            assert (
                err[1]
                == "xsettle: line 4 skipped: no person_id: every event is keyed by its person"
            )
            persons = len({scenario.events[i]["person_id"] for i in keyed})
            summary = err[-1]
            assert summary.startswith(
                f"submit: {len(keyed)} events of {persons} persons sent in "
            ), summary
            assert f" to {cluster.topics.claims}, " in summary
            assert f" to {cluster.topics.person_events}); waited " in summary
            assert summary.endswith("; 2 lines skipped (3, 4)")

            wanted = {f"cli-{i}" for i in keyed}

            def every_result() -> list[dict[str, Any]]:
                return _lines(_xsettle(cluster, "results", "--from-beginning").stdout)

            results = _until(
                "every result",
                every_result,
                lambda found: wanted <= {line["request_id"] for line in found},
            )
            by_request = {line["request_id"]: line for line in results}
            assert len(by_request) == len(results), "a result printed twice"
            for i in keyed:
                assert by_request[f"cli-{i}"]["result"] == expected[i], i

            # A redelivered result (same id) is printed once and counted as a duplicate.
            first = next(line for line in results if "claim_id" in line and line["person_id"])
            raw = KafkaProducer(bootstrap_servers=cluster.bootstrap, **client_options())
            try:
                value = _raw_result(cluster, first["result_id"])
                raw.send(cluster.topics.results, value, key=first["person_id"].encode())
                raw.flush()
            finally:
                raw.close()
            again = _until(
                "the duplicate read",
                lambda: _xsettle(cluster, "results", "--from-beginning"),
                lambda run: "1 duplicate" in run.stderr,
            )
            assert _lines(again.stdout) == results
            summary = again.stderr.splitlines()[-1]
            assert summary.startswith(
                f"results: {len(results)} printed of {len(results) + 1} read from "
                f"{cluster.topics.results} and {cluster.topics.registry_results}; "
                "skipped 1 duplicate ("
            )

            person = first["person_id"]
            mine = _lines(
                _xsettle(cluster, "results", "--from-beginning", "--person", person).stdout
            )
            assert mine == [line for line in results if line["person_id"] == person]
            claim = first["claim_id"]
            one = _lines(
                _xsettle(
                    cluster, "results", "--from-beginning", "--person", person, "--claim", claim
                ).stdout
            )
            assert one and all(line["claim_id"] == claim for line in one)
        finally:
            follower.send_signal(signal.SIGINT)  # following ends with Ctrl-C
            _, follow_err = follower.communicate(timeout=30)
            followed_file.close()
    followed = (tmp_path / "followed.jsonl").read_text(encoding="utf-8")
    # It started at the end, before anything was submitted, and so saw every result.
    assert follower.returncode == 0, follow_err
    assert {line["request_id"] for line in _lines(followed)} >= wanted, follow_err
    assert follow_err.splitlines()[-1].startswith("results: ")


def _raw_result(cluster: Cluster, result_id: str) -> bytes:
    """The bytes of a published result (to publish them again)."""
    from xsettle.exchange.contract.codec import AvroCodec
    from xsettle.exchange.processes.topic_reader import read_topic

    codec = AvroCodec("settlement_result")
    for record in read_topic(cluster.bootstrap, cluster.topics.results):
        if codec.decode(record.value)["result_id"] == result_id:
            return bytes(record.value)
    raise AssertionError(f"result {result_id} not on the topic")


def test_dead_letters_are_listed_and_replayed(broker_env: object, tmp_path: Path) -> None:
    scenario = generate_day(claims=10, persons=5, seed=5)
    poison = b"\x00\x00\x00\x00\x07garbage"
    too_large = b"\x01" * 300_000
    with Cluster(scenario, tmp_path) as cluster:
        raw = KafkaProducer(
            bootstrap_servers=cluster.bootstrap, max_request_size=2_000_000, **client_options()
        )
        try:
            raw.send(cluster.topics.requests, poison, key=b"P-POISON")
            raw.send(cluster.topics.requests, too_large, key=b"\xffP-BINARY")
            raw.flush()
        finally:
            raw.close()

        def listed() -> list[dict[str, Any]]:
            return _lines(_xsettle(cluster, "dead-letters", "list", "--from-beginning").stdout)

        letters = _until("two dead letters", listed, lambda found: len(found) >= 2)
        assert len(letters) == 2
        small = next(letter for letter in letters if letter["key"] == "P-POISON")
        large = next(letter for letter in letters if letter is not small)
        assert small["letter"] == f"{small['partition']}:{small['offset']}"
        assert (small["source_topic"], small["service"]) == (cluster.topics.requests, "insured")
        assert (small["payload_size"], small["payload_kept"]) == (len(poison), True)
        assert small["reason"] and small["key_encoding"] == "utf-8"
        assert (large["key"], large["key_encoding"]) == ("/1AtQklOQVJZ", "base64")
        assert (large["payload_size"], large["payload_kept"]) == (len(too_large), False)

        replay = _xsettle(
            cluster,
            "dead-letters",
            "replay",
            "--offset",
            small["letter"],
            "--offset",
            large["letter"],
        )
        out = replay.stdout.splitlines()
        assert len(out) == 2
        assert out[0].startswith(
            f"replayed {small['letter']} ({cluster.topics.requests} "
            f"{small['source_partition']}:{small['source_offset']}) → {cluster.topics.requests} "
            f"{small['source_partition']}:"
        )
        assert out[1].startswith(
            f"skipped {large['letter']}: payload not kept: 300,000 bytes, over the 262,144-byte "
            f"limit of a dead letter (sha256 {large['payload_sha256']})"
        )
        assert replay.stderr.splitlines()[-1].startswith(
            "dead letters: 1 replayed, 1 skipped of 2 ("
        )

        # Replayed unchanged, it fails again: a second letter of the same payload and key,
        # from a later offset of the same source partition.
        letters = _until("the replay's dead letter", listed, lambda found: len(found) >= 3)
        assert len(letters) == 3
        (second,) = [
            letter
            for letter in letters
            if letter["key"] == "P-POISON" and letter["letter"] != small["letter"]
        ]
        assert second["payload_sha256"] == small["payload_sha256"]
        assert (second["source_topic"], second["source_partition"]) == (
            cluster.topics.requests,
            small["source_partition"],
        )
        assert second["source_offset"] > small["source_offset"]

        # The same letters through `xsettle results --dead-letters`, chosen by key.
        poisoned = _xsettle(
            cluster, "results", "--dead-letters", "--from-beginning", "--person", "P-POISON"
        )
        assert {line["letter"] for line in _lines(poisoned.stdout)} == {
            small["letter"],
            second["letter"],
        }
