"""Compare Scenario A (API) and B (self-host): TCO, NPV, payback, unit cost, break-even.

:func:`compare` is the one call a lesson, an exercise or a learner report makes::

    from buildbuy import scenarios, tco
    C = tco.compare(scenarios.load("bank_support"))
    C.tco_usd, C.npv_usd, C.crossover_month, C.recommendation, C.reasons

Conventions
-----------
- Cash flows from :func:`buildbuy.tco.cashflows` (costs > 0). NPVs discount month ``m``
  by ``(1 + r_m) ** -m`` with ``r_m = (1 + discount_rate) ** (1/12) - 1``; month 0 is not
  discounted (:func:`buildbuy.finance.npv`, numpy convention). A cost NPV is positive.
- *Savings* of B are ``cost_A - cost_B`` per month. Payback of B against A is the
  :func:`buildbuy.finance.payback_period` of the savings: simple and discounted, in months,
  ``None`` when B has not caught up by the horizon. The crossover month is the simple one.
- Cost per 1k tokens in a month = (opex + people + drift + book depreciation) / tokens
  served x 1,000, i.e. EBIT cost per token from :func:`buildbuy.board.monthly_view`
  (hardware spread over ``depreciation_life_months``); opportunity cost is left out.
  ``NaN`` in months a scenario serves nothing.

The recommendation rule
-----------------------
Let ``saving = NPV_A - NPV_B`` (cost NPVs over the horizon, opportunity cost included).

- **buy** when ``saving <= 0``: the API is as cheap or cheaper, and its rate limits can
  carry the peak at published terms (:func:`buildbuy.api_limits.quota_blocking_reasons`);
  if they cannot, **hybrid**.
- **build** when ``saving >= 10%`` of ``NPV_A`` *and* B's discounted payback comes at
  least 12 months before the horizon ends: a clear margin, earned early enough to
  survive a year of bad surprises.
- **hybrid** otherwise: B is cheaper, but narrowly or only late. Start on the API and
  keep self-hosting as an option to exercise when volume (see
  ``break_even_monthly_tokens``) or prices move.

The 10% margin is a judgement, not a sourced figure: it is about the swing that a
single driver such as the API price decline or the GPU price produces in the tornado of
:mod:`buildbuy.uncertainty` for the personas. Check :func:`buildbuy.uncertainty.monte_carlo`
before acting on a narrow result.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from buildbuy import board, costs, data, finance, tco

__all__ = [
    "BUILD_MARGIN",
    "Comparison",
    "break_even_monthly_tokens",
    "compare",
    "npv_at_volumes",
    "open_model_api_npv",
    "simplification_effects",
]

#: Share of A's cost NPV that B must save for a "build" recommendation.
BUILD_MARGIN: float = 0.10
#: B must pay back at least this many months before the horizon for "build".
BUILD_PAYBACK_SLACK_MONTHS: int = 12


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Outcome of :func:`compare` (see the module docstring for conventions).

    Attributes
    ----------
    scenario : Scenario
    fleet : buildbuy.tco.FleetPlan
        B's fleet year by year (:func:`buildbuy.tco.fleet_by_year`): GPUs, servers,
        reserved GPUs, peak-hour utilisation (never above ``target_utilisation``), and the
        replica it is built from (``tokens_per_s_per_gpu``, ``tensor_parallel`` ...).
    gpus_by_year : list of int
        ``fleet.gpus_by_year``: GPUs B owns (owned hardware) or runs in the year's peak
        hour (cloud) in each year of the horizon.
    cashflows : pandas.DataFrame
        The tidy frame of :func:`buildbuy.tco.cashflows`.
    monthly : pandas.DataFrame
        Index ``month``; columns ``A``, ``B`` (total cost) and one column per
        ``(scenario, category)`` pair, e.g. ``B:capex``.
    cumulative : pandas.DataFrame
        Index ``month``; columns ``A``, ``B``: cumulative cost.
    tco_usd, npv_usd : dict
        ``{"A": ..., "B": ...}``: undiscounted total and NPV of costs over the horizon.
    crossover_month : float or None
        Month when B's cumulative cost falls to A's for good (simple payback).
    payback_months : dict
        ``{"simple": float | None, "discounted": float | None}``.
    usd_per_1k_tokens : pandas.DataFrame
        Index ``month``; columns ``A``, ``B``.
    break_even_monthly_tokens : float or None
        First-month volume at which B's cost NPV equals A's (others fixed).
    board : pandas.DataFrame or None
        ``buildbuy.board.annual_view`` (year x scenario: EBITDA, EBIT, FCF ...).
    enterprise_value : object or None
        ``buildbuy.board.enterprise_value`` of choosing B over A.
    recommendation : str
        ``"build"``, ``"buy"`` or ``"hybrid"``.
    reasons : list of str
        Plain-language reasons, with numbers.
    notes : list of str
        What the model simplifies, in plain words.

    Methods ``sensitivity()`` (the tornado table) and ``monte_carlo(**kwargs)`` run
    :mod:`buildbuy.uncertainty` on the same scenario on demand.
    """

    scenario: Any
    fleet: Any
    gpus_by_year: list[int]
    cashflows: pd.DataFrame
    monthly: pd.DataFrame
    cumulative: pd.DataFrame
    tco_usd: dict[str, float]
    npv_usd: dict[str, float]
    crossover_month: float | None
    payback_months: dict[str, float | None]
    usd_per_1k_tokens: pd.DataFrame
    break_even_monthly_tokens: float | None
    board: pd.DataFrame | None
    enterprise_value: Any
    recommendation: str
    reasons: list[str]
    notes: list[str]

    def sensitivity(self, *, metric: str = "npv_diff") -> pd.DataFrame:
        """Tornado table of :func:`buildbuy.uncertainty.tornado` for this scenario."""
        from buildbuy import uncertainty
        return uncertainty.tornado(self.scenario, metric=metric)

    def monte_carlo(self, **kwargs: Any) -> Any:
        """:func:`buildbuy.uncertainty.monte_carlo` for this scenario (same arguments)."""
        from buildbuy import uncertainty
        return uncertainty.monte_carlo(self.scenario, **kwargs)


def _monthly_rate(S: Any) -> float:
    return finance.monthly_rate(S.discount_rate)


def npv_at_volumes(S: Any, volumes: Any, *, context: Any = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Cost NPVs of A and B if the first month carried ``volumes`` tokens instead.

    Everything but ``monthly_tokens`` stays as in ``S``; the NPVs follow the module's
    convention (month 0 undiscounted). This is the comparison
    :func:`break_even_monthly_tokens` searches over, and the one a learner can try volume
    by volume (``buildbuy.forms.whatif``).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        NPV of A and of B in USD, one per volume.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> S = scenarios.load("bank_support")
    >>> a, b = npv_at_volumes(S, [S.monthly_tokens])
    >>> C = compare(S)
    >>> bool(abs(a[0] - C.npv_usd["A"]) < 1e-6 * C.npv_usd["A"])
    True
    """
    ctx = context if context is not None else tco.context(S)
    v = np.atleast_1d(np.asarray(volumes, dtype=float))
    a, b = tco.monthly_totals(S, {"monthly_tokens": v}, context=ctx)
    r = _monthly_rate(S)
    return finance.npv(r, a), finance.npv(r, b)


def break_even_monthly_tokens(S: Any, *, context: Any = None, lo: float = 1e6,
                              hi: float = 1e14, n_grid: int = 161) -> float | None:
    """First-month volume (tokens/month) at which B's cost NPV falls to A's.

    Everything but ``monthly_tokens`` stays as in ``S`` (growth, staff, prices). B's cost
    is a staircase in volume (whole servers), so the difference can cross zero more than
    once: this returns the *lowest* volume at which B is at least as cheap, found on a
    log grid of ``n_grid`` points from ``lo`` to ``hi`` plus zero, then refined by
    bisection to 1e-9 relative. ``0.0`` if B is cheaper even at zero volume; ``None`` if
    B is dearer on the whole grid.

    Unlike ``buildbuy.costs.break_even_monthly_tokens`` (one steady month), this counts
    the whole horizon: growth, price decline, capex, go-live delays and staff.
    """
    ctx = context if context is not None else tco.context(S)

    def diff(volumes: np.ndarray) -> np.ndarray:
        a, b = npv_at_volumes(S, volumes, context=ctx)
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


def compare(S: Any) -> Comparison:
    """Compare Scenario A and B of ``S``: costs, payback, unit cost, board view, verdict.

    Parameters
    ----------
    S : Scenario
        From ``buildbuy.scenarios.load``.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> C = compare(scenarios.load("retail_search"))
    >>> C.recommendation in ("build", "buy", "hybrid")
    True
    >>> round(C.cumulative.loc[C.scenario.horizon_months, "A"]) == round(C.tco_usd["A"])
    True
    """
    size = tco.sizing(S)
    ctx = tco.context(S, size)
    cf = tco.cashflows(S, size=size)
    notes = [
        "Owned servers are bought for each year's peak hour; cloud GPUs follow a typical "
        "day's load hour by hour (data/load_profiles.csv scaled to peak_to_average); weekly "
        "and seasonal swings are not modelled.",
        "Drift costs are the expected values of buildbuy.drift.cost_lines (seeded runs).",
    ]

    wide = cf.pivot_table(index="month", columns=["scenario", "category"], values="usd",
                          aggfunc="sum", fill_value=0.0)
    monthly = pd.DataFrame({"A": wide["A"].sum(axis=1), "B": wide["B"].sum(axis=1)})
    for (scen, cat) in wide.columns:
        monthly[f"{scen}:{cat}"] = wide[(scen, cat)]
    cumulative = monthly[["A", "B"]].cumsum()
    r = _monthly_rate(S)
    tco_usd = {k: float(monthly[k].sum()) for k in ("A", "B")}
    npv_usd = {k: float(finance.npv(r, monthly[k].to_numpy())) for k in ("A", "B")}
    savings = (monthly["A"] - monthly["B"]).to_numpy()
    payback = {"simple": finance.payback_period(savings),
               "discounted": finance.payback_period(savings, rate=r)}

    unit = pd.DataFrame(index=monthly.index, columns=["A", "B"], dtype=float)
    served = tco.served_tokens(S)
    mv = board.monthly_view(cf, depreciation_life_months=S.depreciation_life_months)
    for k in ("A", "B"):
        rows = mv[mv["scenario"] == k].set_index("month")
        cost = (rows["opex_usd"] + rows["depreciation_usd"]).reindex(monthly.index)
        with np.errstate(divide="ignore", invalid="ignore"):
            unit[k] = np.where(served[k] > 0, cost.to_numpy() / served[k] * 1000.0, np.nan)
    board_view = board.annual_view(cf, depreciation_life_months=S.depreciation_life_months)
    ev = board.enterprise_value(cf, depreciation_life_months=S.depreciation_life_months,
                                ev_ebitda_multiple=S.ev_ebitda_multiple, wacc=S.discount_rate)

    be = break_even_monthly_tokens(S, context=ctx)
    plan = tco.fleet_by_year(S, size=size)
    gpus = plan.gpus_by_year
    rec, reasons = _recommend(S, npv_usd, tco_usd, payback, be, plan, unit)
    reasons[1:1] = _api_limit_reasons(S, cf)
    hosted = open_model_api_npv(S)
    if hosted:
        name, value = min(hosted.items(), key=lambda kv: kv[1])
        reasons.append(
            f"Check a third path before deciding: {S.self_host_model} itself is sold as an "
            f"API ({name}); with the same staff and integration it would cost "
            f"{_usd(value)} in today's money, against {_usd(npv_usd['A'])} for "
            f"{S.api_model} and {_usd(npv_usd['B'])} for self-hosting. It fits when the "
            "open model's quality is enough and the data may leave your premises.")
    return Comparison(S, plan, gpus, cf, monthly, cumulative, tco_usd, npv_usd,
                      payback["simple"], payback, unit, be, board_view, ev, rec, reasons,
                      notes)


def open_model_api_npv(S: Any) -> dict[str, float]:
    """NPV of Scenario A's costs if the API were a hosted copy of the self-host model.

    Looks up every row of ``data/api_prices.csv`` whose name ends in the scenario's
    ``self_host_model`` (e.g. ``together-llama-3.1-8b`` for ``llama-3.1-8b``) and prices
    path A with it, all other fields unchanged. Returns ``{api name: cost NPV in USD}``,
    empty when no provider in the table hosts that model.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> sorted(open_model_api_npv(scenarios.load("retail_search")))
    ['deepinfra-llama-3.1-8b', 'together-llama-3.1-8b']
    """
    r = _monthly_rate(S)
    out: dict[str, float] = {}
    for name in data.api_names():
        if name != S.self_host_model and name.endswith("-" + S.self_host_model):
            a, _ = tco.monthly_totals(S.replace(api_model=name))
            out[name] = float(finance.npv(r, a[0]))
    return out


def simplification_effects(S: Any) -> pd.DataFrame:
    """How much two of the model's simplifications move Scenario B, for this scenario.

    - **Throughput error.** On published saturated runs it was not fitted to, the TPS
      model's throughput for this scenario's GPU family is off by a median ``m`` %
      (positive = optimistic; :func:`buildbuy.tps.accuracy.family_accuracy`; a family
      with no held-out run uses its planning margin). Every replica's capacity is divided
      by ``1 + m/100`` (the load, the day's shape and path A unchanged) to show what B
      would cost if the real throughput differed by that much.
    - **Always at peak.** The model before hourly sizing ran the cloud fleet at each
      year's peak-hour size for all 730 hours of every month. Rerunning it that way
      (``buildbuy.tco.context(S, elastic=False)``) shows how much it overstated B's cost.
      Owned servers are bought for the peak either way (zero effect).

    Returns one row per simplification: ``effect_on_b_usd`` (change of B's cost over the
    horizon against the model; positive = the simplification makes B dearer),
    ``effect_on_b_share`` (of B's cost) and ``recommendation`` (the verdict with it).
    """
    from buildbuy.tps import accuracy

    base = compare(S)
    tco_b = base.tco_usd["B"]
    fam = accuracy.family_accuracy(S.gpu)
    optimism = (fam.margin_share if fam.n_held_out == 0 else fam.median_error_pct / 100.0)
    size = tco.sizing(S)
    slower = tco.Sizing(size.fleet, tuple((tp, cap / (1.0 + optimism))
                                          for tp, cap in size.options))
    table = pd.DataFrame([
        {"simplification": f"throughput {abs(optimism):.1%} "
                           f"{'lower' if optimism >= 0 else 'higher'} ({fam.family} median)",
         **_rerun(S, base, tco.context(S, slower))},
        {"simplification": "cloud fleet always at peak size",
         **_rerun(S, base, tco.context(S, size, elastic=False))},
    ])
    table["effect_on_b_usd"] = table.pop("tco_b") - tco_b
    table["effect_on_b_share"] = table["effect_on_b_usd"] / tco_b
    return table.set_index("simplification")[["effect_on_b_usd", "effect_on_b_share",
                                              "recommendation"]]


def _rerun(S: Any, base: Comparison, ctx: Any) -> dict[str, Any]:
    """B's total cost and the verdict with a changed model context."""
    a, b = tco.monthly_totals(S, context=ctx)
    r = _monthly_rate(S)
    npv = {"A": float(finance.npv(r, a[0])), "B": float(finance.npv(r, b[0]))}
    totals = {"A": float(a.sum()), "B": float(b.sum())}
    savings = a[0] - b[0]
    pb = {"simple": finance.payback_period(savings),
          "discounted": finance.payback_period(savings, rate=r)}
    rec, _ = _recommend(S, npv, totals, pb, base.break_even_monthly_tokens, base.fleet,
                        base.usd_per_1k_tokens)
    return {"tco_b": totals["B"], "recommendation": rec}


def _usd(x: float) -> str:
    return f"${x / 1e6:,.2f}M" if abs(x) >= 1e6 else f"${x:,.0f}"


def _api_limit_reasons(S: Any, cf: pd.DataFrame) -> list[str]:
    """What the API's rate limits do to path A: a price, or a block."""
    from buildbuy import api_limits

    blocked = api_limits.quota_blocking_reasons(S)
    if blocked:
        return blocked
    pt = float(cf[(cf.scenario == "A") & (cf.component == "api_provisioned")].usd.sum())
    if pt <= 0:
        return []
    plan = api_limits.quota_plan(S)
    k = int(np.flatnonzero(plan.provisioned_units > 0)[0])
    return [f"The API's peak outgrows {S.api_model}'s top published rate-limit tier "
            f"({plan.top.name}) from month {k}: path A buys provisioned throughput "
            f"({plan.offer.offer.replace('_', ' ')}, {plan.provisioned_units[k]:.0f} units "
            f"then), {_usd(pt)} over the horizon."]


def _recommend(S: Any, npv: dict[str, float], tco_usd: dict[str, float],
               payback: dict[str, float | None], be: float | None, fleet: Any,
               unit: pd.DataFrame) -> tuple[str, list[str]]:
    years = S.horizon_months / 12
    saving = npv["A"] - npv["B"]
    share = saving / npv["A"] if npv["A"] > 0 else 0.0
    pb = payback["discounted"]
    reasons = [
        f"Over {years:g} years the API path costs {_usd(npv['A'])} and self-hosting "
        f"{_usd(npv['B'])} in today's money (NPV at {S.discount_rate:.1%} a year; "
        f"{_usd(tco_usd['A'])} vs {_usd(tco_usd['B'])} undiscounted).",
        f"Self-hosting runs {fleet.gpus_by_year[0]} {S.gpu} GPU(s) in year 1 and "
        f"{max(fleet.gpus_by_year)} at most ({S.hosting.replace('_', ' ')}; "
        f"{fleet.years[0].sized_for}), for {S.peak_to_average:g}x the average load at "
        f"{S.max_ms_per_output_token:g} ms per output token.",
    ]
    last = unit.dropna()
    if not last.empty:
        row = last.iloc[-1]
        list_price = costs.api_usd_per_1k_tokens(
            S.api_model, output_token_share=S.output_token_share,
            cached_input_share=S.cached_input_share)
        reasons.append(f"In the last month 1k tokens cost ${row['A']:.4f} all-in on the API "
                       f"(list price ${list_price:.4f} before discounts and price decline, plus "
                       f"staff and integration) and ${row['B']:.4f} all-in self-hosted "
                       "(running costs, staff and depreciation).")
    if be is not None:
        rel = "above" if S.monthly_tokens >= be else "below"
        reasons.append(f"Self-hosting breaks even at about {be:.3g} tokens in the first "
                       f"month; this workload starts at {S.monthly_tokens:.3g}, {rel} it.")
    else:
        reasons.append("Self-hosting does not break even at any first-month volume up to "
                       "1e14 tokens with these costs.")
    if saving <= 0:
        from buildbuy import api_limits

        if api_limits.quota_blocking_reasons(S):
            reasons.append(f"Hybrid: the API would be cheaper by {_usd(-saving)}, but its "
                           "peak needs a rate limit no published tier offers; negotiate a "
                           "custom limit before buying, and keep self-hosting ready.")
            return "hybrid", reasons
        reasons.append(f"Buy: the API is cheaper by {_usd(-saving)}.")
        return "buy", reasons
    pb_text = "never within the horizon" if pb is None else f"after {pb:.1f} months"
    if share >= BUILD_MARGIN and pb is not None and \
            pb <= S.horizon_months - BUILD_PAYBACK_SLACK_MONTHS:
        reasons.append(f"Build: self-hosting saves {_usd(saving)} ({share:.0%} of the API "
                       f"cost) and pays back {pb_text} (discounted).")
        return "build", reasons
    reasons.append(f"Hybrid: self-hosting saves only {_usd(saving)} ({share:.0%}) and pays "
                   f"back {pb_text} (discounted); start on the API and keep self-hosting "
                   "as an option for when volume or prices move.")
    return "hybrid", reasons
