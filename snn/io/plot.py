"""Figures of recordings: spike raster with a population-rate histogram underneath."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from snn.engine.recording import Recording
from snn.errors import ConfigError
from snn.io.atomic import commit, discard, temporary_path

FORMATS = ("png", "pdf", "svg")


def save_figure(fig: object, path: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Write a matplotlib figure to ``path`` atomically (a sibling file, then a rename) in the format of its suffix,
    and close the figure; a failed write leaves nothing behind."""
    import matplotlib.pyplot as plt

    target = Path(path)
    tmp = temporary_path(target)
    try:
        fig.savefig(tmp, dpi=dpi, format=target.suffix.lstrip(".").lower() or "png")
        commit(tmp, target)
    except BaseException:
        discard(tmp)
        raise
    finally:
        plt.close(fig)
    return target


def raster(rec: Recording, path: str | os.PathLike[str], trial: int = 0, bin_s: float = 5e-3,
           max_neurons: int = 2000) -> Path:
    """Write a raster (neurons stacked by population) and the rate histogram (Hz, ``bin_s`` bins) to ``path``.

    Populations larger than ``max_neurons`` show their first ``max_neurons`` neurons (said in the legend);
    the rate histogram always counts every neuron.
    """
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ConfigError("raster", str(path), f"must end in one of {['.' + f for f in FORMATS]}")
    if not target.parent.is_dir():
        raise ConfigError("raster", str(path), f"directory {target.parent} does not exist")
    if not (isinstance(bin_s, (int, float)) and np.isfinite(bin_s) and bin_s > 0):
        raise ConfigError("bin", bin_s, "must be a number of seconds > 0")
    if rec.duration <= 0:
        raise ConfigError("recording.duration_s", rec.duration, "must be > 0 to plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not rec.spikes:
        raise ConfigError("recording.spikes", list(rec.spikes), "has no spike monitor to plot")
    if not 0 <= trial < rec.trials:
        raise ConfigError("trial", trial, f"must be in [0, {rec.trials})")
    fig, (ax_r, ax_h) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    offset = 0
    bins = np.arange(0.0, rec.duration + bin_s, bin_s)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, pop in enumerate(rec.spikes):
        neuron, t = rec.spike_times(pop, trial)
        size = rec.sizes[pop]
        shown = min(size, max_neurons)
        keep = neuron < shown
        color = colors[k % len(colors)]
        label = pop if shown == size else f"{pop} (first {shown} of {size})"
        ax_r.scatter(t[keep], neuron[keep] + offset, s=1.0, marker="|", color=color, label=label)
        counts, _ = np.histogram(t, bins=bins)
        ax_h.plot(bins[:-1] + bin_s / 2, counts / (size * bin_s), color=color, label=pop)
        offset += shown
    ax_r.set_ylabel("neuron")
    ax_r.set_ylim(-0.5, offset - 0.5)
    ax_r.legend(loc="upper right", markerscale=8)
    ax_r.set_title(f"{rec.metadata.get('network', {}).get('name', '')} · trial {trial}")
    ax_h.set_xlabel("time (s)")
    ax_h.set_ylabel("rate (Hz)")
    ax_h.set_xlim(0, rec.duration)
    fig.tight_layout()
    return save_figure(fig, target)


def confusion(matrix: np.ndarray, labels: list[str], path: str | os.PathLike[str], title: str = "") -> Path:
    """Write a confusion matrix (rows: true class, columns: predicted; counts annotated, colour = share of the
    row) to ``path`` (png, pdf or svg)."""
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ConfigError("confusion", str(path), f"must end in one of {['.' + f for f in FORMATS]}")
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(labels):
        raise ConfigError("confusion.matrix", m, f"must be square with one row per label ({len(labels)})")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    size = 2.5 + 0.55 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="share of the true class")
    fig.tight_layout()
    return save_figure(fig, target)
