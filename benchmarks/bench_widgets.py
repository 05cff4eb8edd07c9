"""How long one slider move takes in each lesson panel: recompute, redraw, render the PNG.

The budget is 150 ms per move (issue 5). Each panel is built once, then one of its
controls is stepped back and forth; every step is one full ``update()`` as a learner's
drag triggers it. Reported: median and worst of the moves, and the median split into
compute (library call), draw (matplotlib artists) and PNG rendering. ``cpu ms`` is the
median process CPU time of a move: on a shared machine it moves less than wall time,
which includes waiting for other processes.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

BUDGET_MS = 150.0
MOVES = 12


def _panels() -> list[tuple[str, Callable[[], Any], str, list[Any]]]:
    from buildbuy import scenarios, widgets

    s = scenarios.load("bank_support")
    return [
        ("api_bill_panel", lambda: widgets.api_bill_panel(s), "monthly_tokens", [1e9, 1e10]),
        ("decode_panel", lambda: widgets.decode_panel(s, batch=1), "batch", [4, 16]),
        ("unit_cost_panel", lambda: widgets.unit_cost_panel(s), "utilisation", [0.3, 0.7]),
        ("tco_panel", lambda: widgets.tco_panel(s), "monthly_tokens", [1e9, 1e10]),
        ("board_panel", lambda: widgets.board_panel(s), "discount_rate", [0.08, 0.12]),
        ("sla_panel", lambda: widgets.sla_panel(s), None, []),
    ]


def _split(panel: Any) -> tuple[float, float, float]:
    """Median (compute, draw, png) milliseconds of ``panel``'s parts, timed separately."""
    from buildbuy.widgets._panel import figure_png

    values = panel.values()
    parts: list[tuple[float, float, float]] = []
    for _ in range(5):
        t0 = time.perf_counter()
        result = panel._compute(values)
        t1 = time.perf_counter()
        for ax in panel.figure.axes:
            ax.clear()
        panel._draw(panel.figure, values, result)
        t2 = time.perf_counter()
        figure_png(panel.figure)
        t3 = time.perf_counter()
        parts.append((t1 - t0, t2 - t1, t3 - t2))
    return tuple(1e3 * statistics.median(p[i] for p in parts) for i in range(3))  # type: ignore[return-value]


def main() -> None:
    print(f"one slider move = recompute + redraw + PNG; budget {BUDGET_MS:.0f} ms; "
          f"{MOVES} moves per panel, scenario bank_support")
    print(f"{'panel':<16} {'median ms':>10} {'worst ms':>9} {'cpu ms':>7} {'budget x':>9} "
          f"{'compute':>8} {'draw':>6} {'png':>6}")
    for name, make, control, values in _panels():
        try:
            panel = make()
        except (AttributeError, ImportError) as exc:
            print(f"{name:<16} not available: {exc}")
            continue
        if control is None:
            control = next(iter(panel.controls))
            c = panel.controls[control]
            options = getattr(c, "options", None)
            values = list(options[:2]) if options else [c.value, c.value * 1.1]
        slider = panel.controls[control]
        times, cpu = [], []
        for i in range(MOVES):
            t0, c0 = time.perf_counter(), time.process_time()
            slider.value = values[i % 2]
            times.append(1e3 * (time.perf_counter() - t0))
            cpu.append(1e3 * (time.process_time() - c0))
        assert panel.error is None, f"{name}: {panel.error}"
        med, worst = statistics.median(times), max(times)
        comp, draw, png = _split(panel)
        print(f"{name:<16} {med:10.1f} {worst:9.1f} {statistics.median(cpu):7.1f} "
              f"{med / BUDGET_MS:9.2f} {comp:8.1f} {draw:6.1f} {png:6.1f}")


if __name__ == "__main__":
    main()
