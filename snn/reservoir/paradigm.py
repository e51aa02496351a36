"""The "prediction object" paradigm: cue identity, outcome identity ("what"), latency ("when") and outcome
probability varied independently, in seeded blocks of trials, with a switch of latency or probability mid-session.

Yamada & Chao (arXiv:2510.14382) test their model on "a task that independently manipulates event identity,
latency, and probability" (abstract); the task's details (numbers of cues, latencies, probabilities, trials,
how stimuli enter the network) could not be retrieved, so everything below is **our design**:

- Conditions: the full factorial ``n_outcomes × len(latencies_s) × len(probabilities)``; each condition has its
  own cue, ``cue = (outcome · n_lat + latency_index) · n_prob + probability_index``. In a trial the cue appears at
  ``cue_onset_s``; with probability ``p`` the outcome (its identity) follows ``latency_s`` later, else nothing.
- Blocks: every block holds each condition ``reps_per_block`` times in a random order. From block
  ``switch_block`` on, the statistics change: ``"latency"`` reverses the latency levels of every cue
  (index l -> n_lat − 1 − l), ``"probability"`` reverses the probability levels, ``"both"`` does both.
  Occurrence is ``u < p`` with one ``u ~ U(0, 1)`` per trial drawn after the cue order, so sessions of the same
  seed with different switches share their cue sequence (and so their reservoir activity) exactly.
- Input (what the reservoir sees; the outcome itself is not fed in, so the readouts must anticipate it): per
  cue ``id_channels`` Poisson channels at ``id_rate_hz`` from cue onset to trial end (the cue stays on), and
  ``time_channels`` channels shared by all cues whose rate after cue onset is
  ``time_peak_hz · exp(−(t − t_cue − d_j)² / (2 s_j²))``, ``d_j`` evenly spaced over ``[0, trial_s − cue_onset_s]``,
  ``s_j = time_width_s + time_width_scale · d_j`` (a generic "time since cue" signal with scalar variability).
  Since the time channels are the same for every cue, a cue-specific latency can only be read out linearly
  after the reservoir mixes cue identity and elapsed time. Spikes are Bernoulli per 1 ms bin (time = bin
  centre), drawn from ``SeedSequence([seed, trial])`` so a trial's input does not depend on the batching.
- Targets at readout times t: "when" ``y(t) = occurred · exp(−(t − t_cue − L)² / (2 target_width_s²))``; its
  expectation given the cue is ``p · exp(...)``, which an LMS readout converges to. "what": the one-hot outcome
  identity, learned only in trials where the outcome occurred (its gate is the attention gate × occurred).

Times in seconds, rates in Hz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from snn.checks import finite as _real
from snn.checks import integer as _integer
from snn.errors import ConfigError
from snn.model.network import SpikeTimesInput

#: kinds of mid-session switch
SWITCHES = ("none", "latency", "probability", "both")

#: width of the input spike bins (seconds)
INPUT_BIN_S = 1e-3


def _levels(path: str, value: object, lo: float, hi: float, what: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ConfigError(path, value, f"must be a non-empty list of {what}") from None
    if not vals or any(not math.isfinite(v) or not lo < v <= hi for v in vals) or len(set(vals)) != len(vals):
        raise ConfigError(path, value, f"must be a non-empty list of distinct {what}")
    return vals


@dataclass(frozen=True, eq=False)
class TrialSequence:
    """One seeded session: per-trial arrays (length ``n_trials``). ``cue``, ``outcome`` (identity),
    ``latency_s``, ``probability`` (the statistics in force in that trial), ``occurred`` (bool), ``block``,
    ``switched`` (bool: after the switch)."""

    cue: np.ndarray
    outcome: np.ndarray
    latency_s: np.ndarray
    probability: np.ndarray
    occurred: np.ndarray
    block: np.ndarray
    switched: np.ndarray

    @property
    def n_trials(self) -> int:
        return int(self.cue.size)


@dataclass(frozen=True)
class PredictionParadigm:
    """Trial structure, statistics and input encoding of the paradigm (module docstring). Validated on
    construction (one-line :class:`~snn.errors.ConfigError`)."""

    n_outcomes: int = 2
    latencies_s: tuple[float, ...] = (0.3, 0.6)
    probabilities: tuple[float, ...] = (0.25, 0.5, 1.0)
    reps_per_block: int = 1
    n_blocks: int = 60
    switch_block: int = 30
    switch: str = "latency"
    cue_onset_s: float = 0.1
    trial_s: float = 1.0
    id_channels: int = 10
    id_rate_hz: float = 30.0
    time_channels: int = 20
    time_peak_hz: float = 80.0
    time_width_s: float = 0.04
    time_width_scale: float = 0.1
    target_width_s: float = 0.04

    def __post_init__(self) -> None:
        p = "paradigm"
        for name, lo in (("n_outcomes", 1), ("reps_per_block", 1), ("n_blocks", 1), ("switch_block", 0),
                         ("id_channels", 1), ("time_channels", 1)):
            object.__setattr__(self, name, _integer(f"{p}.{name}", getattr(self, name), lo))
        if self.switch not in SWITCHES:
            raise ConfigError(f"{p}.switch", self.switch, f"must be one of {list(SWITCHES)}")
        if self.switch != "none" and not 1 <= self.switch_block < self.n_blocks:
            raise ConfigError(f"{p}.switch_block", self.switch_block,
                              f"must lie in [1, n_blocks = {self.n_blocks}) when switch = {self.switch!r}")
        for name in ("cue_onset_s", "id_rate_hz", "time_peak_hz", "time_width_scale"):
            if _real(f"{p}.{name}", getattr(self, name)) < 0:
                raise ConfigError(f"{p}.{name}", getattr(self, name), "must be >= 0")
        for name in ("trial_s", "time_width_s", "target_width_s"):
            if _real(f"{p}.{name}", getattr(self, name)) <= 0:
                raise ConfigError(f"{p}.{name}", getattr(self, name), "must be > 0 (seconds)")
        if self.cue_onset_s >= self.trial_s:
            raise ConfigError(f"{p}.cue_onset_s", self.cue_onset_s, f"must be < trial_s = {self.trial_s:g}")
        window = self.trial_s - self.cue_onset_s
        object.__setattr__(self, "latencies_s", _levels(f"{p}.latencies_s", self.latencies_s, 0.0, window,
                                                        f"latencies in (0, trial_s − cue_onset_s = {window:g}] s"))
        object.__setattr__(self, "probabilities", _levels(f"{p}.probabilities", self.probabilities, 0.0, 1.0,
                                                          "probabilities in (0, 1]"))
        for name in ("id_rate_hz", "time_peak_hz"):
            if getattr(self, name) * INPUT_BIN_S > 1.0:
                raise ConfigError(f"{p}.{name}", getattr(self, name), "must be <= 1000 Hz (one spike per 1 ms bin)")

    # ---- conditions ----------------------------------------------------------------------------------------
    @property
    def n_conditions(self) -> int:
        return self.n_outcomes * len(self.latencies_s) * len(self.probabilities)

    @property
    def block_trials(self) -> int:
        return self.n_conditions * self.reps_per_block

    @property
    def n_trials(self) -> int:
        return self.block_trials * self.n_blocks

    @property
    def switch_trial(self) -> int | None:
        """First trial with switched statistics (None without a switch)."""
        return None if self.switch == "none" else self.switch_block * self.block_trials

    @property
    def n_channels(self) -> int:
        return self.n_conditions * self.id_channels + self.time_channels

    def conditions(self, switched: bool = False) -> dict[str, np.ndarray]:
        """Per cue (index = cue): ``outcome``, ``latency_index``, ``probability_index``, ``latency_s``,
        ``probability`` before (``switched=False``) or after the switch."""
        n_lat, n_p = len(self.latencies_s), len(self.probabilities)
        cue = np.arange(self.n_conditions)
        outcome = cue // (n_lat * n_p)
        li = (cue // n_p) % n_lat
        pi = cue % n_p
        if switched and self.switch in ("latency", "both"):
            li = n_lat - 1 - li
        if switched and self.switch in ("probability", "both"):
            pi = n_p - 1 - pi
        return {"outcome": outcome, "latency_index": li, "probability_index": pi,
                "latency_s": np.asarray(self.latencies_s)[li], "probability": np.asarray(self.probabilities)[pi]}

    def sequence(self, seed: int) -> TrialSequence:
        """The session's trials, seeded: cue order per block first (one permutation per block), then one
        ``u ~ U(0, 1)`` per trial; ``occurred = u < p``."""
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError("paradigm.seed", seed, "must be an integer >= 0")
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x7E0]))
        base = np.repeat(np.arange(self.n_conditions), self.reps_per_block)
        cue = np.concatenate([rng.permutation(base) for _ in range(self.n_blocks)])
        u = rng.random(cue.size)
        block = np.repeat(np.arange(self.n_blocks), self.block_trials)
        switched = np.zeros(cue.size, bool) if self.switch == "none" else block >= self.switch_block
        before, after = self.conditions(False), self.conditions(True)
        lat = np.where(switched, after["latency_s"][cue], before["latency_s"][cue])
        prob = np.where(switched, after["probability"][cue], before["probability"][cue])
        return TrialSequence(cue=cue, outcome=before["outcome"][cue], latency_s=lat, probability=prob,
                             occurred=u < prob, block=block, switched=switched)

    # ---- input -------------------------------------------------------------------------------------------------
    def channel_rates(self, cue: int) -> np.ndarray:
        """Input rates (channels, bins) in Hz of one cue's trial, bins of :data:`INPUT_BIN_S` (centres)."""
        n_bins = int(round(self.trial_s / INPUT_BIN_S))
        t = (np.arange(n_bins) + 0.5) * INPUT_BIN_S - self.cue_onset_s
        on = t >= 0
        rates = np.zeros((self.n_channels, n_bins))
        lo = int(cue) * self.id_channels
        rates[lo:lo + self.id_channels] = np.where(on, self.id_rate_hz, 0.0)
        d = np.linspace(0.0, self.trial_s - self.cue_onset_s, self.time_channels)
        s = self.time_width_s + self.time_width_scale * d
        bumps = self.time_peak_hz * np.exp(-0.5 * ((t[None, :] - d[:, None]) / s[:, None]) ** 2)
        rates[self.n_conditions * self.id_channels:] = np.where(on[None, :], bumps, 0.0)
        return rates

    def cue_input(self, seq: TrialSequence, start: int, stop: int, seed: int, name: str = "cue") -> SpikeTimesInput:
        """Input spikes of trials ``[start, stop)`` of ``seq`` as one batch (batch trial ``k − start``)."""
        if not isinstance(seq, TrialSequence):
            raise ConfigError("paradigm.sequence", seq, "must be a TrialSequence")
        if not (0 <= start < stop <= seq.n_trials):
            raise ConfigError("paradigm.trials", (start, stop), f"must satisfy 0 <= start < stop <= {seq.n_trials}")
        rates = {c: self.channel_rates(c) * INPUT_BIN_S for c in np.unique(seq.cue[start:stop])}
        times, idx, trials = [], [], []
        for k in range(start, stop):
            prob = rates[seq.cue[k]]
            rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x1A7, k]))
            ch, b = np.nonzero(rng.random(prob.shape) < prob)
            times.append((b + 0.5) * INPUT_BIN_S)
            idx.append(ch)
            trials.append(np.full(ch.size, k - start))
        return SpikeTimesInput(name, self.n_channels, np.concatenate(times), np.concatenate(idx),
                               np.concatenate(trials))

    # ---- targets -----------------------------------------------------------------------------------------------
    def bump(self, times_s: np.ndarray, latency_s: np.ndarray) -> np.ndarray:
        """``exp(−(t − t_cue − L)² / (2 target_width_s²))``, shape (trials, times)."""
        t = np.asarray(times_s, dtype=np.float64)[None, :] - self.cue_onset_s
        return np.exp(-0.5 * ((t - np.asarray(latency_s, dtype=np.float64)[:, None]) / self.target_width_s) ** 2)

    def when_target(self, seq: TrialSequence, times_s: np.ndarray) -> np.ndarray:
        """Realised "when" targets (trials, times): the bump at the latency if the outcome occurred, else 0."""
        return self.bump(times_s, seq.latency_s) * seq.occurred[:, None]

    def expected_when(self, seq: TrialSequence, times_s: np.ndarray) -> np.ndarray:
        """Expected "when" targets given the cue and the statistics in force (trials, times): ``p · bump``."""
        return self.bump(times_s, seq.latency_s) * seq.probability[:, None]

    def what_target(self, seq: TrialSequence) -> np.ndarray:
        """One-hot outcome identity per trial (trials, n_outcomes)."""
        return np.eye(self.n_outcomes)[seq.outcome]
