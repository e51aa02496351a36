"""Liquid state machine: spec validation, structure, connection statistics, delays, features, batch runner."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from snn.connect import grid_positions
from snn.data import EVENT_DTYPE, SaccadeCamera, load_event_dataset, to_input
from snn.engine.recording import Recording, SpikeTrains
from snn.engine.simulator import Simulator
from snn.errors import ConfigError
from snn.model import Network, PoissonInput
from snn.reservoir import (
    POPULATION,
    TYPES,
    LSMSpec,
    RidgeReadout,
    binned_counts,
    build_lsm,
    delay_steps,
    excitatory_mask,
    extract_features,
    filtered_traces,
    reservoir_projections,
    trace_series,
)
from snn.reservoir.lsm import input_projection

SENSOR = (6, 5, 2)


def _events(n: int, seed: int, per_sample: int = 300, span_us: int = 60_000) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        ev = np.zeros(per_sample, EVENT_DTYPE)
        ev["x"] = rng.integers(0, SENSOR[0], per_sample)
        ev["y"] = rng.integers(0, SENSOR[1], per_sample)
        ev["p"] = rng.integers(0, 2, per_sample).astype(bool)
        ev["t"] = np.sort(rng.integers(0, span_us, per_sample))
        out.append(ev)
    return out


# --- spec -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"shape": (15, 3)}, r"^lsm\.shape = \(15, 3\): must be 3 integers >= 1 \(nx, ny, nz\)$"),
    ({"shape": (15, 0, 3)}, r"^lsm\.shape = \(15, 0, 3\): must be 3 integers"),
    ({"exc_fraction": 1.2}, r"^lsm\.exc_fraction = 1\.2: must be in \[0, 1\]$"),
    ({"lam": 0.0}, r"^lsm\.lam = 0\.0: must be > 0 \(grid spacings\)$"),
    ({"c": (0.3, 0.2, 1.4, 0.1)}, r"^lsm\.c\.IE = 1\.4: must be a probability in \[0, 1\]$"),
    ({"c": (0.3, 0.2)}, r"^lsm\.c = \(0\.3, 0\.2\): must be 4 numbers \(EE, EI, IE, II\)$"),
    ({"weights": (5.0, -1.0, -10.0, -10.0)}, r"^lsm\.weights\.EI = -1\.0: must be >= 0 \(mV; excitatory"),
    ({"weights": (5.0, 1.0, 10.0, -10.0)}, r"^lsm\.weights\.IE = 10\.0: must be <= 0 \(mV; inhibitory"),
    ({"delays": (1.5e-3, -1e-3, 0.8e-3, 0.8e-3)}, r"^lsm\.delays\.EI = -0\.001: must be >= 0 \(seconds\)$"),
    ({"tau_m": 0}, r"^lsm\.tau_m = 0: must be > 0 \(seconds\)$"),
    ({"weight_cv": float("nan")}, r"^lsm\.weight_cv = nan: must be a finite number$"),
    ({"bias_low": 15.0, "bias_high": 14.0}, r"^lsm\.bias_high = 14\.0: must be >= bias_low = 15\.0 \(mV\)$"),
    ({"input_p": True}, r"^lsm\.input_p = True: must be a finite number$"),
    ({"input_lam": -1.0}, r"^lsm\.input_lam = -1\.0: must be 0 \(no topography\) or > 0 \(sensor pixels\)$"),
])
def test_spec_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        LSMSpec(**kwargs)


def test_build_validation() -> None:
    src = to_input(_events(1, 0), SENSOR, "ev")
    with pytest.raises(ConfigError, match=r"^simulation\.dt = 0: must be a number of seconds in \(0, 1\)$"):
        build_lsm(LSMSpec(), src, 0, seed=1)
    with pytest.raises(ConfigError, match=r"^lsm\.seed = -1: must be an integer >= 0$"):
        build_lsm(LSMSpec(), src, 1e-4, seed=-1)
    with pytest.raises(ConfigError, match=r"^features\.batch = 0: must be an integer >= 1$"):
        extract_features(LSMSpec(), _events(2, 0), SENSOR, 0.05, 5e-4, 1, batch=0)
    kinds = r"\['counts', 'traces', 'counts\+traces'\]"
    with pytest.raises(ConfigError, match=r"^features\.kind = 'rates': must be one of " + kinds + "$"):
        extract_features(LSMSpec(), _events(2, 0), SENSOR, 0.05, 5e-4, 1, kind="rates")
    with pytest.raises(ConfigError, match=r"^features\.bin_s = 0\.0012: must be a whole number of steps"):
        extract_features(LSMSpec(), _events(2, 0), SENSOR, 0.05, 5e-4, 1, bin_s=0.0012)
    bad = _events(2, 0)
    bad[1]["x"][0] = 99
    with pytest.raises(ConfigError, match=r"^inputs\.events\.events\[1\]\.x = .*: must lie in \[0, 6\)"):
        extract_features(LSMSpec(), bad, SENSOR, 0.05, 5e-4, 1)


# --- structure ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "n", "n_exc"), [((15, 3, 3), 135, 108), ((10, 10, 10), 1000, 800)])
def test_sizes_and_split(shape: tuple[int, int, int], n: int, n_exc: int) -> None:
    spec = LSMSpec(shape=shape)
    assert (spec.n_neurons, spec.n_exc) == (n, n_exc)
    exc = excitatory_mask(spec, seed=3)
    assert exc.shape == (n,) and exc.sum() == n_exc
    assert not np.array_equal(exc, excitatory_mask(spec, seed=4))     # positions are random, seeded
    assert np.array_equal(exc, excitatory_mask(spec, seed=3))


def test_network_structure() -> None:
    spec = LSMSpec()
    src = to_input(_events(2, 0), SENSOR, "ev")
    net = build_lsm(spec, src, 1e-4, seed=5)
    assert isinstance(net, Network)
    exc = excitatory_mask(spec, 5)
    (pop,) = net.populations
    assert pop.name == POPULATION and pop.size == 135
    np.testing.assert_array_equal(pop.model.t_ref, np.where(exc, 3e-3, 2e-3))
    assert np.all((pop.model.bias >= 13.5) & (pop.model.bias <= 14.5)) and np.ptp(pop.model.bias) > 0
    projs = {p.name: p for p in net.projections}
    assert set(projs) == {*TYPES, "input"}
    for t in TYPES:
        p = projs[t]
        pre, post = p.connectivity.pre_indices(), p.connectivity.indices
        assert np.all(exc[pre] == (t[0] == "E")) and np.all(exc[post] == (t[1] == "E"))
        assert not np.any(pre == post)                                   # no autapses
        assert p.target == ("exc" if t[0] == "E" else "inh")
        assert np.all(p.weights > 0) if t[0] == "E" else np.all(p.weights < 0)
        assert np.ptp(p.weights) > 0                                     # heterogeneous
    inp = projs["input"]
    assert inp.connectivity.n_pre == 60 and inp.pre == "ev"
    assert abs(inp.connectivity.nnz - 0.1 * 60 * 135) < 4 * math.sqrt(0.1 * 0.9 * 60 * 135)
    # same seed, same network; another seed, another one
    again = {p.name: p for p in build_lsm(spec, src, 1e-4, seed=5).projections}
    other = {p.name: p for p in build_lsm(spec, src, 1e-4, seed=6).projections}
    for t in TYPES:
        np.testing.assert_array_equal(again[t].weights, projs[t].weights)
        np.testing.assert_array_equal(again[t].connectivity.indices, projs[t].connectivity.indices)
    assert not np.array_equal(other["EE"].connectivity.indices, projs["EE"].connectivity.indices)
    # weights: gamma around the mean, coefficient of variation weight_cv
    w = projs["EE"].weights
    assert abs(w.mean() - 5.0) < 4 * 0.5 * 5.0 / math.sqrt(w.size)


def test_connection_probability_follows_maass_kernel() -> None:
    """Empirical P(connect | d = 1) per type vs C exp(-1/lam²), within 4 binomial standard errors."""
    spec = LSMSpec(shape=(10, 10, 10), lam=2.0)
    exc = excitatory_mask(spec, 11)
    pos = grid_positions(spec.shape)
    diff = pos[:, None, :] - pos[None, :, :]
    at_one = np.isclose(np.sqrt((diff**2).sum(-1)), 1.0)
    at_two = np.isclose(np.sqrt((diff**2).sum(-1)), 2.0)
    projs = {p.name: p for p in reservoir_projections(spec, 1e-4, 11)}
    for k, t in enumerate(TYPES):
        pre_ok = exc if t[0] == "E" else ~exc
        post_ok = exc if t[1] == "E" else ~exc
        conn = projs[t].connectivity
        adj = np.zeros((1000, 1000), bool)
        adj[conn.pre_indices(), conn.indices] = True
        for mask, d in ((at_one, 1.0), (at_two, 2.0)):
            pairs = mask & pre_ok[:, None] & post_ok[None, :]
            n, hits = int(pairs.sum()), int((adj & pairs).sum())
            p = spec.c[k] * math.exp(-(d / spec.lam) ** 2)
            assert abs(hits - n * p) < 4 * math.sqrt(n * p * (1 - p)), (t, d, hits, n, p)
        assert not np.any(adj & ~(pre_ok[:, None] & post_ok[None, :]))


def test_topographic_input_follows_its_kernel() -> None:
    """input_lam > 0: the neuron at grid (x, y, z) sits over sensor pixel ((x + .5) W / nx - .5, (y + .5) H / ny
    - .5); a channel (either polarity) connects with p exp(-(d / lam)**2). Expected counts in distance bands are
    sums of those probabilities over the pairs (closed form), within 4 binomial standard errors."""
    sensor = (12, 8, 2)
    spec = LSMSpec(shape=(4, 2, 3), input_p=0.9, input_lam=1.5, input_weight_exc=3.0, input_weight_inh=1.0)
    src = to_input(_events(1, 0)[0][:0], sensor, "ev")
    proj = input_projection(spec, src, 5e-4, 2)
    conn = proj.connectivity
    ch = np.arange(12 * 8 * 2)
    px = np.stack([ch % 12, (ch // 12) % 8], axis=1).astype(float)
    pos = grid_positions(spec.shape)
    centre = np.stack([(pos[:, 0] + 0.5) * 3 - 0.5, (pos[:, 1] + 0.5) * 4 - 0.5], axis=1)
    d = np.sqrt(((px[:, None, :] - centre[None, :, :]) ** 2).sum(-1))  # (channels, neurons)
    prob = 0.9 * np.exp(-(d / 1.5) ** 2)
    adj = np.zeros(d.shape, bool)
    adj[conn.pre_indices(), conn.indices] = True
    for lo, hi in ((0, 1), (1, 2), (2, 3), (3, 5)):
        band = (d >= lo) & (d < hi)
        mean, var = prob[band].sum(), (prob[band] * (1 - prob[band])).sum()
        assert abs(adj[band].sum() - mean) < 4 * math.sqrt(var) + 1, (lo, hi, adj[band].sum(), mean)
    assert not np.any(adj & (d > 7.5))  # p < 1e-10 per pair there
    assert proj.name == "input" and proj.target == "exc"
    exc = excitatory_mask(spec, 2)
    # weights keep their means by target type (gamma spread, cv 0.5)
    w = np.asarray(proj.weights)
    assert abs(w[exc[conn.indices]].mean() / 3.0 - 1) < 0.25 and abs(w[~exc[conn.indices]].mean() - 1.0) < 0.5
    with pytest.raises(ConfigError, match=r"^lsm\.input_lam = 1\.5: needs an event-sensor source"):
        input_projection(spec, PoissonInput("ev", 20, rate=5.0), 5e-4, 2)


def test_delay_rounding() -> None:
    np.testing.assert_array_equal(delay_steps([1.5e-3, 0.8e-3, 0.0, 0.26e-3], 1e-4), [15, 8, 1, 3])
    np.testing.assert_array_equal(delay_steps([1.5e-3, 0.8e-3], 5e-4), [3, 2])
    np.testing.assert_array_equal(delay_steps([1.5e-3, 0.8e-3], 1e-3), [2, 1])
    projs = {p.name: p for p in reservoir_projections(LSMSpec(), 1e-4, 2)}
    assert np.all(projs["EE"].delays == 15) and all(np.all(projs[t].delays == 8) for t in ("EI", "IE", "II"))
    spread = {p.name: p for p in reservoir_projections(LSMSpec(delay_sd=0.3e-3), 1e-4, 2)}
    d = spread["EE"].delays.astype(float)
    assert d.min() >= 1 and np.ptp(d) > 0 and abs(d.mean() - 15) < 0.5
    assert np.array_equal(d, np.rint(d))


# --- features -------------------------------------------------------------------------------------------


def _recording() -> Recording:
    # trial 0: neuron 1 at steps 0, 3, 9; neuron 2 at step 5. trial 1: neuron 0 at step 9. dt = 1 ms, 10 steps
    trains = SpikeTrains(np.array([0, 0, 0, 0, 1]), np.array([1, 1, 2, 1, 0]), np.array([0, 3, 5, 9, 9]))
    return Recording(dt=1e-3, n_steps=10, trials=2, sizes={"r": 3}, spikes={"r": trains})


def test_binned_counts_by_hand() -> None:
    x = binned_counts(_recording(), "r", bin_s=4e-3)        # bins [0,4), [4,8), [8,10) steps
    expected = np.zeros((2, 3, 3))
    expected[0, 0, 1] = 2
    expected[0, 1, 2] = 1
    expected[0, 2, 1] = 1
    expected[1, 2, 0] = 1
    np.testing.assert_array_equal(x, expected.reshape(2, 9))
    with pytest.raises(ConfigError, match=r"^features\.bin_s = 0\.0025: must be a whole number of steps"):
        binned_counts(_recording(), "r", bin_s=2.5e-3)
    with pytest.raises(ConfigError, match=r"^features\.population = 'q': has no SpikeMonitor; recorded: \['r'\]$"):
        binned_counts(_recording(), "q", bin_s=1e-3)
    # the same spikes listed in another order (trial 1 first) count the same
    shuffled = SpikeTrains(np.array([1, 0, 0, 0, 0]), np.array([0, 1, 1, 2, 1]), np.array([9, 0, 3, 5, 9]))
    rec = Recording(dt=1e-3, n_steps=10, trials=2, sizes={"r": 3}, spikes={"r": shuffled})
    np.testing.assert_array_equal(binned_counts(rec, "r", bin_s=4e-3), expected.reshape(2, 9))
    # a neuron index outside the population is refused (the counting kernel does not bounds-check)
    bad = SpikeTrains(np.array([0]), np.array([3]), np.array([0]))
    rec = Recording(dt=1e-3, n_steps=10, trials=2, sizes={"r": 3}, spikes={"r": bad})
    with pytest.raises(ConfigError, match=r"^features\.spikes\.neuron = 3: must lie in \[0, 3\)$"):
        binned_counts(rec, "r", bin_s=4e-3)


def test_filtered_traces_by_hand() -> None:
    tau = 2e-3
    x = filtered_traces(_recording(), "r", tau_s=tau, times_s=[4e-3, 10e-3]).reshape(2, 2, 3)
    e = np.exp
    np.testing.assert_allclose(x[0, 0], [0, e(-4 / 2) + e(-1 / 2), 0])
    np.testing.assert_allclose(x[0, 1], [0, e(-10 / 2) + e(-7 / 2) + e(-1 / 2), e(-5 / 2)])
    np.testing.assert_allclose(x[1, 0], [0, 0, 0])
    np.testing.assert_allclose(x[1, 1], [e(-1 / 2), 0, 0])
    with pytest.raises(ConfigError, match=r"^features\.tau_s = -1\.0: must be a finite number > 0 \(seconds\)$"):
        filtered_traces(_recording(), "r", tau_s=-1.0)


def test_trace_series_equals_filtered_traces_at_every_time() -> None:
    # expected: the direct sum of filtered_traces (checked by hand above) at each readout time; the recursion
    # only reorders the float operations
    times = [1e-3, 4e-3, 5e-3, 9e-3, 10e-3]
    series = trace_series(_recording(), "r", tau_s=3e-3, times_s=times)
    direct = filtered_traces(_recording(), "r", tau_s=3e-3, times_s=times).reshape(2, len(times), 3)
    assert series.shape == (2, 5, 3)
    np.testing.assert_allclose(series, direct, rtol=1e-12, atol=1e-15)
    for bad in ([], [2e-3, 2e-3], [1e-3, float("nan")], [-1e-3]):
        with pytest.raises(ConfigError) as info:
            trace_series(_recording(), "r", tau_s=3e-3, times_s=bad)
        assert info.value.path == "features.times_s" and "\n" not in str(info.value)


def test_features_from_a_simulation_match_the_recording() -> None:
    spec = LSMSpec(shape=(5, 3, 3))
    evs = _events(3, 4)
    rec = Simulator(build_lsm(spec, to_input(evs, SENSOR, "events"), 5e-4, 1)).run(0.06, trials=3)
    counts = binned_counts(rec, bin_s=0.02)
    assert counts.shape == (3, 3 * 45)
    np.testing.assert_array_equal(counts.sum(axis=1), rec.spike_counts[POPULATION])
    assert counts.sum() > 0
    x = extract_features(spec, evs, SENSOR, 0.06, 5e-4, 1, batch=2, bin_s=0.02)
    np.testing.assert_array_equal(x, counts)
    both = extract_features(spec, evs, SENSOR, 0.06, 5e-4, 1, batch=3, kind="counts+traces", bin_s=0.02,
                            tau_s=0.01, times_s=[0.03, 0.06])
    # expected: the two kinds side by side, counts first (extract_features' docstring)
    np.testing.assert_array_equal(both, np.hstack([counts, filtered_traces(rec, tau_s=0.01, times_s=[0.03, 0.06])]))
    done = []
    extract_features(spec, evs, SENSOR, 0.06, 5e-4, 1, batch=2, bin_s=0.02, progress=done.append)
    assert done == [2, 1]


def test_batch_and_thread_invariance() -> None:
    spec = LSMSpec(shape=(6, 3, 3))
    evs = _events(20, 7)
    kw = dict(sensor_size=SENSOR, duration_s=0.06, dt=5e-4, seed=3)
    a = extract_features(spec, evs, batch=4, bin_s=0.02, **kw)
    b = extract_features(spec, evs, batch=16, bin_s=0.02, **kw)
    assert a.shape == (20, 3 * 54) and a.sum() > 0
    np.testing.assert_array_equal(a, b)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        t1 = extract_features(spec, evs, batch=16, kind="traces", tau_s=0.01, times_s=[0.03, 0.06], **kw)
        c1 = extract_features(spec, evs, batch=16, bin_s=0.02, **kw)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        t2 = extract_features(spec, evs, batch=16, kind="traces", tau_s=0.01, times_s=[0.03, 0.06], **kw)
        c2 = extract_features(spec, evs, batch=16, bin_s=0.02, **kw)
    finally:
        numba.set_num_threads(threads)
    assert t1.shape == (20, 2 * 54) and t1.sum() > 0
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(c1, a)
    np.testing.assert_array_equal(c2, a)


# --- end to end -----------------------------------------------------------------------------------------


def test_digits_smoke_above_chance(tmp_path) -> None:
    """LSM + ridge on saccade digits: held-out accuracy above chance (0.1) by a binomial margin. Not a benchmark."""
    pytest.importorskip("sklearn")
    cam = SaccadeCamera(seed=0)
    train = load_event_dataset("digits", "train", cam, n_samples=60, seed=0, cache_dir=tmp_path)
    test = load_event_dataset("digits", "test", cam, n_samples=40, seed=0, cache_dir=tmp_path)
    spec = LSMSpec()
    kw = dict(sensor_size=train.sensor_size, duration_s=0.32, dt=5e-4, seed=1, bin_s=0.04)
    x_train = extract_features(spec, train.events, **kw)
    x_test = extract_features(spec, test.events, **kw)
    readout = RidgeReadout(folds=5, seed=0).fit(x_train, train.labels)
    correct = int(round(readout.score(x_test, test.labels) * len(test.labels)))
    n = len(test.labels)
    # P(at least `correct` right | guessing with p = 0.1) must be below 1e-3
    tail = sum(math.comb(n, k) * 0.1**k * 0.9 ** (n - k) for k in range(correct, n + 1))
    assert tail < 1e-3, (correct, n, tail)


def test_dynamic_synapses_carry_the_papers_udf_per_type():
    """Maass, Natschläger & Markram (2002): mean (U, D, F) per type; static synapses by default; a liquid with
    the paper's weight scale and dynamic synapses runs."""
    from snn.model import PoissonInput
    from snn.reservoir.lsm import DYNAMIC_UDF

    static = build_lsm(LSMSpec(), PoissonInput("in", 20, 40.0), dt=1e-4, seed=3)
    assert all(p.stp is None for p in static.projections)
    paper = LSMSpec(weights=(30.0, 60.0, -19.0, -19.0), dynamic_synapses=True)
    dynamic = build_lsm(paper, PoissonInput("in", 20, 40.0), dt=1e-4, seed=3)
    for proj in dynamic.projections:
        if proj.name in DYNAMIC_UDF:
            u, d, f = DYNAMIC_UDF[proj.name]
            assert (proj.stp.U, proj.stp.tau_rec, proj.stp.tau_facil) == (u, d, f)
    rec = Simulator(dynamic, "float64").run(0.2, seed=1)
    assert rec.n_spikes > 0
    with pytest.raises(ConfigError, match="dynamic_synapses"):
        LSMSpec(dynamic_synapses="yes")
