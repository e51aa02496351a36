"""``snn reservoir CONFIG``: the shipped config is valid, a small study runs end to end, bad configs are refused
in one line before any work."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from snn.cli import main
from snn.errors import ConfigError
from snn.reservoir.config import load_study, study_from_dict

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

SMALL = """
[data]
source = "digits"
n_train = 100
n_test = 30
seed = 1
[encoder]
kind = "saccade"
[reservoir]
kind = "lsm"
shape = [5, 4, 4]
n_neurons = 80
[simulation]
duration = 0.105
batch = 32
[features]
bin_s = 0.035
[readout]
kind = "{readout}"
folds = 3
[report]
raster_sample = 2
"""


def test_shipped_config_is_valid() -> None:
    study = load_study(ROOT / "configs" / "lsm_nmnist.toml")
    assert study.spec.n_neurons == 1000 and study.source == "mnist5k" and study.encoder.name == "saccade"
    assert study.readout == "ridge" and study.feature_kind == "counts"


@pytest.mark.parametrize("readout", ["ridge", "logistic"])
def test_small_study_end_to_end(tmp_path, capsys, monkeypatch, readout) -> None:
    monkeypatch.setenv("SNN_DATA_DIR", str(tmp_path / "cache"))
    config = tmp_path / "small.toml"
    config.write_text(SMALL.format(readout=readout))
    out = tmp_path / "out"
    assert main(["reservoir", str(config), "--out", str(out), "--no-progress"]) == 0
    assert "test accuracy" in capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    for name in ("confusion.png", "raster.png"):
        assert (out / name).read_bytes()[:8] == PNG_SIGNATURE
    matrix = np.array(report["confusion"])
    # the confusion matrix holds every test sample once, and its diagonal is the accuracy
    assert matrix.shape == (10, 10) and matrix.sum() == report["n_test"] == 30
    assert report["accuracy"] == pytest.approx(np.trace(matrix) / 30)
    # 10 digit classes: above chance (0.1) by a binomial margin; ~0.6 measured with 100 training samples
    assert report["accuracy"] > 0.3
    assert report["n_neurons"] == 80 and report["n_features"] == 3 * 80
    assert report["raster_sample"]["index"] == 2 and report["raster_sample"]["spikes"] > 0
    assert report["config"]["readout"]["kind"] == readout
    assert report["regularisation"] > 0


def _toml(data: dict) -> str:
    # sections of plain keys: JSON spells strings, numbers and lists of numbers as TOML does
    return "".join(f"[{sec}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
                   for sec, table in data.items())


@pytest.mark.parametrize(("edit", "path"), [
    (("encoder", "kind", "fisheye"), "encoder.kind"),
    (("encoder", "theta", -1.0), "encoder.theta"),
    (("encoder", "zoom", 2), "encoder.zoom"),
    (("reservoir", "n_neurons", 1000), "reservoir.n_neurons"),
    (("reservoir", "shape", [5, 4]), "reservoir.shape"),
    (("reservoir", "kind", "esn"), "reservoir.kind"),
    (("readout", "kind", "svm"), "readout.kind"),
    (("readout", "Cs", [1.0]), "readout.Cs"),
    (("features", "bin_s", 0.0351), "features.bin_s"),
    (("features", "kind", "rates"), "features.kind"),
    (("data", "source", "imagenet"), "data.source"),
    (("simulation", "duration", 0.10525), "simulation.duration"),
    (("report", "raster_sample", 30), "report.raster_sample"),
])
def test_bad_config_one_line_before_any_work(tmp_path, capsys, monkeypatch, edit, path) -> None:
    # expected: snn run's convention (exit 2, "error: <path> = <value>: <constraint>"), nothing encoded or written
    monkeypatch.setenv("SNN_DATA_DIR", str(tmp_path / "cache"))
    data = tomllib.loads(SMALL.format(readout="ridge"))
    section, key, value = edit
    data[section][key] = value
    with pytest.raises(ConfigError) as info:
        study_from_dict(data)
    assert info.value.path == path and "\n" not in str(info.value)
    config = tmp_path / "bad.toml"
    config.write_text(_toml(data))
    assert main(["reservoir", str(config), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path} = ")
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()
