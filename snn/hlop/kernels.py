"""Numba kernels of the HLOP lateral circuit (Xiao et al. 2024). Arrays in, arrays out; never configs.

All arrays are float64 and C-contiguous. Every ``prange`` loop computes whole rows independently, each with a
serial inner sum in a fixed order, so results are bit-identical at any number of numba threads.

:func:`oja_subspace_iterations` is the mini-batch Oja subspace rule of ``modules/hlop_module.py``
(``HLOP.forward_with_update`` → ``update_weights``) in pkuxmq/HLOP-SNN @ 530b89a; per iteration, with X (B, n),
H (k, n), momentum buffer M (k, n), f frozen rows:

.. code-block:: text

    Y  = X Hᵀ                                   (B, k); all rows, quantised when steps > 0 (see quantise)
    R  = X − Y H                                (B, n); reconstruction with all rows
    Δ  = clip(Yᵀ R / B, −clamp, clamp)           rows f..k−1 only
    M[f:] ← momentum·M[f:] + (1 − momentum)·Δ    frozen rows of M keep their value (the code restores them)
    H[f:] ← H[f:] + lr·M[f:]                    frozen rows of H never change

``quantise`` is the spiking lateral neurons of ``HLOP.inference``:
``y_q = round(clip(y, −s, s) / s · T_h) / T_h · s`` (round half to even, as ``torch.round``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def quantise(y: float, steps: int, scale: float) -> float:
    """Spike-count quantisation of one lateral output ``y`` over ``steps`` time steps, range ±``scale``."""
    if y > scale:
        y = scale
    elif y < -scale:
        y = -scale
    return np.rint(y / scale * steps) / steps * scale


@njit(cache=True, parallel=True)
def lateral_outputs(X: np.ndarray, H: np.ndarray, steps: int, scale: float, Y: np.ndarray) -> None:
    """``Y = X Hᵀ`` (B, k), quantised when ``steps > 0``; written into ``Y``."""
    B, n = X.shape
    k = H.shape[0]
    for b in prange(B):
        for j in range(k):
            acc = 0.0
            for i in range(n):
                acc += X[b, i] * H[j, i]
            Y[b, j] = quantise(acc, steps, scale) if steps > 0 else acc


@njit(cache=True, parallel=True)
def _residual(X: np.ndarray, Y: np.ndarray, H: np.ndarray, R: np.ndarray) -> None:
    # R = X − Y H, one sample row per task
    B, n = X.shape
    k = H.shape[0]
    for b in prange(B):
        for i in range(n):
            R[b, i] = X[b, i]
        for j in range(k):
            y = Y[b, j]
            for i in range(n):
                R[b, i] -= y * H[j, i]


@njit(cache=True, parallel=True)
def _update_rows(Y: np.ndarray, R: np.ndarray, H: np.ndarray, M: np.ndarray, n_frozen: int, lr: float,
                 momentum: float, clamp: float) -> None:
    B, n = R.shape
    k = H.shape[0]
    inv_b = 1.0 / B
    for j in prange(n_frozen, k):
        acc = np.zeros(n)
        for b in range(B):  # fixed order over samples: same sum at any thread count
            y = Y[b, j]
            for i in range(n):
                acc[i] += y * R[b, i]
        for i in range(n):
            d = acc[i] * inv_b
            if d > clamp:
                d = clamp
            elif d < -clamp:
                d = -clamp
            M[j, i] = momentum * M[j, i] + (1.0 - momentum) * d
            H[j, i] += lr * M[j, i]


@njit(cache=True)
def oja_subspace_iterations(H: np.ndarray, M: np.ndarray, X: np.ndarray, n_frozen: int, lr: float, momentum: float,
                            clamp: float, iterations: int, steps: int, scale: float) -> None:
    """``iterations`` Oja-subspace steps on the batch ``X`` (B, n), in place on ``H`` and ``M`` (k, n).

    Rows ``0 .. n_frozen−1`` are frozen (used in Y and R, never updated). ``steps`` = 0: non-spiking lateral
    neurons; > 0: outputs quantised over ``steps`` time steps with range ±``scale``. Equations: module docstring.
    """
    B = X.shape[0]
    k, n = H.shape
    Y = np.empty((B, k))
    R = np.empty((B, n))
    for _ in range(iterations):
        lateral_outputs(X, H, steps, scale, Y)
        _residual(X, Y, H, R)
        _update_rows(Y, R, H, M, n_frozen, lr, momentum, clamp)


@njit(cache=True, parallel=True)
def project_out_rows(G: np.ndarray, Hf: np.ndarray, out: np.ndarray) -> None:
    """``out = G − (G Hfᵀ) Hf`` for G (m, n), Hf (r, n): removes from each row of G its component in the row
    space of Hf (the exact orthogonal projection when the rows of Hf are orthonormal). ``out`` may be ``G``."""
    m, n = G.shape
    r = Hf.shape[0]
    for a in prange(m):
        c = np.empty(r)
        for j in range(r):
            acc = 0.0
            for i in range(n):
                acc += G[a, i] * Hf[j, i]
            c[j] = acc
        row = np.empty(n)
        for i in range(n):
            row[i] = G[a, i]
        for j in range(r):
            cj = c[j]
            for i in range(n):
                row[i] -= cj * Hf[j, i]
        for i in range(n):
            out[a, i] = row[i]
