"""TOML configs → :class:`~snn.model.Network` plus run settings. Every mistake is one ConfigError line.

Schema (times in seconds, potentials in mV, rates in Hz; see ``configs/cuba.toml``)::

    [simulation]   dt, duration, seed, trials, dtype ("float32"|"float64"), max_delay_steps, learning (true)
    [populations.NAME]
        model = "lif" | "adaptive_lif" | "conductance_lif" | "if" | "li" | "izhikevich"
        size = N
        params = { tau_m = 0.02, c = "-65 + 15 * r**2", ... }   # number, list, distribution or expression
        random = { r = { uniform = [0, 1] } }                    # per-neuron random variables for expressions
        initial = { v = { uniform = [-60, -50] } }
    [inputs.NAME]   kind = "poisson" (size, rate) | "spike_times" (size, times, indices)
    [[projections]] pre, post, target ("exc"|"inh"|"delta"), weight, delay (seconds), connect = { rule = ..., ... },
                    plasticity = { rule = "stdp" | "triplet", ... } or { rule = "triplet", preset = "visual_cortex" },
                    stp = { U = 0.5, tau_rec = 0.1, tau_facil = 0.0 }
    [[currents]]    population, mean, std              # Gaussian current, resampled every step
    [monitors]      spikes = [...], rates = [...], [[monitors.state]] population, variables, indices, every,
                    [[monitors.weights]] projection, every (steps) or times (seconds)

A value can be a number, a list (one per neuron / synapse), ``{ uniform = [lo, hi] }``, ``{ normal = [mean,
std] }`` or, for neuron parameters, an arithmetic expression string over the population's ``random`` variables.
All randomness of the build comes from ``simulation.seed``.
"""

from __future__ import annotations

import ast
import operator
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from snn import connect
from snn.errors import ConfigError
from snn.model import (
    MODELS,
    Network,
    NoiseCurrent,
    Normal,
    PoissonInput,
    Population,
    Projection,
    RateMonitor,
    SpikeMonitor,
    SpikeTimesInput,
    StateMonitor,
    Uniform,
    WeightMonitor,
)
from snn.model.network import MAX_NEURONS, TARGETS
from snn.model.neurons import model_from_dict
from snn.model.plasticity import rule_from_dict, stp_from_dict


@dataclass(frozen=True)
class RunSettings:
    """How to run a config: duration (s), trials, seed, dtype, and whether plastic projections learn."""

    duration: float
    trials: int
    seed: int
    dtype: str
    learning: bool = True


_SIMULATION_KEYS = {"dt", "duration", "seed", "trials", "dtype", "max_delay_steps", "name", "learning"}
_POPULATION_KEYS = {"model", "size", "params", "random", "initial"}
_PROJECTION_KEYS = {"pre", "post", "target", "weight", "delay", "connect", "name", "plasticity", "stp"}
_INPUT_KEYS = {"poisson": {"kind", "size", "rate"}, "spike_times": {"kind", "size", "times", "indices"}}
_CONNECT_KEYS = {
    "fixed_probability": {"rule", "p", "autapses"},
    "fixed_indegree": {"rule", "k", "autapses"},
    "fixed_outdegree": {"rule", "k", "autapses"},
    "one_to_one": {"rule"},
    "all_to_all": {"rule", "autapses"},
    "pairs": {"rule", "pre", "post"},
    "distance": {"rule", "c", "lam", "pre_grid", "post_grid", "spacing", "cutoff", "autapses"},
}


def load_config(path: str | Path, seed: int | None = None, trials: int | None = None,
                duration: float | None = None) -> tuple[Network, RunSettings]:
    """Read a TOML file into a network and run settings; command-line overrides win over the file."""
    return build_config(read_toml(path), seed=seed, trials=trials, duration=duration, name=Path(path).stem)


def read_toml(path: str | Path) -> dict[str, Any]:
    """The parsed TOML document at ``path``; a missing, undecodable or invalid file is a one-line error."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError("config", str(path), "file does not exist")
    try:
        return tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", str(path), f"is not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ConfigError("config", str(path), "is not a UTF-8 text file") from None


def build_config(data: dict[str, Any], seed: int | None = None, trials: int | None = None,
                 duration: float | None = None, name: str = "network") -> tuple[Network, RunSettings]:
    """Build from an already parsed mapping (the TOML document)."""
    _check_keys(data, {"simulation", "populations", "inputs", "projections", "currents", "monitors"}, "")
    sim = _table(data.get("simulation", {}), "simulation")
    _check_keys(sim, _SIMULATION_KEYS, "simulation")
    settings = RunSettings(
        duration=_number(sim.get("duration", 1.0) if duration is None else duration, "simulation.duration", 0.0),
        trials=_integer(sim.get("trials", 1) if trials is None else trials, "simulation.trials", 1),
        seed=_integer(sim.get("seed", 0) if seed is None else seed, "simulation.seed", 0),
        dtype=_choice(sim.get("dtype", "float32"), "simulation.dtype", ("float32", "float64")),
        learning=_boolean(sim.get("learning", True), "simulation.learning"),
    )
    dt = _number(sim.get("dt", 1e-4), "simulation.dt", 0.0)
    if not 0 < dt < 1:
        raise ConfigError("simulation.dt", dt, "must be a number of seconds in (0, 1)")
    root = np.random.SeedSequence([settings.seed, 0x5EED])
    populations = [_population(pname, spec, _child(root, 1, k))
                   for k, (pname, spec) in enumerate(_table(data.get("populations", {}), "populations").items())]
    if not populations:
        raise ConfigError("populations", {}, "at least one population is required")
    inputs = [_input(iname, spec, dt) for iname, spec in _table(data.get("inputs", {}), "inputs").items()]
    sizes = {p.name: p.size for p in populations} | {s.name: s.size for s in inputs}
    max_delay = _integer(sim.get("max_delay_steps", 1024), "simulation.max_delay_steps", 0)
    weight_dtype = np.float64 if settings.dtype == "float64" else np.float32  # the run's dtype: no double rounding
    projections = [_projection(k, spec, sizes, dt, _child(root, 2, k), max_delay, weight_dtype)
                   for k, spec in enumerate(_array_of_tables(data.get("projections", []), "projections"))]
    currents = [_current(k, spec) for k, spec in enumerate(_array_of_tables(data.get("currents", []), "currents"))]
    monitors = _monitors(_table(data.get("monitors", {}), "monitors"), sizes)
    try:
        net = Network(dt=dt, populations=populations, projections=projections, inputs=inputs, currents=currents,
                      monitors=monitors, max_delay_steps=max_delay, name=str(sim.get("name", name)),
                      metadata={"config": _jsonable(data)})
    except ConfigError as exc:
        raise _toml_path(exc, projections) from None
    return net, settings


def _toml_path(exc: ConfigError, projections: list[Projection]) -> ConfigError:
    """Name the TOML key of a network-level error about a projection (``projections[k](name).weight``), not
    the Python attribute (``projections.name.weights``)."""
    for k, proj in enumerate(projections):
        prefix = f"projections.{proj.name}."
        if exc.path.startswith(prefix):
            rest = exc.path[len(prefix):]
            rest = "weight" + rest[len("weights"):] if rest.startswith("weights") else rest
            rest = "delay" + rest[len("delays"):] if rest.startswith("delays") else rest
            return ConfigError(f"projections[{k}]({proj.name}).{rest}", exc.value, exc.constraint)
    return exc


# --- sections -------------------------------------------------------------------------------------------


def _population(name: str, spec: Any, seq: np.random.SeedSequence) -> Population:
    path = f"populations.{name}"
    spec = _table(spec, path)
    _check_keys(spec, _POPULATION_KEYS, path)
    if "model" not in spec:
        raise ConfigError(f"{path}.model", None, f"is required; choose one of {sorted(MODELS)}")
    if not isinstance(spec["model"], str):
        raise ConfigError(f"{path}.model", spec["model"], f"must be one of {sorted(MODELS)}")
    size = _integer(spec.get("size"), f"{path}.size", 1)
    if size > MAX_NEURONS:
        raise ConfigError(f"{path}.size", size, f"must be <= {MAX_NEURONS} (neuron indices are int32)")
    rng = np.random.default_rng(seq)
    variables = {var: _distribution(value, size, rng, f"{path}.random.{var}", allow_scalar=False)
                 for var, value in _table(spec.get("random", {}), f"{path}.random").items()}
    params: dict[str, Any] = {}
    for key, value in _table(spec.get("params", {}), f"{path}.params").items():
        if key == "reset":
            params[key] = value
        elif isinstance(value, str):
            params[key] = _expression(value, variables, size, f"{path}.params.{key}")
        else:
            params[key] = _distribution(value, size, rng, f"{path}.params.{key}")
    model = model_from_dict(spec["model"], params, path)
    initial: dict[str, Any] = {}
    for var, value in _table(spec.get("initial", {}), f"{path}.initial").items():
        key = f"{path}.initial.{var}"
        if isinstance(value, dict):
            kind, args = _dist_spec(value, key)
            initial[var] = Uniform(*args) if kind == "uniform" else Normal(*args)
        elif isinstance(value, str):
            initial[var] = _expression(value, variables, size, key)
        else:
            initial[var] = _distribution(value, size, rng, key)
    return Population(name, size, model, initial)


def _input(name: str, spec: Any, dt: float) -> PoissonInput | SpikeTimesInput:
    path = f"inputs.{name}"
    spec = _table(spec, path)
    kind = _choice(spec.get("kind"), f"{path}.kind", tuple(_INPUT_KEYS))
    _check_keys(spec, _INPUT_KEYS[kind], path)
    size = _integer(spec.get("size"), f"{path}.size", 1)
    if kind == "poisson":
        return PoissonInput(name, size, _numbers(spec.get("rate", 0.0), f"{path}.rate"))
    return SpikeTimesInput(name, size, times=_numbers(spec.get("times", []), f"{path}.times"),
                           indices=_numbers(spec.get("indices", []), f"{path}.indices"))


def _projection(k: int, spec: dict[str, Any], sizes: dict[str, int], dt: float,
                seq: np.random.SeedSequence, max_delay_steps: int, weight_dtype: type) -> Projection:
    label = spec.get("name") or f"{spec.get('pre', '?')}->{spec.get('post', '?')}"
    path = f"projections[{k}]({label})"
    _check_keys(spec, _PROJECTION_KEYS, path)
    for end in ("pre", "post"):
        if not isinstance(spec.get(end), str) or spec.get(end) not in sizes:
            raise ConfigError(f"{path}.{end}", spec.get(end), f"unknown population or input; known: {sorted(sizes)}")
    target = _choice(spec.get("target", "exc"), f"{path}.target", TARGETS)
    n_pre, n_post = sizes[spec["pre"]], sizes[spec["post"]]
    conn_seed, draw_seed = (int(s.generate_state(1)[0]) for s in seq.spawn(2))
    conn, order = _connect(_table(spec.get("connect", {"rule": "all_to_all"}), f"{path}.connect"), n_pre, n_post,
                           conn_seed, f"{path}.connect")
    rng = np.random.default_rng(draw_seed)
    weights = _in_csr_order(_distribution(spec.get("weight", 1.0), conn.nnz, rng, f"{path}.weight",
                                          dtype=weight_dtype), order)
    delay_s = _in_csr_order(_distribution(spec.get("delay", 0.0), conn.nnz, rng, f"{path}.delay"), order)
    if np.any(np.asarray(delay_s) < 0) or not np.all(np.isfinite(delay_s)):
        raise ConfigError(f"{path}.delay", spec.get("delay"), "must be >= 0 and finite (seconds)")
    delays = np.rint(np.asarray(delay_s) / dt).astype(np.int64)  # Brian2 also rounds delays to whole steps
    if delays.size and int(np.max(delays)) > max_delay_steps:
        raise ConfigError(f"{path}.delay", float(np.max(delay_s)),
                          f"must be <= simulation.max_delay_steps x dt = {max_delay_steps * dt:g} s (seconds)")
    if delays.ndim == 0:
        delays = int(delays)
    plasticity = stp = None
    if "plasticity" in spec:
        plasticity = rule_from_dict(_table(spec["plasticity"], f"{path}.plasticity"), f"{path}.plasticity")
    if "stp" in spec:
        stp = stp_from_dict(_table(spec["stp"], f"{path}.stp"), f"{path}.stp")
    try:
        return Projection(spec["pre"], spec["post"], conn, weights=weights, delays=delays, target=target,
                          name=str(spec.get("name", "")), plasticity=plasticity, stp=stp)
    except ConfigError as exc:
        if exc.path.endswith(".weights"):  # the TOML key is "weight"
            raise ConfigError(f"{path}.weight", exc.value, exc.constraint) from None
        raise


def _in_csr_order(values: Any, order: np.ndarray | None) -> Any:
    """Per-synapse values given in the order of explicit ``pairs`` follow their synapses into CSR order."""
    if order is None or np.ndim(values) == 0:
        return values
    return np.asarray(values)[order]


def _connect(spec: dict[str, Any], n_pre: int, n_post: int, seed: int, path: str
             ) -> tuple[Any, np.ndarray | None]:
    """The connectivity, and for ``pairs`` the permutation from the listed pairs to CSR order (else None)."""
    rule = _choice(spec.get("rule"), f"{path}.rule", tuple(_CONNECT_KEYS))
    _check_keys(spec, _CONNECT_KEYS[rule], path)
    autapses = spec.get("autapses", True)
    if not isinstance(autapses, bool):
        raise ConfigError(f"{path}.autapses", autapses, "must be true or false")
    try:
        if rule == "fixed_probability":
            return connect.fixed_probability(n_pre, n_post, spec.get("p"), seed=seed, allow_autapses=autapses), None
        if rule == "fixed_indegree":
            return connect.fixed_indegree(n_pre, n_post, spec.get("k"), seed=seed, allow_autapses=autapses), None
        if rule == "fixed_outdegree":
            return connect.fixed_outdegree(n_pre, n_post, spec.get("k"), seed=seed, allow_autapses=autapses), None
        if rule == "one_to_one":
            if n_pre != n_post:
                raise ConfigError(f"{path}.rule", rule, f"needs equal sizes, got {n_pre} and {n_post}")
            return connect.one_to_one(n_pre), None
        if rule == "all_to_all":
            return connect.all_to_all(n_pre, n_post, allow_autapses=autapses), None
        if rule == "pairs":
            return connect.from_pairs(spec.get("pre", []), spec.get("post", []), n_pre, n_post)
        spacing = spec.get("spacing", 1.0)
        pre = connect.grid_positions(spec.get("pre_grid", [n_pre, 1, 1]), spacing)
        post = connect.grid_positions(spec.get("post_grid", [n_post, 1, 1]), spacing)
        if pre.shape[0] != n_pre or post.shape[0] != n_post:
            raise ConfigError(f"{path}.pre_grid", spec.get("pre_grid"),
                              f"grids must hold the population sizes ({n_pre}, {n_post})")
        return connect.distance_dependent(pre, post, spec.get("c"), spec.get("lam"), seed=seed,
                                          allow_autapses=spec.get("autapses", False), cutoff=spec.get("cutoff")), None
    except ConfigError as exc:
        if exc.path.startswith(path):
            raise
        raise ConfigError(f"{path}.{exc.path}", exc.value, exc.constraint) from None


def _current(k: int, spec: dict[str, Any]) -> NoiseCurrent:
    path = f"currents[{k}]"
    _check_keys(spec, {"population", "mean", "std"}, path)
    return NoiseCurrent(population=str(spec.get("population")), mean=_numbers(spec.get("mean", 0.0), f"{path}.mean"),
                        std=_numbers(spec.get("std", 1.0), f"{path}.std"))


def _monitors(spec: dict[str, Any], sizes: dict[str, int]) -> list[Any]:
    _check_keys(spec, {"spikes", "rates", "state", "weights"}, "monitors")
    out: list[Any] = []
    for key, kind in (("spikes", SpikeMonitor), ("rates", RateMonitor)):
        for pop in _names(spec.get(key, []), f"monitors.{key}"):
            if pop not in sizes:
                raise ConfigError(f"monitors.{key}", pop, f"unknown population or input; known: {sorted(sizes)}")
            out.append(kind(pop))
    for k, st in enumerate(_array_of_tables(spec.get("state", []), "monitors.state")):
        path = f"monitors.state[{k}]"
        _check_keys(st, {"population", "variables", "indices", "every"}, path)
        indices = st.get("indices")
        variables = tuple(_names(st.get("variables", ["v"]), f"{path}.variables"))
        out.append(StateMonitor(str(st.get("population")), variables,
                                indices=None if indices is None else _numbers(indices, f"{path}.indices"),
                                every=_integer(st.get("every", 1), f"{path}.every", 1)))
    for k, wt in enumerate(_array_of_tables(spec.get("weights", []), "monitors.weights")):
        path = f"monitors.weights[{k}]"
        _check_keys(wt, {"projection", "every", "times"}, path)
        every, times = wt.get("every"), wt.get("times")
        try:
            out.append(WeightMonitor(str(wt.get("projection")),
                                     every=None if every is None else _integer(every, f"{path}.every", 1),
                                     times=None if times is None else _numbers(times, f"{path}.times")))
        except ConfigError as exc:  # name the TOML table (monitors.weights[k].key), not the Python object
            if exc.path.startswith(path):
                raise
            key = exc.path.rsplit(".", 1)[-1] if exc.path.count(".") > 2 else ""
            raise ConfigError(f"{path}.{key}" if key else path, exc.value, exc.constraint) from None
    return out


# --- values ---------------------------------------------------------------------------------------------


def _child(root: np.random.SeedSequence, kind: int, k: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(root.entropy, spawn_key=(kind, k))


def _dist_spec(value: dict[str, Any], path: str) -> tuple[str, tuple[float, float]]:
    if len(value) != 1 or next(iter(value)) not in ("uniform", "normal"):
        raise ConfigError(path, value, "a distribution must be { uniform = [low, high] } or { normal = [mean, std] }")
    kind, args = next(iter(value.items()))
    if not isinstance(args, list) or len(args) != 2 or not all(_is_number(a) for a in args):
        raise ConfigError(f"{path}.{kind}", args, "must be a list of two numbers")
    lo, hi = float(args[0]), float(args[1])
    if not (np.isfinite(lo) and np.isfinite(hi) and np.isfinite(hi - lo)):
        raise ConfigError(f"{path}.{kind}", args, "must be finite numbers (with a finite difference)")
    if kind == "uniform" and not lo <= hi:
        raise ConfigError(f"{path}.uniform", args, "must have low <= high")
    if kind == "normal" and hi < 0:
        raise ConfigError(f"{path}.normal", args, "std must be >= 0")
    return kind, (lo, hi)


def _distribution(value: Any, n: int, rng: np.random.Generator, path: str, allow_scalar: bool = True,
                  dtype: type = np.float64) -> Any:
    """A number (kept scalar), a list of n numbers, or a distribution drawn n times."""
    if isinstance(value, dict):
        kind, (a, b) = _dist_spec(value, path)
        draw = rng.uniform(a, b, n) if kind == "uniform" else rng.normal(a, b, n)
        return draw.astype(dtype)
    if isinstance(value, list):
        arr = _numbers(value, path)
        if arr.shape != (n,):
            raise ConfigError(path, value, f"a list must hold exactly {n} numbers")
        return arr.astype(dtype)
    if _is_number(value):
        return float(value) if allow_scalar else np.full(n, float(value))
    raise ConfigError(path, value, "must be a number, a list of numbers or { uniform | normal = [a, b] }")


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}


def _expression(text: str, variables: dict[str, np.ndarray], n: int, path: str) -> np.ndarray:
    """Evaluate arithmetic (+ - * / ** and parentheses) over numbers and the population's random variables."""
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError):
        raise ConfigError(path, text, "is not a valid arithmetic expression") from None

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and _is_number(node.value):
            return np.float64(node.value)  # numpy semantics: 1/0 -> inf, (-8)**(1/3) -> nan, both rejected below
        if isinstance(node, ast.Name):
            if node.id not in variables:
                raise ConfigError(path, text, f"unknown variable {node.id!r}; declare it under random "
                                              f"(known: {sorted(variables)})")
            return variables[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        raise ConfigError(path, text, "may only use numbers, random variables, + - * / ** and parentheses")

    with np.errstate(all="ignore"):
        try:
            value = np.broadcast_to(np.asarray(ev(tree), dtype=np.float64), (n,)).copy()
        except RecursionError:
            raise ConfigError(path, text[:40], "is nested too deeply") from None
    if not np.all(np.isfinite(value)):
        raise ConfigError(path, text, "evaluates to a non-finite value")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(value: Any, path: str) -> Any:
    if _is_number(value):
        return float(value)
    if isinstance(value, list) and all(_is_number(v) for v in value):
        return np.asarray(value, dtype=np.float64)
    raise ConfigError(path, value, "must be a number or a list of numbers")


def _number(value: Any, path: str, minimum: float) -> float:
    if not _is_number(value) or not np.isfinite(value) or value < minimum:
        raise ConfigError(path, value, f"must be a finite number >= {minimum:g}")
    return float(value)


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(path, value, "must be true or false")
    return value


def _integer(value: Any, path: str, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(path, value, f"must be an integer >= {minimum}")
    return value


def _choice(value: Any, path: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ConfigError(path, value, f"must be one of {list(options)}")
    return value


def _names(value: Any, path: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, value, "must be a list of names")
    return value


def _table(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(path or "config", value, "must be a table")
    return value


def _array_of_tables(value: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(path, value, "must be an array of tables ([[...]])")
    return value


class _Elided:
    """Stands for a whole table in an error message (printing the table would bury the key)."""

    def __repr__(self) -> str:
        return "{...}"


_TABLE = _Elided()


def _check_keys(spec: dict[str, Any], allowed: set[str], path: str) -> None:
    for key in spec:
        if key not in allowed:
            where = f"{path}.{key}" if path else key
            shown = _TABLE if isinstance(spec[key], dict) else spec[key]
            raise ConfigError(where, shown, f"unknown key; allowed: {sorted(allowed)}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
