"""The public topics: the exchange's API. Named once, here; versioned by suffix.

Every topic is keyed by ``person_id`` (UTF-8) and has the same partition count, so a
person's claims, requests and results stay in one partition each and in order.
The namespace (default ``xsettle``) prefixes every name, so isolated runs (tests,
``--via-kafka`` on a shared cluster) never read each other's messages.
"""

from dataclasses import dataclass

WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """A topic as created: name, partitions, retention, cleanup."""

    name: str
    partitions: int
    retention_ms: int | None = None
    cleanup_policy: str = "delete"


PERSON_EVENT_KINDS = ("enrol", "file", "cancel_filing", "manual")
"""Kinds the insured side submits (§5): they travel on :attr:`Topics.person_events`;
claims (``settle``, ``reverse``) on :attr:`Topics.claims`."""


def _topic(name: str, doc: str) -> property:
    """The namespaced, versioned name of the public topic ``name``."""
    return property(lambda topics: f"{topics.namespace}.{name}.v1", doc=doc)


@dataclass(frozen=True)
class Topics:
    namespace: str = "xsettle"

    claims = _topic(
        "claims",
        "Hospital claims (HospitalClaim Avro or JSON) → treatment-location service.",
    )

    requests = _topic(
        "settlement-requests",
        "Normalised settle/reverse requests (SettlementRequest Avro): treatment → insured.",
    )

    results = _topic(
        "settlement-results",
        "Settlement results (SettlementResult Avro): → treatment, dashboards, clearing.",
    )

    person_events = _topic(
        "person-events",
        (
            "Insured-side life-cycle events (PersonEvent Avro or JSON): enrol, file, "
            "cancel_filing, manual → insured-location service."
        ),
    )

    registry_results = _topic(
        "registry-results",
        (
            "Answers to enrol, file and cancel_filing (RegistryResult Avro): → registry "
            "clients, dashboards. Manual reimbursements answer on :attr:`results`."
        ),
    )

    dead_letters = _topic(
        "dead-letter",
        "Undecodable inputs (DeadLetter Avro) with their origin; keyed by source topic.",
    )

    clearing_statements = _topic(
        "clearing-statements",
        (
            "Closed periods' clearing statement lines (ClearingStatementLine Avro, §6), keyed "
            "by insured province: clearing service → the provinces' funds."
        ),
    )

    clearing_control = _topic(
        "clearing-control",
        (
            "Operators' commands to the clearing service (ClearingControl Avro: close a "
            "period), keyed by period."
        ),
    )

    def group(self, service: str) -> str:
        """``service``'s consumer group (its faust app id): namespaced like its topics."""
        return f"{self.namespace}-{service}"

    def specs(self, partitions: int) -> list[TopicSpec]:
        return [
            TopicSpec(self.claims, partitions, retention_ms=WEEK_MS),
            TopicSpec(self.requests, partitions, retention_ms=WEEK_MS),
            TopicSpec(self.results, partitions, retention_ms=4 * WEEK_MS),
            TopicSpec(self.person_events, partitions, retention_ms=WEEK_MS),
            TopicSpec(self.registry_results, partitions, retention_ms=4 * WEEK_MS),
            TopicSpec(self.dead_letters, partitions, retention_ms=4 * WEEK_MS),
            TopicSpec(self.clearing_statements, partitions, retention_ms=53 * WEEK_MS),
            TopicSpec(self.clearing_control, partitions, retention_ms=53 * WEEK_MS),
        ]
