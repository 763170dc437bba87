"""The dashboard in a real browser during a pipeline run: the figures on the page are
the figures of the results actually produced. Saves artifacts/dashboard.png."""

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from answered import answer_all

from xsettle.engine.money import fmt_money
from xsettle.pipeline.cluster import Cluster
from xsettle.pipeline.report import RegionNames
from xsettle.traffic import generate_day

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACT = Path(__file__).resolve().parents[2] / "artifacts" / "dashboard.png"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Chromium is not installed (Debian package 'chromium'; `make test` installs it "
    "where apt-get works)",
)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (a fresh profile each launch)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


def _expected(results: list[dict[str, Any]], names: RegionNames) -> dict[str, Any]:
    unique = {
        r["result_id"]: r for r in results if "kind" not in r and not r["duplicate_of"]
    }.values()  # settlement results (not registry answers), re-emitted duplicates left out
    fund = personal = Decimal(0)
    cells: dict[tuple[str, str], Decimal] = {}
    counts = {"SETTLED": 0, "REJECTED": 0, "REVERSED": 0}
    for result in unique:
        counts[result["status"]] += 1
        if result["amounts"]:
            fund += result["amounts"]["fund_pay_sumamt"]
            personal += result["amounts"]["psn_part_amt"]
            if result["route"] != "manual":
                cell = (names(result["insured_region"]), names(result["treatment_region"]))
                cells[cell] = cells.get(cell, Decimal(0)) + result["amounts"]["fund_pay_sumamt"]
    return {
        "counts": counts,
        "fund": fmt_money(fund),
        "personal": fmt_money(personal),
        "cells": {k: fmt_money(v) for k, v in cells.items()},
    }


def test_the_page_shows_the_figures_of_the_results_produced(
    broker_env: object, browser: Any, tmp_path: Path
) -> None:
    scenario = generate_day(claims=300, persons=60, seed=21)
    with Cluster(scenario, tmp_path, dashboard=True) as cluster:
        found = answer_all(cluster, scenario.events, "browser")
        expected = _expected(list(found.values()), RegionNames(scenario))

        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(cluster.worker("dashboard").url + "/")
        total = sum(expected["counts"].values())
        # Server push, no reload: wait until the page has caught up with every result.
        page.wait_for_function(f"document.body.dataset.results === '{total}'", timeout=30_000)
        assert page.inner_text("#settled") == str(expected["counts"]["SETTLED"])
        assert page.inner_text("#rejected") == str(expected["counts"]["REJECTED"])
        assert page.inner_text("#reversed") == str(expected["counts"]["REVERSED"])
        assert page.inner_text("#fund") == expected["fund"]
        assert page.inner_text("#personal") == expected["personal"]
        (insured, treatment), amount = max(expected["cells"].items(), key=lambda c: Decimal(c[1]))
        cell = page.locator(f'td[data-insured="{insured}"][data-treatment="{treatment}"]')
        assert cell.inner_text() == amount
        assert "市" in insured, "regions are shown by name"
        ARTIFACT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACT), full_page=True)
