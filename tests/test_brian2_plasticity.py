"""Plasticity (pair STDP, triplet STDP, Tsodyks-Markram STP) and conductance-based LIF against Brian2.

Reference: ``brian2_plasticity_reference.py`` runs Brian2 2.x (runtime numpy target, float64) with the
Synapses code written out in its docstring: the rules as the package documents them (axonal delays, pre
pathway before post pathway, lazily decayed traces). Every Brian2 comparison uses the same plain arrays on
both sides; weights are compared with rtol 1e-9 (the engine decays traces in its own order of operations),
spikes exactly. Closed forms (STDP window, isolated triplet pairs, depressing STP recursion) check the
reference and the engine independently of each other. Postsynaptic spikes are forced by a "teacher" input
(a delta synapse of 100 mV one step before the wanted spike), so protocols have exact spike times.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("brian2")

from brian2_plasticity_reference import (  # noqa: E402
    PAIRING_LIF,
    make_coba_example,
    pairing_network,
    pairing_protocol,
    random_pairing_protocol,
    run_network,
    stp_trains,
    triplet_visual_cortex,
)

from snn.engine import Simulator  # noqa: E402
from snn.model import (  # noqa: E402
    LIF,
    STDP,
    ConductanceLIF,
    Connectivity,
    Network,
    Population,
    Projection,
    SpikeMonitor,
    SpikeTimesInput,
    StateMonitor,
    TripletSTDP,
    TsodyksMarkram,
    WeightMonitor,
)

DT = 1e-4
RTOL = 1e-9

#: STDP window protocol: Δt = t_post - t_pre(arrival) in ms, one synapse each
WINDOW_MS = (-50, -20, -10, -5, -2, 0, 2, 5, 10, 20, 50)
STDP_VARIANTS = [(p, b) for p in ("all", "nearest") for b in ("additive", "multiplicative")]
#: triplet protocol (Sjöström et al. 2001 / Pfister & Gerstner 2006): 60 pairings at ±10 ms
TRIPLET_FREQS_HZ = (10, 20, 40, 50)


# --- helpers: one description, two simulators -----------------------------------------------------------------


def _rule_dict(rule: Any) -> dict[str, Any] | None:
    return None if rule is None else rule.as_dict()


def _brian2(spec: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Run ``spec`` (run_network keyword arguments whose rules are our rule objects) in Brian2."""
    projections = [dict(p, plasticity=_rule_dict(p.get("plasticity")), stp=_rule_dict(p.get("stp")))
                   for p in spec["projections"]]
    return run_network(**dict(spec, projections=projections), **kwargs)


def _network(spec: dict[str, Any], *, record: Any = None, record_vars: tuple[str, ...] = ("v",),
             weight_every: int | None = None, source_trials: dict[str, np.ndarray] | None = None) -> Network:
    """Our description of ``spec``; ``source_trials`` gives per-spike trial numbers for some sources."""
    dt, pop = spec["dt"], spec["pop_name"]
    params = dict(spec["params"])
    model = LIF(**params) if spec["model"] == "lif" else ConductanceLIF(**params)
    population = Population(pop, spec["n"], model, {"v": spec["v_init"]})
    inputs = []
    sizes = {pop: spec["n"]}
    for name, (size, idx, steps) in spec["sources"].items():
        trials = None if source_trials is None else source_trials.get(name)
        inputs.append(SpikeTimesInput(name, size, times=np.asarray(steps) * dt, indices=idx, trials=trials))
        sizes[name] = size
    projections = []
    for p in spec["projections"]:
        conn = Connectivity(sizes[p["pre"]], spec["n"], p["indptr"], p["indices"])
        projections.append(Projection(p["pre"], pop, conn, weights=p["weights"], delays=p.get("delays", 0),
                                      target=p["target"], name=p["name"], plasticity=p.get("plasticity"),
                                      stp=p.get("stp")))
    monitors: list[Any] = [SpikeMonitor(pop)]
    if record is not None:
        monitors.append(StateMonitor(pop, record_vars, indices=np.asarray(record)))
    if weight_every is not None:
        monitors += [WeightMonitor(p["name"], every=weight_every) for p in spec["projections"]
                     if p.get("plasticity") is not None]
    return Network(dt=dt, populations=[population], inputs=inputs, projections=projections, monitors=monitors)


def _engine(spec: dict[str, Any], *, trials: int = 1, **kwargs: Any) -> Any:
    rec = Simulator(_network(spec, **kwargs), dtype="float64").run(spec["n_steps"] * spec["dt"], trials=trials)
    assert rec.n_steps == spec["n_steps"]
    return rec


def _spikes(rec: Any, pop: str, trial: int = 0) -> tuple[np.ndarray, np.ndarray]:
    neuron, step = rec.spikes[pop].of_trial(trial)
    order = np.lexsort((neuron, step))
    return np.asarray(neuron)[order].astype(np.int64), np.asarray(step)[order].astype(np.int64)


def _assert_spikes_equal(ours: tuple[np.ndarray, np.ndarray], ref: tuple[np.ndarray, np.ndarray]) -> None:
    (i, step), (ref_i, ref_step) = ours, ref
    if step.size != ref_step.size or np.any(step != ref_step) or np.any(i != ref_i):
        n = min(step.size, ref_step.size)
        diff = (step[:n] != ref_step[:n]) | (i[:n] != ref_i[:n])
        first = int(np.argmax(diff)) if diff.any() else n
        pytest.fail(f"spikes differ from #{first}: ours {list(zip(i[first:first + 3], step[first:first + 3]))} vs "
                    f"reference {list(zip(ref_i[first:first + 3], ref_step[first:first + 3]))}; "
                    f"counts {step.size} vs {ref_step.size}")


def _stdp(pairing: str, bounds: str, a_plus: float = 0.01, a_minus: float = 0.0105) -> STDP:
    return STDP(tau_pre=20e-3, tau_post=20e-3, a_plus=a_plus, a_minus=a_minus, w_min=0.0, w_max=1.0, pairing=pairing,
                bounds=bounds)


# --- 1. pair STDP ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stdp_window():
    """60 pairings every 100 ms at each Δt of WINDOW_MS, the four STDP variants side by side, both simulators."""
    protocol = pairing_protocol([10 * ms for ms in WINDOW_MS], periods_steps=1000, n_pairs=60, first_post_step=600)
    rules = {f"{p}_{b}": _stdp(p, b) for p, b in STDP_VARIANTS}
    spec = pairing_network(protocol, rules, dt=DT, w_init=0.5)
    return protocol, _brian2(spec, weight_every=1000), _engine(spec, weight_every=1000)


def test_stdp_window_protocol_forces_the_planned_post_spikes(stdp_window):
    """The protocol itself: both simulators fire each post neuron exactly at its 60 planned steps."""
    protocol, ref, rec = stdp_window
    _assert_spikes_equal((ref["i"], ref["steps"]), protocol["post_spikes"])
    _assert_spikes_equal(_spikes(rec, "post"), protocol["post_spikes"])


@pytest.mark.parametrize("pairing,bounds", STDP_VARIANTS)
def test_stdp_window_final_weights_match_brian2(stdp_window, pairing, bounds):
    """Final weight of every Δt synapse after 60 pairings = Brian2's (rtol 1e-9).

    Expected values: Brian2 running the Synapses code of the reference module on the same spikes.
    """
    _, ref, rec = stdp_window
    name = f"{pairing}_{bounds}"
    ours = rec.final_weights[name][0]
    np.testing.assert_allclose(ours, ref["final_weights"][name], rtol=RTOL, atol=0)
    # the protocol is informative: Δt < 0 depresses, Δt > 0 potentiates
    ms = np.asarray(WINDOW_MS)
    assert np.all(ours[(ms < 0) & (ms > -50)] < 0.5) and np.all(ours[(ms >= 0) & (ms < 50)] > 0.5)


def test_stdp_weight_snapshots_match_brian2(stdp_window):
    """WeightMonitor(every=1000): snapshot m = weights at the start of step 1000·m, as Brian2's
    StateMonitor(syn, 'w', dt=1000·dt) in the start slot (61 snapshots of 11 synapses, rtol 1e-9)."""
    _, ref, rec = stdp_window
    for pairing, bounds in STDP_VARIANTS:
        name = f"{pairing}_{bounds}"
        assert rec.weights[name].shape[1:] == ref["weights"][name].shape, name
        np.testing.assert_allclose(rec.weights[name][0], ref["weights"][name], rtol=RTOL, atol=0, err_msg=name)


def test_stdp_pairing_and_bounds_variants_differ(stdp_window):
    """Sanity of the comparison above: the four variants end at different weights in Brian2 and in ours."""
    _, ref, rec = stdp_window
    names = [f"{p}_{b}" for p, b in STDP_VARIANTS]
    for a in range(4):
        for b in range(a + 1, 4):
            assert np.max(np.abs(ref["final_weights"][names[a]] - ref["final_weights"][names[b]])) > 1e-4
            assert np.max(np.abs(rec.final_weights[names[a]][0] - rec.final_weights[names[b]][0])) > 1e-4


@pytest.mark.parametrize("pairing,bounds", [("all", "additive"), ("nearest", "additive"), ("all", "multiplicative")])
def test_stdp_isolated_pairs_follow_the_closed_form_window(pairing, bounds):
    """Pairs 1 s apart (traces decay by e^-50, below float64 resolution): every pair changes w by
    a_plus·exp(-Δt/tau_pre) (Δt >= 0) or -a_minus·exp(Δt/tau_post) (Δt < 0) - times (w_max - w) resp.
    (w - w_min) for multiplicative bounds - applied pair after pair (closed form, no simulator)."""
    n_pairs, w0 = 3, 0.5
    rule = _stdp(pairing, bounds, a_plus=0.01, a_minus=0.012)
    protocol = pairing_protocol([10 * ms for ms in WINDOW_MS], periods_steps=10000, n_pairs=n_pairs,
                                first_post_step=600)
    rec = _engine(pairing_network(protocol, {"syn": rule}, dt=DT, w_init=w0))
    ms = np.asarray(WINDOW_MS, dtype=np.float64)
    dt_s = ms * 1e-3
    expected = np.full(ms.size, w0)
    for _ in range(n_pairs):
        if bounds == "additive":
            dw = np.where(dt_s >= 0, rule.a_plus * np.exp(-dt_s / rule.tau_pre),
                          -rule.a_minus * np.exp(dt_s / rule.tau_post))
        else:
            dw = np.where(dt_s >= 0, rule.a_plus * np.exp(-dt_s / rule.tau_pre) * (rule.w_max - expected),
                          -rule.a_minus * np.exp(dt_s / rule.tau_post) * (expected - rule.w_min))
        expected = expected + dw
    np.testing.assert_allclose(rec.final_weights["syn"][0], expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("delays", ["constant", "per_synapse"])
def test_stdp_with_axonal_delays_matches_brian2(delays):
    """Irregular pre spikes, forced post spikes, all-to-all 4 -> 6 with delays (15 steps, or 0-40 steps per
    synapse): pair STDP (all/additive, nearest/multiplicative), triplet STDP and STDP combined with depressing
    STP, each a projection with the same delays. Expected: Brian2 with ``delay`` on the pre pathway only
    (axonal: a pre spike acts on the rule when it arrives), rtol 1e-9 on the final weights and on the summed
    synaptic current i_exc of every post neuron at every step."""
    protocol = random_pairing_protocol(3, n_steps=6000)
    n_syn = protocol["n_pre"] * protocol["n"]
    rng = np.random.default_rng(7)
    protocol["delays"] = 15 if delays == "constant" else rng.integers(0, 41, n_syn)
    rules = {"all_add": _stdp("all", "additive"), "nearest_mult": _stdp("nearest", "multiplicative"),
             "triplet": TripletSTDP.hippocampal("all")}
    spec = pairing_network(protocol, rules, dt=DT, w_init=0.5, all_to_all=True)
    stp_spec = pairing_network(protocol, {"stp_stdp": _stdp("all", "additive")}, dt=DT, w_init=0.5,
                               all_to_all=True, stp=TsodyksMarkram(U=0.4, tau_rec=0.15, tau_facil=0.0))
    spec["projections"].append(stp_spec["projections"][1])
    record = {"record": np.arange(protocol["n"]), "record_vars": ("i_exc",)}
    ref = _brian2(spec, **record)
    rec = _engine(spec, **record)
    _assert_spikes_equal(_spikes(rec, "post"), protocol["post_spikes"])
    for name in ("all_add", "nearest_mult", "triplet", "stp_stdp"):
        np.testing.assert_allclose(rec.final_weights[name][0], ref["final_weights"][name], rtol=RTOL, atol=0,
                                   err_msg=name)
    # what the synapses delivered (w before this spike's update, times the STP release for stp_stdp)
    np.testing.assert_allclose(rec.states["post"]["i_exc"][0], ref["states"]["i_exc"], rtol=RTOL, atol=1e-12)
    # the delays matter: the same emission times without delays learn something else
    rec0 = _engine(dict(spec, projections=[dict(p, delays=0) for p in spec["projections"]]))
    assert np.max(np.abs(rec0.final_weights["all_add"][0] - ref["final_weights"]["all_add"])) > 1e-3


# --- 2. triplet STDP -------------------------------------------------------------------------------------------


def _triplet_protocol(freqs_hz: tuple[float, ...]) -> dict[str, Any]:
    intervals = [s for _ in freqs_hz for s in (100, -100)]  # ±10 ms
    periods = [int(round(1 / (f * DT))) for f in freqs_hz for _ in (0, 1)]
    return pairing_protocol(intervals, periods_steps=periods, n_pairs=60, first_post_step=200)


@pytest.mark.parametrize("pairing", ["all", "nearest"])
def test_triplet_visual_cortex_preset_is_pfister_gerstner_table_4(pairing):
    """The preset's parameters = Pfister & Gerstner (2006) Table 4, visual cortex, full model (as written
    out independently in the reference module)."""
    ours = TripletSTDP.visual_cortex(pairing).as_dict()
    ref = triplet_visual_cortex(pairing)
    assert ours.keys() == ref.keys()
    for key, value in ref.items():
        assert ours[key] == (pytest.approx(value, rel=1e-12) if isinstance(value, float) else value), key


@pytest.fixture(scope="module")
def triplet_runs():
    """60 pairings at ±10 ms and 10-50 Hz, visual-cortex presets (all-to-all and nearest), w0 = 1 in [0, 5]."""
    rules = {p: TripletSTDP.visual_cortex(p, w_min=0.0, w_max=5.0) for p in ("all", "nearest")}
    spec = pairing_network(_triplet_protocol(TRIPLET_FREQS_HZ), rules, dt=DT, w_init=1.0)
    return _brian2(spec), _engine(spec)


@pytest.mark.parametrize("pairing", ["all", "nearest"])
def test_triplet_frequency_dependence_matches_brian2(triplet_runs, pairing):
    """Final weights after 60 pairings (Δt = ±10 ms at 10, 20, 40, 50 Hz) = Brian2's triplet model, rtol 1e-9."""
    ref, rec = triplet_runs
    np.testing.assert_allclose(rec.final_weights[pairing][0], ref["final_weights"][pairing], rtol=RTOL, atol=0)


@pytest.fixture(scope="module")
def triplet_low_frequency():
    """60 pairings at 0.1 Hz (600 s, ours only: too long for Brian2's numpy target)."""
    rule = TripletSTDP.visual_cortex("all", w_min=0.0, w_max=5.0)
    spec = pairing_network(_triplet_protocol((0.1,)), {"all": rule}, dt=DT, w_init=1.0)
    return rule, _engine(spec)


def test_triplet_low_frequency_pairs_follow_the_closed_form(triplet_low_frequency):
    """At 0.1 Hz pairs are 10 s apart (traces decay by e^-80 or more, below float64 resolution), so each
    pair gives the pair term only: +a2_plus·exp(-10 ms/tau_plus) for +10 ms, -a2_minus·exp(-10 ms/tau_minus)
    for -10 ms (closed form, 60 times)."""
    rule, rec = triplet_low_frequency
    pair = np.array([rule.a2_plus * np.exp(-0.01 / rule.tau_plus), -rule.a2_minus * np.exp(-0.01 / rule.tau_minus)])
    w = np.array([1.0, 1.0])
    for _ in range(60):
        w = w + pair
    np.testing.assert_allclose(rec.final_weights["all"][0], w, rtol=1e-12, atol=0)


def test_triplet_reproduces_the_sjostrom_frequency_shape(triplet_runs, triplet_low_frequency):
    """Pfister & Gerstner (2006), visual cortex all-to-all model on the Sjöström et al. (2001) protocol: at
    0.1 Hz +10 ms potentiates (by the tiny pair term) and -10 ms depresses; -10 ms still depresses at 10 and
    20 Hz; at 40 and 50 Hz both potentiate; Δw(+10 ms) grows with frequency."""
    _, rec_low = triplet_low_frequency
    _, rec = triplet_runs
    dw = np.concatenate([rec_low.final_weights["all"][0], rec.final_weights["all"][0]]) - 1.0
    plus, minus = dw[0::2], dw[1::2]  # frequencies 0.1, 10, 20, 40, 50 Hz
    assert plus[0] > 0 and minus[0] < 0
    assert minus[1] < 0 and minus[2] < 0
    assert plus[3] > 0 and minus[3] > 0 and plus[4] > 0 and minus[4] > 0
    assert np.all(np.diff(plus) > 0), plus


# --- 3. short-term plasticity ----------------------------------------------------------------------------------

STP_DEP = TsodyksMarkram(U=0.5, tau_rec=0.2, tau_facil=0.0)
STP_FAC = TsodyksMarkram(U=0.15, tau_rec=0.1, tau_facil=0.6)
STP_WEIGHT = 4.0


def _stp_spec() -> tuple[dict[str, Any], dict[str, Any]]:
    """Channel 0 (regular) -> neurons 0 (depressing), 1 (facilitating); channel 1 (irregular) -> 2, 3."""
    trains = stp_trains(0)
    projections = []
    for name, rule, posts in (("dep", STP_DEP, (0, 2)), ("fac", STP_FAC, (1, 3))):
        projections.append({"name": name, "pre": "pre", "indptr": np.array([0, 1, 2]),
                            "indices": np.array(posts, dtype=np.int32), "weights": STP_WEIGHT, "delays": 0,
                            "target": "exc", "stp": rule})
    spec = {"dt": trains["dt"], "n_steps": trains["n_steps"], "model": "lif", "params": dict(PAIRING_LIF), "n": 4,
            "v_init": PAIRING_LIF["v_rest"], "sources": {"pre": trains["source"]}, "projections": projections,
            "pop_name": "post"}
    return spec, trains


@pytest.fixture(scope="module")
def stp_runs():
    spec, trains = _stp_spec()
    kwargs = {"record": np.arange(4), "record_vars": ("v", "i_exc")}
    return trains, _brian2(spec, **kwargs), _engine(spec, **kwargs)


@pytest.mark.parametrize("var", ["i_exc", "v"])
def test_stp_postsynaptic_traces_match_brian2(stp_runs, var):
    """i_exc and v of four LIF neurons (regular 20 Hz -> 50 Hz -> recovery train and an irregular train,
    each through a depressing and a facilitating synapse) at every step = Brian2's (rtol 1e-9)."""
    _, ref, rec = stp_runs
    ours = rec.states["post"][var][0]
    assert ours.shape == ref["states"][var].shape
    np.testing.assert_allclose(ours, ref["states"][var], rtol=RTOL, atol=1e-12)
    _assert_spikes_equal(_spikes(rec, "post"), (ref["i"], ref["steps"]))


def _psc_amplitudes(trace: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """w·r of each arrival: i_exc[k + 1] - exp(-dt/tau_syn_exc)·i_exc[k] for an arrival in step k."""
    decay = np.exp(-DT / PAIRING_LIF["tau_syn_exc"])
    return trace[steps + 1] - decay * trace[steps]


def test_depressing_stp_follows_the_closed_form(stp_runs):
    """Depressing synapse (u = U): the release before spike n is U·x_n with x_0 = 1 and
    x_{n+1} = 1 - (1 - (1 - U) x_n) exp(-ISI_n/tau_rec); for a regular train this is
    x_n = x_ss + (1 - x_ss)((1 - U) e)^n with e = exp(-T/tau_rec), x_ss = (1 - e)/(1 - (1 - U) e)."""
    trains, _, rec = stp_runs
    for neuron, steps in ((0, trains["steps"][0]), (2, trains["steps"][1])):
        amp = _psc_amplitudes(rec.states["post"]["i_exc"][0][:, neuron], steps)
        x = np.empty(steps.size)
        x[0] = 1.0
        for k in range(steps.size - 1):
            x[k + 1] = 1 - (1 - (1 - STP_DEP.U) * x[k]) * np.exp(-(steps[k + 1] - steps[k]) * DT / STP_DEP.tau_rec)
        np.testing.assert_allclose(amp, STP_WEIGHT * STP_DEP.U * x, rtol=1e-9)
    # geometric approach to the steady state over the ten 20 Hz spikes
    e = np.exp(-0.05 / STP_DEP.tau_rec)
    q = (1 - STP_DEP.U) * e
    x_ss = (1 - e) / (1 - q)
    amp = _psc_amplitudes(rec.states["post"]["i_exc"][0][:, 0], trains["steps"][0][:10])
    np.testing.assert_allclose(amp, STP_WEIGHT * STP_DEP.U * (x_ss + (1 - x_ss) * q ** np.arange(10)), rtol=1e-9)


def test_facilitating_stp_facilitates_then_depresses_at_50hz(stp_runs):
    """Qualitative check of the facilitating synapse (U = 0.15, tau_facil = 600 ms): the second 20 Hz PSC
    exceeds the first, and the recovery spike 300 ms after the 50 Hz burst is larger than the first."""
    trains, _, rec = stp_runs
    amp = _psc_amplitudes(rec.states["post"]["i_exc"][0][:, 1], trains["steps"][0])
    assert amp[0] == pytest.approx(STP_WEIGHT * STP_FAC.U, rel=1e-12)
    assert amp[1] > amp[0] and amp[-1] > amp[0]


# --- 4. conductance-based LIF network --------------------------------------------------------------------------

COBA_RECORD = np.array([0, 7, 33, 70])


@pytest.fixture(scope="module")
def coba_runs():
    spec = make_coba_example(0)
    kwargs = {"record": COBA_RECORD, "record_vars": ("v", "g_exc", "g_inh")}
    return spec, _brian2(spec, **kwargs), _engine(spec, **kwargs)


def test_coba_network_matches_brian2_spike_for_spike(coba_runs):
    """80 ConductanceLIF neurons (exponential Euler, reversal potentials, refractoriness), recurrent exc/inh
    projections with 0-20 step delays, fixed input spikes, 250 ms: every spike (neuron, step) = Brian2's."""
    _, ref, rec = coba_runs
    assert ref["i"].size > 100, "the example should be active enough to be a meaningful check"
    _assert_spikes_equal(_spikes(rec, "net"), (ref["i"], ref["steps"]))


@pytest.mark.parametrize("var", ["v", "g_exc", "g_inh"])
def test_coba_traces_match_brian2(coba_runs, var):
    """v, g_exc, g_inh of four neurons at every step = Brian2's exponential-Euler integration (rtol 1e-9)."""
    _, ref, rec = coba_runs
    ours = rec.states["net"][var][0]
    assert ours.shape == ref["states"][var].shape
    np.testing.assert_allclose(ours, ref["states"][var], rtol=RTOL, atol=1e-12)


# --- 5. batch of trials with their own inputs ------------------------------------------------------------------


def test_batch_trials_learn_their_own_inputs():
    """Two trials, each with its own presynaptic spike times (SpikeTimesInput.trials) and the same teacher:
    their final weights differ, and each equals a single-trial run with that trial's input alone (and,
    for trial 1, Brian2's run of it, rtol 1e-9)."""
    protocols = [random_pairing_protocol(seed, n_steps=4000) for seed in (11, 12)]
    teacher = protocols[0]["teacher"]
    for p in protocols:
        p["teacher"] = teacher
    rules = {"stdp": _stdp("all", "additive"), "triplet": TripletSTDP.visual_cortex("nearest")}
    specs = [pairing_network(p, rules, dt=DT, w_init=0.5, all_to_all=True) for p in protocols]
    size = protocols[0]["pre"][0]
    idx = np.concatenate([p["pre"][1] for p in protocols])
    steps = np.concatenate([p["pre"][2] for p in protocols])
    trial = np.concatenate([np.full(p["pre"][1].size, b, dtype=np.int64) for b, p in enumerate(protocols)])
    batch_spec = dict(specs[0], sources={"pre": (size, idx, steps), "teacher": teacher})
    batch = _engine(batch_spec, trials=2, source_trials={"pre": trial})
    singles = [_engine(spec) for spec in specs]
    ref1 = _brian2(specs[1])
    for name in rules:
        w = batch.final_weights[name]
        assert w.shape[0] == 2
        assert np.max(np.abs(w[0] - w[1])) > 1e-3
        for b in range(2):
            np.testing.assert_array_equal(w[b], singles[b].final_weights[name][0], err_msg=f"{name}, trial {b}")
        np.testing.assert_allclose(w[1], ref1["final_weights"][name], rtol=RTOL, atol=0, err_msg=name)
