"""Neuron models: what parameters a population has, with units and constraints. No dynamics here.

Units used throughout the package:
- time: **seconds** (time constants, refractory periods, dt; NIR uses seconds too);
- membrane potential and synaptic currents: **millivolts** (currents are expressed as the voltage they
  produce through the membrane resistance, ``r * I``, as in Brian2's CUBA example);
- Izhikevich (2003) keeps its published dimensionless-ms form: ``a``, ``b``, ``c``, ``d`` as in the paper,
  ``v``/``u`` in mV, time derivatives per millisecond.

Any parameter may be a scalar or a per-neuron array (heterogeneity); :meth:`NeuronModel.validate` checks
shapes against the population size. The engine turns parameters into update coefficients; the
description itself never changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from snn.errors import ConfigError

Param = float | np.ndarray

POSITIVE = "positive"
NONNEGATIVE = "nonnegative"
FINITE = "finite"


def _param(default: float, unit: str, constraint: str = FINITE) -> Any:
    return field(default=default, metadata={"unit": unit, "constraint": constraint})


@dataclass(frozen=True, eq=False)
class NeuronModel:
    """Base class: a frozen set of parameters. Subclasses list their state variables and spiking behaviour."""

    #: name used in configs (``model = "lif"``)
    kind: ClassVar[str] = ""
    #: recordable state variables
    state_variables: ClassVar[tuple[str, ...]] = ("v",)
    #: whether the model emits spikes
    spiking: ClassVar[bool] = True

    def parameter_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self) if "unit" in f.metadata)

    def unit(self, name: str) -> str:
        return next(f.metadata["unit"] for f in dataclasses.fields(self) if f.name == name)

    def validate(self, size: int, path: str) -> NeuronModel:
        """Return a copy whose array parameters are read-only float64 arrays of length ``size`` (or scalars).

        Raises :class:`ConfigError` naming ``path.param``, the value and the constraint.
        """
        updates: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if "unit" not in f.metadata:
                continue
            value = getattr(self, f.name)
            key = f"{path}.{f.name}"
            updates[f.name] = _check_param(value, size, key, f.metadata["unit"], f.metadata["constraint"])
        checked = dataclasses.replace(self, **updates)
        checked._check_relations(path)
        return checked

    def _check_relations(self, path: str) -> None:
        """Constraints between parameters (overridden where needed)."""

    def is_uniform(self) -> bool:
        """True when every parameter is a scalar (no per-neuron arrays)."""
        return all(np.ndim(getattr(self, n)) == 0 for n in self.parameter_names())

    def as_dict(self) -> dict[str, Any]:
        """Parameters as plain Python values (lists for arrays), for metadata and configs."""
        out: dict[str, Any] = {"model": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.tolist() if isinstance(value, np.ndarray) else value
        return out


def _check_param(value: Any, size: int, key: str, unit: str, constraint: str) -> Param:
    if isinstance(value, bool):
        raise ConfigError(key, value, f"must be a number ({unit}), not a boolean")
    if isinstance(value, str):
        raise ConfigError(key, value, f"must be a number ({unit}), not a string")
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            arr = np.float64(value)
        except OverflowError:
            raise ConfigError(key, value, f"must be a finite number ({unit})") from None
        scalar = True
    else:
        try:
            arr = np.asarray(value, dtype=np.float64)
            if arr.dtype.kind not in "f":
                raise TypeError
            if any(isinstance(x, str) for x in np.asarray(value, dtype=object).ravel()):
                raise TypeError
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(key, value, f"must be a number ({unit}) or an array of {size} numbers") from None
        scalar = arr.ndim == 0
        if not scalar and arr.shape != (size,):
            raise ConfigError(key, value, f"per-neuron array must have shape ({size},) to match the population size")
    bad = np.isnan(arr) if constraint == "any" else ~np.isfinite(arr)
    if constraint == "positive_or_inf":
        bad = np.isnan(arr) | (arr <= 0)
        message = f"must be > 0 ({unit}; inf allowed)"
    elif constraint == POSITIVE:
        bad = bad | (arr <= 0)
        message = f"must be > 0 ({unit})"
    elif constraint == NONNEGATIVE:
        bad = bad | (arr < 0)
        message = f"must be >= 0 ({unit})"
    else:
        message = f"must be finite ({unit})"
    if np.any(bad):
        shown = float(arr) if scalar else arr[np.argmax(bad)]
        where = "" if scalar else f" (first bad element at index {int(np.argmax(bad))})"
        raise ConfigError(key, shown if scalar else value, message + where)
    if scalar:
        return float(arr)
    view = arr.view()
    view.flags.writeable = False
    return view


RESETS = ("value", "subtract")


@dataclass(frozen=True, eq=False)
class LIF(NeuronModel):
    """Leaky integrate-and-fire neuron with exponential current synapses, integrated exactly.

    ``tau_m dv/dt = v_rest - v + r (i_exc + i_inh + bias)``, ``tau_syn_exc di_exc/dt = -i_exc`` (same for inh).
    A spike is emitted when ``v > v_threshold`` (strict, as Brian2's CUBA). Reset ``"value"`` sets
    ``v = v_reset``; ``"subtract"`` does ``v -= v_threshold - v_reset``. For ``t_ref`` after a spike ``v`` is
    held (synaptic currents keep decaying): Brian2's ``(unless refractory)`` semantics.
    NIR: ``CubaLIF(tau_mem=tau_m, tau_syn=tau_syn_exc, r, v_leak=v_rest, v_threshold, v_reset)``.
    """

    kind: ClassVar[str] = "lif"
    state_variables: ClassVar[tuple[str, ...]] = ("v", "i_exc", "i_inh")

    tau_m: Param = _param(20e-3, "s", POSITIVE)
    v_rest: Param = _param(-65.0, "mV")
    v_threshold: Param = _param(-50.0, "mV")
    v_reset: Param = _param(-65.0, "mV")
    t_ref: Param = _param(2e-3, "s", NONNEGATIVE)
    tau_syn_exc: Param = _param(5e-3, "s", POSITIVE)
    tau_syn_inh: Param = _param(10e-3, "s", POSITIVE)
    r: Param = _param(1.0, "dimensionless gain on input currents")
    bias: Param = _param(0.0, "mV (r·I of a constant current)")
    reset: str = "value"

    def _check_relations(self, path: str) -> None:
        _check_reset(self.reset, path)


@dataclass(frozen=True, eq=False)
class AdaptiveLIF(LIF):
    """LIF with a spike-triggered adaptation current ``w`` (mV) subtracted from the input.

    ``tau_m dv/dt = v_rest - v + r (i_exc + i_inh + bias - w)``, ``tau_adapt dw/dt = -w``, and ``w += adapt_jump``
    at each spike. Linear between spikes, so it is integrated exactly like :class:`LIF`.
    """

    kind: ClassVar[str] = "adaptive_lif"
    state_variables: ClassVar[tuple[str, ...]] = ("v", "i_exc", "i_inh", "w")

    tau_adapt: Param = _param(100e-3, "s", POSITIVE)
    adapt_jump: Param = _param(1.0, "mV")


@dataclass(frozen=True, eq=False)
class ConductanceLIF(NeuronModel):
    """LIF neuron with exponential conductance synapses and reversal potentials (COBA; Vogels & Abbott 2005).

    ``tau_m dv/dt = (v_rest - v) + g_exc (e_exc - v) + g_inh (e_inh - v) + bias``,
    ``tau_syn_exc dg_exc/dt = -g_exc`` (same for inh). Conductances are dimensionless, in units of the leak
    conductance (a weight of 0.6 opens 0.6 leak conductances: Vogels & Abbott's 6 nS on a 10 nS leak), so
    weights onto this model must be >= 0 on both channels.
    Integrated with the exponential Euler method (Brian2's ``method='exponential_euler'``): over one step
    ``v`` relaxes exactly towards the fixed point of the conductances held at their start-of-step values;
    the conductances decay exactly. Threshold (strict ``>``), reset to ``v_reset`` and refractoriness
    (``v`` held) as :class:`LIF`. Defaults: Vogels & Abbott's COBA network.
    """

    kind: ClassVar[str] = "conductance_lif"
    state_variables: ClassVar[tuple[str, ...]] = ("v", "g_exc", "g_inh")

    tau_m: Param = _param(20e-3, "s", POSITIVE)
    v_rest: Param = _param(-60.0, "mV")
    v_threshold: Param = _param(-50.0, "mV")
    v_reset: Param = _param(-60.0, "mV")
    t_ref: Param = _param(5e-3, "s", NONNEGATIVE)
    tau_syn_exc: Param = _param(5e-3, "s", POSITIVE)
    tau_syn_inh: Param = _param(10e-3, "s", POSITIVE)
    e_exc: Param = _param(0.0, "mV (reversal potential)")
    e_inh: Param = _param(-80.0, "mV (reversal potential)")
    bias: Param = _param(0.0, "mV (constant drive, added to v_rest)")


@dataclass(frozen=True, eq=False)
class IF(NeuronModel):
    """Non-leaky integrate-and-fire: ``tau_m dv/dt = r (i_exc + i_inh + bias)``; ``tau_m`` only scales input.

    Threshold (strict ``>``), reset and refractoriness as :class:`LIF`.
    """

    kind: ClassVar[str] = "if"
    state_variables: ClassVar[tuple[str, ...]] = ("v", "i_exc", "i_inh")

    tau_m: Param = _param(20e-3, "s", POSITIVE)
    v_threshold: Param = _param(1.0, "mV")
    v_reset: Param = _param(0.0, "mV")
    t_ref: Param = _param(0.0, "s", NONNEGATIVE)
    tau_syn_exc: Param = _param(5e-3, "s", POSITIVE)
    tau_syn_inh: Param = _param(10e-3, "s", POSITIVE)
    r: Param = _param(1.0, "dimensionless gain on input currents")
    bias: Param = _param(0.0, "mV (r·I of a constant current)")
    reset: str = "value"

    def _check_relations(self, path: str) -> None:
        _check_reset(self.reset, path)


@dataclass(frozen=True, eq=False)
class LI(NeuronModel):
    """Leaky integrator readout (no spikes): ``tau_m dv/dt = v_rest - v + r (i_exc + i_inh + bias)``.

    NIR: ``CubaLI(tau_mem=tau_m, tau_syn, r, v_leak=v_rest)``.
    """

    kind: ClassVar[str] = "li"
    state_variables: ClassVar[tuple[str, ...]] = ("v", "i_exc", "i_inh")
    spiking: ClassVar[bool] = False

    tau_m: Param = _param(20e-3, "s", POSITIVE)
    v_rest: Param = _param(0.0, "mV")
    tau_syn_exc: Param = _param(5e-3, "s", POSITIVE)
    tau_syn_inh: Param = _param(10e-3, "s", POSITIVE)
    r: Param = _param(1.0, "dimensionless gain on input currents")
    bias: Param = _param(0.0, "mV (r·I of a constant current)")


@dataclass(frozen=True, eq=False)
class Izhikevich(NeuronModel):
    """Izhikevich (2003) neuron, forward-Euler integrated (Brian2's ``method='euler'``).

    ``dv/dt = (0.04 v² + 5 v + 140 - u + I) / ms``, ``du/dt = a (b v - u) / ms`` with
    ``I = i_exc + i_inh + bias`` (the paper's current, in mV per ms). Spike when ``v >= v_peak``
    (30 mV), then ``v = c``, ``u += d``. ``a``, ``b``, ``c``, ``d`` as published; arrays allowed.
    """

    kind: ClassVar[str] = "izhikevich"
    state_variables: ClassVar[tuple[str, ...]] = ("v", "u", "i_exc", "i_inh")

    a: Param = _param(0.02, "1/ms")
    b: Param = _param(0.2, "dimensionless")
    c: Param = _param(-65.0, "mV")
    d: Param = _param(8.0, "mV")
    v_peak: Param = _param(30.0, "mV")
    tau_syn_exc: Param = _param(5e-3, "s", POSITIVE)
    tau_syn_inh: Param = _param(10e-3, "s", POSITIVE)
    bias: Param = _param(0.0, "the paper's I (mV/ms)")


def _check_reset(reset: object, path: str) -> None:
    if not isinstance(reset, str) or reset not in RESETS:
        raise ConfigError(f"{path}.reset", reset, f"must be one of {list(RESETS)}")


MODELS: dict[str, type[NeuronModel]] = {m.kind: m for m in (LIF, AdaptiveLIF, ConductanceLIF, IF, LI, Izhikevich)}


def model_from_dict(kind: str, params: dict[str, Any], path: str) -> NeuronModel:
    """Build a model from a config table; unknown models and parameters are one-line errors."""
    if kind not in MODELS:
        raise ConfigError(f"{path}.model", kind, f"unknown neuron model; choose one of {sorted(MODELS)}")
    cls = MODELS[kind]
    allowed = {f.name for f in dataclasses.fields(cls)}
    for name in params:
        if name not in allowed:
            raise ConfigError(f"{path}.params.{name}", params[name], f"unknown parameter of {kind}; "
                              f"known: {sorted(allowed)}")
    return cls(**params)

