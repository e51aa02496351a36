"""STDP benchmark: our numba engine against Brian2 cpp_standalone on two plastic networks, in the same invocation.

- ``song``: Song, Miller & Abbott (2000) as in Brian2's ``examples/synapses/STDP.py``: 1000 Poisson inputs at
  15 Hz onto one conductance-based LIF neuron through additive all-to-all pair STDP, 100 s by default; reports
  the final weight distribution (bimodal: most weights end near 0 or gmax).
- ``recurrent``: 10,000 CUBA neurons (8k exc / 2k inh, p = 2 %, weights scaled to the k80 mean drive), pair STDP on
  the exc -> exc synapses, 1 s by default.

Same machinery as ``cuba.py`` (one subprocess per engine and round, interleaved rounds, medians); goal: snn's loop
at least 2x faster than Brian2 cpp_standalone's on both networks.

Run ``python -m benchmarks.stdp --help``; the JSON layout is described in ``benchmarks/README.md``.
All times are in seconds, memory in MiB.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.cuba import snn_cuba_neuron, snn_ei_network, snn_result, snn_run
from benchmarks.peers import (
    CUBA,
    SONG,
    STDP_NET,
    brian2_song,
    brian2_stdp_network,
    finish_result,
    finish_weights,
    rates_by_population,
)

#: CLI engine name -> key in the JSON (no NEST peer here)
ENGINE_KEYS = {"snn": "snn", "brian2": "brian2_cpp_standalone"}
NETWORKS = ("song", "recurrent")
#: snn loop at least this many times faster than Brian2 cpp_standalone's, on every network
SPEEDUP_GOAL = 2.0
#: largest relative difference of the mean rate between snn and Brian2 before the JSON gets a warning
RATE_TOLERANCE = 0.2
EXTRA_FIELDS = (
    "input_spikes",
    "plastic_synapses",
    "rate_exc_hz",
    "rate_inh_hz",
    "weight_mean_rel",
    "weight_frac_low",
    "weight_frac_high",
    "bytes_per_synapse",
    "nnz",
    "wall_s",
)

_log = common.make_logger("stdp")


def snn_song(duration: float, dt: float, seed: int, dtype: str = "float32") -> dict:
    """Run Song et al. (2000) on our engine: :class:`snn.model.PoissonInput` -> one
    :class:`snn.model.ConductanceLIF` through an :class:`snn.model.STDP` projection (delay 0, like Brian2's example).

    Initial weights U(0, gmax) from ``seed``. ``synaptic_events`` = input spikes (one synapse each), ``spikes`` /
    ``rate_hz`` the output neuron's, ``weights`` the final weight summary (:func:`benchmarks.peers.weight_summary`).
    """
    t_import = time.perf_counter()
    from snn import connect
    from snn.model import STDP, ConductanceLIF, Network, PoissonInput, Population, Projection, SpikeMonitor

    import_s = time.perf_counter() - t_import
    par = SONG
    t_build = time.perf_counter()
    neuron = ConductanceLIF(
        tau_m=par.tau_m,
        v_rest=par.v_rest,
        v_threshold=par.v_threshold,
        v_reset=par.v_reset,
        t_ref=0.0,
        tau_syn_exc=par.tau_e,
        e_exc=par.e_exc,
    )
    conn = connect.all_to_all(par.n_inputs, 1)
    rng = np.random.default_rng(common.sub_seed(seed, 0))
    w0 = rng.uniform(0.0, par.g_max, conn.nnz).astype(np.dtype(dtype))
    rule = STDP(
        tau_pre=par.tau_pre,
        tau_post=par.tau_post,
        a_plus=par.a_plus,
        a_minus=par.a_minus,
        w_min=0.0,
        w_max=par.g_max,
        pairing="all",
        bounds="additive",
    )
    proj = Projection(
        pre="input", post="neuron", connectivity=conn, weights=w0, delays=0, target="exc", plasticity=rule
    )
    net = Network(
        dt=dt,
        populations=[Population("neuron", 1, neuron, initial={"v": par.v_reset})],
        inputs=[PoissonInput("input", par.n_inputs, par.input_rate)],
        projections=[proj],
        monitors=[SpikeMonitor("neuron")],
    )
    describe_s = time.perf_counter() - t_build

    sim, rec, times = snn_run(net, duration, seed, dtype)
    engine_events = common.total(rec.synaptic_events)
    counts = getattr(rec, "spike_counts", {})
    input_spikes = common.total(counts["input"]) if "input" in counts else None
    result = snn_result(
        sim,
        times,
        describe_s,
        import_s,
        dtype,
        spikes=common.total(rec.n_spikes),
        events=input_spikes if input_spikes is not None else engine_events,
        exact=True,
        nnz=conn.nnz,
        engine_events=engine_events,
        extra={"input_spikes": input_spikes},
        detail_extra={"input_rate_hz": input_spikes / (par.n_inputs * duration) if input_spikes is not None else None},
    )
    finish_weights(result, np.asarray(rec.final_weights[proj.name])[0], par.g_max)
    return finish_result(result, 1, duration)


def snn_stdp_network(
    n: int, p: float, duration: float, dt: float, seed: int, delay: float, dtype: str = "float32"
) -> dict:
    """Run the recurrent STDP network (:class:`benchmarks.peers.StdpNetworkParams`) on our engine.

    CUBA LIF neurons as :func:`benchmarks.cuba.snn_cuba`, weights scaled to the k80 drive, an
    :class:`snn.model.STDP` rule on ``exc->exc`` (per-synapse weights), the other projections static.
    Fields as :func:`benchmarks.cuba.snn_cuba`, plus rates per population and the final weight summary.
    """
    par = CUBA
    w = STDP_NET.weights(n, p)

    def make_rule() -> Any:
        from snn.model import STDP

        return STDP(
            tau_pre=STDP_NET.tau_pre,
            tau_post=STDP_NET.tau_post,
            a_plus=w["a_plus"],
            a_minus=w["a_minus"],
            w_min=0.0,
            w_max=w["w_max"],
            pairing="all",
            bounds="additive",
        )

    result, rec, counts = snn_ei_network(
        n,
        p,
        duration,
        dt,
        seed,
        delay,
        snn_cuba_neuron,
        w["w_exc"],
        w["w_inh"],
        exc_fraction=par.exc_fraction,
        dtype=dtype,
        ee_plasticity=make_rule,
    )
    if counts is not None:
        result.update(rates_by_population(counts, par.split(n)[0], duration))
    final = np.asarray(rec.final_weights["exc->exc"])[0]
    result["plastic_synapses"] = int(final.size)
    finish_weights(result, final, w["w_max"])
    return finish_result(result, n, duration)


# --------------------------------------------------------------------------------------------------------------
# worker: one engine, one network, one run, JSON on stdout
# --------------------------------------------------------------------------------------------------------------


def run_worker(args: argparse.Namespace) -> dict:
    """Run one engine on one network (``--worker ENGINE --network NAME``) in this process."""
    if args.network == "song":
        kw: dict[str, Any] = {"duration": args.song_duration, "dt": args.dt, "seed": args.seed}
        if args.worker == "snn":
            return snn_song(**kw, dtype=args.dtype)
        if args.worker == "brian2":
            return common.in_build_dir(brian2_song, **kw)
    elif args.network == "recurrent":
        kw = {
            "n": args.n,
            "p": args.p,
            "duration": args.recurrent_duration,
            "dt": args.dt,
            "seed": args.seed,
            "delay": args.delay_ms * 1e-3,
        }
        if args.worker == "snn":
            return snn_stdp_network(**kw, dtype=args.dtype)
        if args.worker == "brian2":
            return common.in_build_dir(brian2_stdp_network, **kw)
    raise ValueError(f"unknown engine {args.worker!r} or network {args.network!r}")


# --------------------------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------------------------


def _spawn(engine: str, network: str, seed: int, args: argparse.Namespace) -> dict:
    """Run ``engine`` on ``network`` once in a fresh interpreter; its result or ``{"error": ...}``."""
    argv = [
        "--worker", engine, "--network", network,
        "--n", str(args.n), "--p", repr(args.p), "--dt", repr(args.dt), "--seed", str(seed),
        "--song-duration", repr(args.song_duration), "--recurrent-duration", repr(args.recurrent_duration),
        "--delay-ms", repr(args.delay_ms), "--dtype", args.dtype,
    ]  # fmt: skip
    return common.spawn_worker("benchmarks.stdp", argv, args.timeout)


def _compare(network: str, engines: dict[str, dict]) -> tuple[dict[str, Any], list[str]]:
    """Rates and final weights side by side; a warning when snn's rate differs from Brian2's by more than
    :data:`RATE_TOLERANCE`."""
    fields = ("rate_hz", "rate_exc_hz", "rate_inh_hz", "weight_mean_rel", "weight_frac_low", "weight_frac_high")
    ran = {key: res for key, res in engines.items() if "skipped" not in res}
    fields = tuple(f for f in fields if any(res.get(f) is not None for res in ran.values()))
    table = {key: {f: res.get(f) for f in fields} for key, res in ran.items()}
    rel_diff, warning = common.rate_vs_brian2(table, RATE_TOLERANCE)
    warnings = [f"{network}: {warning}"] if warning else []
    for key, row in table.items():
        if row.get("rate_hz") == 0:
            warnings.append(f"{network}: {key} did not fire")
    return {"tolerance_vs_brian2": RATE_TOLERANCE, "snn_vs_brian2_rate_rel_diff": rel_diff, "engines": table}, warnings


def run_benchmark(args: argparse.Namespace) -> dict:
    """Interleaved rounds of every selected engine on every selected network; medians, speedups, goal."""
    t0 = time.perf_counter()
    out: dict[str, Any] = {"networks": {}}
    all_warnings: list[str] = []
    for network in args.networks:
        engines = common.measure_engines(
            args.engines,
            args,
            lambda e, seed, net=network: _spawn(e, net, seed, args),
            _log,
            f"{network}: ",
            engine_keys=ENGINE_KEYS,
            extra_fields=EXTRA_FIELDS,
        )
        engines = {key: engines[key] for key in ENGINE_KEYS.values()}
        speedup, per_round = common.speedups(engines)
        comparison, warnings = _compare(network, engines)
        all_warnings += warnings
        out["networks"][network] = {
            "engines": engines,
            "speedup_vs_brian2_cpp_standalone": speedup,
            "speedup_per_round": per_round,
            "goal": common.goal(speedup, SPEEDUP_GOAL),
            "comparison": comparison,
        }
    met = [v["goal"]["met"] for v in out["networks"].values()]
    out["goal"] = {
        "target": f"snn loop_s <= brian2_cpp_standalone loop_s / {SPEEDUP_GOAL:g} on every network",
        "speedup_target": SPEEDUP_GOAL,
        "met": None if not met or None in met else all(met),
    }
    out["warnings"] = all_warnings
    for warning in all_warnings:
        _log(f"WARNING: {warning}")
    w = STDP_NET.weights(args.n, args.p)
    out["config"] = {
        "benchmark": "STDP: Song, Miller & Abbott 2000 (Brian2 examples/synapses/STDP.py); recurrent CUBA + STDP",
        "networks": list(args.networks),
        "seed": args.seed,
        "repeats": args.repeats,
        "dt_s": args.dt,
        "engines": [ENGINE_KEYS[e] for e in args.engines],
        "spike_recording": "song: output neuron (inputs counted only); recurrent: all neurons",
        "snn_dtype": args.dtype,
        "brian2": "cpp_standalone, openmp_threads=0, float64",
        "quick": args.quick,
        "song": {
            "duration_s": args.song_duration,
            "delay_s": 0.0,
            "integration": "exponential Euler (snn ConductanceLIF; Brian2 method='exponential_euler')",
            "synaptic_current": "ge*(Ee-v) (Brian2's example linearises it as ge*(Ee-vr))",
            "stdp": "additive, all-to-all pairs, w in [0, gmax], initial U(0, gmax)",
            "model": SONG.as_dict(),
        },
        "recurrent": {
            "n": args.n,
            "p": args.p,
            "duration_s": args.recurrent_duration,
            "delay_s": args.delay_ms * 1e-3,
            "integration": "exact (CUBA LIF)",
            "stdp": "exc->exc only, additive, all-to-all pairs, delay axonal (Brian2: delay on the pre pathway)",
            "weights_mV": w,
            "neuron": CUBA.as_dict(),
            "model": STDP_NET.as_dict(),
        },
        "total_wall_s": time.perf_counter() - t0,
    }
    out["machine"] = common.machine_info()
    return out


_networks = common.comma_list_type(NETWORKS, "networks")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.stdp",
        description="STDP benchmarks (Song et al. 2000; recurrent CUBA + STDP) of the snn engine vs Brian2 "
        "cpp_standalone (times in seconds).",
    )
    ap.add_argument("--engines", type=common.engines_type(ENGINE_KEYS), default=None, help="snn,brian2 (default: both)")
    ap.add_argument("--networks", type=_networks, default=list(NETWORKS), help="song,recurrent (default: both)")
    ap.add_argument("--song-duration", type=float, default=None, help="Song: biological time, s (100; --quick 1)")
    ap.add_argument(
        "--recurrent-duration", type=float, default=None, help="recurrent: biological time, s (1; --quick 0.1)"
    )
    common.add_size_options(ap, 10_000, "recurrent: ")
    ap.add_argument("--delay-ms", type=float, default=0.1, help="recurrent: constant delay, ms (default 0.1)")
    common.add_round_options(ap)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="our engine's state dtype")
    common.add_run_options(ap, "smoke run: Song 1 s, recurrent 0.1 s, 1 repeat", ENGINE_KEYS)
    ap.add_argument("--network", choices=NETWORKS, help=argparse.SUPPRESS)
    return ap


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the CLI and fill the defaults that depend on ``--quick``."""
    args = common.fill_defaults(
        build_parser().parse_args(argv), ENGINE_KEYS, song_duration=(1.0, 100.0), recurrent_duration=(0.1, 1.0)
    )
    if (args.repeats < 1 or args.n < 1 or not 0 < args.p <= 1 or args.song_duration <= 0
            or args.recurrent_duration <= 0 or args.dt <= 0 or args.delay_ms < 0):  # fmt: skip
        raise SystemExit("need --repeats >= 1, --n >= 1, 0 < --p <= 1, durations > 0, --dt > 0, --delay-ms >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    return common.script_main(parse_args(argv), run_worker, run_benchmark, ENGINE_KEYS)


if __name__ == "__main__":
    sys.exit(main())
