"""Measure any OpenAI-compatible chat-completions endpoint and name its bottleneck.

``buildbuy audit URL --model NAME ...`` (or :func:`audit` in Python) streams synthetic
requests at rising concurrency, measures TTFT, TPOT, inter-token latency, end-to-end
latency and output tokens per second per level (defined as GenAI-Perf and guidellm
define them: :mod:`buildbuy.audit.metrics`), counts failures by cause (HTTP 429 apart),
and feeds :func:`buildbuy.bottleneck.audit` to name which of the five kinds binds and the
TPS ceiling (:mod:`buildbuy.audit.verdict`). It writes ``audit.csv``, ``audit.json`` and
``audit.html`` (:mod:`buildbuy.audit.report`).

- :mod:`buildbuy.audit.sse`: the server-sent-events parser;
- :mod:`buildbuy.audit.client`: the aiohttp client, one request and one level;
- :mod:`buildbuy.audit.metrics`: per-level metrics and their definitions;
- :mod:`buildbuy.audit.verdict`: from measurements to the binding kind;
- :mod:`buildbuy.audit.report`: the CSV, JSON and HTML outputs;
- :mod:`buildbuy.audit.run`: the whole audit; :mod:`buildbuy.audit.cli`: the command.
"""

from buildbuy.audit.client import AuditError
from buildbuy.audit.metrics import CSV_COLUMNS, DEFINITIONS, LevelStats
from buildbuy.audit.report import AuditReport
from buildbuy.audit.run import audit, audit_async
from buildbuy.audit.verdict import GpuContext, Verdict

__all__ = [
    "CSV_COLUMNS",
    "DEFINITIONS",
    "AuditError",
    "AuditReport",
    "GpuContext",
    "LevelStats",
    "Verdict",
    "audit",
    "audit_async",
]
