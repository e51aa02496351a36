"""Plasticity in the engine: validation messages, learning on/off, per-trial learning, chunking, threads,
per-synapse delays, HDF5 and CLI round trips, the shipped configs, uniform-rate Poisson sampling and a
hand-computed STDP protocol.

Brian2 cross-checks of the rules live in ``test_brian2_plasticity.py``; the tests here are engine-level
properties (same results however a run is split, threaded or stored) and closed forms written out by hand.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numba
import numpy as np
import pytest

import snn.engine.simulator as simulator_module
from snn import connect
from snn.cli import main
from snn.engine import Simulator
from snn.engine.kernels import layout as L
from snn.engine.simulator import trial_seeds
from snn.errors import ConfigError
from snn.io.config import load_config
from snn.io.hdf5 import HDF5Sink, load_recording, save_recording
from snn.model import (
    LIF,
    STDP,
    ConductanceLIF,
    Connectivity,
    Network,
    PoissonInput,
    Population,
    Projection,
    SpikeMonitor,
    SpikeTimesInput,
    StateMonitor,
    TripletSTDP,
    TsodyksMarkram,
    Uniform,
    WeightMonitor,
)

DT = 1e-4
CONFIGS = Path(__file__).resolve().parent.parent / "configs"

#: Poisson -> LIF learning network: 40 inputs at 40 Hz, all-to-all onto 5 neurons with a 10 mV bias
W_MAX = 2.0
RULE = STDP(tau_pre=20e-3, tau_post=20e-3, a_plus=0.02 * W_MAX, a_minus=0.021 * W_MAX, w_min=0.0, w_max=W_MAX)
STP = TsodyksMarkram(U=0.5, tau_rec=50e-3)
N_IN, N_OUT = 40, 5


def _learning_net(*, rule: STDP | TripletSTDP | None = RULE, stp: TsodyksMarkram | None = None,
                  weight_every: int | None = None, weight_times: list[float] | None = None,
                  delays: int | np.ndarray = 0, connectivity: Connectivity | None = None,
                  weights: np.ndarray | None = None) -> Network:
    """Uniform-rate Poisson input onto LIF neurons through one projection ``syn`` (plastic unless rule and stp
    are None); weights U(0, W_MAX) from a fixed generator, so every variant starts from the same weights."""
    conn = connectivity if connectivity is not None else connect.all_to_all(N_IN, N_OUT)
    if weights is None:
        weights = np.random.default_rng(42).uniform(0.0, W_MAX, conn.nnz)
    model = LIF(tau_m=20e-3, v_rest=-65.0, v_threshold=-50.0, v_reset=-65.0, t_ref=2e-3, tau_syn_exc=5e-3,
                bias=14.0)
    monitors: list = [SpikeMonitor("out"), SpikeMonitor("in"), StateMonitor("out", ("v", "i_exc"))]
    if weight_every is not None or weight_times is not None:
        monitors.append(WeightMonitor("syn", every=weight_every, times=weight_times))
    return Network(
        dt=DT,
        populations=[Population("out", N_OUT, model, {"v": Uniform(-65.0, -50.0)})],
        inputs=[PoissonInput("in", N_IN, rate=40.0)],
        projections=[Projection("in", "out", conn, weights=weights, delays=delays, target="exc", name="syn",
                                plasticity=rule, stp=stp)],
        monitors=monitors,
    )


def _spike_list(rec, pop: str, trial: int) -> list[tuple[int, int]]:
    neuron, step = rec.spikes[pop].of_trial(trial)
    return list(zip(step.tolist(), neuron.tolist()))


def _assert_same_run(a, b, pops: tuple[str, ...] = ("out", "in"), weights: bool = True) -> None:
    """Spikes, sampled state, final weights and weight snapshots identical (bit for bit)."""
    assert a.trials == b.trials
    for pop in pops:
        for field in ("trial", "neuron", "step"):
            np.testing.assert_array_equal(getattr(a.spikes[pop], field), getattr(b.spikes[pop], field),
                                          err_msg=f"{pop}.{field}")
    for var in a.states.get("out", {}):
        np.testing.assert_array_equal(a.states["out"][var], b.states["out"][var], err_msg=var)
    if not weights:
        return
    assert a.final_weights.keys() == b.final_weights.keys()
    for name in a.final_weights:
        np.testing.assert_array_equal(a.final_weights[name], b.final_weights[name], err_msg=name)
    assert a.weights.keys() == b.weights.keys()
    for name in a.weights:
        np.testing.assert_array_equal(a.weights[name], b.weights[name], err_msg=name)
        np.testing.assert_array_equal(a.weight_steps[name], b.weight_steps[name], err_msg=name)


# --- 1. validation: one ConfigError line naming key path, value and constraint ----------------------------------


def _check(err: BaseException, path: str, value_text: str, constraint: str) -> None:
    """Expected: the package's convention (snn.errors): a one-line ``path = value: constraint`` ValueError."""
    assert isinstance(err, ConfigError) and isinstance(err, ValueError)
    msg = str(err)
    assert "\n" not in msg, msg
    assert err.path == path, msg
    assert msg.startswith(f"{path} = "), msg
    assert value_text in msg.split(": ", 1)[0], msg
    assert constraint in msg, msg


def _cond_pop() -> Population:
    return Population("post", 2, ConductanceLIF())


def _two_plastic_same_name() -> Network:
    conn = connect.all_to_all(2, 2)
    return Network(dt=DT, populations=[Population("post", 2, LIF())], inputs=[PoissonInput("pre", 2, 5.0)],
                   projections=[Projection("pre", "post", conn, weights=0.5, name="syn", plasticity=STDP()),
                                Projection("pre", "post", conn, weights=0.5, name="syn")])


def _conductance_net(target: str) -> Network:
    return Network(dt=DT, populations=[_cond_pop()], inputs=[PoissonInput("pre", 2, 5.0)],
                   projections=[Projection("pre", "post", connect.all_to_all(2, 2), weights=[0.5, -0.5, 0.1, 0.2],
                                           target=target, name="cond")])


def _unknown_weight_monitor() -> Network:
    conn = connect.all_to_all(2, 2)
    return Network(dt=DT, populations=[Population("post", 2, LIF())], inputs=[PoissonInput("pre", 2, 5.0)],
                   projections=[Projection("pre", "post", conn, weights=0.5, name="syn", plasticity=STDP())],
                   monitors=[WeightMonitor("nope", every=1)])


PYTHON_ERRORS = [
    (lambda: STDP(tau_pre=-1e-3), "plasticity.stdp.tau_pre", "-0.001", "must be > 0 (s)"),
    (lambda: STDP(pairing="both"), "plasticity.stdp.pairing", "'both'", "must be one of ['all', 'nearest']"),
    (lambda: STDP(bounds="hard"), "plasticity.stdp.bounds", "'hard'",
     "must be one of ['additive', 'multiplicative']"),
    (lambda: STDP(w_min=1, w_max=0), "plasticity.stdp.w_max", "0", "must be >= w_min = 1"),
    (lambda: TripletSTDP(a3_plus=float("nan")), "plasticity.triplet.a3_plus", "nan", "must be finite"),
    (lambda: TripletSTDP.published("cerebellum"), "plasticity.triplet.preset", "'cerebellum/all'",
     "must be one of ['hippocampal/all'"),
    (lambda: TsodyksMarkram(U=0), "plasticity.tsodyks_markram.U", "0", "must be in (0, 1]"),
    (lambda: TsodyksMarkram(U=1.5), "plasticity.tsodyks_markram.U", "1.5", "must be in (0, 1]"),
    (lambda: TsodyksMarkram(tau_rec=0), "plasticity.tsodyks_markram.tau_rec", "0", "must be > 0 (s)"),
    (lambda: Projection("pre", "post", connect.all_to_all(1, 2), weights=[0.5, 1.5], name="syn",
                        plasticity=STDP(w_min=0.0, w_max=1.0)),
     "projections.syn.weights", "min 0.5, max 1.5", "must lie in [w_min, w_max] = [0, 1]"),
    (lambda: _conductance_net("exc"), "projections.cond.weights", "-0.5", "must be >= 0: post has conductance"),
    (lambda: _conductance_net("inh"), "projections.cond.weights", "-0.5", "must be >= 0: post has conductance"),
    (_two_plastic_same_name, "projections.syn.name", "'syn'", "must be unique for plastic"),
    (_unknown_weight_monitor, "monitors.weights.nope.projection", "'nope'", "unknown projection; known: ['syn']"),
    (lambda: WeightMonitor("syn", every=0), "monitors.weights.syn.every", "0", "must be an integer >= 1 (steps)"),
    (lambda: Simulator(_learning_net()).run(0.001, learning="yes"), "simulation.learning", "'yes'",
     "must be true or false"),
]


@pytest.mark.parametrize("make,path,value_text,constraint", PYTHON_ERRORS,
                         ids=["tau_pre", "pairing", "bounds", "w_max_below_w_min", "triplet_nan", "preset",
                              "U_zero", "U_above_one", "tau_rec_zero", "weights_out_of_bounds", "cond_exc", "cond_inh",
                              "duplicate_name", "unknown_monitor", "monitor_every", "run_learning"])
def test_python_api_errors_are_one_line(make, path, value_text, constraint):
    """Expected messages: the checks in snn.model.plasticity (_check_number, _check_choice, check_weights),
    snn.model.network.Network.__post_init__, WeightMonitor and Simulator.run."""
    with pytest.raises(ConfigError) as info:
        make()
    _check(info.value, path, value_text, constraint)


def test_negative_delta_weights_onto_conductance_neurons_are_allowed():
    """Counterpart of the ConductanceLIF check: a delta synapse moves v directly, so it may be negative."""
    net = _conductance_net("delta")
    assert float(net.projections[0].weights.min()) == -0.5


_TOML = """
[simulation]
dt = 1e-4
duration = 0.01
{simulation}

[populations.post]
model = "lif"
size = 2

[inputs.pre]
kind = "poisson"
size = 3
rate = 10.0

[[projections]]
name = "syn"
pre = "pre"
post = "post"
weight = 0.5
{projection}

[monitors]
spikes = ["post"]
{monitors}
"""


def _write_toml(tmp_path: Path, simulation: str = "", projection: str = "", monitors: str = "") -> Path:
    path = tmp_path / "net.toml"
    path.write_text(_TOML.format(simulation=simulation, projection=projection, monitors=monitors))
    return path


TOML_ERRORS = [
    ({"projection": 'plasticity = { rule = "hebb" }'}, "projections[0](syn).plasticity.rule", "'hebb'",
     "must be one of ['stdp', 'triplet']"),
    ({"projection": 'plasticity = { rule = "stdp", tau_x = 0.1 }'}, "projections[0](syn).plasticity.tau_x", "0.1",
     "unknown parameter of stdp"),
    ({"projection": 'plasticity = { rule = "triplet", preset = "visual_cortex", tau_x = 0.1 }'},
     "projections[0](syn).plasticity.tau_x", "0.1", "cannot be combined with a preset"),
    ({"projection": 'plasticity = { rule = "stdp", tau_pre = -0.02 }'}, "projections[0](syn).plasticity.tau_pre",
     "-0.02", "must be > 0"),
    ({"projection": "stp = { U = 2.0 }"}, "projections[0](syn).stp.U", "2.0", "must be in (0, 1]"),
    ({"simulation": "learning = 1"}, "simulation.learning", "1", "must be true or false"),
    ({"monitors": '[[monitors.weights]]\nprojection = "syn"\nstep = 10'}, "monitors.weights[0].step", "10",
     "unknown key; allowed: ['every', 'projection', 'times']"),
]


@pytest.mark.parametrize("parts,path,value_text,constraint", TOML_ERRORS,
                         ids=["unknown_rule", "unknown_parameter", "preset_and_tau", "negative_tau", "stp_U",
                              "learning_not_bool", "weights_monitor_key"])
def test_toml_errors_are_one_line(tmp_path, parts, path, value_text, constraint):
    """Expected messages: snn.io.config (_check_keys, _boolean) and rule_from_dict / stp_from_dict, with the
    TOML key path (projections[k](name).plasticity.<key>)."""
    with pytest.raises(ConfigError) as info:
        load_config(_write_toml(tmp_path, **parts))
    _check(info.value, path, value_text, constraint)


def test_valid_toml_plasticity_and_learning_flag(tmp_path):
    """The same document without the mistakes builds: the rule and STP carry the TOML's values, learning is read."""
    net, settings = load_config(_write_toml(
        tmp_path, simulation="learning = false",
        projection='plasticity = { rule = "triplet", preset = "hippocampal", pairing = "nearest" }\n'
                   "stp = { U = 0.2, tau_rec = 0.3, tau_facil = 0.05 }",
        monitors='weights = [{ projection = "syn", times = [0.0, 0.01] }]'))
    proj = net.projections[0]
    assert settings.learning is False
    assert proj.plasticity == TripletSTDP.hippocampal("nearest")
    assert proj.stp == TsodyksMarkram(U=0.2, tau_rec=0.3, tau_facil=0.05)
    (mon,) = [m for m in net.monitors if isinstance(m, WeightMonitor)]
    np.testing.assert_array_equal(mon.times, [0.0, 0.01])


# --- 2. learning=False ------------------------------------------------------------------------------------------


def test_learning_off_freezes_weights_but_keeps_stp():
    """learning=False: the STDP rule is off, so (a) final weights equal the description's, in every trial;
    (b) the run equals the same network with plasticity=None (same spikes, same v and i_exc); (c) STP stays on:
    with U = 0.5 and no facilitation every arrival delivers w·u·x <= w/2, so i_exc <= i_exc(no STP) / 2 at
    every sample (sums of non-negative terms), and strictly less somewhere. Learning on changes the weights."""
    duration, trials = 0.3, 3
    plastic = _learning_net(stp=STP, weight_every=1000)
    frozen = Simulator(plastic, "float64").run(duration, trials=trials, seed=5, learning=False)
    w0 = np.asarray(plastic.projections[0].weights, np.float64)
    assert frozen.final_weights["syn"].shape == (trials, w0.size)
    for b in range(trials):
        np.testing.assert_array_equal(frozen.final_weights["syn"][b], w0)
        for k in range(frozen.weights["syn"].shape[1]):
            np.testing.assert_array_equal(frozen.weights["syn"][b, k], w0)

    stp_only = Simulator(_learning_net(rule=None, stp=STP, weight_every=1000), "float64").run(
        duration, trials=trials, seed=5)
    assert len(stp_only.spikes["out"]) > 10 * trials, "post neurons too quiet for a meaningful comparison"
    for pop in ("out", "in"):
        for b in range(trials):
            assert _spike_list(frozen, pop, b) == _spike_list(stp_only, pop, b)
    for var in ("v", "i_exc"):
        np.testing.assert_array_equal(frozen.states["out"][var], stp_only.states["out"][var])

    no_stp = Simulator(_learning_net(rule=None, stp=None), "float64").run(duration, trials=trials, seed=5)
    i_stp, i_plain = frozen.states["out"]["i_exc"], no_stp.states["out"]["i_exc"]
    assert np.all(i_stp <= 0.5 * i_plain + 1e-12)
    assert np.any(i_stp < 0.5 * i_plain - 1e-6)

    learned = Simulator(plastic, "float64").run(duration, trials=trials, seed=5)
    assert np.max(np.abs(learned.final_weights["syn"] - w0)) > 0.05


def test_learning_off_without_stp_equals_the_static_network():
    """Without STP a plastic projection with learning off must deliver exactly what a static projection does:
    the plastic delivery kernel and the static one give the same spikes and the same v (bit for bit)."""
    a = Simulator(_learning_net(rule=RULE), "float32").run(0.3, trials=2, seed=9, learning=False)
    b = Simulator(_learning_net(rule=None), "float32").run(0.3, trials=2, seed=9)
    assert len(a.spikes["out"]) > 40
    _assert_same_run(a, b, weights=False)
    assert b.final_weights == {} and a.final_weights["syn"].shape == (2, N_IN * N_OUT)


# --- 3. every trial learns on its own copy -------------------------------------------------------------------------


def test_trials_learn_their_own_weights_from_their_own_streams(monkeypatch):
    """Trial b of a batch runs on child b of SeedSequence(seed) (snn.engine.simulator.trial_seeds) and learns on
    its own weight copy: the 3 trials end at different weights; trial 0 equals a single-trial run with the same
    seed; and trial b equals a single-trial run fed child b alone (trial_seeds patched), so no trial's learning
    leaks into another's."""
    net = _learning_net(rule=RULE, stp=STP, weight_every=500)
    sim = Simulator(net, "float64")
    batch = sim.run(0.3, trials=3, seed=11)
    w = batch.final_weights["syn"]
    assert w.shape == (3, N_IN * N_OUT)
    for a in range(3):
        for b in range(a + 1, 3):
            assert np.max(np.abs(w[a] - w[b])) > 0.05, (a, b)
    single = sim.run(0.3, trials=1, seed=11)
    np.testing.assert_array_equal(single.final_weights["syn"][0], w[0])

    children = np.random.SeedSequence(11).spawn(3)  # the documented mapping, independent of trial_seeds itself
    assert [c.spawn_key for c in trial_seeds(11, 3)] == [c.spawn_key for c in children]
    for b in (1, 2):
        monkeypatch.setattr(simulator_module, "trial_seeds", lambda seed, trials, b=b: [children[b]])
        alone = sim.run(0.3, trials=1, seed=11)
        np.testing.assert_array_equal(alone.final_weights["syn"][0], w[b])
        np.testing.assert_array_equal(alone.weights["syn"][0], batch.weights["syn"][b])
        assert _spike_list(alone, "out", 0) == _spike_list(batch, "out", b)


# --- 4. chunking -------------------------------------------------------------------------------------------------


def test_chunked_run_equals_the_default_and_snapshots_land_on_their_steps():
    """Plastic state (weights, traces, STP, Poisson gap positions) lives across kernel calls: chunk_steps=37
    gives the same spikes, states, final weights and snapshots as the default. Snapshots are at steps 0, every,
    2·every, ... (WeightMonitor docstring: start of the step), so snapshot k equals the final weights of a run
    of k·every steps, and snapshot 0 is the description's weights."""
    every, n_steps = 400, 3000
    net = _learning_net(stp=STP, weight_every=every)
    sim = Simulator(net, "float32")
    ref = sim.run(n_steps * DT, trials=2, seed=3)
    chunked = sim.run(n_steps * DT, trials=2, seed=3, chunk_steps=37)
    _assert_same_run(ref, chunked)
    np.testing.assert_array_equal(ref.weight_steps["syn"], np.arange(0, n_steps, every))
    assert ref.weight_every["syn"] == every
    assert ref.weights["syn"].shape == (2, math.ceil(n_steps / every), N_IN * N_OUT)
    np.testing.assert_array_equal(ref.weights["syn"][:, 0], np.broadcast_to(
        np.asarray(net.projections[0].weights, np.float32), (2, N_IN * N_OUT)))
    for k in (1, 4):
        short = sim.run(k * every * DT, trials=2, seed=3)
        np.testing.assert_array_equal(short.final_weights["syn"], ref.weights["syn"][:, k], err_msg=f"snapshot {k}")
    assert np.max(np.abs(ref.weights["syn"][:, -1] - ref.weights["syn"][:, 0])) > 0.05  # the weights did move


def test_snapshot_at_chosen_times_including_the_end():
    """WeightMonitor(times=...): times round to steps; a time equal to the duration snapshots the end, which
    equals final_weights (WeightMonitor docstring); chunking does not change them."""
    n_steps = 2000
    net = _learning_net(weight_times=[0.0, 0.01234, n_steps * DT])
    sim = Simulator(net, "float64")
    rec = sim.run(n_steps * DT, seed=4)
    np.testing.assert_array_equal(rec.weight_steps["syn"], [0, 123, n_steps])
    assert rec.weight_every["syn"] == 0
    np.testing.assert_array_equal(rec.weights["syn"][:, -1], rec.final_weights["syn"])
    short = Simulator(_learning_net(), "float64").run(123 * DT, seed=4)  # no monitor: its times exceed 123 steps
    np.testing.assert_array_equal(rec.weights["syn"][:, 1], short.final_weights["syn"])
    _assert_same_run(rec, sim.run(n_steps * DT, seed=4, chunk_steps=37))


# --- 5. threads --------------------------------------------------------------------------------------------------


def test_plastic_run_is_identical_at_any_thread_count():
    """Trials are independent, so the thread count (numba.set_num_threads, as in test_engine) must not change a
    plastic run with STDP + STP and 4 trials, bit for bit."""
    sim = Simulator(_learning_net(stp=STP, weight_every=700), "float32")
    before = numba.get_num_threads()
    recs = []
    try:
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            recs.append(sim.run(0.25, trials=4, seed=21))
    finally:
        numba.set_num_threads(before)
    assert len(recs[0].spikes["out"]) > 40
    _assert_same_run(recs[0], recs[1])


# --- 6. per-synapse delays ---------------------------------------------------------------------------------------


def test_weights_are_reported_in_the_description_order_when_rows_are_permuted():
    """Rows not sorted by delay make the engine sort each row by delay internally (compile._delay_order).
    Expected: the same network written with every row already sorted by delay (same pre/post pairs, weights and
    delays, reordered within rows; no internal permutation) runs identically, and its final weights and snapshots
    equal ours after the same reordering: recordings are in the description's synapse order."""
    rng = np.random.default_rng(8)
    conn = connect.all_to_all(N_IN, N_OUT)
    delays = rng.integers(0, 30, conn.nnz)
    weights = rng.uniform(0.0, W_MAX, conn.nnz)
    rows = conn.pre_indices()
    perm = np.lexsort((delays, rows))  # within-row sort by delay (stable)
    assert not np.array_equal(perm, np.arange(conn.nnz))
    sorted_conn = Connectivity(N_IN, N_OUT, conn.indptr, conn.indices[perm])
    rule = dataclasses.replace(RULE, pairing="nearest")
    net_a = _learning_net(rule=rule, stp=STP, weight_every=600, delays=delays, connectivity=conn, weights=weights)
    net_b = _learning_net(rule=rule, stp=STP, weight_every=600, delays=delays[perm], connectivity=sorted_conn,
                          weights=weights[perm])
    sim_a, sim_b = Simulator(net_a, "float64"), Simulator(net_b, "float64")
    syn = 0
    assert sim_a.compiled.q_perm[syn] is not None and sim_b.compiled.q_perm[syn] is None
    a = sim_a.run(0.3, trials=2, seed=13)
    b = sim_b.run(0.3, trials=2, seed=13)
    assert len(a.spikes["out"]) > 20
    for pop in ("out", "in"):
        for t in range(2):
            assert _spike_list(a, pop, t) == _spike_list(b, pop, t)
    np.testing.assert_array_equal(a.weights["syn"][:, 0], np.broadcast_to(weights, (2, conn.nnz)))
    np.testing.assert_array_equal(a.final_weights["syn"][:, perm], b.final_weights["syn"])
    np.testing.assert_array_equal(a.weights["syn"][:, :, perm], b.weights["syn"])
    assert np.max(np.abs(a.final_weights["syn"] - weights)) > 0.05  # learning happened
    assert not np.array_equal(a.final_weights["syn"], b.final_weights["syn"])  # so the order matters


# --- 7. HDF5 and CLI ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_weights_round_trip_through_hdf5(tmp_path, dtype):
    """A run streamed with HDF5Sink (in small chunks) loads back with the in-memory run's weight snapshots,
    snapshot steps, interval and final weights: same dtype (the run's), same values; save_recording of the
    in-memory run round-trips them too (snn.io.hdf5 layout: /weights/<proj>, /final_weights/<proj>)."""
    sim = Simulator(_learning_net(stp=STP, weight_every=300), dtype)
    mem = sim.run(0.1, trials=2, seed=6)
    streamed = load_recording(sim.run(0.1, trials=2, seed=6, sink=HDF5Sink(tmp_path / "run.h5"), chunk_steps=128))
    saved = load_recording(save_recording(mem, tmp_path / "saved.h5"))
    assert mem.weights["syn"].dtype == np.dtype(dtype) and mem.final_weights["syn"].dtype == np.dtype(dtype)
    for rec in (streamed, saved):
        assert rec.weights.keys() == mem.weights.keys() == {"syn"}
        assert rec.final_weights.keys() == mem.final_weights.keys() == {"syn"}
        assert rec.weight_every == mem.weight_every == {"syn": 300}
        np.testing.assert_array_equal(rec.weight_steps["syn"], mem.weight_steps["syn"])
        for got, want in ((rec.weights["syn"], mem.weights["syn"]),
                          (rec.final_weights["syn"], mem.final_weights["syn"])):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
    assert mem.weights["syn"].shape == (2, 4, N_IN * N_OUT)


def test_cli_runs_song2000_and_reports_the_weights(tmp_path, capsys):
    """``snn run configs/song2000.toml --duration 1`` then ``snn info``: one WeightMonitor snapshot (every =
    100000 steps > 10000 steps), final weights of the 1000 synapses within [0, gmax = 0.01]."""
    out = tmp_path / "song.h5"
    assert main(["run", str(CONFIGS / "song2000.toml"), "--duration", "1", "--out", str(out), "--no-progress"]) == 0
    rec = load_recording(out)
    assert rec.n_steps == 10000
    assert rec.weights["stdp"].shape == (1, 1, 1000) and rec.weights["stdp"].dtype == np.float64
    w = rec.final_weights["stdp"]
    assert w.shape == (1, 1000) and w.min() >= 0.0 and w.max() <= 0.01
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"projection stdp: final weights mean {w.mean():.6g}" in text, text
    assert "over 1000 synapses; 1 snapshot(s)" in text, text


# --- 8. shipped configs ----------------------------------------------------------------------------------------


def test_configs_load_and_carry_their_rules():
    """The plastic projections of song2000.toml and stdp_recurrent.toml carry exactly the TOML's rule
    parameters (copied from the files); coba.toml is static, conductance-based, and builds."""
    song, song_settings = load_config(CONFIGS / "song2000.toml")
    assert song_settings.learning is True and song_settings.dtype == "float64"
    (proj,) = song.projections
    assert isinstance(song.populations[0].model, ConductanceLIF)
    assert proj.plasticity == STDP(tau_pre=20e-3, tau_post=20e-3, a_plus=1e-4, a_minus=1.05e-4, w_min=0.0,
                                   w_max=0.01, pairing="all", bounds="additive")
    assert proj.stp is None and proj.connectivity.nnz == 1000
    assert 0.0 <= proj.weights.min() and proj.weights.max() <= 0.01
    assert [m.every for m in song.monitors if isinstance(m, WeightMonitor)] == [100000]

    rec_net, _ = load_config(CONFIGS / "stdp_recurrent.toml")
    rules = {p.name: p.plasticity for p in rec_net.projections}
    assert rules["ee"] == STDP(tau_pre=20e-3, tau_post=20e-3, a_plus=0.01296, a_minus=0.013608, w_min=0.0,
                               w_max=1.296)
    assert sum(r is not None for r in rules.values()) == 1
    Simulator(rec_net)  # compiles the plastic tables of ~2 M synapses

    coba, _ = load_config(CONFIGS / "coba.toml")
    assert all(p.plasticity is None and p.stp is None for p in coba.projections)
    assert all(isinstance(p.model, ConductanceLIF) for p in coba.populations)
    Simulator(coba)


def test_python_built_song2000_learns_the_same_weights():
    """The Python API equivalent of song2000.toml (same neuron, input, rule; the built net's initial weights)
    gives identical spikes and final weights over 1 s, seed 1, float64: the TOML path adds nothing."""
    toml_net, settings = load_config(CONFIGS / "song2000.toml")
    proj = toml_net.projections[0]
    model = ConductanceLIF(tau_m=10e-3, v_rest=-74.0, v_threshold=-54.0, v_reset=-60.0, t_ref=0.0,
                           tau_syn_exc=5e-3, e_exc=0.0)
    rule = STDP(tau_pre=20e-3, tau_post=20e-3, a_plus=1e-4, a_minus=1.05e-4, w_min=0.0, w_max=0.01)
    py_net = Network(dt=1e-4, populations=[Population("neuron", 1, model)],
                     inputs=[PoissonInput("poisson", 1000, rate=15.0)],
                     projections=[Projection("poisson", "neuron", connect.all_to_all(1000, 1),
                                             weights=np.array(proj.weights), name="stdp", plasticity=rule)],
                     monitors=[SpikeMonitor("neuron"), WeightMonitor("stdp", every=100000)])
    a = Simulator(toml_net, settings.dtype).run(1.0, seed=settings.seed)
    b = Simulator(py_net, "float64").run(1.0, seed=1)
    assert len(a.spikes["neuron"]) > 5
    np.testing.assert_array_equal(a.spikes["neuron"].step, b.spikes["neuron"].step)
    np.testing.assert_array_equal(a.final_weights["stdp"], b.final_weights["stdp"])
    assert np.max(np.abs(a.final_weights["stdp"] - proj.weights)) > 1e-4


# --- 9. uniform-rate Poisson sources ---------------------------------------------------------------------------


def _poisson_run(n: int, steps: int, rate: float, trials: int, seed: int):
    """Two inputs of n channels: ``u`` at one rate (geometric-gap path) and ``h`` with per-channel rates
    differing by 1e-9 Hz (per-source Bernoulli path); returns the recording and the simulator."""
    rates = rate + 1e-9 * np.arange(n)
    net = Network(dt=DT, inputs=[PoissonInput("u", n, rate=rate), PoissonInput("h", n, rate=rates)],
                  monitors=[SpikeMonitor("u"), SpikeMonitor("h")])
    sim = Simulator(net)
    return sim.run(steps * DT, trials=trials, seed=seed), sim


def test_uniform_rate_poisson_is_bernoulli_per_step_and_channel():
    """Every (step, channel) is an independent Bernoulli(p = rate·dt) trial (Brian2's PoissonGroup), whichever
    sampler runs. Per channel and trial the count is Binomial(T, p): mean T·p with standard error
    sqrt(T p q / m) over m counts, Fano factor q = 1 - p with standard error sqrt(Var(s²)) / (T p) where
    Var(s²) = (mu4 - s⁴ (m-3)/(m-1)) / m and mu4 = T p q (1 + 3 (T-2) p q) (binomial central moments).
    Independence: no (step, channel) repeats; the lag-1 correlation of counts across channel index is within
    5/sqrt(m); same-step coincidences of channels i and i+1 (and of the last channel with channel 0 of the next
    step, where the geometric gaps wrap) number M p² with variance M p² (1 - p²) + 2 K (p³ - p⁴), K the number
    of neighbouring pairs sharing a channel (indicator covariances; pairs further apart are independent).
    Across all channel pairs: a step's count over the n channels is Binomial(n, p) (variance n p q, checked
    with the same standard error of s²), and per-step counts have no lag-1 autocorrelation.
    Tolerances are 5 standard errors. The uniform and per-source samplers agree within 5 combined errors."""
    n, steps, trials, p = 1000, 2000, 3, 0.3
    rec, sim = _poisson_run(n, steps, p / DT, trials, seed=17)
    flags = {name: int(sim.compiled.p_flags[sim.compiled.index_of(name)]) for name in ("u", "h")}
    assert flags["u"] & L.F_UNIFORM_RATE and not flags["h"] & L.F_UNIFORM_RATE  # both samplers are exercised
    q = 1.0 - p
    m = n * trials
    mu2 = steps * p * q
    mu4 = steps * p * q * (1 + 3 * (steps - 2) * p * q)
    se_mean = math.sqrt(mu2 / m)
    se_fano = math.sqrt((mu4 - mu2**2 * (m - 3) / (m - 1)) / m) / (steps * p)
    stats = {}
    for name in ("u", "h"):
        trains = rec.spikes[name]
        key = (trains.trial.astype(np.int64) * steps + trains.step) * n + trains.neuron
        assert np.unique(key).size == key.size, f"{name}: a (trial, step, channel) fired twice"
        counts = np.bincount(trains.trial.astype(np.int64) * n + trains.neuron, minlength=m).reshape(trials, n)
        mean = counts.mean()
        fano = counts.var(ddof=1) / mean
        assert abs(mean - steps * p) < 5 * se_mean, (name, mean, steps * p, se_mean)
        assert abs(fano - q) < 5 * se_fano, (name, fano, q, se_fano)
        lag1 = np.mean([np.corrcoef(c[:-1], c[1:])[0, 1] for c in counts])
        assert abs(lag1) < 5 / math.sqrt(m), (name, lag1)
        # same-step coincidences of neighbouring channels, and last channel with the next step's first
        fired = np.zeros((trials, steps, n), bool)
        fired[trains.trial, trains.step, trains.neuron] = True
        pairs = {"neighbours": (fired[:, :, :-1] & fired[:, :, 1:], trials * steps * (n - 1)),
                 "wrap": (fired[:, :-1, -1] & fired[:, 1:, 0], trials * (steps - 1))}
        for label, (hits, count) in pairs.items():
            expected = count * p**2
            overlapping = trials * steps * (n - 2) if label == "neighbours" else 0  # pairs sharing a channel
            sd = math.sqrt(count * p**2 * (1 - p**2) + 2 * overlapping * (p**3 - p**4))
            assert abs(int(hits.sum()) - expected) < 5 * sd, (name, label, int(hits.sum()), expected, sd)
        # all channel pairs at once: the count of one step over the n channels is Binomial(n, p), and steps are
        # independent (lag-1 autocorrelation of the per-step counts within 5/sqrt(trials·steps))
        per_step = np.bincount(trains.trial.astype(np.int64) * steps + trains.step,
                               minlength=trials * steps).reshape(trials, steps)
        s2, s4, k = n * p * q, n * p * q * (1 + 3 * (n - 2) * p * q), trials * steps
        se_var = math.sqrt((s4 - s2**2 * (k - 3) / (k - 1)) / k)
        assert abs(per_step.var(ddof=1) - s2) < 5 * se_var, (name, per_step.var(ddof=1), s2, se_var)
        lag1_steps = np.mean([np.corrcoef(c[:-1], c[1:])[0, 1] for c in per_step])
        assert abs(lag1_steps) < 5 / math.sqrt(k), (name, lag1_steps)
        stats[name] = (mean, fano)
    assert abs(stats["u"][0] - stats["h"][0]) < 5 * math.sqrt(2) * se_mean
    assert abs(stats["u"][1] - stats["h"][1]) < 5 * math.sqrt(2) * se_fano


@pytest.mark.parametrize("rate,expect", [(1.0 / DT, "all"), (0.0, "none")])
def test_uniform_rate_poisson_extremes(rate, expect):
    """p = rate·dt = 1 fires every channel in every step (each geometric gap is exactly 1); rate 0 never fires."""
    n, steps, trials = 50, 300, 2
    net = Network(dt=DT, inputs=[PoissonInput("u", n, rate=rate)], monitors=[SpikeMonitor("u")])
    rec = Simulator(net).run(steps * DT, trials=trials, seed=1)
    trains = rec.spikes["u"]
    if expect == "none":
        assert len(trains) == 0 and rec.spike_counts["u"].sum() == 0
        return
    assert len(trains) == trials * steps * n
    for b in range(trials):
        neuron, step = trains.of_trial(b)
        np.testing.assert_array_equal(step, np.repeat(np.arange(steps), n))
        np.testing.assert_array_equal(neuron, np.tile(np.arange(n), steps))


def test_uniform_rate_poisson_is_the_same_however_the_run_is_chunked():
    """The position of the next success (pnext) survives kernel calls: chunk_steps=37 and 1 give the spikes of
    the default chunking, and a shorter run is a prefix of a longer one."""
    net = Network(dt=DT, inputs=[PoissonInput("u", 300, rate=150.0)], monitors=[SpikeMonitor("u")])
    sim = Simulator(net)
    ref = sim.run(0.05, trials=2, seed=2)
    for chunk in (37, 1):
        other = sim.run(0.05, trials=2, seed=2, chunk_steps=chunk)
        for field in ("trial", "neuron", "step"):
            np.testing.assert_array_equal(getattr(ref.spikes["u"], field), getattr(other.spikes["u"], field))
    short = sim.run(0.02, trials=2, seed=2)
    for b in range(2):
        full = _spike_list(ref, "u", b)
        assert _spike_list(short, "u", b) == [s for s in full if s[0] < 200]


# --- 10. hand-computed pairing protocol ---------------------------------------------------------------------------


def test_three_pre_two_post_protocol_matches_the_closed_form():
    """Pre spikes arrive at 10, 12 and 30 ms (delay 0); post spikes are forced at 20 and 23 ms by a teacher (a
    100 mV delta synapse one step earlier: the threshold of that step was already tested). tau_pre = 20 ms,
    tau_post = 15 ms, a_plus = 0.03, a_minus = 0.05, w0 = 0.4, w in [0, 1]. No post spike precedes the first
    two pre spikes, so they do not depress. Written out (times in ms, E(x, tau) = exp(-x / tau)):

    all-to-all (traces add up)                 nearest (traces reset to 1)
      post 20: + a_plus (E(10) + E(8))           + a_plus E(8)
      post 23: + a_plus (E(13) + E(11))          + a_plus E(11)
      pre  30: - a_minus (E(10) + E(7))          - a_minus E(7)

    Additive adds these; multiplicative multiplies each potentiation by (w_max - w) and each depression by
    (w - w_min), with w the weight just before that update."""
    tau_pre, tau_post, a_plus, a_minus, w0 = 20.0, 15.0, 0.03, 0.05, 0.4

    def e(x: float, tau: float) -> float:
        return math.exp(-x / tau)

    pot = {"all": [e(10, tau_pre) + e(8, tau_pre), e(13, tau_pre) + e(11, tau_pre)],
           "nearest": [e(8, tau_pre), e(11, tau_pre)]}
    dep = {"all": e(10, tau_post) + e(7, tau_post), "nearest": e(7, tau_post)}
    expected = {}
    for pairing in ("all", "nearest"):
        w = w0 + a_plus * sum(pot[pairing]) - a_minus * dep[pairing]
        expected[f"{pairing}_additive"] = w
        w = w0
        for x in pot[pairing]:
            w = w + a_plus * x * (1.0 - w)
        expected[f"{pairing}_multiplicative"] = w - a_minus * dep[pairing] * (w - 0.0)

    ms = 1e-3
    pre = SpikeTimesInput("pre", 1, times=np.array([10, 12, 30]) * ms, indices=[0, 0, 0])
    teacher = SpikeTimesInput("teacher", 1, times=np.array([199, 229]) * DT, indices=[0, 0])
    one = Connectivity(1, 1, [0, 1], [0])
    projections = [Projection("teacher", "post", one, weights=100.0, target="delta", name="teach")]
    for name in expected:
        pairing, bounds = name.split("_")
        rule = STDP(tau_pre=tau_pre * ms, tau_post=tau_post * ms, a_plus=a_plus, a_minus=a_minus, w_min=0.0,
                    w_max=1.0, pairing=pairing, bounds=bounds)
        projections.append(Projection("pre", "post", one, weights=w0, target="exc", name=name, plasticity=rule))
    model = LIF(tau_m=20e-3, v_rest=-65.0, v_threshold=-50.0, v_reset=-65.0, t_ref=1e-3)
    net = Network(dt=DT, populations=[Population("post", 1, model)], inputs=[pre, teacher],
                  projections=projections, monitors=[SpikeMonitor("post")])
    rec = Simulator(net, "float64").run(0.04)
    np.testing.assert_array_equal(rec.spikes["post"].step, [200, 230])  # the protocol itself
    for name, want in expected.items():
        np.testing.assert_allclose(rec.final_weights[name][0, 0], want, rtol=1e-12, atol=0, err_msg=name)
    values = sorted(expected.values())
    assert min(np.diff(values)) > 1e-3  # the four variants are distinguishable
