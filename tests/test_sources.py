"""Every figure cites a public original: no private research notes, no deny-listed sites.

The course's research notes are private working files, not part of this repository, so
no tracked file may name one. A short deny-list of weak sources (an AI-written wiki and
two anonymous blogs) may not appear in any source shown to a learner: the ``source``
cells of data/, the ``sources:`` of the personas and the sources of the scenario fields.
Every sourced data row keeps a non-empty ``source`` and a valid ``as_of`` date.
"""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from buildbuy import scenarios
from buildbuy.paths import REPO_ROOT

#: The private notes are ``<topic>_anch` + `ors.md``; the word is split so that a plain
#: ``grep`` of the repository for it comes back empty, this file included.
NOTE_RE = re.compile("anch" + "ors", re.IGNORECASE)

#: Weak sources a learner must never be sent to: an AI-written wiki (cited by name, with
#: or without its domain) and two anonymous blogs.
DENY_LIST: tuple[str, ...] = ("grokipedia.com", "dreaming.press", "deluair.com")
_DENY_RE = re.compile(r"grokipedia(\.com)?|dreaming\.press|deluair(\.com)?", re.IGNORECASE)

#: Tables in data/ that hold inputs rather than sourced figures.
NOT_SOURCED = {"roster_example.csv"}


def denied(text: str) -> str | None:
    """The deny-listed site ``text`` cites, or None."""
    m = _DENY_RE.search(text)
    return m.group(0) if m else None


def tracked_files() -> list[Path]:
    """Files git tracks in the repository (a walk without .git/.venv/build if no git)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True,
                             check=True, text=True).stdout
        names = [n for n in out.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "build", "node_modules"}
        names = [str(p.relative_to(REPO_ROOT)) for p in REPO_ROOT.rglob("*")
                 if p.is_file() and not skip.intersection(p.relative_to(REPO_ROOT).parts)]
    assert names, "no files found"
    return [REPO_ROOT / n for n in names if (REPO_ROOT / n).is_file()]


def sourced_tables() -> list[Path]:
    return sorted(p for p in (REPO_ROOT / "data").rglob("*.csv") if p.name not in NOT_SOURCED)


def persona_files() -> list[Path]:
    return sorted((REPO_ROOT / "data" / "scenarios").glob("*.yaml"))


def test_the_deny_list_is_the_documented_one() -> None:
    for domain in DENY_LIST:
        assert denied(f"see https://{domain}/page") == domain


def test_the_checks_can_fail() -> None:
    assert denied("as quoted by grokipedia 'NVIDIA L4 vs L40S'") == "grokipedia"
    assert denied("see https://Dreaming.Press/gpu-costs") == "Dreaming.Press"
    assert denied("deluair.com's GPU TCO model") == "deluair.com"
    assert denied("NVIDIA L4 datasheet (nvidia.com), EIA, CBRE") is None
    assert denied("day-dreaming about cheap GPUs") is None
    assert NOTE_RE.search("(tco_" + "anch" + "ors.md 2.7)")
    assert not NOTE_RE.search("board.Anchor(24.48, 'x', ...)")


def test_no_tracked_file_names_a_private_research_note() -> None:
    hits = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if NOTE_RE.search(line):
                hits.append(f"{path.relative_to(REPO_ROOT)}:{n}: {line.strip()[:120]}")
    assert not hits, ("cite the public original, not the private research notes:\n"
                      + "\n".join(hits))


def test_sourced_tables_are_the_expected_ones() -> None:
    names = {p.relative_to(REPO_ROOT / "data").as_posix() for p in sourced_tables()}
    assert {"gpus.csv", "models.csv", "api_prices.csv",
            "published_benchmarks.csv", "measurements/decode.csv"} <= names


@pytest.mark.parametrize("path", sourced_tables(), ids=lambda p: p.name)
def test_every_data_row_keeps_a_source_and_a_date_and_no_weak_site(path: Path) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, f"{path.name} has no rows"
    for i, row in enumerate(rows, 2):
        source = (row.get("source") or "").strip()
        assert len(source) > 10, f"{path.name} line {i}: source missing or too short"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", (row.get("as_of") or "").strip()), (
            f"{path.name} line {i}: as_of must be a YYYY-MM-DD date, got {row.get('as_of')!r}")
        assert not denied(source), f"{path.name} line {i}: cites {denied(source)}"
        assert "…" not in source, f"{path.name} line {i}: source cut with '…'"


@pytest.mark.parametrize("path", persona_files(), ids=lambda p: p.stem)
def test_persona_sources_cite_no_weak_site(path: Path) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources = doc.get("sources") or {}
    assert sources, f"{path.name} has no sources"
    for field, text in sources.items():
        assert isinstance(text, str) and text.strip(), f"{path.name}: sources.{field} is empty"
        assert not denied(text), f"{path.name}: sources.{field} cites {denied(text)}"
        assert "…" not in text, f"{path.name}: sources.{field} is cut with '…'"


def test_scenario_field_sources_cite_no_weak_site() -> None:
    bad = {name: f.source for name, f in scenarios.FIELDS.items()
           if denied(f.source) or "…" in f.source or not f.source.strip()}
    assert not bad, bad
