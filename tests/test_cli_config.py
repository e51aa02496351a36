"""TOML configs and the ``snn`` command: shipped configs, overrides, one-line errors (exit 2, no file)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snn.cli import main
from snn.errors import ConfigError
from snn.io import load_recording
from snn.io.config import build_config, load_config

ROOT = Path(__file__).resolve().parents[1]
CUBA = ROOT / "configs" / "cuba.toml"
IZH = ROOT / "configs" / "izhikevich_800_200.toml"

SMALL = {
    "simulation": {"dt": 1e-4, "duration": 0.05, "seed": 3},
    "populations": {
        "exc": {"model": "lif", "size": 40, "params": {"tau_m": 0.02, "v_rest": -49.0, "v_threshold": -50.0,
                                                       "v_reset": -60.0, "t_ref": 0.005},
                "initial": {"v": {"uniform": [-60.0, -50.0]}}},
    },
    "inputs": {"drive": {"kind": "poisson", "size": 10, "rate": 20.0}},
    "projections": [{"pre": "exc", "post": "exc", "target": "exc", "weight": 1.0, "delay": 0.0005,
                     "connect": {"rule": "fixed_probability", "p": 0.1}},
                    {"pre": "drive", "post": "exc", "weight": {"uniform": [0.5, 1.5]},
                     "connect": {"rule": "fixed_indegree", "k": 3}}],
    "monitors": {"spikes": ["exc"]},
}


def test_shipped_cuba_config():
    net, run = load_config(CUBA)
    assert sum(p.size for p in net.populations) == 4000
    expected = 0.02 * 4000 * 4000  # Bernoulli(0.02) over all pairs: mean 320,000, sd ~560
    assert abs(net.n_synapses - expected) < 5 * np.sqrt(expected)
    weights = {p.name: set(np.unique(p.weights).tolist()) for p in net.projections}
    assert weights["exc->exc"] == {1.62} and weights["inh->exc"] == {-9.0}
    assert (run.duration, run.dtype) == (1.0, "float32")


def test_shipped_izhikevich_config_follows_the_paper():
    net, _ = load_config(IZH)
    exc = net.population("exc").model
    assert np.all((exc.c >= -65.0) & (exc.c <= -50.0)) and np.all((exc.d >= 2.0) & (exc.d <= 8.0))
    np.testing.assert_allclose(exc.d, 8 - 6 * ((exc.c + 65) / 15))  # c and d share r: d = 8 - 6 r², c = -65 + 15 r²
    assert net.n_synapses == 1000 * 1000


def test_same_seed_same_network_other_seed_differs():
    a, _ = load_config(CUBA, seed=7)
    b, _ = load_config(CUBA, seed=7)
    c, _ = load_config(CUBA, seed=8)
    np.testing.assert_array_equal(a.projections[0].connectivity.indices, b.projections[0].connectivity.indices)
    assert a.projections[0].connectivity.nnz != c.projections[0].connectivity.nnz or not np.array_equal(
        a.projections[0].connectivity.indices, c.projections[0].connectivity.indices)


def test_overrides_win():
    _, run = load_config(CUBA, seed=11, trials=3, duration=0.25)
    assert (run.seed, run.trials, run.duration) == (11, 3, 0.25)


def test_delays_in_seconds_become_steps():
    net, _ = build_config(copy.deepcopy(SMALL))
    assert net.projections[0].delays == 5


def _mutated(path: list, value) -> dict:
    data = copy.deepcopy(SMALL)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize("path, value, where", [
    (["populations", "exc", "model"], "hodgkin", "populations.exc.model"),
    (["populations", "exc", "params", "tau_m"], -0.02, "populations.exc.tau_m"),
    (["populations", "exc", "params", "tau_m"], "fast", "populations.exc.params.tau_m"),
    (["populations", "exc", "params", "v_rest"], [1.0, 2.0], "populations.exc.params.v_rest"),
    (["projections", 0, "post"], "nowhere", "projections[0](exc->nowhere).post"),
    (["projections", 0, "delay"], 1.0, "projections[0](exc->exc).delay = 1.0"),
    (["monitors", "spikes"], ["exc", "ihn"], "monitors.spikes = 'ihn'"),
    (["simulaton"], {"dt": 1e-4}, "simulaton = {...}"),
    (["projections", 0, "connect"], {"rule": "small_world"}, "connect.rule"),
    (["projections", 1, "weight"], {"gamma": [1, 2]}, "projections[1](drive->exc).weight"),
    (["populations", "exc", "params", "c"], "__import__('os')", "populations.exc.params.c"),
    (["simulation", "colour"], "blue", "simulation.colour"),
])
def test_malformed_configs_name_the_key(path, value, where):
    with pytest.raises(ConfigError) as info:
        build_config(_mutated(path, value))
    message = str(info.value)
    assert where in message and "\n" not in message


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)
KEY_PATHS = [["simulation", "dt"], ["simulation", "seed"], ["populations", "exc", "size"],
             ["populations", "exc", "params"], ["populations", "exc", "params", "t_ref"],
             ["populations", "exc", "initial"], ["populations", "exc", "initial", "v"], ["inputs", "drive"],
             ["inputs", "drive", "rate"], ["projections", 0], ["projections", 0, "weight"],
             ["projections", 0, "connect"], ["projections", 1, "connect", "k"], ["monitors", "spikes"],
             ["monitors"], ["populations"], ["projections"]]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(KEY_PATHS), toml_values)
def test_random_malformed_configs_fail_with_one_line_or_build(path, value):
    """Any mutation either builds a network or raises ConfigError with a one-line message, never anything else."""
    try:
        build_config(_mutated(path, value))
    except ConfigError as exc:
        assert "\n" not in str(exc)


def _write(tmp_path: Path, data: dict) -> Path:
    lines = []

    def emit(prefix: str, table: dict) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict) and not _is_aot(v)}
        if prefix:
            lines.append(f"[{prefix}]")
        for k, v in scalars.items():
            lines.append(f"{k} = {json.dumps(v)}")
        for k, v in table.items():
            if isinstance(v, dict):
                emit(f"{prefix}.{k}" if prefix else k, v)
            elif _is_aot(v):
                for item in v:
                    lines.append(f"[[{prefix + '.' if prefix else ''}{k}]]")
                    for kk, vv in item.items():
                        lines.append(f"{kk} = {_inline(vv)}")

    emit("", data)
    path = tmp_path / "net.toml"
    path.write_text("\n".join(lines) + "\n")
    assert tomllib.loads(path.read_text())  # the writer produced valid TOML
    return path


def _is_aot(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _inline(v) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_inline(x)}" for k, x in v.items()) + " }"
    return json.dumps(v)


def test_cli_run_info_plot(tmp_path):
    out = tmp_path / "run.h5"
    cfg = _write(tmp_path, SMALL)
    proc = subprocess.run([sys.executable, "-m", "snn.cli", "run", str(cfg), "--out", str(out), "--no-progress"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rec = load_recording(out)
    assert rec.n_spikes > 0
    assert main(["info", str(out)]) == 0
    proc = subprocess.run([sys.executable, "-m", "snn.cli", "info", str(out), "--json"], capture_output=True,
                          text=True, timeout=600)
    summary = json.loads(proc.stdout)
    assert summary["populations"]["exc"]["spikes"] == rec.n_spikes
    assert summary["populations"]["exc"]["rate_hz_mean"] == pytest.approx(float(rec.rate_hz("exc")[0]))
    png = tmp_path / "r.png"
    assert main(["plot", str(out), "--raster", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_cli_seed_reproduces_and_changes(tmp_path):
    cfg = _write(tmp_path, SMALL)
    paths = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        paths.append(tmp_path / f"{name}.h5")
        assert main(["run", str(cfg), "--out", str(paths[-1]), "--seed", str(seed), "--no-progress"]) == 0
    a, b, c = (load_recording(p).spikes["exc"] for p in paths)
    np.testing.assert_array_equal(a.step, b.step)
    np.testing.assert_array_equal(a.neuron, b.neuron)
    assert not (len(a) == len(c) and np.array_equal(a.step, c.step) and np.array_equal(a.neuron, c.neuron))


@pytest.mark.parametrize("path, value, where", [
    (["populations", "exc", "model"], "hodgkin", "populations.exc.model"),
    (["populations", "exc", "params", "tau_m"], -0.02, "populations.exc.tau_m"),
    (["populations", "exc", "params", "v_rest"], [1.0, 2.0], "populations.exc.params.v_rest"),
    (["projections", 0, "post"], "nowhere", "post"),
    (["projections", 0, "delay"], 1.0, "max_delay_steps"),
    (["populations", "exc", "size"], "forty", "populations.exc.size"),
])
def test_cli_bad_config_exits_2_with_one_line_and_no_file(tmp_path, path, value, where):
    cfg = _write(tmp_path, _mutated(path, value))
    out = tmp_path / "out" / "run.h5"
    out.parent.mkdir()
    proc = subprocess.run([sys.executable, "-m", "snn.cli", "run", str(cfg), "--out", str(out), "--no-progress"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and where in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("args, where", [
    (["--raster", "{tmp}/missing/r.png"], "does not exist"),
    (["--raster", "{tmp}/r.xyz"], "must end in one of"),
    (["--raster", "{tmp}/r.png", "--bin", "0"], "bin = 0.0"),
    (["--raster", "{tmp}/r.png", "--bin", "-1"], "bin = -1.0"),
])
def test_cli_plot_bad_arguments_are_one_line_errors(tmp_path, capsys, args, where):
    cfg = _write(tmp_path, SMALL)
    out = tmp_path / "run.h5"
    assert main(["run", str(cfg), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["plot", str(out), *[a.format(tmp=tmp_path) for a in args]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and where in err[0]


def test_cli_toml_syntax_error(tmp_path):
    cfg = tmp_path / "broken.toml"
    cfg.write_text("[simulation\ndt = 1e-4\n")
    assert main(["run", str(cfg), "--out", str(tmp_path / "x.h5"), "--no-progress"]) == 2
    assert not (tmp_path / "x.h5").exists()
