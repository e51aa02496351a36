"""``snn hw``: the hardware passes on a network config, one verb each (check, map, emulate, estimate, export).

Every verb reads a network TOML (the one ``snn run`` reads) and a target (a preset name from ``configs/targets/``
or a TOML path):

- ``snn hw check NET.toml --target T [--fit] [--json]``: every violated rule; exit 0 when it fits, 1 when not;
- ``snn hw map NET.toml --target T [--json PATH]``: placement, scales and the mapping report;
- ``snn hw emulate NET.toml --target T --out REC.h5 [--t-s S]``: the mapped network with the target's arithmetic
  and non-idealities (:mod:`hardware.emulate`), written as a recording that ``snn info`` / ``snn plot`` read;
- ``snn hw estimate NET.toml --target T [--rate HZ] [--json]``: units, memory, latency, energy;
- ``snn hw export NET.toml --target T --out DIR``: the target's files (RRAM conductance maps, FPGA ``.mem`` files
  and manifest) and the mapped network as NIR.

Nothing is imported from here at ``snn``'s start-up beyond argparse: the commands import what they use.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

#: ``snn hw check`` exit code when the network does not fit (bad input stays the CLI's 2)
EXIT_DOES_NOT_FIT = 1


def register(sub: Any) -> None:
    """Add the ``hw`` command and its verbs to the ``snn`` parser's subparsers ``sub``."""
    hw = sub.add_parser("hw", help="hardware targets: check, map, emulate, estimate, export a network config")
    verbs = hw.add_subparsers(dest="hw_command", required=True)

    def verb(name: str, text: str) -> argparse.ArgumentParser:
        p = verbs.add_parser(name, help=text)
        p.add_argument("config", type=Path, help="network TOML (as for 'snn run')")
        p.add_argument("--target", required=True, help="preset name (configs/targets/) or a target TOML path")
        return p

    p = verb("check", "list every design rule the network breaks on the target (exit 1 if any)")
    p.add_argument("--fit", action="store_true", help="rescale or split where legal and report what changed")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_check)

    p = verb("map", "place and quantise the network on the target; print the mapping report")
    p.add_argument("--seed", type=int, default=0, help="seed of stochastic rounding (if the target uses it)")
    p.add_argument("--json", type=Path, default=None, help="also write the report to this JSON file")
    p.set_defaults(func=_cmd_map)

    p = verb("emulate", "run the mapped network with the target's arithmetic and non-idealities; write HDF5")
    p.add_argument("--out", type=Path, required=True, help="HDF5 recording (as written by 'snn run')")
    p.add_argument("--seed", type=int, default=None, help="engine, programming and read-noise seed "
                                                           "(default: simulation.seed)")
    p.add_argument("--trials", type=int, default=None, help="overrides simulation.trials")
    p.add_argument("--duration", type=float, default=None, help="seconds; overrides simulation.duration")
    p.add_argument("--t-s", type=float, default=0.0, help="RRAM: seconds between programming and reading (drift)")
    p.add_argument("--no-read-noise", action="store_true", help="RRAM: read without read noise")
    p.add_argument("--no-adc", action="store_true", help="RRAM: read without the ADC grid")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_emulate)

    p = verb("estimate", "units, memory, latency and energy per step on the target (first-order model)")
    p.add_argument("--rate", type=float, default=10.0, help="assumed mean firing rate of every presynaptic unit (Hz)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a summary")
    p.set_defaults(func=_cmd_estimate)

    p = verb("export", "write the target's files and the mapped network as NIR into a directory")
    p.add_argument("--out", type=Path, required=True, help="output directory (created if missing)")
    p.add_argument("--seed", type=int, default=0, help="RRAM programming seed of the exported conductances")
    p.add_argument("--t-s", type=float, default=None, help="RRAM: export conductances read at this time (s); "
                                                           "default: the programmed targets, without noise")
    p.set_defaults(func=_cmd_export)


def _load(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from hardware.targets import load_target
    from snn.io.config import load_config

    net, settings = load_config(args.config, seed=getattr(args, "seed", None), trials=getattr(args, "trials", None),
                                duration=getattr(args, "duration", None))
    return net, settings, load_target(args.target)


def _mapped(args: argparse.Namespace) -> tuple[Any, Any]:
    from hardware.check import TargetViolation
    from hardware.mapping import map_network
    from snn.errors import ConfigError

    net, settings, target = _load(args)
    try:
        return map_network(net, target, seed=args.seed if args.seed is not None else settings.seed), settings
    except TargetViolation as exc:  # already one line listing every rule; the CLI's bad-input form
        raise ConfigError("hw.target", target.name, f"the network does not fit: {exc}") from None


def _cmd_check(args: argparse.Namespace) -> int:
    from hardware.check import check

    net, _, target = _load(args)
    report = check(net, target, fit=args.fit)
    if args.json:
        print(json.dumps({"target": report.target, "fits": report.ok, "changes": list(report.changes),
                          "violations": [_json_safe(dataclasses.asdict(v)) for v in report.violations]},
                         indent=2, default=str))
    else:
        for line in report.changes:
            print(f"fit: {line}")
        for v in report.violations:
            print(v)
        print(f"{net.name} on {target.name}: " + ("fits" if report.ok else f"{len(report.violations)} violation(s)"),
              file=sys.stderr)
    return 0 if report.ok else EXIT_DOES_NOT_FIT


def _json_safe(value: Any) -> Any:
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _cmd_map(args: argparse.Namespace) -> int:
    from snn.errors import ConfigError
    from snn.io.atomic import write_json

    if args.json is not None and not args.json.parent.is_dir():  # before any work, as every output of the CLI
        raise ConfigError("hw.map.json", str(args.json), "its directory does not exist")
    mapped, _ = _mapped(args)
    cores = sorted({c.core for c in mapped.placement})
    summary = {"network": mapped.network.name, "target": mapped.target.name, "cores_used": len(cores),
               "tiles_used": len(mapped.tiles), "scales_mv_per_unit": mapped.scales,
               "changes": list(mapped.check.changes), "report": mapped.report}
    summary = _json_safe(summary)
    if args.json is not None:
        write_json(args.json, summary)
    print(json.dumps(summary, indent=2))
    return 0


def _cmd_emulate(args: argparse.Namespace) -> int:
    from hardware.emulate import emulate
    from snn.io.hdf5 import HDF5Sink, load_recording

    sink = HDF5Sink(args.out)  # checks the output path before any work
    mapped, settings = _mapped(args)
    path = emulate(mapped, settings.duration, trials=settings.trials, seed=settings.seed, t_s=args.t_s,
                   read_noise=not args.no_read_noise, adc=not args.no_adc, sink=sink, progress=not args.no_progress)
    rec = load_recording(path)
    print(f"{mapped.network.name} emulated on {mapped.target.name}: {rec.n_spikes} spikes in "
          f"{settings.trials} trial(s) of {settings.duration:g} s; wrote {path}", file=sys.stderr)
    return 0


def _cmd_estimate(args: argparse.Namespace) -> int:
    from hardware.estimate import estimate

    net, _, target = _load(args)
    est = _json_safe(estimate(net, target, rate_hz=args.rate))
    if args.json:
        print(json.dumps(est, indent=2))
        return 0
    for key in ("target", "neurons", "synapses", "cores_used", "tiles_used", "memory_bits", "latency_per_step_s",
                "realtime_factor", "energy_per_step_j", "energy_per_synop_j"):
        if est.get(key) is not None:
            value = est[key]
            print(f"{key:<22}{value:.4g}" if isinstance(value, float) else f"{key:<22}{value}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from hardware.export import export_fpga, export_rram
    from hardware.nir_export import write_nir
    from hardware.rram import program
    from hardware.targets import FPGAFixed, RRAMCrossbar
    from snn.errors import ConfigError

    if args.out.exists() and not args.out.is_dir():
        raise ConfigError("hw.export.out", str(args.out), "exists and is not a directory")
    if args.t_s is not None and not (math.isfinite(args.t_s) and args.t_s >= 0):  # before the directory is made
        raise ConfigError("hw.export.t_s", args.t_s, "must be a finite number of seconds >= 0")
    mapped, _ = _mapped(args)
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    if isinstance(mapped.target, RRAMCrossbar):
        obj = mapped if args.t_s is None else program(mapped, seed=args.seed)
        written.append(export_rram(obj, args.out / "conductances.h5", t_s=args.t_s))
    elif isinstance(mapped.target, FPGAFixed):
        written.append(export_fpga(mapped, args.out / "fpga"))
    nir_path = args.out / "network.nir"
    write_nir(mapped.network, str(nir_path))
    written.append(nir_path)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0
