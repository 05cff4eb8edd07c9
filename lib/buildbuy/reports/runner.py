"""Run the report template for every learner of a roster, locally or on Dask.

The parent process reads and validates the whole roster first
(:func:`buildbuy.reports.roster.read_roster`), decides which learners are
already up to date (resume, :mod:`.state`), and hands the rest to a backend:

- **local** (default): a pool of ``workers`` processes (default: the CPU cores
  this process may use). Each worker keeps one warm kernel (:mod:`.worker`).
- **dask**: ``scheduler="tcp://host:port"`` (or a ``distributed.Client``)
  sends the same :class:`~buildbuy.reports.worker.Job` objects to an existing
  ``dask.distributed`` cluster. Workers must share the output folder (e.g. a
  network file system) and have ``buildbuy`` installed with its kernel.

Whatever the backend, the result is one row per roster row, in roster order,
written to ``DIR/summary.csv`` and ``DIR/index.html`` (:mod:`.index`).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import multiprocessing
import multiprocessing.util
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from buildbuy._validate import integer
from buildbuy.paths import REPO_ROOT
from buildbuy.reports import index, state
from buildbuy.reports.roster import Learner, RosterError, read_roster
from buildbuy.reports.worker import Job, run_job, shutdown_all

__all__ = ["DEFAULT_TEMPLATE", "Summary", "default_workers", "run_reports"]

#: the report notebook executed for every learner
DEFAULT_TEMPLATE: Path = REPO_ROOT / "notebooks" / "learner_report.ipynb"
_POOL_RETRIES = 2


@dataclasses.dataclass(frozen=True)
class Summary:
    """What a run produced.

    Attributes
    ----------
    rows : list of dict
        One per roster row, in roster order, with the columns of
        :data:`buildbuy.reports.index.SUMMARY_COLUMNS`.
    out_dir : Path
        The output folder.
    seconds : float
        Wall time of the whole run.
    """

    rows: list[dict[str, Any]]
    out_dir: Path
    seconds: float

    def counts(self) -> dict[str, int]:
        """Number of rows per status (``ok``, ``skipped``, ``failed``, ``invalid``)."""
        out = dict.fromkeys(index.STATUSES, 0)
        for r in self.rows:
            out[r["status"]] += 1
        return out

    @property
    def exit_code(self) -> int:
        """0 when every row is ok or skipped (already up to date), else 1."""
        c = self.counts()
        return 0 if c["failed"] == 0 and c["invalid"] == 0 else 1


def default_workers() -> int:
    """The CPU cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _row(learner: Learner, status: str, reason: str = "", figures: dict[str, Any] | None = None,
         seconds: float = 0.0, pack_files: list[str] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"row": learner.row, "learner_id": learner.learner_id,
                           "learner_name": learner.learner_name, "safe_id": learner.safe_id,
                           "scenario": learner.scenario, "status": status}
    figs = figures or {}
    for col in index.FIGURE_COLUMNS:
        row[col] = figs.get(col)
    files = pack_files or []
    for col, suffix in index.PACK_COLUMNS.items():
        row[col] = next((f for f in files if f.endswith(suffix)), None)
    row["seconds"] = round(float(seconds), 3)
    row["reason"] = reason
    return row


def _is_fresh(out_dir: Path, learner: Learner, key: str) -> dict[str, Any] | None:
    stamp = state.read_stamp(out_dir, learner.safe_id)
    if not stamp or stamp.get("status") != "ok" or stamp.get("key") != key:
        return None
    for ext in (".ipynb", ".html"):
        if not (out_dir / f"{learner.safe_id}{ext}").is_file():
            return None
    if not all((out_dir / name).is_file() for name in stamp.get("pack", [])):
        return None  # a board-pack file went missing: redo the learner
    return stamp


def run_reports(
    roster: str | Path,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    force: bool = False,
    template: str | Path | None = None,
    timeout_s: int = 600,
    progress: bool | None = None,
    recycle_every: int = 100,
) -> Summary:
    """Produce every learner's report from ``roster`` into ``out_dir``.

    Parameters
    ----------
    roster : path
        The roster CSV (see :mod:`buildbuy.reports.roster`).
    out_dir : path
        Output folder; created if missing.
    workers : int, optional
        Local worker processes (default :func:`default_workers`). Ignored with
        ``scheduler``.
    scheduler : str or distributed.Client, optional
        A Dask scheduler address (``"tcp://host:8786"``) or a connected client.
    force : bool
        Redo learners whose outputs are up to date.
    template : path, optional
        The report notebook (default :data:`DEFAULT_TEMPLATE`).
    timeout_s : int
        Longest time one cell may run.
    progress : bool, optional
        Show a progress bar on stderr (default: when stderr is a terminal).
    recycle_every : int
        Replace a worker's kernel after this many learners.

    Returns
    -------
    Summary

    Raises
    ------
    RosterError
        The roster cannot be used (exit status 2 on the command line).
    """
    t0 = time.perf_counter()
    n_workers = default_workers() if workers is None else integer("workers", workers, minimum=1)
    timeout_s = integer("timeout_s", timeout_s, minimum=1)
    recycle_every = integer("recycle_every", recycle_every, minimum=1)
    tpl = Path(template) if template is not None else DEFAULT_TEMPLATE
    if not tpl.is_file():
        raise FileNotFoundError(f"template={str(tpl)!r} is invalid: must be an existing notebook")
    learners = read_roster(roster)
    if not learners:
        raise RosterError(f"roster={str(roster)!r} is invalid: must have at least one learner "
                          "row below the header")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out={str(out)!r} is invalid: must be a folder for the reports "
                         "(this path is an existing file)")
    out.mkdir(parents=True, exist_ok=True)
    state.remove_stale_temps(out)

    tpl_bytes = tpl.read_bytes()
    env = state.environment_digest()
    rows: dict[int, dict[str, Any]] = {}
    jobs: dict[str, tuple[Learner, Job]] = {}
    for x in learners:
        if not x.valid:
            rows[x.row] = _row(x, "invalid", x.reason)
            continue
        key = state.input_key(x.parameters(), tpl_bytes, env)
        stamp = None if force else _is_fresh(out, x, key)
        if stamp is not None:
            rows[x.row] = _row(x, "skipped", "", stamp.get("figures"),
                               pack_files=stamp.get("pack"))
            continue
        jobs[x.safe_id] = (x, Job(x.safe_id, x.parameters(), key, str(tpl.resolve()), str(out),
                                  timeout_s, "python3", recycle_every))

    job_list = [j for _, j in jobs.values()]
    if scheduler is not None:
        results = _run_dask(job_list, scheduler)
    else:
        results = _run_local(job_list, min(n_workers, max(1, len(job_list))))
    show = sys.stderr.isatty() if progress is None else progress
    for res in _progress(results, len(job_list), show):
        learner = jobs[res["safe_id"]][0]
        rows[learner.row] = _row(learner, res["status"], res.get("reason", ""),
                                 res.get("figures"), res.get("seconds", 0.0), res.get("pack"))

    ordered = [rows[x.row] for x in learners]
    index.write_summary(out, ordered)
    index.write_index(out, ordered, roster=Path(roster).name)
    return Summary(ordered, out, round(time.perf_counter() - t0, 3))


def _progress(results: Iterable[dict[str, Any]], total: int,
              show: bool) -> Iterator[dict[str, Any]]:
    from tqdm.auto import tqdm

    with tqdm(total=total, disable=not show or total == 0, unit="learner",
              desc="reports", file=sys.stderr) as bar:
        for res in results:
            bar.update(1)
            bar.set_postfix_str(f"last: {res['status']}", refresh=False)
            yield res


def _worker_init() -> None:
    """Stop this process's warm kernel when the pool shuts it down."""
    multiprocessing.util.Finalize(None, shutdown_all, exitpriority=10)


def _failed(job: Job, reason: str) -> dict[str, Any]:
    return {"safe_id": job.safe_id, "status": "failed", "reason": reason, "figures": {},
            "seconds": 0.0}


def _run_local(jobs: list[Job], n_workers: int) -> Iterator[dict[str, Any]]:
    """Run ``jobs`` on a local process pool; yield results as they finish.

    A worker that dies (out of memory, killed) breaks the pool: the learners it
    had not finished are retried on a new pool, at most ``_POOL_RETRIES`` times.
    """
    pending = list(jobs)
    ctx = multiprocessing.get_context("spawn")
    for attempt in range(_POOL_RETRIES + 1):
        if not pending:
            return
        broken: list[Job] = []
        with cf.ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx,
                                    initializer=_worker_init) as pool:
            futures = {pool.submit(run_job, j): j for j in pending}
            for fut in cf.as_completed(futures):
                job = futures[fut]
                try:
                    yield fut.result()
                except cf.process.BrokenProcessPool:
                    broken.append(job)
                except Exception as exc:  # pickling or an unexpected worker error
                    yield _failed(job, f"{type(exc).__name__}: {exc}")
        pending = broken
        if pending and attempt == _POOL_RETRIES:
            for job in pending:
                yield _failed(job, "worker process died (out of memory or killed)")


def _run_dask(jobs: list[Job], scheduler: Any) -> Iterator[dict[str, Any]]:
    """Run ``jobs`` on a ``dask.distributed`` cluster; yield results as they finish."""
    from distributed import Client, as_completed

    own = isinstance(scheduler, str)
    client = Client(scheduler) if own else scheduler
    try:
        if not jobs:
            return
        futures = client.map(run_job, jobs, pure=False,
                             key=[f"buildbuy-report-{j.safe_id}-{j.key[:12]}" for j in jobs])
        by_key = {f.key: j for f, j in zip(futures, jobs, strict=True)}
        for fut in as_completed(futures):
            try:
                yield fut.result()
            except Exception as exc:  # KilledWorker, lost connection, ...
                yield _failed(by_key[fut.key], f"{type(exc).__name__}: {exc}")
        client.run(shutdown_all)
    finally:
        if own:
            client.close()


