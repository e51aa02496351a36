"""Design-rule check, mapping, RRAM non-idealities, estimates and target files (hardware.check ... hardware.export)."""

from __future__ import annotations

import dataclasses
import json

import h5py
import numpy as np
import pytest
from scipy import stats

from hardware.check import TargetViolation, check
from hardware.estimate import estimate
from hardware.export import export_fpga, export_rram, read_mem, read_rram_weights
from hardware.fixed_point import ApFixed
from hardware.mapping import map_network
from hardware.rram import program
from hardware.targets import load_target, target_from_dict
from snn.connect.builders import all_to_all, fixed_probability, from_pairs
from snn.engine.simulator import Simulator
from snn.errors import ConfigError
from snn.model.network import Network, PoissonInput, Population, Projection, SpikeMonitor
from snn.model.neurons import LIF, Izhikevich
from snn.model.plasticity import STDP
from snn.reservoir.lsm import LSMSpec, build_lsm

DT = 1e-4


def _lif(**kw):
    base = dict(tau_m=20e-3, v_rest=0.0, v_threshold=10.0, v_reset=0.0, t_ref=0.0, tau_syn_exc=5e-3,
                tau_syn_inh=5e-3, bias=0.0)
    base.update(kw)
    return LIF(**base)


def _small_net(seed: int = 0, n_in: int = 12, n: int = 40, **lif) -> Network:
    """A small input -> recurrent LIF network with exc and inh weights (sizes fit every chip preset)."""
    rng = np.random.default_rng(seed)
    src = PoissonInput("in", n_in, 50.0)
    c_in = fixed_probability(n_in, n, 0.3, seed=seed + 1)
    c_rec = fixed_probability(n, n, 0.2, seed=seed + 2, allow_autapses=False)
    w_rec = rng.normal(0.0, 1.5, c_rec.nnz)
    projs = [Projection("in", "pop", c_in, weights=rng.uniform(0.5, 3.0, c_in.nnz), name="input"),
             Projection("pop", "pop", c_rec, weights=np.where(w_rec >= 0, w_rec, 0.0), name="rec_e"),
             Projection("pop", "pop", c_rec, weights=np.where(w_rec < 0, w_rec, 0.0), target="inh", name="rec_i")]
    return Network(dt=DT, populations=[Population("pop", n, _lif(**lif))], inputs=[src], projections=projs,
                   monitors=[SpikeMonitor("pop")])


# --- check: every violation at once ------------------------------------------------------------------------


def _rule_breaker() -> Network:
    """Breaks many Xylo IMU rules at once (hand-made; see the expected list in the test)."""
    src = PoissonInput("in", 20, 10.0)  # inputs: 20 > 16
    a = Population("a", 300, _lif(bias=1.0, t_ref=2e-3, v_reset=-5.0, tau_syn_exc=5e-3, tau_syn_inh=10e-3,
                                  tau_m=10.0))  # bias, refractory, reset value, 2 synapse states, decay (k > 15)
    b = Population("b", 300, Izhikevich())  # model; neurons_total 600 > 496; cores 2 > 1
    # neuron 0 of a reaches all 300 of a twice (fan_e, fan_i) and all 300 of b: fan-out 900 > 512
    pairs_pre = np.zeros(600, np.int64)
    fan = from_pairs(pairs_pre[:300], np.arange(300), 300, 300)[0]
    fan_b = from_pairs(pairs_pre[300:], np.arange(300), 300, 300)[0]
    stdp = STDP(w_min=0.0, w_max=1.0)
    projs = [Projection("in", "a", all_to_all(20, 300), weights=0.5, name="input"),  # input_targets 300 > 128
             Projection("a", "a", fan, weights=0.5, delays=3, name="fan_e"),  # delays 3 > 0
             Projection("a", "a", fan, weights=-0.5, target="inh", name="fan_i"),
             Projection("a", "b", fan_b, weights=0.5, plasticity=stdp, name="plastic")]  # plasticity
    return Network(dt=DT, populations=[a, b], inputs=[src], projections=projs)


def test_check_lists_every_violation_at_once():
    # expected rules by construction (see _rule_breaker's comments) against xylo_imu (Rockpool's Xylo IMU limits)
    t = load_target("xylo_imu")
    report = check(_rule_breaker(), t)
    expected = {"model", "neurons_total", "cores", "inputs", "input_targets", "fan_out", "reset", "refractory",
                "bias", "synapse_states", "decay", "delays", "plasticity"}
    assert report.rules() == expected
    by_rule = {v.rule: v for v in report.violations}
    assert (by_rule["inputs"].value, by_rule["inputs"].limit) == (20, 16)
    assert (by_rule["fan_out"].where, by_rule["fan_out"].value, by_rule["fan_out"].limit) == ("a", 900, 512)
    assert (by_rule["neurons_total"].value, by_rule["cores"].value) == (600, 2)
    assert by_rule["input_targets"].value == 300 and by_rule["model"].where == "b"
    # decay: tau_m = 10 s at dt = 0.1 ms needs k = round(log2(1e5)) = 17 > 15
    assert by_rule["decay"].where == "a.tau_m" and by_rule["decay"].value == 17.0
    # fit cannot repair any of these: the same list remains, and map raises with all of them in one line
    assert check(_rule_breaker(), t, fit=True).rules() == expected
    with pytest.raises(TargetViolation) as info:
        map_network(_rule_breaker(), t)
    assert {v.rule for v in info.value.violations} == expected
    # 14 violations: reset is broken by both populations (a resets to -5 mV, Izhikevich resets to c)
    assert len(info.value.violations) == len(report.violations) == 14
    assert "\n" not in str(info.value) and str(info.value).startswith("14 rule(s) broken")


def test_check_dynapse_shared_parameters_and_fan_in():
    # DYNAP-SE2 (Rockpool defaults): 64 CAM fan-in, parameters per core; 80 inputs all-to-all break fan-in
    rng = np.random.default_rng(0)
    pop = Population("p", 10, _lif(v_threshold=rng.uniform(9, 11, 10)))
    src = PoissonInput("in", 80, 5.0)
    net = Network(dt=DT, populations=[pop], inputs=[src],
                  projections=[Projection("in", "p", all_to_all(80, 10), weights=1.0)])
    report = check(net, load_target("dynapse2"))
    assert report.rules() == {"fan_in", "shared_parameters"}
    v = {x.rule: x for x in report.violations}
    assert (v["fan_in"].value, v["fan_in"].limit) == (80, 64) and v["shared_parameters"].value == ["v_threshold"]


@pytest.mark.parametrize("name", ["xylo_audio2", "loihi2", "spinnaker2", "rram_aihwkit", "fpga_hls4ml"])
def test_network_that_fits_has_no_violations(name):
    # Xylo resets by subtraction (Rockpool); Lava's Loihi LIF resets to 0 (= v_rest here): build what each takes
    net = _small_net(reset="subtract") if name == "xylo_audio2" else _small_net()
    report = check(net, load_target(name))
    assert report.ok and not report.changes, report.violations


# --- FPGA: ranges and fit -------------------------------------------------------------------------------------


def test_fpga_weight_range_fit_rescales_by_power_of_two():
    # ap_fixed<8,3> holds [-4, 4): weights up to 12 mV and a 10 mV threshold need 2^2 (12/4 = 3 -> e = 2)
    t = load_target("fpga_int8_small")
    net = _small_net()
    big = dataclasses.replace(net, projections=[dataclasses.replace(p, weights=p.weights * 4.0)
                                                for p in net.projections])
    assert check(big, t).rules() == {"weight_range"}
    fitted = check(big, t, fit=True)
    assert fitted.ok and fitted.scales["pop"] == 2.0**np.ceil(np.log2(max(np.abs(p.weights).max()
                                                                            for p in big.projections) / 4.0))
    assert fitted.changes and "2^" in fitted.changes[0]
    with pytest.raises(TargetViolation):
        map_network(big, t, fit=False)
    mapped = map_network(big, t)
    s = fitted.scales["pop"]
    for p, q in zip(big.projections, mapped.network.projections):
        # mapped weight = ap_fixed<8,3,AP_RND,AP_SAT>(w / s) * s, the format's own rounding
        np.testing.assert_array_equal(q.weights, t.weight_format.quantize(p.weights / s) * s)
        np.testing.assert_array_equal(mapped.projections[p.name].codes, t.weight_format.quantize_raw(p.weights / s))
    # threshold 10 mV / 4 = 2.5 in ap_fixed<16,8>: exact, so it is kept
    assert mapped.network.populations[0].model.v_threshold == 10.0


def test_fpga_decay_is_the_quantised_factor():
    # fixed decay: alpha = Q_state(exp(-dt/tau)), tau' = -dt / ln(alpha); ap_fixed<16,6> AP_TRN has 10 fraction bits
    t = load_target("fpga_hls4ml")
    mapped = map_network(_small_net(), t)
    alpha = np.floor(np.exp(-DT / 20e-3) * 1024) / 1024
    assert mapped.network.populations[0].model.tau_m == pytest.approx(-DT / np.log(alpha), rel=1e-12)


def test_fpga_budget_fit_raises_reuse_factor():
    # DSP model: one multiply per decaying variable per neuron per step = 40 * 2 (tau_m, one shared synapse
    # current) = 80; a budget of 30 DSPs needs RF 4 (80 / 4 = 20 <= 30; 80 / 2 = 40 > 30)
    t = dataclasses.replace(load_target("fpga_hls4ml"), dsp=30)
    assert "dsp_budget" in check(_small_net(), t).rules()
    fitted = check(_small_net(), t, fit=True)
    assert fitted.ok and fitted.reuse_factor == 4


# --- integer chips ------------------------------------------------------------------------------------------


def test_chip_weights_are_integers_on_the_full_range():
    # Xylo Audio 2: int8, s = max|w| / 127 per population; codes = round(w / s)
    t = load_target("xylo_audio2")
    net = _small_net(reset="subtract")
    mapped = map_network(net, t)
    wmax = max(np.abs(p.weights).max() for p in net.projections)
    s = wmax / 127
    for p in net.projections:
        q = mapped.projections[p.name]
        np.testing.assert_array_equal(q.codes, np.rint(p.weights / s))
        assert np.abs(q.codes).max() <= 127
        np.testing.assert_allclose(mapped.network.projections[[x.name for x in net.projections].index(p.name)].weights,
                                   q.codes * s, rtol=0, atol=1e-12)
    assert max(np.abs(q.codes).max() for q in mapped.projections.values()) == 127
    # bitshift decay: tau = 20 ms, dt = 0.1 ms -> k = round(log2(200)) = 8, alpha = 1 - 2^-8
    assert mapped.network.populations[0].model.tau_m == pytest.approx(-DT / np.log(1 - 2.0**-8), rel=1e-12)
    # threshold 10 mV on the weight grid: round(10 / s) * s
    assert mapped.network.populations[0].model.v_threshold == pytest.approx(np.rint(10.0 / s) * s, rel=1e-12)


def test_chip_threshold_range_fit_coarsens_weights():
    # a 8-bit-weight, 8-bit-threshold chip: threshold 10 mV with max|w| 0.5 mV is 2540 steps > 127
    t = target_from_dict({"kind": "neuromorphic", "name": "tiny", "weight_bits": 8, "threshold_bits": 8,
                          "state_bits": 16, "models": ["lif"], "max_delay_steps": 8})
    net = _small_net()
    small = dataclasses.replace(net, projections=[dataclasses.replace(p, weights=p.weights * 0.5 / max(
        np.abs(q.weights).max() for q in net.projections)) for p in net.projections])
    assert check(small, t).rules() == {"threshold_range"}
    fitted = check(small, t, fit=True)
    # the step becomes 10 / 127 mV, so 0.5 mV keeps round(0.5 * 12.7) = 6 levels
    assert fitted.ok and fitted.scales["pop"] == pytest.approx(10.0 / 127)
    mapped = map_network(small, t)
    assert max(np.abs(q.codes).max() for q in mapped.projections.values()) == 6


def test_mapped_network_runs_and_quantisation_is_small():
    # the mapped network is an ordinary Network; on SpiNNaker 2 (16-bit weights, exact decay) the spike count
    # stays close to the float network's (weights change by < 1/65534 of the range)
    net = _small_net(n=40, bias=9.0)  # 9 mV bias below the 10 mV threshold: inputs make the spikes
    mapped = map_network(net, load_target("spinnaker2"))
    a = Simulator(net).run(0.3, trials=2, seed=5).spike_counts["pop"].sum()
    b = Simulator(mapped.network).run(0.3, trials=2, seed=5).spike_counts["pop"].sum()
    assert a > 0 and abs(int(a) - int(b)) <= 0.05 * a


def test_stochastic_rounding_is_seeded():
    t = load_target("xylo_audio2")
    net = _small_net(reset="subtract")
    a = map_network(net, t, seed=3, rounding="stochastic").projections["input"].codes
    b = map_network(net, t, seed=3, rounding="stochastic").projections["input"].codes
    c = map_network(net, t, seed=4, rounding="stochastic").projections["input"].codes
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("kwargs, path", [({"seed": -1}, "hardware.map.seed"),
                                          ({"rounding": "up"}, "hardware.map.rounding")])
def test_map_bad_arguments(kwargs, path):
    with pytest.raises(ConfigError) as info:
        map_network(_small_net(reset="subtract"), load_target("xylo_audio2"), **kwargs)
    assert info.value.path == path and "\n" not in str(info.value)


# --- RRAM ---------------------------------------------------------------------------------------------------


def _rram(**kw):
    base = load_target("rram_aihwkit").as_dict()
    base.update(name="rram_test", g_min_us=10.0, g_max_us=50.0, n_levels=64, prog_noise_rel=0.02,
                read_noise_rel=0.0, drift_nu=0.0, drift_nu_std=0.0, p_stuck_on=0.0, p_stuck_off=0.0,
                tile_rows=16, tile_cols=16)
    base.update(kw)
    return target_from_dict(base)


def test_rram_pairs_reconstruct_the_quantised_weights():
    t = _rram()
    net = _small_net()
    mapped = map_network(net, t)
    delta = (50.0 - 10.0) / 63
    for p in net.projections:
        q = mapped.projections[p.name]
        # w_q = k (G+ - G-): exactly the mapped network's weight; one device of each pair stays at g_min
        np.testing.assert_allclose(q.k * (q.g_plus - q.g_minus), mapped.network.projections[
            [x.name for x in net.projections].index(p.name)].weights, rtol=0, atol=1e-12)
        assert np.all(np.minimum(q.g_plus, q.g_minus) == 10.0) and np.all(q.g_plus <= 50.0 + 1e-12)
        assert np.all(np.sign(q.codes) * (q.g_plus - q.g_minus) >= 0)
        # error at most half a level: |w - w_q| <= k Δ / 2
        assert q.max_error <= q.k * delta / 2 + 1e-12
    # tiles: 16 x 16 holds 8 pairs; 40 neurons -> 5 column blocks; exc and inh share one group (equal tau_syn);
    # rows: 12 inputs + <= 40 recurrent units -> <= 52 rows -> <= 4 row blocks
    assert {tile.group for tile in mapped.tiles} == {"syn"}
    assert len({tile.col_block for tile in mapped.tiles}) == 5


def test_rram_export_reconstructs_weights_and_lists_programming_order(tmp_path):
    t = _rram()
    net = _small_net()
    mapped = map_network(net, t)
    path = export_rram(mapped, tmp_path / "maps.h5")
    rebuilt = read_rram_weights(path, mapped)
    for p in mapped.network.projections:
        np.testing.assert_allclose(rebuilt[p.name], p.weights, rtol=0, atol=1e-12)
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "snn-hal-rram/1" and len(f["tiles"]) == len(mapped.tiles)
        g = f["tiles"]["0"]
        order = g["program_order"][()]
        # row by row, columns ascending, and exactly the cells above g_min
        assert np.all(np.diff(order[:, 0] * 10_000 + order[:, 1]) > 0)
        assert order.shape[0] == int((g["g"][()] > 10.0).sum())
    assert not list(tmp_path.glob(".*tmp*"))  # atomic: no temporary file left


def test_programming_noise_matches_sigma_over_many_seeds():
    # residuals G_prog - G_target over all devices and 40 seeds ~ N(0, (σ g_max)^2), σ = 0.02, g_max = 50 uS.
    # variance: (n-1) s^2 / σ^2 ~ chi2(n-1); mean: sqrt(n) mean / σ ~ N(0, 1); two-sided, α = 1e-6 each, so the
    # tolerance comes from the sample size n. g_min = 10 uS is > 10 σ above 0, so the clip at 0 never acts.
    t = _rram()
    mapped = map_network(_small_net(), t)
    res = []
    for seed in range(40):
        pn = program(mapped, seed=seed)
        for name, q in mapped.projections.items():
            res += [pn.projections[name].g_plus - q.g_plus, pn.projections[name].g_minus - q.g_minus]
    r = np.concatenate(res)
    n, sigma = r.size, 0.02 * 50.0
    chi = (n - 1) * r.var(ddof=1) / sigma**2
    assert stats.chi2.ppf(5e-7, n - 1) < chi < stats.chi2.ppf(1 - 5e-7, n - 1)
    assert abs(r.mean()) * np.sqrt(n) / sigma < stats.norm.ppf(1 - 5e-7)


def test_stuck_at_rates_match_the_profile():
    # each device independently on with p = 0.03, off with p = 0.05: binomial tests, α = 1e-6
    t = _rram(p_stuck_on=0.03, p_stuck_off=0.05)
    mapped = map_network(_small_net(), t)
    on = off = total = 0
    for seed in range(10):
        pn = program(mapped, seed=seed)
        for pp in pn.projections.values():
            stuck = np.concatenate([pp.stuck_plus, pp.stuck_minus])
            on += int((stuck == 1).sum())
            off += int((stuck == -1).sum())
            total += stuck.size
            g = np.concatenate([pp.g_plus, pp.g_minus])
            assert np.all(g[stuck == 1] == 50.0) and np.all(g[stuck == -1] == 10.0)
    assert stats.binomtest(on, total, 0.03).pvalue > 1e-6
    assert stats.binomtest(off, total, 0.05).pvalue > 1e-6


def test_drift_follows_the_power_law_and_programming_is_seeded():
    # g(t) = g(t0) (t/t0)^-ν with ν = 0.05, t0 = 20 s (ν_std = 0): at t = 2000 s the factor is 100^-0.05
    t = _rram(drift_nu=0.05, drift_t0_s=20.0)
    mapped = map_network(_small_net(), t)
    pn = program(mapped, seed=1)
    g0 = pn.conductances(20.0)
    g1 = pn.conductances(2000.0)
    for name in g0:
        np.testing.assert_allclose(g1[name][0], g0[name][0] * 100.0**-0.05, rtol=1e-12)
    np.testing.assert_array_equal(pn.conductances(5.0)["input"][0], g0["input"][0])  # before t0: no drift
    w = pn.at_time(2000.0).projections[0].weights
    np.testing.assert_array_equal(w, program(mapped, seed=1).at_time(2000.0).projections[0].weights)
    assert not np.array_equal(w, program(mapped, seed=2).at_time(2000.0).projections[0].weights)


def test_read_noise_ir_drop_and_adc():
    # read noise: one static draw with σ_r g_max = 0.01 * 50 uS (chi-square, α = 1e-6); IR drop: the closed form
    # g (1 - γ (row + col) / (rows + cols)); ADC: weights on the grid 2 · range · w_fs / (2^bits - 2)
    t = _rram(prog_noise_rel=0.0, read_noise_rel=0.01, ir_drop=0.1, adc_bits=6, adc_range=2.0)
    mapped = map_network(_small_net(), t)
    pn = program(mapped, seed=0)
    clean = dataclasses.replace(t, read_noise_rel=0.0)
    quiet = program(dataclasses.replace(mapped, target=clean), seed=0)
    diff = np.concatenate([pn.conductances(20.0, read_seed=9)[n][0] - quiet.conductances(20.0)[n][0]
                           for n in mapped.projections])
    n = diff.size
    chi = (n - 1) * diff.var(ddof=1) / 0.5**2
    assert stats.chi2.ppf(5e-7, n - 1) < chi < stats.chi2.ppf(1 - 5e-7, n - 1)
    q = mapped.projections["input"]
    expect = q.g_plus * (1 - 0.1 * (q.row + q.col) / 32)
    np.testing.assert_allclose(quiet.conductances(20.0)["input"][0], expect, rtol=1e-12)
    w = quiet.weights(20.0, adc=True)["input"]
    step = 2 * 2.0 * q.k * 40.0 / (2**6 - 2)
    np.testing.assert_allclose(w / step, np.rint(w / step), atol=1e-9)


def test_rram_program_bad_arguments():
    mapped = map_network(_small_net(), _rram())
    with pytest.raises(ConfigError) as info:
        program(mapped, seed=-2)
    assert info.value.path == "rram.program.seed" and "\n" not in str(info.value)
    with pytest.raises(ConfigError) as info:
        program(mapped, load_target("xylo_audio2"))
    assert info.value.path == "rram.program.target"
    with pytest.raises(ConfigError) as info:
        program(mapped).at_time(-1.0)
    assert info.value.path == "rram.at_time.t_s"


def test_lsm_maps_onto_the_aihwkit_crossbar_and_runs():
    # the benchmark's network: an LSM (Maass et al. 2002 defaults) on aihwkit-like tiles, programmed, read at 1 h
    net = build_lsm(LSMSpec(), PoissonInput("in", 32, 20.0), DT, seed=1)
    t = load_target("rram_aihwkit")
    mapped = map_network(net, t)
    rec = Simulator(program(mapped, seed=0).at_time(3600.0)).run(0.05, trials=1, seed=0)
    assert rec.spike_counts["liquid"].sum() > 0
    # exc (3 ms) and inh (6 ms) currents differ, so they use separate column groups
    assert {tile.group for tile in mapped.tiles} == {"exc", "inh"}


# --- FPGA export ----------------------------------------------------------------------------------------------


def test_fpga_export_mem_files_round_trip(tmp_path):
    t = load_target("fpga_hls4ml")
    mapped = map_network(_small_net(), t)
    manifest_path = export_fpga(mapped, tmp_path / "fpga")
    manifest = json.loads(manifest_path.read_text())
    assert manifest["weight_format"] == "ap_fixed<16,6,AP_TRN,AP_WRAP>"
    for name, entry in manifest["projections"].items():
        words = (tmp_path / "fpga" / entry["files"]["weights"]).read_text().split()
        assert all(len(w) == 4 for w in words)  # 16 bits -> 4 hex digits
        codes = read_mem(tmp_path / "fpga" / entry["files"]["weights"], manifest["weight_format"])
        np.testing.assert_array_equal(codes, mapped.projections[name].codes)
        # weight = code * lsb * scale (the mapped network's weight)
        proj = next(p for p in mapped.network.projections if p.name == name)
        np.testing.assert_allclose(codes * entry["mV_per_lsb"], proj.weights, rtol=0, atol=1e-12)
        idx = [int(w, 16) for w in (tmp_path / "fpga" / entry["files"]["index"]).read_text().split()]
        np.testing.assert_array_equal(idx, proj.connectivity.indices)


def test_fpga_export_refuses_other_targets(tmp_path):
    mapped = map_network(_small_net(reset="subtract"), load_target("xylo_audio2"))
    with pytest.raises(ConfigError) as info:
        export_fpga(mapped, tmp_path)
    assert info.value.path == "hardware.export_fpga"


# --- estimates ------------------------------------------------------------------------------------------------


def test_estimate_by_hand_on_loihi():
    # 40 neurons on one Loihi 2 core; synops/step = nnz · rate · dt; energy/step = synops · 23.6 pJ + 40 · 81 pJ
    # (Davies et al. 2018 constants in the preset); latency = synops_core · 3.5 ns + 40 · 8.4 ns
    net = _small_net()
    t = load_target("loihi2")
    e = estimate(net, t, rate_hz=20.0)
    synops = net.n_synapses * 20.0 * DT
    assert e["cores_used"] == 1 and e["synops_per_step"] == pytest.approx(synops)
    assert e["energy_per_step_j"] == pytest.approx(synops * 23.6e-12 + 40 * 81e-12)
    assert e["latency_per_step_s"] == pytest.approx(synops * 3.5e-9 + 40 * 8.4e-9)
    assert e["throughput_steps_per_s"] == pytest.approx(1 / e["latency_per_step_s"])
    assert e["neuron_utilisation"] == pytest.approx(40 / (128 * 8192))
    assert "Davies" in " ".join(e["energy_sources"])


def test_estimate_rram_energy_from_conductances():
    # RRAM e_syn = 2 V^2 G_mean t_read from the mapped conductances (both devices of every pair)
    t = _rram()
    mapped = map_network(_small_net(), t)
    e = estimate(mapped, rate_hz=10.0)
    g = np.concatenate([np.concatenate([q.g_plus, q.g_minus]) for q in mapped.projections.values()])
    assert e["energy_per_synop_j"] == pytest.approx(2 * t.read_voltage_v**2 * g.mean() * 1e-6 * t.t_read_s)
    assert e["tiles_used"] == len(mapped.tiles) and e["devices"] == 2 * mapped.network.n_synapses


def test_estimate_bad_arguments():
    with pytest.raises(ConfigError) as info:
        estimate(_small_net())
    assert info.value.path == "hardware.estimate.target" and "\n" not in str(info.value)
    with pytest.raises(ConfigError) as info:
        estimate(_small_net(), load_target("loihi2"), rate_hz=-1.0)
    assert info.value.path == "hardware.estimate.rate_hz"


def test_apfixed_formats_in_profiles_are_apfixed():
    t = load_target("fpga_int8_small")
    assert isinstance(t.weight_format, ApFixed) and t.weight_format.overflow == "AP_SAT"


def test_dynapse_weights_use_four_magnitude_bits():
    # DYNAP-SE2 (Rockpool: 4 weight bits selecting shared base currents; sign = synapse type): codes in [-15, 15]
    mapped = map_network(_small_net(), load_target("dynapse2"))
    codes = np.concatenate([q.codes for q in mapped.projections.values()])
    assert np.abs(codes).max() == 15
    wmax = max(np.abs(p.weights).max() for p in _small_net().projections)
    assert mapped.scales["pop"] == pytest.approx(wmax / 15)


def test_paper_style_lsm_fits_the_40nm_macro():
    # Lin et al. 2025's N-MNIST LSM has 200 neurons and one synaptic current (Gaussian weights, one decay); with
    # equal exc/inh time constants our LSM uses one column group: 200 pairs <= 256 per 512-column array, rows =
    # inputs with synapses + 200 neurons <= 512, so it fits the single array of the 40 nm preset
    spec = LSMSpec(shape=(10, 10, 2), tau_syn_inh=3e-3)
    net = build_lsm(spec, PoissonInput("in", 256, 20.0), DT, seed=0)
    t = load_target("rram_40nm_lsm")
    mapped = map_network(net, t)
    assert len(mapped.tiles) == 1 and mapped.tiles[0].group == "syn"
    # two levels per device (formed / pristine): every weight is 0 or ±k (g_max - g_min)
    for q in mapped.projections.values():
        assert set(np.unique(np.abs(q.codes))) <= {0, 1}
    # with two levels the least-squares scale ("auto" -> "mse") beats max-abs scaling, which zeroes most weights
    by_max = map_network(net, t, rram_scale="max")

    def sse(m):
        return sum(q.rms_error**2 * q.codes.size for q in m.projections.values())

    assert mapped.report["rram_scale"] == "mse" and sse(mapped) < sse(by_max)
    assert sum(v["saturated"] for v in mapped.report["projections"].values()) > 0
    assert sum(v["saturated"] for v in by_max.report["projections"].values()) == 0
    # the default LSM (exc 3 ms, inh 6 ms: two column groups of 135 pairs) needs 2 arrays: refused, not clipped
    with pytest.raises(TargetViolation) as info:
        map_network(build_lsm(LSMSpec(), PoissonInput("in", 64, 20.0), DT, seed=0), t)
    assert [v.rule for v in info.value.violations] == ["cores"]


def test_programmed_export_holds_the_programmed_conductances(tmp_path):
    # the file of a programmed network at time t holds G(t); rebuilt weights equal at_time(t)'s weights
    t = _rram(drift_nu=0.03)
    mapped = map_network(_small_net(), t)
    pn = program(mapped, seed=4)
    path = export_rram(pn, tmp_path / "programmed.h5", t_s=600.0)
    rebuilt = read_rram_weights(path, mapped)
    for p in pn.at_time(600.0).projections:
        np.testing.assert_allclose(rebuilt[p.name], p.weights, rtol=0, atol=1e-12)
    with h5py.File(path, "r") as f:
        assert bool(f.attrs["programmed"])


def test_loihi_decay_is_twelve_bit():
    # Lava's Loihi LIF: v <- v (4096 - dv) / 4096 with dv = round(4096 (1 - exp(-dt/tau))): tau = 20 ms at
    # dt = 0.1 ms gives dv = round(20.43) = 20, so tau' = -dt / ln(1 - 20/4096)
    mapped = map_network(_small_net(), load_target("loihi2"))
    assert mapped.network.populations[0].model.tau_m == pytest.approx(-DT / np.log(1 - 20 / 4096), rel=1e-12)
    # tau = 10 s: dv = round(0.041) = 0, no leak at all: the decay rule refuses it
    report = check(_small_net(tau_m=10.0), load_target("loihi2"))
    assert report.rules() == {"decay"} and report.violations[0].where == "pop.tau_m"


def test_fpga_resources_by_hand():
    # _small_net: 40 neurons with a leak and one shared synaptic current -> 80 multiplies/step -> 80 DSPs at RF 1;
    # LUT = 40 neurons x (v + 1 current) x accum width 16 x 2 = 2560; BRAM: weights nnz (16 + 6 index bits for
    # 40 targets) + state 80 x 16 bits, in 36,864-bit blocks
    net = _small_net()
    t = load_target("fpga_hls4ml")
    from hardware.estimate import fpga_resources

    res = fpga_resources(net, t)
    assert res["dsp"] == 80 and res["lut"] == 2560
    assert res["bram_36k"] == int(np.ceil((net.n_synapses * 22 + 80 * 16) / 36864))
    assert fpga_resources(net, t, reuse_factor=4)["dsp"] == 20


def test_populations_share_cores_unless_parameters_are_per_core():
    # Xylo Audio 2: one core of 1,000 neurons holds populations of 300 and 100 together; DYNAP-SE2 (parameters
    # per core, 256 neurons): 300 -> cores 0-1, then 100 starts a fresh core 2 (3 of 4 cores)
    from hardware.check import core_slices

    pops = [Population("a", 300, _lif(reset="subtract")), Population("b", 100, _lif(reset="subtract"))]
    net = Network(dt=DT, populations=pops)
    assert {c.core for c in core_slices(net, load_target("xylo_audio2"))} == {0}
    assert check(net, load_target("xylo_audio2")).ok
    slices = core_slices(net, load_target("dynapse2"))
    assert [(c.core, c.population, c.start, c.stop) for c in slices] == [(0, "a", 0, 256), (1, "a", 256, 300),
                                                                         (2, "b", 0, 100)]
    # Loihi 2 packs without a fresh start: 8,192 per core
    assert [c.core for c in core_slices(net, load_target("loihi2"))] == [0, 0]


def test_accumulator_range_and_its_fit():
    # 20 inputs of 1 mV onto each neuron: worst-case sum 20 > ap_fixed<8,4> max 7.9375; fit: e = ceil(log2(20 /
    # 7.9375)) = 2, so everything is stored as mV / 4 (sum 5 fits)
    t = dataclasses.replace(load_target("fpga_hls4ml"), accum_format=ApFixed(8, 4))
    net = Network(dt=DT, populations=[Population("p", 5, _lif())], inputs=[PoissonInput("in", 20, 5.0)],
                  projections=[Projection("in", "p", all_to_all(20, 5), weights=1.0)])
    report = check(net, t)
    assert report.rules() == {"accumulator_range"} and report.violations[0].value == 20.0
    fitted = check(net, t, fit=True)
    assert fitted.ok and fitted.scales["p"] == 4.0


def test_duplicate_synapses_cannot_share_an_rram_cell():
    conn, _ = from_pairs(np.array([0, 0, 1]), np.array([1, 1, 0]), 2, 2)
    net = Network(dt=DT, populations=[Population("p", 2, _lif())], projections=[Projection("p", "p", conn)])
    v = check(net, _rram()).violations
    assert [(x.rule, x.value) for x in v] == [("duplicate_synapses", 1)]


def test_package_exports_the_issue_names():
    # the issue's spelling: hardware.check / hardware.map / hardware.program / hardware.estimate
    import hardware

    assert hardware.map is hardware.map_network and hardware.check is check and hardware.program is program
    assert hardware.TARGET_PASSES[0] == "check"


def test_single_device_columns(tmp_path):
    # differential = false: w = k (G - g_min) with an ideal reference; negative weights are refused by the check
    t = _rram(differential=False, ir_drop=0.05)
    net = _small_net()
    pos = dataclasses.replace(net, projections=[dataclasses.replace(p, weights=np.abs(p.weights), target="exc")
                                                for p in net.projections])
    assert "negative_weights" in check(net, t).rules()
    mapped = map_network(pos, t)
    for p in mapped.network.projections:
        q = mapped.projections[p.name]
        np.testing.assert_array_equal(q.g_minus, 10.0)
        np.testing.assert_allclose(q.k * (q.g_plus - 10.0), p.weights, rtol=0, atol=1e-12)
    rebuilt = read_rram_weights(export_rram(mapped, tmp_path / "single.h5"), mapped)
    for p in mapped.network.projections:
        np.testing.assert_allclose(rebuilt[p.name], p.weights, rtol=0, atol=1e-12)
    gp, gm = program(mapped, seed=0).conductances(20.0)["input"]
    np.testing.assert_array_equal(gm, 10.0)
