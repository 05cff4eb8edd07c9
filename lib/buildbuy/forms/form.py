"""The exercise form: every question of one exercise as a field, checked and saved on demand.

See :mod:`buildbuy.forms` for the overview and :func:`buildbuy.forms.exercise_form`
for the entry point.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ipywidgets as w

from buildbuy import checks, questions
from buildbuy._validate import bad
from buildbuy.forms import answers as store
from buildbuy.forms.fields import Field, make_field

__all__ = ["ExerciseForm", "exercise_title"]


def exercise_title(exercise: str) -> str:
    """``"01_bottleneck_audit"`` -> ``"Exercise 1: bottleneck audit"``.

    Examples
    --------
    >>> exercise_title("03_investment_memo")
    'Exercise 3: investment memo'
    """
    number, _, name = exercise.partition("_")
    return f"Exercise {int(number)}: {name.replace('_', ' ')}"


def _group(question_id: str) -> str:
    """Steps of the exercise (``exN_*``) or practice questions of a lesson (``pN_*``)."""
    head = question_id.split("_", 1)[0]
    if head.startswith("p") and head[1:].isdigit():
        return f"Practice (lesson {head[1:]})"
    return "Steps"


class ExerciseForm:
    """Every question of one exercise as a form field (see :func:`exercise_form`).

    Attributes
    ----------
    exercise : str
        The exercise stem, e.g. ``"01_bottleneck_audit"``.
    scenario : Scenario
        The learner's scenario; every check uses it.
    fields : dict
        Question id -> :class:`buildbuy.forms.fields.Field`, in the exercise's order.
    results : dict
        Question id -> the last :class:`buildbuy.checks.CheckResult`.
    learner : ipywidgets.Text or None
        The learner-id box (workshop room only).
    message : ipywidgets.HTML
        Where the answers were saved, or why they were not.
    """

    def __init__(self, exercise: str, scenario: Any, *, folder: str | Path | None = None,
                 answers_dir: str | Path | None = None, learner: str | None = None) -> None:
        from buildbuy import scenarios

        self.exercise = exercise
        self.scenario = scenarios.load(scenario) if isinstance(scenario, str) else scenario
        # the exercise's steps first, then the practice questions, as in the notebook
        self.questions = sorted(questions.for_exercise(exercise),
                                key=lambda q: _group(q.id) != "Steps")
        self.fields: dict[str, Field] = {q.id: make_field(q, self.scenario)
                                         for q in self.questions}
        self.results: dict[str, checks.CheckResult] = {}
        self.answers_dir = Path(answers_dir).resolve() if answers_dir else None
        self.folder = None if self.answers_dir else Path(folder or Path.cwd()).resolve()
        self.message = w.HTML()
        self._sink = w.Output(layout=w.Layout(display="none"))
        self.check_all_button = w.Button(description="Check all and save",
                                         button_style="primary", icon="check",
                                         layout=w.Layout(width="200px"))
        self.check_all_button.on_click(lambda _b: self._in_callback(self.submit))
        for qid, field in self.fields.items():
            field.check_button.on_click(
                lambda _b, qid=qid: self._in_callback(lambda: self.submit([qid])))
        self.learner: w.Text | None = None
        if self.answers_dir is not None:
            self.learner = w.Text(placeholder="your name or the id your instructor gave you",
                                  description="Learner id", continuous_update=False,
                                  style={"description_width": "initial"},
                                  layout=w.Layout(width="460px"))
            self.learner.add_class("buildbuy-learner")
            self.learner.observe(lambda _c: self._in_callback(self._load), names="value")
            if learner:
                self.learner.value = learner  # loads that learner's answers
        else:
            self._load()

    # --- where answers live ----------------------------------------------------------

    @property
    def learner_id(self) -> str | None:
        """The learner id typed in a workshop room (stripped), else ``None``."""
        if self.learner is None or not self.learner.value.strip():
            return None
        return self.learner.value.strip()

    @property
    def sidecar(self) -> Path | None:
        """The answers file this form reads and writes (``None``: room, no learner id yet)."""
        if self.answers_dir is None:
            assert self.folder is not None
            return store.sidecar_path(self.folder, self.exercise)
        lid = self.learner_id
        if lid is None:
            return None
        return store.sidecar_path(store.learner_folder(self.answers_dir, lid), self.exercise)

    # --- checking --------------------------------------------------------------------

    def _in_callback(self, fn: Any) -> None:
        """Run ``fn`` for a widget event. In a kernel, the records that ``check`` displays
        go to a hidden output (not to the kernel's log); elsewhere there is no display."""
        from IPython import get_ipython

        ip = get_ipython()
        if ip is None or not hasattr(ip, "kernel"):
            fn()
            return
        self._sink.clear_output()
        with self._sink:
            fn()

    def _check(self, qid: str, *, raw: Any = None, use_raw: bool = False) -> None:
        field = self.fields[qid]
        try:
            answer = raw if use_raw else field.answer()
        except ValueError as exc:
            self.results.pop(qid, None)
            field.show(f"Not checked: {exc}", "error")
            return
        result = checks.check(qid, answer, scenario=self.scenario)
        self.results[qid] = result
        # the prompt is right above the box: "not answered" need not repeat it
        field.show("⏳ not answered yet" if result.status == "not_answered" else str(result),
                   result.status)

    def submit(self, ids: Iterable[str] | None = None) -> dict[str, checks.CheckResult]:
        """Check the fields ``ids`` (default: all), show each result, save every answer.

        Returns the results of this submit (a field whose input cannot be read has
        none: its status line gives the library's message instead).
        """
        chosen = list(self.fields) if ids is None else list(ids)
        for qid in chosen:
            if qid not in self.fields:
                raise bad("ids", qid, f"question ids of {self.exercise}: "
                          f"{', '.join(self.fields)}")
        for qid in chosen:
            self._check(qid)
        self.save()
        return {qid: self.results[qid] for qid in chosen if qid in self.results}

    def answers(self) -> dict[str, Any]:
        """What the answers file keeps: question id -> stored value, blanks left out."""
        out = {}
        for qid, field in self.fields.items():
            value = field.stored()
            if value is not None:
                out[qid] = value
        return out

    def save(self) -> Path | None:
        """Write the answers file now (returns its path; ``None`` when there is nowhere yet)."""
        path = self.sidecar
        if path is None:
            self.message.value = ("<b>Not saved</b>: type your name or learner id above (then "
                                  "press Enter) so that your answers are kept and graded.")
            return None
        try:
            store.save_answers(path, self.exercise, self.scenario, self.answers(),
                               learner=self.learner_id)
            if self.answers_dir is not None:
                store.write_submission(path.parent, self.exercise, self.scenario)
        except (OSError, ValueError) as exc:
            self.message.value = f"<b>Not saved</b>: {html.escape(str(exc))}"
            return None
        n = len(self.answers())
        where = (f"<code>{html.escape(path.name)}</code> next to this notebook"
                 if self.answers_dir is None else
                 f"your folder <code>{html.escape(path.parent.name)}</code>")
        self.message.value = f"Saved {n} answer{'s' * (n != 1)} in {where}."
        return path

    def _load(self) -> None:
        """Read the saved answers of this scenario, show them and check them again.

        Called when the form is built (a notebook run, a reload, the grader's run) and,
        in a workshop room, when the learner id changes. Fields the learner already
        filled in are left as they are. Each restored answer is checked, so the records
        the grader reads are emitted from the saved answers.
        """
        path = self.sidecar
        if path is None:
            return
        try:
            saved = store.load_answers(path, self.exercise, self.scenario)
        except ValueError as exc:
            self.message.value = f"<b>Saved answers not read</b>: {html.escape(str(exc))}"
            return
        restored = []
        for qid, value in saved.items():
            field = self.fields.get(qid)
            if field is None or field.stored() is not None:
                continue
            field.restore(value)
            restored.append(qid)
        for qid in restored:
            try:
                self.fields[qid].answer()
            except ValueError:  # unreadable as saved: the check says why, and records it
                self._check(qid, raw=saved[qid], use_raw=True)
                continue
            self._check(qid)
        if restored:
            self.message.value = (f"Loaded {len(restored)} saved answer"
                                  f"{'s' * (len(restored) != 1)} from "
                                  f"<code>{html.escape(path.name)}</code> and checked them again.")

    # --- display ---------------------------------------------------------------------

    def _header(self) -> w.HTML:
        s = self.scenario
        where = (f"Each time you press <b>Check</b>, your answers are saved in "
                 f"<code>{store.sidecar_path('.', self.exercise).name}</code> next to this "
                 "notebook; hand that file in with the notebook. Running this cell again "
                 "brings them back and checks them again."
                 if self.answers_dir is None else
                 "Type your name or the id your instructor gave you and press Enter: your "
                 "answers are saved under it each time you press <b>Check</b>, and the same id "
                 "brings them back after a reload.")
        return w.HTML(
            f"<h3 style='margin:4px 0'>No-code track: {html.escape(exercise_title(self.exercise))}"
            f"</h3><p style='margin:2px 0'>Persona <b>{html.escape(str(s.name))}</b>: "
            f"{html.escape(str(getattr(s, 'title', '')))}. Type a number or pick an option for "
            "each question and press <b>Check</b>: the same checks as the code track, with "
            f"the same hints. {where}</p>", layout=w.Layout(width="100%"))

    @property
    def widget(self) -> w.VBox:
        """The whole form as one widget."""
        if not hasattr(self, "_box"):
            parts: list[w.Widget] = [self._header()]
            if self.learner is not None:
                parts.append(self.learner)
            group = None
            for qid, field in self.fields.items():
                if _group(qid) != group:
                    group = _group(qid)
                    parts.append(w.HTML(f"<h4 style='margin:8px 0 2px'>{group}</h4>"))
                parts.append(field.box)
            parts += [self.check_all_button, self.message, self._sink]
            self._box = w.VBox(parts, layout=w.Layout(width="100%", max_width="980px"))
            self._box.add_class("buildbuy-form")
        return self._box

    def summary(self) -> str:
        """One line: the exercise, persona, and how many answers are saved and correct."""
        n = len(self.fields)
        answered = len(self.answers())
        correct = sum(r.correct for r in self.results.values())
        return (f"No-code form, {exercise_title(self.exercise)} ({self.scenario.name}): "
                f"{n} questions, {answered} answered, {correct} correct.")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        data = dict(self.widget._repr_mimebundle_())
        data["text/plain"] = self.summary()
        return data

    def __repr__(self) -> str:
        return self.summary()
