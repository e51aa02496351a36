"""Numba kernel that bins recorded spikes into per-trial, per-bin, per-neuron counts (the ``"counts"``
features of :mod:`snn.reservoir.features`). Integer counts, so the result is the same at any thread count."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def add_counts(trial: np.ndarray, neuron: np.ndarray, step: np.ndarray, bin_steps: int, counts: np.ndarray) -> None:
    """``counts[trial[i], step[i] // bin_steps, neuron[i]] += 1`` for every spike ``i``, in place.

    ``trial`` must be ascending (the engine hands spikes over trial by trial); each trial's slice is counted by
    one thread, so no two threads write to one row. ``counts``: int64 (trials, bins, neurons).
    """
    starts = np.searchsorted(trial, np.arange(counts.shape[0] + 1))
    for b in prange(counts.shape[0]):
        rows = counts[b]
        for i in range(starts[b], starts[b + 1]):
            rows[step[i] // bin_steps, neuron[i]] += 1
