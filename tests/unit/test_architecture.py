"""The import rules of ARCHITECTURE.md, checked: a layer never reaches up.

Read from the source with ``ast`` (no import-linter to install): every ``import`` and
``from … import`` of a module under ``services/xsettle`` is resolved to the top-level
part of the package it names, and each part may import only what its row allows.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "services" / "xsettle"

FOUNDATION = {"errors", "settings"}
ALLOWED: dict[str, set[str]] = {
    "engine": {"errors"},
    "errors": set(),
    "settings": {"errors"},
    "exchange": {"engine"} | FOUNDATION,
    "insured": {"engine", "exchange", "reference", "scenario", "library"} | FOUNDATION,
    "treatment": {"engine", "exchange", "reference", "scenario", "library"} | FOUNDATION,
    "clearing": {"engine", "exchange", "treatment"} | FOUNDATION,
    "dashboard": {"engine", "exchange", "clearing", "presentation"}
    | {"reference", "scenario", "library"}
    | FOUNDATION,
}
"""Parts not listed (pipeline, bench, tools, cli, …) are the shells: they may import
anything below them, and nothing listed here may import them."""


def _imports(path: Path) -> set[str]:
    """The top-level xsettle parts a module imports."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's own package
                base = list(parts[: len(parts) - node.level])
                target = base + (node.module.split(".") if node.module else [])
                if not target:  # "from .. import x": x is the part
                    found |= {alias.name for alias in node.names}
                    continue
                found.add(target[0])
            elif node.module and node.module.split(".")[0] == "xsettle":
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names = alias.name.split(".")
                if names[0] == "xsettle" and len(names) > 1:
                    found.add(names[1])
    return found


def _part(path: Path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_each_layer_imports_only_what_it_may(part: str) -> None:
    modules = sorted(path for path in PACKAGE.rglob("*.py") if _part(path) == part)
    assert modules, f"no modules for {part}"
    for module in modules:
        reached = _imports(module) - {part} - ALLOWED[part]
        assert not reached, f"{module.relative_to(PACKAGE)} imports {sorted(reached)}"


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The rule above would pass vacuously if imports were not found at all."""
    assert "pipeline" in _imports(PACKAGE / "cli.py") | _imports(PACKAGE / "pipeline" / "demo.py")
    assert "engine" in _imports(PACKAGE / "insured" / "location.py")


EXCHANGE = PACKAGE / "exchange"
EXCHANGE_ALLOWED = {
    "contract": set(),
    "processes": {"contract"},
    "runtime": {"contract", "processes"},
}
"""Inside ``exchange/``: the wire contract stands alone, the processes use it, and the
faust runtime uses both."""


def _exchange_parts(path: Path) -> set[str]:
    """The ``exchange`` sub-packages a module imports (relative imports resolved)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            target = list(parts[: len(parts) - node.level]) + (
                node.module.split(".") if node.module else []
            )
            if target[:1] == ["exchange"] and len(target) > 1:
                found.add(target[1])
    return found


@pytest.mark.parametrize("sub", sorted(EXCHANGE_ALLOWED))
def test_exchange_sub_packages_import_downwards(sub: str) -> None:
    for module in sorted((EXCHANGE / sub).glob("*.py")):
        reached = _exchange_parts(module) - {sub} - EXCHANGE_ALLOWED[sub]
        assert not reached, f"{module.relative_to(PACKAGE)} imports exchange.{sorted(reached)}"
