"""Retraining policies, simulated day by day over many seeded runs at once.

The world
---------
Drift *events* arrive as a Poisson process (at most one a day, probability
``events_per_year / 365`` each day). Each event moves the world's concept
``c`` by one unit along a kernel given by the drift shape
(:func:`buildbuy.drift.streams.drift_weights` with ``t0 = 0``): a step
(sudden), a sigmoid (gradual), a ramp (incremental) or a temporary episode
(recurring). So ``c[run, day]`` is the number of events that have played out.

A model trained on concept ``c_m`` loses ``loss_points * min(1, |c - c_m|)``
quality points: one full event costs ``loss_points``, and a model can at most
become ``loss_points`` worse. This is a stylised "AI ageing" curve (Vela et
al., Sci. Rep. 2022), not a fitted one.

Retraining
----------
A retrain decided on day ``t`` trains on the labelled data in hand, so it
learns the concept as it was on day ``t - label_delay_days``, and serves from
day ``t + max(retrain_lead_days, 1)``. A label-free alarm has no labels for
the change it saw yet: that retrain waits for them, learns the concept of day
``t`` and serves from ``t + label_delay_days + max(retrain_lead_days, 1)``.
While one retrain is in flight no other starts. Policies:

* ``never``: the day-0 model serves the whole horizon.
* ``periodic``: retrain every ``retrain_every_days`` days.
* ``triggered``: a DDM (river defaults: 30 warm-up samples, drift at 3 sigma;
  :mod:`buildbuy.drift.streaming`) watches a daily error count of
  ``monitor_samples_per_day`` samples: labelled errors (seen
  ``label_delay_days`` late, only those of the serving model) or a label-free
  estimate that sees a share ``visible_share`` of the loss (1 for covariate
  shift, 0 for concept and prior drift: :func:`buildbuy.drift.quality.blind_spot`).
  DDM runs on daily counts, which equals the row-level test evaluated at the
  end of each day. An alarm is investigated; it leads to a retrain if the model
  has lost at least ``confirm_min_points`` quality points, else it is a false
  alarm. The detector restarts after each alarm and each new model.
* ``oracle``: knows the true loss each day, with no label delay, and retrains by
  the break-even ("ski rental") rule: once the value lost since the last model
  reaches the cost of one retrain. It shows what perfect monitoring can buy.
  It is not an exact optimum: in the classic rent-or-buy problem this rule
  costs at most twice the best choice made in hindsight, and no such guarantee
  is proven for this richer setting.

All policies see the same drift paths for a given seed (common random numbers),
so differences between policies are not sampling noise of the world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from buildbuy import _validate as v
from buildbuy.drift.assumptions import MONITORS, POLICIES, SHAPES
from buildbuy.drift.streams import drift_weights

__all__ = ["PolicyParams", "SimResult", "concept_paths", "simulate", "simulate_policies"]

DDM_WARM_START = 30      # river DDM default
DDM_DRIFT_SIGMAS = 3.0   # river DDM default


@dataclass(frozen=True)
class PolicyParams:
    """Inputs of the policy simulation, in days and quality points.

    Built from a scenario by :func:`buildbuy.drift.costs.policy_params`; see
    :mod:`buildbuy.drift.assumptions` for each field's meaning and source.
    """

    horizon_days: int
    shape: str = "gradual"
    events_per_year: float = 1.0
    width_days: int = 60
    loss_points: float = 10.0
    label_delay_days: int = 7
    retrain_lead_days: int = 7
    retrain_every_days: int = 90
    monitor: str = "labels"
    visible_share: float = 0.0
    monitor_samples_per_day: int = 20
    base_error_rate: float = 0.10
    retrain_cost_usd: float = 7_500.0
    usd_per_point_day: float = 1_000.0 / 30
    confirm_min_points: float = 1.0

    def __post_init__(self) -> None:
        v.integer("horizon_days", self.horizon_days, minimum=1)
        v.choice("shape", self.shape, SHAPES)
        ev = v.non_negative("events_per_year", self.events_per_year)
        if ev > 365:
            raise v.bad("events_per_year", self.events_per_year, "a finite number from 0 to 365")
        v.integer("width_days", self.width_days, minimum=1)
        v.non_negative("loss_points", self.loss_points)
        v.integer("label_delay_days", self.label_delay_days, minimum=0)
        v.integer("retrain_lead_days", self.retrain_lead_days, minimum=0)
        v.integer("retrain_every_days", self.retrain_every_days, minimum=1)
        v.choice("monitor", self.monitor, MONITORS)
        v.share("visible_share", self.visible_share)
        v.integer("monitor_samples_per_day", self.monitor_samples_per_day, minimum=1)
        v.share("base_error_rate", self.base_error_rate)
        if self.base_error_rate + self.loss_points / 100.0 > 1.0:
            raise v.bad("loss_points", self.loss_points,
                        f"at most {100 * (1 - self.base_error_rate):g} so that "
                        "base_error_rate + loss_points/100 <= 1")
        v.non_negative("retrain_cost_usd", self.retrain_cost_usd)
        v.non_negative("usd_per_point_day", self.usd_per_point_day)
        v.non_negative("confirm_min_points", self.confirm_min_points)


@dataclass(frozen=True)
class SimResult:
    """Day-by-day outcome of one policy, arrays of shape (runs, days).

    Attributes
    ----------
    policy : the policy simulated.
    loss_points : quality points lost by the serving model each day.
    retrains : True on the day a retrain is decided (and paid).
    false_alarms : True on the day an alarm found less than ``confirm_min_points``.
    """

    policy: str
    loss_points: np.ndarray
    retrains: np.ndarray
    false_alarms: np.ndarray

    def summary(self) -> dict[str, float]:
        """Means per run: retrains and false alarms per year, mean points lost."""
        years = self.loss_points.shape[1] / 365.0
        return {"retrains_per_year": float(self.retrains.sum(axis=1).mean() / years),
                "false_alarms_per_year": float(self.false_alarms.sum(axis=1).mean() / years),
                "mean_loss_points": float(self.loss_points.mean())}


def concept_paths(params: PolicyParams, *, runs: int, seed: int = 0) -> np.ndarray:
    """Concept position ``c`` (events played out) per run and day, shape (runs, days).

    Examples
    --------
    >>> p = PolicyParams(horizon_days=730, shape="sudden", events_per_year=2)
    >>> c = concept_paths(p, runs=2000, seed=0)
    >>> round(float(c[:, -1].mean()), 1)     # about 2 events a year for 2 years
    4.0
    """
    runs = v.integer("runs", runs, minimum=1)
    seed = v.integer("seed", seed, minimum=0)
    days = params.horizon_days
    rng = np.random.default_rng(seed)
    events = (rng.random((runs, days)) < params.events_per_year / 365.0).astype(float)
    if params.shape == "sudden":
        return np.cumsum(events, axis=1)
    kernel = drift_weights(np.arange(days), params.shape, 0, params.width_days)
    c = fftconvolve(events, kernel[None, :], axes=1)[:, :days]
    return np.round(c, 9)   # remove FFT round-off (~1e-15) so no-drift days are exactly 0


def simulate(params: PolicyParams, policy: str, *, runs: int = 1000, seed: int = 0,
             paths: np.ndarray | None = None) -> SimResult:
    """Simulate one retraining policy over ``runs`` seeded runs.

    Parameters
    ----------
    params : the world and the costs that drive the oracle.
    policy : ``"never" | "periodic" | "triggered" | "oracle"``.
    runs, seed : number of runs and seed (drift paths and monitor noise).
    paths : concept paths from :func:`concept_paths` to reuse (common random
        numbers across policies); computed from ``seed`` if ``None``.

    Examples
    --------
    One sudden event on day 10, retrain every 30 days, no delays to speak of:

    >>> p = PolicyParams(horizon_days=60, shape="sudden", retrain_every_days=30,
    ...                  label_delay_days=0, retrain_lead_days=1)
    >>> path = (np.arange(60) >= 10).astype(float)[None, :]
    >>> r = simulate(p, "periodic", runs=1, paths=path)
    >>> np.flatnonzero(r.retrains[0]).tolist(), float(r.loss_points[0].sum())
    ([30], 210.0)
    """
    policy = v.choice("policy", policy, POLICIES)
    runs = v.integer("runs", runs, minimum=1)
    seed = v.integer("seed", seed, minimum=0)
    if paths is None:
        paths = concept_paths(params, runs=runs, seed=seed)
    else:
        paths = v.finite_array("paths", paths, ndim=2)
        if paths.shape[1] != params.horizon_days:
            raise v.bad("paths", f"<array of shape {paths.shape}>",
                        f"a (runs, {params.horizon_days}) array")
    runs, days = paths.shape
    rng = np.random.default_rng((seed, 1 + POLICIES.index(policy)))
    p = params
    loss = np.zeros((runs, days))
    retrains = np.zeros((runs, days), dtype=bool)
    false_alarms = np.zeros((runs, days), dtype=bool)

    c_model = np.zeros(runs)
    pend_day = np.full(runs, -1)
    pend_c = np.zeros(runs)
    served_since = np.zeros(runs, dtype=int)       # day the serving model went live
    n = np.zeros(runs)                             # DDM state, per run
    k = np.zeros(runs)
    p_min = np.full(runs, np.inf)
    s_min = np.full(runs, np.inf)
    ps_min = np.full(runs, np.inf)
    acc_usd = np.zeros(runs)                       # oracle: value lost since last model
    m = p.monitor_samples_per_day
    lead = max(p.retrain_lead_days, 1)

    for t in range(days):
        live = pend_day == t
        if live.any():
            c_model[live] = pend_c[live]
            pend_day[live] = -1
            served_since[live] = t
            n[live] = k[live] = acc_usd[live] = 0.0
            p_min[live] = s_min[live] = ps_min[live] = np.inf
        loss[:, t] = p.loss_points * np.minimum(1.0, np.abs(paths[:, t] - c_model))
        idle = pend_day < 0
        if policy == "never":
            continue
        if policy == "periodic":
            fire = idle if (t > 0 and t % p.retrain_every_days == 0) else np.zeros(runs, bool)
            learn_day = max(t - p.label_delay_days, 0)
        elif policy == "oracle":
            acc_usd += loss[:, t] * p.usd_per_point_day
            fire = idle & (acc_usd >= p.retrain_cost_usd) & (loss[:, t] > 0)
            learn_day = t
        else:
            if p.monitor == "labels":
                src = t - p.label_delay_days
                seen = (src >= served_since) if src >= 0 else np.zeros(runs, bool)
                err = p.base_error_rate + loss[:, max(src, 0)] / 100.0
            else:
                seen = np.ones(runs, bool)
                err = p.base_error_rate + p.visible_share * loss[:, t] / 100.0
            count = rng.binomial(m, err)
            n += m * seen
            k += count * seen
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = np.where(n > 0, k / np.maximum(n, 1), 0.0)
                s = np.sqrt(rate * (1.0 - rate) / np.maximum(n, 1))
            test = seen & (n > DDM_WARM_START)
            ps = rate + s
            upd = test & (ps <= ps_min)
            p_min[upd], s_min[upd], ps_min[upd] = rate[upd], s[upd], ps[upd]
            alarm = test & idle & (ps > p_min + DDM_DRIFT_SIGMAS * s_min)
            fire = alarm & (loss[:, t] >= p.confirm_min_points)
            false_alarms[:, t] = alarm & ~fire
            n[alarm] = k[alarm] = 0.0
            p_min[alarm] = s_min[alarm] = ps_min[alarm] = np.inf
            learn_day = t if p.monitor == "label_free" else max(t - p.label_delay_days, 0)
        if fire.any():
            retrains[:, t] = fire
            pend_c[fire] = paths[fire, learn_day]
            if policy == "oracle":
                pend_day[fire] = t + 1
            elif policy == "triggered" and p.monitor == "label_free":
                pend_day[fire] = t + p.label_delay_days + lead
            else:
                pend_day[fire] = t + lead
    return SimResult(policy=policy, loss_points=loss, retrains=retrains,
                     false_alarms=false_alarms)


def simulate_policies(params: PolicyParams, policies: tuple[str, ...] = POLICIES, *,
                      runs: int = 1000, seed: int = 0) -> dict[str, SimResult]:
    """Simulate several policies on the same seeded drift paths.

    Examples
    --------
    >>> p = PolicyParams(horizon_days=365)
    >>> res = simulate_policies(p, runs=200, seed=0)
    >>> loss = {k: r.loss_points.mean() for k, r in res.items()}
    >>> bool(loss["oracle"] < loss["never"] and loss["periodic"] < loss["never"])
    True
    """
    for name in policies:
        v.choice("policies", name, POLICIES)
    paths = concept_paths(params, runs=runs, seed=seed)
    return {name: simulate(params, name, runs=runs, seed=seed, paths=paths)
            for name in policies}
