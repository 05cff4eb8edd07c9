"""The lab's HTTP face: an OpenAI-compatible aiohttp web application around the engine.

Routes: ``GET /v1/models`` and ``/v1/models/{id}``, ``POST /v1/chat/completions``
(streamed or not), ``GET /health``. Anything else is a 404 (405 for a wrong method) with
an OpenAI error body. With an API key set, every ``/v1`` route wants
``Authorization: Bearer <key>`` (401 otherwise), as vLLM's ``--api-key`` does.

The injected bottlenecks that live outside the engine are here:

- ``network_io``: :class:`Link`, a first-in first-out pipe of ``link_bytes_per_s`` that
  every response byte crosses, plus ``latency_ms`` each way;
- ``api_rate_limit``: :class:`TokenBucket`, charged prompt + ``max_tokens`` per request.
  Its depth is a quarter of a second of quota (:data:`BUCKET_S`), and at least
  :data:`BUCKET_MIN_REQUESTS` reference requests: hosted APIs may enforce a per-minute
  limit over shorter periods (OpenAI, "Rate limits" guide, 2026), and a short audit must
  be able to see it. Every response carries OpenAI's
  ``x-ratelimit-limit-tokens`` / ``-remaining-tokens`` / ``-reset-tokens`` headers; a 429
  also ``retry-after`` (seconds) and ``retry-after-ms``.

All durations and rates are model time stretched by ``time_scale`` on the wall clock.
The model card carries ``buildbuy_lab: {gpu, tensor_parallel, time_scale}`` so that an
auditor can report in the lab's own time (as vLLM's cards add ``max_model_len``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from buildbuy.lab.engine import Engine, Sequence
from buildbuy.lab.spec import REFERENCE_OUTPUT_TOKENS, REFERENCE_PROMPT_TOKENS, LabSpec
from buildbuy.lab.wire import StreamFormat, completion_body, count_prompt_tokens, error_body

__all__ = ["BUCKET_MIN_REQUESTS", "BUCKET_S", "DEFAULT_MAX_TOKENS", "ENGINE", "SPEC", "Link",
           "TokenBucket", "create_app"]

#: Where the app keeps its engine and its spec (``app[ENGINE]``).
ENGINE = web.AppKey("engine", Engine)
SPEC = web.AppKey("spec", LabSpec)
_TASK = web.AppKey("engine_task", asyncio.Task)

#: ``max_tokens`` when a request gives none (OpenAI's default is the rest of the context).
DEFAULT_MAX_TOKENS: int = 256
#: Depth of the rate limiter's bucket, in (model) seconds of quota ...
BUCKET_S: float = 0.25
#: ... but at least this many requests of the reference shape.
BUCKET_MIN_REQUESTS: int = 4


class Link:
    """A shared first-in first-out link of ``bytes_per_s`` (wall) and a one-way latency.

    Examples
    --------
    >>> link = Link(1000.0, latency_s=0.0)
    >>> t0 = time.perf_counter()
    >>> round(link.reserve(500, t0) - t0, 3), round(link.reserve(500, t0) - t0, 3)
    (0.5, 1.0)
    """

    def __init__(self, bytes_per_s: float, *, latency_s: float) -> None:
        self.bytes_per_s = bytes_per_s
        self.latency_s = latency_s
        self._free_at = 0.0

    def reserve(self, nbytes: int, earliest: float) -> float:
        """Queue ``nbytes`` that may leave at ``earliest``; return when the last byte is out."""
        start = max(earliest, self._free_at)
        self._free_at = start + nbytes / self.bytes_per_s
        return self._free_at


class TokenBucket:
    """A token-per-minute quota as a bucket :data:`BUCKET_S` of quota deep (model time).

    Examples
    --------
    >>> b = TokenBucket(240000.0, time_scale=1.0)   # 4,000 tokens/s, 1,000 deep
    >>> b.take(800)[0], b.take(800)[0]
    (True, False)
    """

    def __init__(self, tokens_per_minute: float, *, time_scale: float) -> None:
        self.per_minute_wall = tokens_per_minute / time_scale
        self.rate = tokens_per_minute / 60.0 / time_scale  # tokens per wall second
        self.depth = max(tokens_per_minute / 60.0 * BUCKET_S, BUCKET_MIN_REQUESTS * (
            REFERENCE_PROMPT_TOKENS + REFERENCE_OUTPUT_TOKENS))
        self.level = self.depth
        self._t = time.perf_counter()

    def _refill(self) -> None:
        now = time.perf_counter()
        self.level = min(self.depth, self.level + (now - self._t) * self.rate)
        self._t = now

    def take(self, tokens: int) -> tuple[bool, float]:
        """Charge ``tokens``; return (admitted, wall seconds until it would be)."""
        self._refill()
        if tokens <= self.level:
            self.level -= tokens
            return True, 0.0
        return False, (min(tokens, self.depth) - self.level) / self.rate

    def headers(self) -> dict[str, str]:
        """OpenAI's rate-limit headers, in wall-clock units."""
        self._refill()
        reset_ms = (self.depth - self.level) / self.rate * 1e3
        return {"x-ratelimit-limit-tokens": str(round(self.per_minute_wall)),
                "x-ratelimit-remaining-tokens": str(math.floor(self.level)),
                "x-ratelimit-reset-tokens": f"{math.ceil(reset_ms)}ms"}


def _error(status: int, message: str, *, type_: str = "invalid_request_error",
           code: str | None = None, param: str | None = None,
           headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(error_body(message, type_=type_, code=code, param=param),
                             status=status, headers=headers)


def create_app(spec: LabSpec, *, time_scale: float = 1.0, api_key: str | None = None,
               created: int | None = None) -> web.Application:
    """The web application of one lab; its engine starts and stops with the app."""
    engine = Engine(spec, time_scale=time_scale)
    created = int(time.time()) if created is None else int(created)
    link = (Link(spec.link_bytes_per_s / time_scale,
                 latency_s=spec.latency_ms / 1e3 * time_scale)
            if spec.kind == "network_io" else None)
    bucket = (TokenBucket(spec.tokens_per_minute, time_scale=time_scale)
              if spec.kind == "api_rate_limit" else None)
    counter = {"n": 0}
    card = {"id": spec.model, "object": "model", "created": created,
            "owned_by": "buildbuy-lab", "max_model_len": engine.max_context,
            "buildbuy_lab": {"gpu": spec.gpu, "tensor_parallel": spec.tensor_parallel,
                             "time_scale": time_scale}}

    def quota_headers() -> dict[str, str]:
        return bucket.headers() if bucket is not None else {}

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [card]})

    async def model(request: web.Request) -> web.Response:
        name = request.match_info["model_id"]
        if name != spec.model:
            return _error(404, f"The model `{name}` does not exist.", code="model_not_found",
                          param="model")
        return web.json_response(card)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def wait_until(t: float) -> None:
        delay = t - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)

    async def chat(request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _error(400, "The body is not valid JSON.")
        if not isinstance(body, dict):
            return _error(400, "The body must be a JSON object.")
        if body.get("model") != spec.model:
            return _error(404, f"The model `{body.get('model')}` does not exist.",
                          code="model_not_found", param="model")
        try:
            prompt_tokens = count_prompt_tokens(body.get("messages"))
        except ValueError as exc:
            return _error(400, str(exc), param="messages")
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        if max_tokens is None:
            max_tokens = min(DEFAULT_MAX_TOKENS, engine.max_context - prompt_tokens)
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            return _error(400, f"max_tokens={max_tokens!r} is invalid: must be a whole "
                               "number >= 1", param="max_tokens")
        if body.get("n", 1) != 1:
            return _error(400, "The lab serves n=1 only.", param="n")
        stream = bool(body.get("stream", False))
        opts = body.get("stream_options") or {}
        include_usage = stream and isinstance(opts, dict) and bool(opts.get("include_usage"))
        if prompt_tokens + max_tokens > engine.max_context:
            return _error(400, f"This model's maximum context length is {engine.max_context} "
                               f"tokens; you asked for {prompt_tokens + max_tokens} "
                               f"({prompt_tokens} in the messages, {max_tokens} to generate).",
                          code="context_length_exceeded", param="max_tokens")
        if link is not None:  # the request crosses the network
            await asyncio.sleep(link.latency_s)
        if bucket is not None:
            admitted, wait_s = bucket.take(prompt_tokens + max_tokens)
            if not admitted:
                headers = quota_headers()
                headers.update({"retry-after": str(max(1, math.ceil(wait_s))),
                                "retry-after-ms": str(math.ceil(wait_s * 1e3))})
                return _error(429, f"Rate limit reached for tokens per min (TPM): limit "
                                   f"{headers['x-ratelimit-limit-tokens']}, requested "
                                   f"{prompt_tokens + max_tokens}. Try again in "
                                   f"{math.ceil(wait_s * 1e3)} ms.",
                              type_="tokens", code="rate_limit_exceeded", headers=headers)
        counter["n"] += 1
        fmt = StreamFormat(spec.model, counter["n"], created)
        seq = engine.submit(prompt_tokens=prompt_tokens, max_tokens=max_tokens)
        try:
            if link is not None:  # the response headers cross back
                await asyncio.sleep(link.latency_s)
            if stream:
                return await _stream(request, seq, fmt, prompt_tokens, include_usage)
            last = 0.0
            for _ in range(max_tokens):
                tick = await seq.tokens.get()
                if tick is None:
                    return _error(503, "The lab is shutting down.", type_="server_error")
                last = tick
        finally:
            engine.cancel(seq)
        data = completion_body(spec.model, counter["n"], created, prompt_tokens, max_tokens)
        if link is not None:
            await wait_until(link.reserve(len(data), last + link.latency_s))
        return web.Response(body=data, content_type="application/json",
                            headers=quota_headers())

    async def _stream(request: web.Request, seq: Sequence, fmt: StreamFormat,
                      prompt_tokens: int, include_usage: bool) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream",
                                           "cache-control": "no-cache",
                                           "x-accel-buffering": "no", **quota_headers()})
        await resp.prepare(request)
        for i in range(seq.max_tokens):
            tick = await seq.tokens.get()
            if tick is None:  # shutdown: end without [DONE], as a dropped stream would
                return resp
            data = fmt.token(i) if i else fmt.role() + fmt.token(0)
            if i == seq.max_tokens - 1:
                data += fmt.finish()
                if include_usage:
                    data += fmt.usage(prompt_tokens, seq.max_tokens)
                data += fmt.done()
            if link is not None:
                await wait_until(link.reserve(len(data), tick + link.latency_s))
            await resp.write(data)
        await resp.write_eof()
        return resp

    Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

    @web.middleware
    async def openai_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        if api_key is not None and request.path.startswith("/v1") and \
                request.headers.get("authorization") != f"Bearer {api_key}":
            return _error(401, "Incorrect or missing API key: send 'Authorization: Bearer "
                               "<key>'.", code="invalid_api_key")
        try:
            return await handler(request)
        except web.HTTPMethodNotAllowed:
            return _error(405, f"Method {request.method} is not allowed on {request.path}.")
        except web.HTTPNotFound:
            return _error(404, f"No route {request.path}: the lab serves /v1/models and "
                               "/v1/chat/completions.", code="not_found")
        except (ConnectionResetError, asyncio.CancelledError):
            raise

    async def start_engine(app: web.Application) -> None:
        app[_TASK] = asyncio.create_task(engine.run())

    async def stop_engine(app: web.Application) -> None:
        engine.close()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(app[_TASK], timeout=5)

    app = web.Application(middlewares=[openai_errors])
    app.router.add_get("/v1/models", models)
    app.router.add_get("/v1/models/{model_id:.+}", model)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/health", health)
    app.on_startup.append(start_engine)
    app.on_cleanup.append(stop_engine)
    app[ENGINE] = engine
    app[SPEC] = spec
    return app
