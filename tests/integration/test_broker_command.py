"""``xsettle broker``: the embedded broker with the exchange's topics, until stopped."""

import os
import signal
import socket
import subprocess
import sys

from kafka import KafkaAdminClient

from xsettle.exchange.contract.topics import Topics
from xsettle.settings import EMBEDDED_PARTITIONS


def test_the_broker_command_serves_the_topics_and_frees_its_port_when_stopped() -> None:
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    env["XSETTLE_NAMESPACE"] = "brokercmd"
    command = subprocess.Popen(
        [sys.executable, "-m", "xsettle.cli", "broker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert command.stdout is not None
        first = command.stdout.readline().split()
        settings = dict(part.split("=", 1) for part in first)
        assert settings["XSETTLE_EMBEDDED_BROKER"] == "1"
        assert settings["XSETTLE_PARTITIONS"] == str(EMBEDDED_PARTITIONS)  # Tansu's default
        bootstrap = settings["KAFKA_BOOTSTRAP_SERVERS"]
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            names = [spec.name for spec in Topics("brokercmd").specs(EMBEDDED_PARTITIONS)]
            described = {d["name"]: len(d["partitions"]) for d in admin.describe_topics(names)}
        finally:
            admin.close()
        assert described == dict.fromkeys(names, EMBEDDED_PARTITIONS)
    finally:
        command.send_signal(signal.SIGTERM)
        code = command.wait(timeout=20)
    assert code == 143
    assert "terminated" in command.stderr.read()  # type: ignore[union-attr]
    host, port = bootstrap.split(":")
    with socket.socket() as probe:
        assert probe.connect_ex((host, int(port))) != 0, "the port is free again"
