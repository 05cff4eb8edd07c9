"""Board translation: what each scenario does to EBITDA, EBIT and free cash flow.

A CFO reads the same cash three ways, and the three disagree for self-hosting:

- **EBITDA** sees operating costs only: API fees, cloud GPU rent, power, colocation,
  licences, staff, drift work. Bought hardware (capex) is invisible to it.
- **EBIT** = EBITDA - depreciation (+ any gain or loss when hardware is sold): the
  hardware arrives slowly, spread over its book life.
- **Free cash flow** = EBITDA - tax - capex + sale proceeds: the hardware hits in full,
  in the month it is paid for.

So swapping an API bill for bought servers *raises* EBITDA even when it destroys
value: that is why :func:`enterprise_value` shows three valuations and flags the naive
one (tco_anchors.md §3.2-3.3).

Input: the tidy frame of ``buildbuy.tco.cashflows`` (docs/design.md): ``month`` (0 =
upfront at the start, 1..horizon), ``scenario``, ``component``, ``category`` in
``capex | opex | people | opportunity | drift`` and ``usd`` (a cost, positive = money
out). Conventions used here:

- **Years.** Month 0 and months 1-12 are year 1, months 13-24 year 2, and so on.
- **Signs.** ``ebitda_usd``, ``ebit_usd`` and ``fcf_usd`` are *effects* on those lines:
  a cost is negative. ``depreciation_usd``, ``capex_usd`` and ``opex_usd`` are the
  (positive) charges; ``tax_usd`` is the change in tax paid (negative = tax saved).
- **Capex.** A positive ``capex`` row is a purchase: straight-line book depreciation over
  ``depreciation_life_months`` down to ``residual_value_share`` of its cost, starting in
  the first service month it is held: the month of purchase for months >= 1 (``buildbuy.tco``
  runs a top-up bought in month 13 from month 13), month 1 for purchases in month 0
  (before service starts). A negative ``capex`` row is the
  sale of *all* hardware held at that month, including any bought in the same month (how
  ``buildbuy.tco`` credits resale value at the horizon): its proceeds are cash in, and
  proceeds minus the net book value is a gain (or loss) on disposal that goes to EBIT,
  not EBITDA. Hardware still held at the end is
  reported as ``net_book_value_usd``.
- **Opportunity cost** is value *forgone* (the months the capability is late), not an
  expense anyone books. It shows in its own column ``forgone_ebitda_usd`` (negative) and
  stays out of EBITDA, EBIT and FCF unless ``include_opportunity=True``, which treats it
  as lost operating profit.
- **Tax.** ``tax_rate`` defaults to 0: a pre-tax view. With a rate, costs earn a tax
  saving at that rate (the company is assumed to have other taxable profit to offset).
  ``tax_depreciation="book"`` deducts the book depreciation; ``"bonus"`` deducts the whole
  purchase in its month, as US 100 % bonus depreciation allows for property placed in
  service after 19 Jan 2025 (tco_anchors.md §2.8); sale proceeds are then fully taxable.
  Working capital is ignored: FCF is unlevered, before interest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from buildbuy import finance
from buildbuy._validate import bad, choice, finite, integer, positive, share

__all__ = [
    "CATEGORIES",
    "DEFAULT_EV_EBITDA_MULTIPLE",
    "DEFAULT_EV_EBIT_MULTIPLE",
    "DEFAULT_WACC",
    "Anchor",
    "EnterpriseValue",
    "annual_view",
    "delta",
    "enterprise_value",
    "monthly_view",
]

CATEGORIES = ("capex", "opex", "people", "opportunity", "drift")
_EBITDA_CATEGORIES = ("opex", "people", "drift")
_REQUIRED = ("month", "scenario", "category", "usd")
TaxDepreciation = Literal["book", "bonus"]


@dataclass(frozen=True)
class Anchor:
    """A default figure with where it comes from."""

    value: float
    unit: str
    source: str
    as_of: str


DEFAULT_EV_EBITDA_MULTIPLE = Anchor(
    24.48, "x",
    "Damodaran, 'Value multiples by industry', US, Software (System & Application), "
    "EV/EBITDA, as quoted in a public code repository [S, verify on "
    "pages.stern.nyu.edu/~adamodar/New_Home_Page/datafile/vebitda.html] "
    "(tco_anchors.md §2.11)",
    "2026-01")
DEFAULT_EV_EBIT_MULTIPLE = Anchor(
    35.62, "x",
    "Damodaran US industry averages, Software (System & Application), EV/EBIT, January 2022 "
    "dataset as reproduced in public course notes [S, older vintage: the same table gives "
    "EV/EBITDA 24.00, close to the 24.48 of 2026]; not in tco_anchors.md",
    "2022-01")
DEFAULT_WACC = Anchor(
    0.095, "share/year",
    "[D] Damodaran Jan 2026 cost-of-capital table, software beta 1.28 -> WACC 9-9.5 %; "
    "band 8-11 % (tco_anchors.md §2.10)",
    "2026-01")

_VIEW_COLUMNS = ("opex_usd", "ebitda_usd", "depreciation_usd", "disposal_gain_usd",
                 "ebit_usd", "tax_usd", "capex_usd", "disposal_proceeds_usd", "fcf_usd",
                 "forgone_ebitda_usd")


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
                 residual_value_share: float = 0.0, tax_rate: float = 0.0,
                 tax_depreciation: TaxDepreciation = "book",
                 include_opportunity: bool = False) -> pd.DataFrame:
    """EBITDA, depreciation, EBIT, tax and free cash flow per month and scenario.

    See the module docstring for the sign and timing conventions; :func:`annual_view`
    sums this by year.

    Parameters
    ----------
    cashflows : pandas.DataFrame
        Tidy cash flows (``month``, ``scenario``, ``category``, ``usd``; cost > 0).
    depreciation_life_months : int
        Book life of bought hardware, >= 1 (5-6 years in 10-K filings, tco_anchors.md §2.8).
    residual_value_share : float
        Book salvage value at the end of the life, as a share of cost (default 0: fully
        depreciated). It moves EBIT between depreciation and the disposal gain; over a
        horizon that ends in a sale, total EBIT is the same.
    tax_rate : float
        Marginal tax rate in [0, 1]; 0 (default) is a pre-tax view.
    tax_depreciation : {"book", "bonus"}
        Tax deduction for hardware: book depreciation, or 100 % in the purchase month.
    include_opportunity : bool
        Also count opportunity cost as lost EBITDA (it is always in ``forgone_ebitda_usd``).

    Returns
    -------
    pandas.DataFrame
        Columns ``month``, ``scenario``, the value columns (``opex_usd``, ``ebitda_usd``,
        ``depreciation_usd``, ``disposal_gain_usd``, ``ebit_usd``, ``tax_usd``,
        ``capex_usd``, ``disposal_proceeds_usd``, ``fcf_usd``, ``forgone_ebitda_usd``) and
        ``net_book_value_usd`` at the end of the month.

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
    salvage_share = share("residual_value_share", residual_value_share)
    t = share("tax_rate", tax_rate)
    choice("tax_depreciation", tax_depreciation, ("book", "bonus"))
    if not isinstance(include_opportunity, (bool, np.bool_)):
        raise bad("include_opportunity", include_opportunity, "True or False")
    n_months = int(frame["month"].max()) + 1
    parts = []
    for scenario in sorted(frame["scenario"].unique(), key=str):
        rows = frame[frame["scenario"] == scenario]
        cat = rows["category"]
        opex = _by_month(rows, cat.isin(_EBITDA_CATEGORIES), n_months)
        opportunity = _by_month(rows, cat == "opportunity", n_months)
        purchases = _by_month(rows, (cat == "capex") & (rows["usd"] > 0), n_months)
        proceeds = 0.0 - _by_month(rows, (cat == "capex") & (rows["usd"] < 0), n_months)
        dep, gain, nbv = _book(purchases, proceeds, life, salvage_share)
        ebitda = 0.0 - opex - (opportunity if include_opportunity else 0.0)  # no -0.0
        ebit = ebitda - dep + gain
        # bonus: the whole purchase is deductible at once and the proceeds fully taxable
        taxable = ebit if tax_depreciation == "book" else ebitda - purchases + proceeds
        tax = t * taxable + 0.0  # no -0.0
        fcf = ebitda - tax - purchases + proceeds
        parts.append(pd.DataFrame({
            "month": np.arange(n_months), "scenario": scenario,
            "opex_usd": opex, "ebitda_usd": ebitda, "depreciation_usd": dep,
            "disposal_gain_usd": gain, "ebit_usd": ebit, "tax_usd": tax,
            "capex_usd": purchases, "disposal_proceeds_usd": proceeds, "fcf_usd": fcf,
            "forgone_ebitda_usd": 0.0 - opportunity, "net_book_value_usd": nbv,
        }))
    return pd.concat(parts, ignore_index=True)


def _book(purchases: np.ndarray, proceeds: np.ndarray, life: int, salvage_share: float,
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Straight-line book depreciation, disposals and net book value, month by month."""
    n = purchases.size
    dep = np.zeros(n)
    gain = np.zeros(n)
    nbv = np.zeros(n)
    assets: list[list[float]] = []  # [book value, monthly charge, salvage]
    for m in range(n):
        if purchases[m] > 0:
            cost = float(purchases[m])
            salvage = cost * salvage_share
            assets.append([cost, (cost - salvage) / life, salvage])
        if m >= 1:  # every asset held in a service month depreciates in it
            for asset in assets:
                charge = min(asset[1], asset[0] - asset[2])
                asset[0] -= charge
                dep[m] += charge
        if proceeds[m] > 0:  # a sale disposes of everything held
            held = sum(a[0] for a in assets)
            gain[m] = proceeds[m] - held
            assets = []
        nbv[m] = sum(a[0] for a in assets)
    return dep, gain, nbv


def _years(months: pd.Series) -> np.ndarray:
    m = months.to_numpy(dtype=int)
    return np.maximum(1, -(-m // 12))


def annual_view(cashflows: pd.DataFrame, *, depreciation_life_months: int,
                residual_value_share: float = 0.0, tax_rate: float = 0.0,
                tax_depreciation: TaxDepreciation = "book",
                include_opportunity: bool = False) -> pd.DataFrame:
    """The board table: per year and scenario, the effect on EBITDA, EBIT and FCF.

    Sums :func:`monthly_view` by year (month 0 and months 1-12 are year 1); the
    ``net_book_value_usd`` column is the value at the end of each year. Arguments as in
    :func:`monthly_view`.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``scenario``, ``opex_usd``, ``ebitda_usd``, ``depreciation_usd``,
        ``disposal_gain_usd``, ``ebit_usd``, ``tax_usd``, ``capex_usd``,
        ``disposal_proceeds_usd``, ``fcf_usd``, ``forgone_ebitda_usd``,
        ``net_book_value_usd``.

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
                           residual_value_share=residual_value_share, tax_rate=tax_rate,
                           tax_depreciation=tax_depreciation,
                           include_opportunity=include_opportunity)
    monthly.insert(0, "year", _years(monthly["month"]))
    grouped = monthly.groupby(["scenario", "year"], sort=True)
    sums = grouped[list(_VIEW_COLUMNS)].sum()
    sums["net_book_value_usd"] = grouped["net_book_value_usd"].last()
    out = sums.reset_index()[["year", "scenario", *_VIEW_COLUMNS, "net_book_value_usd"]]
    return out


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


# --------------------------------------------------------------------------- EV


@dataclass(frozen=True)
class EnterpriseValue:
    """Enterprise value of choosing ``alternative`` over ``base``, three ways.

    ``ebitda_multiple_usd`` = run-rate ΔEBITDA x EV/EBITDA (the naive number);
    ``ebit_multiple_usd`` = run-rate ΔEBIT x EV/EBIT; ``npv_fcf_usd`` = NPV of the monthly
    ΔFCF at the WACC over the horizon (the defensible one). ``misleading`` is True when
    the EBITDA gain is bought with capex that EBITDA never sees, or the naive value and
    the NPV disagree in sign; ``reasons`` says why in words.
    """

    base: str
    alternative: str
    run_rate_year: int
    delta_ebitda_usd: float
    delta_ebit_usd: float
    delta_capex_usd: float
    ebitda_multiple_usd: float
    ebit_multiple_usd: float
    npv_fcf_usd: float
    ev_ebitda_multiple: float
    ev_ebit_multiple: float
    wacc: float
    misleading: bool
    reasons: tuple[str, ...]

    @property
    def table(self) -> pd.DataFrame:
        """The three valuations side by side, with how each is computed."""
        return pd.DataFrame({
            "method": ["ΔEBITDA x EV/EBITDA", "ΔEBIT x EV/EBIT", "NPV of ΔFCF at WACC"],
            "value_usd": [self.ebitda_multiple_usd, self.ebit_multiple_usd, self.npv_fcf_usd],
            "basis": [
                f"year-{self.run_rate_year} ΔEBITDA {self.delta_ebitda_usd:,.0f} "
                f"x {self.ev_ebitda_multiple:g}",
                f"year-{self.run_rate_year} ΔEBIT {self.delta_ebit_usd:,.0f} "
                f"x {self.ev_ebit_multiple:g}",
                f"monthly ΔFCF over the horizon at {self.wacc:.2%} a year",
            ],
            "note": ["misleading: ignores capex" if self.misleading else "",
                     "", "defensible"],
        })


def enterprise_value(cashflows: pd.DataFrame, *, depreciation_life_months: int,
                     residual_value_share: float = 0.0, base: str = "A",
                     alternative: str = "B",
                     ev_ebitda_multiple: float = DEFAULT_EV_EBITDA_MULTIPLE.value,
                     ev_ebit_multiple: float = DEFAULT_EV_EBIT_MULTIPLE.value,
                     wacc: float = DEFAULT_WACC.value, tax_rate: float = 0.0,
                     tax_depreciation: TaxDepreciation = "book",
                     include_opportunity: bool = True,
                     run_rate_year: int | None = None) -> EnterpriseValue:
    """Value of choosing ``alternative`` over ``base``: multiples against discounted cash.

    1. **ΔEBITDA x EV/EBITDA.** The run-rate change in annual EBITDA (default: the last
       year of the horizon, when one-off costs are over) times the sector multiple. It is
       flagged ``misleading`` when the alternative spends more on hardware than the base:
       the gain partly comes from moving a cost out of EBITDA into capex.
    2. **ΔEBIT x EV/EBIT.** Depreciation brings the hardware back, spread over its life.
       The multiple applies to recurring EBIT: a one-off gain or loss on selling the
       hardware is left out of ``delta_ebit_usd``.
    3. **NPV of ΔFCF at the WACC**, monthly, month 0 undiscounted, monthly rate
       ``(1 + wacc) ** (1 / 12) - 1`` (:func:`buildbuy.finance.monthly_rate`). Only the
       horizon is valued (resale at the end is in the flows); the multiples instead
       capitalise a run-rate forever, so they are not the same question.

    Opportunity cost counts as lost EBITDA here by default (``include_opportunity=True``):
    the months a capability is late are real money even if no ledger books them.

    Parameters
    ----------
    cashflows : pandas.DataFrame
        Tidy cash flows as for :func:`monthly_view`.
    depreciation_life_months, residual_value_share, tax_rate, tax_depreciation
        As in :func:`monthly_view`.
    base, alternative : str
        Scenario labels; the deltas are ``alternative - base``.
    ev_ebitda_multiple, ev_ebit_multiple : float
        Sector multiples, > 0; defaults :data:`DEFAULT_EV_EBITDA_MULTIPLE` (24.48x) and
        :data:`DEFAULT_EV_EBIT_MULTIPLE` (35.62x), sources in their ``source`` field.
    wacc : float
        Annual discount rate, > -1; default :data:`DEFAULT_WACC` (9.5 %).
    include_opportunity : bool
        Count opportunity cost as lost EBITDA (default True).
    run_rate_year : int, optional
        Year whose ΔEBITDA/ΔEBIT the multiples apply to; default the last year.

    Examples
    --------
    B buys a $100k server up front and saves $5k a month of API fees for 36 months:

    >>> months = list(range(1, 37))
    >>> cf = pd.DataFrame({"month": [0] + months, "scenario": ["B"] + ["A"] * 36,
    ...                    "category": ["capex"] + ["opex"] * 36,
    ...                    "usd": [100_000] + [5_000] * 36})
    >>> ev = enterprise_value(cf, depreciation_life_months=60, wacc=0.0)
    >>> ev.delta_ebitda_usd, ev.ebitda_multiple_usd, ev.npv_fcf_usd, ev.misleading
    (60000.0, 1468800.0, 80000.0, True)
    """
    m = positive("ev_ebitda_multiple", ev_ebitda_multiple)
    k = positive("ev_ebit_multiple", ev_ebit_multiple)
    r = finite("wacc", wacc)
    if r <= -1.0:
        raise bad("wacc", wacc, "a rate > -1 (above -100 % a year)")
    kw = dict(depreciation_life_months=depreciation_life_months,
              residual_value_share=residual_value_share, tax_rate=tax_rate,
              tax_depreciation=tax_depreciation, include_opportunity=include_opportunity)
    monthly = monthly_view(cashflows, **kw)  # type: ignore[arg-type]
    annual = annual_view(cashflows, **kw)  # type: ignore[arg-type]
    d_year = delta(annual, base=base, alternative=alternative)
    d_month = delta(monthly, base=base, alternative=alternative)
    years: Sequence[int] = d_year["year"].astype(int).tolist()
    year = years[-1] if run_rate_year is None else integer(
        "run_rate_year", run_rate_year, minimum=min(years), maximum=max(years))
    row = d_year[d_year["year"] == year].iloc[0]
    d_ebitda = float(row["ebitda_usd"])
    d_ebit = float(row["ebit_usd"] - row["disposal_gain_usd"])  # recurring EBIT only
    d_capex = float(d_month["capex_usd"].sum())
    npv_fcf = finance.npv(finance.monthly_rate(r), d_month["fcf_usd"].to_numpy())
    naive = d_ebitda * m
    reasons = []
    misleading = False
    if d_ebitda > 0 and d_capex > 0:
        misleading = True
        reasons.append(
            f"EBITDA rises by ${d_ebitda:,.0f} a year partly because {alternative} buys "
            f"${d_capex:,.0f} more hardware than {base}, which EBITDA never sees; "
            f"x{m:g} turns that into ${naive:,.0f} of 'value'")
    if naive > 0 > npv_fcf:
        misleading = True
        reasons.append(
            f"the multiple says +${naive:,.0f} but the discounted free cash flow says "
            f"-${-npv_fcf:,.0f}: the cash does not support the EBITDA story")
    return EnterpriseValue(
        base=base, alternative=alternative, run_rate_year=int(year),
        delta_ebitda_usd=d_ebitda, delta_ebit_usd=d_ebit, delta_capex_usd=d_capex,
        ebitda_multiple_usd=naive, ebit_multiple_usd=d_ebit * k, npv_fcf_usd=float(npv_fcf),
        ev_ebitda_multiple=m, ev_ebit_multiple=k, wacc=r, misleading=misleading,
        reasons=tuple(reasons))
