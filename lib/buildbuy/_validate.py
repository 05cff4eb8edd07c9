"""Argument checks shared by every public function.

Each check raises :class:`ValueError` with one message shape::

    <name>=<value!r> is invalid: must be <what is allowed>

so a learner sees which argument, which value, and what would have been
accepted. Nothing is ever clipped into range: a bad value is an error.

>>> positive("batch", 0)
Traceback (most recent call last):
...
ValueError: batch=0 is invalid: must be a finite number > 0
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "bad",
    "choice",
    "finite",
    "finite_array",
    "integer",
    "non_negative",
    "positive",
    "share",
    "suggest",
]


def bad(name: str, value: Any, allowed: str) -> ValueError:
    """Build the standard error for argument ``name`` holding ``value``."""
    return ValueError(f"{name}={value!r} is invalid: must be {allowed}")


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise bad(name, value, "a number")
    x = float(value)
    if math.isnan(x) or math.isinf(x):
        raise bad(name, value, "a finite number")
    return x


def finite(name: str, value: Any) -> float:
    """Return ``value`` as a float; raise unless it is a finite real number."""
    return _as_float(name, value)


def positive(name: str, value: Any) -> float:
    """Return ``value`` as a float; raise unless it is finite and > 0."""
    x = _as_float(name, value) if _is_number(value) else None
    if x is None or x <= 0:
        raise bad(name, value, "a finite number > 0")
    return x


def non_negative(name: str, value: Any) -> float:
    """Return ``value`` as a float; raise unless it is finite and >= 0."""
    x = _as_float(name, value) if _is_number(value) else None
    if x is None or x < 0:
        raise bad(name, value, "a finite number >= 0")
    return x


def share(name: str, value: Any) -> float:
    """Return ``value`` as a float; raise unless it lies in [0, 1]."""
    x = _as_float(name, value) if _is_number(value) else None
    if x is None or not 0.0 <= x <= 1.0:
        raise bad(name, value, "a share between 0 and 1 inclusive")
    return x


def integer(name: str, value: Any, *, minimum: int | None = None,
            maximum: int | None = None) -> int:
    """Return ``value`` as an int; raise unless it is a whole number in range."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok and isinstance(value, (float, np.floating)) and float(value).is_integer():
        ok = True
    if not ok:
        raise bad(name, value, _int_range(minimum, maximum))
    n = int(value)
    if (minimum is not None and n < minimum) or (maximum is not None and n > maximum):
        raise bad(name, value, _int_range(minimum, maximum))
    return n


def _int_range(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"a whole number from {minimum} to {maximum}"
    if minimum is not None:
        return f"a whole number >= {minimum}"
    if maximum is not None:
        return f"a whole number <= {maximum}"
    return "a whole number"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def suggest(value: str, options: Iterable[str], n: int = 3) -> list[str]:
    """Close matches of ``value`` among ``options`` (case-insensitive)."""
    opts = list(options)
    lower = {o.lower(): o for o in opts}
    hits = difflib.get_close_matches(str(value).lower(), list(lower), n=n, cutoff=0.5)
    return [lower[h] for h in hits]


def choice(name: str, value: Any, options: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``options``; else raise with close matches."""
    if isinstance(value, str) and value in options:
        return value
    close = suggest(str(value), options)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise bad(name, value, f"one of {', '.join(repr(o) for o in options)}{hint}")


def finite_array(name: str, values: Any, *, ndim: int | None = None,
                 min_size: int = 1) -> np.ndarray:
    """Return ``values`` as a float array; raise if empty, non-numeric or not finite."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise bad(name, _short(values), "an array of numbers") from None
    if ndim is not None and arr.ndim != ndim:
        raise bad(name, f"<array of shape {arr.shape}>", f"a {ndim}-dimensional array")
    if arr.size < min_size:
        raise bad(name, f"<array of shape {arr.shape}>",
                  f"an array with at least {min_size} value(s)")
    if not np.all(np.isfinite(arr)):
        raise bad(name, f"<array with {int((~np.isfinite(arr)).sum())} NaN/inf>",
                  "finite numbers only (no NaN or inf)")
    return arr


def _short(values: Any) -> str:
    text = repr(values)
    return text if len(text) <= 60 else text[:57] + "..."
