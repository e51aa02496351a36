"""snn-hal: spiking networks in numba, continual learning, and a hardware abstraction layer.

Layers: :mod:`snn.model` (what a network is) → :mod:`snn.connect` (connectivity builders) →
:mod:`snn.engine` (how it runs) → :mod:`snn.io` (HDF5 recordings, TOML configs) → :mod:`snn.cli`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("snn-hal")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0.dev0"

from snn import connect  # noqa: E402
from snn.engine import Recording, Simulator, simulate  # noqa: E402

__all__ = ["Recording", "Simulator", "__version__", "connect", "simulate"]
