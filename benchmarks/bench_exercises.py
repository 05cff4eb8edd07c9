"""Exercises: how fast a check answers, a build runs and a submission is graded.

Figures are measured side by side in one run, and the ratios are what carry over to
another machine:

- a cold check, which computes the scenario's comparison, against a warm check, which
  reads it from the per-scenario cache;
- the build of ``exercises/`` (three notebooks, pure text work);
- grading one submitted notebook (a fresh papermill process and kernel, in its
  bubblewrap sandbox), against grading it unsandboxed (``--no-sandbox``) and against
  executing the same notebook in-process with :func:`buildbuy.notebooks.execute`.
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


if __name__ == "__main__":
    main()
