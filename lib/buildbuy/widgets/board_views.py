"""Lesson 3 tables and the generated memo: the board's numbers for one scenario.

:func:`board_summary` prints the three valuations of :func:`buildbuy.board.enterprise_value`
(as computed by :func:`buildbuy.tco.compare`); :func:`scenario_memo` writes the course's
example one-page memo with :func:`buildbuy.memo.build_memo`, every number filled in from
the model and checked back with :func:`buildbuy.memo.check_memo`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from buildbuy import board, memo, tco
from buildbuy.widgets._panel import Table, as_scenario

__all__ = ["annual_deltas", "board_summary", "scenario_memo", "tps_gain_table"]


def board_summary(scenario: Any) -> Table:
    """The value of choosing B over A three ways (USD millions), with the naive one flagged.

    Columns ``value_usd_m`` and ``flag`` (``"misleading"`` on the EBITDA-multiple row
    when :attr:`EnterpriseValue.misleading` is set).
    """
    c = tco.compare(as_scenario(scenario))
    ev = c.enterprise_value
    t = ev.table.set_index("method")
    out = pd.DataFrame({"value_usd_m": (t["value_usd"] / 1e6).round(2)})
    out["flag"] = ""
    if ev.misleading:
        out.iloc[0, out.columns.get_loc("flag")] = "misleading"
    return Table(out)


def _figures(c: Any) -> dict[str, memo.Figure]:
    figs = memo.figures_from_comparison(c)
    s = c.scenario
    for key, label, value, unit in (
            ("annual_growth", "Volume growth per year", s.annual_growth, "share"),
            ("months_to_production_a", "Time to production, A", s.months_to_production_a,
             "months"),
            ("months_to_production_b", "Time to production, B", s.months_to_production,
             "months")):
        figs[key] = memo.Figure(key, label, float(value), unit)
    saving = figs["tco_saving_usd"].value
    figs["extra_cost_b_usd"] = memo.Figure("extra_cost_b_usd", "Extra cost of B over A",
                                           -saving, "usd")
    figs["extra_cost_b_share"] = memo.Figure("extra_cost_b_share", "Extra cost of B, share of A",
                                             -figs["tco_saving_share"].value, "share")
    return figs


_TABLE = ["tco_a_usd", "tco_b_usd", "npv_a_usd", "npv_b_usd", "crossover_month",
          "usd_per_1k_tokens_a", "usd_per_1k_tokens_b", "break_even_monthly_tokens",
          "monthly_tokens", "horizon_months"]


def scenario_memo(scenario: Any) -> memo.Memo:
    """The course's example memo for ``scenario``: strategy from the model, numbers filled in.

    The text follows the model's recommendation (build, buy or hybrid) and quotes its
    figures as ``{key}`` placeholders, so every number is the model's. Raises
    ``ValueError`` if the built memo fails :func:`buildbuy.memo.check_memo` (a
    placeholder or a rounding that no longer matches), so the lesson cannot show a memo
    whose numbers disagree with the model.
    """
    s = as_scenario(scenario)
    c = tco.compare(s)
    figs = _figures(c)
    cheaper = figs["tco_saving_usd"].value > 0
    cost_line = ("Self-hosting saves {tco_saving_usd} ({tco_saving_share} of the API cost) "
                 "over {horizon_months}." if cheaper else
                 "Self-hosting would cost {extra_cost_b_usd} more ({extra_cost_b_share} "
                 "above the API) over {horizon_months}.")
    payback = (" Its cumulative cost drops below the API's after {crossover_month}."
               if figs["crossover_month"].value is not None else
               " Its cumulative cost does not drop below the API's within the horizon.")
    strategy = c.recommendation
    rationale = {
        "tco": cost_line + payback,
        "ip": ("A fine-tuned model on our own hardware keeps the weights and the data in "
               "house; the API leaves both with the vendor." if strategy != "buy" else
               "The API gives up control of the model, but at this volume owning the "
               "weights does not pay for itself."),
        "time_to_market": ("The API is live in {months_to_production_a}; self-hosting "
                           "needs {months_to_production_b} of procurement, fine-tuning "
                           "and hardening."),
    }
    be = figs["break_even_monthly_tokens"].value
    revisit = ("revisit the decision when volume passes {break_even_monthly_tokens} a month"
               if be is not None and be > s.monthly_tokens else
               "revisit the decision each year as volume and prices move")
    action = {"build": "Approve the hardware and the team for self-hosting, with a review "
                       "of the volume forecast after the first quarter in production.",
              "buy": "Approve the API contract with the SLA terms of Lesson 3, and " + revisit
                     + ".",
              "hybrid": "Approve the API now for launch, and a self-hosting pilot sized for "
                        "the steady base of the traffic, with a go or no-go review after its "
                        "first quarter."}[strategy]
    m = memo.build_memo(
        title=f"{s.title}: build or buy?",
        problem=(f"{s.description} It handles {{monthly_tokens}} a month today, growing "
                 "{annual_growth} a year."),
        strategy=strategy,
        rationale=rationale,
        impact=("The API costs {usd_per_1k_tokens_a} on average over the horizon; "
                "self-hosting {usd_per_1k_tokens_b}, all costs included."),
        risks=[("Volume grows slower than planned",
                "size the first purchase for year 1 only and re-forecast every quarter"),
               ("The model drifts or the vendor changes it",
                "monitor drift monthly and budget retraining (Lesson 2, drift lines)"),
               ("Key people leave", "document the serving stack and cross-train two people")],
        call_to_action=action,
        figures=figs,
        table_keys=_TABLE,
    )
    check = memo.check_memo(m, figs)
    if not check.ok:
        raise ValueError(f"the generated memo does not match the model: {check}")
    return m


def annual_deltas(scenario: Any) -> Table:
    """What choosing B does to EBITDA, EBIT and free cash flow each year (B minus A, $k).

    :func:`buildbuy.board.delta` of the ``board`` annual view of :func:`buildbuy.tco.compare`
    (opportunity cost left out: no ledger books it). Positive = B raises that line.
    """
    c = tco.compare(as_scenario(scenario))
    d = board.delta(c.board).set_index("year")
    cols = {"ebitda_usd": "EBITDA, $k", "depreciation_usd": "depreciation, $k",
            "ebit_usd": "EBIT, $k", "capex_usd": "capex, $k", "fcf_usd": "free cash flow, $k"}
    out = (d[list(cols)] / 1e3).round(0).rename(columns=cols)
    out.index = [f"year {int(y)}" for y in out.index]
    return Table(out)


def tps_gain_table(scenario: Any, *, factors: tuple[float, ...] = (1.0, 1.5, 2.0)) -> Table:
    """A throughput gain turned into money: B's cost as the per-user latency target relaxes.

    Each row relaxes ``max_ms_per_output_token`` by a factor (1.0 = the scenario), which
    lets :func:`buildbuy.tps.size_fleet` run larger batches: more tokens per second per GPU,
    fewer GPUs. Columns: tokens/s per GPU of the sized fleet, GPUs in year 1, B's total
    cost over the horizon and its saving against the first row (all from
    :func:`buildbuy.tco.compare`).
    """
    s = as_scenario(scenario)
    rows = []
    for f in factors:
        c = tco.compare(s.replace(max_ms_per_output_token=s.max_ms_per_output_token * f))
        rows.append({"ms per output token (target)": round(s.max_ms_per_output_token * f, 1),
                     "tokens/s per GPU": round(c.fleet.tokens_per_s_per_gpu),
                     "GPUs in year 1": int(c.gpus_by_year[0]),
                     "B total cost, $M": round(c.tco_usd["B"] / 1e6, 2)})
    out = pd.DataFrame(rows)
    out["saving vs target, $M"] = (out["B total cost, $M"].iloc[0]
                                   - out["B total cost, $M"]).round(2)
    return Table(out.set_index("ms per output token (target)"))
