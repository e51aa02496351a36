"""Peer simulators: Brian2 (cpp_standalone) and NEST 3 runners for ``cuba.py``, ``coba.py`` and ``stdp.py``.

- CUBA (Vogels-Abbott; Brian2 ``examples/CUBA.py``; Brette et al. 2007, benchmark 2): :func:`brian2_cuba`,
  :func:`nest_cuba` (``iaf_psc_exp``), parameters :data:`CUBA`.
- COBA (Brette et al. 2007, benchmark 1): :func:`brian2_coba`, :func:`nest_coba` (``iaf_cond_exp``), :data:`COBA`.
- STDP (Brian2 only): :func:`brian2_song` (Song, Miller & Abbott 2000; :data:`SONG`) and
  :func:`brian2_stdp_network` (recurrent CUBA network with plastic exc -> exc synapses; :data:`STDP_NET`).

Each runner builds its network, runs it once and returns a flat dict with the fields every engine reports (see
:data:`RESULT_FIELDS`). Units: all times in **seconds**, potentials in mV, memory in MiB ("mb" = 2**20 bytes, as
``ru_maxrss`` KiB / 1024).

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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

Delay = float | tuple[float, float]


class _Params:
    """``as_dict()`` of the parameter dataclasses below (for the JSON's ``config``)."""

    def as_dict(self) -> dict[str, float]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class VogelsAbbottParams(_Params):
    """What CUBA and COBA share (Vogels & Abbott 2005): the excitatory fraction, the LIF neuron's time constants
    (seconds) and potentials (mV). Their dataclasses add the synapses' parameters (and CUBA its own ``v_rest``)."""

    exc_fraction: float = 0.8
    tau_m: float = 20e-3
    tau_e: float = 5e-3
    tau_i: float = 10e-3
    v_threshold: float = -50.0
    v_reset: float = -60.0
    v_rest: float = -60.0
    t_ref: float = 5e-3

    def split(self, n: int) -> tuple[int, int]:
        """(excitatory, inhibitory) population sizes for ``n`` neurons."""
        n_exc = round(n * self.exc_fraction)
        return n_exc, n - n_exc


@dataclass(frozen=True)
class CubaParams(VogelsAbbottParams):
    """CUBA parameters of Brian2's ``examples/CUBA.py`` (times in seconds, potentials in mV)."""

    #: above the threshold: the network fires without external input
    v_rest: float = -49.0
    #: excitatory weight (60 * 0.27 / 10) mV: jump of the exc. synaptic variable, as voltage
    w_exc: float = 1.62
    #: inhibitory weight (-20 * 4.5 / 10) mV
    w_inh: float = -9.0


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


def rates_by_population(counts: np.ndarray, n_exc: int, duration: float) -> dict[str, float | None]:
    """Mean rates (Hz) of the excitatory (first ``n_exc``) and inhibitory neurons from spike counts per neuron."""
    n_inh = counts.size - n_exc
    return {
        "rate_exc_hz": float(counts[:n_exc].sum()) / (n_exc * duration) if n_exc and duration else None,
        "rate_inh_hz": float(counts[n_exc:].sum()) / (n_inh * duration) if n_inh and duration else None,
    }


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


def brian2_device(build_dir: str) -> tuple[Any, float]:
    """Import Brian2 and select a serial ``cpp_standalone`` device that builds in ``build_dir`` (empty or absent).

    Returns ``(brian2 module, import seconds)``. The binary runs through :data:`_RSS_WRAPPER`.
    """
    t_import = time.perf_counter()
    import brian2 as b2

    import_s = time.perf_counter() - t_import
    b2.prefs.logging.file_log = False  # no debug log files left in /tmp by benchmark workers
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=True)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0  # serial: OpenMP is slower on 2 vCPUs (anchors sheet)
    b2.prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, "-c", _RSS_WRAPPER, "./main"]
    return b2, import_s


def brian2_run(b2: Any, net: Any, duration: float, build_dir: str) -> dict[str, float | None]:
    """``net.run(duration)`` (build_on_run: code generation + ``make`` + binary) and its timings in seconds:
    ``loop_s`` (the binary's own timing of the loop), ``codegen_s``, ``make_s``, ``binary_s`` (whole binary),
    ``completed_fraction``, and the binary's ``peak_rss_mb``."""
    t_run = time.perf_counter()
    net.run(duration * b2.second)
    run_call_s = time.perf_counter() - t_run
    device = b2.get_device()
    make_s = float(device.timers["compile"]["make"] or 0.0)
    binary_s = float(device.timers["run_binary"] or 0.0)
    rss_file = os.path.join(build_dir, "binary_peak_rss_kb.txt")
    return {
        "loop_s": float(device._last_run_time),
        "codegen_s": run_call_s - make_s - binary_s,
        "make_s": make_s,
        "binary_s": binary_s,
        "completed_fraction": float(device._last_run_completed_fraction),
        "peak_rss_mb": float(Path(rss_file).read_text()) / 1024.0 if os.path.exists(rss_file) else None,
    }


def brian2_result(
    run: dict[str, Any], python_build_s: float, import_s: float, spikes: int, events: int, nnz: int
) -> dict[str, Any]:
    """The common result fields of a Brian2 run (without the derived ``events_per_s``/``rate_hz``).

    ``build_s`` = Python network description + binary time outside the loop (synapse creation, initialisation,
    result I/O); ``compile_s`` = code generation + ``make``; ``peak_rss_mb`` = the simulation binary's peak RSS.
    """
    loop_s, binary_s = run["loop_s"], run["binary_s"]
    return {
        "build_s": python_build_s + (binary_s - loop_s),
        "compile_s": run["codegen_s"] + run["make_s"],
        "loop_s": loop_s,
        "spikes": int(spikes),
        "synaptic_events": int(events),
        "synaptic_events_exact": True,
        "peak_rss_mb": run["peak_rss_mb"],
        "nnz": int(nnz),
        "dtype": "float64",
        "detail": {
            "python_build_s": python_build_s,
            "binary_outside_loop_s": binary_s - loop_s,
            "codegen_s": run["codegen_s"],
            "make_s": run["make_s"],
            "binary_s": binary_s,
            "completed_fraction": run["completed_fraction"],
            "import_s": import_s,
            "python_peak_rss_mb": peak_rss_mb(),
            # includes the compiler: an upper bound on anything Brian2 spawned
            "children_peak_rss_mb": peak_rss_mb(resource.RUSAGE_CHILDREN),
        },
    }


def _brian2_ei_synapses(b2: Any, group: Any, n_exc: int, p: float, delay: Delay, ns: dict) -> list[tuple[Any, int]]:
    """Bernoulli(``p``) synapses (autapses allowed) from ``group[:n_exc]`` (``ge += we``) and ``group[n_exc:]``
    (``gi += wi``) onto ``group``; ``[(Synapses, index of its first presynaptic neuron)]``.

    Subgroups instead of CUBA.py's 'i<3200' condition: same Bernoulli connectivity, and the synapse indices come
    out relative to each presynaptic population, which makes the out-degree a plain bincount.
    """
    second = b2.second
    pre_exc, pre_inh = group[:n_exc], group[n_exc:]
    hetero = _is_hetero(delay)
    syn_kw: dict[str, Any] = {} if hetero else {"delay": float(delay) * second}  # scalar delay = homogeneous queue
    syn_e = b2.Synapses(pre_exc, group, on_pre="ge += we", namespace=ns, name="syn_exc", **syn_kw)
    syn_i = b2.Synapses(pre_inh, group, on_pre="gi += wi", namespace=ns, name="syn_inh", **syn_kw)
    syn_e.connect(p=p)
    syn_i.connect(p=p)
    if hetero:
        _brian2_hetero_delays(delay, syn_e, syn_i)
    return [(syn_e, 0), (syn_i, n_exc)]


def _brian2_hetero_delays(delay: Delay, *synapses: Any) -> None:
    """Per-synapse delays uniform in ``delay = (low, high)`` seconds."""
    lo, hi = (float(x) for x in delay)  # type: ignore[union-attr]
    expr = f"{lo!r}*second + rand()*{hi - lo!r}*second"
    for syn in synapses:
        syn.delay = expr


def _brian2_start(build_dir: str, dt: float, seed: int) -> tuple[Any, float, float]:
    """:func:`brian2_device`, then the clock (``dt`` in seconds) and the seed: ``(brian2 module, import seconds,
    perf_counter when the network description started)``."""
    b2, import_s = brian2_device(build_dir)
    t_build = time.perf_counter()
    b2.defaultclock.dt = dt * b2.second
    b2.seed(seed)
    return b2, import_s, t_build


#: CUBA's neurons in Brian2 (``examples/CUBA.py``), integrated exactly
_BRIAN2_CUBA_EQS = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """


def _brian2_ei_network(
    par: VogelsAbbottParams, n: int, p: float, duration: float, dt: float, seed: int, delay: Delay, build_dir: str,
    eqs: str, method: str, model_values: Callable[[Any], tuple[dict[str, Any], dict[str, Any]]],
    synapses: Callable[[Any, Any, int, float, Delay, dict], list[tuple[Any, int]]] = _brian2_ei_synapses,
) -> tuple[dict[str, Any], np.ndarray, list[Any]]:  # fmt: skip
    """Build and run an excitatory/inhibitory network in Brian2 ``cpp_standalone`` with a SpikeMonitor on all.

    One NeuronGroup of ``n`` neurons (``eqs`` integrated with ``method``, threshold ``v>Vt``, reset ``v = Vr``,
    refractory ``par.t_ref``, ``v`` uniform in [Vr, Vt]); its namespace has ``taum``, ``taue``, ``taui``, ``Vt``,
    ``Vr`` and ``El`` from ``par`` plus the entries of ``model_values(b2)``, which returns ``(namespace entries,
    initial values)``. ``synapses(b2, group, n_exc, p, delay, namespace)`` connects it and returns ``[(Synapses, index
    in the group of its first presynaptic neuron)]``: by default the static pathways of :func:`_brian2_ei_synapses`.

    Returns ``(result, spikes per neuron, the Synapses)``; ``result`` as :func:`brian2_result` with the synaptic
    events sum(spikes x out-degree), without the derived fields (:func:`finish_result`).
    """
    b2, import_s, t_build = _brian2_start(build_dir, dt, seed)
    mV, second = b2.mV, b2.second
    n_exc, _ = par.split(n)
    extra_ns, initial = model_values(b2)
    ns = {
        "taum": par.tau_m * second,
        "taue": par.tau_e * second,
        "taui": par.tau_i * second,
        "Vt": par.v_threshold * mV,
        "Vr": par.v_reset * mV,
        "El": par.v_rest * mV,
        **extra_ns,
    }
    group = b2.NeuronGroup(
        n, eqs, threshold="v>Vt", reset="v = Vr", refractory=par.t_ref * second, method=method, namespace=ns
    )
    group.v = "Vr + rand() * (Vt - Vr)"
    for name, value in initial.items():
        setattr(group, name, value)
    syns = synapses(b2, group, n_exc, p, delay, ns)
    mon = b2.SpikeMonitor(group)
    net = b2.Network(group, *(syn for syn, _ in syns), mon)
    python_build_s = time.perf_counter() - t_build

    run = brian2_run(b2, net, duration, build_dir)
    counts = np.asarray(mon.count[:], dtype=np.int64)
    out_degree = np.zeros(n, dtype=np.int64)
    nnz = 0
    for syn, first in syns:
        pre = np.asarray(syn.i[:], dtype=np.int64) + first
        out_degree += np.bincount(pre, minlength=n)
        nnz += pre.size
    result = brian2_result(run, python_build_s, import_s, int(mon.num_spikes), int(counts @ out_degree), nnz)
    return result, counts, [syn for syn, _ in syns]


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

    def model_values(b2: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        mV = b2.mV
        return {"we": CUBA.w_exc * mV, "wi": CUBA.w_inh * mV}, {"ge": 0 * mV, "gi": 0 * mV}

    result, _, _ = _brian2_ei_network(
        CUBA, n, p, duration, dt, seed, delay, build_dir, _BRIAN2_CUBA_EQS, "exact", model_values
    )
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
_MS = 1e3  # NEST takes ms


def _nest_kernel(dt: float, seed: int, threads: int) -> tuple[Any, float]:
    """Import NEST, reset its kernel with resolution ``dt`` (s), ``threads`` and a seed; ``(nest, import_s)``."""
    import warnings

    t_import = time.perf_counter()
    import nest

    import_s = time.perf_counter() - t_import
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # set_verbosity warns "provided for backward compatibility" in 3.10
        nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus(
        {"resolution": dt * _MS, "local_num_threads": int(threads), "rng_seed": int(seed) % (2**31 - 2) + 1}
    )
    return nest, import_s


def _nest_connect_ei(
    nest: Any, pop: Any, n_exc: int, p: float, dt: float, delay: Delay, w_exc: float, w_inh: float
) -> tuple[str, Any]:
    """Static synapses ``pop[:n_exc]`` -> ``pop`` (weight ``w_exc``) and ``pop[n_exc:]`` -> ``pop`` (``w_inh``),
    ``pairwise_bernoulli`` up to :data:`NEST_BERNOULLI_MAX_N` neurons, ``fixed_indegree`` with the same mean
    above, autapses allowed. Returns the connection rule's name and a spike_recorder connected to ``pop``."""
    n = len(pop)
    exc, inh = pop[:n_exc], pop[n_exc:]
    if _is_hetero(delay):
        lo, hi = (float(x) * _MS for x in delay)  # type: ignore[union-attr]
        nest_delay: Any = nest.random.uniform(min=lo, max=hi)
    else:
        nest_delay = max(float(delay) * _MS, dt * _MS)  # NEST rejects delays below the resolution
    if n <= NEST_BERNOULLI_MAX_N:
        conn: dict[str, Any] = {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": True}
    else:
        conn = {"rule": "fixed_indegree", "indegree": round(p * n_exc), "allow_autapses": True}
    nest.Connect(exc, pop, conn, {"synapse_model": "static_synapse", "weight": w_exc, "delay": nest_delay})
    if conn["rule"] == "fixed_indegree":
        conn = {**conn, "indegree": round(p * (n - n_exc))}
    nest.Connect(inh, pop, conn, {"synapse_model": "static_synapse", "weight": w_inh, "delay": nest_delay})
    recorder = nest.Create("spike_recorder")
    nest.Connect(pop, recorder)
    return conn["rule"], recorder


def _nest_run(nest: Any, pop: Any, recorder: Any, p: float, duration: float, t_build: float) -> dict[str, Any]:
    """Prepare, Run, Cleanup; then spike counts per neuron and the synaptic events (module docstring).

    Returns the common result fields (``build_s`` = Create + Connect + Prepare since ``t_build``) plus ``counts``
    (spikes per neuron, to be popped by the caller) and ``detail``.
    """
    n = len(pop)
    nnz = int(nest.GetKernelStatus("num_connections")) - n  # minus the n recorder connections
    connect_s = time.perf_counter() - t_build
    t_prep = time.perf_counter()
    nest.Prepare()
    prepare_s = time.perf_counter() - t_prep

    t_loop = time.perf_counter()
    nest.Run(duration * _MS)
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
    return {
        "build_s": connect_s + prepare_s,
        "compile_s": 0.0,
        "loop_s": loop_s,
        "spikes": int(counts.sum()),
        "synaptic_events": events,
        "synaptic_events_exact": exact,
        "peak_rss_mb": rss_after_loop_mb,
        "nnz": nnz,
        "dtype": "float64",
        "counts": counts,
        "detail": {
            "peak_rss_incl_out_degree_count_mb": peak_rss_mb(),
            "create_connect_s": connect_s,
            "prepare_s": prepare_s,
        },
    }


def _nest_ei_network(
    par: VogelsAbbottParams, n: int, p: float, duration: float, dt: float, seed: int, delay: Delay, threads: int,
    model: str, params: dict[str, Any], w_exc: float, w_inh: float, weights_key: str,
    initial: Callable[[Any], dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], np.ndarray]:  # fmt: skip
    """Build and run an excitatory/inhibitory network of ``n`` NEST neurons ``model`` (``params``) with a
    spike_recorder on all of them.

    ``V_m`` starts uniform in [v_reset, v_threshold], the other state variables as ``initial(nest)`` gives them;
    static synapses as :func:`_nest_connect_ei` with weights ``w_exc``/``w_inh``. Returns ``(result, spikes per
    neuron)``: the fields of :func:`_nest_run` with ``detail`` completed (``import_s``, ``connection_rule``,
    ``threads`` and ``weights_key``: ``[w_exc, w_inh]``), without the derived fields (:func:`finish_result`).
    """
    n_exc, _ = par.split(n)
    nest, import_s = _nest_kernel(dt, seed, threads)
    t_build = time.perf_counter()
    pop = nest.Create(model, n, params=params)
    pop.V_m = nest.random.uniform(min=par.v_reset, max=par.v_threshold)
    for name, value in (initial(nest) if initial is not None else {}).items():
        setattr(pop, name, value)
    rule, recorder = _nest_connect_ei(nest, pop, n_exc, p, dt, delay, w_exc, w_inh)
    result = _nest_run(nest, pop, recorder, p, duration, t_build)
    counts = result.pop("counts")
    result["detail"].update(
        {"import_s": import_s, "connection_rule": rule, "threads": int(threads), weights_key: [w_exc, w_inh]}
    )
    return result, counts


def nest_cuba(n: int, p: float, duration: float, dt: float, seed: int, delay: Delay, threads: int = 1) -> dict:
    """Run CUBA in NEST 3 with ``iaf_psc_exp`` and a spike_recorder on all neurons.

    Arguments as :func:`brian2_cuba` (seconds); ``threads`` = NEST ``local_num_threads``. Connectivity is
    ``pairwise_bernoulli`` up to :data:`NEST_BERNOULLI_MAX_N` neurons, ``fixed_indegree`` with the same mean above.
    ``build_s`` = Create + Connect + Prepare, ``compile_s`` = 0 (nothing is generated), ``loop_s`` = ``nest.Run``.
    ``synaptic_events`` is exact up to :data:`NEST_EXACT_EVENTS_MAX_NNZ` synapses, spikes x mean out-degree above.
    """
    par = CUBA
    params = {
        "C_m": NEST_C_M_PF,
        "tau_m": par.tau_m * _MS,
        "tau_syn_ex": par.tau_e * _MS,
        "tau_syn_in": par.tau_i * _MS,
        "t_ref": par.t_ref * _MS,
        "E_L": par.v_rest,
        "V_th": par.v_threshold,
        "V_reset": par.v_reset,
        "I_e": 0.0,
    }
    w_scale = NEST_C_M_PF / (par.tau_m * _MS)  # mV -> pA
    result, _ = _nest_ei_network(
        par, n, p, duration, dt, seed, delay, threads, "iaf_psc_exp", params,
        par.w_exc * w_scale, par.w_inh * w_scale, "weights_pA",
    )  # fmt: skip
    return finish_result(result, n, duration)


# --------------------------------------------------------------------------------------------------------------
# COBA (Brette et al. 2007, benchmark 1): Brian2 and NEST
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CobaParams(VogelsAbbottParams):
    """Vogels-Abbott COBA as in Brette et al. (2007), benchmark 1 (times in seconds, potentials in mV).

    Conductances are in units of the leak conductance (10 nS): we = 6 nS / 10 nS, wi = 67 nS / 10 nS. With
    ``v_rest = v_reset`` and no external input the network only fires if it is started: as in R. Brette's
    reference implementation of the benchmark (Brian 1, ``COBA.py``) the conductances start at
    ``ge ~ N(4, 1.5)`` and ``gi ~ N(20, 12)`` (leak units, unclipped), ``v`` at U(v_reset, v_threshold).
    """

    e_exc: float = 0.0
    e_inh: float = -80.0
    #: excitatory weight: 6 nS on a 10 nS leak
    w_exc: float = 0.6
    #: inhibitory weight: 67 nS on a 10 nS leak
    w_inh: float = 6.7
    #: initial conductances ~ Normal(mean, std), leak units
    ge_init_mean: float = 4.0
    ge_init_std: float = 1.5
    gi_init_mean: float = 20.0
    gi_init_std: float = 12.0
    #: leak conductance (nS) and capacitance (pF, = tau_m * g_leak) for NEST's iaf_cond_exp
    g_leak_ns: float = 10.0
    c_m_pf: float = 200.0


COBA = CobaParams()


def brian2_coba(n: int, p: float, duration: float, dt: float, seed: int, delay: Delay, build_dir: str) -> dict:
    """Run COBA in Brian2 ``cpp_standalone`` (serial, float64, ``method='exponential_euler'``) with a SpikeMonitor.

    Arguments, connectivity and the returned fields as :func:`brian2_cuba`, plus ``rate_exc_hz``/``rate_inh_hz``.
    """
    par = COBA
    eqs = """
    dv/dt = (ge*(Ee-v) + gi*(Ei-v) + (El-v))/taum : volt (unless refractory)
    dge/dt = -ge/taue : 1
    dgi/dt = -gi/taui : 1
    """

    def model_values(b2: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        mV = b2.mV
        namespace = {"Ee": par.e_exc * mV, "Ei": par.e_inh * mV, "we": par.w_exc, "wi": par.w_inh}
        initial = {
            "ge": f"{par.ge_init_mean!r} + {par.ge_init_std!r} * randn()",
            "gi": f"{par.gi_init_mean!r} + {par.gi_init_std!r} * randn()",
        }
        return namespace, initial

    result, counts, _ = _brian2_ei_network(
        par, n, p, duration, dt, seed, delay, build_dir, eqs, "exponential_euler", model_values
    )
    result.update(rates_by_population(counts, par.split(n)[0], duration))
    return finish_result(result, n, duration)


def nest_coba(n: int, p: float, duration: float, dt: float, seed: int, delay: Delay, threads: int = 1) -> dict:
    """Run COBA in NEST 3 with ``iaf_cond_exp`` (C_m 200 pF, g_L 10 nS) and a spike_recorder on all neurons.

    Weights in nS (6 and -67: NEST's conductance models take inhibitory weights as negative), initial conductances
    as :class:`CobaParams` in nS. NEST integrates ``iaf_cond_exp`` with an adaptive GSL solver (RKF45), not with
    exponential Euler. Arguments and fields as :func:`nest_cuba`, plus ``rate_exc_hz``/``rate_inh_hz``.
    """
    par = COBA
    g_l = par.g_leak_ns
    params = {
        "C_m": par.c_m_pf,
        "g_L": g_l,
        "E_L": par.v_rest,
        "V_th": par.v_threshold,
        "V_reset": par.v_reset,
        "t_ref": par.t_ref * _MS,
        "E_ex": par.e_exc,
        "E_in": par.e_inh,
        "tau_syn_ex": par.tau_e * _MS,
        "tau_syn_in": par.tau_i * _MS,
        "I_e": 0.0,
    }

    def initial(nest: Any) -> dict[str, Any]:
        return {
            "g_ex": nest.random.normal(mean=par.ge_init_mean * g_l, std=par.ge_init_std * g_l),
            "g_in": nest.random.normal(mean=par.gi_init_mean * g_l, std=par.gi_init_std * g_l),
        }

    result, counts = _nest_ei_network(
        par, n, p, duration, dt, seed, delay, threads, "iaf_cond_exp", params,
        par.w_exc * g_l, -par.w_inh * g_l, "weights_nS", initial,
    )  # fmt: skip
    result.update(rates_by_population(counts, par.split(n)[0], duration))
    return finish_result(result, n, duration)


# --------------------------------------------------------------------------------------------------------------
# STDP: Song, Miller & Abbott (2000) and a recurrent network with plastic exc -> exc synapses (Brian2)
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SongParams(_Params):
    """Song, Miller & Abbott (2000) as in Brian2's ``examples/synapses/STDP.py`` (seconds, mV, leak units).

    ``n_inputs`` Poisson inputs at ``input_rate`` Hz, all onto one conductance-based LIF neuron (no refractory
    period), additive all-to-all pair STDP with ``a_plus = 0.01 gmax`` and ``a_minus = 1.05 a_plus`` (Brian2's
    ``dApre``, ``-dApost``), weights clipped to [0, gmax] and initially U(0, gmax). The neuron starts at ``v_reset``.
    Brian2's example linearises the synaptic current as ``ge*(Ee-vr)``; both engines here use the conductance form
    ``ge*(Ee-v)`` of the paper.
    """

    n_inputs: int = 1000
    input_rate: float = 15.0
    tau_m: float = 10e-3
    v_rest: float = -74.0
    v_threshold: float = -54.0
    v_reset: float = -60.0
    e_exc: float = 0.0
    tau_e: float = 5e-3
    g_max: float = 0.01
    tau_pre: float = 20e-3
    tau_post: float = 20e-3
    a_plus: float = 0.01 * 0.01
    a_minus: float = 0.01 * 0.01 * 1.05


SONG = SongParams()


@dataclass(frozen=True)
class StdpNetworkParams(_Params):
    """The recurrent STDP benchmark: CUBA neurons (:data:`CUBA`), 80 % excitatory, Bernoulli(p) connectivity,
    pair STDP (additive, all-to-all) on the exc -> exc synapses only.

    Both weights are scaled by ``80 / (p N)`` (the k80 protocol of ``cuba.py --scale``: the same mean drive and
    ~5.6 Hz as the 4k CUBA network). Plastic weights start at that excitatory weight ``w_exc`` and live in
    [0, ``w_max_factor`` * w_exc]; ``a_plus``/``a_minus`` are fractions of that ``w_max`` (Song et al.'s ratio).
    """

    w_max_factor: float = 2.0
    tau_pre: float = 20e-3
    tau_post: float = 20e-3
    a_plus_rel: float = 0.01
    a_minus_rel: float = 0.0105

    def weights(self, n: int, p: float) -> dict[str, float]:
        """Weights in mV for ``n`` neurons at connection probability ``p``: w_exc, w_inh, w_max, a_plus, a_minus."""
        scale = CUBA_SCALE_K / (p * n)
        w_exc = CUBA.w_exc * scale
        w_max = self.w_max_factor * w_exc
        return {
            "w_scale": scale,
            "w_exc": w_exc,
            "w_inh": CUBA.w_inh * scale,
            "w_max": w_max,
            "a_plus": self.a_plus_rel * w_max,
            "a_minus": self.a_minus_rel * w_max,
        }


#: synapses per neuron that CUBA's weights are made for (4000 neurons x 2 %)
CUBA_SCALE_K = 80
STDP_NET = StdpNetworkParams()


def weight_summary(w: np.ndarray, w_max: float) -> dict[str, Any]:
    """Final weights relative to ``w_max``: mean, the fractions below 0.1 and above 0.9 (Song et al.'s bimodal
    distribution puts most weights near 0 or w_max), and a 10-bin histogram of w / w_max over [0, 1]."""
    rel = np.asarray(w, dtype=np.float64).ravel() / w_max
    if rel.size == 0:
        return {"n": 0}
    return {
        "n": int(rel.size),
        "mean_over_wmax": float(rel.mean()),
        "frac_below_0.1_wmax": float(np.mean(rel < 0.1)),
        "frac_above_0.9_wmax": float(np.mean(rel > 0.9)),
        "histogram_10_bins": np.histogram(np.clip(rel, 0.0, 1.0), bins=10, range=(0.0, 1.0))[0].tolist(),
    }


def finish_weights(result: dict[str, Any], w: np.ndarray, w_max: float) -> dict[str, Any]:
    """Add the weight summary (``weights``) and its medians-friendly scalars to a result."""
    summary = weight_summary(w, w_max)
    result["weights"] = summary
    result["weight_mean_rel"] = summary.get("mean_over_wmax")
    result["weight_frac_low"] = summary.get("frac_below_0.1_wmax")
    result["weight_frac_high"] = summary.get("frac_above_0.9_wmax")
    return result


def brian2_song(duration: float, dt: float, seed: int, build_dir: str) -> dict:
    """Run Song et al. (2000) in Brian2 ``cpp_standalone`` (serial, float64, ``method='exponential_euler'``).

    ``synaptic_events`` = input spikes (each input has one synapse; counted by a ``SpikeMonitor(record=False)``),
    ``spikes``/``rate_hz`` are the output neuron's; ``weights`` summarises the final weights.
    """
    b2, import_s, t_build = _brian2_start(build_dir, dt, seed)
    mV, second, hz = b2.mV, b2.second, b2.Hz
    par = SONG
    ns = {
        "taum": par.tau_m * second,
        "Ee": par.e_exc * mV,
        "vt": par.v_threshold * mV,
        "vr": par.v_reset * mV,
        "El": par.v_rest * mV,
        "taue": par.tau_e * second,
        "taupre": par.tau_pre * second,
        "taupost": par.tau_post * second,
        "gmax": par.g_max,
        "dApre": par.a_plus,
        "dApost": -par.a_minus,
    }
    eqs = """
    dv/dt = (ge * (Ee-v) + El - v) / taum : volt
    dge/dt = -ge / taue : 1
    """
    inputs = b2.PoissonGroup(par.n_inputs, rates=par.input_rate * hz, name="inputs")
    neuron = b2.NeuronGroup(
        1, eqs, threshold="v>vt", reset="v = vr", method="exponential_euler", namespace=ns, name="neuron"
    )
    neuron.v = par.v_reset * mV
    syn = b2.Synapses(
        inputs,
        neuron,
        """w : 1
        dApre/dt = -Apre / taupre : 1 (event-driven)
        dApost/dt = -Apost / taupost : 1 (event-driven)""",
        on_pre="""ge += w
        Apre += dApre
        w = clip(w + Apost, 0, gmax)""",
        on_post="""Apost += dApost
        w = clip(w + Apre, 0, gmax)""",
        namespace=ns,
        name="stdp",
    )
    syn.connect()
    syn.w = "rand() * gmax"
    in_mon = b2.SpikeMonitor(inputs, record=False)  # counts only
    out_mon = b2.SpikeMonitor(neuron)
    net = b2.Network(inputs, neuron, syn, in_mon, out_mon)
    python_build_s = time.perf_counter() - t_build

    run = brian2_run(b2, net, duration, build_dir)
    input_spikes = int(in_mon.num_spikes)
    w = np.asarray(syn.w[:], dtype=np.float64)
    result = brian2_result(run, python_build_s, import_s, int(out_mon.num_spikes), input_spikes, w.size)
    result["input_spikes"] = input_spikes
    result["detail"]["input_rate_hz"] = input_spikes / (par.n_inputs * duration)
    finish_weights(result, w, par.g_max)
    return finish_result(result, 1, duration)


def _brian2_stdp_synapses(b2: Any, group: Any, n_exc: int, p: float, delay: float, ns: dict) -> list[tuple[Any, int]]:
    """The synapses of :func:`brian2_stdp_network`, Bernoulli(``p``), constant ``delay`` (s): plastic exc -> exc
    (``w`` and event-driven traces), static exc -> inh (``ge += we``) and inh -> all (``gi += wi``);
    ``[(Synapses, index of its first presynaptic neuron)]``."""
    exc, inh = group[:n_exc], group[n_exc:]
    d = float(delay) * b2.second
    syn_ee = b2.Synapses(
        exc,
        exc,
        """w : volt
        dxpre/dt = -xpre / taupre : 1 (event-driven)
        dxpost/dt = -xpost / taupost : 1 (event-driven)""",
        on_pre="""ge_post += w
        xpre += 1
        w = clip(w - a_minus*xpost, 0*volt, wmax)""",
        on_post="""xpost += 1
        w = clip(w + a_plus*xpre, 0*volt, wmax)""",
        delay=d,
        namespace=ns,
        name="syn_ee",
    )
    syn_ei = b2.Synapses(exc, inh, on_pre="ge += we", delay=d, namespace=ns, name="syn_ei")
    syn_i = b2.Synapses(inh, group, on_pre="gi += wi", delay=d, namespace=ns, name="syn_inh")
    for syn in (syn_ee, syn_ei, syn_i):
        syn.connect(p=p)
    syn_ee.w = "we"
    return [(syn_ee, 0), (syn_ei, 0), (syn_i, n_exc)]


def brian2_stdp_network(n: int, p: float, duration: float, dt: float, seed: int, delay: float, build_dir: str) -> dict:
    """Run the recurrent STDP network (:class:`StdpNetworkParams`) in Brian2 ``cpp_standalone`` (serial, float64).

    CUBA neurons integrated exactly as in :func:`brian2_cuba`; exc -> exc synapses carry ``w`` and event-driven
    traces (``on_pre``: ``ge_post += w; xpre += 1; w = clip(w - a_minus*xpost, 0, wmax)``, ``on_post``:
    ``xpost += 1; w = clip(w + a_plus*xpre, 0, wmax)``), the other three pathways are static. ``delay`` (s) is
    the constant delay of every ``pre`` pathway. Fields as :func:`brian2_cuba`, plus ``weights``.
    """
    par = CUBA
    w = STDP_NET.weights(n, p)

    def model_values(b2: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        mV, second = b2.mV, b2.second
        namespace = {
            "we": w["w_exc"] * mV,
            "wi": w["w_inh"] * mV,
            "wmax": w["w_max"] * mV,
            "a_plus": w["a_plus"] * mV,
            "a_minus": w["a_minus"] * mV,
            "taupre": STDP_NET.tau_pre * second,
            "taupost": STDP_NET.tau_post * second,
        }
        return namespace, {"ge": 0 * mV, "gi": 0 * mV}

    result, counts, (syn_ee, _, _) = _brian2_ei_network(
        par, n, p, duration, dt, seed, delay, build_dir, _BRIAN2_CUBA_EQS, "exact", model_values, _brian2_stdp_synapses
    )
    from brian2 import mV  # imported by the device set-up already

    final = np.asarray(syn_ee.w[:] / mV)
    result["plastic_synapses"] = int(final.size)
    result.update(rates_by_population(counts, par.split(n)[0], duration))
    finish_weights(result, final, w["w_max"])
    return finish_result(result, n, duration)
