"""Synaptic plasticity rules: frozen descriptions attached to a :class:`~snn.model.Projection`. No dynamics here.

Units: time constants in **seconds**; amplitudes in the projection's weight unit (mV for current synapses,
multiples of the leak conductance for :class:`~snn.model.ConductanceLIF` targets).

Timing convention (Brian2's default ``Synapses(on_pre=..., on_post=...)`` with a ``delay`` on the ``pre``
pathway only): synaptic delays are **axonal** for learning. A presynaptic spike reaches the synapse, and the
rule, when it is delivered (emission + delay); a postsynaptic spike reaches the synapse in the step it is
emitted. In one step the ``pre`` updates of a projection run before its ``post`` updates, so a pre spike
arriving in the step of a post spike counts as pre-before-post.

All rules keep their traces per presynaptic neuron (and delay, where delays differ per synapse) and per
postsynaptic neuron, update them only at spikes and decay them lazily from the last update: the engine never
loops over synapses at every step.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from snn.errors import ConfigError

PAIRINGS = ("all", "nearest")
BOUNDS = ("additive", "multiplicative")
Pairing = Literal["all", "nearest"]
Bounds = Literal["additive", "multiplicative"]


def _p(default: float, unit: str, constraint: str) -> Any:
    return field(default=default, metadata={"unit": unit, "constraint": constraint})


def _check_number(value: object, key: str, unit: str, constraint: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise ConfigError(key, value, f"must be a number ({unit})")
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(key, value, f"must be a number ({unit})") from None
    if math.isnan(x) or (constraint != "positive_or_inf" and math.isinf(x)):
        raise ConfigError(key, value, f"must be finite ({unit})")
    if constraint in ("positive", "positive_or_inf") and x <= 0:
        raise ConfigError(key, value, f"must be > 0 ({unit})")
    if constraint == "nonnegative" and x < 0:
        raise ConfigError(key, value, f"must be >= 0 ({unit})")
    if constraint == "fraction" and not 0 < x <= 1:
        raise ConfigError(key, value, f"must be in (0, 1] ({unit})")
    return x


@dataclass(frozen=True)
class _Rule:
    """Shared validation: every field with a ``unit`` is a checked float; ``kind`` names the rule in configs."""

    kind: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if "unit" in f.metadata:
                value = _check_number(getattr(self, f.name), f"plasticity.{self.kind}.{f.name}", f.metadata["unit"],
                                      f.metadata["constraint"])
                object.__setattr__(self, f.name, value)
        self._check_relations()

    def _check_relations(self) -> None:
        """Constraints between fields (overridden where needed)."""

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.kind, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}

    def check_weights(self, weights: Any, path: str) -> None:
        """Initial weights must lie in the rule's [w_min, w_max] (the rule clips to that range)."""
        w_min, w_max = getattr(self, "w_min", None), getattr(self, "w_max", None)
        if w_min is None or getattr(weights, "size", 1) == 0:
            return
        # compare in the weights' own dtype: float32 weights of 0.1 are 0.10000000149, and so is float32 w_max
        dtype = weights.dtype.type
        lo, hi = weights.min(), weights.max()
        if lo < dtype(w_min) or hi > dtype(w_max):
            raise ConfigError(f"{path}.weights", f"min {float(lo):g}, max {float(hi):g}",
                              f"must lie in [w_min, w_max] = [{w_min:g}, {w_max:g}] of the plasticity rule")


def _check_choice(value: object, key: str, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ConfigError(key, value, f"must be one of {list(options)}")


@dataclass(frozen=True)
class STDP(_Rule):
    """Pair-based STDP with exponential traces (Song, Miller & Abbott 2000; Brian2's STDP example).

    Traces: ``x_pre`` (time constant ``tau_pre``) jumps at every presynaptic arrival, ``x_post``
    (``tau_post``) at every postsynaptic spike: by 1 (``pairing="all"``, all-to-all interaction) or to 1
    (``"nearest"``, nearest-spike interaction). Then

    - presynaptic arrival: ``w -= a_minus * x_post * f_minus(w)`` (depression, post-before-pre);
    - postsynaptic spike: ``w += a_plus * x_pre * f_plus(w)`` (potentiation, pre-before-post);

    with ``f = 1`` for ``bounds="additive"`` and ``f_plus = w_max - w``, ``f_minus = w - w_min`` for
    ``"multiplicative"`` (soft bounds), and ``w`` clipped to ``[w_min, w_max]`` after every update.
    The window is ``a_plus·exp(-Δt/tau_pre)`` for Δt = t_post - t_pre > 0, ``-a_minus·exp(Δt/tau_post)`` below,
    where t_pre is the spike's *arrival* at the synapse (emission + delay; a SpikeMonitor records emissions).
    """

    kind: ClassVar[str] = "stdp"

    tau_pre: float = _p(20e-3, "s", "positive")
    tau_post: float = _p(20e-3, "s", "positive")
    a_plus: float = _p(0.01, "weight units", "nonnegative")
    a_minus: float = _p(0.0105, "weight units", "nonnegative")
    w_min: float = _p(0.0, "weight units", "finite")
    w_max: float = _p(1.0, "weight units", "finite")
    pairing: Pairing = "all"
    bounds: Bounds = "additive"

    def _check_relations(self) -> None:
        _check_choice(self.pairing, "plasticity.stdp.pairing", PAIRINGS)
        _check_choice(self.bounds, "plasticity.stdp.bounds", BOUNDS)
        if self.w_min > self.w_max:
            raise ConfigError("plasticity.stdp.w_max", self.w_max, f"must be >= w_min = {self.w_min:g}")


@dataclass(frozen=True)
class TripletSTDP(_Rule):
    """Triplet STDP (Pfister & Gerstner 2006, J. Neurosci. 26:9673), additive, weights clipped to [w_min, w_max].

    Presynaptic traces ``r1`` (``tau_plus``) and ``r2`` (``tau_x``), postsynaptic ``o1`` (``tau_minus``) and
    ``o2`` (``tau_y``), each jumping by 1 (``pairing="all"``) or to 1 (``"nearest"``) at its neuron's spikes:

    - presynaptic arrival: ``w -= o1 * (a2_minus + a3_minus * r2)``, with ``r2`` taken just before this spike;
    - postsynaptic spike: ``w += r1 * (a2_plus + a3_plus * o2)``, with ``o2`` taken just before this spike.

    The published parameter sets (their Table 4, full models) are the class methods :meth:`visual_cortex`
    and :meth:`hippocampal`.
    """

    kind: ClassVar[str] = "triplet"

    tau_plus: float = _p(16.8e-3, "s", "positive")
    tau_minus: float = _p(33.7e-3, "s", "positive")
    tau_x: float = _p(101e-3, "s", "positive")
    tau_y: float = _p(125e-3, "s", "positive")
    a2_plus: float = _p(5e-10, "weight units", "nonnegative")
    a3_plus: float = _p(6.2e-3, "weight units", "nonnegative")
    a2_minus: float = _p(7e-3, "weight units", "nonnegative")
    a3_minus: float = _p(2.3e-4, "weight units", "nonnegative")
    w_min: float = _p(0.0, "weight units", "finite")
    w_max: float = _p(1.0, "weight units", "finite")
    pairing: Pairing = "all"

    def _check_relations(self) -> None:
        _check_choice(self.pairing, "plasticity.triplet.pairing", PAIRINGS)
        if self.w_min > self.w_max:
            raise ConfigError("plasticity.triplet.w_max", self.w_max, f"must be >= w_min = {self.w_min:g}")

    #: Pfister & Gerstner (2006), Table 4, full models: (a2_plus, a3_plus, a2_minus, a3_minus, tau_x, tau_y);
    #: tau_plus = 16.8 ms and tau_minus = 33.7 ms throughout (fitted to Sjöström et al. 2001 for the visual
    #: cortex, to Wang et al. 2005 for hippocampal cultures)
    PUBLISHED: ClassVar[dict[tuple[str, str], tuple[float, float, float, float, float, float]]] = {
        ("visual_cortex", "all"): (5e-10, 6.2e-3, 7e-3, 2.3e-4, 101e-3, 125e-3),
        ("visual_cortex", "nearest"): (8.8e-11, 5.3e-2, 6.6e-3, 3.1e-3, 714e-3, 40e-3),
        ("hippocampal", "all"): (6.1e-3, 6.7e-3, 1.6e-3, 1.4e-3, 946e-3, 27e-3),
        ("hippocampal", "nearest"): (4.6e-3, 9.1e-3, 3e-3, 7.5e-9, 575e-3, 47e-3),
    }

    @classmethod
    def published(cls, preparation: str, pairing: Pairing = "all", w_min: float = 0.0, w_max: float = 1.0
                  ) -> TripletSTDP:
        """The full model of Pfister & Gerstner's Table 4 for ``preparation`` ("visual_cortex" or "hippocampal")."""
        key = (preparation, pairing)
        if key not in cls.PUBLISHED:
            raise ConfigError("plasticity.triplet.preset", f"{preparation}/{pairing}",
                              f"must be one of {sorted('/'.join(k) for k in cls.PUBLISHED)}")
        a2p, a3p, a2m, a3m, tx, ty = cls.PUBLISHED[key]
        return cls(tau_plus=16.8e-3, tau_minus=33.7e-3, tau_x=tx, tau_y=ty, a2_plus=a2p, a3_plus=a3p, a2_minus=a2m,
                   a3_minus=a3m, w_min=w_min, w_max=w_max, pairing=pairing)

    @classmethod
    def visual_cortex(cls, pairing: Pairing = "all", w_min: float = 0.0, w_max: float = 1.0) -> TripletSTDP:
        """Visual cortex (Sjöström et al. 2001 data), Pfister & Gerstner Table 4, full model."""
        return cls.published("visual_cortex", pairing, w_min, w_max)

    @classmethod
    def hippocampal(cls, pairing: Pairing = "all", w_min: float = 0.0, w_max: float = 1.0) -> TripletSTDP:
        """Hippocampal cultures (Wang et al. 2005 data), Pfister & Gerstner Table 4, full model."""
        return cls.published("hippocampal", pairing, w_min, w_max)


@dataclass(frozen=True)
class TsodyksMarkram(_Rule):
    """Short-term plasticity (Tsodyks, Pawelzik & Markram 1998), event-driven as in Brian2's STP example.

    Per presynaptic neuron: utilisation ``u`` (relaxes to 0 with ``tau_facil``) and available resources ``x``
    (relax to 1 with ``tau_rec``). At each arrival: ``u += U (1 - u)``; ``r = u x``; ``x -= r``; the target
    receives ``w · r`` instead of ``w``. Initially ``u = 0``, ``x = 1`` (the first spike releases ``U``).
    ``tau_facil = 0`` means no facilitation (``u = U`` at every spike): pure depression.
    """

    kind: ClassVar[str] = "tsodyks_markram"

    U: float = _p(0.5, "fraction", "fraction")
    tau_rec: float = _p(100e-3, "s", "positive")
    tau_facil: float = _p(0.0, "s", "nonnegative")


PlasticityRule = STDP | TripletSTDP
RULES: dict[str, type[_Rule]] = {r.kind: r for r in (STDP, TripletSTDP)}


def rule_from_dict(spec: dict[str, Any], path: str) -> PlasticityRule:
    """``{rule = "stdp" | "triplet", ...}`` or ``{rule = "triplet", preset = "visual_cortex", pairing = ...}``."""
    spec = dict(spec)
    kind = spec.pop("rule", None)
    if kind not in RULES:
        raise ConfigError(f"{path}.rule", kind, f"must be one of {sorted(RULES)}")
    cls = RULES[kind]
    preset = spec.pop("preset", None)
    allowed = {f.name for f in dataclasses.fields(cls)}
    for key in spec:
        if key not in allowed:
            raise ConfigError(f"{path}.{key}", spec[key], f"unknown parameter of {kind}; known: {sorted(allowed)}")
    try:
        if preset is not None:
            if cls is not TripletSTDP:
                raise ConfigError(f"{path}.preset", preset, "presets exist for rule = 'triplet' only")
            extra = {k: spec[k] for k in ("pairing", "w_min", "w_max") if k in spec}
            other = set(spec) - set(extra)
            if other:
                raise ConfigError(f"{path}.{sorted(other)[0]}", spec[sorted(other)[0]],
                                  "cannot be combined with a preset (only pairing, w_min, w_max)")
            return TripletSTDP.published(str(preset), **extra)
        return cls(**spec)  # type: ignore[return-value]
    except ConfigError as err:
        raise ConfigError(f"{path}.{err.path.rsplit('.', 1)[-1]}", err.value, err.constraint) from None


def stp_from_dict(spec: dict[str, Any], path: str) -> TsodyksMarkram:
    """``{U = 0.5, tau_rec = 0.8, tau_facil = 0.0}``; ``rule = "tsodyks_markram"`` (``as_dict``'s key) is allowed."""
    spec = dict(spec)
    if spec.get("rule", TsodyksMarkram.kind) != TsodyksMarkram.kind:
        raise ConfigError(f"{path}.rule", spec["rule"], f"must be {TsodyksMarkram.kind!r} (the only STP model)")
    spec.pop("rule", None)
    allowed = {f.name for f in dataclasses.fields(TsodyksMarkram)}
    for key in spec:
        if key not in allowed:
            raise ConfigError(f"{path}.{key}", spec[key],
                              f"unknown parameter of tsodyks_markram; known: {sorted(allowed)}")
    try:
        return TsodyksMarkram(**spec)
    except ConfigError as err:
        raise ConfigError(f"{path}.{err.path.rsplit('.', 1)[-1]}", err.value, err.constraint) from None
