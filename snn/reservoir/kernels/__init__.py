"""Numba kernels of the reservoir readouts and the FORCE network. Kernels take arrays, never dataclasses."""
