"""Lesson 0 panel: the monthly API bill as traffic grows, and the persona overview."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from buildbuy import costs, data, scenarios
from buildbuy.widgets._panel import Panel, Table, as_scenario, log_span

__all__ = ["api_bill_panel", "persona_table"]

_STYLE = {"description_width": "130px"}
_LAYOUT = w.Layout(width="480px")


def persona_table() -> Table:
    """One row per persona: who it is, its traffic, and its two options.

    Examples
    --------
    >>> persona_table().index.tolist()
    ['bank_support', 'hospital_notes', 'retail_search']
    """
    rows = []
    for name in scenarios.persona_names():
        s = scenarios.load(name)
        rows.append({"persona": name, "who": s.title,
                     "tokens per month": f"{s.monthly_tokens / 1e9:g} billion",
                     "growth per year": f"{s.annual_growth:.0%}",
                     "A: API model": s.api_model,
                     "B: self-hosted model": f"{s.self_host_model} on {s.gpu} ({s.hosting})"})
    return Table(pd.DataFrame(rows).set_index("persona"))


def api_bill_panel(scenario: Any) -> Panel:
    """The monthly API bill for a token volume, for each API in the price table.

    Controls: ``monthly_tokens`` (log slider), ``output_token_share``,
    ``api_model``. ``result`` holds ``monthly_usd`` (the chosen API's bill),
    ``usd_per_1k_tokens`` and ``bills_usd`` (every API's bill at that volume).

    Examples
    --------
    >>> p = api_bill_panel("bank_support")
    >>> p.controls["monthly_tokens"].value = 1e9
    >>> one = p.result["monthly_usd"]
    >>> p.controls["monthly_tokens"].value = 1e10
    >>> round(p.result["monthly_usd"] / one, 6)        # no fixed cost: ten times the bill
    10.0
    """
    s = as_scenario(scenario)
    controls = {
        "monthly_tokens": w.FloatLogSlider(value=s.monthly_tokens, base=10,
                                           **log_span(s.monthly_tokens, 7, 11),
                                           step=0.1, description="tokens per month",
                                           readout_format=".2e", continuous_update=False,
                                           style=_STYLE, layout=_LAYOUT),
        "output_token_share": w.FloatSlider(value=s.output_token_share, min=0.0, max=1.0,
                                            step=0.05, description="output share",
                                            readout_format=".0%", continuous_update=False,
                                            style=_STYLE, layout=_LAYOUT),
        "api_model": w.Dropdown(options=data.api_names(), value=s.api_model,
                                description="API model", style=_STYLE),
    }

    def compute(v: Mapping[str, Any]) -> dict[str, Any]:
        bills = {name: costs.monthly_api_cost_usd(name, monthly_tokens=v["monthly_tokens"],
                                                  output_token_share=v["output_token_share"])
                 for name in data.api_names()}
        return {"api_model": v["api_model"], "monthly_tokens": v["monthly_tokens"],
                "output_token_share": v["output_token_share"],
                "monthly_usd": bills[v["api_model"]],
                "usd_per_1k_tokens": 1000 * bills[v["api_model"]] / v["monthly_tokens"],
                "bills_usd": bills}

    return Panel(f"Monthly API bill ({s.title})", controls, compute, _draw, _describe,
                 height_in=4.2, left_in=2.0)


def _describe(r: Mapping[str, Any]) -> str:
    return (f"{r['monthly_tokens']:.3g} tokens a month on {r['api_model']} "
            f"({r['output_token_share']:.0%} output): ${r['monthly_usd']:,.0f} a month, "
            f"${12 * r['monthly_usd']:,.0f} a year, ${r['usd_per_1k_tokens']:.3g} per 1k tokens")


def _draw(fig: Figure, v: Mapping[str, Any], r: Mapping[str, Any]) -> None:
    (ax,) = fig.axes
    bills = r["bills_usd"]
    names = sorted(bills, key=bills.get)
    colors = ["tab:red" if n == r["api_model"] else "tab:grey" for n in names]
    y = np.arange(len(names))
    ax.barh(y, [bills[n] for n in names], color=colors)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(f"USD per month at {r['monthly_tokens']:.3g} tokens")
    ax.grid(True, axis="x", alpha=0.3)
