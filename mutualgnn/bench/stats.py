"""Paired statistics of two methods on the same seeds and folds, and Holm's correction over a
family of comparisons: the one implementation that tables and benchmark scripts use.

:func:`paired` describes a comparison (mean difference, CI, wins, t and Wilcoxon p);
:func:`mean_test` is the t-test of the verdict (:mod:`~.verdict`): one- or two-sided, corrected
for cross-validation's overlapping training sets, with its confidence interval and the TOST
equivalence test; :func:`intersection_union` and :func:`holm` combine its p-values."""

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
        raise ValueError(
            f"paired statistics need two 1-d arrays of the same length >= 2, got "
            f"shapes {a.shape} and {b.shape}"
        )
    diff = a - b
    t_p = float(stats.ttest_rel(a, b).pvalue) if diff.std() > 0 else 1.0
    w_p = float(stats.wilcoxon(a, b).pvalue) if (diff != 0).any() else 1.0
    half = (
        float(stats.t.ppf(0.975, len(a) - 1) * diff.std(ddof=1) / np.sqrt(len(a)))
        if diff.std() > 0
        else 0.0
    )
    mean = float(diff.mean())
    return Paired(
        n=len(a),
        mean_diff=mean,
        wins=int((diff > 0).sum()),
        ties=int((diff == 0).sum()),
        losses=int((diff < 0).sum()),
        t_p=t_p,
        wilcoxon_p=w_p,
        ci_low=mean - half,
        ci_high=mean + half,
    )


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


@dataclass(frozen=True)
class MeanTest:
    """Student's t-test of the mean of ``n`` paired differences ``d = a - b``, with the
    variance corrected for overlapping training sets where ``test_train`` > 0: the corrected
    resampled t-test (Nadeau & Bengio 2003; over r repetitions of k-fold cross-validation,
    Bouckaert & Frank 2004): ``t = mean(d) / se`` with ``se = sqrt((1/n + test_train) *
    var(d))`` (``var`` with n - 1 in the denominator), ``n`` = r * k differences, ``df = n -
    1``, and ``test_train`` = n_test / n_train of one fold (1 / (k - 1) for k-fold). With
    ``test_train = 0`` it is the ordinary paired t-test (``scipy.stats.ttest_rel``).

    Where every difference is equal (``se = 0``) the p-values are the limits of the test: 0 for
    the side the mean lies on, 1 otherwise, and 1 for a mean equal to the null."""

    n: int
    mean: float
    se: float

    @property
    def df(self) -> int:
        return self.n - 1

    def p(self, alternative: str = "two-sided", null: float = 0.0) -> float:
        """p-value against the null mean ``null``: ``alternative`` "greater" (H0: mean <=
        null), "less" (H0: mean >= null) or "two-sided" (H0: mean = null)."""
        if alternative not in ("greater", "less", "two-sided"):
            raise ValueError(
                f"alternative must be 'greater', 'less' or 'two-sided', got {alternative!r}"
            )
        gap = self.mean - null
        if self.se == 0:
            side = {"greater": gap > 0, "less": gap < 0, "two-sided": gap != 0}[alternative]
            return 0.0 if side else 1.0
        t = gap / self.se
        if alternative == "greater":
            return float(stats.t.sf(t, self.df))
        if alternative == "less":
            return float(stats.t.cdf(t, self.df))
        return float(min(1.0, 2 * stats.t.sf(abs(t), self.df)))

    def ci(self, level: float = 0.95) -> tuple:
        """Two-sided ``level`` confidence interval of the mean: mean +- t_((1+level)/2) * se."""
        half = float(stats.t.ppf((1 + level) / 2, self.df)) * self.se
        return self.mean - half, self.mean + half

    def tost(self, margin: float) -> float:
        """Two one-sided tests of equivalence within ``margin`` (> 0): the p-value of H0:
        |mean| >= margin, the larger of the p-values of H0: mean <= -margin and H0: mean >=
        margin (Schuirmann 1987). Rejecting at alpha is the same as the (1 - 2 alpha)
        confidence interval lying inside (-margin, +margin)."""
        if not margin > 0:
            raise ValueError(f"the equivalence margin must be > 0, got {margin}")
        return max(self.p("greater", -margin), self.p("less", margin))


def mean_test(diff, test_train: float = 0.0) -> MeanTest:
    """The :class:`MeanTest` of paired differences ``diff`` (n,), n >= 2; ``test_train`` > 0
    corrects for cross-validation's overlapping training sets (see :class:`MeanTest`)."""
    d = np.asarray(diff, dtype=float)
    if d.ndim != 1 or len(d) < 2:
        raise ValueError(
            f"a t-test of paired differences needs a 1-d array of length >= 2, got shape {d.shape}"
        )
    if test_train < 0:
        raise ValueError(f"test_train (n_test / n_train) must be >= 0, got {test_train}")
    d = np.round(d, 12)  # differences of stored accuracies: equal ones must not differ by noise
    var = float(d.var(ddof=1)) if np.ptp(d) > 0 else 0.0
    return MeanTest(
        n=len(d), mean=float(d.mean()), se=float(np.sqrt((1 / len(d) + test_train) * var))
    )


def intersection_union(pvalues) -> float:
    """The p-value of an intersection-union test (Berger 1982): the claim holds only if each
    of its component hypotheses is rejected, so its p-value is the largest of theirs (no
    correction for multiplicity is needed within it)."""
    p = np.asarray(pvalues, dtype=float)
    if p.size == 0:
        raise ValueError("an intersection-union test needs at least one p-value")
    return float(p.max())
