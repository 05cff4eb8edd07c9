"""A local practice server with a hidden bottleneck: the live part of exercise 1.

``buildbuy lab serve --bottleneck KIND --seed S --port P`` (or :func:`start` in a
notebook) runs an OpenAI-compatible chat-completions server on 127.0.0.1 whose token
timing comes from the TPS model (:mod:`buildbuy.tps`: continuous batching, a KV-cache
capacity) plus one injected bottleneck drawn from the seed. Audit it with
:mod:`buildbuy.audit`; :meth:`LabSpec.truth` is the answer.

- :mod:`buildbuy.lab.spec`: the hidden parameters and the answer;
- :mod:`buildbuy.lab.engine`: continuous batching on an asyncio clock;
- :mod:`buildbuy.lab.wire`: the OpenAI wire format and the lab's word tokenizer;
- :mod:`buildbuy.lab.app`: the Starlette app, the network link and the rate limiter;
- :mod:`buildbuy.lab.server`: running it (thread or foreground) on loopback;
- :mod:`buildbuy.lab.exercise`: the lab of exercise 1, from a scenario's ``lab_seed``;
- :mod:`buildbuy.lab.cli`: the ``buildbuy lab`` command.
"""

from buildbuy.lab import exercise
from buildbuy.lab.cli import cli_main
from buildbuy.lab.server import HOST, Lab, auto_time_scale, start
from buildbuy.lab.spec import (
    KINDS,
    REFERENCE_OUTPUT_TOKENS,
    REFERENCE_PROMPT_TOKENS,
    LabSpec,
    Truth,
)

__all__ = [
    "HOST",
    "KINDS",
    "REFERENCE_OUTPUT_TOKENS",
    "REFERENCE_PROMPT_TOKENS",
    "Lab",
    "LabSpec",
    "Truth",
    "auto_time_scale",
    "cli_main",
    "exercise",
    "start",
]
