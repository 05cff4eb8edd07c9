"""Board pack: what the memo PDF and the deck cost per learner, and what they add to a cohort.

Two measurements, each side by side in this one run:

1. **Per learner, in process**: for scenario variants over the three personas, the time of
   the decision record (``decide``, which the report computes anyway), then what the pack
   adds on top: the board's figures (kill criteria re-run the model), the draft memo, the
   one-page PDF (reportlab) and the six-slide deck (python-pptx). Fonts and imports are
   warmed up first, as in a report worker.
2. **Cohort**: ``buildbuy reports`` on the same small roster, with the report template as
   shipped and with its board-pack line removed, same workers, ``--force``, alternating.
   The difference is the pack's added cost in a real run (kernels, papermill, HTML). On a
   shared machine this difference is within the noise of a few learners; the per-learner
   breakdown above is the precise figure.
"""

from __future__ import annotations

import csv
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

from buildbuy import boardpack, memo, scenarios
from buildbuy.decision import decide
from buildbuy.reports import DEFAULT_TEMPLATE, default_workers, run_reports

PERSONAS = ("bank_support", "hospital_notes", "retail_search")
#: each persona at three volumes: a fresh record per variant (no cache hits)
VOLUME_FACTORS = (0.7, 1.0, 1.3)
COHORT = 4
#: the two configurations run alternately this many times; each keeps its fastest run
ROUNDS = 2


def _variants() -> list[scenarios.Scenario]:
    out = []
    for name in PERSONAS:
        base = scenarios.load(name)
        out += [base.replace(monthly_tokens=base.monthly_tokens * f) for f in VOLUME_FACTORS]
    return out


def per_learner() -> dict[str, list[float]]:
    """Seconds per step for each scenario variant."""
    warm = memo.board_facts("bank_support")  # imports, fonts, the first record
    boardpack.memo_pdf(memo.draft_memo(warm))
    boardpack.deck_pptx(warm)
    steps: dict[str, list[float]] = {k: [] for k in ("decide", "board_facts", "draft",
                                                      "pdf", "deck")}
    for S in _variants():
        t0 = time.perf_counter()
        d = decide(S)
        t1 = time.perf_counter()
        f = memo.board_facts(d)
        t2 = time.perf_counter()
        m = memo.draft_memo(f)
        t3 = time.perf_counter()
        pdf = boardpack.memo_pdf(m, prepared_for="Learner")
        t4 = time.perf_counter()
        boardpack.deck_pptx(f, prepared_for="Learner")
        t5 = time.perf_counter()
        assert boardpack.page_count(pdf) == 1
        for k, v in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            steps[k].append(v)
    return steps


def _roster(path: Path) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["learner_id", "learner_name", "scenario", "monthly_tokens"])
        for i in range(COHORT):
            S = scenarios.load(PERSONAS[i % 3])
            w.writerow([f"l{i}", f"Learner {i}", S.name, f"{S.monthly_tokens * (1 + i / 10):g}"])
    return path


def _template_without_pack(dst: Path) -> Path:
    nb = nbformat.read(DEFAULT_TEMPLATE, as_version=4)
    for cell in nb.cells:
        cell.source = "\n".join(line for line in cell.source.splitlines()
                                if "report_bundle" not in line)
    nbformat.write(nb, dst)
    return dst


def cohort() -> tuple[float, float, int]:
    """Fastest wall seconds of the cohort without and with the pack, and the workers used.

    The two configurations alternate (bare, pack, bare, pack, ...) so that a busy machine
    slows both alike; each keeps its fastest of :data:`ROUNDS` runs.
    """
    with tempfile.TemporaryDirectory(prefix="buildbuy-bench-") as tmp:
        d = Path(tmp)
        roster = _roster(d / "roster.csv")
        bare = _template_without_pack(d / "learner_report.ipynb")
        workers = default_workers()
        best = {"bare": float("inf"), "pack": float("inf")}
        for _ in range(ROUNDS):
            for label, tpl in (("bare", bare), ("pack", DEFAULT_TEMPLATE)):
                out = d / label
                t0 = time.perf_counter()
                s = run_reports(roster, out, workers=workers, template=tpl, force=True,
                                progress=False)
                best[label] = min(best[label], time.perf_counter() - t0)
                assert s.exit_code == 0, [r["reason"] for r in s.rows]
                packs = len(list(out.glob("*.memo.pdf")))
                assert packs == (COHORT if label == "pack" else 0)
        return best["bare"], best["pack"], workers


def main() -> None:
    steps = per_learner()
    n = len(next(iter(steps.values())))
    med = {k: statistics.median(v) for k, v in steps.items()}
    pack = med["board_facts"] + med["draft"] + med["pdf"] + med["deck"]
    print(f"Per learner, median of {n} scenario variants (seconds, one process):")
    for k, v in med.items():
        print(f"  {k:12s} {v:6.3f}")
    print(f"  pack total   {pack:6.3f}  = {pack / med['decide']:.2f}x the decision record it "
          "is built on")
    bare, with_pack, workers = cohort()
    print(f"Cohort of {COHORT} learners, {workers} worker(s), buildbuy reports --force, "
          f"fastest of {ROUNDS} alternating runs:")
    print(f"  without the pack {bare:6.1f} s ({bare / COHORT:.2f} s a learner)")
    print(f"  with the pack    {with_pack:6.1f} s ({with_pack / COHORT:.2f} s a learner)")
    print(f"  added: {with_pack - bare:+.1f} s, {with_pack / bare - 1:+.0%} of the run "
          f"({(with_pack - bare) / COHORT * workers:+.2f} core-s a learner)")


if __name__ == "__main__":
    main()
