"""SLA negotiation calculator: what a vendor's service credits are worth against downtime.

A cloud SLA does not pay for an outage. It refunds a share of *that month's bill for the
service* when the measured availability falls below a threshold. The business, though,
loses money for every hour it is down. This module puts the two side by side:

- **Credit schedule** (:class:`CreditSchedule`): tiers "availability below x -> credit y
  of the monthly bill". The lowest tier the month falls below applies; thresholds are
  strict ("less than 99.9 %"), as in the published AWS and Google SLAs.
- **Availability distribution**: the monthly availability is uncertain. Pass a frozen
  ``scipy.stats`` distribution on [0, 1] (a beta, see :func:`beta_availability`), or
  an array of observed monthly availabilities, each taken as equally likely (the
  empirical distribution). A latency SLO works the same way with the monthly share of
  requests meeting the latency target (:func:`latency_attainment`).
- **Downtime cost**: expected hours down a month x the business cost of an hour down.
  A month is ``730`` hours by default (8,760 / 12, a 365-day year).

Everything is an expectation over the distribution; the credit is computed on the
schedule's exact steps (no smoothing). For a continuous distribution "<" and "<=" are
the same; for an empirical list a month exactly on a threshold earns the higher tier's
(smaller) credit, as the contracts say.

>>> month = [0.9995, 0.998, 0.985]
>>> round(expected_credit_share(AWS_BEDROCK, month), 4)  # (0 + 0.10 + 0.25) / 3
0.1167
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from buildbuy._validate import bad, finite_array, non_negative, positive, share
from buildbuy.costs import HOURS_PER_MONTH  # 8,760 / 12: one month convention for the course

__all__ = [
    "AWS_BEDROCK",
    "HOURS_PER_MONTH",
    "VERTEX_GEMINI",
    "CreditSchedule",
    "SlaOutcome",
    "beta_availability",
    "breach_probability",
    "compare",
    "credit_share",
    "evaluate",
    "expected_credit_share",
    "expected_downtime_hours",
    "latency_attainment",
    "two_site_availability",
]


@dataclass(frozen=True)
class CreditSchedule:
    """Service-credit tiers of an SLA, with where they come from.

    ``tiers`` holds ``(threshold_share, credit_share)`` pairs: a month whose availability
    is *below* ``threshold_share`` earns at least ``credit_share`` of that month's bill for
    the service. The first (highest) threshold is the SLO.

    Examples
    --------
    >>> s = CreditSchedule("demo", ((0.999, 0.1), (0.99, 0.25)), "example", "2026-11-27")
    >>> s.slo
    0.999
    """

    name: str
    tiers: tuple[tuple[float, float], ...]
    source: str
    as_of: str

    def __post_init__(self) -> None:
        if not self.tiers:
            raise bad("tiers", self.tiers, "at least one (threshold_share, credit_share) pair")
        thresholds = [share("tiers threshold", t) for t, _ in self.tiers]
        credits = [non_negative("tiers credit", c) for _, c in self.tiers]
        if any(b >= a for a, b in pairwise(thresholds)):
            raise bad("tiers", self.tiers, "thresholds in strictly decreasing order")
        if any(b < a for a, b in pairwise(credits)):
            raise bad("tiers", self.tiers, "credits that never fall as availability falls")

    @property
    def slo(self) -> float:
        """The availability the vendor commits to (the highest threshold)."""
        return float(self.tiers[0][0])


AWS_BEDROCK = CreditSchedule(
    "Amazon Bedrock",
    ((0.999, 0.10), (0.99, 0.25), (0.95, 1.00)),
    "Amazon Bedrock Service Level Agreement, aws.amazon.com/bedrock/sla, "
    "last updated 4 Oct 2023 [P]: <99.9% and >=99.0% -> 10%, <99.0% and >=95.0% -> 25%, "
    "<95.0% -> 100% of the month's Bedrock charges in the region",
    "2023-10-04")

VERTEX_GEMINI = CreditSchedule(
    "Google Vertex AI Gemini online inference",
    ((0.995, 0.10), (0.99, 0.25), (0.95, 0.50)),
    "SLO 99.5% for generateContent/streamGenerateContent online inference: "
    "cloud.google.com/vertex-ai/generative-ai/sla [P]; credit tiers 10/25/50% as "
    "transcribed by sla.directory/vendors/gemini [S, verify on the Google page]",
    "2026-11")


# --------------------------------------------------------------------------- inputs


def _is_dist(availability: Any) -> bool:
    return hasattr(availability, "cdf") and hasattr(availability, "mean") \
        and hasattr(availability, "support")


def _availability(availability: Any) -> Any:
    """A frozen distribution on [0, 1] or a 1-D array of shares; raise otherwise."""
    if _is_dist(availability):
        lo, hi = (float(x) for x in availability.support())
        if lo < 0.0 or hi > 1.0:
            raise bad("availability", f"<distribution on [{lo:g}, {hi:g}]>",
                      "a distribution on [0, 1] (availability is a share)")
        return availability
    arr = finite_array("availability", availability)
    arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise bad("availability", f"<array of shape {arr.shape}>", "a 1-D list of monthly shares")
    if np.any((arr < 0) | (arr > 1)):
        worst = float(arr[(arr < 0) | (arr > 1)][0])
        raise bad("availability", worst, "monthly availabilities between 0 and 1 (0.999 = 99.9%)")
    return arr


def _prob_below(availability: Any, threshold: float) -> float:
    if _is_dist(availability):
        return float(availability.cdf(threshold))
    return float(np.mean(availability < threshold))


def _mean(availability: Any) -> float:
    return float(availability.mean()) if _is_dist(availability) else float(np.mean(availability))


def beta_availability(mean: float, sd: float) -> Any:
    """A beta distribution of monthly availability with the given mean and standard deviation.

    Method of moments: with ``k = mean (1 - mean) / sd**2 - 1``, ``a = mean k`` and
    ``b = (1 - mean) k``. Needs ``0 < sd**2 < mean (1 - mean)``.

    Parameters
    ----------
    mean : float
        Expected monthly availability, strictly between 0 and 1 (0.999 = "three nines").
    sd : float
        Standard deviation of the monthly availability, > 0.

    Returns
    -------
    scipy.stats frozen ``beta``.

    Examples
    --------
    >>> d = beta_availability(0.999, 0.001)
    >>> round(float(d.mean()), 6), round(float(d.std()), 6)
    (0.999, 0.001)
    """
    m = share("mean", mean)
    if m in (0.0, 1.0):
        raise bad("mean", mean, "a share strictly between 0 and 1")
    s = positive("sd", sd)
    if s * s >= m * (1.0 - m):
        raise bad("sd", sd, f"< sqrt(mean (1 - mean)) = {np.sqrt(m * (1 - m)):.6g}")
    k = m * (1.0 - m) / (s * s) - 1.0
    return stats.beta(m * k, (1.0 - m) * k)


def latency_attainment(latency_ms: Any, target_ms: float) -> float:
    """Share of requests at or under ``target_ms``: the quantity a latency SLO measures.

    ``latency_ms`` is either observed request latencies (an array) or a frozen
    ``scipy.stats`` distribution of latency (then the share is ``cdf(target_ms)``).

    Examples
    --------
    >>> latency_attainment([100, 200, 300, 400], 250)
    0.5
    """
    target = positive("target_ms", target_ms)
    if _is_dist(latency_ms):
        return float(latency_ms.cdf(target))
    arr = finite_array("latency_ms", latency_ms, ndim=1)
    if np.any(arr < 0):
        raise bad("latency_ms", float(arr[arr < 0][0]), "latencies >= 0 ms")
    return float(np.mean(arr <= target))


def two_site_availability(one_site: float) -> float:
    """Availability of two active sites that fail independently: ``1 - (1 - a) ** 2``.

    Independence is an assumption (shared software, deploys and upstream services fail
    both sites at once), so this is an upper bound.

    Examples
    --------
    >>> round(two_site_availability(0.995), 6)
    0.999975
    """
    a = share("one_site", one_site)
    return 1.0 - (1.0 - a) ** 2


# --------------------------------------------------------------------------- credits


def credit_share(schedule: CreditSchedule, availability_share: Any) -> float | np.ndarray:
    """Credit, as a share of the month's bill, for a month at ``availability_share``.

    Examples
    --------
    >>> [float(credit_share(AWS_BEDROCK, a)) for a in (0.9995, 0.999, 0.998, 0.98, 0.9)]
    [0.0, 0.0, 0.1, 0.25, 1.0]
    """
    a = _availability(availability_share)
    if _is_dist(a):
        raise bad("availability_share", "<distribution>",
                  "a number or array; use expected_credit_share for a distribution")
    out = np.zeros_like(a, dtype=float)
    for threshold, credit in schedule.tiers:  # lower thresholds overwrite higher ones
        out = np.where(a < threshold, credit, out)
    return float(out[0]) if np.ndim(availability_share) == 0 else out


def breach_probability(schedule: CreditSchedule, availability: Any) -> float:
    """Probability that a month falls below the SLO (earns any credit).

    Examples
    --------
    >>> breach_probability(AWS_BEDROCK, [1.0, 0.9995, 0.998, 0.985])
    0.5
    """
    return _prob_below(_availability(availability), schedule.slo)


def expected_credit_share(schedule: CreditSchedule, availability: Any) -> float:
    """Expected credit as a share of the monthly bill.

    ``E[credit] = sum_i credit_i * P(t_(i+1) <= A < t_i)``, thresholds ``t_1 > t_2 > ...``
    and ``t_(n+1) = 0`` (the last tier covers everything below its threshold).

    Examples
    --------
    >>> round(expected_credit_share(AWS_BEDROCK, [1.0, 0.9995, 0.998, 0.985, 0.94]), 4)
    0.27
    """
    a = _availability(availability)
    below = [_prob_below(a, t) for t, _ in schedule.tiers] + [0.0]
    return float(sum(c * (below[i] - below[i + 1])
                     for i, (_, c) in enumerate(schedule.tiers)))


def expected_downtime_hours(availability: Any, *,
                            hours_per_month: float = HOURS_PER_MONTH) -> float:
    """Expected hours down a month: ``(1 - E[availability]) * hours_per_month``.

    Examples
    --------
    >>> round(expected_downtime_hours([0.999, 0.997]), 3)  # 0.2 % of 730 h
    1.46
    """
    a = _availability(availability)
    hours = positive("hours_per_month", hours_per_month)
    return (1.0 - _mean(a)) * hours


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class SlaOutcome:
    """Expected monthly money of one option's availability (all USD per month).

    ``downtime_cost_usd`` is what the business loses; ``credit_usd`` what the vendor
    refunds; ``uncovered_usd`` the difference; ``coverage`` = credit / downtime cost
    (NaN when nothing is lost). ``credit_to_cover`` is the flat credit share of the
    bill that would pay for the expected downtime in a month that breaches the SLO.
    """

    name: str
    mean_availability: float
    breach_probability: float
    downtime_hours: float
    downtime_cost_usd: float
    expected_credit_share: float
    credit_usd: float
    uncovered_usd: float
    coverage: float
    credit_to_cover: float


def evaluate(availability: Any, *, usd_per_downtime_hour: float,
             schedule: CreditSchedule | None = None, monthly_bill_usd: float = 0.0,
             hours_per_month: float = HOURS_PER_MONTH, name: str = "") -> SlaOutcome:
    """Expected downtime cost, SLA credit and what is left uncovered, per month.

    Parameters
    ----------
    availability : scipy.stats frozen distribution or array_like
        Monthly availability (or latency-SLO attainment) as a share.
    usd_per_downtime_hour : float
        Business cost of one hour down (lost revenue, staff idle, penalties), >= 0.
    schedule : CreditSchedule, optional
        The vendor's credit tiers; ``None`` for self-hosting on owned hardware, where
        nobody pays you back.
    monthly_bill_usd : float
        The bill the credit is a share of (the API bill, or the cloud instance bill), >= 0.
    hours_per_month : float
        Hours in the month (default 730).
    name : str
        Label for :func:`compare`.

    Examples
    --------
    An API at a steady 99.8 % a month, $20,000 bill, $5,000 an hour down: 1.46 hours
    lost ($7,300) against a 10 % credit ($2,000).

    >>> o = evaluate([0.998], usd_per_downtime_hour=5_000, schedule=AWS_BEDROCK,
    ...              monthly_bill_usd=20_000)
    >>> round(o.downtime_cost_usd), round(o.credit_usd), round(o.uncovered_usd)
    (7300, 2000, 5300)
    """
    a = _availability(availability)
    cost_per_hour = non_negative("usd_per_downtime_hour", usd_per_downtime_hour)
    bill = non_negative("monthly_bill_usd", monthly_bill_usd)
    hours = expected_downtime_hours(a, hours_per_month=hours_per_month)
    downtime = hours * cost_per_hour
    if schedule is None:
        p_breach, e_share = 0.0, 0.0
    else:
        if not isinstance(schedule, CreditSchedule):
            raise bad("schedule", schedule, "a CreditSchedule or None")
        p_breach = breach_probability(schedule, a)
        e_share = expected_credit_share(schedule, a)
    credit = e_share * bill
    coverage = credit / downtime if downtime > 0 else float("nan")
    if schedule is None or bill == 0 or p_breach == 0:
        to_cover = float("nan")
    else:  # flat share s with s * bill * P(breach) = downtime cost
        to_cover = downtime / (bill * p_breach)
    return SlaOutcome(name=name, mean_availability=_mean(a), breach_probability=p_breach,
                      downtime_hours=hours, downtime_cost_usd=downtime,
                      expected_credit_share=e_share, credit_usd=credit,
                      uncovered_usd=downtime - credit, coverage=coverage,
                      credit_to_cover=to_cover)


def compare(outcomes: Sequence[SlaOutcome]) -> pd.DataFrame:
    """The outcomes side by side, one row each (e.g. vendor API against self-hosting).

    Examples
    --------
    >>> api = evaluate([0.998], usd_per_downtime_hour=5_000, schedule=AWS_BEDROCK,
    ...                monthly_bill_usd=20_000, name="API")
    >>> own = evaluate([0.995], usd_per_downtime_hour=5_000, name="self-host")
    >>> compare([api, own])[["downtime_cost_usd", "credit_usd", "uncovered_usd"]].round()
    ... # doctest: +NORMALIZE_WHITESPACE
               downtime_cost_usd  credit_usd  uncovered_usd
    name
    API                   7300.0      2000.0         5300.0
    self-host            18250.0         0.0        18250.0
    """
    rows = list(outcomes)
    if not rows or not all(isinstance(o, SlaOutcome) for o in rows):
        raise bad("outcomes", outcomes, "a non-empty list of SlaOutcome from evaluate()")
    return pd.DataFrame([o.__dict__ for o in rows]).set_index("name")
