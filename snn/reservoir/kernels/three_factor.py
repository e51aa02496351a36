"""Numba kernel of the error-modulated, gated three-factor readout rule (:mod:`snn.reservoir.three_factor`).

Arrays in, arrays out (updated in place where named); float64 state. For every sample ``s`` in order, with
presynaptic traces ``r = R[s]`` (n,), target ``y = Y[s]`` (m,) and gate ``g = G[s]``:

.. code-block:: text

    z = Wᵀ r                                   (a-priori output, written to Z[s])
    M = y − z                                  (error: the modulatory third factor)
    D = η g (r Mᵀ − λ W)                       (n × m)
    online (accumulate = False):   W ← W + D
    offline (accumulate = True):   A ← A + D   (W frozen; applied later by consolidation)

Samples with ``g == 0`` skip the update (D = 0 exactly). Loops run in a fixed order on one thread, so the
result does not depend on the number of numba threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def three_factor_run(W: np.ndarray, A: np.ndarray, R: np.ndarray, Y: np.ndarray, G: np.ndarray, eta: float,
                     decay: float, accumulate: bool, Z: np.ndarray) -> None:
    """Sequential updates over the rows of ``R`` (S, n), ``Y`` (S, m), ``G`` (S,); ``Z`` (S, m) receives the
    a-priori outputs. ``W`` (n, m) is updated in place when ``accumulate`` is false, else ``A`` (n, m)."""
    n = W.shape[0]
    m = W.shape[1]
    err = np.empty(m)
    for s in range(R.shape[0]):
        for o in range(m):
            acc = 0.0
            for i in range(n):
                acc += W[i, o] * R[s, i]
            Z[s, o] = acc
            err[o] = Y[s, o] - acc
        g = G[s]
        if g == 0.0:
            continue
        step = eta * g
        if accumulate:
            for i in range(n):
                ri = R[s, i]
                for o in range(m):
                    A[i, o] += step * (ri * err[o] - decay * W[i, o])
        else:
            for i in range(n):
                ri = R[s, i]
                for o in range(m):
                    W[i, o] += step * (ri * err[o] - decay * W[i, o])
