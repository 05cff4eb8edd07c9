"""Every drift field is documented and sourced (docstring examples: test_docstrings.py)."""

from __future__ import annotations


def test_drift_fields_are_complete_and_sourced() -> None:
    from buildbuy.drift.assumptions import DRIFT_FIELDS

    required = {"retrain_policy", "retrain_every_months", "drift_kind", "drift_shape",
                "drift_quality_loss_points", "retrain_gpu_hours", "labels_per_retrain",
                "usd_per_label", "engineer_days_per_retrain", "monitoring_usd_per_month",
                "false_alarm_investigation_days", "quality_value_usd_per_point_month",
                "api_model_lifetime_months", "api_migration_engineer_days",
                "api_silent_changes_per_year", "api_silent_change_quality_points"}
    assert required <= set(DRIFT_FIELDS)
    for name, spec in DRIFT_FIELDS.items():
        keys = {"default", "unit", "allowed", "doc", "source"}
        assert keys <= set(spec) <= keys | {"why"}, name
        assert "why" in spec or spec["allowed"].startswith("one of"), name  # a bound's reason
        assert spec["source"] and spec["doc"] and spec["allowed"], name
