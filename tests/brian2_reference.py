"""Brian2 reference simulations that the numba engine is compared against spike-for-spike.

Plain numpy in, plain numpy out; no dependency on ``snn``. Every call builds a fresh ``Network`` with
explicitly named objects, uses Brian2's runtime ``numpy`` code generation target (no compiler needed; the
previous ``prefs.codegen.target`` is restored afterwards) and sets ``defaultclock.dt``. Voltages and synaptic
variables are dimensionless millivolt numbers (``: 1``) so Brian2 performs exactly the float64 operations
listed in the generated-code comment below; times are seconds.

Answers to the questions the engine depends on (Brian2 2.9.0, checked in the source and empirically):

* **Synapse order.** ``Synapses.connect(i=pre, j=post)`` appends the synapses in exactly the order given
  (the ``synapses_create_array`` template copies the arrays; checked with unsorted ``i``), so synapse ``k`` of
  a projection is CSR entry ``k`` and ``w``/``delay`` arrays set afterwards align with ``weights``/``delays``.
* **Delay rounding.** ``SpikeQueue.prepare`` converts ``delay`` (seconds) to steps with
  ``np.round(delay / dt).astype(int)`` (round half to even); for ``delays * dt`` this is exactly ``delays``.
  Delay 0 is allowed: a spike emitted at step ``k`` is delivered in the same step ``k`` (after the
  threshold, before the reset).
* **SpikeGeneratorGroup rounding.** Times are binned with ``np.int32((t + 1e-3 * dt) / dt)`` (a floor after a
  shift of 1e-3 dt), so ``steps * dt`` lands in bin ``steps`` exactly. Spikes are sorted by (time, index)
  with ``np.lexsort``; two spikes of one channel in one bin raise ``ValueError``.
* **Refractoriness** (LIF): ``not_refractory = timestep(t - lastspike, dt) >= timestep(t_ref, dt)`` with
  ``timestep(x, dt) = int64((x + 1e-3 * dt) / dt)``, i.e. in integer steps ``k - k_spike >= ref_steps`` with
  ``ref_steps = int((t_ref + 1e-3 * dt) / dt)`` (20 for 2 ms at 0.1 ms). A neuron that spiked at step ``j``
  keeps ``v`` frozen in the updates of steps ``j + 1 .. j + ref_steps - 1`` and integrates again at step
  ``j + ref_steps``; ``ie``/``ii`` always integrate and keep receiving input. Clock time is
  ``t = timestep * dt``.
* **Spike times returned.** SpikeMonitor records ``t = k * dt``; we return ``step = rint(t / dt)``.

Order of operations in step ``k`` (Brian2 schedule; objects in a slot sorted by ``(when, order, name)``):

1. ``groups``: state update of all neurons from the old values (code below).
2. ``thresholds``: the input generator emits the channels whose bin is ``k`` (ascending index); neurons
   spike where the condition holds (LIF also sets ``lastspike = t``, ``not_refractory = False``); the
   SpikeMonitor records.
3. ``synapses``: for each projection in list order (pathways are named ``proj0000_pre``, ``proj0001_pre``...
   and all have ``order=-1``, so the name orders them): first *push* - for each spiking source in ascending
   index, its synapses in CSR order go to the queue slot ``k + delay`` (appended after what is already
   there); then *deliver* slot ``k`` with ``numpy.add.at(target, post[idx], w[idx])``, i.e. sequential
   float64 adds in queue order: earlier push steps first, then ascending source neuron, then CSR order.
4. ``resets``: ``v = v_reset`` (LIF) or ``v = c; u += d`` (Izhikevich) for the neurons that spiked in step
   ``k`` - this overwrites any ``v += w`` delivered to them in the same step.

A pure-numpy re-implementation of exactly these rules (scratch script, not part of the package) reproduced
the spikes *and* the StateMonitor traces of both examples bit for bit for seeds 0, 1, 2.

Float caveat for the engine: ``exp`` in the scalar code is ``numpy.exp`` on a float64 scalar, which on this
machine (AVX512F SIMD loops) differs from ``math.exp``/libm in the last bit for some inputs, e.g.
``np.exp(-0.01) = 0.990049833749168`` but ``math.exp(-0.01) = 0.9900498337491681`` (the ``tau_syn_inh``
= 10 ms decay factor). Compute the coefficients with ``numpy.exp`` on float64 scalars in Python, in the
order below, and pass them into numba. ``v ** 2`` is numpy's square (``v * v``). Do not let ``fastmath`` /
FMA contraction reorder anything.

Test sensitivity: the LIF example is robust (a 1e-10 relative change of ``v_init`` or a 1-ulp change of the
recurrent weights changes no spike), so it checks event semantics (delays, ordering, refractoriness, reset).
The Izhikevich example is chaotic: a 1e-15 relative change of ``v_init`` changes spikes from ~370-390 ms on
(seeds 0, 1; seed 2 from a 1e-13 change), so it only passes when the arithmetic is bit-identical.

Generated numpy code (Brian2 2.9.0, ``codeobj.code`` of the NeuronGroup's state updater, thresholder and
resetter; ``tau_*``, ``dt`` are floats in seconds, ``ms`` is 0.001; ``timestep`` as above):

LIF (method ``exact``), scalar code, evaluated once per step::

    _lio_1 = timestep(t_ref, dt)
    _lio_2 = exp((- dt) / tau_syn_exc)
    _lio_3 = exp((- dt) / tau_syn_inh)
    _lio_4 = tau_syn_exc * exp((- dt) / tau_syn_exc)
    _lio_5 = - exp(dt / tau_syn_exc)
    _lio_6 = dt / tau_m
    _lio_7 = (- dt) / tau_m
    _lio_8 = - tau_m
    _lio_9 = tau_syn_inh * exp((- dt) / tau_syn_inh)
    _lio_10 = - exp(dt / tau_syn_inh)
    _lio_11 = v_rest - v_rest
    _lio_12 = v_rest - (v_rest * exp(_lio_7))
    _lio_13 = ((_lio_4 * (_lio_5 + exp(_lio_6))) * exp(_lio_7)) / (_lio_8 + tau_syn_exc)
    _lio_14 = ((_lio_9 * (_lio_10 + exp(_lio_6))) * exp(_lio_7)) / (_lio_8 + tau_syn_inh)
    _lio_15 = exp(_lio_7)

LIF vector code (all right-hand sides use the values from before the step)::

    not_refractory = timestep(t - lastspike, dt) >= _lio_1
    _ie = _lio_2 * ie
    _ii = _lio_3 * ii
    _v = _numpy.where(not_refractory, _lio_12 + (((_lio_13 * ie) + (_lio_14 * ii)) + (_lio_15 * v)), _lio_11 + v)
    ie = _ie
    ii = _ii
    v[not_refractory] = _v[not_refractory]

LIF threshold and reset::

    _cond = (v > v_threshold) & not_refractory      # then: not_refractory[_events] = False; lastspike = t
    v = v_reset                                     # for the spiking neurons

Izhikevich (method ``euler``), scalar and vector code::

    _lio_1 = dt / ms                                # dt / 0.001, not dt * 1000
    _u = (_lio_1 * (a * ((b * v) - u))) + u
    _v = (_lio_1 * ((140.0 + ((I + (0.04 * (v ** 2))) + (5.0 * v))) - u)) + v
    u = _u
    v = _v

Izhikevich threshold and reset::

    _cond = v >= 30
    v = c; u += d                                   # for the spiking neurons (u += d after the update)

Synaptic delivery (on_pre ``ie += w`` / ``ii += w`` / ``v += w``)::

    _spiking_synapses = _queue.peek()
    _postsynaptic_idx = _array_projNNNN__synaptic_post[_idx]
    w = _array_projNNNN_w[_idx]
    _numpy.add.at(_array_neurons_ie, _postsynaptic_idx, w)

Examples (``make_lif_example(seed)``, ``make_izhikevich_example(seed)``) build their CSR matrices with
``numpy.random.default_rng(seed)``; see their docstrings for the parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_MODEL_LIF = "lif"
_MODEL_IZH = "izhikevich"

LIF_EQUATIONS = """
dv/dt = (ie + ii - (v - v_rest))/tau_m : 1 (unless refractory)
die/dt = -ie/tau_syn_exc : 1
dii/dt = -ii/tau_syn_inh : 1
"""

IZHIKEVICH_EQUATIONS = """
dv/dt = (0.04*v**2 + 5*v + 140 - u + I)/ms : 1
du/dt = a*(b*v - u)/ms : 1
I : 1
a : 1
b : 1
c : 1
d : 1
"""

_ON_PRE = {"exc": "ie += w", "inh": "ii += w", "v": "v += w"}


def _csr_pre_indices(indptr: np.ndarray) -> np.ndarray:
    """Presynaptic index of every synapse of a CSR matrix, in CSR (synapse) order."""
    indptr = np.asarray(indptr, dtype=np.int64)
    return np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int64), np.diff(indptr))


def _simulate(
    model: str,
    *,
    n: int,
    dt: float,
    n_steps: int,
    neuron_params: dict[str, Any],
    initial: dict[str, np.ndarray],
    n_input: int,
    input_indices: np.ndarray,
    input_steps: np.ndarray,
    projections: list[dict[str, Any]],
    record_v: np.ndarray | None = None,
    target: str = "numpy",
    return_network: bool = False,
) -> dict[str, Any]:
    import brian2 as b2

    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        return _build_and_run(
            b2, model, n=n, dt=dt, n_steps=n_steps, neuron_params=neuron_params, initial=initial, n_input=n_input,
            input_indices=input_indices, input_steps=input_steps, projections=projections, record_v=record_v,
            return_network=return_network,
        )  # fmt: skip
    finally:
        b2.prefs.codegen.target = previous


def _build_and_run(
    b2: Any,
    model: str,
    *,
    n: int,
    dt: float,
    n_steps: int,
    neuron_params: dict[str, Any],
    initial: dict[str, np.ndarray],
    n_input: int,
    input_indices: np.ndarray,
    input_steps: np.ndarray,
    projections: list[dict[str, Any]],
    record_v: np.ndarray | None,
    return_network: bool,
) -> dict[str, Any]:
    b2.defaultclock.dt = dt * b2.second
    dt_q = dt * b2.second

    if model == _MODEL_LIF:
        namespace = {
            "tau_m": neuron_params["tau_m"] * b2.second,
            "tau_syn_exc": neuron_params["tau_syn_exc"] * b2.second,
            "tau_syn_inh": neuron_params["tau_syn_inh"] * b2.second,
            "v_rest": float(neuron_params["v_rest"]),
            "v_threshold": float(neuron_params["v_threshold"]),
            "v_reset": float(neuron_params["v_reset"]),
        }
        neurons = b2.NeuronGroup(
            n,
            LIF_EQUATIONS,
            threshold="v > v_threshold",
            reset="v = v_reset",
            refractory=neuron_params["t_ref"] * b2.second,
            method="exact",
            namespace=namespace,
            dt=dt_q,
            name="neurons",
        )
        neurons.v = np.asarray(initial["v"], dtype=np.float64)
        neurons.ie = 0.0
        neurons.ii = 0.0
    elif model == _MODEL_IZH:
        neurons = b2.NeuronGroup(
            n,
            IZHIKEVICH_EQUATIONS,
            threshold="v >= 30",
            reset="v = c; u += d",
            method="euler",
            namespace={"ms": b2.ms},
            dt=dt_q,
            name="neurons",
        )
        for name in ("a", "b", "c", "d"):
            setattr(neurons, name, np.broadcast_to(np.asarray(neuron_params[name], dtype=np.float64), (n,)))
        neurons.I = np.broadcast_to(np.asarray(neuron_params["bias"], dtype=np.float64), (n,))
        neurons.v = np.asarray(initial["v"], dtype=np.float64)
        neurons.u = np.asarray(initial["u"], dtype=np.float64)
    else:  # pragma: no cover - internal
        raise ValueError(model)

    objects: list[Any] = [neurons]
    input_indices = np.asarray(input_indices, dtype=np.int64)
    input_steps = np.asarray(input_steps, dtype=np.int64)
    inputs = b2.SpikeGeneratorGroup(
        max(int(n_input), 1), input_indices, input_steps * dt * b2.second, dt=dt_q, name="inputs"
    )
    objects.append(inputs)
    groups = {"input": inputs, "net": neurons}

    for k, proj in enumerate(projections):
        indptr = np.asarray(proj["indptr"], dtype=np.int64)
        post = np.asarray(proj["indices"], dtype=np.int64)
        if post.size == 0:
            continue
        pre = _csr_pre_indices(indptr)
        # name and order both follow the list order, so that Synapses objects that write into the same
        # variable in the same step are applied in projection order (Network sorts by when, order, name)
        syn = b2.Synapses(
            groups[proj["pre"]],
            neurons,
            "w : 1",
            on_pre=_ON_PRE[proj["target"]],
            dt=dt_q,
            order=k,
            name=f"proj{k:04d}",
        )
        syn.connect(i=pre, j=post)
        syn.w = np.asarray(proj["weights"], dtype=np.float64)
        syn.delay = np.asarray(proj["delays"], dtype=np.int64) * dt * b2.second
        objects.append(syn)

    spikes = b2.SpikeMonitor(neurons, name="spikes")
    objects.append(spikes)
    state = None
    if record_v is not None:
        state = b2.StateMonitor(neurons, "v", record=np.asarray(record_v, dtype=np.int64), dt=dt_q, name="state")
        objects.append(state)

    net = b2.Network(*objects)
    net.run(n_steps * dt * b2.second, namespace={})

    i = np.asarray(spikes.i[:], dtype=np.int64)
    steps = np.rint(np.asarray(spikes.t_[:]) / dt).astype(np.int64)
    order = np.lexsort((i, steps))
    out: dict[str, Any] = {"i": i[order], "steps": steps[order]}
    if state is not None:
        out["v"] = np.asarray(state.v[:], dtype=np.float64)
    if return_network:
        out["network"] = net
    return out


def _lif_params(kwargs: dict[str, Any]) -> dict[str, Any]:
    keys = ("tau_m", "v_rest", "v_threshold", "v_reset", "t_ref", "tau_syn_exc", "tau_syn_inh")
    return {k: float(kwargs[k]) for k in keys}


def run_lif_network(
    *,
    n: int,
    dt: float,
    n_steps: int,
    tau_m: float,
    v_rest: float,
    v_threshold: float,
    v_reset: float,
    t_ref: float,
    tau_syn_exc: float,
    tau_syn_inh: float,
    v_init: np.ndarray,
    n_input: int,
    input_indices: np.ndarray,
    input_steps: np.ndarray,
    projections: list[dict[str, Any]],
) -> tuple[np.ndarray, np.ndarray]:
    """Current-based LIF network in Brian2; returns ``(neuron_index, step)`` (int64), sorted by (step, index)."""
    i, steps, _ = run_lif_network_trace(
        n=n, dt=dt, n_steps=n_steps, tau_m=tau_m, v_rest=v_rest, v_threshold=v_threshold, v_reset=v_reset,
        t_ref=t_ref, tau_syn_exc=tau_syn_exc, tau_syn_inh=tau_syn_inh, v_init=v_init, n_input=n_input,
        input_indices=input_indices, input_steps=input_steps, projections=projections, record=None,
    )  # fmt: skip
    return i, steps


def run_lif_network_trace(
    *, record: np.ndarray | None, **kwargs: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """As :func:`run_lif_network`, also recording ``v`` of the neurons in ``record``.

    Returns ``(neuron_index, step, v)`` with ``v`` of shape ``(len(record), n_steps)`` (``None`` when
    ``record`` is ``None``). ``v[:, k]`` is the value at the *start* of step ``k`` (StateMonitor runs in
    the ``start`` slot): column 0 is ``v_init``, column ``k`` is the state after step ``k - 1`` completed
    (update, threshold, synapses, reset).
    """
    out = _simulate(
        _MODEL_LIF,
        n=int(kwargs["n"]),
        dt=float(kwargs["dt"]),
        n_steps=int(kwargs["n_steps"]),
        neuron_params=_lif_params(kwargs),
        initial={"v": kwargs["v_init"]},
        n_input=int(kwargs["n_input"]),
        input_indices=kwargs["input_indices"],
        input_steps=kwargs["input_steps"],
        projections=kwargs["projections"],
        record_v=record,
    )
    return out["i"], out["steps"], out.get("v")


def run_izhikevich_network(
    *,
    n: int,
    dt: float,
    n_steps: int,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    bias: np.ndarray,
    v_init: np.ndarray,
    u_init: np.ndarray,
    n_input: int,
    input_indices: np.ndarray,
    input_steps: np.ndarray,
    projections: list[dict[str, Any]],
) -> tuple[np.ndarray, np.ndarray]:
    """Izhikevich (2003) network with delta synapses (``v += w``) in Brian2; returns ``(neuron_index, step)``."""
    i, steps, _ = run_izhikevich_network_trace(
        n=n, dt=dt, n_steps=n_steps, a=a, b=b, c=c, d=d, bias=bias, v_init=v_init, u_init=u_init,
        n_input=n_input, input_indices=input_indices, input_steps=input_steps, projections=projections,
        record=None,
    )  # fmt: skip
    return i, steps


def run_izhikevich_network_trace(
    *, record: np.ndarray | None, **kwargs: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """As :func:`run_izhikevich_network`, also recording ``v`` (same layout as :func:`run_lif_network_trace`)."""
    out = _simulate(
        _MODEL_IZH,
        n=int(kwargs["n"]),
        dt=float(kwargs["dt"]),
        n_steps=int(kwargs["n_steps"]),
        neuron_params={k: kwargs[k] for k in ("a", "b", "c", "d", "bias")},
        initial={"v": kwargs["v_init"], "u": kwargs["u_init"]},
        n_input=int(kwargs["n_input"]),
        input_indices=kwargs["input_indices"],
        input_steps=kwargs["input_steps"],
        projections=kwargs["projections"],
        record_v=record,
    )
    return out["i"], out["steps"], out.get("v")


# ---------------------------------------------------------------------------------------------------------------
# CUBA / Vogels-Abbott benchmark (statistics check, not bit-exact)
# ---------------------------------------------------------------------------------------------------------------


def run_cuba(*, n: int = 4000, seed: int, duration: float = 1.0, dt: float = 1e-4, target: str = "numpy") -> dict:
    """Brian2's ``examples/CUBA.py`` (Vogels & Abbott 2005 benchmark), exactly as Brian2 ships it.

    The first 80 % of the neurons are excitatory, the rest inhibitory; ``v0 ~ U(Vr, Vt)``; connection
    probability 0.02; volt units as in the example. Returns ``rate_hz`` (all neurons), ``rate_exc_hz``,
    ``rate_inh_hz``, ``cv_isi`` (mean CV of the inter-spike intervals over neurons with >= 3 spikes; NaN if
    none), ``n_spikes``, and the raw spikes ``i`` (int64) and ``t`` (float64 seconds).
    """
    import brian2 as b2
    from brian2 import ms, mV

    previous = b2.prefs.codegen.target
    try:
        b2.prefs.codegen.target = target
        b2.seed(seed)
        np.random.seed(seed)
        dt_q = dt * b2.second
        b2.defaultclock.dt = dt_q
        n_exc = round(0.8 * n)
        namespace = {
            "taum": 20 * ms,
            "taue": 5 * ms,
            "taui": 10 * ms,
            "Vt": -50 * mV,
            "Vr": -60 * mV,
            "El": -49 * mV,
            "we": (60 * 0.27 / 10) * mV,
            "wi": (-20 * 4.5 / 10) * mV,
            "n_exc": n_exc,
        }
        eqs = """
        dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
        dge/dt = -ge/taue : volt
        dgi/dt = -gi/taui : volt
        """
        P = b2.NeuronGroup(
            n, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact", namespace=namespace, dt=dt_q
        )
        P.v = "Vr + rand() * (Vt - Vr)"
        P.ge = 0 * mV
        P.gi = 0 * mV
        Ce = b2.Synapses(P, P, on_pre="ge += we", namespace=namespace, dt=dt_q)
        Ci = b2.Synapses(P, P, on_pre="gi += wi", namespace=namespace, dt=dt_q)
        Ce.connect("i<n_exc", p=0.02)
        Ci.connect("i>=n_exc", p=0.02)
        s_mon = b2.SpikeMonitor(P)
        net = b2.Network(P, Ce, Ci, s_mon)
        net.run(duration * b2.second, namespace={})
        i = np.asarray(s_mon.i[:], dtype=np.int64)
        t = np.asarray(s_mon.t_[:], dtype=np.float64)
    finally:
        b2.prefs.codegen.target = previous

    counts = np.bincount(i, minlength=n)
    cvs = []
    order = np.lexsort((t, i))
    i_sorted, t_sorted = i[order], t[order]
    bounds = np.searchsorted(i_sorted, np.arange(n + 1))
    for k in np.flatnonzero(counts >= 3):
        isi = np.diff(t_sorted[bounds[k] : bounds[k + 1]])
        cvs.append(float(np.std(isi) / np.mean(isi)))
    return {
        "rate_hz": float(counts.sum() / (n * duration)),
        "rate_exc_hz": float(counts[:n_exc].sum() / (n_exc * duration)),
        "rate_inh_hz": float(counts[n_exc:].sum() / (max(n - n_exc, 1) * duration)),
        "cv_isi": float(np.mean(cvs)) if cvs else float("nan"),
        "n_spikes": int(i.size),
        "i": i,
        "t": t,
    }


# ---------------------------------------------------------------------------------------------------------------
# Example networks for the spike-exact comparison tests
# ---------------------------------------------------------------------------------------------------------------


def _random_csr(
    rng: np.random.Generator, pre: np.ndarray, n_post: int, n_pre_total: int, p: float, autapses: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """CSR (``indptr`` over all ``n_pre_total`` presynaptic neurons) where only rows in ``pre`` have synapses.

    Each row holds an independent Bernoulli(p) draw over the postsynaptic neurons, sorted ascending.
    """
    counts = np.zeros(n_pre_total, dtype=np.int64)
    rows = []
    pre_set = set(np.asarray(pre).tolist())
    for i in range(n_pre_total):
        if i in pre_set:
            mask = rng.random(n_post) < p
            if not autapses and i < n_post:
                mask[i] = False
            cols = np.flatnonzero(mask).astype(np.int32)
        else:
            cols = np.zeros(0, dtype=np.int32)
        rows.append(cols)
        counts[i] = cols.size
    indptr = np.zeros(n_pre_total + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, dtype=np.int32)
    return indptr, indices


def _input_spikes(rng: np.random.Generator, n_input: int, n_spikes: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_spikes`` (channel, step) pairs drawn uniformly, de-duplicated, sorted by (step, channel)."""
    idx = rng.integers(0, n_input, size=n_spikes)
    steps = rng.integers(0, n_steps, size=n_spikes)
    pairs = np.unique(np.stack([steps, idx], axis=1), axis=0)  # sorted by step, then channel
    return pairs[:, 1].astype(np.int64), pairs[:, 0].astype(np.int64)


def _projection(pre: str, indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, delays: np.ndarray,
                target: str) -> dict[str, Any]:  # fmt: skip
    return {
        "pre": pre,
        "indptr": indptr,
        "indices": indices,
        "weights": np.asarray(weights, dtype=np.float64),
        "delays": np.asarray(delays, dtype=np.int64),
        "target": target,
    }


def make_lif_example(seed: int) -> dict[str, Any]:
    """Keyword arguments for :func:`run_lif_network`: a 60-neuron input-driven E/I LIF network, 300 ms at 0.1 ms.

    48 excitatory + 12 inhibitory neurons, v_rest = v_reset = -65 mV, threshold -50 mV, 2 ms refractory
    (20 steps), tau_m 20 ms, tau_exc 5 ms, tau_inh 10 ms. 30 input channels with ~200 spikes spread uniformly
    over 300 ms project to each neuron with p = 0.2 (weights U(15, 30) mV, delays 0-5 steps); recurrent
    connectivity p = 0.1 without autapses, excitatory weights U(1, 5) mV, inhibitory U(-10, -2) mV,
    delays 0-20 steps (zero-delay synapses included). Only ``numpy.random.default_rng(seed)`` is used.
    """
    rng = np.random.default_rng(seed)
    n, n_exc, n_input, dt, n_steps = 60, 48, 30, 1e-4, 3000
    inp_i, inp_steps = _input_spikes(rng, n_input, 200, n_steps)
    projections = []
    indptr, indices = _random_csr(rng, np.arange(n_input), n, n_input, 0.2)
    projections.append(
        _projection("input", indptr, indices, rng.uniform(15.0, 30.0, indices.size),
                    rng.integers(0, 6, indices.size), "exc")
    )  # fmt: skip
    indptr, indices = _random_csr(rng, np.arange(n_exc), n, n, 0.1, autapses=False)
    projections.append(
        _projection("net", indptr, indices, rng.uniform(1.0, 5.0, indices.size), rng.integers(0, 21, indices.size),
                    "exc")
    )  # fmt: skip
    indptr, indices = _random_csr(rng, np.arange(n_exc, n), n, n, 0.1, autapses=False)
    projections.append(
        _projection("net", indptr, indices, rng.uniform(-10.0, -2.0, indices.size),
                    rng.integers(0, 21, indices.size), "inh")
    )  # fmt: skip
    return {
        "n": n,
        "dt": dt,
        "n_steps": n_steps,
        "tau_m": 0.02,
        "v_rest": -65.0,
        "v_threshold": -50.0,
        "v_reset": -65.0,
        "t_ref": 0.002,
        "tau_syn_exc": 0.005,
        "tau_syn_inh": 0.01,
        "v_init": rng.uniform(-65.0, -55.0, n),
        "n_input": n_input,
        "input_indices": inp_i,
        "input_steps": inp_steps,
        "projections": projections,
    }


def make_izhikevich_example(seed: int) -> dict[str, Any]:
    """Keyword arguments for :func:`run_izhikevich_network`: Izhikevich (2003) RS/FS mix, 500 ms at 0.1 ms.

    80 excitatory neurons (``a = 0.02, b = 0.2, c = -65 + 15 r**2, d = 8 - 6 r**2``) and 20 inhibitory
    (``a = 0.02 + 0.08 r, b = 0.25 - 0.05 r, c = -65, d = 2``), r ~ U(0, 1) per neuron as in the paper;
    constant bias U(5, 10); v_init U(-70, -60), u_init = b * v_init. Delta synapses (``v += w``): recurrent
    p = 0.1 without autapses, excitatory weights U(0.5, 3) mV, inhibitory U(-6, -1) mV, delays 0-20 steps;
    30 input channels with ~300 spikes project with p = 0.2, weights U(2, 6) mV, delays 0-5 steps.
    """
    rng = np.random.default_rng(seed)
    n, n_exc, n_input, dt, n_steps = 100, 80, 30, 1e-4, 5000
    n_inh = n - n_exc
    re = rng.random(n_exc)
    ri = rng.random(n_inh)
    a = np.concatenate([np.full(n_exc, 0.02), 0.02 + 0.08 * ri])
    b = np.concatenate([np.full(n_exc, 0.2), 0.25 - 0.05 * ri])
    c = np.concatenate([-65.0 + 15.0 * re**2, np.full(n_inh, -65.0)])
    d = np.concatenate([8.0 - 6.0 * re**2, np.full(n_inh, 2.0)])
    bias = rng.uniform(5.0, 10.0, n)
    v_init = rng.uniform(-70.0, -60.0, n)
    inp_i, inp_steps = _input_spikes(rng, n_input, 300, n_steps)
    projections = []
    indptr, indices = _random_csr(rng, np.arange(n_input), n, n_input, 0.2)
    projections.append(
        _projection("input", indptr, indices, rng.uniform(2.0, 6.0, indices.size), rng.integers(0, 6, indices.size),
                    "v")
    )  # fmt: skip
    indptr, indices = _random_csr(rng, np.arange(n_exc), n, n, 0.1, autapses=False)
    projections.append(
        _projection("net", indptr, indices, rng.uniform(0.5, 3.0, indices.size), rng.integers(0, 21, indices.size),
                    "v")
    )  # fmt: skip
    indptr, indices = _random_csr(rng, np.arange(n_exc, n), n, n, 0.1, autapses=False)
    projections.append(
        _projection("net", indptr, indices, rng.uniform(-6.0, -1.0, indices.size),
                    rng.integers(0, 21, indices.size), "v")
    )  # fmt: skip
    return {
        "n": n,
        "dt": dt,
        "n_steps": n_steps,
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "bias": bias,
        "v_init": v_init,
        "u_init": b * v_init,
        "n_input": n_input,
        "input_indices": inp_i,
        "input_steps": inp_steps,
        "projections": projections,
    }
