"""Brian2 references for plasticity (pair STDP, triplet STDP, Tsodyks-Markram STP) and conductance-based LIF.

Plain numpy and plain dicts in, plain numpy out; no dependency on ``snn``. Same conventions as
``brian2_reference.py``: Brian2's runtime ``numpy`` target (the previous ``prefs.codegen.target`` is
restored), ``defaultclock.dt`` set, explicitly named objects in a ``b2.Network``, dimensionless ``: 1``
variables holding mV numbers (conductances in multiples of the leak conductance), times in seconds.

Rules are given as the dicts of the package's ``as_dict()`` (``{"rule": "stdp", "tau_pre": ..., ...}``,
``{"rule": "triplet", ...}``, ``{"rule": "tsodyks_markram", "U": ..., "tau_rec": ..., "tau_facil": ...}``);
any mapping with those keys works. The Synapses code written here (see :func:`synapse_code`) is::

    pair STDP   model   w : 1
                        dxpre/dt = -xpre/tau_pre : 1 (event-driven)
                        dxpost/dt = -xpost/tau_post : 1 (event-driven)
                on_pre  <target>_post += w
                        xpre += 1                                   (nearest: xpre = 1)
                        w = clip(w - a_minus*xpost*F_minus, w_min, w_max)
                on_post xpost += 1                                  (nearest: xpost = 1)
                        w = clip(w + a_plus*xpre*F_plus, w_min, w_max)
                F = 1 (additive); F_plus = (w_max - w), F_minus = (w - w_min) (multiplicative)

    triplet     traces  r1 (tau_plus), r2 (tau_x) on the pre side, o1 (tau_minus), o2 (tau_y) on the post side
                on_pre  <target>_post += w
                        w = clip(w - o1*(a2_minus + a3_minus*r2), w_min, w_max)
                        r1 += 1; r2 += 1                            (nearest: = 1)
                on_post w = clip(w + r1*(a2_plus + a3_plus*o2), w_min, w_max)
                        o1 += 1; o2 += 1                            (nearest: = 1)

    STP         du/dt = -u/tau_facil : 1 (event-driven)   [tau_facil = 0: no u, r = U*x]
                dx/dt = (1 - x)/tau_rec : 1 (event-driven)
                r : 1                                      u = 0, x = 1 initially
                on_pre  u += U*(1 - u); r = u*x; x -= r; <target>_post += w*r   (then the STDP lines above)

The delay is set on the ``pre`` pathway only (``syn.delay``; the ``post`` pathway has none): delays are
axonal for learning. Event-driven variables are advanced lazily at each event from the synapse's
``lastupdate`` (``xpre * exp(-(t - lastupdate)/tau_pre)``; STP: ``(1 + x*e) - e`` with
``e = exp(-(t - lastupdate)/tau_rec)``), where ``lastupdate`` is shared by all of the synapse's traces and
is set by pre *and* post events.

Answers checked in Brian2 2.9.0's source (``brian2/synapses/synapses.py``, ``SynapticPathway.__init__``):

* **pre before post.** A ``pre`` pathway gets ``order=-1`` and a ``post`` pathway ``order=+1``, whatever the
  ``order`` of the Synapses object, and the network sorts objects by ``(when, order, name)``: in a step,
  *all* ``pre`` pathways of all Synapses run before *any* ``post`` pathway (not only within one
  projection). A pre spike arriving in the step of a post spike is therefore pre-before-post (depression with
  the old ``xpost`` first, then potentiation with the new ``xpre``). Among pre pathways the name decides; the
  Synapses here are named ``pNN_<name>`` so that list order is delivery order.
* **Post spikes.** The ``post`` pathway has delay 0: a post spike in step ``k`` updates the synapse in step
  ``k``, after thresholds and before resets.
* **Weights recorded** with a ``StateMonitor(syn, 'w', dt=every*dt)`` in the ``start`` slot: snapshot ``m`` is
  the weight at the start of step ``m * every``, before that step's updates.

ConductanceLIF (``method='exponential_euler'``), Brian2 2.9.0's generated numpy code, scalar part
``_lio_4 = 1.0/tau_m; _lio_5 = e_exc/tau_m; _lio_6 = e_inh/tau_m; _lio_7 = v_rest/tau_m; _lio_8 = 0.0 - _lio_4``
and ``_lio_2``/``_lio_3`` the ``exp(-dt/tau_syn_*)`` decays; vector part (old values on the right)::

    _BA_v = (_lio_7 + (((_lio_4*bias) + (_lio_5*ge)) + (_lio_6*gi))) / ((_lio_8 + (_lio_4*(-ge))) - (_lio_4*gi))
    _v = -_BA_v + ((_BA_v + v) * exp(dt * ((_lio_8 + (_lio_4*(-ge))) - (_lio_4*gi))))   # where not refractory
    ge = _lio_2*ge;  gi = _lio_3*gi

The ``exp`` there is numpy's on a whole array (SIMD loops on AVX512 machines), which differs from libm's
``exp`` in the last bit for about 1 % of the arguments; a numba kernel calling ``np.exp`` on a scalar gets
libm's, so ``v`` then differs from Brian2's by an ulp now and then (spikes are unaffected in the example:
a 1e-13 relative change of ``v_init`` changes no spike of seeds 0-3 within 250 ms).

Forcing postsynaptic spikes: a "teacher" input makes ``v += w_teacher`` (a delta synapse, delay 0) in step
``k - 1``; the threshold of step ``k - 1`` has already been tested, so the neuron spikes in step ``k``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from brian2_reference import LIF_EQUATIONS, _csr_pre_indices, _input_spikes, _random_csr

COBA_EQUATIONS = """
dv/dt = (ge*(e_exc-v) + gi*(e_inh-v) + (v_rest-v) + bias)/tau_m : 1 (unless refractory)
dge/dt = -ge/tau_syn_exc : 1
dgi/dt = -gi/tau_syn_inh : 1
bias : 1
"""

#: Brian2 variable that a projection target writes, per neuron model
TARGET_VARIABLES = {
    "lif": {"exc": "ie", "inh": "ii", "delta": "v"},
    "conductance_lif": {"exc": "ge", "inh": "gi", "delta": "v"},
}
#: our state-variable names -> Brian2's, per neuron model
STATE_NAMES = {
    "lif": {"v": "v", "i_exc": "ie", "i_inh": "ii"},
    "conductance_lif": {"v": "v", "g_exc": "ge", "g_inh": "gi"},
}

# Pfister & Gerstner (2006), Table 4, full models: (a2_plus, a3_plus, a2_minus, a3_minus, tau_x, tau_y);
# tau_plus = 16.8 ms, tau_minus = 33.7 ms. Kept here so the reference does not depend on the package.
TRIPLET_VISUAL_CORTEX = {
    "all": (5e-10, 6.2e-3, 7e-3, 2.3e-4, 101e-3, 125e-3),
    "nearest": (8.8e-11, 5.3e-2, 6.6e-3, 3.1e-3, 714e-3, 40e-3),
}


def triplet_visual_cortex(pairing: str, w_min: float = 0.0, w_max: float = 1.0) -> dict[str, Any]:
    """Rule dict of Pfister & Gerstner's visual-cortex full model (Table 4) for ``pairing``."""
    a2p, a3p, a2m, a3m, tx, ty = TRIPLET_VISUAL_CORTEX[pairing]
    return {"rule": "triplet", "tau_plus": 16.8e-3, "tau_minus": 33.7e-3, "tau_x": tx, "tau_y": ty, "a2_plus": a2p,
            "a3_plus": a3p, "a2_minus": a2m, "a3_minus": a3m, "w_min": w_min, "w_max": w_max, "pairing": pairing}


def synapse_code(b2: Any, target_var: str, plasticity: Mapping[str, Any] | None,
                 stp: Mapping[str, Any] | None) -> tuple[str, str, str | None, dict[str, Any]]:
    """``(model, on_pre, on_post, namespace)`` of one projection's Synapses (see the module docstring)."""
    model = ["w : 1"]
    pre: list[str] = []
    post: list[str] = []
    ns: dict[str, Any] = {}
    if stp is not None:
        ns["U"] = float(stp["U"])
        ns["tau_rec"] = float(stp["tau_rec"]) * b2.second
        model += ["dx/dt = (1 - x)/tau_rec : 1 (event-driven)", "r : 1"]
        if float(stp["tau_facil"]) > 0:
            ns["tau_facil"] = float(stp["tau_facil"]) * b2.second
            model.append("du/dt = -u/tau_facil : 1 (event-driven)")
            pre += ["u += U*(1 - u)", "r = u*x"]
        else:
            pre.append("r = U*x")
        pre += ["x -= r", f"{target_var}_post += w*r"]
    else:
        pre.append(f"{target_var}_post += w")
    if plasticity is not None:
        rule = plasticity["rule"]
        ns["w_min"] = float(plasticity["w_min"])
        ns["w_max"] = float(plasticity["w_max"])
        jump = "+= 1" if plasticity["pairing"] == "all" else "= 1"
        if plasticity["pairing"] not in ("all", "nearest"):
            raise ValueError(plasticity["pairing"])
        if rule == "stdp":
            for key in ("tau_pre", "tau_post"):
                ns[key] = float(plasticity[key]) * b2.second
            ns["a_plus"] = float(plasticity["a_plus"])
            ns["a_minus"] = float(plasticity["a_minus"])
            model += ["dxpre/dt = -xpre/tau_pre : 1 (event-driven)", "dxpost/dt = -xpost/tau_post : 1 (event-driven)"]
            if plasticity["bounds"] == "additive":
                f_plus = f_minus = ""
            elif plasticity["bounds"] == "multiplicative":
                f_plus, f_minus = "*(w_max - w)", "*(w - w_min)"
            else:
                raise ValueError(plasticity["bounds"])
            pre += [f"xpre {jump}", f"w = clip(w - a_minus*xpost{f_minus}, w_min, w_max)"]
            post += [f"xpost {jump}", f"w = clip(w + a_plus*xpre{f_plus}, w_min, w_max)"]
        elif rule == "triplet":
            for key in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
                ns[key] = float(plasticity[key]) * b2.second
            for key in ("a2_plus", "a3_plus", "a2_minus", "a3_minus"):
                ns[key] = float(plasticity[key])
            model += ["dr1/dt = -r1/tau_plus : 1 (event-driven)", "dr2/dt = -r2/tau_x : 1 (event-driven)",
                      "do1/dt = -o1/tau_minus : 1 (event-driven)", "do2/dt = -o2/tau_y : 1 (event-driven)"]
            pre += ["w = clip(w - o1*(a2_minus + a3_minus*r2), w_min, w_max)", f"r1 {jump}", f"r2 {jump}"]
            post += ["w = clip(w + r1*(a2_plus + a3_plus*o2), w_min, w_max)", f"o1 {jump}", f"o2 {jump}"]
        else:
            raise ValueError(rule)
    return "\n".join(model), "\n".join(pre), ("\n".join(post) if post else None), ns


def run_network(
    *,
    dt: float,
    n_steps: int,
    model: str,
    params: Mapping[str, Any],
    n: int,
    v_init: np.ndarray | float,
    sources: Mapping[str, tuple[int, np.ndarray, np.ndarray]],
    projections: Sequence[Mapping[str, Any]],
    record: np.ndarray | Sequence[int] | None = None,
    record_vars: Sequence[str] = ("v",),
    weight_every: int | None = None,
    pop_name: str = "post",
    target: str = "numpy",
) -> dict[str, Any]:
    """Simulate one neuron population, spike-time sources and (plastic) projections in Brian2.

    ``model``: ``"lif"`` (current-based LIF of ``brian2_reference.LIF_EQUATIONS``, method ``exact``; params
    ``tau_m, v_rest, v_threshold, v_reset, t_ref, tau_syn_exc, tau_syn_inh``) or ``"conductance_lif"``
    (:data:`COBA_EQUATIONS`, method ``exponential_euler``; params also ``e_exc, e_inh`` and ``bias`` (scalar or
    per neuron)). ``sources``: ``name -> (size, indices, steps)`` spike-time inputs (emitted in step
    ``steps``). ``projections``: dicts with ``name``, ``pre`` (a source name or ``pop_name``), ``indptr``,
    ``indices`` (CSR over the pre side; synapse ``k`` is CSR entry ``k``), ``weights``, ``delays`` (steps,
    scalar or per synapse), ``target`` (``"exc"``, ``"inh"``, ``"delta"``) and optionally ``plasticity`` and
    ``stp`` rule dicts. State variables in ``record_vars`` use our names (``v``, ``i_exc``, ``g_exc``...).

    Returns ``i``, ``steps`` (spikes, int64, sorted by (step, neuron)), ``states`` (``var -> (n_steps,
    len(record))``, sampled at the start of every step, as our ``Recording.states[pop][var][trial]``),
    ``final_weights`` (``name -> (nnz,)`` for every projection) and, with ``weight_every``, ``weights``
    (``name -> (n_snapshots, nnz)`` at the start of steps ``0, every, 2*every, ...``, plastic projections).
    """
    import brian2 as b2

    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        return _build_and_run(b2, dt=dt, n_steps=n_steps, model=model, params=params, n=n, v_init=v_init,
                              sources=sources, projections=projections, record=record, record_vars=record_vars,
                              weight_every=weight_every, pop_name=pop_name)
    finally:
        b2.prefs.codegen.target = previous


def _neurons(b2: Any, model: str, params: Mapping[str, Any], n: int, dt_q: Any, name: str) -> Any:
    ns = {k: float(params[k]) * b2.second for k in ("tau_m", "tau_syn_exc", "tau_syn_inh")}
    ns.update({k: float(params[k]) for k in ("v_rest", "v_threshold", "v_reset")})
    if model == "lif":
        eqs, method = LIF_EQUATIONS, "exact"
    elif model == "conductance_lif":
        eqs, method = COBA_EQUATIONS, "exponential_euler"
        ns.update({k: float(params[k]) for k in ("e_exc", "e_inh")})
    else:
        raise ValueError(model)
    group = b2.NeuronGroup(n, eqs, threshold="v > v_threshold", reset="v = v_reset",
                           refractory=float(params["t_ref"]) * b2.second, method=method, namespace=ns, dt=dt_q,
                           name=name)
    if model == "conductance_lif":
        group.bias = np.broadcast_to(np.asarray(params.get("bias", 0.0), dtype=np.float64), (n,))
    return group


def _build_and_run(b2: Any, *, dt: float, n_steps: int, model: str, params: Mapping[str, Any], n: int,
                   v_init: np.ndarray | float, sources: Mapping[str, tuple[int, np.ndarray, np.ndarray]],
                   projections: Sequence[Mapping[str, Any]], record: Any, record_vars: Sequence[str],
                   weight_every: int | None, pop_name: str) -> dict[str, Any]:
    b2.defaultclock.dt = dt * b2.second
    dt_q = dt * b2.second
    neurons = _neurons(b2, model, params, n, dt_q, pop_name)
    neurons.v = np.broadcast_to(np.asarray(v_init, dtype=np.float64), (n,))
    objects: list[Any] = [neurons]
    groups: dict[str, Any] = {pop_name: neurons}
    for name, (size, indices, steps) in sources.items():
        gen = b2.SpikeGeneratorGroup(max(int(size), 1), np.asarray(indices, dtype=np.int64),
                                     np.asarray(steps, dtype=np.int64) * dt * b2.second, dt=dt_q, name=name)
        groups[name] = gen
        objects.append(gen)

    synapses: dict[str, Any] = {}
    weight_monitors: dict[str, Any] = {}
    for k, proj in enumerate(projections):
        indptr = np.asarray(proj["indptr"], dtype=np.int64)
        post = np.asarray(proj["indices"], dtype=np.int64)
        target_var = TARGET_VARIABLES[model][proj["target"]]
        syn_model, on_pre, on_post, ns = synapse_code(b2, target_var, proj.get("plasticity"), proj.get("stp"))
        syn = b2.Synapses(groups[proj["pre"]], neurons, syn_model, on_pre=on_pre, on_post=on_post, namespace=ns,
                          dt=dt_q, name=f"p{k:02d}_{proj['name']}")
        syn.connect(i=_csr_pre_indices(indptr), j=post)
        syn.w = np.broadcast_to(np.asarray(proj["weights"], dtype=np.float64), (post.size,))
        syn.delay = np.broadcast_to(np.asarray(proj.get("delays", 0), dtype=np.int64), (post.size,)) * dt * b2.second
        if proj.get("stp") is not None:
            syn.x = 1.0
            if float(proj["stp"]["tau_facil"]) > 0:
                syn.u = 0.0
        synapses[proj["name"]] = syn
        objects.append(syn)
        if weight_every is not None and proj.get("plasticity") is not None:
            mon = b2.StateMonitor(syn, "w", record=True, dt=int(weight_every) * dt_q, name=f"wmon{k:02d}")
            weight_monitors[proj["name"]] = mon
            objects.append(mon)

    spikes = b2.SpikeMonitor(neurons, name="spikes")
    objects.append(spikes)
    state = None
    names = STATE_NAMES[model]
    if record is not None:
        state = b2.StateMonitor(neurons, [names[v] for v in record_vars], record=np.asarray(record, dtype=np.int64),
                                dt=dt_q, name="state")
        objects.append(state)

    net = b2.Network(*objects)
    net.run(n_steps * dt * b2.second, namespace={})

    i = np.asarray(spikes.i[:], dtype=np.int64)
    steps = np.rint(np.asarray(spikes.t_[:]) / dt).astype(np.int64)
    order = np.lexsort((i, steps))
    out: dict[str, Any] = {
        "i": i[order],
        "steps": steps[order],
        "final_weights": {name: np.array(syn.w[:], dtype=np.float64) for name, syn in synapses.items()},
        "weights": {name: np.array(mon.w[:], dtype=np.float64).T for name, mon in weight_monitors.items()},
        "states": {},
    }
    if state is not None:
        out["states"] = {v: np.array(getattr(state, names[v])[:], dtype=np.float64).T for v in record_vars}
    return out


# ---------------------------------------------------------------------------------------------------------------
# Protocols (plain numpy): pairing protocols with forced postsynaptic spikes, STP trains, a COBA network
# ---------------------------------------------------------------------------------------------------------------

#: current-based LIF used as the postsynaptic neuron in the pairing protocols (Brian2's CUBA-like values)
PAIRING_LIF = {"tau_m": 0.02, "v_rest": -65.0, "v_threshold": -50.0, "v_reset": -65.0, "t_ref": 0.002,
               "tau_syn_exc": 0.005, "tau_syn_inh": 0.01}
#: delta weight of the teacher synapse that forces a postsynaptic spike one step later
TEACHER_WEIGHT = 100.0


def pairing_protocol(intervals_steps: Sequence[int], *, periods_steps: Sequence[int] | int, n_pairs: int,
                     first_post_step: int, delays: Sequence[int] | int = 0, n_steps: int | None = None
                     ) -> dict[str, Any]:
    """Pre/post pairings, one synapse (pre channel ``c`` -> post neuron ``c``) per entry of ``intervals_steps``.

    Post neuron ``c`` spikes at ``first_post_step + m * period_c`` (``m < n_pairs``), forced by the teacher
    (channel ``c`` in step ``post - 1``). The presynaptic spike of pair ``m`` *arrives* at
    ``post - interval_c`` (Δt = t_post - t_pre_arrival = ``interval_c`` steps) and is emitted ``delay_c``
    steps earlier. Returns ``n`` (channels), ``n_steps``, ``post_steps`` (list of arrays), ``pre``/``teacher``
    as ``(size, indices, steps)`` source tuples and ``post_spikes`` ``(neuron, step)`` sorted by (step, neuron).
    """
    intervals = np.asarray(intervals_steps, dtype=np.int64)
    n = intervals.size
    periods = np.broadcast_to(np.asarray(periods_steps, dtype=np.int64), (n,))
    d = np.broadcast_to(np.asarray(delays, dtype=np.int64), (n,))
    post_steps = [first_post_step + periods[c] * np.arange(n_pairs, dtype=np.int64) for c in range(n)]
    pre_i, pre_s, t_i, t_s = [], [], [], []
    for c in range(n):
        pre_s.append(post_steps[c] - intervals[c] - d[c])
        pre_i.append(np.full(n_pairs, c, dtype=np.int64))
        t_s.append(post_steps[c] - 1)
        t_i.append(np.full(n_pairs, c, dtype=np.int64))
    pre_i_a, pre_s_a = np.concatenate(pre_i), np.concatenate(pre_s)
    if pre_s_a.min() < 0 or min(s.min() for s in t_s) < 0:
        raise ValueError("first_post_step too small for the intervals and delays")
    last = int(max(pre_s_a.max() + d.max(), max(s.max() for s in post_steps)))
    if n_steps is None:
        n_steps = last + 1
    if n_steps <= last:
        raise ValueError("n_steps too short for the protocol")
    post_i = np.concatenate([np.full(n_pairs, c, dtype=np.int64) for c in range(n)])
    post_s = np.concatenate(post_steps)
    order = np.lexsort((post_i, post_s))
    return {
        "n": n,
        "n_steps": int(n_steps),
        "post_steps": post_steps,
        "pre": (n, pre_i_a, pre_s_a),
        "teacher": (n, np.concatenate(t_i), np.concatenate(t_s)),
        "post_spikes": (post_i[order], post_s[order]),
        "delays": d.copy(),
    }


def random_pairing_protocol(seed: int, *, n_pre: int = 4, n_post: int = 6, n_steps: int = 6000,
                            pre_rate_hz: float = 20.0, n_post_spikes: int = 12, dt: float = 1e-4) -> dict[str, Any]:
    """Irregular pre and (forced) post spikes for an all-to-all ``n_pre -> n_post`` plastic projection.

    Each pre channel spikes at ``Poisson(pre_rate_hz * T)`` distinct steps drawn uniformly from
    ``[0, n_steps - 1)``; each post neuron spikes ``n_post_spikes`` times on a 4 ms grid (distinct grid
    points, so inter-spike intervals exceed the 2 ms refractory period), forced by the teacher one step
    earlier. Only ``default_rng(seed)`` is used. Returns ``n_pre``, ``n``, ``n_steps``, ``pre`` and
    ``teacher`` source tuples and ``post_spikes`` ``(neuron, step)`` sorted by (step, neuron).
    """
    rng = np.random.default_rng(seed)
    pre_i, pre_s = [], []
    for c in range(n_pre):
        k = int(rng.poisson(pre_rate_hz * n_steps * dt))
        steps = np.sort(rng.choice(n_steps - 1, size=k, replace=False))
        pre_s.append(steps)
        pre_i.append(np.full(k, c, dtype=np.int64))
    grid = 40
    post_i, post_s = [], []
    for c in range(n_post):
        steps = np.sort(rng.choice(np.arange(1, (n_steps - 1) // grid), size=n_post_spikes, replace=False)) * grid
        post_s.append(steps)
        post_i.append(np.full(n_post_spikes, c, dtype=np.int64))
    pi, ps = np.concatenate(post_i), np.concatenate(post_s).astype(np.int64)
    order = np.lexsort((pi, ps))
    return {"n_pre": n_pre, "n": n_post, "n_steps": n_steps,
            "pre": (n_pre, np.concatenate(pre_i), np.concatenate(pre_s).astype(np.int64)),
            "teacher": (n_post, pi, ps - 1), "post_spikes": (pi[order], ps[order])}


def one_to_one_csr(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int32)


def pairing_network(protocol: Mapping[str, Any], rules: Mapping[str, Any], *, dt: float, w_init: float,
                    stp: Any = None, all_to_all: bool = False) -> dict[str, Any]:
    """Keyword arguments for :func:`run_network` running a pairing protocol (:func:`pairing_protocol` or
    :func:`random_pairing_protocol`) on :data:`PAIRING_LIF` neurons (``v`` starts at rest).

    Projection 0 is the teacher (``teacher -> post`` one-to-one, target ``delta``, :data:`TEACHER_WEIGHT`,
    delay 0); then one projection ``pre -> post`` per entry of ``rules`` (``name -> rule``), target ``exc``,
    initial weight ``w_init``, delays ``protocol["delays"]`` (0 if absent), one-to-one (``all_to_all=False``)
    or all-to-all, each with short-term plasticity ``stp``. Rules are passed through unchanged (convert them
    to dicts before calling :func:`run_network`).
    """
    n = protocol["n"]
    indptr, indices = one_to_one_csr(n)
    projections: list[dict[str, Any]] = [
        {"name": "teach", "pre": "teacher", "indptr": indptr, "indices": indices, "weights": TEACHER_WEIGHT,
         "delays": 0, "target": "delta"}
    ]
    if all_to_all:
        n_pre = protocol["n_pre"]
        indptr = np.arange(n_pre + 1, dtype=np.int64) * n
        indices = np.tile(np.arange(n, dtype=np.int32), n_pre)
    for name, rule in rules.items():
        projections.append({"name": name, "pre": "pre", "indptr": indptr, "indices": indices, "weights": w_init,
                            "delays": protocol.get("delays", 0), "target": "exc", "plasticity": rule, "stp": stp})
    return {"dt": dt, "n_steps": protocol["n_steps"], "model": "lif", "params": dict(PAIRING_LIF), "n": n,
            "v_init": PAIRING_LIF["v_rest"], "sources": {"pre": protocol["pre"], "teacher": protocol["teacher"]},
            "projections": projections, "pop_name": "post"}


def stp_trains(seed: int = 0) -> dict[str, Any]:
    """Two presynaptic channels for the STP check, dt = 0.1 ms, 1.2 s (12000 steps).

    Channel 0: 10 spikes at 20 Hz from 20 ms, then 10 at 50 Hz, then one recovery spike 300 ms later.
    Channel 1: irregular, 30 spikes at sorted distinct steps drawn from ``default_rng(seed)`` in [0, 11000).
    """
    rng = np.random.default_rng(seed)
    reg = np.concatenate([200 + 500 * np.arange(10), 4700 + 200 * np.arange(1, 11)])
    reg = np.append(reg, reg[-1] + 3000)
    irr = np.sort(rng.choice(11000, size=30, replace=False)).astype(np.int64)
    return {"dt": 1e-4, "n_steps": 12000, "steps": [reg.astype(np.int64), irr],
            "source": (2, np.concatenate([np.zeros(reg.size, np.int64), np.ones(irr.size, np.int64)]),
                       np.concatenate([reg, irr]).astype(np.int64))}


#: Vogels & Abbott (2005) COBA neuron (the package's ConductanceLIF defaults)
COBA_PARAMS = {"tau_m": 0.02, "v_rest": -60.0, "v_threshold": -50.0, "v_reset": -60.0, "t_ref": 0.005,
               "tau_syn_exc": 0.005, "tau_syn_inh": 0.01, "e_exc": 0.0, "e_inh": -80.0}


def make_coba_example(seed: int, n: int = 80, n_steps: int = 2500) -> dict[str, Any]:
    """Keyword arguments for :func:`run_network`: an input-driven E/I network of ConductanceLIF neurons.

    ``n`` neurons (80 % excitatory), :data:`COBA_PARAMS`, per-neuron ``bias`` U(0, 6) mV, ``v_init``
    U(-60, -52) mV, dt = 0.1 ms. 30 input channels with ~250 spikes spread over the run project with p = 0.2
    (conductances U(0.1, 0.4), delays 0-5 steps); recurrent p = 0.1 without autapses, excitatory U(0.02, 0.15),
    inhibitory U(0.1, 0.6), delays 0-20 steps (zero delays included). Only ``default_rng(seed)`` is used.
    """
    rng = np.random.default_rng(seed)
    n_exc, n_input = round(0.8 * n), 30
    inp_i, inp_steps = _input_spikes(rng, n_input, 250, n_steps)
    params = dict(COBA_PARAMS, bias=rng.uniform(0.0, 6.0, n))
    projections = []
    for name, pre, rows, n_pre, p, lo, hi, dmax, target in (
        ("inp", "input", np.arange(n_input), n_input, 0.2, 0.1, 0.4, 5, "exc"),
        ("ee", "net", np.arange(n_exc), n, 0.1, 0.02, 0.15, 20, "exc"),
        ("ie", "net", np.arange(n_exc, n), n, 0.1, 0.1, 0.6, 20, "inh"),
    ):
        indptr, indices = _random_csr(rng, rows, n, n_pre, p, autapses=(pre != "net"))
        projections.append({"name": name, "pre": pre, "indptr": indptr, "indices": indices,
                            "weights": rng.uniform(lo, hi, indices.size),
                            "delays": rng.integers(0, dmax + 1, indices.size), "target": target})
    return {"dt": 1e-4, "n_steps": n_steps, "model": "conductance_lif", "params": params, "n": n,
            "v_init": rng.uniform(-60.0, -52.0, n), "sources": {"input": (n_input, inp_i, inp_steps)},
            "projections": projections, "pop_name": "net"}
