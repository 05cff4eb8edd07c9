"""The endpoint audit: parsing, metrics by hand, the verdict, the reports, bad endpoints,
a server of known timing, and every kind of lab recovered.

Every server here listens on 127.0.0.1, on a free port, and stops within its test.
"""

from __future__ import annotations

import asyncio
import csv
import json
import math
import re
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web

from buildbuy import tps
from buildbuy.audit import CSV_COLUMNS, AuditError, LevelStats, audit
from buildbuy.audit.cli import cli_main
from buildbuy.audit.client import RequestRecord, base_url, synthetic_prompt
from buildbuy.audit.metrics import level_stats, percentile
from buildbuy.audit.sse import SSEParser
from buildbuy.audit.verdict import GpuContext, decide, needs_probe
from buildbuy.lab import KINDS, LabSpec, start
from buildbuy.lab import exercise as lab_exercise
from buildbuy.lab.app import ENGINE
from buildbuy.lab.server import serve_in_thread
from buildbuy.lab.spec import REFERENCE_OUTPUT_TOKENS, REFERENCE_PROMPT_TOKENS

PRM, OUT = REFERENCE_PROMPT_TOKENS, REFERENCE_OUTPUT_TOKENS


# --- server-sent events -----------------------------------------------------------------

def test_sse_parser_handles_splits_crlf_comments_and_multiline_data() -> None:
    stream = ("data: {\"a\":1}\r\n\r\n: keep-alive\n\nevent: x\ndata: line1\ndata: line2\n\n"
              "data: héllo\r\rdata: [DONE]\n\n").encode()
    whole = SSEParser().feed(stream)
    assert whole == ['{"a":1}', "line1\nline2", "héllo", "[DONE]"]
    for cut in range(1, len(stream)):  # any split point, even inside CRLF or a UTF-8 char
        p = SSEParser()
        assert p.feed(stream[:cut]) + p.feed(stream[cut:]) == whole
    p = SSEParser()
    p.feed(b"data: unfinished")
    p.close()
    assert p.leftover and p.comments == 0


# --- metrics by hand --------------------------------------------------------------------

def _rec(i: int, start: float, chunks: list[float], tokens: int, **kw: object) -> RequestRecord:
    return RequestRecord(concurrency=2, index=i, stream=True, t_start=start, ok=True,
                         chunk_times=chunks, t_end=chunks[-1] + 0.001, output_tokens=tokens,
                         token_source="usage", **kw)


def test_level_metrics_by_hand() -> None:
    a = _rec(0, 0.0, [0.100, 0.110, 0.130], 3, body_bytes=600, prompt_tokens=10)
    b = _rec(1, 0.0, [0.200, 0.240], 2, body_bytes=400, prompt_tokens=10)
    c = _rec(2, 0.13, [0.3, 0.31], 2, body_bytes=400, prompt_tokens=10)
    failed = RequestRecord(concurrency=2, index=3, stream=True, t_start=0.05, cause="rate_limited",
                           message="slow down", t_end=0.06)
    s = level_stats([a, b, c, failed], 0.0, 0.4)
    # TTFT 100, 200, 170 ms; TPOT (130-100)/2 = 15, (240-200)/1 = 40, 10 ms
    assert s.ttft_ms_p50 == pytest.approx(170) and s.ttft_ms_p90 == pytest.approx(
        np.percentile([100, 200, 170], 90))
    assert s.tpot_ms_p50 == pytest.approx(15) and s.tpot_ms_p90 == pytest.approx(
        np.percentile([15, 40, 10], 90))
    # gaps 10, 20, 40, 10 ms pooled
    assert s.itl_ms_p50 == pytest.approx(15)
    assert s.e2e_ms_p50 == pytest.approx(181)  # 131, 241 and 311 - 130 ms
    assert s.output_tokens_per_s == pytest.approx(7 / 0.4)
    assert (s.requests_ok, s.requests_failed, s.rate_limited) == (3, 1, 1)
    assert s.failures == {"rate_limited": 1}
    # decode batch: (0.03 + 0.04 + 0.01) / 0.4 s
    assert s.decode_batch == pytest.approx(0.2)
    assert s.bytes_per_output_token == pytest.approx(1400 / 7)
    # steady state: first token (0.1) to the last request sent (0.13): a's 2nd and 3rd
    # chunks, one token each
    assert s.sustained_tokens_per_s == pytest.approx(2 / 0.03)
    scaled = level_stats([a, b, c], 0.0, 0.4, time_scale=2.0)  # a clock twice as slow
    assert scaled.ttft_ms_p50 == pytest.approx(85)
    assert scaled.output_tokens_per_s == pytest.approx(2 * 7 / 0.4)
    assert list(s.row()) == list(CSV_COLUMNS)


def test_percentile_is_numpys_linear() -> None:
    values = [3.0, 1.0, 4.0, 1.5, 9.0]
    assert percentile(values, 90) == pytest.approx(np.percentile(values, 90))
    assert math.isnan(percentile([], 50))


def test_prompts_and_urls() -> None:
    assert len(synthetic_prompt(64, index=3).split()) == 64
    assert synthetic_prompt(64, index=3) != synthetic_prompt(64, index=4)
    assert base_url("http://h:1/v1/") == "http://h:1/v1"
    with pytest.raises(ValueError, match="url='localhost:8000'"):
        base_url("localhost:8000")


# --- the verdict on hand-made levels ----------------------------------------------------

def _level(c: int, rate: float, tpot: float, batch: float, **kw: object) -> LevelStats:
    base = dict(concurrency=c, requests_ok=8, requests_failed=0, ttft_ms_p50=20.0,
                ttft_ms_p90=30.0, tpot_ms_p50=tpot, tpot_ms_p90=tpot, e2e_ms_p50=300.0,
                output_tokens_per_s=rate, sustained_tokens_per_s=rate, decode_batch=batch,
                prompt_tokens_mean=float(PRM), output_tokens_mean=float(OUT),
                bytes_per_output_token=240.0)
    base.update(kw)
    return LevelStats(**base)


GPU = GpuContext("llama-3.1-8b", "H100-SXM")


def _model_ms(batch: int) -> float:
    return tps.serving_point("llama-3.1-8b", "H100-SXM", batch=batch, prompt_tokens=PRM,
                             output_tokens=OUT).ms_per_output_token


def test_verdict_gpu_bound_is_memory_bandwidth_at_small_batch() -> None:
    levels = [_level(1, 140, _model_ms(1), 1), _level(4, 560, _model_ms(4), 4),
              _level(16, 1100, _model_ms(8), 8)]
    assert not needs_probe(levels, gpu=GPU, prompt_tokens=PRM, output_tokens=OUT)
    v = decide(levels, gpu=GPU, prompt_tokens=PRM, output_tokens=OUT)
    assert v.binding == "memory_bandwidth" and v.ceiling_tokens_per_s == 1100
    assert v.saturated is False  # 1100 > 1.25 x 560: the curve still rises
    assert v.ceilings["compute"] > 1100


def test_verdict_host_bound_needs_and_uses_the_probe() -> None:
    levels = [_level(1, 140, _model_ms(1), 1), _level(4, 400, 2.5 * _model_ms(4), 4),
              _level(16, 450, 2.5 * _model_ms(8), 8)]
    assert needs_probe(levels, gpu=GPU, prompt_tokens=PRM, output_tokens=OUT)
    same = _level(16, 460, 1.0, 8)
    v = decide(levels, probe=same, gpu=GPU, prompt_tokens=PRM, output_tokens=OUT)
    assert v.binding == "cpu_overhead" and v.saturated
    assert v.checks["host_ratio"] == pytest.approx(2.5, rel=0.01)
    faster = _level(16, 2 * 450, 1.0, 8)
    v = decide(levels, probe=faster, gpu=GPU, prompt_tokens=PRM, output_tokens=OUT)
    assert v.binding == "network_io" and v.checks["stream_ratio"] == pytest.approx(2.0)


def test_verdict_rate_limit_from_429_or_the_quota_header() -> None:
    quota = 60_000.0  # tokens/min -> 1000 * 32/96 = 333 output tokens/s
    levels = [_level(1, 140, 7, 1, quota_tokens_per_minute=quota),
              _level(16, 300, 7, 3, quota_tokens_per_minute=quota, rate_limited=5,
                     requests_failed=5, failures={"rate_limited": 5})]
    v = decide(levels, gpu=GPU, prompt_tokens=PRM, output_tokens=OUT)
    assert v.binding == "api_rate_limit"
    assert v.ceiling_tokens_per_s == pytest.approx(quota / 60 * OUT / (PRM + OUT))
    quiet = [_level(1, 140, 7, 1, quota_tokens_per_minute=quota),
             _level(16, 320, 7, 3, quota_tokens_per_minute=quota)]  # at the quota, no 429
    assert decide(quiet, gpu=GPU, prompt_tokens=PRM, output_tokens=OUT).binding == \
        "api_rate_limit"
    below = [_level(16, 100, _model_ms(2), 2, quota_tokens_per_minute=quota)]
    v = decide(below, gpu=GPU, prompt_tokens=PRM, output_tokens=OUT)
    assert v.binding == "memory_bandwidth" and "api_rate_limit" in v.ceilings


def test_verdict_survives_a_wrong_gpu_description() -> None:
    big = GpuContext("llama-3.1-70b", "A10G")  # 70B does not fit one A10G: no TPS price
    levels = [_level(1, 140, 7.0, 1), _level(16, 1000, 7.5, 8)]
    assert needs_probe(levels, gpu=big, prompt_tokens=PRM, output_tokens=OUT)
    v = decide(levels, gpu=big, prompt_tokens=PRM, output_tokens=OUT)
    assert v.binding == "memory_bandwidth" and "check --gpu" in v.evidence[0]


def test_verdict_when_decoding_was_never_timed() -> None:
    # Every token of every request arrived in one chunk: TPOT is undefined (NaN) and the
    # decode batch is 0. The verdict says so and the report stays valid JSON.
    untimed = [_level(1, 50, math.nan, 0.0)]
    v = decide(untimed, gpu=GPU, prompt_tokens=PRM, output_tokens=4)
    assert v.checks["host_ratio"] is None
    assert any("--output-tokens" in e for e in v.evidence)
    json.dumps(v.checks, allow_nan=False)


def test_verdict_without_the_gpu_reads_the_tpot_growth() -> None:
    flat = [_level(1, 140, 7.0, 1), _level(16, 1000, 7.5, 8)]
    steep = [_level(1, 140, 7.0, 1), _level(16, 300, 50.0, 8)]
    assert decide(flat, prompt_tokens=PRM, output_tokens=OUT).binding == "memory_bandwidth"
    v = decide(steep, prompt_tokens=PRM, output_tokens=OUT)
    assert v.binding == "compute" and any("pass the GPU" in e for e in v.evidence)
    with pytest.raises(ValueError, match="levels"):
        decide([_level(1, 0.0, 7.0, 0, requests_ok=0)], prompt_tokens=PRM, output_tokens=OUT)


# --- a server of known timing -----------------------------------------------------------

# Long enough that scheduler jitter on a busy machine stays well inside the 20% tolerance.
TTFT_S, ITL_S = 0.150, 0.025


def _known_app() -> web.Application:
    """Every request on its own: first token after 80 ms, then one every 10 ms."""
    async def chat(request: web.Request) -> web.StreamResponse:
        t0 = time.perf_counter()
        body = await request.json()
        n = int(body["max_tokens"])
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        for i in range(n):
            await asyncio.sleep(max(0.0, t0 + TTFT_S + i * ITL_S - time.perf_counter()))
            chunk = {"choices": [{"index": 0, "delta": {"content": " x"}}]}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
        usage = {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": n}}
        await resp.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
        await resp.write_eof()
        return resp

    async def bad(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        if kind == "slow":
            await asyncio.sleep(10)
        resp = web.StreamResponse(headers={"content-type": "application/json" if
                                           kind == "plain" else "text/event-stream"})
        await resp.prepare(request)
        await resp.write({"garbage": b"data: not json\n\n",
                          "nodone": b'data: {"choices": []}\n\n',
                          "error": b'data: {"error": {"message": "engine died"}}\n\n',
                          "plain": b'{"choices": []}'}.get(kind, b""))
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/{kind}/v1/chat/completions", bad)
    return app


@pytest.fixture(scope="module")
def known() -> str:
    with serve_in_thread(_known_app(), max_seconds=300) as served:
        yield served.base


def test_audit_agrees_with_a_server_of_known_timing(known: str, tmp_path: Path) -> None:
    n = 20
    report = audit(known + "/v1", model="any", concurrency=(1, 4), requests=(4, 8),
                   prompt_tokens=16, output_tokens=n, timeout_s=10, probe=False,
                   out_dir=tmp_path)
    e2e = TTFT_S + (n - 1) * ITL_S
    for lv in report.levels:
        assert lv.ttft_ms_p50 == pytest.approx(TTFT_S * 1e3, rel=0.2)
        assert lv.tpot_ms_p50 == pytest.approx(ITL_S * 1e3, rel=0.2)
        assert lv.itl_ms_p50 == pytest.approx(ITL_S * 1e3, rel=0.2)
        assert lv.e2e_ms_p50 == pytest.approx(e2e * 1e3, rel=0.2)
        assert lv.output_tokens_per_s == pytest.approx(lv.concurrency * n / e2e, rel=0.2)
        assert lv.token_source == "usage"
    assert report.gpu is None and report.clock["time_scale"] == 1.0
    _check_files(tmp_path, report.levels)


def _check_files(out: Path, levels: list[LevelStats]) -> None:
    rows = list(csv.DictReader((out / "audit.csv").open()))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [int(r["concurrency"]) for r in rows] == [lv.concurrency for lv in levels]
    doc = json.loads((out / "audit.json").read_text())
    assert doc["binding"] in ("compute", "memory_bandwidth", "network_io", "cpu_overhead",
                              "api_rate_limit")
    assert doc["ceiling_tokens_per_s"] > 0 and doc["evidence"]
    assert doc["levels"][0]["ttft_ms_p50"] == pytest.approx(levels[0].ttft_ms_p50)
    assert set(doc["definitions"]) >= {"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"}
    html = (out / "audit.html").read_text()
    assert "<svg" in html and "<script" not in html.lower()
    assert "<link" not in html.lower() and "src=" not in html.lower()
    assert "url(http" not in html and "@import" not in html
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', html))


# --- bad endpoints: one clear line, exit code 2 -------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str, *extra: str,
         model: str = "llama-3.1-8b", timeout_s: float = 30.0) -> tuple[int, str]:
    # Only the deliberately slow endpoint needs a short timeout; everything else gets a
    # generous one so a loaded CI machine cannot turn a success into a timeout.
    code = cli_main([url, "--model", model, "--out", str(tmp_path), "--concurrency", "1",
                     "--requests", "1", "--output-tokens", "4", "--timeout", str(timeout_s),
                     *extra])
    return code, capsys.readouterr().err


def test_bad_endpoints_give_one_clear_line(known: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cases = {
        f"http://127.0.0.1:{_free_port()}/v1": "cannot connect",
        known + "/garbage/v1": "malformed stream",
        known + "/nodone/v1": "without 'data: [DONE]'",
        known + "/plain/v1": "content-type",
        known + "/error/v1": "engine died",
        known + "/slow/v1": "timeout",
    }
    for url, words in cases.items():
        code, err = _cli(capsys, tmp_path, url, timeout_s=2.0 if "/slow/" in url else 30.0)
        assert code == 2, (url, err)
        assert words in err and err.count("\n") == 1, (url, err)
    monkeypatch.setenv("LAB_KEY", "sesame")
    with start(seed=0, kind="none", time_scale=0.05, api_key="sesame",
               max_seconds=120) as lab:
        code, err = _cli(capsys, tmp_path, lab.url)
        assert code == 2 and "401 Unauthorized" in err and "--api-key-env" in err
        code, err = _cli(capsys, tmp_path, lab.url, "--api-key-env", "LAB_KEY", model="gpt-9")
        assert code == 2 and "404 Not Found" in err and "'gpt-9'" in err
        code, err = _cli(capsys, tmp_path, lab.url.removesuffix("/v1"), "--api-key-env",
                         "LAB_KEY")
        assert code == 2 and "404 Not Found" in err and "/v1" in err
        code, err = _cli(capsys, tmp_path, lab.url, "--api-key-env", "NO_SUCH_VARIABLE_SET")
        assert code == 2 and "api_key_env='NO_SUCH_VARIABLE_SET'" in err
        code, err = _cli(capsys, tmp_path, lab.url, "--api-key-env", "LAB_KEY")
        assert code == 0, err
    code, err = _cli(capsys, tmp_path, "http://127.0.0.1:1/v1", "--concurrency", "4,1")
    assert code == 2 and "concurrency" in err
    assert cli_main(["--help"]) == 0 and cli_main([]) == 2


def test_python_api_raises_audit_error() -> None:
    with pytest.raises(AuditError) as err:
        audit(f"http://127.0.0.1:{_free_port()}/v1", model="m", concurrency=(1,), requests=1,
              timeout_s=2)
    assert err.value.cause == "connect"
    with pytest.raises(ValueError, match="requests"):
        audit("http://127.0.0.1:1/v1", model="m", concurrency=(1, 2), requests=(1, 2, 3))


# --- the lab: every kind recovered ------------------------------------------------------

@pytest.fixture(scope="module")
def lab_reports() -> dict:
    """One audit per kind (the exercise's settings), with its lab's spec and request count."""
    out = {}
    for kind in KINDS:
        spec = LabSpec.from_seed(5, kind=kind)
        with start(spec, time_scale="auto", max_seconds=300) as lab:
            report = audit(lab.url, model=lab.model, **lab_exercise.AUDIT_SETTINGS)
            requests = lab._handle.runner.app[ENGINE].stats["requests"]
        out[kind] = (spec, report, requests)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_audit_recovers_the_injected_bottleneck(lab_reports: dict, kind: str) -> None:
    spec, report, _ = lab_reports[kind]
    truth = spec.truth()
    assert report.binding == truth.binding, report.verdict.evidence
    assert report.ceiling_tokens_per_s == pytest.approx(truth.ceiling_tokens_per_s, rel=0.2)
    assert report.clock["time_scale"] != 1.0 and report.gpu["gpu"] == spec.gpu


def test_tpot_at_concurrency_1_matches_the_tps_step(lab_reports: dict) -> None:
    spec, report, _ = lab_reports["none"]
    step = tps.decode(spec.model, spec.gpu, batch=1, context=PRM + OUT // 2).step_ms
    assert report.levels[0].concurrency == 1
    assert report.levels[0].tpot_ms_p50 == pytest.approx(step, rel=0.10)


def test_every_request_is_counted(lab_reports: dict) -> None:
    settings = lab_exercise.AUDIT_SETTINGS
    for kind, (_, report, served) in lab_reports.items():
        sent = 1 + sum(settings["requests"])  # warm-up + levels
        probe = settings["requests"][-1] if report.probe is not None else 0
        limited = sum(lv.rate_limited for lv in report.levels)
        assert served == sent + probe - limited, kind  # 429s never reach the engine
        assert sum(lv.requests_ok + lv.requests_failed for lv in report.levels) == \
            sum(settings["requests"])
