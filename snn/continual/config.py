"""The TOML description of a continual-learning study (``snn study CONFIG``), checked completely before any work.

Sections and keys (every key optional unless marked)::

    [study]      methods (required; names of snn.learn.METHODS, each optionally ``@<preset>``: the run's weight
                 layers live on that RRAM crossbar, snn.learn.device; ``@rram`` is the alias of
                 snn.learn.device.DEFAULT_RRAM_PRESET = "rram_aihwkit"; e.g. ``hlop@rram``,
                 ``gpm@rram_40nm_lsm``; local path only), seeds (required; integers >= 0),
                 path = "local" | "torch" (the learner implementation), evaluate_before = true (b: accuracy of
                 the untrained network on every task, needed for FWT), out (output directory; ``--out`` wins),
                 name
    [stream]     name (required; a key of snn.continual.STREAMS), n_tasks, seed (the permutations / angles: the
                 same stream for every study seed), scenario, split_seed, test_fraction, n_train, n_test,
                 first_identity, class_order, angles_deg (the arguments of snn.continual.load_stream)
    [mlp]        fields of snn.learn.MLPConfig (widths, steps, threshold, lr, epochs, batch, init_gain)
    [hlop]       fields of snn.hlop.HLOPConfig except seed (needed by the methods hlop and hlop_replay)
    [baselines]  fields of snn.learn.BaselineConfig (ewc_lambda, gpm_thresholds, gpm_samples, memory_per_class...)
    [device]     overrides for every ``@<preset>`` method: fields of snn.learn.device.DeviceOptions (levels,
                 write_noise_rel, read_noise_rel, layers, headroom, rounding); only with such a method
    [torch]      only with path = "torch": fields of snn.learn.torch_path.TorchConfig overriding what
                 ``TorchConfig.from_mlp([mlp])`` takes from [mlp] (tau, surrogate, alpha, readout, device, ...)

The study seed ``s`` of a run seeds the initial weights, the mini-batch order (``np.random.default_rng(s)``) and
the HLOP subspace's initial rows (``HLOPConfig.seed = s``); the stream does not depend on it.

Checks beyond each dataclass's own (all raise a one-line :class:`~snn.errors.ConfigError` naming the TOML key):
an unknown method or stream; a data source that cannot be loaded (the stream is built once here); ``mlp.widths[0]``
different from the stream's input size; ``mlp.widths[-1]`` below the stream's ``n_classes``; an HLOP schedule
whose total rows after the last task, ``HLOPConfig.total_k(n_tasks)[l]``, exceed layer ``l``'s input width
``mlp.widths[l]`` (a subspace cannot hold more orthonormal rows than its dimension); one GPM threshold or HLOP
entry per weight layer; ``path = "torch"`` without :mod:`snn.learn.torch_path`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snn.errors import ConfigError
from snn.hlop.config import HLOPConfig
from snn.io.config import _check_keys, _jsonable, _table, read_toml
from snn.learn.device import DeviceOptions, resolve_preset, split_method
from snn.learn.local import METHODS, BaselineConfig
from snn.learn.mlp import MLPConfig

PATHS = ("local", "torch")
HLOP_METHODS = ("hlop", "hlop_replay")
#: the module of the torch/norse learner (``path = "torch"``) and the factory it must provide
TORCH_MODULE = "snn.learn.torch_path"
TORCH_FACTORY = "make_torch_learner"

_SECTIONS = {"study", "stream", "mlp", "hlop", "baselines", "torch", "device"}
_STUDY_KEYS = {"methods", "seeds", "path", "evaluate_before", "out", "name"}
_STREAM_KEYS = {"name", "n_tasks", "seed", "scenario", "split_seed", "test_fraction", "n_train", "n_test",
                "first_identity", "class_order", "angles_deg"}


@dataclass(frozen=True)
class StudyConfig:
    """A checked study: ``methods`` × ``seeds`` over one stream.

    ``stream``: the keyword arguments of :func:`snn.continual.streams.load_stream` (``name`` included);
    ``n_tasks`` and ``n_classes``: of the built stream; ``hlop``: None when no HLOP method runs; ``torch``: the
    [torch] overrides of the torch learner's config; ``out``: the output directory from the TOML (None: the
    caller picks); ``config``: the parsed TOML (for summary.json).
    """

    name: str
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    path: str
    evaluate_before: bool
    stream: dict[str, Any]
    n_tasks: int
    n_classes: int
    scenario: str
    mlp: MLPConfig
    hlop: HLOPConfig | None
    baselines: BaselineConfig
    out: str | None
    config: dict[str, Any]
    torch: dict[str, Any] = dataclasses.field(default_factory=dict)
    device: DeviceOptions = dataclasses.field(default_factory=DeviceOptions)

    def fingerprint(self) -> str:
        """SHA-256 (hex, 16 digits) of everything that decides one run's numbers (not ``out``, ``name``, nor the
        lists of methods and seeds): a resumed run refuses checkpoints written under another configuration."""
        body = {k: v for k, v in self.config.items() if k != "study"}
        study = {k: v for k, v in self.config.get("study", {}).items() if k not in ("out", "name", "methods", "seeds")}
        text = json.dumps({"study": study, **body, "_path": self.path}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_study(path: str | Path) -> StudyConfig:
    """Read and check a study TOML file (module docstring)."""
    return study_from_dict(read_toml(path), name=Path(path).stem)


def _int_list(value: Any, path: str, low: int) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(path, value, f"must be a non-empty list of integers >= {low}")
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ConfigError(f"{path}[{i}]", v, f"must be an integer >= {low}")
    if len(set(value)) != len(value):
        raise ConfigError(path, value, "must not repeat a value")
    return tuple(value)


def _dataclass(cls: type, table: dict[str, Any], path: str) -> Any:
    """``cls(**table)`` with unknown keys rejected (the dataclasses name their own fields ``<path>.<field>``)."""
    _check_keys(table, {f.name for f in dataclasses.fields(cls)}, path)
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in table.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a value of a type the class compared or converted wrongly
        raise ConfigError(path, _jsonable(table), f"has a value of the wrong type ({exc})") from None


def build_stream(stream: dict[str, Any]) -> Any:
    """:func:`snn.continual.streams.load_stream` with its errors re-keyed to the TOML (``stream.<key>``)."""
    from snn.continual.streams import load_stream

    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in stream.items() if k != "name"}
    try:
        return load_stream(stream["name"], **kwargs)
    except ConfigError as exc:
        key = exc.path.split(".", 1)[0]
        if key in ("stream", "source", "X", "y", "test"):  # unknown name, or its data source is missing
            raise ConfigError("stream.name", stream["name"], f"{exc}") from None
        raise ConfigError(f"stream.{exc.path}", exc.value, exc.constraint) from None
    except TypeError as exc:
        raise ConfigError("stream", _jsonable(stream), f"has a value of the wrong type ({exc})") from None


def torch_module() -> Any:
    """:mod:`snn.learn.torch_path`, or a one-line ConfigError (``study.path``) when it or its factory is absent."""
    if importlib.util.find_spec(TORCH_MODULE) is None:
        raise ConfigError("study.path", "torch", f"needs {TORCH_MODULE} (the torch/norse learner), which this "
                                                 "installation does not have; use path = \"local\"")
    module = importlib.import_module(TORCH_MODULE)
    if not callable(getattr(module, TORCH_FACTORY, None)):
        raise ConfigError("study.path", "torch", f"{TORCH_MODULE} has no {TORCH_FACTORY}(method, mlp, ...)")
    return module


def _check_torch(mlp: MLPConfig, table: dict[str, Any]) -> None:
    module = torch_module()
    require = getattr(module, "_require", None)
    if callable(require):
        try:
            require()  # torch and norse importable?
        except ConfigError as exc:
            raise ConfigError("study.path", "torch", str(exc)) from None
    config_cls = getattr(module, "TorchConfig", None)
    if config_cls is not None:
        allowed = {f.name for f in dataclasses.fields(config_cls)}
        _check_keys(table, allowed, "torch")
        try:
            config_cls.from_mlp(mlp, **{k: tuple(v) if isinstance(v, list) else v for k, v in table.items()})
        except TypeError as exc:
            raise ConfigError("torch", _jsonable(table), f"has a value of the wrong type ({exc})") from None
    elif table:
        raise ConfigError("torch", _jsonable(table), f"{TORCH_MODULE} has no TorchConfig to take these keys")


def study_from_dict(data: dict[str, Any], name: str = "study") -> StudyConfig:
    """Check a parsed TOML document and build the study (first problem -> :class:`ConfigError`). Builds the
    stream once, so a missing data source is reported here, before any output is written."""
    from snn.continual.streams import STREAMS

    _check_keys(_table(data, ""), _SECTIONS, "")
    sec = {s: _table(data.get(s, {}), s) for s in _SECTIONS}

    st = sec["study"]
    _check_keys(st, _STUDY_KEYS, "study")
    if "methods" not in st:
        raise ConfigError("study.methods", None, f"is required (a list of {list(METHODS)})")
    methods = st["methods"]
    if not isinstance(methods, list) or not methods:
        raise ConfigError("study.methods", methods, f"must be a non-empty list of {list(METHODS)}")
    bases = []
    for i, m in enumerate(methods):
        base, preset = split_method(m) if isinstance(m, str) else (m, None)
        if base not in METHODS:
            raise ConfigError(f"study.methods[{i}]", m, f"must be one of {list(METHODS)}, optionally "
                                                        "followed by @<rram preset> (e.g. hlop@rram)")
        if preset is not None:
            resolve_preset(preset, f"study.methods[{i}]")
        bases.append(base)
    if len(set(methods)) != len(methods):
        raise ConfigError("study.methods", methods, "must not repeat a method")
    on_device = [m for m in methods if split_method(m)[1] is not None]
    if "seeds" not in st:
        raise ConfigError("study.seeds", None, "is required (a list of integers >= 0)")
    seeds = _int_list(st["seeds"], "study.seeds", 0)
    path = st.get("path", "local")
    if path not in PATHS:
        raise ConfigError("study.path", path, f"must be one of {list(PATHS)}")
    if on_device and path != "local":
        raise ConfigError("study.methods", on_device, "methods on a device (@preset) need study.path = \"local\"")
    if "device" in data and not on_device:
        raise ConfigError("device", _jsonable(sec["device"]), "is only used by methods on a device (e.g. hlop@rram)")
    device = _dataclass(DeviceOptions, sec["device"], "device")
    for m in on_device:
        device.profile(resolve_preset(split_method(m)[1], "study.methods"))  # the overrides fit every profile

    evaluate_before = st.get("evaluate_before", True)
    if not isinstance(evaluate_before, bool):
        raise ConfigError("study.evaluate_before", evaluate_before, "must be true or false")
    out = st.get("out")
    if out is not None and (not isinstance(out, str) or not out):
        raise ConfigError("study.out", out, "must be a non-empty path string")
    study_name = st.get("name", name)
    if not isinstance(study_name, str) or not study_name:
        raise ConfigError("study.name", study_name, "must be a non-empty string")

    s = dict(sec["stream"])
    _check_keys(s, _STREAM_KEYS, "stream")
    if "name" not in s:
        raise ConfigError("stream.name", None, f"is required (one of {sorted(STREAMS)})")
    if s["name"] not in STREAMS:
        raise ConfigError("stream.name", s["name"], f"must be one of {sorted(STREAMS)}")

    mlp = _dataclass(MLPConfig, sec["mlp"], "mlp")
    baselines = _dataclass(BaselineConfig, sec["baselines"], "baselines")
    for i, k in enumerate(device.layers):
        if k >= mlp.n_layers:
            raise ConfigError(f"device.layers[{i}]", k, f"must be a weight-layer index < {mlp.n_layers} (mlp.widths)")
    hlop = None
    if any(m in HLOP_METHODS for m in bases):
        if "hlop" not in data:
            raise ConfigError("hlop", None, f"is required by the methods {list(HLOP_METHODS)}")
        if "seed" in sec["hlop"]:
            raise ConfigError("hlop.seed", sec["hlop"]["seed"], "is set by study.seeds (one per run); remove it")
        hlop = HLOPConfig.from_dict(sec["hlop"], "hlop")
        if hlop.n_layers != mlp.n_layers:
            raise ConfigError("hlop.k_first", list(hlop.k_first),
                              f"must have one entry per weight layer of mlp.widths ({mlp.n_layers})")
    if "gpm" in bases and len(baselines.gpm_thresholds) != mlp.n_layers:
        raise ConfigError("baselines.gpm_thresholds", list(baselines.gpm_thresholds),
                          f"must have one threshold per weight layer of mlp.widths ({mlp.n_layers})")
    if path == "torch":
        _check_torch(mlp, sec["torch"])
    elif "torch" in data:
        raise ConfigError("torch", _jsonable(sec["torch"]), "is only used with study.path = \"torch\"")

    stream = build_stream(s)  # data source present? (the one expensive check, last)
    n_inputs = math.prod(stream.input_shape)
    if mlp.widths[0] != n_inputs:
        raise ConfigError("mlp.widths[0]", mlp.widths[0],
                          f"must equal the input size of stream {s['name']!r} ({n_inputs} = "
                          f"{' x '.join(map(str, stream.input_shape))})")
    last = len(mlp.widths) - 1
    if mlp.widths[-1] < stream.n_classes:
        raise ConfigError(f"mlp.widths[{last}]", mlp.widths[-1],
                          f"must be >= the stream's n_classes ({stream.n_classes}, scenario {stream.scenario!r})")
    if hlop is not None:
        total = hlop.total_k(stream.n_tasks)
        for layer, (k, width) in enumerate(zip(total, mlp.widths[:-1])):
            if k > width:
                key = f"hlop.k_first[{layer}]" if hlop.k_first[layer] > width else "hlop.k_added"
                raise ConfigError(key, k, f"gives {k} subspace rows in layer {layer} after {stream.n_tasks} tasks "
                                          f"(totals {list(total)}); must be <= its input width mlp.widths[{layer}] "
                                          f"= {width}")
    return StudyConfig(name=study_name, methods=tuple(methods), seeds=seeds, path=path,
                       evaluate_before=evaluate_before, stream=s, n_tasks=stream.n_tasks,
                       n_classes=stream.n_classes, scenario=stream.scenario, mlp=mlp, hlop=hlop,
                       baselines=baselines, out=out, config=_jsonable(data), torch=dict(sec["torch"]),
                       device=device)
