"""``buildbuy audit``: audit an OpenAI-compatible endpoint from the command line.

::

    buildbuy audit URL --model NAME --out DIR [--api-key-env VAR]
        [--concurrency 1,4,16] [--requests N | N1,N2,...] [--prompt-tokens P]
        [--output-tokens O] [--timeout S] [--gpu G [--tps-model NAME]
        [--tensor-parallel N]] [--no-probe] [--extra-body JSON]

Exit codes follow papermill: 0 the audit ran and every request that failed was a 429 (a
measured limit, reported); 1 the audit ran but some requests failed for another reason
(timeouts, 5xx, broken streams: see ``audit.json``); 2 bad arguments, or an endpoint the
audit cannot use (one line on stderr: connection refused, 401, 404, malformed stream,
timeout).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from buildbuy.audit.client import AuditError
from buildbuy.audit.run import audit

__all__ = ["cli_main"]


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole "
                                         "numbers") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="buildbuy audit",
                                description="Measure an OpenAI-compatible chat-completions "
                                            "endpoint and name its bottleneck.")
    p.add_argument("url", help="OpenAI base URL, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--model", required=True, help="the model name the endpoint serves")
    p.add_argument("--out", required=True, help="folder for audit.csv, .json and .html")
    p.add_argument("--api-key-env", default=None, metavar="VAR",
                   help="environment variable holding the API key")
    p.add_argument("--concurrency", type=_ints, default=[1, 4, 16])
    p.add_argument("--requests", type=_ints, default=[16],
                   help="requests per level: one number, or one per level")
    p.add_argument("--prompt-tokens", type=int, default=128)
    p.add_argument("--output-tokens", type=int, default=64)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    p.add_argument("--gpu", default=None, help="GPU behind the endpoint (data/gpus.csv)")
    p.add_argument("--tps-model", default=None,
                   help="the served model as named in data/models.csv")
    p.add_argument("--tensor-parallel", type=int, default=None)
    p.add_argument("--no-probe", action="store_true",
                   help="skip the non-streamed re-run of the top level")
    p.add_argument("--extra-body", default=None,
                   help='extra request fields as JSON, e.g. \'{"ignore_eos": true}\'')
    return p


def cli_main(argv: Sequence[str]) -> int:
    """Run ``buildbuy audit ...``; return the exit code."""
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    try:
        extra = json.loads(args.extra_body) if args.extra_body else None
        requests = args.requests[0] if len(args.requests) == 1 else args.requests
        report = audit(args.url, model=args.model, concurrency=args.concurrency,
                       requests=requests, prompt_tokens=args.prompt_tokens,
                       output_tokens=args.output_tokens, api_key_env=args.api_key_env,
                       timeout_s=args.timeout, gpu=args.gpu, tps_model=args.tps_model,
                       tensor_parallel=args.tensor_parallel, probe=not args.no_probe,
                       extra_body=extra, out_dir=args.out)
    except AuditError as exc:
        print(f"buildbuy audit: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"buildbuy audit: {exc}", file=sys.stderr)
        return 2
    print(report.table()[["concurrency", "requests_ok", "requests_failed", "ttft_ms_p50",
                          "tpot_ms_p50", "e2e_ms_p50", "output_tokens_per_s"]]
          .round(1).to_string(index=False))
    print(report.summary())
    print(f"wrote {args.out}/audit.csv, audit.json, audit.html")
    other = {k: n for k, n in report.failed.items() if k != "rate_limited"}
    if other:
        print(f"some requests failed: {other}", file=sys.stderr)
        return 1
    return 0
