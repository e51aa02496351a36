"""Continual learning: task streams, metrics, checkpoints, and the GPM baseline.

- :mod:`snn.continual.streams`: permuted, split and rotated image tasks, offline (van de Ven & Tolias's three
  scenarios).
- :mod:`snn.continual.metrics`: ACC, BWT, FWT, forgetting and their Avalanche variants from the accuracy matrix R.
- :mod:`snn.continual.checkpoint`: atomic per-task checkpoints, a resumable JSONL evaluation log, HDF5 results.
- :mod:`snn.continual.gpm`: Gradient Projection Memory (Saha, Garg, Roy, ICLR 2021): per layer an orthonormal
  basis M of old-task activity from SVDs of representation matrices; updates projected as ``G − G M Mᵀ``.

HLOP, the Hebbian alternative with the same projection, lives in :mod:`snn.hlop`; the learners in
:mod:`snn.learn`.
"""

from snn.continual.checkpoint import (
    Checkpoint,
    EvalLog,
    latest,
    load_checkpoint,
    read_results,
    resume,
    run_dir,
    save_checkpoint,
    write_results,
)
from snn.continual.gpm import RANK_RULES, GPMBasis, GPMConfig, first_task_rank, residual_rank
from snn.continual.metrics import aggregate, avalanche_keys, summarise
from snn.continual.streams import STREAMS, Stream, Task, load_stream, pad_canvas, permuted, rotated, split

__all__ = ["RANK_RULES", "STREAMS", "Checkpoint", "EvalLog", "GPMBasis", "GPMConfig", "Stream", "Task", "aggregate",
           "avalanche_keys", "first_task_rank", "latest", "load_checkpoint", "load_stream", "pad_canvas", "permuted",
           "read_results", "residual_rank", "resume", "rotated", "run_dir", "save_checkpoint", "split", "summarise",
           "write_results"]
