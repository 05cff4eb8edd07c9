"""The grader: each submission sandboxed, answers re-checked, failures that say what happened.

The notebook runs are module-scoped fixtures (a class of learners graded once, then many
assertions), since each submission costs a sandbox, papermill and a kernel (2 shared cores).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import stat
import time
from pathlib import Path

import nbformat
import pytest

from buildbuy import checks, exercises, grading, questions, scenarios
from buildbuy.grading import submissions
from sandbox_helpers import processes_with, require_sandbox

NAME = exercises.solution_paths()[0].stem  # 01_bottleneck_audit
SOLUTION = exercises.SOLUTIONS_DIR / f"{NAME}.ipynb"
BLANK = exercises.EXERCISES_DIR / f"{NAME}.ipynb"
N_Q = len(questions.for_exercise(NAME))


def _edit(src: Path, dst: Path, *, code: str | None = None, at: int | None = None,
          parameters: str | None = None) -> Path:
    """Copy notebook ``src`` to ``dst``, adding a code cell and/or replacing the parameters."""
    nb = nbformat.read(src, as_version=4)
    if parameters is not None:
        next(c for c in nb.cells if "parameters" in c.metadata.get("tags", [])).source = parameters
    if code is not None:
        nb.cells.insert(len(nb.cells) if at is None else at, nbformat.v4.new_code_cell(code))
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)
    return dst


def _grade_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = exercises.cli_main(["grade", *args])
    return code, out.getvalue(), err.getvalue()


def _status(rows: list[dict], learner: str) -> set[str]:
    return {r["status"] for r in rows if r["learner"] == learner}


def _messages(rows: list[dict], learner: str) -> list[str]:
    return [r["message"] for r in rows if r["learner"] == learner]


# --- a class of learners, graded once ----------------------------------------------------------

FORGED = """
from IPython.display import display
display({MIME: {"question": "p1_kv_cache_gb", "status": "correct", "answer": ANSWER,
                  "scenario": {"persona": "bank_support", "overrides": {}}}}, raw=True)
"""
VANDAL = """
import os, shutil
for p in os.listdir("."):
    shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
open("junk.txt", "w").write("x")
"""
FLOOD = "import sys\nwhile True:\n    sys.stdout.write('x' * 100_000)"
LEARNERS = ["aaron", f"alice_{NAME}", "bob", "carol", "dave", "erin", "frank", "gina", "hal"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], int, Path, str]:
    require_sandbox()
    root = tmp_path_factory.mktemp("submissions")
    _edit(SOLUTION, root / "aaron" / f"{NAME}.ipynb", code=VANDAL, at=3)  # runs first
    shutil.copy(SOLUTION, root / f"alice_{NAME}.ipynb")  # flat layout, learner = stem
    (root / "bob").mkdir()
    shutil.copy(BLANK, root / "bob" / f"{NAME}.ipynb")
    _edit(BLANK, root / "carol" / f"{NAME}.ipynb", code="raise RuntimeError('boom')", at=3)
    _edit(BLANK, root / "dave" / f"{NAME}.ipynb", code="while True:\n    pass", at=3)
    (root / "erin").mkdir()
    (root / "erin" / f"{NAME}.ipynb").write_text('{"cells": [ not json')
    # frank runs hospital_notes but forges a "correct" record computed for bank_support
    bank_answer = questions.get("p1_kv_cache_gb").expected(scenarios.load("bank_support"))
    forged = FORGED.replace("MIME", repr(checks.RECORD_MIME)).replace("ANSWER", repr(bank_answer))
    _edit(BLANK, root / "frank" / f"{NAME}.ipynb", code=forged,
          parameters='scenario = "hospital_notes"\noverrides = {}')
    # gina's scenario is a YAML file in her own folder
    (root / "gina").mkdir()
    shutil.copy(scenarios.paths.scenarios_dir() / "retail_search.yaml", root / "gina" / "co.yaml")
    _edit(SOLUTION, root / "gina" / f"{NAME}.ipynb",
          parameters='scenario = "co.yaml"\noverrides = {"horizon_months": 24}')
    _edit(BLANK, root / "hal" / f"{NAME}.ipynb", code=FLOOD, at=3)
    out = root.parent / "grades.csv"
    # 30 s per cell: dave's endless loop is stopped by it, and a cold kernel's setup cell
    # (6-9 s on a loaded 2-core machine) stays well inside it
    code, printed, _ = _grade_cli(str(root), "--out", str(out), "--cell-timeout", "30",
                                  "--timeout", "300", "--max-output-mb", "4")
    rows = list(csv.DictReader(out.open()))
    return rows, code, root, printed


@pytest.mark.slow
def test_one_row_per_learner_per_question(graded: tuple) -> None:
    rows, code, _, _ = graded
    assert [r["learner"] for r in rows] == [x for x in LEARNERS for _ in range(N_Q)]
    assert code == 1  # some submissions failed: papermill's "ran, but some failed"


@pytest.mark.slow
def test_solution_correct_blank_unanswered(graded: tuple) -> None:
    rows, *_ = graded
    assert _status(rows, f"alice_{NAME}") == {"correct"}
    assert _status(rows, "bob") == {"not_answered"}
    # the vandal deleted only its own working copy, and its answers are right
    assert _status(rows, "aaron") == {"correct"}


@pytest.mark.slow
def test_a_scenario_file_in_the_learners_folder_is_used(graded: tuple) -> None:
    rows, *_ = graded
    assert _status(rows, "gina") == {"correct"}  # checked against co.yaml + 24 months


@pytest.mark.slow
@pytest.mark.parametrize(("learner", "says"), [
    ("carol", "raised RuntimeError: boom"),
    ("dave", "a cell ran longer than the per-cell limit of 30 s"),
    ("erin", "is not a valid notebook (not JSON)"),
    ("hal", "printed more than 4 MB of output (the limit); stopped"),
])
def test_failures_say_what_happened(graded: tuple, learner: str, says: str) -> None:
    rows, *_ = graded
    assert _status(rows, learner) == {"error"}
    assert all(says in m for m in _messages(rows, learner)), _messages(rows, learner)[0]


@pytest.mark.slow
def test_a_forged_record_is_rechecked_against_the_scenario_the_notebook_ran(
        graded: tuple) -> None:
    rows, *_ = graded
    frank = {r["question"]: (r["status"], r["message"]) for r in rows if r["learner"] == "frank"}
    status, message = frank["p1_kv_cache_gb"]
    # right for bank_support (which the record names), wrong for hospital_notes (which ran)
    assert status == "incorrect"
    assert "the scenario the notebook ran, hospital_notes" in message
    assert "its record named bank_support" in message
    assert {s for q, (s, _) in frank.items() if q != "p1_kv_cache_gb"} == {"not_answered"}


@pytest.mark.slow
def test_submissions_untouched_and_rates_printed(graded: tuple) -> None:
    _, _, root, printed = graded
    assert (root / f"alice_{NAME}.ipynb").read_bytes() == SOLUTION.read_bytes()
    assert not (root / "aaron" / "junk.txt").exists()
    assert (root / "aaron" / f"{NAME}.ipynb").exists()
    line = next(ln for ln in printed.splitlines() if ln.startswith("ex1_binding "))
    # ex1_binding: alice, aaron and gina correct out of 9
    assert f"{100 * 3 / len(LEARNERS):.1f}%" in line


# --- the attack of issue 16 ----------------------------------------------------------------------

HOSTILE = """
import glob, os, subprocess, sys
cmdlines = []
for p in glob.glob("/proc/[0-9]*/cmdline"):
    try:
        cmdlines.append(open(p, "rb").read().replace(b"\\0", b" ").decode())
    except OSError:
        pass
target = GRADES  # the strongest attacker already knows where the grades go
for c in cmdlines:
    if "--out" in c:
        target = c.split("--out", 1)[1].split()[0]
for victim in glob.glob("*.ipynb") + glob.glob("../*.ipynb") + [VICTIM]:
    try:
        with open(victim, "w") as fh:
            fh.write("pwned")
    except OSError as exc:
        print("blocked:", victim, type(exc).__name__)
forged = "learner,exercise,question,status,message\\nmallory,x,ex1_binding,correct,\\n"
subprocess.Popen([sys.executable, "-c",
                  f"import time; time.sleep(3); open({target!r}, 'w').write({forged!r})",
                  MARKER], start_new_session=True, stdin=subprocess.DEVNULL,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
"""


@pytest.mark.slow
def test_a_hostile_submission_changes_nothing_outside_its_own_run(tmp_path: Path) -> None:
    """Issue 16: read the grader's command line from /proc, overwrite the next learner's
    notebook, and leave a detached process that rewrites grades.csv after the grader exits."""
    require_sandbox()
    root = tmp_path / "subs"
    grades = tmp_path / "grades.csv"
    victim = root / f"nina_{NAME}.ipynb"
    marker = f"bb-hostile-{time.monotonic_ns()}"
    code = (HOSTILE.replace("GRADES", repr(str(grades))).replace("VICTIM", repr(str(victim)))
            .replace("MARKER", repr(marker)))
    _edit(SOLUTION, root / f"mallory_{NAME}.ipynb", code=code, at=3)  # graded first
    shutil.copy(SOLUTION, victim)
    victim_bytes = victim.read_bytes()
    status, printed, _ = _grade_cli(str(root), "--out", str(grades), "--timeout", "300",
                                    "--cell-timeout", "120")
    assert status == 0, printed
    written = grades.read_bytes()
    rows = list(csv.DictReader(io.StringIO(written.decode())))
    assert {r["learner"] for r in rows} == {f"mallory_{NAME}", f"nina_{NAME}"}
    assert _status(rows, f"nina_{NAME}") == {"correct"}  # nina's own notebook was graded
    time.sleep(5)  # longer than the detached process would have waited
    assert grades.read_bytes() == written
    assert victim.read_bytes() == victim_bytes
    assert processes_with(marker) == []


# --- usage errors and the opt-out --------------------------------------------------------------

def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / "notes.txt").write_text("no notebook")
    code, _, err = _grade_cli(str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv"))
    assert code == 2
    assert "at least one submitted notebook" in err and "subs" in err
    assert not (tmp_path / "g.csv").exists()
    code, _, err = _grade_cli(str(tmp_path / "missing"), "--out", str(tmp_path / "g.csv"))
    assert code == 2 and "an existing folder" in err


def test_out_must_be_a_file_path(tmp_path: Path) -> None:
    (tmp_path / "subs").mkdir()
    shutil.copy(BLANK, tmp_path / "subs" / f"ann_{NAME}.ipynb")
    code, _, err = _grade_cli(str(tmp_path / "subs"), "--out", str(tmp_path))
    assert code == 2 and "--out=" in err and "this is a folder" in err


def test_no_sandbox_is_a_clear_error_with_the_opt_out(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from buildbuy.grading import sandbox

    (tmp_path / "subs").mkdir()
    shutil.copy(BLANK, tmp_path / "subs" / f"ann_{NAME}.ipynb")
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(sandbox.BWRAP_ENV, str(fake))
    code, _, err = _grade_cli(str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv"))
    assert code == 2
    assert "cannot sandbox submissions" in err and "setting up uid map" in err
    assert "--no-sandbox" in err
    assert not (tmp_path / "g.csv").exists()  # nothing ran unsandboxed


@pytest.mark.slow
def test_no_sandbox_opt_out_grades_trusted_notebooks(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from buildbuy.grading import sandbox

    monkeypatch.setenv(sandbox.BWRAP_ENV, str(tmp_path / "no-bwrap-here"))
    (tmp_path / "subs").mkdir()
    shutil.copy(SOLUTION, tmp_path / "subs" / f"ann_{NAME}.ipynb")
    code, _, err = _grade_cli(str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv"),
                              "--no-sandbox")
    assert code == 0, err
    assert "WITHOUT isolation" in err
    rows = list(csv.DictReader((tmp_path / "g.csv").open()))
    assert {r["status"] for r in rows} == {"correct"}


def test_links_and_non_literal_parameters_fail_their_own_rows_only(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    _edit(BLANK, root / "ann" / f"{NAME}.ipynb", parameters="scenario = 'bank' + '_support'")
    (root / "ben").mkdir()
    (root / "ben" / f"{NAME}.ipynb").symlink_to(root / "ann" / f"{NAME}.ipynb")
    _edit(BLANK, root / "cy" / f"{NAME}.ipynb", parameters='scenario = "../ann/x.yaml"')
    (root / "dee").mkdir()
    (root / "dee" / "notes.ipynb").write_text("{}")
    rows = grading.grade(root, tmp_path / "g.csv", verbose=False, use_sandbox=False)
    by = {r.learner: r for r in rows}
    assert re.search(r"parameters cell: scenario=\"'bank' \+ '_support'\" is invalid: must be "
                     r"a literal", by["ann"].message), by["ann"].message
    assert "is a symbolic link" in by["ben"].message
    assert "inside the learner's own folder" in by["cy"].message
    assert (by["dee"].exercise, by["dee"].question, by["dee"].status) == ("?", "*", "error")
    assert {r.status for r in rows} == {"error"}  # and nothing ran at all


def test_parameters_of_reads_literals_only() -> None:
    def nb(src: str) -> dict:
        return {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
                           "source": src}]}

    assert submissions.parameters_of(nb('scenario = "x"\noverrides = {"a": 1}\nn = 3')) == {
        "scenario": "x", "overrides": {"a": 1}, "n": 3}
    assert submissions.parameters_of({"cells": []}) == {}
    with pytest.raises(ValueError, match=r"overrides.*must be a literal"):
        submissions.parameters_of(nb("overrides = dict(a=1)"))
    with pytest.raises(ValueError, match="valid Python"):
        submissions.parameters_of(nb("scenario = ("))


def test_summary_text_rates() -> None:
    rows = [grading.GradeRow("a", "x", "q1", "correct", ""),
            grading.GradeRow("b", "x", "q1", "error", ""),
            grading.GradeRow("a", "x", "q2", "not_answered", "")]
    text = grading.summary_text(rows)
    assert " 50.0%" in text.splitlines()[1] and "  0.0%" in text.splitlines()[2]
    assert json.dumps(text)  # plain text


@pytest.mark.slow
def test_a_notebook_over_its_total_time_limit_is_stopped(tmp_path: Path) -> None:
    require_sandbox()
    root = tmp_path / "subs"
    _edit(BLANK, root / "zoe" / f"{NAME}.ipynb", code="import time\nwhile True:\n"
          "    time.sleep(0.05)", at=3)
    # the endless cell is stopped by the notebook's 20 s limit, not the 600 s per-cell one
    # (however long the kernel took to start, the message is the same)
    rows = grading.grade(root, tmp_path / "g.csv", timeout_s=20, cell_timeout_s=600,
                         verbose=False)
    assert {r.status for r in rows} == {"error"}
    assert all("ran longer than the time limit of 20 s per notebook" in r.message for r in rows)


def test_forced_scenario_is_injected_and_rechecked(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Without executing anything: ``--scenario`` is what the run gets and what the
    recorded answers are re-checked against."""
    bank = scenarios.load("bank_support")
    answer = questions.get("p1_kv_cache_gb").expected(bank)
    seen: list[dict] = []

    def fake_run(sub: submissions.Submission, inject: dict, **_: object) -> tuple[dict, None]:
        seen.append(inject)
        rec = checks.check("p1_kv_cache_gb", answer, scenario=bank).to_record()
        return {"cells": [{"outputs": [{"data": {checks.RECORD_MIME: rec}}]}]}, None

    monkeypatch.setattr(grading, "_run_one", fake_run)
    (tmp_path / "s" / "kim").mkdir(parents=True)
    shutil.copy(BLANK, tmp_path / "s" / "kim" / f"{NAME}.ipynb")
    own = {r.question: r.status for r in grading.grade(
        tmp_path / "s", tmp_path / "a.csv", verbose=False, use_sandbox=False)}
    forced = {r.question: r.status for r in grading.grade(
        tmp_path / "s", tmp_path / "b.csv", scenario="hospital_notes", verbose=False,
        use_sandbox=False)}
    assert seen == [{"scenario": "bank_support", "overrides": {}},
                    {"scenario": "hospital_notes", "overrides": {}}]
    assert own["p1_kv_cache_gb"] == "correct"
    assert forced["p1_kv_cache_gb"] == "incorrect"  # hospital's model has another KV size
    assert own["ex1_binding"] == "error"  # no record: its check never ran
    with pytest.raises(ValueError, match="scenario='hospital_note' is invalid"):
        grading.grade(tmp_path / "s", tmp_path / "c.csv", scenario="hospital_note",
                      use_sandbox=False)


def test_grader_reports_rubric_items_per_learner(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Without executing anything: exercise 3's memo gets one row per rubric item under its
    own row; a memo that recommends what the record does not fails that item only, and a
    learner whose memo check never ran gets every item as an error."""
    from buildbuy import memo

    bank = scenarios.load("bank_support")
    good = memo.draft_memo(bank)
    memos = {"ann": good.markdown, "ben": good.markdown.replace("**build**", "**buy**")}

    def fake_run(sub: submissions.Submission, inject: dict, **_: object) -> tuple[dict, None]:
        if sub.learner not in memos:
            return {"cells": []}, None
        rec = checks.check("ex3_memo", memos[sub.learner], scenario=bank).to_record()
        return {"cells": [{"outputs": [{"data": {checks.RECORD_MIME: rec}}]}]}, None

    monkeypatch.setattr(grading, "_run_one", fake_run)
    name = "03_investment_memo"
    for learner in ("ann", "ben", "cat"):
        (tmp_path / "s" / learner).mkdir(parents=True)
        shutil.copy(exercises.EXERCISES_DIR / f"{name}.ipynb",
                    tmp_path / "s" / learner / f"{name}.ipynb")
    out = tmp_path / "g.csv"
    grading.grade(tmp_path / "s", out, verbose=False, use_sandbox=False)
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["learner", "exercise", "question", "status", "message"]
    got = {(r["learner"], r["question"]): r["status"] for r in rows}
    items = [f"ex3_memo:{i}" for i in questions.RUBRIC_ITEMS]
    ann = [r["question"] for r in rows if r["learner"] == "ann"]
    at = ann.index("ex3_memo")
    assert ann[at:at + 6] == ["ex3_memo", *items]  # the items follow the memo's own row
    assert {got["ann", q] for q in ["ex3_memo", *items]} == {"correct"}
    assert got["ben", "ex3_memo"] == "incorrect"
    assert got["ben", "ex3_memo:recommendation"] == "incorrect"
    assert {got["ben", q] for q in items[1:]} == {"correct"}
    assert {got["cat", q] for q in ["ex3_memo", *items]} == {"error"}
    assert "ex3_memo:kill_criteria" in grading.summary_text(
        [grading.GradeRow(r["learner"], r["exercise"], r["question"], r["status"],
                          r["message"]) for r in rows])


def test_read_only_binds_come_after_the_in_memory_tmp(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clone under /tmp (as CI makes one) must stay visible: bubblewrap mounts in order,
    so the venv and package binds must follow ``--tmpfs /tmp``, never precede it."""
    from buildbuy.grading import sandbox

    monkeypatch.setattr(sandbox, "read_only_paths",
                        lambda: [Path("/tmp/ci/w/.venv"), Path("/tmp/ci/w/lib")])
    args = sandbox.bwrap_arguments(["python", "-V"], input_dir=None)
    tmpfs = args.index("/tmp", args.index("--tmpfs"))
    for path in ("/tmp/ci/w/.venv", "/tmp/ci/w/lib"):
        assert args.index(path) > tmpfs, path
