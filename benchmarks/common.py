"""Machinery shared by the benchmark scripts (``cuba.py``, ``coba.py``, ``stdp.py``).

- every (engine, round) runs in a fresh interpreter (``python -m benchmarks.<script> --worker ENGINE ...``) that
  prints one JSON line (:func:`spawn_worker`, :func:`worker_main`);
- rounds are interleaved, engine order rotating, round r using seed ``seed + r`` (:func:`run_rounds`);
- medians over the successful rounds (:func:`summarize`, all three steps: :func:`measure_engines`), Brian2 / snn
  loop-time ratios (:func:`speedups`), snn's rate against Brian2's (:func:`rate_vs_brian2`);
- the machine and software the numbers were taken on (:func:`machine_info`), atomic JSON (:func:`write_json_atomic`);
- the command line they share (:func:`add_ei_options`, :func:`add_size_options`, :func:`add_round_options`,
  :func:`add_run_options`, :func:`fill_defaults`, :func:`parse_ei_args`), their ``main`` (:func:`script_main`), and
  the plumbing of the two E/I network benchmarks ``cuba.py`` and ``coba.py`` (:func:`run_ei_worker`,
  :func:`spawn_ei_worker`, :func:`ei_config`).

All times in seconds, memory in MiB.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.peers import RESULT_FIELDS, Delay

REPO_ROOT = Path(__file__).resolve().parent.parent

#: CLI engine name -> key in the JSON
ENGINE_KEYS = {"snn": "snn", "brian2": "brian2_cpp_standalone", "nest": "nest"}
#: the reference engine of every ``speedup_vs_brian2_cpp_standalone``
REFERENCE_KEY = "brian2_cpp_standalone"


def sub_seed(seed: int, k: int) -> int:
    """An independent 32-bit seed for the k-th projection (or any other k-th stream), derived from ``seed``."""
    return int(np.random.SeedSequence([int(seed), int(k)]).generate_state(1)[0])


def total(value: Any) -> int:
    """Sum a count the engine may report as an int, an array (per trial/neuron) or a dict (per population)."""
    if isinstance(value, dict):
        return sum(total(v) for v in value.values())
    return int(np.sum(value))


def make_logger(tag: str) -> Callable[[str], None]:
    """``log(msg)`` printing ``[tag HH:MM:SS] msg`` to stderr (stdout is reserved for the JSON)."""

    def log(msg: str) -> None:
        print(f"[{tag} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    return log


# --------------------------------------------------------------------------------------------------------------
# worker processes
# --------------------------------------------------------------------------------------------------------------


def spawn_worker(module: str, worker_args: Sequence[str], timeout: float) -> dict:
    """Run ``python -m module *worker_args`` in a fresh interpreter; its last stdout line is the result (JSON).

    Returns the parsed result with ``wall_s`` (whole subprocess, interpreter start and imports included), or
    ``{"error": ..., "stderr_tail": ...}`` when the worker failed, timed out or printed no JSON.
    """
    cmd = [sys.executable, "-m", module, *worker_args]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, check=False, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    wall_s = time.perf_counter() - t0
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit code {proc.returncode}", "stderr_tail": proc.stderr[-2000:]}
    try:
        result = json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"error": "worker printed no JSON", "stdout_tail": proc.stdout[-2000:]}
    result["wall_s"] = wall_s
    return result


def worker_main(run: Callable[[], dict], engine_key: str) -> int:
    """Worker entry point: the engine's own prints (NEST banner, Brian2 binary) go to stderr, stdout is one JSON."""
    stdout_fd = os.dup(1)
    sys.stdout.flush()
    os.dup2(2, 1)
    try:
        result = run()
    finally:
        sys.stdout.flush()
        os.dup2(stdout_fd, 1)
        os.close(stdout_fd)
    result["engine"] = engine_key
    print(json.dumps(result), flush=True)
    return 0


def in_build_dir(fn: Callable[..., dict], **kwargs: Any) -> dict:
    """``fn(**kwargs, build_dir=...)`` in a fresh temporary directory, removed afterwards (Brian2's generated project
    and results are hundreds of MB at large N)."""
    build_dir = tempfile.mkdtemp(prefix="snn-bench-brian2-")
    try:
        return fn(**kwargs, build_dir=build_dir)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------------------------
# rounds and summaries
# --------------------------------------------------------------------------------------------------------------


def select_engines(
    engines: Iterable[str],
    quick: bool,
    n: int | None = None,
    limits: Mapping[str, int] | None = None,
    engine_keys: Mapping[str, str] = ENGINE_KEYS,
) -> tuple[dict[str, dict], list[str]]:
    """Which engines run: ``({json key: {"skipped": why}} for those that do not, [CLI names of those that do])``.

    Every key of ``engine_keys`` appears in the JSON, unselected ones as skipped. NEST is skipped with ``quick``
    and when ``import nest`` would fail; ``limits`` maps an engine to the largest ``n`` it runs.
    """
    selected = set(engines)
    limits = limits or {}
    skipped: dict[str, dict] = {}
    active = []
    for engine, key in engine_keys.items():
        if engine not in selected:
            skipped[key] = {"skipped": "not selected (--engines)"}
        elif engine == "nest" and quick:
            skipped[key] = {"skipped": "--quick"}
        elif engine == "nest" and importlib.util.find_spec("nest") is None:
            skipped[key] = {"skipped": "nest not installed"}
        elif engine in limits and n is not None and n > limits[engine]:
            skipped[key] = {"skipped": f"n={n} above --{engine}-max {limits[engine]}"}
        else:
            active.append(engine)
    return skipped, active


def describe_run(res: dict) -> str:
    """One log line for a successful worker result."""
    return (
        f"loop {res['loop_s']:.4f} s, build {res['build_s']:.2f} s, compile {res['compile_s']:.2f} s, "
        f"{res['spikes']} spikes, {res['rate_hz']:.2f} Hz"
    )


def run_rounds(
    active: Sequence[str],
    repeats: int,
    seed: int,
    run_one: Callable[[str, int], dict],
    log: Callable[[str], None],
    label: str = "",
) -> dict[str, list[dict]]:
    """Interleaved rounds: round r runs every engine once with seed ``seed + r`` (a new network per round, the same
    for every engine in it), the engine order rotating so no engine always has the same slot.

    ``run_one(engine, seed)`` returns a worker result (or ``{"error": ...}``); each gets ``seed`` and ``round``.
    Returns ``{engine: [result per round]}``.
    """
    runs: dict[str, list[dict]] = {e: [] for e in active}
    active = list(active)
    for r in range(repeats):
        round_seed = seed + r
        order = active[r % len(active) :] + active[: r % len(active)] if active else []
        for engine in order:
            log(f"{label}round {r + 1}/{repeats}: {engine} ...")
            res = run_one(engine, round_seed)
            res["seed"] = round_seed
            res["round"] = r
            if "error" in res:
                log(f"  {engine} FAILED: {res['error']} {res.get('stderr_tail', '')[-600:]}")
            else:
                log(f"  {engine}: {describe_run(res)}")
            runs[engine].append(res)
    return runs


def measure_engines(
    engines: Iterable[str],
    args: argparse.Namespace,
    spawn: Callable[[str, int], dict],
    log: Callable[[str], None],
    label: str = "",
    n: int | None = None,
    limits: Mapping[str, int] | None = None,
    engine_keys: Mapping[str, str] = ENGINE_KEYS,
    extra_fields: Sequence[str] = ("bytes_per_synapse", "nnz", "wall_s"),
) -> dict[str, dict]:
    """:func:`select_engines` (``args.quick``), :func:`run_rounds` (``args.repeats`` from ``args.seed``, workers
    started by ``spawn(engine, seed)``) and :func:`summarize` (``extra_fields``) of every engine that ran.

    Returns ``{json key: summary}``, the engines that did not run first (``{"skipped": why}``).
    """
    results, active = select_engines(engines, args.quick, n, limits, engine_keys)
    runs = run_rounds(active, args.repeats, args.seed, spawn, log, label)
    for engine in active:
        results[engine_keys[engine]] = summarize(runs[engine], extra_fields)
    return results


def median(values: list[float]) -> float | None:
    """Median; counts stay integers when the median of an even number of them happens to be whole."""
    if not values:
        return None
    med = statistics.median(values)
    return int(med) if all(isinstance(v, int) for v in values) and float(med).is_integer() else med


def summarize(runs: list[dict], extra_fields: Sequence[str] = ("bytes_per_synapse", "nnz", "wall_s")) -> dict:
    """Medians of the result fields over the successful runs, with all values and the raw runs.

    The fields of :data:`benchmarks.peers.RESULT_FIELDS` always appear (``None`` without data); ``extra_fields``
    only where some run reported them.
    """
    ok = [r for r in runs if "error" not in r]
    summary: dict[str, Any] = {}
    values: dict[str, list] = {}
    for field in (*RESULT_FIELDS, *extra_fields):
        vals = [r[field] for r in ok if r.get(field) is not None]
        if vals or field in RESULT_FIELDS:
            values[field] = vals
            summary[field] = median(vals)
    summary["n_ok"] = len(ok)
    summary["n_failed"] = len(runs) - len(ok)
    summary["values"] = values
    summary["runs"] = runs
    return summary


def speedups(engines: Mapping[str, dict], field: str = "loop_s") -> tuple[float | None, list[float | None]]:
    """Brian2 / snn of ``field`` (loop seconds): the ratio of the medians, and the ratio within each round."""
    snn_res, b2_res = engines.get("snn", {}), engines.get(REFERENCE_KEY, {})
    if not snn_res.get(field) or not b2_res.get(field):
        return None, []
    per_round = []
    for a, b in zip(snn_res["runs"], b2_res["runs"]):
        ok = "error" not in a and "error" not in b and a.get(field)
        per_round.append(b[field] / a[field] if ok else None)
    return b2_res[field] / snn_res[field], per_round


def rate_vs_brian2(rates: Mapping[str, Mapping[str, Any]], tolerance: float) -> tuple[float | None, str | None]:
    """snn's mean rate against Brian2's (``rates``: JSON key -> ``{"rate_hz": ...}``): the relative difference
    ``(snn - brian2) / brian2`` (``None`` without both), and a warning when it is larger than ``tolerance``."""
    snn_rate = rates.get("snn", {}).get("rate_hz")
    b2_rate = rates.get(REFERENCE_KEY, {}).get("rate_hz")
    if snn_rate is None or not b2_rate:
        return None, None
    rel_diff = (snn_rate - b2_rate) / b2_rate
    warning = None
    if abs(rel_diff) > tolerance:
        warning = (
            f"snn rate {snn_rate:.3g} Hz differs from Brian2's {b2_rate:.3g} Hz by {100 * rel_diff:+.0f} % "
            f"(> {100 * tolerance:.0f} %)"
        )
    return rel_diff, warning


def goal(speedup: float | None, target: float) -> dict[str, Any]:
    """The speed goal of a benchmark: snn's loop at least ``target`` times faster than Brian2 cpp_standalone."""
    return {
        "target": f"snn loop_s <= brian2_cpp_standalone loop_s / {target:g} (speedup >= {target:g}x)",
        "speedup_target": target,
        "speedup": speedup,
        "met": None if speedup is None else bool(speedup >= target),
    }


# --------------------------------------------------------------------------------------------------------------
# machine, JSON, CLI helpers
# --------------------------------------------------------------------------------------------------------------


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _command_output(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=10, cwd=REPO_ROOT)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def machine_info() -> dict[str, Any]:
    """CPU, memory, software versions and the git state the numbers were taken on."""
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kb = None
    dists = ("snn-hal", "numpy", "numba", "llvmlite", "brian2", "nest-simulator", "h5py", "sympy", "cython")
    return {
        "cpu_model": cpu_model or platform.processor(),
        "cores": os.cpu_count(),
        "cores_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": round(mem_kb / 2**20, 1) if mem_kb else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gcc": _command_output(["gcc", "-dumpfullversion"]),
        "versions": {d: _version(d) for d in dists},
        "git_commit": _command_output(["git", "rev-parse", "HEAD"]),
        "git_dirty": bool(_command_output(["git", "status", "--porcelain", "--untracked-files=no"])),
        "timestamp_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def write_json_atomic(path: str | Path, data: dict) -> None:
    """Write ``data`` to ``path`` via ``path.tmp`` + ``os.replace``, so readers never see a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def comma_list_type(choices: Sequence[str], what: str) -> Callable[[str], list[str]]:
    """argparse ``type=`` for ``--what a,b``: the names, deduplicated, each one of ``choices``."""

    def parse(value: str) -> list[str]:
        names = [v.strip() for v in value.split(",") if v.strip()]
        bad = [v for v in names if v not in choices]
        if bad or not names:
            raise argparse.ArgumentTypeError(f"{what} must be a comma list of {list(choices)}, got {value!r}")
        return list(dict.fromkeys(names))

    return parse


def engines_type(engine_keys: Mapping[str, str] = ENGINE_KEYS) -> Callable[[str], list[str]]:
    """argparse ``type=`` for ``--engines a,b``: the names, deduplicated, each a key of ``engine_keys``."""
    return comma_list_type(sorted(engine_keys), "engines")


def add_size_options(ap: argparse.ArgumentParser, n_default: int, scope: str = "") -> None:
    """``--n`` (default ``n_default``) and ``--p``; ``scope`` prefixes the help (``"recurrent: "``)."""
    ap.add_argument("--n", type=int, default=n_default, help=f"{scope}neurons (default {n_default})")
    ap.add_argument("--p", type=float, default=0.02, help=f"{scope}connection probability (default 0.02)")


def add_round_options(ap: argparse.ArgumentParser) -> None:
    """``--dt``, ``--seed`` and ``--repeats`` (``None`` until :func:`fill_defaults`)."""
    ap.add_argument("--dt", type=float, default=1e-4, help="time step, s (default 1e-4)")
    ap.add_argument("--seed", type=int, default=1, help="seed of round 1; round r uses seed + r - 1")
    ap.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 3; --quick 1)")


def add_run_options(ap: argparse.ArgumentParser, quick_help: str, engine_keys: Mapping[str, str] = ENGINE_KEYS) -> None:
    """``--quick`` (help ``quick_help``), ``--timeout``, ``--json`` and the hidden ``--worker ENGINE``."""
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--timeout", type=float, default=3600.0, help="per-worker timeout, s")
    ap.add_argument("--json", metavar="PATH", help="also write the JSON here (atomically)")
    ap.add_argument("--worker", choices=sorted(engine_keys), help=argparse.SUPPRESS)


def add_ei_options(ap: argparse.ArgumentParser) -> None:
    """The options of the E/I network benchmarks (``cuba.py``, ``coba.py``), ``--engines`` to ``--nest-threads``."""
    ap.add_argument("--engines", type=engines_type(), default=None, help="comma list of snn,brian2,nest (default: all)")
    add_size_options(ap, 4000)
    ap.add_argument("--duration", type=float, default=None, help="biological time, s (default 1.0; --quick 0.1)")
    add_round_options(ap)
    ap.add_argument("--delays", choices=("const", "hetero"), default="const", help="constant or per-synapse delays")
    ap.add_argument("--delay-ms", type=float, default=0.1, help="constant delay, ms (default 0.1 = 1 step)")
    ap.add_argument(
        "--delay-range-ms", type=float, nargs=2, default=(0.1, 2.0), metavar=("LO", "HI"),
        help="range of --delays hetero, ms (default 0.1 2.0)",
    )  # fmt: skip
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="our engine's state dtype")
    ap.add_argument("--weights", choices=("array", "scalar"), default="array", help="our engine: per-synapse weights")
    ap.add_argument("--nest-threads", type=int, default=1, help="NEST local_num_threads (default 1)")


def fill_defaults(
    args: argparse.Namespace, engine_keys: Mapping[str, str] = ENGINE_KEYS, **quick_or_full: tuple[Any, Any]
) -> argparse.Namespace:
    """Fill the defaults left ``None`` by the parser: ``engines`` = all of ``engine_keys``, ``repeats`` = 1 with
    ``--quick`` else 3, and each ``name=(with_quick, without)``."""
    if args.engines is None:
        args.engines = list(engine_keys)
    for name, (quick, full) in {"repeats": (1, 3), **quick_or_full}.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    return args


def parse_ei_args(
    ap: argparse.ArgumentParser, argv: list[str] | None, **quick_or_full: tuple[Any, Any]
) -> argparse.Namespace:
    """Parse the CLI of an E/I network benchmark, fill the defaults that depend on ``--quick`` (``duration`` 0.1 s
    or 1 s, and ``quick_or_full`` as :func:`fill_defaults`) and check the values."""
    args = fill_defaults(ap.parse_args(argv), duration=(0.1, 1.0), **quick_or_full)
    if args.repeats < 1 or args.n < 1 or not 0 < args.p <= 1 or args.duration <= 0 or args.dt <= 0:
        raise SystemExit("need --repeats >= 1, --n >= 1, 0 < --p <= 1, --duration > 0, --dt > 0")
    return args


def finish_output(out: dict, json_path: str | None) -> int:
    """Write the JSON to ``json_path`` (atomically) if given, and always to stdout."""
    if json_path:
        write_json_atomic(json_path, out)
    print(json.dumps(out, indent=2))
    return 0


def script_main(
    args: argparse.Namespace,
    run_worker: Callable[[argparse.Namespace], dict],
    run_benchmark: Callable[[argparse.Namespace], dict],
    engine_keys: Mapping[str, str] = ENGINE_KEYS,
) -> int:
    """``main`` of a benchmark script: one worker run (``--worker``, :func:`worker_main`), or the whole benchmark
    with its JSON on stdout and in ``--json`` (:func:`finish_output`)."""
    if args.worker:
        return worker_main(lambda: run_worker(args), engine_keys[args.worker])
    return finish_output(run_benchmark(args), args.json)


# --------------------------------------------------------------------------------------------------------------
# E/I network benchmarks (cuba.py, coba.py): worker calls and the shared part of the config
# --------------------------------------------------------------------------------------------------------------


def delay_arg(args: argparse.Namespace) -> Delay:
    """The delay (seconds) the engines get: a float, or a (low, high) range for ``--delays hetero``."""
    if args.delays == "hetero":
        lo, hi = args.delay_range_ms
        return (lo * 1e-3, hi * 1e-3)
    return args.delay_ms * 1e-3


def run_ei_worker(
    args: argparse.Namespace, snn: Callable[..., dict], brian2: Callable[..., dict], nest: Callable[..., dict]
) -> dict:
    """Run one engine once in this process (``--worker``): ``snn(n, p, duration, dt, seed, delay, dtype,
    weights)``, ``brian2(..., build_dir)`` in a temporary directory or ``nest(..., threads)``; its result dict."""
    common = {
        "n": args.n,
        "p": args.p,
        "duration": args.duration,
        "dt": args.dt,
        "seed": args.seed,
        "delay": delay_arg(args),
    }
    if args.worker == "snn":
        return snn(**common, dtype=args.dtype, weights=args.weights)
    if args.worker == "brian2":
        return in_build_dir(brian2, **common)  # generated project + results: hundreds of MB at 256k
    if args.worker == "nest":
        return nest(**common, threads=args.nest_threads)
    raise ValueError(f"unknown engine {args.worker!r}")


def spawn_ei_worker(module: str, engine: str, n: int, p: float, seed: int, args: argparse.Namespace) -> dict:
    """Run ``engine`` once on ``n`` neurons at probability ``p`` in a fresh interpreter (``python -m module
    --worker engine ...``, the other options from ``args``); its result, or ``{"error": ...}`` on failure."""
    argv = [
        "--worker", engine,
        "--n", str(n), "--p", repr(p), "--duration", repr(args.duration), "--dt", repr(args.dt),
        "--seed", str(seed), "--delays", args.delays, "--delay-ms", repr(args.delay_ms),
        "--delay-range-ms", *(repr(x) for x in args.delay_range_ms),
        "--dtype", args.dtype, "--weights", args.weights, "--nest-threads", str(args.nest_threads),
    ]  # fmt: skip
    return spawn_worker(module, argv, args.timeout)


def ei_config(args: argparse.Namespace) -> dict[str, Any]:
    """The part of an E/I network benchmark's ``config`` block that ``cuba.py`` and ``coba.py`` share
    (``n`` to ``spike_recording``)."""
    delay = delay_arg(args)
    return {
        "n": args.n,
        "p": args.p,
        "duration_s": args.duration,
        "dt_s": args.dt,
        "seed": args.seed,
        "repeats": args.repeats,
        "engines": [ENGINE_KEYS[e] for e in args.engines],
        "delays": args.delays,
        "delay_s": list(delay) if isinstance(delay, tuple) else delay,
        "delay_note": "same nominal delay for every engine; each applies its own convention (differ by one step)",
        "spike_recording": True,
    }


def float_list(value: str) -> list[float]:
    """argparse type: a non-empty comma list of numbers >= 0."""
    try:
        out = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a comma list of numbers, got {value!r}") from None
    if not out or min(out) < 0:
        raise argparse.ArgumentTypeError("must be a non-empty list of numbers >= 0")
    return out


def int_list(value: str) -> list[int]:
    """argparse type: a non-empty comma list of integers >= 1."""
    try:
        out = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a comma list of integers, got {value!r}") from None
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError("must be integers >= 1")
    return out
