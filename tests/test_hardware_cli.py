"""``snn hw check / map / emulate / estimate / export`` and :mod:`hardware.emulate`.

The expected values come from the Python API the verbs wrap (:func:`hardware.check`, :func:`hardware.map_network`,
:func:`hardware.program`, :func:`hardware.estimate`), called on the same config: the CLI must add nothing and lose
nothing on the way.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hardware.check import check
from hardware.emulate import emulate, emulated_network
from hardware.estimate import estimate
from hardware.export import read_rram_weights
from hardware.mapping import map_network
from hardware.nir_import import from_nir
from hardware.rram import program
from hardware.targets import load_target
from snn.cli import main
from snn.errors import ConfigError
from snn.io.config import load_config
from snn.io.hdf5 import load_recording

SMALL = """
[simulation]
name = "small"
dt = 1e-3
duration = 0.3
seed = 3
trials = 2
dtype = "float64"

[inputs.drive]
kind = "poisson"
size = 16
rate = 60.0

[populations.hidden]
model = "lif"
size = 40

[populations.hidden.params]
tau_m = 20e-3
v_rest = 0.0
v_threshold = 6.0
v_reset = 0.0
t_ref = 0.0
tau_syn_exc = 5e-3
tau_syn_inh = 5e-3

[[projections]]
pre = "drive"
post = "hidden"
target = "exc"
weight = { uniform = [1.0, 3.0] }
connect = { rule = "fixed_probability", p = 0.5 }

[[projections]]
pre = "hidden"
post = "hidden"
target = "inh"
weight = -1.0
connect = { rule = "fixed_probability", p = 0.2 }

[monitors]
spikes = ["hidden"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def _spikes(rec, pop: str = "hidden") -> list[tuple[np.ndarray, np.ndarray]]:
    return [rec.spikes[pop].of_trial(k) for k in range(rec.trials)]


def test_check_exits_0_when_it_fits_and_1_listing_every_rule(config, capsys):
    assert main(["hw", "check", str(config), "--target", "loihi2"]) == 0
    # Xylo resets by subtraction only (configs/targets/xylo_audio2.toml); the config resets to a value
    assert main(["hw", "check", str(config), "--target", "xylo_audio2", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    net, _ = load_config(config)
    expected = check(net, load_target("xylo_audio2"))
    assert out["fits"] is False
    assert [(v["rule"], v["where"]) for v in out["violations"]] == [(v.rule, v.where) for v in expected.violations]
    assert ("reset", "hidden") in [(v["rule"], v["where"]) for v in out["violations"]]


def test_check_fit_reports_what_it_changed(config, capsys):
    # the worst-case input sum (16 inputs x 3 mV, fully connected worst case) overflows ap_fixed<16,6>'s 32 mV range
    assert main(["hw", "check", str(config), "--target", "fpga_hls4ml"]) == 1
    assert "accumulator_range at hidden" in capsys.readouterr().out
    assert main(["hw", "check", str(config), "--target", "fpga_hls4ml", "--fit"]) == 0
    assert "fit: hidden:" in capsys.readouterr().out


def test_map_prints_and_writes_the_mapping_report(config, tmp_path, capsys):
    out_json = tmp_path / "map.json"
    assert main(["hw", "map", str(config), "--target", "rram_40nm_lsm", "--json", str(out_json)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(out_json.read_text()) == printed
    net, _ = load_config(config, seed=0)
    mapped = map_network(net, load_target("rram_40nm_lsm"))
    assert printed["tiles_used"] == len(mapped.tiles)
    assert set(printed["report"]["projections"]) == set(mapped.projections)


def test_estimate_json_equals_the_api(config, capsys):
    assert main(["hw", "estimate", str(config), "--target", "loihi2", "--rate", "20", "--json"]) == 0
    net, _ = load_config(config)
    expected = estimate(net, load_target("loihi2"), rate_hz=20.0)
    got = json.loads(capsys.readouterr().out)
    assert got["memory_bits"] == expected["memory_bits"]
    assert got["energy_per_step_j"] == pytest.approx(expected["energy_per_step_j"])


def test_emulate_writes_the_recording_of_the_api_run(config, tmp_path):
    out = tmp_path / "rram.h5"
    assert main(["hw", "emulate", str(config), "--target", "rram_40nm_lsm", "--out", str(out), "--t-s", "60",
                 "--no-progress"]) == 0
    rec = load_recording(out)
    net, settings = load_config(config)
    mapped = map_network(net, load_target("rram_40nm_lsm"), seed=settings.seed)
    expected = emulate(mapped, settings.duration, trials=settings.trials, seed=settings.seed, t_s=60.0)
    assert rec.trials == 2
    for (s1, i1), (s2, i2) in zip(_spikes(rec), _spikes(expected), strict=True):
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_array_equal(i1, i2)
    assert sum(s.size for s, _ in _spikes(rec)) > 0  # the comparison is not between two empty rasters


def test_rram_emulation_reads_the_programmed_devices(config):
    # expected: hardware.rram's equations (module docstring) on the profile's own numbers
    net, settings = load_config(config)
    mapped = map_network(net, load_target("rram_aihwkit"))
    t = mapped.target
    emulated = emulated_network(mapped, t_s=3600.0, seed=5)
    expected = program(mapped, seed=5).weights(3600.0)
    for p in emulated.projections:
        np.testing.assert_array_equal(p.weights, expected[p.name])
        k = mapped.projections[p.name].k
        step = 2 * t.adc_range * k * (t.g_max_us - t.g_min_us) / (2**t.adc_bits - 2)
        assert p.read.noise_std == pytest.approx(k * t.read_noise_rel * t.g_max_us * np.sqrt(2))
        assert p.read.adc_step == pytest.approx(step)
        assert p.read.adc_max == pytest.approx((2 ** (t.adc_bits - 1) - 1) * step)
    assert all(p.read is None for p in mapped.network.projections)  # the mapped network is not changed
    ideal = emulated_network(mapped, t_s=3600.0, seed=5, read_noise=False, adc=False)
    assert all(p.read.noise_std == 0 and p.read.adc_step == 0 for p in ideal.projections)
    # per-read noise reaches the spikes: the same seed repeats them, the ideal read gives other ones
    runs = [emulate(mapped, settings.duration, trials=2, seed=5, **kw)
            for kw in ({}, {}, {"read_noise": False, "adc": False})]
    a, b, c = (_spikes(r) for r in runs)
    for (s1, i1), (s2, i2) in zip(a, b, strict=True):
        np.testing.assert_array_equal(s1, s2)
        np.testing.assert_array_equal(i1, i2)
    assert any(not np.array_equal(s1, s3) or not np.array_equal(i1, i3) for (s1, i1), (s3, i3) in zip(a, c))
    assert emulated_network(map_network(net, load_target("loihi2"))).name.endswith("@loihi2")


def test_export_writes_target_files_and_nir(config, tmp_path):
    out = tmp_path / "rram"
    with pytest.warns(UserWarning, match="PoissonInput is exported as a plain NIR Input"):
        assert main(["hw", "export", str(config), "--target", "rram_40nm_lsm", "--out", str(out)]) == 0
    net, _ = load_config(config, seed=0)
    mapped = map_network(net, load_target("rram_40nm_lsm"))
    weights = read_rram_weights(out / "conductances.h5", mapped)
    for p in mapped.network.projections:
        np.testing.assert_allclose(weights[p.name], np.broadcast_to(p.weights, weights[p.name].shape), atol=1e-9)
    # the exported graph reads back as the mapped network: one 40-neuron population, the mapped weights
    graph = from_nir(out / "network.nir", dt=1e-3)
    assert [p.size for p in graph.network.populations] == [40]
    back = sorted(np.concatenate([np.asarray(p.weights, np.float64) for p in graph.network.projections]))
    sent = sorted(np.concatenate([np.broadcast_to(p.weights, (p.connectivity.nnz,))
                                  for p in mapped.network.projections]))
    np.testing.assert_allclose(back, sent, rtol=1e-6)
    fpga = tmp_path / "fpga"
    with pytest.warns(UserWarning, match="PoissonInput"):
        assert main(["hw", "export", str(config), "--target", "fpga_int8_small", "--out", str(fpga)]) == 0
    manifest = json.loads((fpga / "fpga" / "manifest.json").read_text())
    assert manifest["target"] == "fpga_int8_small"


@pytest.mark.parametrize("args, field", [
    (["hw", "check", "{cfg}", "--target", "no_such_chip"], "no_such_chip"),
    (["hw", "emulate", "{cfg}", "--target", "loihi2", "--out", "{tmp}/missing/x.h5"], "missing"),
    (["hw", "emulate", "{cfg}", "--target", "rram_aihwkit", "--out", "{tmp}/x.h5", "--t-s", "-1"], "t_s"),
    (["hw", "emulate", "{cfg}", "--target", "xylo_audio2", "--out", "{tmp}/x.h5"], "reset"),
    (["hw", "export", "{cfg}", "--target", "loihi2", "--out", "{cfg}"], "hw.export.out"),
    (["hw", "export", "{cfg}", "--target", "rram_aihwkit", "--out", "{tmp}/ex", "--t-s", "-3"], "hw.export.t_s"),
    (["hw", "map", "{cfg}", "--target", "loihi2", "--json", "{tmp}/missing/m.json"], "hw.map.json"),
])
def test_bad_input_is_one_line_and_exit_2(config, tmp_path, capsys, args, field):
    argv = [a.format(cfg=config, tmp=tmp_path) for a in args]
    assert main(argv + (["--no-progress"] if argv[1] == "emulate" else [])) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and field in err
    assert not (tmp_path / "x.h5").exists() and not (tmp_path / "ex").exists()


def test_emulate_rejects_what_is_not_a_mapped_network(config):
    net, _ = load_config(config)
    with pytest.raises(ConfigError, match="hardware.emulate.mapped"):
        emulated_network(net)
    with pytest.raises(ConfigError, match="hardware.emulate.adc"):
        emulated_network(map_network(net, load_target("rram_aihwkit")), adc="yes")
