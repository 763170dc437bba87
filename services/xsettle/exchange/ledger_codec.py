"""The faust codec for ledger tables: `Ledger` objects in memory, JSON in the changelog.

Keeping objects (not dicts) in the table spares a decode per event on the hot path.
"""

import json
from types import SimpleNamespace
from typing import Any

from faust.serializers import codecs

from ..engine import Ledger

NAME = "xsettle-ledger"


class LedgerCodec(codecs.Codec):
    def _dumps(self, obj: Any) -> bytes:
        return json.dumps(obj.to_dict(), separators=(",", ":")).encode()

    def _loads(self, s: bytes) -> Any:
        return Ledger.from_dict(json.loads(s))


codecs.register(NAME, LedgerCodec())


class LedgerValue:
    """The ledger table's ``value_type``: faust takes a table's value codec from its
    type's ``_options.serializer`` and rebuilds values with ``from_data``; the codec
    already returns :class:`Ledger` objects, so there is nothing left to rebuild."""

    _options = SimpleNamespace(serializer=NAME)

    @staticmethod
    def from_data(data: Any, preferred_type: Any = None) -> Any:
        return data
