"""buildbuy.notebooks.scrub: what changes from run to run is removed, the meaning is kept."""

from __future__ import annotations

import copy

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from buildbuy import notebooks

VIEW = notebooks.WIDGET_VIEW


def _executed() -> nbformat.NotebookNode:
    panel = new_output("display_data", data={
        VIEW: {"model_id": "a1b2c3", "version_major": 2, "version_minor": 0},
        "image/png": "iVBORw0KGgo=",
        "text/plain": "<Panel at 0x7f3a2c1b9d50>",
    })
    widget_only = new_output("display_data", data={VIEW: {"model_id": "ffff"}})
    stream = new_output("stream", name="stdout", text="obj <Foo at 0xdeadbeef12> done\n")
    cell = new_code_cell("panel", outputs=[panel, widget_only, stream],
                         metadata={"papermill": {"duration": 1.2},
                                   "execution": {"iopub.status.busy": "2026-01-01T00:00:00Z"},
                                   "tags": ["keep"]})
    kernelspec = {"name": "python3", "display_name": "Python 3"}
    return new_notebook(cells=[cell], metadata={"papermill": {"start_time": "2026-01-01"},
                                                "widgets": {"state": {}}, "kernelspec": kernelspec})


def test_scrub_removes_timings_widget_ids_and_addresses() -> None:
    nb = notebooks.scrub(_executed())
    assert "papermill" not in nb.metadata and "widgets" not in nb.metadata
    assert "kernelspec" in nb.metadata
    cell = nb.cells[0]
    assert cell.metadata == {"tags": ["keep"]}
    outs = cell.outputs
    assert len(outs) == 2, "an output that was only a widget view is dropped"
    assert VIEW not in outs[0]["data"]
    assert outs[0]["data"]["image/png"] == "iVBORw0KGgo="  # the static fallback stays
    assert outs[0]["data"]["text/plain"] == "<Panel>"
    assert outs[1]["text"] == "obj <Foo> done\n"


def test_scrub_is_idempotent_and_keeps_a_valid_notebook() -> None:
    once = notebooks.scrub(_executed())
    twice = notebooks.scrub(copy.deepcopy(once))
    assert once == twice
    nbformat.validate(once)


def test_lesson_paths_are_the_numbered_lessons_in_order() -> None:
    names = [p.name for p in notebooks.lesson_paths()]
    assert names == sorted(names)
    assert all(n[:2].isdigit() and n[2] == "_" for n in names)
    assert "learner_report.ipynb" not in names
