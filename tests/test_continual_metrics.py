"""Continual-learning metrics (snn.continual.metrics) on hand-made accuracy matrices, values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from snn.continual import metrics as m
from snn.errors import ConfigError

# R[i, j]: accuracy on task j after training tasks 0..i. Task 0 gains from task 1 (0.80 -> 0.90: positive
# backward transfer), then drops: the case where Chaudhry's max - last and Avalanche's first - last differ.
R4 = np.array([
    [0.80, 0.10, 0.10, 0.10],
    [0.90, 0.70, 0.20, 0.10],
    [0.85, 0.75, 0.90, 0.30],
    [0.50, 0.60, 0.80, 0.95],
])
B4 = np.array([0.10, 0.10, 0.10, 0.10])


def test_lopez_paz_acc_bwt_fwt_by_hand():
    # ACC = (0.50 + 0.60 + 0.80 + 0.95) / 4 = 2.85 / 4
    assert m.accuracy(R4) == pytest.approx(0.7125)
    # BWT = ((0.50 - 0.80) + (0.60 - 0.70) + (0.80 - 0.90)) / 3 = -0.5 / 3
    assert m.backward_transfer(R4) == pytest.approx(-0.5 / 3)
    # FWT = ((R01 - b1) + (R12 - b2) + (R23 - b3)) / 3 = (0.0 + 0.1 + 0.2) / 3
    assert m.forward_transfer(R4, B4) == pytest.approx(0.1)


def test_chaudhry_forgetting_is_max_minus_last():
    # f_0 = max(0.80, 0.90, 0.85) - 0.50 = 0.40; f_1 = max(0.10, 0.70, 0.75) - 0.60 = 0.15;
    # f_2 = max(0.10, 0.20, 0.90) - 0.80 = 0.10; F = 0.65 / 3
    np.testing.assert_allclose(m.forgetting_per_task(R4), [0.40, 0.15, 0.10])
    assert m.forgetting(R4) == pytest.approx(0.65 / 3)


def test_learning_accuracy_aia_intransigence_by_hand():
    # LA = (0.80 + 0.70 + 0.90 + 0.95) / 4 = 3.35 / 4
    assert m.learning_accuracy(R4) == pytest.approx(0.8375)
    # AIA = (0.80 + (0.90 + 0.70) / 2 + (0.85 + 0.75 + 0.90) / 3 + 2.85 / 4) / 4
    #     = (0.80 + 0.80 + 0.833333 + 0.7125) / 4 = 0.786458
    assert m.average_incremental_accuracy(R4) == pytest.approx((0.8 + 0.8 + 2.5 / 3 + 0.7125) / 4)
    # I = mean(joint - diag) = ((0.85 - 0.80) + (0.80 - 0.70) + (0.90 - 0.90) + (1.00 - 0.95)) / 4 = 0.05
    assert m.intransigence(R4, [0.85, 0.80, 0.90, 1.00]) == pytest.approx(0.05)


def test_avalanche_forgetting_is_first_minus_last():
    # ExperienceForgetting_j = R[j, j] - R[3, j]: 0.80 - 0.50, 0.70 - 0.60, 0.90 - 0.80
    np.testing.assert_allclose(m.avalanche_experience_forgetting(R4), [0.30, 0.10, 0.10])
    assert m.avalanche_stream_forgetting(R4) == pytest.approx(0.5 / 3)  # = -BWT (Lopez-Paz), not Chaudhry's F
    assert m.avalanche_stream_bwt(R4) == pytest.approx(m.backward_transfer(R4))
    assert m.avalanche_stream_forgetting(R4) < m.forgetting(R4)


def _avalanche_stream_forgetting_replay(R: np.ndarray) -> list[float]:
    """Avalanche 0.6's GenericStreamForgetting bookkeeping, step by step (forgetting_bwt.py): before each eval
    ``last`` is reset; evaluating experience j right after training j sets ``initial[j]``, any other evaluation sets
    ``last[j]``; the stream value is the unweighted mean of initial - last over keys with both."""
    initial: dict[int, float] = {}
    out = []
    for i in range(R.shape[0]):  # train experience i, then evaluate the whole stream
        last: dict[int, float] = {}
        values = []
        for j in range(R.shape[1]):
            if j == i:
                initial[j] = R[i, j]
            else:
                last[j] = R[i, j]
            if j in initial and j in last:
                values.append(initial[j] - last[j])
        out.append(float(np.mean(values)) if values else 0.0)
    return out


def test_avalanche_stream_forgetting_matches_its_bookkeeping_at_every_step():
    replay = _avalanche_stream_forgetting_replay(R4)
    assert replay[0] == 0.0  # nothing trained before: Avalanche's empty Mean is 0; ours is undefined (NaN)
    assert math.isnan(m.avalanche_stream_forgetting(R4[:1]))
    for i in range(1, 4):
        # a partial matrix (rows 0..i) gives the metric "after task i"
        assert m.avalanche_stream_forgetting(R4[:i + 1]) == pytest.approx(replay[i])


def test_partial_matrix_uses_the_seen_block():
    # after task 1: ACC = (0.90 + 0.70) / 2, BWT = 0.90 - 0.80 = +0.10, Chaudhry f_0 = 0.80 - 0.90 = -0.10
    assert m.accuracy(R4[:2]) == pytest.approx(0.8)
    assert m.backward_transfer(R4[:2]) == pytest.approx(0.1)
    assert m.forgetting(R4[:2]) == pytest.approx(-0.1)
    assert m.forward_transfer(R4[:2], B4) == pytest.approx(0.0)  # R01 - b1 = 0.10 - 0.10


def test_summarise_keys_and_single_task():
    s = m.summarise(R4, B4)
    assert s["acc"] == pytest.approx(0.7125) and s["fwt"] == pytest.approx(0.1) and s["n_tasks"] == 4
    assert s["avalanche_stream_forward_transfer"] == s["fwt"]
    assert set(m.summarise(R4)) == set(s) - {"fwt", "avalanche_stream_forward_transfer"}
    one = m.summarise([[0.9]], [0.1])
    assert one["acc"] == 0.9 and math.isnan(one["bwt"]) and math.isnan(one["forgetting"]) and math.isnan(one["fwt"])


def test_avalanche_metric_names():
    keys = m.avalanche_keys(R4, B4)
    assert keys["Top1_Acc_Exp/eval_phase/test_stream/Task000/Exp003"] == 0.95
    assert keys["Top1_Acc_Stream/eval_phase/test_stream/Task000"] == pytest.approx(0.7125)
    assert keys["ExperienceForgetting/eval_phase/test_stream/Task000/Exp000"] == pytest.approx(0.30)
    assert keys["StreamForgetting/eval_phase/test_stream"] == pytest.approx(0.5 / 3)
    assert keys["StreamBWT/eval_phase/test_stream"] == pytest.approx(-0.5 / 3)
    assert keys["StreamForwardTransfer/eval_phase/test_stream"] == pytest.approx(0.1)
    per_task = m.avalanche_keys(R4, task_labels=[0, 1, 2, 3])  # Task-IL: one task label per experience
    assert per_task["Top1_Acc_Exp/eval_phase/test_stream/Task002/Exp002"] == 0.80


def test_aggregate_mean_std_over_seeds():
    runs = [{"acc": 0.7, "bwt": -0.1}, {"acc": 0.8, "bwt": -0.3}, {"acc": 0.9, "bwt": math.nan}]
    agg = m.aggregate(runs)
    # acc: mean 0.8, sample std sqrt(((-0.1)^2 + 0 + 0.1^2) / 2) = 0.1; bwt: NaN dropped, mean -0.2,
    # sample std |0.2| / sqrt(2)
    assert agg["acc"]["mean"] == pytest.approx(0.8) and agg["acc"]["std"] == pytest.approx(0.1)
    assert agg["bwt"]["n"] == 2 and agg["bwt"]["std"] == pytest.approx(0.2 / math.sqrt(2))
    assert m.aggregate(runs, ddof=0)["acc"]["std"] == pytest.approx(math.sqrt(0.02 / 3))
    # the HLOP pilot's table (hlop.md section 4) uses the population std: HLOP ACC 80.02, 81.65, 78.80 -> "1.17"
    pilot = m.aggregate([{"acc": 80.02}, {"acc": 81.65}, {"acc": 78.80}], ddof=0)["acc"]
    assert round(pilot["mean"], 2) == 80.16 and round(pilot["std"], 2) == 1.17


@pytest.mark.parametrize("call,path", [
    (lambda: m.accuracy(np.ones((3, 2))), "R"),
    (lambda: m.accuracy([[0.5, math.nan], [0.5, 0.5]]), "R"),
    (lambda: m.forward_transfer(R4, [0.1, 0.1]), "b"),
    (lambda: m.intransigence(R4, [1.0]), "joint"),
    (lambda: m.aggregate([]), "runs"),
    (lambda: m.aggregate([{"a": 1.0}], ddof=2), "ddof"),
])
def test_bad_input(call, path):
    with pytest.raises(ConfigError) as info:
        call()
    assert info.value.path == path
    assert "\n" not in str(info.value)
