"""Figures of a continual-learning study (matplotlib, Agg backend, each PNG written atomically).

- ``accuracy_<method>.png``: the accuracy matrix ``R[i, j]`` (percent; rows: after training task i, columns:
  test task j) averaged over the seeds, each cell annotated.
- ``acc_bwt.png``: per method, ACC and BWT (Lopez-Paz & Ranzato 2017; percent) as bars at the mean over seeds,
  error bars ± the sample standard deviation (none for a single seed), each seed's value as a dot.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from snn.continual.metrics import accuracy, backward_transfer
from snn.io.plot import save_figure

__all__ = ["acc_bwt_bars", "accuracy_heatmap", "write_report"]


def _save(fig: Any, target: Path) -> Path:
    return save_figure(fig, target, dpi=110)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def accuracy_heatmap(R: np.ndarray, path: str | os.PathLike[str], title: str = "") -> Path:
    """Heatmap of ``R`` (fractions, T x T) in percent, annotated, to ``path`` (PNG)."""
    plt = _pyplot()
    M = 100.0 * np.asarray(R, dtype=np.float64)
    T = M.shape[0]
    size = 2.5 + 0.45 * T
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    im = ax.imshow(M, cmap="viridis", vmin=0, vmax=100)
    for i in range(T):
        for j in range(M.shape[1]):
            ax.text(j, i, f"{M[i, j]:.0f}", ha="center", va="center", fontsize=7,
                    color="black" if M[i, j] > 60 else "white")
    ax.set_xticks(range(M.shape[1]))
    ax.set_yticks(range(T))
    ax.set_xlabel("test task j")
    ax.set_ylabel("after training task i")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="accuracy (%)")
    fig.tight_layout()
    return _save(fig, Path(path))


def acc_bwt_bars(per_method: dict[str, tuple[Sequence[float], Sequence[float]]], path: str | os.PathLike[str],
                 title: str = "") -> Path:
    """Bars of ACC and BWT (percent) per method: ``per_method[m] = (acc per seed, bwt per seed)``."""
    plt = _pyplot()
    names = list(per_method)
    x = np.arange(len(names))
    fig, axes = plt.subplots(1, 2, figsize=(2.0 + 1.1 * len(names), 4.0))
    for ax, k, label in ((axes[0], 0, "ACC (%)"), (axes[1], 1, "BWT (%)")):
        vals = [np.asarray(per_method[m][k], dtype=np.float64) for m in names]
        mean = np.array([v.mean() for v in vals])
        std = np.array([v.std(ddof=1) if v.size > 1 else 0.0 for v in vals])
        ax.bar(x, mean, yerr=std, capsize=4, color="tab:blue" if k == 0 else "tab:red", alpha=0.7)
        for i, v in enumerate(vals):
            ax.plot(np.full(v.size, x[i]), v, "k.", ms=4)
        ax.set_xticks(x, names, rotation=30, ha="right")
        ax.set_ylabel(label)
        ax.axhline(0.0, color="black", lw=0.8)
    fig.suptitle(title + " (bars: mean over seeds, ± sample sd; dots: seeds)")
    fig.tight_layout()
    return _save(fig, Path(path))


def write_report(out_dir: str | os.PathLike[str], config: Any, results: list[dict[str, Any]]) -> list[Path]:
    """The study's PNGs in ``out_dir`` from :func:`snn.continual.study.run_one` results; returns their paths."""
    out = Path(out_dir)
    paths = []
    bars: dict[str, tuple[list[float], list[float]]] = {}
    for m in config.methods:
        mine = [r for r in results if r["method"] == m]
        if not mine:
            continue
        R = np.mean([r["R"] for r in mine], axis=0)
        seeds = ", ".join(str(r["seed"]) for r in mine)
        paths.append(accuracy_heatmap(R, out / f"accuracy_{m}.png",
                                      f"{m} on {config.stream['name']} (mean over seeds {seeds})"))
        bars[m] = ([100.0 * accuracy(r["R"]) for r in mine],
                   [100.0 * backward_transfer(r["R"]) if r["R"].shape[0] > 1 else 0.0 for r in mine])
    if bars:
        paths.append(acc_bwt_bars(bars, out / "acc_bwt.png", f"{config.name}: {config.stream['name']}"))
    return paths
