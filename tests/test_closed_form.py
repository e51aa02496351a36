"""Single-neuron dynamics against closed-form solutions.

Every expected value below is computed from an analytic solution (stated next to it), never from the engine.

Schedule used throughout (see ``snn.engine.kernels.loop``): the state sampled by a StateMonitor at step k is the
state at time k·dt, *before* the update of step k; the update of step k produces v((k+1)·dt), the threshold is
checked on that value and a spike it causes is recorded with step k; spikes emitted in step s through a synapse
with delay d are delivered at the end of step s + d, so their effect is first visible in the sample of step
s + d + 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from snn.engine import Simulator
from snn.model import (
    IF,
    LI,
    LIF,
    AdaptiveLIF,
    Connectivity,
    Izhikevich,
    Network,
    Population,
    Projection,
    SpikeMonitor,
    SpikeTimesInput,
    StateMonitor,
)

DT = 1e-4


def _one_to_one(n: int) -> Connectivity:
    return Connectivity(n, n, np.arange(n + 1), np.arange(n))


def _run(net: Network, n_steps: int, dtype: str = "float64", trials: int = 1):
    rec = Simulator(net, dtype=dtype).run(duration=n_steps * net.dt, trials=trials, seed=0)
    assert rec.n_steps == n_steps
    return rec


def _assert_fraction_safe(x: float) -> None:
    """Guard for step predictions: t*/dt must not sit on an integer (rounding could move it either way)."""
    frac = x - math.floor(x)
    assert 0.02 < frac < 0.98, f"badly chosen parameters: t*/dt = {x} is too close to an integer"


# --- LIF under a constant current ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 3e-5)])
def test_lif_membrane_relaxes_exponentially_under_constant_current(dtype, rtol):
    """tau_m dv/dt = v_rest - v + r·bias  =>  v(t) = v_inf + (v0 - v_inf) exp(-t/tau_m), v_inf = v_rest + r·bias.

    Three neurons with different (tau_m, r, bias, v0) as per-neuron arrays; threshold far above v_inf.
    float32 tolerance: rounding e^{-dt/tau_m} to float32 (relative 2^-24 = 6e-8) moves the fixed point of
    v' = lin + e_m v by about 2^-24 · tau_m/dt (= 500 for tau_m = 50 ms), i.e. up to ~3e-5 relative (measured 1.1e-5).
    """
    tau_m = np.array([20e-3, 7e-3, 50e-3])
    r = np.array([1.0, 2.5, 0.5])
    bias = np.array([10.0, -4.0, 30.0])
    v_rest = -65.0
    v0 = np.array([-70.0, -50.0, -65.0])
    model = LIF(tau_m=tau_m, v_rest=v_rest, r=r, bias=bias, v_threshold=1e6)
    net = Network(dt=DT, populations=[Population("p", 3, model, {"v": v0})],
                  monitors=[StateMonitor("p", ("v",)), SpikeMonitor("p")])
    n = 2000
    rec = _run(net, n, dtype)
    v = rec.states["p"]["v"][0]  # (steps, neurons)
    assert v.shape == (n, 3)
    assert v.dtype == np.dtype(dtype)
    t = np.arange(n)[:, None] * DT
    v_inf = v_rest + r * bias
    expected = v_inf + (v0 - v_inf) * np.exp(-t / tau_m)
    np.testing.assert_allclose(v, expected, rtol=rtol, atol=0)
    assert len(rec.spikes["p"]) == 0


def test_lif_first_spike_and_regular_period_match_closed_form():
    """Time to threshold from v0 under constant current: t* = tau_m ln((v_inf - v0) / (v_inf - v_th)).

    v((k+1)·dt) is produced in step k, so the first spike is in the first step k with (k+1)·dt > t*, i.e.
    k = ceil(t*/dt) - 1 = floor(t*/dt) (t*/dt not an integer).

    After a spike in step s (v = v_reset, held while t - s < ref_steps, ref_steps = round(t_ref/dt)), v is
    integrated again from step s + max(ref_steps, 1) on; threshold is passed after m = floor(t_r/dt) + 1
    updates, t_r = tau_m ln((v_inf - v_reset) / (v_inf - v_th)). So the period is
    max(ref_steps, 1) - 1 + floor(t_r/dt) + 1 steps.
    """
    tau_m, v_rest, v_th, v_reset = 20e-3, -65.0, -50.0, -60.0
    bias = np.array([16.3, 20.0, 35.0, 60.0, 16.3, 20.0, 35.0, 60.0])
    t_ref = np.array([0.0, 0.0, 0.0, 0.0, 2e-3, 2e-3, 3.3e-3, 1e-4])
    v0 = -65.0
    model = LIF(tau_m=tau_m, v_rest=v_rest, v_threshold=v_th, v_reset=v_reset, t_ref=t_ref, bias=bias)
    net = Network(dt=DT, populations=[Population("p", bias.size, model, {"v": v0})], monitors=[SpikeMonitor("p")])
    n = 6000
    rec = _run(net, n)
    neuron, step = rec.spikes["p"].of_trial(0)
    v_inf = v_rest + bias
    for i in range(bias.size):
        x_first = tau_m * math.log((v_inf[i] - v0) / (v_inf[i] - v_th)) / DT
        x_period = tau_m * math.log((v_inf[i] - v_reset) / (v_inf[i] - v_th)) / DT
        _assert_fraction_safe(x_first)
        _assert_fraction_safe(x_period)
        ref_steps = round(t_ref[i] / DT)
        first = math.floor(x_first)
        period = max(ref_steps, 1) - 1 + math.floor(x_period) + 1
        expected = np.arange(first, n, period)
        got = step[neuron == i]
        assert got.size >= 10, f"neuron {i}: too few spikes to check the period"
        np.testing.assert_array_equal(got, expected, err_msg=f"neuron {i} (bias {bias[i]}, t_ref {t_ref[i]})")


def test_lif_reset_by_subtraction_keeps_the_overshoot():
    """reset="subtract": v -= v_th - v_reset. With t_ref = 0, the neuron fires at the first step whose update
    passes v_th, and the new start value is v_th_crossing_value - (v_th - v_reset). Checked by replaying the
    closed-form one-step map v' = v_inf + (v - v_inf) e^{-dt/tau_m} in numpy (exact propagator)."""
    tau_m, v_rest, v_th, v_reset, bias = 10e-3, 0.0, 1.0, 0.0, 3.0
    model = LIF(tau_m=tau_m, v_rest=v_rest, v_threshold=v_th, v_reset=v_reset, t_ref=0.0, bias=bias, reset="subtract")
    net = Network(dt=DT, populations=[Population("p", 1, model)], monitors=[SpikeMonitor("p"), StateMonitor("p")])
    n = 3000
    rec = _run(net, n)
    em = math.exp(-DT / tau_m)
    v, ref_v, ref_steps = v_rest, [], []
    for k in range(n):
        ref_v.append(v)
        v = v_rest + bias + (v - v_rest - bias) * em
        if v > v_th:
            v -= v_th - v_reset
            ref_steps.append(k)
    np.testing.assert_allclose(rec.states["p"]["v"][0, :, 0], ref_v, rtol=0, atol=1e-11)
    np.testing.assert_array_equal(rec.spikes["p"].step, ref_steps)
    assert len(ref_steps) > 20


# --- exponential synaptic current and delays --------------------------------------------------------------


@pytest.mark.parametrize("target", ["exc", "inh"])
@pytest.mark.parametrize("delay", [0, 1, 7])
def test_exponential_synapse_current_and_psp(target, delay):
    """One input spike of weight w emitted in step s, delay d: arrives at the end of step s + d.

    With j = k - (s + d + 1) >= 0 steps after the first sample that sees it (r = 1):
      i(k·dt) = w exp(-j·dt/tau_s),
      v(k·dt) = v_rest + w tau_s / (tau_s - tau_m) (exp(-j·dt/tau_s) - exp(-j·dt/tau_m)),
    and before that i = 0, v = v_rest exactly.
    """
    tau_m, v_rest, w, s = 20e-3, -65.0, 3.0 if target == "exc" else -2.0, 10
    tau_s = 5e-3 if target == "exc" else 12e-3
    model = LIF(tau_m=tau_m, v_rest=v_rest, v_threshold=1e6, tau_syn_exc=5e-3, tau_syn_inh=12e-3)
    var = "i_exc" if target == "exc" else "i_inh"
    other = "i_inh" if target == "exc" else "i_exc"
    net = Network(
        dt=DT,
        populations=[Population("p", 1, model)],
        inputs=[SpikeTimesInput("in", 1, times=[s * DT], indices=[0])],
        projections=[Projection("in", "p", _one_to_one(1), weights=w, delays=delay, target=target)],
        monitors=[StateMonitor("p", ("v", "i_exc", "i_inh")), SpikeMonitor("in")],
    )
    n = 1500
    rec = _run(net, n)
    np.testing.assert_array_equal(rec.spikes["in"].step, [s])
    i = rec.states["p"][var][0, :, 0]
    v = rec.states["p"]["v"][0, :, 0]
    first = s + delay + 1
    np.testing.assert_array_equal(i[:first], 0.0)
    np.testing.assert_array_equal(v[:first], v_rest)
    np.testing.assert_array_equal(rec.states["p"][other][0, :, 0], 0.0)
    j = np.arange(n - first) * DT
    np.testing.assert_allclose(i[first:], w * np.exp(-j / tau_s), rtol=1e-12, atol=1e-14)
    psp = w * tau_s / (tau_s - tau_m) * (np.exp(-j / tau_s) - np.exp(-j / tau_m))
    # v is stored in absolute terms (|v| ~ 65 mV): 1500 roundings of ~65·2^-53 each bound the error by ~1e-11
    np.testing.assert_allclose(v[first:] - v_rest, psp, rtol=0, atol=1e-10)
    # the PSP peaks at t_peak = tau_s tau_m / (tau_m - tau_s) ln(tau_m / tau_s)
    t_peak = tau_s * tau_m / (tau_m - tau_s) * math.log(tau_m / tau_s)
    k_peak = int(np.argmax(np.abs(v - v_rest)))
    assert abs((k_peak - first) * DT - t_peak) <= DT


def test_delta_synapse_moves_v_by_exactly_w_then_decays():
    """target "delta": a spike of weight w adds w to v at the end of its arrival step s + d, so the sample of step
    s + d + 1 is v_rest + w exactly (v was v_rest), then v(k) = v_rest + w exp(-(k - s - d - 1)·dt/tau_m)."""
    tau_m, v_rest, w, s, d = 15e-3, -65.0, 0.5, 20, 4
    model = LIF(tau_m=tau_m, v_rest=v_rest, v_threshold=1e6)
    net = Network(
        dt=DT,
        populations=[Population("p", 2, model)],
        inputs=[SpikeTimesInput("in", 2, times=[s * DT], indices=[1])],
        projections=[Projection("in", "p", _one_to_one(2), weights=w, delays=d, target="delta")],
        monitors=[StateMonitor("p", ("v", "i_exc", "i_inh"))],
    )
    n = 600
    rec = _run(net, n)
    v = rec.states["p"]["v"][0]
    first = s + d + 1
    np.testing.assert_array_equal(v[:, 0], v_rest)  # neuron 0 gets nothing
    np.testing.assert_array_equal(v[:first, 1], v_rest)
    assert v[first, 1] - v[first - 1, 1] == w
    j = np.arange(n - first) * DT
    np.testing.assert_allclose(v[first:, 1], v_rest + w * np.exp(-j / tau_m), rtol=1e-13)
    np.testing.assert_array_equal(rec.states["p"]["i_exc"][0], 0.0)
    np.testing.assert_array_equal(rec.states["p"]["i_inh"][0], 0.0)


# --- IF and LI -----------------------------------------------------------------------------------------------


def test_if_integrates_a_constant_current_linearly():
    """IF: tau_m dv/dt = r·bias  =>  v(t) = v0 + r·bias·t/tau_m (no leak)."""
    tau_m = np.array([10e-3, 4e-3])
    r = np.array([1.5, 1.0])
    bias = np.array([3.0, -0.7])
    v0 = np.array([0.25, 2.0])
    model = IF(tau_m=tau_m, r=r, bias=bias, v_threshold=1e6)
    net = Network(dt=DT, populations=[Population("p", 2, model, {"v": v0})],
                  monitors=[StateMonitor("p"), SpikeMonitor("p")])
    n = 2000
    rec = _run(net, n)
    t = np.arange(n)[:, None] * DT
    np.testing.assert_allclose(rec.states["p"]["v"][0], v0 + r * bias * t / tau_m, rtol=1e-12, atol=1e-12)
    assert len(rec.spikes["p"]) == 0


def test_if_fires_every_ceil_steps():
    """IF with v_reset = 0, v_th = 1, t_ref = 0: v after m updates is m·r·bias·dt/tau_m, so it spikes after
    m = floor(tau_m·v_th / (r·bias·dt)) + 1 updates (strict >), period m, first spike in step m - 1."""
    tau_m, bias = 10e-3, 3.7
    model = IF(tau_m=tau_m, bias=bias, v_threshold=1.0, v_reset=0.0, t_ref=0.0)
    net = Network(dt=DT, populations=[Population("p", 1, model)], monitors=[SpikeMonitor("p")])
    n = 3000
    rec = _run(net, n)
    x = tau_m * 1.0 / (bias * DT)
    _assert_fraction_safe(x)
    m = math.floor(x) + 1
    np.testing.assert_array_equal(rec.spikes["p"].step, np.arange(m - 1, n, m))


def test_li_never_spikes_and_relaxes_like_lif():
    """LI: same membrane equation as LIF, no threshold: v(t) = v_inf + (v0 - v_inf) exp(-t/tau_m) even far above
    any LIF threshold."""
    tau_m, v_rest, bias, v0 = 8e-3, 0.0, 500.0, -3.0
    net = Network(dt=DT, populations=[Population("p", 1, LI(tau_m=tau_m, v_rest=v_rest, bias=bias), {"v": v0})],
                  monitors=[StateMonitor("p"), SpikeMonitor("p")])
    n = 1000
    rec = _run(net, n)
    t = np.arange(n) * DT
    v_inf = v_rest + bias
    np.testing.assert_allclose(rec.states["p"]["v"][0, :, 0], v_inf + (v0 - v_inf) * np.exp(-t / tau_m), rtol=1e-12)
    assert len(rec.spikes["p"]) == 0
    assert rec.spike_counts["p"].sum() == 0


# --- adaptive LIF ----------------------------------------------------------------------------------------------


def test_adaptive_lif_adaptation_current_jumps_decays_and_slows_firing():
    """w decays as w(t) = w(t0) exp(-(t - t0)/tau_adapt) between spikes and jumps by adapt_jump at each spike:
    the sample after a spike in step s is w(s+1) = w(s) e^{-dt/tau_adapt} + adapt_jump. Since w is subtracted
    from the input, inter-spike intervals lengthen (spike-frequency adaptation)."""
    tau_adapt, jump = 100e-3, 2.0
    model = AdaptiveLIF(tau_m=20e-3, v_rest=-65.0, v_threshold=-50.0, v_reset=-65.0, t_ref=2e-3, bias=25.0,
                        tau_adapt=tau_adapt, adapt_jump=jump)
    net = Network(dt=DT, populations=[Population("p", 1, model)],
                  monitors=[StateMonitor("p", ("v", "w")), SpikeMonitor("p")])
    n = 5000
    rec = _run(net, n)
    w = rec.states["p"]["w"][0, :, 0]
    spikes = rec.spikes["p"].step
    assert spikes.size >= 6
    dw = math.exp(-DT / tau_adapt)
    np.testing.assert_array_equal(w[: spikes[0] + 1], 0.0)
    is_spike = np.zeros(n, bool)
    is_spike[spikes] = True
    expected_next = w[:-1] * dw + np.where(is_spike[:-1], jump, 0.0)
    np.testing.assert_allclose(w[1:], expected_next, rtol=1e-13, atol=0)
    # closed form between consecutive spikes: w(s + 1 + j) = w(s + 1) exp(-j·dt/tau_adapt)
    for a, b in zip(spikes[:-1], spikes[1:]):
        j = np.arange(b - a) * DT
        np.testing.assert_allclose(w[a + 1: b + 1], w[a + 1] * np.exp(-j / tau_adapt), rtol=1e-12)
    isi = np.diff(spikes)
    assert np.all(np.diff(isi) >= 0), f"intervals should not shorten: {isi}"
    assert isi[-1] > isi[0] * 1.3, f"no visible adaptation: {isi}"


def test_adaptive_lif_with_zero_jump_is_plain_lif():
    """adapt_jump = 0 keeps w = 0, so the spike train equals an LIF's (same exact propagator)."""
    common = dict(tau_m=20e-3, v_rest=-65.0, v_threshold=-50.0, v_reset=-65.0, t_ref=2e-3, bias=25.0)
    trains = []
    for model in (LIF(**common), AdaptiveLIF(adapt_jump=0.0, **common)):
        net = Network(dt=DT, populations=[Population("p", 1, model)], monitors=[SpikeMonitor("p")])
        trains.append(_run(net, 3000).spikes["p"].step)
    assert trains[0].size > 5
    np.testing.assert_array_equal(trains[0], trains[1])


# --- Izhikevich -----------------------------------------------------------------------------------------------


def _izhikevich_reference(a, b, c, d, v_peak, bias, dt, n):
    """Forward Euler in the kernel's documented operation order (I = (i_exc + i_inh) + bias, no synapses):
    u' = (dt/ms · (a·((b·v) - u))) + u;  v' = (dt/ms · ((140 + ((I + (0.04·(v·v))) + (5·v))) - u)) + v;
    spike if v' >= v_peak: v' = c, u' += d. Python floats are IEEE doubles, so this is bit-exact."""
    dtms = dt / 0.001
    v = c
    u = b * v
    vs, us, spikes = [], [], []
    current = (0.0 + 0.0) + bias
    for k in range(n):
        vs.append(v)
        us.append(u)
        u_new = (dtms * (a * ((b * v) - u))) + u
        v_new = (dtms * ((140.0 + ((current + (0.04 * (v * v))) + (5.0 * v))) - u)) + v
        v, u = v_new, u_new
        if v >= v_peak:
            v = c
            u = u + d
            spikes.append(k)
    return np.array(vs), np.array(us), np.array(spikes, np.int64)


def test_izhikevich_matches_numpy_forward_euler_bit_for_bit():
    """Regular spiking, chattering and fast spiking (Izhikevich 2003 parameters), each with its own bias."""
    a = np.array([0.02, 0.02, 0.1])
    b = np.array([0.2, 0.2, 0.2])
    c = np.array([-65.0, -50.0, -65.0])
    d = np.array([8.0, 2.0, 2.0])
    bias = np.array([10.0, 10.0, 7.5])
    model = Izhikevich(a=a, b=b, c=c, d=d, bias=bias)
    net = Network(dt=DT, populations=[Population("p", 3, model)],
                  monitors=[StateMonitor("p", ("v", "u")), SpikeMonitor("p")])
    n = 5000
    rec = _run(net, n)
    neuron, step = rec.spikes["p"].of_trial(0)
    for i in range(3):
        ref_v, ref_u, ref_spikes = _izhikevich_reference(a[i], b[i], c[i], d[i], 30.0, bias[i], DT, n)
        assert ref_spikes.size >= 5
        np.testing.assert_array_equal(rec.states["p"]["v"][0, :, i], ref_v)
        np.testing.assert_array_equal(rec.states["p"]["u"][0, :, i], ref_u)
        np.testing.assert_array_equal(step[neuron == i], ref_spikes)


def test_izhikevich_homogeneous_population_uses_the_same_arithmetic():
    """Scalar parameters take the engine's homogeneous (scalar-coefficient) path; results must not change."""
    net = Network(dt=DT, populations=[Population("p", 2, Izhikevich(bias=10.0))],
                  monitors=[StateMonitor("p", ("v", "u")), SpikeMonitor("p")])
    n = 3000
    rec = _run(net, n)
    ref_v, ref_u, ref_spikes = _izhikevich_reference(0.02, 0.2, -65.0, 8.0, 30.0, 10.0, DT, n)
    for i in range(2):
        np.testing.assert_array_equal(rec.states["p"]["v"][0, :, i], ref_v)
        np.testing.assert_array_equal(rec.states["p"]["u"][0, :, i], ref_u)
    neuron, step = rec.spikes["p"].of_trial(0)
    np.testing.assert_array_equal(step[neuron == 0], ref_spikes)
