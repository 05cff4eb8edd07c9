"""Read a cohort roster and validate every row before anything runs.

A roster is a UTF-8 CSV file, one row per learner:

=================  ==========================================================
column             meaning
=================  ==========================================================
``learner_id``     required, unique, non-empty; becomes a safe file name
``learner_name``   optional; shown (escaped) in the report and the index
``email``          optional; read but never shown or passed to the notebook
``scenario``       required; one of :func:`buildbuy.scenarios.persona_names`
any other column   a scenario field (:data:`buildbuy.scenarios.FIELDS`)
=================  ==========================================================

Conventions
-----------
- Cells are text. An empty cell means "use the persona's value"; any other
  cell is coerced and checked exactly as :func:`buildbuy.scenarios.load` does.
- A bad row never stops the cohort: it becomes a :class:`Learner` with
  ``reason`` set (status ``invalid``) and the other rows go on.
- A bad *roster* does: a missing or unreadable file, something that is not CSV
  text, no ``learner_id`` or ``scenario`` column, a repeated column or a column
  that is not a scenario field. Those raise :class:`RosterError` (exit status 2).
- ``scenario`` must be a persona name, not a path: a roster cannot make the
  workers read arbitrary files.
- Duplicate ids are ambiguous, so *every* row carrying that id is invalid.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from buildbuy import scenarios
from buildbuy._validate import suggest
from buildbuy.reports.ids import safe_id

__all__ = ["ID_COLUMNS", "Learner", "RosterError", "parse_roster", "read_roster"]

#: columns that describe the learner rather than the scenario
ID_COLUMNS: tuple[str, ...] = ("learner_id", "learner_name", "email", "scenario")
_REQUIRED = ("learner_id", "scenario")
_MAX_BYTES = 64 * 1024 * 1024


class RosterError(ValueError):
    """The roster as a whole cannot be used (exit status 2)."""


@dataclasses.dataclass(frozen=True)
class Learner:
    """One roster row after validation.

    Attributes
    ----------
    row : int
        1-based line number in the CSV (the header is line 1).
    learner_id, learner_name, scenario : str
        As written in the roster (stripped of surrounding spaces).
    overrides : dict
        Field -> typed value for the non-empty field cells (validated).
    safe_id : str
        File-name stem of this learner's outputs (``""`` when the id is missing).
    reason : str
        Why the row is invalid; ``""`` when it is valid.
    """

    row: int
    learner_id: str
    learner_name: str
    scenario: str
    overrides: dict[str, Any]
    safe_id: str
    reason: str = ""

    @property
    def valid(self) -> bool:
        """``True`` when the row can be executed."""
        return not self.reason

    def parameters(self) -> dict[str, Any]:
        """The papermill parameters of this learner (plain data only)."""
        return {"scenario": self.scenario, "overrides": dict(self.overrides),
                "learner_id": self.learner_id, "learner_name": self.learner_name}


def read_roster(path: str | Path) -> list[Learner]:
    """Read and validate the roster CSV at ``path``.

    Raises
    ------
    RosterError
        The file is missing, not UTF-8 CSV text, or its header is unusable.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("learner_id,scenario,horizon_months\\na1,bank_support,24\\n"
    ...                  "a2,bank_suport,\\n")
    >>> [(x.learner_id, x.overrides, x.valid) for x in read_roster(p)]
    [('a1', {'horizon_months': 24}, True), ('a2', {}, False)]
    """
    p = Path(path)
    if not p.is_file():
        raise RosterError(f"roster={str(p)!r} is invalid: must be an existing CSV file")
    if p.stat().st_size > _MAX_BYTES:
        raise RosterError(f"roster={str(p)!r} is invalid: must be at most "
                          f"{_MAX_BYTES // 2**20} MiB")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(f"roster={str(p)!r} is invalid: must be UTF-8 text ({exc})") from None
    if "\0" in text:
        raise RosterError(f"roster={str(p)!r} is invalid: must be CSV text, not binary data")
    return parse_roster(text, name=str(p))


def _check_header(header: list[str], name: str) -> list[str]:
    cols = [h.strip() for h in header]
    if not any(cols):
        raise RosterError(f"roster={name!r} is invalid: must start with a header row "
                          "naming the columns (learner_id, scenario, ...)")
    for req in _REQUIRED:
        if req not in cols:
            raise RosterError(f"roster={name!r} is invalid: must have a {req!r} column "
                              f"(header read: {', '.join(map(repr, cols))})")
    seen: set[str] = set()
    for c in cols:
        if c in seen:
            raise RosterError(f"roster={name!r} is invalid: column {c!r} appears twice")
        seen.add(c)
        if c not in ID_COLUMNS and c not in scenarios.FIELDS:
            close = suggest(c, [*ID_COLUMNS, *scenarios.FIELDS])
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise RosterError(f"roster column {c!r} is invalid: must be one of "
                              f"{', '.join(ID_COLUMNS)} or a scenario field{hint}")
    return cols


def parse_roster(text: str, *, name: str = "<roster>") -> list[Learner]:
    """Validate roster CSV ``text``; see :func:`read_roster`."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise RosterError(f"roster={name!r} is invalid: must be CSV ({exc})") from None
    if not rows:
        raise RosterError(f"roster={name!r} is invalid: must not be empty")
    cols = _check_header(rows[0], name)
    personas = _Personas()
    learners: list[Learner] = []
    for line, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank line
        learners.append(_learner(line, cols, cells, personas))
    return _mark_duplicates(learners)


class _Personas:
    """Each persona loaded once: parsing its YAML costs ~50 ms, checking a row ~1 ms."""

    def __init__(self) -> None:
        self.names = scenarios.persona_names()
        self._loaded: dict[str, Any] = {}

    def load(self, name: str, given: Mapping[str, str]) -> Any:
        """``scenarios.load(name, **given)``, reusing the validated persona."""
        if name not in self._loaded:
            self._loaded[name] = scenarios.load(name)
        base = self._loaded[name]
        return base.replace(**given) if given else base


def _learner(line: int, cols: list[str], cells: list[str], personas: _Personas) -> Learner:
    if len(cells) != len(cols):
        rec = {c: (cells[i].strip() if i < len(cells) else "") for i, c in enumerate(cols)}
        return _invalid(line, rec, f"row has {len(cells)} cells but the header has "
                        f"{len(cols)} columns")
    rec = {c: v.strip() for c, v in zip(cols, cells, strict=True)}
    if not rec["learner_id"]:
        return _invalid(line, rec, "learner_id='' is invalid: must be a non-empty id")
    if rec["scenario"] not in personas.names:
        close = suggest(rec["scenario"], personas.names)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        return _invalid(line, rec, f"scenario={rec['scenario']!r} is invalid: must be one of "
                        f"{', '.join(map(repr, personas.names))}{hint}")
    given = {c: v for c, v in rec.items() if c not in ID_COLUMNS and v != ""}
    try:
        sc = personas.load(rec["scenario"], given)
    except ValueError as exc:  # ScenarioError and the data module's unknown-name errors
        return _invalid(line, rec, str(exc))
    overrides = {c: getattr(sc, c) for c in given}
    return Learner(line, rec["learner_id"], rec.get("learner_name", ""), rec["scenario"],
                   overrides, safe_id(rec["learner_id"]))


def _invalid(line: int, rec: Mapping[str, str], reason: str) -> Learner:
    lid = rec.get("learner_id", "")
    return Learner(line, lid, rec.get("learner_name", ""), rec.get("scenario", ""), {},
                   safe_id(lid) if lid else "", reason)


def _mark_duplicates(learners: list[Learner]) -> list[Learner]:
    by_id: dict[str, list[int]] = defaultdict(list)
    by_sid: dict[str, set[str]] = defaultdict(set)
    for x in learners:
        if x.learner_id:
            by_id[x.learner_id].append(x.row)
            by_sid[x.safe_id].add(x.learner_id)
    out = []
    for x in learners:
        rows = by_id.get(x.learner_id, [])
        if x.learner_id and len(rows) > 1:
            why = (f"learner_id={x.learner_id!r} is invalid: must be unique "
                   f"(it appears on rows {', '.join(map(str, rows))})")
            x = dataclasses.replace(x, reason=why)
        elif x.learner_id and len(by_sid[x.safe_id]) > 1:  # hash collision: never seen
            x = dataclasses.replace(x, reason=f"learner_id={x.learner_id!r} is invalid: its "
                                    f"file name {x.safe_id!r} clashes with another id")
        out.append(x)
    return out
