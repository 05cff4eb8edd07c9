"""Lesson 3 panel: the SLA negotiation calculator (what a vendor's credits are worth).

All money comes from :func:`buildbuy.sla.evaluate`; the monthly API bill the credit is a
share of from :func:`buildbuy.costs.monthly_api_cost_usd`.

Illustrative inputs (not measured; change them for your case):

- monthly availability: a beta distribution (:func:`buildbuy.sla.beta_availability`)
  with mean 99.9 % for the API and 99.5 % for one self-hosted site, both with a
  standard deviation of 0.2 points; with ``redundancy="two_sites"`` the self-hosted mean
  is :func:`buildbuy.sla.two_site_availability` of the one-site figure.

The cost of an hour down is the scenario's own ``downtime_usd_per_hour`` (sourced per
persona), not the value of the capability spread over the month.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from buildbuy import costs, sla
from buildbuy.widgets._panel import Panel, Table, as_scenario, log_span

__all__ = ["SCHEDULES", "sla_panel", "sla_table"]

#: Credit schedules offered by the panel, by display name.
SCHEDULES: dict[str, sla.CreditSchedule] = {s.name: s for s in (sla.AWS_BEDROCK,
                                                                 sla.VERTEX_GEMINI)}
API_MEAN, SELF_MEAN, SD = 0.999, 0.995, 0.002

_STYLE = {"description_width": "190px"}
_LAYOUT = w.Layout(width="540px")


def _bill(s: Any) -> float:
    return costs.scenario_api_usd_per_1k_tokens(s) * s.monthly_tokens / 1000.0


def _hourly(s: Any) -> float:
    return float(s.downtime_usd_per_hour)


def _self_mean(s: Any) -> float:
    return (sla.two_site_availability(SELF_MEAN) if getattr(s, "redundancy", "") == "two_sites"
            else SELF_MEAN)


def _outcomes(s: Any, *, schedule: str, api_mean: float, self_mean: float, sd: float,
              usd_per_downtime_hour: float) -> pd.DataFrame:
    api = sla.evaluate(sla.beta_availability(api_mean, sd),
                       usd_per_downtime_hour=usd_per_downtime_hour,
                       schedule=SCHEDULES[schedule], monthly_bill_usd=_bill(s),
                       name=f"A: API ({schedule})")
    own = sla.evaluate(sla.beta_availability(self_mean, sd),
                       usd_per_downtime_hour=usd_per_downtime_hour, name="B: self-host")
    return sla.compare([api, own])


def sla_table(scenario: Any, *, schedule: str = sla.AWS_BEDROCK.name,
              api_mean: float = API_MEAN, self_mean: float | None = None,
              sd: float = SD) -> Table:
    """Expected monthly downtime, credit and uncovered loss for A and B, rounded for print.

    ``self_mean`` defaults to 99.5% for one site (two sites: see the module docstring).
    """
    s = as_scenario(scenario)
    t = _outcomes(s, schedule=schedule, api_mean=api_mean,
                  self_mean=_self_mean(s) if self_mean is None else self_mean, sd=sd,
                  usd_per_downtime_hour=_hourly(s))
    cols = ["mean_availability", "breach_probability", "downtime_hours", "downtime_cost_usd",
            "credit_usd", "uncovered_usd"]
    return Table(t[cols].round({"mean_availability": 4, "breach_probability": 3,
                          "downtime_hours": 2, "downtime_cost_usd": 0, "credit_usd": 0,
                          "uncovered_usd": 0}))


def sla_panel(scenario: Any) -> Panel:
    """Compare the API's SLA credit with the business cost of its downtime, and self-hosting's.

    Controls: ``schedule`` (the vendor's credit tiers), ``api_mean`` and
    ``self_mean`` (expected monthly availability), ``sd`` (its month-to-month spread)
    and ``usd_per_downtime_hour``. ``result`` holds ``table`` (one row per option,
    from :func:`buildbuy.sla.compare`) and the API row's ``coverage`` (credit /
    downtime cost) and ``credit_to_cover`` (the flat credit share that would pay for
    a breaching month: the number to negotiate for).

    Examples
    --------
    >>> p = sla_panel("bank_support")
    >>> p.controls["usd_per_downtime_hour"].value = 100_000.0
    >>> p.result["coverage"] < 0.1       # the credit pays for under a tenth of the loss
    True
    """
    s = as_scenario(scenario)
    pct = {"readout_format": ".2%", "continuous_update": False, "style": _STYLE,
           "layout": _LAYOUT}
    controls = {
        "schedule": w.Dropdown(options=list(SCHEDULES), value=sla.AWS_BEDROCK.name,
                               description="vendor credit schedule", style=_STYLE),
        "api_mean": w.FloatSlider(value=API_MEAN, min=0.98, max=0.9999, step=0.0005,
                                  description="API availability (mean)", **pct),
        "self_mean": w.FloatSlider(value=_self_mean(s), min=0.98, max=0.99999, step=0.0005,
                                   description="self-host availability (mean)", **pct),
        "sd": w.FloatSlider(value=SD, min=0.0005, max=0.01, step=0.0005,
                            description="month-to-month spread (sd)", **pct),
        "usd_per_downtime_hour": w.FloatLogSlider(
            value=max(_hourly(s), 1.0), base=10, **log_span(max(_hourly(s), 1.0), 1, 6),
            step=0.1,
            description="cost of an hour down, $", readout_format=",.0f",
            continuous_update=False, style=_STYLE, layout=_LAYOUT),
    }

    def compute(v: Mapping[str, Any]) -> dict[str, Any]:
        table = _outcomes(s, **v)
        api = table.iloc[0]
        return {"table": table, "coverage": float(api["coverage"]),
                "credit_to_cover": float(api["credit_to_cover"]),
                "monthly_bill_usd": _bill(s), "schedule": v["schedule"]}

    return Panel(f"SLA negotiation: {s.title}", controls, compute, _draw, _describe,
                 height_in=3.0, left_in=2.0)


def _describe(r: Mapping[str, Any]) -> str:
    t = r["table"]
    api, own = t.iloc[0], t.iloc[1]
    if not np.isfinite(r["coverage"]):
        cover, ask = "no expected downtime cost", ""
    elif r["coverage"] >= 1.0:
        cover, ask = "the expected credit exceeds the expected downtime cost", ""
    else:
        cover = f"the credit covers {r['coverage']:.0%} of the API's expected downtime cost"
        ask = (f"; a flat credit of {r['credit_to_cover']:.0%} of the bill in a breaching "
               "month would cover it" if np.isfinite(r["credit_to_cover"]) else "")
    return (f"API: {api['downtime_hours']:.1f} h down a month, ${api['downtime_cost_usd']:,.0f} "
            f"lost, ${api['credit_usd']:,.0f} credited; self-host: "
            f"{own['downtime_hours']:.1f} h, ${own['downtime_cost_usd']:,.0f} lost, no credit. "
            f"{cover[0].upper() + cover[1:]}{ask}")


def _draw(fig: Figure, v: Mapping[str, Any], r: Mapping[str, Any]) -> None:
    (ax,) = fig.axes
    t = r["table"]
    y = np.arange(len(t))
    ax.barh(y - 0.2, t["downtime_cost_usd"], height=0.4, color="tab:red",
            label="expected downtime cost")
    ax.barh(y + 0.2, t["credit_usd"], height=0.4, color="tab:green", label="expected credit")
    ax.set_yticks(y, list(t.index), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("USD per month")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=8)
