"""The engine's public API: ``Simulator(network).run(duration, trials, seed) -> Recording``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import typed

from snn.engine.compile import CompiledNetwork, compile_network, initial_state, resolve_dtype, spike_time_tables
from snn.engine.kernels import layout as L
from snn.engine.kernels.loop import run_chunk
from snn.engine.recording import MemorySink, RunInfo, Sink
from snn.errors import ConfigError
from snn.model.network import Network, RateMonitor, SpikeMonitor, StateMonitor, WeightMonitor

#: longest run in steps: spike steps and last-spike steps are int32, and ``t - last`` must not overflow from the
#: initial last spike (layout.NEVER_SPIKED = -2**30)
MAX_STEPS = 2**30 - 2**16

#: memory budget for the per-chunk rate and state-monitor buffers (bytes)
_CHUNK_BUFFER_BYTES = 256 << 20


def trial_seeds(seed: int, trials: int) -> list[np.random.SeedSequence]:
    """Trial b of a batch run with ``seed`` uses child b of ``SeedSequence(seed)``, so trial 0 of any batch
    equals a single-trial run with the same seed, and trials are independent streams."""
    return np.random.SeedSequence(int(seed)).spawn(trials)


@dataclass
class _Run:
    """Buffers of one run (all trials). Kernels update them in place; the description is never touched."""

    n_steps: int
    chunk_steps: int
    state: dict[str, np.ndarray]
    rng_state: np.ndarray
    st_ptr: typed.List
    st_idx: typed.List
    hist: np.ndarray
    hist_ptr: np.ndarray
    p_flags: np.ndarray
    spk_step: np.ndarray
    spk_idx: np.ndarray
    spk_n: np.ndarray
    reserve: int
    mon_var: np.ndarray
    mon_g: np.ndarray
    mon_every: np.ndarray
    mon_out: np.ndarray
    mon_cols: list[tuple[str, int, dict[str, np.ndarray]]]
    rate_out: np.ndarray
    events: np.ndarray
    counts: np.ndarray
    t_at: np.ndarray
    learn: bool
    pnext: np.ndarray  # (trials, populations) next Bernoulli success of uniform-rate Poisson sources; -1: unset
    pw: np.ndarray  # plastic weights: (trials, n) when trials learn, else (1, n)
    grp: np.ndarray  # (trials, groups, N_G) presynaptic traces and STP state
    grp_last: np.ndarray  # (trials, groups) step of each group's last arrival
    post_tr: np.ndarray  # (trials, target neurons, 2) postsynaptic traces
    post_last: np.ndarray
    # per-trial scratch of analog-read projections (see snn.model.analog): sums, in-use marks, touched list
    read_acc: np.ndarray
    read_seen: np.ndarray
    read_touched: np.ndarray


class Simulator:
    """Runs one network description; never changes it.

    ``dtype`` is ``"float32"`` (default) or ``"float64"`` for state and weights. Construction compiles the
    description into kernel arrays (``build_s``); the first run, or :meth:`warmup`, compiles the numba
    kernels (cached on disk), reported separately as ``compile_s``.
    """

    def __init__(self, network: Network, dtype: str = "float32") -> None:
        if not isinstance(network, Network):
            raise ConfigError("network", network, "must be an snn.model.Network")
        self.network = network
        self.dtype = resolve_dtype(dtype)
        t0 = time.perf_counter()
        self.compiled: CompiledNetwork = compile_network(network, self.dtype)
        self.build_s = time.perf_counter() - t0
        self.compile_s = 0.0
        self._warm = False

    # --- public ---------------------------------------------------------------------------------------

    def warmup(self) -> float:
        """Compile the kernels for this network's types (a zero-step run); returns the seconds spent."""
        if not self._warm:
            t0 = time.perf_counter()
            self._execute(self._prepare(0.0, 1, 0, warmup=True), MemorySink(), 0, False)
            self.compile_s = time.perf_counter() - t0
            self._warm = True
        return self.compile_s

    def run(self, duration: float, trials: int = 1, seed: int = 0, sink: Sink | None = None,
            progress: bool = False, chunk_steps: int | None = None, learning: bool = True) -> Any:
        """Simulate ``duration`` seconds for ``trials`` independent trials, in parallel over trials.

        Every trial starts from its own initial state and random stream (see :func:`trial_seeds`).
        With ``learning`` (default) every trial learns on its own copy of the plastic projections' weights,
        starting from the description's; ``learning=False`` turns the STDP rules off and all trials share one
        read-only weight set (short-term plasticity, which is dynamics rather than learning, stays on).
        Returns what the sink returns: a :class:`~snn.engine.recording.Recording` by default, the file
        path for ``snn.io.HDF5Sink``.
        """
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not (0 <= duration < np.inf):
            raise ConfigError("simulation.duration", duration, "must be a finite number of seconds >= 0")
        if round(duration / self.network.dt) > MAX_STEPS:
            raise ConfigError("simulation.duration", duration, f"must be at most {MAX_STEPS} steps of dt = "
                                                               f"{self.network.dt:g} s (int32 step counters)")
        if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
            raise ConfigError("simulation.trials", trials, "must be an integer >= 1")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError("simulation.seed", seed, "must be an integer >= 0")
        if chunk_steps is not None and (isinstance(chunk_steps, bool) or not isinstance(chunk_steps, int)
                                        or chunk_steps < 1):
            raise ConfigError("simulation.chunk_steps", chunk_steps, "must be an integer >= 1")
        if not isinstance(learning, bool):
            raise ConfigError("simulation.learning", learning, "must be true or false")
        for m in self.network.monitors:
            if isinstance(m, WeightMonitor):
                m.check_duration(self.network.dt, int(round(duration / self.network.dt)))
        self.warmup()
        run = self._prepare(float(duration), int(trials), int(seed), chunk_steps, learning=learning)
        return self._execute(run, MemorySink() if sink is None else sink, int(seed), progress)

    def memory_bytes(self) -> dict[str, float]:
        """Bytes held by the engine: connectivity (indptr, indices, weights, delay offsets) and one trial's state;
        for plastic projections also their tables (post-to-synapse index, decay tables) and the per-trial
        plastic state (a weight copy when trials learn, traces, STP state)."""
        cn, pt = self.compiled, self.compiled.plastic
        item = np.dtype(self.dtype).itemsize
        syn = cn.synapse_bytes()
        return {
            "synapses": syn,
            "bytes_per_synapse": syn / max(self.network.n_synapses, 1),
            "state_per_trial": cn.n_total * (4 * item + 4),
            "spike_history_per_trial": cn.n_slots * (self._fired_capacity(0) * 4 + (len(cn.names) + 1) * 8),
            "plastic_tables": int(pt.csc_ptr.nbytes + pt.csc_syn.nbytes + pt.csc_grp.nbytes + pt.pl_tab.nbytes
                                  + pt.weights.nbytes),
            "plastic_state_per_trial": int(pt.weights.nbytes + pt.n_groups * (L.N_G + 1) * 8 + pt.n_post * 3 * 8),
        }

    # --- internals --------------------------------------------------------------------------------------

    def _fired_capacity(self, source_worst: int) -> int:
        """Most spikes one step can list: every neuron once, plus repeated spikes of explicit sources."""
        cn = self.compiled
        return cn.n_total + source_worst * sum(int(k == L.KIND_SPIKE_TIMES) for k in cn.p_kind)

    def _prepare(self, duration: float, trials: int, seed: int, chunk_steps: int | None = None,
                 warmup: bool = False, learning: bool = True) -> _Run:
        net, cn = self.network, self.compiled
        n_steps = int(round(duration / net.dt))
        seqs = trial_seeds(seed, trials)
        state = initial_state(net, cn, [np.random.default_rng(s) for s in seqs])
        # one SplitMix64 stream per trial for run-time randomness (Poisson sources, noise currents)
        rng_state = np.array([s.spawn(1)[0].generate_state(1, np.uint64)[0] for s in seqs], np.uint64)
        st_ptr, st_idx, st_worst = spike_time_tables(net, trials, n_steps, empty=warmup)
        fired_cap = self._fired_capacity(st_worst)

        p_flags = cn.p_flags.copy()
        reserve = 0
        for name in dict.fromkeys(m.population for m in net.monitors if isinstance(m, SpikeMonitor)):
            k = cn.index_of(name)
            p_flags[k] |= L.F_RECORD
            size = int(cn.p_start[k + 1] - cn.p_start[k])
            reserve += size if cn.p_kind[k] != L.KIND_SPIKE_TIMES else size + st_worst
        capacity = max(2 * reserve, 1 << 16) if reserve else 1

        mon_var: list[int] = []
        mon_g: list[int] = []
        mon_every: list[int] = []
        mon_cols = []
        for m in net.monitors:
            if not isinstance(m, StateMonitor):
                continue
            k = cn.index_of(m.population)
            idx = np.arange(net.sizes()[m.population]) if m.indices is None else np.asarray(m.indices)
            cols = {}
            for var in m.variables:
                cols[var] = np.arange(len(mon_var), len(mon_var) + idx.size)
                mon_var.extend([L.VAR_CODES[var]] * idx.size)
                mon_g.extend((cn.p_start[k] + idx).tolist())
                mon_every.extend([m.every] * idx.size)
            mon_cols.append((m.population, m.every, cols))
        n_cols = len(mon_var)
        if chunk_steps is None:
            per_step = trials * (len(cn.names) * 4 + n_cols * np.dtype(self.dtype).itemsize)
            chunk_steps = int(min(max(n_steps, 1), max(100, _CHUNK_BUFFER_BYTES // max(per_step, 1))))
        return _Run(
            n_steps=n_steps, chunk_steps=chunk_steps, state=state, rng_state=rng_state, st_ptr=st_ptr, st_idx=st_idx,
            hist=np.zeros((trials, cn.n_slots, fired_cap), np.int32),
            hist_ptr=np.zeros((trials, cn.n_slots, len(cn.names) + 1), np.int64),
            p_flags=p_flags,
            spk_step=np.zeros((trials, capacity), np.int32), spk_idx=np.zeros((trials, capacity), np.int32),
            spk_n=np.zeros(trials, np.int64), reserve=reserve,
            mon_var=np.asarray(mon_var, np.int64), mon_g=np.asarray(mon_g, np.int64),
            mon_every=np.asarray(mon_every, np.int64),
            mon_out=np.zeros((trials, chunk_steps if n_cols else 1, max(n_cols, 1)), self.dtype), mon_cols=mon_cols,
            rate_out=np.zeros((trials, chunk_steps, len(cn.names)), np.int32),
            events=np.zeros(trials, np.int64), counts=np.zeros((trials, len(cn.names)), np.int64),
            t_at=np.zeros(trials, np.int64), pnext=np.full((trials, len(cn.names)), -1, np.int64),
            read_acc=np.zeros((trials, cn.read_width), np.float64),
            read_seen=np.zeros((trials, cn.read_width), np.uint8),
            read_touched=np.zeros((trials, cn.read_width), np.int64),
            **self._plastic_state(trials, learning),
        )

    def _plastic_state(self, trials: int, learning: bool) -> dict[str, Any]:
        """Per-run copies: the plastic weights (one row per trial when trials learn), traces and STP state."""
        pt = self.compiled.plastic
        learn = learning and pt.learning
        grp = np.zeros((trials, pt.n_groups, L.N_G), np.float64)
        grp[:, :, L.G_X] = 1.0  # STP resources start full
        return {
            "learn": learn,
            "pw": np.repeat(pt.weights, trials, axis=0) if learn else pt.weights.copy(),
            "grp": grp,
            "grp_last": np.zeros((trials, pt.n_groups), np.int64),
            "post_tr": np.zeros((trials, pt.n_post, 2), np.float64),
            "post_last": np.zeros((trials, pt.n_post), np.int64),
        }

    def _weights_now(self, run: _Run, q: int) -> np.ndarray:
        """Weights of projection q for every trial, (trials, synapses), in the description's synapse order."""
        cn = self.compiled
        trials = run.t_at.size
        if q in cn.plastic.spans:
            a, b = cn.plastic.spans[q]
            values = run.pw[:, a:b]
        else:
            nnz = self.network.projections[q].connectivity.nnz
            values = cn.weights[:, cn.q_syn0[q]: cn.q_syn0[q] + nnz]
        # a copy: the run keeps changing the plastic weights after the sink received them
        return np.array(np.broadcast_to(cn.description_order(q, values), (trials, values.shape[1])))

    def _run_info(self, run: _Run, seed: int) -> RunInfo:
        net, cn = self.network, self.compiled
        sizes = net.sizes()
        state_spec: dict[str, dict[str, Any]] = {}
        for m in net.monitors:
            if isinstance(m, StateMonitor):
                idx = np.arange(sizes[m.population]) if m.indices is None else np.asarray(m.indices)
                state_spec[m.population] = {"variables": list(m.variables), "indices": idx, "every": m.every}
        trials = run.t_at.size
        return RunInfo(
            dt=net.dt, n_steps=run.n_steps, trials=trials, sizes={name: sizes[name] for name in cn.names},
            neuron_populations=[p.name for p in net.populations],
            spike_monitors=list(dict.fromkeys(m.population for m in net.monitors if isinstance(m, SpikeMonitor))),
            rate_monitors=list(dict.fromkeys(m.population for m in net.monitors if isinstance(m, RateMonitor))),
            state_monitors=state_spec,
            weight_monitors={
                m.projection: {"every": m.every if m.times is None else 0, "steps": m.steps(net.dt, run.n_steps),
                               "synapses": _projection(net, m.projection).connectivity.nnz}
                for m in net.monitors if isinstance(m, WeightMonitor)},
            metadata={"network": net.describe(), "seed": seed, "trials": trials, "duration_s": run.n_steps * net.dt,
                      "dtype": np.dtype(self.dtype).name, "snn_version": _version(),
                      # whether plasticity rules were active in this run (None: the network has none)
                      "learning": bool(run.learn) if cn.plastic.learning else None},
        )

    def _execute(self, run: _Run, sink: Sink, seed: int, progress: bool) -> Any:
        info = self._run_info(run, seed)
        sink.begin(info)
        try:
            loop_s = self._loop(run, sink, info, progress)
        except BaseException:
            sink.abort()
            raise
        cn = self.compiled
        projections = self.network.projections
        summary = {
            "final_weights": {projections[q].name: self._weights_now(run, q) for q in cn.plastic.spans
                              if projections[q].plasticity is not None},
            "spike_counts": {name: run.counts[:, k].copy() for k, name in enumerate(cn.names)},
            "synaptic_events": run.events.copy(),
            "timings": {"build_s": self.build_s, "compile_s": self.compile_s, "loop_s": loop_s},
        }
        return sink.finish(summary)

    def _loop(self, run: _Run, sink: Sink, info: RunInfo, progress: bool) -> float:
        cn, s = self.compiled, run.state
        pt = cn.plastic
        bar = None
        if progress and run.n_steps:
            from tqdm import tqdm

            bar = tqdm(total=run.n_steps, unit="step", desc=self.network.name, leave=False)
        loop_s = 0.0
        c0 = 0
        names = [p.name for p in self.network.projections]
        snapshots = [(names.index(name), name, spec["steps"]) for name, spec in info.weight_monitors.items()]
        try:
            while True:  # at least one kernel call, so a zero-step warm-up compiles and starts the thread pool
                c1 = min(run.n_steps, c0 + run.chunk_steps)
                for q, name, steps in snapshots:  # snapshots are taken between kernel calls
                    k = int(np.searchsorted(steps, c0))
                    if k < steps.size and steps[k] == c0 and c0 < run.n_steps:
                        sink.weights(name, self._weights_now(run, q)[:, None, :])
                        k += 1
                    if k < steps.size and steps[k] < c1:
                        c1 = int(steps[k])
                while True:
                    t1 = time.perf_counter()
                    run_chunk(
                        run.t_at, c0, c1,
                        cn.p_start, cn.p_kind, run.p_flags, cn.p_coff, cn.p_clen, cn.p_src, cn.coef,
                        s["v"], s["i_exc"], s["i_inh"], s["aux"], s["ls"], cn.reset_value,
                        run.hist, run.hist_ptr,
                        cn.q_pre, cn.q_row0, cn.indptr, cn.indices, cn.weights, cn.doff, cn.q_doff0,
                        cn.q_const_delay, cn.q_max_delay, cn.q_channel, cn.q_pre0, cn.q_post0,
                        cn.q_read, cn.read_par, run.read_acc, run.read_seen, run.read_touched,
                        pt.q_plastic, pt.pl_int, pt.pl_par, pt.pl_tab, run.pw, run.grp, run.grp_last, run.post_tr,
                        run.post_last,
                        pt.csc_ptr, pt.csc_syn, pt.csc_grp, run.learn,
                        cn.prob, run.pnext, run.st_ptr, run.st_idx,
                        cn.nmean, cn.nstd, run.rng_state,
                        run.spk_step, run.spk_idx, run.spk_n, run.reserve,
                        run.mon_var, run.mon_g, run.mon_every, run.mon_out,
                        run.rate_out, run.events, self.dtype(np.finfo(self.dtype).tiny),
                    )
                    loop_s += time.perf_counter() - t1
                    self._drain(run, sink, info.spike_monitors)
                    if np.all(run.t_at >= c1):
                        break
                span = c1 - c0
                run.counts += run.rate_out[:, :span, :].sum(axis=1)
                for name in info.rate_monitors:
                    sink.rates(name, run.rate_out[:, :span, cn.index_of(name)].copy())
                for pop, every, cols in run.mon_cols:
                    rows = np.arange(c0 + (-c0) % every, c1, every) - c0
                    for var, col in cols.items():
                        sink.states(pop, var, run.mon_out[:, rows][:, :, col].copy())
                if bar is not None:
                    bar.update(span)
                c0 = c1
                if c0 >= run.n_steps:
                    for q, name, steps in snapshots:  # a snapshot chosen at the run's duration
                        if steps.size and steps[-1] == run.n_steps:
                            sink.weights(name, self._weights_now(run, q)[:, None, :])
                    break
        finally:
            if bar is not None:
                bar.close()
        return loop_s

    def _drain(self, run: _Run, sink: Sink, pops: list[str]) -> None:
        """Hand the spikes buffered since the last drain to the sink, population by population."""
        if not pops:
            return
        cn, n = self.compiled, run.spk_n
        trial = np.concatenate([np.full(int(n[b]), b, np.int32) for b in range(n.size)])
        gidx = np.concatenate([run.spk_idx[b, : n[b]] for b in range(n.size)])
        step = np.concatenate([run.spk_step[b, : n[b]] for b in range(n.size)]).astype(np.int64)
        n[:] = 0
        for name in pops:
            k = cn.index_of(name)
            if len(pops) == 1:  # the buffers hold recorded populations only: every spike is this one's
                sink.spikes(name, trial, gidx - np.int32(cn.p_start[k]), step)
                continue
            sel = (gidx >= cn.p_start[k]) & (gidx < cn.p_start[k + 1])
            sink.spikes(name, trial[sel], (gidx[sel] - cn.p_start[k]).astype(np.int32), step[sel])


def _projection(net: Network, name: str) -> Any:
    return next(p for p in net.projections if p.name == name)


def _version() -> str:
    from snn import __version__

    return __version__


def simulate(network: Network, duration: float, trials: int = 1, seed: int = 0, dtype: str = "float32",
             **kwargs: Any) -> Any:
    """One call: ``Simulator(network, dtype).run(duration, trials, seed, **kwargs)``."""
    return Simulator(network, dtype=dtype).run(duration, trials=trials, seed=seed, **kwargs)
