"""The engine's public API: ``Simulator(network).run(duration, trials, seed) -> Recording``."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from snn.engine.compile import compile_network, initial_state, resolve_dtype, spike_time_tables
from snn.engine.kernels import layout as L
from snn.engine.kernels.loop import run_chunk
from snn.engine.recording import MemorySink, RunInfo, Sink
from snn.errors import ConfigError
from snn.model.network import Network, RateMonitor, SpikeMonitor, StateMonitor
from snn.rng import stream_states

#: salts that keep the random streams of one seed apart
_SALT_RUN = 1


def trial_seeds(seed: int, trials: int) -> list[np.random.SeedSequence]:
    """Trial b of a batch run with ``seed`` uses child b of ``SeedSequence(seed)``; trial 0 of any batch equals
    a single-trial run with the same seed."""
    return np.random.SeedSequence(int(seed)).spawn(trials)


class Simulator:
    """Runs one network description; never changes it.

    ``dtype`` is ``"float32"`` (default) or ``"float64"`` for state and weights. Construction compiles the
    description into kernel arrays; the first run (or :meth:`warmup`) compiles the numba kernels
    (cached on disk), reported separately as ``compile_s``.
    """

    def __init__(self, network: Network, dtype: str = "float32") -> None:
        if not isinstance(network, Network):
            raise ConfigError("network", network, "must be an snn.model.Network")
        self.network = network
        self.dtype = resolve_dtype(dtype)
        t0 = time.perf_counter()
        self.compiled = compile_network(network, self.dtype)
        self.build_s = time.perf_counter() - t0
        self.compile_s = 0.0
        self._warm = False

    def memory_bytes(self) -> dict[str, int]:
        """Bytes of the engine's connectivity arrays and per-trial state (one trial)."""
        cn = self.compiled
        n = cn.n_total
        per_state = n * (4 * np.dtype(self.dtype).itemsize + 4)
        history = cn.n_slots * (self._fired_capacity(0) * 4 + (len(cn.names) + 1) * 8)
        syn = cn.synapse_bytes()
        nnz = max(self.network.n_synapses, 1)
        return {"synapses": syn, "bytes_per_synapse": syn / nnz, "state_per_trial": per_state,
                "spike_history_per_trial": history}

    def _fired_capacity(self, source_worst: int) -> int:
        """Most spikes one step can list: every neuron once, plus repeated source spikes."""
        cn = self.compiled
        n_sources = sum(int(k == L.KIND_SPIKE_TIMES) for k in cn.p_kind)
        return cn.n_total + source_worst * n_sources

    def warmup(self) -> float:
        """Compile the kernels for this dtype (a zero-step run); returns seconds spent."""
        if not self._warm:
            t0 = time.perf_counter()
            self.run(duration=0.0, trials=1, seed=0, _warming=True)
            self.compile_s = time.perf_counter() - t0
            self._warm = True
        return self.compile_s

    def run(self, duration: float, trials: int = 1, seed: int = 0, sink: Sink | None = None,
            progress: bool = False, chunk_steps: int | None = None, _warming: bool = False) -> Any:
        """Simulate ``duration`` seconds for ``trials`` independent trials, in parallel over trials.

        Every trial starts from its own initial state and random stream (see :func:`trial_seeds`).
        Returns the sink's result: a :class:`~snn.engine.recording.Recording` by default.
        """
        net = self.network
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not (duration >= 0):
            raise ConfigError("simulation.duration", duration, "must be a number of seconds >= 0")
        if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
            raise ConfigError("simulation.trials", trials, "must be an integer >= 1")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError("simulation.seed", seed, "must be an integer >= 0")
        if not _warming and not self._warm:
            self.warmup()
        trials = int(trials)
        cn = self.compiled
        n_steps = int(round(duration / net.dt))
        seqs = trial_seeds(seed, trials)
        rngs = [np.random.default_rng(s) for s in seqs]
        rng_state = np.array([stream_states(int(s.generate_state(1)[0]), 1, _SALT_RUN)[0] for s in seqs], np.uint64)
        state = initial_state(net, cn, rngs)
        st_ptr, st_idx, st_worst = spike_time_tables(net, trials, n_steps)
        fired_cap = self._fired_capacity(st_worst)
        hist = np.zeros((trials, cn.n_slots, fired_cap), np.int32)
        hist_ptr = np.zeros((trials, cn.n_slots, len(cn.names) + 1), np.int64)

        spike_pops = [m.population for m in net.monitors if isinstance(m, SpikeMonitor)]
        rate_pops = [m.population for m in net.monitors if isinstance(m, RateMonitor)]
        state_mons = [m for m in net.monitors if isinstance(m, StateMonitor)]
        p_flags = cn.p_flags.copy()
        reserve = 0
        for name in dict.fromkeys(spike_pops):
            k = cn.index_of(name)
            p_flags[k] |= L.F_RECORD
            size = int(cn.p_start[k + 1] - cn.p_start[k])
            reserve += size if cn.p_kind[k] != L.KIND_SPIKE_TIMES else max(size, st_worst)
        capacity = max(2 * reserve, 1 << 16) if reserve else 1
        spk_step = np.zeros((trials, capacity), np.int32)
        spk_idx = np.zeros((trials, capacity), np.int32)
        spk_n = np.zeros(trials, np.int64)

        mon_var, mon_g, mon_every, mon_cols = [], [], [], []
        state_spec: dict[str, dict[str, Any]] = {}
        for m in state_mons:
            k = cn.index_of(m.population)
            idx = np.arange(net.sizes()[m.population]) if m.indices is None else np.asarray(m.indices)
            spec = state_spec.setdefault(m.population, {"variables": [], "indices": idx, "every": m.every})
            cols = {}
            for var in m.variables:
                cols[var] = np.arange(len(mon_var), len(mon_var) + idx.size)
                mon_var.extend([L.VAR_CODES[var]] * idx.size)
                mon_g.extend((cn.p_start[k] + idx).tolist())
                mon_every.extend([m.every] * idx.size)
                spec["variables"].append(var)
            mon_cols.append((m.population, m.every, cols))
        mon_var_a = np.asarray(mon_var, np.int64)
        mon_g_a = np.asarray(mon_g, np.int64)
        mon_every_a = np.asarray(mon_every, np.int64)

        if chunk_steps is None:
            per_step = trials * (len(cn.names) * 4 + mon_var_a.size * np.dtype(self.dtype).itemsize)
            chunk_steps = int(min(max(n_steps, 1), max(100, (256 << 20) // max(per_step, 1))))
        chunk_steps = max(1, int(chunk_steps))
        mon_out = np.zeros((trials, chunk_steps if mon_var_a.size else 1, max(mon_var_a.size, 1)), self.dtype)
        rate_out = np.zeros((trials, chunk_steps, len(cn.names)), np.int32)
        events = np.zeros(trials, np.int64)
        counts = np.zeros((trials, len(cn.names)), np.int64)
        t_at = np.zeros(trials, np.int64)

        sink = MemorySink() if sink is None else sink
        sizes = net.sizes()
        info = RunInfo(
            dt=net.dt, n_steps=n_steps, trials=trials, sizes={name: sizes[name] for name in cn.names},
            neuron_populations=[p.name for p in net.populations], spike_monitors=list(dict.fromkeys(spike_pops)),
            rate_monitors=list(dict.fromkeys(rate_pops)), state_monitors=state_spec,
            metadata=self._metadata(seed, trials, duration),
        )
        sink.begin(info)
        bar = None
        if progress and n_steps:
            from tqdm import tqdm

            bar = tqdm(total=n_steps, unit="step", desc=net.name, leave=False)
        loop_s = 0.0
        c0 = 0
        while True:
            c1 = min(n_steps, c0 + chunk_steps)
            while True:
                t1 = time.perf_counter()
                run_chunk(
                    t_at, c0, c1,
                    cn.p_start, cn.p_kind, p_flags, cn.p_coff, cn.p_clen, cn.p_src, cn.coef,
                    state["v"], state["i_exc"], state["i_inh"], state["aux"], state["ls"], cn.reset_value,
                    hist, hist_ptr,
                    cn.q_pre, cn.q_indptr, cn.q_indices, cn.q_weights, cn.q_delays, cn.q_const_delay,
                    cn.q_max_delay, cn.q_channel, cn.q_pre0, cn.q_post0,
                    cn.prob, st_ptr, st_idx,
                    cn.nmean, cn.nstd, rng_state,
                    spk_step, spk_idx, spk_n, reserve,
                    mon_var_a, mon_g_a, mon_every_a, mon_out,
                    rate_out, events,
                )
                loop_s += time.perf_counter() - t1
                self._drain(sink, cn, spk_step, spk_idx, spk_n, info.spike_monitors)
                if np.all(t_at >= c1):
                    break
            span = c1 - c0
            counts += rate_out[:, :span, :].sum(axis=1)
            for name in info.rate_monitors:
                sink.rates(name, rate_out[:, :span, cn.index_of(name)].copy())
            for pop, every, cols in mon_cols:
                rows = np.arange(c0 + (-c0) % every, c1, every) - c0
                for var, col in cols.items():
                    sink.states(pop, var, mon_out[:, rows][:, :, col].copy())
            if bar is not None:
                bar.update(span)
            c0 = c1
            if c0 >= n_steps:
                break
        if bar is not None:
            bar.close()
        summary = {
            "spike_counts": {name: counts[:, k].copy() for k, name in enumerate(cn.names)},
            "synaptic_events": events.copy(),
            "timings": {"build_s": self.build_s, "compile_s": self.compile_s, "loop_s": loop_s},
        }
        return sink.finish(summary)

    def _drain(self, sink: Sink, cn: Any, spk_step: np.ndarray, spk_idx: np.ndarray, spk_n: np.ndarray,
               pops: list[str]) -> None:
        if not pops:
            return
        trial = np.concatenate([np.full(int(spk_n[b]), b, np.int32) for b in range(spk_n.size)])
        gidx = np.concatenate([spk_idx[b, : spk_n[b]] for b in range(spk_n.size)])
        step = np.concatenate([spk_step[b, : spk_n[b]] for b in range(spk_n.size)]).astype(np.int64)
        spk_n[:] = 0
        for name in pops:
            k = cn.index_of(name)
            sel = (gidx >= cn.p_start[k]) & (gidx < cn.p_start[k + 1])
            sink.spikes(name, trial[sel], (gidx[sel] - cn.p_start[k]).astype(np.int32), step[sel])

    def _metadata(self, seed: int, trials: int, duration: float) -> dict[str, Any]:
        from snn import __version__

        return {
            "network": self.network.describe(),
            "seed": int(seed),
            "trials": int(trials),
            "duration_s": float(duration),
            "dtype": np.dtype(self.dtype).name,
            "snn_version": __version__,
        }


def simulate(network: Network, duration: float, trials: int = 1, seed: int = 0, dtype: str = "float32",
             **kwargs: Any) -> Any:
    """One-call convenience: ``Simulator(network, dtype).run(duration, trials, seed, **kwargs)``."""
    return Simulator(network, dtype=dtype).run(duration, trials=trials, seed=seed, **kwargs)
