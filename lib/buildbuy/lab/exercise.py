"""The lab of exercise 1: one per learner, from the scenario's ``lab_seed``.

The lab serves the scenario's ``self_host_model`` on its ``gpu``; the seed draws the
hidden bottleneck and its size (:meth:`LabSpec.from_seed`). The exercise audits it at the
reference request shape, and :func:`truth` is what its checks compare with. Grading needs
no network: the answer follows from the scenario alone.

Examples
--------
>>> from buildbuy import scenarios
>>> S = scenarios.load("hospital_notes")
>>> spec_for(S).model
'llama-3.1-8b'
>>> truth(S).binding in ("compute", "memory_bandwidth", "network_io", "cpu_overhead",
...                      "api_rate_limit")
True
"""

from __future__ import annotations

from typing import Any

from buildbuy.lab.server import Lab, start
from buildbuy.lab.spec import REFERENCE_OUTPUT_TOKENS, REFERENCE_PROMPT_TOKENS, LabSpec, Truth

__all__ = ["AUDIT_SETTINGS", "spec_for", "start_for", "truth"]

#: The audit the exercise runs: short, bounded, and reaching every lab's ceiling.
AUDIT_SETTINGS: dict[str, Any] = {
    "concurrency": (1, 4, 16),
    "requests": (3, 8, 48),
    "prompt_tokens": REFERENCE_PROMPT_TOKENS,
    "output_tokens": REFERENCE_OUTPUT_TOKENS,
    "timeout_s": 30.0,
}


def spec_for(scenario: Any) -> LabSpec:
    """The lab of ``scenario``: its model, its GPU and its ``lab_seed``."""
    return LabSpec.from_seed(int(scenario.lab_seed), model=scenario.self_host_model,
                             gpu=scenario.gpu)


def truth(scenario: Any) -> Truth:
    """What a perfect audit of the scenario's lab finds (model time)."""
    return spec_for(scenario).truth(REFERENCE_PROMPT_TOKENS, REFERENCE_OUTPUT_TOKENS)


def start_for(scenario: Any, *, max_seconds: float = 600.0) -> Lab:
    """Start the scenario's lab in this process, on its automatic clock."""
    return start(spec_for(scenario), time_scale="auto", max_seconds=max_seconds)
