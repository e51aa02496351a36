"""TOML configs (snn.io.config): shipped configs, seeding, overrides, one-line errors naming the key, fuzzing."""

from __future__ import annotations

import copy
import json
import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from snn.errors import ConfigError
from snn.io.config import RunSettings, build_config, load_config
from snn.model import Izhikevich, Network, Uniform

ROOT = Path(__file__).resolve().parents[1]
CUBA = ROOT / "configs" / "cuba.toml"
IZH = ROOT / "configs" / "izhikevich_800_200.toml"

# A small config touching every section, model family, value form and connect rule the schema offers.
BASE = {
    "simulation": {"dt": 1e-4, "duration": 0.05, "seed": 3, "trials": 2, "dtype": "float32", "max_delay_steps": 20,
                   "name": "small"},
    "populations": {
        "exc": {"model": "lif", "size": 40,
                "params": {"tau_m": 0.02, "v_rest": -49.0, "v_threshold": -50.0, "v_reset": -60.0, "t_ref": 0.005,
                           "tau_syn_exc": {"uniform": [0.004, 0.006]}, "bias": "0.5 * r", "reset": "value"},
                "random": {"r": {"uniform": [0.0, 1.0]}},
                "initial": {"v": {"uniform": [-60.0, -50.0]}}},
        "izh": {"model": "izhikevich", "size": 10, "random": {"r": {"normal": [0.5, 0.1]}},
                "params": {"a": 0.02, "c": "-65 + 15 * r**2", "d": [8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 2.0, 2.0, 2.0]},
                "initial": {"v": -65.0, "u": "-13 + r"}},
    },
    "inputs": {"drive": {"kind": "poisson", "size": 10, "rate": 20.0},
               "cue": {"kind": "spike_times", "size": 3, "times": [0.001, 0.002], "indices": [0, 2]}},
    "projections": [
        {"pre": "exc", "post": "exc", "target": "exc", "weight": 1.0, "delay": 0.0005,
         "connect": {"rule": "fixed_probability", "p": 0.1}},
        {"pre": "drive", "post": "exc", "weight": {"uniform": [0.5, 1.5]},
         "connect": {"rule": "fixed_indegree", "k": 3}},
        {"pre": "exc", "post": "izh", "target": "delta", "weight": {"normal": [1.0, 0.2]},
         "delay": {"uniform": [0.0, 0.001]}, "connect": {"rule": "fixed_outdegree", "k": 2, "autapses": False}},
        {"pre": "cue", "post": "izh", "name": "cue_in", "weight": [3.0, 4.0],
         "connect": {"rule": "pairs", "pre": [0, 2], "post": [1, 5]}},
        {"pre": "izh", "post": "izh", "target": "inh", "weight": -1.0,
         "connect": {"rule": "distance", "c": 0.5, "lam": 2.0, "pre_grid": [10, 1, 1], "post_grid": [10, 1, 1]}},
        {"pre": "drive", "post": "izh", "connect": {"rule": "all_to_all"}},
    ],
    "currents": [{"population": "izh", "mean": 0.0, "std": 2.0}],
    "monitors": {"spikes": ["exc", "izh", "drive"], "rates": ["exc"],
                 "state": [{"population": "izh", "variables": ["v", "u"], "indices": [0, 1], "every": 2}]},
}


def to_toml(data: dict) -> str:
    """A TOML document for ``data`` (every top-level key as an inline value; enough for configs)."""

    def string(text: str) -> str:  # JSON escapes are valid TOML basic-string escapes; TOML also forbids raw DEL
        return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        if isinstance(v, str):
            return string(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{string(k)} = {value(x)}" for k, x in v.items()) + " }"
        raise TypeError(type(v))

    return "".join(f"{string(k)} = {value(v)}\n" for k, v in data.items())


def write_config(tmp_path: Path, data: dict, name: str = "net.toml") -> Path:
    path = tmp_path / name
    path.write_text(to_toml(data))
    return path


def mutated(path: tuple, value=None, *, delete: bool = False, base: dict = BASE) -> dict:
    data = copy.deepcopy(base)
    node = data
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


def test_base_config_builds_through_toml(tmp_path):
    path = write_config(tmp_path, BASE)
    assert tomllib.loads(path.read_text()) == BASE
    net, run = load_config(path)
    assert isinstance(net, Network) and net.name == "small"
    assert run == RunSettings(duration=0.05, trials=2, seed=3, dtype="float32")
    assert [p.name for p in net.projections] == ["exc->exc", "drive->exc", "exc->izh", "cue_in", "izh->izh",
                                                 "drive->izh"]
    assert net.projections[0].delays == 5  # 0.5 ms at dt = 0.1 ms
    assert net.projections[3].connectivity.nnz == 2 and list(net.projections[3].weights) == [3.0, 4.0]
    exc = net.population("exc").model
    assert exc.bias.shape == (40,) and np.all((exc.bias >= 0) & (exc.bias <= 0.5)) and np.ptp(exc.bias) > 0
    assert np.all((exc.tau_syn_exc >= 0.004) & (exc.tau_syn_exc <= 0.006))
    izh = net.population("izh")
    r = izh.initial["u"] + 13  # c and u share the population's random variable r
    np.testing.assert_allclose(izh.model.c, -65 + 15 * r**2)
    assert json.dumps(net.metadata["config"])  # the config is kept with the network, JSON-able


def test_build_config_does_not_change_its_input():
    data = copy.deepcopy(BASE)
    build_config(data, seed=9, trials=4, duration=0.5)
    assert data == BASE


# --- shipped configs -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cuba():
    return load_config(CUBA)


@pytest.fixture(scope="module")
def izhikevich():
    return load_config(IZH)


def test_cuba_config(cuba):
    net, run = cuba
    assert {p.name: p.size for p in net.populations} == {"exc": 3200, "inh": 800}
    assert run == RunSettings(duration=1.0, trials=1, seed=1, dtype="float32") and net.dt == 1e-4
    for pop in net.populations:
        assert pop.model.kind == "lif" and pop.model.tau_m == 0.02 and pop.model.v_threshold == -50.0
        assert pop.initial["v"] == Uniform(-60.0, -50.0)
    # fixed_probability(p = 0.02) with autapses: each projection is Binomial(n_pre * n_post, 0.02)
    sizes = {"exc": 3200, "inh": 800}
    for proj in net.projections:
        n = sizes[proj.pre] * sizes[proj.post]
        mean, sd = 0.02 * n, math.sqrt(n * 0.02 * 0.98)
        assert abs(proj.connectivity.nnz - mean) < 6 * sd, proj.name
        assert np.all(proj.weights == (1.62 if proj.pre == "exc" else -9.0)), proj.name
        assert proj.target == ("exc" if proj.pre == "exc" else "inh") and proj.delays == 0
    assert abs(net.n_synapses - 320_000) < 6 * math.sqrt(16e6 * 0.02 * 0.98)


def test_izhikevich_config(izhikevich):
    net, run = izhikevich
    assert net.dt == 5e-4 and run.duration == 1.0 and run.seed == 1
    exc, inh = net.population("exc"), net.population("inh")
    assert (exc.size, inh.size) == (800, 200)
    assert isinstance(exc.model, Izhikevich) and isinstance(inh.model, Izhikevich)
    c, d = exc.model.c, exc.model.d
    assert c.shape == d.shape == (800,)
    assert np.all((c >= -65.0) & (c <= -50.0)) and np.all((d >= 2.0) & (d <= 8.0))
    r2 = (c + 65.0) / 15.0  # c = -65 + 15 r², d = 8 - 6 r² with the same r ~ U(0, 1)
    np.testing.assert_allclose(d, 8.0 - 6.0 * r2, atol=1e-12)
    assert abs(r2.mean() - 1 / 3) < 0.05 and r2.min() < 0.01 and r2.max() > 0.95  # E[r²] = 1/3, spread over [0, 1]
    a, b = inh.model.a, inh.model.b
    np.testing.assert_allclose((a - 0.02) / 0.08, (0.25 - b) / 0.05, atol=1e-12)
    assert np.all((a >= 0.02) & (a <= 0.1)) and inh.model.c == -65.0 and inh.model.d == 2.0
    assert net.n_synapses == 1_000_000
    sizes = {"exc": 800, "inh": 200}
    for proj in net.projections:
        assert proj.target == "delta" and proj.connectivity.nnz == sizes[proj.pre] * sizes[proj.post]
        w = proj.weights
        lo, hi = (0.0, 0.5) if proj.pre == "exc" else (-1.0, 0.0)
        assert np.all((w >= lo) & (w <= hi)) and abs(w.mean() - (lo + hi) / 2) < 0.01
    assert [(cur.population, round(cur.std, 4)) for cur in net.currents] == [("exc", 7.0711), ("inh", 2.8284)]


def _fingerprint(net: Network) -> list[np.ndarray]:
    out = []
    for proj in net.projections:
        out += [proj.connectivity.indptr, proj.connectivity.indices, proj.weights, np.atleast_1d(proj.delays)]
    for pop in net.populations:
        out += [np.atleast_1d(getattr(pop.model, name)) for name in pop.model.parameter_names()]
    return out


def _same(a: Network, b: Network) -> bool:
    fa, fb = _fingerprint(a), _fingerprint(b)
    return len(fa) == len(fb) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(fa, fb))


@pytest.mark.parametrize("config", [CUBA, IZH], ids=["cuba", "izhikevich"])
def test_same_seed_same_network_other_seed_differs(config, cuba, izhikevich):
    default = cuba[0] if config == CUBA else izhikevich[0]
    again, _ = load_config(config)
    explicit, _ = load_config(config, seed=1)  # the file's own seed
    other, _ = load_config(config, seed=2)
    assert _same(default, again) and _same(default, explicit)
    assert not _same(default, other)
    for p, q in zip(default.projections, other.projections):  # every projection is redrawn, not just one
        assert not (np.array_equal(p.connectivity.indices, q.connectivity.indices) and np.array_equal(p.weights,
                                                                                                      q.weights))


def test_small_config_seeding():
    a, _ = build_config(BASE)
    b, _ = build_config(copy.deepcopy(BASE))
    c, _ = build_config(BASE, seed=4)
    assert _same(a, b) and not _same(a, c)


def test_every_projection_has_its_own_stream():
    """Adding a projection at the end leaves the earlier ones (and the populations) unchanged."""
    extra = copy.deepcopy(BASE)
    extra["projections"].append({"pre": "exc", "post": "izh", "weight": {"uniform": [0, 1]},
                                 "connect": {"rule": "fixed_probability", "p": 0.5}})
    a, _ = build_config(BASE)
    b, _ = build_config(extra)
    for p, q in zip(a.projections, b.projections[:-1]):
        assert np.array_equal(p.connectivity.indices, q.connectivity.indices) and np.array_equal(p.weights, q.weights)


def test_identical_projection_specs_draw_independent_synapses():
    data = copy.deepcopy(BASE)
    data["projections"] = [copy.deepcopy(BASE["projections"][0]) for _ in range(2)]
    data["projections"][0]["weight"] = data["projections"][1]["weight"] = {"normal": [0.0, 1.0]}
    net, _ = build_config(data)
    a, b = net.projections
    assert not np.array_equal(a.connectivity.indptr, b.connectivity.indptr)
    assert not np.array_equal(a.weights[:10], b.weights[:10])


# --- overrides -----------------------------------------------------------------------------------------------


def test_overrides_win_over_the_file():
    _, run = load_config(CUBA, seed=11, trials=3, duration=0.25)
    assert run == RunSettings(duration=0.25, trials=3, seed=11, dtype="float32")
    _, run = load_config(CUBA, trials=2)
    assert run == RunSettings(duration=1.0, trials=2, seed=1, dtype="float32")
    _, run = build_config(BASE, duration=0.0)
    assert run.duration == 0.0 and run.seed == 3 and run.trials == 2


def test_seed_override_changes_the_network():
    a, _ = build_config(BASE, seed=3)
    b, _ = build_config(BASE)
    c, _ = build_config(BASE, seed=5)
    assert _same(a, b) and not _same(a, c)


@pytest.mark.parametrize("kwargs, prefix", [
    ({"seed": -1}, "simulation.seed = -1: "),
    ({"trials": 0}, "simulation.trials = 0: "),
    ({"duration": -0.5}, "simulation.duration = -0.5: "),
    ({"duration": math.inf}, "simulation.duration = inf: "),
])
def test_bad_overrides_are_config_errors(kwargs, prefix):
    with pytest.raises(ConfigError) as info:
        build_config(BASE, **kwargs)
    assert str(info.value).startswith(prefix) and "\n" not in str(info.value)


# --- malformed configs -------------------------------------------------------------------------------------

P0 = re.escape("projections[0](exc->exc)")
P1 = re.escape("projections[1](drive->exc)")
IZH_C = r"populations\.izh\.params\.c = "
MALFORMED = [
    # unknown model
    (("populations", "exc", "model"), "hodgkin_huxley",
     r"populations\.exc\.model = 'hodgkin_huxley': unknown neuron model"),
    (("populations", "exc", "model"), 3, r"populations\.exc\.model = 3: must be one of"),
    # wrong types
    (("populations", "exc", "size"), "forty", r"populations\.exc\.size = 'forty': must be an integer >= 1"),
    (("populations", "exc", "size"), 40.0, r"populations\.exc\.size = 40\.0: must be an integer"),
    (("simulation", "dt"), "0.1 ms", r"simulation\.dt = '0\.1 ms': must be a finite number"),
    (("simulation", "seed"), 1.5, r"simulation\.seed = 1\.5: must be an integer >= 0"),
    (("populations", "exc", "params", "tau_m"), True, r"populations\.exc\.params\.tau_m = True: must be a number"),
    (("projections", 0, "weight"), "1.0", P0 + r"\.weight = '1\.0': must be a number"),
    (("projections", 0, "connect", "p"), "0.1", P0 + r"\.connect\.p = '0\.1': must be a real number"),
    (("inputs", "drive", "rate"), "fast", r"inputs\.drive\.rate = 'fast': must be a number"),
    (("populations", "exc", "params"), [1, 2], r"populations\.exc\.params = \[1, 2\]: must be a table"),
    (("projections", 0, "connect", "autapses"), "yes", P0 + r"\.connect\.autapses = 'yes': must be true"),
    # negative or zero time constants (the model layer names the parameter without ".params")
    (("populations", "exc", "params", "tau_m"), -0.02, r"populations\.exc\.(params\.)?tau_m = -0\.02: must be > 0"),
    (("populations", "exc", "params", "tau_m"), 0.0, r"populations\.exc\.(params\.)?tau_m = 0\.0: must be > 0"),
    (("populations", "exc", "params", "t_ref"), -0.001, r"populations\.exc\.(params\.)?t_ref = -0\.001: must be >= 0"),
    (("populations", "izh", "params", "tau_syn_inh"), -0.01,
     r"populations\.izh\.(params\.)?tau_syn_inh = -0\.01: must be > 0"),
    (("populations", "exc", "params", "tau_syn_exc"), {"uniform": [-0.01, 0.02]},
     r"populations\.exc\.(params\.)?tau_syn_exc = .*: must be > 0 \(s\) \(first bad element at index \d+\)"),
    (("simulation", "dt"), -1e-4, r"simulation\.dt = -0\.0001: must be"),
    # per-neuron lists of the wrong length
    (("populations", "exc", "params", "v_rest"), [-49.0] * 39,
     r"populations\.exc\.params\.v_rest = .*exactly 40 numbers"),
    (("populations", "izh", "params", "d"), [2.0] * 11, r"populations\.izh\.params\.d = .*exactly 10 numbers"),
    (("populations", "exc", "initial", "v"), [-55.0] * 41, r"populations\.exc\.initial\.v = .*exactly 40 numbers"),
    (("populations", "exc", "random", "r"), [0.5] * 3,
     r"populations\.exc\.random\.r = \[0\.5, 0\.5, 0\.5\]: .*exactly 40"),
    (("projections", 3, "weight"), [3.0], r"projections\[3\]\(cue_in\)\.weight = \[3\.0\]: .*exactly 2 numbers"),
    # unknown populations
    (("projections", 0, "pre"), "ihn", r"projections\[0\]\(ihn->exc\)\.pre = 'ihn': unknown population or input"),
    (("projections", 0, "post"), "nowhere", r"projections\[0\]\(exc->nowhere\)\.post = 'nowhere': unknown population"),
    (("projections", 0, "pre"), ["exc"], r"projections\[0\]\(\['exc'\]->exc\)\.pre = \['exc'\]: unknown population"),
    (("monitors", "spikes"), ["exc", "ihn"], r"monitors\.spikes = 'ihn': unknown population or input"),
    # delays beyond the ring buffer (max_delay_steps = 20 at dt = 0.1 ms: 2 ms)
    (("projections", 0, "delay"), 0.0025, P0 + r"\.delay = 0\.0025: must be <= .*max_delay_steps.*0\.002 s"),
    (("projections", 2, "delay"), {"uniform": [0.0, 0.01]},
     r"projections\[2\]\(exc->izh\)\.delay = 0\.0\d+: must be <= .*max_delay_steps"),
    (("projections", 0, "delay"), -0.001, P0 + r"\.delay = -0\.001: must be >= 0"),
    # unknown keys
    (("simulaton",), {"dt": 1e-4}, r"simulaton = \{\.\.\.\}: unknown key; allowed: "),
    (("simulation", "timestep"), 1e-4, r"simulation\.timestep = 0\.0001: unknown key"),
    (("populations", "exc", "szie"), 40, r"populations\.exc\.szie = 40: unknown key"),
    (("populations", "exc", "params", "tau"), 0.02, r"populations\.exc\.params\.tau = 0\.02: unknown parameter of lif"),
    (("projections", 0, "wieght"), 1.0, P0 + r"\.wieght = 1\.0: unknown key"),
    (("projections", 0, "connect", "prob"), 0.1, P0 + r"\.connect\.prob = 0\.1: unknown key"),
    (("inputs", "drive", "rates"), 5.0, r"inputs\.drive\.rates = 5\.0: unknown key"),
    (("monitors", "spike"), ["exc"], r"monitors\.spike = \['exc'\]: unknown key"),
    (("currents", 0, "sd"), 1.0, r"currents\[0\]\.sd = 1\.0: unknown key"),
    # connect rules
    (("projections", 0, "connect", "rule"), "small_world",
     P0 + r"\.connect\.rule = 'small_world': must be one of \['fixed_probability'"),
    (("projections", 0, "connect"), {"p": 0.1}, P0 + r"\.connect\.rule = None: must be one of"),
    (("projections", 0, "connect", "p"), 1.5, P0 + r"\.connect\.p = 1\.5: must be in \[0, 1\]"),
    (("projections", 1, "connect", "k"), 11, r"projections\[1\]\(drive->exc\)\.connect\.k = 11: must be <= 10"),
    # distributions
    (("projections", 1, "weight"), {"gamma": [1, 2]},
     P1 + r"\.weight = \{'gamma': \[1, 2\]\}: a distribution must be"),
    (("projections", 1, "weight"), {"uniform": [1]}, P1 + r"\.weight\.uniform = \[1\]: "
                                                     r"must be a list of two numbers"),
    (("projections", 1, "weight"), {"uniform": [2, 1]}, P1 + r"\.weight\.uniform = \[2, 1\]: must have low <= high"),
    (("projections", 1, "weight"), {"normal": [0, -1]}, P1 + r"\.weight\.normal = \[0, -1\]: std must be >= 0"),
    (("projections", 1, "weight"), {"uniform": [0, 1], "normal": [0, 1]},
     P1 + r"\.weight = .*: a distribution must be"),
    (("populations", "exc", "initial", "v"), {"uniform": "x"}, r"populations\.exc\.initial\.v\.uniform = 'x': "),
    (("populations", "exc", "random", "r"), {"uniform": ["a", "b"]}, r"populations\.exc\.random\.r\.uniform = "),
    # expressions
    (("populations", "izh", "params", "c"), "__import__('os')",
     IZH_C + r"\"__import__\('os'\)\": may only use numbers, random variables"),
    (("populations", "izh", "params", "c"), "open('x').read()", IZH_C + r".*: may only use"),
    (("populations", "izh", "params", "c"), "r.__class__", IZH_C + r".*: may only use"),
    (("populations", "izh", "params", "c"), "q * 2", IZH_C + r"'q \* 2': unknown variable 'q'"),
    (("populations", "izh", "params", "c"), "-65 +", IZH_C + r"'-65 \+': is not a valid"),
    (("populations", "izh", "params", "c"), "1 / (r - r)", IZH_C + r".*: evaluates to a non-finite"),
    (("populations", "izh", "params", "c"), "1 / 0", IZH_C + r"'1 / 0': evaluates to a non-finite"),
    (("populations", "izh", "params", "c"), "(-8) ** 0.5", IZH_C + r".*: evaluates to a non-fin"),
    (("populations", "izh", "params", "c"), "10.0 ** 400", IZH_C + r".*: evaluates to a non-fin"),
    (("populations", "izh", "initial", "u"), "s", r"populations\.izh\.initial\.u = 's': unknown variable 's'"),
    # other choices
    (("populations", "exc", "params", "reset"), "never",
     r"populations\.exc\.(params\.)?reset = 'never': must be one of"),
    (("simulation", "dtype"), "float16", r"simulation\.dtype = 'float16': must be one of \['float32', 'float64'\]"),
    (("projections", 0, "target"), "excitatory", P0 + r"\.target = 'excitatory': must be one of"),
    (("inputs", "cue", "kind"), "spiketimes", r"inputs\.cue\.kind = 'spiketimes': must be one of"),
]


@pytest.mark.parametrize("path, value, pattern", MALFORMED, ids=[f"{'.'.join(map(str, p))}={v!r}"[:60]
                                                                  for p, v, _ in MALFORMED])
def test_malformed_config_names_the_key(tmp_path, path, value, pattern):
    data = mutated(path, value)
    with pytest.raises(ConfigError) as info:
        build_config(data)
    message = str(info.value)
    assert "\n" not in message
    assert re.match(pattern, message), message
    # the same mistake read from a TOML file gives the same message
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, data))
    assert str(info.value) == message


@pytest.mark.parametrize("path, prefix", [
    (("populations", "exc", "model"), "populations.exc.model = None: is required"),
    (("populations", "exc", "size"), "populations.exc.size = None: must be an integer >= 1"),
    (("projections", 0, "pre"), "projections[0](?->exc).pre = None: unknown population or input"),
    (("inputs", "drive", "kind"), "inputs.drive.kind = None: must be one of"),
])
def test_missing_required_key(path, prefix):
    with pytest.raises(ConfigError) as info:
        build_config(mutated(path, delete=True))
    assert str(info.value).startswith(prefix), str(info.value)


def test_no_populations():
    with pytest.raises(ConfigError) as info:
        build_config({"simulation": {"dt": 1e-4}})
    assert str(info.value).startswith("populations = ")


def test_delay_exactly_at_the_buffer_length_is_accepted():
    net, _ = build_config(mutated(("projections", 0, "delay"), 0.002))
    assert net.projections[0].delays == 20 == net.max_delay_steps
    net, _ = build_config(mutated(("projections", 0, "delay"), 0.00204))  # rounds to 20 steps
    assert net.projections[0].delays == 20


@pytest.mark.parametrize("text, fragment", [
    ("[simulation\ndt = 1e-4\n", "is not valid TOML"),
    ("[simulation]\ndt = 1e-4\ndt = 2e-4\n", "is not valid TOML"),
    ("[simulation]\ndt = \n", "is not valid TOML"),
    ("populations = { exc = { model = 'lif', size = 4 }\n", "is not valid TOML"),
])
def test_toml_syntax_error(tmp_path, monkeypatch, text, fragment):
    monkeypatch.chdir(tmp_path)
    Path("broken.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config("broken.toml")
    message = str(info.value)
    assert message.startswith("config = 'broken.toml': ") and fragment in message and "\n" not in message


def test_unreadable_config_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^config = 'missing\.toml': file does not exist$"):
        load_config("missing.toml")
    Path("latin1.toml").write_bytes("[simulation]\nname = 'caf\xe9'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"^config = 'latin1\.toml': is not a UTF-8 text file$"):
        load_config("latin1.toml")
    Path("adir.toml").mkdir()
    with pytest.raises(ConfigError, match=r"^config = 'adir\.toml': "):
        load_config("adir.toml")


# --- fuzzing ---------------------------------------------------------------------------------------------------

WORDS = ["exc", "izh", "drive", "cue", "lif", "izhikevich", "adaptive_lif", "if", "li", "uniform", "normal", "rule",
         "fixed_probability", "fixed_indegree", "fixed_outdegree", "one_to_one", "all_to_all", "pairs", "distance",
         "inh", "delta", "float64", "poisson", "spike_times", "value", "subtract", "v", "u", "w", "r", "p", "k", "size",
         "model", "params", "pre", "post", "weight", "delay", "kind", "rate", "times", "indices", "every", "tau_m"]
EXPRESSIONS = st.lists(st.sampled_from(["r", "2", "0", "1e308", "-", "+", "*", "/", "**", "(", ")", "0.5", "q", "."]),
                       min_size=1, max_size=8).map(" ".join)
# Integers stay small, or are so large that any allocation they size fails at once (never in between: a size of
# 2**31 would try to allocate many GiB before anything rejects it).
INTEGERS = st.integers(-3, 100) | st.sampled_from([-2**63, 2**63 - 1, 2**40, -1, 0, 1])
FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e308, -1e308, 5e-324, -0.0, 1e-4])
SCALARS = st.booleans() | INTEGERS | FLOATS | st.text(max_size=12) | st.sampled_from(WORDS) | EXPRESSIONS
# Keys without line breaks: a key holding one is echoed verbatim into the error's key path (a known bug, below).
KEYS = st.sampled_from(WORDS) | st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=6)
TOML_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=3),
    max_leaves=8,
)


def _paths(node, prefix=()):
    """Every key path in a config (dict keys and list indices)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


ALL_PATHS = list(_paths(BASE))


@st.composite
def mutations(draw):
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        node = data
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this part
        action = draw(st.sampled_from(["drop", "replace", "replace", "add"]))
        if action == "drop":
            del node[path[-1]]
        elif action == "replace":
            node[path[-1]] = draw(TOML_VALUES)
        elif isinstance(node, dict):
            node[draw(KEYS)] = draw(TOML_VALUES)
        else:
            node.append(draw(TOML_VALUES))
    return data


def _known_bug(exc: BaseException) -> bool:
    """Failures that are reported but not fixed yet; tolerated so the fuzzer keeps looking for new ones.

    None at the moment: the ones it found (huge sizes, float overflow, underflowing lam, deep expressions,
    dt = 0, damaged files) are fixed and have their own tests below.
    """
    return False


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_random_mutations_build_or_fail_with_one_config_error_line(data):
    """A mutated config either builds a network or raises ConfigError with a one-line message; nothing else."""
    assert tomllib.loads(to_toml(data)) is not None  # the mutation is expressible in TOML
    try:
        net, run = build_config(data)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message and " = " in message, message
        event(f"ConfigError at {exc.path.split('.')[0].split('[')[0]}")
        return
    except Exception as exc:  # noqa: BLE001 - the point is to see which other exceptions escape
        event(f"known bug: {type(exc).__name__}")
        assume(not _known_bug(exc))
        raise
    event("built")
    assert isinstance(net, Network) and isinstance(run, RunSettings)


# Regressions for bugs the fuzzer or a reviewer found (fixed).


def test_huge_population_size():
    with pytest.raises(ConfigError):
        build_config(mutated(("populations", "exc", "size"), 2**63 - 1))


def test_uniform_range_overflow():
    with pytest.raises(ConfigError):
        build_config(mutated(("projections", 5, "weight"), {"uniform": [-1e308, 1e308]}))


@pytest.mark.parametrize("path, value", [(("inputs", "cue", "indices"), 1e300),
                                         (("monitors", "state", 0, "indices"), math.inf)])
def test_huge_scalar_index(path, value):
    with pytest.raises(ConfigError):
        build_config(mutated(path, value))


def test_unknown_key_with_a_line_break():
    with pytest.raises(ConfigError) as info:
        build_config(mutated(("simulation", "a\nb"), 1))
    assert "\n" not in str(info.value)


def test_distance_rule_with_a_denormal_length_constant():
    with pytest.raises(ConfigError):
        build_config(mutated(("projections", 4, "connect", "lam"), 5e-324))


def test_deeply_nested_expression():
    with pytest.raises(ConfigError):
        build_config(mutated(("populations", "izh", "params", "c"), "1" + " + 1" * 5000))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_zero_dt_is_reported_as_dt():
    with pytest.raises(ConfigError, match=r"^simulation\.dt = "):
        build_config(mutated(("simulation", "dt"), 0.0))


def test_pairs_keep_their_listed_weights_and_delays():
    """Per-pair ``weight`` and ``delay`` lists follow their pairs into CSR order (regression: they were applied
    in the listed order). Expected values: the pairs as written, 1 -> 0 (10, 1 ms) and 0 -> 1 (20, 2 ms)."""
    cfg = {"simulation": {"dtype": "float64"}, "populations": {"a": {"model": "lif", "size": 2}},
           "projections": [{"pre": "a", "post": "a", "weight": [10.0, 20.0], "delay": [1e-3, 2e-3],
                            "connect": {"rule": "pairs", "pre": [1, 0], "post": [0, 1]}}]}
    net, _ = build_config(cfg)
    proj = net.projections[0]
    pairs = {(int(i), int(j)): (float(w), int(d)) for i, j, w, d in
             zip(proj.connectivity.pre_indices(), proj.connectivity.indices, proj.weights, proj.delays)}
    assert pairs == {(1, 0): (10.0, 10), (0, 1): (20.0, 20)}
    assert proj.weights.dtype == np.float64  # a float64 run keeps the config's weights unrounded


def test_float32_weights_at_the_rules_bound_are_accepted():
    """0.1 rounds to 0.10000000149 in float32, above the float64 w_max = 0.1; the bound is compared in the
    weights' dtype, so a float32 run's learned weights can be fed back to the same rule."""
    from snn import connect
    from snn.model import STDP, Projection

    conn = connect.all_to_all(2, 2)
    Projection("a", "a", conn, weights=np.full(conn.nnz, 0.1, np.float32), plasticity=STDP(w_max=0.1))
    with pytest.raises(ConfigError, match="w_min, w_max"):
        Projection("a", "a", conn, weights=np.full(conn.nnz, 0.1001, np.float32), plasticity=STDP(w_max=0.1))


def test_weight_monitor_errors_name_the_toml_key():
    """A bad ``every`` in ``[[monitors.weights]]`` names ``monitors.weights[0].every`` (regression: the key was
    dropped from the path)."""
    cfg = {"populations": {"a": {"model": "lif", "size": 2}}, "projections": [{"pre": "a", "post": "a", "name": "p"}],
           "monitors": {"weights": [{"projection": "p", "every": "x"}]}}
    with pytest.raises(ConfigError) as err:
        build_config(cfg)
    assert err.value.path == "monitors.weights[0].every"


def test_infinite_delay_is_one_line():
    """An infinite delay (a float TOML accepts) is refused by name, not cast to a garbage step count."""
    cfg = {"populations": {"a": {"model": "lif", "size": 2}},
           "projections": [{"pre": "a", "post": "a", "delay": math.inf}]}
    with pytest.raises(ConfigError, match=">= 0 and finite"):
        build_config(cfg)
