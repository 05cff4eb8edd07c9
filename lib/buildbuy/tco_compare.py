"""The comparison engine: cash costs, value, tax and the verdict, for one scenario.

:func:`compare` (reached as ``buildbuy.tco.compare``) is computed once per scenario and
feeds :func:`buildbuy.decision.decide`, the record every view prints from::

    from buildbuy import scenarios, tco
    C = tco.compare(scenarios.load("bank_support"))
    C.npv_vs_status_quo_usd, C.npv_gap_usd, C.payback_months, C.recommendation

The paths (:mod:`buildbuy.path_cash`): **A** buy (the API), **B** build (self-host),
**H** hybrid (the API until B is live, then self-host) and **0** the status quo (do
nothing). Two views of the same cash:

- **The cost view** (Lesson 2): cash costs only, pre-tax. ``tco_usd`` (undiscounted
  sums), ``npv_cost_usd`` (discounted), ``crossover_month`` (B's cumulative cost falls to
  A's for good; simple and discounted) and ``break_even_monthly_tokens`` (the first-month
  volume at which B's cost NPV equals A's). The value a path forgoes before it goes live
  is shown apart (``forgone_usd``), never added to cost.
- **The decision basis** (everything else): after-tax free cash flow of value minus cost,
  one depreciation schedule (:mod:`buildbuy.tax`). ``npv_vs_status_quo_usd`` per path,
  ``npv_gap_usd`` (B minus A), ``payback_months`` of B against A, ``irr_b_vs_a``.

Conventions: month 0 is upfront and not discounted; month ``m`` is discounted by
``(1 + r_m) ** -m`` with ``r_m = (1 + discount_rate) ** (1/12) - 1``
(:func:`buildbuy.finance.npv`, numpy convention).

The recommendation rule
-----------------------
Among the feasible paths (:mod:`buildbuy.constraints`), the one with the highest
after-tax NPV against the status quo: A -> **buy**, B -> **build**, H -> **hybrid**
(ties go to the simpler path: buy, then build, then hybrid). **neither** when no feasible
path has a positive NPV: doing nothing is then the best use of the money. No margin is
added: the Monte Carlo of :mod:`buildbuy.uncertainty` (in the decision record) says how
often the ranking holds. What may block a path (data residency, the latency target, the
API's published rate limits) is a rule of :mod:`buildbuy.constraints`; the verdict is
decided here and nowhere else.

This module never imports :mod:`buildbuy.tco`: ``tco.compare`` passes itself in as the
cost model (:class:`CostModel`), so there is no import cycle.
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from typing import Any, Protocol

import numpy as np
import pandas as pd

from buildbuy import api_limits, constraints, data, demand, finance, path_cash, value
from buildbuy.gpu_supply import months_to_production_b
from buildbuy.tax import AfterTax

__all__ = [
    "Comparison",
    "CostModel",
    "break_even_monthly_tokens",
    "compare",
    "npv_at_volumes",
    "open_model_api_npv",
]

#: Names of the paths, for reasons and tables.
PATH_NAMES: dict[str, str] = {"A": "the API (buy)", "B": "self-hosting (build)",
                              "H": "the hybrid (API, then self-host)", "0": "the status quo"}
_VERDICT = {"A": "buy", "B": "build", "H": "hybrid"}
_TIE_ORDER = ("A", "B", "H")


class CostModel(Protocol):
    """What :func:`compare` needs from the cost model (``buildbuy.tco`` provides it)."""

    def sizing(self, S: Any, *, allow_infeasible: bool = False) -> Any: ...
    def context(self, S: Any, size: Any = None) -> Any: ...
    def cashflows(self, S: Any, *, size: Any = None) -> pd.DataFrame: ...
    def monthly_lines(self, S: Any, varied: Any = None, *, context: Any = None,
                      components: bool = False) -> dict: ...
    def monthly_totals(self, S: Any, varied: Any = None, *,
                       context: Any = None) -> tuple: ...
    def fleet_by_year(self, S: Any, *, size: Any = None) -> Any: ...


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Outcome of :func:`compare` (conventions in the module docstring).

    Attributes
    ----------
    scenario : Scenario
    fleet : buildbuy.tco.FleetPlan
        B's fleet year by year (:func:`buildbuy.tco.fleet_by_year`): GPUs, servers,
        reserved GPUs, peak-hour utilisation (never above ``target_utilisation``), what
        each count is sized for, and the replica it is built from (``fleet.replica``,
        ``buildbuy.tps.size_fleet`` at year 1's peak; None if B cannot meet the latency
        target).
    fleet_by_year : pandas.DataFrame
        ``fleet.frame()``: THE GPU count by year, as a table.
    cashflows : pandas.DataFrame
        Tidy cash costs (``buildbuy.tco.cashflows``).
    monthly : pandas.DataFrame
        Index ``month``; cash cost of ``A``, ``B``, ``H`` and per ``"A:opex"`` etc.
    cumulative : pandas.DataFrame
        Cumulative cash cost of A, B and H.
    tco_usd, npv_cost_usd : dict
        Pre-tax cash cost over the horizon, undiscounted and discounted, per path.
    crossover_month, discounted_crossover_month : float or None
        Month B's cumulative cash cost falls to A's for good.
    usd_per_1k_tokens : pandas.DataFrame
        Per month, A and B: (cash operating cost + book depreciation) / tokens served.
    break_even_monthly_tokens : float or None
        First-month volume at which B's cost NPV equals A's (pre-tax, cash costs).
    paths : dict
        ``{path: buildbuy.tax.AfterTax}`` for A, B, H and 0 (1-D monthly arrays).
    forgone_usd : dict
        Value each path misses before going live, per month (the opportunity cost line).
    annual : pandas.DataFrame
        Per year and path: value, costs, EBITDA, depreciation, EBIT, tax, capex,
        proceeds, FCF (and net book value at the year's end).
    npv_vs_status_quo_usd : dict
        After-tax NPV of each path's value minus cost, against doing nothing.
    npv_gap_usd, npv_gap_hybrid_usd : float
        NPV of B minus A, and of H minus A.
    payback_months, payback_hybrid_months : dict
        ``{"simple", "discounted"}`` payback of the after-tax FCF of B (H) minus A
        (:func:`buildbuy.finance.paybacks`).
    irr_b_vs_a : float or None
        Annual IRR of the FCF of B minus A (None if it has no IRR).
    feasibility : dict
        ``{path: [blocking reasons]}`` (:mod:`buildbuy.constraints`).
    constraint_cost_usd : float or None
        The price of the constraints: after-tax NPV of the best *blocked* path minus that
        of the recommended one (0 for "neither": doing nothing); 0 when the blocked paths
        are worse anyway, None when nothing is blocked (or only a B that cannot be sized,
        whose lines hold no fleet).
    constraint_cost_path : str or None
        The best blocked path (None when nothing is blocked).
    recommendation : str
        ``"build"``, ``"buy"``, ``"hybrid"`` or ``"neither"``.
    reasons, notes : list of str
        Why, with numbers; what the model simplifies.
    """

    scenario: Any
    fleet: Any
    fleet_by_year: pd.DataFrame
    cashflows: pd.DataFrame
    monthly: pd.DataFrame
    cumulative: pd.DataFrame
    tco_usd: dict[str, float]
    npv_cost_usd: dict[str, float]
    crossover_month: float | None
    discounted_crossover_month: float | None
    usd_per_1k_tokens: pd.DataFrame
    break_even_monthly_tokens: float | None
    paths: dict[str, AfterTax]
    forgone_usd: dict[str, np.ndarray]
    annual: pd.DataFrame
    npv_vs_status_quo_usd: dict[str, float]
    npv_gap_usd: float
    npv_gap_hybrid_usd: float
    payback_months: dict[str, float | None]
    payback_hybrid_months: dict[str, float | None]
    irr_b_vs_a: float | None
    feasibility: dict[str, list[str]]
    constraint_cost_usd: float | None
    constraint_cost_path: str | None
    recommendation: str
    reasons: list[str]
    notes: list[str]

    @property
    def gpus_by_year(self) -> list[int]:
        """``fleet.gpus_by_year``: GPUs B owns (owned) or runs in the year's peak hour
        (cloud), each year of the horizon."""
        return self.fleet.gpus_by_year

    def path_frame(self, path: str) -> pd.DataFrame:
        """Monthly lines of one path as a DataFrame (index ``month``)."""
        r = self.paths[path]
        cols = ("value", "costs", "ebitda", "depreciation", "gain", "ebit", "tax", "capex",
                "proceeds", "fcf", "nbv")
        return pd.DataFrame({f"{c}_usd": getattr(r, c) for c in cols},
                            index=pd.RangeIndex(len(r.fcf), name="month"))


# --------------------------------------------------------------------------- helpers


def _rate(S: Any) -> float:
    return finance.monthly_rate(S.discount_rate)


def _irr_annual(flows: np.ndarray) -> float | None:
    try:
        r = finance.irr(flows)
    except ValueError:
        return None
    return float((1.0 + r) ** 12 - 1.0)


def _annual(paths: dict[str, AfterTax], horizon: int) -> pd.DataFrame:
    years = np.maximum(1, -(-np.arange(horizon + 1) // 12))
    rows = []
    for path, r in paths.items():
        for y in range(1, int(years.max()) + 1):
            sel = years == y
            row = {"year": y, "path": path}
            for c in ("value", "costs", "ebitda", "depreciation", "gain", "ebit", "tax",
                      "capex", "proceeds", "fcf"):
                row[f"{c}_usd"] = float(np.sum(getattr(r, c)[sel]))
            row["nbv_usd"] = float(r.nbv[np.flatnonzero(sel)[-1]])
            rows.append(row)
    return pd.DataFrame(rows)


def _usd(x: float) -> str:
    return f"-${-x / 1e6:,.2f}M" if x <= -1e6 else (
        f"${x / 1e6:,.2f}M" if abs(x) >= 1e6 else f"{'-' if x < 0 else ''}${abs(x):,.0f}")


# --------------------------------------------------------------------------- engine


_CACHE: OrderedDict[str, Comparison] = OrderedDict()
_CACHE_SIZE = 32


def _key(S: Any, model: Any) -> str:
    # a module (buildbuy.tco) or a variant of it names itself: ids of dead objects recur
    return (json.dumps(S.to_dict(), sort_keys=True, default=str)
            + f"|{getattr(model, '__name__', id(model))}")


def compare(S: Any, *, model: CostModel) -> Comparison:
    """Compare buy, build, hybrid and the status quo for ``S``; cached per scenario values.

    Parameters
    ----------
    S : Scenario
        From ``buildbuy.scenarios.load``.
    model : CostModel
        The cost model (``buildbuy.tco``; ``tco.compare(S)`` passes it).

    Returns
    -------
    Comparison
        The same object for the same scenario values (up to 32 scenarios are kept).

    Examples
    --------
    >>> from buildbuy import scenarios, tco
    >>> C = tco.compare(scenarios.load("retail_search"))
    >>> C.recommendation in ("build", "buy", "hybrid", "neither")
    True
    >>> C is tco.compare(scenarios.load("retail_search"))
    True
    """
    key = _key(S, model)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    out = _compare(S, model)
    _CACHE[key] = out
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return out


def _compare(S: Any, model: CostModel) -> Comparison:
    size = model.sizing(S, allow_infeasible=True)
    ctx = model.context(S, size)
    cf = model.cashflows(S, size=size)
    plan = model.fleet_by_year(S, size=size)
    fleet_years = plan.frame()
    r = _rate(S)

    # ---- the cost view (pre-tax cash costs)
    wide = cf.pivot_table(index="month", columns=["scenario", "category"], values="usd",
                          aggfunc="sum", fill_value=0.0)
    monthly = pd.DataFrame({"A": wide["A"].sum(axis=1), "B": wide["B"].sum(axis=1)})
    lines = model.monthly_lines(S, context=ctx, components=True)
    flat = {k: v[0] for k, v in lines.items()}
    paths = {p: _first(a) for p, a in path_cash.path_cash(S, flat).items()}
    m = demand.months(S.horizon_months)
    live = value.live_from(S)
    bridge = (m < live["B"]).astype(float) * float(live["A"] < live["B"])
    monthly["H"] = monthly["B"] + monthly["A"] * bridge
    for (scen, cat) in wide.columns:
        monthly[f"{scen}:{cat}"] = wide[(scen, cat)]
    cumulative = monthly[["A", "B", "H"]].cumsum()
    tco_usd = {k: float(monthly[k].sum()) for k in ("A", "B", "H")}
    npv_cost = {k: float(finance.npv(r, monthly[k].to_numpy())) for k in ("A", "B", "H")}
    cost_saving = (monthly["A"] - monthly["B"]).to_numpy()
    crossover, d_crossover = finance.paybacks(cost_saving, r)

    unit = pd.DataFrame(index=monthly.index, columns=["A", "B"], dtype=float)
    served = {"A": demand.tokens(S) * (m >= live["A"]), "B": demand.tokens(S) * (m >= live["B"])}
    for k in ("A", "B"):
        cost = paths[k].costs + paths[k].depreciation
        with np.errstate(divide="ignore", invalid="ignore"):
            unit[k] = np.where(served[k] > 0, cost / served[k] * 1000.0, np.nan)
    be = break_even_monthly_tokens(S, model=model, context=ctx)

    # ---- the decision basis (after tax, value minus cost)
    npv_sq = {p: float(finance.npv(r, paths[p].fcf)) for p in ("A", "B", "H")}
    gap = paths["B"].fcf - paths["A"].fcf
    gap_h = paths["H"].fcf - paths["A"].fcf
    pb = dict(zip(("simple", "discounted"), finance.paybacks(gap, r), strict=True))
    pb_h = dict(zip(("simple", "discounted"), finance.paybacks(gap_h, r), strict=True))
    facts = constraints.Facts(
        sizing_error=size.error, fleet_by_year=fleet_years, demand_tokens=demand.tokens(S),
        uses_api={p: s[0] for p, s in value.serving_path(
            live["A"], live["B"], S.horizon_months).items()})
    feasible = constraints.feasibility(S, facts)
    forgone = value.forgone(S)
    comparison = dict(
        scenario=S, fleet=plan, fleet_by_year=fleet_years, cashflows=cf,
        monthly=monthly, cumulative=cumulative, tco_usd=tco_usd, npv_cost_usd=npv_cost,
        crossover_month=crossover, discounted_crossover_month=d_crossover,
        usd_per_1k_tokens=unit, break_even_monthly_tokens=be, paths=paths,
        forgone_usd=forgone, annual=_annual(paths, S.horizon_months),
        npv_vs_status_quo_usd=npv_sq, npv_gap_usd=npv_sq["B"] - npv_sq["A"],
        npv_gap_hybrid_usd=npv_sq["H"] - npv_sq["A"], payback_months=pb,
        payback_hybrid_months=pb_h, irr_b_vs_a=_irr_annual(gap), feasibility=feasible)
    rec, reasons = _recommend(S, comparison, model, size)
    # a B that cannot be sized has no fleet in its lines: its NPV is no price to quote
    cost, blocked_best = _constraint_cost(npv_sq, feasible, rec,
                                          unpriced=("B", "H") if size.error else ())
    if blocked_best is not None and cost is not None and cost > 0:
        reasons.append(
            f"The price of the constraints: {PATH_NAMES[blocked_best]}, which they block, "
            f"would create {_usd(npv_sq[blocked_best])} after tax against doing nothing, "
            f"{_usd(cost)} more than the recommendation. That is what keeping them costs.")
    notes = [
        "Owned servers are bought for each year's peak hour; cloud GPUs follow a typical "
        "day's load hour by hour (data/load_profiles.csv scaled to peak_to_average); weekly "
        "and seasonal swings are not modelled.",
        "Drift costs are the expected values of buildbuy.drift.cost_lines (seeded runs).",
        "Tax uses the book depreciation schedule; US 100% bonus depreciation would bring "
        "the hardware's tax saving forward (the record's notes measure by how much).",
        "Value per request is one average figure; quality_b_vs_a maps a benchmark ratio to "
        "a share of that value, an approximation a task evaluation should replace.",
    ]
    return Comparison(**comparison, constraint_cost_usd=cost,
                      constraint_cost_path=blocked_best, recommendation=rec,
                      reasons=reasons, notes=notes)


def _constraint_cost(npv: dict[str, float], blocked: dict[str, list[str]], rec: str, *,
                     unpriced: tuple[str, ...] = ()) -> tuple[float | None, str | None]:
    """(NPV of the best blocked path minus the chosen one, floored at 0; that path).

    Paths in ``unpriced`` (B and H when no GPU group meets the latency target) are left out.
    """
    shut = [p for p in _TIE_ORDER if blocked[p] and p not in unpriced]
    if not shut:
        return None, None
    best_blocked = max(shut, key=lambda p: npv[p])
    chosen = 0.0 if rec == "neither" else npv[{v: k for k, v in _VERDICT.items()}[rec]]
    return max(0.0, npv[best_blocked] - chosen), best_blocked


def _first(r: AfterTax) -> AfterTax:
    """The single draw of a one-row result, as 1-D arrays."""
    return AfterTax(*(np.asarray(getattr(r, f.name)).reshape(-1, np.shape(r.fcf)[-1])[0]
                      for f in dataclasses.fields(AfterTax)))


def npv_at_volumes(S: Any, volumes: Any, *, model: CostModel, context: Any = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Cost NPVs of A and B if the first month carried ``volumes`` tokens instead.

    Everything but ``monthly_tokens`` stays as in ``S``; the NPVs follow the module's
    convention (pre-tax cash costs, month 0 undiscounted). This is the comparison
    :func:`break_even_monthly_tokens` searches over, and the one a learner can try volume
    by volume (``buildbuy.forms.whatif``; ``tco.npv_at_volumes`` passes the cost model).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        NPV of A and of B in USD, one per volume.

    Examples
    --------
    >>> from buildbuy import scenarios, tco
    >>> S = scenarios.load("bank_support")
    >>> a, b = tco.npv_at_volumes(S, [S.monthly_tokens])
    >>> C = tco.compare(S)
    >>> bool(abs(a[0] - C.npv_cost_usd["A"]) < 1e-6 * C.npv_cost_usd["A"])
    True
    """
    ctx = context if context is not None else model.context(S)
    v = np.atleast_1d(np.asarray(volumes, dtype=float))
    a, b = model.monthly_totals(S, {"monthly_tokens": v}, context=ctx)
    r = _rate(S)
    return finance.npv(r, a), finance.npv(r, b)


def break_even_monthly_tokens(S: Any, *, model: CostModel, context: Any = None,
                              lo: float = 1e6, hi: float = 1e15,
                              n_grid: int = 181) -> float | None:
    """First-month volume (tokens/month) at which B's cost NPV falls to A's.

    A cost-view figure (pre-tax cash costs, as Lesson 2 teaches break-even): everything but
    ``monthly_tokens`` stays as in ``S``. B's cost is a staircase in volume (whole servers),
    so the difference can cross zero more than once: this returns the *lowest* volume at
    which B is at least as cheap, found on a log grid of ``n_grid`` points from ``lo`` to
    ``hi`` plus zero, then refined by bisection to 1e-9 relative. ``0.0`` if B is cheaper
    even at zero volume; ``None`` if B is dearer on the whole grid.
    """
    ctx = context if context is not None else model.context(S)

    def diff(volumes: np.ndarray) -> np.ndarray:
        a, b = npv_at_volumes(S, volumes, model=model, context=ctx)
        return b - a

    grid = np.concatenate([[0.0], np.geomspace(lo, hi, n_grid)])
    d = diff(grid)
    cheaper = np.flatnonzero(d <= 0)
    if cheaper.size == 0:
        return None
    k = int(cheaper[0])
    if k == 0:
        return 0.0
    a, b = grid[k - 1], grid[k]
    for _ in range(200):
        if b - a <= 1e-9 * b:
            break
        mid = 0.5 * (a + b)
        if diff(np.array([mid]))[0] <= 0:
            b = mid
        else:
            a = mid
    return float(b)


def open_model_api_npv(S: Any, *, model: CostModel, size: Any = None) -> dict[str, float]:
    """Cost NPV (pre-tax, cash) of path A if the API were a hosted copy of B's model.

    Looks up every row of ``data/api_prices.csv`` whose name ends in the scenario's
    ``self_host_model`` (e.g. ``together-llama-3.1-8b`` for ``llama-3.1-8b``) and prices
    path A with it, all other fields unchanged. Returns ``{api name: cost NPV in USD}``,
    empty when no provider in the table hosts that model. ``size`` reuses B's sizing (the
    API does not change it).
    """
    r = _rate(S)
    out: dict[str, float] = {}
    for name in data.api_names():
        if name != S.self_host_model and name.endswith("-" + S.self_host_model):
            T = S.replace(api_model=name)
            ctx = model.context(T, size) if size is not None else None
            a, _ = model.monthly_totals(T, context=ctx)
            out[name] = float(finance.npv(r, a[0]))
    return out


# --------------------------------------------------------------------------- verdict


def _api_limit_reasons(S: Any, cf: pd.DataFrame) -> list[str]:
    """What the API's rate limits cost path A, when it buys provisioned throughput (a
    peak no tier carries with nothing to buy is a constraint, not a price)."""
    pt = float(cf[(cf.scenario == "A") & (cf.component == "api_provisioned")].usd.sum())
    if pt <= 0:
        return []
    plan = api_limits.quota_plan(S)
    k = int(np.flatnonzero(plan.provisioned_units > 0)[0])
    return [f"The API's peak outgrows {S.api_model}'s top published rate-limit tier "
            f"({plan.top.name}) from month {k}: path A buys provisioned throughput "
            f"({plan.offer.offer.replace('_', ' ')}, {plan.provisioned_units[k]:.0f} units "
            f"then), {_usd(pt)} over the horizon."]


def _months(x: float | None) -> str:
    return "never within the horizon" if x is None else f"after {x:.1f} months"


def _recommend(S: Any, c: dict[str, Any], model: CostModel, size: Any
               ) -> tuple[str, list[str]]:
    npv = c["npv_vs_status_quo_usd"]
    blocked = c["feasibility"]
    years = S.horizon_months / 12
    fleet = c["fleet_by_year"]
    reasons = [
        f"Against doing nothing, over {years:g} years, after tax at {S.tax_rate:.1%} and "
        f"discounted at {S.discount_rate:.1%} a year: buy (API) {_usd(npv['A'])}, build "
        f"(self-host) {_usd(npv['B'])}, hybrid (API until self-hosting is live) "
        f"{_usd(npv['H'])}.",
        f"Each request is worth ${S.value_usd_per_request:,.4g} on the API's model and "
        f"{S.quality_b_vs_a:.0%} of that on {S.self_host_model}; the API goes live in month "
        f"{S.months_to_production_a + 1}, self-hosting in month {months_to_production_b(S) + 1}.",
    ]
    if c["fleet"].replica is None:
        reasons.append(f"Self-hosting cannot be sized: {fleet['sized_for'].iloc[0]}.")
    else:
        reasons.append(
            f"Self-hosting runs {int(fleet['gpus'].iloc[0])} {S.gpu} GPUs in year 1 "
            f"({S.hosting.replace('_', ' ')}; {fleet['sized_for'].iloc[0]}), for "
            f"{S.peak_to_average:g}x the average load, and {int(fleet['gpus'].max())} at most "
            "as the load grows.")
    reasons += _api_limit_reasons(S, c["cashflows"])
    reasons.append(
        f"In cash costs alone (pre-tax, no value) the API costs {_usd(c['tco_usd']['A'])} and "
        f"self-hosting {_usd(c['tco_usd']['B'])} over the horizon.")
    hosted = open_model_api_npv(S, model=model, size=size)
    if hosted:
        name, cost = min(hosted.items(), key=lambda kv: kv[1])
        reasons.append(
            f"Check a fourth path: {S.self_host_model} itself is sold as an API ({name}); "
            f"its cash cost NPV would be {_usd(cost)} against {_usd(c['npv_cost_usd']['A'])} "
            f"for {S.api_model} and {_usd(c['npv_cost_usd']['B'])} for self-hosting.")
    for path in ("A", "B", "H"):
        for why in blocked[path]:
            name = PATH_NAMES[path]
            reasons.append(f"{name[0].upper()}{name[1:]} is not possible: {why}.")
    candidates = [p for p in _TIE_ORDER if not blocked[p]]
    if not candidates:
        reasons.append("Neither: no path is possible with these constraints.")
        return "neither", reasons
    best = max(candidates, key=lambda p: (npv[p], -_TIE_ORDER.index(p)))
    if npv[best] <= 0:
        reasons.append(f"Neither: the best possible path, {PATH_NAMES[best]}, loses "
                       f"{_usd(-npv[best])} against doing nothing.")
        return "neither", reasons
    others = [p for p in candidates if p != best]
    margin = (f", {_usd(npv[best] - max(npv[p] for p in others))} ahead of the next "
              "possible path" if others else "")
    pb = c["payback_hybrid_months"] if best == "H" else c["payback_months"]
    tail = ""
    if best in ("B", "H") and not blocked["A"]:
        tail = (f"; against the API it pays back {_months(pb['discounted'])} "
                "(discounted, after tax)")
    reasons.append(f"{_VERDICT[best].capitalize()}: {PATH_NAMES[best]} creates the most "
                   f"value, {_usd(npv[best])} after tax against doing nothing{margin}{tail}.")
    return _VERDICT[best], reasons
