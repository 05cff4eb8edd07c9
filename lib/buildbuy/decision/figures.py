"""Figures: one number from the decision record, its unit, its basis and ONE formatter.

Every view prints a figure through :func:`format_value` (:attr:`Figure.text`), so the same
number reads the same everywhere: money and token counts with 3 significant digits and a
k/M/B suffix, months and shares with one decimal (none when whole), counts whole.
:func:`buildbuy.decision.decide` builds the registry ``Decision.figures``; the memo
(:mod:`buildbuy.memo`) quotes and checks these figures.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from buildbuy._validate import bad, choice

__all__ = ["UNITS", "Figure", "figure_map", "format_value"]

#: Units a :class:`Figure` can carry (``"text"``: a word such as the recommendation).
UNITS: tuple[str, ...] = ("usd", "usd_per_1k_tokens", "months", "share", "tokens", "count",
                          "fte", "tokens_per_s", "usd_per_request", "text")


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


def format_value(value: float | str | None, unit: str) -> str:
    """Format ``value`` in ``unit`` the way a board memo quotes it.

    USD and token counts take 3 significant digits with a k/M/B suffix, months and
    shares one decimal (none when whole), counts a whole number. ``None`` (e.g. a
    crossover that never happens within the horizon) reads "never within the horizon".

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
    >>> format_value(4.75, "fte"), format_value(0.48, "usd_per_request")
    ('4.8 FTE', '$0.480 per request')
    >>> format_value("build", "text")
    'build'
    """
    choice("unit", unit, UNITS)
    if unit == "text":
        if not isinstance(value, str):
            raise bad("value", value, "text for unit 'text'")
        return value
    if value is None:
        return "never within the horizon"
    if isinstance(value, str):
        raise bad("value", value, f"a number for unit {unit!r}")
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
        return f"{x:.1f} FTE"
    if unit == "tokens_per_s":
        return f"{x:,.0f} tokens/s"
    if unit == "usd_per_request":
        return f"{sign}${_sig(abs(x))} per request"
    return f"{round(x):d}"


@dataclass(frozen=True)


class Figure:
    """One number of the decision record, as every view prints it.

    Attributes
    ----------
    key : str
        Registry name, e.g. ``"tco_a_usd"``; a memo quotes it as ``{tco_a_usd}``.
    label : str
        What it is, in words (also the row label of the memo's table).
    value : float, str or None
        The value (``None`` when it does not exist, e.g. no payback; text for unit
        ``"text"``).
    unit : str
        One of :data:`UNITS`; ``"share"`` is a fraction (0.35 prints as 35.0%).
    basis : str
        What the number counts, when it matters (``"after tax, value included"``,
        ``"pre-tax cash costs"``): two figures that differ by design say so here.
    """

    key: str
    label: str
    value: float | str | None
    unit: str
    basis: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", self.key):
            raise bad("key", self.key, "a lower-case identifier such as 'tco_a_usd'")
        choice("unit", self.unit, UNITS)
        if self.value is not None:
            format_value(self.value, self.unit)  # validates finiteness and text

    @property
    def text(self) -> str:
        """The value as the memo prints it."""
        return format_value(self.value, self.unit)


def figure_map(figures: Mapping[str, Figure] | Iterable[Figure]) -> dict[str, Figure]:
    """``{key: Figure}`` from a mapping or an iterable of figures (validated)."""
    items = list(figures.values()) if isinstance(figures, Mapping) else list(figures)
    out: dict[str, Figure] = {}
    for fig in items:
        if not isinstance(fig, Figure):
            raise bad("figures", fig, "Figure objects (see buildbuy.decision.Figure)")
        out[fig.key] = fig
    return out
