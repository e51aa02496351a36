"""numba kernels of the engine. They take arrays and scalars only, never descriptions or configs.

- :mod:`.neurons`: clock-driven state update + threshold + reset, one function per model family;
- :mod:`.delivery`: event-driven spike delivery through CSR rows, direct or through the delay ring buffer;
- :mod:`.sources`: Poisson and explicit-time spike sources;
- :mod:`.loop`: the step loop over a chunk of time for a batch of trials (parallel over trials).
"""
