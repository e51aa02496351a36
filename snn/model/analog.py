"""How an analog crossbar reads a projection's weights: fresh read noise per delivery, one ADC conversion per step.

A :class:`~snn.model.Projection` normally adds each delivered weight exactly. With ``read=AnalogRead(...)`` each
presynaptic spike reads its synapses as an analog crossbar row does (aihwkit's forward pass: ``w_noise`` redrawn
on every read, then the ADC digitises the column's summed current):

1. every delivered synapse adds ``w + noise_std · N(0, 1)`` (a fresh draw per synapse and delivery, from the trial's
   own random stream), into a per-step sum per postsynaptic neuron;
2. at the end of the projection's delivery in that step, each neuron's sum is rounded to the nearest multiple of
   ``adc_step`` (0: no rounding) and clipped to ``±adc_max``, then added to the synaptic current as one input.

One conversion per projection and postsynaptic neuron per step: a crossbar column whose rows come from one
projection and fit one tile converts exactly this sum; rows split across tiles are converted per tile and added
digitally, which this merges into one conversion: with k tiles the two results differ by at most (k + 1) / 2
ADC steps before clipping (each rounding is off by at most half a step). With per-synapse delays, every synapse
due in a step (whatever its delay) joins that step's sum. Only projections
without plasticity or short-term plasticity carry a read model.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from snn.errors import ConfigError


def _nonnegative(path: str, value: object, infinite_ok: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value) and value >= 0
    if not ok or (math.isinf(value) and not infinite_ok):
        raise ConfigError(path, value, "must be a finite number >= 0" if not infinite_ok else "must be a number >= 0")
    return float(value)


@dataclass(frozen=True)
class AnalogRead:
    """Read model of a projection (see the module docstring). All values in the weights' units (mV).

    ``noise_std``: standard deviation of the noise added to every delivered weight, redrawn per delivery.
    ``adc_step``: quantum of the per-step sum each postsynaptic neuron receives (0: not quantised).
    ``adc_max``: the sum is clipped to ``[-adc_max, adc_max]`` (``inf``: no clipping).
    """

    noise_std: float = 0.0
    adc_step: float = 0.0
    adc_max: float = math.inf

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise_std", _nonnegative("read.noise_std", self.noise_std))
        object.__setattr__(self, "adc_step", _nonnegative("read.adc_step", self.adc_step))
        object.__setattr__(self, "adc_max", _nonnegative("read.adc_max", self.adc_max, infinite_ok=True))

    def as_dict(self) -> dict[str, float | None]:
        """JSON-able (an infinite clip is ``None``)."""
        return {"noise_std": self.noise_std, "adc_step": self.adc_step,
                "adc_max": None if math.isinf(self.adc_max) else self.adc_max}
