"""The exchange's errors, in one hierarchy.

``XsettleError`` is what users see as a single line (the CLI prints it, never a trace).
``InfrastructureError`` is a dependency that failed (schema registry, broker, table
store): never the sender's fault, so the message that met it is retried, never
dead-lettered and never committed.
"""


class XsettleError(Exception):
    """A problem the user can act on; ``str()`` is the one line to show."""


class InfrastructureError(XsettleError):
    """A dependency failed; the work is retried, then the worker stops so it can resume."""
