"""Reservoirs and readouts.

- :mod:`snn.reservoir.lsm`: the liquid state machine of Maass, Natschläger & Markram (2002) as a network
  description (:class:`LSMSpec`, :func:`build_lsm`).
- :mod:`snn.reservoir.features`: binned spike counts and exponentially filtered traces from a recording, and
  :func:`extract_features`, which runs many event samples as one batch.
- :mod:`snn.reservoir.readout`: :class:`RidgeReadout`, closed-form ridge classifier with the regularisation
  chosen by k-fold cross-validation.
- :mod:`snn.reservoir.logistic`: :class:`LogisticReadout`, scikit-learn's multinomial logistic regression with
  ``C`` chosen the same way.
- :mod:`snn.reservoir.rls`: :class:`RLS`, recursive least squares (exact, and Nicola & Clopath's FORCE form).
- :mod:`snn.reservoir.izhikevich`: the Izhikevich (2003) 800/200 reservoir as a network description;
  :mod:`snn.reservoir.sampler`: seeded parameter-space sampling of reservoir specs.
- :mod:`snn.reservoir.three_factor`: error-modulated, gated three-factor Hebbian readout (Yamada & Chao 2025,
  reconstructed), with the what/when paradigm in :mod:`snn.reservoir.paradigm`.
- :mod:`snn.reservoir.config`, :mod:`snn.reservoir.pipeline`: ``snn reservoir CONFIG`` end to end, with the
  reservoir kinds (``"lsm"``, ``"izhikevich"``) of :mod:`snn.reservoir.kinds`; both reservoirs take their
  input synapses from :func:`snn.reservoir.inputs.channel_projection`.
- :mod:`snn.reservoir.force`: spiking FORCE learning (Nicola & Clopath 2017): :class:`ForceSpec`, :func:`run_force`.

Times in seconds; event timestamps in µs; potentials and weights in mV.
"""

from snn.reservoir.features import binned_counts, extract_features, filtered_traces, trace_series
from snn.reservoir.force import ForceResult, ForceSpec, force_weights, run_force, sine_target
from snn.reservoir.izhikevich import IzhikevichReservoirSpec, build_izhikevich_reservoir
from snn.reservoir.logistic import LogisticReadout
from snn.reservoir.lsm import (
    POPULATION,
    TYPES,
    LSMSpec,
    build_lsm,
    delay_steps,
    excitatory_mask,
    input_projection,
    reservoir_population,
    reservoir_projections,
)
from snn.reservoir.readout import RidgeReadout, ridge_fit
from snn.reservoir.rls import RLS
from snn.reservoir.sampler import Choice, LogUniformRange, UniformRange, sample_specs
from snn.reservoir.three_factor import ThreeFactorParams, ThreeFactorReadout

__all__ = [
    "POPULATION",
    "TYPES",
    "Choice",
    "ForceResult",
    "ForceSpec",
    "IzhikevichReservoirSpec",
    "LSMSpec",
    "LogUniformRange",
    "LogisticReadout",
    "RLS",
    "ThreeFactorParams",
    "ThreeFactorReadout",
    "UniformRange",
    "RidgeReadout",
    "binned_counts",
    "build_izhikevich_reservoir",
    "build_lsm",
    "delay_steps",
    "excitatory_mask",
    "extract_features",
    "filtered_traces",
    "force_weights",
    "input_projection",
    "reservoir_population",
    "reservoir_projections",
    "ridge_fit",
    "run_force",
    "sample_specs",
    "sine_target",
    "trace_series",
]
