"""The settlement engine: pure functions and data, no I/O and no Kafka.

Services and the offline CLI are thin shells around it, so the pipeline and
``xsettle settle`` compute the same money by construction.
"""

from .catalog import Catalog, CatalogIndex, CatalogItem, FeeSplit, covering_catalog, split_line
from .claims import InvalidClaim, ManualEvent, ReverseEvent, SettleEvent, parse_event
from .events import Outcome, Unreadable, read_event
from .insured import Insured
from .intake import FeeDetail, normalise
from .ledger import Ledger
from .lifecycle_events import CancelFilingEvent, EnrolEvent, FileEvent
from .lifecycle_results import EnrolResult, FilingResult
from .offline import OfflineExchange
from .persons import Filing, FilingEntry, Person, Registration
from .policy import Policy
from .results import AMOUNT_FIELDS, Amounts, Result
from .settlement import (
    Directory,
    reverse,
    reverse_claim,
    settle,
    settle_direct,
    settle_manual,
)
from .vocabulary import Reason, Route, Status

__all__ = [
    "AMOUNT_FIELDS",
    "Amounts",
    "CancelFilingEvent",
    "Catalog",
    "CatalogIndex",
    "CatalogItem",
    "Directory",
    "EnrolEvent",
    "EnrolResult",
    "FeeDetail",
    "FeeSplit",
    "FileEvent",
    "Filing",
    "FilingEntry",
    "FilingResult",
    "Insured",
    "InvalidClaim",
    "Ledger",
    "ManualEvent",
    "OfflineExchange",
    "Outcome",
    "Person",
    "Policy",
    "Reason",
    "Registration",
    "Result",
    "ReverseEvent",
    "Route",
    "SettleEvent",
    "Status",
    "Unreadable",
    "covering_catalog",
    "normalise",
    "parse_event",
    "read_event",
    "reverse",
    "reverse_claim",
    "settle",
    "settle_direct",
    "settle_manual",
    "split_line",
]
