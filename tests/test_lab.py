"""The practice lab: hidden parameters, the answer, the wire format, the HTTP app, the server.

Live servers listen on 127.0.0.1 only, on a free port, and stop within the test.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import aiohttp
import pytest

from buildbuy import scenarios, tps
from buildbuy.lab import KINDS, LabSpec, auto_time_scale, start
from buildbuy.lab import exercise as lab_exercise
from buildbuy.lab.app import BUCKET_MIN_REQUESTS, BUCKET_S, Link, TokenBucket
from buildbuy.lab.engine import Engine
from buildbuy.lab.spec import (
    MAX_NUM_SEQS_CHOICES,
    REFERENCE_OUTPUT_TOKENS,
    REFERENCE_PROMPT_TOKENS,
    SEVERITY_RANGE,
)
from buildbuy.lab.wire import StreamFormat, completion_body, count_prompt_tokens, stream_bytes

PRM, OUT = REFERENCE_PROMPT_TOKENS, REFERENCE_OUTPUT_TOKENS


# --- hidden parameters and the answer ----------------------------------------------------

def test_seed_is_deterministic_and_seeds_differ() -> None:
    a, b = LabSpec.from_seed(9), LabSpec.from_seed(9)
    assert a == b
    drawn = {LabSpec.from_seed(s).kind for s in range(40)}
    assert drawn == set(KINDS)  # a hidden lab can be any kind
    assert len({(LabSpec.from_seed(s).max_num_seqs, LabSpec.from_seed(s).severity)
                for s in range(10)}) == 10
    for s in range(10):
        spec = LabSpec.from_seed(s)
        assert spec.max_num_seqs in MAX_NUM_SEQS_CHOICES
        assert SEVERITY_RANGE[0] <= spec.severity <= SEVERITY_RANGE[1]


def test_bad_seed_kind_and_model_are_named() -> None:
    with pytest.raises(ValueError, match="seed=-1"):
        LabSpec.from_seed(-1)
    with pytest.raises(ValueError, match="kind='gpu'"):
        LabSpec.from_seed(0, kind="gpu")
    with pytest.raises(ValueError, match="no-such-model"):
        LabSpec.from_seed(0, model="no-such-model")


def test_steps_are_the_tps_model() -> None:
    spec = LabSpec.from_seed(2, kind="none")
    assert spec.step_ms(4, 101, 0, 0) == pytest.approx(
        tps.decode(spec.model, spec.gpu, batch=4, context=104).step_ms)  # rounded to 8
    assert spec.step_ms(3, 80, 2, 128) == pytest.approx(
        tps.decode(spec.model, spec.gpu, batch=3, context=80, prefill_tokens=128).step_ms)
    assert spec.step_ms(0, 0.0, 4, 256) == pytest.approx(
        tps.prefill(spec.model, spec.gpu, batch=4, prompt_tokens=64).step_ms)


def test_truth_of_each_kind_by_hand() -> None:
    none = LabSpec.from_seed(3, kind="none")
    b = none.full_batch()
    wave = tps.prefill(none.model, none.gpu, batch=b, prompt_tokens=PRM).step_ms + sum(
        tps.decode(none.model, none.gpu, batch=b, context=8 * round((PRM + j) / 8)).step_ms
        for j in range(1, OUT))
    gpu = b * OUT / wave * 1e3
    t = none.truth()
    assert t.binding == "memory_bandwidth" and t.ceiling_tokens_per_s == pytest.approx(gpu)

    cpu = LabSpec.from_seed(3, kind="cpu_overhead")
    t = cpu.truth()
    host = b / (cpu.host_step_ms + cpu.host_ms_per_seq * b) * 1e3
    assert t.binding == "cpu_overhead"
    assert t.ceilings["cpu_overhead"] == pytest.approx(host)
    assert host == pytest.approx(gpu / cpu.severity, rel=0.02)  # the drawn severity

    net = LabSpec.from_seed(3, kind="network_io")
    t = net.truth()
    per_token = stream_bytes(net.model, OUT, prompt_tokens=PRM) / OUT
    assert t.binding == "network_io"
    assert t.ceiling_tokens_per_s == pytest.approx(net.link_bytes_per_s / per_token)
    assert t.ceiling_tokens_per_s == pytest.approx(gpu / net.severity)

    api = LabSpec.from_seed(3, kind="api_rate_limit")
    t = api.truth()
    assert t.binding == "api_rate_limit"
    assert t.ceiling_tokens_per_s == pytest.approx(api.tokens_per_minute / 60 * OUT / (PRM + OUT))
    assert t.ceiling_tokens_per_s == pytest.approx(gpu / api.severity)


def test_a_big_model_gets_a_tensor_parallel_group() -> None:
    spec = LabSpec.from_seed(0, model="llama-3.1-70b", gpu="H100-SXM", kind="none")
    assert spec.tensor_parallel >= 2
    assert spec.truth().ceiling_tokens_per_s > 0


def test_exercise_lab_follows_the_scenario_seed() -> None:
    s = scenarios.load("retail_search")
    assert lab_exercise.spec_for(s) == LabSpec.from_seed(s.lab_seed, model=s.self_host_model,
                                                         gpu=s.gpu)
    other = scenarios.load("retail_search", lab_seed=s.lab_seed + 1)
    assert lab_exercise.truth(other) != lab_exercise.truth(s)
    with pytest.raises(ValueError, match="lab_seed"):
        scenarios.load("retail_search", lab_seed=-3)


# --- wire format ------------------------------------------------------------------------

def test_stream_events_are_openai_chunks() -> None:
    fmt = StreamFormat("m", 7, 1_700_000_000)
    events = list(fmt.events(5, 3, include_usage=True))
    assert [e.startswith(b"data: ") and e.endswith(b"\n\n") for e in events] == [True] * 7
    assert events[-1] == b"data: [DONE]\n\n"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[1:4]) == \
        " data time over"
    assert chunks[4]["choices"][0]["finish_reason"] == "length"
    assert chunks[5]["choices"] == [] and chunks[5]["usage"] == {
        "prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    assert {c["id"] for c in chunks} == {"chatcmpl-lab-00000007"}
    assert len({len(fmt.token(i)) for i in range(40)}) == 1  # every token chunk: same size
    body = json.loads(completion_body("m", 7, 1_700_000_000, 5, 3))
    assert body["choices"][0]["message"]["content"] == " data time over"
    assert body["usage"]["completion_tokens"] == 3


def test_prompt_tokens_are_words() -> None:
    assert count_prompt_tokens([{"role": "system", "content": "be brief"},
                                {"role": "user", "content": [
                                    {"type": "text", "text": "one two three"},
                                    {"type": "image_url", "image_url": {"url": "x"}}]}]) == 5
    with pytest.raises(ValueError, match="messages"):
        count_prompt_tokens([])
    with pytest.raises(ValueError, match=r"messages\[0\]"):
        count_prompt_tokens(["hello"])


# --- the pieces outside the engine --------------------------------------------------------

def test_link_is_first_in_first_out() -> None:
    link = Link(1000.0, latency_s=0.0)
    assert link.reserve(100, 5.0) == pytest.approx(5.1)
    assert link.reserve(100, 5.0) == pytest.approx(5.2)  # queued behind the first
    assert link.reserve(100, 9.0) == pytest.approx(9.1)  # the link was idle


def test_token_bucket_depth_refill_and_headers() -> None:
    tpm = 600_000.0  # 10,000 tokens/s
    b = TokenBucket(tpm, time_scale=1.0)
    assert b.depth == pytest.approx(max(tpm / 60 * BUCKET_S,
                                        BUCKET_MIN_REQUESTS * (PRM + OUT)))
    ok, _ = b.take(int(b.depth))
    assert ok
    ok, wait = b.take(1000)
    assert not ok and wait == pytest.approx(0.1, abs=0.01)
    assert b.headers()["x-ratelimit-limit-tokens"] == "600000"
    slow = TokenBucket(tpm, time_scale=4.0)  # a stretched clock: a quarter of the rate
    assert slow.headers()["x-ratelimit-limit-tokens"] == "150000"


def test_engine_batches_and_caps_sequences() -> None:
    spec = LabSpec.from_seed(0, kind="none")
    n = spec.max_num_seqs + 2

    async def run() -> tuple[list[list[float]], Engine]:
        eng = Engine(spec, time_scale=0.001)
        task = asyncio.create_task(eng.run())
        seqs = [eng.submit(prompt_tokens=10, max_tokens=4) for _ in range(n)]
        times = [[await s.tokens.get() for _ in range(4)] for s in seqs]
        eng.close()
        await task
        return times, eng

    times, eng = asyncio.run(run())
    assert all(t == sorted(t) for t in times)
    first_batch, late = times[:spec.max_num_seqs], times[spec.max_num_seqs:]
    assert len({tuple(t) for t in first_batch}) == 1  # one batch: the same steps
    assert all(t[0] > first_batch[0][-1] for t in late)  # the cap made them wait
    assert eng.stats["tokens"] == 4 * n and eng.stats["requests"] == n
    with pytest.raises(ValueError, match="max_tokens"):
        eng.submit(prompt_tokens=10, max_tokens=10**9)


# --- the HTTP app: shapes and status codes -------------------------------------------------

def _requests(url: str, calls: list[tuple[str, str, dict | bytes | None, dict]]
              ) -> list[tuple[int, dict, object]]:
    """Send ``(method, path, body, headers)`` calls concurrently; return (status, headers,
    JSON or text) of each."""
    async def run() -> list[tuple[int, dict, object]]:
        async with aiohttp.ClientSession() as session:
            async def one(method: str, path: str, body: dict | bytes | None,
                          headers: dict) -> tuple[int, dict, object]:
                kw = {"json": body} if isinstance(body, dict) else {"data": body}
                async with session.request(method, url + path, headers=headers, **kw) as r:
                    text = await r.text()
                    try:
                        payload: object = json.loads(text)
                    except ValueError:
                        payload = text
                    return r.status, r.headers.copy(), payload
            return list(await asyncio.gather(*(one(*c) for c in calls)))
    return asyncio.run(run())


def test_app_errors_have_openai_shapes() -> None:
    spec = LabSpec.from_seed(0, kind="none")
    good = {"authorization": "Bearer sesame"}
    chat = "/v1/chat/completions"
    with start(spec, time_scale=0.01, api_key="sesame", max_seconds=60) as server:
        base = server.url.removesuffix("/v1")
        r = dict(zip(["nokey", "models", "model", "path", "method", "json", "long", "ok"],
                     _requests(base, [
            ("GET", "/v1/models", None, {}),
            ("GET", "/v1/models", None, good),
            ("POST", chat, {"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]},
             good),
            ("GET", "/v2/anything", None, good),
            ("GET", chat, None, good),
            ("POST", chat, b"{no", good),
            ("POST", chat, {"model": spec.model, "messages": [{"role": "user", "content": "hi"}],
                            "max_tokens": 10**7}, good),
            ("POST", chat, {"model": spec.model, "messages": [
                {"role": "user", "content": "a b c"}], "max_tokens": 2}, good),
        ]), strict=True))
    assert r["nokey"][0] == 401 and r["nokey"][2]["error"]["code"] == "invalid_api_key"
    card = r["models"][2]["data"][0]
    assert card["id"] == spec.model and card["buildbuy_lab"]["gpu"] == spec.gpu
    assert card["buildbuy_lab"]["time_scale"] == 0.01
    assert r["model"][0] == 404 and "gpt-9" in r["model"][2]["error"]["message"]
    assert r["path"][0] == 404 and r["path"][2]["error"]["code"] == "not_found"
    assert r["method"][0] == 405 and "error" in r["method"][2]
    assert r["json"][0] == 400
    assert r["long"][0] == 400 and r["long"][2]["error"]["code"] == "context_length_exceeded"
    assert r["ok"][0] == 200 and r["ok"][2]["usage"] == {
        "prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_rate_limited_lab_answers_429_with_retry_headers() -> None:
    spec = LabSpec.from_seed(0, kind="api_rate_limit")
    body = {"model": spec.model, "messages": [{"role": "user", "content": "w " * PRM}],
            "max_tokens": OUT}
    with start(spec, time_scale=1.0, max_seconds=60) as server:
        replies = _requests(server.url.removesuffix("/v1"),
                            [("POST", "/v1/chat/completions", body, {})] *
                            (3 * BUCKET_MIN_REQUESTS))
    limited = [r for r in replies if r[0] == 429]
    assert limited and len(limited) < len(replies)
    _, headers, payload = limited[0]
    assert payload["error"]["code"] == "rate_limit_exceeded"
    assert int(headers["retry-after"]) >= 1 and float(headers["retry-after-ms"]) > 0
    assert float(headers["x-ratelimit-limit-tokens"]) == pytest.approx(
        spec.tokens_per_minute, abs=1)


# --- live servers -------------------------------------------------------------------------

def test_official_openai_client_streams_and_not() -> None:
    openai = pytest.importorskip("openai")
    with start(seed=5, kind="none", time_scale="auto", max_seconds=60) as server:
        client = openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0,
                               timeout=20)
        assert [m.id for m in client.models.list()] == [server.model]
        reply = client.chat.completions.create(
            model=server.model, messages=[{"role": "user", "content": "hello lab"}],
            max_tokens=5)
        assert reply.choices[0].message.content == " data time over with from"
        assert reply.usage.completion_tokens == 5 and reply.usage.prompt_tokens == 2
        stream = client.chat.completions.create(
            model=server.model, messages=[{"role": "user", "content": "hello lab"}],
            max_tokens=4, stream=True, stream_options={"include_usage": True})
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == " data time over with"
        assert chunks[-1].usage.completion_tokens == 4
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="nope", messages=[
                {"role": "user", "content": "x"}], max_tokens=1)


def test_lab_listens_on_loopback_only_and_stops_by_itself() -> None:
    server = start(seed=1, kind="none", time_scale=1.0, max_seconds=1.0)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        listening = server.addresses
        assert listening and all(addr[0] == "127.0.0.1" for addr in listening)
        assert _requests(server.url.removesuffix("/v1"), [("GET", "/health", None, {})])[0][
            2] == {"status": "ok"}
        end = time.monotonic() + 10
        while server.running and time.monotonic() < end:
            time.sleep(0.1)
        assert not server.running  # max_seconds bounds every lab
    finally:
        server.stop()
    assert "127.0.0.1" in repr(server) or "stopped" in repr(server)
    assert "hidden" in server.describe() and str(server.port) not in server.describe()


def test_auto_time_scale_sets_the_wall_pace() -> None:
    for seed in range(4):
        spec = LabSpec.from_seed(seed)
        scale = auto_time_scale(spec)
        wall_step_ms = spec.step_ms(1, PRM, 0, 0) * scale
        assert wall_step_ms >= 3.0 - 1e-9
        assert spec.truth().ceiling_tokens_per_s / scale <= 1000.0 + 1e-6


def test_cli_answer_and_serve(tmp_path: object) -> None:
    out = subprocess.run([sys.executable, "-m", "buildbuy", "lab", "answer", "--seed", "4",
                          "--bottleneck", "cpu_overhead"], capture_output=True, text=True,
                         timeout=120, check=True)
    key = json.loads(out.stdout)
    assert key["binding"] == "cpu_overhead"
    assert key["ceiling_tokens_per_s"] == pytest.approx(
        LabSpec.from_seed(4, kind="cpu_overhead").truth().ceiling_tokens_per_s)
    bad = subprocess.run([sys.executable, "-m", "buildbuy", "lab", "serve", "--host",
                          "0.0.0.0"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2  # there is no way to listen beyond loopback
    proc = subprocess.Popen([sys.executable, "-m", "buildbuy", "lab", "serve", "--port", "0",
                             "--seed", "2", "--max-seconds", "3"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        url = proc.stdout.readline().split()[3]
        assert "seed 2" in first and "bottleneck hidden" in first
        assert url.startswith("http://127.0.0.1:")
        assert _requests(url, [("GET", "/models", None, {})])[0][2]["data"][0]["id"] == \
            "llama-3.1-8b"
        assert proc.wait(timeout=30) == 0  # stopped by itself after --max-seconds
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
