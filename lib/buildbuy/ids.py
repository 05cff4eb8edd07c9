"""Safe file names from learner ids.

A learner id comes from a roster a course operator did not write by hand, or
from the learner-id box of a no-code form (:mod:`buildbuy.forms`): it can hold
``../../etc``, an absolute path, spaces, a NUL byte, emoji, or two ids that
differ only in case. The report of that learner is still written as
``DIR/<safe id>.html`` (and a form's answers under ``DIR/<safe id>/``), so the
safe id must

- stay inside ``DIR``: only ``[a-z0-9_-]``, never ``.`` or ``/``;
- differ between two different raw ids, even on a case-insensitive disk;
- stay readable, so an instructor can find a learner's file by eye.

The convention: a lower-case slug of the raw id (at most 40 characters), a
``-``, and the first 12 hex digits of the SHA-256 of the raw id (UTF-8). Two
distinct ids collide only if their 48-bit hash prefixes match: for a cohort of
10,000 the chance is about 10,000**2 / 2**49, i.e. 2e-7, and
:func:`buildbuy.reports.roster.read_roster` still checks for it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from buildbuy._validate import bad

__all__ = ["HASH_HEX_DIGITS", "SLUG_MAX_CHARS", "safe_id"]

#: hex digits of SHA-256 appended to every slug
HASH_HEX_DIGITS = 12
#: longest readable part kept from the raw id
SLUG_MAX_CHARS = 40

_NOT_SLUG = re.compile(r"[^a-z0-9_]+")


def safe_id(learner_id: str) -> str:
    """Return a file-name-safe, collision-resistant id for ``learner_id``.

    Parameters
    ----------
    learner_id : str
        The raw id from the roster; must be a non-empty string once stripped.

    Returns
    -------
    str
        ``<slug>-<12 hex digits>``; the slug is the id folded to ASCII lower
        case with every run of other characters turned into ``-`` (``id`` when
        nothing is left). The result matches ``[a-z0-9_-]{1,53}``.

    Examples
    --------
    >>> safe_id("alice.smith@example.com")
    'alice-smith-example-com-7dcd3a39ad3a'
    >>> safe_id("../../etc/passwd")
    'etc-passwd-3754d6cb3a38'
    >>> safe_id("Bob") != safe_id("bob")
    True
    """
    if not isinstance(learner_id, str) or not learner_id.strip():
        raise bad("learner_id", learner_id, "a non-empty string")
    folded = unicodedata.normalize("NFKD", learner_id).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", folded.lower()).strip("-_")[:SLUG_MAX_CHARS].strip("-_")
    digest = hashlib.sha256(learner_id.encode("utf-8")).hexdigest()[:HASH_HEX_DIGITS]
    return f"{slug or 'id'}-{digest}"
