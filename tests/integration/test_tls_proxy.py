"""The security settings exercised for real: the services and the CLI over TLS.

The embedded broker's own TLS does not work in this build (its ``--cert`` and ``--key``
are refused together), so Debian's ``stunnel4`` terminates TLS in front of it, with a
CA and a server certificate made at test time by the ``openssl`` command. Tansu
advertises the proxy's port, so every connection a client makes after bootstrap goes
through the proxy too. Everything runs with ``KAFKA_SECURITY_PROTOCOL=SSL`` and
``KAFKA_SSL_CAFILE``: a worker pair settles a scenario as offline, ``xsettle settle
--via-kafka`` prints exactly what ``xsettle settle`` prints, a client that does not
trust the test CA is refused, and the workers' logs at INFO name no person and no amount.
"""

import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from xsettle.exchange.contract.records import record_answer
from xsettle.exchange.processes.broker import EmbeddedBroker
from xsettle.exchange.processes.host import die_with_parent, free_port
from xsettle.exchange.processes.security import Security
from xsettle.pipeline.client import ExchangeClient
from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.scenario_run import person_key, submit_scenario
from xsettle.settings import VARIABLES, Settings
from xsettle.traffic import generate_day

TIMEOUT = 90.0
STUNNEL = shutil.which("stunnel4") or shutil.which("stunnel")
pytestmark = pytest.mark.skipif(
    STUNNEL is None or shutil.which("openssl") is None,
    reason="needs Debian's stunnel4 and openssl (make test installs stunnel4 with apt-get "
    "when run as root)",
)


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _certificates(directory: Path) -> Path:
    """A test CA (``ca.pem``) and a server certificate for 127.0.0.1 signed by it
    (``server.pem``, ``server.key``), made in ``directory``."""
    directory.mkdir()
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
             "-subj", "/CN=xsettle test CA", cwd=directory)  # fmt: skip
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=directory)  # fmt: skip
    (directory / "server.ext").write_text(
        "subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n"
    )
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "1",
             "-extfile", "server.ext", cwd=directory)  # fmt: skip
    return directory


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"stunnel exited with {process.returncode}: {log.read_text()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"stunnel not listening on {port}: {log.read_text()}")


@pytest.fixture
def tls_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """Tansu behind stunnel, and the environment of an SSL client of it (for this
    process and, through the settings, every worker and CLI it starts); yields the
    TLS bootstrap server and the proxy's log."""
    certs = _certificates(tmp_path / "certs")
    tansu_port, tls_port = free_port(), free_port()
    assert tansu_port != tls_port
    log = tmp_path / "stunnel.log"
    config = tmp_path / "stunnel.conf"
    config.write_text(
        "foreground = yes\npid =\ndebug = info\n"
        f"output = {log}\n"
        "[kafka]\n"
        f"accept = 127.0.0.1:{tls_port}\n"
        f"connect = 127.0.0.1:{tansu_port}\n"
        f"cert = {certs / 'server.pem'}\n"
        f"key = {certs / 'server.key'}\n"
    )
    for variable in VARIABLES.values():  # only what this test sets
        monkeypatch.delenv(variable, raising=False)
    bootstrap = f"127.0.0.1:{tls_port}"
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("XSETTLE_EMBEDDED_BROKER", "1")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(certs / "ca.pem"))
    monkeypatch.setenv("XSETTLE_LOG_LEVEL", "info")
    monkeypatch.setenv("XSETTLE_DATA_DIR", str(tmp_path / "data"))
    with EmbeddedBroker(tmp_path / "broker.log", port=tansu_port, advertised_port=tls_port):
        proxy = subprocess.Popen(
            [str(STUNNEL), str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        try:
            _wait_port(tls_port, proxy, log)
            yield bootstrap, log
        finally:
            proxy.terminate()
            proxy.wait(10)


def _amounts(records: list[dict[str, object]]) -> set[str]:
    """The money in the results, each as written (``1234.56``), from 100 yuan up: a
    smaller figure could be any number in a log line."""
    return {
        value
        for record in records
        for value in record.values()
        if isinstance(value, str) and re.fullmatch(r"\d+\.\d\d", value) and Decimal(value) >= 100
    }


def _handshake(security: Security) -> str | None:
    """Why a TLS handshake with the proxy under these settings fails, or None."""
    host, port = Settings().require_bootstrap().rsplit(":", 1)
    try:
        with (
            socket.create_connection((host, int(port)), timeout=5) as raw,
            security.ssl_context().wrap_socket(raw, server_hostname=host),
        ):
            return None
    except ssl.SSLError as error:
        return str(error)


def _settle_cli(scenario: Path, *more: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "xsettle.cli", "settle", "--scenario", str(scenario), *more],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=dict(os.environ),
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_services_and_cli_settle_over_tls(
    tls_broker: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap, proxy_log = tls_broker

    # The proxy's certificate is checked: trusted through KAFKA_SSL_CAFILE, not without.
    assert _handshake(Security.from_env()) is None
    refused = _handshake(Security(Settings(security_protocol="SSL", ssl_cafile=None)))
    assert refused is not None and "CERTIFICATE_VERIFY_FAILED" in refused, refused

    scenario = generate_day(claims=240, persons=40, seed=31)
    exchange = scenario.exchange()
    expected = [exchange.process(event).to_record() for event in scenario.events]
    with Cluster(scenario, tmp_path / "run") as cluster:
        client = ExchangeClient(cluster.bootstrap, cluster.topics)
        try:
            request_ids = submit_scenario(client, scenario.events, "tls")
            found = client.collect(request_ids, TIMEOUT)
        finally:
            client.close()
        logs = {worker.service: worker.log_path for worker in cluster.workers}
    assert cluster.bootstrap == bootstrap
    assert [record_answer(found[rid]).to_record() for rid in request_ids] == expected

    # The CLI, with the same settings: its own isolated run through the same proxy.
    small = scenario.model_copy(update={"events": scenario.events[:60]})
    path = tmp_path / "scenario.json"
    path.write_text(small.model_dump_json(by_alias=True), "utf-8")
    offline = _settle_cli(path)
    assert len(offline.splitlines()) == 60
    assert _settle_cli(path, "--via-kafka") == offline

    accepted = proxy_log.read_text(errors="replace").count("accepted connection")
    assert accepted >= 10, f"only {accepted} connections went through the TLS proxy"

    # The workers logged at INFO, and named no person and no amount.
    persons = {person for event in scenario.events if (person := person_key(event))}
    amounts = _amounts(expected)
    assert len(persons) >= 30 and len(amounts) >= 100
    for service, log in logs.items():
        text = log.read_text(errors="replace")
        assert re.search(r"\bINFO\b", text), f"{service} logged nothing at INFO: {log}"
        named = sorted(p for p in persons if p in text)
        assert named == [], f"{service} log names persons {named[:5]}: {log}"
        money = sorted(a for a in amounts if re.search(rf"(?<![\d.]){re.escape(a)}(?!\d)", text))
        assert money == [], f"{service} log shows amounts {money[:5]}: {log}"
