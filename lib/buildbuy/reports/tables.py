"""The learner report's tables and charts, formatted for people.

A report is read by an executive, not a Python prompt: ``40000000000.0`` becomes
``40,000,000,000``, ``0.095`` a share becomes ``9.5%``, a dollar amount carries its
``$``, sources are shown whole (pandas would cut them at 50 characters with
"..."), and no table shows pandas' row numbers. :func:`html_table` renders a
DataFrame that way; the template ``notebooks/learner_report.ipynb`` calls the
functions here and holds no formatting of its own.

Examples
--------
>>> value_text("monthly_tokens", 4e10), value_text("discount_rate", 0.095)
('40,000,000,000', '9.5%')
>>> value_text("api_integration_usd", 94000.0), value_text("gpu_usd_per_hour", None)
('$94,000', '(empty)')
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

__all__ = [
    "REPORT_FIELDS",
    "cost_charts",
    "html_table",
    "inputs_table",
    "number_text",
    "valuation_table",
    "value_text",
]

#: the scenario fields the report's inputs table shows (plus any field overridden)
REPORT_FIELDS: tuple[str, ...] = (
    "monthly_tokens", "output_token_share", "annual_growth", "tokens_per_request",
    "peak_to_average", "max_ms_per_output_token", "api_model", "api_price_decline",
    "api_discount", "api_refresh_months", "self_host_model", "gpu", "hosting",
    "target_utilisation", "redundancy", "on_call_coverage", "downtime_usd_per_hour",
    "months_to_production_a", "months_to_production", "value_usd_per_request",
    "quality_b_vs_a", "data_residency", "retrain_policy", "horizon_months", "discount_rate",
    "tax_rate", "sector")


def number_text(x: float) -> str:
    """A number with thousands separators and no float noise (at most 6 decimals).

    Examples
    --------
    >>> number_text(40000000000.0), number_text(184.06), number_text(0.0806), number_text(2.5)
    ('40,000,000,000', '184.06', '0.0806', '2.5')
    """
    if not math.isfinite(x):
        return str(x)
    if float(x).is_integer():
        return f"{x:,.0f}"
    text = f"{x:,.6f}".rstrip("0").rstrip(".")
    return text if text not in ("0", "-0") else f"{x:.3g}"


def value_text(field: str, value: Any) -> str:
    """``value`` of scenario field ``field`` as a person reads it (unit from the schema)."""
    from buildbuy.scenarios import FIELDS

    if value is None:
        return "(empty)"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    unit = FIELDS[field].unit if field in FIELDS else ""
    x = float(value)
    if unit.startswith("share"):
        pct = 100 * x
        return f"{number_text(round(pct, 4))}%"
    if unit.startswith("USD"):
        return f"{'-' if x < 0 else ''}${number_text(abs(x))}"
    return number_text(x)


def inputs_table(scenario: Any, overrides: Mapping[str, Any] | None = None,
                 fields: Iterable[str] = REPORT_FIELDS) -> pd.DataFrame:
    """The report's inputs: one row per field (the shown ones, then any overridden one):
    value as text, unit, and the whole source of the value."""
    from buildbuy.scenarios import FIELDS

    shown = [f for f in fields if f in FIELDS]
    shown += [f for f in (overrides or {}) if f in FIELDS and f not in shown]
    rows = [(f, value_text(f, getattr(scenario, f)), FIELDS[f].unit, scenario.source(f))
            for f in shown]
    return pd.DataFrame(rows, columns=["field", "value", "unit", "source"]).set_index("field")


def valuation_table(decision: Any) -> pd.DataFrame:
    """The decision record's valuation methods, dollars formatted, with each one's basis,
    indexed by method (``decision.valuation.table``: ``method``, ``value_usd``, ``basis``)."""
    from buildbuy.decision import format_value
    from buildbuy.valuation import METHOD_LABELS

    t = decision.valuation.table.copy()
    t["method"] = t["method"].map(METHOD_LABELS)
    t["value_usd"] = t["value_usd"].map(lambda v: format_value(float(v), "usd"))
    return t.rename(columns={"value_usd": "value"}).set_index("method")[["value", "basis"]]


# specific enough to beat JupyterLab's right-aligned ``.jp-RenderedHTMLCommon td``
_TABLE_CSS = ("<style>.jp-RenderedHTMLCommon table.buildbuy-table td,"
              ".jp-RenderedHTMLCommon table.buildbuy-table th{text-align:left}"
              ".jp-RenderedHTMLCommon table.buildbuy-table td:not(:last-child)"
              "{white-space:nowrap}</style>")


def html_table(df: pd.DataFrame) -> Any:
    """``df`` as an HTML table for the report: every cell escaped and shown whole, text
    left-aligned, a named index shown as the first column and no row numbers."""
    from IPython.display import HTML

    if df.index.name is not None:
        df = df.reset_index()
    with pd.option_context("display.max_colwidth", None):
        body = df.to_html(index=False, escape=True, border=0, na_rep="", justify="left",
                          classes="dataframe buildbuy-table")
    return HTML(_TABLE_CSS + body)


def cost_charts(comparison: Any) -> Any:
    """Cumulative cost of A and B by month, and what each costs by category.

    The category legend sits to the right of the bars, outside the axes, so it never
    covers a bar (``tests/test_reports.py`` checks it for every persona).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.5, 3.8))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
    cum = comparison.cumulative / 1e6
    ax1.plot(cum.index, cum["A"], color="#4c72b0", label="A: API")
    ax1.plot(cum.index, cum["B"], color="#dd8452", label="B: self-host")
    ax1.set(xlabel="month", ylabel="cumulative cost, $M", title="Cumulative cost")
    ax1.legend(loc="upper left", frameon=False)
    by_cat = (comparison.cashflows.groupby(["scenario", "category"]).usd.sum()
              .unstack(fill_value=0.0) / 1e6)
    bottom = pd.Series(0.0, index=by_cat.index)
    for cat in by_cat.columns:
        ax2.bar(by_cat.index, by_cat[cat], bottom=bottom, label=cat, width=0.6)
        bottom = bottom + by_cat[cat]
    ax2.set(xlabel="scenario", ylabel="$M over the horizon", title="Cost by category")
    ax2.legend(title="category", loc="upper left", bbox_to_anchor=(1.02, 1.0),
               frameon=False)
    fig.tight_layout()
    return fig
