"""Unit tests of the operations modules: capacity, load_profile, staffing, owned_hardware,
api_limits, api_price, and the operations scenario fields' errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from buildbuy import api_limits, api_price, capacity, load_profile, scenarios, staffing
from buildbuy.owned_hardware import colo_usd_per_kw_month, resale_share
from buildbuy.scenarios import ScenarioError

PROFILE = "online_retail_daypart"


# ------------------------------------------------------------------ load profile


@pytest.mark.parametrize("k", [1.0, 1.5, 2.15, 3.0, 7.5])
def test_scaled_day_keeps_the_volume_and_reaches_the_peak(k: float) -> None:
    day = load_profile.scaled(PROFILE, k)
    assert day.shape == (24,)
    assert day.mean() == pytest.approx(1.0, rel=1e-12)
    assert day.max() == pytest.approx(k, rel=1e-12)
    # the busiest and quietest hours stay where the source puts them
    base = load_profile.base_shape(PROFILE)
    if k > 1:
        assert np.argmax(day) == np.argmax(base) and np.argmin(day) == np.argmin(base)


def test_source_shape_is_the_comscore_dayparts() -> None:
    base = load_profile.base_shape(PROFILE)       # mean 1: hour share x 24
    # 12-15h held 26.9% of the day: 8.97% an hour, 2.152x the mean
    assert base[12] == pytest.approx(0.269 / 3 * 24, rel=1e-6)
    assert load_profile.max_peak_to_average(PROFILE) == pytest.approx(8.0)


def test_levels_are_the_distinct_hours_vectorised() -> None:
    ks = np.array([[1.2], [2.0], [5.0]])
    v, h = load_profile.levels(PROFILE, ks)
    assert v.shape == (3, 8) and h.sum() == 24
    for row, k in zip(v, ks[:, 0], strict=True):
        assert sorted(load_profile.scaled(PROFILE, k).round(9)) == sorted(
            np.repeat(row, h.astype(int)).round(9))


@pytest.mark.parametrize("k", [0.5, 8.0, float("nan")])
def test_impossible_peak_is_refused(k: float) -> None:
    with pytest.raises(ValueError, match="peak_to_average="):
        load_profile.levels(PROFILE, k)


# ---------------------------------------------------------------------- capacity


def test_pruned_options_give_the_same_counts() -> None:
    full = ((1, 1000.0), (2, 1900.0), (4, 4200.0), (8, 7000.0))
    s = capacity.Sizing(None, full)
    assert s.options == ((1, 1000.0), (4, 4200.0))      # 2 and 8 can never win
    loads = np.linspace(0.0, 50_000.0, 2001)
    for spare, copies in itertools.product((0, 1), (1, 2)):
        brute = np.min([tp * copies * (np.ceil(loads / cap - 1e-12) + spare)
                        for tp, cap in full], axis=0)
        np.testing.assert_array_equal(s.n_gpus(loads, spare_replicas=spare, copies=copies),
                                      brute)


def test_headroom_and_redundancy_by_hand() -> None:
    s = capacity.Sizing(None, ((2, 1000.0),))
    kw = dict(gpus_per_server=8)
    # 1,400 tokens/s at 70%: 2,000 of capacity = 2 replicas of 2 GPUs
    assert capacity.fleet_gpus(s, 1400.0, target_utilisation=0.7, redundancy="none",
                               owned=False, **kw) == 4
    assert capacity.fleet_gpus(s, 1400.0, target_utilisation=0.7, redundancy="n_plus_1",
                               owned=False, **kw) == 6
    assert capacity.fleet_gpus(s, 1400.0, target_utilisation=0.7, redundancy="two_sites",
                               owned=False, **kw) == 8
    # owned: 4 GPUs = 1 server per site; +1 spare server; two sites of one server
    assert capacity.fleet_gpus(s, 1400.0, target_utilisation=0.7, redundancy="n_plus_1",
                               owned=True, **kw) == 16
    assert capacity.fleet_gpus(s, 1400.0, target_utilisation=0.7, redundancy="two_sites",
                               owned=True, **kw) == 16
    assert capacity.fleet_gpus(s, 0.0, target_utilisation=0.7, redundancy="n_plus_1",
                               owned=True, **kw) == 0
    with pytest.raises(ValueError, match="redundancy="):
        capacity.fleet_gpus(s, 1.0, target_utilisation=0.7, redundancy="n+1", owned=True, **kw)


def test_cheapest_reservation_is_the_brute_force_minimum() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        g = rng.integers(0, 20, size=30).astype(float)
        equal = rng.random() < 0.5
        w = np.full(30, 3.0) if equal else rng.uniform(0.5, 4.0, 30)
        r, d = rng.uniform(0.2, 1.0), 1.0
        cost = [R * r * w.sum() + d * (np.maximum(g - R, 0) * w).sum() for R in range(21)]
        best = min(cost)
        got = float(capacity.cheapest_reservation(g, w, usd_reserved=r, usd_on_demand=d))
        assert R_cost(got, g, w, r, d) == pytest.approx(best, rel=1e-12, abs=1e-9)


def R_cost(R: float, g: np.ndarray, w: np.ndarray, r: float, d: float) -> float:
    return R * r * w.sum() + d * (np.maximum(g - R, 0) * w).sum()


def test_no_reservation_when_it_is_not_cheaper() -> None:
    assert capacity.cheapest_reservation([5.0, 5.0], [1.0, 1.0], usd_reserved=1.0,
                                         usd_on_demand=1.0) == 0.0


# ------------------------------------------------------------ staffing, hardware


def test_on_call_minimum_is_the_sre_books() -> None:
    assert staffing.min_on_call_headcount("24x7") == 8          # sre.google ch. 11
    assert staffing.min_on_call_headcount("business_hours") == 3
    assert staffing.min_on_call_headcount("none") == 0
    with pytest.raises(ValueError, match="on_call_coverage="):
        staffing.min_on_call_headcount("weekdays")


def test_colocation_tier_and_resale_curve() -> None:
    kw = np.array([10.2, 249.9, 250.0, 1000.0])
    np.testing.assert_array_equal(
        colo_usd_per_kw_month(kw, retail=275.0, wholesale=184.06, wholesale_min_kw=250.0),
        [275.0, 275.0, 184.06, 184.06])
    # the default decline sits inside every range of its source (1-5 years)
    ranges = [(0.60, 0.65), (0.40, 0.45), (0.25, 0.35), (0.15, 0.20), (0.10, 0.15)]
    for years, (lo, hi) in enumerate(ranges, start=1):
        assert lo <= resale_share(years, 0.36) <= hi


# ------------------------------------------------------------------- API terms


def test_price_index_and_refreshes() -> None:
    m = np.arange(0, 37)
    idx = api_price.price_index(m, decline=0.1, live_from=2, refresh_months=12,
                                refresh_price_share=0.5)
    assert idx[1] == 1.0 and idx[13] == pytest.approx(0.9)
    assert idx[14] == pytest.approx(0.9 ** (13 / 12) * 0.5)      # first refresh, month 14
    assert idx[26] == pytest.approx(0.9 ** (25 / 12) * 0.25)
    mask = api_price.refresh_months_mask(m, live_from=2, refresh_months=12)
    assert np.flatnonzero(mask).tolist() == [14, 26]
    assert not api_price.refresh_months_mask(m, live_from=2, refresh_months=0).any()


def test_lowest_tier_that_holds_is_used() -> None:
    S = scenarios.load("hospital_notes")
    plan = api_limits.quota_plan(S)
    # 1.2e9 tokens x 2 / 2,628,000 s = 913 tokens/s at peak; 90% input = 49,315 a minute:
    # over Tier 1's 30,000, under Tier 2's 450,000
    assert plan.input_tokens_per_minute[1] == pytest.approx(1.2e9 * 2 / 2_628_000 * 60 * 0.9)
    assert plan.tier[3] == "tier_2" and plan.feasible


def test_negotiated_quota_replaces_the_tiers_and_cached_reads_do_not_count() -> None:
    S = scenarios.load("hospital_notes", api_tokens_per_minute=40_000.0)
    assert api_limits.quota_plan(S).over_top_share[3] > 0
    T = S.replace(cached_input_share=0.5)           # half the input is cached: 24,658 a min
    assert api_limits.quota_plan(T).over_top_share[3] == 0


def test_model_without_published_limits_is_not_checked() -> None:
    S = scenarios.load("hospital_notes", api_model="deepseek-chat")
    p = api_limits.quota_plan(S)
    assert p.top is None and p.feasible and api_limits.quota_blocking_reasons(S) == []


# ------------------------------------------------------------- fields and errors


@pytest.mark.parametrize("field,value,match", [
    ("target_utilisation", 0.0, "target_utilisation=0.0"),
    ("target_utilisation", 1.2, "target_utilisation=1.2"),
    ("redundancy", "n+1", "redundancy='n\\+1'"),
    ("on_call_coverage", "24/7", "on_call_coverage='24/7'"),
    ("load_profile", "weekday", "load_profile='weekday'"),
    ("peak_to_average", 9.0, "peak_to_average=9.0"),
    ("resale_decline_per_year", 1.0, "resale_decline_per_year=1.0"),
    ("api_refresh_price_share", 0.0, "api_refresh_price_share=0.0"),
    ("api_refresh_months", -1, "api_refresh_months=-1"),
    ("downtime_usd_per_hour", -5.0, "downtime_usd_per_hour=-5.0"),
])
def test_bad_operations_input_is_refused_at_load(field: str, value: object, match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        scenarios.load("bank_support", **{field: value})
