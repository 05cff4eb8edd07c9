"""One number per key figure: every notebook, for every persona, prints the record's.

Runs every lesson, solution, dashboard and the learner report for every persona (each
once per session, through ``conftest.notebook_run``), collects the text of every output
(stream, text/plain, Markdown and HTML with the tags stripped), and checks each key
figure of :data:`buildbuy.decision.KEY_FIGURES` wherever it is printed:

- **labelled**: every occurrence of the figure's label is followed by the record's text
  for it (``Figure.text``), and every key figure appears labelled at least once per
  persona (so the test cannot pass by finding nothing);
- **loose phrasing**: a number printed next to the words "GPUs ... year 1", "payback",
  "capex" or "NPV gap", and a verdict next to "recommend", must be one of the record's
  figures for that quantity (a view that computed its own would print another number).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from buildbuy import scenarios
from buildbuy.decision import KEY_FIGURES, decide

PERSONAS = scenarios.persona_names()
LESSONS = ("00_start_here", "01_physics_of_build_vs_buy", "02_economic_teardown_tco",
           "03_board_strategy")
SOLUTIONS = ("01_bottleneck_audit", "02_three_year_tco", "03_investment_memo")
RUNS = ([("lesson", s) for s in LESSONS] + [("solution", s) for s in SOLUTIONS]
        + [("dashboard", s) for s in LESSONS] + [("report", "learner_report")])


def _texts(nb: Any) -> list[str]:
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            if "text" in o:
                out.append(str(o["text"]))
            data = o.get("data", {})
            for mime in ("text/plain", "text/markdown"):
                if mime in data:
                    out.append(str(data[mime]))
            if "text/html" in data:
                out.append(_html_text(str(data["text/html"])))
    return out


def _html_text(raw: str) -> str:
    """HTML as text lines: one line per table row, paragraph or list item."""
    raw = re.sub(r"\s*\n\s*", " ", raw)
    raw = re.sub(r"(?i)</(tr|p|li|h\d|div)>|<br\s*/?>", "\n", raw)
    return html.unescape(re.sub(r"<[^>]+>", " | ", raw))


def _after(text: str, label: str) -> list[str]:
    """What follows ``label`` where it starts a line (a table row's label, a printed
    "label: value"), separators stripped."""
    found = []
    for m in re.finditer(r"(?m)^[ |\t]*" + re.escape(label) + r"(?![\w(])", text):
        rest = text[m.end():].split("\n", 1)[0]
        found.append(rest.lstrip(" :|\t"))
    return found


def _money(text: str) -> str:
    return text.replace(",", "")


@pytest.mark.slow
@pytest.mark.parametrize("persona", PERSONAS)
def test_every_printed_key_figure_is_the_records(notebook_run: Any, persona: str) -> None:
    d = decide(scenarios.load(persona))
    f = d.figures
    texts = {f"{kind}:{stem}": "\n".join(_texts(notebook_run(kind, stem, persona)))
             for kind, stem in RUNS}
    seen: dict[str, int] = dict.fromkeys(KEY_FIGURES, 0)
    problems = []
    for where, text in texts.items():
        # labelled figures: the label, then the record's text
        for key in KEY_FIGURES:
            for rest in _after(text, f[key].label):
                if not rest.strip():  # a heading that shares the words, not a figure
                    continue
                seen[key] += 1
                if not rest.startswith(f[key].text):
                    problems.append(f"{where}: {f[key].label!r} followed by {rest[:40]!r}, "
                                    f"the record says {f[key].text!r}")
        # loose phrasing: numbers next to the words must be the record's
        for m in re.finditer(r"GPUs?\b[^\n|]{0,30}?\byear 1\b[^\d\n]{0,12}(\d+)", text):
            want = f["gpus_needed_year_1"] if "need" in m.group(0) else f["gpus_year_1"]
            if m.group(1) != want.text:
                problems.append(f"{where}: {m.group(0)!r} but the record says {want.text}")
        paybacks = {f[k].text for k in ("payback_months", "discounted_payback_months",
                                        "payback_hybrid_months",
                                        "discounted_payback_hybrid_months")}
        for m in re.finditer(r"(?i)pay(?:s)?\s?back[^\n|]{0,40}?\bafter (\d+(?:\.\d+)?) months",
                             text):
            if f"{m.group(1)} months" not in paybacks:
                problems.append(f"{where}: {m.group(0)!r} is not a payback of the record "
                                f"({sorted(paybacks)})")
        capex = {_money(f[k].text) for k in f if k.startswith("capex")}
        for m in re.finditer(r"(?i)\bcapex\b[^\n|$]{0,40}(-?\$[\d.,]+[kMB]?)\b", text):
            if _money(m.group(1)) not in capex:
                problems.append(f"{where}: {m.group(0)!r} is not a capex of the record")
        gaps = {_money(f[k].text) for k in f if k.startswith("npv_gap")}
        for m in re.finditer(r"NPV gap[^\n|$]{0,60}?(-?\$[\d.,]+[kMB]?)", text):
            if _money(m.group(1)) not in gaps:
                problems.append(f"{where}: {m.group(0)!r} is not an NPV gap of the record")
        for m in re.finditer(r"(?i)\brecommend(?:s|ation)?\b[^\n|]{0,30}?\b"
                             r"(build|buy|hybrid|neither)\b", text):
            if m.group(1).lower() != d.recommendation:
                problems.append(f"{where}: {m.group(0)!r} but the record recommends "
                                f"{d.recommendation}")
    missing = [k for k, n in seen.items() if n == 0]
    assert not missing, f"key figures printed nowhere with their label: {missing}"
    assert not problems, "\n".join(problems)


def test_the_checker_catches_a_figure_computed_another_way() -> None:
    """The scan itself can fail: a wrong GPU count after its label is reported."""
    assert _after("GPUs B runs in year 1   12\nother", "GPUs B runs in year 1") == ["12"]
    text = "| GPUs B runs in year 1 |  | 16 |"
    assert _after(text, "GPUs B runs in year 1")[0].startswith("16")
