"""The lab's engine: continuous batching timed by the TPS model, on an asyncio clock.

Convention (the scheduling of vLLM and TensorRT-LLM, simplified): requests wait in a
first-come queue and join the running batch at the next step while fewer than
``max_num_seqs`` run and the KV cache can hold their prompt plus ``max_tokens`` (reserved
up front). One engine step:

- prefills the prompts of the requests that joined (each gets its first token), and
  decodes one token for every other running request;
- takes :meth:`LabSpec.step_ms`: ``tps.decode(decoding, context=mean context,
  prefill_tokens=joining prompts)`` of GPU time (``tps.prefill`` when no request is
  decoding yet), or the host time of :meth:`LabSpec.host_ms` if that is longer;
- ends at an absolute deadline on the wall clock, ``time_scale`` wall seconds per model
  second. Deadlines absorb the event loop's millisecond timer granularity: a late step is
  followed by a short one, so the mean step is the model's. A loop stalled by more than
  :data:`MAX_LAG_S` restarts its clock (counted in ``stats["clock_resets"]``) rather than
  bursting.

A request always generates exactly ``max_tokens`` tokens (no end-of-sequence token).
The loop waits on an event when idle and ends when :meth:`Engine.close` is called.

Examples
--------
>>> import asyncio
>>> from buildbuy.lab.spec import LabSpec
>>> async def one() -> int:
...     eng = Engine(LabSpec.from_seed(0, kind="none"), time_scale=0.01)
...     task = asyncio.create_task(eng.run())
...     seq = eng.submit(prompt_tokens=8, max_tokens=3)
...     times = [await seq.tokens.get() for _ in range(3)]
...     eng.close()
...     await task
...     return len(times)
>>> asyncio.run(one())
3
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from buildbuy._validate import bad, integer, positive
from buildbuy.data import get_model
from buildbuy.lab.spec import LabSpec

__all__ = ["MAX_LAG_S", "Engine", "Sequence"]

#: A loop this far behind its schedule (wall seconds) restarts its clock.
MAX_LAG_S: float = 0.25


@dataclass(eq=False)
class Sequence:
    """One request inside the engine. ``tokens`` receives the wall time
    (``time.perf_counter``) each token was produced; ``None`` if the engine closed."""

    prompt_tokens: int
    max_tokens: int
    tokens: asyncio.Queue[float | None] = field(default_factory=asyncio.Queue)
    generated: int = 0
    prefilled: bool = False
    cancelled: bool = False

    @property
    def reserved_tokens(self) -> int:
        """KV-cache tokens held for this request."""
        return self.prompt_tokens + self.max_tokens


class Engine:
    """Continuous batching for one :class:`LabSpec` (see the module docstring)."""

    def __init__(self, spec: LabSpec, *, time_scale: float = 1.0) -> None:
        self.spec = spec
        self.time_scale = positive("time_scale", time_scale)
        self.max_context = min(get_model(spec.model).max_context, spec.kv_capacity_tokens)
        self._waiting: list[Sequence] = []
        self._running: list[Sequence] = []
        self._reserved = 0
        self._wake = asyncio.Event()
        self._closed = False
        self.stats: dict[str, int] = {"steps": 0, "tokens": 0, "requests": 0,
                                      "clock_resets": 0}

    # --- requests ------------------------------------------------------------------------

    def submit(self, *, prompt_tokens: int, max_tokens: int) -> Sequence:
        """Queue a request; raise ``ValueError`` if it can never fit the context."""
        prm = integer("prompt_tokens", prompt_tokens, minimum=0)
        out = integer("max_tokens", max_tokens, minimum=1)
        if prm + out > self.max_context:
            raise bad("max_tokens", max_tokens,
                      f"<= {self.max_context - prm} so that the prompt ({prm} tokens) plus "
                      f"the output fit the lab's {self.max_context}-token context")
        if self._closed:
            raise RuntimeError("the lab engine is closed")
        seq = Sequence(prompt_tokens=max(prm, 1), max_tokens=out)
        self._waiting.append(seq)
        self.stats["requests"] += 1
        self._wake.set()
        return seq

    def cancel(self, seq: Sequence) -> None:
        """Drop a request (its client went away); a finished one is left alone."""
        if seq.cancelled or seq.generated >= seq.max_tokens:
            return
        seq.cancelled = True
        if seq in self._waiting:
            self._waiting.remove(seq)
        elif seq in self._running:
            self._running.remove(seq)
            self._reserved -= seq.reserved_tokens

    def close(self) -> None:
        """Stop the loop; every unfinished request receives ``None``."""
        self._closed = True
        for seq in self._waiting + self._running:
            seq.tokens.put_nowait(None)
        self._waiting.clear()
        self._running.clear()
        self._wake.set()

    @property
    def running(self) -> int:
        """Requests in the batch now."""
        return len(self._running)

    @property
    def waiting(self) -> int:
        """Requests queued for a slot."""
        return len(self._waiting)

    # --- the step loop -------------------------------------------------------------------

    def _admit(self) -> None:
        cap, limit = self.spec.max_num_seqs, self.spec.kv_capacity_tokens
        while self._waiting and len(self._running) < cap and \
                self._reserved + self._waiting[0].reserved_tokens <= limit:
            seq = self._waiting.pop(0)
            self._running.append(seq)
            self._reserved += seq.reserved_tokens

    def step_ms(self, joining: list[Sequence], decoding: list[Sequence]) -> float:
        """Model time of one step with these requests joining and decoding
        (:meth:`LabSpec.step_ms`)."""
        ctx = (sum(s.prompt_tokens + s.generated for s in decoding) / len(decoding)
               if decoding else 0.0)
        return self.spec.step_ms(len(decoding), ctx, len(joining),
                                 sum(s.prompt_tokens for s in joining))

    async def run(self) -> None:
        """Run steps until :meth:`close`; idle waits are event-driven (no busy loop)."""
        deadline: float | None = None
        while not self._closed:
            if not self._running and not self._waiting:
                self._wake.clear()
                deadline = None
                await self._wake.wait()
                continue
            self._admit()
            joining = [s for s in self._running if not s.prefilled]
            decoding = [s for s in self._running if s.prefilled]
            step_s = self.step_ms(joining, decoding) * self.time_scale / 1e3
            now = time.perf_counter()
            if deadline is None or now - deadline > MAX_LAG_S:
                if deadline is not None:
                    self.stats["clock_resets"] += 1
                deadline = now
            deadline += step_s
            delay = deadline - time.perf_counter()
            await asyncio.sleep(max(delay, 0.0))
            if self._closed:
                break
            self.stats["steps"] += 1
            for seq in joining + decoding:
                if seq.cancelled:
                    continue
                seq.prefilled = True
                seq.generated += 1
                self.stats["tokens"] += 1
                seq.tokens.put_nowait(deadline)
                if seq.generated >= seq.max_tokens:
                    self._running.remove(seq)
                    self._reserved -= seq.reserved_tokens
