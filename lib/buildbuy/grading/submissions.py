"""Find the submissions in a folder and read what the grader needs from each.

Layouts (both may mix in one folder):

- ``<dir>/<learner>/<exercise>.ipynb``: the learner is the folder name; the run sees
  a copy of that learner's folder (a scenario YAML next to the notebook works);
- ``<dir>/<learner>_<exercise>.ipynb``: the learner is the file stem; the run sees a
  copy of that one file only, never the other learners' files beside it.

The exercise is the notebook's ``metadata.buildbuy.exercise``, else the first
exercise name found in the file name. Symbolic links are never followed: a linked
notebook is reported as an error and a link inside a learner's folder is not copied,
so no submission can pull another learner's file, or a host file, into its run.

The scenario a submission runs with is read from its ``parameters`` cell
(:func:`parameters_of`); the grader injects it again with papermill and re-checks
the answers against it, so a record naming another scenario changes nothing.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from buildbuy._validate import bad

__all__ = ["MAX_NOTEBOOK_BYTES", "Submission", "find", "parameters_of", "scenario_of"]

#: a submitted notebook larger than this is not run (exercises are ~10-60 kB executed)
MAX_NOTEBOOK_BYTES = 20 * 2**20
#: what a learner's folder may hold in total, copied into the sandbox
MAX_FOLDER_BYTES = 100 * 2**20
#: a learner's scenario file is parsed by the grader itself: keep it small
MAX_SCENARIO_BYTES = 256 * 1024
_SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


@dataclasses.dataclass(frozen=True)
class Submission:
    """One submitted notebook.

    ``folder`` is what its run may see (the learner's folder, or ``None`` for the flat
    layout: the notebook alone); ``problem`` says why it cannot run, if so.
    """

    path: Path
    learner: str
    folder: Path | None
    problem: str | None = None


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != ".ipynb_checkpoints")
        for name in sorted(filenames):
            if name.endswith(".ipynb"):
                yield Path(dirpath) / name


def _folder_bytes(folder: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(folder, followlinks=False):
        for name in filenames:
            p = Path(dirpath) / name
            if not p.is_symlink() and p.is_file():
                total += p.stat().st_size
    return total


def find(root: Path) -> list[Submission]:
    """Every ``*.ipynb`` under ``root`` (not in ``.ipynb_checkpoints``), sorted by path.

    Raises
    ------
    ValueError
        ``root`` is not a folder, or holds no notebook at all.
    """
    if not root.is_dir():
        raise bad("submissions_dir", str(root), "an existing folder")
    found = []
    for path in sorted(_walk(root)):
        rel = path.relative_to(root)
        nested = len(rel.parts) > 1
        learner = rel.parts[0] if nested else path.stem
        folder = root / rel.parts[0] if nested else None
        problem = None
        if path.is_symlink() or (folder is not None and folder.is_symlink()):
            problem = f"{rel} is a symbolic link: submit the notebook itself"
        elif path.stat().st_size > MAX_NOTEBOOK_BYTES:
            problem = (f"{rel} is {path.stat().st_size / 2**20:.0f} MB: larger than the "
                       f"{MAX_NOTEBOOK_BYTES // 2**20} MB a submission may be")
        elif folder is not None and _folder_bytes(folder) > MAX_FOLDER_BYTES:
            problem = (f"the folder {rel.parts[0]}/ holds more than "
                       f"{MAX_FOLDER_BYTES // 2**20} MB")
        found.append(Submission(path, learner, folder, problem))
    if not found:
        raise bad("submissions_dir", str(root), "a folder holding at least one submitted "
                  "notebook (*.ipynb, directly or in one folder per learner)")
    return found


def exercise_of(path: Path, nb: Any) -> str | None:
    """The exercise a notebook answers: its metadata, else its file name."""
    from buildbuy.questions import EXERCISES

    meta = nb.get("metadata", {}).get("buildbuy", {}) if isinstance(nb, dict) else {}
    name = meta.get("exercise") if isinstance(meta, dict) else None
    if name in EXERCISES:
        return str(name)
    return next((e for e in EXERCISES if e in path.name), None)


def read_notebook(path: Path) -> Any:
    """The notebook's JSON, or ``None`` when it is not valid JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def parameters_of(nb: Any) -> dict[str, Any]:
    """The literal values the notebook's ``parameters`` cell assigns.

    Raises
    ------
    ValueError
        The cell assigns ``scenario`` or ``overrides`` something that is not a
        literal (papermill could not replace it faithfully either).

    Examples
    --------
    >>> parameters_of({"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
    ...     "source": 'scenario = "hospital_notes"  # mine\\noverrides = {"horizon_months": 24}'}]})
    {'scenario': 'hospital_notes', 'overrides': {'horizon_months': 24}}
    """
    cells = nb.get("cells", []) if isinstance(nb, dict) else []
    cell = next((c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"
                 and "parameters" in (c.get("metadata", {}).get("tags") or [])), None)
    if cell is None:
        return {}
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise bad("parameters cell", f"line {exc.lineno}", "valid Python") from None
    found: dict[str, Any] = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            name = node.targets[0].id
            try:
                found[name] = ast.literal_eval(node.value)
            except ValueError:
                if name in ("scenario", "overrides"):
                    raise bad(f"parameters cell: {name}", ast.unparse(node.value)[:80],
                              "a literal (a quoted name, or a {...} of field values)"
                              ) from None
    return found


def scenario_of(params: dict[str, Any], folder: Path | None,
                forced: str | None = None) -> tuple[dict[str, Any], Any]:
    """The papermill parameters to inject and the :class:`~buildbuy.scenarios.Scenario`
    they load, for a notebook whose parameters cell holds ``params``.

    A scenario file must be a relative path inside the learner's own folder.
    ``forced`` (a persona) replaces the notebook's scenario and overrides.
    """
    from buildbuy import scenarios

    if forced is not None:
        return {"scenario": forced, "overrides": {}}, scenarios.load(forced)
    name = params.get("scenario", "bank_support")
    overrides = params.get("overrides", {})
    inject = {"scenario": name, "overrides": overrides}
    if isinstance(name, str) and name.lower().endswith(_SCENARIO_SUFFIXES):
        base = folder.resolve() if folder is not None else None
        target = (base / name).resolve() if base is not None else None
        if base is None or Path(name).is_absolute() or target is None \
                or not target.is_relative_to(base) or not target.is_file():
            raise bad("scenario", name, "a persona name, or a scenario file inside the "
                      "learner's own folder, given as a relative path")
        if target.stat().st_size > MAX_SCENARIO_BYTES:
            raise bad("scenario", name, f"a scenario file under {MAX_SCENARIO_BYTES // 1024} kB")
        return inject, scenarios.from_parameters(str(target), overrides)
    return inject, scenarios.from_parameters(name, overrides)
