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


NESTING_LIMIT = 100
"""Lists and mappings nested deeper than this are refused (a scenario needs about 10)."""
ALIAS_LIMIT = 1_000_000
"""YAML aliases (``*name``) may stand for at most this many nodes in all: an alias
costs nothing to write but as much as its anchor's whole value to validate and show,
so a few lines of nested aliases ("billion laughs") would otherwise be gigabytes."""


class _Refused(Exception):
    """A document over a limit: not invalid, but not read either."""

    def __init__(self, message: str, mark: yaml.Mark | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


if yaml.__with_libyaml__:  # libyaml's parser: ~10x faster than the pure-Python one

    class _Parsed(yaml.composer.Composer, yaml.cyaml.CParser):  # type: ignore[misc]
        """libyaml's events, composed here: libyaml's own composer recurses in C
        without a limit (a deep enough document crashes the interpreter)."""

        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)

else:  # pragma: no cover - libyaml ships in PyYAML's wheels

    class _Parsed(
        yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer
    ):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)


class _ExactLoader(_Parsed, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """YAML whose non-integer numbers become Decimals, never binary floats; whose
    timestamps that are not real days stay text (for the date's validator to reject);
    whose nesting and alias expansion are bounded (:data:`NESTING_LIMIT`,
    :data:`ALIAS_LIMIT`)."""

    def __init__(self, stream: str) -> None:
        _Parsed.__init__(self, stream)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._depth = 0
        self._nodes = 0
        """Nodes composed so far, an alias counting as all the nodes it stands for."""
        self._aliased = 0
        self._sizes: dict[str, int] = {}
        """Each finished anchor's size in nodes (aliases within it expanded)."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            node = self.anchors.get(event.anchor)
            if node is None:
                raise yaml.composer.ComposerError(
                    None, None, f"found undefined alias {event.anchor!r}", event.start_mark
                )
            size = self._sizes.get(event.anchor)
            if size is None:
                raise _Refused(
                    f"alias *{event.anchor} is inside its own anchor (an endless document)",
                    event.start_mark,
                )
            self._aliased += size
            if self._aliased > ALIAS_LIMIT:
                raise _Refused(
                    f"aliases (*name) stand for more than {ALIAS_LIMIT:,} nodes in all",
                    event.start_mark,
                )
            self._nodes += size
            return node  # type: ignore[no-any-return]
        event = self.peek_event()
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            raise yaml.composer.ComposerError(
                f"found duplicate anchor {anchor!r}; first occurrence",
                self.anchors[anchor].start_mark,
                "second occurrence",
                event.start_mark,
            )
        start = self._nodes
        self._nodes += 1
        self.descend_resolver(parent, index)
        if self.check_event(yaml.ScalarEvent):
            node = self.compose_scalar_node(anchor)
        else:
            self._depth += 1
            if self._depth > NESTING_LIMIT:
                raise _Refused(
                    f"lists and mappings nested more than {NESTING_LIMIT} deep",
                    event.start_mark,
                )
            if self.check_event(yaml.SequenceStartEvent):
                node = self.compose_sequence_node(anchor)
            else:
                node = self.compose_mapping_node(anchor)
            self._depth -= 1
        self.ascend_resolver()
        if anchor is not None:
            self._sizes[anchor] = self._nodes - start
        return node  # type: ignore[no-any-return]


_SPECIAL = {
    ".nan": Decimal("NaN"),
    ".inf": Decimal("Infinity"),
    "+.inf": Decimal("Infinity"),
    "-.inf": Decimal("-Infinity"),
}


def _decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | str:
    """A YAML float as the exact Decimal its text denotes. ``.nan`` and ``.inf`` become
    non-finite Decimals, which every amount's validator rejects: in an event that is
    the event's ``INVALID_CLAIM`` naming the field, in a policy a scenario error."""
    text = loader.construct_scalar(node).replace("_", "")
    special = _SPECIAL.get(text.lower())
    if special is not None:
        return special
    try:
        if ":" not in text:
            return Decimal(text)
        sign, digits = (-1, text[1:]) if text[0] == "-" else (1, text.lstrip("+"))
        value = Decimal(0)
        for part in digits.split(":"):  # YAML 1.1 base 60: 1:30.5 = 90.5
            value = value * 60 + Decimal(part)
        return sign * value
    except (InvalidOperation, IndexError):
        return str(text)


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """A YAML date or timestamp; one that is no real time (2025-02-30) stays its text,
    which the date's validator rejects naming the field (§3: "a date that does not parse")."""
    text = str(loader.construct_scalar(node))
    if loader.timestamp_regexp.match(text) is None:  # an explicit !!timestamp tag
        return text
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return text


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _decimal)
_ExactLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


class _Unusual(Exception):
    """A tag, anchor, alias, merge key or collection key: for the full loader."""


_PLAIN_SCALARS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "timestamp")
)
_STR = "tag:yaml.org,2002:str"
_NO_KEY = object()


def _plain_data(text: str) -> Any:
    """The document built straight from the parser's events, without the node graph the
    full loader composes first (about 4x faster on a large scenario, a third of the
    memory). Each value is constructed as :class:`_ExactLoader` constructs it; anything
    else it could meet (see :class:`_Unusual`) is left to that loader."""
    loader = _ExactLoader(text)
    try:
        get, resolve, constructors = loader.get_event, loader.resolve, loader.yaml_constructors
        get()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return None
        get()  # document start
        root: Any = None
        frames: list[tuple[Any, list[Any]]] = []  # (container, [pending key of a mapping])
        while True:
            event = get()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                if event.anchor is not None or event.tag not in (None, "!"):
                    raise _Unusual
                tag = resolve(yaml.ScalarNode, event.value, event.implicit)
                if tag == _STR:
                    value: Any = event.value
                elif tag in _PLAIN_SCALARS:
                    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
                    value = constructors[tag](loader, node)
                else:
                    raise _Unusual
            elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                if event.anchor is not None or event.tag not in (None, "!"):
                    raise _Unusual
                if len(frames) >= NESTING_LIMIT:
                    raise _Refused(
                        f"lists and mappings nested more than {NESTING_LIMIT} deep",
                        event.start_mark,
                    )
                value = [] if kind is yaml.SequenceStartEvent else {}
            elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                frames.pop()
                continue
            elif kind is yaml.DocumentEndEvent:
                break
            else:  # an alias
                raise _Unusual
            if not frames:
                root = value
            else:
                container, pending = frames[-1]
                if type(container) is list:
                    container.append(value)
                elif pending[0] is _NO_KEY:
                    if type(value) is list or type(value) is dict:
                        raise _Unusual  # a collection as a key: the full loader's error
                    pending[0] = value
                else:
                    container[pending[0]] = value
                    pending[0] = _NO_KEY
            if type(value) is list or type(value) is dict:
                frames.append((value, [_NO_KEY]))
        if not loader.check_event(yaml.StreamEndEvent):
            raise _Unusual  # a second document: the full loader's error
        return root
    finally:
        loader.dispose()


def _json_constant(name: str) -> Decimal:
    """JSON's non-standard ``NaN``/``Infinity``, like YAML's ``.nan``/``.inf``."""
    return Decimal(name)


def _check_nesting(document: Any) -> None:
    """Refuse lists and mappings nested deeper than :data:`NESTING_LIMIT` (iteratively)."""
    stack = [(document, 1)] if isinstance(document, dict | list) else []
    while stack:
        value, depth = stack.pop()
        if depth > NESTING_LIMIT:
            raise _Refused(f"lists and mappings nested more than {NESTING_LIMIT} deep")
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _where(mark: yaml.Mark | None) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def parse_document(text: str, name: str) -> Any:
    """Parse YAML or JSON text with exact decimals, within the limits above."""
    try:
        if name.endswith(".json"):
            document = json.loads(text, parse_float=Decimal, parse_constant=_json_constant)
            _check_nesting(document)
            return document
        try:
            return _plain_data(text)
        except _Unusual:
            return yaml.load(text, Loader=_ExactLoader)
    except _Refused as refused:
        raise ScenarioError(f"{name}: refused: {refused.message}{_where(refused.mark)}") from None
    except RecursionError:
        raise ScenarioError(
            f"{name}: refused: lists and mappings nested more than {NESTING_LIMIT} deep"
        ) from None
    except yaml.MarkedYAMLError as error:
        raise ScenarioError(
            f"{name}: not valid YAML: {error.problem or error.context}{_where(error.problem_mark)}"
        ) from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"{name}: not valid YAML: {error}") from None
    except json.JSONDecodeError as error:
        raise ScenarioError(f"{name}: not valid JSON: {error}") from None
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        kind = "JSON" if name.endswith(".json") else "YAML"
        raise ScenarioError(f"{name}: not valid {kind}: {error}") from None


def read_document(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"{path}: not UTF-8: byte 0x{data[error.start]:02x} at offset {error.start} "
            f"({error.reason}); save the file as UTF-8"
        ) from None
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
