"""The hardware benchmark (``benchmarks/hardware.py``): its helpers, and a ``--quick`` smoke run (keys and sane
values; never speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hardware import check, load_target, preset_names
from snn.data import make_events

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # benchmarks/ is not an installed package

from benchmarks.hardware import (  # noqa: E402
    fpga_with_bits,
    paper_like_spec,
    pool_events,
    pooled_sensor,
    template_network,
)


def test_pool_events_moves_pixels_and_merges_polarity():
    # hand calculation: pool 2 maps (x, y) -> (x // 2, y // 2); merged polarity -> 0; times and order kept
    ev = make_events([0, 5, 33, 7], [1, 4, 33, 6], [10, 20, 30, 40], [True, False, True, True])
    (out,) = pool_events([ev], 2, True)
    assert out["x"].tolist() == [0, 2, 16, 3]
    assert out["y"].tolist() == [0, 2, 16, 3]
    assert out["t"].tolist() == [10, 20, 30, 40]
    assert not out["p"].any()
    (kept,) = pool_events([ev], 3, False)
    assert kept["p"].tolist() == [True, False, True, True]
    assert kept["x"].tolist() == [0, 1, 11, 2]


def test_pooled_sensor_rounds_up():
    # ceil(34 / 2) = 17, ceil(34 / 3) = 12 (pixel 33 // 3 = 11 must exist); merged polarity -> 1 channel
    assert pooled_sensor((34, 34, 2), 2, True) == (17, 17, 1)
    assert pooled_sensor((34, 34, 2), 3, False) == (12, 12, 2)


def test_fpga_with_bits_changes_only_the_width():
    # fpga_int8_small's weight format is ap_fixed<8,3,AP_RND,AP_SAT> (configs/targets/fpga_int8_small.toml)
    t = fpga_with_bits(load_target("fpga_int8_small"), 4)
    assert (t.weight_format.width, t.weight_format.integer) == (4, 3)
    assert (t.weight_format.rounding, t.weight_format.overflow) == ("AP_RND", "AP_SAT")
    assert t.weight_bits == 4
    assert str(t.state_format) == str(load_target("fpga_int8_small").state_format)


def test_paper_like_lsm_fits_one_rram_array():
    # 17 x 17 x 1 = 289 input rows + 200 recurrent rows = 489 <= 512 rows, 200 x 2 = 400 <= 512 columns, and one
    # synaptic time constant -> one column group -> one tile of rram_40nm_lsm (n_cores = 1)
    spec = paper_like_spec((8, 5, 5), 2.0)
    assert spec.tau_syn_inh == spec.tau_syn_exc
    net = template_network(spec, (17, 17, 1), 5e-4, 0)
    assert check(net, load_target("rram_40nm_lsm"), fit=True).ok
    # the unpooled sensor needs 2312 + 200 rows: 5 row blocks of 512 -> 5 tiles > 1
    big = template_network(spec, (34, 34, 2), 5e-4, 0)
    assert "cores" in check(big, load_target("rram_40nm_lsm"), fit=True).rules()


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hw")
    out = tmp / "hardware.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.hardware", "--quick", "--json", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(out.read_text()), out


def test_quick_benchmark_keys_and_values(quick):
    data, out = quick
    for key in ("float_accuracy", "rram_preset_accuracy", "accuracy_by_bits", "rram_noise", "rram_drift", "targets",
                "emulation_speed", "goal", "config", "machine"):
        assert key in data
    # 10 digit classes: chance is 0.1; the float LSM is far above it (0.85 in our quick runs, 0.95 on all data)
    assert 0.5 < data["float_accuracy"] <= 1.0
    assert 0.0 <= data["rram_preset_accuracy"] <= 1.0
    assert sorted(data["accuracy_by_bits"], key=int) == [str(b) for b in range(2, 9)]
    assert all(0.0 <= a <= 1.0 for a in data["accuracy_by_bits"].values())
    # 8-bit weights lose little: an 8-bit ap_fixed keeps 2^-7 of the range (quick runs: 0.85 vs 0.85 float)
    assert data["accuracy_by_bits"]["8"] > 0.5
    assert set(data["rram_noise"]) == {"0", "0.05", "0.1", "0.2"}
    # the preset's sigma is 0.2 (configs/targets/rram_40nm_lsm.toml), so its accuracy is the 0.2 row
    assert data["rram_preset_accuracy"] == data["rram_noise"]["0.2"]
    # rram_40nm_lsm has drift_nu = 0: the networks read at 1 s, 1 day and 1 month are identical
    preset_drift = data["rram_drift"]["preset"]
    assert len(preset_drift) == 3
    assert all(v["accuracy"] == data["rram_preset_accuracy"] and v["identical_to_first"]
               for v in preset_drift.values())
    assert set(data["targets"]) == set(preset_names())
    assert data["targets"]["rram_40nm_lsm"]["fits"] is True
    assert data["targets"]["rram_40nm_lsm"]["units_used"] == 1
    # Xylo takes 16 input channels; the pooled sensor has 289
    assert data["targets"]["xylo_audio2"]["fits"] is False
    assert "inputs" in data["targets"]["xylo_audio2"]["violations"]
    for entry in data["targets"].values():
        assert entry["fits"] == (entry["violations"] == [])
        assert entry["memory_bits"] > 0
    speed = data["emulation_speed"]
    assert set(speed["run_s"]) == {"float", "fpga_int8_small", "rram_40nm_lsm"}
    assert all(v > 0 for v in speed["run_s"].values())
    xylo = speed["xylo_bitexact"]
    # hardware.xylo is optional (a parallel piece of work): either it ran (both sides timed) or it says why not
    assert ("trial_steps_per_s" in xylo and xylo["float_engine_same_size"]["run_s"] > 0) or set(xylo) <= {
        "skipped", "error"}
    assert data["goal"]["rram_loss"] == pytest.approx(data["float_accuracy"] - data["rram_preset_accuracy"])
    assert data["goal"]["rram_met"] == (data["goal"]["rram_loss"] <= 0.01)
    png = Path(data["png"])
    assert png == out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the PNG signature (PNG spec, section 5.2)
    assert not list(png.parent.glob(".*tmp*"))  # the atomic write left no temporary file


def test_quick_benchmark_features_differ_between_variants(quick):
    # 2-bit weights on the shared per-population scale change the network (fewer levels than the float
    # weights), so its firing rate differs from the float network's
    data, _ = quick
    rates = {b: d["rate_hz"] for b, d in data["details"]["fpga_bits"].items()}
    assert rates["2"] != pytest.approx(data["details"]["float"]["rate_hz"])
    assert np.isfinite(list(rates.values())).all()
