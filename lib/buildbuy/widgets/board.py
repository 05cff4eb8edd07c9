"""Lesson 3 panel: what the recommended path is worth, by every valuation method.

Numbers come from the decision record (:func:`buildbuy.decision.decide`): its cost and
value lines stay fixed, and each move re-runs the after-tax lines
(:func:`buildbuy.path_cash.path_cash`) and the valuation (:func:`buildbuy.valuation.value_path`)
with the changed finance fields, the same functions the record uses, so at the scenario's
own values the panel shows the record's valuation (``tests/test_widgets.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import ipywidgets as w
import numpy as np
from matplotlib.figure import Figure

from buildbuy import path_cash, tco, valuation
from buildbuy.widgets._panel import Panel, as_decision, span

__all__ = ["board_panel"]

_STYLE = {"description_width": "170px"}
_LAYOUT = w.Layout(width="520px")
_LABELS = {"dcf_horizon": "DCF, horizon", "dcf_terminal": "DCF + terminal value",
           "ev_ebitda": "EV/EBITDA", "ev_ebit": "EV/EBIT", "pe": "P/E"}


def board_panel(scenario: Any) -> Panel:
    """The value of the recommended path against doing nothing, by every method.

    Controls: ``discount_rate`` (the WACC), ``terminal_growth``, ``tax_rate`` and
    ``depreciation_life_months`` (the one book and tax schedule). None of them changes the
    cost or value lines, which come from the record once. ``result`` holds ``valuation``
    (a :class:`buildbuy.valuation.Valuation`), ``values_usd`` (method -> USD) and
    ``annual`` (the path's after-tax FCF by year).

    Examples
    --------
    >>> p = board_panel("retail_search")
    >>> p.controls["terminal_growth"].value = 0.0
    >>> p.result["values_usd"]["dcf_terminal"] < p.result["values_usd"]["ev_ebitda"]
    True
    """
    d = as_decision(scenario)
    s = d.scenario
    path = d.best_path
    controls = {
        "discount_rate": w.FloatSlider(value=s.discount_rate, step=0.005,
                                       **span(s.discount_rate, 0.04, 0.2),
                                       description="discount rate (WACC)",
                                       readout_format=".1%", continuous_update=False,
                                       style=_STYLE, layout=_LAYOUT),
        "terminal_growth": w.FloatSlider(value=s.terminal_growth, step=0.005,
                                         **span(s.terminal_growth, -0.02, 0.04),
                                         description="growth after the horizon",
                                         readout_format=".1%", continuous_update=False,
                                         style=_STYLE, layout=_LAYOUT),
        "tax_rate": w.FloatSlider(value=s.tax_rate, step=0.01, **span(s.tax_rate, 0.0, 0.4),
                                  description="tax rate", readout_format=".0%",
                                  continuous_update=False, style=_STYLE, layout=_LAYOUT),
        "depreciation_life_months": w.IntSlider(value=s.depreciation_life_months,
                                                **span(s.depreciation_life_months, 24, 84),
                                                step=12, description="server book life, months",
                                                continuous_update=False, style=_STYLE,
                                                layout=_LAYOUT),
    }
    lines = tco.monthly_lines(s, components=True)  # none of the controls changes the lines
    flat = {k: v[0] for k, v in lines.items()}
    fleet = d.fleet

    def compute(v: Mapping[str, Any]) -> dict[str, Any]:
        t = s.replace(discount_rate=v["discount_rate"], terminal_growth=v["terminal_growth"],
                      tax_rate=v["tax_rate"],
                      depreciation_life_months=v["depreciation_life_months"])
        paths = path_cash.path_cash(t, flat)
        val = valuation.value_path(SimpleNamespace(scenario=t, paths=paths,
                                                   fleet_by_year=fleet), path, "0")
        fcf = paths[path].fcf
        years = np.maximum(1, -(-np.arange(fcf.size) // 12))
        annual = [float(fcf[years == y].sum()) for y in range(1, int(years.max()) + 1)]
        return {"valuation": val, "path": path,
                "values_usd": dict(zip(val.table["method"], val.table["value_usd"],
                                       strict=True)),
                "annual": annual}

    return Panel(f"What the {d.recommendation} decision is worth: {s.title}", controls,
                 compute, _draw, _describe, ncols=2, width_in=9.0, height_in=3.4)


def _m(usd: float) -> str:
    return f"{'-' if usd < 0 else '+'}${abs(usd) / 1e6:,.2f}M"


def _describe(r: Mapping[str, Any]) -> str:
    parts = [f"{_LABELS[k]} {_m(x)}" for k, x in r["values_usd"].items()]
    return f"value of path {r['path']} against doing nothing: " + ", ".join(parts)


def _draw(fig: Figure, v: Mapping[str, Any], r: Mapping[str, Any]) -> None:
    years_ax, ev_ax = fig.axes
    annual = np.asarray(r["annual"]) / 1e6
    x = np.arange(annual.size)
    years_ax.bar(x, annual, color="tab:blue")
    years_ax.set_xticks(x, [f"year {i + 1}" for i in x])
    years_ax.axhline(0, color="black", lw=0.8)
    years_ax.set_ylabel("after-tax free cash flow, USD million")
    years_ax.set_title(f"path {r['path']} against doing nothing", fontsize=10)
    names = list(r["values_usd"])
    values = np.array([r["values_usd"][k] for k in names]) / 1e6
    colors = ["tab:green" if k.startswith("dcf") else "tab:grey" for k in names]
    ev_ax.barh(np.arange(len(names)), values, color=colors)
    ev_ax.set_yticks(np.arange(len(names)), [_LABELS[k] for k in names], fontsize=8)
    ev_ax.axvline(0, color="black", lw=0.8)
    ev_ax.invert_yaxis()
    ev_ax.set_xlabel("value, USD million")
    ev_ax.set_title("one choice, valued five ways", fontsize=10)
    for ax in fig.axes:
        ax.grid(True, alpha=0.3)
