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

Grading lives in :mod:`buildbuy.grading` (each submission in its own bubblewrap
sandbox); :func:`grade` and :class:`GradeRow` are re-exported here.
The no-code track's answers file (``<exercise>.answers.json``, see
:mod:`buildbuy.forms`) goes into the run with the notebook: its form cell reads it and
records the answers as the code track does.

Command line (``buildbuy exercises ...`` or ``python -m buildbuy exercises ...``)::

    buildbuy exercises build [--check]
    buildbuy exercises grade SUBMISSIONS_DIR --out grades.csv [--timeout S] [--cell-timeout S]
        [--max-output-mb MB] [--scenario PERSONA] [--no-sandbox]

Exit codes follow papermill: 0 success, 1 some work failed (``--check`` found a
stale exercise, or a submission could not run), 2 bad usage.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import nbformat

from buildbuy import grading
from buildbuy._validate import bad
from buildbuy.grading import GradeRow, grade, summary_text
from buildbuy.paths import EXERCISES_DIR, REPO_ROOT

__all__ = [
    "EXERCISES_DIR",
    "SOLUTIONS_DIR",
    "GradeRow",
    "build",
    "cli_main",
    "exercise_source",
    "grade",
    "strip_source",
    "summary_text",
]

SOLUTIONS_DIR: Path = REPO_ROOT / "solutions"
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


# --- command line ---------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="buildbuy exercises",
                                description="Build exercises from solutions; grade submissions.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="generate exercises/ from solutions/")
    b.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if exercises/ is not what build would write")
    g = sub.add_parser("grade", help="grade a folder of submitted notebooks, each in its "
                       "own sandbox")
    grading.add_arguments(g)
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
    return grading.run_cli(args)
