"""Prometheus text exposition of the dashboard's figures (format 0.0.4).

Money goes out as the exposition's numbers, which Prometheus stores as floats
anyway; the JSON API keeps the exact strings.
"""

from typing import Any


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(snapshot: dict[str, Any]) -> str:
    lines: list[str] = []

    def metric(
        name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], Any]]
    ) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            lines.append(f"{name}{{{text}}} {value}" if text else f"{name} {value}")

    metric(
        "xsettle_results_total",
        "counter",
        "Settlement results by status.",
        [({"status": s}, snapshot[s.lower()]) for s in ("SETTLED", "REJECTED", "REVERSED")],
    )
    metric(
        "xsettle_rejections_total",
        "counter",
        "Rejections by reason.",
        [({"reason": r}, n) for r, n in snapshot["reasons"].items()],
    )
    metric(
        "xsettle_fund_paid_yuan",
        "gauge",
        "Fund payments net of reversals, yuan.",
        [({"fund": f}, v) for f, v in snapshot["fund"].items()],
    )
    metric(
        "xsettle_personal_paid_yuan",
        "gauge",
        "Personal payments net of reversals, yuan.",
        [({"part": p}, v) for p, v in snapshot["personal"].items()],
    )
    metric(
        "xsettle_settlement_latency_ms",
        "gauge",
        "Treatment receipt to settlement, recent results.",
        [({"quantile": q[1:]}, v) for q, v in snapshot["latency_ms"].items()],
    )
    if snapshot["consumer_lag"] is not None:
        metric(
            "xsettle_dashboard_consumer_lag",
            "gauge",
            "Results not yet read by the dashboard.",
            [({}, snapshot["consumer_lag"])],
        )
    matrix = snapshot["matrix"]
    metric(
        "xsettle_interprovincial_fund_paid_yuan",
        "gauge",
        "Fund paid by insured region for care in a treatment region (who owes whom).",
        [
            ({"insured": i, "treatment": t}, matrix["fund_paid"][a][b])
            for a, i in enumerate(matrix["insured"])
            for b, t in enumerate(matrix["treatment"])
        ],
    )
    metric(
        "xsettle_results_duplicates_total",
        "counter",
        "Results ignored because their result_id was already counted.",
        [({}, snapshot["duplicates_ignored"])],
    )
    return "\n".join(lines) + "\n"
