"""The no-code track: a working field for every question, the same checks, answers that persist.

The forms are driven headlessly, as a learner would drive them: set a widget's value,
press Check (``button.click()``), read the status line. The expected answers come from
the question registry, so a question added by another branch is covered here without
an edit.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from buildbuy import checks, exercises, forms, questions, scenarios
from buildbuy.forms import answers as store
from buildbuy.forms import glossary
from buildbuy.forms.fields import ChoiceField, MemoField, NumberField, make_field, prompt_html
from buildbuy.forms.parse import format_number, parse_number

PERSONAS = scenarios.persona_names()


def _memo_fields(S: Any) -> dict[str, Any]:
    """A memo that passes the checker and the rubric: the record's own draft, typed into
    the form field by field (every section, kill criteria, the quality assumption, the ask
    with its amount and decision date)."""
    from buildbuy import memo

    f = memo.draft_fields(S)
    return {**f, "risks": [list(p) for p in f["risks"]], "kill_criteria": f["kill_criteria"]}


def _right(field: Any, S: Any) -> Any:
    """The stored value a learner who gets ``field`` right would have typed or picked."""
    q = field.question
    if isinstance(field, MemoField):
        return _memo_fields(S)
    expected = q.expected(S)
    if isinstance(field, NumberField):
        return "never" if expected is None else format_number(expected)
    return expected


def _fill(field: Any, value: Any) -> None:
    if isinstance(field, MemoField):
        field.restore(value)
    else:
        field.input.value = value


@pytest.fixture(scope="module")
def scenarios_by_persona() -> dict[str, Any]:
    return {p: scenarios.load(p) for p in PERSONAS}


# --- every question has a working field ---------------------------------------------------

@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("exercise", questions.EXERCISES)
def test_every_question_has_a_field_that_checks_it_correct(
        exercise: str, persona: str, scenarios_by_persona: dict, tmp_path: Path) -> None:
    S = scenarios_by_persona[persona]
    form = forms.exercise_form(exercise, S, folder=tmp_path)
    ids = [q.id for q in questions.for_exercise(exercise)]
    assert sorted(form.fields) == sorted(ids) and ids
    # the steps come first, then the practice questions, each in the registry's order
    steps = [i for i in ids if not i.startswith("p")]
    assert list(form.fields) == steps + [i for i in ids if i not in steps]
    for field in form.fields.values():
        _fill(field, _right(field, S))
    results = form.submit()
    assert {qid: r.status for qid, r in results.items()} == dict.fromkeys(ids, "correct"), \
        {qid: r.message for qid, r in results.items() if not r.correct}
    assert all("✅" in f.status.value for f in form.fields.values())


@pytest.mark.parametrize("exercise", questions.EXERCISES)
def test_a_wrong_answer_gets_the_code_tracks_status_message_and_hint(
        exercise: str, scenarios_by_persona: dict, tmp_path: Path) -> None:
    S = scenarios_by_persona["bank_support"]
    form = forms.exercise_form(exercise, S, folder=tmp_path)
    for qid, field in form.fields.items():
        q = field.question
        if isinstance(field, NumberField):
            expected = q.expected(S)
            wrong = 1.0 if expected is None else 3.7 * float(expected) + 11.0
            field.input.value = format_number(wrong)
            code_track = checks.check(qid, wrong, scenario=S)
        elif isinstance(field, ChoiceField):
            wrong = next(c for c in q.choices if c != q.expected(S))
            field.input.value = wrong
            code_track = checks.check(qid, wrong, scenario=S)
        else:
            memo_fields = _memo_fields(S)
            memo_fields["problem"] = "We spend $123,456,789 a month on tokens."
            field.restore(memo_fields)
            code_track = checks.check(qid, field.answer(), scenario=S)
        result = form.submit([qid])[qid]
        assert result.status == code_track.status == "incorrect", (qid, result.message)
        assert result.message == code_track.message
        assert q.hint in result.message
        assert "❌" in field.status.value


def test_a_form_is_built_for_a_persona_name_and_shows_the_scenario(tmp_path: Path) -> None:
    form = forms.exercise_form("01_bottleneck_audit", "hospital_notes", folder=tmp_path)
    assert form.scenario.name == "hospital_notes"
    text = form.widget.children[0].value
    assert "hospital_notes" in text and "01_bottleneck_audit.answers.json" in text
    assert repr(form).startswith("No-code form, Exercise 1: bottleneck audit (hospital_notes)")
    bundle = form._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == repr(form)


def test_unknown_exercise_kind_and_question_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exercise='04_x' is invalid: must be one of"):
        forms.exercise_form("04_x", "bank_support", folder=tmp_path)
    odd = questions.Question("zz", 1, questions.EXERCISES[0], "?", "essay", "", lambda s: 0)
    with pytest.raises(ValueError, match=r"zz\.kind='essay' is invalid: must be a kind"):
        make_field(odd, scenarios.load("bank_support"))
    form = forms.exercise_form("02_three_year_tco", "bank_support", folder=tmp_path)
    with pytest.raises(ValueError, match="ids='ex1_binding' is invalid"):
        form.submit(["ex1_binding"])


def test_prompts_show_the_scenarios_values() -> None:
    S = scenarios.load("bank_support")
    html = prompt_html(questions.get("p1_kv_cache_gb").prompt, S)
    assert f"<b>{S.tokens_per_request:,}</b>" in html and f"<b>{S.self_host_model}</b>" in html
    assert "S." not in html
    assert prompt_html("`S.no_such_field` and <b>", S) == \
        "<code>S.no_such_field</code> and &lt;b&gt;"


# --- input the learner types -----------------------------------------------------------------

@pytest.mark.parametrize(("text", "unit", "value"), [
    ("7710000", "USD", 7_710_000.0), ("7,710,000", "USD", 7_710_000.0),
    ("$7,710,000", "USD", 7_710_000.0), ("7.71M", "USD", 7_710_000.0),
    ("7.71 m", "USD", 7_710_000.0), ("$7.71 million", "USD", 7_710_000.0),
    ("40bn tokens", "tokens", 4e10), ("4e10", "tokens", 4e10), ("1.2B", "tokens", 1.2e9),
    ("12", "months", 12.0), ("12 months", "months", 12.0), ("1 month", "months", 1.0),
    ("0.33 GB", "GB", 0.33), ("12.5 ms", "ms", 12.5), ("-1.5k", "USD", -1500.0),
    ("0.8%", "percentage points", 0.8), ("1,520 tokens/s", "tokens/s", 1520.0),
    ("2T", "tokens", 2e12), (".5", "", 0.5), ("3 requests", "request", 3.0),
])
def test_parse_number_reads_report_spellings(text: str, unit: str, value: float) -> None:
    assert parse_number(text, unit=unit) == pytest.approx(value)


@pytest.mark.parametrize(("text", "unit", "match"), [
    ("12 weeks", "months", "must be a number in months"),
    ("abc", "USD", "must be a number in USD such as 7710000"),
    ("35%", "USD", "not %"),
    ("1.2.3", "", "must be a number"),
    ("7 7", "", "must be a number"),
])
def test_parse_number_refuses_what_it_cannot_read(text: str, unit: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_number(text, unit=unit, name="q")


def test_parse_number_blank_and_never() -> None:
    assert parse_number("") is None and parse_number("   ") is None and parse_number(None) is None
    assert parse_number("Never") == "never"
    for v in (7_710_000.0, 0.000655, 4e10, 12.5, -3.0):
        assert parse_number(format_number(v)) == v


def test_an_unreadable_number_is_not_checked_and_says_why(tmp_path: Path) -> None:
    form = forms.exercise_form("02_three_year_tco", "bank_support", folder=tmp_path)
    field = form.fields["ex2_tco_a_usd"]
    field.input.value = "about seven million"
    assert form.submit(["ex2_tco_a_usd"]) == {}
    assert "Not checked: ex2_tco_a_usd='about seven million' is invalid" in field.status.value
    saved = store.load_answers(form.sidecar, "02_three_year_tco", form.scenario)
    assert saved == {"ex2_tco_a_usd": "about seven million"}  # kept as typed
    again = forms.exercise_form("02_three_year_tco", "bank_support", folder=tmp_path)
    # reloaded (e.g. by the grader): checked as the text it is, so the record says incorrect
    assert again.results["ex2_tco_a_usd"].status == "incorrect"
    assert again.fields["ex2_tco_a_usd"].input.value == "about seven million"


def test_blank_fields_are_not_answered_and_not_saved(tmp_path: Path) -> None:
    form = forms.exercise_form("03_investment_memo", "retail_search", folder=tmp_path)
    results = form.submit()
    assert {r.status for r in results.values()} == {"not_answered"}
    assert form.answers() == {}
    assert "not answered yet" in form.fields["ex3_memo"].status.value
    assert json.loads(form.sidecar.read_text())["entries"][0]["answers"] == {}


def test_an_incomplete_memo_gets_the_builders_message(tmp_path: Path) -> None:
    form = forms.exercise_form("03_investment_memo", "bank_support", folder=tmp_path)
    memo_field = form.fields["ex3_memo"]
    memo_field.title.value = "Draft"
    assert form.submit(["ex3_memo"]) == {}
    assert "Not checked: strategy=None is invalid" in memo_field.status.value
    memo_field.strategy.value = "buy"
    form.submit(["ex3_memo"])
    assert "risks=[] is invalid: must be a non-empty list of (risk, mitigation) pairs" in \
        memo_field.status.value
    memo_field.restore(_memo_fields(form.scenario))
    assert form.submit(["ex3_memo"])["ex3_memo"].correct
    assert "<h2>Business problem</h2>" in memo_field.preview.value
    # the table lists the figures the text quotes, in order of first quote
    figs = memo_field.figures
    f = _memo_fields(form.scenario)
    texts = [f["title"], f["problem"], *f["rationale"].values(), f["impact"],
             *(t for pair in f["risks"] for t in pair), *f["kill_criteria"], f["quality"],
             f["call_to_action"]]
    quoted: list[str] = []
    for text in texts:
        quoted += [k for k in re.findall(r"\{(\w+)\}", text) if k in figs and k not in quoted]
    assert len(quoted) >= 5
    rows = [ln for ln in memo_field.answer().markdown.splitlines() if ln.startswith("| ")]
    assert rows[1:] == [f"| {figs[k].label} | {figs[k].text} |" for k in quoted]


# --- answers persist, per scenario --------------------------------------------------------------

def test_answers_come_back_rechecked_for_the_same_scenario_only(tmp_path: Path) -> None:
    S = scenarios.load("bank_support")
    form = forms.exercise_form("01_bottleneck_audit", S, folder=tmp_path)
    form.fields["ex1_binding"].input.value = questions.get("ex1_binding").expected(S)
    form.fields["p1_max_batch"].input.value = "1"
    form.submit()
    assert "Saved 2 answers" in form.message.value
    again = forms.exercise_form("01_bottleneck_audit", S, folder=tmp_path)
    assert again.fields["ex1_binding"].input.value == form.fields["ex1_binding"].input.value
    assert again.fields["p1_max_batch"].input.value == "1"
    assert {q: r.status for q, r in again.results.items()} == {
        "ex1_binding": "correct", "p1_max_batch": "incorrect"}
    assert "Loaded 2 saved answers" in again.message.value
    other = forms.exercise_form("01_bottleneck_audit", S.replace(monthly_tokens=1e9),
                                folder=tmp_path)
    assert other.answers() == {} and other.results == {}
    other.fields["ex1_binding"].input.value = "compute"
    other.submit(["ex1_binding"])
    data = json.loads(form.sidecar.read_text())
    assert [e["scenario"] for e in data["entries"]] == [
        {"persona": "bank_support", "overrides": {}},
        {"persona": "bank_support", "overrides": {"monthly_tokens": 1e9}}]
    assert store.saved_scenarios(form.sidecar, "01_bottleneck_audit")[0]["persona"] == \
        "bank_support"


def test_a_broken_answers_file_is_reported_not_raised(tmp_path: Path) -> None:
    path = store.sidecar_path(tmp_path, "02_three_year_tco")
    path.write_text("{ not json")
    form = forms.exercise_form("02_three_year_tco", "bank_support", folder=tmp_path)
    assert "Saved answers not read" in form.message.value and str(path) in form.message.value
    form.fields["ex2_recommendation"].input.value = "buy"
    form.submit(["ex2_recommendation"])
    assert "Not saved" in form.message.value and path.read_text() == "{ not json"
    path.write_text(json.dumps({"format": store.FORMAT, "exercise": "01_bottleneck_audit",
                                "entries": []}))
    with pytest.raises(ValueError, match="must be the answers of 02_three_year_tco"):
        store.read_sidecar(path, "02_three_year_tco")
    path.write_text(json.dumps({"format": "other/9"}))
    with pytest.raises(ValueError, match=r"format 'buildbuy\.answers/1'"):
        store.read_sidecar(path, "02_three_year_tco")


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    S = scenarios.load("bank_support")
    path = store.sidecar_path(tmp_path, "02_three_year_tco")
    store.save_answers(path, "02_three_year_tco", S, {"ex2_recommendation": "buy"})
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.save_answers(path, "02_three_year_tco", S, {"ex2_recommendation": "build"})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    with pytest.raises(ValueError, match="must be JSON values"):
        store.save_answers(path, "02_three_year_tco", S, {"ex2_tco_a_usd": float("nan")})


# --- a workshop room: learner ids ----------------------------------------------------------------

def test_room_mode_needs_a_learner_id_and_saves_a_gradable_folder(tmp_path: Path) -> None:
    S = scenarios.load("hospital_notes")
    form = forms.exercise_form("02_three_year_tco", S, answers_dir=tmp_path)
    assert form.learner is not None and form.sidecar is None
    form.fields["ex2_recommendation"].input.value = "buy"
    form.submit()
    assert "Not saved" in form.message.value and not any(tmp_path.iterdir())
    assert form.results["ex2_recommendation"].status in ("correct", "incorrect")
    form.learner.value = "  ../../Ada Lovelace "
    form.submit()
    folder = store.learner_folder(tmp_path, "../../Ada Lovelace")
    assert form.sidecar == folder / "02_three_year_tco.answers.json"
    assert folder.parent == tmp_path and ".." not in folder.name
    data = json.loads(form.sidecar.read_text())
    assert data["learner"] == "../../Ada Lovelace"
    nb = json.loads((folder / "02_three_year_tco.ipynb").read_text())
    params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    assert "scenario = 'hospital_notes'" in "".join(params["source"])
    assert nb["metadata"]["buildbuy"]["exercise"] == "02_three_year_tco"
    # the same id on a new page brings the answers back; a blank field is filled, a typed
    # one is kept
    page = forms.exercise_form("02_three_year_tco", S, answers_dir=tmp_path)
    page.fields["ex2_tco_a_usd"].input.value = "5M"
    page.learner.value = "../../Ada Lovelace"
    assert page.fields["ex2_recommendation"].input.value == "buy"
    assert page.fields["ex2_tco_a_usd"].input.value == "5M"
    assert forms.exercise_form("02_three_year_tco", S, answers_dir=tmp_path,
                               learner="../../Ada Lovelace").answers() == {
        "ex2_recommendation": "buy"}


def test_room_mode_with_overrides_writes_them_into_the_notebook(tmp_path: Path) -> None:
    S = scenarios.load("retail_search", monthly_tokens=5e9)
    form = forms.exercise_form("01_bottleneck_audit", S, answers_dir=tmp_path, learner="kim")
    form.submit()
    nb = json.loads((form.sidecar.parent / "01_bottleneck_audit.ipynb").read_text())
    src = "".join(next(c for c in nb["cells"]
                       if "parameters" in c["metadata"].get("tags", []))["source"])
    assert "scenario = 'retail_search'" in src and "overrides = {'monthly_tokens': 5000000000.0}" \
        in src
    custom = scenarios.from_dict({**S.to_dict(), "name": "my_own"})
    store.write_submission(tmp_path / "x", "01_bottleneck_audit", custom)
    written = tmp_path / "x" / "01_bottleneck_audit.scenario.json"
    assert scenarios.load(str(written)) == custom


# --- the definitions shown next to the fields ------------------------------------------------

def test_every_option_of_every_choice_is_defined_and_every_choice_has_its_rule() -> None:
    S = scenarios.load("bank_support")
    for q in questions.QUESTIONS.values():
        if q.kind != "choice":
            continue
        for option in q.choices:
            assert option in glossary.MEANINGS, f"{q.id}: define {option!r} in forms.glossary"
        assert glossary.rule_text(q, S), f"{q.id}: give its rule in forms.glossary"


def test_the_recommendation_rule_states_the_record_s_basis() -> None:
    S = scenarios.load("bank_support", horizon_months=48, tax_rate=0.3)
    text = glossary.rule_text(questions.get("ex2_recommendation"), S)
    assert "30.0%" in text and f"{S.discount_rate:.1%}" in text and "48-month" in text
    assert "doing nothing" in text and "<b>neither</b>" in text
    field = make_field(questions.get("ex2_recommendation"), S)
    shown = " ".join(c.value for c in field.box.children if hasattr(c, "value")
                     and isinstance(c.value, str))
    assert "hybrid" in shown and glossary.MEANINGS["hybrid"] in shown and text in shown


# --- the grader reads the form's answers ----------------------------------------------------------

def test_an_answered_record_beats_a_later_unanswered_one() -> None:
    def out(question: str, answer: Any) -> dict:
        return {"data": {checks.RECORD_MIME: {"question": question, "answer": answer}}}

    nb = {"cells": [{"outputs": [out("a", 1.0), out("b", None), out("c", 2.0)]},
                    {"outputs": [out("a", None), out("b", 3.0), out("c", 4.0)]}]}
    from buildbuy import grading

    recs = grading._records(nb)
    assert {k: v["answer"] for k, v in recs.items()} == {"a": 1.0, "b": 3.0, "c": 4.0}


def _grade(root: Path) -> dict[tuple[str, str], dict]:
    out = root.parent / f"{root.name}.csv"
    exercises.grade(root, out, verbose=False, cell_timeout_s=120, timeout_s=300)
    return {(r["learner"], r["question"]): r for r in csv.DictReader(out.open())}


@pytest.mark.slow
def test_grader_grades_form_answers_in_notebook_and_room_layouts(tmp_path: Path) -> None:
    name = "02_three_year_tco"
    blank = exercises.EXERCISES_DIR / f"{name}.ipynb"
    bank, hosp = scenarios.load("bank_support"), scenarios.load("hospital_notes")
    root = tmp_path / "subs"
    # a learner who used the form in JupyterLab: notebook + sidecar in their folder
    (root / "lena").mkdir(parents=True)
    shutil.copy(blank, root / "lena" / f"{name}.ipynb")
    lab = forms.exercise_form(name, bank, folder=root / "lena")
    lab.fields["ex2_recommendation"].input.value = questions.get(
        "ex2_recommendation").expected(bank)
    lab.fields["ex2_tco_a_usd"].input.value = "1"  # wrong
    lab.submit()
    # flat layout: the sidecar renamed like the notebook
    shutil.copy(blank, root / f"omar_{name}.ipynb")
    shutil.copy(lab.sidecar, root / f"omar_{name}.answers.json")
    # a workshop-room learner on another persona: the folder the form wrote
    room = forms.exercise_form(name, hosp, answers_dir=root, learner="Pia")
    room.fields["ex2_tco_b_usd"].input.value = format_number(
        questions.get("ex2_tco_b_usd").expected(hosp))
    room.submit()
    rows = _grade(root)
    pia = store.learner_folder(root, "Pia").name
    for learner in ("lena", f"omar_{name}"):
        assert rows[learner, "ex2_recommendation"]["status"] == "correct"
        assert rows[learner, "ex2_tco_a_usd"]["status"] == "incorrect"
        assert rows[learner, "ex2_tco_b_usd"]["status"] == "not_answered"
    assert rows[pia, "ex2_tco_b_usd"]["status"] == "correct"  # against hospital_notes
    assert rows[pia, "ex2_recommendation"]["status"] == "not_answered"


# --- "what you need": the facts under a field ----------------------------------------------------

def test_facts_are_listed_for_existing_questions_and_compute_for_every_persona(
        scenarios_by_persona: dict) -> None:
    from buildbuy.forms import inputs

    assert set(inputs.INPUTS) <= set(questions.QUESTIONS), "facts of a question that is gone"
    for S in scenarios_by_persona.values():
        for qid in inputs.INPUTS:
            table = inputs.facts_html(qid, S)
            assert table and table.count("<tr>") >= 2, qid


def test_facts_open_folded_and_fill_on_first_open(tmp_path: Path) -> None:
    from buildbuy import data

    S = scenarios.load("hospital_notes")
    form = forms.exercise_form("01_bottleneck_audit", S, folder=tmp_path)
    field = form.fields["p1_kv_cache_gb"]
    body = field.facts.children[0]
    assert field.facts.selected_index is None and body.value == ""
    field.facts.selected_index = 0
    m = data.get_model(S.self_host_model)
    assert f"<td>layers</td><td>{m.n_layers}</td>" in body.value
    assert f"<td>{S.tokens_per_request:,}</td>" in body.value
    rows = form.fields["ex1_model_error_pct"]
    rows.facts.selected_index = 0
    n = len(data.load_table("measured_decode").query(
        "model == @S.self_host_model and gpu == @data.get_gpu(@S.gpu).name"))
    assert rows.facts.children[0].value.count("<tr>") == n + 1 > 2
    # a question with no facts listed shows no "What you need"
    memo = forms.exercise_form("03_investment_memo", S, folder=tmp_path)
    assert memo.fields["p3_concept_drift_detector"].facts_widget() is None
    assert not hasattr(memo.fields["p3_concept_drift_detector"], "facts")


def _fact(rows: list, start: str) -> float:
    value = next(v for what, v, _ in rows if what.startswith(start))
    return float(value.replace(",", "").rstrip("%")) / (100.0 if value.endswith("%") else 1.0)


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _payback(savings: list[float]) -> float | None:
    """Payback as a learner works it out in a spreadsheet: the last month whose running
    total is still negative, plus the share of the next month's saving that closes it."""
    running, total = [], 0.0
    for x in savings:
        total += x
        running.append(total)
    if running[-1] < 0:
        return None
    neg = [m for m, c in enumerate(running) if c < 0]
    if not neg:
        return 0.0
    k = neg[-1]
    return k + -running[k] / savings[k + 1]


def _goal_seek(tool: Any, start: float) -> float | None:
    """Break-even by halving the gap in the what-if tool, as a learner would."""
    def b_dearer(v: float) -> bool:
        tool.volume.value = f"{v:.6g}"
        tool.work_out()
        _, a, b = tool.tries[-1]
        return b > a

    lo, hi = 0.0, start
    if not b_dearer(lo):
        return 0.0
    while b_dearer(hi):
        lo, hi = hi, hi * 4
        if hi > 1e14:
            return None
    while hi - lo > 0.002 * hi:  # a learner stops when the two agree to 0.2%
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if b_dearer(mid) else (lo, mid)
    return hi


#: Questions answered without a facts table, and why (every other question has one).
WITHOUT_FACTS = {
    "p2_break_even_monthly_tokens": "a search: the what-if tool (forms.whatif)",
    "p3_concept_drift_detector": "a concept question: the options' meanings",
    "ex3_memo": "the memo field lists the model's figures",
}


def test_every_question_has_facts_a_tool_or_a_stated_reason() -> None:
    from buildbuy.forms import inputs, whatif

    for qid in questions.QUESTIONS:
        listed = qid in inputs.INPUTS or qid in whatif.TOOLS
        assert listed != (qid in WITHOUT_FACTS and qid not in whatif.TOOLS), qid
    assert set(whatif.TOOLS) <= set(WITHOUT_FACTS)


def _calculator_answers(S: Any) -> dict[str, Any]:
    """Every answer a learner can reach from the 'What you need' facts with a calculator
    (or a spreadsheet), worked out from the facts alone."""
    from buildbuy.forms import inputs, whatif

    out: dict[str, Any] = {}
    kv = inputs.facts("p1_kv_cache_gb", S)
    out["p1_kv_cache_gb"] = (2 * _fact(kv, "layers") * _fact(kv, "KV heads")
                             * _fact(kv, "head dimension") * _fact(kv, "bytes per value")
                             * _fact(kv, "tokens per request") / 1e9)
    step = inputs.facts("p1_decode_step_ms", S)
    gb = _fact(step, "weights read") + _fact(step, "KV cache read")
    bw = next(_num(v) for what, v, _ in step if "memory bandwidth" in what)
    out["p1_decode_step_ms"] = (gb / (_fact(step, "share of that bandwidth") * bw * 1e3) * 1e3
                                + _fact(step, "fixed cost per step")
                                + _fact(step, "layers") * _fact(step, "fixed cost per layer"))
    wg = inputs.facts("p1_bound_batch1", S)
    memory_s = _fact(wg, "weights in bf16") * 1e9 / (
        next(_num(v) for what, v, _ in wg if "memory bandwidth" in what) * 1e12)
    compute_s = 2 * _fact(wg, "active parameters") * 1e9 / (
        next(_num(v) for what, v, _ in wg if "compute" in what) * 1e12)
    out["p1_bound_batch1"] = "memory_bandwidth" if memory_s > compute_s else "compute"
    mb = inputs.facts("p1_max_batch", S)
    out["p1_max_batch"] = int((_fact(mb, "usable memory") - _fact(mb, "weights in bf16")) * 1e9
                              // (_fact(mb, "KV cache per token") * _fact(mb, "tokens per")))
    _, rows = inputs.facts("ex1_model_error_pct", S)
    errors = sorted(abs(_num(r[3]) / _num(r[2]) - 1) * 100 for r in rows)
    n = len(errors)
    out["ex1_model_error_pct"] = (errors[n // 2] if n % 2 else
                                  (errors[n // 2 - 1] + errors[n // 2]) / 2)
    for qid in ("ex1_prototype_binding", "ex1_binding"):
        what, _, _ = min(inputs.facts(qid, S), key=lambda r: _num(r[1]))
        out[qid] = what.replace(" ", "_")
    ceiling = min(_num(v) for _, v, _ in inputs.facts("ex1_ceiling_tokens_per_s", S))
    out["ex1_ceiling_tokens_per_s"] = ceiling
    rc = inputs.facts("ex1_usd_per_1k_tokens", S)
    out["ex1_usd_per_1k_tokens"] = (_fact(rc, "GPU price") * _fact(rc, "GPUs per replica")
                                    / (ceiling * 3600 / 1000))
    q = inputs.facts("ex1_api_quota_month", S)
    o, cached = _fact(q, "output share"), _fact(q, "cached share")
    limits = {w.split(" (")[0]: _num(v) for w, v, _ in q if "limit" in w}
    out["ex1_api_quota_month"] = "never"
    for m in range(1, int(_fact(q, "horizon")) + 1):
        peak = (_fact(q, "peak to average") * _fact(q, "tokens in month 1")
                * (1 + _fact(q, "annual growth")) ** ((m - 1) / 12)
                / _fact(q, "minutes in a month"))
        demand = {"input limit": peak * (1 - o) * (1 - cached), "output limit": peak * o,
                  "limit on input and output together": peak}
        if any(demand[k] > lim for k, lim in limits.items()):
            out["ex1_api_quota_month"] = m
            break
    for qid, col in (("ex2_tco_a_usd", 1), ("ex2_tco_b_usd", 2)):
        _, rows = inputs.facts(qid, S)
        out[qid] = sum(_num(r[col]) for r in rows)
    _, rows = inputs.facts("ex2_crossover_month", S)
    pb = _payback([_num(r[1]) - _num(r[2]) for r in rows])
    out["ex2_crossover_month"] = "never" if pb is None else pb
    _, rows = inputs.facts("p2_discounted_crossover_month", S)
    dpb = _payback([(_num(r[1]) - _num(r[2])) * float(r[3]) for r in rows])
    out["p2_discounted_crossover_month"] = "never" if dpb is None else dpb
    rec = inputs.facts("ex2_recommendation", S)
    npv = {p: _fact(rec, f"after-tax NPV of {p}") for p in ("A (API)", "B (self-host)",
                                                            "hybrid")}
    possible = {p: next(v for w, v, _ in rec if w.startswith(f"what blocks {p}")) == "nothing"
                for p in npv}
    best = max((p for p in npv if possible[p]), key=lambda p: npv[p], default=None)
    out["ex2_recommendation"] = ("neither" if best is None or npv[best] <= 0 else
                                 {"A (API)": "buy", "B (self-host)": "build",
                                  "hybrid": "hybrid"}[best])
    ranked = sorted([*(npv[p] for p in npv if possible[p]), 0.0], reverse=True)
    out["ex2_decision_margin_usd"] = ranked[0] - ranked[1]
    _, rows = inputs.facts("ex2_top_driver_swing_usd", S)
    out["ex2_top_driver_swing_usd"] = max(abs(_num(r[2]) - _num(r[1])) for r in rows)
    bill = inputs.facts("p2_api_first_month_usd", S)
    tokens, o = _fact(bill, "tokens in month 1"), _fact(bill, "output share")
    cached = _fact(bill, "cached share")
    price = {("cached" if "cached" in w else w.split(" ")[-2]): v for w, v, _ in bill
             if w.endswith(" price")}
    cached_price = _num(price["input"]) if price["cached"].startswith("none") else \
        _num(price["cached"])
    out["p2_api_first_month_usd"] = tokens / 1e6 * (
        (1 - o) * ((1 - cached) * _num(price["input"]) + cached * cached_price)
        + o * _num(price["output"]))
    tool = whatif.TOOLS["p2_break_even_monthly_tokens"](S)
    be = _goal_seek(tool, S.monthly_tokens)
    out["p2_break_even_monthly_tokens"] = "never" if be is None else be
    psi = inputs.facts("p3_psi_threshold", S)
    n_month = _fact(psi, "monitor samples a day") * _fact(psi, "days in the month")
    out["p3_psi_threshold"] = 2 / n_month * _fact(psi, "95% quantile")
    _, rows = inputs.facts("p3_ebitda_delta_last_year_usd", S)
    out["p3_ebitda_delta_last_year_usd"] = _num(rows[-1][2]) - _num(rows[-1][1])
    return out


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_facts_suffice_for_a_calculator(persona: str, scenarios_by_persona: dict) -> None:
    """Every answer worked out from the listed facts alone (or the what-if tool), as a
    learner with a calculator would, passes the same check: the facts are complete, and
    they are the library's. The lab's two answers come from a live audit (below)."""
    from buildbuy.forms import inputs

    S = scenarios_by_persona[persona]
    got = _calculator_answers(S)
    lab = {"ex1_lab_binding", "ex1_lab_ceiling_tokens_per_s"}
    assert set(got) == set(inputs.INPUTS) - lab | {"p2_break_even_monthly_tokens"}
    wrong = {qid: (answer, r.message) for qid, answer in got.items()
             if not (r := checks.check(qid, answer, scenario=S)).correct}
    assert not wrong, (persona, wrong)


def test_the_lab_facts_hold_the_ceiling_a_learner_reads_off() -> None:
    import re

    from buildbuy.forms import inputs

    S = scenarios.load("bank_support")
    text = inputs.facts_html("ex1_lab_ceiling_tokens_per_s", S)
    head = re.findall(r"<th>([^<]*)</th>", text)
    col = head.index("output tokens per s")
    rows = [re.findall(r"<td>([^<]*)</td>", r) for r in text.split("</tr>")[1:-1]]
    best = max(_num(r[col]) for r in rows if r)
    assert checks.check("ex1_lab_ceiling_tokens_per_s", best, scenario=S).correct
    assert "Its evidence" in text and "<li>" in text


def test_the_what_if_tool_is_the_librarys_comparison(tmp_path: Path) -> None:
    from buildbuy import tco

    S = scenarios.load("retail_search")
    form = forms.exercise_form("02_three_year_tco", S, folder=tmp_path)
    field = form.fields["p2_break_even_monthly_tokens"]
    assert field.facts.selected_index is None and not hasattr(field, "tool")
    field.facts.selected_index = 0
    tool = field.tool
    be = questions.get("p2_break_even_monthly_tokens").expected(S)
    for v, dearer in ((be * 0.99, True), (be, False), (S.monthly_tokens, None)):
        tool.volume.value = format_number(v)
        tool.button.click()
        _, a, b = tool.tries[-1]
        if dearer is not None:
            assert (b > a) == dearer, (v, a, b)
    c = tco.compare(S)
    assert tool.tries[-1][1:] == pytest.approx((c.npv_cost_usd["A"], c.npv_cost_usd["B"]),
                                               rel=1e-9)
    assert tool.result.value.count("<tr>") == 4
    tool.volume.value = "lots"
    tool.work_out()
    assert "volume=&#x27;lots&#x27; is invalid: must be a number of tokens, 0 or more" in \
        tool.result.value and len(tool.tries) == 3
    tool.volume.value = "-5"
    tool.work_out()
    assert "volume=&#x27;-5&#x27; is invalid" in tool.result.value


def test_the_quota_facts_follow_the_negotiated_quota_and_a_combined_limit() -> None:
    from buildbuy.forms import inputs

    S = scenarios.load("bank_support", api_tokens_per_minute=5e6)
    rows = inputs.facts("ex1_api_quota_month", S)
    limits = [(w, v) for w, v, _ in rows if "limit" in w]
    assert limits == [("input limit (negotiated quota)", "5,000,000")]
    assert checks.check("ex1_api_quota_month", _calculator_answers(S)["ex1_api_quota_month"],
                        scenario=S).correct
    gpt = scenarios.load("retail_search", api_model="gpt-4o")
    limits = [w for w, _, _ in inputs.facts("ex1_api_quota_month", gpt) if "limit" in w]
    assert limits == ["limit on input and output together (gpt-4o's top published tier, "
                      "tier_5)"]
    assert checks.check("ex1_api_quota_month",
                        _calculator_answers(gpt)["ex1_api_quota_month"], scenario=gpt).correct
