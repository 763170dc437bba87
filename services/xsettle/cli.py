"""``xsettle``: the command line. Thin: it parses arguments and calls the services."""

import argparse
import json
import sys
from pathlib import Path

from .scenario import ScenarioError, load_scenario


def _settle(args: argparse.Namespace) -> int:
    scenario = load_scenario(Path(args.scenario))
    if args.via_kafka:
        from .pipeline.scenario_run import settle_via_kafka

        results = settle_via_kafka(scenario)
    else:
        exchange = scenario.exchange()
        results = [exchange.process(event) for event in scenario.events]
    out = sys.stdout
    for result in results:
        out.write(json.dumps(result.to_record(), ensure_ascii=False) + "\n")
    return 0


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
    settle.set_defaults(handler=_settle)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ScenarioError as error:
        print(f"xsettle: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xsettle: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
