"""Who keeps a self-hosted model running: the on-call rotation's minimum headcount.

A service that must be answered when it breaks needs an on-call rotation, and a rotation
has a minimum size whatever the fleet. The basis is Google's *Site Reliability
Engineering* book (Beyer, Jones, Petoff and Murphy, O'Reilly 2016), chapter 11 "Being
On-Call" (sre.google/sre-book/being-on-call):

- two engineers are on call at once (a primary and a secondary);
- an engineer spends at most 25% of their time on call;
- so a single-site team covering 24x7 needs at least eight engineers (one week on call
  in four, primary and secondary), as the chapter states.

:func:`min_on_call_headcount` applies the same rule to the hours a week the coverage
spans: ``ceil(2 x coverage_hours_per_week / (0.25 x 168))``, which gives the book's 8 for
24x7 and 3 for business hours (10 hours x 5 days, an illustrative working day).
Self-hosting (Scenario B) runs this rotation from its ML engineers and MLOps engineers;
:mod:`buildbuy.tco` adds MLOps staff when they are fewer than the minimum. The API path
(Scenario A) leaves the model's on-call to the vendor.

Examples
--------
>>> [min_on_call_headcount(c) for c in COVERAGES]
[0, 3, 8]
"""

from __future__ import annotations

import math

from buildbuy._validate import bad

__all__ = ["COVERAGES", "COVERAGE_HOURS_PER_WEEK", "MAX_ON_CALL_SHARE", "ON_CALL_AT_ONCE",
           "min_on_call_headcount"]

#: Coverage choices for ``on_call_coverage``.
COVERAGES: tuple[str, ...] = ("none", "business_hours", "24x7")
#: Hours a week each coverage spans (business hours: 10 h x 5 days, illustrative).
COVERAGE_HOURS_PER_WEEK: dict[str, float] = {"none": 0.0, "business_hours": 50.0,
                                             "24x7": 168.0}
#: Engineers on call at once: a primary and a secondary (SRE book, ch. 11).
ON_CALL_AT_ONCE: int = 2
#: Most of an engineer's time spent on call (SRE book, ch. 11: "no more than 25%").
MAX_ON_CALL_SHARE: float = 0.25
_HOURS_PER_WEEK = 168.0


def min_on_call_headcount(coverage: str) -> int:
    """Fewest engineers in a rotation that covers ``coverage`` within the 25% cap.

    Examples
    --------
    >>> min_on_call_headcount("24x7")   # 2 x 168 / (0.25 x 168): the SRE book's 8
    8
    """
    if coverage not in COVERAGE_HOURS_PER_WEEK:
        raise bad("on_call_coverage", coverage,
                  "one of " + ", ".join(repr(c) for c in COVERAGES))
    need = ON_CALL_AT_ONCE * COVERAGE_HOURS_PER_WEEK[coverage] / (MAX_ON_CALL_SHARE
                                                                  * _HOURS_PER_WEEK)
    return math.ceil(need - 1e-9)
