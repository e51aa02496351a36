"""Continual learning of a spiking MLP of norse LIF layers trained by BPTT with a surrogate gradient (PyTorch):
HLOP and the baselines behind the same learner protocol and method semantics as :mod:`snn.learn.local`.

Network (the HLOP reference code's BPTT model, pkuxmq/HLOP-SNN @ 530b89a, ``models/spiking_mlp_hlop_bptt.py``:
``spiking_MLP_bptt(tau=2, Sigmoid(alpha=4), v_reset=None, detach_reset=True, decay_input=False)``, no biases):

.. code-block:: text

    input:   x (features in [0, 1]) is the constant current of layer 1 at every step t = 1..T
    hidden:  I_l(t) = W_l s_{l-1}(t)            (s_0(t) = x)
             v ← (1 − 1/τ) v + I_l(t)           (spikingjelly LIF, decay_input=False, v(0) = 0)
             s_l(t) = Θ(v − V_th)               (norse: spike where v − V_th > 0)
             v ← v − V_th · sg(s_l(t))          (soft reset; sg = stop-gradient, detach_reset=True)
                                                 reset="zero": v ← (1 − sg(s)) v
    output:  z = (1/T) Σ_t W_L s_{L-1}(t)       readout="mean_current" (the reference code: the mean over T of the
                                                 classifier's output; a non-spiking integrator without leak, v(T)/T)
             z = (1/T) Σ_t u(t), u(t) = (1 − 1/τ) u(t−1) + W_L s_{L-1}(t)
                                                 readout="mean_membrane" (mean potential of a non-spiking leaky
                                                 integrator with the hidden layers' τ)
    loss:    cross-entropy of z (mean over the batch; logits outside the task's classes set to −∞ when
             scenario="task"), differentiated through time (BPTT).

The hidden neurons are norse's boxed LIF (:func:`norse.torch.functional.lif_box.lif_box_feed_forward_step`,
``dv = dt·τ_mem_inv·(i + v_leak − v)``, then ``z = threshold(v − v_th, method, alpha)`` and ``reset_method``).
With ``dt = 1``, ``τ_mem_inv = 1/τ``, ``v_leak = 0`` and the input ``i = τ·I`` this is exactly the update above
(decay_input=False); the soft reset with a detached spike is passed to norse as ``reset_method``.

Surrogate (``surrogate``, ``alpha``): the paper's is spikingjelly's ``Sigmoid(α = 4)``, ``∂s/∂x = α σ(αx)(1 − σ(αx))``
with x = v − V_th. norse has no sigmoid; its ``"tanh"`` surrogate (``HeaviTanh``) back-propagates
``1 − tanh²(k x)``. Since ``σ(u)(1 − σ(u)) = (1 − tanh²(u/2))/4``, ``α σ'(αx) = (α/4)(1 − tanh²(αx/2))``: norse's
``"tanh"`` with ``k = α/2`` is exactly the sigmoid surrogate for α = 4 (and (4/α) times it otherwise).
``surrogate="sigmoid"`` means that mapping; ``"tanh"``, ``"super"`` (SuperSpike, 1/(1 + |x|)², norse ignores
alpha) and ``"triangle"`` (alpha·max(0, 1 − |x|)) are norse's own, passed through with ``alpha``.

Traces and projection (reference sheet ``hlop.md`` §1, BPTT row): the weight gradient of layer l is
``G_l = Σ_t δ_l(t) s_{l-1}(t)ᵀ`` (δ_l(t) = ∂L/∂I_l(t)), so projecting every presynaptic step vector,
``Σ_t δ_l(t) (P⊥ s_{l-1}(t))ᵀ``, is the same as projecting the gradient's rows: ``G_l P⊥``. The projection is
applied to ``W.grad`` after ``loss.backward()``, never to the forward signal or the back-propagated errors (as
the reference's ``LinearProj``, which uses the unprojected W for the errors). HLOP: ``P⊥ = I − Hfᵀ Hf``, i.e.
``G ← G − (G Hfᵀ) Hf`` with the frozen rows Hf of :class:`snn.hlop.Subspace` (copied to a tensor at every
``begin_task`` and ``load_state``; frozen rows do not change within a task, so the copy equals
``Subspace.project_out``, tested). GPM: ``G ← G − (G M) Mᵀ`` with :class:`snn.continual.gpm.GPMBasis`.

Hebbian input (all T·B step vectors, as the reference's ``forward_with_update`` on the (T·B, n) tensor): hidden
layers pass their spikes ``s_l(t)`` for every step and sample; the input layer passes the B images once,
because T identical copies of each row leave the mini-batch Oja step ``Yᵀ(X − Y H)/N`` unchanged (sums and N
scale by T). GPM's representation matrix and the diagnostics use the same vectors.

Method semantics (finetune, ewc, gpm, replay, joint, hlop, hlop_replay; order per mini-batch: forward, backward,
projection from task 2 on, SGD step, then the Hebbian update on the batch's traces) are those of
:mod:`snn.learn.local`. EWC's empirical Fisher needs per-sample gradients, which BPTT does not give as one outer
product: the Fisher batch runs with one copy of the weights per sample (``einsum``), so ``∂(Σ_s L_s)/∂W_s`` is
sample s's gradient.

Weights start as :class:`snn.learn.mlp.SpikingMLP`'s (numpy ``default_rng(seed)``, uniform in
``±init_gain·sqrt(6/fan_in)``). The reference code keeps PyTorch's ``nn.Linear`` bound 1/sqrt(fan_in) (gain 1/√6)
on standardised MNIST; with our inputs in [0, 1] that bound leaves the LIF layers silent (3 permuted ``pbumps16``
tasks, 256-100-100-10, 3 epochs: chance accuracy), gain 1 learns slowly (task accuracy ≈ 0.4-0.6) and the default
1.5 (*ours*) reaches ≈ 0.7-0.8 (measured 2026-12-07; figures in ``tests/test_learn_torch.py``).

Reproducibility: no torch random numbers are used (shuffles come from the protocol's rng), so the seed fixes the
run. On CPU a run is bit-identical at a fixed torch thread count; other thread counts change the float32 weights
in the last bits (measured: ≤ 3e-8 after one task, 1 vs 2 threads: torch's matmul splits its sums by thread).
``deterministic=True`` calls ``torch.use_deterministic_algorithms(True, warn_only=True)`` (a process-wide switch)
and sets ``CUBLAS_WORKSPACE_CONFIG`` for CUDA. On CUDA the Hebbian update still runs in numpy: each mini-batch's
traces are copied to the host (the one shared HLOP definition, :class:`snn.hlop.Subspace`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from snn.errors import ConfigError
from snn.learn.local import METHODS, BaselineConfig, _Memory, load_protection, protection, save_protection
from snn.learn.mlp import _int, _positive  # the same one-line checks as the local path

try:  # optional dependency: the "torch" extra
    import torch
    import torch.nn.functional as F
    from norse.torch.functional.lif_box import LIFBoxFeedForwardState, LIFBoxParameters, lif_box_feed_forward_step
except ImportError:  # pragma: no cover - exercised only without the extra
    torch = None

#: accepted ``surrogate`` values (``"sigmoid"`` is mapped to norse's ``"tanh"``; module docstring)
SURROGATES = ("sigmoid", "tanh", "super", "triangle")
#: accepted ``readout`` values
READOUTS = ("mean_current", "mean_membrane")
#: accepted ``reset`` values
RESETS = ("subtract", "zero")
DTYPES = ("float32", "float64")


def _require() -> None:
    if torch is None:
        raise ConfigError("torch", None, "the BPTT path needs torch and norse: pip install 'snn-hal[torch]'")


@dataclass(frozen=True)
class TorchConfig:
    """The BPTT spiking MLP and its SGD training (defaults: the reference sheet's PMNIST BPTT row, on the
    CPU pilot's widths).

    ``widths``: (inputs, hidden ..., outputs). ``steps``: T. ``tau``: membrane time constant in steps (> 1 for a
    leak; τ = 1 forgets v every step). ``v_th``: threshold. ``reset``: "subtract" (soft) or "zero".
    ``detach_reset``: no gradient through the reset. ``surrogate`` and ``alpha``: module docstring.
    ``readout``: "mean_current" or "mean_membrane". ``lr``: SGD learning rate; ``epochs`` per task; ``batch``.
    ``init_gain``: weights uniform in ``±init_gain·sqrt(6/fan_in)``. ``dtype``: "float32" or "float64".
    ``device``: None (CUDA when available, else CPU) or a torch device string. ``deterministic``: module docstring.
    """

    widths: tuple[int, ...] = (256, 200, 200, 10)
    steps: int = 6
    tau: float = 2.0
    v_th: float = 1.0
    reset: str = "subtract"
    detach_reset: bool = True
    surrogate: str = "sigmoid"
    alpha: float = 4.0
    readout: str = "mean_current"
    lr: float = 0.1
    epochs: int = 1
    batch: int = 64
    init_gain: float = 1.5
    dtype: str = "float32"
    device: str | None = None
    deterministic: bool = True

    def __post_init__(self) -> None:
        p = "torch"
        if isinstance(self.widths, (str, bytes)) or not hasattr(self.widths, "__len__") or len(self.widths) < 3:
            raise ConfigError(f"{p}.widths", self.widths, "must list inputs, >= 1 hidden layer and outputs")
        object.__setattr__(self, "widths", tuple(_int(f"{p}.widths[{i}]", w, 1) for i, w in enumerate(self.widths)))
        _int(f"{p}.steps", self.steps, 1)
        if _positive(f"{p}.tau", self.tau) < 1.0:
            raise ConfigError(f"{p}.tau", self.tau, "must be a number >= 1 (time steps)")
        for name in ("v_th", "alpha", "lr", "init_gain"):
            _positive(f"{p}.{name}", getattr(self, name))
        for name, allowed in (("reset", RESETS), ("surrogate", SURROGATES), ("readout", READOUTS),
                              ("dtype", DTYPES)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{p}.{name}", getattr(self, name), f"must be one of {list(allowed)}")
        for name in ("detach_reset", "deterministic"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{p}.{name}", getattr(self, name), "must be true or false")
        _int(f"{p}.epochs", self.epochs, 1)
        _int(f"{p}.batch", self.batch, 1)
        if self.device is not None and not isinstance(self.device, str):
            raise ConfigError(f"{p}.device", self.device, "must be none or a device string such as 'cpu', 'cuda'")

    @property
    def n_layers(self) -> int:
        """Weight matrices (hidden layers + the output layer)."""
        return len(self.widths) - 1

    @classmethod
    def from_mlp(cls, mlp: Any, **overrides: Any) -> TorchConfig:
        """The BPTT counterpart of a :class:`snn.learn.mlp.MLPConfig`: same widths, T, threshold, lr, epochs and
        batch; everything else (the init gain too: the IF path's gain is tuned for IF neurons) from ``overrides``
        or the defaults."""
        from snn.learn.mlp import MLPConfig

        if not isinstance(mlp, MLPConfig):
            raise ConfigError("mlp", mlp, "must be an MLPConfig")
        values: dict[str, Any] = {"widths": mlp.widths, "steps": mlp.steps, "v_th": mlp.threshold, "lr": mlp.lr,
                                  "epochs": mlp.epochs, "batch": mlp.batch}
        values.update(overrides)
        return cls(**values)


def resolve_device(device: str | None) -> Any:
    """``torch.device``: CUDA when available and ``device`` is None, else CPU; an explicit string is checked."""
    _require()
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError("torch.device", device, "must be a torch device string such as 'cpu' or 'cuda:0'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("torch.device", device, "CUDA is not available on this machine")
    return dev


def _soft_reset_detached(z: Any, v: Any, v_reset: Any, v_th: Any) -> Any:
    return v - z.detach() * v_th


def _soft_reset(z: Any, v: Any, v_reset: Any, v_th: Any) -> Any:
    return v - z * v_th


def _zero_reset_detached(z: Any, v: Any, v_reset: Any, v_th: Any) -> Any:
    return (1.0 - z.detach()) * v


def _zero_reset(z: Any, v: Any, v_reset: Any, v_th: Any) -> Any:
    return (1.0 - z) * v


def project_rows(G: Any, basis_rows: Any) -> Any:
    """``G − (G Bᵀ) B`` for a gradient G (m, n) and basis rows B (r, n) (tensors); G itself if r = 0."""
    if basis_rows.shape[0] == 0:
        return G
    return G - (G @ basis_rows.T) @ basis_rows


@dataclass(frozen=True)
class TorchForward:
    """One forward pass: ``logits`` (B, C) tensor, ``spikes[l]`` (T, B, widths[l+1]) of hidden layer l and
    ``currents[l]`` (T, B, widths[l+1]) the input current ``I_{l+1}(t) = W_l s_l(t)`` of weight layer l."""

    logits: Any
    spikes: tuple[Any, ...]
    currents: tuple[Any, ...]


class SpikingTorchMLP:
    """Weights ``W[l]`` (widths[l+1], widths[l]) as leaf tensors on ``device``; see the module docstring."""

    def __init__(self, config: TorchConfig, seed: int, device: Any) -> None:
        _require()
        if not isinstance(config, TorchConfig):
            raise ConfigError("torch", config, "must be a TorchConfig")
        self.config = config
        self.device = device
        self.dtype = torch.float64 if config.dtype == "float64" else torch.float32
        rng = np.random.default_rng(_int("torch.seed", seed, 0))
        self.W = []
        for n_in, n_out in zip(config.widths[:-1], config.widths[1:]):
            bound = config.init_gain * math.sqrt(6.0 / n_in)
            self.W.append(self._tensor(rng.uniform(-bound, bound, (n_out, n_in))).requires_grad_(True))
        method, alpha = ("tanh", config.alpha / 2.0) if config.surrogate == "sigmoid" else \
            (config.surrogate, config.alpha)
        resets = {("subtract", True): _soft_reset_detached, ("subtract", False): _soft_reset,
                  ("zero", True): _zero_reset_detached, ("zero", False): _zero_reset}
        self.params = LIFBoxParameters(tau_mem_inv=1.0 / config.tau, v_leak=0.0, v_th=config.v_th, v_reset=0.0,
                                       method=method, alpha=alpha,
                                       reset_method=resets[(config.reset, config.detach_reset)])

    def _tensor(self, arr: np.ndarray) -> Any:
        # a private copy: frozen HLOP rows are read-only views, and the tensor must not alias caller arrays
        return torch.as_tensor(np.array(arr, np.float64), dtype=self.dtype, device=self.device)

    def inputs(self, X: np.ndarray) -> Any:
        """Check a batch (B, inputs) and move it to the device."""
        n = self.config.widths[0]
        try:
            arr = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError("torch.X", X, f"must be a finite array (samples, {n})") from None
        if arr.ndim != 2 or arr.shape[1] != n or not np.all(np.isfinite(arr)):
            raise ConfigError("torch.X", X, f"must be a finite array (samples, {n})")
        return self._tensor(arr)

    @staticmethod
    def _linear(x: Any, W: Any) -> Any:
        # W (out, in) shared, or (B, out, in): one copy per sample (EWC's per-sample gradients)
        return x @ W.T if W.dim() == 2 else torch.einsum("...bi,boi->...bo", x, W)

    def lif(self, current: Any) -> Any:
        """Spikes (T, B, n) of norse boxed-LIF neurons driven by ``current`` (T, B, n), v(0) = 0."""
        tau = self.config.tau
        state = LIFBoxFeedForwardState(v=torch.zeros_like(current[0]))
        out = []
        for t in range(current.shape[0]):
            z, state = lif_box_feed_forward_step(current[t] * tau, state, self.params, dt=1.0)
            out.append(z)
        return torch.stack(out)

    def forward(self, X: Any, weights: list[Any] | None = None) -> TorchForward:
        """Forward pass of a batch tensor X (B, inputs); ``weights`` replaces ``W`` (per-sample copies)."""
        cfg = self.config
        W = self.W if weights is None else weights
        constant = self._linear(X, W[0])   # the image is a constant current: one product for all T steps
        current = constant.unsqueeze(0).expand(cfg.steps, *constant.shape)
        spikes, currents = [], [current]
        for k in range(1, len(W)):
            spikes.append(self.lif(current))
            current = self._linear(spikes[-1], W[k])
            currents.append(current)
        if cfg.readout == "mean_current":
            logits = current.mean(dim=0)
        else:
            decay = 1.0 - 1.0 / cfg.tau
            u = torch.zeros_like(current[0])
            total = torch.zeros_like(current[0])
            for t in range(cfg.steps):
                u = decay * u + current[t]
                total = total + u
            logits = total / cfg.steps
        return TorchForward(logits, tuple(spikes), tuple(currents))

    def hebbian_traces(self, X: Any, fwd: TorchForward) -> list[np.ndarray]:
        """Presynaptic vectors of every weight layer as float64 arrays: the B inputs, then each hidden layer's
        T·B step vectors (module docstring)."""
        out = [X.detach().cpu().numpy().astype(np.float64)]
        for s in fwd.spikes:
            out.append(s.detach().reshape(-1, s.shape[-1]).cpu().numpy().astype(np.float64))
        return out

    def state(self) -> dict[str, np.ndarray]:
        return {f"W{k}": W.detach().cpu().numpy().astype(np.float64) for k, W in enumerate(self.W)}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        for k, W in enumerate(self.W):
            new = np.asarray(state.get(f"W{k}"), dtype=np.float64)
            if new.shape != tuple(W.shape) or not np.all(np.isfinite(new)):
                raise ConfigError(f"torch.state.W{k}", new, f"must be a finite array of shape {tuple(W.shape)}")
            with torch.no_grad():
                W.copy_(self._tensor(new))


class TorchLearner:
    """The BPTT spiking MLP trained continually with ``method`` (one of :data:`snn.learn.local.METHODS`).

    Same constructor and protocol as :class:`snn.learn.local.LocalLearner` with a :class:`TorchConfig`:
    ``hlop`` (an :class:`snn.hlop.HLOPConfig`, one entry per weight layer, for the hlop methods),
    ``baselines``, ``scenario`` ("task", "domain", "class"), ``seed`` (initial weights), ``device`` (overrides
    ``config.device``). ``diagnostics``: per-task, per-layer HLOP figures after each task.
    """

    def __init__(self, method: str, config: TorchConfig, *, hlop: Any = None,
                 baselines: BaselineConfig | None = None, scenario: str = "domain", seed: int = 0,
                 device: str | None = None) -> None:
        _require()
        if method not in METHODS:
            raise ConfigError("method", method, f"must be one of {list(METHODS)}")
        if scenario not in ("task", "domain", "class"):
            raise ConfigError("scenario", scenario, "must be one of ['task', 'domain', 'class']")
        if not isinstance(config, TorchConfig):
            raise ConfigError("torch", config, "must be a TorchConfig")
        if baselines is not None and not isinstance(baselines, BaselineConfig):
            raise ConfigError("baselines", baselines, "must be a BaselineConfig")
        self.device = resolve_device(config.device if device is None else device)
        if config.deterministic:
            if self.device.type == "cuda":  # cuBLAS needs this before its first call to be deterministic
                os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
        self.method = method
        self.scenario = scenario
        self.config = config
        self.net = SpikingTorchMLP(config, seed, self.device)
        self.baselines = BaselineConfig() if baselines is None else baselines
        self.uses_hlop = method in ("hlop", "hlop_replay")
        self.uses_replay = method in ("replay", "hlop_replay")
        self.subspaces, self._hlop_rng, self.gpm = protection(method, config.widths, hlop, self.baselines)
        self.hlop = hlop
        self._basis: list[Any] = []   # tensor copies of the frozen rows (hlop) or of Mᵀ (gpm), per layer
        self.fisher: list[list[Any]] = []
        self.anchors: list[list[Any]] = []
        self.memory = _Memory()
        self.seen: list[Any] = []
        self.diagnostics: list[dict[str, Any]] = []
        self._refresh_bases()

    # --- projection bases ----------------------------------------------------------------------------------

    def _refresh_bases(self) -> None:
        """Copy the frozen HLOP rows Hf (or GPM's Mᵀ) to tensors; they only change at task boundaries."""
        if self.uses_hlop:
            self._basis = [self.net._tensor(layer.frozen) for layer in self.subspaces]
        elif self.gpm:
            self._basis = [self.net._tensor(basis.M.T) for basis in self.gpm]

    # --- protocol ------------------------------------------------------------------------------------------

    def _classes(self, task: Any) -> np.ndarray | None:
        return np.asarray(task.classes, np.int64) if self.scenario == "task" else None

    def begin_task(self, t: int, task: Any) -> None:
        """Add this task's subspace rows (hlop methods) and remember the task (joint)."""
        if self.uses_hlop:
            for layer, k in zip(self.subspaces, self.hlop.k_for_task(t + 1)):
                layer.begin_task(k, self._hlop_rng)
        self._refresh_bases()
        if self.method == "joint":
            self.seen.append(task)

    def _mask(self, classes: list[np.ndarray | None], n: int) -> Any:
        """Boolean (n, C) mask of allowed outputs, or None when every output is allowed."""
        if all(c is None for c in classes):
            return None
        C = self.config.widths[-1]
        rows = classes if len(classes) > 1 else classes * n
        keep = np.zeros((n, C), bool)
        for i, c in enumerate(rows):
            keep[i, np.arange(C) if c is None else c] = True
        return torch.as_tensor(keep, device=self.device)

    @staticmethod
    def _masked(logits: Any, mask: Any) -> Any:
        return logits if mask is None else logits.masked_fill(~mask, -math.inf)

    def _project(self, t: int) -> None:
        """Edit ``W.grad`` in place: the projection of hlop and gpm, from task 2 on (EWC: :meth:`_ewc_step`)."""
        W = self.net.W
        if (self.uses_hlop or self.gpm) and t > 0:
            for w, B in zip(W, self._basis):
                w.grad = project_rows(w.grad, B)

    def _ewc_step(self, lr: float) -> None:
        """EWC's penalty as the proximal step of :mod:`snn.learn.local` (stable for any λ), in place."""
        if self.method != "ewc" or not self.fisher:
            return
        lam = self.baselines.ewc_lambda
        with torch.no_grad():
            for k, w in enumerate(self.net.W):
                f_sum = sum(Fs[k] for Fs in self.fisher)
                fa_sum = sum(Fs[k] * As[k] for Fs, As in zip(self.fisher, self.anchors))
                w.copy_((w + lr * lam * fa_sum) / (1.0 + lr * lam * f_sum))

    def _sgd_epoch(self, X: np.ndarray, y: np.ndarray, classes: list[np.ndarray | None], rng: np.random.Generator,
                   lr: float, batch: int, t: int, protect: bool, progress: Callable[[int], object] | None) -> None:
        order = rng.permutation(X.shape[0])
        for start in range(0, order.size, batch):
            idx = order[start:start + batch]
            xb = self.net.inputs(X[idx])
            mask = self._mask([classes[i] for i in idx] if len(classes) > 1 else classes, idx.size)
            fwd = self.net.forward(xb)
            target = torch.as_tensor(np.asarray(y[idx], np.int64), device=self.device)
            loss = F.cross_entropy(self._masked(fwd.logits, mask), target)
            for w in self.net.W:
                w.grad = None
            loss.backward()
            if protect:
                self._project(t)
            with torch.no_grad():
                for w in self.net.W:
                    w -= lr * w.grad
            if protect:
                self._ewc_step(lr)
            if protect and self.uses_hlop:
                for layer, trace in zip(self.subspaces, self.net.hebbian_traces(xb, fwd)):
                    layer.hebbian_update(trace)
            if progress is not None:
                progress(idx.size)

    def train_task(self, t: int, task: Any, rng: np.random.Generator,
                   progress: Callable[[int], object] | None = None) -> None:
        """``epochs`` of SGD on the task (on all tasks so far for ``joint``)."""
        cfg = self.config
        if self.method == "joint":
            X = np.concatenate([s.X_train for s in self.seen])
            y = np.concatenate([s.y_train for s in self.seen])
            per = [self._classes(s) for s in self.seen for _ in range(s.X_train.shape[0])]
            classes = per if self.scenario == "task" else [None]
        else:
            X, y, classes = task.X_train, task.y_train, [self._classes(task)]
        for _ in range(cfg.epochs):
            self._sgd_epoch(X, y, classes, rng, cfg.lr, cfg.batch, t, protect=True, progress=progress)

    def _traces(self, X: np.ndarray) -> list[np.ndarray]:
        with torch.no_grad():
            xb = self.net.inputs(X)
            return self.net.hebbian_traces(xb, self.net.forward(xb))

    def end_task(self, t: int, task: Any, rng: np.random.Generator) -> None:
        """Consolidate: EWC Fisher, GPM bases, HLOP merge (+ diagnostics), replay memory and replay phase."""
        if self.method == "ewc":
            self._fisher(task, rng)
        if self.method == "gpm":
            n = min(self.baselines.gpm_samples, task.X_train.shape[0])
            idx = rng.choice(task.X_train.shape[0], n, replace=False)
            for basis, trace, eps in zip(self.gpm, self._traces(task.X_train[idx]), self.baselines.gpm_thresholds):
                basis.update(trace, eps)
        if self.uses_hlop:
            self._hlop_diagnostics(t, task)
            for layer in self.subspaces:
                layer.end_task()
        if self.uses_replay:
            self.memory.remember(task, self.baselines.memory_per_class)
            if t > 0:
                X = np.concatenate(self.memory.X)
                y = np.concatenate(self.memory.y)
                classes = ([c for c, Xm in zip(self.memory.classes, self.memory.X) for _ in range(Xm.shape[0])]
                           if self.scenario == "task" else [None])
                for _ in range(self.baselines.replay_epochs):
                    self._sgd_epoch(X, y, classes, rng, self.baselines.replay_lr, self.baselines.replay_batch, t,
                                    protect=False, progress=None)

    def predict(self, X: np.ndarray, classes: np.ndarray | None = None, batch: int = 512) -> np.ndarray:
        """Predicted labels of X; ``classes`` restricts the arg-max to a task's classes (task-incremental)."""
        xs = self.net.inputs(X)
        out = []
        with torch.no_grad():
            for i in range(0, xs.shape[0], batch):
                logits = self.net.forward(xs[i:i + batch]).logits
                out.append(self._masked(logits, self._mask([classes], logits.shape[0])).argmax(dim=1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def evaluate(self, task: Any) -> float:
        """Test accuracy (fraction) on ``task``."""
        return float(np.mean(self.predict(task.X_test, self._classes(task)) == task.y_test))

    # --- baselines and diagnostics -------------------------------------------------------------------------

    def _fisher(self, task: Any, rng: np.random.Generator) -> None:
        n = min(self.baselines.ewc_samples, task.X_train.shape[0])
        idx = rng.choice(task.X_train.shape[0], n, replace=False)
        Fs = [torch.zeros_like(w) for w in self.net.W]
        n_params = sum(w.numel() for w in self.net.W)
        chunk = max(1, min(256, (1 << 24) // n_params))   # per-sample weight copies: at most ~16 M numbers
        for start in range(0, n, chunk):
            part = idx[start:start + chunk]
            xb = self.net.inputs(task.X_train[part])
            copies = [w.detach().unsqueeze(0).repeat(part.size, 1, 1).requires_grad_(True) for w in self.net.W]
            logits = self._masked(self.net.forward(xb, copies).logits, self._mask([self._classes(task)], part.size))
            target = torch.as_tensor(np.asarray(task.y_train[part], np.int64), device=self.device)
            F.cross_entropy(logits, target, reduction="sum").backward()
            with torch.no_grad():
                for f, c in zip(Fs, copies):
                    f += (c.grad * c.grad).sum(dim=0)
        self.fisher.append([f / n for f in Fs])
        self.anchors.append([w.detach().clone() for w in self.net.W])

    def _hlop_diagnostics(self, t: int, task: Any) -> None:
        from snn.hlop.diagnostics import layer_report, warn_if_unconverged

        n = min(300, task.X_train.shape[0])
        row: dict[str, Any] = {"task": t}
        for layer, trace in zip(self.subspaces, self._traces(task.X_train[:n])):
            row[layer.name] = layer_report(layer.H, trace)   # this task's traces, before the merge
            warn_if_unconverged(layer.H, layer.name)
        self.diagnostics.append(row)

    # --- checkpoints ---------------------------------------------------------------------------------------

    def state(self) -> dict[str, np.ndarray]:
        """Everything a resumed study needs, as float64/int arrays (same keys as LocalLearner's)."""
        def arr(x: Any) -> np.ndarray:
            return x.detach().cpu().numpy().astype(np.float64)

        out = {f"net.{k}": v for k, v in self.net.state().items()}
        out.update(save_protection(self, arr))
        return out

    def load_state(self, state: dict[str, np.ndarray], seen: list[Any] | None = None) -> None:
        """Restore :meth:`state`; ``seen``: the tasks trained so far (needed by ``joint``)."""
        self.net.load_state({k[4:]: v for k, v in state.items() if k.startswith("net.")})
        load_protection(self, state, self.net._tensor)
        if seen is not None:
            self.seen = list(seen)
        self._refresh_bases()


def make_torch_learner(method: str, config: Any, *, hlop: Any = None, baselines: BaselineConfig | None = None,
                       scenario: str = "domain", seed: int = 0, device: str | None = None) -> TorchLearner:
    """A :class:`TorchLearner` with LocalLearner's constructor signature, for the study runner. ``config``: a
    :class:`TorchConfig`, or an :class:`snn.learn.mlp.MLPConfig` mapped by :meth:`TorchConfig.from_mlp` (the
    BPTT defaults for the rest). Raises ConfigError when torch or norse is missing."""
    _require()
    if not isinstance(config, TorchConfig):
        config = TorchConfig.from_mlp(config)
    return TorchLearner(method, config, hlop=hlop, baselines=baselines, scenario=scenario, seed=seed, device=device)
