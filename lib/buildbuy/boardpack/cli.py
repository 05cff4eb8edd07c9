"""``buildbuy memo export``: a memo as a one-page PDF and a deck, from the command line.

::

    buildbuy memo export SOURCE --out DIR [--name NAME] [--scenario S] [--set FIELD=VALUE]...

``SOURCE`` is one of:

- an executed exercise-3 notebook (``.ipynb``): the memo and the scenario are read from
  its ``ex3_memo`` check record, so the export is of the learner's own text;
- a memo or PR/FAQ typed as Markdown (``.md``), with ``--scenario``;
- ``draft`` or ``prfaq``: the record's own drafts for ``--scenario``.

It writes ``DIR/<stem>.memo.pdf`` and ``DIR/<stem>.deck.pptx`` and prints the checker's
and the rubric's verdicts. Exit codes follow papermill: 0 exported, 1 nothing exported
(no memo in the notebook, or a memo too long for one page), 2 bad usage (a missing file,
an invalid scenario or field).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["cli_main", "memo_from_notebook"]


def memo_from_notebook(path: str | Path) -> tuple[str | None, Any]:
    """``(memo Markdown or None, Scenario or None)`` from an executed exercise-3 notebook."""
    from buildbuy.checks import RECORD_MIME, scenario_from_ref

    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    record = None
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if isinstance(cell, dict) else []:
            rec = out.get("data", {}).get(RECORD_MIME) if isinstance(out, dict) else None
            if isinstance(rec, dict) and rec.get("question") == "ex3_memo":
                record = rec
    if record is None:
        return None, None
    answer = record.get("answer")
    scenario = scenario_from_ref(record["scenario"]) if record.get("scenario") else None
    return (answer if isinstance(answer, str) else None), scenario


def _value(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="buildbuy memo",
                                description="Export a memo as a one-page PDF and a deck.")
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="write SOURCE as <stem>.memo.pdf and <stem>.deck.pptx",
                       epilog="Exit status: 0 exported, 1 nothing exported, 2 bad usage.")
    e.add_argument("source", help="executed exercise-3 notebook (.ipynb), a Markdown memo "
                   "(.md), or 'draft' / 'prfaq' for the record's drafts")
    e.add_argument("--out", required=True, metavar="DIR", help="output folder")
    e.add_argument("--name", default=None, help="name printed on the PDF and the deck")
    e.add_argument("--scenario", default=None,
                   help="persona or YAML/JSON file (required for .md, draft and prfaq)")
    e.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a scenario field (repeatable)")
    e.add_argument("--stem", default=None, help="output file stem (default: from SOURCE)")
    return p


def cli_main(argv: Sequence[str]) -> int:
    """Run ``buildbuy memo`` with ``argv``; return the exit code (0, 1 or 2)."""
    from buildbuy import scenarios
    from buildbuy.boardpack.export import board_pack, write_board_pack
    from buildbuy.memo import board_facts, check_memo, draft_memo, draft_prfaq, judge

    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:  # --help exits 0, bad usage exits 2
        return int(exc.code or 0)
    err = sys.stderr
    try:
        overrides = {}
        for item in args.set:
            field, sep, value = item.partition("=")
            if not sep or not field:
                raise ValueError(f"--set={item!r} is invalid: must be FIELD=VALUE")
            overrides[field.strip()] = _value(value)
        S = scenarios.load(args.scenario, **overrides) if args.scenario else None
        text: str | None = None
        src = args.source
        if src in ("draft", "prfaq"):
            if S is None:
                raise ValueError(f"--scenario is required with SOURCE={src!r}")
            stem = args.stem or f"{S.name}.{src}"
        else:
            path = Path(src)
            if not path.is_file():
                raise ValueError(f"SOURCE={src!r} is invalid: must be an existing .ipynb or "
                                 ".md file, 'draft' or 'prfaq'")
            stem = args.stem or path.stem
            if path.suffix == ".ipynb":
                text, from_nb = memo_from_notebook(path)
                if S is None:
                    S = from_nb
            else:
                text = path.read_text(encoding="utf-8")
            if S is None and text is not None:
                raise ValueError("--scenario is required for a Markdown memo")
    except (ValueError, OSError) as exc:
        print(f"buildbuy memo export: {exc}", file=err)
        return 2
    if src not in ("draft", "prfaq") and text is None:
        print(f"buildbuy memo export: no memo in {src}: run exercise 3 down to its "
              "check('ex3_memo', ...) cell first", file=err)
        return 1
    facts = board_facts(S)
    memo = {"draft": draft_memo, "prfaq": draft_prfaq}[src](facts) if text is None else text
    try:
        pack = write_board_pack(board_pack(facts, memo=memo, prepared_for=args.name),
                                args.out, stem)
    except ValueError as exc:
        print(f"buildbuy memo export: {exc}", file=err)
        return 1
    for p in pack.paths:
        print(f"wrote {p}")
    print(check_memo(pack.memo, facts.figures))
    print(judge(pack.memo, facts))
    return 0
