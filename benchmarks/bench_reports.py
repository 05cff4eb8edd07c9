"""Cohort reports: ``buildbuy reports`` against a naive papermill + nbconvert CLI loop.

Both sides produce the same thing for the same learners: an executed
``learner_report.ipynb`` and an HTML page with inputs and prompts hidden. They
run one after the other in this process, on the same machine state.

- naive: for each learner in turn, ``papermill TEMPLATE OUT.ipynb -f params.yaml``
  then ``jupyter nbconvert --to html --no-input --no-prompt OUT.ipynb``;
- buildbuy: ``python -m buildbuy reports ROSTER --out DIR`` with its default
  workers (one per core), each keeping a warm kernel and an in-process exporter.

Peak memory is the largest sum of resident set sizes over the whole process
tree (CLI, workers, kernels), sampled every 50 ms with psutil.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

from buildbuy.reports import DEFAULT_TEMPLATE, default_workers

BIN = Path(sys.executable).parent
PERSONAS = ("bank_support", "hospital_notes", "retail_search")


def roster_rows(n: int) -> list[dict[str, str]]:
    """``n`` learners over the three personas; every third one changes its volume."""
    rows = []
    for i in range(n):
        tokens = f"{(1 + i % 5) * 4e9:g}" if i % 3 == 0 else ""
        rows.append({"learner_id": f"learner{i:03d}", "learner_name": f"Learner {i}",
                     "scenario": PERSONAS[i % 3], "monthly_tokens": tokens})
    return rows


class PeakRss:
    """Sample the summed RSS of a process and its descendants until stopped."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.root = psutil.Process(proc.pid)
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                procs = []
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _run(cmd: list[str], peak: list[int], cwd: Path | None = None) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    with PeakRss(proc) as rss:
        _, err = proc.communicate()
    peak[0] = max(peak[0], rss.peak_bytes)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}: {err.decode()[-800:]}")


def naive_loop(rows: list[dict[str, str]], out: Path,
               progress_every: int = 5) -> tuple[float, int]:
    """papermill CLI then nbconvert CLI per learner; return (seconds, peak RSS bytes).

    Prints a progress line every ``progress_every`` learners (this loop is most of
    ``make bench``'s time).
    """
    out.mkdir(parents=True, exist_ok=True)
    peak = [0]
    t0 = time.perf_counter()
    for i, r in enumerate(rows, start=1):
        overrides = {"monthly_tokens": float(r["monthly_tokens"])} if r["monthly_tokens"] else {}
        params = {"scenario": r["scenario"], "overrides": overrides,
                  "learner_id": r["learner_id"], "learner_name": r["learner_name"]}
        pfile = out / f"{r['learner_id']}.yaml"
        pfile.write_text(yaml.safe_dump(params))
        nb = out / f"{r['learner_id']}.ipynb"
        _run([str(BIN / "papermill"), str(DEFAULT_TEMPLATE), str(nb), "-f", str(pfile),
              "-k", "python3", "--cwd", str(DEFAULT_TEMPLATE.parent), "--no-progress-bar"],
             peak)
        _run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", "--no-prompt",
              str(nb)], peak)
        if i % progress_every == 0 or i == len(rows):
            print(f"  naive CLI loop: {i}/{len(rows)} learners, "
                  f"{time.perf_counter() - t0:.0f} s so far", flush=True)
    return time.perf_counter() - t0, peak[0]


def buildbuy_reports(rows: list[dict[str, str]], work: Path) -> tuple[float, int]:
    """``python -m buildbuy reports`` on the same learners; return (seconds, peak RSS)."""
    work.mkdir(parents=True, exist_ok=True)
    roster = work / "roster.csv"
    cols = list(rows[0])
    roster.write_text(",".join(cols) + "\n"
                      + "".join(",".join(r[c] for c in cols) + "\n" for r in rows))
    peak = [0]
    t0 = time.perf_counter()
    _run([sys.executable, "-m", "buildbuy", "reports", str(roster), "--out",
          str(work / "out"), "--no-progress", "--force"], peak)
    seconds = time.perf_counter() - t0
    htmls = list((work / "out").glob("learner*.html"))
    if len(htmls) != len(rows):
        raise RuntimeError(f"buildbuy reports wrote {len(htmls)} of {len(rows)} reports")
    return seconds, peak[0]


def main(n_learners: int = 40) -> None:
    """Print both timings, the speed-up and the peak memory of each side."""
    n_learners = int(os.environ.get("BUILDBUY_BENCH_LEARNERS", n_learners))
    rows = roster_rows(n_learners)
    print(f"{n_learners} learners, template {DEFAULT_TEMPLATE.name}, "
          f"{default_workers()} worker(s) for buildbuy (cores available)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        work = Path(tmp)
        print("  buildbuy reports: running ...", flush=True)
        fast_s, fast_rss = buildbuy_reports(rows, work / "buildbuy")
        print(f"buildbuy reports : {fast_s:7.1f} s  {fast_s / n_learners:5.2f} s/learner  "
              f"peak {fast_rss / 2**20:6.0f} MiB", flush=True)
        slow_s, slow_rss = naive_loop(rows, work / "naive")
        print(f"naive CLI loop   : {slow_s:7.1f} s  {slow_s / n_learners:5.2f} s/learner  "
              f"peak {slow_rss / 2**20:6.0f} MiB", flush=True)
    print(f"speed-up: {slow_s / fast_s:.1f}x (target >= 3x on 2 cores)")


if __name__ == "__main__":
    main()
