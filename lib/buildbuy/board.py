"""Board translation: what each scenario does to EBITDA, EBIT and free cash flow.

A CFO reads the same cash three ways, and the three disagree for self-hosting:

- **EBITDA** sees operating costs (and value) only: API fees, cloud GPU rent, power,
  colocation, licences, staff, drift work. Bought hardware (capex) is invisible to it.
- **EBIT** = EBITDA - depreciation (+ any gain or loss when hardware is sold): the
  hardware arrives slowly, spread over its book life.
- **Free cash flow** = EBITDA - tax - capex + sale proceeds: the hardware hits in full,
  in the month it is paid for.

So swapping an API bill for bought servers *raises* EBITDA even when it destroys value.
What the choice is worth is :mod:`buildbuy.valuation`'s job; this module gives the tidy
per-scenario views of a cash-flow frame, computed by :mod:`buildbuy.tax` (the ONE
depreciation schedule: straight line to zero over the book life, the same for EBIT and
tax).

Input: the tidy frame of ``buildbuy.tco.cashflows`` (docs/design.md): ``month`` (0 =
upfront at the start, 1..horizon), ``scenario``, ``component``, ``category`` in
``capex | opex | people | drift`` and ``usd`` (a cost, positive = money out).
Conventions used here:

- **Years.** Month 0 and months 1-12 are year 1, months 13-24 year 2, and so on.
- **Signs.** ``ebitda_usd``, ``ebit_usd`` and ``fcf_usd`` are *effects* on those lines:
  a cost is negative. ``depreciation_usd``, ``capex_usd`` and ``opex_usd`` are the
  (positive) charges; ``tax_usd`` is the change in tax paid (negative = tax saved).
- **Capex.** A positive ``capex`` row is a purchase; a negative one is the sale of *all*
  hardware held at that month (how ``buildbuy.tco`` credits resale at the horizon), a
  disposal month of :func:`buildbuy.tax.depreciation`. Pass ``disposal_months`` to
  dispose of the hardware in a month whatever the proceeds (``buildbuy.tco`` sells owned
  hardware at the horizon even at zero resale value).
- **Value.** ``value_usd`` (optional) adds each scenario's value lines
  (``buildbuy.value.monthly_value``): EBITDA = value - operating costs.
- **Tax.** ``tax_rate`` defaults to 0: a pre-tax view. With a rate, costs earn a tax
  saving at that rate (the company is assumed to have other taxable profit to offset).
  Working capital is ignored: FCF is unlevered, before interest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from buildbuy import tax as taxes
from buildbuy._validate import bad, choice, integer, share

__all__ = [
    "CATEGORIES",
    "annual_view",
    "delta",
    "monthly_view",
]

CATEGORIES = ("capex", "opex", "people", "drift")
_EBITDA_CATEGORIES = ("opex", "people", "drift")
_REQUIRED = ("month", "scenario", "category", "usd")
_VIEW_COLUMNS = ("value_usd", "opex_usd", "ebitda_usd", "depreciation_usd",
                 "disposal_gain_usd", "ebit_usd", "tax_usd", "capex_usd",
                 "disposal_proceeds_usd", "fcf_usd")


# --------------------------------------------------------------------------- input


def _check_frame(cashflows: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(cashflows, pd.DataFrame):
        raise bad("cashflows", type(cashflows).__name__,
                  "a pandas DataFrame with columns " + ", ".join(_REQUIRED))
    missing = [c for c in _REQUIRED if c not in cashflows.columns]
    if missing:
        raise bad("cashflows", f"<DataFrame without {', '.join(missing)}>",
                  "a tidy frame with columns " + ", ".join(_REQUIRED))
    if cashflows.empty:
        raise bad("cashflows", "<empty DataFrame>", "at least one cash-flow row")
    unknown = sorted(set(cashflows["category"]) - set(CATEGORIES))
    if unknown:
        choice("cashflows.category", unknown[0], CATEGORIES)
    month = pd.to_numeric(cashflows["month"], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(month)) or np.any(month < 0) or np.any(month % 1 != 0):
        raise bad("cashflows.month", "<non-integer or negative months>",
                  "whole numbers >= 0 (0 = upfront, 1..horizon)")
    usd = pd.to_numeric(cashflows["usd"], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(usd)):
        raise bad("cashflows.usd", "<NaN, inf or text>", "finite numbers (USD, cost > 0)")
    out = cashflows.loc[:, list(_REQUIRED)].copy()
    out["month"] = month.astype(int)
    out["usd"] = usd
    return out


def _by_month(frame: pd.DataFrame, mask: pd.Series, n_months: int) -> np.ndarray:
    sums = frame.loc[mask].groupby("month")["usd"].sum()
    out = np.zeros(n_months)
    out[sums.index.to_numpy(dtype=int)] = sums.to_numpy()
    return out


# --------------------------------------------------------------------------- views


def monthly_view(cashflows: pd.DataFrame, *, depreciation_life_months: int,
                 tax_rate: float = 0.0, value_usd: Mapping[str, Any] | None = None,
                 disposal_months: Iterable[int] | None = None) -> pd.DataFrame:
    """EBITDA, depreciation, EBIT, tax and free cash flow per month and scenario.

    See the module docstring for the sign and timing conventions; :func:`annual_view`
    sums this by year.

    Parameters
    ----------
    cashflows : pandas.DataFrame
        Tidy cash flows (``month``, ``scenario``, ``category``, ``usd``; cost > 0).
    depreciation_life_months : int
        Book life of bought hardware, >= 1 (5-6 years in 10-K filings).
    tax_rate : float
        Marginal tax rate in [0, 1]; 0 (default) is a pre-tax view.
    value_usd : mapping, optional
        Scenario -> monthly value (array over months 0..last), e.g.
        ``buildbuy.value.monthly_value(S)``.
    disposal_months : iterable of int, optional
        Months in which all hardware is sold; default the months with a negative capex
        row.

    Returns
    -------
    pandas.DataFrame
        Columns ``month``, ``scenario``, ``value_usd``, ``opex_usd``, ``ebitda_usd``,
        ``depreciation_usd``, ``disposal_gain_usd``, ``ebit_usd``, ``tax_usd``,
        ``capex_usd``, ``disposal_proceeds_usd``, ``fcf_usd`` and ``net_book_value_usd``
        at the end of the month.

    Examples
    --------
    A $1,200 server bought up front, depreciated over 12 months, against $150 a month
    of API fees:

    >>> cf = pd.DataFrame({"month": [0, 1, 2], "scenario": ["B", "A", "A"],
    ...                    "category": ["capex", "opex", "opex"], "usd": [1200, 150, 150]})
    >>> v = monthly_view(cf, depreciation_life_months=12)
    >>> v[v.scenario == "B"][["month", "ebitda_usd", "ebit_usd", "fcf_usd"]].to_numpy().tolist()
    [[0.0, 0.0, 0.0, -1200.0], [1.0, 0.0, -100.0, 0.0], [2.0, 0.0, -100.0, 0.0]]
    """
    frame = _check_frame(cashflows)
    life = integer("depreciation_life_months", depreciation_life_months, minimum=1)
    t = share("tax_rate", tax_rate)
    n_months = int(frame["month"].max()) + 1
    parts = []
    for scenario in sorted(frame["scenario"].unique(), key=str):
        rows = frame[frame["scenario"] == scenario]
        cat = rows["category"]
        opex = _by_month(rows, cat.isin(_EBITDA_CATEGORIES), n_months)
        purchases = _by_month(rows, (cat == "capex") & (rows["usd"] > 0), n_months)
        proceeds = 0.0 - _by_month(rows, (cat == "capex") & (rows["usd"] < 0), n_months)
        sold = (np.flatnonzero(proceeds > 0).tolist() if disposal_months is None
                else list(disposal_months))
        value = np.zeros(n_months)
        if value_usd is not None and scenario in value_usd:
            value = np.asarray(value_usd[scenario], dtype=float)
            if value.shape != (n_months,):
                raise bad(f"value_usd[{scenario!r}]", f"<array of shape {value.shape}>",
                          f"one value per month 0..{n_months - 1}")
        r = taxes.after_tax(value=value, costs=opex, purchases=purchases, proceeds=proceeds,
                            tax_rate=t, life_months=life, disposal_months=sold)
        parts.append(pd.DataFrame({
            "month": np.arange(n_months), "scenario": scenario,
            "value_usd": value + 0.0, "opex_usd": opex, "ebitda_usd": r.ebitda + 0.0,
            "depreciation_usd": r.depreciation + 0.0, "disposal_gain_usd": r.gain + 0.0,
            "ebit_usd": r.ebit + 0.0, "tax_usd": r.tax + 0.0, "capex_usd": purchases,
            "disposal_proceeds_usd": proceeds + 0.0, "fcf_usd": r.fcf + 0.0,
            "net_book_value_usd": r.nbv + 0.0,
        }))
    return pd.concat(parts, ignore_index=True)


def _years(months: pd.Series) -> np.ndarray:
    m = months.to_numpy(dtype=int)
    return np.maximum(1, -(-m // 12))


def annual_view(cashflows: pd.DataFrame, *, depreciation_life_months: int,
                tax_rate: float = 0.0, value_usd: Mapping[str, Any] | None = None,
                disposal_months: Iterable[int] | None = None) -> pd.DataFrame:
    """The board table: per year and scenario, the effect on EBITDA, EBIT and FCF.

    Sums :func:`monthly_view` by year (month 0 and months 1-12 are year 1); the
    ``net_book_value_usd`` column is the value at the end of each year. Arguments as in
    :func:`monthly_view`.

    Examples
    --------
    A $36,000 server bought up front on a 36-month book life, and a $2,000-a-month API
    bill, over two years:

    >>> cf = pd.DataFrame({"month": [0] + list(range(1, 25)),
    ...                    "scenario": ["B"] + ["A"] * 24,
    ...                    "category": ["capex"] + ["opex"] * 24,
    ...                    "usd": [36_000] + [2_000] * 24})
    >>> v = annual_view(cf, depreciation_life_months=36)
    >>> v[["year", "scenario", "ebitda_usd", "ebit_usd", "fcf_usd", "net_book_value_usd"]
    ...   ].to_numpy().tolist()  # doctest: +NORMALIZE_WHITESPACE
    [[1, 'A', -24000.0, -24000.0, -24000.0, 0.0], [2, 'A', -24000.0, -24000.0, -24000.0, 0.0],
     [1, 'B', 0.0, -12000.0, -36000.0, 24000.0], [2, 'B', 0.0, -12000.0, 0.0, 12000.0]]
    """
    monthly = monthly_view(cashflows, depreciation_life_months=depreciation_life_months,
                           tax_rate=tax_rate, value_usd=value_usd,
                           disposal_months=disposal_months)
    monthly.insert(0, "year", _years(monthly["month"]))
    grouped = monthly.groupby(["scenario", "year"], sort=True)
    sums = grouped[list(_VIEW_COLUMNS)].sum()
    sums["net_book_value_usd"] = grouped["net_book_value_usd"].last()
    return sums.reset_index()[["year", "scenario", *_VIEW_COLUMNS, "net_book_value_usd"]]


def delta(view: pd.DataFrame, *, base: str = "A", alternative: str = "B") -> pd.DataFrame:
    """``alternative`` minus ``base`` for every value column of a monthly or annual view.

    With the default (B minus A) a positive ``ebitda_usd`` means choosing self-hosting
    raises EBITDA that year; a positive ``capex_usd`` means it spends more on hardware.

    Examples
    --------
    >>> cf = pd.DataFrame({"month": [0, 1, 1], "scenario": ["B", "A", "B"],
    ...                    "category": ["capex", "opex", "opex"], "usd": [120, 100, 40]})
    >>> d = delta(annual_view(cf, depreciation_life_months=12))
    >>> d[["year", "ebitda_usd", "ebit_usd", "fcf_usd"]].to_numpy().tolist()
    [[1.0, 60.0, 50.0, -60.0]]
    """
    key = "year" if "year" in view.columns else "month"
    if key not in view.columns or "scenario" not in view.columns:
        raise bad("view", "<DataFrame>", "a frame from annual_view() or monthly_view()")
    names = sorted(map(str, view["scenario"].unique()))
    choice("base", base, names)
    choice("alternative", alternative, names)
    cols = [c for c in view.columns if c.endswith("_usd")]
    a = view[view["scenario"] == base].set_index(key)[cols]
    b = view[view["scenario"] == alternative].set_index(key)[cols]
    idx = a.index.union(b.index)
    out = b.reindex(idx, fill_value=0.0) - a.reindex(idx, fill_value=0.0)
    return out.reset_index()
