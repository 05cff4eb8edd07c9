"""Kill criteria: the value of a driver at which the decision reverses.

A board approves an investment together with the conditions under which it stops. For
each of the widest drivers of the tornado, :func:`kill_criterion` finds the driver value
at which the NPV gap between self-hosting and the API crosses zero, holding every other
input at the scenario's value. Past that value the other path is better: stop (or, for a
"buy", switch).

Method
------
The tornado gives the gap at three values of the driver (low, base, high). Where the sign
changes between two of them, the crossing is refined with the model itself: a float
driver is evaluated on :data:`GRID_POINTS` evenly spaced values inside the bracket, in one
vectorised call of :func:`buildbuy.uncertainty.tornado`, twice in a row (each pass shrinks
the bracket 16-fold), then interpolated linearly inside the last bracket. A whole-number
driver (months) is evaluated at every whole value in the bracket and the criterion is the
first whole value on the far side. Linear interpolation between the three tornado points
alone would be cheaper but is not accurate enough: on ``bank_support`` it puts the API
price decline that reverses the build at 56% a year where the model says 50%.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from buildbuy._validate import bad

__all__ = ["GRID_POINTS", "KillCriterion", "flip_point", "kill_criterion", "threshold_unit"]

#: Points per refinement pass inside the bracket that holds the sign change.
GRID_POINTS: int = 17
_PASSES = 2


@dataclasses.dataclass(frozen=True)
class KillCriterion:
    """Where one driver reverses the decision.

    Attributes
    ----------
    driver, label : str
        Scenario field or scale factor (``"api_price_decline"``) and its label.
    low, base, high : float
        The tornado's range of the driver and the scenario's value.
    swing_usd : float
        Width of the driver's tornado bar (USD).
    threshold : float or None
        Driver value at which the NPV gap is zero; ``None`` when it does not cross zero
        between ``low`` and ``high``.
    rises : bool or None
        ``True`` when the decision reverses as the driver rises past ``threshold``,
        ``False`` when it falls past it, ``None`` without a threshold.
    """

    driver: str
    label: str
    low: float
    base: float
    high: float
    swing_usd: float
    threshold: float | None
    rises: bool | None

    @property
    def key(self) -> str:
        """Registry key of the threshold figure: ``"kill_<driver>"``."""
        return f"kill_{self.driver}"


def flip_point(xs: Sequence[float], ys: Sequence[float], *, near: float) -> float | None:
    """Where the piecewise-linear curve through ``(xs, ys)`` crosses zero, nearest ``near``.

    ``xs`` need not be sorted. Returns ``None`` when ``ys`` never changes sign; an
    exact zero at a point counts as a crossing there.

    Examples
    --------
    >>> flip_point([0.0, 0.3, 0.9], [-2.0, -1.0, 5.0], near=0.3)
    0.4
    >>> flip_point([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], near=2.0) is None
    True
    >>> flip_point([0.0, 1.0, 2.0, 3.0], [1.0, -1.0, 1.0, -1.0], near=2.9)
    2.5
    """
    order = np.argsort(np.asarray(xs, dtype=float), kind="stable")
    x = np.asarray(xs, dtype=float)[order]
    y = np.asarray(ys, dtype=float)[order]
    if x.size != y.size or x.size < 2 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise bad("xs, ys", (list(xs), list(ys)), "two finite sequences of equal length >= 2")
    found: list[float] = [float(xi) for xi, yi in zip(x, y, strict=True) if yi == 0.0]
    for i in range(x.size - 1):
        y0, y1 = y[i], y[i + 1]
        if y0 * y1 < 0:
            found.append(float(x[i] - y0 * (x[i + 1] - x[i]) / (y1 - y0)))
    if not found:
        return None
    return min(found, key=lambda v: (abs(v - near), v))


def _evaluate(S: Any, name: str, values: Sequence[float], metric: str) -> dict[float, float]:
    """The tornado metric at each value of driver ``name`` (all else at ``S``).

    Values are paired into (low, high) drivers so that a driver the tornado re-runs
    scenario by scenario (a whole number of months) costs one run per value.
    """
    from buildbuy import uncertainty

    vals = [float(v) for v in values]
    if not vals:
        return {}
    if len(vals) % 2:
        vals.append(vals[-1])
    drivers = [uncertainty.Driver(name, vals[k], vals[k + 1], False, "")
               for k in range(0, len(vals), 2)]
    t = uncertainty.tornado(S, drivers, metric=metric)
    out = {float(x): float(m) for x, m in zip(t["low"], t["metric_low"], strict=True)}
    out.update({float(x): float(m) for x, m in zip(t["high"], t["metric_high"], strict=True)})
    return out


def _is_whole(S: Any, name: str) -> bool:
    from buildbuy.scenarios import FIELDS

    return name in FIELDS and FIELDS[name].type is int


def kill_criterion(S: Any, row: Any, *, metric: str = "npv_diff") -> KillCriterion:
    """The kill criterion of one tornado row (a mapping with the tornado's columns).

    Parameters
    ----------
    S : Scenario
    row : mapping or pandas Series
        ``driver``, ``label``, ``low``, ``base``, ``high``, ``metric_low``,
        ``metric_high``, ``base_metric``, ``swing`` of :func:`buildbuy.uncertainty.tornado`.
    metric : str
        The tornado metric the row was computed on.

    Returns
    -------
    KillCriterion
    """
    name = str(row["driver"])
    low, base, high = float(row["low"]), float(row["base"]), float(row["high"])
    pts = {low: float(row["metric_low"]), base: float(row["base_metric"]),
           high: float(row["metric_high"])}
    kc = dict(driver=name, label=str(row["label"]), low=low, base=base, high=high,
              swing_usd=float(row["swing"]))
    first = flip_point(list(pts), list(pts.values()), near=base)
    if first is None:
        return KillCriterion(**kc, threshold=None, rises=None)
    rises = first > base
    lo, hi = (base, high) if rises else (low, base)
    side = np.sign(pts[base])
    if side == 0:
        threshold = base
    elif _is_whole(S, name):
        whole = [float(v) for v in range(math.ceil(lo), math.floor(hi) + 1)]
        pts.update(_evaluate(S, name, [v for v in whole if v not in pts], metric))
        walk = sorted((v for v in pts if (v > base) == rises and v != base), reverse=not rises)
        threshold = next((v for v in walk if np.sign(pts[v]) != side), first)
    else:
        threshold = first
        for _ in range(_PASSES):
            pts.update(_evaluate(S, name, np.linspace(lo, hi, GRID_POINTS), metric))
            threshold = flip_point(list(pts), list(pts.values()), near=base) or threshold
            step = (hi - lo) / (GRID_POINTS - 1)
            lo, hi = max(lo, threshold - step), min(hi, threshold + step)
    return KillCriterion(**kc, threshold=float(threshold), rises=rises)


def threshold_unit(S: Any, driver: str) -> tuple[str, float]:
    """How a driver's value is quoted: ``(unit, offset)`` for a :class:`Figure`.

    A scale factor such as ``staff_fte_b_scale`` is quoted as its distance from plan,
    ``|value - 1|`` as a share (1.3 -> 30%, "30% above plan"): ``offset`` is 1. A scenario
    field is quoted as itself (offset 0) in its own unit: tokens, a share, USD, months or
    a ratio.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> S = scenarios.load("bank_support")
    >>> threshold_unit(S, "staff_fte_b_scale"), threshold_unit(S, "monthly_tokens")
    (('share', 1.0), ('tokens', 0.0))
    """
    from buildbuy.scenarios import FIELDS
    from buildbuy.uncertainty import SCALES

    if driver in SCALES:
        return "share", 1.0
    if driver not in FIELDS:
        raise bad("driver", driver, "a scenario field or one of " + ", ".join(SCALES))
    unit = FIELDS[driver].unit.lower()
    for prefix, out in (("tokens", "tokens"), ("share", "share"), ("usd", "usd"),
                        ("month", "months")):
        if unit.startswith(prefix):
            return out, 0.0
    return "ratio", 0.0
