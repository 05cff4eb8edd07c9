"""Run every benchmark in this folder in one process and print its figures.

Each ``bench_*.py`` module exposes ``main() -> None`` that prints its own
section. Speed figures are ratios measured side by side within one run, so a
noisy machine moves both sides together. Each section prints as it goes; the
cohort-reports section is most of the time (its naive papermill + nbconvert loop
runs 40 learners one by one and reports progress every 5).
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    only = set(argv)
    failures = 0
    start = time.perf_counter()
    for path in sorted(HERE.glob("bench_*.py")):
        if only and path.stem not in only and path.stem.removeprefix("bench_") not in only:
            continue
        print(f"\n=== {path.stem} ===", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        t0 = time.perf_counter()
        try:
            spec.loader.exec_module(module)
            module.main()
        except Exception as exc:  # report and go on: one benchmark must not hide the others
            failures += 1
            print(f"FAILED: {type(exc).__name__}: {exc}", flush=True)
        print(f"({path.stem} took {time.perf_counter() - t0:.1f} s)", flush=True)
    print(f"\nmake bench: {time.perf_counter() - start:.0f} s in total", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
