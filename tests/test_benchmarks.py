"""The benchmark scripts run and produce the JSON their READMEs promise (speed itself is never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], tmp_path: Path) -> dict:
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", *args, "--json", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(out.read_text())


def test_cuba_benchmark_quick_snn_only(tmp_path):
    data = _run(["benchmarks.cuba", "--quick", "--engines", "snn"], tmp_path)
    snn = data["engines"]["snn"]
    for key in ("build_s", "compile_s", "loop_s", "spikes", "synaptic_events", "events_per_s", "peak_rss_mb"):
        assert key in snn
    assert snn["spikes"] > 0 and snn["synaptic_events"] > snn["spikes"]
    assert 3.0 < snn["rate_hz"] < 9.0  # CUBA fires at ~5.6 Hz (Brian2 and NEST, performance-anchors sheet)
    assert snn["bytes_per_synapse"] <= 10.0


@pytest.mark.slow
def test_cuba_benchmark_quick_with_brian2_cpp_standalone(tmp_path):
    data = _run(["benchmarks.cuba", "--quick", "--engines", "snn,brian2"], tmp_path)
    b2 = data["engines"]["brian2_cpp_standalone"]
    assert b2.get("n_ok", 0) >= 1, b2
    assert data["speedup_vs_brian2_cpp_standalone"] is not None


@pytest.mark.slow
def test_capacity_benchmark_small(tmp_path):
    data = _run(["benchmarks.billion", "--n", "20000", "--k", "100", "--duration", "0.1"], tmp_path)
    assert data["snn"]["nnz"] > 1_900_000
    assert data["snn"]["bytes_per_synapse"] <= 10.0


@pytest.mark.slow
def test_coba_benchmark_quick_snn_only(tmp_path):
    data = _run(["benchmarks.coba", "--quick", "--engines", "snn"], tmp_path)
    snn = data["engines"]["snn"]
    assert snn["n_ok"] == 1, snn["runs"]
    for key in ("build_s", "compile_s", "loop_s", "spikes", "synaptic_events", "events_per_s", "peak_rss_mb",
                "rate_hz", "rate_exc_hz", "rate_inh_hz", "nnz", "values", "runs"):
        assert key in snn
    assert snn["spikes"] > 0 and snn["synaptic_events"] > snn["spikes"]
    assert 1.0 < snn["rate_hz"] < 40.0  # COBA: a few Hz to ~20 Hz (Brette et al. 2007)
    assert data["engines"]["brian2_cpp_standalone"] == {"skipped": "not selected (--engines)"}
    assert data["speedup_vs_brian2_cpp_standalone"] is None
    assert data["goal"]["speedup_target"] == 3.0 and data["goal"]["met"] is None
    assert data["rates"]["engines"]["snn"]["rate_hz"] == snn["rate_hz"]
    assert isinstance(data["warnings"], list)
    assert data["config"]["quick"] is True and data["machine"]["cores"]


@pytest.mark.slow
def test_stdp_benchmark_quick_snn_only(tmp_path):
    data = _run(["benchmarks.stdp", "--quick", "--engines", "snn"], tmp_path)
    assert set(data["networks"]) == {"song", "recurrent"}
    for net in data["networks"].values():
        snn = net["engines"]["snn"]
        assert snn["n_ok"] == 1, snn["runs"]
        for key in ("build_s", "compile_s", "loop_s", "spikes", "synaptic_events", "events_per_s", "peak_rss_mb",
                    "rate_hz", "weight_mean_rel", "weight_frac_low", "weight_frac_high", "nnz", "runs"):
            assert key in snn
        assert snn["spikes"] > 0 and snn["synaptic_events"] > 0 and snn["events_per_s"] > 0
        assert net["engines"]["brian2_cpp_standalone"] == {"skipped": "not selected (--engines)"}
        assert net["speedup_vs_brian2_cpp_standalone"] is None and net["goal"]["speedup_target"] == 2.0
        weights = snn["runs"][0]["weights"]
        assert len(weights["histogram_10_bins"]) == 10 and 0.0 <= weights["mean_over_wmax"] <= 1.0
    song = data["networks"]["song"]["engines"]["snn"]
    assert song["nnz"] == 1000 and song["runs"][0]["weights"]["n"] == 1000
    assert 10_000 < song["input_spikes"] < 20_000  # 1000 inputs x 15 Hz x 1 s
    recurrent = data["networks"]["recurrent"]["engines"]["snn"]
    assert recurrent["runs"][0]["weights"]["n"] == recurrent["plastic_synapses"] > 0
    assert data["goal"]["met"] is None and isinstance(data["warnings"], list)


@pytest.mark.slow
def test_lsm_events_benchmark_quick(tmp_path):
    pytest.importorskip("mlxtend")
    data = _run(["benchmarks.lsm_events", "--quick"], tmp_path)
    for key in ("accuracy", "baseline_accuracy_raw", "baseline_accuracy_no_recurrence", "samples_per_s",
                "brian2_samples_per_s", "n_neurons", "goal", "config", "machine", "chosen", "timings"):
        assert key in data
    for key in ("accuracy", "baseline_accuracy_raw", "baseline_accuracy_no_recurrence"):
        assert 0.1 < data[key] <= 1.0  # well above chance (10 classes)
    assert data["n_neurons"] == 216 and data["samples_per_s"] > 0
    assert data["chosen_no_recurrence"]["max_abs_recurrent_weight"] == 0.0
    assert data["same_lsm_no_recurrence"]["max_abs_recurrent_weight"] == 0.0
    assert 0.1 < data["baseline_accuracy_no_recurrence_tuned"] <= 1.0
    assert data["recurrence"]["max_abs_recurrent_weight"] > 0.0
    assert data["config"]["quick"] is True and data["goal"]["accuracy_target"] == 0.89
    if "skipped" not in data["brian2"]:
        assert data["brian2_samples_per_s"] > 0
        assert data["brian2"]["agreement_float64"]["max_abs_rel_diff_total"] <= 0.05
    if "skipped" not in data["thread_scaling"]:
        assert data["thread_scaling"]["identical"] is True   # same features at 1 and 2 threads (speed not asserted)
