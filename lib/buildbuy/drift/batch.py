"""Batch drift detectors: compare a reference sample with a current sample.

Each function takes ``reference`` and ``current`` as 1-D arrays (one feature)
or 2-D arrays of shape (rows, features); a 2-D call returns one value per
feature. Rows may differ in number, features may not.

Conventions, stated because tools (evidently, frouros, R PDtoolkit) differ:

* **Bins** are quantiles of the reference only: ``bins=10`` gives deciles. The
  outer bins are open, ``(-inf, q1], (q1, q2], ..., (q9, inf)``, so current values
  outside the reference range fall into the edge bins. Tied quantiles give
  empty bins. Evidently instead uses Sturges bins over the combined sample and
  frouros 10 equal-width bins, so their PSI numbers differ from these.
* **Empty bins** (PSI only) get a share of ``eps = 1e-4`` instead of 0, as in
  evidently's ``psi.py``; shares are not renormalised.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from buildbuy import _validate as v

__all__ = ["binned_shares", "js_distance", "ks_test", "psi", "psi_threshold",
           "reference_threshold"]


def _pair(reference: object, current: object) -> tuple[np.ndarray, np.ndarray]:
    ref = v.finite_array("reference", reference)
    cur = v.finite_array("current", current)
    if ref.ndim not in (1, 2):
        raise v.bad("reference", f"<array of shape {ref.shape}>",
                    "a 1-D array or a 2-D array of shape (rows, features)")
    if cur.ndim != ref.ndim or (ref.ndim == 2 and cur.shape[1] != ref.shape[1]):
        allowed = ("a 1-D array like reference" if ref.ndim == 1 else
                   f"a 2-D array with {ref.shape[1]} feature column(s) like reference")
        raise v.bad("current", f"<array of shape {cur.shape}>", allowed)
    return ref, cur


def _bins(bins: object) -> int:
    return v.integer("bins", bins, minimum=2)


def binned_shares(reference: np.ndarray, current: np.ndarray,
                  bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Shares of a 1-D ``reference`` and ``current`` in reference-quantile bins.

    Returns ``(reference_shares, current_shares)``, each of length ``bins`` and
    summing to 1. Bin ``i`` holds values in ``(q_i, q_{i+1}]`` with ``q_0 = -inf``
    and ``q_bins = +inf``.

    Examples
    --------
    >>> r, c = binned_shares(np.arange(10.0), np.array([-5.0, 4.5, 100.0]), bins=2)
    >>> r.tolist(), c.tolist()
    ([0.5, 0.5], [0.6666666666666666, 0.3333333333333333])
    """
    ref, cur = _pair(reference, current)
    bins = _bins(bins)
    if ref.ndim != 1:
        raise v.bad("reference", f"<array of shape {ref.shape}>", "a 1-D array")
    inner = np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    r = np.bincount(np.searchsorted(inner, ref, side="left"), minlength=bins) / ref.size
    c = np.bincount(np.searchsorted(inner, cur, side="left"), minlength=bins) / cur.size
    return r, c


def _per_feature(func, ref: np.ndarray, cur: np.ndarray) -> float | np.ndarray:
    if ref.ndim == 1:
        return func(ref, cur)
    return np.array([func(ref[:, j], cur[:, j]) for j in range(ref.shape[1])])


def psi(reference: object, current: object, bins: int = 10, *,
        eps: float = 1e-4) -> float | np.ndarray:
    """Population Stability Index of ``current`` against ``reference``.

    ``PSI = sum_i (c_i - r_i) * ln(c_i / r_i)`` over reference-quantile bins, with
    empty-bin shares set to ``eps``. It is the symmetric (Jeffreys) divergence,
    ``KL(c||r) + KL(r||c)``, and is 0 for identical binned shares.

    Rules of thumb (< 0.1 stable, 0.1-0.25 moderate, > 0.25 major; evidently's
    default cut-off is 0.1) ignore sample size: with 10 bins and no drift at
    n = m = 100, P(PSI > 0.1) is about 0.84. Use :func:`psi_threshold` instead.
    For N(0, 1) against N(mu, 1) the large-sample PSI is about ``mu**2``.

    Parameters
    ----------
    reference, current : 1-D, or 2-D (rows, features) for one PSI per feature.
    bins : number of reference-quantile bins (``>= 2``); 10 = deciles.
    eps : share given to an empty bin (``> 0``).

    Examples
    --------
    Reference deciles of 0..9 hold one value each; putting all current values
    in the first and last bins gives ``2 * (0.5 - 0.1) * ln(5) + 8 * (1e-4 - 0.1)
    * ln(1e-3) = 1.287550 + 5.520678``:

    >>> round(psi(np.arange(10.0), np.array([0.0, 9.0])), 6)
    6.808228
    """
    ref, cur = _pair(reference, current)
    bins = _bins(bins)
    eps = v.positive("eps", eps)

    def one(r_col: np.ndarray, c_col: np.ndarray) -> float:
        r, c = binned_shares(r_col, c_col, bins)
        r = np.where(r == 0, eps, r)
        c = np.where(c == 0, eps, c)
        return float(np.sum((c - r) * np.log(c / r)))

    return _per_feature(one, ref, cur)


def psi_threshold(n_reference: int, n_current: int, bins: int = 10,
                  alpha: float = 0.05) -> float:
    """PSI value that a no-drift comparison exceeds with probability about ``alpha``.

    Under no drift, ``PSI ~ (1/n + 1/m) * chi2(bins - 1)`` approximately, so the
    threshold is ``chi2.ppf(1 - alpha, bins - 1) * (1/n + 1/m)`` (the idea behind
    Yurdakul 2018 / R PDtoolkit; checked by simulation in the tests).
    Documented bound, checked in the tests: for ``n, m >= 500`` and 10 bins the
    observed false-alarm rate lies between ``alpha / 2`` and ``2 * alpha``.

    Examples
    --------
    >>> round(psi_threshold(1000, 1000), 4)
    0.0338
    >>> round(psi_threshold(100, 100), 3)   # above the 0.25 "major shift" folklore
    0.338
    """
    n = v.integer("n_reference", n_reference, minimum=1)
    m = v.integer("n_current", n_current, minimum=1)
    bins = _bins(bins)
    alpha = v.share("alpha", alpha)
    if alpha in (0.0, 1.0):
        raise v.bad("alpha", alpha, "a probability strictly between 0 and 1")
    return float(stats.chi2.ppf(1.0 - alpha, bins - 1) * (1.0 / n + 1.0 / m))


def ks_test(reference: object, current: object) -> tuple[float, float] | tuple[np.ndarray,
                                                                               np.ndarray]:
    """Two-sample Kolmogorov-Smirnov test: ``(statistic, pvalue)``.

    ``D = max_x |F_ref(x) - F_cur(x)|`` over the pooled sample (empirical CDFs);
    the p-value is the asymptotic one, ``scipy.stats.kstwo.sf(D, round(n*m/(n+m)))``.
    Both equal ``scipy.stats.ks_2samp(reference, current, method="asymp")``.
    scipy's default ``method="auto"`` uses the exact distribution for small
    samples; the statistic is the same, the p-value can differ (n = m = 50,
    D = 0.3: exact 0.0217 vs asymptotic 0.0172).

    On large samples tiny, harmless shifts become "significant" (evidently issues
    #20 and #50), which is why evidently switches from KS to normed Wasserstein
    above 1 000 reference rows. Evidently and alibi-detect flag drift at p <= 0.05.

    Examples
    --------
    >>> d, p = ks_test([1.0, 2.0, 3.0, 4.0], [3.5, 4.5, 5.5, 6.5])
    >>> d
    0.75
    """
    ref, cur = _pair(reference, current)

    def one(r_col: np.ndarray, c_col: np.ndarray) -> tuple[float, float]:
        r = np.sort(r_col)
        c = np.sort(c_col)
        pooled = np.concatenate([r, c])
        cdf_r = np.searchsorted(r, pooled, side="right") / r.size
        cdf_c = np.searchsorted(c, pooled, side="right") / c.size
        d = float(np.max(np.abs(cdf_r - cdf_c)))
        en = round(r.size * c.size / (r.size + c.size))
        return d, float(np.clip(stats.kstwo.sf(d, en), 0.0, 1.0))

    if ref.ndim == 1:
        return one(ref, cur)
    pairs = [one(ref[:, j], cur[:, j]) for j in range(ref.shape[1])]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def js_distance(reference: object, current: object, bins: int = 10, *,
                base: float = np.e) -> float | np.ndarray:
    """Jensen-Shannon distance between the binned ``reference`` and ``current``.

    ``JS = sqrt((KL(r||m) + KL(c||m)) / 2)`` with ``m = (r + c) / 2`` over the same
    reference-quantile bins as :func:`psi`; no empty-bin floor is needed. Equals
    ``scipy.spatial.distance.jensenshannon(r, c, base=base)``. With the natural log
    (evidently's choice, threshold 0.1) the range is [0, sqrt(ln 2) = 0.833]; with
    ``base=2`` (NannyML's choice) it is [0, 1].

    Examples
    --------
    Two bins split at the reference median; all current values in the lower bin:
    ``r = (0.5, 0.5)``, ``c = (1, 0)``, ``m = (0.75, 0.25)``, ``KL(r||m) = 0.143841``,
    ``KL(c||m) = ln(4/3) = 0.287682``, ``JS = sqrt(0.215762) = 0.4645``:

    >>> round(js_distance(np.arange(10.0), np.array([0.0, 1.0]), bins=2), 4)
    0.4645
    """
    ref, cur = _pair(reference, current)
    bins = _bins(bins)
    base = v.positive("base", base)
    if base == 1.0:
        raise v.bad("base", base, "a logarithm base > 0 and != 1")

    def one(r_col: np.ndarray, c_col: np.ndarray) -> float:
        r, c = binned_shares(r_col, c_col, bins)
        m = 0.5 * (r + c)
        kl_r = np.sum(np.where(r > 0, r * np.log(np.where(r > 0, r, 1.0) / m), 0.0))
        kl_c = np.sum(np.where(c > 0, c * np.log(np.where(c > 0, c, 1.0) / m), 0.0))
        return float(np.sqrt(max(0.5 * (kl_r + kl_c), 0.0) / np.log(base)))

    return _per_feature(one, ref, cur)


def reference_threshold(statistic_on_reference_chunks: object, k: float = 3.0) -> float:
    """Alarm threshold learned from reference data: ``mean + k * std``.

    Compute a drift statistic (e.g. PSI) on chunks of reference data where you
    know there is no drift; alarm when a new value exceeds this. NannyML's
    default (``StandardDeviationThreshold``, k = 3, population std).

    Examples
    --------
    >>> round(reference_threshold([0.01, 0.02, 0.03], k=3), 6)   # 0.02 + 3 * 0.008165
    0.044495
    """
    x = v.finite_array("statistic_on_reference_chunks", statistic_on_reference_chunks,
                       ndim=1, min_size=2)
    k = v.non_negative("k", k)
    return float(np.mean(x) + k * np.std(x))
