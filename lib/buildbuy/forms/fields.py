"""One form field per question kind: a number box, a menu of options, or a memo's text areas.

Every field follows one small interface, so the form treats all kinds alike:

- ``question`` (a :class:`buildbuy.questions.Question`) and ``box`` (the widget shown);
- ``check_button`` (checks this field alone) and ``status`` (the last check, in words);
- ``stored()``: what the answers file keeps (JSON; ``None`` = blank), and
  ``restore(value)``, its inverse;
- ``answer()``: what :func:`buildbuy.checks.check` receives; a ``ValueError`` (the
  library's message, naming the field) when the input cannot be read.

:func:`make_field` picks the class from ``question.kind``, so a new question gets
its field without any change here; an unknown kind raises.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

import ipywidgets as w

from buildbuy._validate import bad
from buildbuy.forms import glossary, inputs, whatif
from buildbuy.forms.parse import format_number, parse_number

__all__ = ["ChoiceField", "Field", "MemoField", "NumberField", "make_field", "prompt_html"]

_WIDE = w.Layout(width="100%")
#: The first entry of every menu: nothing chosen yet.
CHOOSE = "(choose one)"
_S_FIELD = re.compile(r"`S\.(\w+)`")
_CODE = re.compile(r"`([^`]+)`")


def _value_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def prompt_html(prompt: str, scenario: Any) -> str:
    """A question's prompt as HTML, with every `` `S.field` `` replaced by its value.

    Examples
    --------
    >>> from buildbuy import scenarios
    >>> S = scenarios.load("bank_support")
    >>> prompt_html("At `S.horizon_months` months, with `tps.decode`?", S)
    'At <b>36</b> months, with <code>tps.decode</code>?'
    """
    text = html.escape(prompt, quote=False)

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if not hasattr(scenario, name):
            return f"<code>S.{name}</code>"
        return f"<b>{html.escape(_value_text(getattr(scenario, name)))}</b>"

    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", _S_FIELD.sub(value, text))


class Field:
    """The parts every field shares: the prompt, the Check button and the status line."""

    kind = ""

    def __init__(self, question: Any, scenario: Any) -> None:
        self.question = question
        self.scenario = scenario
        self.check_button = w.Button(description="Check", button_style="info",
                                     tooltip=f"check {question.id}",
                                     layout=w.Layout(width="90px"))
        self.status = w.HTML(layout=w.Layout(min_height="1.4em"))
        self.header = w.HTML(
            f"<div class='buildbuy-prompt'><b>{html.escape(question.id)}</b>: "
            f"{prompt_html(question.prompt, scenario)}</div>")
        self.box = w.VBox(layout=w.Layout(border="1px solid #ddd", padding="6px",
                                          margin="4px 0", width="100%"))
        self.box.add_class("buildbuy-field")
        self.box.add_class(f"buildbuy-field-{question.id}")

    def facts_widget(self) -> w.Accordion | None:
        """"What you need": the question's facts (:mod:`buildbuy.forms.inputs`), folded.

        Computed when first opened, so a form opens fast; ``None`` when the question
        lists no facts. A question that is a search (:mod:`buildbuy.forms.whatif`) shows
        its tool instead: ``self.tool``, built on first open."""
        qid = self.question.id
        if qid in whatif.TOOLS:
            holder = w.VBox(layout=_WIDE)
            self.facts = w.Accordion(children=[holder], titles=(whatif.TITLES[qid],),
                                     selected_index=None, layout=_WIDE)

            def build(change: Mapping[str, Any]) -> None:
                if change["new"] is not None and not holder.children:
                    self.tool = whatif.TOOLS[qid](self.scenario)
                    holder.children = (self.tool.box,)

            self.facts.observe(build, names="selected_index")
            return self.facts
        if qid not in inputs.INPUTS:
            return None
        body = w.HTML(layout=_WIDE)
        title = inputs.TITLES.get(self.question.id, "What you need")
        self.facts = w.Accordion(children=[body], titles=(title,),
                                 selected_index=None, layout=_WIDE)

        def fill(change: Mapping[str, Any]) -> None:
            if change["new"] is not None and (not body.value
                                              or body.value.startswith("<i>Not available")):
                body.value = "<i>Working them out...</i>"
                try:
                    body.value = inputs.facts_html(self.question.id, self.scenario) or ""
                except Exception as exc:  # the library (or the lab) failed: say so, never raise
                    body.value = (f"<i>Not available: {html.escape(type(exc).__name__)}: "
                                  f"{html.escape(str(exc))}</i>")

        self.facts.observe(fill, names="selected_index")
        return self.facts

    def stored(self) -> Any:
        """The JSON value the answers file keeps for this field (``None`` = blank)."""
        raise NotImplementedError

    def restore(self, value: Any) -> None:
        """Show a stored value in the field's widgets."""
        raise NotImplementedError

    def answer(self) -> Any:
        """What :func:`buildbuy.checks.check` receives (``None`` = not answered)."""
        raise NotImplementedError

    def show(self, text: str, status: str) -> None:
        """Write ``text`` (plain) as the status line, styled by the check ``status``."""
        colour = {"correct": "#1a7f37", "incorrect": "#b3261e", "error": "#9a6700"}.get(
            status, "#555")
        self.status.value = (f"<span class='buildbuy-status buildbuy-{status}' "
                             f"style='color:{colour}'>{html.escape(text, quote=False)}</span>")


def _help(text: str) -> w.HTML:
    return w.HTML(f"<div style='font-size:90%;color:#444;line-height:1.35'>{text}</div>",
                  layout=_WIDE)


class NumberField(Field):
    """A text box for a number, with the question's unit and tolerance beside it.

    A text box rather than a spinner: it takes ``7.71M``, ``$7,710,000`` or ``never``
    (see :func:`buildbuy.forms.parse.parse_number`).
    """

    kind = "numeric"

    def __init__(self, question: Any, scenario: Any) -> None:
        super().__init__(question, scenario)
        q = question
        self.input = w.Text(placeholder="a number, e.g. 1.5M or 1,500,000 (or never)",
                            layout=w.Layout(width="320px"))
        self.input.add_class("buildbuy-input")
        unit = w.HTML(f"<span style='padding:0 8px'>{html.escape(q.unit)}</span>")
        tol = _help(f"Checked {html.escape(q.tolerance_text())}.")
        parts: list[w.Widget] = [self.header]
        rule = glossary.rule_text(q, scenario)
        if rule:
            parts.append(_help(rule))
        parts += [f for f in [self.facts_widget()] if f is not None]
        parts += [w.HBox([self.input, unit, self.check_button]), tol, self.status]
        self.box.children = parts

    def stored(self) -> Any:
        text = self.input.value.strip()
        if not text:
            return None
        try:
            return parse_number(text, unit=self.question.unit, name=self.question.id)
        except ValueError:
            return text  # kept as typed: the learner sees it again, the check says why

    def restore(self, value: Any) -> None:
        self.input.value = format_number(value) if not isinstance(value, str) else value

    def answer(self) -> Any:
        return parse_number(self.input.value, unit=self.question.unit, name=self.question.id)


class ChoiceField(Field):
    """A menu of the question's options, each defined in one line, and the rule behind it."""

    kind = "choice"

    def __init__(self, question: Any, scenario: Any) -> None:
        super().__init__(question, scenario)
        q = question
        # "" stands for "not chosen": a None option shows as a blank menu in the browser
        self.input = w.Dropdown(options=[(CHOOSE, "")] + [
            (c.replace("_", " "), c) for c in q.choices], value="",
            layout=w.Layout(width="320px"))
        self.input.add_class("buildbuy-input")
        items = "".join(f"<li><b>{html.escape(c.replace('_', ' '))}</b>: "
                        f"{html.escape(glossary.meaning(c))}</li>" for c in q.choices)
        parts: list[w.Widget] = [self.header,
                                 _help(f"<ul style='margin:2px 0 2px 18px;padding:0'>{items}"
                                       "</ul>")]
        rule = glossary.rule_text(q, scenario)
        if rule:
            parts.append(_help(rule))
        parts += [f for f in [self.facts_widget()] if f is not None]
        parts += [w.HBox([self.input, self.check_button]), self.status]
        self.box.children = parts

    def stored(self) -> Any:
        return self.input.value or None

    def restore(self, value: Any) -> None:
        if value in self.question.choices:
            self.input.value = value

    def answer(self) -> Any:
        return self.input.value or None


#: Empty risk rows offered by the memo form (blank rows are ignored).
RISK_ROWS = 4
#: kill-criteria rows of the memo form (the rubric asks for the widest drivers)
KILL_ROWS = 3
_QUOTED = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class MemoField(Field):
    """The memo as a form: one text area per section, the strategy menu, risk rows.

    The model's figures are listed with the key to type between braces
    (``{tco_a_usd}``); the memo is built with :func:`buildbuy.memo.build_memo`, its
    table holds the figures the text quotes, and the check is
    :func:`buildbuy.memo.check_memo`, as in the code track.
    """

    kind = "memo"

    def __init__(self, question: Any, scenario: Any) -> None:
        from buildbuy import memo
        from buildbuy.memo.builder import STRATEGIES

        super().__init__(question, scenario)
        self.figures = memo.memo_figures(scenario)

        def area(label: str, rows: int = 3) -> w.Textarea:
            box = w.Textarea(placeholder=label, rows=rows, layout=_WIDE)
            box.add_class("buildbuy-input")
            return box

        self.title = w.Text(placeholder="Title", layout=_WIDE)
        self.problem = area("Business problem: what hurts, for whom, in numbers")
        self._strategies = tuple(STRATEGIES)
        self.strategy = w.Dropdown(options=[(CHOOSE, "")] + [
            (s, s) for s in STRATEGIES], value="", layout=w.Layout(width="320px"))
        self.rationale = {key: area(f"Rationale, {label}", 2)
                          for key, label in memo.RATIONALE_LABELS.items()}
        self.impact = area("Financial impact: your reading of the figures (the table is added "
                           "for you)")
        self.risks = [(w.Text(placeholder=f"Risk {i + 1}", layout=w.Layout(width="48%")),
                       w.Text(placeholder="its mitigation", layout=w.Layout(width="48%")))
                      for i in range(RISK_ROWS)]
        self.kill = [w.Text(placeholder=f"Kill criterion {i + 1}: stop or switch if <driver> "
                            "passes <value>", layout=_WIDE) for i in range(KILL_ROWS)]
        self.quality = area("Quality assumption: how good the self-hosted model is against "
                            "the API's, and how you know", 2)
        self.call_to_action = area("Call to action: what the board approves, the amount, by "
                                   "when (a date)")
        self.preview = w.HTML(layout=_WIDE)
        rows = "".join(f"<tr><td><code>{{{html.escape(f.key)}}}</code></td>"
                       f"<td>{html.escape(f.label)}</td><td>{html.escape(f.text)}</td></tr>"
                       for f in self.figures.values())
        figures = _help("Quote the model's figures by typing their key between braces: the memo "
                        "writes the value, rounded for a board, and lists them in its table."
                        "<table style='margin-top:4px'><tr><th>type</th><th>figure</th>"
                        f"<th>value</th></tr>{rows}</table>")
        items = "".join(f"<li><b>{s}</b>: {html.escape(glossary.meaning(s))}</li>"
                        for s in STRATEGIES)
        strategy_help = _help(f"<ul style='margin:2px 0 2px 18px;padding:0'>{items}</ul>"
                              "Your strategy may differ from the model's if you defend it.")
        label = w.HTML
        self.box.children = [
            self.header, figures, self.title, self.problem,
            label("<b>Recommendation</b>"), self.strategy, strategy_help,
            *self.rationale.values(), self.impact,
            label("<b>Risks and mitigations</b> (one per row)"),
            *[w.HBox(list(pair), layout=_WIDE) for pair in self.risks],
            label("<b>Kill criteria</b> (one per widest tornado driver: the value at which "
                  "you would stop or switch)"), *self.kill, self.quality,
            self.call_to_action, w.HBox([self.check_button]), self.status, self.preview]

    def _fields(self) -> dict[str, Any]:
        return {
            "title": self.title.value, "problem": self.problem.value,
            "strategy": self.strategy.value or None,
            "rationale": {k: a.value for k, a in self.rationale.items()},
            "impact": self.impact.value,
            "risks": [[r.value, m.value] for r, m in self.risks
                      if r.value.strip() or m.value.strip()],
            "call_to_action": self.call_to_action.value,
            "kill_criteria": [k.value for k in self.kill if k.value.strip()],
            "quality": self.quality.value,
        }

    def stored(self) -> Any:
        fields = self._fields()
        texts = [fields["title"], fields["problem"], fields["impact"],
                 fields["call_to_action"], *fields["rationale"].values(),
                 *(t for pair in fields["risks"] for t in pair), *fields["kill_criteria"],
                 fields["quality"]]
        if fields["strategy"] is None and not any(t.strip() for t in texts):
            return None
        return fields

    def restore(self, value: Any) -> None:
        if not isinstance(value, Mapping):
            return
        self.title.value = str(value.get("title") or "")
        self.problem.value = str(value.get("problem") or "")
        if value.get("strategy") in self._strategies:
            self.strategy.value = value["strategy"]
        rationale = value.get("rationale") if isinstance(value.get("rationale"), Mapping) else {}
        for key, box in self.rationale.items():
            box.value = str(rationale.get(key) or "")
        self.impact.value = str(value.get("impact") or "")
        risks = value.get("risks") if isinstance(value.get("risks"), list) else []
        for (r, m), pair in zip(self.risks, [*risks, *[["", ""]] * RISK_ROWS], strict=False):
            ok = isinstance(pair, (list, tuple)) and len(pair) == 2
            r.value, m.value = (str(pair[0]), str(pair[1])) if ok else ("", "")
        self.call_to_action.value = str(value.get("call_to_action") or "")
        kill = value.get("kill_criteria") if isinstance(value.get("kill_criteria"), list) else []
        for box, text in zip(self.kill, [*kill, *[""] * KILL_ROWS], strict=False):
            box.value = str(text)
        self.quality.value = str(value.get("quality") or "")

    def answer(self) -> Any:
        from buildbuy import memo

        fields = self.stored()
        if fields is None:
            return None
        if fields["strategy"] is None:
            raise bad("strategy", None, f"one of {', '.join(self._strategies)}: choose one in "
                      "the menu")
        quoted = []  # the table: the figures the text quotes, in reading order
        for text in [fields["title"], fields["problem"], *fields["rationale"].values(),
                     fields["impact"], *(t for pair in fields["risks"] for t in pair),
                     *fields["kill_criteria"], fields["quality"], fields["call_to_action"]]:
            quoted += [k for k in _QUOTED.findall(text) if k in self.figures and k not in quoted]
        built = memo.build_memo(
            title=fields["title"], problem=fields["problem"], strategy=fields["strategy"],
            rationale=fields["rationale"], impact=fields["impact"],
            risks=[tuple(p) for p in fields["risks"]], call_to_action=fields["call_to_action"],
            figures=self.figures, table_keys=quoted,
            kill_criteria=fields["kill_criteria"], quality=fields["quality"].strip() or None)
        self.preview.value = built.html
        return built


_KINDS: dict[str, type[Field]] = {"numeric": NumberField, "choice": ChoiceField,
                                  "memo": MemoField}


def make_field(question: Any, scenario: Any) -> Field:
    """The field for ``question`` (by its ``kind``); an unknown kind raises ``ValueError``."""
    cls = _KINDS.get(question.kind)
    if cls is None:
        raise bad(f"{question.id}.kind", question.kind,
                  f"a kind the forms know: {', '.join(_KINDS)}")
    return cls(question, scenario)
