"""Where the workbook's files live.

The library reads its tables from the repository's ``data/`` folder. Set the
environment variable ``BUILDBUY_DATA_DIR`` to read them from elsewhere (for an
installed, non-editable copy of the package).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the folder holding ``lib/``, ``data/`` and ``notebooks/``).
REPO_ROOT: Path = Path(__file__).resolve().parents[2]
#: The learners' exercise notebooks (built from ``solutions/`` by ``buildbuy exercises build``).
EXERCISES_DIR: Path = REPO_ROOT / "exercises"


def data_dir() -> Path:
    """The folder holding the CSV tables and ``scenarios/``."""
    env = os.environ.get("BUILDBUY_DATA_DIR")
    return Path(env) if env else REPO_ROOT / "data"


def scenarios_dir() -> Path:
    """The folder holding the persona YAML files."""
    return data_dir() / "scenarios"
