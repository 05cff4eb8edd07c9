"""Lesson 3 tables and the generated memo: the board's numbers for one scenario.

:func:`board_summary` prints the three valuations of :func:`buildbuy.board.enterprise_value`
(as computed by :func:`buildbuy.tco.compare`); :func:`scenario_memo` writes the course's
example one-page memo with :func:`buildbuy.memo.build_memo`, every number filled in from
the model and checked back with :func:`buildbuy.memo.check_memo`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from buildbuy import board, tco
from buildbuy.memo import draft_memo as scenario_memo
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
