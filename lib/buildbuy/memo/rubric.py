"""Judgement, not arithmetic: a deterministic rubric for a memo or a PR/FAQ.

The checker (:func:`buildbuy.memo.check_memo`) proves that every number is the model's.
:func:`judge` asks what a board would ask, with five items (:data:`ITEMS`):

``recommendation``
    The text recommends what the decision record recommends, ``"neither"`` included.
``kill_criteria``
    For each of the :data:`KILL_DRIVERS` widest tornado drivers, one sentence names the
    driver, a trigger (stop, exit, switch, revisit ...), a condition (if, when, above,
    below ...) and a number.
``quality``
    One sentence states the quality assumption: how good the self-hosted model is
    against the API's, as a share ("92% of the API's quality") or as parity ("the same
    quality"). A bare label such as "Quality assumption." does not count, nor does a kill
    criterion on quality (a sentence with a trigger).
``ask``
    The call to action names an amount the record holds (the first-year budget or the
    capex; for "neither", $0 or "no funding") and the decision date of the scenario.
``length``
    Between :data:`MIN_WORDS` words and the one-page limit.

Each item passes or fails with one line of feedback. The feedback says what is missing
and where to look; it never supplies the sentence, the threshold or the amount, so it
never writes the memo for the learner.

How text is read: sentences are split at full stops and line breaks; a driver is named
when the sentence contains one of its words (:data:`DRIVER_WORDS`, else the words of its
tornado label); all matching is case-insensitive.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any

from buildbuy.memo.builder import MAX_WORDS, Memo, stated_strategy, word_count
from buildbuy.memo.checker import nearest_figure, quoted_numbers

__all__ = ["ASK_KEYS", "DRIVER_WORDS", "ITEMS", "KILL_DRIVERS", "MIN_WORDS", "Rubric",
           "RubricItem", "judge", "stated_strategy"]

#: The rubric's items, in order.
ITEMS: tuple[str, ...] = ("recommendation", "kill_criteria", "quality", "ask", "length")
#: How many of the widest drivers need a kill criterion.
KILL_DRIVERS: int = 2
#: Fewer words than this cannot cover the five parts.
MIN_WORDS: int = 150
#: Record figures an ask may quote.
ASK_KEYS: tuple[str, ...] = ("ask_usd", "capex_year_1_usd", "capex_usd")

#: Words that name a driver in a sentence (regular expressions, lower case).
DRIVER_WORDS: dict[str, str] = {
    "monthly_tokens": r"volume|demand|traffic|usage|tokens? (?:a|per) month",
    "annual_growth": r"growth|grow",
    "api_price_decline": r"api price|price (?:decline|cut|drop|fall)|prices? (?:fall|drop|decline)",
    "api_price_scale": r"api (?:list )?price|vendor price|token price|price per token",
    "peak_to_average": r"peak|utili[sz]ation",
    "staff_fte_a_scale": r"staff|headcount|team|engineer|fte|people|hiring",
    "staff_fte_b_scale": r"staff|headcount|team|engineer|fte|people|hiring",
    "discount_rate": r"discount rate|wacc|cost of capital",
    "opportunity_usd_per_month": r"value|benefit",
    "value_usd_per_request": r"value|benefit",
    "months_to_production": r"go-live|go live|production|launch|delay|late",
    "months_to_production_a": r"go-live|go live|production|launch|delay|late",
    "server_usd": r"server|hardware",
    "electricity_usd_per_kwh": r"electricity|power|energy",
    "pue": r"pue|cooling",
    "residual_value_share": r"resale|residual",
    "gpu_price_scale": r"gpu (?:rental )?price|gpu rent|gpu cost|rental",
    "licence_usd_per_gpu_year": r"licen[cs]e",
    "quality_b_vs_a": r"quality|accuracy",
    "api_discount": r"api discount|negotiated|discount off|off (?:the )?list|list price",
    "target_utilisation": r"utili[sz]ation|headroom",
    "resale_decline_per_year": r"resale|residual|second-hand|used gpu",
    "maintenance_share_per_year": r"maintenance|support contract|hardware support",
}
_TRIGGER = (r"\b(?:stop|kill|halt|exit|pause|abandon|cancel|switch|revert|revisit|review|"
            r"reconsider|wind down|walk away|fall back|move back|return to)")
_CONDITION = (r"\b(?:if|when|once|unless|above|below|beyond|over|under|exceeds?|passes|"
              r"falls?|drops?|rises?|reaches?|more than|less than|at least|at most)\b")
_QUALITY = r"\b(?:quality|accuracy|as good as|parity|task success|eval)"
_QUALITY_STATED = r"\b(?:equal|same|parity|matches|as good)"
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_STOP = {"with", "from", "that", "this", "year", "first", "month", "value", "self", "host"}


@dataclasses.dataclass(frozen=True)
class RubricItem:
    """One rubric item: its id, whether it passed, and one line of feedback."""

    id: str
    passed: bool
    feedback: str

    def __str__(self) -> str:
        return f"{'pass' if self.passed else 'FAIL'} {self.id}: {self.feedback}"


@dataclasses.dataclass(frozen=True)
class Rubric:
    """The five items of :func:`judge`, in :data:`ITEMS` order."""

    items: tuple[RubricItem, ...]

    @property
    def ok(self) -> bool:
        """True when every item passes."""
        return all(i.passed for i in self.items)

    @property
    def passed(self) -> int:
        """Number of items that pass."""
        return sum(i.passed for i in self.items)

    def item(self, item_id: str) -> RubricItem:
        """The item ``item_id`` (one of :data:`ITEMS`)."""
        return next(i for i in self.items if i.id == item_id)

    def __str__(self) -> str:
        return (f"judgement {self.passed}/{len(self.items)}:\n"
                + "\n".join(f"- {i}" for i in self.items))

    def _repr_markdown_(self) -> str:
        return str(self)


# --- reading ------------------------------------------------------------------------------

def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [p.strip(" -*|") for p in parts if p.strip(" -*|")]


def _section(markdown: str, *headings: str) -> str:
    """The text under the first ``##`` heading in ``headings`` (empty if absent)."""
    blocks = re.split(r"^#{1,6}\s+", markdown, flags=re.MULTILINE)
    for want in headings:
        for block in blocks:
            head, _, body = block.partition("\n")
            if head.strip().rstrip(":").lower() == want.lower():
                return body
    return ""


def _names_driver(sentence: str, driver: str, label: str) -> bool:
    s = sentence.lower()
    pattern = DRIVER_WORDS.get(driver)
    if pattern is None:
        words = [w for w in re.findall(r"[a-z]{4,}", label.lower()) if w not in _STOP]
        pattern = "|".join(re.escape(w) for w in words) or re.escape(driver)
    return re.search(pattern, s) is not None


def _kill_sentence(sentence: str, driver: str, label: str) -> bool:
    s = sentence.lower()
    return (_names_driver(sentence, driver, label) and re.search(_TRIGGER, s) is not None
            and re.search(_CONDITION, s) is not None and bool(quoted_numbers(sentence)))


def _dates(text: str) -> list[datetime.date]:
    found = []
    for y, m, d in re.findall(r"\b(\d{4})-(\d{2})-(\d{2})\b", text):
        found.append((int(y), int(m), int(d)))
    months = "|".join(_MONTHS)
    for d, mon, y in re.findall(rf"\b(\d{{1,2}})\s+({months})\s+(\d{{4}})\b", text, re.I):
        found.append((int(y), _MONTHS.index(mon.lower()) + 1, int(d)))
    for mon, d, y in re.findall(rf"\b({months})\s+(\d{{1,2}}),?\s+(\d{{4}})\b", text, re.I):
        found.append((int(y), _MONTHS.index(mon.lower()) + 1, int(d)))
    out = []
    for y, m, d in found:
        try:
            out.append(datetime.date(y, m, d))
        except ValueError:
            continue
    return out


# --- judging ------------------------------------------------------------------------------

def _recommendation(text: str, model: str) -> RubricItem:
    said = stated_strategy(_section(text, "Recommendation", "Press release") or text)
    if said is None:
        return RubricItem("recommendation", False, "no recommendation found: state one of "
                          "build, buy, hybrid or neither, in bold or as 'we recommend ...'")
    if said != model:
        return RubricItem("recommendation", False,
                          f"the text recommends '{said}' but the decision record "
                          f"recommends '{model}': go back to the record's reasons")
    return RubricItem("recommendation", True, f"recommends '{said}', as the record does")


def _kill(text: str, facts: Any) -> RubricItem:
    sentences = _sentences(text)
    top = facts.kill_criteria[:KILL_DRIVERS]
    if not top:
        return RubricItem("kill_criteria", True, "the record has no tornado (self-hosting "
                          "is not feasible): no driver needs a kill criterion")
    missing = [k.label for k in top
               if not any(_kill_sentence(s, k.driver, k.label) for s in sentences)]
    if missing:
        return RubricItem("kill_criteria", False,
                          "no kill criterion for " + " and ".join(f"'{m}'" for m in missing)
                          + f" (among the {len(top)} widest tornado drivers): say in one "
                          "sentence when you would stop or switch, with the number")
    return RubricItem("kill_criteria", True, "a kill criterion for each of the "
                      f"{len(top)} widest drivers: " + ", ".join(k.label for k in top))


def _quality(text: str) -> RubricItem:
    for s in _sentences(text):
        low = s.lower()
        if re.search(_TRIGGER, low):  # a kill criterion on quality is not the assumption
            continue
        if re.search(_QUALITY, low) and (re.search(_QUALITY_STATED, low)
                                         or any(q.unit == "share" for q in quoted_numbers(s))):
            return RubricItem("quality", True, "states the quality assumption")
    return RubricItem("quality", False, "no quality assumption found: say how good the "
                      "self-hosted model is against the API's, and on what evidence")


def _ask(text: str, facts: Any, kind: str) -> RubricItem:
    cta = (_section(text, "Call to action") if kind == "memo"
           else _section(text, "Internal FAQ")) or text
    if kind == "prfaq":  # the answer to the board's call-to-action question
        m = re.search(r"decide, and by when\?\*\*(.*?)(?:\n\*\*Q\.|\Z)", cta, re.S)
        cta = m.group(1) if m else cta
    amounts = [q for q in quoted_numbers(cta) if q.unit == "usd"]
    asks = {k: facts.figures[k] for k in ASK_KEYS if k in facts.figures}
    named = [q for q in amounts if (f := nearest_figure(q, asks)) is not None
             and abs(abs(float(f.value)) - q.value) <= q.half_step * (1 + 1e-9) + 1e-12]
    nothing = facts.recommendation == "neither" and re.search(
        r"\bno (?:budget|funding|spend|money|investment)\b", cta, re.I)
    problems = []
    if not named and not nothing:
        problems.append("no amount the record holds (the first-year budget or the capex)"
                        if amounts else "no amount")
    want = datetime.date.fromisoformat(str(facts.scenario.decision_date))
    dates = _dates(cta)
    if not dates:
        problems.append("no decision date")
    elif want not in dates:
        problems.append("a date, but not the scenario's decision date (decision_date)")
    if problems:
        return RubricItem("ask", False, "the call to action has " + " and ".join(problems))
    return RubricItem("ask", True, "names the amount and the decision date")


def _length(words: int, max_words: int) -> RubricItem:
    if words < MIN_WORDS:
        return RubricItem("length", False, f"{words} words: too short to cover the five "
                          f"parts (at least {MIN_WORDS})")
    if words > max_words:
        return RubricItem("length", False, f"{words} words: more than one page "
                          f"(at most {max_words})")
    return RubricItem("length", True, f"{words} words, within {MIN_WORDS}-{max_words}")


def judge(memo: Memo | str, facts: Any) -> Rubric:
    """Judge a memo or PR/FAQ against the decision record: the five :data:`ITEMS`.

    Parameters
    ----------
    memo : Memo or str
        Built with :func:`~buildbuy.memo.build_memo` / :func:`~buildbuy.memo.build_prfaq`
        or typed as Markdown (``##`` section headings).
    facts : BoardFacts
        :func:`buildbuy.memo.board_facts` of the learner's scenario.

    Returns
    -------
    Rubric

    Examples
    --------
    >>> from buildbuy.memo import board_facts, draft_memo
    >>> judge(draft_memo("bank_support"), board_facts("bank_support")).ok
    True
    """
    from buildbuy.memo.prfaq import PRFAQ_MAX_WORDS

    if isinstance(memo, Memo):
        text, kind = memo.markdown, memo.kind
    elif isinstance(memo, str):
        text = memo
        kind = "prfaq" if re.search(r"^#{1,6}\s+press release", memo, re.I | re.M) else "memo"
    else:
        from buildbuy._validate import bad

        raise bad("memo", memo, "a Memo or a Markdown string")
    limit = PRFAQ_MAX_WORDS if kind == "prfaq" else MAX_WORDS
    return Rubric((
        _recommendation(text, facts.recommendation),
        _kill(text, facts),
        _quality(text),
        _ask(text, facts, kind),
        _length(word_count(text), limit),
    ))
