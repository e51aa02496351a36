"""How a network runs: ``Simulator(network).run(...)`` → :class:`Recording`."""

from snn.engine.compile import linear_step
from snn.engine.recording import MemorySink, Recording, RunInfo, Sink, SpikeTrains
from snn.engine.simulator import Simulator, simulate, trial_seeds

__all__ = ["MemorySink", "Recording", "RunInfo", "Simulator", "Sink", "SpikeTrains", "linear_step", "simulate",
           "trial_seeds"]
