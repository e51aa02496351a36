"""The ``snn`` command: run → info → plot on the shipped CUBA config, one-line bad-input errors, seeding.

Both ways of calling it are used: a fresh interpreter (``python -m snn.cli``, and the installed ``snn`` script when
present) for exit codes and stderr exactly as a shell sees them, and ``snn.cli.main([...])`` in-process for speed.
"""

from __future__ import annotations

import copy
import json
import math
import re
import struct
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import snn
from snn.cli import main
from snn.io import HDF5Sink, load_recording

ROOT = Path(__file__).resolve().parents[1]
CUBA = ROOT / "configs" / "cuba.toml"
CUBA_DATA = tomllib.loads(CUBA.read_text())
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snn.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def to_toml(data: dict) -> str:
    """A TOML document for ``data`` (every top-level key as one inline value)."""

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float, str)):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{ " + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + " }"

    return "".join(f"{json.dumps(k)} = {value(v)}\n" for k, v in data.items())


def cuba_with(path: tuple, value) -> dict:
    data = copy.deepcopy(CUBA_DATA)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def only_line(stderr: str) -> str:
    lines = stderr.strip("\n").splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- run / info / plot ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cuba_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("cli")
    proc = cli("run", CUBA, "--duration", "0.2", "--out", "X.h5", "--no-progress", cwd=workdir)
    return proc, workdir / "X.h5"


def test_run_writes_the_recording(cuba_run):
    proc, path = cuba_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert sorted(p.name for p in path.parent.iterdir()) == ["X.h5"]  # no temporary file left over
    rec = load_recording(path)
    assert rec.trials == 1 and rec.n_steps == 2000 and rec.dt == 1e-4
    assert rec.metadata["seed"] == 1 and rec.metadata["network"]["name"] == "cuba"
    assert rec.metadata["snn_version"] == snn.__version__
    assert rec.sizes == {"exc": 3200, "inh": 800}
    for pop in ("exc", "inh"):
        assert len(rec.spikes[pop]) == rec.spike_counts[pop].sum() > 0
        assert 0.5 < rec.rate_hz(pop)[0] < 100.0  # CUBA fires at a few hertz
    n_synapses = sum(p["synapses"] for p in rec.metadata["network"]["projections"].values())
    assert f"cuba: 4000 neurons, {n_synapses} synapses, 1 trial(s), 0.2 s" in proc.stderr
    assert f"wrote X.h5: {rec.n_spikes} spikes" in proc.stderr


def test_info_prints_populations_counts_and_rates(cuba_run, capsys):
    _, path = cuba_run
    rec = load_recording(path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "network 'cuba'" in out and "0.2 s" in out and "seed 1" in out
    for pop, size in rec.sizes.items():
        count = int(rec.spike_counts[pop].sum())
        row = next(line for line in out.splitlines() if line.startswith(pop + " "))
        assert row.split()[:4] == [pop, "neurons", str(size), str(count)], row
        assert float(row.split()[4]) == pytest.approx(rec.rate_hz(pop)[0], abs=5e-4)
    assert f"synaptic events {rec.n_synaptic_events}" in out


def test_info_json_matches_the_recording(cuba_run):
    _, path = cuba_run
    proc = cli("info", path, "--json")
    assert proc.returncode == 0 and proc.stderr == ""
    summary = json.loads(proc.stdout)
    rec = load_recording(path)
    assert summary["network"] == "cuba" and summary["trials"] == 1 and summary["seed"] == 1
    assert summary["dt_s"] == rec.dt and summary["duration_s"] == pytest.approx(0.2)
    assert summary["snn_version"] == snn.__version__ and summary["dtype"] == "float32"
    assert summary["synaptic_events"] == rec.n_synaptic_events
    assert set(summary["populations"]) == {"exc", "inh"}
    for pop, entry in summary["populations"].items():
        assert entry["kind"] == "neurons" and entry["size"] == rec.sizes[pop]
        assert entry["spikes"] == int(rec.spike_counts[pop].sum())
        assert entry["rate_hz_mean"] == pytest.approx(float(rec.rate_hz(pop).mean()), rel=1e-12)
        assert entry["recorded"] == ["rates", "spikes"]


def test_installed_console_script(cuba_run):
    script = Path(sys.executable).with_name("snn")
    if not script.exists():
        pytest.skip("the snn console script is not installed next to this interpreter")
    _, path = cuba_run
    proc = subprocess.run([str(script), "info", str(path), "--json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(cli("info", path, "--json").stdout)
    proc = subprocess.run([str(script), "run", "missing.toml", "--no-progress"], capture_output=True, text=True,
                          timeout=300, cwd=path.parent)
    assert proc.returncode == 2 and only_line(proc.stderr) == "error: config = 'missing.toml': file does not exist"


def test_plot_writes_a_png(cuba_run, tmp_path, capsys):
    _, path = cuba_run
    png = tmp_path / "r.png"
    assert main(["plot", str(path), "--raster", str(png)]) == 0
    assert f"wrote {png}" in capsys.readouterr().err
    data = png.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 720)  # 10 x 6 inches at 120 dpi
    assert len(data) > 20_000  # thousands of spikes drawn, not an empty figure
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.png"]


def test_plot_as_a_subprocess(cuba_run, tmp_path):
    _, path = cuba_run
    proc = cli("plot", path, "--raster", tmp_path / "r.png", "--bin", "0.01")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r.png").read_bytes()[:8] == PNG_SIGNATURE


# --- bad input: exit 2, one line naming key, value and constraint, nothing written ------------------------------

BAD_CONFIGS = [
    (("populations", "exc", "model"), "hodgkin",
     r"error: populations\.exc\.model = 'hodgkin': unknown neuron model; choose one of \['adaptive_lif'"),
    (("populations", "exc", "params", "tau_m"), -0.02,
     r"error: populations\.exc\.(params\.)?tau_m = -0\.02: must be > 0"),
    (("populations", "inh", "params", "v_rest"), [-49.0, -49.0, -49.0],
     r"error: populations\.inh\.params\.v_rest = \[-49\.0, -49\.0, -49\.0\]: a list must hold exactly 800 numbers"),
    (("projections", 2, "post"), "exc2",
     r"error: projections\[2\]\(inh->exc2\)\.post = 'exc2': unknown population or input; known: \['exc', 'inh'\]"),
    (("projections", 0, "delay"), 1.0,
     r"error: projections\[0\]\(exc->exc\)\.delay = 1\.0: must be <= simulation\.max_delay_steps x dt = 0\.1024 s"),
    (("populations", "exc", "size"), "3200", r"error: populations\.exc\.size = '3200': must be an integer >= 1"),
    (("simulation", "dt"), "1e-4", r"error: simulation\.dt = '1e-4': must be a finite number"),
]


@pytest.mark.parametrize("path, value, pattern", BAD_CONFIGS, ids=[".".join(map(str, p)) for p, _, _ in BAD_CONFIGS])
def test_bad_config_exits_2_with_one_line_and_writes_nothing(tmp_path, path, value, pattern):
    config = tmp_path / "bad.toml"
    config.write_text(to_toml(cuba_with(path, value)))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = cli("run", config, "--out", out_dir / "run.h5", "--duration", "0.01", "--no-progress")
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    line = only_line(proc.stderr)
    assert re.match(pattern, line), line
    assert list(out_dir.iterdir()) == []  # neither the output nor a temporary file


def test_bad_config_leaves_an_existing_output_untouched(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text(to_toml(cuba_with(("projections", 1, "connect", "rule"), "small_world")))
    out = tmp_path / "run.h5"
    out.write_bytes(b"an earlier result")
    assert main(["run", str(config), "--out", str(out), "--no-progress"]) == 2
    line = only_line(capsys.readouterr().err)
    assert line.startswith("error: projections[1](exc->inh).connect.rule = 'small_world': must be one of")
    assert out.read_bytes() == b"an earlier result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "run.h5"]


@pytest.mark.parametrize("args, expected", [
    (["run", "missing.toml"], "error: config = 'missing.toml': file does not exist"),
    (["run", "broken.toml"], "error: config = 'broken.toml': is not valid TOML"),
    (["run", "{cuba}", "--trials", "0"], "error: simulation.trials = 0: must be an integer >= 1"),
    (["run", "{cuba}", "--duration", "-1"], "error: simulation.duration = -1.0: must be a finite number >= 0"),
    (["run", "{cuba}", "--seed", "-3"], "error: simulation.seed = -3: must be an integer >= 0"),
    (["run", "{cuba}", "--out", "nodir/x.h5"], "error: out = 'nodir/x.h5': directory nodir does not exist"),
    (["run", "{cuba}", "--out", "adir"], "error: out = 'adir': must be a file path, not a directory"),
    (["info", "missing.h5"], "error: recording = 'missing.h5': file does not exist"),
    (["info", "broken.toml"], "error: recording = 'broken.toml': is not a readable HDF5 file"),
    (["plot", "missing.h5", "--raster", "r.png"], "error: recording = 'missing.h5': file does not exist"),
])
def test_other_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    Path("broken.toml").write_text("[simulation\ndt = 1e-4\n")
    Path("adir").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main([a.format(cuba=CUBA) for a in args] + (["--no-progress"] if args[0] == "run" else [])) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert only_line(captured.err).startswith(expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_interrupted_run_exits_130_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    calls = []

    def interrupt(self, population, counts):
        calls.append(population)
        raise KeyboardInterrupt

    monkeypatch.setattr(HDF5Sink, "rates", interrupt)
    out = tmp_path / "run.h5"
    assert main(["run", str(CUBA), "--duration", "0.02", "--out", str(out), "--no-progress"]) == 130
    assert calls and capsys.readouterr().err.strip().splitlines()[-1] == "interrupted"
    assert list(tmp_path.iterdir()) == []


# --- seeding --------------------------------------------------------------------------------------------------


def _spikes(path: Path) -> dict[str, tuple[np.ndarray, ...]]:
    rec = load_recording(path)
    return {pop: (st.trial, st.neuron, st.step) for pop, st in rec.spikes.items()}


def _identical(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        x.dtype == y.dtype and np.array_equal(x, y) for pop in a for x, y in zip(a[pop], b[pop]))


@pytest.fixture(scope="module")
def seeded_runs(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("seeds")
    paths = {}
    for name, args in {"s5": ["--seed", "5"], "s5_again": ["--seed", "5"], "s6": ["--seed", "6"],
                       "s5_trials2": ["--seed", "5", "--trials", "2"], "file_seed": []}.items():
        paths[name] = workdir / f"{name}.h5"
        assert main(["run", str(CUBA), "--duration", "0.05", "--out", str(paths[name]), "--no-progress", *args]) == 0
    return paths


def test_same_seed_reproduces_bit_for_bit(seeded_runs):
    a, b = _spikes(seeded_runs["s5"]), _spikes(seeded_runs["s5_again"])
    assert sum(len(x[0]) for x in a.values()) > 100
    assert _identical(a, b)
    ra, rb = load_recording(seeded_runs["s5"]), load_recording(seeded_runs["s5_again"])
    for pop in ra.rates:
        np.testing.assert_array_equal(ra.rates[pop], rb.rates[pop])
    np.testing.assert_array_equal(ra.synaptic_events, rb.synaptic_events)
    assert ra.metadata["seed"] == 5


def test_other_seed_changes_the_result(seeded_runs):
    a, c = _spikes(seeded_runs["s5"]), _spikes(seeded_runs["s6"])
    for pop in a:
        assert not (len(a[pop][2]) == len(c[pop][2]) and np.array_equal(a[pop][2], c[pop][2])
                    and np.array_equal(a[pop][1], c[pop][1])), pop
    assert load_recording(seeded_runs["s6"]).metadata["seed"] == 6
    assert load_recording(seeded_runs["file_seed"]).metadata["seed"] == 1  # without --seed, the file's seed


def test_trial_zero_of_a_batch_equals_the_single_trial_run(seeded_runs):
    single, batch = load_recording(seeded_runs["s5"]), load_recording(seeded_runs["s5_trials2"])
    assert batch.trials == 2 and batch.metadata["trials"] == 2
    for pop, st in single.spikes.items():
        neuron0, step0 = batch.spikes[pop].of_trial(0)
        np.testing.assert_array_equal(neuron0, st.neuron)
        np.testing.assert_array_equal(step0, st.step)
        neuron1, step1 = batch.spikes[pop].of_trial(1)
        assert not (len(step1) == len(step0) and np.array_equal(step1, step0))  # trial 1 is its own stream
    assert math.isclose(batch.duration, 0.05)
