"""Continual learning of the spiking MLP (:mod:`snn.learn.mlp`) with local rules: HLOP and the baselines.

One learner class, the method chosen by name (no class per combination):

- ``finetune``: plain SGD task after task.
- ``ewc``: Kirkpatrick et al. (2017), PNAS 114:3521: after task t the diagonal empirical Fisher
  ``F_t = mean over samples of G_sample²`` (true labels) and the weights ``W*_t`` are kept; the penalty
  ``(λ/2) Σ_t Σ F_t (W − W*_t)²`` is applied as a proximal (implicit) step after each SGD step,
  ``W ← (W + η λ Σ_t F_t W*_t) / (1 + η λ Σ_t F_t)``, the exact minimiser of ``|W − W_sgd|²/(2η) +`` the penalty.
  For small ``η λ F`` this is the explicit gradient step; unlike it, it stays stable for any λ (the explicit
  step diverges once ``η λ F > 2``, measured here at λ = 1e4 on the pilot stream).
- ``gpm``: Saha, Garg & Roy (2021), ICLR: after each task the traces of ``gpm.samples`` training samples update
  each layer's basis M (:class:`snn.continual.gpm.GPMBasis`, thresholds per layer); later tasks train with
  ``G ← G − G M Mᵀ``.
- ``replay``: after every task from the second on, ``replay_epochs`` of SGD (``replay_lr``) over a memory of the
  first ``memory_per_class`` training samples of each class of every task so far, without projection or Hebbian
  updates (the HLOP reference code's ``-replay``).
- ``joint``: at task t, train on the union of tasks 0..t (the multitask upper bound).
- ``hlop``: Xiao et al. (2024), ICLR: one :class:`snn.hlop.Subspace` per weight layer on its presynaptic traces;
  every mini-batch: forward, gradient, ``G ← project_out(G)`` (frozen rows, from task 2 on), SGD step, then the
  Hebbian update of the subspace on the batch's traces. ``begin_task`` adds the schedule's rows,
  ``end_task`` merges them.
- ``hlop_replay``: ``hlop`` plus the replay phase.

On a crossbar (``device=``, an :class:`hardware.targets.RRAMCrossbar` profile; :mod:`snn.learn.device` for the
device equations): the chosen weight layers (``device_layers``; default all) are
:class:`snn.learn.device.CrossbarLayerState` pairs. Before every forward pass (each mini-batch, each evaluation,
the GPM/HLOP/EWC traces after a task) ``W`` of those layers is one noisy read of the conductances; the gradient,
the HLOP/GPM projection and the Hebbian updates are unchanged (they act on the update before it is programmed);
the SGD step and the EWC proximal step together give the wanted change
``ΔW = prox(W_stored − η G) − W_stored`` (``W_stored = k (G⁺ − G⁻)`` without read noise), which is programmed as
pulses (``program_update``). ``device is None`` leaves the float path exactly as it was.

Learner protocol (used by the study runner): ``begin_task(t, task)``, ``train_task(t, task, rng, progress)``,
``end_task(t, task, rng)``, ``evaluate(task) -> accuracy``, ``state() -> dict of arrays``, ``load_state(state)``.
Tasks are :class:`snn.continual.streams.Task`; in the task-incremental scenario (``scenario="task"``) the output
is restricted to the task's classes in training and evaluation (multi-head).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snn.errors import ConfigError
from snn.learn.mlp import MLPConfig, SpikingMLP

METHODS = ("finetune", "ewc", "gpm", "replay", "joint", "hlop", "hlop_replay")


@dataclass(frozen=True)
class BaselineConfig:
    """Hyper-parameters of the baselines. ``ewc_lambda``: λ. ``ewc_samples``: samples for the Fisher.
    ``gpm_thresholds``: energy threshold per weight layer (PMNIST 0.95 / 0.99 / 0.99, Saha et al.);
    ``gpm_samples``: 300. ``memory_per_class``: 50, ``replay_epochs``: 1, ``replay_lr``: 0.01, ``replay_batch``
    (the HLOP reference code's PMNIST settings)."""

    ewc_lambda: float = 1000.0
    ewc_samples: int = 500
    gpm_thresholds: tuple[float, ...] = (0.95, 0.99, 0.99)
    gpm_samples: int = 300
    memory_per_class: int = 50
    replay_epochs: int = 1
    replay_lr: float = 0.01
    replay_batch: int = 32

    def __post_init__(self) -> None:
        p = "baselines"
        if not (isinstance(self.ewc_lambda, (int, float)) and 0 <= self.ewc_lambda < math.inf):
            raise ConfigError(f"{p}.ewc_lambda", self.ewc_lambda, "must be a finite number >= 0")
        thresholds = tuple(self.gpm_thresholds)
        if not thresholds or not all(isinstance(v, (int, float)) and 0 < v <= 1 for v in thresholds):
            raise ConfigError(f"{p}.gpm_thresholds", self.gpm_thresholds, "must be numbers in (0, 1]")
        object.__setattr__(self, "gpm_thresholds", tuple(float(v) for v in thresholds))
        for name in ("ewc_samples", "gpm_samples", "memory_per_class", "replay_epochs", "replay_batch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{p}.{name}", value, "must be an integer >= 1")
        if not (isinstance(self.replay_lr, (int, float)) and 0 < self.replay_lr < math.inf):
            raise ConfigError(f"{p}.replay_lr", self.replay_lr, "must be a finite number > 0")


def protection(method: str, widths: tuple[int, ...], hlop: Any, baselines: BaselineConfig
               ) -> tuple[list[Any], np.random.Generator | None, list[Any]]:
    """The per-layer protection state of ``method`` for an MLP of ``widths``, shared by both training paths:
    HLOP subspaces (named fc1, fc2, ...) and the generator of their random rows (hlop methods), or GPM bases
    (``gpm``); empty lists otherwise. Checks that the HLOP schedule and GPM thresholds have one entry per layer."""
    n_layers = len(widths) - 1
    names = [f"fc{k + 1}" for k in range(n_layers)]
    subspaces: list[Any] = []
    rng = None
    gpm: list[Any] = []
    if method in ("hlop", "hlop_replay"):
        from snn.hlop import HLOPConfig

        if not isinstance(hlop, HLOPConfig):
            raise ConfigError("hlop", hlop, f"method {method!r} needs an HLOPConfig")
        if hlop.n_layers != n_layers:
            raise ConfigError("hlop.k_first", list(hlop.k_first), f"must have one entry per weight layer ({n_layers})")
        subspaces = hlop.make_subspaces(list(widths[:-1]), names)
        rng = hlop.rng()
    if method == "gpm":
        from snn.continual.gpm import GPMBasis

        if len(baselines.gpm_thresholds) != n_layers:
            raise ConfigError("baselines.gpm_thresholds", list(baselines.gpm_thresholds),
                              f"must have one threshold per weight layer ({n_layers})")
        gpm = [GPMBasis(n, name=name) for n, name in zip(widths[:-1], names)]
    return subspaces, rng, gpm


@dataclass
class _Memory:
    """Replay memory: per task, the first ``per_class`` training samples of each class, with the task's classes."""

    X: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)
    classes: list[np.ndarray] = field(default_factory=list)

    def remember(self, task: Any, per_class: int) -> None:
        keep = []
        for c in np.unique(task.y_train):
            keep.extend(np.flatnonzero(task.y_train == c)[:per_class].tolist())
        keep_idx = np.sort(np.asarray(keep, np.int64))
        self.X.append(np.asarray(task.X_train[keep_idx]))
        self.y.append(np.asarray(task.y_train[keep_idx]))
        self.classes.append(np.asarray(task.classes, np.int64))


def rng_bytes(rng: np.random.Generator) -> np.ndarray:
    """A generator's state as a uint8 array (checkpoints hold arrays only)."""
    return np.frombuffer(repr(rng.bit_generator.state).encode(), np.uint8).copy()


def restore_rng_bytes(rng: np.random.Generator, data: np.ndarray) -> None:
    """Set ``rng`` to the state saved by :func:`rng_bytes`."""
    import ast

    rng.bit_generator.state = ast.literal_eval(bytes(np.asarray(data, np.uint8)).decode())


def _prefixed(state: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def save_protection(learner: Any, to_array: Callable[[Any], np.ndarray]) -> dict[str, np.ndarray]:
    """The checkpoint arrays both learners share: HLOP subspaces and their generator, GPM bases, EWC Fisher and
    anchors (``to_array`` turns a weight-like object into a numpy array), and the replay memory."""
    out: dict[str, np.ndarray] = {}
    for layer in learner.subspaces:
        out.update({f"hlop.{layer.name}.{k}": v for k, v in layer.state().items()})
    if learner.uses_hlop:
        out["hlop.rng"] = rng_bytes(learner._hlop_rng)
    for basis in learner.gpm:
        out.update({f"gpm.{basis.name}.{k}": v for k, v in basis.state().items()})
    for i, (F, A) in enumerate(zip(learner.fisher, learner.anchors)):
        out.update({f"ewc.{i}.F{k}": to_array(f) for k, f in enumerate(F)})
        out.update({f"ewc.{i}.A{k}": to_array(a) for k, a in enumerate(A)})
    memory = learner.memory
    for i, (X, y, c) in enumerate(zip(memory.X, memory.y, memory.classes)):
        out.update({f"memory.{i}.X": X, f"memory.{i}.y": y, f"memory.{i}.classes": c})
    return out


def load_protection(learner: Any, state: dict[str, np.ndarray], to_weight: Callable[[np.ndarray], Any]) -> None:
    """Restore what :func:`save_protection` wrote into ``learner`` (``to_weight`` turns an array back into the
    learner's weight type)."""
    for layer in learner.subspaces:
        layer.load_state(_prefixed(state, f"hlop.{layer.name}."))
    if learner.uses_hlop and "hlop.rng" in state:
        restore_rng_bytes(learner._hlop_rng, state["hlop.rng"])
    for basis in learner.gpm:
        basis.load_state(_prefixed(state, f"gpm.{basis.name}."))
    n_layers = learner.config.n_layers
    learner.fisher, learner.anchors = [], []
    i = 0
    while f"ewc.{i}.F0" in state:
        learner.fisher.append([to_weight(state[f"ewc.{i}.F{k}"]) for k in range(n_layers)])
        learner.anchors.append([to_weight(state[f"ewc.{i}.A{k}"]) for k in range(n_layers)])
        i += 1
    learner.memory = _Memory()
    i = 0
    while f"memory.{i}.X" in state:
        learner.memory.X.append(np.array(state[f"memory.{i}.X"]))
        learner.memory.y.append(np.array(state[f"memory.{i}.y"]))
        learner.memory.classes.append(np.array(state[f"memory.{i}.classes"]))
        i += 1


class LocalLearner:
    """The spiking MLP trained continually with ``method`` (one of :data:`METHODS`; module docstring).

    ``hlop``: an :class:`snn.hlop.HLOPConfig` with one entry per weight layer (needed by the hlop methods).
    ``scenario``: "task" (multi-head: outputs restricted to the task's classes), "domain" or "class".
    ``seed``: initial weights. ``diagnostics`` collects per-task, per-layer HLOP figures after each task.
    ``device``: an RRAM crossbar profile (or None: float weights); ``device_layers``: the weight layers on it
    (None: all); ``device_options``: :class:`snn.learn.device.DeviceOptions` (headroom, rounding; its levels and
    noise overrides are applied to ``device`` by the caller, :meth:`DeviceOptions.profile`).
    """

    def __init__(self, method: str, mlp: MLPConfig, *, hlop: Any = None, baselines: BaselineConfig | None = None,
                 scenario: str = "domain", seed: int = 0, device: Any = None,
                 device_layers: tuple[int, ...] | None = None, device_options: Any = None) -> None:
        if method not in METHODS:
            raise ConfigError("method", method, f"must be one of {list(METHODS)}")
        if scenario not in ("task", "domain", "class"):
            raise ConfigError("scenario", scenario, "must be one of ['task', 'domain', 'class']")
        if baselines is not None and not isinstance(baselines, BaselineConfig):  # as TorchLearner checks it
            raise ConfigError("baselines", baselines, "must be a BaselineConfig")
        self.method = method
        self.scenario = scenario
        self.net = SpikingMLP(mlp, seed)
        self.config = mlp
        self.baselines = BaselineConfig() if baselines is None else baselines
        self.uses_hlop = method in ("hlop", "hlop_replay")
        self.uses_replay = method in ("replay", "hlop_replay")
        self.subspaces, self._hlop_rng, self.gpm = protection(method, mlp.widths, hlop, self.baselines)
        self.hlop = hlop
        self.fisher: list[list[np.ndarray]] = []
        self.anchors: list[list[np.ndarray]] = []
        self.memory = _Memory()
        self.seen: list[Any] = []      # tasks seen so far (joint training)
        self.diagnostics: list[dict[str, Any]] = []
        self.device = device
        self.crossbars: dict[int, Any] = {}
        if device is not None:
            self._init_device(device, device_layers, device_options, seed)

    def _init_device(self, device: Any, layers: tuple[int, ...] | None, options: Any, seed: int) -> None:
        from hardware.targets import RRAMCrossbar
        from snn.learn.device import CrossbarLayerState, DeviceOptions, layer_rngs

        if not isinstance(device, RRAMCrossbar):
            raise ConfigError("device", getattr(device, "name", device), "must be an RRAM crossbar profile")
        options = DeviceOptions() if options is None else options
        n_layers = self.config.n_layers
        chosen = tuple(range(n_layers)) if not layers else tuple(layers)
        for k in chosen:
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < n_layers:
                raise ConfigError("device.layers", list(chosen), f"must be weight-layer indices in [0, {n_layers})")
        self._device_rngs: dict[int, tuple[np.random.Generator, np.random.Generator]] = {}
        for k in sorted(int(v) for v in chosen):
            write, read = layer_rngs(seed, k)
            self.crossbars[k] = CrossbarLayerState(device, self.net.W[k], write, headroom=options.headroom,
                                                   rounding=options.rounding)
            self._device_rngs[k] = (write, read)
        self._read_device()

    def _read_device(self) -> None:
        """One noisy read of every crossbar layer into ``net.W`` (no-op on the float path)."""
        for k, xbar in self.crossbars.items():
            self.net.W[k] = xbar.read(self._device_rngs[k][1])

    def _program_device(self, grads: list[np.ndarray], lr: float, protect: bool) -> None:
        """SGD (+ EWC proximal) step: float layers in place, crossbar layers as programmed pulses."""
        ewc = protect and self.method == "ewc" and bool(self.fisher)
        lam = self.baselines.ewc_lambda
        for k, G in enumerate(grads):
            xbar = self.crossbars.get(k)
            W = self.net.W[k] if xbar is None else xbar.weights()
            target = W - lr * G
            if ewc:
                f_sum = sum(F[k] for F in self.fisher)
                fa_sum = sum(F[k] * A[k] for F, A in zip(self.fisher, self.anchors))
                target = (target + lr * lam * fa_sum) / (1.0 + lr * lam * f_sum)
            if xbar is None:
                self.net.W[k][...] = target
            else:
                xbar.program_update(target - W, self._device_rngs[k][0])

    def device_report(self) -> dict[str, Any]:
        """Per crossbar layer: saturations so far, pulses so far, fraction of devices now at a limit, k, levels."""
        return {f"fc{k + 1}": {"saturated": x.saturated, "pulses": x.pulses, "at_limit": x.at_limit(), "k": x.k,
                               "levels": x.levels} for k, x in self.crossbars.items()}

    # --- protocol ----------------------------------------------------------------------------------------

    def _classes(self, task: Any) -> np.ndarray | None:
        return np.asarray(task.classes, np.int64) if self.scenario == "task" else None

    def begin_task(self, t: int, task: Any) -> None:
        """Add this task's subspace rows (hlop methods) and remember the task (joint)."""
        if self.uses_hlop:
            for layer, k in zip(self.subspaces, self.hlop.k_for_task(t + 1)):
                layer.begin_task(k, self._hlop_rng)
        if self.method == "joint":
            self.seen.append(task)

    def _project(self, grads: list[np.ndarray], t: int) -> list[np.ndarray]:
        if self.uses_hlop and t > 0:
            return [layer.project_out(G) for layer, G in zip(self.subspaces, grads)]
        if self.method == "gpm" and t > 0:
            return [basis.project_out(G) for basis, G in zip(self.gpm, grads)]
        return grads

    def _ewc_step(self, lr: float) -> None:
        """The proximal EWC step (module docstring) on every weight matrix, in place."""
        if self.method != "ewc" or not self.fisher:
            return
        lam = self.baselines.ewc_lambda
        for k, W in enumerate(self.net.W):
            f_sum = sum(F[k] for F in self.fisher)
            fa_sum = sum(F[k] * A[k] for F, A in zip(self.fisher, self.anchors))
            W[...] = (W + lr * lam * fa_sum) / (1.0 + lr * lam * f_sum)

    def _sgd_epoch(self, X: np.ndarray, y: np.ndarray, classes: list[np.ndarray | None], rng: np.random.Generator,
                   lr: float, batch: int, t: int, protect: bool, progress: Callable[[int], object] | None) -> None:
        order = rng.permutation(X.shape[0])
        for start in range(0, order.size, batch):
            idx = order[start:start + batch]
            if self.crossbars:
                self._read_device()
            fwd = self.net.forward(X[idx])
            cls = classes[0] if len(classes) == 1 else None
            if len(classes) > 1:  # a mixed batch (joint / replay in the task scenario): mask sample by sample
                grads = self._mixed_gradients(fwd, y[idx], [classes[i] for i in idx])
            else:
                grads = self.net.gradients(fwd, y[idx], cls)
            if protect:
                grads = self._project(grads, t)
            if self.crossbars:
                self._program_device(grads, lr, protect)
            else:
                for W, G in zip(self.net.W, grads):
                    W -= lr * G
                if protect:
                    self._ewc_step(lr)
            if protect and self.uses_hlop:
                for layer, trace in zip(self.subspaces, fwd.traces):
                    layer.hebbian_update(trace)
            if progress is not None:
                progress(idx.size)

    def _mixed_gradients(self, fwd: Any, y: np.ndarray, classes: list[np.ndarray | None]) -> list[np.ndarray]:
        if all(c is None for c in classes):
            return self.net.gradients(fwd, y, None)
        logits = fwd.logits.copy()
        for i, c in enumerate(classes):
            keep = np.zeros(logits.shape[1], bool)
            keep[c] = True
            logits[i, ~keep] = -np.inf
        masked = type(fwd)(fwd.traces, fwd.currents[:-1] + (logits,))
        return self.net.gradients(masked, y, None)

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

    def end_task(self, t: int, task: Any, rng: np.random.Generator) -> None:
        """Consolidate: EWC Fisher, GPM bases, HLOP merge (+ diagnostics), replay memory and replay phase."""
        if self.crossbars:
            self._read_device()  # the traces below see the weights as stored now
        if self.method == "ewc":
            self._fisher(task, rng)
        if self.method == "gpm":
            n = min(self.baselines.gpm_samples, task.X_train.shape[0])
            idx = rng.choice(task.X_train.shape[0], n, replace=False)
            traces = self.net.forward(task.X_train[idx]).traces
            for basis, trace, eps in zip(self.gpm, traces, self.baselines.gpm_thresholds):
                basis.update(trace, eps)
        if self.uses_hlop:
            self._hlop_diagnostics(t, task)
            for layer in self.subspaces:
                layer.end_task()
        if self.crossbars:  # saturations so far etc., in the run's per-task diagnostics
            self.diagnostics.append({"task": t, **{f"device.{n}": r for n, r in self.device_report().items()}})
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

    def evaluate(self, task: Any) -> float:
        """Test accuracy (fraction) on ``task`` (on a crossbar: with one fresh noisy read)."""
        if self.crossbars:
            self._read_device()
        return float(np.mean(self.net.predict(task.X_test, self._classes(task)) == task.y_test))

    # --- baselines and diagnostics -----------------------------------------------------------------------

    def _fisher(self, task: Any, rng: np.random.Generator) -> None:
        n = min(self.baselines.ewc_samples, task.X_train.shape[0])
        idx = rng.choice(task.X_train.shape[0], n, replace=False)
        F = [np.zeros_like(W) for W in self.net.W]
        for start in range(0, n, 256):
            part = idx[start:start + 256]
            fwd = self.net.forward(task.X_train[part])
            deltas = self.net.errors(fwd, task.y_train[part], self._classes(task), mean=False)
            # per-sample gradient g = δ rᵀ, so g² = (δ²)(r²)ᵀ: the sum over samples is one product
            for k, (d, r) in enumerate(zip(deltas, fwd.traces)):
                F[k] += (d * d).T @ (r * r)
        self.fisher.append([f / n for f in F])
        self.anchors.append([self.crossbars[k].weights() if k in self.crossbars else W.copy()
                             for k, W in enumerate(self.net.W)])

    def _hlop_diagnostics(self, t: int, task: Any) -> None:
        from snn.hlop.diagnostics import layer_report, warn_if_unconverged

        n = min(300, task.X_train.shape[0])
        traces = self.net.forward(task.X_train[:n]).traces
        row: dict[str, Any] = {"task": t}
        for layer, trace in zip(self.subspaces, traces):
            row[layer.name] = layer_report(layer.H, trace)   # this task's traces, before the merge
            warn_if_unconverged(layer.H, layer.name)
        self.diagnostics.append(row)

    # --- checkpoints ---------------------------------------------------------------------------------------

    def state(self) -> dict[str, np.ndarray]:
        """Everything a resumed study needs, as arrays (weights, subspaces, bases, Fisher, memory)."""
        out = {f"net.{k}": v for k, v in self.net.state().items()}
        out.update(save_protection(self, np.asarray))
        for k, xbar in self.crossbars.items():
            out.update({f"device.{k}.{name}": v for name, v in xbar.state().items()})
            for j, g in enumerate(self._device_rngs[k]):
                out[f"device.{k}.rng{j}"] = rng_bytes(g)
        return out

    def load_state(self, state: dict[str, np.ndarray], seen: list[Any] | None = None) -> None:
        """Restore :meth:`state`; ``seen``: the tasks trained so far (needed by ``joint``)."""
        self.net.load_state(_prefixed(state, "net."))
        load_protection(self, state, np.array)
        for k, xbar in self.crossbars.items():
            prefix = f"device.{k}."
            xbar.load_state(_prefixed(state, prefix))
            for j, g in enumerate(self._device_rngs[k]):
                restore_rng_bytes(g, state[f"{prefix}rng{j}"])
        if seen is not None:
            self.seen = list(seen)
