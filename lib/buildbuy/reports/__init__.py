"""Per-learner reports at cohort scale.

``buildbuy reports ROSTER --out DIR [--workers N] [--scheduler ADDRESS] [--force]``
(also ``python -m buildbuy reports``) executes ``notebooks/learner_report.ipynb``
with papermill once per roster row and writes, in ``DIR``:

- ``<safe id>.ipynb`` and ``<safe id>.html`` per learner (inputs and prompts hidden);
- ``summary.csv``: one row per roster row, status ``ok``, ``skipped`` (already up
  to date), ``failed`` or ``invalid``, key figures, seconds, reason;
- ``index.html``: links, status and key figures per learner, and class charts.

Exit status: 0 every row ok (or skipped), 1 some rows invalid or failed (the
others are still produced), 2 the roster or the command cannot be used.

Modules: :mod:`.roster` (read and validate), :mod:`.ids` (safe file names),
:mod:`.state` (atomic writes, resume stamps), :mod:`.worker` (warm-kernel
papermill + HTML), :mod:`.render` (HTML), :mod:`.runner` (local pool, Dask),
:mod:`.index` (summary.csv, index.html).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from buildbuy.reports.ids import safe_id
from buildbuy.reports.index import FIGURE_COLUMNS, STATUSES, SUMMARY_COLUMNS
from buildbuy.reports.roster import Learner, RosterError, read_roster
from buildbuy.reports.runner import DEFAULT_TEMPLATE, Summary, default_workers, run_reports

__all__ = [
    "DEFAULT_TEMPLATE",
    "FIGURE_COLUMNS",
    "STATUSES",
    "SUMMARY_COLUMNS",
    "Learner",
    "RosterError",
    "Summary",
    "cli_main",
    "default_workers",
    "read_roster",
    "run_reports",
    "safe_id",
]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="buildbuy reports",
        description="Run the per-learner report for every row of a roster CSV.",
        epilog="Exit status: 0 all rows ok, 1 some rows invalid or failed, "
               "2 the roster cannot be used.")
    p.add_argument("roster", help="CSV: learner_id, learner_name, [email], scenario, "
                   "and any scenario field as a column override")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help=f"local worker processes (default: the {default_workers()} cores "
                   "available)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on an existing Dask cluster, e.g. tcp://head:8786")
    p.add_argument("--force", action="store_true",
                   help="redo learners whose outputs are already up to date")
    p.add_argument("--timeout", type=int, default=600, metavar="SECONDS",
                   help="longest time one notebook cell may run (default 600)")
    p.add_argument("--template", default=None, metavar="NOTEBOOK",
                   help="report notebook (default notebooks/learner_report.ipynb)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def cli_main(argv: Sequence[str]) -> int:
    """Run ``buildbuy reports`` with ``argv``; return the exit status (0, 1 or 2)."""
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        summary = run_reports(args.roster, args.out, workers=args.workers,
                              scheduler=args.scheduler, force=args.force,
                              template=args.template, timeout_s=args.timeout,
                              progress=False if args.no_progress else None)
    except (RosterError, OSError, ValueError) as exc:  # incl. an unreachable scheduler
        print(f"buildbuy reports: {exc}", file=sys.stderr)
        return 2
    c = summary.counts()
    print(f"reports: {c['ok']} ok, {c['skipped']} skipped (up to date), {c['failed']} failed, "
          f"{c['invalid']} invalid in {summary.seconds:.1f} s -> "
          f"{summary.out_dir / 'index.html'}")
    for r in summary.rows:
        if r["status"] in ("failed", "invalid"):
            print(f"  row {r['row']} {r['learner_id']!r}: {r['status']}: {r['reason']}",
                  file=sys.stderr)
    return summary.exit_code
