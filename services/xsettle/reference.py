"""Reference data the services hold: policies, catalogs, persons (a scenario's first half).

Operators point ``XSETTLE_REFERENCE`` at a YAML/JSON file in the scenario format
(events ignored); without one the services load the packaged library and know no persons.
"""

from . import library
from .scenario import Scenario, load_scenario
from .settings import Settings


def load_reference(settings: Settings) -> Scenario:
    if settings.reference is not None:
        return load_scenario(settings.reference)
    return Scenario(policies=library.policies(), catalogs=library.catalogs(), persons=[])
