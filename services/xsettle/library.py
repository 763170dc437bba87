"""The policy and catalog library shipped with the package (``xsettle/data``).

Policies follow the seeds (each file cites its source and marks illustrative
values); catalogs are illustrative. The demo traffic and ``make run`` draw on them.
"""

from importlib import resources
from typing import TypeVar

from pydantic import ValidationError

from .engine import Catalog, Policy
from .engine.errors import describe
from .scenario import ScenarioError, parse_document

M = TypeVar("M", Policy, Catalog)


def _load(folder: str, model: type[M]) -> list[M]:
    loaded = []
    root = resources.files("xsettle") / "data" / folder
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        name = f"data/{folder}/{entry.name}"
        try:
            loaded.append(model.model_validate(parse_document(entry.read_text("utf-8"), name)))
        except ValidationError as error:
            raise ScenarioError(describe(error, prefix=name)) from None
    return loaded


def policies() -> list[Policy]:
    return _load("policies", Policy)


def catalogs() -> list[Catalog]:
    return _load("catalogs", Catalog)
