"""Kill criteria: the value of a driver at which the decision reverses.

A board approves an investment together with the conditions under which it stops. For
each of the widest drivers of the record's tornado, :func:`kill_criterion` finds the
driver value at which the recommended path stops beating the next best one (another
feasible path, or doing nothing), holding every other input at the scenario's value. The
metric is ``NPV(recommended) - NPV(next best)``, after tax, value included (the
``npv_<path>`` metrics of :func:`buildbuy.uncertainty.tornado`). Past that value the other
choice is better: stop (or, for a "buy", switch; for "neither", revisit).

Method
------
The metric is evaluated at the driver's low, base and high values; when its sign does not
change there, the search widens to :data:`WIDER` times the range on each side (within the
field's allowed values). Where the sign changes between two points, the crossing is
refined with the model itself: a float driver is evaluated on :data:`GRID_POINTS` evenly
spaced values inside the bracket, in one vectorised call of
:func:`buildbuy.uncertainty.tornado`, twice in a row (each pass shrinks the bracket
16-fold), then interpolated linearly inside the last bracket. A whole-number driver
(months) is evaluated at every whole value in the bracket and the criterion is the first
whole value on the far side. Linear interpolation between the three points alone would be
cheaper but is not accurate enough: the tests measure the refined root against the model.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from buildbuy._validate import bad

__all__ = ["GRID_POINTS", "WIDER", "KillCriterion", "flip_point", "kill_criteria",
           "kill_criterion", "threshold_unit"]

#: Points per refinement pass inside the bracket that holds the sign change.
GRID_POINTS: int = 17
#: How far past the tornado's range the search goes, in multiples of the range's half.
WIDER: float = 10.0
_PASSES = 2


@dataclasses.dataclass(frozen=True)
class KillCriterion:
    """Where one driver reverses the decision.

    Attributes
    ----------
    driver, label : str
        Scenario field or scale factor (``"api_price_decline"``) and its label.
    low, base, high : float
        The range searched (the tornado's, widened when it holds no reversal) and the
        scenario's value.
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


Metric = tuple[str, str | None]
#: (plus, minus) pairs that one tornado metric gives directly, with its sign
_ONE_METRIC: dict[tuple[str, str], tuple[str, float]] = {
    ("npv_b", "npv_a"): ("npv_gap", 1.0), ("npv_a", "npv_b"): ("npv_gap", -1.0),
    ("npv_h", "npv_a"): ("npv_gap_hybrid", 1.0), ("npv_a", "npv_h"): ("npv_gap_hybrid", -1.0),
}


def _evaluate(S: Any, wanted: dict[str, list[float]], metric: Metric
              ) -> dict[str, dict[float, float]]:
    """The ``plus - minus`` metric at each wanted value of each driver (all else at ``S``).

    One tornado call for every driver at once (two when no single metric gives the
    difference). Values are paired into (low, high) drivers, so that a driver the tornado
    re-runs scenario by scenario (a whole number of months) costs one run per value. Each
    driver's result also holds its base run.
    """
    plus, minus = metric
    if minus is not None and (plus, minus) in _ONE_METRIC:
        name, sign = _ONE_METRIC[plus, minus]
        return {d: {x: sign * v for x, v in pts.items()}
                for d, pts in _tornado_points(S, wanted, name).items()}
    out = _tornado_points(S, wanted, plus)
    if minus is not None:
        other = _tornado_points(S, wanted, minus)
        out = {d: {x: v - other[d][x] for x, v in pts.items()} for d, pts in out.items()}
    return out


def _tornado_points(S: Any, wanted: dict[str, list[float]], metric: str
                    ) -> dict[str, dict[float, float]]:
    from buildbuy import uncertainty

    drivers = []
    for name, values in wanted.items():
        vals = [float(v) for v in values]
        vals += vals[-1:] * (len(vals) % 2)
        drivers += [uncertainty.Driver(name, vals[k], vals[k + 1], False, "")
                    for k in range(0, len(vals), 2)]
    out: dict[str, dict[float, float]] = {name: {} for name in wanted}
    if not drivers:
        return out
    t = uncertainty.tornado(S, drivers, metric=metric)
    for row in t.itertuples():
        pts = out[str(row.driver)]
        pts[float(row.low)], pts[float(row.high)] = row.metric_low, row.metric_high
        pts[float(row.base)] = row.base_metric
    return {name: {x: float(v) for x, v in pts.items()} for name, pts in out.items()}


def _is_whole(S: Any, name: str) -> bool:
    from buildbuy.scenarios import FIELDS

    return name in FIELDS and FIELDS[name].type is int


def _wider(S: Any, name: str, low: float, base: float, high: float) -> list[float]:
    """Values beyond the tornado's range to search when it holds no reversal.

    Down towards the field's lowest allowed value (at most :data:`WIDER` x the range below
    base), up to :data:`WIDER` x the range above base, on :data:`GRID_POINTS` points a side;
    a whole-number field adds up to three whole values a side (each is a full model run).
    Only values the scenario accepts are kept: the field's own range and the rules between
    fields (e.g. ``peak_to_average`` below what the scenario's ``load_profile`` allows).
    """
    from buildbuy.scenarios import FIELDS

    whole = _is_whole(S, name)

    def ok(v: float) -> bool:
        if v < 0.0:
            return False
        if name not in FIELDS:  # a scale factor: any value >= 0
            return True
        try:
            S.replace(**{name: int(v) if whole else v})
        except ValueError:
            return False
        return True

    if whole:
        cand = [low - i for i in (1, 2, 3)] + [high + i for i in (1, 2, 3)]
    else:
        bottom = max(base - WIDER * (base - low), 0.0)
        if not ok(bottom):
            bottom = low / 100.0
        cand = [*np.linspace(bottom, low, GRID_POINTS),
                *np.linspace(high, base + WIDER * (high - base), GRID_POINTS)]
    return [float(v) for v in cand if ok(float(v))]


def _flip(pts: dict[float, float], base: float) -> float | None:
    return flip_point(list(pts), list(pts.values()), near=base)


def kill_criteria(S: Any, rows: Sequence[Any], *, metric: Metric = ("npv_gap", None)
                  ) -> tuple[KillCriterion, ...]:
    """The kill criterion of each tornado driver in ``rows`` (see the module docstring).

    The search starts on the tornado's range (``low`` to ``high``); where the decision
    holds across it, it widens (:func:`_wider`) before concluding that no value reverses
    it. ``low`` and ``high`` of each result are the range searched. All drivers are
    evaluated together, phase by phase (range, widening, two refinements).

    Parameters
    ----------
    S : Scenario
    rows : sequence of mappings or pandas Series
        ``driver``, ``label``, ``low``, ``base``, ``high`` and ``swing`` of rows of
        :func:`buildbuy.uncertainty.tornado`.
    metric : (str, str or None)
        ``(plus, minus)``: tornado metrics whose difference decides; ``minus=None`` for
        one metric (e.g. ``("npv_b", None)``: the self-hosted path against doing nothing).

    Returns
    -------
    tuple of KillCriterion, in the order of ``rows``
    """
    rows = list(rows)
    if not rows:
        return ()
    info = {str(r["driver"]): (float(r["low"]), float(r["base"]), float(r["high"]))
            for r in rows}
    pts = _evaluate(S, {n: [lo, hi] for n, (lo, _, hi) in info.items()}, metric)
    flat = [n for n, (lo, b, hi) in info.items() if _flip(pts[n], b) is None]
    if flat:
        more = _evaluate(S, {n: [v for v in _wider(S, n, *info[n]) if v not in pts[n]]
                             for n in flat}, metric)
        for n in flat:
            pts[n].update(more[n])
    brackets: dict[str, tuple[float, float]] = {}
    for n, (_, b, _) in info.items():
        first = _flip(pts[n], b)
        if first is not None and np.sign(pts[n][b]) != 0:
            xs = sorted(pts[n])
            brackets[n] = (max((x for x in xs if x <= first), default=first),
                           min((x for x in xs if x >= first), default=first))
    for _ in range(_PASSES):
        grid = {n: ([float(v) for v in range(math.ceil(lo), math.floor(hi) + 1)]
                    if _is_whole(S, n) else list(np.linspace(lo, hi, GRID_POINTS)))
                for n, (lo, hi) in brackets.items()}
        grid = {n: [v for v in vals if v not in pts[n]] for n, vals in grid.items()}
        if not any(grid.values()):
            break
        more = _evaluate(S, grid, metric)
        for n, (lo, hi) in list(brackets.items()):
            pts[n].update(more[n])
            if not _is_whole(S, n):
                t = _flip(pts[n], info[n][1])
                step = (hi - lo) / (GRID_POINTS - 1)
                brackets[n] = (max(lo, t - step), min(hi, t + step))
    return tuple(_result(S, r, pts[str(r["driver"])]) for r in rows)


def _result(S: Any, row: Any, pts: dict[float, float]) -> KillCriterion:
    name, base = str(row["driver"]), float(row["base"])
    kc = dict(driver=name, label=str(row["label"]), low=min(pts), base=base, high=max(pts),
              swing_usd=float(row["swing"]))
    first = _flip(pts, base)
    if first is None:
        return KillCriterion(**kc, threshold=None, rises=None)
    rises = first > base
    side = np.sign(pts[base])
    if side != 0 and _is_whole(S, name):  # the first whole value past the crossing
        walk = sorted((v for v in pts if (v > base) == rises and v != base), reverse=not rises)
        first = next((v for v in walk if np.sign(pts[v]) != side), first)
    return KillCriterion(**kc, threshold=float(first), rises=rises)


def kill_criterion(S: Any, row: Any, *, metric: Metric = ("npv_gap", None)) -> KillCriterion:
    """The kill criterion of one tornado driver (:func:`kill_criteria` of one row)."""
    return kill_criteria(S, [row], metric=metric)[0]


def threshold_unit(S: Any, driver: str) -> tuple[str, bool]:
    """How a driver's value is quoted: ``(unit, relative)`` for a :class:`Figure`.

    A driver without a unit a board reads, a scale factor such as ``staff_fte_b_scale`` or
    a ratio such as ``peak_to_average``, is quoted *relative* to plan: ``|value / plan - 1|``
    as a share (1.3 x plan -> 30%, "30% above plan"). Any other scenario field is quoted as
    itself in its own unit: tokens, a share, USD or months.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> S = scenarios.load("bank_support")
    >>> threshold_unit(S, "staff_fte_b_scale"), threshold_unit(S, "monthly_tokens")
    (('share', True), ('tokens', False))
    >>> threshold_unit(S, "peak_to_average")
    ('share', True)
    """
    from buildbuy.scenarios import FIELDS
    from buildbuy.uncertainty import SCALES

    if driver in SCALES:
        return "share", True
    if driver not in FIELDS:
        raise bad("driver", driver, "a scenario field or one of " + ", ".join(SCALES))
    unit = FIELDS[driver].unit.lower()
    for prefix, out in (("tokens", "tokens"), ("share", "share"), ("usd", "usd"),
                        ("month", "months")):
        if unit.startswith(prefix):
            return out, False
    return "share", True  # a ratio: its distance from plan
