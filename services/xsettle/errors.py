"""The exchange's errors, in one hierarchy.

``XsettleError`` is what users see as a single line (the CLI prints it, never a trace).
``DecodeError`` is bytes that are no message of ours (they go to the dead letters),
and the engine's ``Unreadable`` (``InvalidClaim`` for a claim) a message whose content
is malformed (it gets a ``REJECTED`` answer naming the field): both are the sender's
to fix.
``InfrastructureError`` is a dependency that failed (schema registry, broker, table
store): never the sender's fault, so the message that met it is retried, never
dead-lettered and never committed.
"""


class XsettleError(Exception):
    """A problem the user can act on; ``str()`` is the one line to show."""


class InfrastructureError(XsettleError):
    """A dependency failed; the work is retried, then the worker stops so it can resume."""


class DecodeError(XsettleError, ValueError):
    """Bytes that are not a message this codec can read; the reason says why."""
