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
