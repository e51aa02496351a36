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

from benchmarks import common
from benchmarks.cuba import snn_ei_network, snn_lif_kwargs
from benchmarks.peers import COBA, Delay, brian2_coba, finish_result, nest_coba, rates_by_population

#: snn loop at least this many times faster than Brian2 cpp_standalone's
SPEEDUP_GOAL = 3.0
#: Brette et al. (2007) COBA fires at a few Hz to ~20 Hz; outside this range the JSON gets a warning
EXPECTED_RATE_HZ = (1.0, 30.0)
#: largest relative difference of the mean rate between snn and Brian2 before the JSON gets a warning
RATE_TOLERANCE = 0.2
#: fields whose medians the summaries carry besides the common ones
EXTRA_FIELDS = ("rate_exc_hz", "rate_inh_hz", "bytes_per_synapse", "nnz", "wall_s")

_log = common.make_logger("coba")


def snn_coba(
    n: int, p: float, duration: float, dt: float, seed: int, delay: Delay,
    dtype: str = "float32", weights: str = "array",
) -> dict:  # fmt: skip
    """Run COBA on our engine (:class:`snn.model.ConductanceLIF`, exponential Euler) with spike monitors.

    Arguments as :func:`benchmarks.cuba.snn_cuba`. Conductance weights ``we``/``wi`` are in leak units (>= 0) on
    the ``"exc"``/``"inh"`` targets; initial v, ge, gi as :class:`benchmarks.peers.CobaParams`.
    Returns the common result fields plus ``rate_exc_hz``/``rate_inh_hz``.
    """
    par = COBA

    def make_neuron() -> tuple[Any, dict[str, Any]]:
        from snn.model import ConductanceLIF, Normal, Uniform

        model = ConductanceLIF(**snn_lif_kwargs(par), e_exc=par.e_exc, e_inh=par.e_inh)
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
    if counts is not None:
        result.update(rates_by_population(counts, par.split(n)[0], duration))
    return finish_result(result, n, duration)


# --------------------------------------------------------------------------------------------------------------
# worker: one engine, one run, JSON on stdout
# --------------------------------------------------------------------------------------------------------------


def run_worker(args: argparse.Namespace) -> dict:
    """Run one engine once in this process (``--worker``) and return its result dict."""
    return common.run_ei_worker(args, snn_coba, brian2_coba, nest_coba)


# --------------------------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------------------------


def _spawn(engine: str, seed: int, args: argparse.Namespace) -> dict:
    """Run ``engine`` once in a fresh interpreter and return its result, or ``{"error": ...}`` on failure."""
    return common.spawn_ei_worker("benchmarks.coba", engine, args.n, args.p, seed, args)


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
    rel_diff, warning = common.rate_vs_brian2(rates, RATE_TOLERANCE)
    if warning:
        warnings.append(warning)
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
    engines = common.measure_engines(
        args.engines, args, lambda e, seed: _spawn(e, seed, args), _log, f"n={args.n} ", extra_fields=EXTRA_FIELDS
    )
    out["engines"] = {key: engines[key] for key in common.ENGINE_KEYS.values()}
    out["speedup_vs_brian2_cpp_standalone"], out["speedup_per_round"] = common.speedups(out["engines"])
    out["goal"] = common.goal(out["speedup_vs_brian2_cpp_standalone"], SPEEDUP_GOAL)
    out["rates"], out["warnings"] = rate_check(out["engines"])
    for warning in out["warnings"]:
        _log(f"WARNING: {warning}")
    out["config"] = {
        "benchmark": "COBA (Vogels & Abbott 2005; Brette et al. 2007, benchmark 1)",
        **common.ei_config(args),
        "integration": "exponential Euler (snn, Brian2); NEST iaf_cond_exp: adaptive RKF45",
        "snn_dtype": args.dtype,
        "snn_weights": args.weights,
        "brian2": "cpp_standalone, openmp_threads=0, float64, method='exponential_euler'",
        "nest": f"iaf_cond_exp, {args.nest_threads} thread(s)",
        "quick": args.quick,
        "model": COBA.as_dict(),
        "total_wall_s": time.perf_counter() - t0,
    }
    out["machine"] = common.machine_info()
    return out


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.coba",
        description="COBA benchmark of the snn engine vs Brian2 cpp_standalone and NEST (times in seconds).",
    )
    common.add_ei_options(ap)
    common.add_run_options(ap, "smoke run: 0.1 s, 1 repeat, no NEST")
    return ap


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the CLI and fill the defaults that depend on ``--quick``."""
    return common.parse_ei_args(build_parser(), argv)


def main(argv: list[str] | None = None) -> int:
    return common.script_main(parse_args(argv), run_worker, run_benchmark)


if __name__ == "__main__":
    sys.exit(main())
