"""A board pack: the one-page memo PDF and the deck, for one scenario and one reader.

:func:`board_pack` renders both from the record (:func:`buildbuy.memo.board_facts`) and a
memo: the learner's own, or the record's draft when none is given. :func:`write_board_pack`
stores them as ``<stem>.memo.pdf`` and ``<stem>.deck.pptx``, each written atomically (a
temporary file in the same folder, then renamed), so a reader never sees half a file.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from buildbuy._validate import bad
from buildbuy.boardpack.deck import deck_pptx
from buildbuy.boardpack.pdf import memo_pdf
from buildbuy.memo.builder import Memo, parse_memo
from buildbuy.memo.facts import BoardFacts, board_facts

__all__ = ["PACK_FILES", "PACK_MIME", "PDF_SUFFIX", "PPTX_SUFFIX", "BoardPack", "board_pack",
           "export", "report_bundle", "write_board_pack"]

PDF_SUFFIX = ".memo.pdf"
PPTX_SUFFIX = ".deck.pptx"
#: MIME type under which a report notebook hands its pack to the report worker
PACK_MIME = "application/vnd.buildbuy.boardpack+json"
#: the pack's files: payload key (and ``summary.csv`` column) -> file suffix
PACK_FILES: dict[str, str] = {"memo_pdf": PDF_SUFFIX, "deck_pptx": PPTX_SUFFIX}


@dataclasses.dataclass(frozen=True, repr=False)
class BoardPack:
    """The rendered pack: ``pdf`` and ``pptx`` bytes, and the memo they carry."""

    memo: Memo
    pdf: bytes
    pptx: bytes
    paths: tuple[Path, ...] = ()

    def __repr__(self) -> str:
        where = ", ".join(str(p) for p in self.paths) or "not written"
        return (f"BoardPack({self.memo.kind} {self.memo.strategy!r}: PDF {len(self.pdf):,} "
                f"bytes, deck {len(self.pptx):,} bytes; {where})")


def _footer(facts: BoardFacts) -> str:
    S = facts.scenario
    dated = f", data as of {S.as_of}" if getattr(S, "as_of", "") else ""
    return (f"Figures: the buildbuy decision record for scenario '{S.name}'{dated}. "
            "Every number is the model's, checked to the digits shown.")


def board_pack(scenario: Any, *, memo: Memo | str | None = None,
               prepared_for: str | None = None) -> BoardPack:
    """Render the memo PDF and the deck for ``scenario``.

    Parameters
    ----------
    scenario : str, Scenario or BoardFacts
        A persona name, a scenario, or its :func:`~buildbuy.memo.board_facts`.
    memo : Memo or str, optional
        The memo or PR/FAQ to print (a :class:`Memo` or its Markdown); default: the
        record's draft memo.
    prepared_for : str, optional
        The name printed on the PDF and the first slide.
    """
    from buildbuy.memo.draft import draft_memo

    facts = scenario if isinstance(scenario, BoardFacts) else board_facts(scenario)
    if isinstance(memo, str):
        memo = parse_memo(memo)
    if memo is not None and not isinstance(memo, Memo):
        raise bad("memo", memo, "a Memo, its Markdown, or None for the record's draft")
    m = memo if memo is not None else draft_memo(facts)
    return BoardPack(m, memo_pdf(m, prepared_for=prepared_for, footer=_footer(facts)),
                     deck_pptx(facts, memo=memo, prepared_for=prepared_for))


def write_board_pack(pack: BoardPack, out_dir: str | Path, stem: str) -> BoardPack:
    """Write ``pack`` as ``out_dir/<stem>.memo.pdf`` and ``<stem>.deck.pptx`` (atomically)."""
    from buildbuy.reports.state import atomic_write_bytes

    if not isinstance(stem, str) or not stem or "/" in stem or stem.startswith("."):
        raise bad("stem", stem, "a plain file name without folders")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = (atomic_write_bytes(out / f"{stem}{PDF_SUFFIX}", pack.pdf),
             atomic_write_bytes(out / f"{stem}{PPTX_SUFFIX}", pack.pptx))
    return dataclasses.replace(pack, paths=paths)


def export(memo: Memo | str | None, scenario: Any, *, out_dir: str | Path = "board_pack",
           stem: str | None = None, prepared_for: str | None = None) -> BoardPack | None:
    """Exercise 3's one-line export: the learner's memo as a PDF, with the deck.

    Returns ``None`` (and prints why) while ``memo`` is still ``None``, so a fresh
    exercise runs top to bottom.

    Examples
    --------
    >>> export(None, "bank_support") is None
    not exported yet: build your memo first
    True
    """
    if memo is None:
        print("not exported yet: build your memo first")
        return None
    facts = scenario if isinstance(scenario, BoardFacts) else board_facts(scenario)
    pack = board_pack(facts, memo=memo, prepared_for=prepared_for)
    return write_board_pack(pack, out_dir, stem or facts.scenario.name)


def report_bundle(scenario: Any, *, prepared_for: str | None = None) -> dict[str, Any]:
    """The display bundle with which the report template hands its pack to the worker.

    ``{PACK_MIME: {"memo_pdf": base64, "deck_pptx": base64}, "text/plain": ...}``; see
    :mod:`buildbuy.reports.pack`, which writes the files and drops the payload.
    """
    import base64

    pack = board_pack(scenario, prepared_for=prepared_for)
    files = {"memo_pdf": pack.pdf, "deck_pptx": pack.pptx}
    return {PACK_MIME: {k: base64.b64encode(files[k]).decode("ascii") for k in PACK_FILES},
            "text/plain": f"board pack: one-page {pack.memo.kind} PDF and slide deck"}
