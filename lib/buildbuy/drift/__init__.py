"""Drift: drifting streams, detectors, the label-free blind spot, retraining costs.

Modules, one concept each:

* :mod:`~buildbuy.drift.assumptions` - the scenario fields the cost model reads.
* :mod:`~buildbuy.drift.streams` - covariate / prior / concept drift, four shapes.
* :mod:`~buildbuy.drift.batch` - PSI (+ sample-size-aware threshold), KS, Jensen-Shannon.
* :mod:`~buildbuy.drift.streaming` - Page-Hinkley and DDM (functions and river-style objects).
* :mod:`~buildbuy.drift.quality` - accuracy over time, CBPE-style estimate, the blind spot.
* :mod:`~buildbuy.drift.policies` - never / periodic / triggered / oracle, vectorised.
* :mod:`~buildbuy.drift.costs` - monthly cost lines for the TCO, policy comparison.
"""

from buildbuy.drift.assumptions import DRIFT_FIELDS, KINDS, MONITORS, POLICIES, SHAPES
from buildbuy.drift.batch import (
    binned_shares,
    js_distance,
    ks_test,
    psi,
    psi_threshold,
    reference_threshold,
)
from buildbuy.drift.costs import (
    compare_policies,
    cost_lines,
    drift_capacity_days_per_year,
    engineer_usd_per_day,
    policy_params,
    retrain_cost_usd,
    uncovered_engineer_days,
    vendor_costs,
)
from buildbuy.drift.policies import (
    PolicyParams,
    SimResult,
    concept_paths,
    simulate,
    simulate_policies,
)
from buildbuy.drift.quality import (
    accuracy,
    accuracy_over_time,
    blind_spot,
    cbpe_accuracy,
    model_proba,
)
from buildbuy.drift.streaming import DDM, PageHinkley, ddm, page_hinkley
from buildbuy.drift.streams import Stream, drift_weights, make_stream

__all__ = [
    "DDM", "DRIFT_FIELDS", "KINDS", "MONITORS", "POLICIES", "SHAPES", "PageHinkley",
    "PolicyParams", "SimResult", "Stream", "accuracy", "accuracy_over_time",
    "binned_shares", "blind_spot", "cbpe_accuracy", "compare_policies", "concept_paths",
    "cost_lines", "ddm", "drift_capacity_days_per_year", "drift_weights",
    "engineer_usd_per_day", "js_distance",
    "ks_test", "make_stream", "model_proba", "page_hinkley", "policy_params", "psi",
    "psi_threshold", "reference_threshold", "retrain_cost_usd", "simulate",
    "simulate_policies", "uncovered_engineer_days", "vendor_costs",
]
