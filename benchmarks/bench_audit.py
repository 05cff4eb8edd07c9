"""The endpoint audit and the practice lab: cost of the client, accuracy of the audit.

Measured side by side in one run:

- client CPU per streamed request (32 tokens, 16 at a time) against one lab server in a
  separate process: our aiohttp client against the same loop written with httpx (when
  httpx is installed; JupyterLab brings it). The ratio is why the audit uses aiohttp: on
  a 2-core machine the load generator must not be the bottleneck it measures;
- for each kind of lab, the audit's verdict and its ceiling against the lab's truth;
- the simplification the lab's truth makes: identical requests move in waves, below
  ``tps.serving_point``'s staggered steady state, by the printed share.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

from buildbuy import tps
from buildbuy.audit import audit
from buildbuy.audit.client import run_level
from buildbuy.audit.sse import SSEParser
from buildbuy.lab import (
    KINDS,
    REFERENCE_OUTPUT_TOKENS,
    REFERENCE_PROMPT_TOKENS,
    LabSpec,
    exercise,
    start,
)

REQUESTS, CONCURRENCY, TOKENS = 160, 16, 32


def _httpx_level(url: str) -> None:
    import httpx

    async def run() -> None:
        limits = httpx.Limits(max_connections=CONCURRENCY)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            todo = iter(range(REQUESTS))

            async def worker() -> None:
                for i in todo:
                    body = {"model": "llama-3.1-8b", "max_tokens": TOKENS, "stream": True,
                            "messages": [{"role": "user", "content": f"w{i} " * 64}]}
                    async with client.stream("POST", url + "/chat/completions",
                                             json=body) as r:
                        parser = SSEParser()
                        async for part in r.aiter_bytes():
                            for data in parser.feed(part):
                                if data != "[DONE]":
                                    json.loads(data)

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))

    asyncio.run(run())


def _ours(url: str) -> None:
    asyncio.run(run_level(url, "llama-3.1-8b", concurrency=CONCURRENCY, requests=REQUESTS,
                          prompt_tokens=64, output_tokens=TOKENS, timeout_s=30))


def _cpu_ms_per_request(fn, url: str) -> float:  # type: ignore[no-untyped-def]
    t0 = time.process_time()
    fn(url)
    return (time.process_time() - t0) / REQUESTS * 1e3


def client_cost() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "buildbuy", "lab", "serve", "--port",
                               str(port), "--bottleneck", "none", "--time-scale", "0.001",
                               "--max-seconds", "300"], stdout=subprocess.PIPE, text=True)
    try:
        server.stdout.readline()
        server.stdout.readline()
        url = f"http://127.0.0.1:{port}/v1"
        ours = _cpu_ms_per_request(_ours, url)
        print(f"client CPU per streamed request ({TOKENS} tokens, {CONCURRENCY} at a time): "
              f"aiohttp (the audit) {ours:.2f} ms", end="")
        try:
            other = _cpu_ms_per_request(_httpx_level, url)
            print(f", httpx {other:.2f} ms: {other / ours:.1f}x")
        except ImportError:
            print(" (httpx not installed: no comparison)")
    finally:
        server.terminate()
        server.wait(timeout=30)


def accuracy() -> None:
    print("kind             truth binding     audit binding     ceiling error  audit s")
    for kind in KINDS:
        spec = LabSpec.from_seed(5, kind=kind)
        t0 = time.perf_counter()
        with start(spec, time_scale="auto", max_seconds=300) as lab:
            report = audit(lab.url, model=lab.model, **exercise.AUDIT_SETTINGS)
        truth = spec.truth()
        err = report.ceiling_tokens_per_s / truth.ceiling_tokens_per_s - 1
        print(f"{kind:16s} {truth.binding:17s} {report.binding:17s} {err:+12.1%}  "
              f"{time.perf_counter() - t0:6.1f}")


def wave_gap() -> None:
    for seed in range(3):
        spec = LabSpec.from_seed(seed, kind="none")
        b = spec.full_batch()
        steady = tps.serving_point(spec.model, spec.gpu, batch=b,
                                   prompt_tokens=REFERENCE_PROMPT_TOKENS,
                                   output_tokens=REFERENCE_OUTPUT_TOKENS)
        waves = spec.gpu_ceiling_tokens_per_s()
        print(f"batch {b}: waves {waves:,.0f} vs serving_point {steady.output_tokens_per_s:,.0f}"
              f" output tokens/s ({waves / steady.output_tokens_per_s - 1:+.1%})")


def main() -> None:
    client_cost()
    accuracy()
    wave_gap()


if __name__ == "__main__":
    main()
