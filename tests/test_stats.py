"""Paired statistics, Holm's correction and the verdict's t-tests (ordinary, corrected for
cross-validation, TOST) against hand computations and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from mutualgnn.bench import holm, paired
from mutualgnn.bench.stats import intersection_union, mean_test


def test_confidence_interval_by_hand():
    a = np.array([0.80, 0.82, 0.85, 0.81, 0.84])
    b = np.array([0.79, 0.80, 0.82, 0.81, 0.80])
    d = a - b  # 0.01 0.02 0.03 0.00 0.04
    mean, sd = d.mean(), d.std(ddof=1)  # 0.02, sqrt(0.00025) = 0.0158114
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
    assert holm([0.2]) == pytest.approx([0.2])  # a family of one: unchanged


def test_holm_leaves_nan_out_of_the_family():
    out = holm([0.01, float("nan"), 0.04])
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and out[2] == pytest.approx(0.04)
    assert holm([]).shape == (0,)


# --- the verdict's t-test: ordinary, corrected for cross-validation, TOST -------------------

A = np.array([0.80, 0.82, 0.85, 0.81, 0.84, 0.79])
B = np.array([0.79, 0.80, 0.82, 0.81, 0.80, 0.80])


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_uncorrected_test_is_scipys_paired_t_test(alternative):
    test = mean_test(A - B)
    want = scipy_stats.ttest_rel(A, B, alternative=alternative)
    assert test.p(alternative) == pytest.approx(want.pvalue, rel=1e-9)
    assert test.mean / test.se == pytest.approx(want.statistic, rel=1e-9)
    assert test.df == want.df == 5
    ci = scipy_stats.ttest_rel(A, B).confidence_interval(0.95)
    assert test.ci(0.95) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_corrected_resampled_t_by_hand():
    # d = 0.01 0.02 0.03 0.00 0.04: mean 0.02, var (ddof 1) 0.00025; 10-fold: n_test/n_train 1/9
    d = [0.01, 0.02, 0.03, 0.00, 0.04]
    test = mean_test(d, test_train=1 / 9)
    se = math.sqrt((1 / 5 + 1 / 9) * 0.00025)  # 0.0088192
    assert test.se == pytest.approx(se) and test.mean == pytest.approx(0.02)
    t = 0.02 / se  # 2.2678
    assert t == pytest.approx(2.2678, abs=1e-4)
    assert test.p("greater") == pytest.approx(scipy_stats.t.sf(t, 4))
    assert test.p("two-sided") == pytest.approx(2 * scipy_stats.t.sf(t, 4))
    assert test.p("less") == pytest.approx(scipy_stats.t.cdf(t, 4))
    # the correction only widens: the uncorrected test of the same differences rejects more
    assert test.p("greater") > mean_test(d).p("greater")
    half = 2.7764451051977987 * se  # t_0.975 with 4 degrees of freedom
    assert test.ci() == pytest.approx((0.02 - half, 0.02 + half))


def test_tost_is_two_one_sided_scipy_tests():
    d, margin = A - B, 0.02
    want = max(
        scipy_stats.ttest_1samp(d, -margin, alternative="greater").pvalue,
        scipy_stats.ttest_1samp(d, margin, alternative="less").pvalue,
    )
    test = mean_test(d)
    assert test.tost(margin) == pytest.approx(want, rel=1e-9)
    # rejecting at alpha is the (1 - 2 alpha) interval inside the margin
    for margin in (0.005, 0.01, 0.02, 0.03, 0.05):
        low, high = test.ci(0.90)
        assert (test.tost(margin) <= 0.05) == (-margin < low and high < margin)
    with pytest.raises(ValueError, match="margin must be > 0"):
        test.tost(0)


def test_equal_differences_take_the_tests_limits():
    same = mean_test([0.02, 0.02, 0.02])  # 0.84 - 0.82 and the like: no float noise
    assert same.se == 0 and mean_test(np.array([0.84, 0.85, 0.86]) - [0.82, 0.83, 0.84]).se == 0
    assert (same.p("greater"), same.p("less"), same.p("two-sided")) == (0.0, 1.0, 0.0)
    assert same.tost(0.01) == 1.0 and same.tost(0.03) == 0.0
    zero = mean_test([0.0, 0.0])
    assert (zero.p("greater"), zero.p("two-sided")) == (1.0, 1.0)


def test_mean_test_rejects_bad_input():
    with pytest.raises(ValueError, match="length >= 2"):
        mean_test([0.1])
    with pytest.raises(ValueError, match="test_train"):
        mean_test([0.1, 0.2], test_train=-1)
    with pytest.raises(ValueError, match="alternative"):
        mean_test([0.1, 0.2]).p("bigger")


def test_intersection_union_is_the_largest_p():
    assert intersection_union([0.01, 0.04, 0.002]) == 0.04
    with pytest.raises(ValueError):
        intersection_union([])
