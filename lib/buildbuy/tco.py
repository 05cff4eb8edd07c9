"""Monthly cash costs of Scenario A (API-first) and Scenario B (self-host).

:func:`cashflows` turns a :class:`~buildbuy.scenarios.Scenario` into a tidy table of
cash costs, month by month, for both scenarios; :func:`fleet_by_year` is B's fleet, the one
every view prints (:mod:`buildbuy.tco_fleet`); :func:`compare` hands this module to
:func:`buildbuy.tco_compare.compare`, which adds value, tax and the outcomes a CFO asks for
(``tco_compare`` never imports ``tco``: no import cycle).

Conventions
-----------
- ``month`` 0 is "upfront, at the start" (hardware bought before service); months
  1..``horizon_months`` are calendar months of service. ``usd`` is a cost: positive =
  money out, negative = money in (resale of hardware at the horizon).
- Volume in month ``m >= 1`` is ``monthly_tokens * (1 + annual_growth) ** ((m - 1) / 12)``
  (:func:`buildbuy.demand.volume_tokens`); its average load is volume / 2,628,000 s
  (730 h) and its peak-hour load ``peak_to_average`` times that, spread over the day by
  the scaled daily profile (:mod:`buildbuy.load_profile`). A scenario serves its volume
  from the month after its go-live delay (``months_to_production_a`` /
  ``months_to_production``). The value it misses before then is a value line
  (:mod:`buildbuy.value`), not a cost.
- **API fees** = tokens not served by provisioned capacity x the blended list price
  (``buildbuy.costs.api_usd_per_1k_tokens``) x ``(1 - api_discount)`` x the price index of
  :mod:`buildbuy.api_price` (same-model decline and model refreshes). Refreshes pay a
  migration (``model_refresh``). A peak above the top rate-limit tier buys provisioned
  throughput (``api_provisioned``) where it is published (:mod:`buildbuy.api_limits`).
- **B's fleet** comes from :mod:`buildbuy.capacity`: per-replica capacity from
  ``buildbuy.tps.size_fleet``, sized so the peak uses ``target_utilisation`` of it, plus
  ``redundancy``. Owned servers are bought upfront (month 0) for year 1's peak and topped
  up at the start of each later year; they are never sold before the horizon. Cloud GPUs
  follow the load hour by hour (each distinct hourly level of the day): on-demand GPUs
  are paid for the hours they run; ``cloud_reserved`` reserves, each year, the baseline
  that minimises reserved + on-demand burst (:func:`buildbuy.capacity.cheapest_reservation`)
  and bursts above it at the on-demand price.
- Running costs (rent, power, colocation, licences, maintenance) start at go-live.
  Power = servers x ``server_power_kw`` x ``power_draw_share`` x ``pue`` x 730 h x
  ``electricity_usd_per_kwh``; colocation = servers x ``server_power_kw`` x the rate of the
  site's tier (retail below ``colo_wholesale_min_kw`` per site, else wholesale:
  :mod:`buildbuy.owned_hardware`); maintenance = ``maintenance_share_per_year`` / 12 of the
  capex held. Licences are paid per GPU in service (the month's average for cloud).
- Owned hardware is resold in the last month at the used-market value of its age:
  ``(1 - resale_decline_per_year) ** (months held / 12)`` of its price.
- Staff: ``<role>_fte_<a|b>`` x ``<role>_usd_per_year`` / 12 in every month 1..horizon.
  B's on-call rotation (:mod:`buildbuy.staffing`) is staffed by its ML and MLOps
  engineers; MLOps FTE up to the rotation's minimum are added from go-live
  (``on_call_staff``).
- Drift costs come from ``buildbuy.drift.cost_lines(scenario)`` under category ``drift``.

Every formula above is written once, in :func:`_components`, over arrays: a leading axis
of Monte Carlo draws broadcasts through it (:func:`monthly_totals`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from buildbuy import api_limits, api_price, capacity, demand, load_profile, tech_debt
from buildbuy._validate import bad
from buildbuy.capacity import Sizing
from buildbuy.costs import HOURS_PER_MONTH
from buildbuy.gpu_supply import months_to_production_b
from buildbuy.owned_hardware import colo_usd_per_kw_month, resale_share
from buildbuy.scenarios import FIELDS, ROLES
from buildbuy.tco_context import (
    ModelContext,
    api_usd_per_token,
    context,
    drift_lines,
    gpu_usd_per_hour,
    params,
)
from buildbuy.tco_context import context as model_context
from buildbuy.tco_fleet import (
    FleetPlan,
    FleetYear,
    cloud_fleet,
    fleet_by_year,
    owned_fleet,
    year_peaks,
)

__all__ = [
    "CATEGORIES",
    "FIXED_FIELDS",
    "HOURS_PER_MONTH",
    "FleetPlan",
    "FleetYear",
    "ModelContext",
    "Sizing",
    "api_usd_per_token",
    "cashflows",
    "compare",
    "context",
    "drift_lines",
    "fleet_by_year",
    "gpu_usd_per_hour",
    "monthly_lines",
    "monthly_totals",
    "npv_at_volumes",
    "served_tokens",
    "sizing",
]

#: Categories of the tidy frame (docs/design.md): cash costs only.
CATEGORIES: tuple[str, ...] = ("capex", "opex", "people", "drift")
_SECONDS_PER_MONTH = demand.SECONDS_PER_MONTH
#: Fields that set the GPU sizing per replica: fixed within one vectorised call.
FIXED_FIELDS: frozenset[str] = frozenset(
    {"output_token_share", "tokens_per_request", "max_ms_per_output_token"})
# (weights_precision, a text field, also sets the sizing: vary it with Scenario.replace)


_split = capacity.request_split  # the (prompt, output) split of a request (tests read it)
sizing = capacity.sizing


Component = tuple[str, str, str, np.ndarray]


def _components(p: Mapping[str, Any], c: ModelContext) -> Iterator[Component]:
    """Yield ``(scenario, component, category, usd)``; usd has shape (..., horizon + 1).

    ``p`` maps numeric field names to scalars or arrays of shape (n, 1) (one row per
    draw); the month axis is last.
    """
    n = c.horizon + 1
    m = np.arange(n, dtype=float)
    service = (m >= 1).astype(float)
    live_a = (m >= c.live_a_from).astype(float)
    live_b = (m >= c.live_b_from).astype(float)
    year_idx = ((np.maximum(m, 1.0) - 1.0) // 12.0).astype(int)  # month 0 is in year 1

    volume = demand.volume_tokens(p["monthly_tokens"], p["annual_growth"], m)
    # ---- Scenario A: API fees, provisioned capacity above the top tier, refreshes
    o, cs = p["output_token_share"], p["cached_input_share"]
    p00, p10, p01, p11 = c.api_corners
    usd_per_token = ((1 - o) * (1 - cs) * p00 + o * (1 - cs) * p10 + (1 - o) * cs * p01
                     + o * cs * p11)
    index = api_price.price_index(m, decline=p["api_price_decline"], live_from=c.live_a_from,
                                  refresh_months=c.refresh_months,
                                  refresh_price_share=p["api_refresh_price_share"])
    price = usd_per_token * (1.0 - p["api_discount"]) * index
    lv_a, hours_a = load_profile.levels(c.load_profile, p["peak_to_average"])
    _, pt_usd, pt_share = api_limits.provisioned(
        c.quota, volume / _SECONDS_PER_MONTH, p["peak_to_average"], lv_a, hours_a, o, cs)
    yield "A", "api_fees", "opex", volume * live_a * price * (1.0 - pt_share)
    yield "A", "api_provisioned", "opex", pt_usd * live_a
    yield "A", "api_integration", "opex", p["api_integration_usd"] * (m == 1)
    refresh = api_price.refresh_months_mask(m, live_from=c.live_a_from,
                                            refresh_months=c.refresh_months)
    day_usd = p["ml_engineer_usd_per_year"] / p["engineer_working_days_per_year"]
    yield "A", "model_refresh", "people", refresh * p["api_migration_engineer_days"] * day_usd

    # ---- Scenario B: the fleet
    if c.hosting == "owned":
        peak, firsts, live_year = year_peaks(p, c)
        servers_y = owned_fleet(p, c, peak, live_year)
        bought_y = np.diff(servers_y, axis=-1, prepend=0.0)
        buy_month = np.concatenate([[0], firsts[1:].astype(int)])
        bought = np.zeros((*np.shape(bought_y)[:-1], n))
        bought[..., buy_month] = bought_y
        server_capex = bought * p["server_usd"]
        capex_total = server_capex * (1.0 + p["networking_uplift"])
        yield "B", "gpu_servers", "capex", server_capex
        yield "B", "networking", "capex", server_capex * p["networking_uplift"]
        held_months = c.horizon - np.maximum(m, 1.0) + 1.0   # bought at the start of m
        value = resale_share(held_months / 12.0, p["resale_decline_per_year"])
        resale = np.zeros(n)
        resale[-1] = 1.0
        yield "B", "resale", "capex", -resale * np.sum(capex_total * value, axis=-1,
                                                       keepdims=True)
        servers_m = servers_y[..., year_idx] * live_b
        kw_m = servers_m * p["server_power_kw"]
        yield "B", "power", "opex", (kw_m * p["power_draw_share"] * p["pue"] * HOURS_PER_MONTH
                                     * p["electricity_usd_per_kwh"])
        rate = colo_usd_per_kw_month(kw_m / capacity.sites(c.redundancy),
                                     retail=p["colo_retail_usd_per_kw_month"],
                                     wholesale=p["colo_wholesale_usd_per_kw_month"],
                                     wholesale_min_kw=p["colo_wholesale_min_kw"])
        yield "B", "colocation", "opex", kw_m * rate
        yield "B", "maintenance", "opex", (np.cumsum(capex_total, axis=-1) * live_b
                                           * p["maintenance_share_per_year"] / 12.0)
        gpus_m = servers_m * c.gpus_per_server
    else:
        need, hours, reserved = cloud_fleet(p, c, volume, live_b, year_idx,
                                             (lv_a, hours_a))
        per_level = HOURS_PER_MONTH / 24.0 * hours
        gpus_m = np.maximum(need @ (hours / 24.0), reserved)
        if reserved.any():
            over = need - reserved[..., None]
            np.maximum(over, 0.0, out=over)
            burst = over @ per_level
        else:
            burst = need @ per_level
        rent = reserved * HOURS_PER_MONTH * p["gpu_usd_per_hour"]
        if c.hosting == "cloud_on_demand" or not c.elastic:
            rent = rent + burst * p["gpu_usd_per_hour"]
        else:
            rent = rent + burst * c.burst_usd_per_hour
        yield "B", "gpu_rental", "opex", rent
    yield "B", "licences", "opex", gpus_m * p["licence_usd_per_gpu_year"] / 12.0
    yield "B", "fine_tuning", "opex", p["fine_tuning_usd"] * (m == 1)
    yield "B", "tech_debt", "people", tech_debt.monthly_line(
        p, m, live_from=c.live_b_from, months_to_production=p["months_to_production"])

    # ---- both: people, B's on-call rotation, drift
    for side in ("A", "B"):
        for role in ROLES:
            yield (side, role, "people", p[f"{role}_fte_{side.lower()}"]
                   * p[f"{role}_usd_per_year"] / 12.0 * service)
        if side == "B":
            short = np.maximum(c.on_call_min - p["ml_engineer_fte_b"] - p["mlops_fte_b"], 0.0)
            yield "B", "on_call_staff", "people", (short * p["mlops_usd_per_year"] / 12.0
                                                   * live_b)
        for comp, arr in c.drift.get(side, {}).items():
            yield side, comp, "drift", arr


def served_tokens(S: Any) -> dict[str, np.ndarray]:
    """Tokens served per month (index = month 0..horizon) by A and by B."""
    m = demand.months(S.horizon_months)
    vol = demand.tokens(S)
    return {"A": vol * (m > S.months_to_production_a),
            "B": vol * (m > months_to_production_b(S))}


def cashflows(S: Any, *, size: Sizing | None = None,
              context: ModelContext | None = None) -> pd.DataFrame:
    """Monthly cash flows of Scenario A and B as a tidy frame.

    Parameters
    ----------
    S : Scenario
        A validated scenario (``buildbuy.scenarios.load``).
    size : Sizing, optional
        Reuse a :func:`sizing` result (it depends only on model, GPU, request shape,
        latency target and the first year's peak).
    context : ModelContext, optional
        A precomputed :func:`context` (it wins over ``size``).

    Returns
    -------
    pandas.DataFrame
        Columns ``month`` (0 = upfront, 1..horizon), ``scenario`` (``"A"``/``"B"``),
        ``component``, ``category`` (one of :data:`CATEGORIES`) and ``usd`` (cost,
        positive = money out). One row per month and component; all-zero components are
        kept so every component has ``horizon + 1`` rows.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> cf = cashflows(scenarios.load("hospital_notes"))
    >>> set(cf.category) <= set(CATEGORIES), sorted(cf.scenario.unique())
    (True, ['A', 'B'])
    >>> bool((cf.groupby(["scenario", "component"]).size() == 37).all())
    True
    """
    c = context if context is not None else model_context(S, size)
    p = params(S)
    months = np.arange(S.horizon_months + 1)
    parts = []
    for scen, comp, cat, usd in _components(p, c):
        arr = np.broadcast_to(np.asarray(usd, dtype=float), months.shape) + 0.0
        parts.append(pd.DataFrame({"month": months, "scenario": scen, "component": comp,
                                   "category": cat, "usd": arr}))
    return pd.concat(parts, ignore_index=True)


def _check_varied(varied: Mapping[str, Any] | None) -> None:
    for k in varied or {}:
        if k not in FIELDS:
            raise bad("varied", k, "names of scenario fields")
        if k in FIXED_FIELDS or FIELDS[k].type is not float:
            raise bad("varied", k, "a numeric scenario field that does not change the GPU "
                      "sizing per replica or a month count (" + ", ".join(sorted(FIXED_FIELDS))
                      + " and whole-number fields are fixed per run)")


def monthly_lines(S: Any, varied: Mapping[str, Any] | None = None, *,
                  context: ModelContext | None = None, components: bool = False,
                  ) -> dict[tuple[str, str], np.ndarray]:
    """Monthly cash costs by ``(scenario, category)``, vectorised over draws of some fields.

    Parameters
    ----------
    S : Scenario
        The base scenario; every field not in ``varied`` keeps its value.
    varied : mapping, optional
        Numeric field name -> 1-D array of ``n`` values (one per draw). Fields that set
        the GPU sizing per replica (``output_token_share``, ``tokens_per_request``,
        ``max_ms_per_output_token``) and whole-number fields cannot vary here: vary them
        through ``S.replace`` instead.
    context : ModelContext, optional
        A precomputed :func:`context` (speeds up repeated calls).
    components : bool
        Key by ``(scenario, category, component)`` instead (capex split into purchases
        and the resale credit, which the tax view needs apart).

    Returns
    -------
    dict
        ``(scenario, category) -> array`` of shape ``(n, horizon + 1)``
        (``(1, horizon + 1)`` without ``varied``); every category of :data:`CATEGORIES`
        is present for both scenarios.
    """
    _check_varied(varied)
    c = context if context is not None else model_context(S)
    p = params(S, varied)
    n = max((np.size(v) for v in (varied or {}).values()), default=1)
    out: dict[Any, np.ndarray] = {}
    if not components:
        for scen in ("A", "B"):
            for cat in CATEGORIES:
                out[scen, cat] = np.zeros((n, c.horizon + 1))
    for scen, comp, cat, usd in _components(p, c):
        key = (scen, cat, comp) if components else (scen, cat)
        out[key] = out.get(key, np.zeros((n, c.horizon + 1))) + usd
    return out


def monthly_totals(S: Any, varied: Mapping[str, Any] | None = None, *,
                   context: ModelContext | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Total monthly cash cost of A and B, vectorised over draws of some fields.

    Arguments as :func:`monthly_lines`. Returns the costs of A and B, shape
    ``(n, horizon + 1)`` (``(1, horizon + 1)`` without ``varied``).
    """
    lines = monthly_lines(S, varied, context=context)
    return (sum(lines["A", cat] for cat in CATEGORIES),  # type: ignore[return-value]
            sum(lines["B", cat] for cat in CATEGORIES))


def npv_at_volumes(S: Any, volumes: Any, *, context: Any = None) -> Any:
    """Cost NPVs of A and B at other first-month volumes:
    :func:`buildbuy.tco_compare.npv_at_volumes` with this module as the cost model."""
    import sys

    from buildbuy import tco_compare

    return tco_compare.npv_at_volumes(S, volumes, model=sys.modules[__name__],
                                      context=context)


def compare(S: Any) -> Any:
    """Compare A, B and the hybrid for ``S``: :func:`buildbuy.tco_compare.compare`.

    Passes this module as the cost model, so ``tco_compare`` needs no import of ``tco``.
    The result is cached per scenario values (every view gets the same object).
    """
    import sys

    from buildbuy import tco_compare

    return tco_compare.compare(S, model=sys.modules[__name__])
