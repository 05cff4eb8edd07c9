"""A learner's board pack next to the report: ``<safe id>.memo.pdf`` and ``.deck.pptx``.

The report template renders the pack in its kernel, where the decision record is already
computed, and emits the two files, base64-encoded, under :data:`PACK_MIME` in a cell
tagged ``report-figures`` (never shown in the HTML). The worker takes them out of the
executed notebook (:func:`take_pack`: the ``.ipynb`` keeps no copy) and writes them
atomically (:func:`write_pack`). A template that emits no pack gives no pack files.
"""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat

from buildbuy.boardpack.export import PACK_FILES, PACK_MIME
from buildbuy.reports import render, state

__all__ = ["remove_pack", "take_pack", "write_pack"]


def take_pack(nb: nbformat.NotebookNode) -> dict[str, bytes]:
    """Remove the board-pack payload from ``nb`` (in place) and return its files' bytes."""
    files: dict[str, bytes] = {}
    for cell in nb.cells:
        if render.HIDDEN_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            payload = data.pop(PACK_MIME, None) if hasattr(data, "pop") else None
            if isinstance(payload, dict):
                files.update({k: base64.b64decode(v) for k, v in payload.items()
                              if k in PACK_FILES and isinstance(v, str)})
            if data or out.get("output_type") not in ("display_data", "execute_result"):
                kept.append(out)
        cell["outputs"] = kept
    return files


def write_pack(out_dir: Path, sid: str, files: dict[str, bytes]) -> list[str]:
    """Write the pack's files as ``<sid><suffix>``; return the file names written."""
    names = []
    for key, suffix in PACK_FILES.items():
        if key in files:
            state.atomic_write_bytes(out_dir / f"{sid}{suffix}", files[key])
            names.append(f"{sid}{suffix}")
    return names


def remove_pack(out_dir: Path, sid: str) -> None:
    """Delete ``sid``'s pack files (a failed rerun must not leave an out-of-date pack)."""
    for suffix in PACK_FILES.values():
        (out_dir / f"{sid}{suffix}").unlink(missing_ok=True)
