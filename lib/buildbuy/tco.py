"""Monthly cash costs of Scenario A (API-first) and Scenario B (self-host).

:func:`cashflows` turns a :class:`~buildbuy.scenarios.Scenario` into a tidy table of
cash costs, month by month, for both scenarios; :func:`fleet_by_year` is B's fleet, the one
every view prints; :func:`compare` hands this module to :func:`buildbuy.tco_compare.compare`,
which adds value, tax and the outcomes a CFO asks for (``tco_compare`` never imports
``tco``: no import cycle).

Conventions
-----------
- ``month`` 0 is "upfront, at the start" (hardware bought before service); months
  1..``horizon_months`` are calendar months of service. ``usd`` is a cost: positive =
  money out, negative = money in (resale of hardware at the horizon).
- Volume in month ``m >= 1`` is ``monthly_tokens * (1 + annual_growth) ** ((m - 1) / 12)``
  (:func:`buildbuy.demand.volume_tokens`). A scenario serves it from the month after its
  go-live delay (``months_to_production_a`` / ``months_to_production``). The value it
  misses before then is a value line (:mod:`buildbuy.value`), not a cost.
- API fees = tokens x the blended list price of ``buildbuy.costs.api_usd_per_1k_tokens``
  x ``(1 - api_discount)`` x ``(1 - api_price_decline) ** ((m - 1) / 12)``.
- The GPU count is never typed in. One replica's capacity (tokens/s at the latency
  target) comes from ``buildbuy.tps.size_fleet``; each year's fleet is
  ``ceil(peak / capacity)`` replicas, for that year's peak:
  ``peak_to_average`` x the year's highest monthly volume / 2,628,000 s (730 h).
  Owned servers are bought upfront (month 0) for year 1 and topped up at the start of
  each later year; they are never sold before the horizon. Cloud GPUs are rented for
  730 h a month.
- Running costs (rent, power, colocation, licences, maintenance) start at go-live.
  Power = servers x ``server_power_kw`` x ``power_draw_share`` x ``pue`` x 730 h x
  ``electricity_usd_per_kwh``; colocation = servers x ``server_power_kw`` x
  ``colo_usd_per_kw_month``.
- Owned hardware is resold at ``residual_value_share`` of its price in the last month.
- Staff: ``<role>_fte_<a|b>`` x ``<role>_usd_per_year`` / 12 in every month 1..horizon.
- Drift costs come from ``buildbuy.drift.cost_lines(scenario)`` under category ``drift``.

Every formula above is written once, in :func:`_components`, over arrays: a leading axis
of Monte Carlo draws broadcasts through it (:func:`monthly_totals`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from buildbuy import costs, data, demand, tps
from buildbuy._validate import bad
from buildbuy.costs import HOURS_PER_MONTH
from buildbuy.scenarios import FIELDS, ROLES

__all__ = [
    "CATEGORIES",
    "FIXED_FIELDS",
    "HOURS_PER_MONTH",
    "CostContext",
    "Sizing",
    "api_usd_per_token",
    "cashflows",
    "compare",
    "cost_context",
    "drift_lines",
    "fleet_by_year",
    "monthly_lines",
    "monthly_totals",
    "rent_usd_per_gpu_hour",
    "served_tokens",
    "sizing",
]

#: Categories of the tidy frame (docs/design.md): cash costs only.
CATEGORIES: tuple[str, ...] = ("capex", "opex", "people", "drift")
#: Fields that set the GPU sizing per replica: fixed within one vectorised call.
FIXED_FIELDS: frozenset[str] = frozenset(
    {"output_token_share", "tokens_per_request", "max_ms_per_output_token"})
# (weights_precision, a text field, also sets the sizing: vary it with Scenario.replace)


@dataclasses.dataclass(frozen=True)
class Sizing:
    """Draw-invariant GPU sizing of Scenario B.

    ``buildbuy.tps.size_fleet`` picks, for each tensor-parallel group size, the batch
    with the most tokens/s per GPU that meets the latency target; that choice does not
    depend on the load. Only the winning group size does, through the rounding of
    ``ceil(peak / per-replica tokens/s)``. So the per-replica capacity of every feasible
    group size is computed once, and :meth:`n_gpus` reproduces ``size_fleet(...).n_gpus``
    for any peak (checked in ``tests/test_tco.py``).

    Attributes
    ----------
    fleet : object
        ``buildbuy.tps.size_fleet`` result at the first year's peak (None when no GPU
        group meets the latency target).
    options : tuple of (int, float)
        ``(gpus_per_replica, tokens_per_s_per_replica)`` for each feasible group size.
    error : str or None
        Why no group size meets the latency target (only with ``allow_infeasible``).
    """

    fleet: Any
    options: tuple[tuple[int, float], ...]
    error: str | None = None

    def n_gpus(self, peak_tokens_per_s: Any) -> np.ndarray:
        """Fewest GPUs serving ``peak_tokens_per_s`` (prompt + output), elementwise.

        Zero when B is infeasible (:attr:`error` says why): its serving lines are then
        empty, and the decision marks the path blocked rather than pricing it.
        """
        peak = np.asarray(peak_tokens_per_s, dtype=float)
        if not self.options:
            return np.zeros_like(peak)
        counts = [tp * np.ceil(peak / cap - 1e-12) for tp, cap in self.options]
        return np.minimum.reduce(counts) if len(counts) > 1 else counts[0]


def _split(S: Any) -> tuple[int, int]:
    out = round(S.tokens_per_request * S.output_token_share)
    return S.tokens_per_request - out, out


def sizing(S: Any, *, allow_infeasible: bool = False) -> Sizing:
    """Size Scenario B's serving replicas with ``buildbuy.tps.size_fleet``.

    Calls ``size_fleet`` once per tensor-parallel group size (1, 2, 4, 8 where the
    model's attention heads divide evenly, as ``size_fleet`` does) to get each group's
    tokens/s per replica, and once with the default search at the first year's peak
    for :attr:`Sizing.fleet`. When no group meets the latency target, ``size_fleet``'s
    error is raised, or, with ``allow_infeasible=True``, returned in :attr:`Sizing.error`
    (the decision then marks B infeasible; :mod:`buildbuy.constraints`).
    """
    prompt, output = _split(S)
    peak = float(demand.peak_tokens_per_s(_year_peak_volume(S, 1), S.peak_to_average))
    kw = dict(prompt_tokens=prompt, output_tokens=output,
              max_ms_per_output_token=S.max_ms_per_output_token,
              precision=S.weights_precision)
    try:
        fleet = tps.size_fleet(S.self_host_model, S.gpu, peak_tokens_per_s=max(peak, 1.0),
                               **kw)
    except ValueError as err:
        if not allow_infeasible:
            raise
        return Sizing(None, (), str(err))
    heads = data.get_model(S.self_host_model).n_heads
    options = []
    for tp in (1, 2, 4, 8):
        if heads % tp:
            continue
        try:
            f = tps.size_fleet(S.self_host_model, S.gpu, peak_tokens_per_s=1.0,
                               tensor_parallel=tp, **kw)
        except ValueError:  # does not fit or misses the latency target at this size
            continue
        options.append((tp, float(f.tokens_per_s_per_gpu) * tp))
    return Sizing(fleet, tuple(options))


def _year_peak_volume(S: Any, year: int) -> float:
    first, last = 12 * (year - 1) + 1, min(12 * year, S.horizon_months)
    g = (1.0 + S.annual_growth) ** (np.array([first - 1, last - 1]) / 12.0)
    return float(S.monthly_tokens * g.max())


def api_usd_per_token(S: Any) -> tuple[float, float, float, float]:
    """Blended API list price per token at the four corners of (output share, cached share).

    The price is bilinear in the two shares, so the corners from
    ``buildbuy.costs.api_usd_per_1k_tokens`` give it exactly for any shares:
    returns ``(p00, p10, p01, p11)`` for (output, cached) = (0,0), (1,0), (0,1), (1,1).
    """
    return tuple(costs.api_usd_per_1k_tokens(S.api_model, output_token_share=o,
                                             cached_input_share=c) / 1000.0
                 for o, c in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)))  # type: ignore[return-value]


def rent_usd_per_gpu_hour(S: Any) -> float:
    """What B pays per rented GPU-hour: the override, else the price table; 0 when owned."""
    if S.gpu_usd_per_hour is not None:
        return float(S.gpu_usd_per_hour)
    if S.hosting == "owned":
        return 0.0
    return float(costs.gpu_usd_per_hour(S.gpu, S.hosting))


_DRIFT_CACHE: dict[str, dict[str, dict[str, np.ndarray]]] = {}


def drift_lines(S: Any) -> dict[str, dict[str, np.ndarray]]:
    """Drift cost lines of :func:`buildbuy.drift.cost_lines` as arrays.

    Returns ``{scenario: {component: usd per month 0..horizon}}``. They do not depend
    on volume or prices, so Monte Carlo draws reuse them unchanged. Kept per scenario
    values (the decision record, its Monte Carlo and its tornado ask for the same lines);
    the arrays are read-only.
    """
    import json

    key = json.dumps(S.to_dict(), sort_keys=True, default=str)
    if key not in _DRIFT_CACHE:
        if len(_DRIFT_CACHE) > 64:
            _DRIFT_CACHE.clear()
        _DRIFT_CACHE[key] = _drift_lines(S)
    return _DRIFT_CACHE[key]


def _drift_lines(S: Any) -> dict[str, dict[str, np.ndarray]]:
    from buildbuy import drift  # imported here: drift is heavier than the rest of tco

    frame = drift.cost_lines(S)
    out: dict[str, dict[str, np.ndarray]] = {}
    n = S.horizon_months + 1
    for (scen, comp), rows in frame.groupby(["scenario", "component"], sort=True):
        arr = np.zeros(n)
        np.add.at(arr, rows["month"].to_numpy(dtype=int), rows["usd"].to_numpy(dtype=float))
        arr.flags.writeable = False
        out.setdefault(str(scen), {})[str(comp)] = arr
    return out


@dataclasses.dataclass(frozen=True)
class CostContext:
    """Everything that stays fixed across Monte Carlo draws (from :func:`cost_context`)."""

    horizon: int
    live_a_from: int
    live_b_from: int
    hosting: str
    gpus_per_server: int
    api_corners: tuple[float, float, float, float]
    gpu_usd_per_hour: float
    sizing: Sizing
    drift: dict[str, dict[str, np.ndarray]]


def cost_context(S: Any, size: Sizing | None = None) -> CostContext:
    """The draw-invariant part of the cost model (sizing, API price corners, drift lines)."""
    return CostContext(S.horizon_months, S.months_to_production_a + 1,
                       S.months_to_production + 1, S.hosting, S.gpus_per_server,
                       api_usd_per_token(S), rent_usd_per_gpu_hour(S),
                       size if size is not None else sizing(S), drift_lines(S))


Component = tuple[str, str, str, np.ndarray]


def _components(p: Mapping[str, Any], c: CostContext) -> Iterator[Component]:
    """Yield ``(scenario, component, category, usd)``; usd has shape (..., horizon + 1).

    ``p`` maps numeric field names to scalars or arrays of shape (n, 1) (one row per
    draw); the month axis is last.
    """
    n = c.horizon + 1
    m = np.arange(n, dtype=float)
    service = (m >= 1).astype(float)
    live_a = (m >= c.live_a_from).astype(float)
    live_b = (m >= c.live_b_from).astype(float)
    years = (np.maximum(m, 1.0) - 1.0) // 12.0  # month 0 belongs to year 1 (index 0)
    n_years = int(years[-1]) + 1
    year_idx = years.astype(int)

    volume = demand.volume_tokens(p["monthly_tokens"], p["annual_growth"], m)
    # ---- Scenario A: API
    o, cs = p["output_token_share"], p["cached_input_share"]
    p00, p10, p01, p11 = c.api_corners
    usd_per_token = ((1 - o) * (1 - cs) * p00 + o * (1 - cs) * p10 + (1 - o) * cs * p01
                     + o * cs * p11)
    price = (usd_per_token * (1.0 - p["api_discount"])
             * (1.0 - p["api_price_decline"]) ** ((np.maximum(m, 1.0) - 1.0) / 12.0))
    yield "A", "api_fees", "opex", volume * live_a * price
    yield "A", "api_integration", "opex", p["api_integration_usd"] * (m == 1)

    # ---- Scenario B: fleet sized per year for that year's peak, while B is live
    firsts = np.array([12 * y + 1 for y in range(n_years)], dtype=float)
    lasts = np.minimum(firsts + 11.0, c.horizon)
    live_year = (lasts >= c.live_b_from).astype(float)
    gfirst = (1.0 + p["annual_growth"]) ** ((firsts - 1.0) / 12.0)
    glast = (1.0 + p["annual_growth"]) ** ((lasts - 1.0) / 12.0)
    peak = demand.peak_tokens_per_s(p["monthly_tokens"] * np.maximum(gfirst, glast),
                                    p["peak_to_average"])
    gpus_y = c.sizing.n_gpus(peak) * live_year
    if c.hosting == "owned":
        servers_y = np.maximum.accumulate(np.ceil(gpus_y / c.gpus_per_server - 1e-9), axis=-1)
        bought_y = np.diff(servers_y, axis=-1, prepend=0.0)
        buy_month = np.concatenate([[0], firsts[1:].astype(int)])
        bought = np.zeros((*np.shape(bought_y)[:-1], n))
        bought[..., buy_month] = bought_y
        server_capex = bought * p["server_usd"]
        capex_total = server_capex * (1.0 + p["networking_uplift"])
        yield "B", "gpu_servers", "capex", server_capex
        yield "B", "networking", "capex", server_capex * p["networking_uplift"]
        resale = np.zeros(n)
        resale[-1] = 1.0
        yield "B", "resale", "capex", -p["residual_value_share"] * resale * np.sum(
            capex_total, axis=-1, keepdims=True)
        servers_m = servers_y[..., year_idx] * live_b
        kw_m = servers_m * p["server_power_kw"]
        yield "B", "power", "opex", (kw_m * p["power_draw_share"] * p["pue"] * HOURS_PER_MONTH
                                     * p["electricity_usd_per_kwh"])
        yield "B", "colocation", "opex", kw_m * p["colo_usd_per_kw_month"]
        yield "B", "maintenance", "opex", (np.cumsum(capex_total, axis=-1) * live_b
                                           * p["maintenance_share_per_year"] / 12.0)
        gpus_m = servers_m * c.gpus_per_server
    else:
        gpus_m = gpus_y[..., year_idx] * live_b
        yield "B", "gpu_rental", "opex", gpus_m * HOURS_PER_MONTH * p["gpu_usd_per_hour"]
    yield "B", "licences", "opex", gpus_m * p["licence_usd_per_gpu_year"] / 12.0
    yield "B", "fine_tuning", "opex", p["fine_tuning_usd"] * (m == 1)

    # ---- both: people, drift
    for side in ("A", "B"):
        for role in ROLES:
            yield (side, role, "people", p[f"{role}_fte_{side.lower()}"]
                   * p[f"{role}_usd_per_year"] / 12.0 * service)
        for comp, arr in c.drift.get(side, {}).items():
            yield side, comp, "drift", arr


def _params(S: Any, varied: Mapping[str, Any] | None = None) -> dict[str, Any]:
    p = {k: getattr(S, k) for k, f in FIELDS.items() if f.type in (float, int)}
    p["gpu_usd_per_hour"] = rent_usd_per_gpu_hour(S)
    for k, v in (varied or {}).items():
        p[k] = np.asarray(v, dtype=float).reshape(-1, 1)
    return p


def served_tokens(S: Any) -> dict[str, np.ndarray]:
    """Tokens served per month (index = month 0..horizon) by A and by B."""
    m = demand.months(S.horizon_months)
    vol = demand.tokens(S)
    return {"A": vol * (m > S.months_to_production_a),
            "B": vol * (m > S.months_to_production)}


def cashflows(S: Any, *, size: Sizing | None = None) -> pd.DataFrame:
    """Monthly cash flows of Scenario A and B as a tidy frame.

    Parameters
    ----------
    S : Scenario
        A validated scenario (``buildbuy.scenarios.load``).
    size : Sizing, optional
        Reuse a :func:`sizing` result (it depends only on model, GPU, request shape,
        latency target and the first year's peak).

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
    c = cost_context(S, size)
    p = _params(S)
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
                  context: CostContext | None = None, components: bool = False,
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
    context : CostContext, optional
        A precomputed :func:`cost_context` (speeds up repeated calls).
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
    c = context if context is not None else cost_context(S)
    p = _params(S, varied)
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
                   context: CostContext | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Total monthly cash cost of A and B, vectorised over draws of some fields.

    Arguments as :func:`monthly_lines`. Returns the costs of A and B, shape
    ``(n, horizon + 1)`` (``(1, horizon + 1)`` without ``varied``).
    """
    lines = monthly_lines(S, varied, context=context)
    return (sum(lines["A", cat] for cat in CATEGORIES),  # type: ignore[return-value]
            sum(lines["B", cat] for cat in CATEGORIES))


def fleet_by_year(S: Any, size: Sizing | None = None) -> pd.DataFrame:
    """Scenario B's fleet, year by year: THE GPU count every view prints.

    One row per year of the horizon (year 1 = months 1-12). ``peak_tokens_per_s`` is the
    year's busiest month x ``peak_to_average`` (prompt + output tokens/s); ``gpus_needed``
    serve it at the latency target (:meth:`Sizing.n_gpus`); ``gpus`` is what B runs that
    year: rented GPUs, or owned GPUs in whole servers (owned servers are never sold before
    the horizon, so the count never falls). ``servers`` is 0 for cloud hosting.
    ``utilisation_at_peak`` = peak / (capacity of ``gpus``); a year before B goes live
    has 0 GPUs. ``sized_for`` says what the count is sized for, in words.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> f = fleet_by_year(scenarios.load("hospital_notes"))
    >>> list(f.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['year', 'peak_tokens_per_s', 'gpus_needed', 'gpus', 'servers', 'utilisation_at_peak',
     'sized_for']
    """
    size = size if size is not None else sizing(S)
    rows = []
    held_servers = 0
    per_gpu = (max(cap / tp for tp, cap in size.options) if size.options else 0.0)
    for year in range(1, (S.horizon_months - 1) // 12 + 2):
        last = min(12 * year, S.horizon_months)
        peak = float(demand.peak_tokens_per_s(_year_peak_volume(S, year), S.peak_to_average))
        live = last > S.months_to_production
        needed = int(size.n_gpus(peak)) if live else 0
        servers = 0
        gpus = needed
        if S.hosting == "owned":
            held_servers = max(held_servers, int(np.ceil(needed / S.gpus_per_server - 1e-9)))
            servers = held_servers if live else 0
            gpus = servers * S.gpus_per_server
        capacity = _capacity(size, gpus)
        rows.append({
            "year": year, "peak_tokens_per_s": peak, "gpus_needed": needed, "gpus": gpus,
            "servers": servers,
            "utilisation_at_peak": peak / capacity if capacity > 0 else float("nan"),
            "sized_for": _sized_for(S, size, year, live, per_gpu),
        })
    return pd.DataFrame(rows)


def _capacity(size: Sizing, gpus: int) -> float:
    """Peak tokens/s that ``gpus`` GPUs serve with the best group size that fits them."""
    best = 0.0
    for tp, cap in size.options:
        best = max(best, (gpus // tp) * cap)
    return best


def _sized_for(S: Any, size: Sizing, year: int, live: bool, per_gpu: float) -> str:
    if size.error is not None:
        return f"not feasible: {size.error}"
    if not live:
        return f"year {year}: not live yet (B goes live in month {S.months_to_production + 1})"
    unit = " in whole servers of " + f"{S.gpus_per_server}" if S.hosting == "owned" else ""
    return (f"year {year}'s busiest month x peak_to_average {S.peak_to_average:g}, at "
            f"{S.max_ms_per_output_token:g} ms per output token{unit}")


def compare(S: Any) -> Any:
    """Compare A, B and the hybrid for ``S``: :func:`buildbuy.tco_compare.compare`.

    Passes this module as the cost model, so ``tco_compare`` needs no import of ``tco``.
    The result is cached per scenario values (every view gets the same object).
    """
    import sys

    from buildbuy import tco_compare

    return tco_compare.compare(S, model=sys.modules[__name__])
