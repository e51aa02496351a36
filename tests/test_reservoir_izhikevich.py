"""Izhikevich (2003) reservoir, the reservoir parameter sampler, and the rate-task metrics (memory capacity,
NARMA-10) with a smoke test of ``benchmarks/rate_reservoir_tasks.py``."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the metric functions live in benchmarks/rate_reservoir_tasks.py

from benchmarks.rate_reservoir_tasks import encode, memory_capacity, narma10, narma_nrmse, nrmse  # noqa: E402
from snn.engine.simulator import Simulator  # noqa: E402
from snn.errors import ConfigError  # noqa: E402
from snn.model.network import SpikeTimesInput  # noqa: E402
from snn.reservoir.izhikevich import (  # noqa: E402
    POPULATION,
    IzhikevichReservoirSpec,
    build_izhikevich_reservoir,
    neuron_parameters,
)
from snn.reservoir.lsm import LSMSpec  # noqa: E402
from snn.reservoir.sampler import Choice, LogUniformRange, UniformRange, sample_specs  # noqa: E402

SMALL = {"n_exc": 80, "n_inh": 20}


def _one_line(info: pytest.ExceptionInfo, path: str) -> None:
    assert info.value.path == path
    assert "\n" not in str(info.value)


# --- spec -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "path"), [
    ({"n_exc": 0}, "izhikevich.n_exc"),
    ({"n_inh": -1}, "izhikevich.n_inh"),
    ({"n_inh": 2.5}, "izhikevich.n_inh"),
    ({"n_inputs": 0}, "izhikevich.n_inputs"),
    ({"p_connect": 1.5}, "izhikevich.p_connect"),
    ({"p_connect": 0.0}, "izhikevich.p_connect"),  # scale_by_p divides by p
    ({"input_p": -0.1}, "izhikevich.input_p"),
    ({"w_exc": -0.5}, "izhikevich.w_exc"),
    ({"w_inh": 1.0}, "izhikevich.w_inh"),
    ({"synapse": "alpha"}, "izhikevich.synapse"),
    ({"tau_syn_exc": 0.0}, "izhikevich.tau_syn_exc"),
    ({"dt": 2e-3}, "izhikevich.dt"),
    ({"dt": float("nan")}, "izhikevich.dt"),
    ({"noise_exc": -1.0}, "izhikevich.noise_exc"),
    ({"input_weight": -1.0}, "izhikevich.input_weight"),
    ({"delay": -1e-3}, "izhikevich.delay"),
    ({"scale_by_p": "yes"}, "izhikevich.scale_by_p"),
    ({"v_init": 35.0}, "izhikevich.v_init"),
])
def test_spec_rejects_bad_values_in_one_line(kwargs, path):
    with pytest.raises(ConfigError) as info:
        IzhikevichReservoirSpec(**kwargs)
    _one_line(info, path)


def test_build_rejects_wrong_source_size_and_seed():
    spec = IzhikevichReservoirSpec(**SMALL, n_inputs=3)
    src = SpikeTimesInput("u", 2, np.array([0.0]), np.array([0]))
    with pytest.raises(ConfigError) as info:
        build_izhikevich_reservoir(spec, 0, src)
    _one_line(info, "izhikevich.source")
    with pytest.raises(ConfigError) as info:
        build_izhikevich_reservoir(spec, -1)
    _one_line(info, "izhikevich.seed")


# --- the built description ------------------------------------------------------------------------------


def test_default_sizes_and_paper_parameter_distributions():
    spec = IzhikevichReservoirSpec()
    assert (spec.n_exc, spec.n_inh, spec.n_neurons) == (800, 200, 1000)  # Izhikevich 2003: Ne 800, Ni 200
    net = build_izhikevich_reservoir(spec, 3)
    pop = net.population(POPULATION)
    assert pop.size == 1000
    m = pop.model
    a, b, c, d = (np.asarray(getattr(m, k)) for k in "abcd")
    r = neuron_parameters(spec, 3)["r"]
    e, i = slice(0, 800), slice(800, 1000)
    # the paper's formulas: exc a 0.02, b 0.2, c -65 + 15 r², d 8 - 6 r²; inh a 0.02 + 0.08 r, b 0.25 - 0.05 r,
    # c -65, d 2
    np.testing.assert_allclose(a[e], 0.02)
    np.testing.assert_allclose(b[e], 0.2)
    np.testing.assert_allclose(c[e], -65 + 15 * r[e] ** 2)
    np.testing.assert_allclose(d[e], 8 - 6 * r[e] ** 2)
    np.testing.assert_allclose(a[i], 0.02 + 0.08 * r[i])
    np.testing.assert_allclose(b[i], 0.25 - 0.05 * r[i])
    np.testing.assert_allclose(c[i], -65.0)
    np.testing.assert_allclose(d[i], 2.0)
    # r ~ U(0, 1): mean 1/2 (sd of the mean of 1000 draws: 0.29 / sqrt(1000) = 0.009), range inside [0, 1]
    assert 0.0 <= r.min() and r.max() <= 1.0 and abs(r.mean() - 0.5) < 0.04
    # thalamic noise: 5 and 2 per 1 ms draw, scaled by sqrt(1 ms / 0.5 ms) = sqrt(2) (NoiseCurrent docstring)
    (noise,) = net.currents
    np.testing.assert_allclose(noise.std[:800], 5 * math.sqrt(2))
    np.testing.assert_allclose(noise.std[800:], 2 * math.sqrt(2))


def test_dale_law_weights_and_all_to_all_recipe():
    spec = IzhikevichReservoirSpec(**SMALL, p_connect=1.0)
    net = build_izhikevich_reservoir(spec, 0)
    proj = {p.name: p for p in net.projections}
    n = spec.n_neurons
    for name, lo, hi, sign, scale in (("E", 0, 80, 1, 0.5), ("I", 80, 100, -1, 1.0)):
        p = proj[name]
        rows = np.repeat(np.arange(n), np.diff(p.connectivity.indptr))
        assert rows.min() >= lo and rows.max() < hi  # only the right presynaptic type
        assert p.connectivity.nnz == (hi - lo) * n  # all-to-all with autapses, as the paper's S (N x N)
        assert p.target == "delta" and p.max_delay == 0
        w = sign * np.asarray(p.weights)
        # paper: S = [0.5 rand(N, Ne), -rand(N, Ni)]: |w| ~ scale * U(0, 1); mean scale / 2 (sd of the mean
        # scale * 0.29 / sqrt(nnz) < 0.004 * scale)
        assert w.min() >= 0 and w.max() <= scale
        assert abs(w.mean() - scale / 2) < 0.03 * scale


def test_sparse_weights_scaled_by_p_and_exponential_charge():
    spec = IzhikevichReservoirSpec(p_connect=0.3)
    net = build_izhikevich_reservoir(spec, 1)
    nnz = net.n_synapses
    # Binomial(10^6, 0.3): mean 3e5, sd 458
    assert abs(nnz - 3e5) < 5 * 458
    proj = {p.name: p for p in net.projections}
    assert np.asarray(proj["E"].weights).max() <= 0.5 / 0.3  # scale_by_p: w / p
    assert abs(np.asarray(proj["E"].weights).mean() - 0.25 / 0.3) < 0.01
    exp_spec = IzhikevichReservoirSpec(**SMALL, p_connect=1.0, synapse="exponential", tau_syn_exc=5e-3,
                                       tau_syn_inh=10e-3)
    ex = {p.name: p for p in build_izhikevich_reservoir(exp_spec, 0).projections}
    de = {p.name: p for p in build_izhikevich_reservoir(IzhikevichReservoirSpec(**SMALL, p_connect=1.0), 0).projections}
    assert ex["E"].target == "exc" and ex["I"].target == "inh"
    # same charge: a current jump w decaying with tau moves v by w tau / 1 ms, so w_exp = w_delta * 1 ms / tau
    np.testing.assert_allclose(ex["E"].weights, np.asarray(de["E"].weights) * 0.2)
    np.testing.assert_allclose(ex["I"].weights, np.asarray(de["I"].weights) * 0.1)


def test_input_projection_and_input_to_inh():
    src = SpikeTimesInput("u", 4, np.array([0.001]), np.array([0]))
    spec = IzhikevichReservoirSpec(**SMALL, n_inputs=4, input_p=1.0, input_weight=3.0, input_to_inh=False)
    net = build_izhikevich_reservoir(spec, 0, src)
    (inp,) = [p for p in net.projections if p.name == "input"]
    assert inp.pre == "u" and inp.connectivity.nnz == 4 * 80  # p = 1 onto the 80 excitatory neurons only
    assert np.asarray(inp.connectivity.indices).max() < 80
    np.testing.assert_allclose(inp.weights, 3.0)


def test_same_seed_same_network_and_spikes():
    spec = IzhikevichReservoirSpec(**SMALL)
    a, b, c = (build_izhikevich_reservoir(spec, s) for s in (5, 5, 6))
    for pa, pb in zip(a.projections, b.projections):
        np.testing.assert_array_equal(pa.connectivity.indices, pb.connectivity.indices)
        np.testing.assert_array_equal(pa.weights, pb.weights)
    assert not np.array_equal(a.projections[0].weights[:10], c.projections[0].weights[:10])
    ra = Simulator(a, dtype="float64").run(0.2, trials=2, seed=1).spikes[POPULATION]
    rb = Simulator(b, dtype="float64").run(0.2, trials=2, seed=1).spikes[POPULATION]
    assert len(ra) > 0
    np.testing.assert_array_equal(ra.step, rb.step)
    np.testing.assert_array_equal(ra.neuron, rb.neuron)


def test_rates_match_the_800_200_config_and_the_paper_rhythms():
    """Cross-check against ``configs/izhikevich_800_200.toml`` (the same recipe through the config path):
    all-to-all spec and config at the same seed fire at the same mean rate within 15 % (measured: 8.8 vs 8.9 Hz
    exc). The sparse default shows the paper's rhythms (Izhikevich 2003, Fig. 3: alpha ~10 Hz, gamma ~40 Hz):
    the population rate's spectral peaks in 8-12 Hz and 30-55 Hz."""
    from snn.io.config import load_config

    cfg = load_config(ROOT / "configs" / "izhikevich_800_200.toml")[0]
    rec_cfg = Simulator(cfg, dtype="float32").run(1.0, trials=1, seed=2)
    cfg_rate = sum(int(rec_cfg.spike_counts[p][0]) for p in ("exc", "inh")) / 1000.0
    ours = build_izhikevich_reservoir(IzhikevichReservoirSpec(p_connect=1.0), 2)
    rate = int(Simulator(ours, dtype="float32").run(1.0, trials=1, seed=2).spike_counts[POPULATION][0]) / 1000.0
    assert 5.0 < cfg_rate < 15.0
    assert abs(rate - cfg_rate) < 0.15 * cfg_rate
    sparse = build_izhikevich_reservoir(IzhikevichReservoirSpec(), 2)
    rec = Simulator(sparse, dtype="float32").run(2.5, trials=1, seed=2)
    steps = rec.spikes[POPULATION].step
    # population spike count in 1 ms bins after 0.5 s; Welch: mean periodogram of four 0.5 s segments (2 Hz bins)
    r = np.bincount(steps // 2, minlength=2500)[500:2500].astype(float).reshape(4, 500)
    f = np.fft.rfftfreq(500, 1e-3)
    power = (np.abs(np.fft.rfft(r - r.mean(axis=1, keepdims=True), axis=1)) ** 2).mean(axis=0)

    def peak(lo, hi):
        band = (f >= lo) & (f < hi)
        return f[band][np.argmax(power[band])]

    assert 8.0 <= peak(4, 16) <= 12.0  # alpha (measured 10 Hz; 10 Hz in 3 of 3 trials)
    # gamma: broad in the sparse network (measured peaks 38-50 Hz over 3 trials; the all-to-all network 39-40 Hz)
    assert 30.0 <= peak(25, 60) <= 55.0


# --- sampler --------------------------------------------------------------------------------------------


SPACE = {"p_connect": UniformRange(0.1, 0.5), "input_weight": LogUniformRange(1.0, 100.0),
         "n_exc": ("uniform", 100, 104), "synapse": ("choice", ["delta", "exponential"])}


def test_sampler_valid_seeded_and_in_range():
    a = sample_specs(IzhikevichReservoirSpec(), SPACE, 10, seed=4)
    b = sample_specs(IzhikevichReservoirSpec(), SPACE, 10, seed=4)
    c = sample_specs(IzhikevichReservoirSpec(), SPACE, 10, seed=5)
    assert a == b and a != c
    for s in a:
        assert isinstance(s, IzhikevichReservoirSpec)
        assert 0.1 <= s.p_connect <= 0.5 and 1.0 <= s.input_weight <= 100.0
        assert isinstance(s.n_exc, int) and 100 <= s.n_exc <= 104
        assert s.n_inh == 200  # untouched fields keep the base value
    # Latin hypercube: each of the 10 strata of every range holds exactly one sample (McKay et al. 1979)
    q = np.array([(s.p_connect - 0.1) / 0.4 for s in a])
    assert sorted(np.floor(q * 10).astype(int)) == list(range(10))
    ql = np.array([math.log(s.input_weight) / math.log(100.0) for s in a])
    assert sorted(np.floor(ql * 10).astype(int)) == list(range(10))
    assert [s.synapse for s in a].count("delta") == 5  # 10 strata over 2 options: 5 each
    assert {s.n_exc for s in a} == {100, 101, 102, 103, 104}  # 10 strata over 5 integers: each twice
    r = sample_specs(IzhikevichReservoirSpec(), SPACE, 10, seed=4, method="random")
    assert all(0.1 <= s.p_connect <= 0.5 for s in r) and r != a


def test_sampler_works_for_lsm_specs():
    specs = sample_specs(LSMSpec(), {"shape": Choice([(3, 3, 3), (4, 4, 4)]), "lam": (("uniform", 1.0, 3.0)),
                                     "weight_cv": {"uniform": [0.0, 1.0]}}, 6, seed=0)
    assert all(isinstance(s, LSMSpec) and s.shape in ((3, 3, 3), (4, 4, 4)) and 1.0 <= s.lam <= 3.0
               for s in specs)


@pytest.mark.parametrize(("space", "path"), [
    ({"nope": UniformRange(0, 1)}, "sampler.space.nope"),
    ({"p_connect": ("uniform", 0.5, 0.1)}, "sampler.space.p_connect.high"),
    ({"input_weight": ("log_uniform", 0.0, 1.0)}, "sampler.space.input_weight.low"),
    ({"p_connect": ("uniform", 0.1, float("inf"))}, "sampler.space.p_connect.high"),
    ({"synapse": ("choice", [])}, "sampler.space.synapse.options"),
    ({"p_connect": ("gaussian", 0.1, 0.2)}, "sampler.space.p_connect"),
    ({"n_exc": ("uniform", 10.2, 10.8)}, "sampler.space.n_exc"),
    ({"p_connect": ("uniform", 0.5, 1.5)}, r"sampler\.sample\[\d+\]\.izhikevich\.p_connect"),  # spec: p <= 1
])
def test_sampler_rejects_bad_spaces_in_one_line(space, path):
    with pytest.raises(ConfigError) as info:
        sample_specs(IzhikevichReservoirSpec(), space, 20, seed=0, method="random")
    assert re.fullmatch(path, info.value.path)  # paths are regexes (a dot also matches itself)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("kwargs", "path"), [
    ({"n": 0}, "sampler.n"), ({"seed": -1}, "sampler.seed"), ({"method": "sobol"}, "sampler.method"),
])
def test_sampler_rejects_bad_arguments(kwargs, path):
    args = {"n": 2, "seed": 0, "method": "lhs", **kwargs}
    with pytest.raises(ConfigError) as info:
        sample_specs(IzhikevichReservoirSpec(), {}, **args)
    _one_line(info, path)


# --- metrics --------------------------------------------------------------------------------------------


def test_perfect_delay_line_has_mc_k_max():
    # a "reservoir" whose state holds u(t), u(t-1), ..., u(t-k_max) recalls every delay exactly: rho² = 1 for
    # k = 1..k_max, so MC = k_max (Jaeger 2001's upper bound for a delay line of that length)
    rng = np.random.default_rng(0)
    u = rng.uniform(-0.8, 0.8, 600)
    k_max = 20
    states = np.stack([np.concatenate([np.zeros(k), u[:u.size - k]]) for k in range(k_max + 1)], axis=1)
    caps = memory_capacity(states, u, k_max, 0.2, alpha=1e-10, as_list=True)
    np.testing.assert_allclose(caps, 1.0, atol=1e-9)
    # only u(t) in the state: nothing of the past (i.i.d. input), MC ~ 0 (sample rho² of ~120 test points)
    assert memory_capacity(states[:, :1], u, k_max, 0.2) < 0.3


def test_mc_matches_reservoirpy_on_the_same_states():
    pytest.importorskip("reservoirpy")
    from reservoirpy.nodes import Reservoir, Ridge
    from reservoirpy.observables import memory_capacity as rpy_mc

    k_max = 20
    u = np.random.default_rng(1).uniform(-0.8, 0.8, 300)
    expected = rpy_mc(Reservoir(30, sr=1, seed=2) >> Ridge(ridge=1e-4), k_max, series=u[:, None])
    # reservoirpy runs its reservoir from u[k_max] on (sliding windows), from a zero state
    states = np.zeros((u.size, 30))
    states[k_max:] = Reservoir(30, sr=1, seed=2).run(u[k_max:, None])
    assert memory_capacity(states, u, k_max, 0.2, alpha=1e-4) == pytest.approx(expected, rel=1e-6)


def test_narma10_generators():
    pytest.importorskip("reservoirpy")
    from reservoirpy.datasets import narma

    u = np.random.default_rng(3).uniform(0, 0.5, 400)
    # reservoirpy 0.4.2 narma(order=10) with NARMA-10's constants, fed the same u: identical series
    _, y_lib = narma(390, order=10, a1=0.3, a2=0.05, b=1.5, c=0.1, u=u[:, None])
    np.testing.assert_allclose(narma10(u, "reservoirpy")[10:], y_lib[:, 0], rtol=0, atol=1e-12)
    # Atiya & Parlos 2000 by hand: y = 0 up to t = 9; y(10) = 1.5 u(0) u(9) + 0.1;
    # y(11) = 0.3 y(10) + 0.05 y(10)·y(10) + 1.5 u(1) u(10) + 0.1
    y = narma10(u)
    assert np.all(y[:10] == 0)
    y10 = 1.5 * u[0] * u[9] + 0.1
    assert y[10] == pytest.approx(y10, abs=1e-15)
    assert y[11] == pytest.approx(0.3 * y10 + 0.05 * y10 * y10 + 1.5 * u[1] * u[10] + 0.1, abs=1e-15)
    assert not np.allclose(y[20:], narma10(u, "reservoirpy")[20:])  # the two conventions differ


def test_nrmse_closed_forms():
    y = np.random.default_rng(0).normal(size=200)
    assert nrmse(y, y) == 0.0
    assert nrmse(y, np.full_like(y, y.mean())) == pytest.approx(1.0)  # predicting the mean: sqrt(var/var)
    # a state that holds the target itself (y(t+1) at time t) is read out exactly
    target = narma10(np.random.default_rng(2).uniform(0, 0.5, 500))
    states = np.concatenate([target[1:], [0.0]])[:, None]
    assert narma_nrmse(states, target, 0.2, alpha=1e-10) < 1e-6


def test_encoder_rates_follow_the_tuning_curves():
    # channel j's rate is rate_hz · exp(-(x - j / (M - 1))² / (2 sigma²)), sigma = width / (M - 1): for x = 0 and
    # width 1, channel j is j sigma away, rate 100 · exp(-j² / 2) Hz
    u = np.zeros(2000)
    src = encode([u], [(0.0, 1.0)], 5, 0.02, 100.0, 1.0, seed=0)
    counts = np.bincount(src.indices, minlength=5) / (2000 * 0.02)
    expected = 100.0 * np.exp(-np.arange(5) ** 2 / 2.0)
    np.testing.assert_allclose(counts, expected, atol=3.0)  # Poisson: sd sqrt(100 * 40) / 40 = 1.6 Hz
    assert np.all(src.trials == 0) and np.all(np.diff(np.floor(src.times / 0.02)) >= 0)


# --- benchmark smoke test -------------------------------------------------------------------------------


def test_rate_reservoir_tasks_quick(tmp_path):
    pytest.importorskip("reservoirpy")
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.rate_reservoir_tasks", "--quick", "--search", "2",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["reference_mc_reservoirpy"] == 18.78
    esn = data["models"]["esn"]
    assert esn["mc_reservoirpy_default"] == pytest.approx(18.78, abs=0.01)  # reservoirpy docstring value
    assert data["checks"]["narma_reservoirpy_convention_max_abs_diff"] < 1e-12
    for name in ("izhikevich", "izhikevich_no_recurrence", "izhikevich_searched", "lsm", "esn"):
        m = data["models"][name]
        assert 0.0 <= m["mc"] <= data["config"]["k_max"]
        for key in ("narma10_nrmse", "narma10_nrmse_reservoirpy_series"):
            assert 0.0 < m[key] < 2.0
        assert m["n_neurons"] > 0 and m["wall_s"] > 0
    assert data["models"]["izhikevich"]["n_neurons"] == 100  # quick: 80 + 20
    assert all(r > 0 for r in data["models"]["izhikevich"]["rate_hz"])
    searched = data["models"]["izhikevich_searched"]
    assert len(searched["search"]) == 2 and searched["chosen"] in (0, 1)
    best = max(row["validation_mc"] for row in searched["search"])
    assert searched["search"][searched["chosen"]]["validation_mc"] == best  # chosen on validation MC only
