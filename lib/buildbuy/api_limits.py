"""The API path's rate limits, and what it costs to serve a peak above them.

An API account has rate limits: tokens (and requests) per minute, set by a usage tier
(``data/api_rate_limits.csv``: Anthropic's input-token (ITPM) and output-token (OTPM)
limits; OpenAI's combined TPM). Tiers are bought into with a small prepayment, so the
path uses the lowest published tier whose limits hold at the month's peak. A negotiated
quota (``api_tokens_per_minute``) replaces the table with one custom input-token limit.

When the peak exceeds the top published tier:

- if a provider publishes **provisioned throughput** for the model
  (``data/api_provisioned.csv``), the path buys enough units to take the excess: the
  provisioned capacity serves a constant base of the load, so pay-as-you-go keeps at
  most the top tier's limits at the peak. Units are ``max(min_units, ceil(U / per
  unit))`` with ``U = f x peak x burndown`` tokens/s, ``f`` the share of the peak above
  the tier and ``burndown`` the offer's weight per token of the mix (output tokens
  weigh more, cached input less). Tokens the units serve, hour by hour on the daily
  profile, are not billed per token.
- if none is published, the path is **not feasible at published terms**:
  :func:`quota_blocking_reasons` says so, with numbers, and the cost is not changed.

Conventions
-----------
- The month's peak is ``peak_to_average`` x its average tokens/s (the busiest hour).
- Input tokens per minute exclude cached input reads (they do not count toward
  Anthropic's ITPM); OpenAI's TPM counts every token.
- The tier's monthly spend ceiling (``max_usd_per_month``) is reported, not priced: a
  larger bill moves to invoiced billing, which changes no price.

Examples
--------
>>> from buildbuy import scenarios
>>> p = quota_plan(scenarios.load("hospital_notes"))
>>> p.tier[int(p.live.argmax())], bool(p.feasible)   # first live month
('tier_2', True)
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

__all__ = ["Offer", "QuotaContext", "QuotaPlan", "Tier", "provisioned", "quota_blocking_reasons",
           "quota_context", "quota_plan"]

_SECONDS_PER_MONTH = 730.0 * 3600.0


@dataclasses.dataclass(frozen=True)
class Tier:
    """Published (or negotiated) limits of one usage tier; ``inf`` where none applies."""

    name: str
    input_tokens_per_minute: float
    output_tokens_per_minute: float
    total_tokens_per_minute: float
    max_usd_per_month: float


@dataclasses.dataclass(frozen=True)
class Offer:
    """A provisioned-throughput offer (a row of ``data/api_provisioned.csv``)."""

    offer: str
    tokens_per_s_per_unit: float
    output_token_weight: float
    cached_input_weight: float
    min_units: float
    usd_per_unit_month: float


@dataclasses.dataclass(frozen=True)
class QuotaContext:
    """What stays fixed across Monte Carlo draws: the tiers and the offer."""

    tiers: tuple[Tier, ...]
    offer: Offer | None


def _num(x: Any) -> float:
    return math.inf if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


@functools.cache
def _table_tiers(api_model: str) -> tuple[Tier, ...]:
    from buildbuy import data

    t = data.load_table("api_rate_limits")
    rows = t[t["api_model"] == data.canonical_name("api_rate_limits", api_model)]
    tiers = [Tier(str(r.tier), _num(r.input_tokens_per_minute), _num(r.output_tokens_per_minute),
                  _num(r.total_tokens_per_minute), _num(r.max_usd_per_month))
             for r in rows.itertuples()]
    return tuple(sorted(tiers, key=lambda x: (x.input_tokens_per_minute,
                                              x.total_tokens_per_minute)))


@functools.cache
def _offer(api_model: str) -> Offer | None:
    from buildbuy import data

    name = data.canonical_name("api_provisioned", api_model)
    if name is None:
        return None
    r = data.load_table("api_provisioned").set_index("api_model").loc[name]
    return Offer(str(r.offer), float(r.tokens_per_s_per_unit), float(r.output_token_weight),
                 float(r.cached_input_weight), float(r.min_units), float(r.usd_per_unit_month))


def quota_context(S: Any) -> QuotaContext:
    """The tiers that apply to ``S`` (its negotiated quota, or the table) and the offer."""
    if getattr(S, "api_tokens_per_minute", None) is not None:
        tiers: tuple[Tier, ...] = (Tier("negotiated quota", float(S.api_tokens_per_minute),
                                        math.inf, math.inf, math.inf),)
    else:
        tiers = _table_tiers(S.api_model)
    return QuotaContext(tiers, _offer(S.api_model))


def _demand(peak: Any, o: Any, cs: Any) -> tuple[Any, Any, Any]:
    """Tokens per minute at the peak: (uncached input, output, total)."""
    per_min = np.asarray(peak, dtype=float) * 60.0
    return per_min * (1.0 - o) * (1.0 - cs), per_min * o, per_min


def _over(tier: Tier, peak: Any, o: Any, cs: Any) -> np.ndarray:
    """Share of the peak above the tier's limits (0 where they hold)."""
    demand = _demand(peak, o, cs)
    limits = (tier.input_tokens_per_minute, tier.output_tokens_per_minute,
              tier.total_tokens_per_minute)
    f = np.zeros(np.shape(demand[2]))
    for d, lim in zip(demand, limits, strict=True):
        if math.isfinite(lim):
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.maximum(f, np.where(d > 0, 1.0 - lim / np.where(d > 0, d, 1.0), 0.0))
    return f


def provisioned(qc: QuotaContext, average_tokens_per_s: Any, peak_to_average: Any,
                hour_levels: Any, hours: Any, o: Any, cs: Any
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Provisioned units, their monthly cost and the share of tokens they serve.

    ``average_tokens_per_s`` has shape ``(..., M)``; ``hour_levels`` the day's distinct
    load levels, shape ``(L,)`` or ``(..., L)``, with ``hours`` hours at each (sum 24).
    Returns ``(units, usd, served_share)``, each ``(..., M)``; all zero where the top
    tier holds or no offer exists.
    """
    avg = np.asarray(average_tokens_per_s, dtype=float)
    zero = np.zeros(np.broadcast_shapes(avg.shape, np.shape(peak_to_average)))
    if not qc.tiers or qc.offer is None:
        return zero, zero, zero
    top = qc.tiers[-1]
    # the busiest month of the busiest draw inside every limit: nothing to provision
    most = float(np.max(avg)) * float(np.max(peak_to_average)) * 60.0
    if (most * float(np.max(1.0 - np.asarray(o))) <= top.input_tokens_per_minute
            and most * float(np.max(o)) <= top.output_tokens_per_minute
            and most <= top.total_tokens_per_minute):
        return zero, zero, zero
    peak = avg * peak_to_average
    f = _over(top, peak, o, cs)
    off = qc.offer
    burn = (1.0 - o) * (1.0 - cs) + (1.0 - o) * cs * off.cached_input_weight \
        + o * off.output_token_weight
    need = f > 0
    if not need.any():
        return zero + 0.0 * f, zero + 0.0 * f, zero + 0.0 * f
    units = np.where(need, np.maximum(off.min_units,
                                      np.ceil(f * peak * burn / off.tokens_per_s_per_unit
                                              - 1e-9)), 0.0)
    capacity = units * off.tokens_per_s_per_unit / burn          # tokens/s it can serve
    lv = np.asarray(hour_levels, dtype=float)
    lv = lv[..., None, :] if lv.ndim > 1 else lv
    # served share = sum over hours of min(load, capacity) / volume
    #              = sum_l hours_l min(level_l, capacity / average) / 24
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(avg > 0, capacity / np.where(avg > 0, avg, 1.0), 0.0)
    share = np.minimum(lv, ratio[..., None]) @ (np.asarray(hours, dtype=float) / 24.0)
    return units, units * off.usd_per_unit_month, share


@dataclasses.dataclass(frozen=True)
class QuotaPlan:
    """Month by month (index 0..horizon): the tier, demand and provisioned capacity."""

    months: np.ndarray
    live: np.ndarray
    peak_tokens_per_s: np.ndarray
    input_tokens_per_minute: np.ndarray
    output_tokens_per_minute: np.ndarray
    total_tokens_per_minute: np.ndarray
    tier: list[str]
    over_top_share: np.ndarray
    provisioned_units: np.ndarray
    provisioned_usd: np.ndarray
    provisioned_served_share: np.ndarray
    offer: Offer | None
    top: Tier | None

    @property
    def feasible(self) -> bool:
        """False if some live month's peak exceeds the top tier and nothing is offered."""
        return not (self.offer is None and self.top is not None
                    and bool(np.any(self.over_top_share[self.live] > 0)))


def quota_plan(S: Any) -> QuotaPlan:
    """The rate-limit plan of Scenario A for scenario ``S`` (see the module docstring)."""
    from buildbuy import load_profile

    qc = quota_context(S)
    m = np.arange(S.horizon_months + 1, dtype=float)
    live = m > S.months_to_production_a
    volume = S.monthly_tokens * (1.0 + S.annual_growth) ** ((m - 1.0) / 12.0) * (m >= 1)
    avg = volume / _SECONDS_PER_MONTH
    peak = avg * S.peak_to_average
    i, out, tot = _demand(peak, S.output_token_share, S.cached_input_share)
    names = []
    for p in peak:
        fit = [t.name for t in qc.tiers if float(_over(t, p, S.output_token_share,
                                                        S.cached_input_share)) <= 0]
        names.append(fit[0] if fit else ("provisioned" if qc.offer else "none"))
    top = qc.tiers[-1] if qc.tiers else None
    over = _over(top, peak, S.output_token_share, S.cached_input_share) if top else 0 * peak
    lv, hours = load_profile.levels(S.load_profile, S.peak_to_average)
    units, usd, share = provisioned(qc, avg, S.peak_to_average, lv, hours,
                                    S.output_token_share, S.cached_input_share)
    return QuotaPlan(m.astype(int), live, peak, i, out, tot, names, over, units * live,
                     usd * live, share * live, qc.offer, top)


def quota_blocking_reasons(S: Any, *, months: Any = None) -> list[str]:
    """Why the API cannot carry the scenario's traffic at published terms (empty if it can).

    A live month whose peak exceeds the top tier, with no provisioned offer to price the
    excess, blocks the path. The message names the month, the peak demand and the limit.
    ``months`` (a 0/1 or boolean array over months ``0..horizon``) restricts the check to
    the months a path actually sends traffic to the API (the hybrid's bridge); by default
    every month after A's go-live. :mod:`buildbuy.constraints` runs it as a rule.
    """
    p = quota_plan(S)
    if p.feasible or p.top is None:
        return []
    use = p.live if months is None else p.live & (np.asarray(months) > 0)
    over = np.flatnonzero(use & (p.over_top_share > 0))
    if over.size == 0:
        return []
    k = int(over[0])
    t = p.top
    return [f"from month {p.months[k]} the API's peak of {p.input_tokens_per_minute[k]:,.0f} "
            f"input and {p.output_tokens_per_minute[k]:,.0f} output tokens a minute exceeds "
            f"{S.api_model}'s top published tier ({t.name}: {_limit_text(t)}) and no "
            "provisioned throughput is published for it: not feasible at published terms "
            "(a custom limit needs a negotiated contract)"]


def _limit_text(t: Tier) -> str:
    parts = [f"{v:,.0f} {label}" for v, label in
             ((t.input_tokens_per_minute, "input"), (t.output_tokens_per_minute, "output"),
              (t.total_tokens_per_minute, "total")) if math.isfinite(v)]
    return " / ".join(parts) + " tokens a minute"
