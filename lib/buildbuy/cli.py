"""The ``buildbuy`` command line (also ``python -m buildbuy``).

Subcommands, each owned by the module of its concept::

    buildbuy exercises build [--check]          # buildbuy.exercises
    buildbuy exercises grade DIR --out FILE     # buildbuy.exercises
    buildbuy memo export SOURCE --out DIR       # buildbuy.boardpack
    buildbuy reports ROSTER --out DIR [...]     # buildbuy.reports
    buildbuy workshop [--persona NAME] [...]    # buildbuy.workshop
    buildbuy audit URL --model NAME [...]       # buildbuy.audit
    buildbuy lab serve|answer [...]             # buildbuy.lab

Exit codes follow papermill's convention: 0 success, 1 the work ran but some
items failed, 2 the command could not be used as given.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: subcommand -> module whose ``cli_main(argv) -> int`` runs it
SUBCOMMANDS: dict[str, str] = {
    "exercises": "buildbuy.exercises",
    "memo": "buildbuy.boardpack.cli",
    "reports": "buildbuy.reports",
    "workshop": "buildbuy.workshop",
    "audit": "buildbuy.audit.cli",
    "lab": "buildbuy.lab.cli",
}

USAGE = """usage: buildbuy {exercises,memo,reports,workshop,audit,lab} ...

  exercises build [--check]       generate exercises/ from solutions/
  exercises grade DIR --out CSV   grade a folder of submitted notebooks
  memo export SOURCE --out DIR    a memo as a one-page PDF and a slide deck
  reports ROSTER --out DIR        run per-learner reports for a cohort
  workshop [--persona NAME]       prepare the Voila lesson dashboards in build/workshop/
  audit URL --model NAME          measure an OpenAI-compatible endpoint, name its bottleneck
  lab serve --bottleneck KIND     a practice server with a hidden bottleneck (127.0.0.1)

Run 'buildbuy SUBCOMMAND --help' for the options of one.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``argv`` (default ``sys.argv[1:]``) to a subcommand; return its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(USAGE, end="")
        return 0 if args else 2
    if args[0] not in SUBCOMMANDS:
        print(f"buildbuy: unknown subcommand {args[0]!r}\n{USAGE}", end="", file=sys.stderr)
        return 2
    module = importlib.import_module(SUBCOMMANDS[args[0]])
    return int(module.cli_main(args[1:]))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
