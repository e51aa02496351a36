"""Target profiles: what a piece of hardware can hold and compute, as frozen dataclasses loaded from TOML presets.

Three families share the fields of :class:`TargetProfile` (sizes, fan-in/out, bit widths, decays, resets,
delays, energy constants) and add their own:

- :class:`RRAMCrossbar` (``kind = "rram_crossbar"``): analog resistive crossbar tiles; weights as differential
  conductance pairs ``w = k·(G⁺ − G⁻)`` with ``G± ∈ [g_min, g_max]`` on ``n_levels`` programmable levels, plus the
  non-idealities applied by :mod:`hardware.rram` (programming noise, read noise, drift, stuck-at faults, DAC/ADC,
  IR drop);
- :class:`FPGAFixed` (``kind = "fpga_fixed"``): an HLS dataflow design in ``ap_fixed<W,I>`` arithmetic
  (:mod:`hardware.fixed_point`) with resource budgets and hls4ml's reuse factor;
- :class:`NeuromorphicChip` (``kind = "neuromorphic"``): digital or mixed-signal spiking chips (Loihi 2, Xylo,
  DYNAP-SE2, SpiNNaker 2).

Presets live in ``configs/targets/<name>.toml`` (one flat table; ``kind`` picks the class); every number there
names its source in a comment, or says ``[assumed]``. Users write their own file in the same form and load it with
:func:`load_target`. Every field's meaning and unit is in its ``metadata["doc"]`` (see :func:`field_docs`).
A limit of ``0`` means "no limit" wherever the field's doc says so.

Sources are collected in /work/shared/reference/hardware.md (section 3: target numbers; section 2: aihwkit's
device models); the TOML comments cite the original document for each value.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from hardware.fixed_point import ApFixed
from snn.errors import ConfigError

#: directory of the shipped presets (repository layout: <root>/configs/targets)
PRESET_DIR = Path(__file__).resolve().parents[1] / "configs" / "targets"

DECAYS = ("exact", "bitshift", "mult12", "fixed", "analog")
GRANULARITY = ("neuron", "core")
RESET_MODES = ("value", "subtract", "zero")
NEURON_KINDS = ("lif", "adaptive_lif", "conductance_lif", "if", "li", "izhikevich")


def _f(default: Any, check: str, doc: str) -> Any:
    return field(default=default, metadata={"check": check, "doc": doc})


@dataclass(frozen=True)
class TargetProfile:
    """Fields shared by every target. Subclasses add their own; ``kind`` names the family in TOML files."""

    kind: ClassVar[str] = ""

    name: str = _f("target", "str", "preset name (the TOML file's stem for shipped presets)")
    description: str = _f("", "str", "one line: which device and which configuration this profile describes")
    sources: tuple[str, ...] = _f((), "strs", "documents the numbers come from (papers, manuals, source files)")
    n_cores: int = _f(1, "int>=1", "cores (chips) or tiles (crossbars) or processing elements (FPGA) available")
    neurons_per_core: int = _f(0, "int>=0", "neurons one core holds (0: no limit)")
    max_neurons_total: int = _f(0, "int>=0", "neurons of all populations together (0: no limit)")
    max_inputs: int = _f(0, "int>=0", "input channels of all input sources together (0: no limit)")
    max_input_targets: int = _f(0, "int>=0",
                                "neurons that may receive synapses from input sources (0: no limit; Xylo: 128)")
    max_fan_in: int = _f(0, "int>=0", "synapses onto one neuron, all projections together (0: no limit)")
    max_fan_out: int = _f(0, "int>=0", "synapses from one neuron or channel, all projections together (0: no limit)")
    weight_bits: int = _f(0, "int>=0", "bits of a stored weight, sign included (0: analog or float)")
    weight_exp_bits: int = _f(0, "int>=0", "bits of a per-projection weight exponent (Loihi; 0: none)")
    state_bits: int = _f(0, "int>=0", "bits of membrane and synaptic state, sign included (0: float)")
    threshold_bits: int = _f(0, "int>=0", "bits of the threshold, in weight steps, sign included (0: float)")
    decay: str = _f("exact", f"choice:{','.join(DECAYS)}",
                    "how leaks are applied: exact (float exp), bitshift (1 - 2^-k), mult12 (x·(4096-d)/4096), "
                    "fixed (a fixed-point factor), analog (a bias current per core)")
    decay_bits: int = _f(0, "int>=0", "bits of the decay parameter (bitshift: k in [0, 2^bits - 1])")
    param_granularity: str = _f("neuron", f"choice:{','.join(GRANULARITY)}",
                                "neuron: parameters per neuron; core: one set of parameters per core")
    n_synapse_states: int = _f(0, "int>=0", "synaptic time constants per neuron (0: no limit)")
    resets: tuple[str, ...] = _f(("value", "subtract"), f"choices:{','.join(RESET_MODES)}",
                                 "allowed resets: value (to v_reset), subtract (v -= θ - v_reset), zero (v_reset == "
                                 "v_rest only)")
    refractory: bool = _f(True, "bool", "whether a refractory period can be programmed")
    bias_supported: bool = _f(True, "bool", "whether a constant bias current per neuron (or core) exists")
    max_delay_steps: int = _f(0, "int>=0", "largest synaptic delay in time steps (0: delays unsupported)")
    on_chip_learning: bool = _f(False, "bool", "whether plastic projections can run on the target")
    models: tuple[str, ...] = _f(("lif", "if"), f"choices:{','.join(NEURON_KINDS)}", "neuron kinds it runs")
    synapse_memory_bits: int = _f(0, "int>=0", "synapse memory per core in bits (0: not modelled)")
    energy_per_synop_j: float = _f(0.0, "float>=0", "energy of one synaptic operation (J)")
    energy_per_neuron_update_j: float = _f(0.0, "float>=0", "energy of one neuron update in one time step (J)")
    time_per_synop_s: float = _f(0.0, "float>=0", "time of one synaptic operation on one core (s)")
    time_per_neuron_update_s: float = _f(0.0, "float>=0", "time of one neuron update on one core (s)")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = _check_field(f, getattr(self, f.name), f"targets.{self.name}.{f.name}")
            object.__setattr__(self, f.name, value)
        self._check_relations()

    def _check_relations(self) -> None:
        pass

    def as_dict(self) -> dict[str, Any]:
        """JSON/TOML-able fields (formats as their ap_fixed strings), with ``kind`` first."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = str(v) if isinstance(v, ApFixed) else (list(v) if isinstance(v, tuple) else v)
        return out

    @property
    def capacity(self) -> int:
        """Neurons the target holds (cores × neurons per core, capped by ``max_neurons_total``; 0: unlimited)."""
        caps = [c for c in (self.n_cores * self.neurons_per_core if self.neurons_per_core else 0,
                            self.max_neurons_total) if c]
        return min(caps) if caps else 0


@dataclass(frozen=True)
class RRAMCrossbar(TargetProfile):
    """An analog RRAM crossbar: tiles of ``tile_rows`` inputs × ``tile_cols`` device columns.

    Conductances in microsiemens. With ``differential`` every weight uses two columns (G⁺, G⁻), so a tile holds
    ``tile_cols // 2`` postsynaptic neurons. Noise sigmas are relative to ``g_max``.
    """

    kind: ClassVar[str] = "rram_crossbar"

    tile_rows: int = _f(512, "int>=1", "rows (inputs, word lines) of one tile")
    tile_cols: int = _f(512, "int>=1", "device columns (bit lines) of one tile")
    g_min_us: float = _f(0.0, "float>=0", "lowest programmable conductance (µS)")
    g_max_us: float = _f(25.0, "float>0", "highest programmable conductance (µS)")
    n_levels: int = _f(256, "int>=2", "programmable conductance levels per device, g_min and g_max included")
    differential: bool = _f(True, "bool", "weights as differential pairs G⁺ − G⁻ (else one device, w >= 0)")
    prog_noise_rel: float = _f(0.0, "float>=0", "programming noise σ / g_max, drawn once per device")
    read_noise_rel: float = _f(0.0, "float>=0", "read noise σ / g_max of one read")
    drift_nu: float = _f(0.0, "float>=0", "mean drift exponent ν in g(t) = g(t0)·(t/t0)^-ν")
    drift_nu_std: float = _f(0.0, "float>=0", "device-to-device standard deviation of ν")
    drift_t0_s: float = _f(20.0, "float>0", "drift reference time t0 after programming (s)")
    p_stuck_on: float = _f(0.0, "prob", "probability a device is stuck at g_max (stuck-at-on, low resistance)")
    p_stuck_off: float = _f(0.0, "prob", "probability a device is stuck at g_min (stuck-at-off, high resistance)")
    dac_bits: int = _f(7, "int>=1", "input DAC resolution (bits)")
    dac_range: float = _f(1.0, "float>0", "input DAC full scale, in units of the largest input (a spike = 1)")
    adc_bits: int = _f(9, "int>=2", "output ADC resolution (bits; >= 2: the grid has 2**bits - 2 steps)")
    adc_range: float = _f(12.0, "float>0",
                          "output ADC full scale ±range, in units of the largest weight times the largest input")
    ir_drop: float = _f(0.0, "float>=0", "IR-drop factor γ: g_eff = g·(1 − γ·(row + col)/(rows + cols))")
    read_voltage_v: float = _f(0.2, "float>0", "read voltage (V), for the energy estimate")
    t_read_s: float = _f(1e-8, "float>0", "duration of one crossbar read (s)")
    energy_per_adc_j: float = _f(0.0, "float>=0", "energy of one ADC conversion (J)")

    def _check_relations(self) -> None:
        p = f"targets.{self.name}"
        if self.g_max_us <= self.g_min_us:
            raise ConfigError(f"{p}.g_max_us", self.g_max_us, f"must be > g_min_us = {self.g_min_us}")
        if self.differential and self.tile_cols < 2:
            raise ConfigError(f"{p}.tile_cols", self.tile_cols, "must be >= 2 for differential pairs")
        if self.p_stuck_on + self.p_stuck_off > 1:
            raise ConfigError(f"{p}.p_stuck_off", self.p_stuck_off, "p_stuck_on + p_stuck_off must be <= 1")

    @property
    def neurons_per_tile(self) -> int:
        return self.tile_cols // 2 if self.differential else self.tile_cols


@dataclass(frozen=True)
class FPGAFixed(TargetProfile):
    """A fixed-point FPGA design (hls4ml-style): formats, budgets, clock and reuse factor."""

    kind: ClassVar[str] = "fpga_fixed"

    weight_format: ApFixed = _f(ApFixed(16, 6), "apfixed", "weight format ap_fixed<W,I,Q,O>")
    state_format: ApFixed = _f(ApFixed(16, 6), "apfixed", "membrane/synaptic state and threshold format")
    accum_format: ApFixed = _f(ApFixed(16, 6), "apfixed", "accumulator format of the synaptic sum of one step")
    bram_36k: int = _f(0, "int>=0", "36 Kb block RAMs available (0: no limit)")
    dsp: int = _f(0, "int>=0", "DSP slices available (0: no limit)")
    lut: int = _f(0, "int>=0", "look-up tables available (0: no limit)")
    clock_mhz: float = _f(200.0, "float>0", "clock frequency (MHz)")
    reuse_factor: int = _f(1, "int>=1", "hls4ml ReuseFactor: multiplications that share one multiplier")
    max_latency_ns: float = _f(0.0, "float>=0", "latency budget of one time step (ns; 0: none)")
    energy_per_mac_j: float = _f(0.0, "float>=0", "energy of one fixed-point multiply-accumulate (J)")


@dataclass(frozen=True)
class NeuromorphicChip(TargetProfile):
    """A spiking chip; the shared fields describe it. ``chip`` names the part."""

    kind: ClassVar[str] = "neuromorphic"

    chip: str = _f("", "str", "part name or number (e.g. SYNS61201)")
    max_spikes_per_step: int = _f(0, "int>=0", "spikes one neuron may emit in one time step (0: no limit)")


KINDS: dict[str, type[TargetProfile]] = {c.kind: c for c in (RRAMCrossbar, FPGAFixed, NeuromorphicChip)}


def _check_field(f: dataclasses.Field, value: Any, key: str) -> Any:
    check = f.metadata["check"]
    if check == "str":
        if not isinstance(value, str):
            raise ConfigError(key, value, "must be a string")
        return value
    if check == "strs":
        if isinstance(value, str) or not all(isinstance(v, str) for v in _items(value, key)):
            raise ConfigError(key, value, "must be a list of strings")
        return tuple(value)
    if check == "bool":
        if not isinstance(value, bool):
            raise ConfigError(key, value, "must be true or false")
        return value
    if check.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(key, value, "must be an integer")
        low = int(check.split(">=")[1])
        if value < low:
            raise ConfigError(key, value, f"must be >= {low}")
        return int(value)
    if check.startswith("float") or check == "prob":
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ConfigError(key, value, "must be a finite number")
        v = float(value)
        if check == "float>=0" and v < 0:
            raise ConfigError(key, value, "must be >= 0")
        if check == "float>0" and v <= 0:
            raise ConfigError(key, value, "must be > 0")
        if check == "prob" and not 0 <= v <= 1:
            raise ConfigError(key, value, "must be a probability in [0, 1]")
        return v
    if check.startswith("choice:"):
        options = check.split(":", 1)[1].split(",")
        if value not in options:
            raise ConfigError(key, value, f"must be one of {options}")
        return value
    if check.startswith("choices:"):
        options = check.split(":", 1)[1].split(",")
        items = _items(value, key)
        if isinstance(value, str) or not items or any(v not in options for v in items):
            raise ConfigError(key, value, f"must be a non-empty list of {options}")
        return tuple(items)
    if check == "apfixed":
        if isinstance(value, ApFixed):
            return dataclasses.replace(value, path=key)
        return ApFixed.parse(value, key)
    raise AssertionError(check)  # pragma: no cover - field table error


def _items(value: Any, key: str) -> list[Any]:
    try:
        return list(value)
    except TypeError:
        raise ConfigError(key, value, "must be a list") from None


def field_docs(cls: type[TargetProfile]) -> dict[str, str]:
    """Every field of a profile class with its documentation (meaning and unit)."""
    return {f.name: f.metadata["doc"] for f in dataclasses.fields(cls)}


def target_from_dict(data: dict[str, Any], path: str = "targets") -> TargetProfile:
    """A profile from a flat mapping with a ``kind`` key; unknown keys are refused (one-line ConfigError)."""
    if not isinstance(data, dict):
        raise ConfigError(path, data, "must be a table")
    data = dict(data)
    kind = data.pop("kind", None)
    if kind not in KINDS:
        raise ConfigError(f"{path}.kind", kind, f"must be one of {sorted(KINDS)}")
    cls = KINDS[kind]
    known = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            raise ConfigError(f"{path}.{key}", data[key], f"unknown field of {kind}; known: {sorted(known)}")
    return cls(**data)


def preset_names() -> list[str]:
    """Names of the shipped presets (``configs/targets/*.toml``)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load_target(name_or_path: str | Path) -> TargetProfile:
    """A shipped preset by name (``"xylo_audio2"``) or any TOML file by path. ``name`` defaults to the file stem."""
    p = Path(name_or_path)
    if p.suffix != ".toml":
        p = PRESET_DIR / f"{name_or_path}.toml"
        if not p.is_file():
            raise ConfigError("target", str(name_or_path), f"unknown preset; known: {preset_names()}")
    if not p.is_file():
        raise ConfigError("target", str(name_or_path), "no such TOML file")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:  # TOML files are UTF-8 by the spec
        raise ConfigError(f"target.{p.name}", str(p), f"is not valid TOML: {exc}") from None
    data.setdefault("name", p.stem)
    return target_from_dict(data, f"targets.{data['name']}")
