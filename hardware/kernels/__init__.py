"""Numba kernels of the hardware layer (arrays in, arrays out; no configs)."""
