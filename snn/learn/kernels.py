"""Numba kernels of the spiking MLP: integrate-and-fire layers over T steps, event-driven between layers.

Arrays in, arrays out. Each sample of a batch is computed by one ``prange`` iteration with a serial inner loop in
a fixed order, so the spikes do not depend on the number of numba threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def if_constant_input(current: np.ndarray, steps: int, threshold: float, spikes: np.ndarray) -> None:
    """IF neurons driven by the same current every step (an image repeated over T steps).

    ``current`` (B, n); ``spikes`` (B, T, n) uint8 out. Per step: ``v += I``; spike where ``v >= threshold``;
    soft reset ``v -= threshold`` (Meng et al. 2022, DSR; the HLOP pilot's IF neuron). ``v(0) = 0``.
    """
    B, n = current.shape
    for b in prange(B):
        v = np.zeros(n)
        for t in range(steps):
            for i in range(n):
                v[i] += current[b, i]
                if v[i] >= threshold:
                    spikes[b, t, i] = 1
                    v[i] -= threshold
                else:
                    spikes[b, t, i] = 0


@njit(cache=True, parallel=True)
def if_spike_input(spikes_in: np.ndarray, weights_t: np.ndarray, threshold: float, spikes: np.ndarray) -> None:
    """IF neurons driven by the spikes of the layer below, delivered event by event.

    ``spikes_in`` (B, T, n_in) uint8; ``weights_t`` (n_in, n_out), the transposed weight matrix (row j: the
    weights out of input j); ``spikes`` (B, T, n_out) out. Step t: ``v += sum_j s_j(t) W[:, j]`` in increasing
    j, then threshold and soft reset as :func:`if_constant_input`.
    """
    B, T, n_in = spikes_in.shape
    n_out = weights_t.shape[1]
    for b in prange(B):
        v = np.zeros(n_out)
        for t in range(T):
            for j in range(n_in):
                if spikes_in[b, t, j]:
                    for i in range(n_out):
                        v[i] += weights_t[j, i]
            for i in range(n_out):
                if v[i] >= threshold:
                    spikes[b, t, i] = 1
                    v[i] -= threshold
                else:
                    spikes[b, t, i] = 0
