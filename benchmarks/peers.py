"""Peer simulators for the CUBA benchmark: Brian2 (cpp_standalone) and NEST 3 (``iaf_psc_exp``).

Each runner builds the Vogels-Abbott CUBA network (Brian2 ``examples/CUBA.py``; Brette et al. 2007, benchmark 2),
runs it once and returns a flat dict with the fields every engine reports (see :data:`RESULT_FIELDS`).
Units: all times in **seconds**, potentials in mV, memory in MiB ("mb" = 2**20 bytes, as ``ru_maxrss`` KiB / 1024).

The runners are meant to be called once per process (``python -m benchmarks.cuba --worker brian2 ...``):
Brian2's device and NEST's kernel are process-global, and peak RSS (``ru_maxrss``) only means something for the
engine when nothing else ran in the process. ``brian2`` and ``nest`` are imported inside the functions so this
module imports without either installed.

Delays: ``delay`` is either a float (one constant delay in seconds for every synapse) or a ``(low, high)`` tuple
(per-synapse delays drawn uniformly in [low, high] seconds). Every engine gets the same *nominal* value and applies
its own convention; they differ by one step: Brian2's delay 0 delivers in the step of the spike (felt by ``v`` one
step later), NEST needs delay >= dt and its delay d is felt by ``v`` one step after arrival.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

Delay = float | tuple[float, float]


@dataclass(frozen=True)
class CubaParams:
    """CUBA parameters of Brian2's ``examples/CUBA.py`` (times in seconds, potentials in mV)."""

    exc_fraction: float = 0.8
    tau_m: float = 20e-3
    tau_e: float = 5e-3
    tau_i: float = 10e-3
    v_threshold: float = -50.0
    v_reset: float = -60.0
    v_rest: float = -49.0
    t_ref: float = 5e-3
    #: excitatory weight (60 * 0.27 / 10) mV: jump of the exc. synaptic variable, as voltage
    w_exc: float = 1.62
    #: inhibitory weight (-20 * 4.5 / 10) mV
    w_inh: float = -9.0

    def split(self, n: int) -> tuple[int, int]:
        """(excitatory, inhibitory) population sizes for ``n`` neurons."""
        n_exc = round(n * self.exc_fraction)
        return n_exc, n - n_exc

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


CUBA = CubaParams()

#: Fields every runner returns (plus engine-specific extras such as ``detail``).
RESULT_FIELDS = (
    "build_s",
    "compile_s",
    "loop_s",
    "spikes",
    "synaptic_events",
    "events_per_s",
    "peak_rss_mb",
    "rate_hz",
)


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size in MiB of this process (or of its largest waited-for descendant)."""
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux reports KiB


def finish_result(result: dict[str, Any], n: int, duration: float) -> dict[str, Any]:
    """Fill the derived fields ``events_per_s`` and ``rate_hz`` (mean rate over all neurons, Hz)."""
    loop_s = result.get("loop_s")
    events = result.get("synaptic_events")
    result["events_per_s"] = events / loop_s if loop_s and events is not None else None
    result["rate_hz"] = result["spikes"] / (n * duration) if n and duration else None
    return result


def _is_hetero(delay: Delay) -> bool:
    return isinstance(delay, (tuple, list))


# --------------------------------------------------------------------------------------------------------------
# Brian2 cpp_standalone
# --------------------------------------------------------------------------------------------------------------

#: The binary is run through this tiny wrapper so its own peak RSS can be read: RUSAGE_CHILDREN of the worker
#: would mix in the compiler (cc1plus), which is often larger than the simulation at small N.
_RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[1:])\n"
    "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open('binary_peak_rss_kb.txt', 'w').write(str(kb))\n"
    "sys.exit(rc)\n"
)


def brian2_cuba(n: int, p: float, duration: float, dt: float, seed: int, delay: Delay, build_dir: str) -> dict:
    """Run CUBA in Brian2 ``cpp_standalone`` (serial, float64) with a SpikeMonitor on all neurons.

    ``n`` neurons (80 % exc.), Bernoulli(``p``) connectivity with autapses, ``duration`` and ``dt`` in seconds,
    ``delay`` in seconds (float: constant, homogeneous Synapses delay; tuple: per-synapse uniform). The project is
    generated, built (``make``) and run in ``build_dir``, which must be empty or absent.

    Returns ``build_s`` = Python network description + binary time outside the run loop (synapse creation,
    initialisation, result I/O), ``compile_s`` = code generation + ``make``, ``loop_s`` = the binary's own timing of
    the ``run()`` loop (``device._last_run_time``), ``peak_rss_mb`` = peak RSS of the simulation binary, and
    ``detail`` with every component.
    """
    t_import = time.perf_counter()
    import brian2 as b2

    import_s = time.perf_counter() - t_import
    b2.prefs.logging.file_log = False  # no debug log files left in /tmp by benchmark workers
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=True)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0  # serial: OpenMP is slower on 2 vCPUs (anchors sheet)
    b2.prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, "-c", _RSS_WRAPPER, "./main"]
    mV, second = b2.mV, b2.second

    t_build = time.perf_counter()
    b2.defaultclock.dt = dt * second
    b2.seed(seed)
    par = CUBA
    n_exc, n_inh = par.split(n)
    ns = {
        "taum": par.tau_m * second,
        "taue": par.tau_e * second,
        "taui": par.tau_i * second,
        "Vt": par.v_threshold * mV,
        "Vr": par.v_reset * mV,
        "El": par.v_rest * mV,
        "we": par.w_exc * mV,
        "wi": par.w_inh * mV,
    }
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    group = b2.NeuronGroup(
        n, eqs, threshold="v>Vt", reset="v = Vr", refractory=par.t_ref * second, method="exact", namespace=ns
    )
    group.v = "Vr + rand() * (Vt - Vr)"
    group.ge = 0 * mV
    group.gi = 0 * mV
    # Subgroups instead of CUBA.py's 'i<3200' condition: same Bernoulli connectivity, and the synapse indices
    # come out relative to each presynaptic population, which makes the out-degree a plain bincount.
    pre_exc, pre_inh = group[:n_exc], group[n_exc:]
    hetero = _is_hetero(delay)
    syn_kw: dict[str, Any] = {} if hetero else {"delay": float(delay) * second}  # scalar delay = homogeneous queue
    syn_e = b2.Synapses(pre_exc, group, on_pre="ge += we", namespace=ns, name="syn_exc", **syn_kw)
    syn_i = b2.Synapses(pre_inh, group, on_pre="gi += wi", namespace=ns, name="syn_inh", **syn_kw)
    syn_e.connect(p=p)
    syn_i.connect(p=p)
    if hetero:
        lo, hi = (float(x) for x in delay)
        expr = f"{lo!r}*second + rand()*{hi - lo!r}*second"
        syn_e.delay = expr
        syn_i.delay = expr
    mon = b2.SpikeMonitor(group)
    net = b2.Network(group, syn_e, syn_i, mon)
    python_build_s = time.perf_counter() - t_build

    t_run = time.perf_counter()
    net.run(duration * second)  # build_on_run: code generation + make + binary
    run_call_s = time.perf_counter() - t_run
    device = b2.get_device()
    make_s = float(device.timers["compile"]["make"] or 0.0)
    binary_s = float(device.timers["run_binary"] or 0.0)
    loop_s = float(device._last_run_time)
    codegen_s = run_call_s - make_s - binary_s

    counts = np.asarray(mon.count[:], dtype=np.int64)
    pre_e = np.asarray(syn_e.i[:])
    pre_i = np.asarray(syn_i.i[:])
    out_degree = np.concatenate([np.bincount(pre_e, minlength=n_exc), np.bincount(pre_i, minlength=n_inh)])
    rss_file = os.path.join(build_dir, "binary_peak_rss_kb.txt")
    binary_rss_mb = float(Path(rss_file).read_text()) / 1024.0 if os.path.exists(rss_file) else None
    result = {
        "build_s": python_build_s + (binary_s - loop_s),
        "compile_s": codegen_s + make_s,
        "loop_s": loop_s,
        "spikes": int(mon.num_spikes),
        "synaptic_events": int(counts @ out_degree),
        "synaptic_events_exact": True,
        "peak_rss_mb": binary_rss_mb,
        "nnz": int(pre_e.size + pre_i.size),
        "dtype": "float64",
        "detail": {
            "python_build_s": python_build_s,
            "binary_outside_loop_s": binary_s - loop_s,
            "codegen_s": codegen_s,
            "make_s": make_s,
            "binary_s": binary_s,
            "completed_fraction": float(device._last_run_completed_fraction),
            "import_s": import_s,
            "python_peak_rss_mb": peak_rss_mb(),
            # includes the compiler: an upper bound on anything Brian2 spawned
            "children_peak_rss_mb": peak_rss_mb(resource.RUSAGE_CHILDREN),
        },
    }
    return finish_result(result, n, duration)


# --------------------------------------------------------------------------------------------------------------
# NEST 3
# --------------------------------------------------------------------------------------------------------------

#: Membrane capacitance (pF) given to NEST; weights in pA are w[mV] * C / tau_m so that the PSP matches Brian2's.
NEST_C_M_PF = 250.0
#: pairwise_bernoulli is O(N^2) in NEST (130 s to connect 64k, anchors sheet): above this use fixed_indegree
NEST_BERNOULLI_MAX_N = 16_000
#: exact per-neuron out-degrees need GetConnections (GBs at millions of synapses): above this use the mean
NEST_EXACT_EVENTS_MAX_NNZ = 2_000_000


def nest_cuba(n: int, p: float, duration: float, dt: float, seed: int, delay: Delay, threads: int = 1) -> dict:
    """Run CUBA in NEST 3 with ``iaf_psc_exp`` and a spike_recorder on all neurons.

    Arguments as :func:`brian2_cuba` (seconds); ``threads`` = NEST ``local_num_threads``. Connectivity is
    ``pairwise_bernoulli`` up to :data:`NEST_BERNOULLI_MAX_N` neurons, ``fixed_indegree`` with the same mean above.
    ``build_s`` = Create + Connect + Prepare, ``compile_s`` = 0 (nothing is generated), ``loop_s`` = ``nest.Run``.
    ``synaptic_events`` is exact up to :data:`NEST_EXACT_EVENTS_MAX_NNZ` synapses, spikes x mean out-degree above.
    """
    import warnings

    t_import = time.perf_counter()
    import nest

    import_s = time.perf_counter() - t_import
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # set_verbosity warns "provided for backward compatibility" in 3.10
        nest.set_verbosity("M_ERROR")
    par = CUBA
    n_exc, n_inh = par.split(n)
    ms = 1e3  # NEST takes ms
    t_build = time.perf_counter()
    nest.ResetKernel()
    nest.SetKernelStatus(
        {"resolution": dt * ms, "local_num_threads": int(threads), "rng_seed": int(seed) % (2**31 - 2) + 1}
    )
    params = {
        "C_m": NEST_C_M_PF,
        "tau_m": par.tau_m * ms,
        "tau_syn_ex": par.tau_e * ms,
        "tau_syn_in": par.tau_i * ms,
        "t_ref": par.t_ref * ms,
        "E_L": par.v_rest,
        "V_th": par.v_threshold,
        "V_reset": par.v_reset,
        "I_e": 0.0,
    }
    pop = nest.Create("iaf_psc_exp", n, params=params)
    pop.V_m = nest.random.uniform(min=par.v_reset, max=par.v_threshold)
    exc, inh = pop[:n_exc], pop[n_exc:]
    if _is_hetero(delay):
        lo, hi = (float(x) * ms for x in delay)
        nest_delay: Any = nest.random.uniform(min=lo, max=hi)
    else:
        nest_delay = max(float(delay) * ms, dt * ms)  # NEST rejects delays below the resolution
    if n <= NEST_BERNOULLI_MAX_N:
        conn: dict[str, Any] = {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": True}
    else:
        conn = {"rule": "fixed_indegree", "indegree": round(p * n_exc), "allow_autapses": True}
    w_scale = NEST_C_M_PF / (par.tau_m * ms)  # mV -> pA
    nest.Connect(
        exc, pop, conn, {"synapse_model": "static_synapse", "weight": par.w_exc * w_scale, "delay": nest_delay}
    )
    if conn["rule"] == "fixed_indegree":
        conn = {**conn, "indegree": round(p * n_inh)}
    nest.Connect(
        inh, pop, conn, {"synapse_model": "static_synapse", "weight": par.w_inh * w_scale, "delay": nest_delay}
    )
    recorder = nest.Create("spike_recorder")
    nest.Connect(pop, recorder)
    nnz = int(nest.GetKernelStatus("num_connections")) - n  # minus the n recorder connections
    connect_s = time.perf_counter() - t_build
    t_prep = time.perf_counter()
    nest.Prepare()
    prepare_s = time.perf_counter() - t_prep

    t_loop = time.perf_counter()
    nest.Run(duration * ms)
    loop_s = time.perf_counter() - t_loop
    nest.Cleanup()
    rss_after_loop_mb = peak_rss_mb()  # before GetConnections below, which is costly in NEST's Python layer

    first_id = pop[0].global_id
    senders = np.asarray(recorder.get("events")["senders"], dtype=np.int64) - first_id
    counts = np.bincount(senders, minlength=n)
    exact = nnz <= NEST_EXACT_EVENTS_MAX_NNZ
    if exact:
        out_degree = np.zeros(n, dtype=np.int64)
        chunk = max(1, NEST_EXACT_EVENTS_MAX_NNZ // 8 // max(int(p * n), 1))  # bounded memory per GetConnections
        for start in range(0, n, chunk):
            sources = np.atleast_1d(
                np.asarray(nest.GetConnections(source=pop[start : min(start + chunk, n)], target=pop).get("source"))
            )
            out_degree += np.bincount(sources.astype(np.int64) - first_id, minlength=n)
        events = int(counts @ out_degree)
    else:
        events = round(counts.sum() * nnz / n)
    result = {
        "build_s": connect_s + prepare_s,
        "compile_s": 0.0,
        "loop_s": loop_s,
        "spikes": int(counts.sum()),
        "synaptic_events": events,
        "synaptic_events_exact": exact,
        "peak_rss_mb": rss_after_loop_mb,
        "nnz": nnz,
        "dtype": "float64",
        "detail": {
            "peak_rss_incl_out_degree_count_mb": peak_rss_mb(),
            "create_connect_s": connect_s,
            "prepare_s": prepare_s,
            "import_s": import_s,
            "connection_rule": conn["rule"],
            "threads": int(threads),
            "weights_pA": [par.w_exc * w_scale, par.w_inh * w_scale],
        },
    }
    return finish_result(result, n, duration)
