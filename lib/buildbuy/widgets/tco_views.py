"""Lesson 2 tables and charts: the key numbers of the decision record, ready to print.

Each function takes a scenario, a persona name or the :class:`~buildbuy.decision.Decision`
of one (:func:`buildbuy.decision.decide`) and returns a rounded :class:`pandas.DataFrame`
or a :class:`~buildbuy.widgets.Chart`. No arithmetic of the model lives here: the record's
figures, printed through its one formatter, so a lesson prints the same number as the
memo, the report and the exercises.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import StrMethodFormatter

from buildbuy import uncertainty
from buildbuy.decision import RISK_DRAWS, RISK_SEED, format_value
from buildbuy.widgets._panel import Chart, Table, as_decision, new_figure

__all__ = [
    "cost_by_category",
    "drift_cost_table",
    "headline",
    "monte_carlo_chart",
    "monte_carlo_summary",
    "operations_table",
    "tornado_chart",
    "unit_cost_chart",
]

_CATEGORY_NAMES = {"capex": "capital (servers, networking, less resale)",
                   "opex": "operating (API and provisioned capacity, GPU rent, power, colo, "
                           "maintenance, licences)",
                   "people": "people (FTE x loaded salary, on-call, model refreshes)",
                   "drift": "drift (monitoring, retraining, migrations)"}


def cost_by_category(scenario: Any) -> Table:
    """Horizon cash cost of A and B by category, USD thousands, with a total row (the TCO),
    and below it the value each path forgoes before it goes live (not a cost: shown apart).

    Examples
    --------
    >>> t = cost_by_category("bank_support")
    >>> list(t.columns)
    ['A: API, $k', 'B: self-host, $k']
    """
    d = as_decision(scenario)
    cf = d.comparison.cashflows
    table = cf.pivot_table(index="category", columns="scenario", values="usd", aggfunc="sum",
                           fill_value=0.0)
    table = table.reindex([c for c in _CATEGORY_NAMES if c in table.index])
    table.index = [_CATEGORY_NAMES[c] for c in table.index]
    table.loc["total (TCO, cash)"] = [d.comparison.tco_usd[k] for k in table.columns]
    table.loc["value forgone before go-live (opportunity; not in TCO)"] = [
        float(np.sum(d.comparison.forgone_usd[k])) for k in table.columns]
    table.columns.name = None
    names = {"A": "A: API, $k", "B": "B: self-host, $k"}
    return Table((table / 1e3).round(0).rename(columns=names))


def headline(scenario: Any) -> Table:
    """The record's key numbers: the cost view, then the decision (after tax, with value)."""
    d = as_decision(scenario)
    f = d.figures
    keys = ["tco_a_usd", "tco_b_usd", "npv_cost_a_usd", "npv_cost_b_usd", "crossover_month",
            "discounted_crossover_month", "break_even_monthly_tokens", "gpus_year_1",
            "capex_usd", "npv_a_usd", "npv_b_usd", "npv_h_usd", "npv_gap_usd",
            "payback_months", "discounted_payback_months", "recommendation"]
    return Table(pd.Series({f[k].label: f[k].text for k in keys}, name=d.scenario.name))


def operations_table(scenario: Any) -> Table:
    """What running each path takes, year by year: B's fleet and on-call, A's rate limits.

    ``scenario``: a persona name, a Scenario or a Decision (the record's comparison is
    read). Rows per year: B's GPUs (what they are sized for is in
    ``fleet.years[i].sized_for``),
    of which reserved (cloud), the peak hour's use of the fleet's capacity, the MLOps FTE
    added to staff the on-call rotation, the API's top-tier status and provisioned units
    in the year's last month.
    """
    from buildbuy import api_limits

    c = as_decision(scenario).comparison
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


def unit_cost_chart(scenario: Any) -> Chart:
    """Cost per 1k tokens of A and B, month by month (cash operating cost + depreciation)."""
    u = as_decision(scenario).comparison.usd_per_1k_tokens
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
    """The record's tornado (:func:`buildbuy.uncertainty.tornado` of the NPV gap, B - A)."""
    d = as_decision(scenario)
    if d.risk is None:
        return _no_risk(d)
    table = d.risk.tornado
    fig = uncertainty.tornado_chart(table)
    top = ", ".join(d.risk.top_drivers)
    return Chart(fig, f"Tornado of the NPV gap, B over A (after tax); the three widest: {top}")


def _no_risk(d: Any) -> Chart:
    fig = new_figure(6.0, 1.2)
    fig.axes[0].set_axis_off()
    why = "; ".join(d.feasibility["B"])
    return Chart(fig, f"No sensitivity: self-hosting is not possible ({why})")


def _monte_carlo(d: Any, n_draws: int, seed: int) -> Any:
    if n_draws == RISK_DRAWS and seed == RISK_SEED:
        return d.risk.monte_carlo
    return uncertainty.monte_carlo(d.scenario, n_draws=n_draws, seed=seed)


def monte_carlo_summary(scenario: Any, *, n_draws: int = RISK_DRAWS,
                        seed: int = RISK_SEED) -> Table:
    """P10/P50/P90 of the NPV gap, B over A (USD millions), and how often B and H beat A.

    At the default draws and seed these are the record's risk figures
    (``Decision.risk``); other values run a new seeded Monte Carlo.
    """
    d = as_decision(scenario)
    if d.risk is None:
        return Table(pd.Series({"Monte Carlo": "not run: self-hosting is not possible"},
                               name=d.scenario.name))
    mc = _monte_carlo(d, n_draws, seed)
    p = mc.percentiles_usd
    out = {f"{q} of the NPV gap, B over A": format_value(float(p.loc[q, "npv_gap"]), "usd")
           for q in p.index}
    out["Share of draws where B beats A"] = format_value(mc.prob_b_better, "share")
    out["Share of draws where H beats A"] = format_value(mc.prob_hybrid_better, "share")
    out["draws (seed)"] = f"{mc.n_draws:,} ({mc.seed})"
    return Table(pd.Series(out, name=d.scenario.name))


def monte_carlo_chart(scenario: Any, *, n_draws: int = RISK_DRAWS,
                      seed: int = RISK_SEED) -> Chart:
    """Histogram of the NPV gap, B over A, over the Monte Carlo draws."""
    d = as_decision(scenario)
    if d.risk is None:
        return _no_risk(d)
    mc = _monte_carlo(d, n_draws, seed)
    gap = mc.draws["npv_gap"].to_numpy() / 1e6
    fig = new_figure(7.0, 3.2)
    (ax,) = fig.axes
    ax.hist(gap, bins=60, color="tab:grey")
    ax.axvline(0.0, color="black", lw=1)
    for q, ls in (("P10", ":"), ("P50", "-"), ("P90", ":")):
        ax.axvline(float(mc.percentiles_usd.loc[q, "npv_gap"]) / 1e6, color="tab:red", ls=ls)
    ax.set_xlabel("NPV gap, B over A, after tax, USD million (right of 0: building better)")
    ax.set_ylabel("draws")
    return Chart(fig, f"Monte Carlo, {mc.n_draws:,} draws, seed {mc.seed}: B beats A in "
                      f"{mc.prob_b_better:.0%} of draws")


def drift_cost_table(scenario: Any) -> Table:
    """Drift-related cost lines over the horizon, by scenario and component, USD thousands."""
    cf = as_decision(scenario).comparison.cashflows
    d = cf[cf["category"] == "drift"]
    if d.empty:
        return Table(pd.DataFrame(columns=["A, $k", "B, $k"]))
    table = d.pivot_table(index="component", columns="scenario", values="usd", aggfunc="sum",
                          fill_value=0.0)
    table.loc["total"] = table.sum()
    table.columns.name = None
    return Table((table / 1e3).round(1).rename(columns={"A": "A, $k", "B": "B, $k"}))
