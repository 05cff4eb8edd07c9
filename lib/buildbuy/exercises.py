"""Exercises from one source, and grading for instructors.

``solutions/`` holds the authored notebooks. In their code cells, each part a
learner must write sits between two marker lines::

    ### BEGIN SOLUTION
    ceiling = audit.ceiling_tokens_per_s
    ### END SOLUTION

:func:`build` writes ``exercises/`` from them. Each region becomes one
placeholder line per name the region assigns (``ceiling = None  # your answer
here``) that code outside the regions uses, so the exercise still runs top to bottom
and every ``check()`` reports "not answered yet". A region that leaves no such name
becomes ``# your code here``
(``pass  # your code here`` inside a block). Markdown cells tagged ``solution``
become "*Your answer here.*". Outputs, execution counts and run metadata are
cleared, so the build is byte-deterministic and idempotent.

:func:`grade` runs each submitted notebook in its own temporary folder, in a
fresh papermill process and kernel, with a time limit per cell and per notebook,
then reads back the check records (see :mod:`buildbuy.checks`) and re-checks
each recorded answer in the grading process, so a forged "correct" does not
count. A broken notebook (raises, loops, deletes files, invalid JSON) fails only
its own rows.

Command line (``buildbuy exercises ...`` or ``python -m buildbuy exercises ...``)::

    buildbuy exercises build [--check]
    buildbuy exercises grade SUBMISSIONS_DIR --out grades.csv [--timeout S] [--cell-timeout S]

Exit codes follow papermill: 0 success, 1 some work failed (``--check`` found a
stale exercise, or a submission could not run), 2 bad usage.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from buildbuy._validate import bad, positive
from buildbuy.paths import REPO_ROOT

__all__ = [
    "EXERCISES_DIR",
    "SOLUTIONS_DIR",
    "GradeRow",
    "build",
    "cli_main",
    "exercise_source",
    "grade",
    "strip_source",
]

SOLUTIONS_DIR: Path = REPO_ROOT / "solutions"
EXERCISES_DIR: Path = REPO_ROOT / "exercises"
BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
PLACEHOLDER_MD = "*Your answer here.*"
_KEEP_NB_META = ("kernelspec",)


# --- build --------------------------------------------------------------------------------

def _assigned_names(code: str) -> list[str]:
    """Names ``code`` binds in its own scope, in order of first binding.

    Counts assignments (plain, annotated, augmented, walrus), ``for`` targets and
    ``with ... as`` targets, also inside ``if``/``for``/``while``/``with``/``try`` blocks;
    not names local to functions, classes, lambdas or comprehensions.
    """
    names: list[str] = []

    def add(target: ast.AST) -> None:
        if isinstance(target, ast.Name) and target.id not in names:
            names.append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                add(elt)
        elif isinstance(target, ast.Starred):
            add(target.value)

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
                             ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        if isinstance(node, ast.Assign):
            for t in node.targets:
                add(t)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For,
                               ast.AsyncFor)):
            add(node.target)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            add(node.optional_vars)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(code))
    return names


def strip_source(source: str, *, where: str = "cell", keep: set[str] | None = None) -> str:
    """Replace every solution region of one code cell's ``source`` with its placeholder.

    ``keep`` limits the placeholders to names the rest of the notebook uses (default:
    every name the region assigns).

    Examples
    --------
    >>> print(strip_source("x = 1\\n### BEGIN SOLUTION\\ny = x + 1\\nz = 2 * y\\n"
    ...                    "### END SOLUTION\\ncheck('q', y)"))
    x = 1
    y = None  # your answer here
    z = None  # your answer here
    check('q', y)
    """
    lines = source.splitlines()
    out: list[str] = []
    region: list[str] | None = None
    indent = ""
    for i, line in enumerate(lines, start=1):
        if region is None:
            m = BEGIN.match(line)
            if m:
                region, indent = [], m.group(1)
            elif END.match(line):
                raise bad(where, f"line {i}: {line.strip()}", "an END SOLUTION after a BEGIN")
            else:
                out.append(line)
            continue
        if BEGIN.match(line):
            raise bad(where, f"line {i}: {line.strip()}", "no nested BEGIN SOLUTION")
        if not END.match(line):
            region.append(line)
            continue
        body = textwrap.dedent("\n".join(region))
        try:
            names = _assigned_names(body)
        except SyntaxError as exc:
            raise bad(where, f"solution region ending at line {i}",
                      f"valid Python ({exc.msg})") from None
        if keep is not None:
            names = [n for n in names if n in keep]
        if names:
            out += [f"{indent}{name} = None  # your answer here" for name in names]
        else:
            out.append(f"{indent}pass  # your code here" if indent else "# your code here")
        region = None
    if region is not None:
        raise bad(where, "BEGIN SOLUTION without END SOLUTION", "balanced solution markers")
    return "\n".join(out)


_IDENT = re.compile(r"(?<![.\w])[A-Za-z_]\w*")  # not attributes such as S.title


def _names_outside_regions(nb: nbformat.NotebookNode) -> set[str]:
    """Identifiers the notebook's code uses outside solution regions (over-inclusive)."""
    used: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        inside = False
        for line in cell.source.splitlines():
            if BEGIN.match(line):
                inside = True
            elif END.match(line):
                inside = False
            elif not inside:
                used.update(_IDENT.findall(line.split("#", 1)[0]))
    return used


def exercise_source(solution: nbformat.NotebookNode, *, name: str) -> str:
    """The exercise notebook (as text) generated from a solution notebook.

    A solution region becomes one ``name = None  # your answer here`` line per name it
    assigns that code outside the regions uses (typically the ``check(...)`` argument);
    names used only inside regions are the learner's own business.
    """
    nb = copy.deepcopy(solution)
    keep = _names_outside_regions(nb)
    meta = {k: nb.metadata[k] for k in _KEEP_NB_META if k in nb.metadata}
    meta["language_info"] = {"name": "python"}
    meta["buildbuy"] = {"exercise": name, "generated_from": f"solutions/{name}.ipynb"}
    nb.metadata = nbformat.from_dict(meta)
    cells = []
    for i, cell in enumerate(nb.cells):
        tags = list(cell.get("metadata", {}).get("tags", []))
        cell.metadata = nbformat.from_dict({"tags": tags} if tags else {})
        if cell.cell_type == "code":
            cell.source = strip_source(cell.source, where=f"{name} cell {i}", keep=keep)
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown" and "solution" in tags:
            cell.source = PLACEHOLDER_MD
            cell.metadata = nbformat.from_dict({})
        cells.append(cell)
    nb.cells = cells
    return nbformat.writes(nb) + "\n"


def solution_paths() -> list[Path]:
    """The authored solution notebooks, in course order."""
    return sorted(SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb"))


def build(*, check: bool = False, solutions_dir: Path | None = None,
          exercises_dir: Path | None = None) -> list[Path]:
    """Generate ``exercises/`` from ``solutions/``; return the exercise files that changed.

    With ``check=True`` nothing is written: the return value lists the exercises
    that are missing or differ from what would be generated (empty = up to date).
    """
    src_dir = solutions_dir or SOLUTIONS_DIR
    dst_dir = exercises_dir or EXERCISES_DIR
    changed: list[Path] = []
    for src in sorted(Path(src_dir).glob("[0-9][0-9]_*.ipynb")):
        text = exercise_source(nbformat.read(src, as_version=4), name=src.stem)
        dst = Path(dst_dir) / src.name
        if dst.exists() and dst.read_text(encoding="utf-8") == text:
            continue
        changed.append(dst)
        if not check:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(text, encoding="utf-8")
    return changed


# --- grade --------------------------------------------------------------------------------

STATUSES = ("correct", "incorrect", "not_answered", "error")


@dataclass(frozen=True)
class GradeRow:
    """One learner's result on one question."""

    learner: str
    exercise: str
    question: str
    status: str
    message: str


def _exercise_of(path: Path, raw: str) -> str | None:
    from buildbuy.questions import EXERCISES

    try:
        meta = json.loads(raw).get("metadata", {}).get("buildbuy", {})
        name = meta.get("exercise") if isinstance(meta, dict) else None
    except (ValueError, AttributeError):
        name = None
    if name in EXERCISES:
        return str(name)
    return next((e for e in EXERCISES if e in path.name), None)


def _learner_of(path: Path, root: Path) -> str:
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else path.stem


def _records(nb: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from buildbuy.checks import RECORD_MIME

    found: dict[str, dict[str, Any]] = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if isinstance(cell, dict) else []:
            rec = out.get("data", {}).get(RECORD_MIME) if isinstance(out, dict) else None
            if isinstance(rec, dict) and isinstance(rec.get("question"), str):
                found[rec["question"]] = rec  # the last run of a question wins
    return found


def _first_error(nb: dict[str, Any]) -> str | None:
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if isinstance(cell, dict) else []:
            if isinstance(out, dict) and out.get("output_type") == "error":
                return f"{out.get('ename')}: {out.get('evalue')}"[:300]
    return None


def _regrade(question: str, rec: dict[str, Any], forced: Any) -> tuple[str, str, tuple]:
    """Re-check a recorded answer in this process (a forged status does not count).

    Returns the status, the message and the judged parts (a memo's rubric items)."""
    from buildbuy import checks

    answer = rec.get("answer")
    if answer is None:
        return "not_answered", "not answered yet", ()
    try:
        scen = forced if forced is not None else checks.scenario_from_ref(rec.get("scenario"))
    except (ValueError, TypeError) as exc:
        return "error", f"recorded scenario is invalid: {exc}", ()
    result = checks.check(question, answer, scenario=scen)
    return result.status, result.message, result.parts


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    procs = [*parent.children(recursive=True), parent]
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(procs, timeout=10)


_EXC_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)\b.*$")


def _reason(stderr: str) -> str | None:
    """The last exception line papermill printed (e.g. ``...CellTimeoutError: A cell timed
    out ...``), else the last non-empty line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    hits = [ln for ln in lines if _EXC_LINE.match(ln)]
    text = hits[-1] if hits else (lines[-1] if lines else None)
    return text[:300] if text else None


def _run_one(path: Path, *, timeout_s: float, cell_timeout_s: float,
             parameters: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """Execute one submission in isolation; return (executed notebook JSON, failure reason)."""
    with tempfile.TemporaryDirectory(prefix="buildbuy-grade-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        src = Path(tmp) / "submission.ipynb"
        dst = Path(tmp) / "executed.ipynb"
        shutil.copyfile(path, src)
        cmd = [sys.executable, "-m", "papermill", str(src), str(dst), "--cwd", str(work),
               "-k", "python3", "--execution-timeout", str(int(cell_timeout_s)),
               "--no-progress-bar", "--no-log-output", "--no-report-mode"]
        if parameters:
            cmd += ["-y", json.dumps(parameters)]
        env = dict(os.environ, BUILDBUY_DATA_DIR=str(Path(os.environ.get(
            "BUILDBUY_DATA_DIR", REPO_ROOT / "data")).resolve()), HOME=str(work))
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        reason = None
        try:
            _, err = proc.communicate(timeout=timeout_s)
            if proc.returncode != 0:
                reason = _reason(err) or f"papermill exit code {proc.returncode}"
        except subprocess.TimeoutExpired:
            _kill_tree(proc.pid)
            proc.communicate()
            reason = f"time limit of {timeout_s:g} s exceeded"
        try:
            nb = json.loads(dst.read_text(encoding="utf-8")) if dst.exists() else None
        except (OSError, ValueError):
            nb = None
        if nb is not None and not isinstance(nb, dict):
            nb = None
        return nb, reason


def grade(submissions_dir: str | Path, out_csv: str | Path, *, timeout_s: float = 300,
          cell_timeout_s: float = 120, scenario: str | None = None,
          verbose: bool = True) -> list[GradeRow]:
    """Grade every ``*.ipynb`` under ``submissions_dir`` into ``out_csv``.

    Parameters
    ----------
    submissions_dir : path
        ``<dir>/<learner>/<exercise>.ipynb`` (learner = folder name) or
        ``<dir>/<learner>_<exercise>.ipynb`` (learner = file stem). The exercise is read
        from the notebook's ``metadata.buildbuy.exercise``, else from the file name.
    out_csv : path
        One row per learner per question: learner, exercise, question, status, message;
        then one row per judged part of it (exercise 3's memo: ``ex3_memo:<rubric item>``).
    timeout_s, cell_timeout_s : float
        Wall-clock limit per notebook and per cell, in seconds.
    scenario : str, optional
        Run every submission with this persona (papermill parameter); by default each
        runs with its own parameters cell and is re-checked against the scenario it used.

    Returns
    -------
    list of GradeRow
    """
    from buildbuy import checks, questions, scenarios

    root = Path(submissions_dir)
    if not root.is_dir():
        raise bad("submissions_dir", str(submissions_dir), "an existing folder")
    timeout_s = positive("timeout_s", timeout_s)
    cell_timeout_s = positive("cell_timeout_s", cell_timeout_s)
    forced = scenarios.load(scenario) if scenario is not None else None
    params = {"scenario": scenario} if scenario is not None else {}
    rows: list[GradeRow] = []
    for path in sorted(root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        learner = _learner_of(path, root)
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raw = ""
        exercise = _exercise_of(path, raw)
        if exercise is None:
            rows.append(GradeRow(learner, "?", "*", "error",
                                 f"{path.name}: not one of the course exercises"))
            continue
        nb, reason = _run_one(path, timeout_s=timeout_s, cell_timeout_s=cell_timeout_s,
                              parameters=params)
        records = _records(nb) if nb is not None else {}
        failure = reason or (_first_error(nb) if nb is not None else None)
        if nb is None and reason is None:
            failure = "no executed notebook was produced"
        for q in questions.for_exercise(exercise):
            parts: tuple = ()
            if q.id in records:
                status, message, parts = _regrade(q.id, records[q.id], forced)
            else:
                status = "error"
                message = f"check did not run ({failure or 'its check() cell is missing'})"
            rows.append(GradeRow(learner, exercise, q.id, status, message))
            rows += [GradeRow(learner, exercise, *p) for p in checks.part_rows(q.id, status, parts)]
        if verbose:
            print(f"graded {path.relative_to(root)}: "
                  f"{'ran' if failure is None else 'FAILED: ' + failure}", flush=True)
    _write_csv(rows, Path(out_csv))
    if verbose:
        print(summary_text(rows), end="")
    return rows


def _write_csv(rows: list[GradeRow], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["learner", "exercise", "question", "status", "message"])
        for r in rows:
            w.writerow([r.learner, r.exercise, r.question, r.status, r.message])


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

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="buildbuy exercises",
                                description="Build exercises from solutions; grade submissions.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="generate exercises/ from solutions/")
    b.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if exercises/ is not what build would write")
    g = sub.add_parser("grade", help="grade a folder of submitted notebooks")
    g.add_argument("submissions_dir")
    g.add_argument("--out", required=True, help="CSV file to write")
    g.add_argument("--timeout", type=float, default=300.0, help="seconds per notebook")
    g.add_argument("--cell-timeout", type=float, default=120.0, help="seconds per cell")
    g.add_argument("--scenario", default=None, help="run every submission with this persona")
    return p


def cli_main(argv: Sequence[str]) -> int:
    """Run ``buildbuy exercises`` with ``argv``; return the exit code (0, 1 or 2)."""
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:  # argparse: --help exits 0, bad usage exits 2
        return int(exc.code or 0)
    if args.command == "build":
        changed = build(check=args.check)
        for path in changed:
            rel = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
            print(f"{'stale' if args.check else 'wrote'}: {rel}")
        if args.check and changed:
            print("exercises/ is out of date: run 'buildbuy exercises build'", file=sys.stderr)
            return 1
        return 0
    try:
        rows = grade(args.submissions_dir, args.out, timeout_s=args.timeout,
                     cell_timeout_s=args.cell_timeout, scenario=args.scenario)
    except ValueError as exc:
        print(f"buildbuy exercises grade: {exc}", file=sys.stderr)
        return 2
    return 1 if any(r.status == "error" for r in rows) else 0
