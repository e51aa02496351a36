"""The input projection shared by the reservoirs: every channel of an input source (e.g. the event channels of
:func:`snn.data.to_input`) onto the reservoir population, each (channel, neuron) pair connected independently.

:func:`channel_projection` is what :func:`snn.reservoir.lsm.input_projection` and
:func:`snn.reservoir.izhikevich.input_projection` build their ``"input"`` projection with, so both reservoirs
draw the same synapses from the same ``(seed, p, channels, targets)``:

- the pairs: :func:`~snn.connect.builders.fixed_probability` with probability ``p`` over ``channels x
  n_targets`` (the first ``n_targets`` neurons of the population; all of them by default), seeded by
  ``subseed(seed, 2)``;
- the weights: the mean of the target neuron (a scalar or one value per neuron), times a unit-mean gamma draw
  (seeded by ``subseed(seed, 3)``) with coefficient of variation ``cv`` (0: the mean itself);
- one delay (whole steps) and one synaptic target for every synapse.
"""

from __future__ import annotations

import numpy as np

from snn.connect.builders import distance_dependent, fixed_probability, grid_positions
from snn.model.connectivity import Connectivity
from snn.model.network import Projection, Source


def subseed(seed: int, k: int) -> int:
    """The ``k``-th independent seed derived from a structure ``seed`` (one per random part of a reservoir)."""
    return int(np.random.SeedSequence([int(seed), k]).generate_state(1)[0])


def channel_projection(source: Source, population: str, n_neurons: int, p: float, seed: int, *,
                       mean_weight: float | np.ndarray, cv: float = 0.0, delay_steps: int = 0,
                       target: str = "exc", n_targets: int | None = None,
                       connectivity: Connectivity | None = None) -> Projection:
    """Projection ``"input"`` from every channel of ``source`` onto ``population`` (``n_neurons`` neurons).

    ``p``: probability of each (channel, target neuron) pair; ``n_targets``: only neurons ``[0, n_targets)``
    receive input (default: all). ``connectivity``: the synapses themselves, instead of drawing them with ``p``
    (e.g. :func:`topographic`). ``mean_weight``: a number, or an array of ``n_neurons`` means by target
    neuron; ``cv`` > 0 spreads every weight by a gamma draw of mean 1. ``delay_steps``: whole steps of the
    network's ``dt``. ``target``: the synaptic variable the weights add to. The caller checks its arguments.
    """
    if connectivity is not None:
        conn = connectivity
    else:
        n_post = n_neurons if n_targets is None else int(n_targets)
        conn = fixed_probability(source.size, n_post, p, seed=subseed(seed, 2))
        if n_post != n_neurons:  # the same rows, as columns of the whole population
            conn = Connectivity(source.size, n_neurons, conn.indptr, conn.indices)
    rng = np.random.default_rng(subseed(seed, 3))
    mean = np.asarray(mean_weight, dtype=np.float64)
    if mean.ndim:
        mean = mean[conn.indices]
    if cv > 0:
        shape = 1.0 / cv**2
        weights: float | np.ndarray = rng.gamma(shape, 1.0 / shape, conn.nnz) * mean
    else:
        weights = float(mean) if mean.ndim == 0 else mean
    return Projection(source.name, population, conn, weights=weights, delays=int(delay_steps), target=target,
                      name="input")


def topographic(sensor_size: tuple[int, int, int], grid: tuple[int, int, int], p: float, lam_px: float,
                seed: int) -> Connectivity:
    """Input synapses from an event sensor's channels onto a 3-D neuron grid, laid over the sensor.

    The neuron at grid point ``(x, y, z)`` is centred on sensor pixel ``((x + 0.5) W / nx - 0.5,
    (y + 0.5) H / ny - 0.5)``, the same centre for every ``z`` (a column of ``nz`` neurons per place). Channel
    ``(p * H + y) * W + x`` (any polarity) connects to it with probability ``p * exp(-(d / lam_px)**2)``, ``d``
    the distance in sensor pixels (:func:`snn.connect.distance_dependent`, exact, no cutoff): each neuron sees a
    local patch of the image, and neighbours on the grid see neighbouring patches.
    """
    w, h, n_pol = sensor_size
    ch = np.arange(w * h * n_pol)
    pre = np.stack([ch % w, (ch // w) % h], axis=1).astype(np.float64)
    pos = grid_positions(grid)
    post = np.stack([(pos[:, 0] + 0.5) * w / grid[0] - 0.5, (pos[:, 1] + 0.5) * h / grid[1] - 0.5], axis=1)
    return distance_dependent(pre, post, p, lam_px, seed=subseed(seed, 2), allow_autapses=True)
