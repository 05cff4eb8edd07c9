"""Lesson 1 panels and charts: decode throughput against batch, the roofline, batching.

The numbers come from :mod:`buildbuy.tps` (the calibrated step-time model) and the
measured tables of :mod:`buildbuy.data`; this module only wires controls to them and
draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, StrMethodFormatter

from buildbuy import data, tps
from buildbuy.widgets._panel import Chart, Panel, Table, as_scenario, new_figure, one_of

__all__ = [
    "BATCHES",
    "CONTEXTS",
    "SLIDER",
    "batching_chart",
    "decode_panel",
    "decode_table",
    "fitting_batch",
    "kv_table",
    "roofline_chart",
    "roofline_table",
]

#: How the measured points are cited in captions.
MEASURED = "measured on one NVIDIA H100 80GB HBM3 (SXM), 2026-11-27"

#: Batch sizes offered by the sliders (powers of two, as serving engines tune them).
BATCHES: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
#: Context lengths (tokens held in the KV cache per sequence) offered by the sliders.
CONTEXTS: tuple[int, ...] = (512, 1024, 2048, 4096, 8192, 16384, 32768)

SLIDER = {"continuous_update": False, "style": {"description_width": "110px"},
           "layout": w.Layout(width="480px")}


def decode_panel(scenario: Any, *, batch: int | None = None, context: int = 2048) -> Panel:
    """Decode throughput of the scenario's self-hosted model as the batch grows.

    The panel opens at ``batch`` and ``context`` (each one of the slider's options,
    :data:`BATCHES` and :data:`CONTEXTS`); the default ``batch=None`` opens at the
    largest slider batch up to 32 that fits in memory. Controls: ``batch`` and ``context``
    (selection sliders), ``gpu`` and
    ``precision`` (dropdowns). ``result`` holds ``tokens_per_s`` (whole GPU
    group), ``tokens_per_s_per_user``, ``step_ms``, ``bound`` and ``max_batch``
    from :func:`buildbuy.tps.decode` and :func:`buildbuy.tps.max_batch`. A
    batch that does not fit in memory is reported as the panel's ``error``.

    Examples
    --------
    >>> p = decode_panel("retail_search", batch=8)
    >>> p.controls["batch"].value = 64
    >>> p.result["bound"], p.result["tokens_per_s"] > 7 * p.result["tokens_per_s_per_user"]
    ('memory_bandwidth', True)
    >>> p.controls["batch"].value = 512              # more than fits: reported, not clipped
    >>> p.error.startswith("batch=512 is invalid")
    True
    """
    s = as_scenario(scenario)
    model = s.self_host_model
    one_of("context", context, CONTEXTS)
    start = (fitting_batch(model, s.gpu, 32, context=context) if batch is None
             else one_of("batch", batch, BATCHES))
    controls = {
        "batch": w.SelectionSlider(options=BATCHES, value=start,
                                   description="batch (users)", **SLIDER),
        "context": w.SelectionSlider(options=CONTEXTS, value=context,
                                     description="context tokens", **SLIDER),
        "gpu": w.Dropdown(options=data.gpu_names(), value=data.get_gpu(s.gpu).name,
                          description="GPU", style=SLIDER["style"]),
        "precision": w.Dropdown(options=tps.PRECISIONS, value="bf16", description="weights",
                                style=SLIDER["style"]),
    }

    def compute(v: Mapping[str, Any]) -> dict[str, Any]:
        kw = {"context": v["context"], "precision": v["precision"]}
        cap = tps.max_batch(model, v["gpu"], **kw)
        est = tps.decode(model, v["gpu"], batch=v["batch"], **kw)
        curve = _curve(model, v["gpu"], cap, **kw)
        return {"model": model, "gpu": v["gpu"], "batch": v["batch"],
                "context": v["context"], "precision": v["precision"],
                "tokens_per_s": est.tokens_per_s,
                "tokens_per_s_per_user": est.tokens_per_s_per_user,
                "step_ms": est.step_ms, "bound": est.bound, "max_batch": cap,
                "curve": curve}

    return Panel(f"Decode throughput: {model}", controls, compute, _draw_decode,
                 _describe_decode, ncols=2)


def fitting_batch(model: str, gpu: str, batch: int, *, context: int,
                  tensor_parallel: int = 1) -> int:
    """``batch`` if it fits in memory at ``context``, else the largest slider batch that does.

    Used for a panel's *default* starting position only, so a panel never opens in an
    error state; a batch the caller or the learner picks is never changed.

    Examples
    --------
    >>> fitting_batch("llama-3.1-8b", "H100-SXM", 512, context=4096)   # max_batch is 105
    64
    """
    cap = tps.max_batch(model, gpu, context=context, tensor_parallel=tensor_parallel)
    return batch if batch <= cap else max([b for b in BATCHES if b <= cap] or [1])


def _curve(model: str, gpu: str, max_batch: int, **kw: Any) -> pd.DataFrame:
    """:func:`buildbuy.tps.decode` at every slider batch that fits in memory."""
    rows = []
    for b in [b for b in BATCHES if b <= max_batch] or [1]:
        e = tps.decode(model, gpu, batch=b, **kw)
        rows.append({"batch": b, "tokens_per_s": e.tokens_per_s,
                     "tokens_per_s_per_user": e.tokens_per_s_per_user, "step_ms": e.step_ms,
                     "bound": e.bound})
    return pd.DataFrame(rows)


def _describe_decode(r: Mapping[str, Any]) -> str:
    return (f"{r['model']} on one {r['gpu']}, batch {r['batch']}, context {r['context']:,}: "
            f"{r['tokens_per_s']:,.0f} tokens/s in total, "
            f"{r['tokens_per_s_per_user']:,.1f} tokens/s per user, "
            f"step {r['step_ms']:.1f} ms ({r['bound'].replace('_', ' ')} bound); "
            f"at most {r['max_batch']:,} sequences fit in memory")


def _measured_points(model: str, gpu: str, context: int) -> Any:
    table = data.load_table("measured_decode")
    if not len(table):
        return table
    mask = ((table["model"] == model) & (table["gpu"] == gpu)
            & (table["context"] == context))
    return table[mask]


def _draw_decode(fig: Figure, v: Mapping[str, Any], r: Mapping[str, Any]) -> None:
    total_ax, user_ax = fig.axes
    curve = r["curve"]
    total_ax.plot(curve["batch"], curve["tokens_per_s"], "o-", color="tab:blue",
                  label="model")
    user_ax.plot(curve["batch"], curve["tokens_per_s_per_user"], "o-", color="tab:orange",
                 label="model")
    measured = _measured_points(r["model"], r["gpu"], r["context"])
    if len(measured):
        total_ax.plot(measured["batch"], measured["tokens_per_s"], "kx", ms=8,
                      label="measured (H100, 2026-11-27)")
        user_ax.plot(measured["batch"], measured["per_user_tokens_per_s"], "kx", ms=8,
                     label="measured (H100, 2026-11-27)")
    total_ax.plot([r["batch"]], [r["tokens_per_s"]], "o", ms=12, mfc="none", mec="red")
    user_ax.plot([r["batch"]], [r["tokens_per_s_per_user"]], "o", ms=12, mfc="none",
                 mec="red")
    for ax, label in ((total_ax, "tokens/s, whole GPU"), (user_ax, "tokens/s per user")):
        ax.set_xscale("log", base=2)
        ax.set_xticks(BATCHES, [str(b) for b in BATCHES], fontsize=7)
        ax.set_xlabel("batch (concurrent sequences)")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        if r["max_batch"] < BATCHES[-1]:
            ax.axvspan(max(r["max_batch"], 1), BATCHES[-1], color="grey", alpha=0.15)
    for ax in (total_ax, user_ax):
        ax.set_ylim(0, 1.12 * ax.get_ylim()[1])
    total_ax.set_title("throughput grows with batch", fontsize=10)
    user_ax.set_title("each user gets slower", fontsize=10)
    total_ax.legend(fontsize=8, loc="upper left")


def decode_table(scenario: Any, *, context: int = 2048) -> Table:
    """Decode throughput of the scenario's model on its GPU at every slider batch that fits.

    Columns ``batch``, ``tokens_per_s`` (whole GPU), ``tokens_per_s_per_user``,
    ``step_ms``, ``bound``; numbers rounded for print (from :func:`buildbuy.tps.decode`).
    """
    s = as_scenario(scenario)
    cap = tps.max_batch(s.self_host_model, s.gpu, context=context)
    out = _curve(s.self_host_model, s.gpu, cap, context=context).set_index("batch")
    return Table(out.round({"tokens_per_s": 0, "tokens_per_s_per_user": 1, "step_ms": 2}))


def kv_table(scenario: Any, *, contexts: tuple[int, ...] = (2048, 8192, 32768)) -> Table:
    """KV cache per sequence and the largest batch that fits, by context length.

    For the scenario's own self-hosted model, named in the index.

    Columns ``kv_bytes_per_token``, ``kv_gb_per_sequence`` and ``max_batch`` (from
    :func:`buildbuy.tps.kv_bytes_per_token` and :func:`buildbuy.tps.max_batch`, bf16
    weights and cache, one GPU). A context longer than the model allows raises.
    """
    s = as_scenario(scenario)
    kv = tps.kv_bytes_per_token(s.self_host_model)
    rows = [{"context": c, "kv_bytes_per_token": kv, "kv_gb_per_sequence": round(kv * c / 1e9, 3),
             "max_batch": tps.max_batch(s.self_host_model, s.gpu, context=c)}
            for c in contexts]
    return Table(pd.DataFrame(rows).set_index("context").rename_axis(
        f"{s.self_host_model}: context"))


def roofline_table() -> Table:
    """Datasheet against measured ceilings of the measured GPUs, and the ridge point.

    One column per GPU; rows: ``datasheet_TBps``, ``measured_TBps`` (a 4 GiB device copy),
    ``datasheet_TFLOPs`` (dense bf16), ``measured_TFLOPs`` (an 8192-cube bf16
    matrix product), the two ratios, and ``ridge_flop_per_byte`` (datasheet
    TFLOP/s over TB/s: below it a kernel waits for memory, above it for arithmetic).
    """
    ceilings = data.load_table("measured_ceilings")
    rows = []
    for _, c in ceilings.iterrows():
        g = data.get_gpu(c["gpu"])
        rows.append({"gpu": g.name, "datasheet_TBps": g.bandwidth_tbps,
                     "measured_TBps": c["copy_tbps_read_plus_write"],
                     "bandwidth_share": c["copy_tbps_read_plus_write"] / g.bandwidth_tbps,
                     "datasheet_TFLOPs": g.bf16_dense_tflops,
                     "measured_TFLOPs": c["bf16_matmul_8192_tflops"],
                     "compute_share": c["bf16_matmul_8192_tflops"] / g.bf16_dense_tflops,
                     "ridge_flop_per_byte": g.bf16_dense_tflops / g.bandwidth_tbps})
    return Table(pd.DataFrame(rows).set_index("gpu").round(3).T)


def roofline_chart() -> Chart:
    """The roofline of the measured GPUs with the measured decode and prefill points.

    x: arithmetic intensity (FLOP per byte moved); y: TFLOP/s achieved. Solid
    lines use datasheet figures, dashed lines the measured ceilings. Decode
    points use the measured bytes (weights + KV cache). Prefill points count
    weight bytes only, a lower bound on bytes moved, so their intensity is an
    upper bound; they sit far right of the ridge either way.
    """
    fig = new_figure(7.5, 4.2)
    (ax,) = fig.axes
    table = roofline_table().frame.T
    x = np.logspace(-0.5, 4.5, 200)
    for (gpu, row), color in zip(table.iterrows(), ("tab:blue", "tab:purple"), strict=False):
        ax.plot(x, np.minimum(row["datasheet_TBps"] * x, row["datasheet_TFLOPs"]),
                color=color, label=f"{gpu} datasheet")
        ax.plot(x, np.minimum(row["measured_TBps"] * x, row["measured_TFLOPs"]),
                color=color, ls="--", lw=1, label=f"{gpu} measured ceilings")
    dec = data.load_table("measured_decode")
    ax.plot(dec["achieved_tflops"] / dec["achieved_tbps"], dec["achieved_tflops"], "o",
            color="tab:orange", ms=4, label="decode steps (measured)")
    pre = data.load_table("measured_prefill")
    weights = dec.groupby("model")["weight_gb"].first()
    flop = pre["achieved_tflops"] * 1e12 * pre["step_ms"] / 1e3
    ax.plot(flop / (pre["model"].map(weights) * 1e9), pre["achieved_tflops"], "s",
            color="tab:red", ms=5, label="prefill passes (measured)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity, FLOP per byte")
    ax.set_ylabel("TFLOP/s")
    ax.grid(True, which="both", alpha=0.2)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("decode sits on the memory slope, prefill under the compute roof", fontsize=10)
    return Chart(fig, f"Roofline: {len(dec)} decode steps and {len(pre)} prefill passes "
                      f"{MEASURED}; ceilings also measured on an H200")


def batching_chart(scenario: Any, *, context: int = 2048) -> Chart:
    """Total tokens/s against tokens/s per user, one point per batch size.

    The vertical line is the scenario's per-user floor,
    ``1000 / max_ms_per_output_token`` tokens per second: batches to its right
    meet the target; the highest of them is the cheapest batch that does.
    """
    s = as_scenario(scenario)
    cap = tps.max_batch(s.self_host_model, s.gpu, context=context)
    curve = _curve(s.self_host_model, s.gpu, cap, context=context)
    fig = new_figure(7.0, 3.8)
    (ax,) = fig.axes
    ax.plot(curve["tokens_per_s_per_user"], curve["tokens_per_s"], "o-")
    for _, row in curve.iterrows():
        ax.annotate(f"{int(row['batch'])}", (row["tokens_per_s_per_user"], row["tokens_per_s"]),
                    textcoords="offset points", xytext=(4, 4), fontsize=7)
    floor = 1000.0 / s.max_ms_per_output_token
    ax.axvline(floor, color="red", ls=":", label=f"target: {floor:.0f} tokens/s per user")
    ax.set_xlabel("tokens/s per user (how fast each answer streams)")
    ax.set_ylabel("tokens/s, whole GPU (what you pay for)")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{s.self_host_model} on one {s.gpu}, context {context:,}: labels are batch "
                 "sizes", fontsize=9)
    ok = curve[curve["tokens_per_s_per_user"] >= floor]
    best = (f"largest batch meeting the target: {int(ok['batch'].max())}" if len(ok)
            else "no batch meets the target on one GPU")
    return Chart(fig, f"Throughput against per-user speed; {best}")
