"""Spike sources: Poisson (Bernoulli per step, Brian2's PoissonGroup) and explicit spike times."""

from __future__ import annotations

from numba import njit

from snn.rng import uniform


@njit(cache=True)
def poisson_step(b, g0, n, prob, p0, rng, fired, nf):
    """Each source i spikes with probability ``prob[p0 + i]`` (= rate·dt) this step."""
    for i in range(n):
        if uniform(rng, b) < prob[p0 + i]:
            fired[nf] = g0 + i
            nf += 1
    return nf


@njit(cache=True)
def spike_times_step(t, b, g0, ptr, idx, fired, nf):
    """Emit the precomputed spikes of step t: ``idx[ptr[row, t]:ptr[row, t + 1]]`` (row = trial or 0)."""
    row = b if ptr.shape[0] > 1 else 0
    for k in range(ptr[row, t], ptr[row, t + 1]):
        fired[nf] = g0 + idx[k]
        nf += 1
    return nf
