"""Weight layers that live on an RRAM crossbar while they learn: differential conductance pairs, pulsed updates.

A :class:`CrossbarLayerState` holds one weight matrix ``W`` (out × in) of the spiking MLP as two devices per weight
on an :class:`hardware.targets.RRAMCrossbar` profile (the conventions of :mod:`hardware.targets` and
:mod:`hardware.rram`: conductances in µS, ``G± ∈ [g_min, g_max]``, noise sigmas relative to ``g_max``):

.. code-block:: text

    w = k (G⁺ − G⁻)                                       differential pair (hardware.targets.RRAMCrossbar)
    Δg = (g_max − g_min) / (L − 1)                          one level step, L = n_levels (hardware.mapping)
    k = h · max|W₀| / (g_max − g_min)                       per layer, from the initial weights, headroom h = 2

Scale: :mod:`hardware.mapping` uses ``k = max|w| / (g_max − g_min)`` (h = 1) for fixed weights; learning moves
weights beyond their initial range, so ``h`` (default 2) leaves half of the pair's range for growth. Initial write
(``m = (L − 1) // 2``, the middle level; both devices start there so either can move either way):

.. code-block:: text

    n₀ = round(W₀ / (k Δg))                                 level difference, nearest (a write-verify target)
    G⁺ = g_min + clip(m + ⌈n₀/2⌉, 0, L−1) Δg + σ_w g_max ξ   G⁻ = g_min + clip(m − ⌊n₀/2⌋, 0, L−1) Δg + σ_w g_max ξ'

then clipped to [g_min, g_max] (ξ, ξ' ~ N(0, 1), independent per device; hardware.rram.program's programming
noise ``G_target + σ_p g_max N(0, 1)``, with its clip at 0 S replaced by the device's own window).

Update (:meth:`CrossbarLayerState.program_update`), a desired change ``ΔW`` turned into programming pulses:

.. code-block:: text

    u = ΔW / (k Δg)                                           wanted change of G⁺ − G⁻ in level steps
    n = ⌊u⌋ + Bernoulli(u − ⌊u⌋)                              stochastic rounding (E[n] = u); or n = round(u)
    one device per pair takes all |n| pulses: G⁺ += n Δg if G⁺ has at least as much room in that direction as
        G⁻ (room: g_max − G⁺ resp. G⁻ − g_min for n > 0, the mirror for n < 0), else G⁻ −= n Δg
    each pulse adds write noise σ_w g_max N(0, 1); |n| pulses together add σ_w g_max √|n| N(0, 1)
    G clipped to [g_min, g_max]: every device whose new value fell outside counts as one saturation

Why stochastic rounding: SGD updates ``lr · G`` are mostly far below one level step (at L = 256, ``k Δg ≈ 1e-3``
for the first layer), so nearest rounding drops them and the network stops learning; stochastic rounding is
unbiased (Gupta et al. 2015, "Deep learning with limited numerical precision", ICML) and is what a crossbar's
stochastic pulse coincidence update realises (Gokmen & Vlasov 2016, "Acceleration of deep neural network training
with resistive cross-point devices", Front. Neurosci. 10:333). Putting all pulses on the device with more room
(one device per pair per update, as the pulse schemes of Burr et al. 2015, IEEE TED 62:3498, move one device of
the pair per sign) keeps the pair's common mode near the middle, so saturation means the *difference* reached the
window, i.e. the level limit of the weight, not a drift of both devices to one rail. Saturation is counted and
reported (:attr:`CrossbarLayerState.saturated`), never hidden: the algorithm asked for a weight the device cannot
hold.

Write noise per pulse: the profile has one programming-noise figure, ``prog_noise_rel`` (σ / g_max); it is used
for the initial write and for every pulse (``write_noise_rel`` in :class:`DeviceOptions` overrides it). The noise
of pulses accumulates (open-loop pulsing, no verify per mini-batch), unlike hardware.rram's single write-verified
programming.

Read (:meth:`CrossbarLayerState.read`): ``w = k ((G⁺ + σ_r g_max ξ⁺) − (G⁻ + σ_r g_max ξ⁻))``, a fresh draw at every
read (aihwkit's forward ``w_noise`` redrawn at each forward pass; hardware.rram draws it once because its engine
reads once per run). The learner reads once per mini-batch and once per evaluation. Drift, faults, DAC/ADC and IR
drop of the profile are not modelled here (the study is about the level limit and write/read noise).

Seeding: :func:`layer_rngs` gives each layer independent write and read streams from ``SeedSequence([seed,
0xDE71CE, layer, 0|1])``; same seed -> same conductances, at any thread count.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from hardware.targets import RRAMCrossbar, load_target
from snn.errors import ConfigError

#: the preset the short alias ``@rram`` names: aihwkit's published RRAM/PCM inference defaults (256 levels,
#: 4.2 % programming noise, 1 % read noise); ``rram_40nm_lsm`` (2 levels: formed / pristine cells) is the other
#: shipped RRAM preset
DEFAULT_RRAM_PRESET = "rram_aihwkit"
ALIASES = {"rram": DEFAULT_RRAM_PRESET}
ROUNDINGS = ("stochastic", "nearest")
_SEED_TAG = 0xDE71CE


def split_method(name: str) -> tuple[str, str | None]:
    """``"hlop@rram"`` -> ``("hlop", "rram")``; ``"hlop"`` -> ``("hlop", None)``."""
    base, sep, preset = str(name).partition("@")
    return base, (preset if sep else None)


def resolve_preset(preset: str, path: str = "device") -> RRAMCrossbar:
    """The RRAM profile a method suffix names (an alias of :data:`ALIASES` or a shipped preset); anything else,
    or a preset of another kind, -> one-line ConfigError at ``path``."""
    name = ALIASES.get(preset, preset)
    try:
        target = load_target(name) if name and "/" not in name and not name.endswith(".toml") else None
    except ConfigError:
        target = None
    if not isinstance(target, RRAMCrossbar):
        from hardware.targets import preset_names

        known = sorted(ALIASES) + [n for n in preset_names() if n.startswith("rram")]
        raise ConfigError(path, preset, f"must name an RRAM crossbar preset, one of {known}")
    return target


@dataclass(frozen=True)
class DeviceOptions:
    """The ``[device]`` overrides of a study: ``levels`` (0: the profile's ``n_levels``), ``write_noise_rel`` and
    ``read_noise_rel`` (σ / g_max; None: the profile's ``prog_noise_rel`` / ``read_noise_rel``), ``layers``
    (weight-layer indices on the crossbar; empty: all), ``headroom`` h of the scale k, ``rounding`` of the level
    steps ("stochastic" or "nearest"; module docstring)."""

    levels: int = 0
    write_noise_rel: float | None = None
    read_noise_rel: float | None = None
    layers: tuple[int, ...] = ()
    headroom: float = 2.0
    rounding: str = "stochastic"

    def __post_init__(self) -> None:
        p = "device"
        if isinstance(self.levels, bool) or not isinstance(self.levels, int) or (self.levels != 0 and self.levels < 2):
            raise ConfigError(f"{p}.levels", self.levels, "must be an integer >= 2 (or 0: the profile's n_levels)")
        for name in ("write_noise_rel", "read_noise_rel"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < math.inf):
                raise ConfigError(f"{p}.{name}", v, "must be a finite number >= 0 (sigma / g_max)")
        layers = self.layers
        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__") or any(
                isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in layers):
            raise ConfigError(f"{p}.layers", layers, "must be a list of weight-layer indices >= 0")
        if len(set(layers)) != len(tuple(layers)):
            raise ConfigError(f"{p}.layers", layers, "must not repeat a layer")
        object.__setattr__(self, "layers", tuple(layers))
        if isinstance(self.headroom, bool) or not isinstance(self.headroom, (int, float)) \
                or not 1 <= self.headroom < math.inf:
            raise ConfigError(f"{p}.headroom", self.headroom, "must be a finite number >= 1")
        if self.rounding not in ROUNDINGS:
            raise ConfigError(f"{p}.rounding", self.rounding, f"must be one of {list(ROUNDINGS)}")

    def profile(self, target: RRAMCrossbar) -> RRAMCrossbar:
        """``target`` with the overrides applied (re-validated by the profile class)."""
        changes: dict[str, object] = {}
        if self.levels:
            changes["n_levels"] = self.levels
        if self.write_noise_rel is not None:
            changes["prog_noise_rel"] = float(self.write_noise_rel)
        if self.read_noise_rel is not None:
            changes["read_noise_rel"] = float(self.read_noise_rel)
        return dataclasses.replace(target, **changes) if changes else target


def layer_rngs(seed: int, layer: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent (write, read) generators of one layer (module docstring)."""
    return (np.random.default_rng(np.random.SeedSequence([int(seed), _SEED_TAG, int(layer), 0])),
            np.random.default_rng(np.random.SeedSequence([int(seed), _SEED_TAG, int(layer), 1])))


class CrossbarLayerState:
    """One weight matrix as differential conductance pairs on ``profile`` (module docstring for the equations).

    ``W0``: the initial weights (they set the scale ``k`` and are written once with programming noise from
    ``rng``). ``headroom``: h in ``k = h max|W₀| / (g_max − g_min)``. ``rounding``: "stochastic" or "nearest".
    Attributes: ``g_plus``, ``g_minus`` (µS), ``k`` (weight per µS), ``step`` (Δg, µS), ``saturated`` (devices
    that hit g_min or g_max in an update, summed over updates), ``pulses`` (programming pulses applied).
    """

    def __init__(self, profile: RRAMCrossbar, W0: np.ndarray, rng: np.random.Generator, *, headroom: float = 2.0,
                 rounding: str = "stochastic") -> None:
        if not isinstance(profile, RRAMCrossbar):
            raise ConfigError("device", getattr(profile, "name", profile), "must be an RRAM crossbar profile")
        if not profile.differential:
            raise ConfigError(f"targets.{profile.name}.differential", False,
                              "must be true: a learning layer needs signed weights (differential pairs)")
        if rounding not in ROUNDINGS:
            raise ConfigError("device.rounding", rounding, f"must be one of {list(ROUNDINGS)}")
        W0 = np.asarray(W0, dtype=np.float64)
        self.profile = profile
        self.rounding = rounding
        self.g_min, self.g_max = profile.g_min_us, profile.g_max_us
        self.levels = profile.n_levels
        self.step = (self.g_max - self.g_min) / (self.levels - 1)
        wmax = float(np.abs(W0).max()) if W0.size else 0.0
        self.k = float(headroom) * (wmax if wmax > 0 else 1.0) / (self.g_max - self.g_min)
        m = (self.levels - 1) // 2
        n0 = np.rint(W0 / (self.k * self.step)).astype(np.int64)
        lp = np.clip(m + (n0 + 1) // 2, 0, self.levels - 1)        # ⌈n₀/2⌉
        lm = np.clip(m - n0 // 2, 0, self.levels - 1)               # ⌊n₀/2⌋
        sigma = profile.prog_noise_rel * self.g_max
        self.g_plus = np.clip(self.g_min + lp * self.step + sigma * rng.standard_normal(W0.shape),
                              self.g_min, self.g_max)
        self.g_minus = np.clip(self.g_min + lm * self.step + sigma * rng.standard_normal(W0.shape),
                               self.g_min, self.g_max)
        self.saturated = 0
        self.pulses = 0

    @property
    def shape(self) -> tuple[int, ...]:
        return self.g_plus.shape

    def weights(self) -> np.ndarray:
        """The stored weights ``k (G⁺ − G⁻)`` without read noise."""
        return self.k * (self.g_plus - self.g_minus)

    def read(self, rng: np.random.Generator) -> np.ndarray:
        """One read: ``k ((G⁺ + σ_r g_max ξ⁺) − (G⁻ + σ_r g_max ξ⁻))`` (fresh noise each call)."""
        sigma = self.profile.read_noise_rel * self.g_max
        if sigma == 0.0:
            return self.weights()
        return self.k * ((self.g_plus + sigma * rng.standard_normal(self.shape))
                         - (self.g_minus + sigma * rng.standard_normal(self.shape)))

    def level_steps(self, dW: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The integer pulse counts n (signed) for a wanted weight change ``dW`` (module docstring)."""
        u = np.asarray(dW, dtype=np.float64) / (self.k * self.step)
        if self.rounding == "nearest":
            return np.rint(u).astype(np.int64)
        lower = np.floor(u)
        return (lower + (rng.random(u.shape) < (u - lower))).astype(np.int64)

    def program_update(self, dW: np.ndarray, rng: np.random.Generator) -> int:
        """Apply a wanted change ``dW`` (same shape as W) as level-step pulses with write noise and the level
        limit; returns the number of devices saturated by this update (also added to :attr:`saturated`)."""
        dW = np.asarray(dW, dtype=np.float64)
        if dW.shape != self.shape:
            raise ConfigError("device.dW", dW, f"must have the layer's shape {self.shape}")
        n = self.level_steps(dW, rng)
        pulsed = np.flatnonzero(n)
        if pulsed.size == 0:
            return 0
        nz = n.ravel()[pulsed]
        gp = self.g_plus.ravel()
        gm = self.g_minus.ravel()
        up = nz > 0
        room_plus = np.where(up, self.g_max - gp[pulsed], gp[pulsed] - self.g_min)
        room_minus = np.where(up, gm[pulsed] - self.g_min, self.g_max - gm[pulsed])
        on_plus = room_plus >= room_minus
        sigma = self.profile.prog_noise_rel * self.g_max
        noise = sigma * np.sqrt(np.abs(nz)) * rng.standard_normal(nz.size) if sigma else 0.0
        delta = nz * self.step + noise
        new_p = gp[pulsed[on_plus]] + delta[on_plus]
        new_m = gm[pulsed[~on_plus]] - delta[~on_plus]
        hit = int(np.count_nonzero((new_p < self.g_min) | (new_p > self.g_max))
                  + np.count_nonzero((new_m < self.g_min) | (new_m > self.g_max)))
        gp[pulsed[on_plus]] = np.clip(new_p, self.g_min, self.g_max)
        gm[pulsed[~on_plus]] = np.clip(new_m, self.g_min, self.g_max)
        self.saturated += hit
        self.pulses += int(np.abs(nz).sum())
        return hit

    def at_limit(self) -> float:
        """Fraction of devices now at g_min or g_max."""
        g = np.concatenate([self.g_plus.ravel(), self.g_minus.ravel()])
        return float(np.mean((g <= self.g_min) | (g >= self.g_max))) if g.size else 0.0

    def state(self) -> dict[str, np.ndarray]:
        return {"g_plus": self.g_plus.copy(), "g_minus": self.g_minus.copy(), "k": np.array(self.k),
                "counts": np.array([self.saturated, self.pulses], np.int64)}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        for name in ("g_plus", "g_minus"):
            new = np.asarray(state.get(name), dtype=np.float64)
            if new.shape != self.shape or not np.all(np.isfinite(new)):
                raise ConfigError(f"device.state.{name}", new, f"must be a finite array of shape {self.shape}")
            setattr(self, name, new.copy())
        self.k = float(state["k"])
        self.saturated, self.pulses = (int(v) for v in np.asarray(state["counts"]))
