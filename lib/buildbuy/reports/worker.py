"""Execute one learner's report: papermill on a warm kernel, then HTML in-process.

Where the time of a naive loop goes, per learner (``papermill`` CLI then
``jupyter nbconvert`` CLI): two Python start-ups with their imports, one
kernel start-up, the kernel importing numpy/pandas/matplotlib/buildbuy, and
nbconvert loading its templates. Only the template's own cells are real work.

This module removes the rest structurally:

- a worker process (or Dask worker thread) imports papermill and nbconvert
  once and keeps one configured ``HTMLExporter`` (:mod:`.render`);
- it keeps one *warm* Jupyter kernel and runs learner after learner on it
  through a papermill engine (:class:`WarmEngine`) that reuses the kernel
  manager. Before each notebook the kernel's user namespace is wiped
  (``%reset -f``) and open figures are closed; afterwards :func:`renumber`
  numbers the cells from 1 and gives papermill's inserted cells fixed ids, so
  the executed notebook is the same, byte for byte, as on a fresh kernel (the
  test suite checks this). Imported modules stay
  loaded: that is the saving.
- the kernel is replaced after any failure and every ``recycle_every``
  learners, so one learner's crash or leak cannot reach the next ones.

:func:`run_job` never raises for a learner's problem: it returns a result
dict with ``status`` ``"ok"`` or ``"failed"`` and a ``reason``.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
import math
import os
import threading
import time
import traceback
import weakref
from pathlib import Path
from typing import Any

import nbformat

from buildbuy.notebooks import scrub
from buildbuy.reports import pack, render, state

__all__ = [
    "ENGINE_NAME",
    "FIGURES_MIME",
    "Job",
    "WarmEngine",
    "WarmKernel",
    "renumber",
    "run_job",
    "shutdown_all",
]

#: mime type of the key-figures output of the cell tagged ``render.HIDDEN_TAG``
FIGURES_MIME = "application/vnd.buildbuy.figures+json"
#: name under which :class:`WarmEngine` is registered with papermill
ENGINE_NAME = "buildbuy_warm"

_START_ATTEMPTS = 2
_PAPERMILL_TAGS = ("injected-parameters", "papermill-error-cell-tag")
_RESET_CODE = """\
get_ipython().run_line_magic('reset', '-f')
import matplotlib.pyplot as __bb_plt
__bb_plt.close('all')
del __bb_plt
"""


@dataclasses.dataclass(frozen=True)
class Job:
    """Everything a worker needs for one learner (picklable, plain data)."""

    safe_id: str
    parameters: dict[str, Any]
    key: str
    template: str
    out_dir: str
    timeout_s: int = 600
    kernel_name: str = "python3"
    recycle_every: int = 100


class WarmKernel:
    """One long-lived Jupyter kernel, started in ``cwd`` on first use."""

    def __init__(self, kernel_name: str, cwd: str, start_timeout_s: int = 60) -> None:
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.start_timeout_s = start_timeout_s
        self.km: Any = None
        self.runs = 0

    def ensure(self) -> Any:
        """Return a live kernel manager, starting a kernel if needed."""
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        if self.km is not None and run_sync(self.km.is_alive)():
            return self.km
        self.stop()
        for attempt in range(_START_ATTEMPTS):  # kernel starts can race for ports
            km = AsyncKernelManager(kernel_name=self.kernel_name)
            try:
                # in-memory history, as nbclient does: kernels must not share a SQLite file
                run_sync(km.start_kernel)(
                    cwd=self.cwd, extra_arguments=["--HistoryManager.hist_file=:memory:",
                                                   "--IPKernelApp.log_level=ERROR"])
                kc = km.client()
                kc.start_channels()
                try:
                    run_sync(kc.wait_for_ready)(timeout=self.start_timeout_s)
                finally:
                    kc.stop_channels()
            except Exception:
                with contextlib.suppress(Exception):
                    run_sync(km.shutdown_kernel)(now=True)
                if attempt == _START_ATTEMPTS - 1:
                    raise
                continue
            self.km, self.runs = km, 0
            return km
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """Shut the kernel down (if any)."""
        if self.km is not None:
            from jupyter_core.utils import run_sync

            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # dead already, or called from another thread's event loop
                process = getattr(getattr(self.km, "provisioner", None), "process", None)
                if process is not None:
                    with contextlib.suppress(Exception):
                        process.kill()
                        process.wait(timeout=10)
            self.km = None


def _engine_class() -> type:
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class _Client(PapermillNotebookClient):
        async def async_start_new_kernel_client(self) -> Any:
            kc = await super().async_start_new_kernel_client()
            msg_id = kc.execute(_RESET_CODE, silent=True, store_history=False)
            reply = await self.async_wait_for_reply(msg_id)
            if reply is None or reply["content"]["status"] != "ok":
                raise RuntimeError("could not reset the warm kernel before the notebook")
            return kc

    class _WarmEngine(NBClientEngine):
        """papermill's nbclient engine, on a kernel that outlives the notebook."""

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                     stdout_file: Any = None, stderr_file: Any = None,
                                     start_timeout: int = 60, execution_timeout: Any = None,
                                     **kwargs: Any) -> Any:
            km = kwargs.pop("km")
            partial_path = kwargs.pop("partial_path", None)
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                                 kernel_name=kernel_name, log=logger, log_output=log_output,
                                 stdout_file=stdout_file, stderr_file=stderr_file)
            client = _Client(nb_man, km=km, **final)
            try:
                return client.execute()
            except BaseException:
                # A timeout or a dead kernel is not a cell error, so papermill writes
                # nothing: keep what ran, for debugging.
                if partial_path is not None:
                    with contextlib.suppress(Exception):
                        nbformat.write(nb_man.nb, partial_path)
                raise
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()

    return _WarmEngine


WarmEngine: type | None = None
_local = threading.local()
_register_lock = threading.Lock()
_ALL_KERNELS: weakref.WeakSet[WarmKernel] = weakref.WeakSet()


def _register_engine() -> None:
    global WarmEngine
    with _register_lock:
        if WarmEngine is None:
            from papermill.engines import papermill_engines

            WarmEngine = _engine_class()
            papermill_engines.register(ENGINE_NAME, WarmEngine)


def _kernel(job: Job) -> WarmKernel:
    wk = getattr(_local, "kernel", None)
    cwd = str(Path(job.template).resolve().parent)
    if wk is None or wk.kernel_name != job.kernel_name or wk.cwd != cwd:
        if wk is not None:
            wk.stop()
        wk = WarmKernel(job.kernel_name, cwd)
        _local.kernel = wk
        with _register_lock:
            _ALL_KERNELS.add(wk)
    return wk


def shutdown_all() -> int:
    """Stop every warm kernel of this process (call before a worker exits).

    Returns how many were running. Threads that run another job afterwards
    start a fresh kernel.
    """
    with _register_lock:
        kernels = list(_ALL_KERNELS)
    running = sum(wk.km is not None for wk in kernels)
    for wk in kernels:
        wk.stop()
    return running


def renumber(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Number executed code cells 1, 2, ... as a fresh kernel would, in place.

    papermill gives the cells it inserts (``injected-parameters``, error
    banners) random ids; they get fixed ones (``<tag>-<position>``) so a rerun
    writes the same bytes.
    """
    n = 0
    for i, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        for tag in _PAPERMILL_TAGS:
            if tag in tags:
                cell["id"] = f"{tag}-{i}"
        if cell.cell_type != "code" or cell.get("execution_count") is None:
            continue
        n += 1
        cell.execution_count = n
        for out in cell.get("outputs", []):
            if out.get("output_type") == "execute_result":
                out["execution_count"] = n
    return nb


def _figures(nb: nbformat.NotebookNode) -> dict[str, Any]:
    for cell in nb.cells:
        if render.HIDDEN_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if FIGURES_MIME in data:
                fig = data[FIGURES_MIME]
                return dict(json.loads(fig) if isinstance(fig, str) else fig)
    return {}


def _clean_figures(fig: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe figures: non-finite numbers become ``None``."""
    out = {}
    for k, v in fig.items():
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        out[str(k)] = v
    return out


def _learner_strings(parameters: dict[str, Any]) -> list[str]:
    """Every string a learner controls: name, id and text overrides."""
    found = [v for v in parameters.values() if isinstance(v, str)]
    found += [v for v in dict(parameters.get("overrides") or {}).values() if isinstance(v, str)]
    return found


def _error_reason(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename is not None:  # PapermillExecutionError
        evalue = str(getattr(exc, "evalue", "")).strip().splitlines()
        cell = getattr(exc, "exec_count", None)
        return f"cell [{cell}] raised {ename}: {evalue[0] if evalue else ''}"[:500]
    return f"{type(exc).__name__}: {exc}".strip()[:500]


def run_job(job: Job) -> dict[str, Any]:
    """Execute, render and store one learner's report; return its result.

    Runs inside this thread's own :class:`contextvars.Context`. jupyter_core keeps
    its event loop in a context variable, and Dask runs tasks in copies of one
    context, so without this two threads could share one loop ("This event loop is
    already running"). Each thread keeps its context, and so its loop and kernel.

    Files written (atomically) in ``job.out_dir``: ``<safe_id>.ipynb``, then
    ``<safe_id>.html``, then the board pack (``<safe_id>.memo.pdf`` and
    ``<safe_id>.deck.pptx``, when the template emits one: :mod:`.pack`), then
    ``<safe_id>.stamp.json``. On failure only the
    partially executed ``<safe_id>.ipynb`` is kept; a stale HTML and stamp from
    an earlier run are removed so nobody reads an out-of-date report.

    Returns
    -------
    dict
        ``safe_id``, ``status`` (``"ok"`` or ``"failed"``), ``reason``,
        ``figures`` (dict), ``pack`` (file names written), ``seconds``.
    """
    ctx = getattr(_local, "context", None)
    if ctx is None:
        ctx = _local.context = contextvars.Context()
    return ctx.run(_run_job, job)


def _run_job(job: Job) -> dict[str, Any]:
    import papermill as pm

    t0 = time.perf_counter()
    out = Path(job.out_dir)
    ipynb, html = out / f"{job.safe_id}.ipynb", out / f"{job.safe_id}.html"
    tmp = state.temp_path(ipynb)
    result: dict[str, Any] = {"safe_id": job.safe_id, "status": "failed", "reason": "",
                              "figures": {}, "seconds": 0.0}
    wk: WarmKernel | None = None
    try:
        _register_engine()
        wk = _kernel(job)
        km = wk.ensure()
        wk.runs += 1
        pm.execute_notebook(job.template, str(tmp), parameters=dict(job.parameters),
                            engine_name=ENGINE_NAME, km=km, kernel_name=job.kernel_name,
                            progress_bar=False, execution_timeout=job.timeout_s,
                            log_output=False, partial_path=str(tmp),
                            # no rewrite of the whole notebook after every cell (~1 s a
                            # learner); papermill still writes it when a cell fails
                            request_save_on_cell_execute=False)
        nb = renumber(scrub(nbformat.read(tmp, as_version=4)))
        figures = _clean_figures(_figures(nb))
        files = pack.take_pack(nb)
        page = render.to_html(nb, title=f"buildbuy report {job.safe_id}")
        render.check_escaped(page, _learner_strings(job.parameters))
        nbformat.write(nb, tmp)
        os.replace(tmp, ipynb)
        state.atomic_write_text(html, page)
        written = pack.write_pack(out, job.safe_id, files)
        state.write_stamp(out, job.safe_id, {"key": job.key, "status": "ok",
                                             "figures": figures, "pack": written})
        result.update(status="ok", figures=figures, pack=written)
        if wk.runs >= job.recycle_every:
            wk.stop()
    except Exception as exc:
        result["reason"] = _error_reason(exc)
        _keep_partial(tmp, ipynb, html, out, job.safe_id, exc)
        if wk is not None:
            wk.stop()  # a fresh kernel for the next learner
    finally:
        tmp.unlink(missing_ok=True)
        result["seconds"] = round(time.perf_counter() - t0, 3)
    return result


def _keep_partial(tmp: Path, ipynb: Path, html: Path, out: Path, sid: str,
                  exc: BaseException) -> None:
    state.stamp_path(out, sid).unlink(missing_ok=True)
    html.unlink(missing_ok=True)
    pack.remove_pack(out, sid)
    try:
        if tmp.exists() and tmp.stat().st_size > 0:
            nb = renumber(scrub(nbformat.read(tmp, as_version=4)))
            nbformat.write(nb, tmp)
            os.replace(tmp, ipynb)
        else:
            ipynb.unlink(missing_ok=True)
    except Exception:  # the partial notebook is for debugging; keep the traceback instead
        state.atomic_write_text(out / f"{sid}.error.txt", "".join(
            traceback.format_exception(exc)))
