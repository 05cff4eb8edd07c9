"""Discounting, returns, payback and depreciation, with every convention stated.

The functions follow `numpy-financial <https://numpy.org/numpy-financial/>`_:

- **Timing.** ``cashflows[t]`` arrives at the *end* of period ``t``; ``cashflows[0]`` is
  at time 0 and is not discounted. A period is whatever the rate is quoted per: pass a
  monthly rate with monthly flows (see :func:`monthly_rate`).
- **Signs.** Money out is negative, money in is positive. For a cost comparison pass the
  savings (cost of A minus cost of B), or the costs themselves and read the sign.
- **Rates** are decimal fractions per period (``0.09`` is 9 %). A rate of -100 % or less
  makes the discount factor ``1 / (1 + rate) ** t`` undefined or negative, so it is an
  error, as is any NaN or infinite input.

Monthly from annual. :func:`monthly_rate` uses the *effective* (compound) convention,
``(1 + r) ** (1 / 12) - 1``, so that twelve months of discounting equal one year. Dividing
by twelve (``r / 12``) treats ``r`` as a nominal APR compounded monthly instead: at 9 % a
year the two differ by 0.029 percentage points a month (0.7207 % against 0.75 %), and
the ``r / 12`` version values a level 36-month stream 0.5 % lower.

>>> round(npv(0.10, [-100, 39, 59, 55, 20]), 3)
39.197
>>> round(npv(0.10, [-100, 39, 59, 55, 20], convention="excel"), 3)
35.634
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from buildbuy._validate import bad, choice, finite, finite_array, integer, non_negative, positive

__all__ = [
    "annualised_capital_charge",
    "capital_recovery_factor",
    "discount_factors",
    "irr",
    "irr_roots",
    "mirr",
    "monthly_rate",
    "net_book_value",
    "npv",
    "payback_period",
    "paybacks",
    "straight_line_depreciation",
]

Convention = Literal["numpy", "excel"]
_CONVENTIONS = ("numpy", "excel")


def _rate(name: str, value: object) -> float:
    """A finite per-period rate strictly above -100 %."""
    r = finite(name, value)
    if r <= -1.0:
        raise bad(name, value, "a rate > -1 (above -100 % per period)")
    return r


def _rates(name: str, value: object) -> np.ndarray:
    """Scalar or array of per-period rates, each finite and above -100 %."""
    if np.ndim(value) == 0:
        return np.asarray(_rate(name, value if not isinstance(value, np.ndarray) else value.item()))
    arr = finite_array(name, value)
    if np.any(arr <= -1.0):
        worst = float(arr.min())
        raise bad(name, f"<array with min {worst!r}>", "rates > -1 (above -100 % per period)")
    return arr


def monthly_rate(annual_rate: float) -> float:
    """Effective monthly rate equivalent to an effective annual rate.

    Convention: compound, ``(1 + annual_rate) ** (1 / 12) - 1``, so that discounting
    twelve months at the monthly rate equals discounting one year at the annual rate.

    Parameters
    ----------
    annual_rate : float
        Effective annual rate as a fraction (0.09 for 9 %); must be > -1.

    Returns
    -------
    float
        The monthly rate.

    Examples
    --------
    >>> round(monthly_rate(0.09), 6)
    0.007207
    >>> round((1 + monthly_rate(0.09)) ** 12 - 1, 12)
    0.09
    """
    r = _rate("annual_rate", annual_rate)
    return float((1.0 + r) ** (1.0 / 12.0) - 1.0)


def discount_factors(rate: float, n_periods: int) -> np.ndarray:
    """Discount factors ``1 / (1 + rate) ** t`` for ``t = 0 .. n_periods - 1``.

    Examples
    --------
    >>> discount_factors(0.10, 3).round(4).tolist()
    [1.0, 0.9091, 0.8264]
    """
    r = _rate("rate", rate)
    n = integer("n_periods", n_periods, minimum=1)
    return (1.0 + r) ** -np.arange(n, dtype=float)


def npv(rate: float | np.ndarray, cashflows: object, *,
        convention: Convention = "numpy") -> float | np.ndarray:
    """Net present value of evenly spaced cash flows.

    ``NPV = sum_t cashflows[t] / (1 + rate) ** t`` for ``t = 0 .. T``.

    Convention ``"numpy"`` (default, as ``numpy_financial.npv`` and ``pyxirr.npv``): the
    first flow is at time 0 and is not discounted. Convention ``"excel"`` (as Excel's
    ``NPV``): the first flow is one period away, so every flow is discounted one more
    period and the result is the numpy value divided by ``1 + rate``.

    Parameters
    ----------
    rate : float or array
        Discount rate per period, > -1. An array must broadcast against
        ``cashflows.shape[:-1]`` (one rate per row of a 2-D ``cashflows``).
    cashflows : array_like
        The flows, time along the last axis. A 2-D array gives one NPV per row, which
        is how a Monte Carlo of many cash-flow paths is discounted in one call.
    convention : {"numpy", "excel"}
        Where the first flow sits (see above).

    Returns
    -------
    float or numpy.ndarray
        A float for 1-D ``cashflows``, else an array of shape ``cashflows.shape[:-1]``.

    Raises
    ------
    ValueError
        If a rate is <= -1 or not finite, a flow is not finite, or the convention is unknown.

    Examples
    --------
    The numpy-financial documentation's case and its Excel twin:

    >>> round(npv(0.10, [-100, 39, 59, 55, 20]), 3)
    39.197
    >>> round(npv(0.10, [-100, 39, 59, 55, 20], convention="excel"), 3)
    35.634

    One NPV per path:

    >>> npv(0.0, [[1, 2], [3, 4]]).tolist()
    [3.0, 7.0]
    """
    choice("convention", convention, _CONVENTIONS)
    cf = finite_array("cashflows", cashflows)
    if cf.ndim == 0:
        raise bad("cashflows", cashflows, "an array of flows, one per period")
    r = _rates("rate", rate)
    t = np.arange(cf.shape[-1], dtype=float)
    if convention == "excel":
        t = t + 1.0
    if r.ndim == 0:  # one rate: a dot product with the discount factors
        value = cf @ (1.0 + float(r)) ** -t
        return float(value) if np.ndim(value) == 0 else value
    r_b = r[..., None]
    try:
        value = np.sum(cf * (1.0 + r_b) ** -t, axis=-1)
    except ValueError:
        raise bad("rate", f"<array of shape {r.shape}>",
                  f"a scalar or an array matching cashflows.shape[:-1] = {cf.shape[:-1]}"
                  ) from None
    return float(value) if np.ndim(value) == 0 else value


def _sign_changes(cf: np.ndarray) -> int:
    s = np.sign(cf[cf != 0])
    return int(np.count_nonzero(s[1:] != s[:-1]))


def irr_roots(cashflows: object) -> np.ndarray:
    """Every real rate ``r > -1`` at which the NPV of ``cashflows`` is zero, ascending.

    The NPV is a polynomial in ``x = 1 / (1 + r)``; its real positive roots are found
    with :func:`numpy.roots` and polished with Newton steps on the NPV itself. By
    Descartes' rule of signs there are at most as many roots as sign changes in the
    flows, and exactly one when the flows change sign once ("conventional" flows).

    Examples
    --------
    A hardware refresh makes two roots (numpy-financial issue #28):

    >>> (irr_roots([-50, -100, 600, 300, -100]) * 100).round(2).tolist()
    [-76.89, 185.44]
    """
    cf = finite_array("cashflows", cashflows, ndim=1, min_size=2)
    if _sign_changes(cf) == 0:
        raise bad("cashflows", _short(cf),
                  "flows that change sign at least once (an outflow and an inflow); "
                  "with no sign change no rate makes the NPV zero, so the IRR does not exist")
    # sum_t cf[t] x**t = 0 ; numpy.roots wants the highest power first.
    x = np.roots(cf[::-1])
    x = x[np.abs(x.imag) <= 1e-8 * np.maximum(1.0, np.abs(x))].real
    x = x[x > 0]
    t = np.arange(cf.size, dtype=float)
    roots = []
    for xi in x:
        for _ in range(50):  # Newton polish on f(x) = sum cf x^t
            f = np.sum(cf * xi ** t)
            df = np.sum(t[1:] * cf[1:] * xi ** (t[1:] - 1))
            if df == 0:
                break
            step = f / df
            xi = xi - step
            if abs(step) <= 1e-15 * max(1.0, abs(xi)):
                break
        if xi > 0:
            roots.append(1.0 / xi - 1.0)
    out = np.sort(np.array(roots, dtype=float))
    if out.size > 1:  # a double root can come back twice from numpy.roots
        keep = np.concatenate([[True], np.diff(out) > 1e-9 * np.maximum(1.0, np.abs(out[1:]))])
        out = out[keep]
    return out


def irr(cashflows: object, *,
        multiple_roots: Literal["smallest_non_negative", "raise"] = "smallest_non_negative",
        ) -> float:
    """Internal rate of return: the per-period rate at which the NPV is zero.

    Conventional flows (one sign change, e.g. pay first, save later) have exactly one
    IRR above -100 %; it is returned, and it equals ``numpy_financial.irr``.

    Flows that change sign more than once (a mid-life hardware refresh, a decommissioning
    cost) can have several IRRs, and none of them is "the" return. With
    ``multiple_roots="smallest_non_negative"`` (default) the smallest root >= 0 is
    returned, else the negative root closest to zero: this is the rule of
    numpy-financial 1.1's default selection, and it differs from numpy-financial 1.0,
    which returns the root closest to zero whatever its sign. With ``"raise"`` a
    ``ValueError`` lists all roots. Either way, :func:`irr_roots` shows them all, and
    :func:`mirr` or :func:`npv` gives one unambiguous answer.

    Parameters
    ----------
    cashflows : array_like
        1-D flows, ``cashflows[0]`` at time 0, at least one sign change.
    multiple_roots : {"smallest_non_negative", "raise"}
        What to do when there is more than one root.

    Returns
    -------
    float
        The IRR per period (monthly flows give a monthly IRR; annualise with
        ``(1 + irr) ** 12 - 1``).

    Raises
    ------
    ValueError
        If the flows never change sign (no IRR exists), if no real root above -100 %
        exists, or if there are several roots and ``multiple_roots="raise"``.

    Examples
    --------
    >>> round(irr([-100, 39, 59, 55, 20]), 5)
    0.28095
    >>> round(irr([-50, -100, 600, 300, -100]), 4)
    1.8544
    """
    choice("multiple_roots", multiple_roots, ("smallest_non_negative", "raise"))
    roots = irr_roots(cashflows)
    if roots.size == 0:
        raise bad("cashflows", _short(np.asarray(cashflows, dtype=float)),
                  "flows whose NPV crosses zero at some rate above -100 % (none found)")
    if roots.size == 1:
        return float(roots[0])
    if multiple_roots == "raise":
        listed = ", ".join(f"{r:.6g}" for r in roots)
        raise bad("cashflows", _short(np.asarray(cashflows, dtype=float)),
                  f"flows with a single IRR; these have {roots.size} ({listed}): "
                  "use mirr() or npv() instead")
    non_neg = roots[roots >= 0]
    if non_neg.size:
        return float(non_neg.min())
    return float(roots.max())


def mirr(cashflows: object, finance_rate: float, reinvest_rate: float) -> float:
    """Modified internal rate of return.

    Outflows are discounted to time 0 at ``finance_rate``; inflows are compounded to the
    last period ``T`` at ``reinvest_rate``; MIRR is the rate that grows the first into the
    second over ``T`` periods::

        MIRR = (FV(inflows, reinvest_rate) / -PV(outflows, finance_rate)) ** (1 / T) - 1

    Same formula as ``numpy_financial.mirr`` and Excel's ``MIRR``. Unlike the IRR it
    always has one value, so use it when the flows change sign more than once.

    Parameters
    ----------
    cashflows : array_like
        1-D flows, ``cashflows[0]`` at time 0; at least one outflow and one inflow.
    finance_rate : float
        Rate paid on the money invested (the outflows), per period, > -1.
    reinvest_rate : float
        Rate earned on the money returned (the inflows), per period, > -1.

    Examples
    --------
    >>> round(mirr([-4500, -800, 800, 800, 600, 600, 800, 800, 700, 3000], 0.08, 0.055), 5)
    0.0666
    """
    cf = finite_array("cashflows", cashflows, ndim=1, min_size=2)
    fr = _rate("finance_rate", finance_rate)
    rr = _rate("reinvest_rate", reinvest_rate)
    if not (np.any(cf > 0) and np.any(cf < 0)):
        raise bad("cashflows", _short(cf),
                  "flows with at least one outflow (< 0) and one inflow (> 0)")
    n_periods = cf.size - 1
    t = np.arange(cf.size, dtype=float)
    fv_in = float(np.sum(np.where(cf > 0, cf, 0.0) * (1.0 + rr) ** (n_periods - t)))
    pv_out = float(-np.sum(np.where(cf < 0, cf, 0.0) * (1.0 + fr) ** -t))
    return float((fv_in / pv_out) ** (1.0 / n_periods) - 1.0)


def payback_period(cashflows: object, rate: float | None = None) -> float | None:
    """Periods until the cumulative flows are paid back, interpolated within a period.

    Simple payback (``rate=None``) accumulates the flows as they are; discounted payback
    accumulates ``cashflows[t] / (1 + rate) ** t``. Payback is the moment the cumulative
    sum reaches zero *for good*: after the last period ``k`` whose cumulative is still
    negative, the next flow is assumed to arrive evenly during period ``k + 1``, so::

        payback = k + (-cumulative[k]) / flow[k + 1]

    Conventions: ``cashflows[0]`` is at time 0; if the cumulative is never negative the
    payback is ``0.0``; if it is negative at the last period the investment is not paid
    back within the horizon and the result is ``None``. A cumulative that turns positive
    and then negative again (a refresh) is not paid back until its last recovery. A
    cumulative within ``1e-12`` of the total absolute flow counts as zero (float noise).
    Neither version looks past the payback point: always show the NPV beside it.

    Parameters
    ----------
    cashflows : array_like
        1-D flows, negative = out, positive = in (e.g. monthly savings of B over A).
    rate : float, optional
        Per-period discount rate (> -1) for discounted payback.

    Returns
    -------
    float or None
        Payback in periods (months for monthly flows), or ``None`` if never paid back.

    Examples
    --------
    Pay 100, get back 30 a period: the cumulative is -10 after period 3, and period 4
    brings 30, so a third of period 4 is needed.

    >>> round(payback_period([-100, 30, 30, 30, 30]), 4)
    3.3333
    >>> round(payback_period([-100, 30, 30, 30, 30], rate=0.01), 4)
    3.4083
    >>> payback_period([-100, 30, 30]) is None
    True
    """
    cf = finite_array("cashflows", cashflows, ndim=1)
    flows = cf if rate is None else cf * (1.0 + _rate("rate", rate)) ** -np.arange(cf.size)
    cum = np.cumsum(flows)
    # Rounding noise: a cumulative within 1e-12 of the total flow volume counts as zero.
    tol = 1e-12 * float(np.abs(flows).sum())
    if cum[-1] < -tol:
        return None
    negative = np.flatnonzero(cum < -tol)
    if negative.size == 0:
        return 0.0
    k = int(negative[-1])
    return float(k + (-cum[k]) / flows[k + 1])


def paybacks(cashflows: object, rate: float) -> tuple[float | None, float | None]:
    """Simple and discounted payback of the same flows, made consistent.

    Discounting shrinks later flows, so for an investment (money out first, in later) the
    discounted payback comes no earlier than the simple one, and never exists when the
    simple one does not. Flows that change sign several times can break that: if the
    undiscounted savings turn negative again late in the horizon, discounting shrinks the
    late losses and the discounted cumulative can end above zero while the simple one ends
    below (a 120-month horizon where the API gets cheaper than owned hardware in the last
    years does this). That is not a payback. So:

    - ``discounted`` is ``None`` whenever ``simple`` is ``None``;
    - otherwise ``discounted = max(discounted, simple)`` (``None`` stays ``None``).

    Parameters
    ----------
    cashflows : array_like
        1-D flows (e.g. monthly after-tax FCF of B minus A), ``cashflows[0]`` at time 0.
    rate : float
        Per-period discount rate (> -1).

    Returns
    -------
    (simple, discounted) : float or None
        As :func:`payback_period`, with the two rules above.

    Examples
    --------
    >>> [round(x, 4) for x in paybacks([-100, 30, 30, 30, 30], 0.01)]
    [3.3333, 3.4083]
    >>> paybacks([10, 10, -25], 0.5)  # ends below zero undiscounted: no payback at all
    (None, None)
    """
    simple = payback_period(cashflows)
    discounted = payback_period(cashflows, rate=rate)
    if simple is None or discounted is None:
        return simple, None
    return simple, max(simple, discounted)


def straight_line_depreciation(cost_usd: float, life_periods: int, *,
                               salvage_usd: float = 0.0,
                               horizon_periods: int | None = None) -> np.ndarray:
    """Depreciation charge per period, straight line, for periods ``1 .. horizon``.

    Each of the first ``life_periods`` periods carries ``(cost - salvage) / life``; later
    periods carry nothing. The asset is assumed in service from the start of period 1
    (full charge in the first period, no half-period rule). Periods are whatever
    ``life_periods`` counts: months in this workbook.

    Parameters
    ----------
    cost_usd : float
        Purchase cost, >= 0.
    life_periods : int
        Useful (book) life in periods, >= 1.
    salvage_usd : float
        Expected residual value at the end of the life, 0 <= salvage <= cost.
    horizon_periods : int, optional
        Length of the returned array (default: ``life_periods``). A horizon shorter
        than the life leaves a net book value: see :func:`net_book_value`.

    Returns
    -------
    numpy.ndarray
        Charge per period; element ``i`` is period ``i + 1``.

    Examples
    --------
    A $300k server over 60 months with $60k salvage, seen over a 36-month horizon:
    $4,000 a month, $144k in total, leaving $156k on the books.

    >>> d = straight_line_depreciation(300_000, 60, salvage_usd=60_000, horizon_periods=36)
    >>> float(d[0]), float(d.sum())
    (4000.0, 144000.0)
    """
    cost, life, salvage = _asset(cost_usd, life_periods, salvage_usd)
    horizon = (life if horizon_periods is None
               else integer("horizon_periods", horizon_periods, minimum=1))
    charge = np.zeros(horizon, dtype=float)
    charge[:min(life, horizon)] = (cost - salvage) / life
    return charge


def net_book_value(cost_usd: float, life_periods: int, elapsed_periods: float, *,
                   salvage_usd: float = 0.0) -> float:
    """Book value after ``elapsed_periods`` of straight-line depreciation.

    ``cost - (cost - salvage) * min(elapsed, life) / life``: it falls linearly to the
    salvage value at the end of the life and stays there.

    Examples
    --------
    >>> net_book_value(300_000, 60, 36, salvage_usd=60_000)
    156000.0
    >>> net_book_value(300_000, 36, 48)
    0.0
    """
    cost, life, salvage = _asset(cost_usd, life_periods, salvage_usd)
    elapsed = non_negative("elapsed_periods", elapsed_periods)
    return float(cost - (cost - salvage) * min(elapsed, life) / life)


def capital_recovery_factor(rate: float, n: float) -> float:
    """Capital recovery factor: the level payment per period that repays 1 over ``n`` periods.

    ``CRF(r, n) = r (1 + r)**n / ((1 + r)**n - 1)``, and ``1 / n`` at ``r = 0`` (its limit).
    It is the annuity factor's inverse: ``capex * CRF`` is the level charge whose present
    value at ``r`` equals ``capex``. Equals ``-numpy_financial.pmt(r, n, 1)``.

    Parameters
    ----------
    rate : float
        Rate per period, > -1.
    n : float
        Number of periods, > 0.

    Examples
    --------
    >>> round(capital_recovery_factor(0.09, 3), 4)
    0.3951
    >>> capital_recovery_factor(0.0, 4)
    0.25
    """
    r = _rate("rate", rate)
    periods = positive("n", n)
    if r == 0.0:
        return 1.0 / periods
    g = (1.0 + r) ** periods
    return float(r * g / (g - 1.0))


def annualised_capital_charge(capex_usd: float, rate: float, n: float, *,
                              salvage_usd: float = 0.0) -> float:
    """Level charge per period that recovers ``capex`` and the cost of capital over ``n``.

    ``(capex - salvage / (1 + r)**n) * CRF(r, n)``: the salvage at the end is worth its
    present value today, and the rest is spread as an annuity. Compared with straight-line
    depreciation ``(capex - salvage) / n`` it adds the return the capital could have
    earned. Pass a yearly rate and ``n`` in years for an annual charge, or monthly ones.

    Examples
    --------
    A $300k server over 3 years at 9 %: $118.5k a year, against $100k straight line
    (capital recovery factor 0.39505 x $300k).

    >>> round(annualised_capital_charge(300_000, 0.09, 3))
    118516
    """
    capex = non_negative("capex_usd", capex_usd)
    salvage = non_negative("salvage_usd", salvage_usd)
    r = _rate("rate", rate)
    periods = positive("n", n)
    return float((capex - salvage / (1.0 + r) ** periods) * capital_recovery_factor(r, periods))


def _asset(cost_usd: object, life_periods: object, salvage_usd: object) -> tuple[float, int, float]:
    cost = non_negative("cost_usd", cost_usd)
    life = integer("life_periods", life_periods, minimum=1)
    salvage = non_negative("salvage_usd", salvage_usd)
    if salvage > cost:
        raise bad("salvage_usd", salvage_usd, f"between 0 and cost_usd={cost!r}")
    return cost, life, salvage


def _short(arr: np.ndarray) -> str:
    text = np.array2string(np.asarray(arr), separator=", ", threshold=8, edgeitems=3)
    return text if len(text) <= 60 else text[:57] + "..."
