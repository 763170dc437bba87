"""The settings: the one reader of the environment, one-line errors naming the variable,
and the one choice of broker."""

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xsettle.cli import main
from xsettle.errors import XsettleError
from xsettle.exchange.contract.registry import registry_from_env
from xsettle.exchange.processes.broker import open_broker
from xsettle.exchange.processes.security import Security, client_options
from xsettle.settings import EMBEDDED_PARTITIONS, VARIABLES, Settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services" / "xsettle"
SETTINGS_MODULE = SERVICES / "settings.py"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No settings variable set, whatever the shell running the tests exported."""
    for variable in VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_nothing_outside_the_settings_module_reads_the_environment() -> None:
    reader = re.compile(r"\bos\.(environ|getenv|putenv|unsetenv)\b|from os import[^\n]*environ")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted(SERVICES.rglob("*.py"))
        if path != SETTINGS_MODULE
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if reader.search(line)
    ]
    assert not found, "read the environment through xsettle.settings.Settings:\n" + "\n".join(found)


def test_the_readme_table_lists_exactly_the_variables_read() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    table = readme[readme.index("| `KAFKA_BOOTSTRAP_SERVERS` |") :].split("\n\n")[0]
    listed = {
        name
        for row in table.splitlines()
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])
    }
    assert listed == set(VARIABLES.values())


def test_defaults_with_nothing_set() -> None:
    settings = Settings()
    assert settings.bootstrap is None
    assert settings.embedded is False, "embedded only when said so"
    assert (settings.namespace, settings.partitions, settings.web_port) == ("xsettle", 8, 0)
    assert settings.processing_guarantee == "at_least_once"
    assert settings.store == "memory://" and settings.log_level == "warning"
    assert settings.reference is None and settings.schema_registry_url is None
    assert settings.security_protocol == "PLAINTEXT" and not (settings.sasl or settings.tls)
    assert settings.data_dir.name == "xsettle"


def test_an_embedded_broker_has_its_own_partition_default(clean_env: pytest.MonkeyPatch) -> None:
    embedded = Settings().on_embedded("127.0.0.1:9")
    assert embedded.embedded and embedded.bootstrap == "127.0.0.1:9"
    assert embedded.partitions == EMBEDDED_PARTITIONS < Settings().partitions
    assert Settings().on_embedded("127.0.0.1:9", 1).partitions == 1  # the day's own
    clean_env.setenv("XSETTLE_PARTITIONS", "8")
    assert Settings().on_embedded("127.0.0.1:9").partitions == 8  # said, so kept
    assert Settings().on_embedded("127.0.0.1:9", 1).partitions == 8


@pytest.mark.parametrize(
    ("variable", "raw", "field", "value"),
    [
        ("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092", "bootstrap", "k1:9092,k2:9092"),
        ("XSETTLE_EMBEDDED_BROKER", "1", "embedded", True),
        ("XSETTLE_EMBEDDED_BROKER", "0", "embedded", False),
        ("XSETTLE_NAMESPACE", "run-7", "namespace", "run-7"),
        ("XSETTLE_PARTITIONS", "3", "partitions", 3),
        ("XSETTLE_PARTITIONS", "", "partitions", 8),
        ("XSETTLE_PRODUCER_LINGER_MS", "20", "producer_linger_ms", 20),
        ("XSETTLE_PRODUCER_BATCH_BYTES", "65536", "producer_batch_bytes", 65536),
        ("XSETTLE_REFERENCE", "/etc/ref.yaml", "reference", Path("/etc/ref.yaml")),
        ("XSETTLE_PROCESSING_GUARANTEE", "at_least_once", "processing_guarantee", "at_least_once"),
        ("XSETTLE_TABLE_STORE", "rocksdb://", "store", "rocksdb://"),
        ("XSETTLE_WEB_PORT", "6066", "web_port", 6066),
        ("XSETTLE_DATA_DIR", "/var/lib/xsettle", "data_dir", Path("/var/lib/xsettle")),
        ("XSETTLE_LOG_LEVEL", "INFO", "log_level", "info"),
        (
            "SCHEMA_REGISTRY_URL",
            "http://registry:8081",
            "schema_registry_url",
            "http://registry:8081",
        ),
        ("KAFKA_SECURITY_PROTOCOL", "ssl", "security_protocol", "SSL"),
        ("KAFKA_SASL_MECHANISM", "scram-sha-512", "sasl_mechanism", "SCRAM-SHA-512"),
        ("KAFKA_SASL_USERNAME", "bank", "sasl_username", "bank"),
        ("KAFKA_SSL_CAFILE", "/ca.pem", "ssl_cafile", "/ca.pem"),
        ("KAFKA_SSL_CERTFILE", "/c.pem", "ssl_certfile", "/c.pem"),
        ("KAFKA_SSL_KEYFILE", "/k.pem", "ssl_keyfile", "/k.pem"),
    ],
)
def test_each_variable_is_read(
    clean_env: pytest.MonkeyPatch, variable: str, raw: str, field: str, value: Any
) -> None:
    clean_env.setenv(variable, raw)
    assert getattr(Settings(), field) == value
    assert VARIABLES[field] == variable


def test_the_password_is_read_but_never_shown(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    clean_env.setenv("KAFKA_SASL_USERNAME", "bank")
    clean_env.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    settings = Settings()
    assert "s3cret" not in repr(settings)
    assert settings.environ()["KAFKA_SASL_PASSWORD"] == "s3cret"
    options = client_options(settings)
    assert options["sasl_plain_password"] == "s3cret"
    assert options["sasl_mechanism"] == "PLAIN" and options["security_protocol"] == "SASL_SSL"
    assert Security.from_env() == Security(settings)


@pytest.mark.parametrize(
    ("variable", "raw", "says"),
    [
        ("XSETTLE_PARTITIONS", "eight", "integer"),
        ("XSETTLE_PARTITIONS", "0", "at least 1"),
        ("XSETTLE_WEB_PORT", "70000", "port"),
        ("XSETTLE_EMBEDDED_BROKER", "maybe", "boolean"),
        ("XSETTLE_TABLE_STORE", "redis://", "memory:// or rocksdb://"),
        ("XSETTLE_PROCESSING_GUARANTEE", "at_most_once", "at_least_once"),
        ("XSETTLE_NAMESPACE", "a b", "letters"),
        ("XSETTLE_LOG_LEVEL", "loud", "warning"),
        ("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092,", "host:port"),
        ("SCHEMA_REGISTRY_URL", "registry:8081", "http"),
        ("KAFKA_SECURITY_PROTOCOL", "TLS", "SASL_SSL"),
        ("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME"),
        ("KAFKA_SASL_MECHANISM", "GSSAPI", "SCRAM-SHA-256"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    clean_env: pytest.MonkeyPatch, variable: str, raw: str, says: str
) -> None:
    clean_env.setenv(variable, raw)
    with pytest.raises(XsettleError) as error:
        Settings()
    line = str(error.value)
    assert line.startswith(f"{variable}="), line
    assert says in line and "\n" not in line, line


def test_exactly_once_was_removed_and_the_error_says_why(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("XSETTLE_PROCESSING_GUARANTEE", "exactly_once")
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    with pytest.raises(XsettleError) as error:
        Settings()
    line = str(error.value)
    assert line.startswith("XSETTLE_PROCESSING_GUARANTEE='exactly_once': exactly_once was removed")
    assert "transactions" in line and "at_least_once" in line and "\n" not in line


def test_the_cli_prints_a_bad_setting_as_its_one_line(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    clean_env.setenv("XSETTLE_PARTITIONS", "many")
    assert main(["topics"]) == 2
    assert capsys.readouterr().err.startswith("xsettle: XSETTLE_PARTITIONS='many': ")


def test_a_worker_without_a_broker_says_which_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["topics"]) == 2
    assert "KAFKA_BOOTSTRAP_SERVERS is not set" in capsys.readouterr().err


def test_keywords_override_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("XSETTLE_PARTITIONS", "3")
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "env:9092")
    settings = Settings(partitions=5, bootstrap=None)
    assert settings.partitions == 5 and settings.bootstrap is None
    with pytest.raises(XsettleError, match=r"^XSETTLE_PARTITIONS=-1: "):
        Settings(partitions=-1)


def test_but_validates_and_keeps_the_rest() -> None:
    settings = Settings(bootstrap="kafka:9092", partitions=3)
    changed = settings.but(web_port=6067)
    assert changed.web_port == 6067 and changed.partitions == 3 and settings.web_port == 0
    with pytest.raises(XsettleError, match=r"^XSETTLE_WEB_PORT="):
        settings.but(web_port=-1)


def test_environ_round_trips_every_setting() -> None:
    settings = Settings(
        bootstrap="k1:9092,k2:9092",
        embedded=True,
        namespace="n1",
        partitions=3,
        reference=Path("/r.yaml"),
        store="rocksdb://",
        web_port=6066,
        data_dir=Path("/data"),
        log_level="info",
        schema_registry_url="https://registry",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username="u",
        sasl_password="p",
        ssl_cafile="/ca",
        ssl_certfile="/c",
        ssl_keyfile="/k",
    )
    env = settings.environ()
    assert set(env) == set(VARIABLES.values())
    assert env["XSETTLE_EMBEDDED_BROKER"] == "1"
    assert Settings(**env).environ() == env


def test_a_child_gets_exactly_these_settings(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KAFKA_SASL_USERNAME", "stale")
    clean_env.setenv("XSETTLE_UNRELATED_TO_SETTINGS", "kept")
    settings = Settings(bootstrap="kafka:9092", sasl_username=None)
    env = settings.child_environ()
    assert "KAFKA_SASL_USERNAME" not in env, "a setting the object leaves unset is not inherited"
    assert env["XSETTLE_UNRELATED_TO_SETTINGS"] == "kept" and "PATH" in env
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


def test_a_run_on_a_shared_cluster_gets_its_own_namespace(clean_env: pytest.MonkeyPatch) -> None:
    assert Settings().isolated().namespace == "xsettle", "an embedded broker is the run's own"
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    first, second = Settings().isolated(), Settings().isolated()
    assert first.namespace.startswith("xsettle-") and first.namespace != second.namespace
    clean_env.setenv("XSETTLE_NAMESPACE", "chosen")
    assert Settings().isolated().namespace == "chosen"


def test_the_registry_comes_from_the_settings(clean_env: pytest.MonkeyPatch) -> None:
    assert registry_from_env() is None
    clean_env.setenv("SCHEMA_REGISTRY_URL", "http://registry:8081/")
    registry = registry_from_env()
    assert registry is not None and registry.url == "http://registry:8081"
    assert registry_from_env() is registry


def test_open_broker_uses_a_configured_cluster_as_it_is(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")

    def never() -> contextlib.AbstractContextManager[str]:
        raise AssertionError("nothing is started for a configured cluster")

    with open_broker(start=never) as broker:
        assert broker.bootstrap == "kafka:9092" and broker.tansu is None
        assert broker.settings.embedded is False


def test_open_broker_starts_one_when_none_is_configured() -> None:
    started: list[str] = []

    @contextlib.contextmanager
    def container() -> Iterator[str]:
        started.append("up")
        yield "localhost:29092"
        started.append("down")

    with open_broker(Settings(namespace="t"), start=container) as broker:
        assert started == ["up"]
        assert broker.bootstrap == "localhost:29092" and broker.settings.namespace == "t"
        assert broker.settings.embedded is False and broker.tansu is None
    assert started == ["up", "down"]
