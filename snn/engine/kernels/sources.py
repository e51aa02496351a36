"""Spike sources: Poisson (Bernoulli per step, Brian2's PoissonGroup) and explicit spike times."""

from __future__ import annotations

import math

from numba import njit

from snn.rng import uniform

#: a gap this long never ends within a run (and stays far from int64 overflow)
_NEVER = 2**62


@njit(cache=True)
def poisson_step(b, g0, n, prob, p0, rng, fired, nf):
    """Each source i spikes with probability ``prob[p0 + i]`` (= rate·dt) this step."""
    for i in range(n):
        if uniform(rng, b) < prob[p0 + i]:
            fired[nf] = g0 + i
            nf += 1
    return nf


@njit(cache=True, inline="always")
def _gap(rng, b, log_q):
    """Trials up to and including the next success of Bernoulli(p) trials: 1 + floor(log(u) / log(1 - p))."""
    x = math.log(1.0 - uniform(rng, b)) / log_q  # u in (0, 1]
    return 1 + (math.floor(x) if x < _NEVER else _NEVER)


@njit(cache=True)
def poisson_uniform_step(t, b, g0, n, prob, p0, nxt, k, rng, fired, nf):
    """Sources that all spike with probability ``p = prob[p0]`` per step (``prob[p0 + 1] = log(1 - p)``).

    The (step, source) pairs are Bernoulli(p) trials in the order t·n + i; successive successes are
    geometric gaps apart, so a step costs one draw per spike instead of one per source (the same
    distribution as :func:`poisson_step`, a different use of the random stream). ``nxt[k]`` holds the
    position of the next success; negative before the first step of a run.
    """
    if prob[p0] <= 0.0:
        return nf
    log_q = prob[p0 + 1]
    pos = nxt[k]
    if pos < 0:
        pos = t * n + _gap(rng, b, log_q) - 1
    end = (t + 1) * n
    base = t * n
    while pos < end:
        fired[nf] = g0 + (pos - base)
        nf += 1
        pos += _gap(rng, b, log_q)
    nxt[k] = pos
    return nf


@njit(cache=True)
def spike_times_step(t, b, g0, ptr, idx, fired, nf):
    """Emit the precomputed spikes of step t: ``idx[ptr[row, t]:ptr[row, t + 1]]`` (row = trial or 0)."""
    row = b if ptr.shape[0] > 1 else 0
    for k in range(ptr[row, t], ptr[row, t + 1]):
        fired[nf] = g0 + idx[k]
        nf += 1
    return nf
