"""Design-rule check: every rule a network breaks on a target, each as a named :class:`Violation`.

In the style of Rockpool's Xylo mapper (``rockpool/devices/xylo/*/xylo_mapper.py``: ``xylo_drc`` is a list of named
checks and ``mapper()`` raises ``DRCError``), except that :func:`check` runs *every* rule and returns all the
violations, and :class:`TargetViolation` lists them all at once. Nothing is clipped: a rule either holds, is fixed
by a legal transformation when ``fit=True`` (and the change is reported), or is reported.

Rules (name: what is compared; ``where`` names the population, projection or input):

- ``model``: the neuron kind is in ``target.models``;
- ``neurons_total``: neurons of all populations <= ``max_neurons_total``;
- ``cores``: cores needed <= ``n_cores``. Populations are packed in order into cores of ``neurons_per_core``
  (:func:`core_slices`; a population may share a core with the previous one, except with
  ``param_granularity = "core"``, where each population starts a core of its own). RRAM: tiles, see
  :func:`hardware.mapping.rram_tiles`;
- ``inputs``: input channels <= ``max_inputs``; ``input_targets``: neurons reached from inputs <= ``max_input_targets``;
- ``fan_in`` / ``fan_out``: synapses onto / from one neuron, all projections together, <= the limit (fan-out of
  population neurons; the fan-out of input channels is bounded by ``input_targets``);
- ``synapse_memory``: synapses onto the neurons of one core × ``weight_bits`` <= ``synapse_memory_bits``;
- ``delays``: largest delay <= ``max_delay_steps``; ``plasticity``: plastic projections need ``on_chip_learning``;
- ``reset``: ``reset="value"`` with ``v_reset == v_rest`` counts as ``zero``; the mode must be in ``target.resets``;
- ``refractory``: ``t_ref > 0`` needs ``target.refractory``; ``bias``: a nonzero bias needs ``bias_supported``;
- ``synapse_states``: distinct synaptic time constants in use per population <= ``n_synapse_states``;
- ``shared_parameters``: with ``param_granularity = "core"`` no parameter may vary across neurons;
- ``decay``: every time constant in use is representable: bitshift ``k = round(log2(tau/dt))`` in
  ``[1, 2**decay_bits - 1]`` (Rockpool's Xylo decay, ``alpha = 1 - 2**-k``); mult12
  ``d = round(4096 (1 - e^(-dt/tau))) >= 1`` (Lava's Loihi ``du``/``dv``); fixed ``1 - Q(e^(-dt/tau)) > 0`` in
  ``state_format`` (a leak that rounds to none);
- ``negative_weights``: a single-device (not differential) RRAM column holds only ``w >= 0``;
- ``weight_range`` / ``accumulator_range`` (FPGA): ``max |w|``, the voltages ``|θ - v_rest|``, ``|v_reset - v_rest|``,
  ``|bias|`` and the worst-case synaptic sum of a step (``max over neurons Σ |w|``, every input spiking) fit the
  weight, state and accumulator formats in mV units. ``fit=True`` picks a power-of-two scale ``2**e`` per
  population (a legal, exact rescaling of the linear LIF/IF/LI dynamics) and reports it;
- ``duplicate_synapses`` (RRAM): two synapses of one projection on one (pre, post) pair would need one cell;
- ``threshold_range`` (integer chips): with weights on the full integer range (step ``s = max|w| / w_max``),
  ``|θ - v_rest| / s`` must fit ``threshold_bits`` (Loihi: ``state_bits`` and ``weight_exp_bits`` widen it).
  ``fit=True`` coarsens the weight step to ``s = |θ - v_rest| / θ_max`` where weights still keep >= 1 level;
- ``dsp_budget`` / ``bram_budget`` / ``lut_budget`` (FPGA): :func:`hardware.estimate.fpga_resources` within budget;
  ``fit=True`` raises the reuse factor (hls4ml's ``ReuseFactor``) until DSPs fit, and reports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hardware.targets import FPGAFixed, NeuromorphicChip, RRAMCrossbar, TargetProfile
from snn.errors import ConfigError
from snn.model.network import Network, Population

#: parameters that count for ``shared_parameters``
SHARED = ("tau_m", "v_rest", "v_threshold", "v_reset", "t_ref", "tau_syn_exc", "tau_syn_inh", "r", "bias",
          "tau_adapt", "adapt_jump")


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``rule`` name, ``where`` (population / projection / input), ``value`` and ``limit``."""

    rule: str
    where: str
    value: Any
    limit: Any
    detail: str = ""

    def __str__(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.rule} at {self.where}: {self.value} (limit {self.limit}){extra}"


class TargetViolation(ValueError):
    """A network does not fit a target; ``violations`` holds every broken rule. The message is one line."""

    def __init__(self, violations: list[Violation] | tuple[Violation, ...], target: str = "") -> None:
        self.violations = tuple(violations)
        self.target = target
        listed = "; ".join(str(v).replace("\n", " ") for v in self.violations)
        super().__init__(f"{len(self.violations)} rule(s) broken on target {target!r}: {listed}")


@dataclass(frozen=True)
class CheckReport:
    """Result of :func:`check`: the violations left, the changes ``fit`` made, and the chosen scales.

    ``scales[pop]``: mV per hardware unit of population ``pop`` (weights into it, its state and threshold), where
    the check fixed one (FPGA power-of-two scales, chip threshold-driven steps). ``reuse_factor``: the FPGA reuse
    factor to use. ``ok`` is True when nothing is left.
    """

    target: str
    violations: tuple[Violation, ...]
    changes: tuple[str, ...] = ()
    scales: dict[str, float] = field(default_factory=dict)
    reuse_factor: int = 0

    @property
    def ok(self) -> bool:
        return not self.violations

    def rules(self) -> set[str]:
        return {v.rule for v in self.violations}

    def raise_if_any(self) -> None:
        if self.violations:
            raise TargetViolation(self.violations, self.target)


@dataclass(frozen=True)
class CoreSlice:
    """Neurons ``[start, stop)`` of ``population`` on core (or processing element) ``core``."""

    core: int
    population: str
    start: int
    stop: int


def core_slices(net: Network, t: TargetProfile) -> list[CoreSlice]:
    """Pack populations, in order, into cores of ``t.neurons_per_core`` neurons (0: one core holds everything).

    A population continues on the core the previous one left partly free, unless parameters are shared per core
    (``param_granularity = "core"``), where every population starts a fresh core.
    """
    npc = t.neurons_per_core
    out: list[CoreSlice] = []
    core, free = 0, npc
    for pop in net.populations:
        if not npc:
            out.append(CoreSlice(0, pop.name, 0, pop.size))
            continue
        if t.param_granularity == "core" and free < npc:
            core, free = core + 1, npc
        start = 0
        while start < pop.size:
            take = min(free, pop.size - start)
            out.append(CoreSlice(core, pop.name, start, start + take))
            start += take
            free -= take
            if free == 0:
                core, free = core + 1, npc
    return out


# --- helpers on networks ----------------------------------------------------------------------------------


def rest_potential(pop: Population) -> np.ndarray | float:
    """The potential that hardware stores as 0: ``v_rest`` (LIF, LI, AdaptiveLIF), ``v_reset`` (IF), ``c``
    (Izhikevich)."""
    m = pop.model
    if hasattr(m, "v_rest"):
        return m.v_rest
    return m.v_reset if hasattr(m, "v_reset") else getattr(m, "c", 0.0)


def voltage_span(pop: Population) -> float:
    """Largest |voltage| a population's hardware state must hold besides the weights: threshold, reset and bias
    relative to :func:`rest_potential` (mV)."""
    m = pop.model
    rest = np.asarray(rest_potential(pop), dtype=np.float64)
    spans = [0.0]
    for name in ("v_threshold", "v_reset"):
        if hasattr(m, name):
            spans.append(float(np.max(np.abs(np.asarray(getattr(m, name)) - rest))))
    if hasattr(m, "bias"):
        spans.append(float(np.max(np.abs(np.asarray(m.bias)))))
    return max(spans)


def max_abs_weight_into(net: Network, pop: str) -> float:
    w = [float(np.max(np.abs(p.weights))) for p in net.projections if p.post == pop and p.weights.size]
    return max(w) if w else 0.0


def synapse_kinds(net: Network, pop: Population) -> list[str]:
    """Synaptic currents a population uses: ``"syn"`` when exc and inh share one time constant (they then add into
    one current), else ``"exc"`` / ``"inh"`` separately; ``"delta"`` for Dirac synapses."""
    targets = {p.target for p in net.projections if p.post == pop.name}
    m = pop.model
    same = (hasattr(m, "tau_syn_exc") and np.array_equal(np.asarray(m.tau_syn_exc), np.asarray(m.tau_syn_inh)))
    out = []
    if "exc" in targets or "inh" in targets:
        if same or not ({"exc", "inh"} <= targets):
            out.append("syn" if same else ("exc" if "exc" in targets else "inh"))
        else:
            out += ["exc", "inh"]
    if "delta" in targets:
        out.append("delta")
    return out


def time_constants(net: Network, pop: Population) -> dict[str, np.ndarray]:
    """Time constants in use (seconds): the membrane's (leaky models) and those of the synaptic currents used."""
    m = pop.model
    out = {}
    if m.kind in ("lif", "adaptive_lif", "li", "conductance_lif"):
        out["tau_m"] = np.atleast_1d(np.asarray(m.tau_m, dtype=np.float64))
    kinds = synapse_kinds(net, pop)
    if "exc" in kinds or "syn" in kinds:
        out["tau_syn_exc"] = np.atleast_1d(np.asarray(m.tau_syn_exc, dtype=np.float64))
    if "inh" in kinds:
        out["tau_syn_inh"] = np.atleast_1d(np.asarray(m.tau_syn_inh, dtype=np.float64))
    return out


def fan_in(net: Network, pop: Population) -> np.ndarray:
    deg = np.zeros(pop.size, dtype=np.int64)
    for p in net.projections:
        if p.post == pop.name:
            deg += p.connectivity.in_degree()
    return deg


def fan_out(net: Network, name: str, size: int) -> np.ndarray:
    deg = np.zeros(size, dtype=np.int64)
    for p in net.projections:
        if p.pre == name:
            deg += p.connectivity.out_degree()
    return deg


def reset_mode(pop: Population) -> str:
    m = pop.model
    mode = getattr(m, "reset", "value")
    rest = np.asarray(rest_potential(pop))
    if mode == "value" and hasattr(m, "v_reset") and np.array_equal(np.asarray(m.v_reset), rest):
        return "zero"
    return mode


def decay_ok(target: TargetProfile, tau: np.ndarray, dt: float) -> tuple[bool, float, str]:
    """Whether every ``tau`` is representable under ``target.decay``; the worst value and the limit as text."""
    if target.decay == "bitshift":
        k = np.rint(np.log2(tau / dt))
        kmax = 2**target.decay_bits - 1
        worst = float(k.max() if k.max() > kmax else k.min())
        return bool(np.all((k >= 1) & (k <= kmax))), worst, f"k = round(log2(tau/dt)) in [1, {kmax}]"
    if target.decay == "mult12":
        d = np.rint(4096.0 * -np.expm1(-dt / tau))
        return bool(np.all(d >= 1)), float(d.min()), "d = round(4096 (1 - exp(-dt/tau))) >= 1"
    if target.decay == "fixed" and isinstance(target, FPGAFixed):
        a = target.state_format.quantize(np.exp(-dt / tau))
        leak = 1.0 - a
        limit = f"1 - Q(exp(-dt/tau)) > 0 in {target.state_format}"
        return bool(np.all((leak > 0) & (a >= 0))), float(leak.min()), limit
    return True, 0.0, ""


# --- the check ----------------------------------------------------------------------------------------------


def check(network: Network, target: TargetProfile, fit: bool = False) -> CheckReport:
    """Run every rule of ``target`` on ``network`` (see the module docstring); never raises for broken rules.

    ``fit=True`` applies the legal fixes (scales, reuse factor), records them in ``changes`` and leaves only what
    cannot be fixed in ``violations``. Raises :class:`ConfigError` for arguments of the wrong type.
    """
    if not isinstance(network, Network):
        raise ConfigError("hardware.check.network", network, "must be an snn.model.Network")
    if not isinstance(target, TargetProfile):
        raise ConfigError("hardware.check.target", target, "must be a TargetProfile (see hardware.load_target)")
    if not isinstance(fit, (bool, np.bool_)):  # a string such as "no" would otherwise read as True
        raise ConfigError("hardware.check.fit", fit, "must be true or false")
    v: list[Violation] = []
    changes: list[str] = []
    scales: dict[str, float] = {}
    t = target
    pops = list(network.populations)
    dt = network.dt

    for pop in pops:
        if pop.model.kind not in t.models:
            v.append(Violation("model", pop.name, pop.model.kind, list(t.models), "neuron kind not supported"))
    total = sum(p.size for p in pops)
    if t.max_neurons_total and total > t.max_neurons_total:
        v.append(Violation("neurons_total", "network", total, t.max_neurons_total))
    slices = core_slices(network, t)
    if not isinstance(t, RRAMCrossbar) and t.neurons_per_core:
        cores = len({c.core for c in slices})
        if cores > t.n_cores:
            v.append(Violation("cores", "network", cores, t.n_cores, f"{t.neurons_per_core} neurons per core"))
    if isinstance(t, RRAMCrossbar):
        from hardware.mapping import rram_tiles

        tiles = rram_tiles(network, t)
        if len(tiles) > t.n_cores:
            v.append(Violation("cores", "network", len(tiles), t.n_cores, f"tiles of {t.tile_rows}x{t.tile_cols}"))
        for p in network.projections:
            cells = p.connectivity.pre_indices().astype(np.int64) * p.connectivity.n_post + p.connectivity.indices
            dup = cells.size - np.unique(cells).size
            if dup:
                v.append(Violation("duplicate_synapses", p.name, dup, 0, "synapses sharing a (pre, post) cell"))
        if not t.differential:
            for p in network.projections:
                if p.weights.size and p.weights.min() < 0:
                    v.append(Violation("negative_weights", p.name, float(p.weights.min()), 0.0,
                                       "single-device columns hold w >= 0 only"))
    n_in = sum(s.size for s in network.inputs)
    if t.max_inputs and n_in > t.max_inputs:
        v.append(Violation("inputs", "network", n_in, t.max_inputs, "input channels"))
    input_names = {s.name for s in network.inputs}
    if t.max_input_targets:
        for pop in pops:
            reached = np.zeros(pop.size, dtype=bool)
            for p in network.projections:
                if p.post == pop.name and p.pre in input_names:
                    reached[p.connectivity.indices] = True
            if reached.sum() > t.max_input_targets:
                v.append(Violation("input_targets", pop.name, int(reached.sum()), t.max_input_targets,
                                   "neurons receiving input synapses"))
    for pop in pops:
        fi = fan_in(network, pop)
        if t.max_fan_in and fi.size and fi.max() > t.max_fan_in:
            v.append(Violation("fan_in", pop.name, int(fi.max()), t.max_fan_in,
                               f"{int((fi > t.max_fan_in).sum())} neurons over the limit"))
        fo = fan_out(network, pop.name, pop.size)
        if t.max_fan_out and fo.size and fo.max() > t.max_fan_out:
            v.append(Violation("fan_out", pop.name, int(fo.max()), t.max_fan_out,
                               f"{int((fo > t.max_fan_out).sum())} neurons over the limit"))
        mode = reset_mode(pop)
        if pop.model.spiking and mode not in t.resets and not (mode == "zero" and "value" in t.resets):
            v.append(Violation("reset", pop.name, mode, list(t.resets)))
        if not t.refractory and hasattr(pop.model, "t_ref") and np.any(np.asarray(pop.model.t_ref) > 0):
            v.append(Violation("refractory", pop.name, float(np.max(pop.model.t_ref)), 0.0,
                               "t_ref > 0 but the target has no refractory period"))
        if not t.bias_supported and hasattr(pop.model, "bias") and np.any(np.asarray(pop.model.bias) != 0):
            v.append(Violation("bias", pop.name, float(np.max(np.abs(pop.model.bias))), 0.0,
                               "nonzero bias but the target has none"))
        kinds = [k for k in synapse_kinds(network, pop) if k != "delta"]
        if t.n_synapse_states and len(kinds) > t.n_synapse_states:
            v.append(Violation("synapse_states", pop.name, len(kinds), t.n_synapse_states,
                               "exc and inh synapses with different time constants"))
        if t.param_granularity == "core":
            varying = [n for n in SHARED if hasattr(pop.model, n) and np.ndim(getattr(pop.model, n)) > 0
                       and np.ptp(np.asarray(getattr(pop.model, n))) > 0]
            if varying:
                v.append(Violation("shared_parameters", pop.name, varying, "one value per core",
                                   "parameters vary across neurons"))
        for name, tau in time_constants(network, pop).items():
            good, worst, limit = decay_ok(t, tau, dt)
            if not good:
                v.append(Violation("decay", f"{pop.name}.{name}", worst, limit))
    if t.synapse_memory_bits and t.weight_bits and not isinstance(t, RRAMCrossbar):
        fan = {pop.name: fan_in(network, pop) for pop in pops}
        bits: dict[int, int] = {}
        for c in slices:
            bits[c.core] = bits.get(c.core, 0) + int(fan[c.population][c.start:c.stop].sum()) * t.weight_bits
        worst = max(bits, key=bits.get) if bits else 0
        if bits and bits[worst] > t.synapse_memory_bits:
            v.append(Violation("synapse_memory", f"core {worst}", bits[worst], t.synapse_memory_bits,
                               "bits of weights onto one core"))
    for p in network.projections:
        if p.max_delay > t.max_delay_steps:
            v.append(Violation("delays", p.name, p.max_delay, t.max_delay_steps, "steps"))
        if p.plasticity is not None and not t.on_chip_learning:
            v.append(Violation("plasticity", p.name, type(p.plasticity).__name__, "none",
                               "the target has no on-chip learning"))

    if isinstance(t, FPGAFixed):
        _check_fpga_ranges(network, t, fit, v, changes, scales)
    elif isinstance(t, NeuromorphicChip) and t.weight_bits:
        _check_chip_ranges(network, t, fit, v, changes, scales)
    rf = 0
    if isinstance(t, FPGAFixed):
        rf = _check_fpga_budget(network, t, fit, v, changes)
    return CheckReport(t.name, tuple(v), tuple(changes), scales, rf)


def worst_input_sum(net: Network, pop: Population) -> float:
    """Largest ``Σ |w|`` over the synapses onto one neuron (mV): the synaptic sum of a step in which every
    presynaptic unit spikes once, the accumulator's worst case."""
    acc = np.zeros(pop.size)
    for p in net.projections:
        if p.post == pop.name:
            acc += np.bincount(p.connectivity.indices, weights=np.abs(p.weights), minlength=pop.size)
    return float(acc.max()) if acc.size else 0.0


def _check_fpga_ranges(net: Network, t: FPGAFixed, fit: bool, v: list[Violation], changes: list[str],
                       scales: dict[str, float]) -> None:
    wmax, smax, amax = t.weight_format.max, t.state_format.max, t.accum_format.max
    for pop in net.populations:
        w = max_abs_weight_into(net, pop.name)
        span = voltage_span(pop)
        acc = worst_input_sum(net, pop)
        need = max(w / wmax if wmax > 0 else math.inf, span / smax if smax > 0 else math.inf,
                   acc / amax if amax > 0 else math.inf)
        if need <= 1.0:
            scales[pop.name] = 1.0
            continue
        e = math.ceil(math.log2(need))
        if fit:
            scales[pop.name] = 2.0**e
            changes.append(f"{pop.name}: weights, state and threshold stored as mV / 2^{e} (power-of-two rescale; "
                           f"max |w| = {w:g} mV, voltage span = {span:g} mV)")
        else:
            scales[pop.name] = 1.0
            if w > wmax:
                v.append(Violation("weight_range", pop.name, w, wmax, f"mV into {t.weight_format}; fit rescales"))
            if span > smax:
                v.append(Violation("weight_range", f"{pop.name}.state", span, smax,
                                   f"mV threshold/reset/bias in {t.state_format}; fit rescales"))
            if acc > amax:
                v.append(Violation("accumulator_range", pop.name, acc, amax,
                                   f"worst-case synaptic sum of one step (mV) in {t.accum_format}; fit rescales"))


def _chip_limits(t: TargetProfile) -> tuple[int, int]:
    """Largest weight code and threshold code. DYNAP-SE2 (``param_granularity = "core"``): the weight bits are a
    magnitude (binary-weighted shared base currents), the sign is the synapse type, so codes reach 2**bits - 1."""
    wmax = 2 ** (t.weight_bits - 1) - 1 if t.weight_bits > 1 else 1
    if t.param_granularity == "core":
        wmax = 2**t.weight_bits - 1
    tmax = 2 ** (t.threshold_bits - 1) - 1 if t.threshold_bits else 0
    return wmax, tmax


def _check_chip_ranges(net: Network, t: NeuromorphicChip, fit: bool, v: list[Violation], changes: list[str],
                       scales: dict[str, float]) -> None:
    wmax, tmax = _chip_limits(t)
    if not t.threshold_bits:  # analog threshold (DYNAP-SE2): only the weights are on an integer grid
        for pop in net.populations:
            w = max_abs_weight_into(net, pop.name)
            scales[pop.name] = w / wmax if w > 0 else 1.0
        return
    exp_gain = 2 ** (2**t.weight_exp_bits - 1) if t.weight_exp_bits else 1
    for pop in net.populations:
        w = max_abs_weight_into(net, pop.name)
        span = voltage_span(pop)
        if w == 0.0:
            scales[pop.name] = span / tmax if span > 0 else 1.0
            continue
        step = w / wmax
        ratio = span / step
        if ratio <= tmax * exp_gain:
            scales[pop.name] = step
            continue
        coarse = span / tmax
        levels = w / coarse
        if fit and levels >= 1.0:
            scales[pop.name] = coarse
            changes.append(f"{pop.name}: weight step coarsened to {coarse:g} mV so the threshold fits "
                           f"{t.threshold_bits} bits; max |w| uses {levels:.1f} of {wmax} levels")
        else:
            scales[pop.name] = step
            v.append(Violation("threshold_range", pop.name, round(ratio, 3), tmax * exp_gain,
                               "threshold in weight steps" + (" (fit: weights would round to 0)" if fit else "")))


def _check_fpga_budget(net: Network, t: FPGAFixed, fit: bool, v: list[Violation], changes: list[str]) -> int:
    from hardware.estimate import fpga_resources

    rf = t.reuse_factor
    res = fpga_resources(net, t, rf)
    if fit and t.dsp and res["dsp"] > t.dsp:
        while res["dsp"] > t.dsp and rf < 1 << 20:
            rf *= 2
            res = fpga_resources(net, t, rf)
        changes.append(f"reuse factor raised from {t.reuse_factor} to {rf} so DSPs fit ({res['dsp']} <= {t.dsp})")
    for key, budget in (("dsp", t.dsp), ("bram_36k", t.bram_36k), ("lut", t.lut)):
        if budget and res[key] > budget:
            v.append(Violation(f"{key.split('_')[0]}_budget", "network", res[key], budget, f"reuse factor {rf}"))
    return rf


def require_fit(network: Network, target: TargetProfile, fit: bool = True) -> CheckReport:
    """:func:`check`, raising :class:`TargetViolation` with every remaining violation."""
    report = check(network, target, fit=fit)
    report.raise_if_any()
    return report
