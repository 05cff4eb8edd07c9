"""End-to-end tests of ``buildbuy reports``: real kernels, papermill, nbconvert, Dask.

Rosters stay small (2-4 learners). The real template runs in one module-scoped
run; robustness tests (failure, kill, Dask) use a tiny template with the same
parameters cell so they take seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import nbformat
import pytest

from buildbuy.boardpack.export import PACK_MIME
from buildbuy.notebooks import execute
from buildbuy.reports import DEFAULT_TEMPLATE, cli_main, pack, state
from buildbuy.reports.ids import safe_id
from buildbuy.reports.worker import FIGURES_MIME, renumber
from reports_helpers import read_summary as _summary
from reports_helpers import write_text as _write

pytestmark = pytest.mark.slow

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_ID = "../../evil"


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The real template for 2 valid learners (one hostile) and 2 invalid rows, 1 worker.

    The library digest is pinned for these runs: in a shared working tree other
    files change between runs, which (rightly) invalidates every stamp.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(state, "environment_digest", lambda: "pinned-for-the-test")
        yield _real_run(tmp_path_factory)


def _real_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("real")
    roster = _write(d / "roster.csv",
                    "learner_id,learner_name,email,scenario,horizon_months\n"
                    f"{HOSTILE_ID},{HOSTILE_NAME},x@example.com,hospital_notes,\n"
                    "ana,Ana,,retail_search,24\n"
                    "bad1,Bad,,bank_suport,\n"
                    "bad2,Bad,,bank_support,-3\n")
    out = d / "out"
    code = cli_main([str(roster), "--out", str(out), "--workers", "1", "--no-progress"])
    # right away, the second learner on a fresh kernel (papermill's own engine)
    fresh = d / "fresh.ipynb"
    execute(DEFAULT_TEMPLATE, fresh, {"scenario": "retail_search",
                                      "overrides": {"horizon_months": 24},
                                      "learner_id": "ana", "learner_name": "Ana"})
    return {"dir": d, "roster": roster, "out": out, "code": code, "fresh": fresh}


def test_small_roster_produces_expected_files_and_summary(real_run: dict) -> None:
    out = real_run["out"]
    assert real_run["code"] == 1  # two invalid rows
    s_evil, s_ana = safe_id(HOSTILE_ID), safe_id("ana")
    expected = {f"{s}{ext}" for s in (s_evil, s_ana)
                for ext in (".ipynb", ".html", ".stamp.json", ".memo.pdf", ".deck.pptx")}
    assert {p.name for p in out.iterdir()} == expected | {"summary.csv", "index.html"}
    rows = _summary(out)
    assert [r["status"] for r in rows] == ["ok", "ok", "invalid", "invalid"]
    assert [r["row"] for r in rows] == ["2", "3", "4", "5"]
    assert "did you mean 'bank_support'" in rows[2]["reason"]
    assert "horizon_months=-3 is invalid" in rows[3]["reason"]
    for r in rows[:2]:
        assert r["recommendation"] in {"build", "buy", "hybrid", "neither"}
        assert float(r["tco_a_usd"]) > 0 and r["npv_gap_usd"] != ""
    assert rows[1]["horizon_months"] == "24"  # each row says which horizon its figures span
    assert rows[1]["memo_pdf"] == f"{s_ana}.memo.pdf"
    assert rows[1]["deck_pptx"] == f"{s_ana}.deck.pptx"
    assert rows[2]["memo_pdf"] == "" and rows[2]["deck_pptx"] == ""  # invalid: no pack
    page = (out / "index.html").read_text()
    assert f'href="{s_ana}.memo.pdf"' in page and f'href="{s_ana}.deck.pptx"' in page
    html = (out / f"{s_ana}.html").read_text()
    assert html.rstrip().endswith("</html>")
    assert "scenarios.load(" not in html  # inputs hidden
    assert "In&nbsp;[" not in html and "In [" not in html  # prompts hidden
    assert FIGURES_MIME not in html
    assert PACK_MIME not in html
    # the pack travels in the notebook's output only until the worker writes the files
    assert PACK_MIME not in (out / f"{s_ana}.ipynb").read_text()


def test_every_learner_gets_a_one_page_memo_pdf_and_a_deck(real_run: dict) -> None:
    from pptx import Presentation
    from pypdf import PdfReader

    from buildbuy import scenarios
    from buildbuy.boardpack import SLIDE_TITLES
    from buildbuy.memo import board_facts

    out = real_run["out"]
    for sid, name, S in ((safe_id(HOSTILE_ID), HOSTILE_NAME, scenarios.load("hospital_notes")),
                         (safe_id("ana"), "Ana",
                          scenarios.load("retail_search", horizon_months=24))):
        facts = board_facts(S)
        pdf = PdfReader(out / f"{sid}.memo.pdf")
        assert len(pdf.pages) == 1
        text = " ".join(pdf.pages[0].extract_text().split())
        assert name in text  # the name is text on the page, never markup
        assert f"**{facts.recommendation}**" not in text and facts.recommendation in text
        assert facts.text("ask_usd") in text
        deck = Presentation(out / f"{sid}.deck.pptx")
        titles = [sl.shapes.title.text for sl in deck.slides]
        assert [t.split(":")[0].split(" of ")[0] for t in titles] == list(SLIDE_TITLES)
        assert name in deck.slides[0].shapes[1].text_frame.text


def test_figures_in_summary_match_the_library(real_run: dict) -> None:
    from buildbuy import scenarios
    from buildbuy.decision import decide

    D = decide(scenarios.load("retail_search", horizon_months=24))
    row = _summary(real_run["out"])[1]
    assert float(row["tco_a_usd"]) == pytest.approx(D.figures["tco_a_usd"].value, rel=1e-9)
    assert float(row["npv_b_usd"]) == pytest.approx(D.npv_vs_status_quo_usd["B"], rel=1e-6)
    assert float(row["npv_gap_usd"]) == pytest.approx(D.npv_gap_usd, rel=1e-6)
    assert row["recommendation"] == D.recommendation


def test_hostile_names_and_ids_are_neutralised(real_run: dict) -> None:
    out, d = real_run["out"], real_run["dir"]
    assert not (d / "evil.html").exists() and not (d.parent / "evil.html").exists()
    assert all(p.resolve().parent == out.resolve() for p in out.iterdir())
    for page in ((out / f"{safe_id(HOSTILE_ID)}.html").read_text(),
                 (out / "index.html").read_text()):
        assert HOSTILE_NAME not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # the parameter reached the kernel as data: the notebook holds it as a string literal
    nb = nbformat.read(out / f"{safe_id(HOSTILE_ID)}.ipynb", as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'learner_name = "<script>alert(1)</script>"' in injected.source


def test_warm_kernel_gives_the_same_notebook_as_a_fresh_one(real_run: dict) -> None:
    """The second learner ran on the kernel the first one warmed up."""
    out = real_run["out"]
    nb = renumber(nbformat.read(real_run["fresh"], as_version=4))
    pack.take_pack(nb)  # the worker writes the pack to files, not into the notebook
    warm = (out / f"{safe_id('ana')}.ipynb").read_text(encoding="utf-8")
    assert nbformat.writes(nb).strip() == warm.strip()  # byte for byte, figures included


def test_resume_skips_up_to_date_learners_and_force_redoes_them(real_run: dict) -> None:
    out, roster = real_run["out"], real_run["roster"]
    html = out / f"{safe_id('ana')}.html"
    before = html.stat().st_mtime_ns
    code = cli_main([str(roster), "--out", str(out), "--workers", "1", "--no-progress"])
    assert code == 1
    rows = _summary(out)
    assert [r["status"] for r in rows] == ["skipped", "skipped", "invalid", "invalid"]
    assert rows[1]["tco_a_usd"] != ""  # figures come from the stamp
    assert rows[1]["memo_pdf"] == f"{safe_id('ana')}.memo.pdf"  # and the pack's files
    (out / f"{safe_id('ana')}.deck.pptx").unlink()  # a lost pack file redoes its learner
    cli_main([str(roster), "--out", str(out), "--workers", "1", "--no-progress"])
    assert [r["status"] for r in _summary(out)] == ["skipped", "ok", "invalid", "invalid"]
    assert (out / f"{safe_id('ana')}.deck.pptx").is_file()
    before = html.stat().st_mtime_ns
    assert html.stat().st_mtime_ns == before
    code = cli_main([str(roster), "--out", str(out), "--workers", "1", "--no-progress",
                     "--force"])
    assert [r["status"] for r in _summary(out)] == ["ok", "ok", "invalid", "invalid"]
    assert html.stat().st_mtime_ns > before


def test_pages_render_offline(real_run: dict) -> None:
    """No script, style or image from another host (require.js, MathJax, mermaid, fonts):
    the pages open offline and tell no third party who read them."""
    from reports_helpers import external_urls

    out = real_run["out"]
    pages = [out / f"{safe_id('ana')}.html", out / f"{safe_id(HOSTILE_ID)}.html",
             out / "index.html"]
    for page in pages:
        text = page.read_text()
        assert external_urls(text) == [], page.name
        assert "<script src=" not in text


def test_report_numbers_and_tables_are_for_people(real_run: dict) -> None:
    from buildbuy import scenarios

    html = (real_run["out"] / f"{safe_id('ana')}.html").read_text()
    tokens = scenarios.load("retail_search").monthly_tokens
    assert f"{tokens:,.0f}" in html  # 40,000,000,000-style, never 40000000000.0
    assert not re.search(r">\s*-?\d{5,}\.\d+\s*<", html)  # no raw float in a cell
    assert "...</td>" not in html and "…</td>" not in html  # sources shown whole
    ev = html[html.index("DCF over the horizon") - 400:]
    ev = ev[:ev.index("</table>")]
    assert "<td>EV/EBITDA multiple</td>" in ev  # rows named by method, no 0/1/2
    assert not re.search(r"<th>\d</th>", ev)
    assert re.search(r"<td>\$\d[\d.,]*[kMB]?</td>", ev)  # dollars formatted


def test_index_names_roster_time_and_horizons(real_run: dict) -> None:
    page = (real_run["out"] / "index.html").read_text()
    assert "roster <code>roster.csv</code>" in page
    assert re.search(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", page)
    assert "TCO A (over the horizon)" in page and "NPV gap, B over A (after tax)" in page
    rows = _summary(real_run["out"])
    assert [r["horizon_months"] for r in rows[:2]] == ["36", "24"]
