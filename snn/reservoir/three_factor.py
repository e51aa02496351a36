"""Error-modulated, attention-gated three-factor Hebbian readout (after Yamada & Chao, arXiv:2510.14382).

Yamada & Chao, "Joint encoding of 'what' and 'when' predictions through error-modulated plasticity in
biologically-plausible spiking networks" (arXiv:2510.14382, v1 16 Oct 2025 ... v3 26 Feb 2026) train linear
readouts of a heterogeneous Izhikevich reservoir with "an error-modulated, attention-gated three-factor
Hebbian rule"; timing ("when") is learned online in every trial and identity ("what") by "offline
consolidation". That much is the paper's abstract. Its Methods (symbols, values, the exact form of the rule)
could not be retrieved for this implementation (the stored copies searched held the abstract only), so every
equation below is **our reconstruction** (following /work/shared/reference/data-reservoirs-continual.md, §3);
none of the symbol names are quoted from the paper.

Per readout sample t (one every few ms of a trial), with presynaptic traces r(t) (n,), readout weights W (n × m),
target y(t) (m,) and attention gate g(t):

.. code-block:: text

    r_j(t) = Σ_{spikes of j at t_s <= t} exp(−(t − t_s) / τ)          presynaptic factor (trace_series, τ = trace_tau_s)
    z(t)   = Wᵀ r(t)                                                   readout (linear, no bias; add a constant
                                                                       feature for one)
    M(t)   = y(t) − z(t)                                               error: the modulatory (third) factor
    g(t)   = 1 if gate_start_s <= t − t_cue <= gate_end_s else 0       attention gate around the expected event
    ΔW(t)  = η g(t) [ r(t) M(t)ᵀ − λ W ]                                Hebbian pre × error, gated; λ: weight decay

- "when" (online): ``W ← W + ΔW(t)`` after every sample, in time order, trial after trial. For a fixed trace r
  and Bernoulli(p) targets this is LMS and converges (small η) to the conditional mean: Wᵀr → p (λ = 0).
- "what" (offline): during a block the outputs use frozen weights and the updates are summed,
  ``A ← A + ΔW(t)``; :meth:`ThreeFactorReadout.consolidate` then applies ``W ← W + κ A`` and clears A
  (κ = consolidation_rate; κ = 1 applies the block's summed, frozen-weight updates once: a batch-gradient
  step on the block's squared error).

Assumptions (ours): the Hebbian postsynaptic factor is the error M itself (delta rule), no separate synaptic
eligibility trace beyond the presynaptic trace r (whose τ sets how long a synapse stays eligible); g is a
binary window fixed relative to the cue (the methods accept any g in [0, 1] per sample); λ defaults to 0.
``trace_tau_s`` and the gate window are stored in :class:`ThreeFactorParams` for the pipeline that computes r and
g (:func:`snn.reservoir.features.trace_series`, :meth:`ThreeFactorParams.gate`); the readout itself takes r and g
as arrays. The kernel is
:func:`snn.reservoir.kernels.three_factor.three_factor_run`. Times in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn.checks import finite as _real
from snn.checks import integer as _integer
from snn.errors import ConfigError
from snn.reservoir.kernels.three_factor import three_factor_run


@dataclass(frozen=True)
class ThreeFactorParams:
    """Parameters of the rule (see the module docstring; all are our choices, not the paper's values).

    ``eta``: learning rate η (> 0; per unit trace² and per sample). ``weight_decay``: λ (>= 0, with
    η λ <= 1 so that decay never overshoots). ``consolidation_rate``: κ (> 0) of the offline phase.
    ``trace_tau_s``: τ of the presynaptic traces (seconds, > 0). ``gate_start_s`` < ``gate_end_s``: the attention
    window relative to cue onset (seconds, >= 0).
    """

    eta: float = 1e-3
    weight_decay: float = 0.0
    consolidation_rate: float = 1.0
    trace_tau_s: float = 0.05
    gate_start_s: float = 0.1
    gate_end_s: float = 0.9

    def __post_init__(self) -> None:
        p = "three_factor"
        for name in ("eta", "consolidation_rate", "trace_tau_s"):
            v = _real(f"{p}.{name}", getattr(self, name))
            if v <= 0:
                raise ConfigError(f"{p}.{name}", getattr(self, name), "must be > 0")
            object.__setattr__(self, name, v)
        for name in ("weight_decay", "gate_start_s", "gate_end_s"):
            v = _real(f"{p}.{name}", getattr(self, name))
            if v < 0:
                raise ConfigError(f"{p}.{name}", getattr(self, name), "must be >= 0")
            object.__setattr__(self, name, v)
        if self.eta * self.weight_decay > 1.0:
            raise ConfigError(f"{p}.weight_decay", self.weight_decay, f"must satisfy eta * weight_decay <= 1 "
                                                                      f"(eta = {self.eta:g})")
        if self.gate_end_s <= self.gate_start_s:
            raise ConfigError(f"{p}.gate_end_s", self.gate_end_s, f"must be > gate_start_s = {self.gate_start_s:g}")

    def gate(self, times_s: np.ndarray, cue_onset_s: float = 0.0) -> np.ndarray:
        """g(t) at readout times ``times_s`` (seconds): 1.0 inside ``[gate_start_s, gate_end_s]`` after the cue."""
        try:
            t = np.asarray(times_s, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError("three_factor.times_s", times_s, "must be finite numbers (seconds)") from None
        if not np.all(np.isfinite(t)):
            raise ConfigError("three_factor.times_s", times_s, "must be finite numbers (seconds)")
        t = t - _real("three_factor.cue_onset_s", cue_onset_s)
        return ((t >= self.gate_start_s - 1e-12) & (t <= self.gate_end_s + 1e-12)).astype(np.float64)


class ThreeFactorReadout:
    """Linear readout ``z = Wᵀ r`` trained by the gated three-factor rule (module docstring).

    ``n_features``: n (traces per sample). ``n_outputs``: m. ``params``: :class:`ThreeFactorParams`.
    Attributes: ``W`` (n, m), starts at 0; ``pending`` (n, m), the summed offline updates not yet consolidated;
    ``n_updates`` (gated samples seen), ``n_consolidations``.
    """

    def __init__(self, n_features: int, n_outputs: int = 1, params: ThreeFactorParams | None = None) -> None:
        self.n_features = _integer("three_factor.n_features", n_features)
        self.n_outputs = _integer("three_factor.n_outputs", n_outputs)
        params = ThreeFactorParams() if params is None else params
        if not isinstance(params, ThreeFactorParams):
            raise ConfigError("three_factor.params", params, "must be a ThreeFactorParams")
        self.params = params
        self.W = np.zeros((self.n_features, self.n_outputs))
        self.pending = np.zeros((self.n_features, self.n_outputs))
        self.n_updates = 0
        self.n_consolidations = 0

    # ---- validation --------------------------------------------------------------------------------------------
    def _rows(self, path: str, value: object, width: int) -> np.ndarray:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(path, value, f"must be a finite 2-D array (samples, {width})") from None
        if arr.ndim == 1 and width == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != width or not np.all(np.isfinite(arr)):
            raise ConfigError(path, value, f"must be a finite 2-D array (samples, {width})")
        return np.ascontiguousarray(arr)

    def _inputs(self, traces: object, target: object, gate: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        R = self._rows("three_factor.traces", traces, self.n_features)
        Y = self._rows("three_factor.target", target, self.n_outputs)
        if Y.shape[0] != R.shape[0]:
            raise ConfigError("three_factor.target", target, f"must have one row per trace sample ({R.shape[0]})")
        try:
            G = np.asarray(gate, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError("three_factor.gate", gate, "must be numbers in [0, 1]") from None
        if G.ndim == 0:
            G = np.full(R.shape[0], float(G))
        if G.shape != (R.shape[0],) or not np.all(np.isfinite(G)) or np.any(G < 0) or np.any(G > 1):
            raise ConfigError("three_factor.gate", gate, f"must be {R.shape[0]} numbers in [0, 1] (one per sample)")
        return R, Y, np.ascontiguousarray(G)

    # ---- learning ----------------------------------------------------------------------------------------------
    def run_trial(self, traces: np.ndarray, target: np.ndarray, gate: np.ndarray | float = 1.0,
                  accumulate: bool = False) -> np.ndarray:
        """Sequential updates over the samples of a trial (or of many trials, concatenated): ``traces`` (T, n),
        ``target`` (T, m) (or (T,) if m = 1), ``gate`` (T,) in [0, 1] (or one number). Returns the a-priori
        outputs (T, m), each computed before its own sample's update. ``accumulate=False``: online ("when"),
        W changes after every sample; ``accumulate=True``: offline ("what"), W stays fixed and the updates are
        summed into ``pending`` until :meth:`consolidate`."""
        if not isinstance(accumulate, (bool, np.bool_)):
            raise ConfigError("three_factor.accumulate", accumulate, "must be true or false")
        R, Y, G = self._inputs(traces, target, gate)
        Z = np.empty((R.shape[0], self.n_outputs))
        three_factor_run(self.W, self.pending, R, Y, G, self.params.eta, self.params.weight_decay,
                         bool(accumulate), Z)
        self.n_updates += int(np.count_nonzero(G))
        return Z

    def step(self, r: np.ndarray, target: np.ndarray | float, gate: float = 1.0,
             accumulate: bool = False) -> np.ndarray:
        """One sample: ``r`` (n,), ``target`` (m,) or a number, ``gate`` in [0, 1]; returns z (m,) before the
        update."""
        if np.ndim(r) != 1:
            raise ConfigError("three_factor.r", r, f"must be one trace vector of {self.n_features} numbers")
        if np.ndim(gate) != 0:
            raise ConfigError("three_factor.gate", gate, "must be one number in [0, 1]")
        return self.run_trial(np.reshape(r, (1, -1)), np.reshape(target, (1, -1)), [gate], accumulate)[0]

    def consolidate(self) -> np.ndarray:
        """Offline phase: ``W ← W + κ · pending``, then ``pending ← 0``. Returns the update applied (n, m)."""
        applied = self.params.consolidation_rate * self.pending
        self.W += applied
        self.pending = np.zeros_like(self.pending)
        self.n_consolidations += 1
        return applied

    def predict(self, traces: np.ndarray) -> np.ndarray:
        """Outputs ``traces @ W``: (T, m) for traces (T, n)."""
        return self._rows("three_factor.traces", traces, self.n_features) @ self.W
