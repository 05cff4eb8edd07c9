"""Unit tests of buildbuy.reports that start no kernel: ids, roster, state, index, CLI exit 2."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path

import pytest

from buildbuy import scenarios
from buildbuy.reports import cli_main, index, render, state
from buildbuy.reports.ids import safe_id
from buildbuy.reports.roster import RosterError, parse_roster, read_roster

HEADER = "learner_id,learner_name,scenario"


# --------------------------------------------------------------------------- ids
@pytest.mark.parametrize("raw", ["../../x", "/etc/passwd", "..", ".", "a/../../b", "C:\\x",
                                 "<script>alert(1)</script>", "nul\0byte", "  spaced  ", "ü"])
def test_safe_id_stays_inside_the_folder(raw: str, tmp_path: Path) -> None:
    sid = safe_id(raw)
    assert re.fullmatch(r"[a-z0-9_-]{1,53}", sid), sid
    target = (tmp_path / f"{sid}.html").resolve()
    assert target.parent == tmp_path.resolve()


def test_safe_id_is_slug_plus_sha256_prefix() -> None:
    digest = hashlib.sha256(b"Alice.Smith").hexdigest()[:12]
    assert safe_id("Alice.Smith") == f"alice-smith-{digest}"


def test_safe_ids_of_different_raw_ids_differ() -> None:
    raws = ["bob", "Bob", "BOB", "b-o-b", "b.o.b", "b/o/b", "b o b", "a" * 60, "a" * 61]
    sids = [safe_id(r) for r in raws]
    assert len(set(sids)) == len(raws)
    assert len(set(s.lower() for s in sids)) == len(raws)  # case-insensitive disks too


def test_safe_id_rejects_empty() -> None:
    with pytest.raises(ValueError, match=r"learner_id='  ' is invalid: must be a non-empty"):
        safe_id("  ")


# --------------------------------------------------------------------------- roster
def _one(rows: str, header: str = HEADER):
    return parse_roster(f"{header}\n{rows}\n")


def test_valid_row_keeps_typed_overrides_and_empty_cells_mean_persona() -> None:
    (x,) = _one("a1,Ann,bank_support,36,,H100-SXM",
                HEADER + ",horizon_months,monthly_tokens,gpu")
    assert x.valid and x.reason == ""
    assert x.overrides == {"horizon_months": 36, "gpu": "H100-SXM"}
    assert isinstance(x.overrides["horizon_months"], int)
    assert x.parameters() == {"scenario": "bank_support", "overrides": x.overrides,
                              "learner_id": "a1", "learner_name": "Ann"}
    persona = scenarios.load("bank_support")
    assert "monthly_tokens" not in x.overrides and persona.monthly_tokens > 0


@pytest.mark.parametrize(("cells", "header", "needle"), [
    ("a,A,bank_suport", HEADER, "scenario='bank_suport' is invalid: must be one of"),
    ("a,A,", HEADER, "scenario='' is invalid"),
    ("a,A,data/scenarios/bank_support.yaml", HEADER, "is invalid: must be one of"),
    (",A,bank_support", HEADER, "learner_id='' is invalid"),
    ("a,A,bank_support,abc", HEADER + ",monthly_tokens", "monthly_tokens='abc' is invalid"),
    ("a,A,bank_support,1.5", HEADER + ",output_token_share", "output_token_share=1.5"),
    ("a,A,bank_support,H99", HEADER + ",gpu", "gpu='H99' is invalid"),
    ("a,A,bank_support,gpt-9", HEADER + ",self_host_model", "self_host_model='gpt-9'"),
    ("a,A,bank_support,rented", HEADER + ",hosting", "hosting='rented' is invalid"),
    ("a,A", HEADER, "row has 2 cells but the header has 3 columns"),
])
def test_invalid_rows_get_a_clear_reason(cells: str, header: str, needle: str) -> None:
    (x,) = _one(cells, header)
    assert not x.valid
    assert needle in x.reason


def test_duplicate_ids_invalidate_every_copy_and_spare_the_rest() -> None:
    xs = _one("a,A,bank_support\nb,B,retail_search\na,A2,hospital_notes")
    assert [x.valid for x in xs] == [False, True, False]
    assert "appears on rows 2, 4" in xs[0].reason
    assert [x.row for x in xs] == [2, 3, 4]


@pytest.mark.parametrize(("text", "needle"), [
    ("learner_name,scenario\nA,bank_support\n", "must have a 'learner_id' column"),
    ("learner_id,learner_name\na,A\n", "must have a 'scenario' column"),
    ("learner_id,scenario,monthly_token\na,bank_support,1\n", "did you mean 'monthly_tokens'"),
    ("learner_id,scenario,scenario\na,b,c\n", "appears twice"),
    ("", "must not be empty"),
    ('learner_id,scenario\n"a,bank_support\n', "must be CSV"),
])
def test_unusable_rosters_raise(text: str, needle: str) -> None:
    with pytest.raises(RosterError, match=re.escape(needle)):
        parse_roster(text)


def test_read_roster_rejects_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="must be an existing CSV file"):
        read_roster(tmp_path / "nope.csv")
    blob = tmp_path / "x.csv"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    with pytest.raises(RosterError, match=r"must be UTF-8 text|not binary"):
        read_roster(blob)


def test_example_roster_is_valid_and_covers_every_persona() -> None:
    root = Path(__file__).resolve().parents[1]
    xs = read_roster(root / "data" / "roster_example.csv")
    assert len(xs) >= 8 and all(x.valid for x in xs), [x.reason for x in xs]
    assert {x.scenario for x in xs} == set(scenarios.persona_names())
    assert sum(bool(x.overrides) for x in xs) >= 3


# --------------------------------------------------------------------------- state
def test_atomic_write_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    p = tmp_path / "a.html"
    state.atomic_write_text(p, "old")
    state.atomic_write_text(p, "new")
    assert p.read_text() == "new"
    assert [q.name for q in tmp_path.iterdir()] == ["a.html"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_remove_stale_temps_only_touches_our_prefix(tmp_path: Path) -> None:
    stale = state.temp_path(tmp_path / "x.html")
    keep = tmp_path / "x.html"
    keep.write_text("done")
    assert state.remove_stale_temps(tmp_path) == 1
    assert not stale.exists() and keep.exists()


def test_input_key_tracks_parameters_template_and_environment() -> None:
    p = {"scenario": "bank_support", "overrides": {"gpu": "H200", "horizon_months": 24},
         "learner_id": "a", "learner_name": "A"}
    reordered = {"learner_name": "A", "learner_id": "a",
                 "overrides": {"horizon_months": 24, "gpu": "H200"}, "scenario": "bank_support"}
    k = state.input_key(p, b"tpl", "env")
    assert k == state.input_key(reordered, b"tpl", "env")
    assert k != state.input_key({**p, "learner_name": "B"}, b"tpl", "env")
    assert k != state.input_key(p, b"tpl2", "env")
    assert k != state.input_key(p, b"tpl", "env2")
    assert len(state.environment_digest()) == 64


def test_stamp_round_trip(tmp_path: Path) -> None:
    state.write_stamp(tmp_path, "s-1", {"key": "k", "status": "ok", "figures": {"x": None}})
    assert state.read_stamp(tmp_path, "s-1") == {"key": "k", "status": "ok",
                                                  "figures": {"x": None}}
    assert state.read_stamp(tmp_path, "missing") is None
    (tmp_path / "bad.stamp.json").write_text("{half")
    assert state.read_stamp(tmp_path, "bad") is None


# --------------------------------------------------------------------------- html
def test_check_escaped_catches_raw_markup() -> None:
    render.check_escaped("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
                         ["<script>alert(1)</script>", "O'Brien & co"])
    with pytest.raises(ValueError, match="learner_string="):
        render.check_escaped("<p><script>alert(1)</script></p>", ["<script>alert(1)</script>"])


def _rows() -> list[dict]:
    base = {c: None for c in index.SUMMARY_COLUMNS}
    return [
        {**base, "row": 2, "learner_id": "../../x", "learner_name": "<script>alert(1)</script>",
         "safe_id": safe_id("../../x"), "scenario": "bank_support", "status": "ok",
         "recommendation": "build", "payback_months": 20.5, "npv_gap_usd": 1.5e6,
         "tco_a_usd": 6e6, "tco_b_usd": 4.5e6, "seconds": 3.2, "reason": ""},
        {**base, "row": 3, "learner_id": "b", "learner_name": "B", "safe_id": safe_id("b"),
         "scenario": "retail_search", "status": "skipped", "recommendation": "buy",
         "payback_months": None, "npv_gap_usd": -2e5, "seconds": 0.0, "reason": ""},
        {**base, "row": 4, "learner_id": "<img src=x onerror=alert(2)>", "learner_name": "",
         "safe_id": "", "scenario": "nope", "status": "invalid",
         "reason": "scenario='<b>nope</b>' is invalid", "seconds": 0.0},
    ]


def test_index_escapes_every_learner_string_and_links_by_safe_id() -> None:
    page = index.render_index(_rows())
    for raw in ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<b>nope</b>"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f'href="{safe_id("../../x")}.html"' in page
    assert 'href="../' not in page
    assert page.count('href="') == 2  # ok and skipped link a report; invalid links nothing
    assert "never" in page  # payback None of a finished row
    assert "-$200k" in page and "$1.50M" in page  # savings as a board reads them


def test_index_links_each_learners_board_pack_by_safe_id() -> None:
    rows = _rows()
    sid = rows[0]["safe_id"]
    rows[0].update(memo_pdf=f"{sid}.memo.pdf", deck_pptx=f"{sid}.deck.pptx")
    rows[1].update(memo_pdf=f"{rows[1]['safe_id']}.memo.pdf")  # a pack without its deck
    page = index.render_index(rows)
    assert f'href="{sid}.memo.pdf">memo PDF</a>' in page
    assert f'href="{sid}.deck.pptx">deck</a>' in page
    assert f'href="{rows[1]["safe_id"]}.memo.pdf"' in page
    assert f'href="{rows[1]["safe_id"]}.deck.pptx"' not in page  # no file, no link
    assert page.count('href="') == 5  # two reports, three pack files; invalid links nothing


def test_class_charts_are_pngs() -> None:
    charts = index.class_charts(_rows())
    assert set(charts) == {"payback", "savings", "recommendation"}
    for b64 in charts.values():
        assert base64.b64decode(b64)[:8] == b"\x89PNG\r\n\x1a\n"


def test_summary_csv_has_one_row_per_roster_row(tmp_path: Path) -> None:
    import csv

    index.write_summary(tmp_path, _rows())
    with open(tmp_path / "summary.csv", newline="") as fh:
        got = list(csv.DictReader(fh))
    assert list(got[0]) == list(index.SUMMARY_COLUMNS)
    assert [r["status"] for r in got] == ["ok", "skipped", "invalid"]
    assert got[0]["learner_name"] == "<script>alert(1)</script>"  # CSV keeps the raw text
    assert got[1]["payback_months"] == "" and float(got[0]["npv_gap_usd"]) == 1.5e6


# --------------------------------------------------------------------------- CLI, exit 2
def test_cli_exit_2_when_the_roster_cannot_be_used(tmp_path: Path, capsys) -> None:
    out = str(tmp_path / "out")
    assert cli_main([str(tmp_path / "missing.csv"), "--out", out]) == 2
    no_id = tmp_path / "no_id.csv"
    no_id.write_text("name,scenario\nA,bank_support\n")
    assert cli_main([str(no_id), "--out", out]) == 2
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(256)))
    assert cli_main([str(binary), "--out", out]) == 2
    header_only = tmp_path / "empty.csv"
    header_only.write_text("learner_id,scenario\n")
    assert cli_main([str(header_only), "--out", out]) == 2
    assert cli_main([str(no_id)]) == 2  # --out missing: usage error
    err = capsys.readouterr().err
    assert "learner_id" in err and "must be" in err


def test_template_emits_every_figure_column() -> None:
    root = Path(__file__).resolve().parents[1]
    nb = json.loads((root / "notebooks" / "learner_report.ipynb").read_text())
    tagged = [c for c in nb["cells"] if render.HIDDEN_TAG in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    src = "".join(tagged[0]["source"])
    # the cell hands over the record's own summary: every summary.csv figure column
    assert "summary_figures(D)" in src
    from buildbuy import scenarios
    from buildbuy.decision import decide, summary_figures

    assert set(summary_figures(decide(scenarios.load("hospital_notes")))) == set(
        index.FIGURE_COLUMNS)
    params = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1
    for name in ("scenario", "overrides", "learner_id", "learner_name"):
        assert re.search(rf"^{name} = ", "".join(params[0]["source"]), re.M)


def test_index_without_a_finished_report_says_so_and_draws_nothing() -> None:
    rows = [r for r in _rows() if r["status"] == "invalid"]
    assert index.class_charts(rows) == {}
    page = index.render_index(rows, roster="cohort.csv", generated="2026-11-30 09:00 UTC")
    assert "<img" not in page and "No report finished" in page
    assert "roster <code>cohort.csv</code>" in page and "generated 2026-11-30 09:00 UTC" in page


def test_index_cuts_very_long_names_and_keeps_them_whole_in_the_title() -> None:
    long_name = "Ms " + "Averyveryverylongname " * 100  # 2,000+ characters
    rows = _rows()
    rows[1] = {**rows[1], "learner_name": long_name + "<b>", "learner_id": "x" * 2000}
    page = index.render_index(rows)
    assert "<b>" not in page.replace("<b>Payback</b>", "").replace(
        "<b>NPV gap</b>", "").replace("<b>TCO A</b>", "").replace("<b>TCO B</b>", "")
    cut = re.search(r'<span title="(Ms [^"]+)">([^<]+)</span>', page)
    assert cut is not None
    assert cut.group(1).endswith("&lt;b&gt;") and len(cut.group(1)) > 2000  # whole, escaped
    assert len(cut.group(2)) <= index.MAX_CELL_CHARS and cut.group(2).endswith("…")
    assert "overflow-wrap:anywhere" in page  # other long cells wrap instead of widening
    assert "x" * (index.MAX_CELL_CHARS + 1) not in page.split('title="')[0]


def test_index_states_the_horizon_of_each_column() -> None:
    page = index.render_index(_rows())
    for head in ("NPV gap, B over A (after tax)", "horizon (months)", "TCO A (over the horizon)",
                 "TCO B (over the horizon)"):
        assert f"<th>{head}</th>" in page
    assert "horizon_months" in index.FIGURE_COLUMNS


@pytest.mark.parametrize("persona", scenarios.persona_names())
def test_cost_by_category_legend_is_clear_of_the_bars(persona: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.patches import Rectangle

    from buildbuy import tco
    from buildbuy.reports import tables

    fig = tables.cost_charts(tco.compare(scenarios.load(persona)))
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    ax = fig.axes[1]
    legend = ax.get_legend().get_window_extent(renderer)
    bars = [p.get_window_extent(renderer) for p in ax.patches if isinstance(p, Rectangle)]
    assert bars and not any(legend.overlaps(b) for b in bars)
    assert legend.x0 >= ax.get_window_extent(renderer).x1  # outside the plotting area
    assert legend.x1 <= fig.bbox.x1 + 1  # and still on the figure


def test_report_values_read_as_people_write_them() -> None:
    from buildbuy.reports import tables

    s = scenarios.load("bank_support", monthly_tokens=4e10)
    t = tables.inputs_table(s, {"monthly_tokens": 4e10, "pue": 1.3})
    assert t.loc["monthly_tokens", "value"] == "40,000,000,000"
    assert t.loc["monthly_tokens", "source"] == "override"
    assert t.loc["discount_rate", "value"] == f"{100 * s.discount_rate:g}%"
    assert t.loc["pue", "value"] == "1.3"  # an overridden field outside the list is shown
    assert list(t.index[:2]) == ["monthly_tokens", "output_token_share"]
    assert tables.value_text("api_integration_usd", 94000.0) == "$94,000"
    assert tables.value_text("electricity_usd_per_kwh", 0.0806) == "$0.0806"
    long_source = max((s.source(f) for f in tables.REPORT_FIELDS), key=len)
    html = tables.html_table(tables.inputs_table(s)).data
    assert long_source.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in html


def test_cli_out_pointing_at_a_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    root = Path(__file__).resolve().parents[1]
    taken = tmp_path / "index.html"
    taken.write_text("not a folder")
    assert cli_main([str(root / "data" / "roster_example.csv"), "--out", str(taken)]) == 2
    err = capsys.readouterr().err
    assert "must be a folder for the reports (this path is an existing file)" in err
    assert "Errno" not in err
