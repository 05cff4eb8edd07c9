"""Drift engineer days are not counted twice with the FTE lines (buildbuy.drift.costs)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import buildbuy.drift.costs as dc
from buildbuy.drift import DRIFT_FIELDS, cost_lines, vendor_costs
from buildbuy.drift.costs import drift_capacity_days_per_year, uncovered_engineer_days


@pytest.fixture(autouse=True)
def _price_gpu_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dc, "_gpu_hours_cost_usd", lambda gpu, hours, hosting: 4.0 * hours)


def scenario(**changes: object) -> SimpleNamespace:
    base = {name: spec["default"] for name, spec in DRIFT_FIELDS.items()}
    base.update(horizon_months=12, gpu="H100-SXM", hosting="cloud_on_demand",
                ml_engineer_usd_per_year=260_000.0)       # 1 000 USD per engineer day
    base.update(changes)
    return SimpleNamespace(**base)


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
