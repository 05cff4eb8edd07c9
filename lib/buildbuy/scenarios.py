"""The build-vs-buy scenario: one flat, validated, sourced set of inputs.

A scenario holds every input of the comparison between Scenario A (call an
LLM API) and Scenario B (fine-tune and self-host an open model). The fields
are *flat* (no nesting), so a papermill ``overrides`` dict or a column of a
roster CSV maps one-to-one onto a field name.

:data:`FIELDS` is the single documented list: type, unit, default, what is
allowed, a one-line meaning and the source of the default. ``docs/scenarios.md``
is generated from it by :func:`schema_markdown`.

Conventions
-----------
- Money is US dollars, nominal, not inflated. Rates are annual.
- ``annual_growth`` and ``api_price_decline`` compound monthly:
  month ``m`` (1-based) carries ``(1 + annual_growth) ** ((m - 1) / 12)``
  of the first month's volume.
- Staff cost is ``FTE x fully loaded salary`` per role and scenario.

Examples
--------
>>> from buildbuy import scenarios
>>> S = scenarios.load("bank_support", monthly_tokens="5e9")
>>> S.monthly_tokens
5000000000.0
>>> scenarios.from_dict({"horizon_month": 24})
Traceback (most recent call last):
...
buildbuy.scenarios.ScenarioError: horizon_month='<unknown field>' is invalid: must be a known \
scenario field; did you mean 'horizon_months'?
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from buildbuy import paths
from buildbuy._validate import suggest
from buildbuy.scenario_fields import FIELDS, HOSTING_MODES, META_KEYS, ROLES, Field

__all__ = [
    "FIELDS",
    "HOSTING_MODES",
    "META_KEYS",
    "ROLES",
    "Field",
    "Scenario",
    "ScenarioError",
    "from_dict",
    "from_parameters",
    "load",
    "persona_names",
    "schema_markdown",
    "write_schema_doc",
]



class ScenarioError(ValueError):
    """A scenario field holds a value that is not allowed.

    The message has the library-wide shape
    ``"<field>=<value!r> is invalid: must be <allowed>"``.
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}={value!r} is invalid: must be {allowed}")


# --------------------------------------------------------------------------- Scenario
def _scenario_methods() -> dict[str, Any]:
    def to_dict(self: Any) -> dict[str, Any]:
        """The field values as a plain dict (no metadata), in :data:`FIELDS` order."""
        return {k: getattr(self, k) for k in FIELDS}

    def replace(self: Any, **changes: Any) -> Any:
        """A new validated scenario with ``changes`` applied (sources marked 'override')."""
        data = self.to_dict()
        data.update(changes)
        src = dict(self.sources)
        src.update({k: "override" for k in changes})
        return from_dict(data, sources=src, as_of=self.as_of)

    def source(self: Any, field: str) -> str:
        """Where this scenario's value of ``field`` comes from."""
        if field not in FIELDS:
            raise _unknown(field)
        return self.sources.get(field) or FIELDS[field].source

    return {"to_dict": to_dict, "replace": replace, "source": source,
            "__doc__": "A validated build-vs-buy scenario (frozen). Attributes = FIELDS; "
                       "``sources`` maps field -> source of its value; ``as_of`` dates it."}


Scenario = dataclasses.make_dataclass(
    "Scenario",
    [(k, Any) for k in FIELDS]
    + [("sources", dict, dataclasses.field(default_factory=dict, compare=False, repr=False)),
       ("as_of", str, dataclasses.field(default="", compare=False, repr=False))],
    frozen=True,
    namespace={**_scenario_methods(), "__module__": __name__},
)


# --------------------------------------------------------------------------- coercion
def _unknown(key: str) -> ScenarioError:
    close = suggest(key, FIELDS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ScenarioError(key, "<unknown field>", f"a known scenario field{hint}")


def _coerce(name: str, field: Field, value: Any) -> Any:
    """Turn ``value`` (maybe a CSV string) into the field's type, or raise."""
    original = value
    if isinstance(value, str):
        value = value.strip()
        if field.type is not str and value.lower() in ("", "none", "null", "nan"):
            value = None
    if isinstance(value, float) and math.isnan(value):  # an empty cell read by pandas
        value = None
    if value is None:
        if field.optional:
            return None
        raise ScenarioError(name, original, field.allowed + " (it is empty: drop the key "
                            "to use the default)")
    if field.type is str:
        if not isinstance(value, str):
            raise ScenarioError(name, value, "text")
        return value
    if isinstance(value, bool):
        raise ScenarioError(name, value, field.allowed)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ScenarioError(name, value, field.allowed) from None
    if field.type is int:
        if not math.isfinite(x) or not x.is_integer():
            raise ScenarioError(name, value, field.allowed)
        return int(x)
    return x


def _check_names(values: dict[str, Any]) -> None:
    """Unknown GPU, model, API or load-profile names are errors; so is a cloud GPU without
    a price, and a peak the load profile cannot reach.

    Names are looked up as :mod:`buildbuy.data` looks them up everywhere
    (case-insensitive) and stored in their canonical spelling: ``gpu="h200"`` becomes
    ``"H200"``.
    """
    from buildbuy import data  # imported here: data reads CSV tables on first use

    for field, lister in (("gpu", data.gpu_names), ("self_host_model", data.model_names),
                          ("api_model", data.api_names)):
        table = {"gpu": "gpus", "self_host_model": "models", "api_model": "api_prices"}[field]
        canonical = data.canonical_name(table, values[field])
        if canonical is None:
            names = list(lister())
            close = suggest(values[field], names)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ScenarioError(field, values[field], f"one of the {len(names)} names in "
                                f"buildbuy.data.{lister.__name__}(){hint}")
        values[field] = canonical
    from buildbuy import load_profile

    canonical = data.canonical_name("load_profiles", values["load_profile"])
    if canonical is None:
        profiles = load_profile.profile_names()
        close = suggest(values["load_profile"], profiles)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ScenarioError("load_profile", values["load_profile"],
                            f"one of {', '.join(repr(p) for p in profiles)} (the profiles "
                            f"in data/load_profiles.csv){hint}")
    values["load_profile"] = canonical
    limit = load_profile.max_peak_to_average(values["load_profile"])
    if values["peak_to_average"] >= limit:
        raise ScenarioError("peak_to_average", values["peak_to_average"],
                            f"< {limit:g} for load_profile={values['load_profile']!r} (the "
                            "busiest hours of its day cannot carry more than the whole day)")
    if values["hosting"] != "owned" and values["gpu_usd_per_hour"] is None:
        gpu = data.get_gpu(values["gpu"])
        if getattr(gpu, f"{values['hosting']}_usd_per_hour") is None:
            raise ScenarioError("hosting", values["hosting"], f"a hosting mode with a price "
                                f"for {gpu.name} in data/gpus.csv ('owned', or another "
                                "mode), or set gpu_usd_per_hour")


def from_dict(mapping: Mapping[str, Any], *, sources: Mapping[str, str] | None = None,
              as_of: str = "") -> Any:
    """Validate ``mapping`` into a :class:`Scenario`; missing fields take defaults.

    Parameters
    ----------
    mapping : mapping
        Field name -> value. Strings are coerced (``"5e9"`` -> 5e9, ``"36"``
        -> 36), so roster CSV rows load directly. Keys ``sources`` (field ->
        source text) and ``as_of`` (ISO date) are taken as metadata.
    sources, as_of : optional
        Metadata, used when ``mapping`` carries none.

    Raises
    ------
    ScenarioError
        A value outside what is allowed, or an unknown key (with the closest
        field suggested).

    Examples
    --------
    >>> S = from_dict({"monthly_tokens": "3e9", "horizon_months": "24"})
    >>> S.monthly_tokens, S.horizon_months
    (3000000000.0, 24)
    >>> from_dict({"output_token_share": 1.5})
    Traceback (most recent call last):
    ...
    buildbuy.scenarios.ScenarioError: output_token_share=1.5 is invalid: must be a finite \
number >= 0 and <= 1
    """
    if not isinstance(mapping, Mapping):
        raise ScenarioError("scenario", mapping, "a mapping of field name -> value")
    raw = dict(mapping)
    meta_sources = raw.pop("sources", None) or sources or {}
    meta_as_of = raw.pop("as_of", None) or as_of
    if not isinstance(meta_sources, Mapping):
        raise ScenarioError("sources", meta_sources, "a mapping of field name -> source text")
    for key in list(raw) + list(meta_sources):
        if key not in FIELDS:
            raise _unknown(str(key))
    values: dict[str, Any] = {}
    for name, field in FIELDS.items():
        v = _coerce(name, field, raw[name]) if name in raw else field.default
        if field.options and v not in field.options:
            close = suggest(str(v), field.options)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ScenarioError(name, v, field.allowed + hint)
        if v is not None and field.check is not None and not field.check(v):
            raise ScenarioError(name, v, field.allowed)
        values[name] = v
    _check_cross(values)
    _check_names(values)
    return Scenario(**values, sources=dict(meta_sources), as_of=str(meta_as_of))


def _check_cross(v: dict[str, Any]) -> None:
    """Rules that involve two fields."""
    for key in ("months_to_production", "months_to_production_a"):
        if v[key] >= v["horizon_months"]:
            raise ScenarioError(key, v[key], f"fewer than horizon_months={v['horizon_months']} "
                                "(the service must go live inside the horizon)")
    if v["hosting"] == "owned" and v["gpu_usd_per_hour"] is not None:
        raise ScenarioError("gpu_usd_per_hour", v["gpu_usd_per_hour"], "empty when "
                            "hosting='owned' (owned GPUs are costed from server_usd, power "
                            "and colocation)")
    out = round(v["tokens_per_request"] * v["output_token_share"])
    if out < 1 or out >= v["tokens_per_request"]:
        raise ScenarioError("output_token_share", v["output_token_share"],
                            "a share leaving at least one input and one output token per "
                            f"request (tokens_per_request={v['tokens_per_request']})")


# --------------------------------------------------------------------------- loading
def persona_names() -> list[str]:
    """Names of the persona files in ``data/scenarios/`` (sorted)."""
    return sorted(p.stem for p in paths.scenarios_dir().glob("*.yaml"))


def _read(path: Path) -> dict[str, Any]:
    """The mapping in a YAML/JSON scenario file; a broken file names itself and the line."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError("scenario", str(path), f"a valid JSON file (line {exc.lineno}, "
                            f"column {exc.colno}: {exc.msg})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ScenarioError("scenario", str(path),
                            f"a valid YAML file ({where}{problem})") from None
    if not isinstance(data, dict):
        raise ScenarioError("scenario", str(path), "a YAML/JSON file holding a mapping")
    return data


def load(name_or_path: str | Path | Mapping[str, Any] = "bank_support",
         **overrides: Any) -> Any:
    """Load a persona, a YAML/JSON file or a dict, apply ``overrides``, validate.

    Parameters
    ----------
    name_or_path : str, Path or mapping
        A persona name (see :func:`persona_names`), a path to a ``.yaml``,
        ``.yml`` or ``.json`` file, or a dict of fields.
    **overrides
        Field values replacing the file's (the papermill ``overrides`` dict).
        Their source is recorded as ``"override"``.

    Returns
    -------
    Scenario

    Examples
    --------
    >>> S = load("hospital_notes", horizon_months=24)
    >>> S.horizon_months, S.source("horizon_months")
    (24, 'override')
    """
    if isinstance(name_or_path, Mapping):
        data = dict(name_or_path)
    else:
        key = str(name_or_path)
        path = Path(key)
        if key in persona_names():
            data = _read(paths.scenarios_dir() / f"{key}.yaml")
        elif path.suffix.lower() in (".yaml", ".yml", ".json") and path.is_file():
            data = _read(path)
        else:
            close = suggest(key, persona_names())
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ScenarioError("scenario", key, "a persona name "
                                f"({', '.join(persona_names())}) or a path to an existing "
                                f".yaml/.json file{hint}")
    sources = dict(data.pop("sources", None) or {})
    as_of = str(data.pop("as_of", "") or "")
    sources.update({k: "override" for k in overrides})
    data.update(overrides)
    return from_dict(data, sources=sources, as_of=as_of)


def from_parameters(scenario: Any = "bank_support", overrides: Any = None) -> Any:
    """The scenario a notebook's papermill ``parameters`` cell names.

    Every notebook loads its scenario with this call, right after the
    ``parameters`` cell, so a value papermill injected with the wrong shape gets
    the library's message instead of a Python ``TypeError``.

    Parameters
    ----------
    scenario : str or Path
        A persona name or a YAML/JSON file (see :func:`load`).
    overrides : mapping, str or None
        Field values to change. A string holding a YAML/JSON mapping is read as
        one (``papermill -p`` passes text), so ``-p overrides '{horizon_months: 24}'``
        works as well as ``-y '{"overrides": {"horizon_months": 24}}'``.

    Raises
    ------
    ScenarioError
        ``overrides`` is not a mapping, or a value is invalid.

    Examples
    --------
    >>> from_parameters("hospital_notes", {"horizon_months": 24}).horizon_months
    24
    >>> from_parameters("bank_support", "{horizon_months: 24}").horizon_months
    24
    >>> from_parameters("bank_support", 5)
    Traceback (most recent call last):
    ...
    buildbuy.scenarios.ScenarioError: overrides=5 is invalid: must be a dict of scenario \
fields, e.g. {"monthly_tokens": 5e9} (papermill: -y '{"overrides": {"monthly_tokens": 5e9}}')
    """
    value = overrides
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value) if value.strip() else {}
        except yaml.YAMLError:
            value = overrides
    if value is None:
        value = {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ScenarioError("overrides", overrides, 'a dict of scenario fields, e.g. '
                            '{"monthly_tokens": 5e9} (papermill: -y \'{"overrides": '
                            '{"monthly_tokens": 5e9}}\')')
    if isinstance(scenario, Mapping) or not isinstance(scenario, (str, Path)):
        raise ScenarioError("scenario", scenario, "a persona name "
                            f"({', '.join(persona_names())}) or a path to a .yaml/.json file")
    return load(scenario, **dict(value))


# --------------------------------------------------------------------------- docs
def _fmt_default(v: Any) -> str:
    if v is None:
        return "(empty)"
    if isinstance(v, float) and (abs(v) >= 1e6):
        return f"{v:.3g}"
    if isinstance(v, float):
        return f"{v:,.10g}"
    if isinstance(v, int):
        return f"{v:,}"
    return f"`{v}`" if v else "(empty)"


def schema_markdown() -> str:
    """The Markdown table of :data:`FIELDS` that ``docs/scenarios.md`` embeds.

    One row per field: name, group, unit, default, allowed, why that range, meaning,
    source.
    """
    rows = ["| field | group | unit | default | allowed | why that range | meaning | "
            "source of default |",
            "|---|---|---|---|---|---|---|---|"]
    for name, f in FIELDS.items():
        cells = [f"`{name}`", f.group, f.unit, _fmt_default(f.default), f.allowed, f.why,
                 f.doc, f.source]
        rows.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def write_schema_doc(path: str | Path | None = None) -> Path:
    """Regenerate the field table in ``docs/scenarios.md`` from :data:`FIELDS`.

    Only the text between ``<!-- FIELDS:BEGIN -->`` and ``<!-- FIELDS:END -->``
    is replaced; the prose around it is kept.
    """
    target = Path(path) if path is not None else paths.REPO_ROOT / "docs" / "scenarios.md"
    text = target.read_text(encoding="utf-8")
    begin, end = "<!-- FIELDS:BEGIN -->\n", "<!-- FIELDS:END -->"
    a, b = text.index(begin) + len(begin), text.index(end)
    target.write_text(text[:a] + schema_markdown() + text[b:], encoding="utf-8")
    return target
