"""Joint "what" and "when" prediction by a gated three-factor readout of an Izhikevich reservoir (after Yamada &
Chao, arXiv:2510.14382), against a FORCE/RLS readout trained online on the same traces.

- Paradigm (:class:`snn.reservoir.paradigm.PredictionParadigm`): factorial conditions (outcome identity ×
  latency × probability, one cue each), blocks of shuffled trials, a switch of the statistics mid-session. One
  session has a latency switch, a second one (same cue sequence, same reservoir activity) a probability switch.
- Reservoir: :func:`snn.reservoir.izhikevich.build_izhikevich_reservoir` (heterogeneous Izhikevich 2003 network,
  thalamic noise ``--noise-scale`` × the paper's: 0.3 by default, ours, because with the paper's noise the
  reservoir kept too little timing information for any linear readout) fed by the paradigm's cue input; all
  trials simulated first, ``--batch`` trials per simulator run (the readouts do not feed back). Presynaptic
  traces (:func:`snn.reservoir.trace_series`, τ = ``--tau``) of the excitatory neurons plus one constant feature
  (a bias input) at readout samples every ``--sample-ms`` inside the attention gate; the gate is 1 there, so
  only those samples are kept.
- Readouts: "when" (1 output, online) and "what" (one output per outcome identity, accumulated and consolidated
  after every block) by :class:`snn.reservoir.three_factor.ThreeFactorReadout`; η = ``--eta-norm`` / mean‖r‖²
  (normalised LMS step; ours). Peer: :class:`snn.reservoir.rls.RLS` (exact RLS = FORCE's update, P(0) = p0·I)
  on the same gated samples and targets, without resetting P at the switch, and (``force_reset``) with P reset
  to p0·I at the switch.
- Metrics: per condition the mean a-priori output over the last ``--eval-blocks`` blocks before the switch; its
  peak time vs the true latency (``peak_time_error_ms``: mean |error| over conditions) and peak amplitude vs
  outcome probability (``amplitude_probability_correlation``: Pearson over conditions). Adaptation: per trial,
  the RMS error of the output against the expected target p·bump under the new statistics and under the old
  ones, both smoothed over one block (each condition once); ``*_trials_to_criterion`` = post-switch trials until
  the output is at least as close to the new statistics as to the old ones (``*_trials_to_own_level``: until
  the smoothed error is <= ``--criterion`` × the readout's own pre-switch error). ``what_when_angle_deg``:
  principal angle between the "when" weight vector and the span of the "what" weight vectors (bias excluded).

``python -m benchmarks.what_when [--quick] [--json PATH]``; times in seconds.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks.common import finish_output, machine_info, make_logger

log = make_logger("what_when")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.what_when", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke test: 240 + 60 neurons, 2 probabilities, 24 blocks")
    ap.add_argument("--json", metavar="PATH", help="also write the JSON here (atomically)")
    ap.add_argument("--n-exc", type=int, default=None, help="excitatory neurons (default 800; quick 240)")
    ap.add_argument("--n-inh", type=int, default=None, help="inhibitory neurons (default 200; quick 60)")
    ap.add_argument("--probabilities", type=str, default=None, help="comma list (default 0.25,0.5,1; quick 0.25,1)")
    ap.add_argument("--latencies", type=str, default="0.3,0.6", help="comma list of latencies after the cue, s")
    ap.add_argument("--outcomes", type=int, default=2, help="outcome identities (default 2)")
    ap.add_argument("--blocks", type=int, default=None, help="blocks per session (default 60; quick 24)")
    ap.add_argument("--switch-block", type=int, default=None, help="first switched block (default blocks / 2)")
    ap.add_argument("--eval-blocks", type=int, default=None, help="blocks averaged for steady state (default 6; "
                                                                  "quick 4)")
    ap.add_argument("--batch", type=int, default=64, help="trials per simulator run (default 64)")
    ap.add_argument("--dt", type=float, default=1e-3, help="reservoir time step, s (default 1e-3, the paper's 1 ms)")
    ap.add_argument("--input-weight", type=float, default=30.0, help="input synapse, mV (default 30)")
    ap.add_argument("--noise-scale", type=float, default=0.3,
                    help="thalamic noise × the paper's (5 exc, 2 inh per 1 ms draw; default 0.3)")
    ap.add_argument("--target-width", type=float, default=0.075, help="σ of the target bump, s (default 0.075)")
    ap.add_argument("--input-p", type=float, default=0.1, help="input connection probability (default 0.1)")
    ap.add_argument("--tau", type=float, default=0.05, help="presynaptic trace time constant, s (default 0.05)")
    ap.add_argument("--sample-ms", type=float, default=10.0, help="readout sample interval, ms (default 10)")
    ap.add_argument("--eta-norm", type=float, default=0.2, help="three-factor η × mean‖r‖² (default 0.2)")
    ap.add_argument("--what-rate", type=float, default=1.0,
                    help="offline step per block: κ = what_rate / (η · mean‖r‖² · samples per block) (default 1)")
    ap.add_argument("--p0", type=float, default=1.0, help="RLS P(0) = p0·I (default 1)")
    ap.add_argument("--rls-variant", choices=("exact", "nicola_clopath"), default="exact",
                    help="RLS form of the FORCE peer (default exact, Sussillo & Abbott 2009)")
    ap.add_argument("--criterion", type=float, default=1.25, help="criterion factor on the pre-switch error")
    ap.add_argument("--seed", type=int, default=0, help="reservoir structure, input and sequence seed (default 0)")
    args = ap.parse_args(argv)
    q = args.quick
    for name, quick, full in (("n_exc", 240, 800), ("n_inh", 60, 200), ("probabilities", "0.25,1", "0.25,0.5,1"),
                              ("blocks", 24, 60), ("eval_blocks", 4, 6)):
        if getattr(args, name) is None:
            setattr(args, name, quick if q else full)
    if args.switch_block is None:
        args.switch_block = args.blocks // 2
    args.probabilities = tuple(float(v) for v in args.probabilities.split(",") if v.strip())
    args.latencies = tuple(float(v) for v in args.latencies.split(",") if v.strip())
    if not 1 <= args.eval_blocks <= min(args.switch_block, args.blocks - args.switch_block):
        raise SystemExit("--eval-blocks must be >= 1 and fit before and after the switch")
    return args


# --------------------------------------------------------------------------------------------------------------
# reservoir activity
# --------------------------------------------------------------------------------------------------------------


def simulate(paradigm: Any, seq: Any, spec: Any, seed: int, batch: int, times: np.ndarray,
             tau: float) -> tuple[np.ndarray, float]:
    """Traces (trials, samples, n_exc + 1) of the excitatory neurons at ``times`` (τ = ``tau`` s; last column:
    constant 1), and the mean firing rate (Hz) of the whole reservoir."""
    from snn.engine.simulator import Simulator
    from snn.reservoir.features import trace_series
    from snn.reservoir.izhikevich import POPULATION, build_izhikevich_reservoir

    n = spec.n_exc
    X = np.empty((seq.n_trials, times.size, n + 1))
    X[:, :, n] = 1.0
    spikes = 0
    for start in range(0, seq.n_trials, batch):
        stop = min(start + batch, seq.n_trials)
        net = build_izhikevich_reservoir(spec, seed, paradigm.cue_input(seq, start, stop, seed))
        rec = Simulator(net).run(paradigm.trial_s, trials=stop - start, seed=seed + start)
        X[start:stop, :, :n] = trace_series(rec, POPULATION, tau, times)[:, :, :n]
        spikes += int(np.sum(rec.spike_counts[POPULATION]))
    return X, spikes / (seq.n_trials * spec.n_neurons * paradigm.trial_s)


# --------------------------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------------------------


def condition_curves(Z: np.ndarray, seq: Any, trials: np.ndarray, n_cond: int) -> np.ndarray:
    """Mean output (conditions, samples) over the given trials of each cue."""
    return np.stack([Z[trials[seq.cue[trials] == c]].mean(axis=0) for c in range(n_cond)])


def peak_metrics(curves: np.ndarray, cond: dict[str, np.ndarray], rel_times: np.ndarray) -> dict[str, Any]:
    """Peak time error (ms) and amplitude–probability correlation of per-condition output curves."""
    peak_t = rel_times[np.argmax(curves, axis=1)]
    amp = curves.max(axis=1)
    err_ms = (peak_t - cond["latency_s"]) * 1e3
    p = cond["probability"]
    corr = float(np.corrcoef(amp, p)[0, 1]) if np.ptp(p) > 0 and np.ptp(amp) > 0 else None
    slope = float(np.polyfit(p, amp, 1)[0]) if np.ptp(p) > 0 else None
    return {"peak_time_error_ms": float(np.mean(np.abs(err_ms))), "peak_time_error_ms_per_condition":
            [float(v) for v in err_ms], "peak_amplitude_per_condition": [float(v) for v in amp],
            "amplitude_probability_correlation": corr, "amplitude_probability_slope": slope}


def trial_errors(Z: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Per-trial RMS error (trials,) of outputs (trials, samples) against the expected targets."""
    return np.sqrt(np.mean((Z - expected) ** 2, axis=1))


def smoothed(err: np.ndarray, window: int) -> np.ndarray:
    """Causal moving average over ``window`` trials (the first ``window − 1`` values average what exists)."""
    c = np.cumsum(np.concatenate([[0.0], err]))
    k = np.arange(1, err.size + 1)
    lo = np.maximum(k - window, 0)
    return (c[k] - c[lo]) / (k - lo)


def trials_to_criterion(err_after: np.ndarray, window: int, threshold: float) -> int | str:
    """Post-switch trials until the mean error over the last ``window`` post-switch trials is <= threshold."""
    s = smoothed(err_after, window)
    hit = np.nonzero(s[window - 1:] <= threshold)[0]
    return int(hit[0] + window) if hit.size else "not reached"


def principal_angle_deg(v: np.ndarray, U: np.ndarray) -> float:
    """Angle (degrees) between vector v (n,) and the column span of U (n, k)."""
    Q, _ = np.linalg.qr(U)
    cos = np.linalg.norm(Q.T @ v) / np.linalg.norm(v)
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


# --------------------------------------------------------------------------------------------------------------
# one learning session on fixed traces
# --------------------------------------------------------------------------------------------------------------


def session(paradigm: Any, seq: Any, X: np.ndarray, times: np.ndarray, params: Any, args: argparse.Namespace,
            timings: dict[str, float], tag: str) -> dict[str, Any]:
    from snn.reservoir.rls import RLS
    from snn.reservoir.three_factor import ThreeFactorReadout

    K, T, n = X.shape
    R = X.reshape(K * T, n)
    Y = paradigm.when_target(seq, times)
    expected = paradigm.expected_when(seq, times)
    n_cond = paradigm.n_conditions
    bt = paradigm.block_trials
    sw = paradigm.switch_trial
    rel = times - paradigm.cue_onset_s

    # "when": online three-factor rule over the whole session (gate = 1 on the stored samples)
    t0 = time.perf_counter()
    when = ThreeFactorReadout(n, 1, params)
    Z3 = when.run_trial(R, Y.reshape(-1, 1), 1.0).reshape(K, T)
    # "what": summed within a block, consolidated after it; learned only when the outcome occurred
    what = ThreeFactorReadout(n, paradigm.n_outcomes, params)
    Yw = np.repeat(paradigm.what_target(seq), T, axis=0)
    Gw = np.repeat(seq.occurred.astype(np.float64), T)
    Zw = np.empty((K * T, paradigm.n_outcomes))
    for b in range(paradigm.n_blocks):
        sl = slice(b * bt * T, (b + 1) * bt * T)
        Zw[sl] = what.run_trial(R[sl], Yw[sl], Gw[sl], accumulate=True)
        what.consolidate()
    timings[f"{tag}_three_factor_s"] = time.perf_counter() - t0

    # FORCE / exact RLS on the same samples, without and with a reset of P at the switch
    t0 = time.perf_counter()
    rls = RLS(n, 1, p0=args.p0, variant=args.rls_variant)
    pre = slice(0, sw * T)
    post = slice(sw * T, K * T)
    e_pre = rls.update_many(R[pre], Y.reshape(-1)[pre])
    rls_reset = copy.deepcopy(rls)
    rls_reset.P = np.eye(n) * args.p0
    e_post = rls.update_many(R[post], Y.reshape(-1)[post])
    e_post_reset = rls_reset.update_many(R[post], Y.reshape(-1)[post])
    timings[f"{tag}_rls_s"] = time.perf_counter() - t0
    Zf = (np.concatenate([e_pre, e_post])[:, 0] + Y.reshape(-1)).reshape(K, T)
    Zf_reset = np.concatenate([Zf[:sw], (e_post_reset[:, 0] + Y.reshape(-1)[post]).reshape(K - sw, T)])

    ev = args.eval_blocks * bt
    pre_trials = np.arange(sw - ev, sw)
    post_trials = np.arange(K - ev, K)
    cond_pre, cond_post = paradigm.conditions(False), paradigm.conditions(True)
    out: dict[str, Any] = {}
    for name, Z in (("three_factor", Z3), ("force_no_reset", Zf), ("force_reset", Zf_reset)):
        out[name] = {"before_switch": peak_metrics(condition_curves(Z, seq, pre_trials, n_cond), cond_pre, rel),
                     "end_of_session": peak_metrics(condition_curves(Z, seq, post_trials, n_cond), cond_post, rel)}

    # adaptation: per-trial RMS error against the expected target under the new statistics and under the old
    # ones; adapted = the smoothed error to the new statistics is no larger than to the old ones
    before = paradigm.conditions(False)
    expected_old = paradigm.bump(times, before["latency_s"][seq.cue]) * before["probability"][seq.cue][:, None]
    outputs = {"three_factor": Z3, "force_no_reset": Zf, "force_reset": Zf_reset}
    errs = {name: trial_errors(Z, expected) for name, Z in outputs.items()}
    errs_old = {name: trial_errors(Z, expected_old) for name, Z in outputs.items()}
    level = {name: float(np.mean(e[sw - ev:sw])) for name, e in errs.items()}
    adaptation: dict[str, Any] = {
        "switch": paradigm.switch, "switch_trial": sw, "window_trials": bt,
        "resolution_trials": bt,  # the smoothing window: no readout can score fewer trials than this
        "criterion": "post-switch trials until the error to the new expected target, smoothed over one block, is "
                     "<= the error to the old one (closer to the new statistics than to the old)",
        "criterion_own_level": f"post-switch trials until the smoothed error <= {args.criterion} x the readout's own "
                               "pre-switch error",
        "pre_switch_error": level,
    }
    for name, e in errs.items():
        margin = smoothed(e[sw:], bt) - smoothed(errs_old[name][sw:], bt)
        hit = np.nonzero(margin[bt - 1:] <= 0)[0]
        adaptation[f"{name}_trials_to_criterion"] = int(hit[0] + bt) if hit.size else "not reached"
        adaptation[f"{name}_trials_to_own_level"] = trials_to_criterion(e[sw:], bt, args.criterion * level[name])
        adaptation[f"{name}_error_after_switch"] = [round(float(v), 5) for v in e[sw:]]
        adaptation[f"{name}_error_to_old_after_switch"] = [round(float(v), 5) for v in errs_old[name][sw:]]
        adaptation[f"{name}_smoothed_error_after_switch"] = [round(float(v), 5) for v in smoothed(e[sw:], bt)]
        adaptation[f"{name}_final_error"] = float(np.mean(e[K - ev:]))
    out["adaptation"] = adaptation

    # "what": identity predicted from the mean output over the gate, in the last eval blocks
    guess = Zw.reshape(K, T, -1)[post_trials].mean(axis=1).argmax(axis=1)
    out["what_accuracy"] = float(np.mean(guess == seq.outcome[post_trials]))
    out["what_when_angle_deg"] = principal_angle_deg(when.W[:-1, 0], what.W[:-1])
    out["what_when_angle_deg_per_outcome"] = [principal_angle_deg(when.W[:-1, 0], what.W[:-1, [k]])
                                              for k in range(paradigm.n_outcomes)]
    out["force_what_when_angle_deg"] = None  # FORCE reads out "when" only
    return out


# --------------------------------------------------------------------------------------------------------------
# benchmark
# --------------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    import numba

    from snn.reservoir.izhikevich import IzhikevichReservoirSpec
    from snn.reservoir.paradigm import PredictionParadigm
    from snn.reservoir.three_factor import ThreeFactorParams

    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    base = PredictionParadigm(n_outcomes=args.outcomes, latencies_s=args.latencies, probabilities=args.probabilities,
                              n_blocks=args.blocks, switch_block=args.switch_block, switch="latency",
                              target_width_s=args.target_width)
    gate_end = base.trial_s - base.cue_onset_s
    spec = IzhikevichReservoirSpec(n_exc=args.n_exc, n_inh=args.n_inh, n_inputs=base.n_channels, dt=args.dt,
                                   input_weight=args.input_weight, input_p=args.input_p,
                                   noise_exc=5.0 * args.noise_scale, noise_inh=2.0 * args.noise_scale)
    seq = base.sequence(args.seed)
    step = args.sample_ms * 1e-3
    # attention gate: from 0.1 s after the cue (past the cue's onset transient) to the end of the trial (ours)
    gate_params = ThreeFactorParams(trace_tau_s=args.tau, gate_start_s=0.1, gate_end_s=gate_end)
    all_times = np.arange(1, int(round(base.trial_s / step)) + 1) * step
    times = all_times[gate_params.gate(all_times, base.cue_onset_s) == 1.0]
    log(f"{seq.n_trials} trials, {base.n_conditions} conditions, {spec.n_neurons} neurons, {times.size} samples")

    t0 = time.perf_counter()
    X, rate = simulate(base, seq, spec, args.seed, args.batch, times, args.tau)
    timings["simulate_s"] = time.perf_counter() - t0
    log(f"simulated in {timings['simulate_s']:.1f} s, {rate:.1f} Hz")
    mean_sq = float(np.mean(np.sum(X[: base.block_trials] ** 2, axis=2)))
    eta = args.eta_norm / mean_sq
    # the offline sum over a block is a batch-gradient step; κ scales it to what_rate normalised steps per block
    kappa = args.what_rate / (eta * mean_sq * base.block_trials * times.size)
    params = dataclasses.replace(gate_params, eta=eta, consolidation_rate=kappa)

    sessions = {}
    for switch in ("latency", "probability"):
        paradigm = dataclasses.replace(base, switch=switch)
        seq_s = paradigm.sequence(args.seed)
        assert np.array_equal(seq_s.cue, seq.cue)  # same cues -> same reservoir activity
        sessions[switch] = session(paradigm, seq_s, X, times, params, args, timings, switch)
        a = sessions[switch]["adaptation"]
        log(f"{switch} switch, trials to criterion: three-factor {a['three_factor_trials_to_criterion']}, FORCE "
            f"{a['force_no_reset_trials_to_criterion']}, FORCE + reset {a['force_reset_trials_to_criterion']}")

    lat = sessions["latency"]
    pre3 = lat["three_factor"]["before_switch"]
    timings["total_s"] = time.perf_counter() - t_start
    return {
        "peak_time_error_ms": pre3["peak_time_error_ms"],
        "amplitude_probability_correlation": pre3["amplitude_probability_correlation"],
        "adaptation": {
            "three_factor_trials_to_criterion": lat["adaptation"]["three_factor_trials_to_criterion"],
            "force_no_reset_trials_to_criterion": lat["adaptation"]["force_no_reset_trials_to_criterion"],
            "force_reset_trials_to_criterion": lat["adaptation"]["force_reset_trials_to_criterion"],
            "resolution_trials": lat["adaptation"]["resolution_trials"],
            "criterion": lat["adaptation"]["criterion"],
            "three_factor_error_after_switch": lat["adaptation"]["three_factor_error_after_switch"],
            "force_no_reset_error_after_switch": lat["adaptation"]["force_no_reset_error_after_switch"],
            "latency_switch": lat["adaptation"],
            "probability_switch": sessions["probability"]["adaptation"],
        },
        "what_when_angle_deg": lat["what_when_angle_deg"],
        "what_accuracy": lat["what_accuracy"],
        "peer_force": {"peak_time_error_ms": lat["force_no_reset"]["before_switch"]["peak_time_error_ms"],
                       "amplitude_probability_correlation":
                           lat["force_no_reset"]["before_switch"]["amplitude_probability_correlation"]},
        "sessions": {k: {kk: vv for kk, vv in v.items() if kk != "adaptation"} for k, v in sessions.items()},
        "n_neurons": spec.n_neurons,
        "n_readout_features": int(X.shape[2]),
        "rate_hz": rate,
        "timings": timings,
        "config": {
            "quick": args.quick, "seed": args.seed, "n_trials": seq.n_trials, "n_conditions": base.n_conditions,
            "blocks": args.blocks, "switch_block": args.switch_block, "eval_blocks": args.eval_blocks,
            "batch": args.batch, "sample_s": step, "eta": params.eta, "eta_norm": args.eta_norm,
            "mean_trace_norm_sq": mean_sq, "p0": args.p0, "rls_variant": args.rls_variant,
            "noise_scale": args.noise_scale, "numba_threads": numba.get_num_threads(),
            "three_factor": dataclasses.asdict(params),
            "paradigm": {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(base).items()},
            "izhikevich": dataclasses.asdict(spec),
        },
        "machine": machine_info(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return finish_output(run(args), args.json)


if __name__ == "__main__":
    sys.exit(main())
