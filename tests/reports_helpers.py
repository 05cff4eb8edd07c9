"""Helpers shared by the report tests (not a test module)."""

from __future__ import annotations

import csv
from pathlib import Path


def read_summary(out: Path) -> list[dict[str, str]]:
    """The rows of ``out/summary.csv``."""
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (UTF-8) and return the path."""
    path.write_text(text, encoding="utf-8")
    return path
