"""Recursive least squares (RLS) readout, in the two forms used for FORCE learning.

State: ``P`` (n × n, the running inverse correlation matrix) with ``P(0) = p0·I``, and weights ``w`` (n × m)
with ``w(0) = 0``. One update with a feature vector ``r`` (n,) and a target ``y`` (m,):

.. code-block:: text

    e = wᵀ r − y                        (a-priori error; returned by update)
    k = P r
    c = 1 / (1 + rᵀ k)
    exact:           w ← w − c k eᵀ     (= w − P_new r eᵀ)
    nicola_clopath:  w ← w − k eᵀ       (P *before* the update)
    both:            P ← P − c k kᵀ

- ``"exact"`` is standard RLS without forgetting, written as in Sussillo & Abbott (2009), "Generating coherent
  patterns of activity from chaotic neural networks", Neuron 63:544, Eqs. 4–5 (``P`` updated first, then
  ``w ← w − e P(t) r``; since ``P(t) r = c k``, this is the form above). After updates with rows
  ``r_1 … r_T`` of R and targets Y it equals the ridge solution ``(RᵀR + I/p0)⁻¹ RᵀY`` (no intercept), because
  ``P_T = (RᵀR + I/p0)⁻¹`` (Sherman–Morrison) and ``P_T⁻¹ w_T = Rᵀ Y`` holds at every step.
- ``"nicola_clopath"`` is the update in Nicola & Clopath (2017), "Supervised learning in spiking neural
  networks with FORCE training", Nat. Commun. 8:2208; their MATLAB code (ModelDB 190565, mirrored on GitHub as
  ``ModelDBRepository/190565``, file ``CODE FOR FIGURE 2/IZFORCESINE.m``) reads::

      cd = Pinv*r;
      BPhi = BPhi - (cd*err');
      Pinv = Pinv -((cd)*(cd'))/( 1 + (r')*(cd));

  with ``err = BPhi'*r − zx(:,i)`` computed before the update and ``Pinv = eye(N)*2`` initially. The weight
  step lacks the factor ``c``, so it is larger than exact RLS by ``1 + rᵀPr`` and is not the ridge solution.

Both run in a numba kernel (:func:`snn.reservoir.kernels.force.rls_step`), in place, O(n²) per update.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from snn.checks import integer as _integer
from snn.errors import ConfigError
from snn.reservoir.kernels.force import EXACT, NICOLA_CLOPATH, rls_run, rls_step

#: accepted ``variant`` names -> kernel codes
VARIANTS = {"exact": EXACT, "nicola_clopath": NICOLA_CLOPATH}


def _vector(path: str, value: object, size: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(path, value, f"must be {size} finite numbers") from None
    if arr.ndim == 0 and size == 1:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.shape[0] != size or not np.all(np.isfinite(arr)):
        raise ConfigError(path, value, f"must be {size} finite numbers")
    return np.ascontiguousarray(arr)


class RLS:
    """Recursive least squares with ``P(0) = p0·I``, ``w(0) = 0``; see the module docstring for the equations.

    ``n_features``: length n of a feature vector. ``n_outputs``: number m of outputs. ``p0``: initial diagonal
    of P (> 0; the ridge penalty of the exact variant is ``1/p0``). ``variant``: ``"exact"`` or
    ``"nicola_clopath"``. Attributes: ``w`` (n, m), ``P`` (n, n), ``n_updates``. P takes ``8 n²`` bytes
    (2000 features: 32 MB).
    """

    def __init__(self, n_features: int, n_outputs: int = 1, p0: float = 2.0, variant: str = "exact") -> None:
        self.n_features = _integer("rls.n_features", n_features)
        self.n_outputs = _integer("rls.n_outputs", n_outputs)
        if isinstance(p0, (bool, np.bool_)) or not isinstance(p0, numbers.Real) or not (0 < p0 < math.inf):
            raise ConfigError("rls.p0", p0, "must be a finite number > 0")
        if not isinstance(variant, str) or variant not in VARIANTS:
            raise ConfigError("rls.variant", variant, f"must be one of {sorted(VARIANTS)}")
        self.p0 = float(p0)
        self.variant = variant
        self._code = VARIANTS[variant]
        self.w = np.zeros((self.n_features, self.n_outputs))
        self.P = np.eye(self.n_features) * self.p0
        self.n_updates = 0
        self._k = np.empty(self.n_features)

    def update(self, r: np.ndarray, target: np.ndarray | float) -> np.ndarray:
        """One update with features ``r`` (n,) and ``target`` (m,) (a number if m = 1); returns the error
        ``wᵀr − target`` (m,) *before* the update."""
        r = _vector("rls.r", r, self.n_features)
        y = _vector("rls.target", target, self.n_outputs)
        err = np.empty(self.n_outputs)
        rls_step(self.P, self.w, r, y, self._code, self._k, err)
        self.n_updates += 1
        return err

    def update_many(self, R: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """Sequential updates with the rows of ``R`` (T, n) and ``Y`` (T, m) or (T,); returns the a-priori
        errors (T, m). Same result as T calls of :meth:`update`, in one kernel call."""
        R = self._rows("rls.R", R, self.n_features)
        try:
            Y = np.asarray(Y, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError("rls.Y", Y, f"must be finite targets of shape ({R.shape[0]}, {self.n_outputs})") from None
        if Y.ndim == 1 and self.n_outputs == 1:
            Y = Y[:, None]
        if Y.ndim != 2 or Y.shape != (R.shape[0], self.n_outputs) or not np.all(np.isfinite(Y)):
            raise ConfigError("rls.Y", Y, f"must be finite targets of shape ({R.shape[0]}, {self.n_outputs})")
        errors = np.empty((R.shape[0], self.n_outputs))
        rls_run(self.P, self.w, R, np.ascontiguousarray(Y), self._code, errors)
        self.n_updates += R.shape[0]
        return errors

    def predict(self, R: np.ndarray) -> np.ndarray:
        """Outputs ``R w``: (T, m) for R (T, n), (m,) for one feature vector (n,)."""
        if np.ndim(R) == 1:
            return _vector("rls.R", R, self.n_features) @ self.w
        return self._rows("rls.R", R, self.n_features) @ self.w

    @staticmethod
    def _rows(path: str, R: object, n: int) -> np.ndarray:
        try:
            arr = np.asarray(R, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(path, R, f"must be a finite 2-D array (samples, {n})") from None
        if arr.ndim != 2 or arr.shape[1] != n or not np.all(np.isfinite(arr)):
            raise ConfigError(path, R, f"must be a finite 2-D array (samples, {n})")
        return np.ascontiguousarray(arr)
