"""The sourced tables: presence, provenance, internal consistency, validation errors."""

from __future__ import annotations

import dataclasses
import shutil

import pandas as pd
import pytest

from buildbuy import data
from buildbuy.paths import data_dir

REQUIRED_GPUS = ["H100-SXM", "H100-PCIe", "H200", "A100-80GB", "L40S", "L4", "B200", "MI300X"]
REQUIRED_MODELS = ["llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "qwen2.5-32b",
                   "qwen2.5-72b", "mistral-7b", "mixtral-8x7b", "deepseek-v3"]


@pytest.mark.parametrize("name", list(data.TABLES))
def test_every_table_loads_with_source_and_date(name):
    df = data.load_table(name)
    assert len(df) > 0
    assert df["source"].str.len().min() > 10
    assert pd.to_datetime(df["as_of"], format="%Y-%m-%d").notna().all()


def test_required_rows_present():
    assert set(REQUIRED_GPUS) <= set(data.gpu_names())
    assert set(REQUIRED_MODELS) <= set(data.model_names())
    assert len(data.api_names()) >= 10
    assert len(data.load_table("published_benchmarks")) >= 10


def test_units_in_column_names():
    gpus = data.load_table("gpus").columns
    for col in ("bf16_dense_tflops", "memory_gb", "bandwidth_tbps",
                "cloud_on_demand_usd_per_hour"):
        assert col in gpus
    assert "input_usd_per_mtok" in data.load_table("api_prices").columns


def test_fp8_rate_is_twice_bf16_where_present():
    for g in map(data.get_gpu, data.gpu_names()):
        if g.fp8_dense_tflops is not None:
            assert g.fp8_dense_tflops == pytest.approx(2 * g.bf16_dense_tflops, rel=0.03)


def test_derived_reserved_prices_follow_the_stated_discount():
    for g in map(data.get_gpu, data.gpu_names()):
        if "reserved: derived = on-demand x (1 - 0.37)" in g.source:
            assert g.cloud_reserved_usd_per_hour == pytest.approx(
                g.cloud_on_demand_usd_per_hour * 0.63, abs=0.005)


def _params_from_shapes(m: data.Model, experts: int) -> float:
    attn = 2 * m.hidden_size * m.n_heads * m.head_dim + 2 * m.hidden_size * m.n_kv_heads \
        * m.head_dim
    mlp = m.ffn_matrices * m.hidden_size * m.ffn_size * experts
    emb = m.vocab_size * m.hidden_size * (1 if m.tied_embeddings else 2)
    return (m.n_layers * (attn + mlp) + emb) / 1e9


@pytest.mark.parametrize("name", [n for n in data.model_names() if n != "deepseek-v3"])
def test_parameter_counts_match_the_shapes(name):
    m = data.get_model(name)
    total = _params_from_shapes(m, m.n_experts or 1)
    active = _params_from_shapes(m, m.experts_per_token or 1)
    assert m.total_params_b == pytest.approx(total, rel=0.005)
    assert m.active_params_b == pytest.approx(active, rel=0.005)


def test_measured_decode_rows_are_self_consistent():
    df = data.load_table("measured_decode")
    assert list(df.tokens_per_s) == pytest.approx(list(df.batch / df.step_ms * 1e3), rel=0.01)
    bw = (df.weight_gb + df.kv_read_gb) / df.step_ms  # GB/ms = TB/s
    assert list(bw) == pytest.approx(list(df.achieved_tbps), rel=0.01)


def test_benchmarks_reference_known_models_and_gpus():
    df = data.load_table("published_benchmarks")
    assert set(df.model) <= set(data.model_names())
    assert set(df.gpu) <= set(data.gpu_names())


def test_cached_price_not_above_input_price():
    for a in map(data.get_api, data.api_names()):
        if a.cached_input_usd_per_mtok is not None:
            assert a.cached_input_usd_per_mtok < a.input_usd_per_mtok


def test_lookup_is_case_insensitive_and_accepts_objects():
    g = data.get_gpu("h100-sxm")
    assert g.name == "H100-SXM"
    assert data.get_gpu(g) is g
    custom = dataclasses.replace(g, name="my-gpu", bandwidth_tbps=4.0)
    assert data.get_gpu(custom).bandwidth_tbps == 4.0


@pytest.mark.parametrize("getter,arg,name,close", [
    (data.get_gpu, "gpu", "H100", "H100-SXM"),
    (data.get_model, "model", "llama3-8b", "llama-3.1-8b"),
    (data.get_api, "api", "gpt4o", "gpt-4o"),
])
def test_unknown_name_lists_close_matches(getter, arg, name, close):
    with pytest.raises(ValueError, match=rf"{arg}='{name}' is invalid") as info:
        getter(name)
    assert repr(close) in str(info.value)


def test_unknown_table_name():
    with pytest.raises(ValueError, match=r"name='gpu' is invalid.*did you mean 'gpus'"):
        data.load_table("gpu")


def test_bad_object_fields_are_rejected():
    g = data.get_gpu("L4")
    with pytest.raises(ValueError, match=r"L4.bandwidth_tbps=-1 is invalid"):
        dataclasses.replace(g, bandwidth_tbps=-1)


@pytest.mark.parametrize("column,value,message", [
    ("source", "", "'source' is empty"),
    ("as_of", "last year", "not an ISO date"),
    ("memory_gb", "", "required figure 'memory_gb' is missing"),
    ("memory_gb", "-80", r"memory_gb=-80 must be a number >= 0"),
])
def test_validation_rejects_bad_rows(tmp_path, monkeypatch, column, value, message):
    copy = tmp_path / "data"
    shutil.copytree(data_dir(), copy)
    df = pd.read_csv(copy / "gpus.csv", dtype=str, keep_default_na=False)
    df.loc[2, column] = value
    df.to_csv(copy / "gpus.csv", index=False)
    monkeypatch.setenv("BUILDBUY_DATA_DIR", str(copy))
    data._load.cache_clear()
    try:
        with pytest.raises(ValueError, match=rf"gpus.csv row 4: .*{message}"):
            data.load_table("gpus")
    finally:
        monkeypatch.delenv("BUILDBUY_DATA_DIR")
        data._load.cache_clear()
        data._objects.cache_clear()


# --- the saturated-throughput runs and their fit / held-out split --------------------

_MOE = {"mixtral-8x7b", "mixtral-8x22b"}


def test_saturated_runs_reference_known_models_and_gpus():
    runs = data.load_table("saturated_throughput")
    assert set(runs.model) <= set(data.model_names())
    assert set(runs.gpu) <= set(data.gpu_names())
    assert set(runs.split) == {"fit", "held_out"}
    assert set(runs.engine) <= {"trtllm", "vllm"}
    assert (runs.n_gpus == runs.tensor_parallel).all()


def test_split_keeps_each_configuration_on_one_side():
    """A (model, GPU, precision, TP) configuration is wholly fitted or wholly held out,
    so a held-out run never has a near-twin (another release, same setup) in the fit set."""
    runs = data.load_table("saturated_throughput")
    sides = runs.groupby(["model", "gpu", "precision", "tensor_parallel"])["split"].nunique()
    assert (sides == 1).all(), sides[sides > 1]


def test_held_out_set_covers_what_the_issue_asks():
    runs = data.load_table("saturated_throughput")
    held = runs[runs.split == "held_out"]
    assert {"A100-80GB", "L40S", "H100-SXM", "H200"} <= set(held.gpu)
    assert held.model.isin(_MOE).any() and (~held.model.isin(_MOE)).any()
    assert (held.tensor_parallel == 1).any() and (held.tensor_parallel >= 2).any()
    assert 0.3 < len(held) / len(runs) < 0.5


def test_every_lookup_table_names_its_rows_once_whatever_the_case():
    """The case-insensitive rule is unambiguous only if no two names differ by case alone;
    load_table refuses a table where they do, and the API tables name priced models."""
    for table, column in data.NAME_COLUMNS.items():
        names = data.load_table(table)[column].astype(str).unique()
        assert len({n.lower() for n in names}) == len(names), table
        for n in names:
            assert data.canonical_name(table, n.upper()) == n
    priced = set(data.api_names())
    for table in ("api_rate_limits", "api_provisioned"):
        assert set(data.load_table(table)["api_model"]) <= priced, table


def test_a_table_with_names_differing_only_in_case_is_refused():
    df = data.load_table("load_profiles")
    twin = df[df.profile == "online_retail_daypart"].assign(profile="Online_Retail_Daypart")
    with pytest.raises(ValueError, match=r"profile values \['Online_Retail_Daypart', "
                                         r"'online_retail_daypart'\] differ only in case"):
        data.validate_frame(pd.concat([df, twin]), data.TABLES["load_profiles"],
                            label="load_profiles.csv")
    with pytest.raises(ValueError, match=r"table='nope' is invalid"):
        data.canonical_name("nope", "x")
