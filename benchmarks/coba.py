"""COBA benchmark: our numba engine against Brian2 cpp_standalone and NEST 3, measured in the same invocation.

Vogels-Abbott COBA, benchmark 1 of Brette et al. (2007): N conductance-based LIF neurons, 80 % excitatory,
Bernoulli(p) connectivity, dt 0.1 ms, exponential Euler, spike recording on, synaptic delays on. Same machinery as
``cuba.py`` (one subprocess per engine and round, interleaved rounds, medians); goal: snn's loop at least 3x
faster than Brian2 cpp_standalone's. Also checks that the network fires at a sensible rate and that the engines
agree on it.

Run ``python -m benchmarks.coba --help``; the JSON layout is described in ``benchmarks/README.md``.
All times are in seconds, memory in MiB.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from benchmarks.common import (
    ENGINE_KEYS,
    engines_type,
    finish_output,
    goal,
    in_build_dir,
    machine_info,
    make_logger,
    run_rounds,
    select_engines,
    spawn_worker,
    speedups,
    summarize,
    worker_main,
)
from benchmarks.cuba import snn_ei_network
from benchmarks.peers import COBA, Delay, brian2_coba, finish_result, nest_coba

#: snn loop at least this many times faster than Brian2 cpp_standalone's
SPEEDUP_GOAL = 3.0
#: Brette et al. (2007) COBA fires at a few Hz to ~20 Hz; outside this range the JSON gets a warning
EXPECTED_RATE_HZ = (1.0, 30.0)
#: largest relative difference of the mean rate between snn and Brian2 before the JSON gets a warning
RATE_TOLERANCE = 0.2
#: fields whose medians the summaries carry besides the common ones
EXTRA_FIELDS = ("rate_exc_hz", "rate_inh_hz", "bytes_per_synapse", "nnz", "wall_s")

_log = make_logger("coba")


def snn_coba(
    n: int,
    p: float,
    duration: float,
    dt: float,
    seed: int,
    delay: Delay,
    dtype: str = "float32",
    weights: str = "array",
) -> dict:
    """Run COBA on our engine (:class:`snn.model.ConductanceLIF`, exponential Euler) with spike monitors.

    Arguments as :func:`benchmarks.cuba.snn_cuba`. Conductance weights ``we``/``wi`` are in leak units (>= 0) on
    the ``"exc"``/``"inh"`` targets; initial v, ge, gi as :class:`benchmarks.peers.CobaParams`.
    Returns the common result fields plus ``rate_exc_hz``/``rate_inh_hz``.
    """
    par = COBA

    def make_neuron() -> tuple[Any, dict[str, Any]]:
        from snn.model import ConductanceLIF, Normal, Uniform

        model = ConductanceLIF(
            tau_m=par.tau_m,
            v_rest=par.v_rest,
            v_threshold=par.v_threshold,
            v_reset=par.v_reset,
            t_ref=par.t_ref,
            tau_syn_exc=par.tau_e,
            tau_syn_inh=par.tau_i,
            e_exc=par.e_exc,
            e_inh=par.e_inh,
        )
        initial = {
            "v": Uniform(par.v_reset, par.v_threshold),
            "g_exc": Normal(par.ge_init_mean, par.ge_init_std),
            "g_inh": Normal(par.gi_init_mean, par.gi_init_std),
        }
        return model, initial

    result, _, counts = snn_ei_network(
        n,
        p,
        duration,
        dt,
        seed,
        delay,
        make_neuron,
        par.w_exc,
        par.w_inh,
        exc_fraction=par.exc_fraction,
        dtype=dtype,
        weights=weights,
    )
    n_exc, n_inh = par.split(n)
    if counts is not None:
        result["rate_exc_hz"] = float(counts[:n_exc].sum()) / (n_exc * duration)
        result["rate_inh_hz"] = float(counts[n_exc:].sum()) / (n_inh * duration) if n_inh else None
    return finish_result(result, n, duration)


# --------------------------------------------------------------------------------------------------------------
# worker: one engine, one run, JSON on stdout
# --------------------------------------------------------------------------------------------------------------


def _delay_arg(args: argparse.Namespace) -> Delay:
    """The delay (seconds) the engines get: a float, or a (low, high) range for ``--delays hetero``."""
    if args.delays == "hetero":
        lo, hi = args.delay_range_ms
        return (lo * 1e-3, hi * 1e-3)
    return args.delay_ms * 1e-3


def run_worker(args: argparse.Namespace) -> dict:
    """Run one engine once in this process (``--worker``) and return its result dict."""
    common = {
        "n": args.n,
        "p": args.p,
        "duration": args.duration,
        "dt": args.dt,
        "seed": args.seed,
        "delay": _delay_arg(args),
    }
    if args.worker == "snn":
        return snn_coba(**common, dtype=args.dtype, weights=args.weights)
    if args.worker == "brian2":
        return in_build_dir(brian2_coba, **common)
    if args.worker == "nest":
        return nest_coba(**common, threads=args.nest_threads)
    raise ValueError(f"unknown engine {args.worker!r}")


# --------------------------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------------------------


def _spawn(engine: str, seed: int, args: argparse.Namespace) -> dict:
    """Run ``engine`` once in a fresh interpreter and return its result, or ``{"error": ...}`` on failure."""
    argv = [
        "--worker", engine,
        "--n", str(args.n), "--p", repr(args.p), "--duration", repr(args.duration), "--dt", repr(args.dt),
        "--seed", str(seed), "--delays", args.delays, "--delay-ms", repr(args.delay_ms),
        "--delay-range-ms", *(repr(x) for x in args.delay_range_ms),
        "--dtype", args.dtype, "--weights", args.weights, "--nest-threads", str(args.nest_threads),
    ]  # fmt: skip
    return spawn_worker("benchmarks.coba", argv, args.timeout)


def rate_check(engines: dict[str, dict]) -> tuple[dict[str, Any], list[str]]:
    """Mean rates per engine against :data:`EXPECTED_RATE_HZ`, and snn against Brian2 (:data:`RATE_TOLERANCE`).

    Returns the ``rates`` block of the JSON and the warnings (also in the JSON).
    """
    warnings: list[str] = []
    rates = {
        key: {f: res.get(f) for f in ("rate_hz", "rate_exc_hz", "rate_inh_hz")}
        for key, res in engines.items()
        if "skipped" not in res
    }
    lo, hi = EXPECTED_RATE_HZ
    for key, r in rates.items():
        rate = r["rate_hz"]
        if rate is None:
            continue
        if not lo <= rate <= hi:
            warnings.append(f"{key} fires at {rate:.3g} Hz, outside the expected {lo:g}-{hi:g} Hz of COBA")
    snn_rate = rates.get("snn", {}).get("rate_hz")
    b2_rate = rates.get("brian2_cpp_standalone", {}).get("rate_hz")
    rel_diff = None
    if snn_rate is not None and b2_rate:
        rel_diff = (snn_rate - b2_rate) / b2_rate
        if abs(rel_diff) > RATE_TOLERANCE:
            warnings.append(
                f"snn rate {snn_rate:.3g} Hz differs from Brian2's {b2_rate:.3g} Hz by {100 * rel_diff:+.0f} % "
                f"(> {100 * RATE_TOLERANCE:.0f} %)"
            )
    block = {
        "expected_hz": list(EXPECTED_RATE_HZ),
        "tolerance_vs_brian2": RATE_TOLERANCE,
        "snn_vs_brian2_rel_diff": rel_diff,
        "engines": rates,
    }
    return block, warnings


def run_benchmark(args: argparse.Namespace) -> dict:
    """Interleaved rounds of every selected engine, medians, speedup, goal and rate checks."""
    t0 = time.perf_counter()
    out: dict[str, Any] = {}
    engines, active = select_engines(args.engines, args.quick)
    runs = run_rounds(
        active, args.repeats, args.seed, lambda e, seed: _spawn(e, seed, args), _log, label=f"n={args.n} "
    )
    for engine in active:
        engines[ENGINE_KEYS[engine]] = summarize(runs[engine], EXTRA_FIELDS)
    out["engines"] = {key: engines[key] for key in ENGINE_KEYS.values()}
    out["speedup_vs_brian2_cpp_standalone"], out["speedup_per_round"] = speedups(out["engines"])
    out["goal"] = goal(out["speedup_vs_brian2_cpp_standalone"], SPEEDUP_GOAL)
    out["rates"], out["warnings"] = rate_check(out["engines"])
    for warning in out["warnings"]:
        _log(f"WARNING: {warning}")
    delay = _delay_arg(args)
    out["config"] = {
        "benchmark": "COBA (Vogels & Abbott 2005; Brette et al. 2007, benchmark 1)",
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
        "integration": "exponential Euler (snn, Brian2); NEST iaf_cond_exp: adaptive RKF45",
        "snn_dtype": args.dtype,
        "snn_weights": args.weights,
        "brian2": "cpp_standalone, openmp_threads=0, float64, method='exponential_euler'",
        "nest": f"iaf_cond_exp, {args.nest_threads} thread(s)",
        "quick": args.quick,
        "model": COBA.as_dict(),
        "total_wall_s": time.perf_counter() - t0,
    }
    out["machine"] = machine_info()
    return out


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.coba",
        description="COBA benchmark of the snn engine vs Brian2 cpp_standalone and NEST (times in seconds).",
    )
    ap.add_argument("--engines", type=engines_type(), default=None, help="comma list of snn,brian2,nest (default: all)")
    ap.add_argument("--n", type=int, default=4000, help="neurons (default 4000)")
    ap.add_argument("--p", type=float, default=0.02, help="connection probability (default 0.02)")
    ap.add_argument("--duration", type=float, default=None, help="biological time, s (default 1.0; --quick 0.1)")
    ap.add_argument("--dt", type=float, default=1e-4, help="time step, s (default 1e-4)")
    ap.add_argument("--seed", type=int, default=1, help="seed of round 1; round r uses seed + r - 1")
    ap.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 3; --quick 1)")
    ap.add_argument("--delays", choices=("const", "hetero"), default="const", help="constant or per-synapse delays")
    ap.add_argument("--delay-ms", type=float, default=0.1, help="constant delay, ms (default 0.1 = 1 step)")
    ap.add_argument(
        "--delay-range-ms", type=float, nargs=2, default=(0.1, 2.0), metavar=("LO", "HI"),
        help="range of --delays hetero, ms (default 0.1 2.0)",
    )  # fmt: skip
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="our engine's state dtype")
    ap.add_argument("--weights", choices=("array", "scalar"), default="array", help="our engine: per-synapse weights")
    ap.add_argument("--nest-threads", type=int, default=1, help="NEST local_num_threads (default 1)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 0.1 s, 1 repeat, no NEST")
    ap.add_argument("--timeout", type=float, default=3600.0, help="per-worker timeout, s")
    ap.add_argument("--json", metavar="PATH", help="also write the JSON here (atomically)")
    ap.add_argument("--worker", choices=sorted(ENGINE_KEYS), help=argparse.SUPPRESS)
    return ap


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the CLI and fill the defaults that depend on ``--quick``."""
    args = build_parser().parse_args(argv)
    if args.engines is None:
        args.engines = list(ENGINE_KEYS)
    if args.duration is None:
        args.duration = 0.1 if args.quick else 1.0
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.repeats < 1 or args.n < 1 or not 0 < args.p <= 1 or args.duration <= 0 or args.dt <= 0:
        raise SystemExit("need --repeats >= 1, --n >= 1, 0 < --p <= 1, --duration > 0, --dt > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main(lambda: run_worker(args), ENGINE_KEYS[args.worker])
    return finish_output(run_benchmark(args), args.json)


if __name__ == "__main__":
    sys.exit(main())
