"""Figures a memo quotes: one number from the model, its unit and its board formatting.

Money and token counts print with 3 significant digits and a k/M/B suffix, months and
shares with one decimal (none when whole). :func:`figures_from_comparison` collects the
standard set from ``buildbuy.tco.compare``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from buildbuy._validate import bad, choice

__all__ = ["UNITS", "Figure", "figure_map", "figures_from_comparison", "format_value",
           "memo_figures"]

#: Units a :class:`Figure` can carry.
UNITS: tuple[str, ...] = ("usd", "usd_per_1k_tokens", "months", "share", "tokens", "count",
                          "fte", "ratio")


def _sig(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits as a plain decimal (no exponent)."""
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    text = f"{x:.{decimals}f}"
    # rounding may carry into a new digit (9.995 -> 10.00): drop the extra decimal
    if decimals and len(text.replace("-", "").replace(".", "").lstrip("0")) > digits:
        text = f"{x:.{decimals - 1}f}"
    return text


def _scaled(x: float) -> tuple[float, str]:
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return x / scale, suffix
    return x, ""


def format_value(value: float | None, unit: str) -> str:
    """Format ``value`` in ``unit`` the way a board memo quotes it.

    USD and token counts take 3 significant digits with a k/M/B suffix, months and
    shares one decimal (none when whole), counts a whole number, full-time equivalents
    (``"fte"``) one decimal (none when whole) and ratios two decimals with an ``x``.
    ``None`` (e.g. a crossover that never happens within the horizon) reads "never
    within the horizon".

    Examples
    --------
    >>> format_value(1_234_567, "usd")
    '$1.23M'
    >>> format_value(0.012345, "usd_per_1k_tokens")
    '$0.0123 per 1k tokens'
    >>> format_value(14.24, "months"), format_value(36, "months"), format_value(0.3512, "share")
    ('14.2 months', '36 months', '35.1%')
    >>> format_value(2.5e9, "tokens"), format_value(8, "count")
    ('2.50B tokens', '8')
    >>> format_value(5.5, "fte"), format_value(6.0, "fte"), format_value(1.456, "ratio")
    ('5.5 FTE', '6 FTE', '1.46x')
    """
    choice("unit", unit, UNITS)
    if value is None:
        return "never within the horizon"
    x = float(value)
    if not math.isfinite(x):
        raise bad("value", value, "a finite number or None")
    sign = "-" if x < 0 else ""
    if unit in ("usd", "tokens"):
        x = float(f"{x:.3g}")  # round first, so 999_500 prints as 1.00M, not 1000k
    if unit == "usd":
        v, suffix = _scaled(abs(x))
        return f"{sign}${_sig(v)}{suffix}"
    if unit == "usd_per_1k_tokens":
        return f"{sign}${_sig(abs(x))} per 1k tokens"
    if unit == "months":
        if x.is_integer():  # whole months read as such: "36 months", "1 month"
            return f"{x:.0f} month" + ("" if abs(x) == 1 else "s")
        return f"{x:.1f} months"
    if unit == "share":
        pct = 100 * x
        return f"{pct:.0f}%" if abs(pct - round(pct)) < 1e-9 else f"{pct:.1f}%"
    if unit == "tokens":
        v, suffix = _scaled(abs(x))
        return f"{sign}{_sig(v)}{suffix} tokens"
    if unit == "fte":
        tenths = f"{x:.1f}"
        return (tenths[:-2] if tenths.endswith(".0") else tenths) + " FTE"
    if unit == "ratio":
        return f"{x:.2f}x"
    return f"{round(x):d}"


@dataclass(frozen=True)


class Figure:
    """One number from the model that a memo may quote.

    Attributes
    ----------
    key : str
        Placeholder name, e.g. ``"tco_a_usd"``; quoted in text as ``{tco_a_usd}``.
    label : str
        Row label in the Financial impact table.
    value : float or None
        The model's value (``None`` when it does not exist, e.g. no payback).
    unit : str
        One of :data:`UNITS`; ``"share"`` is a fraction (0.35 prints as 35.0%).
    """

    key: str
    label: str
    value: float | None
    unit: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", self.key):
            raise bad("key", self.key, "a lower-case identifier such as 'tco_a_usd'")
        choice("unit", self.unit, UNITS)
        if self.value is not None:
            format_value(self.value, self.unit)  # validates finiteness

    @property
    def text(self) -> str:
        """The value as the memo prints it."""
        return format_value(self.value, self.unit)


def figure_map(figures: Mapping[str, Figure] | Iterable[Figure]) -> dict[str, Figure]:
    """``figures`` (a mapping or an iterable of :class:`Figure`) as a dict key -> Figure."""
    items = list(figures.values()) if isinstance(figures, Mapping) else list(figures)
    out: dict[str, Figure] = {}
    for fig in items:
        if not isinstance(fig, Figure):
            raise bad("figures", fig, "Figure objects (see buildbuy.memo.Figure)")
        out[fig.key] = fig
    return out


# --- figures from the model ----------------------------------------------------------


def _get(obj: Any, name: str, key: str | None = None) -> Any:
    value = getattr(obj, name)
    return value[key] if key is not None else value


def figures_from_comparison(comparison: Any) -> dict[str, Figure]:
    """The memo's standard figures from a :func:`buildbuy.tco.compare` result.

    Keys: ``tco_a_usd``, ``tco_b_usd``, ``tco_saving_usd`` (A - B, positive when
    building is cheaper), ``tco_saving_share`` (of A), ``tco_gap_usd`` (``|A - B|``),
    ``npv_a_usd``, ``npv_b_usd``, ``crossover_month``, ``payback_months`` (simple),
    ``usd_per_1k_tokens_a``, ``usd_per_1k_tokens_b``, ``break_even_monthly_tokens``,
    ``monthly_tokens``, ``annual_growth``, ``horizon_months``, ``months_to_production_a``,
    ``months_to_production_b``.

    The per-1k-token figures divide each scenario's TCO by the tokens *demanded* over
    the horizon (the same denominator for A and B, growth compounding monthly as in
    :mod:`buildbuy.tco`), so they include hardware, staff and opportunity cost, unlike
    the per-month operating cost per token of ``compare(...).usd_per_1k_tokens``.
    """
    tco_a = float(_get(comparison, "tco_usd", "A"))
    tco_b = float(_get(comparison, "tco_usd", "B"))
    s = comparison.scenario
    payback = comparison.payback_months
    discounted = None
    if isinstance(payback, Mapping):
        discounted = payback.get("discounted", discounted)
        payback = payback.get("simple")
    elif hasattr(payback, "simple"):
        payback = payback.simple
    tokens = _horizon_tokens(comparison)
    be = comparison.break_even_monthly_tokens
    figs = [
        Figure("tco_a_usd", "TCO, A (API-first)", tco_a, "usd"),
        Figure("tco_b_usd", "TCO, B (self-host)", tco_b, "usd"),
        Figure("tco_saving_usd", "TCO saving of B over A", tco_a - tco_b, "usd"),
        Figure("tco_saving_share", "TCO saving of B, share of A", (tco_a - tco_b) / tco_a,
               "share"),
        Figure("tco_gap_usd", "TCO gap between A and B", abs(tco_a - tco_b), "usd"),
        Figure("extra_cost_b_usd", "Extra cost of B over A", tco_b - tco_a, "usd"),
        Figure("extra_cost_b_share", "Extra cost of B, share of A", (tco_b - tco_a) / tco_a,
               "share"),
        Figure("npv_a_usd", "NPV of costs, A", float(_get(comparison, "npv_usd", "A")), "usd"),
        Figure("npv_b_usd", "NPV of costs, B", float(_get(comparison, "npv_usd", "B")), "usd"),
        Figure("crossover_month", "Month B's cumulative cost drops below A's",
               _none_or_float(comparison.crossover_month), "months"),
        Figure("payback_months", "Payback of B against A (simple, undiscounted)",
               _none_or_float(payback), "months"),
        Figure("discounted_payback_months", "Payback of B against A (discounted)",
               _none_or_float(discounted), "months"),
        Figure("usd_per_1k_tokens_a", "TCO per 1k tokens demanded, A",
               tco_a / tokens * 1e3, "usd_per_1k_tokens"),
        Figure("usd_per_1k_tokens_b", "TCO per 1k tokens demanded, B",
               tco_b / tokens * 1e3, "usd_per_1k_tokens"),
        Figure("break_even_monthly_tokens", "Break-even monthly volume",
               _none_or_float(be), "tokens"),
        Figure("monthly_tokens", "Monthly volume today", float(s.monthly_tokens), "tokens"),
        Figure("annual_growth", "Volume growth per year", float(s.annual_growth), "share"),
        Figure("horizon_months", "Horizon", float(s.horizon_months), "months"),
        Figure("months_to_production_a", "Time to production, A",
               float(s.months_to_production_a), "months"),
        Figure("months_to_production_b", "Time to production, B",
               float(s.months_to_production), "months"),
    ]
    return {f.key: f for f in figs}


def _none_or_float(x: Any) -> float | None:
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _horizon_tokens(comparison: Any) -> float:
    """Tokens served over the horizon, from the scenario's volume and growth (monthly compounding
    of ``annual_growth``, month 1 = ``monthly_tokens``)."""
    s = comparison.scenario
    g = (1.0 + float(s.annual_growth)) ** (1.0 / 12.0)
    n = int(s.horizon_months)
    return float(s.monthly_tokens) * sum(g**m for m in range(n))


def memo_figures(scenario: Any) -> dict[str, Figure]:
    """:func:`figures_from_comparison` of ``buildbuy.tco.compare(scenario)``."""
    from buildbuy import tco

    return figures_from_comparison(tco.compare(scenario))
