"""Lesson 2 tables and charts: the key numbers of a TCO comparison, ready to print.

Each function takes the result of :func:`buildbuy.tco.compare` (or a scenario) and
returns a rounded :class:`pandas.DataFrame` or a :class:`~buildbuy.widgets.Chart`.
No arithmetic of the model lives here: sums and ratios of the library's own
outputs only, so a notebook cell stays one line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import StrMethodFormatter

from buildbuy import uncertainty
from buildbuy.widgets._panel import Chart, Table, as_scenario, new_figure

__all__ = [
    "cost_by_category",
    "drift_cost_table",
    "headline",
    "monte_carlo_chart",
    "monte_carlo_summary",
    "tornado_chart",
    "unit_cost_chart",
]

_CATEGORY_NAMES = {"capex": "capital (servers, networking)",
                   "opex": "operating (API and provisioned capacity, GPU rent, power, colo, "
                           "maintenance, licences)",
                   "people": "people (FTE x loaded salary, on-call, model refreshes)",
                   "opportunity": "opportunity (months not in production)",
                   "drift": "drift (monitoring, retraining, migrations)"}


def cost_by_category(comparison: Any) -> Table:
    """Horizon cost of A and B by TCO category, USD thousands (rounded), with a total row.

    Examples
    --------
    >>> from buildbuy import scenarios, tco
    >>> t = cost_by_category(tco.compare(scenarios.load("bank_support")))
    >>> list(t.columns)
    ['A: API, $k', 'B: self-host, $k']
    """
    cf = comparison.cashflows
    table = cf.pivot_table(index="category", columns="scenario", values="usd", aggfunc="sum",
                           fill_value=0.0)
    table = table.reindex([c for c in _CATEGORY_NAMES if c in table.index])
    table.index = [_CATEGORY_NAMES[c] for c in table.index]
    table.loc["total"] = table.sum()
    table.columns.name = None
    names = {"A": "A: API, $k", "B": "B: self-host, $k"}
    return Table((table / 1e3).round(0).rename(columns=names))


def operations_table(comparison: Any) -> Table:
    """What running each path takes, year by year: B's fleet and on-call, A's rate limits.

    Rows per year: B's GPUs (what they are sized for is in ``fleet.years[i].sized_for``),
    of which reserved (cloud), the peak hour's use of the fleet's capacity, the MLOps FTE
    added to staff the on-call rotation, the API's top-tier status and provisioned units
    in the year's last month.
    """
    from buildbuy import api_limits

    c = comparison
    S = c.scenario
    plan = api_limits.quota_plan(S)
    cf = c.cashflows
    on_call = cf[(cf.scenario == "B") & (cf.component == "on_call_staff")]
    rows = {}
    for y in c.fleet.years:
        last = min(12 * y.year, S.horizon_months)
        oc = on_call[(on_call.month > 12 * (y.year - 1)) & (on_call.month <= last)].usd.max()
        rows[f"year {y.year}"] = {
            "B: GPUs": y.gpus,
            "B: reserved GPUs": y.reserved_gpus,
            "B: peak use of capacity": f"{y.utilisation_at_peak:.0%}",
            "B: on-call MLOps FTE added": round(float(oc) * 12 / S.mlops_usd_per_year, 2)
            if S.mlops_usd_per_year else 0.0,
            "A: rate-limit tier (last month)": plan.tier[last],
            "A: provisioned units (last month)": int(plan.provisioned_units[last]),
        }
    return Table(pd.DataFrame(rows))


def headline(comparison: Any) -> Table:
    """The comparison's key numbers, rounded for print (USD millions, months)."""
    c = comparison
    pay = c.payback_months

    def _months(x: float | None) -> str:
        return "not within the horizon" if x is None else f"{x:.1f}"

    be = c.break_even_monthly_tokens
    return Table(pd.Series({
        "TCO A (API), $M": round(c.tco_usd["A"] / 1e6, 2),
        "TCO B (self-host), $M": round(c.tco_usd["B"] / 1e6, 2),
        "NPV of costs A, $M": round(c.npv_usd["A"] / 1e6, 2),
        "NPV of costs B, $M": round(c.npv_usd["B"] / 1e6, 2),
        "crossover month": _months(c.crossover_month),
        "discounted payback, months": _months(pay.get("discounted")),
        "GPUs in year 1": int(c.gpus_by_year[0]) if c.gpus_by_year else 0,
        "break-even volume, billion tokens/month": ("none" if be is None
                                                    else f"{be / 1e9:.2f}"),
        "recommendation": c.recommendation,
    }, name=c.scenario.name))


def unit_cost_chart(comparison: Any) -> Chart:
    """Cost per 1k tokens of A and B, month by month, from ``comparison.usd_per_1k_tokens``."""
    u = comparison.usd_per_1k_tokens
    fig = new_figure(7.5, 3.4)
    (ax,) = fig.axes
    for col, color, label in (("A", "tab:green", "A: API"), ("B", "tab:blue", "B: self-host")):
        y = u[col].replace([np.inf, -np.inf], np.nan)
        ax.plot(u.index, y, color=color, label=label)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(StrMethodFormatter("${x:.4f}"))
    ax.set_xlabel("month (from go-live)")
    ax.set_ylabel("USD per 1k tokens (all costs)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    last = u.dropna().iloc[-1]
    return Chart(fig, f"Cost per 1k tokens in the last month: A ${last['A']:.4f}, "
                      f"B ${last['B']:.4f}")


def tornado_chart(scenario: Any) -> Chart:
    """The tornado of :func:`buildbuy.uncertainty.tornado` (B minus A, NPV of costs)."""
    s = as_scenario(scenario)
    table = uncertainty.tornado(s)
    fig = uncertainty.tornado_chart(table)
    top = ", ".join(table["label"].head(3))
    return Chart(fig, f"Tornado of B - A (NPV of costs); the three widest: {top}")


def monte_carlo_summary(scenario: Any, *, n_draws: int = 20_000, seed: int = 0) -> Table:
    """P10/P50/P90 of B minus A (USD millions) and the share of draws where B is cheaper."""
    s = as_scenario(scenario)
    mc = uncertainty.monte_carlo(s, n_draws=n_draws, seed=seed)
    p = mc.percentiles_usd
    out = {f"{q} of B - A, NPV $M": round(float(p.loc[q, "npv_diff"]) / 1e6, 2) for q in p.index}
    out["share of draws where B is cheaper (NPV)"] = round(mc.prob_self_host_cheaper_npv, 3)
    out["draws (seed)"] = f"{mc.n_draws:,} ({mc.seed})"
    return Table(pd.Series(out, name=s.name))


def monte_carlo_chart(scenario: Any, *, n_draws: int = 20_000, seed: int = 0) -> Chart:
    """Histogram of B minus A (NPV of costs) over the Monte Carlo draws."""
    s = as_scenario(scenario)
    mc = uncertainty.monte_carlo(s, n_draws=n_draws, seed=seed)
    diff = mc.draws["npv_diff"].to_numpy() / 1e6
    fig = new_figure(7.0, 3.2)
    (ax,) = fig.axes
    ax.hist(diff, bins=60, color="tab:grey")
    ax.axvline(0.0, color="black", lw=1)
    for q, ls in (("P10", ":"), ("P50", "-"), ("P90", ":")):
        ax.axvline(float(mc.percentiles_usd.loc[q, "npv_diff"]) / 1e6, color="tab:red", ls=ls)
    ax.set_xlabel("B - A, NPV of costs, USD million (left of 0: self-hosting cheaper)")
    ax.set_ylabel("draws")
    return Chart(fig, f"Monte Carlo, {mc.n_draws:,} draws, seed {mc.seed}: B cheaper in "
                      f"{mc.prob_self_host_cheaper_npv:.0%} of draws")


def drift_cost_table(comparison: Any) -> Table:
    """Drift-related cost lines over the horizon, by scenario and component, USD thousands."""
    cf = comparison.cashflows
    d = cf[cf["category"] == "drift"]
    if d.empty:
        return Table(pd.DataFrame(columns=["A, $k", "B, $k"]))
    table = d.pivot_table(index="component", columns="scenario", values="usd", aggfunc="sum",
                          fill_value=0.0)
    table.loc["total"] = table.sum()
    table.columns.name = None
    return Table((table / 1e3).round(1).rename(columns={"A": "A, $k", "B": "B, $k"}))
