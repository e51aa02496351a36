"""Spiking FORCE learning with an Izhikevich network (Nicola & Clopath 2017).

Source: W. Nicola & C. Clopath (2017), "Supervised learning in spiking neural networks with FORCE training",
Nat. Commun. 8:2208, and their MATLAB code (ModelDB 190565, mirrored on GitHub as ``ModelDBRepository/190565``,
file ``CODE FOR FIGURE 2/IZFORCESINE.m``), which this module follows line by line.
Every default of :class:`ForceSpec` is that file's value.

Units inside (as in the MATLAB): ms, mV, pA, pF. The public API names times in seconds (``dt_s``,
``tau_rise_s``, ``tau_decay_s``, ``learn_start_s``, ...) and converts them to ms (× 1000) before the kernel runs;
``a_per_ms`` is the one rate, named with its unit.

One Euler step (MATLAB loop index i = s + 1 for our 0-based step s; time t_i = i·dt), in the MATLAB's order:

.. code-block:: text

    1. I = IPSC + E z + BIAS                                   (z of the previous step; z(0) = 0)
    2. v ← v + dt (k (v − vr)(v − vt) − u + I) / C              (C v' = k (v − vr)(v − vt) − u + I)
    3. u ← u + dt a (b (v_ − vr) − u)                          (u' = a (b (v − vr) − u); v_ = v before step 2)
    4. S = {j : v_j ≥ vpeak};  JD = Σ_{j∈S} OMEGA[:, j]
    5. IPSC ← IPSC e^{−dt/tr} + h dt;   h ← h e^{−dt/td} + JD / (tr td)
    6. r    ← r e^{−dt/tr} + hr dt;     hr ← hr e^{−dt/td} + 1_S / (tr td)
    7. z = φᵀ r;  err = z − x(t_i)
    8. if mod(i, step) = 1 and imin < i < icrit (RLS, the "nicola_clopath" form of snn.reservoir.rls):
           cd = P r;  φ ← φ − cd errᵀ;  P ← P − cd cdᵀ / (1 + rᵀ cd)
    9. u ← u + d,  v ← vreset   for j ∈ S
   10. record z (computed in 7, before the update of 8; it drives step 1 of the next step)

The double exponential (5, 6) is the MATLAB's discretisation (exact decay factors, an Euler term for the
coupling) of ``h' = −h/td + Σ_k OMEGA[:, j_k] δ(t − t_k) / (tr td)``, ``IPSC' = −IPSC/tr + h`` (rise ``tr``,
decay ``td``): a spike of neuron j adds a current of total charge ``OMEGA[:, j]`` (pA·ms), and a unit-area pulse
to ``r_j`` (r in 1/ms, as in the MATLAB, so φ is in the MATLAB's units). The kernel fuses 1–7 into one loop over
the neurons (z summed as each r_j is updated; the jumps of h are added after the loop, once JD is complete), then
runs 8 and 9; 9 commutes with 7–8 anyway (RLS reads only r). RLS is
:func:`snn.reservoir.kernels.force.rls_step_deferred`, bit-identical to :func:`~snn.reservoir.kernels.force.rls_step`
but with one pass over P per update.
``imin = round(learn_start_s / dt_s)``, ``icrit = round(learn_stop_s / dt_s)``; ``P(0) = p0·I`` (MATLAB
``Pinv = eye(N)*2``), ``φ(0) = 0``. ``vt = vr + 40 − b/k`` (−19.2 mV) unless given.

Weights (seeded ``np.random.default_rng(seed)``, drawn in this order): initial ``v = vr + (vpeak − vr)·U(0, 1)``
(the MATLAB draws it with an unseeded generator); ``OMEGA = G·randn(N, N)·(rand(N, N) < p) / (p·sqrt(N))``
(``OMEGA[i, j]``: from j to i; drawn in blocks of 512 rows, the normals then the uniforms of each block);
``E = Q·(2·rand(N, m) − 1)``. OMEGA is kept sparse, as per-presynaptic lists (CSR of OMEGAᵀ: ``indptr``,
``indices``, ``data``): a spike then costs ~p·N additions instead of N (10× fewer at p = 0.1, by operation
count), and the lists take ~12·p·N² bytes instead of 8·N² (4.8 MB instead of 32 MB at N = 2000), leaving the
cache to P, which dominates the run time while learning (one read and one write of its 8·N² bytes per RLS
update).

Differences from IZFORCESINE.m: the initial v is seeded; ``v ← vreset`` is an assignment (MATLAB writes
``v + (vreset − v)``, equal up to one rounding); with ``step = 1`` RLS runs every step (MATLAB's
``mod(i, 1) == 1`` never holds); ``tau_rise_s = 0`` (the MATLAB's single-exponential branch) is not offered.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from snn.checks import finite as _real
from snn.checks import integer as _int
from snn.errors import ConfigError
from snn.reservoir.kernels.force import force_run
from snn.reservoir.rls import VARIANTS

#: rows of OMEGA drawn at a time (bounds the transient memory to ~16·block·N bytes)
_BLOCK_ROWS = 512


def _positive(path: str, value: object, unit: str) -> float:
    x = _real(path, value)
    if x <= 0:
        raise ConfigError(path, value, f"must be > 0 ({unit})")
    return x


@dataclass(frozen=True)
class ForceSpec:
    """Parameters of the Izhikevich FORCE network; defaults are IZFORCESINE.m's (the paper's 5 Hz sine demo).

    ``n_neurons``: N. ``dt_s``: Euler step (seconds; 4e-5 = 0.04 ms). Izhikevich neuron: ``capacitance`` C (pF),
    ``k`` (nS/mV; MATLAB ``ff``), ``v_rest`` vr, ``v_threshold`` vt (mV; None: ``vr + 40 − b/k`` = −19.2, see
    :attr:`vt`), ``a_per_ms`` a (1/ms), ``b`` (nS), ``d`` (pA), ``v_peak``, ``v_reset`` (mV), ``bias`` (pA;
    rheobase ≈ 950).
    Synapses and r: ``tau_rise_s`` tr, ``tau_decay_s`` td (seconds). Weights: ``g`` G and ``q`` Q (pA),
    connection probability ``p``. RLS: ``p0`` (P(0) = p0·I), every ``step`` Euler steps, ``rls_variant``
    (``"nicola_clopath"``: the MATLAB's update; ``"exact"``: textbook RLS, see :mod:`snn.reservoir.rls`).
    Validated on construction (one-line :class:`ConfigError`, paths ``force.<field>``).
    """

    n_neurons: int = 2000
    dt_s: float = 4e-5
    capacitance: float = 250.0
    k: float = 2.5
    v_rest: float = -60.0
    v_threshold: float | None = None
    a_per_ms: float = 0.01
    b: float = -2.0
    d: float = 200.0
    v_peak: float = 30.0
    v_reset: float = -65.0
    bias: float = 1000.0
    tau_rise_s: float = 2e-3
    tau_decay_s: float = 20e-3
    g: float = 5e3
    q: float = 5e3
    p: float = 0.1
    p0: float = 2.0
    step: int = 20
    rls_variant: str = "nicola_clopath"

    def __post_init__(self) -> None:
        f = "force"
        _int(f"{f}.n_neurons", self.n_neurons)
        _positive(f"{f}.dt_s", self.dt_s, "seconds")
        _positive(f"{f}.capacitance", self.capacitance, "pF")
        _positive(f"{f}.k", self.k, "nS/mV")
        for name in ("v_rest", "b", "d", "v_peak", "v_reset", "bias", "g", "q"):
            _real(f"{f}.{name}", getattr(self, name))
        _positive(f"{f}.a_per_ms", self.a_per_ms, "1/ms")
        if self.v_threshold is not None:
            _real(f"{f}.v_threshold", self.v_threshold)
        if not self.v_rest < self.vt < self.v_peak:
            raise ConfigError(f"{f}.v_threshold", self.v_threshold,
                              f"must lie between v_rest {self.v_rest} and v_peak {self.v_peak} (mV), "
                              f"and so must v_rest + 40 - b/k when None")
        if self.v_reset >= self.v_peak:
            raise ConfigError(f"{f}.v_reset", self.v_reset, f"must be < v_peak {self.v_peak} (mV)")
        _positive(f"{f}.tau_rise_s", self.tau_rise_s, "seconds")
        _positive(f"{f}.tau_decay_s", self.tau_decay_s, "seconds")
        if not 0.0 < _real(f"{f}.p", self.p) <= 1.0:
            raise ConfigError(f"{f}.p", self.p, "must be a probability in (0, 1]")
        _positive(f"{f}.p0", self.p0, "initial diagonal of P")
        _int(f"{f}.step", self.step)
        if not isinstance(self.rls_variant, str) or self.rls_variant not in VARIANTS:
            raise ConfigError(f"{f}.rls_variant", self.rls_variant, f"must be one of {sorted(VARIANTS)}")
        for name in ("n_neurons", "step"):
            object.__setattr__(self, name, int(getattr(self, name)))
        if self.v_threshold is not None:
            object.__setattr__(self, "v_threshold", float(self.v_threshold))
        for name in ("dt_s", "capacitance", "k", "v_rest", "a_per_ms", "b", "d", "v_peak", "v_reset",
                     "bias", "tau_rise_s", "tau_decay_s", "g", "q", "p", "p0"):
            object.__setattr__(self, name, float(getattr(self, name)))

    @property
    def vt(self) -> float:
        """The threshold used (mV): ``v_threshold``, or the MATLAB's ``vr + 40 − b/k`` when it is None (kept
        None in the field so that ``dataclasses.replace`` of ``b`` or ``k`` moves it)."""
        if self.v_threshold is None:
            return self.v_rest + 40 - (self.b / self.k)
        return float(self.v_threshold)

    @property
    def dt_ms(self) -> float:
        """Euler step in ms (the kernel's unit)."""
        return self.dt_s * 1e3

    def n_steps(self, duration_s: float) -> int:
        """Number of Euler steps in ``duration_s`` seconds (MATLAB ``nt = round(T/dt)``)."""
        return int(round(duration_s / self.dt_s))

    def kernel_params(self) -> np.ndarray:
        """The kernel's ``params`` vector in ms, mV, pA, pF (see :func:`snn.reservoir.kernels.force.force_run`)."""
        dt, tr, td = self.dt_ms, self.tau_rise_s * 1e3, self.tau_decay_s * 1e3
        return np.array([dt, self.capacitance, self.k, self.v_rest, self.vt, self.a_per_ms, self.b, self.d,
                         self.v_peak, self.v_reset, self.bias, math.exp(-dt / tr), math.exp(-dt / td), tr * td])


@dataclass(frozen=True)
class ForceWeights:
    """The seeded random part of a network: initial ``v0`` (N,) in mV, OMEGA as per-presynaptic CSR lists
    (``indptr`` (N+1,), ``indices`` postsynaptic neurons, ``data`` weights in pA; row j = column j of OMEGA),
    encoders ``enc`` E (N, m) in pA."""

    v0: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    enc: np.ndarray

    def omega_dense(self) -> np.ndarray:
        """OMEGA as a dense (N, N) array, ``OMEGA[i, j]`` the weight from j to i (8·N² bytes)."""
        n = self.v0.shape[0]
        out = np.zeros((n, n))
        pre = np.repeat(np.arange(n), np.diff(self.indptr))
        out[self.indices, pre] = self.data
        return out


def force_weights(spec: ForceSpec, seed: int, n_outputs: int = 1) -> ForceWeights:
    """Draw v0, OMEGA and E with ``np.random.default_rng(seed)`` (order and formulas: module docstring).

    OMEGA is drawn in blocks of rows (normals, then uniforms, per block), so the stream depends on ``N`` only.
    """
    seed = _int("force.seed", seed, 0)
    m = _int("force.n_outputs", n_outputs)
    n, p = spec.n_neurons, spec.p
    rng = np.random.default_rng(seed)
    v0 = spec.v_rest + (spec.v_peak - spec.v_rest) * rng.random(n)
    scale = p * math.sqrt(n)
    rows, cols, vals = [], [], []
    for start in range(0, n, _BLOCK_ROWS):
        stop = min(n, start + _BLOCK_ROWS)
        normal = rng.standard_normal((stop - start, n))
        mask = rng.random((stop - start, n)) < p
        i, j = np.nonzero(mask)
        rows.append(i + start)
        cols.append(j)
        vals.append((spec.g * normal[i, j]) / scale)  # MATLAB: G*(randn).*(rand<p)/(p*sqrt(N))
    post = np.concatenate(rows)
    pre = np.concatenate(cols)
    data = np.concatenate(vals)
    order = np.argsort(pre, kind="stable")  # by presynaptic neuron, postsynaptic ascending within
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(pre, minlength=n), out=indptr[1:])
    enc = (2 * rng.random((n, m)) - 1) * spec.q
    return ForceWeights(v0=v0, indptr=indptr, indices=post[order].astype(np.int64), data=data[order], enc=enc)


def sine_target(duration_s: float, dt_s: float = 4e-5, freq_hz: float = 5.0, amplitude: float = 1.0) -> np.ndarray:
    """The paper's supervisor ``amplitude·sin(2π f t)`` at ``t = (s + 1)·dt_s``, s = 0 … round(duration/dt) − 1
    (MATLAB ``zx = sin(2*5*pi*(1:nt)*dt/1000)``); seconds and Hz."""
    duration_s = _positive("force.duration_s", duration_s, "seconds")
    dt_s = _positive("force.dt_s", dt_s, "seconds")
    freq_hz = _real("force.freq_hz", freq_hz)
    amplitude = _real("force.amplitude", amplitude)
    n = int(round(duration_s / dt_s))
    if n < 1:
        raise ConfigError("force.duration_s", duration_s, f"must be at least one step ({dt_s} s)")
    return amplitude * np.sin(2 * math.pi * freq_hz * (np.arange(1, n + 1) * dt_s))


@dataclass(frozen=True)
class ForceResult:
    """Outcome of :func:`run_force`. Arrays per Euler step s are at time ``times_s[s] = (s + 1)·dt_s``.

    ``z`` (T, m): readout (before that step's RLS update); ``target`` (T, m); ``error = z − target``;
    ``spikes_per_step`` (T,); ``spike_counts`` (N,) over the whole run; ``phi`` (N, m) final decoder;
    ``n_rls_updates``; ``learn_steps`` (first, last) 0-based steps with an RLS update (None if none);
    ``dt_s``; ``sim_s`` = T·dt_s; ``wall_s``: wall time of the kernel call (state set-up and a possible numba
    compilation excluded); ``build_s``: wall time of drawing the weights and setting up the state (P included);
    ``n_neurons``.
    """

    z: np.ndarray
    target: np.ndarray
    error: np.ndarray
    spikes_per_step: np.ndarray
    spike_counts: np.ndarray
    phi: np.ndarray
    n_rls_updates: int
    learn_steps: tuple[int, int] | None
    dt_s: float
    sim_s: float
    wall_s: float
    build_s: float
    n_neurons: int

    @property
    def times_s(self) -> np.ndarray:
        return np.arange(1, self.z.shape[0] + 1) * self.dt_s

    def _window(self, start_s: float, stop_s: float) -> slice:
        lo = int(round(start_s / self.dt_s))
        hi = min(int(round(stop_s / self.dt_s)), self.z.shape[0])
        if not 0 <= lo < hi:
            raise ConfigError("force.window", (start_s, stop_s), f"must hold at least one step of 0..{self.sim_s} s")
        return slice(lo, hi)

    def rmse(self, start_s: float, stop_s: float) -> float:
        """Root mean square of ``z − target`` over steps with ``start_s < t ≤ stop_s`` (all outputs)."""
        return float(np.sqrt(np.mean(self.error[self._window(start_s, stop_s)] ** 2)))

    def correlation(self, start_s: float, stop_s: float, output: int = 0) -> float:
        """Pearson correlation of ``z`` and ``target`` (one output) over ``start_s < t ≤ stop_s`` (nan if either
        is constant there)."""
        w = self._window(start_s, stop_s)
        a, b = self.z[w, output], self.target[w, output]
        if a.std() == 0 or b.std() == 0:
            return float("nan")
        return float(np.corrcoef(a, b)[0, 1])

    def rate_hz(self, start_s: float, stop_s: float) -> float:
        """Mean firing rate per neuron (Hz) over ``start_s < t ≤ stop_s``."""
        w = self._window(start_s, stop_s)
        steps = w.stop - w.start
        return float(self.spikes_per_step[w].sum() / (self.n_neurons * steps * self.dt_s))


def _target_array(spec: ForceSpec, target: np.ndarray | Callable, duration_s: float | None) -> np.ndarray:
    if callable(target):
        if duration_s is None:
            raise ConfigError("force.duration_s", duration_s, "must be given (seconds) when the target is a callable")
        n = spec.n_steps(_positive("force.duration_s", duration_s, "seconds"))
        if n < 1:
            raise ConfigError("force.duration_s", duration_s, f"must be at least one step ({spec.dt_s} s)")
        try:
            values = target(np.arange(1, n + 1) * spec.dt_s)
        except Exception as exc:  # a user callable may raise anything; report it on one line
            raise ConfigError("force.target", target, f"calling it on the step times failed: {exc!r}") from None
    else:
        values = target
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError("force.target", values, "must be finite numbers of shape (steps,) or (steps, m)") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1 or not np.all(np.isfinite(arr)):
        raise ConfigError("force.target", values, "must be finite numbers of shape (steps,) or (steps, m)")
    if duration_s is not None and not callable(target) and arr.shape[0] != spec.n_steps(duration_s):
        raise ConfigError("force.target", values, f"must have round(duration_s / dt_s) = {spec.n_steps(duration_s)} "
                          "rows")
    return np.ascontiguousarray(arr)


def run_force(spec: ForceSpec, target: np.ndarray | Callable, seed: int = 0, learn_start_s: float = 5.0,
              learn_stop_s: float = 10.0, duration_s: float | None = None) -> ForceResult:
    """Simulate the network of ``spec`` on ``target`` with RLS between ``learn_start_s`` and ``learn_stop_s``.

    ``target``: the supervisor sampled at the step times ``(s + 1)·dt_s``, shape (T,) or (T, m) (T steps are
    simulated); or a callable ``f(times_s) -> (T,) or (T, m)``, sampled here on ``round(duration_s / dt_s)`` steps.
    ``seed``: the weights' and initial state's generator (:func:`force_weights`). Times in seconds. RLS runs on
    the 0-based steps s with ``s % step == 0`` and ``imin < s + 1 < icrit`` (``imin = round(learn_start_s /
    dt_s)``, ``icrit = round(learn_stop_s / dt_s)``), so ``learn_stop_s <= learn_start_s`` means no learning.
    The whole time loop, RLS included, is one numba call (:func:`snn.reservoir.kernels.force.force_run`).
    """
    if not isinstance(spec, ForceSpec):
        raise ConfigError("force.spec", spec, "must be a ForceSpec")
    seed = _int("force.seed", seed, 0)
    start = _real("force.learn_start_s", learn_start_s)
    stop = _real("force.learn_stop_s", learn_stop_s)
    if start < 0:
        raise ConfigError("force.learn_start_s", learn_start_s, "must be >= 0 (seconds)")
    if stop < 0:
        raise ConfigError("force.learn_stop_s", learn_stop_s, "must be >= 0 (seconds)")
    tgt = _target_array(spec, target, duration_s)
    n, m, steps = spec.n_neurons, tgt.shape[1], tgt.shape[0]
    t_build = time.perf_counter()
    w = force_weights(spec, seed, m)
    imin, icrit = int(round(start / spec.dt_s)), int(round(stop / spec.dt_s))
    v = w.v0.copy()
    u = np.zeros(n)
    ipsc, h, r, hr = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    z = np.zeros(m)
    phi = np.zeros((n, m))
    P = np.eye(n) * spec.p0
    z_out = np.empty((steps, m))
    spikes_per_step = np.zeros(steps, np.int32)
    spike_counts = np.zeros(n, np.int64)
    build_s = time.perf_counter() - t_build
    _compile(tgt.shape[1])
    t0 = time.perf_counter()
    n_up = force_run(v, u, ipsc, h, r, hr, z, phi, P, w.indptr, w.indices, w.data, w.enc, tgt, spec.kernel_params(),
                     imin, icrit, spec.step, VARIANTS[spec.rls_variant], z_out, spikes_per_step, spike_counts)
    wall = time.perf_counter() - t0
    learned = _learn_bounds(imin, icrit, spec.step, steps)
    return ForceResult(z=z_out, target=tgt, error=z_out - tgt, spikes_per_step=spikes_per_step,
                       spike_counts=spike_counts, phi=phi, n_rls_updates=int(n_up),
                       learn_steps=(learned[0], learned[1]) if learned else None, dt_s=spec.dt_s,
                       sim_s=steps * spec.dt_s, wall_s=wall, build_s=build_s, n_neurons=n)


def _compile(m: int) -> None:
    """Run the kernel once on a 2-neuron, 2-step network with m outputs, so that numba's compilation (or loading
    from its cache) is not counted in ``wall_s``."""
    n = 2
    force_run(np.full(n, -60.0), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(m),
              np.zeros((n, m)), np.eye(n), np.zeros(n + 1, np.int64), np.zeros(0, np.int64), np.zeros(0),
              np.zeros((n, m)), np.zeros((2, m)), ForceSpec(n_neurons=n).kernel_params(), 0, 3, 1, 0,
              np.empty((2, m)), np.zeros(2, np.int32), np.zeros(n, np.int64))


def _learn_bounds(imin: int, icrit: int, step: int, steps: int) -> list[int]:
    """First and last 0-based step with an RLS update (empty if none): s % step == 0, imin < s + 1 < icrit."""
    lo = max(imin, 0)  # s + 1 > imin  <=>  s >= imin
    first = lo + (-lo) % step
    last_allowed = min(icrit - 2, steps - 1)  # s + 1 < icrit  <=>  s <= icrit - 2
    if first > last_allowed:
        return []
    return [first, last_allowed - last_allowed % step]
