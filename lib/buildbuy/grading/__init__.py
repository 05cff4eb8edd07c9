"""Grade a folder of submitted exercise notebooks, each in its own sandbox.

``buildbuy exercises grade DIR --out grades.csv`` (or :func:`grade`) runs every
submission (:mod:`.submissions` finds them) in its own bubblewrap sandbox
(:mod:`.sandbox`) through :mod:`.runner`, then reads back the check records
(:mod:`buildbuy.checks`) and re-checks each recorded answer here, in the grader.

What a submission can and cannot do:

- it sees a copy of its own files only (its learner's folder, or the notebook
  alone in a flat folder), writes only to a private in-memory folder, has no
  network (its own loopback works), and cannot see the grader's command line,
  its processes or any other submission;
- nothing it starts survives its run, and nothing it writes reaches the host:
  the grades are written only after every run has ended, atomically, to a file
  no run can see;
- its answers are re-checked against the scenario it ran with: the values of its
  ``parameters`` cell (or ``--scenario``), injected again by papermill. A record
  that claims "correct", or names another scenario, changes nothing;
- a run that raises, loops past the time limits, prints more than the output cap,
  or crashes fails only its own rows, with a message that says which.

Where bubblewrap cannot create its namespaces, grading stops with exit status 2
and says so; ``--no-sandbox`` runs trusted notebooks without isolation (same
limits on time and output, no protection against a hostile notebook).

Exit codes follow papermill: 0 every submission ran, 1 some rows are errors, 2 the
command could not be used (no such folder, no notebook in it, no sandbox, a bad
``--out``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildbuy._validate import bad, positive
from buildbuy.grading import sandbox, submissions
from buildbuy.grading.runner import copy_input
from buildbuy.grading.sandbox import Limits, SandboxUnavailable

__all__ = [
    "STATUSES",
    "GradeRow",
    "Limits",
    "SandboxUnavailable",
    "add_arguments",
    "grade",
    "run_cli",
    "summary_text",
]

STATUSES = ("correct", "incorrect", "not_answered", "error")


@dataclass(frozen=True)
class GradeRow:
    """One learner's result on one question."""

    learner: str
    exercise: str
    question: str
    status: str
    message: str


def _records(nb: Any) -> dict[str, dict[str, Any]]:
    from buildbuy.checks import RECORD_MIME

    found: dict[str, dict[str, Any]] = {}
    cells = nb.get("cells", []) if isinstance(nb, dict) else []
    for cell in cells if isinstance(cells, list) else []:
        outputs = cell.get("outputs", []) if isinstance(cell, dict) else []
        for out in outputs if isinstance(outputs, list) else []:
            data = out.get("data", {}) if isinstance(out, dict) else {}
            rec = data.get(RECORD_MIME) if isinstance(data, dict) else None
            if isinstance(rec, dict) and isinstance(rec.get("question"), str):
                found[rec["question"]] = _later(found.get(rec["question"]), rec)
    return found


def _later(earlier: dict[str, Any] | None, rec: dict[str, Any]) -> dict[str, Any]:
    """The record that counts when a question was checked twice: the later one, unless
    it is unanswered and the earlier one is not (the no-code form runs before the code
    steps, whose blank placeholders must not undo its answers)."""
    if earlier is not None and rec.get("answer") is None and earlier.get("answer") is not None:
        return earlier
    return rec


def _companions(sub: submissions.Submission, exercise: str) -> dict[str, Path]:
    """Files a run needs beside its notebook that its copied folder may lack: the no-code
    answers (``<exercise>.answers.json``, see :mod:`buildbuy.forms`) and the scenario file
    the form may write (``<exercise>.scenario.json``), found under the exercise's name or
    the notebook's stem (the flat layout: ``<learner>_<exercise>.answers.json``).
    Returns {name in the run's folder: source}; symbolic links are never followed."""
    from buildbuy.forms.answers import SUFFIX

    found: dict[str, Path] = {}
    for suffix in (SUFFIX, ".scenario.json"):
        target = exercise + suffix
        if sub.folder is not None and (sub.path.parent / target).is_file():
            continue  # already in the learner's folder, copied with it
        src = sub.path.with_name(sub.path.stem + suffix)
        if src.is_file() and not src.is_symlink():
            found[target] = src
    return found


def _named(ref: Any) -> str:
    if isinstance(ref, dict) and isinstance(ref.get("persona"), str):
        extra = " with overrides" if ref.get("overrides") else ""
        return f"{ref['persona']}{extra}"
    return "another scenario"


def _regrade(question: str, rec: dict[str, Any], scenario: Any) -> tuple[str, str, tuple]:
    """Re-check a recorded answer here against ``scenario`` (the one the notebook ran).

    Returns the status, the message and the judged parts (a memo's rubric items)."""
    from buildbuy import checks

    answer = rec.get("answer")
    if answer is None:
        return "not_answered", "not answered yet", ()
    result = checks.check(question, answer, scenario=scenario)
    message = result.message
    ran = checks.scenario_ref(scenario)
    if rec.get("scenario") != ran:
        message += (f" (checked against the scenario the notebook ran, {_named(ran)}; "
                    f"its record named {_named(rec.get('scenario'))})")
    return result.status, message, result.parts


def _failure(outcome: sandbox.Outcome, limits: Limits) -> tuple[Any, str | None]:
    """The executed notebook and why the run failed (``None`` when it ran)."""
    if outcome.killed == "time":
        return None, f"ran longer than the time limit of {limits.wall_s:g} s per notebook; stopped"
    if outcome.killed == "output":
        return None, f"printed more than {limits.output_mb:g} MB of output (the limit); stopped"
    try:
        result = json.loads(outcome.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        result = None
    if not isinstance(result, dict):
        last = [ln for ln in outcome.stderr_tail.splitlines() if ln.strip()]
        why = last[-1].strip()[:200] if last else "no message"
        return None, f"the run ended without a result (exit status {outcome.returncode}): {why}"
    nb = result.get("notebook")
    nb = nb if isinstance(nb, dict) else None
    reason = result.get("reason")
    if result.get("outcome") == "ok":
        return nb, None
    return nb, str(reason)[:300] if reason else f"the run failed ({result.get('outcome')})"


def _first_error(nb: Any) -> str | None:
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        for out in cell.get("outputs", []) if isinstance(cell, dict) else []:
            if isinstance(out, dict) and out.get("output_type") == "error":
                return f"{out.get('ename')}: {out.get('evalue')}"[:300]
    return None


def _run_one(sub: submissions.Submission, inject: dict[str, Any], *, limits: Limits,
             cell_timeout_s: float, use_sandbox: bool,
             companions: dict[str, Path] | None = None) -> tuple[Any, str | None]:
    """Run one submission on a fresh copy of its files (and its ``companions``, {name:
    source}, copied beside the notebook); return (notebook, failure)."""
    with tempfile.TemporaryDirectory(prefix="buildbuy-grade-") as tmp:
        copy = Path(tmp) / "input"
        if sub.folder is not None:
            copy_input(sub.folder, copy)
            name = str(sub.path.relative_to(sub.folder))
        else:
            copy.mkdir()
            shutil.copyfile(sub.path, copy / sub.path.name, follow_symlinks=False)
            name = sub.path.name
        for target, source in (companions or {}).items():
            shutil.copyfile(source, (copy / name).parent / target, follow_symlinks=False)
        work = Path(tmp) / "work"
        inside_input = sandbox.INPUT_DIR if use_sandbox else str(copy)
        inside_work = sandbox.WORK_DIR if use_sandbox else str(work)
        argv = [sys.executable, "-m", "buildbuy.grading.runner", "--input", inside_input,
                "--workdir", inside_work, "--notebook", name,
                "--parameters", json.dumps(inject), "--cell-timeout", f"{cell_timeout_s:g}",
                "--max-output-bytes", str(limits.output_bytes)]
        outcome = sandbox.run(argv, input_dir=copy, limits=limits, sandbox=use_sandbox,
                              work_dir=work)
    return _failure(outcome, limits)


def _check_out(out_csv: Path) -> None:
    if out_csv.is_dir():
        raise bad("--out", str(out_csv), "a CSV file to write (this is a folder)")
    parent = out_csv.parent
    if parent.exists() and not parent.is_dir():
        raise bad("--out", str(out_csv), f"a path in a folder ({parent} is a file)")


def grade(submissions_dir: str | Path, out_csv: str | Path, *, timeout_s: float = 300,
          cell_timeout_s: float = 120, scenario: str | None = None, verbose: bool = True,
          max_output_mb: float = 64, max_memory_mb: float = 4096,
          use_sandbox: bool = True) -> list[GradeRow]:
    """Grade every ``*.ipynb`` under ``submissions_dir`` into ``out_csv``.

    Parameters
    ----------
    submissions_dir : path
        ``<dir>/<learner>/<exercise>.ipynb`` (learner = folder name) or
        ``<dir>/<learner>_<exercise>.ipynb`` (learner = file stem); see
        :mod:`buildbuy.grading.submissions`.
    out_csv : path
        One row per learner per question: learner, exercise, question, status,
        message. Written once, atomically, after every run has ended.
    timeout_s, cell_timeout_s : float
        Wall-clock limit per notebook and per cell, in seconds.
    scenario : str, optional
        Run every submission with this persona (and no overrides); by default each
        runs with its own parameters cell.
    max_output_mb : float
        Output a notebook may print (all cells together) before it is stopped.
    max_memory_mb : float
        Address space each process of a run (papermill, the kernel) may use.
    use_sandbox : bool
        ``False`` runs the notebooks without isolation: for trusted notebooks only.

    Returns
    -------
    list of GradeRow

    Raises
    ------
    ValueError
        No such folder, no notebook in it, or a bad ``out_csv`` or limit.
    SandboxUnavailable
        bubblewrap cannot run here (and ``use_sandbox`` is true).
    """
    from buildbuy import checks, questions, scenarios

    root = Path(submissions_dir)
    out = Path(out_csv)
    limits = Limits(wall_s=positive("timeout_s", timeout_s),
                    output_bytes=int(positive("max_output_mb", max_output_mb) * 2**20),
                    memory_bytes=int(positive("max_memory_mb", max_memory_mb) * 2**20))
    cell_timeout_s = positive("cell_timeout_s", cell_timeout_s)
    if scenario is not None:
        scenarios.load(scenario)  # a typo stops here, before anything runs
    _check_out(out)
    found = submissions.find(root)
    if use_sandbox:
        sandbox.check_available()
    rows: list[GradeRow] = []
    for sub in found:
        rel = sub.path.relative_to(root)
        nb = submissions.read_notebook(sub.path)
        exercise = submissions.exercise_of(sub.path, nb)
        if exercise is None:
            rows.append(GradeRow(sub.learner, "?", "*", "error",
                                 f"{sub.path.name}: not one of the course exercises"))
            continue
        qs = questions.for_exercise(exercise)
        problem = sub.problem or (None if nb is not None else f"{rel} is not a valid notebook "
                                  "(not JSON)")
        if problem is None:
            try:
                inject, ran = submissions.scenario_of(submissions.parameters_of(nb),
                                                      sub.folder, scenario)
            except ValueError as exc:
                problem = f"cannot run it: {exc}"
        if problem is not None:
            rows += [GradeRow(sub.learner, exercise, q.id, "error", problem) for q in qs]
            if verbose:
                print(f"graded {rel}: FAILED: {problem}", flush=True)
            continue
        executed, failure = _run_one(sub, inject, limits=limits, cell_timeout_s=cell_timeout_s,
                                     use_sandbox=use_sandbox,
                                     companions=_companions(sub, exercise))
        records = _records(executed)
        failure = failure or _first_error(executed)
        for q in qs:
            parts: tuple = ()
            if q.id in records:
                status, message, parts = _regrade(q.id, records[q.id], ran)
            else:
                status = "error"
                message = f"check did not run ({failure or 'its check() cell is missing'})"
            rows.append(GradeRow(sub.learner, exercise, q.id, status, message))
            rows += [GradeRow(sub.learner, exercise, *p)
                     for p in checks.part_rows(q.id, status, parts)]
        if verbose:
            print(f"graded {rel}: {'ran' if failure is None else 'FAILED: ' + failure}",
                  flush=True)
    _write_csv(rows, out)
    if verbose:
        print(summary_text(rows), end="")
    return rows


def _write_csv(rows: list[GradeRow], out: Path) -> None:
    from buildbuy.reports.state import atomic_write_text

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["learner", "exercise", "question", "status", "message"])
    for r in rows:
        w.writerow([r.learner, r.exercise, r.question, r.status, r.message])
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, buf.getvalue())


def summary_text(rows: Sequence[GradeRow]) -> str:
    """Per-question success rates: correct / learners, and the count of each status."""
    by_q: dict[str, list[str]] = {}
    for r in rows:
        by_q.setdefault(r.question, []).append(r.status)
    width = max((len(q) for q in by_q), default=8)
    lines = [f"{'question':<{width}}  success  " + "  ".join(STATUSES)]
    for q, statuses in by_q.items():
        n = len(statuses)
        rate = statuses.count("correct") / n
        counts = "  ".join(f"{statuses.count(s):>{len(s)}d}" for s in STATUSES)
        lines.append(f"{q:<{width}}  {100 * rate:6.1f}%  {counts}")
    return "\n".join(lines) + "\n"


# --- command line ---------------------------------------------------------------------------

def add_arguments(g: argparse.ArgumentParser) -> None:
    """The options of ``buildbuy exercises grade``."""
    g.add_argument("submissions_dir")
    g.add_argument("--out", required=True, help="CSV file to write")
    g.add_argument("--timeout", type=float, default=300.0, help="seconds per notebook")
    g.add_argument("--cell-timeout", type=float, default=120.0, help="seconds per cell")
    g.add_argument("--max-output-mb", type=float, default=64.0,
                   help="output one notebook may print before it is stopped (default 64)")
    g.add_argument("--max-memory-mb", type=float, default=4096.0,
                   help="address space per process of a run (default 4096)")
    g.add_argument("--scenario", default=None, help="run every submission with this persona")
    g.add_argument("--no-sandbox", action="store_true",
                   help="run the notebooks WITHOUT isolation (bubblewrap); only for "
                        "notebooks you trust, on a machine without user namespaces")


def run_cli(args: argparse.Namespace) -> int:
    """Run ``buildbuy exercises grade`` with parsed ``args``; return 0, 1 or 2."""
    if args.no_sandbox:
        print("buildbuy exercises grade: --no-sandbox: notebooks run WITHOUT isolation; "
              "use it only for notebooks you trust", file=sys.stderr)
    try:
        rows = grade(args.submissions_dir, args.out, timeout_s=args.timeout,
                     cell_timeout_s=args.cell_timeout, scenario=args.scenario,
                     max_output_mb=args.max_output_mb, max_memory_mb=args.max_memory_mb,
                     use_sandbox=not args.no_sandbox)
    except (ValueError, SandboxUnavailable) as exc:
        print(f"buildbuy exercises grade: {exc}", file=sys.stderr)
        return 2
    return 1 if any(r.status == "error" for r in rows) else 0
