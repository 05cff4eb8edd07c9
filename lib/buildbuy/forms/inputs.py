""""What you need": the facts a question works from, shown under its field for a calculator.

The code track reaches these facts through the library (``data.get_model``,
``bottleneck.pipeline_ceilings``, ``tco.cashflows`` ...). A learner without code
gets the same facts as a small table under the field, folded away until opened,
and does the last step with a calculator or a spreadsheet: the median of ten
errors, the smallest of five ceilings, the sum of a column. The facts are read from
the library for the learner's scenario. They are what the code track starts from,
not the answer (where reading a value off a table is the skill, as with the
binding ceiling, the table holds it).

A question without an entry here shows no table. ``p2_break_even_monthly_tokens`` (a
search over volumes) gets a what-if tool instead (:mod:`buildbuy.forms.whatif`);
``p3_concept_drift_detector`` is a concept question, answered from the one-line
meanings of its options; the memo's field lists the model's figures itself.
``tests/test_forms.py`` works every other answer out from the listed facts alone, as a
learner with a calculator would, to prove they suffice.

Examples
--------
>>> from buildbuy import scenarios
>>> S = scenarios.load("retail_search")
>>> facts("p1_kv_cache_gb", S)[0]
('layers', '32', '')
>>> facts("ex3_memo", S) is None
True
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

__all__ = ["INPUTS", "TITLES", "facts", "facts_html"]

Row = tuple[str, str, str]  # (what, value, unit)
Table = tuple[list[str], list[list[str]]]  # (header, rows), for a monthly or per-row table


def _n(x: float, digits: int = 4) -> str:
    x = float(x)
    if x == int(x) and abs(x) < 1e15:
        return f"{x:,.0f}"
    return f"{x:,.{digits}g}" if abs(x) >= 1 else f"{x:.{digits}g}"


def _usd(x: float) -> str:
    return f"{float(x):,.0f}"


def _kv(s: Any) -> list[Row]:
    from buildbuy import data

    m = data.get_model(s.self_host_model)
    return [("layers", _n(m.n_layers), ""), ("KV heads", _n(m.n_kv_heads), ""),
            ("head dimension", _n(m.head_dim), "values"),
            ("bytes per value (bf16)", "2", "bytes"),
            ("tokens per request", _n(s.tokens_per_request), "tokens")]


def _decode_step(s: Any) -> list[Row]:
    """The terms of the modelled batch-1 step: bytes read / bandwidth reached + fixed costs."""
    from buildbuy import data, tps

    m, g, cal = data.get_model(s.self_host_model), data.get_gpu(s.gpu), tps.CALIBRATION
    return [("weights read per step (bf16, all but the input embedding table)",
             _n(tps.streamed_params(m) * 2 / 1e9, 6), "GB"),
            (f"KV cache read per step ({s.tokens_per_request:,} tokens of context)",
             _n(tps.kv_bytes_per_token(m, "bf16") * s.tokens_per_request / 1e9, 6), "GB"),
            (f"{g.name} memory bandwidth (datasheet)", _n(g.bandwidth_tbps), "TB/s"),
            ("share of that bandwidth a decode step reaches (fitted)",
             f"{cal.bandwidth_efficiency:.4f}", ""),
            ("fixed cost per step", f"{cal.step_overhead_ms:.4f}", "ms"),
            ("fixed cost per layer", f"{cal.layer_overhead_ms:.4f}", "ms"),
            ("layers", _n(m.n_layers), ""),
            ("at batch 1 the step is memory-bound", "bytes / (share x bandwidth) + fixed costs",
             "")]


def _weights_and_gpu(s: Any) -> list[Row]:
    from buildbuy import data, tps

    m, g = data.get_model(s.self_host_model), data.get_gpu(s.gpu)
    return [("weights in bf16", _n(tps.weight_bytes(m, "bf16") / 1e9), "GB"),
            ("active parameters", _n(m.active_params_b), "billion"),
            (f"{g.name} memory bandwidth (datasheet)", _n(g.bandwidth_tbps), "TB/s"),
            (f"{g.name} bf16 compute (datasheet, dense)", _n(g.bf16_dense_tflops), "TFLOP/s"),
            ("FLOPs per token", "2 x active parameters", "")]


def _max_batch(s: Any) -> list[Row]:
    from buildbuy import data, tps

    m, g = data.get_model(s.self_host_model), data.get_gpu(s.gpu)
    return [(f"usable memory of one {g.name}", _n(tps.usable_memory_gb(g)), "GB"),
            ("weights in bf16", _n(tps.weight_bytes(m, "bf16") / 1e9), "GB"),
            ("KV cache per token (bf16)", _n(tps.kv_bytes_per_token(m, "bf16")), "bytes"),
            ("tokens per request", _n(s.tokens_per_request), "tokens")]


def _model_rows(s: Any) -> Table:
    from buildbuy import data, tps

    t = data.load_table("measured_decode")
    rows = t[(t["model"] == s.self_host_model) & (t["gpu"] == data.get_gpu(s.gpu).name)]
    body = [[_n(b), _n(c), f"{ms:.3f}",
             f"{tps.decode(s.self_host_model, s.gpu, batch=int(b), context=int(c)).step_ms:.3f}"]
            for b, c, ms in zip(rows["batch"], rows["context"], rows["step_ms"], strict=True)]
    return ["batch", "context", "measured step, ms", "model step, ms"], body


def _ceilings(kind: str) -> Callable[[Any], list[Row]]:
    def table(s: Any) -> list[Row]:
        from buildbuy import questions

        ceilings = (questions.prototype_ceilings(s) if kind == "prototype"
                    else questions.production_ceilings(s))
        return [(k.replace("_", " "), _n(v), "output tokens/s") for k, v in ceilings.items()]

    return table


def _replica_cost(s: Any) -> list[Row]:
    from buildbuy import questions

    return [("GPU price", f"{questions.gpu_usd_per_hour(s):.4g}", "USD per GPU-hour"),
            ("GPUs per replica", _n(questions.fleet(s).tensor_parallel), ""),
            ("the replica's ceiling", "your answer above", "output tokens/s")]


def _quota(s: Any) -> list[Row]:
    """Month 1's volume and its growth, the peak and the token mix, and the limits of the
    API's top published rate-limit tier (or the negotiated quota), as step 5 uses them."""
    from buildbuy import api_limits, questions

    rows = [("tokens in month 1", _n(s.monthly_tokens), "tokens"),
            ("annual growth", f"{s.annual_growth:.1%}", ""),
            ("peak to average", _n(s.peak_to_average), "x"),
            ("output share", f"{s.output_token_share:.1%}", "of tokens"),
            ("cached share of input", f"{s.cached_input_share:.1%}",
             "of input tokens (cached reads do not count toward an input limit)"),
            ("minutes in a month", _n(questions.SECONDS_PER_MONTH / 60), "(730 hours)"),
            ("horizon", _n(s.horizon_months), "months")]
    tiers = api_limits.quota_context(s).tiers
    if not tiers:
        return [*rows, (f"{s.api_model} rate limits", "none published", "")]
    top = tiers[-1]
    where = (top.name if top.name == "negotiated quota"
             else f"{s.api_model}'s top published tier, {top.name}")
    for label, value in (("input limit", top.input_tokens_per_minute),
                         ("output limit", top.output_tokens_per_minute),
                         ("limit on input and output together", top.total_tokens_per_minute)):
        if math.isfinite(value):
            rows.append((f"{label} ({where})", _n(value), "tokens per minute"))
    return rows


def _by_category(s: Any) -> Table:
    from buildbuy import tco

    cf = tco.cashflows(s)
    t = cf.pivot_table(index="category", columns="scenario", values="usd", aggfunc="sum")
    return (["category", "A (API), USD", "B (self-host), USD"],
            [[str(cat), _usd(row.get("A", 0.0)), _usd(row.get("B", 0.0))]
             for cat, row in t.fillna(0.0).iterrows()])


def _monthly(s: Any) -> Table:
    from buildbuy import questions

    monthly = questions.record(s).comparison.monthly
    return (["month", "cost of A, USD", "cost of B, USD"],
            [[_n(m), _usd(row["A"]), _usd(row["B"])] for m, row in monthly.iterrows()])


def _monthly_discounted(s: Any) -> Table:
    from buildbuy import finance, questions

    rate = finance.monthly_rate(s.discount_rate)
    monthly = questions.record(s).comparison.monthly
    return (["month", "cost of A, USD", "cost of B, USD", "discount factor"],
            [[_n(m), _usd(row["A"]), _usd(row["B"]), f"{(1 + rate) ** -int(m):.5f}"]
             for m, row in monthly.iterrows()])


def _npv(s: Any) -> list[Row]:
    from buildbuy import questions

    c = questions.record(s).comparison
    npv, blocked = c.npv_vs_status_quo_usd, c.feasibility
    names = {"A": "A (API)", "B": "B (self-host)", "H": "hybrid (API until B is live)"}
    rows: list[Row] = [(f"after-tax NPV of {names[p]} against doing nothing", _usd(npv[p]),
                        "USD") for p in ("A", "B", "H")]
    rows += [(f"what blocks {names[p]}?", "no: " + " ".join(blocked[p]) if blocked[p]
              else "nothing", "") for p in ("A", "B", "H")]
    return rows


def _tornado(s: Any) -> Table:
    from buildbuy import questions

    t = questions.record(s).risk.tornado
    return (["input (low to high)", "NPV gap of B over A at low, USD",
             "NPV gap of B over A at high, USD"],
            [[f"{r['label']} ({r['low']:,.4g} to {r['high']:,.4g})", _usd(r["metric_low"]),
              _usd(r["metric_high"])] for _, r in t.iterrows()])


def _api_bill(s: Any) -> list[Row]:
    from buildbuy import data

    api = data.get_api(s.api_model)
    cached = api.cached_input_usd_per_mtok
    return [("tokens in month 1", _n(s.monthly_tokens), "tokens"),
            ("output share", f"{s.output_token_share:.1%}", "of tokens"),
            ("cached share of input", f"{s.cached_input_share:.1%}", "of input tokens"),
            (f"{api.name} input price", _n(api.input_usd_per_mtok), "USD per million"),
            (f"{api.name} output price", _n(api.output_usd_per_mtok), "USD per million"),
            (f"{api.name} cached input price",
             "none published (priced as input)" if cached is None else _n(cached),
             "USD per million")]


def _psi(s: Any) -> list[Row]:
    from scipy import stats

    return [("monitor samples a day", _n(s.monitor_samples_per_day), ""),
            ("days in the month", "30", ""), ("bins", "10", ""),
            ("95% quantile of chi-squared, 9 degrees of freedom",
             f"{stats.chi2.ppf(0.95, 9):.4f}", "")]


def _ebitda(s: Any) -> Table:
    from buildbuy import questions

    annual = questions.record(s).annual
    t = annual[annual.path.isin(["A", "B"])].pivot(index="year", columns="path",
                                                   values="ebitda_usd")
    return (["year", "EBITDA of A (value minus cash costs), USD",
             "EBITDA of B (value minus cash costs), USD"],
            [[_n(y), _usd(row["A"]), _usd(row["B"])] for y, row in t.iterrows()])


#: Audits of the practice lab already run in this process, by (seed, model, GPU): the two
#: lab questions share one run, and reopening a table does not audit again.
_LAB_REPORTS: dict[tuple[int, str, str], Any] = {}


def _lab_audit(s: Any) -> str:
    """Audit the scenario's practice lab (:mod:`buildbuy.lab`) as step 6 does, and show the
    measurements and the audit's evidence (the lab runs in this process for a few seconds,
    on 127.0.0.1 only, and is stopped at once)."""
    from buildbuy import audit
    from buildbuy.lab import exercise

    key = (int(s.lab_seed), str(s.self_host_model), str(s.gpu))
    if key not in _LAB_REPORTS:
        with exercise.start_for(s, max_seconds=120.0) as server:
            _LAB_REPORTS[key] = audit.audit(server.url, model=server.model,
                                            **exercise.AUDIT_SETTINGS)
    report = _LAB_REPORTS[key]
    lines = report.csv_text().splitlines()
    head = [c.replace("_", " ") for c in lines[0].split(",")]
    rows = [ln.split(",") for ln in lines[1:]]
    evidence = "".join(f"<li>{html.escape(x)}</li>" for x in report.verdict.evidence)
    return (_table_html(head, rows) + "<p style='margin:4px 0 0'>The audit of your lab "
            f"(seed {key[0]}), in the lab's own time. Its evidence:</p><ul>{evidence}</ul>")


#: Question id -> the facts it works from, for the learner's scenario.
INPUTS: dict[str, Callable[[Any], list[Row] | Table | str]] = {
    "p1_kv_cache_gb": _kv,
    "p1_decode_step_ms": _decode_step,
    "p1_bound_batch1": _weights_and_gpu,
    "p1_max_batch": _max_batch,
    "ex1_model_error_pct": _model_rows,
    "ex1_prototype_binding": _ceilings("prototype"),
    "ex1_binding": _ceilings("production"),
    "ex1_ceiling_tokens_per_s": _ceilings("production"),
    "ex1_usd_per_1k_tokens": _replica_cost,
    "ex1_api_quota_month": _quota,
    "ex1_lab_binding": _lab_audit,
    "ex1_lab_ceiling_tokens_per_s": _lab_audit,
    "ex2_tco_a_usd": _by_category,
    "ex2_tco_b_usd": _by_category,
    "ex2_crossover_month": _monthly,
    "ex2_recommendation": _npv,
    "ex2_decision_margin_usd": _npv,
    "ex2_top_driver_swing_usd": _tornado,
    "p2_api_first_month_usd": _api_bill,
    "p2_discounted_crossover_month": _monthly_discounted,
    "p3_psi_threshold": _psi,
    "p3_ebitda_delta_last_year_usd": _ebitda,
}


#: The folded section's title where it is more than a table (default "What you need").
TITLES: dict[str, str] = {
    "ex1_lab_binding": "What you need: open to audit your practice lab (a few seconds)",
    "ex1_lab_ceiling_tokens_per_s": "What you need: open to audit your practice lab "
                                    "(a few seconds)",
}


def facts(question_id: str, scenario: Any) -> list[Row] | Table | str | None:
    """The facts question ``question_id`` works from for ``scenario``: rows of (what,
    value, unit), a (header, rows) table, or ready HTML; ``None`` when none are listed."""
    make = INPUTS.get(question_id)
    return None if make is None else make(scenario)


def _table_html(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                    for row in rows)
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return (f"<table class='buildbuy-facts' style='font-size:90%'><tr>{header}</tr>{cells}"
            "</table>")


def facts_html(question_id: str, scenario: Any) -> str | None:
    """:func:`facts` as HTML (``None`` when the question lists none)."""
    got = facts(question_id, scenario)
    if got is None or isinstance(got, str):
        return got
    if isinstance(got, tuple):
        return _table_html(*got)
    return _table_html(["what", "value", "unit"], [list(r) for r in got])
