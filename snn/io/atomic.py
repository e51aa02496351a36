"""Write-then-rename, so a reader never sees a half-written file and a crash leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path


def temporary_path(path: str | os.PathLike[str]) -> Path:
    """A sibling of ``path`` (same directory, so the final rename is atomic on POSIX)."""
    target = Path(path)
    return target.with_name(f".{target.name}.tmp-{os.getpid()}")


def commit(tmp: Path, path: str | os.PathLike[str]) -> None:
    """Flush ``tmp`` to disk and move it over ``path`` in one step."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def discard(tmp: Path) -> None:
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass


def write_json(path: str | os.PathLike[str], data: object) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically (write a sibling, fsync, rename)."""
    import json

    target = Path(path)
    tmp = temporary_path(target)
    try:
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        commit(tmp, target)
    except BaseException:
        discard(tmp)
        raise
    return target
