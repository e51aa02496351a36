"""Spike-for-spike agreement with Brian2 (runtime numpy target, float64, identical update equations).

Reference: ``brian2_reference.py`` runs Brian2 2.x on the same plain arrays. The LIF example checks event
semantics (heterogeneous delays 0-20 steps, zero-delay synapses, refractoriness, reset, delivery order);
the Izhikevich example is chaotic (a 1e-15 perturbation changes spikes after ~370 ms), so it passes only
if every floating-point operation matches Brian2's generated code.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("brian2")

from brian2_reference import (  # noqa: E402
    make_izhikevich_example,
    make_lif_example,
    run_izhikevich_network,
    run_lif_network,
    run_lif_network_trace,
)
from engine_adapters import izhikevich_network, lif_network  # noqa: E402

from snn.engine import Simulator  # noqa: E402


def _ours(net, n_steps):
    rec = Simulator(net, dtype="float64").run(duration=n_steps * net.dt)
    assert rec.n_steps == n_steps
    neuron, step = rec.spikes["net"].of_trial(0)
    order = np.lexsort((neuron, step))
    return neuron[order].astype(np.int64), step[order], rec


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lif_network_with_heterogeneous_delays_matches_brian2_spike_for_spike(seed):
    example = make_lif_example(seed)
    ref_i, ref_step = run_lif_network(**example)
    i, step, _ = _ours(lif_network(example), example["n_steps"])
    assert ref_i.size > 200, "the example should be active enough to be a meaningful check"
    assert step.size == ref_step.size
    np.testing.assert_array_equal(step, ref_step)
    np.testing.assert_array_equal(i, ref_i)


def test_lif_membrane_trace_is_bit_identical_to_brian2():
    example = make_lif_example(0)
    record = [0, 5, 17, 42]
    _, _, ref_v = run_lif_network_trace(record=record, **example)
    _, _, rec = _ours(lif_network(example, record_v=record), example["n_steps"])
    ours = rec.states["net"]["v"][0].T  # (neurons, steps)
    np.testing.assert_array_equal(ours, ref_v)


@pytest.mark.parametrize("seed", [0, 1])
def test_izhikevich_network_500ms_matches_brian2_spike_for_spike(seed):
    """Heterogeneous RS/FS Izhikevich network, forward Euler at dt = 0.1 ms (Brian2 ``method='euler'``)."""
    example = make_izhikevich_example(seed)
    assert example["n_steps"] * example["dt"] >= 0.5
    ref_i, ref_step = run_izhikevich_network(**example)
    i, step, _ = _ours(izhikevich_network(example), example["n_steps"])
    assert ref_i.size > 1000
    if step.size != ref_step.size or np.any(step != ref_step) or np.any(i != ref_i):
        n = min(step.size, ref_step.size)
        first = int(np.argmax((step[:n] != ref_step[:n]) | (i[:n] != ref_i[:n])))
        pytest.fail(f"first differing spike #{first}: ours (n{i[first]}, step {step[first]}) vs Brian2 "
                    f"(n{ref_i[first]}, step {ref_step[first]}); counts {step.size} vs {ref_step.size}")
