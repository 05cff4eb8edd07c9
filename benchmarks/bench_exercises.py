"""Exercises: how fast a check answers, a build runs and a submission is graded.

Figures are measured side by side in one run, and the ratios are what carry over to
another machine:

- a cold check, which computes the scenario's comparison, against a warm check, which
  reads it from the per-scenario cache;
- the build of ``exercises/`` (three notebooks, pure text work);
- grading one submitted notebook (a fresh papermill process and kernel, in its
  bubblewrap sandbox), against grading it unsandboxed (``--no-sandbox``) and against
  executing the same notebook in-process with :func:`buildbuy.notebooks.execute`;
- the no-code form of exercise 1 (:mod:`buildbuy.forms`): building it, and one
  "Check all and save" with every field answered, against the same checks called
  one by one as the code track calls them (the difference is reading the boxes,
  showing the results and writing the answers file); and one try of the break-even
  what-if tool (:mod:`buildbuy.forms.whatif`), the first and the next ones.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
import time
from pathlib import Path


def _time(fn, repeat: int = 1) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    from buildbuy import checks, exercises, grading, notebooks, questions, scenarios

    s = scenarios.load("retail_search")
    questions._CACHE.clear()
    cold = _time(lambda: checks.check("ex2_tco_a_usd", 1.0, scenario=s))
    warm = _time(lambda: checks.check("ex2_tco_a_usd", 1.0, scenario=s), repeat=5)
    print(f"check(): cold {cold * 1e3:8.1f} ms, warm {warm * 1e3:8.2f} ms "
          f"(cache speed-up {cold / warm:,.0f}x)")
    with tempfile.TemporaryDirectory() as tmp:
        build_s = _time(lambda: exercises.build(exercises_dir=Path(tmp)), repeat=3)
    print(f"build of exercises/: {build_s * 1e3:.0f} ms for {len(exercises.solution_paths())} "
          "notebooks")
    _bench_form(s)
    name = exercises.solution_paths()[0].name
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "subs"
        (root / "learner").mkdir(parents=True)
        shutil.copy(exercises.SOLUTIONS_DIR / name, root / "learner" / name)
        in_process = _time(lambda: notebooks.execute(exercises.SOLUTIONS_DIR / name,
                                                     Path(tmp) / "out.ipynb", cwd=tmp))
        with contextlib.redirect_stdout(io.StringIO()):
            bare = _time(lambda: grading.grade(root, Path(tmp) / "g.csv", use_sandbox=False))
            try:
                boxed = _time(lambda: grading.grade(root, Path(tmp) / "g.csv"))
            except grading.SandboxUnavailable as exc:
                boxed, why = float("nan"), str(exc).split(". ")[0]
            else:
                why = ""
    print(f"one notebook ({name}): in-process execute {in_process:.1f} s, graded in a fresh "
          f"process {bare:.1f} s ({bare / in_process:.2f}x), graded in its sandbox "
          f"{boxed:.1f} s (sandbox overhead {boxed / bare:.2f}x) {why}".rstrip())


def _bench_form(s: object) -> None:
    from buildbuy import checks, forms, questions
    from buildbuy.forms.parse import format_number

    name = questions.EXERCISES[0]
    answers = {}
    for q in questions.for_exercise(name):
        expected = q.expected(s)  # warms the per-scenario cache, as a learner's first check does
        answers[q.id] = ("never" if expected is None else format_number(expected)
                         if q.kind == "numeric" else expected)
    with tempfile.TemporaryDirectory() as tmp:
        build = _time(lambda: forms.exercise_form(name, s, folder=tmp), repeat=3)
        form = forms.exercise_form(name, s, folder=tmp)
        for qid, value in answers.items():
            form.fields[qid].input.value = value
        submit = _time(form.submit, repeat=5)
    code_track = _time(lambda: [checks.check(q.id, form.fields[q.id].answer(), scenario=s)
                                for q in questions.for_exercise(name)], repeat=5)
    print(f"no-code form of {name} ({len(answers)} fields): build {build * 1e3:.0f} ms; "
          f"check all and save {submit * 1e3:.0f} ms against {code_track * 1e3:.0f} ms for "
          f"the same checks called one by one ({submit / code_track:.1f}x)")
    from buildbuy.forms import whatif

    tool = whatif.VolumeTool(s)
    tool.volume.value = "1e10"
    first = _time(tool.work_out)  # builds the scenario's model context once
    again = _time(tool.work_out, repeat=5)
    print(f"what-if tool (break-even goal seek): first try {first * 1e3:.0f} ms, each "
          f"further try {again * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
