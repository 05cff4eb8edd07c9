"""What a choice is worth: discounted cash flow, terminal value and sector multiples.

Every method values the same thing, the change a path makes against its alternative
(by default, the recommended path against doing nothing), from the same after-tax lines
of :func:`buildbuy.tco.compare`:

1. **DCF over the horizon**: the NPV of the monthly change in after-tax free cash flow,
   months 0..horizon, at the scenario's discount rate (monthly, effective). Hardware is
   sold at the horizon (the resale credit, taxed on its gain or loss).
2. **DCF with a terminal value**: the same months without the horizon sale, plus a
   steady state after the horizon. The steady state's first year is the last year's
   change in EBITDA grown by ``terminal_growth``, less the hardware refreshed every book
   life (the fleet held at the horizon x server price x (1 + networking) / book life in
   years; straight-line depreciation then equals that capex), after tax::

       FCF_ss = (1 - t) x (dEBITDA_last_year x (1 + g) - refresh capex per year)
       TV     = FCF_ss / (r - g)                    (Gordon growth, at the horizon)

   discounted ``horizon / 12`` years. Resale of refreshed hardware is left out
   (conservative).
3. **Sector multiples**, from Damodaran's dated US industry tables
   (``data/sector_multiples.csv``, January 2026), applied to the last year's run-rate:
   EV/EBITDA x change in EBITDA and EV/EBIT x change in recurring EBIT for sectors valued
   on enterprise value; P/E x change in net income (EBIT x (1 - t); the project carries
   no debt) for every sector. Banks are valued on equity: Damodaran leaves their EV
   multiples blank, because debt is a bank's raw material, not its capital, so no
   EV/EBITDA figure is shown for them.

The methods disagree for three reasons, which :meth:`Valuation.explain` puts in numbers:
the **horizon** (the DCF stops, a multiple capitalises the run-rate forever), **capex**
(EBITDA never sees the hardware), and **tax** (multiples apply to pre-tax earnings, the
DCF to after-tax cash).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from buildbuy import data, finance
from buildbuy._validate import bad, choice

__all__ = ["METHOD_LABELS", "Valuation", "sector_row", "value_path"]

#: a reader's name for each method of :attr:`Valuation.table`
METHOD_LABELS: dict[str, str] = {
    "dcf_horizon": "DCF over the horizon", "dcf_terminal": "DCF with terminal value",
    "ev_ebitda": "EV/EBITDA multiple", "ev_ebit": "EV/EBIT multiple", "pe": "P/E multiple"}


def sector_row(sector: str) -> pd.Series:
    """The row of ``data/sector_multiples.csv`` for ``sector`` (with its source and date)."""
    table = data.load_table("sector_multiples").set_index("sector")
    choice("sector", sector, tuple(table.index))
    return table.loc[sector]


@dataclass(frozen=True)
class Valuation:
    """The value of ``path`` over ``against``, by every method (USD).

    Attributes
    ----------
    path, against : str
        Paths compared (``"A"``, ``"B"``, ``"H"``; ``"0"`` = status quo).
    sector : str
    dcf_horizon_usd, dcf_terminal_usd, terminal_value_usd : float
        Horizon DCF; DCF with terminal value (horizon months without the sale, plus the
        present value of the terminal value); the terminal value's present value alone.
        The last two are NaN (and the method is left out of ``table``) when
        ``terminal_growth >= discount_rate``: the Gordon formula has no finite value.
    run_rate_ebitda_usd, run_rate_ebit_usd, run_rate_net_income_usd : float
        Last year's change (12 months, or the horizon annualised if shorter).
    refresh_capex_usd_per_year : float
        Steady-state hardware refresh of ``path`` minus ``against``.
    multiples : dict
        ``{"ev_ebitda": x or None, "ev_ebit": x or None, "pe": x}`` for the sector.
    table : pandas.DataFrame
        One row per method: ``method``, ``value_usd``, ``basis``, ``vintage``.
    """

    path: str
    against: str
    sector: str
    dcf_horizon_usd: float
    dcf_terminal_usd: float
    terminal_value_usd: float
    run_rate_ebitda_usd: float
    run_rate_ebit_usd: float
    run_rate_net_income_usd: float
    refresh_capex_usd_per_year: float
    capex_usd: float
    tax_rate: float
    discount_rate: float
    terminal_growth: float
    horizon_months: int
    multiples: dict[str, float | None]
    valued_on: str
    vintage: str
    source: str
    table: pd.DataFrame

    def value(self, method: str) -> float | None:
        """The value of one method (``None`` when the sector is not valued that way)."""
        rows = self.table[self.table["method"] == method]
        return None if rows.empty else float(rows["value_usd"].iloc[0])

    def explain(self) -> list[str]:
        """Why the methods differ, in this scenario's numbers: horizon, capex, tax."""
        m = _m
        years = self.horizon_months / 12
        if np.isfinite(self.dcf_terminal_usd):
            tail = (f"Valuing the years after as a steady state (growing "
                    f"{self.terminal_growth:.0%} a year, discounted at "
                    f"{self.discount_rate:.1%}) adds a terminal value worth "
                    f"{m(self.terminal_value_usd)} today, for {m(self.dcf_terminal_usd)} in "
                    "all. ")
        else:
            tail = ("A terminal value is not defined here: growth after the horizon is not "
                    "below the discount rate. ")
        out = [f"Horizon: the DCF stops after {years:g} years at {m(self.dcf_horizon_usd)}. "
               + tail + "A multiple, like the terminal value, prices the run-rate forever."]
        ev = self.multiples.get("ev_ebitda")
        if ev is not None:
            naive = ev * self.run_rate_ebitda_usd
            if self.capex_usd > 0 or self.refresh_capex_usd_per_year > 0:
                out.append(
                    f"Capex: EBITDA never sees hardware. Last year's change in EBITDA is "
                    f"{m(self.run_rate_ebitda_usd)}; x {ev:g} (EV/EBITDA) that is "
                    f"{m(naive)}, though keeping the fleet costs "
                    f"{m(self.refresh_capex_usd_per_year)} a year in refreshes "
                    f"({m(self.capex_usd)} bought within the horizon). EBIT charges it as "
                    f"depreciation: {m(self.run_rate_ebit_usd)} a year.")
            else:
                out.append(
                    f"Capex: none on this path. Rented GPUs and API fees are operating costs, "
                    f"so EBITDA sees every cost and EBITDA = EBIT "
                    f"({m(self.run_rate_ebitda_usd)} last year; x {ev:g} EV/EBITDA = "
                    f"{m(naive)}). The gap to the DCF is the horizon and tax alone.")
        else:
            out.append(
                f"Capex: this sector ({self.sector}) is valued on equity, not EBITDA: "
                "Damodaran's table has no EV/EBITDA for banks, whose debt is raw material, "
                f"not capital. Depreciation still enters net income: "
                f"{m(self.run_rate_net_income_usd)} a year, after "
                f"{m(self.refresh_capex_usd_per_year)} of yearly hardware refresh.")
        out.append(
            f"Tax: multiples apply to pre-tax EBITDA or EBIT; the DCF discounts cash after "
            f"{self.tax_rate:.1%} tax, so each pre-tax dollar counts "
            f"{1 - self.tax_rate:.2f} in the DCF.")
        if self.run_rate_ebitda_usd > 0 and np.isfinite(self.dcf_terminal_usd):
            implied = self.dcf_terminal_usd / self.run_rate_ebitda_usd
            out.append(f"The DCF with terminal value is {implied:.1f}x last year's change in "
                       "EBITDA: the multiple the cash flows themselves justify.")
        return out


def _m(x: float) -> str:
    sign = "-" if x < 0 else ""
    a = abs(x)
    if a >= 1e9:
        return f"{sign}${a / 1e9:,.2f}B"
    if a >= 1e6:
        return f"{sign}${a / 1e6:,.2f}M"
    return f"{sign}${a:,.0f}"


def _last_year(x: np.ndarray) -> float:
    n = min(12, x.size - 1)
    return float(np.sum(x[-n:]) * 12.0 / n)


def _refresh_capex(comparison: Any, path: str) -> float:
    S = comparison.scenario
    if path not in ("B", "H") or S.hosting != "owned":
        return 0.0
    servers = float(comparison.fleet_by_year["servers"].iloc[-1])
    fleet_usd = servers * S.server_usd * (1.0 + S.networking_uplift)
    return fleet_usd / (S.depreciation_life_months / 12.0)


def value_path(comparison: Any, path: str, against: str = "0") -> Valuation:
    """Value of choosing ``path`` instead of ``against`` for the compared scenario.

    Parameters
    ----------
    comparison : Comparison
        ``buildbuy.tco.compare(S)``.
    path, against : str
        ``"A"``, ``"B"``, ``"H"`` or ``"0"`` (status quo), different from each other.

    Returns
    -------
    Valuation

    Examples
    --------
    >>> from buildbuy import scenarios, tco
    >>> C = tco.compare(scenarios.load("bank_support"))
    >>> v = value_path(C, "B")
    >>> v.value("ev_ebitda") is None, v.multiples["pe"]     # a bank: no EV/EBITDA
    (True, 14.2)
    >>> round(v.dcf_horizon_usd) == round(C.npv_vs_status_quo_usd["B"])
    True
    """
    paths = ("A", "B", "H", "0")
    choice("path", path, paths)
    choice("against", against, paths)
    if path == against:
        raise bad("against", against, f"a path other than path={path!r}")
    S = comparison.scenario
    p, q = comparison.paths[path], comparison.paths[against]
    r_m = finance.monthly_rate(S.discount_rate)
    fcf = p.fcf - q.fcf
    dcf = float(finance.npv(r_m, fcf))
    going_concern = fcf - ((p.proceeds - S.tax_rate * p.gain) - (q.proceeds - S.tax_rate * q.gain))
    d_ebitda = _last_year(p.ebitda - q.ebitda)
    d_ebit = _last_year((p.ebit - p.gain) - (q.ebit - q.gain))
    refresh = _refresh_capex(comparison, path) - _refresh_capex(comparison, against)
    g = float(S.terminal_growth)
    fcf_ss = (1.0 - S.tax_rate) * (d_ebitda * (1.0 + g) - refresh)
    if S.discount_rate > g:
        tv = fcf_ss / (S.discount_rate - g)
        pv_tv = tv / (1.0 + S.discount_rate) ** (S.horizon_months / 12.0)
        dcf_tv = float(finance.npv(r_m, going_concern)) + pv_tv
    else:  # a perpetuity growing as fast as it is discounted has no finite value
        pv_tv = dcf_tv = float("nan")
    net_income = d_ebit * (1.0 - S.tax_rate)
    row = sector_row(S.sector)
    ev_ebitda = None if pd.isna(row["ev_ebitda"]) else float(row["ev_ebitda"])
    ev_ebit = None if pd.isna(row["ev_ebit"]) else float(row["ev_ebit"])
    pe = float(row["pe"])
    vintage = str(row["as_of"])
    name = f"Damodaran {row['damodaran_industry']}, {vintage[:7]}"
    rate = f"{S.discount_rate:.1%} a year"
    rows = [
        {"method": "dcf_horizon", "value_usd": dcf,
         "basis": f"NPV of the after-tax FCF change, months 0-{S.horizon_months}, at {rate}, "
                  "hardware sold at the horizon", "vintage": ""},
    ]
    if np.isfinite(dcf_tv):
        rows.append({"method": "dcf_terminal", "value_usd": dcf_tv,
                     "basis": f"the same months without the sale + terminal value "
                              f"{_m(pv_tv)} today (steady state growing {g:.0%}, hardware "
                              f"refreshed every {S.depreciation_life_months / 12:g} years)",
                     "vintage": ""})
    if row["valued_on"] == "enterprise" and ev_ebitda is not None:
        capex = float(np.sum(p.capex - q.capex))
        flag = "; misleading: ignores the hardware" if capex > 0 or refresh > 0 else ""
        rows.append({"method": "ev_ebitda", "value_usd": d_ebitda * ev_ebitda,
                     "basis": f"last year's EBITDA change {_m(d_ebitda)} x {ev_ebitda:g} "
                              f"({name}){flag}", "vintage": vintage})
    if row["valued_on"] == "enterprise" and ev_ebit is not None:
        rows.append({"method": "ev_ebit", "value_usd": d_ebit * ev_ebit,
                     "basis": f"last year's recurring EBIT change {_m(d_ebit)} x {ev_ebit:g} "
                              f"({name})", "vintage": vintage})
    rows.append({"method": "pe", "value_usd": net_income * pe,
                 "basis": f"last year's net income change {_m(net_income)} x {pe:g} P/E "
                          f"({name})", "vintage": vintage})
    return Valuation(
        path=path, against=against, sector=S.sector, dcf_horizon_usd=dcf,
        dcf_terminal_usd=dcf_tv, terminal_value_usd=pv_tv, run_rate_ebitda_usd=d_ebitda,
        run_rate_ebit_usd=d_ebit, run_rate_net_income_usd=net_income,
        refresh_capex_usd_per_year=refresh, capex_usd=float(np.sum(p.capex - q.capex)),
        tax_rate=float(S.tax_rate), discount_rate=float(S.discount_rate),
        terminal_growth=g, horizon_months=int(S.horizon_months),
        multiples={"ev_ebitda": ev_ebitda, "ev_ebit": ev_ebit, "pe": pe},
        valued_on=str(row["valued_on"]), vintage=vintage, source=str(row["source"]),
        table=pd.DataFrame(rows))
