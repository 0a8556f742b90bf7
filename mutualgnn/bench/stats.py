"""Paired statistics of two methods on the same seeds and folds, and Holm's correction over a
family of comparisons: the one implementation that tables and benchmark scripts use."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Paired:
    """``a - b`` over n paired runs: the mean difference with its 95% confidence interval
    (Student's t with n - 1 degrees of freedom: mean +- t_0.975 * sd / sqrt(n); the mean
    itself where every difference is equal), wins/ties/losses of ``a``, and the p-values of the
    paired t-test and the Wilcoxon signed-rank test (1.0 where every difference is equal, resp.
    zero: the tests are undefined there)."""

    n: int
    mean_diff: float
    wins: int
    ties: int
    losses: int
    t_p: float
    wilcoxon_p: float
    ci_low: float = float("nan")
    ci_high: float = float("nan")

    @property
    def record(self) -> str:
        return f"{self.wins}/{self.ties}/{self.losses}"


def paired(a, b) -> Paired:
    """Compare paired scores ``a`` (n,) and ``b`` (n,), n >= 2."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"paired statistics need two 1-d arrays of the same length >= 2, got "
                         f"shapes {a.shape} and {b.shape}")
    diff = a - b
    t_p = float(stats.ttest_rel(a, b).pvalue) if diff.std() > 0 else 1.0
    w_p = float(stats.wilcoxon(a, b).pvalue) if (diff != 0).any() else 1.0
    half = (float(stats.t.ppf(0.975, len(a) - 1) * diff.std(ddof=1) / np.sqrt(len(a)))
            if diff.std() > 0 else 0.0)
    mean = float(diff.mean())
    return Paired(n=len(a), mean_diff=mean, wins=int((diff > 0).sum()),
                  ties=int((diff == 0).sum()), losses=int((diff < 0).sum()), t_p=t_p,
                  wilcoxon_p=w_p, ci_low=mean - half, ci_high=mean + half)


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values (m,) of a family of m p-values, in their order.

    Sorted ascending p_(1) <= ... <= p_(m): adjusted p_(i) = max over j <= i of
    min(1, (m - j + 1) p_(j)). Rejecting where the adjusted value is <= alpha keeps the
    family-wise error rate at alpha (Holm 1979); NaN p-values are left out of the family and
    stay NaN."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out
