"""Daily load shapes: how one day's traffic spreads over its 24 hours.

A *profile* is a row set of ``data/load_profiles.csv``: the share of a day's volume that
arrives in each hour, from a dated public source. The model uses one typical day for every
day of a month (weekends and seasons are not modelled; the monthly volume already carries
growth).

Conventions
-----------
- A profile is normalised to a mean of 1 over the 24 hours: hour ``h`` carries
  ``load_h`` times the month's average load (tokens/s).
- :func:`scaled` fits the shape to a scenario's ``peak_to_average`` ``k`` with a power
  transform: ``load_h = s_h ** a / mean(s ** a)``, ``a >= 0`` chosen so that
  ``max(load) = k``. ``a = 0`` is a flat day (``k = 1``); ``a = 1`` is the source's own
  shape; larger ``a`` sharpens the peak and empties the quiet hours. The order of the
  hours never changes and the mean stays 1, so the volume is kept exactly.
- ``k`` must stay below :func:`max_peak_to_average`: ``24 / (hours at the busiest
  level)``, the limit as ``a`` grows (all traffic in the busiest hours).
- :func:`levels` returns the distinct hourly levels and how many hours each holds, so a
  model can size a fleet once per level instead of once per hour (a 3-hour-block profile
  has 8 levels, not 24): sums over hours are exact.

Examples
--------
>>> from buildbuy import load_profile
>>> day = load_profile.scaled("online_retail_daypart", 2.5)
>>> round(float(day.max()), 9), round(float(day.mean()), 9)
(2.5, 1.0)
>>> round(load_profile.max_peak_to_average("online_retail_daypart"), 3)
8.0
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from buildbuy._validate import bad, positive

__all__ = ["HOURS_PER_DAY", "base_shape", "levels", "max_peak_to_average", "profile_names",
           "scaled"]

HOURS_PER_DAY = 24


def profile_names() -> list[str]:
    """Names of the profiles in ``data/load_profiles.csv``."""
    from buildbuy import data

    return sorted(data.load_table("load_profiles")["profile"].unique())


@functools.cache
def _shape(name: str) -> tuple[float, ...]:
    from buildbuy import data

    canonical = data.canonical_name("load_profiles", name)  # the library's one name rule
    if canonical is None:
        raise bad("load_profile", name, "one of " + ", ".join(repr(n) for n in profile_names()))
    t = data.load_table("load_profiles")
    rows = t[t["profile"] == canonical].sort_values("hour")
    if rows["hour"].tolist() != list(range(HOURS_PER_DAY)):
        raise bad("load_profile", name, "a profile with one row for each hour 0..23 in "
                  "data/load_profiles.csv")
    share = rows["share_of_day"].to_numpy(dtype=float)
    if share.sum() <= 0:
        raise bad("load_profile", name, "a profile with some traffic")
    return tuple(share / share.mean())


def base_shape(name: str) -> np.ndarray:
    """The source's shape, 24 hourly levels with mean 1 (shares rescaled to sum to 1)."""
    return np.array(_shape(name))


def max_peak_to_average(name: str) -> float:
    """The supremum of peak/average the power transform can reach for this profile."""
    s = base_shape(name)
    return HOURS_PER_DAY / float(np.sum(np.isclose(s, s.max(), rtol=1e-12)))


@functools.cache
def _levels(name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    s = base_shape(name)
    values, counts = np.unique(np.round(s, 12), return_counts=True)
    return tuple(values), tuple(float(c) for c in counts)


@functools.cache
def _grid(values: tuple[float, ...], weights: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``log k(a)`` on a dense grid of ``a`` (increasing in ``a``), for interpolation."""
    a = np.concatenate([np.linspace(0.0, 4.0, 4001)[:-1], np.geomspace(4.0, 4000.0, 3000)])
    lk = -np.log(_mean_rel(np.array(values), np.array(weights), a))
    return lk, a


def _mean_rel(values: np.ndarray, weights: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``wmean(v**a) / max(v)**a``, stable for large ``a``."""
    logv = np.log(values)
    e = np.exp(a[..., None] * (logv - logv.max()))
    return (e * weights).sum(-1) / weights.sum()


def _exponent(values: np.ndarray, weights: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Power ``a`` with ``max(v**a) / wmean(v**a) = k``, elementwise in ``k``.

    ``log k(a)`` is increasing and concave-free enough for Newton from a dense-grid
    interpolation: three Newton steps bring the error below 1e-12 (tested).
    """
    lk_grid, a_grid = _grid(tuple(values), tuple(weights))
    target = np.log(k)
    a = np.interp(target, lk_grid, a_grid)
    logv = np.log(values)
    lmax = logv.max()
    w = weights / weights.sum()
    for _ in range(3):
        e = np.exp(a[..., None] * (logv - lmax))
        m = (e * w).sum(-1)
        g = -np.log(m) - target
        dg = -(e * w * (logv - lmax)).sum(-1) / m
        a = np.where(dg > 1e-300, a - g / np.where(dg > 1e-300, dg, 1.0), a)
        a = np.maximum(a, 0.0)
    return a


def levels(name: str, peak_to_average: Any) -> tuple[np.ndarray, np.ndarray]:
    """Distinct hourly load levels (mean 1 over the day) and the hours at each level.

    Parameters
    ----------
    name : str
        A profile of ``data/load_profiles.csv``.
    peak_to_average : float or array
        ``k >= 1``; an array of shape ``(n, 1)`` (Monte Carlo draws) gives levels of
        shape ``(n, L)``.

    Returns
    -------
    (levels, hours) : (numpy.ndarray, numpy.ndarray)
        ``levels`` has the shape of ``peak_to_average`` with a last axis of length ``L``
        (the profile's distinct levels, ascending); ``hours`` (length ``L``) sums to 24.
        ``sum(levels * hours) / 24 == 1`` and ``levels.max(-1) == k``.

    Examples
    --------
    >>> v, h = levels("online_retail_daypart", 2.0)
    >>> len(v), float(h.sum()), round(float((v * h).sum() / 24), 9)
    (8, 24.0, 1.0)
    """
    if np.ndim(peak_to_average) == 0:
        v, c = _scalar_levels(name, float(peak_to_average))
        return v.copy(), c.copy()
    return _levels_array(name, np.asarray(peak_to_average, dtype=float))


@functools.lru_cache(maxsize=256)
def _scalar_levels(name: str, k: float) -> tuple[np.ndarray, np.ndarray]:
    v, c = _levels_array(name, np.asarray(k))
    return v, c


def _levels_array(name: str, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vals, counts = (np.array(x) for x in _levels(name))
    limit = max_peak_to_average(name)
    if np.any(~np.isfinite(k)) or np.any(k < 1.0) or np.any(k >= limit):
        worst = float(k[(~np.isfinite(k)) | (k < 1.0) | (k >= limit)].flat[0]) \
            if k.ndim else float(k)
        raise bad("peak_to_average", worst, f"a number >= 1 and < {limit:g} for "
                  f"load_profile={name!r} (the busiest hours cannot hold more than the "
                  "whole day)")
    shape = k.shape
    kk = k.reshape(-1)
    a = _exponent(vals, counts, kk)
    raw = np.exp(a[:, None] * np.log(vals)[None, :])
    mean = (raw * counts).sum(-1, keepdims=True) / HOURS_PER_DAY
    out = raw / mean
    if shape == ():
        return out[0], counts
    if len(shape) >= 1 and shape[-1] == 1:
        return out.reshape(*shape[:-1], len(vals)), counts
    return out.reshape(*shape, len(vals)), counts


def scaled(name: str, peak_to_average: float) -> np.ndarray:
    """The 24 hourly loads (mean 1, peak ``peak_to_average``), hour 0 first.

    Examples
    --------
    >>> day = scaled("online_retail_daypart", 1.0)
    >>> bool(np.allclose(day, 1.0))
    True
    """
    k = positive("peak_to_average", peak_to_average)
    vals, _ = levels(name, k)
    s = base_shape(name)
    order = {round(float(v), 12): i for i, v in enumerate(np.array(_levels(name)[0]))}
    return np.array([vals[order[round(float(x), 12)]] for x in s])
