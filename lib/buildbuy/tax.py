"""Tax and after-tax free cash flow, with ONE depreciation schedule for everything.

Conventions (monthly arrays over months ``0..horizon``; a leading axis of Monte Carlo
draws broadcasts through every function):

- **The schedule.** Bought hardware depreciates straight line over ``life_months`` to a
  salvage value of :data:`BOOK_SALVAGE_SHARE` (zero) of its cost, from its first service
  month: the month of purchase for months >= 1, month 1 for a purchase in month 0 (before
  service starts). The same schedule gives book EBIT, the tax deduction, the net book value
  and the depreciation in a unit cost. (US tax law would allow 100% bonus depreciation for
  servers placed in service after 19 Jan 2025; using the book schedule for tax instead is
  conservative: it defers the tax saving. The lesson measures what that costs.)
- **Disposal.** In a disposal month every asset held is sold (after that month's
  depreciation); proceeds minus the net book value is a gain (or loss) in EBIT, taxed
  like any profit.
- **Tax.** ``tax = tax_rate x EBIT`` every month, negative when EBIT is negative: the
  company is assumed to have other taxable profit, so a loss on this project saves tax at
  the marginal rate (the usual convention for a project inside a profitable firm).
- **Free cash flow** (unlevered, no working capital)::

      FCF = EBITDA x (1 - t) + t x depreciation - capex + proceeds - t x gain

  i.e. ``EBITDA - tax - capex + proceeds``.

Examples
--------
A $1,200 server bought up front, a 12-month life, $300 a month of value against $100 of
running cost, 25% tax, over three months:

>>> import numpy as np
>>> r = after_tax(value=np.array([0, 300, 300, 300.]), costs=np.array([0, 100, 100, 100.]),
...               purchases=np.array([1200, 0, 0, 0.]), proceeds=np.zeros(4),
...               tax_rate=0.25, life_months=12)
>>> r.depreciation.tolist(), r.ebit.tolist(), r.fcf.tolist()
([0.0, 100.0, 100.0, 100.0], [0.0, 100.0, 100.0, 100.0], [-1200.0, 175.0, 175.0, 175.0])
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from buildbuy._validate import bad, choice, integer

__all__ = ["BOOK_SALVAGE_SHARE", "AfterTax", "after_tax", "depreciation"]

#: Book salvage value of hardware at the end of its life, share of cost: depreciated to zero.
BOOK_SALVAGE_SHARE: float = 0.0


@dataclass(frozen=True)
class AfterTax:
    """Monthly lines of one path (arrays, shape ``(..., months)``; USD).

    ``value`` and ``costs`` are positive; ``ebitda``, ``ebit`` and ``fcf`` are signed
    (positive = good); ``tax`` is tax paid (negative = saved); ``capex`` purchases,
    ``proceeds`` sales, ``gain`` disposal gain (negative = loss), ``nbv`` net book value
    at the end of each month.
    """

    value: np.ndarray
    costs: np.ndarray
    ebitda: np.ndarray
    depreciation: np.ndarray
    gain: np.ndarray
    ebit: np.ndarray
    tax: np.ndarray
    capex: np.ndarray
    proceeds: np.ndarray
    fcf: np.ndarray
    nbv: np.ndarray


@functools.lru_cache(maxsize=64)
def _schedule(n: int, life: int, disposals: tuple[int, ...]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Matrices over (purchase month p, month m): charging, months charged, held, sold."""
    for d in disposals:
        if not 0 <= d < n:
            raise bad("disposal_months", d, f"months from 0 to {n - 1}")
    charging = np.zeros((n, n))
    held = np.zeros((n, n))
    sold_at = np.full(n, -1)
    for p in range(n):
        start = max(p, 1)
        after = [d for d in disposals if d >= p]
        sold = after[0] if after else None
        stop = min(start + life, n if sold is None else sold + 1)
        if stop > start:
            charging[p, start:stop] = 1.0
        held[p, p:(n if sold is None else sold)] = 1.0
        if sold is not None:
            sold_at[p] = sold
    charged = np.cumsum(charging, axis=1)
    disposed = np.zeros((n, n))
    for p in range(n):
        if sold_at[p] >= 0:
            disposed[p, sold_at[p]] = 1.0
    return charging, charged * (held + disposed), held, disposed


def depreciation(purchases: Any, life_months: int, *, disposal_months: Iterable[int] = (),
                 salvage_share: float = BOOK_SALVAGE_SHARE
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The one schedule: ``(depreciation, net book value, book value sold)`` per month.

    Parameters
    ----------
    purchases : array_like
        Hardware bought per month (USD, >= 0), shape ``(..., months)``.
    life_months : int
        Book life, >= 1.
    disposal_months : iterable of int
        Months in which every asset held is sold.
    salvage_share : float
        Book value left at the end of the life, share of cost (default 0).

    Returns
    -------
    depreciation, nbv, sold_book_value : numpy.ndarray
        Charge per month, net book value at the end of each month (after any sale), and
        the net book value of what is sold in each disposal month.

    Examples
    --------
    >>> dep, nbv, sold = depreciation([1200, 0, 0, 0], 12, disposal_months=[3])
    >>> dep.tolist(), nbv.tolist(), sold.tolist()
    ([0.0, 100.0, 100.0, 100.0], [1200.0, 1100.0, 1000.0, 0.0], [0.0, 0.0, 0.0, 900.0])
    """
    buy = np.asarray(purchases, dtype=float)
    life = integer("life_months", life_months, minimum=1)
    n = buy.shape[-1]
    if not np.any(buy):
        zero = np.zeros(buy.shape)
        return zero, zero, zero
    charging, charged, held, disposed = _schedule(
        n, life, tuple(sorted({int(d) for d in disposal_months})))
    rate = (1.0 - salvage_share) / life
    dep = buy @ charging * rate
    # cost still on the books = cost - charges so far (subtracting keeps whole dollars whole)
    nbv = buy @ held - (buy @ (held * charged)) * rate
    sold = buy @ disposed - (buy @ (disposed * charged)) * rate
    return dep, nbv, sold


def after_tax(*, value: Any, costs: Any, purchases: Any, proceeds: Any, tax_rate: Any,
              life_months: int, disposal_months: Iterable[int] = (),
              salvage_share: float = BOOK_SALVAGE_SHARE,
              tax_depreciation: str = "book",
              schedule: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> AfterTax:
    """EBITDA, EBIT, tax and free cash flow of one path, month by month.

    Parameters
    ----------
    value : array_like
        Value created per month (USD, >= 0): revenue earned or cost avoided.
    costs : array_like
        Cash operating costs per month (USD, >= 0): API fees, rent, power, staff, drift.
    purchases, proceeds : array_like
        Hardware bought and sale proceeds per month (USD, >= 0).
    tax_rate : float or array_like
        Marginal tax rate in [0, 1] (may be an ``(n, 1)`` array of draws).
    life_months, disposal_months, salvage_share
        The schedule, as in :func:`depreciation`.
    tax_depreciation : {"book", "bonus"}
        ``"book"`` (the default, used everywhere in the course) deducts the book schedule;
        ``"bonus"`` deducts each purchase in full in its month (US 100% bonus
        depreciation) and taxes sale proceeds in full. Only to measure what the book
        convention costs: EBIT stays on the book schedule either way.
    schedule : tuple, optional
        A :func:`depreciation` result for these ``purchases`` (reused when two paths buy
        the same hardware, e.g. B and the hybrid).

    Returns
    -------
    AfterTax
    """
    v = np.asarray(value, dtype=float)
    c = np.asarray(costs, dtype=float)
    buy = np.asarray(purchases, dtype=float)
    sell = np.asarray(proceeds, dtype=float)
    t = np.asarray(tax_rate, dtype=float)
    if np.any(t < 0) or np.any(t > 1) or not np.all(np.isfinite(t)):
        raise bad("tax_rate", tax_rate, "a share from 0 to 1")
    dep, nbv, sold = schedule if schedule is not None else depreciation(
        buy, life_months, disposal_months=disposal_months, salvage_share=salvage_share)
    disposed = np.zeros(buy.shape[-1])
    disposed[list({int(d) for d in disposal_months})] = 1.0
    gain = (sell - sold) * disposed
    choice("tax_depreciation", tax_depreciation, ("book", "bonus"))
    ebitda = v - c
    ebit = ebitda - dep + gain
    tax = t * (ebit if tax_depreciation == "book" else ebitda - buy + sell * disposed)
    fcf = ebitda - tax - buy + sell
    return AfterTax(v, c, ebitda, dep, gain, ebit, tax, buy, sell, fcf, nbv)
