"""Execute one submitted notebook, inside the grader's sandbox, and report how it went.

``python -m buildbuy.grading.runner --input DIR --workdir DIR --notebook NAME ...``
copies the learner's files from ``--input`` (read-only) to ``--workdir``, runs
``NAME`` there with papermill (the grader's parameters injected), and writes
**one JSON object to its stdout**, then exits::

    {"outcome": "ok" | "cell_error" | "cell_timeout" | "output_flood" |
                "kernel_died" | "runner_error",
     "reason": "..." or null,
     "notebook": {... the executed notebook ...} or null}

Everything else (papermill's log, the kernel's own stderr) goes to stderr. The
notebook's outputs are counted as they arrive: past ``--max-output-bytes`` the run
stops at once with outcome ``output_flood`` and the outputs so far, so a notebook
printing a gigabyte is reported as exactly that, not as a timeout.

The grader treats this JSON as untrusted: the notebook runs as the same user in
the same sandbox and could replace it. Nothing in it is believed except the
answers, and those are re-checked in the grader (:mod:`buildbuy.grading`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

__all__ = ["OUTCOMES", "content_chars", "main"]

#: how a run can end
OUTCOMES = ("ok", "cell_error", "cell_timeout", "output_flood", "kernel_died", "runner_error")
ENGINE_NAME = "buildbuy_capped"
_EXECUTED = "/tmp/buildbuy-runner/executed.ipynb"

_result: TextIO | None = None


def content_chars(content: dict[str, Any]) -> int:
    """Characters an output message adds to the notebook (streams, data, tracebacks).

    Examples
    --------
    >>> content_chars({"name": "stdout", "text": "hello"})
    5
    >>> content_chars({"data": {"text/plain": "1", "image/png": "AAAA"}})
    5
    """
    n = len(content.get("text") or "")
    for value in (content.get("data") or {}).values():
        n += len(value) if isinstance(value, str) else len(json.dumps(value))
    n += sum(len(line) for line in content.get("traceback") or [])
    return n


def emit(outcome: str, reason: str | None, notebook: Any) -> None:
    """Write the one result object to the result channel and end the process now.

    ``os._exit``: nothing may run after the result (no atexit, no kernel shutdown
    wait); the sandbox's teardown ends whatever is left.
    """
    if _result is not None:
        with contextlib.suppress(Exception):
            _result.write(json.dumps({"outcome": outcome, "reason": reason,
                                      "notebook": notebook}))
            _result.flush()
    os._exit(0)


def _engine(max_output_chars: int) -> type:
    """papermill's nbclient engine with a client that counts output as it arrives."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class _Client(PapermillNotebookClient):
        printed = 0

        def output(self, outs: list[Any], msg: dict[str, Any], display_id: Any,
                   cell_index: int) -> Any:
            self.printed += content_chars(msg.get("content") or {})
            if self.printed > max_output_chars:
                mb = max_output_chars / 2**20
                outs.append({"output_type": "stream", "name": "stderr",
                             "text": f"[grader: output stopped after {mb:g} MB]\n"})
                with contextlib.suppress(Exception):  # do not leave the kernel behind
                    self.km.provisioner.process.kill()
                emit("output_flood", f"printed more than {mb:g} MB of output (the limit); "
                     "stopped", self.nb)
            return super().output(outs, msg, display_id, cell_index)

    class _Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str,
                                     log_output: bool = False, stdout_file: Any = None,
                                     stderr_file: Any = None, start_timeout: int = 60,
                                     execution_timeout: Any = None, **kwargs: Any) -> Any:
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=execution_timeout,
                                 startup_timeout=start_timeout, kernel_name=kernel_name,
                                 log=logger, log_output=log_output, stdout_file=stdout_file,
                                 stderr_file=stderr_file)
            return _Client(nb_man, **final).execute()

    return _Engine


def copy_input(src: Path, dst: Path) -> None:
    """Copy the learner's files: regular files and folders only, never a symbolic link."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(src):
        target = dst / entry.name
        if entry.is_symlink():
            continue
        if entry.is_dir(follow_symlinks=False):
            copy_input(Path(entry.path), target)
        elif entry.is_file(follow_symlinks=False):
            shutil.copyfile(entry.path, target, follow_symlinks=False)


def _run(args: argparse.Namespace) -> tuple[str, str | None]:
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillExecutionError

    work = Path(args.workdir)
    copy_input(Path(args.input), work)
    Path(_EXECUTED).parent.mkdir(parents=True, exist_ok=True)
    papermill_engines.register(ENGINE_NAME, _engine(args.max_output_bytes))
    try:
        pm.execute_notebook(str(work / args.notebook), _EXECUTED,
                            parameters=json.loads(args.parameters), engine_name=ENGINE_NAME,
                            kernel_name="python3", cwd=str(work), progress_bar=False,
                            log_output=False, execution_timeout=args.cell_timeout,
                            start_timeout=120, report_mode=False)
    except PapermillExecutionError as exc:
        evalue = str(exc.evalue).strip().splitlines()
        return "cell_error", (f"cell [{exc.exec_count}] raised {exc.ename}: "
                              f"{evalue[0] if evalue else ''}")[:300]
    except CellTimeoutError:
        return "cell_timeout", (f"a cell ran longer than the per-cell limit of "
                                f"{args.cell_timeout:g} s; stopped")
    except DeadKernelError as exc:
        return "kernel_died", f"the kernel died ({exc}".strip()[:250] + ")"
    return "ok", None


def main(argv: Sequence[str] | None = None) -> int:
    """Run as ``python -m buildbuy.grading.runner``; see the module docstring."""
    global _result
    p = argparse.ArgumentParser(prog="python -m buildbuy.grading.runner")
    p.add_argument("--input", required=True, help="read-only folder with the learner's files")
    p.add_argument("--workdir", required=True, help="writable folder the notebook runs in")
    p.add_argument("--notebook", required=True, help="file name of the notebook in --input")
    p.add_argument("--parameters", default="{}", help="papermill parameters as JSON")
    p.add_argument("--cell-timeout", type=float, default=120.0)
    p.add_argument("--max-output-bytes", type=int, default=64 * 2**20)
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    # stdout is the result channel: keep a private copy, send everything else to stderr
    _result = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        outcome, reason = _run(args)
    except Exception as exc:  # the runner itself failed: say so, never hang
        outcome, reason = "runner_error", f"{type(exc).__name__}: {exc}"[:300]
    try:
        notebook = json.loads(Path(_EXECUTED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        notebook = None
    emit(outcome, reason, notebook)
    return 0  # pragma: no cover - emit() does not return


if __name__ == "__main__":
    main()
