"""Where the no-code track keeps its answers: one JSON sidecar per exercise, keyed by scenario.

A form's answers must survive the notebook: the grader re-executes a submitted
notebook, and what a learner typed into a widget is not in the notebook file. So
every time the learner presses *Check*, the form writes its answers to a sidecar
file next to the notebook, and when the form cell runs again (a reload, or the
grader) it reads them back and re-checks them.

The file is ``<folder>/<exercise>.answers.json`` (:func:`sidecar_path`)::

    {"format": "buildbuy.answers/1",
     "exercise": "01_bottleneck_audit",
     "learner": "Alice Smith",
     "entries": [{"scenario": {"persona": "bank_support", "overrides": {}},
                  "answers": {"ex1_binding": "memory_bandwidth",
                              "ex1_ceiling_tokens_per_s": 1520.0}}]}

- ``entries`` holds one set of answers per scenario
  (:func:`buildbuy.checks.scenario_ref`): answers typed for one persona are never
  checked against another.
- ``learner`` is the id typed into the form in a workshop room (absent in a notebook).
- Numbers are stored as numbers, ``"never"`` as that string, choices as the option's
  name, and a memo as its text fields (so the form can show them again).
- A write replaces the file atomically (a temporary file in the same folder, then
  :func:`os.replace`) under an exclusive lock on the folder, so a crash never leaves
  half a file and two pages of the same learner do not lose each other's answers.

In a workshop room (Voilà) answers go to ``<answers_dir>/<safe learner id>/``
(:func:`learner_folder`, the instructor chooses ``answers_dir``), together with a
copy of the exercise notebook whose parameters cell names the learner's scenario
(:func:`write_submission`). That folder is a submission as ``buildbuy exercises
grade`` expects it: the grader runs the notebook, its form cell reads the sidecar and
emits the same check records as the code track.

Examples
--------
>>> import tempfile
>>> from buildbuy import scenarios
>>> S = scenarios.load("bank_support")
>>> folder = tempfile.mkdtemp()
>>> path = sidecar_path(folder, "02_three_year_tco")
>>> path.name
'02_three_year_tco.answers.json'
>>> save_answers(path, "02_three_year_tco", S, {"ex2_recommendation": "build"})
>>> load_answers(path, "02_three_year_tco", S)
{'ex2_recommendation': 'build'}
>>> load_answers(path, "02_three_year_tco", S.replace(monthly_tokens=1e9))
{}
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from buildbuy._validate import bad

__all__ = ["FORMAT", "MAX_BYTES", "SUFFIX", "learner_folder", "load_answers", "read_sidecar",
           "save_answers", "saved_scenarios", "sidecar_path", "write_submission"]

#: The format tag of a sidecar file (bumped if its layout ever changes).
FORMAT = "buildbuy.answers/1"
#: Sidecar file names end with this; the grader looks for it next to a notebook.
SUFFIX = ".answers.json"
#: A sidecar larger than this is refused (a memo is a few kB; a page holds ~650 words).
MAX_BYTES = 1_000_000


def _exercise(exercise: str) -> str:
    from buildbuy.questions import EXERCISES

    if exercise not in EXERCISES:
        raise bad("exercise", exercise, f"one of {', '.join(EXERCISES)}")
    return exercise


def sidecar_path(folder: str | Path, exercise: str) -> Path:
    """The sidecar of ``exercise`` in ``folder``: ``<folder>/<exercise>.answers.json``."""
    return Path(folder) / f"{_exercise(exercise)}{SUFFIX}"


def learner_folder(answers_dir: str | Path, learner_id: str) -> Path:
    """A learner's folder under ``answers_dir``, named by :func:`buildbuy.ids.safe_id`.

    The id is stripped of surrounding spaces first; an empty id is refused.

    Examples
    --------
    >>> learner_folder("/srv/answers", "  Alice Smith ").name
    'alice-smith-8ae10dfc9a69'
    """
    from buildbuy.ids import safe_id

    if not isinstance(learner_id, str) or not learner_id.strip():
        raise bad("learner id", learner_id, "your name or the id your instructor gave you")
    return Path(answers_dir) / safe_id(learner_id.strip())


def _key(scenario_ref: Mapping[str, Any]) -> str:
    return json.dumps(scenario_ref, sort_keys=True)


def _ref(scenario: Any) -> dict[str, Any]:
    from buildbuy.checks import scenario_ref

    return scenario_ref(scenario)


def read_sidecar(path: str | Path, exercise: str) -> dict[str, Any]:
    """The whole sidecar at ``path`` as a dict (a fresh one when the file does not exist).

    Raises
    ------
    ValueError
        The file is not a sidecar of ``exercise``: not JSON, too large, another
        exercise's or another format. The message names the file.
    """
    p = Path(path)
    empty = {"format": FORMAT, "exercise": _exercise(exercise), "entries": []}
    if not p.exists():
        return empty
    if p.stat().st_size > MAX_BYTES:
        raise bad(str(p), f"{p.stat().st_size} bytes", f"an answers file under {MAX_BYTES} bytes")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise bad(str(p), type(exc).__name__, f"a readable JSON answers file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad(str(p), data.get("format") if isinstance(data, dict) else type(data).__name__,
                  f"an answers file in the format {FORMAT!r}")
    if data.get("exercise") != exercise:
        raise bad(str(p), data.get("exercise"), f"the answers of {exercise}")
    entries = data.get("entries")
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("answers"), dict) for e in entries):
        raise bad(f"{p}: entries", type(entries).__name__,
                  "a list of {scenario, answers} objects")
    return data


def load_answers(path: str | Path, exercise: str, scenario: Any) -> dict[str, Any]:
    """The answers saved at ``path`` for ``scenario`` (``{}`` when there are none)."""
    key = _key(_ref(scenario))
    for entry in read_sidecar(path, exercise)["entries"]:
        if _key(entry.get("scenario")) == key:
            return dict(entry["answers"])
    return {}


def saved_scenarios(path: str | Path, exercise: str) -> list[dict[str, Any]]:
    """The scenarios (as :func:`buildbuy.checks.scenario_ref` dicts) with saved answers."""
    return [e.get("scenario") for e in read_sidecar(path, exercise)["entries"]]


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``folder`` (POSIX ``flock``; none where unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: atomic replace only
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save_answers(path: str | Path, exercise: str, scenario: Any, answers: Mapping[str, Any],
                 *, learner: str | None = None) -> None:
    """Replace the answers saved for ``scenario`` at ``path`` with ``answers``, atomically.

    Answers of other scenarios in the file are kept. ``answers`` holds JSON values
    only (numbers, strings, lists and dicts of them); ``None`` values are dropped.

    Raises
    ------
    ValueError
        An answer is not JSON (e.g. NaN), or the existing file is not a sidecar.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    ref = _ref(scenario)
    clean = {k: v for k, v in answers.items() if v is not None}
    try:
        json.dumps(clean, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise bad("answers", type(clean).__name__, f"JSON values ({exc})") from None
    with _locked(p.parent):
        data = read_sidecar(p, exercise)
        key = _key(ref)
        entries = [e for e in data["entries"] if _key(e.get("scenario")) != key]
        entries.append({"scenario": ref, "answers": clean})
        data["entries"] = entries
        if learner is not None:
            data["learner"] = learner
        _write_atomic(p, json.dumps(data, indent=1, sort_keys=False, allow_nan=False) + "\n")


def write_submission(folder: str | Path, exercise: str, scenario: Any) -> Path:
    """Write ``<folder>/<exercise>.ipynb``: the exercise notebook set to ``scenario``.

    The notebook is the learner's copy from ``exercises/``; only its ``parameters``
    cell changes, to the persona and overrides of ``scenario`` (a scenario that is
    no persona is written next to it as ``<exercise>.scenario.json`` and named by
    that relative path). The grader runs it with that scenario, and its no-code
    form cell reads the sidecar in the same folder.
    """
    import nbformat

    from buildbuy.paths import EXERCISES_DIR

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    ref = _ref(scenario)
    if "persona" in ref:
        name, overrides = ref["persona"], dict(ref.get("overrides") or {})
    else:
        scenario_file = out / f"{_exercise(exercise)}.scenario.json"
        _write_atomic(scenario_file, json.dumps(ref["fields"], indent=1) + "\n")
        name, overrides = scenario_file.name, {}
    nb = nbformat.read(EXERCISES_DIR / f"{_exercise(exercise)}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    cell.source = (f"scenario = {name!r}   # written by the no-code form (buildbuy.forms)\n"
                   f"overrides = {overrides!r}")
    dst = out / f"{exercise}.ipynb"
    _write_atomic(dst, nbformat.writes(nb) + "\n")
    return dst
