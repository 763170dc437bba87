"""The monitoring side for real: Debian's Prometheus scrapes a live dashboard worker with
the deploy's own job, and every PromQL expression of the deploy's Grafana dashboard
returns what the dashboard's JSON figures say.

Why this test exists: ``deploy/grafana/dashboards/xsettle.json`` and ``/metrics`` are
written by hand in two places; a renamed metric or label leaves a Grafana panel silently
empty, and a unit test of the exposition cannot see that. So the test takes the
expressions from the dashboard file as they are, the scrape job from
``deploy/prometheus/prometheus.yml`` (only its target and interval rewritten), and asks a
real Prometheus. The expected values come from ``/api/figures`` through a mapping written
here, independently of :mod:`xsettle.dashboard.metrics`, so a metric that drifts from
its figure fails. An expression the test has no mapping or relation for fails too: a new
panel must say what it should show.

The dashboard's ``rate()`` over ``[1m]`` is checked against the increase the raw
samples in the same window show (whatever part of the run the window holds), and the
last sample against the JSON total.
"""

import json
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from answered import answer_all, settlement_results

from xsettle.exchange.processes.host import die_with_parent, free_port
from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.workers import Worker
from xsettle.traffic import generate_day

ROOT = Path(__file__).resolve().parents[2]
SCRAPE_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA_DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "xsettle.json"
SCRAPE_INTERVAL = 1.0
PROMETHEUS = shutil.which("prometheus")
pytestmark = pytest.mark.skipif(
    PROMETHEUS is None,
    reason="needs Debian's prometheus (make test installs it with apt-get when run as root)",
)

Labels = frozenset[tuple[str, str]]
Series = dict[Labels, float]
TARGET_LABELS = {"__name__", "job", "instance"}
"""Labels Prometheus adds to what it scrapes: not the dashboard's, so not compared."""


def _labels(**labels: str) -> Labels:
    return frozenset(labels.items())


def expected_series(figures: dict[str, Any]) -> dict[str, Series]:
    """Every metric the dashboard exposes, as ``/api/figures`` says it should read.

    Written from the JSON's field names, not from :mod:`xsettle.dashboard.metrics`: this
    mapping is the contract between the two endpoints that the test checks."""
    matrix = figures["matrix"]
    series: dict[str, Series] = {
        "xsettle_results_total": {
            _labels(status=status): float(figures[status.lower()])
            for status in ("SETTLED", "REJECTED", "REVERSED")
        },
        "xsettle_rejections_total": {
            _labels(reason=reason): float(count) for reason, count in figures["reasons"].items()
        },
        "xsettle_fund_paid_yuan": {
            _labels(fund=fund): float(amount) for fund, amount in figures["fund"].items()
        },
        "xsettle_personal_paid_yuan": {
            _labels(part=part): float(amount) for part, amount in figures["personal"].items()
        },
        "xsettle_settlement_latency_ms": {
            _labels(quantile=name.removeprefix("p")): float(value)
            for name, value in figures["latency_ms"].items()
        },
        "xsettle_interprovincial_fund_paid_yuan": {
            _labels(insured=insured, treatment=treatment): float(matrix["fund_paid"][a][b])
            for a, insured in enumerate(matrix["insured"])
            for b, treatment in enumerate(matrix["treatment"])
        },
        "xsettle_results_duplicates_total": {_labels(): float(figures["duplicates_ignored"])},
    }
    if figures["consumer_lag"] is not None:
        series["xsettle_dashboard_consumer_lag"] = {_labels(): float(figures["consumer_lag"])}
    return series


SELECTOR = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<matchers>[^}]*)\})?$")
MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def selector_expectation(expr: str, figures: dict[str, Any]) -> Series | None:
    """What a plain selector (``name`` or ``name{label="value",…}``) must return, or None
    when ``expr`` is not one. Only equality matchers: the dashboard uses no others, and
    one it starts using should fail here rather than be guessed at."""
    found = SELECTOR.match(expr.strip())
    if found is None:
        return None
    name, text = found["name"], found["matchers"] or ""
    matchers = dict(MATCHER.findall(text))
    assert MATCHER.sub("", text) == "", f'{expr}: only label="value" matchers are understood'
    known = expected_series(figures)
    assert name in known, f"{expr}: the dashboard exposes no metric {name} ({sorted(known)})"
    return {
        labels: value
        for labels, value in known[name].items()
        if all((key, value_) in labels for key, value_ in matchers.items())
    }


class Prometheus:
    """A Prometheus server of the test's own: the deploy's scrape job pointed at one
    dashboard worker, a temporary TSDB, a free loopback port; stopped on leaving."""

    def __init__(self, target: str, directory: Path) -> None:
        self.target = target
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "prometheus.log"
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> dict[str, Any]:
        """The deploy's configuration with only what cannot hold here changed: the
        target's host:port (Docker's ``dashboard:6066``) and the scrape interval (so the
        test need not wait 5 s for each scrape)."""
        config: dict[str, Any] = yaml.safe_load(SCRAPE_CONFIG.read_text("utf-8"))
        config.setdefault("global", {})["scrape_interval"] = f"{SCRAPE_INTERVAL:g}s"
        jobs = config["scrape_configs"]
        assert [job["job_name"] for job in jobs] == ["xsettle-dashboard"], jobs
        (static,) = jobs[0]["static_configs"]
        assert len(static["targets"]) == 1, static
        static["targets"] = [self.target]
        return config

    def __enter__(self) -> "Prometheus":
        assert PROMETHEUS is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        config_path = self.directory / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(self.config()), "utf-8")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config_path}",
                    f"--storage.tsdb.path={self.directory / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
        try:
            self._wait(lambda: self._get("/-/ready") is not None, "ready")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s: nothing of the test's may outlive it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def _get(self, path: str) -> bytes | None:
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as response:
                body: bytes = response.read()
                return body
        except OSError:
            return None

    def _wait(self, done: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"prometheus not {what}: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    def api(self, path: str, **params: str) -> Any:
        """``/api/v1/{path}``'s ``data``, asserting the API said success."""
        query = urllib.parse.urlencode(params)
        body = self._get(f"/api/v1/{path}?{query}")
        assert body is not None, f"prometheus did not answer /api/v1/{path}"
        answer = json.loads(body)
        assert answer["status"] == "success", answer
        return answer["data"]

    def last_scrape(self) -> float:
        """When the one target was last scraped, if that scrape succeeded (epoch seconds), or
        0: the target is found a moment after Prometheus is ready."""
        targets = self.api("targets", state="active")["activeTargets"]
        assert len(targets) <= 1, targets
        if not targets or targets[0]["health"] != "up":
            return 0.0  # not discovered yet, or not scraped successfully yet
        (target,) = targets
        # RFC 3339 with nanoseconds, which fromisoformat truncates to microseconds.
        return datetime.fromisoformat(target["lastScrape"]).timestamp()

    def wait_scraped_after(self, moment: float) -> None:
        """Until a successful scrape began after ``moment``."""
        self._wait(lambda: self.last_scrape() > moment, f"scraping after {moment}")

    def query(self, expr: str, at: float) -> Series:
        """An instant query's vector, by its labels without the target's."""
        data = self.api("query", query=expr, time=f"{at:.3f}")
        assert data["resultType"] == "vector", (expr, data)
        return {
            frozenset((k, v) for k, v in item["metric"].items() if k not in TARGET_LABELS): float(
                item["value"][1]
            )
            for item in data["result"]
        }

    def samples(self, expr: str, at: float) -> dict[Labels, list[tuple[float, float]]]:
        """A range selector's raw samples, by labels without the target's."""
        data = self.api("query", query=expr, time=f"{at:.3f}")
        assert data["resultType"] == "matrix", (expr, data)
        return {
            frozenset((k, v) for k, v in item["metric"].items() if k not in TARGET_LABELS): [
                (float(t), float(v)) for t, v in item["values"]
            ]
            for item in data["result"]
        }


RATE_PER_MINUTE = "sum by (status) (rate(xsettle_results_total[1m])) * 60"


def check_rate_per_minute(
    prometheus: Prometheus, at: float, figures: dict[str, Any], got: Series
) -> None:
    """``Results per minute by status``: a rate, which no JSON figure equals (it depends on
    when Prometheus sampled, and extrapolates). What must hold: one series per status;
    each counter's last sample is the JSON total; and ``rate × 60`` is at least the
    increase the window's raw samples show and at most that increase extrapolated by one
    average scrape interval at each end, which is all Prometheus's extrapolation may add
    (a run longer than the window moves it off the counter's zero, nothing else)."""
    totals = expected_series(figures)["xsettle_results_total"]
    assert set(got) == set(totals), got
    raw = prometheus.samples("xsettle_results_total[1m]", at)
    for labels, total in totals.items():
        points = raw[labels]
        # two scrapes make a rate (a quick run on an idle machine gives just that)
        assert len(points) >= 2, f"{labels}: too few scrapes in the window: {points}"
        (first_t, first_v), (last_t, last_v) = points[0], points[-1]
        assert last_v == total, f"{labels}: last scrape {last_v}, JSON {total}"
        increase = last_v - first_v
        sampled = last_t - first_t
        average = sampled / (len(points) - 1)
        upper = increase * (sampled + 2.2 * average) / sampled
        slack = 1e-9 * max(1.0, increase)  # the rate is float arithmetic on the samples
        assert increase - slack <= got[labels] <= upper + slack, (labels, got[labels], upper)
        if increase:
            assert got[labels] > 0, labels


RELATIONS: dict[str, Callable[[Prometheus, float, dict[str, Any], Series], None]] = {
    RATE_PER_MINUTE: check_rate_per_minute,
}
"""Expressions that are not plain selectors, each with what it must satisfy."""


def dashboard_expressions() -> list[str]:
    """Every ``expr`` of every panel (rows' nested panels too) of the Grafana dashboard."""

    def walk(panels: list[dict[str, Any]]) -> Iterator[str]:
        for panel in panels:
            for target in panel.get("targets", []):
                if target.get("expr"):
                    yield target["expr"]
            yield from walk(panel.get("panels", []))

    return list(walk(json.loads(GRAFANA_DASHBOARD.read_text("utf-8"))["panels"]))


def _figures(worker: Worker) -> dict[str, Any]:
    with urllib.request.urlopen(f"{worker.url}/api/figures", timeout=5) as response:
        figures: dict[str, Any] = json.load(response)
    return figures


def _settled_down(worker: Worker, results: int, timeout: float = 30.0) -> dict[str, Any]:
    """The figures once the worker has counted ``results`` results and read everything."""
    deadline = time.monotonic() + timeout
    while True:
        figures = _figures(worker)
        if figures["results"] == results and figures["consumer_lag"] == 0:
            return figures
        assert time.monotonic() < deadline, f"dashboard never caught up: {figures}"
        time.sleep(0.25)


def test_every_grafana_expression_reads_the_dashboards_figures(
    broker_env: object, tmp_path: Path
) -> None:
    expressions = dashboard_expressions()
    assert expressions, f"no PromQL expression found in {GRAFANA_DASHBOARD}"
    scenario = generate_day(claims=150, persons=30, seed=33)
    with Cluster(scenario, tmp_path, dashboard=True) as cluster:
        dashboard = cluster.worker("dashboard")
        with Prometheus(f"127.0.0.1:{dashboard.port}", tmp_path / "prometheus") as prometheus:
            # Scraped once before any result exists: the counters' zero is in the window.
            prometheus.wait_scraped_after(time.time())
            found = answer_all(cluster, scenario.events, "prometheus", timeout=60)
            distinct = settlement_results(found)
            figures = _settled_down(dashboard, distinct)
            # Every panel must have something to show, or "non-empty" proves nothing.
            assert figures["settled"] and figures["rejected"] and figures["reasons"], figures
            assert figures["matrix"]["insured"] and figures["latency_ms"]["p50"] > 0, figures
            prometheus.wait_scraped_after(time.time())
            at = time.time()
            answers = {expr: prometheus.query(expr, at) for expr in expressions}
            for expr, got in answers.items():
                assert got, f"{expr!r} returned no series"
                relation = RELATIONS.get(expr)
                if relation is not None:
                    relation(prometheus, at, figures, got)
                    continue
                want = selector_expectation(expr, figures)
                assert want is not None, f"{expr!r}: no figure or relation known for it"
                assert got == want, f"{expr!r}: Prometheus {got}, /api/figures {want}"
            # The figures did not move while Prometheus was asked: the comparison is fair.
            assert _figures(dashboard) == figures
        assert prometheus.process is not None and prometheus.process.poll() is not None
