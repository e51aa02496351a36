"""Learning of spiking networks outside the simulator's plasticity rules.

- :mod:`snn.learn.mlp`: a spiking MLP of IF neurons (numba kernels in :mod:`snn.learn.kernels`) trained with a
  rate-based local error (DSR-style).
- :mod:`snn.learn.local`: continual learning of that MLP with HLOP and the baselines (fine-tune, EWC, GPM,
  replay, joint, HLOP + replay), behind the learner protocol of :mod:`snn.continual`.
"""

from snn.learn.local import METHODS, BaselineConfig, LocalLearner
from snn.learn.mlp import Forward, MLPConfig, SpikingMLP

__all__ = ["METHODS", "BaselineConfig", "Forward", "LocalLearner", "MLPConfig", "SpikingMLP"]
