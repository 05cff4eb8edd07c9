"""Read a memo back: its sections, and every number it quotes against the model."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from buildbuy._validate import bad, integer
from buildbuy.decision.figures import Figure, figure_map
from buildbuy.memo.builder import MAX_WORDS, RATIONALE_LABELS, REQUIRED_SECTIONS, Memo, word_count

__all__ = ["MemoCheck", "Quoted", "check_memo", "quoted_numbers"]

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

    Bare numbers ("3 vendors", "2027") are not figures and are not returned.

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
    return found


def _matches(q: Quoted, fig: Figure) -> bool:
    if fig.value is None or fig.unit != q.unit:
        return False
    return abs(abs(float(fig.value)) - q.value) <= q.half_step * (1 + 1e-9) + 1e-12


@dataclass(frozen=True)


class MemoCheck:
    """What :func:`check_memo` found. ``ok`` is True when ``problems`` is empty."""

    missing_sections: tuple[str, ...]
    missing_rationale: tuple[str, ...]
    unmatched: tuple[str, ...]
    matched: tuple[tuple[str, str], ...]
    word_count: int
    max_words: int

    @property
    def problems(self) -> list[str]:
        """One sentence per problem, in reading order."""
        out = [f"missing section: '{s}'" for s in self.missing_sections]
        out += [f"the rationale does not cover '{s}'" for s in self.missing_rationale]
        out += [f"'{q}' matches no model figure (within rounding)" for q in self.unmatched]
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
    max_words: int = MAX_WORDS,
) -> MemoCheck:
    """Check a memo's structure and that every number it quotes comes from the model.

    Parameters
    ----------
    memo : Memo or str
        A built memo or Markdown typed by hand (sections as ``##`` headings).
    figures : mapping or iterable of :class:`Figure`
        The model's figures for the learner's scenario (``decide(S).figures``).
    max_words : int
        Word limit for one page (default :data:`MAX_WORDS`).

    Returns
    -------
    MemoCheck
        Missing sections and rationale labels, quoted numbers that match no figure
        of the same unit within rounding (see the module docstring), and the
        matches found.

    Examples
    --------
    >>> figs = [Figure("payback_months", "Payback", 14.24, "months")]
    >>> check_memo("## Business problem\\nPays back in 14 months, or 15 months.", figs).unmatched
    ('15 months',)
    """
    figs = figure_map(figures)
    max_words = integer("max_words", max_words, minimum=1)
    if isinstance(memo, Memo):
        text = memo.markdown
    elif isinstance(memo, str):
        text = memo
    else:
        raise bad("memo", memo, "a Memo from build_memo or a Markdown string")
    heads = _headings(text)
    missing = tuple(s for s in REQUIRED_SECTIONS if s.lower() not in heads)
    lower = text.lower()
    missing_why = tuple(label for label in RATIONALE_LABELS.values()
                        if f"**{label.lower()}" not in lower)
    unmatched: list[str] = []
    matched: list[tuple[str, str]] = []
    for q in quoted_numbers(text):
        hit = next((f.key for f in figs.values() if _matches(q, f)), None)
        if hit is None:
            unmatched.append(q.text)
        else:
            matched.append((q.text, hit))
    return MemoCheck(missing, missing_why, tuple(unmatched), tuple(matched),
                     word_count(text), max_words)
