"""The audit's HTTP client: streamed chat completions, timed chunk by chunk, with bounds.

Stack: ``aiohttp.ClientSession`` (HTTP/1.1, one pooled connection per concurrent request,
``TCPConnector(limit=concurrency)``) and our own :class:`~buildbuy.audit.sse.SSEParser`
over ``response.content.iter_any()``, the client vLLM's ``vllm bench serve`` uses. Each
request has a hard deadline (``asyncio.timeout``) on top of aiohttp's connect/read
timeouts; a level sends exactly its number of requests; nothing retries (a retry would
hide a 429 as latency). Connections are opened before a level starts its clock. After a
429 a worker waits for the server's ``retry-after`` (capped at the timeout) before its
next request, as a well-behaved client would.

Every request asks for ``stream_options: {"include_usage": true}`` so the server reports
its own token count; without it the client counts content chunks (one token each).
Prompts are ``prompt_tokens`` common English words, each one token in the GPT, Llama and
Qwen tokenizers (the chat template adds a few), different for every request so that
prefix caching cannot shorten the prefill.

Examples
--------
>>> synthetic_prompt(5, index=0).split()[:3]
['request', '0:', 'the']
>>> len(synthetic_prompt(128, index=7).split())
128
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from buildbuy._validate import bad
from buildbuy.audit.sse import SSEParser

__all__ = ["AuditError", "RequestRecord", "base_url", "fetch_models", "run_level",
           "send", "synthetic_prompt"]

_WORDS: tuple[str, ...] = (
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "with", "as", "was", "on",
    "be", "at", "by", "this", "had", "not", "are", "but", "from", "or", "have", "an",
    "they", "which", "one", "you", "were", "all", "we", "her", "she", "there", "would",
    "their", "will", "when", "who", "him", "been", "has", "more", "if", "no", "out", "so",
    "said", "what", "up", "its", "about", "into", "than", "them", "can", "only", "other",
    "new", "some", "could", "time", "these", "two", "may", "then", "do", "first", "any",
    "my", "now", "such", "like", "our", "over", "man", "me", "even", "most", "made",
    "after", "also", "did", "many", "before", "must", "through", "back", "years", "where",
    "much", "your", "way", "well", "down", "should", "because", "each", "just", "those",
    "people", "how", "too", "little", "state", "good", "very", "make", "world", "still",
    "own", "see", "men", "work", "long", "get", "here", "between", "both", "life",
    "being", "under", "never", "day", "same", "another", "know", "while", "last", "might",
    "us", "great", "old", "year", "off", "come", "since", "against", "go", "came",
    "right", "used", "take", "three",
)
_MAX_ERROR_BYTES = 65536


class AuditError(Exception):
    """An endpoint the audit cannot use; ``str()`` is one line saying what to fix.

    ``cause`` is one of ``connect``, ``timeout``, ``http_401``, ``http_404``,
    ``http_<status>``, ``malformed``, ``stream_error``.
    """

    def __init__(self, cause: str, message: str) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass
class RequestRecord:
    """What one request did. Times are ``time.perf_counter()`` seconds (wall clock)."""

    concurrency: int
    index: int
    stream: bool
    t_start: float
    ok: bool = False
    cause: str | None = None
    message: str = ""
    status: int | None = None
    t_headers: float | None = None
    chunk_times: list[float] = field(default_factory=list)
    t_end: float | None = None
    output_tokens: int | None = None
    token_source: str = "chunks"
    prompt_tokens: int | None = None
    body_bytes: int = 0
    retry_after_s: float | None = None
    quota_tokens_per_minute: float | None = None

    @property
    def t_first(self) -> float | None:
        """Arrival of the first chunk carrying generated text."""
        return self.chunk_times[0] if self.chunk_times else None

    @property
    def t_last(self) -> float | None:
        """Arrival of the last chunk carrying generated text."""
        return self.chunk_times[-1] if self.chunk_times else None


def synthetic_prompt(n_tokens: int, *, index: int) -> str:
    """``n_tokens`` words: ``request <index>:`` then common words, unique per index."""
    words = [f"request {index}:"]
    count = 2
    i = index * 7919
    while count < n_tokens:
        words.append(_WORDS[i % len(_WORDS)])
        i += 31
        count += 1
    return " ".join(words) if n_tokens >= 2 else _WORDS[index % len(_WORDS)]


def base_url(url: str) -> str:
    """The OpenAI base URL: ``.../v1`` stays, a trailing ``/chat/completions`` or ``/`` goes.

    >>> base_url("http://127.0.0.1:8000/v1/chat/completions")
    'http://127.0.0.1:8000/v1'
    """
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") \
            or not urlsplit(url).netloc:
        raise bad("url", url, "an http:// or https:// base URL such as "
                              "http://127.0.0.1:8000/v1")
    u = url.rstrip("/")
    if u.endswith("/chat/completions"):
        u = u[: -len("/chat/completions")]
    return u


def _headers(api_key: str | None) -> dict[str, str]:
    h = {"accept": "text/event-stream, application/json"}
    if api_key:
        h["authorization"] = f"Bearer {api_key}"
    return h


def _server_message(raw: bytes) -> str:
    """The ``error.message`` of an OpenAI-style (or flat TGI/vLLM) error body."""
    try:
        body = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace").strip()[:200]
    err = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(err, dict):
        return str(err.get("message") or err.get("detail") or err)[:200]
    return str(err)[:200]


def _float_header(headers: Mapping[str, str], name: str) -> float | None:
    try:
        value = float(headers.get(name, ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _read_quota(rec: RequestRecord, headers: Mapping[str, str]) -> None:
    rec.quota_tokens_per_minute = _float_header(headers, "x-ratelimit-limit-tokens")
    ms = _float_header(headers, "retry-after-ms")
    s = _float_header(headers, "retry-after")
    rec.retry_after_s = ms / 1e3 if ms is not None else s


def _take_event(rec: RequestRecord, data: str, now: float) -> bool:
    """Digest one event; return True at ``[DONE]``. Raise ``AuditError`` on bad data."""
    if data.strip() == "[DONE]":
        return True
    try:
        obj = json.loads(data)
    except ValueError:
        raise AuditError("malformed", f"an event is not JSON: {data[:80]!r}") from None
    if not isinstance(obj, dict):
        raise AuditError("malformed", f"an event is not a JSON object: {data[:80]!r}")
    if obj.get("error"):
        err = obj["error"]
        msg = err.get("message", err) if isinstance(err, dict) else err
        raise AuditError("stream_error", f"the server reported an error mid-stream: {msg}")
    for choice in obj.get("choices") or []:
        delta = choice.get("delta") or {} if isinstance(choice, dict) else {}
        if delta.get("content") or delta.get("reasoning_content") or delta.get("reasoning"):
            rec.chunk_times.append(now)
            break
    usage = obj.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
        rec.output_tokens = usage["completion_tokens"]
        rec.token_source = "usage"
        if isinstance(usage.get("prompt_tokens"), int):
            rec.prompt_tokens = usage["prompt_tokens"]
    return False


async def _exchange(client: aiohttp.ClientSession, url: str, payload: dict[str, Any],
                    headers: dict[str, str], rec: RequestRecord) -> None:
    async with client.post(url, json=payload, headers=headers) as r:
        rec.t_headers = time.perf_counter()
        rec.status = r.status
        _read_quota(rec, r.headers)
        if r.status != 200:
            raw = await r.content.read(_MAX_ERROR_BYTES)
            rec.cause = "rate_limited" if r.status == 429 else f"http_{r.status}"
            rec.message = _server_message(raw)
            return
        if not rec.stream:
            raw = await r.read()
            rec.body_bytes = len(raw)
            now = time.perf_counter()
            try:
                body = json.loads(raw)
                text = body["choices"][0]["message"]["content"] or ""
                usage = body.get("usage") or {}
            except (ValueError, KeyError, IndexError, TypeError):
                raise AuditError("malformed", "the response is not a chat completion "
                                              f"object: {raw[:80]!r}") from None
            rec.chunk_times = [now] if text else []
            rec.output_tokens = usage.get("completion_tokens")
            rec.token_source = "usage" if rec.output_tokens is not None else "none"
            rec.prompt_tokens = usage.get("prompt_tokens")
            rec.ok = True
            return
        ctype = r.headers.get("content-type", "")
        if not ctype.startswith("text/event-stream"):
            raise AuditError("malformed", f"asked for a stream, got content-type "
                                          f"{ctype or 'none'!r}")
        parser = SSEParser()
        done = False
        async for part in r.content.iter_any():
            now = time.perf_counter()
            rec.body_bytes += len(part)
            for data in parser.feed(part):
                if done:
                    continue
                done = _take_event(rec, data, now)
        parser.close()
        if not done:
            raise AuditError("malformed", "the stream ended without 'data: [DONE]'")
        if rec.output_tokens is None:
            rec.output_tokens = len(rec.chunk_times)
        rec.ok = True


async def send(client: aiohttp.ClientSession, url: str, payload: dict[str, Any], *,
               headers: dict[str, str], timeout_s: float, concurrency: int = 1,
               index: int = 0) -> RequestRecord:
    """POST one chat completion and time it; never raises (the cause is in the record)."""
    rec = RequestRecord(concurrency=concurrency, index=index,
                        stream=bool(payload.get("stream")), t_start=time.perf_counter())
    try:
        async with asyncio.timeout(timeout_s):
            await _exchange(client, url, payload, headers, rec)
    except AuditError as exc:
        rec.cause, rec.message = exc.cause, str(exc)
    except TimeoutError:
        rec.cause, rec.message = "timeout", f"no complete answer within {timeout_s:g} s"
    except aiohttp.ClientConnectorError as exc:
        rec.cause, rec.message = "connect", str(exc) or "connection refused"
    except aiohttp.ClientError as exc:
        rec.cause, rec.message = "malformed", f"the connection broke: {exc!r}"
    rec.t_end = time.perf_counter()
    if not rec.ok and rec.cause is None:
        rec.cause = "malformed"
    return rec


async def _open_connections(client: aiohttp.ClientSession, url: str,
                            headers: dict[str, str], n: int, timeout_s: float) -> None:
    """Open ``n`` pooled connections with ``n`` concurrent ``GET /models`` (answers are
    ignored), so that a level's clock does not include connection set-up."""
    async def one() -> None:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with asyncio.timeout(min(timeout_s, 10.0)):
                async with client.get(url, headers=headers) as r:
                    await r.read()

    await asyncio.gather(*(one() for _ in range(n)))


def payload(model: str, prompt: str, output_tokens: int, *, stream: bool,
            extra_body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The request body: one user message, ``max_tokens``, temperature 0."""
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}],
                            "max_tokens": int(output_tokens), "temperature": 0.0,
                            "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    body.update(dict(extra_body or {}))
    return body


def make_client(concurrency: int, timeout_s: float) -> aiohttp.ClientSession:
    """An ``aiohttp.ClientSession`` with one connection per concurrent request.

    Idle connections are kept 4 s, under the 5 s that uvicorn and most servers keep them,
    so the client never reuses a socket the server is closing.
    """
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=4.0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=min(timeout_s, 10.0),
                                    sock_read=timeout_s)
    return aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False,
                                 auto_decompress=True)


async def run_level(url: str, model: str, *, concurrency: int, requests: int,
                    prompt_tokens: int, output_tokens: int, timeout_s: float,
                    api_key: str | None = None, stream: bool = True, first_index: int = 0,
                    extra_body: Mapping[str, Any] | None = None,
                    client: aiohttp.ClientSession | None = None
                    ) -> tuple[list[RequestRecord], float, float]:
    """Send ``requests`` requests, ``concurrency`` at a time (closed loop).

    Returns the records, and the level's start and end on the wall clock: first request
    sent, last answer finished. Pass ``client`` to reuse its connections across levels.
    """
    endpoint = base_url(url) + "/chat/completions"
    headers = _headers(api_key)
    records: list[RequestRecord] = []
    counter = iter(range(requests))

    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(make_client(concurrency, timeout_s))
        await _open_connections(client, base_url(url) + "/models", headers, concurrency,
                                timeout_s)

        async def worker() -> None:
            for i in counter:  # bounded: the shared iterator hands out `requests` indices
                body = payload(model, synthetic_prompt(prompt_tokens, index=first_index + i),
                               output_tokens, stream=stream, extra_body=extra_body)
                rec = await send(client, endpoint, body, headers=headers,
                                 timeout_s=timeout_s, concurrency=concurrency,
                                 index=first_index + i)
                records.append(rec)
                if rec.cause == "rate_limited":
                    await asyncio.sleep(min(rec.retry_after_s or 1.0, timeout_s))

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(min(concurrency, requests))))
        t1 = time.perf_counter()
    records.sort(key=lambda r: r.index)
    return records, t0, t1


async def fetch_models(url: str, *, api_key: str | None, timeout_s: float) -> list[dict]:
    """``GET /models``: the model cards, or ``[]`` if the server has no such route.

    Raises ``AuditError`` when nothing listens or the key is refused.
    """
    async with make_client(1, timeout_s) as client:
        try:
            async with asyncio.timeout(timeout_s), \
                    client.get(base_url(url) + "/models", headers=_headers(api_key)) as r:
                status, raw = r.status, await r.content.read(4 * 1024 * 1024)
        except TimeoutError:
            raise AuditError("timeout", f"no answer from {base_url(url)}/models within "
                                        f"{timeout_s:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            raise AuditError("connect", str(exc) or "connection refused") from None
        except aiohttp.ClientError as exc:
            raise AuditError("malformed", f"the connection broke: {exc!r}") from None
    if status == 401:
        raise AuditError("http_401", _server_message(raw))
    if status != 200:
        return []
    try:
        data = json.loads(raw).get("data", [])
    except (ValueError, AttributeError):
        return []
    return [c for c in data if isinstance(c, dict)] if isinstance(data, list) else []
