"""One source, exercises that run blank, and solutions that pass (grading: test_grading.py).

Notebook runs are module-scoped fixtures: each notebook runs once per persona and the
outputs are reused across assertions (2 shared cores).
"""

from __future__ import annotations

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
        assert "buildbuy.scenarios.from_parameters(scenario, overrides)" in nb.cells[2].source
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


def test_step_5_quota_month_counts_a_combined_limit() -> None:
    """OpenAI publishes one combined tokens-per-minute limit and no input or output limit:
    the solution's step 5 formula must see it. gpt-4o's top tier allows 30M tokens/min.
    The retailer at 5e11 tokens a month (peak 2.15x, growth 60% a year) peaks at
    5e11 x 2.15 / 43,800 min = 2.45e7 tokens/min in month 1, x 1.6^(5/12) = 2.98e7 in
    month 6 (under) and x 1.6^(6/12) = 3.10e7 in month 7 (over): month 7."""
    import numpy as np

    S = scenarios.load("retail_search", api_model="gpt-4o", monthly_tokens=5e11)
    stages = questions.pipeline_inputs(S)
    assert stages["api_total_tokens_per_minute"] == 30e6
    assert np.isinf(stages["api_input_tokens_per_minute"])
    months = np.arange(1, S.horizon_months + 1)
    volume = S.monthly_tokens * (1 + S.annual_growth) ** ((months - 1) / 12)
    peak_per_minute = S.peak_to_average * volume / questions.SECONDS_PER_MONTH * 60
    over = np.flatnonzero(peak_per_minute > stages["api_total_tokens_per_minute"])
    assert float(months[over[0]]) == questions.get("ex1_api_quota_month").expected(S) == 7.0
