"""A reservoir study end to end: encode, run the reservoir, read out, evaluate, report (``snn reservoir``).

:func:`run_study` takes a checked :class:`~snn.reservoir.config.ReservoirStudy` and writes into ``out_dir``:

- ``report.json``: test and training accuracy, the confusion matrix, the chosen regularisation and its
  cross-validation scores, mean firing rate, samples, timings (``extract_samples_per_s``: samples through the
  reservoir per second, feature computation included) and the study's config;
- ``confusion.png``: the test confusion matrix;
- ``raster.png``: the reservoir's spikes for test sample ``report.raster_sample`` with the population rate.

Event sets come from :func:`snn.data.load_event_dataset` (converted once, cached under ``data/cache`` or
``$SNN_DATA_DIR``). Every file is written atomically; the output directory is checked before any work.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from snn.errors import ConfigError
from snn.reservoir.config import ReservoirStudy


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError("out", str(out_dir), "exists and is not a directory")
    parent = out_dir if out_dir.exists() else out_dir.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise ConfigError("out", str(out_dir), f"cannot be written ({parent} is not writable)")


def _readout(study: ReservoirStudy) -> Any:
    if study.readout == "ridge":
        from snn.reservoir.readout import RidgeReadout

        return RidgeReadout(alphas=study.grid, folds=study.folds, seed=study.data_seed)
    from snn.reservoir.logistic import LogisticReadout

    return LogisticReadout(Cs=study.grid, folds=study.folds, seed=study.data_seed)


def _bar(total: int, desc: str, enabled: bool) -> tuple[Callable[[int], object] | None, Callable[[], None]]:
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="sample")
    return bar.update, bar.close


def run_study(study: ReservoirStudy, out_dir: str | os.PathLike[str], progress: bool = True) -> dict[str, Any]:
    """Run ``study`` and write ``report.json``, ``confusion.png`` and ``raster.png`` into ``out_dir``; returns
    the report."""
    from snn.data import load_event_dataset, to_input
    from snn.engine.simulator import Simulator
    from snn.io.atomic import write_json
    from snn.io.plot import confusion, raster
    from snn.reservoir.features import extract_features
    from snn.reservoir.kinds import build_reservoir

    out = Path(out_dir)
    _check_out_dir(out)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    data = {split: load_event_dataset(study.source, split, study.encoder,
                                      n_samples=study.n_train if split == "train" else study.n_test,
                                      seed=study.data_seed, test_fraction=study.test_fraction, progress=progress)
            for split in ("train", "test")}
    timings["load_or_encode_s"] = time.perf_counter() - t0
    train, test = data["train"], data["test"]
    if study.raster_sample >= len(test.events):
        raise ConfigError("report.raster_sample", study.raster_sample, f"must be < {len(test.events)} test samples")
    sensor = train.sensor_size

    def features(events: list[np.ndarray], desc: str) -> np.ndarray:
        update, close = _bar(len(events), desc, progress)
        try:
            return extract_features(study.spec, events, sensor, study.duration_s, study.dt, study.seed,
                                    batch=study.batch, kind=study.feature_kind, bin_s=study.bin_s,
                                    tau_s=study.tau_s, times_s=study.times_s, dtype=study.dtype, progress=update)
        finally:
            close()

    t0 = time.perf_counter()
    X_train = features(list(train.events), "reservoir (train)")
    timings["extract_train_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    X_test = features(list(test.events), "reservoir (test)")
    timings["extract_test_s"] = time.perf_counter() - t0
    y_train, y_test = np.asarray(train.labels), np.asarray(test.labels)

    t0 = time.perf_counter()
    readout = _readout(study).fit(X_train, y_train)
    timings["readout_fit_s"] = time.perf_counter() - t0
    pred = readout.predict(X_test)
    classes = np.unique(np.concatenate([y_train, y_test]))
    index = {c: k for k, c in enumerate(classes.tolist())}
    matrix = np.zeros((classes.size, classes.size), np.int64)
    np.add.at(matrix, ([index[c] for c in y_test.tolist()], [index[c] for c in pred.tolist()]), 1)
    names = train.metadata.get("classes") or classes.tolist()
    labels = [str(names[int(c)]) if isinstance(c, (int, np.integer)) and int(c) < len(names) else str(c)
              for c in classes]

    # one test sample again, recorded, for the raster (same network: same spec, seed and dt; an Izhikevich
    # reservoir's thalamic noise, if any, is trial 0's here)
    sample = test.events[study.raster_sample]
    net = build_reservoir(study.spec, to_input([sample], sensor, "events"), study.dt, study.seed)
    rec = Simulator(net, dtype=study.dtype).run(study.duration_s, trials=1, seed=0)
    out.mkdir(parents=True, exist_ok=True)
    raster(rec, out / "raster.png", trial=0)
    accuracy = float(np.mean(pred == y_test))
    confusion(matrix, labels, out / "confusion.png",
              title=f"{study.name}: test accuracy {accuracy:.3f} ({len(y_test)} samples)")

    n = study.spec.n_neurons
    counts = X_train.sum(axis=1) if study.feature_kind == "counts" else None
    extract_s = timings["extract_train_s"] + timings["extract_test_s"]
    report = {
        "name": study.name,
        "accuracy": accuracy,
        "train_accuracy": float(readout.score(X_train, y_train)),
        "chance": float(np.max(np.bincount(np.searchsorted(classes, y_test))) / len(y_test)),
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "n_neurons": int(n),
        "n_features": int(X_train.shape[1]),
        "classes": labels,
        "confusion": matrix.tolist(),
        "readout": study.readout,
        "regularisation": float(readout.alpha_ if study.readout == "ridge" else readout.C_),
        "cv_scores": [None if not np.isfinite(v) else float(v) for v in readout.cv_scores_],
        "mean_rate_hz": None if counts is None else float(counts.mean() / (n * study.duration_s)),
        "raster_sample": {"index": study.raster_sample, "label": labels[index[y_test[study.raster_sample].item()]],
                          "spikes": int(rec.n_spikes)},
        "timings_s": timings,
        "extract_samples_per_s": float((len(y_train) + len(y_test)) / extract_s) if extract_s > 0 else None,
        "files": {"report": "report.json", "confusion": "confusion.png", "raster": "raster.png"},
        "config": study.config,
        "python": platform.python_version(),
    }
    write_json(out / "report.json", report)
    return report
