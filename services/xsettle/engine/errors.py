"""Readable validation errors: one line naming the path and the problem."""

from typing import Any

from pydantic import ValidationError

SHOWN_LIMIT = 40


def shown(value: Any) -> str:
    """A value quoted in a message, cut short: input can be megabytes, a message is a line."""
    text = repr(value)
    return text if len(text) <= SHOWN_LIMIT else text[: SHOWN_LIMIT - 3] + "..."


def error_path(loc: tuple[int | str, ...]) -> str:
    """``("policies", 1, "ratio")`` → ``policies[1].ratio`` (list indexes in brackets)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":  # the key of a mapping entry, not its value
            text += part
        else:
            text += f".{part}" if text else str(part)
    return text


_PHRASES = (
    ("Value error, ", ""),
    ("Input should be greater than or equal to 0", "must not be negative"),
    ("Decimal input should have no more than", "must have at most"),
    ("Input should be", "must be"),
    ("List should have", "must have"),
)


def _plain(message: str) -> str:
    """pydantic's wording in the voice of our own messages ("must be …")."""
    for phrase, plain in _PHRASES:
        if message.startswith(phrase):
            message = plain + message[len(phrase) :]
            break
    return message[:1].lower() + message[1:]


def describe(error: ValidationError, prefix: str = "") -> str:
    """The first problem of a pydantic error as ``path: message``."""
    first = error.errors(include_url=False)[0]
    # Tagged unions (our tags start with "~") and validators add segments; drop those.
    loc = tuple(
        part
        for part in first["loc"]
        if not (isinstance(part, str) and part.startswith(("function-", "~")))
    )
    path = error_path(loc)
    message = _plain(first["msg"])
    if first["type"] == "missing":
        message = "required field is missing"
    where = ".".join(part for part in (prefix, path) if part)
    return f"{where}: {message}" if where else message
