"""The one error type users see as a single line (the CLI prints it, never a trace)."""


class XsettleError(Exception):
    """A problem the user can act on; ``str()`` is the one line to show."""
