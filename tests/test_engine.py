"""Engine behaviour: determinism, batches of trials, immutability of the description, precision modes, sources,
noise statistics, event-stream channel mapping, spike-buffer draining and synaptic-event accounting."""

from __future__ import annotations

import dataclasses
import math

import numba
import numpy as np

from snn.engine import Simulator
from snn.engine.recording import MemorySink
from snn.model import (
    EVENT_DTYPE,
    LIF,
    AdaptiveLIF,
    Connectivity,
    EventStreamInput,
    Izhikevich,
    Network,
    NoiseCurrent,
    Normal,
    PoissonInput,
    Population,
    Projection,
    RateMonitor,
    SpikeMonitor,
    SpikeTimesInput,
    StateMonitor,
    Uniform,
)

DT = 1e-4


def _random_csr(n_pre: int, n_post: int, p: float, seed: int) -> Connectivity:
    mask = np.random.default_rng(seed).random((n_pre, n_post)) < p
    pre, post = np.nonzero(mask)  # row-major: sorted by pre, then post
    indptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n_pre))])
    return Connectivity(n_pre, n_post, indptr, post)


def _one_to_one(n: int) -> Connectivity:
    return Connectivity(n, n, np.arange(n + 1), np.arange(n))


def _spike_set(trains, trial: int) -> list[tuple[int, int]]:
    neuron, step = trains.of_trial(trial)
    return sorted(zip(step.tolist(), neuron.tolist()))


def _recurrent_network(n: int = 200, seed: int = 1, noise: bool = True) -> Network:
    """Random E/I LIF network with Poisson drive, heterogeneous delays, random initial v and noise."""
    n_exc = n * 4 // 5
    model = LIF(tau_m=20e-3, v_rest=-60.0, v_threshold=-50.0, v_reset=-60.0, t_ref=2e-3, tau_syn_exc=5e-3,
                tau_syn_inh=10e-3)
    rng = np.random.default_rng(seed)
    ee = _random_csr(n, n, 0.05, seed + 1)
    delays = rng.integers(1, 6, ee.nnz)
    weights = np.where(ee.pre_indices() < n_exc, 1.2, -6.0)
    rec_exc = Projection("net", "net", ee, weights=np.abs(weights) * (weights > 0), delays=delays, target="exc",
                         name="rec_exc")
    rec_inh = Projection("net", "net", ee, weights=weights * (weights < 0), delays=delays, target="inh",
                         name="rec_inh")
    drive = Projection("poisson", "net", _random_csr(50, n, 0.2, seed + 2), weights=2.0, delays=0, target="exc")
    return Network(
        dt=DT,
        populations=[Population("net", n, model, {"v": Uniform(-60.0, -50.0)})],
        inputs=[PoissonInput("poisson", 50, rate=100.0)],
        projections=[rec_exc, rec_inh, drive],
        currents=[NoiseCurrent("net", mean=2.0, std=3.0)] if noise else [],
        monitors=[SpikeMonitor("net"), SpikeMonitor("poisson"), StateMonitor("net", ("v", "i_exc"), indices=[0, 7])],
    )


# --- determinism and batches ------------------------------------------------------------------------------------


def test_same_seed_gives_identical_spikes_at_any_thread_count():
    net = _recurrent_network()
    sim = Simulator(net, dtype="float32")
    before = numba.get_num_threads()
    recs = []
    try:
        for threads in (1, 2, 1):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            recs.append(sim.run(0.15, trials=4, seed=123))
    finally:
        numba.set_num_threads(before)
    ref = recs[0]
    assert len(ref.spikes["net"]) > 200, "network too quiet to be a meaningful check"
    for rec in recs[1:]:
        for pop in ("net", "poisson"):
            a, b = ref.spikes[pop], rec.spikes[pop]
            np.testing.assert_array_equal(a.trial, b.trial)
            np.testing.assert_array_equal(a.neuron, b.neuron)
            np.testing.assert_array_equal(a.step, b.step)
        np.testing.assert_array_equal(ref.states["net"]["v"], rec.states["net"]["v"])
        np.testing.assert_array_equal(ref.synaptic_events, rec.synaptic_events)
    # and a different seed gives a different run
    other = sim.run(0.15, trials=4, seed=124)
    assert _spike_set(other.spikes["net"], 0) != _spike_set(ref.spikes["net"], 0)


def test_trial_zero_of_a_batch_equals_a_single_trial_run_and_trials_differ():
    net = _recurrent_network()
    sim = Simulator(net, dtype="float64")
    single = sim.run(0.1, trials=1, seed=7)
    batch = sim.run(0.1, trials=3, seed=7)
    assert batch.trials == 3
    for pop in ("net", "poisson"):
        assert _spike_set(batch.spikes[pop], 0) == _spike_set(single.spikes[pop], 0)
    np.testing.assert_array_equal(batch.states["net"]["v"][0], single.states["net"]["v"][0])
    np.testing.assert_array_equal(batch.spike_counts["net"][:1], single.spike_counts["net"])
    # trials are independent: different initial values (v sampled at step 0), Poisson draws and spikes
    v0 = batch.states["net"]["v"][:, 0, :]
    assert len({tuple(row) for row in v0.tolist()}) == 3
    for a in range(3):
        for b in range(a + 1, 3):
            assert _spike_set(batch.spikes["poisson"], a) != _spike_set(batch.spikes["poisson"], b)
            assert _spike_set(batch.spikes["net"], a) != _spike_set(batch.spikes["net"], b)
    assert batch.spike_counts["net"].shape == (3,)


def test_spike_times_input_with_trials_feeds_a_different_pattern_to_each_trial():
    """Trial 0: source 0 at step 10; trial 1: source 1 at steps 20 and 30; trial 2: nothing. A delta projection
    (w = 1 mV, delay 0) makes the target's v jump in the sample after the spike step."""
    times = np.array([10, 20, 30]) * DT
    src = SpikeTimesInput("in", 2, times=times, indices=[0, 1, 1], trials=[0, 1, 1])
    net = Network(dt=DT, populations=[Population("p", 2, LIF(v_threshold=1e6, v_rest=0.0))], inputs=[src],
                  projections=[Projection("in", "p", _one_to_one(2), weights=1.0, target="delta")],
                  monitors=[SpikeMonitor("in"), StateMonitor("p", ("v",))])
    rec = Simulator(net, dtype="float64").run(50 * DT, trials=3, seed=0)
    assert _spike_set(rec.spikes["in"], 0) == [(10, 0)]
    assert _spike_set(rec.spikes["in"], 1) == [(20, 1), (30, 1)]
    assert _spike_set(rec.spikes["in"], 2) == []
    np.testing.assert_array_equal(rec.spike_counts["in"], [1, 2, 0])
    v = rec.states["p"]["v"]
    assert v[0, 11, 0] == 1.0 and v[0, 10, 0] == 0.0 and np.all(v[0, :, 1] == 0.0)
    assert v[1, 21, 1] == 1.0 and np.all(v[1, :, 0] == 0.0)
    np.testing.assert_array_equal(v[2], 0.0)

    shared = SpikeTimesInput("in", 2, times=times, indices=[0, 1, 1])  # no trials: every trial gets all spikes
    net2 = dataclasses.replace(net, inputs=[shared])
    rec2 = Simulator(net2, dtype="float64").run(50 * DT, trials=2, seed=0)
    for b in range(2):
        assert _spike_set(rec2.spikes["in"], b) == [(10, 0), (20, 1), (30, 1)]


def _events(rows: list[tuple[int, int, int, bool]]) -> np.ndarray:
    ev = np.zeros(len(rows), EVENT_DTYPE)
    for k, (x, y, t, p) in enumerate(rows):
        ev[k] = (x, y, t, p)
    return ev


def test_event_stream_with_one_stream_per_trial():
    streams = [_events([(0, 0, 250, False), (1, 0, 900, True)]), _events([(1, 1, 100, False)])]
    src = EventStreamInput("ev", streams, sensor_size=(2, 2, 2))
    net = Network(dt=DT, populations=[Population("p", 8, LIF())], inputs=[src],
                  projections=[Projection("ev", "p", _one_to_one(8), weights=0.1)], monitors=[SpikeMonitor("ev")])
    rec = Simulator(net).run(20 * DT, trials=2, seed=0)
    # channel (p·H + y)·W + x, step floor(t µs · 1e-6 / dt)
    assert _spike_set(rec.spikes["ev"], 0) == [(2, 0), (9, 5)]
    assert _spike_set(rec.spikes["ev"], 1) == [(1, 3)]
    single = Simulator(dataclasses.replace(net, inputs=[EventStreamInput("ev", streams[0], (2, 2, 2))])).run(
        20 * DT, trials=2, seed=0)
    for b in range(2):  # one shared stream feeds every trial
        assert _spike_set(single.spikes["ev"], b) == [(2, 0), (9, 5)]


# --- the description is never changed ----------------------------------------------------------------------------


def _arrays(obj, path: str = "net"):
    """Every numpy array reachable from a network description, with its path."""
    if isinstance(obj, np.ndarray):
        yield path, obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _arrays(getattr(obj, f.name), f"{path}.{f.name}")
    elif isinstance(obj, (list, tuple)):
        for k, item in enumerate(obj):
            yield from _arrays(item, f"{path}[{k}]")
    elif isinstance(obj, dict):
        for k, item in obj.items():
            yield from _arrays(item, f"{path}[{k!r}]")


def _full_network(noise_arrays: bool = False) -> Network:
    n = 30
    rng = np.random.default_rng(3)
    conn = _random_csr(n, n, 0.2, 5)
    lif = LIF(tau_m=rng.uniform(10e-3, 30e-3, n), bias=rng.uniform(10.0, 20.0, n), t_ref=np.full(n, 1e-3))
    izh = Izhikevich(a=np.full(10, 0.02), d=rng.uniform(2.0, 8.0, 10), bias=5.0)
    events = _events([(0, 0, 100, False), (1, 0, 300, True)])
    return Network(
        dt=DT,
        populations=[
            Population("lif", n, lif, {"v": rng.uniform(-65.0, -55.0, n), "i_exc": Normal(0.0, 1.0)}),
            Population("izh", 10, izh, {"v": np.full(10, -70.0)}),
            Population("ad", 5, AdaptiveLIF(bias=30.0)),
        ],
        inputs=[
            PoissonInput("poisson", n, rate=rng.uniform(5.0, 50.0, n)),
            SpikeTimesInput("times", 3, times=[0.001, 0.002], indices=[0, 2]),
            EventStreamInput("ev", events, sensor_size=(2, 1, 2)),
        ],
        projections=[
            Projection("lif", "lif", conn, weights=rng.uniform(0.0, 1.0, conn.nnz),
                       delays=rng.integers(0, 5, conn.nnz), name="rec"),
            Projection("poisson", "lif", _one_to_one(n), weights=np.full(n, 3.0), delays=2),
            Projection("times", "izh", _random_csr(3, 10, 0.5, 6), weights=5.0, target="delta"),
            Projection("ev", "ad", _random_csr(4, 5, 0.5, 7), weights=-1.0, target="inh"),
        ],
        currents=[NoiseCurrent("lif", mean=np.zeros(n), std=np.full(n, 0.5)) if noise_arrays
                  else NoiseCurrent("lif", mean=0.0, std=0.5)],
        monitors=[SpikeMonitor("lif"), StateMonitor("izh", ("v", "u"), indices=np.array([1, 3])), RateMonitor("ad")],
        metadata={"note": "full"},
    )


def test_engine_never_mutates_the_description_and_its_arrays_are_read_only():
    net = _full_network()
    arrays = list(_arrays(net))
    assert len(arrays) >= 15, [p for p, _ in arrays]
    copies = {path: a.copy() for path, a in arrays}
    for path, a in arrays:
        assert not a.flags.writeable, f"{path} is writeable"
    for dtype in ("float32", "float64"):
        rec = Simulator(net, dtype=dtype).run(0.02, trials=2, seed=5)
        assert rec.spike_counts["lif"].sum() > 0
    for path, a in _arrays(net):
        np.testing.assert_array_equal(a, copies[path], err_msg=path)
        assert not a.flags.writeable, f"{path} became writeable"
    assert len(list(_arrays(net))) == len(arrays)


def test_noise_current_arrays_are_read_only():
    net = _full_network(noise_arrays=True)
    for path, a in _arrays(net.currents, "net.currents"):
        assert not a.flags.writeable, f"{path} is writeable"


# --- precision modes --------------------------------------------------------------------------------------------


def test_float32_and_float64_agree_on_spike_counts_of_a_feedforward_network():
    """No recurrence and no noise, so it is not chaotic: rounding only shifts rare near-threshold crossings.
    Poisson draws use float64 probabilities in both modes, so the input spikes are identical."""
    n = 300
    net = Network(
        dt=DT,
        populations=[Population("p", n, LIF(v_rest=-65.0, v_threshold=-50.0, bias=10.0), {"v": Uniform(-65.0, -50.0)})],
        inputs=[PoissonInput("in", 200, rate=20.0)],
        projections=[Projection("in", "p", _random_csr(200, n, 0.1, 11), weights=2.5, delays=3)],
        monitors=[SpikeMonitor("p"), SpikeMonitor("in"), StateMonitor("p", ("v", "i_exc"), indices=[0, 1])],
    )
    recs = {dt: Simulator(net, dtype=dt).run(0.3, trials=2, seed=9) for dt in ("float32", "float64")}
    r32, r64 = recs["float32"], recs["float64"]
    assert _spike_set(r32.spikes["in"], 1) == _spike_set(r64.spikes["in"], 1)
    c32, c64 = r32.spike_counts["p"], r64.spike_counts["p"]
    assert np.all(c64 > 800)
    np.testing.assert_allclose(c32, c64, rtol=0.03)
    # not only the counts: nearly every spike is at the same step and neuron
    for b in range(2):
        s32, s64 = set(_spike_set(r32.spikes["p"], b)), set(_spike_set(r64.spikes["p"], b))
        assert len(s32 ^ s64) < 0.05 * len(s64)
    for var in ("v", "i_exc"):
        assert r32.states["p"][var].dtype == np.float32
        assert r64.states["p"][var].dtype == np.float64
    assert r32.metadata["dtype"] == "float32" and r64.metadata["dtype"] == "float64"


# --- sources and monitors ---------------------------------------------------------------------------------------


def test_poisson_counts_match_the_binomial_expectation_and_monitors_agree():
    """Each source spikes with probability p = rate·dt per step: count ~ Binomial(n·steps, p), checked within
    5 sigma. Sources with rate 0 never spike; rate = 1/dt spikes every step. The RateMonitor's per-step counts
    sum to the recorded spikes, and Recording.spike_counts agrees with the SpikeMonitor."""
    n, steps, rate = 400, 3000, 50.0
    rates = np.full(n, rate)
    rates[:10] = 0.0
    rates[10] = 1.0 / DT
    net = Network(dt=DT, inputs=[PoissonInput("in", n, rate=rates)],
                  monitors=[SpikeMonitor("in"), RateMonitor("in")])
    rec = Simulator(net).run(steps * DT, trials=3, seed=2)
    trains = rec.spikes["in"]
    p = rate * DT
    mean = (n - 11) * steps * p
    sigma = math.sqrt((n - 11) * steps * p * (1 - p))
    for b in range(3):
        neuron, step = trains.of_trial(b)
        assert not np.any(neuron < 10)
        np.testing.assert_array_equal(step[neuron == 10], np.arange(steps))
        count = int(np.sum(neuron > 10))
        assert abs(count - mean) < 5 * sigma, (count, mean, sigma)
        assert rec.spike_counts["in"][b] == neuron.size
        assert rec.rates["in"][b].sum() == neuron.size
        np.testing.assert_array_equal(rec.rates["in"][b], np.bincount(step, minlength=steps))
    assert rec.rates["in"].shape == (3, steps)
    # per-source counts: no source is stuck (each of the 389 fair sources is Binomial(3·steps, p))
    per_source = np.bincount(trains.neuron, minlength=n)[11:]
    assert per_source.min() > 0
    assert abs(per_source.var() / per_source.mean() - (1 - p)) < 0.25  # Fano factor of a Bernoulli process


def test_spike_counts_agree_with_spike_and_rate_monitors_for_neurons():
    net = _recurrent_network(noise=False)
    net = dataclasses.replace(net, monitors=list(net.monitors) + [RateMonitor("net")])
    rec = Simulator(net).run(0.1, trials=2, seed=4)
    for b in range(2):
        neuron, _ = rec.spikes["net"].of_trial(b)
        assert rec.spike_counts["net"][b] == neuron.size == rec.rates["net"][b].sum()
    assert rec.n_spikes == len(rec.spikes["net"])


def test_noise_current_gives_the_discrete_ornstein_uhlenbeck_variance():
    """A current xi_k ~ N(mean, std²) held over step k gives, with the exact propagator e_m = e^{-dt/tau_m},
        v_{k+1} - v_inf = e_m (v_k - v_inf) + r (1 - e_m) (xi_k - mean),   v_inf = v_rest + r (bias + mean),
    an AR(1) process with stationary variance var = r² (1 - e_m)² std² / (1 - e_m²) and lag-L autocorrelation
    e_m^L. Initial v is drawn from the stationary distribution, so every sample is stationary."""
    n, tau_m, r, bias, mean, std = 2000, 10e-3, 2.0, 1.0, 3.0, 5.0
    em = math.exp(-DT / tau_m)
    v_inf = -65.0 + r * (bias + mean)
    var = r**2 * (1 - em) ** 2 * std**2 / (1 - em**2)
    model = LIF(tau_m=tau_m, v_rest=-65.0, r=r, bias=bias, v_threshold=1e6)
    net = Network(dt=DT, populations=[Population("p", n, model, {"v": Normal(v_inf, math.sqrt(var))})],
                  currents=[NoiseCurrent("p", mean=mean, std=std)],
                  monitors=[StateMonitor("p", ("v",), every=50)])
    steps = 1000
    rec = Simulator(net, dtype="float64").run(steps * DT, trials=1, seed=8)
    v = rec.states["p"]["v"][0]  # (20 samples, n), samples 50 steps apart (correlation e^-0.5)
    assert v.shape == (steps // 50, n)
    assert abs(v.mean() - v_inf) < 5 * math.sqrt(var / v.size) * 3  # samples are correlated: allow a factor 3
    assert abs(v.var() / var - 1) < 0.05, (v.var(), var)
    lag = 50
    c = np.mean((v[1:] - v_inf) * (v[:-1] - v_inf)) / np.mean((v - v_inf) ** 2)
    assert abs(c - em**lag) < 0.03, (c, em**lag)


def test_noise_is_independent_across_neurons_and_steps():
    """With v_rest = 0, v_0 = 0 and r = 1, one step gives v_1 = (1 - e_m) xi_0: recovered over neurons, xi_0 must be
    N(0, std²) (mean, std, kurtosis 3) with no repeated draws between neurons."""
    n, tau_m, std = 20000, 10e-3, 2.0
    em = math.exp(-DT / tau_m)
    net = Network(dt=DT, populations=[Population("p", n, LIF(tau_m=tau_m, v_rest=0.0, v_threshold=1e6))],
                  currents=[NoiseCurrent("p", mean=0.0, std=std)], monitors=[StateMonitor("p")])
    v = Simulator(net, dtype="float64").run(3 * DT, seed=1).states["p"]["v"][0]
    xi = v[1] / (1 - em)
    assert abs(xi.mean()) < 5 * std / math.sqrt(n)
    assert abs(xi.std() / std - 1) < 0.03
    assert np.unique(xi).size == n
    # kurtosis of a normal is 3 (distinguishes it from e.g. a uniform draw with the same variance)
    assert abs(np.mean(xi**4) / np.mean(xi**2) ** 2 - 3.0) < 0.2


# --- event streams ----------------------------------------------------------------------------------------------


def test_event_stream_channel_mapping_and_time_binning():
    """An event (x, y, p) drives channel (p·H + y)·W + x; an event at t µs lands in step floor(t·1e-6/dt).
    One-to-one exc projection (w = 1, delay 0) onto 30 LIF neurons: the neuron whose i_exc jumps by 1 at the
    end of step s is the channel's, i.e. i_exc(s + 1) - e^{-dt/tau_syn}·i_exc(s) = 1 there and 0 elsewhere."""
    w_, h_, p_ = 5, 3, 2
    rows = [(0, 0, 150, False), (4, 2, 420, True), (2, 1, 999, False), (3, 0, 1000, True), (1, 2, 2345, True),
            (4, 0, 2399, False)]
    ev = _events(rows)
    n = w_ * h_ * p_
    tau_s = 5e-3
    net = Network(dt=DT, populations=[Population("p", n, LIF(v_threshold=1e6, tau_syn_exc=tau_s))],
                  inputs=[EventStreamInput("ev", ev, sensor_size=(w_, h_, p_))],
                  projections=[Projection("ev", "p", _one_to_one(n), weights=1.0, delays=0)],
                  monitors=[SpikeMonitor("ev"), StateMonitor("p", ("i_exc",))])
    rec = Simulator(net, dtype="float64").run(40 * DT, seed=0)
    expected = sorted(((t * 100) // 10_000, (int(p) * h_ + y) * w_ + x) for x, y, t, p in rows)
    assert [s for s, _ in expected] == [1, 4, 9, 10, 23, 23]
    assert _spike_set(rec.spikes["ev"], 0) == expected
    i = rec.states["p"]["i_exc"][0]
    jump = i[1:] - math.exp(-DT / tau_s) * i[:-1]  # (steps - 1, n): input delivered at the end of each step
    want = np.zeros_like(jump)
    for s, ch in expected:
        want[s, ch] += 1.0
    np.testing.assert_allclose(jump, want, atol=1e-12)


def test_event_stream_binning_is_a_floor_for_coarse_dt():
    dt = 1e-3
    ev = _events([(0, 0, 4999, False), (0, 0, 5000, False), (0, 0, 9998, False)])
    net = Network(dt=dt, populations=[Population("p", 1, LIF())], inputs=[EventStreamInput("ev", ev, (1, 1, 1))],
                  monitors=[SpikeMonitor("ev")])
    rec = Simulator(net).run(20 * dt, seed=0)
    np.testing.assert_array_equal(rec.spikes["ev"].step, [4, 5, 9])


# --- spike buffer and event accounting -------------------------------------------------------------------------


class _CountingSink(MemorySink):
    def __init__(self) -> None:
        super().__init__()
        self.drains = 0

    def spikes(self, population, trial, neuron, step) -> None:
        self.drains += 1
        super().spikes(population, trial, neuron, step)


def test_small_chunks_and_forced_buffer_drains_give_identical_results():
    """1000 fast-firing neurons produce >3·2^16 spikes per trial, more than the spike buffer holds, so even a single
    chunk must stop and drain several times. Results must equal a run drained every 7 steps."""
    n, steps = 1000, 3000
    rng = np.random.default_rng(0)
    model = LIF(tau_m=10e-3, v_rest=0.0, v_threshold=1.0, v_reset=0.0, t_ref=5e-4, bias=rng.uniform(3.0, 30.0, n))
    net = Network(dt=DT, populations=[Population("p", n, model, {"v": Uniform(0.0, 1.0)})],
                  monitors=[SpikeMonitor("p"), RateMonitor("p"), StateMonitor("p", ("v",), indices=[0, 999], every=3)])
    sim = Simulator(net, dtype="float64")
    big_sink, small_sink = _CountingSink(), _CountingSink()
    big = sim.run(steps * DT, trials=2, seed=1, sink=big_sink)
    small = sim.run(steps * DT, trials=2, seed=1, sink=small_sink, chunk_steps=7)
    assert big.spike_counts["p"].min() > 3 * (1 << 16)
    assert big_sink.drains >= 3, "the buffer should have overflowed and been drained mid-chunk"
    assert small_sink.drains >= steps // 7
    for a, b in ((big.spikes["p"].trial, small.spikes["p"].trial), (big.spikes["p"].neuron, small.spikes["p"].neuron),
                 (big.spikes["p"].step, small.spikes["p"].step)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(big.rates["p"], small.rates["p"])
    np.testing.assert_array_equal(big.states["p"]["v"], small.states["p"]["v"])
    assert big.states["p"]["v"].shape == (2, steps // 3, 2)
    for b in range(2):
        neuron, step = big.spikes["p"].of_trial(b)
        assert neuron.size == big.spike_counts["p"][b]
        np.testing.assert_array_equal(np.bincount(step, minlength=steps), big.rates["p"][b])
        # no spike lost or duplicated: every neuron's spike steps strictly increase
        order = np.lexsort((step, neuron))
        same = neuron[order][1:] == neuron[order][:-1]
        assert np.all(np.diff(step[order])[same] > 0)


def test_synaptic_events_equal_delivered_out_degree():
    """Every delivered spike counts one event per synapse of its row whose delay has elapsed within the run:
    events = Σ_projections Σ_spikes (s, i) #{synapses of row i with s + delay <= n_steps - 1}."""
    net = _recurrent_network(n=150, seed=4)
    delta = Projection("net", "net", _random_csr(150, 150, 0.02, 9), weights=0.1, delays=0, target="delta",
                       name="delta")
    net = dataclasses.replace(net, projections=list(net.projections) + [delta])
    steps = 1200
    rec = Simulator(net).run(steps * DT, trials=3, seed=6)
    assert len(rec.spikes["net"]) > 100
    expected = np.zeros(3, np.int64)
    for proj in net.projections:
        conn = proj.connectivity
        delays = np.broadcast_to(np.asarray(proj.delays, np.int64), (conn.nnz,))
        for b in range(3):
            neuron, step = rec.spikes[proj.pre].of_trial(b)
            for i, s in zip(neuron.tolist(), step.tolist()):
                row = delays[conn.indptr[i]:conn.indptr[i + 1]]
                expected[b] += int(np.sum(s + row <= steps - 1))
    np.testing.assert_array_equal(rec.synaptic_events, expected)
    assert rec.n_synaptic_events == expected.sum()
