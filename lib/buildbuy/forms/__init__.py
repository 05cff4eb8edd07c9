"""The no-code track: every exercise as a form of widgets, with the code track's checks.

An executive who writes no code types numbers (``7.71M``, ``$7,710,000``,
``never``) or picks options in a form and presses **Check**. The form calls the
very :func:`buildbuy.checks.check` the code track calls, on the learner's own
scenario, so the tolerance, the status and the hint are the same.

One entry point builds the form of any exercise from the question registry
(:func:`buildbuy.questions.for_exercise`), so a new question gets its field
without a change here:

========  ==================================================================
kind      field
========  ==================================================================
numeric   a number box with the question's unit and tolerance
choice    a menu of the options, each defined in one line, and the rule
          behind the answer (:mod:`buildbuy.forms.glossary`)
memo      one text area per memo section, the strategy menu, risk rows, and
          the model's figures with the key to quote them by
========  ==================================================================

Under a field, a folded "What you need" section lists the facts the question works
from (:mod:`buildbuy.forms.inputs`), enough for a calculator; a question that is a
search gets a what-if tool there instead (:mod:`buildbuy.forms.whatif`).

Where the answers go (:mod:`buildbuy.forms.answers`)
----------------------------------------------------
The grader re-executes a notebook, and a widget's value is not in the notebook
file. So each **Check** writes every answer of the form to a sidecar file,
``<exercise>.answers.json`` next to the notebook, keyed by scenario; when the form
cell runs again (a reload, or ``buildbuy exercises grade``) it reads them back and
checks them again, which emits the same check records the code track emits.

In a workshop room (Voilà, ``make workshop``) the form asks for a learner id and
saves under ``<answers_dir>/<safe id>/``, next to a copy of the exercise notebook
set to the learner's scenario: that folder of folders is what ``buildbuy exercises
grade`` takes.

Examples
--------
>>> import tempfile
>>> form = exercise_form("02_three_year_tco", "bank_support", folder=tempfile.mkdtemp())
>>> form.fields["ex2_recommendation"].input.value = "build"
>>> form.submit(["ex2_recommendation"])["ex2_recommendation"].status
'correct'
>>> form.fields["ex2_crossover_month"].input.value = "2 years"
>>> form.submit(["ex2_crossover_month"])
{}
>>> print(form.fields["ex2_crossover_month"].status.value)  # doctest: +ELLIPSIS
<span ...>Not checked: ex2_crossover_month='2 years' is invalid: must be a number in months ...
>>> sorted(exercise_form("02_three_year_tco", "bank_support", folder=form.folder).answers())
['ex2_crossover_month', 'ex2_recommendation']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from buildbuy.forms.answers import load_answers, save_answers, sidecar_path
from buildbuy.forms.form import ExerciseForm, exercise_title
from buildbuy.forms.parse import parse_number

__all__ = ["ExerciseForm", "exercise_form", "exercise_title", "load_answers", "parse_number",
           "save_answers", "sidecar_path"]


def exercise_form(exercise: str, scenario: Any, *, folder: str | Path | None = None,
                  answers_dir: str | Path | None = None,
                  learner: str | None = None) -> ExerciseForm:
    """The no-code form of one exercise for ``scenario``.

    Parameters
    ----------
    exercise : str
        An exercise stem from :data:`buildbuy.questions.EXERCISES`, e.g.
        ``"01_bottleneck_audit"``.
    scenario : Scenario or str
        The learner's scenario (or a persona name).
    folder : path, optional
        Notebook mode: where the answers file lives (default: the kernel's working
        folder, which is the notebook's folder in JupyterLab and the grader's copy
        under ``buildbuy exercises grade``).
    answers_dir : path, optional
        Workshop mode: the instructor's answers folder. The form then shows a
        learner-id box and saves under ``answers_dir/<safe id>/``.
    learner : str, optional
        Workshop mode: a learner id to start with.

    Returns
    -------
    ExerciseForm
        Displays as the form. Building it reads any saved answers of this scenario
        and checks them again (in a kernel, each check shows its record).

    Raises
    ------
    ValueError
        An unknown exercise, or a question of a kind no field knows.
    """
    return ExerciseForm(exercise, scenario, folder=folder, answers_dir=answers_dir,
                        learner=learner)
