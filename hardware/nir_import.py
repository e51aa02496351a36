"""Import NIR graphs (``nir`` 1.0.8 HDF5 files or :class:`nir.NIRGraph` objects) as network descriptions, and run
them on an input array.

Supported nodes: ``Input``, ``Output``, ``Affine``, ``Linear``, ``Scale``, ``Delay``, ``LIF``, ``CubaLIF``, ``IF``,
``LI``, ``CubaLI`` and nested ``NIRGraph`` (inlined). Anything else (``Conv1d``, ``Conv2d``, ``SumPool2d``,
``AvgPool2d``, ``Flatten``, ``I``, ``Threshold``, unknown types) is refused with one :class:`ConfigError` that
lists every unsupported node type and name.

Each neuron node becomes a population; each path from a spike source (an Input or a neuron node) through
``Delay``/``Affine``/``Linear``/``Scale`` nodes to a neuron node becomes a projection (weights of the composed
matrix, delays ``round(delay / dt)`` steps, ``delta`` target for LIF/LI/IF and ``exc`` for Cuba nodes). An
Affine bias becomes a constant bias current of the neurons it reaches. The equations of the two readings
(``discretization="exact"`` and ``"euler"``) and the field mapping are in :mod:`hardware.nir_export`; this
module inverts them:

- LIF / LI: ``tau_m`` = ``tau`` (exact) or ``-dt / ln(1 - dt/tau)`` (euler; needs ``dt < tau``), so that the
  engine's per-step decay ``em`` is the reading's; ``v_rest = v_leak``. The input goes to the exc current of a
  memoryless synapse (``tau_syn = dt/100``, decay ``e^{-100}``) with weight ``W (1 - em) / c``: delivered at
  the end of a step, it adds ``r (1 - em) W x_t`` to ``v`` in the next step, so the engine thresholds exactly
  the reading's ``v_t`` (one step later), and a reset in between does not erase it.
- CubaLIF / CubaLI: exact: ``tau_syn``, ``tau_mem`` as written, ``r = r_nir / e^{-dt/tau_syn}``, exc weight
  ``e^{-dt/tau_syn} w_in (dt/tau_syn) W``; euler: time constants as above, ``r = r_nir (dt/tau_mem) / c``
  (``c`` the engine's exact coupling), exc weight ``(dt/tau_syn) w_in W``; ``tau_syn_inh = tau_syn_exc``.
- IF: ``v += r W`` per input (through the same memoryless synapse); ``tau_m = dt`` so a bias adds
  ``r * bias`` per step.
- Reset: NIR resets to ``v_reset``; ``reset="subtract"`` (snnTorch's ``reset_mechanism="subtract"``, Norse's
  ``reset_subtract``) subtracts ``v_threshold`` (``v_reset`` then set to 0).
- Initial state: ``v = v_leak`` (Norse's ``LIFBoxCell``; ``v_reset`` for IF), currents 0; with a bias the
  initial ``v`` is moved back by one step of drive, because the engine's bias acts in step 0 while a NIR
  input reaches the engine one step late.

Files written by our exporter carry our exact fields in node metadata (``snn_*``); they are used when they
reproduce the node's NIR fields (so an edited file falls back to the fields).

Time: the engine delivers spikes at the end of a step, so a neuron ``depth`` layers from an Input (shortest
path) spikes ``depth`` engine steps after its NIR step; :func:`run_nir` shifts spikes back. Norse and snnTorch
pass spikes along feed-forward edges in the same step and along back-edges of a cycle one step later; the
engine takes one step per edge, so graphs whose cycles pass through several populations, or with skip
connections of different depth, run with different relative latencies (a self-recurrent population, as in
``braille_noDelay_noBias_subtract.nir``, matches).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hardware.nir_export import IMPORT_TAU_SYN_DT, check_discretization, coupling, neuron_node
from snn.errors import ConfigError
from snn.model.connectivity import Connectivity
from snn.model.network import Network, Population, Projection, SpikeMonitor, SpikeTimesInput, StateMonitor
from snn.model.neurons import IF, LI, LIF, MODELS, RESETS

NEURONS = ("LIF", "CubaLIF", "IF", "LI", "CubaLI")
TRANSIT = ("Affine", "Linear", "Scale", "Delay")
SUPPORTED = ("Input", "Output", "NIRGraph") + NEURONS + TRANSIT
_PASS = "_pass"  # inlined subgraph Input/Output: identity

_FIELDS = {
    "LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "LI": ("tau", "r", "v_leak"),
    "IF": ("r", "v_threshold", "v_reset"),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
    "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak", "w_in"),
}
_OPTIONAL = {"v_reset": 0.0, "w_in": 1.0}
_POSITIVE = ("tau", "tau_syn", "tau_mem")


@dataclass(frozen=True, eq=False)
class ImportedGraph:
    """A NIR graph as a network description, and how its nodes map onto it.

    ``network``: the description; each NIR Input is an empty :class:`SpikeTimesInput` (filled by
    :func:`run_nir`), every spiking population has a SpikeMonitor. ``inputs``: NIR Input name -> (source
    name, channels). ``populations``: NIR neuron node name -> population name. ``depth``: NIR neuron node ->
    engine steps between its NIR step and the engine step of the same spike. ``outputs``: NIR Output name ->
    the neuron nodes feeding it. ``kinds``: NIR node name -> NIR type.
    """

    network: Network
    inputs: dict[str, tuple[str, int]]
    populations: dict[str, str]
    depth: dict[str, int]
    outputs: dict[str, list[str]]
    kinds: dict[str, str]
    discretization: str
    coefficients: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


# --- reading -------------------------------------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def read_nir_dict(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The file's root node as nir's dictionary form (``nir.serialization.hdf2dict``); a missing, truncated or
    malformed file is one :class:`ConfigError` line."""
    import h5py
    from nir.serialization import hdf2dict

    key = "nir.file"
    if not os.path.isfile(path):
        raise ConfigError(key, str(path), "no such file")
    try:
        with h5py.File(path, "r") as f:
            if "node" not in f:
                raise ConfigError(key, str(path), "is not a NIR file (HDF5 without a 'node' group)")
            return hdf2dict(f["node"])
    except ConfigError:
        raise
    except Exception as exc:  # h5py raises OSError, KeyError, ValueError, RuntimeError... on damaged files
        raise ConfigError(key, str(path), f"cannot be read as NIR HDF5 ({type(exc).__name__}: "
                                          f"{_one_line(exc)})") from None


def _as_dict(source: Any) -> dict[str, Any]:
    try:
        import nir
    except ImportError:  # pragma: no cover - nir is a dependency of this package
        raise ConfigError("nir", "nir", "the nir package is required (pip install nir)") from None
    if isinstance(source, (str, os.PathLike)):
        return read_nir_dict(source)
    if isinstance(source, nir.NIRNode):
        try:
            return source.to_dict()
        except Exception as exc:  # an inconsistent in-memory graph
            raise ConfigError("nir.graph", type(source).__name__, f"cannot be serialised: {_one_line(exc)}") from None
    if isinstance(source, dict):
        return source
    raise ConfigError("nir.graph", source, "must be a path, a nir.NIRGraph or its dictionary form")


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        try:
            return value.decode("utf8")
        except UnicodeDecodeError:
            return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _text(value.item())
    return value if isinstance(value, str) else None


def _edges(raw: Any, path: str) -> list[tuple[str, str]]:
    try:
        pairs = [tuple(e) for e in (raw.tolist() if isinstance(raw, np.ndarray) else raw)]
    except TypeError:
        raise ConfigError(path, raw, "must be a list of (source, destination) node names") from None
    out = []
    for e in pairs:
        names = [_text(x) for x in e]
        if len(names) != 2 or None in names:
            raise ConfigError(path, e, "every edge must be two node names")
        out.append((names[0], names[1]))
    return out


def _collect_types(d: dict[str, Any], prefix: str, found: dict[str, list[str]]) -> None:
    nodes = d.get("nodes")
    if not isinstance(nodes, dict):
        raise ConfigError(f"nir.{prefix or 'graph'}.nodes", type(nodes).__name__, "must be a group of nodes")
    for name, node in nodes.items():
        full = f"{prefix}{name}"
        kind = _text(node.get("type")) if isinstance(node, dict) else None
        if kind is None:
            raise ConfigError(f"nir.nodes.{full}.type", None if not isinstance(node, dict) else node.get("type"),
                              "every node needs a type")
        found.setdefault(kind, []).append(full)
        if kind == "NIRGraph":
            _collect_types(node, f"{full}.", found)


def check_supported(d: dict[str, Any]) -> None:
    """One :class:`ConfigError` naming every unsupported node type and its nodes."""
    if not isinstance(d, dict) or _text(d.get("type")) not in (None, "NIRGraph"):
        raise ConfigError("nir.type", None if not isinstance(d, dict) else d.get("type"), "the root must be a NIRGraph")
    found: dict[str, list[str]] = {}
    _collect_types(d, "", found)
    bad = {k: v for k, v in found.items() if k not in SUPPORTED}
    if bad:
        listing = "; ".join(f"{k}: {', '.join(sorted(v))}" for k, v in sorted(bad.items()))
        raise ConfigError("nir.nodes", listing, f"unsupported NIR node types (supported: {', '.join(SUPPORTED)})")


# --- graph flattening ------------------------------------------------------------------------------------------


def _flatten(d: dict[str, Any], prefix: str, nodes: dict[str, dict[str, Any]], edges: list[tuple[str, str]]) -> None:
    """Inline nested graphs: their Input/Output nodes become identity (pass) nodes named ``graph.node``."""
    inner = d["nodes"]
    local = _edges(d.get("edges", []), f"nir.{prefix or ''}edges")
    for name, node in inner.items():
        full = f"{prefix}{name}"
        kind = _text(node["type"])
        if kind == "NIRGraph":
            _flatten(node, f"{full}.", nodes, edges)
        else:
            nodes[full] = dict(node, type=kind)
            if prefix and kind in ("Input", "Output"):
                nodes[full]["type"] = _PASS
    sub_in = {n: [f"{n}.{k}" for k, v in inner[n]["nodes"].items() if _text(v.get("type")) == "Input"]
              for n in inner if _text(inner[n]["type"]) == "NIRGraph"}
    sub_out = {n: [f"{n}.{k}" for k, v in inner[n]["nodes"].items() if _text(v.get("type")) == "Output"]
               for n in inner if _text(inner[n]["type"]) == "NIRGraph"}
    for a, b in local:
        for name in (a, b):
            if name not in inner:
                raise ConfigError(f"nir.edges.{prefix}{a}->{b}", name, "names a node that does not exist")
        srcs = [f"{prefix}{s}" for s in sub_out[a]] if a in sub_out else [f"{prefix}{a}"]
        dsts = [f"{prefix}{s}" for s in sub_in[b]] if b in sub_in else [f"{prefix}{b}"]
        edges.extend((s, t) for s in srcs for t in dsts)


# --- node parameters ---------------------------------------------------------------------------------------------


def _values(node: dict[str, Any], key: str, name: str, default: float | None = None) -> np.ndarray:
    path = f"nir.nodes.{name}.{key}"
    if key not in node or node[key] is None:
        if default is None:
            raise ConfigError(path, None, "is missing")
        return np.array(default, dtype=np.float64)
    raw = node[key]
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(path, raw, "must be numbers") from None
    if not np.all(np.isfinite(arr)):
        raise ConfigError(path, raw, "must be finite numbers")
    return arr


def _neuron_params(node: dict[str, Any], kind: str, name: str) -> tuple[dict[str, np.ndarray], int]:
    """Parameter arrays flattened to one common length ``n`` (length-1 arrays broadcast, with a warning)."""
    raw = {k: _values(node, k, name, _OPTIONAL.get(k)) for k in _FIELDS[kind]}
    sizes = {k: int(v.size) for k, v in raw.items()}
    n = max(sizes.values()) if sizes else 1
    out = {}
    for k, v in raw.items():
        if v.size == n:
            out[k] = v.reshape(n)
        elif v.size == 1:
            if k not in _OPTIONAL and n > 1:
                warnings.warn(f"nir.nodes.{name}.{k}: one value for {n} neurons, broadcast", UserWarning, stacklevel=4)
            out[k] = np.full(n, float(v.reshape(-1)[0]))
        else:
            raise ConfigError(f"nir.nodes.{name}.{k}", v, f"has {v.size} values but the node has {n} neurons")
        if k in _POSITIVE and np.any(out[k] <= 0):
            raise ConfigError(f"nir.nodes.{name}.{k}", v, "must be > 0 (seconds)")
    return out, n


def _matrix(node: dict[str, Any], kind: str, name: str) -> np.ndarray:
    """The (out, in) matrix of a Linear/Affine/Scale node."""
    if kind == "Scale":
        s = _values(node, "scale", name).reshape(-1)
        return np.diag(s)
    w = _values(node, "weight", name)
    if w.ndim != 2:
        raise ConfigError(f"nir.nodes.{name}.weight", w, "must be a 2-D (out, in) matrix")
    return w


def _meta(node: dict[str, Any]) -> dict[str, Any]:
    m = node.get("metadata")
    return m if isinstance(m, dict) else {}


# --- neuron mapping --------------------------------------------------------------------------------------------


def _model_from_meta(meta: dict[str, Any], n: int, name: str) -> tuple[Any, dict[str, Any]] | None:
    """Our model restored from ``snn_*`` metadata (our own exporter), or None."""
    kind = _text(meta.get("snn_model"))
    if kind not in ("lif", "if", "li"):
        return None
    cls = MODELS[kind]
    params: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = f"snn_{f.name}"
        if key not in meta:
            continue
        if f.name == "reset":
            params["reset"] = _text(meta[key])
        else:
            arr = np.asarray(meta[key], dtype=np.float64)
            params[f.name] = float(arr) if arr.ndim == 0 else arr
    try:
        model = cls(**params).validate(n, f"populations.{name}")
    except (ConfigError, TypeError, ValueError):
        return None
    initial = {}
    for key, value in meta.items():
        if key.startswith("snn_initial_"):
            arr = np.asarray(value, dtype=np.float64)
            initial[key[len("snn_initial_"):]] = float(arr) if arr.ndim == 0 else arr
    return model, initial


def _same_node(a: Any, fields: dict[str, np.ndarray], kind: str) -> bool:
    if type(a).__name__ != kind:
        return False
    for k, v in fields.items():
        mine = np.asarray(getattr(a, k), dtype=np.float64).reshape(-1)
        if mine.shape != v.shape or not np.allclose(mine, v, rtol=1e-9, atol=1e-12):
            return False
    return True


@dataclass
class _Neuron:
    name: str
    kind: str
    pop: Population
    in_scale: np.ndarray  # our weight = NIR weight * in_scale[post]
    target: str
    bias_scale: np.ndarray  # our bias = NIR Affine bias * bias_scale[post]
    coef: dict[str, np.ndarray]


def _neuron(name: str, pop_name: str, node: dict[str, Any], kind: str, dt: float, mode: str,
            reset: str | None) -> _Neuron:
    p, n = _neuron_params(node, kind, name)
    meta = _meta(node)
    restored = _model_from_meta(meta, n, pop_name)
    cuba = kind.startswith("Cuba")
    if restored is not None:
        model, initial = restored
        synapse = _text(meta.get("snn_synapse")) or "exc"
        how = _text(meta.get("snn_kind")) or ("cuba" if cuba else "delta")
        if how not in ("delta", "instant", "cuba") or (how == "cuba") != cuba:
            how = "cuba" if cuba else "delta"
        nir_node, scale = neuron_node(model, n, how, dt, mode, synapse)
        if _same_node(nir_node, p, kind):
            if reset is not None and isinstance(model, (LIF, IF)):
                model = dataclasses.replace(model, reset=reset)
            target = "delta" if how == "delta" else synapse
            return _Neuron(name, kind, Population(pop_name, n, model, initial), scale, target,
                           np.ones(n), _coefficients(model, n, dt))
    mode_reset = reset if reset is not None else (_text(meta.get("snn_reset")) or "value")
    if mode_reset not in RESETS:
        mode_reset = "value"
    v_reset = p.get("v_reset", np.zeros(n))
    if mode_reset == "subtract" and np.any(v_reset != 0):
        warnings.warn(f"nir.nodes.{name}: reset='subtract' subtracts v_threshold; v_reset is ignored",
                      UserWarning, stacklevel=3)
        v_reset = np.zeros(n)
    euler = mode == "euler"
    fast = IMPORT_TAU_SYN_DT * dt  # inputs pass through a memoryless current, which a reset leaves alone
    if kind == "IF":
        model = IF(tau_m=dt, v_threshold=p["v_threshold"], v_reset=v_reset, t_ref=0.0, r=p["r"], reset=mode_reset,
                   tau_syn_exc=fast, tau_syn_inh=fast)
        pop = Population(pop_name, n, model, {"v": v_reset})
        in_scale = neuron_node(model, n, "instant", dt, mode)[1]
        return _Neuron(name, kind, pop, in_scale, "exc", np.ones(n), _coefficients(model, n, dt))
    if not cuba:
        b = dt / p["tau"]
        if euler and np.any(b >= 1):
            raise ConfigError(f"nir.nodes.{name}.tau", p["tau"], f"must be > dt = {dt:g} s for the euler reading")
        tau_m = -dt / np.log1p(-b) if euler else p["tau"]
        r = p["r"]
        common = {"tau_m": tau_m, "v_rest": p["v_leak"], "r": r, "tau_syn_exc": fast, "tau_syn_inh": fast}
        in_scale = neuron_node(LIF(**common), n, "instant", dt, mode)[1]
        bias_scale = np.ones(n)
    else:
        a, b = dt / p["tau_syn"], dt / p["tau_mem"]
        if euler and (np.any(a >= 1) or np.any(b >= 1)):
            raise ConfigError(f"nir.nodes.{name}.tau_syn", p["tau_syn"],
                              f"tau_syn and tau_mem must be > dt = {dt:g} s for the euler reading")
        tau_s = -dt / np.log1p(-a) if euler else p["tau_syn"]
        tau_m = -dt / np.log1p(-b) if euler else p["tau_mem"]
        al = np.exp(-dt / tau_s)
        if euler:
            r = p["r"] * b / coupling(tau_s, tau_m, dt)
            in_scale = a * p["w_in"]
        else:
            r = p["r"] / al
            in_scale = al * a * p["w_in"]
        common = {"tau_m": tau_m, "v_rest": p["v_leak"], "r": r, "tau_syn_exc": tau_s, "tau_syn_inh": tau_s}
        # steady synaptic current of a constant Affine bias is w_in * b; its drive r_nir w_in b = r_ours * bias
        with np.errstate(divide="ignore", invalid="ignore"):
            bias_scale = np.where(r != 0, p["r"] * p["w_in"] / r, 0.0)
    spiking = kind in ("LIF", "CubaLIF")
    if spiking:
        model = LIF(**common, v_threshold=p["v_threshold"], v_reset=v_reset, t_ref=0.0, reset=mode_reset)
    else:
        model = LI(**common)
    pop = Population(pop_name, n, model, {"v": p["v_leak"]})
    return _Neuron(name, kind, pop, in_scale, "exc", bias_scale, _coefficients(model, n, dt))


def _coefficients(model: Any, n: int, dt: float) -> dict[str, np.ndarray]:
    """The engine's per-step coefficients (float64), to rebuild NIR-step membrane traces from monitors."""
    def arr(name: str, default: float = 0.0) -> np.ndarray:
        return np.broadcast_to(np.asarray(getattr(model, name, default), dtype=np.float64), (n,)).copy()

    if isinstance(model, IF):
        ce = arr("r") * arr("tau_syn_exc") * -np.expm1(-dt / arr("tau_syn_exc")) / arr("tau_m")
        return {"em": np.ones(n), "lin": arr("r") * arr("bias") * dt / arr("tau_m"), "ce": ce,
                "vth": arr("v_threshold"), "vreset": arr("v_reset")}
    em = np.exp(-dt / arr("tau_m"))
    v_inf = arr("v_rest") + arr("r") * arr("bias")
    out = {"em": em, "lin": v_inf * -np.expm1(-dt / arr("tau_m")),
           "ce": arr("r") * coupling(arr("tau_syn_exc"), arr("tau_m"), dt)}
    if isinstance(model, LIF):
        out.update(vth=arr("v_threshold"), vreset=arr("v_reset"))
    return out


# --- paths through weight/delay nodes ------------------------------------------------------------------------


@dataclass
class _Path:
    m: np.ndarray | None  # (n_cur, n_src); None = identity so far
    d: np.ndarray  # delays in seconds: (n_cur, n_src), or (n_src,) per source while m is None
    label: str = ""  # our exporter's projection name (Linear metadata ``snn_projection``), if any
    target: str = ""  # our exporter's synaptic target (Linear metadata ``snn_target``), if any


def _input_size(node: dict[str, Any], name: str) -> int:
    """Channels of an Input node: the product of its declared shape (multi-dimensional inputs are flattened)."""
    shape = node.get("shape", node.get("input_type"))
    try:
        arr = np.asarray(shape, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"nir.nodes.{name}.shape", shape, "must be a list of integers") from None
    if arr.size == 0 or np.any(arr < 1) or np.prod(arr.astype(np.float64)) > 2**31 - 1:
        raise ConfigError(f"nir.nodes.{name}.shape", shape, "must be integers >= 1")
    return int(np.prod(arr))


class _Builder:
    def __init__(self, nodes: dict[str, dict[str, Any]], edges: list[tuple[str, str]], dt: float) -> None:
        self.nodes = nodes
        self.dt = dt
        self.out: dict[str, list[str]] = {k: [] for k in nodes}
        self.inc: dict[str, list[str]] = {k: [] for k in nodes}
        for a, b in edges:
            for x in (a, b):
                if x not in nodes:
                    raise ConfigError(f"nir.edges.{a}->{b}", x, "names a node that does not exist")
            self.out[a].append(b)
            self.inc[b].append(a)
        self.kind = {k: v["type"] for k, v in nodes.items()}
        self.sizes: dict[str, int] = {}
        self.warned: set[str] = set()
        self.matrices = {k: _matrix(v, self.kind[k], k) for k, v in nodes.items()
                         if self.kind[k] in ("Affine", "Linear", "Scale")}

    def _apply(self, path: _Path, name: str, src: str, n_src: int) -> _Path:
        kind = self.kind[name]
        if kind == "Delay":
            delay = _values(self.nodes[name], "delay", name).reshape(-1)
            if np.any(delay < 0):
                raise ConfigError(f"nir.nodes.{name}.delay", delay, "must be >= 0 (seconds)")
            n_cur = n_src if path.m is None else path.m.shape[0]
            if delay.size not in (1, n_cur):
                raise ConfigError(f"nir.nodes.{name}.delay", delay, f"must have 1 or {n_cur} values")
            return _Path(path.m, path.d + (delay if path.m is None else delay[:, None]), path.label, path.target)
        if kind in ("Affine", "Linear", "Scale"):
            w = self.matrices[name]
            # projection name: our exporter's (metadata), else the first weight node's own name
            label = path.label or _text(_meta(self.nodes[name]).get("snn_projection")) or name
            target = path.target or _text(_meta(self.nodes[name]).get("snn_target")) or ""
            n_cur = n_src if path.m is None else path.m.shape[0]
            if w.shape[1] != n_cur:
                if path.m is None and self.kind[src] == "Input" and src not in self.warned:
                    warnings.warn(f"nir.nodes.{src}: declared {n_cur} channels but {name} takes {w.shape[1]}; "
                                  f"using {w.shape[1]}", UserWarning, stacklevel=5)
                    self.warned.add(src)
                    self.sizes[src] = w.shape[1]
                    return self._apply(_Path(None, np.zeros(w.shape[1])), name, src, w.shape[1])
                raise ConfigError(f"nir.nodes.{name}.weight", w,
                                  f"takes {w.shape[1]} inputs but receives {n_cur} (wrong shapes)")
            if path.m is None:
                return _Path(w.copy(), np.broadcast_to(path.d, w.shape).copy(), label, target)
            m = w @ path.m
            d = path.d
            if d.size and not np.all(d == d[:1]):  # delays must depend on the source only
                raise ConfigError(f"nir.nodes.{name}", "weights after per-target delays",
                                  "unsupported: a chain of weights whose delays differ per intermediate channel")
            return _Path(m, np.broadcast_to(d[:1] if d.size else np.zeros((1, n_src)), m.shape).copy(), label,
                         target)
        return path  # Output / pass nodes carry the signal unchanged

    def walk(self, src: str, n_src: int) -> list[tuple[str, _Path]]:
        """Every (neuron or leaf Output, path) reached from ``src`` through transit nodes."""
        found: list[tuple[str, _Path]] = []
        stack = [(b, _Path(None, np.zeros(n_src)), (src,)) for b in self.out[src]]
        while stack:
            name, path, seen = stack.pop()
            if name in seen and self.kind[name] not in NEURONS:
                raise ConfigError(f"nir.nodes.{name}", " -> ".join(seen + (name,)),
                                  "a cycle without a neuron node cannot be run")
            kind = self.kind[name]
            if kind in NEURONS:
                found.append((name, path))
                continue
            path = self._apply(path, name, seen[0], self.sizes.get(seen[0], n_src))
            if kind == "Output" and not self.out[name]:
                found.append((name, path))
            for nxt in self.out[name]:
                stack.append((nxt, path, seen + (name,)))
            if len(stack) > 100_000:
                raise ConfigError(f"nir.nodes.{name}", len(stack), "too many paths through weight nodes")
        return found

    def biases(self) -> dict[str, np.ndarray]:
        """Affine biases carried to the neurons they reach: neuron name -> (n,) bias (NIR units)."""
        out: dict[str, np.ndarray] = {}
        for name, kind in self.kind.items():
            if kind != "Affine":
                continue
            b = _values(self.nodes[name], "bias", name, 0.0).reshape(-1)
            n_out = self.matrices[name].shape[0]
            if b.size not in (1, n_out):
                raise ConfigError(f"nir.nodes.{name}.bias", b, f"must have 1 or {n_out} values")
            if not np.any(b):
                continue
            vec = np.broadcast_to(b, (n_out,)).astype(np.float64)
            stack = [(nxt, vec, (name,)) for nxt in self.out[name]]
            while stack:
                node, v, seen = stack.pop()
                if node in seen:
                    raise ConfigError(f"nir.nodes.{node}", " -> ".join(seen + (node,)), "a cycle without a neuron")
                k = self.kind[node]
                if k in NEURONS:
                    out[node] = out.get(node, 0) + v
                    continue
                if k in ("Affine", "Linear", "Scale"):
                    w = self.matrices[node]
                    if w.shape[1] != v.size:
                        raise ConfigError(f"nir.nodes.{node}.weight", w,
                                          f"takes {w.shape[1]} inputs, receives {v.size}")
                    v = w @ v
                stack.extend((nxt, v, seen + (node,)) for nxt in self.out[node])
        return out


def _name(raw: str, taken: set[str]) -> str:
    base = "".join(c if c.isalnum() or c in "_-" else "_" for c in raw) or "node"
    if not base[0].isalnum():
        base = "n" + base
    out, k = base, 1
    while out in taken:
        out, k = f"{base}_{k}", k + 1
    taken.add(out)
    return out


def from_nir(source: Any, dt: float, discretization: str = "exact", reset: str | None = None) -> ImportedGraph:
    """Import a NIR graph (path, :class:`nir.NIRGraph` or its dictionary form) as an :class:`ImportedGraph`.

    ``dt``: the step (seconds) the graph is run at (NIR files carry none; ``metadata['dt']`` differing gives a
    warning). ``discretization``: ``"exact"`` or ``"euler"`` (see :mod:`hardware.nir_export`). ``reset``:
    ``"value"`` or ``"subtract"`` for every spiking node; None uses our metadata or NIR's reset to value.
    Untidy files (declared shapes disagreeing with weights, one value for many neurons) are read with a
    :class:`UserWarning`; what cannot run is one :class:`ConfigError` line.
    """
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating)) or not 0 < float(dt) < 1:
        raise ConfigError("nir.dt", dt, "must be a number of seconds in (0, 1)")
    dt = float(dt)
    mode = check_discretization(discretization)
    if reset is not None and reset not in RESETS:
        raise ConfigError("nir.reset", reset, f"must be one of {list(RESETS)} or None")
    d = _as_dict(source)
    check_supported(d)
    meta = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
    if "dt" in meta:
        try:
            file_dt = float(np.asarray(meta["dt"], dtype=np.float64))
        except (TypeError, ValueError):
            file_dt = None
        if file_dt is not None and not np.isclose(file_dt, dt, rtol=1e-9, atol=0.0):
            warnings.warn(f"nir.metadata.dt = {file_dt:g} s differs from dt = {dt:g} s", UserWarning, stacklevel=2)
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[tuple[str, str]] = []
    _flatten(d, "", nodes, edges)
    b = _Builder(nodes, edges, dt)
    taken: set[str] = set()
    names = {k: _name(k, taken) for k, v in nodes.items() if v["type"] in NEURONS + ("Input",)}
    neurons = {k: _neuron(k, names[k], v, v["type"], dt, mode, reset) for k, v in nodes.items()
               if v["type"] in NEURONS}
    for k, v in nodes.items():
        if v["type"] == "Input":
            b.sizes[k] = _input_size(v, k)
    # projections: group paths by (source, target, projection label)
    groups: dict[tuple[str, str, str, str], list[_Path]] = {}
    outputs: dict[str, list[str]] = {}
    sources = [k for k in nodes if nodes[k]["type"] == "Input"] + list(neurons)
    for src in sources:
        n_src = b.sizes[src] if src in b.sizes else neurons[src].pop.size
        for dst, path in b.walk(src, n_src):
            n_src = b.sizes.get(src, n_src)
            if nodes[dst]["type"] == "Output":
                if src in neurons and path.m is None:
                    outputs.setdefault(dst, []).append(src)
                elif src in neurons:
                    warnings.warn(f"nir.nodes.{dst}: receives weighted values of {src}, not spikes; run_nir "
                                  f"records {src} itself", UserWarning, stacklevel=2)
                continue
            if src in neurons and neurons[src].kind in ("LI", "CubaLI"):
                raise ConfigError(f"nir.nodes.{src}", neurons[src].kind,
                                  f"a non-spiking node can only feed Output nodes (it feeds {dst})")
            label = path.label or f"{src}->{dst}"
            target = neurons[dst].target
            if target != "delta" and path.target in ("exc", "inh"):
                target = path.target  # our own file: keep the exc/inh split (same synapse in NIR)
            groups.setdefault((src, dst, label, target), []).append(path)
    projections = []
    for (src, dst, label, target), paths in groups.items():
        projections.extend(_projections(src, dst, label, target, paths, neurons, names, b, dt))
    biases = b.biases()
    depth = _depths(_inputs_of(nodes, names, b), neurons, projections, names)
    pops = []
    for k, nrn in neurons.items():
        pop = nrn.pop
        if k in biases and np.any(biases[k]):
            bias = biases[k] * nrn.bias_scale
            if nrn.kind.startswith("Cuba"):
                warnings.warn(f"nir.nodes.{k}: an Affine bias is applied as a constant current without the "
                              "synaptic rise (differs during the first ~tau_syn)", UserWarning, stacklevel=2)
            model = dataclasses.replace(pop.model, bias=np.asarray(pop.model.bias) + bias)
            initial = dict(pop.initial)
            coef = _coefficients(model, pop.size, dt)
            v0 = np.broadcast_to(np.asarray(initial.get("v", 0.0), dtype=np.float64), (pop.size,))
            # the engine's bias acts from step 0, a NIR input reaches this node `depth` steps late: start the
            # free evolution v <- em v + lin that many steps back, so v is v0 when the first input arrives
            v_start = v0.copy()
            for _ in range(depth[k]):
                v_start = (v_start - coef["lin"]) / coef["em"]
            initial["v"] = v_start
            pop = Population(pop.name, pop.size, model, initial)
            nrn.coef = coef
        pops.append(pop)
    inputs = _inputs_of(nodes, names, b)
    sources_desc = [SpikeTimesInput(names[k], b.sizes[k], np.zeros(0), np.zeros(0, np.int64)) for k in inputs]
    max_delay = max([p.max_delay for p in projections] + [0])
    monitors = [SpikeMonitor(p.name) for p in pops if p.spiking]
    net = Network(dt=dt, populations=pops, projections=projections, inputs=sources_desc, monitors=monitors,
                  max_delay_steps=max(1024, max_delay), name=_text(meta.get("snn_network")) or "nir",
                  metadata={"nir_discretization": mode,  # NIR names, so an export keeps them:
                            "nir_nodes": {v: k for k, v in names.items()},  # our name -> NIR node name
                            "nir_outputs": {k: [names[x] for x in v] for k, v in outputs.items()}})
    return ImportedGraph(net, inputs, {k: names[k] for k in neurons}, depth, outputs,
                         {k: v["type"] for k, v in nodes.items()}, mode, {k: n.coef for k, n in neurons.items()})


def _inputs_of(nodes: dict[str, dict[str, Any]], names: dict[str, str], b: _Builder) -> dict[str, tuple[str, int]]:
    return {k: (names[k], b.sizes[k]) for k in nodes if nodes[k]["type"] == "Input"}


def _projections(src: str, dst: str, label: str, target: str, paths: list[_Path], neurons: dict[str, _Neuron],
                 names: dict[str, str], b: _Builder, dt: float) -> list[Projection]:
    """Paths of one (source, target, label) merged into one projection when no synapse appears twice."""
    nrn = neurons[dst]
    n_post = nrn.pop.size
    n_pre = b.sizes[src] if src in b.sizes else neurons[src].pop.size
    mats = []
    for p in paths:
        if p.m is None:
            if n_pre != n_post:
                raise ConfigError(f"nir.edges.{src}->{dst}", (n_pre, n_post),
                                  "a direct edge needs equal sizes (no weight node between them)")
            m = np.eye(n_post)
            d = np.zeros((n_post, n_pre))
            np.fill_diagonal(d, np.broadcast_to(p.d, (n_post,)))
        else:
            m, d = p.m, p.d
        if m.shape != (n_post, n_pre):
            raise ConfigError(f"nir.nodes.{dst}", m.shape, f"receives {m.shape[0]} inputs but has {n_post} neurons "
                                                             "(wrong shapes)")
        mats.append((m, d))
    nonzero = [m != 0 for m, _ in mats]
    overlap = sum(z.astype(np.int64) for z in nonzero)
    chunks = [mats] if np.all(overlap <= 1) else [[x] for x in mats]
    out = []
    for k, chunk in enumerate(chunks):
        w = np.zeros((n_post, n_pre))
        dsec = np.zeros((n_post, n_pre))
        for m, d in chunk:
            sel = m != 0
            w[sel] += m[sel]
            dsec[sel] = d[sel]
        steps = dsec / dt
        rounded = np.rint(steps)
        if np.any(np.abs(steps - rounded) > 1e-6 * np.maximum(1.0, rounded)):
            warnings.warn(f"nir: delays into {dst} are not whole steps of dt = {dt:g} s; rounded",
                          UserWarning, stacklevel=3)
        wt = (w * nrn.in_scale[:, None]).T  # (pre, post): CSR rows are presynaptic neurons
        pre, post = np.nonzero(wt)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n_pre))]).astype(np.int64)
        conn = Connectivity(n_pre, n_post, indptr, post.astype(np.int32))
        delays = rounded.T[pre, post].astype(np.int64)
        if delays.size and delays.max() > 65535:
            raise ConfigError(f"nir.delays.{src}->{dst}", float(delays.max() * dt), "must be <= 65535 steps")
        name = label if len(chunks) == 1 else f"{label}#{k}"
        pre_name = names[src]
        d_arg: Any = int(delays[0]) if delays.size and np.all(delays == delays[0]) else delays
        if not delays.size:
            d_arg = 0
        out.append(Projection(pre_name, names[dst], conn, weights=wt[pre, post], delays=d_arg,
                              target=target, name=name))
    return out


def _depths(inputs: dict[str, tuple[str, int]], neurons: dict[str, _Neuron], projections: list[Projection],
            names: dict[str, str]) -> dict[str, int]:
    """Shortest number of neuron layers from an Input (breadth-first); unreachable neurons get 1."""
    pop_to_node = {names[k]: k for k in neurons}
    depth: dict[str, int] = {names[k]: 0 for k in inputs}
    queue = deque(depth)
    while queue:
        x = queue.popleft()
        for p in projections:
            if p.pre == x and p.post not in depth:
                depth[p.post] = depth[x] + 1
                queue.append(p.post)
    return {pop_to_node[p]: depth.get(p, 1) for p in pop_to_node}


# --- running ---------------------------------------------------------------------------------------------------


#: largest spike count per step and channel that :func:`spike_input` accepts
MAX_COUNT = 2**16 - 1


def spike_input(name: str, x: np.ndarray, dt: float) -> SpikeTimesInput:
    """A (time, channels) array of spike counts as a :class:`SpikeTimesInput` (count k: k spikes in that step)."""
    path = f"inputs.{name}"
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise ConfigError(path, arr, "must be a 2-D array (time steps, channels)")
    if arr.dtype.kind not in "biuf" or not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise ConfigError(path, arr, "must hold spike counts: whole numbers >= 0")
    if arr.size and arr.max() > MAX_COUNT:  # larger counts overflow int64 or exhaust memory in np.repeat below
        raise ConfigError(path, arr.max().item(), f"must be spike counts <= {MAX_COUNT} per step and channel")
    counts = arr.astype(np.int64)
    steps, chans = np.nonzero(counts)
    reps = counts[steps, chans]
    return SpikeTimesInput(name, arr.shape[1], np.repeat(steps, reps) * dt, np.repeat(chans, reps))


def run_nir(graph: ImportedGraph, inputs: np.ndarray | dict[str, np.ndarray], record: list[str] | None = None,
            membrane: bool = False, dtype: str = "float32") -> dict[str, np.ndarray]:
    """Run an imported graph on spike-count arrays (time x channels) for its Input nodes.

    Returns, for each recorded neuron node (all spiking ones by default, or the nodes named in ``record``; an
    Output name stands for the neurons feeding it), a boolean ``(T, n)`` array of spikes on NIR steps (the
    engine's steps shifted back by the node's depth). With ``membrane`` (always for non-spiking LI/CubaLI
    nodes, whose only observable it is), also ``"<node>.v"``: the membrane
    value in NIR step ``t`` after threshold and reset, rebuilt from the engine's state at the start of step
    ``t + depth`` (``v = lin + em v + c i``, then the reset where the node spiked).
    """
    from snn.engine import Simulator

    if isinstance(inputs, dict):
        arrays = dict(inputs)
    else:
        if len(graph.inputs) != 1:
            raise ConfigError("nir.input", sorted(graph.inputs),
                              f"the graph has {len(graph.inputs)} Input nodes: pass a dict of arrays by name")
        arrays = {next(iter(graph.inputs)): inputs}
    for k in arrays:
        if k not in graph.inputs:
            raise ConfigError(f"nir.input.{k}", k, f"unknown Input node; known: {sorted(graph.inputs)}")
    net = graph.network
    t_len = None
    sources = []
    for k, (src, size) in graph.inputs.items():
        if k not in arrays:
            raise ConfigError(f"nir.input.{k}", None, "missing: every Input node needs an array")
        x = np.asarray(arrays[k])
        if x.ndim == 2 and x.shape[1] != size:
            raise ConfigError(f"nir.input.{k}", x.shape, f"must have {size} channels (columns)")
        if t_len is not None and x.shape[0] != t_len:
            raise ConfigError(f"nir.input.{k}", x.shape, f"must have {t_len} steps like the other inputs")
        sources.append(spike_input(src, x, net.dt))
        t_len = x.shape[0] if x.ndim == 2 else t_len
    t_len = int(t_len or 0)
    if t_len < 1:
        raise ConfigError("nir.input", t_len, "must have at least one time step")
    wanted = _recorded(graph, record)
    monitors: list[Any] = [SpikeMonitor(graph.populations[k]) for k in wanted
                           if net.population(graph.populations[k]).spiking]
    traced = [k for k in wanted if membrane or not net.population(graph.populations[k]).spiking]
    monitors += [StateMonitor(graph.populations[k], ("v", "i_exc")) for k in traced]
    max_depth = max([graph.depth[k] for k in wanted] + [1])
    run_net = dataclasses.replace(net, inputs=sources, monitors=monitors)
    n_steps = t_len + max_depth + 1
    rec = Simulator(run_net, dtype=dtype).run(n_steps * net.dt, trials=1, seed=0)
    out: dict[str, np.ndarray] = {}
    for k in wanted:
        pop = graph.populations[k]
        dep = graph.depth[k]
        size = net.population(pop).size
        spikes = np.zeros((t_len, size), dtype=bool)
        if pop in rec.spikes:
            neuron, step = rec.spikes[pop].of_trial(0)
            s = step - dep
            keep = (s >= 0) & (s < t_len)
            spikes[s[keep], neuron[keep]] = True
            out[k] = spikes
        if k in traced:
            out[f"{k}.v"] = _membrane(graph, k, rec, spikes, t_len, dep)
    return out


def _recorded(graph: ImportedGraph, record: list[str] | None) -> list[str]:
    if record is None:
        return [k for k in graph.populations if graph.kinds[k] in ("LIF", "CubaLIF", "IF")] or list(graph.populations)
    if not isinstance(record, (list, tuple)) or not all(isinstance(name, str) for name in record):
        raise ConfigError("nir.record", record, "must be a list of node names")
    out: list[str] = []
    for name in record:
        if name in graph.populations:
            out.append(name)
        elif name in graph.outputs:
            out.extend(graph.outputs[name])
        else:
            raise ConfigError("nir.record", name, f"unknown neuron or Output node; known: "
                                                  f"{sorted(graph.populations) + sorted(graph.outputs)}")
    return list(dict.fromkeys(out))


def _membrane(graph: ImportedGraph, node: str, rec: Any, spikes: np.ndarray, t_len: int, dep: int) -> np.ndarray:
    pop = graph.populations[node]
    c = graph.coefficients[node]
    v = rec.states[pop]["v"][0].astype(np.float64)  # (samples, n): state at the start of each step
    i = rec.states[pop]["i_exc"][0].astype(np.float64)
    idx = np.arange(t_len) + dep  # sampled at the start of step t + dep: the state that step starts from
    valid = (idx >= 0) & (idx < v.shape[0])
    out = np.zeros((t_len, v.shape[1]))
    out[valid] = c["lin"] + c["em"] * v[idx[valid]] + c["ce"] * i[idx[valid]]
    if "vth" in c:
        model = graph.network.population(pop).model
        sub = getattr(model, "reset", "value") == "subtract"
        after = out - (c["vth"] - c["vreset"]) if sub else np.broadcast_to(c["vreset"], out.shape)
        out = np.where(spikes, after, out)
    return out


__all__ = ["ImportedGraph", "SUPPORTED", "check_supported", "from_nir", "read_nir_dict", "run_nir", "spike_input"]
