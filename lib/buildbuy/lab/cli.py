"""``buildbuy lab``: serve a practice lab, or print its answer key.

::

    buildbuy lab serve [--bottleneck KIND] [--seed S] [--port P] [--model M] [--gpu G]
                       [--time-scale X|auto] [--api-key-env VAR] [--max-seconds N]
    buildbuy lab answer [--bottleneck KIND] [--seed S] [--model M] [--gpu G]
                        [--prompt-tokens P] [--output-tokens O]

``serve`` listens on 127.0.0.1 only and stops by itself after ``--max-seconds`` (default
3600) or on Ctrl-C. ``--bottleneck hidden`` (the default) lets the seed choose the kind,
so an instructor can hand each learner a different seed. ``answer`` prints the hidden
parameters and the truth as JSON. Exit codes: 0 success, 2 bad usage (papermill's
convention).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
from collections.abc import Sequence

from buildbuy.lab.spec import KINDS, REFERENCE_OUTPUT_TOKENS, REFERENCE_PROMPT_TOKENS, LabSpec

__all__ = ["cli_main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="buildbuy lab",
                                description="An OpenAI-compatible practice server with a "
                                            "hidden bottleneck, on 127.0.0.1.")
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("serve", "answer"):
        s = sub.add_parser(name)
        s.add_argument("--bottleneck", default="hidden", choices=("hidden", *KINDS),
                       help="the injected bottleneck; 'hidden' lets the seed choose")
        s.add_argument("--seed", type=int, default=0, help="draws the hidden parameters")
        s.add_argument("--model", default="llama-3.1-8b", help="a row of data/models.csv")
        s.add_argument("--gpu", default="H100-SXM", help="a row of data/gpus.csv")
        if name == "serve":
            s.add_argument("--port", type=int, default=8000, help="0 picks a free port")
            s.add_argument("--time-scale", default="1",
                           help="wall seconds per model second, or 'auto'")
            s.add_argument("--api-key-env", default=None, metavar="VAR",
                           help="require the key held in this environment variable")
            s.add_argument("--max-seconds", type=float, default=3600.0,
                           help="stop by itself after this long")
        else:
            s.add_argument("--prompt-tokens", type=int, default=REFERENCE_PROMPT_TOKENS)
            s.add_argument("--output-tokens", type=int, default=REFERENCE_OUTPUT_TOKENS)
    return p


def _serve(spec: LabSpec, args: argparse.Namespace) -> int:
    from buildbuy.lab.app import create_app
    from buildbuy.lab.server import auto_time_scale, bind_loopback, serve

    scale = auto_time_scale(spec) if args.time_scale == "auto" else float(args.time_scale)
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"time_scale={args.time_scale!r} is invalid: must be a number > 0 "
                         "or 'auto'")
    if not (math.isfinite(args.max_seconds) and args.max_seconds > 0):
        raise ValueError(f"max_seconds={args.max_seconds!r} is invalid: must be a finite "
                         "number > 0")
    key = None
    if args.api_key_env is not None:
        key = os.environ.get(args.api_key_env)
        if not key:
            raise ValueError(f"api_key_env={args.api_key_env!r} is invalid: must name a set, "
                             "non-empty environment variable")
    sock = bind_loopback(args.port)
    port = sock.getsockname()[1]
    print(f"buildbuy lab: {spec.model} on {spec.gpu}, seed {spec.seed}, bottleneck "
          f"{'hidden' if args.bottleneck == 'hidden' else spec.kind}, clock x{scale:g}",
          flush=True)
    print(f"OpenAI base URL: http://127.0.0.1:{port}/v1 (stops after "
          f"{args.max_seconds:g} s or Ctrl-C)", flush=True)
    try:
        asyncio.run(serve(create_app(spec, time_scale=scale, api_key=key), sock,
                          max_seconds=args.max_seconds))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


def cli_main(argv: Sequence[str]) -> int:
    """Run ``buildbuy lab ...``; return the exit code."""
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    try:
        kind = None if args.bottleneck == "hidden" else args.bottleneck
        spec = LabSpec.from_seed(args.seed, model=args.model, gpu=args.gpu, kind=kind)
        if args.command == "serve":
            return _serve(spec, args)
        truth = spec.truth(args.prompt_tokens, args.output_tokens)
        print(json.dumps({"lab": spec.to_dict(), "prompt_tokens": args.prompt_tokens,
                          "output_tokens": args.output_tokens, "binding": truth.binding,
                          "ceiling_tokens_per_s": truth.ceiling_tokens_per_s,
                          "ceilings": truth.ceilings}, indent=2, default=str))
        return 0
    except ValueError as exc:
        print(f"buildbuy lab: {exc}", file=sys.stderr)
        return 2
