"""Sparse connectivity in CSR form: who connects to whom, nothing about weights or delays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn.errors import ConfigError


def frozen_array(values: object, dtype: np.dtype | type, path: str) -> np.ndarray:
    """A read-only view of ``values`` as ``dtype`` (copies only when the dtype differs).

    Descriptions hold arrays through read-only views so no engine or pass can change them in place.
    """
    try:
        arr = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ConfigError(path, values, f"must be convertible to an array of {np.dtype(dtype).name}") from exc
    view = arr.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False)
class Connectivity:
    """CSR connectivity from ``n_pre`` presynaptic to ``n_post`` postsynaptic neurons.

    Synapses of presynaptic neuron ``i`` are ``indices[indptr[i]:indptr[i + 1]]`` (postsynaptic indices,
    sorted ascending within a row). Per-synapse arrays (weights, delays) follow the same order.
    Memory is O(synapses): ``indptr`` int64 (n_pre + 1), ``indices`` int32 (nnz).
    """

    n_pre: int
    n_post: int
    indptr: np.ndarray
    indices: np.ndarray

    def __post_init__(self) -> None:
        for name in ("n_pre", "n_post"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ConfigError(f"connectivity.{name}", value, "must be an integer >= 0")
            object.__setattr__(self, name, int(value))
        indptr = frozen_array(self.indptr, np.int64, "connectivity.indptr")
        indices = frozen_array(self.indices, np.int32, "connectivity.indices")
        if indptr.ndim != 1 or indptr.shape[0] != self.n_pre + 1:
            raise ConfigError("connectivity.indptr", indptr, f"must have shape ({self.n_pre + 1},) = n_pre + 1")
        if indptr[0] != 0 or (indptr.shape[0] > 1 and np.any(np.diff(indptr) < 0)):
            raise ConfigError("connectivity.indptr", indptr, "must start at 0 and be non-decreasing")
        if indices.ndim != 1 or indices.shape[0] != indptr[-1]:
            raise ConfigError("connectivity.indices", indices, f"must have shape ({int(indptr[-1])},) = indptr[-1]")
        if indices.size and (indices.min() < 0 or indices.max() >= self.n_post):
            raise ConfigError("connectivity.indices", indices, f"must lie in [0, n_post={self.n_post})")
        object.__setattr__(self, "indptr", indptr)
        object.__setattr__(self, "indices", indices)

    @property
    def nnz(self) -> int:
        """Number of synapses."""
        return int(self.indptr[-1])

    def pre_indices(self) -> np.ndarray:
        """Presynaptic index of every synapse (int32, length nnz), in CSR order."""
        return np.repeat(np.arange(self.n_pre, dtype=np.int32), np.diff(self.indptr))

    def out_degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    def in_degree(self) -> np.ndarray:
        return np.bincount(self.indices, minlength=self.n_post)

    def to_dense(self, values: np.ndarray | None = None) -> np.ndarray:
        """Dense (n_pre, n_post) matrix, for small networks and tests only."""
        dense = np.zeros((self.n_pre, self.n_post), dtype=np.float64 if values is not None else np.int64)
        np.add.at(dense, (self.pre_indices(), self.indices), 1 if values is None else values)
        return dense
