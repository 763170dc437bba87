"""The settlement engine: pure functions and data, no I/O and no Kafka.

Services and the offline CLI are thin shells around it, so the pipeline and
``xsettle settle`` compute the same money by construction.
"""

from .catalog import Catalog, CatalogIndex, CatalogItem, FeeSplit, covering_catalog, split_line
from .claims import InvalidClaim, ReverseEvent, SettleEvent, parse_event
from .exchange import Exchange
from .intake import FeeDetail, normalise
from .ledger import Ledger
from .persons import Filing, Person
from .policy import Policy
from .results import AMOUNT_FIELDS, Amounts, Result
from .settlement import Directory, reverse, settle
from .vocabulary import Reason, Status

__all__ = [
    "AMOUNT_FIELDS",
    "Amounts",
    "Catalog",
    "CatalogIndex",
    "CatalogItem",
    "Directory",
    "Exchange",
    "FeeDetail",
    "FeeSplit",
    "Filing",
    "InvalidClaim",
    "Ledger",
    "Person",
    "Policy",
    "Reason",
    "Result",
    "ReverseEvent",
    "SettleEvent",
    "Status",
    "covering_catalog",
    "normalise",
    "parse_event",
    "reverse",
    "settle",
    "split_line",
]
