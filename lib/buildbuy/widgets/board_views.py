"""Lesson 3 tables and the generated memo: the board's numbers for one scenario.

Everything here reads the decision record (:func:`buildbuy.decision.decide`):
:func:`valuation_table` prints its valuation methods with their basis, :func:`annual_deltas`
what choosing B over A does to each line by year, :func:`throughput_levers` what a
throughput gain is worth (each lever is the record of a changed scenario), and
:func:`scenario_memo` the course's example memo (:func:`buildbuy.memo.draft_memo`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from buildbuy.decision import decide, format_value
from buildbuy.memo import draft_memo as scenario_memo
from buildbuy.widgets._panel import Table, as_decision

__all__ = ["annual_deltas", "board_summary", "scenario_memo", "throughput_levers",
           "tps_gain_table", "valuation_explained", "valuation_table"]

_METHODS = {"dcf_horizon": "DCF over the horizon", "dcf_terminal": "DCF with terminal value",
            "ev_ebitda": "EV/EBITDA x EBITDA change", "ev_ebit": "EV/EBIT x EBIT change",
            "pe": "P/E x net income change"}


def valuation_table(scenario: Any) -> Table:
    """The record's valuation (recommended path against doing nothing), every method with
    its basis (USD millions). A sector valued on equity (banks) has no EV rows."""
    v = as_decision(scenario).valuation
    t = v.table.copy()
    t["method"] = t["method"].map(_METHODS)
    t["value"] = [format_value(x, "usd") for x in t["value_usd"]]
    return Table(t.set_index("method")[["value", "basis"]])


board_summary = valuation_table  # the name Lesson 3 used before the record


def valuation_explained(scenario: Any) -> list[str]:
    """Why the valuation methods differ, in the record's numbers (horizon, capex, tax)."""
    return as_decision(scenario).valuation.explain()


def annual_deltas(scenario: Any) -> Table:
    """What choosing B over A does to each line, year by year (B minus A, USD thousands).

    From the record's annual lines (value included, one depreciation schedule, after tax):
    positive = B raises that line.
    """
    d = as_decision(scenario)
    a = d.annual[d.annual["path"] == "A"].set_index("year")
    b = d.annual[d.annual["path"] == "B"].set_index("year")
    cols = {"value_usd": "value, $k", "costs_usd": "cash operating costs, $k",
            "ebitda_usd": "EBITDA, $k",
            "depreciation_usd": "depreciation, $k", "ebit_usd": "EBIT, $k",
            "tax_usd": "tax paid, $k", "capex_usd": "capex, $k",
            "fcf_usd": "free cash flow (after tax), $k"}
    out = ((b[list(cols)] - a[list(cols)]) / 1e3).round(0).rename(columns=cols)
    out.index = [f"year {int(y)}" for y in out.index]
    return Table(out)


#: The levers of :func:`throughput_levers`: label -> scenario changes (the latency target
#: relative to the scenario's).
LEVERS: dict[str, dict[str, Any]] = {
    "as planned": {},
    "bigger batches: latency target x1.5": {"max_ms_per_output_token": 1.5},
    "bigger batches: latency target x2": {"max_ms_per_output_token": 2.0},
    "fp8 weights": {"weights_precision": "fp8"},
    "fp8 weights and latency target x1.5": {"weights_precision": "fp8",
                                            "max_ms_per_output_token": 1.5},
}
#: GPUs tried as a lever when B rents them (owned servers are priced for one GPU type).
GPU_LEVERS: tuple[str, ...] = ("H200", "B200", "L40S", "L4")


def _levers(s: Any) -> dict[str, Any]:
    from buildbuy import data

    out = {}
    for label, changes in LEVERS.items():
        kw = {k: (v * s.max_ms_per_output_token if k == "max_ms_per_output_token" else v)
              for k, v in changes.items()}
        out[label] = s.replace(**kw) if kw else s
    if s.hosting != "owned" and s.gpu_usd_per_hour is None:
        for name in GPU_LEVERS:
            gpu = data.get_gpu(name)
            if name != s.gpu and getattr(gpu, f"{s.hosting}_usd_per_hour") is not None:
                price = getattr(gpu, f"{s.hosting}_usd_per_hour")
                out[f"GPU: {name} (${price:.2f}/h {s.hosting.replace('_', ' ')})"] = \
                    s.replace(gpu=name)
    return out


def throughput_levers(scenario: Any) -> Table:
    """A throughput gain turned into money: B's fleet and value under each lever.

    Each lever is a changed scenario whose decision record gives tokens/s per GPU, the
    GPUs B runs in year 1 and in the last year, utilisation at year 1's peak, B's cash cost
    and the change in B's after-tax NPV against the plan. Levers: a looser latency target
    (bigger batches), fp8 weights (half the bytes per step; quality assumed unchanged),
    and, when B rents its GPUs, another GPU type at its price in ``data/gpus.csv`` (a
    faster one, or a cheaper one that still meets the target). GPUs come whole (owned
    ones in whole servers), so a gain is worth money only once it removes one; a lever
    whose fleet misses the latency target shows "not feasible".
    """
    d0 = as_decision(scenario)
    s = d0.scenario
    rows = []
    for label, changed in _levers(s).items():
        try:
            d = decide(changed)
        except ValueError as err:  # e.g. the model does not fit that GPU
            rows.append({"lever": label, "tokens/s per GPU": f"not feasible: {err}"})
            continue
        if d.replica is None:
            rows.append({"lever": label, "tokens/s per GPU": "not feasible: "
                         + "; ".join(d.feasibility["B"])})
            continue
        rows.append({
            "lever": label,
            "tokens/s per GPU": round(d.replica.tokens_per_s_per_gpu),
            "GPUs B runs, year 1": int(d.fleet["gpus"].iloc[0]),
            "GPUs B runs, last year": int(d.fleet["gpus"].iloc[-1]),
            "utilisation at year-1 peak": f"{d.fleet['utilisation_at_peak'].iloc[0]:.0%}",
            "B's cash cost over the horizon": format_value(d.comparison.tco_usd["B"], "usd"),
            "change in B's NPV (after tax)": format_value(
                d.npv_vs_status_quo_usd["B"] - d0.npv_vs_status_quo_usd["B"], "usd"),
        })
    return Table(pd.DataFrame(rows).set_index("lever").fillna(""))


tps_gain_table = throughput_levers  # the name Lesson 3 used before the record
