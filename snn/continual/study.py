"""The continual-learning study runner: methods × seeds over one task stream, on Dask, resumable after a kill.

One run (:func:`run_one`) = one method and one seed, in ``<out>/<method>/seed_<seed>/`` (``@`` written ``+``:
``hlop@rram`` -> ``hlop+rram/``; the layout and restart protocol of :mod:`snn.continual.checkpoint`)::

    rng = default_rng(seed); learner = make_learner(config, method, seed)
    b[j] = evaluate(task j) before any training                        (study.evaluate_before; FWT needs it)
    for t in 0..T-1:
        begin_task(t); train_task(t, rng); end_task(t, rng)
        R[t, j] = evaluate(task j) for every j; one log line per (t, j), then one stream line
        checkpoint t (learner state, rng, R[:t + 1], b, diagnostics, seconds so far)
    results.h5: R, b, per-task diagnostics, summarise(R, b)

Log lines (``log.jsonl``, sorted JSON keys, nothing that differs between runs): ``{"train_task": t, "eval_task": j,
"accuracy": R[t, j], "metric": "Top1_Acc_Exp/eval_phase/test_stream/TaskLLL/ExpJJJ"}`` (``train_task = -1`` for
b), then after each task ``{"train_task": t, "eval_task": -1, <name>: value, ...}`` with the names of
:func:`snn.continual.metrics.avalanche_keys` for ``R[:t + 1]`` (Avalanche's ``StreamForgetting``, ``StreamBWT``,
``StreamForwardTransfer``, ``ExperienceForgetting``, ``Top1_Acc_Stream`` ...). The task label ``LLL`` is the task
id in the task-incremental scenario and 0 otherwise (Avalanche's ``return_task_id``).

Determinism: every run limits BLAS to one thread (``threadpoolctl``), so a run gives the same bits in this
process, in a Dask worker, and after a resume (the rng state, the learner state and the diagnostics so far are in
each checkpoint; the log is cut back to the checkpoint by :func:`snn.continual.checkpoint.resume`). The numba
kernels compute each sample (row) in one thread, so their thread count does not change results.

:func:`run_study` runs every (method, seed) as one Dask task: an in-process ``distributed.LocalCluster``
(``min(2, cores)`` worker processes, one thread each, numba and BLAS limited to one thread per worker) or, with
``scheduler="tcp://HOST:PORT"``, an existing cluster whose workers see ``out`` at the same path;
``scheduler="serial"`` runs them one after another in this process. It then writes ``summary.json`` (per method:
mean ± sample standard deviation over seeds of ACC, BWT, FWT, forgetting ... in percent, and of the run time in
seconds; the configuration; package versions; the git commit) and the report PNGs (:mod:`snn.continual.report`).
A second call with the same ``out`` resumes every unfinished run and recomputes the summary.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import logging
import math
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from snn.continual.checkpoint import read_results, resume, run_dir, save_checkpoint, write_results
from snn.continual.config import HLOP_METHODS, TORCH_FACTORY, StudyConfig, build_stream, torch_module
from snn.continual.metrics import aggregate, avalanche_keys, summarise
from snn.errors import ConfigError

__all__ = ["make_learner", "run_one", "run_study", "study_summary"]

#: metrics of summary.json (percent, from :func:`snn.continual.metrics.summarise`)
SUMMARY_METRICS = ("acc", "bwt", "fwt", "forgetting", "learning_accuracy", "aia")

_STREAMS: dict[str, Any] = {}  # per process: a Dask worker builds each stream once for all its runs


def _stream(config: StudyConfig) -> Any:
    key = json.dumps(config.stream, sort_keys=True)
    if key not in _STREAMS:
        _STREAMS.clear()  # one stream at a time is enough (and they can be large)
        _STREAMS[key] = build_stream(config.stream)
    return _STREAMS[key]


def make_learner(config: StudyConfig, method: str, seed: int) -> Any:
    """The learner of one run: ``config.path`` "local" -> :class:`snn.learn.local.LocalLearner`, "torch" ->
    ``snn.learn.torch_path.make_torch_learner`` (same arguments and protocol; [mlp], plus the [torch] overrides,
    become its TorchConfig). The HLOP rows are seeded with the run's seed."""
    from snn.learn.device import resolve_preset, split_method

    base, preset = split_method(method)
    hlop = replace(config.hlop, seed=int(seed)) if config.hlop is not None and base in HLOP_METHODS else None
    kwargs = {"hlop": hlop, "baselines": config.baselines, "scenario": config.scenario, "seed": int(seed)}
    if config.path == "local":
        from snn.learn.local import LocalLearner

        if preset is not None:  # ``<method>@<preset>``: the weight layers live on that crossbar
            opts = config.device
            kwargs.update(device=opts.profile(resolve_preset(preset, "method")), device_layers=opts.layers or None,
                          device_options=opts)
        return LocalLearner(base, config.mlp, **kwargs)
    if preset is not None:
        raise ConfigError("method", method, "runs on a device only on the local path (study.path = \"local\")")
    module = torch_module()
    mlp: Any = config.mlp
    if config.torch:  # [torch] overrides on top of what the torch config takes from [mlp]
        mlp = module.TorchConfig.from_mlp(config.mlp, **{k: tuple(v) if isinstance(v, list) else v
                                                         for k, v in config.torch.items()})
    return getattr(module, TORCH_FACTORY)(method, mlp, **kwargs)


def _dir_name(method: str) -> str:
    """A run's directory name: ``@`` (a method on a device) becomes ``+`` (``hlop@rram`` -> ``hlop+rram``)."""
    return method.replace("@", "+")


def _metric_name(j: int, label: int) -> str:
    return f"Top1_Acc_Exp/eval_phase/test_stream/Task{label:03d}/Exp{j:03d}"


def _diagnostic_arrays(rows: list[dict[str, Any]], n_tasks: int) -> dict[str, np.ndarray]:
    """``[{"task": t, layer: {figure: value}}]`` -> ``{"<layer>.<figure>": (T,) float64}`` (NaN where absent)."""
    out: dict[str, np.ndarray] = {}
    for row in rows:
        t = int(row["task"])
        for layer, figures in row.items():
            if layer == "task" or not isinstance(figures, dict):
                continue
            for fig, value in figures.items():
                arr = out.setdefault(f"{layer}.{fig}", np.full(n_tasks, np.nan))
                arr[t] = float(value)
    return out


def _jsonable_diagnostics(row: dict[str, Any]) -> dict[str, Any]:
    return {k: ({f: float(v) for f, v in val.items()} if isinstance(val, dict) else int(val)) for k, val in row.items()}


def run_one(config: StudyConfig, method: str, seed: int, out_dir: str | os.PathLike[str],
            progress: bool | Callable[[int], object] = False) -> dict[str, Any]:
    """Train and evaluate one (method, seed) run in ``run_dir(out_dir, method, seed)``, resuming from its last
    checkpoint if there is one (module docstring). ``progress``: True for a tqdm bar (samples), or a callback
    given the number of samples of each mini-batch.

    Returns ``{"method", "seed", "R" (T x T fractions), "b" (or None), "summary" (summarise(R, b), fractions),
    "seconds" (training + evaluation time over all sessions), "directory"}``.
    """
    from threadpoolctl import threadpool_limits

    if method not in config.methods:
        raise ConfigError("method", method, f"must be one of the study's methods {list(config.methods)}")
    with threadpool_limits(limits=1):  # 2-core machines: OpenBLAS threads oversubscribe (and results stay fixed)
        return _run_one(config, method, int(seed), Path(out_dir), progress)


def _run_one(config: StudyConfig, method: str, seed: int, out: Path,
             progress: bool | Callable[[int], object]) -> dict[str, Any]:
    stream = _stream(config)
    T = stream.n_tasks
    labels = [j if config.scenario == "task" else 0 for j in range(T)]
    d = run_dir(out, _dir_name(method), seed)
    fingerprint = config.fingerprint()
    start, state, log = resume(d)
    with log:
        learner = make_learner(config, method, seed)
        R = np.full((T, T), np.nan)
        if state is None:
            rng = np.random.default_rng(seed)
            diagnostics: list[dict[str, Any]] = []
            seconds = 0.0
            b = None
            if config.evaluate_before:
                b = np.array([learner.evaluate(task) for task in stream])
                for j in range(T):
                    log.append(-1, j, accuracy=float(b[j]), metric=_metric_name(j, labels[j]))
        else:
            meta = state.meta
            if meta.get("fingerprint") != fingerprint or meta.get("method") != method or meta.get("seed") != seed:
                raise ConfigError("out", str(out), f"{d} holds checkpoints of another configuration (fingerprint "
                                                   f"{meta.get('fingerprint')}, this one {fingerprint}); use "
                                                   "another output directory")
            learner.load_state(dict(state.learner), seen=list(stream.tasks[:start]))
            rng = state.rng
            R[:start] = state.R
            b = None if state.b is None else np.array(state.b)
            diagnostics = list(meta.get("diagnostics", []))
            seconds = float(meta.get("seconds", 0.0))
        callback, close = _progress(progress, config, stream, method, seed, start)
        try:
            for t in range(start, T):
                t0 = time.perf_counter()
                task = stream[t]
                n_diag = len(learner.diagnostics) if hasattr(learner, "diagnostics") else 0
                learner.begin_task(t, task)
                learner.train_task(t, task, rng, callback)
                learner.end_task(t, task, rng)
                diagnostics += [_jsonable_diagnostics(r) for r in getattr(learner, "diagnostics", [])[n_diag:]]
                for j in range(T):
                    R[t, j] = learner.evaluate(stream[j])
                    log.append(t, j, accuracy=float(R[t, j]), metric=_metric_name(j, labels[j]))
                log.append(t, -1, **avalanche_keys(R[:t + 1], b, labels))
                seconds += time.perf_counter() - t0
                # the log lines of task t are on disk before checkpoint t (checkpoint module docstring)
                save_checkpoint(d, t, learner.state(), rng, R[:t + 1], b=b,
                                meta={"fingerprint": fingerprint, "method": method, "seed": seed,
                                      "diagnostics": diagnostics, "seconds": seconds})
        finally:
            close()
    summary = summarise(R, b)
    write_results(d / "results.h5", R, b, diagnostics=_diagnostic_arrays(diagnostics, T),
                  meta={"method": method, "seed": seed, "fingerprint": fingerprint, "stream": config.stream,
                        "seconds": seconds}, summary=summary)
    return {"method": method, "seed": seed, "R": R, "b": b, "summary": summary, "seconds": seconds,
            "directory": str(d)}


def _progress(progress: bool | Callable[[int], object], config: StudyConfig, stream: Any, method: str, seed: int,
              start: int) -> tuple[Callable[[int], object] | None, Callable[[], None]]:
    if callable(progress):
        return progress, lambda: None
    if not progress:
        return None, lambda: None
    from tqdm import tqdm

    n = [task.X_train.shape[0] for task in stream]
    per_task = [sum(n[:t + 1]) if method.partition("@")[0] == "joint" else n[t] for t in range(len(n))]
    bar = tqdm(total=config.mlp.epochs * sum(per_task[start:]), desc=f"{method} seed {seed}", unit="sample",
               leave=False)
    return bar.update, bar.close


# ----------------------------------------------------------------------------------------------- the study

def _worker_run(config: StudyConfig, method: str, seed: int, out: str, numba_threads: int | None) -> dict[str, Any]:
    """One Dask task: :func:`run_one` with numba limited to ``numba_threads`` (None: unchanged)."""
    if numba_threads is not None:
        import numba

        numba.set_num_threads(max(1, min(numba_threads, numba.config.NUMBA_NUM_THREADS)))
    return run_one(config, method, seed, out, progress=False)


def _run_dask(config: StudyConfig, out: Path, jobs: list[tuple[str, int]], scheduler: str | None,
              progress: bool, n_workers: int | None) -> list[dict[str, Any]]:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        n = n_workers or max(1, min(2, os.cpu_count() or 1))
        env = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"} if n > 1 else {}
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR, env=env)
        client = Client(cluster)
    else:
        import dask

        try:  # connect timeout: dask's distributed.comm.timeouts.connect (30 s by default)
            client = Client(scheduler, timeout=dask.config.get("distributed.comm.timeouts.connect"))
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError("--scheduler", scheduler, f"cannot connect to a Dask scheduler ({exc})") from None
    try:
        threads = sum(client.nthreads().values())
        numba_threads = 1 if threads > 1 else None
        futures = {client.submit(_worker_run, config, m, s, str(out), numba_threads, pure=False): (m, s)
                   for m, s in jobs}
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(jobs), desc=f"{config.name}: runs", unit="run")
        results = []
        try:
            for fut in as_completed(list(futures)):
                results.append(fut.result())
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_study(config: StudyConfig, out_dir: str | os.PathLike[str] | None = None, scheduler: str | None = None,
              progress: bool = True, n_workers: int | None = None) -> dict[str, Any]:
    """Every (method, seed) of ``config``, then ``summary.json`` and the report PNGs in ``out_dir`` (default:
    ``study.out`` or ``results/<name>``). ``scheduler``: None (in-process LocalCluster of ``n_workers``, default
    ``min(2, cores)``), ``"tcp://HOST:PORT"`` (an existing Dask cluster) or ``"serial"`` (this process).
    Returns the summary (module docstring)."""
    if not isinstance(config, StudyConfig):
        raise ConfigError("config", config, "must be a StudyConfig (snn.continual.config.load_study)")
    out = Path(out_dir if out_dir is not None else config.out or Path("results") / config.name).resolve()
    if out.exists() and not out.is_dir():
        raise ConfigError("out", str(out), "must be a directory (it is a file)")
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(m, s) for m in config.methods for s in config.seeds]
    if scheduler == "serial":
        results = [run_one(config, m, s, out, progress=progress) for m, s in jobs]
    else:
        results = _run_dask(config, out, jobs, scheduler, progress, n_workers)
    by_key = {(r["method"], r["seed"]): r for r in results}
    ordered = [by_key[j] for j in jobs]
    summary = study_summary(config, ordered)
    from snn.continual.report import write_report
    from snn.io.atomic import write_json

    write_json(out / "summary.json", summary)
    write_report(out, config, ordered)
    return summary


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def study_summary(config: StudyConfig, results: list[dict[str, Any]]) -> dict[str, Any]:
    """summary.json's content from the results of :func:`run_one` (module docstring). NaN (e.g. the standard
    deviation of one seed) is written as null."""
    methods: dict[str, Any] = {}
    runs: dict[str, Any] = {}
    seconds: dict[str, Any] = {}
    for m in config.methods:
        mine = [r for r in results if r["method"] == m]
        pct = [summarise(100.0 * r["R"], None if r["b"] is None else 100.0 * r["b"]) for r in mine]
        agg = aggregate(pct)
        methods[m] = {k: {"mean": _finite(v["mean"]), "std": _finite(v["std"]), "n": int(v["n"])}
                      for k, v in agg.items() if k in SUMMARY_METRICS}
        runs[m] = {str(r["seed"]): {k: _finite(v) for k, v in p.items() if k in SUMMARY_METRICS}
                   for r, p in zip(mine, pct)}
        secs = np.array([r["seconds"] for r in mine])
        seconds[m] = {"mean": float(secs.mean()), "std": _finite(float(secs.std(ddof=1)) if secs.size > 1 else None),
                      "per_seed": {str(r["seed"]): float(r["seconds"]) for r in mine}}
    return {
        "study": config.name,
        "stream": {**config.stream, "n_tasks": config.n_tasks, "n_classes": config.n_classes,
                   "scenario": config.scenario},
        "units": "acc, bwt, fwt, forgetting, learning_accuracy, aia in percent (mean and sample std over seeds); "
                 "seconds: wall-clock training + evaluation per run",
        "methods": methods,
        "runs": runs,
        "seconds": seconds,
        "seeds": list(config.seeds),
        "path": config.path,
        "fingerprint": config.fingerprint(),
        "config": config.config,
        "versions": _versions(),
        "git": _git(),
    }


def _versions() -> dict[str, str | None]:
    import snn

    out: dict[str, str | None] = {"snn": getattr(snn, "__version__", None)}
    for dist in ("numpy", "numba", "scipy", "h5py", "distributed", "torch", "norse"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _git() -> dict[str, Any] | None:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if sha.returncode != 0:
        return None
    return {"sha": sha.stdout.strip(), "dirty": bool(dirty.stdout.strip()) if dirty.returncode == 0 else None}


def load_run(out_dir: str | os.PathLike[str], method: str, seed: int) -> dict[str, Any]:
    """A finished run's results file (:func:`snn.continual.checkpoint.read_results`)."""
    return read_results(run_dir(out_dir, _dir_name(method), seed, create=False) / "results.h5")
