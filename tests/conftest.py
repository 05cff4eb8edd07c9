"""Shared pytest setup for the buildbuy tests.

- Matplotlib draws with the Agg backend (no display on CI, same pixels everywhere).
- ``repo_root`` is the repository folder, for tests that read committed files.

The browser tests carry the ``browser`` marker (``pytest -m "not browser"`` runs
the rest); markers are declared in ``pyproject.toml``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (holds ``lib/``, ``data/``, ``notebooks/``)."""
    return REPO_ROOT


# --------------------------------------------------------------------------- notebook runs

_KINDS = {"lesson": ("notebooks", ""), "solution": ("solutions", ""),
          "dashboard": ("notebooks/dashboards", ""), "report": ("notebooks", "")}


@pytest.fixture(scope="session")
def notebook_run(tmp_path_factory: pytest.TempPathFactory):
    """Run a notebook once per session for a persona: ``run(kind, stem, persona)``.

    ``kind`` is ``"lesson"``, ``"solution"``, ``"dashboard"`` or ``"report"`` (the learner
    report template, with a demo learner). Every test module that needs an executed
    notebook shares these runs, so each (notebook, persona) pair runs once (papermill, as a
    learner's batch run does, scrubbed by ``buildbuy.notebooks.execute``).
    """
    from buildbuy import notebooks

    out = tmp_path_factory.mktemp("runs")
    cache: dict[tuple[str, str, str], object] = {}

    def run(kind: str, stem: str, persona: str) -> object:
        key = (kind, stem, persona)
        if key not in cache:
            folder, _ = _KINDS[kind]
            src = REPO_ROOT / folder / f"{stem}.ipynb"
            params: dict[str, object] = {"scenario": persona}
            if kind != "solution":
                params["overrides"] = {}
            if kind == "report":
                params.update(learner_id="demo", learner_name="Demo learner")
            work = out / f"{kind}-{persona}"
            work.mkdir(exist_ok=True)
            cache[key] = notebooks.execute(src, work / f"{stem}.ipynb", params, cwd=work,
                                           timeout_s=600)
        return cache[key]

    return run
