"""The decision as a 16:9 slide deck (python-pptx), for a board pack.

Six slides (:data:`SLIDE_TITLES` gives their opening words), each a title, one native
chart or table and a few lines of text:

1. **Decision and ask**: the recommendation, the amount, the headcount, the decision date
   and the key figures.
2. **Cost curves**: cumulative cash cost of the API (A), self-hosting (B) and the hybrid
   (H), month by month.
3. **Financial impact**: EBITDA, EBIT and after-tax free cash flow of the recommended path
   against doing nothing, by year; capex and headcount.
4. **Valuation**: what the recommended path is worth, by method, with its basis.
5. **Risk**: the tornado of the NPV gap (native bar chart) with its P10/P50/P90.
6. **The plan**: kill criteria, the quality assumption and the call to action.

Charts are native PowerPoint charts (their data travel inside the file), so a finance
team can restyle them or read their numbers; they are the record's numbers, in $M.
"""

from __future__ import annotations

import io
import re
from typing import Any

from buildbuy._validate import bad
from buildbuy.decision.figures import format_value
from buildbuy.memo.builder import Memo, fill_figures
from buildbuy.memo.facts import PATH_NAMES, BoardFacts

__all__ = ["SLIDE_TITLES", "deck_pptx", "normalised_zip", "plan_lines"]

#: The opening words of each slide's title, in order.
SLIDE_TITLES: tuple[str, ...] = ("Decision and ask", "Cost curves", "Financial impact",
                                 "Valuation", "Risk", "The plan")
_NAVY = "1F3A5F"
_MUSD = '"$"0.0"M"'
_PATHS = {"A": "A: API", "B": "B: self-host", "H": "H: hybrid"}


def _plain(markdown: str) -> str:
    """Markdown inline text -> plain text (bold, italics and bullets removed)."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", markdown)
    text = re.sub(r"(?<!\w)\*(.+?)\*(?!\w)", r"\1", text)
    return re.sub(r"\s+", " ", text.lstrip("-* ")).strip()


def plan_lines(memo: Memo | None, facts: BoardFacts) -> dict[str, Any]:
    """What the plan slide says: kill criteria, quality assumption and call to action.

    Taken from ``memo`` (the learner's words) where it has them, else from the record's
    draft. Returns ``{"kill": [str], "quality": str, "ask": str}``.
    """
    from buildbuy.memo.draft import draft_memo, kill_sentence

    md = memo.markdown if memo is not None else draft_memo(facts).markdown
    kills = []
    m = re.search(r"\*\*Kill criteria\.\*\*\s*\n(.*?)(?:\n\s*\n(?!- )|\Z)", md, re.S)
    if m:
        kills = [_plain(ln) for ln in m.group(1).splitlines() if ln.strip().startswith("-")]
    if not kills:
        kills = [_plain(fill_figures("kill", kill_sentence(k, facts), facts.figures))
                 for k in facts.kill_criteria]
    q = re.search(r"\*\*Quality assumption\.\*\*\s*(.+)", md)
    quality = _plain(q.group(1)) if q else ""
    cta = re.search(r"^##\s+Call to action\s*\n(.*?)(?=^#|\Z)", md, re.S | re.M)
    if cta is None:
        cta = re.search(r"decide, and by when\?\*\*\s*(.*?)(?=\n\*\*Q\.|\Z)", md, re.S)
    ask = _plain(cta.group(1)) if cta else ""
    return {"kill": kills, "quality": quality, "ask": ask}


class _Deck:
    """A 16:9 presentation with helpers for title, text, table and chart."""

    def __init__(self) -> None:
        from pptx import Presentation
        from pptx.util import Inches

        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = Inches(13.333), Inches(7.5)
        self.Inches = Inches

    def slide(self, title: str) -> Any:
        from pptx.dml.color import RGBColor
        from pptx.enum.text import PP_ALIGN
        from pptx.util import Pt

        s = self.prs.slides.add_slide(self.prs.slide_layouts[5])  # Title Only
        t = s.shapes.title
        t.left, t.top, t.width, t.height = (self.Inches(0.5), self.Inches(0.3),
                                            self.Inches(12.3), self.Inches(1.0))
        t.text = title
        para = t.text_frame.paragraphs[0]
        para.alignment = PP_ALIGN.LEFT
        para.font.size, para.font.bold = Pt(28), True
        para.font.color.rgb = RGBColor.from_string(_NAVY)
        t.text_frame.word_wrap = True
        return s

    def text(self, s: Any, lines: list[str], box: tuple[float, float, float, float], *,
             size: int = 14, bullets: bool = False) -> Any:
        from pptx.util import Pt

        tb = s.shapes.add_textbox(*(self.Inches(v) for v in box))
        tf = tb.text_frame
        tf.word_wrap = True
        for i, line in enumerate(lines):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            p.text = ("\u2022 " if bullets else "") + line
            p.font.size = Pt(size)
            p.space_after = Pt(6)
        return tb

    def table(self, s: Any, rows: list[list[str]], box: tuple[float, float, float, float],
              widths: list[float], *, size: int = 13) -> Any:
        from pptx.util import Pt

        gf = s.shapes.add_table(len(rows), len(rows[0]), *(self.Inches(v) for v in box))
        for j, w in enumerate(widths):
            gf.table.columns[j].width = self.Inches(w)
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                cell = gf.table.cell(i, j)
                cell.text = value
                cell.text_frame.paragraphs[0].font.size = Pt(size)
        return gf

    def chart(self, s: Any, kind: str, categories: list[str], series: dict[str, list[float]],
              box: tuple[float, float, float, float], *, number_format: str = _MUSD,
              legend: bool = True) -> Any:
        """A native category chart (``kind`` names an ``XL_CHART_TYPE``), values in $M."""
        from pptx.chart.data import CategoryChartData

        data = CategoryChartData(number_format=number_format)
        data.categories = categories
        for name, values in series.items():
            data.add_series(name, [round(float(v), 6) for v in values])
        return self._finish(s, kind, data, box, legend and len(series) > 1, number_format)

    def xy(self, s: Any, series: dict[str, tuple[list[float], list[float]]],
           box: tuple[float, float, float, float], *, x_title: str) -> Any:
        """A native line chart on a numeric x axis (scatter with lines), y in $M."""
        from pptx.chart.data import XyChartData

        data = XyChartData(number_format=_MUSD)
        for name, (xs, ys) in series.items():
            sr = data.add_series(name)
            for x, y in zip(xs, ys, strict=True):
                sr.add_data_point(float(x), round(float(y), 6))
        gf = self._finish(s, "XY_SCATTER_LINES_NO_MARKERS", data, box, len(series) > 1, _MUSD)
        ax = gf.chart.category_axis
        ax.has_title = True
        ax.axis_title.text_frame.text = x_title
        return gf

    def _finish(self, s: Any, kind: str, data: Any, box: tuple[float, float, float, float],
                legend: bool, number_format: str) -> Any:
        from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION, XL_TICK_LABEL_POSITION
        from pptx.util import Pt

        gf = s.shapes.add_chart(getattr(XL_CHART_TYPE, kind), *(self.Inches(v) for v in box),
                                data)
        ch = gf.chart
        ch.has_title = False
        ch.has_legend = legend
        if legend:
            ch.legend.position, ch.legend.include_in_layout = XL_LEGEND_POSITION.BOTTOM, False
        ch.font.size = Pt(12)
        labels = ch.value_axis.tick_labels
        labels.number_format, labels.number_format_is_linked = number_format, False
        if kind.startswith("BAR"):  # category labels at the left edge, clear of the bars
            ch.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
        return gf

    def save(self, *, title: str, when: str) -> bytes:
        cp = self.prs.core_properties
        cp.title, cp.author, cp.last_modified_by, cp.revision = title, "buildbuy", "buildbuy", 1
        buf = io.BytesIO()
        self.prs.save(buf)
        return normalised_zip(buf.getvalue(), when=when)


_STAMP = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def normalised_zip(data: bytes, *, when: str) -> bytes:
    """An Office file (a zip) rewritten to be the same bytes for the same content.

    Every member gets the same date (1980-01-01, the zip epoch) and every document
    property date (``docProps/core.xml``, also inside the chart workbooks embedded as
    ``.xlsx``) becomes ``when`` (ISO date), instead of the moment the file was written.
    """
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename.endswith(".xlsx"):
                blob = normalised_zip(blob, when=when)
            elif info.filename.endswith("docProps/core.xml"):
                blob = _STAMP.sub(rf"\g<1>{when}T00:00:00Z\g<2>", blob.decode("utf-8")
                                  ).encode("utf-8")
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)),
                         blob, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def deck_pptx(facts: BoardFacts, *, memo: Memo | None = None,
              prepared_for: str | None = None) -> bytes:
    """The board deck for ``facts`` (six slides, see the module docstring) as .pptx bytes.

    Parameters
    ----------
    facts : BoardFacts
        :func:`buildbuy.memo.board_facts` of the scenario.
    memo : Memo, optional
        The learner's memo or PR/FAQ: its recommendation, kill criteria, quality
        assumption and call to action go on the slides (default: the record's draft).
    prepared_for : str, optional
        Name shown under the first slide's title.

    Examples
    --------
    >>> from pptx import Presentation
    >>> from buildbuy.memo import board_facts
    >>> deck = Presentation(io.BytesIO(deck_pptx(board_facts("bank_support"))))
    >>> len(deck.slides), deck.slides[0].shapes.title.text.startswith("Decision and ask")
    (6, True)
    """
    if not isinstance(facts, BoardFacts):
        raise bad("facts", facts, "BoardFacts from buildbuy.memo.board_facts")
    if memo is not None and not isinstance(memo, Memo):
        raise bad("memo", memo, "a Memo (build_memo, build_prfaq or a draft) or None")
    from buildbuy.memo.draft import long_date

    f, d = facts, _Deck()
    S = f.scenario
    rec = memo.strategy if memo is not None else f.recommendation
    plan = plan_lines(memo, f)
    date = long_date(f.decision_date)

    # 1. decision and ask
    s = d.slide(f"Decision and ask: {rec}, {f.text('ask_usd')} for the first year, "
                f"decide by {date}")
    who = f"{S.title}" + (f" \u00b7 prepared for {prepared_for}" if prepared_for else "")
    d.text(s, [who], (0.5, 1.3, 12.3, 0.5), size=14)
    p = f.path.lower()
    keys = f.table_keys(["ask_usd", "capex_year_1_usd", "headcount_fte", "npv_{p}_usd",
                         "npv_gap_usd", "npv_gap_p10_usd", "npv_gap_p90_usd", "prob_b_better",
                         "payback_months"])
    rows = [["Figure", "Value"]] + [[f.figures[k].label, f.text(k)] for k in keys]
    d.table(s, rows, (0.5, 2.0, 6.6, 4.5), [4.9, 1.7])
    reasons = [r for r in f.reasons if r][:3]
    d.text(s, [f"The record recommends: {f.recommendation}.", *reasons],
           (7.5, 2.0, 5.3, 5.0), size=12, bullets=True)

    # 2. cost curves
    s = d.slide("Cost curves: cumulative cash cost of each path")
    cum = f.cumulative
    months = [float(m) for m in cum.index]
    d.xy(s, {_PATHS.get(c, c): (months, list(cum[c] / 1e6)) for c in cum.columns},
         (0.5, 1.4, 8.6, 5.6), x_title="month")
    cross = f.figures.get("crossover_month")
    d.text(s, [f"Horizon: {f.text('horizon_months')}; pre-tax cash costs, value not counted.",
               f"TCO of A: {f.text('tco_a_usd')}; of B: {f.text('tco_b_usd')}.",
               "B's cumulative cost falls below A's after "
               f"{cross.text if cross is not None else 'never'}.",
               f"Break-even volume: {f.text('break_even_monthly_tokens')} a month "
               f"(today {f.text('monthly_tokens')})."],
           (9.3, 1.6, 3.6, 5.0), size=13, bullets=True)

    # 3. financial impact
    name = PATH_NAMES[f.path]
    s = d.slide(f"Financial impact of {name} against doing nothing, by year")
    a = f.annual
    d.chart(s, "COLUMN_CLUSTERED", [f"Year {int(y)}" for y in a.index],
            {"EBITDA": list(a["ebitda_usd"] / 1e6), "EBIT": list(a["ebit_usd"] / 1e6),
             "Free cash flow (after tax)": list(a["fcf_usd"] / 1e6)}, (0.5, 1.4, 8.6, 5.6))
    d.text(s, [f"After-tax NPV against doing nothing: {f.text(f'npv_{p}_usd')}.",
               f"Capex of B: {f.text('capex_year_1_usd')} in year 1, "
               f"{f.text('capex_usd')} over the horizon.",
               f"Headcount: {f.text('fte_b')} for B, {f.text('fte_a')} for A.",
               "EBITDA leaves out the hardware; free cash flow counts it when it is bought."],
           (9.3, 1.6, 3.6, 5.0), size=13, bullets=True)

    # 4. valuation
    s = d.slide(f"Valuation: what {name} is worth")
    v = f.valuation
    d.chart(s, "BAR_CLUSTERED", list(v["label"])[::-1],
            {"Value": list(v["value_usd"] / 1e6)[::-1]}, (0.5, 1.4, 6.2, 3.2), legend=False)
    rows = [["Method", "Value", "Basis"]] + [
        [str(m), format_value(float(x), "usd"), str(b)]
        for m, x, b in zip(v["label"], v["value_usd"], v["basis"], strict=True)]
    d.table(s, rows, (0.5, 4.8, 12.3, 2.0), [3.2, 1.6, 7.5], size=11)
    d.text(s, list(f.decision.valuation.explain())[:3], (7.0, 1.4, 5.9, 3.3), size=10)

    # 5. risk
    s = d.slide("Risk: what moves the answer (tornado of the NPV gap, B over A)")
    if not f.tornado.empty:
        t = f.tornado.iloc[::-1]  # a bar chart draws its first category at the bottom
        base = float(t["base_metric"].iloc[0])
        tornado = d.chart(s, "BAR_CLUSTERED", list(t["label"]),
                          {"driver low": list((t["metric_low"] - base) / 1e6),
                           "driver high": list((t["metric_high"] - base) / 1e6)},
                          (0.5, 1.4, 8.2, 5.7))
        tornado.chart.plots[0].overlap = 100  # low and high share one row, as in a tornado
        tornado.chart.plots[0].gap_width = 40
        lines = ([f"NPV gap of B over A, after tax: P10 {f.text('npv_gap_p10_usd')}, P50 "
                  f"{f.text('npv_gap_p50_usd')}, P90 {f.text('npv_gap_p90_usd')}.",
                  f"B beats A in {f.text('prob_b_better')} of the draws."]
                 if not f.api_ruled_out else  # no range against a path the board cannot take
                 [f"The API is ruled out ({f.decision.feasibility['A'][0]}), so the gap "
                  "is no choice the board has; its bars still show which inputs move "
                  "self-hosting's economics most."]) + [
                 "Bars: change in the gap when one driver moves to its low or high value, "
                 "all else as planned."]
    else:
        lines = ["Self-hosting is not feasible for this scenario: "
                 + "; ".join(f.decision.feasibility.get("B", [])) + "."]
    d.text(s, lines, (8.9, 1.6, 4.0, 5.0), size=13, bullets=True)

    # 6. the plan
    s = d.slide("The plan: when we stop, what we assume, what we ask")
    d.text(s, ["Kill criteria"], (0.5, 1.3, 12.3, 0.5), size=16)
    d.text(s, plan["kill"], (0.5, 1.8, 12.3, 2.4), size=14, bullets=True)
    lines = ([f"Quality assumption: {plan['quality']}"] if plan["quality"] else []) + (
        [f"Call to action: {plan['ask']}"] if plan["ask"] else [])
    d.text(s, lines, (0.5, 4.4, 12.3, 2.8), size=14)
    return d.save(title=f"{S.title}: board deck", when=f.decision_date)
