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
