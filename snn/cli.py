"""The ``snn`` command: ``snn run``, ``snn info``, ``snn plot``, ``snn reservoir``, ``snn study``, ``snn nir``,
``snn hw`` (:mod:`hardware.cli`).

Bad input ends with one line on stderr (``error: <key path> = <value>: <constraint>``) and exit code 2,
and leaves no output file behind.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from snn.errors import ConfigError

EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `snn info run.h5 | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="snn", description="Spiking-network simulator (numba), validated against Brian2.")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="build a network from a TOML config, run it, write an HDF5 recording")
    run.add_argument("config", type=Path)
    run.add_argument("--out", type=Path, default=None, help="HDF5 file (default: <config stem>.h5)")
    run.add_argument("--seed", type=int, default=None, help="overrides simulation.seed")
    run.add_argument("--trials", type=int, default=None, help="overrides simulation.trials")
    run.add_argument("--duration", type=float, default=None, help="seconds; overrides simulation.duration")
    run.add_argument("--no-learning", action="store_true",
                     help="plasticity rules off, weights as in the config (overrides simulation.learning)")
    run.add_argument("--no-progress", action="store_true")
    run.set_defaults(func=_cmd_run)

    info = sub.add_parser("info", help="summarise a recording: populations, spike counts, rates")
    info.add_argument("recording", type=Path)
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.set_defaults(func=_cmd_info)

    plot = sub.add_parser("plot", help="raster plot with a population-rate histogram")
    plot.add_argument("recording", type=Path)
    plot.add_argument("--raster", type=Path, required=True, help="output image (PNG)")
    plot.add_argument("--trial", type=int, default=0)
    plot.add_argument("--bin", type=float, default=5e-3, help="histogram bin in seconds")
    plot.set_defaults(func=_cmd_plot)

    res = sub.add_parser("reservoir", help="a reservoir study from a TOML config: encode events, run the reservoir, "
                                           "fit and test the readout, write report.json, confusion.png, raster.png")
    res.add_argument("config", type=Path)
    res.add_argument("--out", type=Path, default=None, help="output directory (default: results/<config stem>)")
    res.add_argument("--no-progress", action="store_true")
    res.set_defaults(func=_cmd_reservoir)

    st = sub.add_parser("study", help="a continual-learning study from a TOML config: methods x seeds over a task "
                                      "stream on Dask, resumable; writes summary.json and report PNGs")
    st.add_argument("config", type=Path)
    st.add_argument("--out", type=Path, default=None,
                    help="output directory (default: study.out, else results/<config stem>); rerun to resume")
    st.add_argument("--scheduler", default=None,
                    help="tcp://HOST:PORT of a Dask scheduler (default: an in-process LocalCluster); "
                         "'serial' runs everything in this process")
    st.add_argument("--no-progress", action="store_true")
    st.set_defaults(func=_cmd_study)

    nirp = sub.add_parser("nir", help="NIR graphs (neuroir.org): 'snn nir run GRAPH.nir --dt S --input IN.npy "
                                      "--out OUT.npz' runs a graph on a (time x channels) spike-count array")
    nsub = nirp.add_subparsers(dest="nir_command", required=True)
    nrun = nsub.add_parser("run", help="run a NIR graph; writes the spikes of each neuron node, keyed by node name")
    nrun.add_argument("graph", type=Path)
    nrun.add_argument("--dt", type=float, required=True, help="time step in seconds (NIR files carry none)")
    nrun.add_argument("--input", type=Path, required=True, help=".npy array (time steps x channels) of spike counts")
    nrun.add_argument("--record", action="append", default=None,
                      help="neuron or Output node to record (repeatable; default: every spiking node)")
    nrun.add_argument("--out", type=Path, required=True, help=".npz file: one (time, neurons) bool array of spikes "
                                                              "per node (NODE.v: membrane of non-spiking nodes)")
    nrun.add_argument("--discretization", choices=("exact", "euler"), default="exact",
                      help="how a NIR step is read: exact ODE solution or forward Euler (Norse, snnTorch)")
    nrun.add_argument("--reset", choices=("value", "subtract"), default=None,
                      help="reset of spiking nodes (default: NIR's reset to v_reset)")
    nrun.set_defaults(func=_cmd_nir)

    from hardware.cli import register as register_hardware  # argparse only; the verbs import what they use

    register_hardware(sub)
    return p


def _cmd_run(args: argparse.Namespace) -> int:
    import time

    from snn.engine import Simulator
    from snn.io.config import load_config
    from snn.io.hdf5 import HDF5Sink

    t0 = time.perf_counter()
    net, settings = load_config(args.config, seed=args.seed, trials=args.trials, duration=args.duration)
    built_s = time.perf_counter() - t0
    out = args.out if args.out is not None else Path(args.config.stem + ".h5")
    sink = HDF5Sink(out)  # checks the output path before any work
    sim = Simulator(net, dtype=settings.dtype)
    print(f"{net.name}: {sum(p.size for p in net.populations)} neurons, {net.n_synapses} synapses, "
          f"{settings.trials} trial(s), {settings.duration:g} s at dt = {net.dt:g} s (built in {built_s:.2f} s)",
          file=sys.stderr)
    path = sim.run(settings.duration, trials=settings.trials, seed=settings.seed, sink=sink,
                   progress=not args.no_progress, learning=settings.learning and not args.no_learning)
    from snn.io.hdf5 import load_recording

    rec = load_recording(path)
    print(f"wrote {path}: {rec.n_spikes} spikes, loop {rec.timings['loop_s']:.3f} s "
          f"(compile {rec.timings['compile_s']:.2f} s, engine setup {rec.timings['build_s']:.2f} s)", file=sys.stderr)
    return 0


def _summary(path: Path) -> dict[str, Any]:
    from snn.io.hdf5 import load_recording

    rec = load_recording(path)
    pops = {}
    for name, size in rec.sizes.items():
        counts = rec.spike_counts.get(name, np.zeros(rec.trials, np.int64))
        pops[name] = {
            "kind": "neurons" if name in rec.neuron_populations else "input",
            "size": size,
            "spikes": int(counts.sum()),
            "rate_hz_mean": float(counts.mean() / (size * rec.duration)) if rec.duration else 0.0,
            "recorded": sorted(k for k, d in (("spikes", rec.spikes), ("rates", rec.rates), ("states", rec.states))
                               if name in d),
        }
    weights = {}
    for name in sorted(set(rec.final_weights) | set(rec.weights)):
        entry: dict[str, Any] = {"snapshots": int(rec.weights[name].shape[1]) if name in rec.weights else 0}
        if name in rec.final_weights:
            final = rec.final_weights[name]
            entry.update(synapses=int(final.shape[1]), final_mean=float(final.mean()) if final.size else 0.0,
                         final_min=float(final.min()) if final.size else 0.0,
                         final_max=float(final.max()) if final.size else 0.0)
        weights[name] = entry
    meta = rec.metadata
    return {"file": str(path), "network": meta.get("network", {}).get("name"), "dt_s": rec.dt,
            "duration_s": rec.duration, "trials": rec.trials, "seed": meta.get("seed"), "dtype": meta.get("dtype"),
            "snn_version": meta.get("snn_version"), "learning": meta.get("learning"),
            "synaptic_events": int(rec.synaptic_events.sum()),
            "timings": rec.timings, "populations": pops, "weights": weights}


def _cmd_info(args: argparse.Namespace) -> int:
    s = _summary(args.recording)
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    print(f"{s['file']}: network {s['network']!r}, {s['duration_s']:g} s at dt {s['dt_s']:g} s, "
          f"{s['trials']} trial(s), seed {s['seed']}, {s['dtype']}, snn {s['snn_version']}"
          + ("" if s["learning"] is None else f", learning {'on' if s['learning'] else 'off'}"))
    print(f"{'population':<16}{'kind':<9}{'size':>9}{'spikes':>12}{'rate (Hz)':>11}  recorded")
    for name, p in s["populations"].items():
        print(f"{name:<16}{p['kind']:<9}{p['size']:>9}{p['spikes']:>12}{p['rate_hz_mean']:>11.3f}  "
              f"{', '.join(p['recorded']) or '-'}")
    for name, w in s["weights"].items():
        final = (f"final weights mean {w['final_mean']:.6g} (min {w['final_min']:.6g}, max {w['final_max']:.6g}) "
                 f"over {w['synapses']} synapses; " if "final_mean" in w else "")
        print(f"projection {name}: {final}{w['snapshots']} snapshot(s)")
    t = s["timings"]
    print(f"synaptic events {s['synaptic_events']}; loop {t.get('loop_s', 0):.3f} s, "
          f"compile {t.get('compile_s', 0):.2f} s, engine setup {t.get('build_s', 0):.2f} s")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from snn.io.hdf5 import load_recording
    from snn.io.plot import raster

    rec = load_recording(args.recording)
    path = raster(rec, args.raster, trial=args.trial, bin_s=args.bin)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def _cmd_reservoir(args: argparse.Namespace) -> int:
    from snn.reservoir.config import load_study
    from snn.reservoir.pipeline import run_study

    study = load_study(args.config)  # the whole config is checked before any work
    out = args.out if args.out is not None else Path("results") / args.config.stem
    print(f"{study.name}: {study.spec.n_neurons}-neuron {study.config.get('reservoir', {}).get('kind', 'lsm')} "
          f"on {study.source} ({study.encoder.name} events), {study.readout} readout -> {out}", file=sys.stderr)
    report = run_study(study, out, progress=not args.no_progress)
    print(f"test accuracy {report['accuracy']:.4f} ({report['n_test']} samples; train {report['train_accuracy']:.4f}, "
          f"chance {report['chance']:.3f}); reservoir {report['extract_samples_per_s']:.1f} samples/s; "
          f"wrote {out / 'report.json'}, confusion.png, raster.png", file=sys.stderr)
    return 0


def _cmd_study(args: argparse.Namespace) -> int:
    from snn.continual.config import load_study
    from snn.continual.study import run_study

    study = load_study(args.config)  # the whole config (and the stream's data) is checked before any work
    out = args.out if args.out is not None else Path(study.out) if study.out else Path("results") / args.config.stem
    where = args.scheduler or "an in-process Dask LocalCluster"
    print(f"{study.name}: {len(study.methods)} method(s) x {len(study.seeds)} seed(s) on {study.stream['name']} "
          f"({study.n_tasks} tasks, {study.scenario}-incremental), {study.path} learner, on {where} -> {out}",
          file=sys.stderr)
    summary = run_study(study, out, scheduler=args.scheduler, progress=not args.no_progress)

    def text(stat: dict[str, Any]) -> str:
        if stat["mean"] is None:
            return "n/a"
        return f"{stat['mean']:.2f}" + ("" if stat["std"] is None else f" ± {stat['std']:.2f}")

    for m, v in summary["methods"].items():
        print(f"  {m:<12} ACC {text(v['acc'])} %  BWT {text(v['bwt'])} %  "
              f"({summary['seconds'][m]['mean']:.1f} s per run)", file=sys.stderr)
    print(f"wrote {out / 'summary.json'} and the report PNGs", file=sys.stderr)
    return 0


def _cmd_nir(args: argparse.Namespace) -> int:
    from hardware.nir_import import from_nir, run_nir
    from snn.io.atomic import commit, discard, temporary_path

    if not args.out.parent.is_dir():
        raise ConfigError("nir.out", str(args.out), "its directory does not exist")
    try:
        x = np.load(args.input, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ConfigError("nir.input", str(args.input), f"cannot be read as a .npy array ({type(exc).__name__})"
                          ) from None
    if not isinstance(x, np.ndarray):  # an .npz archive
        raise ConfigError("nir.input", str(args.input), "must be a .npy array (time steps x channels), not an archive")
    graph = from_nir(args.graph, dt=args.dt, discretization=args.discretization, reset=args.reset)
    spikes = run_nir(graph, x, record=args.record)
    tmp = temporary_path(args.out)
    try:
        with open(tmp, "wb") as fh:  # a handle: np.savez would append .npz to the temporary name
            np.savez(fh, **spikes)
        commit(tmp, args.out)
    except BaseException:
        discard(tmp)
        raise
    counts = ", ".join(f"{k} {int(v.sum())}" for k, v in spikes.items())
    print(f"{args.graph}: {x.shape[0]} steps at dt = {args.dt:g} s ({args.discretization}); spikes: {counts}; "
          f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
