"""What a network *is*: frozen, engine-independent descriptions (see :mod:`snn.model.network`)."""

from snn.model.analog import AnalogRead
from snn.model.connectivity import Connectivity
from snn.model.network import (
    EVENT_DTYPE,
    EventStreamInput,
    Network,
    NoiseCurrent,
    Normal,
    PoissonInput,
    Population,
    Projection,
    RateMonitor,
    SpikeMonitor,
    SpikeTimesInput,
    StateMonitor,
    Uniform,
    WeightMonitor,
)
from snn.model.neurons import IF, LI, LIF, MODELS, AdaptiveLIF, ConductanceLIF, Izhikevich, NeuronModel
from snn.model.plasticity import STDP, TripletSTDP, TsodyksMarkram

__all__ = [
    "EVENT_DTYPE", "AnalogRead", "IF", "LI", "LIF", "MODELS", "AdaptiveLIF", "Connectivity", "EventStreamInput",
    "Izhikevich", "Network", "NeuronModel", "NoiseCurrent", "Normal", "PoissonInput", "Population", "Projection",
    "RateMonitor", "SpikeMonitor", "SpikeTimesInput", "StateMonitor", "Uniform", "WeightMonitor", "ConductanceLIF",
    "STDP", "TripletSTDP", "TsodyksMarkram",
]
