"""The sourced tables in ``data/``: GPUs, models, API prices, benchmarks, measurements,
sector valuation multiples.

Every row of every table carries a ``source`` (URL or document) and an ``as_of`` date
(ISO ``YYYY-MM-DD``). Units sit in the column names: ``_tflops`` (dense, not sparse),
``_gb`` (10^9 bytes), ``_tbps`` (10^12 bytes/s), ``_gbps`` (10^9 bytes/s, one direction),
``_usd_per_hour`` (per GPU), ``_usd_per_mtok`` (per million tokens).

:func:`load_table` reads and validates a table: a missing source or date, or a missing or
negative figure where one is required, raises :class:`ValueError` naming the table, row
and column. :func:`get_gpu`, :func:`get_model` and :func:`get_api` turn a name into a
frozen dataclass; an unknown name raises an error listing the close matches.

Examples
--------
>>> from buildbuy import data
>>> gpu = data.get_gpu("H100-SXM")
>>> gpu.bandwidth_tbps, gpu.memory_gb
(3.35, 80.0)
>>> data.get_model("llama-3.1-8b").n_kv_heads
8
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
from dataclasses import dataclass
from typing import Any

import pandas as pd

from buildbuy._validate import bad, choice, non_negative, positive, suggest
from buildbuy.paths import data_dir

__all__ = [
    "ARCHITECTURES",
    "GPU",
    "INTERCONNECTS",
    "NAME_COLUMNS",
    "TABLES",
    "ApiPrice",
    "Model",
    "api_names",
    "canonical_name",
    "get_api",
    "get_gpu",
    "get_model",
    "gpu_names",
    "load_table",
    "model_names",
]


#: GPU architecture families (``gpus.csv`` column ``architecture``).
ARCHITECTURES: tuple[str, ...] = ("ampere", "ada", "hopper", "blackwell", "cdna3")
#: How the GPUs of a server talk (``gpus.csv`` column ``interconnect_kind``).
INTERCONNECTS: tuple[str, ...] = ("nvlink", "infinity_fabric", "pcie")


@dataclass(frozen=True)
class _Spec:
    path: str
    required: tuple[str, ...]       # numeric columns that must be present and >= 0
    optional: tuple[str, ...] = ()  # numeric columns that may be empty, else >= 0
    key: str | None = None          # column whose values must be unique
    name: str | None = None         # column naming rows for lookups (NAME_COLUMNS)


#: Table name -> file (relative to ``data/``) and the numeric columns checked on load.
TABLES: dict[str, _Spec] = {
    "gpus": _Spec(
        "gpus.csv",
        ("bf16_dense_tflops", "memory_gb", "bandwidth_tbps", "board_power_w",
         "interconnect_gbps"),
        ("fp8_dense_tflops", "purchase_usd", "cloud_on_demand_usd_per_hour",
         "cloud_reserved_usd_per_hour"),
        key="name", name="name",
    ),
    "models": _Spec(
        "models.csv",
        ("total_params_b", "active_params_b", "n_layers", "hidden_size", "n_heads",
         "n_kv_heads", "head_dim", "ffn_size", "ffn_matrices", "vocab_size", "max_context",
         "n_experts", "experts_per_token", "moe_ffn_size", "mla_kv_dim"),
        key="name", name="name",
    ),
    "api_prices": _Spec(
        "api_prices.csv",
        ("input_usd_per_mtok", "output_usd_per_mtok"),
        ("cached_input_usd_per_mtok",),
        key="name", name="name",
    ),
    "saturated_throughput": _Spec(
        "saturated_throughput.csv",
        ("n_gpus", "tensor_parallel", "prompt_tokens", "output_tokens", "num_requests",
         "output_tokens_per_s"),
        key="id",
    ),
    "published_benchmarks": _Spec(
        "published_benchmarks.csv",
        ("n_gpus",),
        ("tensor_parallel", "batch", "context_tokens", "prompt_tokens", "output_tokens",
         "step_ms", "output_tokens_per_s"),
        key="id",
    ),
    "sector_multiples": _Spec(
        "sector_multiples.csv",
        ("n_firms", "pe", "pbv"),
        ("ev_ebitda", "ev_ebit"),
        key="sector",
    ),
    "measured_decode": _Spec(
        "measurements/decode.csv",
        ("params_b", "batch", "context", "step_ms", "tokens_per_s", "per_user_tokens_per_s",
         "weight_gb", "kv_read_gb", "achieved_tbps", "achieved_tflops"),
    ),
    "measured_prefill": _Spec(
        "measurements/prefill.csv",
        ("batch", "prompt_tokens", "step_ms", "prefill_tokens_per_s", "achieved_tflops"),
    ),
    "measured_ceilings": _Spec(
        "measurements/ceilings.csv",
        ("memory_gib_visible", "copy_tbps_read_plus_write", "bf16_matmul_8192_tflops"),
        key="gpu",
    ),
    "measured_launch_overhead": _Spec(
        "measurements/launch_overhead.csv",
        ("batch", "context", "graph_step_ms", "eager_step_ms"),
    ),
    "measured_naive_generate": _Spec(
        "measurements/naive_generate.csv",
        ("batch", "prompt_tokens", "decode_step_ms", "tokens_per_s"),
    ),
    "load_profiles": _Spec("load_profiles.csv", ("hour", "share_of_day"), name="profile"),
    "api_rate_limits": _Spec(
        "api_rate_limits.csv",
        ("requests_per_minute",),
        ("input_tokens_per_minute", "output_tokens_per_minute", "total_tokens_per_minute",
         "max_usd_per_month"),
        name="api_model",
    ),
    "api_latency": _Spec("api_latency.csv", ("output_tokens_per_s",), ("ttft_ms",)),
    "gpu_lead_times": _Spec("gpu_lead_times.csv",
                            ("lead_time_weeks_low", "lead_time_weeks_high")),
    "api_provisioned": _Spec(
        "api_provisioned.csv",
        ("tokens_per_s_per_unit", "output_token_weight", "cached_input_weight", "min_units",
         "usd_per_unit_month"),
        key="api_model", name="api_model",
    ),
}


def load_table(name: str) -> pd.DataFrame:
    """Load and validate one table from ``data/``.

    Parameters
    ----------
    name : str
        One of :data:`TABLES` (``"gpus"``, ``"models"``, ``"api_prices"``,
        ``"saturated_throughput"``, ``"published_benchmarks"``, ``"measured_decode"``,
        ``"measured_prefill"``,
        ``"measured_ceilings"``, ``"measured_launch_overhead"``,
        ``"measured_naive_generate"``, ``"load_profiles"``, ``"api_rate_limits"``,
        ``"api_provisioned"``, ``"gpu_lead_times"``, ``"api_latency"``).

    Returns
    -------
    pandas.DataFrame
        A fresh copy (safe to modify). Empty optional figures are ``NaN``.

    Raises
    ------
    ValueError
        For an unknown table name, or when a row lacks ``source``/``as_of``, has an
        ``as_of`` that is not an ISO date, or a required figure is missing or negative.

    Examples
    --------
    >>> float(load_table("gpus").set_index("name").loc["H200", "memory_gb"])
    141.0
    """
    if not isinstance(name, str) or name not in TABLES:
        close = suggest(str(name), TABLES)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise bad("name", name, f"one of {', '.join(repr(t) for t in TABLES)}{hint}")
    return _load(name).copy()


@functools.cache
def _load(name: str) -> pd.DataFrame:
    spec = TABLES[name]
    path = data_dir() / spec.path
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    validate_frame(df, spec, label=spec.path)
    return df


def validate_frame(df: pd.DataFrame, spec: _Spec, *, label: str) -> None:
    """Check one table against ``spec``; raise ``ValueError`` naming row and column."""
    for col in ("source", "as_of", *spec.required, *spec.optional):
        if col not in df.columns:
            raise ValueError(f"{label}: column {col!r} is missing")
    for i, row in df.iterrows():
        where = f"{label} row {int(i) + 2}"  # +2: header line, 1-based lines
        for col in ("source", "as_of"):
            text = row[col]
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{where}: {col!r} is empty; every row needs a {col}")
        try:
            _dt.date.fromisoformat(str(row["as_of"]))
        except ValueError:
            raise ValueError(f"{where}: as_of={row['as_of']!r} is not an ISO date "
                             "(YYYY-MM-DD)") from None
        for col in (*spec.required, *spec.optional):
            value = row[col]
            if pd.isna(value):
                if col in spec.required:
                    raise ValueError(f"{where}: required figure {col!r} is missing")
                continue
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{where}: {col}={value!r} must be a number >= 0")
    if spec.key is not None and df[spec.key].duplicated().any():
        dupes = sorted(df.loc[df[spec.key].duplicated(), spec.key])
        raise ValueError(f"{label}: duplicate {spec.key} values {dupes}")
    if spec.name is not None:
        # names are looked up case-insensitively (canonical_name): two spellings of one
        # name would make a lookup ambiguous
        distinct = pd.Series(df[spec.name].astype(str).unique())
        clash = distinct[distinct.str.lower().duplicated(keep=False)]
        if not clash.empty:
            raise ValueError(f"{label}: {spec.name} values {sorted(clash)} differ only in "
                             "case; names are looked up case-insensitively")


def _opt(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


@dataclass(frozen=True)
class GPU:
    """One accelerator: dense peak rates, memory, power, interconnect and prices.

    Peak rates are dense (not "with sparsity"). ``fp8_dense_tflops`` is ``None`` for a GPU
    without FP8 tensor cores (A100). ``interconnect_gbps`` is the GPU-to-GPU bandwidth in
    one direction (NVLink where present, else PCIe), ``interconnect_kind`` which link it is
    (:data:`INTERCONNECTS`). ``architecture`` is one of
    :data:`ARCHITECTURES`; the TPS model takes its achievable-efficiency factors from it.
    Prices are per GPU; ``None`` where no source was found.
    """

    name: str
    vendor: str
    bf16_dense_tflops: float
    fp8_dense_tflops: float | None
    memory_gb: float
    bandwidth_tbps: float
    board_power_w: float
    interconnect_gbps: float
    interconnect_kind: str = "nvlink"
    architecture: str = "hopper"
    purchase_usd: float | None = None
    cloud_on_demand_usd_per_hour: float | None = None
    cloud_reserved_usd_per_hour: float | None = None
    source: str = "user-supplied"
    as_of: str = ""

    def __post_init__(self) -> None:
        for f in ("bf16_dense_tflops", "memory_gb", "bandwidth_tbps", "board_power_w",
                  "interconnect_gbps"):
            positive(f"{self.name}.{f}", getattr(self, f))
        choice(f"{self.name}.architecture", self.architecture, ARCHITECTURES)
        choice(f"{self.name}.interconnect_kind", self.interconnect_kind, INTERCONNECTS)
        for f in ("fp8_dense_tflops", "purchase_usd", "cloud_on_demand_usd_per_hour",
                  "cloud_reserved_usd_per_hour"):
            if getattr(self, f) is not None:
                non_negative(f"{self.name}.{f}", getattr(self, f))


@dataclass(frozen=True)
class Model:
    """One transformer's shapes.

    ``active_params_b`` equals ``total_params_b`` for a dense model; for a mixture of
    experts (``n_experts > 0``) it counts the parameters one token touches. ``mla_kv_dim``
    is non-zero only for multi-head latent attention (DeepSeek-V3), whose KV cache holds one
    latent vector of that width per layer instead of per-head keys and values.
    """

    name: str
    family: str
    total_params_b: float
    active_params_b: float
    n_layers: int
    hidden_size: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_size: int
    ffn_matrices: int
    vocab_size: int
    tied_embeddings: bool
    max_context: int
    n_experts: int = 0
    experts_per_token: int = 0
    moe_ffn_size: int = 0
    mla_kv_dim: int = 0
    source: str = "user-supplied"
    as_of: str = ""

    def __post_init__(self) -> None:
        for f in ("total_params_b", "active_params_b", "n_layers", "hidden_size", "n_heads",
                  "n_kv_heads", "head_dim", "vocab_size", "max_context"):
            positive(f"{self.name}.{f}", getattr(self, f))
        if self.active_params_b > self.total_params_b:
            raise bad(f"{self.name}.active_params_b", self.active_params_b,
                      f"<= total_params_b ({self.total_params_b})")
        if self.n_experts and not 0 < self.experts_per_token <= self.n_experts:
            raise bad(f"{self.name}.experts_per_token", self.experts_per_token,
                      f"a whole number from 1 to n_experts ({self.n_experts})")

    @property
    def is_moe(self) -> bool:
        """True for a mixture-of-experts model."""
        return self.n_experts > 0


@dataclass(frozen=True)
class ApiPrice:
    """List price of one hosted API model, USD per million tokens.

    ``cached_input_usd_per_mtok`` is ``None`` where the provider publishes no cached-input
    price. ``open_weights_model`` names the model in ``models.csv`` that the API serves,
    where it serves an open-weights model.
    """

    name: str
    provider: str
    litellm_key: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    cached_input_usd_per_mtok: float | None = None
    open_weights_model: str | None = None
    source: str = "user-supplied"
    as_of: str = ""

    def __post_init__(self) -> None:
        non_negative(f"{self.name}.input_usd_per_mtok", self.input_usd_per_mtok)
        non_negative(f"{self.name}.output_usd_per_mtok", self.output_usd_per_mtok)
        if self.cached_input_usd_per_mtok is not None:
            non_negative(f"{self.name}.cached_input_usd_per_mtok",
                         self.cached_input_usd_per_mtok)


def _row_to(cls: type, row: pd.Series) -> Any:
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        value = row[f.name]
        if f.type in ("int",):
            value = int(value)
        elif f.type in ("float",):
            value = float(value)
        elif f.type in ("float | None",):
            value = _opt(value)
        elif f.type in ("bool",):
            value = bool(value) if not isinstance(value, str) else value.strip() == "True"
        elif f.type in ("str | None",):
            value = None if pd.isna(value) else str(value)
        else:
            value = str(value)
        kwargs[f.name] = value
    return cls(**kwargs)


@functools.cache
def _objects(table: str) -> dict[str, Any]:
    cls = {"gpus": GPU, "models": Model, "api_prices": ApiPrice}[table]
    return {row["name"]: _row_to(cls, row) for _, row in _load(table).iterrows()}


#: The column of each table that names its rows for lookups (one name may hold several
#: rows, e.g. a load profile's 24 hours or an API model's rate-limit tiers).
NAME_COLUMNS: dict[str, str] = {t: spec.name for t, spec in TABLES.items()
                                if spec.name is not None}


@functools.cache
def _names(table: str) -> tuple[str, ...]:
    if table in ("gpus", "models", "api_prices"):
        return tuple(_objects(table))
    return tuple(dict.fromkeys(str(n) for n in _load(table)[NAME_COLUMNS[table]]))


def canonical_name(table: str, name: Any) -> str | None:
    """The spelling ``name`` has in ``table``, or ``None`` when the table has no such name.

    The one lookup rule of the library: an exact match first, then a
    case-insensitive one. ``table`` is one of :data:`NAME_COLUMNS` (GPUs, models, API
    prices, load profiles, API rate limits, provisioned throughput). :func:`get_gpu` and
    friends, :mod:`buildbuy.load_profile`, :mod:`buildbuy.api_limits` and every scenario
    field naming a row of a table (:mod:`buildbuy.scenarios`) use it.

    Examples
    --------
    >>> canonical_name("gpus", "h100-sxm"), canonical_name("gpus", "H100")
    ('H100-SXM', None)
    >>> canonical_name("load_profiles", "Online_Retail_Daypart")
    'online_retail_daypart'
    """
    if table not in NAME_COLUMNS:
        raise bad("table", table, f"one of {', '.join(repr(t) for t in NAME_COLUMNS)}")
    if not isinstance(name, str):
        return None
    names = _names(table)
    if name in names:
        return name
    lowered = {k.lower(): k for k in names}
    return lowered.get(name.lower())


def _get(table: str, arg: str, value: Any, cls: type) -> Any:
    if isinstance(value, cls):
        return value
    objs = _objects(table)
    canonical = canonical_name(table, value)
    if canonical is not None:
        return objs[canonical]
    close = suggest(str(value), objs)
    hint = f"close matches: {', '.join(repr(c) for c in close)}" if close else \
        f"one of {', '.join(repr(k) for k in objs)}"
    raise bad(arg, value, f"a name in data/{TABLES[table].path} or a {cls.__name__}; {hint}")


def get_gpu(gpu: str | GPU) -> GPU:
    """Return the :class:`GPU` named ``gpu`` (case-insensitive), or ``gpu`` itself.

    >>> get_gpu("h100-sxm").name
    'H100-SXM'
    """
    return _get("gpus", "gpu", gpu, GPU)


def get_model(model: str | Model) -> Model:
    """Return the :class:`Model` named ``model`` (case-insensitive), or ``model`` itself.

    >>> get_model("llama-3.1-70b").n_layers
    80
    """
    return _get("models", "model", model, Model)


def get_api(api: str | ApiPrice) -> ApiPrice:
    """Return the :class:`ApiPrice` named ``api`` (case-insensitive), or ``api`` itself.

    >>> get_api("gpt-4o-mini").output_usd_per_mtok
    0.6
    """
    return _get("api_prices", "api", api, ApiPrice)


def gpu_names() -> list[str]:
    """Names of the GPUs in ``data/gpus.csv``, in file order."""
    return list(_objects("gpus"))


def model_names() -> list[str]:
    """Names of the models in ``data/models.csv``, in file order."""
    return list(_objects("models"))


def api_names() -> list[str]:
    """Names of the API models in ``data/api_prices.csv``, in file order."""
    return list(_objects("api_prices"))
