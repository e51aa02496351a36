"""A spiking MLP of integrate-and-fire neurons trained with a rate-based local error (DSR-style).

Forward (per sample; numba kernels in :mod:`snn.learn.kernels`): the input image x (features in [0, 1]) is the
constant current of the first layer for ``steps`` = T steps; every hidden layer l is IF neurons with threshold
θ and soft reset (``v += I``; spike where ``v >= θ``; ``v -= θ``), driven by the spikes of the layer below;
the output layer does not spike: its logits are the mean input current ``z = W_L r_{L-1}``.

Traces (the presynaptic activity that HLOP and GPM protect): ``r_0 = x``, ``r_l = (1/T) Σ_t s_l(t)`` the firing
rate of hidden layer l. The mean current into layer l is exactly ``Ī_l = W_l r_{l-1}`` (the current is linear in
the spikes).

Learning (the differentiation-on-spike-representation idea of Meng et al. 2022, "Training high-performance
low-latency spiking neural networks by differentiation on spike representation", CVPR, in the simple form of the
HLOP reference sheet's CPU pilot): the rate of an IF neuron with a constant current Ī is ``clamp(Ī/θ, 0, 1)``
up to discretisation, so the error is propagated through ``r_l ≈ f(Ī_l)``, ``f'(Ī) = 1/θ`` on ``0 < Ī < θ``,
0 elsewhere:

.. code-block:: text

    δ_L = (softmax(z) − onehot(y)) / B                  (cross-entropy; masked to the task's classes if asked)
    δ_l = (δ_{l+1} W_{l+1}) ⊙ f'(Ī_l)                    l = L−1 … 1
    G_l = δ_lᵀ r_{l−1}                                   the weight gradient of layer l (out × in)

Every G_l is an outer product of a postsynaptic error and the presynaptic trace, so projecting the trace
(HLOP's x̃) is the same as projecting G_l's rows: ``G_l (I − P)``. No biases (as the HLOP reference MLP).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from snn.checks import integer as _int
from snn.errors import ConfigError
from snn.learn.kernels import if_constant_input, if_spike_input


def _positive(path: str, value: object) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not 0 < value < math.inf:
        raise ConfigError(path, value, "must be a finite number > 0")
    return float(value)


@dataclass(frozen=True)
class MLPConfig:
    """The spiking MLP and its SGD training.

    ``widths``: (inputs, hidden ..., outputs), at least one hidden layer. ``steps``: T time steps per sample.
    ``threshold``: θ of the IF neurons. ``lr``: SGD learning rate. ``epochs`` per task, ``batch`` size.
    ``init_gain``: weights start uniform in ``±init_gain·sqrt(6 / fan_in)`` (Kaiming-uniform for gain 1).
    Defaults: the HLOP reference sheet's CPU pilot (IF MLP 256-200-200-10, T = 8, θ = 1, SGD lr 0.05,
    3 epochs, batch 32).
    """

    widths: tuple[int, ...] = (256, 200, 200, 10)
    steps: int = 8
    threshold: float = 1.0
    lr: float = 0.05
    epochs: int = 3
    batch: int = 32
    init_gain: float = 1.0

    def __post_init__(self) -> None:
        p = "mlp"
        if isinstance(self.widths, (str, bytes)) or not hasattr(self.widths, "__len__") or len(self.widths) < 3:
            raise ConfigError(f"{p}.widths", self.widths, "must list inputs, >= 1 hidden layer and outputs")
        object.__setattr__(self, "widths", tuple(_int(f"{p}.widths[{i}]", w, 1) for i, w in enumerate(self.widths)))
        _int(f"{p}.steps", self.steps, 1)
        _positive(f"{p}.threshold", self.threshold)
        _positive(f"{p}.lr", self.lr)
        _int(f"{p}.epochs", self.epochs, 1)
        _int(f"{p}.batch", self.batch, 1)
        _positive(f"{p}.init_gain", self.init_gain)

    @property
    def n_layers(self) -> int:
        """Weight matrices (hidden layers + the output layer)."""
        return len(self.widths) - 1


@dataclass(frozen=True)
class Forward:
    """One forward pass: ``traces[l]`` (B, widths[l]) is the presynaptic trace of weight layer l (``traces[0]``
    the input), ``currents[l]`` (B, widths[l+1]) the mean current into layer l+1's neurons, ``logits`` =
    ``currents[-1]``."""

    traces: tuple[np.ndarray, ...]
    currents: tuple[np.ndarray, ...]

    @property
    def logits(self) -> np.ndarray:
        return self.currents[-1]


class SpikingMLP:
    """Weights ``W[l]`` (widths[l+1], widths[l]), float64, initialised from ``seed``; see the module docstring."""

    def __init__(self, config: MLPConfig, seed: int) -> None:
        if not isinstance(config, MLPConfig):
            raise ConfigError("mlp", config, "must be an MLPConfig")
        self.config = config
        rng = np.random.default_rng(_int("mlp.seed", seed, 0))
        self.W = []
        for n_in, n_out in zip(config.widths[:-1], config.widths[1:]):
            bound = config.init_gain * math.sqrt(6.0 / n_in)
            self.W.append(rng.uniform(-bound, bound, (n_out, n_in)))

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        n = self.config.widths[0]
        try:
            arr = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError("mlp.X", X, f"must be a finite array (samples, {n})") from None
        if arr.ndim != 2 or arr.shape[1] != n or not np.all(np.isfinite(arr)):
            raise ConfigError("mlp.X", X, f"must be a finite array (samples, {n})")
        return np.ascontiguousarray(arr)

    def forward(self, X: np.ndarray) -> Forward:
        """Spiking forward pass of a batch X (B, inputs)."""
        cfg = self.config
        X = self._inputs(X)
        B = X.shape[0]
        traces, currents = [X], []
        spikes = None
        for k, W in enumerate(self.W[:-1]):
            current = traces[-1] @ W.T
            out = np.empty((B, cfg.steps, W.shape[0]), np.uint8)
            if k == 0:
                if_constant_input(current, cfg.steps, cfg.threshold, out)
            else:
                if_spike_input(spikes, np.ascontiguousarray(W.T), cfg.threshold, out)
            spikes = out
            currents.append(current)
            traces.append(out.mean(axis=1))
        currents.append(traces[-1] @ self.W[-1].T)
        return Forward(tuple(traces), tuple(currents))

    @staticmethod
    def _masked(logits: np.ndarray, classes: np.ndarray | None) -> np.ndarray:
        if classes is None:
            return logits
        masked = np.full_like(logits, -np.inf)
        masked[:, classes] = logits[:, classes]
        return masked

    def predict(self, X: np.ndarray, classes: np.ndarray | None = None, batch: int = 512) -> np.ndarray:
        """Predicted labels of X; ``classes`` restricts the arg-max to a task's classes (task-incremental)."""
        X = self._inputs(X)
        out = [np.argmax(self._masked(self.forward(X[i:i + batch]).logits, classes), axis=1)
               for i in range(0, X.shape[0], batch)]
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def errors(self, fwd: Forward, y: np.ndarray, classes: np.ndarray | None = None,
               mean: bool = True) -> list[np.ndarray]:
        """Postsynaptic errors δ_l (B, widths[l+1]) of every weight layer (module docstring); ``mean`` divides by
        B (batch gradient), else per-sample errors (for EWC's Fisher)."""
        z = self._masked(fwd.logits, classes)
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(y.size), y] -= 1.0
        delta = p / y.size if mean else p
        theta = self.config.threshold
        out = [delta]
        for k in range(len(self.W) - 1, 0, -1):
            current = fwd.currents[k - 1]
            delta = (delta @ self.W[k]) * (((current > 0) & (current < theta)) / theta)
            out.append(delta)
        return out[::-1]

    def gradients(self, fwd: Forward, y: np.ndarray, classes: np.ndarray | None = None) -> list[np.ndarray]:
        """Weight gradients ``G_l = δ_lᵀ r_{l-1}`` of the mean cross-entropy over the batch."""
        return [d.T @ r for d, r in zip(self.errors(fwd, y, classes), fwd.traces)]

    def state(self) -> dict[str, np.ndarray]:
        return {f"W{k}": W.copy() for k, W in enumerate(self.W)}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        for k, W in enumerate(self.W):
            new = np.asarray(state.get(f"W{k}"), dtype=np.float64)
            if new.shape != W.shape or not np.all(np.isfinite(new)):
                raise ConfigError(f"mlp.state.W{k}", new, f"must be a finite array of shape {W.shape}")
            self.W[k] = new.copy()
