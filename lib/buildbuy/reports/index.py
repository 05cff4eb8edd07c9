"""The class view of a run: ``summary.csv`` and ``index.html``.

``summary.csv`` has one row per roster row, in roster order, with the columns
:data:`SUMMARY_COLUMNS`. ``index.html`` is one self-contained page (no script,
no style or image from the network): the roster it came from and when it was
generated, a table linking every learner's report and board pack (memo PDF
and deck) with status and key figures,
and three class charts for the instructor (matplotlib PNGs embedded as base64):
the distribution of payback months, the distribution of the NPV gap of self-hosting
over the API (after tax, from each learner's decision record), and the
recommendation counts. With no finished report there are no charts, and the page
says so.

The figures' horizons differ, and the page says which is which: each learner's
NPV gap, payback and TCO columns cover that learner's own horizon, shown in its
own column.

Every learner-provided string (id, name, persona cell, reason quoting a bad
value) goes through :func:`html.escape`; links use the safe id only. A long name
or id is cut at :data:`MAX_CELL_CHARS` characters on the page, the whole text kept
in the cell's ``title`` (shown on hover), so the table keeps its layout.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from buildbuy.boardpack.export import PACK_FILES
from buildbuy.decision.registry import SUMMARY_KEYS
from buildbuy.reports.state import atomic_write_text

__all__ = [
    "FIGURE_COLUMNS",
    "PACK_COLUMNS",
    "STATUSES",
    "SUMMARY_COLUMNS",
    "class_charts",
    "render_index",
    "write_index",
    "write_summary",
]

#: statuses of a roster row
STATUSES: tuple[str, ...] = ("ok", "skipped", "failed", "invalid")
#: key figures the report template emits (cell tagged ``report-figures``): the decision
#: record's :data:`buildbuy.decision.SUMMARY_KEYS`, e.g. ``recommendation`` (build, buy,
#: hybrid or neither), ``npv_gap_usd`` (after-tax NPV of B minus A, value included),
#: ``payback_months`` (of B against A, after tax; empty = never within the horizon),
#: ``tco_a_usd`` / ``tco_b_usd`` (pre-tax cash cost over the horizon), ``horizon_months``
FIGURE_COLUMNS: tuple[str, ...] = SUMMARY_KEYS
#: board-pack columns of ``summary.csv`` -> file suffix (the file name, empty if none)
PACK_COLUMNS: dict[str, str] = dict(PACK_FILES)
#: columns of ``summary.csv``
SUMMARY_COLUMNS: tuple[str, ...] = ("row", "learner_id", "learner_name", "safe_id", "scenario",
                                    "status", *FIGURE_COLUMNS, *PACK_COLUMNS, "seconds",
                                    "reason")
_DONE = ("ok", "skipped")
#: learner strings longer than this are cut on the page (whole in the title attribute)
MAX_CELL_CHARS = 60


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if not math.isfinite(v):
            return ""
        return str(int(v)) if v.is_integer() else repr(round(v, 6))  # 36, not 36.0
    return str(v)


def write_summary(out_dir: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write ``summary.csv`` (atomically) and return its path."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SUMMARY_COLUMNS)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in SUMMARY_COLUMNS])
    return atomic_write_text(out_dir / "summary.csv", buf.getvalue())


def _num(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def class_charts(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The three class charts as base64 PNGs: ``payback``, ``savings``, ``recommendation``.

    Only rows with status ok or skipped count; with none, there are no charts (an
    empty dict). A learner whose self-hosting never pays back within the horizon is
    counted in the payback chart's title.
    """
    from matplotlib.figure import Figure

    done = [r for r in rows if r.get("status") in _DONE]
    payback = [x for r in done if (x := _num(r.get("payback_months"))) is not None]
    never = sum(1 for r in done if _num(r.get("payback_months")) is None)
    savings = [x / 1e6 for r in done if (x := _num(r.get("npv_gap_usd"))) is not None]
    recs = Counter(str(r.get("recommendation")) for r in done if r.get("recommendation"))
    if not done:
        return {}

    charts = {}
    fig = Figure(figsize=(5, 3.2))
    ax = fig.subplots()
    if payback:
        ax.hist(payback, bins=min(12, max(3, len(payback))), color="#4c72b0", edgecolor="white")
    ax.set(xlabel="payback of self-hosting (months)", ylabel="learners",
           title=f"Payback months ({len(payback)} pay back, {never} never)")
    charts["payback"] = _png(fig)

    fig = Figure(figsize=(5, 3.2))
    ax = fig.subplots()
    if savings:
        ax.hist(savings, bins=min(12, max(3, len(savings))), color="#55a868", edgecolor="white")
    ax.axvline(0, color="black", lw=0.8)
    ax.set(xlabel="NPV gap of B over A, after tax (USD millions; > 0: self-hosting better)",
           ylabel="learners", title=f"NPV gap of self-hosting ({len(savings)} learners)")
    charts["savings"] = _png(fig)

    fig = Figure(figsize=(5, 3.2))
    ax = fig.subplots()
    known = ("build", "buy", "hybrid", "neither")
    names = [*known, *sorted(set(recs) - set(known))]
    ax.bar(names, [recs.get(n, 0) for n in names], color=["#c44e52", "#4c72b0", "#8172b2",
                                                          "#937860",
                                                          *["#999999"] * (len(names) - 4)])
    ax.set(ylabel="learners", title="Recommendations")
    charts["recommendation"] = _png(fig)
    return charts


def _fmt_usd(v: Any) -> str:
    from buildbuy.memo import format_value

    x = _num(v)
    return "" if x is None else format_value(x, "usd")


def _fmt_months(v: Any, status: str) -> str:
    x = _num(v)
    if x is None:
        return "never" if status in _DONE else ""
    return f"{x:.1f}"


def _months_text(v: Any) -> str:
    x = _num(v)
    return "" if x is None else f"{x:.0f}"


def _text(value: Any) -> str:
    """A learner string, escaped; cut at :data:`MAX_CELL_CHARS` with the whole in a title."""
    text = str(value or "")
    if len(text) <= MAX_CELL_CHARS:
        return html.escape(text)
    return (f'<span title="{html.escape(text, quote=True)}">'
            f"{html.escape(text[:MAX_CELL_CHARS - 1])}\u2026</span>")


#: link text of each board-pack file in the report column
_PACK_LINK_TEXT: dict[str, str] = {"memo_pdf": "memo PDF", "deck_pptx": "deck"}


def _pack_links(row: Mapping[str, Any], sid: str) -> str:
    """Links to the learner's board-pack files named in ``row`` (none if it has none).

    The file name is the safe id and the pack's suffix, never the learner's text.
    """
    links = [f'<a href="{html.escape(sid + suffix)}">{_PACK_LINK_TEXT[col]}</a>'
             for col, suffix in PACK_COLUMNS.items() if row.get(col)]
    return "".join(f" · {a}" for a in links)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;font-size:0.9rem;max-width:100%}th,td{border:1px solid #ddd;
padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#f4f4f4}
td{max-width:18rem}td.num{text-align:right;white-space:nowrap}
.ok,.skipped{color:#1a7f37}.failed{color:#b3261e;font-weight:bold}.invalid{color:#9a6700;
font-weight:bold}.charts img{max-width:32%;margin-right:1%}.reason{max-width:40rem;
font-family:monospace;font-size:0.8rem}.meta{color:#555}.empty{padding:1rem;background:#fff8e1;
border:1px solid #f0d98c}
"""
_HEAD = ("row", "learner", "id", "persona", "status", "recommendation", "payback (months)",
         "NPV gap, B over A (after tax)", "horizon (months)", "TCO A (over the horizon)",
         "TCO B (over the horizon)", "report", "seconds", "reason")
_NUMERIC = {6, 7, 8, 9, 10, 12}


def render_index(rows: Sequence[Mapping[str, Any]], *, out_dir: Path | None = None,
                 roster: str | None = None, generated: str | None = None) -> str:
    """The ``index.html`` page for ``rows`` (see :func:`write_index`).

    ``roster`` names the roster file the rows came from; ``generated`` is the time the
    page was made (text, e.g. ``"2026-11-30 14:05 UTC"``).

    Examples
    --------
    >>> page = render_index([{"row": 2, "learner_id": "<b>x</b>", "learner_name": "",
    ...                       "safe_id": "b-x-0", "scenario": "bank_support",
    ...                       "status": "invalid", "reason": "bad"}], roster="class.csv")
    >>> "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    True
    >>> "No report finished" in page and "class.csv" in page
    True
    """
    esc = html.escape
    counts = Counter(r.get("status") for r in rows)
    charts = class_charts(rows)
    meta = []
    if roster is not None:
        meta.append(f"roster <code>{esc(str(roster))}</code>")
    if generated is not None:
        meta.append(f"generated {esc(generated)}")
    lines = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>buildbuy class reports</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>Build or buy: class reports</h1>"]
    if meta:
        lines.append('<p class="meta">' + " · ".join(meta) + "</p>")
    lines.append("<p>" + " · ".join(f'<span class="{s}">{s}: {counts.get(s, 0)}</span>'
                                    for s in STATUSES) + f" · total: {len(rows)}</p>")
    if charts:
        lines.append('<div class="charts">')
        for name, alt in (("payback", "Distribution of payback months"),
                          ("savings", "Distribution of the NPV gap of self-hosting over the API"),
                          ("recommendation", "Recommendation counts")):
            lines.append(f'<img alt="{alt}" src="data:image/png;base64,{charts[name]}">')
        lines.append("</div>")
    else:
        lines.append('<p class="empty">No report finished, so there are no class charts. '
                     "Each row below says why (invalid: fix the roster; failed: open the "
                     "partial notebook).</p>")
    lines.append("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in _HEAD)
                 + "</tr></thead><tbody>")
    for r in rows:
        status = str(r.get("status", ""))
        sid = str(r.get("safe_id") or "")
        link = ""
        if status in _DONE and sid:
            link = f'<a href="{esc(sid)}.html">report</a>' + _pack_links(r, sid)
        elif status == "failed" and sid and (out_dir is None or (out_dir / f"{sid}.ipynb")
                                             .is_file()):
            link = f'<a href="{esc(sid)}.ipynb">partial notebook</a>'
        cells = [esc(str(r.get("row", ""))), _text(r.get("learner_name")),
                 _text(r.get("learner_id")), _text(r.get("scenario")),
                 f'<span class="{esc(status)}">{esc(status)}</span>',
                 esc(str(r.get("recommendation") or "")),
                 _fmt_months(r.get("payback_months"), status),
                 _fmt_usd(r.get("npv_gap_usd")), _months_text(r.get("horizon_months")),
                 _fmt_usd(r.get("tco_a_usd")), _fmt_usd(r.get("tco_b_usd")), link,
                 esc(_cell(r.get("seconds"))),
                 f'<div class="reason">{esc(str(r.get("reason") or ""))}</div>']
        lines.append("<tr>" + "".join(f'<td class="num">{c}</td>' if i in _NUMERIC
                                      else f"<td>{c}</td>" for i, c in enumerate(cells))
                     + "</tr>")
    lines += ["</tbody></table>",
              "<p>US dollars, nominal. <b>Payback</b> is the month in which self-hosting's "
              "cumulative cost falls below the API's; \"never\" means not within the "
              "learner's horizon. <b>NPV gap</b> is the after-tax net present value of "
              "self-hosting minus the API's, value included, over the learner's horizon. "
              "<b>TCO A</b> and <b>TCO B</b> are over each learner's own horizon, in the "
              "horizon column, so compare them across learners only at equal horizons.</p>",
              "</body></html>", ""]
    return "\n".join(lines)


def write_index(out_dir: Path, rows: Sequence[Mapping[str, Any]], *,
                roster: str | None = None) -> Path:
    """Write ``index.html`` (atomically), stamped with the time now, and return its path."""
    import datetime as dt

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return atomic_write_text(out_dir / "index.html", render_index(
        rows, out_dir=out_dir, roster=roster, generated=now))
