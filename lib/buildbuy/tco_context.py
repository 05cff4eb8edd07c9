"""The draw-invariant part of the cash-flow model of :mod:`buildbuy.tco`.

:func:`context` gathers, once per scenario, what stays fixed across Monte Carlo draws:
the API's list-price corners, GPU prices, the serving replica's sizing
(:mod:`buildbuy.capacity`), the drift lines, the daily load profile, the API's rate-limit
tiers (:mod:`buildbuy.api_limits`), the refresh period and the on-call minimum
(:mod:`buildbuy.staffing`). :func:`params` gives the numeric fields, as scalars or as
arrays of draws.

Examples
--------
>>> from buildbuy import scenarios
>>> c = context(scenarios.load("hospital_notes"))
>>> c.hosting, c.on_call_min, c.elastic
('cloud_reserved', 3, True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from buildbuy import api_limits, capacity, costs, data
from buildbuy.capacity import Sizing
from buildbuy.gpu_supply import months_to_production_b
from buildbuy.scenarios import FIELDS
from buildbuy.staffing import min_on_call_headcount

__all__ = ["ModelContext", "api_usd_per_token", "burst_usd_per_hour", "context", "drift_lines",
           "gpu_usd_per_hour", "params"]


def api_usd_per_token(S: Any) -> tuple[float, float, float, float]:
    """Blended API list price per token at the four corners of (output share, cached share).

    The price is bilinear in the two shares, so the corners from
    ``buildbuy.costs.api_usd_per_1k_tokens`` give it exactly for any shares:
    returns ``(p00, p10, p01, p11)`` for (output, cached) = (0,0), (1,0), (0,1), (1,1).
    """
    return tuple(costs.api_usd_per_1k_tokens(S.api_model, output_token_share=o,
                                             cached_input_share=c) / 1000.0
                 for o, c in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)))  # type: ignore[return-value]


def gpu_usd_per_hour(S: Any) -> float:
    """The scenario's GPU price per hour: its override, else the table price of its
    hosting mode (0 for owned GPUs, which are costed from their servers)."""
    if S.gpu_usd_per_hour is not None:
        return float(S.gpu_usd_per_hour)
    if S.hosting == "owned":
        return 0.0
    return float(costs.gpu_usd_per_hour(S.gpu, S.hosting))


def burst_usd_per_hour(S: Any) -> float:
    """On-demand price for hours above a reservation (the scenario's own for on-demand)."""
    if S.hosting == "cloud_on_demand":
        return gpu_usd_per_hour(S)
    if S.hosting == "cloud_reserved":
        g = data.get_gpu(S.gpu)
        if g.cloud_on_demand_usd_per_hour is None:
            return gpu_usd_per_hour(S)   # no burst price published: reserve at peak
        return float(g.cloud_on_demand_usd_per_hour)
    return 0.0


_DRIFT_CACHE: dict[str, dict[str, dict[str, np.ndarray]]] = {}


def drift_lines(S: Any) -> dict[str, dict[str, np.ndarray]]:
    """Drift cost lines of :func:`buildbuy.drift.cost_lines` as arrays.

    Returns ``{scenario: {component: usd per month 0..horizon}}``. They do not depend
    on volume or prices, so Monte Carlo draws reuse them unchanged. Kept per scenario
    values (the decision record, its Monte Carlo and its tornado ask for the same lines);
    the arrays are read-only.
    """
    import json

    key = json.dumps(S.to_dict(), sort_keys=True, default=str)
    if key not in _DRIFT_CACHE:
        if len(_DRIFT_CACHE) > 64:
            _DRIFT_CACHE.clear()
        _DRIFT_CACHE[key] = _drift_lines(S)
    return _DRIFT_CACHE[key]


def _drift_lines(S: Any) -> dict[str, dict[str, np.ndarray]]:
    from buildbuy import drift  # imported here: drift is heavier than the rest of tco

    frame = drift.cost_lines(S)
    out: dict[str, dict[str, np.ndarray]] = {}
    n = S.horizon_months + 1
    for (scen, comp), rows in frame.groupby(["scenario", "component"], sort=True):
        arr = np.zeros(n)
        np.add.at(arr, rows["month"].to_numpy(dtype=int), rows["usd"].to_numpy(dtype=float))
        arr.flags.writeable = False
        out.setdefault(str(scen), {})[str(comp)] = arr
    return out


@dataclasses.dataclass(frozen=True)
class ModelContext:
    """Everything that stays fixed across Monte Carlo draws."""

    horizon: int
    live_a_from: int
    live_b_from: int
    hosting: str
    redundancy: str
    gpus_per_server: int
    api_corners: tuple[float, float, float, float]
    gpu_usd_per_hour: float
    burst_usd_per_hour: float
    sizing: Sizing
    drift: dict[str, dict[str, np.ndarray]]
    load_profile: str
    quota: api_limits.QuotaContext
    refresh_months: int
    on_call_min: int
    elastic: bool


def context(S: Any, size: Sizing | None = None, *, elastic: bool = True) -> ModelContext:
    """The draw-invariant part of the model for ``S`` (reuse it across draws).

    ``elastic=False`` runs cloud GPUs at the year's peak-hour fleet all month (the
    always-on simplification, kept to measure what it overstated).
    """
    return ModelContext(S.horizon_months, S.months_to_production_a + 1,
                    months_to_production_b(S) + 1, S.hosting, S.redundancy, S.gpus_per_server,
                    api_usd_per_token(S), gpu_usd_per_hour(S), burst_usd_per_hour(S),
                    size if size is not None else capacity.sizing(S), drift_lines(S),
                    S.load_profile,
                    api_limits.quota_context(S), S.api_refresh_months,
                    min_on_call_headcount(S.on_call_coverage), elastic)


def params(S: Any, varied: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Numeric fields of ``S`` (and its GPU price) as the model reads them; ``varied``
    fields become arrays of shape (n, 1), one row per draw."""
    p = {k: getattr(S, k) for k, f in FIELDS.items() if f.type in (float, int)}
    p["gpu_usd_per_hour"] = gpu_usd_per_hour(S)
    for k, v in (varied or {}).items():
        p[k] = np.asarray(v, dtype=float).reshape(-1, 1)
    return p
