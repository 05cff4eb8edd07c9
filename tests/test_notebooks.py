"""The lesson notebooks: parameters cell, every persona end to end, early errors, clean outputs.

The end-to-end runs go through papermill exactly as a learner's batch run
does (``buildbuy.notebooks.execute``). Each (notebook, persona) pair runs once
per session; the checks on its output share that run.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

from buildbuy import notebooks, scenarios

LESSONS = notebooks.lesson_paths()
EXPECTED = ["00_start_here.ipynb", "01_physics_of_build_vs_buy.ipynb",
            "02_economic_teardown_tco.ipynb", "03_board_strategy.ipynb"]
PARAMETER_NAMES = {"scenario", "overrides"}


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_cells(nb: nbformat.NotebookNode) -> list[Any]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _parameters_cell(nb: nbformat.NotebookNode) -> Any:
    code = _code_cells(nb)
    assert code, "the notebook has no code cell"
    assert "parameters" in code[0].metadata.get("tags", []), \
        "the first code cell must be tagged 'parameters'"
    return code[0]


def _assignments(source: str) -> dict[str, Any]:
    out = {}
    for node in ast.parse(source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, \
            f"the parameters cell may only assign values: {ast.unparse(node)}"
        target = node.targets[0]
        assert isinstance(target, ast.Name)
        out[target.id] = ast.literal_eval(node.value)
    return out


def test_the_four_lessons_exist_in_order() -> None:
    assert [p.name for p in LESSONS] == EXPECTED


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_parameters_cell_names_only_documented_fields(path: Path) -> None:
    nb = _read(path)
    values = _assignments(_parameters_cell(nb).source)
    assert set(values) == PARAMETER_NAMES
    assert values["scenario"] in scenarios.persona_names()
    assert isinstance(values["overrides"], dict)
    unknown = set(values["overrides"]) - set(scenarios.FIELDS)
    assert not unknown, f"overrides name undocumented fields: {sorted(unknown)}"
    second = _code_cells(nb)[1].source
    assert "scenarios.from_parameters(scenario, overrides)" in second, \
        "the cell after the parameters must load the scenario (so a bad override stops there)"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_committed_notebook_is_executed_and_clean(path: Path) -> None:
    nb = _read(path)
    code = _code_cells(nb)
    counts = [c.execution_count for c in code]
    assert all(n is not None for n in counts), "commit the notebook executed (make notebooks)"
    assert counts == sorted(counts), "cells were run out of order"
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error", f"committed error in: {cell.source[:60]}"
            text = str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", ""))
            assert not re.search(r" at 0x[0-9a-f]{6,}", text), "memory address in output"
            assert "application/vnd.jupyter.widget-view+json" not in out.get("data", {})
    assert "papermill" not in nb.metadata and "widgets" not in nb.metadata
    checked = [c for c in code if "# NBVAL_CHECK_OUTPUT" in c.source]
    assert checked, "mark the cells that print key numbers with # NBVAL_CHECK_OUTPUT"
    assert all(c.outputs for c in checked)
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and "What to do next" in last.source


def test_every_panel_cell_has_a_static_fallback() -> None:
    for path in LESSONS:
        for cell in _code_cells(_read(path)):
            if "_panel(" in cell.source and "print(" not in cell.source:
                kinds = {k for out in cell.outputs for k in out.get("data", {})}
                assert {"image/png", "text/plain"} <= kinds, (path.name, cell.source)


# --------------------------------------------------------------------------- papermill runs

RUNS = [(lesson, persona) for lesson in LESSONS for persona in scenarios.persona_names()]


@pytest.fixture(scope="module")
def executed(notebook_run: Any) -> Any:
    """Each (lesson, persona) once per session (shared with tests/test_figures_everywhere)."""
    return lambda lesson, persona: notebook_run("lesson", lesson.stem, persona)


@pytest.mark.slow
@pytest.mark.parametrize(("lesson", "persona"), RUNS,
                         ids=[f"{lesson.stem[:2]}-{p}" for lesson, p in RUNS])
def test_lesson_runs_for_every_persona(executed: Any, lesson: Path, persona: str) -> None:
    nb = executed(lesson, persona)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and persona in injected[0].source
    for cell in _code_cells(nb):
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source[:80]
    checked = [c for c in _code_cells(nb) if "# NBVAL_CHECK_OUTPUT" in c.source]
    assert all(c.outputs for c in checked)


@pytest.mark.slow
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_invalid_override_stops_at_the_top_with_the_scenario_error(
        path: Path, tmp_path: Path) -> None:
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError) as info:
        notebooks.execute(path, tmp_path / "bad.ipynb",
                          {"scenario": "bank_support", "overrides": {"monthly_tokns": 5e9}})
    err = info.value
    assert err.ename == "ScenarioError"
    assert "monthly_tokns" in err.evalue and "monthly_tokens" in err.evalue
    nb = _read(tmp_path / "bad.ipynb")
    failing = [i for i, c in enumerate(_code_cells(nb))
               if any(o.output_type == "error" for o in c.get("outputs", []))]
    # code cells: 0 parameters, 1 injected parameters, 2 the load cell
    assert failing == [2]


@pytest.mark.slow
def test_overrides_of_the_wrong_type_get_the_library_message(tmp_path: Path) -> None:
    """``papermill -p overrides 5`` passes the int 5: the load cell says what overrides is."""
    import subprocess
    import sys

    bin_dir = Path(sys.executable).parent
    out = subprocess.run([str(bin_dir / "papermill"), str(LESSONS[0]), str(tmp_path / "x.ipynb"),
                          "-p", "overrides", "5", "-k", "python3", "--no-progress-bar"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode != 0
    assert "ScenarioError: overrides=5 is invalid: must be a dict of scenario fields" \
        in out.stderr
    assert "TypeError" not in out.stderr
