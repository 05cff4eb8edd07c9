"""Scenario B's fleet inside the cash-flow model, and the one report of it.

The same functions price the fleet in :func:`buildbuy.tco.cashflows` and report it in
:func:`fleet_by_year`, so a GPU count printed anywhere is the one the cash flows pay for:

- :func:`year_peaks`: each year's peak-hour load (its busiest month);
- :func:`owned_fleet`: servers held each year, bought for that peak with headroom and
  redundancy (:func:`buildbuy.capacity.fleet_gpus`), never sold before the horizon;
- :func:`cloud_fleet`: rented GPUs at each distinct hourly level of every month
  (:mod:`buildbuy.load_profile`) and, for ``cloud_reserved``, each year's cheapest
  reservation (:func:`buildbuy.capacity.cheapest_reservation`).

``p`` holds the numeric fields (scalars, or arrays of shape (n, 1) for Monte Carlo draws)
and ``c`` the draw-invariant :class:`buildbuy.tco_context.ModelContext`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from buildbuy import capacity, demand, load_profile
from buildbuy.capacity import SECONDS_PER_MONTH, Sizing
from buildbuy.costs import HOURS_PER_MONTH
from buildbuy.tco_context import ModelContext, context, params

__all__ = ["FleetPlan", "FleetYear", "cloud_fleet", "fleet_by_year", "owned_fleet",
           "year_peaks"]


def year_peaks(p: Mapping[str, Any], c: ModelContext) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """(peak tokens/s per year, first months, 1.0 where B is live in that year)."""
    n_years = (c.horizon - 1) // 12 + 1
    firsts = np.array([12 * y + 1 for y in range(n_years)], dtype=float)
    lasts = np.minimum(firsts + 11.0, c.horizon)
    live_year = (lasts >= c.live_b_from).astype(float)
    gfirst = (1.0 + p["annual_growth"]) ** ((firsts - 1.0) / 12.0)
    glast = (1.0 + p["annual_growth"]) ** ((lasts - 1.0) / 12.0)
    peak = (p["monthly_tokens"] * np.maximum(gfirst, glast) * p["peak_to_average"]
            / SECONDS_PER_MONTH)
    return peak, firsts, live_year


def owned_fleet(p: Mapping[str, Any], c: ModelContext, peak: np.ndarray,
                 live_year: np.ndarray) -> np.ndarray:
    """Servers held each year (never sold before the horizon)."""
    gpus = capacity.fleet_gpus(c.sizing, peak, target_utilisation=p["target_utilisation"],
                               redundancy=c.redundancy, gpus_per_server=c.gpus_per_server,
                               owned=True) * live_year
    return np.maximum.accumulate(gpus / c.gpus_per_server, axis=-1)


def cloud_fleet(p: Mapping[str, Any], c: ModelContext, volume: np.ndarray, live_b: np.ndarray,
                 year_idx: np.ndarray, levels: tuple[np.ndarray, np.ndarray] | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(GPUs at each hourly level (..., M, L), hours at each level (L,), reserved (..., M))."""
    lv, hours = levels if levels is not None else load_profile.levels(c.load_profile,
                                                                      p["peak_to_average"])
    lv = lv[..., None, :] if np.ndim(lv) > 1 else lv
    avg = volume / SECONDS_PER_MONTH
    u = p["target_utilisation"]
    u = u[..., None] if np.ndim(u) > 1 else u
    need = capacity.fleet_gpus(c.sizing, avg[..., None] * lv, target_utilisation=u,
                               redundancy=c.redundancy, gpus_per_server=1, owned=False)
    need *= live_b[:, None]
    if not c.elastic:                              # always-on at each year's peak hour
        top = need.max(-1)
        yearly = np.stack([top[..., year_idx == y].max(-1) for y in range(year_idx.max() + 1)],
                          axis=-1)
        need = np.broadcast_to(yearly[..., year_idx][..., None], need.shape) * live_b[:, None]
        return need, hours, np.zeros(need.shape[:-1])
    reserved = np.zeros(need.shape[:-1])
    if c.hosting == "cloud_reserved" and c.burst_usd_per_hour > 0:
        w = hours * HOURS_PER_MONTH / 24.0
        for y in range(int(year_idx.max()) + 1):
            sel = (year_idx == y) & (live_b > 0)
            if not sel.any():
                continue
            g = need[..., sel, :]
            r = capacity.cheapest_reservation(
                g.reshape(*g.shape[:-2], -1), np.tile(w, int(sel.sum())),
                usd_reserved=c.gpu_usd_per_hour, usd_on_demand=c.burst_usd_per_hour)
            reserved[..., sel] = r[..., None]
    return need, hours, reserved


@dataclasses.dataclass(frozen=True)
class FleetYear:
    """Scenario B's fleet in one year of the horizon (see :func:`fleet_by_year`).

    ``gpus`` is the fleet (with headroom and redundancy); ``gpus_needed`` the bare count
    that serves the year's peak at full load with no spare (``Sizing.n_gpus``, what
    ``buildbuy.tps.size_fleet`` returns for that peak). Both are 0 before B is live.
    """

    year: int
    gpus: int
    servers: int | None
    reserved_gpus: int
    mean_gpus: float
    peak_tokens_per_s: float
    capacity_tokens_per_s: float
    utilisation_at_peak: float
    sized_for: str
    gpus_needed: int = 0


@dataclasses.dataclass(frozen=True)
class FleetPlan:
    """B's fleet year by year, and the replica it is built from.

    ``years[i].gpus`` is what the year is sized for: the GPUs owned (owned hardware), or
    the peak hour's fleet (cloud). ``utilisation`` is the highest peak load over the
    fleet's full-load capacity in any live year: never above ``target_utilisation``.
    The attributes of the replica (``tokens_per_s_per_gpu``, ``tensor_parallel``,
    ``batch``, ``ms_per_output_token``) come from ``buildbuy.tps.size_fleet``.
    """

    years: tuple[FleetYear, ...]
    replica: Any
    hosting: str
    redundancy: str
    target_utilisation: float

    def frame(self) -> pd.DataFrame:
        """One row per year: every field of :class:`FleetYear` (``servers`` 0 for cloud)."""
        rows = [dataclasses.asdict(y) for y in self.years]
        out = pd.DataFrame(rows, columns=[f.name for f in dataclasses.fields(FleetYear)])
        out["servers"] = out["servers"].fillna(0).astype(int)
        return out

    @property
    def gpus_by_year(self) -> list[int]:
        """GPUs of each year (see the class docstring for what they are sized for)."""
        return [y.gpus for y in self.years]

    @property
    def utilisation(self) -> float:
        """Highest peak-hour utilisation of the fleet's capacity over the live years."""
        live = [y.utilisation_at_peak for y in self.years if y.gpus > 0]
        return max(live) if live else 0.0

    @property
    def tokens_per_s_per_gpu(self) -> float:
        return float(self.replica.tokens_per_s_per_gpu)

    @property
    def tensor_parallel(self) -> int:
        return int(self.replica.tensor_parallel)

    @property
    def batch(self) -> int:
        return int(self.replica.batch)

    @property
    def ms_per_output_token(self) -> float:
        return float(self.replica.ms_per_output_token)


def fleet_by_year(S: Any, *, size: Sizing | None = None) -> FleetPlan:
    """B's fleet per year from the same arithmetic as the cash flows.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> plan = fleet_by_year(scenarios.load("hospital_notes"))
    >>> plan.utilisation <= plan.target_utilisation
    True
    """
    c = context(S, size)
    p = params(S)
    m = np.arange(c.horizon + 1, dtype=float)
    live_b = (m >= c.live_b_from).astype(float)
    year_idx = ((np.maximum(m, 1.0) - 1.0) // 12.0).astype(int)
    volume = demand.tokens(S)
    per_gpu = c.sizing.tokens_per_s_per_gpu
    years = []
    n_years = int(year_idx.max()) + 1
    if S.hosting == "owned":
        peak, _, live_year = year_peaks(p, c)
        servers = owned_fleet(p, c, peak, live_year)
        for y in range(n_years):
            n_srv = round(float(np.ravel(servers)[y]))
            gpus = n_srv * S.gpus_per_server
            pk = float(np.ravel(peak)[y]) if live_year[y] else 0.0
            cap = gpus * per_gpu
            years.append(FleetYear(y + 1, gpus, n_srv, 0, float(gpus), pk, cap,
                                   pk / cap if cap else 0.0,
                                   _sized_for(S, c, y + 1, bool(live_year[y]), owned=True),
                                   int(c.sizing.n_gpus(pk)) if live_year[y] else 0))
    else:
        need, hours, reserved = cloud_fleet(p, c, volume, live_b, year_idx)
        need = need.reshape(-1, *need.shape[-2:])[0]
        reserved = reserved.reshape(-1, reserved.shape[-1])[0]
        mean = (need * hours).sum(-1) / 24.0
        for y in range(n_years):
            sel = (year_idx == y) & (live_b > 0)
            if not sel.any():
                years.append(FleetYear(y + 1, 0, None, 0, 0.0, 0.0, 0.0, 0.0,
                                       _sized_for(S, c, y + 1, False, owned=False)))
                continue
            gpus = round(float(need[sel].max()))
            pk = float((volume[sel] / SECONDS_PER_MONTH).max() * S.peak_to_average)
            cap = gpus * per_gpu
            years.append(FleetYear(y + 1, gpus, None, round(float(reserved[sel].max())),
                                   float(np.maximum(mean[sel], reserved[sel]).mean()), pk,
                                   cap, pk / cap if cap else 0.0,
                                   _sized_for(S, c, y + 1, True, owned=False),
                                   int(c.sizing.n_gpus(pk))))
    return FleetPlan(tuple(years), c.sizing.fleet, S.hosting, S.redundancy,
                     float(S.target_utilisation))


def _sized_for(S: Any, c: ModelContext, year: int, live: bool, *, owned: bool) -> str:
    """What a year's GPU count is sized for, in words (the label every view prints)."""
    if c.sizing.error is not None:
        return f"not feasible: {c.sizing.error}"
    if not live:
        return f"year {year}: not live yet (B goes live in month {c.live_b_from})"
    what = ("GPUs owned, bought for the year's peak hour" if owned
            else "GPUs in the year's peak hour (the fleet follows the load hour by hour)")
    spare = {"none": "no spare", "n_plus_1": "one spare " + ("server" if owned else "replica"),
             "two_sites": "two sites, each able to carry the peak"}[S.redundancy]
    return (f"{what}; peak at {S.target_utilisation:.0%} of capacity at "
            f"{S.max_ms_per_output_token:g} ms per output token; {spare}")
