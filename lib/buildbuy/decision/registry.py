"""The figure registry of a decision: every key figure, labelled, with its basis.

:func:`build_registry` turns the pieces of a :class:`~buildbuy.decision.Decision` into
``{key: Figure}``. Key names are stable: the memo quotes them as ``{key}`` and the
notebook test reads them. By year, ``y`` runs 1..(horizon / 12 rounded up):

- fleet: ``gpus_year_1`` ... (GPUs B runs or owns that year), ``gpus_needed_year_y``,
  ``servers_year_y``, ``peak_tokens_per_s_year_1``, ``utilisation_at_peak_year_1``;
- cost view (pre-tax cash costs): ``tco_a_usd``, ``tco_b_usd``, ``tco_h_usd``,
  ``tco_saving_usd``, ``tco_saving_share``, ``tco_gap_usd``, ``extra_cost_b_usd``,
  ``extra_cost_b_share``, ``npv_cost_a_usd``, ``npv_cost_b_usd``, ``crossover_month``,
  ``discounted_crossover_month``, ``usd_per_1k_tokens_a``, ``usd_per_1k_tokens_b``,
  ``break_even_monthly_tokens``, ``forgone_value_a_usd``, ``forgone_value_b_usd``;
- capex and the schedule: ``capex_usd``, ``capex_year_y_usd``, ``depreciation_year_y_usd``;
- by year and path (A, B, H): ``value_{p}_year_y_usd``, ``ebitda_{p}_year_y_usd``,
  ``ebit_{p}_year_y_usd``, ``tax_{p}_year_y_usd``, ``fcf_{p}_year_y_usd``; and the gap
  B minus A: ``ebitda_gap_year_y_usd``, ``ebit_gap_year_y_usd``, ``fcf_gap_year_y_usd``;
- decision (after tax, value included): ``npv_a_usd``, ``npv_b_usd``, ``npv_h_usd``
  (against doing nothing), ``npv_gap_usd`` (B minus A), ``npv_gap_abs_usd`` (its size),
  ``npv_gap_hybrid_usd``,
  ``irr_b_vs_a``, ``payback_months``, ``discounted_payback_months`` (B against A),
  ``payback_hybrid_months``, ``discounted_payback_hybrid_months``, ``recommendation``,
  ``constraint_cost_usd`` (only when a path is blocked: what the constraints cost);
- valuation: ``valuation_<method>_usd`` for each method of the record's valuation;
- risk: ``npv_gap_p10_usd``, ``npv_gap_p50_usd``, ``npv_gap_p90_usd``, ``prob_b_better``,
  ``prob_hybrid_better``;
- people: ``fte_a``, ``fte_b``;
- inputs: ``monthly_tokens``, ``annual_growth``, ``horizon_months``,
  ``months_to_production_a``, ``months_to_production_b``, ``value_usd_per_request``,
  ``quality_b_vs_a``, ``tax_rate``, ``discount_rate``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from buildbuy import valuation
from buildbuy.decision.figures import Figure
from buildbuy.gpu_supply import months_to_production_b

__all__ = ["KEY_FIGURES", "SUMMARY_KEYS", "build_registry", "summary_figures"]

#: The figures the notebook test checks wherever a view prints them.
KEY_FIGURES: tuple[str, ...] = ("gpus_year_1", "capex_usd", "npv_gap_usd", "payback_months",
                                "recommendation")
#: The figures a learner report hands to ``summary.csv`` (``buildbuy reports``).
SUMMARY_KEYS: tuple[str, ...] = ("recommendation", "npv_a_usd", "npv_b_usd", "npv_h_usd",
                                 "npv_gap_usd", "payback_months", "discounted_payback_months",
                                 "gpus_year_1", "capex_usd", "tco_a_usd", "tco_b_usd",
                                 "horizon_months")


def summary_figures(d: Any) -> dict[str, Any]:
    """``{key: value}`` of :data:`SUMMARY_KEYS` from a decision's registry (raw values)."""
    return {k: d.figures[k].value for k in SUMMARY_KEYS}

_AFTER_TAX = "after tax, value included"
_CASH = "pre-tax cash costs, value not included"
_PATH = {"A": "A (buy: API)", "B": "B (build: self-host)", "H": "H (hybrid)"}


def _num(x: Any) -> float | None:
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _horizon_tokens(S: Any) -> float:
    g = (1.0 + float(S.annual_growth)) ** (1.0 / 12.0)
    return float(S.monthly_tokens) * sum(g**m for m in range(int(S.horizon_months)))


def build_registry(d: Any) -> dict[str, Figure]:
    """Every key figure of the decision ``d`` (a Decision under construction)."""
    S = d.scenario
    c = d.comparison
    figs: list[Figure] = []
    add = figs.append
    rate = f"discounted at {S.discount_rate:.1%} a year"

    # ---- fleet
    for row in d.fleet.itertuples():
        y = int(row.year)
        add(Figure(f"gpus_year_{y}", f"GPUs B runs in year {y}", float(row.gpus), "count",
                   row.sized_for))
        add(Figure(f"gpus_needed_year_{y}", f"GPUs needed at year {y}'s peak",
                   float(row.gpus_needed), "count", row.sized_for))
        add(Figure(f"servers_year_{y}", f"Servers B owns in year {y}", float(row.servers),
                   "count"))
    first = d.fleet.iloc[0]
    add(Figure("peak_tokens_per_s_year_1", "Peak load in year 1",
               float(first.peak_tokens_per_s), "tokens_per_s", "prompt + output tokens"))
    add(Figure("utilisation_at_peak_year_1", "Fleet utilisation at year 1's peak",
               _num(first.utilisation_at_peak), "share"))

    # ---- cost view
    tco = c.tco_usd
    tokens = _horizon_tokens(S)
    add(Figure("tco_a_usd", "TCO, A (API-first)", tco["A"], "usd", _CASH))
    add(Figure("tco_b_usd", "TCO, B (self-host)", tco["B"], "usd", _CASH))
    add(Figure("tco_h_usd", "TCO, H (hybrid)", tco["H"], "usd", _CASH))
    add(Figure("tco_saving_usd", "TCO saving of B over A", tco["A"] - tco["B"], "usd", _CASH))
    add(Figure("tco_saving_share", "TCO saving of B, share of A",
               (tco["A"] - tco["B"]) / tco["A"] if tco["A"] else None, "share", _CASH))
    add(Figure("tco_gap_usd", "TCO gap between A and B", abs(tco["A"] - tco["B"]), "usd",
               _CASH))
    add(Figure("extra_cost_b_usd", "Extra cost of B over A", tco["B"] - tco["A"], "usd",
               _CASH))
    add(Figure("extra_cost_b_share", "Extra cost of B, share of A",
               (tco["B"] - tco["A"]) / tco["A"] if tco["A"] else None, "share", _CASH))
    add(Figure("npv_cost_a_usd", "NPV of cash costs, A", c.npv_cost_usd["A"], "usd",
               f"{_CASH}, {rate}"))
    add(Figure("npv_cost_b_usd", "NPV of cash costs, B", c.npv_cost_usd["B"], "usd",
               f"{_CASH}, {rate}"))
    add(Figure("crossover_month", "Month B's cumulative cash cost drops below A's",
               _num(c.crossover_month), "months", _CASH))
    add(Figure("discounted_crossover_month",
               "Month B's discounted cumulative cash cost drops below A's",
               _num(c.discounted_crossover_month), "months", f"{_CASH}, {rate}"))
    add(Figure("usd_per_1k_tokens_a", "TCO per 1k tokens demanded, A",
               tco["A"] / tokens * 1e3, "usd_per_1k_tokens", _CASH))
    add(Figure("usd_per_1k_tokens_b", "TCO per 1k tokens demanded, B",
               tco["B"] / tokens * 1e3, "usd_per_1k_tokens", _CASH))
    add(Figure("break_even_monthly_tokens", "Break-even monthly volume (cost NPV of B = A)",
               _num(c.break_even_monthly_tokens), "tokens", f"{_CASH}, {rate}"))
    for p in ("A", "B"):
        add(Figure(f"forgone_value_{p.lower()}_usd",
                   f"Value {p} forgoes before it goes live (opportunity cost)",
                   float(np.sum(c.forgone_usd[p])), "usd",
                   "undiscounted; already inside the value lines, not added to costs"))

    # ---- capex, depreciation
    add(Figure("capex_usd", "Capex of B over the horizon",
               d.capex_usd, "usd", "hardware purchases, before resale"))
    for y, usd in d.capex_by_year_usd.items():
        add(Figure(f"capex_year_{y}_usd", f"Capex of B in year {y}", usd, "usd"))
    annual = c.annual
    for row in annual[annual["path"] == "B"].itertuples():
        add(Figure(f"depreciation_year_{row.year}_usd", f"Depreciation of B in year {row.year}",
                   row.depreciation_usd, "usd", "straight line to zero over the book life"))

    # ---- by year and path
    for row in annual[annual["path"].isin(["A", "B", "H"])].itertuples():
        p, y = str(row.path), int(row.year)
        for line, name in (("value", "Value"), ("ebitda", "EBITDA"), ("ebit", "EBIT"),
                           ("tax", "Tax paid"), ("fcf", "Free cash flow")):
            add(Figure(f"{line}_{p.lower()}_year_{y}_usd", f"{name}, {_PATH[p]}, year {y}",
                       float(getattr(row, f"{line}_usd")), "usd", _AFTER_TAX
                       if line in ("tax", "fcf") else "value included, before tax"))
    a = annual[annual["path"] == "A"].set_index("year")
    b = annual[annual["path"] == "B"].set_index("year")
    for y in a.index:
        for line, name in (("ebitda", "EBITDA"), ("ebit", "EBIT"), ("fcf", "Free cash flow")):
            add(Figure(f"{line}_gap_year_{y}_usd", f"{name} change of B over A, year {y}",
                       float(b.loc[y, f"{line}_usd"] - a.loc[y, f"{line}_usd"]), "usd",
                       _AFTER_TAX if line == "fcf" else "value included, before tax"))

    # ---- decision
    npv = c.npv_vs_status_quo_usd
    for p in ("A", "B", "H"):
        add(Figure(f"npv_{p.lower()}_usd", f"NPV of {_PATH[p]} against doing nothing",
                   npv[p], "usd", f"{_AFTER_TAX}, {rate}"))
    add(Figure("npv_gap_usd", "NPV gap, B over A", c.npv_gap_usd, "usd",
               f"{_AFTER_TAX}, {rate}; positive = building creates more value"))
    add(Figure("npv_gap_abs_usd", "NPV gap between B and A (size)", abs(c.npv_gap_usd), "usd",
               f"{_AFTER_TAX}, {rate}"))
    add(Figure("npv_gap_hybrid_usd", "NPV gap, H over A", c.npv_gap_hybrid_usd, "usd",
               f"{_AFTER_TAX}, {rate}"))
    add(Figure("irr_b_vs_a", "IRR of B over A (a year)", _num(c.irr_b_vs_a), "share",
               _AFTER_TAX))
    for key, label, pb in (("payback_months", "Payback of B against A", c.payback_months),
                           ("payback_hybrid_months", "Payback of H against A",
                            c.payback_hybrid_months)):
        add(Figure(key, f"{label} (simple)", _num(pb["simple"]), "months", _AFTER_TAX))
        add(Figure(f"discounted_{key}", f"{label} (discounted)", _num(pb["discounted"]),
                   "months", f"{_AFTER_TAX}, {rate}"))
    add(Figure("recommendation", "Recommendation", c.recommendation, "text"))
    if d.constraint_cost_usd is not None:
        add(Figure("constraint_cost_usd",
                   "Price of the constraints (best blocked path minus the recommendation)",
                   d.constraint_cost_usd, "usd",
                   f"{_AFTER_TAX}, {rate}; the best blocked path is "
                   f"{_PATH[d.constraint_cost_path]}"))

    # ---- valuation
    v = d.valuation
    names = valuation.METHOD_LABELS
    for row in v.table.itertuples():
        add(Figure(f"valuation_{row.method}_usd",
                   f"Value of {_PATH.get(v.path, v.path)} over "
                   f"{'doing nothing' if v.against == '0' else _PATH[v.against]}: "
                   f"{names[row.method]}", float(row.value_usd), "usd", row.basis))
    add(Figure("valuation_terminal_value_usd", "Terminal value (present value)",
               _num(v.terminal_value_usd), "usd"))

    # ---- risk
    r = d.risk
    if r is not None:
        for q in ("p10", "p50", "p90"):
            add(Figure(f"npv_gap_{q}_usd", f"{q.upper()} of the NPV gap, B over A",
                       getattr(r, f"npv_gap_{q}_usd"), "usd",
                       f"{_AFTER_TAX}; {r.n_draws:,} seeded draws (seed {r.seed})"))
        add(Figure("prob_b_better", "Share of draws where B beats A", r.prob_b_better,
                   "share", f"{r.n_draws:,} seeded draws (seed {r.seed})"))
        add(Figure("prob_hybrid_better", "Share of draws where H beats A",
                   r.prob_hybrid_better, "share", f"{r.n_draws:,} seeded draws"))

    # ---- people and inputs
    add(Figure("fte_a", "Headcount of A", d.headcount_fte["A"], "fte"))
    add(Figure("fte_b", "Headcount of B", d.headcount_fte["B"], "fte"))
    add(Figure("monthly_tokens", "Monthly volume today", float(S.monthly_tokens), "tokens"))
    add(Figure("annual_growth", "Volume growth per year", float(S.annual_growth), "share"))
    add(Figure("horizon_months", "Horizon", float(S.horizon_months), "months"))
    add(Figure("months_to_production_a", "Time to production, A",
               float(S.months_to_production_a), "months"))
    add(Figure("months_to_production_b", "Time to production, B",
               float(months_to_production_b(S)), "months"))
    add(Figure("value_usd_per_request", "Value of one request (A's quality)",
               float(S.value_usd_per_request), "usd_per_request"))
    add(Figure("quality_b_vs_a", "B's quality, share of A's value", float(S.quality_b_vs_a),
               "share"))
    add(Figure("tax_rate", "Tax rate", float(S.tax_rate), "share"))
    add(Figure("discount_rate", "Discount rate (WACC)", float(S.discount_rate), "share"))
    return {f.key: f for f in figs}
