"""The PR/FAQ: Amazon's working-backwards form of the same decision.

A PR/FAQ starts from the day the service is live and works backwards. It has three parts
(:data:`PRFAQ_SECTIONS`):

1. **Press release**: a heading and a one-line subheading, the problem as the people who
   have it see it, the solution (with the recommendation: build, buy, hybrid or neither),
   a quote from the leader who owns it and one from a customer.
2. **External FAQ**: the questions a customer or user would ask.
3. **Internal FAQ**: the questions the board asks. Three are always there, answered from
   the learner's text and the model's figures: *What does it cost and what does it
   return?* (financial impact, with the figures table), *What could go wrong, and when
   do we stop?* (risks, kill criteria, quality assumption) and *What do we ask the board
   to decide, and by when?* (the call to action). The learner may add more.

So a PR/FAQ covers the five parts of the memo (problem, solution, financial impact,
risk, call to action) and reads back, checks and exports like one: :func:`build_prfaq`
returns a :class:`~buildbuy.memo.builder.Memo` with ``kind="prfaq"``. Text fields may
quote figures as ``{key}``, as in :func:`~buildbuy.memo.build_memo`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from buildbuy._validate import bad, choice
from buildbuy.decision.figures import Figure, figure_map
from buildbuy.memo.builder import STRATEGIES, STRATEGY_SENTENCES, Memo, fill_figures

__all__ = ["BOARD_QUESTIONS", "PRFAQ_MAX_WORDS", "PRFAQ_SECTIONS", "build_prfaq"]

#: Section headings of a PR/FAQ, in order.
PRFAQ_SECTIONS: tuple[str, ...] = ("Press release", "External FAQ", "Internal FAQ")
#: The internal questions every PR/FAQ answers, in order (key -> question).
BOARD_QUESTIONS: dict[str, str] = {
    "impact": "What does it cost and what does it return?",
    "risk": "What could go wrong, and when do we stop?",
    "call_to_action": "What do we ask the board to decide, and by when?",
}
#: A one-page PR/FAQ: the press release is about half a page, the FAQ the rest.
PRFAQ_MAX_WORDS: int = 700


def _pairs(name: str, pairs: object, figs: Mapping[str, Figure], *,
           allow_empty: bool) -> list[tuple[str, str]]:
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence) or (
            not pairs and not allow_empty):
        raise bad(name, pairs, "a list of (question, answer) pairs"
                  + ("" if allow_empty else ", at least one"))
    out = []
    for i, pair in enumerate(pairs):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise bad(f"{name}[{i}]", pair, "a (question, answer) pair of strings")
        out.append((fill_figures(f"{name}[{i}][0]", pair[0], figs),
                    fill_figures(f"{name}[{i}][1]", pair[1], figs)))
    return out


def _quote(name: str, text: str, figs: Mapping[str, Figure]) -> str:
    """A quotation as printed: its last full stop becomes the comma before "said"."""
    body = fill_figures(name, text, figs).strip().strip("\u201c\u201d\"")
    return (body[:-1] if body.endswith(".") else body) + ("" if body[-1:] in "?!" else ",")


def _qa(question: str, answer: str) -> str:
    return f"**Q. {question.rstrip('?')}?**\n\n{answer}"


def build_prfaq(
    *,
    title: str,
    subtitle: str,
    problem: str,
    strategy: str,
    solution: str,
    leader_quote: str,
    customer_quote: str,
    external_faq: Sequence[tuple[str, str]],
    impact: str,
    risks: Sequence[tuple[str, str]],
    call_to_action: str,
    figures: Mapping[str, Figure] | Iterable[Figure],
    kill_criteria: Sequence[str] = (),
    quality: str | None = None,
    internal_faq: Sequence[tuple[str, str]] = (),
    table_keys: Sequence[str] | None = None,
) -> Memo:
    """Build a one-page PR/FAQ from the learner's text and the model's figures.

    Parameters
    ----------
    title, subtitle : str
        The press release's heading and its one-sentence subheading.
    problem : str
        The problem, as the people who have it would say it.
    strategy : {"build", "buy", "hybrid", "neither"}
        The recommendation; its sentence opens the solution paragraph.
    solution : str
        What changes for them, and how.
    leader_quote, customer_quote : str
        One quote each (without quotation marks).
    external_faq : sequence of (question, answer)
        At least one customer question.
    impact : str
        Answer to "What does it cost and what does it return?" (the table is added).
    risks : sequence of (risk, mitigation)
        At least one.
    call_to_action : str
        Answer to "What do we ask the board to decide, and by when?".
    figures : mapping or iterable of Figure
        The model's numbers; text fields quote them as ``{key}``.
    kill_criteria : sequence of str, optional
        When to stop, one line per driver.
    quality : str, optional
        The quality assumption.
    internal_faq : sequence of (question, answer), optional
        More board questions, after the three standard ones.
    table_keys : sequence of str, optional
        Figures for the table under the impact answer (default: none).

    Returns
    -------
    Memo
        ``kind="prfaq"``, sections :data:`PRFAQ_SECTIONS`.

    Examples
    --------
    >>> figs = [Figure("ask_usd", "Budget asked", 2_740_000, "usd")]
    >>> p = build_prfaq(title="Answers in seconds", subtitle="Our assistant, on our servers.",
    ...     problem="Customers wait.", strategy="build", solution="We serve it ourselves.",
    ...     leader_quote="It pays.", customer_quote="Fast.",
    ...     external_faq=[("Is my data safe?", "It stays with us.")], impact="Cheaper.",
    ...     risks=[("Volume falls", "Buy in steps")],
    ...     call_to_action="Approve {ask_usd}.", figures=figs)
    >>> p.kind, [h for h, _ in p.sections]
    ('prfaq', ['Press release', 'External FAQ', 'Internal FAQ'])
    >>> "Approve $2.74M." in p.markdown
    True
    """
    figs = figure_map(figures)
    for name, value in (("title", title), ("subtitle", subtitle)):
        if not isinstance(value, str) or not value.strip():
            raise bad(name, value, "a non-empty string")
    choice("strategy", strategy, STRATEGIES)
    ext = _pairs("external_faq", external_faq, figs, allow_empty=False)
    extra = _pairs("internal_faq", internal_faq, figs, allow_empty=True)
    risk_pairs = _pairs("risks", risks, figs, allow_empty=False)
    if isinstance(kill_criteria, (str, bytes)) or not isinstance(kill_criteria, Sequence):
        raise bad("kill_criteria", kill_criteria, "a list of strings, one per driver")
    kills = [fill_figures(f"kill_criteria[{i}]", k, figs) for i, k in enumerate(kill_criteria)]
    keys = [] if table_keys is None else list(table_keys)
    for key in keys:
        if key not in figs:
            raise bad("table_keys", key, f"figure keys, one of {sorted(figs)}")

    release = "\n\n".join([
        f"*{fill_figures('subtitle', subtitle, figs)}*",
        fill_figures("problem", problem, figs),
        f"{STRATEGY_SENTENCES[strategy]} {fill_figures('solution', solution, figs)}",
        f"\u201c{_quote('leader_quote', leader_quote, figs)}\u201d said the executive who owns "
        "the service.",
        f"\u201c{_quote('customer_quote', customer_quote, figs)}\u201d said a customer.",
    ])
    table = ("\n\n| Figure | Value |\n|---|---|\n" + "\n".join(
        f"| {figs[k].label} | {figs[k].text} |" for k in keys)) if keys else ""
    risk_text = "\n".join(f"- **{r.rstrip('.')}.** Mitigation: {m}" for r, m in risk_pairs)
    if kills:
        risk_text += "\n\n**Kill criteria.**\n\n" + "\n".join(f"- {k}" for k in kills)
    if quality is not None:
        risk_text += f"\n\n**Quality assumption.** {fill_figures('quality', quality, figs)}"
    internal = [
        _qa(BOARD_QUESTIONS["impact"], fill_figures("impact", impact, figs) + table),
        _qa(BOARD_QUESTIONS["risk"], risk_text),
        _qa(BOARD_QUESTIONS["call_to_action"],
            fill_figures("call_to_action", call_to_action, figs)),
        *(_qa(q, a) for q, a in extra),
    ]
    sections = (
        ("Press release", release),
        ("External FAQ", "\n\n".join(_qa(q, a) for q, a in ext)),
        ("Internal FAQ", "\n\n".join(internal)),
    )
    return Memo(title.strip(), strategy, sections, tuple(figs.values()), kind="prfaq")
