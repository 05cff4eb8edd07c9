"""Monthly drift cost lines for the TCO: Scenario A (vendor API) and B (self-host).

``cost_lines(scenario)`` is the hook ``buildbuy.tco`` adds under category
``"drift"``. It reads scenario fields by attribute (any object with the
attributes works, e.g. ``types.SimpleNamespace``): the drift fields of
:mod:`buildbuy.drift.assumptions` (their defaults stand in for any that are
missing) plus ``horizon_months``, ``gpu``, ``hosting`` and
``ml_engineer_usd_per_year`` (required).

Conventions
-----------
* A month is 30 simulated days; month ``m`` holds days ``30 (m-1) .. 30 m - 1``.
* Costs are expected values: the mean over ``runs`` seeded runs. The same
  seed gives the same numbers.
* An engineer day costs ``ml_engineer_usd_per_year / engineer_working_days_per_year``.
* A cost lands in the month its event happens (a retrain is paid in the month
  it is decided).
* Engineer days are not counted twice. Each side's ML engineers
  (``ml_engineer_fte_a`` / ``ml_engineer_fte_b``) are already paid in full in the
  TCO's people lines, and ``fte_share_for_drift`` of their working days each year
  is drift capacity. Drift days (retrains, false alarms, migrations, silent-change
  fixes) use that capacity first, in date order within each year of the horizon;
  only the days beyond it are priced, in the month they happen
  (:func:`uncovered_engineer_days`). A scenario without those FTE attributes
  has no capacity, so every drift day is priced.

Scenario B components: ``retrain_compute`` (GPU-hours priced by
``buildbuy.costs.gpu_hours_cost_usd`` on the scenario's gpu and hosting),
``retrain_labels``, ``retrain_engineering``, ``monitoring`` (tooling, for the
periodic and triggered policies), ``monitoring_labels`` (triggered policy with
a labelled monitor), ``false_alarms`` (investigation days), ``lost_quality``
(points lost x value per point-month).

Scenario A components: ``forced_migration`` (every ``api_model_lifetime_months``,
``api_migration_engineer_days`` each), ``silent_change_fix``, ``lost_quality``
(``api_silent_change_quality_points`` for ``api_silent_change_detect_days``
per silent change; changes are Poisson, at most one a day), ``monitoring``.
Silent changes are modelled as losses only, though Chen et al. (2023) also saw
tasks improve.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from buildbuy import _validate as v
from buildbuy.drift.assumptions import DRIFT_FIELDS, POLICIES
from buildbuy.drift.policies import PolicyParams, SimResult, simulate, simulate_policies

__all__ = [
    "COMPONENTS_A",
    "COMPONENTS_B",
    "DAYS_PER_MONTH",
    "LABEL_FREE_VISIBLE_SHARE",
    "compare_policies",
    "cost_lines",
    "drift_capacity_days_per_year",
    "engineer_usd_per_day",
    "policy_params",
    "retrain_cost_usd",
    "uncovered_engineer_days",
    "vendor_costs",
]

DAYS_PER_MONTH = 30

#: Share of a quality loss that a label-free (CBPE-style) monitor sees, by drift
#: kind. Covariate shift leaves P(y|x) intact, so a calibrated model's confidence
#: tracks accuracy; concept drift changes P(y|x) and prior drift does too (via
#: Bayes' rule), breaking CBPE's calibration assumption. Measured with
#: :func:`buildbuy.drift.quality.blind_spot`: covariate gap -0.003 (tracked),
#: concept gap +0.146 (missed). Prior shifts of +-1 to +-3 log-odds moved true
#: accuracy by up to 0.007 and the estimate by at most 0.001, so prior is
#: treated as missed too.
LABEL_FREE_VISIBLE_SHARE: dict[str, float] = {"covariate": 1.0, "prior": 0.0, "concept": 0.0}

COMPONENTS_B: tuple[str, ...] = ("retrain_compute", "retrain_labels", "retrain_engineering",
                                 "monitoring", "monitoring_labels", "false_alarms",
                                 "lost_quality")
COMPONENTS_A: tuple[str, ...] = ("forced_migration", "silent_change_fix", "lost_quality",
                                 "monitoring")


def _range(allowed: str) -> tuple[float | None, float | None]:
    m = re.search(r"from (-?[\d.]+) to (-?[\d.]+)", allowed)
    if m:
        return float(m.group(1)), float(m.group(2))
    m = re.search(r">= (-?[\d.]+)", allowed)
    return (float(m.group(1)), None) if m else (None, None)


def _field(scenario: Any, name: str) -> Any:
    """Read and check a drift field; its default stands in when it is missing."""
    spec = DRIFT_FIELDS[name]
    value = getattr(scenario, name, spec["default"])
    default = spec["default"]
    if isinstance(default, str):
        options = tuple(re.findall(r"'([^']+)'", spec["allowed"]))
        return v.choice(name, value, options)
    lo, hi = _range(spec["allowed"])
    if isinstance(default, int):
        return v.integer(name, value, minimum=None if lo is None else int(lo),
                         maximum=None if hi is None else int(hi))
    x = v.finite(name, value)
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise v.bad(name, value, spec["allowed"])
    return x


def _required(scenario: Any, name: str) -> Any:
    if not hasattr(scenario, name):
        raise v.bad("scenario", type(scenario).__name__, f"an object with a {name!r} attribute")
    return getattr(scenario, name)


def _horizon_months(scenario: Any) -> int:
    return v.integer("horizon_months", _required(scenario, "horizon_months"), minimum=1)


def engineer_usd_per_day(scenario: Any) -> float:
    """Cost of one engineer day: ``ml_engineer_usd_per_year / engineer_working_days_per_year``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> round(engineer_usd_per_day(SimpleNamespace(ml_engineer_usd_per_year=188_974.0)), 2)
    726.82
    """
    usd = v.non_negative("ml_engineer_usd_per_year",
                         _required(scenario, "ml_engineer_usd_per_year"))
    return usd / _field(scenario, "engineer_working_days_per_year")


def drift_capacity_days_per_year(scenario: Any, side: str) -> float:
    """Engineer days a year that the staff lines already pay for drift work.

    ``ml_engineer_fte_<side> * engineer_working_days_per_year * fte_share_for_drift``;
    0 when the scenario has no ``ml_engineer_fte_<side>`` attribute.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> drift_capacity_days_per_year(SimpleNamespace(ml_engineer_fte_b=2.0), "b")
    104.0
    """
    side = v.choice("side", side, ("a", "b"))
    fte = v.non_negative(f"ml_engineer_fte_{side}",
                         getattr(scenario, f"ml_engineer_fte_{side}", 0.0))
    return (fte * _field(scenario, "engineer_working_days_per_year")
            * _field(scenario, "fte_share_for_drift"))


def uncovered_engineer_days(days: dict[str, np.ndarray], capacity_days_per_year: float,
                            ) -> dict[str, np.ndarray]:
    """Engineer days left to price once the staff's drift capacity is used up.

    Parameters
    ----------
    days : dict of str to array, each of shape (runs, months) or (months,)
        Drift engineer days per month, by component.
    capacity_days_per_year : float
        Days a year already paid in the staff lines (:func:`drift_capacity_days_per_year`).
        Each block of 12 months (the last one pro rata if shorter) has its own capacity;
        unused capacity does not carry over to the next year.

    Returns
    -------
    dict of str to array, same shapes: the days beyond capacity. In a month that
    crosses the capacity, the excess is split across components in proportion to their
    days that month.

    Examples
    --------
    Ten days in month 3 and ten in month 9 against 15 days of capacity a year:

    >>> d = uncovered_engineer_days({"fix": np.array([0, 0, 10, 0, 0, 0, 0, 0, 10.0])}, 20.0)
    >>> d["fix"].tolist()   # 9 months: capacity 20 x 9/12 = 15
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0]
    """
    cap = v.non_negative("capacity_days_per_year", capacity_days_per_year)
    arrays = {k: np.asarray(a, dtype=float) for k, a in days.items()}
    total = sum(arrays.values())
    total = np.asarray(total, dtype=float)
    months = total.shape[-1]
    excess = np.zeros_like(total)
    for start in range(0, months, 12):
        stop = min(start + 12, months)
        block_cap = cap * (stop - start) / 12.0
        cum = np.cumsum(total[..., start:stop], axis=-1)
        over = np.maximum(cum - block_cap, 0.0)
        excess[..., start:stop] = np.diff(over, axis=-1, prepend=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        charged = np.where(total > 0, excess / np.where(total > 0, total, 1.0), 0.0)
    return {k: a * charged for k, a in arrays.items()}


def _per_run_monthly(daily: np.ndarray) -> np.ndarray:
    """(runs, days) -> each run's monthly sums, shape (runs, months)."""
    runs, days = daily.shape
    return daily.reshape(runs, days // DAYS_PER_MONTH, DAYS_PER_MONTH).sum(axis=2)


def _gpu_hours_cost_usd(gpu: Any, hours: float, hosting: str) -> float:
    from buildbuy import costs  # imported late: a sibling module, owned elsewhere

    return float(costs.gpu_hours_cost_usd(gpu, hours, hosting=hosting))


def retrain_cost_usd(scenario: Any) -> dict[str, float]:
    """Cost of one retrain, by component: ``compute``, ``labels``, ``engineering``.

    ``compute = gpu_hours_cost_usd(gpu, retrain_gpu_hours, hosting=hosting)``, or
    ``retrain_gpu_hours * gpu_usd_per_hour`` when the scenario sets its own GPU price,
    ``labels = labels_per_retrain * usd_per_label``,
    ``engineering = engineer_days_per_retrain * engineer_usd_per_day``.
    """
    hours = _field(scenario, "retrain_gpu_hours")
    override = getattr(scenario, "gpu_usd_per_hour", None)
    if override is not None:  # the scenario's own GPU price, as buildbuy.tco uses it
        compute = hours * v.non_negative("gpu_usd_per_hour", override)
    else:
        compute = _gpu_hours_cost_usd(_required(scenario, "gpu"), hours,
                                      _required(scenario, "hosting")) if hours else 0.0
    return {"compute": compute,
            "labels": _field(scenario, "labels_per_retrain") * _field(scenario, "usd_per_label"),
            "engineering": (_field(scenario, "engineer_days_per_retrain")
                            * engineer_usd_per_day(scenario))}


def policy_params(scenario: Any, *, retrain_total_usd: float | None = None) -> PolicyParams:
    """The simulation inputs of a scenario, in days (see :class:`PolicyParams`)."""
    if retrain_total_usd is None:
        retrain_total_usd = sum(retrain_cost_usd(scenario).values())
    kind = _field(scenario, "drift_kind")
    base, loss = _field(scenario, "base_error_rate"), _field(scenario, "drift_quality_loss_points")
    if base + loss / 100.0 > 1.0:
        raise v.bad("drift_quality_loss_points", loss,
                    f"at most {100 * (1 - base):g} so that base_error_rate={base:g} plus the "
                    "loss stays an error rate <= 1")
    return PolicyParams(
        horizon_days=_horizon_months(scenario) * DAYS_PER_MONTH,
        shape=_field(scenario, "drift_shape"),
        events_per_year=_field(scenario, "drift_events_per_year"),
        width_days=_field(scenario, "drift_width_days"),
        loss_points=_field(scenario, "drift_quality_loss_points"),
        label_delay_days=_field(scenario, "label_delay_days"),
        retrain_lead_days=_field(scenario, "retrain_lead_days"),
        retrain_every_days=_field(scenario, "retrain_every_months") * DAYS_PER_MONTH,
        monitor=_field(scenario, "drift_monitor"),
        visible_share=LABEL_FREE_VISIBLE_SHARE[kind],
        monitor_samples_per_day=_field(scenario, "monitor_samples_per_day"),
        base_error_rate=_field(scenario, "base_error_rate"),
        retrain_cost_usd=retrain_total_usd,
        usd_per_point_day=_field(scenario, "quality_value_usd_per_point_month") / DAYS_PER_MONTH,
    )


def _monthly(daily: np.ndarray) -> np.ndarray:
    """(runs, days) -> mean over runs of each month's sum, shape (months,)."""
    runs, days = daily.shape
    return daily.reshape(runs, days // DAYS_PER_MONTH, DAYS_PER_MONTH).sum(axis=2).mean(axis=0)


def _self_host_costs(scenario: Any, res: SimResult, per_retrain: dict[str, float],
                     params: PolicyParams) -> dict[str, np.ndarray]:
    months = params.horizon_days // DAYS_PER_MONTH
    retrains = _monthly(res.retrains.astype(float))
    watched = res.policy in ("periodic", "triggered")
    label_usd = (params.monitor_samples_per_day * DAYS_PER_MONTH * _field(scenario, "usd_per_label")
                 if res.policy == "triggered" and params.monitor == "labels" else 0.0)
    # engineer days per run and month, then only those beyond the staff's capacity
    day_usd = engineer_usd_per_day(scenario)
    days = {"retrain_engineering": _per_run_monthly(res.retrains.astype(float))
            * _field(scenario, "engineer_days_per_retrain"),
            "false_alarms": _per_run_monthly(res.false_alarms.astype(float))
            * _field(scenario, "false_alarm_investigation_days")}
    priced = uncovered_engineer_days(days, drift_capacity_days_per_year(scenario, "b"))
    return {
        "retrain_compute": retrains * per_retrain["compute"],
        "retrain_labels": retrains * per_retrain["labels"],
        "retrain_engineering": priced["retrain_engineering"].mean(axis=0) * day_usd,
        "monitoring": np.full(months, _field(scenario, "monitoring_usd_per_month")
                              if watched else 0.0),
        "monitoring_labels": np.full(months, label_usd),
        "false_alarms": priced["false_alarms"].mean(axis=0) * day_usd,
        "lost_quality": _monthly(res.loss_points) * params.usd_per_point_day,
    }


def vendor_costs(scenario: Any, *, seed: int = 0, runs: int = 1000) -> dict[str, np.ndarray]:
    """Scenario A's monthly drift costs by component (mean over ``runs`` seeded runs).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> S = SimpleNamespace(horizon_months=24, ml_engineer_usd_per_year=260_000.0,
    ...                     api_silent_changes_per_year=0.0)
    >>> a = vendor_costs(S)
    >>> np.flatnonzero(a["forced_migration"]).tolist(), float(a["forced_migration"][11])
    ([11, 23], 10000.0)
    """
    seed = v.integer("seed", seed, minimum=0)
    runs = v.integer("runs", runs, minimum=1)
    months = _horizon_months(scenario)
    days = months * DAYS_PER_MONTH
    day_usd = engineer_usd_per_day(scenario)
    life = _field(scenario, "api_model_lifetime_months")
    migration_days = np.zeros(months)
    migration_days[life - 1::life] = _field(scenario, "api_migration_engineer_days")
    rate = _field(scenario, "api_silent_changes_per_year") / 365.0
    rng = np.random.default_rng((seed, 0))
    events = (rng.random((runs, days)) < rate).astype(float)
    detect = _field(scenario, "api_silent_change_detect_days")
    cum = np.cumsum(events, axis=1)
    active = cum - np.concatenate([np.zeros((runs, detect)), cum[:, :days - detect]], axis=1) \
        if detect else np.zeros_like(cum)
    points = _field(scenario, "api_silent_change_quality_points") * active
    per_point_day = _field(scenario, "quality_value_usd_per_point_month") / DAYS_PER_MONTH
    days = {"forced_migration": np.broadcast_to(migration_days, (runs, months)),
            "silent_change_fix": _per_run_monthly(events)
            * _field(scenario, "api_silent_change_fix_days")}
    priced = uncovered_engineer_days(days, drift_capacity_days_per_year(scenario, "a"))
    return {
        "forced_migration": priced["forced_migration"].mean(axis=0) * day_usd,
        "silent_change_fix": priced["silent_change_fix"].mean(axis=0) * day_usd,
        "lost_quality": _monthly(points) * per_point_day,
        "monitoring": np.full(months, _field(scenario, "monitoring_usd_per_month")),
    }


def _tidy(side: str, parts: dict[str, np.ndarray]) -> pd.DataFrame:
    months = len(next(iter(parts.values())))
    return pd.DataFrame({
        "month": np.tile(np.arange(1, months + 1), len(parts)),
        "scenario": side,
        "component": np.repeat(list(parts), months),
        "usd": np.concatenate([np.asarray(a, dtype=float) for a in parts.values()]),
    })


def cost_lines(scenario: Any, *, seed: int = 0, runs: int = 1000) -> pd.DataFrame:
    """Monthly drift cost of Scenario A (vendor API) and B (self-host), for the TCO.

    Parameters
    ----------
    scenario : any object with the fields listed in the module docstring.
    seed : seed of the drift paths, monitor noise and vendor events.
    runs : seeded runs averaged (the Monte Carlo error of a monthly figure
        shrinks as ``1 / sqrt(runs)``).

    Returns
    -------
    pandas.DataFrame with columns ``month`` (1..horizon_months), ``scenario``
    (``"A"``/``"B"``), ``component`` and ``usd`` (expected cost, >= 0). B uses
    the scenario's ``retrain_policy``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> S = SimpleNamespace(horizon_months=12, gpu="H100-SXM", hosting="owned",
    ...                     ml_engineer_usd_per_year=188_974.0, retrain_gpu_hours=0.0,
    ...                     retrain_policy="never", drift_events_per_year=0.0)
    >>> t = cost_lines(S, runs=50)
    >>> sorted(t.scenario.unique()), int(t.month.max())
    (['A', 'B'], 12)
    >>> float(t[t.scenario == "B"].usd.sum())      # no drift, no retraining: nothing
    0.0
    """
    seed = v.integer("seed", seed, minimum=0)
    runs = v.integer("runs", runs, minimum=1)
    per_retrain = retrain_cost_usd(scenario)
    params = policy_params(scenario, retrain_total_usd=sum(per_retrain.values()))
    res = simulate(params, _field(scenario, "retrain_policy"), runs=runs, seed=seed)
    frame = pd.concat([_tidy("A", vendor_costs(scenario, seed=seed, runs=runs)),
                       _tidy("B", _self_host_costs(scenario, res, per_retrain, params))],
                      ignore_index=True)
    return frame


def compare_policies(scenario: Any, *, seed: int = 0, runs: int = 1000,
                     policies: tuple[str, ...] = POLICIES) -> pd.DataFrame:
    """Each retraining policy's Scenario B drift cost over the horizon, by component.

    All policies run on the same seeded drift paths. Returns one row per policy
    with a column per component of :data:`COMPONENTS_B` (USD over the horizon,
    expected), ``total_usd``, ``retrains_per_year``, ``false_alarms_per_year`` and
    ``mean_loss_points``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> S = SimpleNamespace(horizon_months=12, gpu="H100-SXM", hosting="owned",
    ...                     ml_engineer_usd_per_year=188_974.0, retrain_gpu_hours=0.0)
    >>> t = compare_policies(S, runs=100)
    >>> t.index.tolist()
    ['never', 'periodic', 'triggered', 'oracle']
    >>> round(float(t.loc["periodic", "retrains_per_year"]), 4)  # 3 retrains in 360 days
    3.0417
    """
    seed = v.integer("seed", seed, minimum=0)
    runs = v.integer("runs", runs, minimum=1)
    per_retrain = retrain_cost_usd(scenario)
    params = policy_params(scenario, retrain_total_usd=sum(per_retrain.values()))
    results = simulate_policies(params, tuple(policies), runs=runs, seed=seed)
    rows = []
    for name, res in results.items():
        parts = _self_host_costs(scenario, res, per_retrain, params)
        row: dict[str, Any] = {"policy": name}
        row.update({k: float(a.sum()) for k, a in parts.items()})
        row["total_usd"] = float(sum(a.sum() for a in parts.values()))
        row.update(res.summary())
        rows.append(row)
    return pd.DataFrame(rows).set_index("policy")
