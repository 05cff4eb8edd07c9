"""Board pack: the memo as a one-page PDF and the decision as a slide deck.

- :func:`memo_pdf` (:mod:`.pdf`): a memo or PR/FAQ as a one-page A4 PDF, selectable text.
- :func:`deck_pptx` (:mod:`.deck`): six slides (decision and ask, cost curves, financial
  impact, valuation, risk with the tornado, the plan) with native charts.
- :func:`board_pack`, :func:`write_board_pack`, :func:`export` (:mod:`.export`): both at
  once, written atomically as ``<stem>.memo.pdf`` and ``<stem>.deck.pptx``.
- ``buildbuy memo export`` (:mod:`.cli`): the same from the command line.

Why reportlab for the PDF: a cohort of 10,000 learners renders 10,000 PDFs on CI
machines. A pure-Python renderer runs inside the worker that already holds the numbers,
in about 0.1-0.4 s a page, with no browser to install, start or keep alive per worker;
Chromium's print-to-PDF needs a browser process per worker and a Debian package on every
node.
"""

from buildbuy.boardpack.deck import SLIDE_TITLES, deck_pptx
from buildbuy.boardpack.export import (
    PACK_FILES,
    BoardPack,
    board_pack,
    export,
    report_bundle,
    write_board_pack,
)
from buildbuy.boardpack.pdf import memo_pdf, page_count

__all__ = [
    "PACK_FILES",
    "SLIDE_TITLES",
    "BoardPack",
    "board_pack",
    "deck_pptx",
    "export",
    "memo_pdf",
    "page_count",
    "report_bundle",
    "write_board_pack",
]
