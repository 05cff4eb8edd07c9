"""Read what a learner types into a number box: ``7.71M``, ``$7,710,000``, ``4e10``, ``never``.

An executive writes numbers the way a report prints them, so a number box accepts
the same spellings and turns them into the plain number :func:`buildbuy.checks.check`
compares:

- thousands separators (``7,710,000``), a leading ``$`` and a sign;
- a scale word or letter after the number: ``k`` (thousand), ``M``/``mn`` (million),
  ``B``/``bn`` (billion), ``T``/``tn`` (trillion), case-insensitive;
- the question's unit after it (``12 months``, ``0.33 GB``, ``1,520 tokens/s``); any
  other unit is refused rather than ignored;
- ``%`` only where the answer is itself in percent or percentage points;
- ``never`` for answers that may not happen within the horizon (payback, break-even).

An empty box means "not answered". Anything else raises the standard
``ValueError`` naming the question, the text and what is allowed.

Examples
--------
>>> parse_number("7.71M"), parse_number("$7,710,000"), parse_number("4e10")
(7710000.0, 7710000.0, 40000000000.0)
>>> parse_number("12 months", unit="months"), parse_number("  never ")
(12.0, 'never')
>>> parse_number("") is None
True
>>> parse_number("12 weeks", unit="months", name="ex2_crossover_month")
Traceback (most recent call last):
...
ValueError: ex2_crossover_month='12 weeks' is invalid: must be a number in months ...
"""

from __future__ import annotations

import re

from buildbuy._validate import bad

__all__ = ["SCALES", "format_number", "parse_number"]

#: Scale words a number may carry, lower case -> multiplier.
SCALES: dict[str, float] = {
    "k": 1e3, "thousand": 1e3,
    "m": 1e6, "mn": 1e6, "mm": 1e6, "million": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9,
    "t": 1e12, "tn": 1e12, "trillion": 1e12,
}
_NUMBER = re.compile(
    r"^(?P<sign>[-+\u2212]?)\s*\$?\s*"
    r"(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)"
    r"(?:[eE](?P<exp>[-+]?\d+))?"
    r"\s*(?P<rest>.*)$")
_PERCENT_UNITS = ("%", "percent", "percentage points", "percentage point", "pp")


def _unit_words(unit: str) -> set[str]:
    """Spellings of ``unit`` a learner may type after the number, lower case."""
    u = unit.strip().lower()
    if not u:
        return set()
    words = {u, u.rstrip("s"), u + "s"}
    if u == "usd":
        words |= {"$", "dollars", "dollar", "us$"}
    if u in ("%", "percentage points"):
        words |= set(_PERCENT_UNITS)
    if u == "request":
        words |= {"requests", "req"}
    return words


def parse_number(text: str, *, unit: str = "", name: str = "answer") -> float | str | None:
    """The number in ``text`` (``None`` when blank, ``"never"`` when it says so).

    Parameters
    ----------
    text : str
        What the learner typed.
    unit : str
        The question's unit (``"months"``, ``"USD"``, ``"GB"`` ...): the only unit
        text accepted after the number.
    name : str
        Names the field in the error message.

    Raises
    ------
    ValueError
        ``text`` is not a number in one of the accepted spellings.
    """
    allowed = (f"a number in {unit}" if unit else "a number") + \
        " such as 7710000, 7.71M, $7,710,000 or 4e10 (or never)"
    if text is None:
        return None
    if not isinstance(text, str):
        raise bad(name, text, allowed)
    s = text.strip()
    if not s:
        return None
    if s.lower() == "never":
        return "never"
    m = _NUMBER.match(s)
    if m is None:
        raise bad(name, text, allowed)
    value = float(m.group("digits").replace(",", ""))
    if m.group("exp"):
        value *= 10.0 ** int(m.group("exp"))
    if m.group("sign") in ("-", "\u2212"):
        value = -value
    rest = m.group("rest").strip().lower()
    scale_word, _, after = rest.partition(" ")
    if scale_word in SCALES and after.strip() in _unit_words(unit) | {""}:
        return value * SCALES[scale_word]
    for word in SCALES:  # "7.7M", "40bn tokens"
        if rest.startswith(word) and rest[len(word):].strip() in _unit_words(unit) | {""} \
                and (len(rest) == len(word) or not rest[len(word)].isalpha()):
            return value * SCALES[word]
    if rest == "" or rest in _unit_words(unit):
        return value
    if rest in _PERCENT_UNITS:
        raise bad(name, text, f"{allowed}; this answer is in {unit or 'plain numbers'}, not %")
    raise bad(name, text, allowed)


def format_number(value: float | str | None) -> str:
    """The text a number box shows for a stored answer (inverse of :func:`parse_number`).

    Examples
    --------
    >>> format_number(7710000.0), format_number(12.5), format_number("never")
    ('7710000', '12.5', 'never')
    >>> format_number(4e10), format_number(0.000655), format_number(2.5e15)
    ('40000000000', '0.000655', '2.5e+15')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return f"{float(value):.12g}"
