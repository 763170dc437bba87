"""``xsettle``: the command line. Thin: it parses arguments and calls the services."""

import argparse
import gc
import json
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import XsettleError
from .scenario import load_scenario
from .settings import Settings

if TYPE_CHECKING:
    import faust

DAY_CLAIMS, DAY_PERSONS, DAY_RATE = 5_000, 500, 100.0
"""``xsettle run``'s default day and pace (events/s): what the whole demo (both services,
the dashboard and the clearing service on the embedded broker) keeps up with on a
2-core machine with latency to spare. Measured on the idle machine: p99 336 and 306 ms
(two runs); a 10,000-claim day ended at p99 0.6 s with other work running, as the
embedded broker, which lists all of a partition's batches on each fetch, slows the day
(see the README's "The day's pace"). A day sent faster queues, and its latencies then
measure the queue."""


def _settle(args: argparse.Namespace) -> int:
    if args.chaos and not args.via_kafka:
        raise XsettleError("--chaos needs --via-kafka: the drill kills the pipeline's workers")
    scenario = load_scenario(Path(args.scenario))
    out = sys.stdout
    if not args.via_kafka:
        # Each result as soon as it is computed: a long scenario shows progress at once.
        exchange = scenario.exchange()
        for event in scenario.events:
            out.write(json.dumps(exchange.process(event).to_record(), ensure_ascii=False) + "\n")
            out.flush()
        return 0
    from .pipeline.scenario_run import settle_via_kafka

    results, summary = settle_via_kafka(scenario, chaos=args.chaos)
    for result in results:
        out.write(json.dumps(result.to_record(), ensure_ascii=False) + "\n")
    out.flush()
    if summary is not None:
        print(summary, file=sys.stderr)
    return 0


def _clearing(args: argparse.Namespace) -> int:
    """§6 clearing statements of a whole scenario, settled offline."""
    from .engine.clearing import statement

    if args.scenario is None:
        raise XsettleError("clearing needs --scenario S (offline), or: clearing close PERIOD")
    scenario = load_scenario(Path(args.scenario))
    exchange = scenario.exchange()
    facts = (facts for event in scenario.events if (facts := exchange.step(event)[1]))
    # Statement lines are totals over the whole scenario: they exist only at its end.
    for line in statement(facts):
        sys.stdout.write(json.dumps(line.to_record(), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


def _clearing_close(args: argparse.Namespace) -> int:
    from .clearing.control import close_period

    return close_period(Settings.from_env(), args.period)


def _reconcile(args: argparse.Namespace) -> int:
    from .clearing.reconcile import reconcile_command

    return reconcile_command(Settings.from_env(), args.period)


def _events_per_second(text: str) -> float:
    """``--rate``: a positive number of events per second."""
    rate = float(text)
    if not rate > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a positive number of events/s")
    return rate


def _run(args: argparse.Namespace) -> int:
    from .pipeline.demo import run_day

    rate = None if args.burst else args.rate
    return run_day(args.claims, args.persons, args.keep_serving, args.timeout, rate)


def _bench(args: argparse.Namespace) -> int:
    from .bench.run import run_bench

    json_path = Path(args.json) if args.json else None
    if args.fill_curve:
        from .bench.run import run_fill_curve

        return run_fill_curve(json_path)
    return run_bench(args.quick, json_path, args.engine_only)


def _broker(args: argparse.Namespace) -> int:
    """The exchange's broker with its topics, until Ctrl-C: the embedded Tansu on a free
    loopback port (or ``--port``), or, with ``KAFKA_BOOTSTRAP_SERVERS`` set, that cluster."""
    import uuid

    from .exchange.contract.topics import Topics
    from .exchange.processes.broker import ensure_topics, open_broker

    # Its directory is made only when a Tansu starts: none for a configured cluster.
    log = Path(tempfile.gettempdir()) / f"xsettle-broker-{uuid.uuid4().hex[:8]}" / "broker.log"
    with open_broker(Settings.from_env(), log_path=log, port=args.port) as broker:
        settings = broker.settings
        specs = Topics(settings.namespace).specs(settings.partitions)
        ensure_topics(broker.bootstrap, specs)
        print(
            f"KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap} "
            f"XSETTLE_EMBEDDED_BROKER={int(settings.embedded)} "
            f"XSETTLE_PARTITIONS={settings.partitions}",
            flush=True,
        )
        print(
            f"xsettle: {len(specs)} topics of {settings.partitions} partitions ready "
            f"({', '.join(spec.name for spec in specs)})",
            file=sys.stderr,
        )
        if broker.tansu is None:
            return 0
        print("xsettle: serving; Ctrl-C stops the broker and frees the port", file=sys.stderr)
        while broker.tansu.alive():
            time.sleep(0.5)
        raise XsettleError(f"the embedded broker exited; see {log}")


def _topics(args: argparse.Namespace) -> int:
    """Create the public topics (idempotent): the deploy's one-shot set-up step."""
    from .exchange.contract.topics import Topics
    from .exchange.processes.broker import ensure_topics

    settings = Settings.from_env()
    specs = Topics(settings.namespace).specs(settings.partitions)
    ensure_topics(settings.require_bootstrap("xsettle topics"), specs)
    for spec in specs:
        print(f"{spec.name}: {spec.partitions} partitions")
    return 0


def _worker(args: argparse.Namespace) -> int:
    """Run one service worker until SIGTERM (what containers and the cluster start)."""
    from .exchange.contract.topics import Topics
    from .exchange.processes.broker import ensure_topics
    from .exchange.runtime.worker import Worker

    settings = Settings.from_env()
    bootstrap = settings.require_bootstrap("a worker")
    ensure_topics(bootstrap, Topics(settings.namespace).specs(settings.partitions))
    app = _service_builder(args.service)(settings)
    worker = Worker(app, loglevel=settings.log_level, quiet=True)
    # faust's terminal spinner lowers the root logger to DEBUG so that it can spin on
    # every record; then every aiokafka/faust debug call builds a LogRecord (measured:
    # 5-8% of a worker's CPU). A worker logs to a file, so it has nothing to spin.
    worker.spinner = None
    # The reference data (persons, policies, catalogs) and the loaded modules live as
    # long as the worker: kept out of the collector's full passes, which would scan
    # them over and over, each pass a pause of every agent.
    gc.freeze()
    worker.execute_from_commandline()
    return 0


def _service_builder(service: str) -> Callable[[Settings], "faust.App"]:
    if service == "treatment":
        from .treatment.app import build
    elif service == "insured":
        from .insured.app import build
    elif service == "clearing":
        from .clearing.app import build
    else:
        from .dashboard.app import build
    return build


def _submit(args: argparse.Namespace) -> int:
    from .tools.submit import submit

    return submit(Settings.from_env(), args.file, strict=args.strict)


def _results(args: argparse.Namespace) -> int:
    from .tools.results import print_results

    return print_results(
        Settings.from_env(),
        from_beginning=args.from_beginning,
        follow=args.follow,
        person=args.person,
        claim=args.claim,
        dead_letters=args.dead_letters,
    )


def _dead_letters_list(args: argparse.Namespace) -> int:
    from .tools.dead_letters import list_letters

    return list_letters(Settings.from_env(), from_beginning=args.from_beginning, follow=args.follow)


def _dead_letters_replay(args: argparse.Namespace) -> int:
    from .tools.dead_letters import letter_position, replay_letters

    positions = None if args.all else [letter_position(text) for text in args.offset]
    return replay_letters(Settings.from_env(), positions)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xsettle", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    settle = commands.add_parser("settle", help="settle a scenario; JSON Lines on stdout")
    settle.add_argument("--scenario", required=True, help="scenario file (YAML or JSON)")
    settle.add_argument(
        "--via-kafka",
        action="store_true",
        help="run the events through the real services and topics",
    )
    settle.add_argument(
        "--chaos",
        type=int,
        default=0,
        metavar="N",
        help="fault drill (with --via-kafka): SIGKILL a worker N times and stall the broker once",
    )
    settle.set_defaults(handler=_settle)
    clearing = commands.add_parser(
        "clearing", help="monthly clearing statements of a scenario (清算); JSON Lines on stdout"
    )
    clearing.add_argument("--scenario", help="scenario file (YAML or JSON): offline statements")
    clearing.set_defaults(handler=_clearing)
    clearing_actions = clearing.add_subparsers(dest="action")
    close = clearing_actions.add_parser(
        "close", help="close a period: the clearing service publishes its statement lines"
    )
    close.add_argument("period", help="YYYY-MM")
    close.set_defaults(handler=_clearing_close)
    reconcile = commands.add_parser(
        "reconcile",
        help="对账: the treatment location's payouts against the insured location's results",
    )
    reconcile.add_argument("--period", required=True, help="YYYY-MM")
    reconcile.set_defaults(handler=_reconcile)
    run = commands.add_parser(
        "run", help="a day of traffic through broker and services, with a report"
    )
    run.add_argument(
        "--claims", type=int, default=DAY_CLAIMS, help=f"claims in the day ({DAY_CLAIMS})"
    )
    run.add_argument(
        "--persons", type=int, default=DAY_PERSONS, help=f"insured persons ({DAY_PERSONS})"
    )
    run.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for all results (600)"
    )
    pace = run.add_mutually_exclusive_group()
    pace.add_argument(
        "--rate",
        type=_events_per_second,
        default=DAY_RATE,
        help=f"events/s offered, steadily (default {DAY_RATE:,.0f}, measured on 2 cores)",
    )
    pace.add_argument(
        "--burst", action="store_true", help="send the whole day at once (a queue's latency)"
    )
    run.add_argument(
        "--keep-serving",
        action="store_true",
        help="keep the pipeline and dashboard up until Ctrl-C",
    )
    run.set_defaults(handler=_run)
    bench = commands.add_parser(
        "bench", help="engine, raw broker round trip and pipeline, side by side"
    )
    bench.add_argument("--quick", action="store_true", help="a smoke run (under 90 s)")
    bench.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    bench.add_argument("--engine-only", action="store_true", help="only the engine")
    bench.add_argument(
        "--fill-curve",
        action="store_true",
        help="only the fill curve, at the full bench's points (about ten minutes)",
    )
    bench.set_defaults(handler=_bench)
    broker = commands.add_parser(
        "broker", help="run the embedded broker with the exchange's topics until Ctrl-C"
    )
    broker.add_argument("--port", type=int, help="loopback port (default: a free one)")
    broker.set_defaults(handler=_broker)
    topics = commands.add_parser("topics", help="create the public topics and exit")
    topics.set_defaults(handler=_topics)
    worker = commands.add_parser("worker", help="run one service worker (reads the environment)")
    worker.add_argument("service", choices=["treatment", "insured", "dashboard", "clearing"])
    worker.set_defaults(handler=_worker)
    _add_console_tools(commands)
    return parser


def _add_console_tools(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """``submit``, ``results`` and ``dead-letters``: the topics from a terminal."""
    reading = argparse.ArgumentParser(add_help=False)
    reading.add_argument(
        "--from-beginning",
        action="store_true",
        help="from the oldest retained record, ending at the topic's end (without it: "
        "only new records, followed until Ctrl-C)",
    )
    reading.add_argument(
        "--follow", action="store_true", help="keep reading new records until Ctrl-C"
    )
    submit = commands.add_parser(
        "submit", help="publish JSON Lines of claims and events (file or stdin), keyed by person"
    )
    submit.add_argument("file", nargs="?", help="JSON Lines file (default or '-': stdin)")
    submit.add_argument(
        "--strict", action="store_true", help="stop at the first line that cannot be sent"
    )
    submit.set_defaults(handler=_submit)
    results = commands.add_parser(
        "results", parents=[reading], help="the result topic as JSON Lines, deduped by result_id"
    )
    results.add_argument("--person", metavar="P", help="only this person's results")
    results.add_argument("--claim", metavar="C", help="only this claim's results")
    results.add_argument(
        "--dead-letters", action="store_true", help="the dead-letter topic instead"
    )
    results.set_defaults(handler=_results)
    letters = commands.add_parser("dead-letters", help="list dead letters, or replay them")
    actions = letters.add_subparsers(dest="action", required=True)
    listing = actions.add_parser(
        "list", parents=[reading], help="dead letters as JSON Lines, each named PARTITION:OFFSET"
    )
    listing.set_defaults(handler=_dead_letters_list)
    replay = actions.add_parser(
        "replay", help="put kept payloads back on their source topic, with their key"
    )
    chosen = replay.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "--offset",
        action="append",
        metavar="P:O",
        help="the dead letter at partition P, offset O (repeatable)",
    )
    chosen.add_argument("--all", action="store_true", help="every dead letter on the topic")
    replay.set_defaults(handler=_dead_letters_replay)


class Terminated(Exception):
    """SIGTERM, raised where the program is, so ``with`` blocks stop what they started."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # A worker's SIGTERM is faust's to handle (it installs its own handler).
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.handler(args)
    except XsettleError as error:
        print(f"xsettle: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xsettle: interrupted; broker and services stopped", file=sys.stderr)
        return 130
    except Terminated:
        print("xsettle: terminated; broker and services stopped", file=sys.stderr)
        return 143


if __name__ == "__main__":
    sys.exit(main())
