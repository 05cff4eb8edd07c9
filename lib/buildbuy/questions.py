"""The question registry: every checked question of the exercises and practice sections.

Each :class:`Question` states its id, lesson, the exercise notebook it appears in,
its prompt, its kind (``"numeric"``, ``"choice"`` or ``"memo"``), its tolerance
and a hint, and holds a function that computes the expected answer **from the
learner's scenario through the library**. No expected value is stored.

Ids: ``exN_*`` are the steps of executive exercise N; ``pN_*`` are the practice
questions of lesson N (shown in the Practice section of exercise N).

Examples
--------
>>> from buildbuy import questions
>>> questions.get("p1_kv_cache_gb").kind
'numeric'
>>> sorted({q.lesson for q in questions.QUESTIONS.values()})
[1, 2, 3]
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from buildbuy._validate import bad, suggest

__all__ = ["KINDS", "QUESTIONS", "Question", "for_exercise", "get"]

KINDS: tuple[str, ...] = ("numeric", "choice", "memo")
#: The judgement items of a memo answer: :data:`buildbuy.memo.rubric.ITEMS` (written out
#: here so that importing the question bank stays light; a test checks they are equal).
RUBRIC_ITEMS: tuple[str, ...] = ("recommendation", "kill_criteria", "quality", "ask", "length")
EXERCISES: tuple[str, ...] = ("01_bottleneck_audit", "02_three_year_tco", "03_investment_memo")


@dataclass(frozen=True)
class Question:
    """One checked question.

    ``expected(scenario)`` returns the expected number (``None`` = "never"), the
    expected option, or for ``kind="memo"`` a function ``memo -> (MemoCheck, Rubric)``.
    ``parts`` names the items judged besides the whole answer (the memo's rubric items);
    the grader reports each as its own row, ``<id>:<part>``.
    A numeric answer is correct when ``math.isclose(answer, expected,
    rel_tol=rel_tol, abs_tol=abs_tol)``.
    """

    id: str
    lesson: int
    exercise: str
    prompt: str
    kind: str
    hint: str
    expected: Callable[[Any], Any]
    rel_tol: float = 0.01
    abs_tol: float = 0.0
    choices: tuple[str, ...] = ()
    unit: str = ""
    parts: tuple[str, ...] = ()

    def tolerance_text(self) -> str:
        """The tolerance in words, e.g. ``"within 1% or 0.5 months"``."""
        parts = []
        if self.rel_tol:
            parts.append(f"{100 * self.rel_tol:g}%")
        if self.abs_tol:
            parts.append(f"{self.abs_tol:g} {self.unit}".strip())
        return "exact" if not parts else "within " + " or ".join(parts)


# --- shared computations (cached per scenario: checks call them repeatedly) ------------

_CACHE: dict[tuple[str, str], Any] = {}


def _key(scenario: Any) -> str:
    return json.dumps(scenario.to_dict(), sort_keys=True, default=str)


def _cached(name: str, scenario: Any, compute: Callable[[], Any]) -> Any:
    key = (name, _key(scenario))
    if key not in _CACHE:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = compute()
    return _CACHE[key]


def record(scenario: Any) -> Any:
    """The decision record ``buildbuy.decision.decide(scenario)`` (cached by ``decide``)."""
    from buildbuy.decision import decide

    return decide(scenario)


# --- lesson 1: throughput and the bottleneck audit -------------------------------------

def _model_gpu(s: Any) -> tuple[Any, Any]:
    from buildbuy import data

    return data.get_model(s.self_host_model), data.get_gpu(s.gpu)


def _kv_cache_gb(s: Any) -> float:
    from buildbuy import tps

    model, _ = _model_gpu(s)
    return tps.kv_bytes_per_token(model, "bf16") * s.tokens_per_request / 1e9


def _decode_batch1(s: Any) -> Any:
    from buildbuy import tps

    model, gpu = _model_gpu(s)
    return tps.decode(model, gpu, batch=1, context=s.tokens_per_request)


def _audit(ceilings: dict[str, float]) -> Any:
    from buildbuy import bottleneck

    return bottleneck.audit(ceilings)


def _max_batch(s: Any) -> int:
    from buildbuy import tps

    model, gpu = _model_gpu(s)
    return tps.max_batch(model, gpu, context=s.tokens_per_request)


# --- exercise 1: the pipeline around one replica ---------------------------------------

#: The pipeline stages around one replica are scenario fields (defaults and sources in
#: ``docs/scenarios.md``): ``cpu_ms_per_request`` (tokenising, detokenising and checking
#: on one host core) and ``network_mbps`` (the port in front of the replica).
PIPELINE_FIELDS: tuple[str, ...] = ("cpu_ms_per_request", "network_mbps")
SECONDS_PER_MONTH: float = 730.0 * 3600.0


def pipeline_inputs(s: Any) -> dict[str, float]:
    """The pipeline-stage fields of scenario ``s``, plus Scenario A's rate limits.

    ``api_input_tokens_per_minute``, ``api_output_tokens_per_minute`` and
    ``api_total_tokens_per_minute`` (a combined limit, as OpenAI publishes) are the top
    rate-limit tier's limits for ``api_model`` (or the negotiated ``api_tokens_per_minute``)
    from :func:`buildbuy.api_limits.quota_context`; ``inf`` where none is published.
    """
    from buildbuy import api_limits

    out = {k: float(getattr(s, k)) for k in PIPELINE_FIELDS}
    tiers = api_limits.quota_context(s).tiers
    top = tiers[-1] if tiers else None
    out["api_input_tokens_per_minute"] = top.input_tokens_per_minute if top else float("inf")
    out["api_output_tokens_per_minute"] = top.output_tokens_per_minute if top else float("inf")
    out["api_total_tokens_per_minute"] = top.total_tokens_per_minute if top else float("inf")
    return out


def request_shape(s: Any) -> tuple[int, int]:
    """(prompt, output) tokens per request: ``output = round(tokens_per_request x
    output_token_share)``, the split :mod:`buildbuy.tco` sizes the fleet with."""
    out = round(s.tokens_per_request * s.output_token_share)
    return s.tokens_per_request - out, out


def fleet(s: Any) -> Any:
    """Scenario B's replica sizing at year 1's peak, cached: ``buildbuy.tco.sizing(s).fleet``,
    the same sizing the decision record holds (``Decision.replica``), without building the
    whole record (exercise 1's checks stay fast under a grader's cell time limit)."""
    from buildbuy import tco

    return _cached("fleet", s, lambda: tco.sizing(s).fleet)


def prototype_ceilings(s: Any) -> dict[str, float]:
    """Ceilings of the prototype: Hugging Face ``generate()`` (engine ``"naive"``), batch 1."""
    from buildbuy import bottleneck

    prompt, output = request_shape(s)
    p = pipeline_inputs(s)
    return bottleneck.pipeline_ceilings(
        s.self_host_model, s.gpu, batch=1, prompt_tokens=prompt, output_tokens=output,
        cpu_ms_per_request=p["cpu_ms_per_request"], network_mbps=p["network_mbps"],
        engine="naive")


def production_ceilings(s: Any) -> dict[str, float]:
    """Ceilings of one production replica: optimized engine at the fleet's batch and TP."""
    from buildbuy import bottleneck

    prompt, output = request_shape(s)
    p = pipeline_inputs(s)
    f = fleet(s)
    return bottleneck.pipeline_ceilings(
        s.self_host_model, s.gpu, batch=f.batch, prompt_tokens=prompt, output_tokens=output,
        cpu_ms_per_request=p["cpu_ms_per_request"], network_mbps=p["network_mbps"],
        engine="optimized", tensor_parallel=f.tensor_parallel)


def model_error_pct(s: Any) -> float:
    """Median |model - measured| / measured decode step time, in %, over the measured
    rows (``measured_decode``) of the scenario's model on its GPU."""
    import numpy as np

    from buildbuy import data, tps

    t = data.load_table("measured_decode")
    rows = t[(t["model"] == s.self_host_model) & (t["gpu"] == data.get_gpu(s.gpu).name)]
    if rows.empty:
        raise ValueError(f"no measurements of {s.self_host_model} on {s.gpu} in "
                         "measured_decode")
    model = [tps.decode(s.self_host_model, s.gpu, batch=int(b), context=int(c)).step_ms
             for b, c in zip(rows["batch"], rows["context"], strict=True)]
    return float(np.median(np.abs(np.asarray(model) / rows["step_ms"].to_numpy() - 1)) * 100)


def gpu_usd_per_hour(s: Any) -> float:
    """The scenario's GPU price (:func:`buildbuy.costs.scenario_gpu_usd_per_hour`)."""
    from buildbuy import costs

    return costs.scenario_gpu_usd_per_hour(s)


def usd_per_1k_output_tokens(s: Any) -> float:
    """Self-hosted cost of 1k output tokens when one replica runs flat out at its ceiling."""
    from buildbuy import bottleneck, costs

    ceiling = bottleneck.audit(production_ceilings(s)).ceiling_tokens_per_s
    return float(costs.self_hosted_usd_per_1k_tokens(
        usd_per_gpu_hour=gpu_usd_per_hour(s), n_gpus=fleet(s).tensor_parallel,
        tokens_per_s=ceiling))


def api_quota_month(s: Any) -> float | None:
    """First month (1..horizon) whose peak demand exceeds the API's top rate-limit tier:
    uncached input tokens per minute against the input limit, output tokens against the
    output limit, or all tokens against a combined limit
    (:func:`buildbuy.api_limits.quota_plan`); ``None`` if never."""
    from buildbuy import api_limits

    plan = api_limits.quota_plan(s)
    over = [int(m) for m, f in zip(plan.months, plan.over_top_share, strict=True)
            if m >= 1 and f > 0]
    return float(over[0]) if over else None


# --- exercise 1, live part: the practice lab (buildbuy.lab) ------------------------------
# The answer follows from the scenario's lab_seed alone, so grading needs no network.

def lab_truth(s: Any) -> Any:
    """What a perfect audit of the scenario's practice lab finds
    (:func:`buildbuy.lab.exercise.truth`)."""
    from buildbuy.lab import exercise

    return _cached("lab_truth", s, lambda: exercise.truth(s))


# --- lesson 2: three-year TCO -------------------------------------------------------------

def _none_or_float(x: Any) -> float | None:
    return None if x is None else float(x)


def _figure(key: str) -> Callable[[Any], Any]:
    """Expected value = the record's figure ``key`` (``None`` = "never")."""
    return lambda s: record(s).figures[key].value


def _decision_margin(s: Any) -> float:
    from buildbuy.decision.explain import margin

    return margin(s).margin_usd


def _top_swing(s: Any) -> float:
    from buildbuy.decision.explain import swing

    return swing(s).swing_usd


def _api_bill(s: Any) -> float:
    from buildbuy import costs, data

    return float(costs.monthly_api_cost_usd(
        data.get_api(s.api_model), monthly_tokens=s.monthly_tokens,
        output_token_share=s.output_token_share, cached_input_share=s.cached_input_share))


# --- lesson 3: the memo, the board and drift ---------------------------------------------

def _memo_checker(s: Any) -> Callable[[Any], Any]:
    """``answer -> (MemoCheck, Rubric)``: the figures against the whole record, and the
    judgement rubric (:func:`buildbuy.memo.judge`)."""
    from buildbuy import memo

    facts = memo.board_facts(record(s))
    return lambda answer: (memo.check_memo(answer, facts.figures), memo.judge(answer, facts))


def _ebitda_gap_last_year(s: Any) -> float:
    d = record(s)
    return float(d.figures[f"ebitda_gap_year_{int(d.fleet['year'].max())}_usd"].value)


def _psi_threshold_month(s: Any) -> float:
    from buildbuy import drift

    n = int(s.monitor_samples_per_day) * 30
    return float(drift.psi_threshold(n, n, 10))


#: The detectors offered in ``p3_concept_drift_detector``.
DETECTORS: tuple[str, ...] = ("psi", "ks_test", "ddm")


def concept_drift_alarms(*, n: int = 4000, seed: int = 0) -> dict[str, bool]:
    """Which detector fires on a simulated sudden concept drift (``buildbuy.drift``).

    The stream's inputs keep their distribution and only ``P(y|x)`` turns by 1.5
    radians at the midpoint. PSI (10 bins, alarm above ``psi_threshold``) and the KS
    test (alarm at p <= 0.05) compare the input ``x1`` of the two halves; DDM watches
    the error stream of the model fitted before the drift and alarms after the midpoint.
    """
    from buildbuy import drift

    half = n // 2
    s = drift.make_stream(n, kind="concept", shape="sudden", t0=half, magnitude=1.5, seed=seed)
    x1 = s.x[0, :, 0]
    ref, cur = x1[:half], x1[half:]
    proba = drift.model_proba(s.x[0], kind="concept", trained_shift=0.0, slope=s.slope)
    errors = ((proba >= 0.5).astype(int) != s.y[0]).astype(int)
    return {
        "psi": bool(drift.psi(ref, cur, 10) > drift.psi_threshold(half, n - half, 10)),
        "ks_test": bool(drift.ks_test(ref, cur)[1] <= 0.05),
        "ddm": bool(any(i >= half for i in drift.ddm(errors))),
    }


def _concept_detector(s: Any) -> str:
    fired = [k for k, v in concept_drift_alarms().items() if v]
    if len(fired) != 1:
        raise RuntimeError(f"expected exactly one detector to fire, got {fired}")
    return fired[0]


def _bank() -> list[Question]:
    e1, e2, e3 = EXERCISES
    return [
        # exercise 1 and lesson 1 practice
        Question("p1_kv_cache_gb", 1, e1,
                 "KV cache of one request of `S.tokens_per_request` tokens on `S.self_host_model`,"
                 " bf16, in GB (1 GB = 1e9 bytes).", "numeric",
                 "per token, every layer stores one key and one value vector per KV head: "
                 "2 x layers x kv_heads x head_dim x 2 bytes.", _kv_cache_gb, rel_tol=0.01,
                 unit="GB"),
        Question("p1_decode_step_ms", 1, e1,
                 "Decode step time at batch 1 (context `S.tokens_per_request`) of "
                 "`S.self_host_model` on `S.gpu`, in ms, from `buildbuy.tps.decode`.", "numeric",
                 "at batch 1 each step streams every weight from HBM once: bytes / bandwidth.",
                 lambda s: _decode_batch1(s).step_ms, rel_tol=0.02, unit="ms"),
        Question("p1_bound_batch1", 1, e1,
                 "What bounds that batch-1 decode step?", "choice",
                 "compare the FLOPs per step with the bytes per step (arithmetic intensity).",
                 lambda s: _decode_batch1(s).bound,
                 choices=("compute", "memory_bandwidth", "host_overhead", "interconnect")),
        Question("p1_max_batch", 1, e1,
                 "Largest batch of `S.tokens_per_request`-token requests that fits on one "
                 "`S.gpu` next to the bf16 weights.", "numeric",
                 "free memory after the weights, divided by the KV cache of one request.",
                 _max_batch, rel_tol=0.0, abs_tol=1.0, unit="request"),
        Question("ex1_model_error_pct", 1, e1,
                 "Median error of `buildbuy.tps.decode` against the measured decode steps of "
                 "your model on your GPU, in % (|model - measured| / measured).", "numeric",
                 "one model step per measured (batch, context) row, then the median of the "
                 "absolute relative errors, times 100.", model_error_pct, rel_tol=0.0,
                 abs_tol=0.5, unit="percentage points"),
        Question("ex1_prototype_binding", 1, e1,
                 "Which of the five kinds binds the prototype (engine \"naive\", batch 1)?",
                 "choice", "compare the host time per step with the GPU step time.",
                 lambda s: _audit(prototype_ceilings(s)).binding,
                 choices=("compute", "memory_bandwidth", "network_io", "cpu_overhead",
                          "api_rate_limit")),
        Question("ex1_binding", 1, e1,
                 "Which kind binds one production replica (optimized engine, the fleet's "
                 "batch)?", "choice", "the smallest ceiling binds.",
                 lambda s: _audit(production_ceilings(s)).binding,
                 choices=("compute", "memory_bandwidth", "network_io", "cpu_overhead",
                          "api_rate_limit")),
        Question("ex1_ceiling_tokens_per_s", 1, e1,
                 "The TPS ceiling of one production replica, in output tokens per second.",
                 "numeric", "the binding ceiling is the pipeline's throughput.",
                 lambda s: _audit(production_ceilings(s)).ceiling_tokens_per_s,
                 rel_tol=0.01, unit="tokens/s"),
        Question("ex1_usd_per_1k_tokens", 1, e1,
                 "Self-hosted cost per 1k output tokens of a replica running at that ceiling, "
                 "in USD.", "numeric",
                 "GPU dollars per hour x GPUs per replica / (tokens per hour / 1000).",
                 usd_per_1k_output_tokens, rel_tol=0.01, unit="USD"),
        # live part (buildbuy.lab): audit the practice lab
        Question("ex1_lab_binding", 1, e1,
                 "Audit your practice lab (`buildbuy.lab`): which of the five kinds binds it?",
                 "choice", "429s mean a quota; a step slower than the GPU needs means host "
                 "work; a stream much slower than the same answers unstreamed means the "
                 "network; else the GPU's roofline.",
                 lambda s: lab_truth(s).binding,
                 choices=("compute", "memory_bandwidth", "network_io", "cpu_overhead",
                          "api_rate_limit")),
        Question("ex1_lab_ceiling_tokens_per_s", 1, e1,
                 "The practice lab's TPS ceiling, in output tokens per second (the audit's "
                 "measurement).", "numeric",
                 "the best sustained output rate of the sweep, in the lab's own time.",
                 lambda s: lab_truth(s).ceiling_tokens_per_s, rel_tol=0.2, unit="tokens/s"),
        Question("ex1_api_quota_month", 1, e1,
                 "On the API route, in which month does peak demand first exceed the "
                 "provider's top published rate-limit tier (or \"never\")?", "numeric",
                 "peak tokens per minute = peak_to_average x that month's volume / minutes in "
                 "a month (730 h); input tokens (less cached ones) count against the input "
                 "limit, output tokens against the output limit.", api_quota_month,
                 rel_tol=0.0, abs_tol=0.0,
                 unit="months"),
        # exercise 2 and lesson 2 practice
        Question("ex2_tco_a_usd", 2, e2,
                 "Three-year (horizon) TCO of Scenario A, API-first, in USD (cash costs).",
                 "numeric", "sum every monthly cost line of A, month 0 included.",
                 _figure("tco_a_usd"), rel_tol=0.005, unit="USD"),
        Question("ex2_tco_b_usd", 2, e2,
                 "Horizon TCO of Scenario B, self-host, in USD (cash costs).", "numeric",
                 "capex (net of the resale credit), opex, people and drift lines of B, month "
                 "0 included.", _figure("tco_b_usd"), rel_tol=0.005, unit="USD"),
        Question("ex2_crossover_month", 2, e2,
                 "Crossover month: when B's cumulative cash cost falls to A's for good, in "
                 "months (or \"never\").", "numeric",
                 "cumulative (A - B) cash savings against B's extra upfront spend: the month "
                 "it turns positive for good, interpolated.", _figure("crossover_month"),
                 rel_tol=0.0, abs_tol=0.5, unit="months"),
        Question("ex2_recommendation", 2, e2,
                 "Your decision by the record's rule: among the paths no constraint blocks, "
                 "the one with the highest after-tax NPV against doing nothing (A = buy, "
                 "B = build, H = hybrid), or \"neither\" if none is positive.", "choice",
                 "drop the paths `D.feasibility` blocks, then compare "
                 "`D.npv_vs_status_quo_usd` of the rest with 0 (doing nothing).",
                 lambda s: record(s).recommendation,
                 choices=("build", "buy", "hybrid", "neither")),
        Question("ex2_decision_margin_usd", 2, e2,
                 "Why that path: its NPV minus the runner-up's (the best other allowed path, "
                 "or doing nothing at $0), in USD.", "numeric",
                 "rank the allowed paths and doing nothing (NPV 0) by NPV; subtract the "
                 "second from the first.", _decision_margin, rel_tol=0.005, unit="USD"),
        Question("ex2_top_driver_swing_usd", 2, e2,
                 "What would change it: how far does the NPV gap of B over A move across "
                 "the range of the input that moves it most (the tornado's widest bar), "
                 "in USD?", "numeric",
                 "in `D.risk.tornado` (widest first), |metric_high - metric_low| of the "
                 "first row.", _top_swing, rel_tol=0.005, unit="USD"),
        Question("p2_api_first_month_usd", 2, e2,
                 "First month's API bill at list price for `S.monthly_tokens`, in USD.",
                 "numeric", "input and output tokens are priced separately, per million.",
                 _api_bill, rel_tol=0.01, unit="USD"),
        Question("p2_break_even_monthly_tokens", 2, e2,
                 "First-month token volume above which B's cost NPV stays at or below A's "
                 "(or \"never\").", "numeric",
                 "B is mostly fixed cost and A mostly per token: scan volumes and take the "
                 "one after the last where NPV(B) > NPV(A).",
                 _figure("break_even_monthly_tokens"), rel_tol=0.02, unit="tokens"),
        Question("p2_discounted_crossover_month", 2, e2,
                 "Discounted crossover of B's cash cost against A's at `S.discount_rate`, in "
                 "months (or \"never\").", "numeric",
                 "discount each month's saving by (1 + monthly rate) ** -month before "
                 "accumulating; the monthly rate compounds to the annual one.",
                 _figure("discounted_crossover_month"), rel_tol=0.0, abs_tol=0.5,
                 unit="months"),
        # exercise 3 and lesson 3 practice
        Question("p3_concept_drift_detector", 3, e3,
                 "Which detector catches concept drift (P(y|x) moves, P(x) does not)?",
                 "choice", "a test that only looks at the inputs cannot see a change in what "
                 "the right answer is.", _concept_detector, choices=DETECTORS),
        Question("p3_psi_threshold", 3, e3,
                 "PSI alarm threshold (10 bins, 5% false alarms) for one month of your "
                 "monitor samples (`S.monitor_samples_per_day` x 30) against an equal-size "
                 "reference.", "numeric",
                 "under no drift PSI is about (1/n + 1/m) times a chi-squared with bins - 1 "
                 "degrees of freedom.", _psi_threshold_month, rel_tol=0.01),
        Question("p3_ebitda_delta_last_year_usd", 3, e3,
                 "Change in EBITDA in the last year of the horizon from choosing B over A, "
                 "value included, in USD (positive = B raises EBITDA).", "numeric",
                 "EBITDA = value - operating costs; capex, depreciation and tax do not "
                 "enter it.", _ebitda_gap_last_year, rel_tol=0.005, unit="USD"),
        Question("ex3_memo", 3, e3,
                 "Build your one-page memo with `buildbuy.memo.build_memo` (or a PR/FAQ "
                 "with `buildbuy.memo.build_prfaq`).", "memo",
                 "every section present, figures quoted with {placeholders} so they match "
                 "the record, and the board's questions answered: the recommendation, a "
                 "kill criterion for each of the widest tornado drivers, the quality "
                 "assumption, the amount asked with the decision date, one page.",
                 _memo_checker, parts=RUBRIC_ITEMS),
    ]


QUESTIONS: dict[str, Question] = {q.id: q for q in _bank()}


def get(question_id: str) -> Question:
    """The question with id ``question_id``; an unknown id raises with close matches."""
    if isinstance(question_id, str) and question_id in QUESTIONS:
        return QUESTIONS[question_id]
    close = suggest(str(question_id), QUESTIONS)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise bad("question_id", question_id, f"a question id from buildbuy.questions.QUESTIONS{hint}")


def for_exercise(exercise: str) -> list[Question]:
    """The questions of one exercise notebook (stem, e.g. ``"01_bottleneck_audit"``), in order."""
    if exercise not in EXERCISES:
        raise bad("exercise", exercise, f"one of {', '.join(EXERCISES)}")
    return [q for q in QUESTIONS.values() if q.exercise == exercise]
