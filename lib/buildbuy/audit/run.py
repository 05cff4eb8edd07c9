"""One audit, end to end: check the endpoint, sweep the levels, probe, decide, report.

Order of work, every step bounded:

1. ``GET /models`` (optional on the server's side): a lab's model card gives its GPU and
   clock. Nothing listening, or a refused key, stops here with a one-line error.
2. One warm-up request, not measured (as GenAI-Perf's ``--warmup-request-count``); a
   wrong model or path, a malformed stream or a timeout stops here.
3. Each concurrency level: exactly its number of requests, each with a deadline.
4. When :func:`~buildbuy.audit.verdict.needs_probe` says so (no 429, and the GPU alone
   does not explain the step), the top level once more without streaming: the network
   test of :mod:`buildbuy.audit.verdict`.
5. The verdict, through :func:`buildbuy.bottleneck.audit`.

Examples
--------
>>> from buildbuy import lab
>>> with lab.start(seed=2, kind="none", time_scale=2.0) as server:
...     report = audit(server.url, model=server.model, concurrency=(1, 8),
...                    requests=(2, 8), prompt_tokens=32, output_tokens=8)
>>> report.binding
'memory_bandwidth'
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from buildbuy._validate import bad, integer, positive
from buildbuy.audit.client import AuditError, base_url, fetch_models, make_client, run_level
from buildbuy.audit.metrics import LevelStats, level_stats
from buildbuy.audit.report import AuditReport
from buildbuy.audit.verdict import GpuContext, decide, needs_probe

__all__ = ["audit", "audit_async", "explain"]

MAX_CONCURRENCY = 1024
MAX_REQUESTS = 100_000


def explain(cause: str, message: str, *, url: str, model: str, timeout_s: float) -> str:
    """The one-line error for an endpoint the audit cannot use."""
    where = base_url(url) + "/chat/completions"
    if cause == "connect":
        return (f"cannot connect to {where}: connection refused or host unreachable "
                f"(is the server running, on that host and port?) [{message}]")
    if cause == "timeout":
        return (f"timeout: {where} sent no complete answer within {timeout_s:g} s (raise "
                "--timeout, or check that the server is not stuck)")
    if cause == "http_401":
        return (f"401 Unauthorized from {where}: the server wants an API key; put it in an "
                f"environment variable and pass --api-key-env VAR (server: {message})")
    if cause == "http_404":
        return (f"404 Not Found from {where}: wrong model name {model!r} or wrong path (the "
                f"base URL usually ends in /v1) (server: {message})")
    if cause == "malformed":
        return (f"malformed stream from {where}: {message} (is this an OpenAI-compatible "
                "chat-completions endpoint?)")
    if cause == "stream_error":
        return f"the server at {where} failed mid-stream: {message}"
    if cause == "rate_limited":
        return f"429 Too Many Requests from {where} on the first request: {message}"
    status = cause.removeprefix("http_")
    return f"HTTP {status} from {where}: {message}"


def _levels(concurrency: Sequence[int], requests: int | Sequence[int]
            ) -> list[tuple[int, int]]:
    if isinstance(concurrency, (str, bytes)) or not isinstance(concurrency, Sequence) \
            or not concurrency:
        raise bad("concurrency", concurrency, "a non-empty list of whole numbers, e.g. (1, 4, 16)")
    cs = [integer("concurrency", c, minimum=1, maximum=MAX_CONCURRENCY) for c in concurrency]
    if cs != sorted(set(cs)):
        raise bad("concurrency", concurrency, "increasing whole numbers without repeats")
    if isinstance(requests, Sequence) and not isinstance(requests, (str, bytes)):
        if len(requests) != len(cs):
            raise bad("requests", requests, f"one number, or one per concurrency level ({len(cs)})")
        ns = [integer("requests", n, minimum=1, maximum=MAX_REQUESTS) for n in requests]
    else:
        ns = [integer("requests", requests, minimum=1, maximum=MAX_REQUESTS)] * len(cs)
    return list(zip(cs, ns, strict=True))


def _gpu_context(cards: list[dict], model: str, gpu: str | None, tps_model: str | None,
                 tensor_parallel: int | None) -> tuple[GpuContext | None, dict[str, Any]]:
    from buildbuy import data

    card = next((c for c in cards if c.get("id") == model), None)
    lab = card.get("buildbuy_lab") if isinstance(card, dict) else None
    clock = {"time_scale": 1.0, "source": "wall clock"}
    if isinstance(lab, dict):
        scale = lab.get("time_scale", 1.0)
        if isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0:
            clock = {"time_scale": float(scale), "source": "the server's model card "
                                                           "(buildbuy lab)"}
    if gpu is None and isinstance(lab, dict) and lab.get("gpu"):
        name = tps_model or model
        if name in data.model_names():
            return GpuContext(name, str(lab["gpu"]), int(lab.get("tensor_parallel", 1)),
                              source="the server's model card"), clock
    if gpu is None:
        return None, clock
    g = data.get_gpu(gpu).name
    name = tps_model or model
    if name not in data.model_names():
        raise bad("tps_model", name, "a model of data/models.csv describing what the endpoint "
                                     f"serves (needed with gpu={gpu!r})")
    tp = 1 if tensor_parallel is None else integer("tensor_parallel", tensor_parallel,
                                                   minimum=1, maximum=64)
    return GpuContext(data.get_model(name).name, g, tp), clock


async def audit_async(url: str, *, model: str, concurrency: Sequence[int] = (1, 4, 16),
                      requests: int | Sequence[int] = 16, prompt_tokens: int = 128,
                      output_tokens: int = 64, api_key: str | None = None,
                      timeout_s: float = 60.0, gpu: str | None = None,
                      tps_model: str | None = None, tensor_parallel: int | None = None,
                      probe: bool = True, extra_body: Mapping[str, Any] | None = None,
                      out_dir: str | Path | None = None) -> AuditReport:
    """The coroutine behind :func:`audit` (same parameters)."""
    base = base_url(url)
    if not isinstance(model, str) or not model:
        raise bad("model", model, "the model name the endpoint serves")
    plan = _levels(concurrency, requests)
    prm = integer("prompt_tokens", prompt_tokens, minimum=1, maximum=1_000_000)
    out = integer("output_tokens", output_tokens, minimum=1, maximum=1_000_000)
    t_out = positive("timeout_s", timeout_s)
    if not math.isfinite(t_out):
        raise bad("timeout_s", timeout_s, "a finite number of seconds")
    if extra_body is not None and not isinstance(extra_body, Mapping):
        raise bad("extra_body", extra_body, "a mapping of extra request fields")
    try:
        cards = await fetch_models(base, api_key=api_key, timeout_s=t_out)
    except AuditError as exc:
        raise AuditError(exc.cause, explain(exc.cause, str(exc), url=base, model=model,
                                            timeout_s=t_out)) from None
    ctx, clock = _gpu_context(cards, model, gpu, tps_model, tensor_parallel)
    scale = clock["time_scale"]
    async with make_client(plan[-1][0], t_out) as client:
        kw = dict(prompt_tokens=prm, output_tokens=out, timeout_s=t_out, api_key=api_key,
                  extra_body=extra_body, client=client)
        warm, _, _ = await run_level(base, model, concurrency=1, requests=1,
                                     first_index=10**6, **kw)
        if not warm[0].ok:
            raise AuditError(warm[0].cause or "malformed",
                             explain(warm[0].cause or "malformed", warm[0].message, url=base,
                                     model=model, timeout_s=t_out))
        levels: list[LevelStats] = []
        sent = 0
        for c, n in plan:
            recs, t0, t1 = await run_level(base, model, concurrency=c, requests=n,
                                           first_index=sent, **kw)
            sent += n
            levels.append(level_stats(recs, t0, t1, time_scale=scale))
        probe_stats = None
        if probe and needs_probe(levels, gpu=ctx, prompt_tokens=prm, output_tokens=out):
            c_top, n_top = plan[-1]
            recs, t0, t1 = await run_level(base, model, concurrency=c_top, requests=n_top,
                                           first_index=sent, stream=False, **kw)
            probe_stats = level_stats(recs, t0, t1, time_scale=scale)
    verdict = decide(levels, probe=probe_stats, gpu=ctx, prompt_tokens=prm, output_tokens=out)
    report = AuditReport(
        url=base, model=model,
        settings={"concurrency": [c for c, _ in plan], "requests": [n for _, n in plan],
                  "prompt_tokens": prm, "output_tokens": out, "timeout_s": t_out,
                  "probe_without_streaming": probe, "warmup_requests": 1},
        levels=levels, probe=probe_stats, verdict=verdict, clock=clock,
        gpu=None if ctx is None else {"model": ctx.model, "gpu": ctx.gpu,
                                      "tensor_parallel": ctx.tensor_parallel,
                                      "source": ctx.source})
    if out_dir is not None:
        report.write(out_dir)
    return report


def audit(url: str, *, model: str, concurrency: Sequence[int] = (1, 4, 16),
          requests: int | Sequence[int] = 16, prompt_tokens: int = 128,
          output_tokens: int = 64, api_key: str | None = None,
          api_key_env: str | None = None, timeout_s: float = 60.0, gpu: str | None = None,
          tps_model: str | None = None, tensor_parallel: int | None = None,
          probe: bool = True, extra_body: Mapping[str, Any] | None = None,
          out_dir: str | Path | None = None) -> AuditReport:
    """Audit an OpenAI-compatible chat-completions endpoint and name its bottleneck.

    Parameters
    ----------
    url : str
        The OpenAI base URL, e.g. ``http://127.0.0.1:8000/v1`` (a trailing
        ``/chat/completions`` is accepted).
    model : str
        The model name the endpoint serves.
    concurrency : sequence of int
        Concurrent requests of each level, increasing (closed loop: a finished request
        is replaced at once).
    requests : int or sequence of int
        Requests per level (one number for all, or one per level).
    prompt_tokens, output_tokens : int
        Synthetic prompt length (words, about one token each) and ``max_tokens``.
    api_key, api_key_env : str, optional
        The key, or the name of the environment variable holding it.
    timeout_s : float
        Deadline of each request, seconds.
    gpu, tps_model, tensor_parallel : optional
        The hardware behind the endpoint (``data/gpus.csv``; the model as named in
        ``data/models.csv`` if ``model`` is not); lets the verdict compare the measured
        step with the TPS model. A lab says it itself.
    probe : bool
        Re-run the top level without streaming (the network test).
    extra_body : mapping, optional
        More request fields, e.g. ``{"ignore_eos": True}`` for vLLM.
    out_dir : path, optional
        Write ``audit.csv``, ``audit.json`` and ``audit.html`` there.

    Returns
    -------
    AuditReport
        ``binding``, ``ceiling_tokens_per_s``, ``levels``, ``verdict.evidence``.

    Raises
    ------
    AuditError
        The endpoint cannot be used (one-line message: connection refused, 401, 404,
        malformed stream, timeout).
    ValueError
        A bad argument, named.
    """
    key = api_key
    if api_key_env is not None:
        key = os.environ.get(api_key_env)
        if not key:
            raise bad("api_key_env", api_key_env, "the name of a set, non-empty "
                                                  "environment variable")
    coro = audit_async(url, model=model, concurrency=concurrency, requests=requests,
                       prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                       api_key=key, timeout_s=timeout_s, gpu=gpu, tps_model=tps_model,
                       tensor_parallel=tensor_parallel, probe=probe, extra_body=extra_body,
                       out_dir=out_dir)
    return _run_sync(coro)


def _run_sync(coro: Any) -> Any:
    """Run a coroutine to completion, also from inside a running loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=target, name="buildbuy-audit")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
