"""The board pack: the one-page memo PDF (read back with pypdf) and the deck (python-pptx)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import nbformat
import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pypdf import PdfReader

from buildbuy import boardpack, memo
from buildbuy.boardpack import cli as bp_cli
from buildbuy.boardpack.deck import normalised_zip, plan_lines
from buildbuy.cli import main as buildbuy_main

PERSONAS = ("bank_support", "hospital_notes", "retail_search")


def _text(pdf: bytes) -> str:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return " ".join(page.extract_text().split())


@pytest.fixture(scope="module")
def facts() -> memo.BoardFacts:
    return memo.board_facts("bank_support")


@pytest.mark.parametrize("persona", PERSONAS)
def test_draft_pdf_is_one_page_with_name_recommendation_and_ask(persona: str) -> None:
    f = memo.board_facts(persona)
    pdf = boardpack.memo_pdf(memo.draft_memo(f), prepared_for="Zoë Ødegaard")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    text = _text(pdf)
    assert "Zoë Ødegaard" in text  # selectable, Unicode text
    assert "recommend" in text and f.recommendation in text
    assert f.text("ask_usd") in text and f.text("headcount_fte") in text
    assert memo.long_date(f.decision_date) in text


def test_pdf_is_deterministic_and_escapes_markup(facts: memo.BoardFacts) -> None:
    m = memo.draft_memo(facts)
    hostile = "<b>Eve</b> & <script>x</script>"
    a = boardpack.memo_pdf(m, prepared_for=hostile)
    assert a == boardpack.memo_pdf(m, prepared_for=hostile)
    assert hostile in _text(a)  # printed as text, not interpreted as markup


@pytest.mark.parametrize(("name", "font"), [("王小明", "STSong-Light"),
                                            ("山田 さくら", "HeiseiKakuGo-W5"),
                                            ("김민준", "HYSMyeongJo-Medium")])
def test_pdf_prints_cjk_names_in_a_cid_font(name: str, font: str,
                                            facts: memo.BoardFacts) -> None:
    pdf = boardpack.memo_pdf(memo.draft_memo(facts), prepared_for=name)
    assert name in _text(pdf)  # extracts as written, not as boxes
    fonts = {str(f["/BaseFont"]) for f in
             PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"].values()}
    cid = {f"/{n}" for n in boardpack.pdf.CJK_FONTS.values()}
    assert fonts & cid == {f"/{font}"}  # the one fallback the name's language needs


def test_prfaq_pdf_fits_one_page(facts: memo.BoardFacts) -> None:
    pdf = boardpack.memo_pdf(memo.draft_prfaq(facts), prepared_for="Ada")
    assert boardpack.page_count(pdf) == 1
    assert "Press release" in _text(pdf) and "Internal FAQ" in _text(pdf)


def test_pdf_shrinks_a_long_memo_then_refuses_one_that_cannot_fit(
        facts: memo.BoardFacts) -> None:
    m = memo.draft_memo(facts)

    def padded(words: int) -> memo.Memo:
        filler = " ".join(["growth"] * (words - m.word_count))
        return dataclasses.replace(m, sections=tuple(
            (h, f"{b} {filler}" if h == "Business problem" else b) for h, b in m.sections))

    limit = padded(memo.MAX_WORDS)  # the longest memo the checker accepts
    assert limit.word_count == memo.MAX_WORDS
    assert boardpack.page_count(boardpack.memo_pdf(limit)) == 1
    huge = padded(3 * memo.MAX_WORDS)
    with pytest.raises(ValueError, match=r"memo='memo of \d+ words' is invalid: must be text "
                                         r"that fits on one page"):
        boardpack.memo_pdf(huge)
    with pytest.raises(ValueError, match=r"memo='text' is invalid"):
        boardpack.memo_pdf("text")  # type: ignore[arg-type]


def _deck(pptx: bytes) -> Presentation:
    return Presentation(io.BytesIO(pptx))


def test_deck_slides_titles_and_native_charts(facts: memo.BoardFacts) -> None:
    deck = _deck(boardpack.deck_pptx(facts, prepared_for="Ada"))
    assert 5 <= len(deck.slides) <= 8
    titles = [s.shapes.title.text for s in deck.slides]
    for title, opening in zip(titles, boardpack.SLIDE_TITLES, strict=True):
        assert title.startswith(opening)
    assert facts.text("ask_usd") in titles[0] and facts.recommendation in titles[0]
    charts = {i: [sh.chart for sh in s.shapes if sh.shape_type == MSO_SHAPE_TYPE.CHART]
              for i, s in enumerate(deck.slides)}
    assert all(charts[i] for i in (1, 2, 3, 4))  # cost curves, impact, valuation, tornado
    assert any(sh.has_table for sh in deck.slides[0].shapes)
    assert "Ada" in " ".join(sh.text_frame.text for sh in deck.slides[0].shapes
                             if sh.has_text_frame)


def test_deck_charts_carry_the_records_numbers(facts: memo.BoardFacts) -> None:
    deck = _deck(boardpack.deck_pptx(facts))
    curves = next(sh.chart for sh in deck.slides[1].shapes if sh.has_chart)
    series = {s.name: list(s.values) for s in curves.plots[0].series}
    assert series["B: self-host"][-1] == pytest.approx(facts.cumulative["B"].iloc[-1] / 1e6)
    assert len(series["A: API"]) == len(facts.cumulative)
    impact = next(sh.chart for sh in deck.slides[2].shapes if sh.has_chart)
    assert list(impact.plots[0].categories) == [f"Year {y}" for y in facts.annual.index]
    ebitda = next(s for s in impact.plots[0].series if s.name == "EBITDA")
    assert list(ebitda.values) == pytest.approx(list(facts.annual["ebitda_usd"] / 1e6))
    tornado = next(sh.chart for sh in deck.slides[4].shapes if sh.has_chart)
    labels = list(tornado.plots[0].categories)
    assert labels[-1] == facts.tornado["label"].iloc[0]  # widest driver at the top
    low = next(s for s in tornado.plots[0].series if s.name == "driver low")
    top = facts.tornado.iloc[0]
    assert low.values[-1] == pytest.approx((top["metric_low"] - top["base_metric"]) / 1e6)


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_gap_against_a_ruled_out_api_and_the_price_of_the_constraints(persona: str) -> None:
    f = memo.board_facts(persona)
    draft = memo.draft_memo(f)
    deck = _deck(boardpack.deck_pptx(f))
    table = [r.cells[0].text for sh in deck.slides[0].shapes if sh.has_table
             for r in sh.table.rows]
    risk = " ".join(sh.text_frame.text for sh in deck.slides[4].shapes if sh.has_text_frame)
    gap_labels = {f.figures[k].label for k in memo.GAP_KEYS if k in f.figures}
    if f.api_ruled_out:
        assert not gap_labels & set(table) and "P10" not in risk and "(P10)" not in draft.markdown
        assert "The API is ruled out" in risk and f.decision.feasibility["A"][0] in risk
    else:
        assert f.figures["npv_gap_p10_usd"].label in table and "P10" in risk
        assert "(P10)" in draft.markdown
    cost = f.figures.get(memo.CONSTRAINT_KEY)
    assert (cost is None) == (not any(f.decision.feasibility.values()))
    if cost is not None:  # something is blocked: the tables say what that costs
        assert cost.label in table and cost.text in draft.markdown
        said = f"Our constraints cost {cost.text} after tax" in draft.markdown
        assert said == ((cost.value or 0.0) > 0)


def test_the_banks_api_is_ruled_out_by_data_residency() -> None:
    f = memo.board_facts("bank_support")  # the persona that exercises the branch above
    assert f.api_ruled_out and "residency" in f.decision.feasibility["A"][0]


def test_deck_bytes_are_deterministic(facts: memo.BoardFacts) -> None:
    assert boardpack.deck_pptx(facts) == boardpack.deck_pptx(facts)
    import zipfile

    z = zipfile.ZipFile(io.BytesIO(boardpack.deck_pptx(facts)))
    assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert normalised_zip(z.fp.getvalue(), when="2027-01-29") == z.fp.getvalue()


def test_deck_plan_uses_the_learners_words(facts: memo.BoardFacts) -> None:
    own = memo.build_memo(
        title="Mine", problem="p", strategy="buy",
        rationale={"tco": "t", "ip": "i", "time_to_market": "x"}, impact="i",
        risks=[("r", "m")], kill_criteria=["Stop if volume falls below {kill_monthly_tokens}."],
        quality="Quality is {quality_b_vs_a} of the API's.",
        call_to_action="Approve {ask_usd} by 29 January 2027.", figures=facts.figures)
    plan = plan_lines(own, facts)
    assert plan["kill"] == [f"Stop if volume falls below {facts.text('kill_monthly_tokens')}."]
    assert plan["quality"].startswith(f"Quality is {facts.text('quality_b_vs_a')}")
    assert plan["ask"] == f"Approve {facts.text('ask_usd')} by 29 January 2027."
    deck = _deck(boardpack.deck_pptx(facts, memo=own))
    assert deck.slides[0].shapes.title.text.startswith("Decision and ask: buy")
    text = " ".join(sh.text_frame.text for sh in deck.slides[5].shapes if sh.has_text_frame)
    assert plan["kill"][0] in text and plan["ask"] in text
    with pytest.raises(ValueError, match=r"facts='bank_support' is invalid"):
        boardpack.deck_pptx("bank_support")  # type: ignore[arg-type]


def test_export_writes_both_files_atomically(tmp_path: Path, facts: memo.BoardFacts,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert boardpack.export(None, facts, out_dir=tmp_path) is None
    assert "build your memo first" in capsys.readouterr().out
    pack = boardpack.export(memo.draft_prfaq(facts), facts, out_dir=tmp_path, stem="mine")
    assert [p.name for p in pack.paths] == ["mine.memo.pdf", "mine.deck.pptx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.deck.pptx", "mine.memo.pdf"]
    assert (tmp_path / "mine.memo.pdf").read_bytes() == pack.pdf
    with pytest.raises(ValueError, match=r"stem='../x' is invalid"):
        boardpack.write_board_pack(pack, tmp_path, "../x")


def test_cli_exports_a_draft_and_a_markdown_memo(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = buildbuy_main(["memo", "export", "draft", "--scenario", "hospital_notes",
                          "--out", str(tmp_path), "--name", "Grace"])
    out = capsys.readouterr().out
    assert code == 0 and "memo OK" in out and "judgement 5/5" in out
    assert (tmp_path / "hospital_notes.draft.memo.pdf").is_file()
    assert "Grace" in _text((tmp_path / "hospital_notes.draft.memo.pdf").read_bytes())
    md = tmp_path / "mine.md"
    ask = memo.board_facts("hospital_notes").text("ask_usd")
    md.write_text(memo.draft_memo("hospital_notes").markdown.replace(ask, "$1.23B"))
    assert bp_cli.cli_main(["export", str(md), "--scenario", "hospital_notes",
                            "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "'$1.23B' matches no model figure" in out and "FAIL ask" in out
    assert (tmp_path / "mine.deck.pptx").is_file()


@pytest.mark.parametrize(("argv", "needle"), [
    (["export", "draft", "--out", "X"], "--scenario is required"),
    (["export", "missing.md", "--scenario", "bank_support", "--out", "X"], "existing .ipynb"),
    (["export", "draft", "--scenario", "bank_suport", "--out", "X"], "did you mean"),
    (["export", "draft", "--scenario", "bank_support", "--set", "gpus", "--out", "X"],
     "FIELD=VALUE"),
])
def test_cli_usage_errors_exit_2(argv: list[str], needle: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert bp_cli.cli_main(argv) == 2
    assert needle in capsys.readouterr().err
    assert bp_cli.cli_main(["export"]) == 2  # argparse: missing arguments


def test_cli_reads_the_memo_from_an_executed_exercise(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    from buildbuy import checks, scenarios

    S = scenarios.load("retail_search", horizon_months=24)
    r = checks.check("ex3_memo", memo.draft_memo(S), scenario=S)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("check(...)")])
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data=r.bundle())]
    src = tmp_path / "03_investment_memo.ipynb"
    nbformat.write(nb, src)
    assert bp_cli.cli_main(["export", str(src), "--out", str(tmp_path / "o")]) == 0
    assert "judgement 5/5" in capsys.readouterr().out
    text = _text((tmp_path / "o" / "03_investment_memo.memo.pdf").read_bytes())
    assert memo.board_facts(S).text("ask_usd") in text  # the 24-month scenario's record
    empty = tmp_path / "blank.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), empty)
    assert bp_cli.cli_main(["export", str(empty), "--out", str(tmp_path)]) == 1
    assert "no memo in" in capsys.readouterr().err
