"""Lesson 3 panels: what self-hosting does to EBITDA, EBIT, free cash flow and value.

Numbers come from :func:`buildbuy.tco.compare` (the cash flows) and
:mod:`buildbuy.board` (the accounting views and the three valuations).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as w
import numpy as np
from matplotlib.figure import Figure

from buildbuy import board, tco
from buildbuy.widgets._panel import Panel, as_scenario, span

__all__ = ["board_panel"]

_STYLE = {"description_width": "170px"}
_LAYOUT = w.Layout(width="520px")


def board_panel(scenario: Any) -> Panel:
    """Enterprise value of choosing B over A, three ways, and the yearly deltas behind it.

    Controls: ``ev_ebitda_multiple`` (the sector multiple),
    ``depreciation_life_months`` (book life of the servers) and ``discount_rate``
    (the WACC). None of them changes the cash, so :func:`buildbuy.tco.cashflows` runs
    once; each move calls :func:`buildbuy.board.enterprise_value` and
    :func:`buildbuy.board.annual_view` with the same arguments as
    :func:`buildbuy.tco.compare` (so at the scenario's own values the panel shows
    ``compare(...).enterprise_value``; ``tests/test_widgets.py`` checks it), and
    :func:`buildbuy.board.delta` for B minus A per year. ``result`` holds
    ``ebitda_multiple_usd``, ``ebit_multiple_usd``, ``npv_fcf_usd``,
    ``misleading``, ``reasons`` and ``annual_delta`` (B minus A per year).

    Examples
    --------
    >>> p = board_panel("bank_support")
    >>> p.controls["ev_ebitda_multiple"].value = 12.0
    >>> round(p.result["ebitda_multiple_usd"]) == round(12.0 * p.result["delta_ebitda_usd"])
    True
    """
    s = as_scenario(scenario)
    controls = {
        "ev_ebitda_multiple": w.FloatSlider(value=s.ev_ebitda_multiple,
                                            **span(s.ev_ebitda_multiple, 4.0, 40.0),
                                            step=0.5, description="EV/EBITDA multiple",
                                            continuous_update=False, style=_STYLE,
                                            layout=_LAYOUT),
        "depreciation_life_months": w.IntSlider(value=s.depreciation_life_months,
                                                **span(s.depreciation_life_months, 24, 84),
                                                step=12,
                                                description="server book life, months",
                                                continuous_update=False, style=_STYLE,
                                                layout=_LAYOUT),
        "discount_rate": w.FloatSlider(value=s.discount_rate, step=0.005,
                                       **span(s.discount_rate, 0.0, 0.2),
                                       description="discount rate (WACC)",
                                       readout_format=".1%", continuous_update=False,
                                       style=_STYLE, layout=_LAYOUT),
    }

    cashflows = tco.cashflows(s)  # none of the three controls changes the cash
    annual_by_life: dict[int, Any] = {}  # the yearly view depends on the book life only

    def compute(v: Mapping[str, Any]) -> dict[str, Any]:
        life = v["depreciation_life_months"]
        ev = board.enterprise_value(cashflows, depreciation_life_months=life,
                                    ev_ebitda_multiple=v["ev_ebitda_multiple"],
                                    wacc=v["discount_rate"])
        if life not in annual_by_life:
            annual_by_life[life] = board.delta(
                board.annual_view(cashflows, depreciation_life_months=life))
        return {"ebitda_multiple_usd": ev.ebitda_multiple_usd,
                "ebit_multiple_usd": ev.ebit_multiple_usd, "npv_fcf_usd": ev.npv_fcf_usd,
                "delta_ebitda_usd": ev.delta_ebitda_usd, "misleading": ev.misleading,
                "reasons": ev.reasons, "run_rate_year": ev.run_rate_year,
                "annual_delta": annual_by_life[life], "enterprise_value": ev}

    return Panel(f"Value of B (self-host) over A (API): {s.title}", controls, compute, _draw,
                 _describe, ncols=2, width_in=9.0, height_in=3.4)


def _m(usd: float) -> str:
    return f"{'-' if usd < 0 else '+'}${abs(usd) / 1e6:,.2f}M"


def _describe(r: Mapping[str, Any]) -> str:
    flag = " (flagged: misleading)" if r["misleading"] else ""
    return (f"year-{r['run_rate_year']} change in EBITDA {_m(r['delta_ebitda_usd'])} a year; "
            f"value by EV/EBITDA {_m(r['ebitda_multiple_usd'])}{flag}, "
            f"by EV/EBIT {_m(r['ebit_multiple_usd'])}, "
            f"by discounted free cash flow {_m(r['npv_fcf_usd'])}")


def _draw(fig: Figure, v: Mapping[str, Any], r: Mapping[str, Any]) -> None:
    years_ax, ev_ax = fig.axes
    d = r["annual_delta"]
    x = np.arange(len(d))
    for i, (col, label) in enumerate((("ebitda_usd", "EBITDA"), ("ebit_usd", "EBIT"),
                                      ("fcf_usd", "free cash flow"))):
        years_ax.bar(x + (i - 1) * 0.27, d[col] / 1e6, width=0.27, label=label)
    years_ax.set_xticks(x, [f"year {int(y)}" for y in d["year"]])
    years_ax.axhline(0, color="black", lw=0.8)
    years_ax.set_ylabel("B minus A, USD million")
    years_ax.set_title("what choosing B does to each line", fontsize=10)
    years_ax.legend(fontsize=8)
    values = [r["ebitda_multiple_usd"], r["ebit_multiple_usd"], r["npv_fcf_usd"]]
    colors = ["tab:red" if r["misleading"] else "tab:grey", "tab:grey", "tab:green"]
    ev_ax.barh([0, 1, 2], np.array(values) / 1e6, color=colors)
    ev_ax.set_yticks([0, 1, 2], [f"ΔEBITDA x {v['ev_ebitda_multiple']:g}", "ΔEBIT x EV/EBIT",
                                 "NPV of ΔFCF"], fontsize=8)
    ev_ax.axvline(0, color="black", lw=0.8)
    ev_ax.invert_yaxis()
    ev_ax.set_xlabel("value of choosing B, USD million")
    ev_ax.set_title("enterprise value, three ways", fontsize=10)
    for ax in fig.axes:
        ax.grid(True, alpha=0.3)
