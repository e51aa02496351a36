"""CUBA benchmark: our numba engine against Brian2 cpp_standalone and NEST 3, measured in the same invocation.

Vogels-Abbott CUBA (Brian2 ``examples/CUBA.py``): N LIF neurons, 80 % excitatory, Bernoulli(p) connectivity,
dt 0.1 ms, exact integration, spike recording on, synaptic delays on. Each (engine, repeat) runs in its own
subprocess (``--worker``) so peak RSS is per engine and no JIT or kernel state leaks between engines; repeats are
interleaved engine by engine because timing on the benchmark VM drifts by up to 1.7x between periods.

Run ``python -m benchmarks.cuba --help``; the JSON layout is described in ``benchmarks/README.md``.
All times are in seconds, memory in MiB.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.common import machine_info, write_json_atomic
from benchmarks.peers import CUBA, Delay, VogelsAbbottParams, brian2_cuba, finish_result, nest_cuba, peak_rss_mb

#: used by billion, coba, stdp
__all__ = [
    "machine_info",
    "snn_cuba",
    "snn_cuba_neuron",
    "snn_ei_network",
    "snn_lif_kwargs",
    "snn_result",
    "snn_run",
    "write_json_atomic",
]

#: synapses per neuron of the scaling sweep (the "k80" protocol of Brette et al. 2007 / Stimberg et al. 2019)
SCALE_K = 80
DEFAULT_SIZES = (4_000, 64_000, 256_000, 1_000_000)
QUICK_SIZES = (4_000, 16_000)


# --------------------------------------------------------------------------------------------------------------
# our engine
# --------------------------------------------------------------------------------------------------------------


def snn_run(net: Any, duration: float, seed: int, dtype: str) -> tuple[Any, Any, dict[str, float]]:
    """Simulator set-up, JIT warm-up and one trial of ``net`` on our engine: ``(simulator, recording, times)``.

    ``times`` (seconds): ``simulator_s`` (constructor), ``compile_in_ctor_s`` (JIT the constructor reported),
    ``warmup_s`` (``Simulator.warmup()``: JIT or numba cache load outside ``run()``), ``run_call_s``, ``loop_s``
    (the Recording's own loop timing) and ``compile_s`` (the engine's own JIT figure; wall clock as the fallback).
    """
    import snn

    t_sim = time.perf_counter()
    sim = snn.Simulator(net, dtype=dtype)
    simulator_s = time.perf_counter() - t_sim
    compile_in_ctor_s = float(getattr(sim, "compile_s", 0.0) or 0.0)  # in case the constructor JITs
    t_warm = time.perf_counter()
    if callable(getattr(sim, "warmup", None)):
        sim.warmup()  # JIT (or numba cache load) outside run(), so run_call_s is the run alone
    warmup_s = time.perf_counter() - t_warm

    t_run = time.perf_counter()
    rec = sim.run(duration=duration, trials=1, seed=seed)
    run_call_s = time.perf_counter() - t_run
    # the engine's own figure once everything is compiled; our wall-clock measurement as the fallback
    compile_s = float(rec.timings.get("compile_s") or getattr(sim, "compile_s", 0.0) or compile_in_ctor_s + warmup_s)
    times = {
        "simulator_s": simulator_s,
        "compile_in_ctor_s": compile_in_ctor_s,
        "warmup_s": warmup_s,
        "run_call_s": run_call_s,
        "loop_s": float(rec.timings["loop_s"]),
        "compile_s": compile_s,
    }
    return sim, rec, times


def snn_result(
    sim: Any,
    times: dict[str, float],
    describe_s: float,
    import_s: float,
    dtype: str,
    spikes: int,
    events: int,
    exact: bool,
    nnz: int,
    engine_events: int | None,
    extra: dict[str, Any] | None = None,
    detail_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The common result fields of a run on our engine (without the derived ``events_per_s``/``rate_hz``).

    ``sim`` and ``times`` as :func:`snn_run` returns them, ``describe_s`` the time to build the network
    description, ``import_s`` that of ``import snn``. ``build_s`` = description + the Simulator's non-JIT set-up,
    ``compile_s`` the engine's JIT figure, ``loop_s`` the Recording's own loop timing, ``bytes_per_synapse`` from
    ``Simulator.memory_bytes()``. ``extra`` goes before ``detail``, ``detail_extra`` before ``detail.version``.
    """
    import snn

    memory = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in sim.memory_bytes().items()}
    return {
        "build_s": describe_s + times["simulator_s"] - times["compile_in_ctor_s"],
        "compile_s": times["compile_s"],
        "loop_s": times["loop_s"],
        "spikes": spikes,
        "synaptic_events": events,
        "synaptic_events_exact": exact,
        "peak_rss_mb": peak_rss_mb(),
        "nnz": nnz,
        "bytes_per_synapse": memory["synapses"] / nnz if nnz and "synapses" in memory else None,
        "dtype": dtype,
        **(extra or {}),
        "detail": {
            "describe_s": describe_s,
            "simulator_s": times["simulator_s"],
            "warmup_call_s": times["warmup_s"],
            "run_call_s": times["run_call_s"],
            "import_s": import_s,
            "memory_bytes": memory,
            "engine_synaptic_events": engine_events,
            **(detail_extra or {}),
            "version": getattr(snn, "__version__", None),
        },
    }


def snn_ei_network(
    n: int, p: float, duration: float, dt: float, seed: int, delay: Delay,
    make_neuron: Callable[[], tuple[Any, dict[str, Any]]], w_exc: float, w_inh: float, exc_fraction: float = 0.8,
    dtype: str = "float32", weights: str = "array", ee_plasticity: Callable[[], Any] | None = None,
) -> tuple[dict[str, Any], Any, np.ndarray | None]:  # fmt: skip
    """Run an excitatory/inhibitory network on our engine with spike monitors on both populations.

    ``n`` neurons (``exc_fraction`` exc.), Bernoulli(``p``) connectivity per population pair (four projections
    ``exc->exc``, ``exc->inh``, ``inh->exc``, ``inh->inh``, targets ``"exc"``/``"inh"`` by the presynaptic
    population), ``duration``, ``dt`` and ``delay`` in seconds (float: one constant delay, rounded to steps;
    ``(low, high)``: per-synapse delays uniform in that range). ``make_neuron()`` returns the neuron model and its
    ``initial`` values (called after the engine is imported); ``ee_plasticity()`` (optional) the learning rule of
    ``exc->exc``. ``weights="array"`` stores one weight per synapse (the general case, and what
    ``bytes_per_synapse`` is about); ``"scalar"`` passes one weight per projection (static projections only).

    Returns ``(result, recording, spikes per neuron or None)``; ``result`` has the common result fields except the
    derived ones (see :func:`benchmarks.peers.finish_result`): ``build_s`` covers connectivity, the network
    description and the Simulator's non-JIT set-up, ``compile_s`` the numba JIT/warm-up as reported by the
    Simulator, ``loop_s`` the Recording's own loop timing.
    """
    # Everything that touches the engine's API is in this module, so a renamed attribute is a one-line fix.
    t_import = time.perf_counter()
    from snn import connect
    from snn.model import Network, Population, Projection, SpikeMonitor

    import_s = time.perf_counter() - t_import
    n_exc = round(n * exc_fraction)
    n_inh = n - n_exc
    sizes = {"exc": n_exc, "inh": n_inh}
    offsets = {"exc": 0, "inh": n_exc}
    np_dtype = np.dtype(dtype)
    hetero = isinstance(delay, (tuple, list))
    rng = np.random.default_rng(common.sub_seed(seed, 99))  # per-synapse delays only

    t_build = time.perf_counter()
    neuron, initial = make_neuron()
    populations = [Population(name, size, neuron, initial=initial) for name, size in sizes.items()]
    projections = []
    out_degree = np.zeros(n, dtype=np.int64)
    nnz = 0
    for k, (pre, post) in enumerate([("exc", "exc"), ("exc", "inh"), ("inh", "exc"), ("inh", "inh")]):
        conn = connect.fixed_probability(sizes[pre], sizes[post], p, seed=common.sub_seed(seed, k))
        plastic = ee_plasticity is not None and (pre, post) == ("exc", "exc")
        w = w_exc if pre == "exc" else w_inh
        w_arg: Any = np.full(conn.nnz, w, dtype=np_dtype) if weights == "array" or plastic else w
        if hetero:
            lo, hi = delay
            d_arg: Any = np.rint(rng.uniform(lo, hi, conn.nnz) / dt).astype(np.int32)
        else:
            d_arg = round(float(delay) / dt)
        extra: dict[str, Any] = {"plasticity": ee_plasticity()} if plastic and ee_plasticity is not None else {}
        projections.append(
            Projection(pre=pre, post=post, connectivity=conn, weights=w_arg, delays=d_arg, target=pre, **extra)
        )
        out_degree[offsets[pre] : offsets[pre] + sizes[pre]] += np.diff(np.asarray(conn.indptr))
        nnz += conn.nnz
    net = Network(
        dt=dt,
        populations=populations,
        projections=projections,
        monitors=[SpikeMonitor("exc"), SpikeMonitor("inh")],
    )
    describe_s = time.perf_counter() - t_build

    sim, rec, times = snn_run(net, duration, seed, dtype)
    spikes = common.total(rec.n_spikes)
    events_reported = getattr(rec, "synaptic_events", None)
    engine_events = common.total(events_reported) if events_reported is not None else None
    counts: np.ndarray | None
    try:  # sum(spikes x out-degree) from the spike monitors, computed exactly as for the peers
        neurons = [rec.spike_times(pop)[0] + offsets[pop] for pop in sizes]
        counts = np.bincount(np.concatenate(neurons).astype(np.int64), minlength=n)
        events_from_monitor: int | None = int(counts @ out_degree)
    except (AttributeError, KeyError, TypeError):
        counts, events_from_monitor = None, None
    # The engine counts events when it delivers them, so spikes of the last step(s) that are still in flight at
    # the end are missing from its count; the monitor-based figure follows the benchmark's definition.
    if events_from_monitor is not None:
        events, exact = events_from_monitor, True
    elif engine_events is not None:
        events, exact = engine_events, True
    else:  # fall back to the mean out-degree rather than fail the whole benchmark
        events, exact = round(spikes * nnz / n), False
    detail = {"max_out_degree": int(out_degree.max()) if n else 0}
    result = snn_result(
        sim, times, describe_s, import_s, dtype, spikes, events, exact, nnz, engine_events, detail_extra=detail
    )
    return result, rec, counts


def snn_lif_kwargs(par: VogelsAbbottParams) -> dict[str, float]:
    """The LIF parameters of CUBA's or COBA's neurons as our neuron models take them (:class:`snn.model.LIF`,
    :class:`snn.model.ConductanceLIF`): time constants in seconds, potentials in mV."""
    return {
        "tau_m": par.tau_m,
        "v_rest": par.v_rest,
        "v_threshold": par.v_threshold,
        "v_reset": par.v_reset,
        "t_ref": par.t_ref,
        "tau_syn_exc": par.tau_e,
        "tau_syn_inh": par.tau_i,
    }


def snn_cuba_neuron() -> tuple[Any, dict[str, Any]]:
    """CUBA's neuron on our engine: :class:`snn.model.LIF` with :data:`benchmarks.peers.CUBA`'s parameters, and its
    ``initial`` values (v uniform between reset and threshold). For :func:`snn_ei_network`'s ``make_neuron``."""
    from snn.model import LIF, Uniform

    return LIF(**snn_lif_kwargs(CUBA)), {"v": Uniform(CUBA.v_reset, CUBA.v_threshold)}


def snn_cuba(
    n: int, p: float, duration: float, dt: float, seed: int, delay: Delay,
    dtype: str = "float32", weights: str = "array", w_scale: float = 1.0,
) -> dict:  # fmt: skip
    """Run CUBA on our engine with spike monitors on both populations and synaptic delays.

    ``n`` neurons (80 % exc.), Bernoulli(``p``) connectivity per population pair (four projections),
    ``duration``, ``dt`` and ``delay`` in seconds (float: one constant delay, rounded to steps; ``(low, high)``:
    per-synapse delays uniform in that range). ``weights="array"`` stores one weight per synapse (the general
    case, and what ``bytes_per_synapse`` is about); ``"scalar"`` passes one weight per projection, like Brian2's
    ``on_pre='ge += we'``. ``w_scale`` multiplies both weights (keeps the mean drive when the in-degree changes).

    Returns the common result fields (see :data:`benchmarks.peers.RESULT_FIELDS`); ``build_s`` covers connectivity,
    the network description and the Simulator's non-JIT set-up, ``compile_s`` the numba JIT/warm-up as reported
    by the Simulator, ``loop_s`` the Recording's own loop timing.
    """
    par = CUBA
    result, _, _ = snn_ei_network(
        n,
        p,
        duration,
        dt,
        seed,
        delay,
        snn_cuba_neuron,
        par.w_exc * w_scale,
        par.w_inh * w_scale,
        exc_fraction=par.exc_fraction,
        dtype=dtype,
        weights=weights,
    )
    return finish_result(result, n, duration)


# --------------------------------------------------------------------------------------------------------------
# worker: one engine, one run, JSON on stdout
# --------------------------------------------------------------------------------------------------------------


def run_worker(args: argparse.Namespace) -> dict:
    """Run one engine once in this process (``--worker``) and return its result dict."""
    return common.run_ei_worker(args, snn_cuba, brian2_cuba, nest_cuba)


# --------------------------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------------------------


_log = common.make_logger("cuba")


def spawn_worker(engine: str, n: int, p: float, seed: int, args: argparse.Namespace) -> dict:
    """Run ``engine`` once in a fresh interpreter and return its result, or ``{"error": ...}`` on failure."""
    return common.spawn_ei_worker("benchmarks.cuba", engine, n, p, seed, args)


def measure(
    engines: list[str], n: int, p: float, args: argparse.Namespace, limits: dict[str, int] | None = None
) -> dict[str, dict]:
    """Interleaved repeats of every engine at one network size. ``limits``: engine -> largest n to run."""
    return common.measure_engines(
        engines, args, lambda e, seed: spawn_worker(e, n, p, seed, args), _log, f"n={n} p={p:.6g} ", n, limits
    )


def run_benchmark(args: argparse.Namespace) -> dict:
    """The whole benchmark: base CUBA for every engine, optionally the k80 scaling sweep."""
    engines = args.engines
    t0 = time.perf_counter()
    out: dict[str, Any] = {}
    out["engines"] = measure(engines, args.n, args.p, args)
    out["speedup_vs_brian2_cpp_standalone"], out["speedup_per_round"] = common.speedups(out["engines"])
    if args.scale:
        limits = {"brian2": args.brian2_max, "nest": args.nest_max}
        points = []
        for n in args.sizes:
            p = SCALE_K / n
            if n == args.n and abs(p - args.p) < 1e-12:
                engines_at_n = out["engines"]  # identical configuration: reuse the base measurement
            else:
                engines_at_n = measure(engines, n, p, args, limits)
            speedup, per_round = common.speedups(engines_at_n)
            snn_res = engines_at_n.get("snn", {})
            points.append(
                {
                    "n": n,
                    "p": p,
                    "synapses_per_neuron": SCALE_K,
                    "loop_s": {k: v.get("loop_s") for k, v in engines_at_n.items() if "skipped" not in v},
                    "bytes_per_synapse": snn_res.get("bytes_per_synapse"),
                    "speedup_vs_brian2_cpp_standalone": speedup,
                    "speedup_per_round": per_round,
                    "engines": engines_at_n,
                }
            )
        out["scale"] = points
    out["config"] = {
        "benchmark": "CUBA (Vogels & Abbott 2005; Brian2 examples/CUBA.py)",
        **common.ei_config(args),
        "snn_dtype": args.dtype,
        "snn_weights": args.weights,
        "brian2": "cpp_standalone, openmp_threads=0, float64",
        "nest": f"iaf_psc_exp, {args.nest_threads} thread(s)",
        "quick": args.quick,
        "scale": {"sizes": list(args.sizes), "k": SCALE_K, "brian2_max": args.brian2_max, "nest_max": args.nest_max}
        if args.scale
        else None,
        "model": CUBA.as_dict(),
        "total_wall_s": time.perf_counter() - t0,
    }
    out["machine"] = machine_info()
    return out


def _sizes(value: str) -> list[int]:
    return [int(float(v)) for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.cuba",
        description="CUBA benchmark of the snn engine vs Brian2 cpp_standalone and NEST (times in seconds).",
    )
    common.add_ei_options(ap)
    ap.add_argument("--scale", action="store_true", help="also run the k80 sweep (p = 80/N, standard weights)")
    ap.add_argument("--sizes", type=_sizes, default=None, help="sweep sizes (default 4000,64000,256000,1000000)")
    ap.add_argument("--brian2-max", type=int, default=256_000, help="largest N Brian2 runs in the sweep")
    ap.add_argument("--nest-max", type=int, default=64_000, help="largest N NEST runs in the sweep")
    common.add_run_options(ap, "smoke run: 0.1 s, 1 repeat, no NEST, sizes 4000,16000")
    return ap


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the CLI and fill the defaults that depend on ``--quick``."""
    return common.parse_ei_args(build_parser(), argv, sizes=(list(QUICK_SIZES), list(DEFAULT_SIZES)))


def main(argv: list[str] | None = None) -> int:
    return common.script_main(parse_args(argv), run_worker, run_benchmark)


if __name__ == "__main__":
    sys.exit(main())
