"""The TOML description of a reservoir study (``snn reservoir CONFIG``), checked completely before any work.

Sections and keys (times in seconds; every key optional unless marked)::

    [data]        source = "mnist5k" | "digits" | "fashion_mnist"; n_train, n_test (default: the whole split);
                  seed (split and readout folds); test_fraction (digits / mnist5k)
    [encoder]     kind = "saccade" | "poisson" | "latency"; every other key is a parameter of
                  SaccadeCamera / PoissonEncoder / LatencyEncoder (snn.data.encoders)
    [reservoir]   kind = "lsm" | "izhikevich"; n_neurons (optional check against the reservoir's size);
                  every other key is a field of the kind's spec:
                  lsm: LSMSpec (snn.reservoir.lsm), e.g. shape = [10, 10, 10], weights = [...], input_weight_exc;
                  izhikevich: IzhikevichReservoirSpec (snn.reservoir.izhikevich), e.g. n_exc, n_inh, p_connect,
                  w_exc, w_inh, noise_exc, input_p, input_weight; not dt and n_inputs, which come from
                  simulation.dt (<= 1e-3 s for this kind) and the encoder's channels
    [simulation]  dt, duration, batch (samples per simulator run), seed (reservoir structure), dtype
    [features]    kind = "counts" | "traces" | "counts+traces"; bin_s; tau_s; times_s
    [readout]     kind = "ridge" | "logistic"; folds; alphas (ridge) or Cs (logistic): candidate grid
    [report]      raster_sample (index of the test sample drawn in the raster)

Bad input gets the one-line :class:`~snn.errors.ConfigError` of ``snn run`` (key path, value, constraint).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snn.data.encoders import LatencyEncoder, PoissonEncoder, SaccadeCamera
from snn.data.sources import SOURCES
from snn.errors import ConfigError
from snn.io.config import _check_keys, _choice, _integer, _jsonable, _number, _table, read_toml
from snn.reservoir.features import FEATURES
from snn.reservoir.izhikevich import PAPER_STEP_S
from snn.reservoir.kinds import RESERVOIRS, ReservoirSpec
from snn.reservoir.lsm import LSMSpec

#: encoder kinds of ``[encoder] kind`` -> their classes
ENCODERS = {"saccade": SaccadeCamera, "poisson": PoissonEncoder, "latency": LatencyEncoder}
#: spec fields a ``[reservoir]`` table may not set, per kind: the run sets them (field -> where from)
RUN_FIELDS = {"lsm": {}, "izhikevich": {"dt": "simulation.dt", "n_inputs": "the encoder's channel count"}}
READOUTS = ("ridge", "logistic")
_SECTIONS = {"data", "encoder", "reservoir", "simulation", "features", "readout", "report"}


@dataclass(frozen=True)
class ReservoirStudy:
    """A checked reservoir study: data, encoder, reservoir spec, simulation, features, readout, report.

    Built by :func:`study_from_dict` / :func:`load_study`; ``config`` keeps the parsed TOML for the report.
    """

    name: str
    source: str
    n_train: int | None
    n_test: int | None
    data_seed: int
    test_fraction: float
    encoder: Any
    spec: ReservoirSpec
    dt: float
    duration_s: float
    batch: int
    seed: int
    dtype: str
    feature_kind: str
    bin_s: float
    tau_s: float
    times_s: tuple[float, ...] | None
    readout: str
    folds: int
    grid: tuple[float, ...] | None
    raster_sample: int
    config: dict[str, Any]


def load_study(path: str | Path) -> ReservoirStudy:
    """Read and check a study TOML file (see the module docstring)."""
    return study_from_dict(read_toml(path), name=Path(path).stem)


def _params(table: dict[str, Any], path: str, cls: type, skip: set[str], run: dict[str, Any] | None = None,
            hidden: set[str] | None = None) -> Any:
    """``cls(**table without skip, **run)``; unknown fields get the allowed ones (not ``hidden``: fields the run
    sets), lists become tuples, and the class's own errors (``lsm.shape``, ``saccade.theta``) are re-keyed to the
    TOML section (``reservoir.shape``)."""
    fields = {f.name for f in dataclasses.fields(cls) if f.init} - (hidden or set())
    _check_keys(table, fields | skip, path)
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in table.items() if k not in skip}
    kwargs.update(run or {})
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        key = exc.path.split(".", 1)[1] if "." in exc.path else exc.path
        raise ConfigError(f"{path}.{key}", exc.value, exc.constraint) from None
    except TypeError as exc:  # a value of the wrong kind that the class compared or converted
        raise ConfigError(path, _jsonable(table), f"has a value of the wrong type ({exc})") from None


def _grid(value: Any, path: str) -> tuple[float, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                           and 0 < v < math.inf for v in value):
        raise ConfigError(path, value, "must be a non-empty list of finite numbers > 0")
    return tuple(float(v) for v in value)


def _whole_steps(value: float, dt: float, path: str) -> None:
    steps = value / dt
    if abs(steps - round(steps)) > 1e-6 * max(1.0, steps) or round(steps) < 1:
        raise ConfigError(path, value, f"must be a whole number (>= 1) of steps of dt = {dt:g} s")


def study_from_dict(data: dict[str, Any], name: str = "reservoir") -> ReservoirStudy:
    """Check a parsed TOML document and build the study; raises :class:`ConfigError` on the first problem."""
    _check_keys(_table(data, ""), _SECTIONS, "")
    sec = {s: _table(data.get(s, {}), s) for s in _SECTIONS}

    d = sec["data"]
    _check_keys(d, {"source", "n_train", "n_test", "seed", "test_fraction"}, "data")
    source = _choice(d.get("source", "mnist5k"), "data.source", SOURCES)
    n_train = None if d.get("n_train") is None else _integer(d["n_train"], "data.n_train", 2)
    n_test = None if d.get("n_test") is None else _integer(d["n_test"], "data.n_test", 1)
    data_seed = _integer(d.get("seed", 0), "data.seed", 0)
    test_fraction = _number(d.get("test_fraction", 0.2), "data.test_fraction", 0.0)
    if not 0 < test_fraction < 1:
        raise ConfigError("data.test_fraction", test_fraction, "must be in (0, 1)")

    e = dict(sec["encoder"])
    kind = _choice(e.get("kind", "saccade"), "encoder.kind", tuple(ENCODERS))
    encoder = _params(e, "encoder", ENCODERS[kind], {"kind"})

    s = sec["simulation"]
    _check_keys(s, {"dt", "duration", "batch", "seed", "dtype"}, "simulation")
    dt = _number(s.get("dt", 5e-4), "simulation.dt", 0.0)
    if not 0 < dt < 1:
        raise ConfigError("simulation.dt", dt, "must be a number of seconds in (0, 1)")

    r = dict(sec["reservoir"])
    reservoir = _choice(r.get("kind", "lsm"), "reservoir.kind", tuple(RESERVOIRS))
    for key, origin in RUN_FIELDS[reservoir].items():
        if key in r:
            raise ConfigError(f"reservoir.{key}", r[key], f"is set by the run ({origin}), not here")
    if reservoir == "izhikevich" and dt > PAPER_STEP_S:
        raise ConfigError("simulation.dt", dt, f"must be <= {PAPER_STEP_S:g} s for the izhikevich reservoir "
                                               "(Euler on Izhikevich's equations)")
    spec = _params(r, "reservoir", RESERVOIRS[reservoir], {"kind", "n_neurons"},
                   run={"dt": dt} if reservoir == "izhikevich" else None, hidden=set(RUN_FIELDS[reservoir]))
    if "n_neurons" in r and r["n_neurons"] != spec.n_neurons:
        size = (f"the grid {list(spec.shape)}" if isinstance(spec, LSMSpec)
                else f"n_exc + n_inh = {spec.n_exc} + {spec.n_inh}")
        raise ConfigError("reservoir.n_neurons", r["n_neurons"], f"does not match {size} = {spec.n_neurons} neurons")

    duration = _number(s.get("duration", 0.315), "simulation.duration", 0.0)
    _whole_steps(duration, dt, "simulation.duration")

    f = sec["features"]
    _check_keys(f, {"kind", "bin_s", "tau_s", "times_s"}, "features")
    feature_kind = _choice(f.get("kind", "counts"), "features.kind", FEATURES)
    bin_s = _number(f.get("bin_s", duration / 3), "features.bin_s", 0.0)
    if feature_kind != "traces":
        _whole_steps(bin_s, dt, "features.bin_s")
    tau_s = _number(f.get("tau_s", 0.03), "features.tau_s", 0.0)
    if tau_s <= 0:
        raise ConfigError("features.tau_s", tau_s, "must be a finite number > 0 (seconds)")
    times = f.get("times_s")
    if times is not None:
        if (not isinstance(times, list) or not times
                or not all(isinstance(t, (int, float)) and not isinstance(t, bool) and 0 <= t <= duration
                           for t in times)):
            raise ConfigError("features.times_s", times, f"must be a non-empty list of seconds in [0, {duration:g}]")
        times = tuple(float(t) for t in times)

    o = sec["readout"]
    _check_keys(o, {"kind", "folds", "alphas", "Cs"}, "readout")
    readout = _choice(o.get("kind", "ridge"), "readout.kind", READOUTS)
    wrong = "Cs" if readout == "ridge" else "alphas"
    if wrong in o:
        raise ConfigError(f"readout.{wrong}", o[wrong], f"is not a parameter of the {readout} readout")
    grid = _grid(o.get("alphas" if readout == "ridge" else "Cs"), f"readout.{'alphas' if readout == 'ridge' else 'Cs'}")

    rep = sec["report"]
    _check_keys(rep, {"raster_sample"}, "report")
    study = ReservoirStudy(
        name=name, source=source, n_train=n_train, n_test=n_test, data_seed=data_seed, test_fraction=test_fraction,
        encoder=encoder, spec=spec, dt=dt, duration_s=duration,
        batch=_integer(s.get("batch", 64), "simulation.batch", 1),
        seed=_integer(s.get("seed", 0), "simulation.seed", 0),
        dtype=_choice(s.get("dtype", "float32"), "simulation.dtype", ("float32", "float64")),
        feature_kind=feature_kind, bin_s=bin_s, tau_s=tau_s, times_s=times, readout=readout,
        folds=_integer(o.get("folds", 5), "readout.folds", 2), grid=grid,
        raster_sample=_integer(rep.get("raster_sample", 0), "report.raster_sample", 0), config=_jsonable(data))
    if n_test is not None and study.raster_sample >= n_test:
        raise ConfigError("report.raster_sample", study.raster_sample, f"must be < data.n_test = {n_test}")
    return study
