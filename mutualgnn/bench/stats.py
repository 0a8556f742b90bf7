"""Paired statistics of two methods on the same seeds and folds: the one implementation that
tables and benchmark scripts use."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Paired:
    """``a - b`` over n paired runs: the mean difference, wins/ties/losses of ``a``, and the
    p-values of the paired t-test and the Wilcoxon signed-rank test (1.0 where every
    difference is equal, resp. zero: the tests are undefined there)."""

    n: int
    mean_diff: float
    wins: int
    ties: int
    losses: int
    t_p: float
    wilcoxon_p: float

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
    return Paired(n=len(a), mean_diff=float(diff.mean()), wins=int((diff > 0).sum()),
                  ties=int((diff == 0).sum()), losses=int((diff < 0).sum()), t_p=t_p,
                  wilcoxon_p=w_p)
