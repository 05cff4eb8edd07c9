"""Instant feedback: ``check(question_id, answer)`` says right or wrong, with a hint.

The expected value is computed at check time from the learner's own scenario
through the library (see :mod:`buildbuy.questions`), never stored. So a check
stays right when papermill runs the notebook with another persona or overrides.

Statuses
--------
``"correct"``
    Within the question's tolerance (numbers), the right option (choices), or
    a memo whose sections and figures pass :func:`buildbuy.memo.check_memo`.
``"incorrect"``
    With a hint that points at the method, never at the expected value.
``"not_answered"``
    The answer is still ``None`` (the placeholder of a fresh exercise). Never raises,
    so a fresh exercise runs top to bottom under papermill.
``"error"``
    The check itself could not run (no scenario given, or the library failed);
    the message says why. Never raises either.

In a Jupyter kernel each result is displayed once, with a machine-readable copy
under the MIME type :data:`RECORD_MIME` that :mod:`buildbuy.exercises` reads back
when grading. Call :func:`use_scenario` once after loading ``S`` so that
``check(id, answer)`` knows which scenario to use.

Examples
--------
>>> from buildbuy import checks, scenarios
>>> S = scenarios.load("bank_support")
>>> checks.check("ex2_recommendation", None, scenario=S).status
'not_answered'
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from buildbuy import questions as _q

__all__ = ["RECORD_MIME", "CheckResult", "check", "current_scenario", "part_rows",
           "scenario_from_ref", "scenario_ref", "summary", "use_scenario"]

#: MIME type of the JSON record each displayed check carries (read by the grader).
RECORD_MIME = "application/vnd.buildbuy.check+json"
STATUSES: tuple[str, ...] = ("correct", "incorrect", "not_answered", "error")
_ICON = {"correct": "✅", "incorrect": "❌", "not_answered": "⏳", "error": "⚠️"}

_SCENARIO: Any = None
#: Every result of this process, in order (``summary()`` reads it).
HISTORY: list[CheckResult] = []


def use_scenario(scenario: Any) -> None:
    """Remember ``scenario`` (a :class:`buildbuy.scenarios.Scenario`) for later checks."""
    from buildbuy.scenarios import Scenario

    if not isinstance(scenario, Scenario):
        raise ValueError(f"scenario={scenario!r} is invalid: must be a Scenario from "
                         "buildbuy.scenarios.load(...)")
    global _SCENARIO
    _SCENARIO = scenario


def current_scenario() -> Any:
    """The scenario set by :func:`use_scenario`, or ``None``."""
    return _SCENARIO


@dataclass(eq=False)
class CheckResult:
    """The outcome of one check: ``status`` (see module doc), ``message`` and a JSON record."""

    question_id: str
    status: str
    message: str
    answer: Any = None
    scenario: dict[str, Any] | None = None
    #: ``(part id, status, message)`` per judged part (a memo's rubric items)
    parts: tuple[tuple[str, str, str], ...] = ()
    _shown_in: int | None = field(default=None, repr=False)

    @property
    def correct(self) -> bool:
        """True when the status is ``"correct"``."""
        return self.status == "correct"

    def to_record(self) -> dict[str, Any]:
        """A JSON-safe dict: question, status, message, answer and the scenario used."""
        return {"question": self.question_id, "status": self.status, "message": self.message,
                "answer": _json_safe(self.answer), "scenario": self.scenario,
                "parts": [list(p) for p in self.parts]}

    def __str__(self) -> str:
        return f"{_ICON[self.status]} {self.question_id}: {self.message}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return f"{_ICON[self.status]} **{self.question_id}**: {self.message}"

    def _repr_html_(self) -> str:
        return (f"<p>{_ICON[self.status]} <b>{html.escape(self.question_id)}</b>: "
                f"{html.escape(self.message)}</p>")

    def bundle(self, *, with_record: bool = True) -> dict[str, Any]:
        """The display bundle: text/plain, text/html and (optionally) the JSON record."""
        data: dict[str, Any] = {"text/plain": str(self), "text/html": self._repr_html_()}
        if with_record:
            data[RECORD_MIME] = self.to_record()
        return data

    def _ipython_display_(self) -> None:
        from IPython import display, get_ipython

        ip = get_ipython()
        count = getattr(ip, "execution_count", None)
        if self._shown_in is not None and self._shown_in == count:
            return  # check() already showed it in this cell: do not show it twice
        display.display(self.bundle(with_record=False), raw=True)


def _json_safe(value: Any) -> Any:
    from buildbuy.memo import Memo

    if isinstance(value, Memo):
        return value.markdown
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()  # numpy scalar
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _emit(result: CheckResult) -> None:
    HISTORY.append(result)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return
    ip = get_ipython()
    if ip is None or not hasattr(ip, "kernel"):
        return
    from IPython import display

    display.display(result.bundle(), raw=True)
    result._shown_in = ip.execution_count


def check(question_id: str, answer: Any, *, scenario: Any = None) -> CheckResult:
    """Check ``answer`` to question ``question_id`` against the learner's scenario.

    Parameters
    ----------
    question_id : str
        An id from :data:`buildbuy.questions.QUESTIONS` (e.g. ``"p1_kv_cache_gb"``).
    answer : number, str, Memo or None
        ``None`` means not answered yet. Numbers are compared with the question's
        stated relative/absolute tolerance; choices case-insensitively.
    scenario : Scenario, optional
        Defaults to the one given to :func:`use_scenario`.

    Returns
    -------
    CheckResult
        Displayed in Jupyter; never raises for an unanswered question.

    Raises
    ------
    ValueError
        Only for an unknown ``question_id`` (a typo in the notebook, with close matches).
    """
    question = _q.get(question_id)
    s = scenario if scenario is not None else _SCENARIO
    if answer is None:
        return _finish(CheckResult(question_id, "not_answered",
                                   f"not answered yet. {question.prompt}"), s)
    if s is None:
        return _finish(CheckResult(question_id, "error",
                                   "no scenario: call checks.use_scenario(S) first, or pass "
                                   "scenario=S", answer), None)
    try:
        expected = question.expected(s)
    except Exception as exc:  # the library failed: report, never raise into the notebook
        return _finish(CheckResult(question_id, "error",
                                   f"could not compute the expected value "
                                   f"({type(exc).__name__}: {exc})", answer), s)
    status, message, parts = _judge(question, answer, expected, s)
    return _finish(CheckResult(question_id, status, message, answer, parts=parts), s)


def scenario_ref(scenario: Any) -> dict[str, Any]:
    """A compact JSON description of ``scenario``: ``{"persona": name, "overrides": {...}}``
    for a persona (only the fields that differ), else ``{"fields": {...}}`` (every field).
    :func:`scenario_from_ref` turns it back into the same scenario."""
    from buildbuy import scenarios

    values = scenario.to_dict()
    name = values.get("name")
    if name in scenarios.persona_names():
        base = scenarios.load(name).to_dict()
        diff = {k: v for k, v in values.items() if base.get(k) != v}
        return {"persona": name, "overrides": _json_safe(diff)}
    return {"fields": _json_safe(values)}


def scenario_from_ref(ref: Mapping[str, Any]) -> Any:
    """The scenario described by :func:`scenario_ref` (raises ``ValueError`` if invalid)."""
    from buildbuy import scenarios

    if not isinstance(ref, Mapping):
        raise ValueError(f"ref={ref!r} is invalid: must be a dict from checks.scenario_ref")
    if "persona" in ref:
        return scenarios.load(ref["persona"], **dict(ref.get("overrides") or {}))
    return scenarios.from_dict(ref.get("fields") or {})


def _finish(result: CheckResult, scenario: Any) -> CheckResult:
    if scenario is not None and hasattr(scenario, "to_dict"):
        try:
            result.scenario = scenario_ref(scenario)
        except Exception:  # a record without a scenario is still a result
            result.scenario = None
    _emit(result)
    return result


def part_rows(question_id: str, status: str,
              parts: tuple[tuple[str, str, str], ...] = ()) -> list[tuple[str, str, str]]:
    """One ``(part id, status, message)`` per declared part of a question.

    The parts judged (``parts``) come back as they are; when the answer could not be
    judged (not answered, or an error), every declared part takes the question's status.
    """
    q = _q.get(question_id)
    if parts:
        return list(parts)
    why = {"not_answered": "not answered yet", "error": "the check did not run"}.get(
        status, "not judged")
    return [(f"{q.id}:{p}", status if status in ("not_answered", "error") else "error", why)
            for p in q.parts]


def _judge(q: _q.Question, answer: Any, expected: Any, scenario: Any
           ) -> tuple[str, str, tuple[tuple[str, str, str], ...]]:
    if q.kind == "memo":
        return _judge_memo(q, answer, expected)
    return (*_judge_answer(q, answer, expected), ())


def _judge_memo(q: _q.Question, answer: Any, expected: Any
                ) -> tuple[str, str, tuple[tuple[str, str, str], ...]]:
    """Figures and structure (the checker) plus judgement (the rubric), each reported."""
    from buildbuy.memo import Memo

    if not isinstance(answer, (Memo, str)):
        return ("incorrect", "expected a Memo from build_memo or build_prfaq (or Markdown "
                f"text). {q.hint}", ())
    got = expected(answer) if callable(expected) else None
    if not isinstance(got, tuple) or len(got) != 2:
        return "error", "the memo checker returned nothing", ()
    report, rubric = got
    parts = tuple((f"{q.id}:{i.id}", "correct" if i.passed else "incorrect", i.feedback)
                  for i in rubric.items)
    if report.ok and rubric.ok:
        return "correct", f"well done. {report}; {rubric}", parts
    return "incorrect", f"{report}\n{rubric}\nHint: {q.hint}", parts


def _judge_answer(q: _q.Question, answer: Any, expected: Any) -> tuple[str, str]:
    if q.kind == "choice":
        if not isinstance(answer, str):
            return "incorrect", f"answer with one of {', '.join(q.choices)} (a string)."
        given = answer.strip().lower()
        options = [c.lower() for c in q.choices]
        if given not in options:
            return "incorrect", f"'{answer}' is not an option: choose one of " \
                f"{', '.join(q.choices)}."
        if given == str(expected).lower():
            return "correct", "correct."
        return "incorrect", f"not this one. Hint: {q.hint}"
    return _judge_number(q, answer, expected)


def _judge_number(q: _q.Question, answer: Any, expected: Any) -> tuple[str, str]:
    tol = q.tolerance_text()
    if expected is None:  # e.g. no payback within the horizon
        if isinstance(answer, str) and answer.strip().lower() == "never":
            return "correct", "correct: it never happens within the horizon."
        return "incorrect", f"not quite ({tol}). Hint: {q.hint}"
    if isinstance(answer, str) and answer.strip().lower() == "never":
        return "incorrect", f"it does happen within the horizon. Hint: {q.hint}"
    if isinstance(answer, bool) or not hasattr(answer, "__float__"):
        return "incorrect", f"expected a number, got {type(answer).__name__}. Hint: {q.hint}"
    x = float(answer)
    e = float(expected)
    if math.isnan(x) or math.isinf(x):
        return "incorrect", f"expected a finite number, got {x}. Hint: {q.hint}"
    if math.isclose(x, e, rel_tol=q.rel_tol, abs_tol=q.abs_tol):
        return "correct", f"correct ({tol})."
    return "incorrect", f"not quite ({tol}). {_scale_hint(x, e)}Hint: {q.hint}"


def _scale_hint(x: float, e: float) -> str:
    """A units nudge when the answer is off by a clean power of 1000 (or sign)."""
    if e != 0 and x != 0:
        if math.isclose(x, -e, rel_tol=0.02):
            return "Check the sign. "
        ratio = abs(x / e)
        for power in (1e3, 1e6, 1e9):
            if math.isclose(ratio, power, rel_tol=0.02) or math.isclose(ratio, 1 / power,
                                                                        rel_tol=0.02):
                return "Off by a power of 1000: check the units (k, M, G). "
        if math.isclose(ratio, 100, rel_tol=0.02) or math.isclose(ratio, 0.01, rel_tol=0.02):
            return "Off by 100: a share is a fraction (0.35), not a percent (35). "
    return ""


def summary(results: list[CheckResult] | None = None) -> Mapping[str, int]:
    """Count results by status (default: every check run in this process)."""
    rows = HISTORY if results is None else results
    counts = dict.fromkeys(STATUSES, 0)
    latest = {r.question_id: r for r in rows}
    for r in latest.values():
        counts[r.status] += 1
    return counts
