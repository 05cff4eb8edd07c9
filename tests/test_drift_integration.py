"""buildbuy.drift with the real scenario schema, price table and TCO model."""

from __future__ import annotations

import numpy as np
import pytest

import buildbuy.drift as drift

costs = pytest.importorskip("buildbuy.costs")
scenarios = pytest.importorskip("buildbuy.scenarios")


def test_schema_carries_every_drift_field() -> None:
    assert set(drift.DRIFT_FIELDS) <= set(scenarios.FIELDS)


@pytest.mark.parametrize("persona", ["bank_support", "hospital_notes", "retail_search"])
def test_retrain_compute_is_priced_by_buildbuy_costs(persona: str) -> None:
    S = scenarios.load(persona)
    want = costs.gpu_hours_cost_usd(S.gpu, S.retrain_gpu_hours, hosting=S.hosting)
    assert drift.retrain_cost_usd(S)["compute"] == pytest.approx(want)
    t = drift.cost_lines(S, runs=50)
    assert sorted(t.month.unique()) == list(range(1, S.horizon_months + 1))


def test_cost_lines_from_a_loaded_scenario_follow_overrides() -> None:
    # fte_share_for_drift=0: no staff capacity, so the migration days are priced
    S = scenarios.load("bank_support", retrain_policy="never", horizon_months=12,
                       fte_share_for_drift=0.0)
    t = drift.cost_lines(S, runs=50)
    b = t[t.scenario == "B"].groupby("component").usd.sum()
    assert b.drop("lost_quality").sum() == 0.0
    assert np.isclose(t[(t.scenario == "A") & (t.component == "forced_migration")].usd.sum(),
                      S.api_migration_engineer_days * drift.engineer_usd_per_day(S))


def test_retrain_compute_uses_the_scenario_gpu_price_override() -> None:
    # the TCO rents GPUs at gpu_usd_per_hour when it is set; retraining must too
    S = scenarios.load("retail_search", gpu_usd_per_hour=2.0)
    assert drift.retrain_cost_usd(S)["compute"] == pytest.approx(S.retrain_gpu_hours * 2.0)
