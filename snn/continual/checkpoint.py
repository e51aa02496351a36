"""Crash-safe study state: per-task checkpoints, an evaluation log that resumes exactly, an HDF5 result file.

Layout of one run (one method, one seed), :func:`run_dir`::

    <root>/<method>/seed_<seed>/
        task_0.npz, task_1.npz, ...   checkpoint after training task t (written atomically)
        log.jsonl                     one JSON line per (train_task, eval_task) evaluation
        results.h5                    R, b, per-task diagnostics (written atomically, :func:`write_results`)

A checkpoint ``task_<t>.npz`` (``numpy.savez``, read with ``allow_pickle=False``) holds ``learner/<name>`` (the
learner's state, a dict of arrays), ``R`` (rows ``0..t`` of the accuracy matrix, ``(t + 1) x T``), ``b`` (accuracy
before training, optional), ``rng`` (the ``bit_generator.state`` of each ``np.random.Generator``, JSON, so that
resuming draws the same numbers as an uninterrupted run), ``meta`` (JSON) and ``format``.

Atomicity: every file is written to a temporary sibling (``snn.io.atomic.temporary_path``), fsync'd and moved over
the target with ``os.replace`` (``snn.io.atomic.commit``), so a crash leaves either the old file or the new one,
never a torn one; a leftover temporary file is ignored by :func:`latest` and removed by
:func:`remove_temporaries`.

Resuming with an identical log: write the evaluation lines of task ``t`` *before* checkpoint ``t``. On restart,
:func:`latest` gives the last complete checkpoint ``t``; :class:`EvalLog` opened with ``resume_after=t`` cuts the
log after the last line with ``train_task <= t`` (lines of the interrupted task ``t + 1``, and a torn last line,
go), and the study re-runs from task ``t + 1``, writing the same lines again; :func:`resume` does all of this.
Lines before any training use ``train_task = -1`` (the ``b`` evaluations); with no checkpoint the log is emptied
(``resume_after=None``). A log line must not hold wall-clock times or anything else that differs between runs,
or the logs differ (keep timings in the checkpoint's ``meta`` or the results file).

Study loop::

    start, state, log = resume(run_dir(root, method, seed))
    if state is None: init learner and rng, evaluate b, log.append(-1, j, accuracy=b[j]) for every task j
    else: restore learner from state.learner, rng = state.rng, R[:start] = state.R, b = state.b
    for t in range(start, T):
        train on task t; for every task j: R[t, j] = evaluate; log.append(t, j, accuracy=R[t, j])
        save_checkpoint(directory, t, learner_state, rng, R[:t + 1], b=b)
    write_results(directory / "results.h5", R, b, diagnostics, meta, summarise(R, b))
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from snn.errors import ConfigError
from snn.io.atomic import commit, discard, temporary_path

FORMAT = "snn-continual-checkpoint"
FORMAT_VERSION = 1
RESULTS_FORMAT = "snn-continual-results"
RESULTS_FORMAT_VERSION = 1

_TASK_FILE = re.compile(r"^task_(\d+)\.npz$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")

__all__ = ["LOG_NAME", "Checkpoint", "EvalLog", "checkpoint_path", "latest", "load_checkpoint", "read_results",
           "remove_temporaries", "restore_rng", "resume", "rng_state", "run_dir", "save_checkpoint", "write_results"]

#: the evaluation log's file name inside a run directory
LOG_NAME = "log.jsonl"


# ----------------------------------------------------------------------------------------------- RNG state

def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):  # MT19937's key, Philox's counter: exact integer lists
        return {"__ndarray__": obj.tolist(), "dtype": obj.dtype.str}
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _json_hook(obj: dict[str, Any]) -> Any:
    if "__ndarray__" in obj:
        return np.asarray(obj["__ndarray__"], dtype=np.dtype(obj["dtype"]))
    return obj


def rng_state(rng: np.random.Generator) -> str:
    """``rng.bit_generator.state`` as JSON (Python ints are exact in JSON, e.g. PCG64's 128-bit state)."""
    if not isinstance(rng, np.random.Generator):
        raise ConfigError("rng", rng, "must be a numpy.random.Generator")
    return json.dumps(rng.bit_generator.state, default=_json_default, sort_keys=True)


def restore_rng(state: str) -> np.random.Generator:
    """A new ``np.random.Generator`` in the state saved by :func:`rng_state`."""
    try:
        st = json.loads(state, object_hook=_json_hook)
        bit_gen = getattr(np.random, st["bit_generator"])()
        bit_gen.state = st
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError("rng", state[:60] if isinstance(state, str) else state,
                          f"is not a saved bit_generator state ({type(exc).__name__})") from None
    return np.random.Generator(bit_gen)


# ----------------------------------------------------------------------------------------------- checkpoints

def run_dir(root: str | os.PathLike[str], method: str, seed: int, create: bool = True) -> Path:
    """``<root>/<method>/seed_<seed>`` (created unless ``create=False``); ``method``: letters, digits, ``._+-``."""
    if not isinstance(method, str) or not _NAME.match(method):
        raise ConfigError("method", method, "must be a name of letters, digits and ._+- (a directory name)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("seed", seed, "must be an integer >= 0")
    path = Path(root) / method / f"seed_{int(seed)}"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def checkpoint_path(directory: str | os.PathLike[str], t: int) -> Path:
    return Path(directory) / f"task_{int(t)}.npz"


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: ``t`` (last trained task), ``learner`` (name -> array), ``rngs`` (name -> Generator,
    restored), ``R`` (``(t + 1) x T``), ``b`` (or None), ``meta`` (dict)."""

    t: int
    learner: dict[str, np.ndarray]
    rngs: dict[str, np.random.Generator]
    R: np.ndarray
    b: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def rng(self) -> np.random.Generator:
        """The generator saved under ``"rng"`` (what :func:`save_checkpoint` names a single Generator)."""
        return self.rngs["rng"]


def save_checkpoint(directory: str | os.PathLike[str], t: int, learner: Mapping[str, Any],
                    rng: np.random.Generator | Mapping[str, np.random.Generator] | None, R: Any,
                    b: Any | None = None, meta: Mapping[str, Any] | None = None) -> Path:
    """Write ``task_<t>.npz`` atomically and return its path.

    ``learner``: the learner's state, name -> array (names may contain ``/``); ``rng``: a Generator (saved as
    ``"rng"``), a dict of named Generators, or None; ``R``: the accuracy rows ``0..t`` (``(t + 1) x T``; a full
    ``T x T`` matrix is cut to its first ``t + 1`` rows); ``b``: accuracies before training; ``meta``: JSON-able.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError("directory", str(directory), "must be an existing directory (see run_dir)")
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
        raise ConfigError("t", t, "must be an integer >= 0 (the task just trained)")
    t = int(t)
    if not isinstance(learner, Mapping):
        raise ConfigError("learner", learner, "must be a dict name -> array")
    arrays: dict[str, np.ndarray] = {}
    for name, value in learner.items():
        if not isinstance(name, str) or not name or name.startswith("/") or ".." in name.split("/"):
            raise ConfigError("learner", name, "keys must be non-empty relative names")
        arr = np.asarray(value)
        if arr.dtype == object:
            raise ConfigError(f"learner.{name}", value, "must be an array of numbers (no objects)")
        arrays[f"learner/{name}"] = arr
    rngs = {} if rng is None else ({"rng": rng} if isinstance(rng, np.random.Generator) else dict(rng))
    R_arr = np.asarray(R, dtype=np.float64)
    if R_arr.ndim != 2 or R_arr.shape[0] < t + 1 or R_arr.shape[1] < t + 1:
        raise ConfigError("R", R, f"must be 2-D with at least {t + 1} rows and columns (tasks 0..{t})")
    arrays["R"] = R_arr[:t + 1]
    if b is not None:
        arrays["b"] = np.asarray(b, dtype=np.float64)
    arrays["rng"] = np.asarray(json.dumps({k: rng_state(g) for k, g in rngs.items()}, sort_keys=True))
    try:
        arrays["meta"] = np.asarray(json.dumps(dict(meta or {}), sort_keys=True, default=_json_default))
    except TypeError as exc:
        raise ConfigError("meta", meta, f"must be JSON-serialisable ({exc})") from None
    arrays["format"] = np.asarray(json.dumps({"format": FORMAT, "version": FORMAT_VERSION, "t": t}))
    path = checkpoint_path(directory, t)
    tmp = temporary_path(path)
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        commit(tmp, path)
    except BaseException:
        discard(tmp)
        raise
    _fsync_dir(directory)
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (one-line :class:`ConfigError` if damaged)."""
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            fmt = json.loads(str(z["format"][()]))
            if fmt.get("format") != FORMAT:
                raise ValueError("not a checkpoint")
            learner = {k[len("learner/"):]: z[k] for k in z.files if k.startswith("learner/")}
            R = z["R"]
            b = z["b"] if "b" in z.files else None
            rngs = {k: restore_rng(v) for k, v in json.loads(str(z["rng"][()])).items()}
            meta = json.loads(str(z["meta"][()]), object_hook=_json_hook)
    except Exception as exc:  # OSError, ValueError, KeyError, zipfile.BadZipFile, ... from a damaged file
        raise ConfigError(str(p), type(exc).__name__, "is not a readable checkpoint") from None
    for arr in [*learner.values(), R] + ([b] if b is not None else []):
        arr.flags.writeable = False
    return Checkpoint(int(fmt["t"]), learner, rngs, R, b, meta)


def latest(directory: str | os.PathLike[str]) -> tuple[int, Checkpoint] | None:
    """``(t, checkpoint)`` of the highest task with a readable checkpoint in ``directory``, or None.

    A damaged highest file (it cannot come from an interrupted write, which only leaves a temporary file, but
    disks fail) is skipped in favour of the next lower one.
    """
    d = Path(directory)
    if not d.is_dir():
        return None
    found = sorted((int(m.group(1)) for f in d.iterdir() if (m := _TASK_FILE.match(f.name))), reverse=True)
    for t in found:
        try:
            ck = load_checkpoint(checkpoint_path(d, t))
        except ConfigError:
            continue
        if ck.t == t:
            return t, ck
    return None


def remove_temporaries(directory: str | os.PathLike[str]) -> list[Path]:
    """Delete leftover temporary files (``.<name>.tmp-<pid>``) of interrupted writes; returns what went."""
    d = Path(directory)
    gone = []
    if d.is_dir():
        for f in d.iterdir():
            if f.name.startswith(".") and ".tmp-" in f.name and f.is_file():
                discard(f)
                gone.append(f)
    return gone


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX: the directory entry lives in the directory's own blocks)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------------------------- JSONL log

class EvalLog:
    """Append-only JSON-lines log, one line per evaluation, each flushed and fsync'd as it is written.

    ``resume_after``: the task of the last checkpoint; lines with ``train_task`` greater than it (and a torn or
    unparsable tail) are cut off first. None: the log is emptied (a fresh start). Use as a context manager or
    call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str], resume_after: int | None = None) -> None:
        self.path = Path(path)
        if resume_after is not None and (isinstance(resume_after, bool) or resume_after < -1
                                         or not isinstance(resume_after, (int, np.integer))):
            raise ConfigError("resume_after", resume_after, "must be an integer >= -1 or None")
        self.truncated = self._truncate(None if resume_after is None else int(resume_after))
        self._fh: IO[bytes] | None = open(self.path, "ab")

    def _truncate(self, keep_upto: int | None) -> int:
        """Cut the file after the last good line with ``train_task <= keep_upto``; returns the lines removed."""
        if not self.path.exists():
            return 0
        data = self.path.read_bytes()
        end = 0
        removed = 0
        if keep_upto is not None:
            pos = 0
            while pos < len(data):
                nl = data.find(b"\n", pos)
                if nl < 0:
                    break  # torn last line: never completed
                try:
                    rec = json.loads(data[pos:nl])
                    ok = isinstance(rec, dict) and int(rec["train_task"]) <= keep_upto
                except (ValueError, KeyError, TypeError):
                    ok = False
                if not ok:
                    break
                end = nl + 1
                pos = nl + 1
        removed = data[end:].count(b"\n") + (1 if data[end:] and not data.endswith(b"\n") else 0)
        if end < len(data):
            with open(self.path, "rb+") as fh:
                fh.truncate(end)
                fh.flush()
                os.fsync(fh.fileno())
        return removed

    def append(self, train_task: int, eval_task: int, **fields: Any) -> None:
        """Write ``{"train_task": ..., "eval_task": ..., **fields}`` as one line (keys sorted), flush and fsync."""
        if self._fh is None:
            raise RuntimeError("EvalLog used after close()")
        rec = {"train_task": int(train_task), "eval_task": int(eval_task), **fields}
        try:
            line = json.dumps(rec, sort_keys=True, default=_json_default, allow_nan=True)
        except TypeError as exc:
            raise ConfigError("log", fields, f"must be JSON-serialisable ({exc})") from None
        self._fh.write(line.encode() + b"\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> EvalLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def read(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
        """Every complete line of a log, parsed."""
        lines = Path(path).read_bytes().split(b"\n")
        return [json.loads(ln) for ln in lines[:-1] if ln.strip()]


def resume(directory: str | os.PathLike[str]) -> tuple[int, Checkpoint | None, EvalLog]:
    """The restart protocol in one call: ``(first task to train, last checkpoint or None, log)``.

    Removes leftover temporary files, finds :func:`latest`, and opens ``<directory>/log.jsonl`` cut to match it
    (emptied when there is no checkpoint). A fresh run gets ``(0, None, empty log)``. One writer per directory.
    """
    d = Path(directory)
    if not d.is_dir():
        raise ConfigError("directory", str(directory), "must be an existing directory (see run_dir)")
    remove_temporaries(d)
    found = latest(d)
    if found is None:
        return 0, None, EvalLog(d / LOG_NAME, resume_after=None)
    t, state = found
    return t + 1, state, EvalLog(d / LOG_NAME, resume_after=t)


# ----------------------------------------------------------------------------------------------- HDF5 results

def write_results(path: str | os.PathLike[str], R: Any, b: Any | None = None,
                  diagnostics: Mapping[str, Any] | None = None, meta: Mapping[str, Any] | None = None,
                  summary: Mapping[str, float] | None = None) -> Path:
    """Write a run's results to HDF5 atomically (temporary file + ``os.replace``).

    Layout: ``/R`` (float64, rows trained x tasks), ``/b`` (optional), ``/diagnostics/<name>`` (one entry per
    task along axis 0, e.g. ``max|H Hᵀ - I|`` per layer: ``(T, layers)``); root attributes ``format``,
    ``format_version``, ``meta`` (JSON), ``summary`` (JSON, e.g. :func:`snn.continual.metrics.summarise`).
    """
    import h5py

    target = Path(path)
    if target.is_dir() or not target.parent.is_dir():
        raise ConfigError("path", str(path), "must be a file path in an existing directory")
    R_arr = np.asarray(R, dtype=np.float64)
    if R_arr.ndim != 2 or R_arr.shape[0] < 1:
        raise ConfigError("R", R, "must be a 2-D accuracy matrix (tasks trained, tasks)")
    diags: dict[str, np.ndarray] = {}
    for name, value in (diagnostics or {}).items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError("diagnostics", name, "names must be letters, digits and ._+-")
        arr = np.asarray(value)
        if arr.dtype == object or arr.ndim < 1:
            raise ConfigError(f"diagnostics.{name}", value, "must be an array of numbers, one entry per task")
        diags[name] = arr
    try:
        meta_json = json.dumps(dict(meta or {}), sort_keys=True, default=_json_default)
        summary_json = json.dumps(dict(summary or {}), sort_keys=True, default=_json_default)
    except TypeError as exc:
        raise ConfigError("meta", meta, f"must be JSON-serialisable ({exc})") from None
    tmp = temporary_path(target)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = RESULTS_FORMAT
            f.attrs["format_version"] = RESULTS_FORMAT_VERSION
            f.attrs["meta"] = meta_json
            f.attrs["summary"] = summary_json
            f.create_dataset("R", data=R_arr)
            if b is not None:
                f.create_dataset("b", data=np.asarray(b, dtype=np.float64))
            g = f.create_group("diagnostics")
            for name, arr in diags.items():
                g.create_dataset(name, data=arr)
        commit(tmp, target)
    except BaseException:
        discard(tmp)
        raise
    return target


def read_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What :func:`write_results` wrote: ``{"R", "b" (or None), "diagnostics": {name: array}, "meta", "summary"}``."""
    import h5py

    p = Path(path)
    if not p.is_file():
        raise ConfigError("path", str(path), "must be an existing results file")
    with h5py.File(p, "r") as f:
        if f.attrs.get("format") != RESULTS_FORMAT:
            raise ConfigError(str(path), f.attrs.get("format"), f"must be a {RESULTS_FORMAT} file")
        return {
            "R": f["R"][()],
            "b": f["b"][()] if "b" in f else None,
            "diagnostics": {k: f["diagnostics"][k][()] for k in f["diagnostics"]},
            "meta": json.loads(f.attrs["meta"], object_hook=_json_hook),
            "summary": json.loads(f.attrs["summary"]),
        }
