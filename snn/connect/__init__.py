"""Seeded connectivity builders returning CSR :class:`~snn.model.connectivity.Connectivity`.

Random builders take a keyword ``seed`` and give bit-identical results at any numba thread count.
See :mod:`snn.connect.builders` for details (memory is O(synapses) throughout).
"""

from snn.connect.builders import (
    BLOCK_ROWS,
    all_to_all,
    distance_dependent,
    fixed_indegree,
    fixed_outdegree,
    fixed_probability,
    from_dense,
    from_pairs,
    grid_positions,
    one_to_one,
)

__all__ = [
    "BLOCK_ROWS", "all_to_all", "distance_dependent", "fixed_indegree", "fixed_outdegree", "fixed_probability",
    "from_dense", "from_pairs", "grid_positions", "one_to_one",
]
