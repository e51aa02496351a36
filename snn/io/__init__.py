"""Reading and writing: recordings (HDF5) and network configs (TOML)."""

from snn.io.hdf5 import HDF5Sink, load_recording, save_recording

__all__ = ["HDF5Sink", "load_recording", "save_recording"]
