"""Safe file names from learner ids: :func:`buildbuy.ids.safe_id`, re-exported here.

The function lives in the light :mod:`buildbuy.ids` so that the no-code forms
(:mod:`buildbuy.forms`) name a learner's answer folder the same way without
importing the reports machinery.
"""

from __future__ import annotations

from buildbuy.ids import HASH_HEX_DIGITS, SLUG_MAX_CHARS, safe_id

__all__ = ["HASH_HEX_DIGITS", "SLUG_MAX_CHARS", "safe_id"]
