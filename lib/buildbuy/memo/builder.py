"""Build the one-page memo from the learner's text and the model's figures."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from buildbuy._validate import bad, choice, suggest
from buildbuy.decision.figures import Figure, figure_map

__all__ = ["KINDS", "MAX_WORDS", "RATIONALE_LABELS", "REQUIRED_SECTIONS", "STRATEGIES",
           "STRATEGY_SENTENCES", "Memo", "build_memo", "fill_figures", "parse_memo",
           "stated_strategy", "word_count"]

#: Section headings every memo must carry, in order.
REQUIRED_SECTIONS: tuple[str, ...] = (
    "Business problem",
    "Recommendation",
    "Financial impact",
    "Risks and mitigations",
    "Call to action",
)
#: The rationale labels the Recommendation section must carry (key -> bold label).
RATIONALE_LABELS: dict[str, str] = {
    "tco": "TCO",
    "ip": "IP",
    "time_to_market": "Time to market",
}
#: One printed page of prose at 11 pt holds about 500-600 words; we allow 650.
MAX_WORDS: int = 650
STRATEGIES: tuple[str, ...] = ("build", "buy", "hybrid", "neither")
#: The two document forms: the investment memo and the PR/FAQ (:mod:`buildbuy.memo.prfaq`).
KINDS: tuple[str, ...] = ("memo", "prfaq")
#: The opening sentence of the Recommendation section, per strategy.
STRATEGY_SENTENCES: dict[str, str] = {
    "build": "We recommend that we **build**: fine-tune an open model and serve it ourselves.",
    "buy": "We recommend that we **buy**: serve the workload through a provider's API.",
    "hybrid": "We recommend a **hybrid**: launch on the API and move to our own fine-tuned "
              "model once it is live.",
    "neither": "We recommend **neither**: at these numbers no option creates value, so we "
               "should not start this project now.",
}


_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def fill_figures(name: str, text: Any, figs: Mapping[str, Figure]) -> str:
    """``text`` (argument ``name``) with every ``{key}`` replaced by that figure's text.

    Raises the standard ``ValueError`` for an empty text or an unknown key (with close
    matches).

    Examples
    --------
    >>> fill_figures("impact", "Saves {s}.", {"s": Figure("s", "Saving", 2e6, "usd")})
    'Saves $2.00M.'
    """
    if not isinstance(text, str) or not text.strip():
        raise bad(name, text, "a non-empty string")

    def repl(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in figs:
            close = suggest(key, figs)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise bad(name, f"...{{{key}}}...", f"text whose {{placeholders}} are figure keys"
                      f"{hint}; known keys: {', '.join(sorted(figs))}")
        return figs[key].text

    return _PLACEHOLDER.sub(repl, text.strip())


@dataclass(frozen=True, repr=False)
class Memo:
    """A built board document: title, ordered ``(heading, body)`` sections, the figures used.

    ``kind`` is ``"memo"`` (:func:`build_memo`) or ``"prfaq"``
    (:func:`buildbuy.memo.build_prfaq`); both read back, check and export the same way.
    """

    title: str
    strategy: str
    sections: tuple[tuple[str, str], ...]
    figures: tuple[Figure, ...] = field(default=())
    kind: str = "memo"

    @property
    def markdown(self) -> str:
        """The memo as Markdown: a level-1 title, one level-2 heading per section."""
        parts = [f"# {self.title}"]
        parts += [f"## {heading}\n\n{body}" for heading, body in self.sections]
        return "\n\n".join(parts) + "\n"

    @property
    def html(self) -> str:
        """The memo as an HTML fragment (rendered with mistune, nbconvert's Markdown parser)."""
        import mistune

        return str(mistune.create_markdown(plugins=["table"])(self.markdown))

    @property
    def word_count(self) -> int:
        """Words of prose, not counting the figures table."""
        return word_count(self.markdown)

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return (f"Memo(title={self.title!r}, strategy={self.strategy!r}, kind={self.kind!r}, "
                f"{len(self.sections)} sections, {self.word_count} words)")

    def __str__(self) -> str:
        return self.markdown


def word_count(markdown: str) -> int:
    """Words of prose in ``markdown``, not counting table rows (lines starting with ``|``).

    Examples
    --------
    >>> word_count("# Title\\n\\nWe save $2.0M.\\n\\n| a | b |\\n|---|---|")
    4
    """
    prose = [ln for ln in markdown.splitlines() if not ln.lstrip().startswith("|")]
    return len(re.findall(r"[A-Za-z0-9$%][\w$%.,'-]*", "\n".join(prose)))


def build_memo(
    *,
    title: str,
    problem: str,
    strategy: str,
    rationale: Mapping[str, str],
    impact: str,
    risks: Sequence[tuple[str, str]],
    call_to_action: str,
    figures: Mapping[str, Figure] | Iterable[Figure],
    table_keys: Sequence[str] | None = None,
    kill_criteria: Sequence[str] = (),
    quality: str | None = None,
) -> Memo:
    """Build the one-page memo from the learner's text and the model's figures.

    Parameters
    ----------
    title : str
        The memo's title.
    problem : str
        The business problem, in numbers where possible.
    strategy : {"build", "buy", "hybrid", "neither"}
        The recommendation; ``"neither"`` funds no path.
    rationale : mapping
        Keys ``"tco"``, ``"ip"`` and ``"time_to_market"``, one short paragraph each.
    impact : str
        The learner's reading of the financial figures (the table is added for you).
    risks : sequence of (risk, mitigation) pairs
        At least one.
    call_to_action : str
        What the board is asked to decide or approve.
    figures : mapping or iterable of :class:`Figure`
        The model's numbers (``decide(S).figures``). Text fields quote them as ``{key}``.
    table_keys : sequence of str, optional
        Figures to list in the Financial impact table, in order (default: all).
    kill_criteria : sequence of str, optional
        When to stop: one line per driver, listed under **Kill criteria** in the risks.
    quality : str, optional
        The quality assumption behind the numbers, under **Quality assumption**.

    Returns
    -------
    Memo

    Raises
    ------
    ValueError
        An empty text field, an unknown strategy, a missing rationale key or a
        ``{placeholder}`` that is not a figure key.

    Examples
    --------
    >>> figs = [Figure("tco_a_usd", "3-year TCO, API", 1_234_567, "usd")]
    >>> m = build_memo(title="Support bot", problem="Tickets cost us.", strategy="buy",
    ...     rationale={"tco": "API costs {tco_a_usd}.", "ip": "No moat.",
    ...                "time_to_market": "Weeks."}, impact="Cheap enough.",
    ...     risks=[("Price rises", "Two vendors")], call_to_action="Approve.", figures=figs)
    >>> "**TCO.** API costs $1.23M." in m.markdown
    True
    """
    figs = figure_map(figures)
    if not isinstance(title, str) or not title.strip():
        raise bad("title", title, "a non-empty string")
    choice("strategy", strategy, STRATEGIES)
    if not isinstance(rationale, Mapping) or set(rationale) != set(RATIONALE_LABELS):
        got = sorted(rationale) if isinstance(rationale, Mapping) else rationale
        raise bad("rationale", got, f"a mapping with exactly the keys {sorted(RATIONALE_LABELS)}")
    if isinstance(risks, (str, bytes)) or not isinstance(risks, Sequence) or not risks:
        raise bad("risks", risks, "a non-empty list of (risk, mitigation) pairs")
    risk_lines = []
    for i, pair in enumerate(risks):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise bad(f"risks[{i}]", pair, "a (risk, mitigation) pair of strings")
        risk = fill_figures(f"risks[{i}][0]", pair[0], figs)
        mitigation = fill_figures(f"risks[{i}][1]", pair[1], figs)
        risk_lines.append(f"- **{risk.rstrip('.')}.** Mitigation: {mitigation}")
    if isinstance(kill_criteria, (str, bytes)) or not isinstance(kill_criteria, Sequence):
        raise bad("kill_criteria", kill_criteria, "a list of strings, one per driver")
    kills = [fill_figures(f"kill_criteria[{i}]", k, figs) for i, k in enumerate(kill_criteria)]
    if kills:
        risk_lines.append("\n**Kill criteria.**\n\n" + "\n".join(f"- {k}" for k in kills))
    if quality is not None:
        risk_lines.append(f"\n**Quality assumption.** {fill_figures('quality', quality, figs)}")
    keys = list(figs) if table_keys is None else list(table_keys)
    for key in keys:
        if key not in figs:
            raise bad("table_keys", key, f"figure keys, one of {sorted(figs)}")
    why = "\n".join(
        f"- **{label}.** {fill_figures(f'rationale[{k!r}]', rationale[k], figs)}"
        for k, label in RATIONALE_LABELS.items()
    )
    table = "| Figure | Value |\n|---|---|\n" + "\n".join(
        f"| {figs[k].label} | {figs[k].text} |" for k in keys
    )
    sections = (
        ("Business problem", fill_figures("problem", problem, figs)),
        ("Recommendation", f"{STRATEGY_SENTENCES[strategy]}\n\n{why}"),
        ("Financial impact", f"{table}\n\n{fill_figures('impact', impact, figs)}"),
        ("Risks and mitigations", "\n".join(risk_lines)),
        ("Call to action", fill_figures("call_to_action", call_to_action, figs)),
    )
    return Memo(title.strip(), strategy, sections, tuple(figs[k] for k in figs))


def stated_strategy(markdown: str) -> str | None:
    """The recommendation a text states: a bold strategy word, else "we recommend X".

    Examples
    --------
    >>> stated_strategy("## Recommendation\\n\\nWe recommend that we **build**: ...")
    'build'
    >>> stated_strategy("We recommend neither option.") , stated_strategy("No view.")
    ('neither', None)
    """
    words = "|".join(STRATEGIES)
    m = re.search(rf"\*\*\s*({words})\s*\*\*", markdown, re.IGNORECASE)
    if m is None:
        m = re.search(rf"recommends?\s+(?:that\s+we\s+|to\s+|an?\s+)?({words})\b", markdown,
                      re.IGNORECASE)
    return m.group(1).lower() if m else None


def parse_memo(markdown: str) -> Memo:
    """Read a memo or PR/FAQ typed as Markdown back into a :class:`Memo`.

    The title is the first ``#`` heading, each ``##`` heading opens a section, the
    strategy is :func:`stated_strategy` (``"neither"`` when none is stated) and the kind
    is ``"prfaq"`` when a section is called "Press release".

    Examples
    --------
    >>> m = parse_memo("# Bot\\n\\n## Recommendation\\n\\nWe recommend we **buy**.\\n")
    >>> m.title, m.strategy, m.kind, m.sections
    ('Bot', 'buy', 'memo', (('Recommendation', 'We recommend we **buy**.'),))
    """
    if not isinstance(markdown, str) or not markdown.strip():
        raise bad("markdown", markdown, "a memo in Markdown with '#' and '##' headings")
    title, sections, current, body = "", [], None, []
    for line in markdown.splitlines():
        m = re.match(r"^(#{1,2})\s+(.+?)\s*#*\s*$", line)
        if m and len(m.group(1)) == 1 and not title and current is None:
            title = m.group(2).strip()
            continue
        if m and len(m.group(1)) == 2:
            if current is not None:
                sections.append((current, "\n".join(body).strip()))
            current, body = m.group(2).strip(), []
            continue
        body.append(line)
    if current is not None:
        sections.append((current, "\n".join(body).strip()))
    if not sections:
        raise bad("markdown", markdown[:60] + "...", "at least one '## ' section heading")
    kind = "prfaq" if any(h.lower() == "press release" for h, _ in sections) else "memo"
    return Memo(title or sections[0][0], stated_strategy(markdown) or "neither",
                tuple(sections), (), kind=kind)
