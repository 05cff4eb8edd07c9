"""The memo (or PR/FAQ) as a one-page A4 PDF with selectable text.

Rendering
---------
The memo's Markdown is parsed by mistune (the Markdown parser the HTML view uses) into
blocks: headings, paragraphs, bullet lists and the figures table; each becomes a
reportlab flowable. Text is set in DejaVu Sans, the TrueType family matplotlib ships, so
names in Latin, Greek or Cyrillic script print as written; the fonts are embedded as
subsets with their Unicode map, so the text can be selected and extracted. Chinese,
Japanese and Korean text, which DejaVu Sans lacks, is set in reportlab's built-in Adobe
CID fonts (:data:`CJK_FONTS`): not embedded, so the reader's viewer supplies the glyphs
(every current PDF viewer does), and the text extracts as written. Other scripts DejaVu
Sans lacks (e.g. Thai, Devanagari) print as empty boxes; right-to-left scripts print
unshaped, left to right.

One page
--------
The body starts at :data:`FONT_SIZES` [0] points and steps down until the document fits
on one page; below the last size it does not shrink further and :func:`memo_pdf` raises
``ValueError`` with the word count (a one-page memo has at most about 650 words, the
checker's limit). The PDF is deterministic: the same memo gives the same bytes
(reportlab's invariant mode: no creation time, a fixed document id).
"""

from __future__ import annotations

import html
import io
import threading
from pathlib import Path
from typing import Any

from buildbuy._validate import bad
from buildbuy.memo.builder import Memo

__all__ = ["CJK_FONTS", "FONT_SIZES", "memo_pdf", "page_count"]

#: Body font sizes tried, largest first (points).
FONT_SIZES: tuple[float, ...] = (10.0, 9.5, 9.0, 8.5, 8.0, 7.5)
_FONT = "BuildbuySans"
#: Fallback for a run of characters DejaVu Sans lacks: Korean if the run holds Hangul,
#: Japanese if it holds kana, else Chinese (Han ideographs, CJK punctuation, full-width
#: forms). reportlab's built-in CID fonts (Adobe-Korea1, Adobe-Japan1, Adobe-GB1).
CJK_FONTS: dict[str, str] = {"ko": "HYSMyeongJo-Medium", "ja": "HeiseiKakuGo-W5",
                             "zh": "STSong-Light"}
_lock = threading.Lock()
_registered = False
_covered: frozenset[int] = frozenset()


def _register_fonts() -> None:
    """Register DejaVu Sans (4 faces) and the CJK fallback fonts with reportlab, once."""
    global _registered, _covered
    with _lock:
        if _registered:
            return
        import matplotlib
        from reportlab.lib.fonts import addMapping
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfbase.ttfonts import TTFont

        ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        faces = {"": "DejaVuSans.ttf", "-Bold": "DejaVuSans-Bold.ttf",
                 "-Italic": "DejaVuSans-Oblique.ttf",
                 "-BoldItalic": "DejaVuSans-BoldOblique.ttf"}
        for suffix, file in faces.items():
            font = TTFont(_FONT + suffix, str(ttf / file))
            pdfmetrics.registerFont(font)
            if not suffix:
                _covered = frozenset(font.face.charToGlyph)
        for name in CJK_FONTS.values():
            pdfmetrics.registerFont(UnicodeCIDFont(name))
        for bold, italic, suffix in ((0, 0, ""), (1, 0, "-Bold"), (0, 1, "-Italic"),
                                     (1, 1, "-BoldItalic")):
            addMapping(_FONT, bold, italic, _FONT + suffix)
        _registered = True


def _cjk_font(text: str) -> str:
    """The fallback font for text with characters DejaVu Sans lacks (see :data:`CJK_FONTS`)."""
    if any(0x1100 <= ord(c) <= 0x11FF or 0x3130 <= ord(c) <= 0x318F
           or 0xAC00 <= ord(c) <= 0xD7AF for c in text):
        return CJK_FONTS["ko"]
    if any(0x3040 <= ord(c) <= 0x30FF or 0x31F0 <= ord(c) <= 0x31FF
           or 0xFF66 <= ord(c) <= 0xFF9F for c in text):
        return CJK_FONTS["ja"]
    return CJK_FONTS["zh"]


def _is_cjk(c: str) -> bool:
    o = ord(c)
    return (0x1100 <= o <= 0x11FF or 0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF
            or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or 0x20000 <= o <= 0x2FA1F)


def _text(raw: str) -> str:
    """Plain text -> paragraph markup: escaped, CJK runs DejaVu Sans lacks in a CID font.

    Examples
    --------
    >>> _register_fonts()
    >>> _text("Ana & 王小明")
    'Ana &amp; <font name="STSong-Light">王小明</font>'
    """
    from itertools import groupby

    font = _cjk_font(raw)  # one language for the whole text: 山田 さくら is Japanese
    out = []
    for fallback, chars in groupby(raw, key=lambda c: _is_cjk(c) and ord(c) not in _covered):
        run = "".join(chars)
        out.append(f'<font name="{font}">{run}</font>' if fallback
                   else html.escape(run, quote=False))
    return "".join(out)


def _inline(children: list[dict[str, Any]]) -> str:
    """mistune inline tokens -> reportlab paragraph markup (text escaped)."""
    out = []
    for tok in children:
        kind = tok["type"]
        if kind in ("text", "codespan"):
            out.append(_text(tok.get("raw", "")))
        elif kind == "strong":
            out.append(f"<b>{_inline(tok['children'])}</b>")
        elif kind == "emphasis":
            out.append(f"<i>{_inline(tok['children'])}</i>")
        elif kind in ("softbreak", "linebreak"):
            out.append(" ")
        elif "children" in tok:
            out.append(_inline(tok["children"]))
        else:
            out.append(_text(tok.get("raw", "")))
    return "".join(out)


def _styles(size: float) -> dict[str, Any]:
    from reportlab.lib.colors import HexColor
    from reportlab.lib.styles import ParagraphStyle

    lead = 1.22 * size
    body = ParagraphStyle("body", fontName=_FONT, fontSize=size, leading=lead,
                          spaceAfter=0.35 * lead)
    return {
        "body": body,
        "bullet": ParagraphStyle("bullet", parent=body, leftIndent=1.1 * size,
                                 bulletIndent=0.2 * size, spaceAfter=0.15 * lead),
        "h1": ParagraphStyle("h1", parent=body, fontName=_FONT + "-Bold", fontSize=1.55 * size,
                             leading=1.8 * size, spaceAfter=0.3 * lead),
        "h2": ParagraphStyle("h2", parent=body, fontName=_FONT + "-Bold", fontSize=1.15 * size,
                             leading=1.35 * size, spaceBefore=0.45 * lead, spaceAfter=0.2 * lead,
                             textColor=HexColor("#1F3A5F")),
        "meta": ParagraphStyle("meta", parent=body, fontSize=0.85 * size, leading=1.05 * size,
                               textColor=HexColor("#555555")),
        "cell": ParagraphStyle("cell", parent=body, fontSize=0.9 * size, leading=1.08 * size,
                               spaceAfter=0),
    }


def _flowables(markdown: str, st: dict[str, Any], width: float) -> list[Any]:
    import mistune
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import ListFlowable, ListItem, Paragraph, Spacer, Table, TableStyle

    out: list[Any] = []
    gap = st["body"].spaceAfter
    for tok in mistune.create_markdown(renderer=None, plugins=["table"])(markdown):
        kind = tok["type"]
        if kind == "heading":
            style = st["h1"] if tok["attrs"]["level"] == 1 else st["h2"]
            out.append(Paragraph(_inline(tok["children"]), style))
        elif kind == "paragraph":
            out.append(Paragraph(_inline(tok["children"]), st["body"]))
        elif kind == "list":
            items = [ListItem(Paragraph(_inline(block["children"]), st["bullet"]))
                     for item in tok["children"] for block in item["children"]
                     if "children" in block]
            out.append(ListFlowable(items, bulletType="bullet", start="\u2022",
                                    leftIndent=st["bullet"].leftIndent,
                                    bulletFontName=_FONT, bulletFontSize=st["body"].fontSize))
            out.append(Spacer(1, gap))
        elif kind == "table":
            rows = [[Paragraph(_inline(c["children"]), st["cell"]) for c in row["children"]]
                    for part in tok["children"]
                    for row in ([part] if part["type"] == "table_head" else part["children"])]
            t = Table(rows, colWidths=[0.72 * width, 0.28 * width], hAlign="LEFT")
            t.setStyle(TableStyle([
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, HexColor("#1F3A5F")),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1),
                 [HexColor("#FFFFFF"), HexColor("#F1F4F8")]),
                ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
            out += [t, Spacer(1, gap)]
        elif kind == "block_quote":
            out += _flowables("\n\n".join(_inline(c.get("children", []))
                                          for c in tok["children"]), st, width)
    return out


def _render(memo: Memo, header: str, footer: str, size: float) -> tuple[bytes, int]:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    st = _styles(size)
    buf = io.BytesIO()
    margin = 15 * mm
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=margin, rightMargin=margin,
                            topMargin=margin, bottomMargin=margin, title=memo.title,
                            author="buildbuy", subject=f"board {memo.kind}",
                            creator="buildbuy", invariant=1)
    story = [Paragraph(_text(header), st["meta"])]
    story += _flowables(memo.markdown, st, doc.width)
    story.append(Paragraph(_text(footer), st["meta"]))
    doc.build(story)
    return buf.getvalue(), int(doc.page)


def memo_pdf(memo: Memo, *, prepared_for: str | None = None, footer: str = "") -> bytes:
    """Render ``memo`` as a one-page A4 PDF and return its bytes.

    Parameters
    ----------
    memo : Memo
        From :func:`~buildbuy.memo.build_memo`, :func:`~buildbuy.memo.build_prfaq` or a
        draft.
    prepared_for : str, optional
        The reader's (or author's) name, printed in the header line as plain text.
    footer : str
        One line at the bottom (e.g. where the figures come from).

    Raises
    ------
    ValueError
        ``memo`` is not a Memo, or it does not fit on one page at the smallest size.

    Examples
    --------
    >>> from buildbuy.memo import Figure, build_memo
    >>> m = build_memo(title="Support bot", problem="Tickets cost us.", strategy="buy",
    ...     rationale={"tco": "Cheap.", "ip": "No moat.", "time_to_market": "Weeks."},
    ...     impact="Fine.", risks=[("Price rises", "Two vendors")],
    ...     call_to_action="Approve.", figures=[])
    >>> pdf = memo_pdf(m, prepared_for="Ada Lovelace")
    >>> pdf[:5], page_count(pdf)
    (b'%PDF-', 1)
    """
    if not isinstance(memo, Memo):
        raise bad("memo", memo, "a Memo (build_memo, build_prfaq or a draft)")
    _register_fonts()
    label = "PR/FAQ" if memo.kind == "prfaq" else "Investment memo"
    header = f"{label} for the board" + (f" \u00b7 prepared for {prepared_for}"
                                         if prepared_for else "")
    for size in FONT_SIZES:
        pdf, pages = _render(memo, header, footer, size)
        if pages == 1:
            return pdf
    raise bad("memo", f"{memo.kind} of {memo.word_count} words",
              f"text that fits on one page at {FONT_SIZES[-1]:g} pt (about 650 words with "
              "the figures table); shorten it")


def page_count(pdf: bytes) -> int:
    """Pages of a PDF (read with pypdf when installed, else counted from its page objects)."""
    try:
        from pypdf import PdfReader
    except ImportError:  # pypdf is a test dependency; count /Type /Page objects instead
        import re

        return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    return len(PdfReader(io.BytesIO(pdf)).pages)
