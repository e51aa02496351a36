"""Export a network description to the Neuromorphic Intermediate Representation (NIR, ``nir`` 1.0.8).

NIR (Pedersen et al., Nature Communications 15:8122, 2024) writes neurons as continuous-time ODEs and carries
no time step or integrator ("files carry no dt or integrator"; reference sheet ``hardware.md`` §4). Our engine
integrates LIF-family neurons exactly over steps of ``dt`` and delivers a spike emitted in step ``t`` (through a
synapse with delay ``d``) at the end of step ``t + d``. The export therefore fixes a *discretisation* that says
how one of our steps reads as one NIR step. Both readings below are exact for our engine: the importer
(:mod:`hardware.nir_import`) inverts them, and running a graph step by step under the reading reproduces our
engine's spikes (up to float rounding).

A spike in NIR step ``t`` is a pulse of area ``dt`` (a 1 held for one step: the convention of the NIR paper's
platforms, e.g. snnTorch's ``r = tau/dt``, ``w_in = tau_syn/dt``). With ``x_t`` the summed Linear output
in step ``t``, ``a = dt/tau_syn``, ``b = dt/tau_mem`` (``tau`` for LIF/LI):

``discretization="exact"`` (the ODE solved exactly):

- LIF / LI: the pulse is a unit current held over the step (the NIR paper's exact solver for ``lif_exact.csv``):
  ``v_t = e^{-b} v_{t-1} + (1 - e^{-b}) (v_leak + r x_t)``.
- CubaLIF / CubaLI: the pulse is a Dirac of area ``dt`` at the start of the step:
  ``I_t = e^{-a} (I_{t-1} + a w_in x_t)``,
  ``v_t = e^{-b} v_{t-1} + (1 - e^{-b}) v_leak + r c(tau_syn, tau_mem) (I_{t-1} + a w_in x_t)``
  with ``c`` the exact coupling ``tau_s (e^{-dt/tau_s} - e^{-dt/tau_m}) / (tau_s - tau_m)`` (Brian2's
  ``method='exact'``, as the engine). (A pulse held over the step cannot be represented: in the engine a new
  synaptic current reaches ``v`` from the next step on.)

``discretization="euler"`` (forward Euler, as Norse's ``LIFBoxCell``/``LIBoxCell`` and snnTorch's ``Synaptic``):

- LIF / LI: ``v_t = (1 - b) v_{t-1} + b (v_leak + r x_t)``;
- CubaLIF / CubaLI: ``I_t = (1 - a) I_{t-1} + a w_in x_t``, ``v_t = (1 - b) v_{t-1} + b (v_leak + r I_t)``.

IF (both readings): ``v_t = v_{t-1} + r x_t`` (NIR's ``dv/dt = R I`` read per step, as Norse's ``IAFCell`` and
Sinabs' ``IAF``, which write ``r = 1`` and add the input to ``v``). Threshold ``v_t > v_threshold`` in the same
step; reset to ``v_reset`` (NIR) or, with ``reset="subtract"``, ``v -= v_threshold - v_reset``.

Mapping of our parameters (``snn.model.neurons``) onto NIR fields. ``em = e^{-dt/tau_m}``,
``al = e^{-dt/tau_syn}`` are our per-step decays; ``c`` the engine's coupling of our ``(tau_syn, tau_m)``:

=================  ==========================================  ============================================
NIR field          exact                                        euler
=================  ==========================================  ============================================
LIF/LI ``tau``     ``tau_m``                                    ``dt / (1 - em)``  (so ``1 - b = em``)
LIF/LI ``r``       ``r``                                        ``r``
``v_leak``         ``v_rest + r * bias``                        ``v_rest + r * bias``
``v_threshold``    ``v_threshold``                              ``v_threshold``
``v_reset``        ``v_reset``                                  ``v_reset``
Cuba ``tau_mem``   ``tau_m``                                    ``dt / (1 - em)``
Cuba ``tau_syn``   ``tau_syn_exc`` (or ``_inh``)                ``dt / (1 - al)``
Cuba ``r``         ``r * al``                                   ``r * c / (1 - em)``
Cuba ``w_in``      ``tau_syn / (al * dt)``                      ``tau_syn_nir / dt`` (snnTorch's choice)
IF ``r``           ``r``                                        ``r``
Linear ``weight``  ``w`` (Cuba targets);                        same
                   ``w * em / (r (1 - em))`` (LIF/LI, delta);
                   ``w * c / (1 - em)`` (LIF/LI, instant);
                   ``w / r`` (IF, delta);
                   ``w tau_s (1 - al) / tau_m`` (IF, instant)
Delay ``delay``    ``d * dt`` (seconds)                         same
=================  ==========================================  ============================================

Our ``exc`` and ``inh`` targets both become the single CubaLIF synapse (allowed when ``tau_syn_exc ==
tau_syn_inh`` or only one is used); ``delta`` targets become LIF/LI/IF (no synapse); a population may not mix
them. An exc/inh synapse with no memory (``tau_syn < dt/46``, "instant") also becomes LIF/LI/IF: the importer
gives NIR LIF/LI/IF nodes such a synapse (``tau_syn = dt/100``) because the engine resets ``v`` after delivering
the step's spikes (Brian2's order), so an input delivered to ``v`` in a neuron's spike step would be lost, while
NIR readers (Norse) add it after the reset; through the current ``i`` it reaches ``v`` in the next step.
Weights are dense ``(post, pre)`` matrices, one Linear per projection and delay value (a Delay node
follows when the delay is > 0). Recurrent projections make cycles (``pop -> Linear -> pop``), as snnTorch's
``RSynaptic`` export. NIR has no refractory period, no per-neuron bias (folded into ``v_leak``, which is
exactly equivalent in the ODE), no initial state, no reset-by-subtraction and no plasticity: those of our
fields are stored verbatim in each node's ``metadata`` (keys ``snn_*``) so that our own importer restores the
description losslessly; other tools ignore them (the NIR sheet: "no backend may rely on" metadata). Graph
metadata holds ``dt`` (seconds), ``discretization`` and ``reset``.

Where the engine differs from the NIR step readings above: each neuron-to-neuron edge costs the engine one
step (delivery at the end of a step), where Norse/snnTorch pass spikes along feed-forward edges within the
same step and along back-edges of a cycle one step later. A neuron's spikes therefore appear in the engine
``depth`` steps after their NIR step (``depth`` = shortest number of neuron layers from an Input), which the
importer's runner undoes; for cycles through several populations the latencies differ (see
:mod:`hardware.nir_import`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from snn.errors import ConfigError
from snn.model.network import Network, Population, Projection, SpikeMonitor
from snn.model.neurons import IF, LI, LIF, NeuronModel

#: how one of our steps reads as one NIR step (see the module docstring)
DISCRETIZATIONS = ("exact", "euler")

#: our neuron models the export supports, by class (subclasses such as AdaptiveLIF are not)
EXPORTABLE = (LIF, IF, LI)


def check_discretization(value: object, path: str = "nir.discretization") -> str:
    if not isinstance(value, str) or value not in DISCRETIZATIONS:
        raise ConfigError(path, value, f"must be one of {list(DISCRETIZATIONS)}")
    return value


def coupling(tau_s: np.ndarray, tau_m: np.ndarray, dt: float) -> np.ndarray:
    """Exact contribution of an exponential current (time constant ``tau_s``, value 1 at the step's start) to
    ``v`` at the step's end for unit ``r``: ``tau_s (e^{-dt/tau_s} - e^{-dt/tau_m}) / (tau_s - tau_m)``, with the
    limit ``(dt/tau) e^{-dt/tau}`` at ``tau_s == tau_m`` (the engine's ``_exp_coupling``, algebraically)."""
    tau_s = np.asarray(tau_s, dtype=np.float64)
    tau_m = np.asarray(tau_m, dtype=np.float64)
    same = np.isclose(tau_s, tau_m, rtol=1e-9, atol=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = tau_s * (np.exp(-dt / tau_s) - np.exp(-dt / tau_m)) / (tau_s - tau_m)
    return np.where(same, (dt / tau_m) * np.exp(-dt / tau_m), c)


def nir_tau(tau: np.ndarray, dt: float, mode: str) -> np.ndarray:
    """Our time constant (exact decay ``e^{-dt/tau}`` per step) -> the NIR time constant under ``mode``."""
    tau = np.asarray(tau, dtype=np.float64)
    if mode == "exact":
        return tau
    return dt / -np.expm1(-dt / tau)  # forward Euler decays by 1 - dt/tau_nir = e^{-dt/tau}


def _array(value: Any, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()


def _meta_value(value: Any) -> Any:
    """Our parameter as stored in node metadata: floats stay scalars, arrays stay arrays."""
    if isinstance(value, np.ndarray):
        return np.array(value, dtype=np.float64)
    return float(value)


#: a synapse whose current decays by e^{-46} < 1e-20 per step has no memory: exported as a plain LIF/LI/IF input
INSTANT_DT_OVER_TAU = 46.0

#: the synaptic time constant (in units of dt) given to imported LIF/LI/IF nodes: their inputs then pass through
#: the current i (which a reset leaves alone) and reach v in the next step, as a NIR input does
IMPORT_TAU_SYN_DT = 0.01


def synapse_kind(pop: Population, incoming: list[Projection], dt: float) -> tuple[str, str]:
    """How inputs reach ``v``, and which synaptic time constant a Cuba node uses (``"exc"``/``"inh"``).

    ``"delta"``: inputs move ``v`` directly (NIR LIF/LI/IF); ``"instant"``: through a synapse of no memory
    (``tau_syn < dt/46``; also NIR LIF/LI/IF, see :data:`IMPORT_TAU_SYN_DT`); ``"cuba"``: through the
    exponential synapse (NIR CubaLIF/CubaLI).
    """
    targets = {p.target for p in incoming}
    path = f"populations.{pop.name}"
    if "delta" in targets and targets - {"delta"}:
        raise ConfigError(f"{path}.targets", sorted(targets),
                          "cannot mix delta and exc/inh inputs in NIR (a neuron node has one input path)")
    if not targets - {"delta"}:
        return "delta", "exc"
    synapse = "inh" if targets == {"inh"} else "exc"
    if targets == {"exc", "inh"} and not np.allclose(pop.model.tau_syn_exc, pop.model.tau_syn_inh,
                                                     rtol=1e-12, atol=0.0):
        raise ConfigError(f"{path}.model.tau_syn_inh", pop.model.tau_syn_inh,
                          "must equal tau_syn_exc when both targets are used (NIR CubaLIF has one synapse)")
    tau_s = np.asarray(pop.model.tau_syn_exc if synapse == "exc" else pop.model.tau_syn_inh, dtype=np.float64)
    if np.all(dt / tau_s >= INSTANT_DT_OVER_TAU):
        return "instant", synapse
    if isinstance(pop.model, IF):
        raise ConfigError(f"{path}.targets", sorted(targets),
                          "NIR has no current-based IF: an IF population takes delta inputs (or tau_syn < dt/46)")
    return "cuba", synapse


def neuron_node(model: NeuronModel, n: int, kind: str, dt: float, mode: str, synapse: str = "exc"
                ) -> tuple[Any, np.ndarray]:
    """The NIR node for a population of ``n`` neurons with ``model``, and ``in_scale`` (n,): our weight onto
    neuron ``i`` = NIR Linear weight * ``in_scale[i]``. ``kind``: ``"delta"``, ``"instant"`` or ``"cuba"`` (see
    :func:`synapse_kind`); ``synapse`` names the synaptic time constant used (``"exc"`` or ``"inh"``)."""
    import nir

    r = _array(model.r, n)
    tau_m = _array(model.tau_m, n)
    em = np.exp(-dt / tau_m)
    tau_s = _array(model.tau_syn_exc if synapse == "exc" else model.tau_syn_inh, n)
    if isinstance(model, IF):
        node = nir.IF(r=r, v_threshold=_array(model.v_threshold, n), v_reset=_array(model.v_reset, n))
        if kind == "instant":  # the engine's IF adds r tau_s (1 - e^{-dt/tau_s}) / tau_m * i in the next step
            return node, tau_m / (tau_s * -np.expm1(-dt / tau_s))
        return node, r
    v_leak = _array(model.v_rest, n) + r * _array(model.bias, n)
    spiking = isinstance(model, LIF)
    if kind in ("delta", "instant"):
        tau = nir_tau(tau_m, dt, mode)
        if kind == "delta":  # v jumps at the end of the step and decays once before the threshold sees it
            in_scale = r * -np.expm1(-dt / tau_m) / em
        else:  # through i: v gets r c i in the next step
            in_scale = -np.expm1(-dt / tau_m) / coupling(tau_s, tau_m, dt)
        if spiking:
            node = nir.LIF(tau=tau, r=r, v_leak=v_leak, v_threshold=_array(model.v_threshold, n),
                           v_reset=_array(model.v_reset, n))
        else:
            node = nir.LI(tau=tau, r=r, v_leak=v_leak)
        return node, in_scale
    al = np.exp(-dt / tau_s)
    if mode == "exact":
        tau_syn_n, tau_mem_n = tau_s, tau_m
        r_n = r * al
        w_in = tau_s / (al * dt)
    else:
        tau_syn_n, tau_mem_n = nir_tau(tau_s, dt, mode), nir_tau(tau_m, dt, mode)
        r_n = r * coupling(tau_s, tau_m, dt) / -np.expm1(-dt / tau_m)
        w_in = tau_syn_n / dt
    if spiking:
        node = nir.CubaLIF(tau_syn=tau_syn_n, tau_mem=tau_mem_n, r=r_n, v_leak=v_leak,
                           v_threshold=_array(model.v_threshold, n), v_reset=_array(model.v_reset, n), w_in=w_in)
    else:
        node = nir.CubaLI(tau_syn=tau_syn_n, tau_mem=tau_mem_n, r=r_n, v_leak=v_leak, w_in=w_in)
    return node, np.ones(n)


def model_metadata(pop: Population, kind: str, synapse: str) -> dict[str, Any]:
    """Our fields, verbatim, for a lossless round trip through our own importer (ignored by other tools)."""
    meta: dict[str, Any] = {"snn_model": pop.model.kind, "snn_reset": getattr(pop.model, "reset", "value"),
                            "snn_kind": kind, "snn_synapse": synapse}
    for name in pop.model.parameter_names():
        meta[f"snn_{name}"] = _meta_value(getattr(pop.model, name))
    for var, value in pop.initial.items():
        if isinstance(value, (float, np.ndarray)):
            meta[f"snn_initial_{var}"] = _meta_value(value)
        else:
            warnings.warn(f"populations.{pop.name}.initial.{var}: a distribution is not exported to NIR",
                          UserWarning, stacklevel=3)
    return meta


def _unique(name: str, taken: set[str]) -> str:
    base = name.replace("/", "_") or "node"
    out, k = base, 1
    while out in taken:
        out, k = f"{base}_{k}", k + 1
    taken.add(out)
    return out


def to_nir(net: Network, discretization: str = "exact") -> Any:
    """A :class:`nir.NIRGraph` for ``net`` (see the module docstring for the mapping and its limits).

    Nodes: one ``Input`` per input source (named after it), one neuron node per population (named after it),
    one ``Linear`` per projection and delay value (named after the projection, ``@d<steps>`` appended when a
    projection has several delays), a ``Delay`` after each delayed Linear, and one ``Output`` (``<pop>.out``)
    per population that has a SpikeMonitor or no outgoing projection. Raises :class:`ConfigError` for what NIR
    cannot express (neuron models other than LIF/IF/LI, short-term plasticity, mixed synapse kinds).
    """
    import nir

    if not isinstance(net, Network):
        raise ConfigError("network", net, "must be an snn.model.Network")
    mode = check_discretization(discretization)
    dt = net.dt
    bad = [f"{p.name} ({type(p.model).__name__})" for p in net.populations if type(p.model) not in EXPORTABLE]
    if bad:
        raise ConfigError("populations", ", ".join(bad), "NIR export supports LIF, IF and LI populations only")
    for proj in net.projections:
        if proj.stp is not None:
            raise ConfigError(f"projections.{proj.name}.stp", type(proj.stp).__name__,
                              "NIR has no short-term plasticity; remove it to export")
        if proj.plasticity is not None:
            warnings.warn(f"projections.{proj.name}: plasticity is not exported to NIR (initial weights written)",
                          UserWarning, stacklevel=2)
        if proj.read is not None:
            warnings.warn(f"projections.{proj.name}: the analog read model (read noise, ADC) is not exported to NIR "
                          "(the stored weights written)", UserWarning, stacklevel=2)
    if net.currents:
        warnings.warn("noise currents are not exported to NIR", UserWarning, stacklevel=2)
    taken: set[str] = set()
    # a network imported from NIR keeps its node names (hardware.nir_import stores them in metadata)
    original = net.metadata.get("nir_nodes", {}) if isinstance(net.metadata.get("nir_nodes"), dict) else {}
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    names: dict[str, str] = {}
    for src in net.inputs:
        if not hasattr(src, "times"):
            warnings.warn(f"inputs.{src.name}: {type(src).__name__} is exported as a plain NIR Input "
                          "(its spikes are not part of the graph)", UserWarning, stacklevel=2)
        names[src.name] = _unique(str(original.get(src.name, src.name)), taken)
        nodes[names[src.name]] = nir.Input(input_type={"input": np.array([src.size])})
    in_scale: dict[str, np.ndarray] = {}
    for pop in net.populations:
        incoming = [p for p in net.projections if p.post == pop.name]
        kind, synapse = synapse_kind(pop, incoming, dt)
        node, scale = neuron_node(pop.model, pop.size, kind, dt, mode, synapse)
        if np.any(scale == 0) and incoming:
            raise ConfigError(f"populations.{pop.name}.model.r", pop.model.r,
                              "must be nonzero to export (NIR scales a neuron's inputs by r)")
        if getattr(pop.model, "t_ref", 0.0) is not None and np.any(np.asarray(pop.model.t_ref) > 0):
            warnings.warn(f"populations.{pop.name}: NIR has no refractory period (t_ref kept in node metadata only)",
                          UserWarning, stacklevel=2)
        if isinstance(pop.model, IF) and np.any(np.asarray(pop.model.bias) != 0):
            warnings.warn(f"populations.{pop.name}: NIR IF has no bias (kept in node metadata only)",
                          UserWarning, stacklevel=2)
        node.metadata = model_metadata(pop, kind, synapse)
        names[pop.name] = _unique(str(original.get(pop.name, pop.name)), taken)
        nodes[names[pop.name]] = node
        in_scale[pop.name] = scale
    sizes = net.sizes()
    for proj in net.projections:
        conn = proj.connectivity
        pre_idx = conn.pre_indices()
        delays = np.broadcast_to(np.asarray(proj.delays, dtype=np.int64), (conn.nnz,))
        if conn.nnz and np.unique(pre_idx.astype(np.int64) * conn.n_post + conn.indices).size < conn.nnz:
            warnings.warn(f"projections.{proj.name}: duplicate synapses are summed in the dense NIR weight",
                          UserWarning, stacklevel=2)
        groups = np.unique(delays) if conn.nnz else np.array([0], dtype=np.int64)
        for d in groups:
            sel = delays == d
            w = np.zeros((sizes[proj.post], sizes[proj.pre]))
            np.add.at(w, (conn.indices[sel], pre_idx[sel]), np.asarray(proj.weights, dtype=np.float64)[sel])
            w /= in_scale[proj.post][:, None]
            label = proj.name if groups.size == 1 else f"{proj.name}@d{int(d)}"
            lin = _unique(label, taken)
            nodes[lin] = nir.Linear(weight=w)
            nodes[lin].metadata = {"snn_projection": proj.name, "snn_target": proj.target,
                                   "snn_delay_steps": int(d)}
            edges.append((names[proj.pre], lin))
            last = lin
            if d > 0:
                dly = _unique(f"{lin}.delay", taken)
                nodes[dly] = nir.Delay(delay=np.full(sizes[proj.post], float(d) * dt))
                edges.append((lin, dly))
                last = dly
            edges.append((last, names[proj.post]))
    monitored = {m.population for m in net.monitors if isinstance(m, SpikeMonitor)}
    outputs = net.metadata.get("nir_outputs")  # an imported graph's own Output nodes
    if not isinstance(outputs, dict) or not all(p in sizes for v in outputs.values() for p in v):
        outputs = {f"{p.name}.out": [p.name] for p in net.populations
                   if p.name in monitored or not any(q.pre == p.name for q in net.projections)}
    for label, pops in outputs.items():
        out = _unique(str(label), taken)
        nodes[out] = nir.Output(output_type={"output": np.array([sizes[pops[0]]])})
        edges.extend((names[p], out) for p in pops)
    resets = {getattr(p.model, "reset", "value") for p in net.populations}
    metadata = {"dt": dt, "discretization": mode, "reset": resets.pop() if len(resets) == 1 else "per-node",
                "producer": "snn", "snn_network": net.name, "snn_max_delay_steps": int(net.max_delay_steps)}
    if any(getattr(p.model, "reset", "value") == "subtract" for p in net.populations):
        warnings.warn("reset='subtract' is not part of NIR: tell the consumer (e.g. Norse's reset_method)",
                      UserWarning, stacklevel=2)
    # nir's type inference starts from Input nodes and fails on graphs without one: check types only with inputs
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=bool(net.inputs))


def write_nir(net: Network, path: str, discretization: str = "exact") -> None:
    """Export ``net`` and write it with :func:`nir.write` (HDF5) atomically (write a sibling, then rename)."""
    import nir

    from snn.io.atomic import commit, discard, temporary_path

    graph = to_nir(net, discretization)
    if not Path(path).parent.is_dir():  # else h5py fails on the temporary sibling with a traceback
        raise ConfigError("nir.path", str(path), "its directory does not exist")
    tmp = temporary_path(path)
    try:
        nir.write(str(tmp), graph)
        commit(tmp, path)
    except BaseException:
        discard(tmp)
        raise


__all__ = ["DISCRETIZATIONS", "check_discretization", "coupling", "neuron_node", "nir_tau", "to_nir", "write_nir"]
