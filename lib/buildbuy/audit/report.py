"""The audit's outputs: ``audit.csv``, ``audit.json`` and a self-contained ``audit.html``.

``audit.csv`` has one row per concurrency level with exactly
:data:`~buildbuy.audit.metrics.CSV_COLUMNS`. ``audit.json`` holds every level's metrics,
the settings, the verdict (``binding``, ``ceiling_tokens_per_s``, ``evidence``, the
ceilings the verdict ranked) and the metric definitions. ``audit.html`` shows the
latency-throughput curve as inline SVG: no script, no external style, font or image.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildbuy.audit.metrics import CSV_COLUMNS, DEFINITIONS, LevelStats
from buildbuy.audit.verdict import Verdict

__all__ = ["AuditReport"]


@dataclass(frozen=True)
class AuditReport:
    """Everything one audit measured and concluded (times and rates in server time)."""

    url: str
    model: str
    settings: dict[str, Any]
    levels: list[LevelStats]
    probe: LevelStats | None
    verdict: Verdict
    clock: dict[str, Any]
    gpu: dict[str, Any] | None

    @property
    def binding(self) -> str:
        """The binding kind (one of the five of :mod:`buildbuy.bottleneck`)."""
        return self.verdict.binding

    @property
    def ceiling_tokens_per_s(self) -> float:
        """The TPS ceiling: output tokens per second."""
        return self.verdict.ceiling_tokens_per_s

    @property
    def failed(self) -> dict[str, int]:
        """Failed requests by cause over every level (``rate_limited`` = HTTP 429)."""
        total: dict[str, int] = {}
        for lv in self.levels:
            for cause, n in lv.failures.items():
                total[cause] = total.get(cause, 0) + n
        return total

    def table(self) -> Any:
        """The levels as a pandas DataFrame (the CSV columns first, then the rest)."""
        import pandas as pd

        df = pd.DataFrame([lv.to_dict() for lv in self.levels])
        rest = [c for c in df.columns if c not in CSV_COLUMNS]
        return df[list(CSV_COLUMNS) + rest]

    def to_dict(self) -> dict[str, Any]:
        """The ``audit.json`` document."""
        v = self.verdict
        return {
            "url": self.url, "model": self.model, "settings": self.settings,
            "clock": self.clock, "gpu": self.gpu,
            "binding": v.binding, "ceiling_tokens_per_s": v.ceiling_tokens_per_s,
            "saturated": v.saturated, "evidence": v.evidence,
            "next_binding": v.audit.next_binding,
            "headroom": None if math.isinf(v.audit.headroom) else v.audit.headroom,
            "ceilings": v.ceilings, "checks": v.checks,
            "failed_by_cause": self.failed,
            "levels": [lv.to_dict() for lv in self.levels],
            "probe_without_streaming": self.probe.to_dict() if self.probe else None,
            "definitions": DEFINITIONS,
        }

    def summary(self) -> str:
        """Two lines: the verdict and its first piece of evidence."""
        first = self.verdict.evidence[0] if self.verdict.evidence else ""
        return (f"binding: {self.binding} at {self.ceiling_tokens_per_s:,.0f} output "
                f"tokens/s\n{first}")

    def csv_text(self) -> str:
        """The ``audit.csv`` content."""
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
        w.writeheader()
        for lv in self.levels:
            w.writerow({k: (round(v, 3) if isinstance(v, float) else v)
                        for k, v in lv.row().items()})
        return buf.getvalue()

    def figure(self) -> Any:
        """The latency-throughput curve: TPOT and TTFT p50 against output tokens/s."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7.0, 3.6))
        ax = fig.add_subplot(1, 1, 1)
        x = [lv.output_tokens_per_s for lv in self.levels]
        ax.plot(x, [lv.tpot_ms_p50 for lv in self.levels], "o-", label="TPOT p50 (ms)")
        ax.plot(x, [lv.ttft_ms_p50 for lv in self.levels], "s--", label="TTFT p50 (ms)")
        for lv in self.levels:
            ax.annotate(f"c={lv.concurrency}", (lv.output_tokens_per_s, lv.tpot_ms_p50),
                        textcoords="offset points", xytext=(4, 6), fontsize=8)
        ax.axvline(self.ceiling_tokens_per_s, color="grey", ls=":",
                   label=f"ceiling ({self.binding})")
        ax.set_xlabel("output tokens/s (all requests)")
        ax.set_ylabel("latency (ms)")
        ax.set_yscale("log")
        ax.set_title(f"{self.model}: latency against throughput")
        ax.legend(fontsize=8)
        fig.tight_layout()
        return fig

    def svg(self) -> str:
        """The curve as an SVG document (no external references)."""
        buf = io.StringIO()
        self.figure().savefig(buf, format="svg", metadata={"Date": None})
        text = buf.getvalue()
        return text[text.index("<svg"):]

    def html(self) -> str:
        """The self-contained ``audit.html`` page."""
        e = html.escape
        rows = "".join("<tr>" + "".join(f"<td>{e(_fmt(v))}</td>" for v in lv.row().values())
                       + "</tr>" for lv in self.levels)
        head = "".join(f"<th>{e(c)}</th>" for c in CSV_COLUMNS)
        evidence = "".join(f"<li>{e(x)}</li>" for x in self.verdict.evidence)
        defs = "".join(f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in DEFINITIONS.items())
        fails = ", ".join(f"{e(k)}: {n}" for k, n in self.failed.items()) or "none"
        clock = ("" if self.clock.get("time_scale", 1) == 1 else
                 f"<p>Times are in the server's own time: its clock runs at "
                 f"{self.clock['time_scale']:g}x real time ({e(str(self.clock['source']))}).</p>")
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>Audit of {e(self.model)}</title></head><body "
            "style='font-family:sans-serif;max-width:900px;margin:1em auto'>"
            f"<h1>Audit of {e(self.model)}</h1><p>Endpoint: <code>{e(self.url)}</code></p>"
            f"<h2>Binding: {e(self.binding)} at {self.ceiling_tokens_per_s:,.0f} output "
            f"tokens/s</h2><ul>{evidence}</ul>{clock}{self.svg()}"
            f"<table border='1' cellpadding='3' style='border-collapse:collapse'>"
            f"<tr>{head}</tr>{rows}</table><p>Failed requests by cause: {fails}</p>"
            f"<h3>Definitions</h3><ul>{defs}</ul></body></html>\n")

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``audit.csv``, ``audit.json`` and ``audit.html`` into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "audit.csv", out / "audit.json", out / "audit.html"]
        paths[0].write_text(self.csv_text(), encoding="utf-8")
        paths[1].write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False,
                                       default=_json_default) + "\n", encoding="utf-8")
        paths[2].write_text(self.html(), encoding="utf-8")
        return paths

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return f"<AuditReport {self.model}: {self.binding} at " \
               f"{self.ceiling_tokens_per_s:,.0f} tokens/s>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:,.1f}"
    return str(v)


def _json_default(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return str(v)
