"""Study checkpoints (snn.continual.checkpoint): round trips, interrupted writes, log truncation, SIGKILL + resume.

Run as a script (``python tests/test_continual_checkpoint.py ROOT MODE``) it is the tiny study of the end-to-end
test: softmax regression by SGD on 4 permuted-digit tasks, with a seeded Generator for the mini-batch order.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snn.continual import checkpoint as ck
from snn.continual.checkpoint import (
    EvalLog,
    checkpoint_path,
    latest,
    load_checkpoint,
    read_results,
    remove_temporaries,
    restore_rng,
    resume,
    rng_state,
    run_dir,
    save_checkpoint,
    write_results,
)
from snn.errors import ConfigError
from snn.io.atomic import temporary_path

ROOT = Path(__file__).resolve().parents[1]
HAVE_SKLEARN = importlib.util.find_spec("sklearn") is not None


def _config_error(info: pytest.ExceptionInfo, path: str) -> None:
    assert info.value.path == path
    assert "\n" not in str(info.value)


def _state(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"fc1/W": rng.normal(size=(5, 3)).astype(np.float32), "fc1/H": rng.normal(size=(2, 3)),
            "counts": np.arange(4, dtype=np.int64), "mask": np.array([True, False])}


# ----------------------------------------------------------------------------------------------- round trips

def test_checkpoint_round_trip(tmp_path):
    d = run_dir(tmp_path, "hlop", 3)
    assert d == tmp_path / "hlop" / "seed_3" and d.is_dir()
    rng = np.random.default_rng(42)
    rng.random(7)  # advance: the saved state is mid-stream
    other = np.random.Generator(np.random.MT19937(5))  # array-valued state (key) survives JSON too
    R = np.arange(16, dtype=float).reshape(4, 4) / 16
    path = save_checkpoint(d, 1, _state(0), {"rng": rng, "init": other}, R, b=np.full(4, 0.1),
                           meta={"lr": 0.05, "layers": [784, 800]})
    assert path == checkpoint_path(d, 1) and path.name == "task_1.npz"
    got = load_checkpoint(path)
    assert got.t == 1 and got.meta == {"lr": 0.05, "layers": [784, 800]}
    for name, arr in _state(0).items():
        assert got.learner[name].dtype == arr.dtype and np.array_equal(got.learner[name], arr)
        assert not got.learner[name].flags.writeable
    np.testing.assert_array_equal(got.R, R[:2])  # rows 0..t only
    np.testing.assert_array_equal(got.b, np.full(4, 0.1))
    # the restored generators continue exactly where the saved ones stood
    np.testing.assert_array_equal(got.rng.random(5), rng.random(5))
    np.testing.assert_array_equal(got.rngs["init"].integers(0, 1 << 30, 5), other.integers(0, 1 << 30, 5))


def test_rng_state_json_round_trip():
    for bit_gen in (np.random.PCG64(1), np.random.PCG64DXSM(2), np.random.Philox(3), np.random.SFC64(4)):
        g = np.random.Generator(bit_gen)
        g.normal(size=3)
        h = restore_rng(rng_state(g))
        assert type(h.bit_generator) is type(bit_gen)
        np.testing.assert_array_equal(h.normal(size=4), g.normal(size=4))
    with pytest.raises(ConfigError) as info:
        restore_rng('{"bit_generator": "Nope"}')
    _config_error(info, "rng")


def test_latest_picks_highest_readable(tmp_path):
    assert latest(tmp_path / "absent") is None
    assert latest(tmp_path) is None
    for t in range(3):
        save_checkpoint(tmp_path, t, _state(t), np.random.default_rng(t), np.zeros((3, 3)))
    t, got = latest(tmp_path)
    assert t == 2 and np.array_equal(got.learner["fc1/H"], _state(2)["fc1/H"])
    checkpoint_path(tmp_path, 3).write_bytes(b"PK\x03\x04 not a zip")  # damaged: skipped, not trusted
    t, got = latest(tmp_path)
    assert t == 2


# ----------------------------------------------------------------------------------------------- interrupted writes

def test_crash_before_rename_keeps_previous_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, 0, _state(0), np.random.default_rng(0), np.zeros((2, 2)))
    # the state a SIGKILL between "temp file written" and os.replace leaves: a complete temp file of task 1 and
    # a torn one of a re-written task 0, neither renamed
    save_checkpoint(tmp_path, 1, _state(1), np.random.default_rng(1), np.zeros((2, 2)))
    full = checkpoint_path(tmp_path, 1).read_bytes()
    checkpoint_path(tmp_path, 1).unlink()
    temporary_path(checkpoint_path(tmp_path, 1)).write_bytes(full)
    temporary_path(checkpoint_path(tmp_path, 0)).with_name(".task_0.npz.tmp-99999").write_bytes(full[:100])
    t, got = latest(tmp_path)
    assert t == 0 and np.array_equal(got.learner["fc1/W"], _state(0)["fc1/W"])  # previous checkpoint intact
    assert len(remove_temporaries(tmp_path)) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["task_0.npz"]

    # a failing rename (os.replace raising) while overwriting task 0 leaves the old task 0 and no temp file
    def boom(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_checkpoint(tmp_path, 0, _state(7), np.random.default_rng(7), np.zeros((2, 2)))
    monkeypatch.undo()
    assert np.array_equal(load_checkpoint(checkpoint_path(tmp_path, 0)).learner["fc1/W"], _state(0)["fc1/W"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["task_0.npz"]


# ----------------------------------------------------------------------------------------------- JSONL log

def test_log_resume_truncates_after_last_checkpoint(tmp_path):
    path = tmp_path / "log.jsonl"
    with EvalLog(path) as log:
        for j in range(3):
            log.append(-1, j, accuracy=0.1)  # b: before training
        for t in range(3):
            for j in range(3):
                log.append(t, j, accuracy=0.5 + 0.1 * t)
    with open(path, "ab") as fh:
        fh.write(b'{"train_task": 3, "eval_')  # torn last line of an interrupted write
    lines = path.read_bytes().split(b"\n")
    # resume after checkpoint 1: keep 3 b lines + 3 + 3 lines of tasks 0 and 1; tasks 2 (3 lines) + torn line go
    with EvalLog(path, resume_after=1) as log:
        assert log.truncated == 4
        assert path.read_bytes() == b"\n".join(lines[:9]) + b"\n"
        log.append(2, 0, accuracy=0.7)
    recs = EvalLog.read(path)
    assert len(recs) == 10 and recs[-1] == {"train_task": 2, "eval_task": 0, "accuracy": 0.7}
    assert [r["train_task"] for r in recs] == [-1] * 3 + [0] * 3 + [1] * 3 + [2]
    with EvalLog(path, resume_after=None) as log:  # no checkpoint: start afresh
        assert log.truncated == 10
    assert path.read_bytes() == b""
    with pytest.raises(ConfigError) as info:
        EvalLog(path, resume_after=-2)
    _config_error(info, "resume_after")


def test_log_lines_are_sorted_json(tmp_path):
    path = tmp_path / "log.jsonl"
    with EvalLog(path) as log:
        log.append(0, 1, zeta=1, alpha=np.float32(0.5), counts=np.arange(2))
    assert path.read_text() == '{"alpha": 0.5, "counts": {"__ndarray__": [0, 1], "dtype": "<i8"}, ' \
                               '"eval_task": 1, "train_task": 0, "zeta": 1}\n'


# ----------------------------------------------------------------------------------------------- HDF5 results

def test_results_round_trip_and_atomic(tmp_path, monkeypatch):
    path = tmp_path / "results.h5"
    R = np.array([[0.9, 0.1], [0.8, 0.95]])
    diag = {"hhT_error": np.array([[0.1, 0.2], [0.15, 0.25]]), "spikes": np.array([10, 12])}
    write_results(path, R, b=[0.1, 0.1], diagnostics=diag, meta={"method": "hlop", "seed": 0},
                  summary={"acc": 0.875})
    got = read_results(path)
    np.testing.assert_array_equal(got["R"], R)
    np.testing.assert_array_equal(got["b"], [0.1, 0.1])
    assert set(got["diagnostics"]) == set(diag)
    np.testing.assert_array_equal(got["diagnostics"]["hhT_error"], diag["hhT_error"])
    assert got["meta"] == {"method": "hlop", "seed": 0} and got["summary"] == {"acc": 0.875}

    def boom(tmp, target):
        raise OSError("crash before rename")

    monkeypatch.setattr(ck, "commit", boom)
    with pytest.raises(OSError):
        write_results(path, np.zeros((2, 2)))
    np.testing.assert_array_equal(read_results(path)["R"], R)  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.h5"]  # and no temp file left


@pytest.mark.parametrize("call,path", [
    (lambda d: run_dir(d, "../x", 0), "method"),
    (lambda d: run_dir(d, "hlop", -1), "seed"),
    (lambda d: save_checkpoint(d, -1, {}, None, np.zeros((1, 1))), "t"),
    (lambda d: save_checkpoint(d, 2, {}, None, np.zeros((2, 3))), "R"),
    (lambda d: save_checkpoint(d / "absent", 0, {}, None, np.zeros((1, 1))), "directory"),
    (lambda d: save_checkpoint(d, 0, {"w": [object()]}, None, np.zeros((1, 1))), "learner.w"),
    (lambda d: save_checkpoint(d, 0, {}, None, np.zeros((1, 1)), meta={"f": object()}), "meta"),
    (lambda d: write_results(d / "r.h5", np.zeros(3)), "R"),
    (lambda d: read_results(d / "absent.h5"), "path"),
    (lambda d: resume(d / "absent"), "directory"),
])
def test_bad_input(tmp_path, call, path):
    with pytest.raises(ConfigError) as info:
        call(tmp_path)
    _config_error(info, path)


# ----------------------------------------------------------------------------------------------- SIGKILL + resume

N_TASKS = 4


def _accuracy(W: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(X @ W[:-1] + W[-1], axis=1) == y))


def study(root: str | Path, mode: str = "run") -> None:
    """Softmax regression by SGD on pdigits8 (4 permuted 8 x 8 digit tasks, one shared head), resumable.

    ``mode``: ``"run"``; ``"block"``: after checkpoint 1 print a line and wait on stdin (the parent SIGKILLs it);
    ``"kill_in_commit"``: SIGKILL itself inside the commit of checkpoint 2 (temp file written, not renamed).
    """
    from snn.continual.metrics import summarise
    from snn.continual.streams import load_stream

    stream = load_stream("pdigits8", n_tasks=N_TASKS, seed=3)
    d = run_dir(root, "sgd", 0)
    start, state, log = resume(d)
    R = np.full((N_TASKS, N_TASKS), np.nan)
    if state is None:
        rng = np.random.default_rng(0)
        W = rng.normal(0.0, 0.01, (65, 10))  # 64 weights + bias row
        norms = np.zeros(0)
        b = np.array([_accuracy(W, t.X_test, t.y_test) for t in stream])
        for j in range(N_TASKS):
            log.append(-1, j, accuracy=b[j])
    else:
        rng, W, norms, b = state.rng, state.learner["W"].copy(), state.learner["norms"].copy(), state.b
        R[:start] = state.R
    for t in range(start, N_TASKS):
        task = stream[t]
        for _epoch in range(2):
            order = rng.permutation(len(task.y_train))
            for k in range(0, len(order), 32):
                idx = order[k:k + 32]
                x = task.X_train[idx]
                z = x @ W[:-1] + W[-1]
                p = np.exp(z - z.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
                p[np.arange(len(idx)), task.y_train[idx]] -= 1.0  # d(cross-entropy)/dz
                W[:-1] -= 0.5 * x.T @ p / len(idx)
                W[-1] -= 0.5 * p.mean(axis=0)
        for j in range(N_TASKS):
            R[t, j] = _accuracy(W, stream[j].X_test, stream[j].y_test)
            log.append(t, j, accuracy=R[t, j])  # log lines before the checkpoint (module docstring)
        norms = np.append(norms, np.linalg.norm(W))
        if mode == "kill_in_commit" and t == 2:
            ck.commit = lambda tmp, path: os.kill(os.getpid(), signal.SIGKILL)
        save_checkpoint(d, t, {"W": W, "norms": norms}, rng, R[:t + 1], b=b, meta={"stream": stream.name})
        if mode == "block" and t == 1:
            print("checkpoint 1", flush=True)
            sys.stdin.readline()
    log.close()
    write_results(d / "results.h5", R, b, diagnostics={"weight_norm": norms}, summary=summarise(R, b))


def _spawn(root: Path, mode: str) -> subprocess.Popen:
    env = dict(os.environ, NUMBA_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(root), mode], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.skipif(not HAVE_SKLEARN, reason="scikit-learn missing (digits source)")
def test_sigkill_and_resume_give_identical_results(tmp_path):
    # both children start first (they run while the reference runs here: most of their time is imports)
    # (a) the parent SIGKILLs the child while it waits right after its second checkpoint (task 1);
    # (b) the child SIGKILLs itself inside checkpoint 2's commit: temp file on disk, task 2's log lines written
    root_a, root_b = tmp_path / "killed_after_checkpoint", tmp_path / "killed_in_commit"
    proc_a, proc_b = _spawn(root_a, "block"), _spawn(root_b, "kill_in_commit")
    try:
        ref_root = tmp_path / "reference"
        study(ref_root)  # uninterrupted, in this process
        ref_dir = run_dir(ref_root, "sgd", 0)
        ref = read_results(ref_dir / "results.h5")
        ref_log = (ref_dir / "log.jsonl").read_bytes()
        assert ref_log.count(b"\n") == N_TASKS * (N_TASKS + 1)  # b + one line per (train_task, eval_task)
        assert np.all(np.isfinite(ref["R"])) and ref["R"][0, 0] > 0.5  # the learner learns the first task
        assert ref["summary"]["bwt"] < 0  # ... and forgets under permutations (a study worth checkpointing)

        line = proc_a.stdout.readline()
        assert line.strip() == "checkpoint 1", proc_a.stderr.read()[-2000:]
        proc_a.send_signal(signal.SIGKILL)
        proc_a.wait(timeout=60)
        _, err = proc_b.communicate(timeout=120)
    finally:
        for proc in (proc_a, proc_b):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc_a.returncode == -signal.SIGKILL
    dir_a = run_dir(root_a, "sgd", 0)
    assert latest(dir_a)[0] == 1 and not (dir_a / "results.h5").exists()
    assert proc_b.returncode == -signal.SIGKILL, err[-2000:]
    dir_b = run_dir(root_b, "sgd", 0)
    assert latest(dir_b)[0] == 1
    assert any(".task_2.npz.tmp-" in p.name for p in dir_b.iterdir())  # the interrupted write
    assert (dir_b / "log.jsonl").read_bytes().count(b"\n") == 4 * N_TASKS  # b, tasks 0, 1, 2 (2 uncommitted)

    for root, d in ((root_a, dir_a), (root_b, dir_b)):
        study(root)  # resume
        got = read_results(d / "results.h5")
        assert np.array_equal(got["R"], ref["R"])  # bit-identical, not just close
        np.testing.assert_array_equal(got["b"], ref["b"])
        np.testing.assert_array_equal(got["diagnostics"]["weight_norm"], ref["diagnostics"]["weight_norm"])
        assert (d / "log.jsonl").read_bytes() == ref_log
        assert json.dumps(got["summary"], sort_keys=True) == json.dumps(ref["summary"], sort_keys=True)
        assert not any(".tmp-" in p.name for p in d.iterdir())


if __name__ == "__main__":
    study(sys.argv[1], sys.argv[2])
