"""HLOP: Hebbian learning based orthogonal projection (Xiao, Meng, Zhang, He, Lin, ICLR 2024), engine-independent.

- :mod:`snn.hlop.config`: :class:`HLOPConfig` (schedule of subspace neurons per layer and task, Hebbian η,
  momentum, clamp, iterations, spiking lateral neurons, seed) with :meth:`HLOPConfig.from_dict` for TOML.
- :mod:`snn.hlop.subspace`: :class:`Subspace`, one protected layer: ``begin_task`` / ``hebbian_update`` /
  ``end_task`` / ``project_out`` (weight gradients) / ``project_inputs`` (presynaptic traces) / ``state``.
- :mod:`snn.hlop.kernels`: numba kernels of the same Hebbian update and projection (fixed summation order).
- :mod:`snn.hlop.diagnostics`: max|HHᵀ − I|, old-task residual energy, principal angles, convergence warning.

A learner, per layer l with presynaptic traces X (B, n_l) and weight gradient G (m, n_l)::

    subs = cfg.make_subspaces([784, 800, 800]); rng = cfg.rng()
    for t in 1..T:
        for s, k in zip(subs, cfg.k_for_task(t)): s.begin_task(k, rng)
        for each mini-batch:  G_l ← subs[l].project_out(G_l)  (identity in task 1);  subs[l].hebbian_update(X_l)
        for s in subs: s.end_task()

Backend choice (measured 2026-12-07 on the shared 2-core VM, single thread, 5 iterations per batch, float64):
numpy BLAS vs the numba kernel, ms per batch: (B, k, n) = (32, 40, 256) 0.70 vs 2.07; (64, 80, 784) 4.7 vs 26;
(64, 200, 800) 11.9 vs 71; (64, 580 with 510 frozen, 800) 20 vs 184; (128, 6, 27) 0.19 vs 0.15. Results agree to
2e-16. Numpy is therefore the default; the numba kernel is kept for numba learners and bit-reproducibility.
"""

from snn.hlop.config import HLOPConfig
from snn.hlop.diagnostics import (
    ORTHONORMALITY_TOL,
    layer_report,
    orthonormality_error,
    principal_angles,
    residual_energy,
    warn_if_unconverged,
)
from snn.hlop.subspace import BACKENDS, Subspace, oja_subspace_numpy, quantise, random_orthonormal_rows

__all__ = [
    "BACKENDS",
    "ORTHONORMALITY_TOL",
    "HLOPConfig",
    "Subspace",
    "layer_report",
    "oja_subspace_numpy",
    "orthonormality_error",
    "principal_angles",
    "quantise",
    "random_orthonormal_rows",
    "residual_energy",
    "warn_if_unconverged",
]
