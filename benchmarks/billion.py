"""Capacity: a 10^9-synapse CUBA network (1M neurons x 1,000 synapses) built and run for 1 s within 24 GiB.

Same model as ``cuba.py`` with p = 1000/N and both weights scaled by 80/1000, so the mean drive (and the
~5.6 Hz rate) matches the k80 protocol. Our engine only: the peer comparison at 1M neurons is ``cuba.py
--scale`` (Brian2 cpp_standalone beside us, same run); this script records what fits in memory and how long it
takes. Prints JSON; ``--json PATH`` also writes it atomically.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from benchmarks.cuba import machine_info, snn_cuba, write_json_atomic


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="neurons")
    ap.add_argument("--k", type=int, default=1000, help="synapses per neuron (p = k / n)")
    ap.add_argument("--duration", type=float, default=1.0, help="biological seconds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    result = snn_cuba(args.n, args.k / args.n, args.duration, 1e-4, args.seed, 0.0, w_scale=80.0 / args.k)
    out = {
        "n": args.n,
        "synapses_per_neuron": args.k,
        "duration_s": args.duration,
        "snn": result,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "wall_s": time.perf_counter() - t0,
        "machine": machine_info(),
    }
    text = json.dumps(out, indent=2, default=str)
    print(text)
    if args.json:
        write_json_atomic(args.json, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
