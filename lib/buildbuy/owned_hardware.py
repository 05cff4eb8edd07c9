"""Owned servers after the purchase: colocation tiers and the used-market resale value.

Colocation
----------
Data centres price space and power per kW of provisioned capacity, and the price depends
on the size of the deal. *Wholesale* deals (a suite or hall, hundreds of kW, multi-year
leases) are the cheapest per kW; a tenant with a few racks buys *retail* colocation,
cabinet by cabinet, and pays more. :func:`colo_usd_per_kw_month` picks the tier by the
kW one site contracts: wholesale from ``colo_wholesale_min_kw`` up, retail below.

Resale
------
Used GPU servers lose value fast as newer generations arrive. The model takes a
geometric curve: a server sells for ``(1 - resale_decline_per_year) ** age_years`` of
its price, age counted from purchase to sale (:func:`resale_share`). At the default
decline of 0.36 a year that is 64%, 41%, 26%, 17% and 11% after one to five years,
inside every range of the used-H100 residual values the default's source reports
(60-65%, 40-45%, 25-35%, 15-20%, 10-15%).

Examples
--------
>>> colo_usd_per_kw_month(20.4, retail=275.0, wholesale=184.06, wholesale_min_kw=250.0)
275.0
>>> round(float(resale_share(3.0, 0.36)), 4)
0.2621
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["colo_usd_per_kw_month", "resale_share"]


def colo_usd_per_kw_month(site_kw: Any, *, retail: Any, wholesale: Any,
                          wholesale_min_kw: Any) -> Any:
    """Colocation rate per kW-month for a site contracting ``site_kw`` (elementwise).

    Wholesale when ``site_kw >= wholesale_min_kw``, else retail.

    Examples
    --------
    >>> colo_usd_per_kw_month(300.0, retail=275.0, wholesale=184.06, wholesale_min_kw=250.0)
    184.06
    """
    kw = np.asarray(site_kw, dtype=float)
    out = np.where(kw >= wholesale_min_kw, wholesale, retail)
    return float(out) if out.ndim == 0 else out


def resale_share(age_years: Any, decline_per_year: Any) -> np.ndarray:
    """Share of its price a server fetches at ``age_years``: ``(1 - decline) ** age``.

    Examples
    --------
    >>> [round(float(resale_share(a, 0.36)), 3) for a in (1, 2, 4, 5)]
    [0.64, 0.41, 0.168, 0.107]
    """
    return (1.0 - np.asarray(decline_per_year, dtype=float)) ** np.asarray(age_years,
                                                                          dtype=float)
