"""GPU scarcity: how long owned GPU servers take to arrive, and when B can go live.

Owned servers are ordered when the decision is taken, in parallel with the build (the
fine-tuning, the serving stack, the reviews). Scenario B serves its first request in the
month after whichever finishes last:

.. math:: \\text{months before B serves} = \\max(\\text{months\\_to\\_production},
          \\text{gpu\\_lead\\_time\\_months})

for ``hosting="owned"``; rented cloud GPUs are taken as available at once, so only the
build counts. :func:`months_to_production_b` is the one place the model reads B's go-live
from. ``data/gpu_lead_times.csv`` holds published lead times (weeks, with sources and
dates); :func:`lead_time_months` turns weeks into whole months of the model
(52 weeks = 12 months, rounded up: a server that arrives mid-month serves from the next).

Examples
--------
>>> lead_time_months(39)
9
>>> from buildbuy import scenarios
>>> S = scenarios.load("bank_support", months_to_production=6, gpu_lead_time_months=9)
>>> months_to_production_b(S)
9
>>> months_to_production_b(S.replace(hosting="cloud_on_demand"))
6
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from buildbuy import data
from buildbuy._validate import non_negative

__all__ = ["WEEKS_PER_MONTH", "lead_time_months", "lead_times", "months_to_production_b"]

#: 52 weeks / 12 months.
WEEKS_PER_MONTH: float = 52.0 / 12.0


def lead_time_months(weeks: float) -> int:
    """Whole months of the model for a lead time of ``weeks`` (rounded up).

    Parameters
    ----------
    weeks : float
        Lead time in weeks, >= 0.

    Examples
    --------
    >>> lead_time_months(0), lead_time_months(12), lead_time_months(13), lead_time_months(52)
    (0, 3, 3, 12)
    """
    w = non_negative("weeks", weeks)
    return math.ceil(w / WEEKS_PER_MONTH - 1e-9)


def months_to_production_b(S: Any) -> int:
    """Months before Scenario B serves: the build, or the owned servers' lead time if longer.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> S = scenarios.load("bank_support")
    >>> months_to_production_b(S) == max(S.months_to_production, S.gpu_lead_time_months)
    True
    """
    build = int(S.months_to_production)
    if S.hosting != "owned":
        return build
    return max(build, int(S.gpu_lead_time_months))


def lead_times() -> pd.DataFrame:
    """Published GPU server lead times with their months in the model.

    Returns the rows of ``data/gpu_lead_times.csv`` (``market``, ``lead_time_weeks_low``,
    ``lead_time_weeks_high``, ``source``, ``as_of``), oldest first, plus
    ``lead_time_months`` (the high end, rounded up to whole months).

    Examples
    --------
    >>> t = lead_times()
    >>> int(t["lead_time_months"].max()), int(t["lead_time_months"].min())
    (12, 3)
    """
    t = data.load_table("gpu_lead_times").sort_values("as_of", kind="stable")
    t["lead_time_months"] = [lead_time_months(w) for w in t["lead_time_weeks_high"]]
    return t.reset_index(drop=True)
