"""Reference data the services hold: policies, catalogs, persons (a scenario's first half).

Operators point ``XSETTLE_REFERENCE`` at a YAML/JSON file in the scenario format
(events ignored). A file that leaves out ``policies`` or ``catalogs`` gets the
packaged library's; without any file the services know the library and no persons.
"""

from typing import Any

from . import library
from .scenario import Scenario, ScenarioError, read_document, validate_scenario
from .settings import Settings


def load_reference(settings: Settings) -> Scenario:
    document: Any = {}
    if settings.reference is not None:
        document = read_document(settings.reference)
        if not isinstance(document, dict):
            raise ScenarioError(f"{settings.reference}: reference data is a mapping")
    document = dict(document)
    document.setdefault("policies", library.policies())
    document.setdefault("catalogs", library.catalogs())
    document.setdefault("persons", [])
    document.pop("events", None)
    return validate_scenario(document, str(settings.reference or "library"))
