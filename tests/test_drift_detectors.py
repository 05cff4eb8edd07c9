"""Detectors of buildbuy.drift against scipy, hand-computed values and river's docstrings."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from buildbuy.drift import (
    DDM,
    PageHinkley,
    binned_shares,
    ddm,
    js_distance,
    ks_test,
    page_hinkley,
    psi,
    psi_threshold,
    reference_threshold,
)

# ---------------------------------------------------------------- PSI


def _shares_by_loop(ref: np.ndarray, cur: np.ndarray, bins: int) -> tuple[list, list]:
    """Reference-decile shares the slow way: compare each value with each edge."""
    edges = [float(np.quantile(ref, i / bins)) for i in range(1, bins)]

    def idx(x: float) -> int:
        return sum(1 for e in edges if x > e)   # bin i holds (q_i, q_{i+1}]

    r = [0] * bins
    c = [0] * bins
    for x in ref:
        r[idx(x)] += 1
    for x in cur:
        c[idx(x)] += 1
    return [k / len(ref) for k in r], [k / len(cur) for k in c]


def test_binned_shares_match_a_plain_loop() -> None:
    rng = np.random.default_rng(3)
    ref = rng.normal(size=200)
    cur = rng.normal(0.7, 1.3, size=150)
    r, c = binned_shares(ref, cur, 10)
    r2, c2 = _shares_by_loop(ref, cur, 10)
    np.testing.assert_allclose(r, r2)
    np.testing.assert_allclose(c, c2)
    assert r.sum() == pytest.approx(1.0) and c.sum() == pytest.approx(1.0)


def test_psi_hand_computed() -> None:
    # deciles of 0..9 hold one value each; current puts half in bin 0, half in bin 9
    want = 2 * (0.5 - 0.1) * np.log(0.5 / 0.1) + 8 * (1e-4 - 0.1) * np.log(1e-4 / 0.1)
    assert psi(np.arange(10.0), np.array([0.0, 9.0])) == pytest.approx(want, rel=1e-12)
    assert psi(np.arange(10.0), np.arange(10.0)) == 0.0


def test_psi_matches_population_value_for_a_normal_shift() -> None:
    # population decile PSI of N(0,1) -> N(0.5,1), from the normal CDF
    q = stats.norm.ppf(np.linspace(0, 1, 11))
    c = np.diff(stats.norm.cdf(q - 0.5))
    want = float(np.sum((c - 0.1) * np.log(c / 0.1)))
    rng = np.random.default_rng(0)
    got = psi(rng.normal(size=100_000), rng.normal(0.5, 1.0, size=100_000))
    # sampling noise plus the no-drift bias (B-1)(1/n+1/m) = 0.00018
    assert got == pytest.approx(want, abs=0.01)
    # deciles lose a little of the continuous-limit value mu**2 = 0.25
    assert want == pytest.approx(0.2377, abs=1e-4)


def test_psi_per_feature_on_2d() -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(500, 2))
    cur = np.c_[rng.normal(size=400), rng.normal(1.0, 1.0, size=400)]
    both = psi(ref, cur)
    assert both.shape == (2,)
    assert both[0] == pytest.approx(psi(ref[:, 0], cur[:, 0]))
    assert both[1] == pytest.approx(psi(ref[:, 1], cur[:, 1]))


def test_psi_threshold_formula_and_folklore() -> None:
    assert psi_threshold(1000, 1000) == pytest.approx(stats.chi2.ppf(0.95, 9) * 0.002)
    assert psi_threshold(1000, 1000) == pytest.approx(0.033838, abs=1e-6)
    # at n = m = 100 the 5% threshold is above the 0.25 "major shift" rule of thumb
    assert psi_threshold(100, 100) > 0.25


@pytest.mark.parametrize("n", [500, 2000])
def test_psi_threshold_false_alarm_rate_within_documented_bound(n: int) -> None:
    rng = np.random.default_rng(n)
    alpha = 0.05
    reps = 1000
    hits = sum(psi(rng.normal(size=n), rng.normal(size=n)) > psi_threshold(n, n, alpha=alpha)
               for _ in range(reps))
    assert alpha / 2 <= hits / reps <= 2 * alpha


def test_fixed_psi_cut_off_over_alarms_on_small_samples() -> None:
    rng = np.random.default_rng(7)
    rate = np.mean([psi(rng.normal(size=100), rng.normal(size=100)) > 0.1 for _ in range(500)])
    assert rate > 0.6    # chi2(9) x (1/100 + 1/100) > 0.1 has probability 0.83


def test_reference_threshold_is_mean_plus_k_std() -> None:
    assert reference_threshold([1.0, 2.0, 3.0], k=3) == pytest.approx(2 + 3 * np.sqrt(2 / 3))


# ---------------------------------------------------------------- KS and JS


@pytest.mark.parametrize("seed,n,m", [(0, 50, 40), (1, 300, 500), (2, 2000, 1500)])
def test_ks_matches_scipy(seed: int, n: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rng.normal(0.2, 1.1, size=m)
    d, p = ks_test(a, b)
    ref = stats.ks_2samp(a, b, method="asymp")
    assert d == ref.statistic
    assert p == pytest.approx(ref.pvalue, rel=1e-10, abs=1e-300)


def test_ks_with_ties_and_2d() -> None:
    rng = np.random.default_rng(5)
    a = rng.integers(0, 5, size=(80, 2)).astype(float)
    b = rng.integers(1, 6, size=(60, 2)).astype(float)
    d, p = ks_test(a, b)
    for j in range(2):
        ref = stats.ks_2samp(a[:, j], b[:, j], method="asymp")
        assert d[j] == pytest.approx(ref.statistic)
        assert p[j] == pytest.approx(ref.pvalue)


def test_ks_asymptotic_vs_exact_p_value_as_documented() -> None:
    a = np.arange(50.0)
    d, p = ks_test(a, a + 15)          # D = 15/50
    assert d == pytest.approx(0.3)
    assert p == pytest.approx(0.0172, abs=1e-4)
    assert stats.ks_2samp(a, a + 15, method="exact").pvalue == pytest.approx(0.0217, abs=1e-4)


def test_ks_hand_computed() -> None:
    d, _ = ks_test([1.0, 2.0, 3.0, 4.0], [3.5, 4.5, 5.5, 6.5])
    assert d == 0.75    # at x = 3: F_ref = 3/4, F_cur = 0


@pytest.mark.parametrize("base", [np.e, 2.0])
def test_js_matches_scipy(base: float) -> None:
    rng = np.random.default_rng(11)
    a = rng.normal(size=1000)
    b = rng.normal(0.4, 1.0, size=800)
    r, c = binned_shares(a, b, 10)
    assert js_distance(a, b, 10, base=base) == pytest.approx(jensenshannon(r, c, base=base),
                                                             rel=1e-12)
    assert js_distance(a, a) == 0.0


def test_js_upper_bound() -> None:
    # all current values above the reference maximum: disjoint from 9 of 10 bins
    js = js_distance(np.arange(100.0), np.full(10, 1000.0))
    assert 0 < js <= np.sqrt(np.log(2))


# ---------------------------------------------------------------- Page-Hinkley


def test_page_hinkley_reproduces_river_docstring() -> None:
    # river/drift/page_hinkley.py docstring: "Change detected at index 1006"
    rng = random.Random(12345)
    stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    assert page_hinkley(stream).tolist() == [1006]
    ph = PageHinkley()
    assert [i for i, x in enumerate(stream) if ph.update(x).drift_detected] == [1006]


@pytest.mark.parametrize("mode", ["up", "down", "both"])
@pytest.mark.parametrize("threshold", [10.0, 50.0])
def test_page_hinkley_vectorised_equals_one_at_a_time(mode: str, threshold: float) -> None:
    rng = np.random.default_rng(42)
    for _ in range(10):
        x = np.r_[rng.normal(0, 1, 700), rng.normal(rng.choice([-1.5, 1.5]), 1, 700)]
        ph = PageHinkley(threshold=threshold, mode=mode)
        loop = [i for i, val in enumerate(x) if ph.update(val).drift_detected]
        assert page_hinkley(x, threshold=threshold, mode=mode).tolist() == loop


def test_page_hinkley_false_alarms_scale_with_sigma() -> None:
    # threshold is in data units (measured with river 0.26.1's PageHinkley): none at sigma 0.3,
    # some at sigma 1
    rng = np.random.default_rng(0)
    assert page_hinkley(rng.normal(0, 0.3, 20_000)).size == 0
    assert page_hinkley(rng.normal(0, 1.0, 20_000)).size > 0


def test_page_hinkley_detection_delay_on_sudden_drift() -> None:
    rng = np.random.default_rng(1)
    delays = []
    for _ in range(20):
        x = np.r_[rng.normal(0, 0.3, 1000), rng.normal(1.0, 0.3, 500)]
        alarms = page_hinkley(x, mode="up")
        assert alarms.size and alarms[0] >= 1000      # no alarm before the change
        delays.append(alarms[0] - 1000)
    # S+ gains about (1 - catch-up of the mean) per step: lambda = 50 needs ~ 50-80 steps
    assert 40 <= np.median(delays) <= 100


# ---------------------------------------------------------------- DDM


def test_ddm_reproduces_river_docstring() -> None:
    # river/drift/binary/ddm.py docstring: warning 1084, change 1334, warning 1492
    rng = random.Random(42)
    stream = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
    d = DDM()
    seen = []
    print_warning = True
    for i, x in enumerate(stream):
        d.update(x)
        if d.warning_detected and print_warning:
            seen.append(("warning", i))
            print_warning = False
        if d.drift_detected:
            seen.append(("drift", i))
            print_warning = True
    assert seen == [("warning", 1084), ("drift", 1334), ("warning", 1492)]
    assert ddm(stream).tolist() == [1334]


def test_ddm_vectorised_equals_one_at_a_time() -> None:
    rng = np.random.default_rng(9)
    for _ in range(40):
        p0, p1 = rng.uniform(0.02, 0.3), rng.uniform(0.2, 0.7)
        e = np.r_[rng.random(800) < p0, rng.random(800) < p1].astype(int)
        d = DDM()
        loop = [i for i, x in enumerate(e) if d.update(int(x)).drift_detected]
        assert ddm(e).tolist() == loop


def test_ddm_false_alarms_and_delay() -> None:
    rng = np.random.default_rng(2)
    # documented in ddm(): on stationary 10%-error streams of 2 000 outcomes about 40%
    # raise a false drift, most soon after the warm-up
    alarms = [ddm(rng.random(2000) < 0.1) for _ in range(400)]
    share = np.mean([a.size > 0 for a in alarms])
    assert 0.30 <= share <= 0.50
    assert np.median(np.concatenate(alarms)) < 300
    # the same stream with river's defaults as PH (lambda = 50) on 20 000 N(0,1) values
    # raises 13-16 false alarms (measured with river 0.26.1's PageHinkley); here 10-15
    counts = [page_hinkley(rng.normal(size=20_000)).size for _ in range(3)]
    assert all(5 <= c <= 25 for c in counts)
    delays = []
    for _ in range(50):
        e = np.r_[rng.random(1000) < 0.1, rng.random(1000) < 0.3].astype(int)
        alarms = ddm(e)
        after = alarms[alarms >= 1000]
        delays.append(after[0] - 1000 if after.size else 1000)
    assert np.median(delays) <= 150


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("call,name", [
    (lambda: psi([], [1.0]), "reference"),
    (lambda: psi([1.0, 2.0], []), "current"),
    (lambda: psi([1.0, np.nan], [1.0]), "reference"),
    (lambda: psi([1.0, 2.0], [1.0], bins=1), "bins"),
    (lambda: psi(np.ones((5, 2)), np.ones((5, 3))), "current"),
    (lambda: psi(np.ones((5, 2)), np.ones(5)), "current"),
    (lambda: ks_test([1.0], [np.inf]), "current"),
    (lambda: js_distance([1.0, 2.0], [1.0], bins=0), "bins"),
    (lambda: psi_threshold(0, 10), "n_reference"),
    (lambda: psi_threshold(10, 10, alpha=1.5), "alpha"),
    (lambda: page_hinkley([]), "values"),
    (lambda: page_hinkley([1.0, np.nan]), "values"),
    (lambda: page_hinkley(np.ones((3, 3))), "values"),
    (lambda: page_hinkley([1.0], mode="sideways"), "mode"),
    (lambda: page_hinkley([1.0], threshold=0), "threshold"),
    (lambda: ddm([0, 1, 2]), "errors"),
    (lambda: ddm([]), "errors"),
    (lambda: DDM().update(0.5), "x"),
])
def test_bad_input_names_the_argument(call, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name}=.* is invalid: must be"):
        call()
