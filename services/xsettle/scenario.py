"""Scenario documents (YAML or JSON): loading them exactly and validating them whole.

A scenario that is itself invalid is the user's to fix, so it fails as one
:class:`ScenarioError` line naming the path; malformed *events* are not scenario
errors (they become ``INVALID_CLAIM`` results).
"""

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from .engine import Catalog, Directory, OfflineExchange, Person, Policy
from .engine.errors import describe
from .errors import XsettleError


class ScenarioError(XsettleError):
    """An unusable scenario; ``str()`` is the one line to show the user."""


class _ExactLoader(yaml.SafeLoader):
    """YAML whose non-integer numbers become Decimals, never binary floats."""


def _decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a finite number", node.start_mark
        )
    return value


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def parse_document(text: str, name: str) -> Any:
    """Parse YAML or JSON text with exact decimals."""
    try:
        if name.endswith(".json"):
            return json.loads(text, parse_float=Decimal)
        return yaml.load(text, Loader=_ExactLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(
            f"{name}: not valid YAML: {error.problem or error.context}{where}"
        ) from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"{name}: not valid YAML: {error}") from None
    except json.JSONDecodeError as error:
        raise ScenarioError(f"{name}: not valid JSON: {error}") from None


def read_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror or error}") from None
    return parse_document(text, str(path))


def _unique(items: list[Any], key: str, what: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        value = getattr(item, key)
        if value in seen:
            raise ValueError(f"[{index}].{key}: {what} {value!r} is listed twice")
        seen.add(value)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    policies: list[Policy]
    catalogs: list[Catalog]
    persons: list[Person]
    events: list[Any] = []

    @model_validator(mode="after")
    def _no_duplicates(self) -> "Scenario":
        for field, key, what in (
            ("policies", "region", "region"),
            ("catalogs", "region", "region"),
            ("persons", "person_id", "person"),
        ):
            try:
                _unique(getattr(self, field), key, what)
            except ValueError as error:
                raise ScenarioError(f"{field}{error}") from None
        return self

    def directory(self) -> Directory:
        return Directory(
            policies={policy.region: policy for policy in self.policies},
            persons={person.person_id: person for person in self.persons},
        )

    def exchange(self) -> OfflineExchange:
        """The offline round trip over this scenario's starting state."""
        return OfflineExchange(list(self.catalogs), self.directory())


def validate_scenario(document: Any, name: str = "scenario") -> Scenario:
    if not isinstance(document, dict):
        raise ScenarioError(
            f"{name}: a scenario is a mapping with policies, catalogs, persons and events"
        )
    try:
        return Scenario.model_validate(document)
    except ValidationError as error:
        raise ScenarioError(describe(error)) from None


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file, or raise :class:`ScenarioError`."""
    return validate_scenario(read_document(path), str(path))
