"""Lesson 2 panel: three years of cumulative cash cost, Scenario A (API) against B.

Every number comes from :mod:`buildbuy.tco` and :mod:`buildbuy.finance` (the cost view of
the decision record: pre-tax cash costs, value not counted); this module wires the
controls to scenario fields and draws the cumulative cost curves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from buildbuy import finance, scenarios, tco
from buildbuy.widgets._panel import Panel, as_scenario, log_span, span

__all__ = ["tco_panel"]

_STYLE = {"description_width": "150px"}
_LAYOUT = w.Layout(width="500px")


def _slider(cls: type, value: float, description: str, **kw: Any) -> Any:
    return cls(value=value, description=description, continuous_update=False,
               style=_STYLE, layout=_LAYOUT, **kw)


def tco_panel(scenario: Any) -> Panel:
    """Cumulative cash cost of A and B month by month, with the crossover month.

    Controls are scenario fields: ``monthly_tokens``, ``annual_growth``,
    ``api_price_decline`` and ``hosting``. A move recomputes the monthly totals with
    :func:`buildbuy.tco.monthly_totals` (the arithmetic of :func:`buildbuy.tco.cashflows`,
    vectorised) on a context built once per hosting mode, so it stays well under the
    150 ms budget; ``tests/test_widgets.py`` checks the totals against
    :func:`buildbuy.tco.compare`. ``result`` holds ``tco_usd`` and ``npv_usd`` (dicts
    with keys ``"A"`` and ``"B"``, cash-cost NPV at the scenario's discount rate, monthly,
    :func:`buildbuy.finance.npv`), ``crossover_month`` (when B's cumulative cash cost falls
    to A's for good, :func:`buildbuy.finance.payback_period` of the cash saving; ``None``
    when B never catches up),
    ``cheaper`` (``"A"`` or ``"B"`` on NPV) and ``cumulative`` (month x A/B).

    Examples
    --------
    >>> p = tco_panel("bank_support")
    >>> p.controls["monthly_tokens"].value = 1e11
    >>> p.result["cheaper"], p.error
    ('B', None)
    """
    s = as_scenario(scenario)
    controls = {
        "monthly_tokens": _slider(w.FloatLogSlider, s.monthly_tokens, "tokens per month",
                                  base=10, step=0.05, readout_format=".2e",
                                  **log_span(s.monthly_tokens, 8, 11)),
        "annual_growth": _slider(w.FloatSlider, s.annual_growth, "growth per year",
                                 step=0.1, readout_format=".0%",
                                 **span(s.annual_growth, 0.0, 3.0)),
        "api_price_decline": _slider(w.FloatSlider, s.api_price_decline,
                                     "API list-price fall per year", step=0.05,
                                     readout_format=".0%",
                                     **span(s.api_price_decline, 0.0, 0.3)),
        "hosting": w.Dropdown(options=scenarios.HOSTING_MODES, value=s.hosting,
                              description="B hosting", style=_STYLE),
    }
    contexts: dict[str, Any] = {}
    rate = finance.monthly_rate(s.discount_rate)

    def compute(v: Mapping[str, Any]) -> dict[str, Any]:
        base = s.replace(hosting=v["hosting"])
        if v["hosting"] not in contexts:
            contexts[v["hosting"]] = tco.context(base)
        varied = {k: np.array([float(v[k])])
                  for k in ("monthly_tokens", "annual_growth", "api_price_decline")}
        a, b = tco.monthly_totals(base, varied, context=contexts[v["hosting"]])
        monthly = {"A": a[0], "B": b[0]}
        npv = {k: float(finance.npv(rate, x)) for k, x in monthly.items()}
        cumulative = pd.DataFrame({k: np.cumsum(x) for k, x in monthly.items()})
        cumulative.index.name = "month"
        return {"tco_usd": {k: float(x.sum()) for k, x in monthly.items()}, "npv_usd": npv,
                "crossover_month": finance.payback_period(monthly["A"] - monthly["B"]),
                "cheaper": "B" if npv["B"] < npv["A"] else "A",
                "horizon_months": s.horizon_months, "cumulative": cumulative}

    return Panel(f"Cumulative cost, A (API) against B (self-host): {s.title}", controls,
                 compute, _draw, _describe)


def _describe(r: Mapping[str, Any]) -> str:
    t, n = r["tco_usd"], r["npv_usd"]
    cross = (f"B catches up in month {r['crossover_month']:.1f}"
             if r["crossover_month"] is not None
             else f"B does not catch up within {r['horizon_months']} months")
    name = {"A": "A (API)", "B": "B (self-host)"}[r["cheaper"]]
    return (f"{r['horizon_months']}-month cash cost: A {_usd(t['A'])}, B {_usd(t['B'])} "
            f"(present value A {_usd(n['A'])}, B {_usd(n['B'])}); {cross}; "
            f"cheaper in present value: {name}")


def _usd(x: float) -> str:
    from buildbuy.decision import format_value

    return format_value(x, "usd")


def _draw(fig: Figure, v: Mapping[str, Any], r: Mapping[str, Any]) -> None:
    (ax,) = fig.axes
    cum = r["cumulative"]
    ax.plot(cum.index, cum["A"] / 1e6, color="tab:green", label="A: API")
    ax.plot(cum.index, cum["B"] / 1e6, color="tab:blue", label="B: self-host")
    if r["crossover_month"] is not None:
        ax.axvline(r["crossover_month"], color="grey", ls=":", label="crossover")
    ax.set_xlabel("month")
    ax.set_ylabel("cumulative cash cost, USD million")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
