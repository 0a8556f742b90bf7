"""Paired statistics and Holm's correction against hand computations."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mutualgnn.bench import holm, paired


def test_confidence_interval_by_hand():
    a = np.array([0.80, 0.82, 0.85, 0.81, 0.84])
    b = np.array([0.79, 0.80, 0.82, 0.81, 0.80])
    d = a - b                                    # 0.01 0.02 0.03 0.00 0.04
    mean, sd = d.mean(), d.std(ddof=1)           # 0.02, sqrt(0.00025) = 0.0158114
    half = 2.7764451051977987 * sd / math.sqrt(5)  # t_0.975 with 4 degrees of freedom
    result = paired(a, b)
    assert result.mean_diff == pytest.approx(0.02)
    assert (result.ci_low, result.ci_high) == pytest.approx((mean - half, mean + half))
    assert result.ci_low < 0.02 < result.ci_high and result.ci_low > 0  # all gains, one tie
    assert result.record == "4/1/0"


def test_confidence_interval_of_constant_differences_is_the_mean():
    result = paired([0.5, 0.6, 0.7], [0.4, 0.5, 0.6])
    assert result.ci_low == pytest.approx(0.1) and result.ci_high == pytest.approx(0.1)
    assert result.t_p == 1.0


def test_holm_by_hand():
    # sorted: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> 0.06)
    p = [0.03, 0.01, 0.04, 0.02]
    assert holm(p) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([0.2]) == pytest.approx([0.2])            # a family of one: unchanged


def test_holm_leaves_nan_out_of_the_family():
    out = holm([0.01, float("nan"), 0.04])
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and out[2] == pytest.approx(0.04)
    assert holm([]).shape == (0,)
