"""Workshop mode: the code-free lesson dashboards, prepared for one persona and served by Voilà.

``notebooks/dashboards/`` holds one dashboard notebook per lesson (same file
name as the lesson) and one per exercise (``exercise_<exercise>.ipynb``). Each
shows only widgets and charts: a lesson's code cells call the panels of
:mod:`buildbuy.widgets`, an exercise's the no-code form of :mod:`buildbuy.forms`,
and Voilà hides the code.

:func:`prepare` copies the dashboards to ``build/workshop/`` with a papermill
``injected-parameters`` cell that sets the persona (nothing is executed: Voilà
runs each page in a fresh kernel when a learner opens it). ``make workshop
PERSONA=hospital_notes`` runs it and then serves the folder. The exercise
dashboards also get the instructor's answers folder (``answers_dir``, default
``build/answers``, outside the served folder so no learner can open another's
answers): each learner types an id into the form and their answers are saved in
``answers_dir/<safe id>/``, ready for ``buildbuy exercises grade answers_dir``.

Inside a served page, the URL can switch persona without restarting the
server: ``.../01_physics_of_build_vs_buy.ipynb?persona=retail_search``.
:func:`load_scenario` reads that query string (Voilà puts it in the kernel's
``QUERY_STRING`` environment variable). A persona that does not load shows the
library's message at the top of the page and the page goes on with the persona it
was prepared for: Voilà itself would only say "There was an error when executing
cell [3]" (``make workshop`` hides tracebacks from the room).

Each page is a live kernel. ``make workshop`` has Voilà cull a kernel whose page
is closed after :data:`CULL_IDLE_S` seconds without activity, checking every
:data:`CULL_INTERVAL_S` seconds; a kernel whose page is still open is never culled
(``cull_connected=False``), so a learner who pauses keeps their state.

Examples
--------
>>> from buildbuy import workshop
>>> workshop.persona_from_query("persona=hospital_notes&x=1")
'hospital_notes'
>>> workshop.persona_from_query("") is None
True
"""

from __future__ import annotations

import argparse
import html
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import nbformat
import yaml

from buildbuy import scenarios
from buildbuy._validate import bad
from buildbuy.paths import REPO_ROOT

__all__ = ["CULL_IDLE_S", "CULL_INTERVAL_S", "cli_main", "dashboard_paths", "load_scenario",
           "persona_from_query", "prepare"]

#: Where ``make workshop`` writes the prepared dashboards.
DEFAULT_OUT = REPO_ROOT / "build" / "workshop"
#: a closed page's kernel (about 0.22 GB) is shut down after this many idle seconds
CULL_IDLE_S = 300
#: how often Voilà looks for such kernels, in seconds
CULL_INTERVAL_S = 60
#: Where the exercise dashboards save the learners' answers (``make workshop ANSWERS=...``).
DEFAULT_ANSWERS = REPO_ROOT / "build" / "answers"


def dashboard_paths() -> list[Path]:
    """The dashboard notebooks: one per lesson in course order, then one per exercise."""
    folder = REPO_ROOT / "notebooks" / "dashboards"
    return sorted(folder.glob("[0-9][0-9]_*.ipynb")) + sorted(folder.glob("exercise_*.ipynb"))


def _declares(nb: Any, name: str) -> bool:
    """Whether the notebook's ``parameters`` cell assigns ``name``."""
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    return cell is not None and any(line.split("=", 1)[0].strip() == name
                                    for line in cell.source.splitlines() if "=" in line)


def persona_from_query(query_string: str) -> str | None:
    """The ``persona`` value of a URL query string, or ``None`` when absent.

    Examples
    --------
    >>> persona_from_query("persona=retail_search")
    'retail_search'
    """
    values = parse_qs(query_string).get("persona")
    return values[-1] if values else None


def load_scenario(scenario: str = "bank_support",
                  overrides: Mapping[str, Any] | None = None) -> Any:
    """Load the dashboard's scenario; a ``?persona=`` in the Voilà page URL wins.

    Parameters
    ----------
    scenario : str
        The notebook's ``scenario`` parameter (persona name or file path).
    overrides : mapping, optional
        The notebook's ``overrides`` parameter, applied on top.

    Raises
    ------
    ValueError
        From :func:`buildbuy.scenarios.from_parameters`, naming the persona or field,
        when the notebook's own parameters are bad. A bad ``?persona=`` does not
        raise: the page shows the message and keeps ``scenario``.

    Examples
    --------
    >>> load_scenario("hospital_notes", {"horizon_months": 24}).horizon_months
    24
    """
    asked = persona_from_query(os.environ.get("QUERY_STRING", ""))
    if asked is not None:
        try:
            return scenarios.from_parameters(asked, overrides)
        except ValueError as exc:
            _show_problem(f"The page address asks for ?persona={asked}, which does not "
                          f"load: {exc}. Showing {scenario} instead.")
    return scenarios.from_parameters(scenario, overrides)


def _show_problem(text: str) -> None:
    """Show ``text`` (escaped) as a warning box in the page, and as plain text elsewhere."""
    from IPython.display import display

    box = ('<div style="border:1px solid #d4a72c;background:#fff8c5;padding:0.6em 1em">'
           f"&#9888; {html.escape(text)}</div>")
    display({"text/plain": text, "text/html": box}, raw=True)


def prepare(persona: str = "bank_support", out_dir: str | Path = DEFAULT_OUT, *,
            overrides: Mapping[str, Any] | None = None,
            answers_dir: str | Path = DEFAULT_ANSWERS) -> list[Path]:
    """Write every dashboard to ``out_dir`` with ``persona`` injected as its parameters.

    The persona (and the overrides) are validated first, so a typo fails here
    with the scenario error, not later in a learner's browser. Dashboards left
    in ``out_dir`` by an earlier run are replaced; other files are left alone.

    Parameters
    ----------
    persona : str
        A name from :func:`buildbuy.scenarios.persona_names` or a YAML/JSON path.
    out_dir : str or Path
        The folder Voilà will serve.
    overrides : mapping, optional
        Scenario fields to change, e.g. ``{"monthly_tokens": 5e9}``.
    answers_dir : str or Path
        Where the exercise dashboards save each learner's answers (made absolute;
        keep it outside ``out_dir``, which learners can browse).

    Returns
    -------
    list of Path
        The prepared notebooks, in course order.
    """
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    if not isinstance(persona, str) or not persona:
        raise bad("persona", persona, f"a persona name ({', '.join(scenarios.persona_names())}) "
                                      "or a path to a scenario file")
    as_path = Path(persona)
    if as_path.suffix in {".yaml", ".yml", ".json"}:
        persona = str(as_path.resolve())  # Voilà runs the kernel in out_dir
    scenarios.from_parameters(persona, overrides)  # fail early, with the field named
    sources = dashboard_paths()
    if not sources:
        raise FileNotFoundError(f"no dashboard notebooks in {REPO_ROOT / 'notebooks/dashboards'}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise bad("--out", str(out), "a folder for the dashboards (this path is a file)")
    answers = Path(answers_dir).resolve()
    if answers.is_relative_to(out.resolve()):
        raise bad("answers_dir", str(answers_dir), f"a folder outside {out} (learners can "
                  "browse the served folder, and must not see each other's answers)")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sources:
        nb = load_notebook_node(str(src))  # papermill's reader: every cell gets its tags list
        params: dict[str, Any] = {"scenario": persona, "overrides": dict(overrides or {})}
        if _declares(nb, "answers_dir"):
            params["answers_dir"] = str(answers)
        nb = parameterize_notebook(nb, params,
                                   comment="Workshop persona (buildbuy.workshop.prepare)")
        nb.metadata.pop("papermill", None)
        dst = out / src.name
        nbformat.write(nb, dst)
        written.append(dst)
    return written


def _override(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise bad("--set", text, "KEY=VALUE, e.g. monthly_tokens=5e9")
    try:
        return key, yaml.safe_load(value)
    except yaml.YAMLError:
        return key, value  # plain text; the scenario check says what the field needs


def cli_main(argv: Sequence[str] | None = None) -> int:
    """``buildbuy workshop [--persona NAME] [--out DIR] [--set KEY=VALUE ...]``."""
    parser = argparse.ArgumentParser(
        prog="buildbuy workshop",
        description="Prepare the lesson dashboards for one persona (then serve the folder "
                    "with voila; `make workshop` does both).")
    parser.add_argument("--persona", default="bank_support",
                        help="persona name or scenario file (default: bank_support)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output folder")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override one scenario field (repeatable)")
    parser.add_argument("--answers-dir", default=str(DEFAULT_ANSWERS),
                        help="where the exercise dashboards save each learner's answers "
                             "(default: build/answers; grade it with 'buildbuy exercises "
                             "grade DIR')")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        overrides = dict(_override(o) for o in args.overrides)
        paths = prepare(args.persona, args.out, overrides=overrides,
                        answers_dir=args.answers_dir)
    except (ValueError, OSError) as exc:
        print(f"buildbuy workshop: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"prepared {path}")
    return 0
