"""One HLOP-protected layer: the lateral subspace neurons H and the projection of weight updates.

Source: Xiao, Meng, Zhang, He, Lin, "Hebbian Learning based Orthogonal Projection for Continual Learning of
Spiking Neural Networks", ICLR 2024 (arXiv:2402.11984), and its code pkuxmq/HLOP-SNN @ 530b89a,
``modules/hlop_module.py`` (class ``HLOP``), whose behaviour is copied here:

- State: H (k × n; k subspace neurons, n presynaptic inputs), momentum buffer M (k × n), and ``n_frozen``:
  rows ``0 .. n_frozen − 1`` belong to earlier tasks and are never changed again.
- :meth:`Subspace.begin_task` (``add_subspace`` + ``fix_subspace_id_list=[0]``): append ``k_new`` random rows,
  orthonormal among themselves only (``torch.nn.init.orthogonal_``: QR of an n × k_new standard normal matrix,
  columns signed by diag(R), transposed), with momentum 0; all earlier rows become frozen.
- :meth:`Subspace.hebbian_update` (``forward_with_update``, ``iterations`` times on the same batch X, B × n):
  the Oja (1989) subspace rule in mini-batch form, ΔH = Yᵀ(X − Y H)/B with Y = X Hᵀ computed with *all* rows
  (so new rows learn the residual left by the frozen ones, as GPM's residual SVD), Δ clamped elementwise to
  ±clamp, frozen rows' Δ set to 0, then ``M ← m M + (1 − m) Δ`` and ``H ← H + η M`` on the non-frozen rows (the
  code keeps the frozen rows' M unchanged, as here). Exact per-iteration equations: :mod:`snn.hlop.kernels`.
  Spiking lateral neurons (``lateral_steps`` = T_h): Y is replaced by ``round(clip(Y, −s, s)/s·T_h)/T_h·s``.
- :meth:`Subspace.end_task` (``merge_subspace``): every row is frozen.
- :meth:`Subspace.project_out` (weight-gradient form, ``-hlop_proj_type weight``): ``G − (G Hfᵀ) Hf`` with the
  frozen rows Hf. The code uses the Hebbian rows as they are, ``Hfᵀ Hf``, and never orthonormalises them (no
  QR/SVD in the repository except the orthogonal initialisation); this is the orthogonal projector only when
  Hf Hfᵀ = I, which the Oja rule reaches at convergence (check with :mod:`snn.hlop.diagnostics`).
  :meth:`Subspace.project_inputs` is the input form of ``LinearProj`` (the default ``-hlop_proj_type input``):
  x̃ = x − Hfᵀ y(x), with the same (quantised, if spiking) lateral outputs y as the circuit; for non-spiking
  neurons δᵀ X̃ = project_out(δᵀ X). With spiking lateral neurons the code's weight hook also quantises
  ``G Hfᵀ`` (it reuses ``proj_func``); :meth:`Subspace.project_out` does not (exact linear projection).

Dtype float64 throughout. The Hebbian loop runs either in numpy BLAS (``backend="numpy"``, default: 3–9× faster
than the numba kernel at the sizes of the paper, measured single-threaded, see :mod:`snn.hlop`) or in the numba
kernel :func:`snn.hlop.kernels.oja_subspace_iterations` (``backend="numba"``: fixed summation order, bit-identical
at any numba thread count; numpy BLAS results may depend on the BLAS library and its thread count in the last bits).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from snn.checks import integer as _int
from snn.errors import ConfigError
from snn.hlop.kernels import oja_subspace_iterations

#: accepted values of ``backend``
BACKENDS = ("numpy", "numba")


def _real(path: str, value: object, low: float, low_open: bool, high: float = math.inf, finite: bool = False) -> float:
    ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real) and not math.isnan(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if finite else value <= high)
    if not ok:
        what = "a finite number" if finite else "a number"
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        raise ConfigError(path, value, f"must be {what} {bound}" + ("" if high == math.inf else f" and < {high:g}"))
    return float(value)


def quantise(Y: np.ndarray, steps: int, scale: float) -> np.ndarray:
    """Spiking lateral outputs: ``round(clip(Y, −scale, scale) / scale · steps) / steps · scale`` (half to even)."""
    return np.rint(np.clip(Y, -scale, scale) / scale * steps) / steps * scale


def oja_subspace_numpy(H: np.ndarray, M: np.ndarray, X: np.ndarray, n_frozen: int, lr: float, momentum: float,
                       clamp: float, iterations: int, steps: int, scale: float) -> None:
    """Numpy (BLAS) version of :func:`snn.hlop.kernels.oja_subspace_iterations`; same arguments, in place."""
    f = n_frozen
    inv_b = 1.0 / X.shape[0]
    for _ in range(iterations):
        Y = X @ H.T
        if steps > 0:
            Y = quantise(Y, steps, scale)
        R = X - Y @ H
        D = np.clip((Y[:, f:].T @ R) * inv_b, -clamp, clamp)
        M[f:] = momentum * M[f:] + (1.0 - momentum) * D
        H[f:] += lr * M[f:]


def random_orthonormal_rows(k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """k × n rows with orthonormal rows (k <= n), as ``torch.nn.init.orthogonal_``: Q of the QR of an n × k
    standard normal matrix, each column multiplied by the sign of diag(R), transposed."""
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0
    return np.ascontiguousarray((q * d).T)


class Subspace:
    """Lateral subspace neurons of one layer with ``n_inputs`` presynaptic inputs (see the module docstring).

    ``lr``: Hebbian η (paper: 0.001 for the 784-d input layer, 0.01 hidden). ``momentum`` in [0, 1), ``clamp``
    (> 0, inf disables), ``iterations`` per :meth:`hebbian_update` (>= 1), ``lateral_steps`` (None or T_h >= 1)
    and ``spiking_scale`` as in :class:`snn.hlop.HLOPConfig`. ``name`` labels the layer in errors and warnings.
    ``backend``: "numpy" or "numba". Attributes: ``H`` (k, n), ``M`` (k, n) momentum, ``n_frozen``,
    ``n_tasks`` (calls of :meth:`begin_task`).
    """

    def __init__(self, n_inputs: int, lr: float, momentum: float = 0.9, clamp: float = 10.0, iterations: int = 5,
                 lateral_steps: int | None = None, spiking_scale: float = 20.0, name: str = "layer",
                 backend: str = "numpy") -> None:
        self.name = str(name)
        p = f"hlop.{self.name}"
        self.n_inputs = _int(f"{p}.n_inputs", n_inputs, 1)
        self.lr = _real(f"{p}.lr", lr, 0.0, True, finite=True)
        self.momentum = _real(f"{p}.momentum", momentum, 0.0, False, 1.0, finite=True)
        self.clamp = _real(f"{p}.clamp", clamp, 0.0, True)
        self.iterations = _int(f"{p}.iterations", iterations, 1)
        self.lateral_steps = None if lateral_steps is None else _int(f"{p}.lateral_steps", lateral_steps, 1)
        self.spiking_scale = _real(f"{p}.spiking_scale", spiking_scale, 0.0, True, finite=True)
        if backend not in BACKENDS:
            raise ConfigError(f"{p}.backend", backend, f"must be one of {list(BACKENDS)}")
        self.backend = backend
        self.H = np.zeros((0, self.n_inputs))
        self.M = np.zeros((0, self.n_inputs))
        self.n_frozen = 0
        self.n_tasks = 0

    @property
    def k(self) -> int:
        """Number of subspace neurons (rows of H)."""
        return self.H.shape[0]

    @property
    def frozen(self) -> np.ndarray:
        """The frozen rows Hf (n_frozen, n) used by the projections (a read-only view)."""
        view = self.H[: self.n_frozen]
        view.flags.writeable = False
        return view

    def _steps(self) -> int:
        return 0 if self.lateral_steps is None else self.lateral_steps

    def _rows(self, path: str, X: object) -> np.ndarray:
        try:
            arr = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(path, X, f"must be a finite 2-D array (samples, {self.n_inputs})") from None
        if arr.ndim != 2 or arr.shape[1] != self.n_inputs or arr.shape[0] < 1 or not np.all(np.isfinite(arr)):
            raise ConfigError(path, X, f"must be a finite 2-D array (samples >= 1, {self.n_inputs})")
        return np.ascontiguousarray(arr)

    def begin_task(self, k_new: int, rng: np.random.Generator) -> None:
        """Start a task: freeze every existing row, append ``k_new`` (>= 0) random orthonormal rows with zero
        momentum. The total number of rows may not exceed ``n_inputs``."""
        p = f"hlop.{self.name}"
        k_new = _int(f"{p}.k_new", k_new, 0)
        if self.k + k_new > self.n_inputs:
            raise ConfigError(f"{p}.k_new", k_new, f"must be <= n_inputs − k = {self.n_inputs - self.k}")
        if not isinstance(rng, np.random.Generator):
            raise ConfigError(f"{p}.rng", rng, "must be a numpy.random.Generator")
        self.n_frozen = self.k
        if k_new > 0:
            self.H = np.ascontiguousarray(np.vstack([self.H, random_orthonormal_rows(k_new, self.n_inputs, rng)]))
            self.M = np.ascontiguousarray(np.vstack([self.M, np.zeros((k_new, self.n_inputs))]))
        self.n_tasks += 1

    def hebbian_update(self, X: np.ndarray, iterations: int | None = None) -> None:
        """``iterations`` (default: the layer's) Oja-subspace steps on the presynaptic traces ``X`` (B, n) of one
        mini-batch; only the non-frozen rows change. No-op when every row is frozen."""
        X = self._rows(f"hlop.{self.name}.X", X)
        its = self.iterations if iterations is None else _int(f"hlop.{self.name}.iterations", iterations, 1)
        if self.n_frozen == self.k:
            return
        step = oja_subspace_iterations if self.backend == "numba" else oja_subspace_numpy
        step(self.H, self.M, X, self.n_frozen, self.lr, self.momentum, self.clamp, its, self._steps(),
             self.spiking_scale)

    def end_task(self) -> None:
        """Merge: every row becomes frozen (the code's ``merge_subspace`` after each task)."""
        self.n_frozen = self.k

    def project_out(self, G: np.ndarray) -> np.ndarray:
        """``G − (G Hfᵀ) Hf`` for a weight gradient G (m, n) (or one row (n,)) with the frozen rows Hf; returns a
        new array. Conv weights: reshape to (C_out, C_in·kh·kw) first. Hf is used as is (``Hfᵀ Hf``, not
        orthonormalised), as in the reference code; with no frozen rows G is returned unchanged (a copy)."""
        arr = np.asarray(G, dtype=np.float64)
        one = arr.ndim == 1
        rows = self._rows(f"hlop.{self.name}.G", arr[None, :] if one else arr)
        Hf = self.H[: self.n_frozen]
        out = rows - (rows @ Hf.T) @ Hf
        return out[0] if one else out

    def project_inputs(self, X: np.ndarray) -> np.ndarray:
        """``X − y(X) Hf`` for presynaptic traces X (B, n): the input form of the projection (x̃ of the paper),
        with y = X Hfᵀ quantised as in :meth:`hebbian_update` when the lateral neurons spike."""
        X = self._rows(f"hlop.{self.name}.X", X)
        Hf = self.H[: self.n_frozen]
        Y = X @ Hf.T
        if self.lateral_steps is not None:
            Y = quantise(Y, self.lateral_steps, self.spiking_scale)
        return X - Y @ Hf

    def state(self) -> dict[str, np.ndarray]:
        """Checkpoint as a dict of arrays: ``H``, ``momentum``, ``n_frozen``, ``n_tasks`` (copies)."""
        return {"H": self.H.copy(), "momentum": self.M.copy(), "n_frozen": np.array(self.n_frozen, dtype=np.int64),
                "n_tasks": np.array(self.n_tasks, dtype=np.int64)}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore a :meth:`state` dict (hyper-parameters are not part of it)."""
        p = f"hlop.{self.name}.state"
        for key in ("H", "momentum", "n_frozen", "n_tasks"):
            if key not in state:
                raise ConfigError(f"{p}.{key}", None, "is missing")
        H = np.array(state["H"], dtype=np.float64)
        M = np.array(state["momentum"], dtype=np.float64)
        if H.ndim != 2 or H.shape[1] != self.n_inputs or H.shape[0] > self.n_inputs or not np.all(np.isfinite(H)):
            raise ConfigError(f"{p}.H", H, f"must be a finite (k <= {self.n_inputs}, {self.n_inputs}) array")
        if M.shape != H.shape or not np.all(np.isfinite(M)):
            raise ConfigError(f"{p}.momentum", M, f"must be a finite array of shape {H.shape}")
        n_frozen = int(np.asarray(state["n_frozen"]))
        if not 0 <= n_frozen <= H.shape[0]:
            raise ConfigError(f"{p}.n_frozen", n_frozen, f"must be in [0, {H.shape[0]}]")
        self.H, self.M = np.ascontiguousarray(H), np.ascontiguousarray(M)
        self.n_frozen = n_frozen
        self.n_tasks = int(np.asarray(state["n_tasks"]))
