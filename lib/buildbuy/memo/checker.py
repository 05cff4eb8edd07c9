"""Read a memo back: its sections, and every number it quotes against the model.

Every quoted number must equal some figure of the record, rounded to the digits shown. A
number that matches none is reported with the *nearest* figure of the same unit family
(money, price per 1k tokens, share, months, tokens, headcount or count): nearest in
relative terms, ``|quoted - figure| / |figure|`` on magnitudes, so that a learner sees
which number they probably meant and by how much they are off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from buildbuy._validate import bad, integer
from buildbuy.decision.figures import Figure, figure_map
from buildbuy.memo.builder import MAX_WORDS, RATIONALE_LABELS, REQUIRED_SECTIONS, Memo, word_count

__all__ = ["MemoCheck", "Quoted", "check_memo", "nearest_figure", "quoted_numbers"]

_SCALE = {"": 1.0, "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6,
          "b": 1e9, "bn": 1e9, "billion": 1e9}
_NUM = r"(\d[\d,]*(?:\.\d+)?)"
_SUFFIX = r"(?:\s?(k|thousand|mn|million|bn|billion|m|b)\b)?"
_MONEY = re.compile(r"\$\s?" + _NUM + r"(?:\s?(k|thousand|mn|million|bn|billion|m|b)(?![a-z]))?"
                    r"(\s*(?:per|/)\s*(?:1\s?k\s+tokens|request)\b)?", re.IGNORECASE)
_PERCENT = re.compile(_NUM + r"\s?%")
_MONTHS = re.compile(_NUM + r"\s?(?:months?|mo)\b", re.IGNORECASE)
# "per 1k tokens" is a unit, not a volume: not a figure
_TOKENS = re.compile(r"(?<!per )(?<!/)(?<![\d.,])" + _NUM + _SUFFIX + r"\s+tokens\b(?!/s)",
                     re.IGNORECASE)
_TOKENS_PER_S = re.compile(r"(?<![\d.,])" + _NUM + r"\s+tokens/s\b", re.IGNORECASE)
_FTE = re.compile(r"(?<![\d.,])" + _NUM + r"\s?(?:FTEs?|full-time equivalents?)\b",
                  re.IGNORECASE)
_GPUS = re.compile(r"(?<![\d.,$])" + _NUM + r"\s+(?:[\w-]+\s)?GPUs?\b")
#: Units of a quoted number -> the figure units it may match (its unit family).
FAMILIES: dict[str, tuple[str, ...]] = {
    "usd": ("usd",), "usd_per_1k_tokens": ("usd_per_1k_tokens",),
    "usd_per_request": ("usd_per_request",), "share": ("share",), "months": ("months",),
    "tokens": ("tokens",), "tokens_per_s": ("tokens_per_s",), "fte": ("fte",),
    "count": ("count",),
}


@dataclass(frozen=True)


class Quoted:
    """A number found in memo text: as written, its value, unit and rounding half-step."""

    text: str
    value: float
    unit: str
    half_step: float


def _quoted(m: re.Match[str], unit: str, suffix: str | None, divisor: float = 1.0) -> Quoted:
    digits = m.group(1).replace(",", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    scale = _SCALE[(suffix or "").lower()]
    return Quoted(m.group(0).strip(), float(digits) * scale / divisor, unit,
                  0.5 * 10**-decimals * scale / divisor)


def quoted_numbers(text: str) -> list[Quoted]:
    """Every figure-like number in ``text``: money, per-1k-token and per-request prices, %,
    months, tokens, tokens/s.

    Also headcounts (``5.5 FTE``) and GPU counts (``24 GPUs``, ``24 H100 GPUs``). Bare
    numbers ("3 vendors", "2027") are not figures and are not returned.

    Examples
    --------
    >>> [(q.text, q.value, q.unit) for q in quoted_numbers("Save $1.2M in 14 months (35%).")]
    [('$1.2M', 1200000.0, 'usd'), ('35%', 0.35, 'share'), ('14 months', 14.0, 'months')]
    """
    found: list[Quoted] = []
    taken: list[tuple[int, int]] = []
    for m in _MONEY.finditer(text):
        per = (m.group(3) or "").lower()
        unit = ("usd_per_request" if "request" in per else
                "usd_per_1k_tokens" if per else "usd")
        found.append(_quoted(m, unit, m.group(2)))
        taken.append(m.span())
    for m in _PERCENT.finditer(text):
        found.append(_quoted(m, "share", None, divisor=100.0))
    for m in _MONTHS.finditer(text):
        found.append(_quoted(m, "months", None))
    for m in _TOKENS.finditer(text):
        if not any(a <= m.start() < b for a, b in taken):
            found.append(_quoted(m, "tokens", m.group(2)))
    for m in _TOKENS_PER_S.finditer(text):
        found.append(_quoted(m, "tokens_per_s", None))
    for m in _FTE.finditer(text):
        found.append(_quoted(m, "fte", None))
    for m in _GPUS.finditer(text):
        found.append(_quoted(m, "count", None))
    return found


def _matches(q: Quoted, fig: Figure) -> bool:
    if fig.value is None or fig.unit not in FAMILIES[q.unit]:
        return False
    return abs(abs(float(fig.value)) - q.value) <= q.half_step * (1 + 1e-9) + 1e-12


def nearest_figure(q: Quoted, figures: Mapping[str, Figure] | Iterable[Figure]
                   ) -> Figure | None:
    """The figure of ``q``'s unit family closest to it in relative terms (``None`` if none).

    Distance is ``|q - |v|| / |v|`` (a figure of value 0 is at distance ``q``); ties go to
    the first figure in registry order.

    Examples
    --------
    >>> figs = [Figure("capex_usd", "Capex", 690_000, "usd"),
    ...         Figure("ask_usd", "Ask", 2_740_000, "usd"),
    ...         Figure("payback_months", "Payback", 13.0, "months")]
    >>> nearest_figure(quoted_numbers("$700k")[0], figs).key
    'capex_usd'
    """
    best: tuple[float, Figure] | None = None
    for fig in figure_map(figures).values():
        if fig.value is None or fig.unit not in FAMILIES[q.unit]:
            continue
        v = abs(float(fig.value))
        dist = abs(q.value - v) / v if v else abs(q.value)
        if best is None or dist < best[0]:
            best = (dist, fig)
    return None if best is None else best[1]


@dataclass(frozen=True)


class MemoCheck:
    """What :func:`check_memo` found. ``ok`` is True when ``problems`` is empty."""

    missing_sections: tuple[str, ...]
    missing_rationale: tuple[str, ...]
    unmatched: tuple[str, ...]
    matched: tuple[tuple[str, str], ...]
    word_count: int
    max_words: int
    nearest: tuple[tuple[str, Figure | None], ...] = ()

    @property
    def problems(self) -> list[str]:
        """One sentence per problem, in reading order."""
        near = dict(self.nearest)
        out = [f"missing section: '{s}'" for s in self.missing_sections]
        out += [f"the rationale does not cover '{s}'" for s in self.missing_rationale]
        for q in self.unmatched:
            fig = near.get(q)
            hint = (f"; the nearest is {fig.label} ({fig.key}) = {fig.text}" if fig is not None
                    else "; the model has no figure in that unit")
            out.append(f"'{q}' matches no model figure (within rounding){hint}")
        if self.word_count > self.max_words:
            out.append(f"{self.word_count} words: a one-page memo has at most {self.max_words}")
        return out

    @property
    def ok(self) -> bool:
        """True when every section is present and every quoted figure matches the model."""
        return not self.problems

    def __str__(self) -> str:
        head = (f"memo OK: {len(self.matched)} figures quoted, all match the model; "
                f"{self.word_count} words")
        return head if self.ok else "memo needs work:\n" + "\n".join(
            f"- {p}" for p in self.problems)

    def _repr_markdown_(self) -> str:
        return str(self)


def _headings(markdown: str) -> list[str]:
    return [m.group(1).strip().rstrip(":").lower()
            for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", markdown, re.MULTILINE)]


def check_memo(
    memo: Memo | str,
    figures: Mapping[str, Figure] | Iterable[Figure],
    *,
    max_words: int | None = None,
) -> MemoCheck:
    """Check a memo's structure and that every number it quotes comes from the model.

    Parameters
    ----------
    memo : Memo or str
        A built memo or Markdown typed by hand (sections as ``##`` headings).
    figures : mapping or iterable of :class:`Figure`
        The record's figures for the learner's scenario (:func:`buildbuy.memo.memo_figures`:
        the decision record's registry and the board's figures).
    max_words : int, optional
        Word limit for one page (default :data:`MAX_WORDS` for a memo,
        :data:`~buildbuy.memo.prfaq.PRFAQ_MAX_WORDS` for a PR/FAQ).

    Returns
    -------
    MemoCheck
        Missing sections (and, for a memo, rationale labels), quoted numbers that match
        no figure of the same unit family within rounding with the nearest figure of
        each (see the module docstring), and the matches found. A text whose headings
        include "Press release" is read as a PR/FAQ.

    Examples
    --------
    >>> figs = [Figure("payback_months", "Payback", 14.24, "months")]
    >>> check_memo("## Business problem\\nPays back in 14 months, or 15 months.", figs).unmatched
    ('15 months',)
    """
    from buildbuy.memo.prfaq import PRFAQ_MAX_WORDS, PRFAQ_SECTIONS

    figs = figure_map(figures)
    if isinstance(memo, Memo):
        text, kind = memo.markdown, memo.kind
    elif isinstance(memo, str):
        text = memo
        kind = "prfaq" if "press release" in _headings(memo) else "memo"
    else:
        raise bad("memo", memo, "a Memo from build_memo or a Markdown string")
    limit = (PRFAQ_MAX_WORDS if kind == "prfaq" else MAX_WORDS) if max_words is None \
        else max_words
    limit = integer("max_words", limit, minimum=1)
    heads = _headings(text)
    required = PRFAQ_SECTIONS if kind == "prfaq" else REQUIRED_SECTIONS
    missing = tuple(s for s in required if s.lower() not in heads)
    lower = text.lower()
    missing_why = () if kind == "prfaq" else tuple(
        label for label in RATIONALE_LABELS.values() if f"**{label.lower()}" not in lower)
    unmatched: list[str] = []
    matched: list[tuple[str, str]] = []
    nearest: list[tuple[str, Figure | None]] = []
    for q in quoted_numbers(text):
        hit = next((f.key for f in figs.values() if _matches(q, f)), None)
        if hit is None:
            unmatched.append(q.text)
            nearest.append((q.text, nearest_figure(q, figs)))
        else:
            matched.append((q.text, hit))
    return MemoCheck(missing, missing_why, tuple(unmatched), tuple(matched),
                     word_count(text), limit, tuple(nearest))
