"""The one-page investment memo for the board, and a checker for its numbers.

A memo is five sections, in this order (:data:`REQUIRED_SECTIONS`):

1. **Business problem**: what hurts, for whom, in numbers.
2. **Recommendation**: build, buy, hybrid or neither, with the rationale under three labels:
   **TCO**, **IP** and **Time to market** (:data:`RATIONALE_LABELS`).
3. **Financial impact**: a table of the model's figures plus the learner's reading of them.
4. **Risks and mitigations**: one line per risk, each with its mitigation.
5. **Call to action**: what the board is asked to approve, by when.

:func:`build_memo` turns the learner's text fields and the model's figures into
Markdown (and HTML). A text field may quote a figure as ``{key}``: the builder
writes the figure's value there, rounded for a board (``$1.23M``, ``14.2 months``,
``35.0%``). :func:`check_memo` reads a memo back (built here or typed by hand)
and reports missing sections and every quoted number that does not match a model
figure.

Convention for "matches within rounding": a quoted number matches a figure when
the figure, rounded to the digits shown, gives the quoted number. ``$1.2M``
matches any value in [1.15M, 1.25M]; ``14 months`` matches [13.5, 14.5]. Signs
are carried by the words ("saves $200k"), so magnitudes are compared.

A PR/FAQ (:func:`build_prfaq`, Amazon's working-backwards form: press release, external
and internal FAQ) covers the same five parts and reads back the same way. Beyond the
arithmetic, :func:`judge` applies a deterministic rubric (recommendation agrees with the
record, kill criteria for the widest drivers, quality assumption, the ask with its date,
length).

The figures are the decision record's (:class:`buildbuy.decision.Figure`, one formatter:
:func:`buildbuy.decision.format_value`) plus the board's (:func:`board_facts`: the amount
asked, the headcount of the recommendation, the kill thresholds of the widest drivers);
:func:`memo_figures` returns them all. Modules: :mod:`~buildbuy.memo.builder` (the memo),
:mod:`~buildbuy.memo.prfaq` (the PR/FAQ), :mod:`~buildbuy.memo.checker` (reading either
back), :mod:`~buildbuy.memo.facts` and :mod:`~buildbuy.memo.kill` (the board's figures),
:mod:`~buildbuy.memo.rubric` (judgement) and :mod:`~buildbuy.memo.draft` (first drafts).

Examples
--------
>>> from buildbuy.memo import Figure, build_memo, check_memo
>>> figs = [Figure("tco_a_usd", "3-year TCO, API", 1_234_567, "usd")]
>>> m = build_memo(title="Support bot", problem="Tickets cost us.", strategy="buy",
...     rationale={"tco": "API costs {tco_a_usd}.", "ip": "No moat.",
...                "time_to_market": "Weeks."}, impact="Cheap enough.",
...     risks=[("Price rises", "Two vendors")], call_to_action="Approve.", figures=figs)
>>> check_memo(m, figs).ok
True
"""

from typing import Any

from buildbuy.decision.figures import UNITS, Figure, format_value
from buildbuy.memo.builder import (
    KINDS,
    MAX_WORDS,
    RATIONALE_LABELS,
    REQUIRED_SECTIONS,
    STRATEGIES,
    Memo,
    build_memo,
)
from buildbuy.memo.checker import MemoCheck, Quoted, check_memo, nearest_figure, quoted_numbers
from buildbuy.memo.draft import draft_fields, draft_memo, draft_prfaq, long_date
from buildbuy.memo.facts import CONSTRAINT_KEY, GAP_KEYS, BoardFacts, board_facts
from buildbuy.memo.kill import KillCriterion, flip_point
from buildbuy.memo.prfaq import PRFAQ_SECTIONS, build_prfaq
from buildbuy.memo.rubric import Rubric, RubricItem, judge


def memo_figures(scenario: Any) -> dict[str, Figure]:
    """Every figure a memo may quote for ``scenario``: the decision record's registry
    (``decide(scenario).figures``) plus the board's figures of :func:`board_facts`."""
    return board_facts(scenario).figures


__all__ = [
    "CONSTRAINT_KEY",
    "GAP_KEYS",
    "KINDS",
    "MAX_WORDS",
    "PRFAQ_SECTIONS",
    "RATIONALE_LABELS",
    "REQUIRED_SECTIONS",
    "STRATEGIES",
    "UNITS",
    "BoardFacts",
    "Figure",
    "KillCriterion",
    "Memo",
    "MemoCheck",
    "Quoted",
    "Rubric",
    "RubricItem",
    "board_facts",
    "build_memo",
    "build_prfaq",
    "check_memo",
    "draft_fields",
    "draft_memo",
    "draft_prfaq",
    "flip_point",
    "format_value",
    "judge",
    "long_date",
    "memo_figures",
    "nearest_figure",
    "quoted_numbers",
]
