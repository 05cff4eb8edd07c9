"""Scenario fields read by the drift cost model, with defaults and sources.

``DRIFT_FIELDS`` maps a flat scenario field name to a dict with the keys
``default``, ``unit``, ``allowed`` (every number bounded below and above), ``why`` (the
reason for the bounds), ``doc`` and ``source``. The scenario schema
(``buildbuy.scenarios``) merges these into its own field list; this module
must not import it.

Most drift costs have **no public benchmark**: we found no public, quantified
benchmark of retraining cadence or cost for LLMs.
Such defaults are marked "illustrative" in ``source``: they are starting
values for a learner to replace with their own, not sourced figures.

The cost model also reads these fields owned by the scenario schema:
``horizon_months``, ``gpu``, ``hosting``, ``ml_engineer_usd_per_year`` and (for the
staff capacity that already covers drift work) ``ml_engineer_fte_a`` and
``ml_engineer_fte_b``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DRIFT_FIELDS", "KINDS", "MONITORS", "POLICIES", "SHAPES", "defaults"]

POLICIES: tuple[str, ...] = ("never", "periodic", "triggered", "oracle")
KINDS: tuple[str, ...] = ("covariate", "prior", "concept")
SHAPES: tuple[str, ...] = ("sudden", "gradual", "incremental", "recurring")
MONITORS: tuple[str, ...] = ("labels", "label_free")

_ILLUSTRATIVE = ("illustrative placeholder: no public benchmark found "
                 "(public TCO studies model serving, not retraining)")

DRIFT_FIELDS: dict[str, dict[str, Any]] = {
    # --- self-host side (Scenario B): how the world drifts ---------------------------
    "retrain_policy": {
        "default": "periodic", "unit": "",
        "allowed": "one of 'never', 'periodic', 'triggered', 'oracle'",
        "doc": "When the self-hosted model is retrained: never; every retrain_every_months; "
               "when a drift detector on the monitored signal alarms; or the oracle bound "
               "(perfect, instant knowledge of true quality).",
        "source": "policy taxonomy: blind (periodic) vs informed (trigger-based) adaptation, Gama "
                  "et al., ACM CSUR 46(4) 2014; never as the baseline, the oracle as a bound "
                  "(course design)",
    },
    "retrain_every_months": {
        "default": 3, "unit": "months", "allowed": "a whole number from 1 to 120",
        "why": "at most ten years, the longest horizon",
        "doc": "Months between retrains under the periodic policy.",
        "source": "illustrative: quarterly, a common example cadence; we found no survey of "
                  "real retraining cadences",
    },
    "drift_kind": {
        "default": "concept", "unit": "",
        "allowed": "one of 'covariate', 'prior', 'concept'",
        "doc": "What changes: P(x) (covariate), P(y) (prior) or P(y|x) (concept). It decides "
               "what a label-free monitor can see: covariate shift yes, concept drift no.",
        "source": "taxonomy of Moreno-Torres et al. 2012 and Gama et al. 2014 "
                  "(Pattern Recognition 45(1); ACM CSUR 46(4))",
    },
    "drift_shape": {
        "default": "gradual", "unit": "",
        "allowed": "one of 'sudden', 'gradual', 'incremental', 'recurring'",
        "doc": "How each drift event unfolds over time: a step, a sigmoid mixture, a linear "
               "ramp over drift_width_days, or a temporary episode of drift_width_days that "
               "then reverts.",
        "source": "Gama et al., ACM CSUR 46(4) 2014; sigmoid width as in river/MOA "
                  "ConceptDriftStream (river 0.26 datasets/synth/concept_drift_stream.py; MOA "
                  "ConceptDriftStream.java)",
    },
    "drift_events_per_year": {
        "default": 1.0, "unit": "events/year", "allowed": "a finite number from 0 to 365",
        "why": "at most one a day",
        "doc": "Expected number of drift events per year (Poisson arrivals, simulated as at "
               "most one a day).",
        "source": _ILLUSTRATIVE + "; Vela et al., Sci. Rep. 2022: 91% of 128 "
                  "model-dataset pairs degraded over time, so 0 is optimistic",
    },
    "drift_width_days": {
        "default": 60, "unit": "days", "allowed": "a whole number from 1 to 3650",
        "why": "a drift spread over more than ten years is not an event",
        "doc": "Duration of one drift event's transition (gradual, incremental) or of one "
               "episode (recurring). Ignored for sudden drift.",
        "source": _ILLUSTRATIVE,
    },
    "drift_quality_loss_points": {
        "default": 10.0, "unit": "quality points", "allowed": "a finite number from 0 to 100",
        "why": "quality points are on a 0-100 scale",
        "doc": "Quality points (e.g. accuracy percentage points) the model loses once one "
               "drift event has fully taken place. Several events add up to a cap of "
               "this value: a model can at most become this much worse. Together with "
               "base_error_rate it must keep the error rate <= 1.",
        "source": _ILLUSTRATIVE + "; for scale, Chen, Zaharia & Zou 2023 "
                  "(arXiv 2307.09009) measured a task-level swing of 33 points "
                  "(GPT-4 primes 84% -> 51%)",
    },
    "label_delay_days": {
        "default": 7, "unit": "days", "allowed": "a whole number from 0 to 365",
        "why": "labels arriving more than a year late cannot steer retraining",
        "doc": "Days until ground-truth labels arrive. A labelled monitor sees quality this "
               "late, and a retrain learns the concept as it was this many days ago.",
        "source": "verification latency (frouros 0.10 documentation, "
                  "docs/source/concepts.md); value " + _ILLUSTRATIVE,
    },
    "retrain_lead_days": {
        "default": 7, "unit": "days", "allowed": "a whole number from 0 to 365",
        "why": "a retrain taking more than a year is a new project",
        "doc": "Days from the decision to retrain until the new model serves traffic.",
        "source": _ILLUSTRATIVE,
    },
    "drift_monitor": {
        "default": "labels", "unit": "",
        "allowed": "one of 'labels', 'label_free'",
        "doc": "Signal the triggered policy watches: the labelled error rate (delayed by "
               "label_delay_days, costs monitor_samples_per_day labels a day) or a "
               "label-free confidence-based estimate (no delay, no label cost, blind to "
               "concept and prior drift).",
        "source": "CBPE assumptions, NannyML docs how_it_works/performance_estimation.rst "
                  "(NannyML 0.13, 'Assumptions and Limitations')",
    },
    "base_error_rate": {
        "default": 0.10, "unit": "share", "allowed": "a finite number from 0 to 1",
        "why": "a share",
        "doc": "Error rate of a freshly trained model. A loss of q quality points raises it "
               "by q/100. It sets the noise a monitor must see through.",
        "source": _ILLUSTRATIVE,
    },
    "monitor_samples_per_day": {
        "default": 20, "unit": "samples/day", "allowed": "a whole number from 1 to 10000000",
        "why": "up to ten million labelled samples a day",
        "doc": "Production samples scored by the monitor each day (labelled when "
               "drift_monitor='labels').",
        "source": _ILLUSTRATIVE,
    },
    # --- self-host side (Scenario B): what a retrain costs --------------------------
    "retrain_gpu_hours": {
        "default": 64.0, "unit": "GPU-hours", "allowed": "a finite number from 0 to 10000000",
        "why": "up to ten million GPU-hours, the scale of a frontier pre-training run",
        "doc": "GPU-hours of one retrain (fine-tune plus evaluation runs), priced through "
               "buildbuy.costs.gpu_hours_cost_usd on the scenario's gpu and hosting.",
        "source": _ILLUSTRATIVE + " (8 GPUs x 8 h); fine-tune compute scales as "
                  "epochs x training tokens + evals x validation tokens (Together AI "
                  "fine-tuning pricing docs)",
    },
    "labels_per_retrain": {
        "default": 2000, "unit": "labels", "allowed": "a whole number from 0 to 100000000",
        "why": "up to a hundred million labels",
        "doc": "Fresh labelled examples bought for one retrain.",
        "source": _ILLUSTRATIVE,
    },
    "usd_per_label": {
        "default": 2.0, "unit": "USD/label", "allowed": "a finite number from 0 to 1000",
        "why": "up to $1,000, above expert (clinical, legal) annotation rates",
        "doc": "Price of one labelled example (retraining labels and monitoring labels).",
        "source": _ILLUSTRATIVE,
    },
    "engineer_days_per_retrain": {
        "default": 5.0, "unit": "engineer-days", "allowed": "a finite number from 0 to 2600",
        "why": "up to ten engineer-years",
        "doc": "ML-engineer days per retrain (data prep, run, evaluation, release). Priced at "
               "ml_engineer_usd_per_year / engineer_working_days_per_year.",
        "source": _ILLUSTRATIVE,
    },
    "engineer_working_days_per_year": {
        "default": 260, "unit": "days/year", "allowed": "a whole number from 1 to 366",
        "why": "days in a year",
        "doc": "Working days that turn an annual engineer cost into a day rate. 260 = 52 "
               "weeks x 5 weekdays, before leave and holidays; deducting ~25 days of leave "
               "would raise the day rate by ~11%.",
        "source": "calendar arithmetic (52 x 5)",
    },
    "fte_share_for_drift": {
        "default": 0.2, "unit": "share of ML-engineer FTE time",
        "allowed": "a finite number from 0 to 1",
        "why": "a share of one FTE",
        "doc": "Share of each side's ML-engineer time (ml_engineer_fte_a / ml_engineer_fte_b, "
               "already paid in the people lines) that is set aside for drift work: "
               "retrains, false-alarm investigations, forced migrations and silent-change "
               "fixes. Drift engineer days within that yearly capacity add no cost (the "
               "salaries are already counted); only days beyond it are priced, at the "
               "engineer day rate (extra staff or contractors). 0 prices every drift day "
               "on top of the staff lines.",
        "source": "one day a week of each ML engineer; " + _ILLUSTRATIVE
                  + ". Keeps drift work from being counted twice, once in the FTE lines "
                  "and again as engineer days (docs/drift.md section 4)",
    },
    "monitoring_usd_per_month": {
        "default": 500.0, "unit": "USD/month", "allowed": "a finite number from 0 to 1000000",
        "why": "up to $1M a month",
        "doc": "Monitoring tooling and eval runs per month, paid on both sides (A and B).",
        "source": _ILLUSTRATIVE,
    },
    "false_alarm_investigation_days": {
        "default": 0.5, "unit": "engineer-days", "allowed": "a finite number from 0 to 260",
        "why": "up to a working year per alarm",
        "doc": "Engineer days spent on an alarm that turns out to be false (no retrain).",
        "source": _ILLUSTRATIVE + "; alert fatigue is a documented pain point "
                  "(Shankar et al., 'Operationalizing Machine Learning: An Interview Study', "
                  "arXiv 2209.09125, 2022)",
    },
    "quality_value_usd_per_point_month": {
        "default": 1000.0, "unit": "USD/(quality point x month)",
        "allowed": "a finite number from 0 to 100000000",
        "why": "up to $100M per quality point a month",
        "doc": "Business value of one quality point for one month: the cost of serving a "
               "model one point worse for a month.",
        "source": _ILLUSTRATIVE + "; set from your own conversion, e.g. tickets "
                  "escalated per point x cost per escalation",
    },
    # --- vendor side (Scenario A) ---------------------------------------------------
    "api_model_lifetime_months": {
        "default": 12, "unit": "months", "allowed": "a whole number from 1 to 120",
        "why": "at most ten years, the longest horizon",
        "doc": "Months between forced migrations to a new model version.",
        "source": "Azure OpenAI keeps GA versions >= 12 months; Vertex AI stable versions "
                  "retire ~12 months after release; OpenAI gives >= 6 months' notice, "
                  "Anthropic >= 60 days (the vendors' model-deprecation pages: "
                  "learn.microsoft.com, cloud.google.com/vertex-ai, "
                  "developers.openai.com/api/docs/deprecations, platform.claude.com, 2025-26)",
    },
    "api_migration_engineer_days": {
        "default": 10.0, "unit": "engineer-days", "allowed": "a finite number from 0 to 2600",
        "why": "up to ten engineer-years",
        "doc": "Engineer days per forced migration: re-run the eval set, rework prompts, "
               "regression-test.",
        "source": _ILLUSTRATIVE,
    },
    "api_silent_changes_per_year": {
        "default": 1.0, "unit": "events/year", "allowed": "a finite number from 0 to 365",
        "why": "at most one a day",
        "doc": "Expected behaviour changes per year that the vendor ships without a version "
               "change (Poisson arrivals). Near 0 if you pin dated snapshots.",
        "source": "Chen, Zaharia & Zou 2023 (arXiv 2307.09009): GPT-4 and GPT-3.5 changed "
                  "between the March and June 2023 snapshots; the rate is " + _ILLUSTRATIVE,
    },
    "api_silent_change_quality_points": {
        "default": 3.0, "unit": "quality points", "allowed": "a finite number from 0 to 100",
        "why": "quality points are on a 0-100 scale",
        "doc": "Quality points lost by one silent change until it is found and fixed.",
        "source": _ILLUSTRATIVE + "; Chen et al. 2023 saw task-level swings of up to 33 "
                  "points (GPT-4 primes 84% -> 51%, v2 abstract), an extreme",
    },
    "api_silent_change_detect_days": {
        "default": 30, "unit": "days", "allowed": "a whole number from 0 to 3650",
        "why": "up to ten years",
        "doc": "Days a silent change goes unnoticed (e.g. until the next monthly eval run).",
        "source": _ILLUSTRATIVE,
    },
    "api_silent_change_fix_days": {
        "default": 2.0, "unit": "engineer-days", "allowed": "a finite number from 0 to 2600",
        "why": "up to ten engineer-years",
        "doc": "Engineer days to re-prompt and re-test after a silent change is found.",
        "source": _ILLUSTRATIVE,
    },
}


def defaults() -> dict[str, Any]:
    """Default value of every drift field.

    Examples
    --------
    >>> defaults()["api_model_lifetime_months"]
    12
    """
    return {name: spec["default"] for name, spec in DRIFT_FIELDS.items()}
