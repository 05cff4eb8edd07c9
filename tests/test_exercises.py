"""One source, exercises that run blank, solutions that pass, and a grader that survives.

Notebook runs are module-scoped fixtures: each notebook runs once per persona and the
outputs are reused across assertions (2 shared cores).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from buildbuy import checks, exercises, notebooks, questions, scenarios
from buildbuy.exercises import build, strip_source
from buildbuy.paths import REPO_ROOT

NAMES = [p.stem for p in exercises.solution_paths()]
PERSONAS = scenarios.persona_names()


def _records(nb: nbformat.NotebookNode) -> list[dict]:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            rec = o.get("data", {}).get(checks.RECORD_MIME)
            if rec is not None:
                out.append(dict(rec))
    return out


# --- one source -----------------------------------------------------------------------------

def test_three_exercises_with_matching_solutions() -> None:
    assert list(questions.EXERCISES) == NAMES
    assert sorted(p.name for p in exercises.EXERCISES_DIR.glob("*.ipynb")) == [
        f"{n}.ipynb" for n in NAMES]


def test_strip_source_placeholders() -> None:
    src = ("x = 1\n"
           "### BEGIN SOLUTION\n"
           "a, (b, c) = 1, (2, 3)\n"
           "d: int = 4\n"
           "print(a)\n"
           "### END SOLUTION\n"
           "for i in range(2):\n"
           "    ### BEGIN SOLUTION\n"
           "    print(i)\n"
           "    ### END SOLUTION\n"
           "check('q', d)")
    assert strip_source(src) == ("x = 1\n"
                                 "a = None  # your answer here\n"
                                 "b = None  # your answer here\n"
                                 "c = None  # your answer here\n"
                                 "d = None  # your answer here\n"
                                 "for i in range(2):\n"
                                 "    pass  # your code here\n"
                                 "check('q', d)")
    assert strip_source(src, keep={"d"}).splitlines()[1] == "d = None  # your answer here"
    compile(strip_source(src), "<cell>", "exec")  # still valid Python
    branchy = ("### BEGIN SOLUTION\n"
               "if x:\n    y = 1\nelse:\n    y = 'never'\n"
               "def f():\n    hidden = 2\n"
               "squares = [k * k for k in range(3)]\n"
               "with open('f') as fh:\n    pass\n"
               "### END SOLUTION")
    assert strip_source(branchy).splitlines() == [
        "y = None  # your answer here", "squares = None  # your answer here",
        "fh = None  # your answer here"]


@pytest.mark.parametrize(("src", "pattern"), [
    ("### BEGIN SOLUTION\nx = 1\n", r"BEGIN SOLUTION without END SOLUTION"),
    ("x = 1\n### END SOLUTION\n", r"an END SOLUTION after a BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", r"no nested"),
    ("### BEGIN SOLUTION\nx = (\n### END SOLUTION\n", r"valid Python"),
])
def test_strip_source_rejects_broken_markers(src: str, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        strip_source(src, where="nb cell 3")


def test_exercises_keep_no_solution_code_and_no_outputs() -> None:
    for name in NAMES:
        nb = nbformat.read(exercises.EXERCISES_DIR / f"{name}.ipynb", as_version=4)
        assert nb.metadata["buildbuy"]["exercise"] == name
        assert "parameters" in nb.cells[1].metadata.get("tags", [])
        assert 'scenario = "bank_support"' in nb.cells[1].source
        assert "buildbuy.scenarios.load(scenario, **overrides)" in nb.cells[2].source
        for cell in nb.cells:
            assert "BEGIN SOLUTION" not in cell.source
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None


def test_build_is_idempotent_and_matches_the_committed_exercises(tmp_path: Path) -> None:
    assert build(check=True) == []  # committed exercises are what build would write
    first = build(exercises_dir=tmp_path)
    assert len(first) == len(NAMES)
    snapshot = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert build(exercises_dir=tmp_path) == []
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == snapshot
    for name, raw in snapshot.items():
        assert raw == (exercises.EXERCISES_DIR / name).read_bytes()


def test_check_catches_a_hand_edited_exercise(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for p in exercises.EXERCISES_DIR.glob("*.ipynb"):
        shutil.copy(p, tmp_path / p.name)
    monkeypatch.setattr(exercises, "EXERCISES_DIR", tmp_path)
    assert exercises.cli_main(["build", "--check"]) == 0
    edited = tmp_path / f"{NAMES[1]}.ipynb"
    edited.write_text(edited.read_text().replace("your answer here", "my answer"))
    assert exercises.cli_main(["build", "--check"]) == 1
    assert build(check=True, exercises_dir=tmp_path) == [edited]
    (tmp_path / f"{NAMES[0]}.ipynb").unlink()
    assert len(build(check=True, exercises_dir=tmp_path)) == 2
    assert exercises.cli_main(["build"]) == 0
    assert exercises.cli_main(["build", "--check"]) == 0


def test_cli_entry_point_and_usage_errors(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "buildbuy", "exercises", "build", "--check"],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert exercises.cli_main([]) == 2
    assert exercises.cli_main(["grade"]) == 2
    assert exercises.cli_main(["grade", str(tmp_path / "missing"), "--out", "x.csv"]) == 2
    assert exercises.cli_main(["--help"]) == 0


# --- solutions and exercises run under papermill ---------------------------------------------

@pytest.fixture(scope="module")
def solution_runs(notebook_run) -> dict:
    """Each solution once per persona, shared with tests/test_figures_everywhere.py."""
    return {(persona, name): notebook_run("solution", name, persona)
            for persona in PERSONAS for name in NAMES}


@pytest.fixture(scope="module")
def exercise_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("exercises")
    return {name: notebooks.execute(exercises.EXERCISES_DIR / f"{name}.ipynb",
                                    out / f"{name}.ipynb", cwd=out, timeout_s=300)
            for name in NAMES}


@pytest.mark.slow
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", NAMES)
def test_solution_passes_every_check_for_every_persona(solution_runs: dict, persona: str,
                                                       name: str) -> None:
    recs = _records(solution_runs[persona, name])
    expected = [q.id for q in questions.for_exercise(name)]
    assert sorted(r["question"] for r in recs) == sorted(expected)
    bad = [(r["question"], r["message"]) for r in recs if r["status"] != "correct"]
    assert not bad
    assert all(r["scenario"]["persona"] == persona for r in recs)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_blank_exercise_runs_with_every_check_not_answered(exercise_runs: dict,
                                                           name: str) -> None:
    recs = _records(exercise_runs[name])
    assert sorted(r["question"] for r in recs) == sorted(
        q.id for q in questions.for_exercise(name))
    assert {r["status"] for r in recs} == {"not_answered"}


@pytest.mark.slow
def test_practice_sections_hold_three_questions_per_lesson(exercise_runs: dict) -> None:
    for lesson, name in enumerate(NAMES, start=1):
        ids = [r["question"] for r in _records(exercise_runs[name])]
        assert sum(i.startswith(f"p{lesson}_") for i in ids) >= 3


def test_committed_solutions_are_executed_and_pass() -> None:
    for name in NAMES:
        nb = nbformat.read(exercises.SOLUTIONS_DIR / f"{name}.ipynb", as_version=4)
        recs = _records(nb)
        assert recs and {r["status"] for r in recs} == {"correct"}
        assert "papermill" not in nb.metadata  # scrubbed: no timestamps


# --- grading --------------------------------------------------------------------------------

def _with_cell(src: Path, dst: Path, code: str, *, at: int | None = None) -> None:
    nb = nbformat.read(src, as_version=4)
    nb.cells.insert(len(nb.cells) if at is None else at, nbformat.v4.new_code_cell(code))
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)


FORGED = f"""
from IPython.display import display
display({{{checks.RECORD_MIME!r}: {{"question": "ex1_binding", "status": "correct",
         "answer": "api_rate_limit",
         "scenario": {{"persona": "bank_support", "overrides": {{}}}}}}}}, raw=True)
"""
VANDAL = """
import os, shutil
for p in os.listdir("."):
    shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
open("junk.txt", "w").write("x")
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[list, int, Path, str]:
    root = tmp_path_factory.mktemp("submissions")
    name = NAMES[0]
    sol = exercises.SOLUTIONS_DIR / f"{name}.ipynb"
    blank = exercises.EXERCISES_DIR / f"{name}.ipynb"
    _with_cell(sol, root / "aaron" / f"{name}.ipynb", VANDAL, at=3)  # runs first
    shutil.copy(sol, root / f"alice_{name}.ipynb")  # flat layout, learner = stem
    (root / "bob").mkdir()
    shutil.copy(blank, root / "bob" / f"{name}.ipynb")
    _with_cell(blank, root / "carol" / f"{name}.ipynb", "raise RuntimeError('boom')", at=3)
    _with_cell(blank, root / "dave" / f"{name}.ipynb", "while True:\n    pass", at=3)
    (root / "erin").mkdir()
    (root / "erin" / f"{name}.ipynb").write_text('{"cells": [ not json')
    _with_cell(blank, root / "frank" / f"{name}.ipynb", FORGED)  # last record wins
    out = root.parent / "grades.csv"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = exercises.cli_main(["grade", str(root), "--out", str(out), "--cell-timeout", "8",
                                   "--timeout", "120"])
    rows = list(csv.DictReader(out.open()))
    return rows, code, root, buf.getvalue()


def _status(rows: list, learner: str) -> set[str]:
    return {r["status"] for r in rows if r["learner"] == learner}


@pytest.mark.slow
def test_grader_one_row_per_learner_per_question(graded: tuple) -> None:
    rows, code, _, _ = graded
    n_q = len(questions.for_exercise(NAMES[0]))
    learners = ["aaron", "alice_" + NAMES[0], "bob", "carol", "dave", "erin", "frank"]
    assert [r["learner"] for r in rows] == [x for x in learners for _ in range(n_q)]
    assert code == 1  # some submissions failed: papermill's "ran, but some failed"


@pytest.mark.slow
def test_grader_scores_solution_correct_and_blank_unanswered(graded: tuple) -> None:
    rows, *_ = graded
    assert _status(rows, "alice_" + NAMES[0]) == {"correct"}
    assert _status(rows, "bob") == {"not_answered"}
    # the vandal deleted only its own working folder, and its answers are right
    assert _status(rows, "aaron") == {"correct"}


@pytest.mark.slow
def test_grader_survives_raise_loop_and_invalid_json(graded: tuple) -> None:
    rows, *_ = graded
    for learner, reason in (("carol", "boom"), ("dave", "Timeout"), ("erin", "")):
        assert _status(rows, learner) == {"error"}
        assert all(reason.lower() in r["message"].lower()
                   for r in rows if r["learner"] == learner)


@pytest.mark.slow
def test_grader_recomputes_forged_records(graded: tuple) -> None:
    rows, *_ = graded
    frank = {r["question"]: r["status"] for r in rows if r["learner"] == "frank"}
    # a forged "correct" record is re-checked: its answer is wrong for bank_support
    assert frank["ex1_binding"] == "incorrect"
    assert {s for q, s in frank.items() if q != "ex1_binding"} == {"not_answered"}


@pytest.mark.slow
def test_grader_leaves_submissions_untouched_and_prints_rates(graded: tuple) -> None:
    _, _, root, printed = graded
    sol = (exercises.SOLUTIONS_DIR / f"{NAMES[0]}.ipynb").read_bytes()
    assert (root / f"alice_{NAMES[0]}.ipynb").read_bytes() == sol
    assert not (root / "aaron" / "junk.txt").exists()
    assert "ex1_binding" in printed and "success" in printed
    n_learners = 7
    # ex1_binding: alice and aaron correct out of 7
    line = next(ln for ln in printed.splitlines() if ln.startswith("ex1_binding "))
    assert f"{100 * 2 / n_learners:.1f}%" in line


@pytest.mark.slow
def test_grader_kills_a_notebook_over_its_total_time_limit(tmp_path: Path) -> None:
    import psutil

    name = NAMES[0]
    root = tmp_path / "subs"
    _with_cell(exercises.EXERCISES_DIR / f"{name}.ipynb", root / "zoe" / f"{name}.ipynb",
               "import time\nwhile True:\n    time.sleep(0.05)", at=3)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    rows = exercises.grade(root, tmp_path / "g.csv", timeout_s=20, cell_timeout_s=600,
                           verbose=False)
    assert {r.status for r in rows} == {"error"}
    assert all("time limit of 20 s" in r.message for r in rows)
    after = {p.pid for p in psutil.Process().children(recursive=True)}
    assert after <= before  # papermill and its kernel are gone


def test_summary_text_rates() -> None:
    rows = [exercises.GradeRow("a", "x", "q1", "correct", ""),
            exercises.GradeRow("b", "x", "q1", "error", ""),
            exercises.GradeRow("a", "x", "q2", "not_answered", "")]
    text = exercises.summary_text(rows)
    assert " 50.0%" in text.splitlines()[1] and "  0.0%" in text.splitlines()[2]
    assert json.dumps(text)  # plain text


def test_grade_forced_scenario_rechecks_against_it(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Without executing anything: the grader passes --scenario to papermill and re-checks
    recorded answers against that persona, not the one the notebook recorded."""
    bank = scenarios.load("bank_support")
    answer = questions.get("p1_kv_cache_gb").expected(bank)
    seen: list[dict] = []

    def fake_run(path: Path, *, timeout_s: float, cell_timeout_s: float,
                 parameters: dict) -> tuple[dict, None]:
        seen.append(parameters)
        rec = checks.check("p1_kv_cache_gb", answer, scenario=bank).to_record()
        return {"cells": [{"outputs": [{"data": {checks.RECORD_MIME: rec}}]}]}, None

    monkeypatch.setattr(exercises, "_run_one", fake_run)
    name = NAMES[0]
    (tmp_path / "s" / "kim").mkdir(parents=True)
    shutil.copy(exercises.EXERCISES_DIR / f"{name}.ipynb", tmp_path / "s" / "kim" / f"{name}.ipynb")
    own = {r.question: r.status for r in exercises.grade(tmp_path / "s", tmp_path / "a.csv",
                                                         verbose=False)}
    forced = {r.question: r.status for r in exercises.grade(
        tmp_path / "s", tmp_path / "b.csv", scenario="hospital_notes", verbose=False)}
    assert seen == [{}, {"scenario": "hospital_notes"}]
    assert own["p1_kv_cache_gb"] == "correct"
    assert forced["p1_kv_cache_gb"] == "incorrect"  # hospital's model has another KV size
    assert own["ex1_binding"] == "error"  # no record: its check never ran
    (tmp_path / "s" / "kim" / "notes.ipynb").write_text("{}")
    rows = exercises.grade(tmp_path / "s", tmp_path / "c.csv", verbose=False)
    assert [(r.learner, r.question, r.status) for r in rows if r.exercise == "?"] == [
        ("kim", "*", "error")]
