"""Capacity planning for Scenario B: headroom, redundancy and hour-by-hour cloud fleets.

How many GPUs serve a load is a question in three parts:

1. **Per replica.** ``buildbuy.tps.size_fleet`` gives one serving replica's tokens/s at
   the latency target, for each tensor-parallel group size (:class:`Sizing`).
2. **Headroom.** A fleet run at 100% at peak has no room for a burst, a slow node or a
   model that is ~18% optimistic at saturation. The fleet is sized so that the peak uses at
   most ``target_utilisation`` of its capacity: replicas = ``ceil(peak / (capacity x
   target_utilisation))``.
3. **Redundancy** (``redundancy``): ``"none"``; ``"n_plus_1"``, one spare failure unit (a
   server for owned hardware, a replica in the cloud) so the peak is still served at the
   target with one unit down; ``"two_sites"``, two sites that can each carry the whole
   peak at the target (active-active), i.e. twice the single-site fleet.

Owned servers are bought for the year's peak. Cloud GPUs follow the load hour by hour:
each distinct hourly level of the day (:mod:`buildbuy.load_profile`) gets the fleet that
serves it with the same headroom and redundancy (:func:`fleet_gpus` on each level), and a
reserved baseline, if any, is chosen by :func:`cheapest_reservation`. Hours are not
smoothed: a scale-up is assumed to be ready within the hour.

Examples
--------
>>> import numpy as np
>>> s = Sizing(None, ((1, 1000.0), (2, 1800.0)))
>>> float(s.n_gpus(2500.0))          # TP1: 3 replicas = 3 GPUs; TP2: 2 x 2 = 4
3.0
>>> float(fleet_gpus(s, 2500.0, target_utilisation=0.7, redundancy="none",
...                  gpus_per_server=8, owned=False))   # ceil(2500 / 700) = 4
4.0
>>> float(fleet_gpus(s, 2500.0, target_utilisation=0.7, redundancy="n_plus_1",
...                  gpus_per_server=8, owned=True))    # 1 server for 4 GPUs, +1 spare
16.0
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from buildbuy._validate import bad
from buildbuy.demand import SECONDS_PER_MONTH, peak_tokens_per_s

__all__ = [
    "REDUNDANCY",
    "SECONDS_PER_MONTH",
    "Sizing",
    "cheapest_reservation",
    "first_year_site_kw",
    "fleet_gpus",
    "peak_tokens_per_s",
    "request_split",
    "servers_per_site",
    "sites",
    "sizing",
    "year_peak_volume",
]

#: The redundancy choices, in order of cost.
REDUNDANCY: tuple[str, ...] = ("none", "n_plus_1", "two_sites")


@dataclasses.dataclass(frozen=True)
class Sizing:
    """Draw-invariant GPU sizing of one serving replica.

    ``buildbuy.tps.size_fleet`` picks, for each tensor-parallel group size, the batch
    with the most tokens/s per GPU that meets the latency target; that choice does not
    depend on the load. Only the winning group size does, through the rounding of
    ``ceil(peak / per-replica tokens/s)``. So the per-replica capacity of every feasible
    group size is computed once, and :meth:`n_gpus` reproduces ``size_fleet(...).n_gpus``
    for any peak (checked in ``tests/test_tco.py``).

    Attributes
    ----------
    fleet : object
        ``buildbuy.tps.size_fleet`` result at the first year's peak (no headroom); None
        when no group size meets the latency target.
    options : tuple of (int, float)
        ``(gpus_per_replica, tokens_per_s_per_replica)`` for each feasible group size.
    error : str or None
        Why no group size meets the latency target (only with ``allow_infeasible``).
    """

    fleet: Any
    options: tuple[tuple[int, float], ...]
    error: str | None = None

    def __post_init__(self) -> None:
        # Drop group sizes that can never be cheapest: (tp_k, cap_k) loses to (tp_j, cap_j)
        # when tp_j divides tp_k and tp_j has at least the per-GPU capacity, because then
        # tp_j (ceil(x / cap_j) + s) <= tp_k (ceil(x / cap_k) + s) for every load x and
        # spare s (ceil(a r) <= r ceil(a) for a whole r). Fewer options, same counts.
        kept = tuple(
            (tp, cap) for tp, cap in self.options
            if not any(t != tp and tp % t == 0 and c / t >= cap / tp for t, c in self.options))
        object.__setattr__(self, "options", kept)

    def n_gpus(self, peak_tokens_per_s: Any, *, spare_replicas: int = 0,
               copies: int = 1) -> np.ndarray:
        """Fewest GPUs serving ``peak_tokens_per_s`` (prompt + output), elementwise.

        ``spare_replicas`` replicas are added to each copy and the fleet is repeated
        ``copies`` times, for each group size, before the cheapest is chosen. Written
        with in-place operations: it runs on every hourly level of every Monte Carlo
        draw. Zero when B is infeasible (:attr:`error` says why): its serving lines are
        then empty, and the decision marks the path blocked rather than pricing it.
        """
        peak = np.asarray(peak_tokens_per_s, dtype=float)
        if not self.options and self.error is not None:
            return np.zeros(peak.shape)
        best: np.ndarray | None = None
        for tp, cap in self.options:
            x = np.empty(peak.shape)
            np.divide(peak, cap, out=x)
            x -= 1e-12
            np.ceil(x, out=x)
            if spare_replicas:
                x += spare_replicas
            x *= tp * copies
            best = x if best is None else np.minimum(best, x, out=best)
        if best is None:
            raise bad("sizing", "no tensor-parallel group size",
                      "at least one group size that meets the latency target")
        return best

    @property
    def tokens_per_s_per_gpu(self) -> float:
        """The best per-GPU capacity among the group sizes (the fleet's full-load rate);
        0 when none is feasible."""
        return max((cap / tp for tp, cap in self.options), default=0.0)


def _check(redundancy: str, target_utilisation: Any) -> None:
    if redundancy not in REDUNDANCY:
        raise bad("redundancy", redundancy, "one of " + ", ".join(repr(r) for r in REDUNDANCY))
    u = np.asarray(target_utilisation, dtype=float)
    if np.any(~(u > 0)) or np.any(u > 1):
        raise bad("target_utilisation", float(u.flat[0]) if u.size else u,
                  "a share > 0 and <= 1")


def sites(redundancy: str) -> int:
    """Sites the fleet is spread over: 2 for ``"two_sites"``, else 1."""
    return 2 if redundancy == "two_sites" else 1


def servers_per_site(gpus: Any, gpus_per_server: int, redundancy: str) -> np.ndarray:
    """Servers in each site of an owned fleet of ``gpus`` GPUs (whole servers)."""
    return np.asarray(gpus, dtype=float) / gpus_per_server / sites(redundancy)


def fleet_gpus(sizing: Sizing, peak_tokens_per_s: Any, *, target_utilisation: Any,
               redundancy: str, gpus_per_server: int, owned: bool) -> np.ndarray:
    """GPUs of a fleet that serves ``peak_tokens_per_s`` with headroom and redundancy.

    Owned: whole servers per site, ``ceil(gpus / gpus_per_server)`` for the load at the
    target utilisation, one spare server per site for ``"n_plus_1"``, and that site
    repeated for ``"two_sites"``. Cloud: whole replicas (one spare replica for
    ``"n_plus_1"``, the fleet doubled for ``"two_sites"``). Zero load needs no fleet.
    Returns GPUs (a multiple of ``gpus_per_server`` when owned), elementwise.
    """
    _check(redundancy, target_utilisation)
    load = np.asarray(peak_tokens_per_s, dtype=float) / target_utilisation
    if owned:
        per_site = np.ceil(sizing.n_gpus(load) / gpus_per_server - 1e-9)
        if redundancy == "n_plus_1":
            per_site = per_site + (per_site > 0)
        return per_site * sites(redundancy) * gpus_per_server
    spare = 1 if redundancy == "n_plus_1" else 0
    gpus = sizing.n_gpus(load, spare_replicas=spare, copies=sites(redundancy))
    gpus *= load > 0
    return gpus


def cheapest_reservation(gpus: Any, hours: Any, *, usd_reserved: float,
                         usd_on_demand: float) -> np.ndarray:
    """GPUs to reserve for a period so that reserved + on-demand burst costs least.

    Over a period (a year of hourly needs ``gpus``, each lasting ``hours``; last axis),
    ``R`` reserved GPUs cost ``R x usd_reserved x sum(hours)`` and the burst costs
    ``usd_on_demand x sum(hours x max(0, gpus - R))``. The cost is convex and piecewise
    linear in ``R``; its minimum is the smallest need level ``R`` with
    ``usd_on_demand x (hours above R) <= usd_reserved x (all hours)``: reserve a GPU when
    it is busy at least ``usd_reserved / usd_on_demand`` of the time (the newsvendor
    rule). Returns ``R`` with the leading shape of ``gpus``.

    Examples
    --------
    Needs of 10 GPUs for 8 h and 2 GPUs for 16 h, reserved at 60% of on-demand: the 2
    base GPUs are always busy (reserve), the next 8 only a third of the time (burst).

    >>> float(cheapest_reservation([10.0, 2.0], [8.0, 16.0], usd_reserved=0.6,
    ...                            usd_on_demand=1.0))
    2.0
    """
    g = np.asarray(gpus, dtype=float)
    h = np.asarray(hours, dtype=float)
    if usd_on_demand <= 0 or usd_reserved >= usd_on_demand:
        return np.zeros(g.shape[:-1])
    if h.ndim <= 1 and h.size and np.all(h == h.flat[0]):
        # equal hours: the answer is the i-th largest need, i = floor(share x count)
        n = g.shape[-1]
        i = int(np.floor(usd_reserved / usd_on_demand * n + 1e-12))
        if i >= n:
            return np.zeros(g.shape[:-1])
        return np.partition(g, n - 1 - i, axis=-1)[..., n - 1 - i]
    w = np.broadcast_to(h, g.shape)
    order = np.argsort(-g, axis=-1, kind="stable")
    gs = np.take_along_axis(g, order, axis=-1)
    cum = np.cumsum(np.take_along_axis(w, order, axis=-1), axis=-1)
    quota = usd_reserved / usd_on_demand * cum[..., -1:]
    first = np.argmax(cum > quota, axis=-1)
    found = np.take_along_axis(cum > quota, first[..., None], axis=-1)[..., 0]
    r = np.take_along_axis(gs, first[..., None], axis=-1)[..., 0]
    return np.where(found, r, 0.0)


def request_split(S: Any) -> tuple[int, int]:
    """(prompt, output) tokens per request: output = round(tokens_per_request x share)."""
    out = round(S.tokens_per_request * S.output_token_share)
    return S.tokens_per_request - out, out


def year_peak_volume(S: Any, year: int) -> float:
    """The busiest month's volume in ``year`` (1-based) of the horizon."""
    first, last = 12 * (year - 1) + 1, min(12 * year, S.horizon_months)
    g = (1.0 + S.annual_growth) ** (np.array([first - 1, last - 1]) / 12.0)
    return float(S.monthly_tokens * g.max())


def sizing(S: Any, *, allow_infeasible: bool = False) -> Sizing:
    """Size Scenario B's serving replicas with ``buildbuy.tps.size_fleet``.

    Calls ``size_fleet`` once per tensor-parallel group size (1, 2, 4, 8 where the
    model's attention heads divide evenly, as ``size_fleet`` does) to get each group's
    tokens/s per replica, and once with the default search at the first year's peak
    for :attr:`Sizing.fleet` (no headroom: the replica shape the fleet is built from), at
    the scenario's ``weights_precision``. When no group meets the latency target,
    ``size_fleet``'s error is raised, or, with ``allow_infeasible=True``, returned in
    :attr:`Sizing.error` (the decision then marks B infeasible; :mod:`buildbuy.constraints`).
    """
    from buildbuy import data, tps

    prompt, output = request_split(S)
    peak = float(peak_tokens_per_s(year_peak_volume(S, 1), S.peak_to_average))
    kw = dict(prompt_tokens=prompt, output_tokens=output,
              max_ms_per_output_token=S.max_ms_per_output_token,
              precision=S.weights_precision)
    try:
        fleet = tps.size_fleet(S.self_host_model, S.gpu, peak_tokens_per_s=max(peak, 1.0),
                               **kw)
    except ValueError as err:
        if not allow_infeasible:
            raise
        return Sizing(None, (), str(err))
    heads = data.get_model(S.self_host_model).n_heads
    options = []
    for tp in (1, 2, 4, 8):
        if heads % tp:
            continue
        try:
            f = tps.size_fleet(S.self_host_model, S.gpu, peak_tokens_per_s=1.0,
                               tensor_parallel=tp, **kw)
        except ValueError:  # does not fit or misses the latency target at this size
            continue
        options.append((tp, float(f.tokens_per_s_per_gpu) * tp))
    return Sizing(fleet, tuple(options))


def first_year_site_kw(S: Any, size: Sizing | None = None) -> float:
    """Provisioned kW per site of the owned fleet bought for year 1's peak."""
    peak = peak_tokens_per_s(year_peak_volume(S, 1), S.peak_to_average)
    gpus = fleet_gpus(size if size is not None else sizing(S), peak,
                      target_utilisation=S.target_utilisation, redundancy=S.redundancy,
                      gpus_per_server=S.gpus_per_server, owned=True)
    return float(servers_per_site(gpus, S.gpus_per_server, S.redundancy)) * S.server_power_kw
