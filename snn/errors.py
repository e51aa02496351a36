"""Error types shared by the whole package.

Every validation failure is a :class:`ConfigError` (a ``ValueError``) whose message is one line naming the
field (as a key path), the offending value and the constraint it broke, e.g.::

    populations.exc.tau_m = -0.02: must be > 0 (seconds)
"""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """Bad user input: one line naming the key path, the value and the constraint."""

    def __init__(self, path: str, value: Any, constraint: str) -> None:
        path = str(path).replace("\r", "\\r").replace("\n", "\\n")  # one line, whatever a key contains
        self.path = path
        self.value = value
        constraint = " ".join(str(constraint).split("\n"))
        self.constraint = constraint
        super().__init__(f"{path} = {_short(value)}: {constraint}")


def _short(value: Any, limit: int = 60) -> str:
    text = " ".join(line.strip() for line in repr(value).splitlines())  # one line even if repr wraps
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        text = f"<array shape={tuple(value.shape)} dtype={value.dtype}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
