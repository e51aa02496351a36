"""``Projection(read=AnalogRead(...))``: fresh read noise per delivery and one ADC conversion per step.

Expected values are closed forms: three synapses of 0.3 mV arriving in one step sum to 0.9 mV, which the ADC
rounds to the nearest multiple of its step and clips; n independent N(0, σ²) read-noise draws add to a sum of
standard deviation σ·√n (and the mean stays n·w).
"""

from __future__ import annotations

import numpy as np
import pytest

from snn.connect import all_to_all
from snn.engine import Simulator
from snn.errors import ConfigError
from snn.model import LIF, STDP, AnalogRead, Network, Population, Projection, SpikeTimesInput, StateMonitor


def _net(read: AnalogRead | None, n_in: int = 3, w: float = 0.3, delay: int | np.ndarray = 0) -> Network:
    src = SpikeTimesInput("src", n_in, times=np.full(n_in, 0.005), indices=np.arange(n_in))
    pop = Population("post", 2, LIF(tau_m=20e-3, v_rest=0.0, v_threshold=1e9, v_reset=0.0, tau_syn_exc=5e-3))
    proj = Projection("src", "post", all_to_all(n_in, 2), weights=w, delays=delay, read=read)
    return Network(populations=[pop], inputs=[src], projections=[proj], dt=1e-3,
                   monitors=[StateMonitor("post", ("i_exc",))])


def _jump(read: AnalogRead | None, trials: int = 1, **kw) -> np.ndarray:
    """i_exc at the start of step 6: the sum delivered at the end of step 5 (the spikes' step)."""
    rec = Simulator(_net(read, **kw), dtype="float64").run(0.008, trials=trials, seed=4)
    return rec.states["post"]["i_exc"][:, 6, :]


@pytest.mark.parametrize("read, expected", [
    (None, 0.9),
    (AnalogRead(), 0.9),                                # an ideal read adds the same sum
    (AnalogRead(adc_step=1.0), 1.0),                    # 0.9 -> nearest multiple of 1.0
    (AnalogRead(adc_step=0.25), 1.0),                   # 0.9 = 3.6 steps -> 4 steps
    (AnalogRead(adc_step=0.4), 0.8),                    # 0.9 = 2.25 steps -> 2 steps
    (AnalogRead(adc_step=0.25, adc_max=0.5), 0.5),      # clipped to the ADC range
])
def test_adc_converts_the_summed_step_input(read, expected):
    np.testing.assert_allclose(_jump(read), expected, rtol=0, atol=1e-12)


def test_read_noise_is_fresh_per_delivery_with_the_stated_std():
    n, w, std = 50, 0.3, 0.1
    x = _jump(AnalogRead(noise_std=std), trials=2000, n_in=n, w=w)
    # 4,000 samples of N(n w, std² n): the sample mean is within 4 standard errors, the std within 5 %
    assert abs(x.mean() - n * w) < 4 * std * np.sqrt(n) / np.sqrt(x.size)
    assert x.std() == pytest.approx(std * np.sqrt(n), rel=0.05)
    # the two neurons of one trial read different noise (fresh per synapse, not per spike)
    assert not np.allclose(x[:, 0], x[:, 1])


def test_same_seed_same_noise_and_trial_zero_equals_a_single_run():
    a = _jump(AnalogRead(noise_std=0.1), trials=4)
    b = _jump(AnalogRead(noise_std=0.1), trials=4)
    one = _jump(AnalogRead(noise_std=0.1), trials=1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:1], one)


def test_constant_delay_is_respected():
    rec = Simulator(_net(AnalogRead(adc_step=1.0), delay=2), dtype="float64").run(0.01, trials=1, seed=0)
    i = rec.states["post"]["i_exc"][0, :, 0]
    assert i[6] == 0.0 and i[8] == 1.0


@pytest.mark.parametrize("kwargs, field", [
    ({"noise_std": -0.1}, "read.noise_std"),
    ({"adc_step": float("nan")}, "read.adc_step"),
    ({"adc_max": -1.0}, "read.adc_max"),
    ({"noise_std": True}, "read.noise_std"),
])
def test_bad_read_values_are_one_line(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        AnalogRead(**kwargs)


def test_per_synapse_delays_join_the_sum_of_the_step_they_arrive_in():
    # synapses (pre, post) in CSR order: post 0 gets delays 0, 2, 2 from the three sources -> 0.3 at step 5 and
    # 0.6 at step 7; on the ADC grid of 0.5: 0.5 and 0.5 (0.6 -> 1.2 steps -> 1); post 1 gets all at step 5
    delays = np.array([0, 0, 2, 0, 2, 0])
    rec = Simulator(_net(AnalogRead(adc_step=0.5), delay=delays), dtype="float64").run(0.01, trials=1, seed=0)
    i = rec.states["post"]["i_exc"][0]
    decay = np.exp(-1e-3 / 5e-3)
    np.testing.assert_allclose(i[6], [0.5, 1.0], atol=1e-12)
    np.testing.assert_allclose(i[8, 0], 0.5 * decay**2 + 0.5, atol=1e-12)
    np.testing.assert_allclose(i[8, 1], 1.0 * decay**2, atol=1e-12)


def test_read_needs_a_static_projection():
    with pytest.raises(ConfigError, match="projections.src->post.read"):
        Projection("src", "post", all_to_all(3, 2), weights=0.3, plasticity=STDP(w_max=1.0), read=AnalogRead())
    with pytest.raises(ConfigError, match="projections.src->post.read"):
        Projection("src", "post", all_to_all(3, 2), read="noisy")
