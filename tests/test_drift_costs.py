"""Retraining policies and the monthly drift cost lines (buildbuy.drift.policies / costs)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import buildbuy.drift.costs as dc
from buildbuy.drift import (
    DRIFT_FIELDS,
    PolicyParams,
    compare_policies,
    concept_paths,
    cost_lines,
    engineer_usd_per_day,
    retrain_cost_usd,
    simulate,
    simulate_policies,
    vendor_costs,
)
from buildbuy.drift.costs import (
    COMPONENTS_A,
    COMPONENTS_B,
    drift_capacity_days_per_year,
    uncovered_engineer_days,
)

GPU_USD_PER_HOUR = 4.0


@pytest.fixture(autouse=True)
def _price_gpu_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    """Price GPU-hours at a known rate, independent of buildbuy.costs."""
    monkeypatch.setattr(dc, "_gpu_hours_cost_usd",
                        lambda gpu, hours, hosting: GPU_USD_PER_HOUR * hours)


def scenario(**changes: object) -> SimpleNamespace:
    base = {name: spec["default"] for name, spec in DRIFT_FIELDS.items()}
    base.update(horizon_months=12, gpu="H100-SXM", hosting="cloud_on_demand",
                ml_engineer_usd_per_year=260_000.0)       # 1 000 USD per engineer day
    base.update(changes)
    return SimpleNamespace(**base)


def _sudden_path(days: int, at: int, runs: int = 1) -> np.ndarray:
    return np.broadcast_to((np.arange(days) >= at).astype(float), (runs, days)).copy()


# ---------------------------------------------------------------- policies by hand


def test_never_loss_equals_formula() -> None:
    p = PolicyParams(horizon_days=400, shape="incremental", events_per_year=3, width_days=30)
    paths = concept_paths(p, runs=50, seed=1)
    r = simulate(p, "never", paths=paths, runs=50)
    np.testing.assert_allclose(r.loss_points, 10.0 * np.minimum(1.0, np.abs(paths)))
    assert not r.retrains.any()


def test_periodic_by_hand() -> None:
    p = PolicyParams(horizon_days=90, shape="sudden", retrain_every_days=30,
                     label_delay_days=5, retrain_lead_days=3)
    r = simulate(p, "periodic", runs=1, paths=_sudden_path(90, 40))
    assert np.flatnonzero(r.retrains[0]).tolist() == [30, 60]
    # drift from day 40; the day-60 retrain learns day 55 (drifted), serves from day 63
    assert r.loss_points[0].sum() == 10.0 * (63 - 40)


def test_label_delay_makes_a_retrain_learn_the_old_concept() -> None:
    p = PolicyParams(horizon_days=90, shape="sudden", retrain_every_days=30,
                     label_delay_days=10, retrain_lead_days=1)
    r = simulate(p, "periodic", runs=1, paths=_sudden_path(90, 55))
    # the day-60 retrain learns day 50 (before the drift): useless; day-90 is past the end
    assert r.loss_points[0].sum() == 10.0 * (90 - 55)


def test_oracle_ski_rental_by_hand() -> None:
    p = PolicyParams(horizon_days=30, shape="sudden", retrain_cost_usd=2500.0,
                     usd_per_point_day=100.0)
    r = simulate(p, "oracle", runs=1, paths=_sudden_path(30, 10))
    # 10 points x 100 USD a day: 1000, 2000, 3000 >= 2500 on day 12; new model from day 13
    assert np.flatnonzero(r.retrains[0]).tolist() == [12]
    assert r.loss_points[0].sum() == 30.0


def test_triggered_detects_sudden_drift_with_labels() -> None:
    p = PolicyParams(horizon_days=300, shape="sudden")
    r = simulate(p, "triggered", runs=300, paths=_sudden_path(300, 100, 300), seed=3)
    first = np.array([np.flatnonzero(x)[0] if x.any() else 10_000 for x in r.retrains])
    assert (first >= 100).all()                   # no retrain before the drift
    delay = np.median(first - 100)
    assert 7 <= delay <= 60                       # label delay 7 days + DDM at 20 samples/day


def test_label_free_monitor_misses_concept_drift() -> None:
    common = dict(horizon_days=360, shape="sudden", events_per_year=2)
    paths = concept_paths(PolicyParams(**common), runs=300, seed=0)
    labels = simulate(PolicyParams(**common, monitor="labels"), "triggered", runs=300,
                      paths=paths)
    blind = simulate(PolicyParams(**common, monitor="label_free", visible_share=0.0),
                     "triggered", runs=300, paths=paths)
    sees = simulate(PolicyParams(**common, monitor="label_free", visible_share=1.0),
                    "triggered", runs=300, paths=paths)
    assert blind.retrains.sum() < 0.2 * labels.retrains.sum()
    assert blind.loss_points.mean() > 2 * labels.loss_points.mean()
    # a label-free alarm comes a label delay earlier but must wait for labels to retrain
    assert sees.loss_points.mean() == pytest.approx(labels.loss_points.mean(), rel=0.15)


def test_policies_share_paths_and_oracle_loses_least_quality() -> None:
    res = simulate_policies(PolicyParams(horizon_days=365), runs=300, seed=0)
    loss = {k: r.loss_points.mean() for k, r in res.items()}
    assert loss["oracle"] < loss["periodic"] < loss["never"]
    assert loss["triggered"] < loss["never"]
    # common random numbers: never's loss is the path itself
    paths = concept_paths(PolicyParams(horizon_days=365), runs=300, seed=0)
    np.testing.assert_allclose(res["never"].loss_points, 10 * np.minimum(1, paths))


def test_same_seed_same_result() -> None:
    p = PolicyParams(horizon_days=200)
    a = simulate(p, "triggered", runs=50, seed=7)
    b = simulate(p, "triggered", runs=50, seed=7)
    c = simulate(p, "triggered", runs=50, seed=8)
    assert np.array_equal(a.loss_points, b.loss_points)
    assert np.array_equal(a.false_alarms, b.false_alarms)
    assert not np.array_equal(a.loss_points, c.loss_points)


def test_expected_never_loss_matches_closed_form() -> None:
    # sudden drift, never retrain: E[loss on day t] = L (1 - (1 - q)^(t+1)), q = rate/365
    S = scenario(horizon_months=24, retrain_policy="never", drift_shape="sudden",
                 drift_events_per_year=1.0)
    t = cost_lines(S, runs=4000, seed=0)
    got = t[(t.scenario == "B") & (t.component == "lost_quality")].usd.sum()
    days = np.arange(24 * 30)
    want = (10.0 * (1 - (1 - 1 / 365) ** (days + 1))).sum() * 1000.0 / 30
    assert got == pytest.approx(want, rel=0.06)          # 3 standard errors at 4 000 runs


# ---------------------------------------------------------------- cost lines


def test_retrain_cost_by_hand() -> None:
    S = scenario()
    assert engineer_usd_per_day(S) == pytest.approx(1000.0)
    assert retrain_cost_usd(S) == pytest.approx(
        {"compute": 64 * GPU_USD_PER_HOUR, "labels": 2000 * 2.0, "engineering": 5 * 1000.0})


def test_cost_lines_shape_and_sign() -> None:
    t = cost_lines(scenario(), runs=100)
    assert list(t.columns) == ["month", "scenario", "component", "usd"]
    assert set(t[t.scenario == "A"].component) == set(COMPONENTS_A)
    assert set(t[t.scenario == "B"].component) == set(COMPONENTS_B)
    assert sorted(t.month.unique()) == list(range(1, 13))
    assert (t.usd >= 0).all() and np.isfinite(t.usd).all()


def test_periodic_retrain_costs_by_hand() -> None:
    t = cost_lines(scenario(retrain_policy="periodic", retrain_every_months=3), runs=20)
    b = t[t.scenario == "B"].pivot(index="month", columns="component", values="usd")
    # retrains on days 90, 180, 270 = months 4, 7, 10; monitoring every month
    assert b.retrain_labels[b.retrain_labels > 0].index.tolist() == [4, 7, 10]
    assert b.retrain_labels.sum() == 3 * 4000.0
    assert b.retrain_compute.sum() == 3 * 256.0
    assert b.retrain_engineering.sum() == pytest.approx(3 * 5000.0)
    assert (b.monitoring == 500.0).all()


def test_vendor_side_by_hand() -> None:
    S = scenario(horizon_months=36, api_silent_changes_per_year=0.0)
    a = vendor_costs(S, runs=10)
    assert np.flatnonzero(a["forced_migration"]).tolist() == [11, 23, 35]
    assert a["forced_migration"].sum() == 3 * 10 * 1000.0
    assert a["lost_quality"].sum() == 0.0 and a["silent_change_fix"].sum() == 0.0


def test_vendor_silent_changes_expected_cost() -> None:
    S = scenario(horizon_months=24, api_silent_changes_per_year=2.0)
    a = vendor_costs(S, runs=4000, seed=1)
    events = 2.0 / 365 * 720                            # expected changes per run
    assert a["silent_change_fix"].sum() == pytest.approx(events * 2 * 1000.0, rel=0.05)
    # each costs 3 points for 30 days = 3 point-months = 3 000 USD (less at the horizon's end)
    assert a["lost_quality"].sum() == pytest.approx(events * 3000.0 * (1 - 15 / 720), rel=0.05)


def test_zero_costs_give_zero() -> None:
    zero = {name: 0.0 for name, spec in DRIFT_FIELDS.items()
            if isinstance(spec["default"], float) and name != "base_error_rate"}
    S = scenario(**zero, labels_per_retrain=0, ml_engineer_usd_per_year=0.0)
    t = cost_lines(S, runs=20)
    assert t.usd.sum() == 0.0


def test_cost_lines_deterministic_for_a_seed() -> None:
    S = scenario(retrain_policy="triggered")
    a = cost_lines(S, runs=100, seed=3)
    b = cost_lines(S, runs=100, seed=3)
    c = cost_lines(S, runs=100, seed=4)
    assert a.equals(b)
    assert not a.equals(c)


def test_compare_policies() -> None:
    t = compare_policies(scenario(horizon_months=24), runs=300)
    assert t.index.tolist() == ["never", "periodic", "triggered", "oracle"]
    parts = t[list(COMPONENTS_B)]
    np.testing.assert_allclose(parts.sum(axis=1), t.total_usd)
    assert t.loc["never", "total_usd"] == t.loc["never", "lost_quality"]
    assert t.loc["oracle", "total_usd"] < t.total_usd.drop("oracle").min()
    # days 90, 180, ..., 630 of 720: 7 retrains in 720/365 years
    assert t.loc["periodic", "retrains_per_year"] == pytest.approx(7 * 365 / 720)


@pytest.mark.parametrize("field,value", [
    ("retrain_policy", "sometimes"),
    ("drift_kind", "label"),
    ("retrain_every_months", 0),
    ("usd_per_label", -1.0),
    ("drift_events_per_year", 400.0),
    ("base_error_rate", 1.5),
    ("label_delay_days", 2.5),
])
def test_bad_field_names_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"^{field}=.* is invalid: must be"):
        cost_lines(scenario(**{field: value}), runs=5)


def test_missing_required_field_is_named() -> None:
    S = scenario()
    del S.horizon_months
    with pytest.raises(ValueError, match="horizon_months"):
        cost_lines(S, runs=5)


def test_loss_plus_base_error_above_one_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^drift_quality_loss_points="):
        cost_lines(scenario(base_error_rate=0.95, drift_quality_loss_points=10.0), runs=5)


# ---- drift engineer days are not counted twice with the FTE lines
def test_capacity_by_hand() -> None:
    # 0.5 FTE x 260 days x 0.2 = 26 days a year; no FTE attribute: no capacity
    S = scenario(ml_engineer_fte_a=0.5)
    assert drift_capacity_days_per_year(S, "a") == pytest.approx(26.0)
    assert drift_capacity_days_per_year(S, "b") == 0.0


def test_uncovered_days_by_hand() -> None:
    # 12 months, capacity 12 days/yr; 8 days in month 2, 8 in month 5 (4 over), 8 in
    # month 14 (year 2, 24 months -> capacity 12 again: covered)
    d = np.zeros(24)
    d[[1, 4, 13]] = 8.0
    out = uncovered_engineer_days({"x": d}, 12.0)["x"]
    assert out.tolist() == [0.0] * 4 + [4.0] + [0.0] * 19


def test_excess_split_across_components_by_their_days() -> None:
    # month 1: 3 + 1 days against 2 days capacity (2 months -> 12 x 2 / 12 = 2): 2 over
    out = uncovered_engineer_days({"a": np.array([[3.0, 0.0]]), "b": np.array([[1.0, 0.0]])},
                                  12.0)
    assert out["a"][0, 0] == pytest.approx(1.5) and out["b"][0, 0] == pytest.approx(0.5)


def test_vendor_migration_covered_by_staff() -> None:
    # 10 migration days a year against 0.5 FTE x 260 x 0.2 = 26 days: covered
    S = scenario(horizon_months=24, api_silent_changes_per_year=0.0, ml_engineer_fte_a=0.5)
    assert vendor_costs(S, runs=5)["forced_migration"].sum() == 0.0
    # a tenth of an FTE (5.2 days a year): 4.8 of the 10 days are priced, each year
    a = vendor_costs(S.__class__(**{**vars(S), "ml_engineer_fte_a": 0.1}), runs=5)
    np.testing.assert_allclose(a["forced_migration"][[11, 23]], 4.8 * 1000.0)
    # share 0: every day priced (the behaviour without the staff lines)
    z = vendor_costs(S.__class__(**{**vars(S), "fte_share_for_drift": 0.0}), runs=5)
    assert z["forced_migration"].sum() == pytest.approx(2 * 10 * 1000.0)


def test_periodic_retrain_engineering_beyond_capacity_only() -> None:
    # 3 retrains x 5 days = 15 days in 12 months; 0.25 FTE x 260 x 0.2 = 13 days covered,
    # so the third retrain (month 10) pays 2 days; compute and labels are unaffected
    t = cost_lines(scenario(ml_engineer_fte_b=0.25), runs=20)
    b = t[t.scenario == "B"].pivot(index="month", columns="component", values="usd")
    assert b.retrain_engineering.sum() == pytest.approx(2 * 1000.0)
    assert b.retrain_engineering[10] == pytest.approx(2 * 1000.0)
    assert b.retrain_labels.sum() == 3 * 4000.0


def test_personas_do_not_double_count_staff() -> None:
    scenarios = pytest.importorskip("buildbuy.scenarios")
    for name in scenarios.persona_names():
        S = scenarios.load(name)
        t = cost_lines(S, runs=200)
        days_b = t[(t.scenario == "B") & t.component.isin(
            ["retrain_engineering", "false_alarms"])].usd.sum()
        # persona ML staff (>= 1.5 FTE on B) cover a few retrains a year
        assert days_b == 0.0
        full = cost_lines(S.replace(fte_share_for_drift=0.0), runs=200)
        assert full[full.component == "retrain_engineering"].usd.sum() > 0.0


def test_bad_share_is_named() -> None:
    with pytest.raises(ValueError, match="fte_share_for_drift"):
        cost_lines(scenario(fte_share_for_drift=1.5), runs=5)
    with pytest.raises(ValueError, match="ml_engineer_fte_b"):
        cost_lines(scenario(ml_engineer_fte_b=-1.0), runs=5)
