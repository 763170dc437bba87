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


@dataclass(frozen=True)
class Topics:
    namespace: str = "xsettle"

    @property
    def claims(self) -> str:
        """Hospital claims (HospitalClaim Avro or JSON) → treatment-location service."""
        return f"{self.namespace}.claims.v1"

    @property
    def requests(self) -> str:
        """Normalised settle/reverse requests (SettlementRequest Avro): treatment → insured."""
        return f"{self.namespace}.settlement-requests.v1"

    @property
    def results(self) -> str:
        """Settlement results (SettlementResult Avro): → treatment, dashboards, clearing."""
        return f"{self.namespace}.settlement-results.v1"

    @property
    def person_events(self) -> str:
        """Insured-side life-cycle events (PersonEvent Avro or JSON): enrol, file,
        cancel_filing, manual → insured-location service."""
        return f"{self.namespace}.person-events.v1"

    @property
    def registry_results(self) -> str:
        """Answers to enrol, file and cancel_filing (RegistryResult Avro): → registry
        clients, dashboards. Manual reimbursements answer on :attr:`results`."""
        return f"{self.namespace}.registry-results.v1"

    @property
    def dead_letters(self) -> str:
        """Undecodable inputs (DeadLetter Avro) with their origin; keyed by source topic."""
        return f"{self.namespace}.dead-letter.v1"

    @property
    def clearing_statements(self) -> str:
        """Closed periods' clearing statement lines (ClearingStatementLine Avro, §6), keyed
        by insured province: clearing service → the provinces' funds."""
        return f"{self.namespace}.clearing-statements.v1"

    @property
    def clearing_control(self) -> str:
        """Operators' commands to the clearing service (ClearingControl Avro: close a
        period), keyed by period."""
        return f"{self.namespace}.clearing-control.v1"

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
