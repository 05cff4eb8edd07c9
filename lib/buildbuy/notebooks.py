"""Execute the workbook's notebooks with papermill and keep their outputs deterministic.

Committed notebooks are executed, so they read well on a code host without a
kernel. Re-running them must give the same bytes, so :func:`scrub` removes what
changes from run to run and carries no meaning:

- papermill's timestamps and durations (``metadata.papermill`` and each cell's
  ``metadata.papermill`` / ``metadata.execution``);
- the random ids of ipywidgets views (a widget view is kept only as its static
  fallback, e.g. the ``image/png`` and ``text/plain`` a panel also emits), and the
  saved widget state;
- memory addresses such as ``at 0x7f3a2c1b9d50`` in text outputs.

``python -m buildbuy.notebooks [PATH ...]`` re-executes the lesson notebooks
(default: ``notebooks/[0-9]*.ipynb``) in place.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

from buildbuy.paths import REPO_ROOT

__all__ = ["execute", "lesson_paths", "main", "scrub", "solution_paths"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]{6,16}")
_VOLATILE_CELL_KEYS = ("papermill", "execution")


def _scrub_text(text: Any) -> Any:
    if isinstance(text, list):
        return [_ADDRESS.sub("", t) for t in text]
    if isinstance(text, str):
        return _ADDRESS.sub("", text)
    return text


def scrub(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove run-to-run noise from an executed notebook, in place, and return it."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") in {"display_data", "execute_result"}:
                data = out.get("data", {})
                data.pop(WIDGET_VIEW, None)
                data.pop(WIDGET_STATE, None)
                if not data:
                    continue
                if "text/plain" in data:
                    data["text/plain"] = _scrub_text(data["text/plain"])
                out.setdefault("metadata", {})
            elif out.get("output_type") == "stream":
                out["text"] = _scrub_text(out.get("text", ""))
            kept.append(out)
        cell["outputs"] = kept
    return nb


def execute(
    input_path: str | Path,
    output_path: str | Path | None = None,
    parameters: Mapping[str, Any] | None = None,
    *,
    timeout_s: int = 600,
    cwd: str | Path | None = None,
    kernel_name: str = "python3",
    deterministic: bool = True,
) -> nbformat.NotebookNode:
    """Run ``input_path`` with papermill and write the (scrubbed) result to ``output_path``.

    Parameters are passed to papermill as data (a dict), never pasted into code by
    us. ``cwd`` defaults to the notebook's own folder. ``output_path`` defaults to
    overwriting ``input_path``. Raises papermill's ``PapermillExecutionError`` when
    a cell fails; the partially executed notebook is still written.
    """
    import papermill as pm

    src = Path(input_path)
    dst = Path(output_path) if output_path is not None else src
    workdir = Path(cwd) if cwd is not None else src.resolve().parent
    try:
        nb = pm.execute_notebook(
            str(src),
            str(dst),
            parameters=dict(parameters or {}),
            kernel_name=kernel_name,
            cwd=str(workdir),
            progress_bar=False,
            execution_timeout=timeout_s,
            report_mode=False,
        )
    finally:
        if deterministic and dst.exists():
            written = nbformat.read(dst, as_version=4)
            nbformat.write(scrub(written), dst)
    return scrub(nb) if deterministic else nb


def lesson_paths() -> list[Path]:
    """The lesson notebooks, in course order."""
    return sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def solution_paths() -> list[Path]:
    """The worked exercises (``solutions/``), committed executed like the lessons."""
    return sorted((REPO_ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def main(argv: Sequence[str] | None = None) -> int:
    """Re-execute notebooks in place (default: every lesson and every solution)."""
    args = list(sys.argv[1:] if argv is None else argv)
    paths = [Path(a) for a in args] or lesson_paths() + solution_paths()
    for path in paths:
        print(f"executing {path} ...", flush=True)
        execute(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
